//! Tests of the Compose model: each syntax, the book's files, errors, substitution, names, order,
//! and the config-hash input compared with what docker-compose 1.29 itself computes (the
//! `expected.txt` files beside the fixtures, written by their `regenerate.py`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose")
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    env.entry("HOME".into()).or_insert_with(|| "/root".into());
    env
}

/// Writes `docker-compose.yml` (and other files) into a new directory and loads it as `app`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load(&self, text: &str, vars: &[(&str, &str)]) -> Result<Project, Error> {
        let file = self.write("docker-compose.yml", text);
        load(&[file], Some("app"), &env(vars))
    }

    fn file(&self) -> String {
        self.path().join("docker-compose.yml").display().to_string()
    }
}

fn ok(text: &str) -> (Scratch, Project) {
    let s = Scratch::new();
    let p = s.load(text, &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    (s, p)
}

fn err(text: &str) -> (Scratch, Error) {
    let s = Scratch::new();
    let e = s.load(text, &[]).expect_err("an error");
    (s, e)
}

fn binding(ip: &str, host: &str, container: &str, proto: &str) -> PortBinding {
    PortBinding {
        host_ip: ip.into(),
        host_port: host.into(),
        container_port: container.into(),
        protocol: proto.into(),
    }
}

/// A fixture docker-compose computed `expected.txt` for: directory, project, files, variables.
type Case = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

const CASES: &[Case] = &[
    ("books-ms", "books-ms", &["docker-compose.yml"], &[]),
    ("books-ms", "books-ms-v2", &["docker-compose-v2.yml"], &[]),
    (
        "full-v2",
        "full",
        &["docker-compose.yml"],
        &[("FROM_ENV", "outside"), ("TAG", "1.5")],
    ),
    ("v3", "threes", &["docker-compose.yml"], &[("TAG", "7")]),
    (
        "multi",
        "multi",
        &["docker-compose.yml", "docker-compose.override.yml"],
        &[],
    ),
];

#[test]
fn config_dicts_match_docker_compose() {
    for (dir, project, files, vars) in CASES {
        let base = fixtures().join(dir);
        let paths: Vec<PathBuf> = files.iter().map(|f| base.join(f)).collect();
        let p = load(&paths, Some(project), &env(vars)).unwrap_or_else(|e| panic!("{}", e.render()));
        let mut ours: Vec<String> = p
            .services
            .values()
            .map(|s| {
                let dump = py::json_dumps(&s.config_dict(None), py::JsonStyle::CompactSorted);
                format!("{} {}", s.name, dump.replace(&base.display().to_string(), "<DIR>"))
            })
            .collect();
        ours.sort();
        let expected = std::fs::read_to_string(base.join("expected.txt")).unwrap();
        let header = format!("# {project} {}", files.join(" "));
        let theirs: Vec<&str> = expected
            .split("# ")
            .find(|section| format!("# {section}").starts_with(&header))
            .unwrap_or_else(|| panic!("no section `{header}` in {dir}/expected.txt"))
            .lines()
            .skip(1)
            .collect();
        assert_eq!(ours.len(), theirs.len(), "{header}: services");
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(o, t, "{header}: config_dict differs from docker-compose's");
        }
    }
}

#[test]
fn books_ms_v1_file() {
    let p = load(
        &[fixtures().join("books-ms/docker-compose.yml")],
        Some("books-ms"),
        &env(&[]),
    )
    .unwrap();
    assert!(p.v1);
    assert_eq!(p.name, "books-ms");
    assert_eq!(
        p.services.keys().collect::<Vec<_>>(),
        ["base", "app", "app-blue", "app-green", "applocal", "db"]
    );
    let blue = p.service("app-blue").unwrap();
    assert_eq!(blue.image, "10.100.198.200:5000/books-ms");
    assert_eq!(blue.environment, ["SERVICE_NAME=books-ms-blue"]);
    assert_eq!(blue.ports, [binding("", "", "8080", "tcp")]);
    assert_eq!(blue.exposed_ports, ["8080/tcp"]);
    // `links: [db:db]` merged over the extended service becomes `db`, as in docker-compose.
    assert_eq!(
        blue.links,
        [Link {
            service: "db".into(),
            alias: None
        }]
    );
    assert_eq!(
        blue.container_links,
        ["books-ms_db_1:books-ms_db_1", "books-ms_db_1:db", "books-ms_db_1:db_1"]
    );
    assert_eq!(blue.network_mode, NetworkMode::Default);
    assert!(blue.networks.is_empty());
    assert_eq!(p.container_name("app-blue", 1), "books-ms_app-blue_1");
    // What `docker-compose -p books-ms config --hash=app-blue` prints when the image is absent.
    assert_eq!(
        json_hash(&blue.config_dict(None)),
        "cf5e05d544c0f0e6ca83f0605c91d4aa00aa683ab35fde661b2fc7ccb191b7be"
    );
    assert_eq!(p.start_order(&["app-blue".into()]), ["db", "app-blue"]);
    assert!(p.networks.is_empty());
}

