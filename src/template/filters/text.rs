//! The filters whose text Ansible keeps as text (its `STRING_TYPE_FILTERS`: `string`,
//! `to_json`, `to_yaml`...): their output is a safe string, which a templated string's value
//! keeps as text rather than reading it back as a list or dict.

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value};

use super::json::{to_json, to_nice_json};
use super::yaml::{to_nice_yaml, to_yaml};

/// `string`: Python's `str()` of the value.
pub(super) fn string(value: &Value) -> Result<Value, Error> {
    let text = match value.as_str() {
        Some(text) => text.to_string(),
        None => {
            let data = serde_json::to_value(value).map_err(|e| super::args::fail(format!("string: {e}")))?;
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
