//! `hash`, `password_hash` and `to_uuid`: digests, crypt strings and name-based UUIDs as
//! Ansible makes them.

use md5::{Digest, Md5};
use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value};

use crate::compat::checksum::{Checksum, hex};
use crate::compat::crypt::{ShaCrypt, sha_crypt};

use super::args::*;

/// Ansible's own namespace for `to_uuid`.
const ANSIBLE_NAMESPACE: &str = "361E6D51-FAEC-444A-9079-341386DA8E2E";

/// `hash(hashtype='sha1')`: the hex digest of the value's text.
pub(super) fn hash(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("hash", &args, &kwargs, &["hashtype"])?;
    let kind = params.string(0, "hashtype")?.unwrap_or_else(|| "sha1".into());
    params.finish()?;
    let data = text(value)?;
    if kind.eq_ignore_ascii_case("md5") {
        return Ok(hex(&Md5::digest(data.as_bytes())));
    }
    Checksum::parse(&kind)
        .and_then(|c| c.digest(data.as_bytes()))
        .ok_or_else(|| fail(format!("unsupported hash type {kind}")))
}

/// `password_hash(hashtype='sha512', salt=None, salt_size=None, rounds=None)`: the crypt string
/// Ansible gives with passlib (which Debian's ansible recommends and installs by default):
/// passlib's default rounds (656,000 for SHA-512, 535,000 for SHA-256) when none are asked,
/// and the `rounds=` field left out when it is crypt's implicit 5,000.
pub(super) fn password_hash(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new(
        "password_hash",
        &args,
        &kwargs,
        &["hashtype", "salt", "salt_size", "rounds", "ident"],
    )?;
    let kind = params.string(0, "hashtype")?.unwrap_or_else(|| "sha512".into());
    let salt = params.string(1, "salt")?;
    let salt_size = params.int(2, "salt_size")?;
    let rounds = params.int(3, "rounds")?;
    params.get(4, "ident")?;
    params.finish()?;
    let (variant, default_rounds) = match kind.as_str() {
        "sha512" | "sha512_crypt" => (ShaCrypt::Sha512, 656_000),
        "sha256" | "sha256_crypt" => (ShaCrypt::Sha256, 535_000),
        other => {
            return Err(fail(format!(
                "password_hash: bgrun supports sha512 and sha256, not `{other}`"
            )));
        }
    };
    let size = salt_size.map_or(16, |n| n.max(0) as usize);
    let salt = match salt {
        Some(salt) => salt,
        None => random_salt(size),
    };
    if salt
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '/'))
    {
        return Err(fail("invalid characters in salt"));
    }
    if salt.chars().count() > 16 {
        return Err(fail("invalid salt size"));
    }
    let rounds = Some(rounds.unwrap_or(default_rounds))
        .filter(|&r| r != 5_000)
        .map(|r| u32::try_from(r.max(0)).unwrap_or(u32::MAX));
    Ok(sha_crypt(variant, &text(value)?, &salt, rounds))
}

/// A salt of `size` characters of crypt's alphabet, as Ansible's `random_salt` draws.
fn random_salt(size: usize) -> String {
    const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..size)
        .map(|_| ALPHABET[super::random::system_below(ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// `to_uuid(namespace=Ansible's)`: the UUID version 5 of the value's text.
pub(super) fn to_uuid(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("to_uuid", &args, &kwargs, &["namespace"])?;
    let namespace = params
        .string(0, "namespace")?
        .unwrap_or_else(|| ANSIBLE_NAMESPACE.into());
    params.finish()?;
    let namespace = uuid::Uuid::parse_str(&namespace)
        .map_err(|e| fail(format!("Invalid value '{namespace}' for 'namespace': {e}")))?;
    Ok(uuid::Uuid::new_v5(&namespace, text(value)?.as_bytes()).to_string())
}
