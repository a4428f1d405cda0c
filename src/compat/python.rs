//! Python standard-library behaviour that Ansible and docker-compose expose to their users and
//! bgrun must reproduce to the byte: `repr(float)`, `repr(bytes)`, `json.dumps`, `shlex.split`/`shlex.quote`
//! and `fnmatch`.

use std::fmt::Write as _;
use std::io;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::ser::{CharEscape, Formatter};

use super::json::{Escapes, escape_into};

// ---------------------------------------------------------------------------------------------
// repr(float)

/// `repr(f)` of a Python float: the shortest digits that read back to the same value, in
/// exponent form below 1e-4 and from 1e16; `nan`, `inf` and `-inf` for the others.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // `{:e}` gives the shortest round-trip digits, e.g. "-1.5e16" or "0e0".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.push_str(&"0".repeat(int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// json.dumps

/// The options of `json.dumps` that bgrun's callers use.
#[derive(Clone, Debug)]
pub struct JsonDumps {
    /// `indent`: `None` writes everything on one line.
    pub indent: Option<String>,
    /// `separators[0]`.
    pub item_separator: String,
    /// `separators[1]`.
    pub key_separator: String,
    /// `sort_keys`.
    pub sort_keys: bool,
    /// `ensure_ascii`.
    pub ensure_ascii: bool,
}

impl JsonDumps {
    /// `json.dumps(value, indent=indent)`: the default separators are `', '` and `': '`, or
    /// `','` and `': '` with an indent; keys in their order; `ensure_ascii=True`.
    pub fn new(indent: Option<String>) -> JsonDumps {
        let item_separator = if indent.is_some() { "," } else { ", " };
        JsonDumps {
            indent,
            item_separator: item_separator.into(),
            key_separator: ": ".into(),
            sort_keys: false,
            ensure_ascii: true,
        }
    }

    /// `json.dumps(value, sort_keys=True, separators=(',', ':'))`: what docker-compose hashes.
    pub fn compact_sorted() -> JsonDumps {
        JsonDumps {
            indent: None,
            item_separator: ",".into(),
            key_separator: ":".into(),
            sort_keys: true,
            ensure_ascii: true,
        }
    }

    /// A serde_json [`Formatter`] writing in this style.
    pub fn formatter(&self) -> PyJson<'_> {
        PyJson {
            style: self,
            level: 0,
            has_value: false,
        }
    }

    /// `json.dumps(value, ...)` of a JSON value.
    pub fn dumps(&self, value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, self.formatter());
        // Writing a `serde_json::Value` into memory cannot fail: its keys are strings.
        let _ = Sorted(value, self.sort_keys).serialize(&mut serializer);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// A value whose objects serialize with their keys sorted (by code point, as Python sorts
/// strings) when the flag is set.
struct Sorted<'a>(&'a serde_json::Value, bool);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            serde_json::Value::Array(items) => serializer.collect_seq(items.iter().map(|v| Sorted(v, self.1))),
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                if self.1 {
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                }
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    out.serialize_entry(k, &Sorted(v, self.1))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// A serde_json [`Formatter`] that writes what Python's `json.dumps` writes: its separators and
/// indentation, `repr()` floats, `NaN`/`Infinity`, and `ensure_ascii` escapes.
pub struct PyJson<'a> {
    style: &'a JsonDumps,
    level: usize,
    has_value: bool,
}

impl PyJson<'_> {
    fn newline<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        match &self.style.indent {
            Some(indent) => {
                writer.write_all(b"\n")?;
                writer.write_all(indent.repeat(self.level).as_bytes())
            }
            None => Ok(()),
        }
    }

    /// `[` or `{`: one level deeper, nothing in it yet.
    fn open<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// `]` or `}`, on a line of its own when indenting a collection that has items.
    fn close<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(writer)?;
        }
        writer.write_all(bracket)
    }

    /// Before an item or a key: the item separator after the first, then the indent.
    fn item<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(self.style.item_separator.as_bytes())?;
        }
        self.newline(writer)
    }

    fn escaped<W: ?Sized + io::Write>(&self, writer: &mut W, text: &str) -> io::Result<()> {
        let mut out = String::with_capacity(text.len());
        escape_into(&mut out, text, Escapes::python(self.style.ensure_ascii));
        writer.write_all(out.as_bytes())
    }

    /// A string, quoted and escaped, for callers that drive the formatter themselves.
    pub fn write_str<W: ?Sized + io::Write>(&mut self, writer: &mut W, s: &str) -> io::Result<()> {
        self.begin_string(writer)?;
        self.escaped(writer, s)?;
        self.end_string(writer)
    }
}

