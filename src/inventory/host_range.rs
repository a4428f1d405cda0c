//! Host names and ranges, as Ansible reads them in every inventory format: `host:port`,
//! `[ipv6]:port`, and ranges like `web[01:50].example.com`, `db-[a:f]` or `n[1:10:2]` expanded.

use std::sync::LazyLock;

use regex::Regex;

/// A range never expands to more hosts than this; beyond it the range is surely a typo.
const MAX_RANGE_HOSTS: usize = 100_000;

static BRACKETED_HOSTPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[(.+)\]:([0-9]+)$").expect("bracketed host pattern is valid"));
static HOSTPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$").expect("host:port pattern is valid"));
static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    let range = r"\[(?:[a-zA-Z]:[a-zA-Z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]";
    let label = format!(r"(?:\w|{range})(?:[\w-]|{range})*");
    Regex::new(&format!(r"^{label}(?:\.{label})*\.?$")).expect("hostname pattern is valid")
});
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[0-9a-fA-F.]|:|\[[0-9a-fA-F]+:[0-9a-fA-F]+(?::[0-9]+)?\])+$").expect("ipv6 pattern is valid")
});

/// A host name with an optional port, split out of `host:port` or `[ipv6]:port`.
pub(super) struct Address<'a> {
    pub host: &'a str,
    /// Where `host` starts in the text that was parsed.
    pub offset: usize,
    pub port: Option<&'a str>,
}

/// Ansible's `parse_address`: a hostname, IPv4 or IPv6 address, with an optional port; ranges
/// like `web[1:3]` are accepted when `allow_ranges`. `None` when the text is none of these.
pub(super) fn parse_address(text: &str, allow_ranges: bool) -> Option<Address<'_>> {
    let mut address = Address {
        host: text,
        offset: 0,
        port: None,
    };
    if let Some(caps) = BRACKETED_HOSTPORT.captures(text)
        && let (Some(host), Some(port)) = (caps.get(1), caps.get(2))
    {
        address = Address {
            host: host.as_str(),
            offset: host.start(),
            port: Some(port.as_str()),
        };
    }
    if let Some(caps) = HOSTPORT.captures(address.host)
        && let (Some(host), Some(port)) = (caps.get(1), caps.get(2))
    {
        address.host = host.as_str();
        address.port = Some(port.as_str());
    }
    let host = address.host;
    if !(HOSTNAME.is_match(host) || is_ipv6(host)) {
        return None;
    }
    if !allow_ranges && host.contains('[') {
        return None;
    }
    Some(address)
}

/// `[ipv6]:port`, like `[fe80::1]:2222`.
pub(super) fn is_bracketed_ipv6_port(text: &str) -> bool {
    BRACKETED_HOSTPORT
        .captures(text)
        .is_some_and(|c| c.get(1).is_some_and(|m| is_ipv6(m.as_str())))
}

fn is_ipv6(text: &str) -> bool {
    text.matches(':').count() >= 2 && IPV6.is_match(text)
}

/// A host pattern that cannot be read; `offset` is where in the pattern the problem is.
#[derive(Debug)]
pub(super) struct PatternError {
    pub message: String,
    pub help: Option<String>,
    pub offset: usize,
}

impl PatternError {
    fn new(offset: usize, message: impl Into<String>, help: impl Into<String>) -> Self {
        PatternError {
            message: message.into(),
            help: Some(help.into()),
            offset,
        }
    }
}

/// A host entry of an inventory: `name`, `name:port`, with ranges like `web[01:10]`,
/// `db-[a:c]` or `[1:10:2]` expanded. Returns the host names and the port.
pub(super) fn expand_host_pattern(pattern: &str) -> Result<(Vec<String>, Option<i64>), PatternError> {
    let (name, offset, port) = match parse_address(pattern, true) {
        Some(address) => (address.host, address.offset, address.port),
        None => (pattern, 0, None),
    };
    let port = match port {
        Some(digits) => Some(digits.parse::<i64>().map_err(|_| {
            PatternError::new(
                pattern.len() - digits.len(),
                format!("port `{digits}` is out of range"),
                "ports go up to 65535",
            )
        })?),
        None => None,
    };
    if port.is_none() && pattern.trim_end().ends_with(':') {
        return Err(PatternError::new(
            pattern.len().saturating_sub(1),
            format!("host `{pattern}` ends with `:` but no port follows"),
            "write the port after the colon, like `web1:2222`, or remove the colon",
        ));
    }
    if name.trim() == "---" {
        return Err(PatternError::new(
            0,
            "`---` is not a host name; this looks like a YAML file",
            "a YAML inventory is a mapping of groups, like `all:` with `hosts:` under it; name the file .yml to see \
             YAML errors",
        ));
    }
    if name.is_empty() {
        return Err(PatternError::new(0, "empty host name", "write a host name or address"));
    }
    let mut hosts = Vec::new();
    expand_ranges(name, &mut hosts).map_err(|mut e| {
        e.offset += offset;
        e
    })?;
    Ok((hosts, port))
}

