//! The functions a `.ctmpl` template can call: Go's text/template built-ins and consul-template's
//! own, with consul-template's argument order (a piped value is the last argument, so
//! `list | join ","` is `join "," list`). Consul lookups go through the renderer's catalog.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use regex::Regex;

use super::catalog::{Dependency, HealthState, Lookup};
use super::exec::Exec;
use super::gotime;
use super::printf::{sprint, sprintf, sprintln};
use super::value::{MAX_TEXT, RecordKind, Value, from_json, to_json};
use crate::compat::html;

/// A function call that failed: what went wrong and, when there is one, the fix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FnError {
    pub message: String,
    pub help: Option<String>,
}

impl FnError {
    fn new(message: impl Into<String>) -> Self {
        FnError {
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

type FResult = Result<Value, FnError>;

/// What computes a function's value from its arguments.
type Call = fn(&mut Exec<'_>, &Args<'_>) -> FResult;

/// Every function bgrun renders: its name, how it is called, and what computes it.
/// `and` and `or` stop at the first value that decides, so the executor evaluates them itself.
static FUNCTIONS: &[(&str, &str, Call)] = &[
    // Go's text/template built-ins.
    ("and", "and x y ...", short_circuit),
    ("or", "or x y ...", short_circuit),
    ("not", "not x", |_, a| {
        let values = a.values;
        a.exactly(1)?;
        Ok(Value::Bool(!values[0].truth()))
    }),
    ("len", "len x", |_, a| {
        let values = a.values;
        a.exactly(1)?;
        length(&values[0])
    }),
    ("index", "index collection key ...", |_, a| {
        let values = a.values;
        a.at_least(1)?;
        index(&values[0], &values[1..])
    }),
    ("slice", "slice x start end", |_, a| {
        let values = a.values;
        a.between(1, 4)?;
        slice(&values[0], &values[1..])
    }),
    ("print", "print x ...", |_, a| Ok(Value::str(sprint(a.values)))),
    ("printf", "printf \"format\" x ...", |_, a| {
        let values = a.values;
        a.at_least(1)?;
        Ok(Value::str(sprintf(a.str(0)?, &values[1..])))
    }),
    ("println", "println x ...", |_, a| Ok(Value::str(sprintln(a.values)))),
    ("html", "html x", |_, a| {
        Ok(Value::str(html::escape(&text_of(a.values))))
    }),
    ("js", "js x", |_, a| Ok(Value::str(js_escape(&text_of(a.values))))),
    ("urlquery", "urlquery x", |_, a| {
        Ok(Value::str(query_escape(&text_of(a.values))))
    }),
    ("eq", "eq x y ...", |_, a| {
        let values = a.values;
        a.at_least(1)?;
        if values.len() < 2 {
            return Err(FnError::new("`eq` needs something to compare with").help(a.usage_help()));
        }
        for other in &values[1..] {
            if equal(&values[0], other)? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    }),
    ("ne", "ne x y", |_, a| {
        let values = a.values;
        a.exactly(2)?;
        Ok(Value::Bool(!equal(&values[0], &values[1])?))
    }),
    ("lt", "lt x y", compare),
    ("le", "le x y", compare),
    ("gt", "gt x y", compare),
    ("ge", "ge x y", compare),
    // consul-template: Consul.
    (
        "service",
        "service \"[tag.]name[|passing,warning,...]\" [\"passing,warning,...\"]",
        service,
    ),
    ("services", "services", |exec, a| {
        no_datacenter(a)?;
        let lookup = exec.catalog.services();
        Ok(listed(exec, lookup, Value::catalog_service))
    }),
    ("key", "key \"path\"", key_lookup),
    ("keyOrDefault", "keyOrDefault \"path\" \"default\"", key_lookup),
    ("key_or_default", "key_or_default \"path\" \"default\"", key_lookup),
    ("keyExists", "keyExists \"path\"", key_lookup),
    ("key_exists", "key_exists \"path\"", key_lookup),
    ("ls", "ls \"prefix\"", listing),
    ("safeLs", "safeLs \"prefix\"", listing),
    ("tree", "tree \"prefix\"", listing),
    ("safeTree", "safeTree \"prefix\"", listing),
    ("nodes", "nodes", |exec, a| {
        no_datacenter(a)?;
        let lookup = exec.catalog.nodes();
        Ok(listed(exec, lookup, Value::node))
    }),
    // consul-template: helpers.
    ("env", "env \"NAME\"", env_var),
    ("envOrDefault", "envOrDefault \"NAME\" \"default\"", |exec, a| {
        a.exactly(2)?;
        Ok(Value::str(
            exec.ctx
                .env(a.str(0)?)
                .unwrap_or_else(|| a.str(1).unwrap_or_default().to_string()),
        ))
    }),
    ("mustEnv", "mustEnv \"NAME\"", env_var),
    ("byKey", "tree \"prefix\" | byKey", |_, a| {
        a.exactly(1)?;
        by_key(a)
    }),
    ("byTag", "service \"name\" | byTag", |_, a| {
        a.exactly(1)?;
        by_tag(a)
    }),
    ("contains", "list | contains value", |_, a| {
        let values = a.values;
        a.exactly(2)?;
        Ok(Value::Bool(contained(&values[1], &values[0])))
    }),
    ("containsAll", "list | containsAll values", contains_set),
    ("containsAny", "list | containsAny values", contains_set),
    ("containsNone", "list | containsNone values", contains_set),
    ("containsNotAll", "list | containsNotAll values", contains_set),
    ("in", "in list value", |_, a| {
        let values = a.values;
        a.exactly(2)?;
        Ok(Value::Bool(contained(&values[0], &values[1])))
    }),
    ("explode", "tree \"prefix\" | explode", |_, a| {
        a.exactly(1)?;
        let mut root = BTreeMap::new();
        for pair in a.list(0)?.iter() {
            let Value::Record(r) = pair else {
                return Err(a.type_error(0, "a list of key pairs"));
            };
            let key = r
                .field("Key")
                .and_then(Value::as_str)
                .ok_or_else(|| a.type_error(0, "a list of key pairs"))?;
            let value = r.field("Value").cloned().unwrap_or(Value::Missing);
            explode_into(&mut root, key, value, key)?;
        }
        Ok(Value::map(root))
    }),
    ("explodeMap", "map | explodeMap", |_, a| {
        let values = a.values;
        a.exactly(1)?;
        let Value::Map(m) = &values[0] else {
            return Err(a.type_error(0, "a map"));
        };
        let mut root = BTreeMap::new();
        for (key, value) in &m.entries {
            explode_into(&mut root, key, value.clone(), key)?;
        }
        Ok(Value::map(root))
    }),
    ("indent", "text | indent 4", |_, a| {
        a.exactly(2)?;
        indent(a.int(0)?, a.str(1)?)
    }),
    ("join", "list | join \",\"", |_, a| {
        a.exactly(2)?;
        Ok(Value::str(a.strings(1)?.join(a.str(0)?)))
    }),
    ("split", "text | split \",\"", |_, a| {
        a.exactly(2)?;
        let (sep, text) = (a.str(0)?, a.str(1)?.trim());
        if text.is_empty() {
            return Ok(Value::list(Vec::new()));
        }
        if sep.is_empty() {
            return Ok(Value::list(text.chars().map(|c| Value::str(c.to_string())).collect()));
        }
        Ok(Value::strings(text.split(sep)))
    }),
    ("loop", "loop [start] end", |_, a| {
        let values = a.values;
        a.between(1, 2)?;
        let bound = |i: usize| -> Result<i64, FnError> {
            match &values[i] {
                Value::Int(n) => Ok(*n),
                Value::Str(s) => parse_int(s),
                _ => Err(a.type_error(i, "an int")),
            }
        };
        let (start, stop) = if values.len() == 1 {
            (0, bound(0)?)
        } else {
            (bound(0)?, bound(1)?)
        };
        if stop.saturating_sub(start) > 1_000_000 {
            return Err(FnError::new(format!(
                "`loop` from {start} to {stop} is more than bgrun counts"
            )));
        }
        Ok(Value::list((start..stop).map(Value::Int).collect()))
    }),
    ("parseBool", "text | parseBool", |_, a| {
        a.exactly(1)?;
        let s = a.str(0)?;
        Ok(Value::Bool(match s {
            "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            _ => {
                return Err(FnError::new(format!(
                    "parseBool: strconv.ParseBool: parsing {s:?}: invalid syntax"
                )));
            }
        }))
    }),
    ("parseFloat", "text | parseFloat", |_, a| {
        a.exactly(1)?;
        let s = a.str(0)?;
        if s.is_empty() {
            return Ok(Value::Float(0.0));
        }
        let cleaned = s.replace('_', "");
        cleaned
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| FnError::new(format!("parseFloat: strconv.ParseFloat: parsing {s:?}: invalid syntax")))
    }),
    ("parseInt", "text | parseInt", |_, a| {
        a.exactly(1)?;
        parse_int(a.str(0)?).map(Value::Int)
    }),
    ("parseUint", "text | parseUint", |_, a| {
        a.exactly(1)?;
        let s = a.str(0)?;
        if s.is_empty() {
            return Ok(Value::Int(0));
        }
        match s.parse::<u64>() {
            Ok(n) => i64::try_from(n)
                .map(Value::Int)
                .map_err(|_| FnError::new(format!("parseUint: {s} is larger than bgrun's ints"))),
            Err(_) => Err(FnError::new(format!(
                "parseUint: strconv.ParseUint: parsing {s:?}: invalid syntax"
            ))),
        }
    }),
    ("parseJSON", "text | parseJSON", |_, a| {
        a.exactly(1)?;
        let s = a.str(0)?;
        if s.is_empty() {
            return Ok(Value::map(BTreeMap::new()));
        }
        let json: serde_json::Value = serde_json::from_str(s).map_err(|e| FnError::new(format!("parseJSON: {e}")))?;
        from_json(&json, 0).map_err(|e| FnError::new(format!("parseJSON: {e}")))
    }),
    ("toJSON", "value | toJSON", to_json_text),
    ("toJSONPretty", "value | toJSONPretty", to_json_text),
    ("regexMatch", "text | regexMatch \"regexp\"", |exec, a| {
        a.exactly(2)?;
        let re = regex(exec, a.str(0)?)?;
        Ok(Value::Bool(re.is_match(a.str(1)?)))
    }),
    (
        "regexReplaceAll",
        "text | regexReplaceAll \"regexp\" \"replacement\"",
        |exec, a| {
            a.exactly(3)?;
            let re = regex(exec, a.str(0)?)?;
            Ok(Value::str(re.replace_all(a.str(2)?, a.str(1)?).into_owned()))
        },
    ),
    ("replaceAll", "text | replaceAll \"old\" \"new\"", |_, a| {
        a.exactly(3)?;
        let (old, new, text) = (a.str(0)?, a.str(1)?, a.str(2)?);
        let count = if old.is_empty() {
            text.chars().count() + 1
        } else {
            text.matches(old).count()
        };
        if count.saturating_mul(new.len()).saturating_add(text.len()) > MAX_TEXT {
            return Err(FnError::new(format!(
                "`replaceAll` would make a string longer than {} MiB",
                MAX_TEXT >> 20
            )));
        }
        Ok(Value::str(text.replace(old, new)))
    }),
    ("timestamp", "timestamp [\"layout\"]", |exec, a| {
        let values = a.values;
        a.between(0, 1)?;
        let since = exec.ctx.now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
        Ok(Value::str(match values.first() {
            None => gotime::format(gotime::RFC3339, secs, since.subsec_nanos()),
            Some(_) if a.str(0)? == "unix" => secs.to_string(),
            Some(_) => gotime::format(a.str(0)?, secs, since.subsec_nanos()),
        }))
    }),
    ("toLower", "text | toLower", |_, a| {
        a.exactly(1)?;
        Ok(Value::str(map_chars(a.str(0)?, |c| c.to_lowercase())))
    }),
    ("toUpper", "text | toUpper", |_, a| {
        a.exactly(1)?;
        Ok(Value::str(map_chars(a.str(0)?, |c| c.to_uppercase())))
    }),
    ("toTitle", "text | toTitle", |_, a| {
        a.exactly(1)?;
        Ok(Value::str(title(a.str(0)?)))
    }),
    ("trim", "text | trim \"cutset\"", |_, a| {
        a.exactly(2)?;
        let cutset = a.str(0)?;
        Ok(Value::str(a.str(1)?.trim_matches(|c| cutset.contains(c))))
    }),
    ("trimPrefix", "text | trimPrefix \"prefix\"", |_, a| {
        a.exactly(2)?;
        let s = a.str(1)?;
        Ok(Value::str(s.strip_prefix(a.str(0)?).unwrap_or(s)))
    }),
    ("trimSuffix", "text | trimSuffix \"suffix\"", |_, a| {
        a.exactly(2)?;
        let s = a.str(1)?;
        Ok(Value::str(s.strip_suffix(a.str(0)?).unwrap_or(s)))
    }),
    ("trimSpace", "text | trimSpace", |_, a| {
        a.exactly(1)?;
        Ok(Value::str(a.str(0)?.trim()))
    }),
    ("add", "x | add y", two_numbers),
    ("subtract", "x | subtract y", two_numbers),
    ("multiply", "x | multiply y", two_numbers),
    ("divide", "x | divide y", two_numbers),
    ("modulo", "x | modulo y", two_numbers),
];

const VAULT: &str = "it reads Vault, which bgrun does not talk to";
const CONSUL_OTHER: &str = "bgrun reads services, keys and nodes from Consul, not this";
const NOMAD: &str = "it reads Nomad, which bgrun does not talk to";
const LOCAL: &str = "it reaches outside the template (files, commands, network), which bgrun's renderer does not do";
const HELPER: &str = "bgrun does not implement this helper";

/// consul-template functions bgrun recognises but does not render, and why.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("secret", VAULT),
    ("secrets", VAULT),
    ("vault", VAULT),
    ("pkiCert", VAULT),
    ("datacenters", CONSUL_OTHER),
    ("node", CONSUL_OTHER),
    ("connect", CONSUL_OTHER),
    ("caRoots", CONSUL_OTHER),
    ("caLeaf", CONSUL_OTHER),
    ("partitions", CONSUL_OTHER),
    ("peerings", CONSUL_OTHER),
    ("exportedServices", CONSUL_OTHER),
    ("nomadService", NOMAD),
    ("nomadServices", NOMAD),
    ("nomadVar", NOMAD),
    ("nomadVarList", NOMAD),
    ("nomadVarExists", NOMAD),
    ("file", LOCAL),
    ("plugin", LOCAL),
    ("writeToFile", LOCAL),
    ("executeTemplate", HELPER),
    ("sockaddr", LOCAL),
    ("byMeta", HELPER),
    ("byPort", HELPER),
    ("base64Decode", HELPER),
    ("base64Encode", HELPER),
    ("base64URLDecode", HELPER),
    ("base64URLEncode", HELPER),
    ("sha256Hex", HELPER),
    ("md5sum", HELPER),
    ("hmacSHA256Hex", HELPER),
    ("toYAML", HELPER),
    ("toTOML", HELPER),
    ("parseYAML", HELPER),
    ("mergeMap", HELPER),
    ("mergeMapWithOverride", HELPER),
    ("maximum", HELPER),
    ("minimum", HELPER),
    ("splitToMap", HELPER),
    ("toUnescapedJSON", HELPER),
    ("toUnescapedJSONPretty", HELPER),
    ("spew_dump", HELPER),
    ("spew_sdump", HELPER),
    ("spew_printf", HELPER),
    ("spew_sprintf", HELPER),
];

/// confd functions people bring along, with the consul-template way.
const CONFD: &[(&str, &str)] = &[
    ("getv", "`key \"path\"`"),
    ("gets", "`ls \"prefix\"` or `tree \"prefix\"`"),
    ("getvs", "`ls \"prefix\"` or `tree \"prefix\"`"),
    ("exists", "`keyExists \"path\"`"),
];

fn usage(name: &str) -> Option<&'static str> {
    FUNCTIONS.iter().find(|(n, _, _)| *n == name).map(|(_, u, _)| *u)
}

