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
//! Safe: only the reference's bytes change. A dropped digest is reported (`digest-dropped`), and
//! so is a tag variant that was kept (`tag-variant`).

use std::collections::HashSet;
use std::ops::Range;

use parse_dockerfile::Instruction;

use crate::catalog::{Catalog, Entry};
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::dockerfile::{
    ArgScope, Dockerfile, Token, could_expand_to, option_field, whole_variable,
};
use crate::image_ref::{ImageRef, replacement_tag};
use crate::rules::{Context, Rule};

/// How many `ARG` indirections (`FROM $A`, `ARG A=$B`, …) are followed before giving up.
const MAX_ARG_DEPTH: usize = 8;

/// Where an image reference was written; decides which names mean a build stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    From,
    /// `COPY --from=` or `RUN --mount=from=`: a stage name or a stage index.
    CopySource,
}

pub fn check(file: &Dockerfile<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut checker = Checker {
        catalog: context.catalog,
        global_args: ArgScope::default(),
        stages: Vec::new(),
        edited: HashSet::new(),
        diagnostics: Vec::new(),
    };
    let mut in_stage = false;
    for instruction in file.instructions() {
        match instruction {
            Instruction::Arg(arg) if !in_stage => {
                for declaration in file.arg_declarations(arg) {
                    checker.global_args.declare(&declaration);
                }
            }
            Instruction::From(from) => {
                in_stage = true;
                if let Some(image) = file.token(&from.image) {
                    checker.reference(image, Site::From, 0);
                }
                if let Some((_, name)) = &from.as_ {
                    checker.stages.push(name.value.to_ascii_lowercase());
                }
            }
            Instruction::Copy(copy) => {
                if let Some(source) = file.flag_value(&copy.options, "from") {
                    checker.reference(source, Site::CopySource, 0);
                }
            }
            Instruction::Run(run) => {
                let mounts = run
                    .options
                    .iter()
                    .filter(|flag| flag.name.value.eq_ignore_ascii_case("mount"))
                    .filter_map(|flag| flag.value.as_ref().and_then(|value| file.token(value)));
                for mount in mounts {
                    if let Some(source) = option_field(mount, "from") {
                        checker.reference(source, Site::CopySource, 0);
                    }
                }
            }
            _ => {}
        }
    }
    checker.diagnostics
}

