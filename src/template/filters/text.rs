//! Filters of text: those whose text Ansible keeps as text (its `STRING_TYPE_FILTERS`:
//! `string`, `to_json`, `to_yaml`...), whose output is a safe string that a templated string's
//! value keeps as text rather than reading it back as a list or dict; `comment`; and `format`
//! with Python's `%r` and `%s`.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Error, State};

use super::args::*;
use super::json::{to_json, to_nice_json};
use super::yaml::{to_nice_yaml, to_yaml};

/// `string`: Python's `str()` of the value.
pub(super) fn string(value: &Value) -> Result<Value, Error> {
    let text = match value.as_str() {
        Some(text) => text.to_string(),
        None => {
            let data = serde_json::to_value(value).map_err(|e| fail(format!("string: {e}")))?;
            crate::compat::literal::py_str(&data)
        }
    };
    Ok(Value::from_safe_string(text))
}

pub(super) fn to_json_text(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    to_json(value, kwargs).map(Value::from_safe_string)
}

pub(super) fn to_nice_json_text(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    to_nice_json(value, args, kwargs).map(Value::from_safe_string)
}

pub(super) fn to_yaml_text(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    to_yaml(value, kwargs).map(Value::from_safe_string)
}

pub(super) fn to_nice_yaml_text(value: &Value, indent: Option<usize>, kwargs: Kwargs) -> Result<Value, Error> {
    to_nice_yaml(value, indent, kwargs).map(Value::from_safe_string)
}

/// `comment(style='plain', **options)`: the text as a comment block, as Ansible writes it.
pub(super) fn comment(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("comment", &args, &kwargs, &["style"])?;
    let style = params.string(0, "style")?.unwrap_or_else(|| "plain".into());
    let option = |name: &str| -> Result<Option<String>, Error> {
        kwargs.get::<Option<Value>>(name)?.map(|v| text(&v)).transpose()
    };
    let (beginning, decoration, end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        other => return Err(fail(format!("comment: unknown style '{other}'"))),
    };
    let prepostfix = option("decoration")?.unwrap_or_else(|| decoration.to_string());
    let newline = option("newline")?.unwrap_or_else(|| "\n".into());
    let beginning = option("beginning")?.unwrap_or_else(|| beginning.into());
    let prefix = option("prefix")?.unwrap_or_else(|| prepostfix.trim_end().to_string());
    let postfix = option("postfix")?.unwrap_or_else(|| prepostfix.trim_end().to_string());
    let decoration = option("decoration")?.unwrap_or_else(|| decoration.to_string());
    let end = option("end")?.unwrap_or_else(|| end.into());
    let count =
        |name: &str| -> Result<usize, Error> { Ok(kwargs.get::<Option<i64>>(name)?.map_or(1, |n| n.max(0) as usize)) };
    let prefix_count = count("prefix_count")?;
    let postfix_count = count("postfix_count")?;
    params.finish()?;
    let body = text(value)?;
    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&format!("{beginning}{newline}"));
    }
    if !prefix.is_empty() {
        let line = if prefix == newline {
            newline.clone()
        } else {
            format!("{prefix}{newline}")
        };
        out.push_str(&line.repeat(prefix_count));
    }
    let decorated = format!(
        "{decoration}{}",
        body.replace(&newline, &format!("{newline}{decoration}"))
    );
    out.push_str(&decorated.replace(
        &format!("{decoration}{newline}"),
        &format!("{}{newline}", decoration.trim_end()),
    ));
    for _ in 0..postfix_count {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&format!("{newline}{end}"));
    }
    Ok(out)
}

/// `format(*args)`: Python's `%` formatting; `%r` is the argument's `repr` and `%s` its `str`.
pub(super) fn format(state: &mut State, value: &Value, args: Rest<Value>) -> Result<Value, Error> {
    let template = text(value)?;
    let mut pattern = String::with_capacity(template.len());
    let mut shown: Vec<Value> = Vec::with_capacity(args.len());
    let mut next = 0;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        pattern.push(c);
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            pattern.push('%');
            chars.next();
            continue;
        }
        // Flags, width and precision, then the conversion.
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || matches!(d, '-' | '+' | ' ' | '#' | '.') {
                pattern.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let Some(conversion) = chars.next() else { break };
        let arg = args.get(next).cloned().unwrap_or(Value::UNDEFINED);
        next += 1;
        match conversion {
            'r' | 's' => {
                defined(&arg)?;
                let data = serde_json::to_value(&arg).map_err(|e| fail(format!("format: {e}")))?;
                let text = if conversion == 'r' {
                    crate::compat::literal::py_repr(&data)
                } else {
                    crate::compat::literal::py_str(&data)
                };
                pattern.push('s');
                shown.push(Value::from(text));
            }
            other => {
                pattern.push(other);
                shown.push(arg);
            }
        }
    }
    shown.extend(args.iter().skip(next).cloned());
    let shown: Vec<minijinja::value::ValueOrKwargs> = shown.into_iter().map(Into::into).collect();
    minijinja::filters::format(state, &Value::from(pattern), Rest(shown))
}

/// Jinja2's `join(d='', attribute=None)`, each item printed as Python's `str()` prints it.
pub(super) fn join(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("join", &args, &kwargs, &["d", "attribute"])?;
    let separator = params.string(0, "d")?.unwrap_or_default();
    let attribute = params.string(1, "attribute")?;
    params.finish()?;
    if let Some(text) = value.as_str() {
        return Ok(text.chars().map(String::from).collect::<Vec<_>>().join(&separator));
    }
    let mut parts = Vec::new();
    for item in items("join", value)? {
        let mut item = item;
        if let Some(path) = &attribute {
            for key in path.split('.') {
                item = match key.parse::<i64>() {
                    Ok(index) => item.get_item(&Value::from(index))?,
                    Err(_) => item.get_attr(key)?,
                };
            }
        }
        defined(&item)?;
        parts.push(match item.as_str() {
            Some(text) => text.to_string(),
            None => {
                let data = serde_json::to_value(&item).map_err(|e| fail(format!("join: {e}")))?;
                crate::compat::literal::py_str(&data)
            }
        });
    }
    Ok(parts.join(&separator))
}
