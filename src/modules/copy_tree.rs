//! `copy` of a folder of the playbook's, as Ansible's action plugin does it: `src/` copies what
//! the folder holds into `dest`, `src` (no trailing slash) the folder itself; links are followed
//! (a link back into a folder being copied stays a link); each file is put as `copy` puts one
//! (with `mode`), each folder made, with `directory_mode` when given.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::copy::{Put, PutWork, apply_put, plan_put};
use super::{Failure, Outcome, Plan, StepContext};
use crate::transport::files::{self, Attributes, FileKind};
use crate::transport::{Exec, HostError};

/// What is in the folder to copy, by path relative to `dest`.
#[derive(Debug, Default, PartialEq)]
pub struct Tree {
    pub files: Vec<(PathBuf, String)>,
    pub directories: Vec<String>,
    /// Links kept as links: their target and where they go.
    pub links: Vec<(String, String)>,
}

/// Walks `source` as Ansible's `_walk_dirs` does, with its trailing slash deciding whether the
/// folder's own name starts the relative paths.
pub fn walk(source: &Path, trailing_slash: bool) -> Result<Tree, Failure> {
    let mut tree = Tree::default();
    let base = if trailing_slash {
        String::new()
    } else {
        source
            .file_name()
            .map(|n| format!("{}/", n.to_string_lossy()))
            .unwrap_or_default()
    };
    if !trailing_slash {
        tree.directories.push(base.trim_end_matches('/').to_string());
    }
    let mut parents = HashSet::new();
    parents.insert(canonical(source)?);
    recurse(source, &base, &mut parents, &mut tree)?;
    Ok(tree)
}

fn canonical(path: &Path) -> Result<PathBuf, Failure> {
    std::fs::canonicalize(path).map_err(|e| Failure::new(format!("cannot read `{}`: {e}", path.display())))
}

fn recurse(dir: &Path, rel: &str, parents: &mut HashSet<PathBuf>, tree: &mut Tree) -> Result<(), Failure> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Failure::new(format!("cannot read `{}`: {e}", dir.display())))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    let mut subdirs = Vec::new();
    for entry in entries {
        let path = entry.path();
        let name = format!("{rel}{}", entry.file_name().to_string_lossy());
        let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
        if path.is_dir() {
            let real = canonical(&path)?;
            if is_link && parents.contains(&real) {
                let target = std::fs::read_link(&path).unwrap_or_default();
                tree.links.push((target.display().to_string(), name));
            } else {
                subdirs.push((path, real, name));
            }
        } else if path.is_file() {
            tree.files.push((path, name));
        } else if is_link {
            let target = std::fs::read_link(&path).unwrap_or_default();
            tree.links.push((target.display().to_string(), name));
        }
    }
    for (path, real, name) in subdirs {
        tree.directories.push(name.clone());
        let fresh = parents.insert(real.clone());
        recurse(&path, &format!("{name}/"), parents, tree)?;
        if fresh {
            parents.remove(&real);
        }
    }
    Ok(())
}

/// What copying the folder changes: the files to put, the folders to make or fix, the links.
#[derive(Debug)]
pub struct TreeWork {
    puts: Vec<PutWork>,
    folders: Vec<(String, Option<u32>, bool)>,
    links: Vec<(String, String)>,
}

