//! `user-mapping`, `user-root` and `final-root`: make a migrated stage run as the same user.
//!
//! ## What it does
//! - `user-mapping`: in a stage whose base is being migrated, `USER name[:group]` and
//!   `COPY`/`ADD --chown=name[:group]` naming a user (group) of the public image
//!   (`public.users` / `public.groups` in the catalog) are rewritten to the replacement's
//!   runtime id (`hardened.user` / `hardened.group`). Numeric ids, `root`, variables and names
//!   the Dockerfile creates itself (`useradd`, `adduser`, `groupadd`, `addgroup` in an earlier
//!   `RUN` of the stage chain) are kept.
//! - `user-root`: when a `RUN` needs root (package installs, user management, `chown`, writes
//!   to `/usr`, `/etc`, `/var` or any other absolute path outside `/tmp` and the replacement's
//!   working directory, `pip install`, `npm install -g`, `gem install`, …), ran as root on the
//!   public image, and would run as a non-root user on the replacement, `USER root` is inserted
//!   before the first such `RUN` of the stage. A stage a container is run from (the final stage,
//!   or a `--target` leaf) is then switched back to the replacement's runtime user after its
//!   last `RUN` that needs root, unless a later `USER` already sets a user; a runnable stage that
//!   inherits hardport's `USER root` from its parent stage is switched back after its own last
//!   such `RUN`, or right after its `FROM`.
//! - `final-root`: the final stage's last `USER` written by the author is root while the
//!   replacement runs as non-root: a warning, no edit.
//!
//! ## Why
//! The public `node`, `nginx`, `postgres`, … images create named users the hardened images do
//! not have, so `USER node` fails at runtime and `--chown=node` at build time. Hardened images
//! run as non-root by default, so `RUN apt-get install` that ran as root fails.
//!
//! ## Example
//! With a catalog entry whose replacement runs as `1000:1000` and whose public image has the
//! user and group `node`:
//! ```dockerfile
//! FROM node:20                        FROM reg.mini.dev/node:20-dev
//! RUN apt-get install -y curl    →    USER root
//! COPY --chown=node:node . /app       RUN apt-get install -y curl
//! CMD ["app.js"]                      USER 1000:1000
//!                                     COPY --chown=1000:1000 . /app
//!                                     CMD ["app.js"]
//! ```
//!
//! ## Decisions
//! - Which `RUN`s need root is decided from the words of the command (shell form, exec form,
//!   `sh -c` scripts and heredoc scripts). The detector errs towards "needs root": a false
//!   positive only keeps a `RUN` running as root, as it did on the public image.
//! - `USER root` is only inserted where the `RUN`'s user is the base image's default (no `USER`
//!   in the stage chain before it): an explicit `USER` means the same on both images, so a `RUN`
//!   that failed as `USER node` before is never made to succeed by surprise.
//! - The decision reads the catalog, not the state of the `FROM` line: for a stage already on
//!   the replacement (a second pass, or a file migrated by hand) the public image's default user
//!   is the entry's `public.user`. Since hardport's own `USER root` precedes the `RUN` after the
//!   first pass, a second run finds an explicit `USER` and changes nothing.
//! - All `user-root` insertions of one pass form one [`Fix`], carried by each of its
//!   diagnostics, so a parent stage's `USER root` and its child's switch back are applied
//!   together or not at all.
//! - A name created as a user or as a group counts for both parts of `name:group` (user-private
//!   groups are the default of `useradd` and `adduser`). A name that is neither created nor
//!   listed in a known `public.users` (say `nobody`) is a `missing-fact` too: whether the
//!   replacement has it is unknown.
//! - When the replacement's runtime user is unknown, `USER root` is still inserted (the step
//!   runs as root, as it did) and the final stage gets a `missing-fact`, as it now runs as root.
//!
//! ## Fix safety
//! `user-mapping` edits only the user token (never a token with a line continuation inside) and
//! only when every part is known; otherwise `missing-fact` says which catalog field to add.
//! `user-root` inserts whole lines in the file's keyword case and line endings; when the
//! replacement's runtime user is unknown it still inserts `USER root` (the `RUN` keeps its
//! meaning) and, for the final stage, says that the image now runs as root.

use std::collections::HashMap;

use parse_dockerfile::{Command, Flag, Instruction, RunInstruction};

use crate::catalog::{Entry, ImageSpec};
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::dockerfile::{Dockerfile, Token as SourceToken};
use crate::rules::dev_variant::stage_label;
use crate::rules::{Rule, SHELLS, basename};
use crate::stages::{Lineage, StageModel, View};

pub fn check(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut diagnostics = user_mapping(model);
    diagnostics.extend(user_root(model));
    diagnostics.extend(final_root(model));
    diagnostics
}

// ---------------------------------------------------------------------------------------------
// user-mapping

/// Rewrite named users and groups of the public image in stages being migrated.
///
/// The stages are visited depth first along `FROM <stage>` (without recursion: a chain may be
/// long), counting the names each `RUN` creates on the way down and forgetting them on the way
/// back, so every site sees exactly the names its stage chain created before it and every `RUN`
/// is read once.
fn user_mapping(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); model.stages.len()];
    let mut roots = Vec::new();
    for stage in &model.stages {
        match model.parent(stage.index) {
            Some(parent) => children[parent].push(stage.index),
            None => roots.push(stage.index),
        }
    }
    let mut found: Vec<(usize, Diagnostic)> = Vec::new();
    let mut created = CreatedNames::default();
    for root in roots {
        // Every stage of a chain has its root's lineage.
        let Lineage::Migrating(migration) = model.lineage(root) else {
            continue;
        };
        let mut stack = vec![Visit::Enter(root)];
        while let Some(visit) = stack.pop() {
            match visit {
                Visit::Enter(index) => {
                    let added = map_stage(model, index, migration.entry, &mut created, &mut found);
                    stack.push(Visit::Leave(added));
                    stack.extend(children[index].iter().map(|&child| Visit::Enter(child)));
                }
                Visit::Leave(added) => created.forget(&added),
            }
        }
    }
    // Stage bodies are disjoint and in stage order: instruction order is stage order.
    found.sort_by_key(|(at, _)| *at);
    found
        .into_iter()
        .map(|(_, diagnostic)| diagnostic)
        .collect()
}