/// Whether a template may call `name`: `Err((message, help))` when it may not.
pub(crate) fn check_name(name: &str) -> Result<(), (String, String)> {
    if usage(name).is_some() {
        return Ok(());
    }
    if let Some((_, reason)) = UNSUPPORTED.iter().find(|(n, _)| *n == name) {
        return Err((
            format!("`{name}` is a consul-template function bgrun does not support"),
            format!("{reason}; remove the call, or render this file with consul-template itself"),
        ));
    }
    if name == "call" {
        return Err((
            "`call` is a Go template function bgrun does not support".into(),
            "consul-template data holds no functions to call".into(),
        ));
    }
    if let Some((_, instead)) = CONFD.iter().find(|(n, _)| *n == name) {
        return Err((
            format!("`{name}` is a confd function, not a consul-template one"),
            format!("consul-template writes {instead}"),
        ));
    }
    let help = match crate::error::suggest(name, FUNCTIONS.iter().map(|(n, _, _)| *n)) {
        Some(close) => format!("did you mean `{close}`?"),
        None => "bgrun knows Go's built-in template functions and consul-template's (`service`, `services`, `key`, \
                 `keyOrDefault`, `keyExists`, `ls`, `tree`, `nodes`, `env` and its helpers)"
            .into(),
    };
    Err((format!("unknown function `{name}`"), help))
}

