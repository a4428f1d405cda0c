//! The value shape JSON and YAML output share, and the key order Python's `sorted()` gives.

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use super::args::*;

/// A value in the shape JSON and YAML can hold.
pub(super) enum Data {
    Null,
    Bool(bool),
    Int(String),
    Float(f64),
    Str(String),
    List(Vec<Data>),
    Map(Vec<(Data, Data)>),
}

impl Data {
    pub(super) fn from_value(filter: &str, value: &Value) -> Result<Data, Error> {
        Ok(match value.kind() {
            ValueKind::Undefined => return Err(undefined_error(value)),
            ValueKind::None => Data::Null,
            ValueKind::Bool => Data::Bool(value.is_true()),
            ValueKind::Number if value.is_integer() => Data::Int(value.to_string()),
            ValueKind::Number => Data::Float(f64::try_from(value.clone())?),
            ValueKind::String | ValueKind::Bytes => Data::Str(text(value)?),
            ValueKind::Seq | ValueKind::Iterable => Data::List(
                items(filter, value)?
                    .iter()
                    .map(|item| Data::from_value(filter, item))
                    .collect::<Result<_, _>>()?,
            ),
            ValueKind::Map => Data::Map(
                entries(value)?
                    .iter()
                    .map(|(k, v)| Ok((Data::from_value(filter, k)?, Data::from_value(filter, v)?)))
                    .collect::<Result<_, Error>>()?,
            ),
            ValueKind::Invalid => return Err(fail(value.to_string())),
            _ => Data::Str(value.to_string()),
        })
    }

    pub(super) fn is_scalar(&self) -> bool {
        !matches!(self, Data::List(_) | Data::Map(_))
    }
}

fn key_number(key: &Data) -> Option<f64> {
    match key {
        Data::Int(s) => s.parse().ok(),
        Data::Float(f) => Some(*f),
        Data::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// The order Python's `sorted()` puts mapping keys in, or `None` when the keys are of types
/// Python cannot compare with each other.
pub(super) fn sorted_order(keys: &[&Data]) -> Option<Vec<usize>> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    if keys.iter().all(|k| matches!(k, Data::Str(_))) {
        order.sort_by(|&a, &b| match (keys[a], keys[b]) {
            (Data::Str(a), Data::Str(b)) => a.cmp(b),
            _ => std::cmp::Ordering::Equal,
        });
    } else if keys.iter().all(|k| key_number(k).is_some()) {
        order.sort_by(|&a, &b| {
            key_number(keys[a])
                .partial_cmp(&key_number(keys[b]))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    } else if keys.len() > 1 {
        return None;
    }
    Some(order)
}
