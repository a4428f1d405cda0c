//! `pip` installs, upgrades or removes Python packages on the host with `pip` (`python3 -m pip`
//! unless `executable` names another), checking what is installed first so a second run changes
//! nothing.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::transport::Exec;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pip {
    /// One name, a comma-separated list, or a list.
    name: Json,
    /// `present` (default), `latest` or `absent`.
    #[serde(default = "present")]
    state: String,
    /// A version for a single package (`==VERSION`).
    #[serde(default)]
    version: Option<String>,
    /// The pip to run, e.g. `pip3`; default `python3 -m pip`.
    #[serde(default)]
    executable: Option<String>,
    #[serde(default)]
    extra_args: Option<String>,
}

fn present() -> String {
    "present".into()
}

impl Pip {
    fn pip(&self) -> Vec<String> {
        match &self.executable {
            Some(exe) => vec![exe.clone()],
            None => vec!["python3".into(), "-m".into(), "pip".into()],
        }
    }

    fn names(&self) -> Vec<String> {
        match &self.name {
            Json::Array(items) => items.iter().map(crate::yaml::scalar_text).collect(),
            other => crate::yaml::scalar_text(other)
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
}

/// The packages `pip` installs, upgrades or removes.
#[derive(Debug)]
pub struct Work {
    pip: Pip,
    todo: Vec<String>,
    /// Whether `version` pins the one package named.
    pinned: bool,
}

impl Module for Pip {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let names = self.names();
        if names.is_empty() {
            return Err(Failure::new("`name` names no package"));
        }
        let remote = cx.remote().await?;
        let mut todo = Vec::new();
        for name in &names {
            let mut show = Exec::new(self.pip());
            show.argv.extend(["show".to_string(), name.clone()]);
            let installed = remote.exec(&show).await?;
            let version = installed
                .stdout_text()
                .lines()
                .find_map(|l| l.strip_prefix("Version: ").map(str::trim).map(String::from));
            let wanted = match (self.state.as_str(), &version, &self.version) {
                ("absent", Some(_), _) => true,
                ("absent", None, _) => false,
                ("latest", _, _) => true,
                ("present", None, _) => true,
                ("present", Some(have), Some(want)) => have != want,
                ("present", Some(_), None) => false,
                (other, _, _) => {
                    return Err(Failure::new(format!(
                        "`state: {other}` is not supported; bgrun has present, latest and absent"
                    )));
                }
            };
            if wanted {
                todo.push(name.clone());
            }
        }
        // Whether `latest` changes anything only pip's run tells.
        let planned = Outcome::changed(!todo.is_empty() && self.state != "latest")
            .with("name", names.clone())
            .with("state", self.state.as_str());
        if todo.is_empty() {
            return Ok(Plan::Done(planned));
        }
        let work = Work {
            pinned: names.len() == 1,
            pip: self,
            todo,
        };
        Ok(Plan::Change(planned, work))
    }

    async fn apply(work: Work, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let Work { pip, todo, pinned } = work;
        let remote = cx.remote().await?;
        let mut exec = Exec::new(pip.pip());
        match pip.state.as_str() {
            "absent" => exec.argv.extend(["uninstall".to_string(), "-y".to_string()]),
            "latest" => exec.argv.extend(["install".to_string(), "--upgrade".to_string()]),
            _ => exec.argv.push("install".to_string()),
        }
        if let Some(extra) = &pip.extra_args {
            exec.argv.extend(shlex::split(extra).unwrap_or_default());
        }
        for name in &todo {
            exec.argv.push(match (&pip.version, pinned) {
                (Some(version), true) => format!("{name}=={version}"),
                _ => name.clone(),
            });
        }
        let output = remote.exec(&exec).await?;
        let stdout = output.stdout_text();
        if output.rc != 0 {
            return Err(Failure::new(format!("pip failed: {}", output.stderr_text().trim()))
                .with("rc", output.rc)
                .with("stdout", stdout));
        }
        // `latest` changed the host only when pip installed something new.
        let changed = pip.state != "latest" || stdout.contains("Successfully installed");
        Ok(Outcome::changed(changed)
            .with("name", todo)
            .with("state", pip.state.as_str())
            .with("stdout", stdout))
    }
}
