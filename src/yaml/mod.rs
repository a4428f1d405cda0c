//! YAML loading with positions: a tree of [`Node`]s, each knowing its `file:line:col`.
//!
//! Scalars are resolved as PyYAML (YAML 1.1) resolves them, since that is what Ansible's files
//! are written for: `yes`/`no`/`on`/`off` are booleans and `0644` is an octal integer.
//!
//! [`resolve_plain`] is bgrun's one YAML 1.1 resolver, PyYAML's exactly: the loader reads plain
//! scalars through it (keeping its few old differences, see `load_plain`), `to_yaml` asks it
//! which strings must be quoted, and the Compose reader, which gets each scalar's text and
//! [`Style`] from [`parse_written`], resolves plain scalars with it as docker-compose does.

pub mod de;
mod flow_indent;
mod spanned;
mod unsafe_text;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::Error;
use crate::source::{SourceFile, Span};

pub use spanned::Spanned;
pub use unsafe_text::protect as protect_text;

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
    parse_written(file).map(|written| written.to_node())
}

/// Parses YAML text into a tree that keeps how each scalar was written; an empty document is a
/// plain empty scalar (null) at line 1.
pub fn parse_written(file: &Arc<SourceFile>) -> Result<Written, Error> {
    let root = match parse_text(file, &file.text, Vec::new()) {
        // PyYAML does not mind how the lines of a flow collection are indented; YAML 1.2 does.
        Err(error) if error.to_string().contains("indentation") => match flow_indent::relax(&file.text) {
            Some((text, padding)) => parse_text(file, &text, padding).map_err(|_| error)?,
            None => return Err(error),
        },
        other => other?,
    };
    Ok(root.unwrap_or_else(|| Written {
        form: Form::Scalar(Scalar {
            text: String::new(),
            style: Style::Plain,
            tagged: false,
            value: NodeValue::Null,
        }),
        span: Span::new(file, 1, 1),
    }))
}

