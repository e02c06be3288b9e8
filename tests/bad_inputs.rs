//! Bad inputs through the real binary: each is a per-file error naming its path (and line where
//! there is one), is left byte for byte as it was, never stops the other files, and makes the
//! run exit 2. Every run here has a time limit, because a hang is one of the failures tested.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{code, read_tree, stderr, stdout};

/// Longer than any of these runs takes, unoptimised, on a slow machine.
const TIME_LIMIT: Duration = Duration::from_secs(120);

const GOOD: &str = "FROM node:20\n";
const GOOD_MIGRATED: &str = "FROM reg.mini.dev/node:20\n";

/// Run `program args` in `dir`, failing the test if it has not exited within [`TIME_LIMIT`].
fn run_within(dir: &Path, program: &[&str], args: &[&str]) -> Output {
    let capture = tempfile::tempdir().expect("tempdir");
    let out_path = capture.path().join("stdout");
    let err_path = capture.path().join("stderr");
    let mut child = Command::new(program[0])
        .args(&program[1..])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("hardport runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "hardport {args:?} did not finish within {TIME_LIMIT:?}; stderr so far:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).expect("stdout"),
        stderr: std::fs::read(&err_path).expect("stderr"),
    }
}

fn hardport(dir: &Path, args: &[&str]) -> Output {
    run_within(dir, &[env!("CARGO_BIN_EXE_hardport")], args)
}

/// Write `bytes` at `root/relative`, creating the directories.
fn put(root: &Path, relative: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Nine levels of nine aliases: 9^9 (387 million) strings if a parser expanded them.
fn billion_laughs() -> String {
    let mut text = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let refs = vec![format!("*l{}", level - 1); 9].join(", ");
        text.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    text
}

const CHART: &str = "apiVersion: v2\nname: test\nversion: 1.0.0\n";

fn assert_has(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "missing {needle:?} in:\n{haystack}"
    );
}

