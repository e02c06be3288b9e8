//! `entrypoint`, `exec-form` and `needs-shell`: make a runnable stage run the same command on
//! the replacement, or say why it cannot.
//!
//! ## What it does
//! For every stage a container can be run from (the final stage or a `--target` leaf), it looks
//! at the ENTRYPOINT, CMD and HEALTHCHECK that stage ends up with (its own or inherited from the
//! stages it is built `FROM`):
//!
//! * `exec-form`: on a replacement without a shell, a shell-form command (`CMD node server.js`,
//!   which Docker runs as `/bin/sh -c "node server.js"`) is written in exec form
//!   (`CMD ["node", "server.js"]`) when its words split exactly: no `$`, globs, `|`, `&&`, `;`,
//!   redirects, subshells, backslashes, backticks or line continuations. Quoted strings are fine
//!   and lose their quotes (`nginx -g 'daemon off;'` → `["nginx", "-g", "daemon off;"]`); a
//!   leading `exec` is dropped, since exec form already replaces the process.
//! * `entrypoint` (only while the stage's base is being migrated, because it compares the public
//!   image with its replacement): the public images' entrypoint scripts (`docker-entrypoint.sh`
//!   and friends) do setup and then run their arguments. The replacement has no such script and
//!   its own entrypoint may differ (Minimus node runs `/usr/bin/node`), so:
//!   * an ENTRYPOINT that calls the public image's script drops it:
//!     `ENTRYPOINT ["docker-entrypoint.sh", "postgres"]` → `ENTRYPOINT ["postgres"]`;
//!   * a CMD written for the public entrypoint script (or for an empty public entrypoint) is
//!     what the container ran. When the replacement's entrypoint is that same program, it is
//!     dropped from CMD (`CMD ["node", "app.js"]` → `CMD ["app.js"]` on Minimus node); when it is
//!     another program, or unknown, the program is named in ENTRYPOINT (`CMD ["npm", "start"]`
//!     → `ENTRYPOINT ["npm"]` + `CMD ["start"]`) so the container runs the same command
//!     whatever the replacement's entrypoint is.
//! * `needs-shell` (error, no edit): a command that cannot run without a shell on a replacement
//!   that has none: shell form that does not split exactly, exec form that runs `sh`/`bash`, or a
//!   `.sh` script (for instance an entrypoint script the Dockerfile copies in).
//! * `missing-fact`: a fact the decision needs is not in the catalog: `hardened.shell` when a
//!   command needs a shell, `public.entrypoint` when a CMD relies on the public entrypoint,
//!   `hardened.entrypoint` when it decides whether a script or program is still there.
//!
//! A Dockerfile that sets neither ENTRYPOINT nor CMD runs the image's own default on both
//! images; that is left alone (Minimus matches the public defaults).
//!
//! ## Why
//! Swapping FROM alone breaks the container: `docker-entrypoint.sh` does not exist on the
//! replacement, a shell-form CMD needs `/bin/sh`, and on Minimus node `CMD ["node", "app.js"]`
//! runs `node node app.js` ("Cannot find module '/app/node'").
//!
//! ## Example
//! ```dockerfile
//! FROM node:20                        FROM reg.mini.dev/node:20
//! COPY . /app                         COPY . /app
//! CMD node server.js          →       CMD ["server.js"]
//! ```
//!
//! ## Fix safety
//! Safe where it edits: exec form runs the same words `sh -c` would have run when they split
//! exactly, and the entrypoint edits keep the program and its arguments. A script the
//! Dockerfile copies in is never dropped (it is the author's setup), only reported. All edits of
//! one stage are one fix, applied together or not at all. `entrypoint` acts only while the base
//! is migrated (afterwards the stage is on the replacement and there is nothing to compare), and
//! exec form no longer matches `exec-form`, so a second run changes nothing.
//!
//! Limits: Docker's `ENTRYPOINT []` would also keep `docker run IMAGE ARGS` replacing the whole
//! command, but hardport's Dockerfile parser (parse-dockerfile 0.1.9) rejects it and every fix
//! must leave a file hardport can read, so the program is named instead; run-time arguments
//! then replace only its arguments. An ENTRYPOINT that runs nothing but the public script is
//! reported, not rewritten. A shell-form ENTRYPOINT that calls the public script on a stage that
//! keeps a shell is not rewritten.

use std::collections::HashSet;
use std::ops::Range;

use parse_dockerfile::{Command, HealthcheckArguments, Instruction, Source, UnescapedString};

use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::dockerfile::Dockerfile;
use crate::image_ref::ImageRef;
use crate::rules::dev_variant::stage_label;
use crate::rules::{Rule, SHELLS, basename};
use crate::stages::{Base, CommandLine, Lineage, Migration, StageModel, View};

