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
use crate::yaml::Node;

/// The names kustomizations accept, in the order `kustomize build` looks for them.
pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The keys that list what a kustomization builds.
const BUILDS_FROM: [&str; 3] = ["resources", "bases", "components"];

/// How many kustomizations deep an inclusion chain is followed (kustomize refuses cycles).
const MAX_DEPTH: usize = 16;

/// One kustomization, as far as hardport reads it.
#[derive(Debug)]
struct Kustomization {
    /// The file, as messages show it.
    shown: String,
    /// Its directory, lexically normal.
    dir: PathBuf,
    /// The names its `images:` entries match.
    names: Vec<String>,
    /// What it builds from, lexically normal: files and directories.
    builds: Vec<PathBuf>,
}

/// The kustomizations of a run.
#[derive(Debug, Default)]
pub struct Kustomizations {
    all: Vec<Kustomization>,
}

/// The image names kustomizations rename, for one manifest or kustomization: each with the
/// kustomization that renames it, as messages show it.
#[derive(Debug, Default)]
pub struct Renamed {
    names: Vec<(String, String)>,
}

impl Renamed {
    /// The kustomization that renames images named `name` (as text, the way kustomize
    /// matches), if one does.
    pub fn renamer(&self, name: &str) -> Option<&str> {
        self.names
            .iter()
            .find(|(renamed, _)| renamed == name)
            .map(|(_, kustomization)| kustomization.as_str())
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
        let all = files
            .iter()
            .filter_map(|path| Kustomization::read(path, max_file_size))
            .collect();
        Kustomizations { all }
    }

    /// The names renamed by the kustomizations that build the manifest at `path`: those in its
    /// directory or one above it, and those that build from it, directly or through other
    /// kustomizations.
    pub fn renaming_manifest(&self, path: &Path) -> Renamed {
        let path = normal(path);
        self.renamed_by(|kustomization| {
            path.starts_with(&kustomization.dir) || self.builds(kustomization, &path, 0)
        })
    }

    /// The names renamed by the kustomizations that build the kustomization at `path` (its
    /// overlays), which its own entries must keep producing.
    pub fn renaming_kustomization(&self, path: &Path) -> Renamed {
        let dir = normal(path.parent().unwrap_or(Path::new("")));
        self.renamed_by(|kustomization| {
            kustomization.dir != dir && self.builds(kustomization, &dir, 0)
        })
    }

    fn renamed_by(&self, builds: impl Fn(&Kustomization) -> bool) -> Renamed {
        let names = self
            .all
            .iter()
            .filter(|kustomization| builds(kustomization))
            .flat_map(|kustomization| {
                kustomization
                    .names
                    .iter()
                    .map(|name| (name.clone(), kustomization.shown.clone()))
            })
            .collect();
        Renamed { names }
    }

    /// Whether `kustomization` builds from `path` (lexically normal): a file or directory it
    /// lists, or one below a directory it lists, or what the kustomization of such a directory
    /// builds.
    fn builds(&self, kustomization: &Kustomization, path: &Path, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        kustomization.builds.iter().any(|built| {
            path.starts_with(built)
                || self
                    .all
                    .iter()
                    .filter(|inner| inner.dir == *built)
                    .any(|inner| self.builds(inner, path, depth + 1))
        })
    }
}

impl Kustomization {
    fn read(path: &Path, max_file_size: u64) -> Option<Kustomization> {
        let text = input::read_text(path, max_file_size, Links::Refuse).ok()?;
        let stream = crate::yaml::parse(&text).ok()?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let mut names = Vec::new();
        let mut builds = Vec::new();
        for document in &stream.documents {
            let root = &document.root;
            let listed = |key: &str| {
                child(document, root, key)
                    .map(Node::items)
                    .unwrap_or_default()
            };
            for item in listed("images") {
                let name = child(document, deref(document, item), "name").and_then(Node::value);
                names.extend(name.map(str::to_owned));
            }
            for key in BUILDS_FROM {
                let local = listed(key)
                    .iter()
                    .filter_map(|item| deref(document, item).value())
                    .filter(|entry| !entry.contains("://") && !entry.starts_with("github.com/"));
                builds.extend(local.map(|entry| normal(&dir.join(entry))));
            }
        }
        Some(Kustomization {
            shown: display_path(path),
            dir: normal(dir),
            names,
            builds,
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
    fn overlays_that_build_from_a_base_rename_its_images_through_every_level() {
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
        let base_manifest = index.renaming_manifest(&root.join("base/deploy.yaml"));
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
        let common = index.renaming_manifest(&root.join("common/cache.yaml"));
        assert!(
            common.renamer("postgres").is_some(),
            "the overlay builds it through the base"
        );
        let base = index.renaming_kustomization(&root.join("base/kustomization.yaml"));
        assert!(base.renamer("postgres").is_some());
        assert_eq!(
            base.renamer("redis"),
            None,
            "its own entries are not its overlays'"
        );
        let overlay = index.renaming_kustomization(&root.join("overlays/prod/kustomization.yaml"));
        assert_eq!(overlay.renamer("postgres"), None);
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
        assert!(
            index
                .renaming_manifest(&manifest)
                .renamer("redis")
                .is_some()
        );
    }
}
