//! Unit tests over the fake transport of the modules that read and edit files in Ansible's ways
//! (`include_vars`, `slurp`, `tempfile`, `find`, `replace`, `blockinfile`, `script`): check mode
//! changes nothing, a run does what it reported, and a second run reports no change.

use serde_json::json;

use super::fake_host::Harness;
use crate::transport::ExecOutput;

// ---- include_vars ----

#[tokio::test]
async fn include_vars_sets_facts_from_the_controller_and_never_touches_the_host() {
    let mut h = Harness::new();
    std::fs::create_dir_all(h.dir.path().join("vars")).unwrap();
    std::fs::write(h.dir.path().join("vars/app.yml"), "port: 8080\nname: books\n").unwrap();
    let checked = h
        .run_checked("include_vars", json!({"file": "app.yml", "name": "app"}))
        .await;
    let outcome = h
        .run("include_vars", json!({"file": "app.yml", "name": "app"}))
        .await
        .unwrap();
    for outcome in [checked, outcome] {
        assert!(!outcome.changed);
        assert_eq!(outcome.facts["app"], json!({"port": 8080, "name": "books"}));
    }
    assert!(h.fake.calls().is_empty());
}

fn output(rc: i32, stdout: &str) -> ExecOutput {
    ExecOutput {
        rc,
        stdout: stdout.as_bytes().to_vec(),
        stderr: Vec::new(),
    }
}

fn script<'a>(script: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut argv = vec!["/bin/sh", "-c", script, "sh"];
    argv.extend(args);
    argv
}

// ---- slurp ----

#[tokio::test]
async fn slurp_registers_base64_and_names_a_missing_file() {
    let mut h = Harness::new();
    h.fake
        .query(&script(super::slurp::READ, &["/etc/motd"]), output(0, "hi\n"));
    let outcome = h.run_checked("slurp", json!({"src": "/etc/motd"})).await;
    assert!(!outcome.changed);
    assert_eq!(outcome.data["content"], "aGkK");
    assert_eq!(outcome.data["encoding"], "base64");
    h.fake.query(&script(super::slurp::READ, &["/nope"]), output(2, ""));
    let failed = h.run_failing("slurp", json!({"path": "/nope"})).await;
    assert_eq!(failed.msg.as_deref(), Some("file not found: /nope"));
    h.fake.assert_answered();
}

// ---- tempfile ----

#[tokio::test]
async fn tempfile_is_skipped_in_check_mode_and_made_once_for_real() {
    let mut h = Harness::new();
    let checked = h.run_checked("tempfile", json!({"suffix": ".conf"})).await;
    assert!(checked.skipped && !checked.changed);
    assert!(h.fake.calls().is_empty(), "check mode sends nothing");

    let made = "/tmp/ansible.abcdefgh.conf";
    h.fake
        .answer(
            &script(super::tempfile::MAKE_TEMP, &["", "", "ansible.", ".conf"]),
            output(0, &format!("{made}\n")),
        )
        .query(
            &script(super::path_info::PATH_INFO, &[made]),
            output(0, "0 0 root root 600 0 1\nother\n"),
        );
    let outcome = h.run("tempfile", json!({"suffix": ".conf"})).await.unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed);
    assert_eq!(outcome.data["path"], made);
    assert_eq!(
        (&outcome.data["mode"], &outcome.data["state"]),
        (&json!("0600"), &json!("file"))
    );
}

// ---- replace ----

