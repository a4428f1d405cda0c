//! Small functions that behave exactly like the Python ones docker-compose calls: `repr(float)`,
//! `json.dumps(..., sort_keys=True, separators=(',', ':'))`, `os.path` path handling,
//! `shlex.split`, `int(s, 0)`, docker-compose's duration parser and docker-py's `parse_bytes`.
//!
//! The Compose model needs them to compute the same names, paths and hashes docker-compose does.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::compat::python::{self, JsonDumps};

pub use crate::compat::python::float_repr;

/// `'{}'.format(value)` for the scalars a YAML file can hold (`str()` in Python).
pub fn str_of(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => number_text(n),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        float_repr(n.as_f64().unwrap_or(0.0))
    }
}

/// How `json.dumps` separates items and keys.
#[derive(Clone, Copy)]
pub enum JsonStyle {
    /// `sort_keys=True, separators=(',', ':')`: what docker-compose hashes.
    CompactSorted,
    /// The defaults: `', '` and `': '`, keys in their order.
    Default,
}

/// `json.dumps(value)` as Python writes it (`ensure_ascii=True`).
pub fn json_dumps(value: &Value, style: JsonStyle) -> String {
    match style {
        JsonStyle::CompactSorted => JsonDumps::compact_sorted(),
        JsonStyle::Default => JsonDumps::new(None),
    }
    .dumps(value)
}

/// `posixpath.normpath`.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial == 0 && parts.is_empty()) || parts.last() == Some(&"..") {
            parts.push(comp);
        } else if !parts.is_empty() {
            parts.pop();
        }
    }
    let joined = format!("{}{}", "/".repeat(initial), parts.join("/"));
    if joined.is_empty() { ".".into() } else { joined }
}

/// `posixpath.join(a, b)`.
pub fn join(a: &str, b: &str) -> String {
    if b.starts_with('/') || a.is_empty() {
        b.to_string()
    } else if a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `posixpath.dirname`.
pub fn dirname(path: &str) -> String {
    let i = path.rfind('/').map_or(0, |i| i + 1);
    let head = &path[..i];
    if !head.is_empty() && head.chars().any(|c| c != '/') {
        head.trim_end_matches('/').to_string()
    } else {
        head.to_string()
    }
}

/// `posixpath.basename`.
pub fn basename(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// `os.path.abspath` against the given current directory.
pub fn abspath(path: &str, cwd: &str) -> String {
    if path.starts_with('/') {
        normpath(path)
    } else {
        normpath(&join(cwd, path))
    }
}

/// `os.path.expanduser` for `~` and `~/...` (other users' homes are left as written).
pub fn expanduser(path: &str, home: Option<&str>) -> String {
    if !path.starts_with('~') {
        return path.to_string();
    }
    let end = path[1..].find('/').map_or(path.len(), |i| i + 1);
    if end != 1 {
        return path.to_string();
    }
    let Some(home) = home else { return path.to_string() };
    let expanded = format!("{}{}", home.trim_end_matches('/'), &path[end..]);
    if expanded.is_empty() { "/".into() } else { expanded }
}

/// `shlex.split(s)`: POSIX rules, no comments; the error is Python's message.
pub fn shlex_split(s: &str) -> Result<Vec<String>, &'static str> {
    python::shlex_split(s).map_err(python::ShlexError::python_message)
}

/// Python's `int(s, 0)` after docker-compose's rewrite of `0NNN` to octal (`to_int`).
pub fn parse_int_base0(text: &str) -> Option<i64> {
    let s = text.trim();
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest.strip_prefix('_').unwrap_or(rest))
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest.strip_prefix('_').unwrap_or(rest))
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest.strip_prefix('_').unwrap_or(rest))
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit()) {
        (8, &lower[1..])
    } else {
        if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|b| b != b'0' && b != b'_') {
            return None;
        }
        (10, lower.as_str())
    };
    let clean = strip_underscores(digits)?;
    let value = i64::from_str_radix(&clean, radix).ok()?;
    Some(if negative { -value } else { value })
}

/// Removes `_` between digits (as Python literals allow); `None` if an underscore is misplaced.
fn strip_underscores(digits: &str) -> Option<String> {
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    Some(digits.replace('_', ""))
}

/// Python's `float(s)`.
pub fn parse_float(text: &str) -> Option<f64> {
    let s = text.trim();
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return lower.parse().ok();
    }
    let clean = if s.contains('_') {
        let ok = s
            .as_bytes()
            .windows(3)
            .all(|w| w[1] != b'_' || (w[0].is_ascii_digit() && w[2].is_ascii_digit()));
        if !ok || s.starts_with('_') || s.ends_with('_') {
            return None;
        }
        s.replace('_', "")
    } else {
        s.to_string()
    };
    if !clean
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    clean.parse().ok()
}

static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:([\d.]+)h)?(?:([\d.]+)m)?(?:([\d.]+)s)?(?:([\d.]+)ms)?(?:([\d.]+)(?:us|µs))?(?:([\d.]+)ns)?\s*$",
    )
    .expect("duration pattern")
});

/// docker-compose's `timeparse`: a Go-style duration (`1m30s`, `1.5s`, `250ms`) in seconds.
pub fn timeparse(text: &str) -> Option<f64> {
    let caps = DURATION.captures(text)?;
    if caps.get(0)?.as_str().trim().is_empty() {
        return None;
    }
    let multipliers = [
        3600.0,
        60.0,
        1.0,
        1.0 / 1000.0,
        1.0 / 1000.0 / 1000.0,
        1.0 / 1000.0 / 1000.0 / 1000.0,
    ];
    let mut total = 0.0;
    for (i, multiplier) in multipliers.iter().enumerate() {
        if let Some(m) = caps.get(i + 1) {
            let text = m.as_str();
            let n = if text.bytes().all(|b| b.is_ascii_digit()) {
                text.parse::<f64>().ok()?
            } else {
                parse_float(text)?
            };
            total += multiplier * n;
        }
    }
    Some(total)
}

