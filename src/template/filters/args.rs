//! Reading minijinja values and filter arguments the way Python (and so Ansible) sees them:
//! `str()`, type names, positional-or-keyword parameters, and minijinja's undefined errors.

use std::borrow::Cow;

use indexmap::IndexMap;
use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};

pub(super) fn fail(message: impl Into<Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// minijinja's own error for an undefined value: looking into the value fails with the error
/// the engine names the undefined variable in.
pub(super) fn undefined_error(value: &Value) -> Error {
    match value.get_attr("") {
        Err(err) => err,
        Ok(_) => Error::from(ErrorKind::UndefinedError),
    }
}

pub(super) fn defined(value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        Err(undefined_error(value))
    } else {
        Ok(())
    }
}

/// The value as text, the way Python's `str()` (and so Ansible's filters) see it.
pub(super) fn text(value: &Value) -> Result<String, Error> {
    defined(value)?;
    if value.kind() == ValueKind::Invalid {
        return Err(fail(value.to_string()));
    }
    Ok(match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    })
}

/// The name Python gives the type of a value, for messages and `type_debug`.
pub(super) fn type_name(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq if value.is_tuple() => "tuple",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        _ => "object",
    }
}

pub(super) fn is_list(value: &Value) -> bool {
    matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable)
}

pub(super) fn items(filter: &str, value: &Value) -> Result<Vec<Value>, Error> {
    defined(value)?;
    let iter = value
        .try_iter()
        .map_err(|_| fail(format!("{filter}: expected a list, got {}", type_name(value))))?;
    iter.checked().collect()
}

pub(super) fn entries(value: &Value) -> Result<IndexMap<Value, Value>, Error> {
    let mut map = IndexMap::new();
    for key in value.try_iter()?.checked() {
        let key = key?;
        let item = value.get_item(&key)?;
        map.insert(key, item);
    }
    Ok(map)
}

pub(super) fn map_value(map: IndexMap<Value, Value>) -> Value {
    Value::from_pairs(map)
}

/// Python-style optional parameters: each given by position or by keyword.
pub(super) struct Params<'a> {
    filter: &'static str,
    args: &'a [Value],
    kwargs: &'a Kwargs,
}

impl<'a> Params<'a> {
    pub(super) fn new(
        filter: &'static str,
        args: &'a [Value],
        kwargs: &'a Kwargs,
        names: &[&str],
    ) -> Result<Self, Error> {
        if args.len() > names.len() {
            return Err(Error::new(
                ErrorKind::TooManyArguments,
                format!(
                    "{filter} takes at most {} arguments ({}), got {}",
                    names.len(),
                    names.join(", "),
                    args.len()
                ),
            ));
        }
        Ok(Params { filter, args, kwargs })
    }

    pub(super) fn get(&self, index: usize, name: &str) -> Result<Option<Value>, Error> {
        if let Some(value) = self.args.get(index) {
            if self.kwargs.has(name) {
                return Err(fail(format!(
                    "{}: got multiple values for argument `{name}`",
                    self.filter
                )));
            }
            return Ok(Some(value.clone()));
        }
        let value: Option<Value> = self.kwargs.get(name)?;
        Ok(value)
    }

    pub(super) fn flag(&self, index: usize, name: &str) -> Result<bool, Error> {
        Ok(self.get(index, name)?.is_some_and(|v| v.is_true()))
    }

    pub(super) fn string(&self, index: usize, name: &str) -> Result<Option<String>, Error> {
        self.get(index, name)?.map(|v| text(&v)).transpose()
    }

    pub(super) fn int(&self, index: usize, name: &str) -> Result<Option<i64>, Error> {
        match self.get(index, name)? {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) => Ok(Some(n)),
                None => Err(fail(format!(
                    "{}: `{name}` must be an integer, got {}",
                    self.filter,
                    type_name(&v)
                ))),
            },
        }
    }

    pub(super) fn finish(self) -> Result<(), Error> {
        self.kwargs.assert_all_used()
    }
}
