//! The provisioning modules on the lab's SSH hosts (which share this machine's filesystem and
//! packages): each one's first run changes the host, a second run changes nothing, and a check
//! run changes nothing while reporting what it would do. Users, groups, services, packages and
//! sources get `bgrun-test-` names and are removed afterwards, even when a test fails.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use crate::harness::{Output, Test};

/// Tests that use apt run one at a time: they share the host's package database.
static APT: Mutex<()> = Mutex::new(());

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("file exists").permissions().mode() & 0o7777
}

fn sh(script: &str) -> std::process::Output {
    Command::new("sh").args(["-c", script]).output().expect("run sh")
}

/// A host's recap counter from a `--output json` run.
fn count(out: &Output, host: &str, key: &str) -> u64 {
    out.recap(host)[key].as_u64().unwrap_or(u64::MAX)
}

fn assert_counts(out: &Output, host: &str, ok: u64, changed: u64) {
    assert_eq!(
        (count(out, host, "ok"), count(out, host, "changed")),
        (ok, changed),
        "ok and changed of {host}\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout,
        out.stderr
    );
}

/// Runs bgrun in a lab test's folder, with its inventory, and asserts the exit code.
fn bgrun(t: &Test, args: &[&str], code: i32) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_bgrun"))
        .args(["-i", "inventory"])
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(t.path())
        .output()
        .expect("run bgrun");
    let out = Output {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    };
    assert_eq!(
        out.code, code,
        "exit code of bgrun {args:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
    out
}

/// As [`bgrun`], with JSON events for the recap's counters.
fn json(t: &Test, args: &[&str], code: i32) -> Output {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    bgrun(t, &all, code)
}

/// Runs a shell command when dropped, to clean up after a test that may fail.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = sh(&self.0);
    }
}

#[test]
fn setup_gathers_facts_under_ansible_names() {
    let play = "- hosts: prod\n  gather_facts: false\n  steps:\n    - setup:\n    - assert:\n        that:\n          - ansible_distribution == 'Debian'\n          - ansible_os_family == 'Debian'\n          - ansible_distribution_major_version | int >= 11\n          - ansible_distribution_release | length > 0\n          - ansible_system == 'Linux'\n          - ansible_architecture == ansible_machine\n          - ansible_memtotal_mb > 0\n          - ansible_processor_vcpus >= 1\n          - ansible_default_ipv4.address is defined\n          - ansible_default_ipv4.interface is defined\n          - ansible_env.HOME == '/root'\n          - ansible_user_id == 'root'\n          - ansible_hostname | length > 0\n          - ansible_date_time.year | int >= 2024\n          - ansible_service_mgr | length > 0\n          - ansible_pkg_mgr == 'apt'\n          - ansible_facts.distribution == ansible_distribution\n    - setup:\n        gather_subset: '!all'\n        filter: ['ansible_distribution*', 'ansible_memtotal_mb']\n      register: minimal\n    - assert:\n        that:\n          - minimal.ansible_facts.ansible_distribution == 'Debian'\n          - \"'ansible_memtotal_mb' not in minimal.ansible_facts\"\n          - \"'ansible_env' not in minimal.ansible_facts\"\n          - not minimal.changed\n";
    let out = Test::lab().playbook(play).args(&["--output", "json"]).expect(0);
    assert_counts(&out, "prod", 4, 0);
}

#[test]
fn gather_facts_sets_facts_before_the_first_step() {
    let play = "- hosts: cd:prod\n  steps:\n    - assert:\n        that: ansible_distribution == 'Debian' and ansible_env.HOME == '/root'\n";
    let out = Test::lab().playbook(play).args(&["--output", "json"]).expect(0);
    assert_counts(&out, "cd", 2, 0);
    assert_counts(&out, "prod", 2, 0);
}

