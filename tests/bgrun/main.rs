//! bgrun's integration tests: the real binary against real sshd hosts of the lab.

mod ansible_compat;
mod blue_green;
mod check_exact;
mod compat;
mod compose;
mod connections;
mod consul;
mod discovery;
mod docker;
mod errors;
mod faults;
mod harness;
mod inventory_cli;
mod language;
mod listing;
mod modules;
mod provision;
mod provision_from_bare;
mod running;
mod security;
mod timeline;
mod variables;
