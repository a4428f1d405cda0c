//! Ansible's INI inventory format: `[group]` sections of hosts with inline `key=value` variables,
//! `[group:vars]` and `[group:children]` sections, host ranges like `web[01:10]` and `host:port`.
//!
//! Host names, ranges and ports are also used by the YAML format and host lists, so the address
//! parsing and range expansion live here too.

use std::sync::{Arc, LazyLock};

use indexmap::IndexMap;
use regex::Regex;
use serde_json::{Map, Number, Value};

use super::{Inventory, UNGROUPED, span_at};
use crate::error::{Error, suggest};
use crate::source::SourceFile;

/// A range never expands to more hosts than this; beyond it the range is surely a typo.
const MAX_RANGE_HOSTS: usize = 100_000;

static SECTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$").expect("section pattern is valid"));
static GROUP_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^:\]\s]+)\s*(?:#.*)?$").expect("group name pattern is valid"));
static BRACKETED_HOSTPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[(.+)\]:([0-9]+)$").expect("bracketed host pattern is valid"));
static HOSTPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$").expect("host:port pattern is valid"));
static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    let range = r"\[(?:[a-zA-Z]:[a-zA-Z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]";
    let label = format!(r"(?:\w|{range})(?:[\w-]|{range})*");
    Regex::new(&format!(r"^{label}(?:\.{label})*\.?$")).expect("hostname pattern is valid")
});
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[0-9a-fA-F.]|:|\[[0-9a-fA-F]+:[0-9a-fA-F]+(?::[0-9]+)?\])+$").expect("ipv6 pattern is valid")
});

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Hosts,
    Vars,
    Children,
}

/// A reference to a group that no section of the file has declared yet.
struct Pending {
    line: usize,
    col: usize,
    state: State,
    parents: Vec<String>,
}

/// Reads an INI inventory into `inventory`.
pub(super) fn parse(inventory: &mut Inventory, file: &Arc<SourceFile>) -> Result<(), Error> {
    let mut pending: IndexMap<String, Pending> = IndexMap::new();
    let mut group = UNGROUPED;
    let mut state = State::Hosts;

    for (index, raw) in file.text.split('\n').enumerate() {
        let line_no = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let lead = raw.len() - raw.trim_start().len();
        let col = |offset: usize| raw.get(..lead + offset).map_or(1, |s| s.chars().count() + 1);

        if let Some(caps) = SECTION.captures(line) {
            let name = caps.get(1).map_or("", |m| m.as_str());
            state = match caps.get(2).map(|m| (m.as_str(), m.start())) {
                None | Some(("hosts", _)) => State::Hosts,
                Some(("vars", _)) => State::Vars,
                Some(("children", _)) => State::Children,
                Some((other, start)) => {
                    let span = span_at(file, line_no, col(start));
                    let mut help = format!("a section is `[{name}]`, `[{name}:vars]` or `[{name}:children]`");
                    if let Some(s) = suggest(other, ["vars", "children", "hosts"]) {
                        help = format!("did you mean `{s}`? {help}");
                    }
                    return Err(
                        Error::invalid(span, format!("section `[{name}:{other}]` has unknown type `{other}`"))
                            .with_help(help),
                    );
                }
            };
            if inventory.group_index(name).is_none() {
                // `[g]` or `[g:children]` declares a group; `[g:vars]` needs one declared somewhere.
                if state == State::Vars && !pending.contains_key(name) {
                    pending.insert(
                        name.to_string(),
                        Pending {
                            line: line_no,
                            col: col(0),
                            state,
                            parents: Vec::new(),
                        },
                    );
                }
                inventory.add_group(name);
            }
            if state != State::Vars
                && let Some(declaration) = pending.get(name)
            {
                match declaration.state {
                    State::Children => add_pending_children(inventory, file, name, &mut pending)?,
                    _ => {
                        pending.shift_remove(name);
                    }
                }
            }
            group = inventory.add_group(name);
            continue;
        }
        if line.starts_with('[') && !is_bracketed_host_line(line) {
            let span = span_at(file, line_no, col(0));
            let help = if line.ends_with(']') {
                "a section header is `[group]`, `[group:vars]` or `[group:children]`, with no spaces or other \
                 characters in the group name"
            } else {
                "close it with `]`: a section header is `[group]`, `[group:vars]` or `[group:children]`"
            };
            return Err(Error::invalid(span, format!("malformed section header `{line}`")).with_help(help));
        }

        match state {
            State::Hosts => host_line(inventory, file, line_no, raw, lead, group)?,
            State::Vars => {
                let Some((key, value)) = line.split_once('=') else {
                    let name = &inventory.groups[group].name;
                    return Err(Error::invalid(
                        span_at(file, line_no, col(0)),
                        format!("expected `key=value` in `[{name}:vars]`, found `{line}`"),
                    )
                    .with_help("each line of a `:vars` section sets one variable, like `http_port=8080`"));
                };
                let key = key.trim();
                if key.is_empty() {
                    return Err(
                        Error::invalid(span_at(file, line_no, col(0)), "variable name missing before `=`")
                            .with_help("write the variable as `name=value`"),
                    );
                }
                inventory.set_group_var(group, key.to_string(), group_var_value(value.trim()));
            }
            State::Children => {
                let Some(child) = GROUP_NAME.captures(line).and_then(|c| c.get(1)).map(|m| m.as_str()) else {
                    let name = &inventory.groups[group].name;
                    return Err(Error::invalid(
                        span_at(file, line_no, col(0)),
                        format!("expected a group name in `[{name}:children]`, found `{line}`"),
                    )
                    .with_help("list one child group per line; hosts go in `[group]` sections"));
                };
                match inventory.group_index(child) {
                    Some(child_index) => inventory
                        .add_child(group, child_index)
                        .map_err(|message| Error::invalid(span_at(file, line_no, col(0)), message))?,
                    None => {
                        let parent = inventory.groups[group].name.clone();
                        pending
                            .entry(child.to_string())
                            .or_insert(Pending {
                                line: line_no,
                                col: col(0),
                                state,
                                parents: Vec::new(),
                            })
                            .parents
                            .push(parent);
                    }
                }
            }
        }
    }

    // A reference no section resolved is an error, as in Ansible; report the first.
    if let Some((name, declaration)) = pending.first() {
        let span = span_at(file, declaration.line, declaration.col);
        let known: Vec<&str> = inventory
            .groups
            .keys()
            .map(String::as_str)
            .filter(|g| g != name && !pending.contains_key(*g))
            .collect();
        let did_you_mean = suggest(name, known.iter().copied())
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        return Err(match declaration.state {
            State::Vars => Error::invalid(
                span,
                format!("`[{name}:vars]` sets variables of group `{name}`, which is not defined"),
            )
            .with_help(format!(
                "{did_you_mean}declare the group with a `[{name}]` or `[{name}:children]` section"
            )),
            _ => {
                let parent = declaration.parents.last().map_or("", String::as_str);
                Error::invalid(
                    span,
                    format!("`[{parent}:children]` names group `{name}`, which is not defined"),
                )
                .with_help(format!(
                    "{did_you_mean}declare it with a `[{name}]` section listing its hosts"
                ))
            }
        });
    }
    Ok(())
}

