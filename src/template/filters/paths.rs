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

/// Python's `os.path.expanduser`: a leading `~` (or `~user`) becomes that user's home.
pub(super) fn expanduser(value: &Value) -> Result<String, Error> {
    let path = text(value)?;
    let Some(rest) = path.strip_prefix('~') else {
        return Ok(path);
    };
    let (user, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let home = if user.is_empty() {
        std::env::var("HOME").ok()
    } else {
        std::fs::read_to_string("/etc/passwd").ok().and_then(|passwd| {
            passwd
                .lines()
                .map(|line| line.split(':').collect::<Vec<_>>())
                .find(|fields| fields.first() == Some(&user))
                .and_then(|fields| fields.get(5).map(|h| h.to_string()))
        })
    };
    Ok(match home {
        Some(home) => {
            let home = home.trim_end_matches('/');
            let home = if home.is_empty() { "/" } else { home };
            if tail.is_empty() {
                home.to_string()
            } else if home == "/" {
                tail.to_string()
            } else {
                format!("{home}{tail}")
            }
        }
        None => path,
    })
}

/// Ansible's `fileglob`: the regular files Python's `glob.glob` matches on the controller, in
/// the order the folders list them.
pub(super) fn fileglob(value: &Value) -> Result<Value, Error> {
    Ok(Value::from(glob_files(&text(value)?)))
}

/// The regular files `glob.glob(pattern)` matches, in the order the folders list them.
pub(crate) fn glob_files(pattern: &str) -> Vec<String> {
    let magic = |s: &str| s.contains(['*', '?', '[']);
    let absolute = pattern.starts_with('/');
    let mut found: Vec<String> = vec![if absolute { "/".into() } else { String::new() }];
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    for part in &parts {
        let mut next = Vec::new();
        for base in &found {
            let join = |name: &str| {
                format!(
                    "{base}{}{name}",
                    if base.is_empty() || base.ends_with('/') {
                        ""
                    } else {
                        "/"
                    }
                )
            };
            if !magic(part) {
                let path = join(part);
                if std::fs::symlink_metadata(&path).is_ok() {
                    next.push(path);
                }
                continue;
            }
            let dir = if base.is_empty() { "." } else { base.as_str() };
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && !part.starts_with('.') {
                    continue;
                }
                if crate::compat::python::fnmatch(&name, part) {
                    next.push(join(&name));
                }
            }
        }
        found = next;
    }
    if parts.is_empty() {
        return Vec::new();
    }
    found
        .into_iter()
        .filter(|p| std::path::Path::new(p).is_file())
        .collect()
}
