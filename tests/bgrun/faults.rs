//! Faults around a deploy, one test each, named for its outcome: the release that served before
//! keeps serving (a client asks through nginx all along and sees no failed request), nothing is
//! left half-done, and bgrun says what failed. Faults tested beside the deploys themselves
//! (tests/bgrun/blue_green.rs): a new color never healthy, a test after the switch that fails,
//! two deploys at once, SIGKILL before and after the switch, SIGTERM during a health wait.

use std::process::Command;

use crate::blue_green::{Client, books_version, color, deploy, deploys, from_release_1, other, running};
use crate::harness::{Test, consul_get, lab_inventory};

/// Asserts that every answer the client saw was release `version`'s, with status 200.
fn served_throughout(seen: &[(u16, String)], version: &str) {
    assert!(!seen.is_empty(), "the client asked nothing");
    let wanted = format!("\"version\":\"{version}\"");
    let bad = seen
        .iter()
        .find(|(status, body)| *status != 200 || !body.replace(' ', "").contains(&wanted));
    assert!(bad.is_none(), "a request failed or got another release: {bad:?}");
}

/// What serves and what Consul holds, to compare before and after a fault.
fn state() -> (Option<String>, String, String, String) {
    let now = color();
    let other_running = running("books-ms", other(&now));
    (
        books_version(80),
        now,
        other_running,
        consul_get("/v1/kv/books-ms/releases/?recurse"),
    )
}

/// A deploy with `extra` arguments under a fault: exit `code`, the output naming `expected`, and
/// release 1 serving all along with nothing changed.
fn fails_and_changes_nothing(extra: &[&str], code: i32, expected: &[&str]) -> String {
    let before = state();
    assert_eq!(before.0.as_deref(), Some("1"));
    let client = Client::start(80, "/api/v1/books");
    let (got, out) = deploy("2", extra);
    served_throughout(&client.finish(), "1");
    assert_eq!(got, code, "{out}");
    for words in expected {
        assert!(out.contains(words), "the output does not say `{words}`:\n{out}");
    }
    assert_eq!(
        state(),
        before,
        "the fault changed what serves or what Consul holds:\n{out}"
    );
    assert!(
        !consul_get("/v1/kv/books-ms/lock").contains("\"Session\""),
        "the lock is released"
    );
    out
}

#[test]
fn a_host_unreachable_at_the_start_is_reported_and_nothing_changes() {
    let _lock = deploys();
    from_release_1();
    fails_and_changes_nothing(
        &["-e", "ansible_host=127.0.0.99"],
        4,
        &["unreachable: [prod]", "127.0.0.99", "failed=0"],
    );
}

/// The Consul agent stopped (SIGSTOP: it holds its connections and answers nothing) when the
/// deploy starts: the lock cannot be taken, the deploy stops, and nginx keeps serving.
#[test]
fn the_consul_agent_stopped_at_the_start_stops_the_deploy_before_anything_changes() {
    let _lock = deploys();
    from_release_1();
    let before = state();
    let pid = std::fs::read_to_string("/var/lib/bgrun-lab/run/consul.pid").expect("the lab's Consul pid");
    let pid = pid.trim().to_string();
    let resume = Resume(pid.clone());
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let client = Client::start(80, "/api/v1/books");
    let (code, out) = deploy("2", &[]);
    served_throughout(&client.finish(), "1");
    drop(resume);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("Consul at http://127.0.0.3:8500 does not answer"),
        "names the Consul it could not reach:\n{out}"
    );
    assert_eq!(state(), before, "{out}");
}

/// Sends SIGCONT to a stopped process when dropped, however the test ends.
struct Resume(String);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

#[test]
fn a_release_missing_from_the_registry_stops_the_deploy_before_anything_starts() {
    let _lock = deploys();
    from_release_1();
    let before = state();
    let client = Client::start(80, "/api/v1/books");
    let (code, out) = deploy("no-such-release", &[]);
    served_throughout(&client.finish(), "1");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("books-ms:no-such-release"), "names the image:\n{out}");
    assert_eq!(state(), before, "{out}");
}

/// The host's Docker engine cannot be reached (its socket is not there): the deploy stops before
/// anything starts, naming the socket.
#[test]
fn the_docker_engine_unreachable_stops_the_deploy_before_anything_starts() {
    let _lock = deploys();
    from_release_1();
    fails_and_changes_nothing(
        &["-e", "docker_host=unix:///var/lib/bgrun-lab/run/no-docker-here.sock"],
        2,
        &["no-docker-here.sock"],
    );
}

/// A full disk on the host while a file is written: the old file is intact, nothing half-written
/// is left beside it, and the error says the disk is full.
#[test]
fn a_full_disk_keeps_the_old_file_and_says_so() {
    let disk = tempfile::tempdir().expect("temporary folder");
    let mount = disk.path().display().to_string();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs", &mount])
        .status()
        .expect("mount");
    assert!(
        mounted.success(),
        "mount a 64 KiB tmpfs on {mount} (the tests run as root)"
    );
    let _unmount = Unmount(mount.clone());
    std::fs::write(disk.path().join("app.conf"), "old\n").expect("the old file");
    let big = "x".repeat(200 * 1024);
    let t = Test::new()
        .file("inventory", &lab_inventory())
        .file("files/big.conf", &big)
        .args(&["-i", "inventory"])
        .playbook(&format!(
            "- hosts: cd\n  gather_facts: false\n  tasks:\n    - copy: src=big.conf dest={mount}/app.conf\n"
        ));
    let out = t.expect(2);
    assert!(out.stdout.contains("No space left on device"), "{}", out.stdout);
    assert_eq!(
        std::fs::read_to_string(disk.path().join("app.conf")).expect("old file"),
        "old\n"
    );
    let left: Vec<_> = std::fs::read_dir(disk.path())
        .expect("read")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["app.conf".to_string()], "nothing half-written is left");
}

/// Unmounts a test's filesystem when dropped.
struct Unmount(String);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}
