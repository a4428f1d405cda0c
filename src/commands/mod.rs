//! The subcommands that work on an inventory's hosts without a playbook: `bgrun inventory`,
//! `bgrun render`, `bgrun history` and `bgrun registrator`. Each takes its parsed arguments and
//! returns the exit code; `run` only dispatches to them.

pub mod history;
pub mod inventory;
pub mod registrator;
pub mod render;

use std::path::Path;

use crate::config::Settings;
use crate::error::Error;
use crate::inventory::Inventory;

/// The inventory a subcommand names, else ansible.cfg's in this folder.
fn inventory_sources(given: &[String]) -> Vec<String> {
    if given.is_empty() {
        Settings::find(Path::new(".")).inventory
    } else {
        given.to_vec()
    }
}

/// A subcommand's inventory and the hosts its `--limit` chooses (at least one).
fn inventory_hosts(given: &[String], limit: &str) -> Result<(Inventory, Vec<String>), Error> {
    let inventory = Inventory::load(&inventory_sources(given), None)?;
    let hosts = inventory.select(limit);
    if hosts.is_empty() {
        return Err(Error::usage(format!("no host matches `{limit}`")));
    }
    Ok((inventory, hosts))
}
