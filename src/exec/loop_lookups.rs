//! The items of `with_items`, `with_together`, `with_nested`, `with_subelements`, `with_sequence` and
//! `with_fileglob`, as Ansible's lookup plugins of those names make them from the step's terms
//! (already templated).

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use crate::compat::ansible::boolean;
use crate::compat::literal::py_repr as repr;
use crate::compat::python::{fnmatch_regex, percent_format_int, shlex_split};
use crate::playbook::LoopLookup;

/// The items a lookup makes of `terms`; `search` are the folders a relative `with_fileglob`
/// pattern is looked for in (each one's `files/` first), in order.
pub fn items(lookup: LoopLookup, terms: Json, search: &[PathBuf]) -> Result<Vec<Json>, String> {
    let terms = listify(terms);
    match lookup {
        // Each term templated, then the lists among them spliced in, one level.
        LoopLookup::Items => match flatten(terms) {
            Json::Array(items) => Ok(items),
            other => Ok(vec![other]),
        },
        LoopLookup::Together => together(terms),
        LoopLookup::Nested => nested(terms),
        LoopLookup::Subelements => subelements(terms),
        LoopLookup::Sequence => terms
            .iter()
            .map(sequence)
            .collect::<Result<Vec<_>, _>>()
            .map(|lists| lists.concat()),
        LoopLookup::Fileglob => Ok(fileglob(&terms, search)),
    }
}

/// `listify_lookup_plugin_terms`: a string (or any single value) is a list of one.
fn listify(value: Json) -> Vec<Json> {
    match value {
        Json::Array(items) => items,
        other => vec![other],
    }
}

/// `LookupBase._flatten`: lists inside the list are spliced in, one level.
fn flatten(values: Vec<Json>) -> Json {
    let mut out = Vec::new();
    for value in values {
        match value {
            Json::Array(items) => out.extend(items),
            other => out.push(other),
        }
    }
    Json::Array(out)
}

fn together(terms: Vec<Json>) -> Result<Vec<Json>, String> {
    if terms.is_empty() {
        return Err("with_together requires at least one element in each list".into());
    }
    let lists: Vec<Vec<Json>> = terms.into_iter().map(listify).collect();
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok((0..longest)
        .map(|i| flatten(lists.iter().map(|l| l.get(i).cloned().unwrap_or(Json::Null)).collect()))
        .collect())
}

fn nested(terms: Vec<Json>) -> Result<Vec<Json>, String> {
    let mut lists = terms.into_iter().map(listify);
    let Some(first) = lists.next() else {
        return Err("with_nested requires at least one element in the nested list".into());
    };
    let mut result = first;
    for list in lists {
        let mut combined = Vec::with_capacity(result.len() * list.len());
        for x in &result {
            for y in &list {
                combined.push(flatten(vec![x.clone(), y.clone()]));
            }
        }
        result = combined;
    }
    Ok(result
        .into_iter()
        .map(|x| match x {
            Json::Array(items) => flatten(items),
            other => other,
        })
        .collect())
}

fn subelements(terms: Vec<Json>) -> Result<Vec<Json>, String> {
    let terms_error = |more: &str| format!("subelements lookup expects a list of two or three items, {more}");
    if !(2..=3).contains(&terms.len()) {
        return Err(terms_error(""));
    }
    let elements = match &terms[0] {
        Json::Object(map) if map.get("skipped").is_some_and(|s| s != &Json::Bool(false)) => return Ok(Vec::new()),
        Json::Object(map) => map.values().cloned().collect(),
        Json::Array(items) => items.clone(),
        _ => {
            return Err(terms_error(
                "first a dict or a list, second a string pointing to the subkey",
            ));
        }
    };
    let Some(path) = terms[1].as_str() else {
        return Err(terms_error(
            "first a dict or a list, second a string pointing to the subkey",
        ));
    };
    let skip_missing = match terms.get(2) {
        None => false,
        Some(Json::Object(flags)) if flags.keys().all(|k| k == "skip_missing") => match flags.get("skip_missing") {
            None => false,
            Some(Json::Bool(b)) => *b,
            Some(other) => boolean(&crate::yaml::scalar_text(other)).unwrap_or(false),
        },
        Some(_) => {
            return Err(terms_error(
                "the optional third item must be a dict with flags ['skip_missing']",
            ));
        }
    };
    let keys: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    for element in elements {
        let Json::Object(mut outer) = element else {
            return Err(format!(
                "subelements lookup expects a dictionary, got '{}'",
                shown(&element)
            ));
        };
        if outer.get("skipped").is_some_and(|s| s != &Json::Bool(false)) {
            continue;
        }
        let Some(sublist) = take_sublist(&mut outer, &keys, skip_missing)? else {
            continue;
        };
        let outer = Json::Object(outer);
        out.extend(sublist.into_iter().map(|inner| json!([outer.clone(), inner])));
    }
    Ok(out)
}

