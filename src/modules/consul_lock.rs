//! `consul_lock` takes a lock in Consul for the rest of the run, or releases it: one deploy of a
//! service at a time. The key holds who took it (user, controller, pid, `holder` fields, since
//! when). A lock another run holds fails the step at once, naming the holder, unless `wait`
//! (default: `--lock-wait`) gives it time. In check mode it only says whether the lock is free.
//!
//! ```yaml
//! - consul_lock:
//!     key: books-ms/deploy/lock
//!     holder: {release: "2"}   # shown to whoever is refused
//!     ttl: 15                  # seconds; Consul frees the lock of a killed run within 2 x ttl
//!     wait: 0                  # seconds to wait for a held lock
//!     state: held              # or released
//! ```

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::consul::lock::{self, Refused};
use crate::consul::{ConsulSettings, Secret};
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsulLock {
    key: String,
    #[serde(default)]
    state: State,
    /// Fields added to the holder's record (`release`, `reason`, ...).
    #[serde(default)]
    holder: serde_json::Map<String, Json>,
    #[serde(default = "default_ttl")]
    ttl: u64,
    /// Seconds to wait for a held lock; default the run's `--lock-wait`.
    #[serde(default)]
    wait: Option<f64>,
    #[serde(default)]
    consul_addr: Option<String>,
    #[serde(default)]
    datacenter: Option<String>,
    #[serde(default)]
    token: Option<Secret>,
    #[serde(default)]
    token_file: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    #[default]
    Held,
    Released,
}

fn default_ttl() -> u64 {
    15
}

// Transitional: converted to plan/apply next.
impl Module for ConsulLock {
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        Ok(Plan::Done(self.legacy(cx).await?))
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

impl ConsulLock {
    async fn legacy(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let settings = ConsulSettings {
            address: self.consul_addr.clone(),
            token: self.token.as_ref().map(|t| t.0.clone()),
            token_file: self.token_file.clone(),
            datacenter: self.datacenter.clone(),
        };
        let consul = cx.consul(&settings)?;
        let key = self.key.trim_matches('/').to_string();
        if key.is_empty() {
            return Err(HostError::Failed("invalid arguments: `key` is empty".into()));
        }
        let address = consul.address().to_string();
        if self.state == State::Released {
            if cx.legacy_check {
                let held = lock::holds(&address, &key);
                return Ok(Outcome::changed(held).with("key", key.as_str()));
            }
            let released = lock::release(&address, &key)
                .await
                .map_err(|e| HostError::Failed(e.0))?;
            return Ok(Outcome::changed(released).with("key", key.as_str()));
        }
        if lock::holds(&address, &key) {
            return Ok(Outcome::ok()
                .with("key", key.as_str())
                .msg(format!("`{key}` is already held by this run")));
        }
        let mut holder = serde_json::Map::new();
        holder.insert("user".into(), json!(crate::controller::user()));
        holder.insert("controller".into(), json!(crate::controller::host_name()));
        holder.insert("pid".into(), json!(std::process::id()));
        holder.extend(self.holder.clone());
        holder.insert("since".into(), json!(crate::controller::utc_now()));
        let holder = Json::Object(holder);
        let refused = |current: &Json| {
            format!(
                "the lock `{key}` is held by {}: another run is at work; nothing was changed (wait for it with --lock-wait SECONDS)",
                lock::describe(current)
            )
        };
        if cx.legacy_check {
            let found = consul.lock_key(&key).await.map_err(|e| HostError::Failed(e.0))?;
            return Ok(match found {
                Some(current) if current.session.is_some() => {
                    let current: Json = serde_json::from_str(&current.value).unwrap_or(Json::String(current.value));
                    Outcome::ok()
                        .with("key", key.as_str())
                        .with("free", false)
                        .with("holder", current.clone())
                        .msg(refused(&current))
                }
                _ => Outcome::changed(true)
                    .with("key", key.as_str())
                    .with("free", true)
                    .msg(format!("the lock `{key}` is free")),
            });
        }
        let wait = match self.wait {
            Some(seconds) if seconds.is_finite() && seconds >= 0.0 => Duration::from_secs_f64(seconds),
            Some(seconds) => return Err(HostError::Failed(format!("invalid arguments: `wait` {seconds}"))),
            None => cx.lock_wait,
        };
        match lock::acquire(&consul, &key, &holder, self.ttl, wait, cx.progress).await {
            Ok(()) => Ok(Outcome::changed(true)
                .with("key", key.as_str())
                .with("holder", holder.clone())
                .with("since", holder["since"].clone())),
            Err(Refused::Held { holder: current }) => Ok(Outcome::failed(refused(&current))
                .with("key", key.as_str())
                .with("holder", current)
                .with("refused", true)),
            Err(Refused::Consul(e)) => Err(HostError::Failed(e.0)),
        }
    }
}
