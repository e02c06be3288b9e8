//! `base-image`: point every image reference the catalog maps at its hardened replacement.
//!
//! ## What it does
//! Rewrites the image in `FROM` (keeping `--platform` and `AS name`), in `COPY --from=<image>`,
//! in `RUN --mount=…,from=<image>`, and in the default of a global `ARG` that a later
//! `FROM ${ARG}` uses. The new reference is `<replacement>:<tag>` where the tag keeps the
//! upstream version and drops distro suffixes (see [`crate::image_ref::replacement_tag`]).
//!
//! ## Why
//! The base image is what a migration changes; everything else follows from it.
//!
//! ## What it leaves alone, and says so
//! Stage names, `scratch`, images the catalog does not map (`unmapped-image`), heredoc bodies and
//! comments (they are never parsed as references). A reference whose repository is built from
//! variables, or whose tag variable resolves to a suffix this line cannot drop, is reported
//! (`unresolved-image`) and not edited, so the result never depends on a guess.
//!
//! ## Example
//! ```dockerfile
//! FROM node:20-alpine AS build      →  FROM reg.mini.dev/node:20 AS build
//! COPY --from=nginx:1.27 /etc/x /x  →  COPY --from=reg.mini.dev/nginx:1.27 /etc/x /x
//! ```
//!
//! ## Fix safety
//! Safe: only the reference's bytes change. A dropped digest is reported (`digest-dropped`;
//! under `--pin`, `pin-digest` pins the replacement by its own digest instead), and so is a tag
//! variant that was kept (`tag-variant`).

use std::collections::HashSet;
use std::ops::Range;

use parse_dockerfile::Instruction;

use crate::diagnostic::{Diagnostic, Edit, Fix, ImageRewrite};
use crate::dockerfile::{ArgScope, Dockerfile, Token};
use crate::image_ref::normalize_repository;
use crate::rules::{Context, Pin, Rule};
use crate::stages::{Migration, Reference, Resolver, Site};

pub fn check(file: &Dockerfile<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut resolver = Resolver::new(context.catalog);
    let mut reporter = Reporter {
        pin: context.pin,
        ..Reporter::default()
    };
    let mut in_stage = false;
    for instruction in file.instructions() {
        match instruction {
            Instruction::Arg(arg) if !in_stage => {
                for declaration in file.arg_declarations(arg) {
                    resolver.declare_arg(&declaration);
                }
            }
            Instruction::From(from) => {
                in_stage = true;
                if let Some(image) = file.token(&from.image) {
                    reporter.report(image, resolver.resolve(image, Site::From), resolver.args());
                }
                resolver.push_stage(from.as_.as_ref().map(|(_, name)| name.value.as_ref()));
            }
            Instruction::Copy(copy) => {
                if let Some(source) = file.flag_value(&copy.options, "from") {
                    reporter.report(
                        source,
                        resolver.resolve(source, Site::CopySource),
                        resolver.args(),
                    );
                }
            }
            Instruction::Run(run) => {
                for source in file.mount_sources(run) {
                    reporter.report(
                        source,
                        resolver.resolve(source, Site::CopySource),
                        resolver.args(),
                    );
                }
            }
            _ => {}
        }
    }
    reporter.diagnostics
}

#[derive(Default)]
struct Reporter {
    /// Ranges already reported, so an `ARG` used by several `FROM`s is reported once.
    seen: HashSet<Range<usize>>,
    diagnostics: Vec<Diagnostic>,
    /// Under `--pin` a dropped digest is not news: `pin-digest` re-pins the replacement or says
    /// why it cannot.
    pin: Pin,
}

