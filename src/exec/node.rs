//! Steps that hold steps: blocks with `rescue` and `always`, dynamic includes of step files and
//! roles, `meta` actions, and handlers.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use serde_json::Value as Json;

use super::{Health, PlayRun, Runner, unique};
use crate::output::{Event, Status};
use crate::playbook::{Action, Loader, Meta, Step, load_steps_file};
use crate::template::Vars;

impl Runner<'_> {
    /// Runs one step of any kind on the active hosts among `hosts`.
    pub(super) async fn run_node(&self, run: &PlayRun<'_>, step: &Step, hosts: &[String]) {
        if !self.selected_by_tags(step) {
            return;
        }
        let active = self.active(run, hosts);
        if active.is_empty() {
            return;
        }
        if let Some(signal) = crate::interrupt::stopping() {
            for host in &active {
                self.fail_host(step, host, format!("not started: bgrun received {signal}"));
            }
            return;
        }
        match &step.action {
            Action::Module { .. } => self.run_module_step(run, step, &active).await,
            Action::Block { steps, rescue, always } => {
                Box::pin(self.run_block(run, steps, rescue, always, &active)).await
            }
            Action::IncludeTasks { .. } | Action::IncludeRole { .. } => {
                Box::pin(self.run_include(run, step, &active)).await
            }
            Action::Meta(meta) => self.run_meta(run, step, *meta, &active).await,
        }
    }

    /// Runs steps in order on `hosts`.
    async fn run_sequence(&self, run: &PlayRun<'_>, steps: &[Step], hosts: &[String]) {
        for step in steps {
            self.run_node(run, step, hosts).await;
        }
    }

    /// A block: its steps; for hosts that failed, `rescue`; then `always` for every host the
    /// block started with. A rescued host counts as `rescued`, not `failed`.
    async fn run_block(&self, run: &PlayRun<'_>, steps: &[Step], rescue: &[Step], always: &[Step], hosts: &[String]) {
        self.run_sequence(run, steps, hosts).await;
        let failed: Vec<String> = hosts
            .iter()
            .filter(|h| self.health(h) == Some(Health::Failed))
            .cloned()
            .collect();
        if !rescue.is_empty() && !failed.is_empty() {
            for host in &failed {
                self.set_health(host, Health::Active);
                // The block's failure is rescued, as Ansible counts it, whatever the rescue does next.
                if let Ok(mut states) = self.hosts.lock()
                    && let Some(state) = states.get_mut(host)
                {
                    state.counters.failed = state.counters.failed.saturating_sub(1);
                    state.counters.rescued += 1;
                }
                let failure = self
                    .hosts
                    .lock()
                    .ok()
                    .and_then(|h| h.get(host).and_then(|r| r.last_failure.clone()));
                if let Some(failed) = failure {
                    self.reporter.emit(&Event::Rescued {
                        step: failed.label,
                        host: host.clone(),
                    });
                    self.set_facts(
                        host,
                        Vars::from_iter([
                            ("ansible_failed_task".to_string(), failed.task),
                            ("ansible_failed_result".to_string(), failed.result),
                        ]),
                    );
                }
            }
            let _protected = crate::interrupt::Protected::hold();
            self.run_sequence(run, rescue, &failed).await;
        }
        if !always.is_empty() {
            let still_failed: Vec<String> = hosts
                .iter()
                .filter(|h| self.health(h) == Some(Health::Failed))
                .cloned()
                .collect();
            for host in &still_failed {
                self.set_health(host, Health::Active);
            }
            let reachable: Vec<String> = hosts
                .iter()
                .filter(|h| self.health(h) == Some(Health::Active))
                .cloned()
                .collect();
            let protected = crate::interrupt::Protected::hold();
            self.run_sequence(run, always, &reachable).await;
            drop(protected);
            for host in &still_failed {
                self.set_health(host, Health::Failed);
            }
        }
    }

    /// `include_tasks` and `include_role`: the file or role is read when the step runs, for each
    /// host (the name may be a template), and its steps run in order. With a loop, as Ansible
    /// does, `when` is asked per item and the steps run once per item, in item order, with the
    /// item's variables; hosts with the same file and item run it together.
    async fn run_include(&self, run: &PlayRun<'_>, step: &Step, hosts: &[String]) {
        let label = step.label();
        self.reporter.emit(&Event::StepStart {
            play: run.play.name.clone(),
            step: label.clone(),
            id: step.id.clone(),
        });
        let report = |host: &str, status: Status, item: Option<Json>| {
            self.reporter.emit(&Event::HostResult {
                step: label.clone(),
                host: host.to_string(),
                status,
                ignored: false,
                msg: None,
                item: item.map(|i| match step.no_log {
                    true => "(censored)".into(),
                    false => super::step::item_label(&i),
                }),
                result: Json::Null,
                diff: None,
            });
        };
        // Each inclusion: its file or role, the loop item's variables, and its hosts.
        let mut groups: Vec<(String, Vars, Vec<String>)> = Vec::new();
        for host in hosts {
            let scope = self.host_scope(run, Some(step), host, None);
            let runs: Vec<(Vars, Option<Json>)> = match &step.looped {
                None => vec![(Vars::new(), None)],
                Some(looped) => match self.loop_items(step, looped, &scope) {
                    Ok(items) => (0..items.len())
                        .map(|index| {
                            (
                                super::step::loop_variables(looped, &items, index),
                                Some(items[index].clone()),
                            )
                        })
                        .collect(),
                    Err(msg) => {
                        self.fail_host(step, host, msg);
                        continue;
                    }
                },
            };
            let mut included = 0;
            for (loop_vars, item) in &runs {
                let scope = scope.extended(loop_vars.clone());
                let shown = match (&step.looped, item) {
                    (Some(looped), Some(item)) => match &looped.label {
                        None => Some(item.clone()),
                        Some(template) => match self.templar.render_value(template, &scope) {
                            Ok(shown) => Some(shown),
                            Err(e) => {
                                self.fail_host(step, host, format!("Failed to template loop_control.label: {e}"));
                                break;
                            }
                        },
                    },
                    _ => None,
                };
                let mut holds = true;
                for condition in &step.when {
                    match self.templar.eval_condition(condition, &scope) {
                        Ok(value) => holds &= value,
                        Err(e) => {
                            self.fail_host(step, host, format!("{e} (in step `{label}` at {})", step.span));
                            holds = false;
                        }
                    }
                }
                if self.health(host) != Some(Health::Active) {
                    break;
                }
                if !holds {
                    report(host, Status::Skipped, shown);
                    continue;
                }
                let target = match &step.action {
                    Action::IncludeTasks { file, .. } => file,
                    Action::IncludeRole { name, .. } => name,
                    _ => continue,
                };
                match self.templar.render_string(target, &scope) {
                    Ok(value) => {
                        let target = crate::yaml::scalar_text(&value);
                        match groups.iter_mut().find(|(t, v, _)| *t == target && v == loop_vars) {
                            Some((_, _, group)) => group.push(host.clone()),
                            None => groups.push((target, loop_vars.clone(), vec![host.clone()])),
                        }
                        included += 1;
                        report(host, Status::Ok, shown);
                    }
                    Err(e) => {
                        self.fail_host(step, host, format!("{e} (in step `{label}` at {})", step.span));
                        break;
                    }
                }
            }
            // An include that included nothing (every item skipped, or no items) is skipped once.
            if included == 0 && self.health(host) == Some(Health::Active) {
                if runs.is_empty() {
                    report(host, Status::Skipped, None);
                }
                self.count(host, Status::Skipped, false, false);
            }
        }
        // As Ansible does, every inclusion is read before any runs: a host whose file cannot be
        // read fails, and runs none of them.
        let mut ready: Vec<(Vec<Step>, Vec<String>)> = Vec::new();
        for (target, loop_vars, group) in groups {
            // The include's `vars` and the item's variables hold for every step it includes.
            // (`ansible_loop_var` and `ansible_index_var` are the include's own, as in Ansible.)
            let mut vars = step.vars.clone();
            vars.extend(
                loop_vars
                    .into_iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "ansible_loop_var" | "ansible_index_var")),
            );
            let loaded = match &step.action {
                Action::IncludeTasks { base, context, .. } => {
                    let path: PathBuf = base.join(&target);
                    let mut context = (**context).clone();
                    context.params.extend(vars);
                    load_steps_file(&self.book.dir, &self.options.roles_path, &path, &context)
                }
                Action::IncludeRole {
                    tasks_from, context, ..
                } => {
                    let loader = Loader::new(&self.book.dir, &self.options.roles_path);
                    let result = loader.role(&target, tasks_from.as_deref(), vars, context, &step.span, true);
                    if let Ok(mut handlers) = run.extra_handlers.lock() {
                        handlers.extend(loader.handlers.take());
                    }
                    result
                }
                _ => continue,
            };
            match loaded {
                Ok(steps) => {
                    // Ansible counts a file read, once per item and host, not an included role.
                    if matches!(step.action, Action::IncludeTasks { .. }) {
                        for host in &group {
                            self.count(host, Status::Ok, false, false);
                        }
                    }
                    ready.push((steps, group));
                }
                Err(e) => {
                    let message = e.render().trim_start_matches("error: ").to_string();
                    for host in &group {
                        self.fail_host(step, host, message.clone());
                    }
                }
            }
        }
        for (steps, group) in ready {
            self.run_sequence(run, &steps, &group).await;
        }
    }

    async fn run_meta(&self, run: &PlayRun<'_>, step: &Step, meta: Meta, hosts: &[String]) {
        match meta {
            Meta::FlushHandlers => self.flush_handlers(run, hosts, false).await,
            Meta::EndPlay => {
                run.ended.store(true, Ordering::SeqCst);
                self.reporter.emit(&Event::Warning {
                    message: format!("`meta: end_play` at {}: the play ends here", step.span),
                });
            }
            Meta::EndHost => {
                if let Ok(mut states) = self.hosts.lock() {
                    for host in hosts {
                        if let Some(state) = states.get_mut(host) {
                            state.ended = true;
                        }
                    }
                }
            }
            Meta::Noop => {}
        }
    }

    /// Runs the handlers notified on `hosts`, in the order they are written, each once per host.
    /// At the end of a play, `force_handlers` runs them on failed hosts too.
    pub(super) async fn flush_handlers(&self, run: &PlayRun<'_>, hosts: &[String], end_of_play: bool) {
        let mut handlers: Vec<Step> = run.play.handlers.clone();
        if let Ok(extra) = run.extra_handlers.lock() {
            handlers.extend(extra.iter().cloned());
        }
        if handlers.is_empty() {
            return;
        }
        let force = end_of_play && (run.play.force_handlers || self.options.force_handlers);
        // Handlers may notify handlers; a few rounds settle any chain.
        for _ in 0..8 {
            // What each host was notified of when this round began; every handler that matches a
            // notification runs, in the order the handlers are written.
            let notified: Vec<(String, Vec<String>)> = {
                let Ok(mut states) = self.hosts.lock() else {
                    return;
                };
                hosts
                    .iter()
                    .filter_map(|host| {
                        let state = states.get_mut(host)?;
                        let eligible = state.health == Health::Active || force && state.health == Health::Failed;
                        (eligible && !state.notified.is_empty())
                            .then(|| (host.clone(), std::mem::take(&mut state.notified)))
                    })
                    .collect()
            };
            if notified.is_empty() {
                break;
            }
            for handler in &handlers {
                let names: Vec<&str> = handler
                    .name
                    .iter()
                    .map(String::as_str)
                    .chain(handler.listen.iter().map(String::as_str))
                    .collect();
                let chosen: Vec<String> = unique(
                    notified
                        .iter()
                        .filter(|(_, topics)| {
                            topics
                                .iter()
                                .any(|n| names.contains(&n.as_str()) || role_qualified(handler, n))
                        })
                        .map(|(host, _)| host.clone()),
                );
                if chosen.is_empty() {
                    continue;
                }
                let revived: Vec<String> = chosen
                    .iter()
                    .filter(|h| self.health(h) == Some(Health::Failed))
                    .cloned()
                    .collect();
                for host in &revived {
                    self.set_health(host, Health::Active);
                }
                Box::pin(self.run_node(run, handler, &chosen)).await;
                for host in &revived {
                    self.set_health(host, Health::Failed);
                }
            }
        }
    }

    /// Fails a host on a step, with a message, outside a module's run.
    pub(super) fn fail_host(&self, step: &Step, host: &str, msg: String) {
        self.record_failure(host, step, serde_json::json!({"failed": true, "msg": msg}));
        self.count(host, Status::Failed, false, false);
        self.reporter.emit(&Event::HostResult {
            step: step.label(),
            host: host.to_string(),
            status: Status::Failed,
            ignored: false,
            msg: Some(msg),
            item: None,
            result: Json::Object(Vars::new()),
            diff: None,
        });
    }
}

/// A handler of a role may be notified as `role : name`.
fn role_qualified(handler: &Step, notified: &str) -> bool {
    match (&handler.role, &handler.name) {
        (Some(role), Some(name)) => notified == format!("{} : {name}", role.name),
        _ => false,
    }
}
