//! `hardport.toml`: the settings a repository keeps for its runs, found the way ruff finds its
//! own (the nearest `hardport.toml` or `.hardport.toml` from the first path up), so a monorepo
//! rolls hardport out piece by piece: files to leave out, rules to leave out (everywhere or per
//! file), its own catalogs, and what fails CI.
//!
//! Paths in the file (catalogs, the lock, `exclude` and `per-file-ignores` patterns) are
//! relative to the directory that holds it. Patterns are gitignore patterns: `legacy/` leaves
//! out every directory named `legacy`, `/legacy/` only the one beside the file,
//! `charts/*/values-*.yaml` those values files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;

use crate::diagnostic::Severity;
use crate::input::{self, Links};
use crate::line_index::LineIndex;
use crate::rules::{RuleSelector, RuleSet};

/// The names a configuration file may have, in the order they are looked for in a directory.
pub const CONFIG_NAMES: [&str; 2] = ["hardport.toml", ".hardport.toml"];

/// A configuration file is small: a larger one is refused unread.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The settings of `hardport.toml`, each optional: the command line overrides them.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// The built-in catalog to start from (`minimus`, `chainguard`, `dhi`).
    pub target: Option<String>,
    /// The target registry (`--registry`).
    pub registry: Option<String>,
    /// Catalog files layered over the target's, before those of `--catalog`.
    #[serde(default)]
    pub catalogs: Vec<PathBuf>,
    /// The lock of image facts (`--lock`).
    pub lock: Option<PathBuf>,
    /// Walk vendored trees too (`--include-vendored`).
    pub include_vendored: Option<bool>,
    /// Files and directories to leave out, as gitignore patterns.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// More patterns to leave out, added to `exclude`.
    #[serde(default)]
    pub extend_exclude: Vec<String>,
    /// Leave out excluded files even when they are named on the command line (as pre-commit
    /// names them).
    pub force_exclude: Option<bool>,
    /// The rules to run (`ALL`, or rule ids); every rule when not given.
    pub select: Option<Vec<RuleSelector>>,
    /// Rules not to run.
    #[serde(default)]
    pub ignore: Vec<RuleSelector>,
    /// Rules not to run on the files a pattern matches.
    #[serde(default)]
    pub per_file_ignores: BTreeMap<String, Vec<RuleSelector>>,
    /// The least severity that fails the run (`--fail-on`).
    pub fail_on: Option<Severity>,
    /// List each `unmapped-image` (`--show-unmapped`).
    pub show_unmapped: Option<bool>,
}

/// A configuration file, read.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read.
    pub path: PathBuf,
    /// The directory its relative paths start from.
    pub dir: PathBuf,
    pub settings: Settings,
}

/// Why a configuration file could not be used; the run stops before anything is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl Config {
    /// The nearest configuration file from `start` (a directory, or a file's directory) up to
    /// the file system's root.
    pub fn find(start: &Path) -> Option<PathBuf> {
        // A path not on disk yet (`--stdin-filename new/Dockerfile`): its nearest ancestor that is.
        let start = start.ancestors().find_map(|path| {
            std::fs::canonicalize(if path.as_os_str().is_empty() {
                Path::new(".")
            } else {
                path
            })
            .ok()
        })?;
        let first = if start.is_dir() {
            start.as_path()
        } else {
            start.parent()?
        };
        first.ancestors().find_map(|dir| {
            CONFIG_NAMES
                .iter()
                .map(|name| dir.join(name))
                .find(|path| path.is_file())
        })
    }

    /// Read and check the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let error = |line: Option<usize>, message: String| ConfigError {
            path: path.display().to_string(),
            line,
            message,
        };
        let text = input::read_text(path, MAX_CONFIG_BYTES, Links::Follow)
            .map_err(|problem| error(problem.line(), problem.to_string()))?;
        let settings: Settings = toml::from_str(&text).map_err(|problem| {
            let line = problem
                .span()
                .map(|span| LineIndex::new(&text).line(span.start));
            error(line, problem.message().to_owned())
        })?;
        let dir = std::fs::canonicalize(path)
            .ok()
            .and_then(|path| path.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        let config = Config {
            path: path.to_path_buf(),
            dir,
            settings,
        };
        // Patterns are checked now, so a typo is an error before the run, not a silent miss.
        config.exclusion().map_err(|message| error(None, message))?;
        config
            .rule_scope(None, &[])
            .map_err(|message| error(None, message))?;
        Ok(config)
    }

    /// `relative` (a path in the file) from the current directory.
    pub fn resolve(&self, relative: &Path) -> PathBuf {
        self.dir.join(relative)
    }

    /// The files `exclude` and `extend-exclude` leave out.
    pub fn exclusion(&self) -> Result<Exclusion, String> {
        let patterns = self
            .settings
            .exclude
            .iter()
            .chain(&self.settings.extend_exclude);
        Exclusion::new(&self.dir, patterns)
    }

    /// The rules each file runs: `select` (replaced by `cli_select` when given) less `ignore`
    /// and `cli_ignore`, less the `per-file-ignores` of the patterns the file matches.
    pub fn rule_scope(
        &self,
        cli_select: Option<&[RuleSelector]>,
        cli_ignore: &[RuleSelector],
    ) -> Result<RuleScope, String> {
        let ignore: Vec<RuleSelector> = self
            .settings
            .ignore
            .iter()
            .chain(cli_ignore)
            .copied()
            .collect();
        let select = cli_select.or(self.settings.select.as_deref());
        let mut scope = RuleScope::new(RuleSet::selected(select, &ignore));
        for (pattern, rules) in &self.settings.per_file_ignores {
            let matcher = Exclusion::new(&self.dir, [pattern])?;
            let ignored = RuleSet::selected(Some(rules), &[]);
            scope.per_file.push((matcher, ignored));
        }
        Ok(scope)
    }
}

