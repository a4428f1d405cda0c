//! `compose` runs a Compose project's services on a host's Docker engine, as
//! `docker-compose -p PROJECT ACTION SERVICES` does, without docker-compose: `pull`, `up`
//! (create and start detached, pull what is missing, recreate only what changed, linked services
//! first), `stop` (containers kept), `start`, `restart`, `rm`, `kill`, `ps`. Containers carry
//! docker-compose's names and labels, and are registered in the host's Consul as Registrator
//! does.

use std::collections::HashMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::compose::{LABEL_CONFIG_HASH, Project};
use crate::docker::compose::{containers, create, ensure_networks, undo};
use crate::docker::container::{self as engine, pull};
use crate::docker::registrator;
use crate::transport::HostError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    /// The project name (`-p`); default the first file's folder name, normalised.
    #[serde(default, alias = "project_name")]
    project: Option<String>,
    /// Compose files on the controller, relative to the playbook.
    #[serde(default)]
    files: Vec<String>,
    /// A folder holding docker-compose.yml (and its override), when `files` is not given.
    #[serde(default)]
    project_src: Option<String>,
    #[serde(default)]
    action: Action,
    /// The services to act on; all when empty.
    #[serde(default)]
    services: Vec<String>,
    /// The signal of `kill`.
    #[serde(default = "kill")]
    signal: String,
    /// Containers per service for `up`.
    #[serde(default)]
    scale: IndexMap<String, u32>,
    /// `up` starts only the named services, not what they link to.
    #[serde(default)]
    no_deps: bool,
    /// `up` pulls images even when they are there.
    #[serde(default)]
    pull: bool,
    /// Seconds `stop` and `restart` wait before killing.
    #[serde(default = "ten")]
    timeout: i32,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Action {
    Pull,
    #[default]
    Up,
    Stop,
    Start,
    Restart,
    Rm,
    Kill,
    Ps,
}

fn kill() -> String {
    "KILL".into()
}

fn ten() -> i32 {
    10
}

/// What happened to one container.
struct Change {
    name: String,
    service: String,
    action: &'static str,
}

impl Compose {
    fn load(&self, cx: &StepContext<'_>) -> Result<Project, HostError> {
        let mut env: HashMap<String, String> = std::env::vars().collect();
        env.extend(cx.environment.iter().cloned());
        let resolve = |p: &str| -> PathBuf {
            if PathBuf::from(p).is_absolute() {
                PathBuf::from(p)
            } else {
                cx.playbook_dir.join(p)
            }
        };
        let files: Vec<PathBuf> = if self.files.is_empty() {
            let dir = resolve(self.project_src.as_deref().unwrap_or("."));
            crate::compose::default_files(&dir, &env)
                .map_err(|e| HostError::Failed(e.render().trim_start_matches("error: ").to_string()))?
        } else {
            self.files.iter().map(|f| resolve(f)).collect()
        };
        let project = crate::compose::load(&files, self.project.as_deref(), &env)
            .map_err(|e| HostError::Failed(e.render().trim_start_matches("error: ").to_string()))?;
        for name in &self.services {
            project
                .service(name)
                .map_err(|e| HostError::Failed(e.render().trim_start_matches("error: ").to_string()))?;
        }
        Ok(project)
    }

    fn selected(&self, project: &Project) -> Vec<String> {
        if self.services.is_empty() {
            project.start_order(&[])
        } else {
            self.services.clone()
        }
    }
}

