//! Python's `os.path` filters: `basename`, `dirname`, `splitext`, `path_join`.

use minijinja::Error;
use minijinja::value::{Tuple, Value, ValueKind};

use super::args::*;

/// Python's `os.path.basename`: what follows the last `/`.
pub(super) fn basename(value: &Value) -> Result<String, Error> {
    let path = text(value)?;
    Ok(path.rsplit('/').next().unwrap_or_default().to_string())
}

/// Python's `os.path.dirname`: what precedes the last `/`, without trailing slashes.
pub(super) fn dirname(value: &Value) -> Result<String, Error> {
    let path = text(value)?;
    let head = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        Ok(head.trim_end_matches('/').to_string())
    } else {
        Ok(head.to_string())
    }
}

/// Python's `os.path.splitext`: `(root, ext)`, where a file name's leading dots are no extension.
pub(super) fn splitext(value: &Value) -> Result<Value, Error> {
    let path = text(value)?;
    let name_start = path.rfind('/').map_or(0, |i| i + 1);
    let (root, ext) = match path.rfind('.') {
        Some(dot) if dot > name_start && path[name_start..dot].bytes().any(|b| b != b'.') => path.split_at(dot),
        _ => (path.as_str(), ""),
    };
    Ok(Value::from(Tuple::new(vec![Value::from(root), Value::from(ext)])))
}

/// Python's `os.path.join` over a list; an absolute part starts the path anew.
pub(super) fn path_join(value: &Value) -> Result<String, Error> {
    defined(value)?;
    if value.kind() == ValueKind::String {
        return text(value);
    }
    let mut path = String::new();
    for part in items("path_join", value)? {
        let part = text(&part)?;
        if part.starts_with('/') {
            path = part;
        } else if path.is_empty() || path.ends_with('/') {
            path.push_str(&part);
        } else {
            path.push('/');
            path.push_str(&part);
        }
    }
    Ok(path)
}
