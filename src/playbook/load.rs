//! Reads playbook files into [`Playbook`]s, with an error at `file:line:col` for every key,
//! module or argument bgrun does not know.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::free_form::{self, Word};
use super::{Play, Playbook, Step};
use crate::error::{Error, suggest};
use crate::modules::ModuleKind;
use crate::source::SourceFile;
use crate::template::Vars;
use crate::yaml::{self, Node, NodeValue};

const PLAY_KEYS: &[&str] = &[
    "environment",
    "gather_facts",
    "hosts",
    "name",
    "steps",
    "tags",
    "tasks",
    "vars",
    "vars_files",
];

const STEP_KEYS: &[&str] = &[
    "args",
    "changed_when",
    "delay",
    "environment",
    "failed_when",
    "id",
    "ignore_errors",
    "loop",
    "loop_control",
    "name",
    "needs",
    "no_log",
    "register",
    "retries",
    "tags",
    "until",
    "vars",
    "when",
    "with_dict",
    "with_items",
    "with_list",
];

/// Ansible keywords bgrun knows of but does not have; naming them beats calling them typos.
const NOT_SUPPORTED: &[&str] = &[
    "always",
    "any_errors_fatal",
    "become",
    "become_method",
    "become_user",
    "block",
    "check_mode",
    "collections",
    "connection",
    "delegate_facts",
    "delegate_to",
    "diff",
    "force_handlers",
    "handlers",
    "import_playbook",
    "import_role",
    "import_tasks",
    "include",
    "include_role",
    "include_tasks",
    "include_vars",
    "listen",
    "local_action",
    "max_fail_percentage",
    "meta",
    "module_defaults",
    "notify",
    "order",
    "port",
    "post_tasks",
    "pre_tasks",
    "remote_user",
    "rescue",
    "roles",
    "run_once",
    "serial",
    "strategy",
    "sudo",
    "throttle",
    "vars_prompt",
    "with_fileglob",
    "with_nested",
    "with_sequence",
    "with_subelements",
    "with_together",
];

/// Loads a playbook file.
pub fn load(path: &Path) -> Result<Playbook, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file = SourceFile::new(path, text);
    let root = yaml::parse(&file)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let plays = match &root.value {
        NodeValue::Seq(items) => items.iter().map(load_play).collect::<Result<Vec<_>, _>>()?,
        NodeValue::Null => Vec::new(),
        _ => {
            return Err(root
                .error(format!(
                    "a playbook is a list of plays, but this is {}",
                    root.kind()
                ))
                .with_help("start each play with `- hosts: ...`"));
        }
    };
    Ok(Playbook {
        path: path.to_path_buf(),
        dir,
        plays,
    })
}

/// Loads a `vars_files` entry: a YAML mapping of variables.
pub fn load_vars_file(path: &Path) -> Result<Vars, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let node = yaml::parse(&SourceFile::new(path, text))?;
    match node.to_json() {
        Json::Object(map) => Ok(map),
        Json::Null => Ok(Vars::new()),
        _ => Err(node.error(format!(
            "a variables file holds a mapping, but this is {}",
            node.kind()
        ))),
    }
}

fn check_keys(node: &Node, known: &[&str], context: &str) -> Result<(), Error> {
    for (key, _) in node.as_map().unwrap_or_default() {
        let name = key.key_text();
        if known.contains(&name.as_str()) {
            continue;
        }
        return Err(unknown_key(key, &name, known, context));
    }
    Ok(())
}

fn unknown_key(key: &Node, name: &str, known: &[&str], context: &str) -> Error {
    if NOT_SUPPORTED.contains(&name) {
        return Error::invalid(
            key.span.clone(),
            format!("`{name}` is an Ansible keyword that bgrun does not support in {context}"),
        )
        .with_help("see the compatibility table in bgrun's README");
    }
    Error::UnknownKey {
        span: key.span.clone(),
        key: name.to_string(),
        context: context.to_string(),
        suggestion: suggest(name, known.iter().copied()),
    }
}

