//! The common subset, compared on the lab's SSH hosts and on the local connection: registered
//! command results, `when`, ignored failures, vars files and extra variables.

use super::Case;

#[test]
fn registered_results_conditions_and_ignored_failures_on_the_lab_hosts() {
    Case::lab(
        r#"
- hosts: all
  gather_facts: false
  vars_files: [vars.yml]
  tasks:
    - command: echo {{ greeting }} {{ inventory_hostname }}
      register: r
    - debug: var=r.stdout
    - command: "false"
      register: f
      ignore_errors: true
    - debug: var=f.stdout
    - debug: msg="only on cd"
      when: inventory_hostname == 'cd'
    - copy:
        dest: "{{ out }}/{{ inventory_hostname }}.txt"
        content: "{{ greeting }}"
        mode: "0640"
      delegate_to: localhost
"#,
    )
    .file("vars.yml", "greeting: hello\n")
    .same();
}

#[test]
fn extra_variables_and_environment_on_the_local_connection() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - debug: var=who
    - command: printenv GREETING
      register: r
      environment:
        GREETING: "{{ who }}"
    - debug: var=r.stdout_lines
"#,
    )
    .inventory("[local]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
    .arg("-e")
    .arg("who=world")
    .env("LC_ALL", "C.UTF-8")
    .same();
}

#[test]
fn free_form_values_decode_their_escape_sequences() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy: content="line one\nline two\t(tab)\n" dest={{ out }}/escaped.txt mode=0644
    - debug: msg="quote \" and backslash \\ and \x41"
"#,
    )
    .same();
}
