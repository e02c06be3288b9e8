use super::*;
use crate::rules::test_support::{TEST_CATALOG, catalog_from_yaml};
use crate::yaml::parse;

fn resolutions(text: &str) -> Vec<(String, String)> {
    let catalog = catalog_from_yaml(TEST_CATALOG);
    let stream = parse(text).expect("parses");
    let values = values(&stream.documents[0], &catalog, None);
    values
        .images
        .iter()
        .map(|image| {
            let what = match &image.resolution {
                Resolution::Migrating(mapped) => format!(
                    "migrating {} tag {:?}",
                    mapped.entry.name,
                    mapped.tag.as_ref().map(|tag| tag.tag.clone())
                ),
                Resolution::Hardened { entry, .. } => format!("hardened {}", entry.name),
                Resolution::Inherited(entry) => format!("inherited {}", entry.name),
                Resolution::Unmapped { repository } => format!("unmapped {repository}"),
                Resolution::Unresolved(_) => "unresolved".into(),
                Resolution::Empty => "empty".into(),
                Resolution::InSubchart => "in subchart".into(),
            };
            (image.path.clone(), what)
        })
        .collect()
}

#[test]
fn every_image_shape_is_found_with_its_path() {
    let found = resolutions(
        "image:\n  registry: docker.io\n  repository: library/nginx\n  tag: 1.27-alpine\n\
         sidecar:\n  initImage: node:20-slim\n\
         keda:\n  image:\n    operator:\n      repository: postgres\n      tag: \"16\"\n\
         other:\n  image: ghcr.io/acme/tool:1\n",
    );
    assert_eq!(
        found,
        [
            ("image".into(), "migrating nginx tag Some(\"1.27\")".into()),
            (
                "sidecar.initImage".into(),
                "migrating node tag Some(\"20\")".into()
            ),
            (
                "keda.image.operator".into(),
                "migrating postgres tag Some(\"16\")".into()
            ),
            ("other.image".into(), "unmapped ghcr.io/acme/tool".into()),
        ]
    );
}

#[test]
fn an_empty_tag_keeps_the_app_version_and_a_digest_wins_over_the_tag() {
    let found = resolutions(
        "image:\n  repository: nginx\n  tag: \"\"\n\
         pinned:\n  image:\n    repository: nginx\n    tag: \"1.27\"\n    digest: sha256:0123456789012345678901234567890123456789012345678901234567890123\n",
    );
    assert_eq!(found[0].1, "migrating nginx tag None");
    assert_eq!(found[1].1, "migrating nginx tag Some(\"1.27\")");
}

#[test]
fn global_image_registry_over_an_image_registry_is_not_rewritten() {
    let found = resolutions(
        "global:\n  imageRegistry: mirror.example.com\nimage:\n  registry: docker.io\n  repository: nginx\n  tag: \"1.27\"\n",
    );
    assert_eq!(found, [("image".into(), "unresolved".into())]);
}

#[test]
fn an_empty_repository_inherits_global_image() {
    let found = resolutions(
        "global:\n  image:\n    repository: nginx\n    tag: \"1.27\"\ncontroller:\n  image:\n    repository: \"\"\n",
    );
    assert_eq!(
        found,
        [
            (
                "global.image".into(),
                "migrating nginx tag Some(\"1.27\")".into()
            ),
            ("controller.image".into(), "inherited nginx".into()),
        ]
    );
}

#[test]
fn replacements_templates_and_non_strings_are_told_apart() {
    let found = resolutions(
        "a:\n  image: reg.example.dev/nginx:1.27\nb:\n  image: \"{{ .Values.x }}\"\nc:\n  useImage: true\nd:\n  image: ~\n",
    );
    assert_eq!(
        found,
        [
            ("a.image".into(), "hardened nginx".into()),
            ("b.image".into(), "unresolved".into()),
            ("c.useImage".into(), "empty".into()),
            ("d.image".into(), "empty".into()),
        ]
    );
}

#[test]
fn an_alias_is_read_through_its_anchor() {
    let found =
        resolutions("base: &img\n  repository: nginx\n  tag: \"1.27\"\nweb:\n  image: *img\n");
    assert_eq!(
        found,
        [(
            "web.image".into(),
            "migrating nginx tag Some(\"1.27\")".into()
        )]
    );
}

#[test]
fn merge_keys_are_read_where_the_fields_are_written() {
    let catalog = catalog_from_yaml(TEST_CATALOG);
    let text = "base: &base\n  repository: nginx\n  tag: \"1.27\"\nweb:\n  image:\n    <<: *base\n    tag: \"1.26-alpine\"\n";
    let stream = parse(text).expect("parses");
    let values = values(&stream.documents[0], &catalog, None);
    let [image] = values.images.as_slice() else {
        panic!("one image: {:?}", values.images);
    };
    let Shape::Fields(fields) = &image.shape else {
        panic!("fields");
    };
    assert_eq!(&text[fields.repository.range.clone()], "nginx");
    assert_eq!(fields.repository.range.start, text.find("nginx").unwrap());
    assert_eq!(fields.tag.and_then(Node::value), Some("1.26-alpine"));
}

#[test]
fn a_tag_beside_a_string_image_makes_the_string_a_repository() {
    let found =
        resolutions("image: \"nginx\"\nimageTag: \"1.27-alpine\"\nimagePullPolicy: Always\n");
    assert_eq!(
        found,
        [("image".into(), "migrating nginx tag Some(\"1.27\")".into())]
    );
}

#[test]
fn only_a_text_that_spells_image_or_may_escape_it_may_name_an_image() {
    for text in [
        "image: nginx\n",
        "server:\n  sidecarImage: {repository: x}\n",
        "IMAGE: x\n",
        "\"im\\x61ge\": nginx\n",
    ] {
        assert!(may_name_an_image(text), "{text:?}");
    }
    for text in ["", "replicaCount: 2\n", "# imag e\nima: ge\n", "imag: [\n"] {
        assert!(!may_name_an_image(text), "{text:?}");
    }
}

#[test]
fn every_corpus_like_image_key_is_seen_by_the_cheap_check() {
    // The cheap check must never reject a text the values model finds an image in.
    for text in [
        "image: nginx:1.27\n",
        "a:\n  b:\n    image:\n      repository: nginx\n",
        "keda:\n  image:\n    keda:\n      repository: x\n",
        "\"\\u0069mage\": nginx\n",
    ] {
        let stream = crate::yaml::parse(text).expect("parses");
        let catalog = crate::catalog::Catalog::embedded().expect("catalog");
        let found = stream
            .documents
            .iter()
            .any(|document| !values(document, &catalog, None).images.is_empty());
        assert!(found, "the model finds an image in {text:?}");
        assert!(may_name_an_image(text), "{text:?}");
    }
}
