//! `ansible.cfg`: the settings bgrun shares with Ansible, read from `ANSIBLE_CONFIG`, beside the
//! playbook, the current folder, or `~/.ansible.cfg` (the first found).

use std::path::{Path, PathBuf};

/// Settings from ansible.cfg; command-line options override them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub file: Option<PathBuf>,
    pub inventory: Vec<String>,
    pub roles_path: Vec<PathBuf>,
    pub host_key_checking: Option<bool>,
    pub forks: Option<usize>,
    pub remote_user: Option<String>,
    pub timeout: Option<u64>,
    /// `[ssh_connection] ssh_args`, where Ansible sets `ControlPersist`.
    pub ssh_args: Option<String>,
    pub become_enabled: Option<bool>,
    pub become_user: Option<String>,
    pub become_method: Option<String>,
}

impl Settings {
    /// Finds and reads the ansible.cfg that applies to a playbook.
    pub fn find(playbook_dir: &Path) -> Settings {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(path) = std::env::var_os("ANSIBLE_CONFIG") {
            candidates.push(PathBuf::from(path));
        }
        candidates.push(playbook_dir.join("ansible.cfg"));
        candidates.push(PathBuf::from("ansible.cfg"));
        if let Some(home) = std::env::var_os("HOME") {
            candidates.push(Path::new(&home).join(".ansible.cfg"));
        }
        for path in candidates {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                let mut settings = Settings::parse(&text, &base);
                settings.file = Some(path);
                return settings;
            }
        }
        Settings::default()
    }

    /// Reads the INI text of an ansible.cfg; relative paths are relative to its folder.
    pub fn parse(text: &str, base: &Path) -> Settings {
        let mut settings = Settings::default();
        let mut section = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_string();
                continue;
            }
            let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let path = |v: &str| -> PathBuf {
                let expanded = match (v.strip_prefix("~/"), std::env::var_os("HOME")) {
                    (Some(rest), Some(home)) => Path::new(&home).join(rest),
                    _ => PathBuf::from(v),
                };
                if expanded.is_absolute() {
                    expanded
                } else {
                    base.join(expanded)
                }
            };
            match (section.as_str(), key) {
                ("defaults", "inventory" | "hostfile") => {
                    settings.inventory = value
                        .split(',')
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| path(s.trim()).display().to_string())
                        .collect();
                }
                ("defaults", "roles_path") => {
                    settings.roles_path = value.split(':').filter(|s| !s.is_empty()).map(path).collect()
                }
                ("defaults", "host_key_checking") => settings.host_key_checking = boolean(value),
                ("defaults", "forks") => settings.forks = value.parse().ok(),
                ("defaults", "remote_user") => settings.remote_user = Some(value.to_string()),
                ("defaults", "timeout") => settings.timeout = value.parse().ok(),
                ("ssh_connection", "ssh_args") => settings.ssh_args = Some(value.to_string()),
                ("privilege_escalation", "become") => settings.become_enabled = boolean(value),
                ("privilege_escalation", "become_user") => settings.become_user = Some(value.to_string()),
                ("privilege_escalation", "become_method") => settings.become_method = Some(value.to_string()),
                _ => {}
            }
        }
        settings
    }
}

fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_books_ansible_cfg() {
        let text = "[defaults]\ncallback_plugins=/etc/ansible/callback_plugins/\nhost_key_checking=False\ndeprecation_warnings=False\n\n[privilege_escalation]\nbecome=True\nbecome_method=sudo\nbecome_user=root\n";
        let settings = Settings::parse(text, Path::new("/p"));
        assert_eq!(settings.host_key_checking, Some(false));
        assert_eq!(settings.become_enabled, Some(true));
        assert_eq!(settings.become_user.as_deref(), Some("root"));
        assert_eq!(settings.become_method.as_deref(), Some("sudo"));
    }

    #[test]
    fn paths_are_relative_to_the_file() {
        let settings = Settings::parse(
            "[defaults]\ninventory = hosts/prod\nroles_path = roles:/srv/roles\nforks=7\n",
            Path::new("/p"),
        );
        assert_eq!(settings.inventory, vec!["/p/hosts/prod".to_string()]);
        assert_eq!(
            settings.roles_path,
            vec![PathBuf::from("/p/roles"), PathBuf::from("/srv/roles")]
        );
        assert_eq!(settings.forks, Some(7));
    }
}
