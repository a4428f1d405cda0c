//! `wait_for` waits, on the host, until a TCP port opens or closes or a path appears or goes.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{Failure, Inspect, Outcome, StepContext};
use crate::transport::Exec;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitFor {
    #[serde(default = "localhost")]
    host: String,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    state: Option<State>,
    /// Seconds to wait in all.
    #[serde(default = "five_minutes")]
    timeout: u64,
    /// Seconds to wait before the first check.
    #[serde(default)]
    delay: u64,
    /// Seconds between checks.
    #[serde(default = "one")]
    sleep: u64,
    /// Seconds one connection attempt may take.
    #[serde(default = "five")]
    connect_timeout: u64,
    #[serde(default)]
    msg: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    Started,
    Present,
    Stopped,
    Absent,
}

fn localhost() -> String {
    "127.0.0.1".into()
}
fn five_minutes() -> u64 {
    300
}
fn one() -> u64 {
    1
}
fn five() -> u64 {
    5
}

const PORT_OPEN: &str = r#"
if command -v bash >/dev/null 2>&1; then
  exec timeout "$3" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
else
  exec nc -z -w "$3" "$1" "$2"
fi"#;

impl Inspect for WaitFor {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        let want_present = !matches!(self.state, Some(State::Stopped | State::Absent));
        let (probe, what) = match (&self.port, &self.path) {
            (Some(port), None) => (
                Exec::script(
                    PORT_OPEN,
                    &[&self.host, &port.to_string(), &self.connect_timeout.max(1).to_string()],
                ),
                format!("port {}:{port}", self.host),
            ),
            (None, Some(path)) => (Exec::new(["test", "-e", path.as_str()]), format!("path {path}")),
            (Some(_), Some(_)) => {
                return Err(Failure::new("give `port` or `path`, not both"));
            }
            (None, None) => {
                tokio::time::sleep(Duration::from_secs(self.timeout)).await;
                return Ok(Outcome::ok().with("elapsed", self.timeout));
            }
        };
        tokio::time::sleep(Duration::from_secs(self.delay)).await;
        let started = Instant::now();
        let deadline = Duration::from_secs(self.timeout);
        loop {
            let present = remote.exec(&probe).await?.rc == 0;
            if present == want_present {
                return Ok(Outcome::ok().with("elapsed", started.elapsed().as_secs()));
            }
            if started.elapsed() >= deadline {
                let state = if want_present { "to be ready" } else { "to go away" };
                let msg = self
                    .msg
                    .unwrap_or_else(|| format!("timeout after {}s waiting for {what} {state}", self.timeout));
                return Err(Failure::new(msg).with("elapsed", started.elapsed().as_secs()));
            }
            tokio::time::sleep(Duration::from_secs(self.sleep).min(deadline.saturating_sub(started.elapsed()))).await;
        }
    }
}
