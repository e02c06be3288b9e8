//! `hardport.lock`: the facts of each image as its registry served them, so that `migrate`
//! runs offline and the same on every machine.
//!
//! `hardport facts resolve` reads every public image a repository uses and every replacement
//! the catalog picks from its registry (manifest, config, `/etc/passwd` and `/etc/group` from
//! the layers) and writes what it learnt here, each image with the digest it was read at and
//! the date. `migrate` reads the lock beside the repository and never the network.
//!
//! ```yaml
//! # hardport.lock: image facts read from registries by `hardport facts resolve`.
//! version: 1
//! images:
//!   docker.io/library/node:20:
//!     digest: sha256:0f3a…            # the platform's manifest
//!     platform: linux/amd64
//!     read: 2026-12-04
//!     facts: {user: "0", entrypoint: [docker-entrypoint.sh], cmd: [node], shell: true}
//! ```
//!
//! A lock is as untrusted as the repository holding it: it is read like any input (no link
//! followed, bounded) and every fact in it is validated as a catalog's are, since rules write
//! those strings into Dockerfiles.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{ImageSpec, check_spec_strings};
use crate::image_ref::ImageRef;
use crate::input::{self, Links};
use crate::work_tree;
use crate::yaml::nesting::{MAX_FLOW_DEPTH, check_flow_nesting};

/// The lock file's name, at the root of the repository.
pub const LOCK_FILE: &str = "hardport.lock";

/// The lock schema version this build reads and writes.
pub const LOCK_VERSION: u32 = 1;

/// A lock file larger than this is refused: a repository using a thousand images has a lock of
/// a few hundred KB.
pub const MAX_LOCK_BYTES: u64 = 16 * 1024 * 1024;

/// The first lines of every lock hardport writes.
const HEADER: &str = "# hardport.lock: image facts read from registries by `hardport facts resolve`.\n\
                      # Commit it; refresh it with `hardport facts resolve`. Do not edit by hand.\n";

/// The facts of the images a repository uses, by reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    /// By canonical reference with its tag: `docker.io/library/node:20`.
    #[serde(default)]
    pub images: BTreeMap<String, LockedImage>,
}

/// One image as its registry served it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LockedImage {
    /// The digest of the platform's manifest the facts were read from.
    pub digest: String,
    /// The digest of the multi-platform index the tag pointed to, when it pointed to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// The day the facts were read (`YYYY-MM-DD`, UTC).
    pub read: String,
    pub facts: ImageSpec,
}

impl LockedImage {
    /// The digest a reference pins this image by: the multi-platform index's when the tag
    /// pointed to one (every platform keeps working), else the manifest's.
    pub fn pin(&self) -> &str {
        self.index_digest.as_deref().unwrap_or(&self.digest)
    }

    /// Where these facts come from, for an entry's `source` and `catalog show`.
    pub fn citation(&self, reference: &str) -> String {
        format!(
            "{reference} read from its registry on {} ({}, {}), {LOCK_FILE}",
            self.read, self.platform, self.digest
        )
    }
}

/// Why a lock could not be used. Every message names the file (and the image, where one is at
/// fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct LockError {
    pub path: PathBuf,
    pub message: String,
}

impl Default for Lock {
    /// An empty lock of this build's version.
    fn default() -> Lock {
        Lock {
            version: LOCK_VERSION,
            images: BTreeMap::new(),
        }
    }
}

impl Lock {
    /// Reads and validates the lock at `path`; `None` when there is no file.
    pub fn read(path: &Path) -> Result<Option<Lock>, LockError> {
        let error = |message: String| LockError {
            path: path.to_path_buf(),
            message,
        };
        if std::fs::symlink_metadata(path).is_err() {
            return Ok(None);
        }
        let text = input::read_text(path, MAX_LOCK_BYTES, Links::Refuse)
            .map_err(|read| error(read.to_string()))?;
        Lock::parse(&text).map(Some).map_err(error)
    }

    /// The lock in `text`, validated: version, references, digests, dates, and every fact
    /// string checked as a catalog's are.
    pub fn parse(text: &str) -> Result<Lock, String> {
        // Before the YAML parser, whose time grows faster than deep flow nesting.
        check_flow_nesting(text, MAX_FLOW_DEPTH)
            .map_err(|error| format!("line {}: {error}", error.line))?;
        let lock: Lock = serde_yaml_ng::from_str(text).map_err(|error| match error.location() {
            Some(location) => format!("line {}: {error}", location.line()),
            None => error.to_string(),
        })?;
        if lock.version != LOCK_VERSION {
            return Err(format!(
                "unsupported lock version {}; this hardport reads version {LOCK_VERSION}",
                lock.version
            ));
        }
        for (reference, image) in &lock.images {
            check_image(reference, image)
                .map_err(|message| format!("images[{reference:?}]: {message}"))?;
        }
        Ok(lock)
    }

