//! The Compose project as bgrun uses it: services with everything needed to create their
//! containers, the names and labels docker-compose 1.29 gives those containers, and its
//! `config-hash`.

use indexmap::IndexMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::py;
use crate::error::Error;
use crate::source::Span;

/// The docker-compose version whose behaviour this model follows; it is the value of the
/// `com.docker.compose.version` label.
pub const COMPOSE_VERSION: &str = "1.29.2";

pub const LABEL_PROJECT: &str = "com.docker.compose.project";
pub const LABEL_SERVICE: &str = "com.docker.compose.service";
pub const LABEL_ONE_OFF: &str = "com.docker.compose.oneoff";
pub const LABEL_CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub const LABEL_VERSION: &str = "com.docker.compose.version";
pub const LABEL_WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const LABEL_CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const LABEL_CONFIG_HASH: &str = "com.docker.compose.config-hash";

/// A Compose project: every service of the files, merged and resolved.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project name (`-p`), normalised as docker-compose does.
    pub name: String,
    /// The project directory (the directory of the first file), absolute.
    pub working_dir: String,
    /// The files as docker-compose names them in the `config_files` label.
    pub config_files: Vec<String>,
    /// `true` for a version 1 file (services at the top level, no networks).
    pub v1: bool,
    /// Services in the order the files define them.
    pub services: IndexMap<String, Service>,
    /// Networks by their name in the file; for version 2+ files `default` is always there.
    pub networks: IndexMap<String, Network>,
    pub volumes: IndexMap<String, Volume>,
    /// What docker-compose would warn about (unset variables, ignored settings).
    pub warnings: Vec<String>,
    /// Services in dependency order (dependencies first).
    pub(crate) order: Vec<String>,
}

/// One service, with what creating one of its containers takes.
#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    /// Where the service is defined (its name in the file).
    pub span: Span,
    /// The image to run: `image:`, or `<project>_<service>` for a service that is only built.
    pub image: String,
    /// `build:` as docker-compose normalises it (`context` absolute, `args` resolved); not built.
    pub build: Option<Value>,
    pub container_name: Option<String>,
    /// `command:`; a string is split as a shell would (`shlex`).
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// `KEY=value` (or `KEY` for a variable without value), `env_file`s merged in.
    pub environment: Vec<String>,
    /// The labels written in the file (the container's also get docker-compose's own, see
    /// [`Project::container_labels`]).
    pub labels: IndexMap<String, String>,
    /// Port bindings, in docker-compose's order.
    pub ports: Vec<PortBinding>,
    /// Container ports to expose (`8080/tcp`): the bound ones and `expose:`.
    pub exposed_ports: Vec<String>,
    /// Host paths and named volumes, `source:target:mode` as Docker's `Binds`.
    pub binds: Vec<String>,
    /// Container paths of the short-syntax volumes (Docker's `Volumes`).
    pub container_volumes: Vec<String>,
    /// Long-syntax volumes and secrets, as Docker's `Mounts`.
    pub mounts: Vec<Mount>,
    pub tmpfs: Vec<String>,
    pub volumes_from: Vec<VolumesFrom>,
    pub restart: Option<RestartPolicy>,
    /// `links:` as written (service and alias).
    pub links: Vec<Link>,
    /// Docker's `Links` as docker-compose fills them: `<container>:<alias>` for every container
    /// of each linked service (containers numbered 1 up to the service's scale).
    pub container_links: Vec<String>,
    pub external_links: Vec<String>,
    pub network_mode: NetworkMode,
    /// `pid:` (`host`, `service:<name>`, `container:<name>`).
    pub pid: Option<String>,
    /// `ipc:` (`host`, `shareable`, `service:<name>`, `container:<name>`).
    pub ipc: Option<String>,
    /// Networks to join by their full name, the primary one first.
    pub networks: IndexMap<String, ServiceNetwork>,
    pub healthcheck: Option<Healthcheck>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub stop_signal: Option<String>,
    /// `stop_grace_period` in seconds.
    pub stop_grace_period: Option<f64>,
    pub privileged: bool,
    pub read_only: bool,
    pub tty: bool,
    pub stdin_open: bool,
    pub init: Option<bool>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    /// `host:ip` entries.
    pub extra_hosts: Vec<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub devices: Vec<String>,
    pub sysctls: IndexMap<String, String>,
    pub logging: Option<Logging>,
    pub mac_address: Option<String>,
    pub scale: i64,
    /// Services this one depends on, with the condition (`service_started`, `service_healthy`).
    pub depends_on: IndexMap<String, String>,
    pub profiles: Vec<String>,
    /// The service's settings as docker-compose holds them (its `Service.options`), as JSON:
    /// what the typed fields above do not cover is here.
    pub options: Value,
    pub(crate) hash: HashInputs,
}

