//! A typed client for Consul's HTTP API (catalog, health, KV, agent services) over reqwest.
//! The ACL token, when there is one, goes in a header and is never printed.

mod data;
pub mod lock;
mod secret;
mod session;
mod settings;

pub use session::LockKey;

pub use data::{CheckState, NodeInfo, ServiceHealth, ServiceInfo};
pub use secret::{HIDDEN, Secret, scrub_json, scrub_text};
pub use settings::{ConsulSettings, DEFAULT_PORT, Target};

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One Consul agent or server, by its HTTP address.
#[derive(Clone)]
pub struct Consul {
    base: String,
    token: Option<String>,
    datacenter: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Consul {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consul")
            .field("base", &self.base)
            .field("datacenter", &self.datacenter)
            .finish_non_exhaustive()
    }
}

/// What went wrong talking to Consul, in words that name the address.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConsulError(pub String);

/// A service of the catalog with its tags, as `GET /v1/catalog/services` lists them (and as
/// consul-template's `services` gives them to templates: `.Name`, `.Tags`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogService {
    pub name: String,
    pub tags: Vec<String>,
}

/// An instance of a service in the catalog (`GET /v1/catalog/service/<name>`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CatalogEntry {
    pub node: String,
    pub address: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    pub service_name: String,
    #[serde(default)]
    pub service_address: String,
    pub service_port: u16,
    #[serde(default)]
    pub service_tags: Option<Vec<String>>,
}

/// A service instance with its node and checks, from the health endpoint.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthEntry {
    pub node: HealthNode,
    pub service: HealthService,
    #[serde(default)]
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthNode {
    pub node: String,
    pub address: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthService {
    #[serde(rename = "ID")]
    pub id: String,
    pub service: String,
    #[serde(default)]
    pub address: String,
    pub port: u16,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Check {
    #[serde(rename = "CheckID")]
    pub check_id: String,
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub output: String,
    #[serde(rename = "ServiceID", default)]
    pub service_id: String,
}

impl HealthEntry {
    /// The worst state of the instance's checks: `passing`, `warning` or `critical`.
    pub fn status(&self) -> &str {
        let rank = |s: &str| match s {
            "critical" => 2,
            "warning" => 1,
            _ => 0,
        };
        self.checks
            .iter()
            .map(|c| c.status.as_str())
            .max_by_key(|s| rank(s))
            .unwrap_or("passing")
    }
}

/// A KV entry.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct KeyValue {
    pub key: String,
    /// Base64 in Consul's answer; decoded by [`Consul::kv_get`].
    #[serde(default)]
    pub value: Option<String>,
    pub modify_index: u64,
}

/// A service to register with the local agent.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Registration {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub address: String,
    pub port: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Json>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, Json>,
}