/// Files left out by gitignore patterns rooted at one directory.
#[derive(Debug, Clone)]
pub struct Exclusion {
    matcher: Option<Gitignore>,
}

impl Exclusion {
    /// Nothing left out.
    pub fn none() -> Exclusion {
        Exclusion { matcher: None }
    }

    /// Whether it leaves nothing out.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// The files `patterns` match, relative to `root`.
    pub fn new<'p>(
        root: &Path,
        patterns: impl IntoIterator<Item = &'p String>,
    ) -> Result<Exclusion, String> {
        // Files are matched by their canonical path, so the root is canonical too.
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut builder = GitignoreBuilder::new(root);
        let mut any = false;
        for pattern in patterns {
            builder
                .add_line(None, pattern)
                .map_err(|error| format!("pattern `{pattern}`: {error}"))?;
            any = true;
        }
        if !any {
            return Ok(Exclusion::none());
        }
        let matcher = builder.build().map_err(|error| error.to_string())?;
        Ok(Exclusion {
            matcher: Some(matcher),
        })
    }

    /// Whether the file at `path` (or a directory above it, below the root) is left out. A
    /// path outside the root is not.
    pub fn excludes(&self, path: &Path) -> bool {
        self.matcher.is_some() && CanonicalPath::of(path).is_some_and(|path| self.matches(&path))
    }

    /// [`Exclusion::excludes`] for a path already made canonical, so that several exclusions
    /// of one file resolve its path once.
    pub fn matches(&self, path: &CanonicalPath) -> bool {
        self.matcher.as_ref().is_some_and(|matcher| {
            path.path.starts_with(matcher.path())
                && matcher
                    .matched_path_or_any_parents(&path.path, path.is_dir)
                    .is_ignore()
        })
    }
}

/// A path with links and `..` resolved, as exclusion patterns are matched against it.
#[derive(Debug, Clone)]
pub struct CanonicalPath {
    path: PathBuf,
    is_dir: bool,
}

impl CanonicalPath {
    /// `path` resolved; `None` when it does not exist.
    pub fn of(path: &Path) -> Option<CanonicalPath> {
        let path = std::fs::canonicalize(path).ok()?;
        let is_dir = path.is_dir();
        Some(CanonicalPath { path, is_dir })
    }
}

/// Every rule on every file: the scope of a run no configuration narrows.
pub static EVERY_RULE: RuleScope = RuleScope {
    everywhere: RuleSet::ALL,
    per_file: Vec::new(),
};

/// Which rules run on each file.
#[derive(Debug, Clone)]
pub struct RuleScope {
    everywhere: RuleSet,
    per_file: Vec<(Exclusion, RuleSet)>,
}

impl RuleScope {
    /// `rules` on every file.
    pub fn new(rules: RuleSet) -> RuleScope {
        RuleScope {
            everywhere: rules,
            per_file: Vec::new(),
        }
    }

    /// The rules that run on the file at `path`.
    pub fn for_file(&self, path: &Path) -> RuleSet {
        // Resolved once per file, and only when some pattern could match it.
        if self.per_file.is_empty() {
            return self.everywhere;
        }
        let Some(path) = CanonicalPath::of(path) else {
            return self.everywhere;
        };
        self.per_file
            .iter()
            .filter(|(matcher, _)| matcher.matches(&path))
            .fold(self.everywhere, |rules, (_, ignored)| rules.minus(*ignored))
    }
}

impl Default for RuleScope {
    fn default() -> Self {
        RuleScope::new(RuleSet::ALL)
    }
}

#[cfg(test)]
mod tests;
