//! Which Consul a host talks to (address, ACL token, datacenter from a step's arguments, the
//! host's variables and the environment), and Consul's answers in the shape consul-template gives
//! them to templates (health-aggregated service instances, catalog services, nodes), filled into a
//! [`Snapshot`] for `.ctmpl` rendering and the template lookups.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Consul, ConsulError};
use crate::ctmpl::{CatalogService, Dependency, HealthState, Node, ServiceInstance, Snapshot};

/// The port Consul's HTTP API listens on unless a host says otherwise.
pub const DEFAULT_PORT: u16 = 8500;

/// What a step says about reaching Consul; anything left out comes from the host's variables
/// (`consul_addr`, `consul_token`, `consul_token_file`, `consul_datacenter`) and then the
/// environment (`CONSUL_HTTP_TOKEN`, `CONSUL_HTTP_TOKEN_FILE`).
#[derive(Clone, Default)]
pub struct ConsulSettings {
    pub address: Option<String>,
    pub token: Option<String>,
    /// A file on the machine running bgrun that holds the token.
    pub token_file: Option<String>,
    pub datacenter: Option<String>,
}

impl std::fmt::Debug for ConsulSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsulSettings")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("token_file", &self.token_file)
            .field("datacenter", &self.datacenter)
            .finish()
    }
}

/// A setting's text, `None` when unset or empty.
fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn read_token_file(path: &str) -> Result<String, ConsulError> {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_string())
        .map_err(|e| ConsulError(format!("cannot read the Consul token file `{path}`: {e}")))
}

impl ConsulSettings {
    /// The address of `host`'s Consul: the setting, else the host's `consul_addr`, else
    /// `http://<ansible_host or host name>:8500`.
    pub fn address_for(&self, host: &str, var: &dyn Fn(&str) -> Option<String>) -> String {
        given(self.address.clone())
            .or_else(|| given(var("consul_addr")))
            .unwrap_or_else(|| {
                let name = given(var("ansible_host")).unwrap_or_else(|| host.to_string());
                format!("http://{name}:{DEFAULT_PORT}")
            })
    }

