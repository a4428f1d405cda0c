//! Faults around a deploy, one test each, named for its outcome: the release that served before
//! keeps serving (a client asks through nginx all along and sees no failed request), nothing is
//! left half-done, and bgrun says what failed. Faults tested beside the deploys themselves
//! (tests/bgrun/blue_green.rs): a new color never healthy, a test after the switch that fails,
//! two deploys at once, SIGKILL before and after the switch, SIGTERM during a health wait.

use std::process::Command;

use crate::blue_green::{
    Client, JsonDeploy, books_version, color, deploy, deploy_ok, deploys, from_release_1, other, running,
};
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
    // Outside 127.0.0.0/24, where `lab/up --hosts N` puts its hosts (h99 at 127.0.0.99).
    fails_and_changes_nothing(
        &["-e", "ansible_host=127.0.1.99"],
        4,
        &["unreachable: [prod]", "127.0.1.99", "failed=0"],
    );
}

/// The Consul agent stopped (SIGSTOP: it holds its connections and answers nothing) when the
/// deploy starts: the lock cannot be taken, the deploy stops, and nginx keeps serving.
#[test]
fn the_consul_agent_stopped_at_the_start_stops_the_deploy_before_anything_changes() {
    let _lock = deploys();
    from_release_1();
    let before = state();
    let resume = consul_stopped();
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

/// The Consul agent stopped once the new color passes its checks, before the switch renders the
/// upstream from Consul: nginx is not touched and keeps serving the old release, bgrun says what
/// failed and what serves, and a run with Consul back converges on the new release.
#[test]
fn consul_going_down_after_the_new_color_is_up_keeps_the_old_release_serving() {
    let _lock = deploys();
    from_release_1();
    let serving = color();
    let client = Client::start(80, "/api/v1/books");
    let mut run = JsonDeploy::start("2");
    let up = run.until("the new color is registered and passes its checks", &["ok"]);
    assert!(up, "the new color never passed its checks:\n{}", run.seen.join("\n"));
    let resume = consul_stopped();
    let (code, out) = run.finish();
    served_throughout(&client.finish(), "1");
    drop(resume);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("does not answer"), "names the Consul it lost:\n{out}");
    assert!(
        out.contains(&format!("books-ms: {serving} (release 1) serves through nginx")),
        "says what serves:\n{out}"
    );
    assert_eq!(books_version(80).as_deref(), Some("1"), "{out}");
    deploy_ok_after_lock_ttl("2");
    assert_eq!(books_version(80).as_deref(), Some("2"));
}

