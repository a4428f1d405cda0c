//! `file` makes a path a directory, a symbolic link, an empty file, or absent, and sets its mode
//! and ownership.

use serde::Deserialize;

use super::{Diff, Failure, Module, Outcome, Plan, StepContext};
use crate::transport::files::{self, Attributes, FileKind};
use crate::transport::{Exec, HostError, Remote};

module_arguments! {
[attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(alias = "dest", alias = "name")]
    path: String,
    #[serde(default)]
    state: Option<State>,
    /// The target of a link.
    #[serde(default)]
    src: Option<String>,
    /// For links: replace what is at the path.
    #[serde(default)]
    force: bool,
}
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    File,
    Directory,
    Absent,
    Touch,
    Link,
}

impl Module for File {
    type Work = FileWork;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<FileWork>, Failure> {
        let remote = cx.remote().await?;
        let attrs = self.attributes()?;
        let before = files::stat(&remote, &self.path).await?;
        let state = self.state.unwrap_or(State::File);
        let path = self.path.as_str();
        let fail = |msg: String| Err(Failure::new(msg).with("path", path));
        let (action, after): (Option<Exec>, &str) = match state {
            State::Absent => match before.kind {
                FileKind::Absent => (None, "absent"),
                _ => (Some(Exec::new(["rm", "-rf", "--", path])), "absent"),
            },
            State::Directory => match before.kind {
                FileKind::Directory => (None, "directory"),
                FileKind::Absent => (Some(Exec::new(["mkdir", "-p", "--", path])), "directory"),
                other => {
                    return fail(format!("{path} exists and is a {}, not a directory", other.name()));
                }
            },
            State::Touch => (
                Some(Exec::new(["touch", "--", path])),
                if before.exists() { before.kind.name() } else { "file" },
            ),
            State::File => match before.kind {
                FileKind::Absent => {
                    return fail(format!("file {path} does not exist; use `state: touch` to create it"));
                }
                other => (None, other.name()),
            },
            State::Link => {
                let Some(src) = self.src.as_deref() else {
                    return fail("`src` is required for `state: link`".into());
                };
                match before.kind {
                    FileKind::Link if before.link_target.as_deref() == Some(src) => (None, "link"),
                    FileKind::Absent | FileKind::Link => (Some(Exec::new(["ln", "-sfn", "--", src, path])), "link"),
                    _ if self.force => (Some(Exec::new(["ln", "-sfn", "--", src, path])), "link"),
                    other => {
                        return fail(format!(
                            "{path} exists and is a {}; set `force: true` to replace it with a link",
                            other.name()
                        ));
                    }
                }
            }
        };
        let attrs_apply = state != State::Absent && state != State::Link;
        let attrs_changed = attrs_apply && (action.is_some() || !attrs.satisfied_by(&before)) && has_attrs(&attrs);
        let changed = action.is_some() || attrs_changed;
        let mut outcome = Outcome::changed(changed).with("path", path).with("state", after);
        if changed && cx.diff {
            outcome.diff = Some(Diff {
                path: path.to_string(),
                before: describe(before.kind.name(), before.mode),
                after: describe(after, attrs.mode.or(before.mode)),
            });
        }
        if !changed {
            return Ok(Plan::Done(outcome));
        }
        let work = FileWork {
            path: self.path,
            action,
            attrs: attrs_changed.then_some(attrs),
        };
        Ok(Plan::Change(outcome, work))
    }

    async fn apply(work: FileWork, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        if let Some(exec) = &work.action {
            run(&remote, exec).await?;
        }
        if let Some(attrs) = &work.attrs {
            files::set_attributes(&remote, &work.path, attrs).await?;
        }
        Ok(planned)
    }
}

/// What `file` changes: the command that makes the path what it should be, then its attributes.
#[derive(Debug)]
pub struct FileWork {
    path: String,
    action: Option<Exec>,
    attrs: Option<Attributes>,
}

fn has_attrs(attrs: &Attributes) -> bool {
    attrs.mode.is_some() || attrs.owner.is_some() || attrs.group.is_some()
}

fn describe(kind: &str, mode: Option<u32>) -> String {
    match mode {
        Some(mode) => format!("state: {kind}\nmode: {mode:04o}\n"),
        None => format!("state: {kind}\n"),
    }
}

async fn run(remote: &Remote<'_>, exec: &Exec) -> Result<(), HostError> {
    let output = remote.exec(exec).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "`{}` failed: {}",
            exec.argv.join(" "),
            output.stderr_text().trim()
        )));
    }
    Ok(())
}
