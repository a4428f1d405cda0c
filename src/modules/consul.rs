//! `consul` reads and writes the host's Consul: KV keys (get, put, check-and-set, delete), the
//! catalog (services, nodes, the instances of a service with their health), waiting until a
//! service has enough passing instances, and registering services with the agent, with HTTP, TCP
//! and TTL checks. Its arguments follow Ansible's `consul_kv` and `consul` modules.
//!
//! ```yaml
//! # KV: `key` with `value` puts, `state: absent` deletes, `key` alone gets.
//! - consul: {key: books-ms/color, value: blue}              # changed only when the value differs
//! - consul: {key: books-ms/color, default: blue}            # get; registers value, index, exists
//!   register: color
//! - consul: {key: books-ms/color, value: green, cas: "{{ color.index }}"}
//!                                                           # only if nobody wrote it since
//!                                                           #   (cas: 0: only if absent)
//! - consul: {key: books-ms/color, state: absent}            # delete (cas works here too)
//! - consul: {key: books-ms, recurse: true}                  # get every key below: `values`
//!
//! # The catalog.
//! - consul: {catalog: services}                             # registers services: name -> tags
//! - consul: {catalog: nodes}                                # registers nodes
//! - consul: {service: books-ms-blue}                        # registers instances (Node, Address,
//!                                                           #   Port, Tags, ServiceID, ServiceName,
//!                                                           #   Status, Checks) and passing (a count)
//!   #        tag: blue, only_passing: true                  # narrow the instances
//! - consul: {service: books-ms-blue, wait: 1, timeout: 30}  # until 1 instance passes all checks
//!
//! # The agent's services.
//! - consul:
//!     service: books-ms-blue        # service_name
//!     state: present                # registering needs state: present
//!     id: books-ms-blue-32768       # service_id; default: the service name
//!     address: 127.0.0.3            # service_address; default: the node's address
//!     port: 32768                   # service_port
//!     tags: [blue]
//!     meta: {version: "2"}
//!     http: http://127.0.0.3:32768/api/v1/books   # one check: http, tcp (host:port) or ttl,
//!     interval: 10s                               #   with interval, timeout, check_name,
//!     timeout: 1s                                 #   check_id; or a list of them:
//!     # checks: [{http: ..., interval: 5s}, {tcp: "127.0.0.3:32768"}, {ttl: 30s, status: passing}]
//! - consul: {service: books-ms-blue, state: absent}   # deregister (`id`, else every instance of
//!                                                     #   the name on the agent)
//!
//! # Where Consul is (every form): consul_addr (default: the host's consul_addr, else
//! # http://<ansible_host>:8500), datacenter (default: consul_datacenter), token or token_file
//! # (default: consul_token, consul_token_file, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE).
//! ```
//!
//! bgrun talks to Consul from the machine it runs on, as the `http` module does. The ACL token is
//! never printed: it is hidden in messages and results, whatever it came from. A registration is
//! changed only when the agent's copy differs; bgrun keeps a fingerprint of the checks in the
//! service's meta (`bgrun_checks`) because the agent does not show check definitions.

use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::consul::{Consul as Client, ConsulError, HealthEntry};
use crate::transport::HostError;

/// How long `wait` waits unless told.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// How often `wait` asks Consul.
const POLL: Duration = Duration::from_millis(500);
/// The meta key holding the fingerprint of a registration's checks.
const CHECKS_META: &str = "bgrun_checks";
/// The arguments of a registration.
const REGISTRATION: &[&str] = &[
    "service",
    "state",
    "id",
    "address",
    "port",
    "tags",
    "meta",
    "http",
    "tcp",
    "ttl",
    "interval",
    "timeout",
    "check_name",
    "check_id",
    "checks",
];
/// The arguments of reading a service's instances.
const READING: &[&str] = &["service", "tag", "only_passing"];
/// The arguments of waiting for a service's instances.
const WAITING: &[&str] = &["service", "tag", "only_passing", "wait", "timeout"];
module_arguments! {
[consul]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consul {
    /// A KV key: get, or put with `value`, or delete with `state: absent`.
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<Json>,
    /// What a get registers when the key is absent.
    #[serde(default)]
    default: Option<Json>,
    /// Check-and-set: the modify index the key must still have (0: the key must be absent).
    #[serde(default)]
    cas: Option<u64>,
    /// Get or delete every key below `key`.
    #[serde(default)]
    recurse: bool,

    /// `services` or `nodes`: read the catalog.
    #[serde(default)]
    catalog: Option<String>,

    /// A service: read its instances, `wait` for them, or register or deregister it (`state`).
    #[serde(default, alias = "service_name")]
    service: Option<String>,
    /// Only instances with this tag (reading and waiting).
    #[serde(default)]
    tag: Option<String>,
    /// Register only the passing instances.
    #[serde(default)]
    only_passing: bool,
    /// Wait until this many instances pass every check.
    #[serde(default)]
    wait: Option<u32>,
    /// Seconds to `wait` (default 60); for a registered check, how long it may take ("1s").
    #[serde(default)]
    timeout: Option<Json>,

    /// `present` registers the service, `absent` deregisters it (or deletes the key).
    #[serde(default)]
    state: Option<String>,
    #[serde(default, alias = "service_id")]
    id: Option<String>,
    #[serde(default, alias = "service_address")]
    address: Option<String>,
    #[serde(default, alias = "service_port")]
    port: Option<u16>,
    /// A list, or names separated by commas.
    #[serde(default)]
    tags: Option<Json>,
    #[serde(default)]
    meta: Option<IndexMap<String, Json>>,
    #[serde(default)]
    http: Option<String>,
    #[serde(default)]
    tcp: Option<String>,
    #[serde(default)]
    ttl: Option<Json>,
    #[serde(default)]
    interval: Option<Json>,
    #[serde(default)]
    check_name: Option<String>,
    #[serde(default)]
    check_id: Option<String>,
    #[serde(default)]
    checks: Option<Vec<CheckArgs>>,
}
}

