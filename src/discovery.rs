//! Finding the files to migrate.
//!
//! The walk is configured here and nowhere else (as in ripgrep): `.gitignore`, `.ignore` and
//! git's exclude files are honoured also outside a git checkout (read by [`ignore_files`], never
//! through a link and never unbounded), hidden directories are walked
//! (`.devcontainer/Dockerfile` is common) except `.git`, vendored trees (`vendor/`,
//! `node_modules/`, `third_party/`, see [`names::VENDORED_DIRS`]) are skipped unless
//! [`Walk::include_vendored`], and symbolic links are not followed, so a link loop cannot trap
//! the walk and no file is reached twice. A file named on the command line is always processed,
//! whatever its name, ignore status or directory — unless it is a symbolic link leading outside
//! the paths given ([`Scope`]): then it is refused unread, so that a link in a repository
//! cannot make hardport quote a token from elsewhere; a directory named on the command line is
//! walked even when it is a vendored tree itself (`hardport migrate vendor/x`).
//!
//! Which names are Dockerfiles is Renovate's rule ([`names`]). Templates of Dockerfiles are
//! found like Dockerfiles and skipped when migrated ([`template`], `crate::migrate`), so each
//! gets a message rather than silence.

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use crate::helm::chart::CHART_FILE;
use crate::input::{self, Links};
use crate::scope::Scope;

mod ignore_files;
pub mod names;
pub mod template;

use ignore_files::{IgnoreRules, Verdict};

pub use names::{
    is_compose_name, is_dockerfile_name, is_kustomization_name, is_template_name, is_values_name,
    is_workflow_path, is_workflows_dir, is_yaml_name,
};

/// How to walk the directories given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// Threads to walk on.
    pub threads: NonZeroUsize,
    /// Walk vendored trees too (`--include-vendored`).
    pub include_vendored: bool,
    /// The size limit for the ignore files read on the way (`--max-file-size`).
    pub max_file_size: u64,
}

impl Walk {
    /// A walk on `threads` threads that skips vendored trees, as the command line does by default.
    pub fn new(threads: NonZeroUsize) -> Walk {
        Walk {
            threads,
            include_vendored: false,
            max_file_size: crate::input::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// What a discovered file is, which decides the parser and the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Dockerfile,
    HelmValues,
    /// A Docker Compose file, by name ([`names::is_compose_name`]).
    Compose,
    /// A YAML file of Kubernetes objects outside a chart: a document with `apiVersion` and
    /// `kind` at its top ([`crate::kubernetes::looks_like_manifest`]).
    Manifest,
    /// A kustomization, by name ([`names::is_kustomization_name`]).
    Kustomization,
    /// A GitHub Actions workflow, by place ([`names::is_workflow_path`]).
    Workflow,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Dockerfile => "dockerfile",
            FileKind::HelmValues => "helm-values",
            FileKind::Compose => "compose",
            FileKind::Manifest => "manifest",
            FileKind::Kustomization => "kustomization",
            FileKind::Workflow => "workflow",
        }
    }

    /// What a parse error calls the file: "a Dockerfile", "Helm values".
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Dockerfile => "a Dockerfile",
            FileKind::HelmValues => "YAML (Helm values)",
            FileKind::Compose => "YAML (a Compose file)",
            FileKind::Manifest => "YAML (a Kubernetes manifest)",
            FileKind::Kustomization => "YAML (a kustomization)",
            FileKind::Workflow => "YAML (a GitHub Actions workflow)",
        }
    }
}

/// A file to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub kind: FileKind,
    /// How to open it: a link named on the command line that stays within the paths given is
    /// followed; anything else the walk found is opened only if it is not a link.
    pub links: Links,
    /// What discovery saw of its type.
    pub seen: Seen,
}

/// What discovery saw of a file's type, which decides how much reading it checks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The walk read from its directory entry, a moment ago, that it is a regular file.
    Regular,
    /// Named on the command line (or made by a caller): it could be anything until looked at.
    Unchecked,
}

impl SourceFile {
    /// A file that is named and not a link: opened only if not a link, and looked at first.
    pub fn new(path: PathBuf, kind: FileKind) -> SourceFile {
        SourceFile {
            path,
            kind,
            links: Links::Refuse,
            seen: Seen::Unchecked,
        }
    }
}

