//! What a step's result holds after its conditions: `failed_when_result`, the `changed` that
//! `changed_when` decided; `set_fact` with a key that is a template.

use super::Case;

#[test]
fn registered_results_hold_what_failed_when_and_changed_when_decided() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - command: "false"
      register: a
      failed_when: false
      changed_when: a.rc == 1
    - command: "true"
      register: b
      failed_when: b.rc == 0
      ignore_errors: true
    - debug: msg="{{ a.failed_when_result }} {{ a.changed }} {{ b.failed_when_result }} {{ b.changed }} {{ a.changed_when_result | default('none') }}"
    - command: "true"
      register: c
    - debug: msg="{{ c.failed_when_result | default('none') }}"
"#,
    )
    .same();
}

#[test]
fn set_fact_free_form_with_a_templated_key() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars: {k: dyn}
  tasks:
    - set_fact: "{{ k }}=value"
    - debug: var=dyn
    - set_fact: "x_{{ k }}=1 y=two"
    - debug: msg="{{ x_dyn }} {{ y }}"
    - set_fact: "{{ k }}-bad=1"
      ignore_errors: true
"#,
    )
    .same();
}
