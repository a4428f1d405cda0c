//! bgrun's security defaults, one test each: host keys checked, Docker reached through the
//! host's own socket over SSH (no TCP port), secrets masked beyond the console (the timeline, the
//! audit trail), the Consul token on no command line and in no environment, `command` with no
//! shell, templates that read no file and run no command unless a lookup asks, files replaced
//! atomically with their mode, and sockets in a folder only the user can open. Secrets in the
//! console and JSON events: `running::secret_variables_are_masked_in_output` and
//! `running::no_log_hides_output_but_keeps_the_value`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::harness::{LAB_KEY, Test, consul_get, lab_inventory, require_lab};

const LOCAL: &str = "localhost ansible_connection=local\n";

#[test]
fn host_keys_are_checked_by_default() {
    require_lab();
    let inventory = format!(
        "prod ansible_host=127.0.0.3 ansible_user=root ansible_ssh_private_key_file={LAB_KEY} ansible_ssh_known_hosts_file=empty_known_hosts\n"
    );
    let t = Test::new()
        .file("hosts", &inventory)
        .file("empty_known_hosts", "")
        .args(&["-i", "hosts"])
        .playbook("- hosts: all\n  steps:\n    - command: 'true'\n");
    let out = t.expect(4);
    assert!(out.stdout.contains("Host key verification failed"), "{}", out.stdout);
    let out = t.env("ANSIBLE_HOST_KEY_CHECKING", "False").expect(0);
    assert!(out.stdout.contains("prod : ok=2    changed=1"), "{}", out.stdout);
}

/// The engine is reached through prod's /var/run/docker.sock, forwarded over the host's SSH
/// connection into a folder only this user can open; no Docker TCP port is open or needed.
#[test]
fn docker_is_reached_over_ssh_through_a_private_socket_with_no_tcp_port() {
    let runtime = tempfile::tempdir().expect("temporary folder");
    std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let out = Test::lab()
        .env("XDG_RUNTIME_DIR", &runtime.path().display().to_string())
        .args(&["--no-persist"])
        .playbook("- hosts: prod\n  gather_facts: false\n  tasks:\n    - image: name=127.0.0.2:5000/hello:1\n")
        .expect(0);
    assert!(out.stdout.contains("prod : ok=1"), "{}", out.stdout);
    let listening = Command::new("ss").args(["-ltnpH"]).output().expect("ss");
    let listening = String::from_utf8_lossy(&listening.stdout).into_owned();
    assert!(
        !listening
            .lines()
            .any(|l| l.contains("dockerd") || l.contains(":2375") || l.contains(":2376")),
        "a Docker TCP port is open:\n{listening}"
    );
    let uid = std::fs::metadata("/proc/self").expect("proc").uid();
    let folder = runtime.path().join("bgrun");
    let meta = std::fs::metadata(&folder).expect("bgrun's socket folder");
    assert_eq!((meta.uid(), meta.permissions().mode() & 0o777), (uid, 0o700));
}

/// Control sockets of the SSH masters kept between runs live in the same private folder.
#[test]
fn control_sockets_are_in_a_folder_only_the_user_can_open() {
    let runtime = tempfile::tempdir().expect("temporary folder");
    std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Test::lab()
        .env("XDG_RUNTIME_DIR", &runtime.path().display().to_string())
        .playbook("- hosts: cd\n  gather_facts: false\n  tasks:\n    - ping:\n")
        .expect(0);
    let folder = runtime.path().join("bgrun");
    let meta = std::fs::metadata(&folder).expect("bgrun's socket folder");
    assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{}", folder.display());
    let sockets: Vec<_> = std::fs::read_dir(&folder)
        .expect("read folder")
        .flatten()
        .filter(|e| {
            e.file_type().is_ok_and(|t| {
                use std::os::unix::fs::FileTypeExt;
                t.is_socket()
            })
        })
        .collect();
    assert!(!sockets.is_empty(), "no control socket in {}", folder.display());
    close_masters(&folder);
}

fn close_masters(folder: &Path) {
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("cp-")) && path.extension().is_none() {
            let _ = Command::new("ssh")
                .args(["-S", &path.display().to_string(), "-O", "exit", "lab"])
                .output();
        }
    }
}

/// A secret variable and a failing `no_log` step stay out of `--timeline`'s picture.
#[test]
fn secrets_and_no_log_results_stay_out_of_the_timeline() {
    let t = Test::new()
        .file("hosts", "localhost ansible_connection=local db_password=pw-in-the-inventory\n")
        .args(&["-i", "hosts", "--timeline", "run.html"])
        .playbook(concat!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n",
            "    - command: echo {{ db_password }}\n      changed_when: false\n",
            "    - name: hidden\n      command: sh -c 'echo no-log-output; exit 3'\n      no_log: true\n      ignore_errors: true\n",
            "    - fail: msg=\"failed with {{ db_password }}\"\n",
        ));
    t.expect(2);
    let page = std::fs::read_to_string(t.path().join("run.html")).expect("timeline written");
    assert!(page.contains("hidden"), "the no_log step is in the picture");
    assert!(!page.contains("pw-in-the-inventory"), "a secret in the timeline");
    assert!(!page.contains("no-log-output"), "a no_log result in the timeline");
}

