//! The built-in modules, found through one alphabetized list. Each module is a type whose fields
//! are its arguments (serde, unknown names rejected). Its `plan` reads the host and says what
//! would change; its `apply` makes exactly those changes. [`execute`] calls `apply` only outside
//! `--check`, so check mode is exact for every module by construction: a module never learns
//! whether it runs in check mode.

#[macro_use]
mod arguments;

pub mod add_host;
pub mod apt;
pub mod apt_repository;
pub mod assert;
pub mod async_status;
pub mod audit;
pub mod blockinfile;
pub mod command;
pub mod compose;
pub mod consul;
pub mod consul_lock;
pub mod container;
pub mod container_exec;
pub mod copy;
mod copy_tree;
pub mod ctmpl;
pub mod debug;
pub mod fail;
pub mod file;
mod file_edit;
pub mod find;
pub mod get_url;
pub mod group;
pub mod haproxy;
pub mod http;
pub mod image;
pub mod include_vars;
pub mod lineinfile;
mod path_info;
pub mod pause;
pub mod ping;
pub mod pip;
pub mod replace;
pub mod script;
pub mod service;
pub mod set_fact;
pub mod setup;
pub mod signal;
pub mod slurp;
pub mod stat;
pub mod tempfile;
pub mod template;
pub mod unarchive;
pub mod user;
pub mod wait_for;

#[cfg(test)]
mod fake_host;
pub(crate) mod introspect;
mod lenient;
#[cfg(test)]
mod tests_fake;
#[cfg(test)]
mod tests_fake_files;
#[cfg(test)]
mod tests_fake_provision;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::connection::Connection;
use crate::consul::{Consul, ConsulSettings};
use crate::template::{Scope, Templar, Vars};
use crate::transport::{Become, HostError, Remote, TransportError};

/// A module: its arguments are its fields.
pub trait Module: DeserializeOwned + Send {
    /// The argument that takes Ansible's free-form text (`command: ls -l /tmp`), if any.
    const FREE_FORM: Option<&'static str> = None;
    /// Whether the module takes arguments of any name (`set_fact`).
    const ANY_ARGUMENTS: bool = false;

    /// What `apply` needs to make the changes `plan` found.
    type Work: Send;

    /// Reads the host, changes nothing, and says what would change: the result `--check`
    /// reports (with `changed` and the diff) and the work that makes it so.
    fn plan(self, cx: &StepContext<'_>) -> impl Future<Output = Result<Plan<Self::Work>, Failure>> + Send;

    /// Makes exactly the changes of the plan; `planned` is the result the plan reported.
    fn apply(
        work: Self::Work,
        planned: Outcome,
        cx: &StepContext<'_>,
    ) -> impl Future<Output = Result<Outcome, Failure>> + Send;
}

/// A module that only reads (`debug`, `stat`, `wait_for`): it has no changes to apply.
pub trait Inspect: DeserializeOwned + Send {
    const FREE_FORM: Option<&'static str> = None;
    const ANY_ARGUMENTS: bool = false;

    fn inspect(self, cx: &StepContext<'_>) -> impl Future<Output = Result<Outcome, Failure>> + Send;
}

impl<T: Inspect> Module for T {
    const FREE_FORM: Option<&'static str> = <T as Inspect>::FREE_FORM;
    const ANY_ARGUMENTS: bool = <T as Inspect>::ANY_ARGUMENTS;
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        self.inspect(cx).await.map(Plan::Done)
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

/// What a module's `plan` found.
#[derive(Debug)]
pub enum Plan<W> {
    /// Nothing to change: the result as it stands.
    Done(Outcome),
    /// Changes to make: the result `--check` reports, and the work `apply` does.
    Change(Outcome, W),
}

/// A text's lines, as a result's `stdout_lines` and `stderr_lines` hold them.
pub(crate) fn text_lines(text: &str) -> Json {
    Json::from(text.lines().map(Json::from).collect::<Vec<_>>())
}

/// Runs a module on one host: its plan, then, outside `--check`, its apply.
pub async fn execute<M: Module>(module: M, cx: &StepContext<'_>, check: bool) -> Result<Outcome, Failure> {
    match module.plan(cx).await? {
        Plan::Done(outcome) => Ok(outcome),
        Plan::Change(planned, _) if check => Ok(planned),
        Plan::Change(planned, work) => M::apply(work, planned, cx).await,
    }
}

/// How a module's work ends when it does not succeed: the one channel of a module's failures.
#[derive(Debug)]
pub enum Failure {
    /// The connection is gone: the host is unreachable for the rest of the run.
    Unreachable(String),
    /// The host answered but the work failed: the result to register, with its message.
    Failed(Box<Outcome>),
}

impl Failure {
    pub fn new(msg: impl Into<String>) -> Self {
        Failure::Failed(Box::new(Outcome::failed(msg)))
    }

