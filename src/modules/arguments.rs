//! Arguments that several modules take, written once: [`module_arguments!`] declares a module's
//! argument struct with the groups it names added to its fields, and the method that reads each
//! group.
//! - `consul`: where and how to reach Consul (`consul_addr`, `datacenter`, `token`,
//!   `token_file`), read by `consul_settings()`;
//! - `attributes`: a file's `mode`, `owner` and `group`, read by `attributes()`;
//! - `command`: a command's `cmd`, `chdir`, `creates`, `removes`, `stdin`, `stdin_add_newline`
//!   and `strip_empty_ends`, read by `invocation()` (used by `command.rs` only, where
//!   `Invocation` is).

/// `module_arguments! { [consul, attributes] #[derive(...)] pub struct Name { fields } }`
macro_rules! module_arguments {
    ([$($group:ident),*] $(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        module_arguments!(@fields [$($group),*] [$(#[$meta])*] $name [$($fields)*]);
        $(module_arguments!(@reader $group $name);)*
    };
    (@fields [consul $(, $rest:ident)*] $meta:tt $name:ident [$($fields:tt)*]) => {
        module_arguments!(@fields [$($rest),*] $meta $name [$($fields)*
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
        ]);
    };
    (@fields [attributes $(, $rest:ident)*] $meta:tt $name:ident [$($fields:tt)*]) => {
        module_arguments!(@fields [$($rest),*] $meta $name [$($fields)*
            /// An octal string (`"0644"`) or a YAML octal number.
            #[serde(default)]
            mode: serde_json::Value,
            #[serde(default)]
            owner: Option<String>,
            #[serde(default)]
            group: Option<String>,
        ]);
    };
    (@fields [command $(, $rest:ident)*] $meta:tt $name:ident [$($fields:tt)*]) => {
        module_arguments!(@fields [$($rest),*] $meta $name [$($fields)*
            /// The command line (`command` splits it into words as a shell would, without one).
            #[serde(default)]
            cmd: Option<String>,
            #[serde(default)]
            chdir: Option<String>,
            /// Nothing is run when this path exists.
            #[serde(default)]
            creates: Option<String>,
            /// Nothing is run unless this path exists.
            #[serde(default)]
            removes: Option<String>,
            #[serde(default)]
            stdin: Option<String>,
            #[serde(default = "crate::modules::arguments::yes")]
            stdin_add_newline: bool,
            #[serde(default = "crate::modules::arguments::yes")]
            strip_empty_ends: bool,
        ]);
    };
    (@fields [] [$($meta:tt)*] $name:ident [$($fields:tt)*]) => {
        $($meta)*
        pub struct $name { $($fields)* }
    };
    (@reader consul $name:ident) => {
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
    (@reader command $name:ident) => {
        impl $name {
            /// `argv` to run under this step's conditions; `shown` is how messages name it.
            fn invocation(self, argv: Vec<String>, shown: String) -> Invocation {
                Invocation {
                    argv,
                    shown,
                    warnings: Vec::new(),
                    chdir: self.chdir,
                    creates: self.creates,
                    removes: self.removes,
                    stdin: self.stdin,
                    stdin_add_newline: self.stdin_add_newline,
                    strip_empty_ends: self.strip_empty_ends,
                }
            }
        }
    };
    (@reader attributes $name:ident) => {
        impl $name {
            /// The mode, owner and group the step asks a file to have.
            fn attributes(&self) -> Result<crate::transport::files::Attributes, crate::transport::HostError> {
                Ok(crate::transport::files::Attributes {
                    mode: super::parse_mode(&self.mode)?,
                    owner: self.owner.clone(),
                    group: self.group.clone(),
                })
            }
        }
    };
}

/// The default of a flag that is on unless turned off.
pub(crate) fn yes() -> bool {
    true
}
