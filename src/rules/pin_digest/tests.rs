use crate::catalog::{Catalog, ImageSpec};
use crate::discovery::FileKind;
use crate::lock::{Lock, LockedImage};
use crate::migrate::Migration;
use crate::rules::test_support::{
    HELM_CATALOG, TEST_CATALOG, catalog_from_yaml, has, migrate_twice,
};
use crate::rules::{Context, Pin};

/// `sha256:` and 64 times `digit`: a digest that says which image it stands for.
fn digest(digit: char) -> String {
    format!("sha256:{}", digit.to_string().repeat(64))
}

/// A lock holding `images` (canonical reference, manifest digest, index digest).
fn lock(images: &[(&str, char, Option<char>)]) -> Lock {
    let mut lock = Lock::default();
    for &(reference, manifest, index) in images {
        lock.images.insert(
            reference.to_owned(),
            LockedImage {
                digest: digest(manifest),
                index_digest: index.map(digest),
                platform: "linux/amd64".into(),
                read: "2026-12-04".into(),
                facts: ImageSpec::default(),
            },
        );
    }
    lock
}

fn migrate(kind: FileKind, catalog: &Catalog, pin: Pin, text: &str) -> (Migration, Vec<String>) {
    migrate_twice(kind, text, Context::new(catalog).pinning(pin))
}

fn dockerfile(catalog: &Catalog, pin: Pin, text: &str) -> (String, Vec<String>) {
    let (migration, messages) = migrate(FileKind::Dockerfile, catalog, pin, text);
    (migration.text, messages)
}

/// The node images of the test catalog, production and `-dev`, the production one behind a
/// multi-platform index.
fn node_lock() -> Lock {
    lock(&[
        ("reg.example.dev/node:20", '1', Some('2')),
        ("reg.example.dev/node:20-dev", '3', None),
    ])
}

const BUILD_AND_RUN: &str = "FROM node:20-alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build\n\
                             RUN npm ci\n\
                             FROM node:20-alpine\n\
                             COPY --from=build /app /app\n";

#[test]
fn each_stage_is_pinned_on_the_image_it_ends_up_on_and_no_digest_is_reported_dropped() {
    let catalog = catalog_from_yaml(TEST_CATALOG).with_lock(&node_lock());
    let (fixed, messages) = dockerfile(&catalog, Pin::FromLock, BUILD_AND_RUN);
    // The build stage runs npm on the -dev image: pinned by that image's digest, not the
    // production one's; the final stage by the index digest, which every platform resolves.
    assert!(
        fixed.starts_with(&format!(
            "FROM reg.example.dev/node:20-dev@{} AS build\n",
            digest('3')
        )),
        "{fixed}"
    );
    assert!(
        fixed.contains(&format!("\nFROM reg.example.dev/node:20@{}\n", digest('2'))),
        "{fixed}"
    );
    assert!(
        has(
            &messages,
            "pin-digest: `reg.example.dev/node:20-dev` → `reg.example.dev/node:20-dev@sha256:3333"
        ),
        "{messages:?}"
    );
    assert!(!has(&messages, "digest-dropped"), "{messages:?}");
    assert!(!has(&messages, "missing-fact"), "{messages:?}");
}

#[test]
fn without_pin_nothing_is_pinned_and_the_dropped_digest_is_reported() {
    let catalog = catalog_from_yaml(TEST_CATALOG).with_lock(&node_lock());
    let (fixed, messages) = dockerfile(&catalog, Pin::Off, BUILD_AND_RUN);
    assert!(!fixed.contains("@sha256"), "{fixed}");
    assert!(has(&messages, "digest-dropped"), "{messages:?}");
    assert!(!has(&messages, "pin-digest"), "{messages:?}");
}

#[test]
fn an_image_the_lock_does_not_hold_is_a_missing_fact_naming_it_and_stays_unpinned() {
    let catalog =
        catalog_from_yaml(TEST_CATALOG).with_lock(&lock(&[("reg.example.dev/node:20", '1', None)]));
    let text = "FROM node:20-alpine AS build\nRUN npm ci\nFROM node:20-alpine\n";
    let (migration, messages) = migrate(FileKind::Dockerfile, &catalog, Pin::FromLock, text);
    assert!(
        migration
            .text
            .starts_with("FROM reg.example.dev/node:20-dev AS build\n"),
        "{}",
        migration.text
    );
    assert!(
        migration
            .text
            .ends_with(&format!("FROM reg.example.dev/node:20@{}\n", digest('1'))),
        "{}",
        migration.text
    );
    assert!(
        has(
            &messages,
            "missing-fact: `--pin`: hardport.lock holds no digest for reg.example.dev/node:20-dev"
        ),
        "{messages:?}"
    );
    let unread: Vec<_> = migration
        .findings
        .iter()
        .flat_map(|finding| &finding.unread_images)
        .collect();
    assert_eq!(unread, ["reg.example.dev/node:20-dev"]);
}