/// Expands every `[begin:end(:step)]` in `name`, leftmost first, into `out`.
fn expand_ranges(name: &str, out: &mut Vec<String>) -> Result<(), PatternError> {
    let Some(open) = name.find('[') else {
        out.push(name.to_string());
        return Ok(());
    };
    let help = "a host range looks like `web[1:3]`, `web[01:10]`, `db-[a:c]` or `web[1:10:2]`";
    if let Some(close) = name[..open].find(']') {
        return Err(PatternError::new(
            close,
            format!("unexpected `]` in host name `{name}`"),
            help,
        ));
    }
    let Some(close) = name[open..].find(']').map(|c| open + c) else {
        return Err(PatternError::new(
            open,
            format!("unclosed `[` in host name `{name}`"),
            help,
        ));
    };
    let (head, inner, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let bounds: Vec<&str> = inner.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(PatternError::new(
            open,
            format!("host range `[{inner}]` must be `[begin:end]` or `[begin:end:step]`"),
            help,
        ));
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(PatternError::new(
            open,
            format!("host range `[{inner}]` has no end"),
            help,
        ));
    }
    let step = match bounds.get(2) {
        None => 1,
        Some(s) => match s.trim().parse::<usize>() {
            Ok(step) if step > 0 => step,
            _ => {
                return Err(PatternError::new(
                    open,
                    format!("the step of host range `[{inner}]` must be a positive whole number"),
                    help,
                ));
            }
        },
    };
    let width = (begin.starts_with('0') && begin.len() > 1).then_some(begin.len());
    if let Some(width) = width
        && end.len() != width
    {
        return Err(PatternError::new(
            open,
            format!("zero-padded host range `[{inner}]` needs begin and end of the same width"),
            format!(
                "write `[{:0>w$}:{end}]`",
                begin.trim_start_matches('0'),
                w = end.len().max(1)
            ),
        ));
    }

    let mut tails = Vec::new();
    expand_ranges(tail, &mut tails).map_err(|mut e| {
        e.offset += close + 1;
        e
    })?;

    let letters = letter_index(begin).zip(letter_index(end));
    let values: Vec<String> = if let Some((first, last)) = letters {
        if first > last {
            return Err(PatternError::new(
                open,
                format!("host range `[{inner}]` must have begin <= end"),
                format!("write `[{end}:{begin}]`"),
            ));
        }
        (first..=last)
            .step_by(step)
            .filter_map(index_letter)
            .map(String::from)
            .collect()
    } else {
        let (Ok(first), Ok(last)) = (begin.trim().parse::<i64>(), end.trim().parse::<i64>()) else {
            return Err(PatternError::new(
                open,
                format!("host range `[{inner}]` must have numbers or single letters as bounds"),
                help,
            ));
        };
        if first > last {
            return Err(PatternError::new(
                open,
                format!("host range `[{inner}]` must have begin <= end"),
                format!("write `[{end}:{begin}]`"),
            ));
        }
        let count = (i128::from(last) - i128::from(first)) / step as i128 + 1;
        if count.saturating_mul(tails.len() as i128) + out.len() as i128 > MAX_RANGE_HOSTS as i128 {
            return Err(too_many(open));
        }
        (first..=last)
            .step_by(step)
            .map(|n| match width {
                Some(w) => format!("{n:0w$}"),
                None => n.to_string(),
            })
            .collect()
    };
    if values.len().saturating_mul(tails.len()) + out.len() > MAX_RANGE_HOSTS {
        return Err(too_many(open));
    }
    for value in &values {
        for tail in &tails {
            out.push(format!("{head}{value}{tail}"));
        }
    }
    Ok(())
}

