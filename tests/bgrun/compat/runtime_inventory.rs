//! The inventory changed while the run goes on: `add_host` and `group_by`, seen by later plays.

use super::{Case, LOCAL};

#[test]
fn hosts_and_groups_added_at_run_time_are_used_by_the_next_plays() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - add_host:
        name: extra
        groups: [added, more]
        ansible_connection: local
        ansible_python_interpreter: /usr/bin/python3
        color: blue
    - group_by:
        key: "kind_{{ kind }}"
        parents: [kinds]
- hosts: added
  gather_facts: false
  tasks:
    - debug: msg="{{ inventory_hostname }} {{ color }} {{ group_names }}"
- hosts: kinds
  gather_facts: false
  tasks:
    - debug: msg="{{ inventory_hostname }} {{ groups['kind_a'] }} {{ groups['more'] }}"
- hosts: kind_b
  gather_facts: false
  tasks:
    - debug: msg="{{ inventory_hostname }}"
"#,
    )
    .inventory(&format!(
        "{}other kind=b ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
        LOCAL.trim_end().to_string() + " kind=a\n"
    ))
    .same();
}
