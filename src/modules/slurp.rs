//! `slurp` reads a file of the host and registers its bytes in base64 (`content`, `encoding`,
//! `source`), failing with Ansible's messages for a missing, unreadable or folder path.

use base64::Engine;
use serde::Deserialize;

use super::{Failure, Inspect, Outcome, StepContext};
use crate::transport::Exec;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slurp {
    #[serde(alias = "path")]
    src: String,
}

/// Prints the file, or exits with the `errno` Python's `open` would have raised.
pub(crate) const READ: &str = r#"[ -e "$1" ] || exit 2
[ -d "$1" ] && exit 21
[ -r "$1" ] || exit 13
exec cat -- "$1""#;

impl Inspect for Slurp {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let output = cx.remote().await?.exec(&Exec::script(READ, &[&self.src])).await?;
        let source = &self.src;
        match output.rc {
            0 => Ok(Outcome::ok()
                .with(
                    "content",
                    base64::engine::general_purpose::STANDARD.encode(&output.stdout),
                )
                .with("source", source.as_str())
                .with("encoding", "base64")),
            2 => Err(Failure::new(format!("file not found: {source}"))),
            13 => Err(Failure::new(format!("file is not readable: {source}"))),
            21 => Err(Failure::new(format!(
                "source is a directory and must be a file: {source}"
            ))),
            _ => Err(Failure::new(format!(
                "unable to slurp file: {}",
                output.stderr_text().trim()
            ))),
        }
    }
}