/// One good Dockerfile, and one of each bad input beside it; returns the huge file's size.
fn bad_inputs(root: &Path) -> usize {
    put(root, "good/Dockerfile", GOOD);
    put(
        root,
        "binary/Dockerfile",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\x01\x02",
    );
    put(root, "nul/Dockerfile", "FROM node:20\nRUN echo \0\n");
    put(root, "latin1/Dockerfile", b"FROM node:20\n# caf\xe9\n");
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(GOOD.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    put(root, "utf16/Dockerfile", utf16);
    put(root, "empty/Dockerfile", "");
    put(
        root,
        "comments/Dockerfile",
        "# syntax=docker/dockerfile:1\n\n# FROM node:20\n",
    );
    let huge = format!("{GOOD}{}", "# padding\n".repeat(840_000));
    let huge_size = huge.len();
    assert!(huge_size > 8 * 1024 * 1024);
    put(root, "huge/Dockerfile", &huge);
    for chart in [
        "empty",
        "comments",
        "deep",
        "deep-flow",
        "laughs",
        "no-image",
    ] {
        put(root, &format!("charts/{chart}/Chart.yaml"), CHART);
    }
    put(root, "charts/empty/values.yaml", "");
    // Broken, but names no image: not even parsed (README, "Performance").
    put(root, "charts/no-image/values.yaml", "replicaCount: [1\n");
    put(
        root,
        "charts/comments/values.yaml",
        "# nothing set\n# yet\n",
    );
    put(
        root,
        "charts/deep/values.yaml",
        format!("image: nginx\nb:\n{}x\n", "- ".repeat(1001)),
    );
    put(
        root,
        "charts/deep-flow/values.yaml",
        format!("image: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    );
    let laughs = format!(
        "{}image:\n  repository: nginx\n  tag: \"1.27\"\n",
        billion_laughs()
    );
    put(root, "charts/laughs/values.yaml", &laughs);
    huge_size
}

#[test]
fn every_bad_input_is_a_per_file_error_and_the_good_files_are_still_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let huge_size = bad_inputs(root);
    let before = read_tree(root);

    let output = hardport(root, &["migrate", "--write", "--verbose", "."]);
    let err = stderr(&output);
    assert_eq!(code(&output), 2, "{err}");
    for line in [
        "binary/Dockerfile:3: error: a NUL byte: binary, not text; left untouched",
        "nul/Dockerfile:2: error: a NUL byte: binary, not text; left untouched",
        "latin1/Dockerfile:2: error: not UTF-8 text; left untouched",
        "utf16/Dockerfile: error: UTF-16 text (it starts with a UTF-16 byte-order mark); hardport reads UTF-8 only; left untouched",
        "empty/Dockerfile: error: cannot parse as a Dockerfile: no instructions (the file is empty)",
        "comments/Dockerfile: error: cannot parse as a Dockerfile: no instructions (only comments and blank lines)",
        &format!(
            "huge/Dockerfile: error: {huge_size} bytes, over the size limit of 8388608 bytes (raise it with --max-file-size); left untouched"
        ),
        "charts/deep/values.yaml:3: error: cannot parse as YAML (Helm values): collections nested more than 1000 levels deep",
        "charts/deep-flow/values.yaml:1: error: cannot parse as YAML (Helm values): ",
        "charts/empty/values.yaml: 0 changes, 0 errors, 0 warnings, 0 info",
        "charts/comments/values.yaml: 0 changes, 0 errors, 0 warnings, 0 info",
        "charts/no-image/values.yaml: 0 changes, 0 errors, 0 warnings, 0 info",
        "hardport: 14 files scanned, 2 changed (",
        ", 9 failed;",
    ] {
        assert_has(&err, line);
    }

    let after = read_tree(root);
    let changed: Vec<&PathBuf> = after
        .iter()
        .filter(|(path, bytes)| before.get(*path) != Some(*bytes))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        changed,
        [
            Path::new("charts/laughs/values.yaml"),
            Path::new("good/Dockerfile")
        ]
    );
    assert_eq!(before.len(), after.len(), "no file added or removed");
    assert_eq!(
        after[Path::new("good/Dockerfile")],
        GOOD_MIGRATED.as_bytes()
    );
    let laughs_after =
        String::from_utf8(after[Path::new("charts/laughs/values.yaml")].clone()).expect("UTF-8");
    assert_has(&laughs_after, "repository: reg.mini.dev/nginx");
    assert!(
        laughs_after.starts_with(&billion_laughs()),
        "the aliases are kept as written:\n{laughs_after}"
    );

    // The dry run fails the same files and patches only the good ones.
    let fresh = tempfile::tempdir().expect("tempdir");
    bad_inputs(fresh.path());
    let dry = hardport(fresh.path(), &["migrate", "."]);
    assert_eq!(code(&dry), 2);
    let patch = stdout(&dry);
    let patched: Vec<&str> = patch
        .lines()
        .filter_map(|line| line.strip_prefix("diff --git a/"))
        .collect();
    assert_eq!(
        patched,
        [
            "charts/laughs/values.yaml b/charts/laughs/values.yaml",
            "good/Dockerfile b/good/Dockerfile"
        ]
    );
}

#[test]
fn a_ten_megabyte_line_is_over_the_default_limit_and_migrates_under_a_raised_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let long = format!("RUN echo {}\n", "x".repeat(10_000_000));
    let path = put(dir.path(), "Dockerfile", format!("{GOOD}{long}"));

    let refused = hardport(dir.path(), &["migrate", "--write"]);
    assert_eq!(code(&refused), 2);
    assert_has(
        &stderr(&refused),
        "Dockerfile: error: 10000023 bytes, over the size limit of 8388608 bytes",
    );

    let raised = hardport(
        dir.path(),
        &["migrate", "--write", "--max-file-size", "16M"],
    );
    assert_eq!(code(&raised), 0, "{}", stderr(&raised));
    let text = std::fs::read_to_string(&path).expect("read");
    // A stage that runs commands gets the -dev variant and keeps running it as root; the long
    // line is kept whole.
    assert!(
        text == format!("FROM reg.mini.dev/node:20-dev\nUSER root\n{long}USER 1000\n"),
        "the long line did not survive whole"
    );

    let bad = hardport(dir.path(), &["migrate", "--max-file-size", "8 MB"]);
    assert_eq!(code(&bad), 2);
    assert_has(&stderr(&bad), "`8 MB` is not a size");
}

