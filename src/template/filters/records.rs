//! `subelements` and `rekey_on_member`: lists of records turned inside out, as Ansible does.

use indexmap::IndexMap;
use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};

use super::args::*;

/// `subelements(path, skip_missing=False)`: each record paired with each item of its list at
/// `path` (a dotted string or a list of keys).
pub(super) fn subelements(value: &Value, path: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("subelements", &args, &kwargs, &["skip_missing"])?;
    let skip_missing = params.flag(0, "skip_missing")?;
    params.finish()?;
    let records: Vec<Value> = match value.kind() {
        ValueKind::Map => entries(value)?.into_values().collect(),
        ValueKind::Seq | ValueKind::Iterable => items("subelements", value)?,
        _ => return Err(fail("obj must be a list of dicts or a nested dict")),
    };
    let keys: Vec<Value> = match path.kind() {
        ValueKind::String => text(path)?.split('.').map(Value::from).collect(),
        ValueKind::Seq => items("subelements", path)?,
        _ => return Err(fail("subelements must be a list or a string")),
    };
    let mut out = Vec::new();
    for record in records {
        let mut found = record.clone();
        for key in &keys {
            if found.kind() != ValueKind::Map {
                return Err(fail(format!(
                    "the key {key} should point to a dictionary, got '{found}'"
                )));
            }
            match found.get_item(key).ok().filter(|v| !v.is_undefined()) {
                Some(next) => found = next,
                None if skip_missing => {
                    found = Value::from(Vec::<Value>::new());
                    break;
                }
                None => return Err(fail(format!("could not find {key:?} key in iterated item {found}"))),
            }
        }
        if found.kind() != ValueKind::Seq {
            return Err(fail(format!("the key {keys:?} should point to a list, got {found}")));
        }
        for item in items("subelements", &found)? {
            out.push(Value::from(vec![record.clone(), item]));
        }
    }
    Ok(Value::from(out))
}

/// `rekey_on_member(key, duplicates='error')`: a dict of the records by their `key`.
pub(super) fn rekey_on_member(value: &Value, key: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("rekey_on_member", &args, &kwargs, &["duplicates"])?;
    let duplicates = params.string(0, "duplicates")?.unwrap_or_else(|| "error".into());
    params.finish()?;
    defined(key)?;
    if duplicates != "error" && duplicates != "overwrite" {
        return Err(fail(format!(
            "duplicates parameter to rekey_on_member has unknown value: {duplicates}"
        )));
    }
    let records: Vec<Value> = match value.kind() {
        ValueKind::Map => entries(value)?.into_values().collect(),
        ValueKind::Seq | ValueKind::Iterable => items("rekey_on_member", value)?,
        _ => return Err(fail("Type is not a valid list, set, or dict")),
    };
    let mut out: IndexMap<Value, Value> = IndexMap::new();
    for record in records {
        if record.kind() != ValueKind::Map {
            return Err(fail("List item is not a valid dict"));
        }
        let member = record
            .get_item(key)
            .ok()
            .filter(|v| !v.is_undefined())
            .ok_or_else(|| fail(format!("Key {key} was not found")))?;
        if out.contains_key(&member) && duplicates == "error" {
            return Err(fail(format!(
                "Key {member} is not unique, cannot correctly turn into dict"
            )));
        }
        out.insert(member, record);
    }
    Ok(map_value(out))
}
