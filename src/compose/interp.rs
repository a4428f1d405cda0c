//! Variable substitution in Compose files, as docker-compose 1.29 does it.
//!
//! Version 2 and 3 files: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}`
//! (unset), `${VAR:?message}` (error when unset or empty), `${VAR?message}` (error when unset) and
//! `$$` for a literal `$`. Version 1 files know only `$VAR`, `${VAR}` and `$$`. Any other `$` is
//! an error. An unset variable becomes an empty string (and a warning).

use super::env::Environment;

#[derive(Debug, PartialEq)]
pub enum InterpError {
    /// A `$` that starts none of the forms above.
    Invalid,
    /// `${VAR:?message}` or `${VAR?message}` with the variable missing: the message.
    Required(String),
}

/// Substitutes variables in one string; `unset` collects the variables that were not set.
pub fn substitute(text: &str, env: &Environment, v1: bool, unset: &mut Vec<String>) -> Result<String, InterpError> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        out.push_str(&text[literal_start..i]);
        let rest = &text[i + 1..];
        let consumed;
        if rest.starts_with('$') {
            out.push('$');
            consumed = 1;
        } else if let Some(len) = identifier_len(rest) {
            out.push_str(&lookup(&rest[..len], env, unset));
            consumed = len;
        } else if let Some(inner) = rest.strip_prefix('{') {
            let Some((value, len)) = braced(inner, env, v1, unset)? else {
                return Err(InterpError::Invalid);
            };
            out.push_str(&value);
            consumed = len + 1;
        } else {
            return Err(InterpError::Invalid);
        }
        i += 1 + consumed;
        literal_start = i;
    }
    out.push_str(&text[literal_start..]);
    Ok(out)
}

/// Length of `[_a-z][_a-z0-9]*` (case-insensitive) at the start of `s`.
fn identifier_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if !bytes.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
        return None;
    }
    Some(
        bytes
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count(),
    )
}

/// `mapping[name]`: an unset variable is empty; one set without a value prints as `None`.
fn lookup(name: &str, env: &Environment, unset: &mut Vec<String>) -> String {
    match env.get(name) {
        Some(Some(v)) => v.to_string(),
        Some(None) => "None".to_string(),
        None => {
            if !unset.iter().any(|n| n == name) {
                unset.push(name.to_string());
            }
            String::new()
        }
    }
}

/// The text after `${`: the value and how many bytes (through `}`) it used, or `None` when it is
/// not a valid braced form.
fn braced(
    inner: &str,
    env: &Environment,
    v1: bool,
    unset: &mut Vec<String>,
) -> Result<Option<(String, usize)>, InterpError> {
    let Some(len) = identifier_len(inner) else {
        return Ok(None);
    };
    let name = &inner[..len];
    let after = &inner[len..];
    if after.starts_with('}') {
        return Ok(Some((lookup(name, env, unset), len + 1)));
    }
    if v1 {
        return Ok(None);
    }
    let sep = [":-", ":?", "-", "?"].into_iter().find(|sep| after.starts_with(sep));
    let Some(sep) = sep else { return Ok(None) };
    let Some(close) = after.find('}') else { return Ok(None) };
    let arg = &after[sep.len()..close];
    let used = len + close + 1;
    let value = match sep {
        ":-" => env.value(name).unwrap_or(arg).to_string(),
        "-" => match env.get(name) {
            Some(v) => v.unwrap_or("").to_string(),
            None => arg.to_string(),
        },
        ":?" => match env.value(name) {
            Some(v) => v.to_string(),
            None => {
                return Err(InterpError::Required(
                    if arg.is_empty() { name } else { arg }.to_string(),
                ));
            }
        },
        _ => match env.get(name) {
            Some(v) => v.unwrap_or("").to_string(),
            None => {
                return Err(InterpError::Required(
                    if arg.is_empty() { name } else { arg }.to_string(),
                ));
            }
        },
    };
    Ok(Some((value, used)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env() -> Environment {
        let vars = HashMap::from([
            ("TAG".to_string(), "1.2".to_string()),
            ("EMPTY".to_string(), String::new()),
            ("Mixed_Case".to_string(), "m".to_string()),
        ]);
        Environment::new(None, &vars)
    }

    fn sub(text: &str) -> Result<String, InterpError> {
        substitute(text, &env(), false, &mut Vec::new())
    }

    #[test]
    fn forms() {
        assert_eq!(sub("img:$TAG").unwrap(), "img:1.2");
        assert_eq!(sub("img:${TAG}x").unwrap(), "img:1.2x");
        assert_eq!(sub("${MISSING}|${EMPTY}").unwrap(), "|");
        assert_eq!(sub("${MISSING:-d}|${EMPTY:-d}|${TAG:-d}").unwrap(), "d|d|1.2");
        assert_eq!(sub("${MISSING-d}|${EMPTY-d}|${TAG-d}").unwrap(), "d||1.2");
        assert_eq!(sub("$$TAG $${TAG} $$").unwrap(), "$TAG ${TAG} $");
        assert_eq!(sub("${Mixed_Case}").unwrap(), "m");
        assert_eq!(sub("${MISSING:-a-b c}").unwrap(), "a-b c");
        assert_eq!(sub("${MISSING:-${TAG}}").unwrap(), "${TAG}");
        assert_eq!(sub("é$TAG").unwrap(), "é1.2");
    }

    #[test]
    fn required_and_invalid() {
        assert_eq!(sub("${TAG:?need it}").unwrap(), "1.2");
        assert_eq!(sub("${EMPTY?x}").unwrap(), "");
        assert_eq!(
            sub("${EMPTY:?set EMPTY}"),
            Err(InterpError::Required("set EMPTY".into()))
        );
        assert_eq!(sub("${MISSING?}"), Err(InterpError::Required("MISSING".into())));
        assert_eq!(sub("cost: 5$"), Err(InterpError::Invalid));
        assert_eq!(sub("${TAG"), Err(InterpError::Invalid));
        assert_eq!(sub("${TAG:x}"), Err(InterpError::Invalid));
        assert_eq!(sub("${}"), Err(InterpError::Invalid));
        assert_eq!(sub("$1"), Err(InterpError::Invalid));
    }

    #[test]
    fn version_1_has_no_defaults() {
        let mut unset = Vec::new();
        assert_eq!(
            substitute("$TAG ${TAG} $$", &env(), true, &mut unset).unwrap(),
            "1.2 1.2 $"
        );
        assert_eq!(
            substitute("${TAG:-x}", &env(), true, &mut unset),
            Err(InterpError::Invalid)
        );
        assert_eq!(substitute("$NOPE", &env(), true, &mut unset).unwrap(), "");
        assert_eq!(unset, ["NOPE"]);
    }
}
