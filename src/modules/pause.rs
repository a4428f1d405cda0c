//! `pause` waits for a number of seconds or minutes. Ansible's interactive prompts (`prompt`, or
//! no duration at all, which waits for a key press) are refused: bgrun runs unattended.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Inspect, Outcome, StepContext};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    #[serde(default)]
    seconds: Option<f64>,
    #[serde(default)]
    minutes: Option<f64>,
    /// Refused: bgrun does not read answers from a terminal.
    #[serde(default)]
    prompt: Option<Json>,
    /// Only meaningful with `prompt`; accepted for playbooks that set it anyway.
    #[serde(default = "super::arguments::yes")]
    echo: bool,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl Inspect for Pause {
    async fn inspect(self, _cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let invalid = |msg: &str| Err(Failure::new(format!("invalid arguments: {msg}")));
        if self.prompt.is_some() {
            return invalid("`prompt`: interactive prompts are not supported; give `seconds` or `minutes`");
        }
        let (amount, unit, seconds) = match (self.seconds, self.minutes) {
            (Some(s), None) => (s, "seconds", s),
            (None, Some(m)) => (m, "minutes", m * 60.0),
            (Some(_), Some(_)) => return invalid("give `seconds` or `minutes`, not both"),
            (None, None) => {
                return invalid(
                    "a pause without `seconds` or `minutes` waits for a key press; interactive prompts are not supported",
                );
            }
        };
        if !seconds.is_finite() || seconds < 0.0 {
            return invalid(&format!("cannot pause for {amount} {unit}"));
        }
        let start = now();
        if !crate::interrupt::sleep(Duration::from_secs_f64(seconds)).await {
            return Err(Failure::new(format!(
                "the pause stopped: bgrun received {}",
                crate::interrupt::received().unwrap_or("a signal")
            )));
        }
        let stop = now();
        let shown = if amount.fract() == 0.0 {
            format!("{amount:.0}")
        } else {
            amount.to_string()
        };
        Ok(Outcome::ok()
            .with("start", start)
            .with("stop", stop)
            .with("delta", (stop - start).round() as i64)
            .with("echo", self.echo)
            .with("user_input", "")
            .with("stdout", format!("Paused for {shown} {unit}")))
    }
}
