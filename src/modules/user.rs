//! `user` makes a user account exist with the given properties (or not), with `useradd`,
//! `usermod` and `userdel`. The account is read in one round trip (`getent passwd`, `id -nG`,
//! the shadow entry, and the groups named), and only what differs is changed. A `password` is a
//! crypt hash, as in Ansible; it never appears in the results or messages. In check mode a group
//! that does not exist yet is not an error (an earlier step may create it): the user is reported
//! as changed.

use serde::Deserialize;
use serde_json::Value as Json;

use super::group::run_checked;
use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::transport::{Exec, HostError, Remote};

/// What results show in place of the password.
const HIDDEN: &str = "NOT_LOGGING_PASSWORD";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    name: String,
    #[serde(default)]
    state: Option<State>,
    #[serde(default)]
    uid: Option<u32>,
    /// The primary group, by name or number.
    #[serde(default)]
    group: Option<String>,
    /// Supplementary groups: a list or a comma-separated string.
    #[serde(default)]
    groups: Option<Json>,
    /// Add `groups` to the user's groups instead of setting them.
    #[serde(default)]
    append: bool,
    #[serde(default)]
    shell: Option<String>,
    #[serde(default)]
    home: Option<String>,
    #[serde(default = "super::arguments::yes", alias = "createhome")]
    create_home: bool,
    /// Move the home folder's content when `home` changes.
    #[serde(default)]
    move_home: bool,
    #[serde(default)]
    skeleton: Option<String>,
    #[serde(default)]
    system: bool,
    /// A crypt hash (`$6$...`), as `/etc/shadow` holds it.
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    update_password: Option<UpdatePassword>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    non_unique: bool,
    /// With `state: absent`, remove the home folder and mail spool too.
    #[serde(default)]
    remove: bool,
    /// With `state: absent`, remove the user even while logged in.
    #[serde(default)]
    force: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    Present,
    Absent,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum UpdatePassword {
    Always,
    OnCreate,
}

/// Prints the account (`passwd:`), its password hash (`shadow:`), its groups (`groups:`), the
/// primary group asked for (`group:`), whether a group of the user's name exists (`own:`), and
/// which of the supplementary groups asked for do not exist (`missing:`).
pub(super) const READ: &str = r#"
n=$1; g=$2; shift 2
printf 'passwd:%s\n' "$(getent passwd "$n")"
printf 'shadow:%s\n' "$(getent shadow "$n" 2>/dev/null | cut -d: -f2)"
printf 'groups:%s\n' "$(id -nG "$n" 2>/dev/null)"
if [ -n "$g" ]; then printf 'group:%s\n' "$(getent group "$g")"; else echo group:; fi
if getent group "$n" >/dev/null; then echo own:1; else echo own:0; fi
m=
for x do getent group "$x" >/dev/null || m="$m $x"; done
printf 'missing:%s\n' "$m""#;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Account {
    exists: bool,
    uid: u32,
    gid: u32,
    comment: String,
    home: String,
    shell: String,
    hash: String,
    /// Every group, the primary one first.
    groups: Vec<String>,
}

#[derive(Debug, Default)]
struct Read {
    account: Account,
    /// The primary group asked for: its name and number.
    group: Option<(String, u32)>,
    own_group: bool,
    missing: Vec<String>,
}

fn parse_read(text: &str, name: &str) -> Read {
    let mut read = Read::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "passwd" => {
                let f: Vec<&str> = value.split(':').collect();
                if f.len() >= 7 && f[0] == name {
                    read.account.exists = true;
                    read.account.uid = f[2].parse().unwrap_or_default();
                    read.account.gid = f[3].parse().unwrap_or_default();
                    read.account.comment = f[4].to_string();
                    read.account.home = f[5].to_string();
                    read.account.shell = f[6].to_string();
                }
            }
            "shadow" => read.account.hash = value.to_string(),
            "groups" => {
                read.account.groups = value.split_whitespace().map(String::from).collect();
            }
            "group" => {
                let f: Vec<&str> = value.split(':').collect();
                if f.len() >= 3
                    && let Ok(gid) = f[2].parse()
                {
                    read.group = Some((f[0].to_string(), gid));
                }
            }
            "own" => read.own_group = value == "1",
            "missing" => read.missing = value.split_whitespace().map(String::from).collect(),
            _ => {}
        }
    }
    read
}

