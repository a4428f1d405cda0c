//! From finalized service dicts to the [`Project`]: what docker-compose 1.29's
//! `Project.from_config` does (networks, links, network mode, named volumes, secrets, scale,
//! `deploy`), the `options` it keeps for the config hash, and the container settings derived
//! from them.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::config::{Finalized, fail, security_opt};
use super::model::{
    HashInputs, Healthcheck, Link, Logging, Mount, Network, NetworkMode, PortBinding, RestartPolicy, Service,
    ServiceNetwork, Volume, VolumesFrom,
};
use super::py;
use super::types::{External, split_port};
use super::value::{Dict, V, Val};
use crate::error::Error;
use crate::source::Span;

/// Everything `from_config` needs besides the services.
pub struct Context<'a> {
    pub project: &'a str,
    pub v1: bool,
    pub cwd: &'a str,
    pub networks: &'a IndexMap<String, (Span, Dict)>,
    pub volumes: &'a IndexMap<String, (Span, Dict)>,
    pub secrets: &'a IndexMap<String, (Span, Dict)>,
    pub service_names: &'a [String],
}

fn text(d: &Dict, key: &str) -> Option<String> {
    d.get(key).filter(|v| !v.is_null()).map(Val::py_str)
}

fn string_map(v: Option<&Val>) -> IndexMap<String, String> {
    v.and_then(Val::as_map)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), if v.is_null() { String::new() } else { v.py_str() }))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(v: Option<&Val>) -> Vec<String> {
    match v.map(|v| &v.v) {
        Some(V::List(items)) => items.iter().map(Val::py_str).collect(),
        Some(V::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The networks of the project as docker-compose's `build_networks` makes them.
pub fn networks(ctx: &Context) -> IndexMap<String, Network> {
    let mut out = IndexMap::new();
    if ctx.v1 {
        return out;
    }
    for (name, (_, d)) in ctx.networks {
        let custom = text(d, "name");
        let full_name = custom.clone().unwrap_or_else(|| format!("{}_{}", ctx.project, name));
        out.insert(
            name.clone(),
            Network {
                full_name,
                driver: text(d, "driver"),
                driver_opts: string_map(d.get("driver_opts")),
                external: d.get("external").is_some_and(Val::truthy),
                internal: d.get("internal").is_some_and(Val::truthy),
                enable_ipv6: d.get("enable_ipv6").is_some_and(Val::truthy),
                attachable: d.get("attachable").is_some_and(Val::truthy),
                labels: string_map(d.get("labels")),
                ipam: d.get("ipam").map(Val::to_json),
            },
        );
    }
    if !out.contains_key("default") {
        out.insert(
            "default".into(),
            Network {
                full_name: format!("{}_default", ctx.project),
                driver: None,
                driver_opts: IndexMap::new(),
                external: false,
                internal: false,
                enable_ipv6: false,
                attachable: false,
                labels: IndexMap::new(),
                ipam: None,
            },
        );
    }
    out
}

/// The named volumes of the project (`ProjectVolumes.from_config`).
pub fn volumes(ctx: &Context) -> IndexMap<String, Volume> {
    ctx.volumes
        .iter()
        .map(|(name, (_, d))| {
            let full_name =
                text(d, "name").unwrap_or_else(|| format!("{}_{}", ctx.project.trim_start_matches(['-', '_']), name));
            let volume = Volume {
                full_name,
                driver: text(d, "driver"),
                driver_opts: string_map(d.get("driver_opts")),
                external: d.get("external").is_some_and(Val::truthy),
                labels: string_map(d.get("labels")),
            };
            (name.clone(), volume)
        })
        .collect()
}

/// Builds one service (`Project.from_config`'s loop body, then the container settings).
pub fn service(
    ctx: &Context,
    f: &Finalized,
    networks: &IndexMap<String, Network>,
    volumes: &IndexMap<String, Volume>,
    warnings: &mut Vec<String>,
) -> Result<Service, Error> {
    let what = format!("service `{}`", f.name);
    let mut d = f.dict.clone();
    let span = f.span.clone();

    // Networks: full name -> settings, the primary one first.
    let mut service_networks: Vec<(String, Dict, Span)> = Vec::new();
    if !ctx.v1 && !d.contains("network_mode") {
        let defs = match d.get("networks").and_then(Val::as_map) {
            Some(m) => m.clone(),
            None => {
                let mut m = Dict::new();
                m.insert("default", span.clone(), Val::null(&span));
                m
            }
        };
        for (net, key_span, cfg) in defs.iter_spans() {
            let Some(network) = networks.get(net) else {
                let err = fail(key_span, &what, format!("uses an undefined network `{net}`"));
                let known = networks.keys().map(String::as_str);
                return Err(match crate::error::suggest(net, known) {
                    Some(s) => err.with_help(format!("did you mean `{s}`?")),
                    None => err.with_help("declare it under the top-level `networks:`"),
                });
            };
            let def = cfg.as_map().cloned().unwrap_or_default();
            match service_networks.iter_mut().find(|(n, _, _)| *n == network.full_name) {
                Some(slot) => slot.1 = def,
                None => service_networks.push((network.full_name.clone(), def, key_span.clone())),
            }
        }
        let priority = |d: &Dict| match d.get("priority").map(|v| &v.v) {
            Some(V::Int(i)) => *i as f64,
            Some(V::Float(f)) => *f,
            _ => 0.0,
        };
        if service_networks
            .iter()
            .any(|(_, d, _)| d.get("priority").is_some_and(Val::truthy))
        {
            service_networks.sort_by(|a, b| {
                priority(&b.1)
                    .partial_cmp(&priority(&a.1))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        } else {
            service_networks.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }
    d.remove("networks");

    let links: Vec<Link> = strings(d.get("links"))
        .into_iter()
        .map(|l| match l.split_once(':') {
            Some((s, a)) => Link {
                service: s.into(),
                alias: Some(a.into()),
            },
            None => Link {
                service: l,
                alias: None,
            },
        })
        .collect();
    d.remove("links");

    let ipc = d.remove("ipc").filter(Val::truthy).map(|v| v.py_str());
    let network_mode = match d.remove("network_mode").filter(Val::truthy).map(|v| v.py_str()) {
        None if ctx.v1 => NetworkMode::Default,
        None => match service_networks.first() {
            Some((n, _, _)) => NetworkMode::Network(n.clone()),
            None => NetworkMode::Other("none".into()),
        },
        Some(m) => match (m.strip_prefix("service:"), m.strip_prefix("container:")) {
            (Some(s), _) => NetworkMode::Service(s.into()),
            (_, Some(c)) => NetworkMode::Container(c.into()),
            _ => NetworkMode::Other(m),
        },
    };
    let pid = d.remove("pid").filter(Val::truthy).map(|v| v.py_str());

    let mut volumes_from = Vec::new();
    for (vf, vspan) in &f.volumes_from {
        if vf.kind == "service" && !ctx.service_names.contains(&vf.source) {
            return Err(fail(
                vspan,
                &what,
                format!(
                    "mounts volumes from `{}`, which is not the name of a service or container",
                    vf.source
                ),
            ));
        }
        volumes_from.push(VolumesFrom {
            source: vf.source.clone(),
            mode: vf.mode.clone(),
            container: vf.kind != "service",
        });
    }

    if !ctx.v1 {
        let items = match d.get("volumes").map(|v| &v.v) {
            Some(V::List(items)) => items.clone(),
            _ => Vec::new(),
        };
        let mut out = Vec::new();
        for mut item in items {
            match &mut item.v {
                V::Volume(v) if v.is_named_volume() => {
                    if let Some(vol) = v.external.as_ref().and_then(|e| volumes.get(e)) {
                        v.external = Some(vol.full_name.clone());
                    }
                }
                V::Mount(m) if m.is_named_volume() => {
                    if let Some(vol) = m.source.as_ref().and_then(|s| volumes.get(s)) {
                        m.source = Some(vol.full_name.clone());
                    }
                }
                _ => {}
            }
            out.push(item);
        }
        let vspan = d.get("volumes").map_or_else(|| span.clone(), |v| v.span.clone());
        d.insert("volumes", vspan.clone(), Val::list(out, &vspan));
    }

    // Secrets: docker-compose's `get_secrets`.
    d.remove("secrets");
    let mut secrets_json = Vec::new();
    let mut secret_mounts = Vec::new();
    for (secret, sspan) in &f.secrets {
        let source = text(secret, "source").unwrap_or_default();
        let Some((_, def)) = ctx.secrets.get(&source) else {
            return Err(fail(sspan, &what, format!("uses an undefined secret `{source}`")));
        };
        if def.get("external").is_some_and(Val::truthy) {
            warnings.push(format!(
                "Service \"{}\" uses secret \"{source}\" which is external. External secrets are not available to containers created by docker-compose.",
                f.name
            ));
            continue;
        }
        if ["uid", "gid", "mode"]
            .iter()
            .any(|k| secret.get(k).is_some_and(Val::truthy))
        {
            warnings.push(format!(
                "Service \"{}\" uses secret \"{source}\" with uid, gid, or mode. These fields are not supported by this implementation of the Compose file",
                f.name
            ));
        }
        let file = def.get("file").map_or(Value::Null, Val::to_json);
        let field = |k: &str| secret.get(k).map_or(Value::Null, Val::to_json);
        secrets_json.push(json!({
            "secret": [field("source"), field("target"), field("uid"), field("gid"), field("mode"), field("name")],
            "file": file,
        }));
        let target = match text(secret, "target") {
            None => format!("/run/secrets/{source}"),
            Some(t) if !t.starts_with('/') => format!("/run/secrets/{t}"),
            Some(t) => t,
        };
        secret_mounts.push(Mount {
            kind: "bind".into(),
            source: file.as_str().map(str::to_string),
            target,
            read_only: true,
            consistency: None,
            propagation: None,
            no_copy: None,
            tmpfs_size: None,
        });
    }

    // Scale (`scale` or `deploy.replicas`).
    let deploy = d.get("deploy").cloned();
    let deploy_map = deploy.as_ref().and_then(Val::as_map).cloned().unwrap_or_default();
    let scale_val = d
        .get("scale")
        .and_then(|v| if let V::Int(i) = v.v { Some(i) } else { None });
    let mut scale = scale_val.unwrap_or(1);
    if deploy.as_ref().is_some_and(Val::truthy) && text(&deploy_map, "mode").is_none_or(|m| m == "replicated") {
        let replicas = deploy_map
            .get("replicas")
            .and_then(|v| if let V::Int(i) = v.v { Some(i) } else { None });
        if scale_val.is_some() && replicas.is_some() {
            return Err(fail(
                &span,
                &what,
                "both `scale` and `deploy.replicas` are set; only one of them must be set",
            ));
        }
        scale = replicas.or(scale_val).unwrap_or(1);
        let max = deploy_map
            .get("placement")
            .and_then(Val::as_map)
            .and_then(|p| p.get("max_replicas_per_node"))
            .and_then(|v| if let V::Int(i) = v.v { Some(i) } else { None });
        if let Some(max) = max
            && max < scale
        {
            warnings.push(format!("Scale is limited to {max} ('max_replicas_per_node' field)."));
            scale = max;
        }
    }
    d.remove("scale");

    // deploy.resources.reservations.devices -> device_requests
    let mut device_requests = Value::Null;
    if let Some(devices) = deploy_map
        .get("resources")
        .and_then(Val::as_map)
        .and_then(|r| r.get("reservations"))
        .and_then(Val::as_map)
        .and_then(|r| r.get("devices"))
        .filter(|v| v.truthy())
    {
        let mut out = Vec::new();
        for dev in devices.as_list().unwrap_or_default() {
            let mut m = dev.to_json();
            if let Some(obj) = m.as_object_mut() {
                match obj.get("count") {
                    Some(Value::Number(_)) | None => {}
                    Some(Value::String(s)) if s == "all" => {
                        obj.insert("count".into(), json!(-1));
                    }
                    Some(other) => {
                        return Err(fail(
                            &dev.span,
                            &what,
                            format!(
                                "invalid value \"{}\" for devices count (expected integer or \"all\")",
                                py::str_of(other)
                            ),
                        ));
                    }
                }
                if let Some(caps) = obj.get("capabilities").cloned() {
                    obj.insert("capabilities".into(), json!([caps]));
                }
            }
            out.push(m);
        }
        device_requests = Value::Array(out);
    }

    // credential_spec -> security_opt; other security_opt values parsed.
    if let Some(spec) = d.get("credential_spec").and_then(Val::as_map) {
        let value = match text(spec, "file") {
            Some(file) => format!("file://{file}"),
            None => format!("registry://{}", text(spec, "registry").unwrap_or_default()),
        };
        let cspan = d
            .get("credential_spec")
            .map_or_else(|| span.clone(), |v| v.span.clone());
        d.set(
            "security_opt",
            Val::list(vec![Val::str(format!("credentialspec={value}"), &cspan)], &cspan),
        );
    } else if let Some(opts) = d.get("security_opt").cloned() {
        let mut parsed = Vec::new();
        for item in opts.as_list().unwrap_or_default() {
            let (value, src) = security_opt(item, &what, ctx.cwd)?;
            parsed.push(Val::from_json(&json!([value, src]), &item.span));
        }
        d.set("security_opt", Val::list(parsed, &opts.span));
    }
    d.remove("credential_spec");
    d.remove("configs");

    if deploy.is_some() {
        if let Some(policy) = deploy_map.get("restart_policy").and_then(Val::as_map) {
            let condition = text(policy, "condition").unwrap_or_else(|| "any".into());
            let name = match condition.as_str() {
                "any" => "always",
                "none" => "no",
                "on-failure" => "on-failure",
                other => return Err(fail(&span, &what, format!("invalid restart policy \"{other}\""))),
            };
            let attempts = policy.get("max_attempts").map_or(json!(0), Val::to_json);
            let rspan = deploy.as_ref().map_or_else(|| span.clone(), |v| v.span.clone());
            d.set(
                "restart",
                Val::from_json(&json!({"Name": name, "MaximumRetryCount": attempts}), &rspan),
            );
        }
        if let Some(resources) = deploy_map.get("resources").and_then(Val::as_map) {
            if let Some(limits) = resources.get("limits").and_then(Val::as_map) {
                let memory = limits.get("memory").cloned().unwrap_or_else(|| Val::null(&span));
                d.set("mem_limit", memory);
                if let Some(cpus) = limits.get("cpus") {
                    let f = match &cpus.v {
                        V::Int(i) => *i as f64,
                        V::Float(f) => *f,
                        _ => py::parse_float(&cpus.py_str())
                            .ok_or_else(|| fail(&cpus.span, &what, "`deploy.resources.limits.cpus` is not a number"))?,
                    };
                    d.set("cpus", Val::new(V::Float(f), cpus.span.clone()));
                }
            }
            if let Some(reservations) = resources.get("reservations").and_then(Val::as_map) {
                let memory = reservations.get("memory").cloned().unwrap_or_else(|| Val::null(&span));
                d.set("mem_reservation", memory);
            }
        }
        let mut ignored: Vec<String> = ["endpoint_mode", "labels", "update_config", "rollback_config"]
            .into_iter()
            .filter(|k| deploy_map.contains(k))
            .map(String::from)
            .collect();
        if let Some(policy) = deploy_map.get("restart_policy").and_then(Val::as_map) {
            ignored.extend(
                policy
                    .keys()
                    .filter(|k| *k != "condition" && *k != "max_attempts")
                    .map(|k| format!("restart_policy.{k}")),
            );
        }
        if deploy_map
            .get("resources")
            .and_then(Val::as_map)
            .and_then(|r| r.get("reservations"))
            .and_then(Val::as_map)
            .is_some_and(|r| r.contains("cpus"))
        {
            ignored.push("resources.reservations.cpus".into());
        }
        if !ignored.is_empty() {
            warnings.push(format!(
                "The following deploy sub-keys are not supported and have been ignored: {}",
                ignored.join(", ")
            ));
        }
        d.remove("deploy");
    }

    let platform = d.remove("platform").unwrap_or_else(|| Val::null(&span));
    d.insert("device_requests", span.clone(), Val::from_json(&device_requests, &span));
    d.insert("platform", span.clone(), platform);
    let options = d.to_json_map();

    // Hash inputs.
    let networks_json: Map<String, Value> = service_networks
        .iter()
        .map(|(n, def, _)| (n.clone(), Value::Object(def.to_json_map())))
        .collect();
    let net = match &network_mode {
        NetworkMode::Default => None,
        NetworkMode::Network(n) | NetworkMode::Other(n) | NetworkMode::Service(n) | NetworkMode::Container(n) => {
            Some(n.clone())
        }
    };
    let ipc_mode = match &ipc {
        Some(m) if m.starts_with("service:") => None,
        other => other.clone(),
    };
    let hash = HashInputs {
        links: links.iter().map(|l| (l.service.clone(), l.alias.clone())).collect(),
        net,
        ipc: ipc_mode,
        networks: Value::Object(networks_json),
        secrets: Value::Array(secrets_json),
        volumes_from: volumes_from
            .iter()
            .filter(|v| !v.container)
            .map(|v| (v.source.clone(), v.mode.clone()))
            .collect(),
    };

    // Container settings.
    let command = split_command(d.get("command"), &what, "command")?;
    let entrypoint = split_command(d.get("entrypoint"), &what, "entrypoint")?;
    let environment = match d.get("environment").and_then(Val::as_map) {
        Some(env) => env
            .iter()
            .map(|(k, v)| {
                if v.is_null() {
                    k.clone()
                } else {
                    format!("{k}={}", v.py_str())
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let (ports, mut exposed_ports) = ports(&d, &what)?;
    for e in strings(d.get("expose")) {
        let (internal, _) = split_port(&e).map_err(|err| fail(&span, &what, format!("`expose`: {err}")))?;
        for port in internal {
            let key = if port.contains('/') {
                port
            } else {
                format!("{port}/tcp")
            };
            if !exposed_ports.contains(&key) {
                exposed_ports.push(key);
            }
        }
    }
    let (binds, container_volumes, mut mounts) = volume_settings(&d);
    mounts.extend(secret_mounts);
    let restart = d.get("restart").and_then(Val::as_map).map(|m| RestartPolicy {
        name: text(m, "Name").unwrap_or_default(),
        maximum_retry_count: m
            .get("MaximumRetryCount")
            .and_then(|v| if let V::Int(i) = v.v { Some(i) } else { None })
            .unwrap_or(0),
    });
    let healthcheck = d.get("healthcheck").and_then(Val::as_map).map(|m| {
        let nanos = |k: &str| m.get(k).and_then(|v| if let V::Int(i) = v.v { Some(i) } else { None });
        Healthcheck {
            test: m.get("test").map(|t| match &t.v {
                V::Str(s) => vec!["CMD-SHELL".to_string(), s.clone()],
                _ => strings(Some(t)),
            }),
            interval: nanos("interval"),
            timeout: nanos("timeout"),
            start_period: nanos("start_period"),
            retries: m.get("retries").and_then(|v| match v.v {
                V::Int(i) => Some(i),
                V::Float(f) => Some(f as i64),
                _ => None,
            }),
        }
    });
    let extra_hosts = match d.get("extra_hosts").map(|v| &v.v) {
        Some(V::Map(m)) => {
            let mut hosts: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{}", v.py_str())).collect();
            hosts.sort();
            hosts
        }
        _ => strings(d.get("extra_hosts")),
    };
    let logging = d.get("logging").and_then(Val::as_map).map(|m| Logging {
        driver: text(m, "driver").unwrap_or_default(),
        options: string_map(m.get("options")),
    });
    let depends_on = d
        .get("depends_on")
        .and_then(Val::as_map)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_map()
                            .and_then(|c| text(c, "condition"))
                            .unwrap_or_else(|| "service_started".into()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let service_networks = service_networks
        .into_iter()
        .map(|(name, def, _)| {
            let net = ServiceNetwork {
                aliases: strings(def.get("aliases")),
                ipv4_address: text(&def, "ipv4_address"),
                ipv6_address: text(&def, "ipv6_address"),
                link_local_ips: strings(def.get("link_local_ips")),
                priority: def.get("priority").and_then(|v| match v.v {
                    V::Int(i) => Some(i as f64),
                    V::Float(f) => Some(f),
                    _ => None,
                }),
            };
            (name, net)
        })
        .collect();
    let flag = |k: &str| matches!(d.get(k).map(|v| &v.v), Some(V::Bool(true)));

    Ok(Service {
        name: f.name.clone(),
        span: span.clone(),
        image: text(&d, "image")
            .unwrap_or_else(|| format!("{}_{}", ctx.project.trim_start_matches(['-', '_']), f.name)),
        build: d.get("build").map(Val::to_json),
        container_name: text(&d, "container_name"),
        command,
        entrypoint,
        environment,
        labels: string_map(d.get("labels")),
        ports,
        exposed_ports,
        binds,
        container_volumes,
        mounts,
        tmpfs: strings(d.get("tmpfs")),
        volumes_from,
        restart,
        links,
        container_links: Vec::new(),
        external_links: strings(d.get("external_links")),
        network_mode,
        pid,
        ipc,
        networks: service_networks,
        healthcheck,
        hostname: text(&d, "hostname"),
        domainname: text(&d, "domainname"),
        user: text(&d, "user"),
        working_dir: text(&d, "working_dir"),
        stop_signal: text(&d, "stop_signal"),
        stop_grace_period: text(&d, "stop_grace_period").and_then(|t| py::timeparse(&t)),
        privileged: flag("privileged"),
        read_only: flag("read_only"),
        tty: flag("tty"),
        stdin_open: flag("stdin_open"),
        init: d
            .get("init")
            .and_then(|v| if let V::Bool(b) = v.v { Some(b) } else { None }),
        dns: strings(d.get("dns")),
        dns_search: strings(d.get("dns_search")),
        dns_opt: strings(d.get("dns_opt")),
        extra_hosts,
        cap_add: strings(d.get("cap_add")),
        cap_drop: strings(d.get("cap_drop")),
        devices: strings(d.get("devices")),
        sysctls: string_map(d.get("sysctls")),
        logging,
        mac_address: text(&d, "mac_address"),
        scale,
        depends_on,
        profiles: strings(d.get("profiles")),
        options: Value::Object(options),
        hash,
    })
}

/// A `command:` or `entrypoint:`: a list as is, a string split as docker-py splits it.
fn split_command(v: Option<&Val>, what: &str, key: &str) -> Result<Option<Vec<String>>, Error> {
    match v.map(|v| (&v.v, v)) {
        None | Some((V::Null, _)) => Ok(None),
        Some((V::Str(s), val)) => py::shlex_split(s)
            .map(Some)
            .map_err(|e| fail(&val.span, what, format!("`{key}` cannot be split into words: {e}"))),
        Some((_, val)) => Ok(Some(strings(Some(val)))),
    }
}

/// Port bindings and exposed ports as docker-py builds them from the ports' `legacy_repr`.
fn ports(d: &Dict, what: &str) -> Result<(Vec<PortBinding>, Vec<String>), Error> {
    let mut grouped: Vec<(String, Vec<PortBinding>)> = Vec::new();
    let mut exposed = Vec::new();
    let Some(items) = d.get("ports").and_then(Val::as_list) else {
        return Ok((Vec::new(), exposed));
    };
    for item in items {
        let V::Port(p) = &item.v else { continue };
        let repr = p.legacy_repr();
        let (internal, external) = split_port(&repr).map_err(|e| fail(&item.span, what, format!("`ports`: {e}")))?;
        let externals: Vec<Option<External>> = match external {
            Some(e) => e,
            None => vec![None; internal.len()],
        };
        for (port, ext) in internal.into_iter().zip(externals) {
            let (container_port, protocol) = match port.split_once('/') {
                Some((p, proto)) => (p.to_string(), proto.to_string()),
                None => (port.clone(), "tcp".to_string()),
            };
            let key = format!("{container_port}/{protocol}");
            if !exposed.contains(&key) {
                exposed.push(key.clone());
            }
            let (host_ip, host_port) = match ext {
                None => (String::new(), String::new()),
                Some(External::Port(hp)) => (String::new(), hp),
                Some(External::HostPort(ip, hp)) => (ip, hp.unwrap_or_default()),
            };
            let binding = PortBinding {
                host_ip,
                host_port,
                container_port,
                protocol,
            };
            match grouped.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => list.push(binding),
                None => grouped.push((key, vec![binding])),
            }
        }
    }
    Ok((grouped.into_iter().flat_map(|(_, b)| b).collect(), exposed))
}

/// Binds, container volumes and mounts from the parsed `volumes:`.
fn volume_settings(d: &Dict) -> (Vec<String>, Vec<String>, Vec<Mount>) {
    let mut binds: Vec<(String, String)> = Vec::new();
    let mut container_volumes = Vec::new();
    let mut mounts = Vec::new();
    for item in d.get("volumes").and_then(Val::as_list).unwrap_or_default() {
        match &item.v {
            V::Volume(v) => {
                if !container_volumes.contains(&v.internal) {
                    container_volumes.push(v.internal.clone());
                }
                if v.external.as_deref().is_some_and(|e| !e.is_empty()) {
                    match binds.iter_mut().find(|(i, _)| *i == v.internal) {
                        Some(slot) => slot.1 = v.repr(),
                        None => binds.push((v.internal.clone(), v.repr())),
                    }
                }
            }
            V::Mount(m) => mounts.push(Mount {
                kind: m.kind.clone(),
                source: m.source.clone(),
                target: m.target.clone().unwrap_or_default(),
                read_only: m.read_only == Some(true),
                consistency: m.consistency.clone(),
                propagation: m.option("propagation").and_then(Value::as_str).map(str::to_string),
                no_copy: m.option("nocopy").and_then(Value::as_bool),
                tmpfs_size: m.option("size").and_then(Value::as_i64),
            }),
            _ => {}
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for (_, b) in binds {
        if !unique.contains(&b) {
            unique.push(b);
        }
    }
    (unique, container_volumes, mounts)
}

/// Containers of one service linked to at most (a bound against absurd `scale:` values).
const MAX_LINKED_CONTAINERS: i64 = 1000;

/// Docker's `Links` for each service: every container of each linked service, by its alias, its
/// name and its name without the project (containers numbered up to the service's scale).
pub fn fill_container_links(project: &str, services: &mut IndexMap<String, Service>) {
    let info: IndexMap<String, (Option<String>, i64)> = services
        .iter()
        .map(|(n, s)| (n.clone(), (s.container_name.clone(), s.scale)))
        .collect();
    let prefix = project.trim_start_matches(['-', '_']);
    for s in services.values_mut() {
        let mut links: Vec<(String, String)> = Vec::new();
        let mut set = |alias: String, target: String| match links.iter_mut().find(|(a, _)| *a == alias) {
            Some(slot) => slot.1 = target,
            None => links.push((alias, target)),
        };
        for link in &s.links {
            let Some((custom, scale)) = info.get(&link.service) else {
                continue;
            };
            for n in 1..=(*scale).clamp(1, MAX_LINKED_CONTAINERS) {
                let name = custom
                    .clone()
                    .unwrap_or_else(|| format!("{prefix}_{}_{n}", link.service));
                let short = if name.starts_with(&format!("{project}_{}", link.service)) {
                    format!("{}_{n}", link.service)
                } else {
                    name.clone()
                };
                set(link.alias.clone().unwrap_or_else(|| link.service.clone()), name.clone());
                set(name.clone(), name.clone());
                set(short, name.clone());
            }
        }
        for ext in &s.external_links {
            match ext.split_once(':') {
                Some((container, alias)) => set(alias.to_string(), container.to_string()),
                None => set(ext.clone(), ext.clone()),
            }
        }
        let mut pairs: Vec<(String, String)> = links.into_iter().map(|(alias, target)| (target, alias)).collect();
        pairs.sort();
        s.container_links = pairs
            .into_iter()
            .map(|(target, alias)| {
                if alias.is_empty() {
                    target
                } else {
                    format!("{target}:{alias}")
                }
            })
            .collect();
    }
}

impl Dict {
    /// The mapping as a JSON object.
    pub fn to_json_map(&self) -> Map<String, Value> {
        self.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()
    }
}