#[test]
fn books_ms_v2_file() {
    let p = load(
        &[fixtures().join("books-ms/docker-compose-v2.yml")],
        Some("books-ms"),
        &env(&[]),
    )
    .unwrap();
    assert!(!p.v1);
    let green = p.service("app-green").unwrap();
    assert_eq!(green.environment, ["SERVICE_NAME=books-ms-green"]);
    assert_eq!(green.network_mode, NetworkMode::Network("books-ms_default".into()));
    assert_eq!(green.networks.keys().collect::<Vec<_>>(), ["books-ms_default"]);
    assert_eq!(p.networks["default"].full_name, "books-ms_default");
    assert_eq!(
        json_hash(&green.config_dict(None)),
        "9a43ce24f24fc6c5cc73babdbbe675ed637bceb80912943a910b8cf79b873e15"
    );
}

#[test]
fn project_names_as_docker_compose_makes_them() {
    let s = Scratch::new();
    let file = s.write(
        "My Books.v2/docker-compose.yml",
        "version: '2'\nservices:\n  a:\n    image: x\n",
    );
    let name = |p: Option<&str>, vars: &[(&str, &str)]| load(std::slice::from_ref(&file), p, &env(vars)).unwrap().name;
    assert_eq!(name(None, &[]), "mybooksv2");
    assert_eq!(name(Some("Books-MS"), &[]), "books-ms");
    assert_eq!(name(None, &[("COMPOSE_PROJECT_NAME", "From_Env")]), "from_env");
    s.write("My Books.v2/.env", "COMPOSE_PROJECT_NAME=dotenv\n");
    assert_eq!(name(None, &[]), "dotenv");
    assert_eq!(name(None, &[("COMPOSE_PROJECT_NAME", "env")]), "env");
    assert_eq!(name(Some("flag"), &[("COMPOSE_PROJECT_NAME", "env")]), "flag");
    let e = load(std::slice::from_ref(&file), Some("%%%"), &env(&[])).unwrap_err();
    assert_eq!(e.to_string(), "the project name is empty once normalised");
}

