//! `unmapped-image`, `digest-dropped`, `tag-variant` and `unresolved-image` for an image
//! reference written whole in one YAML value: a Compose service's `image`, a Kubernetes
//! container's `image`, a workflow's job container or service.
//!
//! ## What it does
//! The reference is resolved against the catalog like a Dockerfile's `FROM`: a mapped public
//! image is rewritten to `replacement:tag` by the tag policy (distro suffixes dropped, the
//! entry's fixed tag when it has one), by the rule of the file's kind (`compose-image`,
//! `manifest-image`, `workflow-image`). Where the container runs commands through a shell (a
//! workflow's job container, a service whose health command Docker runs with `/bin/sh`), it
//! gets the replacement's `-dev` variant, which has one; an image already on the production
//! replacement is moved to `-dev` there too.
//!
//! ## What it reports
//! - `unmapped-image` (info): the catalog has no replacement; the reference stays.
//! - `digest-dropped` (warning): a digest pinned the public image; it names nothing in the
//!   replacement's repository, so it was dropped with the rewrite.
//! - `tag-variant` (warning): the tag names a variant (`-fpm`, `-perl`) that the policy keeps
//!   and the replacement may not publish.
//! - `unresolved-image` (warning): a reference hardport cannot read or rewrite safely — built
//!   from variables (`postgres:${POSTGRES_TAG}`, `${{ matrix.image }}`), which Compose fills in
//!   from the environment or `.env` and GitHub from the workflow's matrix, or a value that is
//!   not a plain string (an alias, a block scalar).
//!
//! ## Why
//! Each of these is a reference that the migrated file still pulls from a public registry, or
//! one whose replacement may not exist: a reviewer needs the list, and `--check` fails on the
//! warnings until someone has looked.
//!
//! ## Example
//! ```text
//! compose.yaml:14: info[compose-image]: `services.db.image`: `postgres:16-alpine` →
//!   `reg.mini.dev/postgres:16` (catalog entry `postgres`)
//! compose.yaml:20: warning[unresolved-image]: `services.cache.image`: `redis:${REDIS_TAG}`
//!   uses variables, which are filled in where the file is used; hardport rewrites literal
//!   references only
//! ```
//!
//! ## Fix safety
//! Safe: the value's bytes are replaced inside its own quotes, nothing else of the file
//! changes, and an anchored value is edited once, at its anchor. After the rewrite the value
//! is the replacement, which resolves as hardened, so a second run changes nothing.

use std::ops::Range;

use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Fix, ImageRewrite};
use crate::helm::{Mapped, Resolution, resolve_reference};
use crate::image_ref::ImageRef;
use crate::rules::{Context, Pin, Rule, pin_digest};
use crate::yaml::{NewValue, Node, Stream};

/// Which variant of the replacement the container needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// It runs the image's own program: the production replacement.
    Production,
    /// It runs commands through a shell, for the reason given (said in the message): the
    /// `-dev` variant, unless the production image has a shell.
    Shell(&'static str),
}

/// An image reference written whole in one YAML value.
pub(crate) struct Site<'d> {
    /// The value.
    pub(crate) node: &'d Node,
    /// Where it is, as messages name it (`services.db.image`).
    pub(crate) label: String,
    /// What a message points at: the key, or the value where there is none.
    pub(crate) range: Range<usize>,
}

/// What one reference became.
pub(crate) struct Outcome<'c> {
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The replacement the container runs after the migration, when it runs one: the image was
    /// mapped and rewritten, or already was the replacement.
    pub(crate) runs: Option<Runs<'c>>,
}

/// A replacement a container runs after the migration, and what is known of that image.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Runs<'c> {
    pub(crate) entry: &'c Entry,
    /// Whether the image has a shell: its `-dev` variant has; otherwise the catalog says
    /// (`hardened.shell`), or does not.
    pub(crate) shell: Option<bool>,
    /// The container ran the public image until this rewrite: what it starts was written for
    /// the public image's entrypoint. False for one already on its replacement, whose author
    /// wrote it for the replacement.
    pub(crate) from_public: bool,
}

impl<'c> Runs<'c> {
    /// The replacement of `entry` with the tag `tag`.
    fn new(entry: &'c Entry, tag: &str, from_public: bool) -> Self {
        let is_dev = entry
            .dev_tag_suffix
            .as_deref()
            .is_some_and(|suffix| tag.ends_with(suffix));
        Runs {
            entry,
            shell: if is_dev {
                Some(true)
            } else {
                entry.hardened.shell
            },
            from_public,
        }
    }
}

