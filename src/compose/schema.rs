//! The shape of a Compose file, as docker-compose 1.29's JSON schemas (`compose_spec.json` for
//! version 2 and 3 files, `config_schema_v1.json` for version 1) describe it, and the check of a
//! file against it. Errors name the service (or network, volume) and the key, and point at it.

use std::sync::LazyLock;

use regex::Regex;

use super::types::split_port;
use super::value::{V, Val};
use crate::error::{Error, suggest};

/// A JSON-schema type, reduced to what the Compose schemas use.
pub enum T {
    Str,
    Int,
    /// An integer or a float.
    Num,
    Bool,
    Null,
    Enum(&'static [&'static str]),
    IntRange(i64, i64),
    /// Any of the types; the text says what was expected.
    Union(&'static [T], &'static str),
    /// A list of items; `true` when items must be unique.
    List(&'static T, bool),
    /// A mapping with these keys only (and `x-` extensions when `x` is set), some required.
    Obj {
        props: &'static [(&'static str, T)],
        required: &'static [&'static str],
        x: bool,
    },
    /// Any mapping.
    Open,
    /// A mapping with any non-empty keys and values of one type.
    Dict(&'static T),
    /// A mapping whose keys match a pattern (other keys rejected when `closed`).
    Named(&'static str, &'static T, bool),
    /// A port mapping (`[[ip:]published:]target[/proto]`), a string or a number.
    Ports,
    /// An exposed port (`PORT[-PORT][/PROTOCOL]`), a string or a number.
    Expose,
}

const fn obj(props: &'static [(&'static str, T)]) -> T {
    T::Obj {
        props,
        required: &[],
        x: true,
    }
}

const STR_OR_NUM: T = T::Union(&[T::Str, T::Num], "a string or a number");
const LIST_OF_STRINGS: T = T::List(&T::Str, true);
const STRING_OR_LIST: T = T::Union(&[T::Str, LIST_OF_STRINGS], "a string or a list of strings");
const LIST_OR_DICT: T = T::Union(
    &[
        T::Dict(&T::Union(&[T::Str, T::Num, T::Null], "a string, a number or null")),
        T::List(&T::Str, true),
    ],
    "a list of strings or a mapping",
);
const COMMAND: T = T::Union(&[T::Str, T::List(&T::Str, false)], "a string or a list of strings");
const BLKIO_LIMIT: T = T::Obj {
    props: &[
        ("path", T::Str),
        ("rate", T::Union(&[T::Int, T::Str], "an integer or a string")),
    ],
    required: &[],
    x: false,
};
const BLKIO_WEIGHT: T = T::Obj {
    props: &[("path", T::Str), ("weight", T::Int)],
    required: &[],
    x: false,
};
const EXTENDS: T = T::Union(
    &[
        T::Str,
        T::Obj {
            props: &[("service", T::Str), ("file", T::Str)],
            required: &["service"],
            x: false,
        },
    ],
    "a service name or a mapping with `service` (and `file`)",
);
const ULIMITS: T = T::Named(
    "^[a-z]+$",
    &T::Union(
        &[
            T::Int,
            T::Obj {
                props: &[("hard", T::Int), ("soft", T::Int)],
                required: &["soft", "hard"],
                x: true,
            },
        ],
        "an integer or a mapping with `soft` and `hard`",
    ),
    false,
);
const UPDATE_CONFIG: T = obj(&[
    ("parallelism", T::Int),
    ("delay", T::Str),
    ("failure_action", T::Str),
    ("monitor", T::Str),
    ("max_failure_ratio", T::Num),
    ("order", T::Enum(&["start-first", "stop-first"])),
]);
const DEPLOY: T = obj(&[
    ("mode", T::Str),
    ("endpoint_mode", T::Str),
    ("replicas", T::Int),
    ("labels", LIST_OR_DICT),
    ("rollback_config", UPDATE_CONFIG),
    ("update_config", UPDATE_CONFIG),
    (
        "resources",
        obj(&[
            ("limits", obj(&[("cpus", STR_OR_NUM), ("memory", T::Str)])),
            (
                "reservations",
                obj(&[
                    ("cpus", STR_OR_NUM),
                    ("memory", T::Str),
                    (
                        "generic_resources",
                        T::List(
                            &obj(&[("discrete_resource_spec", obj(&[("kind", T::Str), ("value", T::Num)]))]),
                            false,
                        ),
                    ),
                    (
                        "devices",
                        T::List(
                            &obj(&[
                                ("capabilities", LIST_OF_STRINGS),
                                ("count", T::Union(&[T::Str, T::Int], "a string or an integer")),
                                ("device_ids", LIST_OF_STRINGS),
                                ("driver", T::Str),
                                ("options", LIST_OR_DICT),
                            ]),
                            false,
                        ),
                    ),
                ]),
            ),
        ]),
    ),
    (
        "restart_policy",
        obj(&[
            ("condition", T::Str),
            ("delay", T::Str),
            ("max_attempts", T::Int),
            ("window", T::Str),
        ]),
    ),
    (
        "placement",
        obj(&[
            ("constraints", T::List(&T::Str, false)),
            ("preferences", T::List(&obj(&[("spread", T::Str)]), false)),
            ("max_replicas_per_node", T::Int),
        ]),
    ),
]);
const SECRET_REF: T = T::Union(
    &[
        T::Str,
        obj(&[
            ("source", T::Str),
            ("target", T::Str),
            ("uid", T::Str),
            ("gid", T::Str),
            ("mode", T::Num),
        ]),
    ],
    "a name or a mapping",
);
const SERVICE_NETWORK: T = T::Union(
    &[
        obj(&[
            ("aliases", LIST_OF_STRINGS),
            ("ipv4_address", T::Str),
            ("ipv6_address", T::Str),
            ("link_local_ips", LIST_OF_STRINGS),
            ("priority", T::Num),
        ]),
        T::Null,
    ],
    "a mapping or null",
);
const LONG_PORT: T = obj(&[
    ("mode", T::Str),
    ("target", T::Int),
    ("published", T::Int),
    ("protocol", T::Str),
]);
const LONG_VOLUME: T = T::Obj {
    props: &[
        ("type", T::Str),
        ("source", T::Str),
        ("target", T::Str),
        ("read_only", T::Bool),
        ("consistency", T::Str),
        ("bind", obj(&[("propagation", T::Str)])),
        ("volume", obj(&[("nocopy", T::Bool)])),
        ("tmpfs", obj(&[("size", T::IntRange(0, i64::MAX))])),
    ],
    required: &["type"],
    x: true,
};

