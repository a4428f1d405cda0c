//! The inventory: hosts, groups and their variables, read from Ansible's INI and YAML formats.
//!
//! Loading builds one model from every `-i` source, the way Ansible's inventory data does: groups
//! and hosts are created as they are met, every group without a parent becomes a child of `all`,
//! and a host that is in no group but `all` is put in `ungrouped`. Variables stay where they were
//! written (group, host, `group_vars/`, `host_vars/`) and [`Inventory::vars_for`] merges them with
//! Ansible's precedence.

mod host_range;
mod ini;
mod list;
mod pattern;
mod python_literal;
mod runtime;
mod vagrant;
mod vars_files;
mod yaml;

pub use vagrant::{VAGRANT_GROUP, VAGRANT_SSH_CONFIG_ENV, vagrant_inventory};

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::Error;
use crate::source::{SourceFile, Span};

use vars_files::VarsDir;

/// Variables by name, in the order they were written.
pub type Vars = serde_json::Map<String, Value>;

/// One inventory host.
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    /// Variables written on the host in inventory files (inline INI vars, YAML host entries).
    vars: Vars,
    /// Groups the host is listed in directly, in the order it was added to them.
    groups: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    /// Variables written for the group in inventory files (`[g:vars]`, YAML `vars:`).
    vars: Vars,
    /// Hosts listed directly in the group, in the order they were listed.
    hosts: Vec<usize>,
    children: Vec<usize>,
    parents: Vec<usize>,
    /// Longest distance from `all`; deeper groups' variables win.
    depth: usize,
    /// `ansible_group_priority`: among groups of the same depth, higher wins.
    priority: i64,
    /// Hosts of the group and of its descendants, in inventory order (filled when loading ends).
    members: Vec<usize>,
}

/// Every host and group bgrun was given, with their variables.
#[derive(Debug, Clone)]
pub struct Inventory {
    hosts: IndexMap<String, Host>,
    groups: IndexMap<String, Group>,
    /// `group_vars/` and `host_vars/` next to each inventory source, in source order.
    inventory_vars: Vec<VarsDir>,
    /// `group_vars/` and `host_vars/` next to the playbook.
    playbook_vars: Option<VarsDir>,
    /// The file being read, recorded as `inventory_file` on the hosts it adds.
    current_source: Option<PathBuf>,
}

const ALL: usize = 0;
const UNGROUPED: usize = 1;

