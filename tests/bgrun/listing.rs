//! `--graph`, `--list-tasks`, `--list-hosts` and `--syntax-check`: they load everything and run
//! nothing.

use crate::harness::Test;

const PLAY: &str = "- name: deploy\n  hosts: prod\n  steps:\n    - id: pull\n      command: echo pull\n    - id: config\n      needs: []\n      debug: msg=config\n      tags: [conf]\n    - id: up\n      needs: [pull, config]\n      command: echo up\n";

fn listing() -> Test {
    Test::new()
        .file("hosts", "[prod]\nweb[1:2] ansible_host=10.100.198.201\n[cd]\nci\n")
        .args(&["-i", "hosts"])
        .playbook(PLAY)
}

#[test]
fn graph_prints_dot() {
    let out = listing().arg("--graph").expect(0);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn list_tasks_and_hosts() {
    let out = listing().args(&["--list-tasks", "--list-hosts"]).expect(0);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn syntax_check_runs_nothing() {
    let out = listing().arg("--syntax-check").expect(0);
    assert_eq!(out.stdout, "playbook: play.yml\n");
}

#[test]
fn limit_narrows_hosts() {
    let out = listing().args(&["--list-hosts", "--limit", "web2"]).expect(0);
    assert!(out.stdout.contains("hosts (1):\n      web2\n"), "{}", out.stdout);
}

#[test]
fn the_books_playbooks_load_unchanged() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books-ms/ansible");
    for playbook in ["prod2.yml", "service.yml"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bgrun"))
            .args([playbook, "-i", "hosts/prod", "--syntax-check"])
            .current_dir(&dir)
            .output()
            .expect("bgrun runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{playbook}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("playbook: {playbook}\n"));
    }
    let tasks = std::process::Command::new(env!("CARGO_BIN_EXE_bgrun"))
        .args(["prod2.yml", "-i", "hosts/prod", "--list-tasks"])
        .current_dir(&dir)
        .output()
        .expect("bgrun runs");
    let listing = String::from_utf8_lossy(&tasks.stdout);
    for role in [
        "common",
        "docker",
        "docker-compose",
        "consul",
        "registrator",
        "consul-template",
        "nginx",
    ] {
        assert!(
            listing.contains(&format!("role {role}")),
            "{role} missing from\n{listing}"
        );
    }
}
