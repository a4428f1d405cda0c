//! The executor: plays in order, each in `serial` batches of hosts; within a play, steps as their
//! graph allows (ready steps at the same time), each step on all the batch's hosts in parallel,
//! bounded by `--forks`. Blocks, includes and handlers run their steps in order.

mod connect;
mod loop_lookups;
mod node;
mod scope;
mod step;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use indexmap::IndexMap;
use serde_json::Value as Json;
use tokio::sync::Semaphore;

use crate::connection::Connection;
use crate::error::Error;
use crate::graph::StepGraph;
use crate::inventory::Inventory;
use crate::output::{Counters, Event, Reporter, Status};
use crate::playbook::{Action, Batch, Play, Playbook, Step};
use crate::template::{Scope, Templar, Vars, is_template};

pub use connect::{control_persist, truthy_setting};

/// How to reach an inventory host, from its inventory variables alone (for commands that work on
/// hosts without a playbook, such as `bgrun registrator`).
pub fn host_connection(
    inventory: &Inventory,
    host: &str,
    timeout: Duration,
    host_key_checking: bool,
    persist: crate::transport::Persist,
) -> Result<Connection, crate::template::TemplateError> {
    let mut vars = inventory.vars_for(host);
    vars.insert("inventory_hostname".into(), Json::from(host));
    let scope = Scope::new(&Templar::new(), vars);
    connect::spec(host, &scope, timeout, host_key_checking, persist).map(Connection::new)
}

/// A host's variables as a step sees them before any play: the inventory's, with the magic
/// variables that place the host in the inventory (for commands such as `bgrun render`).
pub fn inventory_vars(inventory: &Inventory, host: &str) -> Vars {
    let groups = serde_json::to_value(inventory.groups_map()).unwrap_or(Json::Null);
    let mut vars = inventory.vars_for(host);
    vars.extend(scope::inventory_magic(host, inventory.group_names(host)));
    vars.insert("groups".into(), groups);
    vars
}

/// What the command line asked of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub check: bool,
    pub diff: bool,
    pub forks: usize,
    pub verbosity: u8,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub extra_vars: Vars,
    pub limit: Option<String>,
    pub timeout: Duration,
    pub host_key_checking: bool,
    /// Whether SSH masters outlive the run (`--no-persist`, `ControlPersist`).
    pub persist: crate::transport::Persist,
    pub force_handlers: bool,
    pub roles_path: Vec<PathBuf>,
    /// How long a `consul_lock` step waits for a lock another run holds (`--lock-wait`).
    pub lock_wait: Duration,
    /// `-c local`: hosts whose inventory and play name no connection are reached locally.
    pub local_by_default: bool,
}

/// How the run ended, for the exit code.
#[derive(Debug, Default)]
pub struct Summary {
    pub hosts: IndexMap<String, Counters>,
}

impl Summary {
    pub fn any_failed(&self) -> bool {
        self.hosts.values().any(|c| c.failed > 0)
    }

