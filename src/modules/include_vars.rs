//! `include_vars` reads variables from YAML or JSON files on the machine running bgrun (one file,
//! or a folder walked as Ansible's action plugin walks it) and sets them on the host as facts, as
//! `set_fact` does; `name` gathers them under one variable.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Inspect, Outcome, StepContext, find_source};
use crate::template::Vars;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncludeVars {
    /// A file, looked for in the role's or playbook's `vars/`, then beside them.
    #[serde(default)]
    file: Option<String>,
    /// A folder: in a role, under its `vars/`; otherwise beside the playbook.
    #[serde(default)]
    dir: Option<String>,
    /// The variable that holds what was read, instead of one variable per key.
    #[serde(default)]
    name: Option<String>,
    /// Only the folder's files whose name this regular expression finds something in.
    #[serde(default)]
    files_matching: Option<String>,
    /// Names ending in one of these regular expressions are left out (a list, or words).
    #[serde(default)]
    ignore_files: Option<Json>,
    /// How many of the folder's directories are read (0: all), counted as Ansible counts them:
    /// in the sorted order of their paths.
    #[serde(default)]
    depth: usize,
    /// The extensions a folder's files must have (`yaml`, `yml`, `json`).
    #[serde(default)]
    extensions: Option<Json>,
    /// Leave out a folder's files of other extensions instead of failing on them.
    #[serde(default)]
    ignore_unknown_extensions: bool,
}

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

impl Inspect for IncludeVars {
    const FREE_FORM: Option<&'static str> = Some("file");

    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let dir_only = self.dir.is_some()
            || self.files_matching.is_some()
            || self.ignore_files.is_some()
            || self.depth != 0
            || self.extensions.is_some()
            || self.ignore_unknown_extensions;
        if dir_only && self.file.is_some() {
            return Err(Failure::new(
                "You are mixing file only and dir only arguments, these are incompatible",
            ));
        }
        let mut read = Read::default();
        match self.read(cx, &mut read) {
            Ok(()) => Ok(read.outcome(&self.name)),
            // As Ansible reports it: `message`, no variables, the files read before.
            Err(Failure::Failed(failed)) => {
                let msg = failed.msg.unwrap_or_default();
                let mut outcome = read.outcome(&None);
                outcome.facts.clear();
                let outcome = outcome
                    .with("ansible_facts", Json::Object(Vars::new()))
                    .with("message", msg.as_str())
                    .msg(msg);
                Err(Failure::from(outcome))
            }
            Err(unreachable) => Err(unreachable),
        }
    }
}

/// What has been read so far: the variables, later files winning, and the files they came from.
#[derive(Default)]
struct Read {
    vars: Vars,
    files: Vec<PathBuf>,
}

impl Read {
    /// The result: the variables as facts (under `name` when given) and the files read.
    fn outcome(&self, name: &Option<String>) -> Outcome {
        let facts = match name {
            Some(name) => Vars::from_iter([(name.clone(), Json::Object(self.vars.clone()))]),
            None => self.vars.clone(),
        };
        let files = self.files.iter().map(|p| Json::from(p.display().to_string()));
        let mut outcome = Outcome::ok()
            .with("ansible_included_var_files", Json::Array(files.collect()))
            .with("ansible_facts", Json::Object(facts.clone()));
        outcome.facts = facts;
        outcome
    }

    /// Reads one file; with `extensions`, its extension must be one of them.
    fn file(&mut self, path: &Path, extensions: Option<&[String]>) -> Result<(), Failure> {
        if let Some(valid) = extensions
            && !has_extension(path, valid)
        {
            return Err(Failure::new(format!(
                "{} does not have a valid extension: {}",
                path.display(),
                valid.join(", ")
            )));
        }
        let vars = crate::yaml::load_vars_file(path).map_err(|e| {
            if e.to_string().contains("must be a mapping") {
                Failure::new(format!("{} must be stored as a dictionary/hash", path.display()))
            } else {
                Failure::new(e.to_string())
            }
        })?;
        self.vars.extend(vars);
        // Ansible names the files by absolute paths.
        self.files
            .push(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        Ok(())
    }
}

impl IncludeVars {
    fn read(&self, cx: &StepContext<'_>, read: &mut Read) -> Result<(), Failure> {
        match (&self.dir, &self.file) {
            (Some(dir), _) => self.read_dir(cx, dir, read),
            (None, Some(file)) => {
                let path = find_source(cx, "vars", file.trim_end_matches('\n'))?;
                read.file(&path, None)
            }
            (None, None) => Err(Failure::new("give the `file` or the `dir` to read variables from")),
        }
    }

