//! `copy` puts a file of the playbook's, or given content, on the host; it changes the host only
//! when the content (by SHA-256) or the attributes differ. A folder `src` is copied as Ansible
//! copies one (`copy_tree.rs`).

use serde::Deserialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::copy_tree::{TreeWork, apply_tree, plan_tree, walk};
use super::{Diff, Failure, Module, Outcome, Plan, StepContext, find_source};
use crate::compat::checksum::hex;
use crate::transport::files::{self, Attributes, FileKind, FileState};
use crate::transport::{Exec, HostError, Remote};

module_arguments! {
[attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copy {
    /// A file beside the playbook, looked for in `files/` first.
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    content: Option<Json>,
    dest: String,
    /// A command that checks the new file before it replaces the old one; `%s` stands for it.
    #[serde(default)]
    validate: Option<String>,
    /// When false, an existing destination is left as it is.
    #[serde(default = "super::arguments::yes")]
    force: bool,
    /// The mode of the folders a folder `src` makes (an octal string such as "0755").
    #[serde(default)]
    directory_mode: Json,
}
}

/// What `copy` changes: one file, or a folder's files and folders.
#[derive(Debug)]
pub enum CopyWork {
    File(PutWork),
    Tree(TreeWork),
}

impl Module for Copy {
    type Work = CopyWork;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<CopyWork>, Failure> {
        let attrs = self.attributes()?;
        let (content, name) = match (&self.src, self.content) {
            (Some(src), None) => {
                let path = find_source(cx, "files", src)?;
                if path.is_dir() {
                    let directory_mode = super::parse_mode(&self.directory_mode)?;
                    let tree = walk(&path, src.ends_with('/'))?;
                    let put = Put {
                        force: self.force,
                        validate: self.validate,
                        create_folder: true,
                    };
                    let planned = plan_tree(cx, &path, tree, &self.dest, attrs, directory_mode, put).await?;
                    return Ok(match planned {
                        Plan::Done(outcome) => Plan::Done(outcome),
                        Plan::Change(outcome, work) => Plan::Change(outcome, CopyWork::Tree(work)),
                    });
                }
                let bytes =
                    std::fs::read(&path).map_err(|e| Failure::new(format!("cannot read `{}`: {e}", path.display())))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                (bytes, name)
            }
            (None, Some(Json::String(text))) => (text.into_bytes(), None),
            (None, Some(other)) => (
                serde_json::to_string_pretty(&other).unwrap_or_default().into_bytes(),
                None,
            ),
            (Some(_), Some(_)) => {
                return Err(Failure::new("give either `src` or `content`, not both"));
            }
            (None, None) => return Err(Failure::new("give `src` or `content`")),
        };
        let mut dest = self.dest;
        if dest.ends_with('/') {
            match name {
                Some(name) => dest.push_str(&name),
                None => {
                    return Err(Failure::new(format!(
                        "`dest` {dest} is a directory; with `content` give a file name"
                    )));
                }
            }
        }
        let put = Put {
            force: self.force,
            validate: self.validate,
            create_folder: false,
        };
        Ok(match plan_put(cx, dest, content, attrs, put).await? {
            Plan::Done(outcome) => Plan::Done(outcome),
            Plan::Change(outcome, work) => Plan::Change(outcome, CopyWork::File(work)),
        })
    }

    async fn apply(work: CopyWork, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {
            CopyWork::File(work) => apply_put(work, cx).await?,
            CopyWork::Tree(work) => apply_tree(work, cx).await?,
        }
        Ok(planned)
    }
}

/// How [`plan_put`] writes.
#[derive(Debug, Clone, Default)]
pub struct Put {
    /// Replace an existing file whose content differs.
    pub force: bool,
    /// A command that checks the staged file (`%s`) before it replaces the old one.
    pub validate: Option<String>,
    /// Create `dest`'s folder when it is missing, as consul-template does.
    pub create_folder: bool,
}

/// The writing [`plan_put`] found needed.
#[derive(Debug)]
pub struct PutWork {
    dest: String,
    content: Vec<u8>,
    attrs: Attributes,
    /// The content differs (else only the attributes do).
    write: bool,
    put: Put,
}

/// Plans putting content at `dest`: nothing to do when it is already there with the same
/// attributes; shared with `template` and `ctmpl`.
pub async fn plan_put(
    cx: &StepContext<'_>,
    dest: String,
    content: Vec<u8>,
    attrs: Attributes,
    put: Put,
) -> Result<Plan<PutWork>, Failure> {
    let remote = cx.remote().await?;
    let state = files::stat(&remote, &dest).await?;
    plan_put_over(cx, dest, state, content, attrs, put).await
}

/// [`plan_put`] with `state`, what [`files::stat`] found at `dest`: for a module that looks at
/// `dest` while it makes the content.
pub async fn plan_put_over(
    cx: &StepContext<'_>,
    dest: String,
    state: FileState,
    content: Vec<u8>,
    attrs: Attributes,
    put: Put,
) -> Result<Plan<PutWork>, Failure> {
    let remote = cx.remote().await?;
    let mut dest = dest;
    let mut state = state;
    if state.kind == FileKind::Directory {
        return Err(Failure::new(format!("`dest` {dest} is a directory")));
    }
    if state.kind == FileKind::Link
        && let Some(target) = state.link_target.clone()
    {
        dest = target;
        state = files::stat(&remote, &dest).await?;
    }
    let checksum = hex(&Sha256::digest(&content));
    let write = state.sha256.as_deref() != Some(checksum.as_str()) && (put.force || !state.exists());
    let attrs_changed = !attrs.satisfied_by(&state);
    let mut outcome = Outcome::changed(write || attrs_changed)
        .with("dest", dest.as_str())
        // Ansible reports a copy's SHA-1; bgrun compares by SHA-256.
        .with("checksum", hex(&crate::compat::checksum::sha1(&content)))
        .with("size", content.len() as u64);
    if !write && !attrs_changed {
        return Ok(Plan::Done(outcome));
    }
    if write && cx.diff {
        let before = if state.exists() {
            files::read(&remote, &dest).await?.unwrap_or_default()
        } else {
            Vec::new()
        };
        outcome.diff = Some(Diff {
            path: dest.clone(),
            before: String::from_utf8_lossy(&before).into_owned(),
            after: String::from_utf8_lossy(&content).into_owned(),
        });
    }
    // The mode the file has, given explicitly, lets a rewrite create it with that mode (only
    // attributes to set: the mode is left alone, as before).
    let kept_mode = state.mode.filter(|_| write && state.kind == FileKind::File);
    let attrs = Attributes {
        mode: attrs.mode.or(kept_mode),
        ..attrs
    };
    let work = PutWork {
        dest,
        content,
        attrs,
        write,
        put,
    };
    Ok(Plan::Change(outcome, work))
}

/// Writes what [`plan_put`] found. With a validator, the new content is staged beside `dest` and
/// checked first; if the check fails the old file stays.
pub async fn apply_put(work: PutWork, cx: &StepContext<'_>) -> Result<(), Failure> {
    let PutWork {
        dest,
        content,
        attrs,
        write,
        put,
    } = work;
    let remote = cx.remote().await?;
    if !write {
        files::set_attributes(&remote, &dest, &attrs).await?;
    } else if put.validate.is_none() && !put.create_folder {
        files::write(&remote, &dest, &content, &attrs).await?;
    } else if put.validate.is_none() {
        files::write_creating_folder(&remote, &dest, &content, &attrs).await?;
    } else {
        let staged = files::stage(&remote, &dest, &content, &attrs).await?;
        if let Some(command) = &put.validate
            && let Err(error) = run_validator(cx, &remote, command, &staged, &dest).await
        {
            let _ = files::discard(&remote, &staged).await;
            return Err(error.into());
        }
        files::commit(&remote, &staged, &dest).await?;
    }
    Ok(())
}

/// The validator's argument vector with `%s` standing for the staged file.
pub fn validator_argv(command: &str, staged: &str) -> Result<Vec<String>, String> {
    if !command.contains("%s") {
        return Err(format!(
            "`validate` must contain %s, which stands for the file to check, as in `nginx -t -c %s`; got `{command}`"
        ));
    }
    let words = shlex::split(command).ok_or_else(|| format!("`validate` has unbalanced quotes: `{command}`"))?;
    if words.is_empty() {
        return Err("`validate` is empty".into());
    }
    Ok(words.into_iter().map(|w| w.replace("%s", staged)).collect())
}

/// Runs the validator on the staged file; an error says why the file was refused.
async fn run_validator(
    cx: &StepContext<'_>,
    remote: &Remote<'_>,
    command: &str,
    staged: &str,
    dest: &str,
) -> Result<(), HostError> {
    let argv = validator_argv(command, staged).map_err(HostError::Failed)?;
    (cx.progress)(format!("validating {dest}: {command}"));
    let mut exec = Exec::new(argv);
    exec.env = cx.environment.to_vec();
    let output = remote.exec(&exec).await?;
    if output.rc == 0 {
        return Ok(());
    }
    let said: Vec<String> = [output.stderr_text(), output.stdout_text()]
        .into_iter()
        .map(|t| t.trim().replace(staged, "%s"))
        .filter(|t| !t.is_empty())
        .collect();
    let said = if said.is_empty() {
        "(no output)".to_string()
    } else {
        said.join("\n")
    };
    Err(HostError::Failed(format!(
        "validation of the new `{dest}` failed, so the old file was left as it was: `{command}` exited with {}: {said}",
        output.rc
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validator_gets_the_staged_path() {
        assert_eq!(
            validator_argv("docker exec nginx nginx -t -c %s", "/d/.bgrun.x").unwrap(),
            ["docker", "exec", "nginx", "nginx", "-t", "-c", "/d/.bgrun.x"]
        );
        assert_eq!(
            validator_argv("sh -c 'grep -q server \"$0\"' %s", "/f").unwrap(),
            ["sh", "-c", "grep -q server \"$0\"", "/f"]
        );
        assert!(validator_argv("nginx -t", "/f").unwrap_err().contains("%s"));
        assert!(validator_argv("grep 'x %s", "/f").unwrap_err().contains("quotes"));
    }
}
