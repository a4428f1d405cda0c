//! Every error a user can meet on bad input, with its exact words; nothing runs on a host.

use crate::harness::Test;

const LOCAL: &str = "localhost ansible_connection=local\n";

fn bad(playbook: &str) -> String {
    let out = Test::new()
        .file("hosts", LOCAL)
        .args(&["-i", "hosts"])
        .playbook(playbook)
        .expect(5);
    assert!(out.stdout.is_empty(), "nothing runs on bad input: {}", out.stdout);
    out.stderr
}

#[test]
fn yaml_syntax_error_points_at_line_and_column() {
    let err = bad("- hosts: all\n  steps:\n    - debug: msg=[oops\n    - debug: {a: b\n");
    assert!(err.starts_with("error: play.yml:5:1: invalid YAML:"), "{err}");
}

#[test]
fn unknown_key_in_play_has_caret_and_suggestion() {
    let err = bad("- hosts: all\n  stepz:\n    - debug: msg=hi\n");
    assert_eq!(
        err,
        "error: play.yml:2:3: unknown key `stepz` in a play\n  |\n2 |   stepz:\n  |   ^\nhelp: did you mean `steps`?\n"
    );
}

#[test]
fn unknown_module_suggests_the_closest() {
    let err = bad("- hosts: all\n  steps:\n    - name: copy it\n      coppy: src=a dest=b\n");
    assert_eq!(
        err,
        "error: play.yml:4:7: unknown module `coppy`\n  |\n4 |       coppy: src=a dest=b\n  |       ^\nhelp: did you mean `copy`?\n"
    );
}

#[test]
fn unknown_module_argument_is_named() {
    let err = bad("- hosts: all\n  steps:\n    - file:\n        path: /tmp/x\n        stat: directory\n");
    assert_eq!(
        err,
        "error: play.yml:5:9: unknown argument `stat` for module `file`\n  |\n5 |         stat: directory\n  |         ^\nhelp: did you mean `state`?\n"
    );
}

#[test]
fn dependency_cycle_names_every_step() {
    let err = bad(
        "- hosts: all\n  steps:\n    - id: build\n      needs: [test]\n      debug: msg=b\n    - id: test\n      needs: [build]\n      debug: msg=t\n",
    );
    assert_eq!(
        err,
        "error: dependency cycle between steps: `build` -> `test` -> `build`\n  `build` at play.yml:3:7\n  `test` at play.yml:6:7\nhelp: remove one of these `needs` so the steps can run in an order\n"
    );
}

#[test]
fn unknown_step_id_suggests_the_nearest() {
    let err = bad(
        "- hosts: all\n  steps:\n    - id: deploy\n      debug: msg=d\n    - id: check\n      needs: [deploi]\n      debug: msg=c\n",
    );
    assert_eq!(
        err,
        "error: play.yml:6:15: step `check` needs `deploi`, but no step of this play has that id\n  |\n6 |       needs: [deploi]\n  |               ^\nhelp: did you mean `deploy`?\n"
    );
}

#[test]
fn missing_playbook_names_the_path() {
    let out = Test::new().args(&["nothere.yml", "-i", "localhost,"]).expect(5);
    assert!(
        out.stderr
            .starts_with("error: cannot read `nothere.yml`: No such file or directory"),
        "{}",
        out.stderr
    );
}

#[test]
fn unsupported_ansible_keyword_is_named_not_skipped() {
    let err = bad("- hosts: all\n  steps:\n    - command: ls\n      collections: [x]\n");
    assert!(
        err.starts_with(
            "error: play.yml:4:7: `collections` is an Ansible keyword that bgrun does not support in a step"
        ),
        "{err}"
    );
}

#[test]
fn bad_extra_vars_are_explained() {
    let out = Test::new()
        .file("hosts", LOCAL)
        .args(&["-i", "hosts", "-e", "justaword"])
        .playbook("- hosts: all\n  steps: []\n")
        .expect(5);
    assert_eq!(
        out.stderr,
        "error: -e: `justaword` is not `key=value`\nhelp: write `-e key=value`, `-e @file.yml` or `-e '{\"key\": \"value\"}'`\n"
    );
}

