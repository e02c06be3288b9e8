//! `exec-probe` for a Dockerfile `HEALTHCHECK`: a program a shell-less replacement most likely
//! lacks.

use super::Context;
use super::outcome::Findings;
use super::program::{copied_in, program_index, program_needs_shell, same_program};
use super::render::json_array;
use super::sites::Plan;
use crate::rules::Rule;

/// Report a HEALTHCHECK whose program is not known to be on a replacement without a shell.
///
/// Known: a program the stage itself runs (its ENTRYPOINT or CMD words, the replacement's
/// entrypoint) and a file the stage chain copies in. Anything else (`curl`, `wget`, `nc`,
/// `pg_isready`) is a warning: production images ship no shell and, as a rule, no tools, and
/// the catalog does not list what an image contains, so absence is likely but not a fact.
pub(super) fn check_tool(
    context: &Context<'_, '_, '_, '_>,
    healthcheck: &Plan<'_, '_>,
    runs: &[Option<&Plan<'_, '_>>],
    findings: &mut Findings,
) {
    if context.shell != Some(false) {
        return;
    }
    // Shell form that stays shell form, and shells or scripts, are `needs-shell` errors already.
    let Some(words) = healthcheck.values() else {
        return;
    };
    if program_needs_shell(&words).is_some() {
        return;
    }
    let Some(program) = program_index(&words).and_then(|index| words.get(index)) else {
        return;
    };
    let hardened = context.entry.hardened.entrypoint.iter().flatten();
    let run_words: Vec<String> = runs.iter().flatten().flat_map(|plan| plan.argv()).collect();
    let known = hardened
        .chain(&run_words)
        .any(|word| same_program(word, program))
        || copied_in(context, program);
    if known {
        return;
    }
    let site = healthcheck.site;
    findings.report(
        site.index,
        Rule::ExecProbe,
        site.range(context.file),
        format!(
            "`HEALTHCHECK CMD {}` runs `{program}`, which `{}` (stage {}) is not known to have: production images have no shell and as a rule no tools such as curl, wget or nc",
            json_array(&words),
            context.image,
            context.label()
        ),
        "copy a health-check program into the stage and run it in exec form, or check health from outside the container (a Kubernetes httpGet or tcpSocket probe)".to_owned(),
    );
}