/// A group referenced as a child before its section: now that it is declared, link it.
fn add_pending_children(
    inventory: &mut Inventory,
    file: &Arc<SourceFile>,
    name: &str,
    pending: &mut IndexMap<String, Pending>,
) -> Result<(), Error> {
    let Some(declaration) = pending.shift_remove(name) else {
        return Ok(());
    };
    let child = inventory.add_group(name);
    for parent in &declaration.parents {
        let parent_index = inventory.add_group(parent);
        inventory
            .add_child(parent_index, child)
            .map_err(|message| Error::invalid(span_at(file, declaration.line, declaration.col), message))?;
        if pending.get(parent).is_some_and(|p| p.state == State::Children) {
            add_pending_children(inventory, file, parent, pending)?;
        }
    }
    Ok(())
}

/// A `[` line that is a bracketed IPv6 host with a port, like `[fe80::1]:2222`, not a section.
fn is_bracketed_host_line(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    BRACKETED_HOSTPORT
        .captures(first)
        .is_some_and(|c| c.get(1).is_some_and(|m| is_ipv6(m.as_str())))
}

/// One line of a hosts section: a host pattern followed by `key=value` variables.
fn host_line(
    inventory: &mut Inventory,
    file: &Arc<SourceFile>,
    line_no: usize,
    raw: &str,
    lead: usize,
    group: usize,
) -> Result<(), Error> {
    let col = |offset: usize| raw.get(..offset).map_or(1, |s| s.chars().count() + 1);
    let line = &raw[lead..];
    let tokens = shlex_split(line).map_err(|e| {
        Error::invalid(span_at(file, line_no, col(lead + e.offset)), e.message)
            .with_help("close the quote, or escape the character with `\\`")
    })?;
    let Some((pattern, start)) = tokens.first() else {
        return Ok(());
    };
    let start = lead + start;
    let (names, port) = expand_host_pattern(pattern).map_err(|e| {
        let error = Error::invalid(
            span_at(file, line_no, col(start + e.offset.min(pattern.len()))),
            e.message,
        );
        match e.help {
            Some(help) => error.with_help(help),
            None => error,
        }
    })?;
    let mut vars = Vec::new();
    for (token, offset) in &tokens[1..] {
        let span = span_at(file, line_no, col(lead + offset));
        let Some((key, value)) = token.split_once('=') else {
            return Err(Error::invalid(
                span,
                format!("expected `key=value` after the host name, found `{token}`"),
            )
            .with_help("quote values that contain spaces, like `key=\"a b\"`"));
        };
        if key.is_empty() {
            return Err(Error::invalid(span, "variable name missing before `=`").with_help("write it as `name=value`"));
        }
        vars.push((key.to_string(), host_var_value(value)));
    }
    for name in names {
        let host = inventory.add_host(&name, group, port);
        for (key, value) in &vars {
            inventory.set_host_var(host, key.clone(), value.clone());
        }
    }
    Ok(())
}

/// Non-UTF-8 bytes are tolerated in comment lines only, as in Ansible.
pub(super) fn check_utf8(file: &Arc<SourceFile>, bytes: &[u8]) -> Result<(), Error> {
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(());
    }
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if std::str::from_utf8(line).is_err() {
            let start = line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
            if !matches!(line.get(start), Some(b'#' | b';')) {
                return Err(
                    Error::invalid(span_at(file, index + 1, 1), "this line is not valid UTF-8")
                        .with_help("save the inventory as UTF-8"),
                );
            }
        }
    }
    Ok(())
}

// ----- values -----

/// An inline host variable: a Python literal (`22`, `True`, `'text'`, `[1, 2]`) or else the text.
pub(super) fn host_var_value(text: &str) -> Value {
    parse_literal(text).map_or_else(|| Value::String(text.to_string()), |(value, _)| value)
}

/// A `[g:vars]` value: a string (quotes removed), as Ansible documents; a list or dict literal
/// stays a list or dict, as Ansible's parser reads it.
pub(super) fn group_var_value(text: &str) -> Value {
    match parse_literal(text) {
        Some((value @ (Value::String(_) | Value::Array(_) | Value::Object(_)), _)) => value,
        Some((_, end)) => Value::String(text[..end].to_string()),
        None => Value::String(text.to_string()),
    }
}

