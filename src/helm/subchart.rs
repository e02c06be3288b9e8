//! A chart's dependencies (`Chart.yaml` `dependencies`) and the default values of those vendored
//! under `charts/`, as a directory or as the `.tgz` `helm dependency build` leaves there.
//!
//! A subchart renders its images from its own `values.yaml` merged under the parent's values
//! at its key (`alias`, else `name`): the parent's `postgresql.image.repository` replaces the
//! subchart's `image.repository` and leaves its `image.registry` and `image.tag` as they are.
//! So the rules need the subchart's defaults to know what a pod runs, and to know which keys the
//! parent must set to move it.

use std::io::Read;
use std::path::Path;

use crate::input::{self, Links};

/// How much of a vendored `.tgz` is unpacked while looking for its `Chart.yaml` and
/// `values.yaml`: a real chart archive unpacks to a few MB.
const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

/// One entry of `Chart.yaml` `dependencies`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub alias: Option<String>,
    /// Comma-separated values paths; the first that is a boolean enables or disables it.
    pub condition: Option<String>,
    pub repository: String,
    /// The subchart as vendored under `charts/`; `None` when it is not there (or unreadable).
    pub vendored: Option<Vendored>,
}

/// What a vendored subchart says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vendored {
    /// Where it was read, for messages: `charts/postgresql` or `charts/postgresql-16.0.0.tgz`.
    pub location: String,
    /// Its `values.yaml` (empty when it has none).
    pub values: String,
    /// Whether it is a Bitnami chart (it verifies its images against `annotations.images`).
    pub bitnami: bool,
    /// Its `appVersion`: the tag its images render when their tag is empty.
    pub app_version: Option<String>,
}

impl Dependency {
    /// The key of the parent's values the subchart reads its values under.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// Whether the chart comes from a chart repository or registry (`https://`, `oci://`, a
    /// `@repo` alias), as opposed to a local directory (`file://`, or no repository): a remote
    /// dependency's copy under `charts/` is what `helm dependency build` downloaded, and is
    /// replaced by it; a local one is the repository's own source.
    pub fn is_remote(&self) -> bool {
        !(self.repository.is_empty() || self.repository.starts_with("file://"))
    }

    /// Whether the dependency is a `common` library chart (Bitnami's, bjw-s's): it renders
    /// no pod of its own; the parent's templates call it with the parent's values. Chart.yaml
    /// does not say a dependency's type, so the name the library charts share decides.
    pub fn is_common_library(&self) -> bool {
        self.name == "common"
    }

    /// Whether a Bitnami registry serves it (charts.bitnami.com, `oci://…/bitnamicharts`), or
    /// the vendored copy is a Bitnami chart.
    pub fn is_bitnami(&self) -> bool {
        self.repository.contains("bitnami") || self.vendored.as_ref().is_some_and(|v| v.bitnami)
    }
}

/// A dependency listed in a `Chart.yaml`, from the text of its fields (`text("name")`), not
/// yet looked up under `charts/`; none without a name.
pub(super) fn listed<'t>(text: impl Fn(&str) -> Option<&'t str>) -> Option<Dependency> {
    let owned = |key: &str| text(key).map(str::to_owned);
    Some(Dependency {
        name: owned("name")?,
        alias: owned("alias").filter(|alias| !alias.is_empty()),
        condition: owned("condition").filter(|condition| !condition.is_empty()),
        repository: owned("repository").unwrap_or_default(),
        vendored: None,
    })
}

/// Find each dependency under `dir/charts/`: a directory named after it, else a
/// `<name>-<version>.tgz`. Nothing is read through a link or beyond `limit` bytes (compressed
/// or not).
pub(super) fn find_vendored(dir: &Path, dependencies: &mut [Dependency], limit: u64) {
    let charts = dir.join("charts");
    let archives = archives(&charts);
    for dependency in dependencies {
        let unpacked = charts.join(&dependency.name);
        dependency.vendored = from_directory(&unpacked, &dependency.name, limit).or_else(|| {
            archives
                .iter()
                .filter(|(file, _)| is_archive_of(file, &dependency.name))
                .find_map(|(file, path)| from_archive(path, file, &dependency.name, limit))
        });
    }
}

/// The `.tgz` files directly in `charts`, by file name, in name order.
fn archives(charts: &Path) -> Vec<(String, std::path::PathBuf)> {
    let Ok(entries) = std::fs::read_dir(charts) else {
        return Vec::new();
    };
    let mut archives: Vec<_> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.ends_with(".tgz").then(|| (name, entry.path()))
        })
        .collect();
    archives.sort();
    archives
}

