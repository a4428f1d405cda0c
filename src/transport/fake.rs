//! A fake transport for unit tests: it records every command it is given and answers from a small
//! in-memory host (paths with content, mode, owner, group), so module logic, idempotence and check
//! mode can be tested without the lab. It interprets only the fixed scripts of
//! [`files`](super::files) and the few programs the file modules run (`rm`, `mkdir`, `touch`,
//! `ln`); any other command must be scripted by the test ([`FakeTransport::answer`]), and anything
//! else makes it panic with the command, so a test never passes by accident.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::files::{COMMIT, DISCARD, PUT, READ, SET_ATTRIBUTES, STAT};
use super::{Exec, ExecOutput};
use crate::compat::checksum::hex;

/// The file edits' script creating a missing file's folder (`modules/file_edit.rs`; a copy of its
/// text: when the module's changes, the fake no longer understands it and panics).
const LINEINFILE_MAKE_PARENT: &str = r#"d=$(dirname -- "$1"); [ -d "$d" ] || mkdir -p -- "$d""#;

/// What the fake host has at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File(Vec<u8>),
    Dir,
    Link(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    pub mode: u32,
    pub owner: String,
    pub group: String,
}

/// One command the fake was given, with the name of what the fake took it for (`stat`, `read`,
/// `write`, `set_attributes`, `stage`, `commit`, `discard`, `rm`, `mkdir`, `touch`, `ln`,
/// `make_parent`, or for a scripted one `query` when it only reads and `program` otherwise).
#[derive(Debug, Clone)]
pub struct Call {
    pub op: &'static str,
    pub exec: Exec,
}

impl Call {
    /// Whether the command only looks at the host.
    pub fn is_read_only(&self) -> bool {
        matches!(self.op, "stat" | "read" | "query")
    }
}

#[derive(Debug, Default)]
struct Host {
    nodes: BTreeMap<String, Node>,
    calls: Vec<Call>,
    /// Scripted answers to programs the fake does not interpret: the argv expected, in order,
    /// and the name the call is recorded under.
    answers: VecDeque<(Vec<String>, ExecOutput, &'static str)>,
    staged: u32,
}

/// The fake host, shared: the test keeps a clone to look at what the module did.
#[derive(Debug, Clone, Default)]
pub struct FakeTransport(Arc<Mutex<Host>>);

/// The user the fake's commands run as, who owns what they create.
const USER: &str = "root";

impl FakeTransport {
    pub fn new() -> Self {
        FakeTransport::default()
    }

    fn host(&self) -> std::sync::MutexGuard<'_, Host> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Puts a file on the fake host (its folders are created as well).
    pub fn file(&self, path: &str, content: &str, mode: u32) -> &Self {
        let mut host = self.host();
        host.mkdir_p(parent(path)).expect("the fake's folders");
        host.nodes
            .insert(path.into(), node(Kind::File(content.as_bytes().to_vec()), mode));
        drop(host);
        self
    }

    /// Puts a folder (and its parents) on the fake host.
    pub fn dir(&self, path: &str) -> &Self {
        self.host().mkdir_p(path).expect("the fake's folders");
        self
    }

    /// Puts a symbolic link on the fake host.
    pub fn link(&self, path: &str, target: &str) -> &Self {
        self.host()
            .nodes
            .insert(path.into(), node(Kind::Link(target.into()), 0o777));
        self
    }

    /// Expects `argv` as the next command the fake does not interpret, and answers it with `output`.
    pub fn answer(&self, argv: &[&str], output: ExecOutput) -> &Self {
        self.script_answer(argv, output, "program")
    }

    /// As [`answer`](Self::answer), for a command that only reads the host (`getent`,
    /// `systemctl show`, `apt-get -s`): check mode may send it.
    pub fn query(&self, argv: &[&str], output: ExecOutput) -> &Self {
        self.script_answer(argv, output, "query")
    }

