//! `bgrun history SERVICE -i INVENTORY`: the last deploys of a service, read from the audit trail
//! in the Consul of each chosen host (those naming one in `consul_addr`, else every chosen host's
//! `http://<ansible_host>:8500`), as a table or JSON lines.

use serde_json::Value as Json;

use crate::cli::HistoryArgs;
use crate::consul::{Consul, ConsulSettings};
use crate::error::Error;
use crate::inventory::Inventory;
use crate::output::Format;

/// `bgrun history`: the last deploys of the service on the chosen hosts' Consul.
pub async fn command(args: &HistoryArgs) -> Result<i32, Error> {
    let (inventory, hosts) = super::inventory_hosts(&args.inventory, &args.limit)?;
    show(&inventory, &hosts, &args.service, args.count, args.output).await
}

/// The records of `service` on the Consul agents of `hosts`, oldest first, each once.
pub async fn records(inventory: &Inventory, hosts: &[String], service: &str) -> Result<Vec<Json>, String> {
    let var_of = |host: &str, name: &str| {
        inventory
            .vars_for(host)
            .get(name)
            .map(crate::yaml::scalar_text)
            .filter(|v| !v.is_empty())
    };
    let named: Vec<&String> = hosts.iter().filter(|h| var_of(h, "consul_addr").is_some()).collect();
    let chosen: Vec<&String> = if named.is_empty() {
        hosts.iter().collect()
    } else {
        named
    };
    let mut addresses: Vec<Consul> = Vec::new();
    for host in chosen {
        let var = |name: &str| var_of(host, name);
        let consul = Consul::for_host(host, &var, &ConsulSettings::default()).map_err(|e| e.0)?;
        if !addresses.iter().any(|c| c.address() == consul.address()) {
            addresses.push(consul);
        }
    }
    let mut all: Vec<(String, Json)> = Vec::new();
    for consul in &addresses {
        for (key, record) in crate::audit::read(consul, service).await.map_err(|e| e.0)? {
            if !all.iter().any(|(k, _)| *k == key) {
                all.push((key, record));
            }
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(all.into_iter().map(|(_, record)| record).collect())
}

/// Prints the last `count` records; the exit code.
pub async fn show(
    inventory: &Inventory,
    hosts: &[String],
    service: &str,
    count: usize,
    format: Format,
) -> Result<i32, Error> {
    let records = match records(inventory, hosts, service).await {
        Ok(records) => records,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(crate::run::EXIT_FAILED);
        }
    };
    let last = &records[records.len().saturating_sub(count)..];
    match format {
        Format::Json => {
            for record in last {
                println!("{record}");
            }
        }
        Format::Text if last.is_empty() => {
            println!(
                "no deploys of `{service}` recorded (looked under `{}` in Consul's KV)",
                crate::audit::prefix(service)
            );
        }
        Format::Text => print!("{}", crate::audit::table(last)),
    }
    Ok(crate::run::EXIT_OK)
}
