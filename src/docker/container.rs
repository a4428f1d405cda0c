//! A container as bgrun wants it: image, command, environment, labels, published ports, binds,
//! restart policy and logging; turned into the Engine API's create request, with a hash of the
//! wanted configuration stored as a label so an unchanged container is left alone.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, RemoveContainerOptions, StopContainerOptions,
};
use futures::StreamExt;
use indexmap::IndexMap;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error_text;
use crate::transport::HostError;

/// The label holding the hash of the configuration bgrun created a container with.
pub const CONFIG_LABEL: &str = "io.bgrun.config-hash";

/// A published port: `[ip:][host_port:]container_port[/proto]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortSpec {
    pub host_ip: String,
    /// Empty: Docker picks a free port.
    pub host_port: String,
    pub container_port: String,
    pub protocol: String,
}

impl PortSpec {
    pub fn parse(text: &str) -> Result<PortSpec, String> {
        let (body, protocol) = match text.rsplit_once('/') {
            Some((b, p)) if matches!(p, "tcp" | "udp" | "sctp") => (b, p),
            Some(_) => return Err(format!("port `{text}`: the protocol is tcp, udp or sctp")),
            None => (text, "tcp"),
        };
        // An IPv6 host address is written in brackets.
        let (host_ip, rest) = match body.strip_prefix('[') {
            Some(v6) => match v6.split_once("]:") {
                Some((ip, rest)) => (ip.to_string(), rest.to_string()),
                None => return Err(format!("port `{text}`: unclosed `[`")),
            },
            None => {
                let parts: Vec<&str> = body.split(':').collect();
                match parts.len() {
                    1 | 2 => (String::new(), body.to_string()),
                    3 => (parts[0].to_string(), format!("{}:{}", parts[1], parts[2])),
                    _ => {
                        return Err(format!("port `{text}` is not [ip:][host_port:]container_port"));
                    }
                }
            }
        };
        let (host_port, container_port) = match rest.split_once(':') {
            Some((h, c)) => (h.to_string(), c.to_string()),
            None => (String::new(), rest.clone()),
        };
        let numeric = |p: &str| !p.is_empty() && p.split('-').all(|n| n.parse::<u16>().is_ok());
        if !numeric(&container_port) || !(host_port.is_empty() || numeric(&host_port)) {
            return Err(format!("port `{text}` is not [ip:][host_port:]container_port"));
        }
        Ok(PortSpec {
            host_ip,
            host_port,
            container_port,
            protocol: protocol.to_string(),
        })
    }

    fn key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol)
    }
}

/// Everything bgrun sets on a container it creates.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub labels: IndexMap<String, String>,
    pub ports: Vec<PortSpec>,
    pub binds: Vec<String>,
    pub network_mode: Option<String>,
    pub restart: Option<String>,
    pub hostname: Option<String>,
    pub log_driver: Option<String>,
    pub log_options: IndexMap<String, String>,
    pub links: Vec<String>,
}

