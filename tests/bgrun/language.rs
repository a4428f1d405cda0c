//! The Ansible playbook language beyond single steps: roles, includes, handlers, blocks,
//! batches, delegation, privilege, ansible.cfg.

use crate::harness::Test;

const LOCAL: &str = "localhost ansible_connection=local\n";

fn local() -> Test {
    Test::new().file("hosts", LOCAL).args(&["-i", "hosts"])
}

/// A role with defaults, vars, a meta dependency, handlers, a template and a file.
fn with_role(t: Test) -> Test {
    t.file("roles/web/defaults/main.yml", "port: 80\ngreeting: hello\n")
        .file("roles/web/vars/main.yml", "conf_name: web.conf\n")
        .file("roles/web/meta/main.yml", "dependencies:\n  - role: base\n    base_dir: '{{ out }}/base'\n")
        .file("roles/base/tasks/main.yml", "- name: base folder\n  file: path={{ base_dir }} state=directory\n")
        .file(
            "roles/web/tasks/main.yml",
            "- name: config\n  template: src=web.conf.j2 dest={{ out }}/{{ conf_name }}\n  notify: restart web\n- name: static file\n  copy: src=index.html dest={{ out }}/index.html\n  notify: [restart web]\n- include_tasks: extra.yml\n  vars:\n    extra_value: from-include\n",
        )
        .file("roles/web/tasks/extra.yml", "- name: extra\n  copy: content={{ extra_value }} dest={{ out }}/extra.txt\n")
        .file("roles/web/handlers/main.yml", "- name: restart web\n  shell: echo restarted >> {{ out }}/restarts\n")
        .file("roles/web/templates/web.conf.j2", "listen {{ port }};\n# {{ greeting }} from {{ role_name }}\n")
        .file("roles/web/files/index.html", "<h1>books</h1>\n")
}

#[test]
fn roles_with_defaults_params_handlers_templates_and_dependencies() {
    let t = with_role(local());
    let out_dir = t.path().join("out");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  vars:\n    out: {}\n  roles:\n    - role: web\n      port: 8080\n",
        out_dir.display()
    );
    let t = t.playbook(&play);
    let first = t.expect(0);
    assert_eq!(
        std::fs::read_to_string(out_dir.join("web.conf")).unwrap(),
        "listen 8080;\n# hello from web\n"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("index.html")).unwrap(),
        "<h1>books</h1>\n"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("extra.txt")).unwrap(),
        "from-include"
    );
    assert!(out_dir.join("base").is_dir());
    // Two steps notified the handler; it ran once, at the end of the play.
    assert_eq!(
        std::fs::read_to_string(out_dir.join("restarts")).unwrap(),
        "restarted\n"
    );
    assert!(first.stdout.contains("STEP [web : config]"), "{}", first.stdout);
    let second = t.expect(0);
    // The `include_tasks` counts as ok, as in Ansible.
    assert!(
        second.stdout.contains("localhost : ok=5    changed=0"),
        "{}",
        second.stdout
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("restarts")).unwrap(),
        "restarted\n"
    );
}

#[test]
fn handlers_listen_flush_and_run_once_per_host() {
    let t = local();
    let f = t.path().join("log");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  steps:\n    - command: 'true'\n      notify: reload things\n    - meta: flush_handlers\n    - shell: echo after-flush >> {f}\n    - command: 'true'\n      notify: reload things\n      changed_when: false\n  handlers:\n    - name: first handler\n      shell: echo first >> {f}\n      listen: reload things\n    - name: second handler\n      shell: echo second >> {f}\n      listen: reload things\n",
        f = f.display()
    );
    let t = t.playbook(&play);
    t.expect(0);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "first\nsecond\nafter-flush\n");
}

#[test]
fn force_handlers_run_after_a_failure() {
    let t = local();
    let f = t.path().join("log");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  steps:\n    - command: 'true'\n      notify: h\n    - command: 'false'\n  handlers:\n    - name: h\n      shell: echo handled >> {}\n",
        f.display()
    );
    let t = t.playbook(&play);
    t.expect(2);
    assert!(!f.exists(), "without --force-handlers a failed host runs no handlers");
    let t = t.arg("--force-handlers");
    t.expect(2);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "handled\n");
}