/// The keys of a version 2/3 service (`compose_spec.json`).
pub const SERVICE: &[(&str, T)] = &[
    (
        "blkio_config",
        T::Obj {
            props: &[
                ("device_read_bps", T::List(&BLKIO_LIMIT, false)),
                ("device_read_iops", T::List(&BLKIO_LIMIT, false)),
                ("device_write_bps", T::List(&BLKIO_LIMIT, false)),
                ("device_write_iops", T::List(&BLKIO_LIMIT, false)),
                ("weight", T::Int),
                ("weight_device", T::List(&BLKIO_WEIGHT, false)),
            ],
            required: &[],
            x: false,
        },
    ),
    (
        "build",
        T::Union(
            &[
                T::Str,
                obj(&[
                    ("context", T::Str),
                    ("dockerfile", T::Str),
                    ("args", LIST_OR_DICT),
                    ("labels", LIST_OR_DICT),
                    ("cache_from", T::List(&T::Str, false)),
                    ("network", T::Str),
                    ("target", T::Str),
                    ("shm_size", T::Union(&[T::Int, T::Str], "an integer or a string")),
                    ("extra_hosts", LIST_OR_DICT),
                    ("isolation", T::Str),
                ]),
            ],
            "a path or a mapping",
        ),
    ),
    ("cap_add", T::List(&T::Str, true)),
    ("cap_drop", T::List(&T::Str, true)),
    ("cgroup_parent", T::Str),
    ("command", COMMAND),
    ("configs", T::List(&SECRET_REF, false)),
    ("container_name", T::Str),
    ("cpu_count", T::IntRange(0, i64::MAX)),
    ("cpu_percent", T::IntRange(0, 100)),
    ("cpu_period", STR_OR_NUM),
    ("cpu_quota", STR_OR_NUM),
    ("cpu_rt_period", STR_OR_NUM),
    ("cpu_rt_runtime", STR_OR_NUM),
    ("cpu_shares", STR_OR_NUM),
    ("cpus", STR_OR_NUM),
    ("cpuset", T::Str),
    (
        "credential_spec",
        obj(&[("config", T::Str), ("file", T::Str), ("registry", T::Str)]),
    ),
    (
        "depends_on",
        T::Union(
            &[
                LIST_OF_STRINGS,
                T::Named(
                    "^[a-zA-Z0-9._-]+$",
                    &T::Obj {
                        props: &[(
                            "condition",
                            T::Enum(&["service_started", "service_healthy", "service_completed_successfully"]),
                        )],
                        required: &["condition"],
                        x: false,
                    },
                    true,
                ),
            ],
            "a list of service names or a mapping",
        ),
    ),
    ("deploy", T::Union(&[DEPLOY, T::Null], "a mapping")),
    ("device_cgroup_rules", LIST_OF_STRINGS),
    ("devices", T::List(&T::Str, true)),
    ("dns", STRING_OR_LIST),
    ("dns_opt", T::List(&T::Str, true)),
    ("dns_search", STRING_OR_LIST),
    ("domainname", T::Str),
    ("entrypoint", COMMAND),
    ("env_file", STRING_OR_LIST),
    ("environment", LIST_OR_DICT),
    ("expose", T::List(&T::Expose, true)),
    ("extends", EXTENDS),
    ("external_links", T::List(&T::Str, true)),
    ("extra_hosts", LIST_OR_DICT),
    ("group_add", T::List(&STR_OR_NUM, true)),
    (
        "healthcheck",
        obj(&[
            ("disable", T::Bool),
            ("interval", T::Str),
            ("retries", T::Num),
            ("test", COMMAND),
            ("timeout", T::Str),
            ("start_period", T::Str),
        ]),
    ),
    ("hostname", T::Str),
    ("image", T::Str),
    ("init", T::Bool),
    ("ipc", T::Str),
    ("isolation", T::Str),
    ("labels", LIST_OR_DICT),
    ("links", T::List(&T::Str, true)),
    (
        "logging",
        obj(&[
            ("driver", T::Str),
            (
                "options",
                T::Dict(&T::Union(&[T::Str, T::Num, T::Null], "a string or a number")),
            ),
        ]),
    ),
    ("mac_address", T::Str),
    ("mem_limit", STR_OR_NUM),
    ("mem_reservation", T::Union(&[T::Str, T::Int], "a string or an integer")),
    ("mem_swappiness", T::Int),
    ("memswap_limit", STR_OR_NUM),
    ("network_mode", T::Str),
    (
        "networks",
        T::Union(
            &[LIST_OF_STRINGS, T::Named("^[a-zA-Z0-9._-]+$", &SERVICE_NETWORK, true)],
            "a list of network names or a mapping",
        ),
    ),
    ("oom_kill_disable", T::Bool),
    ("oom_score_adj", T::IntRange(-1000, 1000)),
    ("pid", T::Union(&[T::Str, T::Null], "a string")),
    ("pids_limit", STR_OR_NUM),
    ("platform", T::Str),
    (
        "ports",
        T::List(&T::Union(&[T::Ports, LONG_PORT], "a port or a mapping"), true),
    ),
    ("privileged", T::Bool),
    ("profiles", LIST_OF_STRINGS),
    ("pull_policy", T::Enum(&["always", "never", "if_not_present", "build"])),
    ("read_only", T::Bool),
    ("restart", T::Str),
    ("runtime", T::Str),
    ("scale", T::Int),
    ("secrets", T::List(&SECRET_REF, false)),
    ("security_opt", T::List(&T::Str, true)),
    ("shm_size", STR_OR_NUM),
    ("stdin_open", T::Bool),
    ("stop_grace_period", T::Str),
    ("stop_signal", T::Str),
    ("storage_opt", T::Open),
    ("sysctls", LIST_OR_DICT),
    ("tmpfs", STRING_OR_LIST),
    ("tty", T::Bool),
    ("ulimits", ULIMITS),
    ("user", T::Str),
    ("userns_mode", T::Str),
    (
        "volumes",
        T::List(&T::Union(&[T::Str, LONG_VOLUME], "a string or a mapping"), true),
    ),
    ("volumes_from", T::List(&T::Str, true)),
    ("working_dir", T::Str),
];

