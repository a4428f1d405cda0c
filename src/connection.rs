//! The connections to one host, opened when something first needs them and kept for the run:
//! the SSH (or local) transport, the Docker engine and the Consul clients. It sits below the
//! modules and the executor so both (and the commands that work on hosts without a playbook)
//! share one cache per host instead of each opening its own.

use std::sync::Mutex;

use tokio::sync::OnceCell;

use crate::consul::{Consul, ConsulError, ConsulSettings};
use crate::transport::{ConnectionSpec, HostError, Transport};

/// The connection to a host, opened when a step first needs it and shared by every later step.
pub struct Connection {
    pub spec: ConnectionSpec,
    transport: OnceCell<Result<Transport, HostError>>,
    docker: OnceCell<Result<bollard::Docker, HostError>>,
    /// The Consul clients built for the host, one per address, token and datacenter (in a run
    /// that is nearly always one: the host's own).
    consuls: Mutex<Vec<Consul>>,
}

impl Connection {
    pub fn new(spec: ConnectionSpec) -> Self {
        Connection {
            spec,
            transport: OnceCell::new(),
            docker: OnceCell::new(),
            consuls: Mutex::new(Vec::new()),
        }
    }

    /// A connection already open over `transport` (the fake one of unit tests).
    #[cfg(test)]
    pub fn over(spec: ConnectionSpec, transport: Transport) -> Self {
        Connection {
            spec,
            transport: OnceCell::new_with(Some(Ok(transport))),
            docker: OnceCell::new(),
            consuls: Mutex::new(Vec::new()),
        }
    }

    pub async fn get(&self) -> Result<&Transport, HostError> {
        let result = self
            .transport
            .get_or_init(|| async {
                Transport::connect(&self.spec).await.map_err(|e| {
                    HostError::Unreachable(format!(
                        "cannot connect to `{}` at {}{}: {}",
                        self.spec.host,
                        self.spec.address,
                        self.spec.port.map(|p| format!(":{p}")).unwrap_or_default(),
                        e.0.trim()
                    ))
                })
            })
            .await;
        result.as_ref().map_err(Clone::clone)
    }

    /// The host's Docker engine, connected on first use and kept for the run; its forwarded
    /// socket is made again when the SSH master closed while the run waited.
    pub async fn docker(&self, docker_host: Option<&str>) -> Result<&bollard::Docker, HostError> {
        let transport = self.get().await?;
        if self.docker.initialized() {
            transport.revive().await.map_err(|e| HostError::Unreachable(e.0))?;
        }
        let result = self
            .docker
            .get_or_init(|| crate::docker::connect(transport, docker_host))
            .await;
        result.as_ref().map_err(Clone::clone)
    }

    /// The client for `host`'s Consul as `settings` and the host's variables (`var`) name it
    /// (see [`Consul::for_host`]), built on first use and kept for the run.
    pub fn consul(
        &self,
        host: &str,
        var: &dyn Fn(&str) -> Option<String>,
        settings: &ConsulSettings,
    ) -> Result<Consul, ConsulError> {
        let target = settings.target(host, var)?;
        let mut consuls = self.consuls.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = consuls.iter().find(|c| c.serves(&target)) {
            return Ok(client.clone());
        }
        let client = Consul::for_target(target)?;
        consuls.push(client.clone());
        Ok(client)
    }

    pub async fn close(self) {
        if let Some(Ok(transport)) = self.transport.into_inner() {
            transport.close().await;
        }
    }
}
