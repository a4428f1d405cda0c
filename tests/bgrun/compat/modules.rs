//! Modules on the local connection, compared with ansible-playbook: their results as `register`
//! stores them, their check mode, and the files they leave.

use super::Case;

#[test]
fn command_of_a_missing_or_unrunnable_program_fails_as_in_ansible() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - command: nosuch-program --password=secret 'a b'
      register: missing
      ignore_errors: true
    - debug: var=missing
    - command: "{{ out }}/../play.yml"
      register: not_executable
      ignore_errors: true
    - debug:
        var: not_executable.msg is search('Errno 13')
    - debug:
        var: not_executable.rc == 13 and not not_executable.changed
    - shell: echo hi
      args:
        executable: /nonexistent/bash
      register: no_shell
      ignore_errors: true
    - debug: var=no_shell
    - command: sh -c 'exit 127'
      register: own_127
      ignore_errors: true
    - debug:
        var: own_127.rc == 127 and own_127.changed
"#,
    )
    .same();
}

#[test]
fn command_argv_executable_and_strip_empty_ends() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - command:
        argv: [printf, "%s|", "a  b", c]
      register: r
    - debug: var=r.stdout
    - debug: var=r.cmd
    - command: echo hi
      args:
        executable: /bin/bash
      register: r
    - debug: var=r.warnings
    - command: printf 'x\n\n'
      args:
        strip_empty_ends: false
      register: r
    - debug: var=r.stdout
    - debug: var=r.stdout_lines
    - command: printf 'x\n\n'
      register: r
    - debug: var=r.stdout
"#,
    )
    .same();
}

#[test]
fn include_vars_reads_a_file_or_a_folder_into_the_hosts_variables() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: common.yml
    - debug: var=full
    - include_vars:
        file: common.yml
        name: common
    - debug: var=common
    - include_vars:
        dir: conf
        ignore_unknown_extensions: true
      register: r
    - debug:
        var: r.ansible_included_var_files | map('basename') | list
    - debug: var=layer
    - debug: var=only_top
    - include_vars:
        dir: conf
        depth: 1
        files_matching: '^b'
        name: top
    - debug: var=top
    - include_vars:
        dir: conf
      register: bad
      ignore_errors: true
    - debug: var=bad.ansible_facts
    - include_vars:
        file: common.yml
        depth: 2
      register: mixed
      ignore_errors: true
- hosts: all
  gather_facts: false
  tasks:
    - debug: var=layer
"#,
    )
    .file(
        "vars/common.yml",
        "first: Ada\nlast: Lovelace\nfull: \"{{ first }} {{ last }}\"\n",
    )
    .file("conf/a.yml", "layer: a\nonly_top: yes\n")
    .file("conf/b.json", "{\"layer\": \"b\", \"list\": [1, 2]}\n")
    .file("conf/sub/c.yaml", "layer: c\n")
    .file("conf/README.txt", "not variables\n")
    .same();
}

#[test]
fn tempfile_and_slurp_as_in_ansible() {
    let playbook = r#"
- hosts: all
  gather_facts: false
  tasks:
    - tempfile:
        path: "{{ out }}"
        suffix: .conf
      register: t
    - debug:
        var: t.path is match(out ~ '/ansible\.[^/]{8}\.conf$')
      when: not ansible_check_mode
    - debug:
        var: t | dict2items | rejectattr('key', 'in', ['path', 'uid', 'gid', 'owner', 'group']) | items2dict
      when: not ansible_check_mode
    - tempfile:
        state: directory
        path: "{{ out }}"
        prefix: build_
      register: d
    - debug:
        var: d.skipped | default(false)
    - debug:
        var: "[d.mode, d.state, d.path | basename | length]"
      when: not ansible_check_mode
    - copy:
        dest: "{{ out }}/motd"
        content: "welcome\n"
      when: not ansible_check_mode
    - slurp:
        src: "{{ out }}/motd"
      register: s
      ignore_errors: "{{ ansible_check_mode }}"
    - debug:
        var: s.content | b64decode
      when: not ansible_check_mode
    - debug:
        var: "[s.encoding, s.source == out ~ '/motd']"
      when: not ansible_check_mode
    - slurp:
        path: "{{ out }}/missing"
      ignore_errors: true
      register: missing
    - debug:
        var: "missing.msg == 'file not found: ' ~ out ~ '/missing'"
    - slurp:
        src: "{{ out }}"
      ignore_errors: true
      register: folder
    - debug:
        var: "folder.msg == 'source is a directory and must be a file: ' ~ out"
    - file:
        path: "{{ t.path }}"
        state: absent
      when: not ansible_check_mode
    - file:
        path: "{{ d.path }}"
        state: absent
      when: not ansible_check_mode
"#;
    Case::new(playbook).same();
    Case::new(playbook).arg("--check").same();
}

