//! `signal` sends a signal to a container, as `docker kill -s HUP nginx` does.

use serde::Deserialize;

use super::{Module, Outcome, StepContext};
use crate::docker::container as engine;
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    container: String,
    #[serde(default = "hup")]
    signal: String,
}

fn hup() -> String {
    "HUP".into()
}

impl Module for Signal {
    async fn run(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let outcome = Outcome::changed(true)
            .with("container", self.container.as_str())
            .with("signal", self.signal.as_str());
        if cx.check {
            return Ok(outcome.msg(format!("would send {} to {}", self.signal, self.container)));
        }
        let docker = cx.docker().await?;
        engine::kill(docker, &self.container, &self.signal).await?;
        Ok(outcome)
    }
}