#[test]
fn undefined_variable_names_variable_step_and_location() {
    let out = Test::new()
        .file("hosts", LOCAL)
        .args(&["-i", "hosts"])
        .playbook("- hosts: all\n  gather_facts: false\n  steps:\n    - name: greet\n      debug:\n        msg: \"hello {{ nmae }}\"\n")
        .expect(2);
    assert!(
        out.stdout
            .contains("failed: [localhost] => `nmae` is undefined (in step `greet` at play.yml:4:7)"),
        "{}",
        out.stdout
    );
}

#[test]
fn unreachable_host_names_host_address_and_reason() {
    let out = Test::new()
        .file(
            "hosts",
            "ghost ansible_host=127.0.0.99 ansible_port=2 ansible_user=root\n",
        )
        .args(&["-i", "hosts", "-T", "3"])
        .playbook("- hosts: all\n  steps:\n    - command: true\n")
        .expect(4);
    assert!(
        out.stdout
            .contains("unreachable: [ghost] => cannot connect to `ghost` at 127.0.0.99:2:"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Connection refused"), "{}", out.stdout);
    assert!(
        out.stdout.contains("ghost : ok=0    changed=0    unreachable=1"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_inventory_line_points_at_it() {
    let out = Test::new()
        .file("hosts", "[prod\nweb1\n")
        .args(&["-i", "hosts"])
        .playbook("- hosts: all\n  steps: []\n")
        .expect(5);
    assert!(out.stderr.starts_with("error: hosts:1:"), "{}", out.stderr);
}

#[test]
fn no_panic_on_garbage_input() {
    for text in [
        "",
        "[]",
        "- 1",
        "- hosts: [1, {a: b}]",
        "- hosts: all\n  steps: 3",
        "- {hosts: all, steps: [null]}",
        "\t- x",
        "- hosts: all\n  steps:\n    - debug: {msg: *nope}",
    ] {
        let out = Test::new()
            .file("hosts", LOCAL)
            .args(&["-i", "hosts", "--syntax-check"])
            .playbook(text)
            .run();
        assert!(
            out.code == 0 || out.code == 5,
            "{text:?}: code {} {}",
            out.code,
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{text:?}: {}", out.stderr);
    }
}

/// A Jinja error in a template file points at the template's own line and column, with a caret.
#[test]
fn template_file_errors_point_at_the_template_line() {
    let run = |template: &str| {
        let t = Test::new()
            .file("hosts", LOCAL)
            .file("templates/app.conf.j2", template)
            .playbook(
                "- hosts: all\n  gather_facts: false\n  steps:\n    - template: src=app.conf.j2 dest={{ playbook_dir }}/out.conf\n",
            )
            .args(&["-i", "hosts"]);
        t.expect(2).stdout
    };
    let out = run("# app\nport = {{ port }}\nname = {{ missing_name }}\n");
    assert!(
        out.contains("templates/app.conf.j2:2:11: `missing_name`, `port` are undefined\n  |\n2 | port = {{ port }}\n  |           ^"),
        "{out}"
    );
    let out = run("# app\n{% if x %}\nyes\n");
    assert!(
        out.contains("templates/app.conf.j2:3:1: template syntax error"),
        "{out}"
    );
}

/// A templated `vars_files` is read when the play runs: a missing file fails the play's hosts,
/// with the file named, and the run ends with its recap and exit 2, not the bad-input code.
#[test]
fn a_vars_file_missing_at_run_time_fails_the_hosts_with_a_recap() {
    let out = Test::new()
        .file("hosts", LOCAL)
        .playbook(
            "- hosts: all\n  gather_facts: false\n  vars:\n    env: prod\n  vars_files:\n    - \"vars/{{ env }}.yml\"\n  steps:\n    - debug: msg=hi\n",
        )
        .args(&["-i", "hosts"])
        .expect(2);
    assert!(out.stdout.contains("vars/prod.yml"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("localhost : ok=0    changed=0    unreachable=0    failed=1"),
        "{}",
        out.stdout
    );
}
