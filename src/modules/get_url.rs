//! `get_url` downloads a file and puts it on the host. The request is made from the machine
//! running bgrun (so hosts need neither network access nor curl), and the file travels over the
//! host's connection and is written atomically, only when its content differs. As in Ansible, an
//! existing `dest` is left alone unless `force: true` or a `checksum` it does not match, and a
//! `checksum` (`sha256:HEX`, or `ALGO:URL` of a checksum file) the download does not match fails
//! the step. The file is held in memory while it travels. In check mode the file is still
//! downloaded (to the controller only), so the verdict is exact.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value as Json;
use sha2::Digest;

use super::lineinfile::resolve;
use super::{Failure, Module, Outcome, Plan, StepContext};
use crate::compat::checksum::{Checksum, hex, sha1};
use crate::transport::files::{self, Attributes, FileKind};
use crate::transport::{Exec, HostError, Remote};

module_arguments! {
[attributes]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetUrl {
    url: String,
    /// A file, or a folder to put the file in under the name the server or the URL gives.
    dest: String,
    /// `ALGORITHM:HEX` or `ALGORITHM:URL` (md5, sha1, sha224, sha256, sha384, sha512).
    #[serde(default)]
    checksum: Option<String>,
    /// Download even when `dest` exists.
    #[serde(default, alias = "thirsty")]
    force: bool,
    /// Seconds the request may take.
    #[serde(default = "ten")]
    timeout: u64,
    /// A mapping, or `key:value,key:value` text.
    #[serde(default)]
    headers: Json,
    #[serde(default = "super::arguments::yes")]
    validate_certs: bool,
    #[serde(default)]
    url_username: Option<String>,
    #[serde(default)]
    url_password: Option<String>,
    /// Accepted: credentials are always sent with the first request.
    #[serde(default)]
    force_basic_auth: bool,
    #[serde(default = "agent")]
    http_agent: String,
    /// Honour the controller's `http_proxy` / `https_proxy` variables.
    #[serde(default = "super::arguments::yes")]
    use_proxy: bool,
}
}

fn ten() -> u64 {
    10
}
fn agent() -> String {
    "ansible-httpget".into()
}

/// The last part of a URL's path.
fn url_basename(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let path = path.split_once('/').map_or("", |(_, p)| p);
    path.rsplit('/').next().unwrap_or_default().to_string()
}

/// The file name a `Content-Disposition` header gives, without folders.
fn disposition_name(header: &str) -> Option<String> {
    let (_, rest) = header.split_once("filename=")?;
    let name = rest.split(';').next()?.trim().trim_matches('"');
    let name = name.rsplit(['/', '\\']).next()?;
    (!name.is_empty() && name != "." && name != "..").then(|| name.to_string())
}

/// The checksum for `name` in a checksum file (`HEX  NAME` lines, or one bare `HEX`).
fn find_in_checksum_file(text: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in &lines {
        let mut parts = line.split_whitespace();
        let (Some(hash), Some(file)) = (parts.next(), parts.next()) else {
            continue;
        };
        let file = file.trim_start_matches('*').trim_start_matches("./");
        if file == name {
            return Some(hash.to_ascii_lowercase());
        }
    }
    match lines.as_slice() {
        [only] if only.split_whitespace().count() == 1 => Some(only.trim().to_ascii_lowercase()),
        _ => None,
    }
}

impl GetUrl {
    fn client(&self) -> Result<reqwest::Client, HostError> {
        let mut builder = reqwest::Client::builder()
            .danger_accept_invalid_certs(!self.validate_certs)
            .timeout(Duration::from_secs(self.timeout.max(1)))
            .user_agent(self.http_agent.clone());
        if !self.use_proxy {
            builder = builder.no_proxy();
        }
        builder
            .build()
            .map_err(|e| HostError::Failed(format!("cannot set up HTTP: {e}")))
    }

    fn headers(&self) -> Result<Vec<(String, String)>, HostError> {
        match &self.headers {
            Json::Null => Ok(Vec::new()),
            Json::Object(map) => Ok(map
                .iter()
                .map(|(k, v)| (k.clone(), crate::yaml::scalar_text(v)))
                .collect()),
            Json::String(text) => text
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(|pair| {
                    pair.split_once(':')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .ok_or_else(|| {
                            HostError::Failed(format!("invalid arguments: header `{pair}` is not `name:value`"))
                        })
                })
                .collect(),
            other => Err(HostError::Failed(format!(
                "invalid arguments: `headers` is a mapping, not {other}"
            ))),
        }
    }