/// docker-compose's `parse_nanoseconds_int`.
pub fn duration_nanos(text: &str) -> Option<i64> {
    let seconds = timeparse(text)?;
    let nanos = seconds / (1.0 / 1000.0 / 1000.0 / 1000.0);
    nanos.is_finite().then_some(nanos.trunc() as i64)
}

/// docker-py's `parse_bytes` for a string (`"512m"`, `"1g"`, `"100"`).
pub fn parse_bytes(text: &str) -> Option<i64> {
    if text.is_empty() {
        return Some(0);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut s: &[char] = &chars;
    let n = s.len();
    if n >= 2 && s[n - 2].is_alphabetic() && s[n - 1].is_alphabetic() && (s[n - 1] == 'b' || s[n - 1] == 'B') {
        s = &s[..n - 1];
    }
    let last = s.last()?.to_lowercase().next()?;
    let (digits, unit): (String, i64) = if last.is_ascii_digit() {
        (s.iter().collect(), 1)
    } else {
        let unit = match last {
            'b' => 1,
            'k' => 1024,
            'm' => 1024 * 1024,
            'g' => 1024 * 1024 * 1024,
            _ => return None,
        };
        (s[..s.len() - 1].iter().collect(), unit)
    };
    let value = parse_float(&digits)?;
    let bytes = value * unit as f64;
    bytes.is_finite().then_some(bytes.trunc() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_dumps_sorts_and_escapes_like_python() {
        let value = json!({"b": [1, 2.0, null, true], "a": "é\"\\\n\u{1F600}\u{7f}", "c": {"z": 1, "y": {}}});
        assert_eq!(
            json_dumps(&value, JsonStyle::CompactSorted),
            r#"{"a":"\u00e9\"\\\n\ud83d\ude00\u007f","b":[1,2.0,null,true],"c":{"y":{},"z":1}}"#
        );
        assert_eq!(
            json_dumps(&json!({"b": 1, "a": [1, 2]}), JsonStyle::Default),
            r#"{"b": 1, "a": [1, 2]}"#
        );
    }

    #[test]
    fn normpath_like_posixpath() {
        assert_eq!(normpath(""), ".");
        assert_eq!(normpath("a/./b/../c/"), "a/c");
        assert_eq!(normpath("/../a"), "/a");
        assert_eq!(normpath("../../a"), "../../a");
        assert_eq!(normpath("//a//b"), "//a/b");
        assert_eq!(normpath("///a"), "/a");
        assert_eq!(normpath("./"), ".");
        assert_eq!(dirname("docker-compose.yml"), "");
        assert_eq!(dirname("/a/b/c.yml"), "/a/b");
        assert_eq!(dirname("/c.yml"), "/");
        assert_eq!(basename("/a/b"), "b");
        assert_eq!(abspath("./x/../y", "/srv"), "/srv/y");
        assert_eq!(expanduser("~/data", Some("/root")), "/root/data");
        assert_eq!(expanduser("~bob/data", Some("/root")), "~bob/data");
    }

    #[test]
    fn shlex_like_python() {
        let split = |s: &str| shlex_split(s).unwrap();
        assert_eq!(split("echo 'a b' \"c\\\"d\" e\\ f"), ["echo", "a b", "c\"d", "e f"]);
        assert_eq!(split("a '' b"), ["a", "", "b"]);
        assert_eq!(split("  "), Vec::<String>::new());
        assert_eq!(split("a#b # c"), ["a#b", "#", "c"]);
        assert_eq!(split(r#""a\nb""#), [r"a\nb"]);
        assert_eq!(shlex_split("'open"), Err("No closing quotation"));
        assert_eq!(shlex_split("end\\"), Err("No escaped character"));
    }

    #[test]
    fn ints_floats_durations_bytes() {
        assert_eq!(parse_int_base0(" 42 "), Some(42));
        assert_eq!(parse_int_base0("0644"), Some(420));
        assert_eq!(parse_int_base0("0x1f"), Some(31));
        assert_eq!(parse_int_base0("1_000"), Some(1000));
        assert_eq!(parse_int_base0("09"), None);
        assert_eq!(parse_int_base0("abc"), None);
        assert_eq!(parse_float("1_0.5"), Some(10.5));
        assert_eq!(parse_float("x"), None);
        assert_eq!(duration_nanos("30s"), Some(30_000_000_000));
        assert_eq!(duration_nanos("1m30s"), Some(90_000_000_000));
        assert_eq!(duration_nanos("1.5s"), Some(1_500_000_000));
        assert_eq!(duration_nanos("500ms"), Some(500_000_000));
        assert_eq!(duration_nanos("10us"), Some(10_000));
        assert_eq!(duration_nanos("0.1s"), Some(100_000_000));
        assert_eq!(duration_nanos("soon"), None);
        assert_eq!(duration_nanos(""), None);
        assert_eq!(parse_bytes("512m"), Some(512 * 1024 * 1024));
        assert_eq!(parse_bytes("1gb"), Some(1024 * 1024 * 1024));
        assert_eq!(parse_bytes("100"), Some(100));
        assert_eq!(parse_bytes("12x"), None);
    }
}
