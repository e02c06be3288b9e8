//! `hardport migrate --verify`: render a chart with the user's `helm` before and after the
//! migration of its `values.yaml`, and compare what each container runs.
//!
//! The text of a values file says what hardport changed; the rendered manifests say what the
//! cluster will run. Every chart with a `values.yaml` is rendered (an image hardport did not
//! recognise is exactly what this must catch, so a chart hardport leaves unchanged is rendered
//! too, once); one whose `values.yaml` changes is rendered twice with
//! `helm template` from a private copy of the chart directory, once with the file as it was and
//! once as migrated; every other file is the one on disk (no other values file is passed with
//! `-f`, so the result does not depend on which of them were written first; a local subchart's
//! values are rendered as they are on disk at that moment). Then, per container
//! (workload kind and name, container name): an image the catalog maps must now run from its
//! replacement, any other image must be unchanged, a `runAsUser`/`runAsGroup` the manifests set
//! must be the replacement's uid/gid, and no container may appear or disappear. Each difference
//! is a finding of the values file.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::catalog::Catalog;
use crate::image_ref::{ImageRef, normalize_repository};

/// The release name charts are rendered as.
const RELEASE: &str = "hardport-verify";

/// `helm`, found on `PATH` when the run starts.
#[derive(Debug, Clone)]
pub struct Verifier {
    helm: PathBuf,
}

/// Why `--verify` cannot run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--verify renders charts with `helm`, which is not on PATH: install Helm (https://helm.sh/docs/intro/install/) or run without --verify"
)]
pub struct HelmNotFound;

/// One difference between the rendered chart before and after the migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The chart rendered before the migration and does not after it.
    NoLongerRenders(String),
    /// The chart does not render before the migration: nothing to compare.
    DoesNotRender(String),
    /// What one container runs is not what the migration should give it.
    Container(String),
}

impl Verifier {
    /// `helm` from `path` (the value of `PATH`).
    pub fn find(path: Option<OsString>) -> Result<Verifier, HelmNotFound> {
        let path = path.ok_or(HelmNotFound)?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("helm"))
            .find(|candidate| is_executable(candidate))
            .map(|helm| Verifier { helm })
            .ok_or(HelmNotFound)
    }

    /// The differences between the chart in `chart_dir` rendered with `values.yaml` as
    /// `original` and as `migrated`.
    pub fn verify(
        &self,
        chart_dir: &Path,
        original: &str,
        migrated: &str,
        catalog: &Catalog,
    ) -> Vec<Difference> {
        let before = match self.render_with(chart_dir, original) {
            Ok(before) => before,
            Err(message) => return vec![Difference::DoesNotRender(message)],
        };
        let after = match original == migrated {
            true => before.clone(),
            false => match self.render_with(chart_dir, migrated) {
                Ok(after) => after,
                Err(message) => return vec![Difference::NoLongerRenders(message)],
            },
        };
        compare(&before, &after, catalog)
            .into_iter()
            .map(Difference::Container)
            .collect()
    }

    /// The containers of the chart in `chart_dir` rendered with `values` as its `values.yaml`.
    fn render_with(&self, chart_dir: &Path, values: &str) -> Result<Containers, String> {
        let copy = ScratchDir::new().map_err(|error| format!("cannot copy the chart: {error}"))?;
        let chart = copy
            .path
            .join(chart_dir.file_name().unwrap_or("chart".as_ref()));
        copy_chart(chart_dir, &chart).map_err(|error| format!("cannot copy the chart: {error}"))?;
        std::fs::write(chart.join("values.yaml"), values)
            .map_err(|error| format!("cannot copy the chart: {error}"))?;
        let output = Command::new(&self.helm)
            .arg("template")
            .arg(RELEASE)
            .arg(&chart)
            .output()
            .map_err(|error| format!("cannot run {}: {error}", self.helm.display()))?;
        if !output.status.success() {
            let message = String::from_utf8_lossy(&output.stderr);
            return Err(format!("helm template: {}", message.trim()));
        }
        containers(&String::from_utf8_lossy(&output.stdout))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

/// A rendered container, by (kind, workload name, container name).
type Key = (String, String, String);

/// What a rendered container runs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Container {
    image: String,
    /// `runAsUser` and `runAsGroup`, the container's over the pod's.
    run_as_user: Option<u64>,
    run_as_group: Option<u64>,
}

type Containers = BTreeMap<Key, Container>;