/// Deploys `version`, waiting out the lock of a run that could not release it.
fn deploy_ok_after_lock_ttl(version: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        let (code, out) = deploy(version, &[]);
        if code == 0 {
            return;
        }
        assert!(
            out.contains("lock") && std::time::Instant::now() < deadline,
            "deploy of {version}:\n{out}"
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

/// Stops the lab's Consul agent (SIGSTOP: it holds its connections and answers nothing) until the
/// returned guard is dropped.
fn consul_stopped() -> Resume {
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
    resume
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

/// The registry down (nothing answers at its address): the pull fails, naming the registry and
/// the refused connection, and the deploy stops before anything starts.
#[test]
fn the_registry_down_stops_the_deploy_before_anything_starts() {
    let _lock = deploys();
    from_release_1();
    let down = "127.0.0.2:5002";
    assert!(
        std::net::TcpStream::connect(down).is_err(),
        "nothing may listen on {down}"
    );
    let out = fails_and_changes_nothing(&["-e", &format!("registry={down}")], 2, &[down]);
    assert!(out.to_lowercase().contains("connection refused"), "says why:\n{out}");
}

/// The upstream rendered for the new color is one nginx refuses (a `server` line without its
/// `;`): `nginx -t` refuses it before any reload, the upstream nginx had is put back, and the
/// deploy is reverted with the old release serving all along and the new color stopped (its
/// record gone: the release it held before was replaced, then stopped).
#[test]
fn an_upstream_nginx_refuses_is_never_loaded_and_the_old_one_stays() {
    let _lock = deploys();
    from_release_1();
    let upstream = "/var/lib/bgrun-lab/prod/data/nginx/upstreams/books-ms.conf";
    let before = std::fs::read_to_string(upstream).expect("the upstream nginx serves");
    let serving = color();
    let next = other(&serving);
    let templates = tempfile::tempdir().expect("temporary folder");
    let book = std::fs::read_to_string(format!(
        "{}/playbooks/books-ms/nginx-upstreams-{serving}.ctmpl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the book's upstream template");
    std::fs::write(templates.path().join(format!("up-{serving}.ctmpl")), book).expect("write");
    std::fs::write(
        templates.path().join(format!("up-{next}.ctmpl")),
        format!(
            "upstream books-ms {{\n{{{{range service \"books-ms-{next}\" \"any\"}}}}    server {{{{.Address}}}}:{{{{.Port}}}}\n{{{{end}}}}}}\n"
        ),
    )
    .expect("write");
    let variable = format!("nginx_upstream={}/up-{{{{ color }}}}.ctmpl", templates.path().display());
    let client = Client::start(80, "/api/v1/books");
    let (code, out) = deploy("2", &["-e", &variable]);
    served_throughout(&client.finish(), "1");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("nginx refused the upstream of") && out.contains("nginx keeps serving it"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(upstream).expect("the upstream"), before);
    // Reverted: the old color serves, the new one is stopped and holds no release any more.
    assert_eq!(color(), serving, "{out}");
    assert_eq!(running("books-ms", next), "false", "{out}");
    assert_eq!(consul_get(&format!("/v1/kv/books-ms/releases/{serving}?raw")), "1");
    assert_eq!(consul_get(&format!("/v1/kv/books-ms/releases/{next}?raw")), "", "{out}");
    assert!(
        !consul_get("/v1/kv/books-ms/lock").contains("\"Session\""),
        "the lock is released"
    );
}

/// A backend HAProxy refuses (`haproxy -c` in its container): the files HAProxy starts from are
/// put back as they were, HAProxy is never switched, the deploy is reverted, and the release it
/// served keeps serving.
#[test]
fn a_backend_haproxy_refuses_is_taken_back_and_the_old_one_stays() {
    let _lock = deploys();
    from_release_1();
    deploy_ok("2", &["-e", "proxy=haproxy"]);
    let backend = "/var/lib/bgrun-lab/prod/data/haproxy/conf.d/books-ms.cfg";
    let map = "/var/lib/bgrun-lab/prod/data/haproxy/services.map";
    let before = (read(backend), read(map));
    let serving = color();
    let next = other(&serving);
    let templates = tempfile::tempdir().expect("temporary folder");
    let refused = templates.path().join("backend.cfg.j2");
    std::fs::write(
        &refused,
        "backend {{ service }}\n    mode http\n    balance no-such-algorithm\n    server {{ bg_to }} {{ bg_to_instances[0].Address }}:{{ bg_to_instances[0].Port }}\n",
    )
    .expect("write");
    let variable = format!("haproxy_backend={}", refused.display());
    let client = Client::start(8081, "/api/v1/books");
    let (code, out) = deploy("1", &["-e", "proxy=haproxy", "-e", &variable]);
    served_throughout(&client.finish(), "2");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("HAProxy refused the backend of") && out.contains("books-ms.cfg:3] : balance only supports"),
        "{out}"
    );
    assert_eq!((read(backend), read(map)), before, "{out}");
    assert_eq!(color(), serving, "{out}");
    assert_eq!(running("books-ms", next), "false", "{out}");
    assert_eq!(consul_get(&format!("/v1/kv/books-ms/releases/{next}?raw")), "", "{out}");
    assert!(
        !consul_get("/v1/kv/books-ms/lock").contains("\"Session\""),
        "the lock is released"
    );
    // nginx back on a serving color for the other tests.
    from_release_1();
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
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

/// A host of the test's own: an sshd with the lab's keys on `address`:2222, so that killing it
/// disturbs no other test. [`Sshd::kill`] kills it with every session it serves (SIGKILL: the
/// connections drop without a goodbye); [`Sshd::start`] starts it again.
struct Sshd {
    dir: tempfile::TempDir,
    address: &'static str,
    child: Option<std::process::Child>,
}

impl Sshd {
    fn new(address: &'static str) -> Sshd {
        let dir = tempfile::tempdir().expect("temporary folder");
        let lab = std::fs::read_to_string("/var/lib/bgrun-lab/sshd/cd/sshd_config").expect("the lab's sshd config");
        let config: String = lab
            .lines()
            .filter(|l| !l.starts_with("ListenAddress") && !l.starts_with("PidFile"))
            .map(|l| format!("{l}\n"))
            .collect();
        let config = format!(
            "ListenAddress {address}:2222\nPidFile {}/sshd.pid\n{config}",
            dir.path().display()
        );
        std::fs::write(dir.path().join("sshd_config"), config).expect("sshd config");
        let key = std::fs::read_to_string("/var/lib/bgrun-lab/sshd/cd/ssh_host_ed25519_key.pub").expect("host key");
        let key: Vec<&str> = key.split_whitespace().take(2).collect();
        std::fs::write(
            dir.path().join("known_hosts"),
            format!("[{address}]:2222 {}\n", key.join(" ")),
        )
        .expect("known hosts");
        let mut sshd = Sshd {
            dir,
            address,
            child: None,
        };
        sshd.start();
        sshd
    }

    fn start(&mut self) {
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(self.dir.path().join("sshd_config"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("sshd");
        self.child = Some(child);
        let address: std::net::SocketAddr = format!("{}:2222", self.address).parse().expect("address");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(std::time::Instant::now() < deadline, "sshd did not listen on {address}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    fn kill(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let mut tree = vec![child.id()];
        let mut i = 0;
        while i < tree.len() {
            tree.extend(children(tree[i]));
            i += 1;
        }
        // Only sshd itself: the commands of its sessions lose their connection, not their life.
        tree.retain(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sshd"));
        for pid in &tree {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        let _ = child.wait();
    }

    fn inventory(&self) -> String {
        format!(
            "own ansible_host={} ansible_port=2222 ansible_user=root ansible_ssh_private_key_file={} ansible_ssh_known_hosts_file={}\n",
            self.address,
            crate::harness::LAB_KEY,
            self.dir.path().join("known_hosts").display()
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The processes whose parent is `pid`, from /proc.
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = stat.rsplit_once(')')?.1.to_string();
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// The files in `dir`, by name.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The connection to a host lost while a big file is sent (its sshd killed with the session):
/// the file on the host stays the old one, whole, nothing staged is left beside it, bgrun says
/// the host became unreachable, and the next run, with sshd back, writes the new file.
#[test]
fn a_connection_lost_mid_transfer_leaves_the_old_file_whole() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let dest = folder.path().join("big.bin");
    std::fs::write(&dest, "old\n").expect("the old file");
    crate::harness::require_lab();
    let mut sshd = Sshd::new("127.0.0.61");
    let t = Test::new()
        .file("inventory", &sshd.inventory())
        .file("files/big.bin", &"x".repeat(768 << 20))
        .args(&["-i", "inventory"])
        .playbook(&format!(
            "- hosts: own\n  gather_facts: false\n  tasks:\n    - copy: src=big.bin dest={}\n",
            dest.display()
        ));
    let mut run = spawn(&t);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !names(folder.path()).iter().any(|n| n.starts_with(".bgrun.")) {
        if std::time::Instant::now() > deadline || run.try_wait().expect("wait").is_some() {
            sshd.kill();
            let out = run.wait_with_output().expect("bgrun ends");
            panic!(
                "the transfer never started: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    sshd.kill();
    let out = run.wait_with_output().expect("bgrun ends");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("unreachable: [own]"), "{text}");
    // The remote shell may outlive its connection a moment: give it time to clean up.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(std::fs::read_to_string(&dest).expect("the old file"), "old\n");
    assert_eq!(names(folder.path()), vec!["big.bin".to_string()], "{text}");
    sshd.start();
    t.expect(0);
    assert_eq!(std::fs::metadata(&dest).expect("the new file").len(), 768 << 20);
}

/// sshd killed with its sessions while a command runs on the host: the step is reported with the
/// host unreachable, the steps after it do not run there, and the next run converges.
#[test]
fn sshd_killed_in_the_middle_of_a_step_is_reported_and_the_next_run_converges() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let marker = folder.path().join("after");
    crate::harness::require_lab();
    let mut sshd = Sshd::new("127.0.0.62");
    let t = Test::new()
        .file("inventory", &sshd.inventory())
        .args(&["-i", "inventory"])
        .playbook(&format!(
            "- hosts: own\n  gather_facts: false\n  tasks:\n    - command: sleep 3\n    - file: path={} state=touch\n",
            marker.display()
        ));
    let run = spawn(&t);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    sshd.kill();
    let out = run.wait_with_output().expect("bgrun ends");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("unreachable: [own]"), "{text}");
    assert!(!marker.exists(), "the step after ran: {text}");
    sshd.start();
    t.expect(0);
    assert!(marker.exists());
}

/// Starts a test's bgrun with its output captured.
fn spawn(t: &Test) -> std::process::Child {
    t.command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("bgrun starts")
}
