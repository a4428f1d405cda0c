//! The filters and tests rendered through minijinja, against what Ansible renders.

use minijinja::value::Serde;

use super::*;
use minijinja::UndefinedBehavior;
use serde_json::json;

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    register(&mut env);
    env
}

fn vars() -> Value {
    Value::from(Serde(json!({
        "app": {
            "name": "web",
            "ports": [80, 443],
            "env": {"DEBUG": "no", "PATH": "/usr/bin:/bin"},
            "users": [{"name": "al", "groups": ["wheel", "adm"], "shell": null}],
            "empty": [],
            "ratio": 0.5,
            "motd": "line one\nline two",
            "note": "it's: fine"
        },
        "ok": {"changed": false, "failed": false, "rc": 0},
        "broken": {"changed": false, "failed": true, "rc": 2},
        "edited": {"changed": true, "rc": 0},
        "passed_over": {"changed": false, "skipped": true},
        "down": {"unreachable": true},
        "looped": {"results": [{"changed": false}, {"changed": true}]},
        "looped_quiet": {"results": [{"changed": false}]},
        "hosts": {"a": {"ip": "10.0.0.1"}, "b": {"ip": "10.0.0.2"}}
    })))
}

fn render(template: &str) -> String {
    env()
        .render_str(template, vars())
        .unwrap_or_else(|e| panic!("{template}: {e:#}"))
}