/// The audit trail in Consul's KV holds the failing step's message with its secrets masked.
#[test]
fn secrets_stay_out_of_the_audit_trail() {
    let _consul = crate::harness::consul_lock();
    let service = format!("bgrun-security-{}", std::process::id());
    let inventory = format!("{}\n[prod:vars]\napi_token=tok-of-the-audit-test\n", lab_inventory());
    Test::new()
        .file("inventory", &inventory)
        .args(&["-i", "inventory"])
        .playbook(&format!(
            "- hosts: prod\n  gather_facts: false\n  tasks:\n    - audit:\n        service: {service}\n        outcome: rejected\n        message: \"health check with {{{{ api_token }}}} failed\"\n"
        ))
        .expect(0);
    let keys = consul_get(&format!("/v1/kv/{service}/deploys/?keys"));
    let keys: Vec<String> = serde_json::from_str(&keys).unwrap_or_else(|e| panic!("{e}: {keys}"));
    assert_eq!(keys.len(), 1, "{keys:?}");
    let record = consul_get(&format!("/v1/kv/{}?raw", keys[0]));
    let _ = Command::new("curl")
        .args([
            "-s",
            "-X",
            "DELETE",
            &format!("http://127.0.0.3:8500/v1/kv/{service}?recurse"),
        ])
        .output();
    assert!(!record.contains("tok-of-the-audit-test"), "{record}");
    assert!(record.contains("health check with ******** failed"), "{record}");
}

/// Every process bgrun starts (ssh masters included), traced with their arguments and
/// environments: the Consul token from the inventory is in none of them.
#[test]
fn the_consul_token_is_on_no_command_line_and_in_no_environment() {
    require_lab();
    let _consul = crate::harness::consul_lock();
    let token = "c0ffee00-token-never-shown";
    let inventory = format!("{}\n[prod:vars]\nconsul_token={token}\n", lab_inventory());
    let t = Test::new()
        .file("inventory", &inventory)
        .args(&["-i", "inventory", "--no-persist"])
        .playbook("- hosts: prod\n  gather_facts: false\n  tasks:\n    - ping:\n    - consul: key=bgrun-security/token-test value=1\n    - consul: key=bgrun-security/token-test state=absent\n");
    let trace = t.path().join("execve.trace");
    let command = t.command();
    let bgrun = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
    let out = Command::new("strace")
        .args(["-f", "-qq", "-v", "-s", "65536", "-e", "trace=execve", "-o"])
        .arg(&trace)
        .arg(&bgrun)
        .args(&args)
        .envs(
            command
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .current_dir(t.path())
        .output()
        .expect("strace (apt-get install strace)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let traced = std::fs::read_to_string(&trace).expect("trace");
    assert!(
        traced.matches("execve(").count() >= 2,
        "bgrun and its ssh master: {traced}"
    );
    assert!(
        !traced.contains(token),
        "the token was on a command line or in an environment"
    );
    assert!(!stdout.contains(token), "{stdout}");
}

#[test]
fn command_never_goes_through_a_shell() {
    let t = Test::new()
        .file("hosts", LOCAL)
        .args(&["-i", "hosts", "-v"])
        .playbook(concat!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n",
            "    - command: echo $HOME; touch {{ playbook_dir }}/made-by-a-shell\n      register: r\n",
            "    - assert:\n        that: \"r.stdout == '$HOME; touch ' ~ playbook_dir ~ '/made-by-a-shell'\"\n",
        ));
    t.expect(0);
    assert!(!t.path().join("made-by-a-shell").exists());
}

/// Jinja's `include`, `import` and `extends` read no file; a lookup is the one way to read one.
#[test]
fn templates_read_no_file_and_run_no_command_unless_a_lookup_asks() {
    let secret = "/etc/hostname";
    for template in [
        format!("{{% include '{secret}' %}}"),
        format!("{{% import '{secret}' as x %}}"),
        format!("{{% extends '{secret}' %}}"),
        "{{ ''.__class__.__mro__ }}".to_string(),
        "{{ cycler.__init__.__globals__ }}".to_string(),
    ] {
        let t = Test::new()
            .file("hosts", LOCAL)
            .file("templates/t.j2", &template)
            .args(&["-i", "hosts"])
            .playbook(
                "- hosts: all\n  gather_facts: false\n  tasks:\n    - template: src=t.j2 dest={{ playbook_dir }}/out\n",
            );
        let out = t.run();
        let written = std::fs::read_to_string(t.path().join("out")).unwrap_or_default();
        let hostname = std::fs::read_to_string(secret).unwrap_or_default();
        assert!(
            out.code != 0 || hostname.trim().is_empty() || !written.contains(hostname.trim()),
            "{template} read {secret}: {written:?}"
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    let t = Test::new()
        .file("hosts", LOCAL)
        .file("data.txt", "read through a lookup\n")
        .args(&["-i", "hosts", "-v"])
        .playbook(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ lookup('file', 'data.txt') }}\"\n",
        );
    assert!(t.expect(0).stdout.contains("read through a lookup"));
}

/// `copy` replaces a file by renaming a finished one over it (a reader sees the old file or the
/// new one, never half), with the asked mode, and leaves nothing else behind.
#[test]
fn files_are_replaced_atomically_with_their_mode() {
    let t = Test::new()
        .file("hosts", LOCAL)
        .file("out/app.conf", "old\n")
        .args(&["-i", "hosts"]);
    let before = std::fs::metadata(t.path().join("out/app.conf")).expect("file").ino();
    let t = t.playbook("- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        content: \"new\\n\"\n        dest: \"{{ playbook_dir }}/out/app.conf\"\n        mode: \"0640\"\n");
    t.expect(0);
    let path = t.path().join("out/app.conf");
    let meta = std::fs::metadata(&path).expect("file");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "new\n");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_ne!(meta.ino(), before, "written in place rather than renamed over");
    let left: Vec<_> = std::fs::read_dir(t.path().join("out"))
        .expect("read folder")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("app.conf")]);
}
