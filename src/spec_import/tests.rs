use std::path::Path;

use super::*;
use crate::catalog::{Id, check_file};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/oci")
        .join(name)
}

fn request(image: &str, config: &str) -> ImportRequest {
    ImportRequest {
        image: image.to_owned(),
        config: fixture(config),
    }
}

/// The entries `import` printed, loaded back as a catalog file with `registry`.
fn entries_of(yaml: &str, registry: &str) -> Catalog {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("imported.yaml");
    std::fs::write(
        &path,
        format!("version: 1\nregistry: {registry}\nimages:\n{yaml}"),
    )
    .expect("write");
    check_file(&path).expect("the output is a valid catalog");
    Catalog::load(&crate::catalog::CatalogOptions {
        use_default: false,
        files: vec![path],
        ..crate::catalog::CatalogOptions::default()
    })
    .expect("loads")
}

#[test]
fn requests_are_split_at_the_first_equals_sign() {
    assert_eq!(
        "reg.mini.dev/node:20=cfg/a=b.json".parse::<ImportRequest>(),
        Ok(ImportRequest {
            image: "reg.mini.dev/node:20".into(),
            config: PathBuf::from("cfg/a=b.json"),
        })
    );
    for bad in ["node.json", "=node.json", "node:20="] {
        let error = bad.parse::<ImportRequest>().expect_err(bad);
        assert!(error.contains("IMAGE=CONFIG"), "{error}");
    }
}

#[test]
fn a_known_replacement_keeps_its_entry_and_takes_the_configs_facts() {
    let catalog = Catalog::embedded().expect("embedded");
    let before = catalog.find("node").expect("node").clone();
    let yaml = import(
        &catalog,
        Side::Hardened,
        &[request("reg.mini.dev/node:20", "nonroot-65532.json")],
    )
    .expect("imports");
    assert!(
        yaml.contains(
            "# node: catalog entry from <embedded minimus catalog>; its hardened facts replaced by "
        ),
        "{yaml}"
    );
    let imported = entries_of(&yaml, "reg.mini.dev");
    let node = imported.find("node").expect("node");
    assert_eq!(node.matches, before.matches);
    assert_eq!(node.replacement, before.replacement);
    assert_eq!(node.dev_tag_suffix, before.dev_tag_suffix);
    assert_eq!(node.public, before.public, "the other side is kept");
    assert_eq!(node.hardened.user, Some(Id("65532".into())));
    assert_eq!(node.hardened.group, Some(Id("65532".into())));
    assert_eq!(node.hardened.workdir.as_deref(), Some("/home/nonroot"));
    assert_eq!(
        node.hardened.shell, before.hardened.shell,
        "facts a config cannot state are kept"
    );
    assert!(before.hardened.shell.is_some());
    let sha = oci_config::read(&fixture("nonroot-65532.json"))
        .expect("config")
        .sha256;
    assert_eq!(
        node.source,
        format!(
            "{}; hardened: OCI image config {} (sha256:{sha})",
            before.source,
            fixture("nonroot-65532.json").display()
        )
    );
}

#[test]
fn a_known_public_image_gets_its_public_facts_replaced() {
    let catalog = Catalog::embedded().expect("embedded");
    let before = catalog.find("nginx").expect("nginx").clone();
    let yaml = import(
        &catalog,
        Side::Public,
        &[request("nginx:1.27", "nginx-docker-inspect.json")],
    )
    .expect("imports");
    let nginx = entries_of(&yaml, "reg.mini.dev")
        .find("nginx")
        .expect("nginx")
        .clone();
    assert_eq!(nginx.hardened, before.hardened);
    assert_eq!(nginx.public.exposed_ports, Some(vec!["80/tcp".to_owned()]));
    assert_eq!(
        nginx.public.entrypoint,
        Some(vec!["/docker-entrypoint.sh".to_owned()])
    );
    assert!(
        nginx.source.contains("; public: `docker inspect` output "),
        "{}",
        nginx.source
    );
}

#[test]
fn an_unknown_replacement_makes_an_entry_whose_match_is_marked_as_assumed() {
    let yaml = import(
        &Catalog::embedded().expect("embedded"),
        Side::Hardened,
        &[request(
            "registry.example.com/team/webapp:2",
            "minimal.json",
        )],
    )
    .expect("imports");
    assert!(
        yaml.contains("# webapp: not in the catalog; `match` assumes the public image is Docker Hub's \"webapp\": check it"),
        "{yaml}"
    );
    let imported = entries_of(&yaml, "reg.mini.dev");
    let webapp = imported.find("webapp").expect("webapp");
    assert_eq!(webapp.matches, ["docker.io/library/webapp"]);
    assert_eq!(webapp.replacement, "registry.example.com/team/webapp");
    assert_eq!(webapp.hardened.cmd, Some(vec!["/app".to_owned()]));
    assert_eq!(webapp.public, ImageSpec::default());
}

#[test]
fn an_unknown_public_image_takes_the_default_replacement_of_its_catalog() {
    let yaml = import(
        &Catalog::embedded().expect("embedded"),
        Side::Public,
        &[request("quay.io/example/tool:1", "minimal.json")],
    )
    .expect("imports");
    let imported = entries_of(&yaml, "mirror.example.com/hardened");
    let tool = imported.find("tool").expect("tool");
    assert_eq!(tool.matches, ["quay.io/example/tool"]);
    assert_eq!(tool.replacement, "mirror.example.com/hardened/tool");
    assert_eq!(tool.public.user, Some(Id("0".into())));
    assert_eq!(tool.hardened, ImageSpec::default());
}

#[test]
fn several_configs_make_several_entries_in_order() {
    let yaml = import(
        &Catalog::embedded().expect("embedded"),
        Side::Hardened,
        &[
            request("r.example.com/b", "minimal.json"),
            request("r.example.com/a", "nonroot-65532.json"),
        ],
    )
    .expect("imports");
    let names: Vec<String> = entries_of(&yaml, "r.example.com")
        .entries()
        .iter()
        .map(|entry| entry.name.clone())
        .collect();
    assert_eq!(names, ["b", "a"]);
}

#[test]
fn two_configs_for_one_entry_are_an_error() {
    let error = import(
        &Catalog::embedded().expect("embedded"),
        Side::Public,
        &[
            request("node:20", "minimal.json"),
            request("docker.io/library/node:22", "minimal.json"),
        ],
    )
    .expect_err("same entry");
    assert!(
        matches!(&error, ImportError::SameEntry { name, .. } if name == "node"),
        "{error}"
    );
}

#[test]
fn bad_images_and_configs_are_errors_that_name_them() {
    let catalog = Catalog::embedded().expect("embedded");
    for image in ["${REGISTRY}/node:20", "node:${TAG}", "Not An Image"] {
        let error =
            import(&catalog, Side::Hardened, &[request(image, "minimal.json")]).expect_err(image);
        assert!(matches!(error, ImportError::Image { .. }), "{error}");
        assert!(error.to_string().contains(image), "{error}");
    }
    let error = import(
        &catalog,
        Side::Hardened,
        &[request("r.example.com/a", "wrong-type.json")],
    )
    .expect_err("bad config");
    assert!(matches!(error, ImportError::Config(_)), "{error}");
    assert!(error.to_string().contains("wrong-type.json:6:"), "{error}");
}