/// One health check of a registration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckArgs {
    #[serde(default)]
    http: Option<String>,
    #[serde(default)]
    tcp: Option<String>,
    #[serde(default)]
    ttl: Option<Json>,
    #[serde(default)]
    interval: Option<Json>,
    #[serde(default)]
    timeout: Option<Json>,
    #[serde(default, alias = "check_name")]
    name: Option<String>,
    #[serde(default, alias = "check_id")]
    id: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    /// The status the check starts with (`passing`, `warning`, `critical`).
    #[serde(default)]
    status: Option<String>,
    /// Consul removes the service after its check was critical this long.
    #[serde(default)]
    deregister_critical_service_after: Option<Json>,
}

fn failed(message: impl Into<String>) -> HostError {
    HostError::Failed(message.into())
}

fn consul_error(e: ConsulError) -> HostError {
    HostError::Failed(e.0)
}

/// A Consul duration (`10s`, `1m`, `500ms`); a bare number is seconds.
fn consul_duration(value: &Json, what: &str) -> Result<String, HostError> {
    match value {
        Json::Number(n) => Ok(format!("{n}s")),
        Json::String(s) if s.trim().parse::<f64>().is_ok() => Ok(format!("{}s", s.trim())),
        Json::String(s) if parse_duration(s).is_some() => Ok(s.trim().to_string()),
        other => Err(failed(format!(
            "`{what}` must be a duration such as 10s, 1m or 500ms, not {}",
            crate::yaml::scalar_text(other)
        ))),
    }
}

/// Seconds, or a duration with a unit (`ms`, `s`, `m`, `h`).
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// A KV value as the text Consul stores.
fn value_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// Tags given as a list or as names separated by commas.
fn tag_list(tags: &Json) -> Vec<String> {
    match tags {
        Json::Array(items) => items.iter().map(crate::yaml::scalar_text).collect(),
        Json::Null => Vec::new(),
        other => crate::yaml::scalar_text(other)
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
    }
}

/// An instance as `service` reads register it.
fn instance_json(entry: &HealthEntry) -> Json {
    let address = if entry.service.address.is_empty() {
        entry.node.address.clone()
    } else {
        entry.service.address.clone()
    };
    let checks: Vec<Json> = entry
        .checks
        .iter()
        .map(|c| json!({"CheckID": c.check_id, "Name": c.name, "Status": c.status, "Output": c.output}))
        .collect();
    json!({
        "Node": entry.node.node,
        "NodeAddress": entry.node.address,
        "Address": address,
        "ServiceAddress": entry.service.address,
        "Port": entry.service.port,
        "Tags": entry.service.tags.clone().unwrap_or_default(),
        "ServiceID": entry.service.id,
        "ServiceName": entry.service.service,
        "Status": entry.status(),
        "Checks": checks,
    })
}

/// The checks of the instances that do not pass, with what they said.
fn failing_checks(entries: &[HealthEntry]) -> Vec<String> {
    entries
        .iter()
        .flat_map(|entry| {
            entry.checks.iter().filter(|c| c.status != "passing").map(move |c| {
                let output = c.output.trim();
                let output = if output.is_empty() { "no output yet" } else { output };
                format!(
                    "check `{}` ({}) of `{}` on {} is {}: {output}",
                    c.name, c.check_id, entry.service.id, entry.node.node, c.status
                )
            })
        })
        .collect()
}

impl Module for Consul {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let settings = self.consul_settings();
        let client = cx
            .consul(&settings)
            .map_err(|e| Failure::from(e).scrub(settings.token.as_deref()))?;
        let secret = client.token().map(str::to_string);
        let planned = async { self.operation()?.plan(&client).await }.await;
        match planned {
            Ok(Plan::Done(outcome)) => Ok(Plan::Done(outcome.scrub(secret.as_deref()))),
            Ok(Plan::Change(outcome, change)) => {
                let work = Work {
                    client,
                    secret: secret.clone(),
                    change,
                };
                Ok(Plan::Change(outcome.scrub(secret.as_deref()), work))
            }
            Err(e) => Err(Failure::from(e).scrub(secret.as_deref())),
        }
    }

    async fn apply(work: Work, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let Work { client, secret, change } = work;
        match change.apply(planned, cx, &client).await {
            Ok(outcome) => Ok(outcome.scrub(secret.as_deref())),
            Err(e) => Err(e.scrub(secret.as_deref())),
        }
    }
}

/// What a `consul` step changes, with the client to change it through.
pub struct Work {
    client: Client,
    /// The token, scrubbed from what is reported.
    secret: Option<String>,
    change: Change,
}

/// The writes a plan found needed.
enum Change {
    KvPut(KvPut),
    KvDelete(KvDelete),
    KvDeleteTree(String),
    /// Wait for the passing instances the plan did not find yet.
    Wait(Wait),
    Register(Json),
    Deregister(Vec<String>),
}

