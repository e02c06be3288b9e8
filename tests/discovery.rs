//! Which files `hardport migrate` takes, run on the real binary: Renovate's Dockerfile names,
//! their look-alikes left out, templates skipped with an info line (exit 0), vendored trees
//! skipped unless `--include-vendored`. `testdata/discovery/` holds one of each. Compose files,
//! manifests, kustomizations and workflows are found in `testdata/compose-and-ci/` and
//! `testdata/kubernetes/`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{case, code, hardport, report_files, stderr, stdout};

/// The files a JSON report lists, with whether each was skipped.
fn reported_files(dir: &Path, args: &[&str]) -> Vec<(String, bool)> {
    report_files(dir, args)
        .iter()
        .map(|file| {
            let path = file["path"].as_str().expect("path").to_owned();
            (path, !file["skipped"].is_null())
        })
        .collect()
}

/// The files a JSON report lists, with the kind each was taken as.
fn reported_kinds(dir: &Path, args: &[&str]) -> BTreeMap<String, String> {
    report_files(dir, args)
        .iter()
        .map(|file| {
            let path = file["path"].as_str().expect("path").to_owned();
            (path, file["kind"].as_str().expect("kind").to_owned())
        })
        .collect()
}

#[test]
fn the_walk_takes_renovates_names_and_skips_templates_look_alikes_and_vendored_trees() {
    let files = reported_files(&case("discovery"), &[]);
    let expected = [
        (".devcontainer/Dockerfile", false),
        ("Dockerfile.template", true),
        ("api/Dockerfile-dev", false),
        ("charts/db/values.yaml", false),
        ("ci/Containerfile-ci", false),
        ("gen/Dockerfile", true),
        ("svc/Dockerfile.prod", false),
        ("worker/dockerfile", false),
    ];
    let expected: Vec<(String, bool)> = expected
        .iter()
        .map(|(path, skipped)| ((*path).to_owned(), *skipped))
        .collect();
    // Left out: build/ (.gitignore), docs/Dockerfile.md, svc/Dockerfile.prod.dockerignore,
    // Dockerfile/README.txt (in a directory named Dockerfile), the root values.yaml (no chart),
    // and the vendored trees.
    assert_eq!(files, expected);
}

#[test]
fn include_vendored_walks_vendor_node_modules_and_third_party() {
    let files = reported_files(&case("discovery"), &["--include-vendored"]);
    let paths: Vec<&str> = files.iter().map(|(path, _)| path.as_str()).collect();
    for vendored in [
        "third_party/lib/Dockerfile",
        "vendor/github.com/acme/tool/Dockerfile",
        "web/node_modules/pkg/Dockerfile",
    ] {
        assert!(paths.contains(&vendored), "{vendored} in {paths:?}");
    }
    assert_eq!(paths.len(), 11);

    let named = reported_files(&case("discovery"), &["vendor"]);
    assert_eq!(
        named,
        [("vendor/github.com/acme/tool/Dockerfile".to_owned(), false)],
        "a vendored tree named on the command line is walked"
    );
}

#[test]
fn a_template_is_skipped_with_an_info_line_and_exit_0_also_when_named() {
    let dir = case("discovery");
    for args in [
        &["migrate", "-v", "Dockerfile.template"][..],
        &[
            "migrate",
            "-v",
            "--check",
            "Dockerfile.template",
            "gen/Dockerfile",
        ],
        &["migrate", "-v", "--write", "Dockerfile.template"],
    ] {
        let output = hardport(&dir, args);
        assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
        assert!(stdout(&output).is_empty(), "{args:?}");
        let err = stderr(&output);
        assert!(
            err.contains("Dockerfile.template: info: skipped: the name ends in `.template`"),
            "{err}"
        );
        assert!(err.contains(", 0 failed, "), "{err}");
    }
    let output = hardport(&dir, &["migrate", "-v", "gen/Dockerfile"]);
    let err = stderr(&output);
    assert!(
        err.starts_with(
            "gen/Dockerfile:1: info: skipped: the placeholder `{{ .BaseImage }}` in a `FROM` line"
        ),
        "{err}"
    );
    assert!(
        err.ends_with(
            "hardport: 1 file scanned, 0 would change (0 changes), 0 failed, 1 skipped; findings: 0 errors, 0 warnings, 0 info\n"
        ),
        "{err}"
    );
    // Without `-v` the summary alone counts it.
    let output = hardport(&dir, &["migrate", "gen/Dockerfile"]);
    assert_eq!(
        stderr(&output),
        "hardport: 1 file scanned, 0 would change (0 changes), 0 failed, 1 skipped; findings: 0 errors, 0 warnings, 0 info\n"
    );
}