/// A step of the depth-first walk of [`user_mapping`].
enum Visit {
    Enter(usize),
    /// Leaving a stage: the names its `RUN`s created, to forget.
    Leave(Vec<String>),
}

/// The names created as users or groups along the stage chain being walked, counted so that a
/// name two stages create stays known until both are left.
#[derive(Default)]
struct CreatedNames {
    counts: HashMap<String, usize>,
}

impl CreatedNames {
    fn add(&mut self, name: String) {
        *self.counts.entry(name).or_default() += 1;
    }

    fn forget(&mut self, names: &[String]) {
        for name in names {
            if let Some(count) = self.counts.get_mut(name) {
                *count -= 1;
                if *count == 0 {
                    self.counts.remove(name);
                }
            }
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.counts.contains_key(name)
    }
}

/// Map the sites of one stage's body, with the names created before each; returns the names
/// the stage's `RUN`s added to `created`.
fn map_stage(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
    created: &mut CreatedNames,
    found: &mut Vec<(usize, Diagnostic)>,
) -> Vec<String> {
    let instructions = model.file.instructions();
    let mut added = Vec::new();
    for at in model.stages[index].body() {
        let Some(instruction) = instructions.get(at) else {
            continue;
        };
        let site = match instruction {
            Instruction::Run(run) => {
                for name in run_commands(run)
                    .iter()
                    .flat_map(|command| created_by(&command.args))
                {
                    created.add(name.clone());
                    added.push(name);
                }
                continue;
            }
            Instruction::User(user) => IdSite {
                keyword: "USER ",
                value: user.arguments.value.as_ref(),
                token: model.file.token(&user.arguments),
            },
            Instruction::Copy(copy) => match chown_site(model.file, &copy.options) {
                Some(site) => site,
                None => continue,
            },
            Instruction::Add(add) => match chown_site(model.file, &add.options) {
                Some(site) => site,
                None => continue,
            },
            _ => continue,
        };
        let Some(range) = model.file.instruction_range(instruction) else {
            continue;
        };
        if let Some(diagnostic) = map_ids(&site, range, entry, created) {
            found.push((at, diagnostic));
        }
    }
    added
}

/// A `name[:group]` value to map: the `USER` argument or a `--chown` value.
struct IdSite<'a> {
    /// How the value is shown in messages: `USER ` or `--chown=`.
    keyword: &'static str,
    /// The value as Docker reads it (quotes removed).
    value: &'a str,
    /// The editable source of the value, when its bytes are exactly the value.
    token: Option<SourceToken<'a>>,
}

fn chown_site<'f, 'a: 'f>(file: &'f Dockerfile<'a>, flags: &'f [Flag<'a>]) -> Option<IdSite<'f>> {
    let flag = flags
        .iter()
        .find(|flag| flag.name.value.eq_ignore_ascii_case("chown"))?;
    let value = flag.value.as_ref()?.value.as_ref();
    Some(IdSite {
        keyword: "--chown=",
        value: unquote(value),
        token: file.flag_value(flags, "chown"),
    })
}

fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    text
}

/// What becomes of one part of `name[:group]`.
enum Mapped {
    Keep,
    To(String),
    /// The fact that is missing, as a sentence.
    Missing(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
        }
    }

    fn public_field(self) -> &'static str {
        match self {
            Kind::User => "public.users",
            Kind::Group => "public.groups",
        }
    }

    fn hardened_field(self) -> &'static str {
        match self {
            Kind::User => "hardened.user",
            Kind::Group => "hardened.group",
        }
    }
}

fn map_ids(
    site: &IdSite<'_>,
    range: std::ops::Range<usize>,
    entry: &Entry,
    created: &CreatedNames,
) -> Option<Diagnostic> {
    let value = site.value.trim();
    if value.is_empty() || value.contains(char::is_whitespace) {
        return None;
    }
    let (user, group) = match value.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (value, None),
    };
    let (hardened_user, hardened_group) = hardened_ids(entry);
    let user_part = map_part(user, Kind::User, entry, hardened_user.as_deref(), created);
    let group_part = group.map(|group| {
        map_part(
            group,
            Kind::Group,
            entry,
            hardened_group.as_deref(),
            created,
        )
    });
    let shown = format!("{}{value}", site.keyword);
    let missing: Vec<&str> = [Some(&user_part), group_part.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|part| match part {
            Mapped::Missing(message) => Some(message.as_str()),
            _ => None,
        })
        .collect();
    let range = site.token.map_or(range, |token| token.range());
    if !missing.is_empty() {
        return Some(Diagnostic::report(
            Rule::MissingFact,
            range,
            format!(
                "`{shown}` is left unchanged, although it fails where the replacement lacks the name (a guessed id would be worse): {}",
                missing.join("; ")
            ),
        ));
    }
    let new_part = |part: &Mapped, old: &str| match part {
        Mapped::To(id) => id.clone(),
        _ => old.to_owned(),
    };
    let mapped = matches!(user_part, Mapped::To(_)) || matches!(group_part, Some(Mapped::To(_)));
    if !mapped {
        return None;
    }
    let mut new_value = new_part(&user_part, user);
    if let (Some(group), Some(part)) = (group, &group_part) {
        new_value.push(':');
        new_value.push_str(&new_part(part, group));
    }
    let names: Vec<String> = [
        (Kind::User, user, Some(&user_part)),
        (Kind::Group, group.unwrap_or_default(), group_part.as_ref()),
    ]
    .into_iter()
    .filter_map(|(kind, name, part)| match part {
        Some(Mapped::To(_)) => Some(format!("{} `{name}`", kind.noun())),
        _ => None,
    })
    .collect();
    let message = format!(
        "`{shown}` → `{}{new_value}`: the replacement {} has no {}; it runs as the numeric runtime id instead",
        site.keyword,
        entry.replacement,
        names.join(" or ")
    );
    match site.token {
        Some(token) if token.text == value => Some(Diagnostic::fixed(
            Rule::UserMapping,
            token.range(),
            message,
            Fix::single(Edit::replace(token.range(), new_value)),
        )),
        _ => Some(
            Diagnostic::report(
                Rule::UserMapping,
                range,
                format!(
                    "`{shown}` names the public image's users, but the line cannot be edited in place (a line continuation or escape inside the value)"
                ),
            )
            .suggest(format!("write `{}{new_value}` yourself", site.keyword)),
        ),
    }
}

