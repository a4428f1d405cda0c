//! Reads steps: modules with their keywords, blocks with `rescue` and `always`, static imports
//! (`import_tasks`, `import_role`, `include`), dynamic includes, and `meta`. Keywords of blocks,
//! imports and roles are handed down to the steps inside them, as Ansible does.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use super::free_form::{self, Word};
use super::{Action, Meta, Privilege, Role, Step};
use crate::error::{Error, suggest};
use crate::modules::ModuleKind;
use crate::source::{SourceFile, Span};
use crate::template::{Vars, is_template};
use crate::yaml::{self, Node, NodeValue};

/// Keywords every kind of step takes.
const COMMON_KEYS: &[&str] = &[
    "become",
    "become_method",
    "become_user",
    "delegate_to",
    "environment",
    "id",
    "ignore_errors",
    "name",
    "needs",
    "no_log",
    "remote_user",
    "run_once",
    "sudo",
    "sudo_user",
    "tags",
    "throttle",
    "vars",
    "when",
];

/// Keywords of a step that runs a module.
const MODULE_KEYS: &[&str] = &[
    "args",
    "changed_when",
    "delay",
    "failed_when",
    "listen",
    "loop",
    "loop_control",
    "notify",
    "register",
    "retries",
    "until",
    "with_dict",
    "with_items",
    "with_list",
];

const BLOCK_KEYS: &[&str] = &["always", "block", "rescue"];

const INCLUDE_KEYS: &[&str] = &[
    "import_role",
    "import_tasks",
    "include",
    "include_role",
    "include_tasks",
    "meta",
];

/// Ansible keywords bgrun knows of but does not have; naming them beats calling them typos.
pub const NOT_SUPPORTED: &[&str] = &[
    "any_errors_fatal",
    "apply",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "defaults_from",
    "delegate_facts",
    "diff",
    "include_vars",
    "local_action",
    "module_defaults",
    "order",
    "port",
    "strategy",
    "vars_from",
    "vars_prompt",
    "with_fileglob",
    "with_nested",
    "with_sequence",
    "with_subelements",
    "with_together",
];

/// Reads steps from YAML, with where roles and files are found.
pub struct Loader<'a> {
    pub playbook_dir: &'a Path,
    pub roles_path: &'a [PathBuf],
    /// Handlers of the roles read so far, for the play.
    pub handlers: RefCell<Vec<Step>>,
    /// Roles read so far (name and parameters), so each runs once per play.
    pub(super) roles_seen: RefCell<Vec<(String, Vars)>>,
}

impl<'a> Loader<'a> {
    pub fn new(playbook_dir: &'a Path, roles_path: &'a [PathBuf]) -> Self {
        Loader {
            playbook_dir,
            roles_path,
            handlers: RefCell::new(Vec::new()),
            roles_seen: RefCell::new(Vec::new()),
        }
    }

    /// Reads a list of steps written in `base` (the folder includes are relative to).
    pub fn steps(&self, node: &Node, base: &Path, inherit: &Step, handlers: bool) -> Result<Vec<Step>, Error> {
        match &node.value {
            NodeValue::Null => Ok(Vec::new()),
            NodeValue::Seq(items) => items
                .iter()
                .map(|item| self.step(item, base, inherit, handlers))
                .collect(),
            _ => Err(node.error(format!(
                "a list of steps was expected here, but this is {}",
                node.kind()
            ))),
        }
    }

