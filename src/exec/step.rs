//! One step on one host: its loop, `when`, templated arguments, the module with `until`
//! retries, `changed_when` / `failed_when`, `register`, `no_log`, and the result's report.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::Value as Json;
use tokio::sync::Semaphore;

use super::scope::HostVars;
use super::{PlayRun, Runner};
use crate::modules::{Failure, ModuleKind, Outcome, StepContext};
use crate::output::{DiffEvent, Event, Status};
use crate::playbook::{Action, Loop, Step};
use crate::template::{Scope, TemplateError, Vars};
use crate::transport::{Become, BecomeMethod};

const CENSORED: &str = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// One run of the module (one loop item) and how it ended.
struct ItemResult {
    status: Status,
    outcome: Outcome,
    item: Option<Json>,
    /// A loop item's variables, as its registered result shows them: the item under the loop
    /// variable's name, `ansible_loop_var`, the index variable, `ansible_loop`.
    loop_vars: Vars,
    /// What is printed for a loop item: `loop_control.label`, else the item.
    label: Option<Json>,
}

impl Runner<'_> {
    /// Runs a module step on `hosts` in parallel (bounded by `--forks` and `throttle`), or on the
    /// first of them with `run_once`; shows which hosts it still waits for after a second.
    pub(super) async fn run_module_step(&self, run: &PlayRun<'_>, step: &Step, hosts: &[String]) {
        let targets: Vec<String> = if step.run_once {
            hosts.iter().take(1).cloned().collect()
        } else {
            hosts.to_vec()
        };
        let label = step.label();
        self.reporter.emit(&Event::StepStart {
            play: run.play.name.clone(),
            step: label.clone(),
            id: step.id.clone(),
        });
        let hostvars = Arc::new(self.hostvars(run));
        // The targets not done yet, by their place in `targets`.
        let pending = Mutex::new((0..targets.len()).collect::<BTreeSet<usize>>());
        let throttle = step.throttle.map(Semaphore::new);
        let failed_before: usize = self.failed_count(hosts);
        // No more hosts under way than `--forks` lets work: a host's work is made when it starts.
        let work = stream::iter(targets.iter().enumerate())
            .map(|(index, host)| {
                let hostvars = Arc::clone(&hostvars);
                let pending = &pending;
                let throttle = &throttle;
                async move {
                    let _limit = match throttle {
                        Some(t) => Some(t.acquire().await),
                        None => None,
                    };
                    let permit = self.forks.acquire().await;
                    self.run_step_on_host(run, step, host, hostvars).await;
                    drop(permit);
                    if let Ok(mut p) = pending.lock() {
                        p.remove(&index);
                    }
                }
            })
            .buffer_unordered(self.options.forks.max(1))
            .for_each(|()| std::future::ready(()));
        let progress = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            loop {
                let left = pending
                    .lock()
                    .map(|p| p.iter().map(|&i| targets[i].clone()).collect())
                    .unwrap_or_default();
                self.reporter.waiting(&label, left);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        };
        tokio::select! {
            _ = work => {}
            _ = progress => {}
        }
        self.reporter.waiting(&label, Vec::new());
        if step.run_once
            && let (Some(first), Some(name)) = (targets.first(), &step.register)
        {
            let value = self
                .hosts
                .lock()
                .ok()
                .and_then(|h| h.get(first).and_then(|r| r.facts.get(name).cloned()));
            if let Some(value) = value {
                for host in hosts.iter().skip(1) {
                    self.set_facts(host, Vars::from_iter([(name.clone(), value.clone())]));
                }
            }
        }
        self.check_failure_limits(run, self.failed_count(hosts) > failed_before);
    }

    fn failed_count(&self, hosts: &[String]) -> usize {
        hosts
            .iter()
            .filter(|h| self.health(h) == Some(super::Health::Failed))
            .count()
    }

    async fn run_step_on_host(&self, run: &PlayRun<'_>, step: &Step, host: &str, hostvars: Arc<HostVars>) {
        let label = step.label();
        let scope = self.host_scope(run, Some(step), host, Some(&hostvars));
        let items = match &step.looped {
            None => None,
            Some(looped) => match self.loop_items(step, looped, &scope) {
                Ok(items) => Some(items),
                Err(msg) => {
                    // As in Ansible, `ignore_errors` covers a loop whose items cannot be made.
                    let result = ItemResult {
                        status: Status::Failed,
                        outcome: Outcome::failed(msg),
                        item: None,
                        loop_vars: Vars::new(),
                        label: None,
                    };
                    let ignored = self.is_ignored(step, &scope, &result);
                    return self.finish(step, host, &label, &result, ignored);
                }
            },
        };
        let Some(items) = items else {
            let result = self.run_item(run, step, host, &scope, None).await;
            let ignored = self.is_ignored(step, &scope, &result);
            self.finish(step, host, &label, &result, ignored);
            return;
        };
        let looped = step.looped.as_ref().expect("a loop has its settings");
        let pause = match self.seconds(looped.pause.as_ref(), &scope, 0.0) {
            Ok(pause) => pause,
            Err(e) => return self.report_failure(step, host, self.template_message(step, &e)),
        };
        let mut results = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if index > 0 && !pause.is_zero() && !crate::interrupt::sleep(pause).await {
                break;
            }
            let loop_vars = loop_variables(looped, &items, index);
            let item_scope = scope.extended(loop_vars.clone());
            let mut result = self.run_item(run, step, host, &item_scope, Some(item.clone())).await;
            result.loop_vars = loop_vars;
            if let Some(template) = &looped.label {
                match self.templar.render_value(template, &item_scope) {
                    Ok(shown) => result.label = Some(shown),
                    Err(e) => {
                        result.status = Status::Failed;
                        result.outcome.failed = true;
                        result.outcome.msg = Some(format!("Failed to template loop_control.label: {e}"));
                    }
                }
            }
            self.emit_result(step, host, &label, &result, false);
            let stop = result.status == Status::Unreachable;
            results.push(result);
            if stop {
                break;
            }
        }
        let aggregate = aggregate(&results);
        let ignored = self.is_ignored(step, &scope, &aggregate);
        if let Some(name) = &step.register {
            self.set_facts(host, Vars::from_iter([(name.clone(), aggregate.outcome.registered())]));
        }
        let status = aggregate.status;
        if status == Status::Failed && !ignored || status == Status::Unreachable {
            self.emit_result(step, host, &label, &aggregate, ignored);
        } else if ignored {
            self.reporter.emit(&Event::Warning {
                message: format!("[{host}] {label}: a loop item failed; ignoring"),
            });
        }
        if status == Status::Failed && !ignored {
            self.record_failure(host, step, aggregate.outcome.registered());
        }
        self.count(host, status, ignored, aggregate.outcome.changed);
    }

    /// Runs the module once: `when`, arguments, retries, conditions.
    async fn run_item(
        &self,
        run: &PlayRun<'_>,
        step: &Step,
        host: &str,
        scope: &Scope,
        item: Option<Json>,
    ) -> ItemResult {
        let done = |status, outcome| ItemResult {
            status,
            outcome,
            item: item.clone(),
            loop_vars: Vars::new(),
            label: None,
        };
        for condition in &step.when {
            match self.templar.eval_condition(condition, scope) {
                Ok(true) => {}
                Ok(false) => {
                    let text = crate::yaml::scalar_text(condition);
                    let outcome = Outcome::skipped("Conditional result was False").with("false_condition", text);
                    return done(Status::Skipped, outcome);
                }
                Err(e) => {
                    return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
                }
            }
        }
        let Action::Module { kind, args } = &step.action else {
            return done(Status::Skipped, Outcome::skipped("not a module"));
        };
        let kind = *kind;
        let args = match self.module_defaults(step, kind, scope).and_then(|mut defaults| {
            let Json::Object(own) = self.templar.render_value(&Json::Object(args.clone()), scope)? else {
                return Ok(Json::Object(defaults));
            };
            // The step's own arguments win over the defaults.
            defaults.extend(own);
            Ok(Json::Object(defaults))
        }) {
            Ok(args) => args,
            Err(e) => {
                return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
            }
        };
        let environment = match self.environment(step, scope) {
            Ok(env) => env,
            Err(e) => {
                return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
            }
        };
        let delegate = match &step.delegate_to {
            None => None,
            Some(target) => match self.templar.render_string(target, scope) {
                Ok(value) => Some(crate::yaml::scalar_text(&value)),
                Err(e) => {
                    return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
                }
            },
        };
        let user = match &step.remote_user {
            None => None,
            Some(user) => match self.templar.render_string(user, scope) {
                Ok(value) => Some(crate::yaml::scalar_text(&value)),
                Err(e) => {
                    return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
                }
            },
        };
        let Some(connection) = self.connection_for(run, host, delegate.as_deref(), user.as_deref()) else {
            return done(
                Status::Unreachable,
                Outcome::failed(format!("no connection settings for `{host}`")),
            );
        };
        let privilege = match self.privilege(step, scope, connection.spec.user.as_deref()) {
            Ok(p) => p,
            Err(e) => {
                return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
            }
        };
        let retries = match &step.until {
            None => 0,
            Some(_) => match self.number(step.retries.as_ref(), scope, 3) {
                Ok(n) => n,
                Err(e) => {
                    return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
                }
            },
        };
        let delay = match self.seconds(step.delay.as_ref(), scope, 5.0) {
            Ok(n) => n,
            Err(e) => {
                return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
            }
        };
        let background = match &step.async_seconds {
            None => None,
            Some(value) => match (
                self.number(Some(value), scope, 0),
                self.number(step.poll.as_ref(), scope, 15),
            ) {
                (Ok(seconds), Ok(poll)) => (seconds > 0).then_some((seconds, poll)),
                (Err(e), _) | (_, Err(e)) => {
                    return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
                }
            },
        };
        let flag = |value: &Option<Json>, default: bool| match value {
            None => Ok(default),
            Some(value) => self.templar.eval_condition(value, scope),
        };
        let (check, diff, delegate_facts) = match (
            flag(&step.check_mode, self.options.check),
            flag(&step.diff, self.options.diff),
            flag(&step.delegate_facts, false),
        ) {
            (Ok(check), Ok(diff), Ok(delegate_facts)) => (check, diff, delegate_facts),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
            }
        };
        let facts_host = match &delegate {
            Some(target) if delegate_facts => target.clone(),
            _ => host.to_string(),
        };
        let step_label = step.label();
        let trace = |command: &str| {
            self.reporter.emit(&Event::Exec {
                host: host.to_string(),
                command: command.to_string(),
            })
        };
        let cx = StepContext {
            host,
            connection: &connection,
            diff,
            verbosity: self.options.verbosity,
            templar: &self.templar,
            scope,
            playbook_dir: &self.book.dir,
            role_dir: step.role.as_ref().map(|r| r.dir.as_path()),
            progress: &|detail: String| self.reporter.progress(&step_label, host, detail),
            environment: &environment,
            privilege: privilege.as_ref(),
            lock_wait: self.options.lock_wait,
            trace: (self.options.verbosity >= 3).then_some(&trace as crate::transport::Trace<'_>),
            redact: &|value: &Json| self.reporter.redact(value),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let run = async {
                match background {
                    None => kind.run(args.clone(), &cx, check).await,
                    // Started, not waited for: `async_status` tells how it is doing.
                    Some((seconds, 0)) if !check => Ok(start_in_background(Background {
                        kind,
                        args: args.clone(),
                        seconds,
                        host: host.to_string(),
                        connection: Arc::clone(&connection),
                        diff,
                        verbosity: self.options.verbosity,
                        templar: Arc::clone(&self.templar),
                        scope: scope.clone(),
                        playbook_dir: self.book.dir.clone(),
                        role_dir: step.role.as_ref().map(|r| r.dir.clone()),
                        environment: environment.clone(),
                        privilege: privilege.clone(),
                        lock_wait: self.options.lock_wait,
                    })),
                    Some((seconds, _)) => {
                        let jid = crate::modules::async_status::start();
                        let limit = Duration::from_secs(seconds);
                        let result = match tokio::time::timeout(limit, kind.run(args.clone(), &cx, check)).await {
                            Ok(result) => result.map(|o| crate::modules::async_status::with_job(o, &jid, true)),
                            Err(_) => Err(Failure::new(format!(
                                "async task did not complete within the requested time - {seconds}s"
                            ))
                            .with(
                                "async_result",
                                serde_json::json!({"ansible_job_id": jid, "started": 1, "finished": 0}),
                            )),
                        };
                        let ended = match &result {
                            Ok(outcome) => outcome.clone(),
                            Err(Failure::Failed(outcome)) => (**outcome).clone(),
                            Err(Failure::Unreachable(msg)) => Outcome::failed(msg.clone()),
                        };
                        crate::modules::async_status::finish(&jid, ended);
                        result
                    }
                }
            };
            let mut outcome = match run.await {
                Ok(outcome) => outcome,
                Err(Failure::Unreachable(msg)) => {
                    return done(Status::Unreachable, Outcome::failed(msg));
                }
                Err(Failure::Failed(outcome)) => *outcome,
            };
            if let Err(e) = self.apply_conditions(step, scope, &mut outcome) {
                return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
            }
            if let Some(until) = &step.until {
                if attempt > 1 || retries > 0 {
                    outcome.data.insert("attempts".into(), Json::from(attempt));
                }
                let with_result = self.bind_result(step, scope, &outcome);
                match self.templar.eval_condition(until, &with_result) {
                    Ok(true) => {}
                    Ok(false) if attempt <= retries => {
                        self.reporter.emit(&Event::Retrying {
                            step: step.label(),
                            host: host.to_string(),
                            retries_left: (retries + 1 - attempt) as u32,
                        });
                        if crate::interrupt::sleep(delay).await {
                            continue;
                        }
                        outcome.failed = true;
                        outcome.msg = Some(format!(
                            "stopped retrying after {attempt} attempts: bgrun received {}",
                            crate::interrupt::received().unwrap_or("a signal")
                        ));
                    }
                    Ok(false) => {
                        outcome.failed = true;
                        outcome
                            .msg
                            .get_or_insert_with(|| format!("still not done after {attempt} attempts"));
                    }
                    Err(e) => {
                        return done(Status::Failed, Outcome::failed(self.template_message(step, &e)));
                    }
                }
            }
            if !outcome.facts.is_empty() {
                self.set_facts(&facts_host, std::mem::take(&mut outcome.facts));
            }
            if !outcome.failed && self.change_inventory(host, &outcome.data) {
                outcome.changed = true;
            }
            let status = status_of(&outcome);
            if status == Status::Changed && !step.notify.is_empty() {
                self.notify(host, &step.notify);
            }
            if item.is_none()
                && let Some(name) = &step.register
            {
                self.set_facts(host, Vars::from_iter([(name.clone(), outcome.registered())]));
            }
            return done(status, outcome);
        }
    }

    /// `changed_when` and `failed_when`, with the result bound to the `register` name; not for a
    /// skipped result (a `command` in check mode), as in Ansible.
    fn apply_conditions(&self, step: &Step, scope: &Scope, outcome: &mut Outcome) -> Result<(), TemplateError> {
        if outcome.skipped || (step.changed_when.is_empty() && step.failed_when.is_empty()) {
            return Ok(());
        }
        let with_result = self.bind_result(step, scope, outcome);
        if !step.changed_when.is_empty() {
            let mut changed = true;
            for condition in &step.changed_when {
                changed &= self.templar.eval_condition(condition, &with_result)?;
            }
            outcome.changed = changed;
        }
        if !step.failed_when.is_empty() {
            let mut failed = true;
            for condition in &step.failed_when {
                failed &= self.templar.eval_condition(condition, &with_result)?;
            }
            outcome.failed = failed;
            outcome.data.insert("failed_when_result".into(), Json::Bool(failed));
            if failed {
                outcome
                    .msg
                    .get_or_insert_with(|| "the failed_when condition was true".into());
            } else if outcome
                .msg
                .as_deref()
                .is_some_and(|m| m.starts_with("non-zero return code"))
            {
                outcome.msg = None;
            }
        }
        Ok(())
    }

    /// The scope with the result bound: to the `register` name, and its fields to their own
    /// names where the scope has no such variable.
    fn bind_result(&self, step: &Step, scope: &Scope, outcome: &Outcome) -> Scope {
        let mut bound = Vars::new();
        if let Some(name) = &step.register {
            bound.insert(name.clone(), outcome.registered());
        }
        for (k, v) in &outcome.data {
            if !scope.sets(k) {
                bound.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        scope.extended(bound)
    }

    /// The user commands run as: `become` with its user (root by default) and method, unless it
    /// is the user the connection logs in as.
    fn privilege(&self, step: &Step, scope: &Scope, login: Option<&str>) -> Result<Option<Become>, TemplateError> {
        let Some(spec) = &step.privilege else {
            return Ok(None);
        };
        if spec.enabled.is_null() || !self.templar.eval_condition(&spec.enabled, scope)? {
            return Ok(None);
        }
        let user = match &spec.user {
            Some(user) => crate::yaml::scalar_text(&self.templar.render_string(user, scope)?),
            None => "root".to_string(),
        };
        if login == Some(user.as_str()) {
            return Ok(None);
        }
        let method = match spec.method.as_deref() {
            Some("su") => BecomeMethod::Su,
            _ => BecomeMethod::Sudo,
        };
        Ok(Some(Become { user, method }))
    }

    fn is_ignored(&self, step: &Step, scope: &Scope, result: &ItemResult) -> bool {
        result.status == Status::Failed && self.templar.eval_condition(&step.ignore_errors, scope).unwrap_or(false)
    }

    fn number(&self, value: Option<&Json>, scope: &Scope, default: u64) -> Result<u64, TemplateError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let rendered = self.templar.render_value(value, scope)?;
        match &rendered {
            Json::Number(n) => n.as_u64(),
            Json::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| TemplateError(format!("expected a whole number, got {rendered}")))
    }

    /// A number of seconds such as `delay` (`1`, `0.05`).
    fn seconds(&self, value: Option<&Json>, scope: &Scope, default: f64) -> Result<Duration, TemplateError> {
        let Some(value) = value else {
            return Ok(Duration::from_secs_f64(default));
        };
        let rendered = self.templar.render_value(value, scope)?;
        match &rendered {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| TemplateError(format!("expected a number of seconds, got {rendered}")))
    }

    /// The play's and the step's `environment`, templated, as variables for remote commands.
    fn environment(&self, step: &Step, scope: &Scope) -> Result<Vec<(String, String)>, TemplateError> {
        let mut env: Vec<(String, String)> = Vec::new();
        for source in &step.environment {
            match self.templar.render_value(source, scope)? {
                Json::Object(map) => {
                    for (k, v) in map {
                        env.retain(|(existing, _)| *existing != k);
                        env.push((k, crate::yaml::scalar_text(&v)));
                    }
                }
                Json::Null => {}
                other => {
                    return Err(TemplateError(format!(
                        "`environment` is a mapping of variables, but this is {}",
                        kind(&other)
                    )));
                }
            }
        }
        Ok(env)
    }

    /// The `module_defaults` a module gets on this step (the last given for it), templated.
    fn module_defaults(&self, step: &Step, module: ModuleKind, scope: &Scope) -> Result<Vars, TemplateError> {
        let Some((_, defaults)) = step.module_defaults.iter().rev().find(|(k, _)| *k == module) else {
            return Ok(Vars::new());
        };
        match self.templar.render_value(defaults, scope)? {
            Json::Object(map) => Ok(map),
            Json::Null => Ok(Vars::new()),
            other => Err(TemplateError(format!(
                "the `module_defaults` of `{}` are a mapping of its arguments, but this is {}",
                module.name(),
                kind(&other)
            ))),
        }
    }

    /// A loop's items: its source templated, then read through its lookup if it has one.
    pub(super) fn loop_items(&self, step: &Step, looped: &Loop, scope: &Scope) -> Result<Vec<Json>, String> {
        let rendered = self
            .templar
            .render_value(&looped.source, scope)
            .map_err(|e| self.template_message(step, &e))?;
        match (looped.lookup, rendered) {
            (Some(lookup), terms) => {
                let mut search: Vec<std::path::PathBuf> = step.role.iter().map(|r| r.dir.clone()).collect();
                search.push(std::path::absolute(&self.book.dir).unwrap_or_else(|_| self.book.dir.clone()));
                super::loop_lookups::items(lookup, terms, &search)
            }
            (None, Json::Array(items)) => Ok(items),
            (None, Json::Null) => Ok(Vec::new()),
            (None, other) => Err(format!("`loop` needs a list, but got {}", kind(&other))),
        }
    }

    fn template_message(&self, step: &Step, error: &TemplateError) -> String {
        format!("{error} (in step `{}` at {})", step.label(), step.span)
    }

    fn report_failure(&self, step: &Step, host: &str, msg: String) {
        let result = ItemResult {
            status: Status::Failed,
            outcome: Outcome::failed(msg),
            item: None,
            loop_vars: Vars::new(),
            label: None,
        };
        self.finish(step, host, &step.label(), &result, false);
    }

    fn finish(&self, step: &Step, host: &str, label: &str, result: &ItemResult, ignored: bool) {
        self.emit_result(step, host, label, result, ignored);
        if result.status == Status::Failed && !ignored {
            self.record_failure(host, step, result.outcome.registered());
        }
        self.count(host, result.status, ignored, result.outcome.changed);
    }

    fn emit_result(&self, step: &Step, host: &str, label: &str, result: &ItemResult, ignored: bool) {
        let outcome = &result.outcome;
        let (msg, data) = if step.no_log {
            (
                Some(CENSORED.to_string()),
                Json::from_iter([("censored".to_string(), Json::from(CENSORED))]),
            )
        } else {
            (outcome.msg.clone(), outcome.registered())
        };
        let show_msg = match result.status {
            Status::Failed | Status::Unreachable => true,
            _ => is_debug(step) || self.options.verbosity > 0,
        };
        let msg = if is_debug(step) && !step.no_log && msg.is_none() {
            outcome
                .data
                .iter()
                .next()
                .map(|(k, v)| format!("{k} = {}", serde_json::to_string_pretty(v).unwrap_or_default()))
        } else {
            msg
        };
        let diff = if step.no_log {
            None
        } else {
            outcome.diff.as_ref().map(DiffEvent::from)
        };
        self.reporter.emit(&Event::HostResult {
            step: label.to_string(),
            host: host.to_string(),
            status: result.status,
            ignored,
            msg: msg.filter(|_| show_msg),
            item: result.item.as_ref().map(|i| {
                if step.no_log {
                    "(censored)".into()
                } else {
                    item_label(result.label.as_ref().unwrap_or(i))
                }
            }),
            result: data,
            diff,
        });
        if let Some((key, record)) = &outcome.audit {
            self.reporter.emit(&Event::Audit {
                host: host.to_string(),
                key: key.clone(),
                record: record.clone(),
            });
        }
    }
}