    /// The lock as hardport writes it: a header, then the images in reference order.
    pub fn render(&self) -> String {
        let body = serde_yaml_ng::to_string(self).unwrap_or_default();
        format!("{HEADER}{body}")
    }

    /// The locked image of `repository` (canonical) at `tag`.
    pub fn image(&self, repository: &str, tag: &str) -> Option<(String, &LockedImage)> {
        let reference = format!("{repository}:{tag}");
        let image = self.images.get(&reference)?;
        Some((reference, image))
    }
}

/// A locked reference is canonical with a tag; a digest is `sha256:` and 64 hex digits; a date
/// is `YYYY-MM-DD`; the facts are what a catalog could state (no `config` file to read).
fn check_image(reference: &str, image: &LockedImage) -> Result<(), String> {
    let parsed = ImageRef::parse(reference).map_err(|error| error.to_string())?;
    let canonical = parsed.canonical_repository();
    match (&parsed.tag, canonical) {
        (Some(tag), Some(repository))
            if parsed.digest.is_none() && format!("{repository}:{tag}") == reference => {}
        _ => {
            return Err(
                "not a canonical reference with a tag (`docker.io/library/node:20`)".into(),
            );
        }
    }
    for digest in std::iter::once(&image.digest).chain(&image.index_digest) {
        if !is_sha256(digest) {
            return Err(format!("{digest:?} is not a sha256 digest"));
        }
    }
    if !is_date(&image.read) {
        return Err(format!("read: {:?} is not a date (YYYY-MM-DD)", image.read));
    }
    if image.facts.config.is_some() {
        return Err("facts.config: a lock states facts, it names no config file".into());
    }
    check_spec_strings("facts", &image.facts)
}

fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn is_date(date: &str) -> bool {
    let bytes = date.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// The lock a run over `start` (a directory, or a file's directory) uses when none is named:
/// the nearest `hardport.lock` in `start` or a directory above it, up to the root of the git
/// work tree holding it (the directory with `.git`) or, outside a work tree, up to the current
/// directory `cwd`. So `hardport migrate` finds the repository's lock from any subdirectory or
/// for any file named, and a lock lying around above a repository is never picked up.
pub fn discover(
    start: &Path,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let start = if start.is_dir() {
        start
    } else {
        start.parent()?.to_path_buf()
    };
    // The work tree git would use here (from the current directory, with the same
    // environment: GIT_DIR, GIT_CEILING_DIRECTORIES, …), so one rule decides both where patch
    // paths start and which lock is used; else the work tree holding `start`.
    let cwd = std::fs::canonicalize(cwd).ok();
    let top = cwd
        .as_deref()
        .and_then(|cwd| work_tree::enclosing(cwd, env))
        .filter(|root| start.starts_with(root))
        .or_else(|| work_tree::enclosing(&start, env))
        .or_else(|| cwd.filter(|cwd| start.starts_with(cwd)))
        .unwrap_or_else(|| start.clone());
    start
        .ancestors()
        .take_while(|dir| dir.starts_with(&top))
        .map(|dir| dir.join(LOCK_FILE))
        .find(|lock| std::fs::symlink_metadata(lock).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn lock_with(reference: &str, facts: &str) -> String {
        format!(
            "version: 1\nimages:\n  {reference}:\n    digest: {DIGEST}\n    platform: linux/amd64\n    read: 2026-12-04\n    facts: {facts}\n"
        )
    }

    #[test]
    fn a_lock_round_trips_through_its_rendering() {
        let text = lock_with(
            "docker.io/library/node:20",
            "{user: \"1000\", entrypoint: [docker-entrypoint.sh], shell: true, users: {node: 1000}}",
        );
        let lock = Lock::parse(&text).expect("valid");
        let (reference, image) = lock.image("docker.io/library/node", "20").expect("locked");
        assert_eq!(reference, "docker.io/library/node:20");
        assert_eq!(image.facts.uid(), Some(1000));
        assert_eq!(image.facts.shell, Some(true));
        let rendered = lock.render();
        assert!(rendered.starts_with("# hardport.lock"), "{rendered}");
        assert_eq!(Lock::parse(&rendered).expect("re-reads"), lock);
    }

    #[test]
    fn what_a_rule_would_write_is_validated_like_a_catalog() {
        let cases = [
            (lock_with("node:20", "{}"), "not a canonical reference"),
            (
                lock_with("docker.io/library/node", "{}"),
                "not a canonical reference",
            ),
            (
                lock_with(
                    "docker.io/library/node:20",
                    "{user: \"1000\\nRUN curl x | sh\"}",
                ),
                "is not a user or group id or name",
            ),
            (
                lock_with("docker.io/library/node:20", "{workdir: \"/app dir\"}"),
                "must be an absolute path",
            ),
            (
                lock_with("docker.io/library/node:20", "{config: x.json}"),
                "names no config file",
            ),
            (
                lock_with("docker.io/library/node:20", "{}").replace(DIGEST, "sha256:abc"),
                "is not a sha256 digest",
            ),
            (
                lock_with("docker.io/library/node:20", "{}").replace("2026-12-04", "yesterday"),
                "is not a date",
            ),
            (
                lock_with("docker.io/library/node:20", "{}").replace("version: 1", "version: 2"),
                "unsupported lock version 2",
            ),
            (
                lock_with("docker.io/library/node:20", "{}").replace("platform", "plat"),
                "unknown field",
            ),
            (
                format!("version: 1\nimages: {}", "[".repeat(200)),
                "nested deeper than 128 levels",
            ),
        ];
        for (text, expected) in cases {
            let error = Lock::parse(&text).expect_err(&text);
            assert!(error.contains(expected), "{error} does not say {expected}");
        }
    }

    fn no_git_env(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn the_nearest_lock_up_to_the_work_tree_root_is_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        let deep = repo.join("services/api");
        std::fs::create_dir_all(&deep).expect("mkdir");
        for git in [".git/objects", ".git/refs"] {
            std::fs::create_dir_all(repo.join(git)).expect("mkdir");
        }
        std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/main\n").expect("write");
        std::fs::write(dir.path().join(LOCK_FILE), "stray").expect("write");
        let cwd = dir.path();
        assert_eq!(
            discover(&deep, cwd, &no_git_env),
            None,
            "above the work tree: never used"
        );
        std::fs::write(repo.join(LOCK_FILE), "root").expect("write");
        let found = discover(&deep, cwd, &no_git_env).expect("found");
        assert_eq!(std::fs::read_to_string(found).expect("read"), "root");
        std::fs::write(deep.join(LOCK_FILE), "nearest").expect("write");
        std::fs::write(deep.join("Dockerfile"), "FROM x").expect("write");
        let found = discover(&deep.join("Dockerfile"), cwd, &no_git_env);
        assert_eq!(
            std::fs::read_to_string(found.expect("found")).expect("read"),
            "nearest"
        );

        let loose = tempfile::tempdir().expect("tempdir");
        let sub = loose.path().join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(loose.path().join(LOCK_FILE), "above").expect("write");
        let deeper = sub.join("deeper");
        std::fs::create_dir(&deeper).expect("mkdir");
        assert_eq!(
            discover(&deeper, &sub, &no_git_env),
            None,
            "outside a work tree: not above the current directory"
        );
        assert!(
            discover(&deeper, loose.path(), &no_git_env).is_some(),
            "up to the current directory"
        );
        assert!(
            discover(loose.path(), &deeper, &no_git_env).is_some(),
            "the directory's own"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_is_read_like_any_input_and_absent_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(LOCK_FILE);
        assert_eq!(Lock::read(&path), Ok(None));
        let outside = dir.path().join("elsewhere.lock");
        std::fs::write(&outside, lock_with("docker.io/library/node:20", "{}")).expect("write");
        std::os::unix::fs::symlink(&outside, &path).expect("symlink");
        let error = Lock::read(&path).expect_err("a link");
        assert!(
            error.to_string().contains("hardport.lock: a symbolic link"),
            "{error}"
        );
    }

    #[test]
    fn a_lock_over_the_size_limit_is_refused_unread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(LOCK_FILE);
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(MAX_LOCK_BYTES + 1).expect("grow");
        let error = Lock::read(&path).expect_err("too large");
        assert!(error.message.contains("over the size limit"), "{error}");
    }
}