/// File endings of a directory source that are not inventories (Ansible's `INVENTORY_IGNORE_EXTS`).
const IGNORED_SUFFIXES: &[&str] = &[
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

/// Names of a directory source that are never inventories.
const IGNORED_NAMES: &[&str] = &["group_vars", "host_vars", "vars_plugins"];

impl Inventory {
    /// Loads every `-i` source in order and merges them (a later source adds hosts/groups and
    /// overrides vars of earlier ones). A source is: a file (YAML if it ends in .yml/.yaml/.json or
    /// parses as a YAML mapping whose top-level values are group mappings; otherwise INI), a
    /// directory (every file in it except hidden files, group_vars/, host_vars/ and files ending in
    /// .retry, .cfg, .md, .txt, .orig, ~ ...; plus that directory's group_vars/ and host_vars/),
    /// a Vagrant project's machines (`vagrant` or `vagrant:DIR` that is not an existing path; see
    /// [`vagrant_inventory`]), or a comma-separated host list like `web1,web2,` or `localhost,` (a
    /// string containing a comma that is not an existing path).
    /// `playbook_dir`: group_vars/ and host_vars/ next to the playbook are read too.
    pub fn load(sources: &[String], playbook_dir: Option<&Path>) -> Result<Inventory, Error> {
        let mut inventory = Inventory::empty();
        let mut vars_dirs: Vec<PathBuf> = Vec::new();
        for source in sources {
            let path = Path::new(source);
            if path.is_dir() {
                let mut visited = HashSet::new();
                inventory.load_directory(path, &mut visited)?;
                vars_dirs.push(path.to_path_buf());
            } else if path.exists() {
                inventory.load_file(path)?;
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                vars_dirs.push(dir.to_path_buf());
            } else if let Some(dir) = vagrant::source_dir(source) {
                inventory.load_vagrant(&dir)?;
                vars_dirs.push(dir);
            } else if source.contains(',') {
                inventory.load_host_list(source);
            } else {
                return Err(
                    Error::usage(format!("inventory source `{source}` does not exist")).with_help(format!(
                        "pass an inventory file or directory, or a comma-separated host list such as `{},`",
                        source.trim()
                    )),
                );
            }
        }
        inventory.current_source = None;
        inventory.finish();

        let group_names: Vec<String> = inventory.groups.keys().cloned().collect();
        let host_names: Vec<String> = inventory.hosts.keys().cloned().collect();
        for dir in &vars_dirs {
            let loaded = VarsDir::load(dir, &group_names, &host_names)?;
            inventory.inventory_vars.push(loaded);
        }
        if let Some(dir) = playbook_dir {
            inventory.playbook_vars = Some(VarsDir::load(dir, &group_names, &host_names)?);
        }
        Ok(inventory)
    }

    /// Every host in inventory order.
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.groups[ALL]
            .members
            .iter()
            .filter_map(|&i| self.hosts.get_index(i).map(|(_, host)| host))
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    /// Host names matching an Ansible pattern, in inventory order, no duplicates:
    /// `all`, `*`, a host or group name, globs (`web*`, `10.100.*`), `~regex`, unions `a:b` and
    /// `a,b`, intersections `a:&b`, exclusions `a:!b` (unions first, then intersections, then
    /// exclusions), and subscripts `web[0]`, `web[1:3]`. A part that matches nothing adds nothing;
    /// the caller reports "no hosts matched".
    pub fn select(&self, pattern: &str) -> Vec<String> {
        pattern::select(self, pattern)
    }

    /// The host's variables from the inventory, merged with Ansible's precedence (lowest first):
    /// inventory-file group vars by group depth (all < parent group < child group; same depth:
    /// `ansible_group_priority`, then alphabetical, later wins) < inventory group_vars/all <
    /// playbook group_vars/all < inventory group_vars/<group> < playbook group_vars/<group> <
    /// inventory-file host vars < inventory host_vars/<host> < playbook host_vars/<host>.
    /// Top-level keys replace (Ansible's default `hash_behaviour=replace`).
    pub fn vars_for(&self, host: &str) -> Vars {
        let mut out = Vars::new();
        let Some(record) = self.hosts.get(host) else {
            return out;
        };
        let mut groups: Vec<usize> = self.ancestry(record).into_iter().filter(|&g| g != ALL).collect();
        groups.sort_by(|&a, &b| {
            let (a, b) = (&self.groups[a], &self.groups[b]);
            (a.depth, a.priority, &a.name).cmp(&(b.depth, b.priority, &b.name))
        });

        merge(&mut out, Some(&self.groups[ALL].vars));
        for &g in &groups {
            merge(&mut out, Some(&self.groups[g].vars));
        }
        for dir in &self.inventory_vars {
            merge(&mut out, dir.group("all"));
        }
        if let Some(dir) = &self.playbook_vars {
            merge(&mut out, dir.group("all"));
        }
        for dir in self.inventory_vars.iter().chain(self.playbook_vars.as_ref()) {
            for &g in &groups {
                merge(&mut out, dir.group(&self.groups[g].name));
            }
        }
        merge(&mut out, Some(&record.vars));
        for dir in self.inventory_vars.iter().chain(self.playbook_vars.as_ref()) {
            merge(&mut out, dir.host(host));
        }
        out
    }

    /// Group name -> its hosts (including hosts of child groups), in inventory order; includes
    /// `all` and `ungrouped`. This is the magic variable `groups`.
    pub fn groups_map(&self) -> IndexMap<String, Vec<String>> {
        self.groups
            .values()
            .map(|g| (g.name.clone(), self.host_names(&g.members)))
            .collect()
    }

    /// The groups a host belongs to, directly or through children, sorted, without `all`
    /// (Ansible's `group_names`; a host in no other group has `["ungrouped"]`, as in Ansible).
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let Some(record) = self.hosts.get(host) else {
            return Vec::new();
        };
        let mut names: Vec<String> = self
            .ancestry(record)
            .into_iter()
            .filter(|&g| g != ALL)
            .map(|g| self.groups[g].name.clone())
            .collect();
        names.sort();
        names
    }

    fn host_names(&self, indices: &[usize]) -> Vec<String> {
        indices
            .iter()
            .filter_map(|&i| self.hosts.get_index(i).map(|(name, _)| name.clone()))
            .collect()
    }

    /// The host's groups and all their ancestors.
    fn ancestry(&self, host: &Host) -> Vec<usize> {
        let mut seen: HashSet<usize> = HashSet::new();
        let mut queue: VecDeque<usize> = host.groups.iter().copied().collect();
        let mut out = Vec::new();
        while let Some(g) = queue.pop_front() {
            if seen.insert(g) {
                out.push(g);
                queue.extend(self.groups[g].parents.iter().copied());
            }
        }
        out
    }

    // ----- building -----

    fn empty() -> Inventory {
        let mut inventory = Inventory {
            hosts: IndexMap::new(),
            groups: IndexMap::new(),
            inventory_vars: Vec::new(),
            playbook_vars: None,
            current_source: None,
        };
        inventory.add_group("all");
        inventory.add_group("ungrouped");
        inventory.link(ALL, UNGROUPED);
        inventory
    }

    fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.get_index_of(name)
    }

    /// The group's index, creating the group if it is new.
    fn add_group(&mut self, name: &str) -> usize {
        if let Some(index) = self.groups.get_index_of(name) {
            return index;
        }
        let group = Group {
            name: name.to_string(),
            vars: Vars::new(),
            hosts: Vec::new(),
            children: Vec::new(),
            parents: Vec::new(),
            depth: 0,
            priority: 1,
            members: Vec::new(),
        };
        self.groups.insert_full(name.to_string(), group).0
    }

    /// Adds the host (creating it if new) to a group; a port becomes `ansible_port`.
    fn add_host(&mut self, name: &str, group: usize, port: Option<i64>) -> usize {
        let index = match self.hosts.get_index_of(name) {
            Some(index) => index,
            None => {
                let mut vars = Vars::new();
                let (file, dir) = match &self.current_source {
                    Some(path) => (
                        Value::String(path.display().to_string()),
                        Value::String(path.parent().map(|p| p.display().to_string()).unwrap_or_default()),
                    ),
                    None => (Value::Null, Value::Null),
                };
                vars.insert("inventory_file".into(), file);
                vars.insert("inventory_dir".into(), dir);
                let host = Host {
                    name: name.to_string(),
                    vars,
                    groups: Vec::new(),
                };
                self.hosts.insert_full(name.to_string(), host).0
            }
        };
        if let Some(port) = port {
            self.hosts[index].vars.insert("ansible_port".into(), Value::from(port));
        }
        self.add_host_index_to(index, group);
        index
    }

    fn set_group_var(&mut self, group: usize, key: String, value: Value) {
        if key == "ansible_group_priority"
            && let Some(priority) = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        {
            self.groups[group].priority = priority;
        }
        self.groups[group].vars.insert(key, value);
    }

    fn set_host_var(&mut self, host: usize, key: String, value: Value) {
        self.hosts[host].vars.insert(key, value);
    }

    /// Makes `child` a child group of `parent`; the message says why it cannot be.
    fn add_child(&mut self, parent: usize, child: usize) -> Result<(), String> {
        let (parent_name, child_name) = (&self.groups[parent].name, &self.groups[child].name);
        if parent == child {
            return Err(format!("group `{child_name}` cannot be a child of itself"));
        }
        if child == ALL {
            return Err(format!(
                "`all` cannot be a child of group `{parent_name}`: every group is already in `all`"
            ));
        }
        if self.groups[parent].children.contains(&child) {
            return Ok(());
        }
        if self.descends(child, parent) {
            return Err(format!(
                "making `{child_name}` a child of `{parent_name}` creates a loop: `{parent_name}` is already a descendant of `{child_name}`"
            ));
        }
        self.link(parent, child);
        Ok(())
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.groups[parent].children.push(child);
        self.groups[child].parents.push(parent);
    }

    /// Whether `target` is `from` or one of its descendants.
    fn descends(&self, from: usize, target: usize) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![from];
        while let Some(g) = stack.pop() {
            if g == target {
                return true;
            }
            if seen.insert(g) {
                stack.extend(self.groups[g].children.iter().copied());
            }
        }
        false
    }

    /// Ansible's reconciliation once every source is read: parentless groups join `all`, hosts
    /// that are only in `all` join `ungrouped`, hosts in another group leave it; then depths and
    /// member lists are computed.
    fn finish(&mut self) {
        for g in 0..self.groups.len() {
            if g != ALL && self.groups[g].parents.is_empty() {
                self.link(ALL, g);
            }
        }
        let mut left_ungrouped = HashSet::new();
        for h in 0..self.hosts.len() {
            let direct = &self.hosts[h].groups;
            if direct.contains(&UNGROUPED) {
                if direct.iter().any(|&g| g != ALL && g != UNGROUPED) {
                    self.hosts[h].groups.retain(|&g| g != UNGROUPED);
                    left_ungrouped.insert(h);
                }
            } else if direct.iter().all(|&g| g == ALL) {
                self.add_host_index_to(h, UNGROUPED);
            }
        }
        self.groups[UNGROUPED].hosts.retain(|h| !left_ungrouped.contains(h));

        // Depth: the longest path from `all`, in topological order (groups form no loops).
        let mut pending: Vec<usize> = self.groups.values().map(|g| g.parents.len()).collect();
        let mut queue: VecDeque<usize> = (0..self.groups.len()).filter(|&g| pending[g] == 0).collect();
        while let Some(g) = queue.pop_front() {
            let depth = self.groups[g].depth;
            for c in self.groups[g].children.clone() {
                self.groups[c].depth = self.groups[c].depth.max(depth + 1);
                pending[c] -= 1;
                if pending[c] == 0 {
                    queue.push_back(c);
                }
            }
        }

        for g in 0..self.groups.len() {
            let members = self.collect_members(g);
            self.groups[g].members = members;
        }
    }

    /// Lists the host in the group. Membership is kept on both sides, so the host's own (short)
    /// list of groups says whether it is there already, not the group's list of hosts.
    fn add_host_index_to(&mut self, host: usize, group: usize) {
        if !self.hosts[host].groups.contains(&group) {
            self.hosts[host].groups.push(group);
            self.groups[group].hosts.push(host);
        }
    }

    /// Hosts of a group and its descendants, walking the group, then its children, then their
    /// children level by level, as Ansible's `Group.get_hosts` does.
    fn collect_members(&self, group: usize) -> Vec<usize> {
        let mut order = vec![group];
        let mut seen: HashSet<usize> = HashSet::from([group]);
        let mut level = vec![group];
        while !level.is_empty() {
            let mut next = Vec::new();
            for &g in &level {
                for &c in &self.groups[g].children {
                    if seen.insert(c) {
                        order.push(c);
                        next.push(c);
                    }
                }
            }
            level = next;
        }
        let mut hosts_seen = HashSet::new();
        let mut members = Vec::new();
        for g in order {
            for &h in &self.groups[g].hosts {
                if hosts_seen.insert(h) {
                    members.push(h);
                }
            }
        }
        members
    }

    // ----- sources -----

    fn load_directory(&mut self, dir: &Path, visited: &mut HashSet<PathBuf>) -> Result<(), Error> {
        let canonical = std::fs::canonicalize(dir).map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        if !visited.insert(canonical) {
            return Ok(());
        }
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::Read {
                path: dir.to_path_buf(),
                source,
            })?;
            paths.push(entry.path());
        }
        paths.sort();
        for path in paths {
            let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            if is_ignored(&name) {
                continue;
            }
            if path.is_dir() {
                self.load_directory(&path, visited)?;
            } else {
                self.load_file(&path)?;
            }
        }
        Ok(())
    }

    fn load_file(&mut self, path: &Path) -> Result<(), Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.current_source = Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        self.load_bytes(path, &bytes)
    }

    /// Reads one inventory file's content: YAML by extension or by shape, otherwise INI.
    fn load_bytes(&mut self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let utf8 = std::str::from_utf8(bytes).is_ok();
        let file = SourceFile::new(path, String::from_utf8_lossy(bytes).into_owned());
        if file.text.starts_with("$ANSIBLE_VAULT") {
            return Err(
                Error::invalid(Span::new(&file, 1, 1), "this inventory is encrypted with Ansible Vault")
                    .with_help("bgrun cannot decrypt vault files; decrypt it with `ansible-vault decrypt`"),
            );
        }
        match extension.as_str() {
            "yml" | "yaml" | "json" => {
                if !utf8 {
                    return Err(not_utf8(path));
                }
                let root = crate::yaml::parse(&file)?;
                yaml::load(self, &root)
            }
            "toml" => Err(
                Error::invalid(Span::new(&file, 1, 1), "TOML inventories are not supported")
                    .with_help("convert it to the INI or YAML inventory format"),
            ),
            _ => {
                if utf8
                    && let Ok(root) = crate::yaml::parse(&file)
                    && yaml::is_inventory(&root)
                {
                    return yaml::load(self, &root);
                }
                if file.text.starts_with("#!") {
                    return Err(Error::invalid(
                        Span::new(&file, 1, 1),
                        "this is a program (it starts with `#!`), not an inventory file",
                    )
                    .with_help(
                        "bgrun does not run dynamic inventory scripts; save the script's \
                         output as a YAML inventory and pass that",
                    ));
                }
                ini::check_utf8(&file, bytes)?;
                ini::parse(self, &file)
            }
        }
    }

    /// Ansible's host list source: `web1,web2:2222,` adds each host to `ungrouped`.
    fn load_host_list(&mut self, list: &str) {
        self.current_source = None;
        for item in list.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (name, port) = match ini::parse_address(item, false) {
                Some(address) => (address.host.to_string(), address.port.and_then(|p| p.parse().ok())),
                None => (item.to_string(), None),
            };
            if !self.hosts.contains_key(&name) {
                self.add_host(&name, UNGROUPED, port);
            }
        }
    }
}