    /// The failure with a result field, as [`Outcome::with`].
    pub fn with(self, key: &str, value: impl Into<Json>) -> Self {
        match self {
            Failure::Failed(outcome) => Failure::Failed(Box::new(outcome.with(key, value))),
            unreachable => unreachable,
        }
    }

    /// The failure with `secret` replaced by `********`, as [`Outcome::scrub`].
    pub fn scrub(self, secret: Option<&str>) -> Self {
        match self {
            Failure::Failed(outcome) => Failure::Failed(Box::new(outcome.scrub(secret))),
            Failure::Unreachable(msg) => Failure::Unreachable(match secret.filter(|s| !s.is_empty()) {
                Some(secret) => crate::consul::scrub_text(&msg, secret),
                None => msg,
            }),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unreachable(msg) => f.write_str(msg),
            Failure::Failed(outcome) => f.write_str(outcome.msg.as_deref().unwrap_or("failed")),
        }
    }
}

impl From<HostError> for Failure {
    fn from(error: HostError) -> Self {
        match error {
            HostError::Unreachable(msg) => Failure::Unreachable(msg),
            HostError::Failed(msg) => Failure::new(msg),
        }
    }
}

impl From<TransportError> for Failure {
    fn from(error: TransportError) -> Self {
        Failure::Unreachable(error.0)
    }
}

impl From<Outcome> for Failure {
    /// A result that failed (`rc` not 0), with its fields.
    fn from(mut outcome: Outcome) -> Self {
        outcome.failed = true;
        Failure::Failed(Box::new(outcome))
    }
}

macro_rules! modules {
    ($($name:literal $(| $alias:literal)* => $variant:ident($ty:ty)),* $(,)?) => {
        /// Every module bgrun has.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ModuleKind { $($variant),* }

        /// Names a step may use, with Ansible's names as aliases.
        const NAMES: &[(&str, ModuleKind)] = &[$(($name, ModuleKind::$variant), $(($alias, ModuleKind::$variant),)*)*];

        impl ModuleKind {
            /// The module's own name.
            pub fn name(self) -> &'static str {
                match self { $(ModuleKind::$variant => $name),* }
            }

            /// Its argument names, or `None` when any name is accepted.
            pub fn arguments(self) -> Option<&'static [&'static str]> {
                match self { $(ModuleKind::$variant => introspect::arguments::<$ty>()),* }
            }

            pub fn free_form(self) -> Option<&'static str> {
                match self { $(ModuleKind::$variant => <$ty as Module>::FREE_FORM),* }
            }

            /// Runs the module with its templated arguments; with `check`, its plan only.
            pub async fn run(self, args: Json, cx: &StepContext<'_>, check: bool) -> Result<Outcome, Failure> {
                match self { $(ModuleKind::$variant => execute(parse::<$ty>(args)?, cx, check).await),* }
            }
        }
    };
}

modules! {
    "add_host" => AddHost(add_host::AddHost),
    "apt" => Apt(apt::Apt),
    "apt_repository" => AptRepository(apt_repository::AptRepository),
    "assert" => Assert(assert::Assert),
    "async_status" => AsyncStatus(async_status::AsyncStatus),
    "audit" => Audit(audit::Audit),
    "blockinfile" => BlockInFile(blockinfile::BlockInFile),
    "command" => Command(command::Command),
    "compose" | "docker_compose" => Compose(compose::Compose),
    "consul" => Consul(consul::Consul),
    "consul_lock" => ConsulLock(consul_lock::ConsulLock),
    "container" | "docker_container" => Container(container::Container),
    "container_exec" | "docker_container_exec" => ContainerExec(container_exec::ContainerExec),
    "copy" => Copy(copy::Copy),
    "ctmpl" => Ctmpl(ctmpl::Ctmpl),
    "debug" => Debug(debug::Debug),
    "fail" => Fail(fail::Fail),
    "file" => File(file::File),
    "find" => Find(find::Find),
    "get_url" => GetUrl(get_url::GetUrl),
    "group" => Group(group::Group),
    "group_by" => GroupBy(add_host::GroupBy),
    "haproxy" => Haproxy(haproxy::Haproxy),
    "http" | "uri" => Http(http::Http),
    "image" | "docker_image" => Image(image::Image),
    "include_vars" => IncludeVars(include_vars::IncludeVars),
    "lineinfile" => LineInFile(lineinfile::LineInFile),
    "pause" => Pause(pause::Pause),
    "ping" => Ping(ping::Ping),
    "pip" => Pip(pip::Pip),
    "replace" => Replace(replace::Replace),
    "script" => Script(script::Script),
    "service" | "systemd" => Service(service::Service),
    "set_fact" => SetFact(set_fact::SetFact),
    "setup" => Setup(setup::Setup),
    "shell" => Shell(command::Shell),
    "signal" => Signal(signal::Signal),
    "slurp" => Slurp(slurp::Slurp),
    "stat" => Stat(stat::Stat),
    "template" => Template(template::Template),
    "tempfile" => Tempfile(tempfile::Tempfile),
    "unarchive" => Unarchive(unarchive::Unarchive),
    "user" => User(user::User),
    "wait_for" => WaitFor(wait_for::WaitFor),
}

