//! Vagrant machines as an inventory: the output of `vagrant ssh-config` read into hosts.
//!
//! `-i vagrant` reads the machines of the Vagrant project in the current folder and
//! `-i vagrant:DIR` those of the project in `DIR` (an existing file or folder of that name is read
//! as an ordinary inventory instead). bgrun runs `vagrant ssh-config` there and turns each
//! `Host NAME` block into a host `NAME` in the group `vagrant`, with the variables `ansible_host`
//! (`HostName`), `ansible_port` (`Port`), `ansible_user` (`User`), `ansible_ssh_private_key_file`
//! (the first `IdentityFile`), `ansible_host_key_checking: false` (`StrictHostKeyChecking no`, as
//! Vagrant writes it) and `ansible_ssh_known_hosts_file` (`UserKnownHostsFile`). Other ssh_config
//! directives are ignored, and so are Vagrant's own `==> ...` messages; any other line is an
//! error that names it. `group_vars/` and `host_vars/` in the project folder are read as for any
//! inventory folder.
//!
//! When the environment variable `BGRUN_VAGRANT_SSH_CONFIG` names a file, bgrun reads the recorded
//! output of `vagrant ssh-config` from it instead of running Vagrant (for every Vagrant source;
//! the project folder is then only where `group_vars/` are looked for). This lets CI and machines
//! without Vagrant or VirtualBox use a project's machines as they were when the output was
//! recorded (`vagrant ssh-config > machines.ssh-config`).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::Inventory;
use crate::error::Error;
use crate::source::{SourceFile, Span};

/// The environment variable naming a file with recorded `vagrant ssh-config` output.
pub const VAGRANT_SSH_CONFIG_ENV: &str = "BGRUN_VAGRANT_SSH_CONFIG";

/// The group every Vagrant machine is put in.
pub const VAGRANT_GROUP: &str = "vagrant";

/// The machines of the Vagrant project in `dir`, from `vagrant ssh-config` run there (or from the
/// file named by `BGRUN_VAGRANT_SSH_CONFIG`), as an inventory of their own.
pub fn vagrant_inventory(dir: &Path) -> Result<Inventory, Error> {
    let (text, source_name) = ssh_config(dir, recorded_output().as_deref(), "vagrant")?;
    Inventory::from_vagrant_ssh_config(&text, &source_name)
}

impl Inventory {
    /// An inventory of the machines in `vagrant ssh-config` output. `source_name` names the
    /// output in error messages (`source_name:line:col`).
    pub fn from_vagrant_ssh_config(text: &str, source_name: &str) -> Result<Inventory, Error> {
        let mut inventory = Inventory::empty();
        inventory.add_vagrant_machines(text, source_name)?;
        inventory.finish();
        Ok(inventory)
    }

    /// Adds the machines of the Vagrant project in `dir` to an inventory being loaded.
    pub(super) fn load_vagrant(&mut self, dir: &Path) -> Result<(), Error> {
        let (text, source_name) = ssh_config(dir, recorded_output().as_deref(), "vagrant")?;
        self.add_vagrant_machines(&text, &source_name)
    }

    fn add_vagrant_machines(&mut self, text: &str, source_name: &str) -> Result<(), Error> {
        let machines = parse(text, source_name)?;
        self.current_source = None;
        let group = self.add_group(VAGRANT_GROUP);
        for machine in machines {
            let host = self.add_host(&machine.name, group, None);
            for (key, value) in machine.vars() {
                self.set_host_var(host, key.to_string(), value);
            }
        }
        Ok(())
    }
}

/// The Vagrant project folder a `-i` source names: `vagrant` is the current folder,
/// `vagrant:DIR` is `DIR`. `None` for any other source.
pub(super) fn source_dir(source: &str) -> Option<PathBuf> {
    if source == "vagrant" {
        return Some(PathBuf::from("."));
    }
    let dir = source.strip_prefix("vagrant:")?;
    Some(PathBuf::from(if dir.is_empty() { "." } else { dir }))
}

