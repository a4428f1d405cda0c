//! Ansible's tests on registered results, lists and truthiness (`is failed`, `is subset`,
//! `is truthy`, ...).

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};

use crate::compat::ansible;

use super::args::*;
use super::collections::*;

/// Python's truth of the value, after Ansible's `boolean()` where `convert_bool` asks for it and
/// the value is one of its words or numbers.
fn truthiness(value: &Value, convert_bool: bool) -> Result<bool, Error> {
    defined(value)?;
    if convert_bool {
        let converted = match value.kind() {
            ValueKind::String => ansible::boolean(value.as_str().unwrap_or_default()),
            ValueKind::Number => f64::try_from(value.clone()).ok().and_then(ansible::boolean_number),
            _ => None,
        };
        if let Some(b) = converted {
            return Ok(b);
        }
    }
    Ok(value.is_true())
}

/// `is truthy(convert_bool=false)`: true as Python sees it, or as Ansible's booleans with
/// `convert_bool=true`.
pub(super) fn test_truthy(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    let params = Params::new("truthy", &args, &kwargs, &["convert_bool"])?;
    let convert_bool = params.flag(0, "convert_bool")?;
    params.finish()?;
    truthiness(value, convert_bool)
}

pub(super) fn test_falsy(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    let params = Params::new("falsy", &args, &kwargs, &["convert_bool"])?;
    let convert_bool = params.flag(0, "convert_bool")?;
    params.finish()?;
    Ok(!truthiness(value, convert_bool)?)
}

fn result_flag(test: &str, value: &Value, key: &str) -> Result<bool, Error> {
    defined(value)?;
    if value.kind() != ValueKind::Map {
        return Err(fail(format!(
            "the `{test}` test expects a registered result (a dictionary), got {}",
            type_name(value)
        )));
    }
    Ok(value.get_attr(key)?.is_true())
}

pub(super) fn test_failed(value: &Value) -> Result<bool, Error> {
    result_flag("failed", value, "failed")
}

pub(super) fn test_succeeded(value: &Value) -> Result<bool, Error> {
    Ok(!result_flag("succeeded", value, "failed")?)
}

/// `is changed`: the result's `changed`, or for a loop's result whether any item changed.
pub(super) fn test_changed(value: &Value) -> Result<bool, Error> {
    let changed = result_flag("changed", value, "changed")?;
    let has_key = !value.get_attr("changed")?.is_undefined();
    if has_key {
        return Ok(changed);
    }
    let results = value.get_attr("results")?;
    if results.kind() != ValueKind::Seq {
        return Ok(false);
    }
    Ok(items("changed", &results)?
        .iter()
        .any(|r| r.kind() == ValueKind::Map && r.get_attr("changed").is_ok_and(|c| c.is_true())))
}

pub(super) fn test_skipped(value: &Value) -> Result<bool, Error> {
    result_flag("skipped", value, "skipped")
}

pub(super) fn test_unreachable(value: &Value) -> Result<bool, Error> {
    result_flag("unreachable", value, "unreachable")
}

pub(super) fn test_reachable(value: &Value) -> Result<bool, Error> {
    Ok(!result_flag("reachable", value, "unreachable")?)
}

/// `is subset(other)`: every item of the list is in `other`.
pub(super) fn test_subset(value: &Value, other: &Value) -> Result<bool, Error> {
    let TwoLists { a, in_b, .. } = two_lists("subset", value, other)?;
    Ok(a.iter().all(|x| in_b.contains(x)))
}

/// `is superset(other)`: every item of `other` is in the list.
pub(super) fn test_superset(value: &Value, other: &Value) -> Result<bool, Error> {
    test_subset(other, value)
}

/// `is contains(item)`: the list holds `item`.
pub(super) fn test_contains(value: &Value, item: &Value) -> Result<bool, Error> {
    Ok(items("contains", value)?.contains(item))
}

pub(super) fn test_any(value: &Value) -> Result<bool, Error> {
    Ok(items("any", value)?.iter().any(Value::is_true))
}

pub(super) fn test_all(value: &Value) -> Result<bool, Error> {
    Ok(items("all", value)?.iter().all(Value::is_true))
}
