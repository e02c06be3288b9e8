//! Which images `hardport facts resolve` reads: the ones a migration of the repository touches.
//!
//! A dry run of the migration says, rewrite by rewrite, which public image a file uses and which
//! replacement the catalog picks for it ([`ImageRewrite`]). Their facts are what the rules ask
//! for, so exactly those are read: each public image at the tag the file names, and each
//! replacement both as the production image and as its `-dev` variant (a build stage's facts,
//! and where its package manager comes from), whichever of the two the file ends up on. Images
//! the catalog does not map are not read: no rule uses their facts.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::catalog::Catalog;
use crate::diagnostic::ImageRewrite;
use crate::image_ref::ImageRef;
use crate::lock::{Lock, LockedImage};
use crate::registry::{Registry, RegistryError, ResolvedImage, nearest_tag};

/// What reading one image gave.
pub type Outcome = Result<ResolvedImage, RegistryError>;

/// The canonical references (`docker.io/library/node:20`) to read for `rewrites`. A reference
/// pinned by digest alone (no tag) is left out: a lock records tags.
pub fn wanted<'a>(
    rewrites: impl IntoIterator<Item = &'a ImageRewrite>,
    catalog: &Catalog,
) -> BTreeSet<String> {
    let mut wanted = BTreeSet::new();
    for rewrite in rewrites {
        wanted.extend(canonical(&rewrite.from));
        let Some(replacement) = canonical(&rewrite.to) else {
            continue;
        };
        let suffix = catalog
            .entries()
            .iter()
            .find(|entry| entry.name == rewrite.entry)
            .and_then(|entry| entry.dev_tag_suffix.as_deref());
        if let Some(suffix) = suffix {
            match replacement.strip_suffix(suffix) {
                Some(production) => wanted.insert(production.to_owned()),
                None => wanted.insert(format!("{replacement}{suffix}")),
            };
        }
        wanted.insert(replacement);
    }
    wanted
}

/// `text` as a canonical reference with its tag, when it has one and no variables (in the
/// repository or the tag: `node:${V}` names no image a registry has).
pub fn canonical(text: &str) -> Option<String> {
    let image = ImageRef::parse(text).ok()?;
    let tag = image.tag.as_deref().filter(|tag| !tag.contains('$'))?;
    let repository = image.canonical_repository()?;
    Some(format!("{repository}:{tag}"))
}

/// Read every image of `wanted` (canonical references) from its registry, on up to `threads`
/// threads; the outcomes in reference order. Images are independent, and most of the time goes
/// to the network, so they are read side by side.
pub fn resolve_all(
    registry: &Registry,
    wanted: &BTreeSet<String>,
    threads: NonZeroUsize,
) -> Vec<(String, Outcome)> {
    let wanted: Vec<&String> = wanted.iter().collect();
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::with_capacity(wanted.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads.get().min(wanted.len()) {
            scope.spawn(|| {
                while let Some(reference) = wanted.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = resolve_one(registry, reference);
                    outcomes
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(((*reference).clone(), outcome));
                }
            });
        }
    });
    let mut outcomes = outcomes
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    outcomes
}

fn resolve_one(registry: &Registry, reference: &str) -> Outcome {
    let image = ImageRef::parse(reference).map_err(|error| RegistryError::Reference {
        reference: reference.to_owned(),
        message: error.to_string(),
    })?;
    registry.resolve(&image)
}

/// For a tag that does not exist: the nearest published tag of the same line, as advice
/// ("nearest published tag: 3.12.8"), when the registry lists the repository's tags.
pub fn missing_tag_advice(registry: &Registry, reference: &str) -> Option<String> {
    let image = ImageRef::parse(reference).ok()?;
    let tag = image.tag.clone()?;
    let published = registry.tags(&image).ok()?;
    let nearest = nearest_tag(&tag, &published)?;
    Some(format!(
        "the nearest published tag of that line is `{nearest}`"
    ))
}

/// Whether a lock update may drop the images a run did not want.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prune {
    /// The run read the whole tree the lock describes, every file cleanly: images it did not
    /// want are no longer used and are dropped.
    Unused,
    /// The run saw part of the tree (a subdirectory, a file that failed, an interruption):
    /// every image of the lock is kept.
    Nothing,
}

