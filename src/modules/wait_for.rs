//! `wait_for` waits, on the host, until a TCP port opens or closes or a path appears or goes, and
//! with `search_regex` until the file or what the port sends matches, as Ansible's does: `delay`
//! counts in `elapsed`, `sleep` between checks, Ansible's messages when the time is up.

use std::time::{Duration, Instant};

use serde::Deserialize;

use serde_json::Value as Json;

use super::path_info::path_info;
use super::{Failure, Inspect, Outcome, StepContext};
use crate::transport::{Exec, files};

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
    /// A regular expression (multi-line) the file, or what the port sends, must match.
    #[serde(default)]
    search_regex: Option<String>,
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

/// Reads what the server at `$1:$2` sends within `$3` seconds (or until it closes); fails when it
/// cannot be reached.
const PORT_READ: &str = r#"exec timeout "$3" bash -c 'exec 3<>"/dev/tcp/$0/$1" && exec cat <&3' "$1" "$2" 2>/dev/null"#;

impl Inspect for WaitFor {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        let want_present = !matches!(self.state, Some(State::Stopped | State::Absent));
        let search = self
            .search_regex
            .as_deref()
            .map(|p| {
                regex::bytes::Regex::new(&format!("(?m:{p})"))
                    .map_err(|e| Failure::new(format!("Invalid regular expression: {e}")))
            })
            .transpose()?;
        if self.port.is_some() && self.path.is_some() {
            return Err(Failure::new("port and path parameter can not both be passed to wait_for").with("elapsed", 0));
        }
        if self.path.is_some() && self.state == Some(State::Stopped) {
            return Err(
                Failure::new("state=stopped should only be used for checking a port in the wait_for module")
                    .with("elapsed", 0),
            );
        }
        let started = Instant::now();
        let elapsed = || started.elapsed().as_secs();
        tokio::time::sleep(Duration::from_secs(self.delay)).await;
        let deadline = Duration::from_secs(self.timeout);
        let mut matched: Option<(Json, Json)> = None;
        if self.port.is_none() && self.path.is_none() {
            tokio::time::sleep(deadline).await;
        } else {
            loop {
                if started.elapsed() >= deadline {
                    let msg = self.msg.clone().unwrap_or_else(|| self.timeout_message(want_present));
                    return Err(Failure::new(msg).with("elapsed", elapsed()));
                }
                let remaining = deadline.saturating_sub(started.elapsed()).as_secs_f64().ceil() as u64;
                let (present, data) = self.probe(&remote, want_present, search.is_some(), remaining).await?;
                if present == want_present {
                    match (&search, data) {
                        (Some(re), Some(data)) if want_present => {
                            if let Some(found) = re.captures(&data) {
                                matched = Some(groups(re, &found));
                                break;
                            }
                        }
                        _ => break,
                    }
                }
                tokio::time::sleep(Duration::from_secs(self.sleep)).await;
            }
        }
        let (match_groups, match_groupdict) =
            matched.unwrap_or((Json::Array(Vec::new()), Json::Object(Default::default())));
        let state = match self.state.unwrap_or(State::Started) {
            State::Started => "started",
            State::Present => "present",
            State::Stopped => "stopped",
            State::Absent => "absent",
        };
        let mut outcome = Outcome::ok()
            .with("state", state)
            .with("port", self.port.map_or(Json::Null, Json::from))
            .with("path", self.path.clone().map_or(Json::Null, Json::from))
            .with("search_regex", self.search_regex.clone().map_or(Json::Null, Json::from))
            .with("match_groups", match_groups)
            .with("match_groupdict", match_groupdict)
            .with("elapsed", elapsed());
        // Ansible adds what is at the path (its `state` among it: `file`, `directory`, ...).
        if let Some(path) = &self.path {
            outcome.data.extend(path_info(&remote, path).await?);
        }
        Ok(outcome)
    }
}

impl WaitFor {
    /// Whether the port answers or the path exists, with what it holds when a search needs it.
    async fn probe(
        &self,
        remote: &crate::transport::Remote<'_>,
        want_present: bool,
        read: bool,
        remaining: u64,
    ) -> Result<(bool, Option<Vec<u8>>), Failure> {
        let read = read && want_present;
        if let Some(path) = &self.path {
            if read {
                let content = files::read(remote, path).await?;
                return Ok((content.is_some() || files::stat(remote, path).await?.exists(), content));
            }
            let present = remote.exec(&Exec::new(["test", "-e", path.as_str()])).await?.rc == 0;
            return Ok((present, None));
        }
        let port = self.port.unwrap_or_default().to_string();
        let wait = self.connect_timeout.min(remaining).max(1).to_string();
        if read {
            let output = remote
                .exec(&Exec::script(PORT_READ, &[&self.host, &port, &wait]))
                .await?;
            // `timeout` ends a connection that stays open with 124: what it sent still counts.
            let connected = output.rc == 0 || (output.rc == 124 && !output.stdout.is_empty());
            return Ok((connected, Some(output.stdout)));
        }
        let output = remote
            .exec(&Exec::script(PORT_OPEN, &[&self.host, &port, &wait]))
            .await?;
        Ok((output.rc == 0, None))
    }

    /// Ansible's message when the time is up.
    fn timeout_message(&self, want_present: bool) -> String {
        let (host, port) = (&self.host, self.port.unwrap_or_default());
        match (&self.path, &self.search_regex, want_present) {
            (None, _, false) => format!("Timeout when waiting for {host}:{port} to stop."),
            (Some(path), _, false) => format!("Timeout when waiting for {path} to be absent."),
            (None, Some(re), true) => format!("Timeout when waiting for search string {re} in {host}:{port}"),
            (None, None, true) => format!("Timeout when waiting for {host}:{port}"),
            (Some(path), Some(re), true) => format!("Timeout when waiting for search string {re} in {path}"),
            (Some(path), None, true) => format!("Timeout when waiting for file {path}"),
        }
    }
}

/// A match's groups as Ansible registers them: `match_groups` (a list, `null` for a group that
/// took no part) and `match_groupdict` (the named ones).
fn groups(re: &regex::bytes::Regex, found: &regex::bytes::Captures<'_>) -> (Json, Json) {
    let text = |m: Option<regex::bytes::Match<'_>>| {
        m.map_or(Json::Null, |m| {
            Json::from(String::from_utf8_lossy(m.as_bytes()).into_owned())
        })
    };
    let list = (1..found.len()).map(|i| text(found.get(i))).collect();
    let named = re
        .capture_names()
        .flatten()
        .map(|name| (name.to_string(), text(found.name(name))))
        .collect();
    (Json::Array(list), Json::Object(named))
}
