//! The typed pieces of a service docker-compose parses out of strings: ports (`ServicePort`),
//! volumes (`VolumeSpec` and the long syntax `MountSpec`), links, `volumes_from` and restart
//! policies, with docker-compose 1.29's parsing rules and error texts.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::py;

/// The published side of a port: a port, or a range kept as text (`"8000-8001"`) when it maps to
/// one container port (Docker then picks a free port in the range).
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    None,
    Port(i64),
    Range(String),
}

/// One port of a service, as docker-compose's `ServicePort(target, published, protocol, mode,
/// external_ip)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePort {
    pub target: Option<i64>,
    pub published: Published,
    pub protocol: Option<String>,
    pub mode: Option<String>,
    pub external_ip: Option<String>,
}

static PORT_SPEC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^((\[?(?P<host>[a-fA-F\d.:]+)\]?:)?(?P<ext>[\d]*)(-(?P<ext_end>[\d]+))?:)?(?P<int>[\d]+)(-(?P<int_end>[\d]+))?(?P<proto>/(udp|tcp|sctp))?$",
    )
    .expect("port pattern")
});

/// One published side of a port binding from `split_port`.
#[derive(Debug, Clone, PartialEq)]
pub enum External {
    Port(String),
    HostPort(String, Option<String>),
}

/// The container ports (with `/proto`) of a port mapping and, if it publishes them, the
/// published side of each.
pub type SplitPort = (Vec<String>, Option<Vec<Option<External>>>);

/// docker-py's `split_port`.
pub fn split_port(port: &str) -> Result<SplitPort, String> {
    let invalid =
        || format!("Invalid port \"{port}\", should be [[remote_ip:]remote_port[-remote_port]:]port[/protocol]");
    let caps = PORT_SPEC.captures(port).ok_or_else(invalid)?;
    let group = |name: &str| caps.name(name).map(|m| m.as_str());
    let proto = group("proto").unwrap_or("");
    let internal = port_range(group("int"), group("int_end"), proto, false)
        .ok_or_else(invalid)?
        .unwrap_or_default();
    let external = port_range(group("ext"), group("ext_end"), "", internal.len() == 1).ok_or_else(invalid)?;
    match group("host") {
        None => {
            // `ext` matched but was empty: python compares `len('')` with the internal ports.
            let external = match (group("ext"), external) {
                (Some(""), _) => return Err("Port ranges don't match in length".into()),
                (_, e) => e,
            };
            if let Some(ext) = &external
                && ext.len() != internal.len()
            {
                return Err("Port ranges don't match in length".into());
            }
            Ok((
                internal,
                external.map(|e| e.into_iter().map(|p| Some(External::Port(p))).collect()),
            ))
        }
        Some(host) => {
            let external = match external {
                Some(e) if !e.is_empty() => e.into_iter().map(Some).collect::<Vec<_>>(),
                _ => vec![None; internal.len()],
            };
            if external.len() != internal.len() {
                return Err("Port ranges don't match in length".into());
            }
            Ok((
                internal,
                Some(
                    external
                        .into_iter()
                        .map(|p| Some(External::HostPort(host.to_string(), p)))
                        .collect(),
                ),
            ))
        }
    }
}

/// docker-py's `port_range`; the outer `None` is a range too large to expand.
#[allow(clippy::option_option)]
fn port_range(start: Option<&str>, end: Option<&str>, proto: &str, random: bool) -> Option<Option<Vec<String>>> {
    let Some(start) = start else { return Some(None) };
    if start.is_empty() {
        return Some(Some(Vec::new()));
    }
    let Some(end) = end.filter(|e| !e.is_empty()) else {
        return Some(Some(vec![format!("{start}{proto}")]));
    };
    if random {
        return Some(Some(vec![format!("{start}-{end}{proto}")]));
    }
    let (a, b): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
    if b >= a && b - a > 65536 {
        return None;
    }
    Some(Some((a..=b).map(|p| format!("{p}{proto}")).collect()))
}

impl ServicePort {
    fn new(
        target: Option<&str>,
        published: Option<&str>,
        protocol: Option<String>,
        external_ip: Option<String>,
    ) -> Result<Self, String> {
        let target = match target.filter(|t| !t.is_empty()) {
            Some(t) => Some(t.parse::<i64>().map_err(|_| format!("Invalid target port: {t}"))?),
            None => None,
        };
        let published = match published.filter(|p| !p.is_empty()) {
            None => Published::None,
            Some(p) if p.contains('-') => {
                let (a, b) = p.split_once('-').unwrap_or((p, ""));
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if !digits(a) || !digits(b) {
                    return Err(format!("Invalid published port: {p}"));
                }
                Published::Range(p.to_string())
            }
            Some(p) => Published::Port(p.parse::<i64>().map_err(|_| format!("Invalid published port: {p}"))?),
        };
        Ok(ServicePort {
            target,
            published,
            protocol,
            mode: None,
            external_ip,
        })
    }

