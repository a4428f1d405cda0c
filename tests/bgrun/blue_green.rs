//! The headline job: playbooks/books-ms.yml deploys books-ms blue-green on the lab, as chapter 13
//! of "The DevOps 2.0 Toolkit" does; a release that fails its tests leaves the running one serving,
//! and playbooks/books-ms-rollback.yml starts the stopped release again.

use std::path::Path;
use std::process::Command;

fn deploy(version: &str) -> (i32, String) {
    bgrun(&[
        "playbooks/books-ms.yml",
        "-i",
        "inventories/lab",
        "-e",
        &format!("version={version}"),
    ])
}

fn rollback() -> (i32, String) {
    bgrun(&["playbooks/books-ms-rollback.yml", "-i", "inventories/lab"])
}

fn bgrun(args: &[&str]) -> (i32, String) {
    crate::harness::require_lab();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_bgrun"))
        .args(args)
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .expect("bgrun runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn through_nginx() -> String {
    let out = Command::new("curl")
        .args(["-s", "http://127.0.0.3/api/v1/books"])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn color() -> String {
    let out = Command::new("curl")
        .args(["-s", "http://127.0.0.3:8500/v1/kv/books-ms/color?raw"])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn running(color: &str) -> String {
    let out = Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{.State.Running}}",
            &format!("books-ms_app-{color}_1"),
        ])
        .output()
        .expect("docker");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn other(color: &str) -> &'static str {
    if color == "blue" { "green" } else { "blue" }
}

#[test]
fn deploy_switch_stop_the_old_and_keep_serving_through_a_broken_release() {
    let _consul = crate::harness::consul_lock();
    // --check says what a deployment would do and changes nothing.
    let before = (color(), through_nginx());
    let (code, out) = bgrun(&[
        "playbooks/books-ms.yml",
        "-i",
        "inventories/lab",
        "-e",
        "version=1",
        "--check",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("would start books-ms 1 as"), "{out}");
    assert_eq!((color(), through_nginx()), before);

    let (code, out) = deploy("1");
    assert_eq!(code, 0, "{out}");
    let first = color();
    assert!(through_nginx().contains(r#""version": "1""#), "{}", through_nginx());
    assert_eq!(running(&first), "true");

    let (code, out) = deploy("2");
    assert_eq!(code, 0, "{out}");
    let second = color();
    assert_eq!(second, other(&first), "the colors alternate");
    assert!(through_nginx().contains(r#""version": "2""#), "{}", through_nginx());
    assert_eq!(running(&second), "true");
    assert_eq!(
        running(&first),
        "false",
        "the old release is stopped, not removed (instant rollback)"
    );
    let upstream = std::fs::read_to_string("/var/lib/bgrun-lab/prod/data/nginx/upstreams/books-ms.conf").unwrap();
    assert!(
        upstream.starts_with("upstream books-ms {") && upstream.contains("server 127.0.0.3:"),
        "{upstream}"
    );

    // A rollback starts the stopped release again and points nginx back at it.
    let (code, out) = rollback();
    assert_eq!(code, 0, "{out}");
    assert_eq!(color(), first);
    assert!(through_nginx().contains(r#""version": "1""#), "{}", through_nginx());
    assert_eq!(running(&second), "false");
    let (code, out) = rollback();
    assert_eq!(code, 0, "{out}");
    assert_eq!(color(), second);
    assert!(through_nginx().contains(r#""version": "2""#), "{}", through_nginx());

    let (code, out) = deploy("broken");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!(
            "release broken ({first}) failed its tests and is stopped; {second} keeps serving"
        )),
        "{out}"
    );
    assert_eq!(color(), second, "the color does not change");
    assert!(
        through_nginx().contains(r#""version": "2""#),
        "the running release keeps serving: {}",
        through_nginx()
    );
    assert_eq!(running(&first), "false", "the broken release is stopped");
    assert_eq!(running(&second), "true");
}
