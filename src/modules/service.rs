//! `service` (also `systemd`) starts, stops, restarts and reloads a service and enables it at
//! boot. It uses `systemctl` when systemd runs the host (`/run/systemd/system` exists), else the
//! init script through `service` (its `status` exit code tells whether it runs, or `pattern`
//! through `pgrep -f`) and `update-rc.d` for `enabled`. The state is read in one round trip;
//! only what differs is done (`restarted` and `reloaded` always act, as in Ansible).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::transport::{Exec, HostError, Remote};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(default, alias = "service", alias = "unit")]
    name: Option<String>,
    #[serde(default)]
    state: Option<State>,
    #[serde(default)]
    enabled: Option<bool>,
    /// `systemctl daemon-reload` before anything else (systemd only).
    #[serde(default, alias = "daemon-reload")]
    daemon_reload: bool,
    /// `systemctl daemon-reexec` before anything else (systemd only).
    #[serde(default, alias = "daemon-reexec")]
    daemon_reexec: bool,
    /// Mask or unmask the unit (systemd only).
    #[serde(default)]
    masked: Option<bool>,
    /// `--no-block` (systemd only).
    #[serde(default)]
    no_block: bool,
    /// `system` (default), `user` or `global` (systemd only).
    #[serde(default)]
    scope: Option<Scope>,
    /// Whether the service runs is whether a process matches this (`pgrep -f`), for init
    /// scripts without a useful `status`.
    #[serde(default)]
    pattern: Option<String>,
    /// Seconds between stop and start when restarting through an init script.
    #[serde(default)]
    sleep: Option<u64>,
    /// More words for the init script's command line.
    #[serde(default, alias = "args")]
    arguments: Option<String>,
    /// `auto` (default), `systemd`, or `sysvinit` / `service` for init scripts.
    #[serde(default, rename = "use")]
    manager: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    Started,
    Stopped,
    Restarted,
    Reloaded,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Scope {
    System,
    User,
    Global,
}

/// Reads the service's state; the `pattern` comes on standard input so that `pgrep -f` does not
/// find this script itself.
pub(super) const PROBE: &str = r#"
n=$1; m=$2
IFS= read -r pat || pat=
if [ "$m" = auto ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then m=systemd; else m=sysv; fi
fi
echo "manager=$m"
if [ "$m" = systemd ]; then
  systemctl $3 show "$n" -p Id -p LoadState -p ActiveState -p SubState -p UnitFileState 2>/dev/null
  e=$(systemctl $3 is-enabled "$n" 2>/dev/null); echo "is_enabled=$?:$e"
  exit 0
fi
if [ -e "/etc/init.d/$n" ]; then echo script=1; else echo script=0; fi
if [ -n "$pat" ]; then
  if pgrep -f -- "$pat" >/dev/null 2>&1; then echo status=0; else echo status=3; fi
elif [ -e "/etc/init.d/$n" ]; then
  if command -v service >/dev/null 2>&1; then service "$n" status >/dev/null 2>&1 </dev/null
  else "/etc/init.d/$n" status >/dev/null 2>&1 </dev/null; fi
  r=$?
  if [ "$r" -ge 4 ]; then if pgrep -x -- "$n" >/dev/null 2>&1; then r=0; else r=3; fi; fi
  echo "status=$r"
fi
s=0; k=0
for f in /etc/rc?.d/S??"$n"; do if [ -e "$f" ] || [ -L "$f" ]; then s=1; fi; done
for f in /etc/rc?.d/K??"$n"; do if [ -e "$f" ] || [ -L "$f" ]; then k=1; fi; done
echo "slinks=$s"; echo "klinks=$k"
if command -v update-rc.d >/dev/null 2>&1; then echo updatercd=1; else echo updatercd=0; fi
if command -v service >/dev/null 2>&1; then echo servicecmd=1; else echo servicecmd=0; fi"#;

/// Runs a command with its output in a file, not the connection: a daemon the command starts
/// keeps its inherited output open, and must not hold the session open.
pub(super) const CONTROL: &str = r#"
o=$(mktemp) || exit 1
"$@" >"$o" 2>&1 </dev/null
r=$?
cat "$o"; rm -f "$o"; exit $r"#;

#[derive(Debug, Default)]
struct Probe {
    systemd: bool,
    props: Map<String, Json>,
    /// `systemctl is-enabled`: its exit code and output.
    is_enabled: Option<(i32, String)>,
    script: bool,
    status: Option<i32>,
    slinks: bool,
    klinks: bool,
    update_rc_d: bool,
    service_cmd: bool,
}

fn parse_probe(text: &str) -> Probe {
    let mut probe = Probe::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "manager" => probe.systemd = value == "systemd",
            "is_enabled" => {
                let (rc, out) = value.split_once(':').unwrap_or((value, ""));
                probe.is_enabled = Some((rc.parse().unwrap_or(1), out.trim().to_string()));
            }
            "script" => probe.script = value == "1",
            "status" => probe.status = value.parse().ok(),
            "slinks" => probe.slinks = value == "1",
            "klinks" => probe.klinks = value == "1",
            "updatercd" => probe.update_rc_d = value == "1",
            "servicecmd" => probe.service_cmd = value == "1",
            _ if probe.systemd => {
                probe.props.insert(key.to_string(), Json::from(value));
            }
            _ => {}
        }
    }
    probe
}

