//! The `compose` module on the lab's Docker engine, beside docker-compose 1.29 itself: what one
//! starts the other sees as its own.

use std::path::Path;
use std::process::Command;

use crate::harness::Test;

struct Project {
    name: String,
    dir: String,
}

impl Project {
    fn new(tag: &str) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lab-compose")
            .display()
            .to_string();
        Project {
            name: format!("bgruncompose{tag}{}", std::process::id()),
            dir,
        }
    }

    fn suffix(&self) -> String {
        format!("-{}", self.name)
    }

    /// docker-compose itself, on the same files and project.
    fn docker_compose(&self, args: &[&str]) -> String {
        let out = Command::new("docker-compose")
            .args(["-p", &self.name])
            .args(args)
            .current_dir(&self.dir)
            .env("VERSION", "2")
            .env("SUFFIX", self.suffix())
            .output()
            .expect("docker-compose 1.29 is installed (apt-get install docker-compose)");
        assert!(
            out.status.success(),
            "docker-compose {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn play(&self, action: &str, services: &str) -> String {
        format!(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - compose:\n        project: {}\n        files: [{}/docker-compose.yml]\n        action: {action}\n        services: [{services}]\n      environment:\n        VERSION: '2'\n        SUFFIX: '{}'\n      register: c\n    - debug: var=c.changes\n",
            self.name,
            self.dir,
            self.suffix()
        )
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .args(["-p", &self.name, "down"])
            .current_dir(&self.dir)
            .env("VERSION", "2")
            .env("SUFFIX", "")
            .output();
    }
}