/// The file named by `BGRUN_VAGRANT_SSH_CONFIG`, when it is set and not empty.
fn recorded_output() -> Option<PathBuf> {
    std::env::var_os(VAGRANT_SSH_CONFIG_ENV)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// The `vagrant ssh-config` output for `dir` and the name errors give it: read from `recorded`
/// when given, otherwise from running `program ssh-config` in `dir`.
fn ssh_config(dir: &Path, recorded: Option<&Path>, program: &str) -> Result<(String, String), Error> {
    if let Some(path) = recorded {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok((text, path.display().to_string()));
    }
    if !dir.is_dir() {
        return Err(
            Error::usage(format!("Vagrant project folder `{}` does not exist", dir.display()))
                .with_help("pass `-i vagrant` in the folder of the Vagrantfile, or `-i vagrant:DIR`"),
        );
    }
    let output = Command::new(program)
        .arg("ssh-config")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| {
            if error.kind() == ErrorKind::NotFound {
                Error::usage(format!(
                    "`{program}` is not installed or not on PATH; bgrun runs `{program} ssh-config` to find the machines of a Vagrant inventory"
                ))
                .with_help(format!(
                    "install Vagrant, or set {VAGRANT_SSH_CONFIG_ENV} to a file holding the output of `vagrant ssh-config`"
                ))
            } else {
                Error::usage(format!("cannot run `{program} ssh-config`: {error}"))
            }
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = match stderr.trim_end() {
            "" => "(it printed nothing on stderr)",
            text => text,
        };
        let status = output
            .status
            .code()
            .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit code {c}"));
        return Err(Error::usage(format!(
            "`{program} ssh-config` failed in `{}` ({status}):\n{}",
            dir.display(),
            stderr
        ))
        .with_help("start the machines with `vagrant up`, then try again"));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| {
        Error::usage(format!(
            "`{program} ssh-config` in `{}` printed text that is not UTF-8",
            dir.display()
        ))
    })?;
    Ok((text, format!("{program} ssh-config in {}", dir.display())))
}

/// The keywords of ssh_config(5), in lower case, with the old names `ssh` still accepts. A line
/// with any other first word is not `vagrant ssh-config` output.
const SSH_KEYWORDS: &[&str] = &[
    "addkeystoagent",
    "addressfamily",
    "batchmode",
    "bindaddress",
    "bindinterface",
    "casignaturealgorithms",
    "canonicaldomains",
    "canonicalizefallbacklocal",
    "canonicalizehostname",
    "canonicalizemaxdots",
    "canonicalizepermittedcnames",
    "certificatefile",
    "challengeresponseauthentication",
    "channeltimeout",
    "checkhostip",
    "cipher",
    "ciphers",
    "clearallforwardings",
    "compression",
    "compressionlevel",
    "connecttimeout",
    "connectionattempts",
    "controlmaster",
    "controlpath",
    "controlpersist",
    "dsaauthentication",
    "dynamicforward",
    "enableescapecommandline",
    "enablesshkeysign",
    "escapechar",
    "exitonforwardfailure",
    "fingerprinthash",
    "forkafterauthentication",
    "forwardagent",
    "forwardx11",
    "forwardx11timeout",
    "forwardx11trusted",
    "gssapiauthentication",
    "gssapiclientidentity",
    "gssapidelegatecredentials",
    "gssapikexalgorithms",
    "gssapikeyexchange",
    "gssapirenewalforcesrekey",
    "gssapiserveridentity",
    "gssapitrustdns",
    "gatewayports",
    "globalknownhostsfile",
    "hashknownhosts",
    "host",
    "hostkeyalgorithms",
    "hostkeyalias",
    "hostbasedacceptedalgorithms",
    "hostbasedauthentication",
    "hostbasedkeytypes",
    "hostname",
    "ipqos",
    "identitiesonly",
    "identityagent",
    "identityfile",
    "ignoreunknown",
    "include",
    "kbdinteractiveauthentication",
    "kbdinteractivedevices",
    "keepalive",
    "kexalgorithms",
    "knownhostscommand",
    "localcommand",
    "localforward",
    "loglevel",
    "logverbose",
    "macs",
    "match",
    "nohostauthenticationforlocalhost",
    "numberofpasswordprompts",
    "obscurekeystroketiming",
    "pkcs11provider",
    "passwordauthentication",
    "permitlocalcommand",
    "permitremoteopen",
    "port",
    "preferredauthentications",
    "protocol",
    "proxycommand",
    "proxyjump",
    "proxyusefdpass",
    "pubkeyacceptedalgorithms",
    "pubkeyacceptedkeytypes",
    "pubkeyauthentication",
    "rsaauthentication",
    "refuseconnection",
    "rekeylimit",
    "remotecommand",
    "remoteforward",
    "requesttty",
    "requiredrsasize",
    "revokedhostkeys",
    "rhostsrsaauthentication",
    "securitykeyprovider",
    "sendenv",
    "serveralivecountmax",
    "serveraliveinterval",
    "sessiontype",
    "setenv",
    "smartcarddevice",
    "stdinnull",
    "streamlocalbindmask",
    "streamlocalbindunlink",
    "stricthostkeychecking",
    "syslogfacility",
    "tcpkeepalive",
    "tag",
    "tunnel",
    "tunneldevice",
    "updatehostkeys",
    "usekeychain",
    "useprivilegedport",
    "useroaming",
    "user",
    "userknownhostsfile",
    "verifyhostkeydns",
    "visualhostkey",
    "warnweakcrypto",
    "xauthlocation",
];

/// One `Host` block.
#[derive(Debug, Default)]
struct Machine {
    name: String,
    host_name: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    identity_file: Option<String>,
    strict_host_key_checking: Option<String>,
    known_hosts_file: Option<String>,
}

impl Machine {
    /// The inventory variables of the machine, in a fixed order.
    fn vars(&self) -> Vec<(&'static str, Value)> {
        let mut vars = Vec::new();
        if let Some(host) = &self.host_name {
            vars.push(("ansible_host", Value::from(host.as_str())));
        }
        if let Some(port) = self.port {
            vars.push(("ansible_port", Value::from(port)));
        }
        if let Some(user) = &self.user {
            vars.push(("ansible_user", Value::from(user.as_str())));
        }
        if let Some(key) = &self.identity_file {
            vars.push(("ansible_ssh_private_key_file", Value::from(key.as_str())));
        }
        if let Some(checking) = &self.strict_host_key_checking
            && (checking.eq_ignore_ascii_case("no") || checking.eq_ignore_ascii_case("off"))
        {
            vars.push(("ansible_host_key_checking", Value::Bool(false)));
        }
        if let Some(file) = &self.known_hosts_file {
            let file = if file.eq_ignore_ascii_case("none") {
                "/dev/null"
            } else {
                file
            };
            vars.push(("ansible_ssh_known_hosts_file", Value::from(file)));
        }
        vars
    }
}

/// Reads `vagrant ssh-config` output as ssh_config(5) does: a keyword, then its arguments after
/// spaces or `=`, double quotes around arguments with spaces, `#` comments; keywords in any
/// case; the first value of a keyword wins.
fn parse(text: &str, source_name: &str) -> Result<Vec<Machine>, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file = SourceFile::new(source_name, text);
    let mut machines: Vec<Machine> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("==>") {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let column = raw[..indent].chars().count() + 1;
        let span = |col: usize| Span::new(&file, number, col);

        let keyword_end = line.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(line.len());
        let keyword = &line[..keyword_end];
        let lower = keyword.to_ascii_lowercase();
        if !SSH_KEYWORDS.contains(&lower.as_str()) {
            return Err(garbage(span(column), line));
        }
        let rest = line[keyword_end..].trim_start();
        let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
        let value_column = column + line[..line.len() - rest.len()].chars().count();
        let args = split_args(rest).map_err(|message| Error::invalid(span(value_column), message))?;
        let Some(first) = args.first().cloned() else {
            return Err(Error::invalid(span(column), format!("`{keyword}` has no value"))
                .with_help(format!("write `{keyword} VALUE`")));
        };

        if lower == "host" {
            if args.len() > 1 || first.contains(['*', '?', '!', ',']) {
                return Err(
                    Error::invalid(span(value_column), format!("`Host {rest}` is not one machine name"))
                        .with_help("`vagrant ssh-config` starts each machine's block with `Host NAME`"),
                );
            }
            if machines.iter().any(|m| m.name == first) {
                return Err(Error::invalid(
                    span(value_column),
                    format!("machine `{first}` has two `Host` blocks"),
                ));
            }
            machines.push(Machine {
                name: first,
                ..Machine::default()
            });
            continue;
        }
        if lower == "match" {
            return Err(Error::invalid(span(column), "`Match` blocks are not supported")
                .with_help("give each machine a `Host NAME` block, as `vagrant ssh-config` does"));
        }
        let Some(machine) = machines.last_mut() else {
            return Err(
                Error::invalid(span(column), format!("`{keyword}` comes before any `Host` line"))
                    .with_help("`vagrant ssh-config` starts each machine's block with `Host NAME`"),
            );
        };
        match lower.as_str() {
            "hostname" => set_once(&mut machine.host_name, first),
            "user" => set_once(&mut machine.user, first),
            "identityfile" => set_once(&mut machine.identity_file, first),
            "stricthostkeychecking" => set_once(&mut machine.strict_host_key_checking, first),
            "userknownhostsfile" => set_once(&mut machine.known_hosts_file, first),
            "port" => {
                let port = first.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| {
                    Error::invalid(span(value_column), format!("`Port {first}` is not a port number"))
                        .with_help("a port is a number from 1 to 65535")
                })?;
                if machine.port.is_none() {
                    machine.port = Some(port);
                }
            }
            _ => {}
        }
    }
    if machines.is_empty() {
        return Err(Error::invalid(
            Span::new(&file, 1, 1),
            "no `Host` block: this is not the output of `vagrant ssh-config`",
        )
        .with_help("run `vagrant up` so that `vagrant ssh-config` lists the machines"));
    }
    Ok(machines)
}

