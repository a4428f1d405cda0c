//! Reads the field names of a serde struct, so a list of accepted names is written once, as the
//! struct's fields: a module's arguments, a step's keywords.

use serde::de::{self, DeserializeOwned, Visitor};

use super::Module;

/// The field names `T` deserializes, or `None` for a module that takes any argument.
pub fn arguments<T: Module>() -> Option<&'static [&'static str]> {
    if T::ANY_ARGUMENTS {
        return None;
    }
    fields::<T>()
}

/// The field names of `T`, as serde names them; `None` when `T` is not a struct.
pub fn fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    let _ = T::deserialize(FieldCatcher { fields: &mut fields });
    fields
}

struct FieldCatcher<'a> {
    fields: &'a mut Option<&'static [&'static str]>,
}

#[derive(Debug)]
struct Caught;

impl std::fmt::Display for Caught {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fields caught")
    }
}

impl std::error::Error for Caught {}

impl de::Error for Caught {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Caught
    }
}

impl<'de> de::Deserializer<'de> for FieldCatcher<'_> {
    type Error = Caught;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Caught> {
        *self.fields = Some(fields);
        Err(Caught)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Caught> {
        Err(Caught)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}
