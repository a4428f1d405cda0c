//! `assert` checks conditions and fails the host when one is false.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Inspect, Outcome, StepContext};
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assert {
    /// One condition or a list of them, written as in `when:`.
    that: Json,
    #[serde(default, alias = "msg")]
    fail_msg: Option<String>,
    #[serde(default)]
    success_msg: Option<String>,
    #[serde(default)]
    quiet: bool,
}

impl Inspect for Assert {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let conditions = match self.that {
            Json::Array(items) => items,
            single => vec![single],
        };
        for condition in &conditions {
            let holds = cx
                .templar
                .eval_condition(condition, cx.scope)
                .map_err(|e| HostError::Failed(e.0))?;
            if !holds {
                let text = crate::yaml::scalar_text(condition);
                let msg = self.fail_msg.unwrap_or_else(|| format!("assertion failed: `{text}`"));
                return Err(Failure::new(msg).with("assertion", text).with("evaluated_to", false));
            }
        }
        let msg = self.success_msg.unwrap_or_else(|| "All assertions passed".to_string());
        Ok(if self.quiet {
            Outcome::ok()
        } else {
            Outcome::ok().msg(msg)
        })
    }
}
