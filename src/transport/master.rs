//! The SSH master connection of a host, as Ansible's ControlPersist keeps it: one master per
//! (user, host, port, host key and identity settings) with a stable control socket in bgrun's private folder, reused by the next
//! run and closed by ssh itself after an idle time, so nothing outlives it, even a run killed
//! with SIGKILL. A master that is gone or stale is replaced without an error. With
//! `--no-persist` the master is the run's own and is closed when the run ends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use openssh::Session;
use sha2::{Digest, Sha256};

use super::{ConnectionSpec, TransportError};

/// How long a master stays after its last command unless the user says otherwise, as Ansible's
/// default `ssh_args` (`-o ControlPersist=60s`).
pub const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// Whether masters outlive the run, and for how long after their last use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// Kept for this long after the last command (`ControlPersist=60s`); zero: until told to
    /// exit (`ControlPersist=yes`).
    Idle(Duration),
    /// The run's own master, closed at its end (`--no-persist`, `ControlPersist=no`).
    No,
}

impl Persist {
    /// Reads ssh's `ControlPersist` value: `yes`, `no`, seconds, or a time such as `60s`, `10m`.
    pub fn parse(value: &str) -> Option<Persist> {
        let value = value.trim().to_ascii_lowercase();
        match value.as_str() {
            "yes" | "true" => return Some(Persist::Idle(Duration::ZERO)),
            "no" | "false" => return Some(Persist::No),
            _ => {}
        }
        let (number, unit) = value.split_at(value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len()));
        let number: u64 = number.parse().ok()?;
        let seconds = match unit {
            "" | "s" => number,
            "m" => number * 60,
            "h" => number * 3600,
            _ => return None,
        };
        Some(match seconds {
            0 => Persist::No,
            s => Persist::Idle(Duration::from_secs(s)),
        })
    }
}

/// The control socket of `spec`'s master: stable across runs when masters persist (named after
/// the user, address and port, and the host key and identity settings), the run's own otherwise.
pub fn control_path(dir: &Path, spec: &ConnectionSpec, persist: Persist) -> PathBuf {
    // The host key and identity settings are part of the name: a master opened with other
    // known_hosts, checking or key is never reused (it would skip the host key check).
    let who = format!(
        "{}@{}:{} known_hosts={:?} checking={} key={:?}",
        spec.user.as_deref().unwrap_or(""),
        spec.address,
        spec.port.unwrap_or(22),
        spec.known_hosts_file,
        spec.host_key_checking,
        spec.private_key,
    );
    let key = &crate::compat::checksum::hex(&Sha256::digest(who.as_bytes()))[..16];
    match persist {
        Persist::Idle(_) => dir.join(format!("cp-{key}")),
        Persist::No => dir.join(format!("run-{}-{key}", std::process::id())),
    }
}

/// A session on the master at `path`: the one already there when it answers, else a new one.
/// Two runs starting at once take turns (a lock file beside the socket), so one master serves
/// both.
pub async fn session(spec: &ConnectionSpec, path: &Path, persist: Persist) -> Result<Session, TransportError> {
    if let Some(session) = live(path).await {
        return Ok(session);
    }
    let lock_path = path.with_extension("lock");
    let lock = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(|e| TransportError(format!("cannot wait for the SSH master's lock: {e}")))?
    .map_err(|e| TransportError(format!("cannot lock `{}`: {e}", path.display())))?;
    let result = match live(path).await {
        Some(session) => Ok(session),
        None => launch(spec, path, persist).await,
    };
    drop(lock);
    result
}

/// The master at `path`, when it is there and answers; a stale socket is removed.
async fn live(path: &Path) -> Option<Session> {
    if !path.exists() {
        return None;
    }
    let session = Session::resume_mux(path.into(), None);
    if session.check().await.is_ok() {
        return Some(session);
    }
    let _ = std::fs::remove_file(path);
    None
}