/// Resolve the reference at `site` and rewrite it to its replacement (reported as `rule`).
pub(crate) fn rewrite<'c>(
    stream: &Stream<'_>,
    site: &Site<'_>,
    rule: Rule,
    needs: Needs,
    context: Context<'c>,
) -> Outcome<'c> {
    let mut outcome = Outcome {
        diagnostics: Vec::new(),
        runs: None,
    };
    let Some(text) = site.node.value().filter(|text| !text.is_empty()) else {
        if site.node.as_scalar().is_none() {
            outcome.diagnostics.push(unresolved(
                site,
                "is not a plain string (an alias or a collection); hardport rewrites literal references only",
            ));
        }
        return outcome;
    };
    if text.contains('$') {
        outcome.diagnostics.push(unresolved(
            site,
            &format!("`{text}` uses variables, which are filled in where the file is used; hardport rewrites literal references only"),
        ));
        return outcome;
    }
    match resolve_reference(text, context.catalog, true) {
        Resolution::Migrating(mapped) => {
            let entry = mapped.entry;
            let tag = mapped.written_tag();
            let Some(tag) = variant_tag(&tag, entry, needs, site, &mut outcome.diagnostics) else {
                return outcome;
            };
            let new_reference = format!("{}:{tag}", entry.replacement);
            outcome
                .diagnostics
                .extend(tag_variant(site.range.clone(), &site.label, &mapped));
            if let Some(digest) = &mapped.image.digest {
                outcome.diagnostics.push(
                    Diagnostic::report(
                        Rule::DigestDropped,
                        site.range.clone(),
                        format!(
                            "`{}`: the digest {digest} pinned the public image and was dropped",
                            site.label
                        ),
                    )
                    .suggest(format!(
                        "pin `{new_reference}` by its own digest once you have verified it"
                    )),
                );
            }
            let from = mapped.image.to_string();
            outcome.diagnostics.push(rewrite_to(
                stream,
                site,
                (rule, needs),
                entry,
                (&from, &new_reference),
            ));
            outcome.runs = Some(Runs::new(entry, &tag, true));
        }
        Resolution::Hardened { entry, image } => {
            let (diagnostics, tag) = settle(stream, site, (rule, needs), context, entry, &image);
            outcome.diagnostics.extend(diagnostics);
            outcome.runs = Some(Runs::new(entry, &tag, false));
        }
        Resolution::Unmapped { repository } => {
            outcome
                .diagnostics
                .push(unmapped(site.range.clone(), &site.label, repository))
        }
        Resolution::Unresolved(reason) => {
            outcome.diagnostics.push(unresolved(site, &reason));
        }
        Resolution::Inherited(_) | Resolution::Empty | Resolution::InSubchart => {}
    }
    outcome
}