    /// The short syntax (`"8080"`, `"127.0.0.3::8080"`, `"8000-8001:8000-8001/udp"`): one entry
    /// per container port.
    pub fn parse_short(spec: &str) -> Result<Vec<ServicePort>, String> {
        let (internal, external) = split_port(spec)?;
        // build_port_bindings: container port -> published sides, in first-seen order.
        let mut bindings: Vec<(String, Vec<Option<External>>)> = Vec::new();
        let mut add = |port: String, ext: Option<External>| match bindings.iter_mut().find(|(p, _)| *p == port) {
            Some((_, list)) => list.push(ext),
            None => bindings.push((port, vec![ext])),
        };
        match external {
            None => internal.into_iter().for_each(|p| add(p, None)),
            Some(ext) => internal.into_iter().zip(ext).for_each(|(p, e)| add(p, e)),
        }
        let mut out = Vec::new();
        for (key, pubs) in bindings {
            let (target, proto) = match key.split_once('/') {
                Some((t, p)) => (t.to_string(), Some(p.to_string())),
                None => (key.clone(), None),
            };
            for publ in pubs {
                out.push(match publ {
                    None => ServicePort::new(Some(&target), None, proto.clone(), None)?,
                    Some(External::HostPort(host, port)) => {
                        ServicePort::new(Some(&target), port.as_deref(), proto.clone(), Some(host))?
                    }
                    Some(External::Port(port)) => ServicePort::new(Some(&target), Some(&port), proto.clone(), None)?,
                });
            }
        }
        Ok(out)
    }

    /// The long syntax, its fields already converted.
    pub fn long(
        target: Option<i64>,
        published: Option<i64>,
        protocol: Option<String>,
        mode: Option<String>,
    ) -> ServicePort {
        let published = match published {
            Some(p) => Published::Port(p),
            None => Published::None,
        };
        ServicePort {
            target,
            published,
            protocol,
            mode,
            external_ip: None,
        }
    }

    /// The named tuple as JSON: `[target, published, protocol, mode, external_ip]`.
    pub fn to_json(&self) -> Value {
        let published = match &self.published {
            Published::None => Value::Null,
            Published::Port(p) => json!(p),
            Published::Range(r) => json!(r),
        };
        json!([self.target, published, self.protocol, self.mode, self.external_ip])
    }

    /// The key docker-compose merges ports on: `(target, published, external_ip, protocol)`.
    pub fn merge_key(&self) -> String {
        self.to_json().to_string()
    }

    /// `legacy_repr()`: `[ip:][published]:target/proto`, the form docker-py is given.
    pub fn legacy_repr(&self) -> String {
        let published = match &self.published {
            Published::None => String::new(),
            Published::Port(p) => p.to_string(),
            Published::Range(r) => r.clone(),
        };
        let ip = self.external_ip.clone().unwrap_or_default();
        let is_pub = if self.published != Published::None || !ip.is_empty() {
            ":"
        } else {
            ""
        };
        let target = self.target.map_or_else(|| "None".to_string(), |t| t.to_string());
        let protocol = self.protocol.clone().unwrap_or_else(|| "tcp".into());
        let has_ip = if ip.is_empty() { "" } else { ":" };
        format!("{ip}{has_ip}{published}{is_pub}{target}/{protocol}")
    }
}

/// A short-syntax volume, docker-compose's `VolumeSpec(external, internal, mode)`.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeSpec {
    pub external: Option<String>,
    pub internal: String,
    pub mode: String,
}

impl VolumeSpec {
    pub fn parse(spec: &str) -> Result<VolumeSpec, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        if parts.len() > 3 {
            return Err(format!(
                "Volume {spec} has incorrect format, should be external:internal[:mode]"
            ));
        }
        let (external, internal) = match parts.as_slice() {
            [internal] => (None, py::normpath(internal)),
            [external, internal, ..] => (Some(py::normpath(external)), py::normpath(internal)),
            [] => (None, py::normpath("")),
        };
        let mode = parts.get(2).map_or("rw", |m| m).to_string();
        Ok(VolumeSpec {
            external,
            internal,
            mode,
        })
    }

    /// `repr()`: `external:internal:mode`, or just the container path.
    pub fn repr(&self) -> String {
        match &self.external {
            Some(ext) if !ext.is_empty() => format!("{ext}:{}:{}", self.internal, self.mode),
            _ => self.internal.clone(),
        }
    }

    pub fn is_named_volume(&self) -> bool {
        self.external
            .as_deref()
            .is_some_and(|e| !e.is_empty() && !e.starts_with(['.', '/', '~']))
    }

    pub fn to_json(&self) -> Value {
        json!([self.external, self.internal, self.mode])
    }
}

