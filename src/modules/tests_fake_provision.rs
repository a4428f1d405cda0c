//! Unit tests of the provisioning modules (`lineinfile`, `group`, `user`, `service`, ...) over the
//! fake transport: check mode reports the change and sends no write, a run makes exactly the
//! reported change, and a second run reports no change.

use serde_json::json;

use super::Failure;
use super::fake_host::Harness;
use crate::transport::ExecOutput;

fn ops(h: &Harness) -> Vec<&'static str> {
    h.fake.calls().iter().map(|c| c.op).collect()
}

fn output(rc: i32, stdout: &str) -> ExecOutput {
    ExecOutput {
        rc,
        stdout: stdout.as_bytes().to_vec(),
        stderr: Vec::new(),
    }
}

/// The argument vectors of the commands that changed the host.
fn writes(h: &Harness) -> Vec<Vec<String>> {
    h.fake.writes().into_iter().map(|c| c.exec.argv).collect()
}

/// The failed result a module's failure registers.
fn failed(error: Failure) -> super::Outcome {
    match error {
        Failure::Failed(outcome) => *outcome,
        Failure::Unreachable(msg) => panic!("unreachable, not failed: {msg}"),
    }
}

// ---- lineinfile ----

#[tokio::test]
async fn lineinfile_check_reports_the_line_then_a_run_adds_it_once() {
    let mut h = Harness::new();
    h.fake.file("/etc/environment", "PATH=/usr/bin\n", 0o644);
    let args = json!({"path": "/etc/environment", "line": "LANG=C.UTF-8"});
    let checked = h.run_checked("lineinfile", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(checked.msg.as_deref(), Some("line added"));
    assert_eq!(checked.data["backup"], "");
    let diff = checked.diff.expect("a diff in check mode");
    assert_eq!(diff.before, "PATH=/usr/bin\n");
    assert_eq!(diff.after, "PATH=/usr/bin\nLANG=C.UTF-8\n");
    assert_eq!(ops(&h), ["stat", "read"]);

    h.fake.clear_calls();
    let outcome = h.run("lineinfile", args.clone()).await.unwrap();
    assert!(outcome.changed && !outcome.failed);
    assert_eq!(outcome.msg.as_deref(), Some("line added"));
    assert!(outcome.diff.is_none(), "no diff without --diff");
    assert_eq!(h.fake.content("/etc/environment"), diff.after);
    assert_eq!(ops(&h), ["stat", "read", "write"]);

    h.fake.clear_calls();
    let again = h.run("lineinfile", args.clone()).await.unwrap();
    assert!(!again.changed);
    assert_eq!(ops(&h), ["stat", "read"]);
    assert!(!h.run_checked("lineinfile", args).await.changed);
}

#[tokio::test]
async fn lineinfile_fixes_only_the_mode_when_the_line_is_there() {
    let mut h = Harness::new();
    h.fake
        .file("/etc/sudoers.d/app", "app ALL=(ALL) NOPASSWD: ALL\n", 0o644);
    let args = json!({"path": "/etc/sudoers.d/app", "line": "app ALL=(ALL) NOPASSWD: ALL", "mode": "0440"});
    let checked = h.run_checked("lineinfile", args.clone()).await;
    assert!(checked.changed && checked.diff.is_none());
    assert_eq!(
        checked.msg.as_deref(),
        Some("ownership, perms or SE linux context changed")
    );
    assert_eq!(h.fake.node("/etc/sudoers.d/app").unwrap().mode, 0o644);

    h.fake.clear_calls();
    let outcome = h.run("lineinfile", args.clone()).await.unwrap();
    assert_eq!(outcome.msg, checked.msg);
    assert_eq!(ops(&h), ["stat", "read", "set_attributes"]);
    assert_eq!(h.fake.node("/etc/sudoers.d/app").unwrap().mode, 0o440);
    assert!(!h.run("lineinfile", args).await.unwrap().changed);
}

#[tokio::test]
async fn lineinfile_failures_carry_their_rc() {
    let h = Harness::new();
    h.fake.dir("/etc/app");
    let error = h
        .run("lineinfile", json!({"path": "/etc/app", "line": "x"}))
        .await
        .unwrap_err();
    let outcome = failed(error);
    assert!(outcome.failed);
    assert_eq!(outcome.msg.as_deref(), Some("Path /etc/app is a directory !"));
    assert_eq!(outcome.data["rc"], 256);
    let outcome = failed(
        h.run("lineinfile", json!({"path": "/etc/none", "line": "x"}))
            .await
            .unwrap_err(),
    );
    assert_eq!(outcome.data["rc"], 257);
    let absent = h
        .run(
            "lineinfile",
            json!({"path": "/etc/none", "line": "x", "state": "absent"}),
        )
        .await
        .unwrap();
    assert!(!absent.changed);
    assert_eq!(absent.msg.as_deref(), Some("file not present"));
    assert!(h.fake.writes().is_empty());
}

// ---- group ----

const GETENT_APP: [&str; 3] = ["getent", "group", "app"];

#[tokio::test]
async fn group_check_reports_groupadd_then_a_run_adds_it_once() {
    let mut h = Harness::new();
    let args = json!({"name": "app", "gid": 1500, "system": true});
    h.fake.query(&GETENT_APP, output(2, ""));
    let checked = h.run_checked("group", args.clone()).await;
    h.fake.assert_answered();
    assert!(checked.changed);
    assert_eq!(
        checked.registered(),
        json!({"changed": true, "failed": false, "name": "app", "state": "present", "gid": 1500, "system": true})
    );

    h.fake.clear_calls();
    h.fake
        .query(&GETENT_APP, output(2, ""))
        .answer(&["groupadd", "-g", "1500", "-r", "app"], output(0, ""))
        .query(&GETENT_APP, output(0, "app:x:1500:\n"));
    let outcome = h.run("group", args.clone()).await.unwrap();
    h.fake.assert_answered();
    assert_eq!(outcome.registered(), checked.registered());
    assert_eq!(writes(&h), [["groupadd", "-g", "1500", "-r", "app"]]);

    h.fake.clear_calls();
    h.fake.query(&GETENT_APP, output(0, "app:x:1500:\n"));
    let again = h.run("group", args).await.unwrap();
    h.fake.assert_answered();
    assert!(!again.changed);
    assert_eq!(again.data["gid"], 1500);
    assert!(writes(&h).is_empty());
}

#[tokio::test]
async fn group_changes_only_the_gid_and_reads_it_back() {
    let mut h = Harness::new();
    let args = json!({"name": "app", "gid": 1600});
    h.fake.query(&GETENT_APP, output(0, "app:x:1500:bob\n"));
    let checked = h.run_checked("group", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(checked.data["gid"], 1600);

    h.fake
        .query(&GETENT_APP, output(0, "app:x:1500:bob\n"))
        .answer(&["groupmod", "-g", "1600", "app"], output(0, ""))
        .query(&GETENT_APP, output(0, "app:x:1600:bob\n"));
    let outcome = h.run("group", args).await.unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed);
    assert_eq!(outcome.data["gid"], 1600);
}

#[tokio::test]
async fn group_absent_deletes_once_and_a_refusal_fails() {
    let mut h = Harness::new();
    let args = json!({"name": "app", "state": "absent", "force": true});
    h.fake.query(&GETENT_APP, output(0, "app:x:1500:\n"));
    let checked = h.run_checked("group", args.clone()).await;
    assert_eq!(
        checked.registered(),
        json!({"changed": true, "failed": false, "name": "app", "state": "absent"})
    );

    h.fake.query(&GETENT_APP, output(0, "app:x:1500:\n")).answer(
        &["groupdel", "-f", "app"],
        ExecOutput {
            rc: 8,
            stdout: Vec::new(),
            stderr: b"groupdel: cannot remove the primary group of user 'app'\n".to_vec(),
        },
    );
    let error = failed(h.run("group", args.clone()).await.unwrap_err());
    assert_eq!(
        error.msg.as_deref(),
        Some("`groupdel -f app` failed (8): groupdel: cannot remove the primary group of user 'app'")
    );

    h.fake
        .query(&GETENT_APP, output(0, "app:x:1500:\n"))
        .answer(&["groupdel", "-f", "app"], output(0, ""));
    assert_eq!(
        h.run("group", args.clone()).await.unwrap().registered(),
        checked.registered()
    );
    h.fake.query(&GETENT_APP, output(2, ""));
    assert!(!h.run("group", args).await.unwrap().changed);
    h.fake.assert_answered();
}

// ---- user ----

/// The argument vector of user's read of `app` (its primary group `app`, then `groups`).
fn user_read(groups: &[&'static str]) -> Vec<&'static str> {
    let mut argv = vec!["/bin/sh", "-c", super::user::READ, "sh", "app", "app"];
    argv.extend(groups);
    argv
}

const NO_USER: &str = "passwd:\nshadow:\ngroups:\ngroup:app:x:1500:\nown:1\nmissing:\n";
const APP_USER: &str =
    "passwd:app:x:1500:1500::/home/app:/bin/bash\nshadow:$6$hash\ngroups:app adm\ngroup:app:x:1500:\nown:1\nmissing:\n";
const USERADD: [&str; 13] = [
    "useradd",
    "-u",
    "1500",
    "-g",
    "1500",
    "-G",
    "adm",
    "-s",
    "/bin/bash",
    "-p",
    "$6$hash",
    "-m",
    "app",
];

#[tokio::test]
async fn user_check_reports_the_new_account_then_a_run_creates_it_once() {
    let mut h = Harness::new();
    let args = json!({"name": "app", "uid": 1500, "group": "app", "groups": ["adm"], "shell": "/bin/bash", "password": "$6$hash"});
    h.fake.query(&user_read(&["adm"]), output(0, NO_USER));
    let checked = h.run_checked("user", args.clone()).await;
    h.fake.assert_answered();
    assert!(checked.changed);
    assert_eq!(
        checked.registered(),
        json!({
            "changed": true, "failed": false, "name": "app", "state": "present", "append": false,
            "system": false, "create_home": true, "move_home": false, "uid": 1500, "group": 1500,
            "shell": "/bin/bash", "groups": "adm", "password": "NOT_LOGGING_PASSWORD"
        })
    );

    h.fake.clear_calls();
    h.fake
        .query(&user_read(&["adm"]), output(0, NO_USER))
        .answer(&USERADD, output(0, ""))
        .query(&user_read(&[]), output(0, APP_USER));
    let outcome = h.run("user", args.clone()).await.unwrap();
    h.fake.assert_answered();
    assert_eq!(writes(&h), [USERADD.to_vec()]);
    assert!(outcome.changed);
    assert_eq!(outcome.data["home"], "/home/app", "read back from the host");
    assert_eq!(outcome.data["groups"], "adm");
    assert_eq!(outcome.data["password"], "NOT_LOGGING_PASSWORD");

    h.fake.clear_calls();
    h.fake.query(&user_read(&["adm"]), output(0, APP_USER));
    let again = h.run("user", args).await.unwrap();
    h.fake.assert_answered();
    assert!(!again.changed);
    assert!(writes(&h).is_empty());
    assert_eq!(again.data["uid"], 1500);
}

#[tokio::test]
async fn user_modifies_only_what_differs_and_hides_the_password_when_it_fails() {
    let mut h = Harness::new();
    let args = json!({"name": "app", "group": "app", "shell": "/bin/zsh", "password": "$6$new"});
    h.fake.query(&user_read(&[]), output(0, APP_USER));
    let checked = h.run_checked("user", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(
        checked.data["shell"], "/bin/bash",
        "check mode shows the account as it is"
    );

    let usermod = ["usermod", "-s", "/bin/zsh", "-p", "$6$new", "app"];
    h.fake.query(&user_read(&[]), output(0, APP_USER)).answer(
        &usermod,
        ExecOutput {
            rc: 1,
            stdout: Vec::new(),
            stderr: b"usermod: user app is currently used by process 42\n".to_vec(),
        },
    );
    let error = failed(h.run("user", args.clone()).await.unwrap_err());
    assert_eq!(
        error.msg.as_deref(),
        Some(
            "`usermod -s /bin/zsh -p NOT_LOGGING_PASSWORD app` failed (1): usermod: user app is currently used by process 42"
        )
    );
    assert_eq!(error.data["name"], "app");

    h.fake
        .query(&user_read(&[]), output(0, APP_USER))
        .answer(&usermod, output(0, ""))
        .query(&user_read(&[]), output(0, &APP_USER.replace("/bin/bash", "/bin/zsh")));
    let outcome = h.run("user", args).await.unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed);
    assert_eq!(outcome.data["shell"], "/bin/zsh");
}

#[tokio::test]
async fn user_with_a_missing_group_is_a_change_in_check_mode_and_a_failure_in_a_run() {
    let mut h = Harness::new();
    let args = json!({"name": "app", "group": "app", "groups": "ops"});
    let read = NO_USER.replace("missing:", "missing: ops");
    h.fake.query(&user_read(&["ops"]), output(0, &read));
    let checked = h.run_checked("user", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(
        checked.msg.as_deref(),
        Some("check mode: Group ops does not exist yet; the user would be changed once it does")
    );

    h.fake.query(&user_read(&["ops"]), output(0, &read));
    let error = failed(h.run("user", args).await.unwrap_err());
    h.fake.assert_answered();
    assert_eq!(error.msg.as_deref(), Some("Group ops does not exist"));
    assert_eq!(error.data["name"], "app");
    assert!(writes(&h).is_empty());
}

#[tokio::test]
async fn user_absent_deletes_once() {
    let mut h = Harness::new();
    let args = json!({"name": "app", "group": "app", "state": "absent", "remove": true});
    h.fake.query(&user_read(&[]), output(0, APP_USER));
    let checked = h.run_checked("user", args.clone()).await;
    assert!(checked.changed && checked.msg.is_none());

    h.fake
        .query(&user_read(&[]), output(0, APP_USER))
        .answer(&["userdel", "-r", "app"], output(0, ""));
    assert_eq!(
        h.run("user", args.clone()).await.unwrap().registered(),
        checked.registered()
    );

    h.fake.query(&user_read(&[]), output(0, NO_USER));
    let again = h.run("user", args).await.unwrap();
    h.fake.assert_answered();
    assert!(!again.changed);
    assert_eq!(again.msg.as_deref(), Some("user app does not exist"));
}

// ---- service ----

const NGINX_PROBE: [&str; 7] = ["/bin/sh", "-c", super::service::PROBE, "sh", "nginx", "auto", ""];

fn nginx_state(load: &str, active: &str, file_state: &str, enabled_rc: i32) -> String {
    format!(
        "manager=systemd\nId=nginx.service\nLoadState={load}\nActiveState={active}\nSubState=x\nUnitFileState={file_state}\nis_enabled={enabled_rc}:{file_state}\n"
    )
}

/// The argument vector of `words` run through service's output-to-a-file wrapper.
fn control(words: &[&'static str]) -> Vec<&'static str> {
    let mut argv = vec!["/bin/sh", "-c", super::service::CONTROL, "sh"];
    argv.extend(words);
    argv
}

#[tokio::test]
async fn service_check_reports_the_commands_then_a_run_sends_exactly_them() {
    let mut h = Harness::new();
    let args = json!({"name": "nginx", "state": "started", "enabled": true});
    let stopped = nginx_state("loaded", "inactive", "disabled", 1);
    h.fake.query(&NGINX_PROBE, output(0, &stopped));
    let checked = h.run_checked("service", args.clone()).await;
    h.fake.assert_answered();
    assert!(checked.changed);
    assert_eq!(
        checked.msg.as_deref(),
        Some("check mode: would run systemctl enable nginx; systemctl start nginx")
    );
    assert_eq!(checked.data["state"], "started");
    assert_eq!(checked.data["enabled"], true);
    assert_eq!(checked.data["status"]["ActiveState"], "inactive");
    let probe = &h.fake.calls()[0].exec;
    assert_eq!(
        probe.stdin.as_deref(),
        Some(&b"\n"[..]),
        "the pattern comes on standard input"
    );

    h.fake.clear_calls();
    h.fake
        .query(&NGINX_PROBE, output(0, &stopped))
        .answer(&control(&["systemctl", "enable", "nginx"]), output(0, ""))
        .answer(&control(&["systemctl", "start", "nginx"]), output(0, ""));
    let outcome = h.run("service", args.clone()).await.unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed && outcome.msg.is_none());
    assert_eq!(outcome.data, checked.data);
    assert_eq!(writes(&h).len(), 2);

    h.fake.clear_calls();
    h.fake
        .query(&NGINX_PROBE, output(0, &nginx_state("loaded", "active", "enabled", 0)));
    let again = h.run("service", args).await.unwrap();
    h.fake.assert_answered();
    assert!(!again.changed);
    assert!(writes(&h).is_empty());
}

#[tokio::test]
async fn service_daemon_reload_finds_a_new_unit_in_a_run() {
    let mut h = Harness::new();
    let args = json!({"name": "nginx", "state": "started", "daemon_reload": true});
    let unknown = nginx_state("not-found", "inactive", "", 1);
    h.fake.query(&NGINX_PROBE, output(0, &unknown));
    let checked = h.run_checked("service", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(
        checked.msg.as_deref(),
        Some("check mode: systemd does not know nginx yet; it would look again after daemon-reload")
    );

    h.fake
        .query(&NGINX_PROBE, output(0, &unknown))
        .answer(&control(&["systemctl", "daemon-reload"]), output(0, ""))
        .query(
            &NGINX_PROBE,
            output(0, &nginx_state("loaded", "inactive", "disabled", 1)),
        )
        .answer(&control(&["systemctl", "start", "nginx"]), output(0, ""));
    let outcome = h.run("service", args).await.unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed);
    assert_eq!(
        outcome.data["status"]["LoadState"], "loaded",
        "the state read after the reload"
    );
}

#[tokio::test]
async fn service_that_the_host_does_not_know_fails() {
    let h = Harness::new();
    h.fake
        .query(&NGINX_PROBE, output(0, &nginx_state("not-found", "inactive", "", 1)));
    let error = failed(
        h.run("service", json!({"name": "nginx", "state": "started"}))
            .await
            .unwrap_err(),
    );
    h.fake.assert_answered();
    assert_eq!(
        error.msg.as_deref(),
        Some("Could not find the requested service nginx: systemd does not know it")
    );
    assert_eq!(error.data["name"], "nginx");
    assert!(writes(&h).is_empty());
}

#[tokio::test]
async fn service_reload_only_reloads_in_a_run() {
    let mut h = Harness::new();
    let args = json!({"daemon_reload": true});
    let checked = h.run_checked("service", args.clone()).await;
    assert!(!checked.changed && h.fake.calls().is_empty());
    h.fake.answer(&control(&["systemctl", "daemon-reload"]), output(0, ""));
    let outcome = h.run("service", args).await.unwrap();
    h.fake.assert_answered();
    assert_eq!(outcome.registered(), checked.registered());
}

// ---- pip ----

#[tokio::test]
async fn pip_check_reports_the_install_then_a_run_installs_once() {
    let mut h = Harness::new();
    let args = json!({"name": "requests", "version": "2.31.0"});
    let show = ["python3", "-m", "pip", "show", "requests"];
    h.fake.query(&show, output(1, ""));
    let checked = h.run_checked("pip", args.clone()).await;
    assert_eq!(
        checked.registered(),
        json!({"changed": true, "failed": false, "name": ["requests"], "state": "present"})
    );

    h.fake.query(&show, output(1, "")).answer(
        &["python3", "-m", "pip", "install", "requests==2.31.0"],
        output(0, "Successfully installed requests-2.31.0\n"),
    );
    let outcome = h.run("pip", args.clone()).await.unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.data["stdout"], "Successfully installed requests-2.31.0\n");

    h.fake.clear_calls();
    h.fake.query(&show, output(0, "Name: requests\nVersion: 2.31.0\n"));
    assert!(!h.run("pip", args).await.unwrap().changed);
    h.fake.assert_answered();
    assert!(writes(&h).is_empty());
}

// ---- apt_repository ----

#[tokio::test]
async fn apt_repository_check_shows_the_new_file_then_a_run_writes_it_and_refreshes() {
    let mut h = Harness::new();
    h.fake.dir("/etc/apt/sources.list.d");
    let read = ["/bin/sh", "-c", super::apt_repository::READ, "sh"];
    let sources = "\u{1e}/etc/apt/sources.list\ndeb http://deb.debian.org/debian bookworm main\n";
    let args = json!({"repo": "deb http://apt.example.org/debian bookworm main", "filename": "example"});
    h.fake.query(&read, output(0, sources));
    let checked = h.run_checked("apt_repository", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(
        checked.data["sources_added"],
        json!(["/etc/apt/sources.list.d/example.list"])
    );
    assert_eq!(
        checked.diff.unwrap().after,
        "deb http://apt.example.org/debian bookworm main\n"
    );

    h.fake
        .query(&read, output(0, sources))
        .answer(&["apt-get", "-q", "update"], output(0, ""));
    let outcome = h.run("apt_repository", args.clone()).await.unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed);
    assert_eq!(
        h.fake.content("/etc/apt/sources.list.d/example.list"),
        "deb http://apt.example.org/debian bookworm main\n"
    );
    assert_eq!(h.fake.node("/etc/apt/sources.list.d/example.list").unwrap().mode, 0o644);

    h.fake.clear_calls();
    let sources = format!(
        "{sources}\u{1e}/etc/apt/sources.list.d/example.list\ndeb http://apt.example.org/debian bookworm main\n"
    );
    h.fake.query(&read, output(0, &sources));
    assert!(!h.run("apt_repository", args).await.unwrap().changed);
    assert!(writes(&h).is_empty());
}

// ---- apt ----

fn apt_get(words: &[&'static str]) -> Vec<&'static str> {
    let mut argv = vec![
        "apt-get",
        "-y",
        "-q",
        "-o=DPkg::Lock::Timeout=60",
        "-o=Dpkg::Options::=--force-confdef",
        "-o=Dpkg::Options::=--force-confold",
    ];
    argv.extend(words);
    argv
}

#[tokio::test]
async fn apt_check_does_not_refresh_the_lists_and_a_run_refreshes_then_installs() {
    let mut h = Harness::new();
    let read = ["/bin/sh", "-c", super::apt::READ, "sh", "1", "sl"];
    let args = json!({"name": "sl", "update_cache": true});
    // Not in the lists yet: the refresh may bring it.
    h.fake.query(&read, output(0, "cache|1000|0\npkg|sl|||\n"));
    let checked = h.run_checked("apt", args.clone()).await;
    h.fake.assert_answered();
    assert_eq!(
        checked.registered(),
        json!({"changed": true, "failed": false, "cache_updated": true, "cache_update_time": 0, "msg": "check mode: would install sl"})
    );

    h.fake
        .query(&read, output(0, "cache|1000|0\npkg|sl|||\n"))
        .answer(&apt_get(&["update"]), output(0, ""))
        .query(&read, output(0, "cache|1001|1001\npkg|sl|||5.02-1\n"))
        .answer(
            &apt_get(&["install", "sl"]),
            output(0, "0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\n"),
        );
    let outcome = h.run("apt", args).await.unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed && outcome.msg.is_none());
    assert_eq!(outcome.data["cache_update_time"], 1001);
    assert_eq!(
        outcome.data["stdout_lines"][0],
        "0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded."
    );

    let fresh = json!({"name": "sl", "cache_valid_time": 3600});
    h.fake.clear_calls();
    h.fake.query(
        &read,
        output(0, "cache|1002|1001\npkg|sl|install ok installed|5.02-1|5.02-1\n"),
    );
    let again = h.run("apt", fresh).await.unwrap();
    h.fake.assert_answered();
    assert!(!again.changed);
    assert_eq!(again.data["cache_updated"], false);
    assert!(writes(&h).is_empty());
}

#[tokio::test]
async fn apt_fails_for_a_package_no_list_has() {
    let h = Harness::new();
    h.fake.query(
        &["/bin/sh", "-c", super::apt::READ, "sh", "0", "nope"],
        output(0, "pkg|nope|||\n"),
    );
    let error = h.run("apt", json!({"name": "nope"})).await.unwrap_err();
    assert_eq!(error.to_string(), "No package matching 'nope' is available");
    h.fake.assert_answered();
}

// ---- get_url ----

#[tokio::test]
async fn get_url_keeps_an_existing_file_and_fixes_only_its_mode() {
    let mut h = Harness::new();
    h.fake.file("/opt/app.tar.gz", "archive", 0o644);
    let args = json!({"url": "http://127.0.0.1:9/app.tar.gz", "dest": "/opt/app.tar.gz", "mode": "0600"});
    let checked = h.run_checked("get_url", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(checked.msg.as_deref(), Some("file already exists"));

    h.fake.clear_calls();
    let outcome = h.run("get_url", args.clone()).await.unwrap();
    assert_eq!(outcome.registered(), checked.registered());
    assert_eq!(ops(&h), ["stat", "set_attributes"]);
    assert_eq!(h.fake.node("/opt/app.tar.gz").unwrap().mode, 0o600);
    assert_eq!(h.fake.content("/opt/app.tar.gz"), "archive");
    assert!(!h.run("get_url", args).await.unwrap().changed);
}

// ---- unarchive ----

#[tokio::test]
async fn unarchive_check_only_compares_and_a_run_unpacks_once() {
    let mut h = Harness::new();
    let unpack = |action| {
        [
            "/bin/sh",
            "-c",
            super::unarchive::UNPACK,
            "sh",
            action,
            "/opt",
            "/tmp/a.tgz",
            "",
            "",
            "",
        ]
    };
    let args = json!({"src": "/tmp/a.tgz", "dest": "/opt", "remote_src": true});
    h.fake
        .query(&unpack("check"), output(0, "handler=tar-z\nfile:a\ndiffers:a\n"));
    let checked = h.run_checked("unarchive", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(
        checked.msg.as_deref(),
        Some("check mode: would unpack /tmp/a.tgz into /opt (1 path(s) differ)")
    );

    h.fake
        .query(&unpack("check"), output(0, "handler=tar-z\nfile:a\ndiffers:a\n"))
        .answer(
            &unpack("apply"),
            output(0, "handler=tar-z\nfile:a\ndiffers:a\nextracted\n"),
        );
    let outcome = h.run("unarchive", args.clone()).await.unwrap();
    assert!(outcome.changed && outcome.msg.is_none());
    assert_eq!(outcome.data["handler"], "TgzArchive");
    assert_eq!(outcome.data["extract_results"]["cmd"], "tar");

    h.fake.clear_calls();
    h.fake.query(&unpack("check"), output(0, "handler=tar-z\nfile:a\n"));
    assert!(!h.run("unarchive", args).await.unwrap().changed);
    h.fake.assert_answered();
    assert!(writes(&h).is_empty());
}