    fn read_dir(&self, cx: &StepContext<'_>, dir: &str, read: &mut Read) -> Result<(), Failure> {
        let root = std::path::absolute(match cx.role_dir {
            Some(role) if dir.split('/').next() == Some("vars") => role.join(dir),
            Some(role) => role.join("vars").join(dir),
            None => cx.playbook_dir.join(dir),
        })
        .map_err(|e| Failure::new(format!("cannot find the folder `{dir}`: {e}")))?;
        if !root.exists() {
            return Err(Failure::new(format!("{} directory does not exist", root.display())));
        }
        if !root.is_dir() {
            return Err(Failure::new(format!("{} is not a directory", root.display())));
        }
        let matcher = self.files_matching.as_deref().map(regex_of).transpose()?;
        let ignored = ignore_patterns(self.ignore_files.as_ref())?;
        let extensions = extension_list(self.extensions.as_ref())?;
        let mut dirs = Vec::new();
        walk(&root, &mut dirs);
        dirs.sort();
        let read_dirs = if self.depth == 0 {
            dirs.len()
        } else {
            self.depth.min(dirs.len())
        };
        for dir in &dirs[..read_dirs] {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| !e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                if matcher.as_ref().is_some_and(|m| !m.is_match(&name)) || ignored.iter().any(|i| i.is_match(&name)) {
                    continue;
                }
                let path = dir.join(&name);
                if self.ignore_unknown_extensions && !has_extension(&path, &extensions) {
                    continue;
                }
                read.file(&path, Some(&extensions))?;
            }
        }
        Ok(())
    }
}

/// Every folder under `dir`, `dir` first, as `os.walk` finds them (links to folders not followed).
fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    found.push(dir.to_path_buf());
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&entry.path(), found);
        }
    }
}

fn has_extension(path: &Path, valid: &[String]) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    // `os.path.splitext`: the extension starts at the last dot that is not leading.
    let stem = name.trim_start_matches('.');
    stem.rfind('.')
        .is_some_and(|at| valid.iter().any(|v| *v == stem[at + 1..]))
}

fn regex_of(pattern: &str) -> Result<regex::Regex, Failure> {
    regex::Regex::new(pattern).map_err(|e| Failure::new(format!("Invalid regular expression: {pattern} ({e})")))
}

/// `ignore_files` as Ansible reads it: a list, or words separated by blanks; each matches the end
/// of a name.
fn ignore_patterns(value: Option<&Json>) -> Result<Vec<regex::Regex>, Failure> {
    let words: Vec<String> = match value {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::String(s)) => s.split_whitespace().map(String::from).collect(),
        Some(Json::Array(items)) => items.iter().map(crate::yaml::scalar_text).collect(),
        Some(other) => return Err(Failure::new(format!("{other} must be a list"))),
    };
    words.iter().map(|w| regex_of(&format!("(?:{w})$"))).collect()
}

/// `extensions` as Ansible reads it: a list; a string is taken letter by letter, as Python's
/// `list(str)` does.
fn extension_list(value: Option<&Json>) -> Result<Vec<String>, Failure> {
    match value {
        None | Some(Json::Null) => Ok(EXTENSIONS.map(String::from).to_vec()),
        Some(Json::String(s)) => Ok(s.chars().map(String::from).collect()),
        Some(Json::Array(items)) => Ok(items.iter().map(crate::yaml::scalar_text).collect()),
        Some(_) => Err(Failure::new(
            "Invalid type for \"extensions\" option, it must be a list",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_those_of_os_path_splitext() {
        let valid = EXTENSIONS.map(String::from);
        assert!(has_extension(Path::new("/v/a.yml"), &valid));
        assert!(has_extension(Path::new("/v/a.b.json"), &valid));
        assert!(!has_extension(Path::new("/v/.yml"), &valid));
        assert!(!has_extension(Path::new("/v/a.txt"), &valid));
        assert_eq!(extension_list(Some(&Json::from("yml"))).unwrap(), ["y", "m", "l"]);
    }

    #[test]
    fn ignored_files_match_the_end_of_names() {
        let ignored = ignore_patterns(Some(&Json::from("bak ~"))).unwrap();
        assert!(ignored.iter().any(|r| r.is_match("a.yml.bak")));
        assert!(!ignored.iter().any(|r| r.is_match("bak.yml")));
    }
}
