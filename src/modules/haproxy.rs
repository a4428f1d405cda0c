//! `haproxy` changes a running HAProxy through its runtime API (the admin socket of
//! `stats socket ... level admin`), with no reload: a backend's server is pointed at an address
//! and made ready, and the backend's other servers are put in maintenance, so keep-alive clients
//! keep their connections across a switch. The socket is the host's, reached over the host's
//! SSH connection as Docker's is. `command` sends any runtime command instead.
//!
//! ```yaml
//! - haproxy:
//!     socket: /data/haproxy/run/admin.sock
//!     backend: books-ms
//!     server: green               # serves from now on
//!     address: 10.100.198.201
//!     port: 32771
//!     others: maint               # the backend's other servers: maint (default), drain or keep
//!     allow_missing: false        # true: a backend HAProxy does not have is `missing`, not a failure
//! - haproxy: {socket: /data/haproxy/run/admin.sock, command: "show info"}
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Haproxy {
    socket: String,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    backend: Option<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    others: Others,
    #[serde(default)]
    allow_missing: bool,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Others {
    #[default]
    Maint,
    Drain,
    Keep,
}

/// One server of a backend, from `show servers state`.
#[derive(Debug, Clone, PartialEq)]
struct Server {
    name: String,
    address: String,
    port: u16,
    /// HAProxy's admin flags: 0x01 forced maintenance, 0x08 forced drain. 0x04 (`disabled` in
    /// the configuration) stays set after `state ready` and does not stop the server serving.
    admin: u32,
}

const FORCED_MAINT: u32 = 0x01;
const FORCED_DRAIN: u32 = 0x08;
const CONFIG_DISABLED: u32 = 0x04;

impl Server {
    fn ready(&self) -> bool {
        self.admin & !CONFIG_DISABLED == 0
    }
}

/// Reads `show servers state <backend>`: `None` when HAProxy has no such backend.
fn parse_servers(answer: &str) -> Option<Vec<Server>> {
    if answer.contains("Can't find backend") || answer.contains("No such backend") {
        return None;
    }
    Some(
        answer
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                (f.len() > 18).then(|| Server {
                    name: f[3].to_string(),
                    address: f[4].to_string(),
                    port: f[18].parse().unwrap_or(0),
                    admin: f[6].parse().unwrap_or(0),
                })
            })
            .collect(),
    )
}

impl Haproxy {
    async fn send(&self, socket: &Path, command: &str) -> Result<String, HostError> {
        let fail = |e: std::io::Error| {
            HostError::Failed(format!(
                "HAProxy's admin socket `{}` does not answer `{command}`: {e}",
                self.socket
            ))
        };
        let talk = async {
            let mut stream = tokio::net::UnixStream::connect(socket).await.map_err(fail)?;
            stream
                .write_all(format!("{command}\n").as_bytes())
                .await
                .map_err(fail)?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.map_err(fail)?;
            Ok::<_, HostError>(answer)
        };
        tokio::time::timeout(Duration::from_secs(10), talk)
            .await
            .map_err(|_| HostError::Failed(format!("HAProxy did not answer `{command}` within 10 s")))?
    }

    async fn servers(&self, socket: &Path, backend: &str) -> Result<Option<Vec<Server>>, HostError> {
        Ok(parse_servers(
            &self.send(socket, &format!("show servers state {backend}")).await?,
        ))
    }
}

