//! Reads module arguments as Ansible does: `port=22` in free-form text is the string "22", and a
//! module that wants a number or a boolean takes it (Ansible's `boolean()` words for booleans).

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value as Json;

/// A JSON value that converts strings to the numbers and booleans a module asks for.
pub struct Lenient(pub Json);

impl<'de> IntoDeserializer<'de, serde_json::Error> for Lenient {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! integer {
    ($($method:ident => $visit:ident($ty:ty)),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
            match &self.0 {
                Json::String(s) => match s.trim().parse::<$ty>() {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => Err(de::Error::custom(format!("`{s}` is not a number"))),
                },
                _ => self.0.$method(visitor),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Lenient {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Json::Array(items) => visitor.visit_seq(SeqDeserializer::new(items.into_iter().map(Lenient))),
            Json::Object(map) => visitor.visit_map(MapDeserializer::new(map.into_iter().map(|(k, v)| (k, Lenient(v))))),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match &self.0 {
            Json::String(s) => match crate::compat::ansible::boolean(s) {
                Some(b) => visitor.visit_bool(b),
                None => Err(de::Error::custom(format!("`{s}` is not true or false"))),
            },
            Json::Number(n) => visitor.visit_bool(n.as_f64().is_some_and(|f| f != 0.0)),
            _ => self.0.deserialize_bool(visitor),
        }
    }

    integer! {
        deserialize_u8 => visit_u8(u8), deserialize_u16 => visit_u16(u16), deserialize_u32 => visit_u32(u32),
        deserialize_u64 => visit_u64(u64), deserialize_i8 => visit_i8(i8), deserialize_i16 => visit_i16(i16),
        deserialize_i32 => visit_i32(i32), deserialize_i64 => visit_i64(i64), deserialize_f32 => visit_f32(f32),
        deserialize_f64 => visit_f64(f64)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Json::Number(n) => visitor.visit_string(n.to_string()),
            Json::Bool(b) => visitor.visit_string(b.to_string()),
            other => other.deserialize_string(visitor),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Json::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Args {
        port: u16,
        force: bool,
        name: String,
        timeout: Option<u64>,
        list: Vec<u8>,
    }

    #[test]
    fn strings_become_numbers_and_booleans() {
        let json = serde_json::json!({"port": "22", "force": "yes", "name": 5, "timeout": "30", "list": ["1", 2]});
        let args = Args::deserialize(Lenient(json)).unwrap();
        assert_eq!(
            args,
            Args {
                port: 22,
                force: true,
                name: "5".into(),
                timeout: Some(30),
                list: vec![1, 2]
            }
        );
    }

    #[test]
    fn bad_numbers_are_named() {
        let json = serde_json::json!({"port": "http", "force": true, "name": "x", "list": []});
        assert!(
            Args::deserialize(Lenient(json))
                .unwrap_err()
                .to_string()
                .contains("`http` is not a number")
        );
    }
}
