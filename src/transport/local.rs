//! Commands on the controller itself, for hosts with `ansible_connection: local`.

use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use super::{Exec, ExecOutput, TransportError};

pub struct LocalTransport;

impl LocalTransport {
    pub async fn exec(&self, exec: &Exec) -> Result<ExecOutput, TransportError> {
        let argv = exec.full_argv();
        let Some((program, args)) = argv.split_first() else {
            return Err(TransportError("empty command".into()));
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .stdin(if exec.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                // A missing program is the command's failure, as a shell reports it, not the host's.
                return Ok(ExecOutput {
                    rc: 127,
                    stdout: Vec::new(),
                    stderr: format!("{program}: {e}\n").into_bytes(),
                });
            }
        };
        let stdin = child.stdin.take();
        let input = exec.stdin.clone();
        let feed = async move {
            if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
                // The command may exit without reading its input; that is not an error.
                let _ = pipe.write_all(&bytes).await;
                let _ = pipe.shutdown().await;
            }
        };
        let (_, output) = tokio::join!(feed, child.wait_with_output());
        let output = output.map_err(|e| TransportError(format!("cannot run `{program}`: {e}")))?;
        Ok(ExecOutput {
            rc: exit_code(&output.status),
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }
}

/// The exit code, or 128 + the signal number, as a shell reports a killed command.
pub fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
