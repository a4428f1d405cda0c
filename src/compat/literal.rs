//! Python literals of JSON-like values: `str()` and `repr()` as Python prints them, and
//! `ast.literal_eval` reading one back (with `true`, `false` and `null` read as Python's
//! constants, as Ansible's templating does).

use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;
use serde_json::{Map, Number, Value as Json};

use super::python::float_repr;

/// `str(value)`: a string as it is, anything else as its `repr`.
pub fn py_str(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// `repr(value)` of the Python value a JSON value stands for.
pub fn py_repr(value: &Json) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_repr(out: &mut String, value: &Json) {
    match value {
        Json::Null => out.push_str("None"),
        Json::Bool(true) => out.push_str("True"),
        Json::Bool(false) => out.push_str("False"),
        Json::Number(n) => out.push_str(&number_repr(n)),
        Json::String(s) => out.push_str(&str_repr(s)),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&str_repr(key));
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

/// `repr(n)` of an int or a float.
pub fn number_repr(n: &Number) -> String {
    if n.is_f64() {
        n.as_f64().map(float_repr).unwrap_or_default()
    } else {
        n.to_string()
    }
}

/// `repr(s)` of a Python str: single quotes unless the text holds `'` and no `"`, and
/// escapes for what `str.isprintable` calls unprintable.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable` for one character: not in the categories Other or Separator,
/// the space aside.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    !matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::SpaceSeparator
    )
}

