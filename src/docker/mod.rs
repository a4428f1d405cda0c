//! Docker engines of hosts, reached through the Docker Engine API (bollard): by default the
//! host's /var/run/docker.sock forwarded over its SSH connection, so no Docker TCP port is
//! needed; `docker_host: unix://PATH` names another socket, `tcp://HOST:PORT` a TCP endpoint.

use std::path::Path;

pub mod compose;
pub mod container;
pub mod exec;
pub mod registrator;

use bollard::Docker;

use crate::transport::{HostError, Transport};

/// Seconds an engine request may take.
const TIMEOUT: u64 = 300;

/// Connects to a host's engine, negotiating the API version with it.
pub async fn connect(transport: &Transport, docker_host: Option<&str>) -> Result<Docker, HostError> {
    let target = docker_host.unwrap_or("unix:///var/run/docker.sock");
    let docker = if let Some(path) = target.strip_prefix("unix://") {
        let local = transport.socket(Path::new(path)).await?;
        Docker::connect_with_unix(&local.display().to_string(), TIMEOUT, bollard::API_DEFAULT_VERSION)
    } else if target.starts_with("tcp://") || target.starts_with("http://") {
        Docker::connect_with_http(target, TIMEOUT, bollard::API_DEFAULT_VERSION)
    } else {
        return Err(HostError::Failed(format!(
            "`docker_host: {target}` is not understood; use unix:///var/run/docker.sock or tcp://HOST:PORT"
        )));
    }
    .map_err(|e| HostError::Failed(format!("cannot reach the Docker engine at {target}: {e}")))?;
    docker.negotiate_version().await.map_err(|e| {
        HostError::Failed(format!(
            "the Docker engine at {target} does not answer: {}",
            error_text(&e)
        ))
    })
}

/// The engine's own words for an error.
pub fn error_text(error: &bollard::errors::Error) -> String {
    match error {
        bollard::errors::Error::DockerResponseServerError { status_code, message } => {
            format!("{message} (HTTP {status_code})")
        }
        other => other.to_string(),
    }
}