fn map_part(
    name: &str,
    kind: Kind,
    entry: &Entry,
    hardened: Option<&str>,
    created: &CreatedNames,
) -> Mapped {
    if !is_name(name) || created.contains(name) {
        return Mapped::Keep;
    }
    let known = match kind {
        Kind::User => entry.public.users.as_ref(),
        Kind::Group => entry.public.groups.as_ref(),
    };
    let noun = kind.noun();
    let Some(known) = known else {
        return Mapped::Missing(format!(
            "this Dockerfile does not create the {noun} `{name}`, and the catalog entry `{}` does not list the public image's {noun}s, so hardport cannot tell whether `{name}` is one of them: add `{}` ({noun} name → id) to the entry, or supply an OCI image config",
            entry.name,
            kind.public_field()
        ));
    };
    if !known.contains_key(name) {
        return Mapped::Missing(format!(
            "the {noun} `{name}` is neither created by this Dockerfile nor listed in `{}` of the catalog entry `{}`, so hardport cannot tell whether the replacement has it: add it to `{}` if the public image defines it, or use a numeric id",
            kind.public_field(),
            entry.name,
            kind.public_field()
        ));
    }
    match hardened {
        Some(id) => Mapped::To(id.to_owned()),
        None => Mapped::Missing(format!(
            "`{name}` is a {noun} of the public image that the replacement does not have, and the catalog entry `{}` does not say the replacement's runtime {noun}: add `{}` to the entry (or supply an OCI image config)",
            entry.name,
            kind.hardened_field()
        )),
    }
}

/// Whether a user or group part is a name that may need mapping: not empty, not a numeric id,
/// not `root`, no variable.
fn is_name(part: &str) -> bool {
    !(part.is_empty()
        || part.contains('$')
        || part.bytes().all(|byte| byte.is_ascii_digit())
        || part == "root")
}

/// The replacement's runtime uid and gid, as the catalog states them (`user: "1000:1000"` is
/// read as both).
fn hardened_ids(entry: &Entry) -> (Option<String>, Option<String>) {
    let user = entry.hardened.user.as_ref().map(|id| id.0.as_str());
    let group = entry.hardened.group.as_ref().map(|id| id.0.clone());
    match user.and_then(|user| user.split_once(':')) {
        Some((uid, gid)) => (Some(uid.to_owned()), group.or_else(|| Some(gid.to_owned()))),
        None => (user.map(str::to_owned), group),
    }
}

