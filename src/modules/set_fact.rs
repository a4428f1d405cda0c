//! `set_fact` sets variables on the host for the rest of the run.

use serde::Deserialize;

use super::{Failure, Inspect, Outcome, StepContext};
use crate::template::{Vars, is_template};

/// Python's `str.isidentifier` for the ASCII names variables have.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct SetFact(Vars);

impl Inspect for SetFact {
    const ANY_ARGUMENTS: bool = true;

    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let mut facts = Vars::new();
        for (key, value) in self.0 {
            // A key written as a template (`"{{ name }}=value"`) is rendered, as Ansible does.
            let key = if is_template(&key) {
                let rendered = cx
                    .templar
                    .render_string(&key, cx.scope)
                    .map_err(|e| Failure::new(e.to_string()))?;
                crate::yaml::scalar_text(&rendered)
            } else {
                key
            };
            if !is_identifier(&key) {
                return Err(Failure::new(format!(
                    "The variable name '{key}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores."
                )));
            }
            facts.insert(key, value);
        }
        facts.remove("cacheable");
        let mut outcome = Outcome::ok();
        outcome
            .data
            .insert("ansible_facts".into(), serde_json::Value::Object(facts.clone()));
        outcome.facts = facts;
        Ok(outcome)
    }
}
