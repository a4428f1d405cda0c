//! Plays, `import_playbook` entries, steps and role entries as written: typed structs read from
//! the YAML tree by [`crate::yaml::de`], whose fields are the keywords each one takes. The loader
//! turns them into the model of [`super`].

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, Visitor};
use serde_json::Value as Json;

use super::{Batch, Privilege};
use crate::error::Error;
use crate::template::Vars;
use crate::yaml::de::{End, from_node};
use crate::yaml::{Node, Spanned, scalar_text};

/// Ansible keywords bgrun knows of but does not have; naming them beats calling them typos.
pub const NOT_SUPPORTED: &[&str] = &[
    "any_errors_fatal",
    "apply",
    "collections",
    "connection",
    "debugger",
    "defaults_from",
    // Loops, where a step that neither runs a module nor includes has one (a block, `meta`).
    "loop",
    "loop_control",
    "order",
    "port",
    "strategy",
    "vars_from",
    "with_dict",
    "with_items",
    "with_list",
];

/// Reads `node` as a `T`; `context` renames what errors call the mapping. An unknown key that is
/// an Ansible keyword bgrun does not support says so.
pub fn read<'de, T: Deserialize<'de>>(node: &'de Node, context: Option<&str>) -> Result<T, Error> {
    from_node(node).map_err(|e| match e {
        Error::UnknownKey {
            span,
            key,
            context: own,
            suggestion,
        } => {
            let context = context.map_or(own, str::to_string);
            if NOT_SUPPORTED.contains(&key.as_str()) {
                unsupported(span, &key, &context)
            } else {
                Error::UnknownKey {
                    span,
                    key,
                    context,
                    suggestion,
                }
            }
        }
        other => other,
    })
}

/// "bgrun knows of `key` but does not support it".
pub fn unsupported(span: crate::source::Span, key: &str, context: &str) -> Error {
    let help = match key {
        "any_errors_fatal" => "bgrun has `any_errors_fatal` on plays: set it on the play",
        _ => "see the compatibility table in bgrun's README",
    };
    Error::invalid(
        span,
        format!("`{key}` is an Ansible keyword that bgrun does not support in {context}"),
    )
    .with_help(help)
}

/// A play.
#[derive(Deserialize)]
#[serde(rename = "a play")]
pub struct Play {
    pub name: Option<Text>,
    pub hosts: Option<Hosts>,
    pub gather_facts: Option<bool>,
    pub vars: Option<Vars>,
    pub vars_files: Option<Spanned<Strings>>,
    pub pre_tasks: Option<Node>,
    pub roles: Option<Vec<Node>>,
    pub steps: Option<Node>,
    pub tasks: Option<Node>,
    pub post_tasks: Option<Node>,
    pub handlers: Option<Node>,
    pub serial: Option<Serial>,
    pub any_errors_fatal: Option<bool>,
    pub max_fail_percentage: Option<Spanned<Json>>,
    pub force_handlers: Option<bool>,
    pub strategy: Option<Spanned<Json>>,
    pub connection: Option<Spanned<Json>>,
    pub environment: Option<Json>,
    pub remote_user: Option<Text>,
    pub check_mode: Option<Json>,
    pub diff: Option<Json>,
    pub module_defaults: Option<Node>,
    pub vars_prompt: Option<Node>,
    #[serde(default)]
    pub tags: Strings,
    #[serde(rename = "$rest")]
    pub privilege: Become,
}

/// An `import_playbook` entry (`include` is its old name).
#[derive(Deserialize)]
#[serde(rename = "an import_playbook", deny_unknown_fields)]
pub struct Import {
    pub import_playbook: Option<Node>,
    pub include: Option<Node>,
    /// A label for people; bgrun shows the imported plays' own names.
    #[serde(rename = "name")]
    _name: Option<IgnoredAny>,
    #[serde(default)]
    pub tags: Strings,
    pub vars: Option<Vars>,
    #[serde(default)]
    pub when: Conditions,
}

/// The keywords of every kind of step, and `K`, what the kind adds.
#[derive(Default, Deserialize)]
#[serde(rename = "$step")]
pub struct StepKeys<K> {
    pub id: Option<Text>,
    pub name: Option<Text>,
    pub needs: Option<Spanned<Needs>>,
    pub vars: Option<Vars>,
    #[serde(default)]
    pub when: Conditions,
    #[serde(default)]
    pub tags: Strings,
    pub environment: Option<Json>,
    pub ignore_errors: Option<Json>,
    pub no_log: Option<bool>,
    pub run_once: Option<bool>,
    pub delegate_to: Option<Text>,
    pub remote_user: Option<Text>,
    pub throttle: Option<Throttle>,
    pub check_mode: Option<Json>,
    pub diff: Option<Json>,
    pub delegate_facts: Option<Json>,
    pub module_defaults: Option<Node>,
    #[serde(rename = "$rest")]
    pub privilege: Become<K>,
}

