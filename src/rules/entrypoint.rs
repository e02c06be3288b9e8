//! `entrypoint`, `exec-form` and `needs-shell`: make a runnable stage run the same command on
//! the replacement, or say why it cannot. Also `exec-probe` for a HEALTHCHECK.
//!
//! ## What it does
//! For every stage a container can be run from (the final stage or a `--target` leaf), it looks
//! at the ENTRYPOINT, CMD and HEALTHCHECK that stage ends up with (its own or inherited from the
//! stages it is built `FROM`). It judges a stage by the argv its container starts, and keeps the
//! image's command contract: what `docker run IMAGE ARGS`, a Compose `command:` or a Kubernetes
//! `args:` replace (CMD) stays what it was.
//!
//! * `exec-form`: on a replacement without a shell, a shell-form command (`CMD node server.js`,
//!   which Docker runs as `/bin/sh -c "node server.js"`) is written in exec form
//!   (`CMD ["node", "server.js"]`) when its words split exactly: no `$`, globs, `|`, `&&`, `;`,
//!   redirects, subshells, backslashes, backticks or line continuations. Quoted strings are fine
//!   and lose their quotes (`nginx -g 'daemon off;'` → `["nginx", "-g", "daemon off;"]`); a
//!   leading `exec` is dropped, since exec form already replaces the process.
//! * `entrypoint`: the public images' entrypoint scripts (`docker-entrypoint.sh`,
//!   `docker-php-entrypoint`, …: every script a catalog entry's `public.entrypoint` names) do
//!   setup and then run their arguments, CMD. The replacement has no such script, and its own
//!   entrypoint may differ (Minimus node runs `/usr/bin/node`), so:
//!   * an ENTRYPOINT that calls the public script drops it. A program after it stays
//!     (`["docker-entrypoint.sh", "postgres"]` → `["postgres"]`); a script that ran CMD goes,
//!     and an ENTRYPOINT of nothing else becomes `ENTRYPOINT []`:
//!     `ENTRYPOINT ["docker-entrypoint.sh"]` + `CMD ["node", "dist/server.js"]` →
//!     `ENTRYPOINT []` + the same CMD (init wrappers written as the public image has them,
//!     fluentd's `tini --`, go with its script: the replacement is not known to have them
//!     either). Where the script ran the image's default program
//!     instead (no CMD, or a CMD starting with an option or a script file: `CMD ["app.js"]`
//!     ran `node app.js`), the replacement's entrypoint takes its place when the catalog says
//!     it is that program; otherwise it is reported.
//!   * a CMD without ENTRYPOINT was run by the public image's entrypoint. Where the
//!     replacement's entrypoint runs it as it is (empty, `tini --`) nothing changes; otherwise,
//!     or when it is unknown, `ENTRYPOINT []` is written before the CMD (`CMD ["npm", "start"]`
//!     and `CMD ["node", "app.js"]` on Minimus node, whose entrypoint `/usr/bin/node` would
//!     run `node node app.js`; `CMD ["uwsgi", …]` on python), with a `missing-fact` when the
//!     replacement's entrypoint is unknown. Dropping `node` from CMD would start the same
//!     argv but change the contract: `docker run IMAGE npm run migrate` would run
//!     `node npm …`.
//!   * lint mode: a stage already on the replacement (hand-migrated, or migrated by an earlier
//!     run) is judged by the replacement's own spec: a CMD that starts with the program the
//!     replacement's entrypoint already runs (`CMD ["node", "server.js"]` on
//!     `reg.mini.dev/node`, which runs `node node server.js`) loses it, and an ENTRYPOINT that
//!     calls the public image's script is handled as above.
//! * `needs-shell` (error, no edit): a command that cannot run without a shell on a replacement
//!   that has none: shell form that does not split exactly, exec form that runs `sh`/`bash`, or a
//!   `.sh` script (for instance an entrypoint script the Dockerfile copies in).
//! * `exec-probe` (warning, no edit): a HEALTHCHECK, on a replacement without a shell, whose
//!   program the stage is not known to have: not a program its ENTRYPOINT, CMD or the
//!   replacement's entrypoint runs, nor a file the stage copies in (`curl`, `wget`, `nc`).
//! * `missing-fact`: a fact the decision needs is not in the catalog: `hardened.shell` when a
//!   command needs a shell, `public.entrypoint` when a CMD relies on the public entrypoint,
//!   `hardened.entrypoint` when it decides whether a script or program is still there, or
//!   when `ENTRYPOINT []` now bypasses an entrypoint whose setup is unknown.
//!
//! A Dockerfile that sets neither ENTRYPOINT nor CMD runs the image's own default on both
//! images; that is left alone, and reported where the catalog shows the defaults differ; where
//! the public default went through an entrypoint script and the replacement's default is
//! unknown, a `missing-fact` says so (the script is gone; what starts instead is not known).
//!
//! ## Why
//! Swapping FROM alone breaks the container: `docker-entrypoint.sh` does not exist on the
//! replacement, a shell-form CMD needs `/bin/sh`, and on Minimus node `CMD ["node", "app.js"]`
//! runs `node node app.js` ("Cannot find module '/app/node'"). `ENTRYPOINT []` rather than
//! naming the program in ENTRYPOINT: with a public script the contract was "run-time arguments
//! are the whole command"; `ENTRYPOINT ["uwsgi"]` + `CMD [...]` would make `docker run IMAGE
//! manage.py migrate` run under uwsgi, while `ENTRYPOINT []` keeps it, and it means the same
//! whatever the replacement's entrypoint is, so it is also the edit when that is unknown. A
//! production image has no curl or wget, so a HEALTHCHECK that calls one marks a healthy
//! container unhealthy.
//!
//! ## Example
//! ```dockerfile
//! FROM node:20                          FROM reg.mini.dev/node:20
//! ENTRYPOINT ["docker-entrypoint.sh"] → ENTRYPOINT []
//! CMD ["node", "dist/server.js"]        CMD ["node", "dist/server.js"]
//!
//! FROM node:20                          FROM reg.mini.dev/node:20
//! CMD node server.js                  → ENTRYPOINT []
//!                                       CMD ["node", "server.js"]
//! ```
//!
//! ## Fix safety
//! Safe where it edits: exec form runs the same words `sh -c` would have run when they split
//! exactly, and every entrypoint edit leaves the container running the same argv, minus the
//! public script (whose setup `entrypoint-feature` reports). A script the Dockerfile copies in
//! is never dropped (it is the author's setup), only reported. All edits of one stage are one
//! fix, applied together or not at all. The edits leave nothing lint mode acts on (no public
//! script, no doubled program, exec form), so a second run changes nothing.
//!
//! Limits: where the replacement's entrypoint is the CMD's own program (Minimus node), CMD
//! alone is kept, so run-time arguments go to that program; the public script also did that for
//! arguments that are not a command, but `docker run IMAGE npm test` now runs `node npm test`.
//! A shell-form ENTRYPOINT that calls the public script on a stage that keeps a shell is not
//! rewritten. `ENTRYPOINT []` skips whatever setup the replacement's own entrypoint does; when
//! that entrypoint is unknown, a `missing-fact` says so.

