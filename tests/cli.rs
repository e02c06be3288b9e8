//! End-to-end tests of the `hardport` binary: the patch applies with `git apply`, `--write`
//! gives the same tree, a second run changes nothing, and the exit codes hold their contract.

mod common;

use std::path::Path;

use common::{
    case, cases, code, copy_to_temp, git, hardport, migrate_args, read_tree, stderr, stdout,
};

/// Cases whose files all parse (the `unparsable` case exits 2 by design).
fn parsable_cases() -> Vec<std::path::PathBuf> {
    cases()
        .into_iter()
        .filter(|case| !case.ends_with("unparsable"))
        .collect()
}

#[test]
fn the_patch_applies_with_git_and_equals_write_and_a_second_run_is_a_no_op() {
    for case in parsable_cases() {
        let applied = copy_to_temp(&case);
        git(applied.path(), &["init", "--quiet"]);
        let dry = hardport(applied.path(), &migrate_args(&case, &[]));
        assert_eq!(code(&dry), 0, "{}: {}", case.display(), stderr(&dry));
        let patch = stdout(&dry);
        let before = read_tree(applied.path());
        std::fs::write(applied.path().join(".hardport.patch"), &patch).expect("write patch");
        if !patch.is_empty() {
            git(applied.path(), &["apply", ".hardport.patch"]);
        }
        std::fs::remove_file(applied.path().join(".hardport.patch")).expect("rm patch");

        let written = copy_to_temp(&case);
        let write = hardport(written.path(), &migrate_args(&case, &["--write"]));
        assert_eq!(code(&write), 0, "{}: {}", case.display(), stderr(&write));
        assert!(stdout(&write).is_empty(), "--write prints no patch");
        assert_eq!(
            read_tree(applied.path()),
            read_tree(written.path()),
            "{}: git apply and --write disagree",
            case.display()
        );
        assert_eq!(patch.is_empty(), before == read_tree(written.path()));

        let again = hardport(written.path(), &migrate_args(&case, &["--check", "--diff"]));
        assert_eq!(
            code(&again),
            0,
            "{}: second run wants changes:\n{}",
            case.display(),
            stdout(&again)
        );
        assert!(stdout(&again).is_empty());
    }
}

#[test]
fn check_exits_1_when_changes_are_pending_and_prints_nothing_without_diff() {
    let demo = case("demo");
    let check = hardport(&demo, &["migrate", "--check"]);
    assert_eq!(code(&check), 1);
    assert!(stdout(&check).is_empty());
    let with_diff = hardport(&demo, &["migrate", "--check", "--diff"]);
    assert_eq!(code(&with_diff), 1);
    assert_eq!(stdout(&with_diff), stdout(&hardport(&demo, &["migrate"])));
}

#[test]
fn findings_and_summary_go_to_stderr_in_path_line_form() {
    let output = hardport(&case("demo"), &["migrate"]);
    let err = stderr(&output);
    assert!(
        err.contains("api/worker.Dockerfile:1: warning[digest-dropped]: "),
        "{err}"
    );
    assert!(
        err.contains("web/Dockerfile: 4 changes, 0 errors, 1 warning, 4 info"),
        "{err}"
    );
    let summary = err
        .lines()
        .find(|line| line.starts_with("hardport: "))
        .expect("summary line");
    assert!(
        summary.starts_with("hardport: 4 files scanned, 4 would change"),
        "{summary}"
    );
    assert!(
        !stdout(&output).contains("hardport:"),
        "stdout carries only the patch"
    );
}

#[test]
fn a_file_that_cannot_be_parsed_is_named_left_untouched_and_the_rest_still_migrate() {
    let dir = copy_to_temp(&case("unparsable"));
    let bad_before = std::fs::read(dir.path().join("Dockerfile")).expect("read");
    let output = hardport(dir.path(), &["migrate", "--write"]);
    assert_eq!(code(&output), 2);
    let err = stderr(&output);
    assert!(
        err.contains("Dockerfile:2: error: cannot parse as a Dockerfile"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("Dockerfile")).expect("read"),
        bad_before
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("good.Dockerfile")).expect("read"),
        "FROM reg.mini.dev/node:20\n"
    );

    let dry = hardport(dir.path(), &["migrate"]);
    assert_eq!(code(&dry), 2, "a bad file fails the dry run too");
}

