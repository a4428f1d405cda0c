//! Ansible's lookup plugins, through `lookup(name, ...)` (the results joined with commas, as
//! Ansible joins them) and `query(name, ...)`/`q(name, ...)` (always a list): `env`, `file`,
//! `first_found`, `fileglob`, `template`, `pipe`, `lines`, `list`, `dict` and `vars`.
//!
//! Files are searched as Ansible's `find_file_in_search_path` does: an absolute path as it is,
//! else in the role's folder (`role_path`) and then the playbook's, each in its `files` (or
//! `templates`) folder first. Commands of `pipe` and `lines` run in the playbook's folder.

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::SCOPE;

/// Adds `lookup`, `query` and `q` to a template environment.
pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", lookup);
    env.add_function("query", query);
    env.add_function("q", query);
}

fn failed(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// `lookup(name, *terms, wantlist=False, errors='strict', ...)`.
fn lookup(state: &State, name: &str, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let wantlist = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    Ok(match run_plugin(state, name, &terms, &kwargs)? {
        Some(found) if wantlist => Value::from(found),
        Some(found) => joined(found),
        // An ignored failure: an empty list, or none.
        None if wantlist => Value::from(Vec::<Value>::new()),
        None => Value::from(()),
    })
}

/// `query(name, *terms, ...)`: the plugin's list.
fn query(state: &State, name: &str, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    kwargs.get::<Option<bool>>("wantlist")?;
    Ok(Value::from(
        run_plugin(state, name, &terms, &kwargs)?.unwrap_or_default(),
    ))
}

/// What `lookup` makes of a plugin's list: its strings joined with commas; a list holding
/// anything else is the one item, or the list.
fn joined(found: Vec<Value>) -> Value {
    if found.iter().all(|v| v.kind() == ValueKind::String) && !found.is_empty() {
        let texts: Vec<&str> = found.iter().filter_map(Value::as_str).collect();
        return Value::from(texts.join(","));
    }
    match found.len() {
        1 => found.into_iter().next().unwrap_or_default(),
        _ => Value::from(found),
    }
}

/// Runs a plugin; with `errors='ignore'` or `'warn'`, a failure gives `None`.
fn run_plugin(state: &State, name: &str, terms: &[Value], kwargs: &Kwargs) -> Result<Option<Vec<Value>>, Error> {
    let errors = kwargs
        .get::<Option<String>>("errors")?
        .unwrap_or_else(|| "strict".into());
    match run(state, name, terms, kwargs) {
        Err(e) if e.kind() != ErrorKind::UnknownFunction && errors != "strict" => Ok(None),
        other => other.map(Some),
    }
}

fn run(state: &State, name: &str, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let out = match name {
        "env" => {
            let default = kwargs.get::<Option<String>>("default")?.unwrap_or_default();
            texts(terms)?
                .iter()
                .map(|t| Value::from(std::env::var(t).unwrap_or_else(|_| default.clone())))
                .collect()
        }
        "file" => file(state, terms, kwargs)?,
        "first_found" => first_found(state, terms, kwargs)?,
        "fileglob" => fileglob(state, terms)?,
        "template" => template(state, terms, kwargs)?,
        "pipe" => texts(terms)?
            .iter()
            .map(|command| shell(state, command).map(|out| Value::from(out.trim_end())))
            .collect::<Result<_, _>>()?,
        "lines" => {
            let mut lines = Vec::new();
            for command in texts(terms)? {
                lines.extend(shell(state, &command)?.lines().map(Value::from));
            }
            lines
        }
        "list" => terms.to_vec(),
        "dict" => dict(terms)?,
        "vars" => vars(state, terms, kwargs)?,
        other => {
            return Err(Error::new(
                ErrorKind::UnknownFunction,
                format!(
                    "lookup plugin `{other}` is not supported; bgrun has env, file, first_found, fileglob, \
                     template, pipe, lines, list, dict and vars"
                ),
            ));
        }
    };
    kwargs.assert_all_used()?;
    Ok(out)
}

/// The terms as text, a list among them giving its items.
fn texts(terms: &[Value]) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for term in terms {
        match term.kind() {
            ValueKind::Seq => out.extend(texts(&term.try_iter()?.collect::<Vec<_>>())?),
            ValueKind::Undefined => return Err(Error::from(ErrorKind::UndefinedError)),
            _ => out.push(term.as_str().map(str::to_string).unwrap_or_else(|| term.to_string())),
        }
    }
    Ok(out)
}

