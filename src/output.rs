//! What a run tells its user: one [`Event`] type, shown as Ansible-like lines on a terminal
//! (colour on a TTY, a spinner while a step waits) or written as JSON lines for machines.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use console::Style;
use indexmap::IndexMap;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::modules::Diff;
use crate::timeline::{Recorder, Recording};

/// How a step ended on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Changed,
    Failed,
    Skipped,
    Unreachable,
}

/// Ansible's per-host counters, shown in the recap.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counters {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

/// Something that happened during a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    PlayStart {
        play: String,
        hosts: Vec<String>,
    },
    StepStart {
        play: String,
        step: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    HostResult {
        step: String,
        host: String,
        status: Status,
        ignored: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        msg: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<String>,
        result: Json,
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<DiffEvent>,
    },
    Retrying {
        step: String,
        host: String,
        retries_left: u32,
    },
    /// A block's `rescue` takes over a host's failure of `step`; it counts as rescued, not failed.
    Rescued {
        step: String,
        host: String,
    },
    Warning {
        message: String,
    },
    /// A remote command about to be sent to a host, as its shell gets it (`-vvv`).
    Exec {
        host: String,
        command: String,
    },
    /// A deploy record written to a service's audit trail.
    Audit {
        host: String,
        key: String,
        record: Json,
    },
    Recap {
        hosts: IndexMap<String, Counters>,
        elapsed_ms: u64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiffEvent {
    pub path: String,
    pub before: String,
    pub after: String,
}

impl From<&Diff> for DiffEvent {
    fn from(diff: &Diff) -> Self {
        DiffEvent {
            path: diff.path.clone(),
            before: diff.before.clone(),
            after: diff.after.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people, like ansible-playbook's.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where events go.
pub struct Reporter {
    format: Format,
    verbosity: u8,
    colour: bool,
    state: Mutex<ConsoleState>,
    /// Values of secret variables; they are masked wherever they would be printed.
    secrets: Mutex<crate::secrets::Secrets>,
    /// When the run began: every event is stamped with the time since, as it is emitted.
    started: Instant,
    /// The events for `--timeline`, when it was asked for.
    timeline: Option<Mutex<Recorder>>,
}

/// What a secret is printed as.
pub const MASK: &str = "********";

/// Whether a variable's name says it holds a secret (`db_password`, `consul_token`, ...).
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "private_key_passphrase",
    ]
    .iter()
    .any(|w| name.contains(w))
}

#[derive(Default)]
struct ConsoleState {
    header: Option<String>,
    waiting: BTreeMap<String, Vec<String>>,
    /// What a host is busy with inside a long step (layers pulled, checks passing).
    details: BTreeMap<(String, String), String>,
    spinner: Option<ProgressBar>,
}

impl Reporter {
    pub fn new(format: Format, verbosity: u8) -> Self {
        let tty = std::io::stdout().is_terminal();
        Reporter {
            format,
            verbosity,
            colour: tty && std::env::var_os("NO_COLOR").is_none(),
            state: Mutex::new(ConsoleState::default()),
            secrets: Mutex::new(crate::secrets::Secrets::default()),
            started: Instant::now(),
            timeline: None,
        }
    }

    /// Also records every event, with its time, for `--timeline`.
    pub fn recording_timeline(self) -> Self {
        Reporter {
            timeline: Some(Mutex::new(Recorder::default())),
            ..self
        }
    }

    /// What was recorded for `--timeline` so far.
    pub fn timeline(&self) -> Option<Recording> {
        let recorder = self.timeline.as_ref()?.lock().ok()?;
        Some(recorder.recording())
    }

    /// Masks a value in everything printed from now on.
    pub fn add_secret(&self, value: &str) {
        // Short values would mask ordinary words; a secret that short is not one.
        if value.len() < 4 {
            return;
        }
        if let Ok(mut secrets) = self.secrets.lock() {
            secrets.add(value);
        }
    }

    fn mask(&self, text: &str) -> String {
        match self.secrets.lock() {
            Ok(mut secrets) => secrets.mask(text, MASK),
            Err(_) => text.to_string(),
        }
    }

    /// A value with every secret masked.
    pub fn redact(&self, value: &Json) -> Json {
        match value {
            Json::String(s) => Json::String(self.mask(s)),
            Json::Array(items) => Json::Array(items.iter().map(|v| self.redact(v)).collect()),
            Json::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), self.redact(v))).collect()),
            other => other.clone(),
        }
    }

    /// The event with every secret masked (the event itself when there is no secret).
    fn masked<'e>(&self, event: &'e Event) -> Cow<'e, Event> {
        if self.secrets.lock().map(|s| s.is_empty()).unwrap_or(true) {
            return Cow::Borrowed(event);
        }
        match serde_json::to_value(event)
            .map(|v| self.redact(&v))
            .and_then(serde_json::from_value::<Event>)
        {
            Ok(masked) => Cow::Owned(masked),
            Err(_) => Cow::Borrowed(event),
        }
    }

    pub fn emit(&self, event: &Event) {
        let masked = self.masked(event);
        let event = masked.as_ref();
        if let Some(timeline) = &self.timeline
            && let Ok(mut recorder) = timeline.lock()
        {
            recorder.record(self.started.elapsed(), event);
        }
        match self.format {
            Format::Json => {
                if let Ok(line) = serde_json::to_string(event) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                }
            }
            Format::Text => {
                let text = self.render(event);
                if text.is_empty() {
                    return;
                }
                let Ok(state) = self.state.lock() else { return };
                match &state.spinner {
                    Some(bar) => bar.suspend(|| print_out(&text)),
                    None => print_out(&text),
                }
            }
        }
    }

    /// Shows which hosts a long step still waits for; called about every quarter second.
    pub fn waiting(&self, step: &str, hosts: Vec<String>) {
        if self.format != Format::Text || !std::io::stderr().is_terminal() {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if hosts.is_empty() {
            state.waiting.remove(step);
            state.details.retain(|(s, _), _| s != step);
        } else {
            state.waiting.insert(step.to_string(), hosts);
        }
        if state.waiting.is_empty() {
            if let Some(bar) = state.spinner.take() {
                bar.finish_and_clear();
            }
            return;
        }
        let message: Vec<String> = state
            .waiting
            .iter()
            .map(|(step, hosts)| {
                let hosts: Vec<String> = hosts
                    .iter()
                    .map(|h| match state.details.get(&(step.clone(), h.clone())) {
                        Some(detail) => format!("{h} ({detail})"),
                        None => h.clone(),
                    })
                    .collect();
                format!("{step} on {}", hosts.join(", "))
            })
            .collect();
        let bar = state.spinner.get_or_insert_with(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} waiting {elapsed}: {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(message.join("; "));
    }

    /// Records what a host is busy with inside a long step; the spinner shows it.
    pub fn progress(&self, step: &str, host: &str, detail: String) {
        if let Ok(mut state) = self.state.lock() {
            state.details.insert((step.to_string(), host.to_string()), detail);
        }
    }

    fn paint(&self, style: &Style, text: &str) -> String {
        if self.colour {
            style.apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    fn render(&self, event: &Event) -> String {
        match event {
            Event::PlayStart { play, .. } => banner(&format!("PLAY [{play}]")),
            // A step's banner is printed with its first result, so results of steps running at
            // the same time stay under their own banners.
            Event::StepStart { .. } => String::new(),
            Event::HostResult {
                step,
                host,
                status,
                ignored,
                msg,
                item,
                result,
                diff,
            } => {
                let mut line = String::new();
                if let Ok(mut state) = self.state.lock()
                    && state.header.as_deref() != Some(step.as_str())
                {
                    state.header = Some(step.clone());
                    line.push_str(&banner(&format!("STEP [{step}]")));
                    line.push('\n');
                }
                if let Some(diff) = diff {
                    line.push_str(&unified_diff(diff));
                }
                let (word, style) = match status {
                    Status::Ok => ("ok", Style::new().green()),
                    Status::Changed => ("changed", Style::new().yellow()),
                    Status::Failed => ("failed", Style::new().red().bold()),
                    Status::Skipped => ("skipping", Style::new().cyan()),
                    Status::Unreachable => ("unreachable", Style::new().red().bold()),
                };
                let mut head = format!("{word}: [{host}]");
                if let Some(item) = item {
                    head.push_str(&format!(" => (item={item})"));
                }
                let show_result = self.verbosity > 0 && !result.as_object().is_some_and(|m| m.is_empty());
                let detail = match (status, msg) {
                    (Status::Failed | Status::Unreachable, Some(msg)) => Some(failure_detail(msg, result)),
                    (_, Some(msg)) if !show_result => Some(msg.clone()),
                    _ => None,
                };
                if let Some(detail) = detail {
                    head.push_str(" => ");
                    head.push_str(&detail);
                }
                if show_result {
                    head.push_str(" => ");
                    head.push_str(&serde_json::to_string_pretty(result).unwrap_or_default());
                }
                line.push_str(&self.paint(&style, &head));
                if *ignored {
                    line.push_str("\n...ignoring");
                }
                line
            }
            Event::Retrying {
                step,
                host,
                retries_left,
            } => self.paint(
                &Style::new().yellow(),
                &format!("retrying: [{host}] {step} ({retries_left} retries left)"),
            ),
            // As ansible-playbook, the console says nothing of a rescue; the recap counts it.
            Event::Audit { .. } | Event::Rescued { .. } => String::new(),
            Event::Warning { message } => self.paint(&Style::new().magenta(), &format!("[WARNING]: {message}")),
            Event::Exec { host, command } => format!("<{host}> EXEC {command}"),
            Event::Recap { hosts, elapsed_ms } => {
                let mut out = banner("PLAY RECAP");
                let width = hosts.keys().map(String::len).max().unwrap_or(0);
                for (host, c) in hosts {
                    let style = if c.failed > 0 || c.unreachable > 0 {
                        Style::new().red()
                    } else if c.changed > 0 {
                        Style::new().yellow()
                    } else {
                        Style::new().green()
                    };
                    let name = self.paint(&style, &format!("{host:<width$}"));
                    out.push_str(&format!(
                        "\n{name} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={}",
                        c.ok, c.changed, c.unreachable, c.failed, c.skipped, c.rescued, c.ignored
                    ));
                }
                out.push_str(&format!("\n\nfinished in {:.2}s", *elapsed_ms as f64 / 1000.0));
                out
            }
        }
    }
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

fn banner(title: &str) -> String {
    let stars = 72usize.saturating_sub(title.len() + 1).max(3);
    format!("\n{title} {}", "*".repeat(stars))
}

/// A failure's message, with a command's stderr or stdout when it says more.
fn failure_detail(msg: &str, result: &Json) -> String {
    let mut text = msg.to_string();
    for key in ["stderr", "stdout"] {
        if let Some(output) = result.get(key).and_then(Json::as_str).filter(|s| !s.trim().is_empty()) {
            text.push_str(&format!("\n  {key}: {}", output.trim_end().replace('\n', "\n    ")));
            break;
        }
    }
    text
}

fn unified_diff(diff: &DiffEvent) -> String {
    let text = similar::TextDiff::from_lines(&diff.before, &diff.after);
    let mut out = String::new();
    let before = format!("before: {}", diff.path);
    let after = format!("after: {}", diff.path);
    out.push_str(
        &text
            .unified_diff()
            .context_radius(3)
            .header(&before, &after)
            .to_string(),
    );
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(event: &Event) -> String {
        Reporter {
            format: Format::Text,
            verbosity: 0,
            colour: false,
            state: Mutex::new(ConsoleState::default()),
            secrets: Mutex::new(crate::secrets::Secrets::default()),
            started: Instant::now(),
            timeline: None,
        }
        .render(event)
    }

    #[test]
    fn recap_lines_like_ansible() {
        let mut hosts = IndexMap::new();
        hosts.insert(
            "prod".to_string(),
            Counters {
                ok: 3,
                skipped: 1,
                ..Counters::default()
            },
        );
        hosts.insert(
            "cd".to_string(),
            Counters {
                ok: 2,
                changed: 1,
                ..Counters::default()
            },
        );
        insta::assert_snapshot!(text(&Event::Recap {
            hosts,
            elapsed_ms: 1234
        }));
    }

    #[test]
    fn failure_shows_stderr() {
        let event = Event::HostResult {
            step: "s".into(),
            host: "prod".into(),
            status: Status::Failed,
            ignored: false,
            msg: Some("non-zero return code 1".into()),
            item: None,
            result: serde_json::json!({"stderr": "no such file\n", "rc": 1}),
            diff: None,
        };
        assert_eq!(
            text(&event),
            "\nSTEP [s] ***************************************************************\nfailed: [prod] => non-zero return code 1\n  stderr: no such file"
        );
    }

    #[test]
    fn diff_is_unified() {
        let diff = DiffEvent {
            path: "/etc/x".into(),
            before: "a\nb\n".into(),
            after: "a\nc\n".into(),
        };
        insta::assert_snapshot!(unified_diff(&diff));
    }
}
