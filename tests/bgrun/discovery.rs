//! Service discovery against the lab's real Consul on prod (127.0.0.3:8500): the `consul` module
//! (KV, check-and-set, registration with HTTP checks, waiting), the `ctmpl` module and `template`
//! with the book's `.ctmpl` files, Consul lookups in templates, and `bgrun render`'s function.
//! Every test uses names of its own (with the process id) and removes what it created.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use bgrun::consul::{Consul, Registration};
use serde_json::json;

use crate::harness::{Output, Test};

const CONSUL: &str = "127.0.0.3:8500";

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

fn consul() -> Consul {
    crate::harness::require_lab();
    Consul::new(CONSUL, None, None).expect("client")
}

/// A name no other test (or run) uses.
fn unique(what: &str) -> String {
    format!("bgt-{}-{what}", std::process::id())
}

/// Deregisters the services and deletes the keys a test created, even when it fails.
#[derive(Default)]
struct Cleanup {
    services: Vec<String>,
    prefixes: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let c = Consul::new(CONSUL, None, None).expect("client");
        block_on(async {
            for id in &self.services {
                let _ = c.deregister(id).await;
            }
            for prefix in &self.prefixes {
                let _ = c.kv_delete_tree(prefix).await;
            }
        });
    }
}

impl Cleanup {
    /// Registers an instance with the agent, to be deregistered at the end.
    fn register(&mut self, id: &str, name: &str, address: &str, port: u16, check: Option<serde_json::Value>) {
        let registration = Registration {
            id: id.into(),
            name: name.into(),
            address: address.into(),
            port,
            tags: Vec::new(),
            check,
            meta: Default::default(),
        };
        self.services.push(id.into());
        block_on(consul().register(&registration)).expect("register");
    }
}

/// A check that stays at `status` for the test's length.
fn ttl(status: &str) -> Option<serde_json::Value> {
    Some(json!({"TTL": "10m", "Status": status}))
}

/// The counters of `host`'s recap line.
fn recap(out: &Output, host: &str) -> String {
    out.stdout
        .lines()
        .find(|l| l.starts_with(&format!("{host} : ok=")))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn play(steps: &str) -> String {
    format!("- hosts: prod\n  gather_facts: false\n  steps:\n{steps}")
}

/// A tiny HTTP server on 127.0.0.1 answering 200 to everything, for passing checks.
fn http_ok_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 2048];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    port
}

/// A port on 127.0.0.1 nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

#[test]
fn kv_put_get_with_default_and_delete_through_playbooks() {
    let _consul = crate::harness::consul_lock();
    let c = consul();
    let mut cleanup = Cleanup::default();
    let prefix = unique("kv");
    cleanup.prefixes.push(prefix.clone());
    let key = format!("{prefix}/books-ms/color");
    let steps = format!(
        "    - consul: {{key: {key}, value: blue}}\n\
         \x20   - consul: {{key: {key}, value: blue}}\n\
         \x20   - consul: {{key: {key}}}\n\
         \x20     register: got\n\
         \x20   - consul: {{key: {prefix}/absent, default: green}}\n\
         \x20     register: missing\n\
         \x20   - assert:\n\
         \x20       that:\n\
         \x20         - got.value == 'blue'\n\
         \x20         - got.exists\n\
         \x20         - got.index > 0\n\
         \x20         - missing.value == 'green'\n\
         \x20         - not missing.exists\n\
         \x20   - consul: {{key: {key}, state: absent}}\n\
         \x20   - consul: {{key: {key}, state: absent}}\n\
         \x20   - consul: {{key: {key}}}\n\
         \x20     register: gone\n\
         \x20   - assert: {{that: [not gone.exists, gone.value is none]}}\n"
    );
    let out = Test::lab().playbook(&play(&steps)).expect(0);
    assert!(
        recap(&out, "prod").starts_with("prod : ok=9 changed=2 unreachable=0 failed=0"),
        "{}",
        out.stdout
    );
    assert_eq!(block_on(c.kv_get(&key)).unwrap(), None);
}

