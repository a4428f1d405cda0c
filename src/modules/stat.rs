//! `stat` looks at a path on the host and registers `stat` with Ansible's keys (`exists`,
//! `isdir`, `isreg`, `islnk`, `mode` as "0644", `uid`, `gid`, `pw_name`, `gr_name`, `size`,
//! `mtime`, `checksum` (SHA-1 unless `checksum_algorithm` says otherwise), `lnk_source`, ...).
//! Everything comes from one round trip; file attributes (`lsattr`) are not gathered.

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{Failure, Inspect, Outcome, StepContext};
use crate::compat::checksum::Checksum;
use crate::transport::{Exec, HostError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stat {
    #[serde(alias = "dest", alias = "name")]
    path: String,
    /// Look through a symbolic link at what it points to.
    #[serde(default)]
    follow: bool,
    #[serde(default = "super::arguments::yes")]
    get_checksum: bool,
    #[serde(default, alias = "checksum", alias = "checksum_algo")]
    checksum_algorithm: Option<Checksum>,
    /// `mimetype` and `charset`, with `file` when the host has it.
    #[serde(
        default = "super::arguments::yes",
        alias = "mime",
        alias = "mime_type",
        alias = "mime-type"
    )]
    get_mime: bool,
    /// Accepted; bgrun does not gather file attributes.
    #[serde(default, alias = "attr", alias = "attributes")]
    #[allow(dead_code)]
    get_attributes: Option<bool>,
}

/// Prints, for `$1`: `absent`, or the `stat` line, the access line, the checksum, the MIME type
/// and encoding, the link's target and its resolved path.
const STAT: &str = r#"
p=$1
if [ "$2" = 1 ]; then L=-L; else L=; fi
if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo absent; exit 0; fi
stat $L -c '%f %u %g %s %i %d %h %.9X %.9Y %.9Z %U %G' -- "$p" || exit 1
r=0; w=0; x=0
[ -r "$p" ] && r=1; [ -w "$p" ] && w=1; [ -x "$p" ] && x=1
echo "$r $w $x"
if [ -n "$3" ] && [ -f "$p" ] && [ -r "$p" ] && { [ -n "$L" ] || [ ! -L "$p" ]; }; then
  s=$("$3" < "$p") && printf '%s\n' "${s%% *}" || echo
else echo; fi
if [ "$4" = 1 ] && command -v file >/dev/null 2>&1; then
  printf '%s\n' "$(file $L -b --mime-type -- "$p")" "$(file $L -b --mime-encoding -- "$p")"
else printf '\n\n'; fi
if [ -L "$p" ]; then
  printf '%s\n' "$(readlink -- "$p")" "$(readlink -f -- "$p")"
fi"#;

impl Inspect for Stat {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        let algorithm = self.checksum_algorithm.unwrap_or(Checksum::Sha1);
        let program = if self.get_checksum { algorithm.program() } else { "" };
        let follow = if self.follow { "1" } else { "0" };
        let mime = if self.get_mime { "1" } else { "0" };
        let output = remote
            .exec(&Exec::script(STAT, &[&self.path, follow, program, mime]))
            .await?;
        if output.rc != 0 {
            return Err(Failure::new(format!(
                "cannot stat `{}`: {}",
                self.path,
                output.stderr_text().trim()
            )));
        }
        let stat = parse(&self.path, &output.stdout_text(), self.get_mime)
            .ok_or_else(|| HostError::Failed(format!("cannot read the stat of `{}`", self.path)))?;
        Ok(Outcome::ok().with("stat", Json::Object(stat)))
    }
}

const S_IFMT: u32 = 0o170000;

