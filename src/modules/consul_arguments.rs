//! The arguments every Consul module takes to reach its agent (`consul_addr`, `datacenter`,
//! `token`, `token_file`), written once: [`consul_module!`] adds them to a module's struct and
//! gives it `consul_settings()`.

/// Declares a module's argument struct with the Consul connection arguments added to its fields,
/// and `consul_settings()`, which turns them into [`crate::consul::ConsulSettings`].
macro_rules! consul_module {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($fields)*
            /// The agent's HTTP address; default the host's `consul_addr`, then port 8500 of the host.
            #[serde(default)]
            consul_addr: Option<String>,
            /// The datacenter to ask; default the host's `consul_datacenter`, then the agent's own.
            #[serde(default)]
            datacenter: Option<String>,
            /// An ACL token; default the host's `consul_token`, then `CONSUL_HTTP_TOKEN`.
            #[serde(default)]
            token: Option<crate::consul::Secret>,
            /// A file on the controller holding the token.
            #[serde(default)]
            token_file: Option<String>,
        }

        impl $name {
            /// Where and how to reach Consul, as this step says.
            fn consul_settings(&self) -> crate::consul::ConsulSettings {
                crate::consul::ConsulSettings {
                    address: self.consul_addr.clone(),
                    token: self.token.as_ref().map(|t| t.0.clone()),
                    token_file: self.token_file.clone(),
                    datacenter: self.datacenter.clone(),
                }
            }
        }
    };
}
