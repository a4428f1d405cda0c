//! YAML loading with positions: a tree of [`Node`]s, each knowing its `file:line:col`.
//!
//! Scalars are resolved as PyYAML (YAML 1.1) resolves them, since that is what Ansible's files
//! are written for: `yes`/`no`/`on`/`off` are booleans and `0644` is an octal integer.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::Error;
use crate::source::{SourceFile, Span};

/// One YAML value and where it was written.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: NodeValue,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What this node is, in words, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, NodeValue::Null)
    }

    /// The key of a mapping entry as text (keys that are numbers or booleans are printed).
    pub fn key_text(&self) -> String {
        match &self.value {
            NodeValue::Str(s) => s.clone(),
            _ => scalar_text(&self.to_json()),
        }
    }

    /// Looks up a key of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The value as JSON, the form variables and module arguments take.
    pub fn to_json(&self) -> Value {
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::Number((*i).into()),
            NodeValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            NodeValue::Str(s) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.key_text(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// An error at this node.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::invalid(self.span.clone(), message)
    }
}

/// A scalar JSON value as Ansible would print it in a string.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A variables file (group_vars, host_vars, vars_files, a role's defaults and vars, `-e @file`):
/// a YAML (or JSON) mapping; an empty file has no variables.
pub fn load_vars_file(path: &std::path::Path) -> Result<Map<String, Value>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file = SourceFile::new(path, text);
    if file.text.starts_with("$ANSIBLE_VAULT") {
        return Err(Error::invalid(
            Span::new(&file, 1, 1),
            "this variables file is encrypted with Ansible Vault",
        )
        .with_help("bgrun cannot decrypt vault files; decrypt it with `ansible-vault decrypt`"));
    }
    let root = parse(&file)?;
    match root.to_json() {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        _ => Err(root
            .error(format!(
                "a variables file must be a mapping of variable names to values, found {}",
                root.kind()
            ))
            .with_help("write one `name: value` per line")),
    }
}

/// Parses YAML text into a node tree; an empty document is `Null` at line 1.
pub fn parse(file: &Arc<SourceFile>) -> Result<Node, Error> {
    let mut builder = Builder {
        file: Arc::clone(file),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        error: None,
    };
    let mut parser = Parser::new_from_str(&file.text);
    if let Err(e) = parser.load(&mut builder, false) {
        let span = marker_span(file, e.marker());
        return Err(Error::yaml(span, e.info().to_string()));
    }
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder.root.unwrap_or_else(|| Node {
        value: NodeValue::Null,
        span: Span::new(file, 1, 1),
    }))
}

fn marker_span(file: &Arc<SourceFile>, mark: &Marker) -> Span {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Span::new(file, mark.line(), mark.col() + 1)
}

enum Open {
    Seq(Node, usize, Vec<Node>),
    Map(Node, usize, Vec<(Node, Node)>, Option<Node>),
}

struct Builder {
    file: Arc<SourceFile>,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<Error>,
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq(_, _, items)) => items.push(node),
            Some(Open::Map(_, _, entries, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if key.as_str() == Some("<<") && !matches!(key.value, NodeValue::Null) {
                        merge_into(entries, node);
                    } else if let Some(slot) = entries.iter_mut().find(|(k, _)| same_key(k, &key)) {
                        *slot = (key, node);
                    } else {
                        entries.push((key, node));
                    }
                }
            },
        }
    }

    fn fail(&mut self, span: Span, message: String) {
        if self.error.is_none() {
            self.error = Some(Error::yaml(span, message));
        }
    }
}

fn same_key(a: &Node, b: &Node) -> bool {
    a.key_text() == b.key_text()
}

