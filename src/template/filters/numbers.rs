//! The `bool`, `int` and `float` filters, which replace Jinja2's with Ansible's and Python's
//! conversions (`to_bool`, `int(text, base)`, `float(text)`).

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};

use crate::compat::ansible;

use super::args::*;

/// Ansible's `bool`: `boolean(value, strict=False)` (what ansible-core's `to_bool` became after
/// 2.14): booleans as they are, Ansible's true words and the numbers 1 and 1.0 true, all else false.
pub(super) fn bool_filter(value: &Value) -> Result<bool, Error> {
    defined(value)?;
    Ok(match value.kind() {
        ValueKind::Bool => value.is_true(),
        ValueKind::String => ansible::boolean(value.as_str().unwrap_or_default()).unwrap_or(false),
        ValueKind::Number => f64::try_from(value.clone())
            .ok()
            .and_then(ansible::boolean_number)
            .unwrap_or(false),
        _ => false,
    })
}

/// Jinja2's `int(default=0, base=10)`: what cannot be converted becomes the default.
pub(super) fn int_filter(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("int", &args, &kwargs, &["default", "base"])?;
    let default = params.get(0, "default")?.unwrap_or_else(|| Value::from(0));
    let base = params.int(1, "base")?.unwrap_or(10);
    params.finish()?;
    defined(value)?;
    let truncate = |f: f64| {
        if f.is_finite() {
            Value::from(f.trunc() as i128)
        } else {
            default.clone()
        }
    };
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(i64::from(value.is_true())),
        ValueKind::Number if value.is_integer() => value.clone(),
        ValueKind::Number => f64::try_from(value.clone()).map_or_else(|_| default.clone(), truncate),
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default();
            match parse_python_int(s, base) {
                Some(n) => Value::from(n),
                None => parse_python_float(s).map_or_else(|| default.clone(), truncate),
            }
        }
        _ => default,
    })
}

/// Jinja2's `float(default=0.0)`: what cannot be converted becomes the default.
pub(super) fn float_filter(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("float", &args, &kwargs, &["default"])?;
    let default = params.get(0, "default")?.unwrap_or_else(|| Value::from(0.0));
    params.finish()?;
    defined(value)?;
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value.clone()).map_or(default, Value::from),
        ValueKind::String => parse_python_float(value.as_str().unwrap_or_default()).map_or(default, Value::from),
        _ => default,
    })
}

/// Underscores are allowed only between digits, as Python allows them.
fn valid_underscores(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.iter().enumerate().all(|(i, b)| {
        *b != b'_'
            || (i > 0
                && i + 1 < bytes.len()
                && bytes[i - 1].is_ascii_alphanumeric()
                && bytes[i + 1].is_ascii_alphanumeric())
    })
}

/// Python's `int(text, base)`: surrounding whitespace, a sign, a base prefix and underscores.
fn parse_python_int(text: &str, base: i64) -> Option<i128> {
    let s = text.trim();
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let prefix = rest.get(..2).map(str::to_ascii_lowercase);
    let prefixed_base = match prefix.as_deref() {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    let (base, digits) = match (base, prefixed_base) {
        (0, Some(b)) => (b, &rest[2..]),
        (0, None) => {
            if rest.len() > 1 && rest.starts_with('0') && rest.bytes().any(|b| b != b'0' && b != b'_') {
                return None;
            }
            (10, rest)
        }
        (b, Some(p)) if b == i64::from(p) => (p, rest[2..].strip_prefix('_').unwrap_or(&rest[2..])),
        (b @ 2..=36, _) => (b as u32, rest),
        _ => return None,
    };
    if digits.is_empty() || !valid_underscores(digits) || digits.starts_with(['+', '-']) {
        return None;
    }
    let value = i128::from_str_radix(&digits.replace('_', ""), base).ok()?;
    Some(if negative { -value } else { value })
}

/// Python's `float(text)`.
fn parse_python_float(text: &str) -> Option<f64> {
    let s = text.trim();
    if !valid_underscores(s) {
        return None;
    }
    s.replace('_', "").parse().ok()
}
