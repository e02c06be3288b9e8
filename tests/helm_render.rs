//! Charts rendered by a real Helm engine before and after `hardport migrate --write`: what the
//! pods run is the test, not the text of the values.
//!
//! The engine is PyPI `helm-python-sdk` (the Helm v4 Go SDK), driven by `tests/helm/render.py`,
//! which prints every container of the rendered manifests. `.ci/run` installs it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{case, copy_to_temp, hardport, stderr};
use hardport::catalog::Catalog;
use hardport::image_ref::ImageRef;

const INSTALL: &str = "python3 -m pip install helm-python-sdk pyyaml";

/// A rendered container, by (template, workload, container name): its image.
type Containers = BTreeMap<(String, String, String), String>;

fn render(chart: &Path) -> Containers {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm/render.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(chart)
        .output()
        .unwrap_or_else(|error| panic!("cannot run python3 ({error}); install: {INSTALL}"));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        !err.contains("No module named"),
        "the Helm engine is missing ({err}); install: {INSTALL}"
    );
    assert!(output.status.success(), "the chart does not render: {err}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let container: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            let text = |key: &str| container[key].as_str().unwrap_or_default().to_owned();
            (
                (text("template"), text("name"), text("container")),
                text("image"),
            )
        })
        .collect()
}

/// Whether the built-in catalog maps the image `reference` a pod ran before the migration.
fn is_mapped(catalog: &Catalog, reference: &str) -> bool {
    ImageRef::parse(reference)
        .ok()
        .and_then(|image| image.canonical_repository())
        .is_some_and(|repository| catalog.lookup(&repository).is_some())
}

/// Every container still runs, every image the catalog maps now runs from the replacement
/// registry, and every other image is the one it was; how many moved.
fn assert_moved(before: &Containers, after: &Containers) -> usize {
    let catalog = Catalog::embedded().expect("catalog");
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same containers render"
    );
    let mut moved = 0;
    for (container, image) in before {
        let now = &after[container];
        if is_mapped(&catalog, image) {
            assert!(
                now.starts_with("reg.mini.dev/"),
                "{container:?} ran {image}, still runs {now}"
            );
            moved += 1;
        } else {
            assert_eq!(now, image, "{container:?}: an unmapped image changed");
        }
    }
    assert!(moved > 0, "the chart runs mapped images: {before:?}");
    moved
}

#[test]
fn the_vendored_archive_is_built_from_its_source() {
    let archive = case("helm-umbrella").join("charts/postgresql-16.0.0.tgz");
    let bytes = std::fs::read(&archive).expect("archive");
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm");
    let mut files = 0;
    for entry in tar.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().expect("path").into_owned();
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut text).expect("read");
        assert_eq!(
            text,
            std::fs::read(source.join(&path)).expect("source file"),
            "{}: rebuild the archive from tests/helm/postgresql (see tests/helm/README.md)",
            path.display()
        );
        files += 1;
    }
    assert_eq!(files, 4);
}