/// `become`, `become_user`, `become_method` and the older `sudo` / `sudo_user`, then `K`: the
/// keys of the mapping that are not these.
#[derive(Default, Deserialize)]
#[serde(rename = "$become")]
pub struct Become<K = End> {
    pub r#become: Option<Json>,
    pub sudo: Option<Json>,
    pub become_user: Option<Text>,
    pub sudo_user: Option<Text>,
    pub become_method: Option<Spanned<Text>>,
    #[serde(rename = "$rest")]
    pub rest: K,
}

impl<K> Become<K> {
    pub fn privilege(&self) -> Result<Option<Privilege>, Error> {
        let enabled = self.r#become.as_ref().or(self.sudo.as_ref()).cloned();
        let user = self
            .become_user
            .as_ref()
            .or(self.sudo_user.as_ref())
            .map(|t| t.0.clone());
        if let Some(method) = &self.become_method
            && !matches!(method.value.0.as_str(), "sudo" | "su")
        {
            return Err(Error::invalid(
                method.span.clone(),
                format!(
                    "`become_method: {}` is not supported; bgrun has `sudo` and `su`",
                    method.value.0
                ),
            ));
        }
        let method = self.become_method.as_ref().map(|m| m.value.0.clone());
        Ok(match (enabled, user, method) {
            (None, None, None) => None,
            (enabled, user, method) => Some(Privilege {
                enabled: enabled.unwrap_or(Json::Null),
                user,
                method,
            }),
        })
    }
}

/// A `block` with its `rescue` and `always`.
#[derive(Deserialize)]
#[serde(rename = "a block", deny_unknown_fields)]
pub struct Block {
    pub block: Option<Node>,
    pub rescue: Option<Node>,
    pub always: Option<Node>,
}

/// A step that reads a step file: `import_tasks`, `include_tasks`, or the old `include`.
#[derive(Deserialize)]
#[serde(rename = "an include", deny_unknown_fields)]
pub struct TasksInclude {
    pub import_tasks: Option<Node>,
    pub include_tasks: Option<Node>,
    pub include: Option<Node>,
}

/// A step that reads a role: `import_role` or `include_role`.
#[derive(Deserialize)]
#[serde(rename = "an include", deny_unknown_fields)]
pub struct RoleInclude {
    pub import_role: Option<Node>,
    pub include_role: Option<Node>,
    pub tasks_from: Option<Text>,
}

/// `include_tasks: {file: ...}`.
#[derive(Deserialize)]
#[serde(rename = "an include", deny_unknown_fields)]
pub struct FileTarget {
    pub file: Option<Text>,
}

/// `include_role: {name: ..., tasks_from: ...}`.
#[derive(Deserialize)]
#[serde(rename = "an include", deny_unknown_fields)]
pub struct RoleTarget {
    pub name: Option<Text>,
    pub tasks_from: Option<Text>,
}

/// `meta: flush_handlers` and friends, which run once for the play's hosts: the keywords that
/// would change how a module runs do not apply.
#[derive(Deserialize)]
#[serde(rename = "a `meta` step", deny_unknown_fields)]
pub struct MetaStep {
    pub meta: Node,
    pub id: Option<Text>,
    pub name: Option<Text>,
    pub needs: Option<Spanned<Needs>>,
    #[serde(default)]
    pub tags: Strings,
    /// Refused: bgrun would end the play whatever it says.
    pub when: Option<Spanned<IgnoredAny>>,
}

/// A step that runs a module: its keywords, and the rest, which must be one module.
#[derive(Deserialize)]
#[serde(rename = "a step")]
pub struct ModuleStep {
    pub args: Option<Node>,
    pub register: Option<Text>,
    /// `local_action: MODULE ARGS`: the module, run on the controller.
    pub local_action: Option<Node>,
    /// Seconds the module may run; with `poll: 0` it runs in the background.
    #[serde(rename = "async")]
    pub async_seconds: Option<Json>,
    pub poll: Option<Json>,
    #[serde(default)]
    pub failed_when: Conditions,
    #[serde(default)]
    pub changed_when: Conditions,
    pub until: Option<Json>,
    pub retries: Option<Json>,
    pub delay: Option<Json>,
    #[serde(default)]
    pub notify: Strings,
    #[serde(default)]
    pub listen: Strings,
    /// The keys no keyword took: the module and its arguments.
    #[serde(rename = "$rest")]
    pub module: Node,
}

