//! What the picture needs from a run's events: when each play began, and for each step on each
//! host when it started, when it ended and how.

use std::collections::HashMap;
use std::time::Duration;

use crate::output::{Event, Status};

/// How a step ended on a host, as the picture colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Skipped,
    Ok,
    Changed,
    Ignored,
    Rescued,
    Failed,
    Unreachable,
}

impl Verdict {
    /// Every verdict, in the legend's order.
    pub const ALL: [Verdict; 7] = [
        Verdict::Ok,
        Verdict::Changed,
        Verdict::Failed,
        Verdict::Skipped,
        Verdict::Unreachable,
        Verdict::Ignored,
        Verdict::Rescued,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Changed => "changed",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
            Verdict::Unreachable => "unreachable",
            Verdict::Ignored => "ignored",
            Verdict::Rescued => "rescued",
        }
    }

    fn of(status: Status, ignored: bool) -> Verdict {
        match status {
            Status::Ok => Verdict::Ok,
            Status::Changed => Verdict::Changed,
            Status::Skipped => Verdict::Skipped,
            Status::Failed if ignored => Verdict::Ignored,
            Status::Failed => Verdict::Failed,
            Status::Unreachable => Verdict::Unreachable,
        }
    }
}

/// A play, from its start to the next play's.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayMark {
    pub name: String,
    pub start: Duration,
}

/// One step on one host.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub step: String,
    pub host: String,
    pub start: Duration,
    pub end: Duration,
    pub verdict: Verdict,
    /// How many loop items reported.
    pub items: u32,
    /// The first line of a failure's message (already masked and `no_log`-censored).
    pub msg: Option<String>,
}

/// A run as the picture shows it; times are from the start of the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    pub plays: Vec<PlayMark>,
    /// In the order the plays named them.
    pub hosts: Vec<String>,
    pub bars: Vec<Bar>,
    /// When the last event came.
    pub end: Duration,
}

/// A step's start, to match its hosts' results to.
struct Started {
    step: String,
    play: usize,
    at: Duration,
}

/// Builds a [`Recording`] from the events of a run, each with the time it was emitted.
#[derive(Default)]
pub struct Recorder {
    recording: Recording,
    started: Vec<Started>,
    /// The bar of each (started step, host).
    bars: HashMap<(usize, String), usize>,
}

/// How long a failure's message may be in a bar's tooltip.
const MSG_CHARS: usize = 300;

impl Recorder {
    pub fn record(&mut self, at: Duration, event: &Event) {
        let rec = &mut self.recording;
        rec.end = rec.end.max(at);
        match event {
            Event::PlayStart { play, hosts } => {
                rec.plays.push(PlayMark {
                    name: play.clone(),
                    start: at,
                });
                for host in hosts {
                    self.host(host);
                }
            }
            Event::StepStart { step, .. } => self.started.push(Started {
                step: step.clone(),
                play: self.recording.plays.len(),
                at,
            }),
            Event::HostResult {
                step,
                host,
                status,
                ignored,
                msg,
                item,
                ..
            } => {
                self.host(host);
                let verdict = Verdict::of(*status, *ignored);
                let msg = msg
                    .as_deref()
                    .filter(|_| matches!(status, Status::Failed | Status::Unreachable))
                    .map(|m| m.lines().next().unwrap_or_default().chars().take(MSG_CHARS).collect());
                let items = u32::from(item.is_some());
                let started = self.started_for(step, host);
                match started.and_then(|s| self.bars.get(&(s, host.clone())).copied()) {
                    Some(index) => {
                        let bar = &mut self.recording.bars[index];
                        bar.end = at;
                        bar.verdict = bar.verdict.max(verdict);
                        bar.items += items;
                        bar.msg = msg.or(bar.msg.take());
                    }
                    None => {
                        let start = started.map_or(at, |s| self.started[s].at);
                        if let Some(s) = started {
                            self.bars.insert((s, host.clone()), self.recording.bars.len());
                        }
                        self.recording.bars.push(Bar {
                            step: step.clone(),
                            host: host.clone(),
                            start,
                            end: at,
                            verdict,
                            items,
                            msg,
                        });
                    }
                }
            }
            Event::Rescued { step, host } => {
                if let Some(bar) = rec
                    .bars
                    .iter_mut()
                    .rev()
                    .find(|b| &b.step == step && &b.host == host && b.verdict == Verdict::Failed)
                {
                    bar.verdict = Verdict::Rescued;
                }
            }
            Event::Retrying { .. }
            | Event::Warning { .. }
            | Event::Exec { .. }
            | Event::Audit { .. }
            | Event::Recap { .. } => {}
        }
    }