/// Argument checks in words that name the function.
struct Args<'v> {
    name: &'v str,
    values: &'v [Value],
}

impl<'v> Args<'v> {
    fn usage_help(&self) -> String {
        match usage(self.name) {
            Some(usage) => format!("write `{usage}` (a piped value is the last argument)"),
            None => String::new(),
        }
    }

    fn count_error(&self, want: &str) -> FnError {
        let got = self.values.len();
        FnError::new(format!("`{}` takes {want}, got {got}", self.name)).help(self.usage_help())
    }

    fn exactly(&self, n: usize) -> Result<(), FnError> {
        if self.values.len() == n {
            return Ok(());
        }
        let want = match n {
            0 => "no arguments".to_string(),
            1 => "1 argument".to_string(),
            n => format!("{n} arguments"),
        };
        Err(self.count_error(&want))
    }

    fn between(&self, min: usize, max: usize) -> Result<(), FnError> {
        if (min..=max).contains(&self.values.len()) {
            return Ok(());
        }
        Err(self.count_error(&format!("{min} to {max} arguments")))
    }

    fn at_least(&self, min: usize) -> Result<(), FnError> {
        if self.values.len() >= min {
            return Ok(());
        }
        Err(self.count_error(&format!("at least {min} argument{}", if min == 1 { "" } else { "s" })))
    }

