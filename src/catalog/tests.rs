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

/// A directory holding `catalog.yaml` with `catalog` and the sample image configs it names.
fn catalog_dir(catalog: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oci");
    std::fs::create_dir(dir.path().join("configs")).expect("mkdir");
    for name in [
        "nonroot-65532.json",
        "node-crane-config.json",
        "invalid.json",
    ] {
        std::fs::copy(fixtures.join(name), dir.path().join("configs").join(name)).expect("copy");
    }
    std::fs::write(dir.path().join("catalog.yaml"), catalog).expect("write");
    dir
}

const CONFIG_CATALOG: &str = r#"
version: 1
registry: r.example.com
images:
  - name: app
    match: [example/app]
    source: "team notes"
    public: {config: configs/node-crane-config.json}
    hardened:
      config: configs/nonroot-65532.json
      workdir: /srv
      shell: false
"#;

#[test]
fn config_facts_fill_what_the_entry_leaves_unknown_and_are_cited() {
    let dir = catalog_dir(CONFIG_CATALOG);
    let catalog = load(&[&dir.path().join("catalog.yaml")], false, None).expect("loads");
    let app = catalog.find("app").expect("app");
    // From the configs, read relative to the catalog file (not to the working directory).
    assert_eq!(app.hardened.user, Some(Id("65532".into())));
    assert_eq!(app.hardened.group, Some(Id("65532".into())));
    assert_eq!(
        app.hardened.entrypoint.as_deref(),
        Some(&["/usr/bin/app".to_owned()][..])
    );
    assert_eq!(app.public.cmd.as_deref(), Some(&["node".to_owned()][..]));
    assert_eq!(
        app.hardened.exposed_ports.as_ref().map(Vec::len),
        Some(4),
        "{:?}",
        app.hardened.exposed_ports
    );
    // Written beside the config: wins over the config's `/home/nonroot`.
    assert_eq!(app.hardened.workdir.as_deref(), Some("/srv"));
    assert_eq!(app.hardened.shell, Some(false));
    assert_eq!(
        app.hardened.config.as_deref(),
        Some(dir.path().join("configs/nonroot-65532.json").as_path())
    );
    let hardened_sha = oci_config::read(&dir.path().join("configs/nonroot-65532.json"))
        .expect("config")
        .sha256;
    assert!(
        app.source.starts_with(
            "team notes; public: OCI image config configs/node-crane-config.json (sha256:"
        ),
        "{}",
        app.source
    );
    assert!(
        app.source.ends_with(&format!(
            "; hardened: OCI image config configs/nonroot-65532.json (sha256:{hardened_sha})"
        )),
        "{}",
        app.source
    );
}

#[test]
fn a_written_user_or_group_keeps_the_config_from_pairing_its_own() {
    let dir = catalog_dir(
        "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], source: s, hardened: {config: configs/nonroot-65532.json, user: '1000'}}\n  - {name: b, match: [b], source: s, hardened: {config: configs/nonroot-65532.json, group: '10'}}\n",
    );
    let catalog = load(&[&dir.path().join("catalog.yaml")], false, None).expect("loads");
    let a = &catalog.find("a").expect("a").hardened;
    assert_eq!(
        (a.user.clone(), a.group.clone()),
        (Some(Id("1000".into())), None)
    );
    let b = &catalog.find("b").expect("b").hardened;
    assert_eq!(
        (b.user.clone(), b.group.clone()),
        (None, Some(Id("10".into())))
    );
    assert_eq!(
        b.workdir.as_deref(),
        Some("/home/nonroot"),
        "other facts still come in"
    );
}

