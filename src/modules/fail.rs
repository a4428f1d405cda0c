//! `fail` fails the host with a message, as Ansible's does; with `when` it guards a play.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Inspect, Outcome, StepContext};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fail {
    /// The message the failure reports.
    #[serde(default)]
    msg: Option<Json>,
}

impl Inspect for Fail {
    async fn inspect(self, _cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let msg = match self.msg {
            None | Some(Json::Null) => "Failed as requested from task".to_string(),
            Some(Json::String(s)) => s,
            Some(other) => serde_json::to_string_pretty(&other).unwrap_or_default(),
        };
        Err(Failure::new(msg))
    }
}