/// Init programs that run their arguments; the program they start follows their options.
const WRAPPERS: &[&str] = &["tini", "tini-static", "dumb-init", "catatonit"];

/// Words a shell treats specially as a command: exec form cannot run them.
const SHELL_WORDS: &[&str] = &[
    ".", ":", "alias", "break", "builtin", "case", "cd", "command", "continue", "declare", "do",
    "done", "elif", "else", "esac", "eval", "exit", "export", "fi", "for", "function", "getopts",
    "hash", "if", "let", "local", "read", "readonly", "return", "select", "set", "shift", "source",
    "then", "time", "trap", "type", "typeset", "ulimit", "umask", "unset", "until", "wait",
    "while", "[[",
];

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Entrypoint,
    Cmd,
    Healthcheck,
}

impl Kind {
    fn keyword(self) -> &'static str {
        match self {
            Kind::Entrypoint => "ENTRYPOINT",
            Kind::Cmd => "CMD",
            Kind::Healthcheck => "HEALTHCHECK CMD",
        }
    }
}

/// An ENTRYPOINT, CMD or HEALTHCHECK instruction that decides what a runnable stage runs.
#[derive(Clone, Copy)]
struct Site<'f, 'a> {
    /// Index into the file's instructions.
    index: usize,
    kind: Kind,
    instruction: &'f Instruction<'a>,
    command: &'f Command<'a>,
}

impl Site<'_, '_> {
    fn range(&self, file: &Dockerfile<'_>) -> Range<usize> {
        file.instruction_range(self.instruction)
            .unwrap_or_else(|| arguments_range(file, self.command).unwrap_or(0..0))
    }
}

/// The instructions that are in effect at the end of a stage chain, as Docker computes them:
/// ENTRYPOINT resets a CMD set in an earlier stage, not one set before it in the same stage.
#[derive(Default)]
struct Effective<'f, 'a> {
    entrypoint: Option<Site<'f, 'a>>,
    cmd: Option<Site<'f, 'a>>,
    healthcheck: Option<Site<'f, 'a>>,
}

fn effective<'f, 'a>(model: &StageModel<'f, 'a, '_>, chain: &[usize]) -> Effective<'f, 'a> {
    let file: &'f Dockerfile<'a> = model.file;
    let instructions = file.instructions();
    let mut found = Effective::default();
    for stage in chain.iter().filter_map(|&index| model.stages.get(index)) {
        let mut cmd_here = false;
        for index in stage.body() {
            let Some(instruction) = instructions.get(index) else {
                continue;
            };
            let site = |kind, command| Site {
                index,
                kind,
                instruction,
                command,
            };
            match instruction {
                Instruction::Entrypoint(entrypoint) => {
                    found.entrypoint = Some(site(Kind::Entrypoint, &entrypoint.arguments));
                    if !cmd_here {
                        found.cmd = None;
                    }
                }
                Instruction::Cmd(cmd) => {
                    found.cmd = Some(site(Kind::Cmd, &cmd.arguments));
                    cmd_here = true;
                }
                Instruction::Healthcheck(healthcheck) => {
                    found.healthcheck = match &healthcheck.arguments {
                        HealthcheckArguments::Cmd { arguments, .. } => {
                            Some(site(Kind::Healthcheck, arguments))
                        }
                        _ => None,
                    };
                }
                _ => {}
            }
        }
    }
    found
}

/// One word of an exec-form command, and the array element it was written as, if any.
#[derive(Debug, Clone)]
struct Word {
    value: String,
    element: Option<usize>,
}

/// What hardport will make of one site.
struct Plan<'f, 'a> {
    site: Site<'f, 'a>,
    /// The words of the command in exec form: `None` while it stays in shell form.
    words: Option<Vec<Word>>,
    /// Written in exec form from shell form by this run.
    converted: bool,
    /// How many elements the exec-form array has as written.
    written: usize,
}

impl<'f, 'a> Plan<'f, 'a> {
    fn new(site: Site<'f, 'a>) -> Self {
        let (words, written) = match site.command {
            Command::Exec(exec) => (
                Some(
                    exec.value
                        .iter()
                        .enumerate()
                        .map(|(index, element)| Word {
                            value: element.value.to_string(),
                            element: Some(index),
                        })
                        .collect(),
                ),
                exec.value.len(),
            ),
            _ => (None, 0),
        };
        Plan {
            site,
            words,
            converted: false,
            written,
        }
    }

    fn values(&self) -> Option<Vec<String>> {
        self.words
            .as_ref()
            .map(|words| words.iter().map(|word| word.value.clone()).collect())
    }

