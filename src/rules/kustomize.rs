//! `kustomize-image`: point a kustomization's `images:` entries at the replacements.
//!
//! ## What it does
//! Each entry of `images:` renames, in every resource the kustomization builds, the images whose
//! name is `name` (matched as text: `redis` is not `docker.io/library/redis`) to `newName`, and
//! sets their tag to `newTag` (or their digest to `digest`). When the image the entry
//! produces — `newName` (or `name`) with `newTag` — is one the catalog maps, `newName` is set
//! to the replacement (added when the entry has none) and `newTag` to the replacement's tag by
//! the tag policy. A Kubernetes manifest the kustomization builds leaves the images such an
//! entry matches alone (`manifest-image`), so the entry keeps matching them.
//!
//! `name` is what the entry matches, so it never changes. An overlay's entry matches what the
//! kustomizations it builds from produce: where a base's entry moves to the replacement, the
//! base then produces the replacement's name, so the overlay gets a second entry for that name
//! with what its own entry gives (its `newTag` still wins, as before the migration); its own
//! entry stays for everything else it matches.
//!
//! ## What it leaves alone, and says so (`unresolved-image`)
//! - An entry without `newTag`: the tag comes from the resources, which may differ from one to
//!   the next, and the replacement's tag follows the tag. Set `newTag` by hand.
//! - An entry with `digest`: it pins the public image; the replacement's digest is another.
//! - `newName` with a placeholder (`CONTAINER_IMAGES_REGISTRY/redis`, replaced by a script) is
//!   an image the catalog does not map (`unmapped-image`).
//!
//! ## Why
//! An overlay's `images:` decides which image the cluster runs; migrating the resources while
//! the overlay still renames them to the public image undoes the migration at build time.
//!
//! ## Example
//! ```yaml
//! images:                               images:
//!   - name: redis                         - name: redis
//!     newTag: 7.2-alpine        →           newTag: "7.2"
//!                                           newName: reg.mini.dev/redis
//! ```
//!
//! ## Fix safety
//! Safe: `newName` and `newTag` are written in place (quotes added where the new text would
//! read as a number), a missing `newName` is added to the entry at its indentation. A second
//! run finds the replacement and changes nothing.

use crate::catalog::Catalog;
use crate::diagnostic::{Diagnostic, Edit, Fix, ImageRewrite};
use crate::helm::{Mapped, Resolution, deref, resolve_reference};
use crate::kubernetes::ImageEntry;
use crate::rules::reference;
use crate::rules::{Context, Rule};
use crate::yaml::{Document, EditError, NewValue, Node, Stream};

pub fn check(stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for document in &stream.documents {
        let Some(images) = document.root.get("images") else {
            continue;
        };
        let images = deref(document, images);
        let names: Vec<String> = images
            .items()
            .iter()
            .filter_map(|item| ImageEntry::read(document, item))
            .map(|entry| entry.name)
            .collect();
        for item in images.items() {
            let item = deref(document, item);
            if let Some(written) = ImageEntry::read(document, item) {
                let entry = Entry {
                    document,
                    node: item,
                    images,
                    names: &names,
                    written,
                };
                diagnostics.extend(entry.check(stream, context));
            }
        }
    }
    diagnostics
}

/// What migrating one `images:` entry comes to.
enum Plan<'c> {
    /// It produces a mapped image, with a tag: it moves to the replacement.
    Moves(Box<Mapped<'c>>),
    /// It produces a mapped image, but cannot move: why, and what to do.
    Blocked { why: String, suggestion: String },
    /// It produces an image no catalog entry replaces.
    Unmapped(String),
    /// It produces a reference hardport cannot read.
    Unresolved(String),
    /// Nothing to do: it already produces a replacement, or no image at all.
    Nothing,
}

