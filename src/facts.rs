//! Which images `hardport facts resolve` reads: the ones a migration of the repository touches.
//!
//! A dry run of the migration says, rewrite by rewrite, which public image a file uses and which
//! replacement the catalog picks for it ([`ImageRewrite`]). Their facts are what the rules ask
//! for, so exactly those are read: each public image at the tag the file names, and each
//! replacement both as the production image and as its `-dev` variant (a build stage's facts,
//! and where its package manager comes from), whichever of the two the file ends up on. Images
//! the catalog does not map are not read: no rule uses their facts.

use std::collections::BTreeSet;

use crate::catalog::Catalog;
use crate::diagnostic::ImageRewrite;
use crate::image_ref::ImageRef;

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

/// `text` as a canonical reference with its tag, when it has one and no variables.
pub fn canonical(text: &str) -> Option<String> {
    let image = ImageRef::parse(text).ok()?;
    let tag = image.tag.as_deref()?;
    let repository = image.canonical_repository()?;
    Some(format!("{repository}:{tag}"))
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
}
