//! `copy` puts a file of the playbook's, or given content, on the host; it changes the host only
//! when the content (by SHA-256) or the attributes differ.

use serde::Deserialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::{Diff, Module, Outcome, StepContext, find_source, parse_mode};
use crate::transport::HostError;
use crate::transport::files::{self, Attributes, FileKind};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copy {
    /// A file beside the playbook, looked for in `files/` first.
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    content: Option<Json>,
    dest: String,
    #[serde(default)]
    mode: Json,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    group: Option<String>,
    /// When false, an existing destination is left as it is.
    #[serde(default = "yes")]
    force: bool,
}

fn yes() -> bool {
    true
}

impl Module for Copy {
    async fn run(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let (content, name) = match (&self.src, self.content) {
            (Some(src), None) => {
                let path = find_source(cx, "files", src)?;
                if path.is_dir() {
                    return Err(HostError::Failed(format!("`{src}` is a directory; copy takes files")));
                }
                let bytes = std::fs::read(&path)
                    .map_err(|e| HostError::Failed(format!("cannot read `{}`: {e}", path.display())))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                (bytes, name)
            }
            (None, Some(Json::String(text))) => (text.into_bytes(), None),
            (None, Some(other)) => (
                serde_json::to_string_pretty(&other).unwrap_or_default().into_bytes(),
                None,
            ),
            (Some(_), Some(_)) => {
                return Err(HostError::Failed("give either `src` or `content`, not both".into()));
            }
            (None, None) => return Err(HostError::Failed("give `src` or `content`".into())),
        };
        let attrs = Attributes {
            mode: parse_mode(&self.mode)?,
            owner: self.owner,
            group: self.group,
        };
        let mut dest = self.dest;
        if dest.ends_with('/') {
            match name {
                Some(name) => dest.push_str(&name),
                None => {
                    return Err(HostError::Failed(format!(
                        "`dest` {dest} is a directory; with `content` give a file name"
                    )));
                }
            }
        }
        put_file(cx, &dest, &content, &attrs, self.force).await
    }
}

/// Puts content at `dest` unless it is already there with the same attributes; shared with
/// `template`.
pub async fn put_file(
    cx: &StepContext<'_>,
    dest: &str,
    content: &[u8],
    attrs: &Attributes,
    force: bool,
) -> Result<Outcome, HostError> {
    let remote = cx.remote().await?;
    let mut dest = dest.to_string();
    let mut state = files::stat(&remote, &dest).await?;
    if state.kind == FileKind::Directory {
        return Err(HostError::Failed(format!("`dest` {dest} is a directory")));
    }
    if state.kind == FileKind::Link
        && let Some(target) = state.link_target.clone()
    {
        dest = target;
        state = files::stat(&remote, &dest).await?;
    }
    let checksum: String = Sha256::digest(content).iter().map(|b| format!("{b:02x}")).collect();
    let content_changed = state.sha256.as_deref() != Some(checksum.as_str()) && (force || !state.exists());
    let attrs_changed = !attrs.satisfied_by(&state);
    let mut outcome = Outcome::changed(content_changed || attrs_changed)
        .with("dest", dest.as_str())
        .with("checksum", checksum.as_str())
        .with("size", content.len() as u64);
    if content_changed && cx.diff {
        let before = if state.exists() {
            files::read(&remote, &dest).await?.unwrap_or_default()
        } else {
            Vec::new()
        };
        outcome.diff = Some(Diff {
            path: dest.clone(),
            before: String::from_utf8_lossy(&before).into_owned(),
            after: String::from_utf8_lossy(content).into_owned(),
        });
    }
    if cx.check {
        return Ok(outcome);
    }
    if content_changed {
        files::write(&remote, &dest, content, attrs).await?;
    } else if attrs_changed {
        files::set_attributes(&remote, &dest, attrs).await?;
    }
    Ok(outcome)
}
