//! `bgrun render TEMPLATE --host HOST -i INVENTORY`: what a template renders to on one host of an
//! inventory, without writing anything (consul-template's `-dry`). A `.ctmpl` file is rendered as
//! consul-template renders it, from the host's Consul; any other file is a Jinja2 template
//! rendered with the host's variables, Consul lookups included.

use std::path::Path;
use std::sync::Arc;

use crate::cli::RenderArgs;
use crate::consul::{Consul, ConsulSettings};
use crate::ctmpl::{RenderContext, Template};
use crate::error::{Error, suggest};
use crate::inventory::Inventory;
use crate::modules::ctmpl::render_from_consul;
use crate::source::SourceFile;
use crate::template::{Scope, Templar, Vars};

/// `bgrun render`: prints what the template renders to on the host.
pub async fn command(args: &RenderArgs) -> Result<i32, Error> {
    let sources = super::inventory_sources(&args.inventory);
    let text = render(&args.template, &sources, &args.host).await?;
    print!("{text}");
    Ok(crate::run::EXIT_OK)
}

/// Renders `template` for `host` of the inventory loaded from `inventory` (the `-i` sources, in
/// order) and returns the text, exactly as it would be written.
pub async fn render(template: &Path, inventory: &[String], host: &str) -> Result<String, Error> {
    if inventory.is_empty() {
        return Err(Error::usage("`bgrun render` needs an inventory").with_help("give one with `-i INVENTORY`"));
    }
    let inventory = Inventory::load(inventory, None)?;
    let vars = host_vars(&inventory, host)?;
    render_with_vars(template, host, vars).await
}

/// A host's variables as a step sees them before any play: the inventory's, with the magic
/// variables `inventory_hostname`, `inventory_hostname_short`, `group_names` and `groups`.
pub fn host_vars(inventory: &Inventory, host: &str) -> Result<Vars, Error> {
    if inventory.host(host).is_none() && host != "localhost" {
        let names: Vec<String> = inventory.hosts().map(|h| h.name.clone()).collect();
        let error = Error::usage(format!("no host `{host}` in the inventory"));
        return Err(match suggest(host, names.iter().map(String::as_str)) {
            Some(name) => error.with_help(format!("did you mean `{name}`?")),
            None => error.with_help(format!("the inventory's hosts: {}", names.join(", "))),
        });
    }
    Ok(crate::exec::inventory_vars(inventory, host))
}

/// Renders `template` with a host's variables.
pub async fn render_with_vars(template: &Path, host: &str, vars: Vars) -> Result<String, Error> {
    let text = std::fs::read_to_string(template).map_err(|source| Error::Read {
        path: template.to_path_buf(),
        source,
    })?;
    let templar = Templar::new();
    let scope = Scope::new(&templar, vars);
    if template.extension().is_some_and(|e| e == "ctmpl") {
        return render_ctmpl(template, text, host, &scope).await;
    }
    templar
        .render_file(template, &text, &scope)
        .map_err(|e| Error::usage(format!("on `{host}`: {e}")))
}

async fn render_ctmpl(path: &Path, text: String, host: &str, scope: &Scope) -> Result<String, Error> {
    let file: Arc<SourceFile> = SourceFile::new(path.to_path_buf(), text);
    let template = Template::parse(&file)?;
    let var = |name: &str| scope.resolve(name).ok().flatten().map(|v| crate::yaml::scalar_text(&v));
    let consul = Consul::for_host(host, &var, &ConsulSettings::default()).map_err(|e| Error::usage(e.0))?;
    let rendered = render_from_consul(&template, &consul, &RenderContext::default(), &|_| {})
        .await
        .map_err(|e| Error::usage(format!("`{}` on `{host}`: {e}", path.display())))?;
    Ok(rendered.text)
}
