//! `replace` replaces every match of a regular expression in a file of the host (`^` and `$`
//! at each line, as Python's `re.MULTILINE`), optionally only in the section `after` and `before`
//! delimit, as Ansible's does; the file is rewritten atomically, only when its content changes.
//!
//! Regular expressions are Rust's `regex` (no look-around or back-references inside a pattern);
//! `replace` takes Python's `\1` and `\g<name>`.

use regex::bytes::Regex;
use serde::Deserialize;

use super::file_edit::{Edit, with_attributes_message};
use super::lineinfile::{expand, resolve};
use super::{Diff, Failure, Module, Outcome, Plan, StepContext};
use crate::transport::files::{self, FileKind};

module_arguments! {
[attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replace {
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    path: String,
    regexp: String,
    /// What each match becomes; empty removes it.
    #[serde(default)]
    replace: String,
    /// Only after the (first) match of this expression.
    #[serde(default)]
    after: Option<String>,
    /// Only before the match of this expression.
    #[serde(default)]
    before: Option<String>,
    /// Keep a copy of the old file as `PATH.PID.DATE@TIME~`.
    #[serde(default)]
    backup: bool,
    /// A command that checks the new file (`%s`) before it replaces the old one.
    #[serde(default)]
    validate: Option<String>,
    /// Accepted: files are read as bytes, which UTF-8 is.
    #[serde(default)]
    #[allow(dead_code)]
    encoding: Option<String>,
}
}

fn compile(what: &str, pattern: &str) -> Result<Regex, Failure> {
    Regex::new(pattern).map_err(|e| Failure::new(format!("invalid arguments: `{what}` {pattern:?}: {e}")))
}

impl Module for Replace {
    type Work = Edit;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Edit>, Failure> {
        let attrs = self.attributes()?;
        let remote = cx.remote().await?;
        let (path, state) = resolve(&remote, &self.path).await?;
        match state.kind {
            FileKind::Directory => {
                return Err(Failure::new(format!("Path {} is a directory !", self.path)).with("rc", 256));
            }
            FileKind::Absent => {
                return Err(Failure::new(format!("Path {} does not exist !", self.path)).with("rc", 257));
            }
            _ => {}
        }
        let old = files::read(&remote, &path).await?.unwrap_or_default();
        let section = match (&self.after, &self.before) {
            (Some(after), Some(before)) => Some(format!("{after}(?P<subsection>.*?){before}")),
            (Some(after), None) => Some(format!("{after}(?P<subsection>.*)")),
            (None, Some(before)) => Some(format!("(?P<subsection>.*){before}")),
            (None, None) => None,
        };
        let (start, end) = match &section {
            None => (0, old.len()),
            Some(pattern) => {
                let found = compile("after`/`before", &format!("(?s:{pattern})"))?
                    .captures(&old)
                    .and_then(|c| c.name("subsection"))
                    .map(|m| (m.start(), m.end()));
                match found {
                    Some(range) => range,
                    None => {
                        let msg = format!("Pattern for before/after params did not match the given file: {pattern}");
                        return Ok(Plan::Done(Outcome::ok().msg(msg).with("rc", 0)));
                    }
                }
            }
        };
        let regexp = compile("regexp", &format!("(?m:{})", self.regexp))?;
        let (replaced, count) = substitute(&regexp, &old[start..end], self.replace.as_bytes())?;
        let content_changed = count > 0 && replaced != old[start..end];
        let new = [&old[..start], &replaced[..], &old[end..]].concat();
        let has_attrs = attrs.mode.is_some() || attrs.owner.is_some() || attrs.group.is_some();
        let attrs_changed = has_attrs && !attrs.satisfied_by(&state);
        let msg = if content_changed {
            format!("{count} replacements made")
        } else {
            String::new()
        };
        let mut outcome = Outcome::changed(content_changed || attrs_changed)
            .msg(with_attributes_message(msg, attrs_changed))
            .with("rc", 0);
        if content_changed && cx.diff {
            outcome.diff = Some(Diff {
                path: self.path.clone(),
                before: String::from_utf8_lossy(&old).into_owned(),
                after: String::from_utf8_lossy(&new).into_owned(),
            });
        }
        let edit = if content_changed {
            Edit::Write {
                attrs: attrs.keeping_ownership_of(state),
                path,
                content: new,
                backup: self.backup,
                make_parent: false,
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

/// `re.subn(regexp, template, text)`: every match replaced by the expanded template, and how many.
fn substitute(regexp: &Regex, text: &[u8], template: &[u8]) -> Result<(Vec<u8>, usize), Failure> {
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    let mut count = 0;
    for captures in regexp.captures_iter(text) {
        let whole = captures.get(0).expect("a match has group 0");
        out.extend_from_slice(&text[last..whole.start()]);
        out.extend(expand(template, &captures)?);
        last = whole.end();
        count += 1;
    }
    out.extend_from_slice(&text[last..]);
    Ok((out, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_every_match_with_python_groups() {
        let re = Regex::new(r"(?m:^(\w+)=old$)").unwrap();
        let (text, n) = substitute(&re, b"a=old\nb=new\nc=old\n", br"\1=new").unwrap();
        assert_eq!((text.as_slice(), n), (&b"a=new\nb=new\nc=new\n"[..], 2));
        let re = Regex::new(r"(?P<k>x)").unwrap();
        assert_eq!(substitute(&re, b"axb", br"[\g<k>]").unwrap().0, b"a[x]b");
    }
}
