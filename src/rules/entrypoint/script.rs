//! An ENTRYPOINT that calls the public image's entrypoint script (`docker-entrypoint.sh`), which
//! the replacement lacks or cannot run.

use super::Context;
use super::outcome::Findings;
use super::program::{
    copied_in, is_entrypoint_script, program_index, public_default_program, runs_default_program,
    same_program, script_runs_default_program,
};
use super::render::json_array;
use super::sites::{Plan, Word, values};
use crate::rules::Rule;

/// Drop the public script from the ENTRYPOINT where the replacement cannot run it, so the
/// container runs what the script ran:
///
/// * a program named after the script stays (`["docker-entrypoint.sh", "postgres"]` →
///   `["postgres"]`);
/// * a script last runs its arguments, CMD: it goes, and an ENTRYPOINT of nothing else becomes
///   `ENTRYPOINT []`, so CMD is again the whole command and `docker run IMAGE ARGS` still
///   replaces it, whatever the replacement's own entrypoint is;
/// * where the script ran the image's default program instead (no CMD, or CMD starting with an
///   option or a script file), that program takes its place, when the replacement's entrypoint
///   is known to be it; otherwise it is reported.
///
/// `cmd` is the CMD the ENTRYPOINT runs with, as this pass writes it.
pub(super) fn drop_public_script(
    context: &Context<'_, '_, '_, '_>,
    plan: &mut Plan<'_, '_>,
    cmd: Option<&Plan<'_, '_>>,
    findings: &mut Findings,
) {
    let Some(words) = plan.words.as_ref() else {
        return;
    };
    let Some(index) = program_index(&values(words)) else {
        return;
    };
    let Some(script) = words.get(index).map(|word| word.value.clone()) else {
        return;
    };
    let public = context.entry.public.entrypoint.as_deref().unwrap_or(&[]);
    let is_public = public
        .iter()
        .any(|element| is_entrypoint_script(element) && same_program(element, &script));
    if !is_public || copied_in(context, &script) {
        return;
    }
    let site = plan.site;
    let range = site.range(context.file);
    let public_image = context.public_image();
    let hardened = context.entry.hardened.entrypoint.as_deref();
    let why = match (context.shell, hardened) {
        (Some(false), _) => format!("`{}` has no shell to run it", context.image),
        (_, Some(hardened)) if !hardened.iter().any(|e| same_program(e, &script)) => format!(
            "`{}` runs {} as its entrypoint instead",
            context.image,
            json_array(hardened)
        ),
        (_, Some(_)) => return,
        (_, None) => {
            findings.report(
                site.index,
                Rule::MissingFact,
                range,
                format!(
                    "ENTRYPOINT calls `{script}`, the entrypoint script of {public_image}; whether `{}` has it is unknown",
                    context.image,
                ),
                context.supply("hardened.entrypoint"),
            );
            return;
        }
    };
    let mut kept = words.clone();
    let runs_cmd = index + 1 == words.len();
    // Init wrappers written as the public image has them (fluentd's `tini --` before its
    // script) are the public image's too: the replacement is not known to have them either.
    let first = match public.len() == index + 1
        && words
            .iter()
            .zip(public)
            .all(|(word, public)| same_program(&word.value, public))
    {
        true => 0,
        false => index,
    };
    let argv = cmd.map(Plan::argv).unwrap_or_default();
    let message = if !runs_cmd {
        kept.remove(index);
        format!(
            "`{script}` is the entrypoint script of {public_image}, and {why}: dropped, ENTRYPOINT {}",
            json_array(&values(&kept))
        )
    } else if !script_runs_default_program(&argv) {
        kept.drain(first..=index);
        format!(
            "`{script}` is the entrypoint script of {public_image}, and {why}: dropped, ENTRYPOINT {}, so the container runs CMD {} as the script did, and `docker run IMAGE ARGS` still replaces the whole command",
            json_array(&values(&kept)),
            json_array(&argv)
        )
    } else {
        let Some(program) = default_program(context) else {
            report_default_program(context, plan, &script, &argv, &why, findings);
            return;
        };
        kept.splice(
            first..=index,
            program.iter().map(|value| Word {
                value: value.clone(),
                element: None,
            }),
        );
        format!(
            "`{script}` is the entrypoint script of {public_image}, and {why}; it ran CMD {} with the image's default program, which is `{}`'s entrypoint {}: ENTRYPOINT {}",
            json_array(&argv),
            context.image,
            json_array(program),
            json_array(&values(&kept))
        )
    };
    findings.fixed(site.index, Rule::Entrypoint, range, message);
    plan.words = Some(kept);
}

/// The replacement's entrypoint, when it is the program the public script defaults to.
fn default_program<'c>(context: &Context<'_, '_, '_, 'c>) -> Option<&'c [String]> {
    runs_default_program(context.entry)
        .then_some(context.entry.hardened.entrypoint.as_deref())
        .flatten()
}

/// The script ran the image's default program, and the replacement's entrypoint is not known
/// to be it: say so rather than guess the program's path on the replacement.
fn report_default_program(
    context: &Context<'_, '_, '_, '_>,
    plan: &Plan<'_, '_>,
    script: &str,
    argv: &[String],
    why: &str,
    findings: &mut Findings,
) {
    let site = plan.site;
    let range = site.range(context.file);
    let default = match public_default_program(context.entry) {
        Some(default) => format!("`{default}`"),
        None => "the image's default program".to_owned(),
    };
    let ran = match argv {
        [] => format!("ran {default}"),
        argv => format!("ran CMD {} as arguments of {default}", json_array(argv)),
    };
    let message = format!(
        "ENTRYPOINT runs `{script}`, the entrypoint script of {}, which {ran}; {why}",
        context.public_image()
    );
    match context.entry.hardened.entrypoint {
        Some(_) => findings.report(
            site.index,
            Rule::Entrypoint,
            range,
            message,
            "name the program in ENTRYPOINT (or `ENTRYPOINT []` and the whole command in CMD)"
                .to_owned(),
        ),
        None => findings.report(
            site.index,
            Rule::MissingFact,
            range,
            format!(
                "{message}, and whether `{}`'s entrypoint is that program is unknown",
                context.image
            ),
            context.supply("hardened.entrypoint"),
        ),
    }
}
