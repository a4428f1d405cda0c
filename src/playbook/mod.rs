//! The playbook: plays, each with a host pattern, variables, roles, handlers and steps. Loading
//! checks everything a run can know in advance, so bad input fails before any host is touched.

pub mod free_form;
mod load;
mod prompt;
mod raw;
mod role;
mod step;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::modules::ModuleKind;
use crate::source::Span;
use crate::template::Vars;

pub use load::load;
pub use prompt::{Prompt, answer as answer_prompts};
pub use step::{Loader, load_steps_file, root_step};

#[derive(Debug)]
pub struct Playbook {
    pub path: PathBuf,
    /// The folder holding the playbook: `files/`, `templates/`, `roles/` and `group_vars/` are
    /// found here.
    pub dir: PathBuf,
    pub plays: Vec<Play>,
}

#[derive(Debug)]
pub struct Play {
    pub name: String,
    pub hosts: String,
    pub gather_facts: bool,
    pub vars: Vars,
    /// Variables asked for when the run starts (`vars_prompt`).
    pub vars_prompt: Vec<Prompt>,
    pub vars_files: Vec<(String, Span)>,
    /// `pre_tasks`, roles, `tasks`, `post_tasks` in Ansible's order, with handler flushes between.
    pub steps: Vec<Step>,
    pub handlers: Vec<Step>,
    /// Host batches: each batch runs the whole play before the next starts.
    pub serial: Vec<Batch>,
    pub any_errors_fatal: bool,
    pub max_fail_percentage: Option<f64>,
    pub force_handlers: bool,
    /// Every host of the play runs on the controller (`connection: local`).
    pub local: bool,
    pub span: Span,
}

/// One `serial` entry: a host count or a percentage of the play's hosts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Batch {
    Count(usize),
    Percent(f64),
}

/// Running as another user (`become`), as written on a play, block or step.
#[derive(Debug, Clone, PartialEq)]
pub struct Privilege {
    /// `become:` (true, false, or a template).
    pub enabled: Json,
    pub user: Option<String>,
    pub method: Option<String>,
}

/// A role a step came from: where its files are, and its variables.
#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub dir: PathBuf,
    pub defaults: Vars,
    pub vars: Vars,
    pub params: Vars,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: Option<String>,
    pub name: Option<String>,
    /// `None`: the step follows the one before it; `Some`: it waits only for these ids.
    pub needs: Option<Vec<(String, Span)>>,
    pub action: Action,
    /// Variables of the step and of the blocks and includes around it, inner ones winning.
    pub vars: Vars,
    /// Conditions of the step and of the blocks and imports around it; all must hold.
    pub when: Vec<Json>,
    pub register: Option<String>,
    pub looped: Option<Loop>,
    pub ignore_errors: Json,
    pub failed_when: Vec<Json>,
    pub changed_when: Vec<Json>,
    pub until: Option<Json>,
    /// `async`: how long the module may run (templates); `poll: 0` starts it in the background.
    pub async_seconds: Option<Json>,
    pub poll: Option<Json>,
    pub retries: Option<Json>,
    pub delay: Option<Json>,
    pub tags: Vec<String>,
    pub no_log: bool,
    /// Environment mappings, outer first; later ones win.
    pub environment: Vec<Json>,
    pub notify: Vec<String>,
    /// Topics a handler also answers to.
    pub listen: Vec<String>,
    pub privilege: Option<Privilege>,
    pub remote_user: Option<String>,
    pub delegate_to: Option<String>,
    pub run_once: bool,
    pub throttle: Option<usize>,
    /// `check_mode` and `diff` as keywords (templates); `None`: as the command line says.
    pub check_mode: Option<Json>,
    pub diff: Option<Json>,
    /// With `delegate_to`, the facts the step sets go to the delegate (a template).
    pub delegate_facts: Option<Json>,
    /// `module_defaults` of the play, blocks and step, outer first: a module's arguments (a
    /// mapping, or a template of one); the last entry for a module is the one it gets.
    pub module_defaults: Vec<(ModuleKind, Json)>,
    pub role: Option<Arc<Role>>,
    /// Parameters of the include or role call the step came through (high precedence).
    pub params: Vars,
    pub span: Span,
}

