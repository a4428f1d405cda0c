//! `bgrun inventory`: the resolved inventory as ansible-inventory shows it: `--list` as JSON,
//! `--host` a host's variables, `--graph` the group tree.

use std::path::Path;

use crate::cli::InventoryArgs;
use crate::config::Settings;
use crate::error::Error;
use crate::inventory::Inventory;
use crate::run::EXIT_OK;

/// Shows the inventory as `args` asks; the exit code.
pub fn show(args: &InventoryArgs) -> Result<i32, Error> {
    let mut sources = args.inventory.clone();
    if let Some(dir) = &args.vagrant {
        sources.push(format!("vagrant:{}", dir.display()));
    }
    if sources.is_empty() {
        sources = Settings::find(Path::new(".")).inventory;
    }
    let inventory = Inventory::load(&sources, None)?;
    if args.list {
        println!(
            "{}",
            serde_json::to_string_pretty(&inventory.list_json()).unwrap_or_default()
        );
    } else if let Some(host) = &args.host {
        let vars = inventory
            .host_json(host)
            .ok_or_else(|| Error::usage(format!("no host `{host}` in the inventory")))?;
        println!("{}", serde_json::to_string_pretty(&vars).unwrap_or_default());
    } else if let Some(group) = &args.graph {
        let tree = inventory
            .graph_text_from(group)
            .ok_or_else(|| Error::usage(format!("no group `{group}` in the inventory")))?;
        print!("{tree}");
    }
    Ok(EXIT_OK)
}
