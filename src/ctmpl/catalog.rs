//! The Consul data a `.ctmpl` file reads, and the store it is read from.
//!
//! Rendering never talks to Consul itself: it asks a [`Catalog`], which either has the data
//! ([`Lookup::Ready`]) or names what must be fetched first ([`Lookup::Missing`] with a
//! [`Dependency`]). [`Snapshot`] is the catalog bgrun fills from Consul's answers; it applies the
//! same filtering, sorting and key shaping consul-template applies to those answers, so a template
//! renders to the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The health of a service instance, aggregated over its checks as consul-template does:
/// maintenance wins over critical, critical over warning, warning over passing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum HealthState {
    #[default]
    Passing,
    Warning,
    Critical,
    Maintenance,
}

impl HealthState {
    /// Every state: what the `any` filter of `service` accepts.
    pub const ALL: [HealthState; 4] = [
        HealthState::Passing,
        HealthState::Warning,
        HealthState::Critical,
        HealthState::Maintenance,
    ];

    /// The word consul-template uses for the state (`.Status` in a template).
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Passing => "passing",
            HealthState::Warning => "warning",
            HealthState::Critical => "critical",
            HealthState::Maintenance => "maintenance",
        }
    }

    /// Parses one of consul-template's state words.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == word)
    }

    /// The aggregated state of a list of check states (`passing` when there are none).
    pub fn aggregate(checks: impl IntoIterator<Item = HealthState>) -> Self {
        checks.into_iter().max().unwrap_or_default()
    }
}

impl fmt::Display for HealthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One instance of a service with its health (consul-template's `HealthService`). Templates read
/// the fields by consul-template's names: `.Node`, `.NodeID`, `.NodeAddress`, `.NodeDatacenter`,
/// `.NodeTaggedAddresses`, `.NodeMeta`, `.ServiceMeta`, `.Address`, `.ID`, `.Name`, `.Tags`,
/// `.Status`, `.Port`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceInstance {
    pub node: String,
    pub node_id: String,
    pub node_address: String,
    pub node_datacenter: String,
    pub node_tagged_addresses: BTreeMap<String, String>,
    pub node_meta: BTreeMap<String, String>,
    pub service_meta: BTreeMap<String, String>,
    /// The service's address, or the node's when the service registered none (consul-template
    /// falls back the same way).
    pub address: String,
    pub id: String,
    pub name: String,
    pub tags: Vec<String>,
    pub status: HealthState,
    pub port: u16,
}

/// A key of the KV store as `ls` and `tree` return it (consul-template's `KeyPair`): `.Path` is
/// the full path, `.Key` the path below the prefix asked for, `.Value` the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPair {
    pub path: String,
    pub key: String,
    pub value: String,
    pub create_index: u64,
    pub modify_index: u64,
    pub lock_index: u64,
    pub flags: u64,
    pub session: String,
}

/// A service of the catalog as `services` returns it: `.Name` and `.Tags` (Consul's own type).
pub use crate::consul::CatalogService;

/// A node of the catalog as `nodes` returns it: `.ID`, `.Node`, `.Address`, `.Datacenter`,
/// `.TaggedAddresses`, `.Meta`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    pub tagged_addresses: BTreeMap<String, String>,
    pub meta: BTreeMap<String, String>,
}

/// A piece of Consul data a template needs, named the way a caller fetches it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dependency {
    /// `GET /v1/health/service/<name>`; `tag` and `states` say which instances the template
    /// keeps (states are sorted, deduplicated, never empty).
    Service {
        name: String,
        tag: Option<String>,
        states: Vec<HealthState>,
    },
    /// `GET /v1/kv/<path>` (no leading slash).
    Key(String),
    /// `GET /v1/kv/<prefix>?recurse`, of which the template keeps the direct children.
    Ls(String),
    /// `GET /v1/kv/<prefix>?recurse`, all of it.
    Tree(String),
    /// `GET /v1/catalog/services`.
    Services,
    /// `GET /v1/catalog/nodes`.
    Nodes,
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dependency::Service { name, tag, states } => {
                f.write_str("service(")?;
                if let Some(tag) = tag {
                    write!(f, "{tag}.")?;
                }
                let words: Vec<&str> = if states.len() == HealthState::ALL.len() {
                    vec!["any"]
                } else {
                    states.iter().map(|s| s.as_str()).collect()
                };
                write!(f, "{name}|{})", words.join(","))
            }
            Dependency::Key(path) => write!(f, "key({path})"),
            Dependency::Ls(prefix) => write!(f, "ls({prefix})"),
            Dependency::Tree(prefix) => write!(f, "tree({prefix})"),
            Dependency::Services => f.write_str("services"),
            Dependency::Nodes => f.write_str("nodes"),
        }
    }
}

/// The answer to one question to a [`Catalog`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// The data is known.
    Ready(T),
    /// The data is not known yet: fetch this and render again.
    Missing(Dependency),
}

