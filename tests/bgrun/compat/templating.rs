//! Values of templated strings as Ansible 2.14 makes them: text, read back as a list, dict or
//! bool when it reads as one; values printed as Python prints them; trailing newlines kept.

use super::Case;

#[test]
fn templated_values_are_text_unless_they_read_as_a_list_dict_or_bool() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    n: 3
    lazy: "{{ 1 + 1 }}"
    flag: true
    s: "True"
    l: [1, "a", null, true, 1.5]
    nothing: null
  tasks:
    - command: "true"
      register: r
    - debug: var=r.rc
    - debug: var=n
    - debug: var=lazy
    - debug: {msg: "{{ n }}"}
    - debug: {msg: "{{ n + 1 }}"}
    - debug: {msg: "x={{ flag }} {{ l }} {{ nothing }} {{ 1.0 }} {{ {'a': 1} }}"}
    - debug: {msg: "{{ s }}"}
    - debug: {msg: "[{{ n }}, 2]"}
    - debug: {msg: " {{ l }}"}
    - debug: {msg: "{{ nothing }}"}
    - debug: var=nothing
    - debug: {msg: "{{ [1, 2] | to_json }}"}
    - debug: {msg: "{{ true | string }}"}
    - debug: {msg: "{{ [true, none, 1.5, 'a'] | join(',') }} {{ l | join }} {{ [{'n': 1}, {'n': false}] | join('-', attribute='n') }} {{ 'abc' | join('.') }}"}
    - set_fact: {m: "{{ n * 2 }}", k: "{{ n }}", d: "{{ {'a': n} }}"}
    - debug: var=m
    - debug: var=k
    - debug: var=d
    - debug: {msg: "{{ lazy == 2 }} {{ lazy == '2' }}"}
    - debug: {msg: "{{ l }}\n"}
    - debug: {msg: "skipped: a templated False is false"}
      when: "{{ s == 'x' }}"
    - debug: {msg: "runs: the text of lazy is '2'"}
      when: lazy == '2'
    - debug: {msg: "{{ l[:2] }}"}
    - command: echo {{ n * 2 }}
      register: e
      changed_when: e.stdout == '6'
    - debug: var=e.stdout
"#,
    )
    .same();
}

#[test]
fn a_templated_content_keeps_its_trailing_newline() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    x: hello
  tasks:
    - copy:
        dest: "{{ out }}/one.txt"
        content: "{{ x }}\n"
    - copy:
        dest: "{{ out }}/two.txt"
        content: "{{ x }} and {{ x }}\n\n"
    - template:
        src: t.j2
        dest: "{{ out }}/t.txt"
    - debug: {msg: "{{ x }}\n"}
"#,
    )
    .file("t.j2", "{{ x }}\n{% if x %}\nyes\n{% endif %}\n\n")
    .same();
}