fn variable(state: &State, name: &str) -> Option<String> {
    let value = state.lookup(name)?;
    value.as_str().map(str::to_string).filter(|s| !s.is_empty())
}

/// The folders a relative file is looked for in: the role's, then the playbook's.
fn search_bases(state: &State) -> Vec<PathBuf> {
    let mut bases: Vec<PathBuf> = ["role_path", "playbook_dir"]
        .into_iter()
        .filter_map(|name| variable(state, name))
        .map(PathBuf::from)
        .collect();
    if bases.is_empty() {
        bases.push(PathBuf::from("."));
    }
    bases
}

/// Ansible's `find_file_in_search_path(subdir, needle)`.
fn find_file(state: &State, subdir: &str, needle: &str) -> Option<PathBuf> {
    let path = Path::new(needle);
    if path.is_absolute() {
        return path.exists().then(|| path.to_path_buf());
    }
    search_bases(state)
        .into_iter()
        .flat_map(|base| [base.join(subdir).join(needle), base.join(needle)])
        .find(|candidate| candidate.exists())
}

fn file(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let rstrip = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true);
    let lstrip = kwargs.get::<Option<bool>>("lstrip")?.unwrap_or(false);
    let mut out = Vec::new();
    for term in texts(terms)? {
        let path = find_file(state, "files", &term)
            .filter(|p| p.is_file())
            .ok_or_else(|| failed(format!("The 'file' lookup had an issue accessing the file '{term}'")))?;
        let text = std::fs::read_to_string(&path).map_err(|e| failed(format!("lookup('file', '{term}'): {e}")))?;
        let text = if rstrip { text.trim_end() } else { text.as_str() };
        let text = if lstrip { text.trim_start() } else { text };
        out.push(Value::from(text));
    }
    Ok(out)
}

/// Splits on any of `separators`, dropping empty parts (Ansible's `_splitter`).
fn split_on(values: &[String], separators: &[char]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| {
            v.split(separators)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .collect()
}

fn first_found(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let mut skip = kwargs.get::<Option<bool>>("skip")?.unwrap_or(false);
    let mut search: Vec<String> = Vec::new();
    let mut pending: Vec<Value> = terms.to_vec();
    pending.reverse();
    let option = |value: &Value, name: &str| -> Result<Vec<String>, Error> {
        match value.get_attr(name) {
            Ok(v) if v.is_undefined() || v.is_none() => Ok(Vec::new()),
            Ok(v) => texts(&[v]),
            Err(e) => Err(e),
        }
    };
    let global_files: Vec<String> = kwargs
        .get::<Option<Value>>("files")?
        .map(|v| texts(&[v]))
        .transpose()?
        .unwrap_or_default();
    let global_paths: Vec<String> = kwargs
        .get::<Option<Value>>("paths")?
        .map(|v| texts(&[v]))
        .transpose()?
        .unwrap_or_default();
    while let Some(term) = pending.pop() {
        let (files, paths) = match term.kind() {
            ValueKind::Map => {
                skip = term.get_attr("skip").map(|v| v.is_true()).unwrap_or(false);
                (option(&term, "files")?, option(&term, "paths")?)
            }
            ValueKind::Seq => {
                let mut items: Vec<Value> = term.try_iter()?.collect();
                items.reverse();
                pending.extend(items);
                continue;
            }
            ValueKind::String => (global_files.clone(), global_paths.clone()),
            _ => {
                return Err(failed(format!(
                    "Invalid term supplied, can handle string, mapping or list of strings but got: {term}"
                )));
            }
        };
        let files = split_on(&files, &[',', ';']);
        let paths = split_on(&paths, &[',', ':', ';']);
        if !paths.is_empty() {
            for path in &paths {
                for file in &files {
                    search.push(Path::new(path).join(file).display().to_string());
                }
            }
        } else if !files.is_empty() {
            search = files;
        } else if let Some(text) = term.as_str() {
            search.push(text.to_string());
        }
    }
    for candidate in &search {
        if let Some(path) = find_file(state, "files", candidate) {
            return Ok(vec![Value::from(path.display().to_string())]);
        }
    }
    if skip {
        return Ok(Vec::new());
    }
    Err(failed("No file was found when using first_found."))
}

fn fileglob(state: &State, terms: &[Value]) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for term in texts(terms)? {
        let path = Path::new(&term);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path.parent().map(|p| p.display().to_string()).unwrap_or_default();
        let Some(found) = find_file(state, "files", if dir.is_empty() { "." } else { &dir }) else {
            continue;
        };
        let pattern = found.join(&name).display().to_string();
        let matched = super::filters::glob_files(&pattern);
        out.extend(matched.into_iter().map(Value::from));
    }
    Ok(out)
}