#[test]
fn port_syntaxes() {
    let (_s, p) = ok(r#"
version: "3.8"
services:
  web:
    image: x
    ports:
      - "8080"
      - "127.0.0.3::8080"
      - "127.0.0.3:80:8080"
      - "8000-8001:8000-8001"
      - "9000:9000/udp"
      - 7000
      - target: 443
        published: 8443
        protocol: tcp
        mode: host
    expose: ["3000", 3001]
"#);
    let web = p.service("web").unwrap();
    assert_eq!(
        web.ports,
        [
            binding("", "", "8080", "tcp"),
            binding("127.0.0.3", "", "8080", "tcp"),
            binding("127.0.0.3", "80", "8080", "tcp"),
            binding("", "8000", "8000", "tcp"),
            binding("", "8001", "8001", "tcp"),
            binding("", "9000", "9000", "udp"),
            binding("", "", "7000", "tcp"),
            binding("", "8443", "443", "tcp"),
        ]
    );
    assert_eq!(
        web.exposed_ports,
        [
            "8080/tcp", "8000/tcp", "8001/tcp", "9000/udp", "7000/tcp", "443/tcp", "3000/tcp", "3001/tcp"
        ]
    );
    assert_eq!(web.ports[0].container_key(), "8080/tcp");
}

#[test]
fn volume_syntaxes() {
    let s = Scratch::new();
    let p = s
        .load(
            r#"
version: "3.8"
services:
  web:
    image: x
    volumes:
      - ./data:/data:ro
      - /var/log:/var/log
      - cache:/cache
      - /scratch
      - ~/conf:/etc/conf
      - type: bind
        source: ./site
        target: /srv
        read_only: true
      - type: volume
        source: cache
        target: /cache2
        volume: {nocopy: true}
      - type: tmpfs
        target: /run/tmp
        tmpfs: {size: 1m}
volumes:
  cache:
"#,
            &[("HOME", "/home/me")],
        )
        .unwrap();
    let web = p.service("web").unwrap();
    let dir = s.path().display().to_string();
    assert_eq!(
        web.binds,
        [
            format!("{dir}/data:/data:ro"),
            "/var/log:/var/log:rw".into(),
            "app_cache:/cache:rw".into(),
            "/home/me/conf:/etc/conf:rw".into()
        ]
    );
    assert_eq!(
        web.container_volumes,
        ["/data", "/var/log", "/cache", "/scratch", "/etc/conf"]
    );
    assert_eq!(web.mounts.len(), 3);
    assert_eq!(
        (
            web.mounts[0].kind.as_str(),
            web.mounts[0].source.clone(),
            web.mounts[0].read_only
        ),
        ("bind", Some(format!("{dir}/site")), true)
    );
    assert_eq!(
        (web.mounts[1].source.as_deref(), web.mounts[1].no_copy),
        (Some("app_cache"), Some(true))
    );
    assert_eq!(
        (
            web.mounts[2].kind.as_str(),
            web.mounts[2].target.as_str(),
            web.mounts[2].tmpfs_size
        ),
        ("tmpfs", "/run/tmp", Some(1024 * 1024))
    );
    assert_eq!(p.volumes["cache"].full_name, "app_cache");
}

#[test]
fn environment_env_file_and_labels() {
    let s = Scratch::new();
    s.write("app.env", "# defaults\nA=1\nB=2\nQUOTED=\"x y\"\n");
    let p = s
        .load(
            r#"
version: "2"
services:
  map:
    image: x
    env_file: app.env
    environment:
      B: 3
      C:
      D: 1.5
      E: ""
    labels:
      x: 1
      y: true
  list:
    image: x
    environment: [X=1, Y, Z=a=b]
    labels: ["a=b", "c"]
"#,
            &[("C", "from-env")],
        )
        .unwrap();
    assert_eq!(
        p.service("map").unwrap().environment,
        ["A=1", "B=3", "QUOTED=x y", "C=from-env", "D=1.5", "E="]
    );
    assert_eq!(p.service("list").unwrap().environment, ["X=1", "Y", "Z=a=b"]);
    let labels = |name: &str| {
        p.service(name)
            .unwrap()
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(labels("map"), ["x=1", "y=True"]);
    assert_eq!(labels("list"), ["a=b", "c="]);
}

#[test]
fn command_entrypoint_and_settings() {
    let (_s, p) = ok(r#"
version: "2.4"
services:
  web:
    image: x
    command: sh -c 'echo "hello world" && sleep 1'
    entrypoint: ["/bin/sh", "-c"]
    restart: on-failure:3
    healthcheck:
      test: curl -f http://localhost/
      interval: 1m30s
      timeout: 10s
      retries: 3
      start_period: 500ms
    container_name: books
    hostname: web
    user: "1000"
    working_dir: /srv
    stop_signal: SIGINT
    stop_grace_period: 1m5s
    privileged: true
    dns: 8.8.8.8
    extra_hosts: ["registry:127.0.0.2", "db: 10.0.0.5"]
    cap_add: [NET_ADMIN]
    scale: 1
  "off":
    image: x
    command: [echo, hi]
    restart: "no"
    healthcheck: {disable: true}
    network_mode: host
    extra_hosts: {b: 2.2.2.2, a: 1.1.1.1}
    scale: 3
"#);
    let web = p.service("web").unwrap();
    assert_eq!(
        web.command.as_deref(),
        Some(&["sh".to_string(), "-c".into(), "echo \"hello world\" && sleep 1".into()][..])
    );
    assert_eq!(
        web.entrypoint.as_deref(),
        Some(&["/bin/sh".to_string(), "-c".into()][..])
    );
    assert_eq!(
        web.restart,
        Some(RestartPolicy {
            name: "on-failure".into(),
            maximum_retry_count: 3
        })
    );
    let hc = web.healthcheck.clone().unwrap();
    assert_eq!(
        hc.test,
        Some(vec!["CMD-SHELL".to_string(), "curl -f http://localhost/".into()])
    );
    assert_eq!(
        (hc.interval, hc.timeout, hc.start_period, hc.retries),
        (Some(90_000_000_000), Some(10_000_000_000), Some(500_000_000), Some(3))
    );
    assert_eq!(p.container_name("web", 1), "books");
    assert_eq!(
        (web.hostname.as_deref(), web.user.as_deref(), web.working_dir.as_deref()),
        (Some("web"), Some("1000"), Some("/srv"))
    );
    assert_eq!(
        (web.stop_signal.as_deref(), web.stop_grace_period),
        (Some("SIGINT"), Some(65.0))
    );
    assert!(web.privileged);
    assert_eq!(web.dns, ["8.8.8.8"]);
    assert_eq!(web.extra_hosts, ["registry:127.0.0.2", "db: 10.0.0.5"]);
    assert_eq!(web.cap_add, ["NET_ADMIN"]);
    let off = p.service("off").unwrap();
    assert_eq!(off.command.as_deref(), Some(&["echo".to_string(), "hi".into()][..]));
    assert_eq!(
        off.restart,
        Some(RestartPolicy {
            name: "no".into(),
            maximum_retry_count: 0
        })
    );
    assert_eq!(off.healthcheck.clone().unwrap().test, Some(vec!["NONE".to_string()]));
    assert_eq!(off.network_mode, NetworkMode::Other("host".into()));
    assert!(off.networks.is_empty());
    assert_eq!(off.extra_hosts, ["a:1.1.1.1", "b:2.2.2.2"]);
    assert_eq!(off.scale, 3);
    assert_eq!(p.container_name("off", 2), "app_off_2");
}

#[test]
fn networks_and_aliases() {
    let (_s, p) = ok(r#"
version: "2.4"
services:
  web:
    image: x
    networks:
      back:
      front:
        aliases: [books]
        priority: 10
  db:
    image: x
    networks: [back]
networks:
  front:
    driver: bridge
  back:
    external:
      name: shared_back
"#);
    let web = p.service("web").unwrap();
    assert_eq!(web.networks.keys().collect::<Vec<_>>(), ["app_front", "shared_back"]);
    assert_eq!(web.networks["app_front"].aliases, ["books"]);
    assert_eq!(web.network_mode, NetworkMode::Network("app_front".into()));
    assert_eq!(
        p.service("db").unwrap().network_mode,
        NetworkMode::Network("shared_back".into())
    );
    assert!(p.networks["back"].external);
    assert_eq!(p.networks["front"].driver.as_deref(), Some("bridge"));
}

#[test]
fn depends_on_and_start_order() {
    let (_s, p) = ok(r#"
version: "2.4"
services:
  web:
    image: x
    depends_on: [api]
  api:
    image: x
    depends_on:
      db:
        condition: service_healthy
    links: [cache]
  db:
    image: x
  cache:
    image: x
  tool:
    image: x
    profiles: [tools]
    volumes_from: [db]
"#);
    assert_eq!(
        p.service("api").unwrap().depends_on.get("db").map(String::as_str),
        Some("service_healthy")
    );
    assert_eq!(
        p.service("web").unwrap().depends_on.get("api").map(String::as_str),
        Some("service_started")
    );
    assert_eq!(p.start_order(&[]), ["db", "cache", "api", "web"]);
    assert_eq!(p.start_order(&["web".into()]), ["db", "cache", "api", "web"]);
    assert_eq!(p.start_order(&["tool".into()]), ["db", "tool"]);
    assert_eq!(p.start_order(&["cache".into(), "nope".into()]), ["cache"]);
    let e = p.service("wbe").unwrap_err();
    assert_eq!(e.render(), "error: no such service: `wbe`\nhelp: did you mean `web`?");
}

#[test]
fn dependency_cycles_are_errors() {
    let (s, e) = err(
        "version: '2'\nservices:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    links: [c]\n  c:\n    image: x\n    depends_on: [a]\n",
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}:11:18: dependency cycle between services: `a` -> `b` -> `c` -> `a`",
            s.file()
        )
    );
    let (s, e) = err("version: '2'\nservices:\n  a:\n    image: x\n    links: [a]\n");
    assert_eq!(
        e.to_string(),
        format!("{}:5:13: service `a` depends on itself", s.file())
    );
}

#[test]
fn container_labels_are_docker_composes() {
    let (s, p) = ok("version: '2'\nservices:\n  web:\n    image: x\n    labels: [team=books]\n");
    let id = "sha256:0123456789abcdef";
    let labels = p.container_labels("web", 2, id);
    let dir = s.path().display().to_string();
    let expected = [
        ("team", "books".to_string()),
        ("com.docker.compose.project", "app".into()),
        ("com.docker.compose.service", "web".into()),
        ("com.docker.compose.oneoff", "False".into()),
        ("com.docker.compose.project.working_dir", dir),
        ("com.docker.compose.project.config_files", s.file()),
        ("com.docker.compose.container-number", "2".into()),
        ("com.docker.compose.version", "1.29.2".into()),
        ("com.docker.compose.config-hash", p.config_hash("web", id)),
    ];
    assert_eq!(
        labels.into_iter().collect::<Vec<_>>(),
        expected.map(|(k, v)| (k.to_string(), v))
    );
    assert_eq!(
        p.config_hash("web", id),
        json_hash(&p.services["web"].config_dict(Some(id)))
    );
    assert_ne!(p.config_hash("web", id), p.config_hash("web", "sha256:other"));
    assert_eq!(p.config_hash("nope", id), "");
    assert_eq!(
        p.service_filter_labels("web"),
        [
            "com.docker.compose.project=app",
            "com.docker.compose.service=web",
            "com.docker.compose.oneoff=False"
        ]
    );
}

#[test]
fn substitution_rules() {
    let s = Scratch::new();
    s.write(".env", "TAG=from-dotenv\nONLY_DOTENV=dot\nREF=${ONLY_DOTENV}-x\n");
    let p = s
        .load(
            r#"
version: "2"
services:
  web:
    image: "registry/web:${TAG}"
    command: "echo $$HOME ${MISSING:-fallback} ${EMPTY:-empty-default} ${EMPTY-kept} ${ONLY_DOTENV} $REF ${UNSET}"
"#,
            &[("TAG", "from-env"), ("EMPTY", "")],
        )
        .unwrap();
    let web = p.service("web").unwrap();
    assert_eq!(web.image, "registry/web:from-env");
    assert_eq!(
        web.command.clone().unwrap(),
        ["echo", "$HOME", "fallback", "empty-default", "dot", "dot-x"]
    );
    assert_eq!(
        p.warnings,
        ["The UNSET variable is not set. Defaulting to a blank string."]
    );

    let e = s
        .load(
            "version: '2'\nservices:\n  web:\n    image: \"x:${NEEDED:?set NEEDED first}\"\n",
            &[],
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:4:12: service `web`: `image`: missing mandatory value while substituting \"x:${{NEEDED:?set NEEDED first}}\": set NEEDED first",
            s.file()
        )
    );
    let e = s
        .load(
            "version: '2'\nservices:\n  web:\n    image: x\n    command: echo 5$\n",
            &[],
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:5:14: service `web`: `command`: invalid interpolation format in \"echo 5$\"",
            s.file()
        )
    );
    // Version 1 files have no defaults.
    let e = s.load("web:\n  image: \"x:${TAG:-1}\"\n", &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:2:10: service `web`: `image`: invalid interpolation format in \"x:${{TAG:-1}}\"",
            s.file()
        )
    );
    let p = s.load("web:\n  image: \"x:${TAG}\"\n", &[]).unwrap();
    assert_eq!(p.service("web").unwrap().image, "x:from-dotenv");
}

