//! Ansible's INI inventory format: `[group]` sections of hosts with inline `key=value` variables,
//! `[group:vars]` and `[group:children]` sections, and the shell-like splitting of host lines.
//!
//! Values are read as Python literals (`python_literal`); host names and ranges are read by
//! `host_range`, which the YAML format and host lists use too.

use std::sync::{Arc, LazyLock};

use indexmap::IndexMap;
use regex::Regex;
use serde_json::Value;

use super::host_range::is_bracketed_ipv6_port;
// Callers elsewhere in the inventory still reach these as `ini::`.
pub(super) use super::host_range::{expand_host_pattern, parse_address};
use super::python_literal::parse_literal;
use super::{Inventory, UNGROUPED, span_at};
use crate::error::{Error, suggest};
use crate::source::SourceFile;

static SECTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$").expect("section pattern is valid"));
static GROUP_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^:\]\s]+)\s*(?:#.*)?$").expect("group name pattern is valid"));

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Hosts,
    Vars,
    Children,
}

/// A reference to a group that no section of the file has declared yet.
struct Pending {
    line: usize,
    col: usize,
    state: State,
    parents: Vec<String>,
}

/// Reads an INI inventory into `inventory`.
pub(super) fn parse(inventory: &mut Inventory, file: &Arc<SourceFile>) -> Result<(), Error> {
    let mut pending: IndexMap<String, Pending> = IndexMap::new();
    let mut group = UNGROUPED;
    let mut state = State::Hosts;

    for (index, raw) in file.text.split('\n').enumerate() {
        let line_no = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let lead = raw.len() - raw.trim_start().len();
        let col = |offset: usize| raw.get(..lead + offset).map_or(1, |s| s.chars().count() + 1);

        if let Some(caps) = SECTION.captures(line) {
            let name = caps.get(1).map_or("", |m| m.as_str());
            state = match caps.get(2).map(|m| (m.as_str(), m.start())) {
                None | Some(("hosts", _)) => State::Hosts,
                Some(("vars", _)) => State::Vars,
                Some(("children", _)) => State::Children,
                Some((other, start)) => {
                    let span = span_at(file, line_no, col(start));
                    let mut help = format!("a section is `[{name}]`, `[{name}:vars]` or `[{name}:children]`");
                    if let Some(s) = suggest(other, ["vars", "children", "hosts"]) {
                        help = format!("did you mean `{s}`? {help}");
                    }
                    return Err(
                        Error::invalid(span, format!("section `[{name}:{other}]` has unknown type `{other}`"))
                            .with_help(help),
                    );
                }
            };
            if inventory.group_index(name).is_none() {
                // `[g]` or `[g:children]` declares a group; `[g:vars]` needs one declared somewhere.
                if state == State::Vars && !pending.contains_key(name) {
                    pending.insert(
                        name.to_string(),
                        Pending {
                            line: line_no,
                            col: col(0),
                            state,
                            parents: Vec::new(),
                        },
                    );
                }
                inventory.add_group(name);
            }
            if state != State::Vars
                && let Some(declaration) = pending.get(name)
            {
                match declaration.state {
                    State::Children => add_pending_children(inventory, file, name, &mut pending)?,
                    _ => {
                        pending.shift_remove(name);
                    }
                }
            }
            group = inventory.add_group(name);
            continue;
        }
        if line.starts_with('[') && !is_bracketed_host_line(line) {
            let span = span_at(file, line_no, col(0));
            let help = if line.ends_with(']') {
                "a section header is `[group]`, `[group:vars]` or `[group:children]`, with no spaces or other \
                 characters in the group name"
            } else {
                "close it with `]`: a section header is `[group]`, `[group:vars]` or `[group:children]`"
            };
            return Err(Error::invalid(span, format!("malformed section header `{line}`")).with_help(help));
        }

        match state {
            State::Hosts => host_line(inventory, file, line_no, raw, lead, group)?,
            State::Vars => {
                let Some((key, value)) = line.split_once('=') else {
                    let name = &inventory.groups[group].name;
                    return Err(Error::invalid(
                        span_at(file, line_no, col(0)),
                        format!("expected `key=value` in `[{name}:vars]`, found `{line}`"),
                    )
                    .with_help("each line of a `:vars` section sets one variable, like `http_port=8080`"));
                };
                let key = key.trim();
                if key.is_empty() {
                    return Err(
                        Error::invalid(span_at(file, line_no, col(0)), "variable name missing before `=`")
                            .with_help("write the variable as `name=value`"),
                    );
                }
                inventory.set_group_var(group, key.to_string(), group_var_value(value.trim()));
            }
            State::Children => {
                let Some(child) = GROUP_NAME.captures(line).and_then(|c| c.get(1)).map(|m| m.as_str()) else {
                    let name = &inventory.groups[group].name;
                    return Err(Error::invalid(
                        span_at(file, line_no, col(0)),
                        format!("expected a group name in `[{name}:children]`, found `{line}`"),
                    )
                    .with_help("list one child group per line; hosts go in `[group]` sections"));
                };
                match inventory.group_index(child) {
                    Some(child_index) => inventory
                        .add_child(group, child_index)
                        .map_err(|message| Error::invalid(span_at(file, line_no, col(0)), message))?,
                    None => {
                        let parent = inventory.groups[group].name.clone();
                        pending
                            .entry(child.to_string())
                            .or_insert(Pending {
                                line: line_no,
                                col: col(0),
                                state,
                                parents: Vec::new(),
                            })
                            .parents
                            .push(parent);
                    }
                }
            }
        }
    }

    // A reference no section resolved is an error, as in Ansible; report the first.
    if let Some((name, declaration)) = pending.first() {
        let span = span_at(file, declaration.line, declaration.col);
        let known: Vec<&str> = inventory
            .groups
            .keys()
            .map(String::as_str)
            .filter(|g| g != name && !pending.contains_key(*g))
            .collect();
        let did_you_mean = suggest(name, known.iter().copied())
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        return Err(match declaration.state {
            State::Vars => Error::invalid(
                span,
                format!("`[{name}:vars]` sets variables of group `{name}`, which is not defined"),
            )
            .with_help(format!(
                "{did_you_mean}declare the group with a `[{name}]` or `[{name}:children]` section"
            )),
            _ => {
                let parent = declaration.parents.last().map_or("", String::as_str);
                Error::invalid(
                    span,
                    format!("`[{parent}:children]` names group `{name}`, which is not defined"),
                )
                .with_help(format!(
                    "{did_you_mean}declare it with a `[{name}]` section listing its hosts"
                ))
            }
        });
    }
    Ok(())
}

