//! `onbuild` (documented in the parent module's header).

use parse_dockerfile::Instruction;

use super::body;
use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::dev_variant::stage_label;
use crate::stages::StageModel;

pub(super) fn onbuild_triggers(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (_, instruction) in body(model, index) {
        let Instruction::Onbuild(onbuild) = instruction else {
            continue;
        };
        let Some(range) = model.file.instruction_range(instruction) else {
            continue;
        };
        let trigger = crate::dockerfile::instruction_keyword(&onbuild.instruction);
        // Why it matters for this trigger, when there is more to say than "it runs later".
        let (why, advice) = match (&*onbuild.instruction, model.has_shell(index)) {
            (Instruction::Run(_), Some(false)) => (
                format!(
                    ": a RUN trigger needs a shell, and this stage ships {}'s production image, which has none, so those builds fail",
                    entry.replacement
                ),
                "build them FROM the -dev variant or move the step into their Dockerfiles"
                    .to_owned(),
            ),
            (Instruction::Run(_), None) => (
                format!(
                    ": a RUN trigger needs a shell, and the catalog entry `{}` does not say whether the replacement has one (`hardened.shell`)",
                    entry.name
                ),
                "check it there".to_owned(),
            ),
            (Instruction::Run(_), Some(true)) => (
                String::new(),
                format!(
                    "check that the command works on {}'s -dev variant (its package manager and user differ from the public image's)",
                    entry.replacement
                ),
            ),
            _ => (
                String::new(),
                format!(
                    "check that it still works on {} (its user, working directory and paths may differ from the public image's)",
                    entry.replacement
                ),
            ),
        };
        diagnostics.push(
            Diagnostic::report(
                Rule::Onbuild,
                range,
                format!(
                    "ONBUILD {trigger} in stage {} runs later, in every image built FROM this one, which now starts from {}{why}",
                    stage_label(model, index),
                    entry.replacement
                ),
            )
            .suggest(advice),
        );
    }
    diagnostics
}
