//! A test builder: write a playbook and inventory into a temporary folder, run the real `bgrun`
//! binary, and look at what it printed and what it left on the lab's hosts.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

pub const LAB_KEY: &str = "/var/lib/bgrun-lab/ssh/id_ed25519";
pub const LAB_KNOWN_HOSTS: &str = "/var/lib/bgrun-lab/ssh/known_hosts";

/// Fails the test, with what to do, when the lab's SSH hosts are not up.
pub fn require_lab() {
    for address in ["127.0.0.2:22", "127.0.0.3:22"] {
        let addr: SocketAddr = address.parse().expect("valid address");
        if TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() || !Path::new(LAB_KEY).exists() {
            panic!("the lab is not up: no SSH server at {address} (or no key at {LAB_KEY}); run `lab/up` first");
        }
    }
}

/// An inventory of the lab's two hosts, as bgrun's users write one.
pub fn lab_inventory() -> String {
    format!(
        "[cd]\ncd ansible_host=127.0.0.2\n\n[prod]\nprod ansible_host=127.0.0.3 consul_addr=http://127.0.0.3:8500\n\n[all:vars]\nansible_user=root\nansible_ssh_private_key_file={LAB_KEY}\nansible_ssh_known_hosts_file={LAB_KNOWN_HOSTS}\n"
    )
}

/// Whether the tests run under CI (`CI` set, and not to `0` or `false`): there, a missing tool a
/// test needs fails it rather than skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

pub struct Test {
    pub dir: TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Output {
    /// The JSON events of an `--output json` run.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// A host's recap counters from JSON events.
    pub fn recap(&self, host: &str) -> serde_json::Value {
        self.events()
            .into_iter()
            .find(|e| e["event"] == "recap")
            .map(|e| e["hosts"][host].clone())
            .unwrap_or_default()
    }
}

impl Test {
    pub fn new() -> Self {
        Test {
            dir: tempfile::tempdir().expect("temporary folder"),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// A test against the lab's SSH hosts, with `inventory` written for them.
    pub fn lab() -> Self {
        require_lab();
        Test::new()
            .file("inventory", &lab_inventory())
            .arg("-i")
            .arg("inventory")
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn file(self, name: &str, content: &str) -> Self {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(path, content).expect("write file");
        self
    }

    pub fn playbook(self, content: &str) -> Self {
        self.file("play.yml", content).arg("play.yml")
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The bgrun command of this test, to spawn it by hand.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bgrun"));
        command
            .args(&self.args)
            .envs(self.env.iter().cloned())
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        command
    }

    pub fn run(&self) -> Output {
        let output = self.command().output().expect("run bgrun");
        Output {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code().unwrap_or(-1),
        }
    }

    /// Runs and asserts the exit code, showing the output when it differs.
    pub fn expect(&self, code: i32) -> Output {
        let out = self.run();
        assert_eq!(
            out.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout, out.stderr
        );
        out
    }
}

/// GETs a path of the lab's Consul HTTP API (`/v1/...`); the body, empty when there is none.
pub fn consul_get(path: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.3:8500{path}")])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Held by tests that assert what prod's Consul agent holds while `bgrun registrator` (which
/// re-registers and removes services of the whole host) may run in another test.
pub fn consul_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
