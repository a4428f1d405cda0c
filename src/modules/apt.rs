//! `apt` installs, upgrades and removes Debian packages with `apt-get`, and refreshes the package
//! lists (`update_cache`, skipped while they are younger than `cache_valid_time`). What is
//! installed is read with `dpkg-query` and what could be with `apt-cache policy`, for all the
//! names in one round trip; `apt-get` runs once for all the packages that need it, and only
//! when one does. `deb` files are not supported.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Module, Outcome, Plan, StepContext, text_lines};
use crate::transport::{Exec, HostError, Remote};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apt {
    /// A name, a comma-separated list, or a list; `name=version` pins a version.
    #[serde(default, alias = "package", alias = "pkg")]
    name: Option<Json>,
    #[serde(default)]
    state: Option<State>,
    #[serde(default, alias = "update-cache")]
    update_cache: Option<bool>,
    /// Seconds the package lists stay fresh; implies `update_cache`.
    #[serde(default)]
    cache_valid_time: u64,
    #[serde(default, alias = "install-recommends")]
    install_recommends: Option<bool>,
    /// Accepted: bgrun always uses `apt-get`.
    #[serde(default)]
    force_apt_get: bool,
    /// With `state: absent`, remove configuration files too.
    #[serde(default)]
    purge: bool,
    /// Remove packages nothing needs any more.
    #[serde(default)]
    autoremove: bool,
    #[serde(default, alias = "default-release")]
    default_release: Option<String>,
    #[serde(default)]
    allow_unauthenticated: bool,
    #[serde(default, alias = "allow-downgrade", alias = "allow_downgrades")]
    allow_downgrade: bool,
    /// Only upgrade packages that are installed; install nothing new.
    #[serde(default)]
    only_upgrade: bool,
    /// `--force-yes` of old: allow downgrades and removing held or essential packages.
    #[serde(default)]
    force: bool,
    #[serde(default = "dpkg_defaults")]
    dpkg_options: String,
    /// `no` (default), `yes` / `safe`, `full` or `dist`.
    #[serde(default)]
    upgrade: Option<Json>,
    /// Seconds to wait for another apt or dpkg to finish.
    #[serde(default = "sixty")]
    lock_timeout: u64,
}

fn dpkg_defaults() -> String {
    "force-confdef,force-confold".into()
}

fn sixty() -> u64 {
    60
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    #[serde(alias = "installed")]
    Present,
    #[serde(alias = "removed")]
    Absent,
    Latest,
}

/// For each package: what `dpkg-query` says of it and `apt-cache policy`'s candidate. With
/// `$1 = 1`, first the host's time and the package lists' age.
pub(super) const READ: &str = r#"
export LC_ALL=C
c=$1; shift
if [ "$c" = 1 ]; then
  t=$(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null) || t=$(stat -c %Y /var/lib/apt/lists 2>/dev/null) || t=0
  echo "cache|$(date +%s)|$t"
fi
for p do
  s=$(dpkg-query -W -f='${Status}|${Version}\n' "$p" 2>/dev/null | head -n 1)
  v=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n 1)
  printf 'pkg|%s|%s|%s\n' "$p" "${s:-|}" "$v"
done"#;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Package {
    name: String,
    installed: Option<String>,
    candidate: Option<String>,
}

#[derive(Debug, Default)]
struct Read {
    /// The host's time and the lists' modification time.
    cache: Option<(u64, u64)>,
    packages: Vec<Package>,
}

fn parse_read(text: &str) -> Read {
    let mut read = Read::default();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('|').collect();
        match fields.as_slice() {
            ["cache", now, mtime] => {
                read.cache = Some((now.parse().unwrap_or(0), mtime.parse().unwrap_or(0)));
            }
            ["pkg", name, status, version, candidate] => {
                let installed = status.split_whitespace().nth(2).is_some_and(|s| s == "installed");
                read.packages.push(Package {
                    name: name.to_string(),
                    installed: installed.then(|| version.to_string()),
                    candidate: Some(candidate.trim())
                        .filter(|c| !c.is_empty() && *c != "(none)")
                        .map(String::from),
                });
            }
            _ => {}
        }
    }
    read
}

/// A requested package: its name and the version pinned with `name=version`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    name: String,
    version: Option<String>,
}

impl Wanted {
    fn spec(&self) -> String {
        match &self.version {
            Some(v) => format!("{}={v}", self.name),
            None => self.name.clone(),
        }
    }

