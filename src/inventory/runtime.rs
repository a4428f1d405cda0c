//! Changes to the inventory while a run goes on, as Ansible's `add_host` and `group_by` make
//! them: the next plays see the new hosts and groups.

use super::{ALL, Inventory, Vars};

impl Inventory {
    /// `add_host`: the host (created if new) in each group (created if new), with variables
    /// that win over its inventory ones; whether anything changed, as Ansible counts it.
    pub fn add_host_at_run_time(&mut self, name: &str, groups: &[String], vars: Vars) -> bool {
        let mut changed = !self.hosts.contains_key(name);
        let known_groups = self.groups.len();
        let mut indices: Vec<usize> = groups.iter().map(|g| self.add_group(g)).collect();
        changed |= self.groups.len() > known_groups;
        if indices.is_empty() && changed {
            indices.push(ALL);
        }
        for group in indices {
            let joined = self.hosts.get(name).is_none_or(|h| !h.groups.contains(&group));
            changed |= joined;
            self.add_host(name, group, None);
        }
        if let Some(host) = self.hosts.get_mut(name) {
            for (key, value) in vars {
                changed |= host.vars.get(&key) != Some(&value);
                host.vars.insert(key, value);
            }
        }
        self.finish();
        changed
    }

    /// `group_by`: the host in the group (created if new), the group a child of each parent;
    /// whether anything changed, as Ansible counts it.
    pub fn add_group_at_run_time(&mut self, host: &str, group: &str, parents: &[String]) -> bool {
        let Some(host) = self.hosts.get_index_of(host) else {
            return false;
        };
        let known_groups = self.groups.len();
        let index = self.add_group(group);
        let mut changed = self.groups.len() > known_groups;
        for parent in parents {
            let parent = self.add_group(parent);
            if parent != index && !self.groups[index].parents.contains(&parent) && !self.descends(index, parent) {
                self.link(parent, index);
                changed = true;
            }
        }
        changed |= !self.hosts[host].groups.contains(&index);
        self.add_host_index_to(host, index);
        self.finish();
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::super::Inventory;

    #[test]
    fn added_hosts_and_groups_are_selected_and_grouped() {
        let mut inventory = Inventory::empty();
        inventory.add_host("a", super::super::UNGROUPED, None);
        inventory.finish();
        let vars = serde_json::Map::from_iter([("v".to_string(), serde_json::json!(1))]);
        inventory.add_host_at_run_time("new", &["web".into()], vars);
        inventory.add_group_at_run_time("a", "os_linux", &["linux".into()]);
        assert_eq!(inventory.select("web"), ["new"]);
        assert_eq!(inventory.select("linux"), ["a"]);
        assert_eq!(inventory.group_names("a"), ["linux", "os_linux"]);
        assert_eq!(inventory.vars_for("new")["v"], 1);
        let mut all = inventory.select("all");
        all.sort();
        assert_eq!(all, ["a", "new"]);
    }
}
