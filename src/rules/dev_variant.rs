//! `dev-variant` and `runtime-split`: give stages that run commands the image that can.
//!
//! ## What it does
//! A hardened production image has no shell and no package manager; its `-dev` twin has both.
//! A stage that runs `RUN` or `SHELL` — or that another stage builds `FROM` and runs commands
//! in, since they share its filesystem — gets the `-dev` tag (`dev_tag_suffix` in the catalog).
//! A stage that runs nothing keeps the production image.
//!
//! When the final stage needs the `-dev` variant, `runtime-split` warns: the image that ships
//! then has a shell and a package manager, which is what hardening removes.
//!
//! ## Why
//! `RUN apt-get install …` on a shell-less image fails at build time.
//!
//! ## Example
//! ```dockerfile
//! FROM reg.mini.dev/node:20 AS build   →  FROM reg.mini.dev/node:20-dev AS build
//! RUN npm ci
//! ```
//!
//! ## Fix safety
//! Safe: only the tag changes. It acts on references that already name the replacement (the
//! second pass after `base-image`, or a file migrated by hand), so it is idempotent. It
//! reports instead of editing when the catalog entry names no `-dev` variant (`missing-fact`
//! for `dev_tag_suffix`). A digest pinning the production image is replaced by the `-dev`
//! image's digest from `hardport.lock`; when the lock does not hold it, the reference is
//! reported (`unresolved-image`: the `-dev` image needs its own digest) and left alone.

use crate::diagnostic::{Diagnostic, Edit, Fix, ImageRewrite};
use crate::image_ref::ImageRef;
use crate::rules::Rule;
use crate::stages::{Base, StageModel, Variant};

pub fn check(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for stage in &model.stages {
        let wants_dev = model.variant(stage.index) == Variant::Dev;
        match &stage.base {
            Base::Hardened {
                token,
                entry,
                image,
            } if wants_dev => {
                let Some(suffix) = entry.dev_tag_suffix.as_deref() else {
                    diagnostics.extend(missing_suffix(
                        model,
                        stage.index,
                        token.range(),
                        &entry.name,
                    ));
                    continue;
                };
                let tag = image.tag.as_deref().unwrap_or("latest");
                if tag.ends_with(suffix) {
                    continue;
                }
                let dev_tag = format!("{tag}{suffix}");
                let dev_digest = image
                    .canonical_repository()
                    .and_then(|repository| model.catalog.locked_digest(&repository, &dev_tag));
                if image.digest.is_some() && dev_digest.is_none() {
                    diagnostics.push(
                        Diagnostic::report(
                            Rule::UnresolvedImage,
                            token.range(),
                            format!(
                                "`{}` runs commands and needs the {suffix} variant, but a digest pins the production image",
                                token.text
                            ),
                        )
                        .suggest(format!(
                            "pin the {suffix} image's digest instead (`hardport facts resolve` reads it into hardport.lock)"
                        )),
                    );
                    continue;
                }
                let dev = ImageRef {
                    tag: Some(dev_tag),
                    digest: image.digest.as_ref().and(dev_digest.map(str::to_owned)),
                    ..image.clone()
                }
                .to_string();
                let message = format!(
                    "stage {} runs commands, which need a shell: `{}` → `{dev}`",
                    stage_label(model, stage.index),
                    token.text
                );
                let rewrite = ImageRewrite {
                    from: token.text.to_owned(),
                    to: dev.clone(),
                    entry: entry.name.clone(),
                };
                diagnostics.push(
                    Diagnostic::fixed(
                        Rule::DevVariant,
                        token.range(),
                        message,
                        Fix::single(Edit::replace(token.range(), dev)),
                    )
                    .rewrites_image(rewrite),
                );
            }
            Base::Migrating(migration) if wants_dev && migration.entry.dev_tag_suffix.is_none() => {
                diagnostics.extend(missing_suffix(
                    model,
                    stage.index,
                    migration.token.range(),
                    &migration.entry.name,
                ));
            }
            _ => {}
        }
    }
    if let Some(last) = model.final_stage()
        && model.variant(last.index) == Variant::Dev
        && let Some(entry) = model.lineage(last.index).entry()
        && entry.dev_tag_suffix.is_some()
        && let Some(from) = model.file.instructions().get(last.from_index)
        && let Some(range) = model.file.instruction_range(from)
    {
        diagnostics.push(
            Diagnostic::report(
                Rule::RuntimeSplit,
                range,
                format!(
                    "the final stage runs commands, so it ships {}'s -dev variant with a shell and package manager",
                    entry.name
                ),
            )
            .suggest(format!(
                "move those steps into a build stage and COPY the results into a final stage FROM {} (production)",
                entry.replacement
            )),
        );
    }
    diagnostics
}