    /// Reads a step file (`tasks/main.yml`, an included file).
    pub fn steps_file(&self, path: &Path, inherit: &Step, handlers: bool) -> Result<Vec<Step>, Error> {
        let node = read_yaml(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        self.steps(&node, base, inherit, handlers)
    }

    fn step(&self, node: &Node, base: &Path, inherit: &Step, handler: bool) -> Result<Step, Error> {
        let Some(entries) = node.as_map() else {
            return Err(node
                .error(format!(
                    "a step is a mapping of a module and its keywords, but this is {}",
                    node.kind()
                ))
                .with_help("write a step as `- name: ...` followed by a module, e.g. `command: uptime`"));
        };
        let mut step = self.inherit_keywords(node, inherit)?;
        if node.get("block").is_some() {
            check_keys(node, &[COMMON_KEYS, BLOCK_KEYS].concat(), "a block")?;
            let body = |key: &str| match node.get(key) {
                Some(n) => self.steps(n, base, &step, handler),
                None => Ok(Vec::new()),
            };
            let action = Action::Block {
                steps: body("block")?,
                rescue: body("rescue")?,
                always: body("always")?,
            };
            step.action = action;
            return Ok(step);
        }
        for key in ["rescue", "always"] {
            if let Some((k, _)) = entries.iter().find(|(k, _)| k.as_str() == Some(key)) {
                return Err(Error::invalid(k.span.clone(), format!("`{key}` belongs to a `block`"))
                    .with_help("add `block:` with the steps it guards"));
            }
        }
        for key in INCLUDE_KEYS {
            if let Some(value) = node.get(key) {
                let own: &[&str] = if is_role_include(key) { &["tasks_from"] } else { &[] };
                check_keys(node, &[COMMON_KEYS, INCLUDE_KEYS, own].concat(), "an include")?;
                return self.include(node, key, value, base, step);
            }
        }
        let mut module: Option<(ModuleKind, &Node, &Node)> = None;
        let known: Vec<&str> = [COMMON_KEYS, MODULE_KEYS].concat();
        for (key, value) in entries {
            let name = key.key_text();
            if known.contains(&name.as_str()) {
                continue;
            }
            if let Some(kind) = ModuleKind::lookup(&name) {
                if let Some((first, first_key, _)) = &module {
                    return Err(Error::invalid(
                        key.span.clone(),
                        format!(
                            "a step runs one module, but this one has `{}` (line {}) and `{name}`",
                            first.name(),
                            first_key.span.line
                        ),
                    )
                    .with_help("split it into two steps"));
                }
                module = Some((kind, key, value));
                continue;
            }
            if NOT_SUPPORTED.contains(&name.as_str()) {
                return Err(unsupported(key, &name, "a step"));
            }
            let candidates = known.iter().copied().chain(ModuleKind::names());
            let has_other_module = entries.iter().any(|(k, _)| ModuleKind::lookup(&k.key_text()).is_some());
            return Err(if has_other_module {
                Error::UnknownKey {
                    span: key.span.clone(),
                    key: name.clone(),
                    context: "a step".into(),
                    suggestion: suggest(&name, candidates),
                }
            } else {
                Error::UnknownModule {
                    span: key.span.clone(),
                    name: name.clone(),
                    suggestion: suggest(&name, candidates),
                }
            });
        }
        let Some((kind, module_key, module_value)) = module else {
            return Err(node
                .error("the step has no module")
                .with_help("add a module, e.g. `command: uptime` or `debug: msg=hello`"));
        };
        let mut args = module_args(kind, module_key, module_value)?;
        if let Some(extra) = node.get("args") {
            let Some(pairs) = extra.as_map() else {
                return Err(extra.error(format!("`args` is a mapping, but this is {}", extra.kind())));
            };
            for (key, value) in pairs {
                check_argument(kind, key, &key.key_text())?;
                args.entry(key.key_text()).or_insert_with(|| value.to_json());
            }
        }
        let (loop_items, loop_var) = load_loop(node)?;
        step.action = Action::Module { kind, args };
        step.register = optional_string(node, "register")?;
        step.loop_items = loop_items;
        step.loop_var = loop_var;
        step.failed_when = conditions(node, "failed_when");
        step.changed_when = conditions(node, "changed_when");
        step.until = node.get("until").map(Node::to_json);
        step.retries = node.get("retries").map(Node::to_json);
        step.delay = node.get("delay").map(Node::to_json);
        step.notify = node
            .get("notify")
            .map(|n| strings(n, "notify"))
            .transpose()?
            .unwrap_or_default();
        step.listen = node
            .get("listen")
            .map(|n| strings(n, "listen"))
            .transpose()?
            .unwrap_or_default();
        if !handler && let Some((key, _)) = entries.iter().find(|(k, _)| k.as_str() == Some("listen")) {
            return Err(Error::invalid(key.span.clone(), "`listen` belongs to handlers")
                .with_help("move the step under the play's `handlers:`"));
        }
        Ok(step)
    }

    /// The keywords of a step, combined with what the blocks and imports around it hand down.
    pub(super) fn inherit_keywords(&self, node: &Node, inherit: &Step) -> Result<Step, Error> {
        let mut step = inherit.clone();
        step.id = optional_string(node, "id")?;
        step.name = optional_string(node, "name")?;
        step.span = node.span.clone();
        step.needs = match node.get("needs") {
            None => None,
            Some(n) => Some(match &n.value {
                NodeValue::Str(s) => vec![(s.clone(), n.span.clone())],
                NodeValue::Seq(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(|s| (s.to_string(), i.span.clone()))
                            .ok_or_else(|| i.error("a step id is a string"))
                    })
                    .collect::<Result<_, _>>()?,
                NodeValue::Null => Vec::new(),
                _ => {
                    return Err(n.error(format!("`needs` is a list of step ids, but this is {}", n.kind())));
                }
            }),
        };
        step.vars.extend(mapping(node, "vars")?);
        step.when.extend(conditions(node, "when"));
        add_tags(&mut step.tags, tags(node)?);
        if let Some(env) = node.get("environment") {
            step.environment.push(env.to_json());
        }
        if let Some(value) = node.get("ignore_errors") {
            step.ignore_errors = value.to_json();
        }
        if let Some(value) = optional_bool(node, "no_log")? {
            step.no_log = value;
        }
        if let Some(value) = optional_bool(node, "run_once")? {
            step.run_once = value;
        }
        if let Some(value) = optional_string(node, "delegate_to")? {
            step.delegate_to = Some(value);
        }
        if let Some(value) = optional_string(node, "remote_user")? {
            step.remote_user = Some(value);
        }
        if let Some(n) = node.get("throttle") {
            step.throttle = Some(match &n.value {
                NodeValue::Int(i) if *i > 0 => *i as usize,
                _ => return Err(n.error("`throttle` is a whole number above 0")),
            });
        }
        if let Some(privilege) = privilege(node)? {
            step.privilege = Some(match step.privilege.take() {
                Some(outer) => Privilege {
                    enabled: privilege.enabled,
                    user: privilege.user.or(outer.user),
                    method: privilege.method.or(outer.method),
                },
                None => privilege,
            });
        }
        // What only the step itself has starts empty again.
        step.register = None;
        step.loop_items = None;
        step.loop_var = "item".into();
        step.failed_when = Vec::new();
        step.changed_when = Vec::new();
        step.until = None;
        step.retries = None;
        step.delay = None;
        step.notify = Vec::new();
        step.listen = Vec::new();
        Ok(step)
    }

