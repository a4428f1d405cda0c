//! `add_host` and `group_by`: they name a change to the inventory (`add_host`, `add_group` in
//! their result, as Ansible's do), which the run makes for the plays that follow.

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{Failure, Inspect, Outcome, StepContext};
use crate::template::Vars;

/// `add_host: {name: web3, groups: [web], ansible_host: 10.0.0.3}`: every other argument is a
/// variable of the host.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct AddHost(Vars);

impl Inspect for AddHost {
    const ANY_ARGUMENTS: bool = true;

    async fn inspect(self, _cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let mut args = self.0;
        let name = ["name", "hostname", "host"]
            .iter()
            .find_map(|k| args.get(*k).map(crate::yaml::scalar_text))
            .ok_or_else(|| Failure::new("name, host or hostname needs to be provided"))?;
        let (name, port) = split_port(&name);
        if let Some(port) = port {
            args.insert("ansible_ssh_port".into(), Json::from(port));
        }
        let groups = match ["groupname", "groups", "group"].iter().find_map(|k| args.get(*k)) {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(items)) => items.iter().map(crate::yaml::scalar_text).collect(),
            Some(Json::String(text)) => text.split(',').map(|g| g.trim().to_string()).collect(),
            Some(_) => return Err(Failure::new("Groups must be specified as a list.")),
        };
        let mut unique: Vec<String> = Vec::new();
        for group in groups.into_iter().filter(|g| !g.is_empty()) {
            if !unique.contains(&group) {
                unique.push(group);
            }
        }
        // As in Ansible, `host` and `group` are variables too; the other names are not.
        let host_vars: Vars = args
            .into_iter()
            .filter(|(k, _)| !matches!(k.as_str(), "name" | "hostname" | "groupname" | "groups"))
            .collect();
        Ok(Outcome::ok().with(
            "add_host",
            json!({"host_name": name, "groups": unique, "host_vars": host_vars}),
        ))
    }
}

/// `host:port` and `[v6]:port` as Ansible's `parse_address` splits them; a bare name keeps
/// what it has.
fn split_port(address: &str) -> (String, Option<u16>) {
    if let Some(rest) = address.strip_prefix('[')
        && let Some((host, port)) = rest.split_once("]:")
        && let Ok(port) = port.parse()
    {
        return (host.to_string(), Some(port));
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && !host.is_empty() => match port.parse() {
            Ok(port) => (host.to_string(), Some(port)),
            Err(_) => (address.to_string(), None),
        },
        _ => (address.to_string(), None),
    }
}

/// `group_by: key=os_{{ ansible_os_family }}`: the host joins the group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBy {
    key: String,
    #[serde(default)]
    parents: Option<Parents>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Parents {
    One(String),
    Many(Vec<String>),
}

impl Inspect for GroupBy {
    async fn inspect(self, _cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let parents = match self.parents {
            None => vec!["all".to_string()],
            Some(Parents::One(p)) => vec![p],
            Some(Parents::Many(ps)) => ps,
        };
        let parents: Vec<String> = parents.iter().map(|p| p.replace(' ', "-")).collect();
        Ok(Outcome::ok()
            .with("add_group", self.key.replace(' ', "-"))
            .with("parent_groups", parents))
    }
}

#[cfg(test)]
mod tests {
    use super::split_port;

    #[test]
    fn ports_split_as_ansible() {
        assert_eq!(split_port("web:2222"), ("web".into(), Some(2222)));
        assert_eq!(split_port("[::1]:22"), ("::1".into(), Some(22)));
        assert_eq!(split_port("::1"), ("::1".into(), None));
        assert_eq!(split_port("web"), ("web".into(), None));
    }
}