#[test]
fn stat_registers_ansible_keys_with_a_sha1_checksum() {
    let t = Test::lab();
    let d = t.path();
    std::fs::write(d.join("conf"), "port=8080\n").unwrap();
    std::fs::set_permissions(d.join("conf"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink(d.join("conf"), d.join("link")).unwrap();
    let sha1 = sh(&format!("sha1sum {}/conf", d.display())).stdout;
    let sha1 = String::from_utf8_lossy(&sha1)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - stat: path={d}/conf\n      register: f\n    - stat: path={d}/link\n      register: l\n    - stat: path={d}/nope\n      register: n\n    - stat: path={d} get_checksum=no\n      register: dir\n    - assert:\n        that:\n          - f.stat.exists and f.stat.isreg and not f.stat.isdir and not f.stat.islnk\n          - f.stat.mode == '0640'\n          - f.stat.size == 10\n          - f.stat.uid == 0 and f.stat.pw_name == 'root' and f.stat.gr_name == 'root'\n          - f.stat.checksum == '{sha1}'\n          - f.stat.mtime > 0\n          - l.stat.islnk and l.stat.lnk_source == '{d}/conf'\n          - not n.stat.exists\n          - dir.stat.isdir and dir.stat.checksum is not defined\n          - not f.changed\n",
        d = d.display()
    );
    let out = t.playbook(&play).args(&["--output", "json"]).expect(0);
    assert_counts(&out, "prod", 5, 0);
}

#[test]
fn lineinfile_replaces_inserts_removes_and_converges() {
    let t = Test::lab();
    let d = t.path();
    let conf = d.join("app.conf");
    let original = "# app\nport=80\n[main]\ndebug=true\n";
    std::fs::write(&conf, original).unwrap();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - lineinfile: path={c} regexp='^port=' line=port=8080\n    - lineinfile:\n        path: {c}\n        insertafter: '^\\[main\\]'\n        line: workers=4\n    - lineinfile: path={c} regexp='^debug=' state=absent\n    - lineinfile:\n        path: {d}/new/created.conf\n        line: hello\n        create: true\n        mode: '0600'\n    - lineinfile:\n        path: {c}\n        regexp: '^# (\\w+)$'\n        line: '# \\1 config'\n        backrefs: true\n",
        c = conf.display(),
        d = d.display()
    );
    let t = t.file("play.yml", &play);
    let checked = bgrun(&t, &["play.yml", "--check", "--diff"], 0);
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), original);
    assert!(!d.join("new").exists());
    assert!(checked.stdout.contains("-port=80\n+port=8080"), "{}", checked.stdout);
    assert!(checked.stdout.contains("+workers=4"), "{}", checked.stdout);
    let first = json(&t, &["play.yml"], 0);
    assert_counts(&first, "prod", 5, 5);
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "# app config\nport=8080\n[main]\nworkers=4\n"
    );
    assert_eq!(std::fs::read_to_string(d.join("new/created.conf")).unwrap(), "hello\n");
    assert_eq!(mode(&d.join("new/created.conf")), 0o600);
    let second = json(&t, &["play.yml"], 0);
    assert_counts(&second, "prod", 5, 0);
    let check_again = json(&t, &["play.yml", "--check"], 0);
    assert_counts(&check_again, "prod", 5, 0);
}

#[test]
fn lineinfile_fails_on_a_missing_file_without_create() {
    let t = Test::lab();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - lineinfile: path={}/none line=x\n",
        t.path().display()
    );
    let out = t.playbook(&play).expect(2);
    assert!(out.stdout.contains("does not exist !"), "{}", out.stdout);
}