/// A path that could not be walked: it is reported and the walk goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

/// Everything found under the given paths, sorted by path, without duplicates; the errors
/// sorted by path too.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<SourceFile>,
    pub errors: Vec<WalkError>,
}

/// Walk `roots` (files or directories) as `options` say and collect the Dockerfiles and Helm
/// values files; a named link leading outside `scope` is refused. The order the threads find
/// them in does not matter: the result is sorted.
pub fn discover(roots: &[PathBuf], scope: &Scope, options: Walk) -> Discovery {
    let mut found = Found::default();
    for root in roots {
        match std::fs::metadata(root) {
            Ok(metadata) if metadata.is_dir() => walk(root, options, &mut found),
            Ok(_) => match named_file_links(root, scope) {
                Ok(links) => {
                    let text = || input::read_text(root, options.max_file_size, links).ok();
                    found.files.insert(
                        root.clone(),
                        (explicit_kind(root, text), links, Seen::Unchecked),
                    );
                }
                Err(message) => found.errors.push(WalkError {
                    path: root.clone(),
                    message,
                }),
            },
            Err(error) => found.errors.push(WalkError {
                path: root.clone(),
                message: error.to_string(),
            }),
        }
    }
    let mut discovery = found.into_discovery();
    if roots.len() > 1 {
        discovery.files = once_each(discovery.files);
    }
    discovery
}

/// `files` with each file once: paths given on the command line may overlap (`. sub`, `.
/// link-to-a-file-in-it`), and a file migrated twice would be patched twice, which `git apply`
/// refuses. Files are the same when their paths resolve to the same path (not merely the same
/// inode: hard links are distinct files in a repository, and each is migrated); the path kept
/// is the first in path order that is not reached through a link.
fn once_each(files: Vec<SourceFile>) -> Vec<SourceFile> {
    let identity = |file: &SourceFile| std::fs::canonicalize(&file.path).ok();
    let mut order: Vec<(usize, SourceFile)> = files.into_iter().enumerate().collect();
    // Direct paths before links, then path order: the first of each file is the one kept.
    order.sort_by_key(|(index, file)| (file.links == Links::Follow, *index));
    let mut seen = HashSet::new();
    let mut kept: Vec<(usize, SourceFile)> = order
        .into_iter()
        .filter(|(_, file)| identity(file).is_none_or(|path| seen.insert(path)))
        .collect();
    kept.sort_by_key(|(index, _)| *index);
    kept.into_iter().map(|(_, file)| file).collect()
}

/// How to open a file named on the command line: follow it when it is a link that stays within
/// `scope`; refuse it, unread, when the link leads outside, or when the file itself lies in a
/// `.git` directory (or is a worktree's `.git` file), which hardport never writes.
fn named_file_links(path: &Path, scope: &Scope) -> Result<Links, String> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_symlink());
    if !is_link {
        let in_git = std::fs::canonicalize(path).is_ok_and(|target| !scope.contains(&target));
        return match in_git {
            true => Err("it lies in a `.git` directory (or is a `.git` file), which hardport does not migrate; not read".to_owned()),
            false => Ok(Links::Refuse),
        };
    }
    let target = std::fs::canonicalize(path).map_err(|error| error.to_string())?;
    if scope.contains(&target) {
        Ok(Links::Follow)
    } else {
        Err(format!(
            "it leads, through a symbolic link, to {}, outside the paths being migrated; not read (name that file itself to migrate it)",
            target.display()
        ))
    }
}

/// What the walk has found so far. Values files are only candidates until the walk is over:
/// whether their directory holds a chart is known then.
#[derive(Debug, Default)]
struct Found {
    files: BTreeMap<PathBuf, (FileKind, Links, Seen)>,
    values_candidates: Vec<PathBuf>,
    /// YAML files no name claims: manifests if their text says so, unless they lie in a chart.
    yaml_candidates: Vec<PathBuf>,
    chart_dirs: HashSet<PathBuf>,
    errors: Vec<WalkError>,
}

