//! What `kustomize build` (kubectl's) gives for the overlays of `testdata/kubernetes` before and
//! after `hardport migrate --write`: the images a cluster would run, judged by a real
//! kustomize rather than by the text hardport wrote. An overlay's own tag must survive (its
//! `images:` entry keeps matching what the base produces), and every image that moves runs
//! from the replacement registry.

mod common;

use std::path::Path;
use std::process::Command;

use common::{case, copy_to_temp, hardport};

const INSTALL: &str = "apt-get install kubernetes-client (kubectl, with kustomize built in)";

/// The images of every container `kubectl kustomize dir` renders, in order.
fn built_images(dir: &Path) -> Vec<String> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap_or_else(|error| panic!("cannot run kubectl ({error}); install: {INSTALL}"));
    assert!(
        output.status.success(),
        "kustomize build {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            line.trim_start()
                .trim_start_matches("- ")
                .strip_prefix("image: ")
        })
        .map(|image| image.trim().to_owned())
        .collect()
}

#[test]
fn overlays_build_the_replacements_with_their_own_tags() {
    let source = case("kubernetes");
    let copy = copy_to_temp(&source);
    let overlays = [
        "kustomize-layers/overlays/prod",
        "kustomize-layers/overlays/dev",
        "overlays/prod",
        "kustomize-layers/overlays/mixed",
    ];
    let before: Vec<Vec<String>> = overlays
        .iter()
        .map(|overlay| built_images(&source.join(overlay)))
        .collect();
    let output = hardport(copy.path(), &["migrate", "--write"]);
    assert!(output.status.success(), "{output:?}");
    let after: Vec<Vec<String>> = overlays
        .iter()
        .map(|overlay| built_images(&copy.path().join(overlay)))
        .collect();
    assert_eq!(before[0], ["redis:7.4", "nginx:1.27"]);
    assert_eq!(
        after[0],
        ["reg.mini.dev/redis:7.4", "reg.mini.dev/nginx:1.27"],
        "the overlay's tag survives its base's move, the base's own image moves"
    );
    assert_eq!(before[1], ["redis:7.2-alpine", "nginx:1.27"]);
    assert_eq!(
        after[1],
        ["reg.mini.dev/redis:7.2", "reg.mini.dev/nginx:1.27"],
        "an overlay without entries builds what its base now produces"
    );
    assert_eq!(
        after[2],
        [
            "reg.mini.dev/postgres:16.4",
            // Left and reported: the entry has no newTag, and the other is pinned by digest.
            before[2][1].as_str(),
            before[2][2].as_str(),
        ]
    );
    // Two sources of `redis`: the base, whose entry moves, and a manifest no entry of its own
    // renames; the overlay's tag reaches both.
    assert_eq!(before[3], ["redis:7.4", "nginx:1.27", "redis:7.4"]);
    assert_eq!(
        after[3],
        [
            "reg.mini.dev/redis:7.4",
            "reg.mini.dev/nginx:1.27",
            "reg.mini.dev/redis:7.4"
        ]
    );
}
