//! bgrun's own step library: roles shipped inside the binary (`bgrun.blue_green`), found by their
//! name from any folder, after the user's own roles of that name. The first use writes a role out
//! to a cache folder named after its content (written aside, then renamed, so runs at the same
//! time never read half a role); from there it is read like any other role, and errors point at
//! its files.

use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry, include_dir};
use sha2::{Digest, Sha256};

static LIBRARY: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/library");

/// The names of the roles bgrun ships.
#[cfg(test)]
fn names() -> Vec<&'static str> {
    LIBRARY
        .dirs()
        .filter_map(|d| d.path().file_name().and_then(|n| n.to_str()))
        .collect()
}

/// The folder of a shipped role, written out on first use; `None` when bgrun ships no such role.
pub fn role(name: &str) -> Option<Result<PathBuf, String>> {
    let dir = LIBRARY.get_dir(name)?;
    Some(write_out(name, dir))
}

fn files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => files(sub, out),
            DirEntry::File(file) => out.push(file),
        }
    }
}

/// Where shipped roles are written: `$XDG_CACHE_HOME/bgrun/library`, else `~/.cache/...`.
fn cache_root() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("bgrun")
        .join("library")
}

fn write_out(name: &str, dir: &Dir<'_>) -> Result<PathBuf, String> {
    let mut all = Vec::new();
    files(dir, &mut all);
    all.sort_by_key(|f| f.path());
    let mut hash = Sha256::new();
    for file in &all {
        hash.update(file.path().to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(file.contents());
        hash.update([0]);
    }
    let digest: String = hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let root = cache_root();
    let target = root.join(format!("{name}-{digest}"));
    if target.join("tasks").is_dir() {
        return Ok(target);
    }
    let fail = |what: &str, path: &Path, e: std::io::Error| {
        format!(
            "cannot write bgrun's role `{name}` to `{}` ({what}): {e}",
            path.display()
        )
    };
    std::fs::create_dir_all(&root).map_err(|e| fail("create", &root, e))?;
    let staging = root.join(format!(".{name}-{digest}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    for file in &all {
        let relative = file.path().strip_prefix(dir.path()).unwrap_or(file.path());
        let path = staging.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail("create", parent, e))?;
        }
        std::fs::write(&path, file.contents()).map_err(|e| fail("write", &path, e))?;
    }
    match std::fs::rename(&staging, &target) {
        Ok(()) => Ok(target),
        // Another run wrote the same content first.
        Err(_) if target.join("tasks").is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(target)
        }
        Err(e) => Err(fail("rename", &target, e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_blue_green_role_is_shipped() {
        assert!(super::names().contains(&"bgrun.blue_green"));
        let cache = tempfile::tempdir().unwrap();
        // SAFETY: this test is the only one that reads XDG_CACHE_HOME.
        unsafe { std::env::set_var("XDG_CACHE_HOME", cache.path()) };
        let dir = super::role("bgrun.blue_green").unwrap().unwrap();
        assert!(
            dir.starts_with(cache.path()) && dir.join("tasks/main.yml").is_file(),
            "{}",
            dir.display()
        );
        assert_eq!(super::role("bgrun.blue_green").unwrap().unwrap(), dir, "written once");
        assert!(super::role("bgrun.nothing").is_none());
    }
}
