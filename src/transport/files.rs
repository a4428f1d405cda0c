//! File operations on a host, each one round trip over the host's [`Transport`]: what is at a
//! path (kind, mode, owner, checksum), reading, and writing atomically (temporary file + rename).

use super::{Exec, HostError, Remote};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Absent,
    File,
    Directory,
    Link,
    Other,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Absent => "absent",
            FileKind::File => "file",
            FileKind::Directory => "directory",
            FileKind::Link => "link",
            FileKind::Other => "other",
        }
    }
}

/// What is at a path on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    pub kind: FileKind,
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub sha256: Option<String>,
    pub link_target: Option<String>,
}

impl FileState {
    pub fn exists(&self) -> bool {
        self.kind != FileKind::Absent
    }
}

pub(super) const STAT: &str = r#"
if [ -L "$1" ]; then printf 'link 0 - -\n'; readlink -- "$1"
elif [ -d "$1" ]; then stat -c 'directory %a %U %G' -- "$1"
elif [ -f "$1" ]; then stat -c 'file %a %U %G' -- "$1" && sha256sum -- "$1"
elif [ -e "$1" ]; then stat -c 'other %a %U %G' -- "$1"
else echo absent
fi"#;

/// Looks at a path: kind, mode, owner and group, and a file's SHA-256.
pub async fn stat(remote: &Remote<'_>, path: &str) -> Result<FileState, HostError> {
    let output = remote.exec(&Exec::script(STAT, &[path])).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot inspect `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(parse_stat(&output.stdout_text()))
}

fn parse_stat(text: &str) -> FileState {
    let mut lines = text.lines();
    let mut head = lines.next().unwrap_or("absent").split_whitespace();
    let kind = match head.next() {
        Some("file") => FileKind::File,
        Some("directory") => FileKind::Directory,
        Some("link") => FileKind::Link,
        Some("other") => FileKind::Other,
        _ => FileKind::Absent,
    };
    let mode = head
        .next()
        .and_then(|m| u32::from_str_radix(m, 8).ok())
        .filter(|_| kind != FileKind::Link);
    let owner = head.next().filter(|o| *o != "-").map(String::from);
    let group = head.next().filter(|g| *g != "-").map(String::from);
    let next = lines.next().map(String::from);
    let (sha256, link_target) = match kind {
        FileKind::File => (next.and_then(|l| l.split_whitespace().next().map(String::from)), None),
        FileKind::Link => (None, next),
        _ => (None, None),
    };
    FileState {
        kind,
        mode,
        owner,
        group,
        sha256,
        link_target,
    }
}

pub(super) const READ: &str = r#"[ -f "$1" ] || exit 3; exec cat -- "$1""#;

/// A file's bytes, or `None` when there is no file.
pub async fn read(remote: &Remote<'_>, path: &str) -> Result<Option<Vec<u8>>, HostError> {
    let output = remote.exec(&Exec::script(READ, &[path])).await?;
    match output.rc {
        0 => Ok(Some(output.stdout)),
        3 => Ok(None),
        _ => Err(HostError::Failed(format!(
            "cannot read `{path}`: {}",
            output.stderr_text().trim()
        ))),
    }
}

/// Puts stdin at `$1` through a temporary file beside it, renamed over `$1` once it holds all
/// `$5` bytes, or, with `$7` = `stage`, left there and its path printed. `$2` `$3` `$4`: mode,
/// owner, group to give (empty: the existing file's mode, else a new file's); `$6`: the umask
/// that creates the file with mode `$2` (empty: chmod after). `$8` = `folder`: the folder is
/// created when missing and a new file gets 0644, as consul-template does; else a new file gets
/// the user's umask, as Ansible's does. Only shell builtins besides `cat`, `wc` and `mv` run in
/// the common case: each program started costs a millisecond or two.
pub(super) const PUT: &str = r#"
set -e
case $1 in */*) d=${1%/*}; d=${d:-/} ;; *) d=. ;; esac
if [ ! -d "$d" ]; then
  [ "$8" = folder ] || { echo "destination directory $d does not exist" >&2; exit 1; }
  mkdir -p -- "$d"
fi
if [ -n "$6" ]; then umask "$6"
elif [ -n "$2" ] || [ -e "$1" ]; then umask 077
elif [ "$8" = folder ]; then umask 022
fi
t="$d/.bgrun.$$"; i=0
while [ -e "$t" ] || [ -L "$t" ]; do i=$((i + 1)); t="$d/.bgrun.$$.$i"; done
set -C; true > "$t"; set +C
trap 'rm -f -- "$t"' EXIT
trap 'exit 1' HUP INT TERM PIPE
cat > "$t"
n=$(wc -c < "$t")
[ "$n" -eq "$5" ] || { echo "the connection ended after $n of $5 bytes" >&2; exit 1; }
if [ -n "$2" ]; then [ -n "$6" ] || chmod "$2" "$t"
elif [ -e "$1" ]; then chmod --reference="$1" "$t"
fi
[ -z "$3" ] || chown -- "$3" "$t"
[ -z "$4" ] || chgrp -- "$4" "$t"
if [ "$7" = stage ]; then trap - EXIT; printf '%s\n' "$t"; exit 0; fi
mv -f -- "$t" "$1"
trap - EXIT"#;

/// Ownership and permissions to give a file.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl Attributes {
    /// These attributes, with the file's current owner and group where none is asked: what a
    /// file rewritten in place keeps.
    pub fn keeping_ownership_of(self, state: FileState) -> Attributes {
        Attributes {
            mode: self.mode,
            owner: self.owner.or(state.owner),
            group: self.group.or(state.group),
        }
    }

    fn args(&self) -> [String; 3] {
        [
            self.mode.map(|m| format!("{m:o}")).unwrap_or_default(),
            self.owner.clone().unwrap_or_default(),
            self.group.clone().unwrap_or_default(),
        ]
    }

    /// The umask under which a new file is born with this mode, so that no `chmod` is needed: a
    /// mode without execute or special bits.
    fn creation_umask(&self) -> String {
        match self.mode {
            Some(mode) if mode & !0o666 == 0 => format!("{:o}", !mode & 0o777),
            _ => String::new(),
        }
    }

    /// Whether a file with `state` already has these attributes.
    pub fn satisfied_by(&self, state: &FileState) -> bool {
        self.mode.is_none_or(|m| state.mode == Some(m))
            && self.owner.as_ref().is_none_or(|o| state.owner.as_ref() == Some(o))
            && self.group.as_ref().is_none_or(|g| state.group.as_ref() == Some(g))
    }
}

/// Writes a file atomically: the new content is staged beside the destination and renamed over
/// it, so readers see the old file or the new one, never half of one. The staged file is renamed
/// only once it holds every byte sent: a connection lost mid-transfer ends `cat` as if the input
/// were complete.
pub async fn write(remote: &Remote<'_>, path: &str, content: &[u8], attrs: &Attributes) -> Result<(), HostError> {
    put(remote, path, content, attrs, Putting::Write).await
}

/// Runs [`PUT`] to write `path` (not to stage it).
async fn put(
    remote: &Remote<'_>,
    path: &str,
    content: &[u8],
    attrs: &Attributes,
    how: Putting,
) -> Result<(), HostError> {
    let output = remote.exec(&putting(path, content, attrs, how)).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot write `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(())
}