    pub fn recording(&self) -> Recording {
        self.recording.clone()
    }

    fn host(&mut self, host: &str) {
        if !self.recording.hosts.iter().any(|h| h == host) {
            self.recording.hosts.push(host.to_string());
        }
    }

    /// The start a result belongs to: the latest start of a step of that name in this play that
    /// has no result from the host yet, else the latest (a loop's next item). Results that no
    /// step start announced (a connection that failed, an include skipped) have none.
    fn started_for(&self, step: &str, host: &str) -> Option<usize> {
        let play = self.recording.plays.len();
        let mut candidates = (0..self.started.len())
            .rev()
            .filter(|&i| self.started[i].play == play && self.started[i].step == step)
            .peekable();
        let latest = candidates.peek().copied();
        candidates
            .find(|&i| !self.bars.contains_key(&(i, host.to_string())))
            .or(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn start(step: &str) -> Event {
        Event::StepStart {
            play: "p".into(),
            step: step.into(),
            id: None,
        }
    }

    fn result(step: &str, host: &str, status: Status, ignored: bool, item: Option<&str>) -> Event {
        Event::HostResult {
            step: step.into(),
            host: host.into(),
            status,
            ignored,
            msg: Some("first line\nsecond".into()),
            item: item.map(String::from),
            result: serde_json::Value::Null,
            diff: None,
        }
    }

    fn play() -> Event {
        Event::PlayStart {
            play: "p".into(),
            hosts: vec!["b".into(), "a".into()],
        }
    }

    #[test]
    fn a_bar_from_the_step_start_to_the_host_result() {
        let mut r = Recorder::default();
        r.record(ms(0), &play());
        r.record(ms(1), &start("s"));
        r.record(ms(5), &result("s", "a", Status::Changed, false, None));
        r.record(ms(9), &result("s", "b", Status::Failed, true, None));
        let rec = r.recording();
        assert_eq!(rec.hosts, ["b", "a"]);
        assert_eq!(rec.end, ms(9));
        let spans: Vec<_> = rec
            .bars
            .iter()
            .map(|b| (b.host.as_str(), b.start, b.end, b.verdict))
            .collect();
        assert_eq!(
            spans,
            [
                ("a", ms(1), ms(5), Verdict::Changed),
                ("b", ms(1), ms(9), Verdict::Ignored)
            ]
        );
        assert_eq!(rec.bars[0].msg, None, "only a failure's message is kept");
        assert_eq!(rec.bars[1].msg.as_deref(), Some("first line"));
    }

    #[test]
    fn loop_items_make_one_bar_with_the_worst_verdict() {
        let mut r = Recorder::default();
        r.record(ms(0), &play());
        r.record(ms(0), &start("s"));
        r.record(ms(2), &result("s", "a", Status::Skipped, false, Some("x")));
        r.record(ms(4), &result("s", "a", Status::Changed, false, Some("y")));
        r.record(ms(6), &result("s", "a", Status::Ok, false, Some("z")));
        let bars = r.recording().bars;
        assert_eq!(bars.len(), 1);
        assert_eq!(
            (bars[0].end, bars[0].verdict, bars[0].items),
            (ms(6), Verdict::Changed, 3)
        );
    }

    #[test]
    fn steps_of_the_same_name_at_once_get_a_bar_each() {
        let mut r = Recorder::default();
        r.record(ms(0), &play());
        r.record(ms(1), &start("command"));
        r.record(ms(2), &start("command"));
        r.record(ms(3), &result("command", "a", Status::Ok, false, None));
        r.record(ms(4), &result("command", "a", Status::Ok, false, None));
        let starts: Vec<_> = r.recording().bars.iter().map(|b| b.start).collect();
        assert_eq!(starts, [ms(2), ms(1)]);
    }

    #[test]
    fn a_rescued_failure_and_an_unannounced_result() {
        let mut r = Recorder::default();
        r.record(ms(0), &play());
        r.record(ms(1), &start("s"));
        r.record(ms(2), &result("s", "a", Status::Failed, false, None));
        r.record(
            ms(2),
            &Event::Rescued {
                step: "s".into(),
                host: "a".into(),
            },
        );
        r.record(ms(3), &result("connect", "c", Status::Unreachable, false, None));
        let rec = r.recording();
        assert_eq!(rec.bars[0].verdict, Verdict::Rescued);
        assert_eq!((rec.bars[1].start, rec.bars[1].end), (ms(3), ms(3)));
        assert_eq!(rec.hosts, ["b", "a", "c"]);
    }
}
