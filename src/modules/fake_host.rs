//! A test harness running a module over the fake transport ([`FakeTransport`]): a `StepContext`
//! with check and diff flags, a scope with variables and a playbook folder in a temporary
//! directory, so module logic, idempotence and check mode are unit-tested without the lab.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use super::{Failure, ModuleKind, Outcome, StepContext};
use crate::connection::Connection;
use crate::template::{Scope, Templar, Vars};
use crate::transport::fake::FakeTransport;
use crate::transport::{ConnectionSpec, Transport};

pub struct Harness {
    /// The fake host, to set up and to look at after a run.
    pub fake: FakeTransport,
    connection: Connection,
    templar: Arc<Templar>,
    scope: Scope,
    /// The playbook's folder.
    pub dir: tempfile::TempDir,
    pub check: bool,
    pub diff: bool,
    pub environment: Vec<(String, String)>,
}

fn no_progress(_: String) {}

impl Harness {
    pub fn new() -> Self {
        Harness::with_vars(Vars::new())
    }

    pub fn with_vars(vars: Vars) -> Self {
        let fake = FakeTransport::new();
        let spec = ConnectionSpec {
            host: "fake".into(),
            address: "fake".into(),
            port: None,
            user: None,
            private_key: None,
            known_hosts_file: None,
            host_key_checking: false,
            local: false,
            timeout: Duration::from_secs(1),
            persist: crate::transport::Persist::No,
        };
        let templar = Templar::new();
        let scope = Scope::new(&templar, vars);
        Harness {
            connection: Connection::over(spec, Transport::Fake(fake.clone())),
            fake,
            templar,
            scope,
            dir: tempfile::tempdir().expect("a temporary folder"),
            check: false,
            diff: false,
            environment: Vec::new(),
        }
    }

    pub fn cx(&self) -> StepContext<'_> {
        StepContext {
            host: "fake",
            connection: &self.connection,
            diff: self.diff,
            verbosity: 0,
            templar: &self.templar,
            scope: &self.scope,
            playbook_dir: self.dir.path(),
            role_dir: None,
            progress: &no_progress,
            environment: &self.environment,
            privilege: None,
            lock_wait: Duration::from_secs(1),
            trace: None,
            redact: &Json::clone,
        }
    }

    /// Runs module `name` with `args`, as a step does after templating them.
    pub async fn run(&self, name: &str, args: Json) -> Result<Outcome, Failure> {
        let kind = ModuleKind::lookup(name).unwrap_or_else(|| panic!("no module {name}"));
        kind.run(args, &self.cx(), self.check).await
    }

    /// Runs module `name`, expecting it to fail; the failed result, as `register` would see it.
    pub async fn run_failing(&self, name: &str, args: Json) -> Outcome {
        match self.run(name, args).await {
            Err(Failure::Failed(outcome)) => *outcome,
            other => panic!("expected {name} to fail, got {other:?}"),
        }
    }

    /// Runs module `name` in check mode (with diff), then asserts the fake host was not changed and
    /// no command that writes was sent.
    pub async fn run_checked(&mut self, name: &str, args: Json) -> Outcome {
        let before = self.fake.snapshot();
        self.fake.clear_calls();
        self.check = true;
        self.diff = true;
        let outcome = self.run(name, args).await;
        self.check = false;
        self.diff = false;
        let outcome = outcome.expect("the module runs in check mode");
        assert_eq!(
            self.fake.writes().len(),
            0,
            "check mode wrote: {:?}",
            self.fake.writes()
        );
        assert_eq!(self.fake.snapshot(), before, "check mode changed the host");
        outcome
    }
}
