//! `ctmpl` renders a consul-template file (Go text/template with consul-template's functions)
//! from the host's Consul and writes the result to the host, as
//! `consul-template -template "SRC:DEST" -once` does, only safer. The `template` module hands its
//! `.ctmpl` sources here too.
//!
//! ```yaml
//! - ctmpl:
//!     src: nginx-upstreams-blue.ctmpl      # looked for in templates/, then beside the playbook
//!     dest: /data/nginx/upstreams/books-ms.conf
//!     validate: grep -q server %s          # run on the staged file; %s is its path
//!     allow_empty: false                   # default: no instance in every service is an error
//!     mode: "0644"                         # owner, group, force as for `template`
//!     consul_addr: http://prod:8500        # default: the host's consul_addr, else
//!                                          #   http://<ansible_host>:8500
//!     datacenter: dc1                      # default: the host's consul_datacenter
//!     token: "{{ vault_consul_token }}"    # or token_file; default: consul_token,
//!                                          #   CONSUL_HTTP_TOKEN; never shown in output
//!   notify: reload nginx
//! ```
//!
//! Rendering runs consul-template's loop: render, fetch what the template asked for from Consul
//! (all of one round at once), render again until every lookup is answered. The text is the
//! bytes consul-template writes. It is written only when it differs from the file on the host
//! (so `notify` fires only on a real change), atomically: staged beside the destination (whose
//! folder is created, as consul-template does), checked with `validate` when given, then renamed
//! over it. When the check fails the old file stays and the step fails with the checker's output.
//!
//! A template whose every `service` lookup found no instance is an error naming those services
//! (an nginx `upstream {}` without servers stops nginx from loading); `allow_empty: true` writes
//! it anyway. `env` in a template reads bgrun's environment with the step's `environment` on top.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use serde::Deserialize;

use super::copy::{Put, PutWork, apply_put, plan_put_over};
use super::{Failure, Module, Outcome, Plan, StepContext, find_source};
use crate::consul::{Consul, ConsulSettings};
use crate::ctmpl::{
    Catalog, CatalogService, Dependency, HealthState, KeyPair, Lookup, Node, RenderContext, Rendered, ServiceInstance,
    Snapshot, Template,
};
use crate::source::SourceFile;
use crate::transport::HostError;
use crate::transport::files::{self, Attributes};

/// Rounds of fetching before a template that keeps asking for more is given up on.
const MAX_ROUNDS: usize = 32;

module_arguments! {
[consul, attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ctmpl {
    /// The `.ctmpl` file, looked for in `templates/` first.
    src: String,
    dest: String,
    /// A command run on the staged file before it replaces `dest`; `%s` is the staged path.
    #[serde(default)]
    validate: Option<String>,
    /// Write the file even when every service the template reads has no instance.
    #[serde(default)]
    allow_empty: bool,
    /// When false, an existing destination is left as it is.
    #[serde(default = "super::arguments::yes")]
    force: bool,
}
}

impl Module for Ctmpl {
    type Work = PutWork;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<PutWork>, Failure> {
        let consul = self.consul_settings();
        let path = find_source(cx, "templates", &self.src)?;
        let attrs = self.attributes()?;
        let put = Put {
            force: self.force,
            validate: self.validate,
            create_folder: true,
        };
        plan_template(cx, &path, self.dest, attrs, put, self.allow_empty, &consul).await
    }

    async fn apply(work: PutWork, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        apply_put(work, cx).await?;
        Ok(planned)
    }
}

/// Renders the `.ctmpl` file at `path` from the host's Consul and plans putting it at `dest`;
/// shared with `template`. The Consul token is scrubbed from what is reported.
pub async fn plan_template(
    cx: &StepContext<'_>,
    path: &Path,
    dest: String,
    attrs: Attributes,
    put: Put,
    allow_empty: bool,
    consul: &ConsulSettings,
) -> Result<Plan<PutWork>, Failure> {
    let consul = cx.consul(consul)?;
    let secret = consul.token().map(str::to_string);
    let result = async {
        let template = parse(path)?;
        let context = RenderContext {
            env: Some(environment(cx.environment)),
            ..RenderContext::default()
        };
        let progress = |text: String| (cx.progress)(text);
        // What is at `dest` is read while Consul answers: one round trip less on the way.
        let remote = cx.remote().await?;
        let (rendered, state) = tokio::join!(
            render_from_consul(&template, &consul, &context, &progress),
            files::stat(&remote, &dest)
        );
        let rendered = rendered?;
        if !allow_empty && let Some(message) = rendered.empty_message() {
            return Err(Failure::new(format!("`{}`: {message}", path.display())));
        }
        plan_put_over(cx, dest, state?, rendered.text.into_bytes(), attrs, put).await
    }
    .await;
    match result {
        Ok(Plan::Done(outcome)) => Ok(Plan::Done(outcome.scrub(secret.as_deref()))),
        Ok(Plan::Change(outcome, work)) => Ok(Plan::Change(outcome.scrub(secret.as_deref()), work)),
        Err(failure) => Err(failure.scrub(secret.as_deref())),
    }
}

/// Reads and parses a `.ctmpl` file; errors quote the line at fault.
pub fn parse(path: &Path) -> Result<Template, HostError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| HostError::Failed(format!("cannot read `{}`: {e}", path.display())))?;
    let file = SourceFile::new(path.to_path_buf(), text);
    Template::parse(&file).map_err(|e| {
        let text = e.render();
        HostError::Failed(text.strip_prefix("error: ").unwrap_or(&text).to_string())
    })
}