#[test]
fn errors_point_at_the_key_and_name_the_service() {
    let (s, e) = err("version: '2'\nservices:\n  web:\n    image: x\n    prots: ['80']\n");
    assert_eq!(
        e.render(),
        format!(
            "error: {}:5:5: unknown key `prots` in service `web`\n  |\n5 |     prots: ['80']\n  |     ^\nhelp: did you mean `ports`?",
            s.file()
        )
    );
    let (s, e) = err("web:\n  image: x\n  workdir: /srv\n");
    assert_eq!(
        e.to_string(),
        format!("{}:3:3: unknown key `workdir` in service `web`", s.file())
    );
    assert!(e.render().ends_with("help: did you mean `working_dir`?"));
    let (s, e) = err("version: '2'\nservices:\n  web:\n    image: x\n    restart: no\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:5:14: service `web`: `restart` must be a string, not a boolean",
            s.file()
        )
    );
    assert!(
        e.render()
            .ends_with("help: YAML reads `no` as a boolean; quote it: restart: \"no\"")
    );
    let (s, e) = err("version: '2'\nservices:\n  web:\n    image: x\n    links: [dbb]\n  db:\n    image: x\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:5:13: service `web`: has a link to service `dbb`, which is undefined",
            s.file()
        )
    );
    assert!(e.render().ends_with("help: did you mean `db`?"));
    let (s, e) = err("version: '2'\nservices:\n  web:\n    image: x\n    ports: ['80:80/tcpx']\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:5:13: service `web`: `ports[0]`: Invalid port \"80:80/tcpx\", should be [[remote_ip:]remote_port[-remote_port]:]port[/protocol]",
            s.file()
        )
    );
    let (s, e) = err("version: 2\nservices:\n  web:\n    image: x\n");
    assert_eq!(
        e.to_string(),
        format!("{}:1:10: `version` must be a string, not an integer", s.file())
    );
    assert!(e.render().ends_with("help: quote it: version: \"2\""));
    let (s, e) = err("version: '2'\nservices:\n  web:\n    extends: {service: bsae}\n  base:\n    image: x\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{0}:4:24: service `web`: cannot extend service `bsae` in {0}: service not found",
            s.file()
        )
    );
    assert!(e.render().ends_with("help: did you mean `base`?"));
    let (s, e) = err("version: '2'\nservices:\n  web:\n    command: x\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:3:3: service `web`: has neither an `image` nor a `build` context; at least one must be provided",
            s.file()
        )
    );
    let (s, e) = err("version: '2'\nservices:\n  web:\n    image: x\n    volumes: ['data:/data']\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:5:15: service `web`: named volume \"data:/data:rw\" is used but not declared in the top-level `volumes:`",
            s.file()
        )
    );
    let (s, e) = err("version: '2'\nservices:\n  web:\n    image: x\n    env_file: missing.env\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{0}:5:15: service `web`: couldn't find env file: {1}/missing.env",
            s.file(),
            s.path().display()
        )
    );
    let (s, e) = err("version: '2'\nservices:\n  web:\n    image: x\n    healthcheck: {intervl: 5s}\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:5:19: unknown key `intervl` in `healthcheck` of service `web`",
            s.file()
        )
    );
    let (s, e) =
        err("version: '2'\nservices:\n  a:\n    image: x\n    extends: b\n  b:\n    image: y\n    extends: a\n");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:8:14: service `b`: circular `extends`: `a` extends `b` extends `a`",
            s.file()
        )
    );
    let e = load(&[PathBuf::from("/nonexistent/docker-compose.yml")], None, &env(&[])).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot read `/nonexistent/docker-compose.yml`"),
        "{e}"
    );
}

