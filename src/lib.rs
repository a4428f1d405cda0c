//! bgrun: a declarative pipeline engine driven by Ansible-like YAML playbooks. A run flows one
//! way: command line, inventory, playbook, step graph, executor, modules over a transport, and
//! events to the output.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod compat;
pub mod compose;
pub mod config;
pub mod connection;
pub mod consul;
pub mod controller;
pub mod ctmpl;
pub mod docker;
pub mod error;
pub mod exec;
pub mod graph;
pub mod interrupt;
pub mod inventory;
pub mod library;
pub mod modules;
pub mod output;
pub mod playbook;
pub mod run;
pub mod source;
pub mod template;
pub mod transport;
pub mod yaml;
