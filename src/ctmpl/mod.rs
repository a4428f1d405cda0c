//! consul-template's `.ctmpl` files (Go text/template syntax with consul-template's functions),
//! rendered by bgrun to the bytes consul-template writes, from Consul data.
//!
//! Rendering is a loop, as in consul-template: [`Template::render`] walks the template against a
//! [`Catalog`]; every lookup the catalog cannot answer yet is collected and rendering goes on with
//! empty values. The result is either [`Rendered::Done`] with the text, or
//! [`Rendered::NeedsData`] with what to fetch from Consul (into a [`Snapshot`]) before rendering
//! again. Nested lookups such as `{{range services}}{{range service .Name}}` take one more round
//! (the unit test `two_rounds_as_documented` runs this):
//!
//! ```text
//! let file = SourceFile::new("up.ctmpl", "{{range service \"web\"}}{{.Address}}:{{.Port}} {{end}}");
//! let template = Template::parse(&file).unwrap();
//! let mut snapshot = Snapshot::new();
//! let Ok(Rendered::NeedsData(deps)) = template.render(&snapshot) else { unreachable!() };
//! assert_eq!(deps, [Dependency::Service { name: "web".into(), tag: None, states: vec![HealthState::Passing] }]);
//! let web = ServiceInstance { address: "10.0.0.5".into(), port: 8080, ..Default::default() };
//! snapshot.set_service("web", vec![web]);
//! assert_eq!(template.render(&snapshot).unwrap(), Rendered::Done("10.0.0.5:8080 ".into()));
//! ```

mod catalog;
mod exec;
mod fetch;
mod funcs;
mod gotime;
mod lex;
mod parse;
mod printf;
mod value;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

pub use catalog::{Catalog, CatalogService, Dependency, HealthState, KeyPair, Lookup, Node, ServiceInstance, Snapshot};
pub use fetch::{fetch, fetch_all};

use crate::error::Error;
use crate::source::{SourceFile, Span};

/// A parsed `.ctmpl` file.
#[derive(Debug, Clone)]
pub struct Template {
    file: Arc<SourceFile>,
    name: String,
    parsed: parse::Parsed,
}

/// The outcome of one rendering pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// Every lookup was answered: the file's new contents.
    Done(String),
    /// These lookups were not answered (each once, in the order the template made them): fetch
    /// them and render again.
    NeedsData(Vec<Dependency>),
}

/// What a rendering pass reads besides Consul: the clock (`timestamp`) and the environment
/// (`env`).
#[derive(Debug, Clone)]
pub struct RenderContext {
    pub now: SystemTime,
    /// Variables `env` reads; `None` reads the process environment.
    pub env: Option<HashMap<String, String>>,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext {
            now: SystemTime::now(),
            env: None,
        }
    }
}

impl RenderContext {
    /// The value of an environment variable, `None` when unset.
    pub fn env(&self, name: &str) -> Option<String> {
        match &self.env {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        }
    }
}

/// A template that parsed but failed while rendering (a function given the wrong kind of value,
/// a field that does not exist, ...), at the action that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{span}: {message}")]
pub struct RenderError {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

impl RenderError {
    /// The whole message with the quoted line and the suggestion, as bgrun prints errors.
    pub fn render(&self) -> String {
        Error::from(self.clone()).render()
    }
}

impl From<RenderError> for Error {
    fn from(e: RenderError) -> Self {
        let error = Error::invalid(e.span, e.message);
        match e.help {
            Some(help) => error.with_help(help),
            None => error,
        }
    }
}

/// The `file:line:col` of a byte offset.
fn span_at(file: &Arc<SourceFile>, pos: usize) -> Span {
    let text = &file.text;
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    Span::new(file, line, col)
}

impl Template {
    /// Parses a `.ctmpl` file; errors point at the action at fault and say how to fix it.
    pub fn parse(file: &Arc<SourceFile>) -> Result<Template, Error> {
        let parsed = parse::parse(&file.text).map_err(|e| {
            let error = Error::invalid(span_at(file, e.pos), e.message);
            match e.help {
                Some(help) => error.with_help(help),
                None => error,
            }
        })?;
        let name = Path::new(&file.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Template {
            file: Arc::clone(file),
            name,
            parsed,
        })
    }

    pub fn file(&self) -> &Arc<SourceFile> {
        &self.file
    }

    /// One rendering pass with the real clock and process environment.
    #[cfg(test)]
    pub fn render(&self, catalog: &dyn Catalog) -> Result<Rendered, RenderError> {
        self.render_with(catalog, &RenderContext::default())
    }

    /// One rendering pass.
    pub fn render_with(&self, catalog: &dyn Catalog, ctx: &RenderContext) -> Result<Rendered, RenderError> {
        let mut exec = exec::Exec::new(&self.parsed, &self.name, catalog, ctx);
        exec.run().map_err(|e| RenderError {
            span: span_at(&self.file, e.pos),
            message: e.message,
            help: e.help,
        })?;
        if exec.missing.is_empty() {
            Ok(Rendered::Done(exec.out))
        } else {
            Ok(Rendered::NeedsData(exec.missing.into_iter().collect()))
        }
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rendered::Done(text) => f.write_str(text),
            Rendered::NeedsData(deps) => {
                let names: Vec<String> = deps.iter().map(Dependency::to_string).collect();
                write!(f, "needs {}", names.join(", "))
            }
        }
    }
}
