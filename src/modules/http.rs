//! `http` (Ansible's `uri`) makes an HTTP request from the controller and checks the status, as
//! the book's tests do with curl.

use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::template::Vars;
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    url: String,
    #[serde(default = "get")]
    method: String,
    #[serde(default)]
    body: Option<Json>,
    /// `raw` (default), `json` or `form-urlencoded`.
    #[serde(default)]
    body_format: Option<String>,
    #[serde(default)]
    headers: Vars,
    /// The status or statuses that count as success.
    #[serde(default = "ok_status")]
    status_code: Json,
    /// Seconds the request may take.
    #[serde(default = "thirty")]
    timeout: u64,
    /// Whether the body is registered as `content` (JSON bodies are always registered as `json`).
    #[serde(default)]
    return_content: bool,
    #[serde(default = "super::arguments::yes")]
    validate_certs: bool,
}

fn get() -> String {
    "GET".into()
}
fn ok_status() -> Json {
    Json::from(200)
}
fn thirty() -> u64 {
    30
}
fn client(validate_certs: bool) -> Result<reqwest::Client, HostError> {
    static STRICT: OnceLock<reqwest::Client> = OnceLock::new();
    static LAX: OnceLock<reqwest::Client> = OnceLock::new();
    let cell = if validate_certs { &STRICT } else { &LAX };
    if let Some(client) = cell.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(!validate_certs)
        .build()
        .map_err(|e| HostError::Failed(format!("cannot set up HTTP: {e}")))?;
    Ok(cell.get_or_init(|| client).clone())
}

impl Module for Http {
    type Work = (Self, reqwest::Method);

    /// A GET or HEAD only reads, so it is sent in check mode too; other methods are not.
    async fn plan(self, _: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        let method = reqwest::Method::from_bytes(self.method.to_uppercase().as_bytes())
            .map_err(|_| Failure::new(format!("invalid HTTP method `{}`", self.method)))?;
        if matches!(method, reqwest::Method::GET | reqwest::Method::HEAD) {
            return self.request(method).await.map(Plan::Done);
        }
        let planned = Outcome::skipped(format!("check mode: would send {method} {}", self.url));
        Ok(Plan::Change(planned, (self, method)))
    }

    async fn apply((this, method): Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        this.request(method).await
    }
}

impl Http {
    async fn request(self, method: reqwest::Method) -> Result<Outcome, Failure> {
        let read_only = matches!(method, reqwest::Method::GET | reqwest::Method::HEAD);
        let expected: Vec<u16> = match &self.status_code {
            Json::Array(items) => items.iter().filter_map(status_of).collect(),
            single => status_of(single).into_iter().collect(),
        };
        let mut request = client(self.validate_certs)?
            .request(method.clone(), &self.url)
            .timeout(Duration::from_secs(self.timeout));
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), crate::yaml::scalar_text(value));
        }
        if let Some(body) = &self.body {
            request = match (self.body_format.as_deref(), body) {
                (Some("json"), body) => request.json(body),
                (Some("form-urlencoded"), Json::Object(map)) => {
                    let pairs: Vec<(String, String)> = map
                        .iter()
                        .map(|(k, v)| (k.clone(), crate::yaml::scalar_text(v)))
                        .collect();
                    request.form(&pairs)
                }
                (_, Json::String(text)) => request.body(text.clone()),
                (_, other) => request.json(other),
            };
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let reason = std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string());
                return Err(Failure::new(format!("request to {} failed: {reason}", self.url))
                    .with("status", -1)
                    .with("url", self.url));
            }
        };
        let status = response.status().as_u16();
        let content = response.text().await.unwrap_or_default();
        let mut outcome = Outcome::ok().with("status", status).with("url", self.url.as_str());
        if let Ok(json) = serde_json::from_str::<Json>(&content) {
            outcome = outcome.with("json", json);
        }
        if self.return_content {
            outcome = outcome.with("content", content.as_str());
        }
        outcome.changed = !read_only;
        if expected.contains(&status) {
            Ok(outcome.msg(format!("OK ({} bytes)", content.len())))
        } else {
            let want: Vec<String> = expected.iter().map(u16::to_string).collect();
            Err(outcome
                .msg(format!(
                    "status code was {status}, not {}: {method} {}",
                    want.join(" or "),
                    self.url
                ))
                .into())
        }
    }
}

fn status_of(value: &Json) -> Option<u16> {
    match value {
        Json::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
