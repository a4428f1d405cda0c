//! `from_yaml`, `to_yaml` and `to_nice_yaml`: a port of the PyYAML emitter behind Ansible's
//! `to_yaml`, so the text matches line for line.

use minijinja::Error;
use minijinja::value::{Kwargs, Serde, Value};

use crate::compat::python::float_repr;
use crate::source::SourceFile;

use super::args::*;
use super::data::*;

pub(super) fn from_yaml(value: &Value) -> Result<Value, Error> {
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
        let repr = float_repr(f).to_lowercase();
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

/// Whether a YAML 1.1 reader would take this text, unquoted, for something other than a string.
fn resolves_to_non_string(s: &str) -> bool {
    crate::yaml::resolve_plain(s) != crate::yaml::Resolved::Str
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
pub(super) fn to_yaml(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent = kwargs.get::<Option<usize>>("indent")?.unwrap_or(2);
    dump_yaml("to_yaml", value, &kwargs, indent, None)
}

/// `to_nice_yaml(indent=4, ...)`: block style throughout.
pub(super) fn to_nice_yaml(value: &Value, indent: Option<usize>, kwargs: Kwargs) -> Result<String, Error> {
    let indent = match indent {
        Some(indent) => indent,
        None => kwargs.get::<Option<usize>>("indent")?.unwrap_or(4),
    };
    dump_yaml("to_nice_yaml", value, &kwargs, indent, Some(false))
}

/// `from_yaml_all`: every document of a YAML stream, as a list.
pub(super) fn from_yaml_all(value: &Value) -> Result<Value, Error> {
    defined(value)?;
    let Some(s) = value.as_str() else {
        return Ok(value.clone());
    };
    let mut documents: Vec<String> = vec![String::new()];
    let mut started = false;
    for line in s.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") {
            if started || !documents[0].trim().is_empty() {
                documents.push(String::new());
            }
            started = true;
            if let Some(rest) = bare.strip_prefix("--- ")
                && let Some(last) = documents.last_mut()
            {
                last.push_str(rest);
                last.push('\n');
            }
            continue;
        }
        if bare == "..." {
            continue;
        }
        if let Some(last) = documents.last_mut() {
            last.push_str(line);
        }
    }
    if !started && documents[0].trim().is_empty() {
        return Ok(Value::from(Vec::<Value>::new()));
    }
    let parsed: Result<Vec<Value>, Error> = documents
        .iter()
        .map(|doc| from_yaml(&Value::from(doc.as_str())))
        .collect();
    Ok(Value::from(parsed?))
}