fn load_play(node: &Node) -> Result<Play, Error> {
    let Some(_) = node.as_map() else {
        return Err(node
            .error(format!("a play is a mapping, but this is {}", node.kind()))
            .with_help("start the play with `- hosts: ...`"));
    };
    check_keys(node, PLAY_KEYS, "a play")?;
    let hosts = match node.get("hosts") {
        Some(h) => match &h.value {
            NodeValue::Str(s) => s.clone(),
            NodeValue::Seq(items) => items
                .iter()
                .map(|i| yaml::scalar_text(&i.to_json()))
                .collect::<Vec<_>>()
                .join(":"),
            _ => return Err(h.error(format!("`hosts` is a pattern, but this is {}", h.kind()))),
        },
        None => {
            return Err(node
                .error("the play has no `hosts`")
                .with_help("add `hosts: all` or a group name"));
        }
    };
    let steps_node = match (node.get("steps"), node.get("tasks")) {
        (Some(_), Some(tasks)) => {
            return Err(tasks.error("a play has `steps` or `tasks`, not both"));
        }
        (Some(steps), None) | (None, Some(steps)) => Some(steps),
        (None, None) => None,
    };
    let steps = match steps_node {
        None => Vec::new(),
        Some(n) if n.is_null() => Vec::new(),
        Some(n) => match n.as_seq() {
            Some(items) => items.iter().map(load_step).collect::<Result<Vec<_>, _>>()?,
            None => {
                return Err(n.error(format!(
                    "`steps` is a list of steps, but this is {}",
                    n.kind()
                )));
            }
        },
    };
    let vars_files = match node.get("vars_files") {
        None => Vec::new(),
        Some(n) => strings(n, "vars_files")?
            .into_iter()
            .map(|s| (s, n.span.clone()))
            .collect(),
    };
    Ok(Play {
        name: optional_string(node, "name")?.unwrap_or_else(|| hosts.clone()),
        hosts,
        gather_facts: optional_bool(node, "gather_facts")?.unwrap_or(true),
        vars: mapping(node, "vars")?,
        vars_files,
        environment: node.get("environment").map(Node::to_json),
        tags: node
            .get("tags")
            .map(|n| strings(n, "tags"))
            .transpose()?
            .unwrap_or_default(),
        steps,
        span: node.span.clone(),
    })
}

fn load_step(node: &Node) -> Result<Step, Error> {
    let Some(entries) = node.as_map() else {
        return Err(node
            .error(format!(
                "a step is a mapping of a module and its keywords, but this is {}",
                node.kind()
            ))
            .with_help(
                "write a step as `- name: ...` followed by a module, e.g. `command: uptime`",
            ));
    };
    let mut module: Option<(ModuleKind, &Node, &Node)> = None;
    for (key, value) in entries {
        let name = key.key_text();
        if STEP_KEYS.contains(&name.as_str()) {
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
            return Err(unknown_key(key, &name, STEP_KEYS, "a step"));
        }
        let candidates = STEP_KEYS.iter().copied().chain(ModuleKind::names());
        let has_other_module = entries
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
            args.entry(key.key_text())
                .or_insert_with(|| value.to_json());
        }
    }
    let id = optional_string(node, "id")?;
    let needs = match node.get("needs") {
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
                return Err(n.error(format!(
                    "`needs` is a list of step ids, but this is {}",
                    n.kind()
                )));
            }
        }),
    };
    let (loop_items, loop_var) = load_loop(node)?;
    Ok(Step {
        id,
        name: optional_string(node, "name")?,
        needs,
        module: kind,
        args,
        vars: mapping(node, "vars")?,
        when: conditions(node, "when"),
        register: optional_string(node, "register")?,
        loop_items,
        loop_var,
        ignore_errors: node
            .get("ignore_errors")
            .map(Node::to_json)
            .unwrap_or(Json::Bool(false)),
        failed_when: conditions(node, "failed_when"),
        changed_when: conditions(node, "changed_when"),
        until: node.get("until").map(Node::to_json),
        retries: node.get("retries").map(Node::to_json),
        delay: node.get("delay").map(Node::to_json),
        tags: node
            .get("tags")
            .map(|n| strings(n, "tags"))
            .transpose()?
            .unwrap_or_default(),
        no_log: optional_bool(node, "no_log")?.unwrap_or(false),
        environment: node.get("environment").map(Node::to_json),
        span: node.span.clone(),
    })
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
                "with_items" => {
                    Json::String(format!("{{{{ {} | flatten(levels=1) }}}}", inline(&json)))
                }
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

