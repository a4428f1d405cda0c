//! Settings: each `ANSIBLE_*` variable wins over ansible.cfg.

use super::Case;

#[test]
fn ansible_roles_path_wins_over_ansible_cfg() {
    let case = Case::new("- hosts: all\n  gather_facts: false\n  roles: [greet]\n")
        .file("ansible.cfg", "[defaults]\nroles_path = cfg_roles\n")
        .file("cfg_roles/greet/tasks/main.yml", "- debug: msg=from-cfg\n")
        .file("env_roles/greet/tasks/main.yml", "- debug: msg=from-env\n");
    case.same();
    let (_, bgrun) = case.env("ANSIBLE_ROLES_PATH", "other:env_roles").same();
    assert!(bgrun.stdout.contains("from-env"), "{}", bgrun.stdout);
}
