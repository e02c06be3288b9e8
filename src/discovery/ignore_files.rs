//! The ignore files of a walk — `.ignore`, `.gitignore` and git's `info/exclude` — read by
//! hardport rather than by the walker.
//!
//! The walker (`ignore`) opens ignore files with a plain `open` and reads them whole, so in a
//! repository someone else controls a `.gitignore` linked to a FIFO hangs the run and an
//! `.ignore` linked to `/proc/self/pagemap` exhausts its memory. Here every ignore file is read
//! like any other input ([`input::read_bytes`]): never through a link, only when it is a regular
//! file, and never more than the size limit. A directory whose ignore file cannot be read that
//! way is not walked at all (what it ignores is unknown) and is reported.
//!
//! The rules are the walker's own (`ignore::gitignore`), applied with its precedence: at each
//! level the deepest directory that matches decides; `.ignore` outranks `.gitignore`, which
//! outranks `info/exclude`, which outranks the user's global excludes file; `.gitignore` and
//! `info/exclude` stop at the directory holding `.git`, `.ignore` does not; and the rules of
//! the directories above the root given apply too, as in ripgrep.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::WalkError;
use crate::input::{self, InputError, Links};

/// The ignore rules met so far in one walk, one [`Level`] per directory.
pub(super) struct IgnoreRules {
    /// The root as the walker names its entries, and resolved: rules match resolved paths.
    root: PathBuf,
    resolved_root: PathBuf,
    limit: u64,
    global: Gitignore,
    levels: RwLock<HashMap<PathBuf, Arc<Level>>>,
    errors: Mutex<Vec<WalkError>>,
}

/// One directory's rules, with its parent's, so that the rules for a path are one lookup away.
struct Level {
    ignore: Gitignore,
    gitignore: Gitignore,
    exclude: Gitignore,
    /// Whether the directory holds `.git`: `.gitignore` files above it do not apply.
    has_git: bool,
    /// An ignore file here could not be read safely: nothing below is walked.
    refused: bool,
    parent: Option<Arc<Level>>,
}

impl Level {
    /// Whether this level decides nothing its parent does not: no rules, no `.git`, refused
    /// exactly when the parent is.
    fn adds_nothing_to(&self, parent: &Level) -> bool {
        self.ignore.is_empty()
            && self.gitignore.is_empty()
            && self.exclude.is_empty()
            && !self.has_git
            && self.refused == parent.refused
    }
}

/// What the rules say about an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Walk,
    Ignored,
    /// Its directory's ignore file could not be read (reported once, see [`IgnoreRules::errors`]).
    Refused,
}

