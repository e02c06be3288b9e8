//! What the containers of Compose files, Kubernetes manifests and workflows run after a
//! migration, read by an independent YAML reader (PyYAML, `tests/yaml/containers.py`, which
//! resolves `<<` merge keys itself): the same containers run, each image the catalog maps runs
//! from the replacement registry unless hardport said why it stays, every other image is the
//! one it was, commands and arguments are untouched, an entrypoint is only ever cleared
//! (`entrypoint: []`), and a user only ever becomes a number.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{case, copy_to_temp, hardport, report_files};
use hardport::catalog::Catalog;
use hardport::image_ref::ImageRef;
use serde_json::Value;

const INSTALL: &str = "python3 -m pip install pyyaml";

/// Each container of the file at `path` (of `kind`) with what it runs.
fn containers(kind: &str, path: &Path) -> BTreeMap<String, Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml/containers.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(kind)
        .arg(path)
        .output()
        .unwrap_or_else(|error| panic!("cannot run python3 ({error}); install: {INSTALL}"));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}: {err}; install: {INSTALL}",
        path.display()
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let container: Value = serde_json::from_str(line).expect("JSON line");
            let name = container["container"].as_str().expect("name").to_owned();
            (name, container)
        })
        .collect()
}

/// The files of `case` hardport takes as Compose files, manifests or workflows: kind, path and
/// whether it skips the file.
fn yaml_files(case: &Path) -> Vec<(String, String, bool)> {
    report_files(case, &[])
        .iter()
        .filter_map(|file| {
            let kind = file["kind"].as_str()?;
            let path = file["path"].as_str()?;
            let skipped = !file["skipped"].is_null();
            ["compose", "manifest", "workflow"]
                .contains(&kind)
                .then(|| (kind.to_owned(), path.to_owned(), skipped))
        })
        .collect()
}

fn is_mapped(catalog: &Catalog, reference: &str) -> bool {
    !reference.contains('$')
        && ImageRef::parse(reference)
            .ok()
            .and_then(|image| image.canonical_repository())
            .is_some_and(|repository| catalog.lookup(&repository).is_some())
}

/// Containers whose mapped image stays, each for a reason hardport reports: a kustomization
/// above renames it (`unresolved-image`).
const KEPT: [&str; 6] = [
    "Deployment/argocd-redis containers[redis]",
    "Deployment/cache containers[redis]",
    "Deployment/sessions containers[redis]",
    "Deployment/app containers[db]",
    "Deployment/app containers[cache]",
    "Deployment/app containers[proxy]",
];

#[test]
fn migrated_containers_run_the_replacements_with_the_same_commands() {
    let catalog = Catalog::embedded().expect("catalog");
    let mut moved = 0;
    let mut files = 0;
    for name in ["compose-and-ci", "kubernetes"] {
        let source = case(name);
        let copy = copy_to_temp(&source);
        let output = hardport(copy.path(), &["migrate", "--write"]);
        assert!(output.status.success(), "{name}: {output:?}");
        for (kind, path, skipped) in yaml_files(&source) {
            files += 1;
            if skipped {
                let read = |dir: &Path| std::fs::read(dir.join(&path)).expect("read");
                assert_eq!(
                    read(&source),
                    read(copy.path()),
                    "{path}: skipped, untouched"
                );
                continue;
            }
            let before = containers(&kind, &source.join(&path));
            let after = containers(&kind, &copy.path().join(&path));
            assert_eq!(
                before.keys().collect::<Vec<_>>(),
                after.keys().collect::<Vec<_>>(),
                "{path}: the same containers run"
            );
            for (container, was) in &before {
                let now = &after[container];
                let place = format!("{path}: {container}");
                assert_eq!(
                    was["command"], now["command"],
                    "{place}: arguments untouched"
                );
                if was["entrypoint"] != now["entrypoint"] {
                    assert!(
                        was["entrypoint"].is_null() && now["entrypoint"] == serde_json::json!([]),
                        "{place}: an entrypoint is only cleared: {was} → {now}"
                    );
                }
                if was["user"] != now["user"] {
                    let number = |user: &Value| {
                        user.as_u64().is_some()
                            || user.as_str().is_some_and(|text| {
                                text.split(':').all(|id| id.parse::<u32>().is_ok())
                            })
                    };
                    assert!(
                        number(&now["user"]),
                        "{place}: a user becomes ids: {} → {}",
                        was["user"],
                        now["user"]
                    );
                }
                let image = was["image"].as_str().unwrap_or_default();
                let mapped = is_mapped(&catalog, image) && !KEPT.contains(&container.as_str());
                if mapped {
                    let now = now["image"].as_str().unwrap_or_default();
                    assert!(
                        now.starts_with("reg.mini.dev/"),
                        "{place}: {image} still runs as {now}"
                    );
                    moved += 1;
                } else {
                    assert_eq!(
                        was["image"], now["image"],
                        "{place}: an unmoved image changed"
                    );
                }
            }
        }
    }
    assert!(files >= 10, "the fixtures hold the YAML kinds: {files}");
    assert!(moved >= 15, "the fixtures run mapped images: {moved}");
}
