//! `image` (Ansible's `docker_image`) makes an image present on a host's engine: pulled from its
//! registry (with the layers' progress shown), tagged under another name, pushed.

use bollard::query_parameters::{PushImageOptions, TagImageOptions};
use futures::StreamExt;
use serde::Deserialize;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::docker::container::{ensure_image, split_tag};
use crate::docker::error_text;
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// The image, `registry/name:tag`.
    name: String,
    /// `pull` (default) or `local` (the image must already be there).
    #[serde(default = "pull")]
    source: String,
    /// Pull even when the image is there.
    #[serde(default)]
    force_source: bool,
    /// Also tag the image as this `registry/name[:tag]`.
    #[serde(default)]
    repository: Option<String>,
    /// Push `repository` (or `name`) to its registry.
    #[serde(default)]
    push: bool,
    #[serde(default = "present")]
    state: String,
}

fn pull() -> String {
    "pull".into()
}

fn present() -> String {
    "present".into()
}

// Transitional: converted to plan/apply next.
impl Module for Image {
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        Ok(Plan::Done(self.legacy(cx).await?))
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

impl Image {
    async fn legacy(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        if self.state != "present" {
            return Err(HostError::Failed(format!(
                "image `{}`: `state: {}` is not supported; bgrun has `present`",
                self.name, self.state
            )));
        }
        let docker = cx.docker().await?;
        let there = docker.inspect_image(&self.name).await.ok();
        if cx.legacy_check {
            let would = there.is_none() || self.force_source || self.push || self.repository.is_some();
            return Ok(Outcome::changed(would).with("image", self.name.as_str()));
        }
        let (id, pulled) = match (self.source.as_str(), there) {
            ("local", Some(found)) => (found.id.unwrap_or_default(), false),
            ("local", None) => {
                return Err(HostError::Failed(format!(
                    "image `{}` is not on the host and `source: local` does not pull it",
                    self.name
                )));
            }
            ("pull", _) => ensure_image(docker, &self.name, self.force_source, cx.progress).await?,
            (other, _) => {
                return Err(HostError::Failed(format!(
                    "`source: {other}` is not supported; bgrun has `pull` and `local`"
                )));
            }
        };
        let mut changed = pulled;
        let target = self.repository.clone().unwrap_or_else(|| self.name.clone());
        if let Some(repository) = &self.repository {
            let (repo, tag) = split_tag(repository);
            let options = TagImageOptions {
                repo: Some(repo.to_string()),
                tag: Some(tag.to_string()),
            };
            docker.tag_image(&self.name, Some(options)).await.map_err(|e| {
                HostError::Failed(format!(
                    "cannot tag `{}` as `{repository}`: {}",
                    self.name,
                    error_text(&e)
                ))
            })?;
            changed = true;
        }
        if self.push {
            let (repo, tag) = split_tag(&target);
            let mut stream = docker.push_image(
                repo,
                Some(PushImageOptions {
                    tag: Some(tag.to_string()),
                    ..Default::default()
                }),
                None,
            );
            while let Some(item) = stream.next().await {
                let info =
                    item.map_err(|e| HostError::Failed(format!("cannot push `{target}`: {}", error_text(&e))))?;
                if let Some(error) = info.error_detail.and_then(|d| d.message) {
                    return Err(HostError::Failed(format!("cannot push `{target}`: {error}")));
                }
                if let Some(status) = info.status {
                    (cx.progress)(format!("pushing {target}: {status}"));
                }
            }
            changed = true;
        }
        Ok(Outcome::changed(changed)
            .with("image", self.name.as_str())
            .with("id", id)
            .with("pulled", pulled))
    }
}
