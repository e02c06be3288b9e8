//! The directories a run may read through a link and write in: the paths it was given.
//!
//! The walk never follows a link, so a file it finds lies inside the paths given. A file named
//! on the command line may be a link, though, and a file or a directory may be swapped for one
//! during the run. [`Scope`] is what both the reader ([`crate::discovery`], for a named link)
//! and the writer ([`crate::atomic_write`]) check a resolved path against, so that a link in a
//! repository can neither make hardport quote a file outside it (a token's first line in a
//! finding) nor write one.

use std::path::{Path, PathBuf};

/// The directories given, and the directory of each file given, all with their symbolic links
/// resolved.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    roots: Vec<PathBuf>,
}

impl Scope {
    /// The scope of a run over `paths` (files or directories). A path that cannot be resolved
    /// adds nothing: nothing is found under it either.
    pub fn of(paths: &[PathBuf]) -> Scope {
        let roots = paths
            .iter()
            .filter_map(|path| {
                let dir = if path.is_dir() {
                    path.as_path()
                } else {
                    match path.parent() {
                        Some(parent) if !parent.as_os_str().is_empty() => parent,
                        _ => Path::new("."),
                    }
                };
                std::fs::canonicalize(dir).ok()
            })
            .collect();
        Scope { roots }
    }

    /// The root that holds the resolved path `target`: the deepest, when roots nest. Nothing
    /// inside a `.git` directory below a root is in scope: a link named on the command line
    /// (`Dockerfile -> .git/config`) must not make hardport quote a repository's credentials.
    pub fn root_of(&self, target: &Path) -> Option<&Path> {
        self.roots
            .iter()
            .filter(|root| target.starts_with(root))
            .filter(|root| {
                let below = target.strip_prefix(root).unwrap_or(target);
                !below.components().any(|part| part.as_os_str() == ".git")
            })
            .max_by_key(|root| root.components().count())
            .map(PathBuf::as_path)
    }

    /// Whether the resolved path `target` lies under one of the roots.
    pub fn contains(&self, target: &Path) -> bool {
        self.root_of(target).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_named_alone_brings_its_directory_and_the_deepest_root_is_chosen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(sub.join("Dockerfile"), "x").expect("write");
        let scope = Scope::of(&[dir.path().to_path_buf(), sub.join("Dockerfile")]);
        let resolved = std::fs::canonicalize(sub.join("Dockerfile")).expect("canonical");
        let sub = std::fs::canonicalize(&sub).expect("canonical");
        assert_eq!(scope.root_of(&resolved), Some(sub.as_path()));
        assert!(!scope.contains(Path::new("/etc/passwd")));
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        assert!(
            !scope.contains(&root.join(".git/config")),
            "never inside .git"
        );
    }
}