impl Found {
    fn into_discovery(mut self) -> Discovery {
        // The walker's threads report errors in no fixed order.
        self.errors.sort_by(|a, b| a.path.cmp(&b.path));
        for path in std::mem::take(&mut self.values_candidates) {
            if self.holds_chart(path.parent()) {
                self.files
                    .insert(path, (FileKind::HelmValues, Links::Refuse, Seen::Regular));
            }
        }
        // A chart's YAML is Helm's: `templates/` is Go template text, `charts/` vendored
        // charts, `ci/` values files.
        for path in std::mem::take(&mut self.yaml_candidates) {
            let in_chart = path
                .ancestors()
                .skip(1)
                .any(|dir| self.chart_dirs.contains(dir));
            if !in_chart {
                self.files
                    .insert(path, (FileKind::Manifest, Links::Refuse, Seen::Regular));
            }
        }
        Discovery {
            files: self
                .files
                .into_iter()
                .map(|(path, (kind, links, seen))| SourceFile {
                    path,
                    kind,
                    links,
                    seen,
                })
                .collect(),
            errors: self.errors,
        }
    }

    /// Whether `dir` holds a `Chart.yaml`: seen by the walk, or (when the walk skipped it, as an
    /// ignored file) on disk, as a file and not a link.
    fn holds_chart(&self, dir: Option<&Path>) -> bool {
        dir.is_some_and(|dir| {
            self.chart_dirs.contains(dir)
                || std::fs::symlink_metadata(dir.join(CHART_FILE))
                    .is_ok_and(|metadata| metadata.is_file())
        })
    }
}

fn walk(root: &Path, options: Walk, found: &mut Found) {
    let shared = Mutex::new(std::mem::take(found));
    let include_vendored = options.include_vendored;
    let rules = Arc::new(IgnoreRules::new(root, options.max_file_size));
    let filter_rules = Arc::clone(&rules);
    // A walk started inside `.github` or `.github/workflows` sees `./workflows/ci.yml` or
    // `./ci.yml`: where the root really is says they are workflows.
    let canonical_root = std::fs::canonicalize(root).ok();
    let place = Place {
        root,
        canonical_root: canonical_root.as_deref(),
    };
    // The walker's own ignore handling is off: it would open ignore files through links.
    ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .follow_links(false)
        .filter_entry(move |entry| entered(entry, include_vendored, &filter_rules))
        .threads(options.threads.get())
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                match entry {
                    Ok(entry) => {
                        if entry.file_type().is_some_and(|kind| kind.is_file()) {
                            take_file(entry.path(), place, &shared);
                        }
                    }
                    Err(error) => lock(&shared).errors.push(walk_error(root, &error)),
                }
                ignore::WalkState::Continue
            })
        });
    *found = shared.into_inner().unwrap_or_else(PoisonError::into_inner);
    found.errors.extend(rules.take_errors());
}

/// Whether the walk goes into (or looks at) `entry`: not `.git`, not what the ignore files
/// ignore, and not a vendored directory below the root unless asked to.
fn entered(entry: &ignore::DirEntry, include_vendored: bool, rules: &IgnoreRules) -> bool {
    let name = entry.file_name();
    if name == ".git" {
        return false;
    }
    if entry.depth() == 0 {
        return true;
    }
    let is_dir = entry.file_type().is_some_and(|kind| kind.is_dir());
    if rules.verdict(entry.path(), is_dir) != Verdict::Walk {
        return false;
    }
    include_vendored || !is_dir || !name.to_str().is_some_and(names::is_vendored_dir)
}

/// The found files, also after a walker thread panicked while holding them (what it had
/// recorded is still right).
fn lock(found: &Mutex<Found>) -> MutexGuard<'_, Found> {
    found.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Record `path` if its name makes it one of ours; most files are rejected here, by name, without
/// taking the lock. A name that is not UTF-8 is matched with its stray bytes as U+FFFD: the
/// names matched against are ASCII, so it matches exactly when its bytes do.
/// Where the walk started, for the files whose kind depends on their place.
#[derive(Clone, Copy)]
struct Place<'a> {
    root: &'a Path,
    /// The root with links resolved, when it could be.
    canonical_root: Option<&'a Path>,
}

