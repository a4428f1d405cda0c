//! The variables a step sees on a host, layered with Ansible's precedence, plus the magic
//! variables (`inventory_hostname`, `groups`, `hostvars`, ...).

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use serde_json::Value as Json;

use crate::inventory::Inventory;
use crate::template::{Scope, Templar, Vars, from_json};

/// `hostvars`: every host's variables below the play (inventory and facts), made when a host's
/// template reads them. The facts are those known when the step started.
#[derive(Debug)]
pub struct HostVars {
    pub templar: Arc<Templar>,
    pub inventory: Arc<Inventory>,
    pub facts: HashMap<String, Arc<Vars>>,
    /// Hosts of the play that are not in the inventory (an implicit `localhost`).
    pub outside_inventory: Vec<String>,
}

impl HostVars {
    fn knows(&self, host: &str) -> bool {
        self.inventory.host(host).is_some() || self.outside_inventory.iter().any(|h| h == host)
    }
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str().filter(|name| self.knows(name))?;
        let mut vars = self.inventory.vars_for(name);
        vars.insert("inventory_hostname".into(), Json::from(name));
        if let Some(facts) = self.facts.get(name) {
            vars.extend(facts.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Some(Scope::new(&self.templar, vars).to_value())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let inventory = self.inventory.hosts().map(|h| h.name.as_str());
        let hosts = inventory.chain(self.outside_inventory.iter().map(String::as_str));
        Enumerator::Values(hosts.map(Value::from).collect())
    }
}

/// The magic variables all hosts of a batch share, as template values made once, so that each
/// host's scope holds them without a copy: `groups`, `play_hosts`, `ansible_play_hosts` and
/// `ansible_play_batch`.
pub fn shared_magic(groups: &Value, play_hosts: &[String]) -> Vec<(String, Value)> {
    let hosts = from_json(&Json::from(play_hosts.to_vec()));
    vec![
        ("groups".into(), groups.clone()),
        ("play_hosts".into(), hosts.clone()),
        ("ansible_play_hosts".into(), hosts.clone()),
        ("ansible_play_batch".into(), hosts),
    ]
}

/// Merges layers, later ones overriding earlier ones key by key.
pub fn layered<'a>(layers: impl IntoIterator<Item = &'a Vars>) -> Vars {
    let mut out = Vars::new();
    for layer in layers {
        for (k, v) in layer {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Magic variables of a host in a play, but for those all its hosts share ([`shared_magic`]).
pub struct Magic<'a> {
    pub host: &'a str,
    pub group_names: Vec<String>,
    pub playbook_dir: &'a str,
    pub check: bool,
    pub diff: bool,
    pub verbosity: u8,
    /// The role of the step: its name and folder.
    pub role: Option<(&'a str, &'a std::path::Path)>,
}

/// The magic variables that place a host in the inventory, the same in and out of a play:
/// `inventory_hostname`, `inventory_hostname_short` and `group_names` (`groups` is shared).
pub fn inventory_magic(host: &str, group_names: Vec<String>) -> Vars {
    let mut vars = Vars::new();
    let short = host.split('.').next().unwrap_or(host);
    vars.insert("inventory_hostname".into(), Json::from(host));
    vars.insert("inventory_hostname_short".into(), Json::from(short));
    vars.insert("group_names".into(), Json::from(group_names));
    vars
}

impl Magic<'_> {
    pub fn vars(&self) -> Vars {
        let mut vars = inventory_magic(self.host, self.group_names.clone());
        vars.insert("playbook_dir".into(), Json::from(self.playbook_dir));
        vars.insert("ansible_check_mode".into(), Json::from(self.check));
        vars.insert("ansible_diff_mode".into(), Json::from(self.diff));
        vars.insert("ansible_verbosity".into(), Json::from(self.verbosity));
        if let Some((name, path)) = self.role {
            vars.insert("role_name".into(), Json::from(name));
            vars.insert("role_path".into(), Json::from(path.display().to_string()));
        }
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostvars_are_read_when_a_template_asks_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = dir.path().join("hosts");
        std::fs::write(&hosts, "[web]\nweb1 port=80\nweb2 port=81\n").unwrap();
        let inventory = Inventory::load(&[hosts.display().to_string()], None).unwrap();
        let templar = Templar::new();
        let hostvars = HostVars {
            templar: Arc::clone(&templar),
            inventory: Arc::new(inventory),
            facts: HashMap::from([(
                "web2".to_string(),
                Arc::new(Vars::from_iter([("up".into(), Json::from(true))])),
            )]),
            outside_inventory: vec!["localhost".into()],
        };
        let extra = vec![("hostvars".to_string(), Value::from_dyn_object(Arc::new(hostvars)))];
        let scope = Scope::with_values(&templar, Vars::new(), extra);
        let text =
            "{{ hostvars.web1.port }} {{ hostvars.web2.up }} {{ hostvars | list | join(',') }} {{ 'db' in hostvars }}";
        assert_eq!(
            templar.render_string(text, &scope).unwrap(),
            Json::from("80 True web1,web2,localhost False")
        );
    }
}
