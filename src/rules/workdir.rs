//! `workdir` and `data-path`: make every path name the same directory on the replacement.
//!
//! ## What it does
//! Both rules act on the stages whose image this run migrates (`Lineage::Migrating`), one
//! *family* at a time: a stage and every stage built `FROM` it share one filesystem, so a path
//! moves in all of them or in none.
//!
//! **`workdir`**, two cases:
//! 1. *An unwritable `WORKDIR`.* A family uses an absolute `WORKDIR P` and a later `RUN` (in that
//!    stage or one built from it) runs as the replacement's non-root user (the effective user at
//!    that `RUN` as the stage model computes it once `user-root` has inserted its `USER` lines: a
//!    `RUN` that ran as root on the public image is kept as root, so it never moves anything;
//!    one whose user the Dockerfile set itself is the same on both images). This leaves the
//!    stages whose public image already ran as a non-root user, or whose public user the
//!    catalog does not know. `P` is not under the
//!    replacement's working directory (`hardened.workdir`), not under `/tmp` and not a path the
//!    catalog's `paths` map covers. A `P` that software finds by its path is reported, not
//!    moved: a system location (`/usr/share`, `/usr/lib`, `/etc`, `/var`, … — nginx serves
//!    `/usr/share/nginx/html`), the public image's own working directory when it is not `/`
//!    (`/go`, `/usr/local/apache2`) and its declared volumes. Otherwise `P` moves to
//!    `hardened.workdir`, and so does every path
//!    under it: `WORKDIR`s, `COPY`/`ADD` destinations, `VOLUME`s, `ENV` values (each
//!    `:`-separated element, so `PATH=/app/bin:$PATH` works), `RUN --mount` targets in the family,
//!    and `COPY --from=<family stage>` / `RUN --mount=from=<family stage>,source=` sources in any
//!    stage. Relative paths stay as they are: they move with the working directory. When a
//!    family has several such directories, the outermost one containing the first is moved and
//!    every other one is reported. A family in which any stage sets a `USER` of its own is
//!    never moved (its paths would move into a directory that user may not write): reported.
//! 2. *The public image's default working directory.* A stage that writes relative paths
//!    (`COPY`/`ADD` destinations, a relative `WORKDIR`) before any absolute `WORKDIR` relied on
//!    the public image's working directory (`public.workdir`); on the replacement they land in
//!    `hardened.workdir`. The stage's own text stays, but `COPY --from=<stage> <source>` in later
//!    stages moves when the source lies under what the stage wrote. Not moved: a source under an
//!    absolute destination or `WORKDIR` of the stage, or under an absolute path one of its `RUN`
//!    commands names (`pip install --prefix=/install`); and, where the stage wrote `.` into `/`
//!    (which covers the whole filesystem), a source whose first component is a standard
//!    top-level directory (`/usr`, `/etc`, `/opt`, …, the FHS list below), taken to be the base
//!    image's. A destination with an unknown variable blocks instead of guessing.
//!    `CMD`/`ENTRYPOINT`/`HEALTHCHECK`/`RUN` text naming a specific path written that way
//!    (`/app.jar`) is reported, not edited.
//!
//! **`data-path`**: the catalog's `paths` map (old prefix → new prefix, matched by whole path
//! components: `/data` matches `/data` and `/data/x`, not `/database`) says where the
//! replacement keeps a directory. Every path of a family under an old prefix is rewritten the
//! same way as a `workdir` move (`VOLUME` in JSON and plain form, `ENV`, `WORKDIR`, `COPY`/`ADD`
//! destinations, mount targets, `COPY --from` sources).
//!
//! ## Why
//! Hardened images run as a non-root user whose writable directory is the image's working
//! directory (Minimus build images: `/home/build`). Which builders need the move: BuildKit
//! (`docker build` since 23.0, `docker buildx`) creates a missing `WORKDIR` owned by the
//! current user (its `dispatchWorkdir` passes the image's user to the mkdir), so there a new
//! directory is writable; the legacy builder and kaniko create it owned by root
//! (moby/moby#20295, kaniko#2259), and in every builder a directory the image already has keeps
//! its owner. So `RUN npm ci` in `/app` fails with `EACCES` on those, and the move (one prefix,
//! the outermost directory, nothing else) makes the file build the same on all of them. Writable volumes may sit on another path on
//! the replacement, so data written to the old path would not be in the volume.
//!
//! ## Example
//! ```dockerfile
//! FROM node:20 AS build                  FROM node:20 AS build
//! WORKDIR /app                      →    WORKDIR /home/build
//! ENV APP_DIR=/app                       ENV APP_DIR=/home/build
//! RUN npm ci                             RUN npm ci
//! FROM nginx                             FROM nginx
//! COPY --from=build /app/dist /srv  →    COPY --from=build /home/build/dist /srv
//! ```
//!
//! ## When it only reports
//! One move is one fix, applied whole or not at all. Nothing of a move is edited when one path
//! that depends on it cannot be: text with a variable (`$HOME/app`, `${DIR}`) is never edited;
//! it is accepted when expanding it after the move (with the stage's `ENV` and `ARG` defaults,
//! the `ENV` values rewritten) gives the moved path, else reported. Also reported: a path
//! hardport cannot tell the value of, a path written in a form it does not edit (`//app`, a line
//! continuation inside), a relative path that reaches into the moved directory from outside it,
//! and any other instruction of the family whose text names the directory (`RUN chown /app`,
//! `CMD ["node", "/app/server.js"]`, a `LABEL`): those are commands hardport does not rewrite.
//! `WORKDIR /` is reported (moving `/` would move everything). Missing catalog facts are
//! `missing-fact` warnings: `hardened.workdir` for an unwritable `WORKDIR`; for case 2,
//! `public.workdir` when it is unknown and a later stage copies from the stage, or
//! `hardened.workdir` when some copied source would move (the same test as the fix, so copying
//! only `/usr/local/lib/...` asks for nothing). An unknown runtime user decides nothing here
//! (the USER rules report it).
//!
//! ## Fix safety
//! Edits replace whole path prefixes inside tokens whose bytes equal their value, keeping
//! quotes, so `git apply` and a re-parse see the same instruction with another path. The rules
//! compare the public image with the replacement, so they act only in the pass that migrates
//! the base image; afterwards the stage is `Hardened` and a second run changes nothing.

