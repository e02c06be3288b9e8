//! `pin-digest`: with `--pin`, pin every replacement reference by the digest of `hardport.lock`.
//!
//! ## What it does
//! Under `hardport migrate --pin`, a reference to a replacement image that carries a tag and no
//! digest gets `@<digest>` after the tag: the digest `hardport facts resolve` read for that very
//! image (the multi-platform index's when the tag names one, so every platform keeps working).
//! It acts on the reference as it ends up: a build stage is pinned on its `-dev` image, once
//! `dev-variant` has given it that tag. In Helm values, a string image gets `@<digest>`; an
//! image mapping gets its `digest` key set (Bitnami's layout, where a digest replaces the tag).
//! Without `--pin` it does nothing.
//!
//! ## Why
//! A digest that pinned the public image cannot be carried over: it names the public image.
//! Dropping it silently turns a reproducible build into one that follows a moving tag; pinning
//! the replacement by its own digest, read from its registry, keeps the build reproducible and
//! lets Renovate-style bots update it.
//!
//! ## What it leaves alone, and says so
//! A reference already pinned by a digest (`dev-variant` re-pins a build stage's). When the
//! lock has no digest for the image, a `missing-fact` warning names it (`hardport facts
//! resolve` reads it); a tag built from variables (`node:${V}`), an empty Helm tag (the chart
//! renders its `appVersion`) or an image mapping without a `digest` key cannot be pinned in
//! place and are reported as `unresolved-image`.
//!
//! ## Example
//! ```dockerfile
//! FROM node:20-alpine@sha256:0f3a…   →  FROM reg.mini.dev/node:20@sha256:9b1c…
//! ```
//!
//! ## Fix safety
//! Safe: only `@<digest>` is added, and only a digest the lock holds for exactly that
//! repository and tag. A pinned reference is left alone, so a second run changes nothing.

use std::collections::HashSet;
use std::ops::Range;

use parse_dockerfile::Instruction;

use crate::catalog::{Catalog, Entry};
use crate::diagnostic::{Diagnostic, Edit, Fix, ImageRewrite};
use crate::dockerfile::Token;
use crate::helm::{Resolution, Shape, Values, ValuesImage};
use crate::image_ref::ImageRef;
use crate::rules::helm_images::value_range;
use crate::rules::{Context, Pin, Rule};
use crate::stages::{Reference, Resolver, Site, StageModel, Variant};
use crate::yaml::{NewValue, Stream};

/// What pinning a replacement reference by digest comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan<'c> {
    /// The lock holds this digest for the image.
    Pin(&'c str),
    /// The lock does not hold the image (canonical, with its tag).
    Unlocked(String),
    /// The image cannot be pinned in place; the message says why.
    Unpinnable(String),
}

/// The plan for the image `final_text` (the reference as the rules leave it, without digest).
fn plan<'c>(catalog: &'c Catalog, final_text: &str) -> Plan<'c> {
    let Ok(image) = ImageRef::parse(final_text) else {
        return Plan::Unpinnable(format!("`{final_text}` is not an image reference"));
    };
    let tag = image.tag.as_deref().unwrap_or("latest");
    if tag.contains('$') || image.has_variables() {
        return Plan::Unpinnable(format!(
            "`{final_text}` cannot be pinned by digest: its tag is built from variables, so the image it names is known only at build time"
        ));
    }
    let Some(repository) = image.canonical_repository() else {
        return Plan::Unpinnable(format!(
            "`{final_text}` has no repository hardport can read"
        ));
    };
    match catalog.locked_digest(&repository, tag) {
        Some(digest) => Plan::Pin(digest),
        None => Plan::Unlocked(format!("{repository}:{tag}")),
    }
}

/// The digest `hardport.lock` holds for the replacement reference `final_text`, or the finding
/// that says why it cannot be pinned, at `range`: for references other rules write whole
/// (a subchart's image, overridden in the parent's values).
pub(crate) fn locked_digest<'c>(
    catalog: &'c Catalog,
    final_text: &str,
    range: Range<usize>,
) -> Result<&'c str, Box<Diagnostic>> {
    match plan(catalog, final_text) {
        Plan::Pin(digest) => Ok(digest),
        Plan::Unlocked(canonical) => Err(Box::new(unlocked(canonical, range))),
        Plan::Unpinnable(message) => Err(Box::new(unpinnable(message, range))),
    }
}

/// The report for a plan that pins nothing, at `range`; `None` for a pin.
fn report(plan: Plan<'_>, range: Range<usize>) -> Option<Diagnostic> {
    match plan {
        Plan::Pin(_) => None,
        Plan::Unlocked(canonical) => Some(unlocked(canonical, range)),
        Plan::Unpinnable(message) => Some(unpinnable(message, range)),
    }
}