mod cmd;
mod healthcheck;
mod outcome;
pub(crate) mod program;
mod render;
mod script;
mod shell_form;
mod sites;

use std::collections::HashSet;

use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::dockerfile::Dockerfile;
use crate::image_ref::ImageRef;
use crate::rules::dev_variant::stage_label;
use crate::stages::{Base, Lineage, Migration, StageModel};

use outcome::Findings;
use program::check_program;
use sites::{Plan, effective};

pub fn check(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut emitted = HashSet::new();
    for stage in &model.stages {
        if !model.is_runnable(stage.index) {
            continue;
        }
        let Some(context) = Context::new(model, stage.index) else {
            continue;
        };
        let mut findings = Findings::default();
        check_stage(&context, &mut findings);
        diagnostics.extend(findings.into_diagnostics(&mut emitted));
    }
    diagnostics
}

/// What the rules know about one runnable stage.
struct Context<'m, 'f, 'a, 'c> {
    model: &'m StageModel<'f, 'a, 'c>,
    file: &'f Dockerfile<'a>,
    index: usize,
    entry: &'c Entry,
    /// The migration of the stage's root image, while this run migrates it.
    migration: Option<&'m Migration<'a, 'c>>,
    /// The stage and the stages it is built `FROM`, root first.
    chain: Vec<usize>,
    /// Whether the stage has `/bin/sh` on the replacement.
    shell: Option<bool>,
    /// The replacement image as it will be written, and its `-dev` twin.
    image: String,
    dev_image: Option<String>,
}

impl<'m, 'f, 'a, 'c> Context<'m, 'f, 'a, 'c> {
    fn new(model: &'m StageModel<'f, 'a, 'c>, index: usize) -> Option<Self> {
        let (entry, migration) = match model.lineage(index) {
            Lineage::Migrating(migration) => (migration.entry, Some(migration)),
            Lineage::Hardened(entry) => (entry, None),
            Lineage::Other => return None,
        };
        let root = model.root(index);
        let suffix = entry.dev_tag_suffix.as_deref();
        let (image, dev_image, shell) = match &model.stages.get(root)?.base {
            Base::Migrating(migration) => (
                migration.new_text.clone(),
                suffix.map(|suffix| format!("{}{suffix}", migration.new_text)),
                model.has_shell(index),
            ),
            Base::Hardened { token, image, .. } => {
                let tag = image.tag.as_deref().unwrap_or("latest");
                // A hand-written `-dev` tag has a shell even where the stage would not need it.
                let is_dev = suffix.is_some_and(|suffix| tag.ends_with(suffix));
                let dev = suffix.map(|suffix| match is_dev {
                    true => token.text.to_owned(),
                    false => ImageRef {
                        tag: Some(format!("{tag}{suffix}")),
                        digest: None,
                        ..image.clone()
                    }
                    .to_string(),
                });
                let shell = if is_dev {
                    Some(true)
                } else {
                    model.has_shell(index)
                };
                (token.text.to_owned(), dev, shell)
            }
            _ => return None,
        };
        Some(Context {
            model,
            file: model.file,
            index,
            entry,
            migration,
            chain: chain(model, index),
            shell,
            image,
            dev_image,
        })
    }

