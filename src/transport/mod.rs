//! How bgrun runs commands on a host: over one multiplexed SSH connection, or on the controller
//! itself for `ansible_connection: local`. Modules see only [`Transport`] and never know which.

#[cfg(test)]
pub mod fake;
pub mod files;
pub mod local;
mod master;
mod private_dir;
pub mod ssh;

pub use master::{DEFAULT_IDLE, Persist};

use std::time::Duration;

/// A command to run on a host: an argument vector, never interpreted by a shell of bgrun's
/// choosing.
#[derive(Debug, Clone, Default)]
pub struct Exec {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub chdir: Option<String>,
    pub stdin: Option<Vec<u8>>,
}

impl Exec {
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Exec {
            argv: argv.into_iter().map(Into::into).collect(),
            ..Exec::default()
        }
    }

    /// Runs a fixed internal script with `sh -c`; `args` reach it as `$1`, `$2`, ... and are never
    /// parsed as shell text.
    pub fn script(script: &str, args: &[&str]) -> Self {
        let mut argv = vec![
            "/bin/sh".to_string(),
            "-c".to_string(),
            script.to_string(),
            "sh".to_string(),
        ];
        argv.extend(args.iter().map(|a| a.to_string()));
        Exec {
            argv,
            ..Exec::default()
        }
    }

    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }

    /// The argument vector with the environment and working directory applied through `env`
    /// and `sh`'s `cd`, the portable way to do both on any POSIX host.
    fn full_argv(&self) -> Vec<String> {
        let mut argv = Vec::new();
        if !self.env.is_empty() {
            argv.push("env".to_string());
            argv.extend(self.env.iter().map(|(k, v)| format!("{k}={v}")));
        }
        if let Some(dir) = &self.chdir {
            argv.extend(["/bin/sh", "-c", "cd -- \"$0\" && exec \"$@\"", dir].map(String::from));
        }
        argv.extend(self.argv.iter().cloned());
        argv
    }
}

/// What a command left behind.
#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub rc: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The host could not be reached or the connection broke: the host is unreachable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// Why a step could not be done on a host.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    /// The connection is gone: the host is unreachable for the rest of the run.
    #[error("{0}")]
    Unreachable(String),
    /// The host answered, but the work failed.
    #[error("{0}")]
    Failed(String),
}

impl From<TransportError> for HostError {
    fn from(error: TransportError) -> Self {
        HostError::Unreachable(error.0)
    }
}

/// How to reach a host, from its connection variables.
#[derive(Debug, Clone)]
pub struct ConnectionSpec {
    pub host: String,
    pub address: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub private_key: Option<String>,
    pub known_hosts_file: Option<String>,
    pub host_key_checking: bool,
    pub local: bool,
    pub timeout: Duration,
    /// Whether the SSH master outlives the run (`ControlPersist`).
    pub persist: Persist,
}

/// Running commands as another user, as Ansible's `become` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Become {
    pub user: String,
    pub method: BecomeMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BecomeMethod {
    Sudo,
    Su,
}

/// Sees each remote command, as the host's shell gets it, before it is sent (`-vvv`).
pub type Trace<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// A host as a step sees it: its connection, the user its commands run as, and who traces them.
#[derive(Clone, Copy)]
pub struct Remote<'a> {
    pub transport: &'a Transport,
    pub privilege: Option<&'a Become>,
    pub trace: Option<Trace<'a>>,
}

impl Remote<'_> {
    /// Runs a command, as the `become` user when there is one.
    pub async fn exec(&self, exec: &Exec) -> Result<ExecOutput, TransportError> {
        let shown = |exec: &Exec| {
            if let Some(trace) = self.trace {
                trace(&shell_words(&exec.full_argv()));
            }
        };
        match self.privilege {
            None => {
                shown(exec);
                self.transport.exec(exec).await
            }
            Some(privilege) => {
                let inner = exec.full_argv();
                let argv = match privilege.method {
                    BecomeMethod::Sudo => {
                        let mut argv: Vec<String> = ["sudo", "-H", "-n", "-u", &privilege.user, "--"]
                            .map(String::from)
                            .to_vec();
                        argv.extend(inner);
                        argv
                    }
                    BecomeMethod::Su => {
                        let command = shell_words(&inner);
                        ["su", "-s", "/bin/sh", "-c", &command, &privilege.user]
                            .map(String::from)
                            .to_vec()
                    }
                };
                let wrapped = Exec {
                    argv,
                    env: Vec::new(),
                    chdir: None,
                    stdin: exec.stdin.clone(),
                };
                shown(&wrapped);
                self.transport.exec(&wrapped).await
            }
        }
    }
}

/// A command line for a POSIX shell, each word quoted where it needs it.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| crate::compat::python::shlex_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An open connection to one host.
pub enum Transport {
    Ssh(Box<ssh::SshTransport>),
    Local(local::LocalTransport),
    /// An in-memory host that records what it is asked, for unit tests.
    #[cfg(test)]
    Fake(fake::FakeTransport),
}

impl Transport {
    pub async fn connect(spec: &ConnectionSpec) -> Result<Transport, TransportError> {
        if spec.local {
            return Ok(Transport::Local(local::LocalTransport));
        }
        ssh::SshTransport::connect(spec)
            .await
            .map(|ssh| Transport::Ssh(Box::new(ssh)))
    }

    pub async fn exec(&self, exec: &Exec) -> Result<ExecOutput, TransportError> {
        match self {
            Transport::Ssh(ssh) => ssh.exec(exec).await,
            Transport::Local(local) => local.exec(exec).await,
            #[cfg(test)]
            Transport::Fake(fake) => fake.exec(exec).await,
        }
    }

    /// Opens the SSH master again, with its forwards at the same local paths, when it closed
    /// after its idle time while the run waited on something else.
    pub async fn revive(&self) -> Result<(), TransportError> {
        match self {
            Transport::Ssh(ssh) => {
                ssh.reopen_if_gone(&TransportError("the SSH master went away".into()))
                    .await
            }
            Transport::Local(_) => Ok(()),
            #[cfg(test)]
            Transport::Fake(_) => Ok(()),
        }
    }

    /// A local path that reaches the host's unix socket `remote`: forwarded over SSH, or the
    /// socket itself for the local connection.
    pub async fn socket(&self, remote: &std::path::Path) -> Result<std::path::PathBuf, TransportError> {
        match self {
            Transport::Ssh(ssh) => ssh.forward_socket(remote).await,
            Transport::Local(_) => Ok(remote.to_path_buf()),
            #[cfg(test)]
            Transport::Fake(_) => panic!("the fake transport has no sockets (asked for {})", remote.display()),
        }
    }

    /// Closes the connection; the SSH master exits unless it persists for the next run.
    pub async fn close(self) {
        if let Transport::Ssh(ssh) = self {
            (*ssh).close().await;
        }
    }
}
