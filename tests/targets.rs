//! The built-in targets (`--target minimus|chainguard|dhi`) through the real binary: each one
//! migrates the demo repository to a patch `git apply` takes, `--registry` places the images of
//! targets whose catalog names no registry, and the chainguard and dhi runs on the demo are
//! snapshotted (`tests/snapshots/targets__*.snap`).

mod common;

use std::path::Path;

use common::{case, code, copy_to_temp, git, hardport, read_tree, stderr, stdout};

/// Every built-in target with the `--registry` its catalog needs (none for minimus).
const TARGETS: [(&str, Option<&str>); 3] = [
    ("minimus", None),
    ("chainguard", Some("cgr.dev/acme")),
    ("dhi", Some("registry.example.com/dhi")),
];

fn target_args<'a>(target: &'a str, registry: Option<&'a str>) -> Vec<&'a str> {
    let mut args = vec!["--target", target];
    if let Some(registry) = registry {
        args.extend(["--registry", registry]);
    }
    args
}

fn migrate(
    dir: &Path,
    target: &str,
    registry: Option<&str>,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["migrate"];
    args.extend(target_args(target, registry));
    args.extend(extra);
    hardport(dir, &args)
}

#[test]
fn every_target_migrates_the_demo_to_a_patch_git_applies_and_a_second_run_is_a_no_op() {
    for (target, registry) in TARGETS {
        let dir = copy_to_temp(&case("demo"));
        git(dir.path(), &["init", "--quiet"]);
        let before = read_tree(dir.path());
        let output = migrate(dir.path(), target, registry, &[]);
        assert_eq!(code(&output), 0, "{target}: {}", stderr(&output));
        let patch = stdout(&output);
        assert!(patch.starts_with("diff --git "), "{target}: {patch}");
        std::fs::write(dir.path().join(".hardport.patch"), &patch).expect("write patch");
        git(dir.path(), &["apply", ".hardport.patch"]);
        std::fs::remove_file(dir.path().join(".hardport.patch")).expect("rm patch");
        assert_ne!(
            read_tree(dir.path()),
            before,
            "{target}: the patch changed nothing"
        );

        let again = migrate(dir.path(), target, registry, &["--check", "--diff"]);
        assert_eq!(
            code(&again),
            0,
            "{target}: second run wants changes:\n{}",
            stdout(&again)
        );
    }
}

#[test]
fn chainguard_rewrites_to_the_registry_given() {
    let output = migrate(&case("demo"), "chainguard", Some("cgr.dev/acme"), &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let patch = stdout(&output);
    for line in [
        "+FROM cgr.dev/acme/node:${NODE_VERSION}-dev AS build\n",
        "+FROM cgr.dev/acme/nginx:1.27\n",
        "+ARG GO_IMAGE=cgr.dev/acme/go:1.22-dev\n",
        "+FROM cgr.dev/acme/chainguard-base:latest\n",
        "+  repository: cgr.dev/acme/nginx\n",
    ] {
        assert!(patch.contains(line), "missing {line:?} in\n{patch}");
    }
    let added: Vec<&str> = patch
        .lines()
        .filter(|line| line.starts_with('+') && !line.starts_with("+++"))
        .collect();
    assert!(
        added.iter().all(|line| !line.contains("reg.mini.dev")),
        "{patch}"
    );

    let other = migrate(&case("demo"), "chainguard", Some("cgr.dev/other-org"), &[]);
    let other_patch = stdout(&other);
    assert!(
        other_patch.contains("+FROM cgr.dev/other-org/nginx:1.27\n"),
        "{other_patch}"
    );
    assert!(!other_patch.contains("cgr.dev/acme"), "{other_patch}");
}

#[test]
fn a_target_without_a_registry_needs_one() {
    for (target, advice) in [
        ("chainguard", "--registry cgr.dev/ORG"),
        ("dhi", "--registry HOST[/PATH]"),
    ] {
        let output = migrate(&case("demo"), target, None, &[]);
        assert_eq!(code(&output), 2, "{target}");
        assert!(stdout(&output).is_empty(), "{target}");
        let err = stderr(&output);
        assert!(
            err.contains(&format!("<embedded {target} catalog>")),
            "{err}"
        );
        assert!(err.contains(advice), "{err}");
    }
}

#[test]
fn an_unknown_target_is_a_usage_error_naming_the_valid_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["migrate", "--target", "wolfi"][..],
        &["catalog", "list", "--target", "wolfi"][..],
    ] {
        let output = hardport(dir.path(), args);
        assert_eq!(code(&output), 2, "{args:?}");
        let err = stderr(&output);
        assert!(err.contains("wolfi"), "{err}");
        for name in ["minimus", "chainguard", "dhi"] {
            assert!(err.contains(name), "{err}");
        }
    }
}