#[test]
fn replace_edits_every_match_once_and_reports_no_change_after() {
    let playbook = r##"
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        dest: "{{ out }}/app.conf"
        content: "# app\nport=80\nhost=a\n[extra]\nport=81\n"
        mode: "0644"
    - replace:
        path: "{{ out }}/app.conf"
        regexp: '^port=(\d+)$'
        replace: 'port=\g<1>0'
        before: '\[extra\]'
      register: r
    - debug: var=r.msg
    - replace:
        path: "{{ out }}/app.conf"
        regexp: '^host=(\w+)$'
        replace: 'host=\1.example'
        mode: "0600"
      register: r
    - debug: var=r.msg
    - replace:
        path: "{{ out }}/app.conf"
        regexp: '^host=a$'
        replace: 'host=b'
      register: r
    - debug: var=r.msg
    - replace:
        path: "{{ out }}/app.conf"
        regexp: x
        after: 'no such line'
      register: r
    - debug: var=r.msg
    - replace:
        path: "{{ out }}/missing.conf"
        regexp: x
      register: r
      ignore_errors: true
    - debug:
        var: r.msg is search('missing.conf does not exist !$')
    - replace:
        path: "{{ out }}/app.conf"
        regexp: '^port=800$'
        replace: 'port=8000'
        validate: 'grep -q nothing-like-this %s'
      register: r
      ignore_errors: true
    - debug: var=r.msg
"##;
    Case::new(playbook).same();
    Case::new(playbook).arg("--check").same();
}

#[test]
fn blockinfile_inserts_updates_and_removes_its_block() {
    let playbook = r##"
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        dest: "{{ out }}/hosts"
        content: "127.0.0.1 localhost\n# custom\n::1 localhost"
    - blockinfile:
        path: "{{ out }}/hosts"
        block: |
          10.0.0.1 db
          10.0.0.2 web
        insertafter: '^# custom'
      register: r
    - debug: var=r.msg
    - blockinfile:
        path: "{{ out }}/hosts"
        block: |
          10.0.0.1 db
          10.0.0.2 web
        insertafter: '^# custom'
      register: r
    - debug: var=r.changed
    - blockinfile:
        path: "{{ out }}/hosts"
        marker: "<!-- {mark} web -->"
        marker_begin: start
        marker_end: stop
        content: "x"
        insertbefore: BOF
      register: r
    - debug: var=r.msg
    - blockinfile:
        path: "{{ out }}/hosts"
        block: "10.0.0.3 cache"
        mode: "0600"
      register: r
    - debug: var=r.msg
    - blockinfile:
        path: "{{ out }}/hosts"
        state: absent
      register: r
    - debug: var=r.msg
    - blockinfile:
        path: "{{ out }}/sub/new.conf"
        block: "a=1"
        create: true
      register: r
    - debug: var=r.msg
    - blockinfile:
        path: "{{ out }}/absent.conf"
        block: "a=1"
      register: r
      ignore_errors: true
    - debug:
        var: r.msg is search('absent.conf does not exist !$')
"##;
    Case::new(playbook).same();
    Case::new(playbook).arg("--check").same();
}