/// YAML's merge key `<<`: entries of the merged mappings that the mapping does not set itself.
fn merge_into(entries: &mut Vec<(Node, Node)>, merged: Node) {
    let sources = match merged.value {
        NodeValue::Map(map) => vec![map],
        NodeValue::Seq(items) => items
            .into_iter()
            .filter_map(|n| match n.value {
                NodeValue::Map(map) => Some(map),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for map in sources {
        for (k, v) in map {
            if !entries.iter().any(|(existing, _)| same_key(existing, &k)) {
                entries.push((k, v));
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let span = marker_span(&self.file, &mark);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = match resolve_scalar(text, style, tag.as_ref()) {
                    Ok(value) => value,
                    Err(message) => {
                        self.fail(span.clone(), message);
                        NodeValue::Null
                    }
                };
                self.push_value(Node { value, span }, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Open::Seq(
                    Node {
                        value: NodeValue::Null,
                        span,
                    },
                    anchor,
                    Vec::new(),
                ));
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Open::Map(
                    Node {
                        value: NodeValue::Null,
                        span,
                    },
                    anchor,
                    Vec::new(),
                    None,
                ));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Open::Seq(mut node, anchor, items)) => {
                        node.value = NodeValue::Seq(items);
                        (node, anchor)
                    }
                    Some(Open::Map(mut node, anchor, entries, _)) => {
                        // A block mapping's start event is marked after its first key; the key is
                        // where a reader sees the mapping begin.
                        if let Some((first, _)) = entries.first() {
                            node.span = first.span.clone();
                        }
                        node.value = NodeValue::Map(entries);
                        (node, anchor)
                    }
                    None => return,
                };
                self.push_value(node, anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    node.span = span;
                    self.push_value(node, 0);
                }
                None => self.fail(span, "alias to an unknown anchor".into()),
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
}

fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Result<NodeValue, String> {
    if let Some(tag) = tag {
        return match tag.suffix.as_str() {
            "str" => Ok(NodeValue::Str(text)),
            "int" | "float" | "bool" | "null" => Ok(resolve_plain(text)),
            other => Err(format!("the YAML tag `!{other}` is not supported; remove the tag")),
        };
    }
    match style {
        TScalarStyle::Plain => Ok(resolve_plain(text)),
        _ => Ok(NodeValue::Str(text)),
    }
}

fn resolve_plain(text: String) -> NodeValue {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return NodeValue::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return NodeValue::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" => return NodeValue::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return NodeValue::Float(f64::NEG_INFINITY),
        _ => {}
    }
    if let Some(i) = parse_int(&text) {
        return NodeValue::Int(i);
    }
    if looks_like_float(&text)
        && let Ok(f) = text.replace('_', "").parse::<f64>()
    {
        return NodeValue::Float(f);
    }
    NodeValue::Str(text)
}

/// YAML 1.1 integers: decimal, `0x` hex, `0b` binary and `0`-prefixed octal.
fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let clean = digits.replace('_', "");
    if clean.is_empty() || digits.starts_with('_') {
        return None;
    }
    let value = if let Some(hex) = clean.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = clean.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if clean.len() > 1 && clean.starts_with('0') {
        i64::from_str_radix(&clean[1..], 8).ok()?
    } else if clean.bytes().all(|b| b.is_ascii_digit()) {
        clean.parse().ok()?
    } else {
        return None;
    };
    Some(if negative { -value } else { value })
}

fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    body.contains('.')
        && body.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '_' | 'e' | 'E' | '-' | '+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Node {
        parse(&SourceFile::new("t.yml", text)).expect("valid yaml")
    }

    #[test]
    fn resolves_yaml_1_1_scalars() {
        let node = load("a: yes\nb: off\nc: 0644\nd: '0644'\ne: 1.5\nf: ~\ng: 0x1f\nh: 10\ni: 1.2.3\n");
        let json = node.to_json();
        assert_eq!(json["a"], true);
        assert_eq!(json["b"], false);
        assert_eq!(json["c"], 420);
        assert_eq!(json["d"], "0644");
        assert_eq!(json["e"], 1.5);
        assert_eq!(json["f"], Value::Null);
        assert_eq!(json["g"], 31);
        assert_eq!(json["h"], 10);
        assert_eq!(json["i"], "1.2.3");
    }

    #[test]
    fn positions_count_from_one() {
        let node = load("- hosts: all\n  steps:\n    - debug: msg=hi\n");
        let play = &node.as_seq().unwrap()[0];
        let steps = play.get("steps").unwrap();
        let step = &steps.as_seq().unwrap()[0];
        assert_eq!((step.span.line, step.span.col), (3, 7));
        let key = &play.as_map().unwrap()[1].0;
        assert_eq!((key.span.line, key.span.col), (2, 3));
    }

    #[test]
    fn anchors_and_merge_keys() {
        let node = load("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n");
        assert_eq!(node.to_json()["other"], serde_json::json!({"y": 3, "x": 1}));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse(&SourceFile::new("bad.yml", "a: [1, 2\nb: c\n")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("bad.yml:"), "{text}");
    }
}