    fn version_matches(&self, installed: &str) -> bool {
        match &self.version {
            None => true,
            Some(v) => match v.strip_suffix('*') {
                Some(prefix) => installed.starts_with(prefix),
                None => installed == v,
            },
        }
    }
}

fn wanted(name: &Option<Json>) -> Result<Vec<Wanted>, HostError> {
    let names: Vec<String> = match name {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items.iter().map(crate::yaml::scalar_text).collect(),
        Some(other) => crate::yaml::scalar_text(other).split(',').map(String::from).collect(),
    };
    let mut out = Vec::new();
    for name in names {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        if name.contains(['*', '?', '[']) && !name.contains('=') || name.starts_with('-') {
            return Err(HostError::Failed(format!(
                "invalid arguments: package name `{name}`: name packages exactly (no wildcards)"
            )));
        }
        if name.ends_with(".deb") {
            return Err(HostError::Failed(format!(
                "invalid arguments: `{name}`: installing .deb files is not supported"
            )));
        }
        let (name, version) = match name.split_once('=') {
            Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
            None => (name.to_string(), None),
        };
        out.push(Wanted { name, version });
    }
    Ok(out)
}

impl Apt {
    fn apt_get(&self, cx: &StepContext<'_>, verb: &str, packages: &[String]) -> Exec {
        let mut argv: Vec<String> = ["apt-get", "-y", "-q"].map(String::from).to_vec();
        argv.push(format!("-o=DPkg::Lock::Timeout={}", self.lock_timeout));
        for option in self.dpkg_options.split(',').map(str::trim) {
            if !option.is_empty() {
                argv.push(format!("-o=Dpkg::Options::=--{option}"));
            }
        }
        if verb == "install" || verb == "upgrade" || verb == "dist-upgrade" {
            match self.install_recommends {
                Some(true) => argv.push("-o=APT::Install-Recommends=yes".into()),
                Some(false) => argv.push("--no-install-recommends".into()),
                None => {}
            }
            if let Some(release) = &self.default_release {
                argv.extend(["-t".to_string(), release.clone()]);
            }
            if self.allow_unauthenticated {
                argv.push("--allow-unauthenticated".into());
            }
            if self.allow_downgrade || self.force {
                argv.push("--allow-downgrades".into());
            }
            if self.only_upgrade {
                argv.push("--only-upgrade".into());
            }
        }
        if self.force {
            argv.push("--allow-change-held-packages".into());
            argv.push("--allow-remove-essential".into());
        }
        if verb == "remove" && self.purge {
            argv.push("--purge".into());
        }
        if self.autoremove && (verb == "remove" || verb == "install") {
            argv.push("--auto-remove".into());
        }
        if verb == "upgrade" {
            argv.push("--with-new-pkgs".into());
        }
        argv.push(verb.into());
        argv.extend(packages.iter().cloned());
        let mut exec = Exec::new(argv);
        exec.env = cx.environment.to_vec();
        exec.env.retain(|(k, _)| k != "DEBIAN_FRONTEND");
        exec.env.push(("DEBIAN_FRONTEND".into(), "noninteractive".into()));
        exec.env.push(("LC_ALL".into(), "C".into()));
        exec
    }

    async fn read(&self, remote: &Remote<'_>, cache: bool, wanted: &[Wanted]) -> Result<Read, HostError> {
        let mut args: Vec<&str> = vec![if cache { "1" } else { "0" }];
        args.extend(wanted.iter().map(|w| w.name.as_str()));
        let output = remote.exec(&Exec::script(READ, &args)).await?;
        if output.rc != 0 {
            return Err(HostError::Failed(format!(
                "cannot read the packages' state: {}",
                output.stderr_text().trim()
            )));
        }
        Ok(parse_read(&output.stdout_text()))
    }
}

/// `apt-get`'s summary line: how many packages it upgraded, installed and removed.
fn summary_changes(stdout: &str) -> Option<u64> {
    let line = stdout.lines().find(|l| l.contains(" upgraded, "))?;
    let numbers: Vec<u64> = line
        .split(',')
        .filter_map(|part| part.split_whitespace().next()?.parse().ok())
        .collect();
    Some(numbers.iter().take(3).sum())
}

/// What a run does: refresh the package lists (then look at the packages again), and run
/// `apt-get` for the packages, the upgrade and the autoremove.
#[derive(Debug)]
pub struct Work {
    apt: Apt,
    wanted: Vec<Wanted>,
    state: State,
    upgrade: Option<&'static str>,
    todo: Vec<String>,
    /// With `update_cache`, the host's time and the lists' age, and whether they are refreshed.
    cache: Option<(u64, u64)>,
    refresh: bool,
}

