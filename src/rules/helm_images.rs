//! `helm-image`: point every image in Helm values that the catalog maps at its replacement,
//! written back in the shape the chart reads.
//!
//! ## What it does
//! For an image mapping, the registry goes into `registry` (when the mapping has that key;
//! otherwise the whole replacement repository goes into `repository`), the path into
//! `repository`, the tag follows the tag policy for Dockerfiles (distro suffixes dropped), and a
//! non-empty `digest` is cleared (`digest-dropped`; under `--pin`, `pin-digest` sets the
//! replacement's own). A string image is rewritten as a whole.
//! A tag variant the policy keeps (`-fpm`, `-perl`) is reported (`tag-variant`): the
//! replacement may not publish it.
//! Runtime images get the production tag, never `-dev`: a chart runs them, nothing builds on
//! them.
//!
//! ## Why
//! A chart renders its images from these values, so they decide what the cluster runs; the
//! templates expect each key in its own shape (a registry in `registry`, a bare tag in `tag`),
//! so the replacement is written into the keys the values already have instead of one string.
//!
//! A tag written as a plain number that Helm renders differently (`tag: 1.20` is the number
//! 1.2, and the pod pulls `:1.2`) is reported (`numeric-tag`), not quoted: quoting changes the
//! image the chart runs today, which is for a person to decide.
//!
//! ## What it leaves alone, and says so
//! An empty `tag` stays empty (the chart renders its `appVersion`); when `Chart.yaml`'s
//! `appVersion` is not a tag the replacement publishes, `app-version-tag` says which one it is.
//! Images the catalog does not map (`unmapped-image`, with the count), templates and references
//! hardport cannot read or that `global.imageRegistry` overrides (`unresolved-image`), and an
//! empty `repository` that takes `global.image` (only `global.image` is rewritten).
//!
//! ## Example
//! ```yaml
//! image:                              image:
//!   registry: docker.io        →        registry: reg.mini.dev
//!   repository: library/nginx  →        repository: nginx
//!   tag: 1.27.3-alpine         →        tag: 1.27.3
//! ```
//!
//! ## Fix safety
//! Safe: only the scalars that change are rewritten, each inside its own quotes (quotes are
//! added only where the new text would read back as another type), and an anchored value is
//! edited once, at its anchor. A value that cannot be edited in place (an alias, a block
//! scalar) is reported as `unresolved-image` and left alone. After the rewrite the image is the
//! replacement, so a second run changes nothing.

use std::collections::HashSet;
use std::ops::Range;

use crate::diagnostic::{Diagnostic, Edit, Fix, ImageRewrite};
use crate::helm::{
    Fields, Mapped, Resolution, Shape, Values, ValuesImage, deref, resolve_reference,
};
use crate::rules::{Context, Pin, Rule};
use crate::yaml::{NewValue, Node, Stream};

pub fn check(
    stream: &Stream<'_>,
    values: &Values<'_, '_>,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    let unmapped = values
        .images
        .iter()
        .filter(|image| matches!(image.resolution, Resolution::Unmapped { .. }))
        .count();
    let mut seen: HashSet<Range<usize>> = HashSet::new();
    let mut diagnostics = template_defaults(values, context);
    for image in &values.images {
        // An image reached twice through an alias is one image: report and edit it once.
        if !seen.insert(value_range(image)) {
            continue;
        }
        match &image.resolution {
            Resolution::Migrating(mapped) => {
                diagnostics.extend(migrate(stream, image, mapped, context));
                diagnostics.extend(app_version(image, context));
                diagnostics.extend(numeric_tag(image));
            }
            Resolution::Hardened { .. } => {
                diagnostics.extend(app_version(image, context));
                diagnostics.extend(numeric_tag(image));
            }
            Resolution::Unmapped { repository } => diagnostics.push(Diagnostic::report(
                Rule::UnmappedImage,
                image.key_range.clone(),
                format!(
                    "no catalog entry replaces {repository}; `{}` stays as it is ({unmapped} unmapped {} in this file)",
                    image.path,
                    if unmapped == 1 { "image" } else { "images" }
                ),
            )
            .unmapped(repository.to_string())),
            Resolution::Unresolved(reason) => diagnostics.push(Diagnostic::report(
                Rule::UnresolvedImage,
                image.key_range.clone(),
                format!("`{}`: {reason}", image.path),
            )),
            Resolution::Inherited(_) | Resolution::Empty | Resolution::InSubchart => {}
        }
    }
    diagnostics
}

/// The bytes an image's rewrite would touch, to know the same image when an alias repeats it.
pub(crate) fn value_range(image: &ValuesImage<'_, '_>) -> Range<usize> {
    match &image.shape {
        Shape::Reference(node) => node.range.clone(),
        Shape::Fields(fields) => fields.repository.range.clone(),
    }
}