/// A step's loop as written, `loop` or one `with_<lookup>` and its `loop_control`, then `K`: the
/// keys of the step's kind (a module step, `include_tasks`, `include_role`).
#[derive(Default, Deserialize)]
#[serde(rename = "$loop")]
pub struct Looping<K> {
    pub r#loop: Option<Spanned<Json>>,
    pub with_items: Option<Spanned<Json>>,
    pub with_list: Option<Spanned<Json>>,
    pub with_dict: Option<Spanned<Json>>,
    pub with_together: Option<Spanned<Json>>,
    pub with_nested: Option<Spanned<Json>>,
    pub with_subelements: Option<Spanned<Json>>,
    pub with_sequence: Option<Spanned<Json>>,
    pub with_fileglob: Option<Spanned<Json>>,
    pub loop_control: Option<LoopControl>,
    #[serde(rename = "$rest")]
    pub rest: K,
}

impl<K> Looping<K> {
    /// The sources of items the step has, with their keyword (a step may have one).
    pub fn sources(&self) -> impl Iterator<Item = (&'static str, &Spanned<Json>)> {
        [
            ("loop", &self.r#loop),
            ("with_items", &self.with_items),
            ("with_list", &self.with_list),
            ("with_dict", &self.with_dict),
            ("with_together", &self.with_together),
            ("with_nested", &self.with_nested),
            ("with_subelements", &self.with_subelements),
            ("with_sequence", &self.with_sequence),
            ("with_fileglob", &self.with_fileglob),
        ]
        .into_iter()
        .filter_map(|(key, source)| Some((key, source.as_ref()?)))
    }
}

#[derive(Deserialize)]
#[serde(rename = "loop_control", deny_unknown_fields)]
pub struct LoopControl {
    pub loop_var: Option<Text>,
    pub label: Option<Json>,
    pub index_var: Option<Text>,
    pub extended: Option<bool>,
    pub extended_allitems: Option<bool>,
    pub pause: Option<Json>,
}

/// A `roles:` or `dependencies:` entry written as a mapping: the role, the keywords applied to
/// its steps, and any other key, which is a parameter of the role.
#[derive(Deserialize)]
#[serde(rename = "a role entry")]
pub struct RoleEntry {
    pub role: Option<Text>,
    pub name: Option<Text>,
    pub vars: Option<Vars>,
    #[serde(default)]
    pub when: Conditions,
    #[serde(default)]
    pub tags: Strings,
    pub environment: Option<Json>,
    pub ignore_errors: Option<Json>,
    pub no_log: Option<bool>,
    pub run_once: Option<bool>,
    pub delegate_to: Option<Text>,
    #[serde(rename = "$rest")]
    pub privilege: Become<Vars>,
}

/// A role's `meta/main.yml`: only its dependencies matter to bgrun.
#[derive(Deserialize)]
#[serde(rename = "a role's meta")]
pub struct RoleMeta {
    pub dependencies: Option<Vec<Node>>,
}

/// A scalar as text: numbers and booleans as written.
#[derive(Debug, Clone, Default)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E>(self, s: &str) -> Result<Text, E> {
                Ok(Text(s.to_string()))
            }

            fn visit_bool<E>(self, b: bool) -> Result<Text, E> {
                Ok(Text(b.to_string()))
            }

            fn visit_i64<E>(self, i: i64) -> Result<Text, E> {
                Ok(Text(i.to_string()))
            }

            fn visit_f64<E>(self, f: f64) -> Result<Text, E> {
                Ok(Text(scalar_text(&Json::from(f))))
            }
        }

        deserializer.deserialize_any(TextVisitor)
    }
}

/// A list of names, or one string of them separated by commas (`tags`, `notify`, ...).
#[derive(Debug, Clone, Default)]
pub struct Strings(pub Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringsVisitor;

        impl<'de> Visitor<'de> for StringsVisitor {
            type Value = Strings;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }

            fn visit_str<E>(self, s: &str) -> Result<Strings, E> {
                Ok(Strings(
                    s.split(',')
                        .map(|t| t.trim().to_string())
                        .filter(|t| !t.is_empty())
                        .collect(),
                ))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Json>()? {
                    items.push(scalar_text(&item));
                }
                Ok(Strings(items))
            }
        }

        deserializer.deserialize_any(StringsVisitor)
    }
}

/// Conditions: one, or a list that must all hold.
#[derive(Debug, Clone, Default)]
pub struct Conditions(pub Vec<Json>);

impl<'de> Deserialize<'de> for Conditions {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Conditions(match Json::deserialize(deserializer)? {
            Json::Array(items) => items,
            single => vec![single],
        }))
    }
}