#[test]
fn check_and_set_conflict_names_the_key_and_the_index() {
    let _consul = crate::harness::consul_lock();
    let c = consul();
    let mut cleanup = Cleanup::default();
    let prefix = unique("cas");
    cleanup.prefixes.push(prefix.clone());
    let key = format!("{prefix}/color");
    assert!(block_on(c.kv_put(&key, "blue", None)).unwrap());
    let (_, index) = block_on(c.kv_get(&key)).unwrap().expect("written");
    let steps = format!(
        "    - consul: {{key: {key}, value: green, cas: {index}}}\n\
         \x20   - consul: {{key: {key}, value: red, cas: {index}}}\n"
    );
    let out = Test::lab().playbook(&play(&steps)).expect(2);
    assert!(
        out.stdout.contains(&format!(
            "check-and-set on key `{key}` failed: expected modify index {index}, but it is at modify index"
        )),
        "{}",
        out.stdout
    );
    assert!(
        recap(&out, "prod").starts_with("prod : ok=1 changed=1 unreachable=0 failed=1"),
        "{}",
        out.stdout
    );
    assert_eq!(
        block_on(c.kv_get(&key)).unwrap().map(|(v, _)| v).as_deref(),
        Some("green")
    );
}

#[test]
fn register_with_a_passing_http_check_wait_read_and_deregister() {
    let _consul = crate::harness::consul_lock();
    let c = consul();
    let mut cleanup = Cleanup::default();
    let name = unique("passing");
    let id = format!("{name}-1");
    cleanup.services.push(id.clone());
    let port = http_ok_server();
    let register = format!(
        "    - consul:\n\
         \x20       service: {name}\n\
         \x20       state: present\n\
         \x20       id: {id}\n\
         \x20       address: 127.0.0.1\n\
         \x20       port: {port}\n\
         \x20       tags: [blue]\n\
         \x20       http: http://127.0.0.1:{port}/health\n\
         \x20       interval: 1s\n\
         \x20       timeout: 1s\n\
         \x20   - consul: {{service: {name}, wait: 1, timeout: 30}}\n\
         \x20   - consul: {{service: {name}}}\n\
         \x20     register: read\n\
         \x20   - consul: {{catalog: services}}\n\
         \x20     register: catalog\n\
         \x20   - assert:\n\
         \x20       that:\n\
         \x20         - read.passing == 1\n\
         \x20         - read.instances[0].Address == '127.0.0.1'\n\
         \x20         - read.instances[0].Port == {port}\n\
         \x20         - read.instances[0].Tags == ['blue']\n\
         \x20         - read.instances[0].ServiceID == '{id}'\n\
         \x20         - read.instances[0].Node == 'prod'\n\
         \x20         - read.instances[0].Status == 'passing'\n\
         \x20         - catalog.services['{name}'] == ['blue']\n"
    );
    let t = Test::lab().playbook(&play(&register));
    let first = t.expect(0);
    assert!(
        recap(&first, "prod").starts_with("prod : ok=5 changed=1"),
        "{}",
        first.stdout
    );
    let again = t.expect(0);
    assert!(
        recap(&again, "prod").starts_with("prod : ok=5 changed=0"),
        "registering again changes nothing\n{}",
        again.stdout
    );

    let deregister = format!("    - consul: {{service: {name}, state: absent}}\n");
    let t = Test::lab().playbook(&play(&deregister));
    assert!(recap(&t.expect(0), "prod").starts_with("prod : ok=1 changed=1"));
    assert!(recap(&t.expect(0), "prod").starts_with("prod : ok=1 changed=0"));
    assert!(block_on(c.health_service(&name, None)).unwrap().is_empty());
}

