//! `async_status`: how a step started with `async` and `poll: 0` is doing. The jobs live in the
//! bgrun process that started them ([`start`], [`finish`]): a job is a module running in the
//! background of the run, and it ends when the run does.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Inspect, Outcome, StepContext};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsyncStatus {
    #[serde(alias = "job_id")]
    jid: String,
    #[serde(default)]
    mode: Mode,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Status,
    Cleanup,
}

#[derive(Debug, Clone)]
enum Job {
    Running,
    Done(Box<Outcome>),
}

static JOBS: LazyLock<Mutex<HashMap<String, Job>>> = LazyLock::new(Mutex::default);

/// Registers a job that is starting, under a new id like Ansible's (`j123456789.4242`).
pub fn start() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut jobs = JOBS.lock().unwrap_or_else(|e| e.into_inner());
    let mut n = nanos % 1_000_000_000_000;
    while jobs.contains_key(&job_id(n)) {
        n += 1;
    }
    let jid = job_id(n);
    jobs.insert(jid.clone(), Job::Running);
    jid
}

fn job_id(n: u128) -> String {
    format!("j{n}.{}", std::process::id())
}

/// Records how a job ended.
pub fn finish(jid: &str, outcome: Outcome) {
    JOBS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(jid.to_string(), Job::Done(Box::new(outcome)));
}

/// A result with the job's fields: its id, started, and whether it finished.
pub fn with_job(outcome: Outcome, jid: &str, finished: bool) -> Outcome {
    outcome
        .with("ansible_job_id", jid)
        .with("started", 1)
        .with("finished", Json::from(u8::from(finished)))
}

impl Inspect for AsyncStatus {
    async fn inspect(self, _cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let mut jobs = JOBS.lock().unwrap_or_else(|e| e.into_inner());
        let job = match self.mode {
            Mode::Status => jobs.get(&self.jid).cloned(),
            Mode::Cleanup => jobs.remove(&self.jid),
        };
        drop(jobs);
        let Some(job) = job else {
            return Err(Failure::new("could not find job")
                .with("ansible_job_id", self.jid.as_str())
                .with("started", 1)
                .with("finished", 1));
        };
        if matches!(self.mode, Mode::Cleanup) {
            return Ok(Outcome::ok()
                .with("ansible_job_id", self.jid.as_str())
                .with("erased", format!("job {}", self.jid)));
        }
        match job {
            Job::Running => Ok(with_job(Outcome::ok(), &self.jid, false)),
            Job::Done(outcome) if outcome.failed => Err(Failure::from(with_job(*outcome, &self.jid, true))),
            Job::Done(outcome) => Ok(with_job(*outcome, &self.jid, true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_running_then_done() {
        let jid = start();
        assert!(jid.starts_with('j') && jid.contains('.'), "{jid}");
        assert!(matches!(JOBS.lock().unwrap().get(&jid), Some(Job::Running)));
        finish(&jid, Outcome::changed(true));
        assert!(matches!(JOBS.lock().unwrap().get(&jid), Some(Job::Done(o)) if o.changed));
        assert_ne!(start(), jid);
    }
}