/// A float as `json.dumps` writes it: `repr()`, or `NaN`, `Infinity` and `-Infinity`.
pub fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        float_repr(f)
    }
}

impl Formatter for PyJson<'_> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(json_float(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        self.escaped(writer, fragment)
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, writer: &mut W, escape: CharEscape) -> io::Result<()> {
        let c = match escape {
            CharEscape::Quote => '"',
            CharEscape::ReverseSolidus => '\\',
            CharEscape::Solidus => '/',
            CharEscape::Backspace => '\u{8}',
            CharEscape::FormFeed => '\u{c}',
            CharEscape::LineFeed => '\n',
            CharEscape::CarriageReturn => '\r',
            CharEscape::Tab => '\t',
            CharEscape::AsciiControl(byte) => char::from(byte),
        };
        self.escaped(writer, c.encode_utf8(&mut [0; 4]))
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(self.style.key_separator.as_bytes())
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// shlex

/// Why `shlex.split` refused a text; offsets are in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShlexError {
    /// A quote opened at `offset` is never closed.
    NoClosingQuotation { quote: char, offset: usize },
    /// The `\` at `offset` ends the text.
    NoEscapedCharacter { offset: usize },
}

impl ShlexError {
    /// The message Python's `shlex` raises.
    pub fn python_message(self) -> &'static str {
        match self {
            ShlexError::NoClosingQuotation { .. } => "No closing quotation",
            ShlexError::NoEscapedCharacter { .. } => "No escaped character",
        }
    }
}

/// `shlex.split(s)`: POSIX rules, no comments.
pub fn shlex_split(s: &str) -> Result<Vec<String>, ShlexError> {
    Ok(shlex_split_at(s, false)?.into_iter().map(|(word, _)| word).collect())
}

/// `shlex.split(s, comments=comments)`, each word with the byte offset where it starts.
pub fn shlex_split_at(s: &str, comments: bool) -> Result<Vec<(String, usize)>, ShlexError> {
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Space,
        Word,
        /// Inside quotes opened at the offset.
        Quote(char, usize),
        /// After a `\` at the offset, outside quotes or inside the given double quotes.
        Escape(Option<(char, usize)>, usize),
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut start: Option<usize> = None;
    let mut state = St::Space;
    for (i, c) in s.char_indices() {
        match state {
            St::Space | St::Word => {
                if is_space(c) {
                    if let Some(at) = start.take() {
                        tokens.push((std::mem::take(&mut token), at));
                    }
                    state = St::Space;
                    continue;
                }
                if comments && c == '#' {
                    break;
                }
                start.get_or_insert(i);
                state = match c {
                    '\\' => St::Escape(None, i),
                    '\'' | '"' => St::Quote(c, i),
                    _ => {
                        token.push(c);
                        St::Word
                    }
                };
            }
            St::Quote(q, at) => {
                if c == q {
                    state = St::Word;
                } else if c == '\\' && q == '"' {
                    state = St::Escape(Some((q, at)), i);
                } else {
                    token.push(c);
                }
            }
            St::Escape(inside, _) => {
                if let Some((q, _)) = inside
                    && c != '\\'
                    && c != q
                {
                    token.push('\\');
                }
                token.push(c);
                state = match inside {
                    Some((q, at)) => St::Quote(q, at),
                    None => St::Word,
                };
            }
        }
    }
    match state {
        St::Quote(quote, offset) => return Err(ShlexError::NoClosingQuotation { quote, offset }),
        St::Escape(_, offset) => return Err(ShlexError::NoEscapedCharacter { offset }),
        St::Space | St::Word => {}
    }
    if let Some(at) = start {
        tokens.push((token, at));
    }
    Ok(tokens)
}

/// `shlex.quote(s)`: the text as one word for a POSIX shell.
pub fn shlex_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

// ---------------------------------------------------------------------------------------------
// fnmatch

/// The regular expression of `fnmatch.translate(glob)`, without anchors: `*`, `?`, `[seq]` and
/// `[!seq]`; a `[` without `]` is literal.
pub fn fnmatch_translate(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => {
                if !out.ends_with(".*") {
                    out.push_str(".*");
                }
            }
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if chars.get(j) == Some(&'!') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                    continue;
                }
                let mut class = String::from("[");
                let mut body = &chars[i..j];
                if body.first() == Some(&'!') {
                    class.push('^');
                    body = &body[1..];
                }
                for &ch in body {
                    if ch == '-' || ch.is_alphanumeric() {
                        class.push(ch);
                    } else {
                        class.push_str(&regex::escape(&ch.to_string()));
                    }
                }
                class.push(']');
                out.push_str(&class);
                i = j + 1;
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out
}

