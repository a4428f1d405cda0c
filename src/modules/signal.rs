//! `signal` sends a signal to a container, as `docker kill -s HUP nginx` does.

use serde::Deserialize;

use super::{Failure, Module, Outcome, Plan, StepContext};
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

// Transitional: converted to plan/apply next.
impl Module for Signal {
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        Ok(Plan::Done(self.legacy(cx).await?))
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

impl Signal {
    async fn legacy(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let outcome = Outcome::changed(true)
            .with("container", self.container.as_str())
            .with("signal", self.signal.as_str());
        if cx.legacy_check {
            return Ok(outcome.msg(format!("would send {} to {}", self.signal, self.container)));
        }
        let docker = cx.docker().await?;
        engine::kill(docker, &self.container, &self.signal).await?;
        Ok(outcome)
    }
}