    fn shell_text(&self) -> Option<&'a str> {
        match self.site.command {
            Command::Shell(shell) => Some(shell.value),
            _ => None,
        }
    }

    /// An ENTRYPOINT that runs its arguments (empty, an init wrapper, an entrypoint script):
    /// the CMD is the program.
    fn runs_its_arguments(&self) -> bool {
        self.values().is_some_and(|words| passes_through(&words))
    }

    fn changed(&self) -> bool {
        self.converted
            || self
                .words
                .as_ref()
                .is_some_and(|words| words.len() != self.written)
    }

    /// The edit that writes the planned exec-form array over the arguments.
    fn edit(&self, file: &Dockerfile<'_>) -> Option<Edit> {
        let words = self.words.as_ref()?;
        let range = arguments_range(file, self.site.command)?;
        let text = match self.site.command {
            Command::Exec(exec) => {
                let style = Style::of(file, &exec.span, &exec.value);
                style.render(words.iter().map(|word| {
                    word.element
                        .and_then(|index| exec.value.get(index))
                        .and_then(|element| raw_element(file, element))
                        .map_or_else(|| json_escape(&word.value), str::to_owned)
                }))
            }
            _ => Style::default().render(words.iter().map(|word| json_escape(&word.value))),
        };
        Some(Edit::replace(range, text))
    }
}

/// What one stage's check found: reports, and changes that share one fix.
#[derive(Default)]
struct Findings {
    reports: Vec<(usize, Diagnostic)>,
    fixed: Vec<(usize, Rule, Range<usize>, String)>,
    edits: Vec<Edit>,
}

impl Findings {
    /// A finding that changes nothing, with the remedy a person should apply.
    fn report(
        &mut self,
        site: usize,
        rule: Rule,
        range: Range<usize>,
        message: String,
        suggestion: String,
    ) {
        self.reports.push((
            site,
            Diagnostic::report(rule, range, message).suggest(suggestion),
        ));
    }

    fn fixed(&mut self, site: usize, rule: Rule, range: Range<usize>, message: String) {
        self.fixed.push((site, rule, range, message));
    }

    /// The diagnostics, without those an earlier stage sharing the same instruction already
    /// gave (a parent's HEALTHCHECK inherited by two `--target` stages is reported once).
    fn into_diagnostics(self, emitted: &mut HashSet<(usize, Rule)>) -> Vec<Diagnostic> {
        let fresh = |site: &usize, rule: &Rule| !emitted.contains(&(*site, *rule));
        let reports: Vec<(usize, Diagnostic)> = self
            .reports
            .into_iter()
            .filter(|(site, diagnostic)| fresh(site, &diagnostic.rule))
            .collect();
        let fix = Fix::new(self.edits);
        let fixed: Vec<(usize, Rule, Range<usize>, String)> = match &fix {
            Some(_) => self
                .fixed
                .into_iter()
                .filter(|(site, rule, ..)| fresh(site, rule))
                .collect(),
            None => Vec::new(),
        };
        emitted.extend(
            reports
                .iter()
                .map(|(site, diagnostic)| (*site, diagnostic.rule)),
        );
        emitted.extend(fixed.iter().map(|(site, rule, ..)| (*site, *rule)));
        let mut diagnostics: Vec<Diagnostic> = reports
            .into_iter()
            .map(|(_, diagnostic)| diagnostic)
            .collect();
        if let Some(fix) = fix {
            diagnostics.extend(fixed.into_iter().map(|(_, rule, range, message)| {
                Diagnostic::fixed(rule, range, message, fix.clone())
            }));
        }
        diagnostics
    }
}

fn check_stage(context: &Context<'_, '_, '_, '_>, findings: &mut Findings) {
    let effective = effective(context.model, &context.chain);
    let mut entrypoint = effective.entrypoint.map(Plan::new);
    let mut cmd = effective.cmd.map(Plan::new);
    let mut healthcheck = effective.healthcheck.map(Plan::new);

    // Exec form first: the entrypoint rule reasons on the words this pass writes.
    let cmd_may_run = entrypoint.as_ref().is_none_or(Plan::runs_its_arguments);
    if let Some(plan) = entrypoint.as_mut() {
        let cmd_follows = effective.cmd.is_some_and(
            |site| !matches!(site.command, Command::Exec(exec) if exec.value.is_empty()),
        );
        plan_shell_form(context, plan, cmd_follows, findings);
    }
    if let Some(plan) = cmd.as_mut().filter(|_| cmd_may_run) {
        plan_shell_form(context, plan, false, findings);
    }
    if let Some(plan) = healthcheck.as_mut() {
        plan_shell_form(context, plan, false, findings);
    }

    let mut cmd_runs_alone = false;
    if let Some(migration) = context.migration {
        match (entrypoint.as_mut(), cmd.as_mut()) {
            (Some(plan), _) => drop_public_script(context, migration, plan, findings),
            (None, Some(plan)) => {
                cmd_runs_alone = align_cmd(context, migration, plan, findings);
            }
            (None, None) => report_default_command(context, migration, findings),
        }
    }

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
    }

    for plan in [&entrypoint, &cmd, &healthcheck].into_iter().flatten() {
        if plan.changed()
            && let Some(edit) = plan.edit(context.file)
        {
            findings.edits.push(edit);
        }
    }
}

