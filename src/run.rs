//! One invocation of bgrun: parse the command line, load, then list, check or run, and map the
//! outcome to an exit code.

use std::path::Path;
use std::time::Duration;

use clap::Parser;
use serde_json::Value as Json;

use crate::cli::{Cli, Command};
use crate::commands;
use crate::config::Settings;
use crate::error::Error;
use crate::exec::{self, RunOptions, Runner};
use crate::inventory::Inventory;
use crate::modules::ModuleKind;
use crate::output::Reporter;
use crate::playbook::{self, Playbook};
use crate::source::SourceFile;
use crate::template::Vars;
use crate::transport::{DEFAULT_IDLE, Persist};

pub const EXIT_OK: i32 = 0;
pub const EXIT_INTERNAL: i32 = 1;
pub const EXIT_FAILED: i32 = 2;
pub const EXIT_UNREACHABLE: i32 = 4;
pub const EXIT_BAD_INPUT: i32 = 5;

/// Runs bgrun with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    std::panic::set_hook(Box::new(on_panic));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_INTERNAL;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}", error.render());
            EXIT_BAD_INPUT
        }
    }
}

/// A closed stdout (`bgrun inventory --list | head`) ends bgrun quietly; any other panic is a
/// bug: a short message asking for a report, and exit 1.
fn on_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload()
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| info.payload().downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
        std::process::exit(EXIT_OK);
    }
    let place = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    eprintln!(
        "error: internal error in bgrun {}: {message}{place}\nThis is a bug: please report it with the command that caused it.",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(EXIT_INTERNAL);
}

async fn run(cli: Cli) -> Result<i32, Error> {
    match &cli.command {
        Some(Command::Inventory(args)) => return commands::inventory::show(args),
        Some(Command::Registrator(args)) => return commands::registrator::command(args).await,
        Some(Command::History(args)) => return commands::history::command(args).await,
        Some(Command::Render(args)) => return commands::render::command(args).await,
        None => {}
    }
    if cli.list_modules {
        for name in ModuleKind::names() {
            println!("{name}");
        }
        return Ok(EXIT_OK);
    }
    let Some(path) = cli.playbook.as_deref() else {
        return Err(Error::usage("no playbook given"));
    };
    let playbook_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut settings = Settings::find(playbook_dir);
    if cli.become_enabled {
        settings.become_enabled = Some(true);
    }
    if cli.become_user.is_some() {
        settings.become_user = cli.become_user.clone();
    }
    if cli.user.is_some() {
        settings.remote_user = cli.user.clone();
    }
    let mut book = playbook::load(path, &settings)?;
    let extra_vars = parse_extra_vars(&cli.extra_vars)?;
    if !(cli.graph || cli.syntax_check || cli.list_hosts || cli.list_tasks) {
        playbook::answer_prompts(&mut book, &extra_vars)?;
    }
    let prepared = exec::prepare(&book)?;
    let inventory = load_inventory(&cli, &book, &settings)?;
    if cli.graph {
        let plays: Vec<(&str, &[playbook::Step], &crate::graph::StepGraph)> = prepared
            .iter()
            .map(|p| (p.play.name.as_str(), p.play.steps.as_slice(), &p.graph))
            .collect();
        print!("{}", crate::graph::to_dot(&plays));
        return Ok(EXIT_OK);
    }
    if cli.syntax_check {
        println!("playbook: {}", path.display());
        return Ok(EXIT_OK);
    }
    if cli.list_hosts || cli.list_tasks {
        list(&cli, &book, &inventory);
        return Ok(EXIT_OK);
    }
    let options = RunOptions {
        check: cli.check,
        diff: cli.diff,
        forks: cli.forks.or(settings.forks).unwrap_or(50),
        verbosity: cli.verbose,
        tags: cli.tags.clone(),
        skip_tags: cli.skip_tags.clone(),
        extra_vars,
        limit: cli.limit.clone(),
        timeout: Duration::from_secs(cli.timeout.or(settings.timeout).unwrap_or(10)),
        host_key_checking: settings.host_key_checking.unwrap_or(true),
        persist: persist(cli.no_persist, &settings),
        force_handlers: cli.force_handlers,
        roles_path: settings.roles_path.clone(),
        lock_wait: lock_wait(cli.lock_wait)?,
        local_by_default: cli.connection.as_deref() == Some("local"),
    };
    let mut reporter = Reporter::new(cli.output, cli.verbose);
    if cli.timeline.is_some() {
        reporter = reporter.recording_timeline();
    }
    crate::interrupt::install();
    let summary = Runner::new(&book, std::sync::Arc::new(inventory), &options, &reporter)
        .run(&prepared)
        .await;
    crate::consul::lock::release_all().await;
    let timeline_written = write_timeline(&cli, &reporter, path);
    let summary = summary?;
    let code = if let Some(code) = crate::interrupt::exit_code() {
        code
    } else if summary.any_failed() {
        EXIT_FAILED
    } else if summary.any_unreachable() {
        EXIT_UNREACHABLE
    } else {
        EXIT_OK
    };
    Ok(if code == EXIT_OK && !timeline_written {
        EXIT_INTERNAL
    } else {
        code
    })
}

