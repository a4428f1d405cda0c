//! Checks of the lab that `lab/up` brings up on this machine (see lab/README.md):
//! SSH hosts cd (127.0.0.2) and prod (127.0.0.3), the registry on 127.0.0.2:5000,
//! Consul on 127.0.0.3:8500, nginx on 127.0.0.3:80, HAProxy on 127.0.0.3:8081 (and its admin
//! socket), the books-ms and hello images and the local mongo stand-in.
//!
//! Every test fails (never skips) when the lab is down, telling to run `lab/up`.
//! Run with `cargo test --test lab`. Uses ssh, curl and docker through
//! std::process::Command; containers it starts carry the label org.bgrun.lab=test.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const KEY: &str = "/var/lib/bgrun-lab/ssh/id_ed25519";
const KNOWN_HOSTS: &str = "/var/lib/bgrun-lab/ssh/known_hosts";
const REGISTRY: &str = "127.0.0.2:5000";
const CONSUL: &str = "http://127.0.0.3:8500";
const NGINX: &str = "http://127.0.0.3:80";
const NGINX_CONF_D: &str = "/var/lib/bgrun-lab/prod/data/nginx/conf.d";
const HAPROXY: &str = "http://127.0.0.3:8081";
const HAPROXY_DIR: &str = "/var/lib/bgrun-lab/prod/data/haproxy";
const HAPROXY_SOCKET: &str = "/var/lib/bgrun-lab/prod/data/haproxy/run/admin.sock";
const CD: &str = "127.0.0.2";
const PROD: &str = "127.0.0.3";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fails the test unless `lab/status` says the lab is up (checked once per run).
fn lab() {
    static STATUS: OnceLock<Result<(), String>> = OnceLock::new();
    let status = STATUS.get_or_init(|| {
        let script = repo().join("lab/status");
        match Command::new("bash").arg(&script).arg("--quiet").output() {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )),
            Err(e) => Err(format!("cannot run {}: {e}", script.display())),
        }
    });
    if let Err(why) = status {
        panic!("the lab is not up: run `lab/up` (as root) first.\nlab/status says:\n{why}");
    }
}

/// Like `lab()`, and also requires a service that `lab/up --bare` leaves out.
fn full_lab(what: &str, url: &str) {
    lab();
    let (code, _) = curl(&[url]);
    assert_ne!(
        code, 0,
        "{what} does not answer at {url}: run `lab/up` (the full lab, not --bare)"
    );
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn docker(args: &[&str]) -> String {
    ok(Command::new("docker").args(args)).trim().to_string()
}

/// curl ARGS... -> (HTTP status, body); status 0 when nothing answered.
fn curl(args: &[&str]) -> (u16, String) {
    let out = run(Command::new("curl")
        .args(["-s", "-m", "5", "-w", "\n%{http_code}"])
        .args(args));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// JSON text without whitespace (Consul may pretty-print its answers).
fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn ssh_cmd(addr: &str) -> Command {
    let mut c = Command::new("ssh");
    c.args(["-i", KEY])
        .arg(format!("-oUserKnownHostsFile={KNOWN_HOSTS}"))
        .args([
            "-oGlobalKnownHostsFile=/dev/null",
            "-oStrictHostKeyChecking=yes",
            "-oBatchMode=yes",
            "-oConnectTimeout=5",
            "-oControlPath=none",
        ])
        .arg(format!("root@{addr}"));
    c
}

/// A container removed when dropped.
struct Container {
    name: String,
}

impl Container {
    fn run(image: &str, args: &[&str]) -> Container {
        let name = unique("lab-test");
        let mut cmd = Command::new("docker");
        cmd.args(["run", "-d", "--name", &name, "--label", "org.bgrun.lab=test"])
            .args(args)
            .arg(image);
        ok(&mut cmd);
        Container { name }
    }

    /// The host address:port that the container's port 8080 is published on.
    fn addr(&self) -> String {
        self.published(8080)
    }

    /// The host address:port that the container's `port` is published on.
    fn published(&self, port: u16) -> String {
        let out = docker(&["port", &self.name, &format!("{port}/tcp")]);
        out.lines().next().unwrap_or_default().trim().to_string()
    }

    /// `docker stop`s it; returns how long that took and the exit code.
    fn stop(&self) -> (Duration, String) {
        let start = Instant::now();
        docker(&["stop", &self.name]);
        let took = start.elapsed();
        (took, docker(&["inspect", "-f", "{{.State.ExitCode}}", &self.name]))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.name]).output();
    }
}

