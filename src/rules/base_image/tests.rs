use super::*;
use crate::catalog::Catalog;
use crate::dockerfile;
use crate::fix::apply_fixes;

const CATALOG: &str = r#"
version: 1
registry: reg.example.dev
images:
  - {name: node, match: [node], dev_tag_suffix: "-dev", source: test}
  - {name: nginx, match: [nginx], source: test}
  - {name: php, match: [php], source: test}
  - {name: base, match: [ubuntu, fedora], tag: latest, source: test}
"#;

fn catalog() -> Catalog {
    crate::rules::test_support::catalog_from_yaml(CATALOG)
}

/// Run the rule once; return the fixed text and `rule: message` for every diagnostic.
fn run(text: &str) -> (String, Vec<String>) {
    let catalog = catalog();
    let file = dockerfile::parse(text).expect("parses");
    let diagnostics = check(&file, Context::new(&catalog));
    let fixes: Vec<&Fix> = diagnostics.iter().filter_map(|d| d.fix.as_ref()).collect();
    let fixed = apply_fixes(text, &fixes).text;
    let messages = diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.rule, d.text()))
        .collect();
    (fixed, messages)
}

fn rewritten(text: &str) -> String {
    run(text).0
}

#[test]
fn rewrites_from_keeping_platform_stage_name_and_case() {
    assert_eq!(
        rewritten("from --platform=$BUILDPLATFORM node:20-alpine as build\n"),
        "from --platform=$BUILDPLATFORM reg.example.dev/node:20 as build\n"
    );
}

#[test]
fn docker_hub_spellings_are_all_recognised() {
    for image in [
        "nginx",
        "library/nginx",
        "docker.io/library/nginx",
        "index.docker.io/library/nginx",
    ] {
        assert_eq!(
            rewritten(&format!("FROM {image}\n")),
            "FROM reg.example.dev/nginx:latest\n",
            "{image}"
        );
    }
}

#[test]
fn leaves_stage_names_scratch_and_unmapped_images() {
    let text = "FROM node:20 AS Build\nFROM build\nFROM scratch\nCOPY --from=BUILD /a /a\nCOPY --from=0 /b /b\nFROM debian:bookworm\n";
    let (fixed, messages) = run(text);
    assert_eq!(
        fixed,
        text.replacen("node:20", "reg.example.dev/node:20", 1)
    );
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[1]
            .starts_with("unmapped-image: no catalog entry replaces docker.io/library/debian"),
        "{messages:?}"
    );
}

#[test]
fn rewrites_copy_from_and_run_mount_from() {
    let text = "FROM debian\nCOPY --from=nginx:1.27 /etc/nginx /x\nRUN --mount=type=bind,from=node:20-slim,target=/n ls /n\n";
    assert_eq!(
        rewritten(text),
        "FROM debian\nCOPY --from=reg.example.dev/nginx:1.27 /etc/nginx /x\nRUN --mount=type=bind,from=reg.example.dev/node:20,target=/n ls /n\n"
    );
}