#[test]
fn group_and_user_are_created_converged_and_removed() {
    let group = unique("bgrun-test-g");
    let user = unique("bgrun-test-u");
    let _cleanup = Cleanup(format!("userdel -r {user} 2>/dev/null; groupdel {group} 2>/dev/null"));
    // A crypt hash of "secret"; it must not appear in the output.
    let hash = "$6$bgruntest$3Hbbv5mYxY.9bzmK0rD2bd0nUn7TdrZ9C2G0wZ2y6oe7xSgVzF8qGn5fRMXQeRY6vNfN0nT9h2oG1o8R1hVQJ0";
    let t = Test::lab();
    let present = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - group: name={group} system=yes\n    - user:\n        name: {user}\n        group: {group}\n        groups: [users]\n        shell: /bin/sh\n        comment: bgrun test\n        create_home: false\n        home: /nonexistent/{user}\n        password: '{hash}'\n      register: u\n    - assert:\n        that:\n          - u.password == 'NOT_LOGGING_PASSWORD'\n          - u.shell == '/bin/sh'\n          - u.name == '{user}'\n"
    );
    let absent = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - user: name={user} state=absent\n    - group: name={group} state=absent\n"
    );
    let t = t.file("present.yml", &present).file("absent.yml", &absent);
    let checked = json(&t, &["present.yml", "--check"], 0);
    assert_counts(&checked, "prod", 3, 2);
    assert!(!sh(&format!("getent group {group}")).status.success());
    assert!(!sh(&format!("getent passwd {user}")).status.success());

    let first = json(&t, &["present.yml", "-v"], 0);
    assert_counts(&first, "prod", 3, 2);
    assert!(!first.stdout.contains(hash), "the hash leaked: {}", first.stdout);
    let passwd = String::from_utf8_lossy(&sh(&format!("getent passwd {user}")).stdout).into_owned();
    assert!(
        passwd.contains(":bgrun test:/nonexistent/") && passwd.trim_end().ends_with(":/bin/sh"),
        "{passwd}"
    );
    let groups = String::from_utf8_lossy(&sh(&format!("id -nG {user}")).stdout).into_owned();
    assert_eq!(groups.split_whitespace().collect::<Vec<_>>(), [group.as_str(), "users"]);
    let shadow = String::from_utf8_lossy(&sh(&format!("getent shadow {user}")).stdout).into_owned();
    assert!(shadow.contains(hash), "{shadow}");

    let second = json(&t, &["present.yml"], 0);
    assert_counts(&second, "prod", 3, 0);

    // A changed property is changed alone.
    let shell = present.replace("shell: /bin/sh", "shell: /bin/bash");
    std::fs::write(t.path().join("present.yml"), shell).unwrap();
    let out = json(&t, &["present.yml"], 2);
    // The assert on the old shell fails, after the user was changed.
    assert_counts(&out, "prod", 2, 1);
    assert!(String::from_utf8_lossy(&sh(&format!("getent passwd {user}")).stdout).contains(":/bin/bash"));

    let checked = json(&t, &["absent.yml", "--check"], 0);
    assert_counts(&checked, "prod", 2, 2);
    assert!(sh(&format!("getent passwd {user}")).status.success());
    let removed = json(&t, &["absent.yml"], 0);
    assert_counts(&removed, "prod", 2, 2);
    assert!(!sh(&format!("getent passwd {user}")).status.success());
    assert!(!sh(&format!("getent group {group}")).status.success());
    let again = json(&t, &["absent.yml"], 0);
    assert_counts(&again, "prod", 2, 0);
}

#[test]
fn user_fails_for_a_missing_group() {
    let user = unique("bgrun-test-u");
    let _cleanup = Cleanup(format!("userdel {user} 2>/dev/null"));
    let out = Test::lab()
        .playbook(&format!(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - user: name={user} groups=bgrun-no-such-group create_home=no\n"
        ))
        .expect(2);
    assert!(
        out.stdout.contains("Group bgrun-no-such-group does not exist"),
        "{}",
        out.stdout
    );
    assert!(!sh(&format!("getent passwd {user}")).status.success());
}

