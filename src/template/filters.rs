//! Ansible's filters and tests for bgrun's templates.
//!
//! [`register`] adds the filters and tests Ansible provides on top of Jinja2, and replaces the
//! Jinja2 built-ins whose minijinja version behaves differently from what Ansible users rely on
//! (`bool`, `int`, `float`), so templates written for Ansible render the same.
//!
//! minijinja's own `default`/`d`, `length`/`count`, `string`, `lower`, `upper`, `join`, `sort`,
//! `unique`, `min`, `max` and `zip` already behave like Ansible's and are kept.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE, URL_SAFE_PAD_INDIFFERENT};
use indexmap::IndexMap;
use minijinja::value::{Kwargs, Rest, Serde, Tuple, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};
use regex::{Captures, Regex, RegexBuilder};

use crate::source::SourceFile;

/// Adds Ansible's filters and tests to `env`, overriding minijinja built-ins that differ.
pub fn register(env: &mut Environment<'_>) {
    // Built-ins whose minijinja version differs from Ansible's.
    env.add_filter("bool", bool_filter);
    env.add_filter("int", int_filter);
    env.add_filter("float", float_filter);

    // Serialisation.
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_nice_yaml);
    env.add_filter("from_json", from_json);
    env.add_filter("from_yaml", from_yaml);

    // Paths.
    env.add_filter("basename", basename);
    env.add_filter("dirname", dirname);
    env.add_filter("splitext", splitext);
    env.add_filter("path_join", path_join);

    // Regular expressions.
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", regex_escape);

    // Text encodings.
    env.add_filter("quote", quote);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);

    // Data shaping.
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("combine", combine);
    env.add_filter("mandatory", mandatory);
    env.add_filter("ternary", ternary);
    env.add_filter("flatten", flatten);
    env.add_filter("zip_longest", zip_longest);
    env.add_filter("extract", extract);
    env.add_filter("type_debug", type_debug);

    // Set theory.
    env.add_filter("difference", difference);
    env.add_filter("intersect", intersect);
    env.add_filter("union", union);
    env.add_filter("symmetric_difference", symmetric_difference);

    // Tests.
    env.add_test("match", test_match);
    env.add_test("search", test_search);
    env.add_test("regex", test_regex);
    env.add_test("truthy", test_truthy);
    env.add_test("falsy", test_falsy);
    env.add_test("version", test_version);
    env.add_test("version_compare", test_version);
    env.add_test("failed", test_failed);
    env.add_test("failure", test_failed);
    env.add_test("succeeded", test_succeeded);
    env.add_test("success", test_succeeded);
    env.add_test("successful", test_succeeded);
    env.add_test("changed", test_changed);
    env.add_test("change", test_changed);
    env.add_test("skipped", test_skipped);
    env.add_test("skip", test_skipped);
    env.add_test("unreachable", test_unreachable);
    env.add_test("reachable", test_reachable);
    env.add_test("subset", test_subset);
    env.add_test("superset", test_superset);
    env.add_test("contains", test_contains);
    env.add_test("any", test_any);
    env.add_test("all", test_all);

    // Ansible before 2.9 let tests on results be written as filters (`when: result|changed`), and
    // playbooks of that time still do.
    for (name, test) in [
        ("changed", test_changed as fn(&Value) -> Result<bool, Error>),
        ("failed", test_failed),
        ("success", test_succeeded),
        ("succeeded", test_succeeded),
        ("skipped", test_skipped),
    ] {
        env.add_filter(name, test);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn fail(message: impl Into<Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// minijinja's own error for an undefined value: looking into the value fails with the error
/// the engine names the undefined variable in.
fn undefined_error(value: &Value) -> Error {
    match value.get_attr("") {
        Err(err) => err,
        Ok(_) => Error::from(ErrorKind::UndefinedError),
    }
}

fn defined(value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        Err(undefined_error(value))
    } else {
        Ok(())
    }
}

/// The value as text, the way Python's `str()` (and so Ansible's filters) see it.
fn text(value: &Value) -> Result<String, Error> {
    defined(value)?;
    if value.kind() == ValueKind::Invalid {
        return Err(fail(value.to_string()));
    }
    Ok(match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    })
}

/// The name Python gives the type of a value, for messages and `type_debug`.
fn type_name(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq if value.is_tuple() => "tuple",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        _ => "object",
    }
}

fn is_list(value: &Value) -> bool {
    matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable)
}

fn items(filter: &str, value: &Value) -> Result<Vec<Value>, Error> {
    defined(value)?;
    let iter = value
        .try_iter()
        .map_err(|_| fail(format!("{filter}: expected a list, got {}", type_name(value))))?;
    iter.checked().collect()
}

fn entries(value: &Value) -> Result<IndexMap<Value, Value>, Error> {
    let mut map = IndexMap::new();
    for key in value.try_iter()?.checked() {
        let key = key?;
        let item = value.get_item(&key)?;
        map.insert(key, item);
    }
    Ok(map)
}

fn map_value(map: IndexMap<Value, Value>) -> Value {
    Value::from_pairs(map)
}

/// Python-style optional parameters: each given by position or by keyword.
struct Params<'a> {
    filter: &'static str,
    args: &'a [Value],
    kwargs: &'a Kwargs,
}

impl<'a> Params<'a> {
    fn new(filter: &'static str, args: &'a [Value], kwargs: &'a Kwargs, names: &[&str]) -> Result<Self, Error> {
        if args.len() > names.len() {
            return Err(Error::new(
                ErrorKind::TooManyArguments,
                format!(
                    "{filter} takes at most {} arguments ({}), got {}",
                    names.len(),
                    names.join(", "),
                    args.len()
                ),
            ));
        }
        Ok(Params { filter, args, kwargs })
    }

    fn get(&self, index: usize, name: &str) -> Result<Option<Value>, Error> {
        if let Some(value) = self.args.get(index) {
            if self.kwargs.has(name) {
                return Err(fail(format!(
                    "{}: got multiple values for argument `{name}`",
                    self.filter
                )));
            }
            return Ok(Some(value.clone()));
        }
        let value: Option<Value> = self.kwargs.get(name)?;
        Ok(value)
    }

    fn flag(&self, index: usize, name: &str) -> Result<bool, Error> {
        Ok(self.get(index, name)?.is_some_and(|v| v.is_true()))
    }

    fn string(&self, index: usize, name: &str) -> Result<Option<String>, Error> {
        self.get(index, name)?.map(|v| text(&v)).transpose()
    }

    fn int(&self, index: usize, name: &str) -> Result<Option<i64>, Error> {
        match self.get(index, name)? {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) => Ok(Some(n)),
                None => Err(fail(format!(
                    "{}: `{name}` must be an integer, got {}",
                    self.filter,
                    type_name(&v)
                ))),
            },
        }
    }

    fn finish(self) -> Result<(), Error> {
        self.kwargs.assert_all_used()
    }
}

// ---------------------------------------------------------------------------------------------
// bool, int, float

/// Ansible's `bool`: "yes", "on", "1", "true", "y" and "t" (any case) are true, as is 1.
fn bool_filter(value: &Value) -> Result<bool, Error> {
    defined(value)?;
    Ok(match value.kind() {
        ValueKind::Bool => value.is_true(),
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default().trim().to_lowercase();
            matches!(s.as_str(), "yes" | "on" | "1" | "true" | "y" | "t")
        }
        ValueKind::Number => *value == Value::from(1),
        _ => false,
    })
}

/// Jinja2's `int(default=0, base=10)`: what cannot be converted becomes the default.
fn int_filter(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("int", &args, &kwargs, &["default", "base"])?;
    let default = params.get(0, "default")?.unwrap_or_else(|| Value::from(0));
    let base = params.int(1, "base")?.unwrap_or(10);
    params.finish()?;
    defined(value)?;
    let truncate = |f: f64| {
        if f.is_finite() {
            Value::from(f.trunc() as i128)
        } else {
            default.clone()
        }
    };
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(i64::from(value.is_true())),
        ValueKind::Number if value.is_integer() => value.clone(),
        ValueKind::Number => f64::try_from(value.clone()).map_or_else(|_| default.clone(), truncate),
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default();
            match parse_python_int(s, base) {
                Some(n) => Value::from(n),
                None => parse_python_float(s).map_or_else(|| default.clone(), truncate),
            }
        }
        _ => default,
    })
}

/// Jinja2's `float(default=0.0)`: what cannot be converted becomes the default.
fn float_filter(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("float", &args, &kwargs, &["default"])?;
    let default = params.get(0, "default")?.unwrap_or_else(|| Value::from(0.0));
    params.finish()?;
    defined(value)?;
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value.clone()).map_or(default, Value::from),
        ValueKind::String => parse_python_float(value.as_str().unwrap_or_default()).map_or(default, Value::from),
        _ => default,
    })
}

/// Underscores are allowed only between digits, as Python allows them.
fn valid_underscores(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.iter().enumerate().all(|(i, b)| {
        *b != b'_'
            || (i > 0
                && i + 1 < bytes.len()
                && bytes[i - 1].is_ascii_alphanumeric()
                && bytes[i + 1].is_ascii_alphanumeric())
    })
}

/// Python's `int(text, base)`: surrounding whitespace, a sign, a base prefix and underscores.
fn parse_python_int(text: &str, base: i64) -> Option<i128> {
    let s = text.trim();
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let prefix = rest.get(..2).map(str::to_ascii_lowercase);
    let prefixed_base = match prefix.as_deref() {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    let (base, digits) = match (base, prefixed_base) {
        (0, Some(b)) => (b, &rest[2..]),
        (0, None) => {
            if rest.len() > 1 && rest.starts_with('0') && rest.bytes().any(|b| b != b'0' && b != b'_') {
                return None;
            }
            (10, rest)
        }
        (b, Some(p)) if b == i64::from(p) => (p, rest[2..].strip_prefix('_').unwrap_or(&rest[2..])),
        (b @ 2..=36, _) => (b as u32, rest),
        _ => return None,
    };
    if digits.is_empty() || !valid_underscores(digits) || digits.starts_with(['+', '-']) {
        return None;
    }
    let value = i128::from_str_radix(&digits.replace('_', ""), base).ok()?;
    Some(if negative { -value } else { value })
}

/// Python's `float(text)`.
fn parse_python_float(text: &str) -> Option<f64> {
    let s = text.trim();
    if !valid_underscores(s) {
        return None;
    }
    s.replace('_', "").parse().ok()
}

// ---------------------------------------------------------------------------------------------
// JSON and YAML

/// A value in the shape JSON and YAML can hold.
enum Data {
    Null,
    Bool(bool),
    Int(String),
    Float(f64),
    Str(String),
    List(Vec<Data>),
    Map(Vec<(Data, Data)>),
}

impl Data {
    fn from_value(filter: &str, value: &Value) -> Result<Data, Error> {
        Ok(match value.kind() {
            ValueKind::Undefined => return Err(undefined_error(value)),
            ValueKind::None => Data::Null,
            ValueKind::Bool => Data::Bool(value.is_true()),
            ValueKind::Number if value.is_integer() => Data::Int(value.to_string()),
            ValueKind::Number => Data::Float(f64::try_from(value.clone())?),
            ValueKind::String | ValueKind::Bytes => Data::Str(text(value)?),
            ValueKind::Seq | ValueKind::Iterable => Data::List(
                items(filter, value)?
                    .iter()
                    .map(|item| Data::from_value(filter, item))
                    .collect::<Result<_, _>>()?,
            ),
            ValueKind::Map => Data::Map(
                entries(value)?
                    .iter()
                    .map(|(k, v)| Ok((Data::from_value(filter, k)?, Data::from_value(filter, v)?)))
                    .collect::<Result<_, Error>>()?,
            ),
            ValueKind::Invalid => return Err(fail(value.to_string())),
            _ => Data::Str(value.to_string()),
        })
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Data::List(_) | Data::Map(_))
    }
}