fn inspect(container: &str, format: &str) -> String {
    let out = Command::new("docker")
        .args(["inspect", "-f", format, container])
        .output()
        .expect("docker");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn catalog(service: &str) -> Vec<serde_json::Value> {
    let out = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.3:8500/v1/catalog/service/{service}")])
        .output()
        .expect("curl");
    serde_json::from_slice(&out.stdout).expect("Consul answers JSON")
}

#[test]
fn up_stop_start_rm_and_docker_compose_sees_the_containers() {
    let _consul = crate::harness::consul_lock();
    let p = Project::new("a");
    let blue = format!("{}_app-blue_1", p.name);
    let db = format!("{}_db_1", p.name);
    let first = Test::lab().playbook(&p.play("up", "app-blue")).expect(0);
    assert!(first.stdout.contains("prod : ok=2    changed=1"), "{}", first.stdout);
    assert_eq!(inspect(&blue, "{{.State.Running}}"), "true");
    assert_eq!(
        inspect(&db, "{{.State.Running}}"),
        "true",
        "the linked service starts first"
    );
    assert_eq!(
        inspect(&blue, "{{index .Config.Labels \"com.docker.compose.service\"}}"),
        "app-blue"
    );
    let ps = p.docker_compose(&["ps"]);
    assert!(
        ps.contains(&blue) && ps.contains(&db),
        "docker-compose lists bgrun's containers:\n{ps}"
    );
    let registered = catalog(&format!("books-ms-blue{}", p.suffix()));
    assert_eq!(registered.len(), 1, "{registered:?}");
    assert_eq!(registered[0]["ServiceAddress"], "127.0.0.3");

    let again = Test::lab().playbook(&p.play("up", "app-blue")).expect(0);
    assert!(
        again.stdout.contains("prod : ok=2    changed=0"),
        "nothing changed, nothing recreated: {}",
        again.stdout
    );

    Test::lab().playbook(&p.play("stop", "app-blue")).expect(0);
    assert_eq!(
        inspect(&blue, "{{.State.Running}}"),
        "false",
        "stop keeps the container"
    );
    assert!(
        catalog(&format!("books-ms-blue{}", p.suffix())).is_empty(),
        "stop deregisters"
    );
    Test::lab().playbook(&p.play("start", "app-blue")).expect(0);
    assert_eq!(inspect(&blue, "{{.State.Running}}"), "true");
    assert_eq!(catalog(&format!("books-ms-blue{}", p.suffix())).len(), 1);
    Test::lab().playbook(&p.play("stop", "app-blue")).expect(0);
    Test::lab().playbook(&p.play("rm", "app-blue")).expect(0);
    assert_eq!(inspect(&blue, "{{.Id}}"), "");
}

#[test]
fn bgrun_keeps_what_docker_compose_started() {
    let p = Project::new("b");
    p.docker_compose(&["up", "-d", "app-green"]);
    let green = format!("{}_app-green_1", p.name);
    let id = inspect(&green, "{{.Id}}");
    let out = Test::lab().playbook(&p.play("up", "app-green")).expect(0);
    assert!(
        out.stdout.contains("prod : ok=2    changed=0"),
        "same config hash as docker-compose's: {}",
        out.stdout
    );
    assert_eq!(inspect(&green, "{{.Id}}"), id);
    let ps = Test::lab().playbook(&p.play("ps", "")).arg("-v").expect(0);
    assert!(ps.stdout.contains(&green), "{}", ps.stdout);
}

#[test]
fn a_new_image_recreates_and_check_mode_changes_nothing() {
    let p = Project::new("c");
    Test::lab().playbook(&p.play("up", "app-blue")).expect(0);
    let blue = format!("{}_app-blue_1", p.name);
    let id = inspect(&blue, "{{.Id}}");
    let newer = p.play("up", "app-blue").replace("VERSION: '2'", "VERSION: '1'");
    let check = Test::lab().playbook(&newer).arg("--check").expect(0);
    assert!(check.stdout.contains("changed=1"), "{}", check.stdout);
    assert_eq!(inspect(&blue, "{{.Id}}"), id, "--check changes nothing");
    Test::lab().playbook(&newer).expect(0);
    assert_ne!(inspect(&blue, "{{.Id}}"), id);
    assert_eq!(inspect(&blue, "{{.Config.Image}}"), "127.0.0.2:5000/books-ms:1");
}

#[test]
fn errors_name_the_service_and_image() {
    let p = Project::new("d");
    let missing = p.play("up", "app-blue").replace("VERSION: '2'", "VERSION: 'nope'");
    let out = Test::lab().playbook(&missing).expect(2);
    assert!(
        out.stdout
            .contains("service `app-blue`: cannot pull `127.0.0.2:5000/books-ms:nope`"),
        "{}",
        out.stdout
    );
    let unknown = Test::lab().playbook(&p.play("up", "app-blu")).expect(2);
    assert!(
        unknown.stdout.contains("no such service: `app-blu`") && unknown.stdout.contains("did you mean `app-blue`?"),
        "{}",
        unknown.stdout
    );
}

#[test]
fn a_taken_port_fails_and_removes_what_up_half_created() {
    let p = Project::new("e");
    let blocker = format!("{}-blocker", p.name);
    let port = std::net::TcpListener::bind("127.0.0.3:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = Command::new("docker")
        .args([
            "run",
            "-d",
            "--name",
            &blocker,
            "-p",
            &format!("127.0.0.3:{port}:8080"),
            "127.0.0.2:5000/books-ms:1",
        ])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    std::fs::write(
        &file,
        format!("web:\n  image: 127.0.0.2:5000/books-ms:2\n  ports:\n    - 127.0.0.3:{port}:8080\n"),
    )
    .unwrap();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - compose:\n        project: {}\n        files: [{}]\n",
        p.name,
        file.display()
    );
    let out = Test::lab().playbook(&play).expect(2);
    let _ = Command::new("docker").args(["rm", "-f", &blocker]).output();
    assert!(
        out.stdout.contains("(containers this step created were removed)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("{}_web_1", p.name)),
        "the container is named: {}",
        out.stdout
    );
    assert_eq!(
        inspect(&format!("{}_web_1", p.name), "{{.Id}}"),
        "",
        "nothing half-made is left"
    );
}

#[test]
fn an_invalid_compose_file_points_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    std::fs::write(&file, "web:\n  image: x\n  portz:\n    - 80\n").unwrap();
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - compose:\n        files: [{}]\n",
        file.display()
    );
    let out = Test::lab().playbook(&play).expect(2);
    assert!(
        out.stdout.contains(&format!("{}:3:3", file.display())),
        "{}",
        out.stdout
    );
}