    fn type_error(&self, i: usize, want: &str) -> FnError {
        let value = &self.values[i];
        let got = if value.is_nil() {
            "no value".to_string()
        } else {
            format!("{} `{}`", value.go_type(), value.to_v())
        };
        FnError::new(format!(
            "argument {} of `{}` must be {want}, got {got}",
            i + 1,
            self.name
        ))
        .help(self.usage_help())
    }

    fn str(&self, i: usize) -> Result<&'v str, FnError> {
        match self.values.get(i) {
            Some(Value::Str(s)) => Ok(s),
            Some(_) => Err(self.type_error(i, "a string")),
            None => Err(self.count_error(&format!("at least {} arguments", i + 1))),
        }
    }

    fn int(&self, i: usize) -> Result<i64, FnError> {
        match self.values.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            Some(_) => Err(self.type_error(i, "an int")),
            None => Err(self.count_error(&format!("at least {} arguments", i + 1))),
        }
    }

    /// A list argument; nil counts as an empty list, as a nil Go slice does.
    fn list(&self, i: usize) -> Result<Rc<Vec<Value>>, FnError> {
        match self.values.get(i) {
            Some(Value::List(items)) => Ok(Rc::clone(items)),
            Some(Value::Missing | Value::Nil) => Ok(Rc::new(Vec::new())),
            Some(_) => Err(self.type_error(i, "a list")),
            None => Err(self.count_error(&format!("at least {} arguments", i + 1))),
        }
    }

    fn strings(&self, i: usize) -> Result<Vec<&'v str>, FnError> {
        match self.values.get(i) {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| v.as_str().ok_or_else(|| self.type_error(i, "a list of strings")))
                .collect(),
            Some(Value::Missing | Value::Nil) => Ok(Vec::new()),
            Some(_) => Err(self.type_error(i, "a list of strings")),
            None => Err(self.count_error(&format!("at least {} arguments", i + 1))),
        }
    }

    fn all_strings(&self) -> Result<Vec<&'v str>, FnError> {
        (0..self.values.len()).map(|i| self.str(i)).collect()
    }
}

/// Calls function `name` (checked at parse time) with its evaluated arguments.
pub(crate) fn call(exec: &mut Exec<'_>, name: &str, values: Vec<Value>) -> FResult {
    let Some((_, _, call)) = FUNCTIONS.iter().find(|(n, _, _)| *n == name) else {
        return Err(FnError::new(format!("unknown function `{name}`")));
    };
    call(exec, &Args { name, values: &values })
}

/// `and` and `or`, which never get here: the executor evaluates them as it goes.
fn short_circuit(_exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    Err(FnError::new(format!("unknown function `{}`", a.name)))
}

