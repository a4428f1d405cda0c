//! The checksum algorithms Ansible's `stat` and `get_url` accept (Python's `hashlib` names), and
//! how bgrun computes each: here, or with the host's `*sum` program.

use serde::Deserialize;
use sha2::Digest;

/// `checksum_algorithm:` of `stat`, the `ALGORITHM:` of `get_url`'s `checksum:`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Checksum {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Checksum {
    /// The algorithm a name gives, in any case.
    pub fn parse(name: &str) -> Option<Checksum> {
        Some(match name.to_ascii_lowercase().as_str() {
            "md5" => Checksum::Md5,
            "sha1" => Checksum::Sha1,
            "sha224" => Checksum::Sha224,
            "sha256" => Checksum::Sha256,
            "sha384" => Checksum::Sha384,
            "sha512" => Checksum::Sha512,
            _ => return None,
        })
    }

    /// The coreutils program that computes it on a host.
    pub fn program(self) -> &'static str {
        match self {
            Checksum::Md5 => "md5sum",
            Checksum::Sha1 => "sha1sum",
            Checksum::Sha224 => "sha224sum",
            Checksum::Sha256 => "sha256sum",
            Checksum::Sha384 => "sha384sum",
            Checksum::Sha512 => "sha512sum",
        }
    }

    /// The digest of `data` in lowercase hex, computed here; MD5 is left to the host.
    pub fn digest(self, data: &[u8]) -> Option<String> {
        Some(match self {
            Checksum::Md5 => return None,
            Checksum::Sha1 => hex(&sha1(data)),
            Checksum::Sha224 => hex(&sha2::Sha224::digest(data)),
            Checksum::Sha256 => hex(&sha2::Sha256::digest(data)),
            Checksum::Sha384 => hex(&sha2::Sha384::digest(data)),
            Checksum::Sha512 => hex(&sha2::Sha512::digest(data)),
        })
    }
}

/// Bytes in lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-1, for Ansible's `checksum_src` / `checksum_dest` and `sha1:` checksums.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    sha1::Sha1::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_known_digests() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(&sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let long = vec![b'a'; 1000];
        assert_eq!(hex(&sha1(&long)), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
    }

    #[test]
    fn names_in_any_case() {
        assert_eq!(Checksum::parse("SHA256"), Some(Checksum::Sha256));
        assert_eq!(Checksum::parse("crc32"), None);
        assert_eq!(Checksum::Sha256.digest(b"").as_deref().map(str::len), Some(64));
    }
}
