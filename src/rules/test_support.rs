//! Test helpers for rule modules: run the whole fix loop with a small test catalog.
//!
//! The catalog below is test data with made-up facts shaped like real ones; it is not the
//! product catalog and cites no source.

use crate::catalog::{Catalog, CatalogOptions};
use crate::discovery::FileKind;
use crate::helm::chart::Chart;
use crate::migrate::{Migration, migrate_text};
use crate::rules::Context;

pub const TEST_CATALOG: &str = r#"
version: 1
registry: reg.example.dev
images:
  - name: node
    match: [node]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0", entrypoint: [docker-entrypoint.sh], cmd: [node], workdir: /, users: {node: "1000"}, groups: {node: "1000"}}
    hardened: {user: "1000", group: "1000", entrypoint: [/usr/bin/node], cmd: ["--help"], workdir: /home/build, shell: false}
  - name: builder
    match: [builder]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "999", entrypoint: [], cmd: [make], workdir: /, users: {builder: "999"}, groups: {builder: "999"}}
    hardened: {user: "1000", group: "1000", entrypoint: [], cmd: [make], workdir: /home/build, shell: false}
  - name: nginx
    match: [nginx]
    source: test
    public: {user: "0", entrypoint: [/docker-entrypoint.sh], cmd: [nginx, -g, "daemon off;"], workdir: /, users: {nginx: "101"}, groups: {nginx: "101"}}
    hardened: {user: "1000", shell: false}
  - name: python
    match: [python]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0", entrypoint: [], cmd: [python3], workdir: /}
    hardened: {shell: false}
  - name: postgres
    match: [postgres]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0", entrypoint: [docker-entrypoint.sh], cmd: [postgres], workdir: /, volumes: [/var/lib/postgresql/data], users: {postgres: "999"}, groups: {postgres: "999"}}
    hardened: {user: "70", group: "70", entrypoint: [postgres], cmd: [], shell: false, package_manager: apk}
    paths: {/var/lib/postgresql/data: /var/lib/postgresql/pgdata}
  - name: go
    match: [golang]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0", workdir: /go}
    hardened: {user: "0", workdir: /home/build, shell: false}
  - name: openjdk
    match: [eclipse-temurin]
    dev_tag_suffix: "-dev"
    source: test
    public: {user: "0", entrypoint: [/__cacert_entrypoint.sh], workdir: /}
    hardened: {user: "1000", group: "1000", workdir: /home/build, shell: false}
"#;

/// A catalog loaded from `yaml`, alone (no embedded default).
pub fn catalog_from_yaml(yaml: &str) -> Catalog {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("catalog.yaml");
    std::fs::write(&path, yaml).expect("write");
    Catalog::load(&CatalogOptions {
        use_default: false,
        files: vec![path],
        ..CatalogOptions::default()
    })
    .expect("test catalog")
}

pub fn test_catalog() -> Catalog {
    catalog_from_yaml(TEST_CATALOG)
}

/// Migrate `text` as a Dockerfile with the test catalog: the result and `rule: message` for
/// every finding, in line order.
pub fn run(text: &str) -> (String, Vec<String>) {
    run_with_catalog(TEST_CATALOG, text)
}

/// [`run`] with the catalog given as YAML.
pub fn run_with_catalog(yaml: &str, text: &str) -> (String, Vec<String>) {
    let catalog = catalog_from_yaml(yaml);
    let migration =
        migrate_text(FileKind::Dockerfile, text, Context::new(&catalog)).expect("migrates");
    let messages = messages(&migration);
    (migration.text, messages)
}

/// Migrate `text` as a file of `kind` (a Compose file, manifests, a kustomization, a workflow)
/// with the test catalog, asserting that a second run changes nothing: the result and
/// `rule: message` for every finding, in line order.
pub fn run_kind(kind: FileKind, text: &str) -> (String, Vec<String>) {
    let catalog = test_catalog();
    let (migration, messages) = migrate_twice(kind, text, Context::new(&catalog));
    (migration.text, messages)
}

/// `rule: message` for every finding of `migration`, in line order.
fn messages(migration: &Migration) -> Vec<String> {
    migration
        .findings
        .iter()
        .map(|finding| format!("{}: {}", finding.rule, finding.text()))
        .collect()
}

/// Whether a `rule: message` line of [`run_values`] starts with `prefix`.
pub fn has(messages: &[String], prefix: &str) -> bool {
    messages.iter().any(|message| message.starts_with(prefix))
}

/// A catalog for the Helm values rules: a Bitnami-compatible replacement with ids and moved
/// paths, and ordinary ones with and without a group. Test data, not facts.
pub const HELM_CATALOG: &str = r#"
version: 1
registry: reg.example.dev
images:
  - name: postgresql-bitnami
    match: [bitnami/postgresql]
    source: test
    hardened: {user: "1001", group: "1001", shell: false}
    paths: {/bitnami/postgresql: /var/lib/postgresql}
  - name: nginx
    match: [nginx]
    source: test
    hardened: {user: "1000", shell: false}
  - name: node
    match: [node]
    source: test
    hardened: {user: "1000", group: "1000", shell: true}
  - name: redis
    match: [redis]
    source: test
    hardened: {user: "999", group: "999", shell: false}
  - name: tool
    match: [ghcr.io/acme/tool]
    source: test
    hardened: {user: "0", group: "0"}
  - name: unknown-user
    match: [ghcr.io/acme/unknown]
    source: test
"#;

/// Migrate `text` as Helm values with [`HELM_CATALOG`] and the chart `chart` (a Chart.yaml
/// text): the result and `rule: message` for every finding. Asserts a second run is a no-op.
pub fn run_values(text: &str, chart: Option<&str>) -> (String, Vec<String>) {
    let chart = chart.map(|chart| Chart::parse(chart).expect("chart"));
    run_values_with(text, chart.as_ref())
}

/// [`run_values`] for a values file of `chart` (built with `Chart::with_templates`, say).
pub fn run_values_in(text: &str, chart: &Chart) -> (String, Vec<String>) {
    run_values_with(text, Some(chart))
}

fn run_values_with(text: &str, chart: Option<&Chart>) -> (String, Vec<String>) {
    let catalog = catalog_from_yaml(HELM_CATALOG);
    let context = Context::new(&catalog).with_chart(chart);
    let (migration, messages) = migrate_twice(FileKind::HelmValues, text, context);
    (migration.text, messages)
}

/// Migrate `text` as `kind` in `context`, asserting that a second run changes nothing: the
/// migration and `rule: message` for every finding.
pub fn migrate_twice(kind: FileKind, text: &str, context: Context<'_>) -> (Migration, Vec<String>) {
    let migration = migrate_text(kind, text, context).expect("migrates");
    let again = migrate_text(kind, &migration.text, context).expect("again");
    assert_eq!(again.text, migration.text, "a second run changes nothing");
    let messages = messages(&migration);
    (migration, messages)
}
