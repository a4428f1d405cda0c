//! Unit tests of the provisioning modules (`lineinfile`, `group`, `user`, `service`, ...) over the
//! fake transport: check mode reports the change and sends no write, a run makes exactly the
//! reported change, and a second run reports no change.

use serde_json::json;

use super::Failure;
use super::fake_host::Harness;

fn ops(h: &Harness) -> Vec<&'static str> {
    h.fake.calls().iter().map(|c| c.op).collect()
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