/// Copies `from` over `into`, top-level keys replacing.
fn merge(into: &mut Vars, from: Option<&Vars>) {
    if let Some(from) = from {
        for (key, value) in from {
            into.insert(key.clone(), value.clone());
        }
    }
}

fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || IGNORED_NAMES.contains(&name) || IGNORED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

fn not_utf8(path: &Path) -> Error {
    Error::Read {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "the file is not valid UTF-8"),
    }
}

/// A span `line:col` in a file, for the parsers.
fn span_at(file: &Arc<SourceFile>, line: usize, col: usize) -> Span {
    Span::new(file, line, col)
}

/// Test helpers shared by the inventory's test modules.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// An inventory read from one file's text, as `load` reads a file named `name`.
    pub(crate) fn parse(name: &str, text: &str) -> Result<Inventory, Error> {
        let mut inventory = Inventory::empty();
        inventory.load_bytes(Path::new(name), text.as_bytes())?;
        inventory.finish();
        Ok(inventory)
    }

    /// Like [`parse`], for input that must load.
    pub(crate) fn inventory(name: &str, text: &str) -> Inventory {
        match parse(name, text) {
            Ok(inventory) => inventory,
            Err(err) => panic!("{}", err.render()),
        }
    }

    /// The rendered error of input that must not load.
    pub(crate) fn error(name: &str, text: &str) -> String {
        match parse(name, text) {
            Ok(_) => panic!("{name} loaded but should not:\n{text}"),
            Err(err) => err.render(),
        }
    }

    pub(crate) fn names(inventory: &Inventory) -> Vec<String> {
        inventory.hosts().map(|h| h.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{error, inventory, names};
    use super::*;
    use serde_json::json;
    use std::fs;

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().expect("file has a parent")).expect("create dirs");
        fs::write(path, text).expect("write file");
    }

    fn load(sources: &[&Path], playbook_dir: Option<&Path>) -> Inventory {
        let sources: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
        match Inventory::load(&sources, playbook_dir) {
            Ok(inventory) => inventory,
            Err(err) => panic!("{}", err.render()),
        }
    }

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory/books-ms")
    }

    #[test]
    fn books_prod_inventory() {
        let dir = fixture();
        let inv = load(&[&dir.join("hosts/prod")], Some(&dir));
        let groups = inv.groups_map();
        assert_eq!(
            groups["flocker-node"],
            ["10.100.192.200", "10.100.192.201", "10.100.192.202"]
        );
        assert_eq!(groups["mesos"], ["10.100.197.201", "10.100.197.202", "10.100.197.203"]);
        assert_eq!(groups["prod"], ["10.100.198.201"]);
        assert!(groups["ungrouped"].is_empty());
        assert_eq!(groups["all"].len(), inv.hosts().count());
        assert_eq!(
            names(&inv)[..4],
            ["10.100.198.200", "10.100.192.200", "10.100.192.201", "10.100.192.202"]
        );

        let swarm_master = inv.vars_for("10.100.192.200");
        assert_eq!(swarm_master["swarm_master"], "true", "as Ansible reads it: a string");
        assert_eq!(swarm_master["consul_extra"], "-server -bootstrap -ui");
        assert_eq!(swarm_master["docker_cfg"], "docker-swarm-master.service");
        assert_eq!(swarm_master["ip"], "10.100.192.200");
        assert_eq!(swarm_master["registry"], "10.100.198.200:5000");

        let prod = inv.vars_for("10.100.198.201");
        assert_eq!(prod["consul_extra"], "-server -bootstrap -ui");
        assert_eq!(prod["ip"], "{{ facter_ipaddress_eth1 }}");
        assert_eq!(
            prod["ansible_ssh_private_key_file"],
            "/vagrant/.vagrant/machines/prod/virtualbox/private_key"
        );
        assert_eq!(prod["jenkins_version"], "1.642.4");

        let mesos = inv.vars_for("10.100.197.202");
        assert_eq!(mesos["mesos_master_ip"], "10.100.197.201");
        assert!(!mesos.contains_key("mesos_master"));
        assert_eq!(inv.vars_for("10.100.197.201")["mesos_master"], "true");

        assert_eq!(
            inv.group_names("10.100.198.200"),
            ["flocker-client", "jenkins-node", "jenkins-node-cd", "registry"]
        );
        assert_eq!(inv.select("prod"), ["10.100.198.201"]);
        assert_eq!(inv.select("swarm:!swarm-master"), ["10.100.192.201", "10.100.192.202"]);
        assert_eq!(inv.select("10.100.192.*:&jenkins-node-swarm"), ["10.100.192.200"]);
    }

    #[test]
    fn all_and_ungrouped() {
        let inv = inventory("hosts", "loose1\nboth\n[web]\nweb1\nboth\n[db]\ndb1\n");
        let groups = inv.groups_map();
        assert_eq!(groups.keys().collect::<Vec<_>>(), ["all", "ungrouped", "web", "db"]);
        assert_eq!(groups["ungrouped"], ["loose1"]);
        assert_eq!(groups["web"], ["web1", "both"]);
        // `all` walks `ungrouped` first, then the other groups; `both` left `ungrouped`.
        assert_eq!(groups["all"], ["loose1", "web1", "both", "db1"]);
        assert_eq!(inv.group_names("both"), ["web"]);
        assert_eq!(inv.group_names("loose1"), ["ungrouped"]);
        assert!(inv.group_names("nobody").is_empty());
        assert!(inv.host("web1").is_some());
        assert!(inv.host("nobody").is_none());
    }

    #[test]
    fn children_hosts_and_order() {
        let inv = inventory(
            "hosts",
            "[parent:children]\nchild\n[parent]\np1\n[child]\nc1\n[other]\no1\n",
        );
        let groups = inv.groups_map();
        assert_eq!(groups["parent"], ["p1", "c1"]);
        // `all` lists its children's hosts level by level, as Ansible does.
        assert_eq!(groups["all"], ["p1", "o1", "c1"]);
        assert_eq!(inv.group_names("c1"), ["child", "parent"]);
    }

    #[test]
    fn host_list_sources() {
        let inv = load_list(&["web1, web2:2222,", "localhost,"]);
        assert_eq!(names(&inv), ["web1", "web2", "localhost"]);
        assert_eq!(inv.groups_map()["ungrouped"], ["web1", "web2", "localhost"]);
        assert_eq!(inv.vars_for("web2")["ansible_port"], json!(2222));
        assert_eq!(inv.vars_for("web1")["inventory_file"], Value::Null);
    }

    fn load_list(sources: &[&str]) -> Inventory {
        let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
        match Inventory::load(&sources, None) {
            Ok(inventory) => inventory,
            Err(err) => panic!("{}", err.render()),
        }
    }

    #[test]
    fn later_sources_add_and_override() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(tmp.path(), "a", "[web]\nweb1 color=red size=1\n[web:vars]\nx=1\n");
        write(
            tmp.path(),
            "b.yml",
            "web:\n  hosts:\n    web1: {color: blue}\n    web2:\n  vars: {x: 2}\n",
        );
        let inv = load(&[&tmp.path().join("a"), &tmp.path().join("b.yml")], None);
        assert_eq!(names(&inv), ["web1", "web2"]);
        let vars = inv.vars_for("web1");
        assert_eq!(vars["color"], "blue");
        assert_eq!(vars["size"], json!(1));
        assert_eq!(vars["x"], json!(2));
        let file = vars["inventory_file"].as_str().expect("inventory_file is set");
        assert!(file.ends_with("/a"), "{file}");
        assert_eq!(vars["inventory_dir"].as_str(), tmp.path().to_str());
    }

    #[test]
    fn directory_source_with_vars_dirs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let inv_dir = tmp.path().join("inv");
        write(&inv_dir, "01-hosts", "[web]\nweb1\n");
        write(
            &inv_dir,
            "02-more.yml",
            "all:\n  children:\n    db:\n      hosts:\n        db1:\n",
        );
        write(&inv_dir, "nested/03-extra", "[web]\nweb2\n");
        // Not inventories: hidden, ignored endings, vars directories.
        write(&inv_dir, ".hidden", "[bad\n");
        write(&inv_dir, "notes.md", "[bad\n");
        write(&inv_dir, "hosts.retry", "[bad\n");
        write(&inv_dir, "ansible.cfg", "[bad\n");
        write(&inv_dir, "hosts.ini~", "[bad\n");
        write(&inv_dir, "hosts.orig", "[bad\n");
        write(&inv_dir, "readme.txt", "[bad\n");
        write(&inv_dir, "group_vars/web.yml", "role: frontend\n");
        write(&inv_dir, "group_vars/db/10-main.yml", "role: database\nport: 5432\n");
        write(&inv_dir, "group_vars/db/20-more.yaml", "port: 5433\n");
        write(&inv_dir, "group_vars/db/notes.txt", "not: read\n");
        write(&inv_dir, "group_vars/db/.hidden.yml", "port: 1\n");
        write(&inv_dir, "host_vars/web1.json", "{\"id\": 1}\n");
        write(&inv_dir, "host_vars/web2", "id: 2\n");

        let inv = load(&[&inv_dir], None);
        // `db` joined `all` while its file was read, `web` only when loading ended (as in Ansible).
        assert_eq!(names(&inv), ["db1", "web1", "web2"]);
        assert_eq!(inv.vars_for("web1")["role"], "frontend");
        assert_eq!(inv.vars_for("web1")["id"], json!(1));
        assert_eq!(inv.vars_for("web2")["id"], json!(2));
        let db = inv.vars_for("db1");
        assert_eq!(db["role"], "database");
        assert_eq!(db["port"], json!(5433));
        assert!(!db.contains_key("not"));
    }

    #[test]
    fn first_matching_vars_file_wins() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(tmp.path(), "hosts", "[web]\nweb1\n");
        write(tmp.path(), "group_vars/web", "from: bare\n");
        write(tmp.path(), "group_vars/web.yml", "from: yml\n");
        write(tmp.path(), "group_vars/all.yaml", "a: 1\n");
        write(tmp.path(), "group_vars/all.json", "{\"a\": 2}\n");
        let inv = load(&[&tmp.path().join("hosts")], None);
        let vars = inv.vars_for("web1");
        assert_eq!(vars["from"], "bare");
        assert_eq!(vars["a"], json!(1));
    }

    /// Level n sets `v<n>` and every `v<i>` above it, so `v<n>` is set by levels 0..=n and must
    /// come from level n: each level overrides every level under it.
    #[test]
    fn precedence_follows_ansible() {
        let levels = [
            "all_inventory",
            "parent_inventory",
            "child_inventory",
            "inventory_group_vars_all",
            "playbook_group_vars_all",
            "inventory_group_vars_parent",
            "inventory_group_vars_child",
            "playbook_group_vars_parent",
            "playbook_group_vars_child",
            "host_inventory",
            "inventory_host_vars",
            "playbook_host_vars",
        ];
        let last = levels.len() - 1;
        let yaml = |n: usize| -> String { (n..=last).map(|i| format!("v{i}: {}\n", levels[n])).collect() };
        let ini = |n: usize| -> String { (n..=last).map(|i| format!("v{i}={}\n", levels[n])).collect() };
        let host_line: Vec<String> = (9..=last).map(|i| format!("v{i}={}", levels[9])).collect();

        let tmp = tempfile::tempdir().expect("tempdir");
        let (inv_dir, play_dir) = (tmp.path().join("inv"), tmp.path().join("play"));
        write(
            &inv_dir,
            "hosts",
            &format!(
                "[child]\nh1 {}\n[parent:children]\nchild\n[all:vars]\n{}[parent:vars]\n{}[child:vars]\n{}",
                host_line.join(" "),
                ini(0),
                ini(1),
                ini(2)
            ),
        );
        write(&inv_dir, "group_vars/all.yml", &yaml(3));
        write(&play_dir, "group_vars/all.yml", &yaml(4));
        write(&inv_dir, "group_vars/parent.yml", &yaml(5));
        write(&inv_dir, "group_vars/child.yml", &yaml(6));
        write(&play_dir, "group_vars/parent.yml", &yaml(7));
        write(&play_dir, "group_vars/child.yml", &yaml(8));
        write(&inv_dir, "host_vars/h1.yml", &yaml(10));
        write(&play_dir, "host_vars/h1/main.yml", &yaml(11));

        let inv = load(&[&inv_dir.join("hosts")], Some(&play_dir));
        let vars = inv.vars_for("h1");
        for (i, level) in levels.iter().enumerate() {
            assert_eq!(vars[&format!("v{i}")], *level, "v{i}");
        }
        assert!(inv.vars_for("nobody").is_empty());
    }

    #[test]
    fn same_depth_groups_merge_alphabetically_then_by_priority() {
        let inv = inventory("hosts", "[b]\nh1\n[a]\nh1\n[a:vars]\nx=a\n[b:vars]\nx=b\n");
        assert_eq!(inv.vars_for("h1")["x"], "b");
        let inv = inventory(
            "hosts",
            "[b]\nh1\n[a]\nh1\n[a:vars]\nx=a\nansible_group_priority=10\n[b:vars]\nx=b\n",
        );
        assert_eq!(inv.vars_for("h1")["x"], "a");
    }

    #[test]
    fn deeper_group_wins_over_alphabet() {
        let yaml = "all:\n  vars: {x: all}\n  children:\n    zz:\n      vars: {x: zz}\n      children:\n        aa:\n          vars: {x: aa}\n          hosts: {h1: }\n";
        let inv = inventory("inv.yml", yaml);
        assert_eq!(inv.vars_for("h1")["x"], "aa");
    }

    #[test]
    fn extensionless_yaml_inventory_is_detected() {
        let inv = inventory("hosts", "all:\n  hosts:\n    web1:\n      ansible_port: 2222\n");
        assert_eq!(names(&inv), ["web1"]);
        assert_eq!(inv.vars_for("web1")["ansible_port"], json!(2222));
    }

    #[test]
    fn missing_source_is_a_usage_error() {
        let Err(err) = Inventory::load(&["no-such-inventory".to_string()], None) else {
            panic!("loaded a missing source");
        };
        let text = err.render();
        assert!(
            text.contains("inventory source `no-such-inventory` does not exist"),
            "{text}"
        );
        assert!(text.contains("`no-such-inventory,`"), "{text}");
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("inv");
        write(&dir, "hosts/oops", "x");
        // A directory where a vars file is expected cannot be read as a file.
        let mut inventory = Inventory::empty();
        let Err(err) = inventory.load_file(&dir.join("hosts")) else {
            panic!("read a directory as a file");
        };
        let text = err.render();
        assert!(text.contains("cannot read `"), "{text}");
        assert!(text.contains("inv/hosts`"), "{text}");
    }

    #[test]
    fn bad_vars_file_points_at_it() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(tmp.path(), "hosts", "web1\n");
        write(tmp.path(), "host_vars/web1.yml", "- a\n- b\n");
        let Err(err) = Inventory::load(&[tmp.path().join("hosts").display().to_string()], None) else {
            panic!("loaded a list as variables");
        };
        let text = err.render();
        assert!(
            text.contains("host_vars/web1.yml:1:1: a variables file must be a mapping"),
            "{text}"
        );
        assert!(text.contains("help: write one `name: value` per line"), "{text}");
    }

    #[test]
    fn vault_and_scripts_are_refused() {
        let text = error("hosts", "$ANSIBLE_VAULT;1.1;AES256\n3061\n");
        assert!(
            text.contains("hosts:1:1: this inventory is encrypted with Ansible Vault"),
            "{text}"
        );
        assert!(text.contains("ansible-vault decrypt"), "{text}");
        let text = error("ec2.py", "#!/usr/bin/env python\nimport json\n");
        assert!(text.contains("ec2.py:1:1: this is a program"), "{text}");
        assert!(
            text.contains("help: bgrun does not run dynamic inventory scripts"),
            "{text}"
        );
        let text = error("hosts.toml", "[web.hosts]\n");
        assert!(
            text.contains("hosts.toml:1:1: TOML inventories are not supported"),
            "{text}"
        );
    }

    #[test]
    fn group_loops_are_errors() {
        let text = error("hosts", "[a:children]\nb\n[b:children]\na\n");
        assert!(
            text.contains("hosts:4:1: making `a` a child of `b` creates a loop"),
            "{text}"
        );
        let text = error("hosts", "[a:children]\na\n");
        assert!(
            text.contains("hosts:2:1: group `a` cannot be a child of itself"),
            "{text}"
        );
        let text = error("inv.yml", "web:\n  children:\n    all:\n");
        assert!(
            text.contains("inv.yml:3:5: `all` cannot be a child of group `web`"),
            "{text}"
        );
    }
}