#[test]
fn service_controls_an_init_script_and_its_boot_links() {
    let name = unique("bgrun-test-svc");
    let t = Test::lab();
    let d = t.path();
    let script = format!(
        "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          {name}\n# Required-Start:\n# Required-Stop:\n# Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n# Short-Description: bgrun test service\n### END INIT INFO\nPIDFILE={d}/pid\nLOG={d}/log\nrunning() {{ [ -f \"$PIDFILE\" ] && kill -0 \"$(cat \"$PIDFILE\")\" 2>/dev/null; }}\ncase \"$1\" in\n  start) running && exit 0; echo start >> \"$LOG\"; sleep 3600 </dev/null >/dev/null 2>&1 & echo $! > \"$PIDFILE\" ;;\n  stop) if running; then kill \"$(cat \"$PIDFILE\")\"; fi; rm -f \"$PIDFILE\"; echo stop >> \"$LOG\" ;;\n  restart) \"$0\" stop; \"$0\" start ;;\n  reload) running || exit 7; echo reload >> \"$LOG\" ;;\n  status) running && exit 0; exit 3 ;;\n  *) exit 2 ;;\nesac\n",
        d = d.display()
    );
    let init = format!("/etc/init.d/{name}");
    std::fs::write(&init, script).unwrap();
    std::fs::set_permissions(&init, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _cleanup = Cleanup(format!(
        "[ -f {d}/pid ] && kill $(cat {d}/pid); update-rc.d -f {name} remove >/dev/null 2>&1; rm -f {init}",
        d = d.display()
    ));
    let running = || {
        std::fs::read_to_string(d.join("pid"))
            .ok()
            .is_some_and(|pid| sh(&format!("kill -0 {}", pid.trim())).status.success())
    };
    let start_links = || sh(&format!("ls /etc/rc2.d/S??{name}")).status.success();
    let log = || std::fs::read_to_string(d.join("log")).unwrap_or_default();
    let t = t
        .file(
            "start.yml",
            &format!(
                "- hosts: prod\n  gather_facts: false\n  steps:\n    - service: name={name} state=started enabled=yes\n"
            ),
        )
        .file(
            "bounce.yml",
            &format!(
                "- hosts: prod\n  gather_facts: false\n  steps:\n    - service: name={name} state=restarted\n    - systemd: name={name} state=reloaded\n"
            ),
        )
        .file(
            "stop.yml",
            &format!(
                "- hosts: prod\n  gather_facts: false\n  steps:\n    - service: name={name} state=stopped enabled=no\n"
            ),
        );

    let checked = json(&t, &["start.yml", "--check"], 0);
    assert_counts(&checked, "prod", 1, 1);
    assert!(!running() && !start_links());

    let first = json(&t, &["start.yml"], 0);
    assert_counts(&first, "prod", 1, 1);
    assert!(running(), "the service runs");
    assert!(start_links(), "the service starts at boot");
    let second = json(&t, &["start.yml"], 0);
    assert_counts(&second, "prod", 1, 0);

    let bounced = json(&t, &["bounce.yml"], 0);
    assert_counts(&bounced, "prod", 2, 2);
    assert_eq!(log(), "start\nstop\nstart\nreload\n");
    assert!(running());

    let checked = json(&t, &["stop.yml", "--check"], 0);
    assert_counts(&checked, "prod", 1, 1);
    assert!(running() && start_links());
    let stopped = json(&t, &["stop.yml"], 0);
    assert_counts(&stopped, "prod", 1, 1);
    assert!(!running() && !start_links());
    let again = json(&t, &["stop.yml"], 0);
    assert_counts(&again, "prod", 1, 0);
}

#[test]
fn service_fails_for_an_unknown_service() {
    let out = Test::lab()
        .playbook(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - service: name=bgrun-no-such-service state=started\n",
        )
        .expect(2);
    assert!(
        out.stdout
            .contains("Could not find the requested service bgrun-no-such-service"),
        "{}",
        out.stdout
    );
}

fn installed(package: &str) -> bool {
    let out = sh(&format!("dpkg-query -W -f='${{Status}}' {package} 2>/dev/null"));
    String::from_utf8_lossy(&out.stdout).ends_with(" installed")
}

#[test]
fn apt_installs_and_removes_a_package() {
    let _apt = APT.lock().unwrap_or_else(|e| e.into_inner());
    let package = "sl";
    if installed(package) {
        panic!("`{package}` is installed already; this test installs and removes it");
    }
    let _cleanup = Cleanup(format!(
        "dpkg-query -W -f='${{Status}}' {package} 2>/dev/null | grep -q ' installed$' && DEBIAN_FRONTEND=noninteractive apt-get remove -y -q {package} >/dev/null 2>&1"
    ));
    let t = Test::lab()
        .file(
            "present.yml",
            &format!(
                "- hosts: prod\n  gather_facts: false\n  steps:\n    - apt:\n        name: [{package}]\n        state: present\n        update_cache: true\n        cache_valid_time: 604800\n        install_recommends: false\n      register: r\n    - apt: name={package} state=latest\n"
            ),
        )
        .file(
            "absent.yml",
            &format!(
                "- hosts: prod\n  gather_facts: false\n  steps:\n    - apt: name={package} state=absent purge=yes\n"
            ),
        );
    let checked = json(&t, &["present.yml", "--check"], 0);
    assert!(count(&checked, "prod", "changed") >= 1, "{}", checked.stdout);
    assert!(!installed(package));

    let first = json(&t, &["present.yml"], 0);
    assert_eq!(count(&first, "prod", "changed"), 1, "{}", first.stdout);
    assert!(installed(package));
    let second = json(&t, &["present.yml"], 0);
    assert_counts(&second, "prod", 2, 0);

    let checked = json(&t, &["absent.yml", "--check"], 0);
    assert_counts(&checked, "prod", 1, 1);
    assert!(installed(package));
    let removed = json(&t, &["absent.yml"], 0);
    assert_counts(&removed, "prod", 1, 1);
    assert!(!installed(package));
    let again = json(&t, &["absent.yml"], 0);
    assert_counts(&again, "prod", 1, 0);
}

#[test]
fn apt_fails_for_an_unknown_package() {
    let out = Test::lab()
        .playbook("- hosts: prod\n  gather_facts: false\n  steps:\n    - apt: name=bgrun-no-such-package\n")
        .args(&["--check"])
        .expect(2);
    assert!(
        out.stdout
            .contains("No package matching 'bgrun-no-such-package' is available"),
        "{}",
        out.stdout
    );
}

/// Ansible's file name for a source line's URL.
fn source_file_name(url: &str) -> String {
    url.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

#[test]
fn apt_repository_adds_and_removes_a_source() {
    let _apt = APT.lock().unwrap_or_else(|e| e.into_inner());
    let t = Test::lab();
    let d = t.path();
    // A valid, empty local repository, so that any `apt-get update` meanwhile still works.
    std::fs::create_dir_all(d.join("repo")).unwrap();
    std::fs::write(d.join("repo/Packages"), "").unwrap();
    let name = unique("bgrun-test-repo");
    let named = format!("/etc/apt/sources.list.d/{name}.list");
    let url = format!("file:{}/repo", d.display());
    let derived = format!("/etc/apt/sources.list.d/{}.list", source_file_name(&url));
    let _cleanup = Cleanup(format!("rm -f {named} {derived}"));
    let line = format!("deb [trusted=yes] {url} ./");
    let t = t
        .file(
            "present.yml",
            &format!(
                "- hosts: prod\n  gather_facts: false\n  steps:\n    - apt_repository:\n        repo: '{line}'\n        filename: {name}\n        update_cache: false\n      register: r\n    - apt_repository:\n        repo: 'deb  [trusted=yes]   {url}  ./'\n        update_cache: false\n"
            ),
        )
        .file(
            "derived.yml",
            &format!(
                "- hosts: prod\n  gather_facts: false\n  steps:\n    - apt_repository:\n        repo: 'deb-src [trusted=yes] {url} ./'\n        update_cache: false\n      register: r\n    - assert:\n        that: r.sources_added == ['{derived}']\n    - apt_repository:\n        repo: 'deb-src [trusted=yes] {url} ./'\n        state: absent\n        update_cache: false\n"
            ),
        )
        .file(
            "absent.yml",
            &format!(
                "- hosts: prod\n  gather_facts: false\n  steps:\n    - apt_repository:\n        repo: '{line}'\n        state: absent\n        update_cache: false\n"
            ),
        );
    // In check mode nothing is written, so the second step would add its line too.
    let checked = json(&t, &["present.yml", "--check"], 0);
    assert_counts(&checked, "prod", 2, 2);
    assert!(!Path::new(&named).exists() && !Path::new(&derived).exists());

    // The second step finds the line the first wrote, whitespace aside.
    let first = json(&t, &["present.yml"], 0);
    assert_counts(&first, "prod", 2, 1);
    assert_eq!(std::fs::read_to_string(&named).unwrap(), format!("{line}\n"));
    assert_eq!(mode(Path::new(&named)), 0o644);
    let second = json(&t, &["present.yml"], 0);
    assert_counts(&second, "prod", 2, 0);

    let derived_run = json(&t, &["derived.yml"], 0);
    assert_counts(&derived_run, "prod", 3, 2);
    assert!(!Path::new(&derived).exists());

    let checked = json(&t, &["absent.yml", "--check"], 0);
    assert_counts(&checked, "prod", 1, 1);
    assert!(Path::new(&named).exists());
    let removed = json(&t, &["absent.yml"], 0);
    assert_counts(&removed, "prod", 1, 1);
    assert!(!Path::new(&named).exists(), "a file left empty is removed");
    let again = json(&t, &["absent.yml"], 0);
    assert_counts(&again, "prod", 1, 0);
}

/// An HTTP server on the loopback interface answering every GET with `body` (and 404 for paths
/// ending in `/missing`); returns its port.
fn serve(body: &'static [u8]) -> u16 {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in server.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, content): (&str, &[u8]) = if path.ends_with("/missing") {
                ("404 Not Found", b"no")
            } else {
                ("200 OK", body)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                content.len()
            );
            let _ = stream.write_all(content);
        }
    });
    port
}

