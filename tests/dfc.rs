//! hardport over the 18 before/after pairs of dfc (Chainguard's Dockerfile converter), with a
//! catalog mapping their images (`tests/fixtures/dfc-catalog.yaml`). Every `before` file must
//! migrate without error, re-parse and be stable, and each `FROM` must name the same replacement
//! repository dfc chose. Where the rest differs, README.md ("hardport and dfc") says why.

use std::path::{Path, PathBuf};

use hardport::catalog::{Catalog, CatalogOptions};
use hardport::discovery::FileKind;
use hardport::dockerfile;
use hardport::image_ref::ImageRef;
use hardport::migrate::migrate_text;
use hardport::rules::Context;
use parse_dockerfile::Instruction;

fn dfc_testdata() -> Option<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/chainguard-dev__dfc/testdata");
    dir.is_dir().then_some(dir)
}

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

#[test]
fn every_dfc_pair_migrates_and_picks_dfcs_replacement() {
    let Some(dir) = dfc_testdata() else {
        eprintln!("skipped: ../shared/corpus/chainguard-dev__dfc is not present");
        return;
    };
    let catalog = Catalog::load(&CatalogOptions {
        use_default: false,
        files: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dfc-catalog.yaml")],
        registry: None,
    })
    .expect("dfc catalog");
    let context = Context::new(&catalog);
    let mut befores: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read_dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.to_string_lossy().ends_with(".before.Dockerfile"))
        .collect();
    befores.sort();
    assert_eq!(befores.len(), 18);
    for before in befores {
        let name = before
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&before).expect("read");
        let after_path = dir.join(name.replace(".before.", ".after."));
        let dfc = std::fs::read_to_string(after_path).expect("dfc after");
        let migration = migrate_text(FileKind::Dockerfile, &text, context)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let again =
            migrate_text(FileKind::Dockerfile, &migration.text, context).expect("second run");
        assert_eq!(again.text, migration.text, "{name}: not idempotent");
        assert_eq!(
            from_repositories(&migration.text),
            from_repositories(&dfc),
            "{name}: FROM repositories differ from dfc's"
        );
    }
}