/// The anchored regular expression `fnmatch.fnmatchcase` matches a whole name with.
pub fn fnmatch_regex(glob: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?s:{})\\z", fnmatch_translate(glob))).ok()
}

/// `fnmatch.fnmatch(name, glob)` on POSIX (where it is case-sensitive).
pub fn fnmatch(name: &str, glob: &str) -> bool {
    fnmatch_regex(glob).is_some_and(|re| re.is_match(name))
}

// ---------------------------------------------------------------------------------------------
// printf-style formatting of one integer

/// `format % n` for a format with exactly one conversion of an integer (`%d`, `%05x`,
/// `host%-3o`, `%#X`); `None` where Python would raise or bgrun does not follow it.
pub fn percent_format_int(format: &str, n: i64) -> Option<String> {
    let start = format.find('%')?;
    let (head, rest) = (&format[..start], &format[start + 1..]);
    let flags_end = rest.find(|c: char| !"-+ #0".contains(c)).unwrap_or(rest.len());
    let flags = &rest[..flags_end];
    let rest = &rest[flags_end..];
    let width_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let width: usize = if width_end == 0 {
        0
    } else {
        rest[..width_end].parse().ok()?
    };
    let rest = &rest[width_end..];
    let (precision, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let end = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
            (Some(after[..end].parse::<usize>().unwrap_or(0)), &after[end..])
        }
        None => (None, rest),
    };
    let mut chars = rest.chars();
    let conversion = chars.next()?;
    let tail = chars.as_str();
    let magnitude = n.unsigned_abs();
    let alternate = flags.contains('#');
    let (mut digits, prefix) = match conversion {
        'd' | 'i' | 'u' => (magnitude.to_string(), ""),
        'o' => (format!("{magnitude:o}"), if alternate { "0o" } else { "" }),
        'x' => (format!("{magnitude:x}"), if alternate { "0x" } else { "" }),
        'X' => (format!("{magnitude:X}"), if alternate { "0X" } else { "" }),
        _ => return None,
    };
    if let Some(p) = precision
        && digits.len() < p
    {
        digits = format!("{}{digits}", "0".repeat(p - digits.len()));
    }
    let sign = if n < 0 {
        "-"
    } else if flags.contains('+') {
        "+"
    } else if flags.contains(' ') {
        " "
    } else {
        ""
    };
    let body_len = sign.len() + prefix.len() + digits.len();
    let pad = width.saturating_sub(body_len);
    let field = if flags.contains('-') {
        format!("{sign}{prefix}{digits}{}", " ".repeat(pad))
    } else if flags.contains('0') {
        format!("{sign}{prefix}{}{digits}", "0".repeat(pad))
    } else {
        format!("{}{sign}{prefix}{digits}", " ".repeat(pad))
    };
    Some(format!("{head}{field}{tail}"))
}

// ---------------------------------------------------------------------------------------------
// bytes

/// `repr(bytes)`: `b'...'`, in double quotes when the bytes hold a `'` and no `"`; `\\`, the
/// quote, `\t`, `\n`, `\r` escaped, and every other byte outside printable ASCII as `\xhh`.
pub fn bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if char::from(b) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

// ---------------------------------------------------------------------------------------------
// escape sequences of free-form arguments