fn key_number(key: &Data) -> Option<f64> {
    match key {
        Data::Int(s) => s.parse().ok(),
        Data::Float(f) => Some(*f),
        Data::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// The order Python's `sorted()` puts mapping keys in, or `None` when the keys are of types
/// Python cannot compare with each other.
fn sorted_order(keys: &[&Data]) -> Option<Vec<usize>> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    if keys.iter().all(|k| matches!(k, Data::Str(_))) {
        order.sort_by(|&a, &b| match (keys[a], keys[b]) {
            (Data::Str(a), Data::Str(b)) => a.cmp(b),
            _ => std::cmp::Ordering::Equal,
        });
    } else if keys.iter().all(|k| key_number(k).is_some()) {
        order.sort_by(|&a, &b| {
            key_number(keys[a])
                .partial_cmp(&key_number(keys[b]))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    } else if keys.len() > 1 {
        return None;
    }
    Some(order)
}

/// Python's `repr()` of a finite float: the shortest digits that round-trip, in exponent form
/// below 1e-4 and from 1e16.
fn python_float_repr(f: f64) -> String {
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let body = if (-4..16).contains(&exponent) {
        let count = digits.len() as i32;
        let point = exponent + 1;
        if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else if point >= count {
            format!("{digits}{}.0", "0".repeat((point - count) as usize))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        format!(
            "{mantissa}e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.unsigned_abs()
        )
    };
    format!("{sign}{body}")
}

struct JsonStyle {
    indent: Option<String>,
    item_separator: String,
    key_separator: String,
    sort_keys: bool,
    ensure_ascii: bool,
}

fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        python_float_repr(f)
    }
}

fn json_string(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && (c as u32) > 0x7e) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(out: &mut String, data: &Data, style: &JsonStyle, level: usize) -> Result<(), Error> {
    let newline = |out: &mut String, level: usize| {
        if let Some(indent) = &style.indent {
            out.push('\n');
            out.push_str(&indent.repeat(level));
        }
    };
    match data {
        Data::Null => out.push_str("null"),
        Data::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::Int(s) => out.push_str(s),
        Data::Float(f) => out.push_str(&json_float(*f)),
        Data::Str(s) => json_string(out, s, style.ensure_ascii),
        Data::List(items) if items.is_empty() => out.push_str("[]"),
        Data::List(items) => {
            out.push('[');
            newline(out, level + 1);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&style.item_separator);
                    newline(out, level + 1);
                }
                write_json(out, item, style, level + 1)?;
            }
            newline(out, level);
            out.push(']');
        }
        Data::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Data::Map(entries) => {
            let mut order: Vec<usize> = (0..entries.len()).collect();
            if style.sort_keys {
                let keys: Vec<&Data> = entries.iter().map(|(k, _)| k).collect();
                order = sorted_order(&keys)
                    .ok_or_else(|| fail("to_json: cannot sort keys of different types; pass sort_keys=false"))?;
            }
            out.push('{');
            newline(out, level + 1);
            for (i, (key, value)) in order.iter().map(|&i| &entries[i]).enumerate() {
                if i > 0 {
                    out.push_str(&style.item_separator);
                    newline(out, level + 1);
                }
                let key = match key {
                    Data::Str(s) => s.clone(),
                    Data::Int(s) => s.clone(),
                    Data::Float(f) => json_float(*f),
                    Data::Bool(b) => b.to_string(),
                    Data::Null => "null".into(),
                    Data::List(_) | Data::Map(_) => {
                        return Err(fail("to_json: keys must be strings, numbers, booleans or none"));
                    }
                };
                json_string(out, &key, style.ensure_ascii);
                out.push_str(&style.key_separator);
                write_json(out, value, style, level + 1)?;
            }
            newline(out, level);
            out.push('}');
        }
    }
    Ok(())
}

fn json_indent(filter: &str, indent: Option<Value>) -> Result<Option<String>, Error> {
    Ok(match indent {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match (v.as_str(), v.as_i64()) {
            (Some(s), _) => Some(s.to_string()),
            (None, Some(n)) => Some(" ".repeat(usize::try_from(n).unwrap_or(0))),
            _ => {
                return Err(fail(format!("{filter}: `indent` must be a number or a string")));
            }
        },
    })
}

fn dump_json(filter: &str, value: &Value, style: JsonStyle) -> Result<String, Error> {
    let data = Data::from_value(filter, value)?;
    let mut out = String::new();
    write_json(&mut out, &data, &style, 0)?;
    Ok(out)
}

/// `to_json(indent=None, sort_keys=false, ensure_ascii=true, separators=None)`, the text of
/// Python's `json.dumps`.
fn to_json(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent = json_indent("to_json", kwargs.get("indent")?)?;
    let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    let ensure_ascii = kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(true);
    let separators: Option<Value> = kwargs.get("separators")?;
    kwargs.assert_all_used()?;
    let (item_separator, key_separator) = match separators {
        Some(pair) => match items("to_json", &pair)?.as_slice() {
            [item, key] => (text(item)?, text(key)?),
            _ => return Err(fail("to_json: `separators` must be a pair of strings")),
        },
        None if indent.is_some() => (",".to_string(), ": ".to_string()),
        None => (", ".to_string(), ": ".to_string()),
    };
    dump_json(
        "to_json",
        value,
        JsonStyle {
            indent,
            item_separator,
            key_separator,
            sort_keys,
            ensure_ascii,
        },
    )
}

/// `to_nice_json(indent=4, sort_keys=true)`.
fn to_nice_json(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("to_nice_json", &args, &kwargs, &["indent", "sort_keys"])?;
    let indent = json_indent("to_nice_json", params.get(0, "indent")?)?.or_else(|| Some("    ".into()));
    let sort_keys = params.get(1, "sort_keys")?.is_none_or(|v| v.is_true());
    let ensure_ascii = kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(true);
    params.finish()?;
    let style = JsonStyle {
        indent,
        item_separator: ",".into(),
        key_separator: ": ".into(),
        sort_keys,
        ensure_ascii,
    };
    dump_json("to_nice_json", value, style)
}

fn from_json(value: &Value) -> Result<Value, Error> {
    defined(value)?;
    let Some(s) = value.as_str() else {
        return Err(fail(format!(
            "from_json: expected a string of JSON, got {}",
            type_name(value)
        )));
    };
    let json: serde_json::Value =
        serde_json::from_str(s).map_err(|e| fail(format!("from_json: input is not valid JSON: {e}")))?;
    Ok(Value::from(Serde(json)))
}

fn from_yaml(value: &Value) -> Result<Value, Error> {
    defined(value)?;
    let Some(s) = value.as_str() else {
        // Ansible hands back data that is not text unchanged.
        return Ok(value.clone());
    };
    let file = SourceFile::new("<from_yaml>", s);
    match crate::yaml::parse(&file) {
        Ok(node) => Ok(Value::from(Serde(node.to_json()))),
        Err(crate::error::Error::Yaml { span, message }) => Err(fail(format!(
            "from_yaml: input is not valid YAML: {message} at line {}, column {}",
            span.line, span.col
        ))),
        Err(crate::error::Error::Invalid { span, message, .. }) => Err(fail(format!(
            "from_yaml: {message} at line {}, column {}",
            span.line, span.col
        ))),
        Err(other) => Err(fail(format!("from_yaml: {other}"))),
    }
}

// YAML output, written the way PyYAML's emitter (behind Ansible's `to_yaml`) writes it.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Str,
    Int,
    Float,
    Bool,
    Null,
}

impl Tag {
    /// Length of the tag's short form (`!!str`), which counts towards the simple key limit.
    fn short_len(self) -> usize {
        match self {
            Tag::Str | Tag::Int => 5,
            Tag::Bool | Tag::Null => 6,
            Tag::Float => 7,
        }
    }
}

enum YamlNode {
    Scalar(String, Tag),
    Seq(Vec<YamlNode>, bool),
    Map(Vec<(YamlNode, YamlNode)>, bool),
}

fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf".into() } else { "-.inf".into() }
    } else {
        let repr = python_float_repr(f).to_lowercase();
        if !repr.contains('.') && repr.contains('e') {
            repr.replacen('e', ".0e", 1)
        } else {
            repr
        }
    }
}

/// Builds the node tree; `flow` is `default_flow_style`: `None` writes collections of scalars
/// in flow style and the others in block style.
fn represent(data: Data, flow: Option<bool>, sort_keys: bool) -> YamlNode {
    match data {
        Data::Null => YamlNode::Scalar("null".into(), Tag::Null),
        Data::Bool(b) => YamlNode::Scalar(b.to_string(), Tag::Bool),
        Data::Int(s) => YamlNode::Scalar(s, Tag::Int),
        Data::Float(f) => YamlNode::Scalar(yaml_float(f), Tag::Float),
        Data::Str(s) => YamlNode::Scalar(s, Tag::Str),
        Data::List(items) => {
            let all_scalars = items.iter().all(Data::is_scalar);
            let nodes = items.into_iter().map(|item| represent(item, flow, sort_keys)).collect();
            YamlNode::Seq(nodes, flow.unwrap_or(all_scalars))
        }
        Data::Map(mut entries) => {
            if sort_keys {
                let keys: Vec<&Data> = entries.iter().map(|(k, _)| k).collect();
                if let Some(order) = sorted_order(&keys) {
                    let mut slots: Vec<Option<(Data, Data)>> = entries.into_iter().map(Some).collect();
                    entries = order.into_iter().filter_map(|i| slots[i].take()).collect();
                }
            }
            let all_scalars = entries.iter().all(|(k, v)| k.is_scalar() && v.is_scalar());
            let nodes = entries
                .into_iter()
                .map(|(k, v)| (represent(k, flow, sort_keys), represent(v, flow, sort_keys)))
                .collect();
            YamlNode::Map(nodes, flow.unwrap_or(all_scalars))
        }
    }
}

static YAML_BOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$").unwrap()
});
static YAML_FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"|[-+]?\.(?:inf|Inf|INF)",
        r"|\.(?:nan|NaN|NAN))$",
    ))
    .unwrap()
});
static YAML_INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?0b[0-1_]+",
        r"|[-+]?0[0-7_]+",
        r"|[-+]?(?:0|[1-9][0-9_]*)",
        r"|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    ))
    .unwrap()
});
static YAML_OTHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:<<|=|~|null|Null|NULL|",
        r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?",
        r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    ))
    .unwrap()
});

/// Whether a YAML 1.1 reader would take this text, unquoted, for something other than a string.
fn resolves_to_non_string(s: &str) -> bool {
    s.is_empty() || YAML_BOOL.is_match(s) || YAML_FLOAT.is_match(s) || YAML_INT.is_match(s) || YAML_OTHER.is_match(s)
}