/// The effective user a spec gives, formatted as the stage model does (`user[:group]`).
fn spec_user(spec: &ImageSpec) -> Option<String> {
    spec.user.as_ref().map(|user| match &spec.group {
        Some(group) if !user.0.contains(':') => format!("{}:{}", user.0, group.0),
        _ => user.0.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// Stage chains

/// The stage and its ancestors along `FROM <stage>`, nearest first.
fn chain(model: &StageModel<'_, '_, '_>, index: usize) -> Vec<usize> {
    let mut stages = vec![index];
    let mut current = index;
    while let Some(crate::stages::Base::Stage(parent)) =
        model.stages.get(current).map(|stage| &stage.base)
    {
        if *parent >= current {
            break;
        }
        current = *parent;
        stages.push(current);
    }
    stages
}

/// Who set the user a stage runs as at some point.
#[derive(Debug, Clone, PartialEq, Eq)]
enum UserSource {
    /// A `USER` instruction of the Dockerfile, with its value.
    Written(String),
    /// The `USER root` hardport inserts in a stage this one is built on.
    Hardport,
}

/// Where the `USER`s of the stages are, read once, so asking who set the user before some
/// instruction does not rescan the stage chain.
struct UserSetters {
    /// Per stage: the indexes of its body's `USER` instructions, in order.
    own: Vec<Vec<usize>>,
    /// Per stage: the source of the user at the end of its ancestors, `None` when still the
    /// base image's default. Filled in stage order by [`UserSetters::settle`].
    inherited: Vec<Option<UserSource>>,
}

impl UserSetters {
    fn new(model: &StageModel<'_, '_, '_>) -> Self {
        let instructions = model.file.instructions();
        let own = model
            .stages
            .iter()
            .map(|stage| {
                stage
                    .body()
                    .filter(|&at| matches!(instructions.get(at), Some(Instruction::User(_))))
                    .collect()
            })
            .collect();
        UserSetters {
            own,
            inherited: vec![None; model.stages.len()],
        }
    }

    /// Work out what stage `index` inherits; its parent must be settled, with `root_ends`
    /// final for it (stages are settled in order, and a parent comes first).
    fn settle(&mut self, model: &StageModel<'_, '_, '_>, index: usize, root_ends: &[bool]) {
        let Some(parent) = model.parent(index) else {
            return;
        };
        self.inherited[index] = match self.last_before(model, parent, usize::MAX) {
            Some(source) => Some(source),
            None if root_ends.get(parent).copied().unwrap_or(false) => Some(UserSource::Hardport),
            None => self.inherited[parent].clone(),
        };
    }

    /// The value of the stage's own last `USER` before instruction `until`.
    fn last_before(
        &self,
        model: &StageModel<'_, '_, '_>,
        index: usize,
        until: usize,
    ) -> Option<UserSource> {
        let own = &self.own[index];
        let at = own[..own.partition_point(|&at| at < until)].last()?;
        match model.file.instructions().get(*at) {
            Some(Instruction::User(user)) => {
                Some(UserSource::Written(user.arguments.value.to_string()))
            }
            _ => None,
        }
    }

    /// The last `USER` before `until` in the stage chain, or `None` when the user is still the
    /// base image's default (or hardport's `USER root` of a stage it is built on).
    fn explicit_user(
        &self,
        model: &StageModel<'_, '_, '_>,
        index: usize,
        until: usize,
    ) -> Option<UserSource> {
        self.last_before(model, index, until)
            .or_else(|| self.inherited[index].clone())
    }
}

// ---------------------------------------------------------------------------------------------
// user-root

/// What `user-root` decided for one stage.
struct StagePlan {
    stage: usize,
    /// The first `RUN` that needs root, `USER root` goes before it.
    root_before: Option<(usize, String)>,
    /// The instruction after which the runtime user is restored, and the user.
    restore_after: Option<(usize, String)>,
    /// The runtime user should be restored but is unknown.
    runtime_unknown: bool,
    /// The stage inherits hardport's `USER root` from the stage it is built on.
    inherited: bool,
}

fn user_root(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let instructions = model.file.instructions();
    let keyword = model.file.keyword("USER");
    let mut root_ends = vec![false; model.stages.len()];
    let mut setters = UserSetters::new(model);
    let mut plans = Vec::new();
    let mut reports = Vec::new();
    for stage in &model.stages {
        setters.settle(model, stage.index, &root_ends);
        let lineage = model.lineage(stage.index);
        let Some(entry) = lineage.entry() else {
            continue;
        };
        let writable: Vec<&str> = entry.hardened.workdir.as_deref().into_iter().collect();
        let root_runs: Vec<(usize, String)> = stage
            .body()
            .filter_map(|at| match instructions.get(at) {
                Some(Instruction::Run(run)) => {
                    needs_root(run, &writable).map(|reason| (at, reason))
                }
                _ => None,
            })
            .collect();
        let mut plan = StagePlan {
            stage: stage.index,
            root_before: None,
            restore_after: None,
            runtime_unknown: false,
            inherited: false,
        };
        for (at, reason) in &root_runs {
            if setters.explicit_user(model, stage.index, *at).is_some() {
                continue;
            }
            let hardened = model.config(stage.index, View::Hardened, Some(*at)).user;
            let public = match lineage {
                Lineage::Migrating(_) => model.config(stage.index, View::Public, Some(*at)).user,
                _ => spec_user(&entry.public),
            };
            match (
                public.as_deref().map(crate::stages::is_root_user),
                hardened.as_deref().map(crate::stages::is_root_user),
            ) {
                (Some(true), Some(false)) | (Some(true), None) => {
                    plan.root_before = Some((*at, reason.clone()));
                }
                (None, Some(false)) => {
                    reports.extend(unknown_public_user(model, stage.index, *at, reason, entry));
                }
                // No `USER` precedes the later RUNs either: they would find the same users.
                _ => {}
            }
            break;
        }
        let own_body_user_after = |from: usize| {
            (from..stage.end_index)
                .any(|at| matches!(instructions.get(at), Some(Instruction::User(_))))
        };
        let ends_root = match &plan.root_before {
            Some((at, _)) => !own_body_user_after(*at),
            None => {
                plan.inherited = setters.explicit_user(model, stage.index, stage.end_index)
                    == Some(UserSource::Hardport);
                plan.inherited
            }
        };
        if !ends_root {
            if plan.root_before.is_some() {
                plans.push(plan);
            }
            continue;
        }
        if model.is_runnable(stage.index) {
            match spec_user(&entry.hardened) {
                Some(runtime) if !crate::stages::is_root_user(&runtime) => {
                    // Every RUN that needs root from the first one on runs as root now.
                    let anchor = root_runs.last().map_or(stage.from_index, |(at, _)| *at);
                    plan.restore_after = Some((anchor, runtime));
                }
                Some(_) => root_ends[stage.index] = true,
                None => {
                    plan.runtime_unknown = true;
                    root_ends[stage.index] = true;
                }
            }
        } else {
            root_ends[stage.index] = true;
        }
        plans.push(plan);
    }
    let mut edits = Vec::new();
    for plan in &plans {
        if let Some((at, _)) = &plan.root_before
            && let Some(edit) = instructions
                .get(*at)
                .and_then(|run| model.file.insert_before(run, &format!("{keyword} root")))
        {
            edits.push(edit);
        }
        if let Some((at, runtime)) = &plan.restore_after
            && let Some(edit) = instructions.get(*at).and_then(|anchor| {
                model
                    .file
                    .insert_after(anchor, &format!("{keyword} {runtime}"))
            })
        {
            edits.push(edit);
        }
    }
    let fix = Fix::new(edits);
    for plan in &plans {
        reports.extend(plan_diagnostics(model, plan, fix.as_ref()));
    }
    reports
}

fn plan_diagnostics(
    model: &StageModel<'_, '_, '_>,
    plan: &StagePlan,
    fix: Option<&Fix>,
) -> Vec<Diagnostic> {
    let instructions = model.file.instructions();
    let label = stage_label(model, plan.stage);
    let entry = model.lineage(plan.stage).entry();
    let entry_name = entry.map_or("?", |entry| entry.name.as_str());
    let runtime = entry.and_then(|entry| spec_user(&entry.hardened));
    let range_of = |at: usize| {
        instructions
            .get(at)
            .and_then(|instruction| model.file.instruction_range(instruction))
    };
    let mut diagnostics = Vec::new();
    let restore = plan
        .restore_after
        .as_ref()
        .map(|(_, user)| format!(" and `USER {user}` after its last step that needs root, so it still runs as the replacement's user"))
        .unwrap_or_default();
    if let Some((at, reason)) = &plan.root_before {
        let why = match &runtime {
            Some(user) if !crate::stages::is_root_user(user) => {
                format!("the replacement runs as {user}")
            }
            _ => format!(
                "the catalog entry `{entry_name}` does not say which user the replacement runs as"
            ),
        };
        if let (Some(range), Some(fix)) = (range_of(*at), fix) {
            diagnostics.push(Diagnostic::fixed(
                Rule::UserRoot,
                range,
                format!(
                    "stage {label}: this RUN needs root ({reason}) and ran as root on the public image, but {why}: inserted `USER root` before it{restore}"
                ),
                fix.clone(),
            ));
        }
    } else if plan.inherited
        && let Some((at, user)) = &plan.restore_after
        && let Some(range) = range_of(*at)
        && let Some(fix) = fix
    {
        diagnostics.push(Diagnostic::fixed(
            Rule::UserRoot,
            range,
            format!(
                "stage {label} inherits the `USER root` hardport inserted in the stage it is built on: inserted `USER {user}` so it still runs as the replacement's user"
            ),
            fix.clone(),
        ));
    }
    if plan.runtime_unknown
        && model.is_final(plan.stage)
        && let Some(range) = range_of(
            plan.root_before
                .as_ref()
                .map_or(model.stages[plan.stage].from_index, |(at, _)| *at),
        )
    {
        diagnostics.push(
            Diagnostic::report(
                Rule::MissingFact,
                range,
                format!(
                    "the final stage {label} now runs as root: `USER root` keeps its RUN steps running as root as they did on the public image, but the catalog entry `{entry_name}` does not say the replacement's runtime user, so hardport cannot switch back"
                ),
            )
            .suggest(
                "add `hardened.user` to the entry (or supply an OCI image config), or add the runtime `USER` after the last step that needs root yourself",
            ),
        );
    }
    diagnostics
}

fn unknown_public_user(
    model: &StageModel<'_, '_, '_>,
    stage: usize,
    at: usize,
    reason: &str,
    entry: &Entry,
) -> Option<Diagnostic> {
    let range = model
        .file
        .instructions()
        .get(at)
        .and_then(|run| model.file.instruction_range(run))?;
    Some(
        Diagnostic::report(
            Rule::MissingFact,
            range,
            format!(
                "stage {}: this RUN needs root ({reason}) and the replacement runs as {}, but the catalog entry `{}` does not say which user the public image ran it as",
                stage_label(model, stage),
                spec_user(&entry.hardened).unwrap_or_default(),
                entry.name
            ),
        )
        .suggest(
            "add `public.user` to the entry (or supply an OCI image config); if it was root, add `USER root` before this line",
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// final-root

fn final_root(model: &StageModel<'_, '_, '_>) -> Option<Diagnostic> {
    let last = model.final_stage()?;
    let entry = model.lineage(last.index).entry()?;
    let runtime = spec_user(&entry.hardened)?;
    if crate::stages::is_root_user(&runtime) {
        return None;
    }
    let instructions = model.file.instructions();
    let (at, user) = chain(model, last.index).into_iter().find_map(|stage| {
        model.stages[stage]
            .body()
            .rev()
            .find_map(|at| match instructions.get(at) {
                Some(Instruction::User(user)) => Some((at, user)),
                _ => None,
            })
    })?;
    let value = user.arguments.value.as_ref();
    if !crate::stages::is_root_user(value) {
        return None;
    }
    let range = model.file.instruction_range(instructions.get(at)?)?;
    Some(
        Diagnostic::report(
            Rule::FinalRoot,
            range,
            format!(
                "the final stage runs as root (`USER {value}`), but the replacement {} runs as {runtime}: hardened images are meant to run as non-root",
                entry.replacement
            ),
        )
        .suggest(format!(
            "if root is only needed for some build steps, add `USER {runtime}` after them"
        )),
    )
}

// ---------------------------------------------------------------------------------------------
// Reading RUN commands

/// One simple command: its words (wrappers such as `sudo`, `env` and assignments removed) and
/// the targets of its output redirections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct SimpleCommand {
    args: Vec<String>,
    writes: Vec<String>,
}

/// How deep `sh -c '…'` scripts are followed.
const MAX_SCRIPT_DEPTH: usize = 4;

/// The simple commands a `RUN` runs, as far as its text tells.
fn run_commands(run: &RunInstruction<'_>) -> Vec<SimpleCommand> {
    let mut commands = Vec::new();
    match &run.arguments {
        Command::Exec(exec) => {
            let argv: Vec<String> = exec
                .value
                .iter()
                .map(|word| word.value.to_string())
                .collect();
            push_command(argv, Vec::new(), 0, &mut commands);
        }
        Command::Shell(shell) => commands.extend(script_commands(shell.value, 0)),
        _ => {}
    }
    // A heredoc is the script when the RUN runs nothing else or runs a shell (`RUN <<EOF`,
    // `RUN bash <<EOF`); otherwise it is input data (`RUN cat <<EOF > /etc/x`).
    let script_heredocs = match commands.first() {
        None => true,
        Some(first) => first
            .args
            .first()
            .is_some_and(|program| SHELLS.contains(&basename(program))),
    };
    if script_heredocs {
        for here_doc in &run.here_docs {
            commands.extend(script_commands(&here_doc.value, 0));
        }
    }
    commands
}

fn script_commands(script: &str, depth: usize) -> Vec<SimpleCommand> {
    let mut commands = Vec::new();
    let mut args = Vec::new();
    let mut writes = Vec::new();
    let mut tokens = tokenize(script).into_iter();
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(word) => args.push(word),
            Token::Redirect => {
                if let Some(Token::Word(target)) = tokens.next() {
                    writes.push(target);
                }
            }
            Token::Input => {
                // `< file`, `<< EOF`, `<<< word`: the next word is not an argument.
                let _ = tokens.next();
            }
            Token::Separator => {
                push_command(
                    std::mem::take(&mut args),
                    std::mem::take(&mut writes),
                    depth,
                    &mut commands,
                );
            }
        }
    }
    push_command(args, writes, depth, &mut commands);
    commands
}

/// Record one simple command, without its wrappers; a shell's `-c` script is read as well.
fn push_command(
    args: Vec<String>,
    writes: Vec<String>,
    depth: usize,
    commands: &mut Vec<SimpleCommand>,
) {
    let args = strip_wrappers(args);
    if args.is_empty() && writes.is_empty() {
        return;
    }
    let script = match args.first() {
        Some(program) if SHELLS.contains(&basename(program)) && depth < MAX_SCRIPT_DEPTH => {
            shell_script(&args[1..])
        }
        _ => None,
    };
    commands.push(SimpleCommand { args, writes });
    if let Some(script) = script {
        commands.extend(script_commands(&script, depth + 1));
    }
}

/// The script of `sh [-opts] -c SCRIPT …`.
fn shell_script(args: &[String]) -> Option<String> {
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word.starts_with("--") {
            continue;
        }
        match word.strip_prefix('-') {
            Some(flags) if flags.contains('c') => return words.next().cloned(),
            Some(flags) if flags.contains('o') => {
                let _ = words.next();
            }
            Some(_) => {}
            None => return None,
        }
    }
    None
}

/// Drop shell keywords, `VAR=value` assignments and wrappers (`sudo`, `env`, …) before the
/// program name.
fn strip_wrappers(args: Vec<String>) -> Vec<String> {
    let mut start = 0;
    while let Some(word) = args.get(start) {
        let program = basename(word);
        if matches!(
            word.as_str(),
            "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "}"
        ) || is_assignment(word)
        {
            start += 1;
            continue;
        }
        if matches!(
            program,
            "sudo" | "env" | "exec" | "command" | "nohup" | "time" | "nice" | "xargs" | "doas"
        ) {
            start += 1;
            while let Some(option) = args.get(start).filter(|word| word.starts_with('-')) {
                start += 1;
                if program == "sudo" && matches!(option.as_str(), "-u" | "-g") {
                    start += 1;
                }
            }
            continue;
        }
        break;
    }
    args.into_iter().skip(start).collect()
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
                && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        }
        None => false,
    }
}

