//! The paths a patch names its files by, chosen so that `git apply`, run where hardport ran,
//! patches the files hardport read.
//!
//! `git apply` reads the paths of a `diff --git` patch from the root of the work tree it runs
//! in, whatever subdirectory of it that is, and from the current directory outside any work
//! tree. Run in a subdirectory, it patches only the files below that directory and skips the
//! others without a word (exit code 0); it refuses a path with a `..` component ("invalid
//! path") unless given `--unsafe-paths`. So a patch's paths start from the same place, the
//! *base*: the root of the work tree the current directory lies in ([`crate::work_tree`]), else
//! the current directory. A file outside the base gets a path that climbs out of it with `..`,
//! and the run says how to apply such a patch ([`PatchBase::advice`]); so does a file in the
//! work tree but outside the current directory.
//!
//! A path is that of the file itself, symbolic links resolved: `git apply` does not patch
//! through a symbolic link, and `--write` writes the link's target too. Paths are bytes, so a
//! name that is not UTF-8 is written exactly (quoted by [`crate::diff`]); a path that cannot be
//! written at all is [`Unwritable`], and its file is skipped rather than patched at a wrong path.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use crate::work_tree;

/// Where the patch paths of a run start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchBase {
    /// The current directory, symbolic links resolved; `None` when it cannot be read.
    cwd: Option<PathBuf>,
    /// The root of the work tree the current directory lies in, if it lies in one.
    work_tree: Option<PathBuf>,
}

/// A file's path in a patch and whether `git apply` run in the current directory applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPath {
    /// Relative to the base, `/`-separated, unquoted.
    pub path: Vec<u8>,
    pub reach: Reach,
}

/// What `git apply`, run in the directory hardport ran in, does with a file's patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// It applies it.
    Here,
    /// It skips it without a word: the file is in the work tree but outside the current
    /// directory. From the work tree's root, `git apply` applies it.
    OutsideCurrentDir,
    /// It refuses its path, which starts with `..`: the file lies outside the base.
    /// `git apply --unsafe-paths` from the base applies it.
    OutsideBase,
}

/// Why a file's path cannot be written in a patch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unwritable {
    #[error(
        "the current directory cannot be read, so the patch cannot name this file relative to it"
    )]
    NoCurrentDir,
    #[error("the patch cannot name this file: its path is not Unicode")]
    NotUnicode,
    #[error("the patch cannot name this file: it lies on another drive than {}", .0.display())]
    OtherRoot(PathBuf),
}

/// How many of a run's patched files `git apply` would not apply from the current directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReachCounts {
    pub outside_current_dir: usize,
    pub outside_base: usize,
}

impl ReachCounts {
    pub fn add(&mut self, reach: Reach) {
        match reach {
            Reach::Here => {}
            Reach::OutsideCurrentDir => self.outside_current_dir += 1,
            Reach::OutsideBase => self.outside_base += 1,
        }
    }
}

impl PatchPath {
    /// The path of `components` (from the base), which `git apply` run in the current directory
    /// skips when `skipped_here` (it lies outside that directory, in its work tree).
    fn of(components: &[Component<'_>], skipped_here: bool) -> Result<PatchPath, Unwritable> {
        let reach = if components.first() == Some(&Component::ParentDir) {
            Reach::OutsideBase
        } else if skipped_here {
            Reach::OutsideCurrentDir
        } else {
            Reach::Here
        };
        Ok(PatchPath {
            path: slash_joined(components)?,
            reach,
        })
    }
}

impl PatchBase {
    /// The base of a run in this process's current directory and environment.
    pub fn current() -> PatchBase {
        let cwd = std::env::current_dir()
            .ok()
            .map(|cwd| std::fs::canonicalize(&cwd).unwrap_or(cwd));
        let work_tree = cwd
            .as_deref()
            .and_then(|cwd| work_tree::enclosing(cwd, &|name| std::env::var_os(name)));
        PatchBase { cwd, work_tree }
    }

    /// The base of a run in `cwd` (absolute, symbolic links resolved) inside the work tree
    /// rooted at `work_tree`, if any.
    pub fn new(cwd: PathBuf, work_tree: Option<PathBuf>) -> PatchBase {
        PatchBase {
            cwd: Some(cwd),
            work_tree,
        }
    }