impl ModuleKind {
    /// Finds a module by the name a step uses; `ansible.builtin.` and `ansible.legacy.` prefixes
    /// are accepted.
    pub fn lookup(name: &str) -> Option<ModuleKind> {
        let short = name
            .strip_prefix("ansible.builtin.")
            .or_else(|| name.strip_prefix("ansible.legacy."))
            .unwrap_or(name);
        NAMES.iter().find(|(n, _)| *n == short).map(|(_, kind)| *kind)
    }

    /// Every name a step may use, for suggestions and `--list-modules`.
    pub fn names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(n, _)| *n)
    }
}

fn parse<T: Module>(args: Json) -> Result<T, Failure> {
    T::deserialize(lenient::Lenient(args)).map_err(|e| Failure::new(format!("invalid arguments: {e}")))
}

/// What a module sees of the run while it works on one host.
pub struct StepContext<'a> {
    pub host: &'a str,
    pub connection: &'a Connection,
    pub diff: bool,
    pub verbosity: u8,
    pub templar: &'a Arc<Templar>,
    pub scope: &'a Scope,
    pub playbook_dir: &'a Path,
    /// The folder of the step's role, where its `files/` and `templates/` are.
    pub role_dir: Option<&'a Path>,
    /// Tells the user what a long step is busy with (shown beside the waiting spinner).
    pub progress: &'a (dyn Fn(String) + Send + Sync),
    pub environment: &'a [(String, String)],
    /// The user commands run as (`become`), if not the connection's.
    pub privilege: Option<&'a Become>,
    /// How long a lock another run holds is waited for (`--lock-wait`).
    pub lock_wait: std::time::Duration,
    /// Sees each remote command before it is sent (`-vvv`).
    pub trace: Option<crate::transport::Trace<'a>>,
    /// A value with every secret of the run masked, for what a module writes beyond the run's
    /// output (the audit trail).
    pub redact: &'a (dyn Fn(&Json) -> Json + Send + Sync),
}

impl StepContext<'_> {
    /// A variable of the host as text, `None` when unset or empty.
    fn var(&self, name: &str) -> Option<String> {
        self.scope
            .resolve(name)
            .ok()
            .flatten()
            .map(|v| crate::yaml::scalar_text(&v))
            .filter(|v| !v.is_empty())
    }

    /// The host's Docker engine (`docker_host` variable, else its /var/run/docker.sock over SSH).
    pub async fn docker(&self) -> Result<&bollard::Docker, HostError> {
        let docker_host = self.var("docker_host");
        self.connection.docker(docker_host.as_deref()).await
    }

    /// The client for the host's Consul: the step's `settings`, then the host's variables, then
    /// the environment; kept on the host's connection for the run.
    pub fn consul(&self, settings: &ConsulSettings) -> Result<Consul, HostError> {
        self.connection
            .consul(self.host, &|name| self.var(name), settings)
            .map_err(|e| HostError::Failed(e.0))
    }

    /// The Consul agent of the host, when its variables name one (`consul_addr`), for
    /// registering its containers as Registrator does.
    pub fn host_consul(&self) -> Result<Option<Consul>, HostError> {
        if self.var("consul_addr").is_none() {
            return Ok(None);
        }
        self.consul(&ConsulSettings::default()).map(Some)
    }

    /// Keeps the host's Consul agent in step with a container, as Registrator would: its
    /// published ports registered while it runs, deregistered when it stops or goes.
    pub async fn sync_registration(
        &self,
        consul: &Consul,
        container: &str,
        running: bool,
    ) -> Result<Vec<String>, HostError> {
        if running {
            let docker = self.docker().await?;
            crate::docker::registrator::register(docker, consul, self.host, &self.connection.spec.address, container)
                .await
        } else {
            crate::docker::registrator::deregister(consul, self.host, container).await
        }
    }

    /// The host, connected on first use.
    pub async fn remote(&self) -> Result<Remote<'_>, HostError> {
        Ok(Remote {
            transport: self.connection.get().await?,
            privilege: self.privilege,
            trace: self.trace,
        })
    }
}

/// A content change to show with `--diff`.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub path: String,
    pub before: String,
    pub after: String,
}

