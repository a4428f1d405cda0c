//! `container` (Ansible's `docker_container`) keeps one container as described: created from its
//! image (pulled when missing), started or stopped, or absent; recreated only when its image or
//! configuration changed.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::docker::container::{self as engine, ContainerSpec, PortSpec};
use crate::docker::registrator;
use crate::template::Vars;
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Container {
    name: String,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    state: Option<State>,
    /// Published ports, `[ip:][host_port:]container_port[/proto]`.
    #[serde(default, alias = "published_ports")]
    ports: Vec<String>,
    /// Binds, `host_path:container_path[:ro]`.
    #[serde(default)]
    volumes: Vec<String>,
    #[serde(default)]
    env: Vars,
    /// A command line (split into words) or a list.
    #[serde(default)]
    command: Option<Json>,
    #[serde(default)]
    entrypoint: Option<Json>,
    #[serde(default)]
    network_mode: Option<String>,
    #[serde(default)]
    restart_policy: Option<String>,
    #[serde(default)]
    labels: Vars,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    log_driver: Option<String>,
    #[serde(default, alias = "log_opt")]
    log_options: Vars,
    /// Pull the image even when it is there.
    #[serde(default)]
    pull: bool,
    /// Recreate the container even when nothing changed.
    #[serde(default)]
    recreate: bool,
    /// Seconds `stop` waits before killing.
    #[serde(default = "ten")]
    stop_timeout: i32,
}

fn ten() -> i32 {
    10
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    Started,
    Present,
    Stopped,
    Absent,
}

/// A command given as text or as a list, as words.
pub fn words(value: Option<&Json>, what: &str) -> Result<Option<Vec<String>>, HostError> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => shlex::split(text)
            .map(Some)
            .ok_or_else(|| HostError::Failed(format!("cannot split the {what} `{text}` into words"))),
        Some(Json::Array(items)) => Ok(Some(items.iter().map(crate::yaml::scalar_text).collect())),
        Some(other) => Err(HostError::Failed(format!(
            "the {what} is a string or a list, not {other}"
        ))),
    }
}

// Transitional: converted to plan/apply next.
impl Module for Container {
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        Ok(Plan::Done(self.legacy(cx).await?))
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

impl Container {
    async fn legacy(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let state = self.state.unwrap_or(State::Started);
        let docker = cx.docker().await?;
        let existing = engine::find(docker, &self.name).await?;
        let outcome = |changed: bool, action: &str| {
            Outcome::changed(changed)
                .with("container", self.name.as_str())
                .with("action", action)
        };
        if state == State::Absent {
            let Some(found) = existing else {
                return Ok(outcome(false, "none"));
            };
            if !cx.legacy_check {
                engine::remove(docker, &found.id).await?;
            }
            return Ok(outcome(true, "removed"));
        }
        let Some(image) = self.image.clone() else {
            return Err(HostError::Failed(format!(
                "container `{}`: `image` is required unless `state: absent`",
                self.name
            )));
        };
        let spec = ContainerSpec {
            name: self.name.clone(),
            image: image.clone(),
            command: words(self.command.as_ref(), "command")?,
            entrypoint: words(self.entrypoint.as_ref(), "entrypoint")?,
            env: self
                .env
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::yaml::scalar_text(v)))
                .collect(),
            labels: self
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), crate::yaml::scalar_text(v)))
                .collect(),
            ports: self
                .ports
                .iter()
                .map(|p| PortSpec::parse(p).map_err(HostError::Failed))
                .collect::<Result<_, _>>()?,
            binds: self.volumes.clone(),
            network_mode: self.network_mode.clone(),
            restart: self.restart_policy.clone(),
            hostname: self.hostname.clone(),
            log_driver: self.log_driver.clone(),
            log_options: self
                .log_options
                .iter()
                .map(|(k, v)| (k.clone(), crate::yaml::scalar_text(v)))
                .collect(),
            links: Vec::new(),
        };
        if cx.legacy_check {
            let action = match &existing {
                None => "would create",
                Some(found) if !found.running && state == State::Started => "would start",
                Some(found) if found.running && state == State::Stopped => "would stop",
                Some(_) => "would keep or recreate (depends on the image)",
            };
            return Ok(outcome(
                existing
                    .as_ref()
                    .is_none_or(|_| action != "would keep or recreate (depends on the image)"),
                action,
            ));
        }
        let (image_id, pulled) = engine::ensure_image(docker, &image, self.pull, cx.progress)
            .await
            .map_err(|e| HostError::Failed(format!("{e} (container `{}`)", self.name)))?;
        let wanted_hash = spec.config_hash(&image_id);
        let start = state == State::Started;
        let result: Result<Outcome, HostError> = match existing {
            Some(found) if !self.recreate && found.config_hash.as_deref() == Some(wanted_hash.as_str()) => {
                if start && !found.running {
                    engine::start(docker, &found.id).await?;
                    Ok(outcome(true, "started"))
                } else if state == State::Stopped && found.running {
                    engine::stop(docker, &found.id, self.stop_timeout).await?;
                    Ok(outcome(true, "stopped"))
                } else {
                    Ok(outcome(false, "unchanged").with("pulled", pulled))
                }
            }
            Some(found) => {
                engine::remove(docker, &found.id).await?;
                let id = engine::create_and_start(docker, &spec, &image_id, start).await?;
                Ok(outcome(true, "recreated").with("id", id))
            }
            None => {
                let id = engine::create_and_start(docker, &spec, &image_id, start).await?;
                Ok(outcome(true, "created").with("id", id))
            }
        };
        let result = result?;
        let registered = self.sync_consul(cx, start).await?;
        Ok(result.with("consul_services", registered))
    }
}

impl Container {
    /// Keeps the host's Consul agent in step with the container, as Registrator would: its
    /// published ports registered while it runs, deregistered when it stops or goes.
    async fn sync_consul(&self, cx: &StepContext<'_>, running: bool) -> Result<Vec<String>, HostError> {
        let Some(consul) = cx.host_consul()? else {
            return Ok(Vec::new());
        };
        if running {
            let docker = cx.docker().await?;
            registrator::register(docker, &consul, cx.host, &cx.connection.spec.address, &self.name).await
        } else {
            registrator::deregister(&consul, cx.host, &self.name).await
        }
    }
}
