//! bgrun's Compose model against the real docker-compose 1.29 and Docker engine: containers that
//! `docker-compose up --no-start` creates must carry exactly the names, labels (the
//! `config-hash` above all) and settings that `bgrun::compose` computes for them.
//!
//! Needs the Docker engine (`docker info`) and docker-compose 1.29; fails with a clear message
//! when either is missing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bgrun::compose::{self, LABEL_CONFIG_HASH, Project};
use serde_json::Value;

/// A command's stdout, or its failure as text.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn docker(args: &[&str]) -> Result<String, String> {
    run(Command::new("docker").args(args))
}

fn require_tools() {
    if let Err(e) = docker(&["info", "--format", "{{.ServerVersion}}"]) {
        panic!(
            "this test compares bgrun's Compose model with docker-compose and needs the Docker engine, \
             but `docker info` failed: {e}\nstart Docker (lab/up does) and run the test again"
        );
    }
    match run(Command::new("docker-compose").arg("version").arg("--short")) {
        Ok(v) if v.trim().starts_with("1.29") => {}
        Ok(v) => panic!("this test needs docker-compose 1.29, found {}", v.trim()),
        Err(e) => panic!(
            "this test compares bgrun's Compose model with docker-compose 1.29, which is missing: {e}\n\
             install it with `apt-get install -y docker-compose`"
        ),
    }
}

/// A local image for the containers: the lab's books-ms image (which has a shell and `sleep`), or
/// a tiny imported one.
struct TestImage {
    name: String,
    id: String,
    imported: bool,
}

impl TestImage {
    fn get(dir: &Path) -> TestImage {
        let lab = "127.0.0.2:5000/books-ms:1";
        if let Ok(id) = docker(&["image", "inspect", "-f", "{{.Id}}", lab]) {
            return TestImage {
                name: lab.into(),
                id: id.trim().into(),
                imported: false,
            };
        }
        let name = "bgrun-compose-test:1";
        let root = dir.join("rootfs");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("hello.txt"), "hello\n").unwrap();
        let tar = dir.join("rootfs.tar");
        run(Command::new("tar").arg("-cf").arg(&tar).arg("-C").arg(&root).arg(".")).expect("tar");
        // A default command, as docker-compose cannot create a container without one.
        docker(&[
            "import",
            "--change",
            "CMD [\"/hello.txt\"]",
            tar.to_str().unwrap(),
            name,
        ])
        .expect("docker import");
        let id = docker(&["image", "inspect", "-f", "{{.Id}}", name]).expect("inspect imported image");
        TestImage {
            name: name.into(),
            id: id.trim().into(),
            imported: true,
        }
    }
}

impl Drop for TestImage {
    fn drop(&mut self) {
        if self.imported {
            let _ = docker(&["rmi", "-f", &self.name]);
        }
    }
}

/// A docker-compose project taken down (containers, networks, volumes) when dropped.
struct ComposeRun {
    dir: PathBuf,
    file: PathBuf,
    name: String,
    env: HashMap<String, String>,
}

impl ComposeRun {
    fn command(&self) -> Command {
        let mut cmd = Command::new("docker-compose");
        cmd.current_dir(&self.dir).env_clear().envs(&self.env);
        cmd.arg("-p").arg(&self.name).arg("-f").arg(&self.file);
        cmd
    }

    /// `up -d` when the image can run (linked containers must be running for docker-compose to
    /// link to them), else `up --no-start`.
    fn up(&self, start: bool) {
        let mut cmd = self.command();
        cmd.args(if start {
            &["up", "-d"][..]
        } else {
            &["up", "--no-start"][..]
        });
        if let Err(e) = run(&mut cmd) {
            panic!("docker-compose up failed: {e}");
        }
    }
}

impl Drop for ComposeRun {
    fn drop(&mut self) {
        let mut cmd = self.command();
        cmd.args(["down", "-v", "--remove-orphans"]);
        let _ = run(&mut cmd);
    }
}

