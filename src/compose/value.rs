//! The dynamic values a Compose file is processed as: what docker-compose holds in Python dicts and
//! lists, each value knowing where it was written so errors can point at it.
//!
//! YAML is read with [`crate::yaml`], keeping each scalar's style, and a plain scalar is resolved
//! as PyYAML (which docker-compose uses) resolves it ([`crate::yaml::resolve_plain`]), where
//! bgrun's loader differs: sexagesimal numbers (`1:30` is 90), floats that PyYAML does not
//! recognise (`1.0e5` is a string) and `.nan`.

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

use super::types::{MountSpec, ServicePort, VolumeSpec};
use crate::source::Span;
use crate::yaml::{Form, NodeValue, Resolved, Scalar, Style, Written, resolve_plain};

/// A value and the place it was written.
#[derive(Debug, Clone)]
pub struct Val {
    pub v: V,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Val>),
    Map(Dict),
    /// docker-compose's `ServicePort` (a named tuple).
    Port(ServicePort),
    /// docker-compose's `VolumeSpec` (a named tuple).
    Volume(VolumeSpec),
    /// docker-compose's `MountSpec` (the long volume syntax).
    Mount(MountSpec),
}

/// A mapping in written order; each key keeps its own position.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    entries: IndexMap<String, (Span, Val)>,
    /// Keys YAML read as something other than a string (`off:`, `8080:`), as their text.
    non_string_keys: Vec<String>,
}

impl Dict {
    pub fn new() -> Self {
        Dict::default()
    }

    pub fn get(&self, key: &str) -> Option<&Val> {
        self.entries.get(key).map(|(_, v)| v)
    }

    /// Whether YAML read the key as a string (and not a number or boolean written bare).
    pub fn key_is_string(&self, key: &str) -> bool {
        !self.non_string_keys.iter().any(|k| k == key)
    }

