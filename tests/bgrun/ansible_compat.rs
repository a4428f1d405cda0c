//! The same playbook run by ansible-playbook and by bgrun on the lab's hosts, twice each: they
//! must leave the same files, contents and modes, and both second runs must change nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::compat::tree;
use crate::harness::require_lab;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `changed=` count of each host in a recap.
fn changed_counts(stdout: &str) -> Vec<(String, u32)> {
    stdout
        .lines()
        .filter(|l| l.contains(" : ok="))
        .map(|l| {
            let host = l.split(" : ").next().unwrap_or("").trim().to_string();
            let changed = l
                .split("changed=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(u32::MAX);
            (host, changed)
        })
        .collect()
}

fn run(program: &str, out: &Path) -> String {
    let fixture = repo().join("tests/fixtures/compat");
    let inventory = repo().join("inventories/lab");
    let output = Command::new(program)
        .arg(fixture.join("site.yml"))
        .arg("-i")
        .arg(&inventory)
        .arg("-e")
        .arg(format!("out={}", out.display()))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("NO_COLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}; install Debian's `ansible` (apt-get install ansible)"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{program} failed\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn bgrun_and_ansible_leave_the_same_result() {
    require_lab();
    let dir = tempfile::tempdir().expect("temporary folder");
    let by_ansible = dir.path().join("ansible");
    let by_bgrun = dir.path().join("bgrun");
    run("ansible-playbook", &by_ansible);
    let ansible_again = run("ansible-playbook", &by_ansible);
    run(env!("CARGO_BIN_EXE_bgrun"), &by_bgrun);
    let bgrun_again = run(env!("CARGO_BIN_EXE_bgrun"), &by_bgrun);
    let expected = tree(&by_ansible);
    assert!(expected.len() > 10, "ansible left too little: {expected:#?}");
    assert_eq!(tree(&by_bgrun), expected);
    let ansible_changed = changed_counts(&ansible_again);
    let bgrun_changed = changed_counts(&bgrun_again);
    assert_eq!(ansible_changed.len(), 2, "{ansible_again}");
    assert_eq!(
        bgrun_changed, ansible_changed,
        "second runs:\n--- ansible\n{ansible_again}\n--- bgrun\n{bgrun_again}"
    );
}
