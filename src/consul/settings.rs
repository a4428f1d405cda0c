//! Which Consul a host talks to: its address, ACL token and datacenter, from a step's arguments,
//! then the host's variables, then the environment. [`Consul::for_host`] is the one way bgrun
//! builds a client, so every command and module honours the same settings.

use super::{Consul, ConsulError};

/// The port Consul's HTTP API listens on unless a host says otherwise.
pub const DEFAULT_PORT: u16 = 8500;

/// What a step says about reaching Consul; anything left out comes from the host's variables
/// (`consul_addr`, `consul_token`, `consul_token_file`, `consul_datacenter`) and then the
/// environment (`CONSUL_HTTP_TOKEN`, `CONSUL_HTTP_TOKEN_FILE`).
#[derive(Clone, Default)]
pub struct ConsulSettings {
    pub address: Option<String>,
    pub token: Option<String>,
    /// A file on the machine running bgrun that holds the token.
    pub token_file: Option<String>,
    pub datacenter: Option<String>,
}

impl std::fmt::Debug for ConsulSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsulSettings")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("token_file", &self.token_file)
            .field("datacenter", &self.datacenter)
            .finish()
    }
}

/// The Consul a host's settings resolve to: what a client is built from.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub address: String,
    pub token: Option<String>,
    pub datacenter: Option<String>,
}

/// A setting's text, `None` when unset or empty.
fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn read_token_file(path: &str) -> Result<String, ConsulError> {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_string())
        .map_err(|e| ConsulError(format!("cannot read the Consul token file `{path}`: {e}")))
}

impl ConsulSettings {
    /// The address of `host`'s Consul: the setting, else the host's `consul_addr`, else
    /// `http://<ansible_host or host name>:8500`.
    pub fn address_for(&self, host: &str, var: &dyn Fn(&str) -> Option<String>) -> String {
        given(self.address.clone())
            .or_else(|| given(var("consul_addr")))
            .unwrap_or_else(|| {
                let name = given(var("ansible_host")).unwrap_or_else(|| host.to_string());
                format!("http://{name}:{DEFAULT_PORT}")
            })
    }

    /// The ACL token: the setting, the setting's `token_file`, the host's `consul_token`, the
    /// host's `consul_token_file`, `CONSUL_HTTP_TOKEN`, `CONSUL_HTTP_TOKEN_FILE`; `None` when
    /// none is set.
    pub fn token_for(&self, var: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, ConsulError> {
        if let Some(token) = given(self.token.clone()) {
            return Ok(Some(token));
        }
        if let Some(path) = given(self.token_file.clone()) {
            return read_token_file(&path).map(Some);
        }
        if let Some(token) = given(var("consul_token")) {
            return Ok(Some(token));
        }
        if let Some(path) = given(var("consul_token_file")) {
            return read_token_file(&path).map(Some);
        }
        if let Some(token) = given(std::env::var("CONSUL_HTTP_TOKEN").ok()) {
            return Ok(Some(token));
        }
        if let Some(path) = given(std::env::var("CONSUL_HTTP_TOKEN_FILE").ok()) {
            return read_token_file(&path).map(Some);
        }
        Ok(None)
    }

    /// The datacenter: the setting, else the host's `consul_datacenter`; `None` for the agent's.
    pub fn datacenter_for(&self, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        given(self.datacenter.clone()).or_else(|| given(var("consul_datacenter")))
    }

    /// Address, token and datacenter of `host`'s Consul, from these settings and the host's
    /// variables (`var`).
    pub fn target(&self, host: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<Target, ConsulError> {
        Ok(Target {
            address: self.address_for(host, var),
            token: self.token_for(var)?,
            datacenter: self.datacenter_for(var),
        })
    }
}

impl Consul {
    /// A client for `host`'s Consul, from `settings` and the host's variables (`var`).
    pub fn for_host(
        host: &str,
        var: &dyn Fn(&str) -> Option<String>,
        settings: &ConsulSettings,
    ) -> Result<Consul, ConsulError> {
        Consul::for_target(settings.target(host, var)?)
    }

    /// A client for a resolved target.
    pub fn for_target(target: Target) -> Result<Consul, ConsulError> {
        Consul::new(&target.address, target.token, target.datacenter)
    }

    /// Whether this client talks to `target` as `target` says (same address, token, datacenter).
    pub fn serves(&self, target: &Target) -> bool {
        self.base == super::base_url(&target.address)
            && self.token == target.token
            && self.datacenter == target.datacenter
    }

    /// The token this client sends, to keep it out of anything bgrun prints.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_tokens_and_datacenters_come_from_settings_then_variables() {
        let vars = |name: &str| match name {
            "ansible_host" => Some("10.0.0.7".to_string()),
            "consul_token" => Some("from-var".to_string()),
            _ => None,
        };
        let none = ConsulSettings::default();
        assert_eq!(none.address_for("prod", &vars), "http://10.0.0.7:8500");
        assert_eq!(none.address_for("prod", &|_| None), "http://prod:8500");
        let with_addr = |name: &str| (name == "consul_addr").then(|| "http://c:1".to_string());
        assert_eq!(none.address_for("prod", &with_addr), "http://c:1");
        let given = ConsulSettings {
            address: Some("x:2".into()),
            token: Some("arg".into()),
            ..Default::default()
        };
        assert_eq!(given.address_for("prod", &with_addr), "x:2");
        assert_eq!(given.token_for(&vars).unwrap().as_deref(), Some("arg"));
        assert_eq!(none.token_for(&vars).unwrap().as_deref(), Some("from-var"));
        assert!(!format!("{given:?}").contains("arg"));
        let missing = ConsulSettings {
            token_file: Some("/nonexistent/token".into()),
            ..Default::default()
        };
        assert!(missing.token_for(&vars).unwrap_err().0.contains("/nonexistent/token"));
    }

    #[test]
    fn a_client_serves_the_target_it_was_built_for() {
        let vars = |name: &str| match name {
            "consul_addr" => Some("127.0.0.1:1".to_string()),
            "consul_token" => Some("t".to_string()),
            "consul_datacenter" => Some("dc2".to_string()),
            _ => None,
        };
        let target = ConsulSettings::default().target("prod", &vars).unwrap();
        assert_eq!(target.datacenter.as_deref(), Some("dc2"));
        let client = Consul::for_target(target.clone()).unwrap();
        assert_eq!(client.address(), "http://127.0.0.1:1");
        assert!(client.serves(&target));
        let other = Target { token: None, ..target };
        assert!(!client.serves(&other));
    }
}