impl Probe {
    fn prop(&self, key: &str) -> &str {
        self.props.get(key).and_then(Json::as_str).unwrap_or("")
    }

    fn running(&self) -> bool {
        if self.systemd {
            matches!(self.prop("ActiveState"), "active" | "activating" | "reloading")
        } else {
            self.status == Some(0)
        }
    }

    fn enabled(&self) -> bool {
        if self.systemd {
            self.is_enabled.as_ref().is_some_and(|(rc, _)| *rc == 0)
        } else {
            self.slinks
        }
    }
}

impl Service {
    fn scope_flag(&self) -> &'static str {
        match self.scope {
            Some(Scope::User) => "--user",
            Some(Scope::Global) => "--global",
            _ => "",
        }
    }

    fn systemctl(&self, verb: &str, name: &str) -> Vec<String> {
        let mut argv = vec!["systemctl".to_string()];
        if !self.scope_flag().is_empty() {
            argv.push(self.scope_flag().into());
        }
        if self.no_block && !matches!(verb, "enable" | "disable" | "mask" | "unmask") {
            argv.push("--no-block".into());
        }
        argv.push(verb.into());
        argv.push(name.into());
        argv
    }

    fn init_script(&self, probe: &Probe, verb: &str, name: &str) -> Result<Vec<String>, HostError> {
        let mut argv = if probe.service_cmd {
            vec!["service".to_string(), name.to_string(), verb.to_string()]
        } else {
            vec![format!("/etc/init.d/{name}"), verb.to_string()]
        };
        if let Some(arguments) = &self.arguments {
            argv.extend(shlex::split(arguments).ok_or_else(|| {
                HostError::Failed(format!(
                    "invalid arguments: cannot split `arguments` {arguments:?} into words"
                ))
            })?);
        }
        Ok(argv)
    }
}

async fn run(remote: &Remote<'_>, argv: &[String]) -> Result<(), HostError> {
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let output = remote.exec(&Exec::script(CONTROL, &args)).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "`{}` failed ({}): {}",
            argv.join(" "),
            output.rc,
            output.stdout_text().trim()
        )));
    }
    Ok(())
}

/// What a run does to the service.
#[derive(Debug)]
pub struct Work(Change);

#[derive(Debug)]
enum Change {
    /// Only `daemon_reload` / `daemon_reexec`: no unit to look at.
    Reload(Box<Service>),
    Control(Box<Control>),
}

/// The commands for the service, and the result once they ran. With `reprobe`, systemd is
/// reloaded first and the service's state read again with it, and the commands and the result
/// follow from what it says then.
#[derive(Debug)]
struct Control {
    service: Service,
    name: String,
    steps: Steps,
    result: Outcome,
    reprobe: Option<Exec>,
}

/// Commands in order; `None` is the pause of a restart through an init script.
type Steps = Vec<Option<Vec<String>>>;

