//! Data shaping and set theory on lists and mappings: `dict2items`, `combine`, `flatten`,
//! `union` and the like, with the orders Ansible gives.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Tuple, Value, ValueKind};

use super::args::*;

/// `dict2items(key_name='key', value_name='value')`: a mapping as a list of key/value pairs.
pub(super) fn dict2items(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("dict2items", &args, &kwargs, &["key_name", "value_name"])?;
    let key_name = params.string(0, "key_name")?.unwrap_or_else(|| "key".into());
    let value_name = params.string(1, "value_name")?.unwrap_or_else(|| "value".into());
    params.finish()?;
    defined(value)?;
    if value.kind() != ValueKind::Map {
        return Err(fail(format!(
            "dict2items: expected a dictionary, got {}",
            type_name(value)
        )));
    }
    Ok(Value::from(
        entries(value)?
            .into_iter()
            .map(|(k, v)| Value::from_pairs([(key_name.as_str(), k), (value_name.as_str(), v)]))
            .collect::<Vec<_>>(),
    ))
}

/// `items2dict(key_name='key', value_name='value')`: a list of key/value pairs as a mapping.
pub(super) fn items2dict(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("items2dict", &args, &kwargs, &["key_name", "value_name"])?;
    let key_name = Value::from(params.string(0, "key_name")?.unwrap_or_else(|| "key".into()));
    let value_name = Value::from(params.string(1, "value_name")?.unwrap_or_else(|| "value".into()));
    params.finish()?;
    defined(value)?;
    if !is_list(value) {
        return Err(fail(format!("items2dict: expected a list, got {}", type_name(value))));
    }
    let mut map = IndexMap::new();
    for item in items("items2dict", value)? {
        if item.kind() != ValueKind::Map {
            return Err(fail(format!(
                "items2dict: expected a list of dictionaries, got an item of type {}",
                type_name(&item)
            )));
        }
        let (k, v) = (item.get_item(&key_name)?, item.get_item(&value_name)?);
        if k.is_undefined() || v.is_undefined() {
            return Err(fail(format!(
                "items2dict: each item needs the keys `{key_name}` and `{value_name}`, got {item}"
            )));
        }
        map.insert(k, v);
    }
    Ok(map_value(map))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ListMerge {
    Replace,
    Keep,
    Append,
    Prepend,
    AppendRp,
    PrependRp,
}

fn merge_hash(
    mut low: IndexMap<Value, Value>,
    high: IndexMap<Value, Value>,
    recursive: bool,
    lists: ListMerge,
) -> Result<IndexMap<Value, Value>, Error> {
    if low.is_empty() || low == high {
        return Ok(high);
    }
    if high.is_empty() {
        return Ok(low);
    }
    if !recursive && lists == ListMerge::Replace {
        low.extend(high);
        return Ok(low);
    }
    for (key, high_value) in high {
        let Some(low_value) = low.get(&key) else {
            low.insert(key, high_value);
            continue;
        };
        let merged = match (low_value.kind(), high_value.kind()) {
            (ValueKind::Map, ValueKind::Map) if recursive => map_value(merge_hash(
                entries(low_value)?,
                entries(&high_value)?,
                recursive,
                lists,
            )?),
            (ValueKind::Seq, ValueKind::Seq) => {
                let old = items("combine", low_value)?;
                let new = items("combine", &high_value)?;
                let kept = || old.iter().filter(|x| !new.contains(x)).cloned();
                match lists {
                    ListMerge::Replace => high_value,
                    ListMerge::Keep => low_value.clone(),
                    ListMerge::Append => Value::from(old.iter().chain(&new).cloned().collect::<Vec<_>>()),
                    ListMerge::Prepend => Value::from(new.iter().chain(&old).cloned().collect::<Vec<_>>()),
                    ListMerge::AppendRp => Value::from(kept().chain(new.iter().cloned()).collect::<Vec<_>>()),
                    ListMerge::PrependRp => Value::from(new.iter().cloned().chain(kept()).collect::<Vec<_>>()),
                }
            }
            _ => high_value,
        };
        low.insert(key, merged);
    }
    Ok(low)
}

/// `combine(*dicts, recursive=false, list_merge='replace')`: later dictionaries win; lists of
/// dictionaries are combined in order.
pub(super) fn combine(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    let lists = match list_merge.as_str() {
        "replace" => ListMerge::Replace,
        "keep" => ListMerge::Keep,
        "append" => ListMerge::Append,
        "prepend" => ListMerge::Prepend,
        "append_rp" => ListMerge::AppendRp,
        "prepend_rp" => ListMerge::PrependRp,
        other => {
            return Err(fail(format!(
                "combine: list_merge must be 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', not '{other}'"
            )));
        }
    };
    let mut dicts = Vec::new();
    for term in std::iter::once(value).chain(others.iter()) {
        defined(term)?;
        let terms = if is_list(term) {
            items("combine", term)?
        } else {
            vec![term.clone()]
        };
        for item in terms {
            defined(&item)?;
            match item.kind() {
                ValueKind::None => {}
                ValueKind::Map => dicts.push(item),
                _ => {
                    return Err(fail(format!(
                        "combine: expected dictionaries, got {}",
                        type_name(&item)
                    )));
                }
            }
        }
    }
    match dicts.as_slice() {
        [] => Ok(map_value(IndexMap::new())),
        [only] => Ok(only.clone()),
        [first, rest @ ..] => {
            let mut merged = entries(first)?;
            for dict in rest {
                merged = merge_hash(merged, entries(dict)?, recursive, lists)?;
            }
            Ok(map_value(merged))
        }
    }
}

/// `mandatory(msg=None)`: fails on an undefined value.
pub(super) fn mandatory(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("mandatory", &args, &kwargs, &["msg"])?;
    let msg = params.string(0, "msg")?;
    params.finish()?;
    if value.is_undefined() {
        return Err(match msg {
            Some(msg) => fail(msg),
            None => undefined_error(value),
        });
    }
    Ok(value.clone())
}

/// `ternary(true_val, false_val, none_val=None)`.
pub(super) fn ternary(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("ternary", &args, &kwargs, &["true_val", "false_val", "none_val"])?;
    let true_val = params.get(0, "true_val")?.unwrap_or_else(|| Value::from(true));
    let false_val = params.get(1, "false_val")?.unwrap_or_else(|| Value::from(false));
    let none_val = params.get(2, "none_val")?.filter(|v| !v.is_none());
    params.finish()?;
    defined(value)?;
    Ok(match none_val {
        Some(none_val) if value.is_none() => none_val,
        _ if value.is_true() => true_val,
        _ => false_val,
    })
}

fn flatten_into(out: &mut Vec<Value>, list: &Value, levels: Option<i64>, skip_nulls: bool) -> Result<(), Error> {
    for item in items("flatten", list)? {
        if skip_nulls && (item.is_none() || matches!(item.as_str(), Some("None" | "null"))) {
            continue;
        }
        match levels {
            _ if !is_list(&item) => out.push(item),
            None => flatten_into(out, &item, None, skip_nulls)?,
            Some(n) if n >= 1 => flatten_into(out, &item, Some(n - 1), skip_nulls)?,
            Some(_) => out.push(item),
        }
    }
    Ok(())
}

/// `flatten(levels=None, skip_nulls=true)`.
pub(super) fn flatten(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("flatten", &args, &kwargs, &["levels", "skip_nulls"])?;
    let levels = params.int(0, "levels")?;
    let skip_nulls = params.get(1, "skip_nulls")?.is_none_or(|v| v.is_true());
    params.finish()?;
    let mut out = Vec::new();
    flatten_into(&mut out, value, levels, skip_nulls)?;
    Ok(Value::from(out))
}

/// `zip_longest(*lists, fillvalue=None)`.
pub(super) fn zip_longest(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill = kwargs
        .get::<Option<Value>>("fillvalue")?
        .unwrap_or_else(|| Value::from(()));
    kwargs.assert_all_used()?;
    let lists = std::iter::once(value)
        .chain(others.iter())
        .map(|list| items("zip_longest", list))
        .collect::<Result<Vec<_>, _>>()?;
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..longest)
            .map(|i| {
                let row = lists
                    .iter()
                    .map(|list| list.get(i).cloned().unwrap_or_else(|| fill.clone()));
                Value::from(Tuple::new(row.collect()))
            })
            .collect::<Vec<_>>(),
    ))
}

