//! Whole-corpus property test over the real Dockerfiles in `../shared/corpus/` (skipped, with a
//! message, when the folder is absent): every file that parses migrates without an internal
//! error, its output parses again, and migrating the output changes nothing (idempotence). The
//! files that must fail are listed with reasons in `tests/fixtures/corpus-expected-errors.tsv`;
//! a new failure, or a listed file that stops failing, fails the test.

mod common;

use common::corpus_dir;

use std::collections::BTreeMap;
use std::path::Path;

use hardport::catalog::Catalog;
use hardport::discovery::FileKind;
use hardport::dockerfile;
use hardport::migrate::{FileError, migrate_text};
use hardport::rules::Context;

/// Corpus paths of one kind, from its INDEX.tsv (`path<TAB>kind<TAB>size`).
fn corpus_files(dir: &Path, kind: &str) -> Vec<String> {
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    index
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let path = fields.next()?;
            (fields.next()? == kind).then(|| path.to_owned())
        })
        .collect()
}

fn expected_errors() -> BTreeMap<String, String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus-expected-errors.tsv");
    std::fs::read_to_string(path)
        .expect("expectations file")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (path, reason) = line.split_once('\t')?;
            Some((path.to_owned(), reason.to_owned()))
        })
        .collect()
}

#[test]
fn every_corpus_dockerfile_migrates_reparses_and_is_stable() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/corpus is not present");
        return;
    };
    let catalog = Catalog::embedded().expect("embedded catalog");
    let context = Context::new(&catalog);
    let expected = expected_errors();
    let files = corpus_files(&dir, "dockerfile");
    assert!(
        files.len() > 500,
        "the corpus index lists {} Dockerfiles",
        files.len()
    );

    let mut problems = Vec::new();
    let mut failed = Vec::new();
    let mut changed = 0;
    for path in &files {
        let bytes = std::fs::read(dir.join(path)).expect("corpus file is readable");
        let Ok(text) = String::from_utf8(bytes) else {
            failed.push(path.clone());
            continue;
        };
        let migration = match migrate_text(FileKind::Dockerfile, &text, context) {
            Ok(migration) => migration,
            Err(FileError::Parse { .. }) => {
                failed.push(path.clone());
                continue;
            }
            Err(error) => {
                problems.push(format!("{path}: {error}"));
                continue;
            }
        };
        if migration.text == text {
            continue;
        }
        changed += 1;
        if let Err(error) = dockerfile::parse(&migration.text) {
            problems.push(format!("{path}: the output no longer parses: {error}"));
            continue;
        }
        match migrate_text(FileKind::Dockerfile, &migration.text, context) {
            Ok(again) if again.text == migration.text => {}
            Ok(_) => problems.push(format!("{path}: a second run changes the output again")),
            Err(error) => problems.push(format!("{path}: the second run failed: {error}")),
        }
    }
    for path in &failed {
        if !expected.contains_key(path) {
            problems.push(format!("{path}: unexpected per-file error"));
        }
    }
    // The list also holds the values files the whole-corpus CLI test expects to fail.
    for path in expected.keys().filter(|path| files.contains(path)) {
        if !failed.contains(path) {
            problems.push(format!(
                "{path}: listed as failing but now migrates; update the expectations"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        changed > 50,
        "only {changed} corpus Dockerfiles changed: is the catalog loaded?"
    );
}

/// The user part of `user[:group]`.
fn user_part(user: &str) -> &str {
    user.split(':').next().unwrap_or(user)
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// The program and arguments a container really runs, independent of how they are spelled:
/// docker-library entrypoint scripts and init wrappers are dropped (they run their arguments),
/// a first argument that is an option or a script file runs with the image's default program
/// (what those scripts do), and the program is compared by its file name.
fn normalise(argv: &[String], default_program: Option<&str>) -> Vec<String> {
    let mut words: Vec<String> = argv.to_vec();
    let mut dropped_script = false;
    while let Some(first) = words.first() {
        let name = basename(first);
        if name.ends_with("entrypoint.sh") {
            dropped_script = true;
        } else if !(name == "tini" || name == "--") {
            break;
        }
        words.remove(0);
    }
    // `sh -c "a b c"` runs the same words as `["a", "b", "c"]` when they split plainly.
    if let [shell, flag, text] = words.as_slice()
        && basename(shell) == "sh"
        && flag == "-c"
        && !text.contains(|ch: char| "$*?[]&|;<>\\()'\"`~#{}!".contains(ch))
    {
        words = text.split_whitespace().map(str::to_owned).collect();
    }
    let runs_with_default = words.first().is_some_and(|first| {
        first.starts_with('-')
            || [".js", ".mjs", ".cjs", ".py"]
                .iter()
                .any(|ext| first.ends_with(ext))
    });
    if dropped_script
        && runs_with_default
        && let Some(program) = default_program
    {
        words.insert(0, program.to_owned());
    }
    if let Some(first) = words.first_mut() {
        *first = basename(first).to_owned();
    }
    words
}

fn argv(config: &hardport::stages::Config) -> Option<Vec<String>> {
    let mut words = config.entrypoint.as_ref()?.argv();
    words.extend(config.cmd.as_ref()?.argv());
    Some(words)
}

/// Issue 4's acceptance property: for every final stage whose base and specs are known, the
/// effective user and command after migration equal the intended ones. Files where a rule
/// reported that it could not make them equal (a finding without a fix) are skipped: there
/// hardport said so instead of guessing.
#[test]
fn migrated_final_stages_run_the_intended_user_and_command() {
    use hardport::rules::Rule;
    use hardport::stages::{Lineage, StageModel, View};

    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/corpus is not present");
        return;
    };
    let catalog = Catalog::embedded().expect("embedded catalog");
    let context = Context::new(&catalog);
    let (mut checked_commands, mut checked_users) = (0, 0);
    let mut problems = Vec::new();
    for path in corpus_files(&dir, "dockerfile") {
        let Ok(text) = std::fs::read_to_string(dir.join(&path)) else {
            continue;
        };
        let Ok(migration) = migrate_text(FileKind::Dockerfile, &text, context) else {
            continue;
        };
        let gave_up = migration.findings.iter().any(|finding| {
            !finding.fixed
                && matches!(
                    finding.rule,
                    Rule::Entrypoint | Rule::NeedsShell | Rule::MissingFact | Rule::UnresolvedImage
                )
        });
        if gave_up {
            continue;
        }
        let (Ok(before_file), Ok(after_file)) =
            (dockerfile::parse(&text), dockerfile::parse(&migration.text))
        else {
            continue;
        };
        let before = StageModel::new(&before_file, &catalog);
        let after = StageModel::new(&after_file, &catalog);
        let Some(last) = before.final_stage().map(|stage| stage.index) else {
            continue;
        };
        let Lineage::Migrating(migrating) = before.lineage(last) else {
            continue;
        };
        let entry = migrating.entry;
        let (old, new) = (
            before.config(last, View::Public, None),
            after.config(last, View::Hardened, None),
        );

        let default_program = entry
            .public
            .cmd
            .as_ref()
            .and_then(|cmd| cmd.first())
            .map(String::as_str);
        if let (Some(old_argv), Some(new_argv)) = (argv(&old), argv(&new)) {
            checked_commands += 1;
            let (want, got) = (
                normalise(&old_argv, default_program),
                normalise(&new_argv, default_program),
            );
            if want != got {
                problems.push(format!("{path}: runs {got:?}, intended {want:?}"));
            }
        }

        let public_users = entry.public.users.as_ref();
        if let (Some(old_user), Some(new_user), Some(runtime)) = (
            old.user.as_deref(),
            new.user.as_deref(),
            entry.hardened.user.as_ref(),
        ) {
            let old_name = user_part(old_user);
            let public_default = entry.public.user.as_ref().map(|user| user.0.as_str());
            let intended = if public_users.is_some_and(|users| users.contains_key(old_name))
                || Some(old_name) == public_default
            {
                runtime.0.as_str()
            } else {
                old_name
            };
            checked_users += 1;
            if user_part(new_user) != intended {
                problems.push(format!("{path}: runs as {new_user}, intended {intended}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        checked_commands > 0 && checked_users > 0,
        "nothing was checked: {checked_commands} commands, {checked_users} users"
    );
    eprintln!("checked {checked_commands} commands and {checked_users} users");
}

/// Who runs each `RUN` of `file`, in file order, as `view` computes it.
fn run_users(
    model: &hardport::stages::StageModel<'_, '_, '_>,
    view: hardport::stages::View,
) -> Vec<(usize, Option<String>)> {
    let points = model.run_points();
    let users = model.users_at(view, &points);
    points.iter().map(|&(_, at)| at).zip(users).collect()
}

/// The Dockerfiles of the fixture repositories under `testdata/`, by path.
fn fixture_dockerfiles() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = common::cases();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture directory") {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                dirs.push(path);
            } else if name.contains("Dockerfile") || name.contains("Containerfile") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                files.push((path.display().to_string(), text));
            }
        }
    }
    files.sort();
    files
}

/// Issue 13's acceptance property for users: on the stage model, no migrated Dockerfile of the
/// corpus or the fixtures makes a `RUN` that ran as root on the public image run as another
/// user on the replacement (the build would fail, or leave files with other owners).
#[test]
fn every_run_that_ran_as_root_still_runs_as_root() {
    use hardport::stages::{StageModel, View, is_root_user};

    let catalog = Catalog::embedded().expect("embedded catalog");
    let context = Context::new(&catalog);
    let mut files = fixture_dockerfiles();
    // The fixtures alone have a few dozen such RUNs; the corpus some hundreds.
    let least = match corpus_dir() {
        Some(dir) => {
            for path in corpus_files(&dir, "dockerfile") {
                if let Ok(text) = std::fs::read_to_string(dir.join(&path)) {
                    files.push((path, text));
                }
            }
            100
        }
        None => {
            eprintln!("../shared/corpus is not present: checking the fixtures only");
            10
        }
    };
    let (mut checked, mut problems) = (0, Vec::new());
    for (path, text) in &files {
        let Ok(migration) = migrate_text(FileKind::Dockerfile, text, context) else {
            continue;
        };
        let (Ok(before_file), Ok(after_file)) =
            (dockerfile::parse(text), dockerfile::parse(&migration.text))
        else {
            continue;
        };
        let before = run_users(&StageModel::new(&before_file, &catalog), View::Public);
        let after = run_users(&StageModel::new(&after_file, &catalog), View::Hardened);
        if before.len() != after.len() {
            problems.push(format!(
                "{path}: {} RUNs before, {} after",
                before.len(),
                after.len()
            ));
            continue;
        }
        for ((at, was), (_, now)) in before.iter().zip(&after) {
            if !was.as_deref().is_some_and(is_root_user) {
                continue;
            }
            checked += 1;
            if !now.as_deref().is_some_and(is_root_user) {
                problems.push(format!(
                    "{path}: RUN #{at} ran as root and now runs as {now:?}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        checked > least,
        "only {checked} RUNs ran as root: is the catalog loaded?"
    );
    eprintln!("checked {checked} RUNs that ran as root");
}
