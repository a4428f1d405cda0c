//! Step keywords: `check_mode`, `diff`, `local_action`, `delegate_facts`, `module_defaults`,
//! `vars_prompt`.

use super::{Case, LOCAL};
use crate::harness::Test;

#[test]
fn check_mode_on_a_step_wins_over_the_command_line() {
    let play = r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy: {dest: "{{ out }}/checked.txt", content: "a\n"}
      check_mode: true
      register: c
    - debug: msg="{{ 'yes' if c.changed else 'no' }}"
    - copy: {dest: "{{ out }}/real.txt", content: "b\n"}
      check_mode: false
    - copy: {dest: "{{ out }}/plain.txt", content: "c\n"}
    - block:
        - copy: {dest: "{{ out }}/block.txt", content: "d\n"}
      check_mode: "{{ 1 == 1 }}"
    - copy: {dest: "{{ out }}/diff.txt", content: "e\n"}
      diff: true
"#;
    Case::new(play).same();
    Case::new(play).arg("--check").same();
}

#[test]
fn local_action_runs_the_module_on_the_controller() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - local_action: copy content=one dest={{ out }}/one.txt
    - local_action:
        module: copy
        content: "two\n"
        dest: "{{ out }}/two.txt"
    - local_action: command echo {{ inventory_hostname }}
      register: r
    - debug: var=r.stdout
"#,
    )
    .same();
}

#[test]
fn delegate_facts_give_the_facts_to_the_delegate() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - set_fact: {where: delegate}
      delegate_to: other
      delegate_facts: true
    - set_fact: {mine: own}
      delegate_to: other
    - debug: msg="{{ hostvars['other'].where }} {{ where | default('none') }} {{ mine }} {{ hostvars['other'].mine | default('none') }}"
      when: inventory_hostname == 'localhost'
"#,
    )
    .inventory(&format!("{LOCAL}other ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"))
    .same();
}

#[test]
fn module_defaults_of_the_play_block_and_step() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars: {m: "0600"}
  module_defaults:
    copy: {mode: "0640", content: "play\n"}
    ansible.builtin.command: {chdir: /tmp}
  tasks:
    - copy: {dest: "{{ out }}/play.txt"}
    - command: pwd
      register: r
    - debug: var=r.stdout
    - block:
        - copy: {dest: "{{ out }}/block.txt"}
        - ansible.builtin.copy: {dest: "{{ out }}/own.txt", mode: "0644"}
        - copy: {dest: "{{ out }}/step.txt"}
          module_defaults:
            copy: {mode: "{{ m }}", content: "step\n"}
      module_defaults:
        - copy: {content: "block\n"}
"#,
    )
    .same();
}

const PROMPTS: &str = r#"
- hosts: all
  gather_facts: false
  vars_prompt:
    - name: who
      prompt: Who?
      default: bob
      private: false
    - name: pw
      prompt: Password
  tasks:
    - debug: msg="{{ who }} {{ pw }}"
"#;

#[test]
fn vars_prompt_takes_extra_variables_and_defaults_without_a_terminal() {
    Case::new(PROMPTS).arg("-e").arg("pw=secret").same();
    Case::new(PROMPTS)
        .arg("-e")
        .arg("pw=secret")
        .arg("-e")
        .arg("who=al")
        .same();
}

#[test]
fn vars_prompt_without_an_answer_or_a_terminal_names_the_variable() {
    // Ansible reads an empty answer from a closed input and runs with `pw` set to None; bgrun
    // stops before anything runs.
    let out = Test::new()
        .file("hosts", LOCAL)
        .args(&["-i", "hosts"])
        .playbook(PROMPTS)
        .expect(5);
    assert!(
        out.stderr
            .starts_with("error: play.yml:9:7: `vars_prompt` asks for `pw`, but there is no terminal to ask on"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("-e pw=..."), "{}", out.stderr);
}