/// A group referenced as a child before its section: now that it is declared, link it.
fn add_pending_children(
    inventory: &mut Inventory,
    file: &Arc<SourceFile>,
    name: &str,
    pending: &mut IndexMap<String, Pending>,
) -> Result<(), Error> {
    let Some(declaration) = pending.shift_remove(name) else {
        return Ok(());
    };
    let child = inventory.add_group(name);
    for parent in &declaration.parents {
        let parent_index = inventory.add_group(parent);
        inventory
            .add_child(parent_index, child)
            .map_err(|message| Error::invalid(span_at(file, declaration.line, declaration.col), message))?;
        if pending.get(parent).is_some_and(|p| p.state == State::Children) {
            add_pending_children(inventory, file, parent, pending)?;
        }
    }
    Ok(())
}

/// A `[` line that is a bracketed IPv6 host with a port, like `[fe80::1]:2222`, not a section.
fn is_bracketed_host_line(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    is_bracketed_ipv6_port(first)
}

/// One line of a hosts section: a host pattern followed by `key=value` variables.
fn host_line(
    inventory: &mut Inventory,
    file: &Arc<SourceFile>,
    line_no: usize,
    raw: &str,
    lead: usize,
    group: usize,
) -> Result<(), Error> {
    let col = |offset: usize| raw.get(..offset).map_or(1, |s| s.chars().count() + 1);
    let line = &raw[lead..];
    let tokens = shlex_split(line).map_err(|e| {
        Error::invalid(span_at(file, line_no, col(lead + e.offset)), e.message)
            .with_help("close the quote, or escape the character with `\\`")
    })?;
    let Some((pattern, start)) = tokens.first() else {
        return Ok(());
    };
    let start = lead + start;
    let (names, port) = expand_host_pattern(pattern).map_err(|e| {
        let error = Error::invalid(
            span_at(file, line_no, col(start + e.offset.min(pattern.len()))),
            e.message,
        );
        match e.help {
            Some(help) => error.with_help(help),
            None => error,
        }
    })?;
    let mut vars = Vec::new();
    for (token, offset) in &tokens[1..] {
        let span = span_at(file, line_no, col(lead + offset));
        let Some((key, value)) = token.split_once('=') else {
            return Err(Error::invalid(
                span,
                format!("expected `key=value` after the host name, found `{token}`"),
            )
            .with_help("quote values that contain spaces, like `key=\"a b\"`"));
        };
        if key.is_empty() {
            return Err(Error::invalid(span, "variable name missing before `=`").with_help("write it as `name=value`"));
        }
        vars.push((key.to_string(), host_var_value(value)));
    }
    for name in names {
        let host = inventory.add_host(&name, group, port);
        for (key, value) in &vars {
            inventory.set_host_var(host, key.clone(), value.clone());
        }
    }
    Ok(())
}

