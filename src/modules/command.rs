//! `command` runs a program with its arguments and no shell; `shell` runs a script with `/bin/sh`,
//! for when the user asks for pipes and expansions.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Failure, Module, Outcome, Plan, StepContext, text_lines};
use crate::compat::python::{bytes_repr, shlex_quote, shlex_split};
use crate::transport::Exec;
use crate::transport::files;

/// Resolves a program as Python's `os.execvp` does: a name with a `/` as it is, any other through
/// `$PATH`; exits 0 when it can be run, 2 (`ENOENT`) when nothing is there, 13 (`EACCES`) when
/// what is there is a folder or not executable.
pub(crate) const RESOLVE_PROGRAM: &str = r#"
case $1 in */*)
  [ -e "$1" ] || exit 2
  if [ -d "$1" ] || [ ! -x "$1" ]; then exit 13; fi
  exit 0;;
esac
set -f; IFS=:; e=2
for d in $PATH; do
  p=${d:-.}/$1
  if [ -e "$p" ]; then
    if [ -d "$p" ] || [ ! -x "$p" ]; then e=13; else exit 0; fi
  fi
done
exit $e"#;

/// The command line Ansible's `run_command` reports (`_clean_args`): each word quoted as
/// `shlex.quote` does, the value of a password argument (`--password=x`, or the word after
/// `-pass`) masked.
fn clean_args(words: &[String]) -> String {
    let password = regex::Regex::new(r"^-{0,2}pass-?(word|wd)?").expect("a valid pattern");
    let mut clean = Vec::with_capacity(words.len());
    let mut mask_next = false;
    for word in words {
        if std::mem::take(&mut mask_next) {
            clean.push("********".to_string());
        } else if password.is_match(word) {
            match word.find('=') {
                Some(at) => clean.push(format!("{}=********", &word[..at])),
                None => {
                    mask_next = true;
                    clean.push(word.clone());
                }
            }
        } else {
            clean.push(word.clone());
        }
    }
    clean.iter().map(|w| shlex_quote(w)).collect::<Vec<_>>().join(" ")
}

module_arguments! {
[command]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// The argument vector, as a list.
    #[serde(default)]
    argv: Option<Vec<String>>,
    /// Accepted and ignored with a warning, as Ansible does since 2.4 (`shell` takes it).
    #[serde(default)]
    executable: Option<String>,
}
}

module_arguments! {
[command]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    /// The shell to run the script with.
    #[serde(default)]
    executable: Option<String>,
}
}

impl Module for Command {
    const FREE_FORM: Option<&'static str> = Some("cmd");

    type Work = Invocation;

    async fn plan(mut self, cx: &StepContext<'_>) -> Result<Plan<Invocation>, Failure> {
        let cmd = self.cmd.clone().filter(|cmd| !cmd.trim().is_empty());
        let argv = match (self.argv.take().filter(|argv| !argv.is_empty()), &cmd) {
            (Some(argv), None) => argv,
            (None, Some(cmd)) => shlex_split(cmd).map_err(|_| {
                Failure::new(format!(
                    "cannot split the command `{cmd}` into words (check its quotes)"
                ))
            })?,
            (Some(_), Some(_)) => {
                return Err(Failure::new("only command or argv can be given, not both").with("rc", 256));
            }
            (None, None) => return Err(Failure::new("no command given").with("rc", 256)),
        };
        let warning = self.executable.take().map(|executable| {
            format!(
                "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '{executable}'."
            )
        });
        let shown = cmd.unwrap_or_default();
        let mut invocation = self.invocation(argv, shown);
        invocation.warnings.extend(warning);
        invocation.plan(cx).await
    }

    async fn apply(work: Invocation, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        work.run(cx).await
    }
}

impl Module for Shell {
    const FREE_FORM: Option<&'static str> = Some("cmd");

    type Work = Invocation;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Invocation>, Failure> {
        let Some(cmd) = self.cmd.clone() else {
            return Err(Failure::new("no command given"));
        };
        let shell = self.executable.clone().unwrap_or_else(|| "/bin/sh".into());
        self.invocation(vec![shell, "-c".into(), cmd.clone()], cmd)
            .plan(cx)
            .await
    }

    async fn apply(work: Invocation, _: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        work.run(cx).await
    }
}

/// A command to run, with the conditions it runs under.
pub struct Invocation {
    argv: Vec<String>,
    shown: String,
    warnings: Vec<String>,
    chdir: Option<String>,
    creates: Option<String>,
    removes: Option<String>,
    stdin: Option<String>,
    stdin_add_newline: bool,
    strip_empty_ends: bool,
}

impl Invocation {
    /// Nothing to do when `creates` exists or `removes` does not; otherwise the command would
    /// run, which check mode reports as skipped, as Ansible does.
    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Invocation>, Failure> {
        let remote = cx.remote().await?;
        if let Some(path) = &self.creates
            && files::stat(&remote, path).await?.exists()
        {
            return Ok(Plan::Done(
                Outcome::ok().msg(format!("skipped, since {path} exists")).with("rc", 0),
            ));
        }
        if let Some(path) = &self.removes
            && !files::stat(&remote, path).await?.exists()
        {
            let outcome = Outcome::ok().msg(format!("skipped, since {path} does not exist"));
            return Ok(Plan::Done(outcome.with("rc", 0)));
        }
        let planned = Outcome::skipped(format!("check mode: would run `{}`", self.display()));
        Ok(Plan::Change(planned, self))
    }

    async fn run(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        let mut exec = Exec::new(self.argv.clone());
        exec.env = cx.environment.to_vec();
        exec.chdir = self.chdir.clone();
        if let Some(mut input) = self.stdin.clone() {
            if self.stdin_add_newline {
                input.push('\n');
            }
            exec = exec.stdin(input.into_bytes());
        }
        let started = std::time::Instant::now();
        let output = remote.exec(&exec).await?;
        if matches!(output.rc, 126 | 127)
            && let Some(failure) = self.not_started(&remote, &exec).await?
        {
            return Err(failure);
        }
        let mut stdout = output.stdout_text();
        let mut stderr = output.stderr_text();
        if self.strip_empty_ends {
            stdout.truncate(stdout.trim_end_matches(['\n', '\r']).len());
            stderr.truncate(stderr.trim_end_matches(['\n', '\r']).len());
        }
        let mut outcome = Outcome::changed(true)
            .with(
                "cmd",
                Json::from(self.argv.iter().map(|a| Json::from(a.as_str())).collect::<Vec<_>>()),
            )
            .with("rc", output.rc)
            .with("stdout_lines", text_lines(&stdout))
            .with("stderr_lines", text_lines(&stderr))
            .with("stdout", stdout)
            .with("stderr", stderr)
            .with("delta", format!("{:.6}", started.elapsed().as_secs_f64()));
        if !self.warnings.is_empty() {
            outcome = outcome.with("warnings", self.warnings.clone());
        }
        if output.rc != 0 {
            outcome.msg = Some(format!("non-zero return code {}", output.rc));
            return Err(outcome.into());
        }
        Ok(outcome)
    }

    /// After a shell's "not found" (127) or "cannot execute" (126): when the program is indeed
    /// missing or not executable, the failure Python's `subprocess` gives Ansible, which reports
    /// the `OSError` (rc its errno, empty output, nothing changed) instead of a shell's complaint.
    async fn not_started(&self, remote: &crate::transport::Remote<'_>, ran: &Exec) -> Result<Option<Failure>, Failure> {
        let program = &self.argv[0];
        let mut probe = Exec::script(RESOLVE_PROGRAM, &[program]);
        probe.env = ran.env.clone();
        probe.chdir = ran.chdir.clone();
        let errno = remote.exec(&probe).await?.rc;
        let reason = match errno {
            2 => "No such file or directory",
            13 => "Permission denied",
            _ => return Ok(None),
        };
        let msg = format!("[Errno {errno}] {reason}: {}", bytes_repr(program.as_bytes()));
        let no_lines = Json::Array(Vec::new());
        let outcome = Outcome::failed(msg)
            .with("cmd", clean_args(&self.argv))
            .with("rc", errno)
            .with("stdout", "")
            .with("stderr", "")
            .with("stdout_lines", no_lines.clone())
            .with("stderr_lines", no_lines);
        Ok(Some(Failure::from(outcome)))
    }

    fn display(&self) -> String {
        if self.shown.is_empty() {
            self.argv.join(" ")
        } else {
            self.shown.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clean_args;

    #[test]
    fn reported_command_lines_are_quoted_and_masked_as_ansible_does() {
        let words = |ws: &[&str]| ws.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(
            clean_args(&words(&["nosuch", "--password=x", "a b"])),
            "nosuch '--password=********' 'a b'"
        );
        assert_eq!(
            clean_args(&words(&["mysql", "-pass", "secret", "-e", "it's"])),
            "mysql -pass '********' -e 'it'\"'\"'s'"
        );
    }
}