/// Takes the list at `keys` out of `element`, as the lookup pops it; `None` when it is missing
/// and `skip_missing` is set.
fn take_sublist(
    element: &mut serde_json::Map<String, Json>,
    keys: &[&str],
    skip_missing: bool,
) -> Result<Option<Vec<Json>>, String> {
    let mut here = element;
    for (i, key) in keys.iter().enumerate() {
        let last = i + 1 == keys.len();
        if !here.contains_key(*key) {
            if skip_missing {
                return Ok(None);
            }
            return Err(format!(
                "could not find '{key}' key in iterated item '{}'",
                shown(&Json::Object(here.clone()))
            ));
        }
        if last {
            return match here.get(*key) {
                Some(Json::Array(_)) => match here.shift_remove(*key) {
                    Some(Json::Array(items)) => Ok(Some(items)),
                    _ => Ok(Some(Vec::new())),
                },
                Some(other) => Err(format!("the key {key} should point to a list, got '{}'", shown(other))),
                None => Ok(None),
            };
        }
        match here.get_mut(*key) {
            Some(Json::Object(inner)) => here = inner,
            Some(other) if !skip_missing => {
                return Err(format!(
                    "the key {key} should point to a dictionary, got '{}'",
                    shown(other)
                ));
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// A value as Python's `'%s' % value` shows it.
fn shown(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => repr(other),
    }
}

/// One `with_sequence` term: `[start-]end[/stride][:format]` or `start= end= count= stride=
/// format=`; the items are strings.
fn sequence(term: &Json) -> Result<Vec<Json>, String> {
    let term = crate::yaml::scalar_text(term);
    let (mut start, mut end, mut count, mut stride, mut format) = (1i64, None, None, 1i64, "%d".to_string());
    if let Some(caps) = shortcut().captures(&term) {
        let number = |i: usize, name: &str| -> Result<Option<i64>, String> {
            caps.get(i)
                .map(|m| python_int(m.as_str()).ok_or_else(|| format!("can't parse {name}={} as integer", m.as_str())))
                .transpose()
        };
        start = number(2, "start")?.unwrap_or(start);
        end = number(3, "end")?;
        stride = number(5, "stride")?.unwrap_or(stride);
        if let Some(m) = caps.get(7) {
            format = m.as_str().to_string();
        }
    } else {
        let words = shlex_split(&term)
            .map_err(|e| format!("unknown error parsing with_sequence arguments: {term:?}. Error was: {e:?}"))?;
        let mut unknown = Vec::new();
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                unknown.push("_raw_params".to_string());
                continue;
            };
            let number = || python_int(value).ok_or_else(|| format!("can't parse {key}={value} as integer"));
            match key {
                "start" => start = number()?,
                "end" => end = Some(number()?),
                "count" => count = Some(number()?),
                "stride" => stride = number()?,
                "format" => format = value.to_string(),
                other => unknown.push(other.to_string()),
            }
        }
        if !unknown.is_empty() {
            let names: Vec<String> = unknown.iter().map(|k| format!("'{k}'")).collect();
            return Err(format!(
                "unrecognized arguments to with_sequence: [{}]",
                names.join(", ")
            ));
        }
    }
    let end = match (count, end) {
        (None, None) => return Err("must specify count or end in with_sequence".into()),
        (Some(_), Some(_)) => return Err("can't specify both count and end in with_sequence".into()),
        (Some(0), None) => {
            start = 0;
            stride = 0;
            0
        }
        (Some(count), None) => start + count * stride - 1,
        (None, Some(end)) => end,
    };
    if stride > 0 && end < start {
        return Err("to count backwards make stride negative".into());
    }
    if stride < 0 && end > start {
        return Err("to count forward don't make stride negative".into());
    }
    if format.matches('%').count() != 1 {
        return Err(format!("bad formatting string: {format}"));
    }
    if stride == 0 {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        let text = percent_format_int(&format, i).ok_or_else(|| format!("problem formatting {i} with '{format}'"))?;
        out.push(Json::String(text));
        i += stride;
    }
    Ok(out)
}

fn shortcut() -> &'static regex::Regex {
    static SHORTCUT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        let num = "(0?x?[0-9a-f]+)";
        regex::Regex::new(&format!("(?i)^({num}-)?{num}(/{num})?(:(.+))?$")).expect("pattern")
    });
    &SHORTCUT
}