/// What `entry` comes to with `catalog`: what it produces is `newName` (else `name`) with
/// `newTag`.
fn plan<'c>(entry: &ImageEntry, catalog: &'c Catalog) -> Plan<'c> {
    let produced = entry.produces();
    // A digest pins the public image; a `tagSuffix` is appended to whatever tag the entry
    // leaves, and the replacement may not publish the result; without `newTag` the tag comes
    // from the resources.
    let why = match (&entry.digest, &entry.tag_suffix, &entry.new_tag) {
        (Some(digest), _, _) => {
            format!("is pinned by the digest {digest}, which names the public image")
        }
        (None, Some(suffix), _) => format!("has `tagSuffix: {suffix}`, appended to its tag"),
        (None, None, None) => "has no `newTag`: the tag comes from the resources, and the replacement's tag follows it".to_owned(),
        (None, None, Some(tag)) => {
            return match resolve_reference(&format!("{produced}:{tag}"), catalog, true) {
                Resolution::Migrating(mapped) => Plan::Moves(mapped),
                Resolution::Unmapped { repository } => Plan::Unmapped(repository),
                Resolution::Unresolved(reason) => Plan::Unresolved(reason),
                _ => Plan::Nothing,
            };
        }
    };
    match resolve_reference(produced, catalog, false) {
        Resolution::Migrating(mapped) => Plan::Blocked {
            why: format!(
                "catalog entry `{}` replaces `{produced}` with {}, but the entry {why}",
                mapped.entry.name, mapped.entry.replacement
            ),
            suggestion: match entry.new_tag.is_none() && entry.digest.is_none() {
                true => format!(
                    "set `newName: {}` and `newTag` to the replacement's tag by hand",
                    mapped.entry.replacement
                ),
                false => {
                    "set `newName`, `newTag` (and `digest`) to the replacement's by hand".to_owned()
                }
            },
        },
        Resolution::Unmapped { repository } if entry.new_tag.is_none() => {
            Plan::Unmapped(repository)
        }
        _ => Plan::Nothing,
    }
}

/// One `images:` entry of the file: where it is, and what it says.
struct Entry<'d> {
    document: &'d Document,
    node: &'d Node,
    /// The `images:` sequence it is an item of.
    images: &'d Node,
    /// The names of every entry of that sequence.
    names: &'d [String],
    written: ImageEntry,
}

