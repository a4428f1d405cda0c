//! Consul's answers with every field consul-template passes to templates: service instances
//! with their node and checks, the catalog's services and nodes. The shaping for templates is
//! done in `ctmpl`; here they are Consul's data as the HTTP API gives it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

use super::{CatalogService, Consul, ConsulError};

/// An instance of a service with its node and checks (`GET /v1/health/service/<name>`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceHealth {
    pub node: NodeInfo,
    pub service: ServiceInfo,
    pub checks: Vec<CheckState>,
}

/// A node of the catalog.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    pub tagged_addresses: Option<BTreeMap<String, String>>,
    pub meta: Option<BTreeMap<String, String>>,
}

/// The service part of a health entry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub service: String,
    pub tags: Option<Vec<String>>,
    pub address: String,
    pub port: u16,
    pub meta: Option<BTreeMap<String, String>>,
}

/// A check of a health entry: its ID and status.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CheckState {
    #[serde(rename = "CheckID")]
    pub check_id: String,
    pub status: String,
}

impl Consul {
    /// Every instance of a service, any health, with its node and checks
    /// (`GET /v1/health/service/<name>`), as consul-template's `service` reads them.
    pub async fn service_health(&self, name: &str) -> Result<Vec<ServiceHealth>, ConsulError> {
        let path = format!("/v1/health/service/{}", path_segment(name));
        self.json(&path, &format!("reading service `{name}`")).await
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
    pub async fn node_list(&self) -> Result<Vec<NodeInfo>, ConsulError> {
        self.json("/v1/catalog/nodes", "listing nodes").await
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
    fn names_are_one_path_segment() {
        assert_eq!(path_segment("a b/c"), "a%20b%2Fc");
    }
}
