//! playbooks/prod.yml, the book's prod2.yml done by bgrun: from `lab/up --bare` (hosts, Docker
//! engine, registry and images only) it brings prod to what the full `lab/up` leaves (Consul,
//! nginx, haproxy and their data folders), a second run changes nothing, lab/status and lab/up
//! take what it started as their own, and playbooks/books-ms.yml deploys on it.
//!
//! It takes the lab to bare mode, so it must not run beside the other lab tests: it is ignored,
//! and scripts/test runs it on its own after them. It leaves the full lab (`lab/up`) behind, even
//! when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a program from the repository's root: its exit code and what it printed (stdout, then
/// stderr).
fn run(program: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn lab(script: &str, args: &[&str]) -> (i32, String) {
    run(&root().join("lab").join(script), args)
}

fn bgrun(args: &[&str]) -> (i32, String) {
    run(Path::new(env!("CARGO_BIN_EXE_bgrun")), args)
}

/// `changed=` of prod in the PLAY RECAP.
fn changed(out: &str) -> u64 {
    let line = out
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("prod ") && l.contains(" changed="))
        .unwrap_or_else(|| panic!("no PLAY RECAP line for prod:\n{out}"));
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("changed="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no changed= in `{line}`"))
}

fn books() -> String {
    let out = Command::new("curl")
        .args(["-s", "-m", "5", "http://127.0.0.3/api/v1/books"])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Brings the full lab back when the test ends, however it ends.
struct FullLab {
    armed: bool,
}

impl Drop for FullLab {
    fn drop(&mut self) {
        if self.armed {
            let (code, out) = lab("up", &[]);
            if code != 0 {
                eprintln!("lab/up failed while restoring the full lab:\n{out}");
            }
        }
    }
}

#[test]
#[ignore = "takes the lab to bare mode: scripts/test runs it on its own after the other tests"]
fn prod_provisioned_from_bare_then_deploys() {
    // The lab must be there (under CI=true as anywhere): a missing lab fails the test.
    crate::harness::require_lab();
    let mut restore = FullLab { armed: true };

    let (code, out) = lab("up", &["--bare"]);
    assert_eq!(code, 0, "lab/up --bare\n{out}");
    let (_, status) = lab("status", &[]);
    assert!(
        status.contains("off   consul") && status.contains("off   nginx") && status.contains("off   haproxy"),
        "bare mode runs no Consul, nginx or haproxy:\n{status}"
    );

    let prod = ["playbooks/prod.yml", "-i", "inventories/lab"];
    let (code, first) = bgrun(&prod);
    assert_eq!(code, 0, "first run of playbooks/prod.yml\n{first}");
    assert!(changed(&first) > 0, "the first run provisions prod:\n{first}");
    let (code, second) = bgrun(&prod);
    assert_eq!(code, 0, "second run of playbooks/prod.yml\n{second}");
    assert_eq!(changed(&second), 0, "a second run changes nothing:\n{second}");

    // lab/status sees what prod.yml started as the lab's own.
    let (code, status) = lab("status", &[]);
    assert_eq!(code, 0, "lab/status\n{status}");
    for what in ["consul", "nginx", "haproxy"] {
        assert!(
            status
                .lines()
                .any(|l| l.starts_with("ok") && l.split_whitespace().nth(1) == Some(what)),
            "lab/status: {what} is not ok\n{status}"
        );
    }
    assert!(
        !status.contains("DOWN") && !status.contains("off "),
        "lab/status\n{status}"
    );
    let pid = std::fs::read_to_string("/var/lib/bgrun-lab/run/consul.pid").expect("consul's pid file");
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", pid.trim())).unwrap_or_default();
    assert_eq!(
        comm.trim(),
        "consul",
        "the pid file lab/status and lab/down read names the agent"
    );
    let data = Path::new("/var/lib/bgrun-lab/prod/data");
    for dir in [
        "nginx/conf.d",
        "nginx/includes",
        "nginx/upstreams",
        "haproxy/conf.d",
        "haproxy/run",
        "consul/data",
    ] {
        assert!(data.join(dir).is_dir(), "no {}", data.join(dir).display());
    }
    assert!(data.join("haproxy/services.map").is_file());
    assert!(data.join("nginx/conf.d/services.conf").is_file());

    // Blue-green deploys on the provisioned prod.
    for version in ["1", "2"] {
        let (code, out) = bgrun(&[
            "playbooks/books-ms.yml",
            "-i",
            "inventories/lab",
            "-e",
            &format!("version={version}"),
        ]);
        assert_eq!(code, 0, "deploy of version {version}\n{out}");
        let answer = books();
        assert!(
            answer.contains(&format!(r#""version": "{version}""#)),
            "after the deploy of {version}, /api/v1/books says: {answer}"
        );
    }

    // The full lab/up keeps everything prod.yml started: nothing is restarted or reloaded.
    let (code, out) = lab("up", &[]);
    assert_eq!(code, 0, "lab/up\n{out}");
    for kept in [
        "consul: http://127.0.0.3:8500 up",
        "nginx: 127.0.0.3:80 up",
        "haproxy: 127.0.0.3:8081 up",
    ] {
        assert!(out.contains(kept), "lab/up changed something (no `{kept}`):\n{out}");
    }
    assert!(!out.contains("started") && !out.contains("reloaded"), "lab/up:\n{out}");
    restore.armed = false;
    let (code, status) = lab("status", &[]);
    assert_eq!(code, 0, "lab/status\n{status}");
    assert!(status.contains("lab: up (full)"), "{status}");
}
