//! `ping` checks that bgrun can log in to a host and run a command there, as Ansible's `ping`
//! does (it needs no Python on the host): it registers `ping: pong`, or `ping: <data>`. With
//! `data: crash` it fails, as Ansible's does, to test failure handling.

use serde::Deserialize;

use super::{Module, Outcome, StepContext};
use crate::transport::{Exec, HostError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ping {
    #[serde(default = "pong")]
    data: String,
}

fn pong() -> String {
    "pong".into()
}

impl Module for Ping {
    async fn run(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        if self.data == "crash" {
            return Ok(Outcome::failed("boom (ping with data=crash)"));
        }
        let output = cx.remote().await?.exec(&Exec::new(["true"])).await?;
        if output.rc != 0 {
            return Ok(Outcome::failed(format!(
                "the host cannot run commands: `true` exited {}: {}",
                output.rc,
                output.stderr_text().trim()
            )));
        }
        Ok(Outcome::ok().with("ping", self.data))
    }
}
