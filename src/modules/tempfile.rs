//! `tempfile` creates a file (mode 0600) or a folder (0700) with a fresh name on the host, in
//! `path` or its temporary folder (`$TMPDIR`, else `/tmp`), named `prefix`, eight random
//! characters and `suffix`, and registers its `path` with Ansible's path facts. As Ansible's,
//! it does not run in check mode: it is reported skipped.

use serde::Deserialize;

use super::path_info::path_info;
use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::transport::Exec;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tempfile {
    #[serde(default)]
    state: TempState,
    /// The folder to create it in.
    #[serde(default)]
    path: Option<String>,
    #[serde(default = "default_prefix")]
    prefix: String,
    #[serde(default)]
    suffix: String,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum TempState {
    #[default]
    File,
    Directory,
}

fn default_prefix() -> String {
    "ansible.".into()
}

/// `mktemp` with `$1` the folder option (`-d` or nothing), `$2` the folder, `$3` the prefix and
/// `$4` the suffix; prints the new path.
pub(crate) const MAKE_TEMP: &str = r#"exec mktemp $1 -p "${2:-${TMPDIR:-/tmp}}" --suffix="$4" -- "$3XXXXXXXX""#;

impl Module for Tempfile {
    type Work = Self;

    async fn plan(self, _: &StepContext<'_>) -> Result<Plan<Self>, Failure> {
        Ok(Plan::Change(
            Outcome::skipped("remote module (tempfile) does not support check mode"),
            self,
        ))
    }

    async fn apply(work: Self, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        let folder = if work.state == TempState::Directory { "-d" } else { "" };
        let dir = work.path.as_deref().unwrap_or("");
        let exec = Exec::script(MAKE_TEMP, &[folder, dir, &work.prefix, &work.suffix]);
        let output = remote.exec(&exec).await?;
        let path = output.stdout_text().trim().to_string();
        if output.rc != 0 || path.is_empty() {
            return Err(Failure::new(output.stderr_text().trim().to_string()));
        }
        let mut outcome = Outcome::changed(true);
        outcome.data = path_info(&remote, &path).await?;
        Ok(outcome.with("path", path))
    }
}
