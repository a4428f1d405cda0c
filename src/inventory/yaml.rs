//! Ansible's YAML inventory format: top-level groups (usually just `all`), each a mapping of
//! `hosts` (host -> variables), `vars` and `children` (nested groups of the same shape).

use serde_json::Value;

use super::{Inventory, Vars, ini};
use crate::error::{Error, suggest};
use crate::source::Span;
use crate::yaml::{Node, NodeValue};

const GROUP_KEYS: [&str; 3] = ["hosts", "vars", "children"];

/// Whether a YAML document has the shape of an inventory: a non-empty mapping whose values are
/// all mappings or empty. Files without a .yml extension are read as YAML only when they do.
pub(super) fn is_inventory(root: &Node) -> bool {
    root.as_map()
        .is_some_and(|entries| !entries.is_empty() && entries.iter().all(|(_, v)| v.is_null() || v.as_map().is_some()))
}

/// Reads a YAML inventory document into `inventory`.
pub(super) fn load(inventory: &mut Inventory, root: &Node) -> Result<(), Error> {
    if root.is_null() {
        return Ok(());
    }
    let Some(entries) = root.as_map() else {
        return Err(root
            .error(format!(
                "a YAML inventory must be a mapping of group names to groups, found {}",
                root.kind()
            ))
            .with_help("start with `all:`, put `hosts:` under it and each host under that as a key ending in `:`"));
    };
    if let Some((key, _)) = entries.iter().find(|(k, _)| k.as_str() == Some("plugin")) {
        return Err(key
            .error("this is an inventory plugin configuration, and bgrun does not run inventory plugins")
            .with_help("write the hosts in a YAML inventory: `all:` with `hosts:` under it"));
    }
    for (key, value) in entries {
        group(inventory, key, value, 0)?;
    }
    Ok(())
}

/// Reads one group and, recursively, its children; returns its index.
fn group(inventory: &mut Inventory, key: &Node, data: &Node, depth: usize) -> Result<usize, Error> {
    let name = key.key_text();
    if depth > 200 {
        return Err(key
            .error("groups are nested too deeply")
            .with_help("check the indentation of `children:`"));
    }
    let index = inventory.add_group(&name);
    let entries = match &data.value {
        NodeValue::Null => return Ok(index),
        NodeValue::Map(entries) => entries,
        _ => {
            let help = if data.as_seq().is_some() {
                format!(
                    "put `hosts:` under `{name}:` and each host under that as a key ending in `:`, not as a list item"
                )
            } else {
                format!("write `{name}:` followed by indented `hosts:`, `vars:` or `children:`")
            };
            return Err(data
                .error(format!(
                    "group `{name}` must be a mapping of `hosts`, `vars` and `children`, found {}",
                    data.kind()
                ))
                .with_help(help));
        }
    };
    for (section_key, section) in entries {
        let section_name = section_key.key_text();
        if !GROUP_KEYS.contains(&section_name.as_str()) {
            return Err(unknown_key(section_key, &section_name, &name));
        }
        let items: Vec<(Node, Node)> = match &section.value {
            NodeValue::Null => continue,
            NodeValue::Str(_) => vec![(
                section.clone(),
                Node {
                    value: NodeValue::Null,
                    span: section.span.clone(),
                },
            )],
            NodeValue::Map(items) => items.clone(),
            _ => {
                let help = match section_name.as_str() {
                    "hosts" => {
                        "write each host as a key ending in `:` (like `web1:`), with its variables indented under it"
                    }
                    "vars" => "write variables as `name: value` lines under `vars:`",
                    _ => "write each child group as a key ending in `:` (like `webservers:`), not as a list item",
                };
                return Err(section
                    .error(format!(
                        "`{section_name}` of group `{name}` must be a mapping, found {}",
                        section.kind()
                    ))
                    .with_help(help));
            }
        };
        match section_name.as_str() {
            "vars" => {
                for (var, value) in &items {
                    inventory.set_group_var(index, var.key_text(), value.to_json());
                }
            }
            "children" => {
                for (child_key, child_data) in &items {
                    let child = group(inventory, child_key, child_data, depth + 1)?;
                    inventory
                        .add_child(index, child)
                        .map_err(|message| child_key.error(message))?;
                }
            }
            _ => {
                for (host_key, host_data) in &items {
                    hosts(inventory, index, host_key, host_data)?;
                }
            }
        }
    }
    Ok(index)
}

/// One entry under `hosts:`: a host pattern (ranges and `:port` allowed) and its variables.
fn hosts(inventory: &mut Inventory, group: usize, key: &Node, data: &Node) -> Result<(), Error> {
    let pattern = key.key_text();
    let (names, port) = ini::expand_host_pattern(&pattern).map_err(|e| {
        let col = key.span.col + pattern.get(..e.offset).map_or(0, |s| s.chars().count());
        let span = Span::new(&key.span.file, key.span.line, col);
        let error = Error::invalid(span, e.message);
        match e.help {
            Some(help) => error.with_help(help),
            None => error,
        }
    })?;
    let vars: Vars = match data.to_json() {
        Value::Null => Vars::new(),
        Value::Object(map) => map,
        _ => {
            return Err(data
                .error(format!(
                    "the variables of host `{pattern}` must be a mapping, found {}",
                    data.kind()
                ))
                .with_help(format!(
                    "write `{pattern}:` followed by indented `name: value` lines, or nothing after it"
                )));
        }
    };
    for name in names {
        let host = inventory.add_host(&name, group, port);
        for (k, v) in &vars {
            inventory.set_host_var(host, k.clone(), v.clone());
        }
    }
    Ok(())
}

