//! Helpers shared by the integration tests: run the real binary, copy and compare trees.

#![allow(dead_code)] // each test crate uses its own subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared corpus of real files (`../shared/corpus`, or `$HARDPORT_CORPUS_DIR`), when present.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HARDPORT_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.join("INDEX.tsv").is_file().then_some(dir)
}

/// The fixture repositories under `testdata/`, sorted by name.
pub fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("testdata exists")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    cases
}

/// A fixture repository's name: its directory's.
pub fn case_name(case: &Path) -> String {
    case.file_name()
        .expect("a case is a directory under testdata/")
        .to_string_lossy()
        .into_owned()
}

/// The file a case keeps its own catalog in, beside its repository files.
pub const CASE_CATALOG: &str = "catalog.yaml";

/// `hardport migrate` with `extra` arguments, plus `--catalog catalog.yaml` when the case
/// directory holds one (run from inside the case directory, or a copy of it).
pub fn migrate_args<'a>(case: &Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["migrate"];
    if case.join(CASE_CATALOG).is_file() {
        args.extend(["--catalog", CASE_CATALOG]);
    }
    args.extend_from_slice(extra);
    args
}

pub fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// Run `hardport ARGS` in `dir`. A fixture under `testdata/` is run as the repository it
/// stands for, not as a subdirectory of hardport's own checkout (when the sources are one):
/// `GIT_CEILING_DIRECTORIES` stops git's search for a work tree, and hardport's
/// (`src/work_tree.rs`), before `testdata/`, so patch paths start at the fixture.
pub fn hardport(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hardport"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GIT_CEILING_DIRECTORIES", testdata())
        .output()
        .expect("hardport runs")
}

/// The fixtures' directory, `testdata/`.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

/// The `files` of the JSON report `hardport migrate --format json ARGS…` prints in `dir`, which
/// must exit 0.
pub fn report_files(dir: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["migrate", "--format", "json"];
    all.extend_from_slice(args);
    let output = hardport(dir, &all);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    report["files"].as_array().expect("files").clone()
}

/// Copy the directory tree `from` into a fresh temporary directory.
pub fn copy_to_temp(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(from, dir.path());
    dir
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Every file below `dir` (except `.git`) with its bytes, keyed by relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    collect(dir, dir, &mut files);
    files
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if entry.file_type().expect("file type").is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("under root").to_path_buf();
            files.insert(relative, std::fs::read(&path).expect("read"));
        }
    }
}

/// Run git in `dir`, asserting success; returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
