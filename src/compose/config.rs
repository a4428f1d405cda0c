//! Reading Compose files into docker-compose 1.29's service dicts: version detection, variable
//! substitution and type conversion, schema checks, merging of several files, `extends`, and the
//! per-service processing (`process_service`, `validate_service`, `finalize_service`) in the same
//! order and with the same rules as `compose/config/config.py`.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, LazyLock};

use regex::Regex;
use serde_json::Value;

use super::env::{EnvFileError, Environment, read_env_file};
use super::interp::{InterpError, substitute};
use super::py;
use super::schema;
use super::types::{MountSpec, ServiceLink, ServicePort, VolumeFromSpec, VolumeSpec, parse_restart_spec};
use super::value::{Dict, V, Val, from_node};
use crate::error::Error;
use crate::source::{SourceFile, Span};

/// docker-compose's `DOCKER_CONFIG_KEYS`: the keys passed on to container creation.
pub const DOCKER_CONFIG_KEYS: &[&str] = &[
    "cap_add",
    "cap_drop",
    "cgroup_parent",
    "command",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "detach",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_search",
    "dns_opt",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "extra_hosts",
    "group_add",
    "hostname",
    "healthcheck",
    "image",
    "ipc",
    "isolation",
    "labels",
    "links",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "memswap_limit",
    "mem_swappiness",
    "net",
    "oom_score_adj",
    "oom_kill_disable",
    "pid",
    "ports",
    "privileged",
    "read_only",
    "restart",
    "runtime",
    "secrets",
    "security_opt",
    "shm_size",
    "pids_limit",
    "stdin_open",
    "stop_signal",
    "sysctls",
    "tty",
    "user",
    "userns_mode",
    "volume_driver",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// docker-compose's `ALLOWED_KEYS`: what survives a merge of two service dicts.
const EXTRA_ALLOWED_KEYS: &[&str] = &[
    "blkio_config",
    "build",
    "container_name",
    "credential_spec",
    "dockerfile",
    "init",
    "log_driver",
    "log_opt",
    "logging",
    "network_mode",
    "platform",
    "profiles",
    "scale",
    "stop_grace_period",
];

fn allowed_keys() -> impl Iterator<Item = &'static str> {
    DOCKER_CONFIG_KEYS.iter().chain(EXTRA_ALLOWED_KEYS).copied()
}

/// An error about a service (or network, volume): `what` names it, the span points at it.
pub fn fail(span: &Span, what: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(span.clone(), format!("{what}: {message}"))
}

/// One Compose file after substitution and checks.
#[derive(Debug)]
pub struct LoadedFile {
    /// `os.path.abspath` of the file.
    pub path: String,
    /// The file as docker-compose names it in the `config_files` label.
    pub shown: String,
    pub v1: bool,
    /// The version as docker-compose prints it: `1` or `3.9` (every version 2 and 3 file).
    pub version: &'static str,
    pub root_span: Span,
    pub services: Dict,
    pub networks: Dict,
    pub volumes: Dict,
    pub secrets: Dict,
    pub configs: Dict,
}

/// A service after `finalize_service`, with what docker-compose keeps beside the dict.
#[derive(Debug, Clone)]
pub struct Finalized {
    pub name: String,
    pub span: Span,
    pub dict: Dict,
    pub volumes_from: Vec<(VolumeFromSpec, Span)>,
    /// `secrets:` entries as `(source, target, uid, gid, mode)` JSON, with their spans.
    pub secrets: Vec<(Dict, Span)>,
}

/// What loading needs from outside: the directories, the variables, and the files read so far.
pub struct Loader<'a> {
    pub cwd: String,
    pub env: &'a Environment,
    pub process_env: &'a HashMap<String, String>,
    pub warnings: Vec<String>,
    pub unset: Vec<String>,
    cache: HashMap<String, Rc<LoadedFile>>,
}

impl<'a> Loader<'a> {
    pub fn new(cwd: String, env: &'a Environment, process_env: &'a HashMap<String, String>) -> Self {
        Loader {
            cwd,
            env,
            process_env,
            warnings: Vec::new(),
            unset: Vec::new(),
            cache: HashMap::new(),
        }
    }

    fn home(&self) -> Option<&str> {
        self.process_env.get("HOME").map(String::as_str)
    }

    fn expand_path(&self, working_dir: &str, path: &str) -> String {
        py::abspath(&py::join(working_dir, &py::expanduser(path, self.home())), &self.cwd)
    }

    /// Reads, substitutes and checks a file (cached by path, as `extends` may name it again).
    pub fn load_file(&mut self, path: &str, shown: &str, display: &str) -> Result<Rc<LoadedFile>, Error> {
        if let Some(file) = self.cache.get(path) {
            return Ok(Rc::clone(file));
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: std::path::PathBuf::from(display),
            source,
        })?;
        let source = SourceFile::new(display, text.strip_prefix('\u{feff}').unwrap_or(&text));
        let file = Rc::new(self.process_file(&source, path, shown)?);
        self.cache.insert(path.to_string(), Rc::clone(&file));
        Ok(file)
    }

    fn process_file(&mut self, source: &Arc<SourceFile>, path: &str, shown: &str) -> Result<LoadedFile, Error> {
        let node = crate::yaml::parse_written(source)?;
        let root = from_node(&node);
        let root_span = root.span.clone();
        let Some(top) = root.as_map() else {
            return Err(Error::invalid(
                root_span,
                format!("the Compose file must be a mapping, not {}", root.kind()),
            ));
        };
        let v1 = detect_v1(top, &root_span)?;
        let version = if v1 { "1" } else { "3.9" };
        let section = |name: &str| -> Result<Dict, Error> {
            if v1 {
                return Ok(if name == "services" { top.clone() } else { Dict::new() });
            }
            match top.get(name) {
                None => Ok(Dict::new()),
                Some(v) => check_section(v, name).cloned(),
            }
        };
        let raw_services = section("services")?;
        if v1 {
            check_section(&root, "services")?;
        }
        let services = self.interpolate_section("service", &raw_services, v1)?;
        let networks = self.interpolate_section("network", &section("networks")?, v1)?;
        let volumes = self.interpolate_section("volume", &section("volumes")?, v1)?;
        let secrets = self.interpolate_section("secret", &section("secrets")?, v1)?;
        let configs = self.interpolate_section("config", &section("configs")?, v1)?;

        if !v1 {
            const TOP: &[&str] = &["version", "services", "networks", "volumes", "secrets", "configs"];
            for (key, key_span, _) in top.iter_spans() {
                if !TOP.contains(&key.as_str()) && !key.starts_with("x-") {
                    return Err(schema::unknown_key(
                        key,
                        key_span.clone(),
                        "the Compose file".into(),
                        TOP.iter().copied(),
                    )
                    .with_help_text(
                        "top-level keys are `version`, `services`, `networks`, `volumes`, `secrets`, \
                             `configs` and `x-...`; services go under `services:`",
                    ));
                }
            }
        }
        for (name, key_span, service) in services.iter_spans() {
            if !schema::valid_name(name) {
                return Err(Error::invalid(
                    key_span.clone(),
                    format!("invalid service name `{name}`: only letters, digits, `.`, `_` and `-` are allowed"),
                ));
            }
            schema::check_service(name, service, v1)?;
        }
        for (kind, dict, t) in [
            ("network", &networks, &schema::NETWORK),
            ("volume", &volumes, &schema::VOLUME),
        ] {
            for (name, key_span, v) in dict.iter_spans() {
                if !schema::valid_name(name) && kind == "volume" {
                    return Err(Error::invalid(
                        key_span.clone(),
                        format!("invalid volume name `{name}`"),
                    ));
                }
                schema::check(v, t, &format!("{kind} `{name}`"), "")?;
            }
        }
        for (kind, dict, t) in [
            ("secret", &secrets, &schema::SECRET),
            ("config", &configs, &schema::CONFIG),
        ] {
            for (name, _, v) in dict.iter_spans() {
                schema::check(v, t, &format!("{kind} `{name}`"), "")?;
            }
        }
        Ok(LoadedFile {
            path: path.to_string(),
            shown: shown.to_string(),
            v1,
            version,
            root_span,
            services,
            networks,
            volumes,
            secrets,
            configs,
        })
    }

    /// Substitutes variables in every value of a section and converts the values docker-compose
    /// converts (`ports.published` to an integer, `privileged: "yes"` to a boolean, ...).
    fn interpolate_section(&mut self, section: &str, d: &Dict, v1: bool) -> Result<Dict, Error> {
        let mut out = Dict::new();
        for (name, key_span, body) in d.iter_spans() {
            let what = format!("{section} `{name}`");
            let mut processed = Dict::new();
            if let Some(body) = body.as_map() {
                for (key, kspan, value) in body.iter_spans() {
                    let path = format!("{section}/{name}/{key}");
                    let v = self.interp(value, &path, &what, key, v1)?;
                    processed.insert(key.clone(), kspan.clone(), v);
                }
            }
            out.insert(name.clone(), key_span.clone(), Val::map(processed, &body.span));
        }
        Ok(out)
    }

    fn interp(&mut self, val: &Val, path: &str, what: &str, key: &str, v1: bool) -> Result<Val, Error> {
        match &val.v {
            V::Str(s) => {
                let mut unset = Vec::new();
                let text = substitute(s, self.env, v1, &mut unset).map_err(|e| match e {
                    InterpError::Invalid => fail(
                        &val.span,
                        what,
                        format!("`{key}`: invalid interpolation format in \"{s}\""),
                    )
                    .with_help("write `$$` for a literal `$`; variables are `$VAR` or `${VAR}`"),
                    InterpError::Required(message) => fail(
                        &val.span,
                        what,
                        format!("`{key}`: missing mandatory value while substituting \"{s}\": {message}"),
                    ),
                })?;
                for name in unset {
                    if !self.unset.contains(&name) {
                        self.warnings
                            .push(format!("The {name} variable is not set. Defaulting to a blank string."));
                        self.unset.push(name);
                    }
                }
                convert(path, Val::str(text, &val.span), what)
            }
            V::Map(d) => {
                let mut out = Dict::new();
                for (k, kspan, v) in d.iter_spans() {
                    out.insert(
                        k.clone(),
                        kspan.clone(),
                        self.interp(v, &format!("{path}/{k}"), what, key, v1)?,
                    );
                }
                Ok(Val::map(out, &val.span))
            }
            V::List(items) => {
                let items = items
                    .iter()
                    .map(|i| self.interp(i, path, what, key, v1))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Val::list(items, &val.span))
            }
            _ => convert(path, val.clone(), what),
        }
    }
}

