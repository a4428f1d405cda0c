//! `ping` checks that bgrun can log in to a host and run a command there, as Ansible's `ping`
//! does (it needs no Python on the host): it registers `ping: pong`, or `ping: <data>`. With
//! `data: crash` it fails, as Ansible's does, to test failure handling.

use serde::Deserialize;

use super::{Failure, Inspect, Outcome, StepContext};
use crate::transport::Exec;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ping {
    #[serde(default = "pong")]
    data: String,
}

fn pong() -> String {
    "pong".into()
}

impl Inspect for Ping {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        if self.data == "crash" {
            return Err(Failure::new("boom (ping with data=crash)"));
        }
        let output = cx.remote().await?.exec(&Exec::new(["true"])).await?;
        if output.rc != 0 {
            return Err(Failure::new(format!(
                "the host cannot run commands: `true` exited {}: {}",
                output.rc,
                output.stderr_text().trim()
            )));
        }
        Ok(Outcome::ok().with("ping", self.data))
    }
}
