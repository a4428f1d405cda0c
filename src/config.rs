//! `ansible.cfg`: the settings bgrun shares with Ansible, read from `ANSIBLE_CONFIG`, beside the
//! playbook, the current folder, or `~/.ansible.cfg` (the first found). Each setting's
//! `ANSIBLE_*` environment variable wins over the file, as in Ansible.

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
        let mut settings = Settings::default();
        for path in candidates {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                settings = Settings::parse(&text, &base);
                settings.file = Some(path);
                break;
            }
        }
        settings.apply_env(|name| std::env::var(name).ok());
        settings
    }

    /// The `ANSIBLE_*` variables of the settings, over what ansible.cfg says: `ANSIBLE_INVENTORY`
    /// (comma-separated), `ANSIBLE_ROLES_PATH` (colon-separated), `ANSIBLE_HOST_KEY_CHECKING`,
    /// `ANSIBLE_FORKS`, `ANSIBLE_REMOTE_USER`, `ANSIBLE_TIMEOUT`, `ANSIBLE_SSH_ARGS`,
    /// `ANSIBLE_BECOME`, `ANSIBLE_BECOME_USER`, `ANSIBLE_BECOME_METHOD`. Relative paths are
    /// relative to the current folder.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        if let Some(value) = var("ANSIBLE_INVENTORY") {
            self.inventory = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| expand_home(s).display().to_string())
                .collect();
        }
        if let Some(value) = var("ANSIBLE_ROLES_PATH") {
            self.roles_path = value.split(':').filter(|s| !s.is_empty()).map(expand_home).collect();
        }
        if let Some(value) = var("ANSIBLE_HOST_KEY_CHECKING") {
            self.host_key_checking = boolean(&value);
        }
        if let Some(value) = var("ANSIBLE_FORKS") {
            self.forks = value.trim().parse().ok();
        }
        if let Some(value) = var("ANSIBLE_REMOTE_USER") {
            self.remote_user = Some(value);
        }
        if let Some(value) = var("ANSIBLE_TIMEOUT") {
            self.timeout = value.trim().parse().ok();
        }
        if let Some(value) = var("ANSIBLE_SSH_ARGS") {
            self.ssh_args = Some(value);
        }
        if let Some(value) = var("ANSIBLE_BECOME") {
            self.become_enabled = boolean(&value);
        }
        if let Some(value) = var("ANSIBLE_BECOME_USER") {
            self.become_user = Some(value);
        }
        if let Some(value) = var("ANSIBLE_BECOME_METHOD") {
            self.become_method = Some(value);
        }
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
                let expanded = expand_home(v);
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

/// Ansible's booleans for settings (`yes`, `True`, `1`, `on`, `y`, `t`, and their opposites).
fn boolean(value: &str) -> Option<bool> {
    crate::compat::ansible::boolean(value)
}

/// `~/x` as a path under the home folder.
fn expand_home(v: &str) -> PathBuf {
    match (v.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(v),
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
    fn environment_variables_win_over_the_file() {
        let mut settings = Settings::parse(
            "[defaults]\ninventory = hosts\nroles_path = roles\nforks = 7\nremote_user = deploy\n[privilege_escalation]\nbecome = yes\n",
            Path::new("/p"),
        );
        let env = |name: &str| match name {
            "ANSIBLE_INVENTORY" => Some("a, b,".to_string()),
            "ANSIBLE_ROLES_PATH" => Some("r1:/abs/r2".to_string()),
            "ANSIBLE_FORKS" => Some("3".to_string()),
            "ANSIBLE_BECOME" => Some("False".to_string()),
            "ANSIBLE_BECOME_USER" => Some("admin".to_string()),
            _ => None,
        };
        settings.apply_env(env);
        assert_eq!(settings.inventory, ["a", "b"]);
        assert_eq!(settings.roles_path, [PathBuf::from("r1"), PathBuf::from("/abs/r2")]);
        assert_eq!(settings.forks, Some(3));
        assert_eq!(settings.remote_user.as_deref(), Some("deploy"));
        assert_eq!(settings.become_enabled, Some(false));
        assert_eq!(settings.become_user.as_deref(), Some("admin"));
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
