//! `hardport.lock` through the real binary: its facts reach the rules, per image; a user's
//! catalog outranks it, it outranks the built-in catalog; `catalog show` says where each fact
//! comes from; a bad lock is an error naming the file. The facts below are test data for the
//! layering, not claims about the real images (`facts resolve` reads real ones).

mod common;

use std::path::Path;

use common::{code, copy_to_temp, hardport, stderr, stdout};

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn locked(reference: &str, facts: &str) -> String {
    format!(
        "  {reference}:\n    digest: {DIGEST}\n    platform: linux/amd64\n    read: 2026-12-04\n    facts: {facts}\n"
    )
}

/// The digest the demo's worker pins `python:3.12-slim-bookworm` by (a multi-platform index).
const WORKER_INDEX: &str =
    "sha256:a866731a6b71c4a194a845d86e06568725e430ed21821d0c52e4efb385cf6c6f";

/// The demo's worker: `FROM python:3.12-slim-bookworm@…`, a RUN, `CMD ["python", "worker.py"]`;
/// the built-in catalog does not know the replacement's user or entrypoint. The lock read the
/// public image at the index the worker pins.
fn demo_with_lock() -> tempfile::TempDir {
    let dir = copy_to_temp(&common::case("demo"));
    let public = locked(
        "docker.io/library/python:3.12-slim-bookworm",
        "{user: \"0\", cmd: [python3], shell: true}",
    )
    .replace(
        "    platform:",
        &format!("    index_digest: {WORKER_INDEX}\n    platform:"),
    );
    let lock = format!(
        "version: 1\nimages:\n{}{}{}",
        public,
        locked(
            "reg.mini.dev/python:3.12",
            "{user: \"1000\", entrypoint: [/usr/bin/python3], cmd: [], shell: false}"
        ),
        locked(
            "reg.mini.dev/python:3.12-dev",
            "{user: \"1000\", shell: true, package_manager: apk}"
        ),
    );
    std::fs::write(dir.path().join("hardport.lock"), lock).expect("write lock");
    dir
}

fn worker_findings(dir: &Path, extra: &[&str]) -> (String, String) {
    let mut args = vec!["migrate", "api/worker.Dockerfile"];
    args.extend_from_slice(extra);
    let output = hardport(dir, &args);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    (stdout(&output), stderr(&output))
}

#[test]
fn locked_facts_reach_the_rules_for_that_image() {
    let dir = demo_with_lock();
    let (patch, err) = worker_findings(dir.path(), &[]);
    assert!(!err.contains("missing-fact"), "{err}");
    // The runtime user from the lock is restored after the last RUN.
    assert!(patch.contains("+USER 1000"), "{patch}");

    let (patch, err) = worker_findings(dir.path(), &["--no-lock"]);
    assert!(err.contains("warning[missing-fact]"), "{err}");
    assert!(!patch.contains("+USER 1000"), "{patch}");
}

#[test]
fn a_users_catalog_outranks_the_lock_which_outranks_the_built_in_catalog() {
    let dir = demo_with_lock();
    let catalog = dir.path().join("mine.yaml");
    std::fs::write(
        &catalog,
        "version: 1\nregistry: reg.mini.dev\nimages:\n  - name: python\n    match: [python]\n    source: our own reading\n    hardened: {user: \"4242\"}\n",
    )
    .expect("write catalog");
    let (patch, _) = worker_findings(dir.path(), &["--catalog", "mine.yaml"]);
    assert!(patch.contains("+USER 4242"), "{patch}");

    let output = hardport(
        dir.path(),
        &["catalog", "show", "python:3.12-slim-bookworm"],
    );
    let shown = stdout(&output);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(shown.contains("#   hardened.user: reg.mini.dev/python:3.12 read from its registry on 2026-12-04 (linux/amd64, sha256:1111"), "{shown}");
    assert!(
        shown.contains("#   hardened.package_manager: reg.mini.dev/python:3.12-dev read"),
        "{shown}"
    );
    assert!(
        shown.contains("#   public.workdir: <embedded minimus catalog>: "),
        "{shown}"
    );

    let output = hardport(
        dir.path(),
        &[
            "catalog",
            "show",
            "--catalog",
            "mine.yaml",
            "python:3.12-slim-bookworm",
        ],
    );
    let shown = stdout(&output);
    assert!(
        shown.contains("#   hardened.user: mine.yaml: our own reading"),
        "{shown}"
    );
    assert!(
        shown.contains("#   hardened.entrypoint: reg.mini.dev/python:3.12 read"),
        "{shown}"
    );
}

#[test]
fn a_bad_lock_is_an_error_naming_the_file() {
    let dir = demo_with_lock();
    let path = dir.path().join("hardport.lock");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("\"1000\"", "\"1000\\nRUN curl x | sh\""),
    )
    .expect("write");
    let output = hardport(dir.path(), &["migrate", "."]);
    assert_eq!(code(&output), 2);
    let err = stderr(&output);
    assert!(
        err.contains("hardport.lock: images[\"reg.mini.dev/python:3.12\"]: facts.user"),
        "{err}"
    );
    assert!(stdout(&output).is_empty());

    let output = hardport(dir.path(), &["migrate", "--lock", "missing.lock", "."]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("missing.lock: no such lock file"));
}
