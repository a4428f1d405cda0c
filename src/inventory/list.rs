//! The inventory as `ansible-inventory` shows it: `--list` (the JSON of an inventory script),
//! `--host HOST` (one host's variables) and `--graph` (a tree of groups and hosts).
//!
//! `--list` has a key per group with its own `hosts` (never for `all`) and `children`, leaving out
//! empty lists and groups with neither, and `_meta.hostvars` with each host's merged variables
//! (hosts without variables are left out). Ansible's internal variables such as `inventory_file`
//! and `inventory_dir` are not shown, and object keys are sorted, as `ansible-inventory` prints
//! them.

use serde_json::{Map, Value};

use super::{ALL, Inventory, Vars};

/// Variables `ansible-inventory` never shows (its `INTERNAL_VARS`).
const INTERNAL_VARS: &[&str] = &[
    "ansible_diff_mode",
    "ansible_config_file",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_playbook_python",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "omit",
    "playbook_dir",
];

impl Inventory {
    /// `ansible-inventory --list`: `{"_meta": {"hostvars": {...}}, "all": {"children": [...]},
    /// "GROUP": {"hosts": [...], "children": [...]}, ...}`, keys sorted.
    pub fn list_json(&self) -> Value {
        let mut entries: Vec<(String, Value)> = Vec::new();
        for (index, group) in self.groups.values().enumerate() {
            let mut entry = Map::new();
            if index != ALL && !group.hosts.is_empty() {
                entry.insert("hosts".into(), names(self.host_names(&group.hosts)));
            }
            if !group.children.is_empty() {
                let children = group.children.iter().map(|&c| self.groups[c].name.clone()).collect();
                entry.insert("children".into(), names(children));
            }
            if !entry.is_empty() {
                entries.push((group.name.clone(), sorted(Value::Object(entry))));
            }
        }

        let mut hostvars: Vec<(String, Value)> = self
            .hosts()
            .filter_map(|host| {
                let vars = self.host_json(&host.name)?;
                let empty = vars.as_object().is_some_and(Map::is_empty);
                (!empty).then(|| (host.name.clone(), vars))
            })
            .collect();
        hostvars.sort_by(|a, b| a.0.cmp(&b.0));
        let mut meta = Map::new();
        meta.insert("hostvars".into(), Value::Object(hostvars.into_iter().collect()));
        entries.push(("_meta".into(), Value::Object(meta)));

        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(entries.into_iter().collect())
    }

    /// `ansible-inventory --host HOST`: the host's merged variables without Ansible's internal
    /// ones, keys sorted; `None` for a host the inventory does not have.
    pub fn host_json(&self, host: &str) -> Option<Value> {
        self.host(host)?;
        let vars: Vars = self
            .vars_for(host)
            .into_iter()
            .filter(|(key, _)| !INTERNAL_VARS.contains(&key.as_str()))
            .collect();
        Some(sorted(Value::Object(vars)))
    }

    /// `ansible-inventory --graph`: `@all:` and, under it, each group's child groups, then its
    /// own hosts, one line each and ending in a newline:
    ///
    /// ```text
    /// @all:
    ///   |--@ungrouped:
    ///   |--@web:
    ///   |  |--web1
    /// ```
    pub fn graph_text(&self) -> String {
        self.graph_text_from("all").unwrap_or_default()
    }

    /// `ansible-inventory --graph GROUP`: the tree under one group; `None` when there is no group
    /// of that name.
    pub fn graph_text_from(&self, group: &str) -> Option<String> {
        let start = self.group_index(group)?;
        let mut out = String::new();
        self.graph_group(start, 0, &mut out);
        Some(out)
    }

    fn graph_group(&self, group: usize, depth: usize, out: &mut String) {
        let record = &self.groups[group];
        graph_line(out, depth, &format!("@{}:", record.name));
        for &child in &record.children {
            self.graph_group(child, depth + 1, out);
        }
        if group != ALL {
            for name in self.host_names(&record.hosts) {
                graph_line(out, depth + 1, &name);
            }
        }
    }
}

fn graph_line(out: &mut String, depth: usize, text: &str) {
    if depth > 0 {
        out.push_str(&"  |".repeat(depth));
        out.push_str("--");
    }
    out.push_str(text);
    out.push('\n');
}

fn names(list: Vec<String>) -> Value {
    Value::Array(list.into_iter().map(Value::String).collect())
}

