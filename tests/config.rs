//! `hardport.toml`: found from the first path up, its settings applied, overridden by the
//! command line, and a mistake in it stops the run with its path and line. Run on the binary.

mod common;

use std::path::Path;

use common::{code, hardport, stderr, stdout};

/// A repository with `hardport.toml` holding `config`, two Dockerfiles and a legacy one.
fn repo(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let put = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    put("hardport.toml", config);
    put("web/Dockerfile", "FROM node:20\nRUN npm ci\n");
    put(
        "api/Dockerfile",
        "FROM python:3.12@sha256:0123456789012345678901234567890123456789012345678901234567890123\n",
    );
    put("legacy/Dockerfile", "FROM nginx:1.27\n");
    dir
}

fn patched(dir: &Path, args: &[&str]) -> Vec<String> {
    let output = hardport(dir, args);
    assert!(matches!(code(&output), 0 | 1), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .filter_map(|line| line.strip_prefix("+++ b/"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn exclude_leaves_files_out_unless_named_and_force_exclude_leaves_them_out_anyway() {
    let dir = repo("exclude = [\"legacy/\"]\n");
    assert_eq!(
        patched(dir.path(), &["migrate"]),
        ["api/Dockerfile", "web/Dockerfile"]
    );
    assert_eq!(
        patched(dir.path(), &["migrate", "legacy/Dockerfile"]),
        ["legacy/Dockerfile"],
        "a file named on the command line is migrated"
    );
    assert!(
        patched(
            dir.path(),
            &["migrate", "--force-exclude", "legacy/Dockerfile"]
        )
        .is_empty()
    );
    assert_eq!(
        patched(dir.path(), &["migrate", "legacy"]),
        ["legacy/Dockerfile"],
        "a named directory that is excluded is walked"
    );
    assert!(patched(dir.path(), &["migrate", "--force-exclude", "legacy"]).is_empty());
    assert_eq!(
        patched(dir.path(), &["migrate", "--extend-exclude", "api/"]),
        ["web/Dockerfile"]
    );
    assert_eq!(
        patched(dir.path(), &["migrate", "--isolated"]),
        ["api/Dockerfile", "legacy/Dockerfile", "web/Dockerfile"],
        "--isolated reads no configuration"
    );
}

#[test]
fn an_ignored_rule_neither_reports_nor_fixes() {
    let dir = repo("ignore = [\"digest-dropped\", \"user-root\"]\n");
    let output = hardport(dir.path(), &["migrate", "-v"]);
    let (patch, err) = (stdout(&output), stderr(&output));
    assert!(!err.contains("[digest-dropped]"), "{err}");
    assert!(!patch.contains("USER root"), "{patch}");
    assert!(err.contains("[dev-variant]"), "{err}");

    let everything = hardport(dir.path(), &["migrate", "-v", "--isolated"]);
    assert!(stderr(&everything).contains("[digest-dropped]"));
    assert!(stdout(&everything).contains("+USER root"));

    // The command line's `--select` replaces the file's; per-file ignores apply per file.
    let dir = repo("[per-file-ignores]\n\"web/\" = [\"dev-variant\"]\n");
    let output = hardport(dir.path(), &["migrate", "-v"]);
    let err = stderr(&output);
    assert!(
        !err.contains("web/Dockerfile:1: info[dev-variant]"),
        "{err}"
    );
    let only = hardport(dir.path(), &["migrate", "-v", "--select", "base-image"]);
    let err = stderr(&only);
    assert!(err.contains("info[base-image]"), "{err}");
    assert!(
        !err.contains("[digest-dropped]") && !err.contains("[dev-variant]"),
        "{err}"
    );
}

#[test]
fn catalogs_target_and_fail_on_come_from_the_file_and_the_command_line_wins() {
    let dir = repo("catalogs = [\"ci/extra.yaml\"]\nfail-on = \"warning\"\n");
    std::fs::create_dir_all(dir.path().join("ci")).expect("mkdir");
    std::fs::write(
        dir.path().join("ci/extra.yaml"),
        "version: 1\nimages:\n  - name: legacy-nginx\n    match: [nginx]\n    replacement: reg.example.com/hardened/nginx\n    source: \"test: a team's own image\"\n",
    )
    .expect("write");
    let output = hardport(dir.path(), &["migrate", "legacy/Dockerfile"]);
    assert!(
        stdout(&output).contains("+FROM reg.example.com/hardened/nginx:1.27"),
        "{}",
        stderr(&output)
    );
    assert_eq!(code(&output), 0, "no warning: {}", stderr(&output));
    // api/Dockerfile's dropped digest is a warning, which the file's fail-on fails.
    let output = hardport(dir.path(), &["migrate", "api/Dockerfile"]);
    assert_eq!(code(&output), 1, "fail-on warning: {}", stderr(&output));
    let output = hardport(
        dir.path(),
        &["migrate", "--fail-on", "error", "api/Dockerfile"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    // The file is found from the first path up, also from a subdirectory.
    let output = hardport(&dir.path().join("legacy"), &["migrate", "."]);
    assert!(stdout(&output).contains("reg.example.com/hardened/nginx"));
}

#[test]
fn a_mistake_in_the_file_stops_the_run_with_its_path_and_line() {
    let dir = repo("target = \"minimus\"\nignore = [\"digest-droped\"]\n");
    let output = hardport(dir.path(), &["migrate"]);
    assert_eq!(code(&output), 2);
    let err = stderr(&output);
    assert!(
        err.contains("hardport.toml:2: unknown rule `digest-droped`"),
        "{err}"
    );
    assert!(stdout(&output).is_empty());

    let explicit = hardport(dir.path(), &["migrate", "--config", "missing.toml"]);
    assert_eq!(code(&explicit), 2);
    assert!(
        stderr(&explicit).contains("missing.toml"),
        "{}",
        stderr(&explicit)
    );
}

#[test]
fn an_inline_suppression_keeps_its_line_and_an_unused_one_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dockerfile = "# hardport: ignore[base-image] this stage stays on the public image\nFROM nginx:1.27 AS proxy\nFROM node:20\n# hardport: ignore[user-root]\nRUN npm ci\n# hardport: ignore[exec-form]\nCOPY . .\n";
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("write");
    let values = "image: nginx:1.27 # hardport: ignore[helm-image]\nworker:\n  image: redis:7\n";
    std::fs::create_dir_all(dir.path().join("chart")).expect("mkdir");
    std::fs::write(dir.path().join("chart/values.yaml"), values).expect("write");
    std::fs::write(
        dir.path().join("chart/Chart.yaml"),
        "apiVersion: v2\nname: x\nversion: 1.0.0\n",
    )
    .expect("write");
    let output = hardport(dir.path(), &["migrate"]);
    let (patch, err) = (stdout(&output), stderr(&output));
    assert!(!patch.contains("-FROM nginx:1.27 AS proxy"), "{patch}");
    assert!(patch.contains("+FROM reg.mini.dev/node:20-dev"), "{patch}");
    assert!(
        !patch.contains("USER root"),
        "the RUN keeps the replacement's user: {patch}"
    );
    assert!(!patch.contains("-image: nginx:1.27"), "{patch}");
    assert!(patch.contains("+  image: reg.mini.dev/redis:7"), "{patch}");
    assert!(
        err.contains("Dockerfile:6: warning[unused-suppression]: `# hardport: ignore[exec-form]` suppresses nothing: no finding of exec-form on line 7: remove it"),
        "{err}"
    );
    assert_eq!(err.matches("unused-suppression").count(), 1, "{err}");
    // Idempotent: the written result wants no second change.
    let write = hardport(dir.path(), &["migrate", "--write"]);
    assert_eq!(code(&write), 0, "{}", stderr(&write));
    let check = hardport(dir.path(), &["migrate", "--check"]);
    assert_eq!(code(&check), 0, "{}", stderr(&check));
}

#[test]
fn the_pre_commit_entries_check_or_write_only_the_files_they_are_given() {
    let dir = repo("exclude = [\"legacy/\"]\n");
    let check = |files: &[&str]| {
        let mut args = vec!["migrate", "--check", "--force-exclude"];
        args.extend(files);
        code(&hardport(dir.path(), &args))
    };
    assert_eq!(
        check(&["legacy/Dockerfile"]),
        0,
        "an excluded staged file is left out"
    );
    assert_eq!(check(&["web/Dockerfile", "legacy/Dockerfile"]), 1);
    let write = hardport(
        dir.path(),
        &[
            "migrate",
            "--write",
            "--force-exclude",
            "web/Dockerfile",
            "legacy/Dockerfile",
        ],
    );
    assert_eq!(code(&write), 0, "{}", stderr(&write));
    let read = |path: &str| std::fs::read_to_string(dir.path().join(path)).expect("read");
    assert!(read("web/Dockerfile").starts_with("FROM reg.mini.dev/node:20-dev"));
    assert_eq!(read("legacy/Dockerfile"), "FROM nginx:1.27\n");
    assert!(
        read("api/Dockerfile").starts_with("FROM python:3.12@"),
        "not given, not touched"
    );
}

#[test]
fn an_image_kept_public_keeps_everything_that_follows_it() {
    // postgres' entrypoint initialises the database: on the public image it must stay, so a
    // stage kept on it is kept whole, and a rule left out for a file leaves the file alone.
    let dir = tempfile::tempdir().expect("tempdir");
    let dockerfile = "# hardport: ignore[base-image] stays public until the data is migrated\nFROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\nCMD [\"postgres\"]\nFROM node:20\nRUN npm ci\n";
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("write");
    let output = hardport(dir.path(), &["migrate", "-v"]);
    let patch = stdout(&output);
    assert!(!patch.contains("ENTRYPOINT"), "{patch}");
    assert!(!patch.contains("-FROM postgres:16"), "{patch}");
    assert!(patch.contains("+FROM reg.mini.dev/node:20-dev"), "{patch}");
    assert!(
        !stderr(&output).contains("unused-suppression"),
        "{}",
        stderr(&output)
    );

    let ignored = hardport(
        dir.path(),
        &["migrate", "--ignore", "base-image", "Dockerfile"],
    );
    assert!(stdout(&ignored).is_empty(), "{}", stdout(&ignored));
    assert_eq!(code(&ignored), 0);
}

#[test]
fn a_stage_kept_public_gets_none_of_the_user_lines_the_migrated_stages_get() {
    // user-root's lines are one fix per chain of stages: the kept stage's own would switch the
    // public image's container to the replacement's uid.
    let dir = tempfile::tempdir().expect("tempdir");
    let dockerfile = "FROM node:20 AS build\nRUN npm ci\n# hardport: ignore[base-image]\nFROM node:20\nRUN npm ci\nCMD [\"node\", \"app.js\"]\n";
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("write");
    let write = hardport(dir.path(), &["migrate", "--write"]);
    assert_eq!(code(&write), 0, "{}", stderr(&write));
    let text = std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read");
    assert!(
        text.ends_with(
            "# hardport: ignore[base-image]\nFROM node:20\nRUN npm ci\nCMD [\"node\", \"app.js\"]\n"
        ),
        "{text}"
    );
    assert!(text.starts_with("FROM reg.mini.dev/node:20-dev AS build\nUSER root\nRUN npm ci\n"));
    let check = hardport(dir.path(), &["migrate", "--check"]);
    assert_eq!(code(&check), 0, "{}", stderr(&check));
}