/// The environment docker-compose runs with (and bgrun loads with).
fn base_env(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = HashMap::new();
    for key in [
        "PATH",
        "HOME",
        "DOCKER_HOST",
        "DOCKER_CONFIG",
        "DOCKER_CERT_PATH",
        "DOCKER_TLS_VERIFY",
    ] {
        if let Ok(v) = std::env::var(key) {
            env.insert(key.into(), v);
        }
    }
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

/// Every container of a project, by name, with `docker inspect`'s JSON.
fn containers(project: &str) -> HashMap<String, Value> {
    let filter = format!("label=com.docker.compose.project={project}");
    let ids = docker(&["ps", "-aq", "--filter", &filter]).expect("docker ps");
    let mut out = HashMap::new();
    for id in ids.split_whitespace() {
        let json = docker(&["inspect", id]).expect("docker inspect");
        let value: Value = serde_json::from_str(&json).expect("inspect JSON");
        let c = value[0].clone();
        let name = c["Name"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string();
        out.insert(name, c);
    }
    out
}

/// Compares what docker-compose created with the model; returns the differences.
fn compare(project: &Project, image_id: &str, created: &HashMap<String, Value>, with_links: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expected_names = Vec::new();
    for service in project.services.values() {
        for number in 1..=service.scale.max(1) as u32 {
            let name = project.container_name(&service.name, number);
            expected_names.push(name.clone());
            let Some(c) = created.get(&name) else {
                problems.push(format!(
                    "docker-compose created no container `{name}` (it created {:?})",
                    created.keys()
                ));
                continue;
            };
            let labels = &c["Config"]["Labels"];
            for (key, want) in project.container_labels(&service.name, number, image_id) {
                let got = labels[&key].as_str().unwrap_or("<missing>");
                if got != want {
                    let what = if key == LABEL_CONFIG_HASH {
                        " (the config hash)"
                    } else {
                        ""
                    };
                    problems.push(format!(
                        "{name}: label {key}{what}: docker-compose `{got}`, bgrun `{want}`"
                    ));
                }
            }
            let env: Vec<String> = c["Config"]["Env"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect();
            for e in &service.environment {
                if !env.contains(e) {
                    problems.push(format!("{name}: env `{e}` missing from {env:?}"));
                }
            }
            if let Some(cmd) = &service.command {
                let got: Vec<String> = c["Config"]["Cmd"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect();
                if &got != cmd {
                    problems.push(format!("{name}: command: docker-compose {got:?}, bgrun {cmd:?}"));
                }
            }
            for binding in &service.ports {
                let list = &c["HostConfig"]["PortBindings"][binding.container_key()];
                let found = list.as_array().into_iter().flatten().any(|b| {
                    b["HostIp"].as_str() == Some(binding.host_ip.as_str())
                        && b["HostPort"].as_str() == Some(binding.host_port.as_str())
                });
                if !found {
                    problems.push(format!("{name}: port binding {binding:?} not in {list}"));
                }
            }
            let binds: Vec<&str> = c["HostConfig"]["Binds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for b in &service.binds {
                if !binds.contains(&b.as_str()) {
                    problems.push(format!("{name}: bind `{b}` not in {binds:?}"));
                }
            }
            if let Some(restart) = &service.restart {
                let got = c["HostConfig"]["RestartPolicy"]["Name"].as_str().unwrap_or_default();
                if got != restart.name {
                    problems.push(format!(
                        "{name}: restart policy: docker-compose `{got}`, bgrun `{}`",
                        restart.name
                    ));
                }
            }
            if let Some(mode) = service.network_mode.docker_value() {
                let got = c["HostConfig"]["NetworkMode"].as_str().unwrap_or_default();
                if !mode.starts_with("service:") && got != mode {
                    problems.push(format!("{name}: network mode: docker-compose `{got}`, bgrun `{mode}`"));
                }
            }
            // Docker keeps links to the default bridge as `/target:/container/alias`, and links
            // on a user-defined network in the network's settings as `target:alias`.
            let mut links: Vec<String> = c["HostConfig"]["Links"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|l| {
                    let (target, alias) = l.split_once(':').unwrap_or((l, ""));
                    format!(
                        "{}:{}",
                        target.trim_start_matches('/'),
                        alias.rsplit('/').next().unwrap_or("")
                    )
                })
                .collect();
            for net in c["NetworkSettings"]["Networks"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                links.extend(
                    net["Links"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(String::from),
                );
            }
            for l in service.container_links.iter().filter(|_| with_links) {
                if !links.contains(l) {
                    problems.push(format!("{name}: link `{l}` not in {links:?}"));
                }
            }
        }
    }
    for name in created.keys() {
        if !expected_names.contains(name) {
            problems.push(format!("docker-compose created `{name}`, which bgrun does not expect"));
        }
    }
    problems
}

fn check_project(dir: &Path, name: &str, compose_text: &str, extra_env: &[(&str, &str)], image: &TestImage) {
    let file = dir.join("docker-compose.yml");
    std::fs::write(&file, compose_text.replace("IMAGE", &image.name)).unwrap();
    let env = base_env(extra_env);
    let project =
        compose::load(std::slice::from_ref(&file), Some(name), &env).unwrap_or_else(|e| panic!("{}", e.render()));
    let run = ComposeRun {
        dir: dir.to_path_buf(),
        file,
        name: name.to_string(),
        env,
    };
    // The imported image has nothing to run; docker-compose then links to no container.
    let start = !image.imported;
    run.up(start);
    let created = containers(name);
    let problems = compare(&project, &image.id, &created, start);
    assert!(
        problems.is_empty(),
        "bgrun differs from docker-compose for project `{name}`:\n  {}",
        problems.join("\n  ")
    );
}

const V2: &str = r#"
version: "2.4"
services:
  base:
    image: IMAGE
    environment:
      - SERVICE_NAME=books-ms
    ports:
      - 8080
  app:
    extends:
      service: base
    links:
      - db:db
    environment:
      SERVICE_NAME: books-ms-blue
      PORT: 8080
      FROM_DOTENV: ${FROM_DOTENV}
      PASSED:
    command: sh -c 'echo "$${SERVICE_NAME}" && sleep 1d'
    entrypoint: ["/bin/sh", "-c"]
    env_file: app.env
    labels:
      com.example.tier: app
      com.example.count: 3
    ports:
      - "127.0.0.3::8081"
      - "127.0.0.3:18082:8082"
      - "18000-18001:8000-8001"
      - "18053:53/udp"
      - target: 443
        published: 18443
    expose: ["3000", 3001]
    volumes:
      - ./data:/data:ro
      - cache:/cache
      - /scratch
      - type: volume
        source: cache
        target: /cache2
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
      timeout: 1m30s
      retries: 3
    restart: on-failure:3
    depends_on: [db]
    networks:
      front:
        aliases: [books]
      default:
    extra_hosts: ["registry:127.0.0.2"]
    cap_add: [NET_ADMIN]
    user: "1000"
    working_dir: /srv
    stop_signal: SIGINT
    hostname: app
    dns: 8.8.8.8
    privileged: "no"
    x-note: anything
  db:
    image: IMAGE
    command: ["sleep", "1d"]
    restart: always
    volumes_from: [store:ro]
  store:
    image: IMAGE
    command: sleep 1d
    volumes: [/store]
    scale: 2
    network_mode: none
  named:
    image: IMAGE
    container_name: CONTAINER
    network_mode: "service:db"
    x-kept: true
networks:
  front:
    labels:
      com.example.net: front
volumes:
  cache:
"#;

const V1: &str = r#"
base:
  image: IMAGE
  ports:
    - 8080
  environment:
    - SERVICE_NAME=books-ms
app-blue:
  extends:
    service: base
  environment:
    - SERVICE_NAME=books-ms-blue
  links:
    - db:db
app-green:
  extends:
    file: docker-compose.yml
    service: base
  links:
    - db
  volumes:
    - ./logs:/logs
db:
  image: IMAGE
  command: sleep 1d
  restart: unless-stopped
"#;

#[test]
fn config_hash_and_labels_match_docker_compose() {
    require_tools();
    let tmp = tempfile::tempdir().unwrap();
    let image = TestImage::get(tmp.path());
    let pid = std::process::id();

    let v2_dir = tmp.path().join("books");
    std::fs::create_dir_all(v2_dir.join("data")).unwrap();
    std::fs::write(v2_dir.join(".env"), "FROM_DOTENV=dotenv value\n").unwrap();
    std::fs::write(v2_dir.join("app.env"), "FROM_FILE=1\nSERVICE_NAME=from-file\n").unwrap();
    let v2 = V2.replace("CONTAINER", &format!("bgrun-hash-named-{pid}"));
    check_project(
        &v2_dir,
        &format!("bgrunhash{pid}"),
        &v2,
        &[("PASSED", "from the environment")],
        &image,
    );

    let v1_dir = tmp.path().join("books-v1");
    std::fs::create_dir_all(&v1_dir).unwrap();
    check_project(&v1_dir, &format!("bgrunhashv1_{pid}"), V1, &[], &image);
}