    fn include(&self, node: &Node, key: &str, value: &Node, base: &Path, mut step: Step) -> Result<Step, Error> {
        let target = match &value.value {
            NodeValue::Str(s) => s.clone(),
            NodeValue::Map(_) => match key {
                "meta" => {
                    return Err(value.error("`meta` takes an action name, e.g. `meta: flush_handlers`"));
                }
                _ if is_role_include(key) => {
                    check_keys(value, &["name", "tasks_from"], &format!("`{key}`"))?;
                    optional_string(value, "name")?.ok_or_else(|| value.error("the role's `name` is missing"))?
                }
                _ => {
                    check_keys(value, &["file"], &format!("`{key}`"))?;
                    optional_string(value, "file")?
                        .ok_or_else(|| value.error("the file to include is missing: give `file:`"))?
                }
            },
            _ => {
                return Err(value.error(format!("`{key}` takes a name, but this is {}", value.kind())));
            }
        };
        let tasks_from = node
            .get("tasks_from")
            .or_else(|| value.get("tasks_from"))
            .map(|n| yaml::scalar_text(&n.to_json()));
        // Parameters of an include are the include's `vars` (already in `step.vars`).
        match key {
            "meta" => {
                step.action = Action::Meta(match target.as_str() {
                    "flush_handlers" => Meta::FlushHandlers,
                    "end_play" => Meta::EndPlay,
                    "end_host" => Meta::EndHost,
                    "noop" | "refresh_inventory" | "clear_host_errors" => Meta::Noop,
                    other => {
                        let known = [
                            "flush_handlers",
                            "end_play",
                            "end_host",
                            "noop",
                            "refresh_inventory",
                            "clear_host_errors",
                        ];
                        return Err(
                            Error::invalid(value.span.clone(), format!("`meta: {other}` is not supported")).with_help(
                                suggest(other, known).map_or_else(
                                    || format!("bgrun has {}", known.join(", ")),
                                    |s| format!("did you mean `{s}`?"),
                                ),
                            ),
                        );
                    }
                });
                Ok(step)
            }
            "import_tasks" if !is_template(&target) => {
                let path = base.join(&target);
                let steps = self
                    .steps_file(&path, &without_own(&step), false)
                    .map_err(|e| with_context(e, node, &target))?;
                step.action = Action::Block {
                    steps,
                    rescue: Vec::new(),
                    always: Vec::new(),
                };
                Ok(step)
            }
            "import_tasks" => Err(value
                .error("`import_tasks` is read before the run, so its file name cannot be a template")
                .with_help("use `include_tasks` for a file chosen at run time")),
            "include" | "include_tasks" => {
                // The include's own `when` decides whether it runs at all; its steps do not repeat it.
                let mut context = Box::new(without_own(&step));
                context.when.clear();
                step.action = Action::IncludeTasks {
                    file: target,
                    base: base.to_path_buf(),
                    context,
                };
                Ok(step)
            }
            "import_role" => {
                let params = Vars::new();
                let steps = self.role(
                    &target,
                    tasks_from.as_deref(),
                    params,
                    &without_own(&step),
                    &value.span,
                    true,
                )?;
                step.action = Action::Block {
                    steps,
                    rescue: Vec::new(),
                    always: Vec::new(),
                };
                Ok(step)
            }
            _ => {
                let mut context = Box::new(without_own(&step));
                context.when.clear();
                step.action = Action::IncludeRole {
                    name: target,
                    tasks_from,
                    context,
                };
                Ok(step)
            }
        }
    }
}

