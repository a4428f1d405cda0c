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

impl Module for Compose {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let project = self.load(cx)?;
        let docker = cx.docker().await?;
        let mut changes: Vec<Change> = Vec::new();
        let steps = match self.action {
            Action::Pull => {
                let mut pulls = Vec::new();
                for name in self.selected(&project) {
                    let image = project.services[&name].image.clone();
                    changes.push(Change::new(&image, &name, "would pull"));
                    pulls.push(name);
                }
                Steps::Pull(pulls)
            }
            Action::Up => {
                let order = if self.no_deps {
                    self.selected(&project)
                } else {
                    project.start_order(&self.services)
                };
                let mut services = Vec::new();
                for name in &order {
                    let service = &project.services[name];
                    let present = docker.inspect_image(&service.image).await.ok().and_then(|i| i.id);
                    let image_id = present.filter(|_| !self.pull);
                    if image_id.is_none() {
                        changes.push(Change::new(&service.image, name, "would pull"));
                    }
                    let containers = self.decide(cx, &project, name, image_id.as_deref()).await?;
                    for (_, container, decision) in &containers {
                        let action = if image_id.is_some() {
                            decision.action()
                        } else {
                            "would change"
                        };
                        changes.push(Change::new(container, name, action));
                    }
                    services.push(ServiceUp {
                        name: name.clone(),
                        image_id,
                        containers,
                    });
                }
                Steps::Up(services)
            }
            Action::Stop | Action::Start | Action::Restart | Action::Rm | Action::Kill => {
                let mut acts = Vec::new();
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
                        changes.push(Change::new(&container_name, &name, action));
                        acts.push((container_name, name.clone()));
                    }
                }
                Steps::Act(acts)
            }
            Action::Ps => {
                let mut listing: Vec<Json> = Vec::new();
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
                return Ok(Plan::Done(report(&project, &changes).with("containers", listing)));
            }
        };
        let planned = report(&project, &changes);
        // An `up` that changes nothing still registers its containers in the host's Consul.
        let registers = self.action == Action::Up && cx.host_consul()?.is_some();
        if !planned.changed && !registers {
            return Ok(Plan::Done(planned));
        }
        Ok(Plan::Change(
            planned,
            Work {
                this: self,
                project,
                steps,
            },
        ))
    }

    async fn apply(work: Work, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let Work { this, project, steps } = work;
        let docker = cx.docker().await?;
        let consul = cx.host_consul()?;
        let mut changes: Vec<Change> = Vec::new();
        match steps {
            Steps::Pull(names) => {
                for name in names {
                    let service = &project.services[&name];
                    let before = docker.inspect_image(&service.image).await.ok().and_then(|i| i.id);
                    pull(docker, &service.image, cx.progress)
                        .await
                        .map_err(|e| Failure::new(format!("service `{name}`: {e}")))?;
                    let after = docker.inspect_image(&service.image).await.ok().and_then(|i| i.id);
                    if before != after {
                        changes.push(Change::new(&service.image, &name, "pulled"));
                    }
                }
            }
            Steps::Up(services) => {
                if !project.v1 {
                    ensure_networks(docker, &project).await?;
                }
                let mut created_now: Vec<String> = Vec::new();
                let result = this.up(cx, &project, &services, &mut changes, &mut created_now).await;
                if let Err(e) = result {
                    undo(docker, &created_now).await;
                    return Err(Failure::new(format!("{e} (containers this step created were removed)")));
                }
                if let Some(consul) = &consul {
                    for service in &services {
                        for container in containers(docker, &project, &service.name).await? {
                            if let Some(container_name) = container_name(&container) {
                                cx.sync_registration(consul, &container_name, true).await?;
                            }
                        }
                    }
                }
            }
            Steps::Act(names) => {
                for (container_name, service) in names {
                    let action = match this.action {
                        Action::Stop => {
                            engine::stop(docker, &container_name, this.timeout).await?;
                            "stopped"
                        }
                        Action::Start => {
                            engine::start(docker, &container_name).await?;
                            "started"
                        }
                        Action::Restart => {
                            engine::stop(docker, &container_name, this.timeout).await?;
                            engine::start(docker, &container_name).await?;
                            "restarted"
                        }
                        Action::Rm => {
                            engine::remove(docker, &container_name).await?;
                            "removed"
                        }
                        _ => {
                            engine::kill(docker, &container_name, &this.signal).await?;
                            "killed"
                        }
                    };
                    if let Some(consul) = &consul {
                        let running = matches!(this.action, Action::Start | Action::Restart);
                        cx.sync_registration(consul, &container_name, running).await?;
                    }
                    changes.push(Change::new(&container_name, &service, action));
                }
            }
        }
        Ok(report(&project, &changes))
    }
}
impl Compose {
    /// What `up` does with each container of service `name`, given the image it should run
    /// (`None` until it is pulled: then every container that exists counts as recreated).
    async fn decide(
        &self,
        cx: &StepContext<'_>,
        project: &Project,
        name: &str,
        image_id: Option<&str>,
    ) -> Result<Vec<(u32, String, Decision)>, HostError> {
        let docker = cx.docker().await?;
        let service = &project.services[name];
        let scale = self.scale.get(name).copied().unwrap_or(service.scale.max(1) as u32);
        let wanted = image_id.map(|id| project.config_hash(name, id));
        let mut decisions = Vec::new();
        for number in 1..=scale {
            let container = project.container_name(name, number);
            let decision = match engine::find(docker, &container).await? {
                None => Decision::Create,
                Some(found) if wanted.is_some() && found.labels.get(LABEL_CONFIG_HASH) == wanted.as_ref() => {
                    if found.running {
                        Decision::Keep
                    } else {
                        Decision::Start(found.id)
                    }
                }
                Some(found) => Decision::Recreate(found.id),
            };
            decisions.push((number, container, decision));
        }
        Ok(decisions)
    }