    /// GETs `url` with the `headers` (parsed by the caller, whose own errors they are).
    async fn fetch(
        &self,
        client: &reqwest::Client,
        headers: Vec<(String, String)>,
        url: &str,
    ) -> Result<Fetched, Failure> {
        let mut request = client.get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(user) = &self.url_username {
            request = request.basic_auth(user, self.url_password.as_deref());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let reason = std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string());
                return Err(Failure::new(format!("Request failed: {url}: {reason}"))
                    .with("url", url)
                    .with("status_code", -1));
            }
        };
        let status = response.status().as_u16();
        let name = response
            .headers()
            .get(reqwest::header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(disposition_name);
        if !response.status().is_success() {
            return Err(Failure::new(format!("Request failed: HTTP Error {status}: {url}"))
                .with("url", url)
                .with("status_code", status));
        }
        match response.bytes().await {
            Ok(body) => Ok(Fetched {
                body: body.to_vec(),
                status,
                name,
            }),
            Err(e) => Err(Failure::new(format!("Request failed while reading {url}: {e}"))
                .with("url", url)
                .with("status_code", status)),
        }
    }

    /// The expected checksum: its algorithm and lower-case hex digest.
    async fn expected(&self, client: &reqwest::Client) -> Result<Option<(Checksum, String)>, Failure> {
        let Some(checksum) = self.checksum.as_deref().filter(|c| !c.trim().is_empty()) else {
            return Ok(None);
        };
        let invalid = || {
            HostError::Failed(format!(
                "invalid arguments: `checksum: {checksum}` is not ALGORITHM:CHECKSUM (md5, sha1, sha224, sha256, sha384 or sha512)"
            ))
        };
        let (name, value) = checksum.split_once(':').ok_or_else(invalid)?;
        let algorithm = Checksum::parse(name.trim()).ok_or_else(invalid)?;
        let value = value.trim();
        if ["http://", "https://", "ftp://", "file://"]
            .iter()
            .any(|scheme| value.starts_with(scheme))
        {
            let headers = self.headers()?;
            let fetched = self
                .fetch(client, headers, value)
                .await
                .map_err(|failure| failure.with("url", self.url.as_str()))?;
            let text = String::from_utf8_lossy(&fetched.body);
            let name = url_basename(&self.url);
            return match find_in_checksum_file(&text, &name) {
                Some(hash) => Ok(Some((algorithm, hash))),
                None => Err(
                    Failure::new(format!("Unable to find a checksum for file '{name}' in '{value}'"))
                        .with("url", self.url.as_str()),
                ),
            };
        }
        if value.is_empty() || !value.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid().into());
        }
        Ok(Some((algorithm, value.to_ascii_lowercase())))
    }
}

struct Fetched {
    body: Vec<u8>,
    status: u16,
    name: Option<String>,
}

/// A digest computed on the host: of a file, or of bytes sent on standard input.
async fn host_digest(
    remote: &Remote<'_>,
    algorithm: Checksum,
    path: Option<&str>,
    input: Option<&[u8]>,
) -> Result<Option<String>, HostError> {
    let script = r#"p=$1; shift; if [ -n "$p" ]; then [ -f "$p" ] || exit 3; "$@" < "$p"; else "$@"; fi"#;
    let mut exec = Exec::script(script, &[path.unwrap_or_default(), algorithm.program()]);
    if let Some(bytes) = input {
        exec = exec.stdin(bytes.to_vec());
    }
    let output = remote.exec(&exec).await?;
    match output.rc {
        0 => Ok(output
            .stdout_text()
            .split_whitespace()
            .next()
            .map(str::to_ascii_lowercase)),
        3 => Ok(None),
        _ => Err(HostError::Failed(format!(
            "cannot compute a checksum with `{}`: {}",
            algorithm.program(),
            output.stderr_text().trim()
        ))),
    }
}

/// What a run writes: the downloaded file, or only the attributes of the file there.
#[derive(Debug)]
pub struct Work(Change);

#[derive(Debug)]
enum Change {
    Write {
        dest: String,
        body: Vec<u8>,
        attrs: Attributes,
    },
    Attributes {
        dest: String,
        attrs: Attributes,
    },
}

impl Module for GetUrl {
    type Work = Work;

