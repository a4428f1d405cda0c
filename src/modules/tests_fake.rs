//! Unit tests of the file modules and `command` over the fake transport: check mode changes
//! nothing, a run does what it reported, and a second run reports no change.

use serde_json::json;

use super::fake_host::Harness;
use crate::compat::checksum::hex;
use crate::transport::ExecOutput;
use crate::transport::fake::Kind;

fn ops(h: &Harness) -> Vec<&'static str> {
    h.fake.calls().iter().map(|c| c.op).collect()
}

fn ok_output(stdout: &str) -> ExecOutput {
    ExecOutput {
        rc: 0,
        stdout: stdout.as_bytes().to_vec(),
        stderr: Vec::new(),
    }
}

// ---- copy ----

#[tokio::test]
async fn copy_check_mode_reports_the_change_and_writes_nothing() {
    let mut h = Harness::new();
    h.fake.file("/etc/app.conf", "old\n", 0o644);
    let outcome = h
        .run_checked(
            "copy",
            json!({"content": "new\n", "dest": "/etc/app.conf", "mode": "0600"}),
        )
        .await;
    assert!(outcome.changed);
    let diff = outcome.diff.expect("a diff");
    assert_eq!((diff.before.as_str(), diff.after.as_str()), ("old\n", "new\n"));
    assert_eq!(h.fake.content("/etc/app.conf"), "old\n");
}

#[tokio::test]
async fn copy_writes_what_it_reported_then_is_idempotent() {
    let mut h = Harness::new();
    h.fake.dir("/etc");
    let args =
        json!({"content": "server=1\n", "dest": "/etc/app.conf", "mode": "0640", "owner": "app", "group": "staff"});
    let checked = h.run_checked("copy", args.clone()).await;
    assert!(checked.changed);
    assert!(h.fake.node("/etc/app.conf").is_none());

    h.fake.clear_calls();
    let outcome = h.run("copy", args.clone()).await.unwrap();
    assert!(outcome.changed && !outcome.failed);
    assert_eq!(
        outcome.data["checksum"],
        hex(&crate::compat::checksum::sha1(b"server=1\n"))
    );
    assert_eq!(outcome.data["size"], 9);
    let node = h.fake.node("/etc/app.conf").unwrap();
    assert_eq!(node.kind, Kind::File(b"server=1\n".to_vec()));
    assert_eq!(
        (node.mode, node.owner.as_str(), node.group.as_str()),
        (0o640, "app", "staff")
    );
    assert_eq!(ops(&h), ["stat", "write"]);

    h.fake.clear_calls();
    let again = h.run("copy", args.clone()).await.unwrap();
    assert!(!again.changed);
    assert_eq!(ops(&h), ["stat"], "a second run only looks");
    let checked = h.run_checked("copy", args).await;
    assert!(!checked.changed && checked.diff.is_none());
}

#[tokio::test]
async fn copy_fixes_only_the_mode_when_the_content_is_right() {
    let mut h = Harness::new();
    h.fake.file("/etc/app.conf", "same\n", 0o644);
    let args = json!({"content": "same\n", "dest": "/etc/app.conf", "mode": "0600"});
    let checked = h.run_checked("copy", args.clone()).await;
    assert!(checked.changed && checked.diff.is_none());
    h.fake.clear_calls();
    assert!(h.run("copy", args.clone()).await.unwrap().changed);
    assert_eq!(ops(&h), ["stat", "set_attributes"]);
    assert_eq!(h.fake.node("/etc/app.conf").unwrap().mode, 0o600);
    assert!(!h.run("copy", args).await.unwrap().changed);
}