/// Starts a master in the background (`ssh -M -N -f`), logging to a file beside its socket, and
/// attaches to it.
async fn launch(spec: &ConnectionSpec, path: &Path, persist: Persist) -> Result<Session, TransportError> {
    let log = path.with_extension("log");
    let _ = std::fs::remove_file(&log);
    let idle = match persist {
        Persist::Idle(Duration::ZERO) => "yes".to_string(),
        Persist::Idle(idle) => format!("{}s", idle.as_secs()),
        // The run closes its master; this only bounds a killed run's.
        Persist::No => format!("{}s", DEFAULT_IDLE.as_secs()),
    };
    let mut command = tokio::process::Command::new("ssh");
    command
        .args(["-M", "-N", "-f", "-E"])
        .arg(&log)
        .arg("-o")
        .arg(format!("ControlPath={}", path.display()))
        .args(["-o", &format!("ControlPersist={idle}")])
        .args(["-o", "BatchMode=yes"])
        .args(["-o", &format!("ConnectTimeout={}", spec.timeout.as_secs().max(1))]);
    if spec.host_key_checking {
        command.args(["-o", "StrictHostKeyChecking=yes"]);
        if let Some(file) = &spec.known_hosts_file {
            command.args(["-o", &format!("UserKnownHostsFile={file}")]);
        }
    } else {
        command.args(["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]);
    }
    if let Some(user) = &spec.user {
        command.args(["-l", user]);
    }
    if let Some(port) = spec.port {
        command.args(["-p", &port.to_string()]);
    }
    if let Some(key) = &spec.private_key {
        command.args(["-i", key]);
    }
    command
        .arg("--")
        .arg(&spec.address)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let wait = spec.timeout + Duration::from_secs(5);
    let status = tokio::time::timeout(wait, command.status())
        .await
        .map_err(|_| TransportError(format!("ssh did not connect within {} s", wait.as_secs())))?
        .map_err(|e| TransportError(format!("cannot run ssh: {e}")))?;
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    if !status.success() {
        let said = said.trim();
        return Err(TransportError(if said.is_empty() {
            format!("ssh exited with {status}")
        } else {
            said.lines().last().unwrap_or(said).to_string()
        }));
    }
    Ok(Session::resume_mux(path.into(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_persist_values() {
        assert_eq!(Persist::parse("60s"), Some(Persist::Idle(Duration::from_secs(60))));
        assert_eq!(Persist::parse("10m"), Some(Persist::Idle(Duration::from_secs(600))));
        assert_eq!(Persist::parse("30"), Some(Persist::Idle(Duration::from_secs(30))));
        assert_eq!(Persist::parse("yes"), Some(Persist::Idle(Duration::ZERO)));
        assert_eq!(Persist::parse("no"), Some(Persist::No));
        assert_eq!(Persist::parse("0"), Some(Persist::No));
        assert_eq!(Persist::parse("soon"), None);
    }

    #[test]
    fn one_stable_socket_per_user_host_and_port() {
        let spec = |user: &str, port| ConnectionSpec {
            host: "web".into(),
            address: "10.0.0.1".into(),
            port,
            user: Some(user.into()),
            private_key: None,
            known_hosts_file: None,
            host_key_checking: true,
            local: false,
            timeout: Duration::from_secs(10),
            persist: Persist::Idle(DEFAULT_IDLE),
        };
        let dir = Path::new("/run/bgrun");
        let idle = Persist::Idle(DEFAULT_IDLE);
        let a = control_path(dir, &spec("root", None), idle);
        assert_eq!(a, control_path(dir, &spec("root", None), idle));
        assert_ne!(a, control_path(dir, &spec("deploy", None), idle));
        assert_ne!(a, control_path(dir, &spec("root", Some(2222)), idle));
        let mut other_keys = spec("root", None);
        other_keys.known_hosts_file = Some("/tmp/empty".into());
        assert_ne!(
            a,
            control_path(dir, &other_keys, idle),
            "other known_hosts: another master"
        );
        let own = control_path(dir, &spec("root", None), Persist::No);
        assert!(own.file_name().unwrap().to_string_lossy().starts_with("run-"));
    }
}
