//! Ansible's free-form arguments: `copy: src=a.conf dest=/etc/a.conf` and
//! `command: ls -l chdir=/tmp`, split into words that respect quotes and `{{ }}`.

/// One word of a free-form line: `key=value`, or a word of the raw command line as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    Pair(String, String),
    Raw(String),
}

/// Splits a free-form line into words.
pub fn split(text: &str) -> Result<Vec<Word>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match (quote, c) {
            (Some(q), _) if c == q && depth == 0 => {
                quote = None;
                current.push(c);
            }
            (Some(_), '\\') => {
                current.push(c);
                if let Some(n) = next {
                    current.push(n);
                    i += 1;
                }
            }
            (None, '\'' | '"') if depth == 0 => {
                quote = Some(c);
                current.push(c);
            }
            (_, '{') if matches!(next, Some('{' | '%' | '#')) => {
                depth += 1;
                current.push(c);
                current.push(next.unwrap_or('{'));
                i += 1;
            }
            (_, '}' | '%' | '#') if depth > 0 && next == Some('}') => {
                depth -= 1;
                current.push(c);
                current.push('}');
                i += 1;
            }
            (None, c) if c.is_whitespace() && depth == 0 => {
                if !current.is_empty() {
                    words.push(word(std::mem::take(&mut current)));
                }
            }
            _ => current.push(c),
        }
        i += 1;
    }
    if let Some(q) = quote {
        return Err(format!("unbalanced quote {q} in `{text}`"));
    }
    if depth > 0 {
        return Err(format!("unclosed `{{{{` in `{text}`"));
    }
    if !current.is_empty() {
        words.push(word(current));
    }
    Ok(words)
}

/// A word: `key=value` with its escape sequences decoded and its quotes taken off, as Ansible's
/// `parse_kv` does, or a raw word kept as written.
fn word(text: String) -> Word {
    if let Some((key, value)) = text.split_once('=') {
        let is_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_key {
            return Word::Pair(
                key.to_string(),
                strip_quotes(&crate::compat::python::decode_escapes(value)),
            );
        }
    }
    Word::Raw(text)
}

/// Ansible's `unquote`: the text inside matching outer quotes, nothing else changed.
fn strip_quotes(value: &str) -> String {
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && (bytes[0] == b'"' || bytes[0] == b'\'') && bytes[bytes.len() - 1] == bytes[0] {
        value[1..value.len() - 1].to_string()
    } else {
        value.to_string()
    }
}

/// A word `key=value` whose key holds a template (`{{ name }}=1`, `x_{{ n }}=2`): split at the
/// first `=` outside `{{ }}`.
pub fn templated_pair(word: &str) -> Option<(String, String)> {
    let mut depth = 0usize;
    let bytes = word.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'{', Some(b'{' | b'%' | b'#')) => {
                depth += 1;
                i += 1;
            }
            (b'}' | b'%' | b'#', Some(b'}')) if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            (b'=', _) if depth == 0 => {
                let key = &word[..i];
                return crate::template::is_template(key).then(|| (key.to_string(), unquote(&word[i + 1..])));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn unquote(value: &str) -> String {
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && (bytes[0] == b'"' || bytes[0] == b'\'') && bytes[bytes.len() - 1] == bytes[0] {
        value[1..value.len() - 1].replace(&format!("\\{}", bytes[0] as char), &(bytes[0] as char).to_string())
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: &str, v: &str) -> Word {
        Word::Pair(k.into(), v.into())
    }

    #[test]
    fn pairs_and_raw_words() {
        assert_eq!(
            split(r#"echo "a b" chdir=/tmp creates='/x y'"#).unwrap(),
            vec![
                Word::Raw("echo".into()),
                Word::Raw("\"a b\"".into()),
                pair("chdir", "/tmp"),
                pair("creates", "/x y")
            ]
        );
    }

    #[test]
    fn templates_stay_whole() {
        assert_eq!(
            split("msg={{ a ~ ' ' ~ b }} x=1").unwrap(),
            vec![pair("msg", "{{ a ~ ' ' ~ b }}"), pair("x", "1")]
        );
    }

    #[test]
    fn unbalanced_quotes_are_errors() {
        assert!(split("echo 'oops").unwrap_err().contains("unbalanced quote"));
        assert!(split("msg={{ x").unwrap_err().contains("unclosed"));
    }

    #[test]
    fn keys_that_are_templates() {
        assert_eq!(
            templated_pair("x_{{ a == 'b' }}='v w'"),
            Some(("x_{{ a == 'b' }}".into(), "v w".into()))
        );
        assert_eq!(templated_pair("plain=1"), None);
        assert_eq!(templated_pair("{{ a }}"), None);
    }

    #[test]
    fn words_that_are_not_keys_stay_raw() {
        assert_eq!(
            split("a=b=c --opt=1").unwrap(),
            vec![pair("a", "b=c"), Word::Raw("--opt=1".into())]
        );
    }
}