#[test]
fn block_rescue_always() {
    let out = local()
        .playbook(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - name: guarded\n      block:\n        - name: breaks\n          command: /bin/false\n        - debug: msg=never\n      rescue:\n        - debug: msg=\"rescued {{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }}\"\n      always:\n        - debug: msg=always-ran\n    - debug: msg=after-block\n",
        )
        .expect(0);
    assert!(out.stdout.contains("rescued breaks rc=1"), "{}", out.stdout);
    assert!(
        out.stdout.contains("always-ran") && out.stdout.contains("after-block") && !out.stdout.contains("never"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("failed=0    skipped=0    rescued=1"),
        "{}",
        out.stdout
    );
}

#[test]
fn always_runs_and_the_host_stays_failed_without_rescue() {
    let out = local()
        .playbook("- hosts: all\n  gather_facts: false\n  steps:\n    - block:\n        - command: /bin/false\n      always:\n        - debug: msg=cleanup\n    - debug: msg=not-reached\n")
        .expect(2);
    assert!(
        out.stdout.contains("cleanup") && !out.stdout.contains("not-reached"),
        "{}",
        out.stdout
    );
}

#[test]
fn import_tasks_and_import_playbook_with_vars() {
    let t = local()
        .file("tasks/greet.yml", "- debug: msg=\"{{ greeting }} {{ who }}\"\n")
        .file(
            "other.yml",
            "- hosts: all\n  gather_facts: false\n  steps:\n    - debug: msg=\"imported {{ colour }}\"\n",
        );
    let out = t
        .playbook("- hosts: all\n  gather_facts: false\n  vars:\n    greeting: hi\n  steps:\n    - import_tasks: tasks/greet.yml\n      vars:\n        who: books\n- import_playbook: other.yml\n  vars:\n    colour: blue\n")
        .expect(0);
    assert!(
        out.stdout.contains("hi books") && out.stdout.contains("imported blue"),
        "{}",
        out.stdout
    );
}

/// As in Ansible, an import's `when` guards every step of the plays it imports, and its `tags`
/// are theirs.
#[test]
fn import_playbook_applies_its_when_and_tags() {
    let play = |msg: &str| format!("- hosts: all\n  gather_facts: false\n  steps:\n    - debug: msg={msg}\n");
    let t = local()
        .file("skipped.yml", &play("from-skipped"))
        .file("tagged.yml", &play("from-tagged"))
        .playbook(&format!(
            "- import_playbook: skipped.yml\n  when: false\n- import_playbook: tagged.yml\n  tags: [deploy]\n{}",
            play("untagged")
        ));
    let out = t.expect(0);
    assert!(
        !out.stdout.contains("=> from-skipped")
            && out.stdout.contains("skipping: [localhost]")
            && out.stdout.contains("=> from-tagged")
            && out.stdout.contains("=> untagged"),
        "{}",
        out.stdout
    );
    let out = t.args(&["--tags", "deploy"]).expect(0);
    assert!(
        out.stdout.contains("=> from-tagged") && !out.stdout.contains("=> untagged"),
        "{}",
        out.stdout
    );
}

#[test]
fn include_tasks_chooses_its_file_at_run_time() {
    let out = local()
        .file("debian.yml", "- debug: msg=on-debian\n")
        .file("other.yml", "- debug: msg=on-other\n")
        .playbook("- hosts: all\n  gather_facts: false\n  vars:\n    family: debian\n  steps:\n    - include_tasks: \"{{ family }}.yml\"\n    - include_tasks: missing.yml\n      when: false\n")
        .expect(0);
    assert!(
        out.stdout.contains("on-debian") && !out.stdout.contains("on-other"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_missing_include_fails_the_host_naming_the_file() {
    let out = local()
        .playbook("- hosts: all\n  gather_facts: false\n  steps:\n    - include_tasks: nothere.yml\n")
        .expect(2);
    assert!(out.stdout.contains("nothere.yml"), "{}", out.stdout);
}

#[test]
fn serial_runs_the_play_in_batches() {
    let t = Test::lab();
    let f = t.path().join("order");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  serial: 1\n  steps:\n    - shell: echo {{{{ inventory_hostname }}}}-a >> {f}\n    - shell: echo {{{{ inventory_hostname }}}}-b >> {f}\n",
        f = f.display()
    );
    let t = t.playbook(&play);
    t.expect(0);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "cd-a\ncd-b\nprod-a\nprod-b\n");
}

#[test]
fn run_once_and_delegate_to() {
    let t = Test::lab();
    let f = t.path().join("once");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  steps:\n    - shell: echo $SSH_CONNECTION >> {f}; hostname\n      run_once: true\n      register: r\n    - assert:\n        that: r.rc == 0\n    - command: echo {{{{ inventory_hostname }}}}\n      delegate_to: localhost\n      register: d\n    - assert:\n        that: d.stdout == inventory_hostname\n",
        f = f.display()
    );
    let t = t.playbook(&play);
    let out = t.expect(0);
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text.lines().count(), 1, "run_once runs on one host: {text}");
    assert!(
        out.stdout.contains("cd   : ok=4") && out.stdout.contains("prod : ok=3"),
        "{}",
        out.stdout
    );
}

