//! Reads playbook files into [`Playbook`]s: plays with their roles, `pre_tasks`, `tasks`,
//! `post_tasks` and handlers, and `import_playbook`, with an error at `file:line:col` for every
//! key, module or argument bgrun does not know.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::raw::{self, Hosts, Serial, read};
use super::step::{Loader, add_tags, read_yaml, root_step};
use super::{Action, Meta, Play, Playbook, Privilege, Step};
pub use crate::config::Settings;
use crate::error::Error;
use crate::yaml::{Node, NodeValue};

/// How deep `import_playbook` may nest before bgrun calls it a loop.
const MAX_IMPORT_DEPTH: usize = 16;

/// What the `import_playbook` entries around a play hand to it, outer ones first, as Ansible's
/// `PlaybookInclude` does: their `when` goes before the conditions of every step of the play
/// (not its handlers), their `tags` join the play's.
#[derive(Default, Clone)]
struct Imported {
    when: Vec<Json>,
    tags: Vec<String>,
}

impl Imported {
    /// The context of the plays that `import` brings in.
    fn through(&self, import: &raw::Import) -> Imported {
        let mut inner = self.clone();
        inner.when.extend(import.when.0.iter().cloned());
        add_tags(&mut inner.tags, import.tags.0.clone());
        inner
    }
}

/// Loads a playbook file, and the playbooks it imports.
pub fn load(path: &Path, settings: &Settings) -> Result<Playbook, Error> {
    let dir = folder_of(path);
    let mut plays = Vec::new();
    load_into(path, settings, &mut plays, 0, &Imported::default())?;
    Ok(Playbook {
        path: path.to_path_buf(),
        dir,
        plays,
    })
}