/// The keys of a version 1 service (`config_schema_v1.json`).
pub const SERVICE_V1: &[(&str, T)] = &[
    ("build", T::Str),
    ("cap_add", T::List(&T::Str, true)),
    ("cap_drop", T::List(&T::Str, true)),
    ("cgroup_parent", T::Str),
    ("command", COMMAND),
    ("container_name", T::Str),
    ("cpu_shares", STR_OR_NUM),
    ("cpu_quota", STR_OR_NUM),
    ("cpuset", T::Str),
    ("devices", T::List(&T::Str, true)),
    ("dns", STRING_OR_LIST),
    ("dns_search", STRING_OR_LIST),
    ("dockerfile", T::Str),
    ("domainname", T::Str),
    ("entrypoint", COMMAND),
    ("env_file", STRING_OR_LIST),
    ("environment", LIST_OR_DICT),
    ("expose", T::List(&T::Expose, true)),
    ("extends", EXTENDS),
    ("external_links", T::List(&T::Str, true)),
    ("extra_hosts", LIST_OR_DICT),
    ("hostname", T::Str),
    ("image", T::Str),
    ("ipc", T::Str),
    (
        "labels",
        T::Union(
            &[T::Dict(&T::Str), T::List(&T::Str, true)],
            "a list of strings or a mapping of strings",
        ),
    ),
    ("links", T::List(&T::Str, true)),
    ("log_driver", T::Str),
    ("log_opt", T::Open),
    ("mac_address", T::Str),
    ("mem_limit", STR_OR_NUM),
    ("mem_swappiness", T::Int),
    ("memswap_limit", STR_OR_NUM),
    ("net", T::Str),
    ("pid", T::Union(&[T::Str, T::Null], "a string")),
    ("ports", T::List(&T::Ports, true)),
    ("privileged", T::Bool),
    ("read_only", T::Bool),
    ("restart", T::Str),
    ("security_opt", T::List(&T::Str, true)),
    ("shm_size", STR_OR_NUM),
    ("stdin_open", T::Bool),
    ("stop_signal", T::Str),
    ("tty", T::Bool),
    ("ulimits", ULIMITS),
    ("user", T::Str),
    ("volume_driver", T::Str),
    ("volumes", T::List(&T::Str, true)),
    ("volumes_from", T::List(&T::Str, true)),
    ("working_dir", T::Str),
];

