//! `unarchive` unpacks a tar (plain, gzip, bzip2, xz, zstd) or zip archive into a folder on the
//! host. The archive is the playbook's (looked for in `files/`, sent over the connection), one
//! on the host with `remote_src: true`, or a URL fetched by the machine running bgrun.
//!
//! Idempotence: the archive is first unpacked into a temporary folder on the host, and it counts
//! as already unpacked when every path it yields exists in `dest` with the same type, the same
//! content (`cmp`) and the same link target, and, when `mode`, `owner` or `group` are given,
//! those attributes. Timestamps and the archive's own permissions are not compared. `dest` is
//! touched only when something differs (in check mode, never). `creates` skips all of this when
//! its path exists. Looking takes one round trip; when something differs, a run unpacks and sets
//! attributes in a second one (the script compares again, then changes `dest`). `mode`, `owner`
//! and `group` apply to every unpacked path, as in Ansible.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{Failure, Module, Outcome, Plan, StepContext, find_source};
use crate::transport::files;
use crate::transport::{Exec, HostError};

module_arguments! {
[attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unarchive {
    /// The archive: the playbook's, the host's (`remote_src`), or an http(s) URL.
    src: String,
    /// An existing folder, as an absolute path.
    dest: String,
    /// The archive is already on the host.
    #[serde(default)]
    remote_src: bool,
    /// When this path exists on the host, nothing is done.
    #[serde(default)]
    creates: Option<String>,
    /// Register the unpacked paths as `files`.
    #[serde(default)]
    list_files: bool,
    /// Paths (patterns) not to unpack.
    #[serde(default)]
    exclude: Vec<String>,
    /// More options for `tar` or `unzip`.
    #[serde(default)]
    extra_opts: Vec<String>,
    /// For a URL `src`.
    #[serde(default = "super::arguments::yes")]
    validate_certs: bool,
}
}

/// `$1` check|apply, `$2` dest, `$3` the archive on the host (empty: it comes on standard input),
/// `$4` mode, `$5` owner, `$6` group; `BGRUN_EXTRA` and `BGRUN_EXCLUDE` hold one word per line.
/// Prints the handler, every unpacked path (`file:`), the paths that differ in `dest`
/// (`differs:`) or in attributes (`attrs:`), and `extracted` once `dest` was changed.
pub(super) const UNPACK: &str = r#"
m=$1; d=$2; s=$3; am=$4; ow=$5; gr=$6
[ -d "$d" ] || { printf "dest '%s' must be an existing dir\n" "$d" >&2; exit 4; }
w=$(mktemp -d) || exit 1
trap 'cd / && rm -rf -- "$w"' EXIT
a=$w/archive
if [ -n "$s" ]; then
  [ -f "$s" ] || { printf "Source '%s' not found\n" "$s" >&2; exit 5; }
  case $s in /*) a=$s ;; *) a=$PWD/$s ;; esac
else
  cat > "$a" || exit 1
fi
set -f
nl='
'
IFS=$nl
magic=$(head -c 6 -- "$a" | od -An -tx1 | tr -d ' \n')
c=
case $magic in
  504b0304*|504b0506*) k=zip ;;
  1f8b*) k=tar; c=-z ;;
  425a68*) k=tar; c=-j ;;
  fd377a585a00) k=tar; c=-J ;;
  28b52ffd*) k=tar; c=--zstd ;;
  *) k=tar ;;
esac
echo "handler=$k$c"
x=$BGRUN_EXTRA
if [ $k = zip ]; then
  command -v unzip >/dev/null 2>&1 || { echo "unzip is needed for zip archives and the host has none" >&2; exit 6; }
  unpack() { unzip -o -q $x "$a" ${BGRUN_EXCLUDE:+-x} $BGRUN_EXCLUDE -d "$1"; }
else
  for e in $BGRUN_EXCLUDE; do x="$x$nl--exclude=$e"; done
  unpack() { tar -x $c -f "$a" -C "$1" $x; }
fi
mkdir "$w/x" || exit 1
unpack "$w/x" 2>"$w/err" || { cat "$w/err" >&2; exit 8; }
cd "$w/x" || exit 1
find . -mindepth 1 > "$w/list"
dif=; att=
while IFS= read -r f; do
  f=${f#./}; t=$d/$f
  echo "file:$f"
  if [ -L "$f" ]; then
    { [ -L "$t" ] && [ "$(readlink -- "$f")" = "$(readlink -- "$t")" ]; } || { echo "differs:$f"; dif=1; }
  elif [ -d "$f" ]; then
    [ -d "$t" ] || { echo "differs:$f"; dif=1; }
  elif [ -f "$f" ]; then
    { [ -f "$t" ] && cmp -s -- "$f" "$t"; } || { echo "differs:$f"; dif=1; }
  else
    [ -e "$t" ] || { echo "differs:$f"; dif=1; }
  fi
  if [ -n "$am$ow$gr" ] && [ ! -L "$f" ]; then
    if [ -e "$t" ]; then set -- $(stat --printf '%a\n%u\n%U\n%g\n%G\n' -- "$t"); else set -- - - - - -; fi
    { { [ -z "$am" ] || [ "$1" = "$am" ]; } &&
      { [ -z "$ow" ] || [ "$2" = "$ow" ] || [ "$3" = "$ow" ]; } &&
      { [ -z "$gr" ] || [ "$4" = "$gr" ] || [ "$5" = "$gr" ]; }; } || { echo "attrs:$f"; att=1; }
  fi
done < "$w/list"
[ "$m" = apply ] || exit 0
if [ -n "$dif" ]; then
  unpack "$d" 2>"$w/err" || { cat "$w/err" >&2; exit 7; }
  echo extracted
fi
if [ -n "$att" ] || { [ -n "$dif" ] && [ -n "$am$ow$gr" ]; }; then
  while IFS= read -r f; do
    t=$d/${f#./}
    [ -L "$t" ] && continue
    [ -z "$ow" ] || chown -- "$ow" "$t" || exit 9
    [ -z "$gr" ] || chgrp -- "$gr" "$t" || exit 9
    [ -z "$am" ] || chmod -- "$am" "$t" || exit 9
  done < "$w/list"
fi
exit 0"#;

fn handler_name(handler: &str) -> &'static str {
    match handler {
        "zip" => "ZipArchive",
        "tar-z" => "TgzArchive",
        "tar-j" => "TarBzipArchive",
        "tar-J" => "TarXzArchive",
        "tar--zstd" => "TarZstdArchive",
        _ => "TarArchive",
    }
}

#[derive(Debug, Default, PartialEq)]
struct Report {
    handler: String,
    files: Vec<String>,
    differs: Vec<String>,
    attrs: Vec<String>,
    extracted: bool,
}

fn parse_report(text: &str) -> Report {
    let mut report = Report::default();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("handler=") {
            report.handler = h.to_string();
        } else if let Some(f) = line.strip_prefix("file:") {
            report.files.push(f.to_string());
        } else if let Some(f) = line.strip_prefix("differs:") {
            report.differs.push(f.to_string());
        } else if let Some(f) = line.strip_prefix("attrs:") {
            report.attrs.push(f.to_string());
        } else if line == "extracted" {
            report.extracted = true;
        }
    }
    report
}

fn words(name: &str, items: &[String]) -> Result<String, HostError> {
    if let Some(bad) = items.iter().find(|w| w.contains('\n')) {
        return Err(HostError::Failed(format!(
            "invalid arguments: `{name}` item {bad:?} has a line break"
        )));
    }
    Ok(items.join("\n"))
}

impl Unarchive {
    /// The archive's bytes, when it travels from here.
    async fn local_archive(&self, cx: &StepContext<'_>) -> Result<Vec<u8>, Failure> {
        if self.src.starts_with("http://") || self.src.starts_with("https://") {
            let client = reqwest::Client::builder()
                .danger_accept_invalid_certs(!self.validate_certs)
                .timeout(Duration::from_secs(600))
                .build()
                .map_err(|e| HostError::Failed(format!("cannot set up HTTP: {e}")))?;
            let failed = |why: String| {
                Err(Failure::new(format!("Failure downloading {}: {why}", self.src)).with("dest", self.dest.as_str()))
            };
            let response = match client.get(&self.src).send().await {
                Ok(response) => response,
                Err(e) => return failed(e.to_string()),
            };
            if !response.status().is_success() {
                return failed(format!("HTTP Error {}", response.status().as_u16()));
            }
            return match response.bytes().await {
                Ok(body) => Ok(body.to_vec()),
                Err(e) => failed(e.to_string()),
            };
        }
        let path = find_source(cx, "files", &self.src)?;
        std::fs::read(&path).map_err(|e| Failure::new(format!("cannot read `{}`: {e}", path.display())))
    }
}

/// The unpacking a run does: the same script, this time changing `dest`.
#[derive(Debug)]
pub struct Work {
    unarchive: Unarchive,
    /// The archive, when it travels from here.
    archive: Option<Vec<u8>>,
    options: Options,
}

/// The arguments as the script takes them.
#[derive(Debug)]
struct Options {
    /// `mode` in octal, or empty.
    mode: String,
    /// `extra_opts` and `exclude`, one a line.
    extra: String,
    exclude: String,
}

impl Module for Unarchive {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        if !self.dest.starts_with('/') {
            return Err(Failure::new(format!(
                "invalid arguments: `dest` {} is not an absolute path",
                self.dest
            )));
        }
        let options = Options {
            mode: self.attributes()?.mode.map(|m| format!("{m:o}")).unwrap_or_default(),
            extra: words("extra_opts", &self.extra_opts)?,
            exclude: words("exclude", &self.exclude)?,
        };
        let remote = cx.remote().await?;
        if let Some(creates) = &self.creates
            && files::stat(&remote, creates).await?.exists()
        {
            return Ok(Plan::Done(
                Outcome::ok()
                    .msg(format!("skipped, since {creates} exists"))
                    .with("dest", self.dest.as_str())
                    .with("src", self.src.as_str()),
            ));
        }
        let archive = if self.remote_src {
            None
        } else {
            Some(self.local_archive(cx).await?)
        };
        let report = self.unpack(cx, "check", &options, archive.as_deref()).await?;
        let outcome = self.result(&report);
        if !outcome.changed {
            return Ok(Plan::Done(outcome));
        }
        let planned = outcome.msg(format!(
            "check mode: would unpack {} into {} ({} path(s) differ)",
            self.src,
            self.dest,
            report.differs.len().max(report.attrs.len())
        ));
        let work = Work {
            unarchive: self,
            archive,
            options,
        };
        Ok(Plan::Change(planned, work))
    }

    async fn apply(work: Work, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let Work {
            unarchive,
            archive,
            options,
        } = work;
        let report = unarchive.unpack(cx, "apply", &options, archive.as_deref()).await?;
        Ok(unarchive.result(&report))
    }
}

impl Unarchive {
    /// Runs [`UNPACK`]: with `check`, it only compares the archive with `dest`; with `apply`, it
    /// also unpacks into `dest` and sets the attributes where they differ.
    async fn unpack(
        &self,
        cx: &StepContext<'_>,
        action: &str,
        options: &Options,
        archive: Option<&[u8]>,
    ) -> Result<Report, Failure> {
        let remote = cx.remote().await?;
        let host_src = if self.remote_src { self.src.as_str() } else { "" };
        let owner = self.owner.clone().unwrap_or_default();
        let group = self.group.clone().unwrap_or_default();
        let mut exec = Exec::script(UNPACK, &[action, &self.dest, host_src, &options.mode, &owner, &group]);
        exec.env = vec![
            ("BGRUN_EXTRA".into(), options.extra.clone()),
            ("BGRUN_EXCLUDE".into(), options.exclude.clone()),
        ];
        if let Some(bytes) = archive {
            exec = exec.stdin(bytes.to_vec());
        }
        let output = remote.exec(&exec).await?;
        let err = output.stderr_text().trim().to_string();
        let failed = |msg: String| {
            Err(Failure::new(msg)
                .with("dest", self.dest.as_str())
                .with("src", self.src.as_str()))
        };
        match output.rc {
            0 => Ok(parse_report(&output.stdout_text())),
            4..=6 => failed(err),
            8 => failed(format!("cannot unpack {}: {err}", self.src)),
            7 => failed(format!("failed to unpack {} into {}: {err}", self.src, self.dest)),
            9 => failed(format!("cannot set attributes in {}: {err}", self.dest)),
            rc => failed(format!("unarchive failed ({rc}): {err}")),
        }
    }

    /// The result of an unpacking the script reported.
    fn result(&self, report: &Report) -> Outcome {
        let changed = !report.differs.is_empty() || !report.attrs.is_empty();
        let handler = handler_name(&report.handler);
        let mut outcome = Outcome::changed(changed)
            .with("dest", self.dest.as_str())
            .with("src", self.src.as_str())
            .with("handler", handler)
            .with("state", "directory");
        if report.extracted {
            let mut results = Map::new();
            results.insert("rc".into(), Json::from(0));
            results.insert("out".into(), Json::from(""));
            results.insert("err".into(), Json::from(""));
            results.insert(
                "cmd".into(),
                Json::from(if handler == "ZipArchive" { "unzip" } else { "tar" }),
            );
            outcome = outcome.with("extract_results", Json::Object(results));
        }
        if self.list_files {
            outcome = outcome.with("files", report.files.clone());
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_report() {
        let report = parse_report("handler=tar-z\nfile:a\nfile:a/b\ndiffers:a/b\nattrs:a\nextracted\n");
        assert_eq!(report.handler, "tar-z");
        assert_eq!(report.files, ["a", "a/b"]);
        assert_eq!(report.differs, ["a/b"]);
        assert_eq!(report.attrs, ["a"]);
        assert!(report.extracted);
        assert_eq!(handler_name("tar-z"), "TgzArchive");
        assert_eq!(handler_name("zip"), "ZipArchive");
    }
}