/// Adds a help text to any error (the crate's `with_help` only covers some variants).
trait WithHelpText {
    fn with_help_text(self, text: &str) -> Self;
}

impl WithHelpText for Error {
    fn with_help_text(self, text: &str) -> Self {
        match self {
            Error::UnknownKey {
                suggestion: Some(_), ..
            } => self,
            Error::UnknownKey { span, key, context, .. } => {
                Error::invalid(span, format!("unknown key `{key}` in {context}")).with_help(text)
            }
            other => other.with_help(text),
        }
    }
}

/// `ConfigFile.version`: whether a file is version 1 (services at the top level).
fn detect_v1(top: &Dict, root_span: &Span) -> Result<bool, Error> {
    let version = top.get("version");
    match version {
        Some(v) if v.truthy() => match &v.v {
            V::Map(_) => Ok(true),
            V::Str(s) => {
                static PATTERN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[1-3]+(\.\d+)?$").expect("pattern"));
                if !PATTERN.is_match(s) {
                    return Err(Error::invalid(v.span.clone(), format!("version \"{s}\" is invalid"))
                        .with_help("use a version such as \"2\", \"2.4\" or \"3.8\", or no `version` for version 1"));
                }
                if s.starts_with('1') {
                    return Err(Error::invalid(v.span.clone(), format!("version \"{s}\" is invalid"))
                        .with_help("version 1 files have no `version` key; remove it, or use \"2\" or \"3\" and put the services under `services:`"));
                }
                Ok(false)
            }
            _ => Err(
                Error::invalid(v.span.clone(), format!("`version` must be a string, not {}", v.kind()))
                    .with_help(format!("quote it: version: \"{}\"", v.py_str())),
            ),
        },
        _ => {
            let any = ["services", "networks", "volumes"]
                .iter()
                .any(|k| top.get(k).is_some_and(Val::truthy));
            if any {
                for section in ["services", "networks", "volumes"] {
                    if let Some(v) = top.get(section) {
                        check_section(v, section)?;
                    }
                }
                Ok(false)
            } else {
                let _ = root_span;
                Ok(true)
            }
        }
    }
}

/// `validate_config_section`: a section is a mapping of names to mappings (or nothing).
fn check_section<'v>(v: &'v Val, section: &str) -> Result<&'v Dict, Error> {
    let singular = section.trim_end_matches('s');
    let Some(d) = v.as_map() else {
        return Err(Error::invalid(
            v.span.clone(),
            format!("`{section}` must be a mapping, not {}", v.kind()),
        ));
    };
    for (name, key_span, value) in d.iter_spans() {
        if !d.key_is_string(name) {
            let written = super::value::written_word(key_span).unwrap_or_else(|| name.clone());
            return Err(Error::invalid(
                key_span.clone(),
                format!("the {singular} name `{written}` must be a quoted string"),
            )
            .with_help(format!(
                "YAML reads `{written}` as {name}, not as text; write '{written}'"
            )));
        }
        if !matches!(value.v, V::Map(_) | V::Null) {
            return Err(Error::invalid(
                value.span.clone(),
                format!("{singular} `{name}` must be a mapping, not {}", value.kind()),
            ));
        }
    }
    Ok(d)
}

#[derive(Clone, Copy)]
enum Conv {
    Int,
    Float,
    Str,
    Bool,
    Bytes,
    Micros,
}

static CONVERSIONS: LazyLock<Vec<(Regex, Conv)>> = LazyLock::new(|| {
    let svc = |parts: &[&str]| format!("^service/[^/]+/{}$", parts.join("/"));
    let basic = |section: &str, name: &str| format!("^{section}/[^/]+/{name}$");
    let table: Vec<(String, Conv)> = vec![
        (svc(&["blkio_config", "weight"]), Conv::Int),
        (svc(&["blkio_config", "weight_device", "weight"]), Conv::Int),
        (svc(&["build", "labels", ".+"]), Conv::Str),
        (svc(&["cpus"]), Conv::Float),
        (svc(&["cpu_count"]), Conv::Int),
        (svc(&["cpu_quota"]), Conv::Micros),
        (svc(&["cpu_period"]), Conv::Micros),
        (svc(&["cpu_rt_period"]), Conv::Micros),
        (svc(&["cpu_rt_runtime"]), Conv::Micros),
        (svc(&["configs", "mode"]), Conv::Int),
        (svc(&["secrets", "mode"]), Conv::Int),
        (svc(&["healthcheck", "retries"]), Conv::Int),
        (svc(&["healthcheck", "disable"]), Conv::Bool),
        (svc(&["deploy", "labels", "[^/]+"]), Conv::Str),
        (svc(&["deploy", "replicas"]), Conv::Int),
        (svc(&["deploy", "placement", "max_replicas_per_node"]), Conv::Int),
        (svc(&["deploy", "resources", "limits", "cpus"]), Conv::Float),
        (svc(&["deploy", "update_config", "parallelism"]), Conv::Int),
        (svc(&["deploy", "update_config", "max_failure_ratio"]), Conv::Float),
        (svc(&["deploy", "rollback_config", "parallelism"]), Conv::Int),
        (svc(&["deploy", "rollback_config", "max_failure_ratio"]), Conv::Float),
        (svc(&["deploy", "restart_policy", "max_attempts"]), Conv::Int),
        (svc(&["mem_swappiness"]), Conv::Int),
        (svc(&["labels", ".+"]), Conv::Str),
        (svc(&["oom_kill_disable"]), Conv::Bool),
        (svc(&["oom_score_adj"]), Conv::Int),
        (svc(&["ports", "target"]), Conv::Int),
        (svc(&["ports", "published"]), Conv::Int),
        (svc(&["scale"]), Conv::Int),
        (svc(&["ulimits", "[^/]+"]), Conv::Int),
        (svc(&["ulimits", "[^/]+", "soft"]), Conv::Int),
        (svc(&["ulimits", "[^/]+", "hard"]), Conv::Int),
        (svc(&["privileged"]), Conv::Bool),
        (svc(&["read_only"]), Conv::Bool),
        (svc(&["stdin_open"]), Conv::Bool),
        (svc(&["tty"]), Conv::Bool),
        (svc(&["volumes", "read_only"]), Conv::Bool),
        (svc(&["volumes", "volume", "nocopy"]), Conv::Bool),
        (svc(&["volumes", "tmpfs", "size"]), Conv::Bytes),
        (basic("network", "attachable"), Conv::Bool),
        (basic("network", "external"), Conv::Bool),
        (basic("network", "internal"), Conv::Bool),
        ("^network/[^/]+/labels/.+$".into(), Conv::Str),
        (basic("volume", "external"), Conv::Bool),
        ("^volume/[^/]+/labels/.+$".into(), Conv::Str),
        (basic("secret", "external"), Conv::Bool),
        ("^secret/[^/]+/labels/.+$".into(), Conv::Str),
        (basic("config", "external"), Conv::Bool),
        ("^config/[^/]+/labels/.+$".into(), Conv::Str),
    ];
    table
        .into_iter()
        .filter_map(|(p, c)| Regex::new(&p).ok().map(|r| (r, c)))
        .collect()
});

/// docker-compose's `ConversionMap.convert` for one value at a path like `service/app/tty`.
fn convert(path: &str, val: Val, what: &str) -> Result<Val, Error> {
    let Some((_, conv)) = CONVERSIONS.iter().find(|(re, _)| re.is_match(path)) else {
        return Ok(val);
    };
    let key = path.splitn(3, '/').nth(2).unwrap_or(path).replace('/', ".");
    let bad = |message: String| fail(&val.span, what, format!("`{key}`: {message}"));
    let V::Str(s) = &val.v else {
        // Only strings are converted, but `to_str` turns numbers and booleans into text.
        return Ok(match (&val.v, conv) {
            (V::Int(_) | V::Float(_) | V::Bool(_), Conv::Str) => Val::str(val.py_str(), &val.span),
            _ => val,
        });
    };
    let v = match conv {
        Conv::Str => return Ok(val),
        Conv::Int => {
            let text = s.trim();
            let rewritten = if text.len() > 1 && text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit()) {
                format!("0o{}", &text[1..])
            } else {
                text.to_string()
            };
            V::Int(py::parse_int_base0(&rewritten).ok_or_else(|| bad(format!("\"{s}\" is not a valid integer")))?)
        }
        Conv::Float => V::Float(py::parse_float(s).ok_or_else(|| bad(format!("\"{s}\" is not a valid float")))?),
        Conv::Bool => match s.to_lowercase().as_str() {
            "y" | "yes" | "true" | "on" => V::Bool(true),
            "n" | "no" | "false" | "off" => V::Bool(false),
            lower => return Err(bad(format!("\"{lower}\" is not a valid boolean value"))),
        },
        Conv::Bytes => V::Int(py::parse_bytes(s).ok_or_else(|| bad(format!("\"{s}\" is not a valid byte value")))?),
        Conv::Micros => {
            let nanos = py::duration_nanos(s).ok_or_else(|| bad(format!("\"{s}\" is not a valid duration")))?;
            V::Int((nanos as f64 / 1000.0) as i64)
        }
    };
    Ok(Val::new(v, val.span.clone()))
}