const EXTERNAL: T = T::Union(
    &[T::Bool, obj(&[("name", T::Str)])],
    "a boolean or a mapping with `name`",
);

/// A top-level network.
pub const NETWORK: T = T::Union(
    &[
        obj(&[
            ("name", T::Str),
            ("driver", T::Str),
            ("driver_opts", T::Dict(&STR_OR_NUM)),
            (
                "ipam",
                obj(&[
                    ("driver", T::Str),
                    (
                        "config",
                        T::List(
                            &obj(&[
                                ("subnet", T::Str),
                                ("ip_range", T::Str),
                                ("gateway", T::Str),
                                ("aux_addresses", T::Dict(&T::Str)),
                            ]),
                            false,
                        ),
                    ),
                    ("options", T::Dict(&T::Str)),
                ]),
            ),
            ("external", EXTERNAL),
            ("internal", T::Bool),
            ("enable_ipv6", T::Bool),
            ("attachable", T::Bool),
            ("labels", LIST_OR_DICT),
        ]),
        T::Null,
    ],
    "a mapping",
);

/// A top-level volume.
pub const VOLUME: T = T::Union(
    &[
        obj(&[
            ("name", T::Str),
            ("driver", T::Str),
            ("driver_opts", T::Dict(&STR_OR_NUM)),
            ("external", EXTERNAL),
            ("labels", LIST_OR_DICT),
        ]),
        T::Null,
    ],
    "a mapping",
);

/// A top-level secret.
pub const SECRET: T = obj(&[
    ("name", T::Str),
    ("file", T::Str),
    ("external", T::Union(&[T::Bool, T::Open], "a boolean or a mapping")),
    ("labels", LIST_OR_DICT),
    ("driver", T::Str),
    ("driver_opts", T::Dict(&STR_OR_NUM)),
    ("template_driver", T::Str),
]);