/// Non-UTF-8 bytes are tolerated in comment lines only, as in Ansible.
pub(super) fn check_utf8(file: &Arc<SourceFile>, bytes: &[u8]) -> Result<(), Error> {
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(());
    }
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if std::str::from_utf8(line).is_err() {
            let start = line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
            if !matches!(line.get(start), Some(b'#' | b';')) {
                return Err(
                    Error::invalid(span_at(file, index + 1, 1), "this line is not valid UTF-8")
                        .with_help("save the inventory as UTF-8"),
                );
            }
        }
    }
    Ok(())
}

// ----- values -----

/// An inline host variable: a Python literal (`22`, `True`, `'text'`, `[1, 2]`) or else the text.
pub(super) fn host_var_value(text: &str) -> Value {
    parse_literal(text).map_or_else(|| Value::String(text.to_string()), |(value, _)| value)
}

/// A `[g:vars]` value: a string (quotes removed), as Ansible documents; a list or dict literal
/// stays a list or dict, as Ansible's parser reads it.
pub(super) fn group_var_value(text: &str) -> Value {
    match parse_literal(text) {
        Some((value @ (Value::String(_) | Value::Array(_) | Value::Object(_)), _)) => value,
        Some((_, end)) => Value::String(text[..end].to_string()),
        None => Value::String(text.to_string()),
    }
}
// ----- shell-like splitting -----

pub(super) struct ShlexError {
    pub message: &'static str,
    pub offset: usize,
}