#[cfg(unix)]
#[test]
fn a_billion_laughs_values_file_migrates_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    put(dir.path(), "Chart.yaml", CHART);
    // Aliases used where the rules read values: an image and a security context.
    let text = format!(
        "{}image: &image\n  repository: nginx\n  tag: \"1.27\"\nsidecar:\n  image: *image\nextra: *l9\n",
        billion_laughs()
    );
    let path = put(dir.path(), "values.yaml", &text);
    // 256 MiB of address space: far more than the text needs, far less than its expansion.
    let output = run_within(
        dir.path(),
        &[
            "sh",
            "-c",
            "ulimit -v 262144 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_hardport"),
        ],
        &["migrate", "--write", "values.yaml"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let after = std::fs::read_to_string(&path).expect("read");
    assert_has(&after, "  repository: reg.mini.dev/nginx\n");
    assert_has(&after, "sidecar:\n  image: *image\nextra: *l9\n");
    assert!(after.len() < text.len() + 1024, "{after}");
}

/// `n` stages, each built on the one before and setting a working directory and a variable.
fn stage_chain(n: usize) -> String {
    let mut text = String::from("FROM node:20 AS s0\nWORKDIR /a\n");
    for stage in 1..n {
        let parent = stage - 1;
        text.push_str(&format!(
            "FROM s{parent} AS s{stage}\nWORKDIR /a\nENV V{stage}=$V{parent}\n"
        ));
    }
    text
}

/// Run hardport in `dir` with at most 256 MiB of address space.
#[cfg(unix)]
fn hardport_in_256_mib(dir: &Path, args: &[&str]) -> Output {
    run_within(
        dir,
        &[
            "sh",
            "-c",
            "ulimit -v 262144 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_hardport"),
        ],
        args,
    )
}

/// Issue 14 item 3: a file past the per-file work budget costs that file, not the run. The
/// 20 000-stage chain (727 KB) made the process abort (it asked for gigabytes); the `Chart.yaml`
/// of nested brackets ran for many minutes; the values file of nested brackets took 2 GB.
#[cfg(unix)]
#[test]
fn files_past_the_per_file_budget_are_errors_and_the_other_files_are_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    put(root, "good/Dockerfile", GOOD);
    let chain = stage_chain(20_000);
    assert!(chain.len() > 700_000);
    put(root, "chain/Dockerfile", &chain);
    let brackets = format!(
        "{CHART}annotations: {}{}\n",
        "[".repeat(500_000),
        "]".repeat(500_000)
    );
    put(root, "charts/deep/Chart.yaml", &brackets);
    put(
        root,
        "charts/deep/values.yaml",
        "image:\n  repository: nginx\n  tag: \"1.27\"\n",
    );
    let before = read_tree(root);

    let output = hardport_in_256_mib(root, &["migrate", "--write", "."]);
    let err = stderr(&output);
    assert_eq!(code(&output), 2, "{err}");
    // The 5 001st FROM is on line 2 + 3 × 4 999 + 1.
    assert_has(
        &err,
        "chain/Dockerfile:15000: error: cannot parse as a Dockerfile: more than 5000 stages (hardport's per-file limit)",
    );
    assert_has(
        &err,
        "charts/deep/values.yaml:1: warning[chart-metadata]: cannot read the chart's charts/deep/Chart.yaml:4: flow collections nested more than 255 levels deep;",
    );
    assert_has(
        &err,
        "hardport: 3 files scanned, 2 changed (2 changes), 1 failed;",
    );
    let after = read_tree(root);
    assert_eq!(
        after[Path::new("chain/Dockerfile")],
        before[Path::new("chain/Dockerfile")]
    );
    assert_eq!(
        after[Path::new("good/Dockerfile")],
        GOOD_MIGRATED.as_bytes()
    );
    assert_has(
        &String::from_utf8_lossy(&after[Path::new("charts/deep/values.yaml")]),
        "repository: reg.mini.dev/nginx",
    );
}