#[test]
fn lineinfile_validate_keeps_the_old_file_when_the_check_fails() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        dest: "{{ out }}/sudoers"
        content: "root ALL=(ALL) ALL\n"
    - lineinfile:
        path: "{{ out }}/sudoers"
        line: "deploy ALL=(ALL) NOPASSWD: ALL"
        validate: "grep -q NOPASSWD %s"
      register: r
    - debug: var=r.msg
    - lineinfile:
        path: "{{ out }}/sudoers"
        line: "broken"
        validate: "grep -q no-such-text %s"
      register: r
      ignore_errors: true
    - debug: var=r.msg
    - lineinfile:
        path: "{{ out }}/sudoers"
        line: "other"
        validate: "true"
      register: r
      ignore_errors: true
    - debug: var=r.msg
"#,
    )
    .same();
}

#[test]
fn script_runs_a_playbook_file_on_the_host_with_its_arguments() {
    let playbook = r#"
- hosts: all
  gather_facts: false
  tasks:
    - script: report.sh a 'b c'
      args:
        chdir: "{{ out }}"
      register: r
    - debug: var=r
    - script: report.sh
      environment:
        RC: "3"
      register: r
      ignore_errors: true
    - debug:
        var: r.rc | default(0) == 3 and r.changed
    - debug: var=r.msg
    - script:
        cmd: report.sh
        creates: /
      register: r
    - debug: var=r
    - script: report.sh
      args:
        removes: "{{ out }}/none"
    - script: report.sh
      args:
        executable: /bin/bash
        removes: "{{ out }}"
      register: r
    - debug: var=r.stdout_lines[0]
      when: not ansible_check_mode
"#;
    let report = "#!/bin/sh\necho \"args: $*\"\necho err >&2\nprintf 'x\\n\\n'\nexit ${RC:-0}\n";
    Case::new(playbook).file("files/report.sh", report).same();
    Case::new(playbook)
        .file("files/report.sh", report)
        .arg("--check")
        .same();
}

#[test]
fn find_matches_names_types_sizes_and_contents_as_ansible() {
    let playbook = r#"
- hosts: all
  gather_facts: false
  tasks:
    - find:
        paths: "{{ out }}/../tree"
      register: r
    - debug:
        var: r.files | map(attribute='path') | map('basename') | list
    - debug:
        var: "[r.matched, r.examined, r.msg, r.changed]"
    - debug:
        var: r.files[0] | dict2items | map(attribute='key') | sort
    - find:
        paths: "{{ out }}/../tree"
        recurse: true
        patterns: "*.log,*.txt"
        excludes: "debug*"
        hidden: true
      register: r
    - debug:
        var: r.files | map(attribute='path') | map('basename') | sort
    - debug:
        var: "[r.matched, r.examined]"
    - find:
        paths: ["{{ out }}/../tree", "{{ out }}/../nowhere"]
        recurse: true
        depth: 1
        file_type: directory
      register: r
    - debug:
        var: r.files | map(attribute='path') | map('basename') | sort
    - debug:
        var: "[r.matched, r.examined, r.msg, r.skipped_paths | length]"
    - find:
        paths: "{{ out }}/../tree"
        recurse: true
        use_regex: true
        patterns: ['^app', 'x+\.cfg$']
        contains: 'level=(debug|info)$'
        size: "-1k"
        get_checksum: true
      register: r
    - debug:
        var: r.files | map(attribute='path') | map('basename') | sort
    - debug:
        var: r.files | map(attribute='checksum') | list
    - find:
        paths: "{{ out }}/../tree"
        file_type: any
        age: 1d
      register: r
    - debug:
        var: "[r.matched]"
    - file:
        src: ../app.log
        dest: "{{ out }}/../tree/sub/current.log"
        state: link
    - find:
        paths: "{{ out }}/../tree"
        file_type: link
        recurse: true
      register: r
    - debug:
        var: r.files | map(attribute='path') | map('basename') | list
    - debug:
        var: "[r.files[0].islnk, r.files[0].mode, r.files[0].isreg]"
    - find:
        paths: "{{ out }}/../tree"
        age: "2 days"
      register: r
      ignore_errors: true
    - debug:
        var: r.msg
"#;
    Case::new(playbook)
        .file("tree/app.log", "level=info\n")
        .file("tree/debug.log", "level=debug\n")
        .file("tree/notes.txt", "hello\n")
        .file("tree/.hidden.log", "x\n")
        .file("tree/sub/app-2.log", "level=warn\nlevel=debug\n")
        .file("tree/sub/xx.cfg", "level=info")
        .file("tree/sub/deeper/app.txt", "level=info\n")
        .file("tree/.git/config", "x\n")
        .same();
}