/// Parses a Python literal as `ast.literal_eval` does (numbers, strings, `True`/`False`/`None`,
/// lists, tuples, sets and dicts; `true`/`false` too). Returns the value and where the literal
/// ends, before any trailing `# comment`; `None` when the text is not a literal.
pub(super) fn parse_literal(text: &str) -> Option<(Value, usize)> {
    let mut p = Literal { s: text, pos: 0 };
    p.skip_space();
    let first = p.expr(0)?;
    let mut end = p.pos;
    p.skip_space();
    let value = if p.peek() == Some(',') {
        let mut items = vec![first];
        while p.eat(',') {
            end = p.pos;
            p.skip_space();
            if p.at_end() {
                break;
            }
            items.push(p.expr(1)?);
            end = p.pos;
            p.skip_space();
        }
        Value::Array(items)
    } else {
        first
    };
    p.skip_space();
    if p.peek() == Some('#') {
        p.pos = p.s.len();
    }
    p.at_end().then_some((value, end))
}

struct Literal<'a> {
    s: &'a str,
    pos: usize,
}

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    let digits = r"[0-9](?:_?[0-9])*";
    Regex::new(&format!(
        r"^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:{digits}\.(?:{digits})?|\.{digits})(?:[eE][+-]?{digits})?|{digits}[eE][+-]?{digits}|{digits})[jJ]?"
    ))
    .expect("number pattern is valid")
});

impl<'a> Literal<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' || c == '\x0c' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn expr(&mut self, depth: usize) -> Option<Value> {
        if depth > 64 {
            return None;
        }
        let c = self.peek()?;
        match c {
            '[' => {
                self.pos += 1;
                let items = self.items(']', depth)?;
                Some(Value::Array(items))
            }
            '(' => {
                self.pos += 1;
                self.skip_space();
                if self.eat(')') {
                    return Some(Value::Array(Vec::new()));
                }
                let first = self.expr(depth + 1)?;
                self.skip_space();
                if self.eat(')') {
                    return Some(first);
                }
                if !self.eat(',') {
                    return None;
                }
                let mut items = vec![first];
                items.extend(self.items(')', depth)?);
                Some(Value::Array(items))
            }
            '{' => {
                self.pos += 1;
                self.braces(depth)
            }
            '+' | '-' => {
                self.pos += 1;
                self.skip_space();
                let value = self.number()?;
                if c == '+' {
                    return Some(value);
                }
                match value {
                    Value::Number(n) => {
                        if let Some(i) = n.as_i64() {
                            i.checked_neg().map(Value::from)
                        } else if let Some(u) = n.as_u64() {
                            (u == i64::MIN.unsigned_abs()).then_some(Value::from(i64::MIN))
                        } else {
                            n.as_f64().and_then(|f| Number::from_f64(-f)).map(Value::Number)
                        }
                    }
                    _ => None,
                }
            }
            '0'..='9' | '.' => self.number(),
            '\'' | '"' => self.strings(),
            _ if c.is_alphabetic() || c == '_' => {
                if self.string_prefix().is_some() {
                    return self.strings();
                }
                let word: String = self
                    .rest()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let value = match word.as_str() {
                    // Python's literals; inside lists and mappings JSON's spelling is read too.
                    "True" => Value::Bool(true),
                    "False" => Value::Bool(false),
                    "true" if depth > 0 => Value::Bool(true),
                    "false" if depth > 0 => Value::Bool(false),
                    "None" => Value::Null,
                    "null" if depth > 0 => Value::Null,
                    _ => return None,
                };
                self.pos += word.len();
                Some(value)
            }
            _ => None,
        }
    }

    /// Comma-separated items up to `close` (a trailing comma is allowed).
    fn items(&mut self, close: char, depth: usize) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expr(depth + 1)?);
            self.skip_space();
            if self.eat(close) {
                return Some(items);
            }
            if !self.eat(',') {
                return None;
            }
        }
    }

    /// `{...}`: a dict, or a set (read as a list).
    fn braces(&mut self, depth: usize) -> Option<Value> {
        self.skip_space();
        if self.eat('}') {
            return Some(Value::Object(Map::new()));
        }
        let first = self.expr(depth + 1)?;
        self.skip_space();
        if !self.eat(':') {
            let mut items = vec![first];
            self.skip_space();
            if !self.eat('}') {
                if !self.eat(',') {
                    return None;
                }
                items.extend(self.items('}', depth)?);
            }
            let mut unique: Vec<Value> = Vec::new();
            for item in items {
                if matches!(item, Value::Array(_) | Value::Object(_)) {
                    return None;
                }
                if !unique.contains(&item) {
                    unique.push(item);
                }
            }
            return Some(Value::Array(unique));
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            self.skip_space();
            let value = self.expr(depth + 1)?;
            map.insert(key_text(&key)?, value);
            self.skip_space();
            if self.eat('}') {
                return Some(Value::Object(map));
            }
            if !self.eat(',') {
                return None;
            }
            self.skip_space();
            if self.eat('}') {
                return Some(Value::Object(map));
            }
            key = self.expr(depth + 1)?;
            self.skip_space();
            if !self.eat(':') {
                return None;
            }
        }
    }

    fn number(&mut self) -> Option<Value> {
        let matched = NUMBER.find(self.rest())?.as_str();
        let after = self.rest()[matched.len()..].chars().next();
        if after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            return None;
        }
        self.pos += matched.len();
        if matched.ends_with(['j', 'J']) {
            return None; // complex numbers have no JSON form; the text is kept
        }
        let clean = matched.replace('_', "");
        let lower = clean.to_ascii_lowercase();
        let radix = [("0x", 16), ("0o", 8), ("0b", 2)]
            .into_iter()
            .find(|(p, _)| lower.starts_with(p));
        if let Some((prefix, radix)) = radix {
            let digits = &lower[prefix.len()..];
            return i64::from_str_radix(digits, radix)
                .map(Value::from)
                .ok()
                .or_else(|| u64::from_str_radix(digits, radix).ok().map(Value::from));
        }
        if lower.contains(['.', 'e']) {
            return lower.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number);
        }
        if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|b| b != b'0') {
            return None; // Python rejects leading zeros: `010` is text
        }
        lower
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| lower.parse::<u64>().ok().map(Value::from))
    }

    /// The length of a string prefix (`r`, `b`, `u`, `rb`, ...) if a quote follows it.
    fn string_prefix(&self) -> Option<usize> {
        let rest = self.rest();
        let letters = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        if letters == 0 || letters > 2 || !matches!(rest.as_bytes().get(letters), Some(b'\'' | b'"')) {
            return None;
        }
        let prefix = rest[..letters].to_ascii_lowercase();
        matches!(prefix.as_str(), "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf").then_some(letters)
    }

    /// One or more adjacent string literals, concatenated.
    fn strings(&mut self) -> Option<Value> {
        let mut out = String::new();
        let mut kind: Option<bool> = None;
        loop {
            let prefix_len = self.string_prefix().unwrap_or(0);
            if prefix_len == 0 && !matches!(self.peek(), Some('\'' | '"')) {
                break;
            }
            let prefix = self.rest()[..prefix_len].to_ascii_lowercase();
            if prefix.contains('f') {
                return None; // f-strings are not literals
            }
            let bytes = prefix.contains('b');
            if kind.is_some_and(|k| k != bytes) {
                return None;
            }
            kind = Some(bytes);
            self.pos += prefix_len;
            out.push_str(&self.string(prefix.contains('r'), bytes)?);
            self.skip_space();
        }
        kind.map(|_| Value::String(out))
    }

    fn string(&mut self, raw: bool, bytes: bool) -> Option<String> {
        let quote = self.peek()?;
        let triple: String = std::iter::repeat_n(quote, 3).collect();
        let long = self.rest().starts_with(&triple);
        self.pos += if long { 3 } else { 1 };
        let mut out: Vec<u8> = Vec::new();
        let push = |out: &mut Vec<u8>, c: char| {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        };
        loop {
            let c = self.peek()?;
            if bytes && !c.is_ascii() {
                return None;
            }
            if long && self.rest().starts_with(&triple) {
                self.pos += 3;
                break;
            }
            if !long && c == quote {
                self.pos += 1;
                break;
            }
            if c == '\n' && !long {
                return None;
            }
            self.pos += c.len_utf8();
            if c != '\\' {
                push(&mut out, c);
                continue;
            }
            let e = self.peek()?;
            self.pos += e.len_utf8();
            if raw {
                push(&mut out, '\\');
                push(&mut out, e);
                continue;
            }
            match e {
                '\n' => {}
                '\\' | '\'' | '"' => push(&mut out, e),
                'a' => out.push(0x07),
                'b' => out.push(0x08),
                'f' => out.push(0x0c),
                'n' => out.push(b'\n'),
                'r' => out.push(b'\r'),
                't' => out.push(b'\t'),
                'v' => out.push(0x0b),
                '0'..='7' => {
                    let mut value = e.to_digit(8)?;
                    for _ in 0..2 {
                        match self.peek().and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                value = value * 8 + d;
                                self.pos += 1;
                            }
                            None => break,
                        }
                    }
                    if bytes {
                        out.push(u8::try_from(value & 0xff).ok()?);
                    } else {
                        push(&mut out, char::from_u32(value)?);
                    }
                }
                'x' => {
                    let value = self.hex(2)?;
                    if bytes {
                        out.push(u8::try_from(value).ok()?);
                    } else {
                        push(&mut out, char::from_u32(value)?);
                    }
                }
                'u' if !bytes => push(&mut out, char::from_u32(self.hex(4)?)?),
                'U' if !bytes => push(&mut out, char::from_u32(self.hex(8)?)?),
                'N' if !bytes => return None,
                other => {
                    push(&mut out, '\\');
                    push(&mut out, other);
                }
            }
        }
        String::from_utf8(out).ok()
    }

    fn hex(&mut self, count: usize) -> Option<u32> {
        let digits = self.rest().get(..count)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += count;
        u32::from_str_radix(digits, 16).ok()
    }
}

