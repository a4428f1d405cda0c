//! Rewriting a text file of the host as `lineinfile`, `replace` and `blockinfile` do: the new
//! content written atomically with the file's owner and group kept, after a backup
//! (`PATH.PID.DATE@TIME~`) when asked, and only once `validate` (`%s` the new file) accepts it;
//! or, when the content is right, only the mode and ownership fixed.

use super::{Failure, Outcome, StepContext};
use crate::compat::python::shlex_split;
use crate::transport::files::{self, Attributes};
use crate::transport::{Exec, HostError, Remote};

/// The message Ansible gives when the content is right but the attributes were not.
pub const ATTRIBUTES_CHANGED: &str = "ownership, perms or SE linux context changed";

/// What a run changes in the file.
#[derive(Debug)]
pub enum Edit {
    /// The new content: `backup` keeps a copy of the old file first, `make_parent` creates the
    /// folder of a new file.
    Write {
        path: String,
        content: Vec<u8>,
        attrs: Attributes,
        backup: bool,
        make_parent: bool,
        validate: Option<String>,
    },
    /// The content is right; only the mode or ownership differ.
    Attributes { path: String, attrs: Attributes },
}

impl Edit {
    /// Makes the edit and reports its backup as `backup_file`, when one was made (as
    /// `blockinfile` and `replace` report it).
    pub async fn apply_with_backup_file(self, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let backup = self.apply(cx).await?;
        Ok(if backup.is_empty() {
            planned
        } else {
            planned.with("backup_file", backup)
        })
    }

    /// Makes the change; the backup's path, empty when none was made.
    pub async fn apply(self, cx: &StepContext<'_>) -> Result<String, Failure> {
        let remote = cx.remote().await?;
        match self {
            Edit::Write {
                path,
                content,
                attrs,
                backup,
                make_parent: new,
                validate,
            } => {
                let backup = if backup {
                    backup_file(&remote, &path).await?
                } else {
                    String::new()
                };
                match validate {
                    None => {
                        if new {
                            make_parent(&remote, &path).await?;
                        }
                        files::write(&remote, &path, &content, &attrs).await?;
                    }
                    Some(command) => {
                        let staged = files::stage(&remote, &path, &content, &attrs).await?;
                        if let Err(failure) = run_validator(cx, &remote, &command, &staged).await {
                            let _ = files::discard(&remote, &staged).await;
                            return Err(failure);
                        }
                        files::commit(&remote, &staged, &path).await?;
                    }
                }
                Ok(backup)
            }
            Edit::Attributes { path, attrs } => {
                files::set_attributes(&remote, &path, &attrs).await?;
                Ok(String::new())
            }
        }
    }
}

/// Runs `validate` on the staged file, failing as Ansible does when it exits non-zero.
async fn run_validator(cx: &StepContext<'_>, remote: &Remote<'_>, command: &str, staged: &str) -> Result<(), Failure> {
    if !command.contains("%s") {
        return Err(Failure::new(format!("validate must contain %s: {command}")));
    }
    let argv = shlex_split(&command.replace("%s", staged))
        .map_err(|e| Failure::new(format!("validate: {}: {command}", e.python_message())))?;
    if argv.is_empty() {
        return Err(Failure::new(format!("validate must contain %s: {command}")));
    }
    (cx.progress)(format!("validating: {command}"));
    let mut exec = Exec::new(argv);
    exec.env = cx.environment.to_vec();
    let output = remote.exec(&exec).await?;
    if output.rc != 0 {
        return Err(Failure::new(format!(
            "failed to validate: rc:{} error:{}",
            output.rc,
            output.stderr_text()
        )));
    }
    Ok(())
}

/// Creates the folder of a file about to be created.
pub async fn make_parent(remote: &Remote<'_>, path: &str) -> Result<(), HostError> {
    let script = r#"d=$(dirname -- "$1"); [ -d "$d" ] || mkdir -p -- "$d""#;
    let output = remote.exec(&Exec::script(script, &[path])).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot create the folder of `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(())
}

/// Copies the file to `PATH.PID.DATE@TIME~`, as Ansible's `backup_local` names it; the copy's path.
pub async fn backup_file(remote: &Remote<'_>, path: &str) -> Result<String, HostError> {
    let script = r#"b="$1.$$.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$1" "$b" && printf '%s' "$b""#;
    let output = remote.exec(&Exec::script(script, &[path])).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot back up `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(output.stdout_text())
}

/// The message of a content change `msg` with the attributes' change, as Ansible joins them.
pub fn with_attributes_message(msg: String, attributes_changed: bool) -> String {
    match (msg.is_empty(), attributes_changed) {
        (_, false) => msg,
        (true, true) => ATTRIBUTES_CHANGED.to_string(),
        (false, true) => format!("{msg} and {ATTRIBUTES_CHANGED}"),
    }
}
