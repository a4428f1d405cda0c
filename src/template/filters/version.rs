//! The `version` test: Python's `LooseVersion` and `StrictVersion` and Semantic Versioning
//! comparison.

use std::sync::LazyLock;

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value};
use regex::Regex;

use super::args::*;

#[derive(Debug, PartialEq, Eq)]
enum Part {
    Number(String),
    Text(String),
}

fn compare_numbers(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Splits a version as Python's `LooseVersion` does: runs of digits, runs of lowercase letters,
/// and whatever else lies between them; dots separate.
fn loose_parts(version: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut other = String::new();
    let chars: Vec<char> = version.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = |pred: fn(&char) -> bool| chars[i..].iter().take_while(|c| pred(c)).collect::<String>();
        let token = if c.is_ascii_digit() {
            Some(Part::Number(run(char::is_ascii_digit)))
        } else if c.is_ascii_lowercase() {
            Some(Part::Text(run(char::is_ascii_lowercase)))
        } else if c == '.' {
            None
        } else {
            other.push(c);
            i += 1;
            continue;
        };
        if !other.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut other)));
        }
        i += match &token {
            Some(Part::Number(s) | Part::Text(s)) => s.chars().count(),
            None => 1,
        };
        parts.extend(token);
    }
    if !other.is_empty() {
        parts.push(Part::Text(other));
    }
    parts
}

fn compare_loose(a: &str, b: &str) -> Result<std::cmp::Ordering, Error> {
    let (left, right) = (loose_parts(a), loose_parts(b));
    for (x, y) in left.iter().zip(&right) {
        let ordering = match (x, y) {
            (Part::Number(x), Part::Number(y)) => compare_numbers(x, y),
            (Part::Text(x), Part::Text(y)) => x.cmp(y),
            _ => {
                return Err(fail(format!(
                    "version: cannot compare `{a}` with `{b}`: a number and text stand in the same place; \
                     try version_type='semver'"
                )));
            }
        };
        if ordering.is_ne() {
            return Ok(ordering);
        }
    }
    Ok(left.len().cmp(&right.len()))
}

static STRICT_VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$").unwrap());

/// Python's `StrictVersion`: `1.2`, `1.2.3`, with an optional `a1`/`b2` pre-release.
fn compare_strict(a: &str, b: &str) -> Result<std::cmp::Ordering, Error> {
    let parse = |v: &str| {
        let captures = STRICT_VERSION
            .captures(v)
            .ok_or_else(|| fail(format!("version: `{v}` is not a strict version number")))?;
        let group = |i: usize| captures.get(i).map(|m| m.as_str().to_string());
        let release = [group(1), group(2), group(3)].map(|g| g.unwrap_or_else(|| "0".into()));
        Ok::<_, Error>((release, group(4).zip(group(5))))
    };
    let ((left, left_pre), (right, right_pre)) = (parse(a)?, parse(b)?);
    for (x, y) in left.iter().zip(&right) {
        let ordering = compare_numbers(x, y);
        if ordering.is_ne() {
            return Ok(ordering);
        }
    }
    Ok(match (left_pre, right_pre) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some((l, x)), Some((r, y))) => l.cmp(&r).then_with(|| compare_numbers(&x, &y)),
    })
}

static SEMVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)",
        r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?",
        r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$",
    ))
    .unwrap()
});

/// Semantic Versioning 2.0 precedence; build metadata is ignored.
fn compare_semver(a: &str, b: &str) -> Result<std::cmp::Ordering, Error> {
    use std::cmp::Ordering;
    let parse = |v: &str| {
        let captures = SEMVER
            .captures(v)
            .ok_or_else(|| fail(format!("version: `{v}` is not a semantic version")))?;
        let release: Vec<String> = (1..=3).map(|i| captures[i].to_string()).collect();
        let pre: Option<Vec<String>> = captures
            .get(4)
            .map(|m| m.as_str().split('.').map(String::from).collect());
        Ok::<_, Error>((release, pre))
    };
    let ((left, left_pre), (right, right_pre)) = (parse(a)?, parse(b)?);
    for (x, y) in left.iter().zip(&right) {
        let ordering = compare_numbers(x, y);
        if ordering.is_ne() {
            return Ok(ordering);
        }
    }
    Ok(match (left_pre, right_pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            x.iter()
                .zip(&y)
                .map(|(p, q)| match (numeric(p), numeric(q)) {
                    (true, true) => compare_numbers(p, q),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => p.cmp(q),
                })
                .find(|o| o.is_ne())
                .unwrap_or_else(|| x.len().cmp(&y.len()))
        }
    })
}

/// `is version(other, operator='eq', strict=false, version_type='loose')`.
pub(super) fn test_version(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    let params = Params::new(
        "version",
        &args,
        &kwargs,
        &["version", "operator", "strict", "version_type"],
    )?;
    let other = params.string(0, "version")?.unwrap_or_default();
    let operator = params.string(1, "operator")?.unwrap_or_else(|| "eq".into());
    let strict = params.flag(2, "strict")?;
    let version_type = params.string(3, "version_type")?;
    params.finish()?;
    let version = text(value)?;
    if version.is_empty() {
        return Err(fail("version: the version to test is empty"));
    }
    if other.is_empty() {
        return Err(fail("version: the version to compare against is empty"));
    }
    let ordering = match (version_type.as_deref(), strict) {
        (None | Some("loose"), false) => compare_loose(&version, &other)?,
        (None | Some("strict"), _) | (Some("loose"), true) => compare_strict(&version, &other)?,
        (Some("semver" | "semantic"), _) => compare_semver(&version, &other)?,
        (Some(other), _) => {
            return Err(fail(format!(
                "version: version_type `{other}` is not supported; use 'loose', 'strict' or 'semver'"
            )));
        }
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(match operator.as_str() {
        "lt" | "<" => ordering == Less,
        "le" | "<=" => ordering != Greater,
        "gt" | ">" => ordering == Greater,
        "ge" | ">=" => ordering != Less,
        "eq" | "==" | "=" => ordering == Equal,
        "ne" | "!=" | "<>" => ordering != Equal,
        other => {
            return Err(fail(format!(
                "version: invalid operator `{other}`; use one of lt, <, le, <=, gt, >, ge, >=, eq, ==, ne, !="
            )));
        }
    })
}
