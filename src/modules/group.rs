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

/// The `groupadd`, `groupmod` or `groupdel` command that makes the group as asked.
#[derive(Debug)]
pub struct Work {
    argv: Vec<String>,
    /// The group's name, to read its number back (`None` for `groupdel`).
    read_back: Option<String>,
    system: bool,
}

impl Module for Group {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        if self.name.is_empty() || self.name.contains([':', '\n']) {
            return Err(Failure::new(format!(
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
        let present = state == State::Present;
        // What the group will be: the number asked for, else the one it has.
        let gid = self.gid.or(current.as_ref().map(|g| g.gid)).filter(|_| present);
        let planned = result(&self.name, present, !argv.is_empty(), gid, self.system);
        if argv.is_empty() {
            return Ok(Plan::Done(planned));
        }
        let work = Work {
            argv,
            read_back: present.then(|| self.name.clone()),
            system: self.system,
        };
        Ok(Plan::Change(planned, work))
    }

    async fn apply(work: Work, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        run_checked(&remote, &work.argv).await?;
        let Some(name) = work.read_back else {
            return Ok(planned);
        };
        // The number the host gave the group.
        let gid = lookup(&remote, &name).await?.map(|g| g.gid);
        Ok(result(&name, true, true, gid, work.system))
    }
}

/// The group's result: `gid` and `system` only for `state: present`.
fn result(name: &str, present: bool, changed: bool, gid: Option<u32>, system: bool) -> Outcome {
    let mut outcome = Outcome::changed(changed)
        .with("name", name)
        .with("state", if present { "present" } else { "absent" });
    if present {
        if let Some(gid) = gid {
            outcome = outcome.with("gid", gid);
        }
        outcome = outcome.with("system", system);
    }
    outcome
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
