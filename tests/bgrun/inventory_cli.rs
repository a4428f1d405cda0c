//! The inventory as `ansible-inventory` shows it (`--list`, `--graph`), compared with Ansible's
//! own `ansible-inventory` on the book's inventory, and Vagrant machines as an inventory source.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use bgrun::inventory::Inventory;
use serde_json::Value;

use crate::harness::{Test, in_ci};

fn books_ms() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory/books-ms")
}

fn recorded_vagrant() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vagrant/ssh-config")
}

/// Whether Ansible's `ansible-inventory` can be run. Missing, it fails the test under `CI=true`
/// and skips it elsewhere.
fn have_ansible_inventory() -> bool {
    let found = Command::new("ansible-inventory")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if found {
        return true;
    }
    if in_ci() {
        panic!(
            "`ansible-inventory` is not installed, and CI=true: this test compares bgrun's inventory \
             with Ansible's; install it with `apt-get install ansible` (.ci/run does)"
        );
    }
    eprintln!("skipped: `ansible-inventory` is not installed (install Debian's `ansible` package)");
    false
}

/// Runs `ansible-inventory -i INVENTORY ARGS` in `dir` (also its playbook folder) and returns
/// what it printed.
fn ansible_inventory(dir: &Path, inventory: &Path, args: &[&str]) -> String {
    let temp = tempfile::tempdir().expect("temporary folder");
    let out = Command::new("ansible-inventory")
        .arg("-i")
        .arg(inventory)
        .arg("--playbook-dir")
        .arg(dir)
        .args(args)
        .current_dir(dir)
        .env("ANSIBLE_LOCAL_TEMP", temp.path())
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("run ansible-inventory");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ansible-inventory {args:?} failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn load(sources: &[&Path], playbook_dir: Option<&Path>) -> Inventory {
    let sources: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
    match Inventory::load(&sources, playbook_dir) {
        Ok(inventory) => inventory,
        Err(err) => panic!("{}", err.render()),
    }
}

/// A `--list` document with its lists sorted: group -> (hosts, children), host -> variables.
struct Listing {
    groups: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
    hostvars: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Listing {
    fn of(list: &Value, who: &str) -> Listing {
        let Some(top) = list.as_object() else {
            panic!("{who}: `--list` is not a JSON object: {list}");
        };
        let names = |value: &Value, group: &str, key: &str| -> BTreeSet<String> {
            match value.get(key) {
                None => BTreeSet::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| match item.as_str() {
                        Some(name) => name.to_string(),
                        None => panic!("{who}: `{group}.{key}` holds a non-string {item}"),
                    })
                    .collect(),
                Some(other) => panic!("{who}: `{group}.{key}` is not a list: {other}"),
            }
        };
        let mut groups = BTreeMap::new();
        for (name, entry) in top.iter().filter(|(name, _)| *name != "_meta") {
            let keys: BTreeSet<&str> = entry
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            assert!(
                !keys.is_empty() && keys.is_subset(&BTreeSet::from(["hosts", "children"])),
                "{who}: group `{name}` has keys {keys:?}; expected `hosts` and/or `children`"
            );
            let hosts = names(entry, name, "hosts");
            let children = names(entry, name, "children");
            groups.insert(name.clone(), (hosts, children));
        }
        let Some(hostvars) = list.pointer("/_meta/hostvars").and_then(Value::as_object) else {
            panic!("{who}: no `_meta.hostvars` object");
        };
        let hostvars = hostvars
            .iter()
            .map(|(host, vars)| {
                let Some(vars) = vars.as_object() else {
                    panic!("{who}: hostvars of `{host}` are not an object");
                };
                let vars = vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                (host.clone(), vars)
            })
            .collect();
        Listing { groups, hostvars }
    }
}

/// Every difference between the two listings, one line each.
fn differences(ansible: &Listing, bgrun: &Listing) -> Vec<String> {
    let mut out = Vec::new();
    let group_names: BTreeSet<&String> = ansible.groups.keys().chain(bgrun.groups.keys()).collect();
    for name in group_names {
        match (ansible.groups.get(name), bgrun.groups.get(name)) {
            (Some(a), Some(b)) => {
                if a.0 != b.0 {
                    out.push(format!("group `{name}` hosts: ansible {:?}, bgrun {:?}", a.0, b.0));
                }
                if a.1 != b.1 {
                    out.push(format!("group `{name}` children: ansible {:?}, bgrun {:?}", a.1, b.1));
                }
            }
            (Some(_), None) => out.push(format!("group `{name}` is only in ansible's listing")),
            (None, Some(_)) => out.push(format!("group `{name}` is only in bgrun's listing")),
            (None, None) => {}
        }
    }
    let hosts: BTreeSet<&String> = ansible.hostvars.keys().chain(bgrun.hostvars.keys()).collect();
    let empty = BTreeMap::new();
    for host in hosts {
        let a = ansible.hostvars.get(host).unwrap_or(&empty);
        let b = bgrun.hostvars.get(host).unwrap_or(&empty);
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            match (a.get(key), b.get(key)) {
                (Some(x), Some(y)) if x == y => {}
                (x, y) => out.push(format!(
                    "host `{host}` var `{key}`: ansible {}, bgrun {}",
                    x.map_or("(none)".into(), Value::to_string),
                    y.map_or("(none)".into(), Value::to_string)
                )),
            }
        }
    }
    out
}

