//! Who runs each instruction: the user at given points of the stages, with the `USER` lines
//! hardport inserts or without, computed in one sweep over the file.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use parse_dockerfile::Instruction;

use super::{Stage, StageModel, View, image_user, parent_of};

impl StageModel<'_, '_, '_> {
    /// `config(stage, view, Some(position)).user` for each `(stage, position)` of `points`, in
    /// one pass over the file when the points are sorted: [`StageModel::config`] walks the
    /// stage and its whole `FROM` chain again on every call, which a rule asking at every `RUN`
    /// of a deep chain cannot afford.
    pub fn users_at(&self, view: View, points: &[(usize, usize)]) -> Vec<Option<String>> {
        let ends = self.end_users(view);
        self.sweep_users(
            view,
            points,
            |parent| ends.get(parent).cloned().flatten(),
            &[],
        )
    }

    /// [`StageModel::users_at`] with `USER` lines that hardport inserts (`switches`, sorted by
    /// position): who runs each `RUN` once this run's fixes are applied. Only the stages of
    /// `points` and the stages they are built on are walked: a rule asks this once per family
    /// of stages, and a file of thousands of independent stages must not be walked whole for
    /// each of them.
    pub fn users_at_with(
        &self,
        view: View,
        points: &[(usize, usize)],
        switches: &[UserSwitch],
    ) -> Vec<Option<String>> {
        if switches.is_empty() {
            return self.users_at(view, points);
        }
        let mut ends: HashMap<usize, Option<String>> = HashMap::new();
        for index in self.with_ancestors(points.iter().map(|&(stage, _)| stage)) {
            let stage = &self.stages[index];
            let user = start_user(stage, view, |parent| ends.get(&parent).cloned().flatten());
            ends.insert(index, self.apply_users(stage.body(), user, switches));
        }
        self.sweep_users(
            view,
            points,
            |parent| ends.get(&parent).cloned().flatten(),
            switches,
        )
    }

    /// `stages` and every stage they are built on, in file order (parents first).
    fn with_ancestors(&self, stages: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut found = BTreeSet::new();
        for stage in stages {
            let mut current = self.stages.get(stage);
            while let Some(stage) = current.filter(|stage| found.insert(stage.index)) {
                current = parent_of(stage).and_then(|parent| self.stages.get(parent));
            }
        }
        found.into_iter().collect()
    }

    /// The user at each of `points`, given the user at the end of each parent stage
    /// (`end_of`).
    fn sweep_users(
        &self,
        view: View,
        points: &[(usize, usize)],
        end_of: impl Fn(usize) -> Option<String>,
        switches: &[UserSwitch],
    ) -> Vec<Option<String>> {
        let mut users = Vec::with_capacity(points.len());
        // The stage swept last, its next instruction and the user before it.
        let mut swept: Option<(usize, usize, Option<String>)> = None;
        for &(index, until) in points {
            let Some(stage) = self.stages.get(index) else {
                users.push(None);
                continue;
            };
            let (next, user) = match swept.take() {
                Some((at, next, user)) if at == index && next <= until => (next, user),
                _ => (stage.from_index + 1, start_user(stage, view, &end_of)),
            };
            let end = until.min(stage.end_index).max(next);
            let mut user = self.apply_users(next..end, user, switches);
            // A line inserted before the instruction asked about is in effect at it.
            if let Some(switch) = switch_at(switches, end, false).filter(|_| end < stage.end_index)
            {
                user = Some(switch.user.clone());
            }
            users.push(user.clone());
            // Resuming at `end` applies its switch again, which changes nothing.
            swept = Some((index, end, user));
        }
        users
    }

    /// The user at the end of every stage in `view`: computed once, parents first, for every
    /// rule and stage family that asks.
    fn end_users(&self, view: View) -> &[Option<String>] {
        let cell = match view {
            View::Public => &self.end_users[0],
            View::Hardened => &self.end_users[1],
        };
        cell.get_or_init(|| {
            let mut ends = Vec::with_capacity(self.stages.len());
            for stage in &self.stages {
                let user = start_user(stage, view, |parent| ends.get(parent).cloned().flatten());
                ends.push(self.apply_users(stage.body(), user, &[]));
            }
            ends
        })
    }

    /// `user` after the instructions at `instructions` (file positions): their `USER`s and
    /// the `switches` before and after them.
    fn apply_users(
        &self,
        instructions: Range<usize>,
        user: Option<String>,
        switches: &[UserSwitch],
    ) -> Option<String> {
        let start = instructions.start;
        let body = self
            .file
            .instructions()
            .get(instructions)
            .unwrap_or_default();
        body.iter()
            .enumerate()
            .fold(user, |user, (offset, instruction)| {
                let at = start + offset;
                let user = switch_at(switches, at, false).map_or(user, |s| Some(s.user.clone()));
                let user = user_set_by(instruction).or(user);
                switch_at(switches, at, true).map_or(user, |s| Some(s.user.clone()))
            })
    }
}

/// A `USER` line hardport inserts: before or after the instruction at `at` (a file position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSwitch {
    pub at: usize,
    pub after: bool,
    pub user: String,
}

/// The switch placed before (`after: false`) or after the instruction at `at`.
fn switch_at(switches: &[UserSwitch], at: usize, after: bool) -> Option<&UserSwitch> {
    let index = switches.partition_point(|switch| (switch.at, switch.after) < (at, after));
    switches
        .get(index)
        .filter(|switch| switch.at == at && switch.after == after)
}

/// The user a stage starts with, given the user at the end of each stage before it (`end_of`).
fn start_user(
    stage: &Stage<'_, '_>,
    view: View,
    end_of: impl Fn(usize) -> Option<String>,
) -> Option<String> {
    match parent_of(stage) {
        Some(parent) => end_of(parent),
        None => image_user(stage, view),
    }
}

/// The user a `USER` instruction sets.
pub(super) fn user_set_by(instruction: &Instruction<'_>) -> Option<String> {
    match instruction {
        Instruction::User(user) => Some(user.arguments.value.to_string()),
        _ => None,
    }
}