#[test]
fn non_utf8_and_missing_paths_are_per_file_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), b"FROM node:20\n\xff\xfe\n").expect("write");
    std::fs::write(dir.path().join("ok.Dockerfile"), "FROM node:20\n").expect("write");
    let output = hardport(dir.path(), &["migrate", ".", "missing-dir"]);
    assert_eq!(code(&output), 2);
    let err = stderr(&output);
    assert!(err.contains("Dockerfile:2: error: not UTF-8"), "{err}");
    assert!(err.contains("missing-dir: error:"), "{err}");
    assert!(stdout(&output).contains("+FROM reg.mini.dev/node:20"));
}

#[test]
fn explicit_files_are_processed_whatever_their_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("base.image"), "FROM nginx:1.27\n").expect("write");
    let output = hardport(dir.path(), &["migrate", "base.image"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).starts_with("diff --git a/base.image b/base.image\n"));
}

#[test]
fn json_report_is_one_versioned_object() {
    let output = hardport(&case("demo"), &["migrate", "--format", "json"]);
    assert_eq!(code(&output), 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["tool"]["name"], "hardport");
    assert_eq!(report["mode"], "dry-run");
    assert_eq!(report["summary"]["files_scanned"], 4);
    assert_eq!(report["summary"]["files_changed"], 4);
    let files = report["files"].as_array().expect("files");
    let web = files
        .iter()
        .find(|file| file["path"] == "web/Dockerfile")
        .expect("web/Dockerfile");
    assert_eq!(web["kind"], "dockerfile");
    assert_eq!(web["changed"], true);
    assert!(
        web["patch"]
            .as_str()
            .expect("patch")
            .starts_with("diff --git")
    );
    assert_eq!(web["findings"][0]["rule"], "base-image");
    assert_eq!(web["findings"][0]["fixed"], true);
    let values = files
        .iter()
        .find(|file| file["path"] == "charts/web/values.yaml")
        .expect("values.yaml is discovered");
    assert_eq!(values["kind"], "helm-values");
}

#[test]
fn write_keeps_mode_bits() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "FROM node:20\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let output = hardport(dir.path(), &["migrate", "--write"]);
        assert_eq!(code(&output), 0);
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        assert!(stderr(&output).contains("1 changed"), "{}", stderr(&output));
    }
}

fn write_catalog(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("catalog.yaml");
    std::fs::write(&path, text).expect("write catalog");
    path
}

#[test]
fn user_catalogs_and_registry_override_change_the_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM node:20\nFROM example/app:1\n",
    )
    .expect("write");
    write_catalog(
        dir.path(),
        "version: 1\nregistry: mirror.example.com\nimages:\n  - {name: app, match: [example/app], source: test}\n",
    );
    let output = hardport(
        dir.path(),
        &[
            "migrate",
            "Dockerfile",
            "--catalog",
            "catalog.yaml",
            "--registry",
            "cr.example.org/acme",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let patch = stdout(&output);
    assert!(
        patch.contains("+FROM cr.example.org/acme/node:20\n"),
        "{patch}"
    );
    assert!(
        patch.contains("+FROM cr.example.org/acme/app:1\n"),
        "{patch}"
    );

    let only_user = hardport(
        dir.path(),
        &[
            "migrate",
            "Dockerfile",
            "--catalog",
            "catalog.yaml",
            "--no-default-catalog",
        ],
    );
    let patch = stdout(&only_user);
    assert!(!patch.contains("-FROM node:20"), "{patch}");
    assert!(
        patch.contains("+FROM mirror.example.com/app:1\n"),
        "{patch}"
    );
}

#[test]
fn a_bad_catalog_exits_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), "FROM node:20\n").expect("write");
    write_catalog(
        dir.path(),
        "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], sorce: x}\n",
    );
    let output = hardport(dir.path(), &["migrate", "--catalog", "catalog.yaml"]);
    assert_eq!(code(&output), 2);
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    assert!(err.contains("catalog.yaml:4"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        code(&hardport(dir.path(), &["migrate", "--write", "--check"])),
        2
    );
    assert_eq!(code(&hardport(dir.path(), &["migrate", "--diff"])), 2);
    assert_eq!(
        code(&hardport(dir.path(), &["migrate", "--no-default-catalog"])),
        2
    );
    assert_eq!(
        code(&hardport(
            dir.path(),
            &["migrate", "--registry", "https://x.io"]
        )),
        2
    );
    assert_eq!(code(&hardport(dir.path(), &["frobnicate"])), 2);
}

