//! `fail` fails the host with a message, as Ansible's does; with `when` it guards a play.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Module, Outcome, StepContext};
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fail {
    /// The message the failure reports.
    #[serde(default)]
    msg: Option<Json>,
}

impl Module for Fail {
    async fn run(self, _cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let msg = match self.msg {
            None | Some(Json::Null) => "Failed as requested from task".to_string(),
            Some(Json::String(s)) => s,
            Some(other) => serde_json::to_string_pretty(&other).unwrap_or_default(),
        };
        Ok(Outcome::failed(msg))
    }
}
