//! The same playbook run by ansible-playbook and by bgrun: each step's status on each host, what
//! `debug` printed (its `var` or `msg`), the recap, the exit code and the files left must agree.
//!
//! A case is a folder of files (the playbook `play.yml`, and whatever it reads) written twice,
//! once for each tool, so that what one tool leaves cannot feed the other. `{{ out }}` is a folder
//! of the case's own for the files a playbook writes; the trees the two tools leave there are
//! compared.

mod async_steps;
mod basics;
mod files;
mod filters;
mod includes;
mod keywords;
mod lookups;
mod loops;
mod modules;
mod results;
mod runtime_inventory;
mod settings;
mod templating;
mod yaml;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use crate::harness::{LAB_KNOWN_HOSTS, lab_inventory, require_lab};

/// A local-connection inventory of one host, `localhost`.
pub const LOCAL: &str = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n";

/// One step's result on one host, as the two tools are compared.
#[derive(Debug, Clone, PartialEq)]
pub struct HostStep {
    pub host: String,
    /// `ok`, `changed`, `skipped`, `failed` or `unreachable`.
    pub status: String,
    /// The whole result, for the fields a test compares itself.
    pub result: Json,
    /// A loop item's printed label (compared where Ansible's is a string).
    pub label: Option<Json>,
}

/// What one tool did with a case.
#[derive(Debug)]
pub struct Report {
    pub code: i32,
    /// Each step, in order, with its hosts sorted by name.
    pub steps: Vec<(String, Vec<HostStep>)>,
    /// Host → (ok, changed, failed, skipped, unreachable, rescued, ignored).
    pub recap: BTreeMap<String, [u64; 7]>,
    /// Every path under `{{ out }}`: what it is, its mode, its content or link target.
    pub files: BTreeMap<String, String>,
    pub stdout: String,
    pub stderr: String,
}

