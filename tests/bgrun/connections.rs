//! SSH masters kept between runs, as Ansible's ControlPersist keeps them: the next run reuses
//! the master, ssh closes it after the idle time (even when bgrun was killed), a stale socket is
//! replaced, and `--no-persist` closes it when the run ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Test;

const PING: &str = "- hosts: prod\n  gather_facts: false\n  tasks:\n    - ping:\n";

/// A lab test whose sockets go to a folder of its own (`XDG_RUNTIME_DIR`).
fn test(runtime: &Path) -> Test {
    Test::lab().env("XDG_RUNTIME_DIR", &runtime.display().to_string())
}

/// The control sockets of persistent masters in `runtime`.
fn sockets(runtime: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(runtime.join("bgrun"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
                    (name.starts_with("cp-") || name.starts_with("run-")) && p.extension().is_none()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The pid of the master listening on `socket`, as `ssh -O check` reports it.
fn master_pid(socket: &Path) -> Option<u32> {
    let out = Command::new("ssh")
        .args(["-S", &socket.display().to_string(), "-O", "check", "lab"])
        .output()
        .expect("ssh");
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    said.split("pid=").nth(1)?.split(')').next()?.parse().ok()
}

/// Whether the process `pid` ends within `limit`. Watched through /proc: asking the master
/// (`ssh -O check`) would count as a use and restart its idle time.
fn gone_within(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

#[test]
fn the_next_run_reuses_the_master_and_ssh_closes_it_when_idle() {
    let runtime = tempfile::tempdir().expect("runtime folder");
    let t = test(runtime.path())
        .env("ANSIBLE_SSH_ARGS", "-o ControlPersist=3s")
        .playbook(PING);
    t.expect(0);
    let found = sockets(runtime.path());
    assert_eq!(found.len(), 1, "one master for prod: {found:?}");
    let pid = master_pid(&found[0]).expect("the master outlives the run");
    t.expect(0);
    assert_eq!(master_pid(&found[0]), Some(pid), "the second run used the same master");
    assert!(
        gone_within(pid, Duration::from_secs(10)),
        "ssh closes the master after 3 s idle"
    );
    // The socket is gone with its master; the next run opens a new one without an error.
    t.expect(0);
    assert!(master_pid(&sockets(runtime.path())[0]).is_some());
}

#[test]
fn a_stale_socket_is_replaced_without_an_error() {
    let runtime = tempfile::tempdir().expect("runtime folder");
    let t = test(runtime.path()).playbook(PING);
    t.expect(0);
    let socket = sockets(runtime.path()).pop().expect("a master");
    let pid = master_pid(&socket).expect("running");
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    std::thread::sleep(Duration::from_millis(200));
    // A dead master leaves its socket file behind, or a file is in the way: either way, replaced.
    if !socket.exists() {
        std::fs::write(&socket, "").expect("a stale file");
    }
    t.expect(0);
    let again = master_pid(&socket).expect("a new master");
    assert_ne!(again, pid);
    let _ = Command::new("ssh")
        .args(["-S", &socket.display().to_string(), "-O", "exit", "lab"])
        .output();
}

#[test]
fn no_persist_closes_the_master_when_the_run_ends() {
    let runtime = tempfile::tempdir().expect("runtime folder");
    test(runtime.path()).playbook(PING).arg("--no-persist").expect(0);
    let left = sockets(runtime.path());
    assert!(left.iter().all(|s| master_pid(s).is_none()), "left running: {left:?}");
}

#[test]
fn a_killed_run_leaves_no_master_beyond_the_idle_time() {
    let runtime = tempfile::tempdir().expect("runtime folder");
    let t = test(runtime.path())
        .env("ANSIBLE_SSH_ARGS", "-o ControlPersist=2s")
        .playbook("- hosts: prod\n  gather_facts: false\n  tasks:\n    - ping:\n    - container_exec: container=nginx command=true\n    - command: sleep 30\n");
    let mut child = t
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bgrun");
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        if let Some(pid) = sockets(runtime.path()).pop().and_then(|s| master_pid(&s)) {
            break pid;
        }
        assert!(Instant::now() < deadline, "no master started");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Killed while its command runs, after Docker's socket was forwarded.
    let forward = format!("fwd-{}-", child.id());
    let forwards = || -> Vec<String> {
        std::fs::read_dir(runtime.path().join("bgrun"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.starts_with(&forward))
                    .collect()
            })
            .unwrap_or_default()
    };
    while forwards().is_empty() {
        assert!(Instant::now() < deadline, "Docker's socket was never forwarded");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // The remote `sleep 30` keeps its channel until the host ends it; ssh then waits 2 s idle.
    assert!(
        gone_within(pid, Duration::from_secs(45)),
        "the master outlived its idle time"
    );
    // The next run removes the forward's socket file the killed run could not.
    test(runtime.path()).playbook(PING).expect(0);
    assert_eq!(forwards(), Vec::<String>::new(), "the killed run's forward is left");
}

/// The SSH master closes after its idle time while the run waits on something that needs no
/// SSH (a pause here; a health wait or a check through the proxy in a deploy): the next step
/// that talks to Docker gets the master and its forwarded socket back.
#[test]
fn docker_works_after_the_master_closed_while_the_run_waited() {
    crate::harness::require_lab();
    let inventory = format!(
        "cd ansible_host=127.0.0.2 ansible_user=root ansible_ssh_private_key_file={} ansible_ssh_known_hosts_file={} docker_host=unix:///var/run/docker.sock ansible_ssh_args=\"-o ControlPersist=1\"\n",
        crate::harness::LAB_KEY,
        crate::harness::LAB_KNOWN_HOSTS
    );
    let t = Test::new()
        .file("inventory", &inventory)
        .args(&["-i", "inventory"])
        .playbook(
            "- hosts: cd\n  gather_facts: false\n  tasks:\n    - container: {name: bgrun-nothing-here, state: absent}\n    - pause: {seconds: 3}\n    - container: {name: bgrun-nothing-here, state: absent}\n",
        );
    let out = t.expect(0);
    assert!(out.stdout.contains("ok=3"), "{}", out.stdout);
}
