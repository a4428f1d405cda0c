//! Containers on the lab's Docker engine, reached through the host's socket forwarded over SSH.

use std::process::Command;

use crate::harness::Test;

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

#[test]
fn container_is_created_kept_recreated_stopped_and_removed() {
    let name = format!("bgrun-test-{}", std::process::id());
    let _cleanup = Cleanup(name.clone());
    let play = |image: &str, state: &str| {
        format!(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - docker_container:\n        name: {name}\n        image: 127.0.0.2:5000/books-ms:{image}\n        state: {state}\n        ports: ['127.0.0.3::8080']\n        env:\n          SERVICE_NAME: books-ms\n"
        )
    };
    let first = Test::lab().playbook(&play("1", "started")).expect(0);
    assert!(first.stdout.contains("prod : ok=1    changed=1"), "{}", first.stdout);
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}} {{.Config.Image}}", &name]),
        "true 127.0.0.2:5000/books-ms:1"
    );
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]);
    let port = docker(&["port", &name, "8080"]);
    assert!(port.starts_with("127.0.0.3:"), "{port}");
    let again = Test::lab().playbook(&play("1", "started")).expect(0);
    assert!(again.stdout.contains("prod : ok=1    changed=0"), "{}", again.stdout);
    assert_eq!(
        docker(&["inspect", "-f", "{{.Id}}", &name]),
        id,
        "nothing changed, nothing recreated"
    );
    Test::lab().playbook(&play("2", "started")).expect(0);
    assert_ne!(
        docker(&["inspect", "-f", "{{.Id}}", &name]),
        id,
        "a new image recreates"
    );
    Test::lab().playbook(&play("2", "stopped")).expect(0);
    assert_eq!(docker(&["inspect", "-f", "{{.State.Running}}", &name]), "false");
    Test::lab().playbook(&play("2", "absent")).expect(0);
    assert_eq!(docker(&["ps", "-aq", "-f", &format!("name=^{name}$")]), "");
}

#[test]
fn a_missing_image_names_host_image_and_container() {
    let name = format!("bgrun-missing-{}", std::process::id());
    let _cleanup = Cleanup(name.clone());
    let out = Test::lab()
        .playbook(&format!("- hosts: prod\n  gather_facts: false\n  steps:\n    - container: name={name} image=127.0.0.2:5000/no-such-image:9\n"))
        .expect(2);
    assert!(
        out.stdout
            .contains("failed: [prod] => cannot pull `127.0.0.2:5000/no-such-image:9`"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!("(container `{name}`)")), "{}", out.stdout);
}

#[test]
fn signal_reaches_the_container() {
    let name = format!("bgrun-signal-{}", std::process::id());
    let _cleanup = Cleanup(name.clone());
    Test::lab()
        .playbook(&format!(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - container: name={name} image=127.0.0.2:5000/books-ms:1\n    - signal: container={name} signal=KILL\n"
        ))
        .expect(0);
    assert_eq!(docker(&["inspect", "-f", "{{.State.Running}}", &name]), "false");
}

/// `container_exec` runs a program in the lab's nginx container, as community.docker's
/// `docker_container_exec` does: words without a shell, the environment, the folder and standard
/// input given, `rc` reported rather than failed; a container that is not there is named.
#[test]
fn container_exec_runs_a_program_in_a_container() {
    let play = r#"- hosts: prod
  gather_facts: false
  steps:
    - container_exec:
        container: nginx
        command: nginx -v
      register: version
    - container_exec:
        container: nginx
        argv: [sh, -c, "echo $GREETING from $(pwd); echo oops >&2; exit 3"]
        env: {GREETING: hello}
        chdir: /etc
      register: three
    - docker_container_exec:
        container: nginx
        argv: [cat]
        stdin: "piped in"
      register: piped
    - assert:
        that:
          - version.rc == 0 and version.stderr is search('nginx version')
          - three.rc == 3 and three.stdout == 'hello from /etc' and three.stderr_lines == ['oops']
          - three is changed and three is not failed
          - piped.stdout == 'piped in'
"#;
    let out = Test::lab().playbook(play).expect(0);
    assert!(out.stdout.contains("ok=4    changed=3"), "{}", out.stdout);
    let checked = Test::lab()
        .args(&["--check"])
        .playbook(play.split("    - docker_container_exec").next().unwrap())
        .expect(0);
    assert!(
        checked.stdout.contains("changed=0") && checked.stdout.contains("skipped=2"),
        "{}",
        checked.stdout
    );
    let missing = Test::lab()
        .playbook("- hosts: prod\n  gather_facts: false\n  steps:\n    - container_exec: container=no-such-container command=true\n")
        .expect(2);
    assert!(
        missing
            .stdout
            .contains("cannot run a command in container `no-such-container`"),
        "{}",
        missing.stdout
    );
}

#[test]
fn image_is_pulled_tagged_and_pushed_to_the_registry() {
    let repo = format!("127.0.0.2:5000/bgrun-test-push-{}", std::process::id());
    let _cleanup = scopeguard(&repo);
    let out = Test::lab()
        .playbook(&format!(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - image:\n        name: 127.0.0.2:5000/books-ms:2\n    - docker_image:\n        name: 127.0.0.2:5000/books-ms:2\n        repository: {repo}:7\n        push: true\n"
        ))
        .expect(0);
    assert!(out.stdout.contains("prod : ok=2    changed=1"), "{}", out.stdout);
    let tags = Command::new("curl")
        .args([
            "-s",
            &format!(
                "http://127.0.0.2:5000/v2/{}/tags/list",
                repo.trim_start_matches("127.0.0.2:5000/")
            ),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&tags.stdout).contains("\"7\""),
        "{}",
        String::from_utf8_lossy(&tags.stdout)
    );
}