fn migrate(
    stream: &Stream<'_>,
    image: &ValuesImage<'_, '_>,
    mapped: &Mapped<'_>,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    let pin = context.pin;
    let mut diagnostics = Vec::new();
    let tag = mapped.tag.as_ref().map(|tag| tag.tag.as_str());
    let new_reference = match tag {
        Some(tag) => format!("{}:{tag}", mapped.entry.replacement),
        None => mapped.entry.replacement.clone(),
    };
    if let Some(tag) = mapped
        .tag
        .as_ref()
        .filter(|tag| !tag.kept_variant.is_empty())
    {
        diagnostics.push(
            Diagnostic::report(
                Rule::TagVariant,
                image.key_range.clone(),
                format!(
                    "`{}`: tag `{}` names the variant `{}`, kept as `{}`",
                    image.path,
                    mapped.image.tag.as_deref().unwrap_or_default(),
                    tag.kept_variant.join("-"),
                    tag.tag
                ),
            )
            .suggest("check that the replacement publishes it"),
        );
    }
    if let Some(digest) = mapped.image.digest.as_ref().filter(|_| pin == Pin::Off) {
        diagnostics.push(
            Diagnostic::report(
                Rule::DigestDropped,
                image.key_range.clone(),
                format!(
                    "`{}`: the digest {digest} pinned the public image and was dropped",
                    image.path
                ),
            )
            .suggest(format!(
                "pin `{new_reference}` by its own digest once you have verified it"
            )),
        );
    }
    if let Some(chroot) = chroot_digest(&image.shape) {
        diagnostics.push(
            Diagnostic::report(
                Rule::DigestDropped,
                image.key_range.clone(),
                format!(
                    "`{}.digestChroot`: the digest {} pinned the public image's chroot variant (rendered with `chroot: true`) and was dropped",
                    image.path,
                    chroot.value().unwrap_or_default()
                ),
            )
            .suggest("check that the replacement publishes a chroot variant before enabling it"),
        );
    }
    let edits = match &image.shape {
        Shape::Reference(node) => {
            replace_if_changed(stream, node, &new_reference).map(|edit| edit.into_iter().collect())
        }
        Shape::Fields(fields) => field_edits(stream, fields, mapped),
    };
    let message = format!(
        "`{}`: `{}` → `{new_reference}` (catalog entry `{}`)",
        image.path, mapped.image, mapped.entry.name
    );
    match edits.map(Fix::new) {
        Ok(Some(fix)) => diagnostics.push(
            Diagnostic::fixed(Rule::HelmImage, image.key_range.clone(), message, fix)
                .rewrites_image(ImageRewrite {
                    from: mapped.image.to_string(),
                    to: new_reference,
                    entry: mapped.entry.name.clone(),
                }),
        ),
        Ok(None) => {}
        Err(error) => diagnostics.push(
            Diagnostic::report(
                Rule::UnresolvedImage,
                image.key_range.clone(),
                format!(
                    "`{}` maps to `{new_reference}`, but cannot be edited in place ({error})",
                    image.path
                ),
            )
            .suggest("rewrite it by hand"),
        ),
    }
    diagnostics
}

/// The edits that write the replacement into an image mapping's fields.
fn field_edits(
    stream: &Stream<'_>,
    fields: &Fields<'_>,
    mapped: &Mapped<'_>,
) -> Result<Vec<Edit>, crate::yaml::EditError> {
    let mut edits = Vec::new();
    match fields.registry {
        Some(registry) => {
            let host = mapped
                .replacement
                .registry
                .as_deref()
                .unwrap_or("docker.io");
            edits.extend(replace_if_changed(stream, registry, host)?);
            edits.extend(replace_if_changed(
                stream,
                fields.repository,
                &mapped.replacement.path,
            )?);
        }
        None => {
            match (fields.registry_default, fields.mapping) {
                // The templates put a registry from elsewhere in front of the repository: this
                // image gets its own.
                (Some(_), Some(mapping)) => {
                    let host = mapped
                        .replacement
                        .registry
                        .as_deref()
                        .unwrap_or("docker.io");
                    edits.extend(stream.insert_entries(
                        mapping,
                        &[("registry".to_owned(), NewValue::string(host))],
                    )?);
                    edits.extend(replace_if_changed(
                        stream,
                        fields.repository,
                        &mapped.replacement.path,
                    )?);
                }
                _ => edits.extend(replace_if_changed(
                    stream,
                    fields.repository,
                    &mapped.entry.replacement,
                )?),
            }
        }
    }
    if let (Some(tag), Some(node)) = (&mapped.tag, fields.tag) {
        edits.extend(replace_if_changed(stream, node, &tag.tag)?);
    }
    if let Some(digest) = fields.digest.filter(|_| mapped.image.digest.is_some()) {
        edits.extend(replace_if_changed(stream, digest, "")?);
    }
    if let Some(chroot) = fields.mapping.and_then(|mapping| chroot_digest_of(mapping)) {
        edits.extend(replace_if_changed(stream, chroot, "")?);
    }
    Ok(edits)
}

