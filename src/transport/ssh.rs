//! SSH through the `openssh` crate: one master connection per host (`master.rs`: kept between
//! runs as Ansible's ControlPersist does), and every command of the run sent over its control
//! socket (native multiplexing: no `ssh` process per command). Host keys are checked against
//! known_hosts unless the inventory turns that off.

use std::path::PathBuf;

use openssh::{Session, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::RwLock;

use super::master::{self, Persist};
use super::{ConnectionSpec, Exec, ExecOutput, TransportError};

pub struct SshTransport {
    spec: ConnectionSpec,
    /// The master's control socket.
    path: PathBuf,
    /// Replaced when the master went away during the run (closed after its idle time).
    session: RwLock<Session>,
    /// Forwarded unix sockets (the host's path, the local end); the local ends are removed when
    /// the connection closes.
    forwarded: std::sync::Mutex<Vec<(std::path::PathBuf, std::path::PathBuf)>>,
}

impl SshTransport {
    pub async fn connect(spec: &ConnectionSpec) -> Result<Self, TransportError> {
        let path = master::control_path(&super::private_dir::private_dir()?, spec, spec.persist);
        let session = master::session(spec, &path, spec.persist).await?;
        Ok(SshTransport {
            spec: spec.clone(),
            path,
            session: RwLock::new(session),
            forwarded: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub async fn exec(&self, exec: &Exec) -> Result<ExecOutput, TransportError> {
        match self.try_exec(exec).await {
            Err(Retry::MasterGone(error)) => {
                // The command never started: open the master again and send it once more.
                self.reopen_if_gone(&error).await?;
                self.try_exec(exec).await.map_err(Retry::into_error)
            }
            other => other.map_err(Retry::into_error),
        }
    }

    /// Opens the master again when it went away (closed after its idle time while the run waited
    /// on something else, say), with the forwards the run had made, at the same local paths.
    pub async fn reopen_if_gone(&self, error: &TransportError) -> Result<(), TransportError> {
        let mut session = self.session.write().await;
        if session.check().await.is_ok() {
            return Ok(());
        }
        *session = master::session(&self.spec, &self.path, self.spec.persist)
            .await
            .map_err(|e| TransportError(format!("{error}; reconnecting: {}", e.0)))?;
        for (remote, local) in self.forwarded.lock().map(|f| f.clone()).unwrap_or_default() {
            let _ = std::fs::remove_file(&local);
            forward(&session, &remote, &local).await?;
        }
        Ok(())
    }

    async fn try_exec(&self, exec: &Exec) -> Result<ExecOutput, Retry> {
        let argv = exec.full_argv();
        let Some((program, args)) = argv.split_first() else {
            return Err(Retry::Failed(TransportError("empty command".into())));
        };
        let session = self.session.read().await;
        let mut command = session.command(program.as_str());
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
        let mut child = command
            .spawn()
            .await
            .map_err(|e| Retry::MasterGone(TransportError(reason(&e))))?;
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
            // The master reports a lost connection as a command killed: ask it which one it was.
            Err(openssh::Error::RemoteProcessTerminated) if session.check().await.is_err() => Err(Retry::Failed(
                TransportError("the connection was lost while the command ran; it may have run on".into()),
            )),
            Err(openssh::Error::RemoteProcessTerminated) => {
                let mut stderr = stderr;
                stderr.extend_from_slice(b"killed by a signal\n");
                Ok(ExecOutput {
                    rc: 143,
                    stdout,
                    stderr,
                })
            }
            Err(e) => Err(Retry::Failed(TransportError(reason(&e)))),
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
        forward(&*self.session.read().await, remote, &local).await?;
        if let Ok(mut forwarded) = self.forwarded.lock() {
            forwarded.push((remote.to_path_buf(), local.clone()));
        }
        Ok(local)
    }

    /// Ends the run's use of the host: its forwards are closed; the master too, unless it
    /// persists for the next run.
    pub async fn close(self) {
        let session = self.session.into_inner();
        for (remote, local) in self.forwarded.lock().map(|f| f.clone()).unwrap_or_default() {
            if self.spec.persist != Persist::No {
                let _ = session
                    .close_port_forward(
                        openssh::ForwardType::Local,
                        openssh::Socket::UnixSocket {
                            path: local.as_path().into(),
                        },
                        openssh::Socket::UnixSocket {
                            path: remote.as_path().into(),
                        },
                    )
                    .await;
            }
            let _ = std::fs::remove_file(local);
        }
        if self.spec.persist == Persist::No {
            let _ = session.close().await;
            let _ = std::fs::remove_file(self.path.with_extension("log"));
            let _ = std::fs::remove_file(self.path.with_extension("lock"));
        }
    }
}

/// How a command failed: before it started, because the master is gone (worth one retry after
/// reconnecting), or otherwise.
enum Retry {
    MasterGone(TransportError),
    Failed(TransportError),
}

impl Retry {
    fn into_error(self) -> TransportError {
        match self {
            Retry::MasterGone(e) | Retry::Failed(e) => e,
        }
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

/// Forwards the host's unix socket `remote` to the local socket `local` over the master.
async fn forward(session: &Session, remote: &std::path::Path, local: &std::path::Path) -> Result<(), TransportError> {
    session
        .request_port_forward(
            openssh::ForwardType::Local,
            openssh::Socket::UnixSocket { path: local.into() },
            openssh::Socket::UnixSocket { path: remote.into() },
        )
        .await
        .map_err(|e| {
            TransportError(format!(
                "cannot forward `{}` over SSH: {}",
                remote.display(),
                reason(&e)
            ))
        })
}