/// Splits a host line as Python's `shlex.split(line, comments=True)` does: whitespace separates,
/// quotes group and are removed, `\` escapes, `#` starts a comment. Each token comes with the byte
/// offset where it starts.
pub(super) fn shlex_split(line: &str) -> Result<Vec<(String, usize)>, ShlexError> {
    use crate::compat::python::ShlexError as E;
    crate::compat::python::shlex_split_at(line, true).map_err(|e| match e {
        E::NoClosingQuotation { quote: '\'', offset } => ShlexError {
            message: "unclosed quote `'`",
            offset,
        },
        E::NoClosingQuotation { offset, .. } => ShlexError {
            message: "unclosed quote `\"`",
            offset,
        },
        E::NoEscapedCharacter { offset } => ShlexError {
            message: "nothing follows `\\`",
            offset,
        },
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testing::{error, inventory, names, parse};
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_vars_and_children() {
        let inv = inventory(
            "hosts",
            "# a comment\n; another\n[web]\nweb1\nweb2 ansible_user=deploy   # trailing\n\n[db]\ndb1\n\n[servers:children]\nweb\ndb  # comment\n\n[servers:vars]\nntp = time.example.com\n[all:vars]\nansible_user=root\n",
        );
        let groups = inv.groups_map();
        assert_eq!(groups["servers"], ["web1", "web2", "db1"]);
        assert_eq!(groups["all"], ["web1", "web2", "db1"]);
        assert_eq!(inv.group_names("db1"), ["db", "servers"]);
        let web2 = inv.vars_for("web2");
        assert_eq!(web2["ansible_user"], "deploy");
        assert_eq!(web2["ntp"], "time.example.com");
        assert_eq!(inv.vars_for("web1")["ansible_user"], "root");
    }

    #[test]
    fn children_declared_before_their_section() {
        let inv = inventory("hosts", "[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh1\n");
        assert_eq!(inv.groups_map()["top"], ["h1"]);
        assert_eq!(inv.group_names("h1"), ["leaf", "mid", "top"]);
    }

    #[test]
    fn empty_group_and_vars_of_declared_group() {
        let inv = inventory(
            "hosts",
            "[bench]\n\n[bench:vars]\nansible_user=root\ndocker_host=unix:///var/run/docker.sock\n",
        );
        assert!(inv.groups_map()["bench"].is_empty());
        assert!(names(&inv).is_empty());
    }

    #[test]
    fn ungrouped_hosts() {
        let inv = inventory("hosts", "alone\nlisted\n[g]\nlisted\n");
        assert_eq!(inv.groups_map()["ungrouped"], ["alone"]);
        assert_eq!(inv.groups_map()["g"], ["listed"]);
        assert_eq!(inv.group_names("listed"), ["g"]);
    }

    #[test]
    fn range_with_port_and_vars() {
        let inv = inventory("hosts", "[web]\nweb[1:2]:2222 role=front\n");
        for host in ["web1", "web2"] {
            let vars = inv.vars_for(host);
            assert_eq!(vars["ansible_port"], json!(2222));
            assert_eq!(vars["role"], "front");
        }
    }

    #[test]
    fn host_port_forms() {
        let inv = inventory(
            "hosts",
            "web1:2222\n10.0.0.5:22\n[fe80::1]:2200\nfe80::2\nweb2:2222 ansible_port=22\n",
        );
        assert_eq!(names(&inv), ["web1", "10.0.0.5", "fe80::1", "fe80::2", "web2"]);
        assert_eq!(inv.vars_for("web1")["ansible_port"], json!(2222));
        assert_eq!(inv.vars_for("10.0.0.5")["ansible_port"], json!(22));
        assert_eq!(inv.vars_for("fe80::1")["ansible_port"], json!(2200));
        assert!(!inv.vars_for("fe80::2").contains_key("ansible_port"));
        // An inline `ansible_port` is set after the port, so it wins.
        assert_eq!(inv.vars_for("web2")["ansible_port"], json!(22));
    }

    #[test]
    fn inline_values_are_python_literals() {
        let inv = inventory(
            "hosts",
            concat!(
                "h a=1 b=-2 c=1.5 d=True e=false f=None g='quoted text' h=\"'05'\" i=\"[1,'x']\" ",
                "j=\"{'k':[1,2]}\" k=010 l=plain m=\"two words\" n=0x1F o=(1,2) p=1e3 q=a=b r= s=\"#x\"\n"
            ),
        );
        let v = inv.vars_for("h");
        assert_eq!(v["a"], json!(1));
        assert_eq!(v["b"], json!(-2));
        assert_eq!(v["c"], json!(1.5));
        assert_eq!(v["d"], json!(true));
        assert_eq!(v["e"], "false", "Python's literal_eval knows only `False`");
        assert_eq!(v["f"], Value::Null);
        assert_eq!(v["g"], "quoted text");
        assert_eq!(v["h"], "05");
        assert_eq!(v["i"], json!([1, "x"]));
        assert_eq!(v["j"], json!({"k": [1, 2]}));
        assert_eq!(v["k"], "010");
        assert_eq!(v["l"], "plain");
        assert_eq!(v["m"], "two words");
        assert_eq!(v["n"], json!(31));
        assert_eq!(v["o"], json!([1, 2]));
        assert_eq!(v["p"], json!(1000.0));
        assert_eq!(v["q"], "a=b");
        assert_eq!(v["r"], "");
        assert_eq!(v["s"], "#x");
        // The shell-like split removes quotes first, as Ansible's does.
        let inv = inventory("hosts", "h i=[1,'x'] port=\"22\"\n");
        assert_eq!(inv.vars_for("h")["i"], "[1,x]");
        assert_eq!(inv.vars_for("h")["port"], json!(22));
    }

    #[test]
    fn group_vars_section_values_are_strings() {
        let inv = inventory(
            "hosts",
            "[g]\nh\n[g:vars]\nport=8080 # comment\nflag=True\nname=\"quoted value\"\nsingle='x'\nlist=[1, 2]\nraw=10.0.0.1 # kept\nspaced = a b c \nempty=\n",
        );
        let v = inv.vars_for("h");
        assert_eq!(v["port"], "8080");
        assert_eq!(v["flag"], "True");
        assert_eq!(v["name"], "quoted value");
        assert_eq!(v["single"], "x");
        assert_eq!(v["list"], json!([1, 2]));
        assert_eq!(v["raw"], "10.0.0.1 # kept");
        assert_eq!(v["spaced"], "a b c");
        assert_eq!(v["empty"], "");
    }

    #[test]
    fn shlex_like_python() {
        let split = |line: &str| {
            shlex_split(line)
                .ok()
                .map(|t| t.into_iter().map(|(s, _)| s).collect::<Vec<_>>())
        };
        assert_eq!(
            split("a b='c d' e=\"f\\\"g\""),
            Some(vec!["a".into(), "b=c d".into(), "e=f\"g".into()])
        );
        assert_eq!(split("a#comment b"), Some(vec!["a".into()]));
        assert_eq!(split("a\\ b c"), Some(vec!["a b".into(), "c".into()]));
        assert_eq!(split("x=\"a\\nb\""), Some(vec!["x=a\\nb".into()]));
        assert_eq!(split("''"), Some(vec![String::new()]));
        assert!(split("a 'open").is_none());
        assert!(split("a \\").is_none());
    }

    /// Asserts that the INI inventory `text` fails to load with an error holding each of `expected`.
    pub(in crate::inventory) fn assert_error(text: &str, expected: &[&str]) {
        let rendered = error("hosts", text);
        for part in expected {
            assert!(rendered.contains(part), "missing {part:?} in:\n{rendered}");
        }
    }

    #[test]
    fn error_malformed_section_header() {
        assert_error(
            "[web]\nweb1\n  [prod\nweb2\n",
            &[
                "error: hosts:3:3: malformed section header `[prod`",
                "3 |   [prod\n  |   ^",
                "help: close it with `]`",
            ],
        );
        assert_error(
            "[web servers]\n",
            &[
                "hosts:1:1: malformed section header `[web servers]`",
                "help: a section header is `[group]`",
            ],
        );
    }

    #[test]
    fn error_unknown_section_type() {
        assert_error(
            "[web:var]\nx=1\n",
            &[
                "hosts:1:6: section `[web:var]` has unknown type `var`",
                "help: did you mean `vars`?",
            ],
        );
    }

    #[test]
    fn error_bad_host_lines() {
        assert_error(
            "web1 ansible_user\n",
            &[
                "hosts:1:6: expected `key=value` after the host name, found `ansible_user`",
                "help: quote values",
            ],
        );
        assert_error(
            "web1 x='open\n",
            &["hosts:1:8: unclosed quote `'`", "help: close the quote"],
        );
        assert_error(
            "[g]\nweb1:\n",
            &["hosts:2:5: host `web1:` ends with `:` but no port follows", "web1:2222"],
        );
        assert_error(
            "---\n",
            &["hosts:1:1: `---` is not a host name; this looks like a YAML file"],
        );
        assert_error("web1 =x\n", &["hosts:1:6: variable name missing before `=`"]);
        assert_error(
            "web1:99999999999999999999\n",
            &["port `99999999999999999999` is out of range"],
        );
    }

    #[test]
    fn error_bad_vars_and_children_lines() {
        assert_error(
            "[g]\nh\n[g:vars]\njustaword\n",
            &[
                "hosts:4:1: expected `key=value` in `[g:vars]`, found `justaword`",
                "help: each line of a `:vars` section",
            ],
        );
        assert_error(
            "[g:children]\ntwo words\n",
            &["hosts:2:1: expected a group name in `[g:children]`, found `two words`"],
        );
    }

    #[test]
    fn error_undefined_groups() {
        assert_error(
            "[webservers]\nw1\n[all:children]\nwebserver\n",
            &[
                "hosts:4:1: `[all:children]` names group `webserver`, which is not defined",
                "help: did you mean `webservers`?",
            ],
        );
        assert_error(
            "[web]\nw1\n[wbe:vars]\nx=1\n",
            &[
                "hosts:3:1: `[wbe:vars]` sets variables of group `wbe`, which is not defined",
                "did you mean `web`?",
            ],
        );
    }

    #[test]
    fn error_invalid_utf8_outside_comments() {
        let mut inventory = Inventory::empty();
        let bytes = b"# caf\xe9 comment\nweb1\n";
        assert!(inventory.load_bytes(std::path::Path::new("hosts"), bytes).is_ok());
        let Err(err) = inventory.load_bytes(std::path::Path::new("hosts"), b"web\xe9\n") else {
            panic!("accepted invalid UTF-8");
        };
        assert!(
            err.render().contains("hosts:1:1: this line is not valid UTF-8"),
            "{}",
            err.render()
        );
    }

    /// A small deterministic generator, so the garbage is the same on every run.
    fn garbage(seed: &mut u64, alphabet: &[&str], len: usize) -> String {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                alphabet[(*seed % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    #[test]
    fn garbage_never_panics() {
        let alphabet = [
            "[", "]", ":", "=", "#", ";", "'", "\"", "\\", " ", "\n", ",", "-", ".", "0", "1", "9", "a", "z", "A", "{",
            "}", "(", ")", "*", "!", "&", "~", "vars", "children", "web", "\t", "é", "---", "hosts:", "  ", "0x", "j",
            "\r", "_", "all", "~", "?",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d;
        let fixed = inventory("hosts", "[web]\nweb[1:3]\n[db]\ndb1\n");
        for round in 0..2500 {
            let text = garbage(&mut seed, &alphabet, 1 + round % 40);
            let _ = parse("hosts", &text);
            let _ = parse("hosts.yml", &text);
            let _ = parse_literal(&text);
            let _ = expand_host_pattern(&text);
            let _ = group_var_value(&text);
            let _ = host_var_value(&text);
            let _ = fixed.select(&text);
        }
    }
}
