//! `to_json`, `to_nice_json` and `from_json`: Python's `json.dumps` (in `crate::compat::python`)
//! over template values, whose keys and numbers Python coerces its own way.

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Serde, Value};

use serde_json::ser::Formatter as _;

use crate::compat::python::{JsonDumps, PyJson, json_float};

use super::args::*;
use super::data::*;

/// Writes `data` through Python's `json.dumps` formatter. Template values are walked here rather
/// than serialized by serde because they hold what JSON values cannot (`NaN`, keys of any scalar
/// type, integers beyond 64 bits).
fn write_json(out: &mut Vec<u8>, f: &mut PyJson<'_>, data: &Data, sort_keys: bool) -> Result<(), Error> {
    let io = |result: std::io::Result<()>| result.map_err(|e| fail(e.to_string()));
    match data {
        Data::Null => io(f.write_null(out))?,
        Data::Bool(b) => io(f.write_bool(out, *b))?,
        Data::Int(s) => io(f.write_number_str(out, s))?,
        Data::Float(x) => io(f.write_f64(out, *x))?,
        Data::Str(s) => io(f.write_str(out, s))?,
        Data::List(items) => {
            io(f.begin_array(out))?;
            for (i, item) in items.iter().enumerate() {
                io(f.begin_array_value(out, i == 0))?;
                write_json(out, f, item, sort_keys)?;
                io(f.end_array_value(out))?;
            }
            io(f.end_array(out))?;
        }
        Data::Map(entries) => {
            let mut order: Vec<usize> = (0..entries.len()).collect();
            if sort_keys {
                let keys: Vec<&Data> = entries.iter().map(|(k, _)| k).collect();
                order = sorted_order(&keys)
                    .ok_or_else(|| fail("to_json: cannot sort keys of different types; pass sort_keys=false"))?;
            }
            io(f.begin_object(out))?;
            for (i, (key, value)) in order.iter().map(|&i| &entries[i]).enumerate() {
                let key = match key {
                    Data::Str(s) | Data::Int(s) => s.clone(),
                    Data::Float(x) => json_float(*x),
                    Data::Bool(b) => b.to_string(),
                    Data::Null => "null".into(),
                    Data::List(_) | Data::Map(_) => {
                        return Err(fail("to_json: keys must be strings, numbers, booleans or none"));
                    }
                };
                io(f.begin_object_key(out, i == 0))?;
                io(f.write_str(out, &key))?;
                io(f.end_object_key(out))?;
                io(f.begin_object_value(out))?;
                write_json(out, f, value, sort_keys)?;
                io(f.end_object_value(out))?;
            }
            io(f.end_object(out))?;
        }
    }
    Ok(())
}

fn json_indent(filter: &str, indent: Option<Value>) -> Result<Option<String>, Error> {
    Ok(match indent {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match (v.as_str(), v.as_i64()) {
            (Some(s), _) => Some(s.to_string()),
            (None, Some(n)) => Some(" ".repeat(usize::try_from(n).unwrap_or(0))),
            _ => {
                return Err(fail(format!("{filter}: `indent` must be a number or a string")));
            }
        },
    })
}

fn dump_json(filter: &str, value: &Value, style: JsonDumps) -> Result<String, Error> {
    let data = Data::from_value(filter, value)?;
    let mut out = Vec::new();
    write_json(&mut out, &mut style.formatter(), &data, style.sort_keys)?;
    String::from_utf8(out).map_err(|e| fail(e.to_string()))
}

/// `to_json(indent=None, sort_keys=false, ensure_ascii=true, separators=None)`, the text of
/// Python's `json.dumps`.
pub(super) fn to_json(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent = json_indent("to_json", kwargs.get("indent")?)?;
    let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    let ensure_ascii = kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(true);
    let separators: Option<Value> = kwargs.get("separators")?;
    kwargs.assert_all_used()?;
    let (item_separator, key_separator) = match separators {
        Some(pair) => match items("to_json", &pair)?.as_slice() {
            [item, key] => (text(item)?, text(key)?),
            _ => return Err(fail("to_json: `separators` must be a pair of strings")),
        },
        None => {
            let defaults = JsonDumps::new(indent.clone());
            (defaults.item_separator, defaults.key_separator)
        }
    };
    dump_json(
        "to_json",
        value,
        JsonDumps {
            indent,
            item_separator,
            key_separator,
            sort_keys,
            ensure_ascii,
        },
    )
}

/// `to_nice_json(indent=4, sort_keys=true)`.
pub(super) fn to_nice_json(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("to_nice_json", &args, &kwargs, &["indent", "sort_keys"])?;
    let indent = json_indent("to_nice_json", params.get(0, "indent")?)?.or_else(|| Some("    ".into()));
    let sort_keys = params.get(1, "sort_keys")?.is_none_or(|v| v.is_true());
    let ensure_ascii = kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(true);
    params.finish()?;
    let style = JsonDumps {
        sort_keys,
        ensure_ascii,
        ..JsonDumps::new(indent)
    };
    dump_json("to_nice_json", value, style)
}

pub(super) fn from_json(value: &Value) -> Result<Value, Error> {
    defined(value)?;
    let Some(s) = value.as_str() else {
        return Err(fail(format!(
            "from_json: expected a string of JSON, got {}",
            type_name(value)
        )));
    };
    let json: serde_json::Value =
        serde_json::from_str(s).map_err(|e| fail(format!("from_json: input is not valid JSON: {e}")))?;
    Ok(Value::from(Serde(json)))
}
