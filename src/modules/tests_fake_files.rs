//! Unit tests over the fake transport of the modules that read and edit files in Ansible's ways
//! (`include_vars`, `slurp`, `tempfile`, `find`, `replace`, `blockinfile`, `script`): check mode
//! changes nothing, a run does what it reported, and a second run reports no change.

use serde_json::json;

use super::fake_host::Harness;

// ---- include_vars ----

#[tokio::test]
async fn include_vars_sets_facts_from_the_controller_and_never_touches_the_host() {
    let mut h = Harness::new();
    std::fs::create_dir_all(h.dir.path().join("vars")).unwrap();
    std::fs::write(h.dir.path().join("vars/app.yml"), "port: 8080\nname: books\n").unwrap();
    let checked = h
        .run_checked("include_vars", json!({"file": "app.yml", "name": "app"}))
        .await;
    let outcome = h
        .run("include_vars", json!({"file": "app.yml", "name": "app"}))
        .await
        .unwrap();
    for outcome in [checked, outcome] {
        assert!(!outcome.changed);
        assert_eq!(outcome.facts["app"], json!({"port": 8080, "name": "books"}));
    }
    assert!(h.fake.calls().is_empty());
}
