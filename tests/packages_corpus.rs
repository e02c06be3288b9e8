//! `package-install` over every real Dockerfile of `../shared/corpus/` with the
//! `--target chainguard` catalog, whose replacements install with apk from Wolfi: every file it
//! converts still parses, a second run changes nothing, and the packages the output's `apk add`s
//! install are exactly the mapped names of the packages the converted `RUN`s installed (plus
//! whatever `apk add` the file already had). Skipped, with a message, without the corpus.

mod common;

use std::collections::BTreeSet;

use common::corpus_dir;
use hardport::catalog::{Catalog, SourceFamily, Target};
use hardport::discovery::FileKind;
use hardport::dockerfile;
use hardport::migrate::migrate_text;
use hardport::rules::{Context, Rule};
use parse_dockerfile::Instruction;

/// The words of every command the `RUN`s of `text` execute, with the 1-based line of their
/// `RUN`.
fn commands(text: &str) -> Vec<(usize, Vec<String>)> {
    let file = dockerfile::parse(text).expect("parses");
    let mut found = Vec::new();
    for instruction in file.instructions() {
        let Instruction::Run(run) = instruction else {
            continue;
        };
        let start = file
            .instruction_range(instruction)
            .map_or(0, |range| range.start);
        let line = text[..start].matches('\n').count() + 1;
        for command in hardport::shell::run::commands(&file, run) {
            let words = command
                .argv()
                .iter()
                .map(|word| word.text.clone())
                .collect();
            found.push((line, words));
        }
    }
    found
}

/// The packages an `apk add` installs.
fn apk_added(words: &[String]) -> Vec<String> {
    match words {
        [apk, add, rest @ ..] if apk == "apk" && add == "add" => rest
            .iter()
            .filter(|word| !word.starts_with('-'))
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

/// The packages an `apt-get`/`apt`/`yum`/`dnf`/`microdnf` `install` names, with their family.
fn installed(words: &[String]) -> Option<(SourceFamily, Vec<String>)> {
    let program = words.first()?.rsplit('/').next()?;
    let family = match program {
        "apt-get" | "apt" => SourceFamily::Debian,
        "yum" | "dnf" | "microdnf" => SourceFamily::Fedora,
        _ => return None,
    };
    let mut positional = words[1..].iter().filter(|word| !word.starts_with('-'));
    (positional.next()? == "install").then(|| (family, positional.cloned().collect()))
}

#[test]
fn converted_runs_install_the_mapped_packages_and_stay_stable() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/corpus is not present");
        return;
    };
    let catalog = Catalog::target(Target::Chainguard, Some("cgr.dev/ORG")).expect("catalog");
    let context = Context::new(&catalog);
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    let mut problems = Vec::new();
    let mut converted = 0;
    for path in index.lines().filter_map(|line| {
        let mut fields = line.split('\t');
        let path = fields.next()?;
        (fields.next()? == "dockerfile").then_some(path)
    }) {
        let Ok(text) = std::fs::read_to_string(dir.join(path)) else {
            continue;
        };
        let Ok(migration) = migrate_text(FileKind::Dockerfile, &text, context) else {
            continue;
        };
        let lines: BTreeSet<usize> = migration
            .findings
            .iter()
            .filter(|finding| finding.rule == Rule::PackageInstall)
            .map(|finding| finding.line)
            .collect();
        if lines.is_empty() {
            continue;
        }
        converted += lines.len();
        if dockerfile::parse(&migration.text).is_err() {
            problems.push(format!("{path}: the output no longer parses"));
            continue;
        }
        let again = migrate_text(FileKind::Dockerfile, &migration.text, context).expect("again");
        if again.text != migration.text {
            problems.push(format!("{path}: a second run changes the output again"));
        }
        let before = commands(&text);
        let mut expected: BTreeSet<String> = before
            .iter()
            .flat_map(|(_, words)| apk_added(words))
            .collect();
        for (line, words) in &before {
            let Some((family, packages)) = installed(words).filter(|_| lines.contains(line)) else {
                continue;
            };
            for package in packages {
                match catalog.packages().lookup("wolfi", family, &package) {
                    Some(mapping) => expected.extend(mapping.names.iter().cloned()),
                    None => problems.push(format!(
                        "{path}:{line}: `{package}` was converted without a mapping"
                    )),
                }
            }
        }
        let actual: BTreeSet<String> = commands(&migration.text)
            .iter()
            .flat_map(|(_, words)| apk_added(words))
            .collect();
        if actual != expected {
            problems.push(format!(
                "{path}: installs {actual:?}, the mapped set is {expected:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(converted > 40, "only {converted} RUNs were converted");
}
