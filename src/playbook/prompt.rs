//! `vars_prompt`: a play's variables asked for when the run starts, unless given with `-e`. On a
//! terminal bgrun asks; without one, a prompt's `default` answers, and a prompt with neither is
//! an error that names the variable.

use std::io::IsTerminal;

use serde::Deserialize;
use serde_json::Value as Json;

use super::Playbook;
use super::raw::{Text, read};
use crate::error::Error;
use crate::source::Span;
use crate::template::Vars;
use crate::yaml::Node;

/// One `vars_prompt` entry.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub name: String,
    pub prompt: String,
    pub default: Option<Json>,
    /// Not echoed while typed (Ansible's default).
    pub private: bool,
    /// Typed twice, which must agree.
    pub confirm: bool,
    /// The answer is never templated.
    pub unsafe_answer: bool,
    pub span: Span,
}

#[derive(Deserialize)]
#[serde(rename = "a `vars_prompt` entry", deny_unknown_fields)]
struct RawPrompt {
    name: Option<Text>,
    prompt: Option<Text>,
    default: Option<Json>,
    private: Option<bool>,
    confirm: Option<bool>,
    #[serde(rename = "unsafe")]
    unsafe_answer: Option<bool>,
}

/// Reads a play's `vars_prompt` list.
pub fn prompts(node: &Node) -> Result<Vec<Prompt>, Error> {
    let Some(items) = node.as_seq() else {
        return Err(node
            .error(format!(
                "`vars_prompt` is a list of prompts, but this is {}",
                node.kind()
            ))
            .with_help("write `vars_prompt: [{name: user, prompt: \"User?\"}]`"));
    };
    items
        .iter()
        .map(|item| {
            if item.get("encrypt").is_some() {
                return Err(item
                    .error("bgrun does not hash answers: `encrypt` in `vars_prompt` is not supported")
                    .with_help("hash the value in a template with `password_hash`, or give it hashed with `-e`"));
            }
            let raw: RawPrompt = read(item, None)?;
            let name = raw
                .name
                .ok_or_else(|| item.error("a `vars_prompt` entry needs the variable's `name`"))?
                .0;
            Ok(Prompt {
                prompt: raw.prompt.map_or_else(|| name.clone(), |t| t.0),
                name,
                default: raw.default,
                private: raw.private.unwrap_or(true),
                confirm: raw.confirm.unwrap_or(false),
                unsafe_answer: raw.unsafe_answer.unwrap_or(false),
                span: item.span.clone(),
            })
        })
        .collect()
}

/// Gives each play the answers to its prompts as play variables; a variable given with `-e` is
/// not asked for.
pub fn answer(book: &mut Playbook, extra_vars: &Vars) -> Result<(), Error> {
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    for play in &mut book.plays {
        for prompt in &play.vars_prompt {
            if extra_vars.contains_key(&prompt.name) {
                continue;
            }
            let answer = if terminal {
                ask(prompt)?
            } else {
                match &prompt.default {
                    Some(default) => default.clone(),
                    None => {
                        return Err(Error::invalid(
                            prompt.span.clone(),
                            format!(
                                "`vars_prompt` asks for `{}`, but there is no terminal to ask on",
                                prompt.name
                            ),
                        )
                        .with_help(format!(
                            "give it on the command line with `-e {}=...`, or give the prompt a `default`",
                            prompt.name
                        )));
                    }
                }
            };
            play.vars.insert(prompt.name.clone(), answer);
        }
    }
    Ok(())
}

/// Asks on the terminal; an empty answer is the default.
fn ask(prompt: &Prompt) -> Result<Json, Error> {
    let term = console::Term::stderr();
    let read = |label: &str| -> Result<String, Error> {
        let shown = match &prompt.default {
            Some(default) if !prompt.private => format!("{label} [{}]: ", crate::yaml::scalar_text(default)),
            _ => format!("{label}: "),
        };
        term.write_str(&shown)
            .and_then(|()| {
                if prompt.private {
                    term.read_secure_line()
                } else {
                    term.read_line()
                }
            })
            .map_err(|e| Error::usage(format!("cannot read the answer for `{}`: {e}", prompt.name)))
    };
    let mut answer = read(&prompt.prompt)?;
    if prompt.confirm {
        let again = read(&format!("confirm {}", prompt.prompt))?;
        if again != answer {
            return Err(Error::usage(format!("the answers for `{}` do not match", prompt.name)));
        }
    }
    if answer.is_empty()
        && let Some(default) = &prompt.default
    {
        return Ok(default.clone());
    }
    if prompt.unsafe_answer {
        answer = crate::yaml::protect_text(&answer);
    }
    Ok(Json::String(answer))
}