/// What a step does, each with only the arguments that go with it (where Consul is aside).
#[derive(Debug, PartialEq)]
enum Operation {
    Catalog(Catalog),
    KvGet(KvGet),
    KvGetTree(KvTree),
    KvPut(KvPut),
    KvDelete(KvDelete),
    KvDeleteTree(KvTree),
    Read(Read),
    Wait(Wait),
    Register(Register),
    Deregister(Deregister),
}

/// `catalog: services` or `catalog: nodes`.
#[derive(Debug, PartialEq)]
enum Catalog {
    Services,
    Nodes,
}

/// `key` alone: its value, or `default` when it is absent.
#[derive(Debug, PartialEq)]
struct KvGet {
    key: String,
    default: Option<Json>,
}

/// `key` with `recurse: true`: every key below it (read, or deleted with `state: absent`).
#[derive(Debug, PartialEq)]
struct KvTree {
    key: String,
}

/// `key` with `value`: the text Consul is to store, only at modify index `cas` if given.
#[derive(Debug, PartialEq)]
struct KvPut {
    key: String,
    value: String,
    cas: Option<u64>,
}

/// `key` with `state: absent`, only at modify index `cas` if given.
#[derive(Debug, PartialEq)]
struct KvDelete {
    key: String,
    cas: Option<u64>,
}

/// `service` alone: its instances.
#[derive(Debug, PartialEq)]
struct Read {
    service: String,
    tag: Option<String>,
    only_passing: bool,
}

/// `service` with `wait`: until `count` instances pass every check, for `timeout` at most.
#[derive(Debug, PartialEq)]
struct Wait {
    read: Read,
    count: u32,
    timeout: Duration,
}

/// `service` with `state: present`: the agent's registration, as Consul's JSON once registered.
#[derive(Debug, PartialEq)]
struct Register {
    service: String,
    id: String,
    address: String,
    port: u16,
    tags: Vec<String>,
    /// The meta, every value as text, with the checks' fingerprint.
    meta: serde_json::Map<String, Json>,
    /// The checks' definitions.
    checks: Vec<Json>,
}

/// `service` with `state: absent`: the instance `id`, else every instance of the name.
#[derive(Debug, PartialEq)]
struct Deregister {
    service: String,
    id: Option<String>,
}

impl Consul {
    /// The operation the arguments ask for; an argument that does not go with it is an error.
    fn operation(self) -> Result<Operation, HostError> {
        let state = self.state.clone().unwrap_or_default();
        if !matches!(state.as_str(), "" | "present" | "absent") {
            return Err(failed(format!("`state` is `present` or `absent`, not `{state}`")));
        }
        let modes = [self.key.is_some(), self.catalog.is_some(), self.service.is_some()];
        if modes.iter().filter(|m| **m).count() != 1 {
            return Err(failed(
                "give one of `key` (KV), `service` (a service's instances, wait, register) or `catalog` (services, nodes)",
            ));
        }
        if let Some(catalog) = &self.catalog {
            self.only(&["catalog"], "reading the catalog")?;
            return match catalog.as_str() {
                "services" => Ok(Operation::Catalog(Catalog::Services)),
                "nodes" => Ok(Operation::Catalog(Catalog::Nodes)),
                other => Err(failed(format!("`catalog` is `services` or `nodes`, not `{other}`"))),
            };
        }
        if let Some(key) = self.key.clone() {
            self.only(&["key", "value", "default", "cas", "recurse", "state"], "a KV key")?;
            return match (state.as_str(), &self.value) {
                ("absent", _) if self.recurse => Ok(Operation::KvDeleteTree(KvTree { key })),
                ("absent", _) => Ok(Operation::KvDelete(KvDelete { key, cas: self.cas })),
                (_, Some(_)) if self.recurse => Err(failed("`recurse` reads or deletes keys; put them one by one")),
                (_, Some(value)) => Ok(Operation::KvPut(KvPut {
                    key,
                    value: value_text(value),
                    cas: self.cas,
                })),
                ("present", None) => Err(failed(format!("`state: present` for key `{key}` needs a `value`"))),
                _ if self.recurse => Ok(Operation::KvGetTree(KvTree { key })),
                _ => Ok(Operation::KvGet(KvGet {
                    key,
                    default: self.default,
                })),
            };
        }
        let name = self.service.clone().unwrap_or_default();
        match state.as_str() {
            "present" => {
                self.only(REGISTRATION, "registering a service")?;
                self.registration(name).map(Operation::Register)
            }
            "absent" => {
                self.only(&["service", "state", "id"], "deregistering a service")?;
                Ok(Operation::Deregister(Deregister {
                    service: name,
                    id: self.id,
                }))
            }
            _ => {
                let (allowed, what) = match self.wait {
                    Some(_) => (WAITING, "waiting for a service"),
                    None => (READING, "reading a service"),
                };
                if let Some(field) = self.given().into_iter().find(|f| !allowed.contains(f)) {
                    return Err(failed(if REGISTRATION.contains(&field) {
                        format!(
                            "`{field}` is for registering: to register `{name}` with the agent add `state: present`"
                        )
                    } else {
                        format!("`{field}` does not apply to {what}")
                    }));
                }
                let read = Read {
                    service: name,
                    tag: self.tag,
                    only_passing: self.only_passing,
                };
                let Some(count) = self.wait else {
                    return Ok(Operation::Read(read));
                };
                let timeout = match &self.timeout {
                    None => DEFAULT_WAIT,
                    Some(value) => parse_duration(&crate::yaml::scalar_text(value)).ok_or_else(|| {
                        failed(format!(
                            "`timeout` is the seconds to wait (or 30s, 2m), not {}",
                            crate::yaml::scalar_text(value)
                        ))
                    })?,
                };
                Ok(Operation::Wait(Wait { read, count, timeout }))
            }
        }
    }

