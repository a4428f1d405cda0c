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
use crate::consul::ConsulSettings;

module_arguments! {
[consul]
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
}
}

impl Module for Audit {
    type Work = (ConsulSettings, Json);

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        if !crate::audit::OUTCOMES.contains(&self.outcome.as_str()) {
            return Err(Failure::new(format!(
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
        // Secrets the run masks stay out of the trail too (a failing step's message may hold one).
        let record = (cx.redact)(&Json::Object(record));
        let planned = Outcome::changed(true)
            .with("record", record.clone())
            .msg("would record the deploy");
        Ok(Plan::Change(planned, (self.consul_settings(), record)))
    }

    async fn apply((settings, record): Self::Work, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let consul = cx.consul(&settings)?;
        let service = record["service"].as_str().unwrap_or_default();
        let key = crate::audit::write(&consul, service, &record)
            .await
            .map_err(|e| Failure::new(e.0))?;
        let mut outcome = Outcome::changed(true)
            .with("key", key.as_str())
            .with("record", record.clone())
            .msg(format!("recorded as `{key}`"));
        outcome.audit = Some((key, record));
        Ok(outcome)
    }
}