impl Entry<'_> {
    fn check(&self, stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
        let label = format!("images[{}]", self.written.name);
        let range = self.node.range.start..self.node.range.start;
        let mut diagnostics: Vec<Diagnostic> = self
            .follow_base(stream, &label, context)
            .into_iter()
            .collect();
        match plan(&self.written, context.catalog) {
            Plan::Moves(mapped) => diagnostics.extend(self.moved(stream, &label, &mapped)),
            Plan::Blocked { why, suggestion } => {
                diagnostics.push(reference::unresolved_at(range, &label, &why).suggest(suggestion));
            }
            Plan::Unmapped(repository) => {
                diagnostics.push(reference::unmapped(range, &label, repository));
            }
            Plan::Unresolved(reason) => {
                diagnostics.push(reference::unresolved_at(range, &label, &reason));
            }
            Plan::Nothing => {}
        }
        diagnostics
    }

    /// The value under `key`, through an alias.
    fn get(&self, key: &str) -> Option<&Node> {
        self.node.get(key).map(|value| deref(self.document, value))
    }

    /// A twin of this entry for what a base produces once the base's entry moves: the base
    /// then produces the replacement's name, which this entry no longer matches, so the twin
    /// (named for the replacement, with this entry's `newName` and `newTag` as they end up)
    /// gives those images what this entry gave them. This entry stays: it still matches
    /// everything else the kustomization builds under the old name.
    fn follow_base(
        &self,
        stream: &Stream<'_>,
        label: &str,
        context: Context<'_>,
    ) -> Option<Diagnostic> {
        let (base, from) = context.base_producing(&self.written.name)?;
        let Plan::Moves(moved) = plan(base, context.catalog) else {
            return None;
        };
        let produced = &moved.entry.replacement;
        if self.names.iter().any(|name| name == produced) {
            return None;
        }
        let range = self.node.range.start..self.node.range.start;
        let lead = format!(
            "`{label}`: {from} moves the images it renames to {produced}, which this entry no longer matches"
        );
        let mut twin = vec![("name".to_owned(), NewValue::string(produced))];
        match plan(&self.written, context.catalog) {
            Plan::Moves(mapped) => {
                let tag = mapped.written_tag();
                twin.push((
                    "newName".to_owned(),
                    NewValue::string(&mapped.entry.replacement),
                ));
                twin.push(("newTag".to_owned(), NewValue::string(tag)));
            }
            Plan::Blocked { .. } => {
                return Some(
                    reference::unresolved_at(
                        range,
                        label,
                        &format!("{lead}, and this entry cannot move itself"),
                    )
                    .suggest(format!("add an entry for `{produced}` by hand")),
                );
            }
            Plan::Unmapped(_) | Plan::Unresolved(_) | Plan::Nothing => {
                let written = [
                    ("newName", &self.written.new_name),
                    ("newTag", &self.written.new_tag),
                    ("digest", &self.written.digest),
                    ("tagSuffix", &self.written.tag_suffix),
                ];
                twin.extend(written.into_iter().filter_map(|(key, value)| {
                    Some((key.to_owned(), NewValue::string(value.as_deref()?)))
                }));
            }
        }
        let message = format!("{lead}: an entry for `{produced}` gives them what this one gave");
        Some(match stream.append_item(self.images, &twin) {
            Ok(edit) => Diagnostic::fixed(Rule::KustomizeImage, range, message, Fix::single(edit)),
            Err(error) => reference::unresolved_at(
                range,
                label,
                &format!(
                    "{lead}, and an entry for `{produced}` cannot be added in place ({error})"
                ),
            ),
        })
    }

    /// The rewrite of an entry that moves: `newName` set (added when missing), `newTag` by the
    /// tag policy.
    fn moved(&self, stream: &Stream<'_>, label: &str, mapped: &Mapped<'_>) -> Vec<Diagnostic> {
        let range = self.node.range.start..self.node.range.start;
        let mut diagnostics: Vec<Diagnostic> = reference::tag_variant(range.clone(), label, mapped)
            .into_iter()
            .collect();
        let tag = mapped.written_tag();
        let replacement = &mapped.entry.replacement;
        let new_reference = format!("{replacement}:{tag}");
        let edits = (|| -> Result<Vec<Edit>, EditError> {
            let mut edits = Vec::new();
            match self.get("newName") {
                Some(node) if node.value() != Some(replacement) => {
                    edits.push(stream.replace_scalar(node, &NewValue::string(replacement))?);
                }
                Some(_) => {}
                None => edits.extend(stream.insert_entries(
                    self.node,
                    &[("newName".to_owned(), NewValue::string(replacement))],
                )?),
            }
            if let Some(node) = self
                .get("newTag")
                .filter(|node| node.value() != Some(tag.as_str()))
            {
                edits.push(stream.replace_scalar(node, &NewValue::string(&tag))?);
            }
            Ok(edits)
        })();
        let message = format!(
            "`{label}`: `{}` → `{new_reference}` (catalog entry `{}`)",
            mapped.image, mapped.entry.name
        );
        match edits.map(Fix::new) {
            Ok(Some(fix)) => diagnostics.push(
                Diagnostic::fixed(Rule::KustomizeImage, range, message, fix).rewrites_image(
                    ImageRewrite {
                        from: mapped.image.to_string(),
                        to: new_reference,
                        entry: mapped.entry.name.clone(),
                    },
                ),
            ),
            Ok(None) => {}
            Err(error) => diagnostics.push(
                reference::unresolved_at(
                    range,
                    label,
                    &format!("maps to `{new_reference}`, but cannot be edited in place ({error})"),
                )
                .suggest("rewrite it by hand"),
            ),
        }
        diagnostics
    }
}

#[cfg(test)]
mod tests;
