//! The real binary on the whole corpus as one tree: every Dockerfile, Helm values file and
//! `Chart.yaml` listed in `../shared/corpus/INDEX.tsv` (or `$HARDPORT_CORPUS_DIR`; skipped with
//! a message when neither exists) is copied into a temporary tree, and `hardport migrate` runs
//! on it as a user would, once with the default catalog and once with
//! `tests/fixtures/helm-corpus-catalog.yaml` layered on top so the Helm rules fire widely:
//!
//! 1. the dry run's patch applies with `git apply` to one copy (A);
//! 2. `--write` on a second copy (B) gives A byte for byte, with the same findings;
//! 3. `--check --diff` on B wants no second change;
//! 4. every file that changed re-parses, every changed file is one the patch names, no file
//!    appeared or disappeared, and every file keeps its mode;
//! 5. the per-file errors (`path[:line]: error: …`) are exactly the files listed in
//!    `tests/fixtures/corpus-expected-errors.tsv`: a new error fails, and so does a listed file
//!    that no longer fails;
//! 6. no run panics, and every exit code is the one its outcome calls for;
//! 7. the patch, the messages and the JSON report are byte for byte the same on 1, 5 and the
//!    default number of threads.
//!
//! The per-file properties of the library (idempotence, what rules may touch, comments kept)
//! are `tests/corpus.rs`, `tests/values_corpus.rs` and `tests/yaml_corpus.rs`; this test is
//! about the command line on a tree: discovery, the patch as printed, `--write`, exit codes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{code, corpus_dir, git, hardport, read_tree, stderr, stdout};
use regex::Regex;

/// The modes the copies' files get in turn.
const MODES: [u32; 3] = [0o644, 0o755, 0o640];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a corpus file is, as INDEX.tsv says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Dockerfile,
    HelmValues,
    ChartYaml,
}

/// Every corpus file with its kind, from INDEX.tsv (`path<TAB>kind<TAB>size`).
fn corpus_files(dir: &Path) -> BTreeMap<String, Kind> {
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    index
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let (path, kind) = (fields.next(), fields.next());
            let kind = match kind {
                Some("dockerfile") => Kind::Dockerfile,
                Some("helm-values") => Kind::HelmValues,
                Some("chart-yaml") => Kind::ChartYaml,
                _ => panic!("INDEX.tsv line {line:?} has no known kind"),
            };
            (path.expect("a path").to_owned(), kind)
        })
        .collect()
}

/// The corpus files hardport must refuse, from the expectations file (`path<TAB>reason`).
fn expected_errors() -> BTreeSet<String> {
    let path = manifest_dir().join("tests/fixtures/corpus-expected-errors.tsv");
    std::fs::read_to_string(path)
        .expect("expectations file")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (path, reason) = line.split_once('\t').expect("path<TAB>reason");
            assert!(!reason.trim().is_empty(), "{path}: no reason given");
            path.to_owned()
        })
        .collect()
}

/// The mode every copy gives the `number`th corpus file: [`MODES`] in turn, so that `--write`
/// must keep each of them (a file written through a fresh temporary file would come out 0600).
fn mode_of(number: usize) -> u32 {
    MODES[number % MODES.len()]
}

/// Copy the listed files into `to`, with the modes of [`mode_of`].
fn copy_corpus(dir: &Path, files: &BTreeMap<String, Kind>, to: &Path) {
    for (number, path) in files.keys().enumerate() {
        let target = to.join(path);
        std::fs::create_dir_all(target.parent().expect("a file has a parent")).expect("mkdir");
        std::fs::copy(dir.join(path), &target).expect("copy a corpus file");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode_of(number)))
            .expect("set the mode");
    }
}

/// The listed files of the corpus, read in place, keyed like [`read_tree`].
fn read_corpus(dir: &Path, files: &BTreeMap<String, Kind>) -> BTreeMap<PathBuf, Vec<u8>> {
    files
        .keys()
        .map(|path| {
            let bytes = std::fs::read(dir.join(path)).expect("read a corpus file");
            (PathBuf::from(path), bytes)
        })
        .collect()
}

