//! The variables a step sees on a host, layered with Ansible's precedence, plus the magic
//! variables (`inventory_hostname`, `groups`, `hostvars`, ...).

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use serde_json::Value as Json;

use crate::template::{Scope, Templar, Vars};

/// Every host's variables below the play (inventory and facts), for `hostvars`.
#[derive(Debug)]
pub struct HostVars {
    pub templar: Arc<Templar>,
    pub hosts: HashMap<String, Vars>,
    pub order: Vec<String>,
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let vars = self.hosts.get(key.as_str()?)?;
        Some(Scope::new(&self.templar, vars.clone()).to_value())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.order.iter().map(|h| Value::from(h.as_str())).collect())
    }
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

/// Magic variables of a host in a play.
pub struct Magic<'a> {
    pub host: &'a str,
    pub groups: &'a Json,
    pub group_names: Vec<String>,
    pub play_hosts: &'a [String],
    pub playbook_dir: &'a str,
    pub check: bool,
    pub diff: bool,
    pub verbosity: u8,
    /// The role of the step: its name and folder.
    pub role: Option<(&'a str, &'a std::path::Path)>,
}

/// The magic variables that place a host in the inventory, the same in and out of a play:
/// `inventory_hostname`, `inventory_hostname_short`, `groups` and `group_names`.
pub fn inventory_magic(host: &str, groups: &Json, group_names: Vec<String>) -> Vars {
    let mut vars = Vars::new();
    let short = host.split('.').next().unwrap_or(host);
    vars.insert("inventory_hostname".into(), Json::from(host));
    vars.insert("inventory_hostname_short".into(), Json::from(short));
    vars.insert("groups".into(), groups.clone());
    vars.insert("group_names".into(), Json::from(group_names));
    vars
}

impl Magic<'_> {
    pub fn vars(&self) -> Vars {
        let mut vars = inventory_magic(self.host, self.groups, self.group_names.clone());
        let hosts = Json::from(self.play_hosts.to_vec());
        vars.insert("play_hosts".into(), hosts.clone());
        vars.insert("ansible_play_hosts".into(), hosts.clone());
        vars.insert("ansible_play_batch".into(), hosts);
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