    /// `up`: each service in order, its image pulled if the plan said so, then each of its
    /// containers created, kept, started or recreated.
    async fn up(
        &self,
        cx: &StepContext<'_>,
        project: &Project,
        services: &[ServiceUp],
        changes: &mut Vec<Change>,
        created_now: &mut Vec<String>,
    ) -> Result<(), HostError> {
        let docker = cx.docker().await?;
        for planned in services {
            let name = &planned.name;
            let service = &project.services[name];
            let (image_id, containers) = match &planned.image_id {
                Some(id) => (id.clone(), planned.containers.clone()),
                None => {
                    let (id, _) = engine::ensure_image(docker, &service.image, true, cx.progress)
                        .await
                        .map_err(|e| HostError::Failed(format!("service `{name}`: {e}")))?;
                    let containers = self.decide(cx, project, name, Some(&id)).await?;
                    (id, containers)
                }
            };
            for (number, container, decision) in containers {
                match &decision {
                    Decision::Keep => {}
                    Decision::Start(id) => engine::start(docker, id).await?,
                    Decision::Recreate(old) => {
                        engine::stop(docker, old, self.timeout).await?;
                        engine::remove(docker, old).await?;
                        let id = create(docker, project, service, number, &image_id).await?;
                        created_now.push(id.clone());
                        engine::start(docker, &id).await?;
                    }
                    Decision::Create => {
                        let id = create(docker, project, service, number, &image_id).await?;
                        created_now.push(id.clone());
                        engine::start(docker, &id).await?;
                    }
                }
                changes.push(Change::new(&container, name, decision.action()));
            }
        }
        Ok(())
    }
}

/// What a `compose` step does, as its plan found.
pub struct Work {
    this: Compose,
    project: Project,
    steps: Steps,
}

enum Steps {
    /// The services whose images are pulled.
    Pull(Vec<String>),
    Up(Vec<ServiceUp>),
    /// The containers (and their services) that are stopped, started, restarted, removed or
    /// killed.
    Act(Vec<(String, String)>),
}

/// One service of an `up`: the image its containers run (`None`: pulled first) and what is
/// done with each container (number, name, decision).
struct ServiceUp {
    name: String,
    image_id: Option<String>,
    containers: Vec<(u32, String, Decision)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Create,
    Keep,
    Start(String),
    Recreate(String),
}

impl Decision {
    fn action(&self) -> &'static str {
        match self {
            Decision::Create => "created",
            Decision::Keep => "unchanged",
            Decision::Start(_) => "started",
            Decision::Recreate(_) => "recreated",
        }
    }
}

impl Change {
    fn new(name: &str, service: &str, action: &'static str) -> Self {
        Change {
            name: name.to_string(),
            service: service.to_string(),
            action,
        }
    }
}

/// The step's result: the project and what happened to each container or image.
fn report(project: &Project, changes: &[Change]) -> Outcome {
    let summary: Vec<Json> = changes
        .iter()
        .map(|c| json!({"name": c.name, "service": c.service, "action": c.action}))
        .collect();
    Outcome::changed(changes.iter().any(|c| c.action != "unchanged"))
        .with("project", project.name.as_str())
        .with("changes", summary)
}

fn container_name(container: &bollard::models::ContainerSummary) -> Option<String> {
    container
        .names
        .as_ref()?
        .first()
        .map(|n| n.trim_start_matches('/').to_string())
}