/// Every container (and init container) of the pods the rendered `manifests` describe.
fn containers(manifests: &str) -> Result<Containers, String> {
    let mut found = Containers::new();
    for document in serde_yaml_ng::Deserializer::from_str(manifests) {
        let value = Value::deserialize(document)
            .map_err(|error| format!("cannot read helm's output: {error}"))?;
        let kind = text(&value, &["kind"]);
        let name = text(&value, &["metadata", "name"]);
        let Some(pod) = pod_spec(&value, &kind) else {
            continue;
        };
        let pod_context = pod.get("securityContext");
        for list in ["initContainers", "containers"] {
            let Some(items) = pod.get(list).and_then(Value::as_sequence) else {
                continue;
            };
            for item in items {
                let context = item.get("securityContext");
                let id = |key: &str| {
                    context
                        .and_then(|context| context.get(key))
                        .or_else(|| pod_context.and_then(|context| context.get(key)))
                        .and_then(Value::as_u64)
                };
                found.insert(
                    (kind.clone(), name.clone(), text(item, &["name"])),
                    Container {
                        image: text(item, &["image"]),
                        run_as_user: id("runAsUser"),
                        run_as_group: id("runAsGroup"),
                    },
                );
            }
        }
    }
    Ok(found)
}

/// The pod spec of a workload: `spec` of a Pod, `spec.jobTemplate.spec.template.spec` of a
/// CronJob, `spec.template.spec` of the others.
fn pod_spec<'v>(value: &'v Value, kind: &str) -> Option<&'v Value> {
    let spec = value.get("spec")?;
    match kind {
        "Pod" => Some(spec),
        "CronJob" => spec
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?
            .get("spec"),
        _ => spec.get("template")?.get("spec"),
    }
}

fn text(value: &Value, path: &[&str]) -> String {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// What is wrong with `after`, container by container, given `before`.
fn compare(before: &Containers, after: &Containers, catalog: &Catalog) -> Vec<String> {
    let mut differences = Vec::new();
    for ((kind, name, container), was) in before {
        let label = format!("container `{container}` of {kind} {name}");
        let Some(now) = after.get(&(kind.clone(), name.clone(), container.clone())) else {
            differences.push(format!("{label} ran {} and no longer renders", was.image));
            continue;
        };
        differences.extend(image_difference(&label, &was.image, &now.image, catalog));
        differences.extend(context_differences(&label, now, catalog));
    }
    for ((kind, name, container), now) in after {
        if !before.contains_key(&(kind.clone(), name.clone(), container.clone())) {
            differences.push(format!(
                "container `{container}` of {kind} {name} renders only after the migration (runs {})",
                now.image
            ));
        }
    }
    differences
}

/// The canonical repository of a rendered image reference.
fn repository(image: &str) -> Option<String> {
    ImageRef::parse(image).ok()?.canonical_repository()
}

fn image_difference(label: &str, was: &str, now: &str, catalog: &Catalog) -> Option<String> {
    let entry = repository(was).and_then(|repository| catalog.lookup(&repository));
    match entry {
        Some(entry) => {
            let wanted = normalize_repository(&entry.replacement).ok()?;
            (repository(now).as_deref() != Some(wanted.as_str())).then(|| {
                format!(
                    "{label} ran {was}, which catalog entry `{}` replaces with {}, and runs {now} after the migration",
                    entry.name, entry.replacement
                )
            })
        }
        // A replacement already may get a digest (`--pin`): it must stay the same image.
        None if repository(was)
            .is_some_and(|repository| catalog.lookup_replacement(&repository).is_some()) =>
        {
            (repository(now) != repository(was)).then(|| {
                format!("{label} ran {was}, a replacement already, and runs {now} after the migration")
            })
        }
        None => (was != now).then(|| {
            format!("{label} ran {was}, which the catalog does not map, and runs {now} after the migration")
        }),
    }
}

fn context_differences(label: &str, now: &Container, catalog: &Catalog) -> Vec<String> {
    let Some(entry) =
        repository(&now.image).and_then(|repository| catalog.lookup_replacement(&repository))
    else {
        return Vec::new();
    };
    let mut differences = Vec::new();
    let checks = [
        ("runAsUser", now.run_as_user, entry.hardened.uid(), "uid"),
        ("runAsGroup", now.run_as_group, entry.hardened.gid(), "gid"),
    ];
    for (key, set, wanted, what) in checks {
        if let (Some(set), Some(wanted)) = (set, wanted)
            && set != u64::from(wanted)
        {
            differences.push(format!(
                "{label} runs {} with {key}: {set}, but that image runs as {what} {wanted} (catalog entry `{}`)",
                now.image, entry.name
            ));
        }
    }
    differences
}

/// A private directory under the system's temporary directory, removed when dropped.
struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    fn new() -> std::io::Result<ScratchDir> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        use std::os::unix::fs::DirBuilderExt;
        loop {
            let path = std::env::temp_dir().join(format!(
                "hardport-verify-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(ScratchDir { path }),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(error),
            }
        }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Copy the chart directory `from` to `to`: directories and regular files, not `.git`; links
/// are not followed (a chart is as untrusted as the repository holding it).
fn copy_chart(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() && entry.file_name() == ".git" {
            continue;
        }
        if kind.is_dir() {
            copy_chart(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