    /// The path the patch of the file at `path` (as the walk found it) names it by.
    pub fn locate(&self, path: &Path) -> Result<PatchPath, Unwritable> {
        let Some(cwd) = self.cwd.as_deref() else {
            // Without a current directory, a relative path is all the patch can hold.
            if path.has_root() {
                return Err(Unwritable::NoCurrentDir);
            }
            return PatchPath::of(&lexical(path).components().collect::<Vec<_>>(), false);
        };
        let file = resolved(&cwd.join(path));
        let base = self.work_tree.as_deref().unwrap_or(cwd);
        let components =
            relative_to(&file, base).ok_or_else(|| Unwritable::OtherRoot(base.to_path_buf()))?;
        PatchPath::of(
            &components,
            self.work_tree.is_some() && !file.starts_with(cwd),
        )
    }

    /// What to tell the user about applying a patch some of whose files `git apply`, run in
    /// the current directory, would skip or refuse: one line per kind of trouble.
    pub fn advice(&self, counts: ReachCounts) -> Vec<String> {
        let files = |count: usize| match count {
            1 => "1 changed file lies".to_owned(),
            _ => format!("{count} changed files lie"),
        };
        let mut lines = Vec::new();
        let up = self.up_to_root();
        if counts.outside_current_dir > 0 {
            lines.push(format!(
                "{} outside the current directory, and `git apply` run here skips such files \
                 without a word (it patches only below the directory it runs in): apply the \
                 patch from the root of the work tree, `{up}` (`git -C {up} apply < PATCH`)",
                files(counts.outside_current_dir)
            ));
        }
        if counts.outside_base > 0 {
            let outside = match &self.work_tree {
                Some(root) => format!("the work tree of the current directory, {}", root.display()),
                None => "the current directory".to_owned(),
            };
            let from = match up.as_str() {
                "." => String::new(),
                up => format!(" from `{up}`"),
            };
            lines.push(format!(
                "{} outside {outside}, so the patch names {} with a leading `..`, which \
                 `git apply` refuses: apply it with `git apply --unsafe-paths`{from}, or \
                 migrate from a directory that holds every file",
                files(counts.outside_base),
                if counts.outside_base == 1 {
                    "it"
                } else {
                    "them"
                },
            ));
        }
        lines
    }

    /// The way from the current directory up to the base: `..` per level (`.` at the base).
    fn up_to_root(&self) -> String {
        let depth = match (&self.cwd, &self.work_tree) {
            (Some(cwd), Some(root)) => cwd
                .strip_prefix(root)
                .map_or(0, |below| below.components().count()),
            _ => 0,
        };
        match depth {
            0 => ".".to_owned(),
            _ => vec![".."; depth].join("/"),
        }
    }
}

/// The absolute path `path` names, symbolic links resolved when it exists (else `.` and `..`
/// taken lexically: the file is then reported unreadable anyway).
fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| lexical(path))
}

/// `path` without `.` components and with each `..` taking the component before it away.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The way from the directory `base` to `path` (both absolute and resolved): `..` up to their
/// common ancestor, then down. `None` when they share no root (two Windows drives).
fn relative_to<'a>(path: &'a Path, base: &Path) -> Option<Vec<Component<'a>>> {
    let mut path_parts = path.components().peekable();
    let mut base_parts = base.components().peekable();
    if path_parts.peek() != base_parts.peek() {
        return None;
    }
    while path_parts.peek().is_some() && path_parts.peek() == base_parts.peek() {
        path_parts.next();
        base_parts.next();
    }
    let up = base_parts.map(|_| Component::ParentDir);
    Some(up.chain(path_parts).collect())
}