/// Plans copying `tree` under `dest` (a folder, with or without its trailing slash), each file
/// put as `put` says (its folder made when missing).
pub async fn plan_tree(
    cx: &StepContext<'_>,
    source: &Path,
    tree: Tree,
    dest: &str,
    attrs: Attributes,
    directory_mode: Option<u32>,
    put: Put,
) -> Result<Plan<TreeWork>, Failure> {
    let root = format!("{}/", dest.trim_end_matches('/'));
    let remote = cx.remote().await?;
    let mut changed = false;
    let mut single = None;
    let mut puts = Vec::new();
    let file_count = tree.files.len();
    for (path, rel) in &tree.files {
        let content =
            std::fs::read(path).map_err(|e| Failure::new(format!("cannot read `{}`: {e}", path.display())))?;
        match plan_put(cx, format!("{root}{rel}"), content, attrs.clone(), put.clone()).await? {
            Plan::Done(outcome) => single = Some(outcome),
            Plan::Change(outcome, work) => {
                changed = true;
                single = Some(outcome);
                puts.push(work);
            }
        }
    }
    let mut folders = Vec::new();
    let mut every_folder: Vec<String> = tree.directories.iter().map(|d| format!("{root}{d}")).collect();
    every_folder.push(root.trim_end_matches('/').to_string());
    for folder in every_folder {
        let state = files::stat(&remote, &folder).await?;
        match state.kind {
            FileKind::Absent => {
                changed = true;
                folders.push((folder, directory_mode, true));
            }
            FileKind::Directory => {
                if let Some(mode) = directory_mode
                    && state.mode != Some(mode)
                    && tree.directories.iter().any(|d| format!("{root}{d}") == folder)
                {
                    changed = true;
                    folders.push((folder, Some(mode), false));
                }
            }
            other => {
                return Err(Failure::new(format!(
                    "{folder} exists and is a {}, not a directory",
                    other.name()
                )));
            }
        }
    }
    let mut links = Vec::new();
    for (target, rel) in tree.links {
        let path = format!("{root}{rel}");
        let state = files::stat(&remote, &path).await?;
        if state.link_target.as_deref() != Some(target.as_str()) {
            changed = true;
            links.push((target, path));
        }
    }
    let outcome = match single {
        Some(outcome) if file_count == 1 => Outcome { changed, ..outcome },
        _ => Outcome::changed(changed)
            .with("dest", root.as_str())
            .with("src", Json::from(source.display().to_string())),
    };
    let work = TreeWork { puts, folders, links };
    if !changed {
        return Ok(Plan::Done(outcome));
    }
    Ok(Plan::Change(outcome, work))
}

/// Makes the folders (with `directory_mode`), then puts the files, then makes the links.
pub async fn apply_tree(work: TreeWork, cx: &StepContext<'_>) -> Result<(), Failure> {
    let remote = cx.remote().await?;
    for (folder, mode, create) in &work.folders {
        if *create {
            run(&remote, Exec::new(["mkdir", "-p", "--", folder.as_str()])).await?;
        }
        if let Some(mode) = mode {
            let attrs = Attributes {
                mode: Some(*mode),
                ..Attributes::default()
            };
            files::set_attributes(&remote, folder, &attrs).await?;
        }
    }
    for put in work.puts {
        apply_put(put, cx).await?;
    }
    for (target, path) in &work.links {
        run(&remote, Exec::new(["ln", "-sfn", "--", target.as_str(), path.as_str()])).await?;
    }
    Ok(())
}

async fn run(remote: &crate::transport::Remote<'_>, exec: Exec) -> Result<(), HostError> {
    let output = remote.exec(&exec).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "`{}` failed: {}",
            exec.argv.join(" "),
            output.stderr_text().trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_slash_copies_what_the_folder_holds() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("css")).unwrap();
        std::fs::write(site.join("index.html"), "hi").unwrap();
        std::fs::write(site.join("css/main.css"), "a{}").unwrap();
        std::os::unix::fs::symlink(".", site.join("css/self")).unwrap();
        let inside = walk(&site, true).unwrap();
        let rels = |t: &Tree| t.files.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>();
        assert_eq!(rels(&inside), ["index.html", "css/main.css"]);
        assert_eq!(inside.directories, ["css"]);
        assert_eq!(inside.links, [(".".to_string(), "css/self".to_string())]);
        let itself = walk(&site, false).unwrap();
        assert_eq!(rels(&itself), ["site/index.html", "site/css/main.css"]);
        assert_eq!(itself.directories, ["site", "site/css"]);
    }
}