/// A play's `hosts`: a pattern, or a list of them.
pub struct Hosts(pub String);

impl<'de> Deserialize<'de> for Hosts {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HostsVisitor;

        impl<'de> Visitor<'de> for HostsVisitor {
            type Value = Hosts;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a pattern")
            }

            fn visit_str<E>(self, s: &str) -> Result<Hosts, E> {
                Ok(Hosts(s.to_string()))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Hosts, A::Error> {
                let mut patterns = Vec::new();
                while let Some(item) = seq.next_element::<Json>()? {
                    patterns.push(scalar_text(&item));
                }
                Ok(Hosts(patterns.join(":")))
            }
        }

        deserializer.deserialize_any(HostsVisitor)
    }
}

/// `needs`: one step id, or a list of them.
pub enum Needs {
    One(String),
    Many(Vec<Spanned<StepId>>),
}

impl<'de> Deserialize<'de> for Needs {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NeedsVisitor;

        impl<'de> Visitor<'de> for NeedsVisitor {
            type Value = Needs;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of step ids")
            }

            fn visit_str<E>(self, s: &str) -> Result<Needs, E> {
                Ok(Needs::One(s.to_string()))
            }

            fn visit_unit<E>(self) -> Result<Needs, E> {
                Ok(Needs::Many(Vec::new()))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Needs, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element()? {
                    ids.push(id);
                }
                Ok(Needs::Many(ids))
            }
        }

        deserializer.deserialize_any(NeedsVisitor)
    }
}

/// One of the ids a step `needs`.
pub struct StepId(pub String);

impl<'de> Deserialize<'de> for StepId {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StepIdVisitor;

        impl Visitor<'_> for StepIdVisitor {
            type Value = StepId;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a step id (a string)")
            }

            fn visit_str<E>(self, s: &str) -> Result<StepId, E> {
                Ok(StepId(s.to_string()))
            }
        }

        deserializer.deserialize_any(StepIdVisitor)
    }
}

/// `throttle`: how many hosts run the step at once.
pub struct Throttle(pub usize);

impl<'de> Deserialize<'de> for Throttle {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ThrottleVisitor;

        impl Visitor<'_> for ThrottleVisitor {
            type Value = Throttle;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number above 0")
            }

            fn visit_i64<E: de::Error>(self, i: i64) -> Result<Throttle, E> {
                usize::try_from(i)
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Throttle)
                    .ok_or_else(|| E::custom("`throttle` is a whole number above 0"))
            }
        }

        deserializer.deserialize_any(ThrottleVisitor)
    }
}

/// `serial: 2`, `serial: "30%"`, or a list of such batch sizes.
pub struct Serial(pub Vec<Batch>);

struct OneBatch(Batch);

impl<'de> Deserialize<'de> for OneBatch {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BatchVisitor).map(OneBatch)
    }
}

struct BatchVisitor;

impl BatchVisitor {
    fn batch<E: de::Error>(text: &str) -> Result<Batch, E> {
        let text = text.trim();
        match text.strip_suffix('%') {
            Some(percent) => percent
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| *p > 0.0)
                .map(Batch::Percent)
                .ok_or_else(|| E::custom("a `serial` percentage is like \"30%\"")),
            None => text
                .parse::<usize>()
                .ok()
                .filter(|c| *c > 0)
                .map(Batch::Count)
                .ok_or_else(|| E::custom(SERIAL)),
        }
    }
}

const SERIAL: &str = "`serial` is a host count or a percentage";

impl Visitor<'_> for BatchVisitor {
    type Value = Batch;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a host count or a percentage")
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Batch, E> {
        usize::try_from(i)
            .ok()
            .filter(|n| *n > 0)
            .map(Batch::Count)
            .ok_or_else(|| E::custom(SERIAL))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Batch, E> {
        BatchVisitor::batch(s)
    }
}

impl<'de> Deserialize<'de> for Serial {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SerialVisitor;

        impl<'de> Visitor<'de> for SerialVisitor {
            type Value = Serial;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a host count or a percentage")
            }

            fn visit_i64<E: de::Error>(self, i: i64) -> Result<Serial, E> {
                BatchVisitor.visit_i64(i).map(|b| Serial(vec![b]))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Serial, E> {
                BatchVisitor::batch(s).map(|b| Serial(vec![b]))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Serial, A::Error> {
                let mut batches = Vec::new();
                while let Some(OneBatch(batch)) = seq.next_element()? {
                    batches.push(batch);
                }
                Ok(Serial(batches))
            }
        }

        deserializer.deserialize_any(SerialVisitor)
    }
}
