//! Compose projects on an engine: containers of a project's services created as docker-compose
//! creates them (names, labels, config hash, links, networks), so docker-compose sees them as
//! its own and bgrun sees docker-compose's.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, ContainerSummary, EndpointSettings, HostConfig, HostConfigLogConfig, NetworkCreateRequest,
    NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{CreateContainerOptions, ListContainersOptions, RemoveContainerOptions};

use super::error_text;
use crate::compose::{LABEL_PROJECT, LABEL_SERVICE, Project, Service};
use crate::transport::HostError;

/// The request that creates container `number` of a service.
pub fn create_body(project: &Project, service: &Service, number: u32, image_id: &str) -> ContainerCreateBody {
    let labels: HashMap<String, String> = project
        .container_labels(&service.name, number, image_id)
        .into_iter()
        .collect();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in &service.ports {
        bindings
            .entry(port.container_key())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(port.host_ip.clone()),
                host_port: Some(port.host_port.clone()),
            });
    }
    let restart = service.restart.as_ref().map(|r| RestartPolicy {
        name: Some(match r.name.as_str() {
            "always" => RestartPolicyNameEnum::ALWAYS,
            "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
            "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
            _ => RestartPolicyNameEnum::NO,
        }),
        maximum_retry_count: Some(r.maximum_retry_count),
    });
    let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let network_mode = service.network_mode.docker_value();
    let primary_network = service.networks.keys().next().cloned();
    let host_config = HostConfig {
        binds: non_empty(&service.binds),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        restart_policy: restart,
        links: non_empty(&service.container_links),
        network_mode: network_mode.clone().or_else(|| primary_network.clone()),
        log_config: service.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: Some(l.driver.clone()),
            config: Some(l.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        }),
        privileged: service.privileged.then_some(true),
        cap_add: non_empty(&service.cap_add),
        cap_drop: non_empty(&service.cap_drop),
        dns: non_empty(&service.dns),
        dns_search: non_empty(&service.dns_search),
        extra_hosts: non_empty(&service.extra_hosts),
        readonly_rootfs: service.read_only.then_some(true),
        volumes_from: (!service.volumes_from.is_empty()).then(|| {
            service
                .volumes_from
                .iter()
                .map(|v| format!("{}:{}", volumes_from_source(project, v), v.mode))
                .collect()
        }),
        ..HostConfig::default()
    };
    let networking_config = match (&network_mode, &primary_network) {
        (None, Some(network)) => {
            let aliases = service
                .networks
                .get(network)
                .map(|n| n.aliases.clone())
                .unwrap_or_default();
            let mut all_aliases = vec![service.name.clone()];
            all_aliases.extend(aliases);
            let endpoint = EndpointSettings {
                aliases: Some(all_aliases),
                ..EndpointSettings::default()
            };
            Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(network.clone(), endpoint)])),
            })
        }
        _ => None,
    };
    ContainerCreateBody {
        image: Some(service.image.clone()),
        cmd: service.command.clone(),
        entrypoint: service.entrypoint.clone(),
        env: non_empty(&service.environment),
        labels: Some(labels),
        hostname: service.hostname.clone(),
        domainname: service.domainname.clone(),
        user: service.user.clone(),
        working_dir: service.working_dir.clone(),
        stop_signal: service.stop_signal.clone(),
        tty: service.tty.then_some(true),
        open_stdin: service.stdin_open.then_some(true),
        exposed_ports: non_empty(&service.exposed_ports),
        volumes: non_empty(&service.container_volumes),
        host_config: Some(host_config),
        networking_config,
        ..ContainerCreateBody::default()
    }
}

fn volumes_from_source(project: &Project, from: &crate::compose::VolumesFrom) -> String {
    if from.container {
        from.source.clone()
    } else {
        project.container_name(&from.source, 1)
    }
}

/// Creates the project's networks that are missing (version 2+ files), as docker-compose does.
pub async fn ensure_networks(docker: &Docker, project: &Project) -> Result<Vec<String>, HostError> {
    let mut created = Vec::new();
    for (name, network) in &project.networks {
        if network.external || docker.inspect_network(&network.full_name, None).await.is_ok() {
            continue;
        }
        let mut labels: HashMap<String, String> = network.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        labels.insert("com.docker.compose.network".into(), name.clone());
        labels.insert(LABEL_PROJECT.into(), project.name.clone());
        labels.insert(
            crate::compose::LABEL_VERSION.into(),
            crate::compose::COMPOSE_VERSION.into(),
        );
        let request = NetworkCreateRequest {
            name: network.full_name.clone(),
            driver: network.driver.clone(),
            internal: network.internal.then_some(true),
            attachable: network.attachable.then_some(true),
            enable_ipv6: network.enable_ipv6.then_some(true),
            options: Some(
                network
                    .driver_opts
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            labels: Some(labels),
            ..NetworkCreateRequest::default()
        };
        docker.create_network(request).await.map_err(|e| {
            HostError::Failed(format!(
                "cannot create network `{}`: {}",
                network.full_name,
                error_text(&e)
            ))
        })?;
        created.push(network.full_name.clone());
    }
    Ok(created)
}

/// The containers of a service (running or not), by docker-compose's labels.
pub async fn containers(docker: &Docker, project: &Project, service: &str) -> Result<Vec<ContainerSummary>, HostError> {
    let filters = HashMap::from([(
        "label".to_string(),
        vec![
            format!("{LABEL_PROJECT}={}", project.name),
            format!("{LABEL_SERVICE}={service}"),
        ],
    )]);
    let options = ListContainersOptions {
        all: true,
        filters: Some(filters),
        ..Default::default()
    };
    docker
        .list_containers(Some(options))
        .await
        .map_err(|e| HostError::Failed(format!("cannot list the containers of `{service}`: {}", error_text(&e))))
}

/// Creates a container of a service; the caller starts it.
pub async fn create(
    docker: &Docker,
    project: &Project,
    service: &Service,
    number: u32,
    image_id: &str,
) -> Result<String, HostError> {
    let name = project.container_name(&service.name, number);
    let options = CreateContainerOptions {
        name: Some(name.clone()),
        ..Default::default()
    };
    let created = docker
        .create_container(Some(options), create_body(project, service, number, image_id))
        .await
        .map_err(|e| {
            HostError::Failed(format!(
                "service `{}`: cannot create `{name}` from `{}`: {}",
                service.name,
                service.image,
                error_text(&e)
            ))
        })?;
    Ok(created.id)
}

/// Removes containers this step made, when a later part of it failed.
pub async fn undo(docker: &Docker, ids: &[String]) {
    for id in ids {
        let _ = docker
            .remove_container(
                id,
                Some(RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                }),
            )
            .await;
    }
}