fn template(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    // Ansible's options of the template lookup that change nothing here.
    for name in ["convert_data", "jinja2_native"] {
        kwargs.get::<Option<bool>>(name)?;
    }
    let scope = state.lookup(SCOPE).unwrap_or_default();
    let mut out = Vec::new();
    for term in texts(terms)? {
        let path = find_file(state, "templates", &term)
            .filter(|p| p.is_file())
            .ok_or_else(|| failed(format!("the template file {term} could not be found for the lookup")))?;
        let text = std::fs::read_to_string(&path).map_err(|e| failed(format!("lookup('template', '{term}'): {e}")))?;
        let body = super::convert::without_trailing_newline(&text);
        let rendered = state.env().render_str(body, scope.clone())?;
        out.push(Value::from(super::convert::with_trailing_newlines(&text, rendered)));
    }
    Ok(out)
}

/// Runs a shell command in the playbook's folder; its standard output, or an error naming the
/// exit code, as Ansible's `pipe` and `lines`.
fn shell(state: &State, command: &str) -> Result<String, Error> {
    let dir = variable(state, "playbook_dir").unwrap_or_else(|| ".".into());
    let run = || {
        std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .current_dir(&dir)
            .stderr(std::process::Stdio::inherit())
            .output()
    };
    let output = match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(run)
        }
        _ => run(),
    }
    .map_err(|e| failed(format!("lookup_plugin.pipe({command}): {e}")))?;
    let code = output.status.code().unwrap_or(-1);
    if code != 0 {
        return Err(failed(format!("lookup_plugin.pipe({command}) returned {code}")));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn dict(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for term in terms {
        if term.kind() != ValueKind::Map {
            return Err(failed("with_dict expects a dict"));
        }
        for key in term.try_iter()? {
            let value = term.get_item(&key)?;
            out.push(Value::from_pairs(vec![
                (Value::from("key"), key),
                (Value::from("value"), value),
            ]));
        }
    }
    Ok(out)
}

fn vars(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let default: Option<Value> = kwargs.get("default")?;
    let mut out = Vec::new();
    for term in texts(terms)? {
        match state.lookup(&term).filter(|v| !v.is_undefined()) {
            Some(value) => out.push(value),
            None => match &default {
                Some(d) => out.push(d.clone()),
                None => return Err(failed(format!("No variable found with this name: {term}"))),
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Scope, Templar, Vars};
    use serde_json::json;

    #[test]
    fn lookup_joins_texts_and_query_keeps_the_list() {
        assert_eq!(joined(vec![Value::from("a"), Value::from("b")]), Value::from("a,b"));
        assert_eq!(joined(vec![Value::from(1)]), Value::from(1));
        assert_eq!(joined(vec![Value::from(1), Value::from("b")]).len(), Some(2));
        assert_eq!(
            split_on(&["a.txt, b.txt;c".into()], &[',', ';']),
            ["a.txt", "b.txt", "c"]
        );
    }

    #[test]
    fn an_unknown_plugin_is_named_and_not_ignored() {
        let templar = Templar::new();
        let scope = Scope::new(&templar, Vars::new());
        let err = templar
            .render_string("{{ lookup('nope', 'x', errors='ignore') }}", &scope)
            .unwrap_err();
        assert!(err.0.contains("lookup plugin `nope` is not supported"), "{}", err.0);
        let vars = Vars::from_iter([("x".to_string(), json!("{{ 1 + 1 }}"))]);
        let scope = Scope::new(&templar, vars);
        assert_eq!(
            templar.render_string("{{ lookup('vars', 'x') }}", &scope).unwrap(),
            json!("2")
        );
    }
}
