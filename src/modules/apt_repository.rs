//! `apt_repository` adds or removes an APT source line. A line already present in any sources
//! file (`/etc/apt/sources.list`, `/etc/apt/sources.list.d/*.list`) counts, and a commented-out
//! copy is re-enabled rather than added again, as in Ansible; a new line goes to
//! `/etc/apt/sources.list.d/FILENAME.list`, named from the repository's URL when `filename` is not
//! given. Lines compare with their whitespace normalized. The package lists are refreshed after a
//! change unless `update_cache: false`. PPAs (`ppa:`) and deb822 `.sources` files are not
//! supported (such files are neither read nor written).

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Diff, Failure, Module, Outcome, Plan, StepContext, parse_mode};
use crate::transport::files::{self, Attributes};
use crate::transport::{Exec, HostError, Remote};

const SOURCES_LIST: &str = "/etc/apt/sources.list";
const SOURCES_DIR: &str = "/etc/apt/sources.list.d";
const SOURCE_TYPES: [&str; 2] = ["deb", "deb-src"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AptRepository {
    repo: String,
    #[serde(default)]
    state: Option<State>,
    /// The file's name in `/etc/apt/sources.list.d`, without `.list`.
    #[serde(default)]
    filename: Option<String>,
    #[serde(default = "super::arguments::yes", alias = "update-cache")]
    update_cache: bool,
    /// The mode of a new sources file (default 0644).
    #[serde(default)]
    mode: Json,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    Present,
    Absent,
}

/// Every sources file, each after a line `\x1e` + its path.
pub(super) const READ: &str = r#"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  printf '\036%s\n' "$f"
  cat -- "$f" || exit 1
done"#;

/// A line of a sources file as Ansible reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    valid: bool,
    enabled: bool,
    source: String,
    comment: String,
}

fn parse_line(line: &str) -> Line {
    let mut text = line.trim();
    let mut enabled = true;
    if let Some(rest) = text.strip_prefix('#') {
        enabled = false;
        text = rest;
    }
    let mut comment = String::new();
    if let Some(i) = text.find('#').filter(|i| *i > 0) {
        comment = text[i + 1..].trim().to_string();
        text = &text[..i];
    }
    let chunks: Vec<&str> = text.split_whitespace().collect();
    let valid = chunks.first().is_some_and(|c| SOURCE_TYPES.contains(c));
    Line {
        valid,
        enabled,
        source: if valid {
            chunks.join(" ")
        } else {
            text.trim().to_string()
        },
        comment,
    }
}

fn render(line: &Line) -> String {
    let mut out = String::new();
    if !line.enabled {
        out.push_str("# ");
    }
    out.push_str(&line.source);
    if !line.comment.is_empty() {
        out.push_str(" # ");
        out.push_str(&line.comment);
    }
    out.push('\n');
    out
}

/// Ansible's file name for a repository line: its first URL without scheme, options and
/// credentials, every run of other characters made one `_`.
fn suggest_filename(source: &str) -> String {
    let mut text = String::new();
    let mut depth = 0;
    for c in source.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => text.push(c),
            _ => {}
        }
    }
    let part = text
        .split_whitespace()
        .find(|p| !SOURCE_TYPES.contains(p))
        .unwrap_or_default();
    let part = part.split_once("://").map_or(part, |(_, rest)| rest);
    let part = part.rsplit_once('@').map_or(part, |(_, host)| host);
    let words: Vec<&str> = part
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("_")
}

/// Every sources file: its path and content.
fn parse_files(text: &str) -> Vec<(String, String)> {
    text.split('\u{1e}')
        .filter(|chunk| !chunk.is_empty())
        .map(|chunk| match chunk.split_once('\n') {
            Some((path, content)) => (path.to_string(), content.to_string()),
            None => (chunk.to_string(), String::new()),
        })
        .collect()
}

/// What to do to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Write {
        path: String,
        before: String,
        after: String,
        new: bool,
    },
    Remove {
        path: String,
        before: String,
    },
}

fn plan(files: &[(String, String)], source: &str, present: bool, target: &str) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut found = false;
    for (path, content) in files {
        let mut after = String::new();
        let mut touched = false;
        let mut kept = 0;
        for raw in content.split_inclusive('\n') {
            let line = parse_line(raw);
            if line.valid && line.source == source {
                found = true;
                if present && !line.enabled {
                    after.push_str(&render(&Line { enabled: true, ..line }));
                    touched = true;
                    kept += 1;
                    continue;
                }
                if !present && line.enabled {
                    touched = true;
                    continue;
                }
            }
            after.push_str(raw);
            kept += 1;
        }
        if !touched {
            continue;
        }
        if kept == 0 && path != SOURCES_LIST {
            changes.push(Change::Remove {
                path: path.clone(),
                before: content.clone(),
            });
        } else {
            changes.push(Change::Write {
                path: path.clone(),
                before: content.clone(),
                after,
                new: false,
            });
        }
    }
    if present && !found {
        let existing = files.iter().find(|(p, _)| p == target);
        let before = existing.map(|(_, c)| c.clone()).unwrap_or_default();
        let mut after = before.clone();
        if !after.is_empty() && !after.ends_with('\n') {
            after.push('\n');
        }
        after.push_str(source);
        after.push('\n');
        changes.push(Change::Write {
            path: target.to_string(),
            before,
            after,
            new: existing.is_none(),
        });
    }
    changes
}

async fn read_sources(remote: &Remote<'_>) -> Result<Vec<(String, String)>, HostError> {
    let output = remote.exec(&Exec::script(READ, &[])).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot read the APT sources: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(parse_files(&output.stdout_text()))
}