// ----- parse helpers shared by merging and processing -----

/// `to_list`: nothing is `[]`, a string is `[string]`.
fn to_list(v: Option<&Val>) -> Vec<Val> {
    match v {
        None => Vec::new(),
        Some(val) => match &val.v {
            V::Null => Vec::new(),
            V::List(items) => items.clone(),
            _ => vec![val.clone()],
        },
    }
}

type SplitFn = fn(&Val, &str) -> Result<(String, Val), Error>;

/// `parse_dict_or_list`: a mapping as is, a list split into key/value pairs.
fn parse_dict_or_list(v: Option<&Val>, split: SplitFn, type_name: &str, what: &str) -> Result<Dict, Error> {
    let Some(val) = v.filter(|v| v.truthy()) else {
        return Ok(Dict::new());
    };
    match &val.v {
        V::Map(d) => Ok(d.clone()),
        V::List(items) => {
            let mut d = Dict::new();
            for item in items {
                let (k, v) = split(item, what)?;
                d.insert(k, item.span.clone(), v);
            }
            Ok(d)
        }
        _ => Err(fail(
            &val.span,
            what,
            format!("{type_name} \"{}\" must be a list or mapping", val.py_str()),
        )),
    }
}

fn split_env(item: &Val, what: &str) -> Result<(String, Val), Error> {
    let text = item.py_str();
    let (key, value) = match text.split_once('=') {
        Some((k, v)) => (k.to_string(), Val::str(v, &item.span)),
        None => (text.clone(), Val::null(&item.span)),
    };
    if key.chars().any(char::is_whitespace) {
        return Err(fail(
            &item.span,
            what,
            format!("environment variable name '{key}' may not contain whitespace"),
        ));
    }
    Ok((key, value))
}

fn split_kv(item: &Val, _what: &str) -> Result<(String, Val), Error> {
    let text = item.py_str();
    Ok(match text.split_once('=') {
        Some((k, v)) => (k.to_string(), Val::str(v, &item.span)),
        None => (text.clone(), Val::str("", &item.span)),
    })
}

fn split_none(item: &Val, _what: &str) -> Result<(String, Val), Error> {
    Ok((item.py_str(), Val::null(&item.span)))
}

fn split_depends(item: &Val, _what: &str) -> Result<(String, Val), Error> {
    let mut condition = Dict::new();
    condition.set("condition", Val::str("service_started", &item.span));
    Ok((item.py_str(), Val::map(condition, &item.span)))
}

pub fn parse_environment(v: Option<&Val>, what: &str) -> Result<Dict, Error> {
    parse_dict_or_list(v, split_env, "environment", what)
}

pub fn parse_labels(v: Option<&Val>, what: &str) -> Result<Dict, Error> {
    parse_dict_or_list(v, split_kv, "labels", what)
}

pub fn parse_networks(v: Option<&Val>, what: &str) -> Result<Dict, Error> {
    parse_dict_or_list(v, split_none, "networks", what)
}

fn parse_depends_on(v: Option<&Val>, what: &str) -> Result<Dict, Error> {
    parse_dict_or_list(v, split_depends, "depends_on", what)
}

fn parse_build_arguments(v: Option<&Val>, what: &str) -> Result<Dict, Error> {
    parse_dict_or_list(v, split_env, "build arguments", what)
}

fn parse_flat_dict(v: Option<&Val>, what: &str) -> Result<Dict, Error> {
    let Some(val) = v.filter(|v| v.truthy()) else {
        return Ok(Dict::new());
    };
    val.as_map()
        .cloned()
        .ok_or_else(|| fail(&val.span, what, "invalid type: expected a mapping"))
}

/// `parse_extra_hosts`: `host:ip` lines or a mapping, as a mapping.
pub fn parse_extra_hosts(v: Option<&Val>, what: &str) -> Result<Dict, Error> {
    let Some(val) = v.filter(|v| v.truthy()) else {
        return Ok(Dict::new());
    };
    match &val.v {
        V::Map(d) => Ok(d.clone()),
        V::List(items) => {
            let mut d = Dict::new();
            for item in items {
                let text = item.py_str();
                let (host, ip) = text.split_once(':').ok_or_else(|| {
                    fail(
                        &item.span,
                        what,
                        format!("`extra_hosts`: \"{text}\" should be `host:ip`"),
                    )
                })?;
                d.insert(host.trim(), item.span.clone(), Val::str(ip.trim(), &item.span));
            }
            Ok(d)
        }
        _ => Ok(Dict::new()),
    }
}

/// `build_string_dict`: every value as text, nothing as the empty string.
fn build_string_dict(d: &Dict) -> Dict {
    let mut out = Dict::new();
    for (k, span, v) in d.iter_spans() {
        let text = if v.is_null() { String::new() } else { v.py_str() };
        out.insert(k.clone(), span.clone(), Val::str(text, &v.span));
    }
    out
}

/// `compose.utils.splitdrive`: a drive letter prefix such as `c:` (never for `.`, `/`, `~`).
fn splitdrive(path: &str) -> (&str, &str) {
    if path.is_empty() || path.starts_with(['.', '\\', '/', '~']) {
        return ("", path);
    }
    let mut chars = path.char_indices();
    match (chars.next(), chars.next()) {
        (Some(_), Some((i, ':'))) => path.split_at(i + 1),
        _ => ("", path),
    }
}

/// `split_path_mapping`: `(container path, (host, mode))` of a short volume entry.
fn split_path_mapping(volume: &str) -> (String, Option<(String, Option<String>)>) {
    let (drive, config) = splitdrive(volume);
    match config.split_once(':') {
        Some((host, container)) => {
            let (cdrive, cpath) = splitdrive(container);
            let (cpath, mode) = match cpath.rsplit_once(':') {
                Some((p, m)) => (p, Some(m.to_string())),
                None => (cpath, None),
            };
            (format!("{cdrive}{cpath}"), Some((format!("{drive}{host}"), mode)))
        }
        None => (volume.to_string(), None),
    }
}

/// A JSON text that sorts and hashes as docker-compose's `json_hash` input.
fn json_hash(val: &Val) -> String {
    super::model::json_hash(&val.to_json())
}

// ----- merging (merge_service_dicts) -----

struct MergeDict<'b> {
    base: &'b Dict,
    over: &'b Dict,
    out: Dict,
    span: Span,
    what: &'b str,
}

impl<'b> MergeDict<'b> {
    fn new(base: &'b Dict, over: &'b Dict, span: &Span, what: &'b str) -> Self {
        MergeDict {
            base,
            over,
            out: Dict::new(),
            span: span.clone(),
            what,
        }
    }

    fn needs(&self, field: &str) -> bool {
        self.base.contains(field) || self.over.contains(field)
    }

    fn span_of(&self, field: &str) -> Span {
        self.over
            .get(field)
            .or_else(|| self.base.get(field))
            .map_or_else(|| self.span.clone(), |v| v.span.clone())
    }

    fn key_span(&self, field: &str) -> Span {
        self.over
            .key_span(field)
            .or_else(|| self.base.key_span(field))
            .cloned()
            .unwrap_or_else(|| self.span.clone())
    }

    fn put(&mut self, field: &str, v: V) {
        let span = self.span_of(field);
        let key_span = self.key_span(field);
        self.out.insert(field, key_span, Val::new(v, span));
    }

    fn mapping(&mut self, field: &str, parse: fn(Option<&Val>, &str) -> Result<Dict, Error>) -> Result<(), Error> {
        if !self.needs(field) {
            return Ok(());
        }
        let mut d = parse(self.base.get(field), self.what)?;
        d.update(parse(self.over.get(field), self.what)?);
        self.put(field, V::Map(d));
        Ok(())
    }

    fn scalar(&mut self, field: &str) {
        if self.needs(field) {
            let v = self.over.get(field).or_else(|| self.base.get(field)).cloned();
            if let Some(v) = v {
                let key_span = self.key_span(field);
                self.out.insert(field, key_span, v);
            }
        }
    }

    /// `merge_field` with a function of both sides (missing sides as `None`).
    fn field(
        &mut self,
        field: &str,
        f: impl FnOnce(Option<&Val>, Option<&Val>) -> Result<V, Error>,
    ) -> Result<(), Error> {
        if !self.needs(field) {
            return Ok(());
        }
        let v = f(
            self.base.get(field).filter(|v| !v.is_null()),
            self.over.get(field).filter(|v| !v.is_null()),
        )?;
        self.put(field, v);
        Ok(())
    }
}

fn unique_items(base: Option<&Val>, over: Option<&Val>, span: &Span) -> V {
    let mut items: Vec<String> = to_list(base)
        .iter()
        .chain(to_list(over).iter())
        .map(Val::py_str)
        .collect();
    items.sort();
    items.dedup();
    V::List(items.into_iter().map(|s| Val::str(s, span)).collect())
}

