//! The floor of a bgrun run: the commands of bench/steps.yml's command steps sent straight over
//! SSH masters that are already open (openssh's native multiplexing, as bgrun sends them), one
//! after another per host, the hosts in parallel, with nothing else: no playbook, no templates,
//! no engine. `bench/run` opens the masters, then runs
//! `mux_floor COMMANDS SOCKET...` and reads the wall time it prints (milliseconds).

use std::time::Instant;

use openssh::{Session, Stdio};

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().ok_or("usage: mux_floor COMMANDS SOCKET...")?.parse()?;
    let sockets: Vec<String> = args.collect();
    let sessions: Vec<Session> = sockets
        .iter()
        .map(|s| Session::resume_mux(std::path::Path::new(s).into(), None))
        .collect();
    let started = Instant::now();
    let runs = sessions.iter().map(|session| async move {
        for _ in 0..count {
            let status = session
                .command("true")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .status()
                .await?;
            if !status.success() {
                return Err(format!("`true` exited with {status}").into());
            }
        }
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    });
    for result in futures::future::join_all(runs).await {
        result.map_err(|e| e.to_string())?;
    }
    println!("{}", started.elapsed().as_millis());
    Ok(())
}