    /// The ACL token: the setting, the setting's `token_file`, the host's `consul_token`, the
    /// host's `consul_token_file`, `CONSUL_HTTP_TOKEN`, `CONSUL_HTTP_TOKEN_FILE`; `None` when
    /// none is set.
    pub fn token_for(&self, var: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, ConsulError> {
        if let Some(token) = given(self.token.clone()) {
            return Ok(Some(token));
        }
        if let Some(path) = given(self.token_file.clone()) {
            return read_token_file(&path).map(Some);
        }
        if let Some(token) = given(var("consul_token")) {
            return Ok(Some(token));
        }
        if let Some(path) = given(var("consul_token_file")) {
            return read_token_file(&path).map(Some);
        }
        if let Some(token) = given(std::env::var("CONSUL_HTTP_TOKEN").ok()) {
            return Ok(Some(token));
        }
        if let Some(path) = given(std::env::var("CONSUL_HTTP_TOKEN_FILE").ok()) {
            return read_token_file(&path).map(Some);
        }
        Ok(None)
    }
}

/// Consul's health entry with every field consul-template passes to templates.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawHealth {
    node: RawNode,
    service: RawService,
    checks: Vec<RawCheck>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawNode {
    #[serde(rename = "ID")]
    id: String,
    node: String,
    address: String,
    datacenter: String,
    tagged_addresses: Option<BTreeMap<String, String>>,
    meta: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawService {
    #[serde(rename = "ID")]
    id: String,
    service: String,
    tags: Option<Vec<String>>,
    address: String,
    port: u16,
    meta: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawCheck {
    #[serde(rename = "CheckID")]
    check_id: String,
    status: String,
}

/// A check's contribution to an instance's health, as Consul's `AggregatedStatus` counts it:
/// the node's and the service's maintenance checks put the instance in maintenance.
fn check_state(check_id: &str, status: &str) -> HealthState {
    if check_id == "_node_maintenance" || check_id.starts_with("_service_maintenance:") {
        return HealthState::Maintenance;
    }
    match status {
        "passing" => HealthState::Passing,
        "warning" => HealthState::Warning,
        _ => HealthState::Critical,
    }
}

impl From<RawHealth> for ServiceInstance {
    fn from(raw: RawHealth) -> Self {
        let status = HealthState::aggregate(raw.checks.iter().map(|c| check_state(&c.check_id, &c.status)));
        let address = if raw.service.address.is_empty() {
            raw.node.address.clone()
        } else {
            raw.service.address
        };
        ServiceInstance {
            node: raw.node.node,
            node_id: raw.node.id,
            node_address: raw.node.address,
            node_datacenter: raw.node.datacenter,
            node_tagged_addresses: raw.node.tagged_addresses.unwrap_or_default(),
            node_meta: raw.node.meta.unwrap_or_default(),
            service_meta: raw.service.meta.unwrap_or_default(),
            address,
            id: raw.service.id,
            name: raw.service.service,
            tags: raw.service.tags.unwrap_or_default(),
            status,
            port: raw.service.port,
        }
    }
}

impl Consul {
    /// A client for `host`'s Consul, from `settings` and the host's variables (`var`).
    pub fn for_host(
        host: &str,
        var: &dyn Fn(&str) -> Option<String>,
        settings: &ConsulSettings,
    ) -> Result<Consul, ConsulError> {
        let address = settings.address_for(host, var);
        let token = settings.token_for(var)?;
        let datacenter = given(settings.datacenter.clone()).or_else(|| given(var("consul_datacenter")));
        Consul::new(&address, token, datacenter)
    }

    /// The token this client sends, to keep it out of anything bgrun prints.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Every instance of a service, any health, each with its health aggregated over its checks
    /// (`GET /v1/health/service/<name>`), as consul-template's `service` reads them.
    pub async fn service_instances(&self, name: &str) -> Result<Vec<ServiceInstance>, ConsulError> {
        let path = format!("/v1/health/service/{}", path_segment(name));
        let raw: Vec<RawHealth> = self.json(&path, &format!("reading service `{name}`")).await?;
        Ok(raw.into_iter().map(ServiceInstance::from).collect())
    }

    /// The catalog's services with their tags, as consul-template's `services` reads them.
    pub async fn service_list(&self) -> Result<Vec<CatalogService>, ConsulError> {
        let services = self.services().await?;
        Ok(services
            .into_iter()
            .map(|(name, tags)| CatalogService { name, tags })
            .collect())
    }

    /// The catalog's nodes, as consul-template's `nodes` reads them.
    pub async fn node_list(&self) -> Result<Vec<Node>, ConsulError> {
        let raw: Vec<RawNode> = self.json("/v1/catalog/nodes", "listing nodes").await?;
        Ok(raw
            .into_iter()
            .map(|n| Node {
                id: n.id,
                node: n.node,
                address: n.address,
                datacenter: n.datacenter,
                tagged_addresses: n.tagged_addresses.unwrap_or_default(),
                meta: n.meta.unwrap_or_default(),
            })
            .collect())
    }

    /// Fetches what a template needs into `snapshot`.
    pub async fn fetch(&self, dependency: &Dependency, snapshot: &mut Snapshot) -> Result<(), ConsulError> {
        let answer = self.answer(dependency).await?;
        answer.record(dependency, snapshot);
        Ok(())
    }

    /// Fetches several dependencies at once into `snapshot`; the first failure is returned.
    pub async fn fetch_all(&self, dependencies: &[Dependency], snapshot: &mut Snapshot) -> Result<(), ConsulError> {
        let answers = futures::future::join_all(dependencies.iter().map(|d| self.answer(d))).await;
        for (dependency, answer) in dependencies.iter().zip(answers) {
            answer?.record(dependency, snapshot);
        }
        Ok(())
    }

    async fn answer(&self, dependency: &Dependency) -> Result<Answer, ConsulError> {
        Ok(match dependency {
            Dependency::Service { name, .. } => Answer::Service(self.service_instances(name).await?),
            Dependency::Key(path) => Answer::Key(self.kv_get(path).await?.map(|(value, _)| value)),
            Dependency::Ls(prefix) | Dependency::Tree(prefix) => Answer::Prefix(self.kv_list(prefix).await?),
            Dependency::Services => Answer::Services(self.service_list().await?),
            Dependency::Nodes => Answer::Nodes(self.node_list().await?),
        })
    }

    /// The checks the agent runs, by ID, with their latest output. The catalog's copy of a check
    /// whose status did not change can lag minutes behind (Consul syncs output on a slow timer).
    pub async fn agent_checks(&self) -> Result<indexmap::IndexMap<String, super::Check>, ConsulError> {
        self.json("/v1/agent/checks", "listing the agent's checks").await
    }

    /// Deletes every key under a prefix; returns how many there were.
    pub async fn kv_delete_tree(&self, prefix: &str) -> Result<usize, ConsulError> {
        let count = self.kv_list(prefix).await?.len();
        let path = format!("/v1/kv/{}", prefix.trim_start_matches('/'));
        let request = self
            .request(reqwest::Method::DELETE, &path)
            .query(&[("recurse", "true")]);
        self.send(request, &format!("deleting keys under `{prefix}`")).await?;
        Ok(count)
    }

    /// Deletes a key only if its modify index is still `index`; returns whether Consul did.
    pub async fn kv_delete_cas(&self, key: &str, index: u64) -> Result<bool, ConsulError> {
        let path = format!("/v1/kv/{}", key.trim_start_matches('/'));
        let request = self.request(reqwest::Method::DELETE, &path).query(&[("cas", index)]);
        let response = self.send(request, &format!("deleting key `{key}`")).await?;
        Ok(response.text().await.unwrap_or_default().trim() == "true")
    }

    /// Registers a service with the agent from a whole definition (Consul's JSON: `ID`, `Name`,
    /// `Address`, `Port`, `Tags`, `Meta`, `Checks`, ...).
    pub async fn register_definition(&self, definition: &Json) -> Result<(), ConsulError> {
        let id = definition.get("ID").and_then(Json::as_str).unwrap_or_default();
        let request = self
            .request(reqwest::Method::PUT, "/v1/agent/service/register")
            .json(definition);
        self.send(request, &format!("registering `{id}`")).await?;
        Ok(())
    }
}

/// Consul's answer to one dependency.
enum Answer {
    Service(Vec<ServiceInstance>),
    Key(Option<String>),
    Prefix(Vec<(String, String)>),
    Services(Vec<CatalogService>),
    Nodes(Vec<Node>),
}

impl Answer {
    fn record(self, dependency: &Dependency, snapshot: &mut Snapshot) {
        match (dependency, self) {
            (Dependency::Service { name, .. }, Answer::Service(instances)) => snapshot.set_service(name, instances),
            (Dependency::Key(path), Answer::Key(value)) => snapshot.set_key(path, value),
            (Dependency::Ls(prefix) | Dependency::Tree(prefix), Answer::Prefix(entries)) => {
                snapshot.set_prefix(prefix, entries)
            }
            (_, Answer::Services(services)) => snapshot.set_services(services),
            (_, Answer::Nodes(nodes)) => snapshot.set_nodes(nodes),
            _ => {}
        }
    }
}

/// A service name as one segment of a URL path.
fn path_segment(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '/' | '?' | '#' | '%' | ' ' => format!("%{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_tokens_and_datacenters_come_from_settings_then_variables() {
        let vars = |name: &str| match name {
            "ansible_host" => Some("10.0.0.7".to_string()),
            "consul_token" => Some("from-var".to_string()),
            _ => None,
        };
        let none = ConsulSettings::default();
        assert_eq!(none.address_for("prod", &vars), "http://10.0.0.7:8500");
        assert_eq!(none.address_for("prod", &|_| None), "http://prod:8500");
        let with_addr = |name: &str| (name == "consul_addr").then(|| "http://c:1".to_string());
        assert_eq!(none.address_for("prod", &with_addr), "http://c:1");
        let given = ConsulSettings {
            address: Some("x:2".into()),
            token: Some("arg".into()),
            ..Default::default()
        };
        assert_eq!(given.address_for("prod", &with_addr), "x:2");
        assert_eq!(given.token_for(&vars).unwrap().as_deref(), Some("arg"));
        assert_eq!(none.token_for(&vars).unwrap().as_deref(), Some("from-var"));
        assert!(!format!("{given:?}").contains("arg"));
        let missing = ConsulSettings {
            token_file: Some("/nonexistent/token".into()),
            ..Default::default()
        };
        assert!(missing.token_for(&vars).unwrap_err().0.contains("/nonexistent/token"));
    }

    #[test]
    fn instances_take_the_node_address_and_the_worst_check() {
        let raw: RawHealth = serde_json::from_value(serde_json::json!({
            "Node": {"ID": "n1", "Node": "prod", "Address": "10.0.0.1", "Datacenter": "dc1", "TaggedAddresses": null, "Meta": null},
            "Service": {"ID": "web-1", "Service": "web", "Tags": null, "Address": "", "Port": 80, "Meta": null},
            "Checks": [
                {"CheckID": "serfHealth", "Status": "passing"},
                {"CheckID": "service:web-1", "Status": "warning"}
            ]
        }))
        .unwrap();
        let instance = ServiceInstance::from(raw);
        assert_eq!(instance.address, "10.0.0.1");
        assert_eq!(instance.status, HealthState::Warning);
        assert_eq!(
            check_state("_service_maintenance:web-1", "critical"),
            HealthState::Maintenance
        );
        assert_eq!(path_segment("a b/c"), "a%20b%2Fc");
    }
}
