//! `group` makes a group exist (with a `gid`) or not, with `groupadd`, `groupmod` and `groupdel`;
//! the host's groups are read with `getent group`.

use serde::Deserialize;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::transport::{Exec, HostError, Remote};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    name: String,
    #[serde(default)]
    state: Option<State>,
    #[serde(default)]
    gid: Option<u32>,
    /// Create a system group (`groupadd -r`).
    #[serde(default)]
    system: bool,
    /// Allow a `gid` another group has (`-o`).
    #[serde(default)]
    non_unique: bool,
    /// Remove the group even when it is some user's primary group (`groupdel -f`).
    #[serde(default)]
    force: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    Present,
    Absent,
}

/// A group as `getent group` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupEntry {
    pub name: String,
    pub gid: u32,
}

/// Looks a group up by name (or by number when `key` is one).
pub(crate) async fn lookup(remote: &Remote<'_>, key: &str) -> Result<Option<GroupEntry>, HostError> {
    let output = remote.exec(&Exec::new(["getent", "group", key])).await?;
    match output.rc {
        0 => Ok(parse_entry(&output.stdout_text())),
        2 => Ok(None),
        rc => Err(HostError::Failed(format!(
            "`getent group {key}` failed ({rc}): {}",
            output.stderr_text().trim()
        ))),
    }
}

fn parse_entry(line: &str) -> Option<GroupEntry> {
    let mut fields = line.lines().next()?.split(':');
    let name = fields.next()?.to_string();
    let gid = fields.nth(1)?.parse().ok()?;
    Some(GroupEntry { name, gid })
}

pub(crate) async fn run_checked(remote: &Remote<'_>, argv: &[String]) -> Result<(), HostError> {
    let output = remote.exec(&Exec::new(argv.to_vec())).await?;
    if output.rc != 0 {
        let err = output.stderr_text();
        let out = output.stdout_text();
        let why = if err.trim().is_empty() { out } else { err };
        return Err(HostError::Failed(format!(
            "`{}` failed ({}): {}",
            argv.join(" "),
            output.rc,
            why.trim()
        )));
    }
    Ok(())
}

// Transitional: converted to plan/apply next.
impl Module for Group {
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        Ok(Plan::Done(self.legacy(cx).await?))
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

impl Group {
    async fn legacy(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        if self.name.is_empty() || self.name.contains([':', '\n']) {
            return Err(HostError::Failed(format!(
                "invalid arguments: `{}` is not a group name",
                self.name
            )));
        }
        let remote = cx.remote().await?;
        let state = self.state.unwrap_or(State::Present);
        let current = lookup(&remote, &self.name).await?.filter(|g| g.name == self.name);
        let mut argv: Vec<String> = Vec::new();
        match (state, &current) {
            (State::Absent, None) => {}
            (State::Absent, Some(_)) => {
                argv.push("groupdel".into());
                if self.force {
                    argv.push("-f".into());
                }
                argv.push(self.name.clone());
            }
            (State::Present, None) => {
                argv.push("groupadd".into());
                if let Some(gid) = self.gid {
                    argv.extend(["-g".into(), gid.to_string()]);
                    if self.non_unique {
                        argv.push("-o".into());
                    }
                }
                if self.system {
                    argv.push("-r".into());
                }
                argv.push(self.name.clone());
            }
            (State::Present, Some(group)) => {
                if let Some(gid) = self.gid.filter(|gid| *gid != group.gid) {
                    argv.extend(["groupmod".into(), "-g".into(), gid.to_string()]);
                    if self.non_unique {
                        argv.push("-o".into());
                    }
                    argv.push(self.name.clone());
                }
            }
        }
        let changed = !argv.is_empty();
        let mut outcome = Outcome::changed(changed).with("name", self.name.as_str());
        let state_name = match state {
            State::Present => "present",
            State::Absent => "absent",
        };
        outcome = outcome.with("state", state_name);
        if cx.legacy_check {
            if state == State::Present {
                if let Some(gid) = self.gid.or(current.as_ref().map(|g| g.gid)) {
                    outcome = outcome.with("gid", gid);
                }
                outcome = outcome.with("system", self.system);
            }
            return Ok(outcome);
        }
        if changed {
            run_checked(&remote, &argv).await?;
        }
        if state == State::Present {
            let after = if changed {
                lookup(&remote, &self.name).await?
            } else {
                current
            };
            if let Some(group) = after {
                outcome = outcome.with("gid", group.gid);
            }
            outcome = outcome.with("system", self.system);
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_getent_lines() {
        assert_eq!(
            parse_entry("staff:x:50:alice,bob\n"),
            Some(GroupEntry {
                name: "staff".into(),
                gid: 50
            })
        );
        assert_eq!(parse_entry(""), None);
    }
}
