//! Tests of rendering `.ctmpl` files: the books-ms fixtures byte for byte, Go's text/template
//! rules, consul-template's functions, dependency rounds, error messages, and garbage input.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::*;

fn context() -> RenderContext {
    let env = HashMap::from([
        ("BG_COLOR".to_string(), "blue".to_string()),
        ("EMPTY".to_string(), String::new()),
    ]);
    // 2016-02-29T13:04:05Z
    RenderContext {
        now: UNIX_EPOCH + Duration::from_secs(1_456_751_045),
        env: Some(env),
    }
}

fn instance(service: &str, node: &str, address: &str, port: u16, status: HealthState) -> ServiceInstance {
    ServiceInstance {
        node: node.into(),
        node_address: "10.100.198.201".into(),
        address: address.into(),
        id: format!("{node}:{service}:{port}"),
        name: service.into(),
        port,
        status,
        ..ServiceInstance::default()
    }
}

/// The catalog of the book's prod node after a blue deploy.
fn books_snapshot() -> Snapshot {
    let mut snap = Snapshot::new();
    // Given out of order: consul-template sorts instances by node, then ID.
    snap.set_service(
        "books-ms-blue",
        vec![
            instance("books-ms-blue", "prod", "127.0.0.3", 32769, HealthState::Passing),
            instance("books-ms-blue", "prod", "127.0.0.3", 32768, HealthState::Passing),
        ],
    );
    snap.set_service("books-ms-green", vec![]);
    snap.set_service(
        "books-ms",
        vec![
            instance("books-ms", "prod", "10.100.198.201", 32771, HealthState::Critical),
            instance("books-ms", "prod", "10.100.198.201", 32770, HealthState::Passing),
        ],
    );
    snap.set_service(
        "nginx-80",
        vec![
            instance("nginx-80", "proxy", "10.100.198.200", 80, HealthState::Passing),
            instance("nginx-80", "proxy2", "10.100.198.202", 80, HealthState::Critical),
        ],
    );
    snap.set_key("proxy/ip", Some("10.100.198.201".into()));
    // Consul answered 404 for this one.
    snap.set_key("nope", None);
    snap
}

fn fixture(name: &str) -> Arc<SourceFile> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ctmpl")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    SourceFile::new(format!("tests/fixtures/ctmpl/{name}"), text)
}

fn done(template: &Template, catalog: &dyn Catalog) -> String {
    match template.render_with(catalog, &context()) {
        Ok(Rendered::Done(text)) => text,
        other => panic!("expected text, got {other:?}"),
    }
}

fn render_fixture(name: &str, snap: &Snapshot) -> String {
    let template = Template::parse(&fixture(name)).unwrap_or_else(|e| panic!("{}", e.render()));
    done(&template, snap)
}

/// Renders `src` against the books-ms snapshot.
fn render(src: &str) -> String {
    render_in(src, &books_snapshot())
}

fn render_in(src: &str, snap: &Snapshot) -> String {
    let template = Template::parse(&SourceFile::new("t.ctmpl", src)).unwrap_or_else(|e| panic!("{}", e.render()));
    done(&template, snap)
}

/// The one-line message of a parse or render error.
fn error(src: &str) -> String {
    let file = SourceFile::new("t.ctmpl", src);
    match Template::parse(&file) {
        Err(e) => e.to_string(),
        Ok(t) => match t.render_with(&books_snapshot(), &context()) {
            Err(e) => e.to_string(),
            Ok(r) => panic!("expected an error from {src:?}, got {r:?}"),
        },
    }
}

