//! `find` lists the files of folders of the host that match names (shell patterns or regular
//! expressions), type, age, size and content, as Ansible's does: one `find` listing per folder,
//! walked in the order Python's `os.walk` gives (a folder's files, then its folders, then into
//! each), each match registered with Ansible's `stat` keys.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{Failure, Inspect, Outcome, StepContext};
use crate::compat::python::fnmatch;
use crate::transport::files;
use crate::transport::{Exec, HostError, Remote};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Find {
    /// The folders to look in (a list, or names separated by commas).
    #[serde(alias = "name", alias = "path")]
    paths: Json,
    /// Names to match (shell patterns, or with `use_regex` expressions matched at the start).
    #[serde(default, alias = "pattern")]
    patterns: Json,
    /// Names to leave out, of the same kind as `patterns`.
    #[serde(default, alias = "exclude")]
    excludes: Json,
    /// A regular expression a line of the file (or the whole file) must match.
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    read_whole_file: bool,
    #[serde(default)]
    file_type: FileType,
    /// Seconds (or `30m`, `2h`, `1d`, `1w`) since `age_stamp`: at least that old, or with a
    /// `-` at most.
    #[serde(default)]
    age: Option<String>,
    #[serde(default)]
    age_stamp: AgeStamp,
    /// Bytes (or `10k`, `1m`, `1g`, `1t`): at least that big, or with a `-` at most.
    #[serde(default)]
    size: Option<String>,
    #[serde(default)]
    recurse: bool,
    /// Names starting with `.` too.
    #[serde(default)]
    hidden: bool,
    /// Walk into folders that links lead to.
    #[serde(default)]
    follow: bool,
    /// Each file's SHA-1 as `checksum`.
    #[serde(default)]
    get_checksum: bool,
    #[serde(default)]
    use_regex: bool,
    /// How deep to look when recursing (0: no limit).
    #[serde(default)]
    depth: Option<usize>,
}

#[derive(Debug, Default, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum FileType {
    Any,
    Directory,
    #[default]
    File,
    Link,
}

#[derive(Debug, Default, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum AgeStamp {
    Atime,
    Ctime,
    #[default]
    Mtime,
}

/// Prints the host's time, then, for the folder `$1` (`notdir` when it is none), every entry
/// down to depth `$2` (empty: all), NUL-terminated: type, type through links, mode, uid, gid,
/// size, inode, device, links, access, change of content and of status times, owner, group,
/// path. `$3` = 1 walks through links.
pub(crate) const LIST: &str = r#"date +%s.%N
[ -d "$1" ] || { echo notdir; exit 0; }
echo dir
if [ "$3" = 1 ]; then L=-L; else L=-P; fi
find $L "$1" -mindepth 1 ${2:+-maxdepth "$2"} -printf '%y %Y %m %U %G %s %i %D %n %A@ %T@ %C@ %u %g %p\0'"#;

/// One entry of the listing.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    kind: char,
    /// What the entry is through a link: a link to a folder is walked like a folder.
    target_kind: char,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    inode: u64,
    dev: u64,
    nlink: u64,
    atime: f64,
    mtime: f64,
    ctime: f64,
    owner: String,
    group: String,
    path: String,
}