/// Shell form on this stage: exec form when it splits exactly and the replacement has no
/// shell; otherwise say that it needs one.
fn plan_shell_form(
    context: &Context<'_, '_, '_, '_>,
    plan: &mut Plan<'_, '_>,
    cmd_follows: bool,
    findings: &mut Findings,
) {
    let Some(text) = plan.shell_text() else {
        return;
    };
    if text.trim().is_empty() || context.shell == Some(true) {
        return;
    }
    let site = plan.site;
    let range = site.range(context.file);
    let keyword = site.kind.keyword();
    let split = split_words(text).and_then(|words| match program_needs_shell(&words) {
        Some(reason) => Err(reason),
        None if cmd_follows => {
            Err("ignoring CMD (exec form would append CMD's words to it)".into())
        }
        None => Ok(words),
    });
    match (context.shell, split) {
        (Some(false), Ok(words)) => {
            findings.fixed(
                site.index,
                Rule::ExecForm,
                range,
                format!(
                    "`{keyword} {text}` runs through /bin/sh, which `{}` does not have: written in exec form {}",
                    context.image,
                    json_array(&words)
                ),
            );
            plan.words = Some(
                words
                    .into_iter()
                    .map(|value| Word {
                        value,
                        element: None,
                    })
                    .collect(),
            );
            plan.converted = true;
        }
        (Some(false), Err(reason)) => findings.report(
            site.index,
            Rule::NeedsShell,
            range,
            format!(
                "`{keyword} {text}` needs a shell for {reason}, and `{}` (stage {}) has none",
                context.image,
                context.label(),
            ),
            context.shell_advice(false),
        ),
        (_, split) => {
            let alternative = match split {
                Ok(words) => format!(", or write it in exec form {}", json_array(&words)),
                Err(_) => String::new(),
            };
            findings.report(
                site.index,
                Rule::MissingFact,
                range,
                format!(
                    "`{keyword} {text}` runs through /bin/sh, and the catalog does not say whether `{}` has a shell",
                    context.image,
                ),
                format!("{}{alternative}", context.supply("hardened.shell")),
            );
        }
    }
}

/// An exec-form command whose program is a shell or a shell script.
fn check_program(context: &Context<'_, '_, '_, '_>, plan: &Plan<'_, '_>, findings: &mut Findings) {
    let Some(words) = plan.values() else {
        return;
    };
    let Some(reason) = program_needs_shell(&words) else {
        return;
    };
    let site = plan.site;
    let range = site.range(context.file);
    let program = program_index(&words).and_then(|index| words.get(index));
    let copied = program.is_some_and(|program| copied_in(context, program));
    let script = program.is_some_and(|program| !SHELLS.contains(&basename(program)));
    let origin = if copied {
        " (the Dockerfile copies it in)"
    } else {
        ""
    };
    let command = format!("{} {}", site.kind.keyword(), json_array(&words));
    match context.shell {
        Some(false) => findings.report(
            site.index,
            Rule::NeedsShell,
            range,
            format!(
                "`{command}` needs a shell for {reason}{origin}, and `{}` (stage {}) has none",
                context.image,
                context.label(),
            ),
            context.shell_advice(script),
        ),
        None => findings.report(
            site.index,
            Rule::MissingFact,
            range,
            format!(
                "`{command}` needs a shell for {reason}{origin}, and the catalog does not say whether `{}` has one",
                context.image,
            ),
            context.supply("hardened.shell"),
        ),
        Some(true) => {}
    }
}

/// The Dockerfile's ENTRYPOINT calls the public image's entrypoint script: drop it where the
/// replacement cannot run it.
fn drop_public_script(
    context: &Context<'_, '_, '_, '_>,
    migration: &Migration<'_, '_>,
    plan: &mut Plan<'_, '_>,
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
    let public = migration.entry.public.entrypoint.as_deref().unwrap_or(&[]);
    let is_public = public
        .iter()
        .any(|element| is_entrypoint_script(element) && same_program(element, &script));
    if !is_public || copied_in(context, &script) {
        return;
    }
    let site = plan.site;
    let range = site.range(context.file);
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
                    "ENTRYPOINT calls `{script}`, the entrypoint script of `{}`; whether `{}` has it is unknown",
                    migration.token.text, context.image,
                ),
                context.supply("hardened.entrypoint"),
            );
            return;
        }
    };
    let mut kept = words.clone();
    kept.remove(index);
    let kept_values = values(&kept);
    if kept.is_empty() {
        findings.report(
            site.index,
            Rule::Entrypoint,
            range,
            format!(
                "ENTRYPOINT runs only `{script}`, the entrypoint script of `{}`, and {why}",
                migration.token.text
            ),
            "name the program it started in ENTRYPOINT instead (hardport does not write Docker's `ENTRYPOINT []`, which its Dockerfile parser cannot read back)".to_owned(),
        );
        return;
    }
    findings.fixed(
        site.index,
        Rule::Entrypoint,
        range,
        format!(
            "`{script}` is the entrypoint script of `{}`, and {why}: dropped, ENTRYPOINT {}",
            migration.token.text,
            json_array(&kept_values)
        ),
    );
    plan.words = Some(kept);
}