/// What [`PUT`] does with the content.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Putting {
    /// Renamed over the path; its folder must exist.
    Write,
    /// Renamed over the path, its folder created when missing.
    WriteCreatingFolder,
    /// Left staged beside the path, its folder created when missing.
    Stage,
}

/// The [`PUT`] script for `path`.
fn putting(path: &str, content: &[u8], attrs: &Attributes, how: Putting) -> Exec {
    let [mode, owner, group] = attrs.args();
    let umask = attrs.creation_umask();
    let length = content.len().to_string();
    let stage = if how == Putting::Stage { "stage" } else { "" };
    let folder = if how == Putting::Write { "" } else { "folder" };
    Exec::script(PUT, &[path, &mode, &owner, &group, &length, &umask, stage, folder]).stdin(content.to_vec())
}

pub(super) const SET_ATTRIBUTES: &str = r#"set -e
[ -z "$2" ] || chmod "$2" -- "$1"
[ -z "$3" ] || chown -- "$3" "$1"
[ -z "$4" ] || chgrp -- "$4" "$1""#;

/// Sets mode, owner and group of an existing path.
pub async fn set_attributes(remote: &Remote<'_>, path: &str, attrs: &Attributes) -> Result<(), HostError> {
    let [mode, owner, group] = attrs.args();
    let output = remote
        .exec(&Exec::script(SET_ATTRIBUTES, &[path, &mode, &owner, &group]))
        .await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot set attributes of `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(())
}

/// Stages new content for `path` in a temporary file beside it (creating the folder when it is
/// missing), with `attrs` applied, or the existing file's mode, or 0644; returns the staged
/// file's path. [`commit`] then renames it over `path`, or [`discard`] removes it, so a check of
/// the staged file can decide before anyone sees the new content.
pub async fn stage(remote: &Remote<'_>, path: &str, content: &[u8], attrs: &Attributes) -> Result<String, HostError> {
    let output = remote.exec(&putting(path, content, attrs, Putting::Stage)).await?;
    let staged = output.stdout_text().trim().to_string();
    if output.rc != 0 || staged.is_empty() {
        return Err(HostError::Failed(format!(
            "cannot write `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(staged)
}

/// Writes a file atomically as [`write`] does, in one round trip, creating its folder when it is
/// missing and giving a new file 0644 when `attrs` has no mode, as consul-template does.
pub async fn write_creating_folder(
    remote: &Remote<'_>,
    path: &str,
    content: &[u8],
    attrs: &Attributes,
) -> Result<(), HostError> {
    put(remote, path, content, attrs, Putting::WriteCreatingFolder).await
}

pub(super) const COMMIT: &str = r#"mv -f -- "$1" "$2""#;

/// Renames a file staged by [`stage`] over `path`, atomically.
pub async fn commit(remote: &Remote<'_>, staged: &str, path: &str) -> Result<(), HostError> {
    let output = remote.exec(&Exec::script(COMMIT, &[staged, path])).await?;
    if output.rc != 0 {
        let _ = discard(remote, staged).await;
        return Err(HostError::Failed(format!(
            "cannot write `{path}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(())
}

pub(super) const DISCARD: &str = r#"rm -f -- "$1""#;

/// Removes a file staged by [`stage`].
pub async fn discard(remote: &Remote<'_>, staged: &str) -> Result<(), HostError> {
    let output = remote.exec(&Exec::script(DISCARD, &[staged])).await?;
    if output.rc != 0 {
        return Err(HostError::Failed(format!(
            "cannot remove `{staged}`: {}",
            output.stderr_text().trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_output() {
        let file = parse_stat("file 644 root root\nabc123  /etc/x\n");
        assert_eq!(file.kind, FileKind::File);
        assert_eq!(file.mode, Some(0o644));
        assert_eq!(file.sha256.as_deref(), Some("abc123"));
        let link = parse_stat("link 0 - -\n/target\n");
        assert_eq!(link.kind, FileKind::Link);
        assert_eq!(link.link_target.as_deref(), Some("/target"));
        assert_eq!(parse_stat("absent\n").kind, FileKind::Absent);
    }
}
