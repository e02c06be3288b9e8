//! `kustomize-image`: point a kustomization's `images:` entries at the replacements.
//!
//! ## What it does
//! Each entry of `images:` renames, in every resource the kustomization builds, the images whose
//! name is `name` (matched as text: `redis` is not `docker.io/library/redis`) to `newName`, and
//! sets their tag to `newTag` (or their digest to `digest`). When the image the entry
//! produces — `newName` (or `name`) with `newTag` — is one the catalog maps, `newName` is set
//! to the replacement (added when the entry has none) and `newTag` to the replacement's tag by
//! the tag policy. `name` is never changed: it is what the entry matches in the resources. A
//! Kubernetes manifest under the kustomization's directory leaves the images such an entry
//! matches alone (`manifest-image`), so the entry keeps matching them.
//!
//! ## What it leaves alone, and says so (`unresolved-image`)
//! - An entry whose name an overlay matches: a kustomization that builds from this one
//!   (`resources: [../../base]`) and has an `images:` entry for the name this one produces. The
//!   overlay's entry is where the image moves; renaming it here would make that entry stop
//!   matching, and the overlay's tag would be lost.
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

use crate::diagnostic::{Diagnostic, Fix, ImageRewrite};
use crate::helm::{Resolution, deref, resolve_reference};
use crate::rules::reference;
use crate::rules::{Context, Rule};
use crate::yaml::{Document, NewValue, Node, Stream};

pub fn check(stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for document in &stream.documents {
        let Some(images) = document.root.get("images") else {
            continue;
        };
        for item in deref(document, images).items() {
            diagnostics.extend(entry(stream, document, deref(document, item), context));
        }
    }
    diagnostics
}

fn entry(
    stream: &Stream<'_>,
    document: &Document,
    item: &Node,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    let get = |key: &str| item.get(key).map(|value| deref(document, value));
    let text = |key: &str| {
        get(key)
            .and_then(Node::value)
            .filter(|value| !value.is_empty())
    };
    let Some(name) = text("name") else {
        return Vec::new();
    };
    let label = format!("images[{name}]");
    let range = item.range.start..item.range.start;
    let new_name = text("newName").unwrap_or(name);
    // An overlay that builds from this kustomization matches what this entry produces, by name.
    if let Some(overlay) = context.kustomized(new_name) {
        return match resolve_reference(new_name, context.catalog, false) {
            Resolution::Migrating(mapped) => vec![reference::unresolved_at(
                range,
                &label,
                &format!(
                    "catalog entry `{}` replaces `{new_name}` with {}, but {overlay} builds from this kustomization and renames `{new_name}` itself; renaming it here would make that entry stop matching, so it is migrated there",
                    mapped.entry.name, mapped.entry.replacement
                ),
            )],
            _ => Vec::new(),
        };
    }
    // A digest pins the public image; a `tagSuffix` is appended to whatever tag the entry
    // leaves, and the replacement may not publish the result.
    let fixed_elsewhere = text("digest")
        .map(|digest| format!("is pinned by the digest {digest}, which names the public image"))
        .or_else(|| {
            text("tagSuffix")
                .map(|suffix| format!("has `tagSuffix: {suffix}`, appended to its tag"))
        });
    let resolved = match (text("newTag"), fixed_elsewhere) {
        (_, Some(why)) => {
            return match resolve_reference(new_name, context.catalog, false) {
                Resolution::Migrating(mapped) => {
                    vec![reference::unresolved_at(
                    range,
                    &label,
                    &format!(
                        "catalog entry `{}` replaces `{new_name}` with {}, but the entry {why}",
                        mapped.entry.name, mapped.entry.replacement
                    ),
                )
                .suggest("set `newName`, `newTag` (and `digest`) to the replacement's by hand")]
                }
                _ => Vec::new(),
            };
        }
        (Some(tag), None) => resolve_reference(&format!("{new_name}:{tag}"), context.catalog, true),
        (None, None) => {
            return match resolve_reference(new_name, context.catalog, false) {
                Resolution::Migrating(mapped) => vec![reference::unresolved_at(
                    range,
                    &label,
                    &format!(
                        "catalog entry `{}` replaces `{new_name}` with {}, but the entry has no `newTag`: the tag comes from the resources, and the replacement's tag follows it",
                        mapped.entry.name, mapped.entry.replacement
                    ),
                ).suggest(format!("set `newName: {}` and `newTag` to the replacement's tag by hand", mapped.entry.replacement))],
                Resolution::Unmapped { repository } => {
                    vec![reference::unmapped(range, &label, repository)]
                }
                _ => Vec::new(),
            };
        }
    };
    let mapped = match resolved {
        Resolution::Migrating(mapped) => mapped,
        Resolution::Unmapped { repository } => {
            return vec![reference::unmapped(range, &label, repository)];
        }
        Resolution::Unresolved(reason) => {
            return vec![reference::unresolved_at(range, &label, &reason)];
        }
        _ => return Vec::new(),
    };
    let mut diagnostics: Vec<Diagnostic> = reference::tag_variant(range.clone(), &label, &mapped)
        .into_iter()
        .collect();
    let tag = mapped.tag.as_ref().map_or_else(
        || mapped.entry.replacement_tag(None).tag,
        |tag| tag.tag.clone(),
    );
    let replacement = &mapped.entry.replacement;
    let new_reference = format!("{replacement}:{tag}");
    let edits = (|| -> Result<Vec<crate::diagnostic::Edit>, crate::yaml::EditError> {
        let mut edits = Vec::new();
        match get("newName") {
            Some(node) if node.value() != Some(replacement) => {
                edits.push(stream.replace_scalar(node, &NewValue::string(replacement))?);
            }
            Some(_) => {}
            None => edits.extend(stream.insert_entries(
                item,
                &[("newName".to_owned(), NewValue::string(replacement))],
            )?),
        }
        if let Some(node) = get("newTag").filter(|node| node.value() != Some(tag.as_str())) {
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
                &label,
                &format!("maps to `{new_reference}`, but cannot be edited in place ({error})"),
            )
            .suggest("rewrite it by hand"),
        ),
    }
    diagnostics
}

#[cfg(test)]
mod tests;
