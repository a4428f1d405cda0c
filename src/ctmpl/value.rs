//! The values a `.ctmpl` template computes with, modelled on what Go's text/template sees through
//! reflection: strings, ints, float64s, bools, nil, slices, string-keyed maps and consul-template's
//! records. Printing follows Go's `fmt` `%v`; JSON follows Go's `encoding/json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use super::catalog::{CatalogService, KeyPair, Node, ServiceInstance};

/// The most text one value or one rendering may hold; templates that build more are refused.
pub(crate) const MAX_TEXT: usize = 16 << 20;

/// A template value.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// Go's invalid `reflect.Value`: a missing map key or an unset dot. Prints `<no value>`.
    Missing,
    /// A nil interface inside a list or map. Prints `<nil>`.
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Vec<Value>>),
    Map(Rc<Map>),
    Record(Rc<Record>),
}

/// A map with string keys, iterated and printed in key order as Go does.
#[derive(Debug, Clone, Default)]
pub(crate) struct Map {
    pub entries: BTreeMap<String, Value>,
    /// Whether the map holds strings only (Go `map[string]string`), whose zero value is `""`;
    /// otherwise it is `map[string]interface{}` and the zero value is nil.
    pub strings: bool,
}

/// Which consul-template struct a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Service,
    KeyPair,
    CatalogService,
    Node,
}

impl RecordKind {
    /// Go's type name, as Go's messages print it.
    pub fn go_type(self) -> &'static str {
        match self {
            RecordKind::Service => "*dependency.HealthService",
            RecordKind::KeyPair => "*dependency.KeyPair",
            RecordKind::CatalogService => "*dependency.CatalogSnippet",
            RecordKind::Node => "*dependency.Node",
        }
    }

    /// What the record is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            RecordKind::Service => "a service instance",
            RecordKind::KeyPair => "a key pair",
            RecordKind::CatalogService => "a catalog service",
            RecordKind::Node => "a node",
        }
    }
}

/// One of consul-template's structs, fields in declaration order.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub kind: RecordKind,
    pub fields: Vec<(&'static str, Value)>,
}

impl Record {
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn field_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().map(|(n, _)| *n)
    }
}

