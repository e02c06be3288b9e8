//! Whole-corpus property test over the real Dockerfiles in `../shared/corpus/` (skipped, with a
//! message, when the folder is absent): every file that parses migrates without an internal
//! error, its output parses again, and migrating the output changes nothing (idempotence). The
//! files that must fail are listed with reasons in `tests/fixtures/corpus-expected-errors.tsv`;
//! a new failure, or a listed file that stops failing, fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hardport::catalog::Catalog;
use hardport::discovery::FileKind;
use hardport::dockerfile;
use hardport::migrate::{FileError, migrate_text};
use hardport::rules::Context;

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    dir.join("INDEX.tsv").is_file().then_some(dir)
}

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
    let context = Context { catalog: &catalog };
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
    for path in expected.keys() {
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