fn list_or_string(base: Option<&Val>, over: Option<&Val>) -> V {
    V::List(to_list(base).into_iter().chain(to_list(over)).collect())
}

/// `merge_sequence` for `links`: by alias, sorted, written back as text.
fn merge_links(base: Option<&Val>, over: Option<&Val>, span: &Span) -> V {
    let mut merged: Vec<ServiceLink> = Vec::new();
    for item in to_list(base).iter().chain(to_list(over).iter()) {
        let link = ServiceLink::parse(&item.py_str());
        merged.retain(|l| l.alias != link.alias);
        merged.push(link);
    }
    merged.sort();
    V::List(merged.iter().map(|l| Val::str(l.repr(), span)).collect())
}

/// `merge_sequence` for `secrets`/`configs`: by source, sorted, written back as mappings.
fn merge_secrets(base: Option<&Val>, over: Option<&Val>, span: &Span) -> V {
    let mut merged: Vec<(Value, Dict)> = Vec::new();
    for item in to_list(base).iter().chain(to_list(over).iter()) {
        let d = secret_dict(item);
        let key = d.get("source").map_or(Value::Null, Val::to_json);
        merged.retain(|(k, _)| *k != key);
        merged.push((key, d));
    }
    merged.sort_by_key(|(_, d)| secret_sort_key(d));
    V::List(merged.into_iter().map(|(_, d)| Val::map(d, span)).collect())
}

fn secret_sort_key(d: &Dict) -> Vec<String> {
    ["source", "target", "uid", "gid", "mode", "name"]
        .iter()
        .map(|k| d.get(k).map_or_else(String::new, Val::py_str))
        .collect()
}

/// `ServiceSecret.parse(spec).repr()`: the set fields of a secret reference.
fn secret_dict(item: &Val) -> Dict {
    let mut d = Dict::new();
    match &item.v {
        V::Map(m) => {
            for key in ["source", "target", "uid", "gid", "mode", "name"] {
                if let Some(v) = m.get(key).filter(|v| !v.is_null()) {
                    d.set(key, v.clone());
                }
            }
        }
        _ => d.set("source", Val::str(item.py_str(), &item.span)),
    }
    d
}

/// `merge_path_mappings` for `volumes` and `devices`: by container path, sorted.
fn merge_path_mappings(base: Option<&Val>, over: Option<&Val>) -> V {
    let mut by_target: Vec<(String, Val)> = Vec::new();
    for item in to_list(base).iter().chain(to_list(over).iter()) {
        let target = match &item.v {
            V::Map(d) => d.get("target").map_or_else(String::new, Val::py_str),
            _ => split_path_mapping(&item.py_str()).0,
        };
        match by_target.iter_mut().find(|(t, _)| *t == target) {
            Some(slot) => slot.1 = item.clone(),
            None => by_target.push((target, item.clone())),
        }
    }
    by_target.sort_by(|a, b| a.0.cmp(&b.0));
    V::List(
        by_target
            .into_iter()
            .map(|(target, item)| match &item.v {
                V::Map(_) => item,
                _ => match split_path_mapping(&item.py_str()).1 {
                    None => Val::str(target, &item.span),
                    Some((host, mode)) => {
                        let mut text = format!("{host}:{target}");
                        if let Some(mode) = mode.filter(|m| !m.is_empty()) {
                            text = format!("{text}:{mode}");
                        }
                        Val::str(text, &item.span)
                    }
                },
            })
            .collect(),
    )
}

fn port_list(v: Option<&Val>, what: &str) -> Result<Vec<ServicePort>, Error> {
    let mut out = Vec::new();
    for item in to_list(v) {
        out.extend(parse_port(&item, what)?);
    }
    Ok(out)
}

/// `ServicePort.parse` of one `ports:` entry.
fn parse_port(item: &Val, what: &str) -> Result<Vec<ServicePort>, Error> {
    match &item.v {
        V::Port(p) => Ok(vec![p.clone()]),
        V::Map(d) => {
            let int = |k: &str| d.get(k).and_then(|v| if let V::Int(i) = v.v { Some(i) } else { None });
            let text = |k: &str| d.get(k).filter(|v| !v.is_null()).map(Val::py_str);
            Ok(vec![ServicePort::long(
                int("target"),
                int("published"),
                text("protocol"),
                text("mode"),
            )])
        }
        _ => ServicePort::parse_short(&item.py_str()).map_err(|e| fail(&item.span, what, format!("`ports`: {e}"))),
    }
}

fn merge_networks(base: Option<&Val>, over: Option<&Val>, span: &Span, what: &str) -> Result<V, Error> {
    let as_dict = |v: Option<&Val>| -> Dict {
        match v.map(|v| &v.v) {
            Some(V::Map(d)) => d.clone(),
            Some(V::List(items)) => {
                let mut d = Dict::new();
                for i in items {
                    d.insert(i.py_str(), i.span.clone(), Val::map(Dict::new(), &i.span));
                }
                d
            }
            _ => Dict::new(),
        }
    };
    let (base, over) = (as_dict(base), as_dict(over));
    let mut names: Vec<(String, Span)> = Vec::new();
    for (k, s, _) in base.iter_spans().chain(over.iter_spans()) {
        if !names.iter().any(|(n, _)| n == k) {
            names.push((k.clone(), s.clone()));
        }
    }
    let mut out = Dict::new();
    for (name, key_span) in names {
        let empty = Dict::new();
        let b = base.get(&name).and_then(Val::as_map).unwrap_or(&empty);
        let o = over.get(&name).and_then(Val::as_map).unwrap_or(&empty);
        let mut md = MergeDict::new(b, o, &key_span, what);
        md.field("aliases", |x, y| Ok(unique_items(x, y, span)))?;
        md.field("link_local_ips", |x, y| Ok(unique_items(x, y, span)))?;
        for f in ["priority", "ipv4_address", "ipv6_address"] {
            md.scalar(f);
        }
        out.insert(name, key_span.clone(), Val::map(md.out, &key_span));
    }
    Ok(V::Map(out))
}

fn merge_logging(base: Option<&Val>, over: Option<&Val>, span: &Span, what: &str) -> Result<V, Error> {
    let empty = Dict::new();
    let b = base.and_then(Val::as_map).unwrap_or(&empty);
    let o = over.and_then(Val::as_map).unwrap_or(&empty);
    let mut md = MergeDict::new(b, o, span, what);
    md.scalar("driver");
    let same_driver = match (md.out.get("driver"), b.get("driver")) {
        (_, None) => true,
        (Some(x), Some(y)) => x.to_json() == y.to_json(),
        (None, Some(_)) => false,
    };
    if same_driver {
        md.mapping("options", |m, _| {
            Ok(m.and_then(Val::as_map).cloned().unwrap_or_default())
        })?;
    } else if let Some(options) = o.get("options").filter(|v| v.truthy()) {
        let options = options.clone();
        md.out.set("options", options);
    }
    Ok(V::Map(md.out))
}

fn merge_healthchecks(base: Option<&Val>, over: Option<&Val>) -> V {
    let b = base.and_then(Val::as_map).cloned().unwrap_or_default();
    let o = over.and_then(Val::as_map).cloned().unwrap_or_default();
    if matches!(o.get("disabled").map(|v| &v.v), Some(V::Bool(true))) {
        return V::Map(o);
    }
    let mut out = b;
    out.update(o);
    V::Map(out)
}

fn merge_blkio(base: Option<&Val>, over: Option<&Val>, span: &Span, what: &str) -> Result<V, Error> {
    let empty = Dict::new();
    let b = base.and_then(Val::as_map).unwrap_or(&empty);
    let o = over.and_then(Val::as_map).unwrap_or(&empty);
    let mut md = MergeDict::new(b, o, span, what);
    md.scalar("weight");
    for f in [
        "device_read_bps",
        "device_read_iops",
        "device_write_bps",
        "device_write_iops",
        "weight_device",
    ] {
        md.field(f, |x, y| {
            let mut by_path: Vec<(String, Val)> = Vec::new();
            for item in to_list(x).into_iter().chain(to_list(y)) {
                let path = item
                    .as_map()
                    .and_then(|d| d.get("path"))
                    .map_or_else(String::new, Val::py_str);
                by_path.retain(|(p, _)| *p != path);
                by_path.push((path, item));
            }
            by_path.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(V::List(by_path.into_iter().map(|(_, v)| v).collect()))
        })?;
    }
    Ok(V::Map(md.out))
}

fn unique_objects(base: Option<&Val>, over: Option<&Val>) -> V {
    let mut by_hash: Vec<(String, Val)> = Vec::new();
    for item in to_list(base).into_iter().chain(to_list(over)) {
        let h = json_hash(&item);
        match by_hash.iter_mut().find(|(k, _)| *k == h) {
            Some(slot) => slot.1 = item,
            None => by_hash.push((h, item)),
        }
    }
    by_hash.sort_by(|a, b| a.0.cmp(&b.0));
    V::List(by_hash.into_iter().map(|(_, v)| v).collect())
}

