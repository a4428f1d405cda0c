//! Reads steps: modules with their keywords, blocks with `rescue` and `always`, static imports
//! (`import_tasks`, `import_role`, `include`), dynamic includes, and `meta`. Keywords of blocks,
//! imports and roles are handed down to the steps inside them, as Ansible does.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use super::free_form::{self, Word};
use super::raw::{
    self, FileTarget, Looping, MetaStep, ModuleStep, NOT_SUPPORTED, Needs, RoleInclude, RoleTarget, StepKeys,
    TasksInclude, Throttle, read, unsupported,
};
use super::{Action, Loop, LoopLookup, Meta, Privilege, Role, Step};
use crate::error::{Error, suggest};
use crate::modules::ModuleKind;
use crate::modules::introspect::fields;
use crate::source::{SourceFile, Span};
use crate::template::{Vars, is_template};
use crate::yaml::de::{End, REST};
use crate::yaml::{self, Node, NodeValue};

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
        let key = |name: &str| entries.iter().map(|(k, _)| k).find(|k| k.as_str() == Some(name));
        if key("block").is_some() {
            let keys: StepKeys<raw::Block> = read(node, None)?;
            let mut step = self.inherit_keywords(&keys, &node.span, inherit)?;
            let block = &keys.privilege.rest;
            let body = |n: &Option<Node>| match n {
                Some(n) => self.steps(n, base, &step, handler),
                None => Ok(Vec::new()),
            };
            let action = Action::Block {
                steps: body(&block.block)?,
                rescue: body(&block.rescue)?,
                always: body(&block.always)?,
            };
            step.action = action;
            return Ok(step);
        }
        for name in ["rescue", "always"] {
            if let Some(k) = key(name) {
                return Err(Error::invalid(k.span.clone(), format!("`{name}` belongs to a `block`"))
                    .with_help("add `block:` with the steps it guards"));
            }
        }
        if key("import_role").or(key("include_role")).is_some() {
            return self.role_include(node, inherit);
        }
        if key("import_tasks")
            .or(key("include_tasks"))
            .or(key("include"))
            .is_some()
        {
            return self.tasks_include(node, base, inherit);
        }
        if key("meta").is_some() {
            return self.meta(node, inherit);
        }
        if !handler && let Some(k) = key("listen") {
            return Err(Error::invalid(k.span.clone(), "`listen` belongs to handlers")
                .with_help("move the step under the play's `handlers:`"));
        }
        self.module_step(node, inherit)
    }

    fn module_step(&self, node: &Node, inherit: &Step) -> Result<Step, Error> {
        let keys: StepKeys<Looping<ModuleStep>> = read(node, None)?;
        let mut step = self.inherit_keywords(&keys, &node.span, inherit)?;
        let looping = &keys.privilege.rest;
        let own = &looping.rest;
        let leftover = own.module.as_map().unwrap_or_default();
        let mut module: Option<(ModuleKind, &Node, &Node)> = None;
        for (key, value) in leftover {
            let name = key.key_text();
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
                return Err(unsupported(key.span.clone(), &name, "a step"));
            }
            let keywords = [
                fields::<StepKeys<End>>(),
                fields::<raw::Become>(),
                fields::<Looping<End>>(),
                fields::<ModuleStep>(),
            ];
            let candidates = keywords
                .into_iter()
                .flatten()
                .flatten()
                .copied()
                .filter(|k| *k != REST)
                .chain(ModuleKind::names());
            let has_other_module = leftover
                .iter()
                .any(|(k, _)| ModuleKind::lookup(&k.key_text()).is_some());
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
        let local = match (&own.local_action, &module) {
            (Some(action), Some((kind, key, _))) => {
                return Err(action
                    .error(format!(
                        "a step runs one module, but this one has `{}` (line {}) and `local_action`",
                        kind.name(),
                        key.span.line
                    ))
                    .with_help("split it into two steps"));
            }
            (Some(action), None) => Some(local_action(action)?),
            (None, _) => None,
        };
        let (kind, mut args) = match (&local, module) {
            (Some((kind, key, value)), _) => (*kind, module_args(*kind, key, value)?),
            (None, Some((kind, key, value))) => (kind, module_args(kind, key, value)?),
            (None, None) => {
                return Err(node
                    .error("the step has no module")
                    .with_help("add a module, e.g. `command: uptime` or `debug: msg=hello`"));
            }
        };
        if local.is_some() {
            step.delegate_to = Some("localhost".into());
        }
        // Ansible runs `add_host` once, for the first host, whatever the play's hosts.
        if kind == ModuleKind::AddHost {
            step.run_once = true;
        }
        if let Some(extra) = &own.args {
            let Some(pairs) = extra.as_map() else {
                return Err(extra.error(format!("`args` is a mapping, but this is {}", extra.kind())));
            };
            for (key, value) in pairs {
                check_argument(kind, key, &key.key_text())?;
                args.entry(key.key_text()).or_insert_with(|| value.to_json());
            }
        }
        step.looped = loop_of(looping)?;
        step.action = Action::Module { kind, args };
        step.register = own.register.clone().map(|t| t.0);
        step.failed_when = own.failed_when.0.clone();
        step.changed_when = own.changed_when.0.clone();
        step.until = own.until.clone();
        step.async_seconds = own.async_seconds.clone();
        step.poll = own.poll.clone();
        step.retries = own.retries.clone();
        step.delay = own.delay.clone();
        step.notify = own.notify.0.clone();
        step.listen = own.listen.0.clone();
        Ok(step)
    }

    /// The keywords of a step, combined with what the blocks and imports around it hand down.
    pub(super) fn inherit_keywords<K>(&self, keys: &StepKeys<K>, span: &Span, inherit: &Step) -> Result<Step, Error> {
        let mut step = inherit.clone();
        step.id = keys.id.clone().map(|t| t.0);
        step.name = keys.name.clone().map(|t| t.0);
        step.span = span.clone();
        step.needs = keys.needs.as_ref().map(|needs| match &needs.value {
            Needs::One(id) => vec![(id.clone(), needs.span.clone())],
            Needs::Many(ids) => ids.iter().map(|id| (id.value.0.clone(), id.span.clone())).collect(),
        });
        step.vars.extend(keys.vars.clone().unwrap_or_default());
        step.when.extend(keys.when.0.iter().cloned());
        add_tags(&mut step.tags, keys.tags.0.clone());
        if let Some(env) = &keys.environment {
            step.environment.push(env.clone());
        }
        if let Some(value) = &keys.ignore_errors {
            step.ignore_errors = value.clone();
        }
        if let Some(value) = keys.no_log {
            step.no_log = value;
        }
        if let Some(value) = keys.run_once {
            step.run_once = value;
        }
        if let Some(value) = &keys.delegate_to {
            step.delegate_to = Some(value.0.clone());
        }
        if let Some(value) = &keys.remote_user {
            step.remote_user = Some(value.0.clone());
        }
        if let Some(Throttle(n)) = keys.throttle {
            step.throttle = Some(n);
        }
        if let Some(value) = &keys.check_mode {
            step.check_mode = Some(value.clone());
        }
        if let Some(value) = &keys.diff {
            step.diff = Some(value.clone());
        }
        if let Some(value) = &keys.delegate_facts {
            step.delegate_facts = Some(value.clone());
        }
        if let Some(node) = &keys.module_defaults {
            step.module_defaults.extend(module_defaults(node)?);
        }
        if let Some(privilege) = keys.privilege.privilege()? {
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
        step.looped = None;
        step.failed_when = Vec::new();
        step.changed_when = Vec::new();
        step.until = None;
        step.async_seconds = None;
        step.poll = None;
        step.retries = None;
        step.delay = None;
        step.notify = Vec::new();
        step.listen = Vec::new();
        Ok(step)
    }

    fn meta(&self, node: &Node, inherit: &Step) -> Result<Step, Error> {
        let meta: MetaStep = read(node, None)?;
        if let Some(when) = meta.when {
            return Err(unsupported(when.span, "when", "a `meta` step"));
        }
        let keys = StepKeys::<End> {
            id: meta.id,
            name: meta.name,
            needs: meta.needs,
            tags: meta.tags,
            ..StepKeys::default()
        };
        let mut step = self.inherit_keywords(&keys, &node.span, inherit)?;
        let value = &meta.meta;
        let action = match &value.value {
            NodeValue::Str(action) => action,
            NodeValue::Map(_) => {
                return Err(value.error("`meta` takes an action name, e.g. `meta: flush_handlers`"));
            }
            _ => return Err(value.error(format!("`meta` takes a name, but this is {}", value.kind()))),
        };
        step.action = Action::Meta(match action.as_str() {
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

    /// `import_tasks`, `include_tasks` and the old `include`.
    fn tasks_include(&self, node: &Node, base: &Path, inherit: &Step) -> Result<Step, Error> {
        let keys: StepKeys<Looping<TasksInclude>> = read(node, None)?;
        let mut step = self.inherit_keywords(&keys, &node.span, inherit)?;
        let looping = &keys.privilege.rest;
        let own = &looping.rest;
        let (key, value) = only_one(
            node,
            [
                ("import_tasks", &own.import_tasks),
                ("include_tasks", &own.include_tasks),
                ("include", &own.include),
            ],
        )?;
        let target = match &value.value {
            NodeValue::Str(s) => s.clone(),
            NodeValue::Map(_) => {
                read::<FileTarget>(value, Some(&format!("`{key}`")))?
                    .file
                    .ok_or_else(|| value.error("the file to include is missing: give `file:`"))?
                    .0
            }
            _ => return Err(value.error(format!("`{key}` takes a name, but this is {}", value.kind()))),
        };
        // Parameters of an include are the include's `vars` (already in `step.vars`).
        if key != "import_tasks" {
            step.looped = loop_of(looping)?;
            // The include's own `when` and loop decide whether and how often it runs; its steps do not
            // repeat them.
            let mut context = Box::new(without_own(&step));
            context.when.clear();
            context.looped = None;
            step.action = Action::IncludeTasks {
                file: target,
                base: base.to_path_buf(),
                context,
            };
            return Ok(step);
        }
        refuse_loop(looping, key, "include_tasks")?;
        if is_template(&target) {
            return Err(value
                .error("`import_tasks` is read before the run, so its file name cannot be a template")
                .with_help("use `include_tasks` for a file chosen at run time"));
        }
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

    /// `import_role` and `include_role`.
    fn role_include(&self, node: &Node, inherit: &Step) -> Result<Step, Error> {
        let keys: StepKeys<Looping<RoleInclude>> = read(node, None)?;
        let mut step = self.inherit_keywords(&keys, &node.span, inherit)?;
        let looping = &keys.privilege.rest;
        let own = &looping.rest;
        let (key, value) = only_one(
            node,
            [("import_role", &own.import_role), ("include_role", &own.include_role)],
        )?;
        let (name, tasks_from) = match &value.value {
            NodeValue::Str(s) => (s.clone(), None),
            NodeValue::Map(_) => {
                let target: RoleTarget = read(value, Some(&format!("`{key}`")))?;
                let name = target.name.ok_or_else(|| value.error("the role's `name` is missing"))?;
                (name.0, target.tasks_from)
            }
            _ => return Err(value.error(format!("`{key}` takes a name, but this is {}", value.kind()))),
        };
        let tasks_from = own.tasks_from.clone().or(tasks_from).map(|t| t.0);
        if key == "import_role" {
            refuse_loop(looping, key, "include_role")?;
            let steps = self.role(
                &name,
                tasks_from.as_deref(),
                Vars::new(),
                &without_own(&step),
                &value.span,
                true,
            )?;
            step.action = Action::Block {
                steps,
                rescue: Vec::new(),
                always: Vec::new(),
            };
            return Ok(step);
        }
        step.looped = loop_of(looping)?;
        let mut context = Box::new(without_own(&step));
        context.when.clear();
        context.looped = None;
        step.action = Action::IncludeRole {
            name,
            tasks_from,
            context,
        };
        Ok(step)
    }
}

/// The one of `keys` a step has, with its value: a step runs one include.
fn only_one<'a, const N: usize>(
    node: &Node,
    keys: [(&'static str, &'a Option<Node>); N],
) -> Result<(&'static str, &'a Node), Error> {
    let key_of = |name: &str| {
        node.as_map()
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k)
            .find(|k| k.as_str() == Some(name))
    };
    let mut present: Vec<(&'static str, &'a Node, Option<&Node>)> = keys
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| (name, v, key_of(name))))
        .collect();
    present.sort_by_key(|(_, _, key)| key.map(|k| (k.span.line, k.span.col)));
    if let [(first, _, Some(first_key)), (second, _, Some(second_key)), ..] = present.as_slice() {
        return Err(Error::invalid(
            second_key.span.clone(),
            format!(
                "a step runs one include, but this one has `{first}` (line {}) and `{second}`",
                first_key.span.line
            ),
        )
        .with_help("split it into two steps"));
    }
    let (name, value, _) = present.first().expect("the step was read for one of these keys");
    Ok((name, value))
}