/// The full error text: message, quoted line with caret, help.
fn full_error(src: &str) -> String {
    let file = SourceFile::new("t.ctmpl", src);
    match Template::parse(&file) {
        Err(e) => e.render(),
        Ok(t) => match t.render_with(&books_snapshot(), &context()) {
            Err(e) => e.render(),
            Ok(r) => panic!("expected an error from {src:?}, got {r:?}"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The book's files, byte for byte.
// ---------------------------------------------------------------------------------------------

#[test]
fn nginx_upstreams_blue() {
    // No action trims whitespace, so everything around the actions stays: the four spaces before
    // `{{range}}` are printed once, then each instance prints the body of the range, which is
    // the newline after `{{range ...}}`, `    server ...;`, a newline and the four spaces before
    // `{{end}}`; the newline after `{{end}}` and `}` close the file. Instances come sorted by node
    // then ID, so :32768 before :32769 although they were registered the other way round.
    assert_eq!(
        render_fixture("nginx-upstreams-blue.ctmpl", &books_snapshot()),
        "upstream books-ms {\n    \n    server 127.0.0.3:32768;\n    \n    server 127.0.0.3:32769;\n    \n}\n"
    );
}

#[test]
fn nginx_upstreams_green() {
    // No green instance: the range body never runs, leaving the four spaces before `{{range}}`
    // and the newline after `{{end}}` on their own line.
    assert_eq!(
        render_fixture("nginx-upstreams-green.ctmpl", &books_snapshot()),
        "upstream books-ms {\n    \n}\n"
    );
    let mut snap = books_snapshot();
    snap.set_service(
        "books-ms-green",
        vec![instance(
            "books-ms-green",
            "prod",
            "127.0.0.3",
            32772,
            HealthState::Warning,
        )],
    );
    // `"any"` keeps the warning instance; same whitespace as the blue file, one instance.
    assert_eq!(
        render_fixture("nginx-upstreams-green.ctmpl", &snap),
        "upstream books-ms {\n    \n    server 127.0.0.3:32772;\n    \n}\n"
    );
}

#[test]
fn nginx_upstreams() {
    // `"any"` also keeps the critical instance (:32771). Whitespace as in the blue file.
    assert_eq!(
        render_fixture("nginx-upstreams.ctmpl", &books_snapshot()),
        "upstream books-ms {\n    \n    server 10.100.198.201:32770;\n    \n    server 10.100.198.201:32771;\n    \n}\n"
    );
}

#[test]
fn haproxy() {
    // The file starts with an empty line, which stays. As in the nginx files, each instance
    // prints a newline, the `server` line, a newline and the four spaces before `{{end}}`; the
    // file ends with the newline after `{{end}}`. `.Node` is the Consul node name.
    assert_eq!(
        render_fixture("haproxy.ctmpl", &books_snapshot()),
        "\nfrontend books-ms-fe\n    bind *:80\n    option http-server-close\n    acl url_books-ms path_beg /api/v1/books\n    use_backend books-ms-be if url_books-ms\n\nbackend books-ms-be\n    \n    server prod_32770 10.100.198.201:32770 check\n    \n    server prod_32771 10.100.198.201:32771 check\n    \n"
    );
}

#[test]
fn consul_check() {
    // Both `{{key "proxy/ip"}}` become the value; the file has no final newline and gets none.
    assert_eq!(
        render_fixture("consul_check.ctmpl", &books_snapshot()),
        "{\n  \"service\": {\n    \"name\": \"books-ms\",\n    \"tags\": [\"service\"],\n    \"port\": 80,\n    \"address\": \"10.100.198.201\",\n    \"checks\": [{\n      \"id\": \"api\",\n      \"name\": \"HTTP on port 80\",\n      \"http\": \"http://10.100.198.201/api/v1/books\",\n      \"interval\": \"10s\",\n      \"timeout\": \"1s\",\n      \"status\": \"passing\"\n    }]\n  }\n}"
    );
}

#[test]
fn consul_template_role_examples() {
    // `service "nginx-80"` without a filter keeps passing instances only, so proxy2 (critical)
    // is left out. The text before `{{range}}` is empty; the body is the newline after
    // `{{range}}`, the address line and its newline; the newline after `{{end}}` ends the file.
    let want = "\nThe address is 10.100.198.200:80\n\n";
    assert_eq!(render_fixture("example.ctmpl", &books_snapshot()), want);
    assert_eq!(render_fixture("example2.ctmpl", &books_snapshot()), want);
}

#[test]
fn fixtures_snapshots() {
    let mut names: Vec<String> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ctmpl"))
            .expect("fixtures")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".ctmpl"))
            .collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        insta::assert_snapshot!(name.clone(), render_fixture(&name, &books_snapshot()));
    }
}

#[test]
fn fixtures_ask_for_their_data_first() {
    let template = Template::parse(&fixture("nginx-upstreams-blue.ctmpl")).expect("parses");
    assert_eq!(
        template.render(&Snapshot::new()).expect("renders"),
        Rendered::NeedsData(vec![Dependency::Service {
            name: "books-ms-blue".into(),
            tag: None,
            states: HealthState::ALL.to_vec()
        }])
    );
    let template = Template::parse(&fixture("consul_check.ctmpl")).expect("parses");
    // Asked twice in the file, needed once.
    assert_eq!(
        template.render(&Snapshot::new()).expect("renders"),
        Rendered::NeedsData(vec![Dependency::Key("proxy/ip".into())])
    );
}

// ---------------------------------------------------------------------------------------------
// Dependency rounds.
// ---------------------------------------------------------------------------------------------

#[test]
fn nested_dependencies_resolve_in_rounds() {
    let src = "{{range services}}{{.Name}}:{{range service .Name}} {{.Address}}:{{.Port}}{{end}}\n{{end}}";
    let template = Template::parse(&SourceFile::new("all.ctmpl", src)).expect("parses");
    let mut snap = Snapshot::new();

    // Round 1: only the catalog is asked for; the inner range runs zero times.
    assert_eq!(
        template.render(&snap).expect("renders"),
        Rendered::NeedsData(vec![Dependency::Services])
    );
    snap.set_services(vec![
        CatalogService {
            name: "web".into(),
            tags: vec!["v2".into(), "v1".into()],
        },
        CatalogService {
            name: "db".into(),
            tags: vec![],
        },
    ]);

    // Round 2: each service, in catalog order (sorted by name).
    let passing = vec![HealthState::Passing];
    assert_eq!(
        template.render(&snap).expect("renders"),
        Rendered::NeedsData(vec![
            Dependency::Service {
                name: "db".into(),
                tag: None,
                states: passing.clone()
            },
            Dependency::Service {
                name: "web".into(),
                tag: None,
                states: passing
            },
        ])
    );
    snap.set_service("db", vec![instance("db", "n1", "10.0.0.9", 5432, HealthState::Passing)]);
    snap.set_service(
        "web",
        vec![
            instance("web", "n2", "10.0.0.2", 80, HealthState::Passing),
            instance("web", "n1", "10.0.0.1", 80, HealthState::Passing),
        ],
    );

    // Round 3: done.
    assert_eq!(
        template.render(&snap).expect("renders"),
        Rendered::Done("db: 10.0.0.9:5432\nweb: 10.0.0.1:80 10.0.0.2:80\n".into())
    );
}

#[test]
fn missing_data_renders_empty_and_is_listed_once() {
    let template = Template::parse(&SourceFile::new(
        "t",
        r#"{{key "a"}}{{key "/a"}}{{keyOrDefault "b" "x"}}{{tree "c"}}{{ls "c"}}{{nodes}}"#,
    ))
    .expect("parses");
    assert_eq!(
        template.render(&Snapshot::new()).expect("renders"),
        Rendered::NeedsData(vec![
            Dependency::Key("a".into()),
            Dependency::Key("b".into()),
            Dependency::Tree("c".into()),
            Dependency::Ls("c".into()),
            Dependency::Nodes,
        ])
    );
    assert_eq!(
        Rendered::NeedsData(vec![Dependency::Key("a".into()), Dependency::Services]).to_string(),
        "needs key(a), services"
    );
}

// ---------------------------------------------------------------------------------------------
// Go's text/template.
// ---------------------------------------------------------------------------------------------

#[test]
fn trim_markers() {
    // `{{-` eats every space, tab and newline before it; `-}}` every one after it.
    assert_eq!(render("a \n\t {{- 1 -}} \n\n b"), "a1b");
    assert_eq!(render("a {{- 1}} b"), "a1 b");
    assert_eq!(render("a {{1 -}}\n  b"), "a 1b");
    // The dash needs a space: `{{-1}}` is the number -1.
    assert_eq!(render("a {{-1}} b"), "a -1 b");
    // Comments vanish, trimming too.
    assert_eq!(render("a {{/* note */}} b"), "a  b");
    assert_eq!(render("a\n{{- /* note */ -}}\nb"), "ab");
    // The usual idiom: one upstream line per instance, no blank lines.
    assert_eq!(
        render("upstream x {\n{{- range service \"books-ms-blue\"}}\n  server {{.Address}}:{{.Port}};\n{{- end}}\n}\n"),
        "upstream x {\n  server 127.0.0.3:32768;\n  server 127.0.0.3:32769;\n}\n"
    );
}

#[test]
fn range_else_break_continue() {
    assert_eq!(
        render(r#"{{range service "books-ms-green"}}x{{else}}none{{end}}"#),
        "none"
    );
    assert_eq!(
        render(r#"{{range $i, $s := service "books-ms-blue"}}{{$i}}={{$s.Port}} {{end}}"#),
        "0=32768 1=32769 "
    );
    assert_eq!(
        render(r#"{{range $p := split "," "a,b,c"}}{{if eq $p "b"}}{{continue}}{{end}}{{$p}}{{end}}"#),
        "ac"
    );
    assert_eq!(
        render(r#"{{range split "," "a,b,c"}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}"#),
        "a"
    );
    // Maps range in key order, giving key and value.
    assert_eq!(
        render(r#"{{range $k, $v := parseJSON "{\"b\":1,\"a\":[2]}"}}{{$k}}={{$v}};{{end}}"#),
        "a=[2];b=1;"
    );
    // nil ranges zero times.
    assert_eq!(render(r#"{{range (parseJSON "{}").none}}x{{else}}e{{end}}"#), "e");
    assert_eq!(render("{{range 3}}{{.}}{{end}}"), "012");
}

#[test]
fn conditionals() {
    let src = r#"{{range split "," "1,5,10"}}{{$n := parseInt .}}{{if lt $n 2}}small{{else if lt $n 8}}mid{{else}}big{{end}} {{end}}"#;
    assert_eq!(render(src), "small mid big ");
    assert_eq!(
        render(r#"{{with key "proxy/ip"}}ip={{.}}{{else}}none{{end}}"#),
        "ip=10.100.198.201"
    );
    assert_eq!(render(r#"{{with keyOrDefault "nope" ""}}x{{else}}none{{end}}"#), "none");
    // Go's truth: empty string, 0, false, nil, empty list and map are false.
    assert_eq!(
        render(
            r#"{{if ""}}1{{end}}{{if 0}}2{{end}}{{if 0.0}}3{{end}}{{if false}}4{{end}}{{if service "books-ms-green"}}5{{end}}{{if parseJSON ""}}6{{end}}{{if "x"}}7{{end}}{{if service "books-ms-blue"}}8{{end}}"#
        ),
        "78"
    );
    assert_eq!(
        render(r#"{{if and (key "proxy/ip") (not (keyExists "nope"))}}yes{{end}}"#),
        "yes"
    );
}

#[test]
fn variables_and_scopes() {
    assert_eq!(
        render("{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{$y}}{{end}}{{$x}}"),
        "32"
    );
    assert_eq!(
        render(r#"{{range service "books-ms-blue"}}{{$.Missing}}{{end}}"#),
        "<no value><no value>"
    );
    assert_eq!(
        render(r#"{{$s := service "books-ms-blue"}}{{(index $s 1).Port}} {{len $s}}"#),
        "32769 2"
    );
    assert_eq!(render(r#"{{with $x := "a"}}{{$x}}{{.}}{{end}}"#), "aa");
}

#[test]
fn printing_like_go_fmt() {
    assert_eq!(
        render("{{1.5}} {{1e6}} {{3}} {{0x1F}} {{'a'}} {{true}} {{-0.25}}"),
        "1.5 1e+06 3 31 97 true -0.25"
    );
    assert_eq!(render(r#"{{"tab\there"}} {{`raw\n`}}"#), "tab\there raw\\n");
    assert_eq!(
        render(r#"{{parseJSON "{\"a\":[1,\"x\",null,true],\"b\":{\"c\":2.5}}"}}"#),
        "map[a:[1 x <nil> true] b:map[c:2.5]]"
    );
    // A missing map key prints `<no value>` in an action, but is nil to a function.
    assert_eq!(
        render(r#"{{(parseJSON "{}").k}} {{print (parseJSON "{}").k}}"#),
        "<no value> <nil>"
    );
    assert_eq!(
        render(r#"{{service "books-ms-blue" | len}} {{(index (service "books-ms-blue") 0).Tags}}"#),
        "2 []"
    );
    assert_eq!(render("{{.}}"), "<no value>");
}

#[test]
fn pipelines_pass_the_value_last() {
    assert_eq!(render(r#"{{"a, b" | split ", " | join ";"}}"#), "a;b");
    // `printf "%s-%d" 5 "x"`: the piped value is the last argument.
    assert_eq!(render(r#"{{"x" | printf "%s-%d" 5}}"#), "%!s(int=5)-%!d(string=x)");
    assert_eq!(
        render(
            r#"{{5 | subtract 2}} {{subtract 2 5}} {{divide 2 7}} {{divide 2 7.0}} {{multiply 2 1.5}} {{add 1 2}} {{modulo 3 10}}"#
        ),
        "3 3 3 3.5 3 3 1"
    );
    assert_eq!(
        render(r#"{{"b" | replaceAll "b" "c"}} {{replaceAll "." "_" "a.b.c"}}"#),
        "c a_b_c"
    );
    assert_eq!(render(r#"{{(parseJSON "{\"a\":{\"b\":\"deep\"}}").a.b}}"#), "deep");
}

#[test]
fn comparisons_and_logic() {
    assert_eq!(
        render("{{eq 2 1 2 3}} {{eq 2 1 3}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}"),
        "true false true true true true false"
    );
    assert_eq!(
        render(r#"{{or "" "x"}} {{and 1 0 2}} {{or 0 ""}}|{{not 0}}"#),
        "x 0 |true"
    );
    // `or` stops at the first true value: the failing `index` never runs.
    assert_eq!(render(r#"{{or 1 (index (split "," "") 5)}}"#), "1");
    assert_eq!(
        render(r#"{{if eq (key "proxy/ip") "10.100.198.201"}}same{{end}}"#),
        "same"
    );
}

#[test]
fn string_helpers() {
    assert_eq!(
        render(
            r#"{{toLower "AbC"}} {{toUpper "abc"}} {{toTitle "hello wide world"}} [{{trimSpace "  x \n"}}] {{trimPrefix "v" "v1.2"}} {{trimSuffix ".ctmpl" "a.ctmpl"}} {{trim "-" "--x--"}}"#
        ),
        "abc ABC Hello Wide World [x] 1.2 a x"
    );
    assert_eq!(
        render(r#"{{regexReplaceAll "(\\d+)" "<$1>" "port 8080"}} {{regexMatch "^books" "books-ms"}}"#),
        "port <8080> true"
    );
    assert_eq!(
        render(r#"{{"books-ms" | contains "ms"}} {{in "books-ms" "xx"}} {{split "," "a,b" | contains "b"}}"#),
        "true false true"
    );
    assert_eq!(render(r#"{{split "," "  "}} {{len (split "," " a,b ")}}"#), "[] 2");
    assert_eq!(render(r#"{{"a\nb" | indent 2}}"#), "  a\n  b");
    assert_eq!(
        render(r#"{{printf "%-6s|%5.2f|%03d|%q|%v|%x" "ab" 3.14159 7 "q" (split "," "a,b") 255}}"#),
        "ab    | 3.14|007|\"q\"|[a b]|ff"
    );
    assert_eq!(render(r#"{{print "a" 1 2 "b"}} {{println "x" 1}}"#), "a1 2b x 1\n");
    assert_eq!(
        render(r#"{{html "<a href='x'>"}} {{urlquery "a b&c"}} {{js "it's"}}"#),
        "&lt;a href=&#39;x&#39;&gt; a+b%26c it\\'s"
    );
    assert_eq!(
        render(r#"{{index "abc" 1}} {{slice "abcdef" 1 3}} {{slice (split "," "a,b,c") 1}}"#),
        "98 bc [b c]"
    );
}

#[test]
fn conversions_and_json() {
    assert_eq!(
        render(
            r#"{{parseInt "42" | add 1}} {{parseBool "true"}} {{parseFloat "1.25"}} {{parseUint "7"}} {{parseInt ""}}"#
        ),
        "43 true 1.25 7 0"
    );
    assert_eq!(
        render(r#"{{toJSON (parseJSON "{\"b\":[1,2],\"a\":\"<&>\"}")}}"#),
        r#"{"a":"\u003c\u0026\u003e","b":[1,2]}"#
    );
    assert_eq!(
        render(r#"{{toJSONPretty (split "," "a,b")}}"#),
        "[\n  \"a\",\n  \"b\"\n]"
    );
    assert_eq!(
        render(r#"{{range service "books-ms-blue"}}{{toJSON .Tags}}{{toJSON .ServiceMeta}}{{end}}"#),
        "[]{}[]{}"
    );
}

#[test]
fn consul_helpers() {
    let mut snap = books_snapshot();
    snap.set_prefix(
        "services",
        vec![
            ("services/".into(), String::new()),
            ("services/books-ms/color".into(), "blue".into()),
            ("services/books-ms/port".into(), "8080".into()),
            ("services/nginx".into(), "on".into()),
        ],
    );
    snap.set_nodes(vec![
        Node {
            node: "prod".into(),
            address: "10.100.198.201".into(),
            ..Node::default()
        },
        Node {
            node: "cd".into(),
            address: "10.100.198.200".into(),
            ..Node::default()
        },
    ]);
    snap.set_services(vec![
        CatalogService {
            name: "books-ms".into(),
            tags: vec!["blue".into(), "api".into()],
        },
        CatalogService {
            name: "consul".into(),
            tags: vec![],
        },
        CatalogService {
            name: "nginx".into(),
            tags: vec!["api".into()],
        },
    ]);
    assert_eq!(
        render_in(r#"{{range ls "services"}}{{.Key}}={{.Value}} {{end}}"#, &snap),
        "nginx=on "
    );
    assert_eq!(
        render_in(r#"{{range tree "/services"}}{{.Key}}|{{.Path}} {{end}}"#, &snap),
        "books-ms/color|services/books-ms/color books-ms/port|services/books-ms/port nginx|services/nginx "
    );
    assert_eq!(
        render_in(
            r#"{{range $k, $pairs := tree "services" | byKey}}{{$k}}:{{range $pairs}} {{.Key}}={{.Value}}{{end}};{{end}}"#,
            &snap
        ),
        "books-ms: color=blue port=8080;"
    );
    assert_eq!(
        render_in(
            r#"{{(tree "services" | explode).books}}|{{(tree "services" | explode)}}"#,
            &snap
        ),
        "<no value>|map[books-ms:map[color:blue port:8080] nginx:on]"
    );
    assert_eq!(
        render_in(
            r#"{{range $tag, $s := services | byTag}}{{$tag}}={{range $s}}{{.Name}},{{end}} {{end}}"#,
            &snap
        ),
        "api=books-ms,nginx, blue=books-ms, "
    );
    assert_eq!(
        render_in("{{range nodes}}{{.Node}}@{{.Address}} {{end}}", &snap),
        "cd@10.100.198.200 prod@10.100.198.201 "
    );
    assert_eq!(
        render_in(
            r#"{{keyOrDefault "nope" "dflt"}} {{keyExists "proxy/ip"}} {{keyExists "nope"}} [{{key "nope"}}]"#,
            &snap
        ),
        "dflt true false []"
    );
    assert_eq!(
        render_in(
            r#"{{range services}}{{if .Tags.Contains "api"}}{{.Name}} {{end}}{{end}}"#,
            &snap
        ),
        "books-ms nginx "
    );
    assert_eq!(
        render_in(
            r#"{{range service "books-ms|passing,warning"}}{{.Port}}{{end}} {{range service "books-ms" "critical"}}{{.Status}}{{end}}"#,
            &snap
        ),
        "32770 critical"
    );
}

#[test]
fn service_tags_and_meta() {
    let mut snap = Snapshot::new();
    let mut blue = instance("web", "n1", "10.0.0.1", 80, HealthState::Passing);
    blue.tags = vec!["blue".into(), "api".into()];
    blue.service_meta.insert("version".into(), "1.2".into());
    let green = instance("web", "n2", "10.0.0.2", 81, HealthState::Passing);
    snap.set_service("web", vec![blue, green]);
    assert_eq!(
        render_in(
            r#"{{range service "blue.web"}}{{.Port}} {{.Tags}} {{.ServiceMeta.version}} {{index .ServiceMeta "none"}}|{{.ServiceMeta.none}}{{end}}"#,
            &snap
        ),
        "80 [api blue] 1.2 |<no value>"
    );
    assert_eq!(
        render_in(
            r#"{{range service "web"}}{{.ID}} {{.Status}} {{.NodeAddress}};{{end}}"#,
            &snap
        ),
        "n1:web:80 passing 10.100.198.201;n2:web:81 passing 10.100.198.201;"
    );
    assert_eq!(
        render_in(r#"{{with index (service "web") 0}}{{.}}{{end}}"#, &snap),
        "{n1  10.100.198.201  map[] map[] map[version:1.2] 10.0.0.1 n1:web:80 web [api blue] passing 80}"
    );
}

#[test]
fn env_and_timestamp() {
    assert_eq!(
        render(r#"{{env "BG_COLOR"}} [{{env "UNSET"}}] {{envOrDefault "UNSET" "d"}} [{{envOrDefault "EMPTY" "d"}}]"#),
        "blue [] d []"
    );
    assert_eq!(
        render(r#"{{timestamp}} {{timestamp "unix"}} {{timestamp "2006-01-02 15:04"}}"#),
        "2016-02-29T13:04:05Z 1456751045 2016-02-29 13:04"
    );
    assert_eq!(
        error(r#"{{mustEnv "EMPTY"}}"#),
        "t.ctmpl:1:3: required environment variable EMPTY is empty"
    );
}

#[test]
fn define_template_block() {
    let src = "{{define \"srv\"}}server {{.Address}}:{{.Port}};{{end}}\n{{- range service \"books-ms-blue\"}}\n{{template \"srv\" .}}{{end}}\n{{block \"tail\" 1}}tail {{.}}{{end}}";
    assert_eq!(
        render(src),
        "\nserver 127.0.0.3:32768;\nserver 127.0.0.3:32769;\ntail 1"
    );
    assert_eq!(error(r#"{{template "nope"}}"#), "t.ctmpl:1:1: no template named `nope`");
}

// ---------------------------------------------------------------------------------------------
// Error messages.
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_function_suggests_the_right_one() {
    assert_eq!(
        full_error("upstream {\n  {{range servce \"books-ms\"}}\n"),
        "error: t.ctmpl:2:11: unknown function `servce`\n  |\n2 |   {{range servce \"books-ms\"}}\n  |           ^\nhelp: did you mean `service`?"
    );
    assert_eq!(error("{{ toupper \"x\" }}"), "t.ctmpl:1:4: unknown function `toupper`");
    assert!(full_error("{{ toupper \"x\" }}").ends_with("help: did you mean `toUpper`?"));
    assert!(full_error("{{ frobnicate }}").contains("help: bgrun knows Go's built-in template functions"));
}

#[test]
fn unsupported_functions_are_named() {
    assert_eq!(
        full_error("password={{with secret \"secret/db\"}}{{.Data.password}}{{end}}"),
        "error: t.ctmpl:1:17: `secret` is a consul-template function bgrun does not support\n  |\n1 | password={{with secret \"secret/db\"}}{{.Data.password}}{{end}}\n  |                 ^\nhelp: it reads Vault, which bgrun does not talk to; remove the call, or render this file with consul-template itself"
    );
    assert_eq!(
        error("{{vault \"x\"}}"),
        "t.ctmpl:1:3: `vault` is a consul-template function bgrun does not support"
    );
    assert_eq!(
        error("{{file \"/etc/hosts\"}}"),
        "t.ctmpl:1:3: `file` is a consul-template function bgrun does not support"
    );
    assert_eq!(
        error("{{call .F}}"),
        "t.ctmpl:1:3: `call` is a Go template function bgrun does not support"
    );
    assert_eq!(
        full_error("The address is {{getv \"/nginx-80/nginx\"}}\n"),
        "error: t.ctmpl:1:18: `getv` is a confd function, not a consul-template one\n  |\n1 | The address is {{getv \"/nginx-80/nginx\"}}\n  |                  ^\nhelp: consul-template writes `key \"path\"`"
    );
}

#[test]
fn syntax_errors_point_at_the_action() {
    let cases: &[(&str, &str)] = &[
        (
            "a\n  {{ key \"x\"\n",
            "t.ctmpl:2:3: this `{{` is never closed with `}}`",
        ),
        (
            "{{range service \"x\"}}\nfoo\n",
            "t.ctmpl:1:1: this `{{range}}` is never closed",
        ),
        (
            "x\n{{if true}}{{else}}{{else}}{{end}}",
            "t.ctmpl:2:20: a second `{{else}}` in one `{{if}}`",
        ),
        ("x {{end}}", "t.ctmpl:1:3: `{{end}}` closes nothing"),
        (
            "{{else}}",
            "t.ctmpl:1:1: `{{else}}` outside `{{if}}`, `{{range}}` or `{{with}}`",
        ),
        ("{{$x}}", "t.ctmpl:1:3: undefined variable `$x`"),
        ("{{\"abc}}", "t.ctmpl:1:3: this string is never closed with `\"`"),
        (
            "{{`abc}}",
            "t.ctmpl:1:3: this raw string is never closed with a backquote",
        ),
        ("{{\"\\q\"}}", "t.ctmpl:1:3: invalid escape `\\q` in a quoted string"),
        (
            "{{/* x */ y}}",
            "t.ctmpl:1:1: a comment must end with `*/}}` (nothing may come between `*/` and `}}`)",
        ),
        ("{{/* x }}", "t.ctmpl:1:1: this comment is never closed with `*/}}`"),
        ("{{break}}", "t.ctmpl:1:3: `{{break}}` outside `{{range}}`"),
        (
            "{{ . | \"x\" }}",
            "t.ctmpl:1:8: stage 2 of the pipeline is not a function",
        ),
        ("{{ 1x }}", "t.ctmpl:1:4: bad number syntax: `1x`"),
        ("{{ 3 4 }}", "t.ctmpl:1:4: a literal cannot take arguments"),
        ("{{ }}", "t.ctmpl:1:4: missing value for command"),
        ("{{ key | }}", "t.ctmpl:1:10: missing command after `|`"),
        ("{{ (key \"x\" }}", "t.ctmpl:1:4: this `(` is never closed with `)`"),
        ("{{ key \"x\") }}", "t.ctmpl:1:11: this `)` has no `(` to close"),
        ("{{ key\u{1} }}", "t.ctmpl:1:7: unexpected character '\\u{1}' in a name"),
        (
            "{{ \u{1} }}",
            "t.ctmpl:1:4: character '\\u{1}' (U+0001) cannot appear in an action",
        ),
        ("{{ foo-bar }}", "t.ctmpl:1:7: unexpected character '-' in a name"),
        (
            "{{range $i, $e, $f := .}}{{end}}",
            "t.ctmpl:1:15: too many declarations in range",
        ),
        ("{{if}}{{end}}", "t.ctmpl:1:5: missing value for if"),
        (
            "{{ if 1 }}{{define \"x\"}}{{end}}{{end}}",
            "t.ctmpl:1:13: `{{define}}` inside a block",
        ),
        (
            "{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}",
            "t.ctmpl:1:23: template `a` is defined twice",
        ),
        ("{{template x}}", "t.ctmpl:1:12: unexpected `x` in `{{template}}`"),
        ("é {{ 1 | }}", "t.ctmpl:1:10: missing command after `|`"),
    ];
    for (src, want) in cases {
        assert_eq!(&error(src), want, "{src:?}");
    }
    assert_eq!(
        full_error("{{$abc := 1}}{{$abd}}"),
        "error: t.ctmpl:1:16: undefined variable `$abd`\n  |\n1 | {{$abc := 1}}{{$abd}}\n  |                ^\nhelp: did you mean `$abc`?"
    );
}

#[test]
fn render_errors_point_at_the_call() {
    let cases: &[(&str, &str)] = &[
        (
            "{{range service \"books-ms-blue\"}}\n  {{.Adress}}\n{{end}}",
            "t.ctmpl:2:5: `.Adress` is not a field of a service instance",
        ),
        (
            "{{ toLower 5 }}",
            "t.ctmpl:1:4: argument 1 of `toLower` must be a string, got int `5`",
        ),
        ("{{ join \",\" }}", "t.ctmpl:1:4: `join` takes 2 arguments, got 1"),
        (
            "{{ \"a\" | join \",\" }}",
            "t.ctmpl:1:10: argument 2 of `join` must be a list of strings, got string `a`",
        ),
        (
            "{{ service \"web@dc2\" }}",
            "t.ctmpl:1:4: bgrun does not support a datacenter (`@dc`) in `service` queries, as in \"web@dc2\"",
        ),
        (
            "{{ service \"web|bogus\" }}",
            "t.ctmpl:1:4: `service` health filter `bogus` is not a state",
        ),
        (
            "{{ service \"web\" \"any,passing\" }}",
            "t.ctmpl:1:4: `service` filter \"web|any,passing\" mixes `any` with other states",
        ),
        (
            "{{ service \"web site\" }}",
            "t.ctmpl:1:4: `service` query \"web site\" is not valid",
        ),
        (
            "{{ key \"a@dc1\" }}",
            "t.ctmpl:1:4: bgrun does not support datacenter queries like `key \"a@dc1\"`",
        ),
        (
            "{{ services \"@dc1\" }}",
            "t.ctmpl:1:4: bgrun does not support datacenter queries like `services \"@dc1\"`",
        ),
        (
            "{{ range \"abc\" }}{{end}}",
            "t.ctmpl:1:10: `range` cannot iterate over string `abc`",
        ),
        (
            "{{ index (split \",\" \"a\") 3 }}",
            "t.ctmpl:1:4: index out of range: 3",
        ),
        (
            "{{ eq \"a\" 1 }}",
            "t.ctmpl:1:4: incompatible types for comparison: string `a` and int `1`",
        ),
        ("{{ lt true false }}", "t.ctmpl:1:4: cannot order bool"),
        (
            "{{ parseInt \"x1\" }}",
            "t.ctmpl:1:4: parseInt: strconv.ParseInt: parsing \"x1\": invalid syntax",
        ),
        ("{{ divide 0 1 }}", "t.ctmpl:1:4: divide: division by zero"),
        ("{{ add \"1\" 2 }}", "t.ctmpl:1:4: `add` needs numbers, got string `1`"),
        (
            "{{ parseJSON \"{\" }}",
            "t.ctmpl:1:4: parseJSON: EOF while parsing an object at line 1 column 1",
        ),
        (
            "{{ regexMatch \"(\" \"x\" }}",
            "t.ctmpl:1:4: invalid regular expression \"(\": regex parse error:\n    (\n    ^\nerror: unclosed group",
        ),
        ("{{ \"x\".Foo }}", "t.ctmpl:1:4: a field cannot follow a literal"),
        (
            "{{ (key \"proxy/ip\").Foo }}",
            "t.ctmpl:1:4: cannot read `.Foo` of string `10.100.198.201`",
        ),
        ("{{ len 3 }}", "t.ctmpl:1:4: `len` of int `3`"),
        ("{{ nil }}", "t.ctmpl:1:4: `nil` is not a command"),
        (
            "{{ $x := 1 }}{{ $x 2 }}",
            "t.ctmpl:1:17: this value cannot take arguments, it is not a function",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(&error(src), want, "{src:?}");
    }
    assert!(
        full_error("{{range service \"books-ms-blue\"}}{{.Adress}}{{end}}").ends_with("help: did you mean `.Address`?")
    );
    assert!(
        full_error("{{ toLower 5 }}").ends_with("help: write `text | toLower` (a piped value is the last argument)")
    );
}

// ---------------------------------------------------------------------------------------------
// Garbage in, errors out, never a panic.
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parses and renders (a few rounds, filling what is asked for) without caring about the result.
fn exercise(src: &str) {
    let file = SourceFile::new("fuzz.ctmpl", src);
    let Ok(template) = Template::parse(&file) else {
        return;
    };
    let mut snap = books_snapshot();
    for _ in 0..3 {
        match template.render_with(&snap, &context()) {
            Ok(Rendered::NeedsData(deps)) => {
                for dep in deps {
                    match dep {
                        Dependency::Service { name, .. } => {
                            snap.set_service(&name, vec![instance(&name, "n", "10.0.0.1", 80, HealthState::Passing)])
                        }
                        Dependency::Key(path) => snap.set_key(&path, Some("v".into())),
                        Dependency::Ls(prefix) | Dependency::Tree(prefix) => {
                            snap.set_prefix(&prefix, vec![(format!("{prefix}/a/b"), "1".into())])
                        }
                        Dependency::Services => snap.set_services(vec![CatalogService {
                            name: "s".into(),
                            tags: vec!["t".into()],
                        }]),
                        Dependency::Nodes => snap.set_nodes(vec![Node::default()]),
                    }
                }
            }
            Ok(Rendered::Done(_)) | Err(_) => return,
        }
    }
}

const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "{{/*",
    "*/}}",
    "range ",
    "if ",
    "else ",
    "end",
    "with ",
    "define ",
    "template ",
    "block ",
    "break",
    "continue",
    "$x",
    "$",
    ":=",
    "=",
    ",",
    "|",
    "(",
    ")",
    ".",
    ".Name",
    ".Tags.Contains",
    "\"a\"",
    "\"b|any\"",
    "`raw`",
    "'c'",
    "1",
    "-2",
    "0x1f",
    "1.5e3",
    "true",
    "nil",
    " ",
    "\n",
    "service ",
    "services",
    "key ",
    "keyOrDefault ",
    "ls ",
    "tree ",
    "nodes",
    "printf ",
    "\"%d %s %v %5.2f %[2]q %*d\"",
    "index ",
    "len ",
    "slice ",
    "eq ",
    "lt ",
    "and ",
    "or ",
    "not ",
    "split ",
    "join ",
    "parseJSON ",
    "\"{\\\"a\\\":[1,{}]}\"",
    "toJSON ",
    "explode ",
    "byKey ",
    "byTag ",
    "regexReplaceAll ",
    "\"(a\"",
    "timestamp ",
    "\"2006 .999 Z07:00\"",
    "add ",
    "divide ",
    "0",
    "loop ",
    "indent ",
    "é",
    "\u{1}",
    "{",
    "}",
    "\"\\x",
    "\\",
];

#[test]
fn garbage_never_panics() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..30_000 {
        let mut src = String::new();
        for _ in 0..rng.below(24) {
            if rng.below(8) == 0 {
                src.push(char::from_u32(rng.below(0x250) as u32).unwrap_or('?'));
            } else {
                src.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            }
        }
        exercise(&src);
    }
}

#[test]
fn truncated_and_mutated_fixtures_never_panic() {
    let mut samples: Vec<String> = [
        "nginx-upstreams-blue.ctmpl",
        "haproxy.ctmpl",
        "consul_check.ctmpl",
        "example.ctmpl",
    ]
    .iter()
    .map(|name| fixture(name).text.clone())
    .collect();
    samples.push(
        "{{define \"t\"}}{{.}}{{end}}{{range $i, $s := service \"web|any\"}}{{if eq $i 0}}{{template \"t\" $s.Port}}{{else if $s.Tags.Contains \"x\"}}{{break}}{{end}}{{end}}{{with $j := parseJSON (key \"cfg\")}}{{toJSONPretty $j}}{{end}}{{printf \"%05.1f|%-4s|%x\" 3.14159 \"a\" \"hi\"}}".into(),
    );
    let mut rng = XorShift(42);
    for sample in &samples {
        let cuts: Vec<usize> = (0..=sample.len()).filter(|i| sample.is_char_boundary(*i)).collect();
        for &cut in &cuts {
            exercise(&sample[..cut]);
            exercise(&sample[cut..]);
        }
        for _ in 0..2_000 {
            let mut chars: Vec<char> = sample.chars().collect();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 => chars.insert(at, ['{', '}', '-', '"', '(', ')', '|', '$', '.', ' '][rng.below(10)]),
                    _ => {
                        if let Some(c) = chars.get_mut(at) {
                            *c = char::from_u32(rng.below(128) as u32).unwrap_or('x');
                        }
                    }
                }
            }
            exercise(&chars.into_iter().collect::<String>());
        }
    }
}

#[test]
fn runaway_templates_stop() {
    assert!(error("{{range 1000}}{{range 1000}}{{range 1000}}x{{end}}{{end}}{{end}}").contains("steps"));
    let deep = format!("{{{{{}1{}}}}}", "(".repeat(200), ")".repeat(200));
    assert!(error(&deep).contains("nest more than"));
    assert!(error("{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}").contains("more than 50 deep"));
    // Deep blocks inside a recursive template stop before the stack runs out.
    let deep = format!(
        "{{{{define \"a\"}}}}{}{{{{template \"a\"}}}}{}{{{{end}}}}{{{{template \"a\"}}}}",
        "{{if 1}}".repeat(90),
        "{{end}}".repeat(90)
    );
    assert!(
        error(&deep).contains("blocks nest more than 150 deep"),
        "{}",
        error(&deep)
    );
    // The deepest stack rendering allows: nested blocks, recursion and parentheses at once.
    let deepest = format!(
        "{{{{define \"a\"}}}}{}{{{{ {}1{} }}}}{{{{template \"a\"}}}}{}{{{{end}}}}{{{{template \"a\"}}}}",
        "{{with 1}}".repeat(40),
        "(".repeat(58),
        ")".repeat(58),
        "{{end}}".repeat(40)
    );
    assert!(error(&deepest).contains("more than 150 deep"), "{}", error(&deepest));
}

/// The example of the module's documentation: a first round asks for the data, a second renders.
#[test]
fn two_rounds_as_documented() {
    use super::{Dependency, HealthState, Rendered, ServiceInstance, Snapshot, Template};
    let file = SourceFile::new("up.ctmpl", "{{range service \"web\"}}{{.Address}}:{{.Port}} {{end}}");
    let template = Template::parse(&file).unwrap();
    let mut snapshot = Snapshot::new();
    let Ok(Rendered::NeedsData(deps)) = template.render(&snapshot) else {
        panic!("the first round asks for data")
    };
    assert_eq!(
        deps,
        [Dependency::Service {
            name: "web".into(),
            tag: None,
            states: vec![HealthState::Passing]
        }]
    );
    let web = ServiceInstance {
        address: "10.0.0.5".into(),
        port: 8080,
        ..Default::default()
    };
    snapshot.set_service("web", vec![web]);
    assert_eq!(
        template.render(&snapshot).unwrap(),
        Rendered::Done("10.0.0.5:8080 ".into())
    );
}