/// bgrun's environment with the step's `environment` on top, for the template's `env`.
fn environment(step: &[(String, String)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    env.extend(step.iter().cloned());
    env
}

/// A rendered `.ctmpl` file and what its `service` lookups found.
#[derive(Debug, Clone, PartialEq)]
pub struct CtmplText {
    pub text: String,
    /// Every `service` lookup of the final pass: the query and how many instances it returned.
    pub services: Vec<(String, usize)>,
}

impl CtmplText {
    /// The error to give when every `service` lookup found nothing, naming the services.
    pub fn empty_message(&self) -> Option<String> {
        if self.services.is_empty() || self.services.iter().any(|(_, n)| *n > 0) {
            return None;
        }
        let mut names: Vec<&str> = Vec::new();
        for (query, _) in &self.services {
            if !names.contains(&query.as_str()) {
                names.push(query);
            }
        }
        let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        Some(format!(
            "no instance of {} in Consul, so the file would have no servers (an empty nginx upstream stops nginx); \
             register the service first, or set `allow_empty: true` to write it anyway",
            list.join(", ")
        ))
    }
}

/// Renders a template from Consul: render, fetch what it asked for, render again until done.
pub async fn render_from_consul(
    template: &Template,
    consul: &Consul,
    context: &RenderContext,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<CtmplText, HostError> {
    let mut snapshot = Snapshot::new();
    for _ in 0..MAX_ROUNDS {
        let recorder = Recorder {
            snapshot: &snapshot,
            services: Mutex::new(Vec::new()),
        };
        let rendered = template
            .render_with(&recorder, context)
            .map_err(|e| HostError::Failed(e.render().trim_start_matches("error: ").to_string()))?;
        let services = recorder.services.into_inner().unwrap_or_default();
        match rendered {
            Rendered::Done(text) => return Ok(CtmplText { text, services }),
            Rendered::NeedsData(needed) => {
                let needed: Vec<Dependency> = needed.into_iter().filter(|d| !snapshot.knows(d)).collect();
                if needed.is_empty() {
                    break;
                }
                let names: Vec<String> = needed.iter().map(Dependency::to_string).collect();
                progress(format!(
                    "reading {} from Consul at {}",
                    names.join(", "),
                    consul.address()
                ));
                crate::ctmpl::fetch_all(consul, &needed, &mut snapshot)
                    .await
                    .map_err(|e| HostError::Failed(e.0))?;
            }
        }
    }
    Err(HostError::Failed(format!(
        "`{}` kept asking Consul for more data; bgrun stopped after {MAX_ROUNDS} rounds",
        template.file().path.display()
    )))
}

/// A catalog that answers from a snapshot and notes every `service` lookup and its answer.
struct Recorder<'a> {
    snapshot: &'a Snapshot,
    services: Mutex<Vec<(String, usize)>>,
}

/// A `service` query as a template writes it: `tag.name` and its health filter.
fn service_query(name: &str, tag: Option<&str>, states: &[HealthState]) -> String {
    let mut query = match tag {
        Some(tag) => format!("{tag}.{name}"),
        None => name.to_string(),
    };
    if states.len() == HealthState::ALL.len() {
        query.push_str(" (any health)");
    } else if states != [HealthState::Passing] {
        let words: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        query.push_str(&format!(" ({})", words.join(", ")));
    }
    query
}

impl Catalog for Recorder<'_> {
    fn service(&self, name: &str, tag: Option<&str>, states: &[HealthState]) -> Lookup<Vec<ServiceInstance>> {
        let answer = self.snapshot.service(name, tag, states);
        if let (Lookup::Ready(list), Ok(mut seen)) = (&answer, self.services.lock()) {
            seen.push((service_query(name, tag, states), list.len()));
        }
        answer
    }

    fn key(&self, path: &str) -> Lookup<Option<String>> {
        self.snapshot.key(path)
    }

    fn ls(&self, prefix: &str) -> Lookup<Vec<KeyPair>> {
        self.snapshot.ls(prefix)
    }

    fn tree(&self, prefix: &str) -> Lookup<Vec<KeyPair>> {
        self.snapshot.tree(prefix)
    }

    fn services(&self) -> Lookup<Vec<CatalogService>> {
        self.snapshot.services()
    }

    fn nodes(&self) -> Lookup<Vec<Node>> {
        self.snapshot.nodes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_every_service_lookup_found_nothing() {
        let text = |services: Vec<(&str, usize)>| CtmplText {
            text: String::new(),
            services: services.into_iter().map(|(q, n)| (q.to_string(), n)).collect(),
        };
        assert_eq!(text(vec![]).empty_message(), None);
        assert_eq!(text(vec![("a", 0), ("b", 2)]).empty_message(), None);
        let message = text(vec![("books-ms-green (any health)", 0)]).empty_message().unwrap();
        assert!(
            message.starts_with("no instance of `books-ms-green (any health)` in Consul"),
            "{message}"
        );
        assert!(message.contains("allow_empty: true"));
        assert_eq!(service_query("web", Some("blue"), &[HealthState::Passing]), "blue.web");
        assert_eq!(
            service_query("web", None, &[HealthState::Passing, HealthState::Warning]),
            "web (passing, warning)"
        );
    }

    #[test]
    fn rendering_fetches_in_rounds_and_records_service_lookups() {
        let file = SourceFile::new("t.ctmpl", "{{range service \"web\" \"any\"}}{{.Port}} {{end}}");
        let template = Template::parse(&file).unwrap();
        let mut snapshot = Snapshot::new();
        snapshot.set_service("web", Vec::new());
        let recorder = Recorder {
            snapshot: &snapshot,
            services: Mutex::new(Vec::new()),
        };
        assert_eq!(template.render(&recorder).unwrap(), Rendered::Done(String::new()));
        assert_eq!(
            recorder.services.into_inner().unwrap(),
            [("web (any health)".to_string(), 0)]
        );
    }

    #[test]
    fn an_unreachable_consul_is_named() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let file = SourceFile::new("t.ctmpl", "{{key \"a\"}}");
        let template = Template::parse(&file).unwrap();
        let consul = Consul::new("http://127.0.0.1:1", None, None).unwrap();
        let err = runtime
            .block_on(render_from_consul(
                &template,
                &consul,
                &RenderContext::default(),
                &|_| {},
            ))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Consul at http://127.0.0.1:1 does not answer"),
            "{err}"
        );
    }
}