#[test]
fn an_umbrella_chart_runs_its_subcharts_replacements_after_migrating_the_chart() {
    let chart = copy_to_temp(&case("helm-umbrella"));
    let before = render(chart.path());
    let run = hardport(chart.path(), &["migrate", "--write", "."]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_moved(&before, &render(chart.path()));
}

#[test]
fn the_parent_values_alone_move_every_subchart_image() {
    // The vendored copies are left as they are (`helm dependency build` would replace them):
    // the overrides in the umbrella's values.yaml must do it all, registry and tag included.
    let chart = copy_to_temp(&case("helm-umbrella"));
    let before = render(chart.path());
    let run = hardport(chart.path(), &["migrate", "--write", "values.yaml"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_moved(&before, &render(chart.path()));
    let again = hardport(chart.path(), &["migrate", "--check", "values.yaml"]);
    assert!(again.status.success(), "{}", stderr(&again));
}

#[test]
fn a_numeric_tag_warning_names_the_tag_the_engine_renders() {
    let chart = tempfile::tempdir().expect("tempdir");
    let write = |path: &str, text: &str| {
        let path = chart.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
    write("values.yaml", "image:\n  repository: nginx\n  tag: 1.20\n");
    write(
        "templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n",
    );
    let rendered = render(chart.path());
    let image = rendered.values().next().expect("one container");
    let tag = image.rsplit(':').next().expect("a tag");
    let run = hardport(chart.path(), &["migrate", "values.yaml"]);
    let err = stderr(&run);
    assert!(
        err.contains(&format!("which Helm renders as `{tag}`")),
        "rendered {image}; {err}"
    );
}

/// `hardport ARGS` in `dir` with `tests/helm/helm` (`helm template` over the same engine) first
/// on `PATH`, or with no `helm` at all.
fn hardport_verify(dir: &Path, args: &[&str], with_helm: bool) -> std::process::Output {
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm");
    let path = match with_helm {
        true => std::env::join_paths(std::iter::once(wrapper).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .expect("PATH"),
        false => std::ffi::OsString::from("/nonexistent"),
    };
    Command::new(env!("CARGO_BIN_EXE_hardport"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .output()
        .expect("hardport runs")
}

/// A one-template chart in a temporary directory: `values`, and one container whose image
/// line is `template`.
fn small_chart(values: &str, template: &str) -> tempfile::TempDir {
    let chart = tempfile::tempdir().expect("tempdir");
    let write = |path: &str, text: &str| {
        let path = chart.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
    write("values.yaml", values);
    write(
        "templates/pod.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: {template}\n"
        ),
    );
    chart
}

#[test]
fn verify_passes_a_chart_whose_pods_all_run_their_replacements() {
    let chart = copy_to_temp(&case("helm-umbrella"));
    let run = hardport_verify(chart.path(), &["migrate", "--verify", "."], true);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(!err.contains("[verify"), "{err}");
}

#[test]
fn verify_reports_an_image_the_migration_left_public() {
    // The repository is a template default (traefik's layout): no values key names it, so
    // nothing changes, and only rendering shows the pod still runs the public image.
    let chart = small_chart(
        "image:\n  tag: v3.1.2\n",
        "docker.io/{{ .Values.image.repository | default \"traefik\" }}:{{ .Values.image.tag }}",
    );
    let run = hardport_verify(chart.path(), &["migrate", "--verify", "."], true);
    let err = stderr(&run);
    assert!(
        err.contains("values.yaml:1: warning[verify]: container `web` of Pod web ran docker.io/traefik:v3.1.2, which catalog entry `traefik` replaces with reg.mini.dev/traefik, and runs docker.io/traefik:v3.1.2 after the migration"),
        "{err}"
    );
}

#[test]
fn verify_reports_a_chart_that_no_longer_renders() {
    let chart = small_chart(
        "image: nginx:1.27-alpine\n",
        "{{ if not (hasPrefix \"nginx:\" .Values.image) }}{{ fail \"only nginx images\" }}{{ end }}{{ .Values.image }}",
    );
    let run = hardport_verify(chart.path(), &["migrate", "--verify", "."], true);
    let err = stderr(&run);
    assert!(
        err.contains("values.yaml:1: error[verify-render]: the chart no longer renders after the migration: helm template: Error:")
            && err.contains("only nginx images"),
        "{err}"
    );
}

#[test]
fn verify_without_helm_is_a_clear_error_before_anything_runs() {
    let chart = small_chart("image: nginx:1.27\n", "{{ .Values.image }}");
    let run = hardport_verify(
        chart.path(),
        &["migrate", "--verify", "--write", "."],
        false,
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("--verify renders charts with `helm`, which is not on PATH"),
        "{}",
        stderr(&run)
    );
    let values = std::fs::read_to_string(chart.path().join("values.yaml")).expect("values");
    assert_eq!(values, "image: nginx:1.27\n", "nothing was written");
}

#[test]
fn image_layouts_of_real_charts_move_what_their_templates_render() {
    // Each container reads its image the way a real chart does: ingress-nginx (`image.image`
    // behind `global.image.registry`, with a digest), nextcloud (a `registry` key the template
    // never reads), Airflow (`images.<name>`), JupyterHub (`image.name`), ClickHouse (a
    // repository string with `imageVersion` beside it), and a container list given as a string
    // the template renders with `tpl`.
    let chart = tempfile::tempdir().expect("tempdir");
    let write = |path: &str, text: &str| {
        let path = chart.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "Chart.yaml",
        "apiVersion: v2\nname: layouts\nversion: 1.0.0\nappVersion: \"1.27.3\"\n",
    );
    write(
        "values.yaml",
        "global:\n  image:\n    registry: quay.io\ncontroller:\n  image:\n    image: prometheus/prometheus\n    tag: v3.1.0\n    digest: sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1\nnginx:\n  image:\n    registry: docker.io\n    repository: library/nginx\n    tag: 1.27-alpine\nimages:\n  redis:\n    repository: redis\n    tag: 7.2-bookworm\nhub:\n  image:\n    name: docker.io/library/node\n    tag: \"20\"\nclickhouse:\n  image: caddy\n  imageVersion: ~\nextraContainers: |\n  - name: sidecar\n    image: busybox:1.36\n",
    );
    let container =
        |name: &str, image: &str| format!("        - name: {name}\n          image: {image}\n");
    let containers = [
        container(
            "controller",
            "{{ with (merge .Values.controller.image .Values.global.image) }}{{ .registry }}/{{ .image }}:{{ .tag }}{{ if .digest }}@{{ .digest }}{{ end }}{{ end }}",
        ),
        container(
            "nginx",
            "\"{{ .Values.nginx.image.repository }}:{{ .Values.nginx.image.tag }}\"",
        ),
        container(
            "redis",
            "\"{{ .Values.images.redis.repository }}:{{ .Values.images.redis.tag }}\"",
        ),
        container(
            "hub",
            "\"{{ .Values.hub.image.name }}:{{ .Values.hub.image.tag }}\"",
        ),
        container(
            "clickhouse",
            "\"{{ .Values.clickhouse.image }}:{{ .Values.clickhouse.imageVersion | default .Chart.AppVersion }}\"",
        ),
    ];
    write(
        "templates/deployment.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: layouts\nspec:\n  template:\n    spec:\n      containers:\n{}        {{{{- tpl .Values.extraContainers . | nindent 8 }}}}\n",
            containers.concat()
        ),
    );
    let before = render(chart.path());
    let run = hardport(chart.path(), &["migrate", "--write", "."]);
    assert!(run.status.success(), "{}", stderr(&run));
    let after = render(chart.path());
    assert_eq!(assert_moved(&before, &after), 6, "{after:#?}");
}

#[test]
fn images_hardport_cannot_move_are_reported_never_silent() {
    // cert-manager builds its images from `imageRegistry`, `imageNamespace` and `image.name`;
    // Traefik computes its repository in a template. Neither is moved; both are named.
    let layouts = [
        (
            "cert-manager",
            small_chart(
                "imageRegistry: quay.io\nimageNamespace: prometheus\nimage:\n  repository: \"\"\n  name: prometheus\n  tag: v3.1.0\n",
                "{{ if .Values.image.repository }}{{ .Values.image.repository }}{{ else }}{{ .Values.imageRegistry }}/{{ .Values.imageNamespace }}/{{ .Values.image.name }}{{ end }}:{{ .Values.image.tag }}",
            ),
        ),
        (
            "traefik",
            small_chart(
                "hub:\n  enabled: false\nimage:\n  registry:\n  repository:\n  tag: v3.1.2\n",
                "{{ .Values.image.registry | default \"docker.io\" }}/{{ .Values.image.repository | default (ternary \"traefik/traefik-hub\" \"traefik\" .Values.hub.enabled) }}:{{ .Values.image.tag }}",
            ),
        ),
    ];
    let catalog = Catalog::embedded().expect("catalog");
    for (name, chart) in layouts {
        let before = render(chart.path());
        let run = hardport(chart.path(), &["migrate", "--write", "."]);
        let err = stderr(&run);
        let after = render(chart.path());
        for (container, image) in &before {
            assert!(is_mapped(&catalog, image), "{name}: {image} is mapped");
            assert_eq!(&after[container], image, "{name}: not moved");
            assert!(
                err.contains("warning[unresolved-image]: `image`"),
                "{name}: {image} is reported: {err}"
            );
        }
    }
}

#[test]
fn umbrella_values_that_name_no_image_still_move_the_subcharts() {
    let chart = copy_to_temp(&case("helm-umbrella"));
    std::fs::write(
        chart.path().join("values.yaml"),
        "postgresql:\n  auth:\n    database: shop\nredis:\n  enabled: true\n",
    )
    .expect("write");
    let before = render(chart.path());
    let run = hardport(chart.path(), &["migrate", "--write", "-v", "."]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("info[subchart-image]"),
        "{}",
        stderr(&run)
    );
    assert_eq!(assert_moved(&before, &render(chart.path())), 3);
}

#[test]
fn a_vendored_copy_is_migrated_in_place_when_no_parent_values_would_move_it() {
    let chart = copy_to_temp(&case("helm-umbrella"));
    std::fs::remove_file(chart.path().join("values.yaml")).expect("remove");
    let run = hardport(chart.path(), &["migrate", "--write", "."]);
    assert!(run.status.success(), "{}", stderr(&run));
    let redis =
        std::fs::read_to_string(chart.path().join("charts/redis/values.yaml")).expect("read");
    assert!(redis.contains("registry: reg.mini.dev"), "{redis}");
    assert!(!stderr(&run).contains("skipped"), "{}", stderr(&run));
}