/// `lt`, `le`, `gt` and `ge`.
fn compare(_exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    let name = a.name;
    let values = a.values;
    a.exactly(2)?;
    let less = less(&values[0], &values[1])?;
    let result = match name {
        "lt" => less,
        "le" => less || equal(&values[0], &values[1])?,
        "gt" => !less && !equal(&values[0], &values[1])?,
        _ => !less,
    };
    Ok(Value::Bool(result))
}

/// `key`, `keyExists` and `keyOrDefault` (and their snake_case spellings).
fn key_lookup(exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    let name = a.name;
    let with_default = name == "keyOrDefault" || name == "key_or_default";
    a.exactly(if with_default { 2 } else { 1 })?;
    let path = a.str(0)?;
    let default = if with_default { a.str(1)? } else { "" };
    let found = if path.is_empty() {
        Some(None)
    } else {
        lookup_key(exec, path)?
    };
    Ok(match name {
        "key" => Value::str(found.flatten().unwrap_or_default()),
        "keyExists" | "key_exists" => Value::Bool(matches!(found, Some(Some(_)))),
        _ => match found.flatten() {
            Some(value) if !value.is_empty() => Value::str(value),
            _ => Value::str(default),
        },
    })
}

/// `ls` and `tree`, and their `safe` forms that wait while the listing is empty.
fn listing(exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    let name = a.name;
    a.exactly(1)?;
    let prefix = a.str(0)?;
    if prefix.is_empty() {
        return Ok(Value::list(Vec::new()));
    }
    check_datacenter(name, prefix)?;
    let recursive = name == "tree" || name == "safeTree";
    let lookup = if recursive {
        exec.catalog.tree(prefix)
    } else {
        exec.catalog.ls(prefix)
    };
    Ok(match lookup {
        Lookup::Ready(pairs) => {
            if pairs.is_empty() && name.starts_with("safe") {
                // consul-template refuses to render while a safe listing is empty.
                let p = prefix.strip_prefix('/').unwrap_or(prefix).to_string();
                exec.need(if recursive {
                    Dependency::Tree(p)
                } else {
                    Dependency::Ls(p)
                });
            }
            Value::list(pairs.iter().map(Value::key_pair).collect())
        }
        Lookup::Missing(dep) => {
            exec.need(dep);
            Value::list(Vec::new())
        }
    })
}

/// `env` and `mustEnv`.
fn env_var(exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    let name = a.name;
    a.exactly(1)?;
    let var = a.str(0)?;
    let value = exec.ctx.env(var).unwrap_or_default();
    if name == "mustEnv" && value.is_empty() {
        return Err(FnError::new(format!("required environment variable {var} is empty")));
    }
    Ok(Value::str(value))
}

/// `containsAll`, `containsAny`, `containsNone` and `containsNotAll`.
fn contains_set(_exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    let name = a.name;
    let values = a.values;
    a.exactly(2)?;
    let (ret_true, invert) = match name {
        "containsAll" => (true, true),
        "containsAny" => (false, false),
        "containsNone" => (true, false),
        _ => (false, true),
    };
    for x in a.list(0)?.iter() {
        if contained(&values[1], x) != invert {
            return Ok(Value::Bool(!ret_true));
        }
    }
    Ok(Value::Bool(ret_true))
}

/// `toJSON` and `toJSONPretty`.
fn to_json_text(_exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    let name = a.name;
    let values = a.values;
    a.exactly(1)?;
    let text = to_json(&values[0], name == "toJSONPretty").map_err(|e| FnError::new(format!("{name}: {e}")))?;
    Ok(Value::str(text))
}

/// `add`, `subtract`, `multiply`, `divide` and `modulo`.
fn two_numbers(_exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    let name = a.name;
    let values = a.values;
    a.exactly(2)?;
    arithmetic(name, &values[1], &values[0])
}

/// consul-template's `service`: `service "name"`, `service "tag.name"`, `service "name|any"`,
/// `service "name" "passing,warning"`; only passing instances unless states are given.
fn service(exec: &mut Exec<'_>, a: &Args<'_>) -> FResult {
    let parts = a.all_strings()?;
    if parts.is_empty() || parts[0].is_empty() {
        return Ok(Value::list(Vec::new()));
    }
    let joined = parts.join("|");
    let bad = || {
        FnError::new(format!("`service` query {joined:?} is not valid"))
            .help("write `service \"name\"`, `service \"tag.name\"`, `service \"name|passing,warning\"` or `service \"name\" \"any\"`")
    };
    let mut pieces = joined.split('|');
    let query = pieces.next().unwrap_or_default();
    let filter = pieces.next();
    if pieces.next().is_some() {
        return Err(bad());
    }
    if let Some((_, rest)) = query.split_once(['@', '~']) {
        let what = if query.contains('@') {
            "a datacenter (`@dc`)"
        } else {
            "nearness (`~node`)"
        };
        return Err(FnError::new(format!(
            "bgrun does not support {what} in `service` queries, as in {joined:?}"
        ))
        .help(format!(
            "query the local datacenter: remove `{}`",
            &query[query.len() - rest.len() - 1..]
        )));
    }
    let (tag, name) = match query.rsplit_once('.') {
        Some((tag, name)) => (Some(tag), name),
        None => (None, query),
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/'));
    let tag_ok = tag.is_none_or(|t| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '=' | ':'))
    });
    if !name_ok || !tag_ok {
        return Err(bad());
    }
    let mut states: Vec<HealthState> = Vec::new();
    let mut any = false;
    let mut words = 0;
    for word in filter
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        words += 1;
        if word == "any" {
            any = true;
            continue;
        }
        match HealthState::parse(word) {
            Some(state) => states.push(state),
            None => {
                return Err(FnError::new(format!("`service` health filter `{word}` is not a state"))
                    .help("use `any`, or a comma-separated list of `passing`, `warning`, `critical`, `maintenance`"));
            }
        }
    }
    if any && words > 1 {
        return Err(
            FnError::new(format!("`service` filter {joined:?} mixes `any` with other states"))
                .help("`any` already includes every state; use it alone"),
        );
    }
    if any {
        states = HealthState::ALL.to_vec();
    } else if states.is_empty() {
        states.push(HealthState::Passing);
    }
    states.sort();
    states.dedup();
    let lookup = exec.catalog.service(name, tag, &states);
    Ok(listed(exec, lookup, Value::service))
}