/// Ansible's `_decode_escapes` (parsing/splitter.py): each escape sequence of a `key=value`
/// word decoded as Python's `unicode-escape` decodes it (`\n`, `\t`, `\\`, `\'`, `\"`,
/// `\xhh`, `\uhhhh`, `\Uhhhhhhhh`, octal `\ooo`, `\a\b\f\r\v`); anything else is kept.
pub fn decode_escapes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 == chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let hex = |len: usize| -> Option<char> {
            let digits: String = chars.get(i + 2..i + 2 + len)?.iter().collect();
            (digits.len() == len && digits.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32))
                .flatten()
        };
        let (decoded, used) = match chars[i + 1] {
            'n' => (Some('\n'), 2),
            't' => (Some('\t'), 2),
            'r' => (Some('\r'), 2),
            'a' => (Some('\x07'), 2),
            'b' => (Some('\x08'), 2),
            'f' => (Some('\x0c'), 2),
            'v' => (Some('\x0b'), 2),
            c @ ('\\' | '\'' | '"') => (Some(c), 2),
            'x' => (hex(2), 4),
            'u' => (hex(4), 6),
            'U' => (hex(8), 10),
            '0'..='7' => {
                let len = chars[i + 1..]
                    .iter()
                    .take(3)
                    .take_while(|c| ('0'..='7').contains(*c))
                    .count();
                let digits: String = chars[i + 1..i + 1 + len].iter().collect();
                (u32::from_str_radix(&digits, 8).ok().and_then(char::from_u32), 1 + len)
            }
            _ => (None, 0),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                i += used;
            }
            None => {
                out.push('\\');
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percent_format_int_matches_python() {
        // From python3: `fmt % n`.
        let cases = [
            ("%d", 5, "5"),
            ("host%02d", 3, "host03"),
            ("0x%02x", 10, "0x0a"),
            ("%04x", 3840, "0f00"),
            ("%-4d|", -7, "-7  |"),
            ("%+05d", 42, "+0042"),
            ("%#o", 8, "0o10"),
            ("%#X", 255, "0XFF"),
            ("% d", 3, " 3"),
            ("%.3d", 7, "007"),
            ("%5.3d", -7, " -007"),
        ];
        for (format, n, want) in cases {
            assert_eq!(percent_format_int(format, n).as_deref(), Some(want), "{format} % {n}");
        }
        assert_eq!(percent_format_int("%s", 1), None);
    }

    #[test]
    fn bytes_repr_matches_python() {
        // repr(b"nosuch"), repr(b"it's"), repr(b"it's \"x\""), repr("é\t\\".encode())
        assert_eq!(bytes_repr(b"nosuch"), "b'nosuch'");
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(bytes_repr(b"it's \"x\""), "b'it\\'s \"x\"'");
        assert_eq!(bytes_repr("é\t\\".as_bytes()), "b'\\xc3\\xa9\\t\\\\'");
    }

    #[test]
    fn decode_escapes_matches_ansible() {
        // From python3: ansible.parsing.splitter._decode_escapes(s).
        assert_eq!(decode_escapes(r"new\n"), "new\n");
        assert_eq!(decode_escapes(r#"a\tb\\c\'d\"e"#), "a\tb\\c'd\"e");
        assert_eq!(decode_escapes(r"\x41\u00e9\U0001F600\101\0"), "Aé😀A\0");
        assert_eq!(decode_escapes(r"\q \x4 end\"), r"\q \x4 end\");
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (1.5, "1.5"),
            (1.0, "1.0"),
            (100000.0, "100000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (123456789.125, "123456789.125"),
            (1e22, "1e+22"),
            (2.5e-7, "2.5e-07"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (f, text) in cases {
            assert_eq!(float_repr(f), text, "{f}");
        }
    }

    #[test]
    fn dumps_like_python() {
        let value = json!({"b": [1, 2.0, null, true], "a": "é\"\\\n\u{8}\u{1}", "c": {"z": 1, "y": {}, "x": []}});
        assert_eq!(
            JsonDumps::compact_sorted().dumps(&value),
            r#"{"a":"\u00e9\"\\\n\b\u0001","b":[1,2.0,null,true],"c":{"x":[],"y":{},"z":1}}"#
        );
        assert_eq!(
            JsonDumps::new(Some("  ".into())).dumps(&json!({"a": [1, {}], "b": {"c": null}})),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {\n    \"c\": null\n  }\n}"
        );
        let raw = JsonDumps {
            ensure_ascii: false,
            ..JsonDumps::new(None)
        };
        assert_eq!(raw.dumps(&json!(["é", 0.5])), r#"["é", 0.5]"#);
    }

    #[test]
    fn shlex_offsets_and_comments() {
        assert_eq!(
            shlex_split_at("a 'b c'#x d", true),
            Ok(vec![("a".into(), 0), ("b c".into(), 2)])
        );
        assert_eq!(shlex_split("a#b"), Ok(vec!["a#b".to_string()]));
        assert_eq!(
            shlex_split_at("x \"ab", false),
            Err(ShlexError::NoClosingQuotation { quote: '"', offset: 2 })
        );
        assert_eq!(
            shlex_split_at("x \"a\\", false),
            Err(ShlexError::NoEscapedCharacter { offset: 4 })
        );
        assert_eq!(shlex_quote("it's"), r#"'it'"'"'s'"#);
        assert_eq!(shlex_quote("a_b-1"), "a_b-1");
    }

    #[test]
    fn fnmatch_like_python() {
        assert!(fnmatch("web1", "web*"));
        assert!(fnmatch("web1", "web[0-9]"));
        assert!(!fnmatch("web1", "web[!0-9]"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(!fnmatch("xweb", "web*"));
    }

    #[test]
    fn float_repr_as_the_filters_use_it() {
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
            assert_eq!(float_repr(f), expected, "{f:e}");
        }
    }
}