#[test]
fn an_already_migrated_reference_is_pinned_and_a_copy_source_too() {
    let catalog = catalog_from_yaml(TEST_CATALOG).with_lock(&node_lock());
    let text = "FROM reg.example.dev/node:20\nCOPY --from=reg.example.dev/node:20 /a /a\n";
    let (fixed, _) = dockerfile(&catalog, Pin::FromLock, text);
    let pinned = format!("reg.example.dev/node:20@{}", digest('2'));
    assert_eq!(
        fixed,
        format!("FROM {pinned}\nCOPY --from={pinned} /a /a\n")
    );
}

#[test]
fn a_variable_tag_cannot_be_pinned_and_says_so() {
    let catalog = catalog_from_yaml(TEST_CATALOG).with_lock(&node_lock());
    let text = "ARG V=20\nFROM node:${V}\n";
    let (fixed, messages) = dockerfile(&catalog, Pin::FromLock, text);
    assert_eq!(fixed, "ARG V=20\nFROM reg.example.dev/node:${V}\n");
    assert!(
        has(
            &messages,
            "unresolved-image: `reg.example.dev/node:${V}` cannot be pinned by digest"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_pinned_production_image_a_build_stage_needs_as_dev_is_re_pinned_by_the_dev_digest() {
    let text = format!("FROM reg.example.dev/node:20@{}\nRUN npm ci\n", digest('2'));
    let catalog = catalog_from_yaml(TEST_CATALOG).with_lock(&node_lock());
    let (fixed, _) = dockerfile(&catalog, Pin::Off, &text);
    assert!(
        fixed.starts_with(&format!(
            "FROM reg.example.dev/node:20-dev@{}\n",
            digest('3')
        )),
        "{fixed}"
    );
    // Without the -dev digest the production pin cannot be carried over: left, and reported.
    let unlocked = catalog_from_yaml(TEST_CATALOG);
    let (fixed, messages) = dockerfile(&unlocked, Pin::Off, &text);
    assert!(
        fixed.starts_with(&text[..text.find('\n').expect("line")]),
        "{fixed}"
    );
    assert!(has(&messages, "unresolved-image:"), "{messages:?}");
}

fn values(lock: &Lock, text: &str) -> (String, Vec<String>) {
    let catalog = catalog_from_yaml(HELM_CATALOG).with_lock(lock);
    let (migration, messages) = migrate(FileKind::HelmValues, &catalog, Pin::FromLock, text);
    (migration.text, messages)
}

#[test]
fn helm_string_images_and_digest_keys_get_the_replacements_digest() {
    let lock = lock(&[("reg.example.dev/nginx:1.27", '5', None)]);
    let text = format!(
        "web:\n  image: \"nginx:1.27@{}\"\nproxy:\n  image:\n    registry: docker.io\n    repository: nginx\n    tag: 1.27-alpine\n    digest: \"\"\n",
        digest('0')
    );
    let (fixed, messages) = values(&lock, &text);
    assert_eq!(
        fixed,
        format!(
            "web:\n  image: \"reg.example.dev/nginx:1.27@{d}\"\nproxy:\n  image:\n    registry: reg.example.dev\n    repository: nginx\n    tag: \"1.27\"\n    digest: \"{d}\"\n",
            d = digest('5')
        )
    );
    assert!(!has(&messages, "digest-dropped"), "{messages:?}");
}

#[test]
fn helm_images_that_cannot_hold_a_digest_are_reported_not_rewritten_differently() {
    let lock = lock(&[("reg.example.dev/nginx:1.27", '5', None)]);
    let text = "a:\n  image:\n    repository: nginx\n    tag: \"1.27\"\nb:\n  image:\n    repository: nginx\n    tag: \"\"\n    digest: \"\"\n";
    let (fixed, messages) = values(&lock, text);
    assert_eq!(
        fixed,
        "a:\n  image:\n    repository: reg.example.dev/nginx\n    tag: \"1.27\"\nb:\n  image:\n    repository: reg.example.dev/nginx\n    tag: \"\"\n    digest: \"\"\n"
    );
    assert!(
        has(&messages, "unresolved-image: `a.image` has no `digest` key"),
        "{messages:?}"
    );
    assert!(
        has(&messages, "unresolved-image: `b.image` has no tag"),
        "{messages:?}"
    );
}

#[test]
fn compose_and_workflow_references_are_pinned_on_the_image_they_end_up_on() {
    let catalog = catalog_from_yaml(TEST_CATALOG).with_lock(&node_lock());
    let (compose, messages) = migrate(
        FileKind::Compose,
        &catalog,
        Pin::FromLock,
        "services:\n  web:\n    image: node:20-alpine\n",
    );
    assert_eq!(
        compose.text,
        format!(
            "services:\n  web:\n    image: reg.example.dev/node:20@{}\n",
            digest('2')
        ),
        "{messages:?}"
    );
    assert!(
        has(&messages, "pin-digest: `services.web.image`"),
        "{messages:?}"
    );
    let (workflow, _) = migrate(
        FileKind::Workflow,
        &catalog,
        Pin::FromLock,
        "jobs:\n  test:\n    container: node:20\n",
    );
    assert_eq!(
        workflow.text,
        format!(
            "jobs:\n  test:\n    container: reg.example.dev/node:20-dev@{}\n",
            digest('3')
        ),
        "a job container is pinned on its -dev image"
    );
}
