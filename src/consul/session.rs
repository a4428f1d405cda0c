//! Consul sessions and the locks they hold: a session with a TTL that bgrun renews while it runs,
//! a key taken with `?acquire=`, released with `?release=` or lost with the session.

use serde::Deserialize;
use serde_json::json;

use super::{Consul, ConsulError, decode};

/// Who holds a lock key, as Consul reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct LockKey {
    /// The session holding it; `None` when the key exists but is free.
    pub session: Option<String>,
    pub value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyEntry {
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    #[serde(rename = "ID")]
    id: String,
}

impl Consul {
    /// Creates a session that Consul ends when it is not renewed within `ttl_seconds` (Consul
    /// waits up to twice that); its locks are deleted with it. No lock delay: a lock that was
    /// lost is free at once.
    pub async fn session_create(&self, name: &str, ttl_seconds: u64) -> Result<String, ConsulError> {
        let request = self.request(reqwest::Method::PUT, "/v1/session/create").json(&json!({
            "Name": name,
            "TTL": format!("{ttl_seconds}s"),
            "Behavior": "delete",
            "LockDelay": "0s",
            "Checks": [],
        }));
        let response = self.send(request, "creating a session").await?;
        let created: Created = response
            .json()
            .await
            .map_err(|e| ConsulError(format!("Consul at {} gave no session: {e}", self.base)))?;
        Ok(created.id)
    }

    /// Renews a session; `false` when Consul no longer knows it.
    pub async fn session_renew(&self, id: &str) -> Result<bool, ConsulError> {
        let response = self
            .send(
                self.request(reqwest::Method::PUT, &format!("/v1/session/renew/{id}")),
                "renewing a session",
            )
            .await?;
        Ok(response.status() != reqwest::StatusCode::NOT_FOUND)
    }

    /// Ends a session; the keys it holds are deleted (`Behavior: delete`).
    pub async fn session_destroy(&self, id: &str) -> Result<(), ConsulError> {
        self.send(
            self.request(reqwest::Method::PUT, &format!("/v1/session/destroy/{id}")),
            "ending a session",
        )
        .await?;
        Ok(())
    }

    /// Takes `key` for `session`, writing `value`; `false` when another session holds it.
    pub async fn kv_acquire(&self, key: &str, session: &str, value: &str) -> Result<bool, ConsulError> {
        let request = self
            .request(reqwest::Method::PUT, &format!("/v1/kv/{}", key.trim_start_matches('/')))
            .query(&[("acquire", session)])
            .body(value.to_string());
        let response = self.send(request, &format!("taking the lock `{key}`")).await?;
        Ok(response.text().await.unwrap_or_default().trim() == "true")
    }

    /// A lock key and its holder; `None` when the key does not exist.
    pub async fn lock_key(&self, key: &str) -> Result<Option<LockKey>, ConsulError> {
        let entries: Vec<KeyEntry> = self
            .json(
                &format!("/v1/kv/{}", key.trim_start_matches('/')),
                &format!("reading the lock `{key}`"),
            )
            .await?;
        Ok(entries.into_iter().next().map(|e| LockKey {
            session: e.session.filter(|s| !s.is_empty()),
            value: decode(e.value.as_deref()),
        }))
    }
}