/// A case: files, an inventory, extra arguments.
pub struct Case {
    files: Vec<(String, String)>,
    inventory: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Case {
    /// A case of one playbook, run on `localhost` with the local connection.
    pub fn new(playbook: &str) -> Self {
        Case {
            files: vec![("play.yml".into(), playbook.into())],
            inventory: LOCAL.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// A case on the lab's SSH hosts `cd` and `prod`.
    pub fn lab(playbook: &str) -> Self {
        require_lab();
        // ansible-playbook reads the known hosts from ssh's options, bgrun from its variable too.
        let inventory = format!(
            "{}ansible_ssh_common_args='-o UserKnownHostsFile={LAB_KNOWN_HOSTS} -o StrictHostKeyChecking=yes'\n",
            lab_inventory()
        );
        Case::new(playbook).inventory(&inventory)
    }

    pub fn file(mut self, name: &str, content: &str) -> Self {
        self.files.push((name.into(), content.into()));
        self
    }

    pub fn inventory(mut self, text: &str) -> Self {
        self.inventory = text.into();
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs both tools and asserts that they agree; returns both reports for further checks.
    pub fn same(&self) -> (Report, Report) {
        let (ansible, bgrun) = self.both();
        assert_same(&ansible, &bgrun);
        (ansible, bgrun)
    }

    /// Runs both tools, each in a folder of its own.
    pub fn both(&self) -> (Report, Report) {
        let root = tempfile::tempdir().expect("temporary folder");
        let ansible = self.run(Tool::Ansible, &root.path().join("ansible"));
        let bgrun = self.run(Tool::Bgrun, &root.path().join("bgrun"));
        (ansible, bgrun)
    }

    fn run(&self, tool: Tool, dir: &Path) -> Report {
        let out = dir.join("out");
        std::fs::create_dir_all(&out).expect("create folder");
        for (name, content) in &self.files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("a file has a folder")).expect("create folder");
            std::fs::write(&path, content).expect("write file");
        }
        std::fs::write(dir.join("inventory"), &self.inventory).expect("write inventory");
        let mut command = match tool {
            Tool::Ansible => {
                let mut command = Command::new("ansible-playbook");
                command
                    .env("ANSIBLE_STDOUT_CALLBACK", "json")
                    .env("ANSIBLE_NOCOLOR", "1")
                    .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
                    .env("ANSIBLE_LOCALHOST_WARNING", "0")
                    .env("ANSIBLE_PYTHON_INTERPRETER", "auto_silent");
                command
            }
            Tool::Bgrun => {
                let mut command = Command::new(env!("CARGO_BIN_EXE_bgrun"));
                command.args(["--output", "json"]).env("NO_COLOR", "1");
                command
            }
        };
        command
            .arg("play.yml")
            .args(["-i", "inventory", "-e"])
            .arg(format!("out={}", out.display()))
            .args(&self.args)
            .envs(self.env.iter().cloned())
            .current_dir(dir);
        let output = command.output().unwrap_or_else(|e| {
            panic!("cannot run {tool:?}: {e}; install Debian's `ansible` (apt-get install ansible)")
        });
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let (steps, recap) = match tool {
            Tool::Ansible => ansible_report(&stdout),
            Tool::Bgrun => bgrun_report(&stdout),
        };
        Report {
            code: output.status.code().unwrap_or(-1),
            steps,
            recap,
            files: tree(&out),
            stdout,
            stderr,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Tool {
    Ansible,
    Bgrun,
}

/// Asserts that two reports agree: exit code, steps and their statuses, debug values, recap, files.
pub fn assert_same(ansible: &Report, bgrun: &Report) {
    let context = || {
        format!(
            "\n--- ansible-playbook (exit {})\n{}\n{}\n--- bgrun (exit {})\n{}\n{}",
            ansible.code, ansible.stdout, ansible.stderr, bgrun.code, bgrun.stdout, bgrun.stderr
        )
    };
    assert_eq!(bgrun.code, ansible.code, "exit codes differ{}", context());
    let names = |r: &Report| r.steps.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        bgrun.steps.len(),
        ansible.steps.len(),
        "steps differ: ansible {:?}, bgrun {:?}{}",
        names(ansible),
        names(bgrun),
        context()
    );
    for ((name, theirs), (_, ours)) in ansible.steps.iter().zip(&bgrun.steps) {
        let statuses = |hosts: &[HostStep]| {
            hosts
                .iter()
                .map(|h| (h.host.clone(), h.status.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            statuses(ours),
            statuses(theirs),
            "statuses of step `{name}`{}",
            context()
        );
        for (their, our) in theirs.iter().zip(ours) {
            if let Some(Json::String(expected)) = &their.label {
                assert_eq!(
                    our.label.as_ref().and_then(Json::as_str),
                    Some(expected.as_str()),
                    "item label of step `{name}` on {}{}",
                    their.host,
                    context()
                );
            }
            for (key, expected) in debug_values(&their.result) {
                assert_eq!(
                    our.result.get(&key).unwrap_or(&Json::Null),
                    &expected,
                    "`{key}` of step `{name}` on {}{}",
                    their.host,
                    context()
                );
            }
        }
    }
    assert_eq!(bgrun.recap, ansible.recap, "recaps differ{}", context());
    assert_eq!(bgrun.files, ansible.files, "files left differ{}", context());
}

/// What a `debug` step printed: its `var` or `msg` (in a loop, each item's).
fn debug_values(result: &Json) -> Vec<(String, Json)> {
    let Some(object) = result.as_object() else {
        return Vec::new();
    };
    let is_debug = object.get("action").and_then(Json::as_str) == Some("debug");
    if !is_debug || status_of(result) == "skipped" {
        return Vec::new();
    }
    object
        .iter()
        .filter(|(k, _)| !k.starts_with("_ansible") && !matches!(k.as_str(), "action" | "changed" | "failed"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn status_of(result: &Json) -> String {
    let flag = |k: &str| result.get(k).and_then(Json::as_bool).unwrap_or(false);
    if flag("unreachable") {
        "unreachable"
    } else if flag("failed") {
        "failed"
    } else if flag("skipped") {
        "skipped"
    } else if flag("changed") {
        "changed"
    } else {
        "ok"
    }
    .into()
}

type Parsed = (Vec<(String, Vec<HostStep>)>, BTreeMap<String, [u64; 7]>);

/// The json callback's document: plays → tasks → hosts → result; stats.
fn ansible_report(stdout: &str) -> Parsed {
    let start = stdout.find('{').unwrap_or(0);
    let Ok(doc) = serde_json::from_str::<Json>(&stdout[start..]) else {
        return (Vec::new(), BTreeMap::new());
    };
    let mut steps = Vec::new();
    for play in doc["plays"].as_array().into_iter().flatten() {
        for task in play["tasks"].as_array().into_iter().flatten() {
            let name = task["task"]["name"].as_str().unwrap_or("").to_string();
            let mut hosts: Vec<HostStep> = task["hosts"]
                .as_object()
                .into_iter()
                .flatten()
                .flat_map(|(host, result)| loop_items(result).into_iter().map(move |r| (host, r)))
                .map(|(host, (result, label))| HostStep {
                    host: host.clone(),
                    status: status_of(&result),
                    result,
                    label,
                })
                .collect();
            hosts.sort_by(|a, b| a.host.cmp(&b.host));
            steps.push((name, hosts));
        }
    }
    let recap = doc["stats"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(host, s)| {
            let n = |k: &str| s[k].as_u64().unwrap_or(0);
            (
                host.clone(),
                [
                    n("ok"),
                    n("changed"),
                    n("failures"),
                    n("skipped"),
                    n("unreachable"),
                    n("rescued"),
                    n("ignored"),
                ],
            )
        })
        .collect();
    (steps, recap)
}

/// A result as the items it was made of, each with its label: a loop's results (without the
/// loop's own variables, which bgrun's item events leave out), else the result itself.
fn loop_items(result: &Json) -> Vec<(Json, Option<Json>)> {
    let Some(items) = result["results"].as_array().filter(|items| !items.is_empty()) else {
        return vec![(result.clone(), None)];
    };
    items
        .iter()
        .map(|item| {
            let mut item = item.clone();
            let label = item.get("_ansible_item_label").cloned();
            if let Some(map) = item.as_object_mut() {
                for key in ["ansible_loop_var", "ansible_index_var"] {
                    if let Some(Json::String(name)) = map.get(key).cloned() {
                        map.remove(&name);
                    }
                    map.remove(key);
                }
                map.remove("ansible_loop");
                map.insert("action".into(), result["action"].clone());
            }
            (item, label)
        })
        .collect()
}

/// bgrun's `--output json` events: `step_start`, `host_result`, `recap`.
fn bgrun_report(stdout: &str) -> Parsed {
    let mut steps: Vec<(String, Vec<HostStep>)> = Vec::new();
    let mut recap = BTreeMap::new();
    for event in stdout.lines().filter_map(|l| serde_json::from_str::<Json>(l).ok()) {
        match event["event"].as_str() {
            Some("step_start") => steps.push((event["step"].as_str().unwrap_or("").to_string(), Vec::new())),
            Some("host_result") => {
                let status = event["status"].as_str().unwrap_or("").to_string();
                let status = if status == "failed" && event["ignored"] == true {
                    "failed".to_string()
                } else {
                    status
                };
                if let Some((_, hosts)) = steps.last_mut() {
                    let host = event["host"].as_str().unwrap_or("").to_string();
                    let label = event.get("item").cloned();
                    // A loop's failed or unreachable result repeats its items.
                    let loop_summary = label.is_none() && hosts.iter().any(|h| h.host == host && h.label.is_some());
                    if loop_summary {
                        continue;
                    }
                    hosts.push(HostStep {
                        host,
                        status,
                        result: event["result"].clone(),
                        label,
                    });
                    hosts.sort_by(|a, b| a.host.cmp(&b.host));
                }
            }
            Some("recap") => {
                for (host, c) in event["hosts"].as_object().into_iter().flatten() {
                    let n = |k: &str| c[k].as_u64().unwrap_or(0);
                    recap.insert(
                        host.clone(),
                        [
                            n("ok"),
                            n("changed"),
                            n("failed"),
                            n("skipped"),
                            n("unreachable"),
                            n("rescued"),
                            n("ignored"),
                        ],
                    );
                }
            }
            _ => {}
        }
    }
    (steps, recap)
}

/// Every path under `root`: what it is, its mode, and its content or link target.
pub fn tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path: PathBuf = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let rel = path.strip_prefix(root).expect("inside root").display().to_string();
            let mode = meta.permissions().mode() & 0o7777;
            let what = if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).expect("link").display())
            } else if meta.is_dir() {
                stack.push(path.clone());
                format!("dir {mode:o}")
            } else {
                format!(
                    "file {mode:o} {:?}",
                    String::from_utf8_lossy(&std::fs::read(&path).expect("read file"))
                )
            };
            out.insert(rel, what);
        }
    }
    out
}

#[test]
fn the_harness_sees_a_difference_in_debug_values() {
    let (ansible, mut bgrun) =
        Case::new("- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: var=x\n      vars: {x: [1, two]}\n")
            .same();
    assert_eq!(ansible.steps.len(), 1);
    bgrun.steps[0].1[0].result["x"] = Json::from("other");
    let caught = std::panic::catch_unwind(|| assert_same(&ansible, &bgrun));
    assert!(caught.is_err(), "a different debug value went unnoticed");
}