// Transitional: converted to plan/apply next.
impl Module for Compose {
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        Ok(Plan::Done(self.legacy(cx).await?))
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

impl Compose {
    async fn legacy(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let project = self.load(cx)?;
        let docker = cx.docker().await?;
        let consul = cx.host_consul()?;
        let mut changes: Vec<Change> = Vec::new();
        let mut listing: Vec<Json> = Vec::new();
        match self.action {
            Action::Pull => {
                for name in self.selected(&project) {
                    let service = &project.services[&name];
                    let before = docker.inspect_image(&service.image).await.ok().and_then(|i| i.id);
                    if cx.legacy_check {
                        changes.push(Change {
                            name: service.image.clone(),
                            service: name.clone(),
                            action: "would pull",
                        });
                        continue;
                    }
                    pull(docker, &service.image, cx.progress)
                        .await
                        .map_err(|e| HostError::Failed(format!("service `{name}`: {e}")))?;
                    let after = docker.inspect_image(&service.image).await.ok().and_then(|i| i.id);
                    if before != after {
                        changes.push(Change {
                            name: service.image.clone(),
                            service: name.clone(),
                            action: "pulled",
                        });
                    }
                }
            }
            Action::Up => {
                let order = if self.no_deps {
                    self.selected(&project)
                } else {
                    project.start_order(&self.services)
                };
                if !project.v1 && !cx.legacy_check {
                    ensure_networks(docker, &project).await?;
                }
                let mut created_now: Vec<String> = Vec::new();
                let result = self.up(cx, &project, &order, &mut changes, &mut created_now).await;
                if let Err(e) = result {
                    undo(docker, &created_now).await;
                    return Err(HostError::Failed(format!(
                        "{e} (containers this step created were removed)"
                    )));
                }
                if let (Some(consul), false) = (&consul, cx.legacy_check) {
                    for name in &order {
                        for container in containers(docker, &project, name).await? {
                            if let Some(container_name) = container_name(&container) {
                                registrator::register(
                                    docker,
                                    consul,
                                    cx.host,
                                    &cx.connection.spec.address,
                                    &container_name,
                                )
                                .await?;
                            }
                        }
                    }
                }
            }
            Action::Stop | Action::Start | Action::Restart | Action::Rm | Action::Kill => {
                for name in self.selected(&project) {
                    for container in containers(docker, &project, &name).await? {
                        let Some(container_name) = container_name(&container) else {
                            continue;
                        };
                        let running =
                            container.state.as_ref().map(|s| format!("{s:?}").to_lowercase()) == Some("running".into());
                        let action = match (self.action, running) {
                            (Action::Stop, true) => "stopped",
                            (Action::Start, false) => "started",
                            (Action::Restart, _) => "restarted",
                            (Action::Rm, false) => "removed",
                            (Action::Rm, true) => continue,
                            (Action::Kill, true) => "killed",
                            _ => continue,
                        };
                        if !cx.legacy_check {
                            match self.action {
                                Action::Stop => engine::stop(docker, &container_name, self.timeout).await?,
                                Action::Start => engine::start(docker, &container_name).await?,
                                Action::Restart => {
                                    engine::stop(docker, &container_name, self.timeout).await?;
                                    engine::start(docker, &container_name).await?;
                                }
                                Action::Rm => engine::remove(docker, &container_name).await?,
                                _ => engine::kill(docker, &container_name, &self.signal).await?,
                            }
                            if let Some(consul) = &consul {
                                if matches!(self.action, Action::Start | Action::Restart) {
                                    registrator::register(
                                        docker,
                                        consul,
                                        cx.host,
                                        &cx.connection.spec.address,
                                        &container_name,
                                    )
                                    .await?;
                                } else {
                                    registrator::deregister(consul, cx.host, &container_name).await?;
                                }
                            }
                        }
                        changes.push(Change {
                            name: container_name,
                            service: name.clone(),
                            action: if cx.legacy_check { "would change" } else { action },
                        });
                    }
                }
            }
            Action::Ps => {
                for name in project.services.keys() {
                    for container in containers(docker, &project, name).await? {
                        let ports: Vec<Json> = container
                            .ports
                            .iter()
                            .flatten()
                            .filter(|p| p.public_port.is_some())
                            .map(|p| json!({"host_ip": p.ip, "host_port": p.public_port, "container_port": p.private_port}))
                            .collect();
                        listing.push(json!({
                            "name": container_name(&container),
                            "service": name,
                            "state": container.state.as_ref().map(|s| format!("{s:?}").to_lowercase()),
                            "image": container.image,
                            "ports": ports,
                        }));
                    }
                }
            }
        }
        let summary: Vec<Json> = changes
            .iter()
            .map(|c| json!({"name": c.name, "service": c.service, "action": c.action}))
            .collect();
        let changed = changes.iter().any(|c| c.action != "unchanged");
        let mut outcome = Outcome::changed(changed)
            .with("project", project.name.as_str())
            .with("changes", summary);
        if self.action == Action::Ps {
            outcome = outcome.with("containers", listing);
        }
        Ok(outcome)
    }
}

impl Compose {
    /// `up`: each service in order, each of its containers created, kept, started or recreated.
    async fn up(
        &self,
        cx: &StepContext<'_>,
        project: &Project,
        order: &[String],
        changes: &mut Vec<Change>,
        created_now: &mut Vec<String>,
    ) -> Result<(), HostError> {
        let docker = cx.docker().await?;
        for name in order {
            let service = &project.services[name];
            let scale = self.scale.get(name).copied().unwrap_or(service.scale.max(1) as u32);
            let present = docker.inspect_image(&service.image).await.ok().and_then(|i| i.id);
            let image_id = match (present, cx.legacy_check) {
                (Some(id), _) if !self.pull => id,
                (_, true) => {
                    changes.push(Change {
                        name: service.image.clone(),
                        service: name.clone(),
                        action: "would pull",
                    });
                    String::new()
                }
                _ => {
                    engine::ensure_image(docker, &service.image, true, cx.progress)
                        .await
                        .map_err(|e| HostError::Failed(format!("service `{name}`: {e}")))?
                        .0
                }
            };
            let wanted = project.config_hash(name, &image_id);
            for number in 1..=scale {
                let container = project.container_name(name, number);
                let existing = engine::find(docker, &container).await?;
                let action = match &existing {
                    None => "created",
                    Some(found) if found.labels.get(LABEL_CONFIG_HASH) == Some(&wanted) && !image_id.is_empty() => {
                        if found.running {
                            "unchanged"
                        } else {
                            "started"
                        }
                    }
                    Some(_) => "recreated",
                };
                if cx.legacy_check {
                    changes.push(Change {
                        name: container,
                        service: name.clone(),
                        action: if action == "unchanged" {
                            "unchanged"
                        } else {
                            "would change"
                        },
                    });
                    continue;
                }
                match (action, &existing) {
                    ("started", Some(found)) => engine::start(docker, &found.id).await?,
                    ("recreated", Some(found)) => {
                        engine::stop(docker, &found.id, self.timeout).await?;
                        engine::remove(docker, &found.id).await?;
                        let id = create(docker, project, service, number, &image_id).await?;
                        created_now.push(id.clone());
                        engine::start(docker, &id).await?;
                    }
                    ("created", _) => {
                        let id = create(docker, project, service, number, &image_id).await?;
                        created_now.push(id.clone());
                        engine::start(docker, &id).await?;
                    }
                    _ => {}
                }
                changes.push(Change {
                    name: container,
                    service: name.clone(),
                    action,
                });
            }
        }
        Ok(())
    }
}

fn container_name(container: &bollard::models::ContainerSummary) -> Option<String> {
    container
        .names
        .as_ref()?
        .first()
        .map(|n| n.trim_start_matches('/').to_string())
}
