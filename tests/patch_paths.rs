//! The patch applies where it is made: README's one-liner, `hardport migrate > fix.patch &&
//! git apply fix.patch`, run by a real shell with the real `git`, patches the files from the
//! root of a repository, from a subdirectory of it and from outside any repository; names
//! that are not UTF-8 survive into the patch; a file `git apply` would skip or refuse from
//! here is named on stderr with how to apply it; a file no patch can name is skipped, loudly.
//!
//! Every run here has `GIT_CEILING_DIRECTORIES` at the temporary directory's parent, so
//! neither git nor hardport takes a repository around the temporary directory for its own.

#![cfg(unix)]

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{code, stderr};

/// The public image every test migrates, and what `--write` makes of it.
const BEFORE: &str = "FROM redis:7.2-alpine\n";
const AFTER: &str = "FROM reg.mini.dev/redis:7.2\n";

/// A fresh temporary directory, symbolic links resolved (macOS's `/tmp` is one).
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = std::fs::canonicalize(dir.path()).expect("canonical");
    (dir, path)
}

/// A command in `dir` that sees no repository above `scratch`.
fn command(program: impl AsRef<OsStr>, dir: &Path, scratch: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GIT_CEILING_DIRECTORIES", scratch.parent().expect("parent"))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    command
}

/// `sh -c SCRIPT` in `dir`, with `$HARDPORT` the binary under test and `$@` = `args`.
fn shell(dir: &Path, scratch: &Path, script: &str, args: &[&OsStr]) -> Output {
    command("sh", dir, scratch)
        .env("HARDPORT", env!("CARGO_BIN_EXE_hardport"))
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(args)
        .output()
        .expect("sh runs")
}

/// README's one-liner, in `dir`, migrating `args` (the current directory when empty).
fn one_liner(dir: &Path, scratch: &Path, args: &[&OsStr]) -> Output {
    let script = r#""$HARDPORT" migrate "$@" > fix.patch && git apply fix.patch"#;
    shell(dir, scratch, script, args)
}

fn git_init(dir: &Path, scratch: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let output = command("git", dir, scratch)
        .args(["init", "--quiet"])
        .output()
        .expect("git runs");
    assert!(output.status.success(), "{}", stderr(&output));
}

fn put(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, BEFORE).expect("write");
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

/// The one-liner ran cleanly and the patch it wrote was not empty.
fn assert_applied(output: &Output, dir: &Path, what: &str) {
    assert_eq!(code(output), 0, "{what}: {}", stderr(output));
    let patch = std::fs::read(dir.join("fix.patch")).expect("patch");
    assert!(!patch.is_empty(), "{what}: empty patch");
    std::fs::remove_file(dir.join("fix.patch")).expect("rm patch");
}

