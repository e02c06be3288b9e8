//! The kustomizations of a run: which image names each renames in its `images:`, and what it
//! builds, so that a manifest or a base kustomization knows which kustomizations rename its
//! images.
//!
//! Kustomize matches `images:` entries by name, as text, against the images of everything a
//! kustomization builds: its `resources`, `bases` and `components` (files, and directories
//! whose own kustomization builds further), after those have applied their own entries. So a
//! name written in a base's manifest (or produced by a base's entry) that an overlay's entry
//! matches must stay as it is, or the overlay's entry silently stops applying.
//!
//! A component's entries apply to what the kustomization that lists it builds, so they count
//! as that kustomization's.
//!
//! Paths are compared as written, made lexically normal (`overlays/prod/../../base` is `base`):
//! the run's files are named relative to where it started, and a resource outside the paths
//! given cannot be a file of the run. A resource that is a URL (a remote base) is not followed.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use crate::diff::display_path;
use crate::discovery::{FileKind, SourceFile};
use crate::helm::deref;
use crate::input::{self, Links};
use crate::kubernetes::child;
use crate::yaml::{Document, Node};

/// The names kustomizations accept, in the order `kustomize build` looks for them.
const KUSTOMIZATION_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The keys that list what a kustomization builds.
const BUILDS_FROM: [&str; 3] = ["resources", "bases", "components"];

/// One kustomization, as far as hardport reads it.
#[derive(Debug)]
struct Kustomization {
    /// The file, as messages show it.
    shown: String,
    /// Its directory, lexically normal.
    dir: PathBuf,
    /// Its `images:` entries.
    entries: Vec<ImageEntry>,
    /// What it builds from, lexically normal: files and directories.
    builds: Vec<PathBuf>,
    /// Its `components`, lexically normal: their `images:` entries apply to what it builds.
    components: Vec<PathBuf>,
}

/// The kustomizations of a run.
#[derive(Debug, Default)]
pub struct Kustomizations {
    all: Vec<Kustomization>,
    /// For each kustomization (by index in `all`), every file and directory it builds from,
    /// directly or through the kustomizations of the directories it lists: computed once, each
    /// kustomization visited once, so cycles and shared bases cost nothing extra.
    builds_from: Vec<Vec<PathBuf>>,
}

/// One entry of a kustomization's `images:`, as written (empty values are none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageEntry {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
    pub tag_suffix: Option<String>,
}

impl ImageEntry {
    /// The entry of the `images:` item `item` of `document`, when it has a name.
    pub fn read(document: &Document, item: &Node) -> Option<ImageEntry> {
        let item = deref(document, item);
        let text = |key: &str| {
            child(document, item, key)
                .and_then(Node::value)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        Some(ImageEntry {
            name: text("name")?,
            new_name: text("newName"),
            new_tag: text("newTag"),
            digest: text("digest"),
            tag_suffix: text("tagSuffix"),
        })
    }

    /// The name the images it matches get: `newName`, else the name they had.
    pub fn produces(&self) -> &str {
        self.new_name.as_deref().unwrap_or(&self.name)
    }
}

/// What the kustomizations around one file do to image names: for a manifest, the entries of
/// those that build it (which match its images by name); for a kustomization, the entries of
/// those it builds from (whose output its own entries match). Each with the kustomization, as
/// messages show it.
#[derive(Debug, Default)]
pub struct KustomizeView {
    entries: Vec<(ImageEntry, String)>,
}

impl KustomizeView {
    /// The kustomization whose entry matches images named `name` (as text, the way kustomize
    /// matches), if one does.
    pub fn renamer(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(entry, _)| entry.name == name)
            .map(|(_, kustomization)| kustomization.as_str())
    }

    /// The entry (with its kustomization) that produces images named `name`, if one does.
    pub fn producer(&self, name: &str) -> Option<(&ImageEntry, &str)> {
        self.entries
            .iter()
            .find(|(entry, _)| entry.produces() == name)
            .map(|(entry, kustomization)| (entry, kustomization.as_str()))
    }
}

impl Kustomizations {
    /// The kustomizations of the files a discovery found: the kustomizations among them, and
    /// those above its manifests (see [`Kustomizations::read`]).
    pub fn of(files: &[SourceFile], max_file_size: u64) -> Kustomizations {
        let of_kind = |kind: FileKind| {
            files
                .iter()
                .filter(move |file| file.kind == kind)
                .map(|file| file.path.as_path())
        };
        Kustomizations::read(
            of_kind(FileKind::Kustomization),
            of_kind(FileKind::Manifest),
            max_file_size,
        )
    }

