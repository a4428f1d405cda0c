//! Programs run inside a running container through the Engine API's exec, as `docker exec` runs
//! them: an argument vector, no shell, its output and exit code read back.

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::error_text;
use crate::transport::HostError;

/// What runs, where and how.
#[derive(Debug, Default)]
pub struct ExecRequest<'a> {
    pub container: &'a str,
    pub argv: &'a [String],
    pub chdir: Option<&'a str>,
    pub user: Option<&'a str>,
    /// `NAME=value` words.
    pub env: Vec<String>,
    /// Written to the program's standard input, which is then closed.
    pub stdin: Option<&'a str>,
    /// Started and left running; nothing is read back.
    pub detach: bool,
}

/// What a program run to its end left.
#[derive(Debug, PartialEq, Eq)]
pub enum ExecResult {
    Finished {
        rc: i64,
        stdout: String,
        stderr: String,
    },
    /// A detached program, by the exec's id.
    Detached {
        id: String,
    },
}

/// Runs `request` in its container.
pub async fn exec(docker: &Docker, request: &ExecRequest<'_>) -> Result<ExecResult, HostError> {
    let container = request.container;
    let failed = |e: bollard::errors::Error| {
        HostError::Failed(format!(
            "cannot run a command in container `{container}`: {}",
            error_text(&e)
        ))
    };
    let options = CreateExecOptions {
        cmd: Some(request.argv.to_vec()),
        working_dir: request.chdir.map(str::to_string),
        user: request.user.map(str::to_string),
        env: (!request.env.is_empty()).then(|| request.env.clone()),
        attach_stdin: Some(request.stdin.is_some()),
        attach_stdout: Some(!request.detach),
        attach_stderr: Some(!request.detach),
        tty: Some(false),
        ..Default::default()
    };
    let created = docker.create_exec(container, options).await.map_err(failed)?;
    let start = StartExecOptions {
        detach: request.detach,
        ..Default::default()
    };
    let (mut output, mut input) = match docker.start_exec(&created.id, Some(start)).await.map_err(failed)? {
        StartExecResults::Detached => return Ok(ExecResult::Detached { id: created.id }),
        StartExecResults::Attached { output, input } => (output, input),
    };
    if let Some(stdin) = request.stdin {
        input
            .write_all(stdin.as_bytes())
            .await
            .map_err(|e| HostError::Failed(format!("cannot write to a command in container `{container}`: {e}")))?;
    }
    let _ = input.shutdown().await;
    drop(input);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    while let Some(chunk) = output.next().await {
        match chunk.map_err(failed)? {
            LogOutput::StdOut { message } | LogOutput::Console { message } => stdout.extend_from_slice(&message),
            LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
            LogOutput::StdIn { .. } => {}
        }
    }
    let inspected = docker.inspect_exec(&created.id).await.map_err(failed)?;
    Ok(ExecResult::Finished {
        rc: inspected.exit_code.unwrap_or(0),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}
