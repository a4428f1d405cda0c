//! `set_fact` sets variables on the host for the rest of the run.

use serde::Deserialize;

use super::{Failure, Inspect, Outcome, StepContext};
use crate::template::Vars;

#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct SetFact(Vars);

impl Inspect for SetFact {
    const ANY_ARGUMENTS: bool = true;

    async fn inspect(self, _cx: &StepContext<'_>) -> Result<Outcome, Failure> {
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