#[test]
fn catalog_targets_lists_every_target_with_its_registry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = hardport(dir.path(), &["catalog", "targets"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let row = |name: &str| {
        text.lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{text}"))
            .to_owned()
    };
    assert!(row("minimus").contains("reg.mini.dev"), "{text}");
    assert!(row("minimus").contains("(default)"), "{text}");
    assert!(
        row("chainguard").contains("--registry cgr.dev/ORG"),
        "{text}"
    );
    assert!(row("dhi").contains("--registry HOST[/PATH]"), "{text}");
}

#[test]
fn catalog_list_and_show_take_a_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = hardport(
        dir.path(),
        &[
            "catalog",
            "list",
            "--target",
            "chainguard",
            "--registry",
            "cgr.dev/acme",
        ],
    );
    assert_eq!(code(&list), 0, "{}", stderr(&list));
    let text = stdout(&list);
    let go_row = text
        .lines()
        .find(|line| line.starts_with("go "))
        .unwrap_or_else(|| panic!("no go row in\n{text}"));
    assert!(go_row.contains("docker.io/library/golang"), "{go_row}");
    assert!(go_row.contains("cgr.dev/acme/go"), "{go_row}");
    assert!(go_row.contains("<embedded chainguard catalog>"), "{go_row}");
    assert!(!text.contains("reg.mini.dev"), "{text}");

    let show = hardport(
        dir.path(),
        &[
            "catalog",
            "show",
            "nginx:1.27",
            "--target",
            "dhi",
            "--registry",
            "r.example.com",
        ],
    );
    assert_eq!(code(&show), 0, "{}", stderr(&show));
    let entry: serde_yaml_ng::Value = serde_yaml_ng::from_str(&stdout(&show)).expect("YAML");
    assert_eq!(entry["replacement"].as_str(), Some("r.example.com/nginx"));
    assert_eq!(entry["origin"].as_str(), Some("<embedded dhi catalog>"));
    assert_eq!(entry["hardened"]["user"].as_str(), Some("65532"));
    assert!(
        entry["source"]
            .as_str()
            .is_some_and(|source| source.contains("hardened-image-facts.md")),
        "{entry:?}"
    );
}

#[test]
fn user_catalogs_layer_over_a_target_and_no_default_catalog_drops_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM node:20\nFROM python:3.12\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("catalog.yaml"),
        "version: 1\nimages:\n  - {name: node, match: [node], replacement: mirror.example.com/cg/node, source: test}\n",
    )
    .expect("write");
    let layered = migrate(
        dir.path(),
        "chainguard",
        Some("cgr.dev/acme"),
        &["Dockerfile", "--catalog", "catalog.yaml"],
    );
    assert_eq!(code(&layered), 0, "{}", stderr(&layered));
    let patch = stdout(&layered);
    assert!(
        patch.contains("+FROM mirror.example.com/cg/node:20\n"),
        "{patch}"
    );
    assert!(
        patch.contains("+FROM cgr.dev/acme/python:3.12\n"),
        "{patch}"
    );

    let alone = hardport(
        dir.path(),
        &[
            "migrate",
            "Dockerfile",
            "--target",
            "chainguard",
            "--no-default-catalog",
            "--catalog",
            "catalog.yaml",
        ],
    );
    assert_eq!(
        code(&alone),
        0,
        "no --registry needed without the built-in catalog: {}",
        stderr(&alone)
    );
    let patch = stdout(&alone);
    assert!(
        patch.contains("+FROM mirror.example.com/cg/node:20\n"),
        "{patch}"
    );
    assert!(!patch.contains("-FROM python:3.12"), "{patch}");
}

#[test]
fn the_json_report_names_the_targets_catalog() {
    let output = migrate(
        &case("demo"),
        "dhi",
        Some("registry.example.com/dhi"),
        &["--format", "json"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(
        report["catalogs"],
        serde_json::json!(["<embedded dhi catalog>"])
    );
}

#[test]
fn chainguard_and_dhi_runs_on_the_demo_match_their_snapshots() {
    for (target, registry) in TARGETS
        .into_iter()
        .filter(|(target, _)| *target != "minimus")
    {
        let output = migrate(&case("demo"), target, registry, &["-v"]);
        let rendered = format!(
            "exit: {}\n--- stdout (patch)\n{}--- stderr\n{}",
            code(&output),
            stdout(&output),
            stderr(&output)
        );
        insta::assert_snapshot!(format!("{target}-demo"), rendered);
    }
}