/// A long-syntax volume, docker-compose's `MountSpec`.
#[derive(Debug, Clone, PartialEq)]
pub struct MountSpec {
    pub kind: String,
    pub source: Option<String>,
    pub target: Option<String>,
    pub read_only: Option<bool>,
    pub consistency: Option<String>,
    /// The sub-mapping named after the type (`bind:`, `volume:` or `tmpfs:`).
    pub options: Option<Value>,
}

impl MountSpec {
    /// `repr()`: the set fields, and the options under the type's name.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if !self.kind.is_empty() {
            map.insert("type".into(), json!(self.kind));
        }
        if let Some(s) = self.source.as_ref().filter(|s| !s.is_empty()) {
            map.insert("source".into(), json!(s));
        }
        if let Some(t) = self.target.as_ref().filter(|t| !t.is_empty()) {
            map.insert("target".into(), json!(t));
        }
        if self.read_only == Some(true) {
            map.insert("read_only".into(), json!(true));
        }
        if let Some(c) = self.consistency.as_ref().filter(|c| !c.is_empty()) {
            map.insert("consistency".into(), json!(c));
        }
        if let Some(options) = &self.options
            && truthy_json(options)
        {
            map.insert(self.kind.clone(), options.clone());
        }
        Value::Object(map)
    }

    pub fn as_volume_spec(&self) -> VolumeSpec {
        VolumeSpec {
            external: self.source.clone(),
            internal: self.target.clone().unwrap_or_default(),
            mode: if self.read_only == Some(true) { "ro" } else { "rw" }.into(),
        }
    }

    pub fn is_named_volume(&self) -> bool {
        self.kind == "volume" && self.source.as_deref().is_some_and(|s| !s.is_empty())
    }

    /// An option of the type's sub-mapping.
    pub fn option(&self, name: &str) -> Option<&Value> {
        self.options.as_ref()?.get(name)
    }
}

/// Python truthiness of a JSON value.
pub fn truthy_json(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `links:` entry `service[:alias]`, docker-compose's `ServiceLink`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceLink {
    pub target: String,
    pub alias: String,
}

impl ServiceLink {
    pub fn parse(spec: &str) -> ServiceLink {
        let (target, alias) = spec.split_once(':').unwrap_or((spec, ""));
        let alias = if alias.is_empty() { target } else { alias };
        ServiceLink {
            target: target.into(),
            alias: alias.into(),
        }
    }

    pub fn repr(&self) -> String {
        if self.target == self.alias {
            self.target.clone()
        } else {
            format!("{}:{}", self.target, self.alias)
        }
    }
}

/// `volumes_from:` entry, docker-compose's `VolumeFromSpec(source, mode, type)`.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeFromSpec {
    pub source: String,
    pub mode: String,
    /// `service` or `container`.
    pub kind: String,
}

impl VolumeFromSpec {
    pub fn parse(spec: &str, service_names: &[String], v1: bool) -> Result<VolumeFromSpec, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        let make = |source: &str, mode: &str, kind: &str| VolumeFromSpec {
            source: source.into(),
            mode: mode.into(),
            kind: kind.into(),
        };
        if v1 {
            return match parts.as_slice() {
                [source] | [source, _] => {
                    let mode = parts.get(1).copied().unwrap_or("rw");
                    let kind = if service_names.iter().any(|s| s == source) {
                        "service"
                    } else {
                        "container"
                    };
                    Ok(make(source, mode, kind))
                }
                _ => Err(format!(
                    "volume_from {spec} has incorrect format, should be service[:mode]"
                )),
            };
        }
        match parts.as_slice() {
            [source] => Ok(make(source, "rw", "service")),
            ["container", source] => Ok(make(source, "rw", "container")),
            [source, mode] => Ok(make(source, mode, "service")),
            [kind, source, mode] => {
                if *kind != "service" && *kind != "container" {
                    return Err(format!("Unknown volumes_from type '{kind}' in '{spec}'"));
                }
                Ok(make(source, mode, kind))
            }
            _ => Err(format!(
                "volume_from {spec} has incorrect format, should be one of '<service name>[:<mode>]' or \
                 'container:<container name>[:<mode>]'"
            )),
        }
    }
}

