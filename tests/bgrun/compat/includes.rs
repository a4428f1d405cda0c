//! Looped includes: `include_tasks` and `include_role` with `loop`, `with_*` and `loop_control`
//! run their steps once per item, as ansible-playbook does.

use super::Case;

#[test]
fn include_tasks_runs_its_file_once_per_item_with_loop_and_with_items() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    words: [b, c]
  tasks:
    - include_tasks: each.yml
      loop: [1, 2, 3]
    - include_tasks: each.yml
      with_items:
        - a
        - [b, c]
    - include_tasks: each.yml
      with_items: "{{ words }}"
    - include_tasks:
        file: each.yml
      loop: []
    - debug: msg=after
"#,
    )
    .file(
        "each.yml",
        "- debug: msg=\"first {{ item }}\"\n- debug: var=item\n- set_fact:\n    seen: \"{{ (seen | default([])) + [item] }}\"\n- debug: var=seen\n",
    )
    .same();
}

#[test]
fn loop_control_names_the_variable_the_index_and_the_label() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: named.yml
      loop: [{name: ann, n: 1}, {name: bob, n: 2}]
      loop_control:
        loop_var: user
        index_var: idx
        label: "{{ user.name }}"
    - include_tasks: extended.yml
      loop: [x, y, z]
      loop_control:
        extended: true
"#,
    )
    .file(
        "named.yml",
        "- debug: msg=\"{{ idx }} {{ user.name }} {{ user.n }} {{ ansible_loop_var is defined }} {{ item is defined }}\"\n",
    )
    .file(
        "extended.yml",
        "- debug: msg=\"{{ ansible_loop.index }}/{{ ansible_loop.length }} {{ ansible_loop.first }} {{ ansible_loop.last }} {{ item }}\"\n",
    )
    .same();
}

#[test]
fn when_on_a_looped_include_is_asked_per_item() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    limit: 2
  tasks:
    - include_tasks: each.yml
      loop: [1, 2, 3, 4]
      when: item != limit
    - include_tasks: each.yml
      loop: [1, 2]
      when: item > 5
    - include_tasks: "{{ item }}.yml"
      loop: [each, other]
"#,
    )
    .file("each.yml", "- debug: msg=\"each {{ item }}\"\n  when: item != 3\n")
    .file("other.yml", "- debug: msg=\"other {{ item }}\"\n")
    .same();
}

#[test]
fn include_role_with_a_loop_runs_the_roles_steps_once_per_item() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - include_role:
        name: greet
      loop: [ann, bob]
    - include_role:
        name: greet
        tasks_from: other
      loop: [cid]
      loop_control:
        loop_var: who
"#,
    )
    .file("roles/greet/defaults/main.yml", "greeting: hello\n")
    .file(
        "roles/greet/tasks/main.yml",
        "- debug: msg=\"{{ greeting }} {{ item }}\"\n- debug: var=item\n",
    )
    .file("roles/greet/tasks/other.yml", "- debug: msg=\"other {{ who }}\"\n")
    .same();
}

#[test]
fn an_include_inside_a_looped_include_sees_the_outer_item() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: outer.yml
      loop: [1, 2]
      loop_control:
        loop_var: outer
"#,
    )
    .file(
        "outer.yml",
        "- debug: msg=\"outer {{ outer }}\"\n- include_tasks: inner.yml\n  loop: [a, b]\n  when: outer == 2 or item == 'a'\n- include_tasks: plain.yml\n",
    )
    .file("inner.yml", "- debug: msg=\"inner {{ outer }} {{ item }}\"\n")
    .file("plain.yml", "- debug: msg=\"plain {{ outer }}\"\n")
    .same();
}

#[test]
fn a_looped_include_of_a_missing_file_fails_the_host() {
    let (ansible, bgrun) = Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: "{{ item }}.yml"
      loop: [here, nothere]
    - debug: msg=never
"#,
    )
    .file("here.yml", "- debug: msg=\"here {{ item }}\"\n")
    .both();
    // Ansible's json callback puts the failure in place of the include's items, so only the
    // outcome is compared: every file is read before any runs, and the host fails on the missing one.
    assert_eq!(
        (bgrun.code, &bgrun.recap),
        (ansible.code, &ansible.recap),
        "{}",
        bgrun.stdout
    );
    assert!(bgrun.stdout.contains("nothere.yml"), "{}", bgrun.stdout);
    assert!(!bgrun.stdout.contains("here here"), "{}", bgrun.stdout);
}
