//! `bgrun registrator`: keeps each host's Consul agent in step with its Docker engine, as
//! Registrator does, without running a container for it: running containers' published ports
//! are registered, stopped and removed ones deregistered, and services whose container is gone
//! (the ghosts Registrator leaves behind) are removed.

use std::collections::HashSet;
use std::time::Duration;

use bollard::query_parameters::{EventsOptions, ListContainersOptions};
use futures::StreamExt;

use serde_json::Value as Json;

use crate::cli::RegistratorArgs;
use crate::consul::{Consul, ConsulSettings};
use crate::docker::error_text;
use crate::docker::registrator::{deregister, register};
use crate::error::Error;
use crate::exec::host_connection;
use crate::inventory::Inventory;
use crate::run::{EXIT_FAILED, EXIT_OK};
use crate::transport::HostError;

/// How often the whole state is compared again while following events.
const RESYNC: Duration = Duration::from_secs(60);

pub struct Options {
    pub once: bool,
    pub timeout: Duration,
    pub host_key_checking: bool,
    pub persist: crate::transport::Persist,
}

/// `bgrun registrator`: Consul kept in step with Docker on the chosen hosts until interrupted
/// (with `--once`, for one pass).
pub async fn command(args: &RegistratorArgs) -> Result<i32, Error> {
    let (inventory, hosts) = super::inventory_hosts(&args.inventory, &args.limit)?;
    let options = Options {
        once: args.once,
        timeout: Duration::from_secs(args.timeout),
        host_key_checking: std::env::var("ANSIBLE_HOST_KEY_CHECKING")
            .map(|v| crate::exec::truthy_setting(&Json::from(v)))
            .unwrap_or(true),
        persist: crate::transport::Persist::Idle(crate::transport::DEFAULT_IDLE),
    };
    tokio::select! {
        result = run(&inventory, &hosts, &options) => match result {
            Ok(()) => Ok(EXIT_OK),
            Err(message) => {
                eprintln!("error: {message}");
                Ok(EXIT_FAILED)
            }
        },
        _ = tokio::signal::ctrl_c() => Ok(EXIT_OK),
    }
}

/// Runs for every host that names its Consul agent (`consul_addr`); returns when every host's
/// loop ended (with `once`, after one pass).
pub async fn run(inventory: &Inventory, hosts: &[String], options: &Options) -> Result<(), String> {
    let mut loops = Vec::new();
    for host in hosts {
        let vars = inventory.vars_for(host);
        if vars
            .get("consul_addr")
            .map(crate::yaml::scalar_text)
            .is_none_or(|a| a.is_empty())
        {
            println!("{host}: no `consul_addr`; skipped");
            continue;
        };
        let docker_host = vars
            .get("docker_host")
            .map(crate::yaml::scalar_text)
            .filter(|v| !v.is_empty());
        loops.push(async move {
            let result = follow(inventory, host, docker_host.as_deref(), options).await;
            if let Err(e) = &result {
                eprintln!("{host}: {e}");
            }
            result
        });
    }
    if loops.is_empty() {
        return Err("no host of the pattern names its Consul agent (`consul_addr`)".into());
    }
    let results = futures::future::join_all(loops).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        Err(format!("{failed} host(s) could not be kept in step"))
    } else {
        Ok(())
    }
}

async fn follow(
    inventory: &Inventory,
    host: &str,
    docker_host: Option<&str>,
    options: &Options,
) -> Result<(), HostError> {
    let connection = host_connection(
        inventory,
        host,
        options.timeout,
        options.host_key_checking,
        options.persist,
    )
    .map_err(|e| HostError::Failed(e.0))?;
    let address = connection.spec.address.clone();
    let engine = connection.docker(docker_host).await?.clone();
    let vars = inventory.vars_for(host);
    let var = |name: &str| vars.get(name).map(crate::yaml::scalar_text);
    let consul = connection
        .consul(host, &var, &ConsulSettings::default())
        .map_err(|e| HostError::Failed(e.0))?;
    resync(&engine, &consul, host, &address).await?;
    if options.once {
        return Ok(());
    }
    let filters = std::collections::HashMap::from([("type".to_string(), vec!["container".to_string()])]);
    let mut events = engine.events(Some(EventsOptions {
        filters: Some(filters),
        ..Default::default()
    }));
    let mut tick = tokio::time::interval(RESYNC);
    tick.tick().await;
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { return Err(HostError::Unreachable(format!("{host}: the Docker engine closed its event stream"))) };
                let event = event.map_err(|e| HostError::Failed(format!("{host}: Docker events: {}", error_text(&e))))?;
                let name = event.actor.and_then(|a| a.attributes).and_then(|a| a.get("name").cloned()).unwrap_or_default();
                match event.action.as_deref() {
                    Some("start") => report(host, "registered", register(&engine, &consul, host, &address, &name).await?),
                    Some("die" | "stop" | "kill" | "destroy") => report(host, "deregistered", deregister(&consul, host, &name).await?),
                    _ => {}
                }
            }
            _ = tick.tick() => resync(&engine, &consul, host, &address).await?,
        }
    }
}

/// Registers every running container and removes services of containers that are gone.
async fn resync(engine: &bollard::Docker, consul: &Consul, host: &str, address: &str) -> Result<(), HostError> {
    // The agent's services are read before the containers: a container that starts in between
    // is then missing from this snapshot, not taken for a ghost.
    let services = consul.agent_services().await.map_err(|e| HostError::Failed(e.0))?;
    let running = engine
        .list_containers(Some(ListContainersOptions {
            all: false,
            ..Default::default()
        }))
        .await
        .map_err(|e| HostError::Failed(format!("{host}: cannot list containers: {}", error_text(&e))))?;
    let mut names = HashSet::new();
    for container in running {
        let Some(name) = container
            .names
            .and_then(|n| n.into_iter().next())
            .map(|n| n.trim_start_matches('/').to_string())
        else {
            continue;
        };
        // A container may stop while the pass goes on; the next pass or event settles it.
        match register(engine, consul, host, address, &name).await {
            Ok(ids) => report(host, "registered", ids),
            Err(e) => eprintln!("{host}: {e}"),
        }
        names.insert(name);
    }
    let prefix = format!("{host}:");
    let mut ghosts: Vec<String> = Vec::new();
    for id in services.keys().filter_map(|id| id.strip_prefix(&prefix)) {
        if let Some((container, _)) = id.split_once(':')
            && !names.contains(container)
            && !ghosts.iter().any(|g| g == container)
        {
            ghosts.push(container.to_string());
        }
    }
    for container in ghosts {
        report(host, "removed the ghost", deregister(consul, host, &container).await?);
    }
    Ok(())
}

fn report(host: &str, what: &str, ids: Vec<String>) {
    for id in ids {
        println!("{host}: {what} {id}");
    }
}
