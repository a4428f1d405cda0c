//! `consul_lock` takes a lock in Consul for the rest of the run, or releases it: one deploy of a
//! service at a time. The key holds who took it (user, controller, pid, `holder` fields, since
//! when). A lock another run holds fails the step at once, naming the holder, unless `wait`
//! (default: `--lock-wait`) gives it time. Its plan says whether the lock is free, so check mode
//! reports that and takes nothing.
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
use crate::consul::Consul;
use crate::consul::lock::{self, Refused};

module_arguments! {
[consul]
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
}
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

impl Module for ConsulLock {
    type Work = LockWork;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<LockWork>, Failure> {
        let consul = cx.consul(&self.consul_settings())?;
        let key = self.key.trim_matches('/').to_string();
        if key.is_empty() {
            return Err(Failure::new("invalid arguments: `key` is empty"));
        }
        let address = consul.address().to_string();
        if self.state == State::Released {
            let outcome = Outcome::changed(true).with("key", key.as_str());
            return Ok(match lock::holds(&address, &key) {
                true => Plan::Change(outcome, LockWork::Release { address, key }),
                false => Plan::Done(Outcome {
                    changed: false,
                    ..outcome
                }),
            });
        }
        if lock::holds(&address, &key) {
            return Ok(Plan::Done(
                Outcome::ok()
                    .with("key", key.as_str())
                    .msg(format!("`{key}` is already held by this run")),
            ));
        }
        let wait = match self.wait {
            Some(seconds) if seconds.is_finite() && seconds >= 0.0 => Duration::from_secs_f64(seconds),
            Some(seconds) => return Err(Failure::new(format!("invalid arguments: `wait` {seconds}"))),
            None => cx.lock_wait,
        };
        let mut holder = serde_json::Map::new();
        holder.insert("user".into(), json!(crate::controller::user()));
        holder.insert("controller".into(), json!(crate::controller::host_name()));
        holder.insert("pid".into(), json!(std::process::id()));
        holder.extend(self.holder.clone());
        holder.insert("since".into(), json!(crate::controller::utc_now()));
        let holder = Json::Object(holder);
        let found = consul.lock_key(&key).await.map_err(|e| Failure::new(e.0))?;
        let planned = match found {
            Some(current) if current.session.is_some() => {
                let current: Json = serde_json::from_str(&current.value).unwrap_or(Json::String(current.value));
                Outcome::ok()
                    .with("key", key.as_str())
                    .with("free", false)
                    .with("holder", current.clone())
                    .msg(refused(&key, &current))
            }
            _ => Outcome::changed(true)
                .with("key", key.as_str())
                .with("free", true)
                .msg(format!("the lock `{key}` is free")),
        };
        let work = LockWork::Acquire {
            consul,
            key,
            holder,
            ttl: self.ttl,
            wait,
        };
        Ok(Plan::Change(planned, work))
    }

    async fn apply(work: LockWork, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {
            LockWork::Release { address, key } => {
                let released = lock::release(&address, &key).await.map_err(|e| Failure::new(e.0))?;
                Ok(Outcome::changed(released).with("key", key.as_str()))
            }
            LockWork::Acquire {
                consul,
                key,
                holder,
                ttl,
                wait,
            } => match lock::acquire(&consul, &key, &holder, ttl, wait, cx.progress).await {
                Ok(()) => Ok(Outcome::changed(true)
                    .with("key", key.as_str())
                    .with("since", holder["since"].clone())
                    .with("holder", holder)),
                Err(Refused::Held { holder: current }) => Err(Failure::new(refused(&key, &current))
                    .with("key", key.as_str())
                    .with("holder", current)
                    .with("refused", true)),
                Err(Refused::Consul(e)) => Err(Failure::new(e.0)),
            },
        }
    }
}

/// What `consul_lock` does: take the lock (waiting up to `wait` for its holder), or let it go.
pub enum LockWork {
    Acquire {
        consul: Consul,
        key: String,
        holder: Json,
        ttl: u64,
        wait: Duration,
    },
    Release {
        address: String,
        key: String,
    },
}

/// Why a held lock stops the step, naming its holder.
fn refused(key: &str, current: &Json) -> String {
    format!(
        "the lock `{key}` is held by {}: another run is at work; nothing was changed (wait for it with --lock-wait SECONDS)",
        lock::describe(current)
    )
}
