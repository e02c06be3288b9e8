//! The HTTP side of the distribution API: one [`ureq::Agent`], the scheme for each registry,
//! authentication (Bearer tokens, Basic), retries with backoff, and bounded body reads.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use ureq::http::{Response, StatusCode};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::{Agent, Body};

use super::auth::{self, Challenge, Credential, DockerConfig, TokenAnswer};
use super::endpoint::Target;
use super::{RegistryError, RegistryOptions};

/// The longest a retry waits, whatever the backoff or a `Retry-After` header say.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// GET or HEAD: the only methods reading needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
}

pub(crate) struct Transport {
    agent: Agent,
    options: RegistryOptions,
    /// `https` or `http` per API host, once a registry that allows plain HTTP was probed.
    schemes: Mutex<HashMap<String, &'static str>>,
    /// `Authorization` values per (API host, repository), reused until refused.
    authorizations: Mutex<HashMap<(String, String), String>>,
    /// config.json, read the first time a registry asks for credentials.
    docker_config: OnceLock<Result<DockerConfig, String>>,
}

impl Transport {
    pub fn new(options: RegistryOptions) -> Result<Transport, RegistryError> {
        let roots = roots(&options.extra_roots)?;
        let timeout = Some(options.timeout);
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("hardport/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .timeout_resolve(timeout)
            .timeout_connect(timeout)
            .timeout_send_request(timeout)
            .timeout_recv_response(timeout)
            .timeout_per_read(timeout)
            .max_redirects(5)
            .build()
            .new_agent();
        Ok(Transport {
            agent,
            options,
            schemes: Mutex::default(),
            authorizations: Mutex::default(),
            docker_config: OnceLock::new(),
        })
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }

    /// `GET`/`HEAD` `/v2/<repository>/<path>`, authenticating as the registry asks.
    pub fn request(
        &self,
        target: &Target,
        method: Method,
        path: &str,
        accept: Option<&str>,
    ) -> Result<Response<Body>, RegistryError> {
        let base = self.base(target)?;
        let url = format!("{base}/v2/{}/{path}", target.repository);
        self.request_url(target, method, &url, accept)
    }

    /// The same for a whole URL (a `Link` header's next page).
    pub fn request_url(
        &self,
        target: &Target,
        method: Method,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Response<Body>, RegistryError> {
        let key = (target.api_host.clone(), target.repository.clone());
        let cached = lock(&self.authorizations).get(&key).cloned();
        let response = self.send(target, method, url, accept, cached.as_deref())?;
        if !denied(response.status()) {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok())
            .and_then(auth::parse_challenge);
        let (authorization, credential) = self.authorize(target, challenge)?;
        lock(&self.authorizations).insert(key.clone(), authorization.clone());
        let response = self.send(target, method, url, accept, Some(&authorization))?;
        if denied(response.status()) {
            lock(&self.authorizations).remove(&key);
            return Err(refused(
                target,
                credential.as_ref(),
                response.status(),
                "the registry",
            ));
        }
        Ok(response)
    }

    /// `https://host` or, for a registry allowed plain HTTP whose HTTPS does not work,
    /// `http://host`. Connection failures are errors, not a reason to try HTTP.
    pub fn base(&self, target: &Target) -> Result<String, RegistryError> {
        let host = &target.api_host;
        if !target.allows_plain_http(&self.options.insecure) {
            return Ok(format!("https://{host}"));
        }
        if let Some(scheme) = lock(&self.schemes).get(host) {
            return Ok(format!("{scheme}://{host}"));
        }
        let secure = format!("https://{host}");
        let scheme = match self.send(target, Method::Get, &format!("{secure}/v2/"), None, None) {
            Ok(_) => "https",
            Err(error @ RegistryError::Unreachable { .. }) if connection_failed(&error) => {
                return Err(error);
            }
            Err(error) => {
                // Only a registry's answer (200, or 401 asking for credentials) shows plain
                // HTTP works: a TLS server answers plain HTTP with 400, which would hide the
                // TLS error the user needs to see.
                let plain = format!("http://{host}/v2/");
                match self.send(target, Method::Get, &plain, None, None) {
                    Ok(response)
                        if response.status().is_success()
                            || response.status() == StatusCode::UNAUTHORIZED =>
                    {
                        "http"
                    }
                    _ => return Err(error),
                }
            }
        };
        lock(&self.schemes).insert(host.clone(), scheme);
        Ok(format!("{scheme}://{host}"))
    }

    /// Answers a challenge: a token from the realm, or Basic credentials.
    fn authorize(
        &self,
        target: &Target,
        challenge: Option<Challenge>,
    ) -> Result<(String, Option<Credential>), RegistryError> {
        let credential = self.credential(target)?;
        match challenge {
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let token = self.token(target, &realm, service, scope, credential.as_ref())?;
                Ok((format!("Bearer {token}"), credential))
            }
            Some(Challenge::Basic) | None => match credential {
                Some(credential) => Ok((credential.basic(), Some(credential))),
                None => Err(RegistryError::AuthRequired {
                    host: target.host.clone(),
                    reference: target.canonical.clone(),
                }),
            },
        }
    }

    /// Gets a pull token for the target's repository from `realm`.
    fn token(
        &self,
        target: &Target,
        realm: &str,
        service: Option<String>,
        scope: Option<String>,
        credential: Option<&Credential>,
    ) -> Result<String, RegistryError> {
        let plain_allowed = target.allows_plain_http(&self.options.insecure);
        let secure = realm.starts_with("https://");
        if !(secure || plain_allowed && realm.starts_with("http://")) {
            return Err(bad(
                target,
                "authentication challenge",
                format!("token realm {realm:?} is not an https URL"),
            ));
        }
        let scope = scope.unwrap_or_else(|| format!("repository:{}:pull", target.repository));
        let mut url = realm.to_owned();
        let mut separator = if url.contains('?') { '&' } else { '?' };
        for (name, value) in [("service", service), ("scope", Some(scope))] {
            if let Some(value) = value {
                url.push(separator);
                url.push_str(name);
                url.push('=');
                url.push_str(&percent_encode(&value));
                separator = '&';
            }
        }
        let basic = credential.map(Credential::basic);
        let response = self.send(target, Method::Get, &url, None, basic.as_deref())?;
        let status = response.status();
        if denied(status) {
            return Err(refused(target, credential, status, "its token service"));
        }
        if !status.is_success() {
            return Err(status_error(target, status, "a token request"));
        }
        let body = self.read_body(target, response, "token")?;
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|error| bad(target, "token", error.to_string()))?;
        answer.into_token().ok_or_else(|| {
            bad(
                target,
                "token",
                "it holds no `token` nor `access_token`".into(),
            )
        })
    }

