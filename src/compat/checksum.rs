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
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let block = |h: &mut [u32; 5], chunk: &[u8]| {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = *h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    };
    let mut chunks = data.chunks_exact(64);
    for chunk in &mut chunks {
        block(&mut h, chunk);
    }
    let mut tail = chunks.remainder().to_vec();
    tail.push(0x80);
    while tail.len() % 64 != 56 {
        tail.push(0);
    }
    tail.extend_from_slice(&(data.len() as u64).wrapping_mul(8).to_be_bytes());
    for chunk in tail.chunks_exact(64) {
        block(&mut h, chunk);
    }
    let mut out = [0u8; 20];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
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