fn is_debug(step: &Step) -> bool {
    matches!(
        step.action,
        Action::Module {
            kind: ModuleKind::Debug,
            ..
        }
    )
}

fn status_of(outcome: &Outcome) -> Status {
    if outcome.failed {
        Status::Failed
    } else if outcome.skipped {
        Status::Skipped
    } else if outcome.changed {
        Status::Changed
    } else {
        Status::Ok
    }
}

/// A loop's results as one: Ansible's `results` list, changed if any item changed, failed if
/// any failed, skipped if all were.
fn aggregate(results: &[ItemResult]) -> ItemResult {
    let mut outcome = Outcome::ok();
    outcome.changed = results.iter().any(|r| r.outcome.changed);
    outcome.failed = results.iter().any(|r| r.status == Status::Failed);
    outcome.skipped = !results.is_empty() && results.iter().all(|r| r.status == Status::Skipped);
    let list: Vec<Json> = results
        .iter()
        .map(|r| {
            let mut value = r.outcome.registered();
            if let Json::Object(map) = &mut value {
                map.extend(r.loop_vars.clone());
            }
            value
        })
        .collect();
    outcome.data.insert("results".into(), Json::Array(list));
    let status = if results.iter().any(|r| r.status == Status::Unreachable) {
        outcome.msg = results
            .iter()
            .find(|r| r.status == Status::Unreachable)
            .and_then(|r| r.outcome.msg.clone());
        Status::Unreachable
    } else if outcome.failed {
        outcome.msg = Some("one or more items failed".into());
        Status::Failed
    } else {
        status_of(&outcome)
    };
    ItemResult {
        status,
        outcome,
        item: None,
        loop_vars: Vars::new(),
        label: None,
    }
}