#[test]
fn get_url_downloads_from_the_controller_and_checks_checksums() {
    const BODY: &[u8] = b"#!/bin/sh\necho downloaded\n";
    let port = serve(BODY);
    let sha256 = {
        let out = Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(BODY)?;
                child.wait_with_output()
            })
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let t = Test::lab();
    let d = t.path();
    std::fs::create_dir_all(d.join("bin")).unwrap();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - get_url:\n        url: http://127.0.0.1:{port}/tool.sh\n        dest: {d}/tool.sh\n        mode: '0755'\n        checksum: sha256:{sha256}\n      register: r\n    - get_url: url=http://127.0.0.1:{port}/dl/tool.sh dest={d}/bin/ force=yes\n",
        d = d.display()
    );
    let t = t.file("play.yml", &play);
    let checked = json(&t, &["play.yml", "--check"], 0);
    assert_counts(&checked, "prod", 2, 2);
    assert!(!d.join("tool.sh").exists() && !d.join("bin/tool.sh").exists());

    let first = json(&t, &["play.yml"], 0);
    assert_counts(&first, "prod", 2, 2);
    assert_eq!(std::fs::read(d.join("tool.sh")).unwrap(), BODY);
    assert_eq!(mode(&d.join("tool.sh")), 0o755);
    assert_eq!(std::fs::read(d.join("bin/tool.sh")).unwrap(), BODY);
    // The same content again, even when forced to download, changes nothing.
    let second = json(&t, &["play.yml"], 0);
    assert_counts(&second, "prod", 2, 0);

    let bad = Test::lab()
        .playbook(&format!(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - get_url:\n        url: http://127.0.0.1:{port}/tool.sh\n        dest: {d}/other.sh\n        checksum: sha256:{}\n    - get_url: url=http://127.0.0.1:{port}/missing dest={d}/missing\n      ignore_errors: true\n",
            "0".repeat(64),
            d = d.display()
        ))
        .expect(2);
    assert!(bad.stdout.contains("did not match"), "{}", bad.stdout);
    assert!(!d.join("other.sh").exists());
}