    /// The arguments given, besides where Consul is.
    fn given(&self) -> Vec<&'static str> {
        let set = [
            ("key", self.key.is_some()),
            ("value", self.value.is_some()),
            ("default", self.default.is_some()),
            ("cas", self.cas.is_some()),
            ("recurse", self.recurse),
            ("catalog", self.catalog.is_some()),
            ("service", self.service.is_some()),
            ("tag", self.tag.is_some()),
            ("only_passing", self.only_passing),
            ("wait", self.wait.is_some()),
            ("timeout", self.timeout.is_some()),
            ("state", self.state.is_some()),
            ("id", self.id.is_some()),
            ("address", self.address.is_some()),
            ("port", self.port.is_some()),
            ("tags", self.tags.is_some()),
            ("meta", self.meta.is_some()),
            ("http", self.http.is_some()),
            ("tcp", self.tcp.is_some()),
            ("ttl", self.ttl.is_some()),
            ("interval", self.interval.is_some()),
            ("check_name", self.check_name.is_some()),
            ("check_id", self.check_id.is_some()),
            ("checks", self.checks.is_some()),
        ];
        set.into_iter()
            .filter(|(_, given)| *given)
            .map(|(name, _)| name)
            .collect()
    }

    /// Fails on an argument that means nothing for what the step does.
    fn only(&self, allowed: &[&str], what: &str) -> Result<(), HostError> {
        match self.given().into_iter().find(|f| !allowed.contains(f)) {
            Some(field) => Err(failed(format!("`{field}` does not apply to {what}"))),
            None => Ok(()),
        }
    }

    /// The checks of a registration, as Consul's JSON.
    fn check_definitions(&self) -> Result<Vec<Json>, HostError> {
        let mut list = Vec::new();
        if self.http.is_some() || self.tcp.is_some() || self.ttl.is_some() {
            let single = CheckArgs {
                http: self.http.clone(),
                tcp: self.tcp.clone(),
                ttl: self.ttl.clone(),
                interval: self.interval.clone(),
                timeout: self.timeout.clone(),
                name: self.check_name.clone(),
                id: self.check_id.clone(),
                ..CheckArgs::default()
            };
            list.push(single.definition()?);
        } else if self.interval.is_some() || self.check_name.is_some() || self.check_id.is_some() {
            return Err(failed("a check needs one of `http`, `tcp` or `ttl`"));
        }
        for check in self.checks.iter().flatten() {
            list.push(check.definition()?);
        }
        Ok(list)
    }

    /// The registration of service `name` the arguments describe.
    fn registration(&self, name: String) -> Result<Register, HostError> {
        let id = self.id.clone().unwrap_or_else(|| name.clone());
        let checks = self.check_definitions()?;
        let fingerprint: String = Sha256::digest(Json::Array(checks.clone()).to_string().as_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut meta: serde_json::Map<String, Json> = self
            .meta
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), Json::String(crate::yaml::scalar_text(v))))
            .collect();
        meta.insert(CHECKS_META.into(), Json::String(fingerprint));
        Ok(Register {
            service: name,
            id,
            address: self.address.clone().unwrap_or_default(),
            port: self.port.unwrap_or_default(),
            tags: self.tags.as_ref().map(tag_list).unwrap_or_default(),
            meta,
            checks,
        })
    }
}

impl Operation {
    /// Reads what the operation needs; a read is done here, a write is planned.
    async fn plan(self, client: &Client) -> Result<Plan<Change>, HostError> {
        match self {
            Operation::Catalog(catalog) => catalog.run(client).await.map(Plan::Done),
            Operation::KvGet(get) => get.run(client).await.map(Plan::Done),
            Operation::KvGetTree(tree) => tree.get(client).await.map(Plan::Done),
            Operation::KvPut(put) => put.plan(client).await,
            Operation::KvDelete(delete) => delete.plan(client).await,
            Operation::KvDeleteTree(tree) => tree.plan_delete(client).await,
            Operation::Read(read) => read.run(client).await.map(Plan::Done),
            Operation::Wait(wait) => wait.plan(client).await,
            Operation::Register(register) => register.plan(client).await,
            Operation::Deregister(deregister) => deregister.plan(client).await,
        }
    }
}

impl Change {
    async fn apply(self, planned: Outcome, cx: &StepContext<'_>, client: &Client) -> Result<Outcome, Failure> {
        match self {
            Change::KvPut(put) => Ok(put.apply(planned, client).await?),
            Change::KvDelete(delete) => {
                delete.apply(client).await?;
                Ok(planned)
            }
            Change::KvDeleteTree(key) => {
                client.kv_delete_tree(&key).await.map_err(consul_error)?;
                Ok(planned)
            }
            Change::Wait(wait) => wait.run(cx, client).await,
            Change::Register(definition) => {
                client.register_definition(&definition).await.map_err(consul_error)?;
                Ok(planned)
            }
            Change::Deregister(ids) => {
                for id in &ids {
                    client.deregister(id).await.map_err(consul_error)?;
                }
                Ok(planned)
            }
        }
    }
}

