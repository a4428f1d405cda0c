//! bgrun: a declarative pipeline engine driven by Ansible-like YAML playbooks.

pub mod error;
pub mod inventory;
pub mod source;
pub mod template;
pub mod yaml;
pub mod modules;
pub mod transport;
pub mod playbook;
pub mod graph;
