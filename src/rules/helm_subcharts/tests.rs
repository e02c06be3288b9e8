use std::path::Path;

use crate::discovery::FileKind;
use crate::helm::chart::Chart;

use crate::rules::Context;
use crate::rules::test_support::{HELM_CATALOG, catalog_from_yaml, has, migrate_twice};

/// A chart in a temporary directory: `Chart.yaml` from `dependencies` (YAML list items) and
/// each vendored subchart as `charts/<name>/` with its `values.yaml`.
fn chart(dependencies: &str, vendored: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |path: &Path, text: &str| {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        &dir.path().join("Chart.yaml"),
        &format!("apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n{dependencies}"),
    );
    for (name, values) in vendored {
        let sub = dir.path().join("charts").join(name);
        write(
            &sub.join("Chart.yaml"),
            &format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\n"),
        );
        write(&sub.join("values.yaml"), values);
    }
    dir
}

/// Migrate `values` as the chart's values file: the result and `rule: message` per finding.
fn run(dir: &tempfile::TempDir, values: &str) -> (String, Vec<String>) {
    let catalog = catalog_from_yaml(HELM_CATALOG);
    let chart = Chart::load(dir.path(), u64::MAX)
        .expect("reads")
        .expect("chart");
    let context = Context::new(&catalog).with_chart(Some(&chart));
    let (migration, messages) = migrate_twice(FileKind::HelmValues, values, context);
    (migration.text, messages)
}

const NGINX_SUBCHART: &str =
    "image:\n  registry: docker.io\n  repository: nginx\n  tag: 1.27-alpine\n";

#[test]
fn an_override_without_registry_gets_the_registry_its_subchart_would_render() {
    let dir = chart(
        "  - {name: web, repository: https://example.com}\n",
        &[("web", NGINX_SUBCHART)],
    );
    let (fixed, messages) = run(&dir, "web:\n  image:\n    repository: nginx\n");
    assert_eq!(
        fixed,
        "web:\n  image:\n    repository: nginx\n    registry: reg.example.dev\n    tag: \"1.27\"\n"
    );
    assert!(
        has(
            &messages,
            "subchart-image: `web.image` (subchart `web`, charts/web)"
        ),
        "{messages:?}"
    );
    // The parent's own rule leaves the override to this one: no whole replacement in
    // `repository` (which the subchart's registry would prefix).
    assert!(!has(&messages, "helm-image"), "{messages:?}");
}

#[test]
fn an_alias_is_the_key_and_missing_mappings_are_created() {
    let dir = chart(
        "  - {name: web, alias: front, repository: https://example.com}\n",
        &[("web", NGINX_SUBCHART)],
    );
    let (fixed, _) = run(&dir, "# values\nreplicas: 1\n");
    assert_eq!(
        fixed,
        "# values\nreplicas: 1\nfront:\n  image:\n    registry: reg.example.dev\n    tag: \"1.27\"\n"
    );
}

#[test]
fn a_disabled_dependency_is_left_alone() {
    let dir = chart(
        "  - {name: web, repository: https://example.com, condition: web.enabled}\n",
        &[("web", NGINX_SUBCHART)],
    );
    let values = "web:\n  enabled: false\n";
    let (fixed, messages) = run(&dir, values);
    assert_eq!(fixed, values);
    assert!(messages.is_empty(), "{messages:?}");
}

#[test]
fn a_dependency_that_is_not_vendored_is_a_warning_naming_its_values() {
    let dir = chart(
        "  - {name: cache, repository: oci://registry-1.docker.io/bitnamicharts}\n  - {name: common, repository: oci://registry-1.docker.io/bitnamicharts}\n  - {name: common, repository: https://bjw-s-labs.github.io/helm-charts}\n",
        &[],
    );
    let (_, messages) = run(&dir, "cache:\n  auth: {}\n");
    assert_eq!(
        messages,
        [
            "subchart-not-vendored: dependency `cache` (oci://registry-1.docker.io/bitnamicharts) is not vendored under charts/, so hardport cannot see which images it runs: run `helm dependency build` and hardport again, or set its images under `cache` to their replacements yourself, in the layout the dependency's values.yaml gives them"
        ]
    );
}

