//! SIGINT and SIGTERM during a run stop it at a safe point: the steps already running finish, the
//! next step of each block fails as interrupted so that the block's `rescue` and `always` run (a
//! deploy points the proxy back at the running release and releases its lock), and the run ends
//! with 128 + the signal's number. A second signal ends bgrun at once; its locks are released
//! first when Consul answers within two seconds, else they expire with their sessions.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// Above zero while a `rescue` or `always` runs: its steps and waits still run after a signal.
static PROTECTED: AtomicUsize = AtomicUsize::new(0);

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// Listens for SIGINT and SIGTERM for the rest of the process.
pub fn install() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return;
    };
    tokio::spawn(async move {
        loop {
            let number = tokio::select! {
                _ = int.recv() => SIGINT,
                _ = term.recv() => SIGTERM,
            };
            if RECEIVED.swap(number, Ordering::SeqCst) == 0 {
                eprintln!(
                    "bgrun: {} received: the running steps finish, then the run stops at a safe point (send it again to stop at once)",
                    name(number)
                );
            } else {
                eprintln!("bgrun: {} received again: stopping now", name(number));
                let _ = tokio::time::timeout(Duration::from_secs(2), crate::consul::lock::release_all()).await;
                std::process::exit(128 + number);
            }
        }
    });
}

/// The signal that asked the run to stop, if one did.
pub fn received() -> Option<&'static str> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        number => Some(name(number)),
    }
}

/// The signal that asked the run to stop, unless a `rescue` or `always` is running: steps not
/// started yet, and waits (health checks, pauses, retries), stop when this says so.
pub fn stopping() -> Option<&'static str> {
    if PROTECTED.load(Ordering::SeqCst) > 0 {
        None
    } else {
        received()
    }
}

/// Held while a `rescue` or `always` runs.
pub struct Protected(());

impl Protected {
    pub fn hold() -> Self {
        PROTECTED.fetch_add(1, Ordering::SeqCst);
        Protected(())
    }
}

impl Drop for Protected {
    fn drop(&mut self) {
        PROTECTED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Sleeps for `duration`, or less when the run is stopping; whether it slept it all.
pub async fn sleep(duration: Duration) -> bool {
    let end = tokio::time::Instant::now() + duration;
    loop {
        if stopping().is_some() {
            return false;
        }
        let now = tokio::time::Instant::now();
        if now >= end {
            return true;
        }
        tokio::time::sleep((end - now).min(Duration::from_millis(100))).await;
    }
}

/// The exit code of a run stopped by a signal: 128 + its number.
pub fn exit_code() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        number => Some(128 + number),
    }
}

fn name(number: i32) -> &'static str {
    if number == SIGINT { "SIGINT" } else { "SIGTERM" }
}