/// The lock after reading `outcomes` on `date` (`YYYY-MM-DD`): every image read (as `previous`
/// held it when its manifest is unchanged), and, for an image that could not be read, what
/// `previous` held for it (a registry being down must not lose facts read before). The other
/// images of `previous` are dropped with [`Prune::Unused`] and kept otherwise.
pub fn updated_lock(
    previous: Option<&Lock>,
    outcomes: &[(String, Outcome)],
    date: &str,
    prune: Prune,
) -> Lock {
    let mut lock = match (previous, prune) {
        (Some(previous), Prune::Nothing) => previous.clone(),
        _ => Lock::default(),
    };
    for (reference, outcome) in outcomes {
        let before = previous.and_then(|previous| previous.images.get(reference));
        let entry = match outcome {
            // The same manifest holds the same facts: the entry, and the day they were first
            // read, stay as they were, so resolving an unchanged repository changes nothing.
            Ok(resolved)
                if before.is_some_and(|before| {
                    before.digest == resolved.digest
                        && before.platform == resolved.platform.to_string()
                }) =>
            {
                before.cloned()
            }
            Ok(resolved) => Some(locked(resolved, date)),
            Err(_) => before.cloned(),
        };
        if let Some(entry) = entry {
            lock.images.insert(reference.clone(), entry);
        }
    }
    lock
}

/// The lock entry of an image read on `date`.
pub fn locked(resolved: &ResolvedImage, date: &str) -> LockedImage {
    LockedImage {
        digest: resolved.digest.clone(),
        index_digest: resolved.index_digest.clone(),
        platform: resolved.platform.to_string(),
        read: date.to_owned(),
        facts: resolved.spec.clone(),
    }
}

/// Today's date in UTC, `YYYY-MM-DD`, as the lock records when facts were read.
pub fn today() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    now.get(..10).unwrap_or(&now).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(from: &str, to: &str, entry: &str) -> ImageRewrite {
        ImageRewrite {
            from: from.into(),
            to: to.into(),
            entry: entry.into(),
        }
    }

    #[test]
    fn each_public_image_and_both_variants_of_its_replacement_are_read() {
        let catalog = Catalog::embedded().expect("embedded");
        let rewrites = [
            rewrite("node:20-alpine", "reg.mini.dev/node:20", "node"),
            rewrite(
                "python:3.12-slim@sha256:a866731a6b71c4a194a845d86e06568725e430ed21821d0c52e4efb385cf6c6f",
                "reg.mini.dev/python:3.12",
                "python",
            ),
            rewrite(
                "reg.mini.dev/python:3.12",
                "reg.mini.dev/python:3.12-dev",
                "python",
            ),
            rewrite(
                "nginx@sha256:a866731a6b71c4a194a845d86e06568725e430ed21821d0c52e4efb385cf6c6f",
                "reg.mini.dev/nginx:latest",
                "nginx",
            ),
        ];
        let wanted: Vec<String> = wanted(&rewrites, &catalog).into_iter().collect();
        assert_eq!(
            wanted,
            [
                "docker.io/library/node:20-alpine",
                "docker.io/library/python:3.12-slim",
                "reg.mini.dev/nginx:latest",
                "reg.mini.dev/nginx:latest-dev",
                "reg.mini.dev/node:20",
                "reg.mini.dev/node:20-dev",
                "reg.mini.dev/python:3.12",
                "reg.mini.dev/python:3.12-dev",
            ]
        );
    }

    #[test]
    fn a_partial_run_keeps_the_images_it_did_not_see_and_a_whole_one_drops_them() {
        let digest = format!("sha256:{}", "0".repeat(64));
        let previous = Lock::parse(&format!(
            "version: 1\nimages:\n  docker.io/library/node:20:\n    digest: {digest}\n    platform: linux/amd64\n    read: 2026-12-01\n    facts: {{}}\n"
        ))
        .expect("valid");
        let kept = updated_lock(Some(&previous), &[], "2026-12-04", Prune::Nothing);
        assert_eq!(kept, previous);
        let pruned = updated_lock(Some(&previous), &[], "2026-12-04", Prune::Unused);
        assert!(pruned.images.is_empty());
    }
}
