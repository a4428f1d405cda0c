//! `template` renders a Jinja2 file of the playbook's (from `templates/`) with the host's variables
//! and puts the result on the host, as `copy` does. A `.ctmpl` source is a consul-template file,
//! rendered from the host's Consul by the `ctmpl` module's code.

use serde::Deserialize;
use serde_json::Value as Json;

use super::copy::{Put, put_file};
use super::{Failure, Module, Outcome, Plan, StepContext, find_source, parse_mode};
use crate::transport::HostError;
use crate::transport::files::Attributes;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    src: String,
    dest: String,
    #[serde(default)]
    mode: Json,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    group: Option<String>,
    /// A command that checks the new file before it replaces the old one; `%s` stands for it.
    #[serde(default)]
    validate: Option<String>,
    #[serde(default = "yes")]
    force: bool,
}

fn yes() -> bool {
    true
}

// Transitional: converted to plan/apply next.
impl Module for Template {
    type Work = std::convert::Infallible;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Self::Work>, Failure> {
        Ok(Plan::Done(self.legacy(cx).await?))
    }

    async fn apply(work: Self::Work, _: Outcome, _: &StepContext<'_>) -> Result<Outcome, Failure> {
        match work {}
    }
}

impl Template {
    async fn legacy(self, cx: &StepContext<'_>) -> Result<Outcome, HostError> {
        let path = find_source(cx, "templates", &self.src)?;
        if path.extension().is_some_and(|e| e == "ctmpl") {
            let attrs = Attributes {
                mode: parse_mode(&self.mode)?,
                owner: self.owner,
                group: self.group,
            };
            let options = super::ctmpl::Options {
                force: self.force,
                validate: self.validate.clone(),
                ..Default::default()
            };
            return super::ctmpl::put_template(cx, &path, &self.dest, &attrs, &options).await;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| HostError::Failed(format!("cannot read `{}`: {e}", path.display())))?;
        let rendered = cx
            .templar
            .render_file(&path, &text, cx.scope)
            .map_err(|e| HostError::Failed(e.0))?;
        let attrs = Attributes {
            mode: parse_mode(&self.mode)?,
            owner: self.owner,
            group: self.group,
        };
        put_file(
            cx,
            &self.dest,
            rendered.as_bytes(),
            &attrs,
            Put {
                force: self.force,
                validate: self.validate.as_deref(),
                create_folder: false,
            },
        )
        .await
    }
}
