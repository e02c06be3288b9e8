//! Credentials and authentication challenges, the way `docker pull` finds and uses them.
//!
//! Credentials come from Docker's `config.json` (in `$DOCKER_CONFIG`, else `~/.docker`, or
//! the directory [`super::RegistryOptions::docker_config`] names):
//!
//! - `credHelpers` names a helper for one registry; else `credsStore` names one for all. A
//!   helper is the program `docker-credential-<name>`, run as `docker-credential-<name> get`
//!   with the registry on stdin, printing `{"Username", "Secret"}`.
//! - `auths` holds `auth` (base64 of `user:password`) or `username` and `password` per
//!   registry. It is also read when a helper has nothing for the registry (Docker would stop
//!   at the helper; reading both costs nothing and finds credentials a user wrote by hand).
//!
//! Docker Hub's entry is keyed `https://index.docker.io/v1/`; keys are compared by host, so
//! `https://ghcr.io`, `ghcr.io` and `ghcr.io/v2/` are one registry. Identity tokens (OAuth2
//! refresh tokens some helpers return as user `<token>`) are not supported: such an entry
//! counts as none, and the registry's anonymous access decides.
//!
//! The `docker_credential` crate does the same lookup, but it only finds the config through the
//! environment, and changing the environment of a threaded program is unsound; this reader
//! takes the directory as an argument instead.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

/// A user name and its password (or token).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credential {
    pub username: String,
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({:?}, ***)", self.username)
    }
}

impl Credential {
    /// The `Authorization: Basic …` value.
    pub fn basic(&self) -> String {
        let pair = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// The parts of `config.json` that say where credentials are.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The directory holding `config.json`: the one given, else `$DOCKER_CONFIG`, else
/// `~/.docker`. `None` when there is no home directory to look in.
pub(crate) fn config_dir(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(given) = given {
        return Some(given.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join(".docker"))
}

impl DockerConfig {
    /// Reads `dir/config.json`; a missing file (or directory) means no credentials.
    pub fn load(dir: Option<&Path>) -> Result<DockerConfig, String> {
        let Some(dir) = dir else {
            return Ok(DockerConfig::default());
        };
        let path = dir.join("config.json");
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DockerConfig::default());
            }
            Err(error) => return Err(format!("{}: {error}", path.display())),
        };
        serde_json::from_slice(&bytes).map_err(|error| format!("{}: {error}", path.display()))
    }

    /// The credential for `host` (`docker.io`, `127.0.0.1:5000`), if any is configured.
    pub fn credential(&self, host: &str, timeout: Duration) -> Result<Option<Credential>, String> {
        let helper = self
            .cred_helpers
            .iter()
            .find(|(key, _)| same_registry(key, host))
            .map(|(_, helper)| helper)
            .or(self.creds_store.as_ref())
            .filter(|helper| !helper.is_empty());
        if let Some(helper) = helper {
            let program = PathBuf::from(format!("docker-credential-{helper}"));
            if let Some(credential) = run_helper(&program, &server_url(host), timeout)? {
                return Ok(Some(credential));
            }
        }
        self.auths
            .iter()
            .filter(|(key, _)| same_registry(key, host))
            .find_map(|(key, entry)| entry.credential(key).transpose())
            .transpose()
    }
}

impl AuthEntry {
    fn credential(&self, key: &str) -> Result<Option<Credential>, String> {
        if let Some(auth) = self.auth.as_deref().filter(|auth| !auth.is_empty()) {
            let engine = base64::engine::general_purpose::STANDARD;
            let decoded = engine
                .decode(auth.trim())
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(auth.trim()))
                .map_err(|_| format!("`auths.{key}.auth` is not base64"))?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| format!("`auths.{key}.auth` is not UTF-8 once decoded"))?;
            let (username, secret) = decoded
                .split_once(':')
                .ok_or_else(|| format!("`auths.{key}.auth` is not base64 of `user:password`"))?;
            return Ok(Some(Credential {
                username: username.to_owned(),
                secret: secret.to_owned(),
            }));
        }
        Ok(match (&self.username, &self.password) {
            (Some(username), Some(password)) if !username.is_empty() => Some(Credential {
                username: username.clone(),
                secret: password.clone(),
            }),
            _ => None,
        })
    }
}

/// Whether a `config.json` key names `host`. Docker Hub has several names.
fn same_registry(key: &str, host: &str) -> bool {
    let key = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let key = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    let hub = |name: &str| {
        matches!(
            name,
            "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com"
        )
    };
    key == host || (hub(&key) && hub(host))
}

/// What a credential helper is asked for: Docker Hub's legacy URL, or the host.
fn server_url(host: &str) -> String {
    if host == "docker.io" {
        "https://index.docker.io/v1/".to_owned()
    } else {
        host.to_owned()
    }
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Runs `program get` with `server` on stdin. "Not found" is `Ok(None)`; a helper that cannot
/// be run, fails otherwise, or outlives `timeout` is an error.
pub(crate) fn run_helper(
    program: &Path,
    server: &str,
    timeout: Duration,
) -> Result<Option<Credential>, String> {
    let name = program.display();
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run credential helper {name}: {error}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "credential helper {name} did not answer within {timeout:?}"
                ));
            }
            Err(error) => return Err(format!("credential helper {name}: {error}")),
        }
    };
    let mut output = Vec::new();
    let mut errors = String::new();
    if let Some(stdout) = child.stdout.as_mut() {
        let _ = stdout.take(1 << 20).read_to_end(&mut output);
    }
    if let Some(stderr) = child.stderr.as_mut() {
        let _ = stderr.take(1 << 16).read_to_string(&mut errors);
    }
    let said = format!("{}{errors}", String::from_utf8_lossy(&output));
    if !status.success() {
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!(
            "credential helper {name} failed ({status}): {}",
            said.trim()
        ));
    }
    let answer: HelperAnswer = serde_json::from_slice(&output).map_err(|error| {
        format!("credential helper {name} printed no credentials JSON: {error}")
    })?;
    if answer.username.is_empty() || answer.username == "<token>" {
        return Ok(None);
    }
    Ok(Some(Credential {
        username: answer.username,
        secret: answer.secret,
    }))
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Get a token from `realm` (with `service` and `scope`), then send it as `Bearer`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// Send the credentials themselves.
    Basic,
}

/// Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. Other schemes are
/// `None`: there is nothing hardport can answer them with.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let parameters = parameters(rest);
    let get = |name: &str| {
        parameters
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    Some(Challenge::Bearer {
        realm: get("realm").filter(|realm| !realm.is_empty())?,
        service: get("service"),
        scope: get("scope"),
    })
}

/// `key="value", key=value` pairs; a quoted value may hold commas (`scope="a:b:pull,push"`)
/// and backslash escapes.
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() {
            break;
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| *c != ',')));
        }
        pairs.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    pairs
}

/// A token service's answer: Docker's `token`, or OAuth2's `access_token`.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl TokenAnswer {
    pub fn into_token(self) -> Option<String> {
        self.token
            .filter(|token| !token.is_empty())
            .or(self.access_token.filter(|token| !token.is_empty()))
    }
}

#[cfg(test)]
mod tests;
