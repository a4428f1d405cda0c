//! The built-in modules on the lab's SSH hosts: what they leave on the host, their idempotence,
//! check mode and diffs.

use std::os::unix::fs::PermissionsExt;

use crate::harness::Test;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).expect("file exists").permissions().mode() & 0o7777
}

#[test]
fn command_runs_argv_without_a_shell_and_registers_ansible_shape() {
    let out = Test::lab()
        .playbook(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - command: echo 'a  b' $HOME ; ls\n      register: r\n    - assert:\n        that:\n          - r.rc == 0\n          - r.stdout == 'a  b $HOME ; ls'\n          - r.stdout_lines == ['a  b $HOME ; ls']\n          - r.changed\n          - not r.failed\n          - r.stderr == ''\n",
        )
        .expect(0);
    assert!(
        out.stdout
            .contains("prod : ok=2    changed=1    unreachable=0    failed=0"),
        "{}",
        out.stdout
    );
}

/// As Ansible's: `ping` logs in and registers `ping: pong` (or its `data`), and `data: crash` fails.
#[test]
fn ping_answers_pong_from_every_host() {
    let out = Test::lab()
        .playbook(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - ping:\n      register: p\n    - assert: {that: [\"p.ping == 'pong'\", not p.changed]}\n    - ping: data=hello\n      register: q\n    - assert: {that: [\"q.ping == 'hello'\"]}\n    - ping: data=crash\n      ignore_errors: true\n",
        )
        .expect(0);
    for host in ["cd", "prod"] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(host) && l.contains(" : ok="))
            .unwrap_or_else(|| panic!("no recap of {host}:\n{}", out.stdout));
        assert!(
            line.contains("ok=5    changed=0    unreachable=0    failed=0") && line.ends_with("ignored=1"),
            "{line}"
        );
    }
}

#[test]
fn shell_runs_a_script_with_chdir_stdin_creates_and_removes() {
    let t = Test::lab();
    let dir = t.path();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - shell: cat > out.txt && pwd >> out.txt\n      args:\n        chdir: {d}\n        stdin: hello\n    - shell: echo again >> out.txt\n      args:\n        chdir: {d}\n        creates: {d}/out.txt\n    - command: rm {d}/none\n      args:\n        removes: {d}/none\n",
        d = dir.display()
    );
    let t = t.playbook(&play);
    let out = t.expect(0);
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        format!("hello\n{}\n", dir.display())
    );
    assert!(out.stdout.contains("prod : ok=3    changed=1"), "{}", out.stdout);
}

#[test]
fn failing_command_fails_the_host_with_rc_and_stderr() {
    let out = Test::lab()
        .playbook("- hosts: prod\n  gather_facts: false\n  steps:\n    - command: ls /does/not/exist\n    - debug: msg=never\n")
        .expect(2);
    assert!(
        out.stdout.contains("failed: [prod] => non-zero return code 2"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("stderr: ls: cannot access '/does/not/exist'"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("never"), "{}", out.stdout);
}

#[test]
fn copy_is_idempotent_by_checksum_and_mode() {
    let t = Test::lab().file("files/app.conf", "port=8080\n");
    let dest = t.path().join("etc/app.conf");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - copy: src=app.conf dest={} mode=0640\n    - copy:\n        content: \"inline {{{{ inventory_hostname }}}}\\n\"\n        dest: {}.inline\n",
        dest.display(),
        dest.display()
    );
    let t = t.playbook(&play);
    let first = t.expect(0);
    assert!(first.stdout.contains("prod : ok=2    changed=2"), "{}", first.stdout);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "port=8080\n");
    assert_eq!(mode(&dest), 0o640);
    assert_eq!(
        std::fs::read_to_string(dest.with_extension("conf.inline")).unwrap(),
        "inline prod\n"
    );
    let second = t.expect(0);
    assert!(second.stdout.contains("prod : ok=2    changed=0"), "{}", second.stdout);
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o644)).unwrap();
    let third = t.expect(0);
    assert!(
        third.stdout.contains("prod : ok=2    changed=1"),
        "mode drift is a change: {}",
        third.stdout
    );
    assert_eq!(mode(&dest), 0o640);
}