/// The Dockerfile sets CMD but not ENTRYPOINT, so the public image's entrypoint ran it. Make the
/// replacement run the same program. Returns whether the CMD is meant to run without an
/// entrypoint on the replacement.
fn align_cmd(
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
        // The CMD was arguments of the public entrypoint program.
        match hardened {
            Some(hardened) if hardened == public.as_slice() => {}
            Some(hardened) => findings.report(
                site.index,
                Rule::Entrypoint,
                range,
                format!(
                    "CMD gave arguments to the entrypoint {} of `{public_image}`; `{}` runs {} instead",
                    json_array(&public),
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
                    json_array(&public),
                    context.image,
                ),
                context.supply("hardened.entrypoint"),
            ),
        }
        return false;
    }
    let argv = match (plan.values(), plan.shell_text()) {
        (Some(words), _) => words,
        (None, Some(text)) => vec!["/bin/sh".into(), "-c".into(), text.to_owned()],
        (None, None) => return false,
    };
    let Some(first) = argv.first() else {
        // `CMD []`: the entrypoint script's own default ran; nothing to carry over.
        return false;
    };
    if first.starts_with('-') && !public.is_empty() {
        option_first_cmd(context, migration, &public, &argv, findings, site, range);
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
    if looks_like_script_file(first) {
        // Entrypoint scripts run a first argument that is not a command with the image's
        // default program (`docker-entrypoint.sh app.js` → `node app.js`); never make a script
        // file the ENTRYPOINT.
        if !runs_default_program(migration, hardened) {
            findings.report(
                site.index,
                Rule::Entrypoint,
                range,
                format!(
                    "{intro}; `{first}` is a script file, which the public entrypoint ran with the image's default program"
                ),
                format!(
                    "check how `{}` runs it, or name the interpreter in ENTRYPOINT",
                    context.image
                ),
            );
        }
        return false;
    }
    let reason = match hardened {
        Some([]) => return true,
        Some(hardened) => {
            if let Some(words) = plan.words.as_mut().filter(|_| starts_with(&argv, hardened)) {
                let kept: Vec<Word> = words.split_off(hardened.len().min(words.len()));
                *words = kept;
                findings.fixed(
                    site.index,
                    Rule::Entrypoint,
                    range,
                    format!(
                        "`{}` runs {} as its entrypoint, so CMD {} would run it twice: dropped, CMD {}",
                        context.image,
                        json_array(hardened),
                        json_array(&argv),
                        json_array(&values(words))
                    ),
                );
                return false;
            }
            let mut runs = hardened.to_vec();
            runs.extend(argv.iter().cloned());
            format!(
                "`{}` would run {} (its entrypoint {} before CMD)",
                context.image,
                json_array(&runs),
                json_array(hardened)
            )
        }
        None => format!(
            "the entrypoint of `{}` is unknown, so the CMD must not depend on it",
            context.image
        ),
    };
    if context.shell != Some(true) && program_needs_shell(&argv).is_some() {
        // Naming it in ENTRYPOINT would not make it run: `needs-shell` reports it.
        return true;
    }
    let Some(edit) = explicit_program_edit(context.file, site, plan) else {
        findings.report(
            site.index,
            Rule::Entrypoint,
            range,
            format!("{intro}; {reason}"),
            "name the program in ENTRYPOINT by hand".to_owned(),
        );
        return true;
    };
    findings.edits.push(edit);
    findings.fixed(
        site.index,
        Rule::Entrypoint,
        range,
        format!(
            "{intro}; {reason}: the program is now named in ENTRYPOINT {}",
            json_array(&argv[..1])
        ),
    );
    true
}

