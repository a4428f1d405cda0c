//! Filling a [`Snapshot`] from Consul: the client's answers shaped as consul-template gives them
//! to templates (health aggregated over an instance's checks, nodes with their maps). The Consul
//! client knows nothing of templates; this is where its data becomes theirs.

use super::catalog::{Dependency, HealthState, Node, ServiceInstance, Snapshot};
use crate::consul::{CatalogService, Consul, ConsulError, NodeInfo, ServiceHealth};

/// A check's contribution to an instance's health, as Consul's `AggregatedStatus` counts it:
/// the node's and the service's maintenance checks put the instance in maintenance.
fn check_state(check_id: &str, status: &str) -> HealthState {
    if check_id == "_node_maintenance" || check_id.starts_with("_service_maintenance:") {
        return HealthState::Maintenance;
    }
    match status {
        "passing" => HealthState::Passing,
        "warning" => HealthState::Warning,
        _ => HealthState::Critical,
    }
}

impl From<ServiceHealth> for ServiceInstance {
    fn from(raw: ServiceHealth) -> Self {
        let status = HealthState::aggregate(raw.checks.iter().map(|c| check_state(&c.check_id, &c.status)));
        let address = if raw.service.address.is_empty() {
            raw.node.address.clone()
        } else {
            raw.service.address
        };
        ServiceInstance {
            node: raw.node.node,
            node_id: raw.node.id,
            node_address: raw.node.address,
            node_datacenter: raw.node.datacenter,
            node_tagged_addresses: raw.node.tagged_addresses.unwrap_or_default(),
            node_meta: raw.node.meta.unwrap_or_default(),
            service_meta: raw.service.meta.unwrap_or_default(),
            address,
            id: raw.service.id,
            name: raw.service.service,
            tags: raw.service.tags.unwrap_or_default(),
            status,
            port: raw.service.port,
        }
    }
}

impl From<NodeInfo> for Node {
    fn from(n: NodeInfo) -> Self {
        Node {
            id: n.id,
            node: n.node,
            address: n.address,
            datacenter: n.datacenter,
            tagged_addresses: n.tagged_addresses.unwrap_or_default(),
            meta: n.meta.unwrap_or_default(),
        }
    }
}

/// Fetches what a template needs from `consul` into `snapshot`.
pub async fn fetch(consul: &Consul, dependency: &Dependency, snapshot: &mut Snapshot) -> Result<(), ConsulError> {
    let answer = answer(consul, dependency).await?;
    answer.record(dependency, snapshot);
    Ok(())
}

/// Fetches several dependencies at once into `snapshot`; the first failure is returned.
pub async fn fetch_all(
    consul: &Consul,
    dependencies: &[Dependency],
    snapshot: &mut Snapshot,
) -> Result<(), ConsulError> {
    let answers = futures::future::join_all(dependencies.iter().map(|d| answer(consul, d))).await;
    for (dependency, answer) in dependencies.iter().zip(answers) {
        answer?.record(dependency, snapshot);
    }
    Ok(())
}

async fn answer(consul: &Consul, dependency: &Dependency) -> Result<Answer, ConsulError> {
    Ok(match dependency {
        Dependency::Service { name, .. } => Answer::Service(
            consul
                .service_health(name)
                .await?
                .into_iter()
                .map(ServiceInstance::from)
                .collect(),
        ),
        Dependency::Key(path) => Answer::Key(consul.kv_get(path).await?.map(|(value, _)| value)),
        Dependency::Ls(prefix) | Dependency::Tree(prefix) => Answer::Prefix(consul.kv_list(prefix).await?),
        Dependency::Services => Answer::Services(consul.service_list().await?),
        Dependency::Nodes => Answer::Nodes(consul.node_list().await?.into_iter().map(Node::from).collect()),
    })
}

/// Consul's answer to one dependency.
enum Answer {
    Service(Vec<ServiceInstance>),
    Key(Option<String>),
    Prefix(Vec<(String, String)>),
    Services(Vec<CatalogService>),
    Nodes(Vec<Node>),
}

impl Answer {
    fn record(self, dependency: &Dependency, snapshot: &mut Snapshot) {
        match (dependency, self) {
            (Dependency::Service { name, .. }, Answer::Service(instances)) => snapshot.set_service(name, instances),
            (Dependency::Key(path), Answer::Key(value)) => snapshot.set_key(path, value),
            (Dependency::Ls(prefix) | Dependency::Tree(prefix), Answer::Prefix(entries)) => {
                snapshot.set_prefix(prefix, entries)
            }
            (_, Answer::Services(services)) => snapshot.set_services(services),
            (_, Answer::Nodes(nodes)) => snapshot.set_nodes(nodes),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_take_the_node_address_and_the_worst_check() {
        let raw: ServiceHealth = serde_json::from_value(serde_json::json!({
            "Node": {"ID": "n1", "Node": "prod", "Address": "10.0.0.1", "Datacenter": "dc1", "TaggedAddresses": null, "Meta": null},
            "Service": {"ID": "web-1", "Service": "web", "Tags": null, "Address": "", "Port": 80, "Meta": null},
            "Checks": [
                {"CheckID": "serfHealth", "Status": "passing"},
                {"CheckID": "service:web-1", "Status": "warning"}
            ]
        }))
        .unwrap();
        let instance = ServiceInstance::from(raw);
        assert_eq!(instance.address, "10.0.0.1");
        assert_eq!(instance.status, HealthState::Warning);
        assert_eq!(
            check_state("_service_maintenance:web-1", "critical"),
            HealthState::Maintenance
        );
    }
}