impl Inspect for Find {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let use_regex = self.use_regex;
        let mut patterns = list(&self.patterns);
        if patterns.is_empty() {
            patterns.push(if use_regex { ".*" } else { "*" }.to_string());
        }
        let excludes = list(&self.excludes);
        let names = Names::new(&patterns, &excludes, use_regex)?;
        let age = self.age.as_deref().map(parse_age).transpose()?;
        let size = self.size.as_deref().map(parse_size).transpose()?;
        // `re.search` on the whole file, else `re.match` (anchored at the start) on each line.
        let contains = self
            .contains
            .as_deref()
            .map(|p| {
                let pattern = if self.read_whole_file {
                    p.to_string()
                } else {
                    format!("^(?:{p})")
                };
                regex::bytes::Regex::new(&pattern).map_err(|e| Failure::new(format!("invalid `contains` {p:?}: {e}")))
            })
            .transpose()?;
        let remote = cx.remote().await?;
        let mut found = Vec::new();
        let mut examined = 0u64;
        let mut skipped = Map::new();
        let mut warnings = Vec::new();
        let depth = self.depth.filter(|d| *d > 0);
        for root in list(&self.paths) {
            let shift = depth_shift(&root);
            let max_depth = match (self.recurse, depth) {
                (false, _) => Some(1),
                (true, Some(d)) => Some(d + shift + 1),
                (true, None) => None,
            };
            let Some((now, entries)) = listing(&remote, &root, max_depth, self.follow).await? else {
                let why = format!("'{root}' is not a directory");
                warnings.push(Json::from(format!(
                    "Skipped '{root}' path due to this access issue: {why}\n"
                )));
                skipped.insert(root.clone(), Json::from(why));
                continue;
            };
            for (entry, depth_of) in os_walk(&root, entries, self.follow, &mut examined) {
                if depth.is_some_and(|d| depth_of.saturating_sub(shift) > d) {
                    continue;
                }
                let name = entry.path.rsplit('/').next().unwrap_or_default().to_string();
                if name.starts_with('.') && !self.hidden {
                    continue;
                }
                let stamp = match self.age_stamp {
                    AgeStamp::Atime => entry.atime,
                    AgeStamp::Ctime => entry.ctime,
                    AgeStamp::Mtime => entry.mtime,
                };
                let old_enough = age.is_none_or(|age| {
                    if age >= 0 {
                        now - stamp >= age as f64
                    } else {
                        now - stamp <= age.unsigned_abs() as f64
                    }
                });
                let big_enough = |entry: &Entry| {
                    size.is_none_or(|size| {
                        if size >= 0 {
                            entry.size >= size as u64
                        } else {
                            entry.size <= size.unsigned_abs()
                        }
                    })
                };
                if !names.matches(&name) || !old_enough {
                    continue;
                }
                let keep = match (self.file_type, entry.kind) {
                    (FileType::Any, 'f') => big_enough(&entry),
                    (FileType::Any, _) => true,
                    (FileType::Directory, 'd') | (FileType::Link, 'l') => true,
                    (FileType::File, 'f') => {
                        big_enough(&entry)
                            && match &contains {
                                None => true,
                                Some(re) => has_content(&remote, &entry.path, re, self.read_whole_file).await?,
                            }
                    }
                    _ => false,
                };
                if keep {
                    found.push(entry);
                }
            }
        }
        let mut files = Vec::with_capacity(found.len());
        for entry in &found {
            let mut info = stat_info(entry);
            if self.get_checksum && entry.kind == 'f' && matches!(self.file_type, FileType::Any | FileType::File) {
                info.insert("checksum".into(), Json::from(sha1(&remote, &entry.path).await?));
            }
            files.push(Json::Object(info));
        }
        let msg = if skipped.is_empty() {
            "All paths examined"
        } else {
            "Not all paths examined, check warnings for details"
        };
        let mut outcome = Outcome::ok()
            .msg(msg)
            .with("matched", files.len() as u64)
            .with("files", Json::Array(files))
            .with("examined", examined)
            .with("skipped_paths", Json::Object(skipped));
        if !warnings.is_empty() {
            outcome = outcome.with("warnings", Json::Array(warnings));
        }
        Ok(outcome)
    }
}

/// A list argument as Ansible's `list` type reads it: a list, or a string split at commas.
fn list(value: &Json) -> Vec<String> {
    match value {
        Json::Null => Vec::new(),
        Json::Array(items) => items.iter().map(crate::yaml::scalar_text).collect(),
        Json::String(s) => s.split(',').map(String::from).collect(),
        other => vec![crate::yaml::scalar_text(other)],
    }
}

/// The name filter (`pfilter`): a name matches a pattern and no exclude.
enum Names {
    Globs(Vec<String>, Vec<String>),
    Regexes(Vec<regex::Regex>, Vec<regex::Regex>),
}

impl Names {
    fn new(patterns: &[String], excludes: &[String], use_regex: bool) -> Result<Names, Failure> {
        if !use_regex {
            return Ok(Names::Globs(patterns.to_vec(), excludes.to_vec()));
        }
        // `re.match`: anchored at the start only.
        let compile = |p: &String| {
            regex::Regex::new(&format!("^(?:{p})")).map_err(|e| Failure::new(format!("invalid pattern {p:?}: {e}")))
        };
        Ok(Names::Regexes(
            patterns.iter().map(compile).collect::<Result<_, _>>()?,
            excludes.iter().map(compile).collect::<Result<_, _>>()?,
        ))
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Names::Globs(patterns, excludes) => {
                patterns.iter().any(|p| fnmatch(name, p)) && !excludes.iter().any(|e| fnmatch(name, e))
            }
            Names::Regexes(patterns, excludes) => {
                patterns.iter().any(|p| p.is_match(name)) && !excludes.iter().any(|e| e.is_match(name))
            }
        }
    }
}

fn parse_amount(text: &str, units: &[(char, i64)], what: &str) -> Result<i64, Failure> {
    let lower = text.to_lowercase();
    let (number, unit) = match lower.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&lower[..lower.len() - 1], Some(c)),
        _ => (lower.as_str(), None),
    };
    let multiplier = match unit {
        None => Some(1),
        Some(u) => units.iter().find(|(c, _)| *c == u).map(|(_, m)| *m),
    };
    let digits = number.strip_prefix('-').unwrap_or(number);
    match (multiplier, number.parse::<i64>()) {
        (Some(m), Ok(n)) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n * m),
        _ => Err(Failure::new(format!("failed to process {what}")).with(what, text)),
    }
}