    async fn plan(self, cx: &StepContext<'_>) -> Result<Plan<Work>, Failure> {
        let _ = self.force_basic_auth;
        let attrs = self.attributes()?;
        let client = self.client()?;
        let expected = self.expected(&client).await?;
        let remote = cx.remote().await?;
        let (mut dest, mut state) = resolve(&remote, &self.dest).await?;
        let into_folder = state.kind == FileKind::Directory;
        // An existing file is kept unless forced, or unless it does not match the checksum.
        if state.kind == FileKind::File && !self.force {
            let keep = match &expected {
                None => true,
                Some((algorithm, hash)) => {
                    host_digest(&remote, *algorithm, Some(&dest), None).await?.as_deref() == Some(hash.as_str())
                }
            };
            if keep {
                let attrs_changed = !attrs.satisfied_by(&state);
                let outcome = Outcome::changed(attrs_changed)
                    .msg("file already exists")
                    .with("url", self.url.as_str())
                    .with("dest", dest.as_str())
                    .with("state", "file");
                if !attrs_changed {
                    return Ok(Plan::Done(outcome));
                }
                return Ok(Plan::Change(outcome, Work(Change::Attributes { dest, attrs })));
            }
        }
        let started = Instant::now();
        let headers = self.headers()?;
        // The download goes to this machine only; the host gets it in a run.
        let fetched = self
            .fetch(&client, headers, &self.url)
            .await
            .map_err(|failure| failure.with("dest", self.dest.as_str()))?;
        let elapsed = started.elapsed().as_secs();
        if into_folder {
            let name = fetched
                .name
                .clone()
                .or_else(|| Some(url_basename(&self.url)).filter(|n| !n.is_empty()))
                .unwrap_or_else(|| "index.html".to_string());
            dest = format!("{}/{name}", dest.trim_end_matches('/'));
            state = files::stat(&remote, &dest).await?;
            if state.kind == FileKind::Directory {
                return Err(Failure::new(format!("`{dest}` is a directory")));
            }
        }
        let body = fetched.body;
        if let Some((algorithm, hash)) = &expected {
            let actual = match algorithm.digest(&body) {
                Some(digest) => Some(digest),
                None => host_digest(&remote, *algorithm, None, Some(&body)).await?,
            };
            if actual.as_deref() != Some(hash.as_str()) {
                return Err(Failure::new(format!(
                    "The checksum for {dest} did not match {hash}; it was {}.",
                    actual.unwrap_or_default()
                ))
                .with("url", self.url.as_str())
                .with("dest", dest.as_str()));
            }
        }
        let sha256 = hex(&sha2::Sha256::digest(&body));
        let content_changed = state.sha256.as_deref() != Some(sha256.as_str());
        let attrs_changed = !content_changed && !attrs.satisfied_by(&state);
        let checksum = hex(&sha1(&body));
        let outcome = Outcome::changed(content_changed || attrs_changed)
            .msg(format!("OK ({} bytes)", body.len()))
            .with("url", self.url.as_str())
            .with("dest", dest.as_str())
            .with("status_code", fetched.status)
            .with("size", body.len() as u64)
            .with("elapsed", elapsed)
            .with("checksum_src", checksum.as_str())
            .with("checksum_dest", checksum.as_str())
            .with("state", "file");
        let change = if content_changed {
            let attrs = attrs.keeping_ownership_of(state);
            Change::Write { dest, body, attrs }
        } else if attrs_changed {
            Change::Attributes { dest, attrs }
        } else {
            return Ok(Plan::Done(outcome));
        };
        Ok(Plan::Change(outcome, Work(change)))
    }

    async fn apply(work: Work, planned: Outcome, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let remote = cx.remote().await?;
        match work.0 {
            Change::Write { dest, body, attrs } => files::write(&remote, &dest, &body, &attrs).await?,
            Change::Attributes { dest, attrs } => files::set_attributes(&remote, &dest, &attrs).await?,
        }
        Ok(planned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_urls_headers_and_checksum_files() {
        assert_eq!(url_basename("http://h/a/b/app.tar.gz?x=1"), "app.tar.gz");
        assert_eq!(url_basename("http://h"), "");
        assert_eq!(
            disposition_name("attachment; filename=\"../x.bin\"").as_deref(),
            Some("x.bin")
        );
        let sums = "abc123  app.tar.gz\ndef456 *other\n";
        assert_eq!(find_in_checksum_file(sums, "app.tar.gz").as_deref(), Some("abc123"));
        assert_eq!(find_in_checksum_file("ABC\n", "x").as_deref(), Some("abc"));
        assert_eq!(find_in_checksum_file(sums, "nope"), None);
    }
}
