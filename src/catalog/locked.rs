//! The facts of `hardport.lock` layered into the catalog: per image, not per repository.
//!
//! A catalog states facts per repository; a lock per image (`node:20` and `node:20-alpine` have
//! different groups). For every locked public image the catalog maps, the catalog keeps a copy
//! of the entry whose `public` facts are the lock's for that image and whose `hardened` facts
//! are the lock's for the replacement the tag policy picks (its package manager is its `-dev`
//! variant's, which is where packages are installed). Rules asking about that image get the
//! copy ([`Catalog::lookup_image`]); every other image keeps the repository's facts.
//!
//! Which source wins, fact by fact: a user's catalog (`--catalog`) over the lock, the lock
//! over the built-in catalog. A user who writes a fact means it; the built-in catalog was
//! written from documents, the lock was read from the image itself.

use std::collections::BTreeMap;

use super::{Catalog, CatalogOrigin, Entry, ImageSpec, LockedDigests};
use crate::image_ref::{ImageRef, normalize_repository};
use crate::lock::{Lock, LockedImage};

impl Catalog {
    /// This catalog with the facts of `lock` layered in, per locked image.
    pub fn with_lock(mut self, lock: &Lock) -> Catalog {
        for (reference, locked) in &lock.images {
            let Ok(image) = ImageRef::parse(reference) else {
                continue;
            };
            let (Some(repository), Some(tag)) = (image.canonical_repository(), image.tag) else {
                continue;
            };
            self.pins.insert(
                (repository.clone(), tag.clone()),
                LockedDigests {
                    pin: locked.pin().to_owned(),
                    manifest: locked.digest.clone(),
                },
            );
            if let Some(entry) = self.lookup(&repository) {
                let derived = with_public_image(entry, reference, locked, lock, &tag);
                self.by_public_image.insert((repository, tag), derived);
            } else if let Some(entry) = self.lookup_replacement(&repository) {
                let mut derived = entry.clone();
                let facts = hardened_facts(locked, None);
                layer(&mut derived, Side::Hardened, &facts, reference, locked);
                self.by_replacement_image.insert((repository, tag), derived);
            }
        }
        self
    }

    /// The entry for the public image `repository` (canonical) at `tag`: with the lock's facts
    /// for that image when it is locked, else the repository's.
    pub fn lookup_image(&self, repository: &str, tag: Option<&str>) -> Option<&Entry> {
        tag.and_then(|tag| {
            self.by_public_image
                .get(&(repository.to_owned(), tag.to_owned()))
        })
        .or_else(|| self.lookup(repository))
    }

    /// The digest that pins the image `repository` (canonical) at `tag`, when the lock holds
    /// that image: what `--pin` writes after the tag.
    pub fn locked_digest(&self, repository: &str, tag: &str) -> Option<&str> {
        self.pins
            .get(&(repository.to_owned(), tag.to_owned()))
            .map(|digests| digests.pin.as_str())
    }

    /// The tag to look an image up by, for its locked facts: `tag`, unless the reference pins
    /// a digest the lock did not read for that tag (the tag has moved since, or the digest names
    /// another build), in which case the lock's facts are not this image's: `None`.
    pub fn lock_tag<'t>(
        &self,
        repository: &str,
        tag: Option<&'t str>,
        digest: Option<&str>,
    ) -> Option<&'t str> {
        let (Some(tag), Some(digest)) = (tag, digest) else {
            return tag;
        };
        match self.pins.get(&(repository.to_owned(), tag.to_owned())) {
            Some(read) if read.pin != digest && read.manifest != digest => None,
            _ => Some(tag),
        }
    }

    /// The entry whose replacement is `repository` (canonical), for the image at `tag`.
    pub fn lookup_replacement_image(&self, repository: &str, tag: Option<&str>) -> Option<&Entry> {
        tag.and_then(|tag| {
            self.by_replacement_image
                .get(&(repository.to_owned(), tag.to_owned()))
        })
        .or_else(|| self.lookup_replacement(repository))
    }
}