    fn script_answer(&self, argv: &[&str], output: ExecOutput, op: &'static str) -> &Self {
        self.host()
            .answers
            .push_back((argv.iter().map(|a| a.to_string()).collect(), output, op));
        self
    }

    /// What is at `path`, if anything.
    pub fn node(&self, path: &str) -> Option<Node> {
        self.host().nodes.get(path).cloned()
    }

    /// A file's content as text; panics when there is no file.
    pub fn content(&self, path: &str) -> String {
        match self.node(path).map(|n| n.kind) {
            Some(Kind::File(bytes)) => String::from_utf8(bytes).expect("utf-8 content"),
            other => panic!("no file at {path} on the fake host: {other:?}"),
        }
    }

    /// Every path on the fake host with what is there, to compare before and after.
    pub fn snapshot(&self) -> BTreeMap<String, Node> {
        self.host().nodes.clone()
    }

    /// Every command given so far.
    pub fn calls(&self) -> Vec<Call> {
        self.host().calls.clone()
    }

    /// The commands given so far that change the host (or that the test scripted).
    pub fn writes(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| !c.is_read_only()).collect()
    }

    /// Forgets the recorded commands.
    pub fn clear_calls(&self) {
        self.host().calls.clear();
    }

    /// Panics unless every scripted answer was used.
    pub fn assert_answered(&self) {
        let host = self.host();
        assert!(
            host.answers.is_empty(),
            "scripted commands never run: {:?}",
            host.answers
        );
    }

    pub async fn exec(&self, exec: &Exec) -> Result<ExecOutput, super::TransportError> {
        let mut host = self.host();
        let (op, output) = host.run(exec);
        host.calls.push(Call { op, exec: exec.clone() });
        Ok(output)
    }
}

