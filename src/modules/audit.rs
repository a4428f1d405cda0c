//! `audit` writes one record of a deploy to the service's audit trail in Consul's KV
//! (`<service>/deploys/<started>`), adding who ran it, from where, and when it finished. The
//! record is also a JSON event (`audit`) of `--output json`. In check mode nothing is written.
//!
//! ```yaml
//! - audit:
//!     service: books-ms
//!     outcome: deployed        # deployed, rejected, reverted, rolled-back, refused, failed
//!     started: "{{ lock.since }}"
//!     from: {color: blue, version: "1"}
//!     to: {color: green, version: "2"}
//!     message: ""
//! ```

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::consul::{ConsulSettings, Secret};
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    service: String,
    outcome: String,
    /// When the deploy started (UTC, RFC 3339); default now.
    #[serde(default)]
    started: Option<String>,
    #[serde(default)]
    from: Json,
    #[serde(default)]
    to: Json,
    #[serde(default)]
    message: Option<String>,
    /// More fields for the record.
    #[serde(default)]
    extra: serde_json::Map<String, Json>,
    #[serde(default)]
    consul_addr: Option<String>,
    #[serde(default)]
    datacenter: Option<String>,
    #[serde(default)]
    token: Option<Secret>,
    #[serde(default)]
    token_file: Option<String>,
}

// Transitional: converted to plan/apply next.
impl Module for Audit {
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        Ok(Plan::Done(self.legacy(cx).await?))
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

impl Audit {
    async fn legacy(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        if !crate::audit::OUTCOMES.contains(&self.outcome.as_str()) {
            return Err(HostError::Failed(format!(
                "invalid arguments: outcome `{}`: give one of {}",
                self.outcome,
                crate::audit::OUTCOMES.join(", ")
            )));
        }
        let finished = crate::controller::utc_now();
        let started = self
            .started
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| finished.clone());
        let mut record = serde_json::Map::new();
        record.insert("service".into(), json!(self.service));
        record.insert("outcome".into(), json!(self.outcome));
        record.insert("user".into(), json!(crate::controller::user()));
        record.insert("controller".into(), json!(crate::controller::host_name()));
        record.insert("pid".into(), json!(std::process::id()));
        record.insert("started".into(), json!(started));
        record.insert("finished".into(), json!(finished));
        record.insert(
            "seconds".into(),
            json!(crate::controller::seconds_between(&started, &finished)),
        );
        record.insert("from".into(), self.from.clone());
        record.insert("to".into(), self.to.clone());
        record.insert("message".into(), json!(self.message.clone().unwrap_or_default()));
        record.extend(self.extra.clone());
        let record = Json::Object(record);
        if cx.legacy_check {
            return Ok(Outcome::changed(true)
                .with("record", record)
                .msg("would record the deploy"));
        }
        let settings = ConsulSettings {
            address: self.consul_addr.clone(),
            token: self.token.as_ref().map(|t| t.0.clone()),
            token_file: self.token_file.clone(),
            datacenter: self.datacenter.clone(),
        };
        let consul = cx.consul(&settings)?;
        let key = crate::audit::write(&consul, &self.service, &record)
            .await
            .map_err(|e| HostError::Failed(e.0))?;
        let mut outcome = Outcome::changed(true)
            .with("key", key.as_str())
            .with("record", record.clone())
            .msg(format!("recorded as `{key}`"));
        outcome.audit = Some((key, record));
        Ok(outcome)
    }
}
