//! hardport over the 18 before/after pairs of dfc (Chainguard's Dockerfile converter), with a
//! catalog mapping their images (`tests/fixtures/dfc-catalog.yaml`). Every `before` file must
//! migrate without error, re-parse and be stable, and each `FROM` must name the same replacement
//! repository dfc chose. Where the rest differs, README.md ("hardport and dfc") says why.

use std::path::Path;

use hardport::catalog::{Catalog, CatalogOptions, Target};
use hardport::discovery::FileKind;
use hardport::dockerfile;
use hardport::image_ref::ImageRef;
use hardport::migrate::migrate_text;
use hardport::rules::Context;
use parse_dockerfile::Instruction;

/// The repository (no tag) of every FROM, as written.
fn from_repositories(text: &str) -> Vec<String> {
    let file = dockerfile::parse(text).expect("parses");
    file.instructions()
        .iter()
        .filter_map(|instruction| match instruction {
            Instruction::From(from) => Some(from.image.value.to_string()),
            _ => None,
        })
        .map(|image| match ImageRef::parse(&image) {
            Ok(parsed) => match &parsed.registry {
                Some(registry) => format!("{registry}/{}", parsed.path),
                None => parsed.path,
            },
            Err(_) => image,
        })
        .collect()
}

/// One of dfc's testdata cases: its name and the texts of its before and after files.
struct Pair {
    name: String,
    before: String,
    after: String,
}

/// dfc's 18 before/after pairs, sorted by name; `None`, with a message, without the corpus.
fn pairs() -> Option<Vec<Pair>> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/chainguard-dev__dfc/testdata");
    if !dir.is_dir() {
        eprintln!("skipped: ../shared/corpus/chainguard-dev__dfc is not present");
        return None;
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read_dir")
        .filter_map(|entry| {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            name.strip_suffix(".before.Dockerfile").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 18);
    let read = |file: String| std::fs::read_to_string(dir.join(file)).expect("read");
    Some(
        names
            .into_iter()
            .map(|name| Pair {
                before: read(format!("{name}.before.Dockerfile")),
                after: read(format!("{name}.after.Dockerfile")),
                name,
            })
            .collect(),
    )
}

#[test]
fn every_dfc_pair_migrates_and_picks_dfcs_replacement() {
    let Some(pairs) = pairs() else {
        return;
    };
    let catalog = Catalog::load(&CatalogOptions {
        use_default: false,
        files: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dfc-catalog.yaml")],
        ..CatalogOptions::default()
    })
    .expect("dfc catalog");
    let context = Context::new(&catalog);
    for Pair {
        name,
        before,
        after,
    } in pairs
    {
        let migration = migrate_text(FileKind::Dockerfile, &before, context)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let again =
            migrate_text(FileKind::Dockerfile, &migration.text, context).expect("second run");
        assert_eq!(again.text, migration.text, "{name}: not idempotent");
        assert_eq!(
            from_repositories(&migration.text),
            from_repositories(&after),
            "{name}: FROM repositories differ from dfc's"
        );
    }
}

/// The built-in `--target chainguard` catalog, unlike the fixture, holds only images with a
/// source; on dfc's own inputs every `FROM` it rewrites must name the repository dfc chose.
#[test]
fn the_chainguard_target_picks_dfcs_replacement_for_every_image_it_maps() {
    let Some(pairs) = pairs() else {
        return;
    };
    let catalog = Catalog::target(Target::Chainguard, Some("cgr.dev/ORG")).expect("catalog");
    let context = Context::new(&catalog);
    let mut rewritten = 0;
    for Pair {
        name,
        before,
        after,
    } in pairs
    {
        let migration = migrate_text(FileKind::Dockerfile, &before, context)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let original = from_repositories(&before);
        let ours = from_repositories(&migration.text);
        let theirs = from_repositories(&after);
        assert_eq!(ours.len(), theirs.len(), "{name}");
        for ((was, ours), theirs) in original.iter().zip(&ours).zip(&theirs) {
            if ours != was {
                rewritten += 1;
                assert_eq!(
                    ours, theirs,
                    "{name}: `{was}` became `{ours}`, dfc chose `{theirs}`"
                );
            }
        }
    }
    assert!(rewritten >= 20, "only {rewritten} FROMs were rewritten");
}

/// The packages every `apk add` of a Dockerfile installs, as the shell reader splits its `RUN`s.
fn apk_added(text: &str) -> std::collections::BTreeSet<String> {
    let file = dockerfile::parse(text).expect("parses");
    let mut packages = std::collections::BTreeSet::new();
    for instruction in file.instructions() {
        let Instruction::Run(run) = instruction else {
            continue;
        };
        for command in hardport::shell::run::commands(&file, run) {
            let words: Vec<&str> = command
                .argv()
                .iter()
                .map(|word| word.text.as_str())
                .collect();
            if let ["apk", "add", rest @ ..] = words.as_slice() {
                packages.extend(
                    rest.iter()
                        .filter(|word| !word.starts_with('-'))
                        .map(|word| (*word).to_owned()),
                );
            }
        }
    }
    packages
}

/// With `--target chainguard`, a Dockerfile whose package commands hardport converts installs
/// exactly the packages dfc's after file installs; one it leaves (an unmapped name, a pin,
/// `add-apt-repository`, NodeSource's `curl … | bash` setup script in nodejs-ubuntu) says so,
/// and whatever it did convert is among dfc's packages.
#[test]
fn the_chainguard_target_installs_dfcs_packages() {
    let Some(pairs) = pairs() else {
        return;
    };
    let catalog = Catalog::target(Target::Chainguard, Some("cgr.dev/ORG")).expect("catalog");
    let context = Context::new(&catalog);
    let mut same = Vec::new();
    for Pair {
        name,
        before,
        after,
    } in pairs
    {
        let migration = migrate_text(FileKind::Dockerfile, &before, context).expect("migrates");
        let (ours, theirs) = (apk_added(&migration.text), apk_added(&after));
        let kept = migration
            .findings
            .iter()
            .any(|finding| finding.rule.code() == "package-manager");
        if kept {
            assert!(
                ours.is_subset(&theirs),
                "{name}: {ours:?} is not among dfc's {theirs:?}"
            );
        } else {
            assert_eq!(ours, theirs, "{name}: packages differ from dfc's");
            if !ours.is_empty() {
                same.push(name);
            }
        }
    }
    assert!(same.len() >= 8, "only {same:?} install dfc's packages");
}