impl Value {
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
        Value::list(items.into_iter().map(|s| Value::str(s.as_ref())).collect())
    }

    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(Map {
            entries,
            strings: false,
        }))
    }

    pub fn string_map(entries: &BTreeMap<String, String>) -> Value {
        let entries = entries
            .iter()
            .map(|(k, v)| (k.clone(), Value::str(v.as_str())))
            .collect();
        Value::Map(Rc::new(Map { entries, strings: true }))
    }

    fn record(kind: RecordKind, fields: Vec<(&'static str, Value)>) -> Value {
        Value::Record(Rc::new(Record { kind, fields }))
    }

    pub fn service(s: &ServiceInstance) -> Value {
        Value::record(
            RecordKind::Service,
            vec![
                ("Node", Value::str(s.node.as_str())),
                ("NodeID", Value::str(s.node_id.as_str())),
                ("NodeAddress", Value::str(s.node_address.as_str())),
                ("NodeDatacenter", Value::str(s.node_datacenter.as_str())),
                ("NodeTaggedAddresses", Value::string_map(&s.node_tagged_addresses)),
                ("NodeMeta", Value::string_map(&s.node_meta)),
                ("ServiceMeta", Value::string_map(&s.service_meta)),
                ("Address", Value::str(s.address.as_str())),
                ("ID", Value::str(s.id.as_str())),
                ("Name", Value::str(s.name.as_str())),
                ("Tags", Value::strings(&s.tags)),
                ("Status", Value::str(s.status.as_str())),
                ("Port", Value::Int(i64::from(s.port))),
            ],
        )
    }

    pub fn key_pair(p: &KeyPair) -> Value {
        Value::record(
            RecordKind::KeyPair,
            vec![
                ("Path", Value::str(p.path.as_str())),
                ("Key", Value::str(p.key.as_str())),
                ("Value", Value::str(p.value.as_str())),
                ("CreateIndex", Value::Int(p.create_index as i64)),
                ("ModifyIndex", Value::Int(p.modify_index as i64)),
                ("LockIndex", Value::Int(p.lock_index as i64)),
                ("Flags", Value::Int(p.flags as i64)),
                ("Session", Value::str(p.session.as_str())),
            ],
        )
    }

    /// A key pair with its `.Key` replaced (what `byKey` hands out).
    pub fn with_field(record: &Record, name: &str, value: Value) -> Value {
        let fields = record
            .fields
            .iter()
            .map(|(n, v)| (*n, if *n == name { value.clone() } else { v.clone() }))
            .collect();
        Value::record(record.kind, fields)
    }

    pub fn catalog_service(s: &CatalogService) -> Value {
        Value::record(
            RecordKind::CatalogService,
            vec![("Name", Value::str(s.name.as_str())), ("Tags", Value::strings(&s.tags))],
        )
    }

    pub fn node(n: &Node) -> Value {
        Value::record(
            RecordKind::Node,
            vec![
                ("ID", Value::str(n.id.as_str())),
                ("Node", Value::str(n.node.as_str())),
                ("Address", Value::str(n.address.as_str())),
                ("Datacenter", Value::str(n.datacenter.as_str())),
                ("TaggedAddresses", Value::string_map(&n.tagged_addresses)),
                ("Meta", Value::string_map(&n.meta)),
            ],
        )
    }

    /// What Go does with an `interface{}` result between pipeline stages: a nil interface
    /// becomes the invalid value.
    pub fn dig(self) -> Value {
        match self {
            Value::Nil => Value::Missing,
            other => other,
        }
    }

    /// Go's truth: false, 0, "", nil and empty lists and maps are false.
    pub fn truth(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.entries.is_empty(),
            Value::Record(_) => true,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Missing | Value::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Go's name for the value's type, as Go's messages print it.
    pub fn go_type(&self) -> String {
        match self {
            Value::Missing | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) => "string".into(),
            Value::List(items) => {
                if items.iter().all(|v| matches!(v, Value::Str(_))) && !items.is_empty() {
                    "[]string".into()
                } else if let Some(Value::Record(first)) = items.first()
                    && items
                        .iter()
                        .all(|v| matches!(v, Value::Record(r) if r.kind == first.kind))
                {
                    format!("[]{}", first.kind.go_type())
                } else {
                    "[]interface {}".into()
                }
            }
            Value::Map(m) if m.strings => "map[string]string".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Record(r) => r.kind.go_type().into(),
        }
    }

    /// The value as an action prints it (Go's `printValue`): a record is printed without the `&`
    /// Go's pointer indirection removes, an invalid value as `<no value>`.
    pub fn print_action(&self, out: &mut String) {
        match self {
            Value::Missing => out.push_str("<no value>"),
            Value::Record(r) => write_record(r, out, false, 1),
            other => other.write_v(out, 0),
        }
    }

    /// The value as `%v` prints it.
    pub fn write_v(&self, out: &mut String, depth: usize) {
        match self {
            Value::Missing | Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&format_float_g(*f)),
            Value::Str(s) => out.push_str(s),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.write_v(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push_str("map[");
                for (i, (k, v)) in m.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_v(out, depth + 1);
                }
                out.push(']');
            }
            Value::Record(r) => write_record(r, out, true, depth + 1),
        }
    }

    /// The value as `%v` prints it, as a new string.
    pub fn to_v(&self) -> String {
        let mut out = String::new();
        self.write_v(&mut out, 0);
        out
    }
}

fn write_record(r: &Record, out: &mut String, ampersand: bool, depth: usize) {
    if ampersand {
        out.push('&');
    }
    out.push('{');
    for (i, (_, v)) in r.fields.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        v.write_v(out, depth);
    }
    out.push('}');
}

/// Shortest decimal digits of a finite, non-zero `f` and the position of the decimal point
/// (Go's `digs.d` and `digs.dp`): the value is `0.DIGITS × 10^dp`.
pub(crate) fn shortest_digits(f: f64) -> (String, i32) {
    split_exp(&format!("{:e}", f.abs()))
}

