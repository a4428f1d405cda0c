//! `template` renders a Jinja2 file of the playbook's (from `templates/`) with the host's variables
//! and puts the result on the host, as `copy` does. A `.ctmpl` source is a consul-template file,
//! rendered from the host's Consul by the `ctmpl` module's code.

use serde::Deserialize;

use super::copy::{Put, PutWork, apply_put, plan_put};
use super::{Failure, Module, Outcome, Plan, StepContext, find_source};
use crate::consul::ConsulSettings;

module_arguments! {
[attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    src: String,
    dest: String,
    /// A command that checks the new file before it replaces the old one; `%s` stands for it.
    #[serde(default)]
    validate: Option<String>,
    #[serde(default = "super::arguments::yes")]
    force: bool,
}
}

impl Module for Template {
    type Work = PutWork;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<PutWork>, Failure> {
        let path = find_source(cx, "templates", &self.src)?;
        if path.is_dir() {
            // Ansible's own refusal: it renders one file.
            let path = std::path::absolute(&path).unwrap_or(path);
            let shown = format!("{}{}", path.display(), if self.src.ends_with('/') { "/" } else { "" });
            return Err(Failure::new(format!(
                "could not find src={shown}, Could not find or access '{shown}' on the Ansible Controller.\n\
                 If you are using a module and expect the file to exist on the remote, see the remote_src option\n\
                 (`template` renders one file: for a folder of templates, give one step per file, \
                 or loop over the file names with `src: DIR/` and the item)"
            )));
        }
        let attrs = self.attributes()?;
        let put = Put {
            force: self.force,
            validate: self.validate,
            create_folder: false,
        };
        if path.extension().is_some_and(|e| e == "ctmpl") {
            let consul = ConsulSettings::default();
            return super::ctmpl::plan_template(cx, &path, self.dest, attrs, put, false, &consul).await;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::new(format!("cannot read `{}`: {e}", path.display())))?;
        let rendered = cx
            .templar
            .render_file(&path, &text, cx.scope)
            .map_err(|e| Failure::new(e.0))?;
        plan_put(cx, self.dest, rendered.into_bytes(), attrs, put).await
    }

    async fn apply(work: PutWork, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        apply_put(work, cx).await?;
        Ok(planned)
    }
}