/// A loop source as an expression: a template's inside, or a literal value as JSON.
fn inline(value: &Json) -> String {
    match value {
        Json::String(s) if crate::template::is_template(s) => {
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
    match &value.value {
        NodeValue::Null => {}
        NodeValue::Map(entries) => {
            for (k, v) in entries {
                let name = k.key_text();
                check_argument(kind, k, &name)?;
                args.insert(name, v.to_json());
            }
        }
        NodeValue::Bool(_) | NodeValue::Int(_) | NodeValue::Float(_)
            if kind.free_form().is_some() =>
        {
            args.insert(
                kind.free_form().unwrap_or("cmd").to_string(),
                Json::String(yaml::scalar_text(&value.to_json())),
            );
        }
        NodeValue::Str(text) => {
            let words = free_form::split(text).map_err(|e| value.error(e))?;
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
                        .with_help(format!(
                            "write the arguments as a mapping under `{}:`",
                            key.key_text()
                        )));
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

fn optional_string(node: &Node, key: &str) -> Result<Option<String>, Error> {
    match node.get(key) {
        None => Ok(None),
        Some(v) => match &v.value {
            NodeValue::Str(s) => Ok(Some(s.clone())),
            NodeValue::Int(_) | NodeValue::Float(_) | NodeValue::Bool(_) => {
                Ok(Some(yaml::scalar_text(&v.to_json())))
            }
            _ => Err(v.error(format!("`{key}` is a string, but this is {}", v.kind()))),
        },
    }
}

fn optional_bool(node: &Node, key: &str) -> Result<Option<bool>, Error> {
    match node.get(key) {
        None => Ok(None),
        Some(v) => match &v.value {
            NodeValue::Bool(b) => Ok(Some(*b)),
            _ => Err(v.error(format!(
                "`{key}` is true or false, but this is {}",
                v.kind()
            ))),
        },
    }
}

fn mapping(node: &Node, key: &str) -> Result<Vars, Error> {
    match node.get(key) {
        None => Ok(Vars::new()),
        Some(v) => match v.to_json() {
            Json::Object(map) => Ok(map),
            Json::Null => Ok(Vars::new()),
            _ => Err(v.error(format!("`{key}` is a mapping, but this is {}", v.kind()))),
        },
    }
}

fn strings(node: &Node, key: &str) -> Result<Vec<String>, Error> {
    match &node.value {
        NodeValue::Seq(items) => Ok(items
            .iter()
            .map(|i| yaml::scalar_text(&i.to_json()))
            .collect()),
        NodeValue::Str(s) => Ok(s
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()),
        _ => Err(node.error(format!("`{key}` is a list, but this is {}", node.kind()))),
    }
}

fn conditions(node: &Node, key: &str) -> Vec<Json> {
    match node.get(key).map(Node::to_json) {
        None => Vec::new(),
        Some(Json::Array(items)) => items,
        Some(single) => vec![single],
    }
}

/// Parses a playbook held in memory; for tests.
#[cfg(test)]
pub(crate) fn load_text(text: &str) -> Result<Playbook, Error> {
    let file = SourceFile::new("play.yml", text);
    let root = yaml::parse(&file)?;
    let plays = root
        .as_seq()
        .unwrap_or_default()
        .iter()
        .map(load_play)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Playbook {
        path: "play.yml".into(),
        dir: ".".into(),
        plays,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        load_text(text).unwrap_err().render()
    }

    #[test]
    fn loads_free_form_and_mapping_arguments() {
        let book = load_text(
            "- hosts: all\n  tasks:\n    - command: ls -l chdir=/tmp\n    - copy: src=a dest=/b mode=0644\n    - name: x\n      file:\n        path: /x\n        state: directory\n",
        )
        .unwrap();
        let steps = &book.plays[0].steps;
        assert_eq!(steps[0].args["cmd"], "ls -l");
        assert_eq!(steps[0].args["chdir"], "/tmp");
        assert_eq!(steps[1].args["mode"], "0644");
        assert_eq!(steps[2].label(), "x");
    }

    #[test]
    fn args_keyword_merges() {
        let book = load_text(
            "- hosts: all\n  steps:\n    - shell: echo hi\n      args:\n        chdir: /srv\n",
        )
        .unwrap();
        assert_eq!(book.plays[0].steps[0].args["chdir"], "/srv");
    }

    #[test]
    fn unknown_module_suggests() {
        let text = error("- hosts: all\n  steps:\n    - comand: ls\n");
        assert_eq!(
            text,
            "error: play.yml:3:7: unknown module `comand`\n  |\n3 |     - comand: ls\n  |       ^\nhelp: did you mean `command`?"
        );
    }

    #[test]
    fn unknown_step_key_suggests() {
        let text = error("- hosts: all\n  steps:\n    - command: ls\n      whenn: x\n");
        assert!(
            text.starts_with("error: play.yml:4:7: unknown key `whenn` in a step"),
            "{text}"
        );
        assert!(text.ends_with("help: did you mean `when`?"), "{text}");
    }

    #[test]
    fn unknown_argument_is_named() {
        let text = error("- hosts: all\n  steps:\n    - copy:\n        src: a\n        dset: /b\n");
        assert!(
            text.starts_with("error: play.yml:5:9: unknown argument `dset` for module `copy`"),
            "{text}"
        );
        assert!(text.ends_with("did you mean `dest`?"), "{text}");
    }

    #[test]
    fn unsupported_keyword_is_named() {
        let text = error("- hosts: all\n  steps:\n    - command: ls\n      notify: restart\n");
        assert!(
            text.contains("`notify` is an Ansible keyword that bgrun does not support"),
            "{text}"
        );
    }

    #[test]
    fn play_needs_hosts() {
        let text = error("- name: x\n  steps: []\n");
        assert!(
            text.starts_with("error: play.yml:1:3: the play has no `hosts`"),
            "{text}"
        );
    }

    #[test]
    fn two_modules_in_a_step() {
        let text = error("- hosts: all\n  steps:\n    - command: ls\n      shell: ls\n");
        assert!(
            text.contains("has `command` (line 3) and `shell`"),
            "{text}"
        );
    }

    #[test]
    fn free_form_on_mapping_module_is_an_error() {
        let text = error("- hosts: all\n  steps:\n    - copy: hello\n");
        assert!(
            text.contains("module `copy` takes `key=value` arguments, but `hello` is not one"),
            "{text}"
        );
    }

    #[test]
    fn with_items_becomes_a_loop() {
        let book = load_text(
            "- hosts: all\n  steps:\n    - debug: msg={{ item }}\n      with_items: [1, 2]\n",
        )
        .unwrap();
        assert_eq!(
            book.plays[0].steps[0].loop_items,
            Some(Json::String("{{ [1,2] | flatten(levels=1) }}".into()))
        );
    }
}