fn merge_deploy(base: Option<&Val>, over: Option<&Val>, span: &Span, what: &str) -> Result<V, Error> {
    let empty = Dict::new();
    let b = base.and_then(Val::as_map).unwrap_or(&empty);
    let o = over.and_then(Val::as_map).unwrap_or(&empty);
    let mut md = MergeDict::new(b, o, span, what);
    for f in ["mode", "endpoint_mode", "replicas"] {
        md.scalar(f);
    }
    md.mapping("labels", parse_labels)?;
    for f in ["update_config", "rollback_config", "restart_policy"] {
        md.mapping(f, |m, _| Ok(m.and_then(Val::as_map).cloned().unwrap_or_default()))?;
    }
    let sub = |d: &Dict, k: &str| d.get(k).and_then(Val::as_map).cloned().unwrap_or_default();
    if md.needs("resources") {
        let (rb, ro) = (sub(b, "resources"), sub(o, "resources"));
        let mut r = MergeDict::new(&rb, &ro, span, what);
        r.mapping("limits", |m, _| {
            Ok(m.and_then(Val::as_map).cloned().unwrap_or_default())
        })?;
        r.field("reservations", |x, y| {
            let empty = Dict::new();
            let xb = x.and_then(Val::as_map).unwrap_or(&empty);
            let yo = y.and_then(Val::as_map).unwrap_or(&empty);
            let mut m = MergeDict::new(xb, yo, span, what);
            m.scalar("cpus");
            m.scalar("memory");
            m.field("generic_resources", |p, q| {
                let mut merged: Vec<(String, Val)> = Vec::new();
                for item in to_list(p).into_iter().chain(to_list(q)) {
                    let spec = item
                        .as_map()
                        .and_then(|d| d.get("discrete_resource_spec"))
                        .and_then(Val::as_map);
                    let Some(kind) = spec.and_then(|s| s.get("kind")).map(Val::py_str) else {
                        return Err(fail(
                            &item.span,
                            what,
                            "generic_resource entry must include a discrete_resource_spec.kind",
                        ));
                    };
                    merged.retain(|(k, _)| *k != kind);
                    merged.push((kind, item));
                }
                merged.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(V::List(merged.into_iter().map(|(_, v)| v).collect()))
            })?;
            m.field("devices", |p, q| Ok(unique_objects(p, q)))?;
            Ok(V::Map(m.out))
        })?;
        let out = r.out;
        md.put("resources", V::Map(out));
    }
    if md.needs("placement") {
        let (pb, po) = (sub(b, "placement"), sub(o, "placement"));
        let mut p = MergeDict::new(&pb, &po, span, what);
        p.scalar("max_replicas_per_node");
        p.field("constraints", |x, y| Ok(unique_items(x, y, span)))?;
        p.field("preferences", |x, y| Ok(unique_objects(x, y)))?;
        let out = p.out;
        md.put("placement", V::Map(out));
    }
    Ok(V::Map(md.out))
}

fn merge_build(base: &Dict, over: &Dict, span: &Span, what: &str) -> Result<V, Error> {
    let to_dict = |d: &Dict| -> Dict {
        match d.get("build").map(|v| &v.v) {
            Some(V::Map(m)) => m.clone(),
            Some(V::Str(s)) => {
                let mut m = Dict::new();
                m.set(
                    "context",
                    Val::str(
                        s.clone(),
                        &d.get("build").map_or_else(|| span.clone(), |v| v.span.clone()),
                    ),
                );
                m
            }
            _ => Dict::new(),
        }
    };
    let (b, o) = (to_dict(base), to_dict(over));
    let mut md = MergeDict::new(&b, &o, span, what);
    for f in ["context", "dockerfile", "network", "target", "shm_size", "isolation"] {
        md.scalar(f);
    }
    md.mapping("args", parse_build_arguments)?;
    md.field("cache_from", |x, y| Ok(unique_items(x, y, span)))?;
    md.mapping("labels", parse_labels)?;
    md.mapping("extra_hosts", parse_extra_hosts)?;
    Ok(V::Map(md.out))
}

/// `merge_service_dicts`: `over` on top of `base`, field by field as docker-compose merges.
pub fn merge_service_dicts(base: &Dict, over: &Dict, v1: bool, span: &Span, what: &str) -> Result<Dict, Error> {
    let mut md = MergeDict::new(base, over, span, what);
    md.mapping("environment", parse_environment)?;
    md.mapping("labels", parse_labels)?;
    md.mapping("ulimits", parse_flat_dict)?;
    md.mapping("sysctls", |v, w| parse_dict_or_list(v, split_kv, "sysctls", w))?;
    md.mapping("depends_on", parse_depends_on)?;
    md.mapping("storage_opt", parse_flat_dict)?;
    md.field("links", |b, o| Ok(merge_links(b, o, span)))?;
    md.field("secrets", |b, o| Ok(merge_secrets(b, o, span)))?;
    md.field("configs", |b, o| Ok(merge_secrets(b, o, span)))?;
    md.field("security_opt", |b, o| {
        let mut merged: Vec<Val> = Vec::new();
        for item in to_list(b).into_iter().chain(to_list(o)) {
            let key = item.py_str();
            merged.retain(|m| m.py_str() != key);
            merged.push(item);
        }
        merged.sort_by_key(Val::py_str);
        Ok(V::List(merged))
    })?;
    md.mapping("extra_hosts", parse_extra_hosts)?;
    md.field("networks", |b, o| merge_networks(b, o, span, what))?;
    for f in ["volumes", "devices"] {
        md.field(f, |b, o| Ok(merge_path_mappings(b, o)))?;
    }
    for f in [
        "cap_add",
        "cap_drop",
        "expose",
        "external_links",
        "volumes_from",
        "device_cgroup_rules",
        "profiles",
    ] {
        md.field(f, |b, o| Ok(unique_items(b, o, span)))?;
    }
    for f in ["dns", "dns_search", "env_file", "tmpfs"] {
        md.field(f, |b, o| Ok(list_or_string(b, o)))?;
    }
    md.field("logging", |b, o| merge_logging(b, o, span, what))?;
    if md.needs("ports") {
        let mut merged: Vec<(String, ServicePort)> = Vec::new();
        for p in port_list(base.get("ports"), what)?
            .into_iter()
            .chain(port_list(over.get("ports"), what)?)
        {
            let key = p.merge_key();
            match merged.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = p,
                None => merged.push((key, p)),
            }
        }
        merged.sort_by_key(|(_, p)| p.target);
        let span_p = md.span_of("ports");
        md.put(
            "ports",
            V::List(
                merged
                    .into_iter()
                    .map(|(_, p)| Val::new(V::Port(p), span_p.clone()))
                    .collect(),
            ),
        );
    }
    md.field("blkio_config", |b, o| merge_blkio(b, o, span, what))?;
    md.field("healthcheck", |b, o| Ok(merge_healthchecks(b, o)))?;
    md.field("deploy", |b, o| merge_deploy(b, o, span, what))?;
    let done: Vec<String> = md.out.keys().cloned().collect();
    for f in allowed_keys() {
        if !done.iter().any(|d| d == f) {
            md.scalar(f);
        }
    }
    if v1 {
        md.out.remove("image");
        md.out.remove("build");
        for (side, key) in [(over, "image"), (over, "build"), (base, "image"), (base, "build")] {
            if let Some(v) = side.get(key) {
                let ks = side.key_span(key).cloned().unwrap_or_else(|| v.span.clone());
                md.out.insert(key, ks, v.clone());
                break;
            }
        }
    } else if md.needs("build") {
        let build = merge_build(base, over, span, what)?;
        md.put("build", build);
    }
    Ok(md.out)
}

// ----- per-service processing -----