/// What a module started in the background (`async` with `poll: 0`) needs, owned.
struct Background {
    kind: ModuleKind,
    args: Json,
    seconds: u64,
    host: String,
    connection: Arc<crate::connection::Connection>,
    diff: bool,
    verbosity: u8,
    templar: Arc<crate::template::Templar>,
    scope: Scope,
    playbook_dir: std::path::PathBuf,
    role_dir: Option<std::path::PathBuf>,
    environment: Vec<(String, String)>,
    privilege: Option<Become>,
    lock_wait: Duration,
}

/// Starts the module as a job of the run and answers at once, as Ansible's `poll: 0` does.
fn start_in_background(job: Background) -> Outcome {
    let jid = crate::modules::async_status::start();
    let id = jid.clone();
    tokio::spawn(async move {
        let quiet = |_: String| {};
        let cx = StepContext {
            host: &job.host,
            connection: &job.connection,
            diff: job.diff,
            verbosity: job.verbosity,
            templar: &job.templar,
            scope: &job.scope,
            playbook_dir: &job.playbook_dir,
            role_dir: job.role_dir.as_deref(),
            progress: &quiet,
            environment: &job.environment,
            privilege: job.privilege.as_ref(),
            lock_wait: job.lock_wait,
            // A job outlives its step's output: it traces nothing and writes no audit record.
            trace: None,
            redact: &Json::clone,
        };
        let limit = Duration::from_secs(job.seconds);
        let outcome = match tokio::time::timeout(limit, job.kind.run(job.args.clone(), &cx, false)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(Failure::Failed(outcome))) => *outcome,
            Ok(Err(Failure::Unreachable(msg))) => Outcome::failed(msg),
            Err(_) => Outcome::failed("Timeout exceeded"),
        };
        crate::modules::async_status::finish(&id, outcome);
    });
    crate::modules::async_status::with_job(Outcome::changed(true), &jid, false)
}