fn too_many(offset: usize) -> PatternError {
    PatternError::new(
        offset,
        format!("host range expands to more than {MAX_RANGE_HOSTS} hosts"),
        "check the range bounds; list very large fleets in several ranges",
    )
}

/// Position in Python's `string.ascii_letters` (`a`..`z` then `A`..`Z`).
fn letter_index(text: &str) -> Option<u32> {
    let mut chars = text.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    match c {
        'a'..='z' => Some(c as u32 - 'a' as u32),
        'A'..='Z' => Some(26 + c as u32 - 'A' as u32),
        _ => None,
    }
}

fn index_letter(index: u32) -> Option<char> {
    match index {
        0..=25 => char::from_u32('a' as u32 + index),
        26..=51 => char::from_u32('A' as u32 + index - 26),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::ini::tests::assert_error;
    use super::super::testing::inventory;
    use super::*;

    #[test]
    fn ranges_of_each_kind() {
        let inv = inventory(
            "hosts",
            "[num]\nweb[1:3]\n[pad]\nweb[01:10].example.com\n[alpha]\ndb-[a:c]\n[stride]\nn[1:10:3]\n[open]\no[:2]\n[two]\nr[1:2]-[a:b]\n",
        );
        let groups = inv.groups_map();
        assert_eq!(groups["num"], ["web1", "web2", "web3"]);
        assert_eq!(groups["pad"].len(), 10);
        assert_eq!(groups["pad"][0], "web01.example.com");
        assert_eq!(groups["pad"][9], "web10.example.com");
        assert_eq!(groups["alpha"], ["db-a", "db-b", "db-c"]);
        assert_eq!(groups["stride"], ["n1", "n4", "n7", "n10"]);
        assert_eq!(groups["open"], ["o0", "o1", "o2"]);
        assert_eq!(groups["two"], ["r1-a", "r1-b", "r2-a", "r2-b"]);
    }

    #[test]
    fn addresses() {
        let address = |text: &str, ranges: bool| {
            parse_address(text, ranges).map(|a| (a.host.to_string(), a.port.map(String::from)))
        };
        assert_eq!(address("web1", false), Some(("web1".into(), None)));
        assert_eq!(address("web1:22", false), Some(("web1".into(), Some("22".into()))));
        assert_eq!(address("[::1]:22", false), Some(("::1".into(), Some("22".into()))));
        assert_eq!(address("2001:db8::1", false), Some(("2001:db8::1".into(), None)));
        assert_eq!(
            address("web[1:3]:22", true),
            Some(("web[1:3]".into(), Some("22".into())))
        );
        assert_eq!(address("web[1:3]", false), None);
        assert_eq!(address("web*", true), None);
        assert_eq!(address("a:b", true), None);
    }

    #[test]
    fn error_bad_ranges() {
        assert_error(
            "[web]\nweb[3:1]\n",
            &[
                "hosts:2:4: host range `[3:1]` must have begin <= end",
                "help: write `[1:3]`",
            ],
        );
        assert_error("db-[c:a]\n", &["hosts:1:4: host range `[c:a]` must have begin <= end"]);
        assert_error(
            "web[01:100]\n",
            &[
                "hosts:1:4: zero-padded host range `[01:100]` needs begin and end of the same width",
                "write `[001:100]`",
            ],
        );
        assert_error(
            "web[1]\n",
            &["hosts:1:4: host range `[1]` must be `[begin:end]` or `[begin:end:step]`"],
        );
        assert_error("web[1:]\n", &["hosts:1:4: host range `[1:]` has no end"]);
        assert_error(
            "web[1:5:0]\n",
            &["hosts:1:4: the step of host range `[1:5:0]` must be a positive whole number"],
        );
        assert_error(
            "web[1:x]\n",
            &["hosts:1:4: host range `[1:x]` must have numbers or single letters as bounds"],
        );
        assert_error(
            "web[1:3\n",
            &[
                "hosts:1:4: unclosed `[` in host name `web[1:3`",
                "help: a host range looks like",
            ],
        );
        assert_error("h[0:999][0:999]\n", &["host range expands to more than 100000 hosts"]);
    }
}