impl Module for Apt {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let _ = self.force_apt_get;
        let wanted = wanted(&self.name)?;
        let state = self.state.unwrap_or(State::Present);
        let upgrade = match &self.upgrade {
            None | Some(Json::Null) => None,
            Some(Json::Bool(false)) => None,
            Some(Json::Bool(true)) => Some("upgrade"),
            Some(other) => match crate::yaml::scalar_text(other).to_ascii_lowercase().as_str() {
                "no" | "false" => None,
                "yes" | "true" | "safe" => Some("upgrade"),
                "full" | "dist" => Some("dist-upgrade"),
                text => {
                    return Err(Failure::new(format!(
                        "invalid arguments: `upgrade: {text}`: give no, yes, safe, full or dist"
                    )));
                }
            },
        };
        let update_cache = self.update_cache.unwrap_or(self.cache_valid_time > 0);
        if wanted.is_empty() && upgrade.is_none() && !update_cache && !self.autoremove {
            return Err(Failure::new(
                "invalid arguments: give `name`, `upgrade`, `update_cache` or `autoremove`",
            ));
        }
        let remote = cx.remote().await?;
        let read = self.read(&remote, update_cache, &wanted).await?;
        let mut outcome = Outcome::ok();
        let cache = update_cache.then(|| read.cache.unwrap_or_default());
        let mut refresh = false;
        if let Some((now, mtime)) = cache {
            let fresh = self.cache_valid_time > 0 && now.saturating_sub(mtime) < self.cache_valid_time;
            refresh = !fresh;
            outcome = outcome.with("cache_updated", refresh).with("cache_update_time", mtime);
        }
        // Before the lists are refreshed, a package they do not have yet is no error.
        let todo = self.todo(&wanted, state, &read, refresh)?;
        let mut changed = !todo.is_empty();
        if wanted.is_empty() && upgrade.is_none() && !self.autoremove {
            changed = refresh;
        }
        if !todo.is_empty() {
            outcome = outcome.msg(format!("check mode: would {} {}", state.verb(), todo.join(", ")));
        }
        let mut simulated = Vec::new();
        if let Some(upgrade) = upgrade {
            simulated.push(upgrade);
        }
        if self.autoremove && wanted.is_empty() {
            simulated.push("autoremove");
        }
        let runs = !todo.is_empty() || !simulated.is_empty();
        for verb in simulated {
            let mut exec = self.apt_get(cx, verb, &[]);
            exec.argv.insert(1, "-s".into());
            let output = remote.exec(&exec).await?;
            if summary_changes(&output.stdout_text()).unwrap_or(0) > 0 {
                changed = true;
            }
        }
        outcome.changed = changed;
        if !refresh && !runs {
            return Ok(Plan::Done(outcome));
        }
        let work = Work {
            apt: self,
            wanted,
            state,
            upgrade,
            todo,
            cache,
            refresh,
        };
        Ok(Plan::Change(outcome, work))
    }

    async fn apply(work: Work, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let Work {
            apt,
            wanted,
            state,
            upgrade,
            mut todo,
            cache,
            refresh,
        } = work;
        let remote = cx.remote().await?;
        let mut outcome = Outcome::ok();
        if let Some((now, mtime)) = cache {
            let time = if refresh {
                let output = remote.exec(&apt.apt_get(cx, "update", &[])).await?;
                if output.rc != 0 {
                    return Err(
                        Failure::new(format!("Failed to update apt cache: {}", output.stderr_text().trim()))
                            .with("stdout", output.stdout_text())
                            .with("stderr", output.stderr_text()),
                    );
                }
                let read = apt.read(&remote, true, &wanted).await?;
                todo = apt.todo(&wanted, state, &read, false)?;
                read.cache.map(|(now, _)| now).unwrap_or(now)
            } else {
                mtime
            };
            outcome = outcome.with("cache_updated", refresh).with("cache_update_time", time);
        }
        let mut changed = !todo.is_empty();
        if wanted.is_empty() && upgrade.is_none() && !apt.autoremove {
            changed = refresh;
        }
        let mut stdout = String::new();
        let mut stderr = String::new();
        let mut runs: Vec<(Exec, bool)> = Vec::new();
        if !todo.is_empty() {
            runs.push((apt.apt_get(cx, state.verb(), &todo), false));
        }
        if let Some(upgrade) = upgrade {
            runs.push((apt.apt_get(cx, upgrade, &[]), true));
        }
        if apt.autoremove && wanted.is_empty() {
            runs.push((apt.apt_get(cx, "autoremove", &[]), true));
        }
        for (exec, counted) in runs {
            let output = remote.exec(&exec).await?;
            let out = output.stdout_text();
            let err = output.stderr_text();
            if counted && summary_changes(&out).unwrap_or(0) > 0 {
                changed = true;
            }
            stdout.push_str(&out);
            stderr.push_str(&err);
            if output.rc != 0 {
                return Err(
                    Failure::new(format!("'{}' failed: {}", exec.argv.join(" "), err.trim()))
                        .with("rc", output.rc)
                        .with("stdout_lines", text_lines(&stdout))
                        .with("stdout", stdout)
                        .with("stderr", stderr),
                );
            }
        }
        outcome.changed = changed;
        if !stdout.is_empty() || !stderr.is_empty() {
            outcome = outcome
                .with("stdout_lines", text_lines(&stdout))
                .with("stderr_lines", text_lines(&stderr))
                .with("stdout", stdout)
                .with("stderr", stderr);
        }
        Ok(outcome)
    }
}