/// The stage runs the image's own default command. Minimus matches public defaults where it can;
/// where both are known and differ (public node runs `node`, Minimus node `node --help`), say so:
/// the container will not do what it did.
fn report_default_command(
    context: &Context<'_, '_, '_, '_>,
    migration: &Migration<'_, '_>,
    findings: &mut Findings,
) {
    let spec_argv = |spec: &crate::catalog::ImageSpec| {
        let mut argv = spec.entrypoint.clone()?;
        argv.extend(spec.cmd.clone()?);
        Some(argv)
    };
    let (Some(public), Some(hardened)) = (
        spec_argv(&migration.entry.public),
        spec_argv(&context.entry.hardened),
    ) else {
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
    let Some(from) = context
        .model
        .file
        .instructions()
        .get(context.model.stages[context.index].from_index)
        .and_then(|from| context.file.instruction_range(from))
    else {
        return;
    };
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

/// A CMD that starts with an option: docker-library entrypoint scripts run it as arguments of
/// the image's default program (`docker-entrypoint.sh --flag` → `node --flag`). When the
/// replacement's entrypoint is that program, the CMD means the same there; otherwise say so.
fn option_first_cmd(
    context: &Context<'_, '_, '_, '_>,
    migration: &Migration<'_, '_>,
    public: &[String],
    argv: &[String],
    findings: &mut Findings,
    site: Site<'_, '_>,
    range: Range<usize>,
) {
    let default = migration
        .entry
        .public
        .cmd
        .as_deref()
        .and_then(<[String]>::first);
    let hardened = context.entry.hardened.entrypoint.as_deref();
    if let (Some([program]), Some(default)) = (hardened, default)
        && basename(program) == basename(default)
    {
        return;
    }
    let program = match default {
        Some(default) => format!("`{default}`"),
        None => "its default program".to_owned(),
    };
    let runs = match hardened {
        Some(hardened) => format!("runs {} before CMD", json_array(hardened)),
        None => "has an unknown entrypoint".to_owned(),
    };
    findings.report(
        site.index,
        Rule::Entrypoint,
        range,
        format!(
            "CMD {} starts with an option: on `{}`, the entrypoint {} ran it as arguments of {program}; `{}` {runs}",
            json_array(argv),
            migration.token.text,
            json_array(public),
            context.image
        ),
        "set ENTRYPOINT and CMD explicitly so the program is named".to_owned(),
    );
}

/// Make the CMD's program explicit, so the replacement's own entrypoint no longer matters:
/// `CMD ["npm", "start"]` becomes `ENTRYPOINT ["npm"]` + `CMD ["start"]`; a CMD with no
/// arguments, or a shell-form one, becomes one `ENTRYPOINT [...]` with the whole command.
///
/// Docker's `ENTRYPOINT []` would keep `docker run IMAGE ARGS` replacing the whole command, but
/// hardport's Dockerfile parser rejects it, and a fix must leave a file hardport can read. With
/// the program named, run-time arguments replace only its arguments.
fn explicit_program_edit(
    file: &Dockerfile<'_>,
    site: Site<'_, '_>,
    plan: &mut Plan<'_, '_>,
) -> Option<Edit> {
    let Instruction::Cmd(cmd) = site.instruction else {
        return None;
    };
    let entrypoint = file.keyword("ENTRYPOINT");
    let keyword = file.range(&cmd.cmd.span);
    if let Some(words) = plan.words.as_mut().filter(|words| words.len() > 1) {
        let program = words.remove(0).value;
        let (line_start, indent) = file.line_before(site.instruction)?;
        let original = file.text().get(line_start..keyword.end)?;
        // Written over the CMD keyword, so another rule's insertion at this line cannot block it.
        return Some(Edit::replace(
            line_start..keyword.end,
            format!(
                "{indent}{entrypoint} {}{}{original}",
                json_array(&[program]),
                file.line_break()
            ),
        ));
    }
    let argv = match (plan.values(), plan.shell_text()) {
        (Some(words), _) => words,
        (None, Some(text)) => vec!["/bin/sh".into(), "-c".into(), text.to_owned()],
        (None, None) => return None,
    };
    let arguments = arguments_range(file, site.command)?;
    // The whole instruction is replaced: the planned CMD edit must not touch it as well.
    plan.words = None;
    plan.converted = false;
    Some(Edit::replace(
        keyword.start..arguments.end,
        format!("{entrypoint} {}", json_array(&argv)),
    ))
}

/// Whether `word` names a script file (`app.js`, `src/main.py`) rather than a command.
fn looks_like_script_file(word: &str) -> bool {
    const SCRIPT_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "ts", "py", "rb", "php", "pl", "jar"];
    basename(word)
        .rsplit_once('.')
        .is_some_and(|(stem, extension)| !stem.is_empty() && SCRIPT_EXTENSIONS.contains(&extension))
}

/// Whether the replacement's entrypoint is the program the public image runs by default
/// (Minimus node's `/usr/bin/node` for public node's `CMD ["node"]`).
fn runs_default_program(migration: &Migration<'_, '_>, hardened: Option<&[String]>) -> bool {
    let default = migration
        .entry
        .public
        .cmd
        .as_deref()
        .and_then(<[String]>::first);
    matches!((hardened, default), (Some([program]), Some(default)) if same_program(program, default))
}

/// Whether a file or directory this stage chain copies in (COPY/ADD) has `program`'s name.
fn copied_in(context: &Context<'_, '_, '_, '_>, program: &str) -> bool {
    let name = basename(program);
    let names = |path: &str| basename(path.trim_end_matches('/')) == name;
    context.chain.iter().any(|&stage| {
        context
            .model
            .instructions(stage)
            .any(|instruction| match instruction {
                Instruction::Copy(copy) => {
                    names(&copy.dest.value)
                        || copy.src.iter().any(|source| source_names(source, &names))
                }
                Instruction::Add(add) => {
                    names(&add.dest.value)
                        || add.src.iter().any(|source| source_names(source, &names))
                }
                _ => false,
            })
    })
}

fn source_names(source: &Source<'_>, names: &impl Fn(&str) -> bool) -> bool {
    match source {
        Source::Path(path) => names(&path.value),
        _ => false,
    }
}

fn values(words: &[Word]) -> Vec<String> {
    words.iter().map(|word| word.value.clone()).collect()
}

/// Whether two ways of naming a program name the same file: same name, and the same path
/// unless one of them is a bare name found on `PATH`.
fn same_program(a: &str, b: &str) -> bool {
    basename(a) == basename(b) && (a == b || !a.contains('/') || !b.contains('/'))
}

/// Whether `argv` starts with the program and arguments of `entrypoint`. Programs compare by
/// name: the public image's `/usr/local/bin/node` is the replacement's `/usr/bin/node`.
fn starts_with(argv: &[String], entrypoint: &[String]) -> bool {
    match (entrypoint.split_first(), argv.split_first()) {
        (Some((program, rest)), Some((first, argv_rest))) => {
            basename(program) == basename(first)
                && argv_rest.len() >= rest.len()
                && rest.iter().zip(argv_rest).all(|(a, b)| a == b)
        }
        _ => false,
    }
}

/// A public-image entrypoint script by its name: `docker-entrypoint.sh`, `/entrypoint.sh`,
/// `docker-php-entrypoint`, `/__cacert_entrypoint.sh`.
fn is_entrypoint_script(word: &str) -> bool {
    let name = basename(word);
    name.ends_with("entrypoint.sh") || name.ends_with("-entrypoint") || name == "entrypoint"
}

/// Whether an entrypoint runs its arguments as the program: empty, init wrappers, and an
/// entrypoint script last (those end in `exec "$@"`).
fn passes_through(entrypoint: &[String]) -> bool {
    match program_index(entrypoint) {
        None => true,
        Some(index) => {
            index + 1 == entrypoint.len()
                && entrypoint
                    .get(index)
                    .is_some_and(|word| is_entrypoint_script(word))
        }
    }
}

/// The index of the program an exec-form command runs, after init wrappers and `env`.
fn program_index(words: &[String]) -> Option<usize> {
    let mut index = 0;
    while let Some(word) = words.get(index) {
        let name = basename(word);
        let skip: fn(&String) -> bool = if WRAPPERS.contains(&name) {
            |word| word.starts_with('-')
        } else if name == "env" {
            |word| word.starts_with('-') || word.contains('=')
        } else {
            return Some(index);
        };
        index += 1;
        while words.get(index).is_some_and(skip) {
            index += 1;
        }
    }
    None
}

/// Why an exec-form command cannot run without a shell, if it cannot.
fn program_needs_shell(words: &[String]) -> Option<String> {
    let program = words.get(program_index(words)?)?;
    let name = basename(program);
    if SHELLS.contains(&name) {
        return Some(format!("running `{name}`"));
    }
    if name.ends_with(".sh") || name.ends_with(".bash") {
        return Some(format!("the shell script `{program}`"));
    }
    None
}

/// The words `/bin/sh -c text` would run, when that needs nothing of the shell but splitting
/// and quote removal; otherwise what needs the shell.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    if text.trim_start().starts_with('[') {
        return Err("text that is not a JSON array (JSON strings need double quotes)".into());
    }
    if text.contains(['\n', '\r']) {
        return Err("a line continuation".into());
    }
    if let Some(found) = text.chars().find_map(forbidden_anywhere) {
        return Err(found.into());
    }
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = Quote::None;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            Quote::Single if ch == '\'' => quote = Quote::None,
            Quote::Double if ch == '"' => quote = Quote::None,
            Quote::Single | Quote::Double => word.push(ch),
            Quote::None => match ch {
                ' ' | '\t' => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                '\'' => {
                    quote = Quote::Single;
                    in_word = true;
                }
                '"' => {
                    quote = Quote::Double;
                    in_word = true;
                }
                '#' if !in_word => return Err("a comment `#`".into()),
                '|' | '&' if chars.peek() == Some(&ch) => {
                    return Err(format!("the list operator `{ch}{ch}`"));
                }
                _ => {
                    if let Some(found) = forbidden_unquoted(ch) {
                        return Err(found.into());
                    }
                    word.push(ch);
                    in_word = true;
                }
            },
        }
    }
    if quote != Quote::None {
        return Err("an unterminated quote".into());
    }
    if in_word {
        words.push(word);
    }
    // `exec prog args` replaces the shell with prog: exec form does that already.
    if words.first().is_some_and(|first| first == "exec")
        && words.get(1).is_some_and(|next| !next.starts_with('-'))
    {
        words.remove(0);
    }
    let Some(first) = words.first() else {
        return Err("an empty command".into());
    };
    if let Some((name, _)) = first.split_once('=')
        && is_variable_name(name)
    {
        return Err(format!("the variable assignment `{first}`"));
    }
    if SHELL_WORDS.contains(&first.as_str()) || first == "exec" {
        return Err(format!("the shell builtin `{first}`"));
    }
    Ok(words)
}