#[test]
fn the_one_liner_patches_from_the_root_a_subdirectory_and_outside_the_repository() {
    let (_keep, scratch) = scratch();
    let repo = scratch.join("repo");
    git_init(&repo, &scratch);
    let dockerfile = repo.join("sub/dir/Dockerfile");
    let places: [(&str, PathBuf, &[&OsStr]); 4] = [
        ("a subdirectory", repo.join("sub"), &[]),
        ("a deeper subdirectory", repo.join("sub/dir"), &[]),
        ("the repository's root", repo.clone(), &[]),
        (
            "outside any repository",
            scratch.clone(),
            &["repo".as_ref()],
        ),
    ];
    for (what, dir, args) in places {
        put(&dockerfile);
        let output = one_liner(&dir, &scratch, args);
        assert_applied(&output, &dir, what);
        assert_eq!(text(&dockerfile), AFTER, "{what}: git apply left the file");
        assert!(
            !stderr(&output).contains("note:"),
            "{what}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_directory_named_with_a_byte_that_is_not_utf8_is_patched() {
    let (_keep, scratch) = scratch();
    let repo = scratch.join("repo");
    git_init(&repo, &scratch);
    let dockerfile = repo.join(OsStr::from_bytes(b"\xff")).join("Dockerfile");
    put(&dockerfile);
    let output = one_liner(&repo, &scratch, &[]);
    let patch = std::fs::read(repo.join("fix.patch")).expect("patch");
    assert!(
        patch.starts_with(b"diff --git \"a/\\377/Dockerfile\" \"b/\\377/Dockerfile\"\n"),
        "{}",
        String::from_utf8_lossy(&patch)
    );
    assert_applied(&output, &repo, "0xff");
    assert_eq!(text(&dockerfile), AFTER);
}

#[test]
fn a_dockerfile_whose_own_name_is_not_utf8_is_found_and_patched() {
    let (_keep, scratch) = scratch();
    let repo = scratch.join("repo");
    git_init(&repo, &scratch);
    let named = repo.join(OsStr::from_bytes(b"caf\xe9.Dockerfile"));
    let odd = repo.join("odd").join(OsStr::from_bytes(b"Dockerfile.\xff"));
    put(&named);
    put(&odd);
    let output = one_liner(&repo, &scratch, &[]);
    assert_applied(&output, &repo, "names");
    assert_eq!(text(&named), AFTER);
    assert_eq!(text(&odd), AFTER);
}

#[test]
fn a_file_reached_through_a_symbolic_link_is_patched_at_its_target() {
    let (_keep, scratch) = scratch();
    let repo = scratch.join("repo");
    git_init(&repo, &scratch);
    let dockerfile = repo.join("real/Dockerfile");
    put(&dockerfile);
    std::os::unix::fs::symlink("real", repo.join("link")).expect("symlink");
    let output = one_liner(&repo, &scratch, &["link".as_ref()]);
    assert_applied(&output, &repo, "link");
    assert_eq!(text(&dockerfile), AFTER);
    assert!(repo.join("link").is_symlink());
}

/// From a subdirectory, `git apply` skips files outside it without a word: the run says so and
/// names the root to apply from, and that advice works.
#[test]
fn files_outside_the_current_directory_come_with_where_to_apply_the_patch() {
    let (_keep, scratch) = scratch();
    let repo = scratch.join("repo");
    git_init(&repo, &scratch);
    let other = repo.join("other/Dockerfile");
    put(&other);
    let sub = repo.join("a/b");
    std::fs::create_dir_all(&sub).expect("mkdir");

    let run = shell(
        &sub,
        &scratch,
        r#""$HARDPORT" migrate ../../other > fix.patch"#,
        &[],
    );
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let note = stderr(&run);
    assert!(
        note.contains(
            "hardport: note: 1 changed file lies outside the current directory, and `git apply` run here skips such files"
        ),
        "{note}"
    );
    assert!(note.contains("`git -C ../.. apply < PATCH`"), "{note}");
    let plain = shell(&sub, &scratch, "git apply fix.patch", &[]);
    assert_eq!(code(&plain), 0, "{}", stderr(&plain));
    assert_eq!(
        text(&other),
        BEFORE,
        "git apply here skips the file, as the note says"
    );
    let advised = shell(&sub, &scratch, "git -C ../.. apply < fix.patch", &[]);
    assert_eq!(code(&advised), 0, "{}", stderr(&advised));
    assert_eq!(text(&other), AFTER);
}

/// A file outside the directory the paths start from gets a `..` path, which `git apply`
/// refuses loudly; the run says to add `--unsafe-paths`, and that works.
#[test]
fn files_outside_the_base_come_with_the_option_that_applies_them() {
    let (_keep, scratch) = scratch();
    let elsewhere = scratch.join("elsewhere/Dockerfile");
    put(&elsewhere);
    let here = scratch.join("here");
    std::fs::create_dir_all(&here).expect("mkdir");

    let refused = one_liner(&here, &scratch, &["../elsewhere".as_ref()]);
    assert_ne!(code(&refused), 0, "git apply refuses a path with `..`");
    let note = stderr(&refused);
    assert!(
        note.contains("hardport: note: 1 changed file lies outside the current directory, so the patch names it with a leading `..`"),
        "{note}"
    );
    assert!(note.contains("`git apply --unsafe-paths`"), "{note}");
    assert_eq!(text(&elsewhere), BEFORE);
    let advised = shell(&here, &scratch, "git apply --unsafe-paths fix.patch", &[]);
    assert_eq!(code(&advised), 0, "{}", stderr(&advised));
    assert_eq!(text(&elsewhere), AFTER);
}

/// With no current directory to start from, an absolute path cannot be written in the patch:
/// the file is reported skipped and left alone, not patched at a wrong path.
#[test]
fn a_file_no_patch_can_name_is_reported_skipped() {
    let (_keep, scratch) = scratch();
    let dockerfile = scratch.join("app/Dockerfile");
    put(&dockerfile);
    let gone = scratch.join("gone");
    std::fs::create_dir_all(&gone).expect("mkdir");
    for extra in [&[][..], &["--write"]] {
        let script = r#"cd gone && rmdir ../gone && exec "$HARDPORT" migrate "$@""#;
        let mut args: Vec<&OsStr> = vec![dockerfile.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        let output = shell(&scratch, &scratch, script, &args);
        assert_eq!(code(&output), 0, "{extra:?}: {}", stderr(&output));
        assert!(output.stdout.is_empty(), "{extra:?}: a patch was printed");
        assert!(
            stderr(&output).contains(
                "info: skipped: the current directory cannot be read, so the patch cannot name this file"
            ),
            "{extra:?}: {}",
            stderr(&output)
        );
        assert_eq!(text(&dockerfile), BEFORE, "{extra:?}");
        std::fs::create_dir_all(&gone).expect("mkdir");
    }
}