/// Parses `text`, the file's or the file's with `padding` spaces added at the start of each
/// line (positions are reported without them).
fn parse_text(file: &Arc<SourceFile>, text: &str, padding: Vec<usize>) -> Result<Option<Written>, Error> {
    let mut builder = Builder {
        file: Arc::clone(file),
        padding,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        let span = builder.span(e.marker());
        return Err(Error::yaml(span, e.info().to_string()));
    }
    match builder.error {
        Some(error) => Err(error),
        None => Ok(builder.root),
    }
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`
    Literal,
    /// `>`
    Folded,
}

/// A scalar as written, and what bgrun's loader reads it as.
#[derive(Debug, Clone)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
    /// Whether it carried a tag (`!!str`, `!!int`, ...).
    pub tagged: bool,
    /// Never a sequence or a mapping.
    pub value: NodeValue,
}

/// A YAML node and where it was written, with each scalar's text and style.
#[derive(Debug, Clone)]
pub struct Written {
    pub form: Form,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Form {
    Scalar(Scalar),
    Seq(Vec<Written>),
    Map(Vec<(Written, Written)>),
}

impl Written {
    /// The node as bgrun's loader reads it.
    pub fn to_node(&self) -> Node {
        let value = match &self.form {
            Form::Scalar(scalar) => scalar.value.clone(),
            Form::Seq(items) => NodeValue::Seq(items.iter().map(Written::to_node).collect()),
            Form::Map(entries) => NodeValue::Map(entries.iter().map(|(k, v)| (k.to_node(), v.to_node())).collect()),
        };
        Node {
            value,
            span: self.span.clone(),
        }
    }

    fn is_merge_key(&self) -> bool {
        matches!(&self.form, Form::Scalar(Scalar { value: NodeValue::Str(s), .. }) if s == "<<")
    }
}

enum Open {
    Seq(Span, usize, Vec<Written>),
    Map(Span, usize, Vec<(Written, Written)>, Option<Written>),
}

/// A collection being read, and whether it is tagged `!unsafe`.
struct Opened {
    open: Open,
    unsafe_tagged: bool,
}

fn is_unsafe(tag: Option<&Tag>) -> bool {
    tag.is_some_and(|t| t.handle == "!" && t.suffix == "unsafe")
}

/// `!unsafe` on a collection: every string inside it is never templated.
fn protect_strings(node: &mut Written) {
    match &mut node.form {
        Form::Scalar(scalar) => {
            if let NodeValue::Str(text) = &scalar.value {
                scalar.value = NodeValue::Str(unsafe_text::protect(text));
            }
        }
        Form::Seq(items) => items.iter_mut().for_each(protect_strings),
        Form::Map(entries) => entries.iter_mut().for_each(|(_, v)| protect_strings(v)),
    }
}

struct Builder {
    file: Arc<SourceFile>,
    /// Spaces added at the start of each line (from 0) before parsing, see [`flow_indent`].
    padding: Vec<usize>,
    stack: Vec<Opened>,
    anchors: HashMap<usize, Written>,
    root: Option<Written>,
    error: Option<Error>,
}

impl Builder {
    fn span(&self, mark: &Marker) -> Span {
        // yaml-rust2 counts lines from 1 and columns from 0.
        let added = mark
            .line()
            .checked_sub(1)
            .and_then(|i| self.padding.get(i))
            .copied()
            .unwrap_or(0);
        Span::new(&self.file, mark.line(), mark.col().saturating_sub(added) + 1)
    }

    fn push_value(&mut self, node: Written, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Opened {
                open: Open::Seq(_, _, items),
                ..
            }) => items.push(node),
            Some(Opened {
                open: Open::Map(_, _, entries, pending),
                ..
            }) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if key.is_merge_key() {
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

fn same_key(a: &Written, b: &Written) -> bool {
    a.to_node().key_text() == b.to_node().key_text()
}

/// YAML's merge key `<<`: entries of the merged mappings that the mapping does not set itself.
fn merge_into(entries: &mut Vec<(Written, Written)>, merged: Written) {
    let sources = match merged.form {
        Form::Map(map) => vec![map],
        Form::Seq(items) => items
            .into_iter()
            .filter_map(|n| match n.form {
                Form::Map(map) => Some(map),
                _ => None,
            })
            .collect(),
        Form::Scalar(_) => Vec::new(),
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
        let span = self.span(&mark);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    TScalarStyle::SingleQuoted => Style::SingleQuoted,
                    TScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    TScalarStyle::Literal => Style::Literal,
                    TScalarStyle::Folded => Style::Folded,
                    TScalarStyle::Plain => Style::Plain,
                };
                let value = match load_scalar(&text, style, tag.as_ref()) {
                    Ok(value) => value,
                    Err(message) => {
                        self.fail(span.clone(), message);
                        NodeValue::Null
                    }
                };
                let scalar = Scalar {
                    text,
                    style,
                    tagged: tag.is_some(),
                    value,
                };
                self.push_value(
                    Written {
                        form: Form::Scalar(scalar),
                        span,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, tag) => self.stack.push(Opened {
                open: Open::Seq(span, anchor, Vec::new()),
                unsafe_tagged: is_unsafe(tag.as_ref()),
            }),
            Event::MappingStart(anchor, tag) => self.stack.push(Opened {
                open: Open::Map(span, anchor, Vec::new(), None),
                unsafe_tagged: is_unsafe(tag.as_ref()),
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(Opened { open, unsafe_tagged }) = self.stack.pop() else {
                    return;
                };
                let (mut node, anchor) = match open {
                    Open::Seq(span, anchor, items) => (
                        Written {
                            form: Form::Seq(items),
                            span,
                        },
                        anchor,
                    ),
                    Open::Map(span, anchor, entries, _) => {
                        // A block mapping's start event is marked after its first key; the key is
                        // where a reader sees the mapping begin.
                        let span = entries.first().map_or(span, |(first, _)| first.span.clone());
                        (
                            Written {
                                form: Form::Map(entries),
                                span,
                            },
                            anchor,
                        )
                    }
                };
                if unsafe_tagged {
                    protect_strings(&mut node);
                }
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

/// A scalar as bgrun's loader reads it: a tag or the plain style lets it be something other
/// than a string.
fn load_scalar(text: &str, style: Style, tag: Option<&Tag>) -> Result<NodeValue, String> {
    if let Some(tag) = tag {
        return match tag.suffix.as_str() {
            "str" => Ok(NodeValue::Str(text.to_string())),
            "int" | "float" | "bool" | "null" => Ok(load_plain(text)),
            "unsafe" => Ok(NodeValue::Str(unsafe_text::protect(text))),
            other => Err(format!("the YAML tag `!{other}` is not supported; remove the tag")),
        };
    }
    match style {
        Style::Plain => Ok(load_plain(text)),
        _ => Ok(NodeValue::Str(text.to_string())),
    }
}

/// A plain scalar as bgrun's loader reads it: as [`resolve_plain`] (PyYAML) does. What JSON
/// cannot hold is kept as the text Ansible would print it as: `.nan` is `nan`, `.inf` is `inf`,
/// an integer past 64 bits and a timestamp stay as written.
fn load_plain(text: &str) -> NodeValue {
    match resolve_plain(text) {
        Resolved::Null => NodeValue::Null,
        Resolved::Bool(b) => NodeValue::Bool(b),
        Resolved::Int(Some(i)) => NodeValue::Int(i),
        Resolved::Float(f) if f.is_finite() => NodeValue::Float(f),
        Resolved::Float(f) if f.is_nan() => NodeValue::Str("nan".into()),
        Resolved::Float(f) if f < 0.0 => NodeValue::Str("-inf".into()),
        Resolved::Float(_) => NodeValue::Str("inf".into()),
        _ => NodeValue::Str(text.to_string()),
    }
}

/// What YAML 1.1, as PyYAML reads it, makes of a plain (unquoted, untagged) scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    /// `None`: an integer that does not fit in 64 bits (or that PyYAML fails to build, `0b_`).
    Int(Option<i64>),
    /// Includes `.inf`, `.nan` and base 60 (`1:20.5`).
    Float(f64),
    /// `2001-12-14`, `2001-12-14 21:59:43.10 -5`.
    Timestamp,
    /// The merge key `<<`.
    Merge,
    /// The value key `=`.
    Value,
    Str,
}

static BOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$").expect("pattern")
});
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"|[-+]?\.(?:inf|Inf|INF)",
        r"|\.(?:nan|NaN|NAN))$",
    ))
    .expect("pattern")
});
static INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?0b[0-1_]+",
        r"|[-+]?0[0-7_]+",
        r"|[-+]?(?:0|[1-9][0-9_]*)",
        r"|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    ))
    .expect("pattern")
});
static NULL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?:~|null|Null|NULL|)$").expect("pattern"));
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?",
        r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    ))
    .expect("pattern")
});

/// What PyYAML (YAML 1.1) reads a plain scalar as: its implicit resolvers, tried in its order.
pub fn resolve_plain(text: &str) -> Resolved {
    if NULL.is_match(text) {
        Resolved::Null
    } else if BOOL.is_match(text) {
        Resolved::Bool(matches!(text.as_bytes()[0], b'y' | b'Y' | b't' | b'T') || text.eq_ignore_ascii_case("on"))
    } else if INT.is_match(text) {
        Resolved::Int(if text.contains(':') {
            sexagesimal(text).map(|f| f.round() as i64)
        } else {
            parse_int(text)
        })
    } else if FLOAT.is_match(text) {
        Resolved::Float(float_value(text))
    } else if TIMESTAMP.is_match(text) {
        Resolved::Timestamp
    } else if text == "<<" {
        Resolved::Merge
    } else if text == "=" {
        Resolved::Value
    } else {
        Resolved::Str
    }
}

/// The value of a text [`FLOAT`] matches.
fn float_value(text: &str) -> f64 {
    let clean = text.replace('_', "");
    match clean.trim_start_matches(['-', '+']) {
        ".inf" | ".Inf" | ".INF" if clean.starts_with('-') => f64::NEG_INFINITY,
        ".inf" | ".Inf" | ".INF" => f64::INFINITY,
        ".nan" | ".NaN" | ".NAN" => f64::NAN,
        _ if clean.contains(':') => sexagesimal(text).unwrap_or(f64::NAN),
        _ => clean.parse().unwrap_or(f64::NAN),
    }
}

/// A number in base 60 (`190:20:30`).
fn sexagesimal(s: &str) -> Option<f64> {
    let clean = s.replace('_', "");
    let (negative, body) = match clean.as_bytes().first()? {
        b'-' => (true, &clean[1..]),
        b'+' => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let mut value = 0.0;
    for part in body.split(':') {
        value = value * 60.0 + part.parse::<f64>().ok()?;
    }
    Some(if negative { -value } else { value })
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
    fn resolves_plain_scalars_as_pyyaml() {
        use Resolved::*;
        let cases = [
            ("", Null),
            ("~", Null),
            ("NULL", Null),
            ("On", Bool(true)),
            ("no", Bool(false)),
            ("0b1_01", Int(Some(5))),
            ("-0_17", Int(Some(-15))),
            ("0x_1F", Int(Some(31))),
            ("1_000", Int(Some(1000))),
            ("190:20:30", Int(Some(685230))),
            ("99999999999999999999", Int(None)),
            ("1:20.5", Float(80.5)),
            ("6.8523015e+5", Float(685230.15)),
            ("+.Inf", Float(f64::INFINITY)),
            ("-.inf", Float(f64::NEG_INFINITY)),
            ("2001-12-14", Timestamp),
            ("2001-12-14 21:59:43.10 -5", Timestamp),
            ("<<", Merge),
            ("=", Value),
            ("1.0e5", Str),
            ("-.5", Str),
            ("0+7", Str),
            ("1.2.3", Str),
            ("yes please", Str),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), want, "{text:?}");
        }
        assert!(matches!(resolve_plain(".NaN"), Float(f) if f.is_nan()));
    }

    #[test]
    fn the_loader_reads_plain_scalars_as_pyyaml() {
        let json = load("a: [1:30, .nan, +.Inf, -.inf, 2001-12-14, 1.0e5, 6.5e+2, 0+7, '1:30', 1_000]\n").to_json();
        let want = serde_json::json!([
            90,
            "nan",
            "inf",
            "-inf",
            "2001-12-14",
            "1.0e5",
            650.0,
            "0+7",
            "1:30",
            1000
        ]);
        assert_eq!(json["a"], want);
    }

    #[test]
    fn unsafe_strings_are_kept_from_templating() {
        let json = load("a: !unsafe '{{ x }}'\nb: !unsafe [ '{%', 1, plain ]\nc: !unsafe 5\n").to_json();
        assert_eq!(json["a"], "{{ '\\u007b\\u007b x \\u007d\\u007d' }}");
        assert_eq!(json["b"][1], 1);
        assert_eq!(json["b"][2], "plain");
        assert_eq!(json["c"], "5");
    }

    #[test]
    fn a_flow_mapping_may_be_indented_less_than_its_key() {
        let text = "- hosts: all\n  vars:\n    v: {\n  \"b\": \"x\",\n  \"c\": {\"d\": [1,\n 2]}\n}\n";
        let node = load(text);
        assert_eq!(
            node.to_json()[0]["vars"]["v"],
            serde_json::json!({"b": "x", "c": {"d": [1, 2]}})
        );
        let v = node.as_seq().unwrap()[0].get("vars").unwrap().get("v").unwrap();
        let b = &v.as_map().unwrap()[0].0;
        assert_eq!((b.span.line, b.span.col), (4, 3));
    }

    #[test]
    fn written_scalars_keep_their_style() {
        let root = parse_written(&SourceFile::new(
            "t.yml",
            "a: 1\nb: '1'\nc: \"1\"\nd: |\n  1\ne: >\n  1\nf: &x 2\ng: *x\n",
        ))
        .unwrap();
        let Form::Map(entries) = &root.form else {
            panic!("a mapping")
        };
        let styles: Vec<(String, Style)> = entries
            .iter()
            .map(|(k, v)| match (&k.form, &v.form) {
                (Form::Scalar(k), Form::Scalar(v)) => (format!("{}={}", k.text, v.text.trim_end()), v.style),
                _ => panic!("scalars"),
            })
            .collect();
        use Style::*;
        let want = [
            ("a=1", Plain),
            ("b=1", SingleQuoted),
            ("c=1", DoubleQuoted),
            ("d=1", Literal),
            ("e=1", Folded),
            ("f=2", Plain),
            ("g=2", Plain),
        ];
        assert_eq!(styles, want.map(|(t, s)| (t.to_string(), s)));
        assert_eq!(
            root.to_node().to_json(),
            serde_json::json!({"a": 1, "b": "1", "c": "1", "d": "1\n", "e": "1\n", "f": 2, "g": 2})
        );
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