struct Analysis {
    empty: bool,
    multiline: bool,
    allow_flow_plain: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_yaml_space(c: char) -> bool {
    matches!(c, '\0' | ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable_unicode(c: char) -> bool {
    matches!(c, '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
}

/// Which quoting styles can write this text, as PyYAML decides it.
fn analyze_scalar(text: &str, allow_unicode: bool) -> Analysis {
    if text.is_empty() {
        return Analysis {
            empty: true,
            multiline: false,
            allow_flow_plain: false,
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len();
    let mut block_indicators = text.starts_with("---") || text.starts_with("...");
    let mut flow_indicators = block_indicators;
    let mut line_breaks = false;
    let mut special_characters = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) = (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut followed_by_whitespace = len == 1 || is_yaml_space(chars[1]);
    let (mut previous_space, mut previous_break) = (false, false);
    for (index, &ch) in chars.iter().enumerate() {
        if index == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                flow_indicators = true;
                block_indicators = true;
            }
            if ch == '?' || ch == ':' {
                flow_indicators = true;
                block_indicators |= followed_by_whitespace;
            }
            if ch == '-' && followed_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        } else {
            if ",?[]{}".contains(ch) {
                flow_indicators = true;
            }
            if ch == ':' {
                flow_indicators = true;
                block_indicators |= followed_by_whitespace;
            }
            if ch == '#' && preceded_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        }
        if is_line_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch)) {
            let unicode = (ch == '\u{85}' || is_printable_unicode(ch) || ('\u{10000}'..'\u{10ffff}').contains(&ch))
                && ch != '\u{feff}';
            if !unicode || !allow_unicode {
                special_characters = true;
            }
        }
        if ch == ' ' {
            leading_space |= index == 0;
            trailing_space |= index == len - 1;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_line_break(ch) {
            leading_break |= index == 0;
            trailing_break |= index == len - 1;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_yaml_space(ch);
        followed_by_whitespace = index + 2 >= len || is_yaml_space(chars[index + 2]);
    }
    let mut allow_flow_plain = true;
    let mut allow_block_plain = true;
    let mut allow_single_quoted = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        allow_flow_plain = false;
        allow_block_plain = false;
    }
    if break_space {
        allow_flow_plain = false;
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if space_break || special_characters {
        allow_flow_plain = false;
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if line_breaks {
        allow_flow_plain = false;
        allow_block_plain = false;
    }
    if flow_indicators {
        allow_flow_plain = false;
    }
    if block_indicators {
        allow_block_plain = false;
    }
    Analysis {
        empty: false,
        multiline: line_breaks,
        allow_flow_plain,
        allow_block_plain,
        allow_single_quoted,
    }
}

#[derive(Clone, Copy, Default)]
struct NodeContext {
    root: bool,
    mapping: bool,
    simple_key: bool,
}

struct YamlEmitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    indent: Option<usize>,
    indents: Vec<Option<usize>>,
    flow_level: usize,
    best_indent: usize,
    best_width: usize,
    allow_unicode: bool,
}

struct YamlOptions {
    indent: usize,
    width: usize,
    allow_unicode: bool,
    explicit_start: bool,
    explicit_end: bool,
}

impl YamlEmitter {
    fn new(options: &YamlOptions) -> Self {
        let best_indent = if (2..10).contains(&options.indent) {
            options.indent
        } else {
            2
        };
        let best_width = if options.width > best_indent * 2 {
            options.width
        } else {
            80
        };
        YamlEmitter {
            out: String::new(),
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            indent: None,
            indents: Vec::new(),
            flow_level: 0,
            best_indent,
            best_width,
            allow_unicode: options.allow_unicode,
        }
    }

    fn document(mut self, root: &YamlNode, options: &YamlOptions) -> String {
        if options.explicit_start {
            self.write_indent();
            self.write_indicator("---", true, false, false);
        }
        self.node(
            root,
            NodeContext {
                root: true,
                ..NodeContext::default()
            },
        );
        self.write_indent();
        if options.explicit_end {
            self.write_indicator("...", true, false, false);
            self.write_indent();
        }
        if self.open_ended {
            self.write_indicator("...", true, false, false);
            self.write_indent();
        }
        self.out
    }

    fn write(&mut self, data: &str) {
        self.out.push_str(data);
        self.column += data.chars().count();
    }

    fn write_chars(&mut self, chars: &[char]) {
        self.out.extend(chars);
        self.column += chars.len();
    }

    fn write_indicator(&mut self, indicator: &str, need_whitespace: bool, whitespace: bool, indention: bool) {
        if !self.whitespace && need_whitespace {
            self.write(" ");
        }
        self.write(indicator);
        self.whitespace = whitespace;
        self.indention = self.indention && indention;
        self.open_ended = false;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.write_line_break('\n');
        }
        if self.column < indent {
            self.whitespace = true;
            let padding = " ".repeat(indent - self.column);
            self.write(&padding);
        }
    }

    fn write_line_break(&mut self, data: char) {
        self.out.push(data);
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        self.indent = match self.indent {
            None => Some(if flow { self.best_indent } else { 0 }),
            Some(indent) if !indentless => Some(indent + self.best_indent),
            same => same,
        };
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().flatten();
    }

    fn node(&mut self, node: &YamlNode, context: NodeContext) {
        match node {
            YamlNode::Scalar(text, tag) => {
                self.increase_indent(true, false);
                self.scalar(text, *tag, context);
                self.pop_indent();
            }
            YamlNode::Seq(items, flow) => {
                if self.flow_level > 0 || *flow || items.is_empty() {
                    self.flow_sequence(items);
                } else {
                    self.block_sequence(items, context.mapping);
                }
            }
            YamlNode::Map(entries, flow) => {
                if self.flow_level > 0 || *flow || entries.is_empty() {
                    self.flow_mapping(entries);
                } else {
                    self.block_mapping(entries);
                }
            }
        }
    }

    fn flow_sequence(&mut self, items: &[YamlNode]) {
        self.write_indicator("[", true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            self.node(item, NodeContext::default());
        }
        self.pop_indent();
        self.flow_level -= 1;
        self.write_indicator("]", false, false, false);
    }

    fn flow_mapping(&mut self, entries: &[(YamlNode, YamlNode)]) {
        self.write_indicator("{", true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            let value_context = NodeContext {
                mapping: true,
                ..NodeContext::default()
            };
            if self.is_simple_key(key) {
                self.node(
                    key,
                    NodeContext {
                        mapping: true,
                        simple_key: true,
                        ..NodeContext::default()
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, false);
                self.node(key, value_context);
                if self.column > self.best_width {
                    self.write_indent();
                }
                self.write_indicator(":", true, false, false);
            }
            self.node(value, value_context);
        }
        self.pop_indent();
        self.flow_level -= 1;
        self.write_indicator("}", false, false, false);
    }

    fn block_sequence(&mut self, items: &[YamlNode], in_mapping: bool) {
        let indentless = in_mapping && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, NodeContext::default());
        }
        self.pop_indent();
    }

    fn block_mapping(&mut self, entries: &[(YamlNode, YamlNode)]) {
        self.increase_indent(false, false);
        let value_context = NodeContext {
            mapping: true,
            ..NodeContext::default()
        };
        for (key, value) in entries {
            self.write_indent();
            if self.is_simple_key(key) {
                self.node(
                    key,
                    NodeContext {
                        mapping: true,
                        simple_key: true,
                        ..NodeContext::default()
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.node(key, value_context);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(value, value_context);
        }
        self.pop_indent();
    }

    fn is_simple_key(&self, key: &YamlNode) -> bool {
        match key {
            YamlNode::Scalar(text, tag) => {
                let analysis = analyze_scalar(text, self.allow_unicode);
                tag.short_len() + text.chars().count() < 128 && !analysis.empty && !analysis.multiline
            }
            YamlNode::Seq(items, _) => items.is_empty(),
            YamlNode::Map(entries, _) => entries.is_empty(),
        }
    }

    fn scalar(&mut self, text: &str, tag: Tag, context: NodeContext) {
        let analysis = analyze_scalar(text, self.allow_unicode);
        let implicit = tag != Tag::Str || !resolves_to_non_string(text);
        let plain_allowed = if self.flow_level > 0 {
            analysis.allow_flow_plain
        } else {
            analysis.allow_block_plain
        };
        let split = !context.simple_key;
        if implicit && !(context.simple_key && (analysis.empty || analysis.multiline)) && plain_allowed {
            self.write_plain(text, split, context.root);
        } else if analysis.allow_single_quoted && !(context.simple_key && analysis.multiline) {
            self.write_single_quoted(text, split);
        } else {
            self.write_double_quoted(text, split);
        }
    }

    fn write_plain(&mut self, text: &str, split: bool, root: bool) {
        if root {
            self.open_ended = true;
        }
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        let (mut start, mut end) = (0, 0);
        while end <= chars.len() {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > self.best_width && split {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write_chars(&chars[start..end]);
                    }
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_line_break(c)) {
                self.write_chars(&chars[start..end]);
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
            }
            end += 1;
        }
    }

    fn write_breaks(&mut self, breaks: &[char]) {
        if breaks.first() == Some(&'\n') {
            self.write_line_break('\n');
        }
        for &br in breaks {
            self.write_line_break(br);
        }
        self.write_indent();
    }

    fn write_single_quoted(&mut self, text: &str, split: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let len = chars.len();
        let (mut spaces, mut breaks) = (false, false);
        let (mut start, mut end) = (0, 0);
        while end <= len {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > self.best_width && split && start != 0 && end != len {
                        self.write_indent();
                    } else {
                        self.write_chars(&chars[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if ch.is_none_or(|c| !is_line_break(c)) {
                    self.write_breaks(&chars[start..end]);
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || c == '\'' || is_line_break(c)) && start < end {
                self.write_chars(&chars[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.write("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_line_break(c);
            }
            end += 1;
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double_quoted(&mut self, text: &str, split: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let len = chars.len();
        let (mut start, mut end) = (0usize, 0usize);
        while end <= len {
            let ch = chars.get(end).copied();
            let escape = ch.is_none_or(|c| {
                matches!(c, '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
                    || !((' '..='~').contains(&c) || (self.allow_unicode && is_printable_unicode(c)))
            });
            if escape {
                if start < end {
                    self.write_chars(&chars[start..end]);
                    start = end;
                }
                if let Some(c) = ch {
                    let data = match c {
                        '\0' => "\\0".to_string(),
                        '\u{7}' => "\\a".to_string(),
                        '\u{8}' => "\\b".to_string(),
                        '\t' => "\\t".to_string(),
                        '\n' => "\\n".to_string(),
                        '\u{b}' => "\\v".to_string(),
                        '\u{c}' => "\\f".to_string(),
                        '\r' => "\\r".to_string(),
                        '\u{1b}' => "\\e".to_string(),
                        '"' => "\\\"".to_string(),
                        '\\' => "\\\\".to_string(),
                        '\u{85}' => "\\N".to_string(),
                        '\u{a0}' => "\\_".to_string(),
                        '\u{2028}' => "\\L".to_string(),
                        '\u{2029}' => "\\P".to_string(),
                        c if c <= '\u{ff}' => format!("\\x{:02X}", c as u32),
                        c if c <= '\u{ffff}' => format!("\\u{:04X}", c as u32),
                        c => format!("\\U{:08X}", c as u32),
                    };
                    self.write(&data);
                    start = end + 1;
                }
            }
            let pending = end as isize - start as isize;
            if 0 < end
                && end + 1 < len
                && (ch == Some(' ') || start >= end)
                && self.column as isize + pending > self.best_width as isize
                && split
            {
                if start < end {
                    self.write_chars(&chars[start..end]);
                    start = end;
                }
                self.write("\\");
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if chars[start] == ' ' {
                    self.write("\\");
                }
            }
            end += 1;
        }
        self.write_indicator("\"", false, false, false);
    }
}

fn dump_yaml(filter: &str, value: &Value, kwargs: &Kwargs, indent: usize, flow: Option<bool>) -> Result<String, Error> {
    let flow = match kwargs.get::<Option<Value>>("default_flow_style")? {
        Some(v) if v.is_none() => None,
        Some(v) => Some(v.is_true()),
        None => flow,
    };
    let width = match kwargs.get::<Option<Value>>("width")? {
        None => 80,
        Some(v) => match f64::try_from(v) {
            Ok(w) if w >= usize::MAX as f64 => usize::MAX,
            Ok(w) if w > 0.0 => w as usize,
            _ => 80,
        },
    };
    let options = YamlOptions {
        indent,
        width,
        allow_unicode: kwargs.get::<Option<bool>>("allow_unicode")?.unwrap_or(true),
        explicit_start: kwargs.get::<Option<bool>>("explicit_start")?.unwrap_or(false),
        explicit_end: kwargs.get::<Option<bool>>("explicit_end")?.unwrap_or(false),
    };
    let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
    kwargs.assert_all_used()?;
    let root = represent(Data::from_value(filter, value)?, flow, sort_keys);
    Ok(YamlEmitter::new(&options).document(&root, &options))
}

/// `to_yaml(indent=2, width=80, sort_keys=true, default_flow_style=none, explicit_start=false,
/// explicit_end=false, allow_unicode=true)`: collections of scalars are written inline.
fn to_yaml(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent = kwargs.get::<Option<usize>>("indent")?.unwrap_or(2);
    dump_yaml("to_yaml", value, &kwargs, indent, None)
}

/// `to_nice_yaml(indent=4, ...)`: block style throughout.
fn to_nice_yaml(value: &Value, indent: Option<usize>, kwargs: Kwargs) -> Result<String, Error> {
    let indent = match indent {
        Some(indent) => indent,
        None => kwargs.get::<Option<usize>>("indent")?.unwrap_or(4),
    };
    dump_yaml("to_nice_yaml", value, &kwargs, indent, Some(false))
}

// ---------------------------------------------------------------------------------------------
// Paths

/// Python's `os.path.basename`: what follows the last `/`.
fn basename(value: &Value) -> Result<String, Error> {
    let path = text(value)?;
    Ok(path.rsplit('/').next().unwrap_or_default().to_string())
}

/// Python's `os.path.dirname`: what precedes the last `/`, without trailing slashes.
fn dirname(value: &Value) -> Result<String, Error> {
    let path = text(value)?;
    let head = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        Ok(head.trim_end_matches('/').to_string())
    } else {
        Ok(head.to_string())
    }
}

/// Python's `os.path.splitext`: `(root, ext)`, where a file name's leading dots are no extension.
fn splitext(value: &Value) -> Result<Value, Error> {
    let path = text(value)?;
    let name_start = path.rfind('/').map_or(0, |i| i + 1);
    let (root, ext) = match path.rfind('.') {
        Some(dot) if dot > name_start && path[name_start..dot].bytes().any(|b| b != b'.') => path.split_at(dot),
        _ => (path.as_str(), ""),
    };
    Ok(Value::from(Tuple::new(vec![Value::from(root), Value::from(ext)])))
}

/// Python's `os.path.join` over a list; an absolute part starts the path anew.
fn path_join(value: &Value) -> Result<String, Error> {
    defined(value)?;
    if value.kind() == ValueKind::String {
        return text(value);
    }
    let mut path = String::new();
    for part in items("path_join", value)? {
        let part = text(&part)?;
        if part.starts_with('/') {
            path = part;
        } else if path.is_empty() || path.ends_with('/') {
            path.push_str(&part);
        } else {
            path.push('/');
            path.push_str(&part);
        }
    }
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Regular expressions

/// Compiles a Python regular expression; `\Z` is Python's spelling of `\z`.
fn compile_regex(filter: &str, pattern: &str, ignorecase: bool, multiline: bool) -> Result<Regex, Error> {
    let mut translated = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => translated.push_str("\\z"),
                Some(next) => {
                    translated.push('\\');
                    translated.push(next);
                }
                None => translated.push('\\'),
            }
        } else {
            translated.push(c);
        }
    }
    RegexBuilder::new(&translated)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| fail(format!("{filter}: invalid regular expression `{pattern}`: {e}")))
}

enum Piece {
    Text(String),
    Group(usize),
    Named(String),
}

/// Parses a Python replacement template: `\1`, `\g<1>` and `\g<name>` refer to groups, and
/// `\n`, `\t` and the like are escapes.
fn parse_template(filter: &str, template: &str, regex: &Regex) -> Result<Vec<Piece>, Error> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let chars: Vec<char> = template.chars().collect();
    let group_count = regex.captures_len();
    let check_group = |index: usize| {
        if index < group_count {
            Ok(Piece::Group(index))
        } else {
            Err(fail(format!(
                "{filter}: invalid group reference {index} in `{template}`"
            )))
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            literal.push(c);
            continue;
        }
        let Some(&next) = chars.get(i) else {
            return Err(fail(format!("{filter}: bad escape (end of pattern) in `{template}`")));
        };
        i += 1;
        let piece = match next {
            'g' => {
                let rest: String = chars[i..].iter().collect();
                let Some(name) = rest
                    .strip_prefix('<')
                    .and_then(|r| r.split_once('>'))
                    .map(|(n, _)| n.to_string())
                else {
                    return Err(fail(format!("{filter}: missing group name after \\g in `{template}`")));
                };
                i += name.chars().count() + 2;
                if let Ok(index) = name.parse::<usize>() {
                    check_group(index)?
                } else if regex.capture_names().flatten().any(|n| n == name) {
                    Piece::Named(name)
                } else {
                    return Err(fail(format!("{filter}: unknown group name `{name}` in `{template}`")));
                }
            }
            '0' => {
                let mut value = 0u32;
                let mut taken = 0;
                while taken < 2 && chars.get(i).is_some_and(|c| ('0'..='7').contains(c)) {
                    value = value * 8 + chars[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    taken += 1;
                }
                literal.push(char::from_u32(value).unwrap_or('\0'));
                continue;
            }
            '1'..='9' => {
                let mut digits = next.to_string();
                if chars.get(i).is_some_and(char::is_ascii_digit) {
                    digits.push(chars[i]);
                    i += 1;
                    let octal = |c: char| ('0'..='7').contains(&c);
                    if digits.chars().all(octal) && chars.get(i).is_some_and(|c| octal(*c)) {
                        digits.push(chars[i]);
                        i += 1;
                        let value = u32::from_str_radix(&digits, 8).unwrap_or(0);
                        literal.push(char::from_u32(value).unwrap_or('\0'));
                        continue;
                    }
                }
                check_group(digits.parse().unwrap_or(0))?
            }
            'a' => Piece::Text("\u{7}".into()),
            'b' => Piece::Text("\u{8}".into()),
            'f' => Piece::Text("\u{c}".into()),
            'n' => Piece::Text("\n".into()),
            'r' => Piece::Text("\r".into()),
            't' => Piece::Text("\t".into()),
            'v' => Piece::Text("\u{b}".into()),
            '\\' => Piece::Text("\\".into()),
            c if c.is_ascii_alphabetic() => {
                return Err(fail(format!("{filter}: bad escape \\{c} in `{template}`")));
            }
            c => Piece::Text(format!("\\{c}")),
        };
        match piece {
            Piece::Text(s) => literal.push_str(&s),
            group => {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(group);
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

fn expand(out: &mut String, captures: &Captures<'_>, pieces: &[Piece]) {
    for piece in pieces {
        match piece {
            Piece::Text(s) => out.push_str(s),
            Piece::Group(i) => out.push_str(captures.get(*i).map_or("", |m| m.as_str())),
            Piece::Named(name) => out.push_str(captures.name(name).map_or("", |m| m.as_str())),
        }
    }
}

/// Python's `re.subn`: replaces up to `count` matches (all for 0), including empty matches right
/// after a previous match, and returns the text and how many were replaced.
fn substitute(regex: &Regex, text: &str, pieces: &[Piece], count: usize) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let (mut last, mut pos, mut replaced) = (0, 0, 0);
    let mut empty_at = None;
    while pos <= text.len() && (count == 0 || replaced < count) {
        let Some(captures) = regex.captures_at(text, pos) else {
            break;
        };
        let Some(whole) = captures.get(0) else { break };
        if whole.is_empty() && empty_at == Some(whole.start()) {
            match text[pos..].chars().next() {
                Some(c) => {
                    pos += c.len_utf8();
                    continue;
                }
                None => break,
            }
        }
        out.push_str(&text[last..whole.start()]);
        expand(&mut out, &captures, pieces);
        last = whole.end();
        pos = whole.end();
        empty_at = whole.is_empty().then_some(whole.end());
        replaced += 1;
    }
    out.push_str(&text[last..]);
    (out, replaced)
}

/// `regex_replace(pattern, replacement='', ignorecase=false, multiline=false, count=0,
/// mandatory_count=0)` with Python's regular expressions and replacement syntax.
fn regex_replace(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new(
        "regex_replace",
        &args,
        &kwargs,
        &[
            "pattern",
            "replacement",
            "ignorecase",
            "multiline",
            "count",
            "mandatory_count",
        ],
    )?;
    let pattern = params.string(0, "pattern")?.unwrap_or_default();
    let replacement = params.string(1, "replacement")?.unwrap_or_default();
    let ignorecase = params.flag(2, "ignorecase")?;
    let multiline = params.flag(3, "multiline")?;
    let count = params.int(4, "count")?.unwrap_or(0);
    let mandatory_count = params.int(5, "mandatory_count")?.unwrap_or(0);
    params.finish()?;
    let value = text(value)?;
    let regex = compile_regex("regex_replace", &pattern, ignorecase, multiline)?;
    let pieces = parse_template("regex_replace", &replacement, &regex)?;
    let (output, replaced) = substitute(&regex, &value, &pieces, usize::try_from(count).unwrap_or(0));
    if mandatory_count != 0 && i64::try_from(replaced).ok() != Some(mandatory_count) {
        return Err(fail(format!(
            "regex_replace: `{pattern}` should match {mandatory_count} times, but matches {replaced} times in `{value}`"
        )));
    }
    Ok(output)
}

/// `regex_search(pattern, '\\1', '\\g<name>', ignorecase=false, multiline=false)`: the first match,
/// the listed groups of it, or none.
fn regex_search(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let Some((pattern, groups)) = args.split_first() else {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            "regex_search: missing the pattern",
        ));
    };
    let ignorecase = kwargs.get::<Option<Value>>("ignorecase")?.is_some_and(|v| v.is_true());
    let multiline = kwargs.get::<Option<Value>>("multiline")?.is_some_and(|v| v.is_true());
    kwargs.assert_all_used()?;
    let value = text(value)?;
    let regex = compile_regex("regex_search", &text(pattern)?, ignorecase, multiline)?;
    let groups = groups
        .iter()
        .map(|group| {
            let group = text(group)?;
            let reference = if let Some(name) = group.strip_prefix("\\g<").and_then(|g| g.strip_suffix('>')) {
                name.to_string()
            } else if let Some(index) = group.strip_prefix('\\').filter(|g| g.parse::<usize>().is_ok()) {
                index.to_string()
            } else {
                return Err(fail(format!(
                    "regex_search: unknown argument `{group}`; use '\\\\1' or '\\\\g<name>'"
                )));
            };
            match parse_template("regex_search", &format!("\\g<{reference}>"), &regex)?.pop() {
                Some(piece) => Ok(piece),
                None => Err(fail(format!("regex_search: unknown argument `{group}`"))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(captures) = regex.captures(&value) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(captures.get(0).map_or("", |m| m.as_str())));
    }
    Ok(Value::from(
        groups
            .iter()
            .map(|piece| {
                let found = match piece {
                    Piece::Group(i) => captures.get(*i),
                    Piece::Named(name) => captures.name(name),
                    Piece::Text(_) => None,
                };
                found.map_or_else(|| Value::from(()), |m| Value::from(m.as_str()))
            })
            .collect::<Vec<_>>(),
    ))
}

/// `regex_findall(pattern, multiline=false, ignorecase=false)`, Python's `re.findall`: the
/// matches, the one group of each, or a tuple of the groups of each.
fn regex_findall(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("regex_findall", &args, &kwargs, &["pattern", "multiline", "ignorecase"])?;
    let pattern = params.string(0, "pattern")?.unwrap_or_default();
    let multiline = params.flag(1, "multiline")?;
    let ignorecase = params.flag(2, "ignorecase")?;
    params.finish()?;
    let value = text(value)?;
    let regex = compile_regex("regex_findall", &pattern, ignorecase, multiline)?;
    let groups = regex.captures_len() - 1;
    let group_text = |c: &Captures<'_>, i: usize| Value::from(c.get(i).map_or("", |m| m.as_str()));
    let mut found = Vec::new();
    let mut pos = 0;
    let mut empty_at = None;
    while pos <= value.len() {
        let Some(captures) = regex.captures_at(&value, pos) else {
            break;
        };
        let Some(whole) = captures.get(0) else { break };
        if whole.is_empty() && empty_at == Some(whole.start()) {
            match value[pos..].chars().next() {
                Some(c) => {
                    pos += c.len_utf8();
                    continue;
                }
                None => break,
            }
        }
        found.push(match groups {
            0 => group_text(&captures, 0),
            1 => group_text(&captures, 1),
            n => Value::from(Tuple::new((1..=n).map(|i| group_text(&captures, i)).collect())),
        });
        pos = whole.end();
        empty_at = whole.is_empty().then_some(whole.end());
    }
    Ok(Value::from(found))
}

/// `regex_escape(re_type='python')`: escapes what Python's `re.escape` escapes, or with
/// `re_type='posix_basic'` the special characters of a POSIX basic regular expression.
fn regex_escape(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("regex_escape", &args, &kwargs, &["re_type"])?;
    let re_type = params.string(0, "re_type")?;
    params.finish()?;
    let value = text(value)?;
    let special: &str = match re_type.as_deref().unwrap_or("python") {
        "python" => "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}",
        "posix_basic" => "].[^$*\\",
        other => {
            return Err(fail(format!("regex_escape: regex type `{other}` is not supported")));
        }
    };
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Text encodings

/// Python's `shlex.quote`: the text as one word for a POSIX shell.
fn quote(value: &Value) -> Result<String, Error> {
    let s = if value.is_none() { String::new() } else { text(value)? };
    if s.is_empty() {
        return Ok("''".into());
    }
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c)) {
        return Ok(s);
    }
    Ok(format!("'{}'", s.replace('\'', "'\"'\"'")))
}

fn encoding_param(filter: &str, params: &Params<'_>) -> Result<bool, Error> {
    let encoding = params.string(0, "encoding")?.unwrap_or_else(|| "utf-8".into());
    match encoding.to_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => Ok(false),
        "utf-16-le" | "utf-16le" => Ok(true),
        _ => Err(fail(format!(
            "{filter}: encoding `{encoding}` is not supported; use utf-8 or utf-16-le"
        ))),
    }
}

/// `b64encode(encoding='utf-8', urlsafe=false)`.
fn b64encode(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("b64encode", &args, &kwargs, &["encoding", "urlsafe"])?;
    let utf16 = encoding_param("b64encode", &params)?;
    let urlsafe = params.flag(1, "urlsafe")?;
    params.finish()?;
    let value = text(value)?;
    let bytes: Vec<u8> = if utf16 {
        value.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else {
        value.into_bytes()
    };
    Ok(if urlsafe {
        URL_SAFE.encode(bytes)
    } else {
        STANDARD.encode(bytes)
    })
}

/// `b64decode(encoding='utf-8', urlsafe=false)`; whitespace in the input is ignored.
fn b64decode(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("b64decode", &args, &kwargs, &["encoding", "urlsafe"])?;
    let utf16 = encoding_param("b64decode", &params)?;
    let urlsafe = params.flag(1, "urlsafe")?;
    params.finish()?;
    let value = text(value)?;
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = if urlsafe {
        &URL_SAFE_PAD_INDIFFERENT
    } else {
        &STANDARD_PAD_INDIFFERENT
    };
    let bytes = engine.decode(compact.as_bytes()).map_err(|e| {
        let detail = match e {
            base64::DecodeError::InvalidByte(offset, _) => match compact.get(offset..).and_then(|s| s.chars().next()) {
                Some(c) => format!(" (unexpected character {c:?})"),
                None => String::new(),
            },
            base64::DecodeError::InvalidLength(_) => " (its length is not a valid base64 length)".into(),
            _ => String::new(),
        };
        fail(format!("b64decode: input is not valid base64{detail}"))
    })?;
    if utf16 {
        if bytes.len() % 2 != 0 {
            return Err(fail("b64decode: the decoded data is not valid UTF-16-LE text"));
        }
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        String::from_utf16(&units).map_err(|_| fail("b64decode: the decoded data is not valid UTF-16-LE text"))
    } else {
        String::from_utf8(bytes).map_err(|_| {
            fail("b64decode: the decoded data is not valid UTF-8 text; pass encoding= if it is another encoding")
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Data shaping

/// `dict2items(key_name='key', value_name='value')`: a mapping as a list of key/value pairs.
fn dict2items(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("dict2items", &args, &kwargs, &["key_name", "value_name"])?;
    let key_name = params.string(0, "key_name")?.unwrap_or_else(|| "key".into());
    let value_name = params.string(1, "value_name")?.unwrap_or_else(|| "value".into());
    params.finish()?;
    defined(value)?;
    if value.kind() != ValueKind::Map {
        return Err(fail(format!(
            "dict2items: expected a dictionary, got {}",
            type_name(value)
        )));
    }
    Ok(Value::from(
        entries(value)?
            .into_iter()
            .map(|(k, v)| Value::from_pairs([(key_name.as_str(), k), (value_name.as_str(), v)]))
            .collect::<Vec<_>>(),
    ))
}

/// `items2dict(key_name='key', value_name='value')`: a list of key/value pairs as a mapping.
fn items2dict(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("items2dict", &args, &kwargs, &["key_name", "value_name"])?;
    let key_name = Value::from(params.string(0, "key_name")?.unwrap_or_else(|| "key".into()));
    let value_name = Value::from(params.string(1, "value_name")?.unwrap_or_else(|| "value".into()));
    params.finish()?;
    defined(value)?;
    if !is_list(value) {
        return Err(fail(format!("items2dict: expected a list, got {}", type_name(value))));
    }
    let mut map = IndexMap::new();
    for item in items("items2dict", value)? {
        if item.kind() != ValueKind::Map {
            return Err(fail(format!(
                "items2dict: expected a list of dictionaries, got an item of type {}",
                type_name(&item)
            )));
        }
        let (k, v) = (item.get_item(&key_name)?, item.get_item(&value_name)?);
        if k.is_undefined() || v.is_undefined() {
            return Err(fail(format!(
                "items2dict: each item needs the keys `{key_name}` and `{value_name}`, got {item}"
            )));
        }
        map.insert(k, v);
    }
    Ok(map_value(map))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ListMerge {
    Replace,
    Keep,
    Append,
    Prepend,
    AppendRp,
    PrependRp,
}

fn merge_hash(
    mut low: IndexMap<Value, Value>,
    high: IndexMap<Value, Value>,
    recursive: bool,
    lists: ListMerge,
) -> Result<IndexMap<Value, Value>, Error> {
    if low.is_empty() || low == high {
        return Ok(high);
    }
    if high.is_empty() {
        return Ok(low);
    }
    if !recursive && lists == ListMerge::Replace {
        low.extend(high);
        return Ok(low);
    }
    for (key, high_value) in high {
        let Some(low_value) = low.get(&key) else {
            low.insert(key, high_value);
            continue;
        };
        let merged = match (low_value.kind(), high_value.kind()) {
            (ValueKind::Map, ValueKind::Map) if recursive => map_value(merge_hash(
                entries(low_value)?,
                entries(&high_value)?,
                recursive,
                lists,
            )?),
            (ValueKind::Seq, ValueKind::Seq) => {
                let old = items("combine", low_value)?;
                let new = items("combine", &high_value)?;
                let kept = || old.iter().filter(|x| !new.contains(x)).cloned();
                match lists {
                    ListMerge::Replace => high_value,
                    ListMerge::Keep => low_value.clone(),
                    ListMerge::Append => Value::from(old.iter().chain(&new).cloned().collect::<Vec<_>>()),
                    ListMerge::Prepend => Value::from(new.iter().chain(&old).cloned().collect::<Vec<_>>()),
                    ListMerge::AppendRp => Value::from(kept().chain(new.iter().cloned()).collect::<Vec<_>>()),
                    ListMerge::PrependRp => Value::from(new.iter().cloned().chain(kept()).collect::<Vec<_>>()),
                }
            }
            _ => high_value,
        };
        low.insert(key, merged);
    }
    Ok(low)
}

/// `combine(*dicts, recursive=false, list_merge='replace')`: later dictionaries win; lists of
/// dictionaries are combined in order.
fn combine(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    let lists = match list_merge.as_str() {
        "replace" => ListMerge::Replace,
        "keep" => ListMerge::Keep,
        "append" => ListMerge::Append,
        "prepend" => ListMerge::Prepend,
        "append_rp" => ListMerge::AppendRp,
        "prepend_rp" => ListMerge::PrependRp,
        other => {
            return Err(fail(format!(
                "combine: list_merge must be 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', not '{other}'"
            )));
        }
    };
    let mut dicts = Vec::new();
    for term in std::iter::once(value).chain(others.iter()) {
        defined(term)?;
        let terms = if is_list(term) {
            items("combine", term)?
        } else {
            vec![term.clone()]
        };
        for item in terms {
            defined(&item)?;
            match item.kind() {
                ValueKind::None => {}
                ValueKind::Map => dicts.push(item),
                _ => {
                    return Err(fail(format!(
                        "combine: expected dictionaries, got {}",
                        type_name(&item)
                    )));
                }
            }
        }
    }
    match dicts.as_slice() {
        [] => Ok(map_value(IndexMap::new())),
        [only] => Ok(only.clone()),
        [first, rest @ ..] => {
            let mut merged = entries(first)?;
            for dict in rest {
                merged = merge_hash(merged, entries(dict)?, recursive, lists)?;
            }
            Ok(map_value(merged))
        }
    }
}

/// `mandatory(msg=None)`: fails on an undefined value.
fn mandatory(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("mandatory", &args, &kwargs, &["msg"])?;
    let msg = params.string(0, "msg")?;
    params.finish()?;
    if value.is_undefined() {
        return Err(match msg {
            Some(msg) => fail(msg),
            None => undefined_error(value),
        });
    }
    Ok(value.clone())
}

/// `ternary(true_val, false_val, none_val=None)`.
fn ternary(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("ternary", &args, &kwargs, &["true_val", "false_val", "none_val"])?;
    let true_val = params.get(0, "true_val")?.unwrap_or_else(|| Value::from(true));
    let false_val = params.get(1, "false_val")?.unwrap_or_else(|| Value::from(false));
    let none_val = params.get(2, "none_val")?.filter(|v| !v.is_none());
    params.finish()?;
    defined(value)?;
    Ok(match none_val {
        Some(none_val) if value.is_none() => none_val,
        _ if value.is_true() => true_val,
        _ => false_val,
    })
}

fn flatten_into(out: &mut Vec<Value>, list: &Value, levels: Option<i64>, skip_nulls: bool) -> Result<(), Error> {
    for item in items("flatten", list)? {
        if skip_nulls && (item.is_none() || matches!(item.as_str(), Some("None" | "null"))) {
            continue;
        }
        match levels {
            _ if !is_list(&item) => out.push(item),
            None => flatten_into(out, &item, None, skip_nulls)?,
            Some(n) if n >= 1 => flatten_into(out, &item, Some(n - 1), skip_nulls)?,
            Some(_) => out.push(item),
        }
    }
    Ok(())
}

/// `flatten(levels=None, skip_nulls=true)`.
fn flatten(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("flatten", &args, &kwargs, &["levels", "skip_nulls"])?;
    let levels = params.int(0, "levels")?;
    let skip_nulls = params.get(1, "skip_nulls")?.is_none_or(|v| v.is_true());
    params.finish()?;
    let mut out = Vec::new();
    flatten_into(&mut out, value, levels, skip_nulls)?;
    Ok(Value::from(out))
}

/// `zip_longest(*lists, fillvalue=None)`.
fn zip_longest(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill = kwargs
        .get::<Option<Value>>("fillvalue")?
        .unwrap_or_else(|| Value::from(()));
    kwargs.assert_all_used()?;
    let lists = std::iter::once(value)
        .chain(others.iter())
        .map(|list| items("zip_longest", list))
        .collect::<Result<Vec<_>, _>>()?;
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..longest)
            .map(|i| {
                let row = lists
                    .iter()
                    .map(|list| list.get(i).cloned().unwrap_or_else(|| fill.clone()));
                Value::from(Tuple::new(row.collect()))
            })
            .collect::<Vec<_>>(),
    ))
}

/// `extract(container, morekeys=None)`: `container[item]`, then each further key in turn.
fn extract(item: &Value, container: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("extract", &args, &kwargs, &["morekeys"])?;
    let morekeys = params.get(0, "morekeys")?.filter(|v| !v.is_none());
    params.finish()?;
    let mut keys = vec![item.clone()];
    match morekeys {
        Some(more) if more.kind() == ValueKind::Seq => keys.extend(items("extract", &more)?),
        Some(more) => keys.push(more),
        None => {}
    }
    let mut value = container.clone();
    for key in keys {
        value = value.get_item(&key)?;
    }
    Ok(value)
}

fn type_debug(value: &Value) -> &'static str {
    type_name(value)
}

// ---------------------------------------------------------------------------------------------
// Set theory: results keep the order of the first list, then the second.

fn unique_values(values: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    values.into_iter().filter(|v| seen.insert(v.clone())).collect()
}

/// The items of two lists, and the set of the second's.
struct TwoLists {
    a: Vec<Value>,
    b: Vec<Value>,
    in_b: BTreeSet<Value>,
}

fn two_lists(filter: &str, a: &Value, b: &Value) -> Result<TwoLists, Error> {
    let a = items(filter, a)?;
    let b = items(filter, b)?;
    let in_b = b.iter().cloned().collect();
    Ok(TwoLists { a, b, in_b })
}

fn difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let TwoLists { a, in_b, .. } = two_lists("difference", a, b)?;
    Ok(Value::from(unique_values(a.into_iter().filter(|x| !in_b.contains(x)))))
}

fn intersect(a: &Value, b: &Value) -> Result<Value, Error> {
    let TwoLists { a, in_b, .. } = two_lists("intersect", a, b)?;
    Ok(Value::from(unique_values(a.into_iter().filter(|x| in_b.contains(x)))))
}

fn union(a: &Value, b: &Value) -> Result<Value, Error> {
    let TwoLists { a, b, .. } = two_lists("union", a, b)?;
    Ok(Value::from(unique_values(a.into_iter().chain(b))))
}

fn symmetric_difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let TwoLists { a, b, in_b } = two_lists("symmetric_difference", a, b)?;
    let in_a: BTreeSet<Value> = a.iter().cloned().collect();
    let only_a = a.into_iter().filter(|x| !in_b.contains(x));
    let only_b = b.into_iter().filter(|x| !in_a.contains(x));
    Ok(Value::from(unique_values(only_a.chain(only_b))))
}

// ---------------------------------------------------------------------------------------------
// Tests

#[derive(Clone, Copy)]
enum MatchType {
    Match,
    Search,
    Full,
}

fn regex_test(
    test: &'static str,
    value: &Value,
    args: &[Value],
    kwargs: &Kwargs,
    kind: Option<MatchType>,
) -> Result<bool, Error> {
    let names: &[&str] = if kind.is_some() {
        &["pattern", "ignorecase", "multiline"]
    } else {
        &["pattern", "ignorecase", "multiline", "match_type"]
    };
    let params = Params::new(test, args, kwargs, names)?;
    let Some(pattern) = params.string(0, "pattern")? else {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            format!("{test}: missing the pattern"),
        ));
    };
    let ignorecase = params.flag(1, "ignorecase")?;
    let multiline = params.flag(2, "multiline")?;
    let kind = match kind {
        Some(kind) => kind,
        None => match params.string(3, "match_type")?.as_deref().unwrap_or("search") {
            "match" => MatchType::Match,
            "search" => MatchType::Search,
            "fullmatch" => MatchType::Full,
            other => {
                return Err(fail(format!(
                    "{test}: match_type must be 'match', 'search' or 'fullmatch', not '{other}'"
                )));
            }
        },
    };
    params.finish()?;
    let anchored = match kind {
        MatchType::Match => format!(r"\A(?:{pattern})"),
        MatchType::Search => pattern.clone(),
        MatchType::Full => format!(r"\A(?:{pattern})\z"),
    };
    // The pattern alone first, so that an error quotes it as it was written.
    compile_regex(test, &pattern, ignorecase, multiline)?;
    let regex = compile_regex(test, &anchored, ignorecase, multiline)?;
    Ok(regex.is_match(&text(value)?))
}

/// `is match(pattern, ignorecase=false, multiline=false)`: matches at the start.
fn test_match(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("match", value, &args, &kwargs, Some(MatchType::Match))
}

/// `is search(pattern, ignorecase=false, multiline=false)`: matches anywhere.
fn test_search(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("search", value, &args, &kwargs, Some(MatchType::Search))
}

/// `is regex(pattern, ignorecase=false, multiline=false, match_type='search')`.
fn test_regex(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("regex", value, &args, &kwargs, None)
}

fn truthiness(value: &Value, convert_bool: bool) -> Result<bool, Error> {
    defined(value)?;
    if convert_bool {
        let normalized = match value.kind() {
            ValueKind::String => Some(value.as_str().unwrap_or_default().trim().to_lowercase()),
            ValueKind::Number | ValueKind::Bool => Some(value.to_string().to_lowercase()),
            _ => None,
        };
        match normalized.as_deref() {
            Some("y" | "yes" | "on" | "1" | "1.0" | "true" | "t") => return Ok(true),
            Some("n" | "no" | "off" | "0" | "0.0" | "false" | "f") => return Ok(false),
            _ => {}
        }
    }
    Ok(value.is_true())
}

/// `is truthy(convert_bool=false)`: true as Python sees it, or as Ansible's booleans with
/// `convert_bool=true`.
fn test_truthy(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    let params = Params::new("truthy", &args, &kwargs, &["convert_bool"])?;
    let convert_bool = params.flag(0, "convert_bool")?;
    params.finish()?;
    truthiness(value, convert_bool)
}

fn test_falsy(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    let params = Params::new("falsy", &args, &kwargs, &["convert_bool"])?;
    let convert_bool = params.flag(0, "convert_bool")?;
    params.finish()?;
    Ok(!truthiness(value, convert_bool)?)
}

#[derive(Debug, PartialEq, Eq)]
enum Part {
    Number(String),
    Text(String),
}

fn compare_numbers(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Splits a version as Python's `LooseVersion` does: runs of digits, runs of lowercase letters,
/// and whatever else lies between them; dots separate.
fn loose_parts(version: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut other = String::new();
    let chars: Vec<char> = version.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = |pred: fn(&char) -> bool| chars[i..].iter().take_while(|c| pred(c)).collect::<String>();
        let token = if c.is_ascii_digit() {
            Some(Part::Number(run(char::is_ascii_digit)))
        } else if c.is_ascii_lowercase() {
            Some(Part::Text(run(char::is_ascii_lowercase)))
        } else if c == '.' {
            None
        } else {
            other.push(c);
            i += 1;
            continue;
        };
        if !other.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut other)));
        }
        i += match &token {
            Some(Part::Number(s) | Part::Text(s)) => s.chars().count(),
            None => 1,
        };
        parts.extend(token);
    }
    if !other.is_empty() {
        parts.push(Part::Text(other));
    }
    parts
}

fn compare_loose(a: &str, b: &str) -> Result<std::cmp::Ordering, Error> {
    let (left, right) = (loose_parts(a), loose_parts(b));
    for (x, y) in left.iter().zip(&right) {
        let ordering = match (x, y) {
            (Part::Number(x), Part::Number(y)) => compare_numbers(x, y),
            (Part::Text(x), Part::Text(y)) => x.cmp(y),
            _ => {
                return Err(fail(format!(
                    "version: cannot compare `{a}` with `{b}`: a number and text stand in the same place; \
                     try version_type='semver'"
                )));
            }
        };
        if ordering.is_ne() {
            return Ok(ordering);
        }
    }
    Ok(left.len().cmp(&right.len()))
}

static STRICT_VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$").unwrap());

/// Python's `StrictVersion`: `1.2`, `1.2.3`, with an optional `a1`/`b2` pre-release.
fn compare_strict(a: &str, b: &str) -> Result<std::cmp::Ordering, Error> {
    let parse = |v: &str| {
        let captures = STRICT_VERSION
            .captures(v)
            .ok_or_else(|| fail(format!("version: `{v}` is not a strict version number")))?;
        let group = |i: usize| captures.get(i).map(|m| m.as_str().to_string());
        let release = [group(1), group(2), group(3)].map(|g| g.unwrap_or_else(|| "0".into()));
        Ok::<_, Error>((release, group(4).zip(group(5))))
    };
    let ((left, left_pre), (right, right_pre)) = (parse(a)?, parse(b)?);
    for (x, y) in left.iter().zip(&right) {
        let ordering = compare_numbers(x, y);
        if ordering.is_ne() {
            return Ok(ordering);
        }
    }
    Ok(match (left_pre, right_pre) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some((l, x)), Some((r, y))) => l.cmp(&r).then_with(|| compare_numbers(&x, &y)),
    })
}

static SEMVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)",
        r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?",
        r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$",
    ))
    .unwrap()
});