#[test]
fn list_matches_ansible_inventory() {
    if !have_ansible_inventory() {
        return;
    }
    let dir = books_ms();
    let hosts = dir.join("hosts/prod");
    let text = ansible_inventory(&dir, &hosts, &["--list"]);
    let ansible: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("ansible-inventory printed no JSON ({e}):\n{text}"));
    let bgrun = load(&[&hosts], Some(&dir)).list_json();

    let (a, b) = (Listing::of(&ansible, "ansible"), Listing::of(&bgrun, "bgrun"));
    let diff = differences(&a, &b);
    assert!(
        diff.is_empty(),
        "bgrun's `--list` differs from ansible-inventory's on {}:\n  {}",
        hosts.display(),
        diff.join("\n  ")
    );
    // The fixture is not trivially equal: groups, nested hosts and variables from every level.
    assert!(a.groups.len() > 10 && a.hostvars.len() > 10);
    assert_eq!(
        a.hostvars["10.100.198.201"]["ansible_ssh_private_key_file"],
        "/vagrant/.vagrant/machines/prod/virtualbox/private_key"
    );
    // Beyond the structure, bgrun orders its lists as Ansible does.
    assert_eq!(bgrun["all"], ansible["all"]);
    assert_eq!(bgrun["swarm"], ansible["swarm"]);
}

#[test]
fn graph_matches_ansible_inventory() {
    if !have_ansible_inventory() {
        return;
    }
    let dir = books_ms();
    let hosts = dir.join("hosts/prod");
    let ansible = ansible_inventory(&dir, &hosts, &["--graph"]);
    let inventory = load(&[&hosts], Some(&dir));
    assert_eq!(inventory.graph_text(), ansible);
    let ansible = ansible_inventory(&dir, &hosts, &["--graph", "mesos"]);
    assert_eq!(inventory.graph_text_from("mesos").as_deref(), Some(&*ansible));
}

#[test]
fn nested_groups_match_ansible_inventory() {
    if !have_ansible_inventory() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temporary folder");
    let hosts = tmp.path().join("hosts.yml");
    std::fs::write(
        &hosts,
        "all:\n  hosts:\n    loose: {port: 8080}\n  children:\n    web:\n      vars: {zone: b}\n      hosts:\n        web1: {color: red}\n      children:\n        front:\n          hosts:\n            f1:\n            f2: {ansible_port: 2222, nested: {z: 1, a: [{y: 2, b: 3}]}}\n    db:\n      hosts: {db1: }\n    empty: {}\n",
    )
    .expect("write inventory");
    let ansible: Value = serde_json::from_str(&ansible_inventory(tmp.path(), &hosts, &["--list"])).expect("JSON");
    let inventory = load(&[&hosts], Some(tmp.path()));
    assert_eq!(inventory.list_json(), ansible);
    // Sorted keys: printed the same, byte for byte.
    assert_eq!(
        serde_json::to_string(&inventory.list_json()).expect("serialises"),
        serde_json::to_string(&ansible).expect("serialises")
    );
    let graph = ansible_inventory(tmp.path(), &hosts, &["--graph"]);
    assert_eq!(inventory.graph_text(), graph);
}

