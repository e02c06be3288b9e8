//! The git work tree a directory lies in, found the way git finds it, without running git.
//!
//! `git apply` reads a patch's paths from the root of the work tree it runs in, so the patch
//! must name files from there ([`crate::patch_path`]). Which work tree that is, is git's own
//! discovery, followed here rule for rule where it matters:
//!
//! - `GIT_DIR` set: no discovery; the work tree is `GIT_WORK_TREE`, else the current directory
//!   (git's rule when the repository's `core.worktree` is not set, which hardport does not read).
//! - Otherwise each directory from the current one up is looked at: a `.git` file starting with
//!   `gitdir:` (a linked worktree, a submodule) or a `.git` directory that is a repository
//!   (`HEAD`, `objects/`, `refs/`) makes it the root of the work tree (`GIT_WORK_TREE` instead,
//!   when set); a directory that is itself a repository (a bare one, or the inside of `.git`)
//!   ends the search without a work tree, as a `.git` file without `gitdir:` does.
//! - The search does not go up into a directory of `GIT_CEILING_DIRECTORIES`, nor across a
//!   file-system boundary unless `GIT_DISCOVERY_ACROSS_FILESYSTEM` is true.
//!
//! Not followed: `core.worktree`, and the ownership check (`safe.directory`): git works in a
//! repository another user owns as if outside any repository, so there a patch made in a
//! subdirectory names files from the wrong place and `git apply` says it cannot find them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::input::{self, Links};

/// The root of the work tree that git, run in `cwd` (absolute, symbolic links resolved) with
/// the environment `env`, would use; `None` when it would work outside any work tree.
pub fn enclosing(cwd: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    let explicit_work_tree = set("GIT_WORK_TREE").map(|dir| resolve(cwd, Path::new(&dir)));
    if set("GIT_DIR").is_some() {
        return Some(explicit_work_tree.unwrap_or_else(|| cwd.to_path_buf()));
    }
    let ceilings = set("GIT_CEILING_DIRECTORIES")
        .map(|list| ceilings(cwd, &list))
        .unwrap_or_default();
    let one_file_system =
        !set("GIT_DISCOVERY_ACROSS_FILESYSTEM").is_some_and(|value| is_true(&value));
    let cwd_device = device(cwd);
    for dir in cwd.ancestors() {
        let above_cwd = dir != cwd;
        if above_cwd && ceilings.iter().any(|ceiling| ceiling.starts_with(dir)) {
            return None;
        }
        if above_cwd && one_file_system && device(dir) != cwd_device {
            return None;
        }
        match look_at(dir) {
            Found::WorkTree => {
                return Some(explicit_work_tree.unwrap_or_else(|| dir.to_path_buf()));
            }
            Found::NoWorkTree => return None,
            Found::Nothing => {}
        }
    }
    None
}

/// The most of a `.git` file read: it holds `gitdir: PATH`.
const MAX_GITDIR_FILE: u64 = 64 * 1024;

/// What one directory tells the search.
enum Found {
    /// It is the root of a work tree.
    WorkTree,
    /// It ends the search without a work tree.
    NoWorkTree,
    /// Go on to its parent.
    Nothing,
}

/// What `dir` tells the search, looked at in git's order: a `.git` file, a `.git` directory,
/// `dir` itself being a repository.
fn look_at(dir: &Path) -> Found {
    let dot_git = dir.join(".git");
    match std::fs::metadata(&dot_git) {
        Ok(metadata) if metadata.is_file() => {
            // Read like any file of a repository: a `.git` linked to `/proc/kmsg` or a FIFO
            // must not hang the run. A gitdir file is one short line.
            let read = input::read_bytes(&dot_git, MAX_GITDIR_FILE, Links::Refuse);
            return match read {
                Ok(bytes) if bytes.starts_with(b"gitdir:") => Found::WorkTree,
                _ => Found::NoWorkTree,
            };
        }
        Ok(metadata) if metadata.is_dir() && is_repository(&dot_git) => return Found::WorkTree,
        _ => {}
    }
    if is_repository(dir) {
        Found::NoWorkTree
    } else {
        Found::Nothing
    }
}

/// Whether `dir` looks like a repository to git: a `HEAD` file, `objects/` and `refs/`.
fn is_repository(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
}

/// `GIT_CEILING_DIRECTORIES`' entries above `cwd`, resolved as git resolves them (relative
/// entries are ignored, as git ignores them).
fn ceilings(cwd: &Path, list: &std::ffi::OsStr) -> Vec<PathBuf> {
    std::env::split_paths(list)
        .filter(|entry| entry.is_absolute())
        .map(|entry| std::fs::canonicalize(&entry).unwrap_or(entry))
        .filter(|entry| entry.as_path() != cwd && cwd.starts_with(entry))
        .collect()
}

/// `path` made absolute from `cwd`, symbolic links resolved when it exists.
fn resolve(cwd: &Path, path: &Path) -> PathBuf {
    let joined = cwd.join(path);
    std::fs::canonicalize(&joined).unwrap_or(joined)
}

/// git's reading of a boolean variable: `true`, `yes`, `on` or a non-zero number.
fn is_true(value: &std::ffi::OsStr) -> bool {
    let value = value.to_string_lossy().to_ascii_lowercase();
    matches!(value.as_str(), "true" | "yes" | "on") || value.parse::<i64>().is_ok_and(|n| n != 0)
}

