//! A serde `Deserializer` over a [`Node`] tree: typed structs read straight from YAML, each error
//! at the `file:line:col` of the node or key it is about.
//!
//! Two additions to serde's model, for the playbook's structs:
//! - a struct's serde name (`#[serde(rename = "a play")]`) is what errors call it: "unknown key
//!   `x` in a play"; names starting with `$` are parts of the mapping around them and say nothing;
//! - a field named [`REST`] receives the keys the struct's other fields do not take, as
//!   `#[serde(flatten)]` would (which reads through serde's own buffer and so would lose every
//!   position). It can be another struct (whose own `REST` takes what is left after it), a
//!   mapping, a [`Node`], or [`End`]: no key may be left.

use std::fmt;

use serde::Deserialize;
use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::spanned::{self, Handed};
use super::{Node, NodeValue};
use crate::error::suggest;
use crate::source::Span;

/// The field name that receives a struct's leftover keys.
pub const REST: &str = "$rest";

/// Reads `node` as a `T`.
pub fn from_node<'de, T: Deserialize<'de>>(node: &'de Node) -> Result<T, crate::error::Error> {
    T::deserialize(NodeDe::value(node, None)).map_err(|e| e.into_error(&node.span))
}

/// A [`REST`] field that takes nothing: a key left over is unknown.
#[derive(Debug, Default, Deserialize)]
pub struct End;

/// Why a node could not be read; it becomes a [`crate::error::Error`].
#[derive(Debug)]
pub struct Error {
    span: Option<Span>,
    /// The name (serde's) of the struct the error is in.
    context: Option<&'static str>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    UnknownKey {
        key: String,
        /// The keys that would have been known; complete once the struct that raised it added
        /// the keys the mapping's other parts take.
        expected: Vec<&'static str>,
        complete: bool,
    },
    Missing(&'static str),
    Type {
        expected: String,
        /// The kind of node found, and the key it was the value of.
        found: Option<&'static str>,
        key: Option<String>,
    },
    Custom(String),
}

impl Error {
    fn new(kind: Kind) -> Self {
        Error {
            span: None,
            context: None,
            kind,
        }
    }

