//! The playbook: plays, each with a host pattern, variables and steps. Loading checks everything
//! a run can know in advance, so bad input fails before any host is touched.

pub mod free_form;
mod load;

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::modules::ModuleKind;
use crate::source::Span;
use crate::template::Vars;

#[cfg(test)]
pub(crate) use load::load_text as load_text_for_tests;
pub use load::{load, load_vars_file};

#[derive(Debug)]
pub struct Playbook {
    pub path: PathBuf,
    /// The folder holding the playbook: `files/`, `templates/` and `group_vars/` are found here.
    pub dir: PathBuf,
    pub plays: Vec<Play>,
}

#[derive(Debug)]
pub struct Play {
    pub name: String,
    pub hosts: String,
    pub gather_facts: bool,
    pub vars: Vars,
    pub vars_files: Vec<(String, Span)>,
    pub environment: Option<Json>,
    pub tags: Vec<String>,
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Step {
    pub id: Option<String>,
    pub name: Option<String>,
    /// `None`: the step follows the one before it; `Some`: it waits only for these ids.
    pub needs: Option<Vec<(String, Span)>>,
    pub module: ModuleKind,
    /// The module's arguments, before templating.
    pub args: Vars,
    pub vars: Vars,
    pub when: Vec<Json>,
    pub register: Option<String>,
    pub loop_items: Option<Json>,
    pub loop_var: String,
    pub ignore_errors: Json,
    pub failed_when: Vec<Json>,
    pub changed_when: Vec<Json>,
    pub until: Option<Json>,
    pub retries: Option<Json>,
    pub delay: Option<Json>,
    pub tags: Vec<String>,
    pub no_log: bool,
    pub environment: Option<Json>,
    pub span: Span,
}

impl Step {
    /// The name people see: the step's `name`, else its module and a short form of its arguments.
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let mut label = self.module.name().to_string();
        if self.no_log {
            return label;
        }
        let summary: Vec<String> = self
            .args
            .iter()
            .take(2)
            .map(|(k, v)| format!("{k}={}", crate::yaml::scalar_text(v)))
            .collect();
        if !summary.is_empty() {
            label.push(' ');
            label.push_str(&summary.join(" "));
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
}
