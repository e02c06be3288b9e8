//! A stage that sets CMD but no ENTRYPOINT, so the image's entrypoint runs it: on the public
//! image while the base is migrated, on the replacement once it is there (lint mode).

use std::ops::Range;

use parse_dockerfile::Instruction;

use super::Context;
use super::outcome::Findings;
use super::program::{
    is_entrypoint_script, passes_through, program_needs_shell, public_default_program,
    runs_cmd_as_is, runs_default_program, script_runs_default_program, starts_with,
};
use super::render::{arguments_range, json_array};
use super::sites::{Plan, Site, values};
use crate::catalog::ImageSpec;
use crate::diagnostic::Edit;
use crate::dockerfile::Dockerfile;
use crate::rules::{Rule, basename};
use crate::stages::{CommandLine, Migration, View};

/// The public image's entrypoint ran the CMD. Make the replacement run the same command, and
/// keep run-time arguments replacing it:
///
/// * where the replacement's entrypoint runs CMD as it is (empty, `tini --`), CMD alone;
/// * where it is the CMD's own program (Minimus node's `/usr/bin/node` for
///   `CMD ["node", "app.js"]`), that word is dropped: CMD alone again;
/// * otherwise, or when it is unknown, `ENTRYPOINT []` is written before CMD, so the container
///   runs exactly CMD whatever the replacement's entrypoint is.
///
/// Returns whether the CMD runs as the program on the replacement.
pub(super) fn align_cmd(
    context: &Context<'_, '_, '_, '_>,
    migration: &Migration<'_, '_>,
    plan: &mut Plan<'_, '_>,
    findings: &mut Findings,
) -> bool {
    if plan.words.is_none() && context.shell == Some(false) {
        // It cannot run at all; `needs-shell` said so.
        return true;
    }
    let site = plan.site;
    let range = site.range(context.file);
    let public_image = migration.token.text;
    let public = match context
        .model
        .config(context.index, View::Public, None)
        .entrypoint
    {
        Some(CommandLine::Exec(public)) => public,
        Some(CommandLine::Shell(_)) => return false,
        None => {
            findings.report(
                site.index,
                Rule::MissingFact,
                range,
                format!(
                    "CMD relies on the entrypoint of `{public_image}`, which the catalog does not record"
                ),
                context.supply("public.entrypoint"),
            );
            return false;
        }
    };
    let hardened = context.entry.hardened.entrypoint.as_deref();
    if !passes_through(&public) {
        arguments_of_public_program(context, migration, &public, site, range, findings);
        return false;
    }
    let argv = plan.argv();
    if argv.is_empty() {
        // `CMD []`: the entrypoint's own default ran; nothing to carry over.
        return false;
    }
    let public_script = public.last().is_some_and(|last| is_entrypoint_script(last));
    if public_script && script_runs_default_program(&argv) {
        if !runs_default_program(context.entry) {
            report_default_program(context, migration, &public, &argv, site, range, findings);
        }
        return false;
    }
    let intro = match public.as_slice() {
        [] => format!(
            "on `{public_image}` (no entrypoint), the container ran CMD {} as its program",
            json_array(&argv)
        ),
        public => format!(
            "on `{public_image}`, the entrypoint {} ran CMD {} as its program",
            json_array(public),
            json_array(&argv)
        ),
    };
    let reason = match hardened {
        Some(hardened) if runs_cmd_as_is(hardened) => return true,
        Some(hardened) => {
            // Also when CMD names the entrypoint's program again (`CMD ["node", "app.js"]` on
            // Minimus node): dropping it from CMD would run the same argv, but `docker run
            // IMAGE npm run migrate` would then run `node npm …`; `ENTRYPOINT []` keeps both.
            let mut runs = hardened.to_vec();
            runs.extend(argv.iter().cloned());
            format!(
                "`{}` would run {} (its entrypoint {} before CMD)",
                context.image,
                json_array(&runs),
                json_array(hardened)
            )
        }
        None => format!("the entrypoint of `{}` is unknown", context.image),
    };
    if context.shell != Some(true) && program_needs_shell(&argv).is_some() {
        // No entrypoint would make it run: `needs-shell` reports it.
        return true;
    }
    let Some(edit) = empty_entrypoint_before(context.file, site) else {
        findings.report(
            site.index,
            Rule::Entrypoint,
            range,
            format!("{intro}; {reason}"),
            "write `ENTRYPOINT []` before CMD by hand".to_owned(),
        );
        return true;
    };
    findings.edits.push(edit);
    findings.fixed(
        site.index,
        Rule::Entrypoint,
        range.clone(),
        format!(
            "{intro}; {reason}: `ENTRYPOINT []` written before CMD, so the container runs CMD {} as its whole command and `docker run IMAGE ARGS` still replaces it",
            json_array(&argv)
        ),
    );
    if hardened.is_none() {
        findings.report(
            site.index,
            Rule::MissingFact,
            range,
            format!(
                "the entrypoint of `{}` is unknown: `ENTRYPOINT []` makes the container run CMD whatever it is, but also skips any setup that entrypoint does",
                context.image
            ),
            context.supply("hardened.entrypoint"),
        );
    }
    true
}