/// A dict key as text, as Python would print it.
fn key_text(key: &Value) -> Option<String> {
    Some(match key {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

// ----- shell-like splitting -----

pub(super) struct ShlexError {
    pub message: &'static str,
    pub offset: usize,
}

/// Splits a host line as Python's `shlex.split(line, comments=True)` does: whitespace separates,
/// quotes group and are removed, `\` escapes, `#` starts a comment. Each token comes with the byte
/// offset where it starts.
pub(super) fn shlex_split(line: &str) -> Result<Vec<(String, usize)>, ShlexError> {
    use crate::compat::python::ShlexError as E;
    crate::compat::python::shlex_split_at(line, true).map_err(|e| match e {
        E::NoClosingQuotation { quote: '\'', offset } => ShlexError {
            message: "unclosed quote `'`",
            offset,
        },
        E::NoClosingQuotation { offset, .. } => ShlexError {
            message: "unclosed quote `\"`",
            offset,
        },
        E::NoEscapedCharacter { offset } => ShlexError {
            message: "nothing follows `\\`",
            offset,
        },
    })
}

// ----- host names, ports and ranges -----

/// A host name with an optional port, split out of `host:port` or `[ipv6]:port`.
pub(super) struct Address<'a> {
    pub host: &'a str,
    /// Where `host` starts in the text that was parsed.
    pub offset: usize,
    pub port: Option<&'a str>,
}

/// Ansible's `parse_address`: a hostname, IPv4 or IPv6 address, with an optional port; ranges
/// like `web[1:3]` are accepted when `allow_ranges`. `None` when the text is none of these.
pub(super) fn parse_address(text: &str, allow_ranges: bool) -> Option<Address<'_>> {
    let mut address = Address {
        host: text,
        offset: 0,
        port: None,
    };
    if let Some(caps) = BRACKETED_HOSTPORT.captures(text)
        && let (Some(host), Some(port)) = (caps.get(1), caps.get(2))
    {
        address = Address {
            host: host.as_str(),
            offset: host.start(),
            port: Some(port.as_str()),
        };
    }
    if let Some(caps) = HOSTPORT.captures(address.host)
        && let (Some(host), Some(port)) = (caps.get(1), caps.get(2))
    {
        address.host = host.as_str();
        address.port = Some(port.as_str());
    }
    let host = address.host;
    if !(HOSTNAME.is_match(host) || is_ipv6(host)) {
        return None;
    }
    if !allow_ranges && host.contains('[') {
        return None;
    }
    Some(address)
}

pub(super) fn is_ipv6(text: &str) -> bool {
    text.matches(':').count() >= 2 && IPV6.is_match(text)
}

/// A host pattern that cannot be read; `offset` is where in the pattern the problem is.
#[derive(Debug)]
pub(super) struct PatternError {
    pub message: String,
    pub help: Option<String>,
    pub offset: usize,
}

impl PatternError {
    fn new(offset: usize, message: impl Into<String>, help: impl Into<String>) -> Self {
        PatternError {
            message: message.into(),
            help: Some(help.into()),
            offset,
        }
    }
}

/// A host entry of an inventory: `name`, `name:port`, with ranges like `web[01:10]`,
/// `db-[a:c]` or `[1:10:2]` expanded. Returns the host names and the port.
pub(super) fn expand_host_pattern(pattern: &str) -> Result<(Vec<String>, Option<i64>), PatternError> {
    let (name, offset, port) = match parse_address(pattern, true) {
        Some(address) => (address.host, address.offset, address.port),
        None => (pattern, 0, None),
    };
    let port = match port {
        Some(digits) => Some(digits.parse::<i64>().map_err(|_| {
            PatternError::new(
                pattern.len() - digits.len(),
                format!("port `{digits}` is out of range"),
                "ports go up to 65535",
            )
        })?),
        None => None,
    };
    if port.is_none() && pattern.trim_end().ends_with(':') {
        return Err(PatternError::new(
            pattern.len().saturating_sub(1),
            format!("host `{pattern}` ends with `:` but no port follows"),
            "write the port after the colon, like `web1:2222`, or remove the colon",
        ));
    }
    if name.trim() == "---" {
        return Err(PatternError::new(
            0,
            "`---` is not a host name; this looks like a YAML file",
            "a YAML inventory is a mapping of groups, like `all:` with `hosts:` under it; name the file .yml to see \
             YAML errors",
        ));
    }
    if name.is_empty() {
        return Err(PatternError::new(0, "empty host name", "write a host name or address"));
    }
    let mut hosts = Vec::new();
    expand_ranges(name, &mut hosts).map_err(|mut e| {
        e.offset += offset;
        e
    })?;
    Ok((hosts, port))
}

/// Expands every `[begin:end(:step)]` in `name`, leftmost first, into `out`.
fn expand_ranges(name: &str, out: &mut Vec<String>) -> Result<(), PatternError> {
    let Some(open) = name.find('[') else {
        out.push(name.to_string());
        return Ok(());
    };
    let help = "a host range looks like `web[1:3]`, `web[01:10]`, `db-[a:c]` or `web[1:10:2]`";
    if let Some(close) = name[..open].find(']') {
        return Err(PatternError::new(
            close,
            format!("unexpected `]` in host name `{name}`"),
            help,
        ));
    }
    let Some(close) = name[open..].find(']').map(|c| open + c) else {
        return Err(PatternError::new(
            open,
            format!("unclosed `[` in host name `{name}`"),
            help,
        ));
    };
    let (head, inner, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let bounds: Vec<&str> = inner.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(PatternError::new(
            open,
            format!("host range `[{inner}]` must be `[begin:end]` or `[begin:end:step]`"),
            help,
        ));
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(PatternError::new(
            open,
            format!("host range `[{inner}]` has no end"),
            help,
        ));
    }
    let step = match bounds.get(2) {
        None => 1,
        Some(s) => match s.trim().parse::<usize>() {
            Ok(step) if step > 0 => step,
            _ => {
                return Err(PatternError::new(
                    open,
                    format!("the step of host range `[{inner}]` must be a positive whole number"),
                    help,
                ));
            }
        },
    };
    let width = (begin.starts_with('0') && begin.len() > 1).then_some(begin.len());
    if let Some(width) = width
        && end.len() != width
    {
        return Err(PatternError::new(
            open,
            format!("zero-padded host range `[{inner}]` needs begin and end of the same width"),
            format!(
                "write `[{:0>w$}:{end}]`",
                begin.trim_start_matches('0'),
                w = end.len().max(1)
            ),
        ));
    }

    let mut tails = Vec::new();
    expand_ranges(tail, &mut tails).map_err(|mut e| {
        e.offset += close + 1;
        e
    })?;

    let letters = letter_index(begin).zip(letter_index(end));
    let values: Vec<String> = if let Some((first, last)) = letters {
        if first > last {
            return Err(PatternError::new(
                open,
                format!("host range `[{inner}]` must have begin <= end"),
                format!("write `[{end}:{begin}]`"),
            ));
        }
        (first..=last)
            .step_by(step)
            .filter_map(index_letter)
            .map(String::from)
            .collect()
    } else {
        let (Ok(first), Ok(last)) = (begin.trim().parse::<i64>(), end.trim().parse::<i64>()) else {
            return Err(PatternError::new(
                open,
                format!("host range `[{inner}]` must have numbers or single letters as bounds"),
                help,
            ));
        };
        if first > last {
            return Err(PatternError::new(
                open,
                format!("host range `[{inner}]` must have begin <= end"),
                format!("write `[{end}:{begin}]`"),
            ));
        }
        let count = (i128::from(last) - i128::from(first)) / step as i128 + 1;
        if count.saturating_mul(tails.len() as i128) + out.len() as i128 > MAX_RANGE_HOSTS as i128 {
            return Err(too_many(open));
        }
        (first..=last)
            .step_by(step)
            .map(|n| match width {
                Some(w) => format!("{n:0w$}"),
                None => n.to_string(),
            })
            .collect()
    };
    if values.len().saturating_mul(tails.len()) + out.len() > MAX_RANGE_HOSTS {
        return Err(too_many(open));
    }
    for value in &values {
        for tail in &tails {
            out.push(format!("{head}{value}{tail}"));
        }
    }
    Ok(())
}

fn too_many(offset: usize) -> PatternError {
    PatternError::new(
        offset,
        format!("host range expands to more than {MAX_RANGE_HOSTS} hosts"),
        "check the range bounds; list very large fleets in several ranges",
    )
}

/// Position in Python's `string.ascii_letters` (`a`..`z` then `A`..`Z`).
fn letter_index(text: &str) -> Option<u32> {
    let mut chars = text.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    match c {
        'a'..='z' => Some(c as u32 - 'a' as u32),
        'A'..='Z' => Some(26 + c as u32 - 'A' as u32),
        _ => None,
    }
}

fn index_letter(index: u32) -> Option<char> {
    match index {
        0..=25 => char::from_u32('a' as u32 + index),
        26..=51 => char::from_u32('A' as u32 + index - 26),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, inventory, names, parse};
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_vars_and_children() {
        let inv = inventory(
            "hosts",
            "# a comment\n; another\n[web]\nweb1\nweb2 ansible_user=deploy   # trailing\n\n[db]\ndb1\n\n[servers:children]\nweb\ndb  # comment\n\n[servers:vars]\nntp = time.example.com\n[all:vars]\nansible_user=root\n",
        );
        let groups = inv.groups_map();
        assert_eq!(groups["servers"], ["web1", "web2", "db1"]);
        assert_eq!(groups["all"], ["web1", "web2", "db1"]);
        assert_eq!(inv.group_names("db1"), ["db", "servers"]);
        let web2 = inv.vars_for("web2");
        assert_eq!(web2["ansible_user"], "deploy");
        assert_eq!(web2["ntp"], "time.example.com");
        assert_eq!(inv.vars_for("web1")["ansible_user"], "root");
    }

    #[test]
    fn children_declared_before_their_section() {
        let inv = inventory("hosts", "[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh1\n");
        assert_eq!(inv.groups_map()["top"], ["h1"]);
        assert_eq!(inv.group_names("h1"), ["leaf", "mid", "top"]);
    }

    #[test]
    fn empty_group_and_vars_of_declared_group() {
        let inv = inventory(
            "hosts",
            "[bench]\n\n[bench:vars]\nansible_user=root\ndocker_host=unix:///var/run/docker.sock\n",
        );
        assert!(inv.groups_map()["bench"].is_empty());
        assert!(names(&inv).is_empty());
    }

    #[test]
    fn ungrouped_hosts() {
        let inv = inventory("hosts", "alone\nlisted\n[g]\nlisted\n");
        assert_eq!(inv.groups_map()["ungrouped"], ["alone"]);
        assert_eq!(inv.groups_map()["g"], ["listed"]);
        assert_eq!(inv.group_names("listed"), ["g"]);
    }

    #[test]
    fn ranges_of_each_kind() {
        let inv = inventory(
            "hosts",
            "[num]\nweb[1:3]\n[pad]\nweb[01:10].example.com\n[alpha]\ndb-[a:c]\n[stride]\nn[1:10:3]\n[open]\no[:2]\n[two]\nr[1:2]-[a:b]\n",
        );
        let groups = inv.groups_map();
        assert_eq!(groups["num"], ["web1", "web2", "web3"]);
        assert_eq!(groups["pad"].len(), 10);
        assert_eq!(groups["pad"][0], "web01.example.com");
        assert_eq!(groups["pad"][9], "web10.example.com");
        assert_eq!(groups["alpha"], ["db-a", "db-b", "db-c"]);
        assert_eq!(groups["stride"], ["n1", "n4", "n7", "n10"]);
        assert_eq!(groups["open"], ["o0", "o1", "o2"]);
        assert_eq!(groups["two"], ["r1-a", "r1-b", "r2-a", "r2-b"]);
    }

    #[test]
    fn range_with_port_and_vars() {
        let inv = inventory("hosts", "[web]\nweb[1:2]:2222 role=front\n");
        for host in ["web1", "web2"] {
            let vars = inv.vars_for(host);
            assert_eq!(vars["ansible_port"], json!(2222));
            assert_eq!(vars["role"], "front");
        }
    }

    #[test]
    fn host_port_forms() {
        let inv = inventory(
            "hosts",
            "web1:2222\n10.0.0.5:22\n[fe80::1]:2200\nfe80::2\nweb2:2222 ansible_port=22\n",
        );
        assert_eq!(names(&inv), ["web1", "10.0.0.5", "fe80::1", "fe80::2", "web2"]);
        assert_eq!(inv.vars_for("web1")["ansible_port"], json!(2222));
        assert_eq!(inv.vars_for("10.0.0.5")["ansible_port"], json!(22));
        assert_eq!(inv.vars_for("fe80::1")["ansible_port"], json!(2200));
        assert!(!inv.vars_for("fe80::2").contains_key("ansible_port"));
        // An inline `ansible_port` is set after the port, so it wins.
        assert_eq!(inv.vars_for("web2")["ansible_port"], json!(22));
    }

    #[test]
    fn inline_values_are_python_literals() {
        let inv = inventory(
            "hosts",
            concat!(
                "h a=1 b=-2 c=1.5 d=True e=false f=None g='quoted text' h=\"'05'\" i=\"[1,'x']\" ",
                "j=\"{'k':[1,2]}\" k=010 l=plain m=\"two words\" n=0x1F o=(1,2) p=1e3 q=a=b r= s=\"#x\"\n"
            ),
        );
        let v = inv.vars_for("h");
        assert_eq!(v["a"], json!(1));
        assert_eq!(v["b"], json!(-2));
        assert_eq!(v["c"], json!(1.5));
        assert_eq!(v["d"], json!(true));
        assert_eq!(v["e"], "false", "Python's literal_eval knows only `False`");
        assert_eq!(v["f"], Value::Null);
        assert_eq!(v["g"], "quoted text");
        assert_eq!(v["h"], "05");
        assert_eq!(v["i"], json!([1, "x"]));
        assert_eq!(v["j"], json!({"k": [1, 2]}));
        assert_eq!(v["k"], "010");
        assert_eq!(v["l"], "plain");
        assert_eq!(v["m"], "two words");
        assert_eq!(v["n"], json!(31));
        assert_eq!(v["o"], json!([1, 2]));
        assert_eq!(v["p"], json!(1000.0));
        assert_eq!(v["q"], "a=b");
        assert_eq!(v["r"], "");
        assert_eq!(v["s"], "#x");
        // The shell-like split removes quotes first, as Ansible's does.
        let inv = inventory("hosts", "h i=[1,'x'] port=\"22\"\n");
        assert_eq!(inv.vars_for("h")["i"], "[1,x]");
        assert_eq!(inv.vars_for("h")["port"], json!(22));
    }

    #[test]
    fn group_vars_section_values_are_strings() {
        let inv = inventory(
            "hosts",
            "[g]\nh\n[g:vars]\nport=8080 # comment\nflag=True\nname=\"quoted value\"\nsingle='x'\nlist=[1, 2]\nraw=10.0.0.1 # kept\nspaced = a b c \nempty=\n",
        );
        let v = inv.vars_for("h");
        assert_eq!(v["port"], "8080");
        assert_eq!(v["flag"], "True");
        assert_eq!(v["name"], "quoted value");
        assert_eq!(v["single"], "x");
        assert_eq!(v["list"], json!([1, 2]));
        assert_eq!(v["raw"], "10.0.0.1 # kept");
        assert_eq!(v["spaced"], "a b c");
        assert_eq!(v["empty"], "");
    }

    #[test]
    fn literal_parser() {
        let value = |text: &str| parse_literal(text).map(|(v, _)| v);
        assert_eq!(value("42"), Some(json!(42)));
        assert_eq!(value("1_000"), Some(json!(1000)));
        assert_eq!(value("0o17"), Some(json!(15)));
        assert_eq!(value("0b101"), Some(json!(5)));
        assert_eq!(value(".5"), Some(json!(0.5)));
        assert_eq!(value("- 3"), Some(json!(-3)));
        assert_eq!(value("'a' \"b\""), Some(json!("ab")));
        assert_eq!(value(r"'tab\there'"), Some(json!("tab\there")));
        assert_eq!(value(r"r'raw\n'"), Some(json!("raw\\n")));
        assert_eq!(value(r"'\x41\u00e9'"), Some(json!("Aé")));
        assert_eq!(value("'''triple'''"), Some(json!("triple")));
        assert_eq!(value("b'bytes'"), Some(json!("bytes")));
        assert_eq!(value("{1, 2, 2}"), Some(json!([1, 2])));
        assert_eq!(value("{1: 'a', True: None}"), Some(json!({"1": "a", "True": null})));
        assert_eq!(value("[true, null]"), Some(json!([true, null])));
        assert_eq!(value("1, 2"), Some(json!([1, 2])));
        assert_eq!(value("()"), Some(json!([])));
        assert_eq!(value("(5)"), Some(json!(5)));
        assert_eq!(value("[1, 2,]"), Some(json!([1, 2])));
        assert_eq!(value("7 # seven"), Some(json!(7)));
        for text in [
            "null", "abc", "1j", "1+2j", "f'x'", "'open", "[1,", "1 2", "--1", "01", "1__0", "{[1]: 2}", "...",
        ] {
            assert_eq!(value(text), None, "{text}");
        }
    }

    #[test]
    fn shlex_like_python() {
        let split = |line: &str| {
            shlex_split(line)
                .ok()
                .map(|t| t.into_iter().map(|(s, _)| s).collect::<Vec<_>>())
        };
        assert_eq!(
            split("a b='c d' e=\"f\\\"g\""),
            Some(vec!["a".into(), "b=c d".into(), "e=f\"g".into()])
        );
        assert_eq!(split("a#comment b"), Some(vec!["a".into()]));
        assert_eq!(split("a\\ b c"), Some(vec!["a b".into(), "c".into()]));
        assert_eq!(split("x=\"a\\nb\""), Some(vec!["x=a\\nb".into()]));
        assert_eq!(split("''"), Some(vec![String::new()]));
        assert!(split("a 'open").is_none());
        assert!(split("a \\").is_none());
    }

    #[test]
    fn addresses() {
        let address = |text: &str, ranges: bool| {
            parse_address(text, ranges).map(|a| (a.host.to_string(), a.port.map(String::from)))
        };
        assert_eq!(address("web1", false), Some(("web1".into(), None)));
        assert_eq!(address("web1:22", false), Some(("web1".into(), Some("22".into()))));
        assert_eq!(address("[::1]:22", false), Some(("::1".into(), Some("22".into()))));
        assert_eq!(address("2001:db8::1", false), Some(("2001:db8::1".into(), None)));
        assert_eq!(
            address("web[1:3]:22", true),
            Some(("web[1:3]".into(), Some("22".into())))
        );
        assert_eq!(address("web[1:3]", false), None);
        assert_eq!(address("web*", true), None);
        assert_eq!(address("a:b", true), None);
    }

    fn assert_error(text: &str, expected: &[&str]) {
        let rendered = error("hosts", text);
        for part in expected {
            assert!(rendered.contains(part), "missing {part:?} in:\n{rendered}");
        }
    }

    #[test]
    fn error_malformed_section_header() {
        assert_error(
            "[web]\nweb1\n  [prod\nweb2\n",
            &[
                "error: hosts:3:3: malformed section header `[prod`",
                "3 |   [prod\n  |   ^",
                "help: close it with `]`",
            ],
        );
        assert_error(
            "[web servers]\n",
            &[
                "hosts:1:1: malformed section header `[web servers]`",
                "help: a section header is `[group]`",
            ],
        );
    }

    #[test]
    fn error_unknown_section_type() {
        assert_error(
            "[web:var]\nx=1\n",
            &[
                "hosts:1:6: section `[web:var]` has unknown type `var`",
                "help: did you mean `vars`?",
            ],
        );
    }

    #[test]
    fn error_bad_ranges() {
        assert_error(
            "[web]\nweb[3:1]\n",
            &[
                "hosts:2:4: host range `[3:1]` must have begin <= end",
                "help: write `[1:3]`",
            ],
        );
        assert_error("db-[c:a]\n", &["hosts:1:4: host range `[c:a]` must have begin <= end"]);
        assert_error(
            "web[01:100]\n",
            &[
                "hosts:1:4: zero-padded host range `[01:100]` needs begin and end of the same width",
                "write `[001:100]`",
            ],
        );
        assert_error(
            "web[1]\n",
            &["hosts:1:4: host range `[1]` must be `[begin:end]` or `[begin:end:step]`"],
        );
        assert_error("web[1:]\n", &["hosts:1:4: host range `[1:]` has no end"]);
        assert_error(
            "web[1:5:0]\n",
            &["hosts:1:4: the step of host range `[1:5:0]` must be a positive whole number"],
        );
        assert_error(
            "web[1:x]\n",
            &["hosts:1:4: host range `[1:x]` must have numbers or single letters as bounds"],
        );
        assert_error(
            "web[1:3\n",
            &[
                "hosts:1:4: unclosed `[` in host name `web[1:3`",
                "help: a host range looks like",
            ],
        );
        assert_error("h[0:999][0:999]\n", &["host range expands to more than 100000 hosts"]);
    }

    #[test]
    fn error_bad_host_lines() {
        assert_error(
            "web1 ansible_user\n",
            &[
                "hosts:1:6: expected `key=value` after the host name, found `ansible_user`",
                "help: quote values",
            ],
        );
        assert_error(
            "web1 x='open\n",
            &["hosts:1:8: unclosed quote `'`", "help: close the quote"],
        );
        assert_error(
            "[g]\nweb1:\n",
            &["hosts:2:5: host `web1:` ends with `:` but no port follows", "web1:2222"],
        );
        assert_error(
            "---\n",
            &["hosts:1:1: `---` is not a host name; this looks like a YAML file"],
        );
        assert_error("web1 =x\n", &["hosts:1:6: variable name missing before `=`"]);
        assert_error(
            "web1:99999999999999999999\n",
            &["port `99999999999999999999` is out of range"],
        );
    }

    #[test]
    fn error_bad_vars_and_children_lines() {
        assert_error(
            "[g]\nh\n[g:vars]\njustaword\n",
            &[
                "hosts:4:1: expected `key=value` in `[g:vars]`, found `justaword`",
                "help: each line of a `:vars` section",
            ],
        );
        assert_error(
            "[g:children]\ntwo words\n",
            &["hosts:2:1: expected a group name in `[g:children]`, found `two words`"],
        );
    }

    #[test]
    fn error_undefined_groups() {
        assert_error(
            "[webservers]\nw1\n[all:children]\nwebserver\n",
            &[
                "hosts:4:1: `[all:children]` names group `webserver`, which is not defined",
                "help: did you mean `webservers`?",
            ],
        );
        assert_error(
            "[web]\nw1\n[wbe:vars]\nx=1\n",
            &[
                "hosts:3:1: `[wbe:vars]` sets variables of group `wbe`, which is not defined",
                "did you mean `web`?",
            ],
        );
    }

    #[test]
    fn error_invalid_utf8_outside_comments() {
        let mut inventory = Inventory::empty();
        let bytes = b"# caf\xe9 comment\nweb1\n";
        assert!(inventory.load_bytes(std::path::Path::new("hosts"), bytes).is_ok());
        let Err(err) = inventory.load_bytes(std::path::Path::new("hosts"), b"web\xe9\n") else {
            panic!("accepted invalid UTF-8");
        };
        assert!(
            err.render().contains("hosts:1:1: this line is not valid UTF-8"),
            "{}",
            err.render()
        );
    }

    /// A small deterministic generator, so the garbage is the same on every run.
    fn garbage(seed: &mut u64, alphabet: &[&str], len: usize) -> String {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                alphabet[(*seed % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    #[test]
    fn garbage_never_panics() {
        let alphabet = [
            "[", "]", ":", "=", "#", ";", "'", "\"", "\\", " ", "\n", ",", "-", ".", "0", "1", "9", "a", "z", "A", "{",
            "}", "(", ")", "*", "!", "&", "~", "vars", "children", "web", "\t", "é", "---", "hosts:", "  ", "0x", "j",
            "\r", "_", "all", "~", "?",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d;
        let fixed = inventory("hosts", "[web]\nweb[1:3]\n[db]\ndb1\n");
        for round in 0..2500 {
            let text = garbage(&mut seed, &alphabet, 1 + round % 40);
            let _ = parse("hosts", &text);
            let _ = parse("hosts.yml", &text);
            let _ = parse_literal(&text);
            let _ = expand_host_pattern(&text);
            let _ = group_var_value(&text);
            let _ = host_var_value(&text);
            let _ = fixed.select(&text);
        }
    }
}
