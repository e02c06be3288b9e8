use crate::rules::test_support::{has, run_values};

#[test]
fn a_bitnami_image_map_is_rewritten_field_by_field() {
    let (text, messages) = run_values(
        "image:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: 17.6.0-debian-12-r4 # pinned\n  digest: \"\"\n",
        None,
    );
    assert_eq!(
        text,
        "image:\n  registry: reg.example.dev\n  repository: postgresql-bitnami\n  tag: 17.6.0 # pinned\n  digest: \"\"\nglobal:\n  security:\n    allowInsecureImages: true\n"
    );
    assert!(
        has(
            &messages,
            "helm-image: `image`: `docker.io/bitnami/postgresql:17.6.0-debian-12-r4` → `reg.example.dev/postgresql-bitnami:17.6.0`"
        ),
        "{messages:?}"
    );
}

#[test]
fn without_a_registry_key_the_repository_takes_the_whole_replacement() {
    let (text, _) = run_values(
        "image:\n  repository: 'nginx'\n  tag: \"1.27-alpine\"\n",
        None,
    );
    assert_eq!(
        text,
        "image:\n  repository: 'reg.example.dev/nginx'\n  tag: \"1.27\"\n"
    );
}

#[test]
fn a_string_image_is_rewritten_whole_and_its_digest_dropped_with_a_warning() {
    let (text, messages) = run_values(
        "containers:\n  - name: web\n    image: \"nginx:1.27@sha256:0123456789012345678901234567890123456789012345678901234567890123\"\n",
        None,
    );
    assert_eq!(
        text,
        "containers:\n  - name: web\n    image: \"reg.example.dev/nginx:1.27\"\n"
    );
    assert!(
        has(&messages, "digest-dropped: `containers[0].image`"),
        "{messages:?}"
    );
}

#[test]
fn a_digest_field_is_cleared() {
    let (text, messages) = run_values(
        "image:\n  repository: nginx\n  tag: \"1.27\"\n  digest: sha256:0123456789012345678901234567890123456789012345678901234567890123\n",
        None,
    );
    assert_eq!(
        text,
        "image:\n  repository: reg.example.dev/nginx\n  tag: \"1.27\"\n  digest: \"\"\n"
    );
    assert!(has(&messages, "digest-dropped"), "{messages:?}");
}

#[test]
fn an_empty_tag_stays_and_an_app_version_with_a_distro_suffix_is_reported() {
    let values = "image:\n  repository: nginx\n  tag: \"\"\n";
    let (text, messages) = run_values(values, Some("name: web\nappVersion: 1.27.3-alpine\n"));
    assert_eq!(
        text,
        "image:\n  repository: reg.example.dev/nginx\n  tag: \"\"\n"
    );
    assert!(
        has(
            &messages,
            "app-version-tag: `image` has no tag, so the chart renders its appVersion `1.27.3-alpine`"
        ),
        "{messages:?}"
    );
    let (_, plain) = run_values(values, Some("name: web\nappVersion: 1.27.3\n"));
    assert!(!has(&plain, "app-version-tag"), "{plain:?}");
}

#[test]
fn unmapped_images_are_reported_with_the_count() {
    let (text, messages) = run_values(
        "a:\n  image: ghcr.io/other/one:1\nb:\n  image:\n    repository: quay.io/other/two\n",
        None,
    );
    assert_eq!(
        text,
        "a:\n  image: ghcr.io/other/one:1\nb:\n  image:\n    repository: quay.io/other/two\n"
    );
    assert!(
        has(
            &messages,
            "unmapped-image: no catalog entry replaces ghcr.io/other/one; `a.image` stays as it is (2 unmapped images in this file)"
        ),
        "{messages:?}"
    );
}

#[test]
fn an_anchored_image_is_edited_once_at_its_anchor() {
    let (text, messages) = run_values(
        "base: &img\n  repository: nginx\n  tag: \"1.27\"\nweb:\n  image: *img\nworker:\n  image: *img\n",
        None,
    );
    assert_eq!(
        text,
        "base: &img\n  repository: reg.example.dev/nginx\n  tag: \"1.27\"\nweb:\n  image: *img\nworker:\n  image: *img\n"
    );
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.starts_with("helm-image"))
            .count(),
        1
    );
}

#[test]
fn templates_are_reported_not_rewritten() {
    let values = "image:\n  repository: \"{{ .Values.repo }}\"\n  tag: \"1\"\n";
    let (text, messages) = run_values(values, None);
    assert_eq!(text, values);
    assert!(has(&messages, "unresolved-image: `image`"), "{messages:?}");
}

#[test]
fn a_fixed_tag_and_a_variant_kept_are_reported() {
    let (text, messages) = run_values("image: nginx:1.27-perl\n", None);
    assert_eq!(text, "image: reg.example.dev/nginx:1.27-perl\n");
    assert!(has(&messages, "tag-variant: `image`"), "{messages:?}");
}

#[test]
fn a_repository_string_keeps_its_tag_in_the_key_beside_it() {
    let (text, _) = run_values("image: \"nginx\"\nimageTag: \"1.27-alpine\"\n", None);
    assert_eq!(
        text,
        "image: \"reg.example.dev/nginx\"\nimageTag: \"1.27\"\n"
    );
}

#[test]
fn an_image_string_with_a_tag_key_beside_it_gets_no_tag_of_its_own() {
    let (text, _) = run_values("exporter:\n  image: redis\n  tag: 7.4.2-alpine\n", None);
    assert!(
        text.starts_with("exporter:\n  image: reg.example.dev/redis\n  tag: 7.4.2\n"),
        "{text}"
    );
}

#[test]
fn a_tag_helm_renders_as_another_number_is_reported_and_left_as_written() {
    let (fixed, messages) = run_values("image:\n  repository: nginx\n  tag: 1.20\n", None);
    assert_eq!(
        fixed,
        "image:\n  repository: reg.example.dev/nginx\n  tag: 1.20\n"
    );
    assert!(
        has(
            &messages,
            "numeric-tag: `image` has the tag 1.20 written as a number, which Helm renders as `1.2`"
        ),
        "{messages:?}"
    );
    // A number that prints as written, and a quoted tag, are what they say.
    for values in [
        "image:\n  repository: nginx\n  tag: 1.27\n",
        "image:\n  repository: nginx\n  tag: \"1.20\"\n",
    ] {
        let (_, messages) = run_values(values, None);
        assert!(!has(&messages, "numeric-tag"), "{messages:?}");
    }
}
