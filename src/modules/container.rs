//! `container` (Ansible's `docker_container`) keeps one container as described: created from its
//! image (pulled when missing), started or stopped, or absent; recreated only when its image or
//! configuration changed.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::docker::container::{self as engine, ContainerSpec, Existing, PortSpec};
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

impl Module for Container {
    type Work = Work;

    /// Predicts exactly what a run does when the image is on the host (its ID decides the
    /// configuration hash); when it must be pulled first, the container is created or recreated
    /// unless the pulled image turns out to be the one it runs.
    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let state = self.state.unwrap_or(State::Started);
        let docker = cx.docker().await?;
        let existing = engine::find(docker, &self.name).await?;
        let this = Converge {
            name: self.name.clone(),
            recreate: self.recreate,
            start: state == State::Started,
            stop: state == State::Stopped,
            stop_timeout: self.stop_timeout,
        };
        if state == State::Absent {
            let Some(found) = existing else {
                return Ok(Plan::Done(this.outcome(false, "none")));
            };
            return Ok(Plan::Change(this.outcome(true, "removed"), Work::Remove(found.id)));
        }
        let Some(image) = self.image.clone() else {
            return Err(Failure::new(format!(
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
                .map(|p| PortSpec::parse(p).map_err(Failure::new))
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
        let local_image = match self.pull {
            true => None,
            false => docker.inspect_image(&image).await.ok().and_then(|i| i.id),
        };
        let (planned, step) = match local_image {
            Some(image_id) => this.decide(existing, &spec, image_id),
            None => {
                let action = if existing.is_some() {
                    "would pull, then recreate"
                } else {
                    "would pull, then create"
                };
                (this.outcome(true, action), Step::Pull { image, existing })
            }
        };
        if matches!(step, Step::Keep) && cx.host_consul()?.is_none() {
            return Ok(Plan::Done(planned.with("consul_services", Vec::<String>::new())));
        }
        Ok(Plan::Change(
            planned,
            Work::Converge {
                this,
                spec: Box::new(spec),
                step,
            },
        ))
    }

    async fn apply(work: Work, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let docker = cx.docker().await?;
        let (this, spec, step) = match work {
            Work::Remove(id) => {
                engine::remove(docker, &id).await?;
                return Ok(planned);
            }
            Work::Converge { this, spec, step } => (this, spec, step),
        };
        let (result, step) = match step {
            Step::Pull { image, existing } => {
                let (image_id, pulled) = engine::ensure_image(docker, &image, true, cx.progress)
                    .await
                    .map_err(|e| Failure::new(format!("{e} (container `{}`)", this.name)))?;
                let (outcome, step) = this.decide(existing, &spec, image_id);
                (outcome.with("pulled", pulled), step)
            }
            step => (planned, step),
        };
        let result = match step {
            Step::Keep | Step::Pull { .. } => result,
            Step::Start(id) => {
                engine::start(docker, &id).await?;
                result
            }
            Step::Stop(id) => {
                engine::stop(docker, &id, this.stop_timeout).await?;
                result
            }
            Step::Recreate { old, image_id } => {
                engine::remove(docker, &old).await?;
                let id = engine::create_and_start(docker, &spec, &image_id, this.start).await?;
                result.with("id", id)
            }
            Step::Create { image_id } => {
                let id = engine::create_and_start(docker, &spec, &image_id, this.start).await?;
                result.with("id", id)
            }
        };
        let registered = sync_consul(cx, &this.name, this.start).await?;
        Ok(result.with("consul_services", registered))
    }
}

/// What `container` does, as its plan decided.
pub enum Work {
    Remove(String),
    Converge {
        this: Converge,
        spec: Box<ContainerSpec>,
        step: Step,
    },
}

/// What keeping a container as described depends on.
pub struct Converge {
    name: String,
    recreate: bool,
    start: bool,
    stop: bool,
    stop_timeout: i32,
}

pub enum Step {
    Keep,
    Start(String),
    Stop(String),
    Recreate {
        old: String,
        image_id: String,
    },
    Create {
        image_id: String,
    },
    /// The image must be pulled before its ID, and so the configuration hash, is known.
    Pull {
        image: String,
        existing: Option<Existing>,
    },
}

impl Converge {
    fn outcome(&self, changed: bool, action: &str) -> Outcome {
        Outcome::changed(changed)
            .with("container", self.name.as_str())
            .with("action", action)
    }

    /// What to do with the container found, given the image it should run: kept when its
    /// configuration hash (the spec and the image ID) is the one wanted, else recreated.
    fn decide(&self, existing: Option<Existing>, spec: &ContainerSpec, image_id: String) -> (Outcome, Step) {
        let wanted_hash = spec.config_hash(&image_id);
        match existing {
            Some(found) if !self.recreate && found.config_hash.as_deref() == Some(wanted_hash.as_str()) => {
                if self.start && !found.running {
                    (self.outcome(true, "started"), Step::Start(found.id))
                } else if self.stop && found.running {
                    (self.outcome(true, "stopped"), Step::Stop(found.id))
                } else {
                    (self.outcome(false, "unchanged").with("pulled", false), Step::Keep)
                }
            }
            Some(found) => (
                self.outcome(true, "recreated"),
                Step::Recreate {
                    old: found.id,
                    image_id,
                },
            ),
            None => (self.outcome(true, "created"), Step::Create { image_id }),
        }
    }
}

/// The container's registrations in the host's Consul, when the host has one.
async fn sync_consul(cx: &StepContext<'_>, name: &str, running: bool) -> Result<Vec<String>, HostError> {
    match cx.host_consul()? {
        Some(consul) => cx.sync_registration(&consul, name, running).await,
        None => Ok(Vec::new()),
    }
}