/// Python's `int(text, 0)`: decimal, `0x`, `0o`, `0b`, with a sign.
fn python_int(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let body = body.replace('_', "");
    let lower = body.to_ascii_lowercase();
    let value = if let Some(hex) = lower.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = lower.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if let Some(bin) = lower.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if lower.len() > 1 && lower.starts_with('0') {
        // Python refuses `010` in base 0, unless it is all zeros.
        if lower.bytes().all(|b| b == b'0') {
            0
        } else {
            return None;
        }
    } else {
        lower.parse().ok()?
    };
    Some(if negative { -value } else { value })
}

/// The files (not folders) whose names match each pattern: a pattern with a folder is looked
/// for there (relative to the search folders' `files/`, then to them), a bare one in each
/// search folder's `files/`, then the folder itself; the first folder with a match wins.
fn fileglob(terms: &[Json], search: &[PathBuf]) -> Vec<Json> {
    let mut out = Vec::new();
    for term in terms {
        let term = crate::yaml::scalar_text(term);
        let path = Path::new(&term);
        let Some(pattern) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let folders: Vec<PathBuf> = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) if dir.is_absolute() => vec![dir.to_path_buf()],
            Some(dir) => search
                .iter()
                .flat_map(|base| [base.join("files").join(dir), base.join(dir)])
                .filter(|p| p.is_dir())
                .take(1)
                .collect(),
            None => search
                .iter()
                .flat_map(|base| [base.join("files"), base.to_path_buf()])
                .collect(),
        };
        for folder in folders {
            let found = glob_files(&folder, pattern);
            if !found.is_empty() {
                out.extend(found.into_iter().map(Json::String));
                break;
            }
        }
    }
    out
}

/// Python's `glob.glob(folder/pattern)` for files: hidden names only for a pattern that starts
/// with a dot; sorted by name (Python leaves the folder's order).
fn glob_files(folder: &Path, pattern: &str) -> Vec<String> {
    let Some(re) = fnmatch_regex(pattern) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let visible = !name.starts_with('.') || pattern.starts_with('.');
            (visible && re.is_match(&name) && e.path().is_file()).then(|| folder.join(&name).display().to_string())
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lookup: LoopLookup, terms: Json) -> Result<Vec<Json>, String> {
        items(lookup, terms, &[])
    }

    #[test]
    fn together_and_nested_as_ansible() {
        assert_eq!(
            run(LoopLookup::Together, json!([[1, 2, 3], ["a", "b"]])).unwrap(),
            [json!([1, "a"]), json!([2, "b"]), json!([3, null])]
        );
        assert_eq!(
            run(LoopLookup::Nested, json!([[1, 2], ["a", "b"], ["x"]])).unwrap(),
            [
                json!([1, "a", "x"]),
                json!([1, "b", "x"]),
                json!([2, "a", "x"]),
                json!([2, "b", "x"])
            ]
        );
        assert!(run(LoopLookup::Nested, json!([])).is_err());
    }

    #[test]
    fn subelements_pop_the_sublist() {
        let users = json!([{"name": "a", "keys": [1, 2]}, {"name": "b", "keys": []}, {"name": "c"}]);
        let err = run(LoopLookup::Subelements, json!([users.clone(), "keys"])).unwrap_err();
        assert!(err.starts_with("could not find 'keys' key in iterated item"), "{err}");
        assert_eq!(
            run(LoopLookup::Subelements, json!([users, "keys", {"skip_missing": true}])).unwrap(),
            [json!([{"name": "a"}, 1]), json!([{"name": "a"}, 2])]
        );
    }

    #[test]
    fn sequences_as_ansible() {
        let seq = |t: &str| {
            run(LoopLookup::Sequence, json!(t))
                .map(|v| v.iter().map(|x| x.as_str().unwrap().to_string()).collect::<Vec<_>>())
        };
        assert_eq!(seq("5").unwrap(), ["1", "2", "3", "4", "5"]);
        assert_eq!(seq("2-10/4").unwrap(), ["2", "6", "10"]);
        assert_eq!(seq("4:host%02d").unwrap(), ["host01", "host02", "host03", "host04"]);
        assert_eq!(
            seq("start=5 end=11 stride=2 format=0x%02x").unwrap(),
            ["0x05", "0x07", "0x09", "0x0b"]
        );
        assert_eq!(seq("start=0x0f00 count=2 format=%04x").unwrap(), ["0f00", "0f01"]);
        assert_eq!(seq("start=10 end=8 stride=-1").unwrap(), ["10", "9", "8"]);
        assert_eq!(seq("count=0").unwrap(), Vec::<String>::new());
        assert_eq!(
            seq("start=3 end=1").unwrap_err(),
            "to count backwards make stride negative"
        );
        assert_eq!(
            seq("start=1").unwrap_err(),
            "must specify count or end in with_sequence"
        );
        assert_eq!(
            seq("end=2 what=1").unwrap_err(),
            "unrecognized arguments to with_sequence: ['what']"
        );
    }
}
