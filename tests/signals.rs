//! Ctrl-C during `--write`: the real binary on a tree large enough to be caught mid-run, sent
//! SIGINT (or SIGTERM then SIGINT) once it has written its first file. Whatever the timing,
//! every file must be whole, as it was or fully migrated, and no temporary file may be left.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{code, hardport, stderr};

/// Enough files that the run, flushing each write to disk, is still going when the signal
/// arrives (each write waits for two fsyncs); few enough to stay quick when it is not.
const FILES: usize = 400;

const ORIGINAL: &str = "FROM node:20\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n";

/// The tree, `f0000/Dockerfile` … in the order hardport processes them (sorted by path).
fn tree() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<PathBuf> = (0..FILES)
        .map(|index| {
            let path = dir.path().join(format!("f{index:04}/Dockerfile"));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, ORIGINAL).expect("write");
            path
        })
        .collect();
    (dir, files)
}

/// What hardport makes of [`ORIGINAL`], from an uninterrupted run on one file.
fn migrated() -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), ORIGINAL).expect("write");
    let output = hardport(dir.path(), &["migrate", "--write"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read");
    assert_ne!(text, ORIGINAL);
    text
}

fn spawn_write(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hardport"))
        .args(["migrate", "--write"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hardport runs")
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -s {signal} failed");
}

/// Waits until the first file has been written, so the signal lands in the middle of the run.
fn wait_for_first_write(first: &Path, migrated: &str) {
    let started = Instant::now();
    while std::fs::read_to_string(first).ok().as_deref() != Some(migrated) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the first file was never written"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Every file is the original or the migrated text, never anything else; returns how many are
/// migrated. No `.hardport-*` temporary file is left beside them.
fn assert_whole(dir: &Path, files: &[PathBuf], migrated: &str) -> usize {
    let mut changed = 0;
    for path in files {
        let text = std::fs::read_to_string(path).expect("read");
        if text == migrated {
            changed += 1;
        } else {
            assert_eq!(text, ORIGINAL, "{} is neither old nor new", path.display());
        }
        for entry in std::fs::read_dir(path.parent().expect("parent")).expect("read_dir") {
            let name = entry.expect("entry").file_name();
            assert_eq!(name, "Dockerfile", "left beside {}", path.display());
        }
    }
    let top: Vec<_> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|entry| entry.expect("entry").file_name())
        .filter(|name| !name.to_string_lossy().starts_with('f'))
        .collect();
    assert!(top.is_empty(), "unexpected files: {top:?}");
    changed
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("hardport exits")
}

#[test]
fn sigint_stops_between_files_each_whole_and_no_temporary_file_left() {
    let migrated = migrated();
    let (dir, files) = tree();
    let child = spawn_write(dir.path());
    wait_for_first_write(&files[0], &migrated);
    send(&child, "INT");
    let output = finish(child);
    let err = String::from_utf8_lossy(&output.stderr);

    let changed = assert_whole(dir.path(), &files, &migrated);
    match code(&output) {
        130 => {
            assert!(
                err.contains("hardport: interrupted; stopping after the current file"),
                "{err}"
            );
            let stopped = format!("hardport: interrupted after {changed} of {FILES} files");
            assert!(err.contains(&stopped), "{err}");
            // The summary counts exactly the files written: the run stopped between files.
            let noun = if changed == 1 { "file" } else { "files" };
            assert!(
                err.contains(&format!("{changed} {noun} scanned, {changed} changed")),
                "{err}"
            );
            assert!(changed < FILES, "stopped before the end");
            // Files are processed in path order: the written ones are the first ones.
            for (index, path) in files.iter().enumerate() {
                let text = std::fs::read_to_string(path).expect("read");
                assert_eq!(text == migrated, index < changed, "{}", path.display());
            }
        }
        0 => {
            eprintln!("note: the run finished before the signal arrived; checked the files only");
            assert_eq!(changed, FILES);
        }
        other => panic!("exit code {other}: {err}"),
    }
}

#[test]
fn a_second_signal_stops_at_once_still_leaving_every_file_whole() {
    let migrated = migrated();
    let (dir, files) = tree();
    let child = spawn_write(dir.path());
    wait_for_first_write(&files[0], &migrated);
    send(&child, "TERM");
    send(&child, "INT");
    let output = finish(child);

    let changed = assert_whole(dir.path(), &files, &migrated);
    assert!(changed >= 1);
    let status = code(&output);
    assert!(
        status == 130 || (status == 0 && changed == FILES),
        "exit code {status}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_first_sigterm_stops_a_run_whose_output_is_blocked() {
    // A dry run's patch goes to a pipe nobody reads: once the pipe's buffer is full, the run
    // waits on it for ever, between two files, where the first signal alone used to be lost.
    let (dir, _files) = tree();
    let capture = tempfile::tempdir().expect("tempdir");
    let err_path = capture.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hardport"))
        .args(["migrate"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("hardport runs");
    // The patch of 400 files is far more than a pipe holds: wait until the run is stuck on it.
    let started = Instant::now();
    while !std::fs::read_to_string(&err_path).is_ok_and(|err| err.contains("f0001/Dockerfile")) {
        assert!(started.elapsed() < Duration::from_secs(120), "no file done");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    send(&child, "TERM");
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    let err = std::fs::read_to_string(&err_path).expect("stderr");
    assert!(
        err.contains("hardport: interrupted; stopping after the current file"),
        "{err}"
    );
}