#[test]
fn extends_from_another_file_and_overrides() {
    let base = fixtures().join("multi");
    let files = [
        base.join("docker-compose.yml"),
        base.join("docker-compose.override.yml"),
    ];
    let p = load(&files, None, &env(&[])).unwrap();
    assert_eq!(p.name, "multi");
    assert_eq!(
        p.config_files,
        files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>()
    );
    let app = p.service("app").unwrap();
    assert_eq!(app.image, "books/app:1");
    assert_eq!(
        app.environment,
        ["JAVA_OPTS=-Xmx1g", "JAVA_HOME=/usr/lib/jvm", "MODE=override", "EXTRA=1"]
    );
    let dir = base.display();
    assert_eq!(
        app.binds,
        [
            format!("{dir}/common/lib:/app/lib:rw"),
            format!("{dir}/override-logs:/logs:ro")
        ]
    );
    assert_eq!(
        app.restart,
        Some(RestartPolicy {
            name: "unless-stopped".into(),
            maximum_retry_count: 0
        })
    );
    assert_eq!(p.service("db").unwrap().dns, ["1.1.1.1", "8.8.8.8"]);
    assert_eq!(p.service("extra").unwrap().command.clone().unwrap(), ["sleep", "1d"]);
}

/// A tiny deterministic generator for the mutation test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