/// Issue 14 item 3: the paths that were quadratic are linear below the budget. A chain of
/// stages just under the stage limit, each with a `WORKDIR` and an `ENV`, needed about 700 MB
/// (every stage copied its ancestors' state) and now migrates in 256 MiB; a stage of `WORKDIR x`
/// and `RUN` pairs that another stage copies from, on an image whose working directory moves
/// (openjdk: `/` → `/home/build`), was cubic (1 000 pairs took 18 s optimised; these 1 500 would
/// take many minutes unoptimised, past the time limit).
#[cfg(unix)]
#[test]
fn stage_chains_and_working_directory_chains_below_the_budget_cost_linear_time_and_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    put(root, "chain/Dockerfile", stage_chain(4_999));
    let pairs = format!(
        "FROM openjdk:21 AS build\n{}FROM node:20\nCOPY --from=build x /app/x\n",
        "WORKDIR x\nRUN ls /x\n".repeat(1_500)
    );
    put(root, "pairs/Dockerfile", &pairs);

    let output = hardport_in_256_mib(root, &["migrate", "--verbose", "."]);
    let err = stderr(&output);
    assert_eq!(code(&output), 0, "{err}");
    assert_has(&err, "chain/Dockerfile: 1 change,");
    // Every RUN names a directory the stage wrote relative to the working directory.
    assert_has(
        &err,
        "pairs/Dockerfile:3: info[workdir]: RUN names /x, which stage `build` wrote relative to the working directory; on openjdk's replacement it is /home/build/x",
    );
    assert_eq!(err.matches("info[workdir]: RUN names /x,").count(), 1_500);
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_special_files_do_not_stop_the_run() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    put(root, "app/Dockerfile", GOOD);
    symlink("..", root.join("app/up")).expect("symlink");
    symlink("Dockerfile.loop", root.join("Dockerfile.loop")).expect("symlink");
    let fifo = Command::new("mkfifo")
        .arg(root.join("fifo.Dockerfile"))
        .status()
        .expect("mkfifo runs");
    assert!(fifo.success());

    let output = hardport(
        root,
        &[
            "migrate",
            "--write",
            ".",
            "Dockerfile.loop",
            "fifo.Dockerfile",
            "/dev/zero",
        ],
    );
    let err = stderr(&output);
    assert_eq!(code(&output), 2, "{err}");
    assert_has(&err, "Dockerfile.loop: error: ");
    assert_has(
        &err,
        "fifo.Dockerfile: error: not a regular file; left untouched",
    );
    assert_has(&err, "/dev/zero: error: not a regular file; left untouched");
    assert_eq!(
        std::fs::read_to_string(root.join("app/Dockerfile")).expect("read"),
        GOOD_MIGRATED
    );
    // The walk met the loop and the FIFO and went on: only app/Dockerfile was found in it.
    assert_has(&err, "app/Dockerfile: 1 change,");
    assert_eq!(err.matches("app/up").count(), 0, "{err}");
}

#[cfg(unix)]
#[test]
fn a_link_leading_outside_the_paths_given_is_refused_naming_both_paths() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = put(dir.path(), "outside/Dockerfile", GOOD);
    let repo = dir.path().join("repo");
    let inside = put(&repo, "real/app.Dockerfile", GOOD);
    symlink("../outside/Dockerfile", repo.join("Dockerfile")).expect("symlink");
    symlink("real/app.Dockerfile", repo.join("app.Dockerfile")).expect("symlink");

    // Walked, links are not followed: neither link is read.
    let walked = hardport(&repo, &["migrate", "--write", "."]);
    assert_eq!(code(&walked), 0, "{}", stderr(&walked));
    assert_has(&stderr(&walked), "1 file scanned, 1 changed");
    assert_eq!(std::fs::read_to_string(&outside).expect("read"), GOOD);
    std::fs::write(&inside, GOOD).expect("reset");

    // Named, a link inside the paths given is written through; one leading outside is not.
    let named = hardport(
        &repo,
        &["migrate", "--write", "Dockerfile", "app.Dockerfile"],
    );
    let err = stderr(&named);
    assert_eq!(code(&named), 2, "{err}");
    let target = std::fs::canonicalize(&outside).expect("canonical");
    assert_has(
        &err,
        &format!(
            "Dockerfile: error: it leads, through a symbolic link, to {}, outside the paths being migrated; not read",
            target.display()
        ),
    );
    assert_eq!(std::fs::read_to_string(&outside).expect("read"), GOOD);
    assert_eq!(
        std::fs::read_to_string(&inside).expect("read"),
        GOOD_MIGRATED
    );
    assert!(
        std::fs::symlink_metadata(repo.join("app.Dockerfile"))
            .expect("metadata")
            .file_type()
            .is_symlink()
    );
    assert_no_temporary_files(dir.path());
}

