//! `--check` is exact: every module's examples (examples/modules/) run with `--check` leave the
//! lab's hosts as they were, and then a real run changes exactly the steps `--check` said it
//! would, and a second real run changes nothing.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::harness::{Output, Test, consul_get, consul_lock};

/// What the examples can touch, read straight from the lab (not through bgrun): the files under
/// `dir`, the containers, image tags, Consul keys and services named after `id`, and the group
/// and user of provision.yml.
fn world(dir: &Path, id: &str) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    files(dir, dir, &mut seen);
    let docker = |args: &[&str]| {
        let out = Command::new("docker").args(args).output().expect("docker");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let name = format!("bgrun-example-{id}");
    let format = "{{.ID}} {{.Names}} {{.State}} {{.Image}}";
    seen.insert(
        "containers".into(),
        docker(&["ps", "-a", "--filter", &format!("name={name}"), "--format", format]),
    );
    seen.insert(
        "project".into(),
        docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.project={name}"),
            "--format",
            format,
        ]),
    );
    seen.insert(
        "images".into(),
        docker(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
            .lines()
            .filter(|l| l.contains(&format!(":example-{id} ")))
            .collect(),
    );
    seen.insert("kv".into(), consul_get(&format!("/v1/kv/{name}?recurse")));
    let services: serde_json::Value = serde_json::from_str(&consul_get("/v1/agent/services")).unwrap_or_default();
    let ours: Vec<String> = services
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, s)| s["Service"].as_str().is_some_and(|n| n.starts_with(&name)))
        .map(|(key, s)| format!("{key} {} {}", s["Address"], s["Port"]))
        .collect();
    seen.insert("services".into(), ours.join("\n"));
    let getent = |db: &str| {
        let out = Command::new("getent")
            .args([db, &format!("bgrex{id}")])
            .output()
            .expect("getent");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    seen.insert("group".into(), getent("group"));
    seen.insert("user".into(), getent("passwd"));
    seen
}

fn files(root: &Path, dir: &Path, seen: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        let name = path.strip_prefix(root).expect("below root").display().to_string();
        let what = if meta.file_type().is_symlink() {
            format!("link to {}", std::fs::read_link(&path).expect("link").display())
        } else if meta.is_dir() {
            files(root, &path, seen);
            format!("dir {:o}", meta.permissions().mode() & 0o7777)
        } else {
            let content = std::fs::read(&path).expect("read");
            format!(
                "file {:o} {} {:?}",
                meta.permissions().mode() & 0o7777,
                meta.uid(),
                String::from_utf8_lossy(&content)
            )
        };
        seen.insert(name, what);
    }
}

/// Each step's result on prod, in order: (step, status).
fn results(out: &Output) -> Vec<(String, String)> {
    out.events()
        .into_iter()
        .filter(|e| e["event"] == "host_result" && e["host"] == "prod")
        .map(|e| {
            (
                e["step"].as_str().unwrap_or_default().to_string(),
                e["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Removes what the examples made, so the next run starts from nothing again.
fn clean(id: &str) {
    let name = format!("bgrun-example-{id}");
    let docker = |args: &[&str]| {
        let _ = Command::new("docker").args(args).output();
    };
    let ids = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("name={name}")])
        .output()
        .expect("docker");
    for container in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
        docker(&["rm", "-f", container]);
    }
    docker(&["rmi", &format!("127.0.0.2:5000/hello:example-{id}")]);
    let _ = Command::new("curl")
        .args([
            "-s",
            "-X",
            "DELETE",
            &format!("http://127.0.0.3:8500/v1/kv/{name}?recurse"),
        ])
        .output();
    let services: serde_json::Value = serde_json::from_str(&consul_get("/v1/agent/services")).unwrap_or_default();
    for (key, service) in services.as_object().into_iter().flatten() {
        if service["Service"].as_str().is_some_and(|n| n.starts_with(&name)) {
            let _ = Command::new("curl")
                .args([
                    "-s",
                    "-X",
                    "PUT",
                    &format!("http://127.0.0.3:8500/v1/agent/service/deregister/{key}"),
                ])
                .output();
        }
    }
    let _ = Command::new("userdel").arg(format!("bgrex{id}")).output();
    let _ = Command::new("groupdel").arg(format!("bgrex{id}")).output();
}

/// Runs one example file under `--check`, for real, and for real again; `changes` says whether
/// it changes the hosts at all (the read-only modules do not).
fn run_example(file: &str, number: u32, changes: bool) {
    let _consul = consul_lock();
    let id = format!("{}{number}", std::process::id() % 10_000);
    clean(&id);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/modules");
    let t = Test::lab();
    let dir = t.path().join("example");
    std::fs::create_dir_all(&dir).expect("example folder");
    let run = |extra: &[&str]| {
        let out = Test::new()
            .arg(&examples.join(file).display().to_string())
            .args(&[
                "-i",
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("inventories/lab")
                    .display()
                    .to_string(),
            ])
            .args(&[
                "-e",
                &format!("dir={}", dir.display()),
                "-e",
                &format!("id={id}"),
                "--output",
                "json",
            ])
            .args(extra)
            .run();
        assert_eq!(
            out.code, 0,
            "{file} {extra:?}\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout, out.stderr
        );
        out
    };
    let before = world(&dir, &id);
    let checked = results(&run(&["--check"]));
    assert_eq!(world(&dir, &id), before, "{file}: --check changed the hosts");
    let real = results(&run(&[]));
    if changes {
        assert_ne!(world(&dir, &id), before, "{file}: the real run changed nothing");
    }
    assert_eq!(checked.len(), real.len(), "{file}: the same steps ran");
    for ((step, predicted), (_, made)) in checked.iter().zip(&real) {
        if predicted != "skipped" {
            assert_eq!(predicted, made, "{file}: step `{step}` under --check and for real");
        }
    }
    let again = results(&run(&[]));
    let changed: Vec<&(String, String)> = again.iter().filter(|(_, s)| s == "changed").collect();
    // Changed on every run, as in Ansible: a touch, a record, a lock taken (and let go at the
    // end of the run), a runtime command, a signal.
    let always: &[&str] = &[
        "file touches a file",
        "consul_lock takes a lock for the rest of the run",
        "audit records a deploy",
        "haproxy sends a runtime command to HAProxy",
        "signal sends a signal to a container",
    ];
    assert!(
        changed.iter().all(|(step, _)| always.contains(&step.as_str())),
        "{file}: a second run changed {changed:?}"
    );
    clean(&id);
}

#[test]
fn file_modules_under_check_change_nothing_and_predict_the_run() {
    run_example("files.yml", 1, true);
}

#[test]
fn docker_modules_under_check_change_nothing_and_predict_the_run() {
    run_example("docker.yml", 2, true);
}

#[test]
fn consul_modules_under_check_change_nothing_and_predict_the_run() {
    run_example("consul.yml", 3, true);
}

#[test]
fn read_only_modules_under_check_predict_the_run() {
    run_example("checks.yml", 4, false);
}

#[test]
fn provisioning_modules_under_check_change_nothing_and_predict_the_run() {
    run_example("provision.yml", 5, true);
}