/// `process_service`: paths made absolute, lists and mappings normalised, ports parsed.
pub fn process_service(loader: &Loader, d: &Dict, working_dir: &str, what: &str) -> Result<Dict, Error> {
    let mut d = d.clone();
    if let Some(v) = d.get("env_file").cloned() {
        let items = to_list(Some(&v))
            .into_iter()
            .map(|p| Val::str(loader.expand_path(working_dir, &p.py_str()), &p.span))
            .collect();
        d.set("env_file", Val::list(items, &v.span));
    }
    if let Some(build) = d.get("build").cloned() {
        let resolve = |p: &str| {
            const URLS: [&str; 5] = ["http://", "https://", "git://", "github.com/", "git@"];
            if URLS.iter().any(|u| p.starts_with(u)) {
                p.to_string()
            } else {
                loader.expand_path(working_dir, p)
            }
        };
        let new = match &build.v {
            V::Str(s) => Val::str(resolve(s), &build.span),
            V::Map(m) => {
                let mut m = m.clone();
                if let Some(c) = m.get("context").cloned() {
                    m.set("context", Val::str(resolve(&c.py_str()), &c.span));
                }
                if m.contains("labels") {
                    let labels = parse_labels(m.get("labels"), what)?;
                    let span = m.get("labels").map_or_else(|| build.span.clone(), |v| v.span.clone());
                    m.set("labels", Val::map(labels, &span));
                }
                Val::map(m, &build.span)
            }
            _ => build.clone(),
        };
        d.set("build", new);
    }
    if let Some(volumes) = d.get("volumes").cloned()
        && d.get("volume_driver").is_none_or(Val::is_null)
    {
        let items = to_list(Some(&volumes))
            .into_iter()
            .map(|v| resolve_volume_path(loader, working_dir, v))
            .collect();
        d.set("volumes", Val::list(items, &volumes.span));
    }
    if let Some(v) = d.get("sysctls").cloned() {
        let parsed = parse_dict_or_list(Some(&v), split_kv, "sysctls", what)?;
        d.set("sysctls", Val::map(build_string_dict(&parsed), &v.span));
    }
    if let Some(v) = d.get("labels").cloned() {
        d.set("labels", Val::map(parse_labels(Some(&v), what)?, &v.span));
    }
    if let Some(v) = d.get("depends_on").cloned()
        && !matches!(v.v, V::Map(_))
    {
        d.set("depends_on", Val::map(parse_depends_on(Some(&v), what)?, &v.span));
    }
    for field in ["dns", "dns_search", "tmpfs"] {
        if let Some(v) = d.get(field).cloned() {
            d.set(field, Val::list(to_list(Some(&v)), &v.span));
        }
    }
    if let Some(hc) = d.get("healthcheck").cloned()
        && let Some(m) = hc.as_map()
    {
        let mut m = m.clone();
        if let Some(disable) = m.remove("disable") {
            m.set("test", Val::list(vec![Val::str("NONE", &disable.span)], &disable.span));
        }
        for field in ["interval", "timeout", "start_period"] {
            if let Some(v) = m.get(field).cloned()
                && !matches!(v.v, V::Int(_))
            {
                let nanos = py::duration_nanos(&v.py_str()).map_or(V::Null, V::Int);
                m.set(field, Val::new(nanos, v.span.clone()));
            }
        }
        d.set("healthcheck", Val::map(m, &hc.span));
    }
    if let Some(ports) = d.get("ports").cloned() {
        let mut out = Vec::new();
        for item in to_list(Some(&ports)) {
            for p in parse_port(&item, what)? {
                out.push(Val::new(V::Port(p), item.span.clone()));
            }
        }
        d.set("ports", Val::list(out, &ports.span));
    }
    if let Some(blkio) = d.get("blkio_config").cloned().filter(Val::truthy)
        && let Some(m) = blkio.as_map()
    {
        let mut m = m.clone();
        for field in [
            "device_read_bps",
            "device_write_bps",
            "device_read_iops",
            "device_write_iops",
        ] {
            let Some(list) = m.get(field).cloned() else { continue };
            let mut items = Vec::new();
            for item in to_list(Some(&list)) {
                let mut entry = item.as_map().cloned().unwrap_or_default();
                let rate = entry
                    .get("rate")
                    .cloned()
                    .unwrap_or_else(|| Val::new(V::Int(0), item.span.clone()));
                let value = if field.ends_with("bps") {
                    match &rate.v {
                        V::Int(i) => *i,
                        _ => py::parse_bytes(&rate.py_str()).ok_or_else(|| {
                            fail(
                                &rate.span,
                                what,
                                format!("`blkio_config`: invalid format for bytes value: \"{}\"", rate.py_str()),
                            )
                        })?,
                    }
                } else {
                    match &rate.v {
                        V::Int(i) => *i,
                        _ => rate.py_str().trim().parse::<i64>().map_err(|_| {
                            fail(
                                &rate.span,
                                what,
                                format!("`blkio_config`: invalid IOPS value: \"{}\"", rate.py_str()),
                            )
                        })?,
                    }
                };
                entry.set("rate", Val::new(V::Int(value), rate.span.clone()));
                items.push(Val::map(entry, &item.span));
            }
            m.set(field, Val::list(items, &list.span));
        }
        d.set("blkio_config", Val::map(m, &blkio.span));
    }
    if let Some(opts) = d.get("security_opt").cloned() {
        for item in to_list(Some(&opts)) {
            check_security_opt(&item, what)?;
        }
    }
    Ok(d)
}

/// `SecurityOpt.parse`'s checks (the value itself is kept as written).
fn check_security_opt(item: &Val, what: &str) -> Result<(), Error> {
    let value = item.py_str();
    let parts: Vec<&str> = value.splitn(3, '=').collect();
    if parts.len() == 1 && parts[0] != "no-new-privileges" && !value.contains(':') {
        return Err(fail(&item.span, what, format!("invalid security_opt: {value}")));
    }
    Ok(())
}

/// `SecurityOpt.parse(value)` as `(value, src_file)`: a seccomp profile file is read in.
pub fn security_opt(item: &Val, what: &str, cwd: &str) -> Result<(String, Option<String>), Error> {
    let value = item.py_str();
    let mut con: Vec<&str> = value.splitn(3, '=').collect();
    if con.len() == 1 && con[0] != "no-new-privileges" {
        if !value.contains(':') {
            return Err(fail(&item.span, what, format!("invalid security_opt: {value}")));
        }
        con = value.splitn(3, ':').collect();
    }
    if con[0] == "seccomp"
        && let Some(file) = con.get(1)
        && *file != "unconfined"
    {
        let unquoted = if file.len() >= 2 && file.starts_with('"') && file.ends_with('"') {
            &file[1..file.len() - 1]
        } else {
            file
        };
        let path = py::abspath(unquoted, cwd);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| fail(&item.span, what, format!("error reading seccomp profile: {e}")))?;
        let data: Value = serde_json::from_str(&text)
            .map_err(|e| fail(&item.span, what, format!("error reading seccomp profile: {e}")))?;
        return Ok((
            format!("seccomp={}", py::json_dumps(&data, py::JsonStyle::Default)),
            Some(file.to_string()),
        ));
    }
    Ok((value, None))
}

fn resolve_volume_path(loader: &Loader, working_dir: &str, volume: Val) -> Val {
    match &volume.v {
        V::Map(m) => {
            let source = m.get("source").map(Val::py_str).unwrap_or_default();
            let is_bind = m.get("type").map(Val::py_str).as_deref() == Some("bind");
            if is_bind && source.starts_with(['.', '~']) {
                let mut m = m.clone();
                let span = m.get("source").map_or_else(|| volume.span.clone(), |v| v.span.clone());
                m.set("source", Val::str(loader.expand_path(working_dir, &source), &span));
                return Val::map(m, &volume.span);
            }
            volume
        }
        _ => {
            let (container, params) = split_path_mapping(&volume.py_str());
            match params {
                None => Val::str(container, &volume.span),
                Some((host, mode)) => {
                    let host = if host.starts_with('.') {
                        loader.expand_path(working_dir, &host)
                    } else {
                        host
                    };
                    let host = py::expanduser(&host, loader.home());
                    let mode = mode
                        .filter(|m| !m.is_empty())
                        .map(|m| format!(":{m}"))
                        .unwrap_or_default();
                    Val::str(format!("{host}:{container}{mode}"), &volume.span)
                }
            }
        }
    }
}

/// A service and where it is defined: its file, the directory its paths are relative to, its
/// name and position.
#[derive(Clone, Copy)]
pub struct ServiceAt<'x> {
    pub file: &'x str,
    pub working_dir: &'x str,
    pub name: &'x str,
    pub span: &'x Span,
}

/// What the extends chain has seen: `(file, service)` pairs.
type Trail = Vec<(String, String, Span)>;

impl Loader<'_> {
    /// `ServiceExtendsResolver.run` then `process_service`: the service with what it extends merged
    /// in. `main` is the first Compose file (`extends` without `file` looks there).
    pub fn resolve_service(
        &mut self,
        main: &LoadedFile,
        at: &ServiceAt,
        d: &Dict,
        trail: &Trail,
    ) -> Result<Dict, Error> {
        let ServiceAt {
            file,
            working_dir,
            name,
            span,
        } = *at;
        let what = format!("service `{name}`");
        let Some(extends) = d.get("extends").cloned() else {
            return Ok(d.clone());
        };
        let (ext_file, ext_service, ext_span) = match &extends.v {
            V::Map(m) => (
                m.get("file").map(Val::py_str),
                m.get("service").map(Val::py_str).unwrap_or_default(),
                m.get("service")
                    .map_or_else(|| extends.span.clone(), |v| v.span.clone()),
            ),
            _ => (None, extends.py_str(), extends.span.clone()),
        };
        let config_path = match &ext_file {
            Some(f) => self.expand_path(working_dir, f),
            None => file.to_string(),
        };
        let other_file;
        let base =
            if config_path == main.path {
                main.services
                    .get(&ext_service)
                    .cloned()
                    .ok_or_else(|| missing_service(&ext_span, &what, &ext_service, &main.shown, main.services.keys()))?
            } else {
                let shown = ext_file.clone().unwrap_or_else(|| config_path.clone());
                other_file = self.load_file(&config_path, &config_path, &shown)?;
                if other_file.v1 != main.v1 {
                    return Err(fail(
                        &ext_span,
                        &what,
                        format!(
                            "version mismatch: {} is version {} but the extended file {} is version {}",
                            main.shown, main.version, shown, other_file.version
                        ),
                    ));
                }
                other_file.services.get(&ext_service).cloned().ok_or_else(|| {
                    missing_service(&ext_span, &what, &ext_service, &shown, other_file.services.keys())
                })?
            };
        let base_dict = base.as_map().cloned().unwrap_or_default();
        let mut trail = trail.clone();
        trail.push((file.to_string(), name.to_string(), span.clone()));
        if trail.iter().any(|(f, n, _)| *f == config_path && *n == ext_service) {
            let mut chain: Vec<String> = trail.iter().map(|(_, n, _)| format!("`{n}`")).collect();
            chain.push(format!("`{ext_service}`"));
            return Err(fail(
                &ext_span,
                &what,
                format!("circular `extends`: {}", chain.join(" extends ")),
            )
            .with_help("a service cannot extend itself, directly or through others"));
        }
        let ext_dir = py::dirname(&config_path);
        let at = ServiceAt {
            file: &config_path,
            working_dir: &ext_dir,
            name: &ext_service,
            span: &base.span,
        };
        let resolved = self.resolve_service(main, &at, &base_dict, &trail)?;
        let other = process_service(self, &resolved, &ext_dir, &format!("service `{ext_service}`"))?;
        let prefix = format!("cannot extend service `{ext_service}`");
        let forbidden = [
            ("links", "links"),
            ("volumes_from", "volumes_from"),
            ("depends_on", "depends_on"),
        ];
        for (key, label) in forbidden {
            if other.contains(key) {
                return Err(fail(
                    &ext_span,
                    &what,
                    format!("{prefix}: services with '{label}' cannot be extended"),
                ));
            }
        }
        if other.get("net").is_some_and(|v| v.py_str().starts_with("container:")) {
            return Err(fail(
                &ext_span,
                &what,
                format!("{prefix}: services with 'net: container' cannot be extended"),
            ));
        }
        if other
            .get("network_mode")
            .is_some_and(|v| v.py_str().starts_with("service:"))
        {
            return Err(fail(
                &ext_span,
                &what,
                format!("{prefix}: services with 'network_mode: service' cannot be extended"),
            ));
        }
        merge_service_dicts(&other, d, main.v1, span, &what)
    }
}