/// Digits of `f` rounded to `sig` significant digits, trailing zeros dropped.
pub(crate) fn rounded_digits(f: f64, sig: usize) -> (String, i32) {
    let (mut digits, dp) = split_exp(&format!("{:.*e}", sig.saturating_sub(1), f.abs()));
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    (digits, dp)
}

fn split_exp(s: &str) -> (String, i32) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    (digits, exp + 1)
}

/// Go's `%e` layout of digits: `d.ddde±XX`, `prec` digits after the point.
pub(crate) fn layout_e(neg: bool, digits: &str, dp: i32, prec: usize, upper: bool) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let mut chars = digits.chars();
    out.push(chars.next().unwrap_or('0'));
    if prec > 0 {
        out.push('.');
        let rest: String = chars.collect();
        out.push_str(&rest);
        for _ in rest.len()..prec {
            out.push('0');
        }
    }
    let exp = if digits.trim_start_matches('0').is_empty() {
        0
    } else {
        dp - 1
    };
    out.push(if upper { 'E' } else { 'e' });
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    let _ = write!(out, "{exp}");
    out
}

/// Go's `%f` layout of digits with `frac` digits after the point.
pub(crate) fn layout_f(neg: bool, digits: &str, dp: i32, frac: usize) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let digit = |i: i32| -> char {
        if i >= 0 {
            digits.as_bytes().get(i as usize).map(|b| *b as char).unwrap_or('0')
        } else {
            '0'
        }
    };
    if dp > 0 {
        for i in 0..dp {
            out.push(digit(i));
        }
    } else {
        out.push('0');
    }
    if frac > 0 {
        out.push('.');
        for i in 0..frac as i32 {
            out.push(digit(dp + i));
        }
    }
    out
}

/// Go's `%v` / `%g` of a float64 with the shortest precision.
pub(crate) fn format_float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let neg = f.is_sign_negative();
    if f == 0.0 {
        return if neg { "-0".into() } else { "0".into() };
    }
    let (digits, dp) = shortest_digits(f);
    let exp = dp - 1;
    // Go: with the shortest precision, %e is used when the exponent is below -4 or 6 and up.
    if !(-4..6).contains(&exp) {
        return layout_e(neg, &digits, dp, digits.len() - 1, false);
    }
    let frac = (digits.len() as i32 - dp).max(0) as usize;
    layout_f(neg, &digits, dp, frac)
}

/// Go's `%g` of a float64 with an explicit precision.
pub(crate) fn format_float_g_prec(f: f64, prec: usize, upper: bool) -> String {
    if !f.is_finite() || f == 0.0 {
        return format_float_g(f);
    }
    let prec = prec.max(1);
    let neg = f.is_sign_negative();
    let (digits, dp) = rounded_digits(f, prec);
    let nd = digits.len() as i32;
    let mut eprec = prec as i32;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    let exp = dp - 1;
    if exp < -4 || exp >= eprec {
        let p = (prec as i32).min(nd);
        return layout_e(neg, &digits, dp, (p - 1).max(0) as usize, upper);
    }
    let p = if prec as i32 > dp { nd } else { prec as i32 };
    layout_f(neg, &digits, dp, (p - dp).max(0) as usize)
}

/// Go's `encoding/json` rendering of a value (`json.Marshal`, or `MarshalIndent` with two
/// spaces when `pretty`).
pub(crate) fn to_json(value: &Value, pretty: bool) -> Result<String, String> {
    let mut out = String::new();
    write_json(value, pretty, 0, &mut out)?;
    Ok(out)
}

fn json_newline(out: &mut String, pretty: bool, level: usize) {
    if pretty {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    }
}

fn write_json(value: &Value, pretty: bool, level: usize, out: &mut String) -> Result<(), String> {
    match value {
        Value::Missing | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&json_float(*f)?),
        Value::Str(s) => json_string(s, out),
        Value::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_newline(out, pretty, level + 1);
                write_json(item, pretty, level + 1, out)?;
            }
            json_newline(out, pretty, level);
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.entries.iter().map(|(k, v)| (k.as_str(), v));
            write_json_object(entries, m.entries.is_empty(), pretty, level, out)?;
        }
        Value::Record(r) => {
            let entries = r.fields.iter().map(|(k, v)| (*k, v));
            write_json_object(entries, r.fields.is_empty(), pretty, level, out)?;
        }
    }
    Ok(())
}

