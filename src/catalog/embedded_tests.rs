//! The embedded Minimus catalog against its own citations: every fact an entry states is
//! named in the entry's `source`, names are confirmed or marked assumed, and the mappings
//! (and the images left unmapped on purpose) are the ones the file's header describes.

use super::*;

/// `needle` occurs in `source`, ignoring ASCII case.
fn mentions(source: &str, needle: &str) -> bool {
    source
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

/// What `spec` states that its entry's `source` must show, as (field, text) pairs: every
/// string it would write or compare, and for an empty list the instruction the source read
/// as absent. The runtime defaults `user: "0"` and `workdir: /` are recorded from a source
/// saying "no USER" / "no WORKDIR" and are not looked up verbatim.
fn cited_texts(spec: &ImageSpec) -> Vec<(&'static str, String)> {
    let mut texts = Vec::new();
    for (field, id) in [("user", &spec.user), ("group", &spec.group)] {
        if let Some(id) = id.as_ref().filter(|id| id.0 != "0") {
            texts.push((field, id.0.clone()));
        }
    }
    for (field, list, instruction) in [
        ("entrypoint", &spec.entrypoint, "ENTRYPOINT"),
        ("cmd", &spec.cmd, "CMD"),
        ("volumes", &spec.volumes, "VOLUME"),
    ] {
        match list.as_deref() {
            Some([]) => texts.push((field, instruction.to_owned())),
            Some(items) => texts.extend(items.iter().map(|item| (field, item.clone()))),
            None => {}
        }
    }
    if let Some(workdir) = spec.workdir.as_ref().filter(|workdir| *workdir != "/") {
        texts.push(("workdir", workdir.clone()));
    }
    for (field, names) in [("users", &spec.users), ("groups", &spec.groups)] {
        for (name, id) in names.iter().flatten() {
            texts.push((field, name.clone()));
            texts.push((field, id.0.clone()));
        }
    }
    if spec.shell == Some(false) {
        texts.push(("shell", "no shell".to_owned()));
    }
    if let Some(manager) = &spec.package_manager {
        texts.push(("package_manager", manager.clone()));
    }
    texts
}

#[test]
fn every_fact_of_the_embedded_catalog_is_named_in_its_source() {
    let catalog = Catalog::embedded().expect("embedded");
    let mut uncited = Vec::new();
    for entry in catalog.entries() {
        for (side, spec) in [("public", &entry.public), ("hardened", &entry.hardened)] {
            let texts = cited_texts(spec);
            if !texts.is_empty() && !entry.source.contains(&format!("{side}:")) {
                uncited.push(format!("{}: no `{side}:` part in the source", entry.name));
            }
            for (field, text) in texts {
                if !mentions(&entry.source, &text) {
                    uncited.push(format!("{}: {side}.{field} {text:?}", entry.name));
                }
            }
        }
        if entry.dev_tag_suffix.is_some() && !entry.source.contains("-dev pair") {
            uncited.push(format!("{}: dev_tag_suffix", entry.name));
        }
        let confirmed = entry.source.contains("minimus-compatibility.md")
            && !entry.source.contains("name assumed");
        if !confirmed && !entry.source.contains("Minimus image name assumed") {
            uncited.push(format!(
                "{}: the name is neither from the seed nor marked assumed",
                entry.name
            ));
        }
    }
    assert!(
        uncited.is_empty(),
        "facts without a citation:\n{uncited:#?}"
    );
}

#[test]
fn the_citation_check_catches_an_uncited_fact() {
    let entry = Catalog::embedded()
        .expect("embedded")
        .find("haproxy")
        .cloned()
        .expect("haproxy");
    let mut spec = entry.public.clone();
    assert!(
        cited_texts(&spec)
            .iter()
            .all(|(_, text)| mentions(&entry.source, text))
    );
    spec.workdir = Some("/invented".into());
    assert!(
        cited_texts(&spec)
            .iter()
            .any(|(_, text)| !mentions(&entry.source, text)),
        "a workdir the source does not name is caught"
    );
}

/// The entry name and replacement for each public reference, as `catalog show` resolves it.
fn resolved(catalog: &Catalog, reference: &str) -> Option<(String, String)> {
    catalog
        .find(reference)
        .map(|entry| (entry.name.clone(), entry.replacement.clone()))
}

#[test]
fn the_widened_catalog_maps_common_images_under_every_spelling() {
    let catalog = Catalog::embedded().expect("embedded");
    for (reference, name) in [
        ("busybox:1.37", "busybox"),
        ("library/caddy:2", "caddy"),
        ("docker.io/library/traefik:v3.6", "traefik"),
        ("haproxy:3.2", "haproxy"),
        ("ecr-public.aws.com/docker/library/haproxy:3.2", "haproxy"),
        (
            "docker.elastic.co/elasticsearch/elasticsearch:8.15.5",
            "elasticsearch",
        ),
        ("elasticsearch:8.15.5", "elasticsearch"),
        ("grafana/grafana:12.0.0", "grafana"),
        ("docker.io/grafana/grafana:12.0.0", "grafana"),
        ("prom/prometheus:v3.5.0", "prometheus"),
        ("quay.io/prometheus/prometheus:v3.5.0", "prometheus"),
        ("memcached:1.6", "memcached"),
        ("rabbitmq:4.1", "rabbitmq"),
    ] {
        assert_eq!(
            resolved(&catalog, reference),
            Some((name.to_owned(), format!("reg.mini.dev/{name}"))),
            "{reference}"
        );
    }
}

#[test]
fn distribution_and_distroless_bases_stay_unmapped() {
    // No source names the Minimus image that replaces them (see the header of minimus.yaml).
    let catalog = Catalog::embedded().expect("embedded");
    for repository in [
        "alpine",
        "debian",
        "library/ubuntu",
        "buildpack-deps",
        "fedora",
        "gcr.io/distroless/static",
        "gcr.io/distroless/static-debian12",
        "gcr.io/distroless/base-debian12",
    ] {
        let canonical = normalize_repository(repository).expect("valid");
        assert!(catalog.lookup(&canonical).is_none(), "{repository}");
    }
}

#[test]
fn bitnami_images_map_to_their_own_entries_running_as_1001() {
    let catalog = Catalog::embedded().expect("embedded");
    let bitnami: Vec<&Entry> = catalog
        .entries()
        .iter()
        .filter(|entry| {
            entry
                .matches
                .iter()
                .any(|repository| repository.starts_with("docker.io/bitnami/"))
        })
        .collect();
    assert!(bitnami.len() >= 8, "{}", bitnami.len());
    for entry in bitnami {
        let app = entry
            .name
            .strip_prefix("bitnami/")
            .unwrap_or_else(|| panic!("{}: a Bitnami entry is named bitnami/<app>", entry.name));
        // Only the Bitnami repository: an entry that also matched a non-Bitnami image would
        // make `allow-insecure-images` treat that image's charts as Bitnami charts.
        assert_eq!(
            entry.matches,
            vec![format!("docker.io/bitnami/{app}")],
            "{}",
            entry.name
        );
        assert_eq!(entry.replacement, format!("reg.mini.dev/bitnami/{app}"));
        assert_eq!(entry.hardened.uid(), Some(1001), "{}", entry.name);
        assert_eq!(
            entry.hardened.group, None,
            "{}: no source states the gid",
            entry.name
        );
        assert_eq!(entry.public.uid(), Some(1001), "{}", entry.name);
    }
    let nginx = catalog.find("bitnami/nginx:1.27").expect("bitnami/nginx");
    assert_eq!(nginx.name, "bitnami/nginx");
    assert_eq!(
        catalog.find("nginx:1.27").map(|entry| entry.name.as_str()),
        Some("nginx"),
        "the official image keeps its own entry"
    );
}
