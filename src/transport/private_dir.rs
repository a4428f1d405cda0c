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
    Ok(dir.to_path_buf())
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
        std::fs::write(&file, "").unwrap();
        assert!(private_dir_in(&file, uid).is_err());
    }
}
