//! Source files and spans: every user-facing error points at `file:line:col` with the line and a caret.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file bgrun read, kept whole so errors can quote the offending line.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A position in a source file; lines and columns count from 1.
#[derive(Debug, Clone)]
pub struct Span {
    pub file: Arc<SourceFile>,
    pub line: usize,
    pub col: usize,
}

impl Span {
    pub fn new(file: &Arc<SourceFile>, line: usize, col: usize) -> Self {
        Span {
            file: Arc::clone(file),
            line: line.max(1),
            col: col.max(1),
        }
    }

    /// The quoted line with a caret under the column, as compilers print it.
    pub fn snippet(&self) -> String {
        let Some(text) = self.file.text.lines().nth(self.line - 1) else {
            return String::new();
        };
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        let caret_pad: String = text
            .chars()
            .take(self.col - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!("{gutter} |\n{number} | {text}\n{gutter} | {caret_pad}^")
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.path.display(), self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_points_at_column() {
        let file = SourceFile::new("play.yml", "- hosts: all\n  stepz: []\n");
        let span = Span::new(&file, 2, 3);
        assert_eq!(span.to_string(), "play.yml:2:3");
        assert_eq!(span.snippet(), "  |\n2 |   stepz: []\n  |   ^");
    }

    #[test]
    fn snippet_past_the_end_is_empty() {
        let file = SourceFile::new("x", "");
        assert_eq!(Span::new(&file, 9, 1).snippet(), "");
    }
}