#[cfg(unix)]
#[test]
fn a_named_link_leading_outside_is_not_read_in_a_dry_run_either() {
    let dir = tempfile::tempdir().expect("tempdir");
    put(
        dir.path(),
        "secrets/token",
        "FROM node:20 # ghp_SECRET_TOKEN\n",
    );
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir");
    std::os::unix::fs::symlink("../secrets/token", repo.join("Dockerfile")).expect("symlink");
    for format in ["diff", "json", "sarif", "markdown"] {
        let output = hardport(&repo, &["migrate", "--format", format, "Dockerfile"]);
        let (out, err) = (stdout(&output), stderr(&output));
        assert_eq!(code(&output), 2, "{err}");
        assert_has(
            &err,
            "Dockerfile: error: it leads, through a symbolic link, to ",
        );
        for text in [&out, &err] {
            assert!(
                !text.contains("SECRET"),
                "{format}: the link's target was read:\n{text}"
            );
        }
    }
}

/// Make a FIFO at `path`: a file whose `open` for reading waits for a writer.
#[cfg(unix)]
fn fifo(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let made = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
}

#[cfg(target_os = "linux")]
#[test]
fn links_and_special_files_beside_the_inputs_are_never_read() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let values = "image:\n  repository: nginx\n  tag: \"1.25\"\n";
    // A chart whose Chart.yaml is a FIFO (read: a hang), one whose templates are /proc (a walk
    // of gigabytes) and one whose Chart.yaml leads to the kernel log (a hang, as root).
    put(root, "fifo-chart/values.yaml", values);
    fifo(&root.join("fifo-chart/Chart.yaml"));
    put(root, "proc-chart/values.yaml", values);
    put(root, "proc-chart/Chart.yaml", "name: x\n");
    symlink("/proc", root.join("proc-chart/templates")).expect("symlink");
    put(root, "kmsg-chart/values.yaml", values);
    symlink("/proc/kmsg", root.join("kmsg-chart/Chart.yaml")).expect("symlink");
    // Ignore files: a FIFO, and a link to a file that reads as gigabytes without a newline.
    put(root, "fifo-ignore/Dockerfile", GOOD);
    fifo(&root.join("fifo-ignore/.gitignore"));
    put(root, "pagemap-ignore/Dockerfile", GOOD);
    symlink("/proc/self/pagemap", root.join("pagemap-ignore/.ignore")).expect("symlink");
    put(root, "fine/Dockerfile", GOOD);

    // A values file beside a Chart.yaml that is not a regular file is not a chart's, so the
    // walk passes it over; named, it is migrated as values and its chart is looked at.
    let output = hardport(
        root,
        &[
            "migrate",
            ".",
            "fifo-chart/values.yaml",
            "kmsg-chart/values.yaml",
        ],
    );
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(code(&output), 2, "{err}");
    assert_has(
        &err,
        "fifo-ignore/.gitignore: error: cannot read this ignore file safely (not a regular file); its directory was not walked",
    );
    assert_has(
        &err,
        "pagemap-ignore/.ignore: error: cannot read this ignore file safely (a symbolic link, and hardport does not follow links inside a repository)",
    );
    assert_has(
        &err,
        "fifo-chart/values.yaml:1: warning[chart-metadata]: cannot read the chart's fifo-chart/Chart.yaml: not a regular file",
    );
    assert_has(
        &err,
        "kmsg-chart/values.yaml:1: warning[chart-metadata]: cannot read the chart's kmsg-chart/Chart.yaml: a symbolic link, and hardport does not follow links inside a repository; rules that need the chart",
    );
    assert_has(
        &err,
        "proc-chart/values.yaml:1: warning[chart-metadata]: cannot read the chart's proc-chart/templates: a symbolic link, and hardport does not follow links inside a repository; rules that need the chart",
    );
    // Everything else is migrated as usual.
    assert_has(&out, "+++ b/fine/Dockerfile");
    for chart in ["fifo-chart", "proc-chart", "kmsg-chart"] {
        assert_has(&out, &format!("+++ b/{chart}/values.yaml"));
    }
    assert!(
        !out.contains("fifo-ignore/Dockerfile") && !out.contains("pagemap-ignore"),
        "{out}"
    );
}