#[test]
fn a_template_that_does_not_parse_is_skipped_and_a_dockerfile_that_does_not_parse_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    // docker-library's jq templates start with a `{{ def … }}` block.
    let jq =
        "{{\n  def is_alpine: env.variant | startswith(\"alpine\");\n}}\nFROM {{ env.from }}\n";
    std::fs::write(dir.path().join("Dockerfile-linux"), jq).expect("write");
    // Jinja: the placeholders are in the lines that do not parse, not in FROM.
    let jinja = "FROM python:3.12\n{% if dev %}\nRUN pip install pytest\n{% endif %}\n";
    std::fs::write(dir.path().join("Dockerfile_jinja"), jinja).expect("write");
    let output = hardport(dir.path(), &["migrate", "-v"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains(
            "Dockerfile-linux:4: info: skipped: the placeholder `{{ env.from }}` in a `FROM` line"
        ),
        "{err}"
    );
    assert!(
        err.contains("Dockerfile_jinja:2: info: skipped: the placeholder `{% if dev %}` in the line that does not parse"),
        "{err}"
    );

    // A real Dockerfile that uses `{{` in a RUN and fails to parse elsewhere is an error.
    let broken = "FROM node:20\nRUN docker inspect -f '{{.Id}}' x\nBOGUS instruction\n";
    std::fs::write(dir.path().join("Dockerfile"), broken).expect("write");
    let output = hardport(dir.path(), &["migrate", "Dockerfile"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Dockerfile:3: error: cannot parse"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn skipped_files_are_in_the_markdown_and_sarif_reports() {
    let dir = case("discovery");
    let output = hardport(&dir, &["migrate", "--format", "markdown"]);
    assert_eq!(code(&output), 0);
    let body = stdout(&output);
    assert!(body.contains(", 2 skipped. Findings:"), "{body}");
    assert!(
        body.contains("#### Info (3)"),
        "two skipped files and one finding: {body}"
    );
    assert!(
        body.contains("- [ ] `Dockerfile.template` was skipped: the name ends in `.template`:"),
        "{body}"
    );
    assert!(
        body.contains("- [ ] `gen/Dockerfile:1` was skipped: the placeholder `{{ .BaseImage }}`"),
        "{body}"
    );

    let output = hardport(&dir, &["migrate", "--format", "sarif"]);
    assert_eq!(code(&output), 0);
    let log: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    let notes = invocation["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|note| note["level"] == "note"));
    let location = &notes[1]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "gen/Dockerfile");
    assert_eq!(location["region"]["startLine"], 1);
}

#[test]
fn include_vendored_is_in_the_help_the_man_page_and_the_readme() {
    let help = stdout(&hardport(Path::new("."), &["migrate", "--help"]));
    assert!(help.contains("--include-vendored"), "{help}");
    assert!(help.contains("node_modules"), "{help}");
    let pages = tempfile::tempdir().expect("tempdir");
    let dir = pages.path().to_str().expect("UTF-8 path");
    assert_eq!(code(&hardport(Path::new("."), &["man", "--dir", dir])), 0);
    let man = std::fs::read_to_string(pages.path().join("hardport-migrate.1")).expect("page");
    assert!(man.contains("include\\-vendored"), "{man}");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    assert!(readme.contains("| `--include-vendored` |"), "options table");
}

#[test]
fn a_file_named_in_a_git_directory_is_refused_unread_and_left_alone() {
    // A worktree's `.git` file, or a file inside `.git`, named on the command line: hardport
    // never writes there, so it does not read it either (found by the `tree` fuzz target).
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(".git"), "FROM node:20\n").expect("write");
    let output = hardport(dir.path(), &["migrate", "--write", ".", ".git"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(".git: error: it lies in a `.git` directory"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".git")).expect("read"),
        "FROM node:20\n"
    );
}

#[test]
fn a_walk_finds_each_yaml_kind_and_says_nothing_of_yaml_that_is_none() {
    let compose = reported_kinds(&case("compose-and-ci"), &[]);
    assert_eq!(compose[".github/workflows/ci.yml"], "workflow");
    assert_eq!(compose["self-hosted/docker-compose.yml"], "compose");
    assert_eq!(compose["nginx-golang-postgres/compose.yaml"], "compose");
    let kubernetes = reported_kinds(&case("kubernetes"), &[]);
    assert_eq!(kubernetes["examples/mysql.yaml"], "manifest");
    assert_eq!(
        kubernetes["overlays/prod/kustomization.yaml"],
        "kustomization"
    );
    assert_eq!(
        kubernetes["charts/fluent-bit/values.yaml"], "helm-values",
        "values with `kind:` at the top beside a Chart.yaml stay values"
    );
    assert!(
        !kubernetes.contains_key("docs/mkdocs.yml"),
        "YAML that is no manifest is not a file of hardport's: {kubernetes:?}"
    );
    assert!(
        !kubernetes.keys().any(|path| path.ends_with("Chart.yaml")),
        "{kubernetes:?}"
    );
    // Named, a YAML file that is no manifest is read as Helm values, as before.
    let named = reported_kinds(
        &case("kubernetes"),
        &["docs/mkdocs.yml", "examples/mysql.yaml"],
    );
    assert_eq!(named["docs/mkdocs.yml"], "helm-values");
    assert_eq!(named["examples/mysql.yaml"], "manifest");
}

#[test]
fn a_workflow_is_one_also_when_the_run_starts_in_its_directory() {
    let workflows = case("compose-and-ci").join(".github/workflows");
    assert_eq!(reported_kinds(&workflows, &[])["ci.yml"], "workflow");
    assert_eq!(
        reported_kinds(&workflows, &["ci.yml"])["ci.yml"],
        "workflow"
    );
}

#[test]
fn a_walk_from_the_forge_directory_finds_its_workflows() {
    let github = case("compose-and-ci").join(".github");
    assert_eq!(reported_kinds(&github, &[])["workflows/ci.yml"], "workflow");
}