#[test]
fn template_renders_with_host_variables_and_is_idempotent() {
    let t = Test::lab().file(
        "templates/upstream.conf.j2",
        "upstream app {\n{% for p in ports %}\n  server {{ ansible_host }}:{{ p }};\n{% endfor %}\n}\n",
    );
    let dest = t.path().join("upstream.conf");
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  vars:\n    ports: [8080, 8081]\n  steps:\n    - template: src=upstream.conf.j2 dest={}\n",
        dest.display()
    );
    let t = t.playbook(&play);
    t.expect(0);
    assert_eq!(
        std::fs::read_to_string(&dest).unwrap(),
        "upstream app {\n  server 127.0.0.3:8080;\n  server 127.0.0.3:8081;\n}\n"
    );
    let again = t.expect(0);
    assert!(again.stdout.contains("prod : ok=1    changed=0"), "{}", again.stdout);
}

#[test]
fn file_makes_directories_links_touches_and_removes() {
    let t = Test::lab();
    let d = t.path();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - file: path={d}/a/b state=directory mode=0750\n    - file: path={d}/a/b/t state=touch\n    - file: path={d}/link src={d}/a/b state=link\n    - file: path={d}/gone state=absent\n",
        d = d.display()
    );
    let t = t.playbook(&play);
    t.expect(0);
    assert_eq!(mode(&d.join("a/b")), 0o750);
    assert!(d.join("a/b/t").exists());
    assert_eq!(std::fs::read_link(d.join("link")).unwrap(), d.join("a/b"));
    let again = t.expect(0);
    // touch always reports a change, as Ansible's does.
    assert!(again.stdout.contains("prod : ok=4    changed=1"), "{}", again.stdout);
}

#[test]
fn check_mode_changes_nothing_and_diff_shows_content() {
    let t = Test::lab();
    let dest = t.path().join("motd");
    std::fs::write(&dest, "old line\nsame\n").unwrap();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - copy:\n        content: \"new line\\nsame\\n\"\n        dest: {}\n    - file: path={}/newdir state=directory\n    - command: touch {}/never\n",
        dest.display(),
        t.path().display(),
        t.path().display()
    );
    let dir = t.path();
    let t = t.playbook(&play).args(&["--check", "--diff"]);
    let out = t.expect(0);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old line\nsame\n");
    assert!(!dir.join("newdir").exists() && !dir.join("never").exists());
    assert!(out.stdout.contains("-old line\n+new line\n same"), "{}", out.stdout);
    assert!(out.stdout.contains("+state: directory"), "{}", out.stdout);
    assert!(out.stdout.contains("skipping: [prod]"), "{}", out.stdout);
}

#[test]
fn wait_for_port_and_path_on_the_host() {
    let t = Test::lab();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - wait_for: host=127.0.0.3 port=22 timeout=5\n    - wait_for: host=127.0.0.3 port=1 state=stopped timeout=5\n    - wait_for: path={} timeout=5\n    - wait_for: path={}/nope timeout=1\n",
        t.path().display(),
        t.path().display()
    );
    let out = t.playbook(&play).expect(2);
    assert!(
        out.stdout
            .contains("prod : ok=3    changed=0    unreachable=0    failed=1"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Timeout when waiting for file"), "{}", out.stdout);
}

#[test]
fn http_checks_status_and_registers_json() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in server.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            let (status, body) = if request.starts_with("GET /api/v1/books") {
                ("200 OK", r#"[{"_id": 1, "version": "2"}]"#)
            } else {
                ("500 Oops", "no")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let play = format!(
        "- hosts: localhost\n  gather_facts: false\n  steps:\n    - uri: url=http://127.0.0.1:{port}/api/v1/books\n      register: books\n    - assert:\n        that: books.json[0].version == '2' and books.status == 200\n    - http: url=http://127.0.0.1:{port}/health\n"
    );
    let out = Test::new()
        .file("hosts", "localhost ansible_connection=local\n")
        .args(&["-i", "hosts"])
        .playbook(&play)
        .expect(2);
    assert!(
        out.stdout
            .contains("status code was 500, not 200: GET http://127.0.0.1:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("localhost : ok=2    changed=0    unreachable=0    failed=1"),
        "{}",
        out.stdout
    );
}