    /// The configured credential for the target's registry.
    fn credential(&self, target: &Target) -> Result<Option<Credential>, RegistryError> {
        let error = |message: String| RegistryError::Credentials {
            host: target.host.clone(),
            reference: target.canonical.clone(),
            message,
        };
        let config = self.docker_config.get_or_init(|| {
            DockerConfig::load(auth::config_dir(self.options.docker_config.as_deref()).as_deref())
        });
        let config = config.as_ref().map_err(|message| error(message.clone()))?;
        config
            .credential(&target.host, self.options.timeout)
            .map_err(error)
    }

    /// One request, retried with backoff on connection failures, 5xx and 429.
    fn send(
        &self,
        target: &Target,
        method: Method,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>, RegistryError> {
        let mut attempt = 0;
        loop {
            let mut request = match method {
                Method::Get => self.agent.get(url),
                Method::Head => self.agent.head(url),
            };
            if let Some(accept) = accept {
                request = request.header("Accept", accept);
            }
            if let Some(authorization) = authorization {
                request = request.header("Authorization", authorization);
            }
            let retry = attempt < self.options.retries;
            match request.call() {
                Ok(response) if retry && transient(response.status()) => {
                    std::thread::sleep(self.backoff(attempt, retry_after(&response)));
                }
                Ok(response) => return Ok(response),
                Err(error) if retry && retriable(&error) => {
                    std::thread::sleep(self.backoff(attempt, None));
                }
                Err(error) => return Err(unreachable(target, &error)),
            }
            attempt += 1;
        }
    }

    /// `retry_base` doubled per attempt, or what the server asked for, never over
    /// [`MAX_BACKOFF`].
    fn backoff(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        let doubled = self
            .options
            .retry_base
            .saturating_mul(1_u32.checked_shl(attempt).unwrap_or(u32::MAX));
        asked.unwrap_or(doubled).min(MAX_BACKOFF)
    }

    /// A whole body of at most the manifest size limit.
    pub fn read_body(
        &self,
        target: &Target,
        response: Response<Body>,
        what: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let limit = self.options.limits.manifest_bytes;
        response
            .into_body()
            .into_with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|error| match error {
                ureq::Error::BodyExceedsLimit(_) => {
                    bad(target, what, format!("it is larger than {limit} bytes"))
                }
                error => unreachable(target, &error),
            })
    }
}

