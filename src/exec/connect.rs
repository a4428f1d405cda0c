//! A host's connection settings from its variables, with Ansible's names.

use std::time::Duration;

use serde_json::Value as Json;

use crate::template::{Scope, TemplateError};
use crate::transport::{ConnectionSpec, Persist};

/// Reads `ansible_host`, `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`,
/// `ansible_connection`, host key settings, the known_hosts file and `ControlPersist` from a
/// host's variables; `persist` is what the command line and ansible.cfg say.
pub fn spec(
    host: &str,
    scope: &Scope,
    timeout: Duration,
    host_key_checking: bool,
    persist: Persist,
) -> Result<ConnectionSpec, TemplateError> {
    let text = |names: &[&str]| -> Result<Option<String>, TemplateError> {
        for name in names {
            if let Some(value) = scope.resolve(name)?
                && !value.is_null()
            {
                return Ok(Some(crate::yaml::scalar_text(&value)));
            }
        }
        Ok(None)
    };
    let address = text(&["ansible_host", "ansible_ssh_host"])?.unwrap_or_else(|| host.to_string());
    let port = match text(&["ansible_port", "ansible_ssh_port"])? {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| TemplateError(format!("`ansible_port` of `{host}` is not a port number: {p}")))?,
        ),
    };
    let connection = text(&["ansible_connection"])?.unwrap_or_else(|| "ssh".into());
    let local = match connection.as_str() {
        "local" => true,
        "ssh" | "smart" | "paramiko" => false,
        other => {
            return Err(TemplateError(format!(
                "`ansible_connection: {other}` of `{host}` is not supported; bgrun has `ssh` and `local`"
            )));
        }
    };
    let ssh_args = [
        text(&["ansible_ssh_args"])?,
        text(&["ansible_ssh_common_args"])?,
        text(&["ansible_ssh_extra_args"])?,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let options = ssh_options(&ssh_args);
    let mut checking = host_key_checking;
    if let Some(value) = scope.resolve("ansible_host_key_checking")? {
        checking = truthy_setting(&value);
    }
    if let Some(value) = ssh_option(&options, "StrictHostKeyChecking") {
        checking = !value.eq_ignore_ascii_case("no");
    }
    let known_hosts_file = text(&["ansible_ssh_known_hosts_file"])?
        .or_else(|| ssh_option(&options, "UserKnownHostsFile").map(str::to_string));
    Ok(ConnectionSpec {
        host: host.to_string(),
        address,
        port,
        user: text(&["ansible_user", "ansible_ssh_user", "remote_user"])?,
        private_key: text(&["ansible_ssh_private_key_file", "ansible_private_key_file"])?,
        known_hosts_file,
        host_key_checking: checking,
        local,
        timeout,
        persist: match persist {
            Persist::No => Persist::No,
            given => ssh_option(&options, "ControlPersist")
                .and_then(Persist::parse)
                .unwrap_or(given),
        },
    })
}

/// The `-o ControlPersist=...` of an ssh argument string, as Ansible's `ssh_args` give it.
pub fn control_persist(args: &str) -> Option<Persist> {
    ssh_option(&ssh_options(args), "ControlPersist").and_then(Persist::parse)
}

/// An option's value among `-o` options; the first given wins, as it does for ssh.
fn ssh_option<'a>(options: &'a [(String, String)], name: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Ansible's reading of a setting's truth: `False`, `no`, `0`, `off` are false.
pub fn truthy_setting(value: &Json) -> bool {
    match value {
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "false" | "no" | "0" | "off" | "n" | ""
        ),
        _ => false,
    }
}

/// `-o Key=Value` options out of an ssh argument string.
fn ssh_options(args: &str) -> Vec<(String, String)> {
    let words = shlex::split(args).unwrap_or_default();
    let mut out = Vec::new();
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        let option = match word.strip_prefix("-o") {
            Some("") => iter.next().cloned(),
            Some(rest) => Some(rest.to_string()),
            None => None,
        };
        if let Some((k, v)) = option.as_deref().and_then(|o| o.split_once('=')) {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Templar;
    use serde_json::json;

    fn spec_of(vars: Json) -> ConnectionSpec {
        let Json::Object(map) = vars else { panic!("map") };
        let scope = Scope::new(&Templar::new(), map);
        spec(
            "web1",
            &scope,
            Duration::from_secs(10),
            true,
            Persist::Idle(crate::transport::DEFAULT_IDLE),
        )
        .unwrap()
    }

    #[test]
    fn reads_ansible_connection_variables() {
        let s = spec_of(
            json!({"ansible_host": "{{ ip }}", "ip": "127.0.0.3", "ansible_port": "2222", "ansible_user": "deploy",
            "ansible_ssh_private_key_file": "/k", "ansible_python_interpreter": "/usr/bin/python3"}),
        );
        assert_eq!(s.address, "127.0.0.3");
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.user.as_deref(), Some("deploy"));
        assert_eq!(s.private_key.as_deref(), Some("/k"));
        assert!(s.host_key_checking && !s.local);
    }

    #[test]
    fn host_key_checking_can_be_turned_off() {
        assert!(!spec_of(json!({"ansible_host_key_checking": "False"})).host_key_checking);
        let s =
            spec_of(json!({"ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/tmp/kh"}));
        assert!(!s.host_key_checking);
        assert_eq!(s.known_hosts_file.as_deref(), Some("/tmp/kh"));
    }

    #[test]
    fn control_persist_from_the_host_first_given_wins() {
        use std::time::Duration;
        assert_eq!(
            spec_of(json!({})).persist,
            Persist::Idle(crate::transport::DEFAULT_IDLE)
        );
        let s = spec_of(
            json!({"ansible_ssh_args": "-o ControlPersist=30s", "ansible_ssh_extra_args": "-o ControlPersist=no"}),
        );
        assert_eq!(s.persist, Persist::Idle(Duration::from_secs(30)));
        assert_eq!(
            control_persist("-C -o ControlMaster=auto -o ControlPersist=10m"),
            Some(Persist::Idle(Duration::from_secs(600)))
        );
    }

    #[test]
    fn local_connection() {
        assert!(spec_of(json!({"ansible_connection": "local"})).local);
        assert_eq!(spec_of(json!({})).address, "web1");
    }
}
