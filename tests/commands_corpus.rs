//! Issue 13's command property over `../shared/corpus` (skipped, with a message, when absent)
//! and the `testdata/` fixtures: after migration, no runnable stage on the replacement runs the
//! replacement's entrypoint program twice (`node node server.js`), or an entrypoint script of the
//! public image that the replacement lacks. Judged on the stage model of the migrated file, by
//! the argv the container starts. A file where hardport said it could not make the command
//! right (an `entrypoint` or `needs-shell` finding without a fix) is skipped: there it reported
//! instead of guessing. Stages whose replacement entrypoint is unknown, and that set none, have
//! no known argv and are not counted.

mod common;

use std::path::{Path, PathBuf};

use common::{cases, corpus_dir};

use hardport::catalog::{Catalog, Entry};
use hardport::discovery::FileKind;
use hardport::dockerfile;
use hardport::migrate::migrate_text;
use hardport::rules::{Context, Rule};
use hardport::stages::{Lineage, StageModel, View};

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Every file named like a Dockerfile under `dir`.
fn dockerfiles(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            dockerfiles(&path, found);
        } else if path.file_name().is_some_and(|name| {
            name.to_string_lossy()
                .to_ascii_lowercase()
                .contains("dockerfile")
        }) {
            found.push(path);
        }
    }
}

/// What is wrong with the command a runnable stage of `entry`'s replacement starts, if anything.
fn command_problem(
    argv: &[String],
    inherits_entrypoint: bool,
    entry: &Entry,
    text: &str,
) -> Option<String> {
    let hardened = entry.hardened.entrypoint.as_deref().unwrap_or(&[]);
    if inherits_entrypoint
        && let ([program], Some(cmd)) = (hardened, argv.get(1))
        && basename(program) == basename(cmd)
    {
        return Some(format!("runs its entrypoint program twice: {argv:?}"));
    }
    let public = entry.public.entrypoint.as_deref().unwrap_or(&[]);
    let script = argv.iter().find(|word| {
        public.iter().any(|public| {
            basename(public) == basename(word)
                && (basename(public).contains("entrypoint") || public.ends_with(".sh"))
        }) && !hardened
            .iter()
            .any(|hardened| basename(hardened) == basename(word))
    })?;
    // A script of that name the Dockerfile copies in is the author's, not the public image's.
    let copied = text.lines().any(|line| {
        let line = line.trim_start().to_ascii_uppercase();
        (line.starts_with("COPY") || line.starts_with("ADD"))
            && line.contains(&basename(script).to_ascii_uppercase())
    });
    (!copied).then(|| format!("runs the public entrypoint script `{script}`: {argv:?}"))
}

#[test]
fn no_runnable_stage_runs_its_program_twice_or_a_public_entrypoint_script() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    let context = Context::new(&catalog);
    let mut files = Vec::new();
    // The fixtures alone have a handful of runnable stages with a known command; the corpus
    // adds dozens.
    let least = match corpus_dir() {
        Some(dir) => {
            dockerfiles(&dir, &mut files);
            40
        }
        None => {
            eprintln!("../shared/corpus is not present: fixtures only");
            5
        }
    };
    for case in cases() {
        dockerfiles(&case, &mut files);
    }
    let (mut checked, mut problems) = (0, Vec::new());
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(migration) = migrate_text(FileKind::Dockerfile, &text, context) else {
            continue;
        };
        let gave_up = migration.findings.iter().any(|finding| {
            !finding.fixed && matches!(finding.rule, Rule::Entrypoint | Rule::NeedsShell)
        });
        let Ok(file) = dockerfile::parse(&migration.text) else {
            continue;
        };
        if gave_up {
            continue;
        }
        let model = StageModel::new(&file, &catalog);
        for stage in model
            .stages
            .iter()
            .filter(|stage| model.is_runnable(stage.index))
        {
            let Lineage::Hardened(entry) = model.lineage(stage.index) else {
                continue;
            };
            let config = model.config(stage.index, View::Hardened, None);
            let (Some(entrypoint), Some(cmd)) = (&config.entrypoint, &config.cmd) else {
                continue;
            };
            checked += 1;
            let mut argv = entrypoint.argv();
            argv.extend(cmd.argv());
            let inherits = entry
                .hardened
                .entrypoint
                .as_ref()
                .is_some_and(|hardened| *hardened == entrypoint.argv());
            if let Some(problem) = command_problem(&argv, inherits, entry, &migration.text) {
                problems.push(format!(
                    "{}: stage {}: {problem}",
                    path.display(),
                    stage.index
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
        "only {checked} runnable stages had a known command"
    );
    eprintln!(
        "checked the command of {checked} runnable stages in {} files",
        files.len()
    );
}

#[test]
fn the_property_catches_a_doubled_program_and_a_public_script() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    let node = catalog.find("node").expect("node entry");
    let words = |list: &[&str]| {
        list.iter()
            .map(|word| (*word).to_owned())
            .collect::<Vec<_>>()
    };
    let doubled = words(&["/usr/bin/node", "node", "server.js"]);
    assert!(command_problem(&doubled, true, node, "").is_some());
    assert!(command_problem(&doubled, false, node, "").is_none());
    let script = words(&["docker-entrypoint.sh", "node", "server.js"]);
    assert!(command_problem(&script, false, node, "FROM x\n").is_some());
    let copied = "FROM x\nCOPY docker-entrypoint.sh /usr/local/bin/\n";
    assert!(command_problem(&script, false, node, copied).is_none());
    assert!(command_problem(&words(&["node", "server.js"]), false, node, "").is_none());
}