impl Place<'_> {
    /// Whether `path`, a file the walk found, is a workflow: by its path as the walk gives it,
    /// or by where it really is (a walk started in `.github`).
    fn is_workflow(&self, path: &Path) -> bool {
        is_workflow_path(path)
            || self.canonical_root.is_some_and(|root| {
                path.strip_prefix(self.root)
                    .is_ok_and(|rest| is_workflow_path(&root.join(rest)))
            })
    }
}

fn take_file(path: &Path, place: Place<'_>, found: &Mutex<Found>) {
    let Some(name) = path.file_name().map(|name| name.to_string_lossy()) else {
        return;
    };
    let name = name.as_ref();
    let take = |kind: FileKind| {
        lock(found)
            .files
            .insert(path.to_path_buf(), (kind, Links::Refuse, Seen::Regular));
    };
    if is_dockerfile_name(name) {
        take(FileKind::Dockerfile);
    } else if name == CHART_FILE {
        if let Some(dir) = path.parent() {
            lock(found).chart_dirs.insert(dir.to_path_buf());
        }
    } else if let Some(kind) = yaml_kind_by_name(name, || place.is_workflow(path)) {
        take(kind);
    } else if is_values_name(name) {
        lock(found).values_candidates.push(path.to_path_buf());
    } else if is_yaml_name(name) {
        lock(found).yaml_candidates.push(path.to_path_buf());
    }
}

/// The kind a YAML file's name or place (`in_workflows`: it is a workflow, asked only of a
/// YAML name, since it looks at the path) gives it, when it does.
fn yaml_kind_by_name(name: &str, in_workflows: impl FnOnce() -> bool) -> Option<FileKind> {
    if is_kustomization_name(name) {
        Some(FileKind::Kustomization)
    } else if is_yaml_name(name) && in_workflows() {
        Some(FileKind::Workflow)
    } else if is_compose_name(name) {
        Some(FileKind::Compose)
    } else {
        None
    }
}

/// The path an error is about, and the error without that path repeated in it: the operating
/// system's words when there are some ("Permission denied (os error 13)").
fn walk_error(root: &Path, error: &ignore::Error) -> WalkError {
    let (path, inner) = match error {
        ignore::Error::WithPath { path, err } => (path.clone(), err.as_ref()),
        ignore::Error::WithDepth { err, .. } => return walk_error(root, err),
        _ => (root.to_path_buf(), error),
    };
    let message = match inner.io_error() {
        Some(io) => innermost(io).to_string(),
        None => inner.to_string(),
    };
    WalkError { path, message }
}

/// The deepest I/O error in `error`'s chain of sources: the walker wraps the operating system's
/// error in ones that repeat the path.
fn innermost(error: &std::io::Error) -> &std::io::Error {
    let mut deepest = error;
    let mut source = error.get_ref().and_then(|inner| inner.source());
    while let Some(next) = source {
        if let Some(io) = next.downcast_ref::<std::io::Error>() {
            deepest = io;
        }
        source = next.source();
    }
    deepest
}

/// The kind of a file named explicitly: by name (a Dockerfile, a kustomization, a workflow,
/// a Compose file); other YAML is a Kubernetes manifest when its `text` looks like one (see
/// [`crate::kubernetes::looks_like_manifest`]; `text` is read only then), else Helm values;
/// anything else is a Dockerfile.
pub fn explicit_kind(path: &Path, text: impl FnOnce() -> Option<String>) -> FileKind {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    let name = name.as_ref();
    if is_dockerfile_name(name) {
        FileKind::Dockerfile
    } else if let Some(kind) = yaml_kind_by_name(name, || is_named_workflow(path)) {
        kind
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        let is_manifest = !is_values_name(name)
            && text().is_some_and(|text| crate::kubernetes::looks_like_manifest(&text));
        match is_manifest {
            true => FileKind::Manifest,
            false => FileKind::HelmValues,
        }
    } else {
        FileKind::Dockerfile
    }
}

