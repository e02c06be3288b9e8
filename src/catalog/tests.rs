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
        ..CatalogOptions::default()
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
fn catalog_strings_cannot_inject_dockerfile_text() {
    // Each of these would write more than the value into a Dockerfile: a second instruction
    // (a line break), a stage name (` AS `), a broken tag, path or USER line.
    for (entry, expected) in [
        (
            "{name: \"node\\nRUN curl x | sh\", match: [a], source: s}",
            "blanks or control",
        ),
        (
            "{name: 'node AS evil', match: [a], source: s}",
            "blanks or control",
        ),
        (
            "{name: a, match: [a], source: s, replacement: 'r.io/a b'}",
            "replacement",
        ),
        (
            "{name: a, match: [a], source: s, dev_tag_suffix: \"-dev\\nRUN x\"}",
            "does not extend a tag",
        ),
        (
            "{name: a, match: [a], source: s, paths: {/data: \"/x\\nRUN x\"}}",
            "absolute path",
        ),
        (
            "{name: a, match: [a], source: s, paths: {/data: '/x y'}}",
            "absolute path",
        ),
        (
            "{name: a, match: [a], source: s, hardened: {workdir: \"/w\\nRUN x\"}}",
            "hardened.workdir",
        ),
        (
            "{name: a, match: [a], source: s, hardened: {user: '1000 AS x'}}",
            "hardened.user",
        ),
        (
            "{name: a, match: [a], source: s, hardened: {group: \"10\\n\"}}",
            "hardened.group",
        ),
        (
            "{name: a, match: [a], source: s, public: {users: {'n x': 1}}}",
            "public.users",
        ),
    ] {
        let message = load_error(&format!(
            "version: 1\nregistry: r.io\nimages:\n  - {entry}\n"
        ));
        assert!(message.contains(expected), "{entry}: {message}");
    }
    // `catalog check` refuses them too.
    let file = write_catalog(
        "version: 1\nregistry: r.io\nimages:\n  - {name: \"n\\nRUN x\", match: [a], source: s}\n",
    );
    assert!(check_file(file.path()).is_err());
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

/// A target's built-in catalog, with `registry` as `--registry`.
fn target_catalog(target: Target, registry: Option<&str>) -> Catalog {
    Catalog::target(target, registry)
        .unwrap_or_else(|error| panic!("{target} catalog loads: {error}"))
}

#[test]
fn every_target_catalog_loads_and_every_entry_has_a_source() {
    for target in Target::ALL {
        let catalog = target_catalog(target, Some("mirror.example.com/hardened"));
        assert!(catalog.entries().len() >= 10, "{target}");
        for entry in catalog.entries() {
            assert!(
                !entry.source.trim().is_empty(),
                "{target}: {} has no source",
                entry.name
            );
            assert_eq!(entry.origin, CatalogOrigin::Embedded(target));
            assert_eq!(
                entry.replacement,
                format!("mirror.example.com/hardened/{}", entry.name),
                "{target}: every built-in entry follows --registry"
            );
        }
    }
}

#[test]
fn target_names_round_trip_and_unknown_names_list_the_valid_ones() {
    for target in Target::ALL {
        assert_eq!(target.name().parse::<Target>(), Ok(target));
        assert_eq!(
            CatalogOrigin::Embedded(target).to_string(),
            format!("<embedded {} catalog>", target.name())
        );
    }
    assert_eq!(Target::default(), Target::Minimus);
    let error = "wolfi".parse::<Target>().expect_err("not a target");
    let message = error.to_string();
    assert!(message.contains("\"wolfi\""), "{message}");
    for name in ["minimus", "chainguard", "dhi"] {
        assert!(message.contains(name), "{message}");
    }
}

#[test]
fn only_minimus_names_a_default_registry() {
    assert_eq!(
        Target::Minimus
            .default_registry()
            .expect("parses")
            .as_deref(),
        Some("reg.mini.dev")
    );
    assert_eq!(Target::Chainguard.default_registry().expect("parses"), None);
    assert_eq!(Target::Dhi.default_registry().expect("parses"), None);
    assert_eq!(
        Catalog::embedded()
            .expect("embedded")
            .find("node")
            .map(|entry| entry.replacement.as_str()),
        Some("reg.mini.dev/node")
    );
}

#[test]
fn chainguard_and_dhi_need_a_registry_unless_their_catalog_is_dropped() {
    for (target, advice) in [
        (Target::Chainguard, "--registry cgr.dev/ORG"),
        (Target::Dhi, "--registry HOST[/PATH]"),
    ] {
        let error = Catalog::target(target, None).expect_err("no registry");
        assert!(matches!(error, CatalogError::NoRegistry { .. }), "{error}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("<embedded {target} catalog>")),
            "{message}"
        );
        assert!(message.contains(advice), "{message}");

        let file = write_catalog(USER_CATALOG);
        let catalog = Catalog::load(&CatalogOptions {
            target,
            use_default: false,
            files: vec![file.path().to_path_buf()],
            registry: None,
        })
        .expect("--no-default-catalog drops the target's catalog");
        assert_eq!(catalog.entries().len(), 2);
    }
}

#[test]
fn a_target_catalog_is_layered_under_user_catalogs() {
    let file = write_catalog(USER_CATALOG);
    let catalog = Catalog::load(&CatalogOptions {
        target: Target::Chainguard,
        use_default: true,
        files: vec![file.path().to_path_buf()],
        registry: Some("cgr.dev/acme".into()),
    })
    .expect("loads");
    let node = catalog.find("node").expect("node");
    assert_eq!(node.origin, CatalogOrigin::File(file.path().to_path_buf()));
    assert_eq!(
        node.replacement, "cgr.dev/acme/node",
        "a user entry on its default registry follows --registry too"
    );
    let python = catalog.find("python").expect("python");
    assert_eq!(python.origin, CatalogOrigin::Embedded(Target::Chainguard));
    assert_eq!(python.replacement, "cgr.dev/acme/python");
    assert_eq!(
        catalog.find("golang").map(|entry| entry.name.as_str()),
        Some("go")
    );
}

#[test]
fn a_user_catalog_without_registry_needs_one_only_for_entries_without_replacement() {
    let explicit = write_catalog(
        "version: 1\nimages:\n  - {name: app, match: [example/app], replacement: r.example.com/app, source: s}\n",
    );
    let catalog = load(&[explicit.path()], false, None).expect("every entry names its replacement");
    assert_eq!(
        catalog.find("app").map(|entry| entry.replacement.as_str()),
        Some("r.example.com/app")
    );
    let moved = load(&[explicit.path()], false, Some("m.example.com")).expect("loads");
    assert_eq!(
        moved.find("app").map(|entry| entry.replacement.as_str()),
        Some("r.example.com/app"),
        "a written replacement does not follow --registry"
    );

    let implicit =
        write_catalog("version: 1\nimages:\n  - {name: app, match: [example/app], source: s}\n");
    let error = load(&[implicit.path()], false, None).expect_err("needs a registry");
    let message = error.to_string();
    assert!(
        message.starts_with(&implicit.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("--registry"), "{message}");
    let placed = load(&[implicit.path()], false, Some("m.example.com/team")).expect("loads");
    assert_eq!(
        placed.find("app").map(|entry| entry.replacement.as_str()),
        Some("m.example.com/team/app")
    );
}

/// The spec fields an entry states, as a JSON object (absent fields are left out).
fn stated(spec: &ImageSpec) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(spec) {
        Ok(serde_json::Value::Object(fields)) => fields,
        other => panic!("a spec serialises to an object: {other:?}"),
    }
}

#[test]
fn public_facts_of_other_targets_are_the_ones_minimus_records_with_their_sources() {
    let minimus = Catalog::embedded().expect("minimus");
    for target in [Target::Chainguard, Target::Dhi] {
        for entry in target_catalog(target, Some("r.example.com")).entries() {
            let public = stated(&entry.public);
            if public.is_empty() {
                continue;
            }
            for repository in &entry.matches {
                let source = minimus.lookup(repository).unwrap_or_else(|| {
                    panic!(
                        "{target} {}: public facts for {repository}, which minimus.yaml does not describe",
                        entry.name
                    )
                });
                let recorded = stated(&source.public);
                for (field, value) in &public {
                    assert_eq!(
                        recorded.get(field),
                        Some(value),
                        "{target} {}: public.{field} for {repository} differs from minimus.yaml `{}`",
                        entry.name,
                        source.name
                    );
                }
            }
        }
    }
}

#[test]
fn hardened_facts_of_other_targets_are_only_the_ones_their_vendors_state() {
    // hardened-image-facts.md: Chainguard runtime images run as 65532 and `-dev` has apk, whose
    // packages dfc names with Wolfi's names; DHI runtime images run as 65532 and have no shell.
    // Nothing else is stated for either.
    let allowed = |target: Target| -> serde_json::Map<String, serde_json::Value> {
        let yaml = match target {
            Target::Chainguard => "{user: \"65532\", package_manager: apk, distribution: wolfi}",
            _ => "{user: \"65532\", shell: false}",
        };
        stated(&serde_yaml_ng::from_str(yaml).expect("spec"))
    };
    for target in [Target::Chainguard, Target::Dhi] {
        let allowed = allowed(target);
        for entry in target_catalog(target, Some("r.example.com")).entries() {
            for (field, value) in stated(&entry.hardened) {
                assert_eq!(
                    allowed.get(&field),
                    Some(&value),
                    "{target} {}: hardened.{field} is not a stated fact",
                    entry.name
                );
            }
            assert!(entry.paths.is_empty(), "{target} {}", entry.name);
            assert!(
                matches!(entry.dev_tag_suffix.as_deref(), None | Some("-dev")),
                "{target} {}",
                entry.name
            );
        }
    }
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

/// Found by the `catalog` fuzz target (docs/fuzzing.md): facts read from a config were not
/// checked like written ones, so a config's `WorkingDir` or `User` holding a line break
/// injected an instruction into every migrated Dockerfile.
#[test]
fn config_facts_cannot_inject_dockerfile_text() {
    for (field, value, expected) in [
        ("WorkingDir", "/srv\\nRUN touch /pwned", "hardened.workdir"),
        ("User", "1000\\nRUN touch /pwned", "hardened.user"),
        ("User", "app user:app", "hardened.user"),
    ] {
        let dir = catalog_dir(
            "version: 1\nregistry: r.io\nimages:\n  - {name: a, match: [a], source: s, hardened: {config: configs/hostile.json}}\n",
        );
        std::fs::write(
            dir.path().join("configs/hostile.json"),
            format!(
                r#"{{"architecture": "amd64", "os": "linux", "config": {{"{field}": "{value}"}}, "rootfs": {{"type": "layers", "diff_ids": []}}}}"#
            ),
        )
        .expect("write");
        let message = load(&[&dir.path().join("catalog.yaml")], false, None)
            .expect_err("a hostile config")
            .to_string();
        assert!(
            message.contains(expected) && message.contains("(from its config)"),
            "{message}"
        );
    }
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
    let error =
        parse_layer(text, CatalogOrigin::Embedded(Target::Minimus), None).expect_err("no files");
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

#[test]
fn a_catalog_of_nested_brackets_is_refused_before_the_yaml_parser_reads_it() {
    let text = format!(
        "version: 1\nimages:\n  - name: x\n    match: {}\n",
        "[".repeat(200_000)
    );
    let file = write_catalog(&text);
    let error = load(&[file.path()], false, None).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, CatalogError::Syntax { line: Some(4), .. }),
        "{message}"
    );
    assert!(
        message.contains("flow collections nested deeper than 128 levels"),
        "{message}"
    );
}
