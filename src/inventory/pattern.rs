//! Host patterns as Ansible reads them in `hosts:` and `--limit`: host and group names, globs,
//! `~regex`, unions (`a:b`, `a,b`), intersections (`&b`), exclusions (`!b`) and subscripts
//! (`web[0]`, `web[1:3]`).

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{Inventory, ini};

static SPLIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:[^\s:\[\]]|\[[^\]]*\])+").expect("pattern split is valid"));
static SUBSCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$").expect("subscript pattern is valid")
});

/// Host names matching `pattern`, in inventory order, without duplicates.
pub(super) fn select(inventory: &Inventory, pattern: &str) -> Vec<String> {
    let mut hosts: Vec<usize> = Vec::new();
    for part in order(split(pattern)) {
        if let Some(index) = inventory.hosts.get_index_of(part.as_str()) {
            hosts.push(index);
            continue;
        }
        let matched = match_one(inventory, &part);
        if part.starts_with('!') {
            let matched: HashSet<usize> = matched.into_iter().collect();
            hosts.retain(|h| !matched.contains(h));
        } else if part.starts_with('&') {
            let matched: HashSet<usize> = matched.into_iter().collect();
            hosts.retain(|h| matched.contains(h));
        } else {
            let existing: HashSet<usize> = hosts.iter().copied().collect();
            hosts.extend(matched.into_iter().filter(|h| !existing.contains(h)));
        }
    }
    let mut seen = HashSet::new();
    hosts.retain(|h| seen.insert(*h));
    inventory.host_names(&hosts)
}