impl Catalog {
    async fn run(self, client: &Client) -> Result<Outcome, HostError> {
        match self {
            Catalog::Services => {
                let services = client.services().await.map_err(consul_error)?;
                let map: serde_json::Map<String, Json> = services
                    .into_iter()
                    .map(|(name, tags)| (name, Json::from(tags)))
                    .collect();
                Ok(Outcome::ok().with("services", Json::Object(map)))
            }
            Catalog::Nodes => {
                let nodes = client.node_list().await.map_err(consul_error)?;
                let list: Vec<Json> = nodes
                    .iter()
                    .map(|n| json!({"Node": n.node, "ID": n.id, "Address": n.address, "Datacenter": n.datacenter, "Meta": n.meta}))
                    .collect();
                Ok(Outcome::ok().with("nodes", list))
            }
        }
    }
}

impl KvGet {
    async fn run(self, client: &Client) -> Result<Outcome, HostError> {
        let key = self.key.as_str();
        let found = client.kv_get(key).await.map_err(consul_error)?;
        let outcome = Outcome::ok().with("key", key);
        Ok(match found {
            Some((value, index)) => outcome.with("value", value).with("index", index).with("exists", true),
            None => outcome
                .with("value", self.default.unwrap_or(Json::Null))
                .with("index", 0)
                .with("exists", false),
        })
    }
}

impl KvTree {
    async fn get(self, client: &Client) -> Result<Outcome, HostError> {
        let entries = client.kv_list(&self.key).await.map_err(consul_error)?;
        let values: serde_json::Map<String, Json> = entries.into_iter().map(|(k, v)| (k, Json::String(v))).collect();
        Ok(Outcome::ok().with("key", self.key).with("values", Json::Object(values)))
    }

    async fn plan_delete(self, client: &Client) -> Result<Plan<Change>, HostError> {
        let count = client.kv_list(&self.key).await.map_err(consul_error)?.len();
        let outcome = Outcome::changed(count > 0)
            .with("key", self.key.as_str())
            .with("deleted", count);
        Ok(match count {
            0 => Plan::Done(outcome),
            _ => Plan::Change(outcome, Change::KvDeleteTree(self.key)),
        })
    }
}

/// The error for a check-and-set that found the key moved on.
fn conflict(key: &str, expected: u64, current: Option<&(String, u64)>) -> HostError {
    let now = match current {
        Some((_, index)) => format!("it is at modify index {index}"),
        None => "it does not exist".to_string(),
    };
    let expected_text = if expected == 0 {
        "0 (the key absent)".to_string()
    } else {
        expected.to_string()
    };
    failed(format!(
        "check-and-set on key `{key}` failed: expected modify index {expected_text}, but {now}; someone else wrote it since it was read"
    ))
}

impl KvPut {
    async fn plan(self, client: &Client) -> Result<Plan<Change>, HostError> {
        let (key, text) = (self.key.as_str(), self.value.as_str());
        let current = client.kv_get(key).await.map_err(consul_error)?;
        if let Some(expected) = self.cas {
            let matches = match &current {
                Some((_, index)) => *index == expected,
                None => expected == 0,
            };
            if !matches {
                return Err(conflict(key, expected, current.as_ref()));
            }
        }
        let outcome = Outcome::ok().with("key", key).with("value", text);
        if let Some((existing, index)) = &current
            && existing == text
        {
            return Ok(Plan::Done(outcome.with("index", *index)));
        }
        Ok(Plan::Change(
            Outcome {
                changed: true,
                ..outcome
            },
            Change::KvPut(self),
        ))
    }

    async fn apply(self, planned: Outcome, client: &Client) -> Result<Outcome, HostError> {
        let (key, text) = (self.key.as_str(), self.value.as_str());
        if !client.kv_put(key, text, self.cas).await.map_err(consul_error)? {
            let now = client.kv_get(key).await.map_err(consul_error)?;
            return Err(conflict(key, self.cas.unwrap_or_default(), now.as_ref()));
        }
        let index = client
            .kv_get(key)
            .await
            .map_err(consul_error)?
            .map(|(_, i)| i)
            .unwrap_or_default();
        Ok(planned.with("index", index))
    }
}

impl KvDelete {
    async fn plan(self, client: &Client) -> Result<Plan<Change>, HostError> {
        let key = self.key.as_str();
        let outcome = Outcome::ok().with("key", key);
        let current = client.kv_get(key).await.map_err(consul_error)?;
        if let Some(expected) = self.cas {
            let matches = current.as_ref().is_none_or(|(_, index)| *index == expected);
            if !matches {
                return Err(conflict(key, expected, current.as_ref()));
            }
        }
        let existed = current.is_some();
        let outcome = Outcome {
            changed: existed,
            ..outcome
        }
        .with("existed", existed);
        Ok(match existed {
            true => Plan::Change(outcome, Change::KvDelete(self)),
            false => Plan::Done(outcome),
        })
    }

    async fn apply(self, client: &Client) -> Result<(), HostError> {
        let key = self.key.as_str();
        match self.cas {
            Some(expected) => {
                if !client.kv_delete_cas(key, expected).await.map_err(consul_error)? {
                    let now = client.kv_get(key).await.map_err(consul_error)?;
                    return Err(conflict(key, expected, now.as_ref()));
                }
            }
            None => client.kv_delete(key).await.map_err(consul_error)?,
        }
        Ok(())
    }
}

/// Fills in what failing checks said from the agent's own copy when the catalog has no
/// output yet (the agent syncs a check's output to the catalog only now and then).
async fn with_outputs(client: &Client, mut entries: Vec<HealthEntry>) -> Vec<HealthEntry> {
    let lacking = entries
        .iter()
        .flat_map(|e| &e.checks)
        .any(|c| c.status != "passing" && c.output.trim().is_empty());
    if !lacking {
        return entries;
    }
    let Ok(agent) = client.agent_checks().await else {
        return entries;
    };
    for check in entries.iter_mut().flat_map(|e| e.checks.iter_mut()) {
        if check.output.trim().is_empty()
            && let Some(live) = agent.get(&check.check_id)
        {
            check.output = live.output.clone();
        }
    }
    entries
}