impl Consul {
    /// A client for the agent at `address` (`http://host:8500` or `host:8500`) with exactly this
    /// token and datacenter. bgrun's commands and modules build theirs with [`Consul::for_host`],
    /// which finds these in the step's settings, the host's variables and the environment.
    pub fn new(address: &str, token: Option<String>, datacenter: Option<String>) -> Result<Self, ConsulError> {
        let base = base_url(address);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ConsulError(format!("cannot set up HTTP for Consul: {e}")))?;
        Ok(Consul {
            base,
            token,
            datacenter,
            http,
        })
    }

    pub fn address(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(dc) = &self.datacenter {
            request = request.query(&[("dc", dc)]);
        }
        if let Some(token) = &self.token {
            request = request.header("X-Consul-Token", token);
        }
        request
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, ConsulError> {
        let response = request.send().await.map_err(|e| {
            let reason = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            ConsulError(format!("Consul at {} does not answer ({what}): {reason}", self.base))
        })?;
        let status = response.status();
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(ConsulError(format!(
            "Consul at {} refused {what}: HTTP {status}: {}",
            self.base,
            body.trim()
        )))
    }

    async fn json<T: serde::de::DeserializeOwned + Default>(&self, path: &str, what: &str) -> Result<T, ConsulError> {
        let response = self.send(self.request(reqwest::Method::GET, path), what).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(T::default());
        }
        response.json().await.map_err(|e| {
            ConsulError(format!(
                "Consul at {} gave an answer bgrun cannot read ({what}): {e}",
                self.base
            ))
        })
    }

    /// A key's value, and its modify index for check-and-set; `None` when absent.
    pub async fn kv_get(&self, key: &str) -> Result<Option<(String, u64)>, ConsulError> {
        let entries: Vec<KeyValue> = self
            .json(
                &format!("/v1/kv/{}", key.trim_start_matches('/')),
                &format!("reading key `{key}`"),
            )
            .await?;
        Ok(entries
            .into_iter()
            .next()
            .map(|e| (decode(e.value.as_deref()), e.modify_index)))
    }

    /// Keys and values under a prefix (all levels).
    pub async fn kv_list(&self, prefix: &str) -> Result<Vec<(String, String)>, ConsulError> {
        let entries: Vec<KeyValue> = self
            .json(
                &format!("/v1/kv/{}?recurse=true", prefix.trim_start_matches('/')),
                &format!("listing `{prefix}`"),
            )
            .await?;
        Ok(entries
            .into_iter()
            .map(|e| (e.key, decode(e.value.as_deref())))
            .collect())
    }

    /// Sets a key; with `cas`, only if the key's modify index is still that (0: only if absent).
    /// Returns whether Consul took the write.
    pub async fn kv_put(&self, key: &str, value: &str, cas: Option<u64>) -> Result<bool, ConsulError> {
        let mut request = self
            .request(reqwest::Method::PUT, &format!("/v1/kv/{}", key.trim_start_matches('/')))
            .body(value.to_string());
        if let Some(index) = cas {
            request = request.query(&[("cas", index)]);
        }
        let response = self.send(request, &format!("writing key `{key}`")).await?;
        Ok(response.text().await.unwrap_or_default().trim() == "true")
    }

    pub async fn kv_delete(&self, key: &str) -> Result<(), ConsulError> {
        self.send(
            self.request(
                reqwest::Method::DELETE,
                &format!("/v1/kv/{}", key.trim_start_matches('/')),
            ),
            &format!("deleting key `{key}`"),
        )
        .await?;
        Ok(())
    }

    /// Every service of the catalog with its tags.
    pub async fn services(&self) -> Result<indexmap::IndexMap<String, Vec<String>>, ConsulError> {
        self.json("/v1/catalog/services", "listing services").await
    }

    /// The catalog's instances of a service.
    pub async fn catalog_service(&self, name: &str, tag: Option<&str>) -> Result<Vec<CatalogEntry>, ConsulError> {
        let mut path = format!("/v1/catalog/service/{name}");
        if let Some(tag) = tag {
            path.push_str(&format!("?tag={tag}"));
        }
        self.json(&path, &format!("reading service `{name}`")).await
    }

    /// Instances of a service with their health checks.
    pub async fn health_service(&self, name: &str, tag: Option<&str>) -> Result<Vec<HealthEntry>, ConsulError> {
        let mut path = format!("/v1/health/service/{name}");
        if let Some(tag) = tag {
            path.push_str(&format!("?tag={tag}"));
        }
        self.json(&path, &format!("reading the health of `{name}`")).await
    }

    /// Every node of the catalog.
    pub async fn nodes(&self) -> Result<Vec<Json>, ConsulError> {
        self.json("/v1/catalog/nodes", "listing nodes").await
    }

    /// Registers a service with the agent.
    pub async fn register(&self, registration: &Registration) -> Result<(), ConsulError> {
        let request = self
            .request(reqwest::Method::PUT, "/v1/agent/service/register")
            .json(registration);
        self.send(request, &format!("registering `{}`", registration.id))
            .await?;
        Ok(())
    }

    /// Removes a service from the agent.
    pub async fn deregister(&self, id: &str) -> Result<(), ConsulError> {
        self.send(
            self.request(reqwest::Method::PUT, &format!("/v1/agent/service/deregister/{id}")),
            &format!("deregistering `{id}`"),
        )
        .await?;
        Ok(())
    }

    /// The agent's own services, by ID.
    pub async fn agent_services(&self) -> Result<indexmap::IndexMap<String, Json>, ConsulError> {
        self.json("/v1/agent/services", "listing the agent's services").await
    }
}

/// An address as the base of request URLs: with a scheme (`http://` when none), no trailing `/`.
fn base_url(address: &str) -> String {
    if address.contains("://") {
        address.trim_end_matches('/').to_string()
    } else {
        format!("http://{}", address.trim_end_matches('/'))
    }
}

fn decode(value: Option<&str>) -> String {
    use base64::Engine;
    value
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