/// Characters that make `sh -c` do more than split words, quoted or not.
fn forbidden_anywhere(ch: char) -> Option<&'static str> {
    Some(match ch {
        '\\' => "a backslash escape",
        '`' => "command substitution with backticks",
        '$' => "variable expansion `$`",
        _ => return None,
    })
}

/// Characters that are shell syntax outside quotes.
fn forbidden_unquoted(ch: char) -> Option<&'static str> {
    Some(match ch {
        '|' => "a pipe `|`",
        '&' => "a background job `&`",
        ';' => "a command list `;`",
        '<' | '>' => "a redirection `<`/`>`",
        '(' | ')' => "a subshell `(`…`)`",
        '*' | '?' | '[' | ']' => "a glob `*`/`?`/`[`",
        '{' | '}' => "braces `{`…`}`",
        '~' => "tilde expansion `~`",
        '!' => "`!`",
        _ => return None,
    })
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// The source range of a command's arguments: the JSON array, or the shell-form text.
fn arguments_range(file: &Dockerfile<'_>, command: &Command<'_>) -> Option<Range<usize>> {
    match command {
        Command::Exec(exec) => Some(file.range(&exec.span)),
        Command::Shell(shell) => Some(file.range(&shell.span)),
        _ => None,
    }
}

/// The text of an array element between its quotes as written, when it fits on one line.
fn raw_element<'a>(file: &Dockerfile<'a>, element: &UnescapedString<'_>) -> Option<&'a str> {
    let raw = file.text().get(file.range(&element.span))?;
    (!raw.contains(['\n', '\r'])).then_some(raw)
}

