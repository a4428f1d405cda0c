//! Locks held in Consul for the rest of a run (a deploy lock per service): each is a key taken by
//! a session of its own, renewed in the background while bgrun runs and ended when the run ends
//! or the lock is released. A run killed with SIGKILL renews nothing: Consul ends its session
//! after the TTL (at most twice the TTL), which deletes the key, and the next run may take it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::{Consul, ConsulError};

/// A lock this process holds.
struct Held {
    key: String,
    session: String,
    consul: Consul,
    renewer: tokio::task::JoinHandle<()>,
}

static HELD: Mutex<Vec<Held>> = Mutex::new(Vec::new());

/// Why a lock was not taken.
#[derive(Debug)]
pub enum Refused {
    /// Another session holds it; its value says who.
    Held {
        holder: Json,
    },
    Consul(ConsulError),
}

impl From<ConsulError> for Refused {
    fn from(e: ConsulError) -> Self {
        Refused::Consul(e)
    }
}

/// Whether this process holds `key` on the Consul at `address`.
pub fn holds(address: &str, key: &str) -> bool {
    HELD.lock()
        .map(|held| held.iter().any(|h| h.key == key && h.consul.address() == address))
        .unwrap_or(false)
}

/// Takes `key` with `value` (the holder, as JSON), waiting up to `wait` while another session
/// holds it (`tell` hears what it waits for). Held until [`release`] or [`release_all`].
pub async fn acquire(
    consul: &Consul,
    key: &str,
    value: &Json,
    ttl_seconds: u64,
    wait: Duration,
    tell: &(dyn Fn(String) + Send + Sync),
) -> Result<(), Refused> {
    let ttl_seconds = ttl_seconds.clamp(10, 86_400);
    let session = consul.session_create(&format!("bgrun lock {key}"), ttl_seconds).await?;
    let text = value.to_string();
    let started = Instant::now();
    let mut retried_free = false;
    loop {
        match consul.kv_acquire(key, &session, &text).await {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => {
                let _ = consul.session_destroy(&session).await;
                return Err(e.into());
            }
        }
        let holder = match consul.lock_key(key).await {
            Ok(Some(found)) if found.session.is_some() => {
                serde_json::from_str(&found.value).unwrap_or(Json::String(found.value))
            }
            // Free again between the two requests: try once more at once. A key that stays free
            // but cannot be taken is held back by Consul's lock delay (a lock another tool made):
            // wait for it like any holder, never in a tight loop.
            Ok(_) if !retried_free => {
                retried_free = true;
                continue;
            }
            Ok(_) => Json::String("nobody: Consul's lock delay of its last holder".into()),
            Err(e) => {
                let _ = consul.session_destroy(&session).await;
                return Err(e.into());
            }
        };
        if started.elapsed() >= wait {
            let _ = consul.session_destroy(&session).await;
            return Err(Refused::Held { holder });
        }
        tell(format!("waiting for the lock `{key}`, held by {}", describe(&holder)));
        tokio::time::sleep(Duration::from_millis(250).min(wait.saturating_sub(started.elapsed()))).await;
    }
    let renewer = {
        let consul = consul.clone();
        let session = session.clone();
        let key = key.to_string();
        tokio::spawn(async move {
            let every = Duration::from_secs(ttl_seconds) / 3;
            loop {
                tokio::time::sleep(every).await;
                match consul.session_renew(&session).await {
                    Ok(true) => {}
                    Ok(false) => {
                        eprintln!("[WARNING]: the lock `{key}` was lost: Consul ended its session");
                        return;
                    }
                    // Consul unreachable for a moment: the TTL leaves room to try again.
                    Err(_) => {}
                }
            }
        })
    };
    if let Ok(mut held) = HELD.lock() {
        held.push(Held {
            key: key.to_string(),
            session,
            consul: consul.clone(),
            renewer,
        });
    }
    Ok(())
}

/// Releases a lock this process holds on the Consul at `address`; `false` when it held none.
pub async fn release(address: &str, key: &str) -> Result<bool, ConsulError> {
    let found = HELD.lock().ok().and_then(|mut held| {
        let at = held
            .iter()
            .position(|h| h.key == key && h.consul.address() == address)?;
        Some(held.remove(at))
    });
    match found {
        Some(lock) => {
            lock.renewer.abort();
            lock.consul.session_destroy(&lock.session).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Releases every lock still held: the end of a run, however it ended.
pub async fn release_all() {
    let all: Vec<Held> = HELD.lock().map(|mut held| held.drain(..).collect()).unwrap_or_default();
    for lock in all {
        lock.renewer.abort();
        if let Err(e) = lock.consul.session_destroy(&lock.session).await {
            eprintln!(
                "[WARNING]: the lock `{}` could not be released ({}); Consul frees it when its session expires",
                lock.key, e.0
            );
        }
    }
}

/// A holder as a person reads it: `alice on ci-3 (pid 4242), release 2, since 2026-...`.
pub fn describe(holder: &Json) -> String {
    let field = |name: &str| holder.get(name).map(crate::yaml::scalar_text).filter(|v| !v.is_empty());
    let mut text = match (field("user"), field("controller")) {
        (Some(user), Some(host)) => format!("{user} on {host}"),
        (Some(user), None) => user,
        (None, Some(host)) => host,
        (None, None) => return holder.to_string(),
    };
    if let Some(pid) = field("pid") {
        text.push_str(&format!(" (pid {pid})"));
    }
    if let Some(release) = field("release") {
        text.push_str(&format!(", release {release}"));
    }
    if let Some(since) = field("since") {
        text.push_str(&format!(", since {since}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn holders_read_as_sentences() {
        let holder = json!({"user": "alice", "controller": "ci-3", "pid": 4242, "release": "2", "since": "2026-12-01T22:58:01.123Z"});
        assert_eq!(
            super::describe(&holder),
            "alice on ci-3 (pid 4242), release 2, since 2026-12-01T22:58:01.123Z"
        );
        assert_eq!(super::describe(&json!("someone")), "\"someone\"");
    }
}