#[tokio::test]
async fn copy_takes_src_from_the_playbooks_files_folder_into_a_dest_folder() {
    let h = Harness::new();
    std::fs::create_dir(h.dir.path().join("files")).unwrap();
    std::fs::write(h.dir.path().join("files/motd"), "welcome\n").unwrap();
    h.fake.dir("/etc");
    let outcome = h.run("copy", json!({"src": "motd", "dest": "/etc/"})).await.unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.data["dest"], "/etc/motd");
    assert_eq!(h.fake.content("/etc/motd"), "welcome\n");
    assert_eq!(h.fake.node("/etc/motd").unwrap().mode, 0o644);
    assert!(
        !h.run("copy", json!({"src": "motd", "dest": "/etc/"}))
            .await
            .unwrap()
            .changed
    );
}

#[tokio::test]
async fn copy_without_force_leaves_an_existing_file() {
    let h = Harness::new();
    h.fake.file("/etc/app.conf", "mine\n", 0o644);
    let outcome = h
        .run(
            "copy",
            json!({"content": "theirs\n", "dest": "/etc/app.conf", "force": false}),
        )
        .await
        .unwrap();
    assert!(!outcome.changed);
    assert_eq!(h.fake.content("/etc/app.conf"), "mine\n");
    assert!(h.fake.writes().is_empty());
}

#[tokio::test]
async fn copy_writes_through_a_link_to_its_target() {
    let h = Harness::new();
    h.fake.file("/etc/real.conf", "old\n", 0o600);
    h.fake.link("/etc/app.conf", "/etc/real.conf");
    let outcome = h
        .run("copy", json!({"content": "new\n", "dest": "/etc/app.conf"}))
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.data["dest"], "/etc/real.conf");
    assert_eq!(h.fake.content("/etc/real.conf"), "new\n");
    assert_eq!(
        h.fake.node("/etc/real.conf").unwrap().mode,
        0o600,
        "the old mode is kept"
    );
    assert_eq!(
        h.fake.node("/etc/app.conf").unwrap().kind,
        Kind::Link("/etc/real.conf".into())
    );
}

#[tokio::test]
async fn copy_keeps_the_old_file_when_the_validator_refuses_the_new_one() {
    let h = Harness::new();
    h.fake.file("/etc/nginx.conf", "good\n", 0o644);
    h.fake.answer(
        &["nginx", "-t", "-c", "/etc/.bgrun.fake001"],
        ExecOutput {
            rc: 1,
            stdout: Vec::new(),
            stderr: b"syntax error in /etc/.bgrun.fake001\n".to_vec(),
        },
    );
    let args = json!({"content": "bad\n", "dest": "/etc/nginx.conf", "validate": "nginx -t -c %s"});
    let error = h.run("copy", args).await.unwrap_err().to_string();
    assert!(error.contains("syntax error in %s"), "{error}");
    assert_eq!(h.fake.content("/etc/nginx.conf"), "good\n");
    assert!(
        h.fake.node("/etc/.bgrun.fake001").is_none(),
        "the staged file is removed"
    );
    assert_eq!(ops(&h), ["stat", "stage", "program", "discard"]);
    h.fake.assert_answered();

    h.fake
        .answer(&["nginx", "-t", "-c", "/etc/.bgrun.fake002"], ok_output(""));
    let args = json!({"content": "better\n", "dest": "/etc/nginx.conf", "validate": "nginx -t -c %s"});
    assert!(h.run("copy", args).await.unwrap().changed);
    assert_eq!(h.fake.content("/etc/nginx.conf"), "better\n");
    assert!(h.fake.node("/etc/.bgrun.fake002").is_none());
    h.fake.assert_answered();
}

