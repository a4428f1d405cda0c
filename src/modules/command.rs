//! `command` runs a program with its arguments and no shell; `shell` runs a script with `/bin/sh`,
//! for when the user asks for pipes and expansions.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::transport::Exec;
use crate::transport::files;

module_arguments! {
[command]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// The argument vector, as a list.
    #[serde(default)]
    argv: Option<Vec<String>>,
}
}

module_arguments! {
[command]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    /// The shell to run the script with.
    #[serde(default)]
    executable: Option<String>,
}
}

impl Module for Command {
    const FREE_FORM: Option<&'static str> = Some("cmd");

    type Work = Invocation;

    async fn plan(mut self, cx: &StepContext<'_>) -> Result<Plan<Invocation>, Failure> {
        let argv = match (self.argv.take(), &self.cmd) {
            (Some(argv), None) if !argv.is_empty() => argv,
            (None, Some(cmd)) => shlex::split(cmd).filter(|words| !words.is_empty()).ok_or_else(|| {
                Failure::new(format!(
                    "cannot split the command `{cmd}` into words (check its quotes)"
                ))
            })?,
            (Some(_), Some(_)) => {
                return Err(Failure::new("give either `cmd` or `argv`, not both"));
            }
            _ => return Err(Failure::new("no command given")),
        };
        let shown = self.cmd.clone().unwrap_or_default();
        self.invocation(argv, shown).plan(cx).await
    }

    async fn apply(work: Invocation, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        work.run(cx).await
    }
}

impl Module for Shell {
    const FREE_FORM: Option<&'static str> = Some("cmd");

    type Work = Invocation;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Invocation>, Failure> {
        let Some(cmd) = self.cmd.clone() else {
            return Err(Failure::new("no command given"));
        };
        let shell = self.executable.clone().unwrap_or_else(|| "/bin/sh".into());
        self.invocation(vec![shell, "-c".into(), cmd.clone()], cmd)
            .plan(cx)
            .await
    }

    async fn apply(work: Invocation, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        work.run(cx).await
    }
}

/// A command to run, with the conditions it runs under.
pub struct Invocation {
    argv: Vec<String>,
    shown: String,
    chdir: Option<String>,
    creates: Option<String>,
    removes: Option<String>,
    stdin: Option<String>,
    stdin_add_newline: bool,
    strip_empty_ends: bool,
}

impl Invocation {
    /// Nothing to do when `creates` exists or `removes` does not; otherwise the command would
    /// run, which check mode reports as skipped, as Ansible does.
    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Invocation>, Failure> {
        let remote = cx.remote().await?;
        if let Some(path) = &self.creates
            && files::stat(&remote, path).await?.exists()
        {
            return Ok(Plan::Done(
                Outcome::ok().msg(format!("skipped, since {path} exists")).with("rc", 0),
            ));
        }
        if let Some(path) = &self.removes
            && !files::stat(&remote, path).await?.exists()
        {
            let outcome = Outcome::ok().msg(format!("skipped, since {path} does not exist"));
            return Ok(Plan::Done(outcome.with("rc", 0)));
        }
        let planned = Outcome::skipped(format!("check mode: would run `{}`", self.display()));
        Ok(Plan::Change(planned, self))
    }

    async fn run(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        let mut exec = Exec::new(self.argv.clone());
        exec.env = cx.environment.to_vec();
        exec.chdir = self.chdir.clone();
        if let Some(mut input) = self.stdin.clone() {
            if self.stdin_add_newline {
                input.push('\n');
            }
            exec = exec.stdin(input.into_bytes());
        }
        let started = std::time::Instant::now();
        let output = remote.exec(&exec).await?;
        let mut stdout = output.stdout_text();
        let mut stderr = output.stderr_text();
        if self.strip_empty_ends {
            stdout.truncate(stdout.trim_end_matches(['\n', '\r']).len());
            stderr.truncate(stderr.trim_end_matches(['\n', '\r']).len());
        }
        let lines = |s: &str| Json::from(s.lines().map(Json::from).collect::<Vec<_>>());
        let mut outcome = Outcome::changed(true)
            .with(
                "cmd",
                Json::from(self.argv.iter().map(|a| Json::from(a.as_str())).collect::<Vec<_>>()),
            )
            .with("rc", output.rc)
            .with("stdout_lines", lines(&stdout))
            .with("stderr_lines", lines(&stderr))
            .with("stdout", stdout)
            .with("stderr", stderr)
            .with("delta", format!("{:.6}", started.elapsed().as_secs_f64()));
        if output.rc != 0 {
            outcome.msg = Some(format!("non-zero return code {}", output.rc));
            return Err(outcome.into());
        }
        Ok(outcome)
    }

    fn display(&self) -> String {
        if self.shown.is_empty() {
            self.argv.join(" ")
        } else {
            self.shown.clone()
        }
    }
}