fn missing_service<'k>(
    span: &Span,
    what: &str,
    name: &str,
    file: &str,
    known: impl Iterator<Item = &'k String>,
) -> Error {
    let known: Vec<&String> = known.collect();
    let err = fail(
        span,
        what,
        format!("cannot extend service `{name}` in {file}: service not found"),
    );
    match crate::error::suggest(name, known.iter().map(|s| s.as_str())) {
        Some(s) => err.with_help(format!("did you mean `{s}`?")),
        None => err,
    }
}

/// `validate_service` (before `finalize_service`).
pub fn validate_service(name: &str, d: &Dict, span: &Span, names: &[String], v1: bool) -> Result<(), Error> {
    let what = format!("service `{name}`");
    let key_span = |k: &str| d.get(k).map_or_else(|| span.clone(), |v| v.span.clone());
    let has = |k: &str| d.contains(k);
    if v1 {
        if has("image") && has("build") {
            return Err(fail(
                &key_span("build"),
                &what,
                "has both `image` and `build`; a version 1 service can either be built or use an image, not both",
            ));
        }
        if has("image") && has("dockerfile") {
            return Err(fail(
                &key_span("dockerfile"),
                &what,
                "has both `image` and `dockerfile`; a version 1 service can either be built or use an image, not both",
            ));
        }
    }
    if !has("image") && !has("build") {
        return Err(fail(
            span,
            &what,
            "has neither an `image` nor a `build` context; at least one must be provided",
        ));
    }
    if let Some(b) = d.get("build").and_then(Val::as_map)
        && !b.contains("context")
    {
        return Err(fail(&key_span("build"), &what, "`build` needs `context`"));
    }
    if let Some(cpus) = d.get("cpus") {
        let value = match cpus.v {
            V::Int(_) => None,
            V::Float(f) => Some(f),
            _ => None,
        };
        if let Some(f) = value
            && (f * 1_000_000_000.0).fract() != 0.0
        {
            return Err(fail(
                &cpus.span,
                &what,
                "`cpus` must have nine or less digits after decimal point",
            ));
        }
    }
    if let Some(ulimits) = d.get("ulimits").and_then(Val::as_map) {
        for (limit, v) in ulimits.iter() {
            if let Some(m) = v.as_map() {
                let get = |k: &str| m.get(k).and_then(|v| if let V::Int(i) = v.v { Some(i) } else { None });
                if let (Some(soft), Some(hard)) = (get("soft"), get("hard"))
                    && soft > hard
                {
                    return Err(fail(
                        &v.span,
                        &what,
                        format!("invalid ulimit `{limit}`: `soft` can not be greater than `hard`"),
                    ));
                }
            }
        }
    }
    for (key, thing) in [
        ("ipc", "the IPC namespace"),
        ("network_mode", "the network stack"),
        ("pid", "the PID namespace"),
    ] {
        let Some(v) = d.get(key).filter(|v| v.truthy()) else {
            continue;
        };
        if key == "network_mode" && has("networks") {
            return Err(fail(&v.span, &what, "`network_mode` and `networks` cannot be combined"));
        }
        if let Some(dep) = v.py_str().strip_prefix("service:")
            && !names.iter().any(|n| n == dep)
        {
            return Err(unknown_service(
                &v.span,
                &what,
                &format!("uses {thing} of service `{dep}`, which is undefined"),
                dep,
                names,
            ));
        }
    }
    if let Some(deps) = d.get("depends_on").and_then(Val::as_map) {
        for (dep, dspan, _) in deps.iter_spans() {
            if !names.iter().any(|n| n == dep) {
                return Err(unknown_service(
                    dspan,
                    &what,
                    &format!("depends on service `{dep}`, which is undefined"),
                    dep,
                    names,
                ));
            }
        }
    }
    for link in to_list(d.get("links")) {
        let text = link.py_str();
        let target = text.split(':').next().unwrap_or("");
        if !names.iter().any(|n| n == target) {
            return Err(unknown_service(
                &link.span,
                &what,
                &format!("has a link to service `{target}`, which is undefined"),
                target,
                names,
            ));
        }
    }
    if let Some(hc) = d.get("healthcheck").and_then(Val::as_map)
        && let Some(test) = hc.get("test")
        && let Some(items) = test.as_list()
    {
        let first = items.first().map(Val::py_str);
        match first.as_deref() {
            None => {
                return Err(fail(
                    &test.span,
                    &what,
                    "defines an invalid healthcheck: \"test\" is an empty list",
                ));
            }
            Some("NONE") if hc.len() > 1 => {
                return Err(fail(
                    &test.span,
                    &what,
                    "defines an invalid healthcheck: \"disable: true\" cannot be combined with other options",
                ));
            }
            Some("NONE" | "CMD" | "CMD-SHELL") => {}
            Some(_) => {
                return Err(fail(
                    &test.span,
                    &what,
                    "defines an invalid healthcheck: when \"test\" is a list the first item must be either NONE, CMD or CMD-SHELL",
                ));
            }
        }
    }
    if let Some(spec) = d.get("credential_spec").and_then(Val::as_map)
        && !spec.contains("registry")
        && !spec.contains("file")
    {
        return Err(fail(
            &key_span("credential_spec"),
            &what,
            "`credential_spec` needs `file` or `registry`",
        ));
    }
    if !has("image") && name.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(fail(
            span,
            &what,
            "contains uppercase characters, which are not valid in an image name",
        )
        .with_help("use a lowercase service name, or set `image` to name the service's image"));
    }
    Ok(())
}

fn unknown_service(span: &Span, what: &str, message: &str, name: &str, names: &[String]) -> Error {
    let err = fail(span, what, message);
    let own = what.trim_start_matches("service `").trim_end_matches('`');
    match crate::error::suggest(name, names.iter().map(String::as_str).filter(|n| *n != own)) {
        Some(s) => err.with_help(format!("did you mean `{s}`?")),
        None => err,
    }
}