fn write_json_object<'a>(
    entries: impl Iterator<Item = (&'a str, &'a Value)>,
    empty: bool,
    pretty: bool,
    level: usize,
    out: &mut String,
) -> Result<(), String> {
    if empty {
        out.push_str("{}");
        return Ok(());
    }
    out.push('{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_newline(out, pretty, level + 1);
        json_string(k, out);
        out.push(':');
        if pretty {
            out.push(' ');
        }
        write_json(v, pretty, level + 1, out)?;
    }
    json_newline(out, pretty, level);
    out.push('}');
    Ok(())
}

/// Go's JSON float: `%f`-like, exponent form below 1e-6 and from 1e21 on.
fn json_float(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        return Err(format!("json: unsupported value: {}", format_float_g(f)));
    }
    if f == 0.0 {
        return Ok(if f.is_sign_negative() { "-0".into() } else { "0".into() });
    }
    let neg = f.is_sign_negative();
    let (digits, dp) = shortest_digits(f);
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        let mut s = layout_e(neg, &digits, dp, digits.len() - 1, false);
        // Go writes e-7, not e-07.
        let n = s.len();
        if n >= 4 && &s[n - 4..n - 1] == "e-0" {
            s.remove(n - 2);
        }
        return Ok(s);
    }
    let frac = (digits.len() as i32 - dp).max(0) as usize;
    Ok(layout_f(neg, &digits, dp, frac))
}

/// A JSON string as Go writes it, with `<`, `>` and `&` escaped for HTML.
pub(crate) fn json_string(s: &str, out: &mut String) {
    crate::compat::json::quote_into(out, s, crate::compat::json::Escapes::GO);
}

/// How deep parsed JSON may nest before bgrun refuses it.
const MAX_JSON_DEPTH: usize = 128;

/// A JSON document as Go's `json.Unmarshal` into `interface{}` gives it: numbers are float64.
pub(crate) fn from_json(json: &serde_json::Value, depth: usize) -> Result<Value, String> {
    if depth > MAX_JSON_DEPTH {
        return Err("JSON nests too deeply".into());
    }
    Ok(match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::str(s.as_str()),
        serde_json::Value::Array(items) => Value::list(
            items
                .iter()
                .map(|v| from_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(map) => Value::map(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        let cases = [
            (1.5, "1.5"),
            (1.0, "1"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (123456789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (3.0e-7, "3e-07"),
            (f64::INFINITY, "+Inf"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float_g(f), want, "{f}");
        }
        assert_eq!(format_float_g_prec(1.23456, 3, false), "1.23");
        assert_eq!(format_float_g_prec(1.0, 3, false), "1");
        assert_eq!(format_float_g_prec(1234567.0, 3, false), "1.23e+06");
    }

    #[test]
    fn values_print_like_go_fmt() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), Value::Int(2));
        m.insert(
            "a".to_string(),
            Value::list(vec![Value::str("x"), Value::Nil, Value::Bool(true)]),
        );
        assert_eq!(Value::map(m).to_v(), "map[a:[x <nil> true] b:2]");
        let mut out = String::new();
        Value::Missing.print_action(&mut out);
        assert_eq!(out, "<no value>");
    }

    #[test]
    fn json_like_go() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"b":[1,2.5,1e21,0.0000001],"a":"<x>&\n","c":{},"d":[]}"#).unwrap();
        let v = from_json(&json, 0).unwrap();
        assert_eq!(
            to_json(&v, false).unwrap(),
            r#"{"a":"\u003cx\u003e\u0026\n","b":[1,2.5,1e+21,1e-7],"c":{},"d":[]}"#
        );
        assert_eq!(
            to_json(&v, true).unwrap(),
            "{\n  \"a\": \"\\u003cx\\u003e\\u0026\\n\",\n  \"b\": [\n    1,\n    2.5,\n    1e+21,\n    1e-7\n  ],\n  \"c\": {},\n  \"d\": []\n}"
        );
    }
}