#[test]
fn images_an_override_cannot_reach_are_reported() {
    let dir = chart(
        "  - {name: web, repository: https://example.com}\n",
        &[(
            "web",
            "sidecars:\n  - image: nginx:1.27\nimage:\n  registry: docker.io\n  repository: nginx\n  tag: \"1.27\"\n",
        )],
    );
    let values = "web:\n  image: nginx:1.27\n";
    let (fixed, messages) = run(&dir, values);
    assert_eq!(fixed, values);
    assert!(
        has(
            &messages,
            "unresolved-image: `web.sidecars[0].image` (subchart `web`, charts/web): an image in a list"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "unresolved-image: `web.image` (subchart `web`, charts/web): this file sets a string where the subchart has an image mapping"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_bitnami_subchart_running_a_replacement_gets_the_switch_in_the_parent() {
    let dir = chart(
        "  - {name: postgresql, repository: oci://registry-1.docker.io/bitnamicharts}\n",
        &[(
            "postgresql",
            "image:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: 17.6.0-debian-12-r4\n  digest: \"\"\n",
        )],
    );
    let (fixed, messages) = run(&dir, "postgresql:\n  auth: {database: app}\n");
    assert_eq!(
        fixed,
        "postgresql:\n  auth: {database: app}\n  image:\n    registry: reg.example.dev\n    repository: postgresql-bitnami\n    tag: 17.6.0\nglobal:\n  security:\n    allowInsecureImages: true\n"
    );
    assert!(has(&messages, "allow-insecure-images"), "{messages:?}");
}

#[test]
fn an_override_reached_through_an_alias_is_reported_not_edited() {
    let dir = chart(
        "  - {name: web, repository: https://example.com}\n",
        &[("web", NGINX_SUBCHART)],
    );
    let values = "shared: &img\n  repository: nginx\nweb:\n  image: *img\n";
    let (fixed, messages) = run(&dir, values);
    assert_eq!(fixed, values);
    assert!(
        has(
            &messages,
            "not-editable: `web.image` (subchart `web`, charts/web): this file reaches it through an alias"
        ),
        "{messages:?}"
    );
}

#[test]
fn an_empty_tag_renders_the_subcharts_app_version_which_is_checked() {
    let dir = chart(
        "  - {name: web, repository: https://example.com}\n",
        &[("web", "image:\n  repository: nginx\n  tag: \"\"\n")],
    );
    std::fs::write(
        dir.path().join("charts/web/Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: 1.27.3-alpine\n",
    )
    .expect("write");
    let (_, messages) = run(&dir, "web: {}\n");
    assert!(
        has(
            &messages,
            "app-version-tag: `web.image` (subchart `web`, charts/web): no tag, so the subchart renders its appVersion `1.27.3-alpine`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_subcharts_default_ids_for_a_moved_image_are_named_with_the_key_to_set() {
    // Prometheus' alertmanager subchart runs as 65534 by default; the replacement (redis in the
    // test catalog) runs as 999.
    let sub = "image:\n  repository: redis\n  tag: 7.2.4\nsecurityContext:\n  runAsUser: 65534\n  runAsGroup: 999\n  fsGroup: 65534\n";
    let dir = chart(
        "  - {name: alertmanager, repository: https://example.com}\n",
        &[("alertmanager", sub)],
    );
    let (_, messages) = run(
        &dir,
        "alertmanager:\n  securityContext:\n    fsGroup: 999\n",
    );
    let kept: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("security-context-unset"))
        .collect();
    assert_eq!(
        kept,
        [
            "security-context-unset: the subchart's default `securityContext.runAsUser: 65534` still applies to `alertmanager.image`, whose replacement reg.example.dev/redis runs with runAsUser 999: set `alertmanager.securityContext.runAsUser` in this file"
        ],
        "runAsGroup already matches and fsGroup is overridden here: {messages:?}"
    );
}

/// `run` under `--pin`, with a lock holding `reg.example.dev/nginx:1.27` at digest `sha256:1…1`.
fn run_pinned(dir: &tempfile::TempDir, values: &str, locked: bool) -> (String, Vec<String>) {
    let mut lock = crate::lock::Lock::default();
    if locked {
        lock.images.insert(
            "reg.example.dev/nginx:1.27".to_owned(),
            crate::lock::LockedImage {
                digest: format!("sha256:{}", "1".repeat(64)),
                index_digest: None,
                platform: "linux/amd64".into(),
                read: "2026-12-04".into(),
                facts: crate::catalog::ImageSpec::default(),
            },
        );
    }
    let catalog = catalog_from_yaml(HELM_CATALOG).with_lock(&lock);
    let chart = Chart::load(dir.path(), u64::MAX)
        .expect("reads")
        .expect("chart");
    let context = Context::new(&catalog)
        .with_chart(Some(&chart))
        .pinning(crate::rules::Pin::FromLock);
    let (migration, messages) = migrate_twice(FileKind::HelmValues, values, context);
    (migration.text, messages)
}

#[test]
fn with_pin_a_subchart_image_gets_the_locked_digest_of_its_replacement() {
    let digest = format!("sha256:{}", "1".repeat(64));
    let bitnami = format!("{NGINX_SUBCHART}  digest: \"\"\n");
    let dir = chart(
        "  - {name: web, repository: https://example.com}\n",
        &[("web", &bitnami)],
    );
    let (fixed, _) = run_pinned(&dir, "web: {}\n", true);
    assert!(fixed.contains(&format!("digest: {digest}")), "{fixed}");

    // A string image gets `@digest`.
    let dir = chart(
        "  - {name: web, repository: https://example.com}\n",
        &[("web", "image: nginx:1.27-alpine\n")],
    );
    let (fixed, _) = run_pinned(&dir, "web: {}\n", true);
    assert!(
        fixed.contains(&format!("image: reg.example.dev/nginx:1.27@{digest}")),
        "{fixed}"
    );

    // No digest in the lock, or no `digest` key to hold one: said, and the image still moves.
    let (fixed, messages) = run_pinned(&dir, "web: {}\n", false);
    assert!(
        fixed.contains("image: reg.example.dev/nginx:1.27\n"),
        "{fixed}"
    );
    assert!(
        has(
            &messages,
            "missing-fact: `--pin`: hardport.lock holds no digest for reg.example.dev/nginx:1.27"
        ),
        "{messages:?}"
    );
    let dir = chart(
        "  - {name: web, repository: https://example.com}\n",
        &[("web", NGINX_SUBCHART)],
    );
    let (fixed, messages) = run_pinned(&dir, "web: {}\n", true);
    assert!(!fixed.contains("sha256"), "{fixed}");
    assert!(
        has(
            &messages,
            "unresolved-image: `--pin`: `reg.example.dev/nginx:1.27` cannot be pinned by digest: the subchart's image mapping has no `digest` key"
        ),
        "{messages:?}"
    );
}
