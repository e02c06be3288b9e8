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
fn a_chroot_digest_beside_the_image_is_cleared_too() {
    // ingress-nginx renders `<image>-chroot@<digestChroot>` with `chroot: true`: a digest of
    // the public chroot image names nothing in the replacement's repository.
    let values = "controller:\n  image:\n    chroot: false\n    image: nginx\n    tag: \"1.27\"\n    digest: \"\"\n    digestChroot: sha256:0123456789012345678901234567890123456789012345678901234567890123\n";
    let (text, messages) = run_values(values, None);
    assert_eq!(
        text,
        "controller:\n  image:\n    chroot: false\n    image: reg.example.dev/nginx\n    tag: \"1.27\"\n    digest: \"\"\n    digestChroot: \"\"\n"
    );
    assert!(
        has(
            &messages,
            "digest-dropped: `controller.image.digestChroot`: the digest sha256:0123456789012345678901234567890123456789012345678901234567890123 pinned the public image's chroot variant"
        ),
        "{messages:?}"
    );
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

#[test]
fn an_image_key_holding_the_repository_gets_its_own_registry_over_the_global_one() {
    // ingress-nginx: `{image, tag, digest}` rendered as `<registry>/<image>:<tag>@<digest>`
    // with the registry of `global.image` merged in.
    let (text, messages) = run_values(
        "global:\n  image:\n    registry: ghcr.io\ncontroller:\n  image:\n    image: acme/tool\n    tag: \"1.0\"\n    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
        None,
    );
    assert_eq!(
        text,
        "global:\n  image:\n    registry: ghcr.io\ncontroller:\n  image:\n    image: tool\n    tag: \"1.0\"\n    digest: \"\"\n    registry: reg.example.dev\n"
    );
    assert!(
        has(
            &messages,
            "helm-image: `controller.image`: `ghcr.io/acme/tool:1.0@sha256:"
        ),
        "{messages:?}"
    );
    assert!(has(&messages, "digest-dropped"), "{messages:?}");
    // A whole reference under `image.image` is still one string.
    let (text, _) = run_values("image:\n  image: nginx:1.27\n", None);
    assert_eq!(text, "image:\n  image: reg.example.dev/nginx:1.27\n");
}

#[test]
fn a_map_of_images_by_name_and_a_name_keyed_image_are_images() {
    // Airflow's `images.<name>`, JupyterHub's `image.name`.
    let (text, _) = run_values(
        "images:\n  redis:\n    repository: redis\n    tag: 7-bullseye\n  statsd:\n    repository: quay.io/prometheus/statsd-exporter\nhub:\n  image:\n    name: docker.io/library/node\n    tag: \"20\"\n",
        None,
    );
    assert_eq!(
        text,
        "images:\n  redis:\n    repository: reg.example.dev/redis\n    tag: \"7\"\n  statsd:\n    repository: quay.io/prometheus/statsd-exporter\nhub:\n  image:\n    name: reg.example.dev/node\n    tag: \"20\"\n"
    );
    // cert-manager: `name` beside an empty `repository` is built from other values.
    let (_, messages) = run_values(
        "imageRegistry: quay.io\nimageNamespace: jetstack\nimage:\n  repository: \"\"\n  name: cert-manager-controller\n",
        None,
    );
    assert!(
        has(
            &messages,
            "unresolved-image: `image`: the image is named `cert-manager-controller` with an empty `repository`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_repository_string_with_its_version_beside_it_gets_no_tag_of_its_own() {
    let (text, _) = run_values("clickhouse:\n  image: nginx\n  imageVersion: ~\n", None);
    assert_eq!(
        text,
        "clickhouse:\n  image: reg.example.dev/nginx\n  imageVersion: ~\n"
    );
}

fn values_with_templates(values: &str, templates: &[&str]) -> (String, Vec<String>) {
    let named: Vec<(String, &str)> = templates
        .iter()
        .enumerate()
        .map(|(index, text)| (format!("templates/t{index}.yaml"), *text))
        .collect();
    let named: Vec<(&str, &str)> = named
        .iter()
        .map(|(path, text)| (path.as_str(), *text))
        .collect();
    crate::rules::test_support::run_values_in(
        values,
        &crate::helm::chart::Chart::with_templates(&named),
    )
}

#[test]
fn a_registry_no_template_reads_is_left_and_the_repository_takes_the_replacement() {
    // nextcloud renders `nginx.image` as `repository:tag`: its `registry` changes nothing.
    let values = "nginx:\n  image:\n    registry: docker.io\n    repository: library/nginx\n    tag: 1.27-alpine\n";
    let (text, _) = values_with_templates(
        values,
        &["image: \"{{ .Values.nginx.image.repository }}:{{ .Values.nginx.image.tag }}\""],
    );
    assert_eq!(
        text,
        "nginx:\n  image:\n    registry: docker.io\n    repository: reg.example.dev/nginx\n    tag: \"1.27\"\n"
    );
    // A template that reads the mapping whole (Bitnami's helpers) reads its registry too.
    let (text, _) = values_with_templates(
        values,
        &["image: {{ include \"common.images.image\" (dict \"imageRoot\" .Values.nginx.image) }}"],
    );
    assert!(
        text.contains("registry: reg.example.dev\n    repository: nginx\n"),
        "{text}"
    );
}

#[test]
fn a_repository_the_templates_default_is_reported_with_the_default() {
    let (text, messages) = values_with_templates(
        "image:\n  repository:\n  tag: \"1.27\"\n",
        &["{{ .Values.image.repository | default \"nginx\" }}:{{ .Values.image.tag }}"],
    );
    assert_eq!(text, "image:\n  repository:\n  tag: \"1.27\"\n");
    assert!(
        has(
            &messages,
            "unresolved-image: `image` leaves `repository` unset, so the chart's templates render their default `nginx`, which catalog entry `nginx` replaces with reg.example.dev/nginx"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_registry_under_a_dependencys_key_is_the_subcharts_to_read() {
    // The parent's templates never read `db.image.registry`, but the `db` subchart's do.
    let chart = crate::helm::chart::Chart {
        dependencies: vec![crate::helm::subchart::Dependency {
            name: "db".into(),
            repository: "https://charts.example.com".into(),
            ..Default::default()
        }],
        ..crate::helm::chart::Chart::with_templates(&[(
            "templates/x.yaml",
            "{{ .Values.replicas }}",
        )])
    };
    let values = "db:\n  image:\n    registry: docker.io\n    repository: library/nginx\n    tag: \"1.27\"\n";
    let (text, _) = crate::rules::test_support::run_values_in(values, &chart);
    assert_eq!(
        text,
        "db:\n  image:\n    registry: reg.example.dev\n    repository: nginx\n    tag: \"1.27\"\n"
    );
}
