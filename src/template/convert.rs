//! What a templated string becomes, as Ansible 2.14 makes it (`jinja2_native` off): the output
//! is text, each value printed as Python's `str()` prints it (`None` as nothing), and the text
//! is read back as a list, dict or bool when it reads as one (`ansible_eval_concat`), with the
//! input's trailing newlines kept.

use minijinja::value::{Value, ValueKind};
use serde_json::Value as Json;

use crate::compat::literal::{literal_eval, py_str};

/// Text as Ansible leaves it: read back as Python literals when it starts with `{` or `[` or
/// is `True` or `False`, a string otherwise.
pub fn text_value(text: String) -> Json {
    if (text.starts_with(['{', '[']) || text == "True" || text == "False")
        && let Some(value) = literal_eval(&text)
    {
        return value;
    }
    Json::String(text)
}

/// The value of a string that is one `{{ expression }}`, from the expression's value: text, read
/// back as [`text_value`] does; a list or dict reads back as itself, and the text of a filter
/// that makes text on purpose (`to_json`, `string`: a safe string here) stays text.
pub fn expression_value(value: &Value) -> Result<Json, String> {
    Ok(match value.kind() {
        ValueKind::String if value.is_safe() => Json::String(value.as_str().unwrap_or_default().to_string()),
        ValueKind::String => text_value(value.as_str().unwrap_or_default().to_string()),
        ValueKind::None => Json::String(String::new()),
        ValueKind::Bool => Json::Bool(value.is_true()),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => to_json(value)?,
        _ => Json::String(python_text(value)?),
    })
}

/// How a value prints inside a template: Python's `str()`, and nothing for `None` (Ansible's
/// `finalize`).
pub fn python_text(value: &Value) -> Result<String, String> {
    Ok(match value.kind() {
        ValueKind::None => String::new(),
        ValueKind::String => value.as_str().unwrap_or_default().to_string(),
        _ => py_str(&to_json(value)?),
    })
}

fn to_json(value: &Value) -> Result<Json, String> {
    serde_json::to_value(value).map_err(|e| format!("cannot use the value as data: {e}"))
}

/// Jinja2's lexer drops one trailing newline of a template (`keep_trailing_newline` off): the
/// text that is compiled.
pub fn without_trailing_newline(text: &str) -> &str {
    text.strip_suffix('\n').unwrap_or(text)
}

/// Ansible gives a rendered string back the trailing newlines of its input that rendering lost.
pub fn keep_trailing_newlines(input: &str, value: Json) -> Json {
    match value {
        Json::String(text) => Json::String(with_trailing_newlines(input, text)),
        other => other,
    }
}

/// The rendered `text` with as many trailing newlines as `input` has, if it has fewer.
pub fn with_trailing_newlines(input: &str, mut text: String) -> String {
    let count = |s: &str| s.len() - s.trim_end_matches('\n').len();
    let wanted = count(input);
    let have = count(&text);
    if wanted > have {
        text.push_str(&"\n".repeat(wanted - have));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_that_reads_as_a_list_dict_or_bool_becomes_one() {
        assert_eq!(text_value("[1, 'a']".into()), json!([1, "a"]));
        assert_eq!(text_value("{'a': True}".into()), json!({"a": true}));
        assert_eq!(text_value("True".into()), json!(true));
        assert_eq!(text_value("2".into()), json!("2"));
        assert_eq!(text_value("[not python".into()), json!("[not python"));
        assert_eq!(text_value(" [1]".into()), json!(" [1]"));
    }

    #[test]
    fn an_expression_value_is_text_unless_it_is_data() {
        assert_eq!(expression_value(&Value::from(2)).unwrap(), json!("2"));
        assert_eq!(expression_value(&Value::from(2.0)).unwrap(), json!("2.0"));
        assert_eq!(expression_value(&Value::from(true)).unwrap(), json!(true));
        assert_eq!(expression_value(&Value::from(())).unwrap(), json!(""));
        assert_eq!(expression_value(&Value::from(vec![1, 2])).unwrap(), json!([1, 2]));
        assert_eq!(expression_value(&Value::from("[1]")).unwrap(), json!([1]));
        assert_eq!(
            expression_value(&Value::from_safe_string("[1]".into())).unwrap(),
            json!("[1]")
        );
    }

    #[test]
    fn values_print_as_python_prints_them() {
        assert_eq!(
            python_text(&Value::from(vec![Value::from(true), Value::from(())])).unwrap(),
            "[True, None]"
        );
        assert_eq!(python_text(&Value::from(())).unwrap(), "");
    }

    #[test]
    fn trailing_newlines_of_the_input_are_kept() {
        assert_eq!(with_trailing_newlines("{{ x }}\n", "a".into()), "a\n");
        assert_eq!(with_trailing_newlines("{{ x }}\n\n", "a\n".into()), "a\n\n");
        assert_eq!(with_trailing_newlines("{{ x }}", "a\n".into()), "a\n");
    }
}
