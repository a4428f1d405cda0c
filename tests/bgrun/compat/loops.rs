//! Loops: the `with_<lookup>` forms and `loop_control`.

use super::Case;

#[test]
fn with_together_nested_and_subelements_make_ansibles_items() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    letters: [a, b, c]
    users:
      - {name: ann, ssh_keys: [k1, k2]}
      - {name: bob, ssh_keys: []}
      - {name: cid}
  tasks:
    - debug: msg="{{ item.0 }}-{{ item.1 is none }}"
      with_together:
        - "{{ letters }}"
        - [1, 2]
    - debug: var=item
      with_nested:
        - [x, y]
        - "{{ letters }}"
        - [[1, 2]]
    - debug: msg="{{ item.0.name }} {{ item.1 }} {{ item.0.ssh_keys is defined }}"
      with_subelements:
        - "{{ users }}"
        - ssh_keys
        - skip_missing: true
    - debug: msg="{{ item.1 }}"
      with_subelements: ["{{ users }}", ssh_keys]
      ignore_errors: true
"#,
    )
    .same();
}

#[test]
fn with_sequence_makes_strings() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars: {last: 9}
  tasks:
    - debug: var=item
      with_sequence: start=1 end={{ last }} stride=4
    - debug: var=item
      with_sequence: "4:host%02d"
    - debug: var=item
      with_sequence: start=0x0f00 count=2 format=%04x
    - debug: var=item
      with_sequence: start=3 end=1
      ignore_errors: true
"#,
    )
    .same();
}

#[test]
fn with_fileglob_finds_files_beside_the_playbook() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        src: "{{ item }}"
        dest: "{{ out }}/"
      with_fileglob: ["*.conf", "data/*.txt"]
      loop_control: {label: "{{ item | basename }}"}
"#,
    )
    .file("files/a.conf", "a\n")
    .file("b.conf", "not found: files/ has a match\n")
    .file("data/one.txt", "1\n")
    .file("data/sub/two.txt", "not a match\n")
    .same();
}

#[test]
fn loop_control_label_index_var_extended_and_pause() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg="{{ i }} {{ ansible_index_var }} {{ fruit.name }}"
      loop: [{name: apple, size: 3}, {name: pear, size: 1}]
      loop_control:
        loop_var: fruit
        label: "{{ fruit.name }}"
        index_var: i
        pause: 0.2
      register: r
    - debug: msg="{{ r.results | map(attribute='i') | list }} {{ r.results[1].ansible_index_var }} {{ r.results[0].fruit.size }}"
    - debug: msg="{{ ansible_loop.index }}/{{ ansible_loop.length }} {{ ansible_loop.first }} {{ ansible_loop.last }} {{ ansible_loop.revindex0 }} {{ ansible_loop.previtem | default('-') }} {{ ansible_loop.nextitem | default('-') }} {{ ansible_loop.allitems | length }}"
      loop: [a, b, c]
      loop_control: {extended: true}
"#,
    )
    .same();
}

#[test]
fn with_items_templates_each_item_then_splices_lists_in_one_level() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    words: [x, y]
    nested: [[p, q], r]
    one: z
  tasks:
    - debug: msg="{{ item }}"
      with_items:
        - "{{ words }}"
        - "{{ one }}"
        - b
        - [c, d]
    - debug: var=item
      with_items: "{{ nested }}"
    - debug: msg="{{ item }}"
      with_items: "{{ one }}"
"#,
    )
    .same();
}