/// Where a template's Consul data comes from.
pub trait Catalog {
    /// Instances of a service (consul-template's `service "name"`) that carry `tag` (when given)
    /// and whose health is one of `states`, sorted by node then ID.
    fn service(&self, name: &str, tag: Option<&str>, states: &[HealthState]) -> Lookup<Vec<ServiceInstance>>;
    /// The value at a key; `Ready(None)` when Consul has no such key.
    fn key(&self, path: &str) -> Lookup<Option<String>>;
    /// The keys directly below a prefix (no folders, no deeper keys).
    fn ls(&self, prefix: &str) -> Lookup<Vec<KeyPair>>;
    /// Every key below a prefix, recursively (no folders).
    fn tree(&self, prefix: &str) -> Lookup<Vec<KeyPair>>;
    /// Every service of the catalog with its tags, sorted by name.
    fn services(&self) -> Lookup<Vec<CatalogService>>;
    /// Every node of the catalog, sorted by name.
    fn nodes(&self) -> Lookup<Vec<Node>>;
}

/// Consul data known so far, filled from Consul's answers by whoever fetches them.
///
/// A service is stored whole (every instance, any health, any tag) and the template's tag and
/// health filters are applied here; a KV prefix is stored as Consul's recursive listing and serves
/// both `ls` and `tree`.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    services: HashMap<String, Vec<ServiceInstance>>,
    keys: HashMap<String, Option<String>>,
    prefixes: HashMap<String, Vec<(String, String)>>,
    catalog: Option<Vec<CatalogService>>,
    nodes: Option<Vec<Node>>,
}

/// Consul-template strips one leading slash from key paths and prefixes.
fn kv_path(path: &str) -> &str {
    path.strip_prefix('/').unwrap_or(path)
}

impl Snapshot {
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// Records every instance of service `name` (`GET /v1/health/service/<name>`).
    pub fn set_service(&mut self, name: &str, mut instances: Vec<ServiceInstance>) {
        for instance in &mut instances {
            instance.tags.sort();
        }
        instances.sort_by(|a, b| a.node.cmp(&b.node).then_with(|| a.id.cmp(&b.id)));
        self.services.insert(name.to_string(), instances);
    }

    /// Records the value at a key, `None` when Consul answered 404.
    pub fn set_key(&mut self, path: &str, value: Option<String>) {
        self.keys.insert(kv_path(path).to_string(), value);
    }

    /// Records Consul's recursive listing of a prefix as (full path, value) pairs.
    pub fn set_prefix(&mut self, prefix: &str, mut entries: Vec<(String, String)>) {
        entries.sort();
        self.prefixes.insert(kv_path(prefix).to_string(), entries);
    }

    /// Records the catalog's services (`GET /v1/catalog/services`).
    pub fn set_services(&mut self, mut services: Vec<CatalogService>) {
        for service in &mut services {
            service.tags.sort();
            service.tags.dedup();
        }
        services.sort_by(|a, b| a.name.cmp(&b.name));
        self.catalog = Some(services);
    }

    /// Records the catalog's nodes (`GET /v1/catalog/nodes`).
    pub fn set_nodes(&mut self, mut nodes: Vec<Node>) {
        nodes.sort_by(|a, b| a.node.cmp(&b.node).then_with(|| a.address.cmp(&b.address)));
        self.nodes = Some(nodes);
    }

    /// Whether the snapshot can answer `dependency`.
    pub fn knows(&self, dependency: &Dependency) -> bool {
        match dependency {
            Dependency::Service { name, .. } => self.services.contains_key(name),
            Dependency::Key(path) => self.keys.contains_key(kv_path(path)),
            Dependency::Ls(prefix) | Dependency::Tree(prefix) => self.prefixes.contains_key(kv_path(prefix)),
            Dependency::Services => self.catalog.is_some(),
            Dependency::Nodes => self.nodes.is_some(),
        }
    }

    /// The pairs below `prefix` with `.Key` relative to it, as consul-template builds them.
    fn pairs(&self, prefix: &str) -> Option<Vec<KeyPair>> {
        let entries = self.prefixes.get(prefix)?;
        Some(
            entries
                .iter()
                .map(|(path, value)| {
                    let rest = path.strip_prefix(prefix).unwrap_or(path);
                    KeyPair {
                        path: path.clone(),
                        key: rest.trim_start_matches('/').to_string(),
                        value: value.clone(),
                        ..KeyPair::default()
                    }
                })
                .collect(),
        )
    }
}

impl Catalog for Snapshot {
    fn service(&self, name: &str, tag: Option<&str>, states: &[HealthState]) -> Lookup<Vec<ServiceInstance>> {
        match self.services.get(name) {
            Some(all) => Lookup::Ready(
                all.iter()
                    .filter(|i| states.contains(&i.status))
                    .filter(|i| tag.is_none_or(|tag| i.tags.iter().any(|t| t == tag)))
                    .cloned()
                    .collect(),
            ),
            None => Lookup::Missing(Dependency::Service {
                name: name.to_string(),
                tag: tag.map(str::to_string),
                states: states.to_vec(),
            }),
        }
    }

