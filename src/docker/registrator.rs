//! Registration of containers in Consul as Registrator does it (gliderlabs/registrator, run with
//! `-ip <host address>` as the book runs it): each published container port becomes a service of
//! the host's Consul agent, named from `SERVICE_<port>_NAME` / `SERVICE_NAME` or the image's base
//! name, suffixed `-<port>` only when the container publishes more than one container port, with
//! ID `<host>:<container>:<port>`, the host's address, tags from `SERVICE_TAGS` and a check from
//! `SERVICE_CHECK_HTTP`, `_TCP` or `_TTL`. Metadata comes from the container's environment (its
//! image's included) and its labels.
//!
//! Consul keeps a check's status when a service is registered again under the same ID, so a
//! container that replaces another (a new release, or a registration a killed run left behind)
//! is first deregistered: its checks start critical and pass only once they ran against it.

use std::collections::{BTreeMap, HashMap};

use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use serde_json::json;

use super::error_text;
use crate::consul::{Consul, Registration};
use crate::transport::HostError;

/// The service meta key that names the container a registration stands for.
pub const CONTAINER_META: &str = "bgrun_container";

/// One container port as Registrator sees it: the first host binding, if any.
struct ServicePort {
    port: String,
    protocol: String,
    host_port: String,
}

/// The services a container stands for.
pub fn registrations(host: &str, address: &str, container: &ContainerInspectResponse) -> Vec<Registration> {
    let name = container.name.as_deref().unwrap_or_default().trim_start_matches('/');
    let config = container.config.as_ref();
    // Registrator reads `SERVICE_*` from the environment, then from labels (labels win).
    let mut metadata: HashMap<String, String> = config
        .and_then(|c| c.env.as_ref())
        .map(|vars| {
            vars.iter()
                .filter_map(|v| v.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(labels) = config.and_then(|c| c.labels.as_ref()) {
        metadata.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let image = config.and_then(|c| c.image.as_deref()).unwrap_or_default();
    let id = container.id.as_deref().unwrap_or_default();

    // Exposed ports first (what `--net=host` publishes as they are), then the runtime bindings,
    // one entry per container port whatever the number of host addresses it is bound on.
    let mut ports: BTreeMap<String, ServicePort> = BTreeMap::new();
    let split = |key: &str| {
        let (port, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
        (port.to_string(), protocol.to_string())
    };
    for key in config.and_then(|c| c.exposed_ports.as_ref()).into_iter().flatten() {
        let (port, protocol) = split(key);
        let host_port = port.clone();
        ports.insert(
            key.clone(),
            ServicePort {
                port,
                protocol,
                host_port,
            },
        );
    }
    for (key, bindings) in container
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.as_ref())
        .into_iter()
        .flatten()
    {
        let (port, protocol) = split(key);
        let host_port = bindings
            .iter()
            .flatten()
            .next()
            .and_then(|b| b.host_port.clone())
            .unwrap_or_default();
        ports.insert(
            key.clone(),
            ServicePort {
                port,
                protocol,
                host_port,
            },
        );
    }
    ports.retain(|_, p| !p.host_port.is_empty());
    let several = ports.len() > 1;
    let mut found: Vec<Registration> = ports
        .into_values()
        .filter_map(|p| registration(host, address, name, id, image, &metadata, &p, several))
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

/// Registrator's `newService` for one port.
#[allow(clippy::too_many_arguments)]
fn registration(
    host: &str,
    address: &str,
    name: &str,
    container_id: &str,
    image: &str,
    metadata: &HashMap<String, String>,
    p: &ServicePort,
    several: bool,
) -> Option<Registration> {
    let from_port = |what: &str| {
        metadata
            .get(&format!("SERVICE_{}_{what}", p.port))
            .filter(|v| !v.is_empty())
    };
    let get = |what: &str| {
        from_port(what)
            .or_else(|| metadata.get(&format!("SERVICE_{what}")).filter(|v| !v.is_empty()))
            .cloned()
    };
    if get("IGNORE").is_some() {
        return None;
    }
    let mut service = get("NAME").unwrap_or_else(|| image_base_name(image));
    if several && from_port("NAME").is_none() {
        service = format!("{service}-{}", p.port);
    }
    let port: u16 = p.host_port.parse().ok()?;
    let mut id = format!("{host}:{name}:{}", p.port);
    let mut tags: Vec<String> = get("TAGS")
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if p.protocol == "udp" {
        id.push_str(":udp");
        tags.push("udp".into());
    }
    if let Some(explicit) = get("ID") {
        id = explicit;
    }
    let check = check(address, port, &get);
    let mut meta = serde_json::Map::new();
    if !container_id.is_empty() {
        meta.insert(CONTAINER_META.into(), json!(container_id));
    }
    Some(Registration {
        id,
        name: service,
        address: address.to_string(),
        port,
        tags,
        check,
        meta,
    })
}

/// The check of Registrator's Consul adapter: HTTP, then TCP, then TTL; HTTP and TCP checks run
/// every `SERVICE_CHECK_INTERVAL` (10s).
fn check(address: &str, port: u16, get: &dyn Fn(&str) -> Option<String>) -> Option<serde_json::Value> {
    let mut check = serde_json::Map::new();
    if let Some(path) = get("CHECK_HTTP") {
        check.insert("HTTP".into(), json!(format!("http://{address}:{port}{path}")));
    } else if let Some(path) = get("CHECK_HTTPS") {
        check.insert("HTTP".into(), json!(format!("https://{address}:{port}{path}")));
    } else if get("CHECK_TCP").is_some() {
        check.insert("TCP".into(), json!(format!("{address}:{port}")));
    } else if let Some(ttl) = get("CHECK_TTL") {
        check.insert("TTL".into(), json!(ttl));
    } else {
        return None;
    }
    if !check.contains_key("TTL") {
        check.insert(
            "Interval".into(),
            json!(get("CHECK_INTERVAL").unwrap_or_else(|| "10s".into())),
        );
        if let Some(timeout) = get("CHECK_TIMEOUT") {
            check.insert("Timeout".into(), json!(timeout));
        }
    }
    if let Some(status) = get("CHECK_INITIAL_STATUS") {
        check.insert("Status".into(), json!(status));
    }
    if let Some(after) = get("CHECK_DEREGISTER_AFTER") {
        check.insert("DeregisterCriticalServiceAfter".into(), json!(after));
    }
    Some(serde_json::Value::Object(check))
}

/// `registry:5000/team/books-ms:2` -> `books-ms`.
fn image_base_name(image: &str) -> String {
    let without_tag = match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => image,
    };
    without_tag.rsplit('/').next().unwrap_or(without_tag).to_string()
}

/// Registers a container's services; returns their IDs. A registration that stands for another
/// container (or for none bgrun knows of) is removed first, so its checks do not carry over.
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
    let wanted = registrations(host, address, &found);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let existing = consul.agent_services().await.map_err(|e| HostError::Failed(e.0))?;
    let mut ids = Vec::new();
    for registration in wanted {
        if let Some(service) = existing.get(&registration.id) {
            let same_container = service["Meta"][CONTAINER_META] == registration.meta[CONTAINER_META];
            if !same_container {
                consul
                    .deregister(&registration.id)
                    .await
                    .map_err(|e| HostError::Failed(e.0))?;
            }
        }
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

    /// A container publishing `ports`: (container port, [(host ip, host port)]).
    fn container(env: &[&str], ports: &[(&str, &[(&str, &str)])]) -> ContainerInspectResponse {
        let mut map = HashMap::new();
        for (key, bindings) in ports {
            let bindings: Vec<PortBinding> = bindings
                .iter()
                .map(|(ip, port)| PortBinding {
                    host_ip: Some(ip.to_string()),
                    host_port: Some(port.to_string()),
                })
                .collect();
            map.insert(key.to_string(), (!bindings.is_empty()).then_some(bindings));
        }
        ContainerInspectResponse {
            id: Some("c0ffee".into()),
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
            &[("8080/tcp", &[("127.0.0.3", "32768")])],
        );
        let r = registrations("prod", "127.0.0.3", &c);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].id, "prod:books-ms_app-blue_1:8080");
        assert_eq!(r[0].name, "books-ms-blue");
        assert_eq!((r[0].address.as_str(), r[0].port), ("127.0.0.3", 32768));
        assert_eq!(r[0].tags, vec!["blue".to_string(), "v2".to_string()]);
        assert_eq!(
            r[0].check,
            Some(json!({"HTTP": "http://127.0.0.3:32768/health", "Interval": "2s"}))
        );
        assert_eq!(r[0].meta[CONTAINER_META], "c0ffee");
    }

    /// `ports: - 8080` on Docker 20.10+: one container port bound on 0.0.0.0 and on `::`. It is
    /// one service, without a port suffix, at the host's address and the first binding's port.
    #[test]
    fn one_port_bound_on_ipv4_and_ipv6_is_one_service() {
        let c = container(
            &["SERVICE_NAME=books-ms-blue"],
            &[("8080/tcp", &[("0.0.0.0", "49153"), ("::", "49154")])],
        );
        let r = registrations("prod", "10.100.198.201", &c);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].name, "books-ms-blue");
        assert_eq!((r[0].address.as_str(), r[0].port), ("10.100.198.201", 49153));
        assert_eq!(r[0].check, None);
    }

    #[test]
    fn several_container_ports_take_a_suffix_unless_named_per_port() {
        let c = container(
            &["SERVICE_NAME=app", "SERVICE_9090_NAME=app-metrics"],
            &[
                ("8080/tcp", &[("0.0.0.0", "32768"), ("::", "32770")]),
                ("9090/tcp", &[("0.0.0.0", "32769")]),
                ("7070/udp", &[("0.0.0.0", "32771")]),
            ],
        );
        let r = registrations("prod", "10.0.0.1", &c);
        let names: Vec<(&str, &str)> = r.iter().map(|r| (r.id.as_str(), r.name.as_str())).collect();
        assert_eq!(
            names,
            [
                ("prod:books-ms_app-blue_1:7070:udp", "app-7070"),
                ("prod:books-ms_app-blue_1:8080", "app-8080"),
                ("prod:books-ms_app-blue_1:9090", "app-metrics"),
            ]
        );
        assert_eq!(r[0].tags, ["udp"]);
    }

    #[test]
    fn image_name_without_service_name() {
        let c = container(&[], &[("8080/tcp", &[("0.0.0.0", "32768")])]);
        assert_eq!(registrations("prod", "10.0.0.1", &c)[0].name, "books-ms");
    }

    #[test]
    fn ignored_unpublished_and_checks() {
        let published: &[(&str, &[(&str, &str)])] = &[("8080/tcp", &[("", "1")])];
        assert!(registrations("prod", "a", &container(&["SERVICE_IGNORE=1"], published)).is_empty());
        assert!(registrations("prod", "a", &container(&["SERVICE_8080_IGNORE=yes"], published)).is_empty());
        assert_eq!(
            registrations("prod", "a", &container(&["SERVICE_IGNORE="], published)).len(),
            1
        );
        assert!(registrations("prod", "a", &container(&[], &[("8080/tcp", &[])])).is_empty());
        let tcp = registrations(
            "prod",
            "h",
            &container(&["SERVICE_CHECK_TCP=true", "SERVICE_CHECK_TIMEOUT=1s"], published),
        );
        assert_eq!(
            tcp[0].check,
            Some(json!({"TCP": "h:1", "Interval": "10s", "Timeout": "1s"}))
        );
        let ttl = registrations(
            "prod",
            "h",
            &container(&["SERVICE_CHECK_TTL=30s", "SERVICE_ID=x"], published),
        );
        assert_eq!(
            (ttl[0].id.as_str(), ttl[0].check.clone()),
            ("x", Some(json!({"TTL": "30s"})))
        );
    }
}
