//! Registration of containers in Consul as Registrator does it: each published port of a
//! container becomes a service of the host's Consul agent, named from `SERVICE_NAME` /
//! `SERVICE_<port>_NAME` or the image's base name, with ID `<host>:<container>:<port>`, the host's
//! address, tags from `SERVICE_TAGS` and an HTTP check from `SERVICE_CHECK_HTTP`.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use serde_json::json;

use super::error_text;
use crate::consul::{Consul, Registration};
use crate::transport::HostError;

/// The services a container stands for.
pub fn registrations(host: &str, address: &str, container: &ContainerInspectResponse) -> Vec<Registration> {
    let name = container.name.as_deref().unwrap_or_default().trim_start_matches('/');
    let config = container.config.as_ref();
    let env: HashMap<String, String> = config
        .and_then(|c| c.env.as_ref())
        .map(|vars| {
            vars.iter()
                .filter_map(|v| v.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    if env.contains_key("SERVICE_IGNORE") {
        return Vec::new();
    }
    let image = config.and_then(|c| c.image.as_deref()).unwrap_or_default();
    let ports = container.network_settings.as_ref().and_then(|n| n.ports.as_ref());
    let mut published: Vec<(String, String, String, String)> = Vec::new();
    for (key, bindings) in ports.into_iter().flatten() {
        let (port, protocol) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        for binding in bindings.iter().flatten() {
            let Some(host_port) = binding.host_port.clone().filter(|p| !p.is_empty()) else {
                continue;
            };
            let host_ip = binding.host_ip.clone().unwrap_or_default();
            published.push((port.to_string(), protocol.to_string(), host_port, host_ip));
        }
    }
    published.sort();
    let several = published.len() > 1;
    published
        .into_iter()
        .filter_map(|(port, protocol, host_port, host_ip)| {
            let by_port = |what: &str| {
                env.get(&format!("SERVICE_{port}_{what}"))
                    .or_else(|| env.get(&format!("SERVICE_{what}")))
            };
            if env.contains_key(&format!("SERVICE_{port}_IGNORE")) {
                return None;
            }
            let service = match (env.get(&format!("SERVICE_{port}_NAME")), env.get("SERVICE_NAME")) {
                (Some(name), _) => name.clone(),
                (None, Some(name)) if several => format!("{name}-{port}"),
                (None, Some(name)) => name.clone(),
                (None, None) => {
                    let base = image_base_name(image);
                    if several { format!("{base}-{port}") } else { base }
                }
            };
            let service_address = if host_ip.is_empty() || host_ip == "0.0.0.0" || host_ip == "::" {
                address.to_string()
            } else {
                host_ip
            };
            let port_number: u16 = host_port.parse().ok()?;
            let mut id = format!("{host}:{name}:{port}");
            if protocol == "udp" {
                id.push_str(":udp");
            }
            let tags = by_port("TAGS")
                .map(|t| {
                    t.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let check = by_port("CHECK_HTTP").map(|path| {
                json!({
                    "HTTP": format!("http://{service_address}:{port_number}{path}"),
                    "Interval": by_port("CHECK_INTERVAL").cloned().unwrap_or_else(|| "10s".into()),
                    "Timeout": by_port("CHECK_TIMEOUT").cloned().unwrap_or_else(|| "5s".into()),
                })
            });
            Some(Registration {
                id,
                name: service,
                address: service_address,
                port: port_number,
                tags,
                check,
            })
        })
        .collect()
}

/// `registry:5000/team/books-ms:2` -> `books-ms`.
fn image_base_name(image: &str) -> String {
    let without_tag = match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => image,
    };
    without_tag.rsplit('/').next().unwrap_or(without_tag).to_string()
}

/// Registers a container's services; returns their IDs.
pub async fn register(
    docker: &Docker,
    consul: &Consul,
    host: &str,
    address: &str,
    container: &str,
) -> Result<Vec<String>, HostError> {
    let found = docker
        .inspect_container(container, None)
        .await
        .map_err(|e| HostError::Failed(format!("cannot inspect container `{container}`: {}", error_text(&e))))?;
    let mut ids = Vec::new();
    for registration in registrations(host, address, &found) {
        consul
            .register(&registration)
            .await
            .map_err(|e| HostError::Failed(e.0))?;
        ids.push(registration.id);
    }
    Ok(ids)
}

/// Removes a container's services from the agent; returns their IDs.
pub async fn deregister(consul: &Consul, host: &str, container: &str) -> Result<Vec<String>, HostError> {
    let prefix = format!("{host}:{container}:");
    let services = consul.agent_services().await.map_err(|e| HostError::Failed(e.0))?;
    let mut ids = Vec::new();
    for id in services.keys().filter(|id| id.starts_with(&prefix)) {
        consul.deregister(id).await.map_err(|e| HostError::Failed(e.0))?;
        ids.push(id.clone());
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig, NetworkSettings, PortBinding};

    fn container(env: &[&str], ports: &[(&str, &str, &str)]) -> ContainerInspectResponse {
        let mut map = HashMap::new();
        for (key, ip, port) in ports {
            map.insert(
                key.to_string(),
                Some(vec![PortBinding {
                    host_ip: Some(ip.to_string()),
                    host_port: Some(port.to_string()),
                }]),
            );
        }
        ContainerInspectResponse {
            name: Some("/books-ms_app-blue_1".into()),
            config: Some(ContainerConfig {
                image: Some("127.0.0.2:5000/books-ms:2".into()),
                env: Some(env.iter().map(|e| e.to_string()).collect()),
                ..Default::default()
            }),
            network_settings: Some(NetworkSettings {
                ports: Some(map),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn one_port_with_a_service_name_and_check() {
        let c = container(
            &[
                "SERVICE_NAME=books-ms-blue",
                "SERVICE_TAGS=blue, v2",
                "SERVICE_CHECK_HTTP=/health",
                "SERVICE_CHECK_INTERVAL=2s",
            ],
            &[("8080/tcp", "127.0.0.3", "32768")],
        );
        let r = registrations("prod", "10.0.0.1", &c);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].id, "prod:books-ms_app-blue_1:8080");
        assert_eq!(r[0].name, "books-ms-blue");
        assert_eq!((r[0].address.as_str(), r[0].port), ("127.0.0.3", 32768));
        assert_eq!(r[0].tags, vec!["blue".to_string(), "v2".to_string()]);
        assert_eq!(
            r[0].check,
            Some(json!({"HTTP": "http://127.0.0.3:32768/health", "Interval": "2s", "Timeout": "5s"}))
        );
    }

    #[test]
    fn image_name_and_port_suffix_without_service_name() {
        let c = container(
            &[],
            &[("8080/tcp", "0.0.0.0", "32768"), ("9090/udp", "0.0.0.0", "32769")],
        );
        let r = registrations("prod", "10.0.0.1", &c);
        assert_eq!(
            r.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["books-ms-8080", "books-ms-9090"]
        );
        assert_eq!(r[0].address, "10.0.0.1");
        assert_eq!(r[1].id, "prod:books-ms_app-blue_1:9090:udp");
    }

    #[test]
    fn ignored_and_unpublished() {
        assert!(registrations("prod", "a", &container(&["SERVICE_IGNORE=1"], &[("8080/tcp", "", "1")])).is_empty());
        assert!(registrations("prod", "a", &container(&[], &[("8080/tcp", "", "")])).is_empty());
    }
}
