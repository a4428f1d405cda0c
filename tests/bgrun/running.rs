//! How a run behaves: the step graph's parallel branches, loops, conditions, retries, tags,
//! no_log, JSON output and exit codes.

use crate::harness::Test;

const LOCAL: &str = "localhost ansible_connection=local\n";

fn local() -> Test {
    Test::new().file("hosts", LOCAL).args(&["-i", "hosts"])
}

#[test]
fn independent_branches_run_at_the_same_time() {
    // Branch `waiter` can only finish if branch `maker` runs while it waits; run one after the
    // other, `waiter` would time out.
    let t = Test::lab();
    let flag = t.path().join("flag");
    let play = format!(
        "- hosts: prod\n  gather_facts: false\n  steps:\n    - id: waiter\n      wait_for: path={f} timeout=20\n    - id: maker\n      needs: []\n      shell: sleep 0.5 && touch {f}\n    - id: after\n      needs: [waiter, maker]\n      command: test -e {f}\n",
        f = flag.display()
    );
    let out = t.playbook(&play).expect(0);
    assert!(
        out.stdout
            .contains("prod : ok=3    changed=2    unreachable=0    failed=0"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_step_runs_on_all_hosts_and_dependents_wait_for_all() {
    let t = Test::lab();
    let d = t.path();
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  steps:\n    - command: touch {d}/{{{{ inventory_hostname }}}}\n    - command: test -e {d}/cd -a -e {d}/prod\n",
        d = d.display()
    );
    let out = t.playbook(&play).expect(0);
    assert!(out.stdout.contains("cd   : ok=2    changed=2"), "{}", out.stdout);
    assert!(out.stdout.contains("prod : ok=2    changed=2"), "{}", out.stdout);
}

#[test]
fn loops_when_and_register() {
    let out = local()
        .playbook(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - command: echo {{ item }}\n      loop: [1, 2, 3]\n      when: item != 2\n      register: echoed\n    - assert:\n        that:\n          - echoed.results | length == 3\n          - echoed.results[0].stdout == '1'\n          - echoed.results[1].skipped\n          - echoed.changed\n    - debug: msg={{ item.key }}={{ item.value }}\n      with_dict: {a: 1}\n    - debug: msg={{ item }}\n      with_items: [[x, y], z]\n",
        )
        .arg("-v")
        .expect(0);
    assert!(
        out.stdout.contains("changed: [localhost] => (item=1)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("skipping: [localhost] => (item=2)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("(item={\"key\":\"a\",\"value\":1})"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("(item=y)"), "with_items flattens: {}", out.stdout);
}

#[test]
fn until_retries_then_succeeds() {
    let t = local();
    let counter = t.path().join("count");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  steps:\n    - shell: echo x >> {c}; wc -l < {c}\n      register: r\n      until: r.stdout | int >= 3\n      retries: 5\n      delay: 0\n    - assert:\n        that: r.attempts == 3\n",
        c = counter.display()
    );
    let out = t.playbook(&play).expect(0);
    assert!(out.stdout.contains("retrying: [localhost]"), "{}", out.stdout);
    assert!(
        out.stdout.contains("(5 retries left)") && out.stdout.contains("(4 retries left)"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("(3 retries left)"), "{}", out.stdout);
}

#[test]
fn failed_when_changed_when_and_ignore_errors() {
    let out = local()
        .playbook(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - command: 'false'\n      register: r\n      failed_when: r.rc > 1\n      changed_when: false\n    - command: echo boom\n      register: s\n      failed_when: \"'boom' in s.stdout\"\n      ignore_errors: true\n    - debug: msg='still here'\n",
        )
        .expect(0);
    assert!(out.stdout.contains("...ignoring"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            // The ignored failure changed (a command that ran), and counts so, as in Ansible.
            "localhost : ok=3    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1"
        ),
        "{}",
        out.stdout
    );
}

/// As Ansible: a step skipped in check mode (`command`) evaluates neither `changed_when` nor
/// `failed_when`, which may name result fields it does not have.
#[test]
fn conditions_are_not_evaluated_on_a_skipped_result() {
    let out = local()
        .playbook(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - command: echo hi\n      register: r\n      changed_when: \"'hi' in r.stdout\"\n      failed_when: r.rc != 0\n",
        )
        .arg("--check")
        .expect(0);
    assert!(out.stdout.contains("skipped=1"), "{}", out.stdout);
}

#[test]
fn tags_select_and_skip_steps() {
    let t = local().playbook(
        "- hosts: all\n  gather_facts: false\n  steps:\n    - {debug: msg=one, tags: [deploy]}\n    - {debug: msg=two, tags: [test]}\n    - {debug: msg=three, tags: [always]}\n    - {debug: msg=four, tags: [never, debugonly]}\n",
    );
    let out = t.run();
    assert!(
        out.stdout.contains("one")
            && out.stdout.contains("two")
            && out.stdout.contains("three")
            && !out.stdout.contains("four"),
        "{}",
        out.stdout
    );
    let t = t.args(&["--tags", "deploy,debugonly", "--skip-tags", "test"]);
    let out = t.run();
    assert!(
        out.stdout.contains("one")
            && !out.stdout.contains("two")
            && out.stdout.contains("three")
            && out.stdout.contains("four"),
        "{}",
        out.stdout
    );
}

#[test]
fn no_log_hides_output_but_keeps_the_value() {
    let out = local()
        .playbook(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - command: echo s3cret\n      register: secret\n      no_log: true\n    - command: /bin/false\n      no_log: true\n      ignore_errors: true\n    - assert:\n        that: secret.stdout == 's3' ~ 'cret'\n",
        )
        .args(&["-v", "--output", "json"])
        .expect(0);
    assert!(!out.stdout.contains("s3cret"), "{}", out.stdout);
    assert!(out.stdout.contains("'no_log: true' was specified"), "{}", out.stdout);
}

#[test]
fn environment_reaches_commands() {
    let out = local()
        .playbook(
            "- hosts: all\n  gather_facts: false\n  environment:\n    A: play\n    B: play\n  steps:\n    - shell: echo $A-$B\n      environment:\n        B: step\n      register: r\n    - assert:\n        that: r.stdout == 'play-step'\n",
        )
        .expect(0);
    assert!(out.stdout.contains("ok=2"), "{}", out.stdout);
}

#[test]
fn json_output_is_one_event_per_line() {
    let out = local()
        .playbook("- name: p\n  hosts: all\n  gather_facts: false\n  steps:\n    - debug: msg=hi\n")
        .args(&["--output", "json"])
        .expect(0);
    let events = out.events();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["play_start", "step_start", "host_result", "recap"]);
    assert_eq!(events[2]["status"], "ok");
    assert_eq!(events[2]["result"]["msg"], "hi");
    assert_eq!(out.recap("localhost")["ok"], 1);
}

#[test]
fn a_failed_host_stops_but_others_go_on() {
    let t = Test::lab();
    let play = "- hosts: all\n  gather_facts: false\n  steps:\n    - command: test {{ inventory_hostname }} = cd\n    - command: echo next\n";
    let out = t.playbook(play).expect(2);
    assert!(
        out.stdout
            .contains("cd   : ok=2    changed=2    unreachable=0    failed=0"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("prod : ok=0    changed=0    unreachable=0    failed=1"),
        "{}",
        out.stdout
    );
}

#[test]
fn one_connection_serves_every_step() {
    // Forty commands over one multiplexed master; with --no-persist it exits with the run.
    let runtime = tempfile::tempdir().unwrap();
    let t = Test::lab().env("XDG_RUNTIME_DIR", &runtime.path().display().to_string());
    let steps: String = (0..40).map(|i| format!("    - command: echo {i}\n")).collect();
    let out = t
        .playbook(&format!("- hosts: prod\n  gather_facts: false\n  steps:\n{steps}"))
        .args(&["--output", "json", "--no-persist"])
        .expect(0);
    assert_eq!(out.recap("prod")["changed"], 40);
    let masters = std::process::Command::new("pgrep")
        .args(["-fc", &format!("ssh -M .*ControlPath={}", runtime.path().display())])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&masters.stdout).trim(),
        "0",
        "the master exits with the run"
    );
}

#[test]
fn secret_variables_are_masked_in_output() {
    let t = Test::new()
        .file("hosts", "localhost ansible_connection=local db_password=s3cr3t-value\n")
        .args(&["-i", "hosts", "-v", "-e", "api_token=tok-12345"])
        .playbook("- hosts: all\n  gather_facts: false\n  steps:\n    - command: echo {{ db_password }} {{ api_token }}\n      register: r\n    - assert:\n        that: r.stdout == 's3cr3t-value tok-12345'\n");
    let out = t.expect(0);
    assert!(
        !out.stdout.contains("s3cr3t-value") && !out.stdout.contains("tok-12345"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("******** ********"), "{}", out.stdout);
    let json = t.arg("--output").arg("json").expect(0);
    assert!(!json.stdout.contains("s3cr3t-value"), "{}", json.stdout);
}

#[test]
fn vvv_shows_each_remote_command_with_its_secrets_masked() {
    let t = Test::new()
        .file("hosts", "localhost ansible_connection=local db_password=s3cr3t-value\n")
        .args(&["-i", "hosts", "-vvv"])
        .playbook("- hosts: all\n  gather_facts: false\n  steps:\n    - command: echo 'two words' {{ db_password }}\n      changed_when: false\n");
    let text = t.expect(0);
    assert!(
        text.stdout.contains("<localhost> EXEC echo 'two words' ********"),
        "{}",
        text.stdout
    );
    let json = t.args(&["--output", "json"]).expect(0);
    let execs: Vec<serde_json::Value> = json.events().into_iter().filter(|e| e["event"] == "exec").collect();
    assert_eq!(execs.len(), 1, "{}", json.stdout);
    assert_eq!(execs[0]["host"], "localhost");
    assert_eq!(execs[0]["command"], "echo 'two words' ********");
    let quiet = Test::new()
        .file("hosts", "localhost ansible_connection=local\n")
        .args(&["-i", "hosts", "-vv"])
        .playbook("- hosts: all\n  gather_facts: false\n  steps:\n    - command: echo hi\n")
        .expect(0);
    assert!(!quiet.stdout.contains("EXEC"), "{}", quiet.stdout);
}

/// `-c local`, as ansible-playbook's: hosts whose inventory names no connection run locally, and
/// one whose inventory says `ansible_connection=ssh` keeps it (here: unreachable).
#[test]
fn connection_local_from_the_command_line() {
    let t = Test::new()
        .file(
            "inventory",
            "web1 ansible_host=192.0.2.1\nweb2 ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh\n",
        )
        .args(&["-i", "inventory", "-c", "local", "-T", "2"])
        .playbook("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo here\n      register: r\n    - debug: var=r.stdout\n");
    let out = t.expect(4);
    assert!(
        out.stdout.contains("ok: [web1] => r.stdout = \"here\""),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("unreachable: [web2]"), "{}", out.stdout);
    let bad = Test::new()
        .args(&["-c", "telnet"])
        .playbook("- hosts: all\n  tasks: []\n")
        .run();
    assert_eq!(bad.code, 5, "a usage error: {}", bad.stderr);
    assert!(bad.stderr.contains("possible values: local, ssh"), "{}", bad.stderr);
}