impl Module for Service {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let manager = match self.manager.as_deref() {
            None | Some("auto") => "auto",
            Some("systemd") => "systemd",
            Some("sysvinit" | "service" | "sysv") => "sysv",
            Some(other) => {
                return Err(Failure::new(format!(
                    "invalid arguments: `use: {other}`: bgrun knows `auto`, `systemd`, `sysvinit` and `service`"
                )));
            }
        };
        let name = self.name.clone().unwrap_or_default();
        let reload_only = if name.is_empty() {
            Some("invalid arguments: `name` is required")
        } else if self.state.is_none() && self.enabled.is_none() && self.masked.is_none() {
            Some("invalid arguments: give at least one of `state`, `enabled` or `masked`")
        } else {
            None
        };
        if let Some(error) = reload_only {
            if !(self.daemon_reload || self.daemon_reexec) {
                return Err(Failure::new(error));
            }
            cx.remote().await?;
            let planned = Outcome::ok().with("name", name);
            return Ok(Plan::Change(planned, Work(Change::Reload(Box::new(self)))));
        }
        let remote = cx.remote().await?;
        let pattern = self.pattern.clone().unwrap_or_default();
        let probe_exec =
            Exec::script(PROBE, &[&name, manager, self.scope_flag()]).stdin(format!("{pattern}\n").into_bytes());
        let output = remote.exec(&probe_exec).await?;
        if output.rc != 0 {
            return Err(Failure::new(format!(
                "cannot read the state of service `{name}`: {}",
                output.stderr_text().trim()
            )));
        }
        let probe = parse_probe(&output.stdout_text());
        if probe.systemd && (self.daemon_reload || self.daemon_reexec) {
            // A run reloads systemd first and looks again, and then finds a unit an earlier step
            // installed.
            let planned = if found(&probe) {
                let (steps, result) = self.decide(&name, &probe)?;
                check_report(result, &steps)
            } else {
                Outcome::changed(true)
                    .msg(format!(
                        "check mode: systemd does not know {name} yet; it would look again after {}",
                        if self.daemon_reload {
                            "daemon-reload"
                        } else {
                            "daemon-reexec"
                        }
                    ))
                    .with("name", name.as_str())
            };
            let work = Change::Control(Box::new(Control {
                service: self,
                name,
                steps: Vec::new(),
                result: Outcome::ok(),
                reprobe: Some(probe_exec),
            }));
            return Ok(Plan::Change(planned, Work(work)));
        }
        let (steps, result) = self.decide(&name, &probe)?;
        if steps.is_empty() {
            return Ok(Plan::Done(result));
        }
        let planned = check_report(result.clone(), &steps);
        let work = Change::Control(Box::new(Control {
            service: self,
            name,
            steps,
            result,
            reprobe: None,
        }));
        Ok(Plan::Change(planned, Work(work)))
    }

    async fn apply(work: Work, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        match work.0 {
            Change::Reload(service) => {
                service.daemon_reload(&remote).await?;
                Ok(planned)
            }
            Change::Control(control) => {
                let Control {
                    service,
                    name,
                    mut steps,
                    mut result,
                    reprobe,
                } = *control;
                if let Some(probe_exec) = reprobe {
                    service.daemon_reload(&remote).await?;
                    let output = remote.exec(&probe_exec).await?;
                    (steps, result) = service.decide(&name, &parse_probe(&output.stdout_text()))?;
                }
                for step in &steps {
                    match step {
                        Some(argv) => run(&remote, argv).await?,
                        None => tokio::time::sleep(Duration::from_secs(service.sleep.unwrap_or(0))).await,
                    }
                }
                Ok(result)
            }
        }
    }
}

/// Whether the host knows the service.
fn found(probe: &Probe) -> bool {
    if probe.systemd {
        probe.prop("LoadState") != "not-found" || probe.prop("UnitFileState") == "masked"
    } else {
        probe.script
    }
}

/// What check mode reports: the result, with the commands a run would send.
fn check_report(result: Outcome, steps: &Steps) -> Outcome {
    if steps.is_empty() {
        return result;
    }
    let shown: Vec<String> = steps.iter().flatten().map(|argv| argv.join(" ")).collect();
    result.msg(format!("check mode: would run {}", shown.join("; ")))
}

