//! `image` (Ansible's `docker_image`) makes an image present on a host's engine: pulled from its
//! registry (with the layers' progress shown), tagged under another name, pushed.

use bollard::query_parameters::{PushImageOptions, TagImageOptions};
use futures::StreamExt;
use serde::Deserialize;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::docker::container::{ensure_image, split_tag};
use crate::docker::error_text;

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

impl Module for Image {
    type Work = Self;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self>, Failure> {
        if self.state != "present" {
            return Err(Failure::new(format!(
                "image `{}`: `state: {}` is not supported; bgrun has `present`",
                self.name, self.state
            )));
        }
        let docker = cx.docker().await?;
        let id = tag_of(docker, &self.name).await;
        match (self.source.as_str(), &id) {
            ("pull", _) | ("local", Some(_)) => {}
            ("local", None) => {
                return Err(Failure::new(format!(
                    "image `{}` is not on the host and `source: local` does not pull it",
                    self.name
                )));
            }
            (other, _) => {
                return Err(Failure::new(format!(
                    "`source: {other}` is not supported; bgrun has `pull` and `local`"
                )));
            }
        }
        let outcome = Outcome::changed(false).with("image", self.name.as_str());
        let tagged = match (&id, &self.repository) {
            (Some(id), Some(repository)) => tag_of(docker, repository).await.as_ref() == Some(id),
            (_, None) => true,
            (None, Some(_)) => false,
        };
        match id {
            Some(id) if !self.force_source && !self.push && tagged => {
                Ok(Plan::Done(outcome.with("id", id).with("pulled", false)))
            }
            _ => Ok(Plan::Change(
                Outcome {
                    changed: true,
                    ..outcome
                },
                self,
            )),
        }
    }

    async fn apply(this: Self, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let docker = cx.docker().await?;
        let (id, pulled) = match this.source.as_str() {
            "local" => (tag_of(docker, &this.name).await.unwrap_or_default(), false),
            _ => ensure_image(docker, &this.name, this.force_source, cx.progress).await?,
        };
        let mut changed = pulled;
        let target = this.repository.clone().unwrap_or_else(|| this.name.clone());
        if let Some(repository) = &this.repository
            && tag_of(docker, repository).await.as_deref() != Some(id.as_str())
        {
            let (repo, tag) = split_tag(repository);
            let options = TagImageOptions {
                repo: Some(repo.to_string()),
                tag: Some(tag.to_string()),
            };
            docker.tag_image(&this.name, Some(options)).await.map_err(|e| {
                Failure::new(format!(
                    "cannot tag `{}` as `{repository}`: {}",
                    this.name,
                    error_text(&e)
                ))
            })?;
            changed = true;
        }
        if this.push {
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
                let info = item.map_err(|e| Failure::new(format!("cannot push `{target}`: {}", error_text(&e))))?;
                if let Some(error) = info.error_detail.and_then(|d| d.message) {
                    return Err(Failure::new(format!("cannot push `{target}`: {error}")));
                }
                if let Some(status) = info.status {
                    (cx.progress)(format!("pushing {target}: {status}"));
                }
            }
            changed = true;
        }
        Ok(Outcome::changed(changed)
            .with("image", this.name.as_str())
            .with("id", id)
            .with("pulled", pulled))
    }
}

/// The ID of the image `reference` names on the engine, if it is there.
async fn tag_of(docker: &bollard::Docker, reference: &str) -> Option<String> {
    docker.inspect_image(reference).await.ok().and_then(|found| found.id)
}