/// The components joined with `/`, as bytes.
fn slash_joined(components: &[Component<'_>]) -> Result<Vec<u8>, Unwritable> {
    let mut joined = Vec::new();
    for component in components {
        if !joined.is_empty() {
            joined.push(b'/');
        }
        joined.extend_from_slice(bytes(component.as_os_str())?);
    }
    Ok(joined)
}

#[cfg(unix)]
fn bytes(name: &OsStr) -> Result<&[u8], Unwritable> {
    use std::os::unix::ffi::OsStrExt as _;
    Ok(name.as_bytes())
}

#[cfg(not(unix))]
fn bytes(name: &OsStr) -> Result<&[u8], Unwritable> {
    name.to_str()
        .map(str::as_bytes)
        .ok_or(Unwritable::NotUnicode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        (dir, root)
    }

    fn located(base: &PatchBase, path: &str) -> (String, Reach) {
        let located = base.locate(Path::new(path)).expect("writable");
        (
            String::from_utf8(located.path).expect("UTF-8"),
            located.reach,
        )
    }

    #[test]
    fn in_a_work_tree_paths_start_at_its_root() {
        let (_dir, root) = temp();
        std::fs::create_dir_all(root.join("sub/dir")).expect("mkdir");
        std::fs::create_dir_all(root.join("other")).expect("mkdir");
        let base = PatchBase::new(root.join("sub"), Some(root.clone()));
        assert_eq!(
            located(&base, "dir/Dockerfile"),
            ("sub/dir/Dockerfile".into(), Reach::Here)
        );
        assert_eq!(
            located(&base, "./dir/../dir/Dockerfile"),
            ("sub/dir/Dockerfile".into(), Reach::Here)
        );
        assert_eq!(
            located(&base, "../other/Dockerfile"),
            ("other/Dockerfile".into(), Reach::OutsideCurrentDir)
        );
        let outside = root.parent().expect("parent").join("elsewhere/Dockerfile");
        let (path, reach) = located(&base, outside.to_str().expect("UTF-8"));
        assert_eq!(reach, Reach::OutsideBase);
        assert!(path.starts_with("../elsewhere/"), "{path}");
    }

    #[test]
    fn outside_a_work_tree_paths_start_at_the_current_directory() {
        let (_dir, root) = temp();
        let base = PatchBase::new(root.join("here"), None);
        assert_eq!(
            located(&base, "a/Dockerfile"),
            ("a/Dockerfile".into(), Reach::Here)
        );
        assert_eq!(
            located(&base, "../there/Dockerfile"),
            ("../there/Dockerfile".into(), Reach::OutsideBase)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_named_by_its_target_and_bytes_stay_bytes() {
        use std::os::unix::ffi::OsStrExt as _;
        let (_dir, root) = temp();
        let odd = OsStr::from_bytes(b"caf\xe9");
        std::fs::create_dir_all(root.join("real").join(odd)).expect("mkdir");
        std::fs::write(root.join("real").join(odd).join("Dockerfile"), "FROM a\n").expect("w");
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).expect("symlink");
        let base = PatchBase::new(root.clone(), Some(root.clone()));
        let located = base
            .locate(&Path::new("link").join(odd).join("Dockerfile"))
            .expect("writable");
        assert_eq!(located.path, b"real/caf\xe9/Dockerfile");
    }

    #[test]
    fn without_a_current_directory_only_relative_paths_are_written() {
        let base = PatchBase {
            cwd: None,
            work_tree: None,
        };
        assert_eq!(
            located(&base, "./a/b/../Dockerfile"),
            ("a/Dockerfile".into(), Reach::Here)
        );
        assert_eq!(
            base.locate(&std::env::temp_dir().join("Dockerfile")),
            Err(Unwritable::NoCurrentDir)
        );
    }

    #[test]
    fn advice_names_where_to_apply_from() {
        let base = PatchBase::new("/r/a/b".into(), Some("/r".into()));
        let advice = base.advice(ReachCounts {
            outside_current_dir: 2,
            outside_base: 1,
        });
        assert_eq!(advice.len(), 2, "{advice:?}");
        assert!(advice[0].starts_with("2 changed files lie outside the current directory"));
        assert!(
            advice[0].contains("`git -C ../.. apply < PATCH`"),
            "{}",
            advice[0]
        );
        assert!(
            advice[1].contains("--unsafe-paths` from `../..`"),
            "{}",
            advice[1]
        );
        assert!(base.advice(ReachCounts::default()).is_empty());
        let at_root = PatchBase::new("/r".into(), Some("/r".into()));
        let advice = at_root.advice(ReachCounts {
            outside_current_dir: 0,
            outside_base: 2,
        });
        assert!(
            advice[0].contains("names them with a leading `..`"),
            "{}",
            advice[0]
        );
        assert!(
            advice[0].contains("`git apply --unsafe-paths`, or"),
            "{}",
            advice[0]
        );

        let outside = PatchBase::new("/r".into(), None);
        let advice = outside.advice(ReachCounts {
            outside_current_dir: 0,
            outside_base: 1,
        });
        assert!(advice[0].starts_with("1 changed file lies outside the current directory, so"));
        assert!(
            advice[0].contains("`git apply --unsafe-paths`, or"),
            "{}",
            advice[0]
        );
    }
}