impl Read {
    async fn health(&self, client: &Client) -> Result<Vec<HealthEntry>, HostError> {
        client
            .health_service(&self.service, self.tag.as_deref())
            .await
            .map_err(consul_error)
    }

    fn outcome(&self, entries: &[HealthEntry]) -> Outcome {
        let passing = entries.iter().filter(|e| e.status() == "passing").count();
        let instances: Vec<Json> = entries
            .iter()
            .filter(|e| !self.only_passing || e.status() == "passing")
            .map(instance_json)
            .collect();
        Outcome::ok()
            .with("service", self.service.as_str())
            .with("instances", instances)
            .with("passing", passing)
    }

    async fn run(self, client: &Client) -> Result<Outcome, HostError> {
        let entries = self.health(client).await?;
        Ok(self.outcome(&entries))
    }
}

impl Wait {
    /// Done when the instances wanted pass now; otherwise the wait is the work, so check mode
    /// reports how many pass and does not wait.
    async fn plan(self, client: &Client) -> Result<Plan<Change>, HostError> {
        let read = &self.read;
        let want = self.count as usize;
        let entries = read.health(client).await?;
        let passing = entries.iter().filter(|e| e.status() == "passing").count();
        if passing >= want {
            return Ok(Plan::Done(read.outcome(&entries)));
        }
        let entries = with_outputs(client, entries).await;
        let outcome = read.outcome(&entries).msg(format!(
            "check mode: {passing} of the {want} passing instances of `{}` wanted are there now; not waiting",
            read.service
        ));
        Ok(Plan::Change(outcome, Change::Wait(self)))
    }

    async fn run(self, cx: &StepContext<'_>, client: &Client) -> Result<Outcome, Failure> {
        let (read, timeout) = (&self.read, self.timeout);
        let name = read.service.as_str();
        let want = self.count as usize;
        let started = Instant::now();
        loop {
            let entries = read.health(client).await?;
            let passing = entries.iter().filter(|e| e.status() == "passing").count();
            if passing >= want {
                return Ok(read.outcome(&entries));
            }
            let entries = with_outputs(client, entries).await;
            let outcome = read.outcome(&entries);
            let failing = failing_checks(&entries);
            let mut detail = format!("{name}: {passing} of {want} passing");
            if let Some(first) = failing.first() {
                detail.push_str(&format!("; {first}"));
            }
            (cx.progress)(detail);
            if started.elapsed() >= timeout {
                let seconds = timeout.as_secs_f64();
                let tag = read
                    .tag
                    .as_ref()
                    .map(|t| format!(" with tag `{t}`"))
                    .unwrap_or_default();
                let why = if entries.is_empty() {
                    format!(
                        "no instance of `{name}`{tag} is registered in Consul at {}",
                        client.address()
                    )
                } else if failing.is_empty() {
                    format!("{passing} of {} instances pass", entries.len())
                } else {
                    format!("{passing} of {} instances pass; {}", entries.len(), failing.join("; "))
                };
                return Err(outcome
                    .msg(format!(
                        "timed out after {seconds} s waiting for {want} passing instance{} of `{name}`{tag}: {why}",
                        if want == 1 { "" } else { "s" }
                    ))
                    .into());
            }
            let left = timeout.saturating_sub(started.elapsed());
            if !crate::interrupt::sleep(POLL.min(left)).await {
                return Err(outcome
                    .msg(format!(
                        "stopped waiting for `{name}` ({passing} of {want} passing): bgrun received {}",
                        crate::interrupt::received().unwrap_or("a signal")
                    ))
                    .into());
            }
        }
    }
}

impl Register {
    async fn plan(self, client: &Client) -> Result<Plan<Change>, HostError> {
        let (id, name) = (self.id.as_str(), self.service.as_str());
        let outcome = Outcome::ok().with("id", id).with("service", name);
        let existing = client.agent_services().await.map_err(consul_error)?;
        if let Some(current) = existing.get(id) {
            let same = current.get("Service").and_then(Json::as_str) == Some(name)
                && current.get("Address").and_then(Json::as_str).unwrap_or_default() == self.address
                && current.get("Port").and_then(Json::as_u64).unwrap_or_default() == u64::from(self.port)
                && tag_list(current.get("Tags").unwrap_or(&Json::Null)) == self.tags
                && current.get("Meta").cloned().unwrap_or(Json::Null) == Json::Object(self.meta.clone());
            if same {
                return Ok(Plan::Done(outcome));
            }
        }
        let mut definition = json!({
            "ID": id,
            "Name": name,
            "Address": self.address,
            "Port": self.port,
            "Tags": self.tags,
            "Meta": self.meta,
        });
        if !self.checks.is_empty() {
            definition["Checks"] = Json::Array(self.checks);
        }
        Ok(Plan::Change(
            Outcome {
                changed: true,
                ..outcome
            },
            Change::Register(definition),
        ))
    }
}

impl Deregister {
    async fn plan(self, client: &Client) -> Result<Plan<Change>, HostError> {
        let name = self.service.as_str();
        let existing = client.agent_services().await.map_err(consul_error)?;
        let ids: Vec<String> = match &self.id {
            Some(id) => existing.keys().filter(|k| *k == id).cloned().collect(),
            None => existing
                .iter()
                .filter(|(_, s)| s.get("Service").and_then(Json::as_str) == Some(name))
                .map(|(id, _)| id.clone())
                .collect(),
        };
        let outcome = Outcome::changed(!ids.is_empty())
            .with("service", name)
            .with("ids", ids.clone());
        Ok(match ids.is_empty() {
            true => Plan::Done(outcome),
            false => Plan::Change(outcome, Change::Deregister(ids)),
        })
    }
}