/// Ansible's `split_host_pattern`: commas separate; without commas, colons do, unless the whole
/// pattern is one address (an IPv6 address or `host:port`). Brackets keep their colons.
fn split(pattern: &str) -> Vec<String> {
    let parts: Vec<&str> = if pattern.contains(',') {
        pattern.split(',').collect()
    } else if ini::parse_address(pattern.trim(), true).is_some() {
        vec![pattern]
    } else {
        SPLIT.find_iter(pattern).map(|m| m.as_str()).collect()
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

/// Unions first, then intersections, then exclusions; only `&`/`!` parts mean "from all".
fn order(parts: Vec<String>) -> Vec<String> {
    let (mut regular, mut intersect, mut exclude) = (Vec::new(), Vec::new(), Vec::new());
    for part in parts {
        if part.starts_with('!') {
            exclude.push(part);
        } else if part.starts_with('&') {
            intersect.push(part);
        } else {
            regular.push(part);
        }
    }
    if regular.is_empty() {
        regular.push("all".to_string());
    }
    regular.into_iter().chain(intersect).chain(exclude).collect()
}

/// The hosts one part matches, ignoring its `&` or `!`.
fn match_one(inventory: &Inventory, part: &str) -> Vec<usize> {
    let part = part.strip_prefix(['&', '!']).unwrap_or(part);
    if part.is_empty() {
        return Vec::new();
    }
    let (expr, subscript) = split_subscript(part);
    let hosts = enumerate(inventory, expr);
    match subscript {
        Some(subscript) => apply_subscript(hosts, subscript),
        None => hosts,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Subscript {
    Index(i64),
    Range(i64, i64),
}

/// `web[0]`, `web[-1]`, `web[1:3]`, `web[2:]`; a `~regex` is never subscripted.
fn split_subscript(part: &str) -> (&str, Option<Subscript>) {
    if part.starts_with('~') {
        return (part, None);
    }
    let Some(caps) = SUBSCRIPT.captures(part) else {
        return (part, None);
    };
    let Some(expr) = caps.get(1) else {
        return (part, None);
    };
    let number = |i: usize| caps.get(i).map(|m| m.as_str().parse::<i64>());
    let subscript = match (number(2), number(3)) {
        (Some(Ok(index)), _) => Subscript::Index(index),
        (None, Some(Ok(start))) => {
            let end = caps.get(5).map_or("", |m| m.as_str());
            match end {
                "" => Subscript::Range(start, -1),
                digits => match digits.parse() {
                    Ok(end) => Subscript::Range(start, end),
                    Err(_) => return (expr.as_str(), Some(Subscript::Range(i64::MAX, i64::MAX))),
                },
            }
        }
        // A number too large to index anything selects nothing.
        _ => Subscript::Range(i64::MAX, i64::MAX),
    };
    (expr.as_str(), Some(subscript))
}

fn apply_subscript(hosts: Vec<usize>, subscript: Subscript) -> Vec<usize> {
    let len = hosts.len() as i64;
    let at = |i: i64| -> Vec<usize> {
        let i = if i < 0 { i + len } else { i };
        usize::try_from(i)
            .ok()
            .and_then(|i| hosts.get(i))
            .map(|&h| vec![h])
            .unwrap_or_default()
    };
    match subscript {
        Subscript::Index(i) => at(i),
        Subscript::Range(start, 0) => at(start),
        Subscript::Range(start, end) => {
            let end = if end == -1 { len - 1 } else { end };
            let from = usize::try_from(start.min(len)).unwrap_or(0);
            let to = usize::try_from(end.saturating_add(1).clamp(0, len)).unwrap_or(0);
            hosts.get(from..to.max(from)).map(<[usize]>::to_vec).unwrap_or_default()
        }
    }
}

/// Groups whose name matches (all their hosts), then, for a glob or regex or when no group
/// matched, hosts whose name matches.
fn enumerate(inventory: &Inventory, expr: &str) -> Vec<usize> {
    let Some(matcher) = matcher(expr) else {
        return Vec::new();
    };
    let mut results = Vec::new();
    let mut any_group = false;
    for group in inventory.groups.values() {
        if matcher.is_match(&group.name) {
            any_group = true;
            results.extend(group.members.iter().copied());
        }
    }
    if !any_group || expr.starts_with('~') || expr.contains(['.', '?', '*', '[']) {
        for (index, name) in inventory.hosts.keys().enumerate() {
            if matcher.is_match(name) {
                results.push(index);
            }
        }
    }
    results
}

/// `~regex` matches at the start of a name (Python's `re.match`); anything else is a shell glob
/// matched against the whole name (`fnmatch`). An invalid regex matches nothing.
fn matcher(expr: &str) -> Option<Regex> {
    let source = match expr.strip_prefix('~') {
        Some(regex) => format!("^(?:{regex})"),
        None => return crate::compat::python::fnmatch_regex(expr),
    };
    Regex::new(&source).ok()
}

#[cfg(test)]
mod tests {
    use super::super::testing::inventory;
    use super::*;
    use crate::compat::python::fnmatch_translate;

    const HOSTS: &str = "\
lonely
[web]
web2
web1
10.100.192.200
[db]
db1
web1
[staging]
web2
db1
[prod:children]
web
";

    fn select(pattern: &str) -> Vec<String> {
        inventory("hosts", HOSTS).select(pattern)
    }

    #[test]
    fn all_and_star_in_inventory_order() {
        // Ansible's order: `all` walks `ungrouped`, then its direct children (`web` is under
        // `prod`, so it comes last), each group's hosts in the order they were listed.
        let all = ["lonely", "db1", "web1", "web2", "10.100.192.200"];
        assert_eq!(select("all"), all);
        assert_eq!(select("*"), all);
        assert_eq!(select("ungrouped"), ["lonely"]);
    }

    #[test]
    fn names_of_hosts_and_groups() {
        assert_eq!(select("web"), ["web2", "web1", "10.100.192.200"]);
        assert_eq!(select("prod"), ["web2", "web1", "10.100.192.200"]);
        assert_eq!(select("db1"), ["db1"]);
        assert!(select("nothing").is_empty());
    }

    #[test]
    fn unions_keep_first_seen_order() {
        assert_eq!(select("db:web"), ["db1", "web1", "web2", "10.100.192.200"]);
        assert_eq!(select("db, web"), ["db1", "web1", "web2", "10.100.192.200"]);
        assert_eq!(select("lonely,db1,lonely"), ["lonely", "db1"]);
        assert_eq!(select("nothing:db"), ["db1", "web1"]);
    }

    #[test]
    fn intersections_and_exclusions() {
        assert_eq!(select("web:&staging"), ["web2"]);
        assert_eq!(select("web:!staging"), ["web1", "10.100.192.200"]);
        // Unions first, then `&`, then `!`, wherever they are written.
        assert_eq!(select("!db:web:&staging"), ["web2"]);
        assert_eq!(select("&staging"), ["db1", "web2"]);
        assert_eq!(select("!web"), ["lonely", "db1"]);
        assert_eq!(select("web,!web1,&prod"), ["web2", "10.100.192.200"]);
    }

    #[test]
    fn globs() {
        assert_eq!(select("web*"), ["web2", "web1", "10.100.192.200"]);
        assert_eq!(select("10.100.*"), ["10.100.192.200"]);
        assert_eq!(select("web?"), ["web2", "web1"]);
        assert_eq!(select("web[!2]"), ["web1"]);
        assert_eq!(select("d*:l*"), ["db1", "web1", "lonely"]);
        assert!(select("Web*").is_empty());
    }

    #[test]
    fn regexes_match_from_the_start() {
        assert_eq!(select("~web[12]"), ["web2", "web1"]);
        assert_eq!(select("~w"), ["web2", "web1", "10.100.192.200"]);
        assert_eq!(select("~(db|lone)"), ["db1", "web1", "lonely"]);
        assert_eq!(select("~eb"), Vec::<String>::new());
        assert!(select("~(unclosed").is_empty());
    }

    #[test]
    fn subscripts() {
        assert_eq!(select("web[0]"), ["web2"]);
        assert_eq!(select("web[-1]"), ["10.100.192.200"]);
        assert_eq!(select("web[1:2]"), ["web1", "10.100.192.200"]);
        assert_eq!(select("web[1:]"), ["web1", "10.100.192.200"]);
        assert!(select("web[9]").is_empty());
    }

    #[test]
    fn splitting() {
        assert_eq!(split("a:b:&c:!d"), ["a", "b", "&c", "!d"]);
        assert_eq!(split(" a , b "), ["a", "b"]);
        assert_eq!(split("web[1:3]:db"), ["web[1:3]", "db"]);
        assert_eq!(split("fe80::1"), ["fe80::1"]);
        assert_eq!(split("~web.*:db"), ["~web.*", "db"]);
    }

    #[test]
    fn glob_translation() {
        assert_eq!(fnmatch_translate("a*b?"), "a.*b.");
        assert_eq!(fnmatch_translate("[!a-c]"), "[^a-c]");
        assert_eq!(fnmatch_translate("x[y"), "x\\[y");
    }
}