/// The file system (device) a directory is on, where the platform tells.
#[cfg(unix)]
fn device(dir: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(dir).ok().map(|metadata| metadata.dev())
}

#[cfg(not(unix))]
fn device(_dir: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory laid out as `git init` leaves a repository, without running git.
    fn repository(dir: &Path) {
        std::fs::create_dir_all(dir.join("objects")).expect("objects");
        std::fs::create_dir_all(dir.join("refs")).expect("refs");
        std::fs::write(dir.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    }

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn a_dot_git_file_reached_through_a_link_is_not_read() {
        // As root, a `.git` linked to `/proc/kmsg` (a regular file to `stat`) hung the search
        // on its first read; a link is refused before anything is opened.
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("elsewhere"), "gitdir: /x\n").expect("write");
        let tree = dir.path().join("tree");
        std::fs::create_dir(&tree).expect("mkdir");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), tree.join(".git"))
            .expect("symlink");
        let tree = std::fs::canonicalize(&tree).expect("canonical");
        assert_eq!(enclosing(&tree, &no_env), None);
        std::fs::remove_file(tree.join(".git")).expect("remove");
        std::fs::write(tree.join(".git"), "gitdir: /x\n").expect("write");
        assert_eq!(enclosing(&tree, &no_env), Some(tree));
    }

    fn temp() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        (dir, root)
    }

    #[test]
    fn a_git_directory_or_file_above_makes_the_work_tree() {
        let (_dir, root) = temp();
        let sub = root.join("repo/a/b");
        std::fs::create_dir_all(&sub).expect("mkdir");
        repository(&root.join("repo/.git"));
        assert_eq!(enclosing(&sub, &no_env), Some(root.join("repo")));
        assert_eq!(
            enclosing(&root.join("repo"), &no_env),
            Some(root.join("repo"))
        );

        let linked = root.join("repo/a/linked");
        std::fs::create_dir_all(linked.join("x")).expect("mkdir");
        std::fs::write(linked.join(".git"), "gitdir: /elsewhere/.git/worktrees/l\n").expect("w");
        assert_eq!(enclosing(&linked.join("x"), &no_env), Some(linked));
    }

    #[test]
    fn outside_a_repository_there_is_no_work_tree() {
        let (_dir, root) = temp();
        let sub = root.join("plain/deeper");
        std::fs::create_dir_all(&sub).expect("mkdir");
        // An empty `.git` directory is not a repository, as git sees it.
        std::fs::create_dir_all(root.join("plain/.git")).expect("mkdir");
        // The temporary directory may itself lie in a work tree: the search stops above it.
        let ceiling = OsString::from(&root);
        let env = |name: &str| (name == "GIT_CEILING_DIRECTORIES").then(|| ceiling.clone());
        assert_eq!(enclosing(&sub, &env), None);
        repository(&root.join("plain/.git"));
        assert_eq!(enclosing(&sub, &env), Some(root.join("plain")));
    }

    #[test]
    fn a_bare_repository_or_a_bad_git_file_ends_the_search() {
        let (_dir, root) = temp();
        repository(&root.join("repo/.git"));
        std::fs::create_dir_all(root.join("repo/.git/refs/heads")).expect("mkdir");
        assert_eq!(enclosing(&root.join("repo/.git/refs/heads"), &no_env), None);

        std::fs::create_dir_all(root.join("repo/odd/in")).expect("mkdir");
        std::fs::write(root.join("repo/odd/.git"), "not a gitfile").expect("write");
        assert_eq!(enclosing(&root.join("repo/odd/in"), &no_env), None);
    }

    #[test]
    fn the_environment_is_read_as_git_reads_it() {
        let (_dir, root) = temp();
        repository(&root.join("repo/.git"));
        let sub = root.join("repo/a");
        std::fs::create_dir_all(&sub).expect("mkdir");
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        // A ceiling at the repository stops the search before it.
        let ceiling = OsString::from(root.join("repo"));
        let with_ceiling =
            |name: &str| (name == "GIT_CEILING_DIRECTORIES").then(|| ceiling.clone());
        assert_eq!(enclosing(&sub, &with_ceiling), None);
        // A ceiling that is the current directory itself does not stop it.
        let here = OsString::from(&sub);
        let at_cwd = |name: &str| (name == "GIT_CEILING_DIRECTORIES").then(|| here.clone());
        assert_eq!(enclosing(&sub, &at_cwd), Some(root.join("repo")));
        // GIT_DIR without GIT_WORK_TREE: the current directory is the work tree.
        assert_eq!(
            enclosing(&sub, &env(&[("GIT_DIR", "/x/.git")])),
            Some(sub.clone())
        );
        // GIT_WORK_TREE names it, relative to the current directory.
        assert_eq!(
            enclosing(&sub, &env(&[("GIT_WORK_TREE", ".")])),
            Some(sub.clone())
        );
    }

    #[test]
    fn booleans_read_like_git() {
        for value in ["true", "Yes", "on", "1", "2"] {
            assert!(is_true(value.as_ref()), "{value}");
        }
        for value in ["false", "no", "0", "x"] {
            assert!(!is_true(value.as_ref()), "{value}");
        }
    }
}