#[test]
fn ping_answers_its_data_and_data_crash_fails() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - ping:
      register: r
    - debug: var=r
    - ping: data=hello
      register: r
    - debug: var=r
    - ping: data=crash
      register: r
      ignore_errors: true
    - debug: var=r.failed
"#,
    )
    .same();
}

#[test]
fn file_follows_links_recurses_and_checks_link_sources_as_ansible() {
    let playbook = r#"
- hosts: all
  gather_facts: false
  tasks:
    - file: path={{ out }}/d/sub state=directory mode=0755
    - copy: dest={{ out }}/d/sub/g content=y mode=0644
    - copy: dest={{ out }}/f content=x mode=0644
    - file: path={{ out }}/lf src=f state=link
    - file: path={{ out }}/ld src=d state=link
    - file: path={{ out }}/d state=file
      register: r
      ignore_errors: true
    - debug:
        var: r.msg is search('/d\) is directory, cannot continue$')
    - file: path={{ out }}/lf state=file mode=0600
      register: r
    - debug:
        var: "[r.changed, r.path == out ~ '/f', r.state]"
    - file: path={{ out }}/lf state=file mode=0600 follow=false
      register: r
      ignore_errors: true
    - debug:
        var: r.msg is search('/lf\) is link, cannot continue$')
    - file: path={{ out }}/d state=directory mode=0750 recurse=true
      register: r
    - debug: var=r.changed
    - file: path={{ out }}/d state=directory mode=0750 recurse=true
      register: r
    - debug: var=r.changed
    - file: path={{ out }}/f state=file recurse=true
      register: r
      ignore_errors: true
    - debug: var=r.msg
    - file: path={{ out }}/l2 src=nosuch state=link
      register: r
      ignore_errors: true
    - debug:
        var: r.msg is search('^src file does not exist, use "force=yes" if you really want to create the link. .*/out/nosuch$')
    - file: path={{ out }}/l3 src=nosuch state=link force=true
    - file: path={{ out }}/h src={{ out }}/f state=hard
      register: r
    - debug: var=r.changed
    - file: path={{ out }}/h src={{ out }}/f state=hard
      register: r
    - debug: var=r.changed
    - file: path={{ out }}/ld state=directory mode=0700
      register: r
    - debug:
        var: "[r.changed, r.path == out ~ '/d']"
"#;
    Case::new(playbook).same();
}

#[test]
fn wait_for_a_search_regex_with_delay_and_sleep() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        dest: "{{ out }}/app.log"
        content: "starting\nlistening on port 8080 (pid 42)\n"
    - wait_for:
        path: "{{ out }}/app.log"
        search_regex: 'port (?P<port>\d+) \(pid (\d+)\)$'
        delay: 1
        sleep: 1
        timeout: 5
      register: r
    - debug:
        var: "[r.match_groups, r.match_groupdict, r.state, r.elapsed >= 1, r.search_regex, r.port]"
    - wait_for:
        path: "{{ out }}/app.log"
        search_regex: 'never printed'
        timeout: 2
        sleep: 1
      register: r
      ignore_errors: true
    - debug:
        var: "[r.msg is search('^Timeout when waiting for search string never printed in .*/app.log$'), r.elapsed]"
    - wait_for:
        path: "{{ out }}/missing"
        timeout: 1
      register: r
      ignore_errors: true
    - debug:
        var: r.msg is search('^Timeout when waiting for file .*/missing$')
    - wait_for:
        path: "{{ out }}/app.log"
        state: absent
        timeout: 1
      register: r
      ignore_errors: true
    - debug:
        var: r.msg is search('app.log to be absent.$')
    - wait_for:
        port: 1
        state: stopped
        timeout: 2
      register: r
    - debug:
        var: "[r.state, r.port, r.path, r.match_groups]"
    - wait_for:
        port: 1
        path: /
      register: r
      ignore_errors: true
    - debug: var=r.msg
