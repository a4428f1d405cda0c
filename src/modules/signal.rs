//! `signal` sends a signal to a container, as `docker kill -s HUP nginx` does.

use serde::Deserialize;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::docker::container as engine;

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
    type Work = Self;

    async fn plan(self, _: &StepContext<'_>) -> Result<Plan<Self>, Failure> {
        let outcome = Outcome::changed(true)
            .with("container", self.container.as_str())
            .with("signal", self.signal.as_str())
            .msg(format!("would send {} to {}", self.signal, self.container));
        Ok(Plan::Change(outcome, self))
    }

    async fn apply(work: Self, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        engine::kill(cx.docker().await?, &work.container, &work.signal).await?;
        Ok(Outcome { msg: None, ..planned })
    }
}
