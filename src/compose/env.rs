//! Environment files (`.env` and `env_file:`) read as docker-compose 1.29 reads them (through
//! python-dotenv 0.21), and the environment variable substitution uses.

use std::collections::HashMap;
use std::path::Path;

use indexmap::IndexMap;

/// Variables for substitution: the `.env` file beside the first Compose file, overridden by the
/// process environment. A value is `None` for a `.env` line that names a variable without `=`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: IndexMap<String, Option<String>>,
}

impl Environment {
    /// `.env` values (if the file exists) overridden by `process`.
    pub fn new(dotenv: Option<IndexMap<String, Option<String>>>, process: &HashMap<String, String>) -> Self {
        let mut vars = dotenv.unwrap_or_default();
        let mut names: Vec<&String> = process.keys().collect();
        names.sort();
        for name in names {
            vars.insert(name.clone(), process.get(name).cloned());
        }
        Environment { vars }
    }

    /// `dict.get`: `None` when unset, `Some(None)` when set without a value.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.vars.get(name).map(|v| v.as_deref())
    }

    /// A set, non-empty value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten().filter(|v| !v.is_empty())
    }
}

/// Why an environment file could not be read.
#[derive(Debug)]
pub enum EnvFileError {
    NotFound,
    NotAFile,
    Unreadable(String),
}