/// A shell token: a word with quotes removed, a separator between simple commands, an output
/// redirection (its target is the next word) or an input redirection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Separator,
    Redirect,
    Input,
}

/// Split shell text into tokens: quotes and backslash escapes are honoured, line
/// continuations joined, comments dropped. Command substitutions and subshells are read as
/// separate commands. Never fails: odd input just gives odd words.
fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    let flush = |word: &mut String, in_word: &mut bool, tokens: &mut Vec<Token>| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word)));
        }
        *in_word = false;
    };
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some('\n') => {}
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some(other) => {
                    word.push(other);
                    in_word = true;
                }
                None => {}
            },
            '\'' => {
                in_word = true;
                for quoted in chars.by_ref() {
                    if quoted == '\'' {
                        break;
                    }
                    word.push(quoted);
                }
            }
            '"' => {
                in_word = true;
                while let Some(quoted) = chars.next() {
                    match quoted {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('\n') => {}
                            Some('\r') if chars.peek() == Some(&'\n') => {
                                chars.next();
                            }
                            Some(escaped @ ('"' | '\\' | '$' | '`')) => word.push(escaped),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => {}
                        },
                        _ => word.push(quoted),
                    }
                }
            }
            '#' if !in_word => {
                while chars.peek().is_some_and(|&next| next != '\n') {
                    chars.next();
                }
            }
            ' ' | '\t' | '\r' => flush(&mut word, &mut in_word, &mut tokens),
            '\n' | ';' | '|' | '(' | ')' | '`' => {
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Separator);
            }
            '&' if chars.peek() == Some(&'>') => {
                flush(&mut word, &mut in_word, &mut tokens);
                while chars.peek().is_some_and(|&next| next == '>') {
                    chars.next();
                }
                tokens.push(Token::Redirect);
            }
            '&' => {
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Separator);
            }
            '>' => {
                if in_word && !word.is_empty() && word.bytes().all(|byte| byte.is_ascii_digit()) {
                    // `2>file`: the digits name a file descriptor, not a word.
                    word.clear();
                    in_word = false;
                } else {
                    flush(&mut word, &mut in_word, &mut tokens);
                }
                while chars
                    .peek()
                    .is_some_and(|&next| matches!(next, '>' | '|' | '&'))
                {
                    chars.next();
                }
                tokens.push(Token::Redirect);
            }
            '<' => {
                flush(&mut word, &mut in_word, &mut tokens);
                while chars.peek().is_some_and(|&next| next == '<') {
                    chars.next();
                }
                tokens.push(Token::Input);
            }
            _ => {
                word.push(ch);
                in_word = true;
            }
        }
    }
    flush(&mut word, &mut in_word, &mut tokens);
    tokens
}