#[test]
fn catalog_list_and_show_print_mappings_with_their_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = hardport(dir.path(), &["catalog", "list"]);
    assert_eq!(code(&list), 0);
    let text = stdout(&list);
    let node_row = text
        .lines()
        .find(|line| line.starts_with("node "))
        .expect("node row");
    assert!(node_row.contains("docker.io/library/node"), "{node_row}");
    assert!(node_row.contains("reg.mini.dev/node"), "{node_row}");
    assert!(
        node_row.contains("<embedded minimus catalog>"),
        "{node_row}"
    );

    let show = hardport(dir.path(), &["catalog", "show", "node:20-alpine"]);
    assert_eq!(code(&show), 0);
    let entry: serde_yaml_ng::Value = serde_yaml_ng::from_str(&stdout(&show)).expect("YAML");
    assert_eq!(entry["name"].as_str(), Some("node"));
    assert_eq!(
        entry["hardened"]["entrypoint"][0].as_str(),
        Some("/usr/bin/node")
    );
    assert!(
        entry["source"]
            .as_str()
            .is_some_and(|source| !source.is_empty())
    );

    let missing = hardport(dir.path(), &["catalog", "show", "no-such-image"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("no-such-image"));
}

#[test]
fn paths_with_spaces_produce_a_patch_git_applies() {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "--quiet"]);
    let sub = dir.path().join("my service");
    std::fs::create_dir(&sub).expect("mkdir");
    std::fs::write(sub.join("Dockerfile"), "FROM redis:7.2-alpine\n").expect("write");
    let output = hardport(dir.path(), &["migrate"]);
    std::fs::write(dir.path().join("fix.patch"), stdout(&output)).expect("patch");
    git(dir.path(), &["apply", "fix.patch"]);
    assert_eq!(
        std::fs::read_to_string(sub.join("Dockerfile")).expect("read"),
        "FROM reg.mini.dev/redis:7.2\n"
    );
}