/// A top-level config.
pub const CONFIG: T = obj(&[
    ("name", T::Str),
    ("file", T::Str),
    ("external", T::Union(&[T::Bool, T::Open], "a boolean or a mapping")),
    ("labels", LIST_OR_DICT),
    ("template_driver", T::Str),
]);

/// docker-compose's hints for common misspellings of service keys.
const HINTS: &[(&str, &str)] = &[
    ("cpu_share", "cpu_shares"),
    ("add_host", "extra_hosts"),
    ("hosts", "extra_hosts"),
    ("extra_host", "extra_hosts"),
    ("device", "devices"),
    ("link", "links"),
    ("memory_swap", "memswap_limit"),
    ("port", "ports"),
    ("privilege", "privileged"),
    ("priviliged", "privileged"),
    ("privilige", "privileged"),
    ("volume", "volumes"),
    ("workdir", "working_dir"),
];

static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new("^[a-zA-Z0-9._-]+$").expect("pattern"));
static EXPOSE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d+(\-\d+)?(\/[a-zA-Z]+)?$").expect("pattern"));

/// Whether a service, network or volume name is one the schema accepts.
pub fn valid_name(name: &str) -> bool {
    NAME.is_match(name)
}

/// Checks a value against a type; `what` names the owner (`service `app``) and `path` the key.
pub fn check(val: &Val, t: &T, what: &str, path: &str) -> Result<(), Error> {
    let mismatch = |expected: &str| {
        let err = Error::invalid(
            val.span.clone(),
            format!("{what}: `{path}` must be {expected}, not {}", val.kind()),
        );
        match (&val.v, expected.contains("string")) {
            (V::Bool(_) | V::Int(_) | V::Float(_), true) => {
                let written = super::value::written_word(&val.span).unwrap_or_else(|| val.py_str());
                let key = path.rsplit('.').next().unwrap_or(path);
                let kind = if matches!(val.v, V::Bool(_)) {
                    "a boolean"
                } else {
                    "a number"
                };
                if key.ends_with(']') {
                    err.with_help(format!("YAML reads `{written}` as {kind}; quote it: \"{written}\""))
                } else {
                    err.with_help(format!(
                        "YAML reads `{written}` as {kind}; quote it: {key}: \"{written}\""
                    ))
                }
            }
            _ => err,
        }
    };
    match (t, &val.v) {
        (T::Str, V::Str(_)) | (T::Int, V::Int(_)) | (T::Bool, V::Bool(_)) | (T::Null, V::Null) => Ok(()),
        (T::Num, V::Int(_) | V::Float(_)) => Ok(()),
        (T::Str, _) => Err(mismatch("a string")),
        (T::Int, _) => Err(mismatch("an integer")),
        (T::Num, _) => Err(mismatch("a number")),
        (T::Bool, _) => Err(mismatch("a boolean (true or false)")),
        (T::Null, _) => Err(mismatch("null")),
        (T::Enum(options), V::Str(s)) => {
            if options.contains(&s.as_str()) {
                Ok(())
            } else {
                let list = options.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ");
                Err(Error::invalid(
                    val.span.clone(),
                    format!("{what}: `{path}` must be one of {list}, not `{s}`"),
                ))
            }
        }
        (T::Enum(_), _) => Err(mismatch("a string")),
        (T::IntRange(lo, hi), V::Int(i)) => {
            if i < lo || i > hi {
                let range = if *hi == i64::MAX {
                    format!("at least {lo}")
                } else {
                    format!("between {lo} and {hi}")
                };
                Err(Error::invalid(
                    val.span.clone(),
                    format!("{what}: `{path}` must be {range}, not {i}"),
                ))
            } else {
                Ok(())
            }
        }
        (T::IntRange(..), _) => Err(mismatch("an integer")),
        (T::Union(options, expected), _) => {
            if options.iter().any(|o| check(val, o, what, path).is_ok()) {
                return Ok(());
            }
            // Report the problem inside the alternative of the same shape, if there is one.
            match options.iter().find(|o| same_shape(val, o)) {
                Some(o) => check(val, o, what, path),
                None => Err(mismatch(expected)),
            }
        }
        (T::List(item, unique), V::List(items)) => {
            for (i, it) in items.iter().enumerate() {
                check(it, item, what, &format!("{path}[{i}]"))?;
            }
            if *unique {
                let seen: Vec<serde_json::Value> = items.iter().map(Val::to_json).collect();
                for (i, it) in items.iter().enumerate() {
                    if seen[..i].contains(&seen[i]) {
                        return Err(Error::invalid(
                            it.span.clone(),
                            format!("{what}: `{path}` lists `{}` twice", super::py::str_of(&seen[i])),
                        )
                        .with_help("remove the duplicate"));
                    }
                }
            }
            Ok(())
        }
        (T::List(..), _) => Err(mismatch("a list")),
        (T::Obj { props, required, x }, V::Map(d)) => {
            for (key, key_span, v) in d.iter_spans() {
                match props.iter().find(|(k, _)| k == key) {
                    Some((_, t)) => check(v, t, what, &join(path, key))?,
                    None if *x && key.starts_with("x-") => {}
                    None => {
                        let context = if path.is_empty() {
                            what.to_string()
                        } else {
                            format!("`{path}` of {what}")
                        };
                        return Err(unknown_key(
                            key,
                            key_span.clone(),
                            context,
                            props.iter().map(|(k, _)| *k),
                        ));
                    }
                }
            }
            for key in *required {
                if !d.contains(key) {
                    return Err(Error::invalid(
                        val.span.clone(),
                        format!("{what}: `{path}` needs `{key}`"),
                    ));
                }
            }
            Ok(())
        }
        (T::Open, V::Map(_)) => Ok(()),
        (T::Obj { .. } | T::Open, _) => Err(mismatch("a mapping")),
        (T::Dict(inner), V::Map(d)) => {
            for (key, key_span, v) in d.iter_spans() {
                if key.is_empty() {
                    return Err(Error::invalid(
                        key_span.clone(),
                        format!("{what}: `{path}` has an empty key"),
                    ));
                }
                check(v, inner, what, &join(path, key))?;
            }
            Ok(())
        }
        (T::Named(pattern, inner, closed), V::Map(d)) => {
            let re = Regex::new(pattern).map_err(|e| Error::invalid(val.span.clone(), e.to_string()))?;
            for (key, key_span, v) in d.iter_spans() {
                if re.is_match(key) {
                    check(v, inner, what, &join(path, key))?;
                } else if *closed {
                    return Err(Error::invalid(
                        key_span.clone(),
                        format!("{what}: `{path}` has an invalid name `{key}`"),
                    )
                    .with_help("names may use only letters, digits, `.`, `_` and `-`"));
                }
            }
            Ok(())
        }
        (T::Dict(_) | T::Named(..), _) => Err(mismatch("a mapping")),
        (T::Ports, V::Str(_) | V::Int(_) | V::Float(_)) => {
            let text = val.py_str();
            split_port(&text)
                .map(|_| ())
                .map_err(|e| Error::invalid(val.span.clone(), format!("{what}: `{path}`: {e}")))
        }
        (T::Ports, _) => Err(mismatch("a string or a number")),
        (T::Expose, V::Str(s)) => {
            if EXPOSE.is_match(s) {
                Ok(())
            } else {
                Err(Error::invalid(
                    val.span.clone(),
                    format!("{what}: `{path}` \"{s}\" should be of the format 'PORT[/PROTOCOL]'"),
                ))
            }
        }
        (T::Expose, V::Int(_) | V::Float(_)) => Ok(()),
        (T::Expose, _) => Err(mismatch("a string or a number")),
    }
}