fn unlocked(canonical: String, range: Range<usize>) -> Diagnostic {
    Diagnostic::report(
        Rule::MissingFact,
        range,
        format!("`--pin`: hardport.lock holds no digest for {canonical}"),
    )
    .suggest("run `hardport facts resolve` (or `hardport migrate --resolve --pin`) to read it from its registry")
    .settled_by_reading([canonical])
}

fn unpinnable(message: String, range: Range<usize>) -> Diagnostic {
    Diagnostic::report(Rule::UnresolvedImage, range, message)
        .suggest("pin it by hand once you have verified the image")
}

/// The `pin-digest` fix writing `pinned` over `range`, which now holds `current`.
fn pin(range: Range<usize>, current: &str, pinned: String, entry: &Entry) -> Diagnostic {
    let message =
        format!("`{current}` → `{pinned}`: pinned by the digest hardport.lock holds for it");
    let rewrite = ImageRewrite {
        from: current.to_owned(),
        to: pinned.clone(),
        entry: entry.name.clone(),
    };
    Diagnostic::fixed(
        Rule::PinDigest,
        range.clone(),
        message,
        Fix::single(Edit::replace(range, pinned)),
    )
    .rewrites_image(rewrite)
}

/// Pin the replacement references of a Dockerfile: `FROM`, `COPY --from`, `RUN --mount from=`.
pub fn check_dockerfile(model: &StageModel<'_, '_, '_>, context: Context<'_>) -> Vec<Diagnostic> {
    if context.pin == Pin::Off {
        return Vec::new();
    }
    let file = model.file;
    let mut resolver = Resolver::new(context.catalog);
    let mut seen = HashSet::new();
    let mut diagnostics = Vec::new();
    let mut stage = 0;
    let mut in_stage = false;
    for instruction in file.instructions() {
        let (token, dev_suffix) = match instruction {
            Instruction::Arg(arg) if !in_stage => {
                for declaration in file.arg_declarations(arg) {
                    resolver.declare_arg(&declaration);
                }
                continue;
            }
            Instruction::From(from) => {
                let index = stage;
                stage += 1;
                in_stage = true;
                let token = file.token(&from.image);
                let reference = token.map(|token| resolver.resolve(token, Site::From));
                resolver.push_stage(from.as_.as_ref().map(|(_, name)| name.value.as_ref()));
                let wants_dev = model.variant(index) == Variant::Dev;
                if let Some(reference) = reference {
                    diagnostics.extend(dockerfile_reference(
                        reference,
                        wants_dev,
                        context.catalog,
                        &mut seen,
                    ));
                }
                continue;
            }
            Instruction::Copy(copy) => (file.flag_value(&copy.options, "from"), false),
            Instruction::Run(run) => {
                for source in file.mount_sources(run) {
                    let reference = resolver.resolve(source, Site::CopySource);
                    diagnostics.extend(dockerfile_reference(
                        reference,
                        false,
                        context.catalog,
                        &mut seen,
                    ));
                }
                continue;
            }
            _ => continue,
        };
        if let Some(token) = token {
            let reference = resolver.resolve(token, Site::CopySource);
            diagnostics.extend(dockerfile_reference(
                reference,
                dev_suffix,
                context.catalog,
                &mut seen,
            ));
        }
    }
    diagnostics
}

/// The pin (or report) for one reference; `wants_dev` when its stage runs commands.
fn dockerfile_reference(
    reference: Reference<'_, '_>,
    wants_dev: bool,
    catalog: &Catalog,
    seen: &mut HashSet<Range<usize>>,
) -> Option<Diagnostic> {
    let (token, entry, text): (Token<'_>, &Entry, String) = match reference {
        Reference::Migrating(migration) => (migration.token, migration.entry, migration.new_text),
        Reference::Hardened {
            token,
            entry,
            image,
        } if image.digest.is_none() => (token, entry, token.text.to_owned()),
        _ => return None,
    };
    if !seen.insert(token.range()) {
        return None;
    }
    let final_text = as_it_ends_up(&text, entry, wants_dev);
    let plan = plan(catalog, &final_text);
    match plan {
        Plan::Pin(digest) if final_text == token.text => Some(pin(
            token.range(),
            token.text,
            format!("{}@{digest}", token.text),
            entry,
        )),
        plan => report(plan, token.range()),
    }
}

/// `text` as `dev-variant` leaves it: with the entry's `-dev` suffix when its stage runs
/// commands and the tag lacks it.
fn as_it_ends_up(text: &str, entry: &Entry, wants_dev: bool) -> String {
    let suffix = entry.dev_tag_suffix.as_deref().filter(|_| wants_dev);
    match (suffix, ImageRef::parse(text)) {
        (Some(suffix), Ok(image)) => {
            let tag = image.tag.as_deref().unwrap_or("latest");
            if tag.ends_with(suffix) {
                return text.to_owned();
            }
            ImageRef {
                tag: Some(format!("{tag}{suffix}")),
                ..image
            }
            .to_string()
        }
        _ => text.to_owned(),
    }
}