impl IgnoreRules {
    /// The rules for a walk of `root`, reading no file bigger than `limit` bytes.
    pub(super) fn new(root: &Path, limit: u64) -> IgnoreRules {
        IgnoreRules {
            root: root.to_path_buf(),
            resolved_root: std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()),
            limit,
            // The user's own configuration (`core.excludesFile`), not the repository's.
            global: Gitignore::global().0,
            levels: RwLock::new(HashMap::new()),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// Whether the walk takes `path` (an entry below the root, as the walker names it).
    pub(super) fn verdict(&self, path: &Path, is_dir: bool) -> Verdict {
        let Ok(relative) = path.strip_prefix(&self.root) else {
            return Verdict::Walk;
        };
        let resolved = self.resolved_root.join(relative);
        let Some(dir) = resolved.parent() else {
            return Verdict::Walk;
        };
        let level = self.level(dir);
        if level.refused {
            return Verdict::Refused;
        }
        if self.ignored(&level, &resolved, is_dir) {
            Verdict::Ignored
        } else {
            Verdict::Walk
        }
    }

    /// The ignore files that could not be read, each once.
    pub(super) fn take_errors(&self) -> Vec<WalkError> {
        std::mem::take(&mut self.errors.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn ignored(&self, level: &Level, path: &Path, is_dir: bool) -> bool {
        let (mut ignore, mut gitignore, mut exclude) = (Match::None, Match::None, Match::None);
        let mut saw_git = false;
        let mut current = Some(level);
        while let Some(level) = current {
            if ignore.is_none() {
                ignore = level.ignore.matched(path, is_dir);
            }
            if !saw_git {
                if gitignore.is_none() {
                    gitignore = level.gitignore.matched(path, is_dir);
                }
                if exclude.is_none() {
                    exclude = level.exclude.matched(path, is_dir);
                }
            }
            saw_git |= level.has_git;
            current = level.parent.as_deref();
        }
        let decided = ignore
            .or(gitignore)
            .or(exclude)
            .or(self.global.matched(path, is_dir));
        decided.is_ignore()
    }

    /// The level of the resolved directory `dir`, reading its ignore files (and its parents')
    /// the first time it is asked for.
    fn level(&self, dir: &Path) -> Arc<Level> {
        if let Some(level) = self
            .levels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(dir)
        {
            return Arc::clone(level);
        }
        let parent = dir.parent().map(|parent| self.level(parent));
        let above_root = dir != self.resolved_root && self.resolved_root.starts_with(dir);
        let level = self.read_level(dir, parent.clone(), above_root);
        // Most directories add no rules: they share their parent's level, so a walk of tens of
        // thousands of directories keeps one level per ignore file, not one per directory.
        let level = match parent {
            Some(parent) if level.adds_nothing_to(&parent) => parent,
            _ => Arc::new(level),
        };
        let mut levels = self.levels.write().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have read it meanwhile: keep the first, so an error is reported once.
        Arc::clone(levels.entry(dir.to_path_buf()).or_insert(level))
    }

    /// The rules of `dir`. Above the walk's root (`above_root`), an ignore file that cannot be
    /// read safely is passed over: it is the user's own (`~/.gitignore` linked from a dotfiles
    /// repository is common), outside what is migrated, and refusing it would refuse
    /// everything below.
    fn read_level(&self, dir: &Path, parent: Option<Arc<Level>>, above_root: bool) -> Level {
        let mut refused = parent.as_ref().is_some_and(|parent| parent.refused);
        let mut read = |files: &[PathBuf]| match self.rules(dir, files) {
            Ok(rules) => rules,
            Err(_) if above_root => Gitignore::empty(),
            Err(error) => {
                refused = true;
                self.errors
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(error);
                Gitignore::empty()
            }
        };
        let ignore = read(&[dir.join(".ignore")]);
        let gitignore = read(&[dir.join(".gitignore")]);
        let git = dir.join(".git");
        let git_metadata = std::fs::symlink_metadata(&git).ok();
        let has_git = git_metadata.is_some();
        let exclude = match git_metadata {
            Some(metadata) => read(&self.exclude_files(&git, &metadata)),
            None => Gitignore::empty(),
        };
        Level {
            ignore,
            gitignore,
            exclude,
            has_git,
            refused,
            parent,
        }
    }

    /// The rules of `files`, matched relative to `dir`; a missing file has none.
    fn rules(&self, dir: &Path, files: &[PathBuf]) -> Result<Gitignore, WalkError> {
        let mut builder = GitignoreBuilder::new(dir);
        for file in files {
            let Some(bytes) = self.read(file)? else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            for line in text.lines() {
                // As git does, a pattern that is not a valid glob is passed over.
                let _ = builder.add_line(Some(file.clone()), line);
            }
        }
        Ok(builder.build().unwrap_or_else(|_| Gitignore::empty()))
    }

    /// The bytes of an ignore file, `None` when there is none.
    fn read(&self, file: &Path) -> Result<Option<Vec<u8>>, WalkError> {
        match input::read_bytes(file, self.limit, Links::Refuse) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(InputError::NotFound(_)) => Ok(None),
            Err(InputError::Io(_)) if std::fs::symlink_metadata(file).is_err() => Ok(None),
            // git passes over a directory where an ignore file would be.
            Err(InputError::NotRegular) if file.is_dir() && !file.is_symlink() => Ok(None),
            Err(error) => Err(WalkError {
                path: file.to_path_buf(),
                message: format!(
                    "cannot read this ignore file safely ({error}); its directory was not walked, since what it ignores is unknown"
                ),
            }),
        }
    }

    /// git's exclude files for the `.git` at `git` (`metadata` being its own, not followed):
    /// `info/exclude` in the git directory, which a `.git` file (a worktree, a submodule) names,
    /// and in the common directory of a worktree.
    fn exclude_files(&self, git: &Path, metadata: &std::fs::Metadata) -> Vec<PathBuf> {
        if metadata.is_dir() {
            return vec![git.join("info/exclude")];
        }
        let Ok(Some(bytes)) = self.read(git) else {
            return Vec::new();
        };
        let text = String::from_utf8_lossy(&bytes);
        let Some(named) = text.lines().find_map(|line| line.strip_prefix("gitdir:")) else {
            return Vec::new();
        };
        let base = git.parent().unwrap_or(Path::new("/"));
        let git_dir = base.join(named.trim());
        let mut files = vec![git_dir.join("info/exclude")];
        if let Ok(Some(common)) = self.read(&git_dir.join("commondir")) {
            let common = String::from_utf8_lossy(&common);
            files.push(git_dir.join(common.trim()).join("info/exclude"));
        }
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn verdict(rules: &IgnoreRules, root: &Path, relative: &str) -> Verdict {
        let path = root.join(relative);
        rules.verdict(&path, path.is_dir())
    }

    #[test]
    fn a_directory_without_ignore_files_shares_its_parents_level() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        write(&root.join("a/b/c/Dockerfile"), "FROM a\n");
        write(&root.join("a/b/.gitignore"), "ignored/\n");
        let rules = IgnoreRules::new(&root, 1 << 20);
        let (a, b, c) = (
            rules.level(&root.join("a")),
            rules.level(&root.join("a/b")),
            rules.level(&root.join("a/b/c")),
        );
        assert!(Arc::ptr_eq(&a, &rules.level(&root)), "a adds nothing");
        assert!(!Arc::ptr_eq(&b, &a), "b has a .gitignore");
        assert!(Arc::ptr_eq(&c, &b), "c adds nothing to b");
        write(&root.join("a/b/c/ignored/Dockerfile"), "FROM a\n");
        assert_eq!(verdict(&rules, &root, "a/b/c/ignored"), Verdict::Ignored);
    }

    #[test]
    fn shared_levels_keep_the_git_stop_and_the_refusal_below_an_unreadable_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        write(&root.join(".gitignore"), "x\n");
        write(&root.join(".ignore"), "y\n");
        write(&root.join("repo/.git/info/exclude"), "z\n");
        for name in ["x", "y", "z"] {
            write(
                &root.join(format!("repo/a/b/{name}/Dockerfile")),
                "FROM a\n",
            );
        }
        write(&root.join("other/a/b/x/Dockerfile"), "FROM a\n");
        let rules = IgnoreRules::new(&root, 1 << 20);
        let walks = |relative: &str| verdict(&rules, &root, relative);
        assert_eq!(
            walks("repo/a/b/x"),
            Verdict::Walk,
            ".gitignore stops at .git"
        );
        assert_eq!(walks("repo/a/b/y"), Verdict::Ignored, ".ignore does not");
        assert_eq!(walks("repo/a/b/z"), Verdict::Ignored, "info/exclude");
        assert_eq!(walks("other/a/b/x"), Verdict::Ignored);
        let (deep, repo) = (
            rules.level(&root.join("repo/a/b")),
            rules.level(&root.join("repo")),
        );
        assert!(Arc::ptr_eq(&deep, &repo), "a and b add nothing to repo");
        write(&root.join("d/e/f/Dockerfile"), "FROM a\n");
        crate::input::make_fifo(&root.join("d/.gitignore"));
        assert_eq!(walks("d/e/f/Dockerfile"), Verdict::Refused);
        assert_eq!(walks("d/e"), Verdict::Refused);
        assert_eq!(rules.take_errors().len(), 1, "reported once");
    }

    #[test]
    fn precedence_follows_the_walker_deepest_level_first_and_ignore_over_gitignore() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join(".git/info")).expect("mkdir");
        write(&root.join(".gitignore"), "build/\n*.tmp\n");
        write(&root.join(".git/info/exclude"), "local/\n");
        write(&root.join("a/.gitignore"), "!keep.tmp\n");
        write(&root.join("b/.ignore"), "*.Dockerfile\n");
        write(&root.join("b/.gitignore"), "!*.Dockerfile\n");
        // Above the repository: `.gitignore` stops at `.git`, `.ignore` does not.
        write(&dir.path().join(".gitignore"), "a/\n");
        write(&dir.path().join(".ignore"), "c/\n");
        for path in [
            "build/x",
            "a/keep.tmp",
            "b/api.Dockerfile",
            "local/x",
            "c/x",
        ] {
            write(&root.join(path), "x");
        }
        let rules = IgnoreRules::new(&root, 1024);
        let expected = [
            ("build", Verdict::Ignored),
            ("a", Verdict::Walk),
            ("a/keep.tmp", Verdict::Walk),
            ("b/api.Dockerfile", Verdict::Ignored),
            ("local", Verdict::Ignored),
            ("c", Verdict::Ignored),
        ];
        for (path, verdict) in expected {
            assert_eq!(
                super::tests::verdict(&rules, &root, path),
                verdict,
                "{path}"
            );
        }
        assert!(rules.take_errors().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_ignore_file_above_the_root_is_passed_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(&dir.path().join("dotfiles/gitignore"), "*.Dockerfile\n");
        std::os::unix::fs::symlink("dotfiles/gitignore", dir.path().join(".gitignore"))
            .expect("symlink");
        let root = dir.path().join("src/repo");
        write(&root.join("api.Dockerfile"), "x");
        let rules = IgnoreRules::new(&root, 1024);
        assert_eq!(verdict(&rules, &root, "api.Dockerfile"), Verdict::Walk);
        assert!(rules.take_errors().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn an_ignore_file_that_is_a_link_a_fifo_or_too_large_is_never_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(&root.join("linked/Dockerfile"), "x");
        std::os::unix::fs::symlink("/proc/self/pagemap", root.join("linked/.ignore"))
            .expect("symlink");
        write(&root.join("fifo/Dockerfile"), "x");
        crate::input::make_fifo(&root.join("fifo/.gitignore"));
        write(&root.join("large/Dockerfile"), "x");
        write(&root.join("large/.gitignore"), &"x\n".repeat(1024));
        write(&root.join("fine/Dockerfile"), "x");

        let rules = IgnoreRules::new(root, 1024);
        for refused in ["linked", "fifo", "large"] {
            let path = format!("{refused}/Dockerfile");
            assert_eq!(verdict(&rules, root, &path), Verdict::Refused, "{path}");
        }
        assert_eq!(verdict(&rules, root, "fine/Dockerfile"), Verdict::Walk);
        let mut errors: Vec<String> = rules
            .take_errors()
            .into_iter()
            .map(|error| {
                let name = error.path.strip_prefix(root).unwrap_or(&error.path);
                format!("{}: {}", name.display(), error.message)
            })
            .collect();
        errors.sort();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors[0].starts_with(
                "fifo/.gitignore: cannot read this ignore file safely (not a regular file)"
            ),
            "{errors:#?}"
        );
        assert!(
            errors[1].contains("large/.gitignore") && errors[1].contains("over the size limit")
        );
        assert!(errors[2].contains("linked/.ignore") && errors[2].contains("a symbolic link"));
    }
}