/// A lone `\r` does not end a line for `git apply` (a fuzz finding, docs/fuzzing.md): the patch
/// of files holding one, mid-file and as the last byte, applies and equals `--write`.
#[test]
fn a_lone_carriage_return_gives_a_patch_git_applies() {
    let files = [
        ("mid/Dockerfile", "# a\rb\nFROM redis:7.2-alpine\n"),
        ("end/Dockerfile", "FROM redis:7.2-alpine\r"),
    ];
    let applied = tempfile::tempdir().expect("tempdir");
    let written = tempfile::tempdir().expect("tempdir");
    for dir in [applied.path(), written.path()] {
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
    }
    git(applied.path(), &["init", "--quiet"]);
    let output = hardport(applied.path(), &["migrate"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    std::fs::write(applied.path().join("fix.patch"), stdout(&output)).expect("patch");
    git(applied.path(), &["apply", "fix.patch"]);
    std::fs::remove_file(applied.path().join("fix.patch")).expect("rm patch");
    let write = hardport(written.path(), &["migrate", "--write"]);
    assert_eq!(code(&write), 0, "{}", stderr(&write));
    let tree = read_tree(written.path());
    assert_eq!(read_tree(applied.path()), tree);
    assert_eq!(
        std::fs::read_to_string(written.path().join("end/Dockerfile")).expect("read"),
        "FROM reg.mini.dev/redis:7.2\r"
    );
}

#[test]
fn json_report_works_with_check_and_write() {
    let check = hardport(&case("demo"), &["migrate", "--check", "--format", "json"]);
    assert_eq!(code(&check), 1);
    let report: serde_json::Value = serde_json::from_str(&stdout(&check)).expect("valid JSON");
    assert_eq!(report["mode"], "check");
    assert_eq!(report["summary"]["files_changed"], 4);

    let dir = copy_to_temp(&case("demo"));
    let write = hardport(dir.path(), &["migrate", "--write", "--format", "json"]);
    assert_eq!(code(&write), 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&write)).expect("valid JSON");
    assert_eq!(report["mode"], "write");
    let again = hardport(dir.path(), &["migrate", "--check"]);
    assert_eq!(code(&again), 0, "--write --format json wrote the changes");
}

/// Snapshots show CRLF as LF, so the line endings of the `helm-create` case are checked on the
/// bytes `--write` leaves: the CRLF chart gains only CRLF lines, and the file without a final
/// newline still ends without one.
#[test]
fn helm_values_keep_crlf_and_a_missing_final_newline() {
    let helm_create = case("helm-create");
    let dir = copy_to_temp(&helm_create);
    let write = hardport(dir.path(), &migrate_args(&helm_create, &["--write"]));
    assert_eq!(code(&write), 0, "{}", stderr(&write));
    let read = |path: &str| std::fs::read(dir.path().join(path)).expect("read");
    let original = |path: &str| std::fs::read(helm_create.join(path)).expect("read");

    let crlf = "charts/shop/values.yaml";
    let written = read(crlf);
    assert_ne!(written, original(crlf), "{crlf} was migrated");
    let line_feeds = written.iter().filter(|&&byte| byte == b'\n').count();
    let crlfs = written.windows(2).filter(|pair| pair == b"\r\n").count();
    assert_eq!(line_feeds, crlfs, "every line of {crlf} still ends in CRLF");
    assert!(
        String::from_utf8(written)
            .expect("UTF-8")
            .contains("  fsGroup: 1000\r\n")
    );

    let no_eol = "charts/web-no-eol/values.yaml";
    let written = read(no_eol);
    assert_ne!(written, original(no_eol), "{no_eol} was migrated");
    assert!(!original(no_eol).ends_with(b"\n"));
    assert!(
        !written.ends_with(b"\n"),
        "{no_eol} still has no final newline"
    );
}

#[test]
fn a_file_already_on_the_replacement_fails_check_when_it_cannot_start() {
    // Lint mode: `CMD ["node", "server.js"]` on Minimus node runs `node node server.js`.
    let lint = case("lint-mode");
    let check = hardport(&lint, &["migrate", "--check", "--diff"]);
    assert_eq!(code(&check), 1, "{}", stderr(&check));
    assert!(
        stdout(&check).contains("-CMD [\"node\", \"server.js\"]\n+CMD [\"server.js\"]\n"),
        "{}",
        stdout(&check)
    );
}

/// `hardport migrate ARGS` in `dir` with `input` on stdin.
fn with_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hardport"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("hardport runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    child.wait_with_output().expect("output")
}

#[test]
fn stdin_is_migrated_as_the_file_it_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = "FROM node:20\nRUN npm ci\n";
    let patch = with_stdin(
        dir.path(),
        &["migrate", "--stdin-filename", "web/Dockerfile"],
        input,
    );
    assert_eq!(code(&patch), 0, "{}", stderr(&patch));
    assert!(stdout(&patch).starts_with("diff --git a/web/Dockerfile b/web/Dockerfile\n"));
    assert!(
        stderr(&patch).contains("web/Dockerfile: "),
        "{}",
        stderr(&patch)
    );
    assert!(
        !dir.path().join("web").exists(),
        "nothing is written to disk"
    );

    let text = with_stdin(
        dir.path(),
        &["migrate", "--write", "--stdin-filename", "web/Dockerfile"],
        input,
    );
    assert_eq!(
        stdout(&text),
        "FROM reg.mini.dev/node:20-dev\nUSER root\nRUN npm ci\nUSER 1000\n",
        "{}",
        stderr(&text)
    );
    let unchanged = with_stdin(
        dir.path(),
        &["migrate", "--write", "--stdin-filename", "Dockerfile"],
        "FROM scratch\n",
    );
    assert_eq!(stdout(&unchanged), "FROM scratch\n");

    let check = with_stdin(
        dir.path(),
        &["migrate", "--check", "--stdin-filename", "Dockerfile"],
        input,
    );
    assert_eq!(code(&check), 1);
    assert!(stdout(&check).is_empty());
    let broken = with_stdin(
        dir.path(),
        &["migrate", "--write", "--stdin-filename", "Dockerfile"],
        "FROB x\n",
    );
    assert_eq!(code(&broken), 2);
    assert_eq!(stdout(&broken), "FROB x\n", "an editor keeps its buffer");
    assert!(
        stderr(&broken).contains("Dockerfile:1: error: cannot parse"),
        "{}",
        stderr(&broken)
    );
}
