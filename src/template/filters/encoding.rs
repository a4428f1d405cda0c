//! Text encodings: `quote` (Python's `shlex.quote`), `b64encode` and `b64decode`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE, URL_SAFE_PAD_INDIFFERENT};
use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value};

use crate::compat::python::shlex_quote;

use super::args::*;

/// Python's `shlex.quote`: the text as one word for a POSIX shell.
pub(super) fn quote(value: &Value) -> Result<String, Error> {
    let s = if value.is_none() { String::new() } else { text(value)? };
    Ok(shlex_quote(&s))
}

fn encoding_param(filter: &str, params: &Params<'_>) -> Result<bool, Error> {
    let encoding = params.string(0, "encoding")?.unwrap_or_else(|| "utf-8".into());
    match encoding.to_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => Ok(false),
        "utf-16-le" | "utf-16le" => Ok(true),
        _ => Err(fail(format!(
            "{filter}: encoding `{encoding}` is not supported; use utf-8 or utf-16-le"
        ))),
    }
}

/// `b64encode(encoding='utf-8', urlsafe=false)`.
pub(super) fn b64encode(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("b64encode", &args, &kwargs, &["encoding", "urlsafe"])?;
    let utf16 = encoding_param("b64encode", &params)?;
    let urlsafe = params.flag(1, "urlsafe")?;
    params.finish()?;
    let value = text(value)?;
    let bytes: Vec<u8> = if utf16 {
        value.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else {
        value.into_bytes()
    };
    Ok(if urlsafe {
        URL_SAFE.encode(bytes)
    } else {
        STANDARD.encode(bytes)
    })
}

/// `b64decode(encoding='utf-8', urlsafe=false)`; whitespace in the input is ignored.
pub(super) fn b64decode(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("b64decode", &args, &kwargs, &["encoding", "urlsafe"])?;
    let utf16 = encoding_param("b64decode", &params)?;
    let urlsafe = params.flag(1, "urlsafe")?;
    params.finish()?;
    let value = text(value)?;
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = if urlsafe {
        &URL_SAFE_PAD_INDIFFERENT
    } else {
        &STANDARD_PAD_INDIFFERENT
    };
    let bytes = engine.decode(compact.as_bytes()).map_err(|e| {
        let detail = match e {
            base64::DecodeError::InvalidByte(offset, _) => match compact.get(offset..).and_then(|s| s.chars().next()) {
                Some(c) => format!(" (unexpected character {c:?})"),
                None => String::new(),
            },
            base64::DecodeError::InvalidLength(_) => " (its length is not a valid base64 length)".into(),
            _ => String::new(),
        };
        fail(format!("b64decode: input is not valid base64{detail}"))
    })?;
    if utf16 {
        if bytes.len() % 2 != 0 {
            return Err(fail("b64decode: the decoded data is not valid UTF-16-LE text"));
        }
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        String::from_utf16(&units).map_err(|_| fail("b64decode: the decoded data is not valid UTF-16-LE text"))
    } else {
        String::from_utf8(bytes).map_err(|_| {
            fail("b64decode: the decoded data is not valid UTF-8 text; pass encoding= if it is another encoding")
        })
    }
}