fn render_err(template: &str) -> String {
    match env().render_str(template, vars()) {
        Ok(out) => panic!("{template}: expected an error, got {out:?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_err(template: &str, expected: &str) {
    let message = render_err(template);
    assert!(
        message.contains(expected),
        "{template}: {message:?} does not contain {expected:?}"
    );
}

// Built-ins replaced or kept.

#[test]
fn bool_follows_ansible() {
    assert_eq!(
        render("{{ ['yes', 'On', '1', 'TRUE', 'y', 't', ' true '] | map('bool') | list }}"),
        "[True, True, True, True, True, True, True]"
    );
    assert_eq!(
        render("{{ ['no', 'off', '0', 'false', 'maybe', '', 'n'] | map('bool') | list }}"),
        "[False, False, False, False, False, False, False]"
    );
    assert_eq!(
        render("{{ [1, 1.0, 0, 2, true, false, none] | map('bool') | list }}"),
        "[True, True, False, False, True, False, False]"
    );
    assert_eq!(render("{% if 'yes' | bool %}on{% endif %}"), "on");
    assert_err("{{ missing | bool }}", "`missing` is undefined");
}

#[test]
fn int_follows_jinja2() {
    assert_eq!(render("{{ '08' | int }}"), "8");
    assert_eq!(render("{{ ' 42 ' | int + 1 }}"), "43");
    assert_eq!(
        render("{{ '3.7' | int }}|{{ -3.7 | int }}|{{ '1e3' | int }}"),
        "3|-3|1000"
    );
    assert_eq!(
        render("{{ 'abc' | int }}|{{ 'abc' | int(5) }}|{{ 'abc' | int(default=7) }}"),
        "0|5|7"
    );
    assert_eq!(
        render("{{ '0x1f' | int(base=16) }}|{{ '17' | int(0, 8) }}|{{ '1_000' | int }}"),
        "31|15|1000"
    );
    assert_eq!(render("{{ true | int }}|{{ none | int }}|{{ [1] | int }}"), "1|0|0");
    assert_err("{{ missing | int }}", "`missing` is undefined");
}

#[test]
fn float_follows_jinja2() {
    assert_eq!(
        render("{{ '1.5' | float }}|{{ 3 | float }}|{{ ' 2 ' | float }}"),
        "1.5|3.0|2.0"
    );
    assert_eq!(
        render("{{ 'abc' | float }}|{{ 'abc' | float(2.5) }}|{{ none | float }}"),
        "0.0|2.5|0.0"
    );
}

#[test]
fn minijinja_builtins_already_match_ansible() {
    assert_eq!(
        render("{{ '' | default('x', true) }}|{{ '' | default('x') }}|{{ missing | d('y') }}"),
        "x||y"
    );
    assert_eq!(
        render("{{ false | default('x', true) }}|{{ [] | d('none', true) }}"),
        "x|none"
    );
    assert_eq!(
        render("{{ [1, 2, 3] | join(',') }}|{{ [true, none] | join(' ') }}"),
        "1,2,3|True None"
    );
    assert_eq!(render("{{ app.users | map(attribute='name') | join }}"), "al");
    assert_eq!(
        render("{{ [{'x': 2}, {'x': 1}] | sort(attribute='x') | map(attribute='x') | list }}"),
        "[1, 2]"
    );
    assert_eq!(
        render("{{ ['b', 'A', 'a', 'c'] | sort }}|{{ [3, 1, 2] | sort(reverse=true) }}"),
        "['A', 'a', 'b', 'c']|[3, 2, 1]"
    );
    assert_eq!(render("{{ [1, 2, 1, 'a', 'A'] | unique }}"), "[1, 2, 'a']");
    assert_eq!(
        render("{{ [3, 1, 2] | min }}|{{ [3, 1, 2] | max }}|{{ 'héllo' | length }}|{{ app.ports | count }}"),
        "1|3|5|2"
    );
    assert_eq!(
        render("{{ true | lower }}|{{ 'Ab' | upper }}|{{ true | string }}|{{ none | string }}|{{ 1 | string }}"),
        "true|AB|True|None|1"
    );
    assert_eq!(render("{{ [1, 2] | zip(['a', 'b']) | list }}"), "[(1, 'a'), (2, 'b')]");
}

// Serialisation.

#[test]
fn to_json_spaces_like_python() {
    assert_eq!(
        render("{{ {'a': 1, 'b': [1, 2]} | to_json }}"),
        r#"{"a": 1, "b": [1, 2]}"#
    );
    assert_eq!(
        render("{{ app | to_json }}"),
        r#"{"name": "web", "ports": [80, 443], "env": {"DEBUG": "no", "PATH": "/usr/bin:/bin"}, "users": [{"name": "al", "groups": ["wheel", "adm"], "shell": null}], "empty": [], "ratio": 0.5, "motd": "line one\nline two", "note": "it's: fine"}"#
    );
    assert_eq!(
        render("{{ [1e20, 1.5e-7, 0.1 + 0.2, 2.0, 'é😀', '\x01', true, none] | to_json }}"),
        r#"[1e+20, 1.5e-07, 0.30000000000000004, 2.0, "\u00e9\ud83d\ude00", "\u0001", true, null]"#
    );
    assert_eq!(render("{{ 'é' | to_json(ensure_ascii=false) }}"), r#""é""#);
    assert_eq!(
        render("{{ {'b': 1, 'a': [1]} | to_json(sort_keys=true) }}"),
        r#"{"a": [1], "b": 1}"#
    );
    assert_eq!(
        render("{{ {'a': [1]} | to_json(indent=2) }}"),
        "{\n  \"a\": [\n    1\n  ]\n}"
    );
    assert_eq!(render("{{ {'a': 1} | to_json(separators=[',', ':']) }}"), r#"{"a":1}"#);
    assert_err("{{ missing | to_json }}", "`missing` is undefined");
    assert_err("{{ 1 | to_json(bogus=1) }}", "bogus");
}

#[test]
fn to_nice_json_indents_four_and_sorts() {
    assert_eq!(
        render("{{ app | to_nice_json }}"),
        concat!(
            "{\n",
            "    \"empty\": [],\n",
            "    \"env\": {\n",
            "        \"DEBUG\": \"no\",\n",
            "        \"PATH\": \"/usr/bin:/bin\"\n",
            "    },\n",
            "    \"motd\": \"line one\\nline two\",\n",
            "    \"name\": \"web\",\n",
            "    \"note\": \"it's: fine\",\n",
            "    \"ports\": [\n",
            "        80,\n",
            "        443\n",
            "    ],\n",
            "    \"ratio\": 0.5,\n",
            "    \"users\": [\n",
            "        {\n",
            "            \"groups\": [\n",
            "                \"wheel\",\n",
            "                \"adm\"\n",
            "            ],\n",
            "            \"name\": \"al\",\n",
            "            \"shell\": null\n",
            "        }\n",
            "    ]\n",
            "}"
        )
    );
    assert_eq!(
        render("{{ {'b': 1, 'a': 2} | to_nice_json(2, false) }}"),
        "{\n  \"b\": 1,\n  \"a\": 2\n}"
    );
}

#[test]
fn to_nice_yaml_writes_block_style_like_pyyaml() {
    assert_eq!(
        render("{{ app | to_nice_yaml }}"),
        concat!(
            "empty: []\n",
            "env:\n",
            "    DEBUG: 'no'\n",
            "    PATH: /usr/bin:/bin\n",
            "motd: 'line one\n",
            "\n",
            "    line two'\n",
            "name: web\n",
            "note: 'it''s: fine'\n",
            "ports:\n",
            "- 80\n",
            "- 443\n",
            "ratio: 0.5\n",
            "users:\n",
            "-   groups:\n",
            "    - wheel\n",
            "    - adm\n",
            "    name: al\n",
            "    shell: null\n"
        )
    );
    assert_eq!(
        render("{{ [{'a': 1, 'b': [2]}] | to_nice_yaml(indent=2) }}"),
        "- a: 1\n  b:\n  - 2\n"
    );
    assert_eq!(
        render("{{ {'a': 'x ' * 50} | to_nice_yaml }}"),
        "a: 'x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x\n    x x x x x x x x x x x '\n"
    );
    assert_eq!(
        render("{{ {'b': 1, 'a': 2} | to_nice_yaml(sort_keys=false) }}"),
        "b: 1\na: 2\n"
    );
}

#[test]
fn to_yaml_writes_scalar_collections_inline() {
    assert_eq!(render("{{ {'a': 1, 'b': [1, 2]} | to_yaml }}"), "a: 1\nb: [1, 2]\n");
    assert_eq!(
        render("{{ app | to_yaml }}"),
        concat!(
            "empty: []\n",
            "env: {DEBUG: 'no', PATH: '/usr/bin:/bin'}\n",
            "motd: 'line one\n",
            "\n",
            "  line two'\n",
            "name: web\n",
            "note: 'it''s: fine'\n",
            "ports: [80, 443]\n",
            "ratio: 0.5\n",
            "users:\n",
            "- groups: [wheel, adm]\n",
            "  name: al\n",
            "  shell: null\n"
        )
    );
    assert_eq!(render("{{ 'foo' | to_yaml }}"), "foo\n...\n");
    assert_eq!(
        render("{{ 'yes' | to_yaml }}|{{ '0644' | to_yaml }}|{{ '' | to_yaml }}"),
        "'yes'\n|'0644'\n|''\n"
    );
    assert_eq!(
        render("{{ ['a\tb', 'é', 1.0, 1e16, none, true] | to_yaml }}"),
        "[\"a\\tb\", é, 1.0, 1.0e+16, null, true]\n"
    );
    assert_eq!(render("{{ {'a': 1} | to_yaml(explicit_start=true) }}"), "--- {a: 1}\n");
    assert_eq!(
        render("{{ {'a': {'b': 1}} | to_yaml(explicit_start=true) }}"),
        "---\na: {b: 1}\n"
    );
}

#[test]
fn from_json_parses_and_points_at_errors() {
    assert_eq!(
        render(r#"{{ ('{"a": [1, 2.5, null, true]}' | from_json).a }}"#),
        "[1, 2.5, None, True]"
    );
    assert_eq!(render(r#"{{ ('{"b": 1, "a": 2}' | from_json) | list }}"#), "['b', 'a']");
    assert_err(
        r#"{{ '{"a": }' | from_json }}"#,
        "from_json: input is not valid JSON: expected value at line 1 column 7",
    );
    assert_err("{{ 1 | from_json }}", "from_json: expected a string of JSON, got int");
}

#[test]
fn from_yaml_reads_yaml_1_1() {
    assert_eq!(
        render("{{ 'a: yes\nb: [1, 0644]\nc: ~' | from_yaml }}"),
        "{'a': True, 'b': [1, 420], 'c': None}"
    );
    assert_eq!(render("{{ ('- x\n- y' | from_yaml)[1] }}"), "y");
    assert_eq!(render("{{ app.ports | from_yaml }}"), "[80, 443]");
    assert_err(
        "{{ 'a: [1, 2\nb: c' | from_yaml }}",
        "from_yaml: input is not valid YAML",
    );
    assert_err("{{ 'a: [1, 2\nb: c' | from_yaml }}", "at line 2, column");
}

// Paths.

#[test]
fn path_filters_follow_os_path() {
    assert_eq!(
        render("{{ '/etc/nginx/nginx.conf' | basename }}|{{ 'dir/' | basename }}|{{ 'x' | basename }}"),
        "nginx.conf||x"
    );
    assert_eq!(
        render(
            "{{ '/etc/nginx/nginx.conf' | dirname }}|{{ '/x' | dirname }}|{{ 'x' | dirname }}|{{ 'a/b/' | dirname }}"
        ),
        "/etc/nginx|/||a/b"
    );
    assert_eq!(
        render("{{ 'a/b.tar.gz' | splitext }}|{{ '.bashrc' | splitext }}|{{ 'a.b/c' | splitext }}"),
        "('a/b.tar', '.gz')|('.bashrc', '')|('a.b/c', '')"
    );
    assert_eq!(render("{{ ('x/file.txt' | splitext)[1] }}"), ".txt");
    assert_eq!(
        render("{{ ['etc', 'app', 'conf.d'] | path_join }}|{{ ['a', '/b', 'c'] | path_join }}|{{ 'x' | path_join }}"),
        "etc/app/conf.d|/b/c|x"
    );
    assert_err("{{ missing | basename }}", "`missing` is undefined");
}

// Regular expressions.

#[test]
fn regex_replace_uses_python_syntax() {
    assert_eq!(
        render(r"{{ 'host-01.example.com' | regex_replace('^(\\w+)-(\\d+)', '\\2-\\1') }}"),
        "01-host.example.com"
    );
    assert_eq!(
        render(r"{{ 'v=1.22' | regex_replace('(?P<major>\\d+)\\.(?P<minor>\\d+)', '\\g<minor>.\\g<major>') }}"),
        "v=22.1"
    );
    assert_eq!(
        render("{{ 'costs $5' | regex_replace('\\\\$(\\\\d)', '$\\\\1 USD') }}"),
        "costs $5 USD"
    );
    assert_eq!(
        render("{{ 'Hello' | regex_replace('hello', 'bye', ignorecase=true) }}"),
        "bye"
    );
    assert_eq!(
        render("{{ 'a\nb' | regex_replace('^', '> ', multiline=true) }}"),
        "> a\n> b"
    );
    assert_eq!(
        render("{{ 'aaa' | regex_replace('a', 'b', count=2) }}|{{ 'abxd' | regex_replace('x*', '-') }}"),
        "bba|-a-b--d-"
    );
    assert_eq!(render("{{ 'a,b' | regex_replace(',', '\\\\n') }}"), "a\nb");
    assert_eq!(render("{{ 8080 | regex_replace('0', 'o') }}"), "8o8o");
    assert_err(
        "{{ 'x' | regex_replace('(', 'y') }}",
        "regex_replace: invalid regular expression `(`",
    );
    assert_err(
        "{{ 'x' | regex_replace('(x)', '\\\\2') }}",
        "regex_replace: invalid group reference 2",
    );
    assert_err(
        "{{ 'aa' | regex_replace('a', 'b', mandatory_count=1) }}",
        "should match 1 times, but matches 2 times",
    );
}

#[test]
fn regex_search_returns_match_groups_or_none() {
    assert_eq!(render("{{ 'server42.lan' | regex_search('[0-9]+') }}"), "42");
    assert_eq!(render("{{ 'server42.lan' | regex_search('x') is none }}"), "True");
    assert_eq!(
        render(r"{{ 'user=al id=7' | regex_search('user=(\\w+) id=(?P<id>\\d+)', '\\1', '\\g<id>') }}"),
        "['al', '7']"
    );
    assert_eq!(render("{{ 'ABC' | regex_search('b', ignorecase=true) }}"), "B");
    assert_err(
        "{{ 'x' | regex_search('x', 'oops') }}",
        "regex_search: unknown argument `oops`",
    );
}

#[test]
fn regex_findall_follows_re_findall() {
    assert_eq!(
        render("{{ 'a1b22c333' | regex_findall('[0-9]+') }}"),
        "['1', '22', '333']"
    );
    assert_eq!(render("{{ 'k=v; x=y' | regex_findall('(\\\\w)=') }}"), "['k', 'x']");
    assert_eq!(
        render("{{ 'k=v; x=y' | regex_findall('(\\\\w)=(\\\\w)') }}"),
        "[('k', 'v'), ('x', 'y')]"
    );
    assert_eq!(render("{{ 'Aa' | regex_findall('a', ignorecase=true) }}"), "['A', 'a']");
}

#[test]
fn regex_escape_escapes_specials() {
    assert_eq!(render("{{ '1.2.3*[x]' | regex_escape }}"), r"1\.2\.3\*\[x\]");
    assert_eq!(render("{{ 'a.b c' | regex_escape('posix_basic') }}"), r"a\.b c");
    assert_eq!(render("{{ 'a*' | regex_escape(re_type='posix_basic') }}"), r"a\*");
    assert_err(
        "{{ 'a' | regex_escape('posix_extended') }}",
        "regex_escape: regex type `posix_extended` is not supported",
    );
}

// Text encodings.

#[test]
fn quote_quotes_like_shlex() {
    assert_eq!(render("{{ 'safe-word_1.0/x' | quote }}"), "safe-word_1.0/x");
    assert_eq!(
        render("{{ 'two words' | quote }}|{{ '' | quote }}|{{ none | quote }}"),
        "'two words'|''|''"
    );
    assert_eq!(render("{{ \"it's\" | quote }}"), r#"'it'"'"'s'"#);
    assert_eq!(render("echo {{ '$HOME; rm -rf /' | quote }}"), "echo '$HOME; rm -rf /'");
}

#[test]
fn base64_round_trips() {
    assert_eq!(render("{{ 'héllo' | b64encode }}"), "aMOpbGxv");
    assert_eq!(
        render("{{ 'aMOpbGxv' | b64decode }}|{{ 'aMOp\nbGxv' | b64decode }}"),
        "héllo|héllo"
    );
    assert_eq!(
        render("{{ 'ab' | b64encode(encoding='utf-16-le') }}|{{ 'YQBiAA==' | b64decode('utf-16-le') }}"),
        "YQBiAA==|ab"
    );
    assert_eq!(
        render("{{ '??>' | b64encode(urlsafe=true) }}|{{ 'Pz8-' | b64decode(urlsafe=true) }}"),
        "Pz8-|??>"
    );
    assert_err(
        "{{ 'not base64!' | b64decode }}",
        "b64decode: input is not valid base64",
    );
    assert_err(
        "{{ '/w==' | b64decode }}",
        "b64decode: the decoded data is not valid UTF-8 text",
    );
    assert_err(
        "{{ 'x' | b64encode('latin-1') }}",
        "b64encode: encoding `latin-1` is not supported",
    );
}

// Data shaping.

#[test]
fn dict2items_and_items2dict_convert_both_ways() {
    assert_eq!(
        render("{{ {'a': 1, 'b': 2} | dict2items }}"),
        "[{'key': 'a', 'value': 1}, {'key': 'b', 'value': 2}]"
    );
    assert_eq!(
        render("{{ {'a': 1} | dict2items('k', value_name='v') }}"),
        "[{'k': 'a', 'v': 1}]"
    );
    assert_eq!(
        render("{{ [{'key': 'a', 'value': 1}, {'key': 'b', 'value': 2}] | items2dict }}"),
        "{'a': 1, 'b': 2}"
    );
    assert_eq!(
        render("{{ [{'n': 'x', 'ip': 1}] | items2dict(key_name='n', value_name='ip') }}"),
        "{'x': 1}"
    );
    assert_eq!(render("{{ app.env | dict2items | items2dict == app.env }}"), "True");
    assert_err("{{ [1] | dict2items }}", "dict2items: expected a dictionary, got list");
    assert_err(
        "{{ [{'key': 'a'}] | items2dict }}",
        "items2dict: each item needs the keys `key` and `value`",
    );
    assert_err("{{ 'x' | items2dict }}", "items2dict: expected a list, got str");
}

#[test]
fn combine_merges_dicts() {
    assert_eq!(
        render("{{ {'a': 1, 'b': {'x': 1}} | combine({'b': {'y': 2}, 'c': 3}) }}"),
        "{'a': 1, 'b': {'y': 2}, 'c': 3}"
    );
    assert_eq!(
        render("{{ {'a': 1, 'b': {'x': 1}} | combine({'b': {'y': 2}}, recursive=true) }}"),
        "{'a': 1, 'b': {'x': 1, 'y': 2}}"
    );
    assert_eq!(
        render("{{ {'a': 1} | combine({'a': 2}, {'a': 3, 'z': 0}) }}"),
        "{'a': 3, 'z': 0}"
    );
    assert_eq!(render("{{ [{'a': 1}, {'b': 2}] | combine }}"), "{'a': 1, 'b': 2}");
    assert_eq!(
        render("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='append') }}"),
        "{'l': [1, 2, 2, 3]}"
    );
    assert_eq!(
        render("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='append_rp') }}"),
        "{'l': [1, 2, 3]}"
    );
    assert_eq!(
        render("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='prepend') }}"),
        "{'l': [2, 3, 1, 2]}"
    );
    assert_eq!(
        render("{{ {'l': [1]} | combine({'l': [2]}, list_merge='keep') }}"),
        "{'l': [1]}"
    );
    assert_err(
        "{{ {'a': 1} | combine([1]) }}",
        "combine: expected dictionaries, got int",
    );
    assert_err(
        "{{ {} | combine({}, list_merge='zip') }}",
        "combine: list_merge must be",
    );
    assert_err("{{ {} | combine({}, deep=true) }}", "deep");
}

#[test]
fn mandatory_fails_on_undefined() {
    assert_eq!(render("{{ app.name | mandatory }}"), "web");
    assert_err("{{ missing | mandatory }}", "`missing` is undefined");
    assert_err(
        "{{ missing | mandatory('set the missing variable') }}",
        "set the missing variable",
    );
    assert_err("{{ missing | mandatory(msg='say which') }}", "say which");
    let mut strict = env();
    strict.set_undefined_behavior(UndefinedBehavior::Strict);
    let err = strict.render_str("{{ nope | mandatory }}", vars()).unwrap_err();
    assert!(err.to_string().contains("`nope` is undefined"), "{err}");
}

#[test]
fn ternary_picks_by_truth() {
    assert_eq!(
        render("{{ true | ternary('yes', 'no') }}|{{ 0 | ternary('yes', 'no') }}|{{ [] | ternary(1, 2) }}"),
        "yes|no|2"
    );
    assert_eq!(
        render("{{ none | ternary('t', 'f', 'n') }}|{{ none | ternary('t', 'f') }}"),
        "n|f"
    );
    assert_eq!(render("{{ 1 | ternary(false_val='f', true_val='t') }}"), "t");
    assert_err("{{ missing | ternary(1, 2) }}", "`missing` is undefined");
}

#[test]
fn flatten_flattens_lists() {
    assert_eq!(
        render("{{ [1, [2, [3, [4]]], none, 'None', {'a': 1}] | flatten }}"),
        "[1, 2, 3, 4, {'a': 1}]"
    );
    assert_eq!(
        render("{{ [1, [2, [3, [4]]]] | flatten(levels=1) }}"),
        "[1, 2, [3, [4]]]"
    );
    assert_eq!(render("{{ [1, [none]] | flatten(skip_nulls=false) }}"), "[1, None]");
}

#[test]
fn zip_longest_fills() {
    assert_eq!(
        render("{{ [1, 2, 3] | zip_longest(['a']) }}"),
        "[(1, 'a'), (2, None), (3, None)]"
    );
    assert_eq!(
        render("{{ [1, 2] | zip_longest([], fillvalue='-') | list }}"),
        "[(1, '-'), (2, '-')]"
    );
}

#[test]
fn extract_looks_up_in_a_container() {
    assert_eq!(
        render("{{ ['a', 'b'] | map('extract', hosts, 'ip') | list }}"),
        "['10.0.0.1', '10.0.0.2']"
    );
    assert_eq!(render("{{ 1 | extract(['x', 'y']) }}"), "y");
    assert_eq!(render("{{ 'a' | extract(hosts, ['ip']) }}"), "10.0.0.1");
    assert_eq!(render("{{ 'b' | extract(hosts, morekeys='ip') }}"), "10.0.0.2");
}

#[test]
fn type_debug_names_python_types() {
    assert_eq!(
        render("{{ [{}, [], 'x', 1, 1.5, true, none] | map('type_debug') | join(' ') }}"),
        "dict list str int float bool NoneType"
    );
}

#[test]
fn set_theory_keeps_first_seen_order() {
    assert_eq!(render("{{ [1, 2, 3, 2] | difference([2]) }}"), "[1, 3]");
    assert_eq!(render("{{ [3, 1, 2, 1] | intersect([1, 3, 5]) }}"), "[3, 1]");
    assert_eq!(render("{{ [1, 2, 2] | union([3, 1, 4]) }}"), "[1, 2, 3, 4]");
    assert_eq!(render("{{ [1, 2, 3] | symmetric_difference([3, 4, 4]) }}"), "[1, 2, 4]");
    assert_eq!(render("{{ ['a', 'A'] | union(['a']) }}"), "['a', 'A']");
    assert_err("{{ 1 | union([1]) }}", "union: expected a list, got int");
}

// Tests.

#[test]
fn regex_tests_match_search_and_regex() {
    assert_eq!(
        render("{{ 'abc' is match('ab') }}|{{ 'abc' is match('bc') }}|{{ 'ABC' is match('ab', ignorecase=true) }}"),
        "True|False|True"
    );
    assert_eq!(
        render(
            "{{ 'abc' is search('bc') }}|{{ 'abc' is search('^bc') }}|{{ 'a\nbc' is search('^bc', multiline=true) }}"
        ),
        "True|False|True"
    );
    assert_eq!(
        render(
            "{{ 'abc' is regex('b') }}|{{ 'abc' is regex('b', match_type='match') }}|{{ 'abc' is regex('a.c', match_type='fullmatch') }}"
        ),
        "True|False|True"
    );
    assert_eq!(
        render("{{ 'a|b' is match('a|x') }}|{{ 'xb' is match('a|b') }}"),
        "True|False"
    );
    assert_eq!(
        render("{{ app.users | selectattr('name', 'match', 'a') | list | length }}"),
        "1"
    );
    assert_err("{{ 'x' is match('(') }}", "match: invalid regular expression `(`");
}

#[test]
fn truthy_and_falsy() {
    assert_eq!(
        render("{{ 'x' is truthy }}|{{ '' is truthy }}|{{ [] is falsy }}|{{ 1 is falsy }}"),
        "True|False|True|False"
    );
    assert_eq!(
        render("{{ 'no' is truthy }}|{{ 'no' is truthy(convert_bool=true) }}|{{ 'off' is falsy(convert_bool=true) }}"),
        "True|False|True"
    );
}

#[test]
fn version_compares_dotted_versions() {
    assert_eq!(
        render("{{ '1.10' is version('1.9', '>') }}|{{ '1.10' is version('1.9', 'lt') }}"),
        "True|False"
    );
    assert_eq!(
        render(
            "{{ ['lt', '<', 'le', '<=', 'gt', '>', 'ge', '>=', 'eq', '==', 'ne', '!='] | map('extract', {'lt': '2.0' is version('2.0.1', 'lt'), '<': '2.0' is version('2.0.1', '<'), 'le': '2.0' is version('2.0', 'le'), '<=': '2.0' is version('1.9', '<='), 'gt': '3' is version('2.99', 'gt'), '>': '3' is version('3', '>'), 'ge': '3.0' is version('3.0', 'ge'), '>=': '3.0' is version('3.1', '>='), 'eq': '1.0' is version('1.0', 'eq'), '==': '1.0' is version('1.0.0', '=='), 'ne': '1.0' is version('1.1', 'ne'), '!=': '1' is version('1', '!=')}) | list }}"
        ),
        "[True, True, True, False, True, False, True, False, True, False, True, False]"
    );
    assert_eq!(
        render("{{ '2.4' is version('2.4') }}|{{ 7.6 is version('7.10', '<') }}|{{ '1.0a' is version('1.0', '>') }}"),
        "True|True|True"
    );
    assert_eq!(
        render("{{ '1.0.0-rc.1' is version('1.0.0', '<', version_type='semver') }}"),
        "True"
    );
    assert_eq!(render("{{ '1.0b1' is version('1.0', '<', strict=true) }}"), "True");
    assert_eq!(
        render("{{ '5.4.0-89-generic' is version('5.4.0-100-generic', '<') }}"),
        "True"
    );
    assert_err(
        "{{ '1.0' is version('1.0', 'bigger') }}",
        "version: invalid operator `bigger`",
    );
    assert_err(
        "{{ '1.0.1' is version('1.0rc1', '<') }}",
        "version: cannot compare `1.0.1` with `1.0rc1`",
    );
    assert_err(
        "{{ 'x' is version('1.0', '<', version_type='semver') }}",
        "version: `x` is not a semantic version",
    );
    assert_err("{{ '' is version('1.0') }}", "version: the version to test is empty");
}

#[test]
fn result_tests_read_registered_results() {
    assert_eq!(
        render("{{ ok is failed }}|{{ ok is succeeded }}|{{ ok is success }}|{{ ok is changed }}|{{ ok is skipped }}"),
        "False|True|True|False|False"
    );
    assert_eq!(
        render("{{ broken is failed }}|{{ broken is succeeded }}|{{ broken is failure }}"),
        "True|False|True"
    );
    assert_eq!(
        render(
            "{{ edited is changed }}|{{ edited is successful }}|{{ passed_over is skipped }}|{{ passed_over is skip }}"
        ),
        "True|True|True|True"
    );
    assert_eq!(
        render("{{ looped is changed }}|{{ looped_quiet is changed }}|{{ looped is change }}"),
        "True|False|True"
    );
    assert_eq!(
        render("{{ down is unreachable }}|{{ down is reachable }}|{{ ok is reachable }}"),
        "True|False|True"
    );
    assert_eq!(
        render("{{ [ok, broken, edited] | select('failed') | list | length }}"),
        "1"
    );
    assert_err(
        "{{ 'x' is failed }}",
        "the `failed` test expects a registered result (a dictionary), got str",
    );
}

#[test]
fn list_tests() {
    assert_eq!(
        render("{{ [1, 2] is subset([1, 2, 3]) }}|{{ [1, 4] is subset([1, 2, 3]) }}"),
        "True|False"
    );
    assert_eq!(
        render("{{ [1, 2, 3] is superset([3]) }}|{{ [1] is superset([3]) }}"),
        "True|False"
    );
    assert_eq!(
        render("{{ app.ports is contains(80) }}|{{ app.ports is contains(22) }}"),
        "True|False"
    );
    assert_eq!(
        render("{{ [0, '', 1] is any }}|{{ [0, 1] is all }}|{{ [1, 'x'] is all }}|{{ [] is any }}"),
        "True|False|True|False"
    );
}

#[test]
fn filters_refuse_what_ansible_refuses() {
    let env = env();
    let fails = |template: &str| env.render_str(template, vars()).unwrap_err().to_string();
    assert!(
        fails("{{ '10Mb' | human_to_bytes }}").contains("expect MB or M"),
        "{}",
        fails("{{ '10Mb' | human_to_bytes }}")
    );
    assert!(fails("{{ [] | random(seed=1) }}").contains("empty sequence"));
    assert!(fails("{{ 'x' | password_hash('sha512', 'bad salt') }}").contains("invalid characters in salt"));
    assert!(fails("{{ 'x' | hash('crc') }}").contains("unsupported hash type crc"));
    assert!(fails("{{ [{'a': 1}, {'a': 1}] | rekey_on_member('a') }}").contains("is not unique"));
    assert!(fails("{{ 0 | log }}").contains("math domain error"));
}