fn parse_age(text: &str) -> Result<i64, Failure> {
    parse_amount(
        text,
        &[('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604800)],
        "age",
    )
}

fn parse_size(text: &str) -> Result<i64, Failure> {
    parse_amount(
        text,
        &[('b', 1), ('k', 1 << 10), ('m', 1 << 20), ('g', 1 << 30), ('t', 1 << 40)],
        "size",
    )
}

/// The folder's time on the host and its entries, or `None` when it is no folder.
async fn listing(
    remote: &Remote<'_>,
    root: &str,
    max_depth: Option<usize>,
    follow: bool,
) -> Result<Option<(f64, Vec<Entry>)>, HostError> {
    let depth = max_depth.map(|d| d.to_string()).unwrap_or_default();
    let follow = if follow { "1" } else { "" };
    let output = remote.exec(&Exec::script(LIST, &[root, &depth, follow])).await?;
    let text = output.stdout_text();
    let mut lines = text.splitn(3, '\n');
    let now = lines
        .next()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .unwrap_or_default();
    match lines.next() {
        Some("dir") => {}
        Some("notdir") => return Ok(None),
        _ => {
            return Err(HostError::Failed(format!(
                "cannot list `{root}`: {}",
                output.stderr_text().trim()
            )));
        }
    }
    let entries = lines
        .next()
        .unwrap_or_default()
        .split('\0')
        .filter_map(parse_entry)
        .collect();
    Ok(Some((now, entries)))
}

fn parse_entry(record: &str) -> Option<Entry> {
    let mut fields = record.splitn(15, ' ');
    let mut next = || fields.next();
    let char_of = |s: Option<&str>| s.and_then(|s| s.chars().next());
    let kind = char_of(next())?;
    let target_kind = char_of(next())?;
    let mode = u32::from_str_radix(next()?, 8).ok()?;
    let mut number = || next().and_then(|s| s.parse::<u64>().ok());
    let (uid, gid, size, inode, dev, nlink) = (number()?, number()?, number()?, number()?, number()?, number()?);
    let mut time = || next().and_then(|s| s.parse::<f64>().ok());
    let (atime, mtime, ctime) = (time()?, time()?, time()?);
    let owner = next()?.to_string();
    let group = next()?.to_string();
    let path = next()?.to_string();
    Some(Entry {
        kind,
        target_kind,
        mode,
        uid,
        gid,
        size,
        inode,
        dev,
        nlink,
        atime,
        mtime,
        ctime,
        owner,
        group,
        path,
    })
}

/// The entries in `os.walk`'s order, each with its depth below `root`: a folder's files, then
/// its folders (links to folders among them), then the walk of each folder in turn (of links
/// too when `follow`). Counts every entry of every folder walked in `examined`.
fn os_walk(root: &str, entries: Vec<Entry>, follow: bool, examined: &mut u64) -> Vec<(Entry, usize)> {
    let root = root.trim_end_matches('/');
    let root = if root.is_empty() { "/" } else { root };
    let mut children: HashMap<String, Vec<Entry>> = HashMap::new();
    for entry in entries {
        let parent = match entry.path.rfind('/') {
            Some(0) => "/".to_string(),
            Some(at) => entry.path[..at].to_string(),
            None => String::new(),
        };
        children.entry(parent).or_default().push(entry);
    }
    let mut out = Vec::new();
    let mut stack = vec![(root.to_string(), 1usize)];
    while let Some((dir, depth)) = stack.pop() {
        let kids = children.remove(&dir).unwrap_or_default();
        *examined += kids.len() as u64;
        let (dirs, others): (Vec<Entry>, Vec<Entry>) = kids.into_iter().partition(|e| e.target_kind == 'd');
        let walk_into: Vec<String> = dirs
            .iter()
            .filter(|d| d.kind == 'd' || follow)
            .map(|d| d.path.clone())
            .collect();
        out.extend(others.into_iter().chain(dirs).map(|e| (normalized(e), depth)));
        stack.extend(walk_into.into_iter().rev().map(|d| (d, depth + 1)));
    }
    out
}

/// The entry with its path as `os.path.normpath` writes it.
fn normalized(mut entry: Entry) -> Entry {
    entry.path = normpath(&entry.path);
    entry
}

/// `os.path.normpath`: no `//`, `/./` or `dir/..`, by the text alone.
fn normpath(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// How many levels shallower than they are Ansible counts a folder's entries against `depth`:
/// it compares their normalized paths with the folder's path as given, so each `..` or `.` in
/// it takes levels off.
fn depth_shift(root: &str) -> usize {
    let given = format!("{}/", root.trim_end_matches('/'));
    let normal = format!("{}/", normpath(root).trim_end_matches('/'));
    given.matches('/').count().saturating_sub(normal.matches('/').count())
}

/// The keys Ansible's `find` gives each file (`statinfo`).
fn stat_info(entry: &Entry) -> Map<String, Json> {
    let bit = |b: u32| Json::Bool(entry.mode & b != 0);
    let number = |f: f64| serde_json::Number::from_f64(f).map(Json::Number).unwrap_or(Json::Null);
    let mut info = Map::new();
    info.insert("path".into(), Json::from(entry.path.as_str()));
    info.insert("mode".into(), Json::from(format!("{:04o}", entry.mode & 0o7777)));
    for (key, kind) in [
        ("isdir", 'd'),
        ("ischr", 'c'),
        ("isblk", 'b'),
        ("isreg", 'f'),
        ("isfifo", 'p'),
        ("islnk", 'l'),
        ("issock", 's'),
    ] {
        info.insert(key.into(), Json::Bool(entry.kind == kind));
    }
    for (key, value) in [
        ("uid", entry.uid),
        ("gid", entry.gid),
        ("size", entry.size),
        ("inode", entry.inode),
        ("dev", entry.dev),
        ("nlink", entry.nlink),
    ] {
        info.insert(key.into(), Json::from(value));
    }
    info.insert("atime".into(), number(entry.atime));
    info.insert("mtime".into(), number(entry.mtime));
    info.insert("ctime".into(), number(entry.ctime));
    info.insert("gr_name".into(), Json::from(entry.group.as_str()));
    info.insert("pw_name".into(), Json::from(entry.owner.as_str()));
    for (key, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        info.insert(key.into(), bit(b));
    }
    info
}

/// Whether the whole file, or one of its lines (where `$` also matches before the newline, as in
/// Python), matches `re`.
async fn has_content(
    remote: &Remote<'_>,
    path: &str,
    re: &regex::bytes::Regex,
    whole: bool,
) -> Result<bool, HostError> {
    let Ok(Some(content)) = files::read(remote, path).await else {
        return Ok(false);
    };
    if whole {
        return Ok(re.is_match(&content));
    }
    Ok(content
        .split_inclusive(|b| *b == b'\n')
        .any(|line| re.is_match(line) || re.is_match(line.strip_suffix(b"\n").unwrap_or(line))))
}

async fn sha1(remote: &Remote<'_>, path: &str) -> Result<String, HostError> {
    let output = remote.exec(&Exec::new(["sha1sum", "--", path])).await?;
    Ok(output
        .stdout_text()
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: char, path: &str) -> Entry {
        parse_entry(&format!("{kind} {kind} 644 0 0 3 1 2 1 1.5 2.5 3.5 root root {path}")).unwrap()
    }

    #[test]
    fn walks_in_the_order_of_os_walk() {
        let entries = vec![
            entry('d', "/r/sub"),
            entry('f', "/r/sub/deep"),
            entry('f', "/r/a"),
            entry('d', "/r/other"),
            entry('f', "/r/b"),
        ];
        let mut examined = 0;
        let walked: Vec<(String, usize)> = os_walk("/r/", entries, false, &mut examined)
            .into_iter()
            .map(|(e, d)| (e.path, d))
            .collect();
        let expected = [
            ("/r/a", 1),
            ("/r/b", 1),
            ("/r/sub", 1),
            ("/r/other", 1),
            ("/r/sub/deep", 2),
        ];
        assert_eq!(walked, expected.map(|(p, d)| (p.to_string(), d)));
        assert_eq!(examined, 5);
    }

    #[test]
    fn paths_are_normalized_and_depths_counted_as_ansible_does() {
        assert_eq!(normpath("/a/out/../tree//b/./c"), "/a/tree/b/c");
        assert_eq!(normpath("../x/.."), "..");
        assert_eq!(depth_shift("/a/out/../tree"), 2);
        assert_eq!(depth_shift("/a/tree/"), 0);
    }

    #[test]
    fn ages_sizes_and_names_as_ansible_reads_them() {
        assert_eq!(parse_age("2h").unwrap(), 7200);
        assert_eq!(parse_age("-1W").unwrap(), -604800);
        assert!(parse_age("2 days").is_err());
        assert_eq!(parse_size("10k").unwrap(), 10240);
        let names = Names::new(&["*.log".into()], &["debug*".into()], false).unwrap();
        assert!(names.matches("app.log") && !names.matches("debug.log"));
        let regexes = Names::new(&["app".into()], &[], true).unwrap();
        assert!(regexes.matches("app.log") && !regexes.matches("my-app"));
        let info = stat_info(&entry('f', "/r/a"));
        assert_eq!(
            (info["mode"].as_str(), info["isreg"].as_bool()),
            (Some("0644"), Some(true))
        );
    }
}
