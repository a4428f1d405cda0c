//! Ansible's lookups compared with ansible-playbook: `file`, `env`, `first_found`, `dict`,
//! `list`, `vars`, `fileglob`, `template`, `pipe`, `lines`, and `query`/`q` giving lists.

use super::Case;

#[test]
fn lookups_and_queries_give_what_ansible_gives() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    who: world
    settings: {a: 1, b: two}
    ref: "{{ who }}!"
  tasks:
    - debug: {msg: "{{ lookup('file', 'greeting.txt') }}|{{ lookup('file', 'files/greeting.txt', rstrip=false) }}"}
    - debug: {msg: "{{ lookup('env', 'HOME') }} {{ lookup('env', 'NOPE_X', default='d') }}"}
    - debug: {msg: "{{ lookup('first_found', 'missing.txt', 'greeting.txt') | basename }}"}
    - debug: {msg: "{{ lookup('first_found', ['nope', 'b.conf']) | basename }}"}
    - debug: {msg: "{{ lookup('first_found', {'files': ['x.txt', 'a.txt'], 'paths': [playbook_dir ~ '/files']}) | basename }}"}
    - debug: {msg: "{{ query('first_found', 'nope', skip=true) }}"}
    - debug: {msg: "{{ query('dict', settings) }}"}
    - debug: {msg: "{{ lookup('dict', settings) }}"}
    - debug: {msg: "{{ query('list', 'a', 'b') }} {{ lookup('list', 'a', 'b') }}"}
    - debug: {msg: "{{ lookup('vars', 'ref') }} {{ lookup('vars', 'nope', default='dflt') }} {{ query('vars', 'who', 'settings') }}"}
    - debug: {msg: "{{ query('fileglob', '*.conf') | map('basename') | list }} {{ lookup('fileglob', '*.txt') | length > 0 }}"}
    - debug: {msg: "{{ lookup('template', 't.j2') }}"}
    - debug: {msg: "{{ lookup('template', 'list.j2') }}"}
    - debug: {msg: "{{ lookup('pipe', 'echo hi; echo there') }}|{{ query('lines', 'printf \"a\\nb\\n\"') }}|{{ lookup('lines', 'printf \"a\\nb\\n\"') }}"}
    - debug: {msg: "{{ lookup('pipe', 'test -f files/a.txt && echo in the playbook folder') }}"}
    - debug: {msg: "{{ query('env', 'HOME') }} {{ q('list', 1, 2) }}"}
    - debug: {msg: "{{ lookup('first_found', 'nope', errors='ignore') }}"}
"#,
    )
    .file("files/greeting.txt", "hello  \n\n")
    .file("files/b.conf", "b\n")
    .file("files/a.txt", "x\n")
    .file("templates/t.j2", "Hi {{ who }}\n{% for i in [1, 2] %}\n- {{ i }}\n{% endfor %}\n")
    .file("templates/list.j2", "[1, 2]\n")
    .same();
}
