//! `user-root` and `final-root` (documented in the parent module's header).

use std::collections::BTreeMap;

use parse_dockerfile::Instruction;

use super::needs_root::needs_root;
use super::{chain, spec_user};
use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Fix};
use crate::rules::Rule;
use crate::rules::dev_variant::stage_label;
use crate::rules::package_install;
use crate::stages::{Lineage, StageModel, UserSwitch, View, is_root_user};

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

/// Why a stage's `RUN` steps get `USER root`.
#[derive(Debug, Clone)]
enum Why {
    /// The stage is being migrated and its `RUN`s ran as the public image's root user.
    RanAsRoot,
    /// The stage is already on the replacement and this `RUN` needs root (the reason).
    NeedsRoot(String),
}

/// What `user-root` decided for one stage.
struct StagePlan {
    stage: usize,
    /// `USER root` goes before this `RUN`.
    root_before: Option<(usize, Why)>,
    /// The instruction after which the runtime user is restored, and the user.
    restore_after: Option<(usize, String)>,
    /// The runtime user should be restored but is unknown.
    runtime_unknown: bool,
    /// The stage inherits hardport's `USER root` from the stage it is built on.
    inherited: bool,
    /// The user-switching program (`gosu`) the container starts with, which keeps it root.
    switcher: Option<String>,
}

impl StagePlan {
    fn switches(&self) -> impl Iterator<Item = UserSwitch> + '_ {
        let root = self.root_before.as_ref().map(|(at, _)| UserSwitch {
            at: *at,
            after: false,
            user: "root".to_owned(),
        });
        let restore = self.restore_after.as_ref().map(|(at, user)| UserSwitch {
            at: *at,
            after: true,
            user: user.clone(),
        });
        root.into_iter().chain(restore)
    }
}

/// Every stage's plan, and what could not be planned for lack of a fact.
struct Plans {
    stages: Vec<StagePlan>,
    reports: Vec<Diagnostic>,
}