    fn into_error(self, fallback: &Span) -> crate::error::Error {
        use crate::error::Error as E;
        let span = self.span.unwrap_or_else(|| fallback.clone());
        let context = self.context.unwrap_or("a mapping");
        match self.kind {
            Kind::UnknownKey { key, expected, .. } => E::UnknownKey {
                suggestion: suggest(&key, expected),
                span,
                key,
                context: context.to_string(),
            },
            Kind::Missing(field) => E::invalid(span, format!("{context} has no `{field}`")),
            Kind::Type { expected, found, key } => {
                let found = found.unwrap_or("something else");
                E::invalid(
                    span,
                    match key {
                        Some(key) => format!("`{key}` is {expected}, but this is {found}"),
                        None => format!("{expected} was expected here, but this is {found}"),
                    },
                )
            }
            Kind::Custom(message) => E::invalid(span, message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::UnknownKey { key, .. } => write!(f, "unknown key `{key}`"),
            Kind::Missing(field) => write!(f, "no `{field}`"),
            Kind::Type { expected, .. } => write!(f, "{expected} was expected"),
            Kind::Custom(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error::new(Kind::Custom(message.to_string()))
    }

    fn invalid_type(_: de::Unexpected, expected: &dyn de::Expected) -> Self {
        // Serde's words for its own types, in the words bgrun's messages use.
        let expected = match expected.to_string().as_str() {
            "a boolean" => "true or false".to_string(),
            "a sequence" => "a list".to_string(),
            "a map" => "a mapping".to_string(),
            other => other.to_string(),
        };
        Error::new(Kind::Type {
            expected,
            found: None,
            key: None,
        })
    }

    fn invalid_value(unexpected: de::Unexpected, expected: &dyn de::Expected) -> Self {
        Self::invalid_type(unexpected, expected)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Error::new(Kind::UnknownKey {
            key: field.to_string(),
            expected: expected.to_vec(),
            complete: false,
        })
    }

    fn missing_field(field: &'static str) -> Self {
        Error::new(Kind::Missing(field))
    }
}

/// How a node is read.
enum Mode {
    /// As the value it is.
    Value,
    /// As a mapping's key: always text.
    Key,
    /// As the keys of a mapping that the fields read so far did not take.
    Rest(Vec<&'static str>),
}

struct NodeDe<'de> {
    node: &'de Node,
    /// The key this node is the value of, to name in errors.
    of_key: Option<&'de Node>,
    mode: Mode,
}

impl<'de> NodeDe<'de> {
    fn value(node: &'de Node, of_key: Option<&'de Node>) -> Self {
        NodeDe {
            node,
            of_key,
            mode: Mode::Value,
        }
    }

    /// The keys already taken when this node is the rest of a mapping.
    fn taken(&self) -> &[&'static str] {
        match &self.mode {
            Mode::Rest(taken) => taken,
            _ => &[],
        }
    }

    /// The entries of a mapping node not yet taken.
    fn entries(&self) -> impl Iterator<Item = &'de (Node, Node)> + '_ {
        self.node
            .as_map()
            .unwrap_or_default()
            .iter()
            .filter(|(k, _)| !self.taken().contains(&k.key_text().as_str()))
    }

    /// An error raised by a visitor of this node gets its position, and the kind of node found.
    fn locate(&self, mut error: Error) -> Error {
        if error.span.is_none() {
            error.span = Some(self.node.span.clone());
            if let Kind::Type { found, key, .. } = &mut error.kind {
                *found = Some(self.node.kind());
                *key = self.of_key.map(Node::key_text);
            }
        }
        error
    }

    fn type_error(&self, expected: &str) -> Error {
        self.locate(Error::new(Kind::Type {
            expected: expected.to_string(),
            found: None,
            key: None,
        }))
    }

    /// The node to hand out: itself, or a mapping of the keys left.
    fn handed_node(&self) -> Node {
        match self.mode {
            Mode::Rest(_) => Node {
                value: NodeValue::Map(self.entries().cloned().collect()),
                span: self.node.span.clone(),
            },
            _ => self.node.clone(),
        }
    }

    fn map_access(&self, fields: Option<&'static [&'static str]>) -> MapDe<'de, '_> {
        let rest = fields.filter(|f| f.contains(&REST)).map(|f| {
            let mut taken = self.taken().to_vec();
            taken.extend(f.iter().filter(|f| **f != REST));
            taken
        });
        MapDe {
            entries: Box::new(self.entries()),
            only: fields.filter(|_| rest.is_some()),
            rest,
            node: self.node,
            pending: None,
        }
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match (&self.mode, &self.node.value) {
            (Mode::Key, NodeValue::Str(s)) => visitor.visit_borrowed_str(s),
            (Mode::Key, _) => visitor.visit_string(self.node.key_text()),
            (Mode::Rest(_), _) => visitor.visit_map(self.map_access(None)),
            (Mode::Value, NodeValue::Null) => visitor.visit_unit(),
            (Mode::Value, NodeValue::Bool(b)) => visitor.visit_bool(*b),
            (Mode::Value, NodeValue::Int(i)) => visitor.visit_i64(*i),
            (Mode::Value, NodeValue::Float(f)) => visitor.visit_f64(*f),
            (Mode::Value, NodeValue::Str(s)) => visitor.visit_borrowed_str(s),
            (Mode::Value, NodeValue::Seq(items)) => visitor.visit_seq(SeqDe { items: items.iter() }),
            (Mode::Value, NodeValue::Map(_)) => visitor.visit_map(self.map_access(None)),
        };
        result.map_err(|e| self.locate(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if matches!(self.mode, Mode::Value) && self.node.is_null() {
            return visitor.visit_none().map_err(|e| self.locate(e));
        }
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        match name {
            spanned::SPANNED => {
                let span = self.node.span.clone();
                spanned::hand(Handed::Span(span), || visitor.visit_newtype_struct(self))
            }
            spanned::NODE => {
                let node = self.handed_node();
                let span = node.span.clone();
                spanned::hand(Handed::Node(node), || visitor.visit_newtype_struct(self)).map_err(|mut e| {
                    e.span.get_or_insert(span);
                    e
                })
            }
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let result = match (&self.mode, &self.node.value) {
            (Mode::Rest(_), _) | (Mode::Value, NodeValue::Map(_) | NodeValue::Null) => {
                visitor.visit_map(self.map_access(Some(fields)))
            }
            _ => return Err(self.type_error("a mapping")),
        };
        result.map_err(|mut e| {
            if let Kind::UnknownKey { expected, complete, .. } = &mut e.kind
                && !*complete
            {
                *expected = self
                    .taken()
                    .iter()
                    .chain(fields)
                    .copied()
                    .filter(|f| *f != REST)
                    .collect();
                *complete = true;
            }
            if matches!(e.kind, Kind::UnknownKey { .. } | Kind::Missing(_))
                && e.context.is_none()
                && !name.starts_with('$')
            {
                e.context = Some(name);
            }
            self.locate(e)
        })
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        match self.mode {
            Mode::Rest(_) => match self.entries().next() {
                Some((key, _)) => Err(Error {
                    span: Some(key.span.clone()),
                    context: None,
                    kind: Kind::UnknownKey {
                        key: key.key_text(),
                        expected: self.taken().to_vec(),
                        complete: true,
                    },
                }),
                None => visitor.visit_unit(),
            },
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        seq tuple tuple_struct map enum identifier
    }
}

struct SeqDe<'de> {
    items: std::slice::Iter<'de, Node>,
}

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        self.items
            .next()
            .map(|item| seed.deserialize(NodeDe::value(item, None)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'de, 'a> {
    entries: Box<dyn Iterator<Item = &'de (Node, Node)> + 'a>,
    /// With a [`REST`] field: the keys the struct's own fields take; the others are its rest's.
    only: Option<&'static [&'static str]>,
    /// With a [`REST`] field: the keys its rest does not see.
    rest: Option<Vec<&'static str>>,
    node: &'de Node,
    pending: Option<Pending<'de>>,
}

enum Pending<'de> {
    Value(&'de Node, &'de Node),
    Rest(Vec<&'static str>),
}

impl<'de> MapAccess<'de> for MapDe<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        for (key, value) in self.entries.by_ref() {
            if self.only.is_some_and(|only| !only.contains(&key.key_text().as_str())) {
                continue;
            }
            self.pending = Some(Pending::Value(key, value));
            let key_de = NodeDe {
                node: key,
                of_key: None,
                mode: Mode::Key,
            };
            return seed.deserialize(key_de).map(Some);
        }
        match self.rest.take() {
            Some(taken) => {
                self.pending = Some(Pending::Rest(taken));
                let name: StrDeserializer<Error> = REST.into_deserializer();
                seed.deserialize(name).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.pending.take() {
            Some(Pending::Value(key, value)) => seed.deserialize(NodeDe::value(value, Some(key))),
            Some(Pending::Rest(taken)) => seed.deserialize(NodeDe {
                node: self.node,
                of_key: None,
                mode: Mode::Rest(taken),
            }),
            None => Err(de::Error::custom("a value was read before its key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value as Json;

    use super::*;
    use crate::source::SourceFile;
    use crate::yaml::{Spanned, parse};

    fn load(text: &str) -> Node {
        parse(&SourceFile::new("t.yml", text)).expect("valid yaml")
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename = "a thing", deny_unknown_fields)]
    struct Thing {
        name: Spanned<String>,
        count: Option<i64>,
        tags: Option<Vec<Spanned<String>>>,
        #[serde(rename = "$rest")]
        more: More,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename = "$more")]
    struct More {
        flag: Option<bool>,
        #[serde(rename = "$rest")]
        others: Node,
    }

    #[test]
    fn reads_structs_with_positions_and_leftover_keys() {
        let node = load("name: x\ntags: [a, b]\nflag: yes\nzap: 1\ncount: 3\n");
        let thing: Thing = from_node(&node).unwrap();
        assert_eq!(
            (thing.name.value.as_str(), thing.name.span.line, thing.name.span.col),
            ("x", 1, 7)
        );
        assert_eq!(thing.count, Some(3));
        let tags = thing.tags.unwrap();
        assert_eq!((tags[1].value.as_str(), tags[1].span.col), ("b", 11));
        assert_eq!(thing.more.flag, Some(true));
        assert_eq!(thing.more.others.to_json(), serde_json::json!({"zap": 1}));
        assert_eq!(thing.more.others.span.line, 1);
    }

    #[test]
    fn reads_json_values_and_text_keys() {
        let node = load("a: [1, 2.5, null, {3: x, true: y}]\n");
        let json: Json = from_node(&node).unwrap();
        assert_eq!(json, node.to_json());
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename = "a closed thing", deny_unknown_fields)]
    struct Closed {
        #[allow(dead_code)]
        name: Option<String>,
        #[serde(rename = "$rest")]
        #[allow(dead_code)]
        end: End,
    }

    #[test]
    fn errors_point_at_the_node_and_name_the_key() {
        let err = from_node::<Thing>(&load("name: x\ncount: many\n")).unwrap_err();
        assert_eq!(err.to_string(), "t.yml:2:8: `count` is i64, but this is a string");
        let err = from_node::<Closed>(&load("name: x\nnmae: y\n")).unwrap_err().render();
        assert!(
            err.starts_with("error: t.yml:2:1: unknown key `nmae` in a closed thing"),
            "{err}"
        );
        assert!(err.ends_with("help: did you mean `name`?"), "{err}");
        let err = from_node::<Thing>(&load("[1]")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.yml:1:1: a mapping was expected here, but this is a list"
        );
        let err = from_node::<Thing>(&load("count: 1\n")).unwrap_err();
        assert_eq!(err.to_string(), "t.yml:1:1: a thing has no `name`");
        let err = from_node::<Thing>(&load("name: x\ntags: [a, [b]]\n")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.yml:2:11: a string was expected here, but this is a list"
        );
    }

    #[test]
    fn spanned_values_need_yaml() {
        let err = serde_json::from_str::<Spanned<String>>("\"x\"").unwrap_err();
        assert!(err.to_string().contains("only for values read from YAML"), "{err}");
    }
}