// ---------------------------------------------------------------------------------------------
// Which commands need root

/// Why a `RUN` needs root, or `None` when nothing in it obviously does. `writable` are
/// absolute directories the non-root user can write besides the scratch ones (the
/// replacement's working directory).
fn needs_root(run: &RunInstruction<'_>, writable: &[&str]) -> Option<String> {
    run_commands(run)
        .iter()
        .find_map(|command| command_needs_root(command, writable))
}

const PACKAGE_MANAGERS: [&str; 8] = [
    "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "tdnf",
];

/// Package manager subcommands that only read.
const READ_ONLY_SUBCOMMANDS: [&str; 22] = [
    "search",
    "show",
    "showpkg",
    "showsrc",
    "info",
    "list",
    "policy",
    "help",
    "version",
    "depends",
    "rdepends",
    "changelog",
    "download",
    "repoquery",
    "provides",
    "whatprovides",
    "check-update",
    "se",
    "if",
    "lu",
    "madison",
    "stats",
];

const USER_MANAGEMENT: [&str; 13] = [
    "useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod", "userdel", "groupdel",
    "deluser", "delgroup", "chpasswd", "chown", "chgrp",
];

/// Programs that only system administration runs, whatever their arguments.
const SYSTEM_TOOLS: [&str; 6] = [
    "update-ca-certificates",
    "update-alternatives",
    "ldconfig",
    "locale-gen",
    "dpkg-reconfigure",
    "setcap",
];