/// How an exec-form array is laid out: after `[`, between elements, before `]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Style {
    open: String,
    separator: String,
    close: String,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            open: String::new(),
            separator: ", ".into(),
            close: String::new(),
        }
    }
}

impl Style {
    /// The layout of the array at `span`; parts that span lines fall back to the default.
    fn of(file: &Dockerfile<'_>, span: &Range<usize>, elements: &[UnescapedString<'_>]) -> Style {
        let mut style = Style::default();
        let text = file.text();
        let array = file.range(span);
        let (Some(first), Some(last)) = (elements.first(), elements.last()) else {
            return style;
        };
        let (first, last) = (file.range(&first.span), file.range(&last.span));
        let blank = |part: &str| part.chars().all(|ch| ch == ' ' || ch == '\t');
        // Element spans stop inside the quotes: one byte each side is the quote.
        if let Some(open) = text.get(array.start + 1..first.start.saturating_sub(1))
            && blank(open)
        {
            style.open = open.to_owned();
        }
        if let Some(close) = text.get(last.end + 1..array.end.saturating_sub(1))
            && blank(close)
        {
            style.close = close.to_owned();
        }
        if let Some(second) = elements.get(1).map(|second| file.range(&second.span))
            && let Some(separator) = text.get(first.end + 1..second.start.saturating_sub(1))
            && separator.trim_matches([' ', '\t']) == ","
        {
            style.separator = separator.to_owned();
        }
        style
    }

    /// The array of `elements` (JSON string contents, without quotes) in this layout.
    fn render(&self, elements: impl Iterator<Item = String>) -> String {
        let elements: Vec<String> = elements.map(|element| format!("\"{element}\"")).collect();
        if elements.is_empty() {
            return "[]".into();
        }
        format!(
            "[{}{}{}]",
            self.open,
            elements.join(&self.separator),
            self.close
        )
    }
}

/// `words` as a JSON array in the default layout, for messages and new commands.
fn json_array(words: &[String]) -> String {
    Style::default().render(words.iter().map(|word| json_escape(word)))
}

/// The contents of a JSON string holding `value`.
fn json_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if u32::from(ch) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            ch => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests;