impl CheckArgs {
    /// The check as Consul's registration JSON.
    fn definition(&self) -> Result<Json, HostError> {
        let kinds = [self.http.is_some(), self.tcp.is_some(), self.ttl.is_some()];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(failed("a check needs exactly one of `http`, `tcp` or `ttl`"));
        }
        let mut check = serde_json::Map::new();
        if let Some(url) = &self.http {
            check.insert("HTTP".into(), Json::from(url.as_str()));
        }
        if let Some(address) = &self.tcp {
            check.insert("TCP".into(), Json::from(address.as_str()));
        }
        if let Some(ttl) = &self.ttl {
            check.insert("TTL".into(), Json::from(consul_duration(ttl, "ttl")?));
        } else {
            let interval = match &self.interval {
                Some(interval) => consul_duration(interval, "interval")?,
                None => "10s".to_string(),
            };
            check.insert("Interval".into(), Json::from(interval));
        }
        if let Some(timeout) = &self.timeout {
            check.insert("Timeout".into(), Json::from(consul_duration(timeout, "timeout")?));
        }
        if let Some(name) = &self.name {
            check.insert("Name".into(), Json::from(name.as_str()));
        }
        if let Some(id) = &self.id {
            check.insert("CheckID".into(), Json::from(id.as_str()));
        }
        if let Some(notes) = &self.notes {
            check.insert("Notes".into(), Json::from(notes.as_str()));
        }
        if let Some(status) = &self.status {
            if !matches!(status.as_str(), "passing" | "warning" | "critical") {
                return Err(failed(format!(
                    "a check's `status` is `passing`, `warning` or `critical`, not `{status}`"
                )));
            }
            check.insert("Status".into(), Json::from(status.as_str()));
        }
        if let Some(after) = &self.deregister_critical_service_after {
            check.insert(
                "DeregisterCriticalServiceAfter".into(),
                Json::from(consul_duration(after, "deregister_critical_service_after")?),
            );
        }
        Ok(Json::Object(check))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consul::Secret;

    fn args(value: Json) -> Consul {
        Consul::deserialize(value).unwrap()
    }

    #[test]
    fn arguments_must_fit_what_the_step_does() {
        let kv = args(json!({"key": "a", "port": 3}));
        let err = kv.only(&["key", "value"], "a KV key").unwrap_err();
        assert_eq!(err.to_string(), "`port` does not apply to a KV key");
        let wait = args(json!({"service": "web", "wait": 1, "timeout": 30}));
        assert!(wait.only(WAITING, "waiting for a service").is_ok());
        assert!(wait.only(READING, "reading a service").is_err());
        let aliases = args(json!({"service_name": "web", "service_port": 80, "service_id": "w1", "state": "present"}));
        assert!(aliases.only(REGISTRATION, "registering a service").is_ok());
        assert_eq!(aliases.port, Some(80));
    }

    fn operation(value: Json) -> Result<Operation, String> {
        args(value).operation().map_err(|e| e.to_string())
    }

    #[test]
    fn kv_arguments_make_kv_operations() {
        let get = |default| {
            Operation::KvGet(KvGet {
                key: "a".into(),
                default,
            })
        };
        assert_eq!(operation(json!({"key": "a"})), Ok(get(None)));
        assert_eq!(
            operation(json!({"key": "a", "default": "x"})),
            Ok(get(Some(json!("x"))))
        );
        let tree = || KvTree { key: "a".into() };
        assert_eq!(
            operation(json!({"key": "a", "recurse": true})),
            Ok(Operation::KvGetTree(tree()))
        );
        assert_eq!(
            operation(json!({"key": "a", "recurse": true, "state": "absent"})),
            Ok(Operation::KvDeleteTree(tree()))
        );
        assert_eq!(
            operation(json!({"key": "a", "value": {"b": 1}, "cas": 0})),
            Ok(Operation::KvPut(KvPut {
                key: "a".into(),
                value: "{\"b\":1}".into(),
                cas: Some(0)
            }))
        );
        assert_eq!(
            operation(json!({"key": "a", "state": "absent", "cas": 7})),
            Ok(Operation::KvDelete(KvDelete {
                key: "a".into(),
                cas: Some(7)
            }))
        );
        assert_eq!(
            operation(json!({"key": "a", "value": 1, "recurse": true})),
            Err("`recurse` reads or deletes keys; put them one by one".into())
        );
        assert_eq!(
            operation(json!({"key": "a", "state": "present"})),
            Err("`state: present` for key `a` needs a `value`".into())
        );
        assert_eq!(
            operation(json!({"key": "a", "tag": "x"})),
            Err("`tag` does not apply to a KV key".into())
        );
    }