/// `entry` with the facts of the public image `reference` (locked as `locked`) and of the
/// replacement image its tag maps to, when the lock holds that.
fn with_public_image(
    entry: &Entry,
    reference: &str,
    locked: &LockedImage,
    lock: &Lock,
    tag: &str,
) -> Entry {
    let mut derived = entry.clone();
    layer(&mut derived, Side::Public, &locked.facts, reference, locked);
    let Ok(replacement) = normalize_repository(&entry.replacement) else {
        return derived;
    };
    let new_tag = entry.replacement_tag(Some(tag)).tag;
    if let Some((hardened_reference, hardened)) = lock.image(&replacement, &new_tag) {
        let dev = entry
            .dev_tag_suffix
            .as_ref()
            .and_then(|suffix| lock.image(&replacement, &format!("{new_tag}{suffix}")));
        let facts = hardened_facts(hardened, dev.as_ref().map(|(_, dev)| *dev));
        layer(
            &mut derived,
            Side::Hardened,
            &facts,
            &hardened_reference,
            hardened,
        );
        if let Some((dev_reference, dev)) = dev {
            for fact in ["hardened.package_manager", "hardened.distribution"] {
                if derived.locked_facts.contains_key(fact) {
                    derived
                        .locked_facts
                        .insert(fact.into(), dev.citation(&dev_reference));
                }
            }
        }
    }
    derived
}

/// A replacement's facts: its own, but the package manager of its `-dev` variant (the image a
/// build stage installs packages in) and the distribution that names its packages; unknown
/// without that variant.
fn hardened_facts(image: &LockedImage, dev: Option<&LockedImage>) -> ImageSpec {
    let mut facts = image.facts.clone();
    facts.package_manager = dev.and_then(|dev| dev.facts.package_manager.clone());
    facts.distribution = dev.and_then(|dev| dev.facts.distribution.clone());
    facts
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Public,
    Hardened,
}

/// Layer `facts`, read from the locked image `reference`, into one side of `entry`, and record
/// which facts came from the lock (`source` stays the catalog's: it cites the catalog's facts).
fn layer(entry: &mut Entry, side: Side, facts: &ImageSpec, reference: &str, locked: &LockedImage) {
    let (name, spec) = match side {
        Side::Public => ("public", &mut entry.public),
        Side::Hardened => ("hardened", &mut entry.hardened),
    };
    let layered = layered(spec, &entry.origin, facts);
    let from_catalog = field_values(spec);
    let from_lock = field_values(facts);
    for (field, value) in field_values(&layered) {
        let lock_has_it = from_lock.get(&field) == Some(&value);
        let lock_won = match entry.origin {
            CatalogOrigin::File(_) => !from_catalog.contains_key(&field),
            CatalogOrigin::Embedded(_) => true,
        };
        if lock_has_it && lock_won {
            entry
                .locked_facts
                .insert(format!("{name}.{field}"), locked.citation(reference));
        }
    }
    *spec = layered;
}

/// The facts of one side: `catalog`'s over `locked`'s when a user's catalog states them,
/// `locked`'s over `catalog`'s when the built-in catalog does.
fn layered(catalog: &ImageSpec, origin: &CatalogOrigin, locked: &ImageSpec) -> ImageSpec {
    match origin {
        CatalogOrigin::File(_) => {
            let mut spec = catalog.clone();
            spec.fill_unknown_from(locked);
            spec
        }
        CatalogOrigin::Embedded(_) => {
            let mut spec = locked.clone();
            spec.config.clone_from(&catalog.config);
            spec.fill_unknown_from(catalog);
            spec
        }
    }
}

/// The facts a spec states, by field name, as JSON values (so any two can be compared).
fn field_values(spec: &ImageSpec) -> BTreeMap<String, serde_json::Value> {
    match serde_json::to_value(spec) {
        Ok(serde_json::Value::Object(fields)) => fields.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}