/// Removes a local image tag when the test ends.
fn scopeguard(repo: &str) -> impl Drop {
    struct Untag(String);
    impl Drop for Untag {
        fn drop(&mut self) {
            let _ = Command::new("docker").args(["rmi", &format!("{}:7", self.0)]).output();
        }
    }
    Untag(repo.to_string())
}

fn catalog(service: &str) -> Vec<serde_json::Value> {
    let out = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.3:8500/v1/catalog/service/{service}")])
        .output()
        .expect("curl");
    serde_json::from_slice(&out.stdout).expect("Consul answers JSON")
}

#[test]
fn running_containers_are_registered_in_consul_and_stopped_ones_deregistered() {
    let _consul = crate::harness::consul_lock();
    let name = format!("bgrun-registered-{}", std::process::id());
    let service = format!("books-ms-test-{}", std::process::id());
    let _cleanup = Cleanup(name.clone());
    let play = |state: &str| {
        format!(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - container:\n        name: {name}\n        image: 127.0.0.2:5000/books-ms:1\n        state: {state}\n        ports: ['127.0.0.3::8080']\n        env:\n          SERVICE_NAME: {service}\n          SERVICE_TAGS: blue\n          SERVICE_CHECK_HTTP: /health\n"
        )
    };
    Test::lab().playbook(&play("started")).expect(0);
    let port = docker(&["port", &name, "8080"]);
    let registered = catalog(&service);
    assert_eq!(registered.len(), 1, "{registered:?}");
    assert_eq!(registered[0]["ServiceID"], format!("prod:{name}:8080"));
    assert_eq!(registered[0]["ServiceAddress"], "127.0.0.3");
    assert_eq!(
        registered[0]["ServicePort"].to_string(),
        port.rsplit(':').next().unwrap()
    );
    assert_eq!(registered[0]["ServiceTags"], serde_json::json!(["blue"]));
    Test::lab().playbook(&play("stopped")).expect(0);
    assert!(catalog(&service).is_empty());
}

#[test]
fn registrator_registers_running_containers_and_removes_ghosts() {
    let _consul = crate::harness::consul_lock();
    crate::harness::require_lab();
    let name = format!("bgrun-registrator-{}", std::process::id());
    let service = format!("registrator-test-{}", std::process::id());
    let _cleanup = Cleanup(name.clone());
    let started = Command::new("docker")
        .args([
            "run",
            "-d",
            "--name",
            &name,
            "-p",
            "127.0.0.3::8080",
            "-e",
            &format!("SERVICE_NAME={service}"),
            "127.0.0.2:5000/books-ms:1",
        ])
        .output()
        .unwrap();
    assert!(started.status.success());
    // A ghost: a service of this host whose container does not exist.
    let ghost = serde_json::json!({"ID": format!("prod:gone-{}:8080", std::process::id()), "Name": service, "Address": "127.0.0.3", "Port": 1});
    Command::new("curl")
        .args([
            "-s",
            "-X",
            "PUT",
            "-d",
            &ghost.to_string(),
            "http://127.0.0.3:8500/v1/agent/service/register",
        ])
        .output()
        .unwrap();
    let t = Test::new().file("hosts", &crate::harness::lab_inventory());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bgrun"))
        .args(["registrator", "-i", "hosts", "--limit", "prod", "--once"])
        .current_dir(t.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains(&format!("prod: registered prod:{name}:8080")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "prod: removed the ghost prod:gone-{}:8080",
            std::process::id()
        )),
        "{stdout}"
    );
    let ids: Vec<String> = catalog(&service)
        .iter()
        .map(|s| s["ServiceID"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids, vec![format!("prod:{name}:8080")]);
    Command::new("docker").args(["rm", "-f", &name]).output().unwrap();
    let t2 = std::process::Command::new(env!("CARGO_BIN_EXE_bgrun"))
        .args(["registrator", "-i", "hosts", "--limit", "prod", "--once"])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(t2.status.success());
    assert!(catalog(&service).is_empty(), "the removed container's service is gone");
}

#[test]
fn an_unreachable_engine_is_named() {
    let out = Test::lab()
        .playbook("- hosts: prod\n  gather_facts: false\n  vars:\n    docker_host: unix:///var/run/no-such-docker.sock\n  steps:\n    - container: name=x image=y\n")
        .expect(2);
    assert!(
        out.stdout.contains("unix:///var/run/no-such-docker.sock"),
        "{}",
        out.stdout
    );
}

#[test]
fn hup_reloads_nginx_and_it_keeps_serving() {
    let pid_before = docker(&["inspect", "-f", "{{.State.Pid}}", "nginx"]);
    Test::lab()
        .playbook("- hosts: prod\n  gather_facts: false\n  steps:\n    - signal: container=nginx signal=HUP\n")
        .expect(0);
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}} {{.State.Pid}}", "nginx"]),
        format!("true {pid_before}"),
        "reloaded, not restarted"
    );
    let answer = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.3/"])
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&answer.stdout).to_string();
    assert!(code != "000", "nginx answers after the reload: {code}");
}