/// The trust store: Mozilla's roots (webpki), plus the extra CA certificates given.
fn roots(extra: &[std::path::PathBuf]) -> Result<RootCerts, RegistryError> {
    if extra.is_empty() {
        return Ok(RootCerts::WebPki);
    }
    let mut certificates: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()))
        .collect();
    for path in extra {
        let error = |message: String| RegistryError::Options {
            message: format!("CA certificate {}: {message}", path.display()),
        };
        let pem = std::fs::read(path).map_err(|io| error(io.to_string()))?;
        let before = certificates.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let PemItem::Certificate(certificate) = item.map_err(|e| error(e.to_string()))? {
                certificates.push(certificate);
            }
        }
        if certificates.len() == before {
            return Err(error("no PEM certificate in it".into()));
        }
    }
    Ok(RootCerts::new_with_certs(&certificates))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn denied(status: StatusCode) -> bool {
    status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN
}

fn transient(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// `Retry-After` in seconds (the HTTP-date form is not worth a date parser here).
fn retry_after(response: &Response<Body>) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// Errors worth another try: the connection, not the answer, failed.
fn retriable(error: &ureq::Error) -> bool {
    matches!(
        error,
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::Timeout(_)
    )
}

/// Whether an [`RegistryError::Unreachable`] means no connection at all (so trying plain HTTP
/// on the same port is pointless), as opposed to a TLS or protocol failure.
fn connection_failed(error: &RegistryError) -> bool {
    matches!(error, RegistryError::Unreachable { reason, .. }
        if reason == "connection refused" || reason == "host not found" || reason.starts_with("timed out") || reason == "connection failed")
}

/// A transport error as the user needs to read it.
pub(crate) fn unreachable(target: &Target, error: &ureq::Error) -> RegistryError {
    let reason = match error {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_owned()
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => "timed out".to_owned(),
        ureq::Error::Timeout(phase) => format!("timed out ({phase})"),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        error => error.to_string(),
    };
    RegistryError::Unreachable {
        host: target.api_host.clone(),
        reference: target.canonical.clone(),
        reason,
    }
}

/// 401/403 after credentials (or an anonymous token) were offered.
fn refused(
    target: &Target,
    credential: Option<&Credential>,
    status: StatusCode,
    whom: &str,
) -> RegistryError {
    match credential {
        Some(credential) => RegistryError::AuthFailed {
            host: target.host.clone(),
            reference: target.canonical.clone(),
            reason: format!(
                "{whom} answered HTTP {} to user {:?}",
                status.as_u16(),
                credential.username
            ),
        },
        None => RegistryError::AuthRequired {
            host: target.host.clone(),
            reference: target.canonical.clone(),
        },
    }
}

pub(crate) fn status_error(target: &Target, status: StatusCode, what: &str) -> RegistryError {
    RegistryError::Status {
        host: target.host.clone(),
        reference: target.canonical.clone(),
        status: status.as_u16(),
        what: what.to_owned(),
    }
}

pub(crate) fn bad(target: &Target, what: &str, message: String) -> RegistryError {
    RegistryError::BadResponse {
        host: target.host.clone(),
        reference: target.canonical.clone(),
        what: what.to_owned(),
        message,
    }
}

/// Percent-encodes a query value, keeping only RFC 3986 unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            percent_encode("repository:library/node:pull"),
            "repository%3Alibrary%2Fnode%3Apull"
        );
        assert_eq!(percent_encode("registry.docker.io"), "registry.docker.io");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let options = RegistryOptions {
            retry_base: Duration::from_millis(100),
            ..RegistryOptions::default()
        };
        let transport = Transport::new(options).unwrap();
        assert_eq!(transport.backoff(0, None), Duration::from_millis(100));
        assert_eq!(transport.backoff(2, None), Duration::from_millis(400));
        assert_eq!(transport.backoff(40, None), MAX_BACKOFF);
        assert_eq!(
            transport.backoff(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            transport.backoff(0, Some(Duration::from_secs(999))),
            MAX_BACKOFF
        );
    }

    #[test]
    fn an_unreadable_ca_file_is_an_options_error_naming_it() {
        let options = RegistryOptions {
            extra_roots: vec!["/nonexistent/ca.pem".into()],
            ..RegistryOptions::default()
        };
        let error = Transport::new(options).err().unwrap();
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }
}