/// `extract(container, morekeys=None)`: `container[item]`, then each further key in turn.
pub(super) fn extract(item: &Value, container: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("extract", &args, &kwargs, &["morekeys"])?;
    let morekeys = params.get(0, "morekeys")?.filter(|v| !v.is_none());
    params.finish()?;
    let mut keys = vec![item.clone()];
    match morekeys {
        Some(more) if more.kind() == ValueKind::Seq => keys.extend(items("extract", &more)?),
        Some(more) => keys.push(more),
        None => {}
    }
    let mut value = container.clone();
    for key in keys {
        value = value.get_item(&key)?;
    }
    Ok(value)
}

pub(super) fn type_debug(value: &Value) -> &'static str {
    type_name(value)
}

// ---------------------------------------------------------------------------------------------
// Set theory: results keep the order of the first list, then the second.

fn unique_values(values: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    values.into_iter().filter(|v| seen.insert(v.clone())).collect()
}

/// The items of two lists, and the set of the second's.
pub(super) struct TwoLists {
    pub(super) a: Vec<Value>,
    pub(super) b: Vec<Value>,
    pub(super) in_b: BTreeSet<Value>,
}

pub(super) fn two_lists(filter: &str, a: &Value, b: &Value) -> Result<TwoLists, Error> {
    let a = items(filter, a)?;
    let b = items(filter, b)?;
    let in_b = b.iter().cloned().collect();
    Ok(TwoLists { a, b, in_b })
}

pub(super) fn difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let TwoLists { a, in_b, .. } = two_lists("difference", a, b)?;
    Ok(Value::from(unique_values(a.into_iter().filter(|x| !in_b.contains(x)))))
}

pub(super) fn intersect(a: &Value, b: &Value) -> Result<Value, Error> {
    let TwoLists { a, in_b, .. } = two_lists("intersect", a, b)?;
    Ok(Value::from(unique_values(a.into_iter().filter(|x| in_b.contains(x)))))
}

pub(super) fn union(a: &Value, b: &Value) -> Result<Value, Error> {
    let TwoLists { a, b, .. } = two_lists("union", a, b)?;
    Ok(Value::from(unique_values(a.into_iter().chain(b))))
}

pub(super) fn symmetric_difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let TwoLists { a, b, in_b } = two_lists("symmetric_difference", a, b)?;
    let in_a: BTreeSet<Value> = a.iter().cloned().collect();
    let only_a = a.into_iter().filter(|x| !in_b.contains(x));
    let only_b = b.into_iter().filter(|x| !in_a.contains(x));
    Ok(Value::from(unique_values(only_a.chain(only_b))))
}
