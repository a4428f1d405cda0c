//! JSON string escaping, the one place where bgrun decides which characters a JSON string
//! writes as escapes; Python's `json.dumps` and Go's `encoding/json` differ only in the options.

use std::fmt::Write as _;

/// Which characters beyond `"`, `\`, `\n`, `\r`, `\t` and the other control characters are escaped.
#[derive(Clone, Copy, Debug)]
pub struct Escapes {
    /// `\b` and `\f` as short escapes (Python) rather than `\u0008` and `\u000c` (Go).
    pub short_backspace_formfeed: bool,
    /// Everything outside printable ASCII (`\u007f` and up) as `\uXXXX` UTF-16 units: Python's
    /// `ensure_ascii=True`.
    pub non_ascii: bool,
    /// `<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX`: Go's HTML-safe escaping.
    pub html: bool,
}

impl Escapes {
    /// Python's `json.dumps` with the given `ensure_ascii`.
    pub const fn python(ensure_ascii: bool) -> Escapes {
        Escapes {
            short_backspace_formfeed: true,
            non_ascii: ensure_ascii,
            html: false,
        }
    }

    /// Go's `json.Marshal`: HTML-safe.
    pub const GO: Escapes = Escapes {
        short_backspace_formfeed: false,
        non_ascii: false,
        html: true,
    };
}

/// Appends the contents of a JSON string for `s` (without the surrounding quotes).
pub fn escape_into(out: &mut String, s: &str, escapes: Escapes) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' if escapes.short_backspace_formfeed => out.push_str("\\b"),
            '\u{c}' if escapes.short_backspace_formfeed => out.push_str("\\f"),
            c if (c as u32) < 0x20
                || (escapes.non_ascii && (c as u32) > 0x7e)
                || (escapes.html && matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}')) =>
            {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
}

/// `s` as a quoted JSON string.
pub fn quote_into(out: &mut String, s: &str, escapes: Escapes) {
    out.push('"');
    escape_into(out, s, escapes);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_and_go_flavours() {
        let s = "a\"\\\n\u{8}<é\u{7f}\u{1F600}";
        let mut py = String::new();
        quote_into(&mut py, s, Escapes::python(true));
        assert_eq!(py, r#""a\"\\\n\b<\u00e9\u007f\ud83d\ude00""#);
        let mut raw = String::new();
        quote_into(&mut raw, s, Escapes::python(false));
        assert_eq!(raw, "\"a\\\"\\\\\\n\\b<é\u{7f}\u{1F600}\"");
        let mut go = String::new();
        quote_into(&mut go, s, Escapes::GO);
        assert_eq!(go, "\"a\\\"\\\\\\n\\u0008\\u003cé\u{7f}\u{1F600}\"");
    }
}