/// The parts of docker-compose's `config_dict` besides the image ID.
#[derive(Debug, Clone, Default)]
pub(crate) struct HashInputs {
    pub links: Vec<(String, Option<String>)>,
    pub net: Option<String>,
    pub ipc: Option<String>,
    pub networks: Value,
    pub secrets: Value,
    pub volumes_from: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortBinding {
    /// `""` for every interface.
    pub host_ip: String,
    /// `""` for a port Docker picks; a range `"8000-8001"` lets Docker pick within it.
    pub host_port: String,
    pub container_port: String,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

impl PortBinding {
    /// The key of Docker's `PortBindings`: `8080/tcp`.
    pub fn container_key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// `bind`, `volume` or `tmpfs`.
    pub kind: String,
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub consistency: Option<String>,
    pub propagation: Option<String>,
    pub no_copy: Option<bool>,
    pub tmpfs_size: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumesFrom {
    /// A service name or, with `container`, a container name.
    pub source: String,
    /// `rw` or `ro`.
    pub mode: String,
    pub container: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RestartPolicy {
    /// `no`, `always`, `on-failure` or `unless-stopped`.
    pub name: String,
    pub maximum_retry_count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub service: String,
    /// The name given after `:`, if any.
    pub alias: Option<String>,
}

/// How a container's network is set up.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkMode {
    /// Version 1 files: Docker's default bridge.
    Default,
    /// The primary network's full name (`<project>_default`).
    Network(String),
    /// `service:<name>`: the network stack of that service's first container.
    Service(String),
    /// `container:<name>`: the network stack of that container.
    Container(String),
    /// `host`, `none`, `bridge`, ...: passed to Docker as written.
    Other(String),
}

impl NetworkMode {
    /// `HostConfig.NetworkMode`, except for `Service` whose container ID only Docker knows.
    pub fn docker_value(&self) -> Option<String> {
        match self {
            NetworkMode::Default => None,
            NetworkMode::Network(n) | NetworkMode::Other(n) => Some(n.clone()),
            NetworkMode::Service(s) => Some(format!("service:{s}")),
            NetworkMode::Container(c) => Some(format!("container:{c}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceNetwork {
    /// Aliases on the network; docker-compose adds the service name.
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
    pub link_local_ips: Vec<String>,
    pub priority: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Healthcheck {
    /// `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`.
    pub test: Option<Vec<String>>,
    /// Durations in nanoseconds, as Docker takes them.
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub start_period: Option<i64>,
    pub retries: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Logging {
    pub driver: String,
    pub options: IndexMap<String, String>,
}

/// A network of the project.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// The name Docker knows it by: `name:`, the external name, or `<project>_<name>`.
    pub full_name: String,
    pub driver: Option<String>,
    pub driver_opts: IndexMap<String, String>,
    pub external: bool,
    pub internal: bool,
    pub enable_ipv6: bool,
    pub attachable: bool,
    pub labels: IndexMap<String, String>,
    /// `ipam:` as written.
    pub ipam: Option<Value>,
}

/// A named volume of the project.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// The name Docker knows it by: `name:`, the external name, or `<project>_<name>`.
    pub full_name: String,
    pub driver: Option<String>,
    pub driver_opts: IndexMap<String, String>,
    pub external: bool,
    pub labels: IndexMap<String, String>,
}

/// docker-compose 1.29's `normalize_name`: lower case, only `a-z`, `0-9`, `-` and `_` kept.
pub fn normalize_project_name(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect()
}

/// docker-compose's `json_hash`: SHA-256 of `json.dumps(obj, sort_keys=True, separators=(',', ':'))`.
pub fn json_hash(value: &Value) -> String {
    let dump = py::json_dumps(value, py::JsonStyle::CompactSorted);
    Sha256::digest(dump.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Service {
    /// docker-compose's `Service.config_dict()` with the image's ID (`None` when the image is
    /// missing, as docker-compose then hashes `null`).
    pub fn config_dict(&self, image_id: Option<&str>) -> Value {
        let h = &self.hash;
        json!({
            "options": self.options,
            "image_id": image_id,
            "links": h.links.iter().map(|(s, a)| json!([s, a])).collect::<Vec<_>>(),
            "net": h.net,
            "ipc_mode": h.ipc,
            "networks": h.networks,
            "secrets": h.secrets,
            "volumes_from": h.volumes_from.iter().map(|(s, m)| json!([s, m])).collect::<Vec<_>>(),
        })
    }

    /// The `com.docker.compose.config-hash` label docker-compose computes for this service with
    /// the given image ID (`sha256:...` as Docker reports it).
    pub fn config_hash(&self, image_id: &str) -> String {
        json_hash(&self.config_dict(Some(image_id)))
    }
}

impl Project {
    /// A service by name; an unknown name is an error with the closest name as a suggestion.
    pub fn service(&self, name: &str) -> Result<&Service, Error> {
        self.services.get(name).ok_or_else(|| {
            let err = Error::usage(format!("no such service: `{name}`"));
            match crate::error::suggest(name, self.services.keys().map(String::as_str)) {
                Some(s) => err.with_help(format!("did you mean `{s}`?")),
                None => err.with_help(format!(
                    "the services are {}",
                    self.services
                        .keys()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        })
    }

    /// The name docker-compose gives container `number` of a service: `container_name:` if set,
    /// else `<project>_<service>_<number>`.
    pub fn container_name(&self, service: &str, number: u32) -> String {
        if let Some(name) = self.services.get(service).and_then(|s| s.container_name.clone()) {
            return name;
        }
        format!("{}_{service}_{number}", self.name.trim_start_matches(['-', '_']))
    }

    /// The `com.docker.compose.config-hash` of a service with the given image ID; empty for a
    /// service the project does not have (look names up with [`Project::service`] first).
    pub fn config_hash(&self, service: &str, image_id: &str) -> String {
        self.services
            .get(service)
            .map(|s| s.config_hash(image_id))
            .unwrap_or_default()
    }

    /// Every label docker-compose puts on container `number` of a service: the service's own
    /// labels, then the project, service, one-off, working directory, config files, number,
    /// version and config hash labels.
    pub fn container_labels(&self, service: &str, number: u32, image_id: &str) -> IndexMap<String, String> {
        let mut labels = IndexMap::new();
        let Some(s) = self.services.get(service) else {
            return labels;
        };
        labels.extend(s.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        labels.insert(LABEL_PROJECT.into(), self.name.clone());
        labels.insert(LABEL_SERVICE.into(), service.into());
        labels.insert(LABEL_ONE_OFF.into(), "False".into());
        labels.insert(LABEL_WORKING_DIR.into(), self.working_dir.clone());
        labels.insert(LABEL_CONFIG_FILES.into(), self.config_files.join(","));
        labels.insert(LABEL_CONTAINER_NUMBER.into(), number.to_string());
        labels.insert(LABEL_VERSION.into(), COMPOSE_VERSION.into());
        labels.insert(LABEL_CONFIG_HASH.into(), s.config_hash(image_id));
        labels
    }

    /// The labels docker-compose filters a service's containers by (`docker ps --filter`).
    pub fn service_filter_labels(&self, service: &str) -> Vec<String> {
        vec![
            format!("{LABEL_PROJECT}={}", self.name),
            format!("{LABEL_SERVICE}={service}"),
            format!("{LABEL_ONE_OFF}=False"),
        ]
    }

    /// The services to start for `up <services>`, dependencies first: the named services and
    /// what they need through `links`, `depends_on`, `volumes_from` and `network_mode:
    /// service:`. No names means every service without `profiles`. Unknown names are skipped
    /// (check them with [`Project::service`]).
    pub fn start_order(&self, services: &[String]) -> Vec<String> {
        let mut wanted: Vec<String> = if services.is_empty() {
            self.services
                .values()
                .filter(|s| s.profiles.is_empty())
                .map(|s| s.name.clone())
                .collect()
        } else {
            services
                .iter()
                .filter(|s| self.services.contains_key(*s))
                .cloned()
                .collect()
        };
        let mut i = 0;
        while i < wanted.len() {
            if let Some(s) = self.services.get(&wanted[i]) {
                for dep in s.dependency_names() {
                    if !wanted.contains(&dep) && self.services.contains_key(&dep) {
                        wanted.push(dep);
                    }
                }
            }
            i += 1;
        }
        self.order.iter().filter(|s| wanted.contains(s)).cloned().collect()
    }
}

impl Service {
    /// The services this one needs first.
    pub fn dependency_names(&self) -> Vec<String> {
        let mut deps: Vec<String> = self.links.iter().map(|l| l.service.clone()).collect();
        deps.extend(
            self.volumes_from
                .iter()
                .filter(|v| !v.container)
                .map(|v| v.source.clone()),
        );
        if let NetworkMode::Service(s) = &self.network_mode {
            deps.push(s.clone());
        }
        for mode in [&self.pid, &self.ipc] {
            if let Some(s) = mode.as_deref().and_then(|v| v.strip_prefix("service:")) {
                deps.push(s.to_string());
            }
        }
        deps.extend(self.depends_on.keys().cloned());
        deps.dedup();
        deps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_normalise_like_docker_compose() {
        assert_eq!(normalize_project_name("books-ms"), "books-ms");
        assert_eq!(normalize_project_name("Books MS.v2"), "booksmsv2");
        assert_eq!(normalize_project_name("my_app-1"), "my_app-1");
        assert_eq!(normalize_project_name("Été"), "t");
    }
}