/// A catalog listing as a list of records; while the catalog does not know it yet, an empty list,
/// and the data is fetched for the next render.
fn listed<T>(exec: &mut Exec<'_>, lookup: Lookup<Vec<T>>, record: impl Fn(&T) -> Value) -> Value {
    match lookup {
        Lookup::Ready(list) => Value::list(list.iter().map(record).collect()),
        Lookup::Missing(dep) => {
            exec.need(dep);
            Value::list(Vec::new())
        }
    }
}

fn no_datacenter(a: &Args<'_>) -> Result<(), FnError> {
    let parts = a.all_strings()?;
    match parts.iter().find(|p| !p.is_empty()) {
        Some(dc) => Err(FnError::new(format!(
            "bgrun does not support datacenter queries like `{} {dc:?}`",
            a.name
        ))
        .help(format!("query the local datacenter: `{}`", a.name))),
        None => Ok(()),
    }
}

fn check_datacenter(name: &str, path: &str) -> Result<(), FnError> {
    match path.split_once('@') {
        Some((base, _)) => Err(FnError::new(format!(
            "bgrun does not support datacenter queries like `{name} {path:?}`"
        ))
        .help(format!("query the local datacenter: `{name} {base:?}`"))),
        None => Ok(()),
    }
}

/// `Some(value)` when the catalog knows the key (`value` is `None` when it does not exist),
/// `None` when the key must be fetched first.
fn lookup_key(exec: &mut Exec<'_>, path: &str) -> Result<Option<Option<String>>, FnError> {
    check_datacenter("key", path)?;
    Ok(match exec.catalog.key(path) {
        Lookup::Ready(value) => Some(value),
        Lookup::Missing(dep) => {
            exec.need(dep);
            None
        }
    })
}

fn regex(exec: &mut Exec<'_>, pattern: &str) -> Result<Regex, FnError> {
    if let Some(re) = exec.regexes.get(pattern) {
        return Ok(re.clone());
    }
    let re = Regex::new(pattern).map_err(|e| FnError::new(format!("invalid regular expression {pattern:?}: {e}")))?;
    exec.regexes.insert(pattern.to_string(), re.clone());
    Ok(re)
}

/// The text `html`, `js` and `urlquery` escape: a lone string as is, anything else printed.
fn text_of(values: &[Value]) -> String {
    match values {
        [Value::Str(s)] => s.to_string(),
        _ => sprint(values),
    }
}

fn length(value: &Value) -> FResult {
    let n = match value {
        Value::Str(s) => s.len(),
        Value::List(items) => items.len(),
        Value::Map(m) => m.entries.len(),
        Value::Missing | Value::Nil => return Err(FnError::new("`len` of nil")),
        other => {
            return Err(FnError::new(format!("`len` of {} `{}`", other.go_type(), other.to_v())));
        }
    };
    Ok(Value::Int(n as i64))
}

fn index_of(index: &Value, len: usize) -> Result<usize, FnError> {
    match index {
        Value::Int(n) if *n >= 0 && (*n as u64) < len as u64 => Ok(*n as usize),
        Value::Int(n) => Err(FnError::new(format!("index out of range: {n}"))),
        Value::Missing | Value::Nil => Err(FnError::new("cannot index a list with nil")),
        other => Err(FnError::new(format!(
            "cannot index a list with {} `{}`",
            other.go_type(),
            other.to_v()
        ))),
    }
}