fn is_role_include(key: &str) -> bool {
    matches!(key, "include_role" | "import_role")
}

/// The context a step hands to the steps inside it: its keywords without its own identity.
fn without_own(step: &Step) -> Step {
    let mut inner = step.clone();
    inner.id = None;
    inner.name = None;
    inner.needs = None;
    inner
}

fn with_context(error: Error, node: &Node, target: &str) -> Error {
    match error {
        Error::Read { path, source } => Error::invalid(
            node.span.clone(),
            format!("cannot read `{}` (included as `{target}`): {source}", path.display()),
        ),
        other => other,
    }
}

/// An empty step to start inheritance from.
pub fn root_step(span: &Span) -> Step {
    Step {
        id: None,
        name: None,
        needs: None,
        action: Action::Meta(Meta::Noop),
        vars: Vars::new(),
        when: Vec::new(),
        register: None,
        loop_items: None,
        loop_var: "item".into(),
        ignore_errors: Json::Bool(false),
        failed_when: Vec::new(),
        changed_when: Vec::new(),
        until: None,
        retries: None,
        delay: None,
        tags: Vec::new(),
        no_log: false,
        environment: Vec::new(),
        notify: Vec::new(),
        listen: Vec::new(),
        privilege: None,
        remote_user: None,
        delegate_to: None,
        run_once: false,
        throttle: None,
        role: None::<Arc<Role>>,
        params: Vars::new(),
        span: span.clone(),
    }
}

/// Reads the step file of a dynamic include when it runs.
pub fn load_steps_file(
    playbook_dir: &Path,
    roles_path: &[PathBuf],
    path: &Path,
    context: &Step,
) -> Result<Vec<Step>, Error> {
    Loader::new(playbook_dir, roles_path).steps_file(path, context, false)
}

pub(super) fn read_yaml(path: &Path) -> Result<Node, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    yaml::parse(&SourceFile::new(path, text))
}

