//! The values masked in everything bgrun prints: a set, matched in one pass over each text
//! (Aho-Corasick, the longest value first where two overlap), so that masking costs about the
//! same with ten secrets as with one per host of a 10,000-host inventory.

use std::collections::BTreeSet;

use aho_corasick::{AhoCorasick, MatchKind};

#[derive(Default)]
pub struct Secrets {
    values: BTreeSet<String>,
    /// Built on the first mask after the set changed.
    matcher: Option<AhoCorasick>,
}

impl Secrets {
    /// Adds a value; values are usually added in a burst (a play's hosts), then masked often.
    pub fn add(&mut self, value: &str) {
        if !self.values.contains(value) {
            self.values.insert(value.to_string());
            self.matcher = None;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret replaced by `mask`.
    pub fn mask(&mut self, text: &str, mask: &str) -> String {
        if self.values.is_empty() {
            return text.to_string();
        }
        if self.matcher.is_none() {
            self.matcher = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&self.values)
                .ok();
        }
        match &self.matcher {
            Some(matcher) => {
                // One replacement for every value, written by a closure: a slice of replacements
                // would cost one entry per secret on every call.
                let mut out = String::with_capacity(text.len());
                matcher.replace_all_with(text, &mut out, |_, _, out| {
                    out.push_str(mask);
                    true
                });
                out
            }
            None => self
                .values
                .iter()
                .rev()
                .fold(text.to_string(), |out, secret| out.replace(secret.as_str(), mask)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_value_the_longest_first() {
        let mut secrets = Secrets::default();
        secrets.add("hunter2");
        secrets.add("hunter2-long");
        secrets.add("s3cret");
        assert_eq!(
            secrets.mask("a hunter2-long b hunter2 c s3cret s3cret", "****"),
            "a **** b **** c **** ****"
        );
        secrets.add("plain");
        assert_eq!(secrets.mask("plain text", "****"), "**** text");
    }

    #[test]
    fn many_secrets_mask_in_one_pass() {
        let mut secrets = Secrets::default();
        for i in 0..10_000 {
            secrets.add(&format!("secret-of-host-{i:05}"));
        }
        let text = "host 9999 has secret-of-host-09999 and host 1 secret-of-host-00001".repeat(100);
        let masked = secrets.mask(&text, "****");
        assert!(!masked.contains("secret-of-host"));
        assert_eq!(masked.matches("****").count(), 200);
    }
}