/// Pin the replacement images of a Helm values file.
pub fn check_helm(
    stream: &Stream<'_>,
    values: &Values<'_, '_>,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    if context.pin == Pin::Off {
        return Vec::new();
    }
    let mut seen = HashSet::new();
    values
        .images
        .iter()
        .filter(|image| seen.insert(value_range(image)))
        .filter_map(|image| helm_image(stream, image, context.catalog))
        .collect()
}

fn helm_image(
    stream: &Stream<'_>,
    image: &ValuesImage<'_, '_>,
    catalog: &Catalog,
) -> Option<Diagnostic> {
    let range = image.key_range.clone();
    let path = &image.path;
    let (entry, final_text, settled) = match &image.resolution {
        Resolution::Migrating(mapped) => {
            let Some(tag) = &mapped.tag else {
                return report(Plan::Unpinnable(empty_tag(path)), range);
            };
            (
                mapped.entry,
                format!("{}:{}", mapped.entry.replacement, tag.tag),
                None,
            )
        }
        Resolution::Hardened {
            entry,
            image: hardened,
        } if hardened.digest.is_none() => {
            if hardened.tag.is_none() {
                return report(Plan::Unpinnable(empty_tag(path)), range);
            }
            (*entry, hardened.to_string(), Some(hardened))
        }
        _ => return None,
    };
    if let Shape::Fields(fields) = &image.shape
        && fields.digest.is_none()
    {
        return report(
            Plan::Unpinnable(format!(
                "`{path}` has no `digest` key, so `{final_text}` cannot be pinned in place"
            )),
            range,
        );
    }
    let plan = plan(catalog, &final_text);
    let (Plan::Pin(digest), Some(_)) = (&plan, settled) else {
        return report(plan, range);
    };
    let (node, current, pinned) = match &image.shape {
        Shape::Reference(node) => {
            let current = node.value()?;
            (*node, current, format!("{current}@{digest}"))
        }
        Shape::Fields(fields) => {
            let node = fields.digest?;
            (node, final_text.as_str(), (*digest).to_owned())
        }
    };
    let edit = match stream.replace_scalar(node, &NewValue::string(&pinned)) {
        Ok(edit) => edit,
        Err(error) => {
            let message = format!("`{path}` cannot be pinned in place ({error})");
            return report(Plan::Unpinnable(message), range);
        }
    };
    let shown = match &image.shape {
        Shape::Reference(_) => pinned,
        Shape::Fields(_) => format!("{final_text}@{digest}"),
    };
    let message = format!(
        "`{path}`: `{current}` → `{shown}`: pinned by the digest hardport.lock holds for it"
    );
    Some(
        Diagnostic::fixed(Rule::PinDigest, range, message, Fix::single(edit)).rewrites_image(
            ImageRewrite {
                from: current.to_owned(),
                to: shown,
                entry: entry.name.clone(),
            },
        ),
    )
}

/// `--pin` for a replacement reference written whole in one YAML value (a Compose service's,
/// a Kubernetes container's, a workflow's): `current` gets `@<digest>`. A public reference is
/// pinned on the pass after its rewrite, when it reads as the replacement.
pub(crate) fn check_reference(
    stream: &Stream<'_>,
    node: &crate::yaml::Node,
    label: &str,
    range: Range<usize>,
    entry: &Entry,
    catalog: &Catalog,
) -> Option<Diagnostic> {
    let current = node.value()?;
    let plan = plan(catalog, current);
    let Plan::Pin(digest) = plan else {
        return report(plan, range);
    };
    let pinned = format!("{current}@{digest}");
    let edit = match stream.replace_scalar(node, &NewValue::string(&pinned)) {
        Ok(edit) => edit,
        Err(error) => {
            let message = format!("`{label}` cannot be pinned in place ({error})");
            return report(Plan::Unpinnable(message), range);
        }
    };
    let message = format!(
        "`{label}`: `{current}` → `{pinned}`: pinned by the digest hardport.lock holds for it"
    );
    Some(
        Diagnostic::fixed(Rule::PinDigest, range, message, Fix::single(edit)).rewrites_image(
            ImageRewrite {
                from: current.to_owned(),
                to: pinned,
                entry: entry.name.clone(),
            },
        ),
    )
}

fn empty_tag(path: &str) -> String {
    format!(
        "`{path}` has no tag (the chart renders its appVersion), so it cannot be pinned by digest"
    )
}

#[cfg(test)]
mod tests;