use std::collections::{BTreeSet, HashMap};

use parse_dockerfile::{CopyInstruction, Instruction, RunInstruction};

use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Edit};
use crate::dockerfile::{Dockerfile, Token, option_field};
use crate::line_index::LineIndex;
use crate::rules::Rule;
use crate::shared_stack::SharedStack;
use crate::stages::{Base, Lineage, StageModel, UserSwitch};

mod family;
mod paths;
mod walker;

use family::FamilyCheck;

/// Top-level directories of a Linux filesystem (FHS): under a stage that wrote `.` into `/`,
/// a source below one of these is taken to be the base image's, not the build context's.
const SYSTEM_DIRECTORIES: [&str; 21] = [
    "bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media", "mnt", "opt",
    "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var",
];

/// The directory every user may write.
const TMP: &str = "/tmp";

/// Directories whose contents software finds by path (`/usr/share/nginx/html`,
/// `/var/lib/postgresql`): a `WORKDIR` below one is reported, never moved.
const SYSTEM_LOCATIONS: [&str; 26] = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr/bin",
    "/usr/include",
    "/usr/lib",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/local/bin",
    "/usr/local/etc",
    "/usr/local/include",
    "/usr/local/lib",
    "/usr/local/sbin",
    "/usr/local/share",
    "/usr/sbin",
    "/usr/share",
    "/var",
];

/// `switches`: the `USER` lines `user-root` inserts, in file order ([`super::user::UserCheck`]).
pub fn check(model: &StageModel<'_, '_, '_>, switches: &[UserSwitch]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut families = families(model);
    if families.is_empty() {
        return diagnostics;
    }
    // Built once for every family: a file of many stages has as many families.
    let lines = LineIndex::new(model.file.text());
    let refs = StageRefs::new(model);
    for family in &mut families {
        family.walked = refs.walked(model, &family.members);
    }
    for family in families {
        diagnostics.extend(FamilyCheck::new(model, &family, &refs, &lines, switches).run());
    }
    diagnostics
}

/// Stages that share one filesystem: a migrating root stage and every stage built on it.
struct Family<'c> {
    /// In stage order.
    members: Vec<usize>,
    /// The stages a walk of the family visits, in stage order (see [`StageRefs::walked`]).
    walked: Vec<usize>,
    entry: &'c Entry,
}

impl Family<'_> {
    fn contains(&self, stage: usize) -> bool {
        self.members.binary_search(&stage).is_ok()
    }
}

/// The stages each `--from` names, read once for every family: a file of thousands of stages
/// must not look a name up among all stages, or look for the stages that copy from a family,
/// once per family.
struct StageRefs {
    /// The first stage of each name, in ASCII lowercase (`--from` matches names so).
    names: HashMap<String, usize>,
    /// For each stage, the later stages that copy or mount from it, as the walker reads them.
    copiers: Vec<Vec<usize>>,
}

impl StageRefs {
    fn new(model: &StageModel<'_, '_, '_>) -> Self {
        let mut names: HashMap<String, usize> = HashMap::new();
        for stage in &model.stages {
            if let Some(name) = stage.name {
                names
                    .entry(name.to_ascii_lowercase())
                    .or_insert(stage.index);
            }
        }
        let mut refs = StageRefs {
            names,
            copiers: vec![Vec::new(); model.stages.len()],
        };
        for stage in &model.stages {
            let body = model.file.instructions().get(stage.body());
            for instruction in body.unwrap_or_default() {
                let sources: Vec<usize> = match instruction {
                    Instruction::Copy(copy) => refs
                        .copy_source(model, stage.index, copy)
                        .into_iter()
                        .collect(),
                    Instruction::Run(run) => mount_options(model.file, run)
                        .filter_map(|mount| refs.mount_source(stage.index, mount))
                        .collect(),
                    _ => Vec::new(),
                };
                for source in sources {
                    if let Some(copiers) = refs.copiers.get_mut(source)
                        && copiers.last() != Some(&stage.index)
                    {
                        copiers.push(stage.index);
                    }
                }
            }
        }
        refs
    }

