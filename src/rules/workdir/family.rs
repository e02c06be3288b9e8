//! One stage family's check: which moves it needs, and the diagnostics and fixes they make.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use parse_dockerfile::Instruction;

use super::paths::PathSet;
use super::walker::{SeenWorkdir, Walker};
use super::{Family, Group, Move, Outcome, Reach, SYSTEM_LOCATIONS, StageRefs, TMP};
use crate::diagnostic::{Diagnostic, Fix};
use crate::line_index::LineIndex;
use crate::rules::Rule;
use crate::rules::dev_variant::stage_label;
use crate::stages::{StageModel, UserSwitch, View};
use crate::unix_path::{clean_absolute, join_rest, under};

/// The `RUN`s of a family (in stage order, as a [`Walker`] records them) that make an
/// unwritable `WORKDIR` matter, indexed so that finding the first one after each `WORKDIR`
/// takes constant time: a family of thousands of stages, `WORKDIR`s and `RUN`s stays linear.
pub(super) struct NonRootRuns<'r> {
    pub(super) runs: &'r [(usize, usize)],
    /// For each run, the user it runs as when that is a non-root user on the replacement and
    /// another user on the public image (a `USER` the Dockerfile sets itself decides both
    /// alike: nothing changed for that `RUN`).
    pub(super) users: Vec<Option<String>>,
    /// For each run, the first run at or after it in the same stage that has a user.
    pub(super) next_in_stage: Vec<Option<usize>>,
    /// For each member stage, the first run with a user in the stages built on it, directly
    /// or through others.
    pub(super) first_below: HashMap<usize, usize>,
}

impl<'r> NonRootRuns<'r> {
    pub(super) fn new(
        model: &StageModel<'_, '_, '_>,
        members: &[usize],
        runs: &'r [(usize, usize)],
        switches: &[UserSwitch],
    ) -> Self {
        let hardened = model.users_at_with(View::Hardened, runs, switches);
        let public = model.users_at(View::Public, runs);
        let users: Vec<Option<String>> = hardened
            .into_iter()
            .zip(public)
            .map(|(user, public)| {
                user.filter(|user| {
                    !crate::stages::is_root_user(user) && public.as_deref() != Some(user.as_str())
                })
            })
            .collect();
        let mut next_in_stage = vec![None; runs.len()];
        // The first run with a user of each stage that has one.
        let mut first_in_stage: HashMap<usize, usize> = HashMap::new();
        for index in (0..runs.len()).rev() {
            let same_stage_next = runs
                .get(index + 1)
                .filter(|next| next.0 == runs[index].0)
                .and_then(|_| next_in_stage[index + 1]);
            next_in_stage[index] = users[index].as_ref().map(|_| index).or(same_stage_next);
            if let Some(first) = next_in_stage[index] {
                first_in_stage.insert(runs[index].0, first);
            }
        }
        // Children come after their parents: fold each stage's tree into its parent's.
        let mut first_below: HashMap<usize, usize> = HashMap::new();
        for &stage in members.iter().rev() {
            let own = first_in_stage.get(&stage).copied();
            let tree = [own, first_below.get(&stage).copied()]
                .into_iter()
                .flatten()
                .min();
            if let (Some(tree), Some(parent)) = (tree, model.parent(stage)) {
                let below = first_below.entry(parent).or_insert(tree);
                *below = (*below).min(tree);
            }
        }
        NonRootRuns {
            runs,
            users,
            next_in_stage,
            first_below,
        }
    }

    /// The user of the first `RUN` after `seen` (same stage, or a stage built on it) that has
    /// one.
    pub(super) fn after(&self, seen: &SeenWorkdir) -> Option<String> {
        let here = self
            .runs
            .partition_point(|&run| run <= (seen.stage, seen.instruction));
        let in_stage = self
            .runs
            .get(here)
            .filter(|run| run.0 == seen.stage)
            .and_then(|_| self.next_in_stage[here]);
        let first = in_stage.or_else(|| self.first_below.get(&seen.stage).copied())?;
        self.users.get(first).cloned().flatten()
    }
}

