use std::io::Write;

use super::*;

const USER_CATALOG: &str = r#"
version: 1
registry: mirror.example.com/hardened
images:
  - name: node
    match: [node, docker.io/library/node]
    source: "our mirror's spec sheet"
    hardened: {user: 1000, group: "1000"}
  - name: internal-app
    match: [example/app]
    replacement: other.example.com/app
    source: "team wiki"
"#;

fn write_catalog(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

fn load(
    files: &[&Path],
    use_default: bool,
    registry: Option<&str>,
) -> Result<Catalog, CatalogError> {
    Catalog::load(&CatalogOptions {
        use_default,
        files: files.iter().map(|path| path.to_path_buf()).collect(),
        registry: registry.map(str::to_owned),
    })
}

#[test]
fn the_embedded_catalog_loads_and_every_entry_has_a_source() {
    let catalog = Catalog::embedded().expect("embedded catalog is valid");
    assert!(catalog.entries().len() >= 20, "{}", catalog.entries().len());
    for entry in catalog.entries() {
        assert!(!entry.source.is_empty(), "{} has no source", entry.name);
        assert!(
            entry.replacement.starts_with("reg.mini.dev/"),
            "{}",
            entry.replacement
        );
    }
}

#[test]
fn the_embedded_catalog_holds_the_seed_facts() {
    let catalog = Catalog::embedded().expect("embedded");
    let user = |query: &str| {
        catalog
            .find(query)
            .and_then(|entry| entry.hardened.user.clone())
            .map(|id| id.0)
    };
    assert_eq!(user("velero").as_deref(), Some("1002"));
    assert_eq!(user("clickhouse-operator").as_deref(), Some("65534"));
    assert_eq!(user("argocd").as_deref(), Some("999"));
    assert_eq!(user("nginx").as_deref(), Some("1000"));
    assert_eq!(user("node").as_deref(), Some("1000"));
    assert_eq!(user("keda").as_deref(), Some("65532"));
    assert_eq!(user("go").as_deref(), Some("0"));
    let node = catalog.find("node:20").expect("node");
    assert_eq!(
        node.hardened.entrypoint.as_deref(),
        Some(&["/usr/bin/node".to_owned()][..])
    );
    assert_eq!(catalog.find("golang").map(|e| e.name.as_str()), Some("go"));
}

#[test]
fn lookup_uses_normalised_repositories() {
    let catalog = Catalog::embedded().expect("embedded");
    for spelling in [
        "nginx",
        "library/nginx",
        "docker.io/library/nginx",
        "index.docker.io/library/nginx:1.27",
    ] {
        assert_eq!(
            catalog.find(spelling).map(|entry| entry.name.as_str()),
            Some("nginx"),
            "{spelling}"
        );
    }
    assert!(catalog.lookup("docker.io/library/debian").is_none());
    assert_eq!(
        catalog
            .lookup_replacement("reg.mini.dev/nginx")
            .map(|entry| entry.name.as_str()),
        Some("nginx")
    );
}

#[test]
fn a_user_entry_with_the_same_name_replaces_the_default_one() {
    let file = write_catalog(USER_CATALOG);
    let catalog = load(&[file.path()], true, None).expect("loads");
    let node = catalog.lookup("docker.io/library/node").expect("node");
    assert_eq!(node.replacement, "mirror.example.com/hardened/node");
    assert_eq!(node.origin, CatalogOrigin::File(file.path().to_path_buf()));
    assert_eq!(node.hardened.user, Some(Id("1000".into())));
    assert_eq!(
        node.hardened.entrypoint, None,
        "the default's facts do not leak in"
    );
    assert_eq!(
        catalog
            .entries()
            .iter()
            .filter(|entry| entry.name == "node")
            .count(),
        1
    );
    assert!(catalog.find("nginx").is_some(), "other defaults stay");
}

#[test]
fn no_default_catalog_keeps_only_user_entries() {
    let file = write_catalog(USER_CATALOG);
    let catalog = load(&[file.path()], false, None).expect("loads");
    assert_eq!(catalog.entries().len(), 2);
    assert!(catalog.find("nginx").is_none());
}

#[test]
fn registry_override_moves_only_entries_on_the_default_registry() {
    let file = write_catalog(USER_CATALOG);
    let catalog = load(&[file.path()], true, Some("cr.example.org/team/")).expect("loads");
    assert_eq!(
        catalog.find("node").expect("node").replacement,
        "cr.example.org/team/node"
    );
    assert_eq!(
        catalog.find("nginx").expect("nginx").replacement,
        "cr.example.org/team/nginx"
    );
    assert_eq!(
        catalog.find("internal-app").expect("app").replacement,
        "other.example.com/app"
    );
}

#[test]
fn bad_registry_overrides_are_rejected() {
    for bad in ["https://reg.example.com", "", "reg.example.com/x:1", "a b"] {
        let error = load(&[], true, Some(bad)).expect_err(bad);
        assert!(
            matches!(error, CatalogError::Registry { .. }),
            "{bad}: {error}"
        );
    }
}

fn load_error(text: &str) -> String {
    let file = write_catalog(text);
    let error = load(&[file.path()], false, None).expect_err("invalid catalog");
    let message = error.to_string();
    assert!(
        message.starts_with(&file.path().display().to_string()),
        "the message names the file: {message}"
    );
    message
}

#[test]
fn invalid_catalogs_are_reported_with_file_and_reason() {
    let message = load_error("version: 1\nregistry: r.io\nimages:\n  - name: a\n    match: [a]\n");
    assert!(message.contains("source"), "{message}");

    let message = load_error("version: 2\nregistry: r.io\nimages: []\n");
    assert!(message.contains("version 2"), "{message}");

    let message = load_error(
        "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [node], source: s}\n  - {name: b, match: [library/node], source: s}\n",
    );
    assert!(message.contains("already claimed"), "{message}");

    let message = load_error(
        "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], source: s}\n  - {name: a, match: [b], source: s}\n",
    );
    assert!(message.contains("earlier entry"), "{message}");

    let message = load_error(
        "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], source: s, colour: red}\n",
    );
    assert!(message.contains("colour"), "{message}");
    assert!(
        message.contains(":4"),
        "syntax errors carry the line: {message}"
    );

    let message = load_error(
        "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], source: s, paths: {data: /x}}\n",
    );
    assert!(message.contains("absolute"), "{message}");

    let message = load_error(
        "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], source: s, replacement: 'r.io/a:1'}\n",
    );
    assert!(message.contains("without tag"), "{message}");

    let message = load_error(
        "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], source: s, tag: 'a b'}\n",
    );
    assert!(message.contains("not a valid tag"), "{message}");
}

#[test]
fn an_unreadable_catalog_names_its_path() {
    let error = load(&[Path::new("/nonexistent/catalog.yaml")], true, None).expect_err("missing");
    assert!(
        error.to_string().contains("/nonexistent/catalog.yaml"),
        "{error}"
    );
}

#[test]
fn ids_accept_numbers_and_strings() {
    let spec: ImageSpec =
        serde_yaml_ng::from_str("{user: 1000, group: \"0\", users: {node: 1000}}").expect("spec");
    assert_eq!(spec.user, Some(Id("1000".into())));
    assert_eq!(spec.group, Some(Id("0".into())));
    assert_eq!(
        spec.users.and_then(|users| users.get("node").cloned()),
        Some(Id("1000".into()))
    );
}

#[test]
fn numeric_ids_come_from_the_user_group_and_name_tables() {
    let spec = |yaml: &str| serde_yaml_ng::from_str::<ImageSpec>(yaml).expect("spec");
    let plain = spec("{user: 1000, group: \"1001\"}");
    assert_eq!((plain.uid(), plain.gid()), (Some(1000), Some(1001)));
    let pair = spec("{user: \"65532:65533\"}");
    assert_eq!((pair.uid(), pair.gid()), (Some(65532), Some(65533)));
    let named = spec("{user: app, group: app, users: {app: \"999\"}, groups: {app: \"998\"}}");
    assert_eq!((named.uid(), named.gid()), (Some(999), Some(998)));
    let unknown = spec("{user: app}");
    assert_eq!((unknown.uid(), unknown.gid()), (None, None));
}
