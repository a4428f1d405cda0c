//! Roles: `roles/NAME/{tasks,handlers,defaults,vars,meta}/main.yml`, found beside the playbook or
//! in `roles_path`, with parameters, `meta` dependencies, and each role once per play.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::raw::{self, RoleMeta, StepKeys, read};
use super::step::{Loader, read_yaml};
use super::{Role, Step};
use crate::error::Error;
use crate::source::Span;
use crate::template::Vars;
use crate::yaml::{Node, NodeValue};

impl Loader<'_> {
    /// The folder of a role: `roles/NAME` beside the playbook, then each `roles_path` entry, then
    /// a folder `NAME` beside the playbook, or the path itself when it is one; then the roles
    /// bgrun ships (`bgrun.blue_green`).
    fn find_role(&self, name: &str, span: &Span) -> Result<PathBuf, Error> {
        let mut candidates = vec![self.playbook_dir.join("roles").join(name)];
        candidates.extend(self.roles_path.iter().map(|p| p.join(name)));
        candidates.push(self.playbook_dir.join(name));
        if let Some(found) = candidates
            .iter()
            .find(|c| c.join("tasks").is_dir() || c.join("meta").is_dir() || c.join("handlers").is_dir())
        {
            return Ok(found.clone());
        }
        if let Some(shipped) = crate::library::role(name) {
            return shipped.map_err(|message| Error::invalid(span.clone(), message));
        }
        let looked: Vec<String> = candidates.iter().map(|c| format!("`{}`", c.display())).collect();
        Err(Error::invalid(
            span.clone(),
            format!("role `{name}` not found; looked in {}", looked.join(", ")),
        )
        .with_help(
            "put the role in a `roles/` folder beside the playbook, or add its folder to `roles_path` in ansible.cfg",
        ))
    }

    /// Reads a role's steps and handlers, its dependencies' first. With `force`, a role already
    /// read in this play is read again (`import_role`).
    pub fn role(
        &self,
        name: &str,
        tasks_from: Option<&str>,
        params: Vars,
        inherit: &Step,
        span: &Span,
        force: bool,
    ) -> Result<Vec<Step>, Error> {
        if !force && self.roles_seen.borrow().iter().any(|(n, p)| n == name && *p == params) {
            return Ok(Vec::new());
        }
        self.roles_seen.borrow_mut().push((name.to_string(), params.clone()));
        let dir = self.find_role(name, span)?;
        let read_vars = |sub: &str| -> Result<Vars, Error> {
            match main_file(&dir.join(sub)) {
                None => Ok(Vars::new()),
                Some(path) => crate::yaml::load_vars_file(&path),
            }
        };
        let role = Arc::new(Role {
            name: name.to_string(),
            dir: dir.clone(),
            defaults: read_vars("defaults")?,
            vars: read_vars("vars")?,
            params,
        });
        let mut steps = Vec::new();
        if let Some(meta) = main_file(&dir.join("meta")) {
            let node = read_yaml(&meta)?;
            let meta: RoleMeta = read(&node, None)?;
            for dep in meta.dependencies.iter().flatten() {
                let (dep_name, dep_params, dep_inherit) = self.role_entry(dep, inherit)?;
                let dep_steps = self.role(&dep_name, None, dep_params, &dep_inherit, &dep.span, false)?;
                steps.extend(dep_steps);
            }
        }
        let mut context = inherit.clone();
        context.role = Some(Arc::clone(&role));
        let tasks_file = match tasks_from {
            Some(file) => Some(with_yaml_extension(&dir.join("tasks").join(file))),
            None => main_file(&dir.join("tasks")),
        };
        if let Some(path) = tasks_file {
            steps.extend(self.steps_file(&path, &context, false)?);
        }
        if let Some(path) = main_file(&dir.join("handlers")) {
            let mut handler_context = context.clone();
            handler_context.when.clear();
            let handlers = self.steps_file(&path, &handler_context, true)?;
            self.handlers.borrow_mut().extend(handlers);
        }
        Ok(steps)
    }

    /// A `roles:` or `dependencies:` entry: `name`, or `{role: name, param: value, when: ...}`.
    pub fn role_entry(&self, node: &Node, inherit: &Step) -> Result<(String, Vars, Step), Error> {
        match &node.value {
            NodeValue::Str(name) => Ok((name.clone(), Vars::new(), inherit.clone())),
            NodeValue::Map(_) => {
                let entry: raw::RoleEntry = read(node, None)?;
                let name = entry.role.or(entry.name).ok_or_else(|| {
                    node.error("the role entry names no role")
                        .with_help("write `- role: NAME`")
                })?;
                // Parameters: the entry's `vars`, then its keys that are not keywords.
                let mut params = entry.vars.unwrap_or_default();
                params.extend(entry.privilege.rest.clone());
                let keys = StepKeys {
                    when: entry.when,
                    tags: entry.tags,
                    environment: entry.environment,
                    ignore_errors: entry.ignore_errors,
                    no_log: entry.no_log,
                    run_once: entry.run_once,
                    delegate_to: entry.delegate_to,
                    privilege: entry.privilege,
                    ..StepKeys::default()
                };
                let mut context = self.inherit_keywords(&keys, &node.span, inherit)?;
                context.params.extend(params.clone());
                Ok((name.0, params, context))
            }
            _ => Err(node.error(format!(
                "a role entry is a name or a mapping, but this is {}",
                node.kind()
            ))),
        }
    }
}

/// `main.yml`, `main.yaml` or `main` in a role's sub-folder.
fn main_file(dir: &Path) -> Option<PathBuf> {
    ["main.yml", "main.yaml", "main"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

fn with_yaml_extension(path: &Path) -> PathBuf {
    if path.extension().is_some() {
        path.to_path_buf()
    } else {
        path.with_extension("yml")
    }
}
