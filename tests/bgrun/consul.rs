//! The Consul client against the lab's real Consul agent on prod (127.0.0.3:8500).

use bgrun::consul::{Consul, Registration};

fn consul() -> Consul {
    crate::harness::require_lab();
    Consul::new("127.0.0.3:8500", None, None).expect("client")
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn kv_round_trip_and_check_and_set() {
    let c = consul();
    let key = format!("bgrun-test/{}/color", std::process::id());
    block_on(async {
        assert_eq!(c.kv_get(&key).await.unwrap(), None);
        assert!(
            c.kv_put(&key, "blue", Some(0)).await.unwrap(),
            "cas 0 writes an absent key"
        );
        let (value, index) = c.kv_get(&key).await.unwrap().expect("written");
        assert_eq!(value, "blue");
        assert!(
            !c.kv_put(&key, "green", Some(0)).await.unwrap(),
            "cas 0 refuses an existing key"
        );
        assert!(
            !c.kv_put(&key, "green", Some(index + 1000)).await.unwrap(),
            "a stale index is a conflict"
        );
        assert!(c.kv_put(&key, "green", Some(index)).await.unwrap());
        assert_eq!(c.kv_get(&key).await.unwrap().map(|(v, _)| v), Some("green".into()));
        assert_eq!(
            c.kv_list(&format!("bgrun-test/{}", std::process::id())).await.unwrap(),
            vec![(key.clone(), "green".to_string())]
        );
        c.kv_delete(&key).await.unwrap();
        assert_eq!(c.kv_get(&key).await.unwrap(), None);
    });
}

#[test]
fn register_shows_in_catalog_and_health_then_deregister() {
    let c = consul();
    let name = format!("bgrun-test-svc-{}", std::process::id());
    let registration = Registration {
        id: format!("prod:{name}:8080"),
        name: name.clone(),
        address: "127.0.0.3".into(),
        port: 32768,
        tags: vec!["blue".into()],
        check: None,
        meta: Default::default(),
    };
    block_on(async {
        c.register(&registration).await.unwrap();
        let instances = c.catalog_service(&name, None).await.unwrap();
        assert_eq!(instances.len(), 1);
        assert_eq!(
            (instances[0].service_address.as_str(), instances[0].service_port),
            ("127.0.0.3", 32768)
        );
        assert_eq!(c.catalog_service(&name, Some("green")).await.unwrap().len(), 0);
        let health = c.health_service(&name, None).await.unwrap();
        assert_eq!(health[0].status(), "passing");
        assert!(c.services().await.unwrap().contains_key(&name));
        c.deregister(&registration.id).await.unwrap();
        assert!(c.catalog_service(&name, None).await.unwrap().is_empty());
    });
}

#[test]
fn an_unreachable_consul_names_its_address() {
    let c = Consul::new("127.0.0.3:1", None, None).unwrap();
    let err = block_on(c.kv_get("x")).unwrap_err();
    assert!(
        err.0
            .starts_with("Consul at http://127.0.0.3:1 does not answer (reading key `x`)"),
        "{}",
        err.0
    );
}

/// A lock key another tool left under Consul's lock delay is free but cannot be taken: a
/// `consul_lock` that may not wait is refused at once, never spinning until the delay ends.
#[test]
fn a_lock_held_back_by_a_lock_delay_is_refused_at_once() {
    crate::harness::require_lab();
    let key = format!("bgrun-test/lock-delay-{}", std::process::id());
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .arg("-s")
            .args(args)
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let created = curl(&[
        "-X",
        "PUT",
        "http://127.0.0.3:8500/v1/session/create",
        "-d",
        r#"{"Name":"another tool","LockDelay":"15s","Behavior":"release"}"#,
    ]);
    let session: serde_json::Value = serde_json::from_str(&created).expect("a session");
    let session = session["ID"].as_str().expect("its ID");
    let url = format!("http://127.0.0.3:8500/v1/kv/{key}");
    assert_eq!(
        curl(&["-X", "PUT", &format!("{url}?acquire={session}"), "-d", "x"]),
        "true"
    );
    curl(&[
        "-X",
        "PUT",
        &format!("http://127.0.0.3:8500/v1/session/destroy/{session}"),
    ]);
    let started = std::time::Instant::now();
    let out = crate::harness::Test::new()
        .file(
            "hosts",
            "prod ansible_connection=local consul_addr=http://127.0.0.3:8500\n",
        )
        .playbook(&format!(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - consul_lock: {{key: {key}}}\n"
        ))
        .args(&["-i", "hosts"])
        .expect(2);
    let took = started.elapsed();
    curl(&["-X", "DELETE", &url]);
    assert!(out.stdout.contains("lock delay"), "{}", out.stdout);
    assert!(took < std::time::Duration::from_secs(3), "refused in {took:?}");
}
