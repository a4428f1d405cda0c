//! `set_fact` sets variables on the host for the rest of the run.

use serde::Deserialize;

use super::{Module, Outcome, StepContext};
use crate::template::Vars;
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct SetFact(Vars);

impl Module for SetFact {
    const ANY_ARGUMENTS: bool = true;

    async fn run(self, _cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let mut facts = self.0;
        facts.remove("cacheable");
        let mut outcome = Outcome::ok();
        outcome
            .data
            .insert("ansible_facts".into(), serde_json::Value::Object(facts.clone()));
        outcome.facts = facts;
        Ok(outcome)
    }
}