#[test]
fn any_errors_fatal_stops_every_host() {
    let out = Test::lab()
        .playbook("- hosts: all\n  gather_facts: false\n  any_errors_fatal: true\n  steps:\n    - command: test {{ inventory_hostname }} = cd\n    - debug: msg=not-reached\n")
        .expect(2);
    assert!(!out.stdout.contains("not-reached"), "{}", out.stdout);
    assert!(out.stdout.contains("any_errors_fatal"), "{}", out.stdout);
}

#[test]
fn max_fail_percentage_stops_the_play() {
    let out = Test::lab()
        .playbook("- hosts: all\n  gather_facts: false\n  max_fail_percentage: 40\n  steps:\n    - command: test {{ inventory_hostname }} = cd\n    - debug: msg=next\n")
        .expect(2);
    assert!(
        !out.stdout.contains("msg=next") && !out.stdout.contains("=> next"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("above `max_fail_percentage: 40`"), "{}", out.stdout);
}

#[test]
fn pre_tasks_roles_tasks_post_tasks_in_order() {
    let t = local().file("roles/r/tasks/main.yml", "- shell: echo role >> {{ f }}\n");
    let f = t.path().join("order");
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  vars:\n    f: {f}\n  pre_tasks:\n    - shell: echo pre >> {f}\n  roles: [r]\n  tasks:\n    - shell: echo task >> {f}\n  post_tasks:\n    - shell: echo post >> {f}\n",
        f = f.display()
    );
    let t = t.playbook(&play);
    t.expect(0);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "pre\nrole\ntask\npost\n");
}

#[test]
fn become_runs_as_another_user() {
    let out = Test::lab()
        .playbook(
            "- hosts: prod\n  gather_facts: false\n  steps:\n    - command: id -un\n      become: true\n      become_user: nobody\n      become_method: su\n      register: su_user\n    - command: id -un\n      become: yes\n      register: root_user\n    - assert:\n        that:\n          - su_user.stdout == 'nobody'\n          - root_user.stdout == 'root'\n",
        )
        .expect(0);
    assert!(out.stdout.contains("prod : ok=3"), "{}", out.stdout);
}

#[test]
fn become_with_sudo() {
    let out = Test::lab()
        .playbook("- hosts: prod\n  gather_facts: false\n  become: true\n  become_user: nobody\n  steps:\n    - command: id -un\n      register: who\n    - assert:\n        that: who.stdout == 'nobody'\n")
        .expect(0);
    assert!(out.stdout.contains("prod : ok=2"), "{}", out.stdout);
}

#[test]
fn ansible_cfg_beside_the_playbook() {
    let t = Test::new()
        .file("inv/hosts", LOCAL)
        .file(
            "ansible.cfg",
            "[defaults]\ninventory = inv/hosts\nroles_path = shared_roles\n",
        )
        .file("shared_roles/common/tasks/main.yml", "- debug: msg=from-shared-roles\n")
        .playbook("- hosts: all\n  gather_facts: false\n  roles: [common]\n");
    let out = t.expect(0);
    assert!(out.stdout.contains("from-shared-roles"), "{}", out.stdout);
}

#[test]
fn unknown_role_names_where_it_looked() {
    let out = local().playbook("- hosts: all\n  roles: [nope]\n").expect(5);
    assert!(
        out.stderr
            .starts_with("error: play.yml:2:11: role `nope` not found; looked in"),
        "{}",
        out.stderr
    );
}

#[test]
fn throttle_limits_hosts_at_once() {
    let t = Test::lab();
    let f = t.path().join("overlap");
    // With throttle 1 the two hosts never hold the lock file at the same time.
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  steps:\n    - shell: mkdir {f}.lock && sleep 0.3 && rmdir {f}.lock\n      throttle: 1\n",
        f = f.display()
    );
    let t = t.playbook(&play);
    t.expect(0);
}