impl Reporter {
    fn report(&mut self, written: Token<'_>, reference: Reference<'_, '_>, args: &ArgScope<'_>) {
        match reference {
            Reference::Migrating(migration) => {
                if self.seen.insert(migration.token.range()) {
                    let built = built_images(&migration, args);
                    self.migrate(&migration, built);
                }
            }
            Reference::Unmapped {
                token,
                repository,
                resolved,
            } => {
                if self.seen.insert(token.range()) {
                    let how = match resolved {
                        Some(resolved) => format!("`{}` resolves to `{resolved}`", written.text),
                        None => format!("`{}`", token.text),
                    };
                    self.diagnostics.push(
                        Diagnostic::report(
                            Rule::UnmappedImage,
                            token.range(),
                            format!("no catalog entry replaces {repository}; {how} stays as it is"),
                        )
                        .unmapped(repository.to_string()),
                    );
                }
            }
            Reference::Unresolved { token, message } => {
                if self.seen.insert(token.range()) {
                    self.push(Rule::UnresolvedImage, token, message);
                }
            }
            Reference::Scratch
            | Reference::Stage(_)
            | Reference::Hardened { .. }
            | Reference::Ignored => {}
        }
    }

    fn migrate(&mut self, migration: &Migration<'_, '_>, built: Vec<String>) {
        let Migration {
            token,
            entry,
            image,
            tag,
            new_text,
        } = migration;
        if !tag.kept_variant.is_empty() {
            self.diagnostics.push(
                Diagnostic::report(
                    Rule::TagVariant,
                    token.range(),
                    format!(
                        "tag `{}` names the variant `{}`, kept as `{new_text}`",
                        image.tag.as_deref().unwrap_or_default(),
                        tag.kept_variant.join("-")
                    ),
                )
                .suggest("check that the replacement publishes it"),
            );
        }
        if let Some(digest) = image.digest.as_ref().filter(|_| self.pin == Pin::Off) {
            self.diagnostics.push(
                Diagnostic::report(
                    Rule::DigestDropped,
                    token.range(),
                    format!("the digest {digest} pinned the public image and was dropped"),
                )
                .suggest(format!(
                    "pin `{new_text}` by its own digest once you have verified it"
                )),
            );
        }
        if new_text
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control())
        {
            // The last line of defence: an image reference is one word. A catalog that passed
            // validation cannot produce this; a line break here would add instructions.
            self.push(
                Rule::UnresolvedImage,
                *token,
                format!("the replacement {new_text:?} is not one word: left as it is"),
            );
            return;
        }
        if new_text != token.text {
            let message = format!(
                "`{}` → `{new_text}` (catalog entry `{}`)",
                token.text, entry.name
            );
            let fix = Fix::single(Edit::replace(token.range(), new_text.clone()));
            self.diagnostics.push(
                Diagnostic::fixed(Rule::BaseImage, token.range(), message, fix)
                    .rewrites_image(ImageRewrite {
                        from: token.text.to_owned(),
                        to: new_text.clone(),
                        entry: entry.name.clone(),
                    })
                    .settled_by_reading(built),
            );
        }
    }

    fn push(&mut self, rule: Rule, token: Token<'_>, message: String) {
        self.diagnostics
            .push(Diagnostic::report(rule, token.range(), message));
    }
}

/// For a tag built from ARG defaults (`node:${V}`): the images those defaults build, public
/// and replacement (production and `-dev`), canonical. Their facts are the ones the rules use
/// (see [`Resolver`]), so `hardport facts resolve` reads them; a reference written out names
/// them in its rewrite already.
fn built_images(migration: &Migration<'_, '_>, args: &ArgScope<'_>) -> Vec<String> {
    let Migration { entry, image, .. } = migration;
    let Some(tag) = image
        .tag
        .as_deref()
        .filter(|tag| tag.contains('$'))
        .and_then(|tag| args.expand(tag))
    else {
        return Vec::new();
    };
    let (Some(public), Ok(replacement)) = (
        image.canonical_repository(),
        normalize_repository(&entry.replacement),
    ) else {
        return Vec::new();
    };
    let new_tag = entry.replacement_tag(Some(&tag)).tag;
    let mut built = vec![
        format!("{public}:{tag}"),
        format!("{replacement}:{new_tag}"),
    ];
    built.extend(
        entry
            .dev_tag_suffix
            .as_ref()
            .map(|suffix| format!("{replacement}:{new_tag}{suffix}")),
    );
    built
}

#[cfg(test)]
mod tests;