/// The sources files to write or remove, then the package lists' refresh.
#[derive(Debug)]
pub struct Work {
    changes: Vec<Change>,
    /// The mode of a new sources file.
    mode: u32,
    update_cache: bool,
    /// The normalized source line, for a failed refresh's result.
    repo: String,
}

impl Module for AptRepository {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        if self.repo.trim_start().starts_with("ppa:") {
            return Err(Failure::new(
                "invalid arguments: PPA repositories (`ppa:`) are not supported; give the `deb` line",
            ));
        }
        let line = parse_line(&self.repo);
        if !line.valid || !line.enabled {
            return Err(Failure::new(format!(
                "invalid arguments: `{}` is not a source line (`deb URL SUITE [COMPONENT...]`)",
                self.repo
            )));
        }
        let name = match &self.filename {
            Some(f) if f.contains('/') || f.is_empty() => {
                return Err(Failure::new(format!(
                    "invalid arguments: `filename: {f}` is a name in {SOURCES_DIR}, without folders"
                )));
            }
            Some(f) => f.clone(),
            None => suggest_filename(&line.source),
        };
        let target = format!("{SOURCES_DIR}/{name}.list");
        let present = self.state.unwrap_or(State::Present) == State::Present;
        let mode = parse_mode(&self.mode)?.unwrap_or(0o644);
        let remote = cx.remote().await?;
        let sources = read_sources(&remote).await?;
        let changes = plan(&sources, &line.source, present, &target);
        let mut added = Vec::new();
        let mut removed = Vec::new();
        for change in &changes {
            match change {
                Change::Write { path, new: true, .. } => added.push(Json::from(path.as_str())),
                Change::Remove { path, .. } => removed.push(Json::from(path.as_str())),
                Change::Write { .. } => {}
            }
        }
        let mut outcome = Outcome::changed(!changes.is_empty())
            .with("repo", line.source.as_str())
            .with("state", if present { "present" } else { "absent" })
            .with("sources_added", added)
            .with("sources_removed", removed);
        if cx.diff {
            outcome.diff = changes.first().map(|change| match change {
                Change::Write {
                    path, before, after, ..
                } => Diff {
                    path: path.clone(),
                    before: before.clone(),
                    after: after.clone(),
                },
                Change::Remove { path, before } => Diff {
                    path: path.clone(),
                    before: before.clone(),
                    after: String::new(),
                },
            });
        }
        if changes.is_empty() {
            return Ok(Plan::Done(outcome));
        }
        let work = Work {
            changes,
            mode,
            update_cache: self.update_cache,
            repo: line.source,
        };
        Ok(Plan::Change(outcome, work))
    }

    async fn apply(work: Work, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        for change in &work.changes {
            match change {
                Change::Write { path, after, new, .. } => {
                    let attrs = Attributes {
                        mode: new.then_some(work.mode),
                        ..Attributes::default()
                    };
                    files::write(&remote, path, after.as_bytes(), &attrs).await?;
                }
                Change::Remove { path, .. } => {
                    let output = remote.exec(&Exec::new(["rm", "-f", "--", path])).await?;
                    if output.rc != 0 {
                        return Err(Failure::new(format!(
                            "cannot remove `{path}`: {}",
                            output.stderr_text().trim()
                        )));
                    }
                }
            }
        }
        if work.update_cache {
            let mut exec = Exec::new(["apt-get", "-q", "update"]);
            exec.env = cx.environment.to_vec();
            let output = remote.exec(&exec).await?;
            if output.rc != 0 {
                return Err(
                    Failure::new(format!("Failed to update apt cache: {}", output.stderr_text().trim()))
                        .with("repo", work.repo),
                );
            }
        }
        Ok(planned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_as_ansible_does() {
        assert_eq!(
            suggest_filename("deb http://dl.google.com/linux/chrome/deb/ stable main"),
            "dl_google_com_linux_chrome_deb"
        );
        assert_eq!(
            suggest_filename("deb [arch=amd64 signed-by=/k.gpg] https://u:p@apt.example.org/debian bookworm main"),
            "apt_example_org_debian"
        );
    }

    #[test]
    fn parses_lines_with_comments() {
        let line = parse_line("#  deb   http://x/ y main # note\n");
        assert!(line.valid && !line.enabled);
        assert_eq!(line.source, "deb http://x/ y main");
        assert_eq!(line.comment, "note");
        assert!(!parse_line("# just a comment").valid);
    }

    #[test]
    fn plans_adding_enabling_and_removing() {
        let files = vec![
            (SOURCES_LIST.to_string(), "deb http://a/ b main\n".to_string()),
            (format!("{SOURCES_DIR}/x.list"), "# deb http://x/ y main\n".to_string()),
        ];
        // Already there: nothing to do.
        assert!(plan(&files, "deb http://a/ b main", true, "/t.list").is_empty());
        // Commented out: enabled where it is.
        let enable = plan(&files, "deb http://x/ y main", true, "/t.list");
        assert!(matches!(&enable[..], [Change::Write { after, new: false, .. }] if after == "deb http://x/ y main\n"));
        // New: added to the target file.
        let add = plan(&files, "deb http://n/ m main", true, "/t.list");
        assert!(matches!(&add[..], [Change::Write { path, new: true, .. }] if path == "/t.list"));
        // Removing the only line of a file removes the file.
        let files = vec![(format!("{SOURCES_DIR}/n.list"), "deb http://n/ m main\n".to_string())];
        let remove = plan(&files, "deb http://n/ m main", false, "/t.list");
        assert!(matches!(&remove[..], [Change::Remove { .. }]));
        assert!(plan(&files, "deb http://other/ m main", false, "/t.list").is_empty());
    }
}
