//! A folder of this fuzzing process's own, where each input is written as the file bgrun reads.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Writes `data` to `name` in the process's scratch folder and returns the file's path.
pub fn write(name: &str, data: &[u8]) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("bgrun-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    });
    let path = dir.join(name);
    std::fs::write(&path, data).expect("scratch file");
    path
}