fn command_needs_root(command: &SimpleCommand, writable: &[&str]) -> Option<String> {
    let is_system_path = |path: &str| root_only_path(path, writable);
    if let Some(path) = command.writes.iter().find(|path| is_system_path(path)) {
        return Some(format!("a write to `{path}`"));
    }
    let (program, args) = command.args.split_first()?;
    let name = basename(program);
    let positionals: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let has = |flag: &str| args.iter().any(|arg| arg == flag);
    if PACKAGE_MANAGERS.contains(&name) {
        let subcommand = positionals.first()?;
        return (!READ_ONLY_SUBCOMMANDS.contains(subcommand))
            .then(|| format!("`{name} {subcommand}`"));
    }
    if USER_MANAGEMENT.contains(&name) || SYSTEM_TOOLS.contains(&name) {
        return Some(format!("`{name}`"));
    }
    let writes_system = |paths: &[&str]| {
        paths
            .iter()
            .find(|path| is_system_path(path))
            .map(|path| format!("a write to `{path}`"))
    };
    match name {
        "mkdir" | "touch" | "rm" | "tee" | "chmod" | "truncate" => writes_system(&positionals),
        "cp" | "mv" | "ln" | "install" | "rsync" => {
            if let Some(target) = option_value(args, "-t", "--target-directory") {
                return writes_system(&[target]);
            }
            if name == "install" && (has("-d") || has("--directory")) {
                return writes_system(&positionals);
            }
            match positionals.split_last() {
                Some((last, rest)) if !rest.is_empty() => writes_system(&[last]),
                _ => None,
            }
        }
        "sed" | "perl" => {
            let in_place = args.iter().any(|arg| {
                arg == "--in-place"
                    || arg.starts_with("--in-place=")
                    || (arg.starts_with('-') && !arg.starts_with("--") && arg.contains('i'))
            });
            if in_place {
                writes_system(&positionals)
            } else {
                None
            }
        }
        "curl" => option_value(args, "-o", "--output")
            .and_then(|path| writes_system(&[path]))
            .or_else(|| {
                option_value(args, "--output-dir", "--output-dir")
                    .and_then(|path| writes_system(&[path]))
            }),
        "wget" => option_value(args, "-O", "--output-document")
            .or_else(|| option_value(args, "-P", "--directory-prefix"))
            .and_then(|path| writes_system(&[path])),
        "tar" => option_value(args, "-C", "--directory").and_then(|path| writes_system(&[path])),
        "unzip" => option_value(args, "-d", "-d").and_then(|path| writes_system(&[path])),
        "git" if positionals.first() == Some(&"clone") => match positionals.as_slice() {
            [_, _, destination, ..] => writes_system(&[destination]),
            _ => None,
        },
        "dpkg" => args
            .iter()
            .find(|arg| {
                matches!(
                    arg.as_str(),
                    "-i" | "--install"
                        | "-r"
                        | "--remove"
                        | "-P"
                        | "--purge"
                        | "--configure"
                        | "--unpack"
                        | "--add-architecture"
                        | "--set-selections"
                )
            })
            .map(|arg| format!("`dpkg {arg}`")),
        "rpm" => args
            .iter()
            .find(|arg| {
                (arg.starts_with("-i") || arg.starts_with("-U") || arg.starts_with("-F"))
                    || matches!(
                        arg.as_str(),
                        "-e" | "--install" | "--upgrade" | "--freshen" | "--erase" | "--import"
                    )
            })
            .map(|arg| format!("`rpm {arg}`")),
        "make" if positionals.contains(&"install") => Some("`make install`".into()),
        "npm" => {
            let installs = positionals.first().is_some_and(|sub| {
                matches!(
                    *sub,
                    "install"
                        | "i"
                        | "add"
                        | "update"
                        | "up"
                        | "uninstall"
                        | "rm"
                        | "remove"
                        | "un"
                        | "link"
                        | "ln"
                )
            });
            let global = args.iter().any(|arg| {
                matches!(
                    arg.as_str(),
                    "-g" | "--global" | "--location=global" | "--global=true"
                )
            });
            (installs && global).then(|| "`npm install -g`".into())
        }
        "gem" => {
            let installs = positionals
                .first()
                .is_some_and(|sub| matches!(*sub, "install" | "update" | "uninstall"));
            (installs && !has("--user-install")).then(|| "`gem install`".into())
        }
        _ if is_pip(name) && !in_virtualenv(program) => pip_install(args),
        _ if is_python(name) => match args.iter().position(|arg| arg == "-m") {
            Some(at) if args.get(at + 1).is_some_and(|module| module == "pip") => {
                pip_install(args.get(at + 2..).unwrap_or_default())
            }
            _ => None,
        },
        _ => None,
    }
}