fn unknown_key(key: &Node, found: &str, group: &str) -> Error {
    match suggest(found, GROUP_KEYS) {
        Some(suggestion) => Error::UnknownKey {
            span: key.span.clone(),
            key: found.to_string(),
            context: format!("group `{group}`"),
            suggestion: Some(suggestion),
        },
        None => {
            Error::invalid(key.span.clone(), format!("unknown key `{found}` in group `{group}`")).with_help(format!(
                "a group takes only `hosts`, `vars` and `children`; to make `{found}` a child group, put it under \
             `children:`"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, inventory, names, parse};
    use serde_json::json;

    const INVENTORY: &str = "\
all:
  vars:
    ntp: time.example.com
  hosts:
    bastion:
  children:
    web:
      hosts:
        web[1:2].example.com:
          http_port: 8080
        web3.example.com:2222:
      vars:
        role: front
    db:
      children:
        primary:
          hosts:
            db1: {ansible_host: 10.0.0.5}
        replica:
          hosts: db2
extra:
  hosts:
    db1:
";

    #[test]
    fn groups_hosts_vars_children() {
        let inv = inventory("inv.yml", INVENTORY);
        let groups = inv.groups_map();
        assert_eq!(
            groups.keys().collect::<Vec<_>>(),
            ["all", "ungrouped", "web", "db", "primary", "replica", "extra"]
        );
        assert_eq!(
            groups["web"],
            ["web1.example.com", "web2.example.com", "web3.example.com"]
        );
        assert_eq!(groups["db"], ["db1", "db2"]);
        assert_eq!(groups["ungrouped"], ["bastion"]);
        assert_eq!(names(&inv)[0], "bastion");
        assert_eq!(inv.group_names("db1"), ["db", "extra", "primary"]);

        let web1 = inv.vars_for("web1.example.com");
        assert_eq!(web1["http_port"], json!(8080));
        assert_eq!(web1["role"], "front");
        assert_eq!(web1["ntp"], "time.example.com");
        assert_eq!(inv.vars_for("web3.example.com")["ansible_port"], json!(2222));
        assert_eq!(inv.vars_for("db1")["ansible_host"], "10.0.0.5");
    }

    #[test]
    fn json_inventory_and_empty_file() {
        let inv = inventory(
            "inv.json",
            r#"{"web": {"hosts": {"w1": {"x": [1, 2]}}, "vars": {"y": true}}}"#,
        );
        assert_eq!(inv.vars_for("w1")["x"], json!([1, 2]));
        assert_eq!(inv.vars_for("w1")["y"], json!(true));
        assert!(names(&inventory("empty.yml", "")).is_empty());
    }

    fn assert_error(name: &str, text: &str, expected: &[&str]) {
        let rendered = error(name, text);
        for part in expected {
            assert!(rendered.contains(part), "missing {part:?} in:\n{rendered}");
        }
    }

    #[test]
    fn error_unknown_key_suggests() {
        assert_error(
            "inv.yml",
            "all:\n  children:\n    web:\n      hostz:\n        w1:\n",
            &[
                "error: inv.yml:4:7: unknown key `hostz` in group `web`",
                "4 |       hostz:\n  |       ^",
                "help: did you mean `hosts`?",
            ],
        );
        assert_error(
            "inv.yml",
            "all:\n  webservers:\n    hosts:\n      w1:\n",
            &[
                "inv.yml:2:3: unknown key `webservers` in group `all`",
                "help: a group takes only `hosts`, `vars` and `children`; to make `webservers` a child group, put it under `children:`",
            ],
        );
    }

    #[test]
    fn error_wrong_shapes() {
        assert_error(
            "inv.yml",
            "web:\n  hosts:\n    - w1\n    - w2\n",
            &[
                "inv.yml:3:5: `hosts` of group `web` must be a mapping, found a list",
                "help: write each host as a key ending in `:`",
            ],
        );
        assert_error(
            "inv.yml",
            "web:\n  hosts:\n    w1: 22\n",
            &[
                "inv.yml:3:9: the variables of host `w1` must be a mapping, found an integer",
                "help: write `w1:` followed by indented `name: value` lines",
            ],
        );
        assert_error(
            "inv.yml",
            "- web\n",
            &["inv.yml:1:1: a YAML inventory must be a mapping of group names to groups, found a list"],
        );
        assert_error(
            "inv.yml",
            "web: [w1, w2]\n",
            &[
                "inv.yml:1:6: group `web` must be a mapping of `hosts`, `vars` and `children`, found a list",
                "help: put `hosts:` under `web:`",
            ],
        );
        assert_error(
            "inv.yml",
            "plugin: aws_ec2\n",
            &["inv.yml:1:1: this is an inventory plugin configuration"],
        );
        assert_error(
            "inv.yml",
            "web:\n  hosts:\n    w[3:1]:\n",
            &["inv.yml:3:6: host range `[3:1]` must have begin <= end"],
        );
        assert_error("inv.yml", "web: [unclosed\n", &["inv.yml:"]);
    }

    #[test]
    fn yaml_garbage_never_panics() {
        let alphabet = [
            "all:",
            "hosts:",
            "vars:",
            "children:",
            "\n",
            "  ",
            "- ",
            "web",
            "[",
            "]",
            "{",
            "}",
            ":",
            ",",
            "'",
            "\"",
            "&a ",
            "*a",
            "<<: ",
            "1",
            "~",
            "null",
            "!!str ",
            "#",
            "web[1:3]",
            ":22",
            "? ",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..2000 {
            let text: String = (0..1 + round % 30)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = parse("inv.yml", &text);
            let _ = parse("hosts", &text);
        }
    }
}