fn group_list(value: &Option<Json>) -> Result<Option<Vec<String>>, HostError> {
    let items: Vec<String> = match value {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::String(s)) => s.split(',').map(|g| g.trim().to_string()).collect(),
        Some(Json::Array(items)) => items.iter().map(crate::yaml::scalar_text).collect(),
        Some(other) => {
            return Err(HostError::Failed(format!(
                "invalid arguments: `groups` is a list or a comma-separated string, not {other}"
            )));
        }
    };
    Ok(Some(items.into_iter().filter(|g| !g.is_empty()).collect()))
}

impl User {
    async fn read(&self, remote: &Remote<'_>, groups: &[String]) -> Result<Read, HostError> {
        let mut args: Vec<&str> = vec![&self.name, self.group.as_deref().unwrap_or_default()];
        args.extend(groups.iter().map(String::as_str));
        let output = remote.exec(&Exec::script(READ, &args)).await?;
        if output.rc != 0 {
            return Err(HostError::Failed(format!(
                "cannot read the account `{}`: {}",
                self.name,
                output.stderr_text().trim()
            )));
        }
        Ok(parse_read(&output.stdout_text(), &self.name))
    }
}

/// The command that makes the account as asked.
#[derive(Debug)]
pub struct Work(Change);

#[derive(Debug)]
enum Change {
    /// `userdel`.
    Delete(Vec<String>),
    /// `useradd` or `usermod`, then the account read back for the result.
    Run {
        argv: Vec<String>,
        /// Where the password is in `argv`, to hide it in messages.
        password_at: Option<usize>,
        user: Box<User>,
        group: Option<(String, u32)>,
        wanted_groups: Option<Vec<String>>,
    },
    /// Groups the account needs do not exist: check mode assumes an earlier step creates them,
    /// a run fails so.
    MissingGroups(Failure),
}