#[test]
fn a_config_that_cannot_be_read_names_the_catalog_and_the_config() {
    for (config, expected) in [
        ("configs/invalid.json", "configs/invalid.json:7:"),
        (
            "configs/absent.json",
            "configs/absent.json: cannot read the image config",
        ),
    ] {
        let dir = catalog_dir(&format!(
            "version: 1\nregistry: r.io\nimages:\n  - {{name: a, match: [a], source: s, public: {{config: {config}}}}}\n"
        ));
        let catalog = dir.path().join("catalog.yaml");
        let message = load(&[&catalog], false, None)
            .expect_err("bad config")
            .to_string();
        assert!(
            message.starts_with(&format!(
                "{}: images[0] (name: \"a\"): public.config: {}",
                catalog.display(),
                dir.path().display()
            )),
            "{message}"
        );
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn the_embedded_catalog_cannot_name_config_files() {
    let text = "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], source: s, hardened: {config: x.json}}\n";
    let error = parse_layer(text, CatalogOrigin::Embedded).expect_err("no files");
    assert!(error.to_string().contains("hardened.config"), "{error}");
}

#[test]
fn exposed_ports_and_env_are_read_and_written() {
    let spec: ImageSpec = serde_yaml_ng::from_str(
        "{exposed_ports: [8080/tcp], env: {PATH: /usr/bin, LANG: C.UTF-8}}",
    )
    .expect("spec");
    assert_eq!(
        spec.exposed_ports.as_deref(),
        Some(&["8080/tcp".to_owned()][..])
    );
    assert_eq!(
        spec.env
            .as_ref()
            .and_then(|env| env.get("LANG"))
            .map(String::as_str),
        Some("C.UTF-8")
    );
    let yaml = serde_yaml_ng::to_string(&spec).expect("yaml");
    assert_eq!(
        serde_yaml_ng::from_str::<ImageSpec>(&yaml).expect("again"),
        spec
    );
    assert!(
        !yaml.contains("user"),
        "unknown fields are not written: {yaml}"
    );
}

#[test]
fn fill_unknown_from_takes_only_what_is_unknown() {
    let spec = |yaml: &str| serde_yaml_ng::from_str::<ImageSpec>(yaml).expect("spec");
    let mut known = spec("{cmd: [a], volumes: [], config: here.json}");
    known.fill_unknown_from(&spec(
        "{user: '1', group: '2', cmd: [b], volumes: [/v], workdir: /w, shell: true, env: {A: b}, config: there.json}",
    ));
    assert_eq!(
        known,
        spec(
            "{user: '1', group: '2', cmd: [a], volumes: [], workdir: /w, shell: true, env: {A: b}, config: here.json}"
        )
    );
}

#[test]
fn check_file_reports_every_invalid_entry_of_a_file() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oci");
    let errors = check_file(&fixtures.join("catalog-errors.yaml")).expect_err("invalid");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let expected = [
        "images[1] (name: \"no-source\"): source must say",
        "images[2] (name: \"claims-fine\"): match \"docker.io/example/fine\" is already claimed by images[0] (\"fine\")",
        "images[3] (name: \"relative-path\"): paths",
        "images[4] (name: \"broken-config\"): hardened.config: ",
        "images[5] (name: \"fine\"): the name is used by an earlier entry",
    ];
    assert_eq!(messages.len(), expected.len(), "{messages:#?}");
    for (message, expected) in messages.iter().zip(expected) {
        assert!(
            message.contains(expected),
            "{message}\nexpected: {expected}"
        );
        assert!(message.contains("catalog-errors.yaml: "), "{message}");
    }
    assert_eq!(
        check_file(&fixtures.join("catalog.yaml")).expect("valid"),
        1
    );
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/catalog/minimus.yaml");
    assert_eq!(
        check_file(&embedded).expect("valid"),
        Catalog::embedded().expect("embedded").entries().len()
    );
}

#[test]
fn check_file_reports_a_file_it_cannot_parse_once() {
    let file = write_catalog("version: 1\nregistry: r.io\nimages: [\n");
    let errors = check_file(file.path()).expect_err("invalid");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(errors[0], CatalogError::Syntax { .. }));
}