#[test]
fn get_url_reports_http_errors() {
    let port = serve(b"x");
    let t = Test::lab();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - get_url: url=http://127.0.0.1:{port}/missing dest={}/missing\n",
        t.path().display()
    );
    let out = t.playbook(&play).expect(2);
    assert!(out.stdout.contains("HTTP Error 404"), "{}", out.stdout);
}

#[test]
fn unarchive_unpacks_once_and_again_when_content_drifts() {
    let t = Test::lab();
    let d = t.path();
    std::fs::create_dir_all(d.join("src/app/sub")).unwrap();
    std::fs::write(d.join("src/app/a.txt"), "a\n").unwrap();
    std::fs::write(d.join("src/app/sub/b.txt"), "b\n").unwrap();
    std::fs::create_dir_all(d.join("files")).unwrap();
    let made = sh(&format!(
        "cd {d}/src && tar -czf {d}/files/app.tar.gz app && zip -qr {d}/app.zip app",
        d = d.display()
    ));
    assert!(made.status.success(), "{made:?}");
    std::fs::create_dir_all(d.join("out")).unwrap();
    std::fs::create_dir_all(d.join("zipped")).unwrap();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - unarchive: src=app.tar.gz dest={d}/out list_files=yes\n      register: r\n    - unarchive: src={d}/app.zip dest={d}/zipped remote_src=yes mode=0750\n    - unarchive: src=app.tar.gz dest={d}/out creates={d}/out/app\n",
        d = d.display()
    );
    let t = t.file("play.yml", &play);
    let checked = json(&t, &["play.yml", "--check"], 0);
    assert_counts(&checked, "prod", 3, 3);
    assert!(!d.join("out/app").exists() && !d.join("zipped/app").exists());

    let first = json(&t, &["play.yml"], 0);
    assert_counts(&first, "prod", 3, 2);
    assert_eq!(std::fs::read_to_string(d.join("out/app/sub/b.txt")).unwrap(), "b\n");
    assert_eq!(std::fs::read_to_string(d.join("zipped/app/a.txt")).unwrap(), "a\n");
    assert_eq!(mode(&d.join("zipped/app/a.txt")), 0o750);
    let second = json(&t, &["play.yml"], 0);
    assert_counts(&second, "prod", 3, 0);

    std::fs::write(d.join("out/app/a.txt"), "changed\n").unwrap();
    let checked = json(&t, &["play.yml", "--check"], 0);
    assert_counts(&checked, "prod", 3, 1);
    assert_eq!(std::fs::read_to_string(d.join("out/app/a.txt")).unwrap(), "changed\n");
    let repaired = json(&t, &["play.yml"], 0);
    assert_counts(&repaired, "prod", 3, 1);
    assert_eq!(std::fs::read_to_string(d.join("out/app/a.txt")).unwrap(), "a\n");
}

