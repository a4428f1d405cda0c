//! The headline job: blue-green deploys by bgrun's shipped role `bgrun.blue_green` on the lab, as
//! chapter 13 of "The DevOps 2.0 Toolkit" does them (playbooks/books-ms.yml, the book's own
//! compose file), checked from outside: what the proxies answer, which containers run, what
//! Consul holds, while a client keeps asking through the proxy.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::harness::consul_get;

/// Deploys of one service cannot run beside each other (the second is refused), so every test
/// that deploys holds this, and the lock of tests that read prod's Consul.
pub(crate) fn deploys() -> (MutexGuard<'static, ()>, MutexGuard<'static, ()>) {
    static DEPLOYS: Mutex<()> = Mutex::new(());
    let deploys = DEPLOYS.lock().unwrap_or_else(|p| p.into_inner());
    (deploys, crate::harness::consul_lock())
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn command(args: &[&str]) -> Command {
    crate::harness::require_lab();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bgrun"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    cmd
}

fn bgrun(args: &[&str]) -> (i32, String) {
    let out = command(args).output().expect("bgrun runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

pub(crate) fn deploy(version: &str, extra: &[&str]) -> (i32, String) {
    let v = format!("version={version}");
    let mut args = vec!["playbooks/books-ms.yml", "-i", "inventories/lab", "-e", &v];
    args.extend(extra);
    bgrun(&args)
}

pub(crate) fn deploy_ok(version: &str, extra: &[&str]) -> String {
    let (code, out) = deploy(version, extra);
    assert_eq!(code, 0, "deploy of {version}:\n{out}");
    out
}

/// A deploy of `version` printing JSON events, read as it runs.
pub(crate) struct JsonDeploy {
    pub child: Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    /// The event lines read so far.
    pub seen: Vec<String>,
}

impl JsonDeploy {
    pub fn start(version: &str) -> JsonDeploy {
        use std::io::BufRead;
        let v = format!("version={version}");
        let mut child = command(&[
            "playbooks/books-ms.yml",
            "-i",
            "inventories/lab",
            "-e",
            &v,
            "--output",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("deploy");
        let lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        JsonDeploy {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads events until a host's result for the step whose name ends with `step` has one of
    /// `statuses`; false when the run ended first.
    pub fn until(&mut self, step: &str, statuses: &[&str]) -> bool {
        for line in self.lines.by_ref().map_while(Result::ok) {
            let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            self.seen.push(line);
            if event["event"] == "host_result"
                && event["step"].as_str().is_some_and(|s| s.ends_with(step))
                && statuses.iter().any(|status| event["status"] == *status)
            {
                return true;
            }
        }
        false
    }

    /// Reads the rest of the events and waits for the run: its exit code and every event line.
    pub fn finish(mut self) -> (Option<i32>, String) {
        self.seen.extend(self.lines.by_ref().map_while(Result::ok));
        let code = self.child.wait().expect("the deploy ends").code();
        (code, self.seen.join("\n"))
    }
}

/// One GET that closes its connection: (status, body); status 0 when it could not connect.
fn get(port: u16, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect_timeout(&([127, 0, 0, 3], port).into(), Duration::from_secs(2)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.3\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

pub(crate) fn books_version(port: u16) -> Option<String> {
    let (status, body) = get(port, "/api/v1/books");
    if status != 200 {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    json[0]["version"].as_str().map(str::to_string)
}

/// A client asking through a proxy in a loop, as users do during a deploy.
pub(crate) struct Client {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<(u16, String)>>,
}

impl Client {
    pub(crate) fn start(port: u16, path: &'static str) -> Client {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                seen.push(get(port, path));
                std::thread::sleep(Duration::from_millis(5));
            }
            seen
        });
        Client { stop, thread }
    }

    /// Every answer: (status, body).
    pub(crate) fn finish(self) -> Vec<(u16, String)> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("client thread")
    }
}

pub(crate) fn color() -> String {
    consul_get("/v1/kv/books-ms/color?raw")
}

pub(crate) fn other(color: &str) -> &'static str {
    if color == "blue" { "green" } else { "blue" }
}

pub(crate) fn running(project: &str, color: &str) -> String {
    let out = Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{.State.Running}}",
            &format!("{project}_app-{color}_1"),
        ])
        .output()
        .expect("docker");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The last deploy records of a service, from `bgrun history --output json`.
pub(crate) fn history(service: &str) -> Vec<serde_json::Value> {
    let (code, out) = bgrun(&["history", service, "-i", "inventories/lab", "--output", "json"]);
    assert_eq!(code, 0, "{out}");
    out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// Starts from a known state: release 1 serving through nginx.
pub(crate) fn from_release_1() {
    deploy_ok("1", &[]);
    assert_eq!(books_version(80).as_deref(), Some("1"));
}

#[test]
fn deploys_alternate_colors_keep_the_old_stopped_and_are_recorded() {
    let _lock = deploys();
    from_release_1();
    // --check shows the plan and changes nothing.
    let before = (color(), books_version(80));
    let (code, out) = deploy("2", &["--check"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("would start release 2 as") && out.contains("the lock is free"),
        "{out}"
    );
    assert_eq!((color(), books_version(80)), before, "--check changed something");

    let mut previous: Option<String> = None;
    for version in ["1", "2", "1"] {
        let out = deploy_ok(version, &[]);
        let now = color();
        assert!(now == "blue" || now == "green", "{now}");
        if let Some(previous) = &previous {
            assert_eq!(now, other(previous), "the colors alternate");
            assert_eq!(
                running("books-ms", previous),
                "false",
                "the old release is stopped, not removed"
            );
        }
        assert_eq!(running("books-ms", &now), "true");
        assert_eq!(books_version(80).as_deref(), Some(version), "{out}");
        let last = history("books-ms").pop().expect("a deploy record");
        assert_eq!(last["outcome"], "deployed", "{last}");
        assert_eq!(last["to"]["version"], version);
        assert_eq!(last["to"]["color"], now.as_str());
        assert!(last["user"].is_string() && last["controller"].is_string() && last["finished"].is_string());
        previous = Some(now);
    }
    // Registered as Registrator does for `ports: - 8080` (bound on 0.0.0.0 and ::): one
    // service per color, no port suffix, at prod's address.
    let catalog = consul_get("/v1/catalog/services");
    let serving = format!("\"books-ms-{}\"", color());
    assert!(
        catalog.contains(&serving) && !catalog.contains("books-ms-blue-") && !catalog.contains("books-ms-green-"),
        "{catalog}"
    );
    let upstream = std::fs::read_to_string("/var/lib/bgrun-lab/prod/data/nginx/upstreams/books-ms.conf").unwrap();
    assert!(upstream.contains("server 127.0.0.3:"), "{upstream}");
    let (code, table) = bgrun(&["history", "books-ms", "-i", "inventories/lab", "-n", "3"]);
    assert_eq!(code, 0);
    assert!(table.starts_with("STARTED") && table.lines().count() == 4, "{table}");

    // A rollback starts the stopped release again.
    let serving = color();
    let (code, out) = bgrun(&["playbooks/books-ms-rollback.yml", "-i", "inventories/lab"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(color(), other(&serving));
    assert_eq!(books_version(80).as_deref(), Some("2"));
    assert_eq!(history("books-ms").pop().unwrap()["outcome"], "rolled-back");
}

#[test]
fn a_broken_release_is_rejected_before_the_switch() {
    let _lock = deploys();
    from_release_1();
    let serving = color();
    let client = Client::start(80, "/api/v1/books");
    let (code, out) = deploy("broken", &["-e", "health_timeout=5"]);
    let seen = client.finish();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!(
            "release broken ({}) failed before the switch and is stopped",
            other(&serving)
        )) && out.contains("keeps serving"),
        "{out}"
    );
    assert!(
        out.contains("timed out after 5 s waiting for 1 passing instance of `books-ms-")
            && out.contains("check `")
            && out.contains("is critical: "),
        "the timeout names the failing check and what it said:\n{out}"
    );
    assert_eq!(color(), serving);
    assert!(!seen.is_empty());
    for (status, body) in &seen {
        assert_eq!(*status, 200, "{body}");
        assert!(body.contains(r#""version": "1""#), "{body}");
    }
    assert_eq!(
        running("books-ms", other(&serving)),
        "false",
        "the broken release is stopped"
    );
    assert_eq!(history("books-ms").pop().unwrap()["outcome"], "rejected");
}

#[test]
fn a_release_failing_behind_the_proxy_is_reverted() {
    let _lock = deploys();
    from_release_1();
    let serving = color();
    // The release passes at its own address; the test through the proxy cannot reach it.
    let (code, out) = deploy("2", &["-e", "nginx_url=http://127.0.0.3:9"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("failed behind nginx and is stopped"), "{out}");
    assert!(
        out.contains(&format!("nginx points back at {serving} (release 1)")),
        "{out}"
    );
    assert_eq!(color(), serving, "KV's color is the old one");
    assert_eq!(books_version(80).as_deref(), Some("1"), "the old release serves");
    assert_eq!(running("books-ms", &serving), "true");
    assert_eq!(running("books-ms", other(&serving)), "false");
    assert_eq!(history("books-ms").pop().unwrap()["outcome"], "reverted");
}

#[test]
fn a_second_deploy_at_the_same_time_is_refused() {
    let _lock = deploys();
    from_release_1();
    let client = Client::start(80, "/api/v1/books");
    let mut first = command(&["playbooks/books-ms.yml", "-i", "inventories/lab", "-e", "version=2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("first deploy");
    wait_for_lock("books-ms");
    let (code, out) = deploy("1", &[]);
    // Refused at once: while the first deploy still holds the lock, not after waiting for it.
    let first_still_running = first.try_wait().expect("first deploy").is_none();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("the lock `books-ms/lock` is held by"), "{out}");
    assert!(
        out.contains("release 2") && out.contains("pid"),
        "names the holder: {out}"
    );
    assert!(first_still_running, "the second deploy waited for the first one to end");
    let first = first.wait_with_output().expect("first deploy ends");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stdout));
    let seen = client.finish();
    assert!(
        seen.iter().all(|(status, _)| *status == 200),
        "{:?}",
        seen.iter().find(|s| s.0 != 200)
    );
    assert_eq!(books_version(80).as_deref(), Some("2"));
    let records = history("books-ms");
    let outcomes: Vec<&str> = records
        .iter()
        .rev()
        .take(2)
        .filter_map(|r| r["outcome"].as_str())
        .collect();
    assert!(
        outcomes.contains(&"refused") && outcomes.contains(&"deployed"),
        "{outcomes:?}"
    );
}

/// Waits until a deploy holds the service's lock.
fn wait_for_lock(service: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !consul_get(&format!("/v1/kv/{service}/lock")).contains("\"Session\"") {
        assert!(Instant::now() < deadline, "no deploy took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(child: &mut Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn a_killed_deploy_holds_its_lock_until_the_ttl_then_the_next_converges() {
    let _lock = deploys();
    from_release_1();
    let mut killed = command(&["playbooks/books-ms.yml", "-i", "inventories/lab", "-e", "version=2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("deploy");
    wait_for_lock("books-ms");
    std::thread::sleep(Duration::from_millis(300));
    kill(&mut killed, "KILL");
    let _ = killed.wait();
    let (code, out) = deploy("2", &[]);
    assert_eq!(code, 2, "a deploy within the TTL is refused: {out}");
    assert!(out.contains("is held by"), "{out}");
    // Consul ends the killed run's session within twice its TTL (15 s).
    let started = Instant::now();
    loop {
        let (code, out) = deploy("2", &["--lock-wait", "5"]);
        if code == 0 {
            break;
        }
        assert!(out.contains("is held by"), "{out}");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the lock never expired:\n{out}"
        );
    }
    assert_eq!(books_version(80).as_deref(), Some("2"));
    let now = color();
    assert_eq!(running("books-ms", &now), "true");
    assert_eq!(running("books-ms", other(&now)), "false", "one release serves");
}

/// The image a color's container runs.
pub(crate) fn image(project: &str, color: &str) -> String {
    let out = Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{.Config.Image}}",
            &format!("{project}_app-{color}_1"),
        ])
        .output()
        .expect("docker");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Killed after its switch (the new color serves and is recorded, the old one still runs through
/// the drain), a deploy is finished by the next run of the same release: the old color stops,
/// keeping its release for a rollback, and nothing is deployed again to it.
#[test]
fn a_deploy_killed_after_its_switch_is_finished_not_deployed_again() {
    let _lock = deploys();
    from_release_1();
    let old = color();
    let mut killed = command(&["playbooks/books-ms.yml", "-i", "inventories/lab", "-e", "version=2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("deploy");
    let deadline = Instant::now() + Duration::from_secs(60);
    while color() == old {
        assert!(Instant::now() < deadline, "the deploy never switched");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(&mut killed, "KILL");
    let _ = killed.wait();
    let new = other(&old);
    assert_eq!(
        running("books-ms", &old),
        "true",
        "killed during the drain, the old color still runs"
    );
    let client = Client::start(80, "/api/v1/books");
    let started = Instant::now();
    let out = loop {
        let (code, out) = deploy("2", &["--lock-wait", "5"]);
        if code == 0 {
            break out;
        }
        assert!(out.contains("is held by"), "{out}");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the lock never expired:\n{out}"
        );
    };
    let seen = client.finish();
    assert!(out.contains(&format!("books-ms 2 serves already as {new}")), "{out}");
    assert_eq!(color(), new);
    assert_eq!(running("books-ms", new), "true");
    assert_eq!(running("books-ms", &old), "false", "the old color is stopped");
    assert_eq!(
        image("books-ms", &old),
        "127.0.0.2:5000/books-ms:1",
        "not deployed again"
    );
    assert_eq!(
        consul_get(&format!("/v1/kv/books-ms/releases/{old}?raw")),
        "1",
        "kept for a rollback"
    );
    assert!(
        seen.iter()
            .all(|(status, body)| *status == 200 && body.contains("\"2\"")),
        "release 2 served throughout: {:?}",
        seen.iter()
            .find(|(status, body)| *status != 200 || !body.contains("\"2\""))
    );
    // Asked for again, the release that serves changes nothing.
    let again = deploy_ok("2", &[]);
    assert!(again.contains("stopped (kept for a rollback)"), "{again}");
    assert_eq!(image("books-ms", &old), "127.0.0.2:5000/books-ms:1");
}

/// SIGKILL right after each stage of a deploy of release 2, then the deploy run again: it
/// converges to release 2 serving with the other color stopped, and a client through nginx
/// saw no failed request from before the kill to the end of the second run.
#[test]
fn a_deploy_killed_at_each_stage_converges_when_run_again() {
    let _lock = deploys();
    for stage in [
        "pull the new release",
        "start the new release as the new color, beside the old one",
        "nginx's upstream of the color, from Consul",
        "nginx reloads",
        "the new color's release is recorded",
    ] {
        from_release_1();
        let client = Client::start(80, "/api/v1/books");
        let mut killed = JsonDeploy::start("2");
        assert!(
            killed.until(stage, &["ok", "changed", "failed"]),
            "the deploy never reached `{stage}`"
        );
        kill(&mut killed.child, "KILL");
        let _ = killed.child.wait();
        let started = Instant::now();
        let out = loop {
            let (code, out) = deploy("2", &["--lock-wait", "5", "-e", "drain_seconds=1"]);
            if code == 0 {
                break out;
            }
            assert!(out.contains("is held by"), "killed after `{stage}`: {out}");
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "killed after `{stage}`, the lock never expired:\n{out}"
            );
        };
        let seen = client.finish();
        assert!(
            seen.iter().all(|(status, _)| *status == 200),
            "killed after `{stage}`, a request failed: {:?}",
            seen.iter().find(|(status, _)| *status != 200)
        );
        assert_eq!(
            books_version(80).as_deref(),
            Some("2"),
            "killed after `{stage}`:\n{out}"
        );
        let now = color();
        assert_eq!(running("books-ms", &now), "true", "killed after `{stage}`");
        assert_eq!(
            running("books-ms", other(&now)),
            "false",
            "killed after `{stage}`, one release serves:\n{out}"
        );
    }
}

#[test]
fn sigterm_stops_at_a_safe_point_and_releases_the_lock() {
    stops_at_a_safe_point_and_releases_the_lock("TERM", 143);
}

#[test]
fn sigint_stops_at_a_safe_point_and_releases_the_lock() {
    stops_at_a_safe_point_and_releases_the_lock("INT", 130);
}

/// SIGTERM or SIGINT (Ctrl-C) while the deploy waits for the new color's health: the run stops
/// after the step in flight, its `always` steps release the lock, it says what serves, and exits
/// 128 + the signal's number, as a shell reports a process the signal ended.
fn stops_at_a_safe_point_and_releases_the_lock(signal: &str, code: i32) {
    let _lock = deploys();
    from_release_1();
    let serving = color();
    // The broken release never gets healthy: SIGTERM arrives while the deploy waits for it.
    let mut deploy_run = command(&[
        "playbooks/books-ms.yml",
        "-i",
        "inventories/lab",
        "-e",
        "version=broken",
        "-e",
        "health_timeout=4",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("deploy");
    let client = Client::start(80, "/api/v1/books");
    wait_for_lock("books-ms");
    std::thread::sleep(Duration::from_millis(1500));
    kill(&mut deploy_run, signal);
    let out = deploy_run.wait_with_output().expect("deploy ends");
    let seen = client.finish();
    assert!(
        !seen.is_empty()
            && seen
                .iter()
                .all(|(status, body)| *status == 200 && body.contains(r#""version": "1""#)),
        "release 1 served throughout: {:?}",
        seen.iter()
            .find(|(status, body)| *status != 200 || !body.contains(r#""version": "1""#))
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(code), "{text}");
    assert!(text.contains(&format!("SIG{signal} received")), "{text}");
    assert!(
        text.contains(&format!("books-ms: {serving} (release 1) serves through nginx")),
        "{text}"
    );
    assert!(
        !consul_get("/v1/kv/books-ms/lock").contains("\"Session\""),
        "the lock is released"
    );
    assert_eq!(books_version(80).as_deref(), Some("1"));
}

#[test]
fn haproxy_switches_through_its_runtime_api() {
    let _lock = deploys();
    for version in ["1", "2"] {
        deploy_ok(version, &["-e", "proxy=haproxy"]);
        assert_eq!(books_version(8081).as_deref(), Some(version));
    }
    let backend = std::fs::read_to_string("/var/lib/bgrun-lab/prod/data/haproxy/conf.d/books-ms.cfg").unwrap();
    assert!(backend.contains("backend books-ms"), "{backend}");
    // Put nginx back on the serving color for the other tests.
    deploy_ok("1", &[]);
}

#[test]
fn a_second_service_through_the_same_role() {
    let _lock = deploys();
    for version in ["1", "2"] {
        let (code, out) = bgrun(&[
            "playbooks/hello.yml",
            "-i",
            "inventories/lab",
            "-e",
            &format!("version={version}"),
        ]);
        assert_eq!(code, 0, "{out}");
        let (status, body) = get(80, "/greetings/");
        assert_eq!((status, body.trim()), (200, format!("hello {version}").as_str()));
    }
    let color = consul_get("/v1/kv/hello/color?raw");
    assert_eq!(running("hello", &color), "true");
    assert_eq!(running("hello", other(&color)), "false");
    assert_eq!(history("hello").pop().unwrap()["outcome"], "deployed");
    // The local ends of the forwarded Docker socket were in a folder only this user opens.
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let uid = std::fs::metadata("/proc/self").unwrap().uid();
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| Path::new(d).is_dir()) {
        Some(runtime) => Path::new(&runtime).join("bgrun"),
        None => std::env::temp_dir().join(format!("bgrun-{uid}")),
    };
    let meta = std::fs::metadata(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    assert_eq!(
        (meta.uid(), meta.permissions().mode() & 0o777),
        (uid, 0o700),
        "{}",
        dir.display()
    );
}

/// Requests and errors wrk saw, from its Lua summary.
fn wrk(port: u16, keep_alive: bool, seconds: u64) -> Child {
    let script = std::env::temp_dir().join(format!("bgrun-wrk-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        "done = function(s, l, r)\n  io.write(string.format(\"requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\\n\", s.requests, s.errors.status, s.errors.connect, s.errors.read, s.errors.write, s.errors.timeout))\nend\n",
    )
    .unwrap();
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c16", &format!("-d{seconds}s"), "-s"]).arg(&script);
    if !keep_alive {
        cmd.args(["-H", "Connection: close"]);
    }
    cmd.arg(format!("http://127.0.0.3:{port}/api/v1/books"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("wrk runs (lab/up installs it)")
}

fn wrk_counts(child: Child) -> Vec<(String, u64)> {
    let out = child.wait_with_output().expect("wrk ends");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.starts_with("requests="))
        .unwrap_or_else(|| panic!("{text}"));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap_or(0)))
        .collect()
}

/// Ten deploys under load: no failed request for clients that close their connections through
/// nginx, nor for keep-alive clients through HAProxy.
#[test]
fn ten_deploys_under_load_fail_no_request() {
    let _lock = deploys();
    for (proxy, port, keep_alive) in [("nginx", 80, false), ("haproxy", 8081, true)] {
        deploy_ok("1", &["-e", &format!("proxy={proxy}")]);
        let load = wrk(port, keep_alive, 120);
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        for i in 0..10 {
            deploy_ok(if i % 2 == 0 { "2" } else { "1" }, &["-e", &format!("proxy={proxy}")]);
        }
        let elapsed = started.elapsed();
        let mut load = load;
        kill(&mut load, "INT");
        let counts = wrk_counts(load);
        eprintln!("{proxy} (keep-alive {keep_alive}): 10 deploys in {elapsed:?}: {counts:?}");
        let requests = counts.iter().find(|(k, _)| k == "requests").map(|c| c.1).unwrap_or(0);
        assert!(requests > 100, "{counts:?}");
        for (name, count) in &counts {
            if name != "requests" {
                assert_eq!(*count, 0, "{proxy}: {name} errors: {counts:?}");
            }
        }
    }
    deploy_ok("1", &[]);
}

/// A registration left behind under the new container's ID (a killed run, a predecessor) with a
/// passing check must not let a release through: the container's registration starts afresh,
/// and the broken release is rejected.
#[test]
fn a_left_behind_passing_registration_does_not_pass_the_health_gate() {
    let _lock = deploys();
    from_release_1();
    let next = other(&color());
    let id = format!("prod:books-ms_app-{next}_1:8080");
    let registration = serde_json::json!({
        "ID": id,
        "Name": format!("books-ms-{next}"),
        "Address": "127.0.0.3",
        "Port": 1,
        "Check": {"TTL": "1h", "Status": "passing"},
    });
    let out = Command::new("curl")
        .args(["-s", "-f", "-X", "PUT", "--data-binary"])
        .arg(registration.to_string())
        .arg("http://127.0.0.3:8500/v1/agent/service/register")
        .output()
        .expect("curl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        consul_get(&format!("/v1/health/service/books-ms-{next}?passing")).contains(&id),
        "the left-behind registration passes"
    );
    let (code, out) = deploy("broken", &["-e", "health_timeout=4"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("failed before the switch"), "{out}");
    assert_eq!(books_version(80).as_deref(), Some("1"));
}

#[test]
fn the_graph_shows_the_independent_branches() {
    let (code, dot) = bgrun(&["playbooks/books-ms.yml", "-i", "inventories/lab", "--graph"]);
    assert_eq!(code, 0, "{dot}");
    let node = |id: &str| {
        dot.lines()
            .find(|l| l.contains(&format!("label=\"{id}\\n")))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no node {id}:\n{dot}"))
            .to_string()
    };
    let inputs = node("bg_inputs");
    for branch in ["bg_lock", "bg_color", "bg_releases", "bg_pull"] {
        let edge = format!("{inputs} -> {};", node(branch));
        assert!(dot.contains(&edge), "{branch} starts right after the inputs: {dot}");
    }
    let deploy = node("bg_deploy");
    for before in ["bg_lock", "bg_color", "bg_pull", "bg_include"] {
        assert!(
            dot.contains(&format!("{} -> {deploy};", node(before))),
            "{before} -> bg_deploy: {dot}"
        );
    }
}

#[test]
fn deploy_records_are_json_events_too() {
    let _lock = deploys();
    let (code, out) = bgrun(&[
        "playbooks/hello.yml",
        "-i",
        "inventories/lab",
        "-e",
        "version=1",
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let audit: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "audit")
        .collect();
    assert_eq!(audit.len(), 1, "{out}");
    assert!(
        audit[0]["key"].as_str().unwrap().starts_with("hello/deploys/"),
        "{}",
        audit[0]
    );
    assert_eq!(audit[0]["record"]["outcome"], "deployed");
    assert_eq!(audit[0]["record"]["to"]["version"], "1");
}
