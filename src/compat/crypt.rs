//! `crypt(3)`'s SHA-crypt strings (`$6$salt$hash`) as glibc writes them, which Ansible's
//! `password_hash` returns through Python's `crypt` module.

use base64ct::{Base64ShaCrypt, Encoding};
use sha_crypt::Params;

/// The two SHA-crypt variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShaCrypt {
    Sha256,
    Sha512,
}

/// glibc's rounds when the salt string names none, and its bounds for those it names.
const DEFAULT_ROUNDS: u32 = 5000;
const MIN_ROUNDS: u32 = 1000;
const MAX_ROUNDS: u32 = 999_999_999;

/// `crypt(password, "$6$[rounds=N$]salt")`: `rounds` is written only when given, as glibc does
/// (and brought within glibc's bounds); the salt is cut to 16 characters.
pub fn sha_crypt(variant: ShaCrypt, password: &str, salt: &str, rounds: Option<u32>) -> String {
    let salt: String = salt.chars().take(16).collect();
    let used = rounds.map_or(DEFAULT_ROUNDS, |r| r.clamp(MIN_ROUNDS, MAX_ROUNDS));
    let params = Params::new(used).unwrap_or(Params::RECOMMENDED);
    let (ident, encoded) = match variant {
        ShaCrypt::Sha256 => {
            let raw = sha_crypt::sha256_crypt(password.as_bytes(), salt.as_bytes(), params);
            ("5", Base64ShaCrypt::encode_string(&transpose(&raw, &SHA256_ORDER)))
        }
        ShaCrypt::Sha512 => {
            let raw = sha_crypt::sha512_crypt(password.as_bytes(), salt.as_bytes(), params);
            ("6", Base64ShaCrypt::encode_string(&transpose(&raw, &SHA512_ORDER)))
        }
    };
    match rounds {
        Some(_) => format!("${ident}$rounds={used}${salt}${encoded}"),
        None => format!("${ident}${salt}${encoded}"),
    }
}

/// The order in which SHA-crypt writes the digest's bytes (the specification's tables).
const SHA256_ORDER: [usize; 32] = [
    20, 10, 0, 11, 1, 21, 2, 22, 12, 23, 13, 3, 14, 4, 24, 5, 25, 15, 26, 16, 6, 17, 7, 27, 8, 28, 18, 29, 19, 9, 30,
    31,
];
const SHA512_ORDER: [usize; 64] = [
    42, 21, 0, 1, 43, 22, 23, 2, 44, 45, 24, 3, 4, 46, 25, 26, 5, 47, 48, 27, 6, 7, 49, 28, 29, 8, 50, 51, 30, 9, 10,
    52, 31, 32, 11, 53, 54, 33, 12, 13, 55, 34, 35, 14, 56, 57, 36, 15, 16, 58, 37, 38, 17, 59, 60, 39, 18, 19, 61, 40,
    41, 20, 62, 63,
];

fn transpose(bytes: &[u8], order: &[usize]) -> Vec<u8> {
    order.iter().map(|&i| bytes[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings from Python's crypt.crypt (glibc).
    #[test]
    fn writes_what_glibc_writes() {
        assert_eq!(sha_crypt(ShaCrypt::Sha512, "secret", "mysalt", None), PY_512);
        assert_eq!(
            sha_crypt(ShaCrypt::Sha512, "secret", "mysalt", Some(10000)),
            PY_512_ROUNDS
        );
        assert_eq!(sha_crypt(ShaCrypt::Sha256, "secret", "mysalt", None), PY_256);
    }

    const PY_512: &str =
        "$6$mysalt$UX6P1VKOf6dr0s2pg4pLNvIUB6hLXvP6M5f/Yj9hJgMPdAJ4oArvk5YUD9/XWtk1JOpVwt/JTsczMJr8sFVML1";
    const PY_512_ROUNDS: &str =
        "$6$rounds=10000$mysalt$9XTP7570fxVN/uTspSrH6kRPdR4KKGzGz7.TmJjDYGrKSwZuavW/3YaLur8JX6WP75Czcxa.megIO0lKreY0R.";
    const PY_256: &str = "$5$mysalt$I2SNajjJ3Gc5gIR/tkrLOGngF8wqv59buJCqxh.o9s8";
}