fn folder_of(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

fn load_into(
    path: &Path,
    settings: &Settings,
    plays: &mut Vec<Play>,
    depth: usize,
    imported: &Imported,
) -> Result<(), Error> {
    let root = read_yaml(path)?;
    let dir = folder_of(path);
    match &root.value {
        NodeValue::Seq(items) => {
            for item in items {
                if (item.get("import_playbook").is_some() || item.get("include").is_some())
                    && item.get("hosts").is_none()
                {
                    let entry: raw::Import = read(item, None)?;
                    let import = (entry.import_playbook.as_ref().or(entry.include.as_ref()))
                        .expect("an entry read for its `import_playbook` or `include` has one");
                    let Some(file) = import.as_str() else {
                        return Err(import.error("`import_playbook` takes a file name"));
                    };
                    if depth >= MAX_IMPORT_DEPTH {
                        return Err(import.error("playbooks import each other in a loop"));
                    }
                    let target = dir.join(file);
                    let before = plays.len();
                    let inner = imported.through(&entry);
                    load_into(&target, settings, plays, depth + 1, &inner).map_err(|e| match e {
                        Error::Read { path, source } => {
                            import.error(format!("cannot read `{}`: {source}", path.display()))
                        }
                        other => other,
                    })?;
                    for play in &mut plays[before..] {
                        for (k, v) in entry.vars.iter().flatten() {
                            play.vars.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                    continue;
                }
                plays.push(load_play(item, &dir, settings, imported)?);
            }
        }
        NodeValue::Null => {}
        _ => {
            return Err(root
                .error(format!("a playbook is a list of plays, but this is {}", root.kind()))
                .with_help("start each play with `- hosts: ...`"));
        }
    }
    Ok(())
}

fn load_play(node: &Node, dir: &Path, settings: &Settings, imported: &Imported) -> Result<Play, Error> {
    if node.as_map().is_none() {
        return Err(node
            .error(format!("a play is a mapping, but this is {}", node.kind()))
            .with_help("start the play with `- hosts: ...`"));
    }
    let play: raw::Play = read(node, None)?;
    let Some(Hosts(hosts)) = play.hosts else {
        return Err(node
            .error("the play has no `hosts`")
            .with_help("add `hosts: all` or a group name"));
    };
    if let Some(strategy) = &play.strategy
        && strategy.value.as_str() != Some("linear")
    {
        return Err(Error::invalid(
            strategy.span.clone(),
            "bgrun runs plays with the `linear` strategy, steps in the order of their graph",
        )
        .with_help("remove `strategy`"));
    }
    let local = match &play.connection {
        None => false,
        Some(c) if c.value.as_str() == Some("local") => true,
        Some(c) if c.value.as_str() == Some("ssh") => false,
        Some(c) => return Err(Error::invalid(c.span.clone(), "`connection` may be `local` or `ssh`")),
    };
    let roles_path: Vec<PathBuf> = settings.roles_path.clone();
    let loader = Loader::new(dir, &roles_path);
    let mut root = root_step(&node.span);
    root.tags = play.tags.0.clone();
    add_tags(&mut root.tags, imported.tags.clone());
    root.when = imported.when.clone();
    if let Some(env) = &play.environment {
        root.environment.push(env.clone());
    }
    root.remote_user = play.remote_user.clone().map(|t| t.0).or(settings.remote_user.clone());
    root.check_mode = play.check_mode.clone();
    root.diff = play.diff.clone();
    if let Some(node) = &play.module_defaults {
        root.module_defaults = super::step::module_defaults(node)?;
    }
    root.privilege = match (play.privilege.privilege()?, settings.become_enabled) {
        (Some(p), _) => Some(Privilege {
            enabled: p.enabled,
            user: p.user.or(settings.become_user.clone()),
            method: p.method.or(settings.become_method.clone()),
        }),
        (None, Some(enabled)) => Some(Privilege {
            enabled: Json::Bool(enabled),
            user: settings.become_user.clone(),
            method: settings.become_method.clone(),
        }),
        (None, None) => None,
    };
    let section = |steps: &Option<Node>| -> Result<Vec<Step>, Error> {
        match steps {
            Some(n) => loader.steps(n, dir, &root, false),
            None => Ok(Vec::new()),
        }
    };
    let pre_tasks = section(&play.pre_tasks)?;
    let mut steps = Vec::new();
    let flush = |steps: &mut Vec<Step>| {
        let mut step = root_step(&node.span);
        step.action = Action::Meta(Meta::FlushHandlers);
        step.name = Some("flush handlers".into());
        steps.push(step);
    };
    if !pre_tasks.is_empty() {
        steps.extend(pre_tasks);
        flush(&mut steps);
    }
    for entry in play.roles.iter().flatten() {
        let (name, params, context) = loader.role_entry(entry, &root)?;
        let role_steps = loader.role(&name, None, params, &context, &entry.span, false)?;
        if role_steps.is_empty() {
            continue;
        }
        // A role whose steps name their order (`id`/`needs`) joins the play's step graph.
        if role_steps.iter().any(|s| s.needs.is_some()) {
            steps.extend(role_steps);
            continue;
        }
        let mut step = root_step(&entry.span);
        step.name = Some(format!("role {name}"));
        step.action = Action::Block {
            steps: role_steps,
            rescue: Vec::new(),
            always: Vec::new(),
        };
        steps.push(step);
    }
    let main = match (&play.steps, &play.tasks) {
        (Some(_), Some(tasks)) => {
            return Err(tasks.error("a play has `steps` or `tasks`, not both"));
        }
        (Some(n), None) | (None, Some(n)) => loader.steps(n, dir, &root, false)?,
        (None, None) => Vec::new(),
    };
    steps.extend(main);
    let post_tasks = section(&play.post_tasks)?;
    if !post_tasks.is_empty() {
        flush(&mut steps);
        steps.extend(post_tasks);
    }
    let mut handlers = loader.handlers.take();
    if let Some(n) = &play.handlers {
        let mut handler_root = root.clone();
        handler_root.when.clear();
        handlers.extend(loader.steps(n, dir, &handler_root, true)?);
    }
    let vars_files = match play.vars_files {
        None => Vec::new(),
        Some(files) => files.value.0.into_iter().map(|s| (s, files.span.clone())).collect(),
    };
    Ok(Play {
        name: play.name.map_or_else(|| hosts.clone(), |t| t.0),
        hosts,
        gather_facts: play.gather_facts.unwrap_or(true),
        vars: play.vars.unwrap_or_default(),
        vars_prompt: match &play.vars_prompt {
            Some(node) => super::prompt::prompts(node)?,
            None => Vec::new(),
        },
        vars_files,
        steps,
        handlers,
        serial: play.serial.map(|Serial(batches)| batches).unwrap_or_default(),
        any_errors_fatal: play.any_errors_fatal.unwrap_or(false),
        max_fail_percentage: match play.max_fail_percentage {
            None => None,
            Some(n) => {
                let error = || Error::invalid(n.span.clone(), "`max_fail_percentage` is a number");
                Some(match &n.value {
                    Json::Number(v) => v.as_f64().unwrap_or(0.0),
                    Json::String(s) => s.trim_end_matches('%').trim().parse().map_err(|_| error())?,
                    _ => return Err(error()),
                })
            }
        },
        force_handlers: play.force_handlers.unwrap_or(false),
        local,
        span: node.span.clone(),
    })
}

/// Parses a playbook held in memory; for tests.
#[cfg(test)]
pub(crate) fn load_text(text: &str) -> Result<Playbook, Error> {
    let file = crate::source::SourceFile::new("play.yml", text);
    let root = crate::yaml::parse(&file)?;
    let settings = Settings::default();
    let plays = root
        .as_seq()
        .unwrap_or_default()
        .iter()
        .map(|p| load_play(p, Path::new("."), &settings, &Imported::default()))
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
    use crate::playbook::Batch;

    fn error(text: &str) -> String {
        load_text(text).unwrap_err().render()
    }

    fn args(step: &Step) -> &crate::template::Vars {
        match &step.action {
            Action::Module { args, .. } => args,
            other => panic!("not a module: {other:?}"),
        }
    }

    #[test]
    fn loads_free_form_and_mapping_arguments() {
        let book = load_text(
            "- hosts: all\n  tasks:\n    - command: ls -l chdir=/tmp\n    - copy: src=a dest=/b mode=0644\n    - name: x\n      file:\n        path: /x\n        state: directory\n",
        )
        .unwrap();
        let steps = &book.plays[0].steps;
        assert_eq!(args(&steps[0])["cmd"], "ls -l");
        assert_eq!(args(&steps[0])["chdir"], "/tmp");
        assert_eq!(args(&steps[1])["mode"], "0644");
        assert_eq!(steps[2].label(), "x");
    }

    #[test]
    fn args_keyword_merges() {
        let book =
            load_text("- hosts: all\n  steps:\n    - shell: echo hi\n      args:\n        chdir: /srv\n").unwrap();
        assert_eq!(args(&book.plays[0].steps[0])["chdir"], "/srv");
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
        let text = error("- hosts: all\n  steps:\n    - command: ls\n      collections: x\n");
        assert!(
            text.contains("`collections` is an Ansible keyword that bgrun does not support"),
            "{text}"
        );
        // A dynamic include loops; an import is read once, before the run, so it cannot.
        let text = error("- hosts: all\n  steps:\n    - import_tasks: a.yml\n      loop: [1]\n");
        assert!(
            text.starts_with(
                "error: play.yml:4:13: `import_tasks` is read before the run, once, so it cannot have `loop`"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("help: use `include_tasks`, which runs once per item"),
            "{text}"
        );
        let text = error("- hosts: all\n  steps:\n    - import_role: {name: r}\n      with_items: [1]\n");
        assert!(
            text.starts_with(
                "error: play.yml:4:19: `import_role` is read before the run, once, so it cannot have `with_items`"
            ),
            "{text}"
        );
        let text = error("- hosts: all\n  steps:\n    - block: []\n      loop: [1]\n");
        assert!(
            text.starts_with(
                "error: play.yml:4:7: `loop` is an Ansible keyword that bgrun does not support in a block"
            ),
            "{text}"
        );
        let book = load_text(
            "- hosts: all\n  steps:\n    - include_tasks: a.yml\n      loop: [1]\n      loop_control: {loop_var: x}\n",
        )
        .unwrap();
        let looped = book.plays[0].steps[0].looped.as_ref().expect("the include loops");
        assert_eq!(looped.var, "x");
        let text = error("- hosts: all\n  steps:\n    - command: ls\n      local_action: copy src=a dest=b\n");
        assert!(
            text.starts_with(
                "error: play.yml:4:21: a step runs one module, but this one has `command` (line 3) and `local_action`"
            ),
            "{text}"
        );
    }

    #[test]
    fn module_defaults_name_known_modules() {
        let text = error("- hosts: all\n  module_defaults:\n    group/aws: {region: x}\n  steps: []\n");
        assert!(
            text.starts_with(
                "error: play.yml:3:5: `group/aws`: bgrun does not support module groups in `module_defaults`"
            ),
            "{text}"
        );
        let text = error("- hosts: all\n  module_defaults:\n    cpy: {mode: x}\n  steps: []\n");
        assert!(text.contains("cpy"), "{text}");
        let text = error("- hosts: all\n  module_defaults:\n    copy: {mod: x}\n  steps: []\n");
        assert!(text.contains("unknown argument `mod` for module `copy`"), "{text}");
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
        assert!(text.contains("has `command` (line 3) and `shell`"), "{text}");
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
        let book =
            load_text("- hosts: all\n  steps:\n    - debug: msg={{ item }}\n      with_items: [1, 2]\n").unwrap();
        let looped = book.plays[0].steps[0].looped.as_ref().expect("a loop");
        assert_eq!(looped.source, serde_json::json!([1, 2]));
        assert_eq!(looped.lookup, Some(crate::playbook::LoopLookup::Items));
    }

    #[test]
    fn blocks_hand_their_keywords_down() {
        let book = load_text(
            "- hosts: all\n  become: true\n  tags: [p]\n  steps:\n    - block:\n        - command: a\n          when: y\n      rescue:\n        - debug: msg=r\n      when: x\n      tags: [b]\n      vars: {v: 1}\n",
        )
        .unwrap();
        let Action::Block { steps, rescue, always } = &book.plays[0].steps[0].action else {
            panic!("a block")
        };
        assert!(always.is_empty());
        assert_eq!(steps[0].when, vec![Json::from("x"), Json::from("y")]);
        assert_eq!(steps[0].tags, vec!["p".to_string(), "b".to_string()]);
        assert_eq!(steps[0].vars["v"], 1);
        assert_eq!(
            steps[0].privilege.as_ref().map(|p| p.enabled.clone()),
            Some(Json::Bool(true))
        );
        assert_eq!(rescue[0].when, vec![Json::from("x")]);
    }

    #[test]
    fn serial_forms() {
        let book = load_text("- hosts: all\n  serial: [1, '50%']\n  steps: []\n").unwrap();
        assert_eq!(book.plays[0].serial, vec![Batch::Count(1), Batch::Percent(50.0)]);
        assert!(error("- hosts: all\n  serial: 0\n").contains("`serial` is a host count"));
    }

    #[test]
    fn rescue_without_block() {
        assert!(error("- hosts: all\n  steps:\n    - rescue: []\n").contains("`rescue` belongs to a `block`"));
    }

    #[test]
    fn meta_actions() {
        let book = load_text("- hosts: all\n  steps:\n    - meta: flush_handlers\n").unwrap();
        assert!(matches!(
            book.plays[0].steps[0].action,
            Action::Meta(Meta::FlushHandlers)
        ));
        assert!(
            error("- hosts: all\n  steps:\n    - meta: flush_handler\n").contains("did you mean `flush_handlers`?")
        );
    }

    #[test]
    fn listen_only_in_handlers() {
        assert!(
            error("- hosts: all\n  steps:\n    - command: x\n      listen: t\n")
                .contains("`listen` belongs to handlers")
        );
    }

    #[test]
    fn import_playbook_hands_when_and_tags_to_its_plays() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("main.yml", "- import_playbook: mid.yml\n  when: outer\n  tags: [o]\n");
        write(
            "mid.yml",
            "- import_playbook: leaf.yml\n  when: [inner]\n  tags: i\n- hosts: all\n  tags: [m]\n  tasks:\n    - debug: msg=m\n",
        );
        write(
            "leaf.yml",
            "- hosts: all\n  tags: [own]\n  pre_tasks:\n    - debug: msg=pre\n  tasks:\n    - debug: msg=x\n      when: mine\n  handlers:\n    - name: h\n      debug: msg=h\n",
        );
        let book = load(&dir.path().join("main.yml"), &Settings::default()).unwrap();
        let (leaf, mid) = (&book.plays[0], &book.plays[1]);
        let when = |step: &Step| step.when.clone();
        assert_eq!(when(&leaf.steps[0]), vec![Json::from("outer"), Json::from("inner")]);
        let task = leaf.steps.iter().find(|s| s.when.len() == 3).expect("the task");
        assert_eq!(
            when(task),
            vec![Json::from("outer"), Json::from("inner"), Json::from("mine")]
        );
        assert_eq!(task.tags, ["own", "o", "i"]);
        assert!(
            leaf.handlers[0].when.is_empty(),
            "an import's `when` is not a handler's"
        );
        assert_eq!(leaf.handlers[0].tags, ["own", "o", "i"]);
        assert_eq!(when(&mid.steps[0]), vec![Json::from("outer")]);
        assert_eq!(mid.steps[0].tags, ["m", "o"]);
    }

    #[test]
    fn import_playbook_keys_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.yml"), "- import_playbook: x.yml\n  whenn: x\n").unwrap();
        let err = load(&dir.path().join("main.yml"), &Settings::default())
            .unwrap_err()
            .render();
        assert!(
            err.contains("main.yml:2:3: unknown key `whenn` in an import_playbook"),
            "{err}"
        );
    }

    #[test]
    fn keywords_bgrun_would_ignore_are_refused() {
        let text = error("- hosts: all\n  steps:\n    - command: ls\n      any_errors_fatal: true\n");
        assert!(
            text.starts_with(
                "error: play.yml:4:7: `any_errors_fatal` is an Ansible keyword that bgrun does not support in a step"
            ),
            "{text}"
        );
        assert!(text.contains("set it on the play"), "{text}");
        let text = error("- hosts: all\n  steps:\n    - block: []\n      any_errors_fatal: true\n");
        assert!(text.starts_with("error: play.yml:4:7: `any_errors_fatal`"), "{text}");
        for (key, line) in [
            ("include_tasks: x.yml\n      apply: {tags: [t]}", "5:7: `apply`"),
            ("include_role: r\n      defaults_from: d", "5:7: `defaults_from`"),
            ("import_role: r\n      vars_from: v", "5:7: `vars_from`"),
            (
                "include_tasks: x.yml\n      tasks_from: t",
                "5:7: unknown key `tasks_from`",
            ),
            (
                "include_role:\n        name: r\n        public: true",
                "6:9: unknown key `public` in `include_role`",
            ),
            (
                "include_tasks:\n        file: x.yml\n        apply: {}",
                "6:9: `apply` is an Ansible keyword",
            ),
        ] {
            let text = error(&format!("- hosts: all\n  steps:\n    - name: s\n      {key}\n"));
            assert!(text.contains(&format!("play.yml:{line}")), "{key}: {text}");
        }
    }

    #[test]
    fn keywords_that_would_not_apply_are_refused() {
        let step = |text: &str| error(&format!("- hosts: all\n  steps:\n    - {text}\n"));
        let text = step("meta: end_play\n      when: done");
        assert!(
            text.starts_with(
                "error: play.yml:4:13: `when` is an Ansible keyword that bgrun does not support in a `meta` step"
            ),
            "{text}"
        );
        let text = step("meta: flush_handlers\n      become: true");
        assert!(
            text.starts_with("error: play.yml:4:7: unknown key `become` in a `meta` step"),
            "{text}"
        );
        let text = step("debug: msg=x\n      loop: [1]\n      loop_control: {index: i}");
        assert!(
            text.starts_with("error: play.yml:5:22: unknown key `index` in loop_control"),
            "{text}"
        );
        let text = step("include_tasks: a.yml\n      import_tasks: b.yml");
        assert!(
            text.starts_with("error: play.yml:4:7: a step runs one include, but this one has `include_tasks` (line 3) and `import_tasks`"),
            "{text}"
        );
        let text = step("import_role: r\n      include_tasks: b.yml");
        assert!(
            text.starts_with("error: play.yml:4:7: unknown key `include_tasks` in an include"),
            "{text}"
        );
    }

    #[test]
    fn values_of_the_wrong_kind_name_their_key() {
        for (text, want) in [
            (
                "gather_facts: maybe",
                "2:17: `gather_facts` is true or false, but this is a string",
            ),
            ("tags: 3", "2:9: `tags` is a list, but this is an integer"),
            ("hosts: {a: 1}", "1:11: `hosts` is a pattern, but this is a mapping"),
            ("roles: x", "2:10: `roles` is a list, but this is a string"),
            (
                "steps:\n    - debug: msg=x\n      needs: [1]",
                "4:15: a step id (a string) was expected here",
            ),
            (
                "steps:\n    - debug: msg=x\n      throttle: x",
                "4:17: `throttle` is a whole number above 0",
            ),
            (
                "steps:\n    - debug: msg=x\n      loop_control: 3",
                "4:21: `loop_control` is a mapping, but this is an integer",
            ),
            ("become_method: doas", "2:18: `become_method: doas` is not supported"),
        ] {
            let play = if text.starts_with("hosts") {
                format!("- {text}\n")
            } else {
                format!("- hosts: all\n  {text}\n")
            };
            let err = error(&play);
            assert!(err.starts_with(&format!("error: play.yml:{want}")), "{text}: {err}");
        }
    }
}