/// The variables of loop item `index`: the item, `ansible_loop_var`, the index variable and
/// `ansible_loop`, as Ansible sets them.
pub(super) fn loop_variables(looped: &Loop, items: &[Json], index: usize) -> Vars {
    let mut vars = Vars::from_iter([
        (looped.var.clone(), items[index].clone()),
        ("ansible_loop_var".into(), Json::from(looped.var.as_str())),
    ]);
    if let Some(name) = &looped.index_var {
        vars.insert(name.clone(), Json::from(index));
        vars.insert("ansible_index_var".into(), Json::from(name.as_str()));
    }
    if looped.extended {
        let length = items.len();
        let mut ansible_loop = serde_json::Map::from_iter([
            ("index".to_string(), Json::from(index + 1)),
            ("index0".into(), Json::from(index)),
            ("first".into(), Json::from(index == 0)),
            ("last".into(), Json::from(index + 1 == length)),
            ("length".into(), Json::from(length)),
            ("revindex".into(), Json::from(length - index)),
            ("revindex0".into(), Json::from(length - index - 1)),
        ]);
        if looped.extended_allitems {
            ansible_loop.insert("allitems".into(), Json::Array(items.to_vec()));
        }
        if let Some(next) = items.get(index + 1) {
            ansible_loop.insert("nextitem".into(), next.clone());
        }
        if index > 0 {
            ansible_loop.insert("previtem".into(), items[index - 1].clone());
        }
        vars.insert("ansible_loop".into(), Json::Object(ansible_loop));
    }
    vars
}

pub(super) fn item_label(item: &Json) -> String {
    match item {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}