fn set_once(slot: &mut Option<String>, value: String) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

fn garbage(span: Span, line: &str) -> Error {
    Error::invalid(
        span,
        format!("expected `Host NAME` or an ssh_config `Keyword value`, found `{line}`"),
    )
    .with_help("pass the output of `vagrant ssh-config`, unchanged")
}

/// Splits arguments at whitespace; double quotes group an argument with spaces. A `#` outside
/// quotes at the start of an argument begins a comment.
fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&c) = chars.peek() else {
            break;
        };
        if c == '#' {
            break;
        }
        let mut arg = String::new();
        let mut quoted = false;
        for c in chars.by_ref() {
            match c {
                '"' => quoted = !quoted,
                c if c.is_whitespace() && !quoted => break,
                c => arg.push(c),
            }
        }
        if quoted {
            return Err("a double quote is not closed".to_string());
        }
        args.push(arg);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vagrant/ssh-config")
    }

    fn fixture() -> String {
        std::fs::read_to_string(fixture_path()).expect("read the recorded ssh-config")
    }

    fn load(text: &str) -> Inventory {
        match Inventory::from_vagrant_ssh_config(text, "ssh-config") {
            Ok(inventory) => inventory,
            Err(err) => panic!("{}", err.render()),
        }
    }

    fn error(text: &str) -> String {
        match Inventory::from_vagrant_ssh_config(text, "ssh-config") {
            Ok(_) => panic!("loaded but should not:\n{text}"),
            Err(err) => err.render(),
        }
    }

    fn names(inventory: &Inventory) -> Vec<String> {
        inventory.hosts().map(|h| h.name.clone()).collect()
    }

    #[test]
    fn books_machines() {
        let inv = load(&fixture());
        assert_eq!(names(&inv), ["cd", "prod"]);
        let groups = inv.groups_map();
        assert_eq!(groups["vagrant"], ["cd", "prod"]);
        assert!(groups["ungrouped"].is_empty());
        assert_eq!(inv.group_names("cd"), ["vagrant"]);

        let cd = inv.vars_for("cd");
        assert_eq!(cd["ansible_host"], "127.0.0.1");
        assert_eq!(cd["ansible_port"], json!(2222));
        assert_eq!(cd["ansible_user"], "vagrant");
        assert_eq!(
            cd["ansible_ssh_private_key_file"],
            "/home/dev/ms-lifecycle/.vagrant/machines/cd/virtualbox/private_key"
        );
        assert_eq!(cd["ansible_host_key_checking"], json!(false));
        assert_eq!(cd["ansible_ssh_known_hosts_file"], "/dev/null");
        assert_eq!(cd["inventory_file"], Value::Null);

        let prod = inv.vars_for("prod");
        assert_eq!(prod["ansible_port"], json!(2200));
        assert_eq!(
            prod["ansible_ssh_private_key_file"],
            "/home/dev/ms-lifecycle/.vagrant/machines/prod/virtualbox/private_key"
        );
        assert_eq!(inv.select("vagrant:!cd"), ["prod"]);
    }

    #[test]
    fn only_connection_variables_are_set() {
        let inv = load(&fixture());
        let keys: Vec<String> = inv
            .vars_for("prod")
            .keys()
            .filter(|k| !k.starts_with("inventory_"))
            .cloned()
            .collect();
        assert_eq!(
            keys,
            [
                "ansible_host",
                "ansible_port",
                "ansible_user",
                "ansible_ssh_private_key_file",
                "ansible_host_key_checking",
                "ansible_ssh_known_hosts_file"
            ]
        );
    }

    #[test]
    fn quoting_several_keys_and_unknown_directives() {
        let text = "==> vagrant: A new version of Vagrant is available: 2.4.1 (installed version: 2.2.19)!\n\
                    Host default\n\
                    \x20 HostName 192.168.121.10\n\
                    \x20 User deploy\n\
                    \x20 Port 22\n\
                    \x20 PasswordAuthentication no\n\
                    \x20 IdentityFile \"/Users/Jane Doe/books ms/.vagrant/machines/default/virtualbox/private_key\"\n\
                    \x20 IdentityFile /Users/jane/.vagrant.d/insecure_private_key\n\
                    \x20 IdentitiesOnly yes\n\
                    \x20 PreferredAuthentications gssapi-keyex,gssapi-with-mic,publickey,keyboard-interactive\n\
                    \x20 LogLevel FATAL\n\
                    \x20 ForwardAgent yes\n\
                    \x20 PubkeyAcceptedKeyTypes +ssh-rsa\n\
                    \x20 HostKeyAlgorithms +ssh-rsa\n\
                    \x20 ProxyCommand ssh -W %h:%p jump # via the jump host\n\
                    \n";
        let inv = load(text);
        let vars = inv.vars_for("default");
        assert_eq!(vars["ansible_host"], "192.168.121.10");
        assert_eq!(vars["ansible_user"], "deploy");
        assert_eq!(vars["ansible_port"], json!(22));
        assert_eq!(
            vars["ansible_ssh_private_key_file"],
            "/Users/Jane Doe/books ms/.vagrant/machines/default/virtualbox/private_key"
        );
        // Host key checking stays on when the block does not turn it off.
        assert!(!vars.contains_key("ansible_host_key_checking"));
        assert!(!vars.contains_key("ansible_ssh_known_hosts_file"));
    }

    #[test]
    fn ssh_config_syntax() {
        let text = "# recorded\nhost web\n\tHOSTNAME=10.0.0.5\n  port = 2022\n  user\t\"ops\"\n  StrictHostKeyChecking=No\n  UserKnownHostsFile ~/.ssh/vagrant_hosts /etc/ssh/other\n  HostName 10.0.0.6\nHost db\n  UserKnownHostsFile none\n";
        let inv = load(text);
        let web = inv.vars_for("web");
        assert_eq!(web["ansible_host"], "10.0.0.5");
        assert_eq!(web["ansible_port"], json!(2022));
        assert_eq!(web["ansible_user"], "ops");
        assert_eq!(web["ansible_host_key_checking"], json!(false));
        assert_eq!(web["ansible_ssh_known_hosts_file"], "~/.ssh/vagrant_hosts");
        let db = inv.vars_for("db");
        assert_eq!(db["ansible_ssh_known_hosts_file"], "/dev/null");
        assert!(!db.contains_key("ansible_host"));
        assert_eq!(names(&inv), ["web", "db"]);
    }

    #[test]
    fn garbage_is_an_error_with_its_line() {
        let text = error("Host cd\n  HostName 127.0.0.1\nBringing machine 'cd' up\n");
        assert!(
            text.contains(
                "ssh-config:3:1: expected `Host NAME` or an ssh_config `Keyword value`, found `Bringing machine 'cd' up`"
            ),
            "{text}"
        );
        assert!(text.contains("3 | Bringing machine 'cd' up"), "{text}");

        let text = error("Host cd\n  Colour blue\n");
        assert!(
            text.contains("ssh-config:2:3: expected `Host NAME` or an ssh_config `Keyword value`, found `Colour blue`"),
            "{text}"
        );

        let text = error("Host cd\n  Port twenty\n");
        assert!(
            text.contains("ssh-config:2:8: `Port twenty` is not a port number"),
            "{text}"
        );
        let text = error("Host cd\n  Port 70000\n");
        assert!(text.contains("ssh-config:2:8: `Port 70000`"), "{text}");

        let text = error("  HostName 127.0.0.1\nHost cd\n");
        assert!(
            text.contains("ssh-config:1:3: `HostName` comes before any `Host` line"),
            "{text}"
        );

        let text = error("Host cd\n  IdentityFile \"/a b/key\n");
        assert!(text.contains("ssh-config:2:16: a double quote is not closed"), "{text}");

        let text = error("Host cd\n  User\n");
        assert!(text.contains("ssh-config:2:3: `User` has no value"), "{text}");

        let text = error("Host cd prod\n");
        assert!(
            text.contains("ssh-config:1:6: `Host cd prod` is not one machine name"),
            "{text}"
        );
        assert!(error("Host *\n").contains("`Host *` is not one machine name"));

        let text = error("Host cd\nHost cd\n");
        assert!(
            text.contains("ssh-config:2:6: machine `cd` has two `Host` blocks"),
            "{text}"
        );

        let text = error("Match host cd\n");
        assert!(text.contains("`Match` blocks are not supported"), "{text}");

        for empty in ["", "\n\n# nothing\n"] {
            let text = error(empty);
            assert!(text.contains("ssh-config:1:1: no `Host` block"), "{text}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        let samples = [
            "Host",
            "Host \"",
            "=",
            "= x",
            "Host é\n  Port é\n",
            "Host a\n  Port =\n",
            "\u{feff}Host a",
            "Host a\n  IdentityFile \"\"\n",
            "Host a\r\n  Port 22\r\n",
            "Hôst a\n",
            "\t\t\n\u{a0}Host a\n",
        ];
        for sample in samples {
            let _ = Inventory::from_vagrant_ssh_config(sample, "x");
        }
        let crlf = load("Host a\r\n  Port 22\r\n");
        assert_eq!(crlf.vars_for("a")["ansible_port"], json!(22));
    }

    #[test]
    fn source_names() {
        assert_eq!(source_dir("vagrant"), Some(PathBuf::from(".")));
        assert_eq!(source_dir("vagrant:"), Some(PathBuf::from(".")));
        assert_eq!(source_dir("vagrant:../books"), Some(PathBuf::from("../books")));
        assert_eq!(source_dir("vagrants"), None);
        assert_eq!(source_dir("hosts/vagrant"), None);
    }

    #[test]
    fn recorded_output_replaces_vagrant() {
        let recorded = fixture_path();
        let (text, name) =
            ssh_config(Path::new("/no/such/project"), Some(&recorded), "vagrant").expect("reads the recording");
        assert_eq!(text, fixture());
        assert_eq!(name, recorded.display().to_string());

        let Err(err) = ssh_config(Path::new("."), Some(Path::new("/no/such/file")), "vagrant") else {
            panic!("read a missing recording");
        };
        assert!(err.render().contains("cannot read `/no/such/file`"));
    }

    #[test]
    fn missing_vagrant_and_failures_are_explained() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let Err(err) = ssh_config(tmp.path(), None, "bgrun-no-such-vagrant") else {
            panic!("ran a missing program");
        };
        let text = err.render();
        assert!(
            text.contains("`bgrun-no-such-vagrant` is not installed or not on PATH;"),
            "{text}"
        );
        assert!(text.contains(VAGRANT_SSH_CONFIG_ENV), "{text}");

        let Err(err) = ssh_config(&tmp.path().join("gone"), None, "vagrant") else {
            panic!("ran in a missing folder");
        };
        assert!(err.render().contains("gone` does not exist"));
    }

    #[cfg(unix)]
    #[test]
    fn runs_the_program_and_reports_its_stderr() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let script = |name: &str, body: &str| -> String {
            let path = tmp.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod script");
            path.display().to_string()
        };
        let good = script(
            "good",
            &format!("[ \"$1\" = ssh-config ] || exit 9\ncat '{}'", fixture_path().display()),
        );
        let (text, name) = ssh_config(tmp.path(), None, &good).expect("runs");
        assert_eq!(text, fixture());
        assert!(name.ends_with(&format!(" ssh-config in {}", tmp.path().display())));

        let bad = script(
            "bad",
            "echo 'A Vagrant environment or target machine is required to run this' >&2\nexit 1",
        );
        let Err(err) = ssh_config(tmp.path(), None, &bad) else {
            panic!("a failing run succeeded");
        };
        let text = err.render();
        assert!(text.contains("ssh-config` failed in `"), "{text}");
        assert!(text.contains("(exit code 1):\nA Vagrant environment"), "{text}");
        assert!(text.contains("help: start the machines with `vagrant up`"), "{text}");
    }
}
