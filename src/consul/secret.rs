//! Consul ACL tokens as bgrun carries them: never shown, and scrubbed from anything a step
//! reports, since a token is a password.

use serde::Deserialize;
use serde_json::Value as Json;

/// What a hidden secret shows as.
pub const HIDDEN: &str = "********";

/// A value never shown: its `Debug` hides it, and outcomes are scrubbed of it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(HIDDEN)
    }
}

/// `text` with every occurrence of `secret` replaced by `********`.
pub fn scrub_text(text: &str, secret: &str) -> String {
    text.replace(secret, HIDDEN)
}

/// Replaces every occurrence of `secret` in the strings of `value` with `********`.
pub fn scrub_json(value: &mut Json, secret: &str) {
    match value {
        Json::String(s) if s.contains(secret) => *s = scrub_text(s, secret),
        Json::Array(items) => items.iter_mut().for_each(|v| scrub_json(v, secret)),
        Json::Object(map) => map.values_mut().for_each(|v| scrub_json(v, secret)),
        _ => {}
    }
}