    /// The public image the stage's Dockerfile was written for, for messages: the reference
    /// being migrated, or the catalog entry's name in lint mode.
    fn public_image(&self) -> String {
        match self.migration {
            Some(migration) => format!("`{}`", migration.token.text),
            None => format!("the public `{}` image", self.entry.name),
        }
    }

    fn label(&self) -> String {
        stage_label(self.model, self.index)
    }

    /// What to do instead of running a shell: the concrete advice of a `needs-shell` error.
    fn shell_advice(&self, script: bool) -> String {
        let variant = match &self.dev_image {
            Some(dev) => format!("use `{dev}` for this stage (it has a shell)"),
            None => format!(
                "use a variant of `{}` that has a shell for this stage",
                self.image
            ),
        };
        let exec = match script {
            true => "do the script's setup at build time and run its program in exec form",
            false => "write the command in exec form without shell features",
        };
        format!("{variant}, or {exec}")
    }

    /// How to supply a fact the catalog lacks.
    fn supply(&self, fact: &str) -> String {
        format!(
            "add `{fact}` to the catalog entry `{}` (or supply an OCI image config) and run hardport again",
            self.entry.name
        )
    }
}

/// The stage and its `FROM` ancestors, root first.
fn chain(model: &StageModel<'_, '_, '_>, index: usize) -> Vec<usize> {
    let mut chain = vec![index];
    let mut current = index;
    while let Some(Base::Stage(parent)) = model.stages.get(current).map(|stage| &stage.base) {
        if *parent >= current {
            break;
        }
        chain.push(*parent);
        current = *parent;
    }
    chain.reverse();
    chain
}

fn check_stage(context: &Context<'_, '_, '_, '_>, findings: &mut Findings) {
    let effective = effective(context.model, &context.chain);
    let mut entrypoint = effective.entrypoint.map(Plan::new);
    let mut cmd = effective.cmd.map(Plan::new);
    let mut healthcheck = effective.healthcheck.map(Plan::new);

    // Exec form first: the entrypoint rule reasons on the words this pass writes.
    let cmd_may_run = entrypoint.as_ref().is_none_or(Plan::runs_its_arguments);
    if let Some(plan) = entrypoint.as_mut() {
        let cmd_follows = effective.cmd.is_some_and(|site| {
            !matches!(site.command, parse_dockerfile::Command::Exec(exec) if exec.value.is_empty())
        });
        shell_form::plan_shell_form(context, plan, cmd_follows, findings);
    }
    if let Some(plan) = cmd.as_mut().filter(|_| cmd_may_run) {
        shell_form::plan_shell_form(context, plan, false, findings);
    }
    if let Some(plan) = healthcheck.as_mut() {
        shell_form::plan_shell_form(context, plan, false, findings);
    }

    let cmd_runs_alone = if let Some(plan) = entrypoint.as_mut() {
        script::drop_public_script(context, plan, cmd.as_ref(), findings);
        false
    } else if let Some(plan) = cmd.as_mut() {
        match context.migration {
            Some(migration) => cmd::align_cmd(context, migration, plan, findings),
            None => cmd::lint_cmd(context, plan, findings),
        }
    } else {
        if let Some(migration) = context.migration {
            cmd::report_default_command(context, migration, findings);
        }
        false
    };

    // Programs that need a shell, in the commands as they will be written.
    if let Some(plan) = entrypoint.as_ref() {
        check_program(context, plan, findings);
    }
    let cmd_is_program = match &entrypoint {
        Some(plan) => plan.runs_its_arguments(),
        None => {
            cmd_runs_alone
                || context
                    .entry
                    .hardened
                    .entrypoint
                    .as_ref()
                    .is_none_or(Vec::is_empty)
        }
    };
    if let Some(plan) = cmd.as_ref().filter(|_| cmd_is_program) {
        check_program(context, plan, findings);
    }
    if let Some(plan) = healthcheck.as_ref() {
        check_program(context, plan, findings);
        healthcheck::check_tool(
            context,
            plan,
            &[entrypoint.as_ref(), cmd.as_ref()],
            findings,
        );
    }

    for plan in [&entrypoint, &cmd, &healthcheck].into_iter().flatten() {
        if plan.changed()
            && let Some(edit) = plan.edit(context.file)
        {
            findings.edits.push(edit);
        }
    }
}

#[cfg(test)]
mod tests;