#[tokio::test]
async fn replace_check_then_run_then_idempotent() {
    let mut h = Harness::new();
    h.fake.file("/etc/app.conf", "port=80\nhost=a\nport=81\n", 0o640);
    let args = json!({"path": "/etc/app.conf", "regexp": "^port=(\\d+)$", "replace": "port=\\g<1>0"});
    let checked = h.run_checked("replace", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(checked.msg.as_deref(), Some("2 replacements made"));
    let diff = checked.diff.expect("a diff");
    assert_eq!(diff.after, "port=800\nhost=a\nport=810\n");
    let outcome = h.run("replace", args.clone()).await.unwrap();
    assert!(outcome.changed);
    assert_eq!(h.fake.content("/etc/app.conf"), "port=800\nhost=a\nport=810\n");
    assert_eq!(h.fake.node("/etc/app.conf").unwrap().mode, 0o640, "the mode is kept");
    let again = h
        .run(
            "replace",
            json!({"path": "/etc/app.conf", "regexp": "^port=8\\d0$", "replace": "port=$0"}),
        )
        .await;
    assert!(again.unwrap().changed, "a different edit still changes");
    h.fake.clear_calls();
    let same = json!({"path": "/etc/app.conf", "regexp": "^host=a$", "replace": "host=a"});
    assert!(!h.run("replace", same).await.unwrap().changed);
    assert!(h.fake.writes().is_empty(), "an edit to the same text writes nothing");
}

// ---- blockinfile ----

#[tokio::test]
async fn blockinfile_check_then_run_then_idempotent() {
    let mut h = Harness::new();
    h.fake.file("/etc/hosts", "127.0.0.1 localhost\n", 0o644);
    let args = json!({"path": "/etc/hosts", "block": "10.0.0.1 db"});
    let checked = h.run_checked("blockinfile", args.clone()).await;
    assert!(checked.changed);
    assert_eq!(checked.msg.as_deref(), Some("Block inserted"));
    assert!(h.run("blockinfile", args.clone()).await.unwrap().changed);
    assert_eq!(
        h.fake.content("/etc/hosts"),
        "127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 db\n# END ANSIBLE MANAGED BLOCK\n"
    );
    h.fake.clear_calls();
    assert!(!h.run("blockinfile", args.clone()).await.unwrap().changed);
    assert!(h.fake.writes().is_empty());
    assert!(!h.run_checked("blockinfile", args).await.changed);
    let removed = h
        .run("blockinfile", json!({"path": "/etc/hosts", "state": "absent"}))
        .await
        .unwrap();
    assert_eq!(removed.msg.as_deref(), Some("Block removed"));
    assert_eq!(h.fake.content("/etc/hosts"), "127.0.0.1 localhost\n");
}

// ---- script ----

#[tokio::test]
async fn script_is_skipped_in_check_mode_then_copied_run_and_removed() {
    let mut h = Harness::new();
    std::fs::create_dir(h.dir.path().join("files")).unwrap();
    std::fs::write(h.dir.path().join("files/setup.sh"), "#!/bin/sh\necho ready\n").unwrap();
    let checked = h.run_checked("script", json!({"cmd": "setup.sh --fast"})).await;
    assert!(checked.skipped);
    assert_eq!(
        checked.msg.as_deref(),
        Some("Check mode is not supported for this task.")
    );

    let folder = "/tmp/bgrun-script.abc123";
    h.fake.dir(folder);
    h.fake
        .answer(
            &["/bin/sh", "-c", super::script::MAKE_FOLDER],
            output(0, &format!("{folder}\n")),
        )
        .answer(
            &["/bin/sh", "-c", &format!("{folder}/setup.sh --fast")],
            output(0, "ready\n"),
        );
    let outcome = h.run("script", json!({"cmd": "setup.sh --fast"})).await.unwrap();
    h.fake.assert_answered();
    assert!(outcome.changed);
    assert_eq!(outcome.data["stdout"], "ready\n");
    assert_eq!(outcome.data["stdout_lines"], json!(["ready"]));
    assert!(h.fake.node(folder).is_none(), "the copy is removed");

    h.fake.clear_calls();
    let skipped = h
        .run("script", json!({"cmd": "setup.sh", "creates": "/"}))
        .await
        .unwrap();
    assert!(skipped.skipped);
    assert!(h.fake.writes().is_empty());
}

// ---- find ----

#[tokio::test]
async fn find_reads_one_listing_and_changes_nothing() {
    let mut h = Harness::new();
    let listing = "1700000000.5\ndir\n\
        f f 644 0 0 4 11 2 1 1.0 2.0 3.0 root root /srv/app.log\0\
        d d 755 0 0 4096 12 2 2 1.0 2.0 3.0 root root /srv/old\0";
    h.fake
        .query(&script(super::find::LIST, &["/srv", "1", ""]), output(0, listing));
    let outcome = h
        .run_checked("find", json!({"paths": "/srv", "patterns": "*.log"}))
        .await;
    h.fake.assert_answered();
    assert!(!outcome.changed);
    assert_eq!(
        (&outcome.data["matched"], &outcome.data["examined"]),
        (&json!(1), &json!(2))
    );
    assert_eq!(outcome.data["files"][0]["path"], "/srv/app.log");
    assert_eq!(outcome.data["files"][0]["mode"], "0644");
}

// ---- file: follow, recurse ----

#[tokio::test]
async fn file_recurse_checks_inside_the_folder_and_sets_everything_once() {
    let mut h = Harness::new();
    h.fake.dir("/srv/app");
    h.fake.file("/srv/app/run.sh", "", 0o644);
    let args = json!({"path": "/srv/app", "state": "directory", "mode": "0755", "recurse": true});
    let differing = script(super::file::FIRST_DIFFERING, &["/srv/app", "0755", "", ""]);
    h.fake.query(&differing, output(0, "/srv/app/run.sh\n"));
    let checked = h.run_checked("file", args.clone()).await;
    assert!(checked.changed, "the folder is right but not what is inside");
    h.fake.query(&differing, output(0, "/srv/app/run.sh\n")).answer(
        &script(super::file::SET_RECURSIVELY, &["/srv/app", "755", "", ""]),
        output(0, ""),
    );
    assert!(h.run("file", args.clone()).await.unwrap().changed);
    h.fake.query(&differing, output(0, ""));
    assert!(!h.run("file", args).await.unwrap().changed);
    h.fake.assert_answered();
}

#[tokio::test]
async fn file_follows_a_link_to_what_it_points_to() {
    let h = Harness::new();
    h.fake.file("/etc/app.conf", "x", 0o644);
    h.fake.link("/etc/current.conf", "app.conf");
    h.fake.query(
        &["readlink", "-m", "--", "/etc/current.conf"],
        output(0, "/etc/app.conf\n"),
    );
    let outcome = h
        .run("file", json!({"path": "/etc/current.conf", "mode": "0600"}))
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.data["path"], "/etc/app.conf");
    assert_eq!(h.fake.node("/etc/app.conf").unwrap().mode, 0o600);
    let refused = h
        .run_failing(
            "file",
            json!({"path": "/etc/current.conf", "mode": "0600", "follow": false}),
        )
        .await;
    assert_eq!(
        refused.msg.as_deref(),
        Some("file (/etc/current.conf) is link, cannot continue")
    );
}