fn node(kind: Kind, mode: u32) -> Node {
    Node {
        kind,
        mode,
        owner: USER.into(),
        group: USER.into(),
    }
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn ok(stdout: impl Into<Vec<u8>>) -> ExecOutput {
    ExecOutput {
        rc: 0,
        stdout: stdout.into(),
        stderr: Vec::new(),
    }
}

fn fail(rc: i32, stderr: impl Into<String>) -> ExecOutput {
    ExecOutput {
        rc,
        stdout: Vec::new(),
        stderr: stderr.into().into_bytes(),
    }
}

fn octal(text: &str, exec: &Exec) -> u32 {
    u32::from_str_radix(text, 8).unwrap_or_else(|_| panic!("fake transport: mode `{text}` in {exec:?}"))
}

impl Host {
    fn run(&mut self, exec: &Exec) -> (&'static str, ExecOutput) {
        let argv: Vec<&str> = exec.argv.iter().map(String::as_str).collect();
        if let ["/bin/sh", "-c", script, "sh", args @ ..] = argv.as_slice()
            && let Some(answer) = self.script(script, args, exec)
        {
            return answer;
        }
        match argv.as_slice() {
            ["rm", "-rf", "--", path] => {
                let prefix = format!("{path}/");
                self.nodes.retain(|p, _| p != path && !p.starts_with(&prefix));
                ("rm", ok(""))
            }
            ["mkdir", "-p", "--", path] => match self.mkdir_p(path) {
                Ok(()) => ("mkdir", ok("")),
                Err(e) => ("mkdir", fail(1, e)),
            },
            ["touch", "--", path] => {
                if self.nodes.contains_key(*path) {
                    return ("touch", ok(""));
                }
                if !self.is_dir(parent(path)) {
                    return (
                        "touch",
                        fail(1, format!("touch: cannot touch '{path}': No such file or directory")),
                    );
                }
                self.nodes.insert(path.to_string(), node(Kind::File(Vec::new()), 0o644));
                ("touch", ok(""))
            }
            ["ln", "-sfn", "--", src, path] => {
                if matches!(self.nodes.get(*path).map(|n| &n.kind), Some(Kind::Dir)) {
                    panic!("fake transport: `ln` onto a directory is not modelled: {exec:?}");
                }
                if !self.is_dir(parent(path)) {
                    return ("ln", fail(1, format!("ln: failed to create symbolic link '{path}'")));
                }
                self.nodes
                    .insert(path.to_string(), node(Kind::Link(src.to_string()), 0o777));
                ("ln", ok(""))
            }
            _ => {
                let Some((expected, output, op)) = self.answers.pop_front() else {
                    panic!("fake transport: a command it does not understand and no test scripted: {exec:?}");
                };
                assert_eq!(
                    exec.argv, expected,
                    "fake transport: not the scripted command: {exec:?}"
                );
                (op, output)
            }
        }
    }

    /// Emulates one of the fixed scripts; `None` when `script` is none of them.
    fn script(&mut self, script: &str, args: &[&str], exec: &Exec) -> Option<(&'static str, ExecOutput)> {
        let arg = |i: usize| -> &str {
            args.get(i)
                .copied()
                .unwrap_or_else(|| panic!("fake transport: argument ${} missing in {exec:?}", i + 1))
        };
        let stdin = || {
            exec.stdin
                .clone()
                .unwrap_or_else(|| panic!("fake transport: no input for {exec:?}"))
        };
        Some(if script == STAT {
            ("stat", ok(self.stat(arg(0))))
        } else if script == READ {
            match self.resolve(arg(0)).map(|(_, n)| n.kind) {
                Some(Kind::File(bytes)) => ("read", ok(bytes)),
                _ => ("read", fail(3, "")),
            }
        } else if script == SET_ATTRIBUTES {
            let Some((target, mut found)) = self.resolve(arg(0)) else {
                return Some((
                    "set_attributes",
                    fail(
                        1,
                        format!("chmod: cannot access '{}': No such file or directory", arg(0)),
                    ),
                ));
            };
            if !arg(1).is_empty() {
                found.mode = octal(arg(1), exec);
            }
            if !arg(2).is_empty() {
                found.owner = arg(2).into();
            }
            if !arg(3).is_empty() {
                found.group = arg(3).into();
            }
            self.nodes.insert(target, found);
            ("set_attributes", ok(""))
        } else if script == PUT {
            let path = arg(0);
            let label = if arg(6) == "stage" { "stage" } else { "write" };
            if !self.is_dir(parent(path)) {
                if arg(7) != "folder" {
                    let message = format!("destination directory {} does not exist", parent(path));
                    return Some((label, fail(1, message)));
                }
                if let Err(e) = self.mkdir_p(parent(path)) {
                    return Some((label, fail(1, e)));
                }
            }
            let mode = if !arg(1).is_empty() {
                octal(arg(1), exec)
            } else {
                self.resolve(path).map_or(0o644, |(_, n)| n.mode)
            };
            let new = self.new_file(stdin(), mode, arg(2), arg(3));
            if label == "write" {
                self.nodes.insert(path.into(), new);
                return Some(("write", ok("")));
            }
            self.staged += 1;
            let staged = format!("{}/.bgrun.fake{:03}", parent(path).trim_end_matches('/'), self.staged);
            self.nodes.insert(staged.clone(), new);
            ("stage", ok(format!("{staged}\n")))
        } else if script == COMMIT {
            let Some(staged) = self.nodes.remove(arg(0)) else {
                return Some(("commit", fail(1, format!("mv: cannot stat '{}'", arg(0)))));
            };
            self.nodes.insert(arg(1).into(), staged);
            ("commit", ok(""))
        } else if script == DISCARD {
            self.nodes.remove(arg(0));
            ("discard", ok(""))
        } else if script == LINEINFILE_MAKE_PARENT {
            match self.mkdir_p(parent(arg(0))) {
                Ok(()) => ("make_parent", ok("")),
                Err(e) => ("make_parent", fail(1, e)),
            }
        } else {
            return None;
        })
    }

    /// A new file as `cat > "$t"` then `chmod`/`chown`/`chgrp` leave it.
    fn new_file(&self, content: Vec<u8>, mode: u32, owner: &str, group: &str) -> Node {
        let mut new = node(Kind::File(content), mode);
        if !owner.is_empty() {
            new.owner = owner.into();
        }
        if !group.is_empty() {
            new.group = group.into();
        }
        new
    }

    /// What [`STAT`] prints for `path`.
    fn stat(&self, path: &str) -> String {
        match self.nodes.get(path) {
            None if path == "/" => format!("directory 755 {USER} {USER}\n"),
            None => "absent\n".into(),
            Some(n) => match &n.kind {
                Kind::Link(target) => format!("link 0 - -\n{target}\n"),
                Kind::Dir => format!("directory {:o} {} {}\n", n.mode, n.owner, n.group),
                Kind::File(bytes) => format!(
                    "file {:o} {} {}\n{}  {path}\n",
                    n.mode,
                    n.owner,
                    n.group,
                    hex(&Sha256::digest(bytes))
                ),
            },
        }
    }

    /// The path and node a path leads to, through links (absolute or relative to the link's folder).
    fn resolve(&self, path: &str) -> Option<(String, Node)> {
        let mut path = path.to_string();
        for _ in 0..8 {
            let found = self.nodes.get(&path)?;
            match &found.kind {
                Kind::Link(target) if target.starts_with('/') => path = target.clone(),
                Kind::Link(target) => path = format!("{}/{target}", parent(&path).trim_end_matches('/')),
                _ => return Some((path, found.clone())),
            }
        }
        None
    }

    fn is_dir(&self, path: &str) -> bool {
        path == "/" || matches!(self.resolve(path).map(|(_, n)| n.kind), Some(Kind::Dir))
    }

    fn mkdir_p(&mut self, path: &str) -> Result<(), String> {
        if self.is_dir(path) {
            return Ok(());
        }
        if self.nodes.contains_key(path) {
            return Err(format!("mkdir: cannot create directory '{path}': File exists"));
        }
        self.mkdir_p(parent(path))?;
        self.nodes.insert(path.into(), node(Kind::Dir, 0o755));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::files::{self, Attributes, FileKind};
    use crate::transport::{Remote, Transport};

    #[tokio::test]
    async fn answers_the_file_scripts_from_its_model() {
        let fake = FakeTransport::new();
        fake.file("/etc/motd", "hi\n", 0o600);
        let transport = Transport::Fake(fake.clone());
        let remote = Remote {
            transport: &transport,
            privilege: None,
            trace: None,
        };
        let state = files::stat(&remote, "/etc/motd").await.unwrap();
        assert_eq!(state.kind, FileKind::File);
        assert_eq!(state.mode, Some(0o600));
        assert_eq!(state.owner.as_deref(), Some("root"));
        assert_eq!(files::read(&remote, "/etc/motd").await.unwrap().unwrap(), b"hi\n");
        assert_eq!(files::stat(&remote, "/etc").await.unwrap().kind, FileKind::Directory);
        assert_eq!(files::stat(&remote, "/nope").await.unwrap().kind, FileKind::Absent);
        assert!(fake.writes().is_empty());
        files::write(&remote, "/etc/motd", b"new\n", &Attributes::default())
            .await
            .unwrap();
        assert_eq!(fake.content("/etc/motd"), "new\n");
        assert_eq!(fake.node("/etc/motd").unwrap().mode, 0o600, "the old mode is kept");
        assert!(
            files::write(&remote, "/missing/x", b"", &Attributes::default())
                .await
                .is_err()
        );
        assert_eq!(fake.writes().len(), 2);
    }

    #[tokio::test]
    #[should_panic(expected = "does not understand")]
    async fn panics_on_a_command_it_does_not_know() {
        let transport = Transport::Fake(FakeTransport::new());
        let _ = transport.exec(&Exec::new(["reboot"])).await;
    }
}
