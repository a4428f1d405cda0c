//! Variable precedence, as Ansible's, from lowest to highest: the inventory's group vars (`all` <
//! parent group < child group) < group_vars/all < group_vars/<group> < the inventory's host vars
//! < host_vars/<host> < play `vars` < `vars_files` < registered results and `set_fact` < `-e`.

use crate::harness::Test;

/// Level n sets `v<n>` and every variable above it, so `v<n>` must come from level n: any level
/// above n that won over it would have to set `v<n>`, and none does.
#[test]
fn precedence_follows_ansible() {
    let levels = [
        "all",
        "parent",
        "child",
        "gv_all",
        "gv_group",
        "host",
        "hv",
        "play",
        "vars_file",
        "fact",
        "extra",
    ];
    let count = levels.len();
    let from = |n: usize| -> String { (n..count).map(|i| format!("v{i}: {}\n", levels[n])).collect() };
    let ini_from = |n: usize| -> String { (n..count).map(|i| format!("v{i}={}\n", levels[n])).collect() };
    let hostline = (5..count).map(|i| format!("v{i}=host")).collect::<Vec<_>>().join(" ");
    let inventory = format!(
        "[child]\nlocalhost ansible_connection=local {hostline}\n\n[parent:children]\nchild\n\n[all:vars]\n{}\n[parent:vars]\n{}\n[child:vars]\n{}",
        ini_from(0),
        ini_from(1),
        ini_from(2)
    );
    let checks: String = levels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("          - v{i} == '{l}'\n"))
        .collect();
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  vars:\n{}  vars_files: [more.yml]\n  steps:\n    - set_fact:\n{}    - assert:\n        that:\n{checks}",
        indent(&from(7), 4),
        indent(&from(9), 8)
    );
    let extra = [format!("v{}=extra", count - 1)];
    let t = Test::new()
        .file("inv/hosts", &inventory)
        .file("inv/group_vars/all.yml", &from(3))
        .file("inv/group_vars/child", &from(4))
        .file("inv/host_vars/localhost/main.yml", &from(6))
        .file("more.yml", &from(8))
        .args(&["-i", "inv", "-e", &extra.join(" ")])
        .playbook(&play);
    let out = t.expect(0);
    assert!(out.stdout.contains("ok=2"), "{}", out.stdout);
}

fn indent(text: &str, n: usize) -> String {
    text.lines().map(|l| format!("{}{l}\n", " ".repeat(n))).collect()
}

#[test]
fn magic_variables() {
    let out = Test::new()
        .file("hosts", "[web]\nlocalhost ansible_connection=local\n[db]\nother ansible_host=127.0.0.9\n")
        .args(&["-i", "hosts", "-l", "localhost"])
        .playbook(
            "- hosts: all\n  gather_facts: false\n  steps:\n    - assert:\n        that:\n          - inventory_hostname == 'localhost'\n          - group_names == ['web']\n          - groups.db == ['other']\n          - groups.all | length == 2\n          - hostvars.other.ansible_host == '127.0.0.9'\n          - play_hosts == ['localhost']\n          - playbook_dir is string\n",
        )
        .expect(0);
    assert!(out.stdout.contains("ok=1"), "{}", out.stdout);
}

#[test]
fn extra_vars_from_file_and_json() {
    Test::new()
        .file("hosts", "localhost ansible_connection=local\n")
        .file("extra.yml", "color: blue\nport: 8080\n")
        .args(&["-i", "hosts", "-e", "@extra.yml", "-e", r#"{"port": 9090, "list": [1, 2]}"#])
        .playbook("- hosts: all\n  gather_facts: false\n  steps:\n    - assert:\n        that: color == 'blue' and port == 9090 and list | length == 2\n")
        .expect(0);
}

#[test]
fn lazy_variables_and_filters() {
    Test::new()
        .file("hosts", "localhost ansible_connection=local\n")
        .args(&["-i", "hosts"])
        .playbook(
            "- hosts: all\n  gather_facts: false\n  vars:\n    service: books-ms\n    url: http://{{ host }}/{{ service | upper }}\n    host: prod\n  steps:\n    - assert:\n        that:\n          - url == 'http://prod/BOOKS-MS'\n          - (missing | default('x')) == 'x'\n          - ('yes' | bool)\n          - ([3, 1, 1] | unique | sort) == [1, 3]\n          - ('/a/b.conf' | basename) == 'b.conf'\n          - \"({'a': 1} | dict2items) == [{'key': 'a', 'value': 1}]\"\n          - ('aGk=' | b64decode) == 'hi'\n",
        )
        .expect(0);
}