    /// Read the kustomizations at `paths` (a run's, as discovery found them), and those in the
    /// directories above each of `manifests` (for a manifest named alone). One that cannot be
    /// read or parsed is left out here; it is reported when it is migrated itself.
    pub fn read<'p>(
        paths: impl IntoIterator<Item = &'p Path>,
        manifests: impl IntoIterator<Item = &'p Path>,
        max_file_size: u64,
    ) -> Kustomizations {
        let mut files: Vec<PathBuf> = paths.into_iter().map(Path::to_path_buf).collect();
        // Each directory is looked at once, however many manifests lie below it.
        let mut dirs: HashSet<&Path> = HashSet::new();
        for manifest in manifests {
            for dir in manifest.ancestors().skip(1) {
                if !dirs.insert(dir) {
                    break;
                }
                files.extend(
                    KUSTOMIZATION_NAMES
                        .iter()
                        .map(|name| dir.join(name))
                        .filter(|path| path.is_file()),
                );
            }
        }
        files.sort_by_key(|path| normal(path));
        files.dedup_by_key(|path| normal(path));
        let all: Vec<Kustomization> = files
            .iter()
            .filter_map(|path| Kustomization::read(path, max_file_size))
            .collect();
        let builds_from = (0..all.len()).map(|index| closure(&all, index)).collect();
        Kustomizations { all, builds_from }
    }

    /// The entries of the kustomizations that build the manifest at `path`: those in its
    /// directory or one above it, and those that build from it, directly or through other
    /// kustomizations.
    pub fn around_manifest(&self, path: &Path) -> KustomizeView {
        let path = normal(path);
        self.view(|index, kustomization| {
            path.starts_with(&kustomization.dir) || self.builds(index, &path)
        })
    }

    /// The entries of the kustomizations the kustomization at `path` builds from (its bases,
    /// at any depth), whose output its own entries match.
    pub fn around_kustomization(&self, path: &Path) -> KustomizeView {
        let dir = normal(path.parent().unwrap_or(Path::new("")));
        let Some(this) = self
            .all
            .iter()
            .position(|kustomization| kustomization.dir == dir)
        else {
            return KustomizeView::default();
        };
        self.view(|_, base| base.dir != dir && self.builds(this, &base.dir))
    }

    /// The entries of the kustomizations `selected` picks, with those of their components.
    fn view(&self, selected: impl Fn(usize, &Kustomization) -> bool) -> KustomizeView {
        let mut entries = Vec::new();
        for (index, kustomization) in self.all.iter().enumerate() {
            if !selected(index, kustomization) {
                continue;
            }
            let components = self
                .all
                .iter()
                .filter(|component| kustomization.components.contains(&component.dir));
            for source in std::iter::once(kustomization).chain(components) {
                entries.extend(
                    source
                        .entries
                        .iter()
                        .map(|entry| (entry.clone(), source.shown.clone())),
                );
            }
        }
        KustomizeView { entries }
    }

    /// Whether the kustomization at `index` builds from `path` (lexically normal): a file or
    /// directory it lists, one below such a directory, or what the kustomizations of those
    /// build.
    fn builds(&self, index: usize, path: &Path) -> bool {
        self.builds_from[index]
            .iter()
            .any(|built| path.starts_with(built))
    }
}

/// Everything the kustomization at `start` builds from, through the kustomizations of the
/// directories it lists, each visited once.
fn closure(all: &[Kustomization], start: usize) -> Vec<PathBuf> {
    let mut visited = vec![false; all.len()];
    let mut pending = vec![start];
    let mut paths = Vec::new();
    while let Some(index) = pending.pop() {
        if std::mem::replace(&mut visited[index], true) {
            continue;
        }
        for built in &all[index].builds {
            paths.push(built.clone());
            pending.extend(
                all.iter()
                    .enumerate()
                    .filter(|(inner, kustomization)| {
                        !visited[*inner] && kustomization.dir == *built
                    })
                    .map(|(inner, _)| inner),
            );
        }
    }
    paths
}

impl Kustomization {
    fn read(path: &Path, max_file_size: u64) -> Option<Kustomization> {
        let text = input::read_text(path, max_file_size, Links::Refuse).ok()?;
        let stream = crate::yaml::parse(&text).ok()?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let mut entries = Vec::new();
        let mut builds = Vec::new();
        let mut components = Vec::new();
        for document in &stream.documents {
            let root = &document.root;
            let listed = |key: &str| {
                child(document, root, key)
                    .map(Node::items)
                    .unwrap_or_default()
            };
            entries.extend(
                listed("images")
                    .iter()
                    .filter_map(|item| ImageEntry::read(document, item)),
            );
            for key in BUILDS_FROM {
                let local: Vec<PathBuf> = listed(key)
                    .iter()
                    .filter_map(|item| deref(document, item).value())
                    .filter(|entry| !entry.contains("://") && !entry.starts_with("github.com/"))
                    .map(|entry| normal(&dir.join(entry)))
                    .collect();
                if key == "components" {
                    components.extend(local.iter().cloned());
                }
                builds.extend(local);
            }
        }
        Some(Kustomization {
            shown: display_path(path),
            dir: normal(dir),
            entries,
            builds,
            components,
        })
    }
}