impl ContainerSpec {
    /// SHA-256 of the wanted configuration and the image's ID.
    pub fn config_hash(&self, image_id: &str) -> String {
        let mut text = serde_json::to_string(self).unwrap_or_default();
        text.push_str(image_id);
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn body(&self, hash: &str) -> ContainerCreateBody {
        let mut labels: HashMap<String, String> = self.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        labels.insert(CONFIG_LABEL.to_string(), hash.to_string());
        let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
        for port in &self.ports {
            bindings
                .entry(port.key())
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: Some(port.host_ip.clone()),
                    host_port: Some(port.host_port.clone()),
                });
        }
        let restart = self.restart.as_deref().map(|name| {
            let (name, retries) = name.split_once(':').map_or((name, None), |(n, r)| (n, r.parse().ok()));
            RestartPolicy {
                name: Some(match name {
                    "always" => RestartPolicyNameEnum::ALWAYS,
                    "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
                    "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
                    _ => RestartPolicyNameEnum::NO,
                }),
                maximum_retry_count: retries,
            }
        });
        let host_config = HostConfig {
            binds: (!self.binds.is_empty()).then(|| self.binds.clone()),
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            network_mode: self.network_mode.clone(),
            restart_policy: restart,
            links: (!self.links.is_empty()).then(|| self.links.clone()),
            log_config: self.log_driver.as_ref().map(|driver| HostConfigLogConfig {
                typ: Some(driver.clone()),
                config: Some(self.log_options.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            }),
            ..HostConfig::default()
        };
        ContainerCreateBody {
            image: Some(self.image.clone()),
            cmd: self.command.clone(),
            entrypoint: self.entrypoint.clone(),
            env: (!self.env.is_empty()).then(|| self.env.clone()),
            labels: Some(labels),
            hostname: self.hostname.clone(),
            exposed_ports: (!self.ports.is_empty()).then(|| self.ports.iter().map(PortSpec::key).collect()),
            host_config: Some(host_config),
            ..ContainerCreateBody::default()
        }
    }
}

/// What is there now under a container name.
#[derive(Debug, Clone)]
pub struct Existing {
    pub id: String,
    pub running: bool,
    pub config_hash: Option<String>,
    pub labels: HashMap<String, String>,
}

/// Looks a container up by name.
pub async fn find(docker: &Docker, name: &str) -> Result<Option<Existing>, HostError> {
    match docker.inspect_container(name, None).await {
        Ok(found) => {
            let labels = found.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default();
            Ok(Some(Existing {
                id: found.id.unwrap_or_default(),
                running: found.state.and_then(|s| s.running).unwrap_or(false),
                config_hash: labels.get(CONFIG_LABEL).cloned(),
                labels,
            }))
        }
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
        Err(e) => Err(HostError::Failed(format!(
            "cannot inspect container `{name}`: {}",
            error_text(&e)
        ))),
    }
}

/// The ID of an image, pulling it first when it is missing (or always, with `always_pull`).
pub async fn ensure_image(
    docker: &Docker,
    image: &str,
    always_pull: bool,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<(String, bool), HostError> {
    if !always_pull && let Ok(found) = docker.inspect_image(image).await {
        return Ok((found.id.unwrap_or_default(), false));
    }
    pull(docker, image, progress).await?;
    let found = docker
        .inspect_image(image)
        .await
        .map_err(|e| HostError::Failed(format!("image `{image}`: {}", error_text(&e))))?;
    Ok((found.id.unwrap_or_default(), true))
}

/// Pulls an image from its registry, telling `progress` how many layers are done.
pub async fn pull(docker: &Docker, image: &str, progress: &(dyn Fn(String) + Send + Sync)) -> Result<(), HostError> {
    let (repo, tag) = split_tag(image);
    let options = bollard::query_parameters::CreateImageOptions {
        from_image: Some(repo.to_string()),
        tag: Some(tag.to_string()),
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), None, None);
    let mut layers: IndexMap<String, String> = IndexMap::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| HostError::Failed(format!("cannot pull `{image}`: {}", error_text(&e))))?;
        if let (Some(id), Some(status)) = (info.id, info.status) {
            layers.insert(id, status);
            let done = layers
                .values()
                .filter(|s| matches!(s.as_str(), "Pull complete" | "Already exists"))
                .count();
            progress(format!("pulling {image}: {done}/{} layers", layers.len()));
        }
    }
    Ok(())
}