    fn key(&self, path: &str) -> Lookup<Option<String>> {
        let path = kv_path(path);
        match self.keys.get(path) {
            Some(value) => Lookup::Ready(value.clone()),
            None => Lookup::Missing(Dependency::Key(path.to_string())),
        }
    }

    fn ls(&self, prefix: &str) -> Lookup<Vec<KeyPair>> {
        let prefix = kv_path(prefix);
        match self.pairs(prefix) {
            Some(pairs) => Lookup::Ready(
                pairs
                    .into_iter()
                    .filter(|p| !p.key.is_empty() && !p.key.contains('/'))
                    .collect(),
            ),
            None => Lookup::Missing(Dependency::Ls(prefix.to_string())),
        }
    }

    fn tree(&self, prefix: &str) -> Lookup<Vec<KeyPair>> {
        let prefix = kv_path(prefix);
        match self.pairs(prefix) {
            Some(pairs) => Lookup::Ready(
                pairs
                    .into_iter()
                    .filter(|p| !p.key.ends_with('/') && !p.key.is_empty())
                    .collect(),
            ),
            None => Lookup::Missing(Dependency::Tree(prefix.to_string())),
        }
    }

    fn services(&self) -> Lookup<Vec<CatalogService>> {
        match &self.catalog {
            Some(services) => Lookup::Ready(services.clone()),
            None => Lookup::Missing(Dependency::Services),
        }
    }

    fn nodes(&self) -> Lookup<Vec<Node>> {
        match &self.nodes {
            Some(nodes) => Lookup::Ready(nodes.clone()),
            None => Lookup::Missing(Dependency::Nodes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(node: &str, id: &str, port: u16, status: HealthState, tags: &[&str]) -> ServiceInstance {
        ServiceInstance {
            node: node.into(),
            id: id.into(),
            name: "web".into(),
            address: "10.0.0.1".into(),
            port,
            status,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..ServiceInstance::default()
        }
    }

    #[test]
    fn services_are_sorted_by_node_then_id_and_filtered() {
        let mut snap = Snapshot::new();
        snap.set_service(
            "web",
            vec![
                instance("b", "1", 1, HealthState::Passing, &[]),
                instance("a", "2", 2, HealthState::Critical, &["blue"]),
                instance("a", "1", 3, HealthState::Warning, &["green", "blue"]),
            ],
        );
        let Lookup::Ready(all) = snap.service("web", None, &HealthState::ALL) else {
            panic!("known")
        };
        let ports: Vec<u16> = all.iter().map(|i| i.port).collect();
        assert_eq!(ports, [3, 2, 1]);
        assert_eq!(all[0].tags, ["blue", "green"]);
        let Lookup::Ready(passing) = snap.service("web", None, &[HealthState::Passing]) else {
            panic!("known")
        };
        assert_eq!(passing.len(), 1);
        let Lookup::Ready(blue) = snap.service("web", Some("blue"), &HealthState::ALL) else {
            panic!("known")
        };
        assert_eq!(blue.len(), 2);
        assert_eq!(
            snap.service("db", Some("x"), &[HealthState::Passing]),
            Lookup::Missing(Dependency::Service {
                name: "db".into(),
                tag: Some("x".into()),
                states: vec![HealthState::Passing]
            })
        );
    }

    #[test]
    fn ls_keeps_direct_children_and_tree_drops_folders() {
        let mut snap = Snapshot::new();
        snap.set_prefix(
            "/config",
            vec![
                ("config/".into(), String::new()),
                ("config/a".into(), "1".into()),
                ("config/sub/".into(), String::new()),
                ("config/sub/b".into(), "2".into()),
            ],
        );
        let Lookup::Ready(ls) = snap.ls("config") else {
            panic!("known")
        };
        assert_eq!(ls.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["a"]);
        let Lookup::Ready(tree) = snap.tree("config") else {
            panic!("known")
        };
        assert_eq!(tree.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["a", "sub/b"]);
        assert_eq!(tree[1].path, "config/sub/b");
        assert_eq!(snap.ls("other"), Lookup::Missing(Dependency::Ls("other".into())));
    }

    #[test]
    fn keys_and_dependency_names() {
        let mut snap = Snapshot::new();
        snap.set_key("/proxy/ip", Some("10.0.0.2".into()));
        snap.set_key("absent", None);
        assert_eq!(snap.key("proxy/ip"), Lookup::Ready(Some("10.0.0.2".into())));
        assert_eq!(snap.key("absent"), Lookup::Ready(None));
        assert!(snap.knows(&Dependency::Key("/proxy/ip".into())));
        assert!(!snap.knows(&Dependency::Services));
        let dep = Dependency::Service {
            name: "web".into(),
            tag: Some("v1".into()),
            states: HealthState::ALL.to_vec(),
        };
        assert_eq!(dep.to_string(), "service(v1.web|any)");
        assert_eq!(
            HealthState::aggregate([HealthState::Warning, HealthState::Passing]),
            HealthState::Warning
        );
        assert_eq!(HealthState::aggregate([]), HealthState::Passing);
    }
}