/// A step's loop: where its items come from, and its `loop_control`.
#[derive(Debug, Clone)]
pub struct Loop {
    /// The items (`loop`, `with_items`, ...), or a lookup's terms, before templating.
    pub source: Json,
    /// The lookup a `with_<lookup>` loop reads its items through; `None`: `source` is the list.
    pub lookup: Option<LoopLookup>,
    pub var: String,
    /// What is printed for each item, a template; the item itself when `None`.
    pub label: Option<Json>,
    pub index_var: Option<String>,
    /// `ansible_loop` for each item (`extended`), with `allitems` unless `extended_allitems` is off.
    pub extended: bool,
    pub extended_allitems: bool,
    /// Seconds to wait between items.
    pub pause: Option<Json>,
}

/// The lookups of `with_together`, `with_nested`, `with_subelements`, `with_sequence` and
/// `with_fileglob`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopLookup {
    Items,
    Together,
    Nested,
    Subelements,
    Sequence,
    Fileglob,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// A module with its arguments, before templating.
    Module { kind: ModuleKind, args: Vars },
    /// Steps that run in order; on failure `rescue`, then `always` in any case.
    Block {
        steps: Vec<Step>,
        rescue: Vec<Step>,
        always: Vec<Step>,
    },
    /// A step file read when the step runs (`include_tasks`); the path may be a template.
    IncludeTasks {
        file: String,
        base: PathBuf,
        context: Box<Step>,
    },
    /// A role read when the step runs (`include_role`).
    IncludeRole {
        name: String,
        tasks_from: Option<String>,
        context: Box<Step>,
    },
    /// `meta: flush_handlers` and friends.
    Meta(Meta),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    FlushHandlers,
    EndPlay,
    EndHost,
    Noop,
}

impl Step {
    /// The name people see: the step's `name`, else its module and a short form of its arguments.
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return match &self.role {
                Some(role) => format!("{} : {name}", role.name),
                None => name.clone(),
            };
        }
        let mut label = match &self.action {
            Action::Module { kind, .. } => kind.name().to_string(),
            Action::Block { .. } => "block".to_string(),
            Action::IncludeTasks { file, .. } => format!("include_tasks {file}"),
            Action::IncludeRole { name, .. } => format!("include_role {name}"),
            Action::Meta(meta) => format!("meta {}", meta.name()),
        };
        if self.no_log {
            return label;
        }
        if let Action::Module { args, .. } = &self.action {
            // Secrets are never part of a label, even when written literally.
            let secret = |k: &str| k.contains("token") || k.contains("password") || k.contains("secret");
            let summary: Vec<String> = args
                .iter()
                .filter(|(k, _)| !secret(k))
                .take(2)
                .map(|(k, v)| format!("{k}={}", crate::yaml::scalar_text(v)))
                .collect();
            if !summary.is_empty() {
                label.push(' ');
                label.push_str(&summary.join(" "));
            }
        }
        if label.len() > 60 {
            let mut end = 57;
            while !label.is_char_boundary(end) {
                end -= 1;
            }
            label.truncate(end);
            label.push_str("...");
        }
        label
    }

    /// How the graph names the step: its id, else its label.
    pub fn key(&self) -> String {
        self.id.clone().unwrap_or_else(|| self.label())
    }

    /// The module's name, or what the step is when it is not a module.
    pub fn kind_name(&self) -> &'static str {
        match &self.action {
            Action::Module { kind, .. } => kind.name(),
            Action::Block { .. } => "block",
            Action::IncludeTasks { .. } => "include_tasks",
            Action::IncludeRole { .. } => "include_role",
            Action::Meta(_) => "meta",
        }
    }
}

impl Meta {
    pub fn name(self) -> &'static str {
        match self {
            Meta::FlushHandlers => "flush_handlers",
            Meta::EndPlay => "end_play",
            Meta::EndHost => "end_host",
            Meta::Noop => "noop",
        }
    }
}

#[cfg(test)]
pub(crate) use load::load_text as load_text_for_tests;