/// The value with the keys of every object in it sorted, as Python's `json.dumps(sort_keys=True)`.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::inventory;
    use serde_json::json;

    const HOSTS: &str = "loose port=8080\n\
                         [web:children]\nfront\n\
                         [web]\nweb1 color=red\n\
                         [front]\nf1\nf2 ansible_port=2222\n\
                         [db]\ndb1 role=main\n\
                         [empty]\n\
                         [web:vars]\nzone=b\n\
                         [all:vars]\nnested={'z': 1, 'a': [{'y': 2, 'b': 3}]}\n";

    #[test]
    fn list_has_ansibles_shape() {
        let inv = inventory("hosts", HOSTS);
        let list = inv.list_json();
        let nested = json!({"a": [{"b": 3, "y": 2}], "z": 1});
        assert_eq!(
            list,
            json!({
                "_meta": {"hostvars": {
                    "db1": {"nested": nested, "role": "main"},
                    "f1": {"nested": nested, "zone": "b"},
                    "f2": {"ansible_port": 2222, "nested": nested, "zone": "b"},
                    "loose": {"nested": nested, "port": 8080},
                    "web1": {"color": "red", "nested": nested, "zone": "b"},
                }},
                "all": {"children": ["ungrouped", "web", "db", "empty"]},
                "db": {"hosts": ["db1"]},
                "front": {"hosts": ["f1", "f2"]},
                "ungrouped": {"hosts": ["loose"]},
                "web": {"hosts": ["web1"], "children": ["front"]},
            })
        );
        // Printed with sorted keys at every level, as `ansible-inventory --list` prints them.
        let text = serde_json::to_string(&list).expect("serialises");
        assert!(
            text.starts_with(
                "{\"_meta\":{\"hostvars\":{\"db1\":{\"nested\":{\"a\":[{\"b\":3,\"y\":2}],\"z\":1},\"role\":\"main\"}"
            ),
            "{text}"
        );
        assert!(
            text.contains("\"web\":{\"children\":[\"front\"],\"hosts\":[\"web1\"]}"),
            "{text}"
        );
    }

    #[test]
    fn hosts_without_variables_and_empty_groups_are_left_out() {
        let inv = inventory("hosts", "[web]\nweb1\n[db]\n");
        assert_eq!(
            inv.list_json(),
            json!({
                "_meta": {"hostvars": {}},
                "all": {"children": ["ungrouped", "web", "db"]},
                "web": {"hosts": ["web1"]},
            })
        );
    }

    #[test]
    fn host_json_shows_one_host() {
        let inv = inventory("hosts", HOSTS);
        assert_eq!(
            inv.host_json("web1"),
            Some(json!({"color": "red", "nested": {"a": [{"b": 3, "y": 2}], "z": 1}, "zone": "b"}))
        );
        assert_eq!(inv.host_json("nobody"), None);
    }

    #[test]
    fn graph_is_a_tree() {
        let inv = inventory("hosts", HOSTS);
        assert_eq!(
            inv.graph_text(),
            "@all:\n\
             \x20 |--@ungrouped:\n\
             \x20 |  |--loose\n\
             \x20 |--@web:\n\
             \x20 |  |--@front:\n\
             \x20 |  |  |--f1\n\
             \x20 |  |  |--f2\n\
             \x20 |  |--web1\n\
             \x20 |--@db:\n\
             \x20 |  |--db1\n\
             \x20 |--@empty:\n"
        );
        assert_eq!(
            inv.graph_text_from("web").as_deref(),
            Some("@web:\n  |--@front:\n  |  |--f1\n  |  |--f2\n  |--web1\n")
        );
        assert_eq!(inv.graph_text_from("nope"), None);
    }

    #[test]
    fn vagrant_machines_list() {
        let text = "Host cd\n  HostName 127.0.0.1\n  User vagrant\n  Port 2222\n  StrictHostKeyChecking no\n";
        let inv = match super::Inventory::from_vagrant_ssh_config(text, "ssh-config") {
            Ok(inv) => inv,
            Err(err) => panic!("{}", err.render()),
        };
        assert_eq!(
            inv.list_json(),
            json!({
                "_meta": {"hostvars": {"cd": {
                    "ansible_host": "127.0.0.1",
                    "ansible_host_key_checking": false,
                    "ansible_port": 2222,
                    "ansible_user": "vagrant",
                }}},
                "all": {"children": ["ungrouped", "vagrant"]},
                "vagrant": {"hosts": ["cd"]},
            })
        );
        assert_eq!(
            inv.graph_text(),
            "@all:\n  |--@ungrouped:\n  |--@vagrant:\n  |  |--cd\n"
        );
    }
}
