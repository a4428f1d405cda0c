//! `script` copies a script of the playbook's (from `files/`) to a temporary folder of the host,
//! runs it through the host's shell with the words after its name (or with `executable`), and
//! removes it, as Ansible's does: `creates` and `removes` skip it, and check mode reports it
//! skipped unless one of them is given. The result is the command's, output unstripped.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Module, Outcome, Plan, StepContext, find_source};
use crate::compat::python::shlex_split;
use crate::transport::files::{self, Attributes};
use crate::transport::{Exec, HostError, Remote};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The script's name and its arguments, as a shell reads them.
    #[serde(default)]
    cmd: Option<String>,
    /// Nothing is run when this path exists on the host.
    #[serde(default)]
    creates: Option<String>,
    /// Nothing is run unless this path exists on the host.
    #[serde(default)]
    removes: Option<String>,
    /// The absolute folder of the host to run it in.
    #[serde(default)]
    chdir: Option<String>,
    /// The program that runs the script (`python3`), instead of its `#!` line.
    #[serde(default)]
    executable: Option<String>,
    /// Accepted: bgrun reads no vault files.
    #[serde(default)]
    #[allow(dead_code)]
    decrypt: Option<bool>,
}

/// The script to run: its content, its file name, and the command line naming it.
pub struct Run {
    content: Vec<u8>,
    name: String,
    /// The command line, with the script's name where Ansible puts the copy's path.
    command: String,
    first_word: String,
    executable: Option<String>,
    chdir: Option<String>,
}

/// A temporary folder of the host for the script; prints its path.
pub(crate) const MAKE_FOLDER: &str = r#"exec mktemp -d "${TMPDIR:-/tmp}/bgrun-script.XXXXXX""#;

impl Module for Script {
    const FREE_FORM: Option<&'static str> = Some("cmd");

    type Work = Run;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Run>, Failure> {
        let remote = cx.remote().await?;
        if let Some(path) = &self.creates
            && files::stat(&remote, path).await?.exists()
        {
            return Ok(Plan::Done(Outcome::skipped(format!(
                "{path} exists, matching creates option"
            ))));
        }
        if let Some(path) = &self.removes
            && !files::stat(&remote, path).await?.exists()
        {
            return Ok(Plan::Done(Outcome::skipped(format!(
                "{path} does not exist, matching removes option"
            ))));
        }
        if let Some(dir) = &self.chdir
            && !dir.starts_with('/')
        {
            return Err(Failure::new(format!(
                "chdir {dir} must be an absolute path for a Unix-aware remote node"
            )));
        }
        let raw = self.cmd.as_deref().unwrap_or_default().trim().to_string();
        let words = shlex_split(&raw).map_err(|e| Failure::new(format!("{}: {raw}", e.python_message())))?;
        let Some(first_word) = words.first().cloned() else {
            return Err(Failure::new(
                "no script given: name it after `script:`, with its arguments",
            ));
        };
        let source = find_source(cx, "files", &first_word)?;
        let content =
            std::fs::read(&source).map_err(|e| Failure::new(format!("cannot read `{}`: {e}", source.display())))?;
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script".into());
        let planned = if self.creates.is_some() || self.removes.is_some() {
            Outcome::changed(true)
        } else {
            Outcome::skipped("Check mode is not supported for this task.")
        };
        let run = Run {
            content,
            name,
            command: raw,
            first_word,
            executable: self.executable,
            chdir: self.chdir,
        };
        Ok(Plan::Change(planned, run))
    }

    async fn apply(run: Run, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        let folder = remote.exec(&Exec::new(["/bin/sh", "-c", MAKE_FOLDER])).await?;
        let folder_path = folder.stdout_text().trim().to_string();
        if folder.rc != 0 || folder_path.is_empty() {
            return Err(Failure::new(format!(
                "cannot make a temporary folder for the script: {}",
                folder.stderr_text().trim()
            )));
        }
        let result = run.run_in(cx, &remote, &folder_path).await;
        let removed = remote.exec(&Exec::new(["rm", "-rf", "--", folder_path.as_str()])).await;
        let outcome = result?;
        removed?;
        if outcome.data.get("rc").and_then(Json::as_i64) != Some(0) {
            return Err(Failure::from(outcome.msg("non-zero return code")));
        }
        Ok(outcome)
    }
}

impl Run {
    async fn run_in(&self, cx: &StepContext<'_>, remote: &Remote<'_>, folder: &str) -> Result<Outcome, HostError> {
        let copy = format!("{folder}/{}", self.name);
        let attrs = Attributes {
            mode: Some(0o700),
            ..Attributes::default()
        };
        files::write(remote, &copy, &self.content, &attrs).await?;
        // As Ansible builds it: every occurrence of the first word becomes the copy's path.
        let target = self.command.replace(&self.first_word, &copy);
        let line = match &self.executable {
            Some(executable) => format!("{executable} {target}"),
            None => target,
        };
        let mut exec = Exec::new(["/bin/sh", "-c", line.as_str()]);
        exec.env = cx.environment.to_vec();
        exec.chdir = self.chdir.clone();
        let output = remote.exec(&exec).await?;
        let lines = |s: &str| Json::from(s.lines().map(Json::from).collect::<Vec<_>>());
        let stdout = output.stdout_text();
        let stderr = output.stderr_text();
        Ok(Outcome::changed(true)
            .with("rc", output.rc)
            .with("stdout_lines", lines(&stdout))
            .with("stderr_lines", lines(&stderr))
            .with("stdout", stdout)
            .with("stderr", stderr))
    }
}