#[test]
fn mangled_files_give_errors_not_panics() {
    const PIECES: &[&str] = &[
        ":",
        "-",
        "[",
        "]",
        "{",
        "}",
        "$",
        "${",
        "${X:?}",
        "$$",
        "'",
        "\"",
        "\n",
        " ",
        "#",
        "&a",
        "*a",
        "!!str",
        "|",
        ">",
        "0",
        "22:22",
        "1.5",
        "yes",
        "null",
        "~",
        "extends: web",
        "links: [web]",
        "ports: [8080]",
        "- 80:80",
        "<<: *a",
        "version: '1'",
        "\t",
        "é",
        "service:",
        "volumes_from: [x]",
        "network_mode: service:web",
        "depends_on: {x: {}}",
    ];
    let sources: Vec<(PathBuf, String)> = [
        "books-ms/docker-compose.yml",
        "books-ms/docker-compose-v2.yml",
        "full-v2/docker-compose.yml",
        "v3/docker-compose.yml",
        "multi/docker-compose.yml",
    ]
    .iter()
    .map(|f| (fixtures().join(f), std::fs::read_to_string(fixtures().join(f)).unwrap()))
    .collect();
    let s = Scratch::new();
    s.write("web.env", "A=1\n");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..600 {
        let (_, text) = &sources[round % sources.len()];
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..=rng.below(4) {
            let at = rng.below(chars.len() + 1);
            match rng.below(4) {
                0 => {
                    let end = (at + rng.below(12)).min(chars.len());
                    chars.drain(at..end);
                }
                1 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    chars.splice(at..at, piece.chars());
                }
                2 => {
                    let from = rng.below(chars.len());
                    let end = (from + rng.below(40)).min(chars.len());
                    let copy: Vec<char> = chars[from..end].to_vec();
                    chars.splice(at..at, copy);
                }
                _ => {
                    if at < chars.len() {
                        chars[at] = PIECES[rng.below(PIECES.len())].chars().next().unwrap_or(' ');
                    }
                }
            }
        }
        let mangled: String = chars.into_iter().collect();
        if let Ok(p) = s.load(&mangled, &[("TAG", "1")]) {
            for name in p.services.keys() {
                let _ = p.container_labels(name, 1, "sha256:x");
            }
            let _ = p.start_order(&[]);
        }
    }
}