    pub fn key_span(&self, key: &str) -> Option<&Span> {
        self.entries.get(key).map(|(s, _)| s)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Sets a key; an existing key keeps its place (as a Python dict does).
    pub fn insert(&mut self, key: impl Into<String>, key_span: Span, value: Val) {
        let key = key.into();
        if let Some(slot) = self.entries.get_mut(&key) {
            slot.1 = value;
        } else {
            self.entries.insert(key, (key_span, value));
        }
    }

    /// Sets a key, using the value's own span for a new key.
    pub fn set(&mut self, key: impl Into<String>, value: Val) {
        let span = value.span.clone();
        self.insert(key, span, value);
    }

    pub fn remove(&mut self, key: &str) -> Option<Val> {
        self.entries.shift_remove(key).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Val)> {
        self.entries.iter().map(|(k, (_, v))| (k, v))
    }

    pub fn iter_spans(&self) -> impl Iterator<Item = (&String, &Span, &Val)> {
        self.entries.iter().map(|(k, (s, v))| (k, s, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.keys()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Python's `dict.update`.
    pub fn update(&mut self, other: Dict) {
        for (k, (span, v)) in other.entries {
            self.insert(k, span, v);
        }
    }
}

impl Val {
    pub fn new(v: V, span: Span) -> Self {
        Val { v, span }
    }

    pub fn null(span: &Span) -> Self {
        Val::new(V::Null, span.clone())
    }

    pub fn str(s: impl Into<String>, span: &Span) -> Self {
        Val::new(V::Str(s.into()), span.clone())
    }

    pub fn map(d: Dict, span: &Span) -> Self {
        Val::new(V::Map(d), span.clone())
    }

    pub fn list(items: Vec<Val>, span: &Span) -> Self {
        Val::new(V::List(items), span.clone())
    }

    pub fn as_map(&self) -> Option<&Dict> {
        match &self.v {
            V::Map(d) => Some(d),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Val]> {
        match &self.v {
            V::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.v, V::Null)
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match &self.v {
            V::Null => false,
            V::Bool(b) => *b,
            V::Int(i) => *i != 0,
            V::Float(f) => *f != 0.0,
            V::Str(s) => !s.is_empty(),
            V::List(items) => !items.is_empty(),
            V::Map(d) => !d.is_empty(),
            V::Port(_) | V::Volume(_) | V::Mount(_) => true,
        }
    }

    /// What the value is, in words, for error messages.
    pub fn kind(&self) -> &'static str {
        match &self.v {
            V::Null => "null",
            V::Bool(_) => "a boolean",
            V::Int(_) => "an integer",
            V::Float(_) => "a number",
            V::Str(_) => "a string",
            V::List(_) => "a list",
            V::Map(_) => "a mapping",
            V::Port(_) => "a port",
            V::Volume(_) | V::Mount(_) => "a volume",
        }
    }

    /// `str(value)` in Python, for scalars.
    pub fn py_str(&self) -> String {
        super::py::str_of(&self.to_json())
    }

    /// The value as the JSON docker-compose would serialise it (named tuples become lists).
    pub fn to_json(&self) -> Value {
        match &self.v {
            V::Null => Value::Null,
            V::Bool(b) => Value::Bool(*b),
            V::Int(i) => Value::Number((*i).into()),
            V::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            V::Str(s) => Value::String(s.clone()),
            V::List(items) => Value::Array(items.iter().map(Val::to_json).collect()),
            V::Map(d) => Value::Object(d.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<Map<_, _>>()),
            V::Port(p) => p.to_json(),
            V::Volume(v) => v.to_json(),
            V::Mount(m) => m.to_json(),
        }
    }

    /// Builds a value from JSON, every part at `span`.
    pub fn from_json(value: &Value, span: &Span) -> Val {
        let v = match value {
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => V::Int(i),
                None => V::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => V::Str(s.clone()),
            Value::Array(items) => V::List(items.iter().map(|i| Val::from_json(i, span)).collect()),
            Value::Object(map) => {
                let mut d = Dict::new();
                for (k, v) in map {
                    d.insert(k.clone(), span.clone(), Val::from_json(v, span));
                }
                V::Map(d)
            }
        };
        Val::new(v, span.clone())
    }
}

/// Converts a YAML node to a value, resolving scalars as PyYAML does.
pub fn from_node(node: &Written) -> Val {
    let v = match &node.form {
        Form::Scalar(scalar) => from_scalar(scalar),
        Form::Seq(items) => V::List(items.iter().map(from_node).collect()),
        Form::Map(entries) => {
            let mut d = Dict::new();
            for (k, v) in entries {
                // Keys are as bgrun's loader reads them.
                let k = k.to_node();
                if k.as_str().is_none() {
                    d.non_string_keys.push(k.key_text());
                }
                d.insert(k.key_text(), k.span.clone(), from_node(v));
            }
            V::Map(d)
        }
    };
    Val::new(v, node.span.clone())
}

/// A plain scalar as PyYAML reads it (what it cannot hold in JSON, timestamps and integers
/// beyond 64 bits, stays text); a quoted or tagged one as bgrun's loader does.
fn from_scalar(scalar: &Scalar) -> V {
    if scalar.style != Style::Plain || scalar.tagged {
        return match &scalar.value {
            NodeValue::Null => V::Null,
            NodeValue::Bool(b) => V::Bool(*b),
            NodeValue::Int(i) => V::Int(*i),
            NodeValue::Float(f) => V::Float(*f),
            _ => V::Str(scalar.text.clone()),
        };
    }
    match resolve_plain(&scalar.text) {
        Resolved::Null => V::Null,
        Resolved::Bool(b) => V::Bool(b),
        Resolved::Int(Some(i)) => V::Int(i),
        Resolved::Float(f) => V::Float(f),
        Resolved::Int(None) | Resolved::Timestamp | Resolved::Merge | Resolved::Value | Resolved::Str => {
            V::Str(scalar.text.clone())
        }
    }
}

/// The text of the source from a span's position to the end of its line.
fn source_at(span: &Span) -> Option<String> {
    let line = span.file.text.lines().nth(span.line.checked_sub(1)?)?;
    Some(line.chars().skip(span.col.saturating_sub(1)).collect())
}

/// The plain word written at a span (up to a space, `,`, `]`, `}` or `#`), for messages.
pub fn written_word(span: &Span) -> Option<String> {
    let src = source_at(span)?;
    let word: String = src
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}' | '#'))
        .collect();
    // A mapping key is followed by its colon.
    let word = word.strip_suffix(':').unwrap_or(&word).to_string();
    (!word.is_empty() && !word.starts_with(['\'', '"'])).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn load(text: &str) -> Value {
        let node = crate::yaml::parse_written(&SourceFile::new("t.yml", text)).unwrap();
        from_node(&node).to_json()
    }

    #[test]
    fn scalars_resolve_as_pyyaml_does() {
        let json = load("a: [22:22, 1:30, '22:22', 80:80, 190:20:30, 1.0e5, 1.5, -.5, 1:20.5, 8080, 1.5e+3]\n");
        assert_eq!(
            json["a"],
            serde_json::json!([
                1342, 90, "22:22", "80:80", 685230, "1.0e5", 1.5, "-.5", 80.5, 8080, 1500.0
            ])
        );
    }

    #[test]
    fn plain_scalars_only_and_wherever_they_are_written() {
        let json = load("a: [0+7, !!str 1:30, &x 1:30, *x, \"1:30\", 2001-12-14]\n");
        assert_eq!(
            json["a"],
            serde_json::json!(["0+7", "1:30", 90, 90, "1:30", "2001-12-14"])
        );
        let node = crate::yaml::parse_written(&SourceFile::new("t.yml", "a: [+.Inf, .nan]\n")).unwrap();
        let val = from_node(&node);
        let items = val.as_map().unwrap().get("a").unwrap().as_list().unwrap();
        assert!(matches!(items[0].v, V::Float(f) if f == f64::INFINITY));
        assert!(matches!(items[1].v, V::Float(f) if f.is_nan()));
    }
}