/// Whether SSH masters outlive the run: not with `--no-persist`; else the `ControlPersist` of
/// `ANSIBLE_SSH_ARGS` or ansible.cfg's `[ssh_connection] ssh_args`; else 60 s idle, as Ansible.
fn persist(no_persist: bool, settings: &Settings) -> Persist {
    if no_persist {
        return Persist::No;
    }
    settings
        .ssh_args
        .as_deref()
        .and_then(exec::control_persist)
        .unwrap_or(Persist::Idle(DEFAULT_IDLE))
}

/// Writes `--timeline`'s picture of the run, however the run ended; false when it could not.
fn write_timeline(cli: &Cli, reporter: &Reporter, playbook: &Path) -> bool {
    let (Some(target), Some(recording)) = (&cli.timeline, reporter.timeline()) else {
        return true;
    };
    match target.write(&recording, &playbook.display().to_string()) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: cannot write the timeline to `{}`: {e}", target.path().display());
            false
        }
    }
}

/// `--lock-wait SECONDS` as a duration.
fn lock_wait(seconds: f64) -> Result<Duration, Error> {
    if (0.0..=86_400.0).contains(&seconds) {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(Error::usage(format!(
            "`--lock-wait {seconds}`: give a number of seconds from 0 to 86400"
        )))
    }
}

fn load_inventory(cli: &Cli, book: &Playbook, settings: &Settings) -> Result<Inventory, Error> {
    let mut sources = cli.inventory.clone();
    if sources.is_empty() {
        sources = settings.inventory.clone();
    }
    Inventory::load(&sources, Some(&book.dir))
}

fn list(cli: &Cli, book: &Playbook, inventory: &Inventory) {
    println!("\nplaybook: {}", book.path.display());
    for play in &book.plays {
        let mut hosts = inventory.select(&play.hosts);
        if let Some(limit) = &cli.limit {
            let allowed = inventory.select(limit);
            hosts.retain(|h| allowed.contains(h));
        }
        println!("\n  play: {} (hosts: {})", play.name, play.hosts);
        if cli.list_hosts {
            println!("    hosts ({}):", hosts.len());
            for host in &hosts {
                println!("      {host}");
            }
        }
        if cli.list_tasks {
            println!("    steps:");
            for step in &play.steps {
                let mut line = format!("      {}", step.label());
                if let Some(id) = &step.id {
                    line.push_str(&format!("  [id: {id}]"));
                }
                if let Some(needs) = &step.needs {
                    let ids: Vec<&str> = needs.iter().map(|(id, _)| id.as_str()).collect();
                    let text = if ids.is_empty() {
                        "nothing".to_string()
                    } else {
                        ids.join(", ")
                    };
                    line.push_str(&format!("  [needs: {text}]"));
                }
                let tags: Vec<&String> = step.tags.iter().collect();
                if !tags.is_empty() {
                    line.push_str(&format!(
                        "  TAGS: [{}]",
                        tags.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                }
                println!("{line}");
            }
        }
    }
}

/// `-e` values: `@file`, JSON or YAML text, or `key=value` pairs; later ones win.
fn parse_extra_vars(values: &[String]) -> Result<Vars, Error> {
    let mut vars = Vars::new();
    for value in values {
        let parsed = if let Some(file) = value.strip_prefix('@') {
            crate::yaml::load_vars_file(Path::new(file))?
        } else if value.trim_start().starts_with('{') {
            let node = crate::yaml::parse(&SourceFile::new("-e", value.clone()))?;
            match node.to_json() {
                Json::Object(map) => map,
                _ => return Err(Error::usage(format!("`-e {value}` is not a mapping"))),
            }
        } else {
            let mut map = Vars::new();
            for word in playbook::free_form::split(value).map_err(|e| Error::usage(format!("-e: {e}")))? {
                match word {
                    playbook::free_form::Word::Pair(k, v) => {
                        map.insert(k, Json::String(v));
                    }
                    playbook::free_form::Word::Raw(w) => {
                        return Err(Error::usage(format!("-e: `{w}` is not `key=value`"))
                            .with_help("write `-e key=value`, `-e @file.yml` or `-e '{\"key\": \"value\"}'`"));
                    }
                }
            }
            map
        };
        vars.extend(parsed);
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_vars_forms() {
        let vars = parse_extra_vars(&["a=1 b='x y'".into(), r#"{"c": [1, 2], "a": 3}"#.into()]).unwrap();
        assert_eq!(vars["a"], 3);
        assert_eq!(vars["b"], "x y");
        assert_eq!(vars["c"], serde_json::json!([1, 2]));
        assert!(
            parse_extra_vars(&["oops".into()])
                .unwrap_err()
                .render()
                .contains("`oops` is not `key=value`")
        );
    }
}