fn same_shape(val: &Val, t: &T) -> bool {
    match (t, &val.v) {
        (T::List(..), V::List(_)) => true,
        (T::Obj { .. } | T::Open | T::Dict(_) | T::Named(..), V::Map(_)) => true,
        (T::Union(options, _), _) => options.iter().any(|o| same_shape(val, o)),
        (T::Ports, V::Str(_) | V::Int(_) | V::Float(_)) => true,
        (T::Expose, V::Str(_)) => true,
        (T::Enum(_), V::Str(_)) | (T::IntRange(..), V::Int(_)) => true,
        _ => false,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// An unknown-key error with docker-compose's hint or the closest known key.
pub fn unknown_key<'a>(
    key: &str,
    span: crate::source::Span,
    context: String,
    known: impl IntoIterator<Item = &'a str>,
) -> Error {
    let suggestion = HINTS
        .iter()
        .find(|(wrong, _)| *wrong == key)
        .map(|(_, right)| right.to_string())
        .or_else(|| suggest(key, known));
    Error::UnknownKey {
        span,
        key: key.to_string(),
        context,
        suggestion,
    }
}

/// Checks one service mapping: its keys (and their values) against the schema of its version.
pub fn check_service(name: &str, service: &Val, v1: bool) -> Result<(), Error> {
    let what = format!("service `{name}`");
    let Some(d) = service.as_map() else {
        return Err(Error::invalid(
            service.span.clone(),
            format!("{what} must be a mapping, not {}", service.kind()),
        ));
    };
    let props = if v1 { SERVICE_V1 } else { SERVICE };
    for (key, key_span, v) in d.iter_spans() {
        match props.iter().find(|(k, _)| k == key) {
            Some((_, t)) => check(v, t, &what, key)?,
            None if !v1 && key.starts_with("x-") => {}
            None => return Err(unknown_key(key, key_span.clone(), what, props.iter().map(|(k, _)| *k))),
        }
    }
    if v1 && d.contains("memswap_limit") && !d.contains("mem_limit") {
        let span = d
            .key_span("memswap_limit")
            .cloned()
            .unwrap_or_else(|| service.span.clone());
        return Err(Error::invalid(
            span,
            format!("{what}: when defining `memswap_limit` you must set `mem_limit` as well"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn service(text: &str, v1: bool) -> Result<(), Error> {
        let node = crate::yaml::parse_written(&SourceFile::new("c.yml", text)).unwrap();
        let val = super::super::value::from_node(&node);
        check_service("app", &val, v1)
    }

    #[test]
    fn accepts_the_usual_keys() {
        let text = "image: x\nports: ['8080', 80, {target: 80, published: 8080}]\nenvironment: {A: 1, B: null}\n\
                    labels: [a=b]\nhealthcheck: {test: [CMD, 'true'], interval: 10s}\nx-note: anything\n";
        service(text, false).unwrap();
    }

    #[test]
    fn errors_name_service_key_and_position() {
        let err = service("image: x\nprots: ['80']\n", false).unwrap_err();
        assert_eq!(err.to_string(), "c.yml:2:1: unknown key `prots` in service `app`");
        assert!(err.render().contains("help: did you mean `ports`?"), "{}", err.render());
        let err = service("image: x\nworkdir: /app\n", true).unwrap_err();
        assert!(err.render().contains("did you mean `working_dir`?"));
        let err = service("image: x\nports: 8080\n", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yml:2:8: service `app`: `ports` must be a list, not an integer"
        );
        let err = service("image: x\nports: ['8080:80/xyz']\n", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yml:2:9: service `app`: `ports[0]`: Invalid port \"8080:80/xyz\", should be \
             [[remote_ip:]remote_port[-remote_port]:]port[/protocol]"
        );
        let err = service("image: x\nhealthcheck: {intervl: 5s}\n", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yml:2:15: unknown key `intervl` in `healthcheck` of service `app`"
        );
        let err = service("image: x\ninit: 'yes'\n", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yml:2:7: service `app`: `init` must be a boolean (true or false), not a string"
        );
        let err = service("image: x\nrestart: no\n", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yml:2:10: service `app`: `restart` must be a string, not a boolean"
        );
        assert!(
            err.render()
                .contains("help: YAML reads `no` as a boolean; quote it: restart: \"no\""),
            "{}",
            err.render()
        );
        let err = service("image: x\nenvironment: {DEBUG: true}\n", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yml:2:22: service `app`: `environment.DEBUG` must be a string, a number or null, not a boolean"
        );
        let err = service("image: x\nlinks: [db, db]\n", false).unwrap_err();
        assert_eq!(err.to_string(), "c.yml:2:13: service `app`: `links` lists `db` twice");
        let err = service("image: x\nx-note: 1\n", true).unwrap_err();
        assert_eq!(err.to_string(), "c.yml:2:1: unknown key `x-note` in service `app`");
    }
}