/// What a module did on one host.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub changed: bool,
    pub failed: bool,
    pub skipped: bool,
    pub msg: Option<String>,
    /// The module's own result fields, registered with `register`.
    pub data: Vars,
    /// Variables the module sets on the host (`set_fact`).
    pub facts: Vars,
    pub diff: Option<Diff>,
    /// A deploy record this step wrote (its KV key and the record), reported as an event.
    pub audit: Option<(String, Json)>,
}

impl Outcome {
    pub fn ok() -> Self {
        Outcome::default()
    }

    pub fn changed(changed: bool) -> Self {
        Outcome {
            changed,
            ..Outcome::default()
        }
    }

    pub fn failed(msg: impl Into<String>) -> Self {
        Outcome {
            failed: true,
            msg: Some(msg.into()),
            ..Outcome::default()
        }
    }

    pub fn skipped(msg: impl Into<String>) -> Self {
        Outcome {
            skipped: true,
            msg: Some(msg.into()),
            ..Outcome::default()
        }
    }

    pub fn msg(mut self, msg: impl Into<String>) -> Self {
        self.msg = Some(msg.into());
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.data.insert(key.to_string(), value.into());
        self
    }

    /// The outcome with every occurrence of `secret` in its message and result replaced by
    /// `********`.
    pub fn scrub(mut self, secret: Option<&str>) -> Self {
        let Some(secret) = secret.filter(|s| !s.is_empty()) else {
            return self;
        };
        if let Some(msg) = &mut self.msg {
            *msg = crate::consul::scrub_text(msg, secret);
        }
        self.data
            .values_mut()
            .for_each(|v| crate::consul::scrub_json(v, secret));
        self
    }

    /// The result as `register` stores it, in Ansible's shape.
    pub fn registered(&self) -> Json {
        let mut map = self.data.clone();
        map.insert("changed".into(), Json::Bool(self.changed));
        map.insert("failed".into(), Json::Bool(self.failed));
        if self.skipped {
            map.insert("skipped".into(), Json::Bool(true));
        }
        // A `msg` the module gives as data (debug's list or number) is the registered one; the
        // text message is what the console shows.
        if let Some(msg) = &self.msg {
            map.entry("msg").or_insert_with(|| Json::String(msg.clone()));
        }
        Json::Object(map)
    }
}

/// A file mode given as Ansible accepts it: an octal string (`"0644"`, `"644"`) or a number that
/// YAML already read as octal (`0644`).
pub fn parse_mode(value: &Json) -> Result<Option<u32>, HostError> {
    let bad = || {
        HostError::Failed(format!(
            "invalid mode `{value}`: give it as an octal string such as \"0644\""
        ))
    };
    match value {
        Json::Null => Ok(None),
        Json::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= 0o7777)
            .map(Some)
            .ok_or_else(bad),
        Json::String(s) => u32::from_str_radix(s.trim(), 8)
            .ok()
            .filter(|n| *n <= 0o7777)
            .map(Some)
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// Finds a file of the playbook's or the step's role, as Ansible looks for it: in the role's
/// `subdir` and the role's folder, then in the playbook's `subdir` and folder; an absolute path as
/// it is.
pub fn find_source(cx: &StepContext<'_>, subdir: &str, name: &str) -> Result<std::path::PathBuf, HostError> {
    let path = Path::new(name);
    if path.is_absolute() {
        return if path.exists() {
            Ok(path.to_path_buf())
        } else {
            Err(HostError::Failed(format!("`{name}` does not exist")))
        };
    }
    let mut candidates = Vec::new();
    if let Some(role) = cx.role_dir {
        candidates.push(role.join(subdir).join(path));
        candidates.push(role.join(path));
    }
    candidates.push(cx.playbook_dir.join(subdir).join(path));
    candidates.push(cx.playbook_dir.join(path));
    candidates.iter().find(|c| c.exists()).cloned().ok_or_else(|| {
        HostError::Failed(format!(
            "could not find `{name}`; looked in {}",
            candidates
                .iter()
                .map(|c| format!("`{}`", c.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_lists_its_arguments() {
        for name in ModuleKind::names() {
            let kind = ModuleKind::lookup(name).expect("listed name resolves");
            if !matches!(kind, ModuleKind::SetFact | ModuleKind::AddHost) {
                assert!(kind.arguments().is_some_and(|a| !a.is_empty()), "{name}");
            }
        }
        assert_eq!(ModuleKind::lookup("ansible.builtin.uri"), Some(ModuleKind::Http));
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode(&Json::from(420)).unwrap(), Some(0o644));
        assert_eq!(parse_mode(&Json::from("0755")).unwrap(), Some(0o755));
        assert!(parse_mode(&Json::from("u+x")).is_err());
    }
}