/// The tag the container gets: `tag` itself, or for a container that needs a shell the `-dev`
/// variant of it. `None` (and a `missing-fact` in `outcome`) when a shell is needed, the
/// production image may lack one and the catalog names no `-dev` variant: the reference is
/// then left as it is rather than moved to an image that cannot run the container.
fn variant_tag(
    tag: &str,
    entry: &Entry,
    needs: Needs,
    site: &Site<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<String> {
    let Needs::Shell(why) = needs else {
        return Some(tag.to_owned());
    };
    if entry.hardened.shell == Some(true) {
        return Some(tag.to_owned());
    }
    let Some(suffix) = entry.dev_tag_suffix.as_deref() else {
        diagnostics.push(
            Diagnostic::report(
                Rule::MissingFact,
                site.range.clone(),
                format!(
                    "`{}` needs a shell ({why}), but the catalog entry `{}` names no variant of {} with one; left as it is",
                    site.label, entry.name, entry.replacement
                ),
            )
            .suggest("add `dev_tag_suffix` (or `hardened.shell: true`) to the entry"),
        );
        return None;
    };
    Some(match tag.ends_with(suffix) {
        true => tag.to_owned(),
        false => format!("{tag}{suffix}"),
    })
}

/// What an image already on its replacement still needs: the `-dev` tag where the container
/// needs a shell, else (under `--pin`) a digest. An image pinned by a digest is left alone: its
/// `-dev` variant is another digest, which only `hardport facts resolve` can read. Returns the
/// tag the container runs after it.
fn settle(
    stream: &Stream<'_>,
    site: &Site<'_>,
    (rule, needs): (Rule, Needs),
    context: Context<'_>,
    entry: &Entry,
    image: &ImageRef,
) -> (Vec<Diagnostic>, String) {
    let mut diagnostics = Vec::new();
    let tag = image.tag.as_deref().unwrap_or("latest");
    if image.digest.is_some() {
        return (diagnostics, tag.to_owned());
    }
    let Some(wanted) = variant_tag(tag, entry, needs, site, &mut diagnostics) else {
        return (diagnostics, tag.to_owned());
    };
    if wanted != tag {
        let new_reference = format!("{}:{wanted}", entry.replacement);
        diagnostics.push(rewrite_to(
            stream,
            site,
            (rule, needs),
            entry,
            (&image.to_string(), &new_reference),
        ));
    } else if context.pin == Pin::FromLock && image.tag.is_some() {
        diagnostics.extend(pin_digest::check_reference(
            stream,
            site.node,
            &site.label,
            site.range.clone(),
            entry,
            context.catalog,
        ));
    }
    (diagnostics, wanted)
}

/// Why the `-dev` variant was chosen, for the rewrite's message.
fn why_dev(needs: Needs, entry: &Entry) -> String {
    match (needs, entry.hardened.shell) {
        (Needs::Shell(_), Some(true)) | (Needs::Production, _) => String::new(),
        (Needs::Shell(why), _) => format!("; the -dev variant, because {why}"),
    }
}

/// The diagnostic that writes `to`, a reference to `entry`'s replacement, into the site's
/// value in place of `from`, or says why it cannot.
fn rewrite_to(
    stream: &Stream<'_>,
    site: &Site<'_>,
    (rule, needs): (Rule, Needs),
    entry: &Entry,
    (from, to): (&str, &str),
) -> Diagnostic {
    let message = format!(
        "`{}`: `{from}` → `{to}` (catalog entry `{}`){}",
        site.label,
        entry.name,
        why_dev(needs, entry)
    );
    match stream.replace_scalar(site.node, &NewValue::string(to)) {
        Ok(edit) => Diagnostic::fixed(rule, site.range.clone(), message, Fix::single(edit))
            .rewrites_image(ImageRewrite {
                from: from.to_owned(),
                to: to.to_owned(),
                entry: entry.name.clone(),
            }),
        Err(error) => Diagnostic::report(
            Rule::UnresolvedImage,
            site.range.clone(),
            format!(
                "`{}` maps to `{to}`, but cannot be edited in place ({error})",
                site.label
            ),
        )
        .suggest("rewrite it by hand"),
    }
}

fn unresolved(site: &Site<'_>, reason: &str) -> Diagnostic {
    unresolved_at(site.range.clone(), &site.label, reason)
}

/// `unresolved-image`: the reference at `label` cannot be rewritten, for `reason`.
pub(crate) fn unresolved_at(range: Range<usize>, label: &str, reason: &str) -> Diagnostic {
    Diagnostic::report(Rule::UnresolvedImage, range, format!("`{label}`: {reason}"))
}

/// `unmapped-image`: no catalog entry replaces `repository`.
pub(crate) fn unmapped(range: Range<usize>, label: &str, repository: String) -> Diagnostic {
    Diagnostic::report(
        Rule::UnmappedImage,
        range,
        format!("no catalog entry replaces {repository}; `{label}` stays as it is"),
    )
    .unmapped(repository)
}

/// `tag-variant`, when the tag policy kept a variant of the public tag.
pub(crate) fn tag_variant(
    range: Range<usize>,
    label: &str,
    mapped: &Mapped<'_>,
) -> Option<Diagnostic> {
    let kept = mapped
        .tag
        .as_ref()
        .filter(|tag| !tag.kept_variant.is_empty())?;
    Some(
        Diagnostic::report(
            Rule::TagVariant,
            range,
            format!(
                "`{label}`: tag `{}` names the variant `{}`, kept as `{}`",
                mapped.image.tag.as_deref().unwrap_or_default(),
                kept.kept_variant.join("-"),
                kept.tag
            ),
        )
        .suggest("check that the replacement publishes it"),
    )
}