#[test]
fn unarchive_requires_an_existing_folder() {
    let t = Test::lab().file("files/none.tar", "");
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - unarchive: src=none.tar dest={}/missing\n",
        t.path().display()
    );
    let out = t.playbook(&play).expect(2);
    assert!(out.stdout.contains("must be an existing dir"), "{}", out.stdout);
}

fn local() -> Test {
    Test::new()
        .file("hosts", "localhost ansible_connection=local\n")
        .args(&["-i", "hosts"])
}

#[test]
fn fail_fails_with_its_message_and_pause_waits() {
    let started = std::time::Instant::now();
    let out = local()
        .playbook("- hosts: localhost\n  gather_facts: false\n  steps:\n    - pause: seconds=1\n      register: p\n    - assert:\n        that: p.stdout == 'Paused for 1 seconds' and p.delta >= 1\n    - fail: msg=\"stop here\"\n      when: p.delta >= 1\n    - debug: msg=never\n")
        .expect(2);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert!(out.stdout.contains("stop here"), "{}", out.stdout);
    assert!(!out.stdout.contains("never"), "{}", out.stdout);
}

#[test]
fn pause_refuses_interactive_prompts() {
    let out = local()
        .playbook("- hosts: localhost\n  gather_facts: false\n  steps:\n    - pause:\n        prompt: Continue?\n")
        .expect(2);
    assert!(
        out.stdout.contains("interactive prompts are not supported"),
        "{}",
        out.stdout
    );
}