impl State {
    /// The `apt-get` command for the packages.
    fn verb(self) -> &'static str {
        match self {
            State::Absent => "remove",
            _ => "install",
        }
    }
}

impl Apt {
    /// The packages `apt-get` installs or removes; a package no list has fails, unless the lists
    /// are about to be refreshed (`refreshing`).
    fn todo(&self, wanted: &[Wanted], state: State, read: &Read, refreshing: bool) -> Result<Vec<String>, Failure> {
        let find = |name: &str| read.packages.iter().find(|p| p.name == name);
        let mut todo: Vec<String> = Vec::new();
        for want in wanted {
            let package = find(&want.name);
            let installed = package.and_then(|p| p.installed.as_deref());
            let candidate = package.and_then(|p| p.candidate.as_deref());
            let needed = match state {
                State::Absent => installed.is_some(),
                State::Present => !installed.is_some_and(|v| want.version_matches(v)),
                State::Latest => match (installed, want.version.is_some()) {
                    (None, _) => true,
                    (Some(v), true) => !want.version_matches(v),
                    (Some(v), false) => candidate.is_some_and(|c| c != v),
                },
            };
            if !needed || (self.only_upgrade && installed.is_none()) {
                continue;
            }
            if state != State::Absent && candidate.is_none() && !refreshing {
                return Err(Failure::new(format!(
                    "No package matching '{}' is available",
                    want.name
                )));
            }
            todo.push(want.spec());
        }
        Ok(todo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dpkg_and_policy() {
        let read = parse_read(
            "cache|1700000100|1700000000\npkg|sl|install ok installed|5.02-1|5.02-1\npkg|cowsay|||3.03\npkg|nope|||\npkg|old|deinstall ok config-files|1.0|(none)\n",
        );
        assert_eq!(read.cache, Some((1700000100, 1700000000)));
        assert_eq!(read.packages[0].installed.as_deref(), Some("5.02-1"));
        assert_eq!(read.packages[1].installed, None);
        assert_eq!(read.packages[1].candidate.as_deref(), Some("3.03"));
        assert_eq!(read.packages[2].candidate, None);
        assert_eq!(read.packages[3].installed, None);
        assert_eq!(read.packages[3].candidate, None);
    }

    #[test]
    fn names_from_strings_and_lists() {
        let names = wanted(&Some(Json::from("sl, cowsay=3.03*"))).unwrap();
        assert_eq!(names[0].spec(), "sl");
        assert_eq!(names[1].name, "cowsay");
        assert!(names[1].version_matches("3.03+dfsg2-8"));
        assert!(!names[1].version_matches("3.04"));
        assert_eq!(wanted(&Some(serde_json::json!(["a", "b"]))).unwrap().len(), 2);
        assert!(wanted(&Some(Json::from("ngin*"))).is_err());
    }

    #[test]
    fn counts_apt_get_summaries() {
        assert_eq!(
            summary_changes("x\n0 upgraded, 0 newly installed, 0 to remove and 3 not upgraded.\n"),
            Some(0)
        );
        assert_eq!(
            summary_changes("2 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\n"),
            Some(3)
        );
    }
}