/// Whether `file` is `<name>-<version>.tgz` (a version starts with a digit or `v`).
fn is_archive_of(file: &str, name: &str) -> bool {
    file.strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".tgz"))
        .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit() || c == 'v'))
}

fn from_directory(dir: &Path, name: &str, limit: u64) -> Option<Vendored> {
    let chart = input::read_text(&dir.join(super::chart::CHART_FILE), limit, Links::Refuse).ok()?;
    let values = match input::read_text(&dir.join("values.yaml"), limit, Links::Refuse) {
        Ok(values) => values,
        Err(_) if std::fs::symlink_metadata(dir.join("values.yaml")).is_err() => String::new(),
        Err(_) => return None,
    };
    Some(Vendored {
        location: format!("charts/{name}"),
        values,
        bitnami: is_bitnami_chart(&chart),
        app_version: app_version(&chart),
    })
}

/// The `Chart.yaml` and `values.yaml` at `<name>/` in the archive `path`.
fn from_archive(path: &Path, file: &str, name: &str, limit: u64) -> Option<Vendored> {
    let bytes = input::read_bytes(path, limit, Links::Refuse).ok()?;
    // A small archive can unpack to gigabytes: what is unpacked while looking is bounded too.
    let unpacked = flate2::read::GzDecoder::new(bytes.as_slice()).take(MAX_UNPACKED_BYTES);
    let mut archive = tar::Archive::new(unpacked);
    let (mut chart, mut values) = (None, None);
    for entry in archive.entries().ok()? {
        let entry = entry.ok()?;
        let entry_path = entry.path().ok()?.to_string_lossy().into_owned();
        let slot = match entry_path
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            Some("Chart.yaml") => &mut chart,
            Some("values.yaml") => &mut values,
            _ => continue,
        };
        let mut text = String::new();
        entry.take(limit).read_to_string(&mut text).ok()?;
        *slot = Some(text);
        if chart.is_some() && values.is_some() {
            break;
        }
    }
    let chart = chart?;
    Some(Vendored {
        location: format!("charts/{file}"),
        bitnami: is_bitnami_chart(&chart),
        app_version: app_version(&chart),
        values: values.unwrap_or_default(),
    })
}

fn app_version(text: &str) -> Option<String> {
    super::chart::Chart::parse(text).ok()?.app_version
}

fn is_bitnami_chart(text: &str) -> bool {
    super::chart::Chart::parse(text).is_ok_and(|chart| chart.is_bitnami())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A `charts/db-1.0.0.tgz` whose `db/` holds `padding` zero bytes before its `Chart.yaml`.
    fn archive_with_padding(padding: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("charts")).unwrap();
        let file = std::fs::File::create(dir.path().join("charts/db-1.0.0.tgz")).unwrap();
        let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut builder = tar::Builder::new(encoder);
        let mut add = |path: &str, size: u64, data: &mut dyn Read| {
            let mut header = tar::Header::new_gnu();
            header.set_size(size);
            header.set_mode(0o644);
            builder.append_data(&mut header, path, data).unwrap();
        };
        add("db/padding", padding, &mut std::io::repeat(0).take(padding));
        let chart = b"apiVersion: v2\nname: db\nversion: 1.0.0\nappVersion: \"16\"\n";
        add("db/Chart.yaml", chart.len() as u64, &mut chart.as_slice());
        builder
            .into_inner()
            .unwrap()
            .finish()
            .unwrap()
            .flush()
            .unwrap();
        dir
    }

    fn vendored_after(padding: u64) -> Option<Vendored> {
        let dir = archive_with_padding(padding);
        let mut dependencies = super::super::chart::Chart::parse(
            "dependencies:\n  - name: db\n    version: 1.0.0\n    repository: https://example.com\n",
        )
        .unwrap()
        .dependencies;
        find_vendored(dir.path(), &mut dependencies, 1 << 20);
        dependencies
            .pop()
            .and_then(|dependency| dependency.vendored)
    }

    #[test]
    fn an_archive_is_unpacked_only_up_to_the_bound() {
        let found = vendored_after(1 << 20).expect("a chart after 1 MiB is read");
        assert_eq!(found.location, "charts/db-1.0.0.tgz");
        assert_eq!(found.app_version.as_deref(), Some("16"));
        assert!(
            vendored_after(MAX_UNPACKED_BYTES).is_none(),
            "a Chart.yaml past the bound is not reached"
        );
    }
}
