//! The tests on the controller's files (`is file`, `is directory`, `is link`, `is exists`,
//! `is abs`, `is same_file`, `is mount`), as Python's `os.path` answers them; a relative path
//! is taken from bgrun's working folder, as Ansible's are.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use minijinja::Error;
use minijinja::value::Value;

use super::args::*;

fn path_of(value: &Value) -> Result<String, Error> {
    text(value)
}

/// `os.path.isfile`.
pub(super) fn test_file(value: &Value) -> Result<bool, Error> {
    Ok(Path::new(&path_of(value)?).is_file())
}

/// `os.path.isdir`.
pub(super) fn test_directory(value: &Value) -> Result<bool, Error> {
    Ok(Path::new(&path_of(value)?).is_dir())
}

/// `os.path.islink`.
pub(super) fn test_link(value: &Value) -> Result<bool, Error> {
    Ok(Path::new(&path_of(value)?).is_symlink())
}

/// `os.path.exists`: links are followed, so a broken one does not exist.
pub(super) fn test_exists(value: &Value) -> Result<bool, Error> {
    Ok(Path::new(&path_of(value)?).exists())
}

/// `os.path.lexists`: a link exists, broken or not.
pub(super) fn test_link_exists(value: &Value) -> Result<bool, Error> {
    Ok(fs::symlink_metadata(path_of(value)?).is_ok())
}

/// `os.path.isabs`.
pub(super) fn test_abs(value: &Value) -> Result<bool, Error> {
    Ok(path_of(value)?.starts_with('/'))
}

/// `os.path.samefile`: the same device and inode; a missing path is an error, as in Python.
pub(super) fn test_same_file(value: &Value, other: &Value) -> Result<bool, Error> {
    let stat = |path: String| fs::metadata(&path).map_err(|e| fail(format!("same_file: {path}: {e}")));
    let (a, b) = (stat(path_of(value)?)?, stat(path_of(other)?)?);
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

/// `os.path.ismount`: not a link, and on another device than its parent or the parent itself.
pub(super) fn test_mount(value: &Value) -> Result<bool, Error> {
    let path = path_of(value)?;
    let Ok(own) = fs::symlink_metadata(&path) else {
        return Ok(false);
    };
    if own.file_type().is_symlink() {
        return Ok(false);
    }
    let parent = format!("{}/..", path.trim_end_matches('/'));
    let Ok(up) = fs::symlink_metadata(if path.trim_end_matches('/').is_empty() {
        "/.."
    } else {
        &parent
    }) else {
        return Ok(false);
    };
    Ok(own.dev() != up.dev() || own.ino() == up.ino())
}
