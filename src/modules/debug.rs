//! `debug` prints a message or a variable's value.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Inspect, Outcome, StepContext};
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Debug {
    #[serde(default)]
    msg: Option<Json>,
    /// An expression whose value is shown under its own name.
    #[serde(default)]
    var: Option<String>,
    /// The `-v` count from which the message is shown.
    #[serde(default)]
    verbosity: u8,
}

impl Inspect for Debug {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        if self.verbosity > cx.verbosity {
            return Ok(Outcome::skipped(format!(
                "verbosity threshold {} not reached",
                self.verbosity
            )));
        }
        if let Some(var) = self.var {
            let value = cx.templar.eval(&var, cx.scope).map_err(|e| HostError::Failed(e.0))?;
            return Ok(Outcome::ok().with(&var, value));
        }
        let msg = match self.msg {
            None => "Hello world!".to_string(),
            Some(Json::String(s)) => s,
            Some(other) => serde_json::to_string_pretty(&other).unwrap_or_default(),
        };
        Ok(Outcome::ok().msg(msg))
    }
}