impl Module for User {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        if self.name.is_empty() || self.name.contains([':', '\n']) || self.name.starts_with('-') {
            return Err(Failure::new(format!(
                "invalid arguments: `{}` is not a user name",
                self.name
            )));
        }
        let state = self.state.unwrap_or(State::Present);
        let wanted_groups = group_list(&self.groups)?;
        let remote = cx.remote().await?;
        let read = self.read(&remote, wanted_groups.as_deref().unwrap_or_default()).await?;
        let account = &read.account;
        if state == State::Absent {
            let mut outcome = Outcome::changed(account.exists)
                .with("name", self.name.as_str())
                .with("state", "absent")
                .with("force", self.force)
                .with("remove", self.remove);
            if !account.exists {
                outcome = outcome.msg(format!("user {} does not exist", self.name));
                return Ok(Plan::Done(outcome));
            }
            let mut argv = vec!["userdel".to_string()];
            if self.force {
                argv.push("-f".into());
            }
            if self.remove {
                argv.push("-r".into());
            }
            argv.push(self.name.clone());
            return Ok(Plan::Change(outcome, Work(Change::Delete(argv))));
        }
        let mut missing = read.missing.clone();
        if let Some(group) = self.group.as_ref().filter(|_| read.group.is_none()) {
            missing.insert(0, group.clone());
        }
        if !missing.is_empty() {
            let msg = format!("Group {} does not exist", missing.join(", "));
            // In check mode an earlier step may be about to create the group.
            let mut outcome = Outcome::changed(true)
                .msg(format!("check mode: {msg} yet; the user would be changed once it does"))
                .with("name", self.name.as_str())
                .with("state", "present");
            for (key, value) in [("home", &self.home), ("shell", &self.shell), ("comment", &self.comment)] {
                if let Some(value) = value {
                    outcome = outcome.with(key, value.as_str());
                }
            }
            if self.password.is_some() {
                outcome = outcome.with("password", HIDDEN);
            }
            let failure = Failure::new(msg).with("name", self.name.as_str());
            return Ok(Plan::Change(outcome, Work(Change::MissingGroups(failure))));
        }
        let mut args: Vec<String> = Vec::new();
        // Where the password sits in `args`, to hide it in messages.
        let mut password_at = None;
        let add = |args: &mut Vec<String>, flag: &str, value: &str| {
            args.push(flag.to_string());
            args.push(value.to_string());
        };
        let program = if account.exists {
            if let Some(uid) = self.uid.filter(|u| *u != account.uid) {
                add(&mut args, "-u", &uid.to_string());
                if self.non_unique {
                    args.push("-o".into());
                }
            }
            if let Some((_, gid)) = read.group.as_ref().filter(|(_, gid)| *gid != account.gid) {
                add(&mut args, "-g", &gid.to_string());
            }
            if let Some(comment) = self.comment.as_ref().filter(|c| **c != account.comment) {
                add(&mut args, "-c", comment);
            }
            if let Some(home) = self.home.as_ref().filter(|h| **h != account.home) {
                add(&mut args, "-d", home);
                if self.move_home {
                    args.push("-m".into());
                }
            }
            if let Some(shell) = self.shell.as_ref().filter(|s| **s != account.shell) {
                add(&mut args, "-s", shell);
            }
            if let Some(wanted) = &wanted_groups {
                let primary = account.groups.first().cloned().unwrap_or_default();
                let current: Vec<&String> = account.groups.iter().filter(|g| **g != primary).collect();
                let wanted_set: Vec<&String> = wanted.iter().filter(|g| **g != primary).collect();
                let missing = wanted_set.iter().any(|g| !current.contains(g));
                let extra = current.iter().any(|g| !wanted_set.contains(g));
                if missing || (!self.append && extra) {
                    if self.append {
                        args.push("-a".into());
                    }
                    add(&mut args, "-G", &wanted.join(","));
                }
            }
            if let Some(password) = &self.password
                && self.update_password != Some(UpdatePassword::OnCreate)
                && *password != account.hash
            {
                password_at = Some(args.len() + 1);
                add(&mut args, "-p", password);
            }
            "usermod"
        } else {
            if let Some(uid) = self.uid {
                add(&mut args, "-u", &uid.to_string());
                if self.non_unique {
                    args.push("-o".into());
                }
            }
            match &read.group {
                Some((_, gid)) => add(&mut args, "-g", &gid.to_string()),
                None if read.own_group => args.push("-N".into()),
                None => {}
            }
            if let Some(wanted) = wanted_groups.as_ref().filter(|g| !g.is_empty()) {
                add(&mut args, "-G", &wanted.join(","));
            }
            if let Some(comment) = &self.comment {
                add(&mut args, "-c", comment);
            }
            if let Some(home) = &self.home {
                add(&mut args, "-d", home);
            }
            if let Some(shell) = &self.shell {
                add(&mut args, "-s", shell);
            }
            if let Some(password) = &self.password {
                password_at = Some(args.len() + 1);
                add(&mut args, "-p", password);
            }
            if self.system {
                args.push("-r".into());
            }
            if self.create_home {
                args.push("-m".into());
                if let Some(skeleton) = &self.skeleton {
                    add(&mut args, "-k", skeleton);
                }
            } else {
                args.push("-M".into());
            }
            "useradd"
        };
        let changed = !account.exists || !args.is_empty();
        // The account as it stands, or, when it does not exist yet, what it would get.
        let planned = self.result(changed, account, &read.group, &wanted_groups);
        if !changed {
            return Ok(Plan::Done(planned));
        }
        let mut argv = vec![program.to_string()];
        argv.extend(args);
        argv.push(self.name.clone());
        let group = read.group;
        Ok(Plan::Change(
            planned,
            Work(Change::Run {
                argv,
                password_at,
                user: Box::new(self),
                group,
                wanted_groups,
            }),
        ))
    }

    async fn apply(work: Work, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        match work.0 {
            Change::Delete(argv) => {
                run_checked(&remote, &argv).await?;
                Ok(planned)
            }
            Change::MissingGroups(failure) => Err(failure),
            Change::Run {
                mut argv,
                password_at,
                user,
                group,
                wanted_groups,
            } => {
                let output = remote.exec(&Exec::new(argv.clone())).await?;
                if output.rc != 0 {
                    if let Some(i) = password_at {
                        argv[i + 1] = HIDDEN.to_string();
                    }
                    return Err(Failure::new(format!(
                        "`{}` failed ({}): {}",
                        argv.join(" "),
                        output.rc,
                        output.stderr_text().trim()
                    ))
                    .with("name", user.name.as_str()));
                }
                let after = user.read(&remote, &[]).await?.account;
                Ok(user.result(true, &after, &group, &wanted_groups))
            }
        }
    }
}