impl Module for Haproxy {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let transport = cx.connection.get().await?;
        let socket = transport
            .socket(Path::new(&self.socket))
            .await
            .map_err(|e| Failure::new(e.0))?;
        if let Some(command) = &self.command {
            let planned = Outcome::changed(true).msg(format!("would send `{command}`"));
            let command = command.clone();
            return Ok(Plan::Change(planned, Work::Send(self, socket, command)));
        }
        let (Some(backend), Some(target)) = (self.backend.clone(), self.server.clone()) else {
            return Err(Failure::new(
                "invalid arguments: give `command`, or `backend` and `server` (with `address` and `port`)",
            ));
        };
        let Some(servers) = self.servers(&socket, &backend).await? else {
            if self.allow_missing {
                let outcome = Outcome::ok().with("missing", true).with("backend", backend.as_str());
                return Ok(Plan::Done(outcome));
            }
            return Err(Failure::new(format!(
                "HAProxy has no backend `{backend}`; add it to its configuration and reload it once"
            )));
        };
        let Some(current) = servers.iter().find(|s| s.name == target).cloned() else {
            let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
            return Err(Failure::new(format!(
                "backend `{backend}` has no server `{target}`; its servers: {}",
                names.join(", ")
            )));
        };
        let mut commands: Vec<String> = Vec::new();
        let address = self.address.clone().unwrap_or_else(|| current.address.clone());
        let port = self.port.unwrap_or(current.port);
        if current.address != address || current.port != port {
            commands.push(format!("set server {backend}/{target} addr {address} port {port}"));
        }
        if !current.ready() {
            commands.push(format!("set server {backend}/{target} state ready"));
        }
        for other in servers.iter().filter(|s| s.name != target) {
            match self.others {
                Others::Maint if other.admin & FORCED_MAINT == 0 => {
                    commands.push(format!("set server {backend}/{} state maint", other.name));
                }
                Others::Drain if other.admin & (FORCED_DRAIN | FORCED_MAINT) == 0 => {
                    commands.push(format!("set server {backend}/{} state drain", other.name));
                }
                _ => {}
            }
        }
        let before: Vec<Json> = servers
            .iter()
            .map(|s| json!({"name": s.name, "address": s.address, "port": s.port, "admin": s.admin}))
            .collect();
        let verb = if commands.is_empty() {
            "already serves"
        } else {
            "would serve"
        };
        let planned = Outcome::changed(!commands.is_empty())
            .with("backend", backend.as_str())
            .with("servers", before)
            .with("commands", commands.clone())
            .msg(format!("`{backend}/{target}` at {address}:{port} {verb}"));
        if commands.is_empty() {
            return Ok(Plan::Done(planned));
        }
        let switch = Switch {
            socket,
            backend,
            target,
            address,
            port,
            commands,
        };
        Ok(Plan::Change(planned, Work::Switch(self, switch)))
    }

    async fn apply(work: Work, planned: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        let (this, switch) = match work {
            Work::Send(this, socket, command) => {
                let answer = this.send(&socket, &command).await?;
                return Ok(Outcome::changed(true).with("output", answer.trim_end()));
            }
            Work::Switch(this, switch) => (this, switch),
        };
        let Switch {
            socket,
            backend,
            target,
            address,
            port,
            commands,
        } = switch;
        for command in &commands {
            let answer = this.send(&socket, command).await?;
            let answer = answer.trim();
            if !answer.is_empty() && !answer.contains("changed") && !answer.contains("no need to change") {
                return Err(Failure::new(format!("HAProxy refused `{command}`: {answer}")));
            }
        }
        let after = this.servers(&socket, &backend).await?.unwrap_or_default();
        match after.iter().find(|s| s.name == target) {
            Some(s) if s.ready() && s.address == address && s.port == port => {}
            Some(s) => {
                return Err(Failure::new(format!(
                    "`{backend}/{target}` is at {}:{} with admin state {:#x} after the switch, not ready at {address}:{port}",
                    s.address, s.port, s.admin
                )));
            }
            None => {
                return Err(Failure::new(format!("`{backend}/{target}` is gone after the switch")));
            }
        }
        Ok(planned.msg(format!("`{backend}/{target}` at {address}:{port} serves")))
    }
}

/// What `haproxy` sends: one runtime command, or the commands of a switch.
pub enum Work {
    Send(Haproxy, PathBuf, String),
    Switch(Haproxy, Switch),
}

/// The runtime commands that make `target` serve from `address:port`.
pub struct Switch {
    socket: PathBuf,
    backend: String,
    target: String,
    address: String,
    port: u16,
    commands: Vec<String>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn servers_state() {
        let answer = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n3 books-ms 1 blue 127.0.0.3 2 0 1 1 12 1 0 0 0 0 0 0 - 49153 - 0 0 - - 0\n3 books-ms 2 green 127.0.0.3 0 1 1 1 12 1 0 0 0 0 0 0 - 49155 - 0 0 - - 0\n";
        let servers = super::parse_servers(answer).unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(
            (servers[0].name.as_str(), servers[0].port, servers[0].admin),
            ("blue", 49153, 0)
        );
        assert_eq!((servers[1].name.as_str(), servers[1].admin), ("green", 1));
        assert!(super::parse_servers("Can't find backend.\n").is_none());
    }
}