fn index(item: &Value, indexes: &[Value]) -> FResult {
    if item.is_nil() {
        return Err(FnError::new("index of untyped nil"));
    }
    let mut item = item.clone();
    for index in indexes {
        item = match &item {
            Value::List(items) => items[index_of(index, items.len())?].clone(),
            Value::Str(s) => Value::Int(i64::from(s.as_bytes()[index_of(index, s.len())?])),
            Value::Map(m) => match index {
                Value::Str(key) => {
                    m.entries
                        .get(&**key)
                        .cloned()
                        .unwrap_or(if m.strings { Value::str("") } else { Value::Nil })
                }
                other => {
                    return Err(FnError::new(format!(
                        "a map key must be a string, got {} `{}`",
                        other.go_type(),
                        other.to_v()
                    )));
                }
            },
            Value::Missing | Value::Nil => return Err(FnError::new("index of nil pointer")),
            other => {
                return Err(FnError::new(format!(
                    "cannot index {} `{}`",
                    other.go_type(),
                    other.to_v()
                )));
            }
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> FResult {
    let len = match item {
        Value::List(items) => items.len(),
        Value::Str(s) => s.len(),
        Value::Missing | Value::Nil => return Err(FnError::new("slice of untyped nil")),
        other => {
            return Err(FnError::new(format!(
                "cannot slice {} `{}`",
                other.go_type(),
                other.to_v()
            )));
        }
    };
    let mut bounds = [0, len, len];
    for (k, index) in indexes.iter().enumerate() {
        bounds[k] = match index {
            Value::Int(n) if *n >= 0 && (*n as u64) <= len as u64 => *n as usize,
            Value::Int(n) => return Err(FnError::new(format!("index out of range: {n}"))),
            other => {
                return Err(FnError::new(format!(
                    "cannot slice with {} `{}`",
                    other.go_type(),
                    other.to_v()
                )));
            }
        };
    }
    if indexes.len() < 3 {
        bounds[2] = len;
    }
    let [start, end, cap] = bounds;
    if start > end || end > cap {
        return Err(FnError::new(format!("invalid slice index: {start} > {end}")));
    }
    match item {
        Value::Str(s) => {
            if indexes.len() == 3 {
                return Err(FnError::new("cannot 3-index slice a string"));
            }
            s.get(start..end)
                .map(Value::str)
                .ok_or_else(|| FnError::new("slice bounds cut a character in two"))
        }
        Value::List(items) => Ok(Value::list(items[start..end].to_vec())),
        _ => Err(FnError::new("cannot slice this value")),
    }
}

/// Go's `eq` on two values: basic kinds of the same kind compare, nil equals only nil.
fn equal(x: &Value, y: &Value) -> Result<bool, FnError> {
    Ok(match (x, y) {
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Float(a), Value::Float(b)) => a == b,
        (Value::Str(a), Value::Str(b)) => a == b,
        (a, b) if a.is_nil() || b.is_nil() => a.is_nil() && b.is_nil(),
        (Value::List(_) | Value::Map(_), _) | (_, Value::List(_) | Value::Map(_)) => {
            return Err(FnError::new(format!(
                "cannot compare {} with {}",
                x.go_type(),
                y.go_type()
            )));
        }
        (Value::Record(a), Value::Record(b)) => Rc::ptr_eq(a, b),
        _ => {
            return Err(FnError::new(format!(
                "incompatible types for comparison: {} `{}` and {} `{}`",
                x.go_type(),
                x.to_v(),
                y.go_type(),
                y.to_v()
            ))
            .help("compare values of one kind; convert text with `parseInt`, `parseFloat` or `parseBool`"));
        }
    })
}

fn less(x: &Value, y: &Value) -> Result<bool, FnError> {
    Ok(match (x, y) {
        (Value::Int(a), Value::Int(b)) => a < b,
        (Value::Float(a), Value::Float(b)) => a < b,
        (Value::Str(a), Value::Str(b)) => a < b,
        (Value::Int(_) | Value::Float(_) | Value::Str(_), Value::Int(_) | Value::Float(_) | Value::Str(_)) => {
            return Err(FnError::new(format!(
                "incompatible types for comparison: {} `{}` and {} `{}`",
                x.go_type(),
                x.to_v(),
                y.go_type(),
                y.to_v()
            )));
        }
        _ => {
            let bad = if matches!(x, Value::Int(_) | Value::Float(_) | Value::Str(_)) {
                y
            } else {
                x
            };
            return Err(FnError::new(format!(
                "cannot order {}",
                if bad.is_nil() { "nil".into() } else { bad.go_type() }
            )));
        }
    })
}

/// consul-template's `in`: whether `list` holds `value` (same kind), or a string contains it.
fn contained(list: &Value, value: &Value) -> bool {
    match list {
        Value::List(items) => items.iter().any(|item| match (item, value) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => false,
        }),
        Value::Str(s) => value.as_str().is_some_and(|v| s.contains(v)),
        _ => false,
    }
}

fn by_key(a: &Args<'_>) -> FResult {
    let mut groups: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for pair in a.list(0)?.iter() {
        let Value::Record(record) = pair else {
            return Err(a.type_error(0, "a list of key pairs (from `tree`)"));
        };
        if record.kind != RecordKind::KeyPair {
            return Err(a.type_error(0, "a list of key pairs (from `tree`)"));
        }
        let key = record.field("Key").and_then(Value::as_str).unwrap_or_default();
        let (top, rest) = key.split_once('/').unwrap_or((key, ""));
        if rest.is_empty() {
            continue;
        }
        groups
            .entry(top.to_string())
            .or_default()
            .insert(rest.to_string(), Value::with_field(record, "Key", Value::str(rest)));
    }
    Ok(Value::map(
        groups.into_iter().map(|(k, v)| (k, Value::map(v))).collect(),
    ))
}

fn by_tag(a: &Args<'_>) -> FResult {
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for item in a.list(0)?.iter() {
        let tags = match item {
            Value::Record(r) => r.field("Tags"),
            _ => None,
        };
        let Some(Value::List(tags)) = tags else {
            return Err(a.type_error(0, "a list of services (from `service` or `services`)"));
        };
        for tag in tags.iter().filter_map(Value::as_str) {
            groups.entry(tag.to_string()).or_default().push(item.clone());
        }
    }
    Ok(Value::map(
        groups.into_iter().map(|(k, v)| (k, Value::list(v))).collect(),
    ))
}

/// How deep `explode` nests maps.
const MAX_EXPLODE_DEPTH: usize = 100;

/// consul-template's `explodeHelper`: puts `value` at the `/`-separated `key` of nested maps.
fn explode_into(root: &mut BTreeMap<String, Value>, key: &str, value: Value, full: &str) -> Result<(), FnError> {
    let parts: Vec<&str> = key.split('/').collect();
    if parts.len() > MAX_EXPLODE_DEPTH {
        return Err(FnError::new(format!(
            "explode: key {full:?} nests more than {MAX_EXPLODE_DEPTH} levels"
        )));
    }
    let Some((last, path)) = parts.split_last() else {
        return Ok(());
    };
    insert_path(root, path, last, value, full)
}

fn insert_path(
    map: &mut BTreeMap<String, Value>,
    path: &[&str],
    last: &str,
    value: Value,
    full: &str,
) -> Result<(), FnError> {
    let Some((top, rest)) = path.split_first() else {
        if !last.is_empty() {
            map.insert(last.to_string(), value);
        }
        return Ok(());
    };
    let entry = map
        .entry(top.to_string())
        .or_insert_with(|| Value::map(BTreeMap::new()));
    let Value::Map(nested) = entry else {
        return Err(FnError::new(format!(
            "explode: not a map: {full:?}: {top:?} already has value {:?}",
            entry.to_v()
        )));
    };
    let nested = Rc::make_mut(nested);
    insert_path(&mut nested.entries, rest, last, value, full)
}

fn indent(spaces: i64, text: &str) -> FResult {
    if spaces < 0 {
        return Err(FnError::new("indent value must be a positive integer"));
    }
    if spaces > 10_000 {
        return Err(FnError::new(format!(
            "indent of {spaces} spaces is more than bgrun writes"
        )));
    }
    let lines = text.matches('\n').count() + 1;
    if lines.saturating_mul(spaces as usize).saturating_add(text.len()) > MAX_TEXT {
        return Err(FnError::new(format!(
            "`indent` would make a string longer than {} MiB",
            MAX_TEXT >> 20
        )));
    }
    let prefix = " ".repeat(spaces as usize);
    let mut out = String::with_capacity(text.len());
    let mut at_line_start = true;
    for c in text.chars() {
        if at_line_start && c != '\n' {
            out.push_str(&prefix);
        }
        out.push(c);
        at_line_start = c == '\n';
    }
    Ok(Value::str(out))
}

fn parse_int(s: &str) -> Result<i64, FnError> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<i64>().map_err(|e| {
        let why = if matches!(
            e.kind(),
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
        ) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        FnError::new(format!("parseInt: strconv.ParseInt: parsing {s:?}: {why}"))
    })
}

