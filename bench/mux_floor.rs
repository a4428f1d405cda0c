//! The floor of a bgrun run: the very commands a bgrun run sent to each host (its `-vvv`
//! `exec` events), sent again straight over SSH masters that are already open (openssh's native
//! multiplexing, as bgrun sends them), one after another per host, the hosts in parallel, with
//! nothing else: no playbook, no templates, no engine. `bench/run` records the events of a
//! steady-state run (`bgrun -vvv --output json`), opens the masters, then runs
//! `mux_floor EVENTS HOST=SOCKET...` and reads the wall time it prints (milliseconds).

use std::collections::HashMap;
use std::time::Instant;

use openssh::{Session, Stdio};

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let events = args.next().ok_or("usage: mux_floor EVENTS HOST=SOCKET...")?;
    let mut commands: HashMap<String, Vec<String>> = HashMap::new();
    for line in std::fs::read_to_string(&events)?.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some("exec"), Some(host), Some(command)) = (
            event["event"].as_str(),
            event["host"].as_str(),
            event["command"].as_str(),
        ) {
            commands.entry(host.to_string()).or_default().push(command.to_string());
        }
    }
    let mut hosts = Vec::new();
    for pair in args {
        let (host, socket) = pair.split_once('=').ok_or("each host is HOST=SOCKET")?;
        let list = commands
            .remove(host)
            .ok_or(format!("{events} has no commands of {host}"))?;
        hosts.push((Session::resume_mux(std::path::Path::new(socket).into(), None), list));
    }
    let started = Instant::now();
    let runs = hosts.iter().map(|(session, list)| async move {
        for command in list {
            session
                .raw_command(command)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .status()
                .await?;
        }
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    });
    for result in futures::future::join_all(runs).await {
        result.map_err(|e| e.to_string())?;
    }
    println!("{}", started.elapsed().as_millis());
    Ok(())
}
