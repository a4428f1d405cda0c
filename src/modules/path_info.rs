//! The facts about a path that Ansible adds to a module's result when it names a `path` or `dest`
//! (`add_path_info` of `module_utils/basic.py`): `uid`, `gid`, `owner`, `group`, `mode` as
//! "0644", `state` (`file`, `directory`, `link`, `hard`) and `size`.

use serde_json::{Map, Value as Json};

use crate::transport::{Exec, HostError, Remote};

/// Prints, for an existing `$1`: uid, gid, owner, group, octal mode, size and links of the path
/// itself, then `link`, `directory` or `other` for what it is (a folder through a link counts as
/// a folder, as `os.path.isdir` sees it). Nothing for a missing path.
pub(crate) const PATH_INFO: &str = r#"[ -e "$1" ] || [ -L "$1" ] || exit 0
stat -c '%u %g %U %G %a %s %h' -- "$1" || exit 1
if [ -L "$1" ]; then echo link; elif [ -d "$1" ]; then echo directory; else echo other; fi"#;

/// The path's facts, to merge into a result; empty when nothing is at the path.
pub async fn path_info(remote: &Remote<'_>, path: &str) -> Result<Map<String, Json>, HostError> {
    let output = remote.exec(&Exec::script(PATH_INFO, &[path])).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot inspect `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(parse(&output.stdout_text()))
}

fn parse(text: &str) -> Map<String, Json> {
    let mut lines = text.lines();
    let (Some(head), Some(kind)) = (lines.next(), lines.next()) else {
        return Map::new();
    };
    let fields: Vec<&str> = head.split_whitespace().collect();
    let [uid, gid, owner, group, mode, size, links] = fields[..] else {
        return Map::new();
    };
    let number = |s: &str| s.parse::<u64>().map(Json::from).unwrap_or(Json::Null);
    let state = match kind {
        "link" => "link",
        "directory" => "directory",
        _ if links.parse::<u64>().is_ok_and(|n| n > 1) => "hard",
        _ => "file",
    };
    let mode = u32::from_str_radix(mode, 8).unwrap_or(0);
    Map::from_iter([
        ("uid".to_string(), number(uid)),
        ("gid".to_string(), number(gid)),
        ("owner".to_string(), Json::from(owner)),
        ("group".to_string(), Json::from(group)),
        ("mode".to_string(), Json::from(format!("0{mode:03o}"))),
        ("state".to_string(), Json::from(state)),
        ("size".to_string(), number(size)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_facts_as_ansible_words_them() {
        let info = parse("0 0 root root 600 0 1\nother\n");
        assert_eq!(info["mode"], "0600");
        assert_eq!(info["state"], "file");
        assert_eq!(info["owner"], "root");
        assert_eq!(parse("0 0 root root 4755 10 2\nother\n")["mode"], "04755");
        assert_eq!(parse("0 0 root root 4755 10 2\nother\n")["state"], "hard");
        assert!(parse("").is_empty());
    }
}
