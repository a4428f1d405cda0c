//! SSH through the `openssh` crate: one master connection per host, and every command of the run
//! sent over its control socket (native multiplexing: no `ssh` process per command). Host keys
//! are checked against known_hosts unless the inventory turns that off.

use openssh::{KnownHosts, Session, SessionBuilder, Stdio};
use tokio::io::AsyncWriteExt;

use super::{ConnectionSpec, Exec, ExecOutput, TransportError};

pub struct SshTransport {
    session: Session,
}

impl SshTransport {
    pub async fn connect(spec: &ConnectionSpec) -> Result<Self, TransportError> {
        let mut builder = SessionBuilder::default();
        builder
            .connect_timeout(spec.timeout)
            .control_directory(std::env::temp_dir());
        builder.known_hosts_check(if spec.host_key_checking {
            KnownHosts::Strict
        } else {
            KnownHosts::Accept
        });
        if !spec.host_key_checking {
            builder.user_known_hosts_file("/dev/null");
        } else if let Some(file) = &spec.known_hosts_file {
            builder.user_known_hosts_file(file);
        }
        if let Some(user) = &spec.user {
            builder.user(user.clone());
        }
        if let Some(port) = spec.port {
            builder.port(port);
        }
        if let Some(key) = &spec.private_key {
            builder.keyfile(key);
        }
        let session = builder
            .connect_mux(&spec.address)
            .await
            .map_err(|e| TransportError(reason(&e)))?;
        Ok(SshTransport { session })
    }

    pub async fn exec(&self, exec: &Exec) -> Result<ExecOutput, TransportError> {
        let argv = exec.full_argv();
        let Some((program, args)) = argv.split_first() else {
            return Err(TransportError("empty command".into()));
        };
        let mut command = self.session.command(program.as_str());
        command
            .args(args)
            .stdin(if exec.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .await
            .map_err(|e| TransportError(reason(&e)))?;
        let stdin = child.stdin().take();
        let input = exec.stdin.clone();
        let feed = async move {
            if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
                let _ = pipe.write_all(&bytes).await;
                let _ = pipe.shutdown().await;
            }
        };
        let (_, output) = tokio::join!(feed, child.wait_with_output());
        match output {
            Ok(output) => Ok(ExecOutput {
                rc: super::local::exit_code(&output.status),
                stdout: output.stdout,
                stderr: output.stderr,
            }),
            Err(openssh::Error::RemoteProcessTerminated) => Ok(ExecOutput {
                rc: 143,
                stdout: Vec::new(),
                stderr: b"killed by a signal\n".to_vec(),
            }),
            Err(e) => Err(TransportError(reason(&e))),
        }
    }

    pub async fn close(self) {
        let _ = self.session.close().await;
    }
}

/// ssh's own words for what went wrong, with the error's causes.
fn reason(error: &openssh::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(cause_text.trim());
        }
        source = cause.source();
    }
    text
}