/// Lint mode: the stage is on the replacement already, so CMD follows the replacement's own
/// entrypoint. A CMD that names that entrypoint's program again runs it twice (`node node
/// server.js` on Minimus node): the duplicate goes. Returns whether CMD runs as the program.
pub(super) fn lint_cmd(
    context: &Context<'_, '_, '_, '_>,
    plan: &mut Plan<'_, '_>,
    findings: &mut Findings,
) -> bool {
    match context.entry.hardened.entrypoint.as_deref() {
        Some(hardened) if runs_cmd_as_is(hardened) => true,
        Some(hardened) => {
            drop_entrypoint_program(context, plan, hardened, findings);
            false
        }
        None => false,
    }
}

/// Lint mode: drop the replacement's entrypoint program from the front of CMD, when CMD
/// starts with it (the file was written for the replacement, whose entrypoint the author
/// meant CMD for). Returns whether it did.
fn drop_entrypoint_program(
    context: &Context<'_, '_, '_, '_>,
    plan: &mut Plan<'_, '_>,
    hardened: &[String],
    findings: &mut Findings,
) -> bool {
    let argv = plan.argv();
    let Some(words) = plan.words.as_mut().filter(|_| starts_with(&argv, hardened)) else {
        return false;
    };
    let kept = words.split_off(hardened.len().min(words.len()));
    *words = kept;
    let mut twice = hardened.to_vec();
    twice.extend(argv.iter().cloned());
    let site = plan.site;
    findings.fixed(
        site.index,
        Rule::Entrypoint,
        site.range(context.file),
        format!(
            "`{}` runs {} as its entrypoint, so CMD {} would run it twice ({}): dropped, CMD {}",
            context.image,
            json_array(hardened),
            json_array(&argv),
            json_array(&twice),
            json_array(&values(words))
        ),
    );
    true
}

/// The public entrypoint is a program that took CMD as its arguments: fine when the
/// replacement's is the same, reported otherwise.
fn arguments_of_public_program(
    context: &Context<'_, '_, '_, '_>,
    migration: &Migration<'_, '_>,
    public: &[String],
    site: Site<'_, '_>,
    range: Range<usize>,
    findings: &mut Findings,
) {
    let public_image = migration.token.text;
    match context.entry.hardened.entrypoint.as_deref() {
        Some(hardened) if hardened == public => {}
        Some(hardened) => findings.report(
            site.index,
            Rule::Entrypoint,
            range,
            format!(
                "CMD gave arguments to the entrypoint {} of `{public_image}`; `{}` runs {} instead",
                json_array(public),
                context.image,
                json_array(hardened)
            ),
            "check that the CMD still fits, or set ENTRYPOINT explicitly".to_owned(),
        ),
        None => findings.report(
            site.index,
            Rule::MissingFact,
            range,
            format!(
                "CMD gives arguments to the entrypoint {} of `{public_image}`, and the entrypoint of `{}` is unknown",
                json_array(public),
                context.image,
            ),
            context.supply("hardened.entrypoint"),
        ),
    }
}