#[test]
fn yaml_is_read_as_pyyaml_reads_it() {
    // Unquoted `22:22` is a base-60 number (1342) for PyYAML, and so for docker-compose.
    let (_s, p) = ok("version: '2'\nservices:\n  web:\n    image: x\n    ports:\n      - 22:22\n      - \"22:22\"\n");
    assert_eq!(
        p.service("web").unwrap().ports,
        [binding("", "", "1342", "tcp"), binding("", "22", "22", "tcp")]
    );
    let (s, e) = err("version: '2'\nservices:\n  off:\n    image: x\n");
    assert_eq!(
        e.to_string(),
        format!("{}:3:3: the service name `off` must be a quoted string", s.file())
    );
    assert!(
        e.render()
            .ends_with("help: YAML reads `off` as false, not as text; write 'off'"),
        "{}",
        e.render()
    );
}

#[test]
fn default_files_as_docker_compose_finds_them() {
    let s = Scratch::new();
    let no_env = HashMap::new();
    assert!(default_files(s.path(), &no_env).is_err());
    s.write("compose.yml", "version: '2'\n");
    s.write("docker-compose.yml", "version: '2'\n");
    s.write("docker-compose.override.yml", "version: '2'\n");
    std::fs::create_dir_all(s.path().join("sub/deeper")).unwrap();
    let from = s.path().join("sub/deeper");
    let files = default_files(&from, &no_env).unwrap();
    assert_eq!(
        files,
        [
            from.join("../../docker-compose.yml"),
            from.join("../../docker-compose.override.yml")
        ]
    );
    let env = HashMap::from([("COMPOSE_FILE".to_string(), "a.yml:b.yml".to_string())]);
    assert_eq!(
        default_files(s.path(), &env).unwrap(),
        [s.path().join("a.yml"), s.path().join("b.yml")]
    );
    s.write("compose.override.yml", "version: '2'\n");
    assert!(
        default_files(s.path(), &no_env)
            .unwrap_err()
            .to_string()
            .starts_with("multiple override files found")
    );
}