const VAGRANT_PLAY: &str = "- hosts: vagrant\n  gather_facts: false\n  steps:\n    - debug: msg=hi\n";

#[test]
fn vagrant_source_reads_recorded_output() {
    let out = Test::new()
        .playbook(VAGRANT_PLAY)
        .args(&["-i", "vagrant", "--list-hosts"])
        .env("BGRUN_VAGRANT_SSH_CONFIG", &recorded_vagrant().display().to_string())
        .expect(0);
    assert!(
        out.stdout.contains("hosts (2):\n      cd\n      prod\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn vagrant_source_runs_vagrant_in_its_folder() {
    // `group_vars/` beside the Vagrantfile are read; a local connection keeps the run off SSH.
    let test = Test::new()
        .file(
            "play.yml",
            "- hosts: vagrant\n  gather_facts: false\n  steps:\n    - debug: msg=\"role={{ role }} port={{ ansible_port }}\"\n",
        )
        .file("project/Vagrantfile", "# two machines\n")
        .file(
            "project/group_vars/vagrant.yml",
            "ansible_connection: local\nrole: lab\n",
        );
    let bin_dir = tempfile::tempdir().expect("temporary folder");
    let bin = bin_dir.path();
    // A stand-in for `vagrant` that prints the recording when run as `vagrant ssh-config` beside a
    // Vagrantfile, and fails as Vagrant does elsewhere.
    write_program(
        &bin.join("vagrant"),
        &format!(
            "[ \"$1\" = ssh-config ] || exit 9\n\
             if [ ! -f Vagrantfile ]; then echo 'A Vagrantfile is required to run this command.' >&2; exit 1; fi\n\
             while IFS= read -r line; do printf '%s\\n' \"$line\"; done < '{}'",
            recorded_vagrant().display()
        ),
    );
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = test
        .args(&["play.yml", "-i", "vagrant:project"])
        .env("PATH", &path)
        .expect(0);
    assert!(
        out.stdout.contains("ok: [cd] => role=lab port=2222\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("ok: [prod] => role=lab port=2200\n"),
        "{}",
        out.stdout
    );

    let out = Test::new()
        .playbook(VAGRANT_PLAY)
        .args(&["-i", "vagrant", "--list-hosts"])
        .env("PATH", &path)
        .expect(5);
    assert!(
        out.stderr.contains(
            "`vagrant ssh-config` failed in `.` (exit code 1):\nA Vagrantfile is required to run this command."
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn vagrant_not_installed_is_explained() {
    let empty = tempfile::tempdir().expect("temporary folder");
    let out = Test::new()
        .playbook(VAGRANT_PLAY)
        .args(&["-i", "vagrant", "--list-hosts"])
        .env("PATH", &empty.path().display().to_string())
        .expect(5);
    assert!(
        out.stderr.contains("error: `vagrant` is not installed or not on PATH;"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("BGRUN_VAGRANT_SSH_CONFIG"), "{}", out.stderr);
}

#[cfg(unix)]
fn write_program(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write program");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod program");
}

/// `bgrun inventory --list | head`: a closed stdout ends bgrun quietly, with no panic.
#[test]
fn a_closed_stdout_ends_quietly() {
    let mut hosts = String::from("[web]\n");
    for i in 0..2000 {
        hosts.push_str(&format!(
            "web{i} ansible_host=10.0.{}.{} role=frontend\n",
            i / 250,
            i % 250
        ));
    }
    let t = crate::harness::Test::new().file("hosts", &hosts);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bgrun"))
        .args(["inventory", "-i", "hosts", "--list"])
        .current_dir(t.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("bgrun runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("bgrun ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
