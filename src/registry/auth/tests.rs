use std::os::unix::fs::PermissionsExt;

use super::*;

fn config(json: &str) -> DockerConfig {
    serde_json::from_str(json).expect("test config parses")
}

fn credential(username: &str, secret: &str) -> Option<Credential> {
    Some(Credential {
        username: username.into(),
        secret: secret.into(),
    })
}

const TIMEOUT: Duration = Duration::from_secs(5);

#[test]
fn bearer_challenges_give_realm_service_and_scope() {
    let challenge = parse_challenge(
        r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull,push""#,
    );
    assert_eq!(
        challenge,
        Some(Challenge::Bearer {
            realm: "https://auth.docker.io/token".into(),
            service: Some("registry.docker.io".into()),
            scope: Some("repository:library/node:pull,push".into()),
        })
    );
    assert_eq!(
        parse_challenge("bearer realm=https://ghcr.io/token"),
        Some(Challenge::Bearer {
            realm: "https://ghcr.io/token".into(),
            service: None,
            scope: None,
        })
    );
    assert_eq!(
        parse_challenge(r#"Basic realm="Registry Realm""#),
        Some(Challenge::Basic)
    );
    assert_eq!(parse_challenge("Bearer service=x"), None, "no realm");
    assert_eq!(parse_challenge("Negotiate abc"), None);
}

#[test]
fn auths_entries_are_found_by_host_whatever_the_key_spelling() {
    // base64("user:pa:ss") — a password may contain `:`.
    let docker = config(
        r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpwYTpzcw=="},
                      "https://ghcr.io/v2/": {"username": "me", "password": "token"},
                      "127.0.0.1:5000": {"auth": "YTpi"}}}"#,
    );
    assert_eq!(
        docker.credential("docker.io", TIMEOUT).unwrap(),
        credential("user", "pa:ss")
    );
    assert_eq!(
        docker.credential("ghcr.io", TIMEOUT).unwrap(),
        credential("me", "token")
    );
    assert_eq!(
        docker.credential("127.0.0.1:5000", TIMEOUT).unwrap(),
        credential("a", "b")
    );
    assert_eq!(docker.credential("127.0.0.1:5001", TIMEOUT).unwrap(), None);
    assert_eq!(docker.credential("quay.io", TIMEOUT).unwrap(), None);
}

#[test]
fn a_broken_auth_entry_is_an_error_naming_the_key() {
    let docker = config(r#"{"auths": {"quay.io": {"auth": "not base64!"}}}"#);
    let error = docker.credential("quay.io", TIMEOUT).unwrap_err();
    assert!(error.contains("auths.quay.io.auth"), "{error}");
}

#[test]
fn a_missing_config_means_no_credentials_and_a_broken_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = DockerConfig::load(Some(dir.path())).unwrap();
    assert_eq!(empty.credential("docker.io", TIMEOUT).unwrap(), None);
    std::fs::write(dir.path().join("config.json"), "{").unwrap();
    let error = DockerConfig::load(Some(dir.path())).unwrap_err();
    assert!(error.contains("config.json"), "{error}");
}

#[test]
fn a_missing_helper_is_an_error_naming_it() {
    let docker = config(r#"{"credHelpers": {"quay.io": "hardport-test-absent"}}"#);
    let error = docker.credential("quay.io", TIMEOUT).unwrap_err();
    assert!(
        error.contains("docker-credential-hardport-test-absent"),
        "{error}"
    );
    // Other registries do not use that helper.
    assert_eq!(docker.credential("ghcr.io", TIMEOUT).unwrap(), None);
}

/// Writes an executable shell script standing in for `docker-credential-x`.
fn helper(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("docker-credential-test");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_helper_is_asked_for_the_server_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let program = helper(
        dir.path(),
        r#"read server; [ "$1" = get ] || exit 3; printf '{"ServerURL":"%s","Username":"u-%s","Secret":"s"}' "$server" "$server""#,
    );
    assert_eq!(
        run_helper(&program, "https://index.docker.io/v1/", TIMEOUT).unwrap(),
        credential("u-https://index.docker.io/v1/", "s")
    );
}

#[test]
fn a_helper_without_credentials_or_with_a_token_gives_none() {
    let dir = tempfile::tempdir().unwrap();
    let program = helper(
        dir.path(),
        "echo 'credentials not found in native keychain'; exit 1",
    );
    assert_eq!(run_helper(&program, "quay.io", TIMEOUT).unwrap(), None);
    let program = helper(
        dir.path(),
        r#"echo '{"Username":"<token>","Secret":"refresh"}'"#,
    );
    assert_eq!(run_helper(&program, "quay.io", TIMEOUT).unwrap(), None);
}

#[test]
fn a_failing_or_hanging_helper_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let program = helper(dir.path(), "echo 'keychain locked' >&2; exit 1");
    let error = run_helper(&program, "quay.io", TIMEOUT).unwrap_err();
    assert!(error.contains("keychain locked"), "{error}");
    let program = helper(dir.path(), "exec sleep 5");
    let started = Instant::now();
    let error = run_helper(&program, "quay.io", Duration::from_millis(200)).unwrap_err();
    assert!(error.contains("did not answer"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn the_secret_is_never_printed() {
    let shown = format!("{:?}", credential("me", "hunter2").unwrap());
    assert!(!shown.contains("hunter2"), "{shown}");
}
