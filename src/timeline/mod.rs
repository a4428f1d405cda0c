//! `--timeline FILE.html|FILE.svg`: a picture of the run for people, one bar per step and host on
//! a time axis, written when the run ends. The reporter feeds the run's events to a
//! [`Recorder`] (`record.rs`); `layout.rs` places the bars, `svg.rs` and `html.rs` draw them.

mod html;
mod layout;
mod record;
mod svg;

use std::io;
use std::path::{Path, PathBuf};

pub use record::{Recorder, Recording};

/// Where `--timeline` writes, and as what.
#[derive(Debug, Clone)]
pub struct Target {
    path: PathBuf,
    page: bool,
}

impl Target {
    /// The flag's value: a path ending in `.html` (or `.htm`) or `.svg`, in a folder that exists,
    /// checked before anything runs.
    pub fn parse(value: &str) -> Result<Target, String> {
        let path = PathBuf::from(value);
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let page = match extension.as_deref() {
            Some("html" | "htm") => true,
            Some("svg") => false,
            _ => {
                return Err(format!(
                    "`--timeline` writes an HTML page (.html) or an SVG picture (.svg); `{value}` ends in neither"
                ));
            }
        };
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !folder.is_dir()
        {
            return Err(format!(
                "`--timeline {value}`: there is no folder `{}`",
                folder.display()
            ));
        }
        Ok(Target { path, page })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Draws the recording and writes it, atomically: readers see no half-written picture.
    pub fn write(&self, recording: &Recording, title: &str) -> io::Result<()> {
        let layout = layout::layout(recording);
        let content = if self.page {
            html::render(&layout, title)
        } else {
            svg::render(&layout, true)
        };
        write_atomically(&self.path, content.as_bytes())
    }
}

/// Writes `content` beside `path` under a temporary name, then renames it over `path`.
fn write_atomically(path: &Path, content: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let staged = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    std::fs::write(&staged, content)
        .and_then(|()| std::fs::rename(&staged, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&staged);
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_or_svg_and_nothing_else() {
        assert!(Target::parse("run.html").unwrap().page);
        assert!(Target::parse("RUN.HTM").unwrap().page);
        assert!(!Target::parse("run.svg").unwrap().page);
        let error = Target::parse("run.png").unwrap_err();
        assert!(
            error.contains("--timeline") && error.contains(".html") && error.contains(".svg"),
            "{error}"
        );
        assert!(Target::parse("run").is_err());
        assert!(
            Target::parse("/no/such/folder/run.svg")
                .unwrap_err()
                .contains("no folder `/no/such/folder`")
        );
    }

    #[test]
    fn written_whole_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.svg");
        std::fs::write(&path, "old").unwrap();
        let target = Target::parse(path.to_str().unwrap()).unwrap();
        target.write(&Recording::default(), "play.yml").unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg "), "{svg}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["run.svg"], "no staged file is left");
    }
}
