//! User-facing errors for bad input: each names the thing, points at `file:line:col` and, where it
//! can, suggests the fix. The text lives only in `Display` and [`Error::render`].

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::source::Span;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{span}: invalid YAML: {message}")]
    Yaml { span: Span, message: String },

    #[error("{span}: {message}")]
    Invalid {
        span: Span,
        message: String,
        help: Option<String>,
    },

    #[error("{span}: unknown key `{key}` in {context}")]
    UnknownKey {
        span: Span,
        key: String,
        context: String,
        suggestion: Option<String>,
    },

    #[error("{span}: unknown module `{name}`")]
    UnknownModule {
        span: Span,
        name: String,
        suggestion: Option<String>,
    },

    #[error("{span}: unknown argument `{argument}` for module `{module}`")]
    UnknownArgument {
        span: Span,
        module: String,
        argument: String,
        suggestion: Option<String>,
    },

    #[error("{span}: step `{step}` needs `{id}`, but no step of this play has that id")]
    UnknownId {
        span: Span,
        step: String,
        id: String,
        suggestion: Option<String>,
    },

    #[error("dependency cycle between steps: {}", cycle_path(.steps))]
    Cycle { steps: Vec<(String, Span)> },

    #[error("{span}: in step `{step}`: {message}")]
    Template { span: Span, step: String, message: String },

    #[error("cannot read `{}`: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },

    #[error("{message}")]
    Usage { message: String, help: Option<String> },
}

fn cycle_path(steps: &[(String, Span)]) -> String {
    let mut names: Vec<String> = steps.iter().map(|(name, _)| format!("`{name}`")).collect();
    if let Some(first) = names.first().cloned() {
        names.push(first);
    }
    names.join(" -> ")
}

impl Error {
    pub fn yaml(span: Span, message: impl Into<String>) -> Self {
        Error::Yaml {
            span,
            message: message.into(),
        }
    }

    pub fn invalid(span: Span, message: impl Into<String>) -> Self {
        Error::Invalid {
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: None,
        }
    }

    /// Adds a suggestion shown under the message.
    pub fn with_help(self, text: impl Into<String>) -> Self {
        match self {
            Error::Invalid { span, message, .. } => Error::Invalid {
                span,
                message,
                help: Some(text.into()),
            },
            Error::Usage { message, .. } => Error::Usage {
                message,
                help: Some(text.into()),
            },
            other => other,
        }
    }

    fn span(&self) -> Option<&Span> {
        match self {
            Error::Yaml { span, .. }
            | Error::Invalid { span, .. }
            | Error::UnknownKey { span, .. }
            | Error::UnknownModule { span, .. }
            | Error::UnknownArgument { span, .. }
            | Error::UnknownId { span, .. }
            | Error::Template { span, .. } => Some(span),
            Error::Cycle { .. } | Error::Read { .. } | Error::Usage { .. } => None,
        }
    }

    fn help(&self) -> Option<String> {
        let did_you_mean = |s: &Option<String>| s.as_ref().map(|s| format!("did you mean `{s}`?"));
        match self {
            Error::Invalid { help, .. } | Error::Usage { help, .. } => help.clone(),
            Error::UnknownKey { suggestion, .. } | Error::UnknownArgument { suggestion, .. } => {
                did_you_mean(suggestion)
            }
            Error::UnknownModule { suggestion, .. } => did_you_mean(suggestion)
                .or_else(|| Some("run `bgrun --list-modules` to see the modules bgrun has".into())),
            Error::UnknownId { suggestion, .. } => did_you_mean(suggestion),
            Error::Cycle { .. } => Some("remove one of these `needs` so the steps can run in an order".into()),
            Error::Template { .. } => Some("define the variable, or give it a fallback with `| default(...)`".into())
                .filter(|_| self.to_string().contains("undefined")),
            Error::Yaml { .. } | Error::Read { .. } => None,
        }
    }

    /// The whole message: the line, the quoted source with a caret, and the suggestion.
    pub fn render(&self) -> String {
        let mut out = format!("error: {self}");
        if let Some(span) = self.span() {
            let snippet = span.snippet();
            if !snippet.is_empty() {
                let _ = write!(out, "\n{snippet}");
            }
        }
        if let Error::Cycle { steps } = self {
            for (name, span) in steps {
                let _ = write!(out, "\n  `{name}` at {span}");
            }
        }
        if let Some(help) = self.help() {
            let _ = write!(out, "\nhelp: {help}");
        }
        out
    }
}

/// The closest candidate to a misspelled name, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(distance, c)| {
            *distance <= (name.len().max(c.len()) / 3).max(1) || c.starts_with(name) && name.len() >= 3
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("comand", ["command", "copy", "shell"]), Some("command".into()));
        assert_eq!(suggest("xyz", ["command", "copy"]), None);
        assert_eq!(suggest("deploi", ["deploy", "test"]), Some("deploy".into()));
    }
}
