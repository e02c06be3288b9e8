//! End-to-end tests of image facts from image configs: `hardport spec import`, catalog
//! `config:` fields and `hardport catalog check`, running the real binary on the sample configs
//! in `tests/fixtures/oci/`.

mod common;

use std::path::{Path, PathBuf};

use common::{code, hardport, stderr, stdout};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oci")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

const DOCKERFILE: &str = "FROM node:20\nCOPY server.js .\nCMD [\"node\", \"server.js\"]\n";

#[test]
fn imported_entries_pass_catalog_check_and_their_facts_drive_the_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).expect("write");

    let import = hardport(
        dir.path(),
        &[
            "spec",
            "import",
            &format!("reg.mini.dev/node:20={}", fixture("nonroot-65532.json")),
        ],
    );
    assert_eq!(code(&import), 0, "{}", stderr(&import));
    let entries = stdout(&import);
    assert!(entries.contains("- name: node\n"), "{entries}");
    assert!(
        entries.contains("hardened: OCI image config ") && entries.contains("(sha256:"),
        "{entries}"
    );
    let catalog = dir.path().join("imported.yaml");
    std::fs::write(
        &catalog,
        format!("version: 1\nregistry: reg.mini.dev\nimages:\n{entries}"),
    )
    .expect("write");

    let check = hardport(dir.path(), &["catalog", "check", "imported.yaml"]);
    assert_eq!(code(&check), 0, "{}", stderr(&check));
    assert_eq!(stdout(&check), "imported.yaml: ok (1 entry)\n");

    let show = hardport(
        dir.path(),
        &["catalog", "show", "node", "--catalog", "imported.yaml"],
    );
    let shown = stdout(&show);
    assert!(shown.contains("user: '65532'"), "{shown}");
    assert!(shown.contains("exposed_ports:\n  - 53/udp\n"), "{shown}");

    // The replacement's entrypoint the migration names is the one the config states.
    let embedded = stderr(&hardport(dir.path(), &["migrate", "-v"]));
    let imported = stderr(&hardport(
        dir.path(),
        &["migrate", "-v", "--catalog", "imported.yaml"],
    ));
    assert!(
        imported.contains("its entrypoint [\"/usr/bin/app\"]"),
        "{imported}"
    );
    assert!(!embedded.contains("/usr/bin/app"), "{embedded}");
}

#[test]
fn spec_import_reads_docker_inspect_output_for_the_public_side() {
    let dir = tempfile::tempdir().expect("tempdir");
    let import = hardport(
        dir.path(),
        &[
            "spec",
            "import",
            "--side",
            "public",
            &format!("nginx:1.27={}", fixture("nginx-docker-inspect.json")),
        ],
    );
    assert_eq!(code(&import), 0, "{}", stderr(&import));
    let entries = stdout(&import);
    assert!(
        entries.contains("public: `docker inspect` output "),
        "{entries}"
    );
    assert!(
        entries
            .contains("  public:\n    user: '0'\n    entrypoint:\n    - /docker-entrypoint.sh\n"),
        "{entries}"
    );
    assert!(
        entries.contains("    exposed_ports:\n    - 80/tcp\n"),
        "{entries}"
    );
    assert!(!entries.contains("Healthcheck"), "{entries}");
}

#[test]
fn configs_hardport_cannot_read_exit_2_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, expected) in [
        ("invalid.json", "invalid.json:7:3: trailing comma"),
        (
            "missing-rootfs.json",
            "missing-rootfs.json:8:1: missing field `rootfs`",
        ),
        (
            "wrong-type.json",
            "wrong-type.json:6:27: `config.Cmd`: invalid type: string",
        ),
        (
            "wrong-shape.json",
            "wrong-shape.json: not an OCI image config",
        ),
        ("absent.json", "absent.json: cannot read the image config"),
    ] {
        let output = hardport(
            dir.path(),
            &[
                "spec",
                "import",
                &format!("r.example.com/a={}", fixture(name)),
            ],
        );
        assert_eq!(code(&output), 2, "{name}");
        assert!(stdout(&output).is_empty(), "{name}: {}", stdout(&output));
        let err = stderr(&output);
        assert!(
            err.starts_with("hardport: error: ") && err.contains(&fixtures().display().to_string()),
            "{name}: {err}"
        );
        assert!(err.contains(expected), "{name}: {err}");
    }
}

#[test]
fn spec_import_arguments_without_a_config_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = hardport(dir.path(), &["spec", "import", "node.json"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("IMAGE=CONFIG"),
        "{}",
        stderr(&output)
    );
    let none = hardport(dir.path(), &["spec", "import"]);
    assert_eq!(code(&none), 2);
}

#[test]
fn catalog_check_reports_every_error_and_exits_2() {
    let dir = fixtures();
    let output = hardport(
        &dir,
        &["catalog", "check", "catalog.yaml", "catalog-errors.yaml"],
    );
    assert_eq!(code(&output), 2);
    assert_eq!(stdout(&output), "catalog.yaml: ok (1 entry)\n");
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 5, "{err}");
    for line in &lines {
        assert!(line.starts_with("catalog-errors.yaml: images["), "{line}");
    }
    assert!(
        lines[3].contains("hardened.config: ") && lines[3].contains("invalid.json:7:3"),
        "{}",
        lines[3]
    );

    let fine = hardport(
        &dir,
        &[
            "catalog",
            "check",
            "catalog.yaml",
            "../../../src/catalog/minimus.yaml",
        ],
    );
    assert_eq!(code(&fine), 0, "{}", stderr(&fine));
    let out = stdout(&fine);
    assert!(out.starts_with("catalog.yaml: ok (1 entry)\n"), "{out}");
    assert!(out.contains("minimus.yaml: ok ("), "{out}");

    let missing = hardport(&dir, &["catalog", "check", "no-such-catalog.yaml"]);
    assert_eq!(code(&missing), 2);
    assert!(
        stderr(&missing).starts_with("no-such-catalog.yaml: cannot read the catalog"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_catalog_config_field_loads_its_facts_and_show_prints_them() {
    // Run from another directory: the config paths are relative to the catalog file.
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = fixture("catalog.yaml");
    let output = hardport(
        dir.path(),
        &["catalog", "show", "example/app", "--catalog", &catalog],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let shown = stdout(&output);
    for expected in [
        "hardened:\n  user: '65532'\n  group: '65532'\n",
        "  workdir: /srv\n",
        "  exposed_ports:\n  - 53/udp\n  - 443/tcp\n",
        "  env:\n    APP_OPTS: --listen=:8080 --tls-port=8443\n",
        "public: OCI image config node-crane-config.json (sha256:",
        &format!("  config: {}\n", fixture("nonroot-65532.json")),
    ] {
        assert!(shown.contains(expected), "{expected}\n---\n{shown}");
    }
}

#[test]
fn a_catalog_whose_config_cannot_be_read_stops_the_run_naming_both_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).expect("write");
    std::fs::copy(
        fixtures().join("invalid.json"),
        dir.path().join("config.json"),
    )
    .expect("copy");
    std::fs::write(
        dir.path().join("catalog.yaml"),
        "version: 1\nregistry: r.example.com\nimages:\n  - {name: node, match: [node], source: s, hardened: {config: config.json}}\n",
    )
    .expect("write");
    let output = hardport(dir.path(), &["migrate", "--catalog", "catalog.yaml"]);
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output).lines().next(),
        Some(
            "hardport: error: catalog.yaml: images[0] (name: \"node\"): hardened.config: config.json:7:3: trailing comma"
        )
    );
}