/// Semantic Versioning 2.0 precedence; build metadata is ignored.
fn compare_semver(a: &str, b: &str) -> Result<std::cmp::Ordering, Error> {
    use std::cmp::Ordering;
    let parse = |v: &str| {
        let captures = SEMVER
            .captures(v)
            .ok_or_else(|| fail(format!("version: `{v}` is not a semantic version")))?;
        let release: Vec<String> = (1..=3).map(|i| captures[i].to_string()).collect();
        let pre: Option<Vec<String>> = captures
            .get(4)
            .map(|m| m.as_str().split('.').map(String::from).collect());
        Ok::<_, Error>((release, pre))
    };
    let ((left, left_pre), (right, right_pre)) = (parse(a)?, parse(b)?);
    for (x, y) in left.iter().zip(&right) {
        let ordering = compare_numbers(x, y);
        if ordering.is_ne() {
            return Ok(ordering);
        }
    }
    Ok(match (left_pre, right_pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            x.iter()
                .zip(&y)
                .map(|(p, q)| match (numeric(p), numeric(q)) {
                    (true, true) => compare_numbers(p, q),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => p.cmp(q),
                })
                .find(|o| o.is_ne())
                .unwrap_or_else(|| x.len().cmp(&y.len()))
        }
    })
}

/// `is version(other, operator='eq', strict=false, version_type='loose')`.
fn test_version(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    let params = Params::new(
        "version",
        &args,
        &kwargs,
        &["version", "operator", "strict", "version_type"],
    )?;
    let other = params.string(0, "version")?.unwrap_or_default();
    let operator = params.string(1, "operator")?.unwrap_or_else(|| "eq".into());
    let strict = params.flag(2, "strict")?;
    let version_type = params.string(3, "version_type")?;
    params.finish()?;
    let version = text(value)?;
    if version.is_empty() {
        return Err(fail("version: the version to test is empty"));
    }
    if other.is_empty() {
        return Err(fail("version: the version to compare against is empty"));
    }
    let ordering = match (version_type.as_deref(), strict) {
        (None | Some("loose"), false) => compare_loose(&version, &other)?,
        (None | Some("strict"), _) | (Some("loose"), true) => compare_strict(&version, &other)?,
        (Some("semver" | "semantic"), _) => compare_semver(&version, &other)?,
        (Some(other), _) => {
            return Err(fail(format!(
                "version: version_type `{other}` is not supported; use 'loose', 'strict' or 'semver'"
            )));
        }
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(match operator.as_str() {
        "lt" | "<" => ordering == Less,
        "le" | "<=" => ordering != Greater,
        "gt" | ">" => ordering == Greater,
        "ge" | ">=" => ordering != Less,
        "eq" | "==" | "=" => ordering == Equal,
        "ne" | "!=" | "<>" => ordering != Equal,
        other => {
            return Err(fail(format!(
                "version: invalid operator `{other}`; use one of lt, <, le, <=, gt, >, ge, >=, eq, ==, ne, !="
            )));
        }
    })
}

fn result_flag(test: &str, value: &Value, key: &str) -> Result<bool, Error> {
    defined(value)?;
    if value.kind() != ValueKind::Map {
        return Err(fail(format!(
            "the `{test}` test expects a registered result (a dictionary), got {}",
            type_name(value)
        )));
    }
    Ok(value.get_attr(key)?.is_true())
}

fn test_failed(value: &Value) -> Result<bool, Error> {
    result_flag("failed", value, "failed")
}

fn test_succeeded(value: &Value) -> Result<bool, Error> {
    Ok(!result_flag("succeeded", value, "failed")?)
}

/// `is changed`: the result's `changed`, or for a loop's result whether any item changed.
fn test_changed(value: &Value) -> Result<bool, Error> {
    let changed = result_flag("changed", value, "changed")?;
    let has_key = !value.get_attr("changed")?.is_undefined();
    if has_key {
        return Ok(changed);
    }
    let results = value.get_attr("results")?;
    if results.kind() != ValueKind::Seq {
        return Ok(false);
    }
    Ok(items("changed", &results)?
        .iter()
        .any(|r| r.kind() == ValueKind::Map && r.get_attr("changed").is_ok_and(|c| c.is_true())))
}

fn test_skipped(value: &Value) -> Result<bool, Error> {
    result_flag("skipped", value, "skipped")
}

fn test_unreachable(value: &Value) -> Result<bool, Error> {
    result_flag("unreachable", value, "unreachable")
}

fn test_reachable(value: &Value) -> Result<bool, Error> {
    Ok(!result_flag("reachable", value, "unreachable")?)
}

/// `is subset(other)`: every item of the list is in `other`.
fn test_subset(value: &Value, other: &Value) -> Result<bool, Error> {
    let TwoLists { a, in_b, .. } = two_lists("subset", value, other)?;
    Ok(a.iter().all(|x| in_b.contains(x)))
}

/// `is superset(other)`: every item of `other` is in the list.
fn test_superset(value: &Value, other: &Value) -> Result<bool, Error> {
    test_subset(other, value)
}

/// `is contains(item)`: the list holds `item`.
fn test_contains(value: &Value, item: &Value) -> Result<bool, Error> {
    Ok(items("contains", value)?.contains(item))
}

fn test_any(value: &Value) -> Result<bool, Error> {
    Ok(items("any", value)?.iter().any(Value::is_true))
}

fn test_all(value: &Value) -> Result<bool, Error> {
    Ok(items("all", value)?.iter().all(Value::is_true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::UndefinedBehavior;
    use serde_json::json;

    fn env() -> Environment<'static> {
        let mut env = Environment::new();
        register(&mut env);
        env
    }

    fn vars() -> Value {
        Value::from(Serde(json!({
            "app": {
                "name": "web",
                "ports": [80, 443],
                "env": {"DEBUG": "no", "PATH": "/usr/bin:/bin"},
                "users": [{"name": "al", "groups": ["wheel", "adm"], "shell": null}],
                "empty": [],
                "ratio": 0.5,
                "motd": "line one\nline two",
                "note": "it's: fine"
            },
            "ok": {"changed": false, "failed": false, "rc": 0},
            "broken": {"changed": false, "failed": true, "rc": 2},
            "edited": {"changed": true, "rc": 0},
            "passed_over": {"changed": false, "skipped": true},
            "down": {"unreachable": true},
            "looped": {"results": [{"changed": false}, {"changed": true}]},
            "looped_quiet": {"results": [{"changed": false}]},
            "hosts": {"a": {"ip": "10.0.0.1"}, "b": {"ip": "10.0.0.2"}}
        })))
    }

    fn render(template: &str) -> String {
        env()
            .render_str(template, vars())
            .unwrap_or_else(|e| panic!("{template}: {e:#}"))
    }

    fn render_err(template: &str) -> String {
        match env().render_str(template, vars()) {
            Ok(out) => panic!("{template}: expected an error, got {out:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn assert_err(template: &str, expected: &str) {
        let message = render_err(template);
        assert!(
            message.contains(expected),
            "{template}: {message:?} does not contain {expected:?}"
        );
    }

    // Built-ins replaced or kept.

    #[test]
    fn bool_follows_ansible() {
        assert_eq!(
            render("{{ ['yes', 'On', '1', 'TRUE', 'y', 't', ' true '] | map('bool') | list }}"),
            "[True, True, True, True, True, True, True]"
        );
        assert_eq!(
            render("{{ ['no', 'off', '0', 'false', 'maybe', '', 'n'] | map('bool') | list }}"),
            "[False, False, False, False, False, False, False]"
        );
        assert_eq!(
            render("{{ [1, 1.0, 0, 2, true, false, none] | map('bool') | list }}"),
            "[True, True, False, False, True, False, False]"
        );
        assert_eq!(render("{% if 'yes' | bool %}on{% endif %}"), "on");
        assert_err("{{ missing | bool }}", "`missing` is undefined");
    }

    #[test]
    fn int_follows_jinja2() {
        assert_eq!(render("{{ '08' | int }}"), "8");
        assert_eq!(render("{{ ' 42 ' | int + 1 }}"), "43");
        assert_eq!(
            render("{{ '3.7' | int }}|{{ -3.7 | int }}|{{ '1e3' | int }}"),
            "3|-3|1000"
        );
        assert_eq!(
            render("{{ 'abc' | int }}|{{ 'abc' | int(5) }}|{{ 'abc' | int(default=7) }}"),
            "0|5|7"
        );
        assert_eq!(
            render("{{ '0x1f' | int(base=16) }}|{{ '17' | int(0, 8) }}|{{ '1_000' | int }}"),
            "31|15|1000"
        );
        assert_eq!(render("{{ true | int }}|{{ none | int }}|{{ [1] | int }}"), "1|0|0");
        assert_err("{{ missing | int }}", "`missing` is undefined");
    }

    #[test]
    fn float_follows_jinja2() {
        assert_eq!(
            render("{{ '1.5' | float }}|{{ 3 | float }}|{{ ' 2 ' | float }}"),
            "1.5|3.0|2.0"
        );
        assert_eq!(
            render("{{ 'abc' | float }}|{{ 'abc' | float(2.5) }}|{{ none | float }}"),
            "0.0|2.5|0.0"
        );
    }

    #[test]
    fn minijinja_builtins_already_match_ansible() {
        assert_eq!(
            render("{{ '' | default('x', true) }}|{{ '' | default('x') }}|{{ missing | d('y') }}"),
            "x||y"
        );
        assert_eq!(
            render("{{ false | default('x', true) }}|{{ [] | d('none', true) }}"),
            "x|none"
        );
        assert_eq!(
            render("{{ [1, 2, 3] | join(',') }}|{{ [true, none] | join(' ') }}"),
            "1,2,3|True None"
        );
        assert_eq!(render("{{ app.users | map(attribute='name') | join }}"), "al");
        assert_eq!(
            render("{{ [{'x': 2}, {'x': 1}] | sort(attribute='x') | map(attribute='x') | list }}"),
            "[1, 2]"
        );
        assert_eq!(
            render("{{ ['b', 'A', 'a', 'c'] | sort }}|{{ [3, 1, 2] | sort(reverse=true) }}"),
            "['A', 'a', 'b', 'c']|[3, 2, 1]"
        );
        assert_eq!(render("{{ [1, 2, 1, 'a', 'A'] | unique }}"), "[1, 2, 'a']");
        assert_eq!(
            render("{{ [3, 1, 2] | min }}|{{ [3, 1, 2] | max }}|{{ 'héllo' | length }}|{{ app.ports | count }}"),
            "1|3|5|2"
        );
        assert_eq!(
            render("{{ true | lower }}|{{ 'Ab' | upper }}|{{ true | string }}|{{ none | string }}|{{ 1 | string }}"),
            "true|AB|True|None|1"
        );
        assert_eq!(render("{{ [1, 2] | zip(['a', 'b']) | list }}"), "[(1, 'a'), (2, 'b')]");
    }

    // Serialisation.

    #[test]
    fn to_json_spaces_like_python() {
        assert_eq!(
            render("{{ {'a': 1, 'b': [1, 2]} | to_json }}"),
            r#"{"a": 1, "b": [1, 2]}"#
        );
        assert_eq!(
            render("{{ app | to_json }}"),
            r#"{"name": "web", "ports": [80, 443], "env": {"DEBUG": "no", "PATH": "/usr/bin:/bin"}, "users": [{"name": "al", "groups": ["wheel", "adm"], "shell": null}], "empty": [], "ratio": 0.5, "motd": "line one\nline two", "note": "it's: fine"}"#
        );
        assert_eq!(
            render("{{ [1e20, 1.5e-7, 0.1 + 0.2, 2.0, 'é😀', '\x01', true, none] | to_json }}"),
            r#"[1e+20, 1.5e-07, 0.30000000000000004, 2.0, "\u00e9\ud83d\ude00", "\u0001", true, null]"#
        );
        assert_eq!(render("{{ 'é' | to_json(ensure_ascii=false) }}"), r#""é""#);
        assert_eq!(
            render("{{ {'b': 1, 'a': [1]} | to_json(sort_keys=true) }}"),
            r#"{"a": [1], "b": 1}"#
        );
        assert_eq!(
            render("{{ {'a': [1]} | to_json(indent=2) }}"),
            "{\n  \"a\": [\n    1\n  ]\n}"
        );
        assert_eq!(render("{{ {'a': 1} | to_json(separators=[',', ':']) }}"), r#"{"a":1}"#);
        assert_err("{{ missing | to_json }}", "`missing` is undefined");
        assert_err("{{ 1 | to_json(bogus=1) }}", "bogus");
    }

    #[test]
    fn to_nice_json_indents_four_and_sorts() {
        assert_eq!(
            render("{{ app | to_nice_json }}"),
            concat!(
                "{\n",
                "    \"empty\": [],\n",
                "    \"env\": {\n",
                "        \"DEBUG\": \"no\",\n",
                "        \"PATH\": \"/usr/bin:/bin\"\n",
                "    },\n",
                "    \"motd\": \"line one\\nline two\",\n",
                "    \"name\": \"web\",\n",
                "    \"note\": \"it's: fine\",\n",
                "    \"ports\": [\n",
                "        80,\n",
                "        443\n",
                "    ],\n",
                "    \"ratio\": 0.5,\n",
                "    \"users\": [\n",
                "        {\n",
                "            \"groups\": [\n",
                "                \"wheel\",\n",
                "                \"adm\"\n",
                "            ],\n",
                "            \"name\": \"al\",\n",
                "            \"shell\": null\n",
                "        }\n",
                "    ]\n",
                "}"
            )
        );
        assert_eq!(
            render("{{ {'b': 1, 'a': 2} | to_nice_json(2, false) }}"),
            "{\n  \"b\": 1,\n  \"a\": 2\n}"
        );
    }

    #[test]
    fn to_nice_yaml_writes_block_style_like_pyyaml() {
        assert_eq!(
            render("{{ app | to_nice_yaml }}"),
            concat!(
                "empty: []\n",
                "env:\n",
                "    DEBUG: 'no'\n",
                "    PATH: /usr/bin:/bin\n",
                "motd: 'line one\n",
                "\n",
                "    line two'\n",
                "name: web\n",
                "note: 'it''s: fine'\n",
                "ports:\n",
                "- 80\n",
                "- 443\n",
                "ratio: 0.5\n",
                "users:\n",
                "-   groups:\n",
                "    - wheel\n",
                "    - adm\n",
                "    name: al\n",
                "    shell: null\n"
            )
        );
        assert_eq!(
            render("{{ [{'a': 1, 'b': [2]}] | to_nice_yaml(indent=2) }}"),
            "- a: 1\n  b:\n  - 2\n"
        );
        assert_eq!(
            render("{{ {'a': 'x ' * 50} | to_nice_yaml }}"),
            "a: 'x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x\n    x x x x x x x x x x x '\n"
        );
        assert_eq!(
            render("{{ {'b': 1, 'a': 2} | to_nice_yaml(sort_keys=false) }}"),
            "b: 1\na: 2\n"
        );
    }

    #[test]
    fn to_yaml_writes_scalar_collections_inline() {
        assert_eq!(render("{{ {'a': 1, 'b': [1, 2]} | to_yaml }}"), "a: 1\nb: [1, 2]\n");
        assert_eq!(
            render("{{ app | to_yaml }}"),
            concat!(
                "empty: []\n",
                "env: {DEBUG: 'no', PATH: '/usr/bin:/bin'}\n",
                "motd: 'line one\n",
                "\n",
                "  line two'\n",
                "name: web\n",
                "note: 'it''s: fine'\n",
                "ports: [80, 443]\n",
                "ratio: 0.5\n",
                "users:\n",
                "- groups: [wheel, adm]\n",
                "  name: al\n",
                "  shell: null\n"
            )
        );
        assert_eq!(render("{{ 'foo' | to_yaml }}"), "foo\n...\n");
        assert_eq!(
            render("{{ 'yes' | to_yaml }}|{{ '0644' | to_yaml }}|{{ '' | to_yaml }}"),
            "'yes'\n|'0644'\n|''\n"
        );
        assert_eq!(
            render("{{ ['a\tb', 'é', 1.0, 1e16, none, true] | to_yaml }}"),
            "[\"a\\tb\", é, 1.0, 1.0e+16, null, true]\n"
        );
        assert_eq!(render("{{ {'a': 1} | to_yaml(explicit_start=true) }}"), "--- {a: 1}\n");
        assert_eq!(
            render("{{ {'a': {'b': 1}} | to_yaml(explicit_start=true) }}"),
            "---\na: {b: 1}\n"
        );
    }

    #[test]
    fn from_json_parses_and_points_at_errors() {
        assert_eq!(
            render(r#"{{ ('{"a": [1, 2.5, null, true]}' | from_json).a }}"#),
            "[1, 2.5, None, True]"
        );
        assert_eq!(render(r#"{{ ('{"b": 1, "a": 2}' | from_json) | list }}"#), "['b', 'a']");
        assert_err(
            r#"{{ '{"a": }' | from_json }}"#,
            "from_json: input is not valid JSON: expected value at line 1 column 7",
        );
        assert_err("{{ 1 | from_json }}", "from_json: expected a string of JSON, got int");
    }

    #[test]
    fn from_yaml_reads_yaml_1_1() {
        assert_eq!(
            render("{{ 'a: yes\nb: [1, 0644]\nc: ~' | from_yaml }}"),
            "{'a': True, 'b': [1, 420], 'c': None}"
        );
        assert_eq!(render("{{ ('- x\n- y' | from_yaml)[1] }}"), "y");
        assert_eq!(render("{{ app.ports | from_yaml }}"), "[80, 443]");
        assert_err(
            "{{ 'a: [1, 2\nb: c' | from_yaml }}",
            "from_yaml: input is not valid YAML",
        );
        assert_err("{{ 'a: [1, 2\nb: c' | from_yaml }}", "at line 2, column");
    }

    // Paths.

    #[test]
    fn path_filters_follow_os_path() {
        assert_eq!(
            render("{{ '/etc/nginx/nginx.conf' | basename }}|{{ 'dir/' | basename }}|{{ 'x' | basename }}"),
            "nginx.conf||x"
        );
        assert_eq!(
            render(
                "{{ '/etc/nginx/nginx.conf' | dirname }}|{{ '/x' | dirname }}|{{ 'x' | dirname }}|{{ 'a/b/' | dirname }}"
            ),
            "/etc/nginx|/||a/b"
        );
        assert_eq!(
            render("{{ 'a/b.tar.gz' | splitext }}|{{ '.bashrc' | splitext }}|{{ 'a.b/c' | splitext }}"),
            "('a/b.tar', '.gz')|('.bashrc', '')|('a.b/c', '')"
        );
        assert_eq!(render("{{ ('x/file.txt' | splitext)[1] }}"), ".txt");
        assert_eq!(
            render(
                "{{ ['etc', 'app', 'conf.d'] | path_join }}|{{ ['a', '/b', 'c'] | path_join }}|{{ 'x' | path_join }}"
            ),
            "etc/app/conf.d|/b/c|x"
        );
        assert_err("{{ missing | basename }}", "`missing` is undefined");
    }

    // Regular expressions.

    #[test]
    fn regex_replace_uses_python_syntax() {
        assert_eq!(
            render(r"{{ 'host-01.example.com' | regex_replace('^(\\w+)-(\\d+)', '\\2-\\1') }}"),
            "01-host.example.com"
        );
        assert_eq!(
            render(r"{{ 'v=1.22' | regex_replace('(?P<major>\\d+)\\.(?P<minor>\\d+)', '\\g<minor>.\\g<major>') }}"),
            "v=22.1"
        );
        assert_eq!(
            render("{{ 'costs $5' | regex_replace('\\\\$(\\\\d)', '$\\\\1 USD') }}"),
            "costs $5 USD"
        );
        assert_eq!(
            render("{{ 'Hello' | regex_replace('hello', 'bye', ignorecase=true) }}"),
            "bye"
        );
        assert_eq!(
            render("{{ 'a\nb' | regex_replace('^', '> ', multiline=true) }}"),
            "> a\n> b"
        );
        assert_eq!(
            render("{{ 'aaa' | regex_replace('a', 'b', count=2) }}|{{ 'abxd' | regex_replace('x*', '-') }}"),
            "bba|-a-b--d-"
        );
        assert_eq!(render("{{ 'a,b' | regex_replace(',', '\\\\n') }}"), "a\nb");
        assert_eq!(render("{{ 8080 | regex_replace('0', 'o') }}"), "8o8o");
        assert_err(
            "{{ 'x' | regex_replace('(', 'y') }}",
            "regex_replace: invalid regular expression `(`",
        );
        assert_err(
            "{{ 'x' | regex_replace('(x)', '\\\\2') }}",
            "regex_replace: invalid group reference 2",
        );
        assert_err(
            "{{ 'aa' | regex_replace('a', 'b', mandatory_count=1) }}",
            "should match 1 times, but matches 2 times",
        );
    }

    #[test]
    fn regex_search_returns_match_groups_or_none() {
        assert_eq!(render("{{ 'server42.lan' | regex_search('[0-9]+') }}"), "42");
        assert_eq!(render("{{ 'server42.lan' | regex_search('x') is none }}"), "True");
        assert_eq!(
            render(r"{{ 'user=al id=7' | regex_search('user=(\\w+) id=(?P<id>\\d+)', '\\1', '\\g<id>') }}"),
            "['al', '7']"
        );
        assert_eq!(render("{{ 'ABC' | regex_search('b', ignorecase=true) }}"), "B");
        assert_err(
            "{{ 'x' | regex_search('x', 'oops') }}",
            "regex_search: unknown argument `oops`",
        );
    }

    #[test]
    fn regex_findall_follows_re_findall() {
        assert_eq!(
            render("{{ 'a1b22c333' | regex_findall('[0-9]+') }}"),
            "['1', '22', '333']"
        );
        assert_eq!(render("{{ 'k=v; x=y' | regex_findall('(\\\\w)=') }}"), "['k', 'x']");
        assert_eq!(
            render("{{ 'k=v; x=y' | regex_findall('(\\\\w)=(\\\\w)') }}"),
            "[('k', 'v'), ('x', 'y')]"
        );
        assert_eq!(render("{{ 'Aa' | regex_findall('a', ignorecase=true) }}"), "['A', 'a']");
    }

    #[test]
    fn regex_escape_escapes_specials() {
        assert_eq!(render("{{ '1.2.3*[x]' | regex_escape }}"), r"1\.2\.3\*\[x\]");
        assert_eq!(render("{{ 'a.b c' | regex_escape('posix_basic') }}"), r"a\.b c");
        assert_eq!(render("{{ 'a*' | regex_escape(re_type='posix_basic') }}"), r"a\*");
        assert_err(
            "{{ 'a' | regex_escape('posix_extended') }}",
            "regex_escape: regex type `posix_extended` is not supported",
        );
    }

    // Text encodings.

    #[test]
    fn quote_quotes_like_shlex() {
        assert_eq!(render("{{ 'safe-word_1.0/x' | quote }}"), "safe-word_1.0/x");
        assert_eq!(
            render("{{ 'two words' | quote }}|{{ '' | quote }}|{{ none | quote }}"),
            "'two words'|''|''"
        );
        assert_eq!(render("{{ \"it's\" | quote }}"), r#"'it'"'"'s'"#);
        assert_eq!(render("echo {{ '$HOME; rm -rf /' | quote }}"), "echo '$HOME; rm -rf /'");
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(render("{{ 'héllo' | b64encode }}"), "aMOpbGxv");
        assert_eq!(
            render("{{ 'aMOpbGxv' | b64decode }}|{{ 'aMOp\nbGxv' | b64decode }}"),
            "héllo|héllo"
        );
        assert_eq!(
            render("{{ 'ab' | b64encode(encoding='utf-16-le') }}|{{ 'YQBiAA==' | b64decode('utf-16-le') }}"),
            "YQBiAA==|ab"
        );
        assert_eq!(
            render("{{ '??>' | b64encode(urlsafe=true) }}|{{ 'Pz8-' | b64decode(urlsafe=true) }}"),
            "Pz8-|??>"
        );
        assert_err(
            "{{ 'not base64!' | b64decode }}",
            "b64decode: input is not valid base64",
        );
        assert_err(
            "{{ '/w==' | b64decode }}",
            "b64decode: the decoded data is not valid UTF-8 text",
        );
        assert_err(
            "{{ 'x' | b64encode('latin-1') }}",
            "b64encode: encoding `latin-1` is not supported",
        );
    }

    // Data shaping.

    #[test]
    fn dict2items_and_items2dict_convert_both_ways() {
        assert_eq!(
            render("{{ {'a': 1, 'b': 2} | dict2items }}"),
            "[{'key': 'a', 'value': 1}, {'key': 'b', 'value': 2}]"
        );
        assert_eq!(
            render("{{ {'a': 1} | dict2items('k', value_name='v') }}"),
            "[{'k': 'a', 'v': 1}]"
        );
        assert_eq!(
            render("{{ [{'key': 'a', 'value': 1}, {'key': 'b', 'value': 2}] | items2dict }}"),
            "{'a': 1, 'b': 2}"
        );
        assert_eq!(
            render("{{ [{'n': 'x', 'ip': 1}] | items2dict(key_name='n', value_name='ip') }}"),
            "{'x': 1}"
        );
        assert_eq!(render("{{ app.env | dict2items | items2dict == app.env }}"), "True");
        assert_err("{{ [1] | dict2items }}", "dict2items: expected a dictionary, got list");
        assert_err(
            "{{ [{'key': 'a'}] | items2dict }}",
            "items2dict: each item needs the keys `key` and `value`",
        );
        assert_err("{{ 'x' | items2dict }}", "items2dict: expected a list, got str");
    }

    #[test]
    fn combine_merges_dicts() {
        assert_eq!(
            render("{{ {'a': 1, 'b': {'x': 1}} | combine({'b': {'y': 2}, 'c': 3}) }}"),
            "{'a': 1, 'b': {'y': 2}, 'c': 3}"
        );
        assert_eq!(
            render("{{ {'a': 1, 'b': {'x': 1}} | combine({'b': {'y': 2}}, recursive=true) }}"),
            "{'a': 1, 'b': {'x': 1, 'y': 2}}"
        );
        assert_eq!(
            render("{{ {'a': 1} | combine({'a': 2}, {'a': 3, 'z': 0}) }}"),
            "{'a': 3, 'z': 0}"
        );
        assert_eq!(render("{{ [{'a': 1}, {'b': 2}] | combine }}"), "{'a': 1, 'b': 2}");
        assert_eq!(
            render("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='append') }}"),
            "{'l': [1, 2, 2, 3]}"
        );
        assert_eq!(
            render("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='append_rp') }}"),
            "{'l': [1, 2, 3]}"
        );
        assert_eq!(
            render("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='prepend') }}"),
            "{'l': [2, 3, 1, 2]}"
        );
        assert_eq!(
            render("{{ {'l': [1]} | combine({'l': [2]}, list_merge='keep') }}"),
            "{'l': [1]}"
        );
        assert_err(
            "{{ {'a': 1} | combine([1]) }}",
            "combine: expected dictionaries, got int",
        );
        assert_err(
            "{{ {} | combine({}, list_merge='zip') }}",
            "combine: list_merge must be",
        );
        assert_err("{{ {} | combine({}, deep=true) }}", "deep");
    }

    #[test]
    fn mandatory_fails_on_undefined() {
        assert_eq!(render("{{ app.name | mandatory }}"), "web");
        assert_err("{{ missing | mandatory }}", "`missing` is undefined");
        assert_err(
            "{{ missing | mandatory('set the missing variable') }}",
            "set the missing variable",
        );
        assert_err("{{ missing | mandatory(msg='say which') }}", "say which");
        let mut strict = env();
        strict.set_undefined_behavior(UndefinedBehavior::Strict);
        let err = strict.render_str("{{ nope | mandatory }}", vars()).unwrap_err();
        assert!(err.to_string().contains("`nope` is undefined"), "{err}");
    }

    #[test]
    fn ternary_picks_by_truth() {
        assert_eq!(
            render("{{ true | ternary('yes', 'no') }}|{{ 0 | ternary('yes', 'no') }}|{{ [] | ternary(1, 2) }}"),
            "yes|no|2"
        );
        assert_eq!(
            render("{{ none | ternary('t', 'f', 'n') }}|{{ none | ternary('t', 'f') }}"),
            "n|f"
        );
        assert_eq!(render("{{ 1 | ternary(false_val='f', true_val='t') }}"), "t");
        assert_err("{{ missing | ternary(1, 2) }}", "`missing` is undefined");
    }

    #[test]
    fn flatten_flattens_lists() {
        assert_eq!(
            render("{{ [1, [2, [3, [4]]], none, 'None', {'a': 1}] | flatten }}"),
            "[1, 2, 3, 4, {'a': 1}]"
        );
        assert_eq!(
            render("{{ [1, [2, [3, [4]]]] | flatten(levels=1) }}"),
            "[1, 2, [3, [4]]]"
        );
        assert_eq!(render("{{ [1, [none]] | flatten(skip_nulls=false) }}"), "[1, None]");
    }

    #[test]
    fn zip_longest_fills() {
        assert_eq!(
            render("{{ [1, 2, 3] | zip_longest(['a']) }}"),
            "[(1, 'a'), (2, None), (3, None)]"
        );
        assert_eq!(
            render("{{ [1, 2] | zip_longest([], fillvalue='-') | list }}"),
            "[(1, '-'), (2, '-')]"
        );
    }

    #[test]
    fn extract_looks_up_in_a_container() {
        assert_eq!(
            render("{{ ['a', 'b'] | map('extract', hosts, 'ip') | list }}"),
            "['10.0.0.1', '10.0.0.2']"
        );
        assert_eq!(render("{{ 1 | extract(['x', 'y']) }}"), "y");
        assert_eq!(render("{{ 'a' | extract(hosts, ['ip']) }}"), "10.0.0.1");
        assert_eq!(render("{{ 'b' | extract(hosts, morekeys='ip') }}"), "10.0.0.2");
    }

    #[test]
    fn type_debug_names_python_types() {
        assert_eq!(
            render("{{ [{}, [], 'x', 1, 1.5, true, none] | map('type_debug') | join(' ') }}"),
            "dict list str int float bool NoneType"
        );
    }

    #[test]
    fn set_theory_keeps_first_seen_order() {
        assert_eq!(render("{{ [1, 2, 3, 2] | difference([2]) }}"), "[1, 3]");
        assert_eq!(render("{{ [3, 1, 2, 1] | intersect([1, 3, 5]) }}"), "[3, 1]");
        assert_eq!(render("{{ [1, 2, 2] | union([3, 1, 4]) }}"), "[1, 2, 3, 4]");
        assert_eq!(render("{{ [1, 2, 3] | symmetric_difference([3, 4, 4]) }}"), "[1, 2, 4]");
        assert_eq!(render("{{ ['a', 'A'] | union(['a']) }}"), "['a', 'A']");
        assert_err("{{ 1 | union([1]) }}", "union: expected a list, got int");
    }

    // Tests.

    #[test]
    fn regex_tests_match_search_and_regex() {
        assert_eq!(
            render("{{ 'abc' is match('ab') }}|{{ 'abc' is match('bc') }}|{{ 'ABC' is match('ab', ignorecase=true) }}"),
            "True|False|True"
        );
        assert_eq!(
            render(
                "{{ 'abc' is search('bc') }}|{{ 'abc' is search('^bc') }}|{{ 'a\nbc' is search('^bc', multiline=true) }}"
            ),
            "True|False|True"
        );
        assert_eq!(
            render(
                "{{ 'abc' is regex('b') }}|{{ 'abc' is regex('b', match_type='match') }}|{{ 'abc' is regex('a.c', match_type='fullmatch') }}"
            ),
            "True|False|True"
        );
        assert_eq!(
            render("{{ 'a|b' is match('a|x') }}|{{ 'xb' is match('a|b') }}"),
            "True|False"
        );
        assert_eq!(
            render("{{ app.users | selectattr('name', 'match', 'a') | list | length }}"),
            "1"
        );
        assert_err("{{ 'x' is match('(') }}", "match: invalid regular expression `(`");
    }

    #[test]
    fn truthy_and_falsy() {
        assert_eq!(
            render("{{ 'x' is truthy }}|{{ '' is truthy }}|{{ [] is falsy }}|{{ 1 is falsy }}"),
            "True|False|True|False"
        );
        assert_eq!(
            render(
                "{{ 'no' is truthy }}|{{ 'no' is truthy(convert_bool=true) }}|{{ 'off' is falsy(convert_bool=true) }}"
            ),
            "True|False|True"
        );
    }

    #[test]
    fn version_compares_dotted_versions() {
        assert_eq!(
            render("{{ '1.10' is version('1.9', '>') }}|{{ '1.10' is version('1.9', 'lt') }}"),
            "True|False"
        );
        assert_eq!(
            render(
                "{{ ['lt', '<', 'le', '<=', 'gt', '>', 'ge', '>=', 'eq', '==', 'ne', '!='] | map('extract', {'lt': '2.0' is version('2.0.1', 'lt'), '<': '2.0' is version('2.0.1', '<'), 'le': '2.0' is version('2.0', 'le'), '<=': '2.0' is version('1.9', '<='), 'gt': '3' is version('2.99', 'gt'), '>': '3' is version('3', '>'), 'ge': '3.0' is version('3.0', 'ge'), '>=': '3.0' is version('3.1', '>='), 'eq': '1.0' is version('1.0', 'eq'), '==': '1.0' is version('1.0.0', '=='), 'ne': '1.0' is version('1.1', 'ne'), '!=': '1' is version('1', '!=')}) | list }}"
            ),
            "[True, True, True, False, True, False, True, False, True, False, True, False]"
        );
        assert_eq!(
            render(
                "{{ '2.4' is version('2.4') }}|{{ 7.6 is version('7.10', '<') }}|{{ '1.0a' is version('1.0', '>') }}"
            ),
            "True|True|True"
        );
        assert_eq!(
            render("{{ '1.0.0-rc.1' is version('1.0.0', '<', version_type='semver') }}"),
            "True"
        );
        assert_eq!(render("{{ '1.0b1' is version('1.0', '<', strict=true) }}"), "True");
        assert_eq!(
            render("{{ '5.4.0-89-generic' is version('5.4.0-100-generic', '<') }}"),
            "True"
        );
        assert_err(
            "{{ '1.0' is version('1.0', 'bigger') }}",
            "version: invalid operator `bigger`",
        );
        assert_err(
            "{{ '1.0.1' is version('1.0rc1', '<') }}",
            "version: cannot compare `1.0.1` with `1.0rc1`",
        );
        assert_err(
            "{{ 'x' is version('1.0', '<', version_type='semver') }}",
            "version: `x` is not a semantic version",
        );
        assert_err("{{ '' is version('1.0') }}", "version: the version to test is empty");
    }

    #[test]
    fn result_tests_read_registered_results() {
        assert_eq!(
            render(
                "{{ ok is failed }}|{{ ok is succeeded }}|{{ ok is success }}|{{ ok is changed }}|{{ ok is skipped }}"
            ),
            "False|True|True|False|False"
        );
        assert_eq!(
            render("{{ broken is failed }}|{{ broken is succeeded }}|{{ broken is failure }}"),
            "True|False|True"
        );
        assert_eq!(
            render(
                "{{ edited is changed }}|{{ edited is successful }}|{{ passed_over is skipped }}|{{ passed_over is skip }}"
            ),
            "True|True|True|True"
        );
        assert_eq!(
            render("{{ looped is changed }}|{{ looped_quiet is changed }}|{{ looped is change }}"),
            "True|False|True"
        );
        assert_eq!(
            render("{{ down is unreachable }}|{{ down is reachable }}|{{ ok is reachable }}"),
            "True|False|True"
        );
        assert_eq!(
            render("{{ [ok, broken, edited] | select('failed') | list | length }}"),
            "1"
        );
        assert_err(
            "{{ 'x' is failed }}",
            "the `failed` test expects a registered result (a dictionary), got str",
        );
    }

    #[test]
    fn list_tests() {
        assert_eq!(
            render("{{ [1, 2] is subset([1, 2, 3]) }}|{{ [1, 4] is subset([1, 2, 3]) }}"),
            "True|False"
        );
        assert_eq!(
            render("{{ [1, 2, 3] is superset([3]) }}|{{ [1] is superset([3]) }}"),
            "True|False"
        );
        assert_eq!(
            render("{{ app.ports is contains(80) }}|{{ app.ports is contains(22) }}"),
            "True|False"
        );
        assert_eq!(
            render("{{ [0, '', 1] is any }}|{{ [0, 1] is all }}|{{ [1, 'x'] is all }}|{{ [] is any }}"),
            "True|False|True|False"
        );
    }

    #[test]
    fn python_float_repr_matches_python() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123.456, "123.456"),
            (-2.5e300, "-2.5e+300"),
            (5e-324, "5e-324"),
        ];
        for (f, expected) in cases {
            assert_eq!(python_float_repr(f), expected, "{f:e}");
        }
    }
}