/// Checks one family: finds its moves, plans them, and turns the plan into diagnostics.
pub(super) struct FamilyCheck<'m, 'f, 'a, 'c> {
    pub(super) model: &'m StageModel<'f, 'a, 'c>,
    pub(super) family: &'m Family<'c>,
    pub(super) refs: &'m StageRefs,
    pub(super) public_workdir: Option<String>,
    pub(super) hardened_workdir: Option<String>,
    pub(super) lines: &'m LineIndex,
    /// The `USER` lines `user-root` inserts.
    pub(super) switches: &'m [UserSwitch],
    pub(super) diagnostics: Vec<Diagnostic>,
}

/// The `workdir` move of case 1 and what it needs said.
#[derive(Debug, Clone)]
pub(super) struct WorkdirMove {
    pub(super) from: String,
    pub(super) to: String,
    pub(super) user: String,
    pub(super) stage: usize,
    pub(super) at: Range<usize>,
}

impl<'m, 'f, 'a, 'c> FamilyCheck<'m, 'f, 'a, 'c> {
    pub(super) fn new(
        model: &'m StageModel<'f, 'a, 'c>,
        family: &'m Family<'c>,
        refs: &'m StageRefs,
        lines: &'m LineIndex,
        switches: &'m [UserSwitch],
    ) -> Self {
        FamilyCheck {
            switches,
            model,
            family,
            refs,
            public_workdir: family
                .entry
                .public
                .workdir
                .as_deref()
                .and_then(clean_absolute),
            hardened_workdir: family
                .entry
                .hardened
                .workdir
                .as_deref()
                .and_then(clean_absolute),
            lines,
            diagnostics: Vec::new(),
        }
    }

    pub(super) fn run(mut self) -> Vec<Diagnostic> {
        let public_workdir = self.public_workdir.clone();
        let survey = Walker::walk(&self, public_workdir.as_deref(), &[]);
        let mut moves = self.data_path_moves();
        let workdir = self.workdir_move(&survey);
        if let Some(workdir) = &workdir {
            moves.push(Move {
                from: workdir.from.clone(),
                to: workdir.to.clone(),
                group: Group::Workdir,
                reach: Reach::Family,
            });
        }
        moves.extend(self.default_workdir_moves(&survey));
        self.default_workdir_mentions(&survey);
        if moves.is_empty() {
            return self.diagnostics;
        }
        let plan = Walker::walk(&self, public_workdir.as_deref(), &moves);
        let mut groups: BTreeMap<Group, (Vec<Outcome>, Vec<Outcome>)> = BTreeMap::new();
        for outcome in plan.outcomes {
            let (group, is_edit) = match &outcome {
                Outcome::Edit { group, .. } => (*group, true),
                Outcome::Block { group, .. } => (*group, false),
            };
            let (edits, blocks) = groups.entry(group).or_default();
            match is_edit {
                true => edits.push(outcome),
                false => blocks.push(outcome),
            }
        }
        for (group, (edits, blocks)) in groups {
            self.conclude(group, &edits, &blocks, workdir.as_ref(), &moves);
        }
        self.diagnostics
    }

    pub(super) fn label(&self, stage: usize) -> String {
        stage_label(self.model, stage)
    }

