//! `debug` prints a message or a variable's value.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Inspect, Outcome, StepContext};
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Debug {
    /// The message; set to null (`"{{ none }}"`), it is shown as null, not the default.
    #[serde(default, deserialize_with = "present")]
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
            // As Ansible's `var`: the expression templated as `{{ var }}`, to the value
            // Ansible's templating gives it (`r.rc` shows "0", a string).
            let template = if crate::template::is_template(&var) {
                var.clone()
            } else {
                format!("{{{{{var}}}}}")
            };
            let value = cx
                .templar
                .render_string(&template, cx.scope)
                .map_err(|e| HostError::Failed(e.0))?;
            return Ok(Outcome::ok().with(&var, value));
        }
        // The message keeps its value's type in the result, as Ansible's does.
        Ok(match self.msg {
            None => Outcome::ok().msg("Hello world!"),
            Some(Json::String(s)) => Outcome::ok().msg(s),
            Some(other) => Outcome::ok()
                .msg(serde_json::to_string_pretty(&other).unwrap_or_default())
                .with("msg", other),
        })
    }
}

/// A field that is there, whatever its value, null included.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(deserializer).map(Some)
}