/// Reads a file of `KEY=value` lines as python-dotenv's `dotenv_values` does, `${VAR}` and
/// `${VAR:-default}` expanded from earlier lines and `process`.
pub fn read_env_file(
    path: &Path,
    process: &HashMap<String, String>,
) -> Result<IndexMap<String, Option<String>>, EnvFileError> {
    if !path.exists() {
        return Err(EnvFileError::NotFound);
    }
    if !path.is_file() {
        return Err(EnvFileError::NotAFile);
    }
    let bytes = std::fs::read(path).map_err(|e| EnvFileError::Unreadable(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| EnvFileError::Unreadable(e.to_string()))?;
    Ok(parse_dotenv(text.strip_prefix('\u{feff}').unwrap_or(&text), process))
}

/// The bindings of a dotenv text, with variables resolved (`interpolate=True`, `override=True`).
pub fn parse_dotenv(text: &str, process: &HashMap<String, String>) -> IndexMap<String, Option<String>> {
    let mut values: IndexMap<String, Option<String>> = IndexMap::new();
    for (key, value) in parse_bindings(text) {
        let resolved = value.map(|v| expand(&v, &values, process));
        values.insert(key, resolved);
    }
    values
}

/// `${NAME}` / `${NAME:-default}` as python-dotenv expands them: earlier lines win over the
/// process environment; a set but empty variable stays empty.
fn expand(value: &str, earlier: &IndexMap<String, Option<String>>, process: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(close) = after.find('}') else { break };
        let inner = &after[..close];
        let (name, default) = match inner.find(':') {
            Some(i) if inner[i..].starts_with(":-") => (&inner[..i], Some(&inner[i + 2..])),
            Some(_) => {
                // Not a variable by python-dotenv's pattern: keep the text.
                out.push_str(&rest[..start + 2]);
                rest = after;
                continue;
            }
            None => (inner, None),
        };
        out.push_str(&rest[..start]);
        let found = match earlier.get(name) {
            Some(v) => Some(v.clone().unwrap_or_default()),
            None => process.get(name).cloned(),
        };
        out.push_str(&found.unwrap_or_else(|| default.unwrap_or("").to_string()));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn is_inline_space(c: char) -> bool {
    c.is_whitespace() && c != '\r' && c != '\n'
}

/// The `(key, value)` bindings of python-dotenv's parser; lines it cannot parse are skipped.
fn parse_bindings(text: &str) -> Vec<(String, Option<String>)> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < chars.len() {
        match parse_binding(&chars, &mut pos) {
            Ok(Some(binding)) => out.push(binding),
            Ok(None) => {}
            Err(()) => {
                // Skip the rest of the line.
                while pos < chars.len() && chars[pos] != '\n' && chars[pos] != '\r' {
                    pos += 1;
                }
                if pos < chars.len() && chars[pos] == '\r' {
                    pos += 1;
                }
                if pos < chars.len() && chars[pos] == '\n' {
                    pos += 1;
                }
            }
        }
    }
    out
}

type Binding = (String, Option<String>);

fn parse_binding(c: &[char], pos: &mut usize) -> Result<Option<Binding>, ()> {
    while *pos < c.len() && c[*pos].is_whitespace() {
        *pos += 1;
    }
    if *pos >= c.len() {
        return Ok(None);
    }
    // `export` followed by inline whitespace.
    let export: Vec<char> = "export".chars().collect();
    if c[*pos..].starts_with(&export) && c.get(*pos + 6).is_some_and(|&ch| is_inline_space(ch)) {
        *pos += 6;
        while *pos < c.len() && is_inline_space(c[*pos]) {
            *pos += 1;
        }
    }
    let key = match c[*pos] {
        '#' => None,
        '\'' => {
            let end = c[*pos + 1..].iter().position(|&ch| ch == '\'').ok_or(())?;
            if end == 0 {
                return Err(());
            }
            let key: String = c[*pos + 1..*pos + 1 + end].iter().collect();
            *pos += end + 2;
            Some(key)
        }
        _ => {
            let start = *pos;
            while *pos < c.len() && !matches!(c[*pos], '=' | '#') && !c[*pos].is_whitespace() {
                *pos += 1;
            }
            if *pos == start {
                return Err(());
            }
            Some(c[start..*pos].iter().collect())
        }
    };
    while *pos < c.len() && is_inline_space(c[*pos]) {
        *pos += 1;
    }
    let value = if c.get(*pos) == Some(&'=') {
        *pos += 1;
        while *pos < c.len() && is_inline_space(c[*pos]) {
            *pos += 1;
        }
        Some(parse_value(c, pos)?)
    } else {
        None
    };
    // An optional comment, then the end of the line.
    let save = *pos;
    while *pos < c.len() && is_inline_space(c[*pos]) {
        *pos += 1;
    }
    if c.get(*pos) == Some(&'#') {
        while *pos < c.len() && c[*pos] != '\r' && c[*pos] != '\n' {
            *pos += 1;
        }
    } else {
        *pos = save;
    }
    while *pos < c.len() && is_inline_space(c[*pos]) {
        *pos += 1;
    }
    match c.get(*pos) {
        None => {}
        Some('\r') => {
            *pos += 1;
            if c.get(*pos) == Some(&'\n') {
                *pos += 1;
            }
        }
        Some('\n') => *pos += 1,
        Some(_) => return Err(()),
    }
    Ok(key.map(|k| (k, value)))
}

fn parse_value(c: &[char], pos: &mut usize) -> Result<String, ()> {
    match c.get(*pos) {
        Some(&q @ ('\'' | '"')) => {
            let mut i = *pos + 1;
            let mut raw = String::new();
            loop {
                match c.get(i) {
                    None => return Err(()),
                    Some('\\') if c.get(i + 1) == Some(&q) => {
                        raw.push('\\');
                        raw.push(q);
                        i += 2;
                    }
                    Some(&ch) if ch == q => break,
                    Some(&ch) => {
                        raw.push(ch);
                        i += 1;
                    }
                }
            }
            *pos = i + 1;
            Ok(if q == '\'' {
                decode_escapes(&raw, "\\'")
            } else {
                decode_escapes(&raw, "\\'\"abfnrtv")
            })
        }
        None | Some('\n') | Some('\r') => Ok(String::new()),
        Some(_) => {
            let start = *pos;
            while *pos < c.len() && c[*pos] != '\n' && c[*pos] != '\r' {
                *pos += 1;
            }
            let part: String = c[start..*pos].iter().collect();
            // re.sub(r"\s+#.*", "", part).rstrip()
            let chars: Vec<char> = part.chars().collect();
            let mut cut = chars.len();
            for i in 1..chars.len() {
                if chars[i] == '#' && chars[i - 1].is_whitespace() {
                    let mut j = i - 1;
                    while j > 0 && chars[j - 1].is_whitespace() {
                        j -= 1;
                    }
                    cut = j;
                    break;
                }
            }
            Ok(chars[..cut].iter().collect::<String>().trim_end().to_string())
        }
    }
}

/// `\\x` escapes for the characters in `allowed`, decoded as Python's `unicode-escape` does.
fn decode_escapes(raw: &str, allowed: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\\'
            && let Some(&next) = chars.peek()
            && (next == '\\' || allowed.contains(next))
        {
            chars.next();
            out.push(match next {
                'a' => '\u{7}',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\u{b}',
                other => other,
            });
            continue;
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<(String, Option<String>)> {
        let process = HashMap::from([
            ("HOME".to_string(), "/root".to_string()),
            ("EMPTY".to_string(), String::new()),
        ]);
        parse_dotenv(text, &process).into_iter().collect()
    }

    fn kv(k: &str, v: Option<&str>) -> (String, Option<String>) {
        (k.to_string(), v.map(str::to_string))
    }

    #[test]
    fn dotenv_lines() {
        let text = "# comment\nA=1\nexport B = two words # note\nC='single ${A}'\nD=\"dq\\n\\\"x\\\"\"\nE\nF=\nG=a#b\n  H=${A}-${MISSING:-dflt}-${HOME}\nbad line here\nI=${EMPTY:-x}\n";
        assert_eq!(
            parse(text),
            vec![
                kv("A", Some("1")),
                kv("B", Some("two words")),
                kv("C", Some("single 1")),
                kv("D", Some("dq\n\"x\"")),
                kv("E", None),
                kv("F", Some("")),
                kv("G", Some("a#b")),
                kv("H", Some("1-dflt-/root")),
                kv("I", Some("")),
            ]
        );
    }

    #[test]
    fn process_environment_overrides_dotenv() {
        let dotenv = parse_dotenv("TAG=1\nONLY=x\n", &HashMap::new());
        let env = Environment::new(Some(dotenv), &HashMap::from([("TAG".to_string(), "2".to_string())]));
        assert_eq!(env.get("TAG"), Some(Some("2")));
        assert_eq!(env.get("ONLY"), Some(Some("x")));
        assert_eq!(env.get("NONE"), None);
    }
}