impl User {
    /// The result for `state: present`, from the account (when it exists) or from the arguments.
    fn result(
        &self,
        changed: bool,
        account: &Account,
        group: &Option<(String, u32)>,
        wanted_groups: &Option<Vec<String>>,
    ) -> Outcome {
        let mut outcome = Outcome::changed(changed)
            .with("name", self.name.as_str())
            .with("state", "present")
            .with("append", self.append)
            .with("system", self.system)
            .with("create_home", self.create_home)
            .with("move_home", self.move_home);
        if account.exists {
            let groups: Vec<&String> = account.groups.iter().skip(1).collect();
            outcome = outcome
                .with("uid", account.uid)
                .with("group", account.gid)
                .with("home", account.home.as_str())
                .with("shell", account.shell.as_str())
                .with("comment", account.comment.as_str())
                .with(
                    "groups",
                    groups.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(","),
                );
        } else {
            if let Some(uid) = self.uid {
                outcome = outcome.with("uid", uid);
            }
            if let Some((_, gid)) = group {
                outcome = outcome.with("group", *gid);
            }
            for (key, value) in [("home", &self.home), ("shell", &self.shell), ("comment", &self.comment)] {
                if let Some(value) = value {
                    outcome = outcome.with(key, value.as_str());
                }
            }
            if let Some(groups) = wanted_groups {
                outcome = outcome.with("groups", groups.join(","));
            }
        }
        if self.password.is_some() {
            outcome = outcome.with("password", HIDDEN);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_account() {
        let read = parse_read(
            "passwd:app:x:1001:1002:App:/home/app:/bin/sh\nshadow:$6$x\ngroups:app adm users\ngroup:app:x:1002:\nown:1\nmissing: nope\n",
            "app",
        );
        assert!(read.account.exists);
        assert_eq!(read.account.uid, 1001);
        assert_eq!(read.account.gid, 1002);
        assert_eq!(read.account.home, "/home/app");
        assert_eq!(read.account.hash, "$6$x");
        assert_eq!(read.account.groups, ["app", "adm", "users"]);
        assert_eq!(read.group, Some(("app".into(), 1002)));
        assert_eq!(read.missing, ["nope"]);
        let none = parse_read("passwd:\nshadow:\ngroups:\ngroup:\nown:0\nmissing:\n", "x");
        assert!(!none.account.exists && none.group.is_none() && none.missing.is_empty());
    }

    #[test]
    fn groups_from_a_string_or_a_list() {
        assert_eq!(
            group_list(&Some(Json::from("a, b,"))).unwrap(),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            group_list(&Some(serde_json::json!(["a", "b"]))).unwrap(),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(group_list(&None).unwrap(), None);
    }
}
