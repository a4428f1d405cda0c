//! Consul lookups in every templated string and `template` file: `service("name")`,
//! `service("name", "any")`, `key("path")`, `key_or_default("path", "default")`, `ls("prefix")`,
//! `services()` and `nodes()`, reading the Consul of the step's host.
//!
//! The Consul is found in the variables of the render (minijinja's `State::lookup`): the host's
//! `consul_addr`, else `http://<ansible_host or inventory_hostname>:8500`, with `consul_token`
//! (or `consul_token_file`, `CONSUL_HTTP_TOKEN`) and `consul_datacenter`.
//!
//! Values have consul-template's shape and field names, so a `.ctmpl` loop reads the same in
//! Jinja2: `{% for s in service('web') %}server {{ s.Address }}:{{ s.Port }};{% endfor %}`.
//! A service instance has `Node`, `NodeID`, `NodeAddress`, `NodeDatacenter`,
//! `NodeTaggedAddresses`, `NodeMeta`, `ServiceMeta`, `Address`, `ID`, `Name`, `Tags`, `Status`
//! and `Port`; `ls` gives `Key` (below the prefix), `Path` and `Value`; `services` gives `Name`
//! and `Tags`; `nodes` gives `Node`, `ID`, `Address`, `Datacenter`, `TaggedAddresses` and `Meta`.
//!
//! minijinja renders synchronously, while bgrun runs steps as async code on tokio's multi-thread
//! runtime and its Consul client is async. A lookup therefore blocks its worker thread for the
//! request with `tokio::task::block_in_place` (which hands the thread's other tasks to other
//! workers, so the runtime keeps going) and `Handle::block_on`. Where that is not possible (a
//! current-thread runtime, or no runtime at all) the request runs on a thread of its own.
//!
//! Each render keeps a cache (a minijinja render-local extension): a template that asks for the
//! same service, key or prefix twice makes one request, and every answer in one render comes from
//! the same moment of Consul.

use std::collections::HashMap;
use std::future::Future;

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, State};
use serde_json::json;

use crate::consul::{Consul, ConsulError, ConsulSettings};
use crate::ctmpl::{Catalog, CatalogService, HealthState, KeyPair, Lookup, Node, ServiceInstance, Snapshot};

/// Adds the Consul lookups to a template environment.
pub fn register(env: &mut Environment<'static>) {
    env.add_function("service", service);
    env.add_function("key", key);
    env.add_function("key_or_default", key_or_default);
    env.add_function("ls", ls);
    env.add_function("services", services);
    env.add_function("nodes", nodes);
}

/// One render's Consul clients and the answers they gave, by Consul address.
#[derive(Default)]
struct Cache {
    consuls: HashMap<String, (Consul, Snapshot)>,
}

/// A render variable as text, `None` when undefined, none or empty.
fn variable(state: &State, name: &str) -> Option<String> {
    let value = state.lookup(name)?;
    if value.is_undefined() || value.is_none() {
        return None;
    }
    Some(value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string())).filter(|v| !v.is_empty())
}

fn failed(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// The host's name and the variables that say where its Consul is.
fn target(state: &State) -> (String, HashMap<&'static str, Option<String>>) {
    let host = variable(state, "inventory_hostname").unwrap_or_else(|| "localhost".to_string());
    let vars = [
        "consul_addr",
        "ansible_host",
        "consul_token",
        "consul_token_file",
        "consul_datacenter",
    ]
    .into_iter()
    .map(|name| (name, variable(state, name)))
    .collect();
    (host, vars)
}

/// The address of the Consul the render reads.
fn address(state: &State) -> String {
    let (host, vars) = target(state);
    ConsulSettings::default().address_for(&host, &|name| vars.get(name).cloned().flatten())
}

/// Answers `ask` from the render's cache, fetching what it names from the host's Consul first
/// when the cache does not know it yet.
fn lookup<T>(state: &mut State, ask: impl Fn(&Snapshot) -> Lookup<T>) -> Result<T, Error> {
    let (host, vars) = target(state);
    let var = |name: &str| vars.get(name).cloned().flatten();
    let settings = ConsulSettings::default();
    let address = settings.address_for(&host, &var);
    let cache = state.get_or_insert_extension_with(Cache::default);
    if !cache.consuls.contains_key(&address) {
        let consul = Consul::for_host(&host, &var, &settings).map_err(|e| failed(e.0))?;
        cache.consuls.insert(address.clone(), (consul, Snapshot::new()));
    }
    let Some((consul, snapshot)) = cache.consuls.get_mut(&address) else {
        return Err(failed(format!("no Consul client for {address}")));
    };
    let dependency = match ask(snapshot) {
        Lookup::Ready(value) => return Ok(value),
        Lookup::Missing(dependency) => dependency,
    };
    let client = consul.clone();
    let wanted = dependency.clone();
    let mut known = snapshot.clone();
    *snapshot = block_on(async move { crate::ctmpl::fetch(&client, &wanted, &mut known).await.map(|()| known) })
        .and_then(|answer| answer)
        .map_err(|e| failed(e.0))?;
    match ask(snapshot) {
        Lookup::Ready(value) => Ok(value),
        Lookup::Missing(_) => Err(failed(format!("Consul at {address} gave no answer for {dependency}"))),
    }
}

/// Runs an async Consul request to completion from synchronous template code.
fn block_on<F>(future: F) -> Result<F::Output, ConsulError>
where
    F: Future + Send,
    F::Output: Send,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    if let Ok(handle) = Handle::try_current()
        && handle.runtime_flavor() == RuntimeFlavor::MultiThread
    {
        return Ok(tokio::task::block_in_place(|| handle.block_on(future)));
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| runtime.block_on(future))
                    .map_err(|e| ConsulError(format!("cannot start a runtime for Consul requests: {e}")))
            })
            .join()
            .unwrap_or_else(|_| Err(ConsulError("a Consul request stopped unexpectedly".into())))
    })
}

