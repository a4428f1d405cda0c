//! Values that keep where they were written: [`Spanned<T>`], and a [`Node`] itself, handed out
//! by the deserializer of [`super::de`] to the fields that ask for them.
//!
//! Serde's data model has no place for a position, so the deserializer recognises two newtype
//! names: when asked for one, it puts the span (or the node) in a thread-local slot and visits
//! the newtype, whose visitor takes it out first thing. Read through any other deserializer,
//! these types fail with an error instead.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::Node;
use crate::source::Span;

/// The newtype name under which the deserializer hands out a node's span.
pub(super) const SPANNED: &str = "$yaml::Spanned";
/// The newtype name under which the deserializer hands out the node itself.
pub(super) const NODE: &str = "$yaml::Node";

/// What the deserializer hands to the visitor it is about to call.
pub(super) enum Handed {
    Span(Span),
    Node(Node),
}

thread_local! {
    static HANDED: RefCell<Option<Handed>> = const { RefCell::new(None) };
}

/// Puts `handed` in the slot, visits, and leaves the slot empty whatever the visitor did.
pub(super) fn hand<T>(handed: Handed, visit: impl FnOnce() -> T) -> T {
    HANDED.with(|slot| *slot.borrow_mut() = Some(handed));
    let result = visit();
    HANDED.with(|slot| slot.borrow_mut().take());
    result
}

fn take() -> Option<Handed> {
    HANDED.with(|slot| slot.borrow_mut().take())
}

/// A value and where it was written.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpannedVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
            type Value = Spanned<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value read from YAML")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Spanned<T>, D::Error> {
                let Some(Handed::Span(span)) = take() else {
                    return Err(de::Error::custom("a position is known only for values read from YAML"));
                };
                let value = T::deserialize(deserializer)?;
                Ok(Spanned { value, span })
            }
        }

        deserializer.deserialize_newtype_struct(SPANNED, SpannedVisitor(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;

        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a YAML node")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(self, _: D) -> Result<Node, D::Error> {
                match take() {
                    Some(Handed::Node(node)) => Ok(node),
                    _ => Err(de::Error::custom("a YAML node can be read only from YAML")),
                }
            }
        }

        deserializer.deserialize_newtype_struct(NODE, NodeVisitor)
    }
}