fn parse(path: &str, text: &str, mime: bool) -> Option<Map<String, Json>> {
    let mut lines = text.lines();
    let head = lines.next()?;
    let mut stat = Map::new();
    if head == "absent" {
        stat.insert("exists".into(), Json::Bool(false));
        return Some(stat);
    }
    let fields: Vec<&str> = head.split(' ').collect();
    if fields.len() < 12 {
        return None;
    }
    let raw = u32::from_str_radix(fields[0], 16).ok()?;
    let number = |i: usize| fields[i].parse::<u64>().ok().map(Json::from);
    let time = |i: usize| fields[i].parse::<f64>().ok().map(Json::from);
    let kind = raw & S_IFMT;
    let perm = raw & 0o7777;
    let bit = |b: u32| Json::Bool(perm & b != 0);
    stat.insert("exists".into(), Json::Bool(true));
    stat.insert("path".into(), Json::from(path));
    stat.insert("mode".into(), Json::from(format!("{perm:04o}")));
    for (key, ifmt) in [
        ("isdir", 0o040000),
        ("ischr", 0o020000),
        ("isblk", 0o060000),
        ("isreg", 0o100000),
        ("isfifo", 0o010000),
        ("islnk", 0o120000),
        ("issock", 0o140000),
    ] {
        stat.insert(key.into(), Json::Bool(kind == ifmt));
    }
    for (key, b) in [
        ("isuid", 0o4000),
        ("isgid", 0o2000),
        ("rusr", 0o400),
        ("wusr", 0o200),
        ("xusr", 0o100),
        ("rgrp", 0o040),
        ("wgrp", 0o020),
        ("xgrp", 0o010),
        ("roth", 0o004),
        ("woth", 0o002),
        ("xoth", 0o001),
    ] {
        stat.insert(key.into(), bit(b));
    }
    for (key, i) in [
        ("uid", 1),
        ("gid", 2),
        ("size", 3),
        ("inode", 4),
        ("dev", 5),
        ("nlink", 6),
    ] {
        stat.insert(key.into(), number(i)?);
    }
    for (key, i) in [("atime", 7), ("mtime", 8), ("ctime", 9)] {
        stat.insert(key.into(), time(i)?);
    }
    for (key, i) in [("pw_name", 10), ("gr_name", 11)] {
        if fields[i] != "UNKNOWN" {
            stat.insert(key.into(), Json::from(fields[i]));
        }
    }
    let access: Vec<&str> = lines.next()?.split(' ').collect();
    for (i, key) in ["readable", "writeable", "executable"].iter().enumerate() {
        stat.insert((*key).into(), Json::Bool(access.get(i).is_some_and(|a| *a == "1")));
    }
    let checksum = lines.next().unwrap_or_default();
    if !checksum.is_empty() {
        stat.insert("checksum".into(), Json::from(checksum));
    }
    let mimetype = lines.next().unwrap_or_default();
    let charset = lines.next().unwrap_or_default();
    if mime {
        let or_unknown = |s: &str| {
            if s.is_empty() {
                "unknown".to_string()
            } else {
                s.to_string()
            }
        };
        stat.insert("mimetype".into(), Json::from(or_unknown(mimetype)));
        stat.insert("charset".into(), Json::from(or_unknown(charset)));
    }
    if kind == 0o120000 {
        if let Some(target) = lines.next() {
            stat.insert("lnk_target".into(), Json::from(target));
        }
        if let Some(source) = lines.next() {
            stat.insert("lnk_source".into(), Json::from(source));
        }
    }
    Some(stat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_file_and_a_link() {
        let file = parse(
            "/etc/x",
            "81a4 0 0 12 34 2049 1 1.5 1700000000.25 1.5 root root\n1 1 0\nabc\ntext/plain\nus-ascii\n",
            true,
        )
        .unwrap();
        assert_eq!(file["mode"], "0644");
        assert_eq!(file["isreg"], true);
        assert_eq!(file["isdir"], false);
        assert_eq!(file["size"], 12);
        assert_eq!(file["mtime"], 1700000000.25);
        assert_eq!(file["checksum"], "abc");
        assert_eq!(file["pw_name"], "root");
        assert_eq!(file["readable"], true);
        assert_eq!(file["executable"], false);
        assert_eq!(file["mimetype"], "text/plain");
        let link = parse("/l", "a1ff 0 0 4 1 1 1 1 1 1 root root\n1 1 1\n\n\n\n../t\n/t\n", false).unwrap();
        assert_eq!(link["islnk"], true);
        assert_eq!(link["mode"], "0777");
        assert_eq!(link["lnk_source"], "/t");
        assert_eq!(link["lnk_target"], "../t");
        assert!(!link.contains_key("checksum") && !link.contains_key("mimetype"));
        let absent = parse("/n", "absent\n", true).unwrap();
        assert_eq!(absent["exists"], false);
    }
}
