//! The folder of bgrun's sockets on the controller (SSH control sockets, the local ends of
//! forwarded Docker and HAProxy sockets): one only its user can open, so that no other user of
//! the machine can reach a host's Docker engine through bgrun's forwards.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::TransportError;

/// `$XDG_RUNTIME_DIR/bgrun`, else `<temp>/bgrun-<uid>`, made 0700 when missing; refused when it
/// belongs to another user or others may open it.
pub fn private_dir() -> Result<PathBuf, TransportError> {
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
    match std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
    {
        Some(runtime) => private_dir_in(&runtime.join("bgrun"), uid),
        None => private_dir_in(&std::env::temp_dir().join(format!("bgrun-{uid}")), uid),
    }
}

fn private_dir_in(dir: &Path, uid: u32) -> Result<PathBuf, TransportError> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(TransportError(format!("cannot create `{}`: {e}", dir.display()))),
    }
    let meta =
        std::fs::symlink_metadata(dir).map_err(|e| TransportError(format!("cannot read `{}`: {e}", dir.display())))?;
    if !meta.is_dir() || meta.uid() != uid {
        return Err(TransportError(format!(
            "refusing to keep sockets in `{}`: it is not a folder of uid {uid}; remove it or set XDG_RUNTIME_DIR",
            dir.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| TransportError(format!("cannot make `{}` private: {e}", dir.display())))?;
    }
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| remove_forwards_of_ended_runs(dir));
    Ok(dir.to_path_buf())
}

/// Removes the local ends of forwards (`fwd-<pid>-….sock`) whose run is no longer there: a run
/// killed with SIGKILL cannot remove its own, and ssh leaves them when its master closes.
fn remove_forwards_of_ended_runs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("fwd-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_private_and_kept_private() {
        let base = tempfile::tempdir().unwrap();
        let uid = std::fs::metadata("/proc/self").unwrap().uid();
        let dir = base.path().join("bgrun");
        assert_eq!(private_dir_in(&dir, uid).unwrap(), dir);
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir_in(&dir, uid).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        let e = private_dir_in(&dir, uid + 1).unwrap_err();
        assert!(e.0.contains("refusing"), "{}", e.0);
        let file = base.path().join("file");
        let ended = dir.join("fwd-4294967-55a3a2339250-0.sock");
        let running = dir.join(format!("fwd-{}-55a3a2339250-0.sock", std::process::id()));
        std::fs::write(&ended, "").unwrap();
        std::fs::write(&running, "").unwrap();
        remove_forwards_of_ended_runs(&dir);
        assert!(!ended.exists(), "the forward of a run that ended is removed");
        assert!(running.exists(), "the forward of a running run is kept");
        std::fs::write(&file, "").unwrap();
        assert!(private_dir_in(&file, uid).is_err());
    }
}