/// Splits consul-template's `tag.name` query and its health filter (`any`, or states separated
/// by commas; passing only when none is given).
fn parse_service(query: &str, filter: Option<&str>) -> Result<(Option<String>, String, Vec<HealthState>), Error> {
    let (query, inline_filter) = match query.split_once('|') {
        Some((query, filter)) => (query, Some(filter)),
        None => (query, None),
    };
    let filter = filter.or(inline_filter).unwrap_or_default();
    let (tag, name) = match query.rsplit_once('.') {
        Some((tag, name)) => (Some(tag.to_string()), name.to_string()),
        None => (None, query.to_string()),
    };
    if name.is_empty() || tag.as_deref() == Some("") {
        return Err(failed(format!(
            "service({query:?}): give a service name, or `tag.name` for the instances with a tag"
        )));
    }
    let mut states = Vec::new();
    for word in filter.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if word == "any" {
            states.extend(HealthState::ALL);
            continue;
        }
        match HealthState::parse(word) {
            Some(state) => states.push(state),
            None => {
                return Err(failed(format!(
                    "service({query:?}, {filter:?}): `{word}` is not a health state; use `any`, or `passing`, `warning`, `critical`, `maintenance` separated by commas"
                )));
            }
        }
    }
    if states.is_empty() {
        states.push(HealthState::Passing);
    }
    states.sort();
    states.dedup();
    Ok((tag, name, states))
}

fn instance_value(i: &ServiceInstance) -> Value {
    super::from_json(&json!({
        "Node": i.node,
        "NodeID": i.node_id,
        "NodeAddress": i.node_address,
        "NodeDatacenter": i.node_datacenter,
        "NodeTaggedAddresses": i.node_tagged_addresses,
        "NodeMeta": i.node_meta,
        "ServiceMeta": i.service_meta,
        "Address": i.address,
        "ID": i.id,
        "Name": i.name,
        "Tags": i.tags,
        "Status": i.status.as_str(),
        "Port": i.port,
    }))
}

fn pair_value(p: &KeyPair) -> Value {
    super::from_json(&json!({"Key": p.key, "Path": p.path, "Value": p.value}))
}

fn catalog_service_value(s: &CatalogService) -> Value {
    super::from_json(&json!({"Name": s.name, "Tags": s.tags}))
}

fn node_value(n: &Node) -> Value {
    super::from_json(&json!({
        "Node": n.node,
        "ID": n.id,
        "Address": n.address,
        "Datacenter": n.datacenter,
        "TaggedAddresses": n.tagged_addresses,
        "Meta": n.meta,
    }))
}

/// `service("name")`, `service("tag.name")`, `service("name", "any")`,
/// `service("name", "passing,warning")`: the instances of a service (passing ones by default),
/// sorted by node, then ID.
fn service(state: &mut State, query: String, filter: Option<String>) -> Result<Value, Error> {
    let (tag, name, states) = parse_service(&query, filter.as_deref())?;
    let instances = lookup(state, |s| s.service(&name, tag.as_deref(), &states))?;
    Ok(Value::from(instances.iter().map(instance_value).collect::<Vec<_>>()))
}

/// `key("path")`: a key's value; a key Consul does not have is an error.
fn key(state: &mut State, path: String) -> Result<Value, Error> {
    match lookup(state, |s| s.key(&path))? {
        Some(value) => Ok(Value::from(value)),
        None => {
            let address = address(state);
            Err(failed(format!(
                "Consul at {address} has no key `{path}`; use key_or_default(\"{path}\", ...) for a fallback"
            )))
        }
    }
}

