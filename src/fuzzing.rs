//! Entry points for the fuzz targets in `fuzz/`: the loaders and renderers private to the crate,
//! each given one input as bgrun reads it, with its error rendered as bgrun prints it. Built only
//! with the `fuzzing` feature.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::{Value as Json, json};

use crate::ctmpl::{CatalogService, HealthState, Node, RenderContext, ServiceInstance, Snapshot, Template};
use crate::source::SourceFile;
use crate::template::{Scope, Templar, Vars};

/// Loads a playbook file as `--syntax-check` does: its plays, imports and roles, then each play's
/// step graph and vars files.
pub fn syntax_check(path: &Path) -> Result<(), String> {
    let book = crate::playbook::load(path, &crate::config::Settings::default()).map_err(|e| e.render())?;
    crate::exec::prepare(&book).map_err(|e| e.render())?;
    Ok(())
}

/// Parses a `.ctmpl` text and renders it once against a small fixed Consul catalog, at a fixed
/// time and with a fixed environment.
pub fn render_ctmpl(text: &str) -> Result<String, String> {
    let file = SourceFile::new("fuzz.ctmpl", text);
    let template = Template::parse(&file).map_err(|e| e.render())?;
    let context = RenderContext {
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        env: Some(HashMap::from([("HOME".to_string(), "/root".to_string())])),
    };
    let rendered = template.render_with(&catalog(), &context).map_err(|e| e.render())?;
    Ok(rendered.to_string())
}

fn catalog() -> Snapshot {
    let instance = |name: &str, node: &str, port: u16, status: HealthState| ServiceInstance {
        name: name.to_string(),
        id: format!("{node}:{name}:{port}"),
        node: node.to_string(),
        node_address: "10.0.0.1".to_string(),
        address: "10.0.0.1".to_string(),
        tags: vec!["blue".to_string(), "v1".to_string()],
        port,
        status,
        ..ServiceInstance::default()
    };
    let mut snapshot = Snapshot::new();
    snapshot.set_service(
        "web",
        vec![
            instance("web", "a", 8080, HealthState::Passing),
            instance("web", "b", 8081, HealthState::Critical),
        ],
    );
    snapshot.set_service("empty", vec![]);
    snapshot.set_key("app/name", Some("books".to_string()));
    snapshot.set_key("app/missing", None);
    snapshot.set_prefix(
        "app",
        vec![
            ("app/name".to_string(), "books".to_string()),
            ("app/db/host".to_string(), "db1".to_string()),
        ],
    );
    snapshot.set_services(vec![CatalogService {
        name: "web".to_string(),
        tags: vec!["blue".to_string()],
    }]);
    snapshot.set_nodes(vec![Node {
        node: "a".to_string(),
        address: "10.0.0.1".to_string(),
        ..Node::default()
    }]);
    snapshot
}

/// Renders a text with bgrun's Templar on a fixed set of variables: as a templated string, as a
/// condition and as a template file. Each call has a Templar of its own, as the environment keeps
/// every text it compiled.
pub fn render_jinja(text: &str) -> Result<String, String> {
    let templar = Templar::new();
    let scope = Scope::new(&templar, variables());
    let string = templar.render_string(text, &scope).map_err(|e| e.0);
    let condition = templar
        .eval_condition(&Json::String(text.to_string()), &scope)
        .map_err(|e| e.0);
    let file = templar
        .render_file(Path::new("fuzz.j2"), text, &scope)
        .map_err(|e| e.0)?;
    Ok(format!("{string:?} {condition:?} {file}"))
}

/// Variables of each kind a step sees: text, numbers, lists, mappings, a variable that is itself
/// a template, and a Consul address on the loopback that refuses connections.
fn variables() -> Vars {
    let vars = json!({
        "inventory_hostname": "web1",
        "consul_addr": "http://127.0.0.1:9",
        "name": "books",
        "port": 8080,
        "ratio": 0.5,
        "enabled": true,
        "nothing": null,
        "ports": [80, 443],
        "hosts": ["web1", "web2", "db1"],
        "users": [{"name": "ann", "uid": 1000}, {"name": "bob", "uid": 1001}],
        "config": {"db": {"host": "db1", "port": 5432}, "debug": false},
        "url": "http://{{ name }}:{{ port }}",
        "groups": {"all": ["web1", "web2", "db1"], "web": ["web1", "web2"]},
        "hostvars": {"web1": {"ansible_host": "10.0.0.1"}},
    });
    match vars {
        Json::Object(map) => map,
        _ => Vars::new(),
    }
}
