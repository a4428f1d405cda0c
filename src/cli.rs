//! The command line, with ansible-playbook's flags where bgrun has the same feature.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::output::Format;
use crate::timeline::Target;

/// Runs Ansible-like YAML playbooks as a graph of steps over SSH.
#[derive(Debug, Parser)]
#[command(name = "bgrun", version, about, after_help = EXIT_CODES, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The playbook to run.
    #[arg(required_unless_present = "list_modules")]
    pub playbook: Option<PathBuf>,

    /// Inventory: a file, a folder, or a comma-separated host list (may be repeated).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,

    /// Narrow the play's hosts to this pattern.
    #[arg(short = 'l', long, value_name = "PATTERN")]
    pub limit: Option<String>,

    /// Extra variables: `k=v ...`, `@file.yml`, or JSON/YAML text (highest precedence).
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,

    /// How many hosts work on a step at once (default 50, or `forks` in ansible.cfg).
    #[arg(short = 'f', long)]
    pub forks: Option<usize>,

    /// Log in as this user when the inventory names none.
    #[arg(short = 'u', long = "user", value_name = "REMOTE_USER")]
    pub user: Option<String>,

    /// Reach hosts this way when neither the inventory nor the play says how (`local` or `ssh`).
    #[arg(short = 'c', long, value_name = "CONNECTION", value_parser = ["local", "ssh", "smart", "paramiko"])]
    pub connection: Option<String>,

    /// Run every step as another user (`become`), root unless `--become-user` says otherwise.
    #[arg(short = 'b', long = "become")]
    pub become_enabled: bool,

    /// The user `--become` runs steps as.
    #[arg(long, value_name = "USER")]
    pub become_user: Option<String>,

    /// Run notified handlers even on hosts that failed.
    #[arg(long)]
    pub force_handlers: bool,

    /// Change nothing; every module says what it would do.
    #[arg(short = 'C', long)]
    pub check: bool,

    /// Show content changes of copy, template and file.
    #[arg(short = 'D', long)]
    pub diff: bool,

    /// Run only steps with these tags (comma-separated, may be repeated).
    #[arg(short = 't', long, value_delimiter = ',')]
    pub tags: Vec<String>,

    /// Skip steps with these tags.
    #[arg(long, value_delimiter = ',')]
    pub skip_tags: Vec<String>,

    /// Print the steps of each play and exit.
    #[arg(long)]
    pub list_tasks: bool,

    /// Print the hosts each play would run on and exit.
    #[arg(long)]
    pub list_hosts: bool,

    /// Load and check everything, run nothing.
    #[arg(long)]
    pub syntax_check: bool,

    /// Print the step graph as Graphviz DOT and exit.
    #[arg(long)]
    pub graph: bool,

    /// Print the modules bgrun has and exit.
    #[arg(long)]
    pub list_modules: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,

    /// Write a picture of the run when it ends: a bar per step and host on a time axis, as an
    /// HTML page (`FILE.html`) or an SVG picture (`FILE.svg`).
    #[arg(long, value_name = "FILE", value_parser = Target::parse)]
    pub timeline: Option<Target>,

    /// Seconds to wait for an SSH connection (default 10, or `timeout` in ansible.cfg).
    #[arg(short = 'T', long)]
    pub timeout: Option<u64>,

    /// Seconds a `consul_lock` step (a deploy lock) waits for a lock another run holds, instead
    /// of failing at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub lock_wait: f64,

    /// Close the SSH connections when the run ends, instead of keeping them for the next run
    /// (ControlPersist, 60 s idle by default).
    #[arg(long)]
    pub no_persist: bool,

    /// Show module results (-v) and more.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the resolved inventory, as ansible-inventory does.
    Inventory(InventoryArgs),
    /// The last deploys of a service, from its audit trail in Consul's KV.
    History(HistoryArgs),
    /// Keep each host's Consul in step with its Docker engine, as Registrator does.
    Registrator(RegistratorArgs),
    /// Print what a template (Jinja2, or consul-template's .ctmpl) renders on a host; writes nothing.
    Render(RenderArgs),
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The template file.
    pub template: PathBuf,

    /// The host whose variables and Consul the template reads.
    #[arg(long, value_name = "HOST")]
    pub host: String,

    /// Inventory: a file, a folder, or a host list (may be repeated).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The service (the deploy records are under `<SERVICE>/deploys/` in KV).
    pub service: String,

    /// Inventory: a file, a folder, or a host list (may be repeated).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,

    /// The hosts whose Consul is read (default: every host that names one in `consul_addr`).
    #[arg(short = 'l', long, value_name = "PATTERN", default_value = "all")]
    pub limit: String,

    /// How many deploys to show, newest last.
    #[arg(short = 'n', long, default_value_t = 20)]
    pub count: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct RegistratorArgs {
    /// Inventory: a file, a folder, or a host list (may be repeated).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,

    /// The hosts to watch (default: every host that names its Consul in `consul_addr`).
    #[arg(short = 'l', long, value_name = "PATTERN", default_value = "all")]
    pub limit: String,

    /// Compare once (register running containers, remove ghosts) and exit.
    #[arg(long)]
    pub once: bool,

    /// Seconds to wait for an SSH connection.
    #[arg(short = 'T', long, default_value_t = 10)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("view").args(["list", "graph", "host"]).required(true)))]
pub struct InventoryArgs {
    /// Inventory: a file, a folder, a host list, or `vagrant` (may be repeated).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,

    /// Build the inventory from `vagrant ssh-config` run in this Vagrant project's folder.
    #[arg(long, value_name = "DIR")]
    pub vagrant: Option<PathBuf>,

    /// Print every group and host with its variables as JSON.
    #[arg(long)]
    pub list: bool,

    /// Print the groups and hosts as a tree (optionally from one group).
    #[arg(long, value_name = "GROUP", num_args = 0..=1, default_missing_value = "all")]
    pub graph: Option<String>,

    /// Print one host's variables as JSON.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
}

pub const EXIT_CODES: &str = "Exit codes:
  0  every host ok
  1  an internal error
  2  one or more hosts failed
  4  one or more hosts unreachable (and none failed)
  5  bad input: playbook, inventory or options (nothing ran)";