fn plan(model: &StageModel<'_, '_, '_>) -> Plans {
    let instructions = model.file.instructions();
    let switchers = user_switchers(model);
    let mut root_ends = vec![false; model.stages.len()];
    let mut setters = UserSetters::new(model);
    let mut plans = Plans {
        stages: Vec::new(),
        reports: Vec::new(),
    };
    for stage in &model.stages {
        setters.settle(model, stage.index, &root_ends);
        let lineage = model.lineage(stage.index);
        let Some(entry) = lineage.entry() else {
            continue;
        };
        let writable: Vec<&str> = entry.hardened.workdir.as_deref().into_iter().collect();
        // A RUN `package-install` removes (it ran only apt's housekeeping) needs no root.
        let runs: Vec<usize> = stage
            .body()
            .filter(|&at| {
                matches!(instructions.get(at), Some(Instruction::Run(run))
                    if !package_install::removes_run(model, entry, run))
            })
            .collect();
        let mut plan = StagePlan {
            stage: stage.index,
            root_before: None,
            restore_after: None,
            runtime_unknown: false,
            inherited: false,
            switcher: None,
        };
        for &at in &runs {
            // A `USER` before this RUN holds for every later one too.
            if setters.explicit_user(model, stage.index, at).is_some() {
                break;
            }
            let why = match (lineage, instructions.get(at)) {
                (Lineage::Migrating(_), _) => Why::RanAsRoot,
                (_, Some(Instruction::Run(run))) => match needs_root(model, run, &writable) {
                    Some(reason) => Why::NeedsRoot(reason),
                    None => continue,
                },
                _ => continue,
            };
            let hardened = model.config(stage.index, View::Hardened, Some(at)).user;
            let public = match lineage {
                Lineage::Migrating(_) => model.config(stage.index, View::Public, Some(at)).user,
                _ => spec_user(&entry.public),
            };
            match (
                public.as_deref().map(is_root_user),
                hardened.as_deref().map(is_root_user),
            ) {
                (Some(true), Some(false) | None) => plan.root_before = Some((at, why)),
                (None, Some(false) | None) => {
                    plans
                        .reports
                        .extend(unknown_public_user(model, stage.index, at, &why, entry))
                }
                _ => {}
            }
            break;
        }
        let own_user_after = |from: usize| {
            (from..stage.end_index)
                .any(|at| matches!(instructions.get(at), Some(Instruction::User(_))))
        };
        let ends_root = match &plan.root_before {
            Some((at, _)) => !own_user_after(*at),
            None => {
                plan.inherited = setters.explicit_user(model, stage.index, stage.end_index)
                    == Some(UserSource::Hardport);
                plan.inherited
            }
        };
        if !ends_root {
            if plan.root_before.is_some() {
                plans.stages.push(plan);
            }
            continue;
        }
        let starts_container = model.is_runnable(stage.index) || sets_command(model, stage.index);
        if let Some(switcher) = starts_container
            .then(|| switchers[stage.index].clone())
            .flatten()
        {
            // gosu and friends must start as root to switch users: the container stays root.
            plan.switcher = Some(switcher);
            root_ends[stage.index] = true;
        } else if starts_container {
            match spec_user(&entry.hardened) {
                Some(runtime) if !is_root_user(&runtime) => {
                    // After the last RUN: every step that ran as root still does, and nothing
                    // after it runs a command.
                    let anchor = runs.last().copied().unwrap_or(stage.from_index);
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
        plans.stages.push(plan);
    }
    plans
}

/// Whether the stage sets its own `CMD` or `ENTRYPOINT`: a stage other stages build on that
/// does is still an image a container is run from (`--target release`).
fn sets_command(model: &StageModel<'_, '_, '_>, index: usize) -> bool {
    model.instructions(index).any(|instruction| {
        matches!(
            instruction,
            Instruction::Cmd(_) | Instruction::Entrypoint(_)
        )
    })
}

/// Per stage, whether it or a stage it is built on sets `CMD` or `ENTRYPOINT`; parents first.
fn chains_set_command(model: &StageModel<'_, '_, '_>) -> Vec<bool> {
    let mut sets = Vec::with_capacity(model.stages.len());
    for stage in &model.stages {
        let inherited = model
            .parent(stage.index)
            .is_some_and(|parent| sets.get(parent).copied().unwrap_or(false));
        sets.push(inherited || sets_command(model, stage.index));
    }
    sets
}

/// Programs that start as root and switch to another user (besides `gosu` and `su-exec`,
/// [`crate::shell::USER_SWITCHERS`]): a container that starts with one must start as root.
const OTHER_USER_SWITCHING_PROGRAMS: &[&str] = &[
    "su",
    "runuser",
    "setpriv",
    "s6-setuidgid",
    "setuidgid",
    "chpst",
];

/// Per stage, the user-switching program its container starts with: one its `ENTRYPOINT` or
/// `CMD` runs (also through `sh -c`), or `gosu`/`su-exec` its stage chain installs or copies
/// in for an entrypoint script hardport cannot read (`exec gosu app "$@"`). Computed once for
/// all stages, parents first, so a long chain is not walked again for every stage.
pub(super) fn user_switchers(model: &StageModel<'_, '_, '_>) -> Vec<Option<String>> {
    let instructions = model.file.instructions();
    let count = model.stages.len();
    // The nearest ENTRYPOINT and CMD along each stage's chain, and what its chain installs.
    let (mut entrypoints, mut cmds) = (vec![None; count], vec![None; count]);
    let mut installed: Vec<Option<String>> = Vec::with_capacity(count);
    let mut switchers = Vec::with_capacity(count);
    for stage in &model.stages {
        let parent = model.parent(stage.index);
        let own = |kind: fn(&Instruction<'_>) -> bool| {
            stage
                .body()
                .rev()
                .find(|&at| instructions.get(at).is_some_and(kind))
        };
        let entrypoint = own(|i| matches!(i, Instruction::Entrypoint(_)))
            .or_else(|| parent.and_then(|parent| entrypoints[parent]));
        let cmd = own(|i| matches!(i, Instruction::Cmd(_)))
            .or_else(|| parent.and_then(|parent| cmds[parent]));
        entrypoints[stage.index] = entrypoint;
        cmds[stage.index] = cmd;
        let inherited = parent.and_then(|parent| installed.get(parent).cloned().flatten());
        installed.push(inherited.or_else(|| installs_switcher(model, stage.index)));
        let started = started_switcher(model, stage.index, entrypoint, cmd);
        switchers.push(started.or_else(|| installed[stage.index].clone()));
    }
    switchers
}

/// The user-switching program the `ENTRYPOINT` and `CMD` at these positions run, or the
/// image's own when the chain sets none.
fn started_switcher(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entrypoint: Option<usize>,
    cmd: Option<usize>,
) -> Option<String> {
    let instructions = model.file.instructions();
    let mut commands: Vec<crate::shell::SimpleCommand> = [entrypoint, cmd]
        .into_iter()
        .flatten()
        .filter_map(|at| match instructions.get(at) {
            Some(Instruction::Entrypoint(entrypoint)) => Some(&entrypoint.arguments),
            Some(Instruction::Cmd(cmd)) => Some(&cmd.arguments),
            _ => None,
        })
        .flat_map(|command| crate::shell::run::command_line(model.file, command))
        .collect();
    if entrypoint.is_none() || cmd.is_none() {
        let spec = model.lineage(index).entry().map(|entry| &entry.public);
        let image = spec
            .into_iter()
            .flat_map(|spec| [spec.entrypoint.clone(), spec.cmd.clone()]);
        commands.extend(image.flatten().flat_map(crate::shell::run::argv_commands));
    }
    let switches = |name: &str| {
        crate::shell::USER_SWITCHERS.contains(&name)
            || OTHER_USER_SWITCHING_PROGRAMS.contains(&name)
    };
    commands.into_iter().find_map(|command| {
        let wrapper = command
            .switched_user()
            .map(|(switcher, _)| crate::rules::basename(&switcher.text).to_owned());
        wrapper.or_else(|| {
            command
                .program()
                .filter(|name| switches(name))
                .map(str::to_owned)
        })
    })
}

/// `gosu` or `su-exec` when the stage's own body installs or copies one in.
fn installs_switcher(model: &StageModel<'_, '_, '_>, stage: usize) -> Option<String> {
    let named = |text: &str| {
        let name = crate::rules::basename(text.trim_end_matches('/'));
        crate::shell::USER_SWITCHERS
            .contains(&name)
            .then(|| name.to_owned())
    };
    model
        .instructions(stage)
        .find_map(|instruction| match instruction {
            // A cheap look first: most RUNs never name either program.
            Instruction::Run(run)
                if model
                    .file
                    .instruction_range(instruction)
                    .and_then(|range| model.file.text().get(range))
                    .is_some_and(|text| text.contains("gosu") || text.contains("su-exec")) =>
            {
                model
                    .run_commands(run)
                    .iter()
                    .flat_map(|command| &command.words)
                    .find_map(|word| named(&word.text))
            }
            Instruction::Copy(copy) => std::iter::once(copy.dest.value.as_ref())
                .chain(copy.src.iter().filter_map(|source| match source {
                    parse_dockerfile::Source::Path(path) => Some(path.value.as_ref()),
                    _ => None,
                }))
                .find_map(named),
            _ => None,
        })
}

/// `user-root`'s diagnostics, and the `USER` lines it inserts in file order: what the stage
/// model's migrated view ([`StageModel::users_at_with`]) needs to see who runs each `RUN`
/// after this run's fixes.
pub(super) fn user_root(model: &StageModel<'_, '_, '_>) -> (Vec<Diagnostic>, Vec<UserSwitch>) {
    let instructions = model.file.instructions();
    let keyword = model.file.keyword("USER");
    let Plans {
        stages,
        mut reports,
    } = plan(model);
    let mut switches: Vec<UserSwitch> = stages.iter().flat_map(StagePlan::switches).collect();
    switches.sort_by_key(|switch| (switch.at, switch.after));
    let commands = chains_set_command(model);
    // One fix per chain of stages built `FROM` one another (shared by the chain's findings): a
    // parent's `USER root` and its child's restore stand or fall together (the child would run
    // as root otherwise), while a stage a `# hardport: ignore` keeps on its public image drops
    // its own lines with its findings and leaves the other chains' in place.
    let mut fixes: BTreeMap<usize, Option<Fix>> = BTreeMap::new();
    for plan in &stages {
        let root = model.root(plan.stage);
        let fix = fixes.entry(root).or_insert_with(|| {
            let mut chain: Vec<UserSwitch> = stages
                .iter()
                .filter(|other| model.root(other.stage) == root)
                .flat_map(StagePlan::switches)
                .collect();
            chain.sort_by_key(|switch| (switch.at, switch.after));
            let edits = chain.iter().filter_map(|switch| {
                let line = format!("{keyword} {}", switch.user);
                let at = instructions.get(switch.at)?;
                match switch.after {
                    true => model.file.insert_after(at, &line),
                    false => model.file.insert_before(at, &line),
                }
            });
            Fix::new(edits.collect())
        });
        reports.extend(plan_diagnostics(model, plan, fix.as_ref(), &commands));
    }
    (reports, switches)
}

fn plan_diagnostics(
    model: &StageModel<'_, '_, '_>,
    plan: &StagePlan,
    fix: Option<&Fix>,
    chain_sets_command: &[bool],
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
    let no_command = !chain_sets_command[plan.stage];
    let restore = plan
        .restore_after
        .as_ref()
        .map(|(_, user)| {
            let base_note = match no_command {
                true => format!(" (the stage sets no CMD or ENTRYPOINT: if other images are built FROM it, their RUN steps now run as {user} too)"),
                false => String::new(),
            };
            format!(" and `USER {user}` after the stage's last RUN, so the container still runs as the replacement's user{base_note}")
        })
        .unwrap_or_default();
    let switcher = plan
        .switcher
        .as_ref()
        .map(|program| format!("; the container switches users with `{program}`, which must start as root, so it keeps running as root"))
        .unwrap_or_default();
    if let Some((at, why)) = &plan.root_before {
        let replacement = match &runtime {
            Some(user) if !is_root_user(user) => format!("the replacement runs as {user}"),
            _ => format!(
                "the catalog entry `{entry_name}` does not say which user the replacement runs as"
            ),
        };
        let message = match why {
            Why::RanAsRoot => format!(
                "stage {label}: its RUN steps ran as root on the public image (no USER before them), but {replacement}: inserted `USER root` before the first one{restore}{switcher}"
            ),
            Why::NeedsRoot(reason) => format!(
                "stage {label}: this RUN needs root ({reason}) and ran as root on the public image, but {replacement}: inserted `USER root` before it{restore}{switcher}"
            ),
        };
        if let (Some(range), Some(fix)) = (range_of(*at), fix) {
            diagnostics.push(Diagnostic::fixed(
                Rule::UserRoot,
                range,
                message,
                fix.clone(),
            ));
        }
    } else if plan.inherited
        && let Some((at, user)) = &plan.restore_after
        && let Some(range) = range_of(*at)
        && let Some(fix) = fix
    {
        let place = match *at == model.stages[plan.stage].from_index {
            true => "its FROM",
            false => "its last RUN",
        };
        diagnostics.push(Diagnostic::fixed(
            Rule::UserRoot,
            range,
            format!(
                "stage {label} inherits the `USER root` hardport inserted in the stage it is built on: inserted `USER {user}` after {place} so it still runs as the replacement's user"
            ),
            fix.clone(),
        ));
    }
    // Public entrypoint scripts such as postgres's and redis's start the server as a service
    // user (`gosu postgres`); without them the container would not.
    let script_note = entry
        .and_then(|entry| entry.public.entrypoint.as_ref())
        .and_then(|words| words.iter().find(|word| word.ends_with("entrypoint.sh")))
        .map(|script| format!(" (the public image's `{script}` may have started the server as another user; some servers, such as postgres, refuse to run as root)"))
        .unwrap_or_default();
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
                    "the final stage {label} runs as root: `USER root` keeps its RUN steps running as root, and the catalog entry `{entry_name}` does not say the replacement's runtime user, so hardport cannot switch to it{script_note}"
                ),
            )
            .suggest(
                "add `hardened.user` to the entry (or supply an OCI image config), or add the runtime `USER` after the last RUN yourself",
            ),
        );
    }
    diagnostics
}

fn unknown_public_user(
    model: &StageModel<'_, '_, '_>,
    stage: usize,
    at: usize,
    why: &Why,
    entry: &Entry,
) -> Option<Diagnostic> {
    let range = model
        .file
        .instructions()
        .get(at)
        .and_then(|run| model.file.instruction_range(run))?;
    let step = match why {
        Why::RanAsRoot => "this RUN ran as the public image's default user".to_owned(),
        Why::NeedsRoot(reason) => format!("this RUN needs root ({reason})"),
    };
    Some(
        Diagnostic::report(
            Rule::MissingFact,
            range,
            format!(
                "stage {}: {step} and the replacement {}, but the catalog entry `{}` does not say which user the public image ran it as",
                stage_label(model, stage),
                spec_user(&entry.hardened).map_or_else(
                    || "states no user either".to_owned(),
                    |user| format!("runs as {user}")
                ),
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

pub(super) fn final_root(model: &StageModel<'_, '_, '_>) -> Option<Diagnostic> {
    let last = model.final_stage()?;
    if user_switchers(model)[last.index].is_some() {
        // It starts as root to switch users: root is what it needs (and `user-root` wrote it).
        return None;
    }
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