    /// The earlier stage a `--from` value names: by name (case-insensitive) or by index.
    fn stage(&self, current: usize, text: &str) -> Option<usize> {
        self.names
            .get(&text.to_ascii_lowercase())
            .copied()
            .filter(|&index| index < current)
            .or_else(|| text.parse::<usize>().ok().filter(|&index| index < current))
    }

    /// The stage `COPY --from` names.
    fn copy_source<'a>(
        &self,
        model: &StageModel<'_, 'a, '_>,
        stage: usize,
        copy: &CopyInstruction<'a>,
    ) -> Option<usize> {
        model
            .file
            .flag_value(&copy.options, "from")
            .and_then(|token| self.stage(stage, token.text))
    }

    /// The stage a `RUN --mount=…,from=<stage>` option names.
    fn mount_source(&self, stage: usize, mount: Token<'_>) -> Option<usize> {
        option_field(mount, "from").and_then(|token| self.stage(stage, token.text))
    }

    /// The stages a walk of a family (`members`, in stage order) must visit, in stage order:
    /// the members, the stages that copy or mount from one, and the stages those are built on
    /// (whose variables and working directory they inherit). No other stage produces an
    /// outcome or a state the walk reads, so a file of many families is walked in linear time
    /// overall rather than once per family.
    fn walked(&self, model: &StageModel<'_, '_, '_>, members: &[usize]) -> Vec<usize> {
        let mut walked: BTreeSet<usize> = members.iter().copied().collect();
        let copiers = members
            .iter()
            .filter_map(|&member| self.copiers.get(member))
            .flatten();
        for &copier in copiers {
            let mut stage = Some(copier);
            while let Some(index) = stage.filter(|&index| walked.insert(index)) {
                stage = match model.stages.get(index).map(|stage| &stage.base) {
                    Some(Base::Stage(parent)) if *parent < index => Some(*parent),
                    _ => None,
                };
            }
        }
        walked.into_iter().collect()
    }
}

/// The `--mount` options of a `RUN` whose value hardport can read.
fn mount_options<'r, 'a>(
    file: &'r Dockerfile<'a>,
    run: &'r RunInstruction<'a>,
) -> impl Iterator<Item = Token<'a>> {
    run.options
        .iter()
        .filter(|flag| flag.name.value.eq_ignore_ascii_case("mount"))
        .filter_map(|flag| flag.value.as_ref().and_then(|value| file.token(value)))
}

fn families<'c>(model: &StageModel<'_, '_, 'c>) -> Vec<Family<'c>> {
    let mut families: Vec<Family<'c>> = Vec::new();
    // Root stage → its family's position in `families`.
    let mut positions: HashMap<usize, usize> = HashMap::new();
    for stage in &model.stages {
        let Lineage::Migrating(migration) = model.lineage(stage.index) else {
            continue;
        };
        let root = model.root(stage.index);
        match positions.get(&root) {
            Some(&position) => families[position].members.push(stage.index),
            None => {
                positions.insert(root, families.len());
                families.push(Family {
                    members: vec![stage.index],
                    walked: Vec::new(),
                    entry: migration.entry,
                });
            }
        }
    }
    families
}

/// Which fix a move's edits belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    /// Case 1 of `workdir`: an unwritable `WORKDIR` moved.
    Workdir,
    /// Case 2 of `workdir`: `COPY --from` sources under the default working directory.
    DefaultWorkdir,
    DataPath,
}

impl Group {
    fn rule(self) -> Rule {
        match self {
            Group::Workdir | Group::DefaultWorkdir => Rule::Workdir,
            Group::DataPath => Rule::DataPath,
        }
    }
}

/// Which paths a move applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    /// Every path of the family, and sources other stages take from it.
    Family,
    /// Only sources taken from `stage` that lie under `root` (and under none of `exclude`).
    /// An uncertain root comes from a destination with an unknown variable: what lies under
    /// it may have been written relative or absolute, so it blocks instead of moving.
    CopiesFrom {
        stage: usize,
        root: String,
        exclude: SharedStack<String>,
        certain: bool,
    },
}

/// `from` (a clean absolute path) is `to` on the replacement.
#[derive(Debug, Clone)]
struct Move {
    from: String,
    to: String,
    group: Group,
    reach: Reach,
}

/// What a rule does with one place of the file.
#[derive(Debug, Clone)]
enum Outcome {
    Edit {
        group: Group,
        edit: Edit,
        old: String,
        new: String,
    },
    Block {
        group: Group,
        at: usize,
        reason: String,
    },
}

#[cfg(test)]
mod tests;
