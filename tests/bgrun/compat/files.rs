//! The tests on the controller's files, compared with ansible-playbook.

use super::Case;

#[test]
fn file_tests_read_the_controllers_filesystem() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - file: {src: "{{ playbook_dir }}/data/a.txt", dest: "{{ playbook_dir }}/data/link", state: link}
    - file: {src: "{{ playbook_dir }}/data/missing", dest: "{{ playbook_dir }}/data/broken", state: link, force: true}
    - debug:
        msg:
          - "{{ 'data/a.txt' is file }} {{ 'data' is file }} {{ 'data/nope' is file }}"
          - "{{ 'data' is directory }} {{ 'data/a.txt' is directory }} {{ 'data/link' is directory }}"
          - "{{ 'data/link' is link }} {{ 'data/a.txt' is link }} {{ 'data/broken' is link }}"
          - "{{ 'data/link' is exists }} {{ 'data/broken' is exists }} {{ 'data/broken' is link_exists }}"
          - "{{ '/etc' is abs }} {{ 'etc' is abs }} {{ 'data/a.txt' is not abs }}"
          - "{{ 'data/link' is same_file('data/a.txt') }} {{ 'data/a.txt' is same_file(playbook_dir ~ '/data/a.txt') }} {{ 'data' is same_file('data/a.txt') }}"
          - "{{ '/' is mount }} {{ '/proc' is mount }} {{ 'data' is mount }} {{ 'data/nope' is mount }}"
"#,
    )
    .file("data/a.txt", "a\n")
    .same();
}