    #[test]
    fn one_kind_of_operation_and_a_known_state() {
        let one =
            "give one of `key` (KV), `service` (a service's instances, wait, register) or `catalog` (services, nodes)";
        assert_eq!(operation(json!({})), Err(one.into()));
        assert_eq!(operation(json!({"key": "a", "catalog": "nodes"})), Err(one.into()));
        assert_eq!(
            operation(json!({"key": "a", "state": "gone"})),
            Err("`state` is `present` or `absent`, not `gone`".into())
        );
        assert_eq!(
            operation(json!({"catalog": "services"})),
            Ok(Operation::Catalog(Catalog::Services))
        );
        assert_eq!(
            operation(json!({"catalog": "nodes"})),
            Ok(Operation::Catalog(Catalog::Nodes))
        );
        assert_eq!(
            operation(json!({"catalog": "kv"})),
            Err("`catalog` is `services` or `nodes`, not `kv`".into())
        );
        assert_eq!(
            operation(json!({"catalog": "nodes", "state": "absent"})),
            Err("`state` does not apply to reading the catalog".into())
        );
    }

    #[test]
    fn service_arguments_read_wait_or_deregister() {
        let read = || Read {
            service: "web".into(),
            tag: Some("blue".into()),
            only_passing: true,
        };
        assert_eq!(
            operation(json!({"service": "web", "tag": "blue", "only_passing": true})),
            Ok(Operation::Read(read()))
        );
        assert_eq!(
            operation(json!({"service": "web", "tag": "blue", "only_passing": true, "wait": 2, "timeout": "2m"})),
            Ok(Operation::Wait(Wait {
                read: read(),
                count: 2,
                timeout: Duration::from_secs(120)
            }))
        );
        let Ok(Operation::Wait(wait)) = operation(json!({"service": "web", "wait": 1})) else {
            panic!("a wait")
        };
        assert_eq!(wait.timeout, DEFAULT_WAIT);
        assert_eq!(
            operation(json!({"service": "web", "wait": 1, "timeout": "soon"})),
            Err("`timeout` is the seconds to wait (or 30s, 2m), not soon".into())
        );
        assert_eq!(
            operation(json!({"service": "web", "timeout": 3})),
            Err("`timeout` is for registering: to register `web` with the agent add `state: present`".into())
        );
        assert_eq!(
            operation(json!({"service": "web", "wait": 1, "recurse": true})),
            Err("`recurse` does not apply to waiting for a service".into())
        );
        assert_eq!(
            operation(json!({"service": "web", "port": 80})),
            Err("`port` is for registering: to register `web` with the agent add `state: present`".into())
        );
        assert_eq!(
            operation(json!({"service_name": "web", "service_id": "w1", "state": "absent"})),
            Ok(Operation::Deregister(Deregister {
                service: "web".into(),
                id: Some("w1".into())
            }))
        );
        assert_eq!(
            operation(json!({"service": "web", "state": "absent", "port": 80})),
            Err("`port` does not apply to deregistering a service".into())
        );
    }

    #[test]
    fn registering_arguments_make_the_registration() {
        let Ok(Operation::Register(register)) = operation(json!({
            "service_name": "web", "state": "present", "service_port": 80, "tags": "a, b",
            "meta": {"v": 2}, "http": "http://x/", "interval": 5,
        })) else {
            panic!("a registration")
        };
        assert_eq!(
            (register.id.as_str(), register.address.as_str(), register.port),
            ("web", "", 80)
        );
        assert_eq!(register.tags, ["a", "b"]);
        assert_eq!(register.checks, [json!({"HTTP": "http://x/", "Interval": "5s"})]);
        assert_eq!(register.meta["v"], "2");
        assert_eq!(register.meta[CHECKS_META].as_str().map(str::len), Some(16));
        assert_eq!(
            operation(json!({"service": "web", "state": "present", "interval": "5s"})),
            Err("a check needs one of `http`, `tcp` or `ttl`".into())
        );
        assert_eq!(
            operation(json!({"service": "web", "state": "present", "wait": 1})),
            Err("`wait` does not apply to registering a service".into())
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(consul_duration(&json!(5), "interval").unwrap(), "5s");
        assert_eq!(consul_duration(&json!("1m"), "interval").unwrap(), "1m");
        assert!(
            consul_duration(&json!("often"), "interval")
                .unwrap_err()
                .to_string()
                .contains("`interval`")
        );
    }

    #[test]
    fn checks_become_consul_definitions() {
        let http = CheckArgs {
            http: Some("http://127.0.0.1:8080/".into()),
            timeout: Some(json!("1s")),
            ..CheckArgs::default()
        };
        assert_eq!(
            http.definition().unwrap(),
            json!({"HTTP": "http://127.0.0.1:8080/", "Interval": "10s", "Timeout": "1s"})
        );
        let ttl = CheckArgs {
            ttl: Some(json!("10m")),
            status: Some("passing".into()),
            ..CheckArgs::default()
        };
        assert_eq!(ttl.definition().unwrap(), json!({"TTL": "10m", "Status": "passing"}));
        let both = CheckArgs {
            http: Some("x".into()),
            tcp: Some("y".into()),
            ..CheckArgs::default()
        };
        assert!(both.definition().is_err());
    }

    #[test]
    fn values_tags_and_secrets() {
        assert_eq!(value_text(&json!("blue")), "blue");
        assert_eq!(value_text(&json!(3)), "3");
        assert_eq!(value_text(&json!({"a": 1})), "{\"a\":1}");
        assert_eq!(tag_list(&json!("a, b")), ["a", "b"]);
        assert_eq!(tag_list(&json!(["a", 1])), ["a", "1"]);
        let outcome = Outcome::failed("refused token s3cret").with("echo", json!(["s3cret"]));
        let clean = outcome.scrub(Some("s3cret"));
        assert_eq!(clean.msg.as_deref(), Some("refused token ********"));
        assert_eq!(clean.data["echo"], json!(["********"]));
        assert_eq!(format!("{:?}", Secret("s3cret".into())), "********");
    }
}