"#,
    )
    .same();
}

#[test]
fn copy_of_a_folder_with_and_without_its_trailing_slash() {
    let playbook = r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        src: site/
        dest: "{{ out }}/inside"
        mode: "0640"
      register: r
    - debug:
        var: "[r.changed, r.dest == out ~ '/inside/']"
    - copy:
        src: site/
        dest: "{{ out }}/inside"
        mode: "0640"
      register: r
    - debug: var=r.changed
    - copy:
        src: site
        dest: "{{ out }}/itself/"
        directory_mode: "0750"
      register: r
    - debug: var=r.changed
    - copy:
        src: one
        dest: "{{ out }}/single"
      register: r
    - debug:
        var: "[r.changed, r.dest == out ~ '/single/one/only.txt', r.checksum]"
      when: not ansible_check_mode
    - copy:
        src: site/
        dest: "{{ out }}/checked"
        validate: "true %s"
      register: r
    - debug: var=r.changed
    - template:
        src: conf
        dest: "{{ out }}/conf"
      register: r
      ignore_errors: true
    - debug:
        var: r.msg is search('^could not find src=.*/templates/conf, Could not find or access')
"#;
    let case = || {
        Case::new(playbook)
            .file("files/site/index.html", "<h1>hi</h1>\n")
            .file("files/site/css/main.css", "h1 {}\n")
            .file("files/site/css/print/p.css", "p {}\n")
            .file("files/one/only.txt", "only\n")
            .file("templates/conf/a.conf", "a={{ 1 }}\n")
    };
    case().same();
    case().arg("--check").same();
}

/// A value's shape: its JSON type, and for a mapping the shapes of its keys.
fn shape(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Json::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Json::Array(items) => Json::from(format!("list of {}", items.first().map(shape).unwrap_or(Json::Null))),
        Json::String(_) => Json::from("string"),
        Json::Number(n) if n.is_f64() => Json::from("float"),
        Json::Number(_) => Json::from("int"),
        Json::Bool(_) => Json::from("bool"),
        Json::Null => Json::from("null"),
    }
}

#[test]
fn setup_gathers_facts_under_ansibles_names_and_shapes() {
    let (ansible, bgrun) = Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - setup:
    - setup:
        gather_subset: ["!all", "!hardware", "python"]
    - debug:
        var: "[ansible_python.executable, ansible_python_version is match('^3[.]'), ansible_python.type]"
"#,
    )
    .same();
    let facts = |report: &super::Report| report.steps[0].1[0].result["ansible_facts"].clone();
    let (theirs, ours) = (facts(&ansible), facts(&bgrun));
    let theirs = theirs.as_object().expect("Ansible's facts");
    let ours = ours.as_object().expect("bgrun's facts");
    // Values that differ between two runs a second apart (the clock, free memory, the network
    // interfaces containers add and remove, listed in the kernel's changing order), or that
    // Ansible reads from sources bgrun does not (its own interpreter's environment), are
    // compared by shape only.
    let volatile = [
        "ansible_date_time",
        "ansible_env",
        "ansible_uptime_seconds",
        "ansible_memfree_mb",
        "ansible_interfaces",
        "ansible_all_ipv4_addresses",
    ];
    let mut problems = Vec::new();
    for (name, value) in ours {
        match theirs.get(name) {
            None => problems.push(format!("{name}: Ansible has no such fact")),
            Some(their) if shape(their) != shape(value) && !volatile.contains(&name.as_str()) => problems.push(
                format!("{name}: shape {} where Ansible's is {}", shape(value), shape(their)),
            ),
            Some(their) if their != value && !volatile.contains(&name.as_str()) => {
                problems.push(format!("{name}: {value} where Ansible has {their}"))
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