struct Checker<'c, 'a> {
    catalog: &'c Catalog,
    /// `ARG`s declared before the first `FROM`: the only ones `FROM` can use.
    global_args: ArgScope<'a>,
    /// Lowercased names of the stages declared so far.
    stages: Vec<String>,
    /// Ranges already handled, so an `ARG` used by several `FROM`s is reported once.
    edited: HashSet<Range<usize>>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Checker<'_, 'a> {
    fn reference(&mut self, token: Token<'a>, site: Site, depth: usize) {
        let text = token.text;
        if text.eq_ignore_ascii_case("scratch") || self.is_stage(text, site) {
            return;
        }
        if !self.edited.insert(token.range()) {
            return;
        }
        if let Some(name) = whole_variable(text) {
            if site == Site::From {
                self.through_arg(token, name, depth);
            }
            return;
        }
        if site == Site::CopySource && text.contains('$') {
            // Stage-scoped variables decide these; they name stages far more often than images.
            return;
        }
        let image = match ImageRef::parse(text) {
            Ok(image) => image,
            Err(error) => {
                self.report(
                    Rule::UnresolvedImage,
                    token,
                    format!("`{text}` is not an image reference hardport can read: {error}"),
                );
                return;
            }
        };
        match image.canonical_repository() {
            Some(repository) => self.rewrite(token, &image, &repository),
            None => self.report_variable_repository(token),
        }
    }

    fn is_stage(&self, text: &str, site: Site) -> bool {
        let lowered = text.to_ascii_lowercase();
        self.stages.contains(&lowered)
            || (site == Site::CopySource && text.bytes().all(|byte| byte.is_ascii_digit()))
    }

    /// `FROM ${NAME}`: follow the global `ARG` to its default and rewrite that.
    fn through_arg(&mut self, token: Token<'a>, name: &str, depth: usize) {
        match self.global_args.get(name) {
            Some(Some(default)) if depth < MAX_ARG_DEPTH => {
                self.reference(default, Site::From, depth + 1);
            }
            Some(Some(_)) => self.report(
                Rule::UnresolvedImage,
                token,
                format!("`{}` goes through more than {MAX_ARG_DEPTH} ARGs; rewrite it by hand", token.text),
            ),
            Some(None) => self.report(
                Rule::UnresolvedImage,
                token,
                format!(
                    "ARG {name} has no default, so hardport cannot tell which image `{}` is; give it a default or pass the image explicitly",
                    token.text
                ),
            ),
            None => self.report(
                Rule::UnresolvedImage,
                token,
                format!(
                    "`{}` uses {name}, which no ARG before the first FROM declares",
                    token.text
                ),
            ),
        }
    }

    /// A reference whose repository contains variables: never edited, but classified so the
    /// reviewer hears only about what matters.
    fn report_variable_repository(&mut self, token: Token<'a>) {
        let text = token.text;
        if self
            .stages
            .iter()
            .any(|stage| could_expand_to(&text.to_ascii_lowercase(), stage))
        {
            return;
        }
        let Some(expanded) = self.global_args.expand(text) else {
            return self.report(
                Rule::UnresolvedImage,
                token,
                format!(
                    "hardport cannot tell which image `{text}` is: its repository uses variables without defaults"
                ),
            );
        };
        if self.is_stage(&expanded, Site::From) {
            return;
        }
        let repository = ImageRef::parse(&expanded)
            .ok()
            .and_then(|image| image.canonical_repository());
        let Some(repository) = repository else {
            return self.report(
                Rule::UnresolvedImage,
                token,
                format!("`{text}` resolves to `{expanded}`, which is not an image reference hardport can read"),
            );
        };
        match self.catalog.lookup(&repository) {
            Some(entry) => self.report(
                Rule::UnresolvedImage,
                token,
                format!(
                    "`{text}` resolves to `{expanded}`, which the catalog maps to {}, but its repository is built from variables; hardport rewrites only a literal repository or a whole ${{ARG}}: rewrite it by hand",
                    entry.replacement
                ),
            ),
            None if self.catalog.lookup_replacement(&repository).is_some() => {}
            None => self.report(
                Rule::UnmappedImage,
                token,
                format!("no catalog entry replaces {repository} (`{text}` resolves to `{expanded}`); it stays as it is"),
            ),
        }
    }

    fn rewrite(&mut self, token: Token<'a>, image: &ImageRef, repository: &str) {
        let Some(entry) = self.catalog.lookup(repository) else {
            if self.catalog.lookup_replacement(repository).is_none() {
                self.report(
                    Rule::UnmappedImage,
                    token,
                    format!(
                        "no catalog entry replaces {repository}; `{}` stays as it is",
                        token.text
                    ),
                );
            }
            return;
        };
        let policy = replacement_tag(image.tag.as_deref());
        if let Some(conflict) = self.tag_variable_conflict(image, &policy.tag) {
            self.report(Rule::UnresolvedImage, token, conflict);
            return;
        }
        let new_text = format!("{}:{}", entry.replacement, policy.tag);
        if !policy.kept_variant.is_empty() {
            self.report(
                Rule::TagVariant,
                token,
                format!(
                    "tag `{}` names the variant `{}`, kept as `{new_text}`: check that the replacement publishes it",
                    image.tag.as_deref().unwrap_or_default(),
                    policy.kept_variant.join("-")
                ),
            );
        }
        if let Some(digest) = &image.digest {
            self.report(
                Rule::DigestDropped,
                token,
                format!(
                    "the digest {digest} pinned the public image and was dropped; pin `{new_text}` by its own digest once you have verified it"
                ),
            );
        }
        self.push_rewrite(token, entry, new_text);
    }

    /// When the tag uses variables with known defaults, the line's new tag must expand to the
    /// same tag the policy gives for the expanded value; otherwise editing this line alone would
    /// build a tag the replacement does not have (e.g. `node:${V}` with `ARG V=20-alpine`).
    fn tag_variable_conflict(&self, image: &ImageRef, new_tag: &str) -> Option<String> {
        let tag = image.tag.as_deref().filter(|tag| tag.contains('$'))?;
        let resolved = self.global_args.expand(tag)?;
        let wanted = replacement_tag(Some(&resolved)).tag;
        if self.global_args.expand(new_tag).as_deref() == Some(wanted.as_str()) {
            return None;
        }
        Some(format!(
            "tag `{tag}` resolves to `{resolved}`, for which the replacement's tag is `{wanted}`; this line cannot express that: change the ARG default to `{wanted}` and run hardport again"
        ))
    }

    fn push_rewrite(&mut self, token: Token<'a>, entry: &Entry, new_text: String) {
        if new_text == token.text {
            return;
        }
        let message = format!(
            "`{}` → `{new_text}` (catalog entry `{}`)",
            token.text, entry.name
        );
        let fix = Fix::single(Edit::replace(token.range(), new_text));
        self.diagnostics.push(Diagnostic::fixed(
            Rule::BaseImage,
            token.range(),
            message,
            fix,
        ));
    }

    fn report(&mut self, rule: Rule, token: Token<'a>, message: String) {
        self.diagnostics
            .push(Diagnostic::report(rule, token.range(), message));
    }
}

#[cfg(test)]
mod tests;