/// Polls `url` until it answers anything, for up to 15 s; returns the last answer.
fn wait_answer(url: &str) -> (u16, String) {
    let start = Instant::now();
    loop {
        let r = curl(&[url]);
        if r.0 != 0 || start.elapsed() > Duration::from_secs(15) {
            return r;
        }
        sleep(Duration::from_millis(100));
    }
}

fn books_ms(tag: &str) -> Container {
    Container::run(
        &format!("{REGISTRY}/books-ms:{tag}"),
        &["-p", &format!("{PROD}::8080"), "-e", "SERVICE_NAME=books-ms-lab-test"],
    )
}

fn hello(tag: &str) -> Container {
    Container::run(&format!("{REGISTRY}/hello:{tag}"), &["-p", &format!("{PROD}::9000")])
}

/// The image's environment, one `NAME=value` per entry.
fn image_env(image: &str) -> Vec<String> {
    docker(&[
        "image",
        "inspect",
        "-f",
        "{{range .Config.Env}}{{println .}}{{end}}",
        image,
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

fn assert_env(image: &str, want: &[&str]) {
    let env = image_env(image);
    for w in want {
        assert!(env.iter().any(|e| e == w), "{image} lacks ENV {w}: {env:?}");
    }
}

/// Sends one command to HAProxy's admin socket (runtime API) and returns its answer.
fn haproxy_api(command: &str) -> String {
    let mut sock = UnixStream::connect(HAPROXY_SOCKET)
        .unwrap_or_else(|e| panic!("cannot connect to {HAPROXY_SOCKET}: {e} (run `lab/up`)"));
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.write_all(format!("{command}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer)
        .unwrap_or_else(|e| panic!("reading the answer to {command:?}: {e}"));
    answer
}

#[test]
fn ssh_to_cd_and_prod_with_strict_host_key_checking() {
    lab();
    for addr in [CD, PROD] {
        let out = ok(ssh_cmd(addr).arg("echo lab-ok"));
        assert_eq!(out.trim(), "lab-ok", "ssh root@{addr}");
    }
}

#[test]
fn ssh_refuses_a_host_whose_key_is_unknown() {
    lab();
    let empty = tempfile::NamedTempFile::new().unwrap();
    let out = run(Command::new("ssh")
        .args(["-i", KEY])
        .arg(format!("-oUserKnownHostsFile={}", empty.path().display()))
        .args([
            "-oGlobalKnownHostsFile=/dev/null",
            "-oStrictHostKeyChecking=yes",
            "-oBatchMode=yes",
            "-oConnectTimeout=5",
            "-oControlPath=none",
        ])
        .arg(format!("root@{PROD}"))
        .arg("true"));
    assert!(
        !out.status.success(),
        "strict host key checking must refuse an unknown host key"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Host key verification failed"), "unexpected: {err}");
}

#[test]
fn ssh_commands_do_not_run_roots_bashrc() {
    // Root's ~/.bashrc here runs pyenv init (about 250 ms per command); the lab's
    // sshd sets SHLVL=1 so that bash skips it, as on a host without such a bashrc.
    lab();
    let out = ok(ssh_cmd(PROD).arg("echo ${PYENV_ROOT:-none}"));
    assert_eq!(out.trim(), "none", "~/.bashrc was sourced by the ssh command");
}

#[test]
fn hosts_have_their_own_data_roots() {
    lab();
    for (addr, root) in [(CD, "/var/lib/bgrun-lab/cd"), (PROD, "/var/lib/bgrun-lab/prod")] {
        let out = ok(ssh_cmd(addr).arg(format!("test -d {root} && echo yes")));
        assert_eq!(out.trim(), "yes", "{root} on {addr}");
    }
    assert!(Path::new(NGINX_CONF_D).join("services.conf").is_file());
}

#[test]
fn registry_push_and_pull() {
    lab();
    let (code, _) = curl(&[&format!("http://{REGISTRY}/v2/")]);
    assert_eq!(code, 200, "registry API at http://{REGISTRY}/v2/");
    let tag = unique("t");
    let ref_ = format!("{REGISTRY}/lab-test/push:{tag}");
    docker(&["tag", &format!("{REGISTRY}/books-ms:1"), &ref_]);
    let pushed = run(Command::new("docker").args(["push", &ref_]));
    let id = docker(&["image", "inspect", "-f", "{{.Id}}", &ref_]);
    docker(&["rmi", &ref_]);
    assert!(
        pushed.status.success(),
        "docker push {ref_}: {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    docker(&["pull", &ref_]);
    let pulled = docker(&["image", "inspect", "-f", "{{.Id}}", &ref_]);
    assert_eq!(pulled, id, "the pulled image is the pushed one");
    // Clean up: the local tag and the manifest in the registry.
    let digest = docker(&[
        "image",
        "inspect",
        "-f",
        "{{range .RepoDigests}}{{println .}}{{end}}",
        &ref_,
    ]);
    docker(&["rmi", &ref_]);
    if let Some(d) = digest
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{REGISTRY}/lab-test/push@")))
    {
        curl(&[
            "-X",
            "DELETE",
            &format!("http://{REGISTRY}/v2/lab-test/push/manifests/{d}"),
        ]);
    }
}

#[test]
fn registry_holds_the_lab_images() {
    lab();
    for r in [
        "books-ms:1",
        "books-ms:2",
        "books-ms:broken",
        "hello:1",
        "hello:2",
        "hello:broken",
        "nginx:lab",
        "haproxy:lab",
    ] {
        let (name, tag) = r.split_once(':').unwrap();
        let (code, _) = curl(&[
            "-I",
            "-H",
            "Accept: application/vnd.docker.distribution.manifest.v2+json",
            &format!("http://{REGISTRY}/v2/{name}/manifests/{tag}"),
        ]);
        assert_eq!(code, 200, "{REGISTRY}/{r} in the registry");
    }
}

#[test]
fn consul_catalog_and_kv() {
    full_lab("Consul", &format!("{CONSUL}/v1/status/leader"));
    let (code, leader) = curl(&[&format!("{CONSUL}/v1/status/leader")]);
    assert_eq!(code, 200);
    assert!(leader.contains("127.0.0.3"), "leader: {leader}");
    let (code, nodes) = curl(&[&format!("{CONSUL}/v1/catalog/nodes")]);
    let nodes = compact(&nodes);
    assert_eq!(code, 200);
    assert!(nodes.contains("\"Node\":\"prod\""), "catalog nodes: {nodes}");

    let key = unique("lab-test");
    let (code, body) = curl(&["-X", "PUT", "-d", "blue", &format!("{CONSUL}/v1/kv/{key}/color")]);
    assert_eq!((code, body.trim()), (200, "true"));
    let (code, value) = curl(&[&format!("{CONSUL}/v1/kv/{key}/color?raw")]);
    assert_eq!((code, value.as_str()), (200, "blue"));
    curl(&["-X", "DELETE", &format!("{CONSUL}/v1/kv/{key}?recurse")]);
    let (code, _) = curl(&[&format!("{CONSUL}/v1/kv/{key}/color?raw")]);
    assert_eq!(code, 404, "deleted key");

    // A service registered through the agent shows in the catalog with its address.
    let svc = unique("lab-test-svc");
    let reg = format!(r#"{{"Name": "{svc}", "Address": "{PROD}", "Port": 32123}}"#);
    let (code, _) = curl(&["-X", "PUT", "-d", &reg, &format!("{CONSUL}/v1/agent/service/register")]);
    assert_eq!(code, 200);
    let (code, cat) = curl(&[&format!("{CONSUL}/v1/catalog/service/{svc}")]);
    curl(&["-X", "PUT", &format!("{CONSUL}/v1/agent/service/deregister/{svc}")]);
    let cat = compact(&cat);
    assert_eq!(code, 200);
    assert!(cat.contains(r#""ServiceAddress":"127.0.0.3""#), "catalog: {cat}");
    assert!(cat.contains(r#""ServicePort":32123"#), "catalog: {cat}");
}

#[test]
fn nginx_answers_on_prod() {
    full_lab("nginx", NGINX);
    let out = ok(Command::new("curl").args(["-s", "-m", "5", "-o", "/dev/null", "-D", "-", NGINX]));
    assert!(out.starts_with("HTTP/1.1 "), "answer: {out}");
    assert!(out.to_ascii_lowercase().contains("server: nginx"), "answer: {out}");
    let running = docker(&[
        "inspect",
        "-f",
        "{{.State.Running}} {{.HostConfig.NetworkMode}}",
        "nginx",
    ]);
    assert_eq!(running, "true host");
}

#[test]
fn books_ms_1_and_2_report_their_version() {
    lab();
    for v in ["1", "2"] {
        let c = books_ms(v);
        let addr = c.addr();
        assert!(addr.starts_with("127.0.0.3:"), "published on {addr}");
        let (code, body) = wait_answer(&format!("http://{addr}/health"));
        assert_eq!(code, 200, "books-ms:{v} /health: {body}");
        let (code, body) = curl(&[&format!("http://{addr}/api/v1/books")]);
        assert_eq!(code, 200, "books-ms:{v} /api/v1/books");
        assert!(body.contains(&format!(r#""version": "{v}""#)), "books-ms:{v}: {body}");
        assert!(body.contains("The DevOps 2.0 Toolkit"), "books-ms:{v}: {body}");
    }
}

#[test]
fn books_ms_broken_answers_500() {
    lab();
    let c = books_ms("broken");
    let addr = c.addr();
    let (code, body) = wait_answer(&format!("http://{addr}/health"));
    assert_eq!(code, 500, "books-ms:broken /health: {body}");
    let (code, _) = curl(&[&format!("http://{addr}/api/v1/books")]);
    assert_eq!(code, 500, "books-ms:broken /api/v1/books");
}

#[test]
fn books_ms_stops_at_once() {
    lab();
    let c = books_ms("1");
    wait_answer(&format!("http://{}/health", c.addr()));
    let start = Instant::now();
    docker(&["stop", &c.name]);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "docker stop took {:?}",
        start.elapsed()
    );
}

/// Removes a file and reloads nginx when dropped.
struct NginxConf(PathBuf);

impl Drop for NginxConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = Command::new("docker").args(["kill", "-s", "HUP", "nginx"]).output();
    }
}

#[test]
fn nginx_reloads_on_hup_and_proxies_to_a_container() {
    full_lab("nginx", NGINX);
    let app = books_ms("2");
    let app_addr = app.addr();
    assert_eq!(wait_answer(&format!("http://{app_addr}/health")).0, 200);

    // A server of its own on a free port of prod, beside the book's server on :80.
    let port = TcpListener::bind((PROD, 0)).unwrap().local_addr().unwrap().port();
    let path = Path::new(NGINX_CONF_D).join(format!("{}.conf", unique("zz-lab-test")));
    std::fs::write(
        &path,
        format!("server {{\n  listen {PROD}:{port};\n  location / {{ proxy_pass http://{app_addr}; }}\n}}\n"),
    )
    .unwrap();
    let _conf = NginxConf(path);
    docker(&["kill", "-s", "HUP", "nginx"]);
    let url = format!("http://{PROD}:{port}/api/v1/books");
    let start = Instant::now();
    let (code, body) = loop {
        let r = curl(&[&url]);
        if r.0 == 200 || start.elapsed() > Duration::from_secs(10) {
            break r;
        }
        sleep(Duration::from_millis(100));
    };
    assert_eq!(code, 200, "through nginx after HUP: {body}");
    assert!(body.contains(r#""version": "2""#), "{body}");
}

#[test]
fn books_ms_images_declare_their_consul_check() {
    // The book's docker-compose.yml sets only SERVICE_NAME: the check comes from the image.
    lab();
    for (tag, version) in [("1", "1"), ("2", "2"), ("broken", "broken")] {
        assert_env(
            &format!("{REGISTRY}/books-ms:{tag}"),
            &[
                "SERVICE_CHECK_HTTP=/health",
                "SERVICE_CHECK_INTERVAL=1s",
                &format!("VERSION={version}"),
                "PORT=8080",
            ],
        );
    }
}

#[test]
fn hello_1_and_2_greet_with_their_version() {
    lab();
    for v in ["1", "2"] {
        let image = format!("{REGISTRY}/hello:{v}");
        assert_env(
            &image,
            &[
                "SERVICE_CHECK_HTTP=/health",
                "SERVICE_CHECK_INTERVAL=1s",
                &format!("VERSION={v}"),
            ],
        );
        let exposed = docker(&["image", "inspect", "-f", "{{json .Config.ExposedPorts}}", &image]);
        assert!(exposed.contains("\"9000/tcp\""), "{image} exposes {exposed}");
        let c = hello(v);
        let addr = c.published(9000);
        assert!(addr.starts_with("127.0.0.3:"), "published on {addr}");
        let (code, body) = wait_answer(&format!("http://{addr}/health"));
        assert_eq!((code, body.trim()), (200, "ok"), "hello:{v} /health");
        let (code, body) = curl(&[&format!("http://{addr}/greetings/")]);
        assert_eq!(
            (code, body.trim()),
            (200, format!("hello {v}").as_str()),
            "hello:{v} /greetings/"
        );
        let (took, exit) = c.stop();
        assert!(took < Duration::from_secs(5), "docker stop hello:{v} took {took:?}");
        assert_eq!(exit, "0", "hello:{v} exits 0 on SIGTERM");
    }
}

#[test]
fn hello_broken_answers_404() {
    lab();
    let c = hello("broken");
    let addr = c.published(9000);
    let (code, _) = wait_answer(&format!("http://{addr}/health"));
    assert_eq!(code, 404, "hello:broken /health");
    let (code, _) = curl(&[&format!("http://{addr}/greetings/")]);
    assert_eq!(code, 404, "hello:broken /greetings/");
}

#[test]
fn mongo_is_a_local_stand_in_that_stops_at_once() {
    lab();
    let content = docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"org.bgrun.lab.content\"}}",
        "mongo:latest",
    ]);
    assert!(
        content.starts_with("mongo-"),
        "mongo:latest is not the lab's stand-in: {content:?}"
    );
    let id = docker(&["image", "inspect", "-f", "{{.Id}}", "mongo:latest"]);
    assert_eq!(
        docker(&["image", "inspect", "-f", "{{.Id}}", "mongo"]),
        id,
        "`mongo` is mongo:latest"
    );
    let exposed = docker(&["image", "inspect", "-f", "{{json .Config.ExposedPorts}}", "mongo"]);
    assert!(exposed.contains("\"27017/tcp\""), "mongo exposes {exposed}");
    // Local only: the compose file names plain `mongo`.
    let (code, _) = curl(&[
        "-I",
        "-H",
        "Accept: application/vnd.docker.distribution.manifest.v2+json",
        &format!("http://{REGISTRY}/v2/mongo/manifests/latest"),
    ]);
    assert_ne!(code, 200, "mongo must not be in the lab registry");

    let c = Container::run("mongo", &[]);
    sleep(Duration::from_millis(1500));
    let running = docker(&["inspect", "-f", "{{.State.Running}}", &c.name]);
    assert_eq!(running, "true", "the mongo stand-in stays up");
    let (took, exit) = c.stop();
    assert!(took < Duration::from_secs(5), "docker stop mongo took {took:?}");
    assert_eq!(exit, "0", "the mongo stand-in exits 0 on SIGTERM");
}

#[test]
fn haproxy_answers_on_prod() {
    full_lab("HAProxy", HAPROXY);
    // No services.map entry for this path: HAProxy itself answers (503, no backend).
    let path = unique("/lab-test-no-such-service");
    let out = ok(Command::new("curl")
        .args(["-s", "-m", "5", "-o", "/dev/null", "-D", "-"])
        .arg(format!("{HAPROXY}{path}")));
    assert!(out.starts_with("HTTP/1.1 503"), "answer: {out}");
    let state = docker(&[
        "inspect",
        "-f",
        "{{.State.Running}} {{.HostConfig.NetworkMode}} {{index .Config.Labels \"org.bgrun.lab\"}}",
        "haproxy",
    ]);
    assert_eq!(state, "true host haproxy");
    let cmd = docker(&["inspect", "-f", "{{json .Config.Cmd}}", "haproxy"]);
    assert_eq!(
        cmd,
        r#"["haproxy","-W","-db","-f","/usr/local/etc/haproxy/haproxy.cfg","-f","/usr/local/etc/haproxy/conf.d"]"#
    );
    let mounts = docker(&[
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}",
        "haproxy",
    ]);
    for m in [
        format!("{HAPROXY_DIR}:/usr/local/etc/haproxy"),
        format!("{HAPROXY_DIR}/run:/run/haproxy"),
    ] {
        assert!(mounts.split_whitespace().any(|x| x == m), "mount {m} in {mounts}");
    }
    // The base config is lab/conf/haproxy.cfg; conf.d and services.map are the deploys'.
    let base = std::fs::read_to_string(repo().join("lab/conf/haproxy.cfg")).unwrap();
    let installed = std::fs::read_to_string(Path::new(HAPROXY_DIR).join("haproxy.cfg")).unwrap();
    assert_eq!(installed, base, "{HAPROXY_DIR}/haproxy.cfg is lab/conf/haproxy.cfg");
    assert!(Path::new(HAPROXY_DIR).join("conf.d").is_dir());
    assert!(Path::new(HAPROXY_DIR).join("services.map").is_file());
}

// No test here reloads the lab's haproxy: a reload resets every backend's runtime state
// (servers switched with `set server`) to what conf.d says, under deploys' tests running
// meanwhile. The reload and the runtime switch are in lab/README.md, checked by hand.
#[test]
fn haproxy_admin_socket_answers_show_info() {
    full_lab("HAProxy", HAPROXY);
    let info = haproxy_api("show info");
    assert!(info.contains("Name: HAProxy"), "show info: {info}");
    assert!(info.contains("Version: 2.6"), "show info: {info}");
    // The runtime API the deploys switch colors with (`set server`) answers at this level.
    let backends = haproxy_api("show backend");
    assert!(backends.starts_with("# name"), "show backend: {backends}");
}
