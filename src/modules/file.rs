//! `file` makes a path a directory, a symbolic or hard link, an empty file, or absent, and sets its
//! mode and ownership, as Ansible's does: through a link to what it points to (`follow`), over a
//! whole folder (`recurse`), and a link only to a `src` that exists unless `force`.

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
    /// For links: replace what is at the path, or link to a `src` that does not exist.
    #[serde(default)]
    force: bool,
    /// Set the attributes of what a link points to rather than fail on the link.
    #[serde(default = "super::arguments::yes")]
    follow: bool,
    /// With `state: directory`: set the attributes of everything in the folder too.
    #[serde(default)]
    recurse: bool,
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
    Hard,
}

impl Module for File {
    type Work = FileWork;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<FileWork>, Failure> {
        let remote = cx.remote().await?;
        let attrs = self.attributes()?;
        let mut before = files::stat(&remote, &self.path).await?;
        let state = self.state.unwrap_or(State::File);
        if self.recurse && state != State::Directory {
            return Err(
                Failure::new("recurse option requires state to be 'directory'").with("path", self.path.as_str())
            );
        }
        // Through a link, Ansible works on (and reports) what it points to.
        let mut path = self.path.clone();
        if before.kind == FileKind::Link && self.follow && matches!(state, State::File | State::Directory) {
            let target = real_path(&remote, &path).await?;
            before = files::stat(&remote, &target).await?;
            path = target;
        }
        let path = path.as_str();
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
                FileKind::File => (None, "file"),
                other => return fail(format!("file ({path}) is {}, cannot continue", other.name())),
            },
            State::Link => {
                let Some(src) = self.src.as_deref() else {
                    return fail("`src` is required for `state: link`".into());
                };
                if !self.force && !source_exists(&remote, path, src).await? {
                    return fail(format!(
                        "src file does not exist, use \"force=yes\" if you really want to create the link: {}",
                        beside(path, src)
                    ));
                }
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
            State::Hard => {
                let Some(src) = self.src.as_deref() else {
                    return fail("`src` is required for `state: hard`".into());
                };
                if !files::stat(&remote, src).await?.exists() {
                    return fail(format!("src does not exist: {src}"));
                }
                if same_file(&remote, src, path).await? {
                    (None, "hard")
                } else if before.exists() && before.kind != FileKind::File && !self.force {
                    return fail(format!(
                        "{path} exists and is a {}; set `force: true` to replace it with a link",
                        before.kind.name()
                    ));
                } else {
                    (Some(Exec::new(["ln", "-f", "--", src, path])), "hard")
                }
            }
        };
        let attrs_apply = state != State::Absent && state != State::Link;
        let inside_differs = self.recurse
            && has_attrs(&attrs)
            && before.kind == FileKind::Directory
            && anything_differs(&remote, path, &attrs).await?;
        let attrs_changed =
            attrs_apply && (action.is_some() || !attrs.satisfied_by(&before) || inside_differs) && has_attrs(&attrs);
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
            path: path.to_string(),
            action,
            attrs: attrs_changed.then_some(attrs),
            recurse: self.recurse,
        };
        Ok(Plan::Change(outcome, work))
    }

    async fn apply(work: FileWork, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        if let Some(exec) = &work.action {
            run(&remote, exec).await?;
        }
        match &work.attrs {
            Some(attrs) if work.recurse => set_attributes_recursively(&remote, &work.path, attrs).await?,
            Some(attrs) => files::set_attributes(&remote, &work.path, attrs).await?,
            None => {}
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
    recurse: bool,
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

/// `src` as a link at `path` reads it: relative to the link's folder.
fn beside(path: &str, src: &str) -> String {
    if src.starts_with('/') {
        return src.to_string();
    }
    match path.rfind('/') {
        Some(at) => format!("{}/{src}", &path[..at]),
        None => src.to_string(),
    }
}

async fn source_exists(remote: &Remote<'_>, path: &str, src: &str) -> Result<bool, HostError> {
    Ok(files::stat(remote, &beside(path, src)).await?.exists())
}

/// The path with every link resolved (`os.path.realpath`).
async fn real_path(remote: &Remote<'_>, path: &str) -> Result<String, HostError> {
    let output = remote.exec(&Exec::new(["readlink", "-m", "--", path])).await?;
    let real = output.stdout_text().trim_end_matches('\n').to_string();
    if output.rc != 0 || real.is_empty() {
        return Err(HostError::Failed(format!(
            "cannot resolve `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(real)
}

/// Whether two paths are the same file (a hard link of each other).
pub(crate) const SAME_FILE: &str = r#"[ "$1" -ef "$2" ]"#;

async fn same_file(remote: &Remote<'_>, a: &str, b: &str) -> Result<bool, HostError> {
    Ok(remote.exec(&Exec::script(SAME_FILE, &[a, b])).await?.rc == 0)
}

/// Prints the first entry under the folder `$1` (links left out) whose mode is not `$2`, owner
/// not `$3` or group not `$4` (each checked when given).
pub(crate) const FIRST_DIFFERING: &str = r#"set -f
t=
[ -z "$2" ] || t="! -perm $2"
[ -z "$3" ] || t="${t:+$t -o }! -user $3"
[ -z "$4" ] || t="${t:+$t -o }! -group $4"
find "$1" -mindepth 1 ! -type l \( $t \) -print -quit"#;

/// Whether something in the folder lacks the attributes.
async fn anything_differs(remote: &Remote<'_>, path: &str, attrs: &Attributes) -> Result<bool, HostError> {
    let mode = attrs.mode.map(|m| format!("{m:04o}")).unwrap_or_default();
    let owner = attrs.owner.clone().unwrap_or_default();
    let group = attrs.group.clone().unwrap_or_default();
    let output = remote
        .exec(&Exec::script(FIRST_DIFFERING, &[path, &mode, &owner, &group]))
        .await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot look inside `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(!output.stdout.is_empty())
}

/// Sets the attributes of the folder and of everything in it (links are left as they are).
pub(crate) const SET_RECURSIVELY: &str = r#"set -e
[ -z "$2" ] || chmod -R "$2" -- "$1"
[ -z "$3" ] || chown -R -- "$3" "$1"
[ -z "$4" ] || chgrp -R -- "$4" "$1""#;

async fn set_attributes_recursively(remote: &Remote<'_>, path: &str, attrs: &Attributes) -> Result<(), HostError> {
    let mode = attrs.mode.map(|m| format!("{m:o}")).unwrap_or_default();
    let owner = attrs.owner.clone().unwrap_or_default();
    let group = attrs.group.clone().unwrap_or_default();
    let output = remote
        .exec(&Exec::script(SET_RECURSIVELY, &[path, &mode, &owner, &group]))
        .await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot set the attributes in `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(())
}