/// Whether a file named on the command line is a workflow: by its path as given, or, for a
/// relative path (`ci.yml` named inside `.github/workflows`), by where it really is.
fn is_named_workflow(path: &Path) -> bool {
    is_workflow_path(path) || std::fs::canonicalize(path).is_ok_and(|path| is_workflow_path(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walk with two threads, so the tests see the parallel walker's way of finding files.
    fn discover_all(roots: &[PathBuf]) -> Discovery {
        discover(
            roots,
            &Scope::of(roots),
            Walk::new(NonZeroUsize::new(2).expect("2 > 0")),
        )
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "x").expect("write");
    }

    #[test]
    fn walks_sorted_honouring_gitignore_outside_git_and_chart_dirs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        touch(&root.join("b/Dockerfile"));
        touch(&root.join("a/app.Dockerfile"));
        touch(&root.join(".devcontainer/Dockerfile"));
        touch(&root.join(".git/Dockerfile"));
        touch(&root.join("ignored/Dockerfile"));
        touch(&root.join("chart/Chart.yaml"));
        touch(&root.join("chart/values.yaml"));
        touch(&root.join("chart/values-prod.yml"));
        touch(&root.join("not-a-chart/values.yaml"));
        std::fs::write(root.join(".gitignore"), "ignored/\n").expect("gitignore");

        let found = discover_all(&[root.to_path_buf()]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        let relative: Vec<(String, FileKind)> = found
            .files
            .iter()
            .map(|file| {
                let path = file.path.strip_prefix(root).expect("under root");
                (path.to_string_lossy().into_owned(), file.kind)
            })
            .collect();
        assert_eq!(
            relative,
            vec![
                (".devcontainer/Dockerfile".into(), FileKind::Dockerfile),
                ("a/app.Dockerfile".into(), FileKind::Dockerfile),
                ("b/Dockerfile".into(), FileKind::Dockerfile),
                ("chart/values-prod.yml".into(), FileKind::HelmValues),
                ("chart/values.yaml".into(), FileKind::HelmValues),
            ]
        );
    }

    /// The files a walk of `root` finds, relative to it.
    fn found_under(root: &Path, include_vendored: bool) -> Vec<String> {
        let walk = Walk {
            include_vendored,
            ..Walk::new(NonZeroUsize::new(2).expect("2 > 0"))
        };
        let roots = [root.to_path_buf()];
        let found = discover(&roots, &Scope::of(&roots), walk);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        found
            .files
            .iter()
            .map(|file| {
                let path = file.path.strip_prefix(root).expect("under root");
                path.to_string_lossy().into_owned()
            })
            .collect()
    }

    #[test]
    fn the_walk_finds_renovates_names_and_leaves_their_look_alikes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for path in [
            "Dockerfile_prod",
            "a/Dockerfile-dev",
            "a/dockerfile",
            "a/Containerfile-ci",
            "b/api.dockerfile",
            "b/Dockerfile.template",
            "b/Dockerfile.dockerignore",
            "b/api.Dockerfile.dockerignore",
            "man/Dockerfile.5.md",
            "Dockerfile/README",
            "dockerfiles/build.sh",
            "empty_dockerfile",
            "DockerFile",
        ] {
            touch(&root.join(path));
        }
        assert_eq!(
            found_under(root, false),
            [
                "Dockerfile_prod",
                "a/Containerfile-ci",
                "a/Dockerfile-dev",
                "a/dockerfile",
                "b/Dockerfile.template",
                "b/api.dockerfile",
            ]
        );
    }

    #[test]
    fn vendored_trees_are_skipped_unless_asked_and_a_named_one_is_walked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for path in [
            "Dockerfile",
            "vendor/github.com/x/y/Dockerfile",
            "web/node_modules/pkg/Dockerfile",
            "third_party/lib/Dockerfile",
            ".venv/lib/python3.12/site-packages/pkg/Dockerfile",
            "tools/vendor.Dockerfile",
            "vendor-tools/Dockerfile",
        ] {
            touch(&root.join(path));
        }
        assert_eq!(
            found_under(root, false),
            [
                "Dockerfile",
                "tools/vendor.Dockerfile",
                "vendor-tools/Dockerfile"
            ]
        );
        assert_eq!(found_under(root, true).len(), 7);
        assert_eq!(
            found_under(&root.join("vendor"), false),
            ["github.com/x/y/Dockerfile"],
            "a vendored directory named on the command line is walked"
        );
        let named = root.join("third_party/lib/Dockerfile");
        let found = discover_all(std::slice::from_ref(&named));
        assert_eq!(found.files.len(), 1, "a file named is always taken");
    }

    #[test]
    fn explicit_files_are_always_taken_and_missing_paths_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let odd = dir.path().join("base.image");
        touch(&odd);
        let missing = dir.path().join("missing");
        let found = discover_all(&[odd.clone(), missing.clone(), odd.clone()]);
        assert_eq!(
            found.files,
            vec![SourceFile::new(odd, FileKind::Dockerfile)]
        );
        assert_eq!(found.errors.len(), 1);
        assert_eq!(found.errors[0].path, missing);
    }

    #[test]
    fn a_walked_file_is_seen_regular_and_a_named_one_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let walked = dir.path().join("app/Dockerfile");
        touch(&walked);
        let named = dir.path().join("base.image");
        touch(&named);
        let found = discover_all(&[dir.path().join("app"), named.clone()]);
        let seen: Vec<(PathBuf, Seen)> = found
            .files
            .into_iter()
            .map(|file| (file.path, file.seen))
            .collect();
        assert_eq!(
            seen,
            [(walked, Seen::Regular), (named, Seen::Unchecked)],
            "path order"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_directory_is_an_error_naming_it_and_the_walk_goes_on() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        touch(&dir.path().join("a/Dockerfile"));
        touch(&dir.path().join("sealed/Dockerfile"));
        let sealed = dir.path().join("sealed");
        std::fs::set_permissions(&sealed, std::fs::Permissions::from_mode(0o000)).expect("chmod");
        let found = discover_all(&[dir.path().to_path_buf()]);
        std::fs::set_permissions(&sealed, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        if found.files.len() == 2 {
            eprintln!("skipped: this user bypasses file permissions (root)");
            return;
        }
        assert_eq!(found.files.len(), 1);
        assert_eq!(
            found.errors,
            [WalkError {
                path: sealed,
                message: "Permission denied (os error 13)".into()
            }]
        );
    }

    /// Open finding of the `tree` fuzz target (docs/fuzzing.md): a file named through a link
    /// and also walked is found twice, so the patch holds it twice and `git apply` refuses the
    /// second copy, and `--write` migrates it twice (as two kinds when the link's name says
    /// another one). Each file should be processed once, under its first path.
    #[cfg(unix)]
    #[test]
    fn a_file_reached_twice_is_found_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        touch(&dir.path().join("Dockerfile"));
        touch(&dir.path().join("sub/Dockerfile"));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("Dockerfile", &link).expect("symlink");
        let found = discover_all(&[dir.path().to_path_buf(), link]);
        let paths: Vec<&Path> = found.files.iter().map(|file| file.path.as_path()).collect();
        assert_eq!(
            paths,
            [
                dir.path().join("Dockerfile"),
                dir.path().join("sub/Dockerfile")
            ],
            "the link's target, found by the walk, is kept once under its own path"
        );
        let overlapping = discover_all(&[dir.path().to_path_buf(), dir.path().join("sub")]);
        assert_eq!(overlapping.files.len(), 2, "{:?}", overlapping.files);
        // Hard links are two files of the repository: each is migrated.
        touch(&dir.path().join("a/Dockerfile"));
        std::fs::create_dir(dir.path().join("b")).expect("mkdir");
        std::fs::hard_link(
            dir.path().join("a/Dockerfile"),
            dir.path().join("b/Dockerfile"),
        )
        .expect("hard link");
        let linked = discover_all(&[dir.path().join("a"), dir.path().join("b")]);
        assert_eq!(linked.files.len(), 2, "{:?}", linked.files);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_do_not_trap_the_walk() {
        let dir = tempfile::tempdir().expect("tempdir");
        touch(&dir.path().join("x/Dockerfile"));
        std::os::unix::fs::symlink(dir.path(), dir.path().join("x/loop")).expect("symlink");
        let found = discover_all(&[dir.path().to_path_buf()]);
        assert_eq!(found.files.len(), 1);
    }
}