/// Go maps each rune to its one-rune case; runes without one stay as they are.
fn map_chars<I: Iterator<Item = char> + ExactSizeIterator>(s: &str, f: impl Fn(char) -> I) -> String {
    s.chars()
        .map(|c| {
            let mut mapped = f(c);
            if mapped.len() == 1 {
                mapped.next().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let separator = if prev.is_ascii() {
                !(prev.is_ascii_alphanumeric() || prev == '_')
            } else {
                !(prev.is_alphanumeric()) && prev.is_whitespace()
            };
            prev = c;
            if separator {
                let mut upper = c.to_uppercase();
                if upper.len() == 1 { upper.next().unwrap_or(c) } else { c }
            } else {
                c
            }
        })
        .collect()
}

/// consul-template's `add` & co. take `(b, a)` and compute `a op b`.
fn arithmetic(name: &str, a: &Value, b: &Value) -> FResult {
    let zero = || FnError::new(format!("{name}: division by zero"));
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(match name {
            "add" => x.wrapping_add(*y),
            "subtract" => x.wrapping_sub(*y),
            "multiply" => x.wrapping_mul(*y),
            "divide" => x
                .checked_div(*y)
                .or_else(|| (*y == -1).then(|| x.wrapping_neg()))
                .ok_or_else(zero)?,
            _ => x.checked_rem(*y).or_else(|| (*y == -1).then_some(0)).ok_or_else(zero)?,
        })),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let as_f = |v: &Value| match v {
                Value::Int(n) => *n as f64,
                Value::Float(f) => *f,
                _ => 0.0,
            };
            let (x, y) = (as_f(a), as_f(b));
            Ok(Value::Float(match name {
                "add" => x + y,
                "subtract" => x - y,
                "multiply" => x * y,
                "divide" => x / y,
                _ => x % y,
            }))
        }
        _ => {
            let bad = if matches!(a, Value::Int(_) | Value::Float(_)) {
                b
            } else {
                a
            };
            let shown = if bad.is_nil() {
                "no value".into()
            } else {
                format!("{} `{}`", bad.go_type(), bad.to_v())
            };
            Err(FnError::new(format!("`{name}` needs numbers, got {shown}"))
                .help("convert text first: `parseInt`, `parseFloat`"))
        }
    }
}

/// Go's `template.JSEscapeString`.
fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 || c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_function_is_named_once() {
        for (i, (name, usage, _)) in FUNCTIONS.iter().enumerate() {
            assert!(FUNCTIONS[..i].iter().all(|(n, _, _)| n != name), "{name} twice");
            assert!(usage.contains(name), "{name}: {usage}");
            assert_eq!(check_name(name), Ok(()));
        }
        for (name, _) in UNSUPPORTED.iter().chain(CONFD) {
            assert!(check_name(name).is_err(), "{name}");
        }
    }
}
