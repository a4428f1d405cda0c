//! What the inventory targets do with a loaded file: every host's variables, and patterns.

use std::path::Path;

use bgrun::inventory::Inventory;

/// Loads the inventory file at `path` and, when it loads, reads it as a run would.
pub fn load(path: &Path) {
    let Ok(inventory) = Inventory::load(&[path.to_string_lossy().into_owned()], None) else {
        return;
    };
    let names: Vec<String> = inventory.hosts().map(|h| h.name.clone()).collect();
    for name in &names {
        let _ = inventory.vars_for(name);
        let _ = inventory.group_names(name);
    }
    let _ = inventory.groups_map();
    for pattern in ["all", "web*:!db", "~^w.*[0-9]$", "all[0]", "all[1:3]", "web:&prod"] {
        let _ = inventory.select(pattern);
    }
}
