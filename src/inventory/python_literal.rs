//! A reader of Python literals, as `ast.literal_eval` reads them: Ansible evaluates each INI
//! inventory value this way, so `22` is a number, `True` a boolean and `'x'` a string.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Number, Value};

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