#[tokio::test]
async fn copy_into_a_missing_folder_fails_and_leaves_nothing() {
    let h = Harness::new();
    let error = h
        .run("copy", json!({"content": "x", "dest": "/nowhere/app.conf"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("cannot write `/nowhere/app.conf`"), "{error}");
    assert!(h.fake.snapshot().is_empty());
}

// ---- file ----

#[tokio::test]
async fn file_directory_check_then_run_then_idempotent() {
    let mut h = Harness::new();
    let args = json!({"path": "/srv/app/data", "state": "directory", "mode": "0750"});
    let checked = h.run_checked("file", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(checked.diff.unwrap().after, "state: directory\nmode: 0750\n");

    h.fake.clear_calls();
    let outcome = h.run("file", args.clone()).await.unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.data["state"], "directory");
    assert_eq!(ops(&h), ["stat", "mkdir", "set_attributes"]);
    let node = h.fake.node("/srv/app/data").unwrap();
    assert_eq!((node.kind, node.mode), (Kind::Dir, 0o750));
    assert_eq!(h.fake.node("/srv/app").unwrap().kind, Kind::Dir, "parents are made");

    h.fake.clear_calls();
    assert!(!h.run("file", args.clone()).await.unwrap().changed);
    assert_eq!(ops(&h), ["stat"]);
    assert!(!h.run_checked("file", args).await.changed);
}

#[tokio::test]
async fn file_sets_the_mode_of_an_existing_file_only_when_it_differs() {
    let mut h = Harness::new();
    h.fake.file("/usr/local/bin/tool", "#!/bin/sh\n", 0o644);
    let args = json!({"path": "/usr/local/bin/tool", "mode": "0755"});
    assert!(h.run_checked("file", args.clone()).await.changed);
    assert!(h.run("file", args.clone()).await.unwrap().changed);
    assert_eq!(h.fake.node("/usr/local/bin/tool").unwrap().mode, 0o755);
    assert_eq!(h.fake.content("/usr/local/bin/tool"), "#!/bin/sh\n");
    assert!(!h.run("file", args).await.unwrap().changed);
}

#[tokio::test]
async fn file_absent_removes_a_tree_once() {
    let mut h = Harness::new();
    h.fake.file("/srv/old/a/b.txt", "x", 0o644);
    let args = json!({"path": "/srv/old", "state": "absent"});
    assert!(h.run_checked("file", args.clone()).await.changed);
    assert!(h.fake.node("/srv/old/a/b.txt").is_some());
    assert!(h.run("file", args.clone()).await.unwrap().changed);
    assert!(h.fake.node("/srv/old").is_none() && h.fake.node("/srv/old/a/b.txt").is_none());
    assert!(h.fake.node("/srv").is_some());
    assert!(!h.run("file", args).await.unwrap().changed);
}

#[tokio::test]
async fn file_link_is_made_once_and_a_file_in_the_way_needs_force() {
    let mut h = Harness::new();
    h.fake.dir("/etc");
    let missing = h
        .run_failing(
            "file",
            json!({"path": "/etc/current", "src": "/opt/app-2", "state": "link"}),
        )
        .await;
    assert!(
        missing.msg.unwrap().starts_with("src file does not exist"),
        "a link to nothing needs force"
    );
    h.fake.dir("/opt/app-2");
    let args = json!({"path": "/etc/current", "src": "/opt/app-2", "state": "link"});
    assert!(h.run_checked("file", args.clone()).await.changed);
    assert!(h.run("file", args.clone()).await.unwrap().changed);
    assert_eq!(
        h.fake.node("/etc/current").unwrap().kind,
        Kind::Link("/opt/app-2".into())
    );
    assert!(!h.run("file", args).await.unwrap().changed);

    h.fake.file("/etc/other", "a file", 0o644);
    let args = json!({"path": "/etc/other", "src": "/opt/app-2", "state": "link"});
    let refused = h.run_failing("file", args).await;
    assert!(refused.failed && refused.msg.unwrap().contains("force"));
    assert_eq!(h.fake.content("/etc/other"), "a file");
    let args = json!({"path": "/etc/other", "src": "/opt/app-2", "state": "link", "force": true});
    assert!(h.run("file", args).await.unwrap().changed);
    assert_eq!(h.fake.node("/etc/other").unwrap().kind, Kind::Link("/opt/app-2".into()));
}

#[tokio::test]
async fn file_state_file_does_not_create_and_touch_does() {
    let h = Harness::new();
    h.fake.dir("/tmp");
    let missing = h.run_failing("file", json!({"path": "/tmp/flag"})).await;
    assert!(missing.failed && missing.msg.unwrap().contains("state: touch"));
    assert!(h.fake.writes().is_empty());
    assert!(
        h.run("file", json!({"path": "/tmp/flag", "state": "touch"}))
            .await
            .unwrap()
            .changed
    );
    assert_eq!(h.fake.content("/tmp/flag"), "");
}

// ---- lineinfile ----

#[tokio::test]
async fn lineinfile_check_then_run_then_idempotent() {
    let mut h = Harness::new();
    h.fake
        .file("/etc/ssh/sshd_config", "Port 22\nPermitRootLogin yes\n", 0o600);
    let args = json!({"path": "/etc/ssh/sshd_config", "regexp": "^PermitRootLogin", "line": "PermitRootLogin no"});
    let checked = h.run_checked("lineinfile", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(checked.diff.unwrap().after, "Port 22\nPermitRootLogin no\n");

    let outcome = h.run("lineinfile", args.clone()).await.unwrap();
    assert!(outcome.changed);
    assert_eq!(h.fake.content("/etc/ssh/sshd_config"), "Port 22\nPermitRootLogin no\n");
    assert_eq!(h.fake.node("/etc/ssh/sshd_config").unwrap().mode, 0o600);

    h.fake.clear_calls();
    assert!(!h.run("lineinfile", args.clone()).await.unwrap().changed);
    assert_eq!(ops(&h), ["stat", "read"]);
    assert!(!h.run_checked("lineinfile", args).await.changed);
}

#[tokio::test]
async fn lineinfile_creates_the_file_and_its_folder() {
    let h = Harness::new();
    let args = json!({"path": "/etc/app/env", "line": "MODE=prod", "create": true});
    assert!(h.run("lineinfile", args.clone()).await.unwrap().changed);
    assert_eq!(ops(&h), ["stat", "make_parent", "write"]);
    assert_eq!(h.fake.content("/etc/app/env"), "MODE=prod\n");
    assert!(!h.run("lineinfile", args).await.unwrap().changed);

    let missing = h
        .run("lineinfile", json!({"path": "/etc/none", "line": "x"}))
        .await
        .unwrap_err();
    assert_eq!(missing.to_string(), "Destination /etc/none does not exist !");
}

#[tokio::test]
async fn lineinfile_absent_removes_the_lines_once() {
    let mut h = Harness::new();
    h.fake.file(
        "/etc/hosts",
        "127.0.0.1 localhost\n10.0.0.9 old\n10.0.0.9 old2\n",
        0o644,
    );
    let args = json!({"path": "/etc/hosts", "regexp": "^10\\.0\\.0\\.9", "state": "absent"});
    let checked = h.run_checked("lineinfile", args.clone()).await;
    assert_eq!(checked.data["found"], 2);
    assert!(h.run("lineinfile", args.clone()).await.unwrap().changed);
    assert_eq!(h.fake.content("/etc/hosts"), "127.0.0.1 localhost\n");
    let again = h.run("lineinfile", args).await.unwrap();
    assert!(!again.changed);
    assert_eq!(again.data["found"], 0);
}

// ---- command ----

#[tokio::test]
async fn command_runs_its_words_without_a_shell() {
    let mut h = Harness::new();
    h.environment = vec![("LANG".into(), "C".into())];
    h.fake.answer(
        &["echo", "a b", "$HOME", "*", ";", "rm"],
        ok_output("a b $HOME * ; rm\n"),
    );
    let outcome = h
        .run("command", json!({"cmd": "echo 'a b' $HOME * ; rm", "chdir": "/srv"}))
        .await
        .unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed && !outcome.failed);
    assert_eq!(outcome.data["stdout"], "a b $HOME * ; rm");
    let calls = h.fake.calls();
    assert_eq!(calls.len(), 1);
    let exec = &calls[0].exec;
    assert_eq!(exec.argv, ["echo", "a b", "$HOME", "*", ";", "rm"], "no /bin/sh -c");
    assert_eq!(exec.chdir.as_deref(), Some("/srv"));
    assert_eq!(exec.env, [("LANG".to_string(), "C".to_string())]);

    h.fake.clear_calls();
    h.fake.answer(&["printf", "%s", "x y"], ok_output(""));
    h.run("command", json!({"argv": ["printf", "%s", "x y"]}))
        .await
        .unwrap();
    assert_eq!(h.fake.calls()[0].exec.argv, ["printf", "%s", "x y"]);
    h.fake.assert_answered();
}

#[tokio::test]
async fn command_reports_a_failing_program() {
    let h = Harness::new();
    h.fake.answer(
        &["false"],
        ExecOutput {
            rc: 1,
            stdout: Vec::new(),
            stderr: b"nope\n".to_vec(),
        },
    );
    let outcome = h.run_failing("command", json!({"cmd": "false"})).await;
    assert!(outcome.failed);
    assert_eq!(outcome.data["rc"], 1);
    assert_eq!(outcome.data["stderr"], "nope");
}

#[tokio::test]
async fn command_of_a_missing_program_fails_as_ansible_reports_it() {
    let h = Harness::new();
    let exit = |rc| ExecOutput {
        rc,
        stdout: Vec::new(),
        stderr: b"sh: 1: nosuch: not found\n".to_vec(),
    };
    h.fake.answer(&["nosuch", "--password=x"], exit(127));
    let resolve = ["/bin/sh", "-c", super::command::RESOLVE_PROGRAM, "sh", "nosuch"];
    h.fake.query(&resolve, exit(2));
    let outcome = h.run_failing("command", json!({"cmd": "nosuch --password=x"})).await;
    h.fake.assert_answered();
    assert!(!outcome.changed);
    assert_eq!(
        outcome.msg.as_deref(),
        Some("[Errno 2] No such file or directory: b'nosuch'")
    );
    assert_eq!(outcome.data["rc"], 2);
    assert_eq!(outcome.data["cmd"], "nosuch '--password=********'");
    assert_eq!(
        (&outcome.data["stdout"], &outcome.data["stderr"]),
        (&json!(""), &json!(""))
    );

    // A program that exists and exits 127 itself keeps its own result.
    h.fake.answer(&["nosuch"], exit(127));
    h.fake.query(&resolve, exit(0));
    let outcome = h.run_failing("command", json!({"cmd": "nosuch"})).await;
    assert_eq!(outcome.data["rc"], 127);
    assert!(outcome.changed);
}

#[tokio::test]
async fn command_in_check_mode_runs_nothing_and_creates_skips() {
    let mut h = Harness::new();
    h.check = true;
    let outcome = h.run("command", json!({"cmd": "rm -rf /srv"})).await.unwrap();
    assert!(outcome.skipped && !outcome.changed);
    assert!(h.fake.calls().is_empty());
    h.check = false;

    h.fake.file("/srv/done", "", 0o644);
    let outcome = h
        .run("command", json!({"cmd": "make install", "creates": "/srv/done"}))
        .await
        .unwrap();
    assert!(!outcome.changed);
    assert_eq!(ops(&h), ["stat"]);
}

#[tokio::test]
async fn shell_is_the_one_that_goes_through_sh() {
    let h = Harness::new();
    h.fake
        .answer(&["/bin/sh", "-c", "echo $HOME | wc -c"], ok_output("6\n"));
    let outcome = h.run("shell", json!({"cmd": "echo $HOME | wc -c"})).await.unwrap();
    assert_eq!(outcome.data["stdout"], "6");
    h.fake.assert_answered();
}