#[test]
fn waiting_on_a_failing_check_times_out_naming_the_check_and_its_output() {
    let _consul = crate::harness::consul_lock();
    let _ = consul();
    let mut cleanup = Cleanup::default();
    let name = unique("failing");
    cleanup.services.push(name.clone());
    let port = closed_port();
    let steps = format!(
        "    - consul:\n\
         \x20       service: {name}\n\
         \x20       state: present\n\
         \x20       address: 127.0.0.1\n\
         \x20       port: {port}\n\
         \x20       http: http://127.0.0.1:{port}/health\n\
         \x20       interval: 1s\n\
         \x20       timeout: 1s\n\
         \x20       check_name: {name} answers\n\
         \x20   - consul: {{service: {name}, wait: 1, timeout: 4}}\n"
    );
    let started = std::time::Instant::now();
    let out = Test::lab().playbook(&play(&steps)).expect(2);
    assert!(started.elapsed().as_secs() < 20, "the wait stops at its timeout");
    assert!(
        out.stdout.contains(&format!(
            "timed out after 4 s waiting for 1 passing instance of `{name}`: 0 of 1 instances pass"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("check `{name} answers`")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("connection refused"),
        "the check's output is shown\n{}",
        out.stdout
    );
}

/// The instances and key the book's `.ctmpl` files read, as src/ctmpl's tests describe the prod
/// node after a blue deploy, under names of this test's own; returns the names by the book's.
fn books_catalog(cleanup: &mut Cleanup, tag: &str) -> Vec<(String, String)> {
    let blue = unique(&format!("{tag}-books-ms-blue"));
    let green = unique(&format!("{tag}-books-ms-green"));
    let books = unique(&format!("{tag}-books-ms"));
    let nginx = unique(&format!("{tag}-nginx-80"));
    let prefix = unique(&format!("{tag}-kv"));
    // Registered out of order: consul-template sorts by node, then ID.
    cleanup.register(&format!("prod:{blue}:32769"), &blue, "127.0.0.3", 32769, None);
    cleanup.register(&format!("prod:{blue}:32768"), &blue, "127.0.0.3", 32768, None);
    cleanup.register(
        &format!("prod:{books}:32771"),
        &books,
        "10.100.198.201",
        32771,
        ttl("critical"),
    );
    cleanup.register(
        &format!("prod:{books}:32770"),
        &books,
        "10.100.198.201",
        32770,
        ttl("passing"),
    );
    cleanup.register(
        &format!("proxy:{nginx}:80"),
        &nginx,
        "10.100.198.200",
        80,
        ttl("passing"),
    );
    cleanup.register(
        &format!("proxy2:{nginx}:80"),
        &nginx,
        "10.100.198.202",
        80,
        ttl("critical"),
    );
    cleanup.prefixes.push(prefix.clone());
    block_on(consul().kv_put(&format!("{prefix}/proxy/ip"), "10.100.198.201", None)).expect("put");
    vec![
        ("service \"books-ms-blue\"".into(), format!("service \"{blue}\"")),
        ("service \"books-ms-green\"".into(), format!("service \"{green}\"")),
        ("service \"books-ms\"".into(), format!("service \"{books}\"")),
        ("service \"nginx-80\"".into(), format!("service \"{nginx}\"")),
        ("key \"proxy/ip\"".into(), format!("key \"{prefix}/proxy/ip\"")),
    ]
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ctmpl")
}

/// A fixture with its service names and key renamed to the test's own.
fn renamed_fixture(name: &str, names: &[(String, String)]) -> String {
    let mut text = std::fs::read_to_string(fixture_dir().join(name)).expect("fixture");
    for (book, ours) in names {
        text = text.replace(book.as_str(), ours);
    }
    text
}

/// What the book's files render to (the expectations of src/ctmpl's tests, from Go's rules).
const EXPECTED: &[(&str, &str)] = &[
    (
        "nginx-upstreams-blue.ctmpl",
        "upstream books-ms {\n    \n    server 127.0.0.3:32768;\n    \n    server 127.0.0.3:32769;\n    \n}\n",
    ),
    ("nginx-upstreams-green.ctmpl", "upstream books-ms {\n    \n}\n"),
    (
        "nginx-upstreams.ctmpl",
        "upstream books-ms {\n    \n    server 10.100.198.201:32770;\n    \n    server 10.100.198.201:32771;\n    \n}\n",
    ),
    (
        "haproxy.ctmpl",
        "\nfrontend books-ms-fe\n    bind *:80\n    option http-server-close\n    acl url_books-ms path_beg /api/v1/books\n    use_backend books-ms-be if url_books-ms\n\nbackend books-ms-be\n    \n    server prod_32770 10.100.198.201:32770 check\n    \n    server prod_32771 10.100.198.201:32771 check\n    \n",
    ),
    (
        "consul_check.ctmpl",
        "{\n  \"service\": {\n    \"name\": \"books-ms\",\n    \"tags\": [\"service\"],\n    \"port\": 80,\n    \"address\": \"10.100.198.201\",\n    \"checks\": [{\n      \"id\": \"api\",\n      \"name\": \"HTTP on port 80\",\n      \"http\": \"http://10.100.198.201/api/v1/books\",\n      \"interval\": \"10s\",\n      \"timeout\": \"1s\",\n      \"status\": \"passing\"\n    }]\n  }\n}",
    ),
    ("example.ctmpl", "\nThe address is 10.100.198.200:80\n\n"),
    ("example2.ctmpl", "\nThe address is 10.100.198.200:80\n\n"),
];

#[test]
fn the_books_ctmpl_files_render_byte_for_byte_and_a_second_run_changes_nothing() {
    let _consul = crate::harness::consul_lock();
    let _ = consul();
    let mut cleanup = Cleanup::default();
    let names = books_catalog(&mut cleanup, "files");
    let mut t = Test::lab();
    let out_dir = t.path().join("out");
    let mut steps = String::new();
    for (i, (file, _)) in EXPECTED.iter().enumerate() {
        t = t.file(&format!("templates/{file}"), &renamed_fixture(file, &names));
        let dest = out_dir.join(file.trim_end_matches(".ctmpl"));
        // `template` hands `.ctmpl` files to the same code; the green file has no instance.
        let (module, extra) = if file.contains("green") {
            ("ctmpl", ", allow_empty: true")
        } else if i % 2 == 0 {
            ("ctmpl", "")
        } else {
            ("template", "")
        };
        steps.push_str(&format!(
            "    - {module}: {{src: {file}, dest: {}{extra}}}\n",
            dest.display()
        ));
    }
    let t = t.playbook(&play(&steps));
    let first = t.expect(0);
    assert!(
        recap(&first, "prod").starts_with("prod : ok=7 changed=7"),
        "{}",
        first.stdout
    );
    for (file, expected) in EXPECTED {
        let written = std::fs::read_to_string(out_dir.join(file.trim_end_matches(".ctmpl"))).expect("written");
        assert_eq!(written, *expected, "{file}");
    }
    let again = t.expect(0);
    assert!(
        recap(&again, "prod").starts_with("prod : ok=7 changed=0"),
        "the same content is no change\n{}",
        again.stdout
    );
}

#[test]
fn validation_failure_keeps_the_old_file_and_says_why() {
    let _consul = crate::harness::consul_lock();
    let _ = consul();
    let mut cleanup = Cleanup::default();
    let names = books_catalog(&mut cleanup, "validate");
    let t = Test::lab().file(
        "templates/up.ctmpl",
        &renamed_fixture("nginx-upstreams-blue.ctmpl", &names),
    );
    let dir = t.path().join("upstreams");
    std::fs::create_dir_all(&dir).unwrap();
    let dest = dir.join("books-ms.conf");
    std::fs::write(&dest, "old\n").unwrap();
    let steps = format!(
        "    - ctmpl:\n\
         \x20       src: up.ctmpl\n\
         \x20       dest: {}\n\
         \x20       validate: 'sh -c ''echo \"nginx: bad upstream in $0\" >&2; exit 1'' %s'\n",
        dest.display()
    );
    let t = t.playbook(&play(&steps));
    let out = t.expect(2);
    assert!(
        out.stdout.contains(&format!(
            "validation of the new `{}` failed, so the old file was left as it was",
            dest.display()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("exited with 1: nginx: bad upstream in"),
        "the validator's output\n{}",
        out.stdout
    );
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old\n");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "no staged file is left behind: {left:?}");

    let steps = format!(
        "    - ctmpl: {{src: up.ctmpl, dest: {}, validate: grep -q server %s}}\n",
        dest.display()
    );
    let t2 = Test::lab()
        .file(
            "templates/up.ctmpl",
            &renamed_fixture("nginx-upstreams-blue.ctmpl", &names),
        )
        .playbook(&play(&steps));
    let out = t2.expect(0);
    assert!(
        recap(&out, "prod").starts_with("prod : ok=1 changed=1"),
        "{}",
        out.stdout
    );
    assert!(
        std::fs::read_to_string(&dest)
            .unwrap()
            .contains("server 127.0.0.3:32768;")
    );
}

#[test]
fn an_upstream_without_instances_is_an_error_unless_allowed() {
    let _consul = crate::harness::consul_lock();
    let _ = consul();
    let green = unique("empty-books-ms-green");
    let text = std::fs::read_to_string(fixture_dir().join("nginx-upstreams-green.ctmpl"))
        .unwrap()
        .replace("\"books-ms-green\"", &format!("\"{green}\""));
    let keep = Test::new();
    let dest = keep.path().join("out/books-ms.conf");
    let t = Test::lab().file("templates/green.ctmpl", &text);
    let out = t
        .playbook(&play(&format!(
            "    - ctmpl: {{src: green.ctmpl, dest: {}}}\n",
            dest.display()
        )))
        .expect(2);
    assert!(
        out.stdout
            .contains(&format!("no instance of `{green} (any health)` in Consul")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("allow_empty: true"), "{}", out.stdout);
    assert!(!dest.exists());

    let t = Test::lab().file("templates/green.ctmpl", &text);
    let steps = format!(
        "    - template: {{src: green.ctmpl, dest: {}}}\n      ignore_errors: true\n",
        dest.display()
    );
    let out = t.playbook(&play(&steps)).expect(0);
    assert!(
        out.stdout.contains("no instance of"),
        "`template` checks too\n{}",
        out.stdout
    );
    assert!(!dest.exists());

    let t = Test::lab().file("templates/green.ctmpl", &text);
    let steps = format!(
        "    - ctmpl: {{src: green.ctmpl, dest: {}, allow_empty: true}}\n",
        dest.display()
    );
    t.playbook(&play(&steps)).expect(0);
    assert_eq!(
        std::fs::read_to_string(&dest).unwrap(),
        "upstream books-ms {\n    \n}\n"
    );
}

#[test]
fn lookups_in_a_template_file_and_in_debug() {
    let _consul = crate::harness::consul_lock();
    let _ = consul();
    let mut cleanup = Cleanup::default();
    let web = unique("lookup-web");
    let prefix = unique("lookup-kv");
    cleanup.register(&format!("{web}-2"), &web, "127.0.0.6", 82, None);
    cleanup.register(&format!("{web}-1"), &web, "127.0.0.5", 81, None);
    cleanup.register(&format!("{web}-3"), &web, "127.0.0.7", 83, ttl("critical"));
    cleanup.prefixes.push(prefix.clone());
    block_on(consul().kv_put(&format!("{prefix}/color"), "blue", None)).unwrap();
    block_on(consul().kv_put(&format!("{prefix}/size"), "2", None)).unwrap();
    let template = format!(
        "upstream web {{\n\
         {{% for s in service('{web}') %}}\n\
         \x20   server {{{{ s.Address }}}}:{{{{ s.Port }}}};\n\
         {{% endfor %}}\n\
         }}\n\
         any={{{{ service('{web}', 'any') | length }}}}\n\
         color={{{{ key('{prefix}/color') }}}} other={{{{ key_or_default('{prefix}/none', 'green') }}}}\n\
         {{% for kv in ls('{prefix}') %}}{{{{ kv.Key }}}}={{{{ kv.Value }}}};{{% endfor %}}\n\
         listed={{{{ '{web}' in (services() | map(attribute='Name') | list) }}}}\n\
         prod={{{{ 'prod' in (nodes() | map(attribute='Node') | list) }}}}\n"
    );
    let t = Test::lab().file("templates/web.conf.j2", &template);
    let dest = t.path().join("web.conf");
    let steps = format!(
        "    - template: {{src: web.conf.j2, dest: {}}}\n\
         \x20   - debug: msg=\"{{{{ service('{web}') }}}}\"\n\
         \x20   - debug: msg=\"ports {{{{ service('{web}') | map(attribute='Port') | join(',') }}}}\"\n",
        dest.display()
    );
    let t = t.playbook(&play(&steps));
    let out = t.expect(0);
    assert_eq!(
        std::fs::read_to_string(&dest).unwrap(),
        "upstream web {\n    server 127.0.0.5:81;\n    server 127.0.0.6:82;\n}\nany=3\ncolor=blue other=green\ncolor=blue;size=2;listed=True\nprod=True\n"
    );
    assert!(out.stdout.contains("\"Address\": \"127.0.0.5\""), "{}", out.stdout);
    assert!(out.stdout.contains("ports 81,82"), "{}", out.stdout);
}

#[test]
fn an_unreachable_consul_is_named_by_its_address() {
    let _consul = crate::harness::consul_lock();
    crate::harness::require_lab();
    let t = Test::lab().file("templates/k.ctmpl", "{{key \"a\"}}");
    let dest = t.path().join("k");
    let steps = format!(
        "    - consul: {{key: a, consul_addr: 'http://127.0.0.3:1'}}\n\
         \x20     ignore_errors: true\n\
         \x20   - ctmpl: {{src: k.ctmpl, dest: {}, consul_addr: 'http://127.0.0.3:1'}}\n\
         \x20     ignore_errors: true\n\
         \x20   - debug: msg=\"{{{{ key('a') }}}}\"\n\
         \x20     vars: {{consul_addr: 'http://127.0.0.3:1'}}\n\
         \x20     ignore_errors: true\n",
        dest.display()
    );
    let out = t.playbook(&play(&steps)).expect(0);
    let named = out
        .stdout
        .matches("Consul at http://127.0.0.3:1 does not answer")
        .count();
    assert_eq!(named, 3, "{}", out.stdout);
}

#[test]
fn the_token_never_shows() {
    let _consul = crate::harness::consul_lock();
    let _ = consul();
    let mut cleanup = Cleanup::default();
    let prefix = unique("token");
    cleanup.prefixes.push(prefix.clone());
    let token = format!("tok-{}-secret", std::process::id());
    // A token comes from a variable (a vault, an extra variable): the step's header shows the
    // template, and results and messages never show its value, even stored as a value.
    let steps = format!(
        "    - consul: {{key: {prefix}/t, value: '{{{{ tok }}}}', token: '{{{{ tok }}}}'}}\n\
         \x20   - consul: {{key: {prefix}/t, token: '{{{{ tok }}}}'}}\n\
         \x20     register: got\n\
         \x20   - consul: {{key: {prefix}/t, consul_addr: 'http://127.0.0.3:1'}}\n\
         \x20     ignore_errors: true\n"
    );
    let t = Test::lab()
        .playbook(&play(&steps))
        .args(&["-e", &format!("tok={token}")])
        .env("CONSUL_HTTP_TOKEN", &token)
        .arg("-v");
    let out = t.expect(0);
    assert!(
        !out.stdout.contains(&token) && !out.stderr.contains(&token),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("********"), "{}", out.stdout);
    let json = t.arg("--output").arg("json").expect(0);
    assert!(!json.stdout.contains(&token), "{}", json.stdout);
}

#[test]
fn render_prints_what_a_template_renders_on_a_host() {
    let _consul = crate::harness::consul_lock();
    let _ = consul();
    let mut cleanup = Cleanup::default();
    let names = books_catalog(&mut cleanup, "render");
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory");
    std::fs::write(&inventory, crate::harness::lab_inventory()).unwrap();
    let ctmpl = dir.path().join("blue.ctmpl");
    std::fs::write(&ctmpl, renamed_fixture("nginx-upstreams-blue.ctmpl", &names)).unwrap();
    let jinja = dir.path().join("blue.j2");
    let blue = &names[0].1["service \"".len()..names[0].1.len() - 1];
    std::fs::write(
        &jinja,
        format!("{{% for s in service('{blue}') %}}{{{{ s.Port }}}} {{% endfor %}}on {{{{ inventory_hostname }}}}"),
    )
    .unwrap();
    let sources = vec![inventory.display().to_string()];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let text = runtime
        .block_on(bgrun::commands::render::render(&ctmpl, &sources, "prod"))
        .unwrap();
    assert_eq!(text, EXPECTED[0].1);
    let text = runtime
        .block_on(bgrun::commands::render::render(&jinja, &sources, "prod"))
        .unwrap();
    assert_eq!(text, "32768 32769 on prod");
    let err = runtime
        .block_on(bgrun::commands::render::render(&ctmpl, &sources, "prd"))
        .unwrap_err();
    assert_eq!(
        err.render(),
        "error: no host `prd` in the inventory\nhelp: did you mean `prod`?"
    );
}

#[test]
fn render_command_prints_what_a_template_renders_and_writes_nothing() {
    let _consul = crate::harness::consul_lock();
    crate::harness::require_lab();
    let name = format!("render-cli-{}", std::process::id());
    let register =
        serde_json::json!({"ID": format!("prod:{name}:8080"), "Name": name, "Address": "127.0.0.3", "Port": 31999});
    std::process::Command::new("curl")
        .args([
            "-s",
            "-X",
            "PUT",
            "-d",
            &register.to_string(),
            "http://127.0.0.3:8500/v1/agent/service/register",
        ])
        .output()
        .unwrap();
    let t = crate::harness::Test::new()
        .file("hosts", &crate::harness::lab_inventory())
        .file("up.ctmpl", &format!("upstream x {{\n{{{{- range service \"{name}\" }}}}\n    server {{{{ .Address }}}}:{{{{ .Port }}}};\n{{{{- end }}}}\n}}\n"));
    let out = t
        .args(&["render", "up.ctmpl", "--host", "prod", "-i", "hosts"])
        .expect(0);
    std::process::Command::new("curl")
        .args([
            "-s",
            "-X",
            "PUT",
            &format!("http://127.0.0.3:8500/v1/agent/service/deregister/prod:{name}:8080"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.stdout, "upstream x {\n    server 127.0.0.3:31999;\n}\n");
}
