//! `group_vars/` and `host_vars/` next to an inventory source or a playbook: per group or host, a
//! YAML file `<name>`, `<name>.yml`, `<name>.yaml` or `<name>.json`, or a directory `<name>/` whose
//! files are merged in name order, as Ansible's `host_group_vars` plugin reads them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Vars;
use crate::error::Error;

/// Extensions tried after the bare name, in Ansible's order; the first that exists is used.
const EXTENSIONS: [&str; 4] = ["", ".yml", ".yaml", ".json"];

/// The variables found in one directory's `group_vars/` and `host_vars/`.
#[derive(Debug, Clone, Default)]
pub(super) struct VarsDir {
    groups: HashMap<String, Vars>,
    hosts: HashMap<String, Vars>,
}

impl VarsDir {
    /// Reads `base/group_vars/<group>` for each group and `base/host_vars/<host>` for each host.
    pub(super) fn load(base: &Path, groups: &[String], hosts: &[String]) -> Result<VarsDir, Error> {
        Ok(VarsDir {
            groups: load_all(&base.join("group_vars"), groups)?,
            hosts: load_all(&base.join("host_vars"), hosts)?,
        })
    }

    pub(super) fn group(&self, name: &str) -> Option<&Vars> {
        self.groups.get(name)
    }

    pub(super) fn host(&self, name: &str) -> Option<&Vars> {
        self.hosts.get(name)
    }
}

fn load_all(dir: &Path, names: &[String]) -> Result<HashMap<String, Vars>, Error> {
    let mut out = HashMap::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for name in names {
        if let Some(vars) = load_entity(dir, name)? {
            out.insert(name.clone(), vars);
        }
    }
    Ok(out)
}

/// The merged variables of `dir/<name>`, or `None` when no file or directory has that name.
fn load_entity(dir: &Path, name: &str) -> Result<Option<Vars>, Error> {
    // A name that is a path (`/srv/chroot`, `..`) names no file here.
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Ok(None);
    }
    for extension in EXTENSIONS {
        let path = dir.join(format!("{name}{extension}"));
        if !path.exists() {
            continue;
        }
        let files = if path.is_dir() { dir_files(&path)? } else { vec![path] };
        let mut vars = Vars::new();
        for file in files {
            for (key, value) in crate::yaml::load_vars_file(&file)? {
                vars.insert(key, value);
            }
        }
        return Ok(Some(vars));
    }
    Ok(None)
}

/// The files of a `group_vars/<name>/` directory, sorted, descending into subdirectories; hidden
/// files, backups (`~`) and files with other extensions are skipped.
fn dir_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let read_error = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        entries.push(entry.map_err(read_error)?.path());
    }
    entries.sort();
    let mut found = Vec::new();
    for path in entries {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let extension = path.extension().map(|e| format!(".{}", e.to_string_lossy()));
        if path.is_dir() {
            if extension.is_none() {
                found.extend(dir_files(&path)?);
            }
        } else if extension.as_deref().is_none_or(|e| EXTENSIONS.contains(&e)) {
            found.push(path);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::fs;

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().expect("file has a parent")).expect("create dirs");
        fs::write(path, text).expect("write file");
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn files_and_directories() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let base = tmp.path();
        write(base, "group_vars/all", "a: 1\nb: [1, 2]\n");
        write(base, "group_vars/web/b.yml", "x: from-b\n");
        write(base, "group_vars/web/a.yml", "x: from-a\ny: 1\n");
        write(base, "group_vars/web/sub/c", "z: deep\n");
        write(base, "group_vars/web/skip.d/d.yml", "z: skipped\n");
        write(base, "group_vars/web/e.yml~", "x: backup\n");
        write(base, "group_vars/empty.yml", "# nothing\n");
        write(base, "host_vars/h1.json", "{\"port\": 22}");
        let dir = VarsDir::load(
            base,
            &names(&["all", "web", "empty", "db"]),
            &names(&["h1", "h2", "../x"]),
        )
        .expect("vars load");
        assert_eq!(dir.group("all").expect("all")["b"], json!([1, 2]));
        let web = dir.group("web").expect("web");
        assert_eq!(web["x"], "from-b");
        assert_eq!(web["y"], json!(1));
        assert_eq!(web["z"], "deep");
        assert!(dir.group("empty").expect("empty").is_empty());
        assert!(dir.group("db").is_none());
        assert_eq!(dir.host("h1").expect("h1")["port"], json!(22));
        assert!(dir.host("h2").is_none());
        assert!(dir.host("../x").is_none());
    }

    #[test]
    fn missing_directories_are_empty() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = VarsDir::load(&tmp.path().join("nowhere"), &names(&["all"]), &names(&["h"])).expect("vars load");
        assert!(dir.group("all").is_none());
    }

    fn load_error(relative: &str, text: &str) -> String {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(tmp.path(), relative, text);
        match VarsDir::load(tmp.path(), &names(&["web"]), &names(&[])) {
            Ok(_) => panic!("loaded {relative}"),
            Err(err) => err.render(),
        }
    }

    #[test]
    fn error_not_a_mapping() {
        let text = load_error("group_vars/web.yml", "# vars\n- a\n");
        assert!(
            text.contains(
                "group_vars/web.yml:2:1: a variables file must be a mapping of variable names to values, found a list"
            ),
            "{text}"
        );
        assert!(text.contains("2 | - a"), "{text}");
        assert!(text.contains("help: write one `name: value` per line"), "{text}");
        let text = load_error("group_vars/web", "just text\n");
        assert!(
            text.contains("group_vars/web:1:1: a variables file must be a mapping"),
            "{text}"
        );
    }

    #[test]
    fn error_bad_yaml_and_vault() {
        let text = load_error("group_vars/web/main.yml", "a: [1,\n");
        assert!(text.contains("group_vars/web/main.yml:"), "{text}");
        assert!(text.contains("invalid YAML"), "{text}");
        let text = load_error("group_vars/web.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n");
        assert!(
            text.contains("group_vars/web.yml:1:1: this variables file is encrypted with Ansible Vault"),
            "{text}"
        );
        assert!(text.contains("help: bgrun cannot decrypt vault files"), "{text}");
    }

    #[test]
    fn error_unreadable_file_names_path() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(tmp.path(), "group_vars/web.yml", "");
        fs::write(tmp.path().join("group_vars/web.yml"), b"a: caf\xe9\n").expect("write bytes");
        let Err(err) = VarsDir::load(tmp.path(), &names(&["web"]), &names(&[])) else {
            panic!("read a file that is not UTF-8");
        };
        let text = err.render();
        assert!(text.contains("cannot read `"), "{text}");
        assert!(text.contains("group_vars/web.yml`"), "{text}");
    }
}