    pub(super) fn entry_name(&self) -> &'c str {
        &self.family.entry.name
    }

    /// The catalog's `paths` as family-wide moves.
    pub(super) fn data_path_moves(&self) -> Vec<Move> {
        self.family
            .entry
            .paths
            .iter()
            .filter_map(|(from, to)| {
                let (from, to) = (clean_absolute(from)?, clean_absolute(to)?);
                (from != "/" && from != to).then_some(Move {
                    from,
                    to,
                    group: Group::DataPath,
                    reach: Reach::Family,
                })
            })
            .collect()
    }

    /// Whether the replacement's user can be taken to write `path`.
    pub(super) fn writable(&self, path: &str) -> bool {
        under(path, TMP).is_some()
            || self
                .hardened_workdir
                .as_deref()
                .is_some_and(|workdir| under(path, workdir).is_some())
            || self.family.entry.paths.iter().any(|(from, to)| {
                [from, to].into_iter().any(|prefix| {
                    clean_absolute(prefix).is_some_and(|prefix| under(path, &prefix).is_some())
                })
            })
    }

    /// Why `path` is a directory software may find by its path, if it is one: a system
    /// location, the public image's own working directory or one of its volumes.
    pub(super) fn image_location(&self, path: &str) -> Option<String> {
        if let Some(system) = SYSTEM_LOCATIONS
            .iter()
            .find(|location| under(path, location).is_some())
        {
            return Some(format!(
                "a directory under {system}, where software finds files by path"
            ));
        }
        let public = &self.family.entry.public;
        let entry = self.entry_name();
        if let Some(workdir) = self
            .public_workdir
            .as_deref()
            .filter(|workdir| *workdir != "/")
            && under(path, workdir).is_some()
        {
            return Some(format!("{entry}'s own working directory ({workdir})"));
        }
        public
            .volumes
            .iter()
            .flatten()
            .filter_map(|volume| clean_absolute(volume))
            .find(|volume| under(path, volume).is_some())
            .map(|volume| format!("{entry}'s volume {volume}"))
    }

    /// A stage of the family that sets a `USER` of its own: a move would carry its paths too,
    /// into a directory that user may not be able to write.
    pub(super) fn stage_with_own_user(&self) -> Option<usize> {
        let instructions = self.model.file.instructions();
        self.family.members.iter().copied().find(|&stage| {
            self.model.stages[stage]
                .body()
                .any(|at| matches!(instructions.get(at), Some(Instruction::User(_))))
        })
    }

    /// Case 1: the outermost unwritable `WORKDIR` a non-root `RUN` follows.
    pub(super) fn workdir_move(&mut self, survey: &Walker<'_, 'f, 'a, 'c>) -> Option<WorkdirMove> {
        let entry = self.entry_name();
        let mut candidates: Vec<(SeenWorkdir, String)> = Vec::new();
        let runs = NonRootRuns::new(
            self.model,
            &self.family.members,
            &survey.runs,
            self.switches,
        );
        for seen in &survey.workdirs {
            if self.writable(&seen.path) {
                continue;
            }
            let Some(user) = runs.after(seen) else {
                continue;
            };
            if let Some(owner) = self.image_location(&seen.path) {
                self.diagnostics.push(
                    Diagnostic::report(
                        Rule::Workdir,
                        seen.range.clone(),
                        format!(
                            "stage {} runs RUN steps as user {user} after `WORKDIR {}`, which that user may not be able to write on {entry}'s replacement; hardport does not move {owner}",
                            self.label(seen.stage),
                            seen.path
                        ),
                    )
                    .suggest(
                        "let the user write it (run that step as root, or `COPY --chown`) or move it by hand",
                    ),
                );
            } else if seen.path == "/" {
                let hint = match &self.hardened_workdir {
                    Some(workdir) => {
                        format!(
                            "set a WORKDIR under {workdir}, the replacement's working directory"
                        )
                    }
                    None => "set a WORKDIR that user can write".to_owned(),
                };
                self.diagnostics.push(
                    Diagnostic::report(
                        Rule::Workdir,
                        seen.range.clone(),
                        format!(
                            "stage {} runs RUN steps in / as user {user} on {entry}'s replacement, and only root can write /; hardport does not move /",
                            self.label(seen.stage)
                        ),
                    )
                    .suggest(hint),
                );
            } else if candidates.iter().all(|(other, _)| other.path != seen.path) {
                candidates.push((seen.clone(), user));
            }
        }
        let (first, user) = candidates.first().cloned()?;
        if let Some(stage) = self.stage_with_own_user() {
            self.diagnostics.push(
                Diagnostic::report(
                    Rule::Workdir,
                    first.range.clone(),
                    format!(
                        "stage {} runs RUN steps as user {user} after `WORKDIR {}`, which that user may not be able to write on {entry}'s replacement; hardport does not move it, because stage {} of the same family sets its own USER, which may not be able to write the new place",
                        self.label(first.stage),
                        first.path,
                        self.label(stage)
                    ),
                )
                .suggest("let the user write it (run that step as root, or `COPY --chown`) or move it by hand"),
            );
            return None;
        }
        let Some(to) = self.hardened_workdir.clone() else {
            self.diagnostics.push(
                Diagnostic::report(
                    Rule::MissingFact,
                    first.range.clone(),
                    format!(
                        "stage {} runs RUN steps as user {user} after `WORKDIR {}`, which that user may not be able to write on {entry}'s replacement; to move it hardport needs the replacement's working directory",
                        self.label(first.stage),
                        first.path
                    ),
                )
                .suggest(format!(
                    "add `hardened.workdir` to catalog entry `{entry}` (or supply the image's OCI config)"
                )),
            );
            return None;
        };
        // The outermost directory that contains the first one moves; it carries all below it.
        let (chosen, chosen_user) = candidates
            .iter()
            .filter(|(seen, _)| under(&first.path, &seen.path).is_some())
            .min_by_key(|(seen, _)| seen.path.len())
            .cloned()
            .unwrap_or((first, user));
        for (seen, user) in &candidates {
            if under(&seen.path, &chosen.path).is_none() {
                self.diagnostics.push(
                    Diagnostic::report(
                        Rule::Workdir,
                        seen.range.clone(),
                        format!(
                            "stage {} also runs RUN steps as user {user} after `WORKDIR {}`, which that user may not be able to write on {entry}'s replacement; hardport moves one directory per stage family ({} → {to})",
                            self.label(seen.stage),
                            seen.path,
                            chosen.path
                        ),
                    )
                    .suggest("move this one by hand"),
                );
            }
        }
        if under(&to, &chosen.path).is_some() {
            self.diagnostics.push(
                Diagnostic::report(
                    Rule::Workdir,
                    chosen.range.clone(),
                    format!(
                        "stage {} runs RUN steps as user {chosen_user} after `WORKDIR {}`, which that user may not be able to write on {entry}'s replacement; hardport cannot move it to {to}, which lies inside it",
                        self.label(chosen.stage),
                        chosen.path
                    ),
                )
                .suggest("move it by hand"),
            );
            return None;
        }
        Some(WorkdirMove {
            from: chosen.path,
            to,
            user: chosen_user,
            stage: chosen.stage,
            at: chosen.range,
        })
    }

    /// Case 2: sources other stages copy from a stage that wrote relative paths into the
    /// default working directory.
    pub(super) fn default_workdir_moves(&mut self, survey: &Walker<'_, 'f, 'a, 'c>) -> Vec<Move> {
        let copied: Vec<(usize, usize, usize)> = survey
            .copies
            .iter()
            .copied()
            .filter(|(_, from, _)| {
                survey
                    .finals
                    .get(from)
                    .is_some_and(|state| !state.roots.is_empty())
            })
            .collect();
        let Some(&(_, relied, first_copy)) = copied.first() else {
            return Vec::new();
        };
        match (self.public_workdir.clone(), self.hardened_workdir.clone()) {
            (Some(public), Some(hardened)) if public == hardened => Vec::new(),
            (Some(public), Some(hardened)) => {
                copies_from_moves(survey, &copied, &public, &hardened)
            }
            (Some(public), None) => {
                // Only a source that would move needs the fact: probe with any destination.
                let probe = copies_from_moves(survey, &copied, &public, "/");
                let plan = Walker::walk(self, Some(&public), &probe);
                let depending = plan.outcomes.first().map(|outcome| match outcome {
                    Outcome::Edit { edit, .. } => edit.range.start,
                    Outcome::Block { at, .. } => *at,
                });
                if let Some(at) = depending {
                    self.default_workdir_fact(survey, relied, at, &["`hardened.workdir`"]);
                }
                Vec::new()
            }
            (None, hardened) => {
                let missing: &[&str] = match hardened {
                    Some(_) => &["`public.workdir`"],
                    None => &["`public.workdir`", "`hardened.workdir`"],
                };
                self.default_workdir_fact(survey, relied, first_copy, missing);
                Vec::new()
            }
        }
    }

    /// The `missing-fact` of case 2, unless case 1 already asked for the same fact.
    pub(super) fn default_workdir_fact(
        &mut self,
        survey: &Walker<'_, 'f, 'a, 'c>,
        relied: usize,
        copy_at: usize,
        missing: &[&str],
    ) {
        let asked = self
            .diagnostics
            .iter()
            .any(|diagnostic| diagnostic.rule == Rule::MissingFact);
        if asked && missing == ["`hardened.workdir`"] {
            return;
        }
        let at = survey
            .finals
            .get(&relied)
            .and_then(|state| state.relied_at)
            .unwrap_or(copy_at);
        let entry = self.entry_name();
        self.diagnostics.push(
            Diagnostic::report(
                Rule::MissingFact,
                at..at,
                format!(
                    "stage {} writes relative paths (line {}) into the base image's default working directory, and line {} copies from there; to tell where they are on {entry}'s replacement hardport needs {}",
                    self.label(relied),
                    self.lines.line(at),
                    self.lines.line(copy_at),
                    missing.join(" and "),
                ),
            )
            .suggest(format!(
                "add it to catalog entry `{entry}` (or supply the image's OCI config)"
            )),
        );
    }

    /// Turn one group's planned edits, or what blocks them, into a diagnostic.
    pub(super) fn conclude(
        &mut self,
        group: Group,
        edits: &[Outcome],
        blocks: &[Outcome],
        workdir: Option<&WorkdirMove>,
        moves: &[Move],
    ) {
        let entry = self.entry_name();
        let pairs = moves
            .iter()
            .filter(|change| change.group == group && change.reach == Reach::Family)
            .map(|change| format!("{} at {}", change.from, change.to))
            .collect::<Vec<_>>()
            .join(", ");
        if !blocks.is_empty() {
            let mut reasons: Vec<(usize, String)> = blocks
                .iter()
                .filter_map(|block| match block {
                    Outcome::Block { at, reason, .. } => Some((*at, reason.clone())),
                    Outcome::Edit { .. } => None,
                })
                .map(|(at, reason)| match reason.starts_with("line ") {
                    true => (at, reason),
                    false => (at, format!("line {}: {reason}", self.lines.line(at))),
                })
                .collect();
            reasons.sort();
            reasons.dedup_by(|a, b| a.1 == b.1);
            let first = reasons.first().map_or(0, |(at, _)| *at);
            let list = reasons
                .into_iter()
                .map(|(_, reason)| reason)
                .collect::<Vec<_>>()
                .join("; ");
            let (range, message, suggestion) = match (group, workdir) {
                (Group::Workdir, Some(workdir)) => (
                    workdir.at.clone(),
                    format!(
                        "stage {} runs RUN steps as user {} after `WORKDIR {}`, which that user may not be able to write on {entry}'s replacement, but hardport cannot move it to {}: {list}",
                        self.label(workdir.stage),
                        workdir.user,
                        workdir.from,
                        workdir.to
                    ),
                    "move it by hand",
                ),
                (Group::DataPath, _) => (
                    first..first,
                    format!(
                        "{entry}'s replacement keeps {pairs} (catalog `paths`), but hardport cannot rewrite every use: {list}"
                    ),
                    "rewrite them by hand",
                ),
                _ => (
                    first..first,
                    format!(
                        "{} wrote relative paths into the working directory, which is {} on {entry}'s replacement instead of {}, but hardport cannot carry the move to every source copied from there: {list}",
                        self.relying_stages(moves),
                        self.hardened_workdir.as_deref().unwrap_or("?"),
                        self.public_workdir.as_deref().unwrap_or("?")
                    ),
                    "change them by hand",
                ),
            };
            self.diagnostics
                .push(Diagnostic::report(group.rule(), range, message).suggest(suggestion));
            return;
        }
        let mut changes = Vec::new();
        let mut list = Vec::new();
        for outcome in edits {
            if let Outcome::Edit { edit, old, new, .. } = outcome {
                changes.push(edit.clone());
                list.push(format!(
                    "line {}: `{old}` → `{new}`",
                    self.lines.line(edit.range.start)
                ));
            }
        }
        let range = changes.first().map_or(0..0, |edit| edit.range.clone());
        let Some(fix) = Fix::new(changes) else {
            return;
        };
        let list = list.join(", ");
        let (range, message) = match (group, workdir) {
            (Group::Workdir, Some(workdir)) => (
                workdir.at.clone(),
                format!(
                    "stage {} runs RUN steps as user {} after `WORKDIR {}`, which that user may not be able to write on {entry}'s replacement: moved it to {}, the replacement's working directory, with every path under it ({list})",
                    self.label(workdir.stage),
                    workdir.user,
                    workdir.from,
                    workdir.to
                ),
            ),
            (Group::DataPath, _) => (
                range,
                format!("{entry}'s replacement keeps {pairs} (catalog `paths`): {list}"),
            ),
            _ => (
                range,
                format!(
                    "{} wrote relative paths into the working directory, which is {} on {entry}'s replacement instead of {}: sources copied from there follow ({list})",
                    self.relying_stages(moves),
                    self.hardened_workdir.as_deref().unwrap_or("?"),
                    self.public_workdir.as_deref().unwrap_or("?")
                ),
            ),
        };
        self.diagnostics
            .push(Diagnostic::fixed(group.rule(), range, message, fix));
    }

    /// `stage `build`` or `stages `a`, `b`` for the stages whose relative paths moved.
    pub(super) fn relying_stages(&self, moves: &[Move]) -> String {
        let mut stages: Vec<usize> = moves
            .iter()
            .filter_map(|change| match change.reach {
                Reach::CopiesFrom { stage, .. } => Some(stage),
                Reach::Family => None,
            })
            .collect();
        stages.dedup();
        let labels: Vec<String> = stages.iter().map(|&stage| self.label(stage)).collect();
        match labels.len() {
            1 => format!("stage {}", labels.join("")),
            _ => format!("stages {}", labels.join(", ")),
        }
    }

    /// Case 2 in commands: a specific path a stage wrote relative to the default working
    /// directory, named by absolute path in `CMD`/`ENTRYPOINT`/`HEALTHCHECK`/`RUN`.
    pub(super) fn default_workdir_mentions(&mut self, survey: &Walker<'_, 'f, 'a, 'c>) {
        let (Some(public), Some(hardened)) = (&self.public_workdir, &self.hardened_workdir) else {
            return;
        };
        if public == hardened {
            return;
        }
        let file = self.model.file;
        let mut reported: HashSet<usize> = HashSet::new();
        for &index in &self.family.members {
            let (Some(stage), Some(state)) =
                (self.model.stages.get(index), survey.finals.get(&index))
            else {
                continue;
            };
            let mut paths: Vec<String> = Vec::new();
            let mut distinct: HashSet<String> = HashSet::new();
            for (root, _) in state.roots.to_vec() {
                if let Some(path) = clean_absolute(&format!("{public}/{root}"))
                    .filter(|_| !root.is_empty() && distinct.insert(root.clone()))
                {
                    paths.push(path);
                }
            }
            let set = PathSet::new(paths.iter().map(String::as_str));
            for instruction in file.instructions().get(stage.body()).unwrap_or_default() {
                if !matches!(
                    instruction,
                    Instruction::Cmd(_)
                        | Instruction::Entrypoint(_)
                        | Instruction::Healthcheck(_)
                        | Instruction::Run(_)
                ) {
                    continue;
                }
                let Some(range) = file.instruction_range(instruction) else {
                    continue;
                };
                for (path, at) in set.mentions(file.text(), range) {
                    let path = &paths[path];
                    if !reported.insert(self.lines.line(at)) {
                        continue;
                    }
                    let moved = join_rest(hardened, under(path, public).unwrap_or_default());
                    self.diagnostics.push(
                        Diagnostic::report(
                            Rule::Workdir,
                            at..at + path.len(),
                            format!(
                                "{} names {path}, which stage {} wrote relative to the working directory; on {}'s replacement it is {moved}",
                                crate::dockerfile::instruction_keyword(instruction),
                                self.label(index),
                                self.entry_name()
                            ),
                        )
                        .suggest("change it by hand"),
                    );
                }
            }
        }
    }
}

/// The moves of case 2: for each stage copied from, each relative path it wrote.
pub(super) fn copies_from_moves(
    survey: &Walker<'_, '_, '_, '_>,
    copied: &[(usize, usize, usize)],
    public: &str,
    hardened: &str,
) -> Vec<Move> {
    let mut moves: Vec<Move> = Vec::new();
    // Each stage's roots once: its `exclude` list is the same for all of them.
    let mut seen: HashSet<(usize, String, bool)> = HashSet::new();
    for &(_, from, _) in copied {
        let Some(state) = survey.finals.get(&from) else {
            continue;
        };
        for (root, certain) in state.roots.to_vec() {
            let Some(root) = clean_absolute(&format!("{public}/{root}")) else {
                continue;
            };
            if !seen.insert((from, root.clone(), *certain)) {
                continue;
            }
            moves.push(Move {
                from: public.to_owned(),
                to: hardened.to_owned(),
                group: Group::DefaultWorkdir,
                reach: Reach::CopiesFrom {
                    stage: from,
                    root,
                    exclude: state.absolutes.clone(),
                    certain: *certain,
                },
            });
        }
    }
    moves
}