/// `path` without `.` components and with each `..` taking away the component before it, as
/// far as there is one (a leading `..` stays).
fn normal(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if parts
                    .last()
                    .is_some_and(|last| matches!(last, Component::Normal(_))) =>
            {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn paths_are_made_lexically_normal() {
        assert_eq!(
            normal(Path::new("./k8s/overlays/prod/../../base")),
            Path::new("k8s/base")
        );
        assert_eq!(normal(Path::new("../up/./x")), Path::new("../up/x"));
    }

    #[test]
    fn manifests_see_every_kustomization_that_builds_them_and_overlays_see_their_bases() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(
            root,
            "base/kustomization.yaml",
            "resources: [deploy.yaml, ../common]\nimages:\n  - name: redis\n    newTag: \"7.2\"\n",
        );
        write(
            root,
            "common/kustomization.yaml",
            "resources: [cache.yaml]\n",
        );
        write(
            root,
            "overlays/prod/kustomization.yaml",
            "resources:\n  - ../../base\n  - https://example.com/remote.yaml\nimages:\n  - name: postgres\n    newTag: \"16\"\n",
        );
        write(
            root,
            "elsewhere/kustomization.yaml",
            "images:\n  - name: nginx\n",
        );
        let paths: Vec<PathBuf> = ["base", "common", "overlays/prod", "elsewhere"]
            .iter()
            .map(|dir| root.join(dir).join("kustomization.yaml"))
            .collect();
        let index = Kustomizations::read(paths.iter().map(PathBuf::as_path), [], 1 << 20);
        let base_manifest = index.around_manifest(&root.join("base/deploy.yaml"));
        assert!(
            base_manifest
                .renamer("redis")
                .is_some_and(|k| k.ends_with("base/kustomization.yaml"))
        );
        assert!(
            base_manifest
                .renamer("postgres")
                .is_some_and(|k| k.ends_with("prod/kustomization.yaml"))
        );
        assert_eq!(base_manifest.renamer("nginx"), None);
        let common = index.around_manifest(&root.join("common/cache.yaml"));
        assert!(
            common.renamer("postgres").is_some(),
            "the overlay builds it through the base"
        );
        let overlay = index.around_kustomization(&root.join("overlays/prod/kustomization.yaml"));
        let (base_entry, from) = overlay.producer("redis").expect("the base's entry");
        assert_eq!(base_entry.new_tag.as_deref(), Some("7.2"));
        assert!(from.ends_with("base/kustomization.yaml"));
        assert_eq!(
            overlay.producer("postgres"),
            None,
            "its own entries are not its bases'"
        );
        let base = index.around_kustomization(&root.join("base/kustomization.yaml"));
        assert_eq!(
            base.producer("redis"),
            None,
            "a base does not see its overlays"
        );
    }

    #[test]
    fn a_component_renames_what_its_kustomization_builds_and_cycles_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(
            root,
            "base/kustomization.yaml",
            "resources: [deploy.yaml]\n",
        );
        write(
            root,
            "comp/kustomization.yaml",
            "kind: Component\nimages: [{name: nginx, newTag: \"1.27\"}]\n",
        );
        write(
            root,
            "overlay/kustomization.yaml",
            "resources: [../base]\ncomponents: [../comp]\n",
        );
        let many = "resources: [../b, ../b, ../b, ../b, ../b, ../b]\n";
        write(root, "a/kustomization.yaml", many);
        write(root, "b/kustomization.yaml", &many.replace("../b", "../a"));
        let paths: Vec<PathBuf> = ["base", "comp", "overlay", "a", "b"]
            .iter()
            .map(|dir| root.join(dir).join("kustomization.yaml"))
            .collect();
        let index = Kustomizations::read(paths.iter().map(PathBuf::as_path), [], 1 << 20);
        let manifest = index.around_manifest(&root.join("base/deploy.yaml"));
        assert!(
            manifest
                .renamer("nginx")
                .is_some_and(|k| k.ends_with("comp/kustomization.yaml"))
        );
        assert_eq!(
            index
                .around_manifest(&root.join("a/x.yaml"))
                .renamer("nginx"),
            None
        );
    }

    #[test]
    fn a_manifest_named_alone_finds_the_kustomizations_above_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "app/kustomization.yaml",
            "images: [{name: redis}]\n",
        );
        let manifest = dir.path().join("app/sub/deploy.yaml");
        let index = Kustomizations::read([], [manifest.as_path()], 1 << 20);
        assert!(index.around_manifest(&manifest).renamer("redis").is_some());
    }
}
