//! bgrun: a declarative pipeline engine driven by Ansible-like YAML playbooks. A run flows one
//! way: command line, inventory, playbook, step graph, executor, modules over a transport, and
//! events to the output.

mod audit;
mod cli;
pub mod commands;
mod compat;
pub mod compose;
mod config;
mod connection;
pub mod consul;
mod controller;
mod ctmpl;
mod docker;
mod error;
mod exec;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod graph;
mod interrupt;
pub mod inventory;
mod library;
mod modules;
mod output;
mod playbook;
pub mod run;
mod secrets;
mod source;
mod template;
mod timeline;
mod transport;
mod yaml;
