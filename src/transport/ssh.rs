//! SSH through the `openssh` crate: one master connection per host, and every command of the run
//! sent over its control socket (native multiplexing: no `ssh` process per command). Host keys
//! are checked against known_hosts unless the inventory turns that off.

use openssh::{KnownHosts, Session, SessionBuilder, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{ConnectionSpec, Exec, ExecOutput, TransportError};

pub struct SshTransport {
    session: Session,
    /// Forwarded unix sockets (the host's path, the local end); the local ends are removed when
    /// the connection closes.
    forwarded: std::sync::Mutex<Vec<(std::path::PathBuf, std::path::PathBuf)>>,
}

impl SshTransport {
    pub async fn connect(spec: &ConnectionSpec) -> Result<Self, TransportError> {
        let mut builder = SessionBuilder::default();
        builder
            .connect_timeout(spec.timeout)
            .control_directory(super::private_dir::private_dir()?);
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
        Ok(SshTransport {
            session,
            forwarded: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub async fn exec(&self, exec: &Exec) -> Result<ExecOutput, TransportError> {
        let argv = exec.full_argv();
        let Some((program, args)) = argv.split_first() else {
            return Err(TransportError("empty command".into()));
        };
        let mut command = self.session.command(program.as_str());
        let stdin = if exec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        command
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().await.map_err(|e| TransportError(reason(&e)))?;
        let stdin = child.stdin().take();
        let stdout = child.stdout().take();
        let stderr = child.stderr().take();
        let input = exec.stdin.clone();
        let feed = async move {
            if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
                // The command may exit without reading its input; that is not an error.
                let _ = pipe.write_all(&bytes).await;
                let _ = pipe.shutdown().await;
            }
        };
        let (_, stdout, stderr) = tokio::join!(feed, read_all(stdout), read_all(stderr));
        match child.wait().await {
            Ok(status) => Ok(ExecOutput {
                rc: super::local::exit_code(&status),
                stdout,
                stderr,
            }),
            // openssh reports exit code 127 as an error; it is the command's "not found".
            Err(openssh::Error::Remote(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(ExecOutput {
                rc: 127,
                stdout,
                stderr,
            }),
            Err(openssh::Error::RemoteProcessTerminated) => {
                let mut stderr = stderr;
                stderr.extend_from_slice(b"killed by a signal\n");
                Ok(ExecOutput {
                    rc: 143,
                    stdout,
                    stderr,
                })
            }
            Err(e) => Err(TransportError(reason(&e))),
        }
    }

    /// Forwards a unix socket of the host (such as /var/run/docker.sock) to a local socket over
    /// the same master connection, once per socket; returns the local socket's path.
    pub async fn forward_socket(&self, remote: &std::path::Path) -> Result<std::path::PathBuf, TransportError> {
        let existing = self
            .forwarded
            .lock()
            .ok()
            .and_then(|f| f.iter().find(|(r, _)| r == remote).map(|(_, l)| l.clone()));
        if let Some(local) = existing {
            return Ok(local);
        }
        let count = self.forwarded.lock().map(|f| f.len()).unwrap_or(0);
        let local = super::private_dir::private_dir()?.join(format!(
            "fwd-{}-{:x}-{count}.sock",
            std::process::id(),
            self as *const Self as usize
        ));
        let _ = std::fs::remove_file(&local);
        self.session
            .request_port_forward(
                openssh::ForwardType::Local,
                openssh::Socket::UnixSocket {
                    path: local.as_path().into(),
                },
                openssh::Socket::UnixSocket { path: remote.into() },
            )
            .await
            .map_err(|e| {
                TransportError(format!(
                    "cannot forward `{}` over SSH: {}",
                    remote.display(),
                    reason(&e)
                ))
            })?;
        if let Ok(mut forwarded) = self.forwarded.lock() {
            forwarded.push((remote.to_path_buf(), local.clone()));
        }
        Ok(local)
    }

    pub async fn close(self) {
        for (_, path) in self.forwarded.lock().map(|f| f.clone()).unwrap_or_default() {
            let _ = std::fs::remove_file(path);
        }
        let _ = self.session.close().await;
    }
}

/// Everything a pipe gives until it closes.
async fn read_all<R: tokio::io::AsyncRead + Unpin>(pipe: Option<R>) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes).await;
    }
    bytes
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
