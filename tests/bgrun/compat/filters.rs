//! Ansible's filters compared with ansible-playbook: digests, crypt strings, UUIDs, comments,
//! seeded randomness, records, numbers, paths, `format`, YAML streams and time stamps.

use super::Case;

#[test]
fn filters_give_what_ansible_gives() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  vars:
    users:
      - {name: alice, groups: [wheel, adm], uid: 1}
      - {name: bob, groups: [users], uid: 2}
  tasks:
    - debug: {msg: "{{ 'hello' | hash }} {{ 'hello' | hash('md5') }} {{ 'hello' | hash('sha256') }}"}
    - debug: {msg: "{{ 'secret' | password_hash('sha512', 'mysalt') }}"}
    - debug: {msg: "{{ 'secret' | password_hash('sha512', 'mysalt', rounds=10000) }}"}
    - debug: {msg: "{{ 'secret' | password_hash('sha256', salt='abc') }}"}
    - debug: {msg: "{{ 'secret' | password_hash('sha512', 'mysalt', rounds=656000) }}"}
    - debug: {msg: "{{ 'web1' | to_uuid }} {{ 'x' | to_uuid(namespace='6ba7b810-9dad-11d1-80b4-00c04fd430c8') }}"}
    - debug: {msg: "{{ 'one\ntwo' | comment }}"}
    - debug: {msg: "{{ 'one\ntwo' | comment('cblock') }}"}
    - debug: {msg: "{{ 'text' | comment('xml') }}"}
    - debug: {msg: "{{ 'a' | comment(decoration='; ', prefix_count=2) }}"}
    - debug: {msg: "{{ 60 | random(seed='web1') }} {{ 100 | random(seed=42) }} {{ 20 | random(start=10, step=3, seed=5) }}"}
    - debug: {msg: "{{ ['a', 'b', 'c', 'd'] | random(seed='x') }}"}
    - debug: {msg: "{{ [1, 2, 3, 4, 5] | shuffle(seed=7) }}"}
    - debug: {msg: "{{ range(10) | shuffle(seed='host') }}"}
    - debug: {msg: "{{ users | subelements('groups') }}"}
    - debug: {msg: "{{ users | rekey_on_member('name') }}"}
    - debug: {msg: "{{ 100 | log }} {{ 100 | log(10) }} {{ 8 | log(2) }} {{ 2 | pow(10) }} {{ 16 | root }} {{ 27 | root(3) }}"}
    - debug: {msg: "{{ 0 | human_readable }} {{ 1023 | human_readable }} {{ 1048576 | human_readable }} {{ 2000 | human_readable(isbits=true) }} {{ 1048576 | human_readable(unit='K') }}"}
    - debug: {msg: "{{ '10M' | human_to_bytes }} {{ '1.5 KB' | human_to_bytes }} {{ 2 | human_to_bytes('G') }} {{ '1Mb' | human_to_bytes(isbits=true) }} {{ '12' | human_to_bytes }}"}
    - debug: {msg: "{{ '~/x' | expanduser }} {{ '~root/y' | expanduser }} {{ 'z' | expanduser }}"}
    - debug: {msg: "{{ '%r and %s, %d%%' | format('a', [1, True, None], 5) }}"}
    - debug: {msg: "{{ '%s-%05.1f' | format(true, 3.14159) }}"}
    - debug: {msg: "{{ 'a: 1\n---\nb: [2]\n' | from_yaml_all | list }}"}
    - debug: {msg: "{{ '---\nx\n---\ny\n' | from_yaml_all | list }}"}
    - debug: {msg: "{{ (playbook_dir ~ '/files/*.txt') | fileglob | map('basename') | list }}"}
    - debug: {msg: "{{ '%Y-%m-%d %H:%M:%S' | strftime(0, utc=true) }} {{ '%a %d %b %j' | strftime(1700000000, utc=true) }}"}
    - debug: {msg: "{{ '2016-08-14 20:00:12' | to_datetime }}"}
    - debug: {msg: "{{ ('2016-08-04' | to_datetime('%Y-%m-%d')).day }} {{ ('2016-08-14 20:00:12' | to_datetime).strftime('%H:%M') }} {{ ('2016-08-14 20:00:12' | to_datetime).isoformat() }}"}
"#,
    )
    .file("files/a.txt", "a\n")
    .file("files/b.conf", "b\n")
    .file("files/.hidden.txt", "c\n")
    .file("files/sub/c.txt", "c\n")
    .same();
}
