//! The executor: plays in order; within a play, steps as their graph allows (ready steps at the
//! same time), each step on all the play's hosts in parallel, bounded by `--forks`.

mod connect;
mod scope;
mod step;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use indexmap::IndexMap;
use serde_json::Value as Json;
use tokio::sync::Semaphore;

use crate::error::Error;
use crate::graph::StepGraph;
use crate::inventory::Inventory;
use crate::modules::Connection;
use crate::output::{Counters, Event, Reporter, Status};
use crate::playbook::{Play, Playbook, Step};
use crate::template::{Scope, Templar, Vars, is_template};

pub use connect::truthy_setting;

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
    /// `set_fact` values and registered results; they outlive the play, as in Ansible.
    facts: Vars,
    counters: Counters,
    health: Health,
}

/// A play made ready: its graph and its vars files, checked before anything runs.
pub struct PreparedPlay<'a> {
    pub play: &'a Play,
    pub graph: StepGraph,
    vars_files: Vec<Option<Vars>>,
}

/// Builds every play's graph and reads its vars files, so bad input fails before any host is
/// touched.
pub fn prepare<'a>(book: &'a Playbook) -> Result<Vec<PreparedPlay<'a>>, Error> {
    book.plays
        .iter()
        .map(|play| {
            let graph = StepGraph::build(&play.steps)?;
            let vars_files = play
                .vars_files
                .iter()
                .map(|(path, _)| {
                    (!is_template(path))
                        .then(|| crate::playbook::load_vars_file(&book.dir.join(path)))
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

pub struct Runner<'a> {
    book: &'a Playbook,
    inventory: &'a Inventory,
    options: &'a RunOptions,
    reporter: &'a Reporter,
    templar: Arc<Templar>,
    groups: Json,
    hosts: Mutex<IndexMap<String, HostRun>>,
    connections: Mutex<HashMap<String, Arc<Connection>>>,
    forks: Arc<Semaphore>,
}

/// The state of one play while it runs.
struct PlayRun<'p> {
    play: &'p Play,
    hosts: Vec<String>,
    vars_files: Vars,
    playbook_dir: String,
}

impl<'a> Runner<'a> {
    pub fn new(
        book: &'a Playbook,
        inventory: &'a Inventory,
        options: &'a RunOptions,
        reporter: &'a Reporter,
    ) -> Self {
        let groups = serde_json::to_value(inventory.groups_map()).unwrap_or(Json::Null);
        Runner {
            book,
            inventory,
            options,
            reporter,
            templar: Templar::new(),
            groups,
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
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.clone(), v.counters.clone()))
                    .collect()
            })
            .unwrap_or_default();
        self.reporter.emit(&Event::Recap {
            hosts: hosts.clone(),
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
        Ok(Summary { hosts })
    }

    /// The hosts a play runs on: its pattern, narrowed by `--limit`, without hosts that failed.
    fn play_hosts(&self, play: &Play) -> Vec<String> {
        let mut selected = self.inventory.select(&play.hosts);
        if selected.is_empty() && play.hosts.split([':', ',']).any(|p| p == "localhost") {
            selected.push("localhost".to_string());
        }
        if let Some(limit) = &self.options.limit {
            let allowed = self.inventory.select(limit);
            selected.retain(|h| {
                allowed.contains(h)
                    || (h == "localhost" && limit.split([':', ',']).any(|p| p == "localhost"))
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
                states.entry(host.clone()).or_insert_with(|| HostRun {
                    facts: Vars::new(),
                    counters: Counters::default(),
                    health: Health::Active,
                });
            }
        }
        let mut vars_files = Vars::new();
        for ((path, span), loaded) in play.vars_files.iter().zip(&prepared.vars_files) {
            let vars = match loaded {
                Some(vars) => vars.clone(),
                None => {
                    let scope = Scope::new(
                        &self.templar,
                        scope::layered([&play.vars, &self.options.extra_vars]),
                    );
                    let rendered = self
                        .templar
                        .render_string(path, &scope)
                        .map_err(|e| Error::invalid(span.clone(), format!("vars_files: {e}")))?;
                    crate::playbook::load_vars_file(
                        &self.book.dir.join(crate::yaml::scalar_text(&rendered)),
                    )?
                }
            };
            vars_files.extend(vars);
        }
        let run = PlayRun {
            play,
            hosts,
            vars_files,
            playbook_dir: dir_text(&self.book.dir),
        };
        self.open_connections(&run).await;
        if play.gather_facts {
            self.gather(&run).await;
        }
        let graph = &prepared.graph;
        let mut waiting_on: Vec<usize> = (0..graph.len())
            .map(|i| graph.dependencies(i).len())
            .collect();
        let mut running = FuturesUnordered::new();
        for (i, deps) in waiting_on.iter().enumerate() {
            if *deps == 0 {
                running.push(self.run_step(&run, i));
            }
        }
        while let Some(done) = running.next().await {
            for next in graph.dependents(done) {
                waiting_on[next] -= 1;
                if waiting_on[next] == 0 {
                    running.push(self.run_step(&run, next));
                }
            }
        }
        Ok(())
    }

    /// Prepares each host's connection (opened lazily, on first use).
    async fn open_connections(&self, run: &PlayRun<'_>) {
        for host in &run.hosts {
            if self
                .connections
                .lock()
                .map(|c| c.contains_key(host))
                .unwrap_or(true)
            {
                continue;
            }
            let scope = self.host_scope(run, None, host, None);
            let mut spec = connect::spec(
                host,
                &scope,
                self.options.timeout,
                self.options.host_key_checking,
            );
            if host == "localhost" && self.inventory.host(host).is_none() {
                spec = spec.map(|mut s| {
                    s.local = true;
                    s
                });
            }
            match spec {
                Ok(spec) => {
                    if let Ok(mut connections) = self.connections.lock() {
                        connections.insert(host.clone(), Arc::new(Connection::new(spec)));
                    }
                }
                Err(e) => self.host_error(
                    "connect",
                    host,
                    Status::Unreachable,
                    format!("connection settings: {e}"),
                ),
            }
        }
    }

    /// Opens the connection to every host at the start of the play, in parallel, so unreachable
    /// hosts are known before the first step.
    async fn gather(&self, run: &PlayRun<'_>) {
        let hosts: Vec<String> = run
            .hosts
            .iter()
            .filter(|h| self.is_active(h))
            .cloned()
            .collect();
        let futures = hosts.iter().map(|host| async move {
            let Some(connection) = self.connection(host) else {
                return;
            };
            let _permit = self.forks.acquire().await;
            if let Err(e) = connection.get().await {
                self.host_error("Gathering Facts", host, Status::Unreachable, e.to_string());
            }
        });
        futures::future::join_all(futures).await;
    }

    fn connection(&self, host: &str) -> Option<Arc<Connection>> {
        self.connections.lock().ok()?.get(host).cloned()
    }

    fn is_active(&self, host: &str) -> bool {
        self.hosts
            .lock()
            .map(|h| h.get(host).is_some_and(|r| r.health == Health::Active))
            .unwrap_or(false)
    }

    /// Runs one step on every active host of the play; returns the step's index.
    async fn run_step(&self, run: &PlayRun<'_>, index: usize) -> usize {
        let step = &run.play.steps[index];
        if !self.selected_by_tags(run.play, step) {
            return index;
        }
        let hosts: Vec<String> = run
            .hosts
            .iter()
            .filter(|h| self.is_active(h))
            .cloned()
            .collect();
        if hosts.is_empty() {
            return index;
        }
        let label = step.label();
        self.reporter.emit(&Event::StepStart {
            play: run.play.name.clone(),
            step: label.clone(),
            id: step.id.clone(),
        });
        let hostvars = Arc::new(self.hostvars(run));
        let pending = Mutex::new(hosts.clone());
        let work = futures::future::join_all(hosts.iter().map(|host| {
            let hostvars = Arc::clone(&hostvars);
            let pending = &pending;
            async move {
                let permit = self.forks.acquire().await;
                self.run_step_on_host(run, step, host, hostvars).await;
                drop(permit);
                if let Ok(mut p) = pending.lock() {
                    p.retain(|h| h != host);
                }
            }
        }));
        let started = Instant::now();
        let progress = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            loop {
                let left = pending.lock().map(|p| p.clone()).unwrap_or_default();
                self.reporter.waiting(&label, left, started.elapsed());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        };
        tokio::select! {
            _ = work => {}
            _ = progress => {}
        }
        self.reporter.waiting(&label, Vec::new(), started.elapsed());
        index
    }

    /// Ansible's tag selection: `--tags` picks steps (and `always`), `--skip-tags` drops them,
    /// `never` steps run only when asked for by name.
    fn selected_by_tags(&self, play: &Play, step: &Step) -> bool {
        let tags: Vec<&str> = play
            .tags
            .iter()
            .chain(&step.tags)
            .map(String::as_str)
            .collect();
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
        if tags.contains(&"never")
            && !tags.iter().any(|t| *t != "never" && named(t))
            && !named("never")
        {
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
        let facts: HashMap<String, Vars> = self
            .hosts
            .lock()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.clone(), v.facts.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut order: Vec<String> = self.inventory.hosts().map(|h| h.name.clone()).collect();
        for host in &run.hosts {
            if !order.contains(host) {
                order.push(host.clone());
            }
        }
        let hosts = order
            .iter()
            .map(|name| {
                let mut vars = self.inventory.vars_for(name);
                vars.insert("inventory_hostname".into(), Json::from(name.as_str()));
                if let Some(f) = facts.get(name) {
                    vars.extend(f.clone());
                }
                (name.clone(), vars)
            })
            .collect();
        scope::HostVars {
            templar: Arc::clone(&self.templar),
            hosts,
            order,
        }
    }

    /// The variables a step sees on a host, lowest precedence first: inventory, play `vars`,
    /// `vars_files`, step `vars`, registered results and `set_fact`, `-e`, then magic variables.
    fn host_scope(
        &self,
        run: &PlayRun<'_>,
        step: Option<&Step>,
        host: &str,
        hostvars: Option<&Arc<scope::HostVars>>,
    ) -> Scope {
        let inventory = self.inventory.vars_for(host);
        let facts = self
            .hosts
            .lock()
            .map(|h| h.get(host).map(|r| r.facts.clone()).unwrap_or_default())
            .unwrap_or_default();
        let magic = scope::Magic {
            host,
            groups: &self.groups,
            group_names: self.inventory.group_names(host),
            play_hosts: &run.hosts,
            playbook_dir: &run.playbook_dir,
            check: self.options.check,
            diff: self.options.diff,
            verbosity: self.options.verbosity,
        }
        .vars();
        let empty = Vars::new();
        let step_vars = step.map_or(&empty, |s| &s.vars);
        let vars = scope::layered([
            &inventory,
            &run.play.vars,
            &run.vars_files,
            step_vars,
            &facts,
            &self.options.extra_vars,
            &magic,
        ]);
        let extra = hostvars
            .map(|h| {
                vec![(
                    "hostvars".to_string(),
                    minijinja::Value::from_dyn_object(Arc::clone(h)),
                )]
            })
            .unwrap_or_default();
        Scope::with_values(&self.templar, vars, extra)
    }

    /// Counts a host's result for a step in the recap and takes failed hosts out of the run.
    fn count(&self, host: &str, status: Status, ignored: bool) {
        let Ok(mut hosts) = self.hosts.lock() else {
            return;
        };
        let entry = hosts.entry(host.to_string()).or_insert_with(|| HostRun {
            facts: Vars::new(),
            counters: Counters::default(),
            health: Health::Active,
        });
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
        self.count(host, status, false);
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

    fn set_facts(&self, host: &str, facts: Vars) {
        if let Ok(mut hosts) = self.hosts.lock()
            && let Some(entry) = hosts.get_mut(host)
        {
            entry.facts.extend(facts);
        }
    }
}

fn dir_text(dir: &std::path::Path) -> String {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| PathBuf::from(dir))
        .display()
        .to_string()
}
