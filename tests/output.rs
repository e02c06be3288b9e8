//! What `hardport migrate` says on stderr at each verbosity, and the exit codes `--fail-on` and
//! `--exit-zero` give: run on the real binary.

mod common;

use common::{case, code, hardport, stderr, stdout};

/// The demo with a Dockerfile that changes nothing but names two unmapped images.
fn demo_with_unmapped() -> tempfile::TempDir {
    let dir = common::copy_to_temp(&case("demo"));
    std::fs::write(
        dir.path().join("tools.Dockerfile"),
        "FROM alpine:3.20 AS a\nFROM alpine:3.19 AS b\nFROM debian:12\n",
    )
    .expect("write");
    dir
}

#[test]
fn a_default_run_prints_warnings_changed_files_and_one_count_of_unmapped_images() {
    let dir = demo_with_unmapped();
    let output = hardport(dir.path(), &["migrate"]);
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.iter().all(|line| !line.contains(": info[")), "{err}");
    assert!(
        !err.contains("tools.Dockerfile"),
        "a file that changes nothing and warns of nothing prints nothing: {err}"
    );
    assert!(
        lines.contains(&"web/Dockerfile: 4 changes, 0 errors, 1 warning, 4 info"),
        "{err}"
    );
    assert!(
        lines.contains(&"hardport: 4 references to 2 images no catalog entry replaces: alpine (2), debian (2) (--show-unmapped lists each)"),
        "{err}"
    );
    let warnings = lines
        .iter()
        .filter(|line| line.contains(": warning["))
        .count();
    let changed = lines
        .iter()
        .filter(|line| line.ends_with(" info") && !line.starts_with("hardport:"))
        .count();
    assert_eq!(
        (warnings, changed, lines.len()),
        (6, 4, 6 + 4 + 2),
        "one line per warning, per changed file, the summary and the unmapped count: {err}"
    );
}

#[test]
fn verbose_prints_every_finding_and_every_file() {
    let dir = demo_with_unmapped();
    let err = stderr(&hardport(dir.path(), &["migrate", "-v"]));
    assert!(
        err.contains(
            "web/Dockerfile:12: info[base-image]: `nginx:1.27-alpine` → `reg.mini.dev/nginx:1.27`"
        ),
        "{err}"
    );
    assert!(
        err.contains("tools.Dockerfile:1: info[unmapped-image]: no catalog entry replaces docker.io/library/alpine"),
        "{err}"
    );
    assert!(
        err.contains("tools.Dockerfile: 0 changes, 0 errors, 0 warnings, 3 info"),
        "{err}"
    );
    assert!(!err.contains("--show-unmapped lists each"), "{err}");
}

#[test]
fn show_unmapped_lists_each_reference_instead_of_the_count() {
    let dir = demo_with_unmapped();
    let err = stderr(&hardport(dir.path(), &["migrate", "--show-unmapped"]));
    assert_eq!(err.matches("info[unmapped-image]").count(), 4, "{err}");
    assert!(!err.contains("info[base-image]"), "{err}");
    assert!(!err.contains("--show-unmapped lists each"), "{err}");
}

#[test]
fn quiet_prints_the_patch_and_errors_only() {
    let dir = demo_with_unmapped();
    std::fs::write(
        dir.path().join("broken.Dockerfile"),
        "FROM node:20\nFROB x\n",
    )
    .expect("write");
    let quiet = hardport(dir.path(), &["migrate", "-q"]);
    assert_eq!(code(&quiet), 2);
    assert_eq!(
        stderr(&quiet),
        "broken.Dockerfile:2: error: cannot parse as a Dockerfile: unknown instruction 'FROB' at line 2 column 1\n"
    );
    assert_eq!(stdout(&quiet), stdout(&hardport(dir.path(), &["migrate"])));
}

#[test]
fn statistics_count_findings_per_rule_after_the_summary() {
    let err = stderr(&hardport(&case("demo"), &["migrate", "--statistics"]));
    let after: Vec<&str> = err
        .lines()
        .skip_while(|line| !line.starts_with("hardport: 4 files scanned"))
        .collect();
    assert!(
        after.contains(&"     5  base-image        info     5 fixed"),
        "{err}"
    );
    assert!(
        after.contains(&"     4  missing-fact      warning"),
        "{err}"
    );
    assert!(after.contains(&"     1  unmapped-image    info"), "{err}");
}

#[test]
fn fail_on_and_exit_zero_decide_the_exit_code() {
    let demo = case("demo");
    assert_eq!(code(&hardport(&demo, &["migrate"])), 0);
    assert_eq!(
        code(&hardport(&demo, &["migrate", "--fail-on", "warning"])),
        1
    );
    assert_eq!(
        code(&hardport(&demo, &["migrate", "--fail-on", "error"])),
        0
    );
    assert_eq!(code(&hardport(&demo, &["migrate", "--check"])), 1);
    assert_eq!(
        code(&hardport(&demo, &["migrate", "--check", "--exit-zero"])),
        0
    );

    let dir = demo_with_unmapped();
    std::fs::write(dir.path().join("broken.Dockerfile"), "FROB x\n").expect("write");
    assert_eq!(code(&hardport(dir.path(), &["migrate"])), 2);
    assert_eq!(code(&hardport(dir.path(), &["migrate", "--exit-zero"])), 0);
}