/// `finalize_service`: environment resolved, volumes parsed, `net` and `restart` translated.
pub fn finalize_service(
    loader: &Loader,
    name: &str,
    span: &Span,
    d: &Dict,
    names: &[String],
    v1: bool,
) -> Result<Finalized, Error> {
    let what = format!("service `{name}`");
    let mut d = d.clone();
    if d.contains("environment") || d.contains("env_file") {
        let env_span = d
            .get("environment")
            .or_else(|| d.get("env_file"))
            .map_or_else(|| span.clone(), |v| v.span.clone());
        let env = resolve_environment(loader, &d, &what)?;
        d.set("environment", Val::map(env, &env_span));
        d.remove("env_file");
    }
    let mut volumes_from = Vec::new();
    if let Some(vf) = d.remove("volumes_from") {
        for item in to_list(Some(&vf)) {
            let spec = VolumeFromSpec::parse(&item.py_str(), names, v1).map_err(|e| fail(&item.span, &what, e))?;
            volumes_from.push((spec, item.span.clone()));
        }
    }
    if let Some(volumes) = d.get("volumes").cloned() {
        let mut out = Vec::new();
        let mut internals: Vec<(String, String, Span)> = Vec::new();
        for item in to_list(Some(&volumes)) {
            let parsed = match &item.v {
                V::Map(m) => V::Mount(mount_spec(m, &item.span, &what)?),
                _ => V::Volume(VolumeSpec::parse(&item.py_str()).map_err(|e| fail(&item.span, &what, e))?),
            };
            let spec = match &parsed {
                V::Mount(m) => m.as_volume_spec(),
                V::Volume(v) => v.clone(),
                _ => continue,
            };
            internals.push((spec.internal.clone(), spec.repr(), item.span.clone()));
            out.push(Val::new(parsed, item.span.clone()));
        }
        let duplicates: Vec<&(String, String, Span)> = internals
            .iter()
            .filter(|(i, _, _)| internals.iter().filter(|(j, _, _)| j == i).count() > 1)
            .collect();
        if let Some((_, _, dup_span)) = duplicates.first() {
            let list = duplicates
                .iter()
                .map(|(_, r, _)| r.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(fail(dup_span, &what, format!("duplicate mount points: [{list}]")));
        }
        d.set("volumes", Val::list(out, &volumes.span));
    }
    if let Some(net) = d.remove("net") {
        let text = net.py_str();
        let mode = match text.strip_prefix("container:") {
            Some(c) if names.iter().any(|n| n == c) => format!("service:{c}"),
            _ => text,
        };
        d.set("network_mode", Val::str(mode, &net.span));
    }
    if let Some(networks) = d.get("networks").cloned() {
        d.set(
            "networks",
            Val::map(parse_networks(Some(&networks), &what)?, &networks.span),
        );
    }
    if let Some(restart) = d.get("restart").cloned() {
        let parsed = parse_restart_spec(&restart.py_str()).map_err(|e| fail(&restart.span, &what, e))?;
        let v = match parsed {
            None => Val::null(&restart.span),
            Some((policy, count)) => {
                let mut m = Dict::new();
                m.set("Name", Val::str(policy, &restart.span));
                m.set("MaximumRetryCount", Val::new(V::Int(count), restart.span.clone()));
                Val::map(m, &restart.span)
            }
        };
        d.set("restart", v);
    }
    let mut secrets = Vec::new();
    if let Some(list) = d.get("secrets").cloned() {
        for item in to_list(Some(&list)) {
            secrets.push((secret_dict(&item), item.span.clone()));
        }
    }
    if let Some(build) = d.get("build").cloned() {
        let mut b = Dict::new();
        match &build.v {
            V::Str(s) => b.set("context", Val::str(s.clone(), &build.span)),
            V::Map(m) => {
                b = m.clone();
                if b.contains("args") {
                    let args = parse_build_arguments(b.get("args"), &what)?;
                    let mut resolved = Dict::new();
                    for (k, s, v) in args.iter_spans() {
                        let value = if v.is_null() {
                            match loader.env.get(k) {
                                Some(Some(x)) => Val::str(x, &v.span),
                                _ => v.clone(),
                            }
                        } else {
                            v.clone()
                        };
                        resolved.insert(k.clone(), s.clone(), value);
                    }
                    let span = b.get("args").map_or_else(|| build.span.clone(), |v| v.span.clone());
                    b.set("args", Val::map(build_string_dict(&resolved), &span));
                }
            }
            _ => {}
        }
        d.set("build", Val::map(b, &build.span));
    }
    // normalize_v1_service_format
    if d.contains("log_driver") || d.contains("log_opt") {
        let mut logging = d.get("logging").and_then(Val::as_map).cloned().unwrap_or_default();
        if let Some(driver) = d.remove("log_driver") {
            logging.set("driver", driver);
        }
        if let Some(opt) = d.remove("log_opt") {
            logging.set("options", opt);
        }
        d.set("logging", Val::map(logging, span));
    }
    if let Some(dockerfile) = d.remove("dockerfile") {
        let mut b = d.get("build").and_then(Val::as_map).cloned().unwrap_or_default();
        b.set("dockerfile", dockerfile);
        d.set("build", Val::map(b, span));
    }
    Ok(Finalized {
        name: name.to_string(),
        span: span.clone(),
        dict: d,
        volumes_from,
        secrets,
    })
}

fn mount_spec(m: &Dict, span: &Span, what: &str) -> Result<MountSpec, Error> {
    let text = |k: &str| m.get(k).filter(|v| !v.is_null()).map(Val::py_str);
    let kind = text("type").unwrap_or_default();
    let mut source = text("source");
    if source.as_deref().is_some_and(|s| !s.is_empty()) {
        if kind == "tmpfs" {
            return Err(fail(span, what, "tmpfs mounts can not specify a source"));
        }
        source = source.map(|s| py::normpath(&s));
    }
    let read_only = m
        .get("read_only")
        .and_then(|v| if let V::Bool(b) = v.v { Some(b) } else { None });
    let options = m.get(&kind).map(Val::to_json);
    Ok(MountSpec {
        kind,
        source,
        target: text("target"),
        read_only,
        consistency: text("consistency"),
        options,
    })
}

/// `resolve_environment`: `env_file`s in order, then `environment`, then unset values taken
/// from the environment docker-compose runs in.
fn resolve_environment(loader: &Loader, d: &Dict, what: &str) -> Result<Dict, Error> {
    let mut env = Dict::new();
    for file in to_list(d.get("env_file")) {
        let path = file.py_str();
        let values = read_env_file(std::path::Path::new(&path), loader.process_env).map_err(|e| match e {
            EnvFileError::NotFound => fail(&file.span, what, format!("couldn't find env file: {path}")),
            EnvFileError::NotAFile => fail(&file.span, what, format!("{path} is not a file")),
            EnvFileError::Unreadable(e) => fail(&file.span, what, format!("cannot read env file {path}: {e}")),
        })?;
        for (k, v) in values {
            let value = v.map_or_else(|| Val::null(&file.span), |v| Val::str(v, &file.span));
            env.insert(k, file.span.clone(), value);
        }
    }
    env.update(parse_environment(d.get("environment"), what)?);
    let mut out = Dict::new();
    for (k, s, v) in env.iter_spans() {
        let value = if v.is_null() {
            match loader.env.get(k) {
                Some(Some(x)) => Val::str(x, &v.span),
                _ => Val::null(&v.span),
            }
        } else {
            v.clone()
        };
        out.insert(k.clone(), s.clone(), value);
    }
    Ok(out)
}

/// The services a finalized service needs started first, with where each is named.
pub fn dependencies(s: &Finalized) -> Vec<(String, Span)> {
    let mut deps = Vec::new();
    for link in to_list(s.dict.get("links")) {
        let text = link.py_str();
        deps.push((text.split(':').next().unwrap_or("").to_string(), link.span.clone()));
    }
    for (vf, span) in s.volumes_from.iter().filter(|(vf, _)| vf.kind == "service") {
        deps.push((vf.source.clone(), span.clone()));
    }
    for key in ["network_mode", "pid", "ipc"] {
        if let Some(v) = s.dict.get(key)
            && let Some(dep) = v.py_str().strip_prefix("service:")
        {
            deps.push((dep.to_string(), v.span.clone()));
        }
    }
    if let Some(d) = s.dict.get("depends_on").and_then(Val::as_map) {
        for (k, span, _) in d.iter_spans() {
            deps.push((k.clone(), span.clone()));
        }
    }
    deps
}

/// Helpers for version 2+ mappings (networks, volumes, secrets, configs): `load_mapping`.
pub fn load_mapping(
    loader: &Loader,
    files: &[Rc<LoadedFile>],
    kind: &str,
    working_dir: &str,
) -> Result<indexmap::IndexMap<String, (Span, Dict)>, Error> {
    let mut out: indexmap::IndexMap<String, (Span, Dict)> = indexmap::IndexMap::new();
    for file in files {
        let section = match kind {
            "network" => &file.networks,
            "volume" => &file.volumes,
            "secret" => &file.secrets,
            _ => &file.configs,
        };
        for (name, key_span, v) in section.iter_spans() {
            let mut config = v.as_map().cloned().unwrap_or_default();
            let what = format!("{kind} `{name}`");
            if let Some(external) = config.get("external").cloned().filter(Val::truthy) {
                let allowed = |k: &str| k == "external" || k == "name" || (kind == "network" && k == "driver");
                let extra: Vec<&String> = config.keys().filter(|k| !allowed(k)).collect();
                if !extra.is_empty() {
                    let list = config
                        .keys()
                        .filter(|k| *k != "external")
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(fail(
                        &v.span,
                        &what,
                        format!("declared as external but specifies additional attributes ({list})"),
                    ));
                }
                if let Some(m) = external.as_map() {
                    let name_val = m.get("name").cloned().unwrap_or_else(|| Val::null(&external.span));
                    config.set("name", name_val);
                } else if !config.get("name").is_some_and(Val::truthy) {
                    config.set("name", Val::str(name.clone(), key_span));
                }
            }
            if config.contains("labels") {
                let labels = parse_labels(config.get("labels"), &what)?;
                config.set("labels", Val::map(labels, &v.span));
            }
            if let Some(f) = config.get("file").cloned() {
                config.set("file", Val::str(loader.expand_path(working_dir, &f.py_str()), &f.span));
            }
            if let Some(opts) = config.get("driver_opts").and_then(Val::as_map).cloned() {
                let mut opts = build_string_dict(&opts);
                let driver = config.get("driver").map_or_else(|| "local".to_string(), Val::py_str);
                if kind == "volume"
                    && driver == "local"
                    && opts.get("o").map(Val::py_str).as_deref() == Some("bind")
                    && let Some(device) = opts.get("device").cloned().filter(Val::truthy)
                {
                    let full = py::abspath(&py::expanduser(&device.py_str(), loader.home()), &loader.cwd);
                    opts.set("device", Val::str(full, &device.span));
                }
                config.set("driver_opts", Val::map(opts, &v.span));
            }
            match out.get_mut(name) {
                Some(slot) => *slot = (key_span.clone(), config),
                None => {
                    out.insert(name.clone(), (key_span.clone(), config));
                }
            }
        }
    }
    Ok(out)
}

/// The merge of the same service from several files (`merge_service_dicts_from_files`).
pub fn merge_from_files(base: &Dict, over: &Dict, v1: bool, span: &Span, what: &str) -> Result<Dict, Error> {
    let mut merged = merge_service_dicts(base, over, v1, span, what)?;
    if let Some(e) = over.get("extends").or_else(|| base.get("extends")) {
        merged.set("extends", e.clone());
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_mappings() {
        assert_eq!(
            split_path_mapping("./data:/data:ro"),
            ("/data".into(), Some(("./data".into(), Some("ro".into()))))
        );
        assert_eq!(split_path_mapping("/cache"), ("/cache".into(), None));
        assert_eq!(
            split_path_mapping("c:\\x:/data"),
            ("/data".into(), Some(("c:\\x".into(), None)))
        );
        assert_eq!(splitdrive("db:/data"), ("", "db:/data"));
    }
}