/// `ast.literal_eval(text)` for the literals JSON can hold: strings, numbers, `True`/`False`/
/// `None` (and `true`/`false`/`null`), lists, tuples (as lists) and dicts with keys that are
/// strings or numbers. `None` for anything else, as Python raises for it.
pub fn literal_eval(text: &str) -> Option<Json> {
    let mut parser = Parser { text, pos: 0 };
    let value = parser.expression()?;
    parser.skip_space();
    (parser.pos == text.len()).then_some(value)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips spaces, newlines (the parser is only ever inside brackets or at the ends, where
    /// Python allows them) and comments.
    fn skip_space(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start_matches([' ', '\t', '\n', '\r', '\x0c']);
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with('#') {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if trimmed.starts_with("\\\n") {
                self.pos += 2;
            } else {
                return;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expression(&mut self) -> Option<Json> {
        self.skip_space();
        match self.peek()? {
            '[' => {
                self.pos += 1;
                Some(Json::Array(self.items(']')?))
            }
            '(' => {
                self.pos += 1;
                if self.eat(')') {
                    return Some(Json::Array(Vec::new()));
                }
                let first = self.expression()?;
                if self.eat(')') {
                    return Some(first);
                }
                if !self.eat(',') {
                    return None;
                }
                let mut items = vec![first];
                items.extend(self.items(')')?);
                Some(Json::Array(items))
            }
            '{' => {
                self.pos += 1;
                self.dict()
            }
            '+' | '-' => {
                let negative = self.peek() == Some('-');
                self.pos += 1;
                match self.expression()? {
                    Json::Number(n) if negative => negate(&n),
                    Json::Number(n) => Some(Json::Number(n)),
                    _ => None,
                }
            }
            '\'' | '"' => self.strings(),
            c if c.is_ascii_digit() || c == '.' => self.number(),
            c if c.is_alphabetic() || c == '_' => {
                let end = self
                    .rest()
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(self.rest().len());
                let word = &self.rest()[..end];
                if matches!(self.rest()[end..].chars().next(), Some('\'' | '"')) {
                    return self.prefixed_strings(word);
                }
                let value = match word {
                    "True" | "true" => Json::Bool(true),
                    "False" | "false" => Json::Bool(false),
                    "None" | "null" => Json::Null,
                    _ => return None,
                };
                self.pos += end;
                Some(value)
            }
            _ => None,
        }
    }

    /// Comma-separated expressions up to `close`, a trailing comma allowed.
    fn items(&mut self, close: char) -> Option<Vec<Json>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expression()?);
            if !self.eat(',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    fn dict(&mut self) -> Option<Json> {
        let mut map = Map::new();
        loop {
            if self.eat('}') {
                return Some(Json::Object(map));
            }
            let key = match self.expression()? {
                Json::String(s) => s,
                Json::Number(n) => number_repr(&n),
                Json::Bool(b) => b.to_string(),
                Json::Null => "null".to_string(),
                // A set, or a list as a key: Python refuses both as a dict here.
                _ => return None,
            };
            if !self.eat(':') {
                return None;
            }
            let value = self.expression()?;
            map.insert(key, value);
            if !self.eat(',') {
                return self.eat('}').then(|| Json::Object(map));
            }
        }
    }

    fn number(&mut self) -> Option<Json> {
        let rest = self.rest();
        let end = rest
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_alphanumeric()
                    || c == '_'
                    || c == '.'
                    || ((c == '+' || c == '-') && i > 0 && matches!(rest.as_bytes()[i - 1], b'e' | b'E')))
            })
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let token = &rest[..end];
        self.pos += end;
        if token.ends_with('_') || token.contains("__") {
            return None;
        }
        let digits = token.replace('_', "");
        let lower = digits.to_ascii_lowercase();
        let radix = |prefix: &str, radix: u32| {
            lower
                .strip_prefix(prefix)
                .and_then(|d| u64::from_str_radix(d, radix).ok())
                .map(|n| Json::Number(n.into()))
        };
        if lower.starts_with("0x") {
            return radix("0x", 16);
        }
        if lower.starts_with("0o") {
            return radix("0o", 8);
        }
        if lower.starts_with("0b") {
            return radix("0b", 2);
        }
        if lower.chars().all(|c| c.is_ascii_digit()) {
            // Python refuses leading zeros on a non-zero decimal int.
            if lower.len() > 1 && lower.starts_with('0') && lower.chars().any(|c| c != '0') {
                return None;
            }
            return lower.parse::<u64>().ok().map(|n| Json::Number(n.into()));
        }
        if !lower
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
        {
            return None;
        }
        let f: f64 = lower.parse().ok()?;
        Number::from_f64(f).map(Json::Number)
    }

    /// One or more adjacent string literals, joined as Python joins them.
    fn strings(&mut self) -> Option<Json> {
        self.prefixed_strings("")
    }

    fn prefixed_strings(&mut self, first_prefix: &str) -> Option<Json> {
        let mut out = String::new();
        let mut prefix = first_prefix.to_ascii_lowercase();
        self.pos += first_prefix.len();
        loop {
            let raw = match prefix.as_str() {
                "" | "u" => false,
                "r" => true,
                _ => return None,
            };
            out.push_str(&self.string(raw)?);
            self.skip_space();
            let rest = self.rest();
            let end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
            if end <= 2 && matches!(rest[end..].chars().next(), Some('\'' | '"')) {
                prefix = rest[..end].to_ascii_lowercase();
                self.pos += end;
            } else {
                return Some(Json::String(out));
            }
        }
    }

    /// A string literal at the parser's position, its quotes included.
    fn string(&mut self, raw: bool) -> Option<String> {
        let quote = self.peek()?;
        let triple: String = std::iter::repeat_n(quote, 3).collect();
        let closing = if self.rest().starts_with(&triple) {
            triple
        } else {
            quote.to_string()
        };
        self.pos += closing.len();
        let mut out = String::new();
        loop {
            let rest = self.rest();
            if rest.starts_with(&closing) {
                self.pos += closing.len();
                return Some(out);
            }
            let c = rest.chars().next()?;
            if c == '\n' && closing.len() == 1 {
                return None;
            }
            self.pos += c.len_utf8();
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.peek()?;
            self.pos += e.len_utf8();
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            match e {
                '\n' => {}
                '\\' | '\'' | '"' => out.push(e),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'v' => out.push('\x0b'),
                'x' => out.push(self.hex(2)?),
                'u' => out.push(self.hex(4)?),
                'U' => out.push(self.hex(8)?),
                '0'..='7' => {
                    let mut n = e.to_digit(8)?;
                    for _ in 0..2 {
                        match self.peek().and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                n = n * 8 + d;
                                self.pos += 1;
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(n)?);
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
    }

    fn hex(&mut self, len: usize) -> Option<char> {
        let digits = self.rest().get(..len)?;
        let n = u32::from_str_radix(digits, 16).ok()?;
        self.pos += len;
        char::from_u32(n)
    }
}

fn negate(n: &Number) -> Option<Json> {
    if let Some(i) = n.as_u64() {
        if i == 0 {
            return Some(Json::Number(0.into()));
        }
        let i = i64::try_from(i).ok()?;
        return Some(Json::Number((-i).into()));
    }
    if let Some(i) = n.as_i64() {
        return Some(Json::Number(i.checked_neg()?.into()));
    }
    Number::from_f64(-n.as_f64()?).map(Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected values printed by Python 3.11.
    #[test]
    fn repr_as_python_prints_it() {
        assert_eq!(
            py_repr(&json!([1, "a", null, true, 1.5, {"k": "it's"}])),
            r#"[1, 'a', None, True, 1.5, {'k': "it's"}]"#
        );
        assert_eq!(str_repr("a'b\"c"), r#"'a\'b"c'"#);
        assert_eq!(str_repr("tab\t\u{7f}\u{a0}é\u{200b}😀"), r"'tab\t\x7f\xa0é\u200b😀'");
        assert_eq!(py_repr(&json!(1e16)), "1e+16");
        assert_eq!(py_str(&json!("plain")), "plain");
    }

    #[test]
    fn literal_eval_reads_python_and_json_literals() {
        assert_eq!(
            literal_eval("[1, 'a', None, True, 1.5]"),
            Some(json!([1, "a", null, true, 1.5]))
        );
        assert_eq!(
            literal_eval("{\"a\": true, 'b': null}"),
            Some(json!({"a": true, "b": null}))
        );
        assert_eq!(literal_eval("[ 'x', \"y\" , ]\n"), Some(json!(["x", "y"])));
        assert_eq!(literal_eval("(1, 2)"), Some(json!([1, 2])));
        assert_eq!(
            literal_eval("[-3, 0x10, 1_000, 2e3, .5]"),
            Some(json!([-3, 16, 1000, 2000.0, 0.5]))
        );
        assert_eq!(
            literal_eval(r"['a\nb', 'c' 'd', r'\n', '\x41\u00e9']"),
            Some(json!(["a\nb", "cd", "\\n", "Aé"]))
        );
        assert_eq!(literal_eval("{1: 'one'}"), Some(json!({"1": "one"})));
        assert_eq!(literal_eval("True"), Some(json!(true)));
    }

    #[test]
    fn literal_eval_refuses_what_python_refuses() {
        for text in [
            "[foo]",
            "[1, 2",
            "{'a'}",
            "[1 2]",
            "[01]",
            "{'a': 1} x",
            "[f'x']",
            "['a\nb']",
        ] {
            assert_eq!(literal_eval(text), None, "{text}");
        }
    }
}