/// `key_or_default("path", "default")`: a key's value, or the default when Consul has no such key.
fn key_or_default(state: &mut State, path: String, default: Value) -> Result<Value, Error> {
    Ok(match lookup(state, |s| s.key(&path))? {
        Some(value) => Value::from(value),
        None => default,
    })
}

/// `ls("prefix")`: the keys directly below a prefix, with `Key`, `Path` and `Value`.
fn ls(state: &mut State, prefix: String) -> Result<Value, Error> {
    let pairs = lookup(state, |s| s.ls(&prefix))?;
    Ok(Value::from(pairs.iter().map(pair_value).collect::<Vec<_>>()))
}

/// `services()`: every service of the catalog with its tags, sorted by name.
fn services(state: &mut State) -> Result<Value, Error> {
    let list = lookup(state, |s| s.services())?;
    Ok(Value::from(list.iter().map(catalog_service_value).collect::<Vec<_>>()))
}

/// `nodes()`: every node of the catalog, sorted by name.
fn nodes(state: &mut State) -> Result<Value, Error> {
    let list = lookup(state, |s| s.nodes())?;
    Ok(Value::from(list.iter().map(node_value).collect::<Vec<_>>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_queries_parse_like_consul_template() {
        let (tag, name, states) = parse_service("web", None).unwrap();
        assert_eq!((tag, name.as_str(), states), (None, "web", vec![HealthState::Passing]));
        let (tag, name, states) = parse_service("blue.web", Some("any")).unwrap();
        assert_eq!((tag.as_deref(), name.as_str()), (Some("blue"), "web"));
        assert_eq!(states, HealthState::ALL.to_vec());
        let (_, _, states) = parse_service("web|warning,passing", None).unwrap();
        assert_eq!(states, vec![HealthState::Passing, HealthState::Warning]);
        assert!(
            parse_service("web", Some("healthy"))
                .unwrap_err()
                .to_string()
                .contains("`healthy`")
        );
        assert!(parse_service("", None).is_err());
    }

    /// A stand-in Consul on 127.0.0.1 that answers one service and one key and counts requests.
    fn fake_consul() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&seen);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or_default().to_string();
                let body = if path.starts_with("/v1/health/service/web") {
                    r#"[{"Node":{"Node":"n1","Address":"10.0.0.1"},"Service":{"ID":"web-1","Service":"web","Port":8080},"Checks":[]}]"#
                } else if path.starts_with("/v1/kv/k") {
                    r#"[{"Key":"k","Value":"dg==","ModifyIndex":1}]"#
                } else {
                    "[]"
                };
                log.lock().unwrap().push(path);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (address, seen)
    }

    #[test]
    fn one_render_asks_consul_once_per_service_and_key() {
        let (address, seen) = fake_consul();
        let mut env = Environment::new();
        register(&mut env);
        let ctx = minijinja::context! { consul_addr => address, inventory_hostname => "prod" };
        let text = env
            .render_str(
                "{{ service('web') | length }} {{ service('web')[0].Address }}:{{ service('web')[0].Port }} \
                 {{ service('web', 'any') | length }} {{ key('k') }}{{ key('k') }} {{ key_or_default('k', 'x') }}",
                ctx.clone(),
            )
            .unwrap();
        assert_eq!(text, "1 10.0.0.1:8080 1 vv v");
        assert_eq!(seen.lock().unwrap().len(), 2, "{:?}", seen.lock().unwrap());
        // A new render asks again.
        env.render_str("{{ key('k') }}", ctx).unwrap();
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    /// Inside bgrun's multi-thread runtime a lookup blocks its worker in place; inside a
    /// current-thread runtime it asks from a thread of its own. Both answer.
    #[test]
    fn lookups_answer_inside_either_runtime() {
        let (address, seen) = fake_consul();
        let mut env = Environment::new();
        register(&mut env);
        let render = || {
            let ctx = minijinja::context! { consul_addr => address.clone() };
            env.render_str("{{ key('k') }}", ctx).unwrap()
        };
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(
            multi.block_on(async {
                tokio::spawn(async {}).await.ok();
                render()
            }),
            "v"
        );
        let current = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(current.block_on(async { render() }), "v");
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[test]
    fn an_unreachable_consul_is_named_in_the_template_error() {
        let mut env = Environment::new();
        register(&mut env);
        let ctx = minijinja::context! { consul_addr => "http://127.0.0.1:1", inventory_hostname => "prod" };
        let err = env.render_str("{{ service('web') }}", ctx).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("Consul at http://127.0.0.1:1 does not answer"), "{text}");
    }
}
