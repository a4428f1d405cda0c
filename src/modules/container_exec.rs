//! `container_exec` runs a program inside a running container through the Engine API, as
//! community.docker's `docker_container_exec` does: no shell, `rc`, `stdout` and `stderr` read
//! back, and a non-zero `rc` reported rather than failed (`failed_when` decides).

use serde::Deserialize;

use super::{Failure, Module, Outcome, Plan, StepContext, text_lines};
use crate::compat::python::shlex_split;
use crate::docker::exec::{ExecRequest, ExecResult, exec};
use crate::template::Vars;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerExec {
    container: String,
    /// The argument vector, as a list.
    #[serde(default)]
    argv: Option<Vec<String>>,
    /// A command line, split into words as `shlex.split` does.
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    chdir: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    env: Vars,
    #[serde(default)]
    stdin: Option<String>,
    #[serde(default = "yes")]
    stdin_add_newline: bool,
    #[serde(default = "yes")]
    strip_empty_ends: bool,
    #[serde(default)]
    detach: bool,
}

fn yes() -> bool {
    true
}

/// The program to run and how, once the arguments are checked.
pub struct Run {
    args: ContainerExec,
    argv: Vec<String>,
}

impl Module for ContainerExec {
    type Work = Run;

    async fn plan(mut self, _: &StepContext<'_>) -> Result<Plan<Run>, Failure> {
        let argv = match (self.argv.take(), self.command.take()) {
            (Some(argv), None) if !argv.is_empty() => argv,
            (None, Some(command)) => shlex_split(&command)
                .ok()
                .filter(|words| !words.is_empty())
                .ok_or_else(|| {
                    Failure::new(format!(
                        "cannot split the command `{command}` into words (check its quotes)"
                    ))
                })?,
            (Some(_), Some(_)) => return Err(Failure::new("parameters are mutually exclusive: argv|command")),
            _ => return Err(Failure::new("one of the following is required: argv, command")),
        };
        if self.detach && self.stdin.is_some() {
            return Err(Failure::new("If detach=true, stdin cannot be provided."));
        }
        for (name, value) in &self.env {
            if !value.is_string() {
                return Err(Failure::new(format!(
                    "Non-string value found for env option. Ambiguous env options must be wrapped in quotes to avoid them being interpreted. Key: {name}"
                )));
            }
        }
        let planned = Outcome::skipped("remote module (docker_container_exec) does not support check mode");
        Ok(Plan::Change(planned, Run { args: self, argv }))
    }

    async fn apply(work: Run, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let Run { args, argv } = work;
        let stdin = args
            .stdin
            .map(|text| if args.stdin_add_newline { text + "\n" } else { text });
        let request = ExecRequest {
            container: &args.container,
            argv: &argv,
            chdir: args.chdir.as_deref(),
            user: args.user.as_deref(),
            env: args
                .env
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect(),
            stdin: stdin.as_deref(),
            detach: args.detach,
        };
        match exec(cx.docker().await?, &request).await? {
            ExecResult::Detached { id } => Ok(Outcome::changed(true).with("exec_id", id)),
            ExecResult::Finished {
                rc,
                mut stdout,
                mut stderr,
            } => {
                if args.strip_empty_ends {
                    stdout.truncate(stdout.trim_end_matches(['\n', '\r']).len());
                    stderr.truncate(stderr.trim_end_matches(['\n', '\r']).len());
                }
                Ok(Outcome::changed(true)
                    .with("rc", rc)
                    .with("stdout_lines", text_lines(&stdout))
                    .with("stderr_lines", text_lines(&stderr))
                    .with("stdout", stdout)
                    .with("stderr", stderr))
            }
        }
    }
}
