//! YAML as PyYAML reads it: flow collections spread over lines, `!unsafe`, YAML 1.1 scalars.

use super::Case;

#[test]
fn a_flow_mapping_spread_over_lines_indented_less_than_its_key() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    v: {
  "b": "x",
  "c": {
    "d": 1, "e": [1,
  2]
  }
}
  tasks:
    - debug: var=v
    - set_fact:
        w: [
      "one",
    "two" ]
    - debug: var=w
"#,
    )
    .same();
}

#[test]
fn an_unsafe_string_is_never_templated() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    u: !unsafe "{{ not templated }} {% raw %}"
    l: !unsafe ["{{ a }}", 1]
  tasks:
    - debug: var=u
    - debug: msg="{{ u }} and {{ l[0] }}"
    - copy:
        dest: "{{ out }}/u.txt"
        content: !unsafe "{{ kept }}\n"
"#,
    )
    .same();
}

#[test]
fn scalars_resolve_as_yaml_1_1() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    n: [1.0e5, 1:30, .nan, 190:20:30, 1_000, +.inf, -.Inf, 6.5e+2, 0o17, 017, 0x1F, 1:20.5]
  tasks:
    - debug: msg="{{ n[2] }} {{ n[5] }} {{ n[6] }}"
    - debug: msg="{{ n[0] }} {{ n[1] + 1 }} {{ n[3] }} {{ n[4] }} {{ n[8] }} {{ n[9] }} {{ n[10] }} {{ n[11] }}"
    - debug: msg="{{ n[7] is float }} {{ n[1] is integer }} {{ n[0] is string }}"
    - debug: var=n[0]
"#,
    )
    .same();
}