/// The permission bits of every file of `files` below `dir`.
fn modes(dir: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> BTreeMap<PathBuf, u32> {
    files
        .keys()
        .map(|path| {
            let mode = std::fs::metadata(dir.join(path))
                .expect("metadata")
                .permissions()
                .mode();
            (path.clone(), mode & 0o7777)
        })
        .collect()
}

/// The arguments that make `hardport migrate` see every Dockerfile and values file of the
/// copy: `.`, walked as a user would, then by name the files README's discovery rules leave
/// out of a walk. The rules are restated here rather than taken from the library, so that a
/// walk that misses a file it should find changes the number of files scanned.
fn paths_to_migrate(files: &BTreeMap<String, Kind>) -> Vec<String> {
    let mut paths = vec![".".to_owned()];
    paths.extend(
        files
            .iter()
            .filter(|(path, kind)| !found_by_a_walk(path, **kind, files))
            .map(|(path, _)| path.clone()),
    );
    paths
}

/// Whether walking the copy finds this file (or, for a `Chart.yaml`, needs not): Dockerfiles
/// are Renovate's names, a base name that starts with `Dockerfile`, `dockerfile`,
/// `Containerfile` or `containerfile`, or ends in a dot and one (the corpus holds none of the
/// look-alikes README lists, no template and no vendored tree: a walk leaving those out
/// leaves out no corpus file); values files are `values*.yaml`/`values*.yml` beside a
/// `Chart.yaml`.
fn found_by_a_walk(path: &str, kind: Kind, files: &BTreeMap<String, Kind>) -> bool {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    match kind {
        Kind::Dockerfile => ["Dockerfile", "dockerfile", "Containerfile", "containerfile"]
            .iter()
            .any(|stem| name.starts_with(stem) || name.ends_with(&format!(".{stem}"))),
        Kind::HelmValues => {
            name.starts_with("values")
                && (name.ends_with(".yaml") || name.ends_with(".yml"))
                && files.get(&format!("{dir}/Chart.yaml")) == Some(&Kind::ChartYaml)
        }
        Kind::ChartYaml => true,
    }
}

/// What one run printed, read back from its stderr.
struct Run {
    /// Which run this was, for messages: "dry run", "--write", …
    what: &'static str,
    output: Output,
    /// Per-file errors: path → the error lines naming it.
    errors: BTreeMap<String, Vec<String>>,
    /// From the summary line: files scanned, files (that would be) changed, files failed,
    /// files skipped (templates; 0 when the line does not say).
    scanned: usize,
    changed: usize,
    failed: usize,
    skipped: usize,
}

/// Run `hardport migrate ARGS` in `dir` and check what holds for every run: it exited normally
/// with 0, 1 or 2, did not panic, ended stderr with its summary line, and every error line
/// names a corpus file.
fn migrate(dir: &Path, what: &'static str, args: &[String], files: &BTreeMap<String, Kind>) -> Run {
    let args: Vec<&str> = std::iter::once("migrate")
        .chain(args.iter().map(String::as_str))
        .collect();
    let output = hardport(dir, &args);
    let messages = stderr(&output);
    let panics: Vec<&str> = messages
        .lines()
        .filter(|line| line.contains("panicked"))
        .collect();
    assert!(panics.is_empty(), "{what} panicked:\n{}", panics.join("\n"));
    let last = messages.lines().last().unwrap_or_default();
    assert!(
        matches!(output.status.code(), Some(0..=2)),
        "{what} exited with {}; its last line: {last}",
        output.status
    );
    let summary_line = messages
        .lines()
        .find(|line| line.starts_with("hardport: ") && line.contains(" scanned, "))
        .unwrap_or(last);
    let error_line = Regex::new(r"^(\S+?)(?::\d+)?: error: ").expect("regex");
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in messages.lines() {
        if let Some(found) = error_line.captures(line) {
            let path = found[1].to_owned();
            assert!(
                files.contains_key(&path),
                "{what}: an error that names no corpus file: {line}"
            );
            errors.entry(path).or_default().push(line.to_owned());
        }
    }
    let summary = Regex::new(concat!(
        r"^hardport: (\d+) files? scanned, (\d+) (?:would change|changed) ",
        r"\(\d+ changes?\), (\d+) failed(?:, (\d+) skipped)?; ",
    ))
    .expect("regex");
    let counts = summary
        .captures(summary_line)
        .unwrap_or_else(|| panic!("{what}: no summary line, but {last:?} at the end"));
    let count = |group: usize| counts[group].parse::<usize>().expect("a count");
    Run {
        what,
        errors,
        scanned: count(1),
        changed: count(2),
        failed: count(3),
        skipped: counts.get(4).map_or(0, |skipped| {
            skipped.as_str().parse::<usize>().expect("a count")
        }),
        output,
    }
}

/// What a default run prints beyond the issue's budget: one line per changed file (its totals),
/// one per warning or error (a finding, or a file that failed), and the run's own `hardport:`
/// lines (the summary, the count of unmapped images, a note on applying the patch).
fn default_output_problems(run: &Run) -> Vec<String> {
    let messages = stderr(&run.output);
    let finding = Regex::new(r"^\S+?:\d+: (warning|error)\[[a-z-]+\]: ").expect("regex");
    let failure = Regex::new(r"^\S+?(?::\d+)?: error: ").expect("regex");
    let totals =
        Regex::new(r"^\S+: \d+ changes?, \d+ errors?, \d+ warnings?, \d+ info$").expect("regex");
    let (mut totals_lines, mut own_lines, mut problems) = (0, 0, Vec::new());
    for line in messages.lines() {
        if totals.is_match(line) {
            totals_lines += 1;
        } else if line.starts_with("hardport: ") {
            own_lines += 1;
        } else if !finding.is_match(line) && !failure.is_match(line) {
            problems.push(format!(
                "{}: a line that is no warning, error or totals: {line}",
                run.what
            ));
        }
    }
    if totals_lines != run.changed {
        problems.push(format!(
            "{}: {totals_lines} totals lines for {} changed files",
            run.what, run.changed
        ));
    }
    if own_lines > 3 {
        problems.push(format!("{}: {own_lines} lines of the run's own", run.what));
    }
    problems
}

/// Whether the output depends on the number of threads: the dry run (one thread per core) must
/// print the same patch and messages as runs on one and on five threads, and the JSON report
/// must not change with the thread count either.
fn thread_count_problems(
    dir: &Path,
    dry: &Run,
    args: &dyn Fn(&[&str]) -> Vec<String>,
) -> Vec<String> {
    let run = |extra: &[&str]| {
        let args: Vec<String> = std::iter::once("migrate".to_owned())
            .chain(args(extra))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        hardport(dir, &args)
    };
    let mut problems = Vec::new();
    for threads in ["1", "5"] {
        let other = run(&["--threads", threads]);
        if stdout(&other) != stdout(&dry.output) || stderr(&other) != stderr(&dry.output) {
            problems.push(format!(
                "the dry run on {threads} thread(s) printed something else than on the default number"
            ));
        }
    }
    let json_one = run(&["--format", "json", "-j", "1"]);
    let json_five = run(&["--format", "json", "-j", "5"]);
    if stdout(&json_one) != stdout(&json_five) {
        problems.push("the JSON report on 1 and on 5 threads differs".into());
    }
    problems
}

/// Every problem of one run's per-file errors against the expectations file.
fn error_problems(run: &Run, expected: &BTreeSet<String>) -> Vec<String> {
    let what = run.what;
    let mut problems = Vec::new();
    for (path, lines) in &run.errors {
        if !expected.contains(path) {
            problems.push(format!(
                "{what}: unexpected per-file error (list it with a reason in \
                 tests/fixtures/corpus-expected-errors.tsv if it is right): {}",
                lines.join(" / ")
            ));
        }
    }
    for path in expected {
        if !run.errors.contains_key(path) {
            problems.push(format!(
                "{what}: {path} is listed as failing but no longer fails; update the expectations"
            ));
        }
    }
    if run.failed != run.errors.len() {
        problems.push(format!(
            "{what}: the summary counts {} failed files, stderr names {}",
            run.failed,
            run.errors.len()
        ));
    }
    let want = if run.errors.is_empty() { 0 } else { 2 };
    if code(&run.output) != want {
        problems.push(format!(
            "{what}: exit code {}, expected {want}",
            code(&run.output)
        ));
    }
    problems
}

/// The files a patch names, from its `diff --git a/P b/P` headers.
fn patched_files(patch: &str) -> BTreeSet<PathBuf> {
    patch
        .lines()
        .filter_map(|line| line.strip_prefix("diff --git a/"))
        .map(|rest| {
            let (old, new) = rest.split_once(" b/").expect("a diff --git header");
            assert_eq!(old, new, "the patch renames nothing");
            PathBuf::from(old)
        })
        .collect()
}

/// Dry run, `git apply`, `--write`, `--check` on fresh copies of the corpus, with the
/// `--catalog` arguments given; `min_changed` guards against a run that silently does nothing.
fn whole_corpus(catalog_args: &[String], min_changed: (usize, usize)) {
    let Some(dir) = corpus_dir() else {
        eprintln!(
            "skipped: the corpus is not present (../shared/corpus, or set HARDPORT_CORPUS_DIR)"
        );
        return;
    };
    let files = corpus_files(&dir);
    let expected = expected_errors();
    let migrated_kinds = files
        .values()
        .filter(|kind| **kind != Kind::ChartYaml)
        .count();
    assert!(
        migrated_kinds > 800,
        "the index lists only {migrated_kinds} Dockerfiles and values files"
    );

    // Two copies, A for the patch and B for `--write`; the corpus itself is the original (every
    // copy costs seconds to delete on a slow disk).
    let applied = tempfile::tempdir().expect("tempdir");
    let written = tempfile::tempdir().expect("tempdir");
    copy_corpus(&dir, &files, applied.path());
    copy_corpus(&dir, &files, written.path());
    let original_tree = read_corpus(&dir, &files);
    let original_modes: BTreeMap<PathBuf, u32> = files
        .keys()
        .enumerate()
        .map(|(number, path)| (PathBuf::from(path), mode_of(number)))
        .collect();
    let paths = paths_to_migrate(&files);
    let args = |mode: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = catalog_args.to_vec();
        args.extend(mode.iter().map(|arg| (*arg).to_owned()));
        args.extend(paths.iter().cloned());
        args
    };
    let mut problems = Vec::new();

    // 1. The dry run's patch, applied with git.
    git(applied.path(), &["init", "--quiet"]);
    let dry = migrate(applied.path(), "dry run", &args(&[]), &files);
    problems.extend(error_problems(&dry, &expected));
    problems.extend(default_output_problems(&dry));
    assert_eq!(
        dry.scanned, migrated_kinds,
        "the dry run did not scan every Dockerfile and values file of the corpus"
    );
    assert_eq!(
        dry.skipped, 0,
        "every corpus Dockerfile is a real one (INDEX.tsv leaves templates out): none is skipped"
    );
    problems.extend(thread_count_problems(applied.path(), &dry, &args));
    let patch = stdout(&dry.output);
    let patch_file = applied.path().join(".git/hardport.patch");
    std::fs::write(&patch_file, &patch).expect("write the patch");
    if !patch.is_empty() {
        git(
            applied.path(),
            &["apply", patch_file.to_str().expect("UTF-8 path")],
        );
    }
    let named = patched_files(&patch);
    if named.len() != dry.changed {
        problems.push(format!(
            "the patch names {} files, the summary says {} would change",
            named.len(),
            dry.changed
        ));
    }

    // 2. `--write` on a second copy gives the same tree and the same findings.
    let write = migrate(written.path(), "--write", &args(&["--write"]), &files);
    problems.extend(error_problems(&write, &expected));
    if !stdout(&write.output).is_empty() {
        problems.push("--write printed something on stdout".to_owned());
    }
    let (dry_messages, write_messages) = (stderr(&dry.output), stderr(&write.output));
    let findings = |messages: &str| -> Vec<String> {
        // The run's own lines (summary, notes) differ between a dry run and `--write`.
        messages
            .lines()
            .filter(|line| !line.starts_with("hardport: "))
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    if findings(&dry_messages) != findings(&write_messages) {
        problems.push("--write reported other findings than the dry run".to_owned());
    }
    if write.changed != dry.changed {
        problems.push(format!(
            "--write changed {} files, the dry run would change {}",
            write.changed, dry.changed
        ));
    }
    let written_tree = read_tree(written.path());
    let applied_tree = read_tree(applied.path());
    for (path, bytes) in &written_tree {
        if applied_tree.get(path) != Some(bytes) {
            problems.push(format!(
                "{}: --write and git apply of the patch disagree",
                path.display()
            ));
        }
    }
    if applied_tree.len() != written_tree.len() {
        problems.push("--write and git apply leave different sets of files".to_owned());
    }

    // 3. A second run wants no change.
    let check = migrate(
        written.path(),
        "--check after --write",
        &args(&["--check", "--diff"]),
        &files,
    );
    problems.extend(error_problems(&check, &expected));
    if check.changed != 0 || !stdout(&check.output).is_empty() {
        problems.push(format!(
            "--check after --write wants to change {} files again:\n{}",
            check.changed,
            stdout(&check.output)
        ));
    }

    // 4. What changed is what the patch names, re-parses, and keeps its mode; nothing else moved.
    let written_modes = modes(written.path(), &written_tree);
    let old_keys: BTreeSet<&PathBuf> = original_tree.keys().collect();
    let new_keys: BTreeSet<&PathBuf> = written_tree.keys().collect();
    for path in old_keys.symmetric_difference(&new_keys) {
        problems.push(format!(
            "{}: --write created or removed this file",
            path.display()
        ));
    }
    for (path, mode) in &original_modes {
        if written_modes.get(path).is_some_and(|new| new != mode) {
            problems.push(format!(
                "{}: mode {mode:o} became {:o}",
                path.display(),
                written_modes[path]
            ));
        }
    }
    let mut changed = BTreeMap::<Kind, usize>::new();
    for (path, after) in &written_tree {
        let before = original_tree.get(path);
        if before == Some(after) {
            if named.contains(path) {
                problems.push(format!(
                    "{}: named by the patch but unchanged",
                    path.display()
                ));
            }
            continue;
        }
        if !named.contains(path) {
            problems.push(format!(
                "{}: changed but not named by the patch",
                path.display()
            ));
        }
        let key = path.to_str().expect("UTF-8 path");
        // A file that is not a corpus file was reported above as created.
        let Some(&kind) = files.get(key) else {
            continue;
        };
        *changed.entry(kind).or_default() += 1;
        let Ok(text) = std::str::from_utf8(after) else {
            problems.push(format!("{key}: the output is not UTF-8"));
            continue;
        };
        let reparsed = match kind {
            Kind::Dockerfile => hardport::dockerfile::parse(text)
                .err()
                .map(|e| e.to_string()),
            Kind::HelmValues => hardport::yaml::parse(text).err().map(|e| e.to_string()),
            Kind::ChartYaml => Some("a Chart.yaml must never change".to_owned()),
        };
        if let Some(error) = reparsed {
            problems.push(format!("{key}: the output does not parse: {error}"));
        }
    }

    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let dockerfiles = changed.get(&Kind::Dockerfile).copied().unwrap_or_default();
    let values = changed.get(&Kind::HelmValues).copied().unwrap_or_default();
    assert!(
        dockerfiles >= min_changed.0 && values >= min_changed.1,
        "only {dockerfiles} Dockerfiles and {values} values files changed, expected at least \
         {min_changed:?}: is the catalog loaded?"
    );
    eprintln!(
        "{} files scanned; {dockerfiles} Dockerfiles and {values} values files changed; {} \
         expected errors",
        dry.scanned,
        dry.errors.len()
    );
}

#[test]
fn the_whole_corpus_migrates_with_the_default_catalog() {
    whole_corpus(&[], (100, 10));
}

#[test]
fn the_whole_corpus_migrates_with_the_helm_test_catalog_layered() {
    let catalog = manifest_dir().join("tests/fixtures/helm-corpus-catalog.yaml");
    whole_corpus(
        &["--catalog".to_owned(), catalog.display().to_string()],
        (100, 100),
    );
}