impl Service {
    /// The commands that bring the service where it is asked (`None`: the pause of a restart
    /// through an init script), and the result once they ran.
    fn decide(&self, name: &str, probe: &Probe) -> Result<(Steps, Outcome), Failure> {
        if !probe.systemd && self.masked.is_some() {
            return Err(Failure::new(
                "invalid arguments: `masked` needs systemd, which does not run this host",
            ));
        }
        if !found(probe) {
            return Err(Failure::new(format!(
                "Could not find the requested service {name}: {}",
                if probe.systemd {
                    "systemd does not know it"
                } else {
                    "no init script in /etc/init.d"
                }
            ))
            .with("name", name));
        }
        // The commands to run, in order.
        let mut plan: Vec<Vec<String>> = Vec::new();
        if let Some(masked) = self.masked {
            let is_masked = probe.prop("UnitFileState") == "masked" || probe.prop("LoadState") == "masked";
            if masked != is_masked {
                plan.push(self.systemctl(if masked { "mask" } else { "unmask" }, name));
            }
        }
        if let Some(enabled) = self.enabled
            && enabled != probe.enabled()
        {
            if probe.systemd {
                plan.push(self.systemctl(if enabled { "enable" } else { "disable" }, name));
            } else if probe.update_rc_d {
                if enabled && !probe.klinks {
                    plan.push(vec!["update-rc.d".into(), name.to_string(), "defaults".into()]);
                }
                plan.push(vec![
                    "update-rc.d".into(),
                    name.to_string(),
                    if enabled { "enable" } else { "disable" }.into(),
                ]);
            } else {
                return Err(Failure::new(format!(
                    "cannot enable or disable {name}: the host has neither systemd nor update-rc.d"
                ))
                .with("name", name));
            }
        }
        let running = probe.running();
        let verbs: &[&str] = match (self.state, running) {
            (Some(State::Started), false) => &["start"],
            (Some(State::Stopped), true) => &["stop"],
            (Some(State::Restarted), _) if !probe.systemd && self.sleep.is_some() => &["stop", "sleep", "start"],
            (Some(State::Restarted), _) => &["restart"],
            (Some(State::Reloaded), false) => &["start"],
            (Some(State::Reloaded), true) => &["reload"],
            _ => &[],
        };
        let mut steps: Steps = plan.into_iter().map(Some).collect();
        for verb in verbs {
            steps.push(match *verb {
                "sleep" => None,
                verb if probe.systemd => Some(self.systemctl(verb, name)),
                verb => Some(self.init_script(probe, verb, name)?),
            });
        }
        let mut outcome = Outcome::changed(!steps.is_empty()).with("name", name);
        let state = match self.state {
            Some(State::Stopped) => "stopped",
            Some(_) => "started",
            None if running => "started",
            None => "stopped",
        };
        outcome = outcome.with("state", state);
        if let Some(enabled) = self.enabled {
            outcome = outcome.with("enabled", enabled);
        }
        if probe.systemd {
            outcome = outcome.with("status", Json::Object(probe.props.clone()));
        }
        Ok((steps, outcome))
    }

    async fn daemon_reload(&self, remote: &Remote<'_>) -> Result<(), HostError> {
        for (wanted, verb) in [
            (self.daemon_reload, "daemon-reload"),
            (self.daemon_reexec, "daemon-reexec"),
        ] {
            if wanted {
                let mut argv = vec!["systemctl".to_string()];
                if !self.scope_flag().is_empty() {
                    argv.push(self.scope_flag().into());
                }
                argv.push(verb.into());
                run(remote, &argv).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_init_script_probe() {
        let probe = parse_probe("manager=sysv\nscript=1\nstatus=3\nslinks=0\nklinks=1\nupdatercd=1\nservicecmd=1\n");
        assert!(!probe.systemd && probe.script && !probe.running() && !probe.enabled());
        assert!(probe.klinks && probe.update_rc_d && probe.service_cmd);
    }

    #[test]
    fn reads_a_systemd_probe() {
        let probe = parse_probe(
            "manager=systemd\nId=nginx.service\nLoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nis_enabled=0:enabled\n",
        );
        assert!(probe.systemd && probe.running() && probe.enabled());
        assert_eq!(probe.prop("SubState"), "running");
    }
}