/// The public entrypoint script ran CMD (an option first, or a script file) with the image's
/// default program (`docker-entrypoint.sh --flag` → `node --flag`), and the replacement's
/// entrypoint is not known to be that program: say so; hardport does not guess the program.
fn report_default_program(
    context: &Context<'_, '_, '_, '_>,
    migration: &Migration<'_, '_>,
    public: &[String],
    argv: &[String],
    site: Site<'_, '_>,
    range: Range<usize>,
    findings: &mut Findings,
) {
    let program = match public_default_program(migration.entry) {
        Some(default) => format!("`{default}`"),
        None => "its default program".to_owned(),
    };
    let runs = match context.entry.hardened.entrypoint.as_deref() {
        Some(hardened) => format!("runs {} before CMD", json_array(hardened)),
        None => "has an unknown entrypoint".to_owned(),
    };
    let what = match argv.first() {
        Some(first) if first.starts_with('-') => "starts with an option",
        _ => "starts with a script file",
    };
    findings.report(
        site.index,
        Rule::Entrypoint,
        range,
        format!(
            "CMD {} {what}: on `{}`, the entrypoint {} ran it as arguments of {program}; `{}` {runs}",
            json_array(argv),
            migration.token.text,
            json_array(public),
            context.image
        ),
        "name the program: `ENTRYPOINT []` and the whole command in CMD".to_owned(),
    );
}

/// The stage runs the image's own default command. Minimus matches public defaults where it can;
/// where both are known and differ (public node runs `node`, Minimus node `node --help`), say so:
/// the container will not do what it did.
pub(super) fn report_default_command(
    context: &Context<'_, '_, '_, '_>,
    migration: &Migration<'_, '_>,
    findings: &mut Findings,
) {
    let spec_argv = |spec: &ImageSpec| {
        let mut argv = spec.entrypoint.clone()?;
        argv.extend(spec.cmd.clone()?);
        Some(argv)
    };
    let Some(from) = context
        .file
        .instructions()
        .get(context.model.stages[context.index].from_index)
        .and_then(|from| context.file.instruction_range(from))
    else {
        return;
    };
    let Some(public) = spec_argv(&migration.entry.public) else {
        return;
    };
    let Some(hardened) = spec_argv(&context.entry.hardened) else {
        // What the container starts with on the replacement is a fact hardport does not have:
        // that matters for the image that ships (the final stage), and wherever the public
        // default went through an entrypoint script the replacement lacks.
        let runs_unknown = context.model.is_final(context.index)
            || public.iter().any(|word| is_entrypoint_script(word));
        if runs_unknown {
            findings.report(
                context.index,
                Rule::MissingFact,
                from,
                format!(
                    "stage {} sets no ENTRYPOINT or CMD, so it runs the image's default: {} on `{}`, and an unknown command on `{}`",
                    context.label(),
                    json_array(&public),
                    migration.token.text,
                    context.image
                ),
                format!(
                    "add `hardened.entrypoint` and `hardened.cmd` to the catalog entry `{}` (or supply an OCI image config), or set CMD explicitly",
                    context.entry.name
                ),
            );
        }
        return;
    };
    let program = |argv: &[String]| -> Vec<String> {
        let mut words: Vec<String> = argv
            .iter()
            .skip_while(|word| is_entrypoint_script(word))
            .cloned()
            .collect();
        if let Some(first) = words.first_mut() {
            *first = basename(first).to_owned();
        }
        words
    };
    if program(&public) == program(&hardened) {
        return;
    }
    findings.report(
        context.index,
        Rule::Entrypoint,
        from,
        format!(
            "stage {} sets no ENTRYPOINT or CMD, so it runs the image's default: {} on `{}`, but {} on `{}`",
            context.label(),
            json_array(&public),
            migration.token.text,
            json_array(&hardened),
            context.image
        ),
        "set CMD explicitly if the container should keep doing what it did".to_owned(),
    );
}

/// `ENTRYPOINT []` on a line of its own before the CMD at `site`.
///
/// Written over the CMD keyword rather than inserted before its line, so another rule's
/// insertion at that line (a `USER` restored before CMD) cannot block it: a blocked edit would
/// be lost, since the next pass sees the stage on the replacement already.
fn empty_entrypoint_before(file: &Dockerfile<'_>, site: Site<'_, '_>) -> Option<Edit> {
    let Instruction::Cmd(cmd) = site.instruction else {
        return None;
    };
    arguments_range(file, site.command)?;
    let keyword = file.range(&cmd.cmd.span);
    let (line_start, indent) = file.line_before(site.instruction)?;
    let original = file.text().get(line_start..keyword.end)?;
    Some(Edit::replace(
        line_start..keyword.end,
        format!(
            "{indent}{} []{}{original}",
            file.keyword("ENTRYPOINT"),
            file.line_break()
        ),
    ))
}