/// `become`, `become_user`, `become_method`, and the older `sudo` / `sudo_user`.
pub(super) fn privilege(node: &Node) -> Result<Option<Privilege>, Error> {
    let enabled = node.get("become").or_else(|| node.get("sudo")).map(Node::to_json);
    let user = optional_string(node, "become_user")?.or(optional_string(node, "sudo_user")?);
    let method = optional_string(node, "become_method")?;
    if let Some(m) = node.get("become_method")
        && !matches!(method.as_deref(), Some("sudo" | "su"))
    {
        return Err(m.error(format!(
            "`become_method: {}` is not supported; bgrun has `sudo` and `su`",
            yaml::scalar_text(&m.to_json())
        )));
    }
    Ok(match (enabled, user, method) {
        (None, None, None) => None,
        (enabled, user, method) => Some(Privilege {
            enabled: enabled.unwrap_or(Json::Null),
            user,
            method,
        }),
    })
}

pub(super) fn check_keys(node: &Node, known: &[&str], context: &str) -> Result<(), Error> {
    for (key, _) in node.as_map().unwrap_or_default() {
        let name = key.key_text();
        if known.contains(&name.as_str()) {
            continue;
        }
        if NOT_SUPPORTED.contains(&name.as_str()) {
            return Err(unsupported(key, &name, context));
        }
        return Err(Error::UnknownKey {
            span: key.span.clone(),
            key: name.to_string(),
            context: context.to_string(),
            suggestion: suggest(&name, known.iter().copied()),
        });
    }
    Ok(())
}

pub(super) fn unsupported(key: &Node, name: &str, context: &str) -> Error {
    let help = match name {
        "any_errors_fatal" => "bgrun has `any_errors_fatal` on plays: set it on the play",
        _ => "see the compatibility table in bgrun's README",
    };
    Error::invalid(
        key.span.clone(),
        format!("`{name}` is an Ansible keyword that bgrun does not support in {context}"),
    )
    .with_help(help)
}

fn load_loop(node: &Node) -> Result<(Option<Json>, String), Error> {
    let mut items = None;
    for key in ["loop", "with_items", "with_list", "with_dict"] {
        if let Some(value) = node.get(key) {
            if items.is_some() {
                return Err(value.error("a step has one loop; use `loop` alone"));
            }
            let json = value.to_json();
            items = Some(match key {
                // with_items flattens one level, as Ansible's does.
                "with_items" => Json::String(format!("{{{{ {} | flatten(levels=1) }}}}", inline(&json))),
                "with_dict" => Json::String(format!("{{{{ {} | dict2items }}}}", inline(&json))),
                _ => json,
            });
        }
    }
    let mut loop_var = "item".to_string();
    if let Some(control) = node.get("loop_control") {
        check_keys(
            control,
            &["label", "loop_var", "index_var", "pause", "extended"],
            "loop_control",
        )?;
        if let Some(var) = optional_string(control, "loop_var")? {
            loop_var = var;
        }
    }
    Ok((items, loop_var))
}