    pub fn any_unreachable(&self) -> bool {
        self.hosts.values().any(|c| c.unreachable > 0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    Active,
    Failed,
    Unreachable,
}

/// What bgrun knows of a host during a run.
struct HostRun {
    /// Facts, `set_fact` values and registered results; they outlive the play, as in Ansible.
    /// Shared with the `hostvars` of the steps running (copied when it changes meanwhile).
    facts: Arc<Vars>,
    counters: Counters,
    health: Health,
    /// Handlers notified in this play and not run yet.
    notified: Vec<String>,
    /// `meta: end_host` in this play.
    ended: bool,
    /// The step that failed last and its result, for `rescue` (`ansible_failed_task`).
    last_failure: Option<Failed>,
}

impl HostRun {
    fn new() -> Self {
        HostRun {
            facts: Arc::new(Vars::new()),
            counters: Counters::default(),
            health: Health::Active,
            notified: Vec::new(),
            ended: false,
            last_failure: None,
        }
    }
}

/// A play made ready: its graph and its vars files, checked before anything runs.
pub struct PreparedPlay<'a> {
    pub play: &'a Play,
    pub graph: StepGraph,
    vars_files: Vec<Option<Vars>>,
}

/// Builds every play's graph and reads its vars files, so bad input fails before any host is
/// touched.
pub fn prepare(book: &Playbook) -> Result<Vec<PreparedPlay<'_>>, Error> {
    book.plays
        .iter()
        .map(|play| {
            let graph = StepGraph::build(&play.steps)?;
            for step in &play.steps {
                no_needs_inside(step)?;
            }
            let vars_files = play
                .vars_files
                .iter()
                .map(|(path, _)| {
                    (!is_template(path))
                        .then(|| crate::yaml::load_vars_file(&book.dir.join(path)))
                        .transpose()
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(PreparedPlay {
                play,
                graph,
                vars_files,
            })
        })
        .collect()
}

/// `needs` orders the steps of a play; inside a block, role or import, steps keep their order.
fn no_needs_inside(step: &Step) -> Result<(), Error> {
    if let Action::Block { steps, rescue, always } = &step.action {
        for inner in steps.iter().chain(rescue).chain(always) {
            if let Some((_, span)) = inner.needs.as_ref().and_then(|n| n.first()) {
                return Err(Error::invalid(
                    span.clone(),
                    "`needs` works between the steps of a play; inside a block, role or import, steps run in order",
                )
                .with_help("move the step out of the block, or remove `needs`"));
            }
            no_needs_inside(inner)?;
        }
    }
    Ok(())
}

/// Connections are kept by host and login user.
type ConnectionKey = (String, Option<String>);

pub struct Runner<'a> {
    book: &'a Playbook,
    /// The inventory, which `add_host` and `group_by` change while the run goes on.
    inventory: std::sync::RwLock<Arc<Inventory>>,
    options: &'a RunOptions,
    reporter: &'a Reporter,
    templar: Arc<Templar>,
    /// The magic variable `groups`, made a template value once for each state of the inventory.
    groups: std::sync::RwLock<minijinja::Value>,
    hosts: Mutex<IndexMap<String, HostRun>>,
    connections: Mutex<HashMap<ConnectionKey, Arc<Connection>>>,
    forks: Arc<Semaphore>,
}

/// The state of one batch of a play while it runs.
struct PlayRun<'p> {
    play: &'p Play,
    hosts: Vec<String>,
    /// The magic variables every host of the batch shares ([`scope::shared_magic`]).
    shared_magic: Vec<(String, minijinja::Value)>,
    vars_files: Vars,
    playbook_dir: String,
    /// Handlers from `include_role`, added while the play runs.
    extra_handlers: Mutex<Vec<Step>>,
    /// Set by `meta: end_play`, `any_errors_fatal` and `max_fail_percentage`.
    ended: AtomicBool,
}

impl<'a> Runner<'a> {
    pub fn new(book: &'a Playbook, inventory: Arc<Inventory>, options: &'a RunOptions, reporter: &'a Reporter) -> Self {
        let groups = crate::template::from_json(&serde_json::to_value(inventory.groups_map()).unwrap_or(Json::Null));
        Runner {
            book,
            inventory: std::sync::RwLock::new(inventory),
            options,
            reporter,
            templar: Templar::new(),
            groups: std::sync::RwLock::new(groups),
            hosts: Mutex::new(IndexMap::new()),
            connections: Mutex::new(HashMap::new()),
            forks: Arc::new(Semaphore::new(options.forks.max(1))),
        }
    }