/// A non-empty `digestChroot` beside the image's fields: ingress-nginx pins its `-chroot`
/// variant with it, and a digest of the public image names nothing in the replacement's
/// repository.
fn chroot_digest<'d>(shape: &Shape<'d>) -> Option<&'d Node> {
    match shape {
        Shape::Fields(Fields {
            mapping: Some(mapping),
            ..
        }) => chroot_digest_of(mapping),
        _ => None,
    }
}

fn chroot_digest_of(mapping: &Node) -> Option<&Node> {
    mapping
        .get("digestChroot")
        .filter(|node| node.value().is_some_and(|value| !value.is_empty()))
}

/// The edit giving the scalar `node` the string `value`, unless it already has it.
fn replace_if_changed(
    stream: &Stream<'_>,
    node: &Node,
    value: &str,
) -> Result<Option<Edit>, crate::yaml::EditError> {
    if node.value() == Some(value) {
        return Ok(None);
    }
    stream
        .replace_scalar(node, &NewValue::string(value))
        .map(Some)
}

/// Images whose repository the values leave empty (or unset) and the templates default: the
/// pod runs the template's image, which no values key names. When the catalog maps it, say so
/// (`unresolved-image`): the keys to set depend on how the templates assemble the reference
/// (Traefik puts a templated registry in front), which hardport does not run.
fn template_defaults(values: &Values<'_, '_>, context: Context<'_>) -> Vec<Diagnostic> {
    let Some(chart) = context.chart() else {
        return Vec::new();
    };
    let document = values.document;
    let mut diagnostics = Vec::new();
    for (path, default) in &chart.repository_defaults {
        let keys: Vec<&str> = path.split('.').collect();
        let mut node = deref(document, &document.root);
        let mut depth = 0;
        for key in &keys {
            match node.get(key) {
                Some(child) => {
                    node = deref(document, child);
                    depth += 1;
                }
                None => break,
            }
        }
        let set = depth == keys.len()
            && node
                .value()
                .is_some_and(|value| !value.is_empty() && value != "null" && value != "~");
        if set {
            continue;
        }
        let image = path.trim_end_matches(".repository");
        let message = match default {
            Some(default) => {
                let Resolution::Migrating(mapped) =
                    resolve_reference(default, context.catalog, false)
                else {
                    continue;
                };
                format!(
                    "`{image}` leaves `repository` unset, so the chart's templates render their default `{default}`, which catalog entry `{}` replaces with {}",
                    mapped.entry.name, mapped.entry.replacement
                )
            }
            None => format!(
                "`{image}` leaves `repository` unset, so the chart's templates render a default they compute, which hardport cannot read"
            ),
        };
        diagnostics.push(
            Diagnostic::report(
                Rule::UnresolvedImage,
                node.range.start..node.range.start,
                message,
            )
            .suggest(format!(
                "check which image it is (`hardport migrate --verify` renders it); to move it, set `{path}` (and the registry the templates put in front of it, if any) to the replacement"
            )),
        );
    }
    diagnostics
}

/// `numeric-tag`: a tag written as a plain number is a number to Helm, and a template prints
/// the number, not the text: `tag: 1.20` renders `1.2`, `tag: 2.0` renders `2`.
fn numeric_tag(image: &ValuesImage<'_, '_>) -> Option<Diagnostic> {
    let Shape::Fields(fields) = &image.shape else {
        return None;
    };
    let scalar = fields
        .tag?
        .as_scalar()
        .filter(|scalar| !scalar.is_string())?;
    let written = scalar.value.as_str();
    let number: f64 = written.parse().ok().filter(|_| written.contains('.'))?;
    let rendered = number.to_string();
    (rendered != written).then(|| {
        Diagnostic::report(
            Rule::NumericTag,
            image.key_range.clone(),
            format!(
                "`{}` has the tag {written} written as a number, which Helm renders as `{rendered}`: the pod pulls the tag `{rendered}`",
                image.path
            ),
        )
        .suggest(format!("quote it (`\"{written}\"`) if `{written}` is the tag meant"))
    })
}

/// `app-version-tag`: an empty tag renders the chart's `appVersion`; say so when the
/// replacement's tag for it differs.
fn app_version(image: &ValuesImage<'_, '_>, context: Context<'_>) -> Option<Diagnostic> {
    let Shape::Fields(fields) = &image.shape else {
        return None;
    };
    if fields
        .tag
        .and_then(Node::value)
        .is_some_and(|tag| !tag.is_empty())
    {
        return None;
    }
    let entry = image.resolution.entry()?;
    let app_version = context.chart()?.app_version.as_deref()?;
    let wanted = entry.replacement_tag(Some(app_version)).tag;
    (wanted != app_version).then(|| {
        Diagnostic::report(
            Rule::AppVersionTag,
            image.key_range.clone(),
            format!(
                "`{}` has no tag, so the chart renders its appVersion `{app_version}`, which {} does not publish as such",
                image.path, entry.replacement
            ),
        )
        .suggest(format!("set the tag to `{wanted}`"))
    })
}

#[cfg(test)]
mod tests;