/// `restart:` as docker-compose passes it to Docker: `{"Name": ..., "MaximumRetryCount": n}`.
pub fn parse_restart_spec(spec: &str) -> Result<Option<(String, i64)>, String> {
    if spec.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [name] => Ok(Some((name.to_string(), 0))),
        [name, count] => {
            let count = py::parse_int_base0(count)
                .filter(|_| {
                    count
                        .trim()
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
                })
                .ok_or_else(|| format!("Restart {spec} has an invalid retry count `{count}`"))?;
            Ok(Some((name.to_string(), count)))
        }
        _ => Err(format!(
            "Restart {spec} has incorrect format, should be mode[:max_retry]"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(spec: &str) -> Vec<Value> {
        ServicePort::parse_short(spec)
            .unwrap()
            .iter()
            .map(ServicePort::to_json)
            .collect()
    }

    #[test]
    fn short_port_syntax() {
        assert_eq!(ports("8080"), [json!([8080, null, null, null, null])]);
        assert_eq!(ports("80:8080"), [json!([8080, 80, null, null, null])]);
        assert_eq!(ports("127.0.0.3::8080"), [json!([8080, null, null, null, "127.0.0.3"])]);
        assert_eq!(ports("127.0.0.3:80:8080"), [json!([8080, 80, null, null, "127.0.0.3"])]);
        assert_eq!(
            ports("8000-8001:8000-8001"),
            [
                json!([8000, 8000, null, null, null]),
                json!([8001, 8001, null, null, null])
            ]
        );
        assert_eq!(ports("53:53/udp"), [json!([53, 53, "udp", null, null])]);
        assert_eq!(ports("8000-8001:80"), [json!([80, "8000-8001", null, null, null])]);
        assert_eq!(
            ports("9090-9091"),
            [
                json!([9090, null, null, null, null]),
                json!([9091, null, null, null, null])
            ]
        );
        assert_eq!(ports("[::1]:80:8080"), [json!([8080, 80, null, null, "::1"])]);
    }

    #[test]
    fn bad_ports() {
        let err = |s: &str| ServicePort::parse_short(s).unwrap_err();
        assert_eq!(
            err("8080:80/xyz"),
            "Invalid port \"8080:80/xyz\", should be [[remote_ip:]remote_port[-remote_port]:]port[/protocol]"
        );
        // As in docker-py, the address part may hold colons: this is host "80:80".
        assert_eq!(ports("80:80:80:80"), [json!([80, 80, null, null, "80:80"])]);
        assert_eq!(err("8000-8002:80-81"), "Port ranges don't match in length");
        assert_eq!(err(":80"), "Port ranges don't match in length");
        assert!(err("abc").starts_with("Invalid port"));
    }

    #[test]
    fn legacy_repr() {
        let one = |s: &str| ServicePort::parse_short(s).unwrap().remove(0).legacy_repr();
        assert_eq!(one("8080"), "8080/tcp");
        assert_eq!(one("127.0.0.3::8080"), "127.0.0.3::8080/tcp");
        assert_eq!(one("127.0.0.3:80:8080/udp"), "127.0.0.3:80:8080/udp");
        assert_eq!(one("8000-8001:80"), "8000-8001:80/tcp");
    }

    #[test]
    fn volumes() {
        let v = VolumeSpec::parse("/srv/data/:/data/./x:ro").unwrap();
        assert_eq!(v.repr(), "/srv/data:/data/x:ro");
        assert!(!v.is_named_volume());
        let named = VolumeSpec::parse("db:/var/lib/db").unwrap();
        assert!(named.is_named_volume());
        assert_eq!(named.to_json(), json!(["db", "/var/lib/db", "rw"]));
        assert_eq!(VolumeSpec::parse("/cache").unwrap().repr(), "/cache");
        assert!(VolumeSpec::parse("a:b:c:d").is_err());
    }

    #[test]
    fn links_volumes_from_restart() {
        assert_eq!(ServiceLink::parse("db").repr(), "db");
        assert_eq!(ServiceLink::parse("db:db").repr(), "db");
        assert_eq!(ServiceLink::parse("db:mongo").repr(), "db:mongo");
        let names = vec!["data".to_string()];
        let vf = VolumeFromSpec::parse("container:c1:ro", &names, false).unwrap();
        assert_eq!(
            (vf.source.as_str(), vf.mode.as_str(), vf.kind.as_str()),
            ("c1", "ro", "container")
        );
        let vf = VolumeFromSpec::parse("other", &names, true).unwrap();
        assert_eq!(vf.kind, "container");
        assert_eq!(
            parse_restart_spec("on-failure:5").unwrap(),
            Some(("on-failure".into(), 5))
        );
        assert_eq!(parse_restart_spec("always").unwrap(), Some(("always".into(), 0)));
        assert!(parse_restart_spec("a:b:c").is_err());
        assert!(parse_restart_spec("on-failure:x").is_err());
    }
}
