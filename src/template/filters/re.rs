//! Python `re` semantics over Rust's `regex`: replacement templates (`\1`, `\g<name>`),
//! `re.subn`'s empty-match rule, and the `regex_*` filters and `match`/`search`/`regex` tests.

use minijinja::value::{Kwargs, Rest, Tuple, Value};
use minijinja::{Error, ErrorKind};
use regex::{Captures, Regex, RegexBuilder};

use super::args::*;

/// Compiles a Python regular expression; `\Z` is Python's spelling of `\z`.
fn compile_regex(filter: &str, pattern: &str, ignorecase: bool, multiline: bool) -> Result<Regex, Error> {
    let mut translated = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => translated.push_str("\\z"),
                Some(next) => {
                    translated.push('\\');
                    translated.push(next);
                }
                None => translated.push('\\'),
            }
        } else {
            translated.push(c);
        }
    }
    RegexBuilder::new(&translated)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| fail(format!("{filter}: invalid regular expression `{pattern}`: {e}")))
}

enum Piece {
    Text(String),
    Group(usize),
    Named(String),
}

/// Parses a Python replacement template: `\1`, `\g<1>` and `\g<name>` refer to groups, and
/// `\n`, `\t` and the like are escapes.
fn parse_template(filter: &str, template: &str, regex: &Regex) -> Result<Vec<Piece>, Error> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let chars: Vec<char> = template.chars().collect();
    let group_count = regex.captures_len();
    let check_group = |index: usize| {
        if index < group_count {
            Ok(Piece::Group(index))
        } else {
            Err(fail(format!(
                "{filter}: invalid group reference {index} in `{template}`"
            )))
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            literal.push(c);
            continue;
        }
        let Some(&next) = chars.get(i) else {
            return Err(fail(format!("{filter}: bad escape (end of pattern) in `{template}`")));
        };
        i += 1;
        let piece = match next {
            'g' => {
                let rest: String = chars[i..].iter().collect();
                let Some(name) = rest
                    .strip_prefix('<')
                    .and_then(|r| r.split_once('>'))
                    .map(|(n, _)| n.to_string())
                else {
                    return Err(fail(format!("{filter}: missing group name after \\g in `{template}`")));
                };
                i += name.chars().count() + 2;
                if let Ok(index) = name.parse::<usize>() {
                    check_group(index)?
                } else if regex.capture_names().flatten().any(|n| n == name) {
                    Piece::Named(name)
                } else {
                    return Err(fail(format!("{filter}: unknown group name `{name}` in `{template}`")));
                }
            }
            '0' => {
                let mut value = 0u32;
                let mut taken = 0;
                while taken < 2 && chars.get(i).is_some_and(|c| ('0'..='7').contains(c)) {
                    value = value * 8 + chars[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    taken += 1;
                }
                literal.push(char::from_u32(value).unwrap_or('\0'));
                continue;
            }
            '1'..='9' => {
                let mut digits = next.to_string();
                if chars.get(i).is_some_and(char::is_ascii_digit) {
                    digits.push(chars[i]);
                    i += 1;
                    let octal = |c: char| ('0'..='7').contains(&c);
                    if digits.chars().all(octal) && chars.get(i).is_some_and(|c| octal(*c)) {
                        digits.push(chars[i]);
                        i += 1;
                        let value = u32::from_str_radix(&digits, 8).unwrap_or(0);
                        literal.push(char::from_u32(value).unwrap_or('\0'));
                        continue;
                    }
                }
                check_group(digits.parse().unwrap_or(0))?
            }
            'a' => Piece::Text("\u{7}".into()),
            'b' => Piece::Text("\u{8}".into()),
            'f' => Piece::Text("\u{c}".into()),
            'n' => Piece::Text("\n".into()),
            'r' => Piece::Text("\r".into()),
            't' => Piece::Text("\t".into()),
            'v' => Piece::Text("\u{b}".into()),
            '\\' => Piece::Text("\\".into()),
            c if c.is_ascii_alphabetic() => {
                return Err(fail(format!("{filter}: bad escape \\{c} in `{template}`")));
            }
            c => Piece::Text(format!("\\{c}")),
        };
        match piece {
            Piece::Text(s) => literal.push_str(&s),
            group => {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(group);
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

fn expand(out: &mut String, captures: &Captures<'_>, pieces: &[Piece]) {
    for piece in pieces {
        match piece {
            Piece::Text(s) => out.push_str(s),
            Piece::Group(i) => out.push_str(captures.get(*i).map_or("", |m| m.as_str())),
            Piece::Named(name) => out.push_str(captures.name(name).map_or("", |m| m.as_str())),
        }
    }
}

/// Python's `re.subn`: replaces up to `count` matches (all for 0), including empty matches right
/// after a previous match, and returns the text and how many were replaced.
fn substitute(regex: &Regex, text: &str, pieces: &[Piece], count: usize) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let (mut last, mut pos, mut replaced) = (0, 0, 0);
    let mut empty_at = None;
    while pos <= text.len() && (count == 0 || replaced < count) {
        let Some(captures) = regex.captures_at(text, pos) else {
            break;
        };
        let Some(whole) = captures.get(0) else { break };
        if whole.is_empty() && empty_at == Some(whole.start()) {
            match text[pos..].chars().next() {
                Some(c) => {
                    pos += c.len_utf8();
                    continue;
                }
                None => break,
            }
        }
        out.push_str(&text[last..whole.start()]);
        expand(&mut out, &captures, pieces);
        last = whole.end();
        pos = whole.end();
        empty_at = whole.is_empty().then_some(whole.end());
        replaced += 1;
    }
    out.push_str(&text[last..]);
    (out, replaced)
}

/// `regex_replace(pattern, replacement='', ignorecase=false, multiline=false, count=0,
/// mandatory_count=0)` with Python's regular expressions and replacement syntax.
pub(super) fn regex_replace(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new(
        "regex_replace",
        &args,
        &kwargs,
        &[
            "pattern",
            "replacement",
            "ignorecase",
            "multiline",
            "count",
            "mandatory_count",
        ],
    )?;
    let pattern = params.string(0, "pattern")?.unwrap_or_default();
    let replacement = params.string(1, "replacement")?.unwrap_or_default();
    let ignorecase = params.flag(2, "ignorecase")?;
    let multiline = params.flag(3, "multiline")?;
    let count = params.int(4, "count")?.unwrap_or(0);
    let mandatory_count = params.int(5, "mandatory_count")?.unwrap_or(0);
    params.finish()?;
    let value = text(value)?;
    let regex = compile_regex("regex_replace", &pattern, ignorecase, multiline)?;
    let pieces = parse_template("regex_replace", &replacement, &regex)?;
    let (output, replaced) = substitute(&regex, &value, &pieces, usize::try_from(count).unwrap_or(0));
    if mandatory_count != 0 && i64::try_from(replaced).ok() != Some(mandatory_count) {
        return Err(fail(format!(
            "regex_replace: `{pattern}` should match {mandatory_count} times, but matches {replaced} times in `{value}`"
        )));
    }
    Ok(output)
}

/// `regex_search(pattern, '\\1', '\\g<name>', ignorecase=false, multiline=false)`: the first match,
/// the listed groups of it, or none.
pub(super) fn regex_search(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let Some((pattern, groups)) = args.split_first() else {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            "regex_search: missing the pattern",
        ));
    };
    let ignorecase = kwargs.get::<Option<Value>>("ignorecase")?.is_some_and(|v| v.is_true());
    let multiline = kwargs.get::<Option<Value>>("multiline")?.is_some_and(|v| v.is_true());
    kwargs.assert_all_used()?;
    let value = text(value)?;
    let regex = compile_regex("regex_search", &text(pattern)?, ignorecase, multiline)?;
    let groups = groups
        .iter()
        .map(|group| {
            let group = text(group)?;
            let reference = if let Some(name) = group.strip_prefix("\\g<").and_then(|g| g.strip_suffix('>')) {
                name.to_string()
            } else if let Some(index) = group.strip_prefix('\\').filter(|g| g.parse::<usize>().is_ok()) {
                index.to_string()
            } else {
                return Err(fail(format!(
                    "regex_search: unknown argument `{group}`; use '\\\\1' or '\\\\g<name>'"
                )));
            };
            match parse_template("regex_search", &format!("\\g<{reference}>"), &regex)?.pop() {
                Some(piece) => Ok(piece),
                None => Err(fail(format!("regex_search: unknown argument `{group}`"))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(captures) = regex.captures(&value) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(captures.get(0).map_or("", |m| m.as_str())));
    }
    Ok(Value::from(
        groups
            .iter()
            .map(|piece| {
                let found = match piece {
                    Piece::Group(i) => captures.get(*i),
                    Piece::Named(name) => captures.name(name),
                    Piece::Text(_) => None,
                };
                found.map_or_else(|| Value::from(()), |m| Value::from(m.as_str()))
            })
            .collect::<Vec<_>>(),
    ))
}

/// `regex_findall(pattern, multiline=false, ignorecase=false)`, Python's `re.findall`: the
/// matches, the one group of each, or a tuple of the groups of each.
pub(super) fn regex_findall(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("regex_findall", &args, &kwargs, &["pattern", "multiline", "ignorecase"])?;
    let pattern = params.string(0, "pattern")?.unwrap_or_default();
    let multiline = params.flag(1, "multiline")?;
    let ignorecase = params.flag(2, "ignorecase")?;
    params.finish()?;
    let value = text(value)?;
    let regex = compile_regex("regex_findall", &pattern, ignorecase, multiline)?;
    let groups = regex.captures_len() - 1;
    let group_text = |c: &Captures<'_>, i: usize| Value::from(c.get(i).map_or("", |m| m.as_str()));
    let mut found = Vec::new();
    let mut pos = 0;
    let mut empty_at = None;
    while pos <= value.len() {
        let Some(captures) = regex.captures_at(&value, pos) else {
            break;
        };
        let Some(whole) = captures.get(0) else { break };
        if whole.is_empty() && empty_at == Some(whole.start()) {
            match value[pos..].chars().next() {
                Some(c) => {
                    pos += c.len_utf8();
                    continue;
                }
                None => break,
            }
        }
        found.push(match groups {
            0 => group_text(&captures, 0),
            1 => group_text(&captures, 1),
            n => Value::from(Tuple::new((1..=n).map(|i| group_text(&captures, i)).collect())),
        });
        pos = whole.end();
        empty_at = whole.is_empty().then_some(whole.end());
    }
    Ok(Value::from(found))
}

/// `regex_escape(re_type='python')`: escapes what Python's `re.escape` escapes, or with
/// `re_type='posix_basic'` the special characters of a POSIX basic regular expression.
pub(super) fn regex_escape(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("regex_escape", &args, &kwargs, &["re_type"])?;
    let re_type = params.string(0, "re_type")?;
    params.finish()?;
    let value = text(value)?;
    let special: &str = match re_type.as_deref().unwrap_or("python") {
        "python" => "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}",
        "posix_basic" => "].[^$*\\",
        other => {
            return Err(fail(format!("regex_escape: regex type `{other}` is not supported")));
        }
    };
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

#[derive(Clone, Copy)]
enum MatchType {
    Match,
    Search,
    Full,
}

fn regex_test(
    test: &'static str,
    value: &Value,
    args: &[Value],
    kwargs: &Kwargs,
    kind: Option<MatchType>,
) -> Result<bool, Error> {
    let names: &[&str] = if kind.is_some() {
        &["pattern", "ignorecase", "multiline"]
    } else {
        &["pattern", "ignorecase", "multiline", "match_type"]
    };
    let params = Params::new(test, args, kwargs, names)?;
    let Some(pattern) = params.string(0, "pattern")? else {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            format!("{test}: missing the pattern"),
        ));
    };
    let ignorecase = params.flag(1, "ignorecase")?;
    let multiline = params.flag(2, "multiline")?;
    let kind = match kind {
        Some(kind) => kind,
        None => match params.string(3, "match_type")?.as_deref().unwrap_or("search") {
            "match" => MatchType::Match,
            "search" => MatchType::Search,
            "fullmatch" => MatchType::Full,
            other => {
                return Err(fail(format!(
                    "{test}: match_type must be 'match', 'search' or 'fullmatch', not '{other}'"
                )));
            }
        },
    };
    params.finish()?;
    let anchored = match kind {
        MatchType::Match => format!(r"\A(?:{pattern})"),
        MatchType::Search => pattern.clone(),
        MatchType::Full => format!(r"\A(?:{pattern})\z"),
    };
    // The pattern alone first, so that an error quotes it as it was written.
    compile_regex(test, &pattern, ignorecase, multiline)?;
    let regex = compile_regex(test, &anchored, ignorecase, multiline)?;
    Ok(regex.is_match(&text(value)?))
}

/// `is match(pattern, ignorecase=false, multiline=false)`: matches at the start.
pub(super) fn test_match(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("match", value, &args, &kwargs, Some(MatchType::Match))
}

/// `is search(pattern, ignorecase=false, multiline=false)`: matches anywhere.
pub(super) fn test_search(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("search", value, &args, &kwargs, Some(MatchType::Search))
}

/// `is regex(pattern, ignorecase=false, multiline=false, match_type='search')`.
pub(super) fn test_regex(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("regex", value, &args, &kwargs, None)
}