    /// Runs every play and prints the recap.
    pub async fn run(&self, plays: &[PreparedPlay<'_>]) -> Result<Summary, Error> {
        let started = Instant::now();
        let mut result = Ok(());
        for prepared in plays {
            result = self.run_play(prepared).await;
            if result.is_err() {
                break;
            }
        }
        let connections: Vec<Arc<Connection>> = self
            .connections
            .lock()
            .map(|mut c| c.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
        for connection in connections {
            if let Ok(connection) = Arc::try_unwrap(connection) {
                connection.close().await;
            }
        }
        result?;
        let hosts: IndexMap<String, Counters> = self
            .hosts
            .lock()
            .map(|h| h.iter().map(|(k, v)| (k.clone(), v.counters.clone())).collect())
            .unwrap_or_default();
        self.reporter.emit(&Event::Recap {
            hosts: hosts.clone(),
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
        Ok(Summary { hosts })
    }

    /// The hosts a play runs on: its pattern, narrowed by `--limit`, without hosts that failed.
    fn play_hosts(&self, play: &Play) -> Vec<String> {
        let mut selected = self.inventory().select(&play.hosts);
        if selected.is_empty() && play.hosts.split([':', ',']).any(|p| p == "localhost") {
            selected.push("localhost".to_string());
        }
        if let Some(limit) = &self.options.limit {
            let allowed: HashSet<String> = self.inventory().select(limit).into_iter().collect();
            selected.retain(|h| {
                allowed.contains(h) || (h == "localhost" && limit.split([':', ',']).any(|p| p == "localhost"))
            });
        }
        let hosts = self.hosts.lock();
        selected.retain(|h| {
            hosts
                .as_ref()
                .map(|m| m.get(h).is_none_or(|r| r.health == Health::Active))
                .unwrap_or(true)
        });
        selected
    }

    /// The play's `vars_files`, the templated names read now.
    fn play_vars_files(&self, prepared: &PreparedPlay<'_>) -> Result<Vars, Error> {
        let play = prepared.play;
        let mut vars_files = Vars::new();
        for ((path, span), loaded) in play.vars_files.iter().zip(&prepared.vars_files) {
            let vars = match loaded {
                Some(vars) => vars.clone(),
                None => {
                    let scope = Scope::new(&self.templar, scope::layered([&play.vars, &self.options.extra_vars]));
                    let rendered = self
                        .templar
                        .render_string(path, &scope)
                        .map_err(|e| Error::invalid(span.clone(), format!("vars_files: {e}")))?;
                    crate::yaml::load_vars_file(&self.book.dir.join(crate::yaml::scalar_text(&rendered)))?
                }
            };
            vars_files.extend(vars);
        }
        Ok(vars_files)
    }

    async fn run_play(&self, prepared: &PreparedPlay<'_>) -> Result<(), Error> {
        let play = prepared.play;
        let hosts = self.play_hosts(play);
        self.reporter.emit(&Event::PlayStart {
            play: play.name.clone(),
            hosts: hosts.clone(),
        });
        if hosts.is_empty() {
            self.reporter.emit(&Event::Warning {
                message: format!("no hosts matched `{}`; skipping the play", play.hosts),
            });
            return Ok(());
        }
        if let Ok(mut states) = self.hosts.lock() {
            for host in &hosts {
                let state = states.entry(host.clone()).or_insert_with(HostRun::new);
                state.notified.clear();
                state.ended = false;
            }
        }
        let vars_files = match self.play_vars_files(prepared) {
            Ok(vars) => vars,
            // Known only at run time: the play's hosts fail, and the run goes on to its recap.
            Err(e) => {
                let msg = e.render().trim_start_matches("error: ").to_string();
                for host in &hosts {
                    self.host_error(
                        &format!("vars_files of `{}`", play.name),
                        host,
                        Status::Failed,
                        msg.clone(),
                    );
                }
                return Ok(());
            }
        };
        self.register_secrets(play, &hosts);
        for batch in batches(&hosts, &play.serial) {
            let run = PlayRun {
                play,
                shared_magic: scope::shared_magic(&self.groups(), &batch),
                hosts: batch,
                vars_files: vars_files.clone(),
                playbook_dir: dir_text(&self.book.dir),
                extra_handlers: Mutex::new(Vec::new()),
                ended: AtomicBool::new(false),
            };
            self.run_batch(&run, &prepared.graph).await;
            if run.ended.load(Ordering::SeqCst) && self.failed_fraction(&run) > 0.0 {
                break;
            }
        }
        Ok(())
    }

    async fn run_batch(&self, run: &PlayRun<'_>, graph: &StepGraph) {
        if run.play.gather_facts {
            self.gather_facts(run).await;
        }
        let mut waiting_on: Vec<usize> = (0..graph.len()).map(|i| graph.dependencies(i).len()).collect();
        let mut running = FuturesUnordered::new();
        for (i, deps) in waiting_on.iter().enumerate() {
            if *deps == 0 {
                running.push(self.run_top(run, i));
            }
        }
        while let Some(done) = running.next().await {
            for next in graph.dependents(done) {
                waiting_on[next] -= 1;
                if waiting_on[next] == 0 {
                    running.push(self.run_top(run, next));
                }
            }
        }
        self.flush_handlers(run, &run.hosts, true).await;
    }

    async fn run_top(&self, run: &PlayRun<'_>, index: usize) -> usize {
        self.run_node(run, &run.play.steps[index], &run.hosts).await;
        index
    }

    /// Opens the connection to every host at the start of the play, in parallel, and gathers its
    /// facts when bgrun has the `setup` module.
    async fn gather_facts(&self, run: &PlayRun<'_>) {
        let hosts = self.active(run, &run.hosts);
        let Some(setup) = crate::modules::ModuleKind::lookup("setup") else {
            let futures = hosts.iter().map(|host| async move {
                let Some(connection) = self.connection_for(run, host, None, None) else {
                    return;
                };
                let _permit = self.forks.acquire().await;
                if let Err(e) = connection.get().await {
                    self.host_error("Gathering Facts", host, Status::Unreachable, e.to_string());
                }
            });
            futures::future::join_all(futures).await;
            return;
        };
        let mut step = crate::playbook::root_step(&run.play.span);
        step.name = Some("Gathering Facts".into());
        step.action = Action::Module {
            kind: setup,
            args: Vars::new(),
        };
        self.run_module_step(run, &step, &hosts).await;
    }

    /// Masks the values of secret variables (`*password*`, `*token*`, ...) in everything printed.
    fn register_secrets(&self, play: &Play, hosts: &[String]) {
        for host in hosts {
            let vars = scope::layered([&self.inventory().vars_for(host), &play.vars, &self.options.extra_vars]);
            let names: Vec<String> = vars
                .keys()
                .filter(|k| crate::output::is_secret_name(k))
                .cloned()
                .collect();
            let scope = Scope::new(&self.templar, vars);
            for name in names {
                if let Ok(Some(Json::String(value))) = scope.resolve(&name) {
                    self.reporter.add_secret(&value);
                }
            }
        }
    }

    /// Hosts of `candidates` that still take part in the play.
    fn active(&self, run: &PlayRun<'_>, candidates: &[String]) -> Vec<String> {
        if run.ended.load(Ordering::SeqCst) {
            return Vec::new();
        }
        let Ok(hosts) = self.hosts.lock() else {
            return Vec::new();
        };
        candidates
            .iter()
            .filter(|h| hosts.get(*h).is_some_and(|r| r.health == Health::Active && !r.ended))
            .cloned()
            .collect()
    }

    /// The share of the batch's hosts that failed or went unreachable.
    fn failed_fraction(&self, run: &PlayRun<'_>) -> f64 {
        let Ok(hosts) = self.hosts.lock() else {
            return 0.0;
        };
        let failed = run
            .hosts
            .iter()
            .filter(|h| hosts.get(*h).is_some_and(|r| r.health != Health::Active))
            .count();
        failed as f64 / run.hosts.len().max(1) as f64
    }

    /// After a step: `any_errors_fatal` and `max_fail_percentage` end the play.
    fn check_failure_limits(&self, run: &PlayRun<'_>, failed_now: bool) {
        let fraction = self.failed_fraction(run);
        if run.play.any_errors_fatal && failed_now {
            run.ended.store(true, Ordering::SeqCst);
            self.reporter.emit(&Event::Warning {
                message: "a host failed and the play has `any_errors_fatal`: stopping the play".into(),
            });
        } else if let Some(limit) = run.play.max_fail_percentage
            && fraction * 100.0 > limit
        {
            run.ended.store(true, Ordering::SeqCst);
            self.reporter.emit(&Event::Warning {
                message: format!(
                    "{:.0}% of the hosts failed, above `max_fail_percentage: {limit}`: stopping the play",
                    fraction * 100.0
                ),
            });
        }
    }

    /// Ansible's tag selection: `--tags` picks steps (and `always`), `--skip-tags` drops them,
    /// `never` steps run only when asked for by name.
    fn selected_by_tags(&self, step: &Step) -> bool {
        let tags: Vec<&str> = step.tags.iter().map(String::as_str).collect();
        let wanted = &self.options.tags;
        let skipped = &self.options.skip_tags;
        if tags.iter().any(|t| skipped.iter().any(|s| s == t)) {
            return false;
        }
        if skipped.iter().any(|s| s == "tagged") && !tags.is_empty()
            || skipped.iter().any(|s| s == "untagged") && tags.is_empty()
        {
            return false;
        }
        let named = |t: &str| wanted.iter().any(|w| w == t);
        if tags.contains(&"never") && !tags.iter().any(|t| *t != "never" && named(t)) && !named("never") {
            return false;
        }
        if wanted.is_empty() || named("all") {
            return true;
        }
        tags.contains(&"always")
            || tags.iter().any(|t| named(t))
            || named("tagged") && !tags.is_empty()
            || named("untagged") && tags.is_empty()
    }

    /// Every known host's variables below the play, for `hostvars`.
    fn hostvars(&self, run: &PlayRun<'_>) -> scope::HostVars {
        let facts = self
            .hosts
            .lock()
            .map(|h| h.iter().map(|(k, v)| (k.clone(), Arc::clone(&v.facts))).collect())
            .unwrap_or_default();
        let outside_inventory = run
            .hosts
            .iter()
            .filter(|h| self.inventory().host(h).is_none())
            .cloned()
            .collect();
        scope::HostVars {
            templar: Arc::clone(&self.templar),
            inventory: self.inventory(),
            facts,
            outside_inventory,
        }
    }

    /// The variables a step sees on a host, lowest precedence first: role defaults, inventory,
    /// play `vars`, `vars_files`, role vars, block and step `vars`, facts and registered results,
    /// role and include parameters, `-e`, then magic variables.
    fn host_scope(
        &self,
        run: &PlayRun<'_>,
        step: Option<&Step>,
        host: &str,
        hostvars: Option<&Arc<scope::HostVars>>,
    ) -> Scope {
        let inventory = self.inventory().vars_for(host);
        let facts = self
            .hosts
            .lock()
            .map(|h| h.get(host).map(|r| Arc::clone(&r.facts)).unwrap_or_default())
            .unwrap_or_default();
        let magic = scope::Magic {
            host,
            group_names: self.inventory().group_names(host),
            playbook_dir: &run.playbook_dir,
            check: self.options.check,
            diff: self.options.diff,
            verbosity: self.options.verbosity,
            role: step
                .and_then(|s| s.role.as_ref())
                .map(|r| (r.name.as_str(), r.dir.as_path())),
        }
        .vars();
        let empty = Vars::new();
        let role = step.and_then(|s| s.role.as_deref());
        let layers = [
            role.map_or(&empty, |r| &r.defaults),
            &inventory,
            &run.play.vars,
            &run.vars_files,
            role.map_or(&empty, |r| &r.vars),
            step.map_or(&empty, |s| &s.vars),
            &*facts,
            role.map_or(&empty, |r| &r.params),
            step.map_or(&empty, |s| &s.params),
            &self.options.extra_vars,
            &magic,
        ];
        let vars = scope::layered(layers);
        let mut extra = run.shared_magic.clone();
        if let Some(hostvars) = hostvars {
            extra.push((
                "hostvars".into(),
                minijinja::Value::from_dyn_object(Arc::clone(hostvars)),
            ));
        }
        Scope::with_values(&self.templar, vars, extra)
    }

    /// Counts a host's result for a step in the recap and takes failed hosts out of the run. An
    /// ignored failure counts as ok and ignored, and as changed too when its result says so, as
    /// Ansible counts it.
    fn count(&self, host: &str, status: Status, ignored: bool, changed: bool) {
        let Ok(mut hosts) = self.hosts.lock() else {
            return;
        };
        let entry = hosts.entry(host.to_string()).or_insert_with(HostRun::new);
        let c = &mut entry.counters;
        match status {
            Status::Ok => c.ok += 1,
            Status::Changed => {
                c.ok += 1;
                c.changed += 1;
            }
            Status::Skipped => c.skipped += 1,
            Status::Failed if ignored => {
                c.ok += 1;
                c.ignored += 1;
                c.changed += u32::from(changed);
            }
            Status::Failed => {
                c.failed += 1;
                entry.health = Health::Failed;
            }
            Status::Unreachable => {
                c.unreachable += 1;
                entry.health = Health::Unreachable;
            }
        }
    }

    /// Reports and counts a result that is not a module's (connection failures).
    fn host_error(&self, step: &str, host: &str, status: Status, msg: String) {
        self.count(host, status, false, false);
        self.reporter.emit(&Event::HostResult {
            step: step.to_string(),
            host: host.to_string(),
            status,
            ignored: false,
            msg: Some(msg),
            item: None,
            result: Json::Null,
            diff: None,
        });
    }

    /// The inventory as it is now.
    fn inventory(&self) -> Arc<Inventory> {
        Arc::clone(&self.inventory.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The magic variable `groups` as it is now.
    fn groups(&self) -> minijinja::Value {
        self.groups.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Makes the inventory change a result names (`add_host`, `add_group` with `parent_groups`,
    /// as `add_host` and `group_by` give them) for the host that ran the step; whether the
    /// inventory changed.
    fn change_inventory(&self, host: &str, result: &Vars) -> bool {
        let add_host = result.get("add_host").and_then(Json::as_object);
        let add_group = result.get("add_group").and_then(Json::as_str);
        if add_host.is_none() && add_group.is_none() {
            return false;
        }
        let mut changed = false;
        // Held while the change is made, so that hosts changing it at once all count.
        let mut current = self.inventory.write().unwrap_or_else(|e| e.into_inner());
        let mut inventory = (**current).clone();
        if let Some(add) = add_host
            && let Some(name) = add.get("host_name").and_then(Json::as_str)
        {
            let groups: Vec<String> = add
                .get("groups")
                .and_then(Json::as_array)
                .map(|g| g.iter().map(crate::yaml::scalar_text).collect())
                .unwrap_or_default();
            let vars = add
                .get("host_vars")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default();
            changed |= inventory.add_host_at_run_time(name, &groups, vars);
        }
        if let Some(group) = add_group {
            let parents: Vec<String> = result
                .get("parent_groups")
                .and_then(Json::as_array)
                .map(|g| g.iter().map(crate::yaml::scalar_text).collect())
                .unwrap_or_default();
            changed |= inventory.add_group_at_run_time(host, group, &parents);
        }
        let groups = crate::template::from_json(&serde_json::to_value(inventory.groups_map()).unwrap_or(Json::Null));
        *current = Arc::new(inventory);
        *self.groups.write().unwrap_or_else(|e| e.into_inner()) = groups;
        changed
    }

    fn set_facts(&self, host: &str, facts: Vars) {
        if let Ok(mut hosts) = self.hosts.lock()
            && let Some(entry) = hosts.get_mut(host)
        {
            Arc::make_mut(&mut entry.facts).extend(facts);
        }
    }

    /// Remembers what failed on a host, for a `rescue` that follows.
    fn record_failure(&self, host: &str, step: &Step, result: Json) {
        // As Ansible's `task.serialize()`: the name as written (empty for a step without one),
        // never a label made of the step's arguments, which may hold `{{ }}` of their own.
        let task = serde_json::json!({"name": step.name.clone().unwrap_or_default(), "action": step.kind_name()});
        if let Ok(mut hosts) = self.hosts.lock()
            && let Some(entry) = hosts.get_mut(host)
        {
            entry.last_failure = Some(Failed {
                label: step.label(),
                task,
                result,
            });
        }
    }

    fn health(&self, host: &str) -> Option<Health> {
        self.hosts.lock().ok()?.get(host).map(|r| r.health)
    }

    fn set_health(&self, host: &str, health: Health) {
        if let Ok(mut hosts) = self.hosts.lock()
            && let Some(entry) = hosts.get_mut(host)
        {
            entry.health = health;
        }
    }

    fn notify(&self, host: &str, handlers: &[String]) {
        if let Ok(mut hosts) = self.hosts.lock()
            && let Some(entry) = hosts.get_mut(host)
        {
            for name in handlers {
                if !entry.notified.contains(name) {
                    entry.notified.push(name.clone());
                }
            }
        }
    }

    /// The connection a step uses on a host: the host's own, or the delegate's; as `user`.
    fn connection_for(
        &self,
        run: &PlayRun<'_>,
        host: &str,
        delegate: Option<&str>,
        user: Option<&str>,
    ) -> Option<Arc<Connection>> {
        let target = delegate.unwrap_or(host);
        let key = (target.to_string(), user.map(String::from));
        if let Some(existing) = self.connections.lock().ok()?.get(&key) {
            return Some(Arc::clone(existing));
        }
        let scope = self.host_scope(run, None, target, None);
        let implicit_local = matches!(target, "localhost" | "127.0.0.1") && self.inventory().host(target).is_none();
        let spec = connect::spec(
            target,
            &scope,
            self.options.timeout,
            self.options.host_key_checking,
            self.options.persist,
        )
        .map(|mut spec| {
            let unnamed = scope
                .resolve("ansible_connection")
                .ok()
                .flatten()
                .is_none_or(|c| c.is_null());
            spec.local |= implicit_local || run.play.local || (self.options.local_by_default && unnamed);
            if spec.user.is_none() {
                spec.user = user.map(String::from);
            }
            spec
        });
        match spec {
            Ok(spec) => {
                let connection = Arc::new(Connection::new(spec));
                self.connections.lock().ok()?.insert(key, Arc::clone(&connection));
                Some(connection)
            }
            Err(e) => {
                self.host_error(
                    "connect",
                    host,
                    Status::Unreachable,
                    format!("connection settings of `{target}`: {e}"),
                );
                None
            }
        }
    }
}

/// Splits hosts into `serial` batches; the last batch size repeats, as in Ansible.
fn batches(hosts: &[String], serial: &[Batch]) -> Vec<Vec<String>> {
    if serial.is_empty() {
        return vec![hosts.to_vec()];
    }
    let mut out = Vec::new();
    let mut rest = hosts;
    let mut sizes = serial.iter();
    let mut last = serial[0];
    while !rest.is_empty() {
        let batch = sizes.next().copied().unwrap_or(last);
        last = batch;
        let size = match batch {
            Batch::Count(n) => n,
            Batch::Percent(p) => ((hosts.len() as f64) * p / 100.0).floor().max(1.0) as usize,
        }
        .clamp(1, rest.len());
        out.push(rest[..size].to_vec());
        rest = &rest[size..];
    }
    out
}

fn dir_text(dir: &std::path::Path) -> String {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| PathBuf::from(dir))
        .display()
        .to_string()
}

/// Hosts by name, deduplicated, in first-seen order.
fn unique(hosts: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    hosts.into_iter().filter(|h| seen.insert(h.clone())).collect()
}

/// The step that failed last on a host: its label, for the `rescued` event, and what a `rescue`
/// sees of it as `ansible_failed_task` and `ansible_failed_result`.
#[derive(Clone)]
struct Failed {
    label: String,
    task: Json,
    result: Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("h{i}")).collect()
    }

    #[test]
    fn serial_batches() {
        let sizes = |serial: &[Batch], n: usize| batches(&names(n), serial).iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(sizes(&[], 5), vec![5]);
        assert_eq!(sizes(&[Batch::Count(2)], 5), vec![2, 2, 1]);
        assert_eq!(sizes(&[Batch::Count(1), Batch::Percent(50.0)], 5), vec![1, 2, 2]);
        assert_eq!(sizes(&[Batch::Percent(10.0)], 5), vec![1, 1, 1, 1, 1]);
    }
}