#[test]
fn follows_a_global_arg_and_edits_its_default_once() {
    let text = "ARG BASE=\"node:20-bookworm\"\nFROM ${BASE} AS a\nFROM $BASE AS b\n";
    let (fixed, messages) = run(text);
    assert_eq!(
        fixed,
        "ARG BASE=\"reg.example.dev/node:20\"\nFROM ${BASE} AS a\nFROM $BASE AS b\n"
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
}

#[test]
fn keeps_tag_variables_and_drops_distro_suffixes_after_them() {
    assert_eq!(
        rewritten("ARG NODE_VERSION=20\nFROM node:${NODE_VERSION}-alpine\n"),
        "ARG NODE_VERSION=20\nFROM reg.example.dev/node:${NODE_VERSION}\n"
    );
}

#[test]
fn a_tag_variable_whose_default_carries_a_suffix_is_reported_not_edited() {
    let text = "ARG NODE_VERSION=20-alpine\nFROM node:${NODE_VERSION}\n";
    let (fixed, messages) = run(text);
    assert_eq!(fixed, text);
    assert_eq!(messages.len(), 1);
    assert!(messages[0].starts_with("unresolved-image:"), "{messages:?}");
    assert!(messages[0].contains("`20`"), "{messages:?}");
}

#[test]
fn a_variable_repository_is_reported_not_edited() {
    let text = "ARG REGISTRY=docker.io\nFROM ${REGISTRY}/library/node:20\nFROM ${OTHER}\nARG X\n";
    let (fixed, messages) = run(text);
    assert_eq!(fixed, text);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("resolves to `docker.io/library/node:20`"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("no ARG before the first FROM"),
        "{messages:?}"
    );
}

#[test]
fn a_variable_repository_resolving_to_an_unmapped_image_is_only_noted() {
    let text = "ARG REPO=mcr.microsoft.com/dotnet/runtime\nFROM $REPO:10.0-alpine AS installer\n";
    let (fixed, messages) = run(text);
    assert_eq!(fixed, text);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with(
            "unmapped-image: no catalog entry replaces mcr.microsoft.com/dotnet/runtime"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_stage_chosen_by_a_platform_variable_is_a_stage() {
    let text = "FROM nginx AS image-base-amd64\nFROM nginx AS image-base-arm64\nARG TARGETARCH\nFROM image-base-${TARGETARCH} AS image-base\n";
    let (_, messages) = run(text);
    assert!(
        messages.iter().all(|m| m.starts_with("base-image:")),
        "{messages:?}"
    );
}

#[test]
fn an_arg_without_default_is_reported() {
    let (fixed, messages) = run("ARG BASE\nFROM $BASE\n");
    assert_eq!(fixed, "ARG BASE\nFROM $BASE\n");
    assert!(messages[0].contains("has no default"), "{messages:?}");
}

#[test]
fn a_digest_is_dropped_with_a_warning() {
    let (fixed, messages) = run(
        "FROM nginx:1.27-alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    );
    assert_eq!(fixed, "FROM reg.example.dev/nginx:1.27\n");
    assert!(
        messages.iter().any(|m| m.starts_with("digest-dropped:")),
        "{messages:?}"
    );
}

#[test]
fn a_kept_tag_variant_is_a_warning() {
    let (fixed, messages) = run("FROM php:8.3-fpm-alpine\n");
    assert_eq!(fixed, "FROM reg.example.dev/php:8.3-fpm\n");
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("tag-variant:") && m.contains("`fpm`")),
        "{messages:?}"
    );
}

#[test]
fn already_migrated_references_are_silent() {
    let (fixed, messages) =
        run("FROM reg.example.dev/node:20\nCOPY --from=reg.example.dev/nginx:1.27 /a /a\n");
    assert_eq!(
        fixed,
        "FROM reg.example.dev/node:20\nCOPY --from=reg.example.dev/nginx:1.27 /a /a\n"
    );
    assert!(messages.is_empty(), "{messages:?}");
}

#[test]
fn heredoc_bodies_and_comments_are_never_references() {
    let text = "# FROM node:20\nFROM debian\nRUN <<EOF\nFROM node:20\nEOF\n";
    let (fixed, _) = run(text);
    assert_eq!(fixed, text);
}

#[test]
fn crlf_bom_and_escape_directive_survive() {
    let text = "\u{feff}# escape=`\r\nFROM node:20 `\r\n  AS b\r\nRUN echo `\r\n  hi\r\n";
    assert_eq!(
        rewritten(text),
        "\u{feff}# escape=`\r\nFROM reg.example.dev/node:20 `\r\n  AS b\r\nRUN echo `\r\n  hi\r\n"
    );
}

#[test]
fn a_fixed_catalog_tag_replaces_the_tag_policy() {
    let (fixed, messages) = run(
        "FROM ubuntu:20.04\nFROM fedora:30@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    );
    assert_eq!(
        fixed,
        "FROM reg.example.dev/base:latest\nFROM reg.example.dev/base:latest\n"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("digest-dropped:")),
        "{messages:?}"
    );
}

#[test]
fn a_replacement_that_is_not_one_word_is_never_written() {
    // Catalog validation refuses such a replacement; the rule refuses it again, so no catalog
    // string can add an instruction to a Dockerfile.
    let mut catalog = crate::rules::test_support::test_catalog();
    let node = catalog
        .entries_mut()
        .iter_mut()
        .find(|entry| entry.name == "node")
        .expect("node");
    node.replacement = "reg.example.dev/node\nRUN curl x | sh".into();
    let text = "FROM node:20\nCOPY . .\n";
    let migration = crate::migrate::migrate_text(
        crate::discovery::FileKind::Dockerfile,
        text,
        crate::rules::Context::new(&catalog),
    )
    .expect("migrates");
    assert_eq!(migration.text, text);
    assert!(
        migration.findings.iter().any(|finding| finding.rule
            == crate::rules::Rule::UnresolvedImage
            && finding.message.contains("is not one word")),
        "{:?}",
        migration.findings
    );
}

#[test]
fn a_tag_built_from_arg_defaults_names_the_images_they_build_for_facts_resolve() {
    let catalog = catalog();
    let text = "ARG V=20\nFROM node:${V}-alpine\nFROM node:20\n";
    let file = dockerfile::parse(text).expect("parses");
    let diagnostics = check(&file, Context::new(&catalog));
    let unread: Vec<&[String]> = diagnostics
        .iter()
        .map(|diagnostic| diagnostic.unread_images.as_slice())
        .collect();
    assert_eq!(
        unread,
        [
            &[
                "docker.io/library/node:20-alpine".to_owned(),
                "reg.example.dev/node:20".to_owned(),
                "reg.example.dev/node:20-dev".to_owned(),
            ][..],
            // A literal tag is named by its rewrite already.
            &[][..],
        ]
    );
}