#[test]
fn a_read_only_file_is_a_per_file_error_and_the_others_are_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let locked = put(dir.path(), "ro/Dockerfile", GOOD);
    let open = put(dir.path(), "rw/Dockerfile", GOOD);
    let mut permissions = std::fs::metadata(&locked).expect("metadata").permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&locked, permissions).expect("chmod");

    let output = hardport(dir.path(), &["migrate", "--write"]);
    let err = stderr(&output);
    assert_eq!(code(&output), 2, "{err}");
    assert_has(
        &err,
        "ro/Dockerfile: error: cannot write: the file is read-only; left untouched",
    );
    assert_eq!(std::fs::read_to_string(&locked).expect("read"), GOOD);
    assert_eq!(std::fs::read_to_string(&open).expect("read"), GOOD_MIGRATED);
    assert_no_temporary_files(dir.path());

    // A dry run writes nothing, so the read-only file is only a pending change.
    let dry = hardport(dir.path(), &["migrate"]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert_has(&stdout(&dry), "+++ b/ro/Dockerfile");
}

/// How to run hardport so that file permissions apply to it: as this user, unless this user
/// bypasses them (root), then as `nobody` through `setpriv` from a copy of the binary anyone
/// may run. `None` (and a message) when neither is possible.
#[cfg(unix)]
fn unprivileged_hardport(scratch: &Path) -> Option<Vec<String>> {
    use std::os::unix::fs::PermissionsExt;
    let probe = scratch.join("probe");
    std::fs::create_dir(&probe).expect("mkdir");
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let bypasses = std::fs::read_dir(&probe).is_ok();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let binary = env!("CARGO_BIN_EXE_hardport").to_owned();
    if !bypasses {
        return Some(vec![binary]);
    }
    let copy = scratch.join("hardport");
    std::fs::copy(&binary, &copy).expect("copy the binary");
    std::fs::set_permissions(scratch, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let command: Vec<String> = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        copy.to_str().expect("UTF-8 path"),
    ]
    .map(str::to_owned)
    .to_vec();
    let works = Command::new(&command[0])
        .args(&command[1..])
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if works {
        Some(command)
    } else {
        eprintln!(
            "skipped: running as a user that bypasses file permissions (root), and `setpriv` \
             cannot run hardport as nobody here"
        );
        None
    }
}

#[cfg(unix)]
#[test]
fn permission_denied_directories_and_files_are_per_file_errors() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(command) = unprivileged_hardport(scratch.path()) else {
        return;
    };
    let as_nobody = command[0] == "setpriv";
    let root = scratch.path().join("repo");
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    let ok = put(&root, "ok/Dockerfile", GOOD);
    let sealed = put(&root, "sealed/Dockerfile", GOOD);
    let unreadable = put(&root, "unreadable/Dockerfile", GOOD);
    let unwritable = put(&root, "unwritable/Dockerfile", GOOD);
    for dir in ["", "ok", "unreadable", "unwritable"] {
        mode(&root.join(dir), 0o777);
    }
    mode(&ok, 0o666);
    mode(&unreadable, 0o000);
    // Not read-only (someone may write it), but not this runner: as nobody, a file of root's
    // that only its owner may write; as its owner, one that only the others may write.
    mode(&unwritable, if as_nobody { 0o644 } else { 0o466 });
    mode(&root.join("sealed"), 0o000);

    let args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
    let output = run_within(
        &root,
        &[&command[0]],
        &[&args[..], &["migrate", "--write", "."]].concat(),
    );
    mode(&root.join("sealed"), 0o755);
    mode(&unreadable, 0o644);
    let err = stderr(&output);
    assert_eq!(code(&output), 2, "{err}");
    assert_has(&err, "sealed: error: Permission denied (os error 13)\n");
    assert_has(
        &err,
        "unreadable/Dockerfile: error: cannot read: Permission denied",
    );
    assert_has(
        &err,
        "unwritable/Dockerfile: error: cannot write: permission denied: this user may not write the file; left untouched",
    );
    // A file others may write is written, even when its owner cannot be kept (only root may
    // give a file away): hardport checks what this user may write, not who owns it.
    assert_eq!(
        std::fs::read_to_string(&ok).expect("read"),
        GOOD_MIGRATED,
        "{err}"
    );
    for untouched in [&sealed, &unreadable, &unwritable] {
        assert_eq!(std::fs::read_to_string(untouched).expect("read"), GOOD);
    }
    assert_no_temporary_files(&root);
}

/// No `.hardport-*.tmp` file (an atomic write's temporary file) is left anywhere below `dir`.
fn assert_no_temporary_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        assert!(
            !name.to_string_lossy().starts_with(".hardport-"),
            "temporary file left: {}",
            entry.path().display()
        );
        if entry.file_type().expect("file type").is_dir() {
            assert_no_temporary_files(&entry.path());
        }
    }
}
