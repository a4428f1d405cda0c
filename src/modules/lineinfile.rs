//! `lineinfile` makes sure one line is in a file (or is not), replacing the line a `regexp` or
//! `search_string` finds, or adding it after or before an anchor, as Ansible's does. The file is
//! rewritten atomically, and only when its content changes.
//!
//! Regular expressions are Rust's `regex` (no look-around or back-references inside a pattern);
//! `backrefs` takes Python's `\1` and `\g<name>` in `line`. A pattern's `$` also matches before
//! the line's newline, as Python's does.

use regex::bytes::{Captures, Regex};
use serde::Deserialize;

use super::file_edit::{Edit, with_attributes_message};
use super::{Diff, Failure, Module, Outcome, Plan, StepContext};
use crate::transport::files::{self, FileKind, FileState};
use crate::transport::{HostError, Remote};

module_arguments! {
[attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInFile {
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    path: String,
    #[serde(default, alias = "value")]
    line: Option<String>,
    #[serde(default, alias = "regex")]
    regexp: Option<String>,
    /// A literal string a line contains.
    #[serde(default)]
    search_string: Option<String>,
    #[serde(default)]
    state: Option<State>,
    /// `EOF` (the default), `BOF`, or a regular expression after whose last match the line goes.
    #[serde(default)]
    insertafter: Option<String>,
    /// `BOF`, or a regular expression before whose last match the line goes.
    #[serde(default)]
    insertbefore: Option<String>,
    /// Create the file (and its folder) when it is missing.
    #[serde(default)]
    create: bool,
    /// Expand `\1` in `line` with the `regexp`'s groups; do nothing when it matches no line.
    #[serde(default)]
    backrefs: bool,
    /// Use the first match of `regexp` or the anchor instead of the last.
    #[serde(default)]
    firstmatch: bool,
    /// Keep a copy of the old file as `PATH.PID.DATE@TIME~`.
    #[serde(default)]
    backup: bool,
    /// A command that checks the new file (`%s`) before it replaces the old one.
    #[serde(default)]
    validate: Option<String>,
}
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    Present,
    Absent,
}

fn compile(what: &str, pattern: &str) -> Result<Regex, HostError> {
    Regex::new(pattern).map_err(|e| HostError::Failed(format!("invalid arguments: `{what}` {pattern:?}: {e}")))
}

fn invalid(msg: &str) -> HostError {
    HostError::Failed(format!("invalid arguments: {msg}"))
}

/// The change a run makes to the file.
#[derive(Debug)]
pub struct Work(Edit);

impl Module for LineInFile {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let state = self.state.unwrap_or(State::Present);
        if self.insertafter.is_some() && self.insertbefore.is_some() {
            return Err(invalid("give `insertafter` or `insertbefore`, not both").into());
        }
        if self.regexp.is_some() && self.search_string.is_some() {
            return Err(invalid("give `regexp` or `search_string`, not both").into());
        }
        if self.backrefs && self.search_string.is_some() {
            return Err(invalid("`backrefs` works with `regexp`, not `search_string`").into());
        }
        let regexp = match &self.regexp {
            Some(pattern) => Some(compile("regexp", pattern)?),
            None => None,
        };
        let anchor = match (&self.insertafter, &self.insertbefore) {
            (Some(a), _) if a != "EOF" && a != "BOF" => Some(compile("insertafter", a)?),
            (_, Some(b)) if b != "BOF" => Some(compile("insertbefore", b)?),
            _ => None,
        };
        let attrs = self.attributes()?;
        let remote = cx.remote().await?;
        let (path, before) = resolve(&remote, &self.path).await?;
        if before.kind == FileKind::Directory {
            return Err(Failure::new(format!("Path {} is a directory !", self.path)).with("rc", 256));
        }
        let exists = before.exists();
        let old = if exists {
            files::read(&remote, &path).await?.unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut lines = split_lines(&old);
        let (msg, found) = match state {
            State::Present => {
                if self.backrefs && regexp.is_none() {
                    return Err(invalid("`regexp` is required with `backrefs: true`").into());
                }
                let Some(line) = &self.line else {
                    return Err(invalid("`line` is required with `state: present`").into());
                };
                if !exists && !self.create {
                    return Err(Failure::new(format!("Destination {} does not exist !", self.path)).with("rc", 257));
                }
                let insertafter = match (&self.insertafter, &self.insertbefore) {
                    (None, None) => Some("EOF"),
                    (a, _) => a.as_deref(),
                };
                let edit = Present {
                    line: line.as_bytes(),
                    regexp: regexp.as_ref(),
                    search: self.search_string.as_deref().map(str::as_bytes),
                    insertafter,
                    insertbefore: self.insertbefore.as_deref(),
                    anchor: anchor.as_ref(),
                    backrefs: self.backrefs,
                    firstmatch: self.firstmatch,
                };
                (edit.apply(&mut lines)?, None)
            }
            State::Absent => {
                if !exists {
                    return Ok(Plan::Done(Outcome::ok().msg("file not present").with("backup", "")));
                }
                let matcher = match (&regexp, &self.search_string, &self.line) {
                    (Some(re), _, _) => Matcher::Regexp(re),
                    (None, Some(s), _) => Matcher::Contains(s.as_bytes()),
                    (None, None, Some(l)) => Matcher::Exact(l.as_bytes()),
                    (None, None, None) => {
                        return Err(invalid(
                            "one of `line`, `search_string` or `regexp` is required with `state: absent`",
                        )
                        .into());
                    }
                };
                let found = remove(&mut lines, &matcher);
                let msg = (found > 0).then(|| format!("{found} line(s) removed"));
                (msg, Some(found))
            }
        };
        let content_changed = msg.is_some();
        let new: Vec<u8> = lines.concat();
        let has_attrs = attrs.mode.is_some() || attrs.owner.is_some() || attrs.group.is_some();
        let attrs_changed = exists && has_attrs && !attrs.satisfied_by(&before);
        let msg = with_attributes_message(msg.unwrap_or_default(), attrs_changed);
        let mut outcome = Outcome::changed(content_changed || attrs_changed).msg(msg);
        if let Some(found) = found {
            outcome = outcome.with("found", found as u64);
        }
        if content_changed && cx.diff {
            outcome.diff = Some(Diff {
                path: self.path.clone(),
                before: String::from_utf8_lossy(&old).into_owned(),
                after: String::from_utf8_lossy(&new).into_owned(),
            });
        }
        // The backup's path, known once a run has made it.
        let outcome = outcome.with("backup", "");
        let change = if content_changed {
            Edit::Write {
                attrs: attrs.keeping_ownership_of(before),
                path,
                content: new,
                backup: exists && self.backup,
                make_parent: !exists,
                validate: self.validate,
            }
        } else if attrs_changed {
            Edit::Attributes { path, attrs }
        } else {
            return Ok(Plan::Done(outcome));
        };
        Ok(Plan::Change(outcome, Work(change)))
    }

    async fn apply(work: Work, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let backup = work.0.apply(cx).await?;
        Ok(planned.with("backup", backup))
    }
}

/// The file a path names, through a symbolic link, and what is there.
pub(crate) async fn resolve(remote: &Remote<'_>, path: &str) -> Result<(String, FileState), HostError> {
    let state = files::stat(remote, path).await?;
    match (&state.kind, &state.link_target) {
        (FileKind::Link, Some(target)) => {
            let target = if target.starts_with('/') {
                target.clone()
            } else {
                let parent = std::path::Path::new(path)
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("{parent}/{target}")
            };
            let state = files::stat(remote, &target).await?;
            Ok((target, state))
        }
        _ => Ok((path.to_string(), state)),
    }
}

/// Lines with their endings, as Python's `readlines` gives them.
fn split_lines(content: &[u8]) -> Vec<Vec<u8>> {
    content.split_inclusive(|b| *b == b'\n').map(<[u8]>::to_vec).collect()
}

fn trim_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// What a regular expression sees of a line: Python's `$` matches before a final newline.
fn searchable(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

enum Matcher<'a> {
    Regexp(&'a Regex),
    Contains(&'a [u8]),
    Exact(&'a [u8]),
}

/// Removes the lines the matcher finds; returns how many.
fn remove(lines: &mut Vec<Vec<u8>>, matcher: &Matcher<'_>) -> usize {
    let before = lines.len();
    lines.retain(|l| match matcher {
        Matcher::Regexp(re) => !re.is_match(searchable(l)),
        Matcher::Contains(s) => !contains(l, s),
        Matcher::Exact(e) => trim_end(l) != *e,
    });
    before - lines.len()
}

struct Present<'a> {
    line: &'a [u8],
    regexp: Option<&'a Regex>,
    search: Option<&'a [u8]>,
    insertafter: Option<&'a str>,
    insertbefore: Option<&'a str>,
    anchor: Option<&'a Regex>,
    backrefs: bool,
    firstmatch: bool,
}

impl Present<'_> {
    /// Ansible's `present`: returns the message when the lines changed.
    fn apply(&self, lines: &mut Vec<Vec<u8>>) -> Result<Option<String>, HostError> {
        let mut found: Option<usize> = None;
        let mut expanded: Option<Vec<u8>> = None;
        let mut matched = false;
        if let Some(re) = self.regexp {
            for (i, l) in lines.iter().enumerate() {
                if let Some(c) = re.captures(searchable(l)) {
                    found = Some(i);
                    if self.backrefs {
                        expanded = Some(expand(self.line, &c)?);
                    }
                    matched = true;
                    if self.firstmatch {
                        break;
                    }
                }
            }
        }
        if let Some(s) = self.search {
            for (i, l) in lines.iter().enumerate() {
                if contains(l, s) {
                    found = Some(i);
                    matched = true;
                    if self.firstmatch {
                        break;
                    }
                }
            }
        }
        let mut insert_at: Option<usize> = None;
        if !matched {
            for (i, l) in lines.iter().enumerate() {
                if trim_end(l) == self.line {
                    found = Some(i);
                } else if self.anchor.is_some_and(|a| a.is_match(searchable(l))) {
                    insert_at = Some(if self.insertafter.is_some() { i + 1 } else { i });
                    if self.firstmatch {
                        break;
                    }
                }
            }
        }
        let newline = |l: &[u8]| {
            let mut l = l.to_vec();
            l.push(b'\n');
            l
        };
        let added = Ok(Some("line added".to_string()));
        if let Some(i) = found {
            let mut new_line = expanded.unwrap_or_else(|| self.line.to_vec());
            if !new_line.ends_with(b"\n") {
                new_line.push(b'\n');
            }
            if lines[i] != new_line {
                lines[i] = new_line;
                return Ok(Some("line replaced".to_string()));
            }
            return Ok(None);
        }
        if self.backrefs {
            return Ok(None);
        }
        if self.insertbefore == Some("BOF") || self.insertafter == Some("BOF") {
            lines.insert(0, newline(self.line));
            return added;
        }
        match insert_at {
            Some(at) if self.insertafter != Some("EOF") => {
                if self.insertafter.is_some() {
                    if at == lines.len() {
                        if trim_end(&lines[at - 1]) != self.line {
                            lines.push(newline(self.line));
                            return added;
                        }
                    } else if trim_end(&lines[at]) != self.line {
                        lines.insert(at, newline(self.line));
                        return added;
                    }
                    Ok(None)
                } else {
                    lines.insert(at, newline(self.line));
                    added
                }
            }
            _ => {
                if let Some(last) = lines.last_mut()
                    && !matches!(last.last(), Some(b'\n' | b'\r'))
                {
                    lines.push(b"\n".to_vec());
                }
                lines.push(newline(self.line));
                added
            }
        }
    }
}

/// Python's `match.expand`: `\1`..`\99`, `\g<1>`, `\g<name>` and the usual escapes.
pub(crate) fn expand(template: &[u8], captures: &Captures<'_>) -> Result<Vec<u8>, HostError> {
    let group = |key: &str| -> Result<Vec<u8>, HostError> {
        let m = match key.parse::<usize>() {
            Ok(n) if n < captures.len() => captures.get(n),
            Ok(_) => {
                return Err(invalid(&format!(
                    "`line` refers to group {key}, which `regexp` does not have"
                )));
            }
            Err(_) => match captures.name(key) {
                Some(m) => Some(m),
                None => {
                    return Err(invalid(&format!(
                        "`line` refers to group `{key}`, which `regexp` does not have"
                    )));
                }
            },
        };
        Ok(m.map(|m| m.as_bytes().to_vec()).unwrap_or_default())
    };
    let mut out = Vec::with_capacity(template.len());
    let mut i = 0;
    while i < template.len() {
        let c = template[i];
        let next = template.get(i + 1).copied();
        if c != b'\\' || next.is_none() {
            out.push(c);
            i += 1;
            continue;
        }
        match next.unwrap_or_default() {
            d @ b'1'..=b'9' => {
                let mut key = String::from(d as char);
                if let Some(d2 @ b'0'..=b'9') = template.get(i + 2).copied() {
                    key.push(d2 as char);
                }
                i += 1 + key.len();
                out.extend(group(&key)?);
            }
            b'g' if template.get(i + 2) == Some(&b'<') => {
                let rest = &template[i + 3..];
                let Some(end) = rest.iter().position(|b| *b == b'>') else {
                    return Err(invalid("`line` has `\\g<` without its `>`"));
                };
                let key = String::from_utf8_lossy(&rest[..end]).into_owned();
                out.extend(group(&key)?);
                i += 3 + end + 1;
            }
            b'n' => {
                out.push(b'\n');
                i += 2;
            }
            b't' => {
                out.push(b'\t');
                i += 2;
            }
            b'r' => {
                out.push(b'\r');
                i += 2;
            }
            b'\\' => {
                out.push(b'\\');
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(
        content: &str,
        line: &str,
        regexp: Option<&str>,
        after: Option<&str>,
        before: Option<&str>,
        backrefs: bool,
    ) -> (String, Option<String>) {
        let re = regexp.map(|r| Regex::new(r).unwrap());
        let anchor = match (after, before) {
            (Some(a), _) if a != "EOF" && a != "BOF" => Some(Regex::new(a).unwrap()),
            (_, Some(b)) if b != "BOF" => Some(Regex::new(b).unwrap()),
            _ => None,
        };
        let edit = Present {
            line: line.as_bytes(),
            regexp: re.as_ref(),
            search: None,
            insertafter: if after.is_none() && before.is_none() {
                Some("EOF")
            } else {
                after
            },
            insertbefore: before,
            anchor: anchor.as_ref(),
            backrefs,
            firstmatch: false,
        };
        let mut lines = split_lines(content.as_bytes());
        let msg = edit.apply(&mut lines).unwrap();
        (String::from_utf8(lines.concat()).unwrap(), msg)
    }

    #[test]
    fn adds_at_the_end_once() {
        assert_eq!(
            present("a\nb", "c", None, None, None, false),
            ("a\nb\nc\n".into(), Some("line added".into()))
        );
        assert_eq!(present("a\nc\n", "c", None, None, None, false).1, None);
        assert_eq!(present("", "c", None, None, None, false).0, "c\n");
    }

    #[test]
    fn replaces_the_last_match_of_regexp() {
        assert_eq!(
            present("port=1\nx\nport=2\n", "port=8", Some("^port="), None, None, false),
            ("port=1\nx\nport=8\n".into(), Some("line replaced".into()))
        );
        // `$` matches before the newline, as in Python.
        assert_eq!(present("a=1\n", "a=2", Some("^a=1$"), None, None, false).0, "a=2\n");
        // No match of regexp, but the line is there: nothing to do.
        assert_eq!(present("a=2\n", "a=2", Some("^b"), None, None, false).1, None);
    }

    #[test]
    fn inserts_after_and_before_anchors() {
        assert_eq!(
            present("[a]\nx\n[b]\ny\n", "new", None, Some(r"^\[a\]"), None, false).0,
            "[a]\nnew\nx\n[b]\ny\n"
        );
        assert_eq!(
            present("[a]\nnew\nx\n", "new", None, Some(r"^\[a\]"), None, false).1,
            None
        );
        assert_eq!(
            present("x\n[b]\n", "new", None, None, Some(r"^\[b\]"), false).0,
            "x\nnew\n[b]\n"
        );
        assert_eq!(present("x\n", "first", None, None, Some("BOF"), false).0, "first\nx\n");
        // An anchor that matches nothing: the end of the file.
        assert_eq!(present("x\n", "new", None, Some("^nope"), None, false).0, "x\nnew\n");
    }

    #[test]
    fn backrefs_expand_groups_and_do_nothing_without_a_match() {
        assert_eq!(
            present(
                "listen 80;\n",
                r"listen \g<port>0;",
                Some(r"^listen (?P<port>\d+);"),
                None,
                None,
                true
            )
            .0,
            "listen 800;\n"
        );
        assert_eq!(
            present("a = 1\n", r"\1 = 2", Some(r"^(\w+) = "), None, None, true).0,
            "a = 2\n"
        );
        assert_eq!(
            present("x\n", r"\1", Some("^(nope)"), None, None, true),
            ("x\n".into(), None)
        );
    }

    #[test]
    fn removes_matching_lines() {
        let mut lines = split_lines(b"a\n#b\nc\n#d");
        let re = Regex::new("^#").unwrap();
        assert_eq!(remove(&mut lines, &Matcher::Regexp(&re)), 2);
        assert_eq!(lines.concat(), b"a\nc\n");
        assert_eq!(remove(&mut lines, &Matcher::Exact(b"c")), 1);
        assert_eq!(remove(&mut lines, &Matcher::Contains(b"zz")), 0);
    }
}