/// `registry:5000/name:tag` -> (`registry:5000/name`, `tag`); no tag means `latest`.
pub fn split_tag(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// Creates a container; on a failed start the half-made container is removed again.
pub async fn create_and_start(
    docker: &Docker,
    spec: &ContainerSpec,
    image_id: &str,
    start: bool,
) -> Result<String, HostError> {
    let hash = spec.config_hash(image_id);
    let options = CreateContainerOptions {
        name: Some(spec.name.clone()),
        ..Default::default()
    };
    let created = docker
        .create_container(Some(options), spec.body(&hash))
        .await
        .map_err(|e| {
            HostError::Failed(format!(
                "cannot create container `{}` from `{}`: {}",
                spec.name,
                spec.image,
                error_text(&e)
            ))
        })?;
    if start && let Err(e) = docker.start_container(&created.id, None).await {
        let _ = docker
            .remove_container(
                &created.id,
                Some(RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                }),
            )
            .await;
        return Err(HostError::Failed(format!(
            "cannot start container `{}`: {} (the container was removed again)",
            spec.name,
            error_text(&e)
        )));
    }
    Ok(created.id)
}

pub async fn start(docker: &Docker, name: &str) -> Result<(), HostError> {
    docker
        .start_container(name, None)
        .await
        .map_err(|e| HostError::Failed(format!("cannot start container `{name}`: {}", error_text(&e))))
}

pub async fn stop(docker: &Docker, name: &str, timeout: i32) -> Result<(), HostError> {
    let options = StopContainerOptions {
        t: Some(timeout),
        ..Default::default()
    };
    docker
        .stop_container(name, Some(options))
        .await
        .map_err(|e| HostError::Failed(format!("cannot stop container `{name}`: {}", error_text(&e))))
}

pub async fn remove(docker: &Docker, name: &str) -> Result<(), HostError> {
    let options = RemoveContainerOptions {
        force: true,
        ..Default::default()
    };
    docker
        .remove_container(name, Some(options))
        .await
        .map_err(|e| HostError::Failed(format!("cannot remove container `{name}`: {}", error_text(&e))))
}

pub async fn kill(docker: &Docker, name: &str, signal: &str) -> Result<(), HostError> {
    let options = KillContainerOptions {
        signal: signal.to_string(),
    };
    docker.kill_container(name, Some(options)).await.map_err(|e| {
        HostError::Failed(format!(
            "cannot send {signal} to container `{name}`: {}",
            error_text(&e)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ip: &str, host: &str, container: &str) -> PortSpec {
        PortSpec {
            host_ip: ip.into(),
            host_port: host.into(),
            container_port: container.into(),
            protocol: "tcp".into(),
        }
    }

    #[test]
    fn port_forms() {
        assert_eq!(PortSpec::parse("8080").unwrap(), port("", "", "8080"));
        assert_eq!(PortSpec::parse("80:8080").unwrap(), port("", "80", "8080"));
        assert_eq!(
            PortSpec::parse("127.0.0.3::8080").unwrap(),
            port("127.0.0.3", "", "8080")
        );
        assert_eq!(
            PortSpec::parse("127.0.0.3:80:8080").unwrap(),
            port("127.0.0.3", "80", "8080")
        );
        assert_eq!(PortSpec::parse("53:53/udp").unwrap().protocol, "udp");
        assert!(PortSpec::parse("a:b:c:d").is_err());
        assert!(PortSpec::parse("http").is_err());
    }

    #[test]
    fn tags() {
        assert_eq!(split_tag("127.0.0.2:5000/books-ms:2"), ("127.0.0.2:5000/books-ms", "2"));
        assert_eq!(
            split_tag("127.0.0.2:5000/books-ms"),
            ("127.0.0.2:5000/books-ms", "latest")
        );
        assert_eq!(split_tag("nginx"), ("nginx", "latest"));
    }

    #[test]
    fn hash_follows_configuration() {
        let a = ContainerSpec {
            name: "n".into(),
            image: "i".into(),
            ..Default::default()
        };
        let mut b = a.clone();
        assert_eq!(a.config_hash("sha256:1"), b.config_hash("sha256:1"));
        assert_ne!(a.config_hash("sha256:1"), a.config_hash("sha256:2"));
        b.env.push("A=1".into());
        assert_ne!(a.config_hash("sha256:1"), b.config_hash("sha256:1"));
    }
}
