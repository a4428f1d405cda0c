//! `blockinfile` keeps a block of lines between two marker lines in a file of the host (or takes
//! it out), inserted at the end, the beginning, or after or before the last line an expression
//! matches, as Ansible's does; the file is rewritten atomically, only when its content changes.

use regex::bytes::Regex;
use serde::Deserialize;

use super::file_edit::{Edit, with_attributes_message};
use super::lineinfile::resolve;
use super::{Diff, Failure, Module, Outcome, Plan, StepContext};
use crate::transport::files::{self, FileKind};

module_arguments! {
[attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockInFile {
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    path: String,
    #[serde(default)]
    state: State,
    /// The marker line; `{mark}` becomes `marker_begin` or `marker_end`.
    #[serde(default = "default_marker")]
    marker: String,
    /// The lines between the markers; empty takes the block out.
    #[serde(default, alias = "content")]
    block: String,
    /// `EOF` (the default) or an expression after whose last matching line the block goes.
    #[serde(default)]
    insertafter: Option<String>,
    /// `BOF` or an expression before whose last matching line the block goes.
    #[serde(default)]
    insertbefore: Option<String>,
    /// Create the file (and its folder) when it is missing.
    #[serde(default)]
    create: bool,
    /// Keep a copy of the old file as `PATH.PID.DATE@TIME~`.
    #[serde(default)]
    backup: bool,
    /// A command that checks the new file (`%s`) before it replaces the old one.
    #[serde(default)]
    validate: Option<String>,
    #[serde(default = "default_begin")]
    marker_begin: String,
    #[serde(default = "default_end")]
    marker_end: String,
}
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    #[default]
    Present,
    Absent,
}

fn default_marker() -> String {
    "# {mark} ANSIBLE MANAGED BLOCK".into()
}

fn default_begin() -> String {
    "BEGIN".into()
}

fn default_end() -> String {
    "END".into()
}

/// Where the block goes when the file has no markers yet.
enum Insert {
    Eof,
    Bof,
    After(Regex),
    Before(Regex),
}

impl Module for BlockInFile {
    type Work = Edit;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Edit>, Failure> {
        if self.insertafter.is_some() && self.insertbefore.is_some() {
            return Err(Failure::new(
                "parameters are mutually exclusive: insertbefore|insertafter",
            ));
        }
        let compile = |pattern: &str| {
            Regex::new(pattern).map_err(|e| Failure::new(format!("invalid arguments: {pattern:?}: {e}")))
        };
        let insert = match (&self.insertafter, &self.insertbefore) {
            (Some(a), _) if a != "EOF" => Insert::After(compile(a)?),
            (_, Some(b)) if b == "BOF" => Insert::Bof,
            (_, Some(b)) => Insert::Before(compile(b)?),
            _ => Insert::Eof,
        };
        let attrs = self.attributes()?;
        let remote = cx.remote().await?;
        let (path, state) = resolve(&remote, &self.path).await?;
        if state.kind == FileKind::Directory {
            return Err(Failure::new(format!("Path {} is a directory !", self.path)).with("rc", 256));
        }
        let exists = state.exists();
        if !exists && !self.create {
            return Err(Failure::new(format!("Path {} does not exist !", self.path)).with("rc", 257));
        }
        if !exists && self.state == State::Absent {
            return Ok(Plan::Done(Outcome::ok().msg(format!("File {} not present", self.path))));
        }
        let original = if exists {
            Some(files::read(&remote, &path).await?.unwrap_or_default())
        } else {
            None
        };
        let marker = |mark: &str| format!("{}\n", self.marker.replace("{mark}", mark)).into_bytes();
        let block = (self.state == State::Present && !self.block.is_empty()).then(|| {
            let mut block = self.block.clone().into_bytes();
            if !block.ends_with(b"\n") {
                block.push(b'\n');
            }
            block
        });
        let result = edit(
            original.as_deref().unwrap_or_default(),
            &marker(&self.marker_begin),
            &marker(&self.marker_end),
            block.as_deref(),
            &insert,
        );
        let content_changed = original.as_deref() != Some(&result[..]);
        let msg = match (&original, content_changed) {
            (_, false) => "",
            (None, true) => "File created",
            (Some(_), true) if block.is_none() => "Block removed",
            (Some(_), true) => "Block inserted",
        };
        let has_attrs = attrs.mode.is_some() || attrs.owner.is_some() || attrs.group.is_some();
        let attrs_changed = exists && has_attrs && !attrs.satisfied_by(&state);
        let mut outcome = Outcome::changed(content_changed || attrs_changed)
            .msg(with_attributes_message(msg.to_string(), attrs_changed));
        if content_changed && cx.diff {
            outcome.diff = Some(Diff {
                path: self.path.clone(),
                before: String::from_utf8_lossy(original.as_deref().unwrap_or_default()).into_owned(),
                after: String::from_utf8_lossy(&result).into_owned(),
            });
        }
        let edit = if content_changed {
            Edit::Write {
                attrs: attrs.keeping_ownership_of(state),
                path,
                content: result,
                backup: exists && self.backup,
                make_parent: !exists,
                validate: self.validate,
            }
        } else if attrs_changed {
            Edit::Attributes { path, attrs }
        } else {
            return Ok(Plan::Done(outcome));
        };
        Ok(Plan::Change(outcome, edit))
    }

    async fn apply(work: Edit, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        work.apply_with_backup_file(planned, cx).await
    }
}

/// Python's `bytes.splitlines(True)`: lines with their endings (`\n`, `\r\n` or `\r`).
fn split_lines(text: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        let end = match text[i] {
            b'\r' if text.get(i + 1) == Some(&b'\n') => i + 2,
            b'\r' | b'\n' => i + 1,
            _ => {
                i += 1;
                continue;
            }
        };
        lines.push(text[start..end].to_vec());
        start = end;
        i = end;
    }
    if start < text.len() {
        lines.push(text[start..].to_vec());
    }
    lines
}