/// The context a step hands to the steps inside it: its keywords without its own identity.
/// An import is read before the run, once: it cannot loop, as in Ansible.
fn refuse_loop<K>(looping: &Looping<K>, key: &str, instead: &str) -> Result<(), Error> {
    match looping.sources().next() {
        None => Ok(()),
        Some((name, source)) => Err(Error::invalid(
            source.span.clone(),
            format!("`{key}` is read before the run, once, so it cannot have `{name}`"),
        )
        .with_help(format!("use `{instead}`, which runs once per item"))),
    }
}

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

/// `module_defaults`: a mapping of module names to their default arguments, or a list of such
/// mappings; `group/` names are refused.
pub(super) fn module_defaults(node: &Node) -> Result<Vec<(ModuleKind, Json)>, Error> {
    let maps: Vec<&Node> = match &node.value {
        NodeValue::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::new();
    for map in maps {
        let Some(entries) = map.as_map() else {
            return Err(map
                .error(format!(
                    "`module_defaults` maps module names to their arguments, but this is {}",
                    map.kind()
                ))
                .with_help("write `module_defaults: {copy: {mode: \"0644\"}}`"));
        };
        for (key, value) in entries {
            let name = key.key_text();
            if name.starts_with("group/") {
                return Err(key
                    .error(format!(
                        "`{name}`: bgrun does not support module groups in `module_defaults`"
                    ))
                    .with_help("name each module instead"));
            }
            let Some(kind) = ModuleKind::lookup(&name) else {
                return Err(Error::UnknownModule {
                    span: key.span.clone(),
                    name: name.clone(),
                    suggestion: suggest(&name, ModuleKind::names()),
                });
            };
            if !matches!(value.value, NodeValue::Map(_) | NodeValue::Str(_) | NodeValue::Null) {
                return Err(value.error(format!(
                    "the defaults of `{name}` are a mapping of its arguments, but this is {}",
                    value.kind()
                )));
            }
            if let Some(args) = value.as_map() {
                for (arg, _) in args {
                    check_argument(kind, arg, &arg.key_text())?;
                }
            }
            out.push((kind, value.to_json()));
        }
    }
    Ok(out)
}

/// `local_action: copy src=a dest=b` or `local_action: {module: copy, src: a, dest: b}`: the
/// module, a node for its name and one for its arguments.
fn local_action(action: &Node) -> Result<(ModuleKind, Node, Node), Error> {
    let unknown = |name: &str, span: &Span| Error::UnknownModule {
        span: span.clone(),
        name: name.to_string(),
        suggestion: suggest(name, ModuleKind::names()),
    };
    match &action.value {
        NodeValue::Str(text) => {
            let text = text.trim_start();
            let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
            let kind = ModuleKind::lookup(name).ok_or_else(|| unknown(name, &action.span))?;
            let key = Node {
                value: NodeValue::Str(name.to_string()),
                span: action.span.clone(),
            };
            let value = Node {
                value: if rest.trim().is_empty() {
                    NodeValue::Null
                } else {
                    NodeValue::Str(rest.trim().to_string())
                },
                span: action.span.clone(),
            };
            Ok((kind, key, value))
        }
        NodeValue::Map(entries) => {
            let Some((module_key, module_name)) = entries.iter().find(|(k, _)| k.as_str() == Some("module")) else {
                return Err(action
                    .error("`local_action` names its module with `module:`")
                    .with_help("write `local_action: {module: copy, src: a, dest: b}`"));
            };
            let name = module_name
                .as_str()
                .ok_or_else(|| module_name.error("`module` is a module's name"))?;
            let kind = ModuleKind::lookup(name).ok_or_else(|| unknown(name, &module_name.span))?;
            let rest: Vec<(Node, Node)> = entries
                .iter()
                .filter(|(k, _)| k.as_str() != Some("module"))
                .cloned()
                .collect();
            let value = Node {
                value: NodeValue::Map(rest),
                span: action.span.clone(),
            };
            Ok((kind, module_key.clone(), value))
        }
        _ => Err(action.error(format!(
            "`local_action` takes a module and its arguments, but this is {}",
            action.kind()
        ))),
    }
}

/// A step's loop: its one source of items and its `loop_control`.
fn loop_of<K>(looping: &Looping<K>) -> Result<Option<Loop>, Error> {
    let mut found: Option<(Json, Option<LoopLookup>)> = None;
    for (key, source) in looping.sources() {
        if found.is_some() {
            return Err(Error::invalid(
                source.span.clone(),
                "a step has one loop; use `loop` alone",
            ));
        }
        let json = &source.value;
        found = Some(match key {
            "with_items" => (json.clone(), Some(LoopLookup::Items)),
            "with_dict" => (Json::String(format!("{{{{ {} | dict2items }}}}", inline(json))), None),
            "with_together" => (json.clone(), Some(LoopLookup::Together)),
            "with_nested" => (json.clone(), Some(LoopLookup::Nested)),
            "with_subelements" => (json.clone(), Some(LoopLookup::Subelements)),
            "with_sequence" => (json.clone(), Some(LoopLookup::Sequence)),
            "with_fileglob" => (json.clone(), Some(LoopLookup::Fileglob)),
            _ => (json.clone(), None),
        });
    }
    let Some((source, lookup)) = found else {
        return Ok(None);
    };
    let control = looping.loop_control.as_ref();
    Ok(Some(Loop {
        source,
        lookup,
        var: control
            .and_then(|c| c.loop_var.clone())
            .map_or_else(|| "item".into(), |t| t.0),
        label: control.and_then(|c| c.label.clone()),
        index_var: control.and_then(|c| c.index_var.clone()).map(|t| t.0),
        extended: control.and_then(|c| c.extended).unwrap_or(false),
        extended_allitems: control.and_then(|c| c.extended_allitems).unwrap_or(true),
        pause: control.and_then(|c| c.pause.clone()),
    }))
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
        looped: None,
        ignore_errors: Json::Bool(false),
        failed_when: Vec::new(),
        changed_when: Vec::new(),
        until: None,
        async_seconds: None,
        poll: None,
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
        check_mode: None,
        diff: None,
        delegate_facts: None,
        module_defaults: Vec::new(),
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
                    // `set_fact: "{{ name }}=value"`: a module that takes any argument takes a
                    // key that is a template, which it renders when it runs.
                    Word::Raw(w) if kind.arguments().is_none() && kind.free_form().is_none() => {
                        match free_form::templated_pair(&w) {
                            Some((k, v)) => {
                                args.insert(k, Json::String(v));
                            }
                            None => raw.push(w),
                        }
                    }
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

/// Adds `more` to `tags`, each tag once.
pub(super) fn add_tags(tags: &mut Vec<String>, more: Vec<String>) {
    for tag in more {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
}