fn pip_install(args: &[String]) -> Option<String> {
    let subcommand = args.iter().find(|arg| !arg.starts_with('-'))?;
    let user = args.iter().any(|arg| arg == "--user");
    (subcommand == "install" && !user).then(|| "`pip install` without `--user`".into())
}

/// `pip`, `pip3`, `pip3.12`.
fn is_pip(name: &str) -> bool {
    name.strip_prefix("pip")
        .is_some_and(|version| version.chars().all(|ch| ch.is_ascii_digit() || ch == '.'))
}

/// `python`, `python3`, `python3.12`.
fn is_python(name: &str) -> bool {
    name.strip_prefix("python")
        .is_some_and(|version| version.chars().all(|ch| ch.is_ascii_digit() || ch == '.'))
}

/// A `pip` called by an absolute path outside the system directories belongs to a virtualenv.
fn in_virtualenv(program: &str) -> bool {
    program.starts_with('/')
        && !["/usr/", "/bin/", "/sbin/"]
            .iter()
            .any(|dir| program.starts_with(dir))
}

/// The value of `-x VALUE`, `-abx VALUE`, `-xVALUE`, `--long VALUE` or `--long=VALUE`.
fn option_value<'a>(args: &'a [String], short: &str, long: &str) -> Option<&'a str> {
    let letter = short.strip_prefix('-').filter(|letter| letter.len() == 1);
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let cluster_ends_with_letter = letter.is_some_and(|letter| {
            !word.starts_with("--")
                && word
                    .strip_prefix('-')
                    .is_some_and(|cluster| cluster.ends_with(letter))
        });
        if word == short || word == long || cluster_ends_with_letter {
            return words.next().map(String::as_str);
        }
        if let Some(value) = word
            .strip_prefix(long)
            .and_then(|rest| rest.strip_prefix('='))
        {
            return Some(value);
        }
        if short.len() == 2
            && !word.starts_with("--")
            && let Some(value) = word.strip_prefix(short)
            && !value.is_empty()
        {
            return Some(value);
        }
    }
    None
}

/// Directories anyone may write (or that are not files at all).
const SCRATCH_DIRECTORIES: [&str; 5] = ["/tmp", "/var/tmp", "/dev", "/proc", "/sys"];

/// Whether writing the absolute `path` needs root. On the public image everything outside
/// scratch directories is root's: `/usr`, `/etc`, `/var`, but also `/app`, `/opt` or
/// `/home/node` (which the replacement does not have). Only the scratch directories and the
/// `writable` ones are exempt.
fn root_only_path(path: &str, writable: &[&str]) -> bool {
    let under = |prefix: &str| {
        let prefix = prefix.trim_end_matches('/');
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    path.starts_with('/')
        && !SCRATCH_DIRECTORIES.iter().any(|dir| under(dir))
        && !writable
            .iter()
            .any(|dir| dir.trim_end_matches('/').len() > 1 && under(dir))
}

// ---------------------------------------------------------------------------------------------
// Which names a Dockerfile creates

/// The user and group names `useradd`, `adduser`, `groupadd` or `addgroup` create.
fn created_by(args: &[String]) -> Vec<String> {
    let Some((program, args)) = args.split_first() else {
        return Vec::new();
    };
    let (short_values, long_values): (&str, &[&str]) = match basename(program) {
        "useradd" => (
            "bcdefgGkKpRPsuZ",
            &[
                "base-dir",
                "comment",
                "home-dir",
                "home",
                "expiredate",
                "inactive",
                "gid",
                "groups",
                "skel",
                "key",
                "password",
                "root",
                "prefix",
                "shell",
                "uid",
                "selinux-user",
                "selinux-range",
            ],
        ),
        "groupadd" => (
            "gKpRPU",
            &["gid", "key", "password", "root", "prefix", "users"],
        ),
        "adduser" => (
            "hgsGuk",
            &[
                "home", "shell", "uid", "gid", "firstuid", "lastuid", "firstgid", "lastgid",
                "gecos", "comment", "ingroup", "conf", "key",
            ],
        ),
        "addgroup" => ("g", &["gid", "conf", "firstgid", "lastgid", "key"]),
        _ => return Vec::new(),
    };
    let mut positionals = Vec::new();
    let mut short_options = false;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if let Some(long) = word.strip_prefix("--") {
            if !long.contains('=') && long_values.contains(&long) {
                let _ = words.next();
            }
            continue;
        }
        if let Some(cluster) = word.strip_prefix('-').filter(|cluster| !cluster.is_empty()) {
            short_options = true;
            // In `-mu 1000` the first letter that takes a value takes the rest or the next word.
            if let Some(at) = cluster.find(|letter| short_values.contains(letter))
                && at + 1 == cluster.len()
            {
                let _ = words.next();
            }
            continue;
        }
        positionals.push(word.clone());
    }
    match basename(program) {
        "useradd" | "groupadd" => positionals.pop().into_iter().collect(),
        // `adduser NAME`; busybox `adduser [-D …] NAME GROUP` creates NAME in GROUP, while
        // Debian `adduser USER GROUP` only adds an existing user to a group.
        "adduser" => match positionals.as_slice() {
            [name] => vec![name.clone()],
            [name, _] if short_options => vec![name.clone()],
            _ => Vec::new(),
        },
        // `addgroup NAME`; `addgroup USER GROUP` only adds a user to a group.
        _ => match positionals.as_slice() {
            [name] => vec![name.clone()],
            _ => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests;