/// Whether a pattern turns on multi-line mode itself (`(?m)`), which makes Ansible search the
/// whole file rather than each line.
fn is_multiline(pattern: &str) -> bool {
    pattern
        .strip_prefix("(?")
        .and_then(|rest| rest.split_once(')'))
        .is_some_and(|(flags, _)| flags.chars().all(|c| c.is_ascii_alphabetic()) && flags.contains('m'))
}

/// The file with the block between its markers (or at the place `insert` says), or without it.
fn edit(original: &[u8], begin: &[u8], end: &[u8], block: Option<&[u8]>, insert: &Insert) -> Vec<u8> {
    let mut lines = split_lines(original);
    let n0 = lines.iter().rposition(|l| l == begin);
    let n1 = lines.iter().rposition(|l| l == end);
    let at = match (n0, n1) {
        (Some(n0), Some(n1)) if n0 < n1 => {
            lines.drain(n0..=n1);
            n0
        }
        (Some(n0), Some(n1)) => {
            lines.drain(n1..=n0);
            n1
        }
        _ => match insert {
            Insert::Eof => lines.len(),
            Insert::Bof => 0,
            Insert::After(re) | Insert::Before(re) => {
                let after = matches!(insert, Insert::After(_));
                let found = if is_multiline(re.as_str()) {
                    re.find(original).map(|m| {
                        let upto = if after { m.end() } else { m.start() };
                        original[..upto].iter().filter(|b| **b == b'\n').count()
                    })
                } else {
                    lines
                        .iter()
                        .rposition(|l| re.is_match(l.strip_suffix(b"\n").unwrap_or(l)))
                };
                match found {
                    None => lines.len(),
                    Some(n) if after => n + 1,
                    Some(n) => n,
                }
            }
        },
    };
    if at > 0 && !lines[at - 1].ends_with(b"\n") {
        lines[at - 1].push(b'\n');
    }
    if let Some(block) = block {
        let mut inserted = vec![begin.to_vec()];
        inserted.extend(split_lines(block));
        inserted.push(end.to_vec());
        lines.splice(at..at, inserted);
    }
    lines.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &[u8] = b"# BEGIN ANSIBLE MANAGED BLOCK\n";
    const END: &[u8] = b"# END ANSIBLE MANAGED BLOCK\n";

    #[test]
    fn inserts_at_the_end_then_replaces_between_the_markers() {
        let once = edit(b"a\nb", BEGIN, END, Some(b"x\n"), &Insert::Eof);
        assert_eq!(
            String::from_utf8(once.clone()).unwrap(),
            "a\nb\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n"
        );
        assert_eq!(edit(&once, BEGIN, END, Some(b"x\n"), &Insert::Eof), once);
        let other = edit(&once, BEGIN, END, Some(b"y\n"), &Insert::Bof);
        assert_eq!(
            String::from_utf8(other).unwrap(),
            "a\nb\n# BEGIN ANSIBLE MANAGED BLOCK\ny\n# END ANSIBLE MANAGED BLOCK\n"
        );
        assert_eq!(edit(&once, BEGIN, END, None, &Insert::Eof), b"a\nb\n");
    }

    #[test]
    fn inserts_after_or_before_the_last_matching_line() {
        let after = Insert::After(Regex::new("^b").unwrap());
        let text = edit(b"a\nb\nc\nb\nd\n", BEGIN, END, Some(b"x\n"), &after);
        assert!(
            text.starts_with(b"a\nb\nc\nb\n# BEGIN"),
            "{}",
            String::from_utf8_lossy(&text)
        );
        let before = Insert::Before(Regex::new("^c").unwrap());
        let text = edit(b"a\nc\n", BEGIN, END, Some(b"x\n"), &before);
        assert!(text.starts_with(b"a\n# BEGIN"), "{}", String::from_utf8_lossy(&text));
        assert!(is_multiline("(?m)^x") && !is_multiline("(x)"));
        assert_eq!(split_lines(b"a\r\nb\rc"), [&b"a\r\n"[..], b"b\r", b"c"]);
    }
}