/// A stage needs a shell, the production image has none (or may not), and the catalog names
/// no `-dev` variant: say which fact is missing.
fn missing_suffix(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    range: std::ops::Range<usize>,
    entry: &str,
) -> Option<Diagnostic> {
    if model.has_shell(index) == Some(true) {
        return None;
    }
    Some(
        Diagnostic::report(
            Rule::MissingFact,
            range,
            format!(
                "stage {} runs commands, but the catalog entry `{entry}` names no variant with a shell",
                stage_label(model, index)
            ),
        )
        .suggest("add `dev_tag_suffix` (or `hardened.shell: true`) to the entry"),
    )
}

/// `build` for a named stage, `#2` for an unnamed one.
pub fn stage_label(model: &StageModel<'_, '_, '_>, index: usize) -> String {
    match model.stages[index].name {
        Some(name) => format!("`{name}`"),
        None => format!("#{index}"),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::run;

    #[test]
    fn a_stage_that_runs_commands_gets_the_dev_variant_and_a_runtime_stage_does_not() {
        let (fixed, messages) = run(
            "FROM node:20-alpine AS build\nRUN npm ci\nFROM node:20-alpine\nCOPY --from=build /app /app\n",
        );
        assert_eq!(
            fixed,
            "FROM reg.example.dev/node:20-dev AS build\nUSER root\nRUN npm ci\nFROM reg.example.dev/node:20\nCOPY --from=build /app /app\n"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("dev-variant: stage `build`")),
            "{messages:?}"
        );
        assert!(
            !messages.iter().any(|m| m.starts_with("runtime-split")),
            "{messages:?}"
        );
    }

    #[test]
    fn a_final_stage_that_runs_commands_gets_dev_and_a_split_warning() {
        let (fixed, messages) = run("FROM node:20\nRUN npm ci\nCMD [\"app.js\"]\n");
        assert!(
            fixed.starts_with("FROM reg.example.dev/node:20-dev\n"),
            "{fixed}"
        );
        assert!(
            messages.iter().any(|m| m.starts_with("runtime-split:")),
            "{messages:?}"
        );
    }

    #[test]
    fn a_parent_stage_gets_dev_when_a_child_runs_commands() {
        let (fixed, _) = run(
            "FROM node:20 AS base\nFROM base AS build\nRUN npm ci\nFROM scratch\nCOPY --from=build /a /a\n",
        );
        assert!(
            fixed.starts_with("FROM reg.example.dev/node:20-dev AS base\n"),
            "{fixed}"
        );
    }

    #[test]
    fn an_arg_default_gets_the_dev_tag_once() {
        let (fixed, _) =
            run("ARG IMG=node:${V}\nARG V=20\nFROM ${IMG} AS a\nRUN x\nFROM ${IMG} AS b\nRUN y\n");
        assert!(
            fixed.starts_with("ARG IMG=reg.example.dev/node:${V}-dev\n"),
            "{fixed}"
        );
    }

    #[test]
    fn already_dev_images_and_second_runs_are_left_alone() {
        let text = "FROM reg.example.dev/node:20-dev\nRUN npm ci\n";
        let (fixed, _) = run(text);
        assert_eq!(fixed, text);
    }

    #[test]
    fn an_entry_without_a_dev_variant_is_a_missing_fact() {
        let (fixed, messages) = run("FROM nginx:1.27\nRUN echo hi\n");
        assert_eq!(
            fixed,
            "FROM reg.example.dev/nginx:1.27\nUSER root\nRUN echo hi\nUSER 1000\n"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("missing-fact:") && m.contains("dev_tag_suffix")),
            "{messages:?}"
        );
    }
}