/// A loop source as an expression: a template's inside, a bare variable name, or a literal.
fn inline(value: &Json) -> String {
    match value {
        Json::String(s) if is_template(s) => {
            let t = s.trim();
            t.strip_prefix("{{")
                .and_then(|t| t.strip_suffix("}}"))
                .map(|t| format!("({})", t.trim()))
                .unwrap_or_else(|| value.to_string())
        }
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn module_args(kind: ModuleKind, key: &Node, value: &Node) -> Result<Vars, Error> {
    let mut args = Vars::new();
    let scalar = match &value.value {
        NodeValue::Bool(_) | NodeValue::Int(_) | NodeValue::Float(_) => Some(yaml::scalar_text(&value.to_json())),
        NodeValue::Str(text) => Some(text.clone()),
        _ => None,
    };
    match (&value.value, scalar) {
        (NodeValue::Null, _) => {}
        (NodeValue::Map(entries), _) => {
            for (k, v) in entries {
                let name = k.key_text();
                check_argument(kind, k, &name)?;
                args.insert(name, v.to_json());
            }
        }
        (_, Some(text)) => {
            let words = free_form::split(&text).map_err(|e| value.error(e))?;
            let accepts = |name: &str| kind.arguments().is_none_or(|a| a.contains(&name));
            let mut raw = Vec::new();
            for word in words {
                match word {
                    Word::Pair(k, v) if kind.free_form().is_none() || accepts(&k) => {
                        check_argument(kind, value, &k)?;
                        args.insert(k, Json::String(v));
                    }
                    Word::Pair(k, v) => raw.push(format!("{k}={v}")),
                    Word::Raw(w) => raw.push(w),
                }
            }
            if !raw.is_empty() {
                let Some(field) = kind.free_form() else {
                    return Err(value
                        .error(format!(
                            "module `{}` takes `key=value` arguments, but `{}` is not one",
                            kind.name(),
                            raw[0]
                        ))
                        .with_help(format!("write the arguments as a mapping under `{}:`", key.key_text())));
                };
                args.insert(field.to_string(), Json::String(raw.join(" ")));
            }
        }
        _ => {
            return Err(value.error(format!(
                "the arguments of `{}` are a mapping or a `key=value` string, but this is {}",
                kind.name(),
                value.kind()
            )));
        }
    }
    Ok(args)
}

fn check_argument(kind: ModuleKind, at: &Node, name: &str) -> Result<(), Error> {
    match kind.arguments() {
        Some(known) if !known.contains(&name) => Err(Error::UnknownArgument {
            span: at.span.clone(),
            module: kind.name().to_string(),
            argument: name.to_string(),
            suggestion: suggest(name, known.iter().copied()),
        }),
        _ => Ok(()),
    }
}

pub(super) fn optional_string(node: &Node, key: &str) -> Result<Option<String>, Error> {
    match node.get(key) {
        None => Ok(None),
        Some(v) => match &v.value {
            NodeValue::Str(s) => Ok(Some(s.clone())),
            NodeValue::Int(_) | NodeValue::Float(_) | NodeValue::Bool(_) => Ok(Some(yaml::scalar_text(&v.to_json()))),
            _ => Err(v.error(format!("`{key}` is a string, but this is {}", v.kind()))),
        },
    }
}

pub(super) fn optional_bool(node: &Node, key: &str) -> Result<Option<bool>, Error> {
    match node.get(key) {
        None => Ok(None),
        Some(v) => match &v.value {
            NodeValue::Bool(b) => Ok(Some(*b)),
            _ => Err(v.error(format!("`{key}` is true or false, but this is {}", v.kind()))),
        },
    }
}

pub(super) fn mapping(node: &Node, key: &str) -> Result<Vars, Error> {
    match node.get(key) {
        None => Ok(Vars::new()),
        Some(v) => match v.to_json() {
            Json::Object(map) => Ok(map),
            Json::Null => Ok(Vars::new()),
            _ => Err(v.error(format!("`{key}` is a mapping, but this is {}", v.kind()))),
        },
    }
}

pub(super) fn strings(node: &Node, key: &str) -> Result<Vec<String>, Error> {
    match &node.value {
        NodeValue::Seq(items) => Ok(items.iter().map(|i| yaml::scalar_text(&i.to_json())).collect()),
        NodeValue::Str(s) => Ok(s
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()),
        _ => Err(node.error(format!("`{key}` is a list, but this is {}", node.kind()))),
    }
}

/// The `tags` of a play, a step or an import.
pub(super) fn tags(node: &Node) -> Result<Vec<String>, Error> {
    Ok(node
        .get("tags")
        .map(|n| strings(n, "tags"))
        .transpose()?
        .unwrap_or_default())
}

/// Adds `more` to `tags`, each tag once.
pub(super) fn add_tags(tags: &mut Vec<String>, more: Vec<String>) {
    for tag in more {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
}

pub(super) fn conditions(node: &Node, key: &str) -> Vec<Json> {
    match node.get(key).map(Node::to_json) {
        None => Vec::new(),
        Some(Json::Array(items)) => items,
        Some(single) => vec![single],
    }
}
