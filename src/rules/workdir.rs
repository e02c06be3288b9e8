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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use parse_dockerfile::{
    ArgInstruction, CopyInstruction, EnvInstruction, Flag, Instruction, JsonOrStringArray,
    RunInstruction, Source, UnescapedString, WorkdirInstruction,
};

use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::dockerfile::{Dockerfile, Token, option_field, split_declarations};
use crate::line_index::LineIndex;
use crate::rules::Rule;
use crate::rules::dev_variant::stage_label;
use crate::stages::{Base, Lineage, StageModel, UserSwitch, View};
use crate::unix_path::{clean_absolute, clean_relative, join_rest, under};

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

pub fn check(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut families = families(model);
    if families.is_empty() {
        return diagnostics;
    }
    // Built once for every family: a file of many stages has as many families.
    let lines = LineIndex::new(model.file.text());
    let refs = StageRefs::new(model);
    // Who runs each RUN once `user-root` has inserted its lines: a RUN it keeps as root can
    // write anywhere.
    let switches = crate::rules::user::switches(model);
    for family in &mut families {
        family.walked = refs.walked(model, &family.members);
    }
    for family in families {
        diagnostics.extend(FamilyCheck::new(model, &family, &refs, &lines, &switches).run());
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
        exclude: Vec<String>,
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

/// Where a path is written; decides how a relative value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Workdir,
    Dest,
    Volume,
    /// One `:`-separated element of an `ENV` value; need not be a path at all.
    Env,
    MountTarget,
    /// A path in another stage's filesystem (`COPY --from`, `RUN --mount=from=`): a relative
    /// value is relative to that filesystem's root.
    Source,
}

/// One path value of the file.
#[derive(Debug, Clone)]
struct Site<'a> {
    kind: Kind,
    /// The value without surrounding quotes.
    text: String,
    /// The editable bytes of the value, when its source bytes equal it.
    token: Option<Token<'a>>,
    at: usize,
    /// For [`Kind::Source`]: the stage the path is taken from.
    from_stage: Option<usize>,
}

/// A working directory as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Cwd {
    Absolute(String),
    /// Relative to the base image's default working directory (`""` is that directory).
    Default(String),
    #[default]
    Unknown,
}

/// Variables in scope: `ENV` (inherited by later stages) and `ARG` (not), values expanded.
#[derive(Debug, Clone, Default)]
struct Scope {
    vars: Vec<(String, Option<String>, bool)>,
}

impl Scope {
    fn set(&mut self, name: &str, value: Option<String>, env: bool) {
        self.vars.push((name.to_owned(), value, env));
    }

    /// `ENV` wins over an `ARG` of the same name, whatever their order.
    fn get(&self, name: &str) -> Option<&str> {
        let env = self
            .vars
            .iter()
            .rev()
            .find(|(var, _, env)| *env && var == name);
        env.or_else(|| self.vars.iter().rev().find(|(var, _, _)| var == name))
            .and_then(|(_, value, _)| value.as_deref())
    }

    fn inherited(&self) -> Scope {
        Scope {
            vars: self.vars.iter().filter(|var| var.2).cloned().collect(),
        }
    }
}

/// What is known at one point of a stage; `post` is `pre` with the planned `ENV` edits.
#[derive(Debug, Clone, Default)]
struct State {
    pre: Scope,
    post: Scope,
    cwd: Cwd,
    /// Relative paths (clean, relative to the default working directory) the chain wrote while
    /// relying on it, and whether each is certain (no unknown variable in its destination).
    roots: Vec<(String, bool)>,
    /// The first place the chain relied on the default working directory.
    relied_at: Option<usize>,
    /// Absolute destinations and `WORKDIR`s the chain wrote, and absolute paths its `RUN`
    /// commands name.
    absolutes: Vec<String>,
}

impl State {
    fn inherited(&self) -> State {
        State {
            pre: self.pre.inherited(),
            post: self.post.inherited(),
            ..self.clone()
        }
    }
}

/// An absolute `WORKDIR` of the family, as the public image would resolve it.
#[derive(Debug, Clone)]
struct SeenWorkdir {
    stage: usize,
    instruction: usize,
    path: String,
    /// The `WORKDIR` value in the file.
    range: Range<usize>,
}

/// Walks the stages a family's paths depend on ([`Family::walked`]) once, following the
/// working directory and the variables, evaluating each path of the family against a set of
/// moves.
struct Walker<'w, 'f, 'a, 'c> {
    model: &'w StageModel<'f, 'a, 'c>,
    family: &'w Family<'c>,
    refs: &'w StageRefs,
    public_workdir: Option<&'w str>,
    moves: &'w [Move],
    outcomes: Vec<Outcome>,
    /// Byte ranges whose paths the walker handled; the mention scan skips them.
    masked: Vec<Range<usize>>,
    workdirs: Vec<SeenWorkdir>,
    runs: Vec<(usize, usize)>,
    /// `(copying stage, family stage, offset)` for every `COPY --from`/mount of a family stage.
    copies: Vec<(usize, usize, usize)>,
    /// The state at the end of each walked stage.
    finals: HashMap<usize, State>,
    lines: &'w LineIndex,
}

impl<'w, 'f, 'a, 'c> Walker<'w, 'f, 'a, 'c> {
    fn walk(
        check: &FamilyCheck<'w, 'f, 'a, 'c>,
        public_workdir: Option<&'w str>,
        moves: &'w [Move],
    ) -> Self {
        let model = check.model;
        let mut walker = Walker {
            model,
            family: check.family,
            refs: check.refs,
            public_workdir,
            moves,
            outcomes: Vec::new(),
            masked: Vec::new(),
            workdirs: Vec::new(),
            runs: Vec::new(),
            copies: Vec::new(),
            finals: HashMap::new(),
            lines: check.lines,
        };
        for &index in &check.family.walked {
            let Some(stage) = model.stages.get(index) else {
                continue;
            };
            let in_family = check.family.contains(index);
            let mut state = match stage.base {
                Base::Stage(parent) if parent < index => walker
                    .finals
                    .get(&parent)
                    .map(State::inherited)
                    .unwrap_or_default(),
                Base::Scratch => State {
                    cwd: Cwd::Absolute("/".into()),
                    ..State::default()
                },
                _ if in_family => State {
                    cwd: Cwd::Default(String::new()),
                    ..State::default()
                },
                _ => State::default(),
            };
            for position in stage.body() {
                if let Some(instruction) = model.file.instructions().get(position) {
                    walker.visit(index, position, instruction, in_family, &mut state);
                }
            }
            walker.finals.insert(index, state);
        }
        walker.scan_mentions();
        walker
    }

    fn visit(
        &mut self,
        stage: usize,
        position: usize,
        instruction: &'f Instruction<'a>,
        in_family: bool,
        state: &mut State,
    ) {
        match instruction {
            Instruction::Workdir(workdir) => {
                self.workdir(stage, position, workdir, in_family, state)
            }
            Instruction::Copy(copy) => {
                let from = self
                    .refs
                    .copy_source(self.model, stage, copy)
                    .filter(|&from| self.family.contains(from));
                self.copy(
                    stage,
                    &copy.options,
                    &copy.src,
                    &copy.dest,
                    from,
                    in_family,
                    state,
                );
            }
            Instruction::Add(add) => {
                self.copy(
                    stage,
                    &add.options,
                    &add.src,
                    &add.dest,
                    None,
                    in_family,
                    state,
                );
            }
            Instruction::Volume(volume) if in_family => {
                let paths = match &volume.arguments {
                    JsonOrStringArray::Json(json) => &json.value[..],
                    JsonOrStringArray::String(paths) => &paths[..],
                };
                for path in paths {
                    let site = self.site(Kind::Volume, path, None);
                    self.evaluate(site, state);
                }
            }
            Instruction::Env(env) => self.env(env, in_family, state),
            Instruction::Arg(arg) => self.arg(arg, state),
            Instruction::Run(run) => {
                if in_family {
                    self.runs.push((stage, position));
                    // A path a command names absolutely (`pip install --prefix=/install`) was
                    // not written relative to the working directory.
                    let file = self.model.file;
                    let text = file
                        .instruction_range(instruction)
                        .and_then(|range| file.text().get(range))
                        .unwrap_or_default();
                    state.absolutes.extend(absolute_words(text));
                }
                self.mounts(stage, run, in_family, state);
            }
            _ => {}
        }
    }

    fn site(
        &self,
        kind: Kind,
        string: &UnescapedString<'a>,
        from_stage: Option<usize>,
    ) -> Site<'a> {
        let token = self.model.file.token(string).map(Token::unquoted);
        let text = match token {
            Some(token) => token.text.to_owned(),
            None => unquote(&string.value).to_owned(),
        };
        Site {
            kind,
            text,
            token,
            at: self.model.file.range(&string.span).start,
            from_stage,
        }
    }

    fn token_site(kind: Kind, token: Token<'a>, from_stage: Option<usize>) -> Site<'a> {
        Site {
            kind,
            text: token.text.to_owned(),
            token: Some(token),
            at: token.start,
            from_stage,
        }
    }

    fn workdir(
        &mut self,
        stage: usize,
        position: usize,
        workdir: &WorkdirInstruction<'a>,
        in_family: bool,
        state: &mut State,
    ) {
        let site = self.site(Kind::Workdir, &workdir.arguments, None);
        let value = expand(&site.text, &state.pre);
        let next = match (&value, &state.cwd) {
            (Some(path), _) if path.starts_with('/') => {
                clean_absolute(path).map_or(Cwd::Unknown, Cwd::Absolute)
            }
            (Some(path), Cwd::Absolute(dir)) => {
                clean_absolute(&format!("{dir}/{path}")).map_or(Cwd::Unknown, Cwd::Absolute)
            }
            (Some(path), Cwd::Default(dir)) => {
                Cwd::Default(clean_relative(&format!("{dir}/{path}")))
            }
            _ => Cwd::Unknown,
        };
        if in_family {
            match &next {
                Cwd::Absolute(path) => {
                    self.workdirs.push(SeenWorkdir {
                        stage,
                        instruction: position,
                        path: path.clone(),
                        range: site.token.map_or(site.at..site.at, |token| token.range()),
                    });
                    state.absolutes.push(path.clone());
                }
                Cwd::Default(path) => {
                    state.roots.push((path.clone(), true));
                    state.relied_at.get_or_insert(site.at);
                }
                Cwd::Unknown => {}
            }
            self.evaluate(site, state);
        }
        state.cwd = next;
    }

    #[allow(clippy::too_many_arguments)]
    fn copy(
        &mut self,
        stage: usize,
        options: &[Flag<'a>],
        sources: &[Source<'a>],
        dest: &UnescapedString<'a>,
        from: Option<usize>,
        in_family: bool,
        state: &mut State,
    ) {
        if in_family {
            for flag in options {
                self.masked.push(self.model.file.range(&flag.span()));
            }
            for source in sources {
                match source {
                    Source::Path(path) => self.masked.push(self.model.file.range(&path.span)),
                    Source::HereDoc(doc) => self.masked.push(self.model.file.range(&doc.span)),
                    _ => {}
                }
            }
        }
        if let Some(from) = from {
            self.copies
                .push((stage, from, self.model.file.range(&dest.span).start));
            for source in sources {
                if let Source::Path(path) = source {
                    let site = self.site(Kind::Source, path, Some(from));
                    self.evaluate(site, state);
                }
            }
        }
        if !in_family {
            return;
        }
        let site = self.site(Kind::Dest, dest, None);
        let value = expand(&site.text, &state.pre);
        match (&state.cwd, value) {
            (_, Some(path)) if path.starts_with('/') => {
                if let Some(path) = clean_absolute(&path) {
                    state.absolutes.push(path);
                }
            }
            (Cwd::Default(dir), value) => {
                // An unknown destination may be anywhere below the working directory, or
                // absolute.
                let root = match &value {
                    Some(path) => clean_relative(&format!("{dir}/{path}")),
                    None => dir.clone(),
                };
                state.roots.push((root, value.is_some()));
                state.relied_at.get_or_insert(site.at);
            }
            _ => {}
        }
        self.evaluate(site, state);
    }

    fn env(&mut self, env: &EnvInstruction<'a>, in_family: bool, state: &mut State) {
        let mut values = Vec::new();
        match self.model.file.token(&env.arguments) {
            Some(token) => {
                for (name, value) in env_values(token) {
                    let (pre, post) = match in_family {
                        true => self.env_value(value, state),
                        false => (
                            expand(value.text, &state.pre),
                            expand(value.text, &state.post),
                        ),
                    };
                    values.push((name.to_owned(), pre, post));
                }
            }
            None => {
                let raw = env.arguments.value.to_string();
                for (name, value) in env_values(Token {
                    text: &raw,
                    start: 0,
                }) {
                    values.push((
                        name.to_owned(),
                        expand(value.text, &state.pre),
                        expand(value.text, &state.post),
                    ));
                }
            }
        }
        // One ENV instruction expands every value with the variables from before it.
        for (name, pre, post) in values {
            state.pre.set(&name, pre, true);
            state.post.set(&name, post, true);
        }
    }

    /// Evaluate each `:`-separated element of an `ENV` value; the value before and after.
    fn env_value(&mut self, value: Token<'a>, state: &State) -> (Option<String>, Option<String>) {
        let mut rewritten = String::with_capacity(value.text.len());
        let mut offset = 0;
        for (index, element) in value.text.split(':').enumerate() {
            if index > 0 {
                rewritten.push(':');
            }
            let token = Token {
                text: element,
                start: value.start + offset,
            };
            offset += element.len() + 1;
            let site = Self::token_site(Kind::Env, token, None);
            match self.outcome(&site, state) {
                Verdict::Unknown => rewritten.push_str(element),
                Verdict::Keep => {
                    self.masked.push(token.range());
                    rewritten.push_str(element);
                }
                Verdict::Do(outcome) => {
                    self.masked.push(token.range());
                    match &outcome {
                        Outcome::Edit { new, .. } => rewritten.push_str(new),
                        Outcome::Block { .. } => rewritten.push_str(element),
                    }
                    self.outcomes.push(outcome);
                }
                Verdict::Blocks(blocks) => {
                    rewritten.push_str(element);
                    self.outcomes.extend(blocks);
                }
            }
        }
        (
            expand(value.text, &state.pre),
            expand(&rewritten, &state.post),
        )
    }

    fn arg(&mut self, arg: &ArgInstruction<'a>, state: &mut State) {
        for declaration in self.model.file.arg_declarations(arg) {
            let global = || {
                self.model
                    .global_args
                    .get(declaration.name)
                    .flatten()
                    .and_then(|default| self.model.global_args.expand(default.text))
            };
            let (pre, post) = match declaration.default {
                Some(default) => (
                    expand(default.text, &state.pre),
                    expand(default.text, &state.post),
                ),
                None => (global(), global()),
            };
            state.pre.set(declaration.name, pre, false);
            state.post.set(declaration.name, post, false);
        }
    }

    fn mounts(&mut self, stage: usize, run: &RunInstruction<'a>, in_family: bool, state: &State) {
        for mount in mount_options(self.model.file, run) {
            let from = self
                .refs
                .mount_source(stage, mount)
                .filter(|&from| self.family.contains(from));
            for key in ["source", "src"] {
                let Some(field) = option_field(mount, key) else {
                    continue;
                };
                match from {
                    Some(from) => {
                        self.copies.push((stage, from, field.start));
                        self.evaluate(Self::token_site(Kind::Source, field, Some(from)), state);
                    }
                    // The build context or a cache: not a path of the image.
                    None if in_family => self.masked.push(field.range()),
                    None => {}
                }
            }
            if in_family {
                for key in ["target", "dst", "destination"] {
                    if let Some(field) = option_field(mount, key) {
                        self.evaluate(Self::token_site(Kind::MountTarget, field, None), state);
                    }
                }
            }
        }
    }

    fn evaluate(&mut self, site: Site<'a>, state: &State) {
        match self.outcome(&site, state) {
            Verdict::Unknown => {}
            Verdict::Keep => self.mask(&site),
            Verdict::Do(outcome) => {
                self.mask(&site);
                self.outcomes.push(outcome);
            }
            Verdict::Blocks(blocks) => {
                self.mask(&site);
                self.outcomes.extend(blocks);
            }
        }
    }

    fn mask(&mut self, site: &Site<'a>) {
        if let Some(token) = site.token {
            self.masked.push(token.range());
        }
    }

    /// What to do with one path under the planned moves.
    fn outcome(&self, site: &Site<'a>, state: &State) -> Verdict {
        if site.text.contains(['$', '\\', '"', '\'']) {
            return self.variable_outcome(site, state);
        }
        match self.resolve(site.kind, &site.text, state) {
            Resolved::Absolute(path) => {
                let Some(change) = self.map(site, &path) else {
                    return Verdict::Keep;
                };
                if matches!(change.reach, Reach::CopiesFrom { certain: false, .. }) {
                    return Verdict::Do(Outcome::Block {
                        group: change.group,
                        at: site.at,
                        reason: format!(
                            "hardport cannot tell whether `{}` was written relative to the working directory",
                            site.text
                        ),
                    });
                }
                let new = site.token.and_then(|token| {
                    rewrite_literal(
                        token.text,
                        &change.from,
                        &change.to,
                        site.kind == Kind::Source,
                    )
                });
                Verdict::Do(match (site.token, new) {
                    (Some(token), Some(new)) => Outcome::Edit {
                        group: change.group,
                        edit: Edit::replace(token.range(), new.clone()),
                        old: token.text.to_owned(),
                        new,
                    },
                    _ => Outcome::Block {
                        group: change.group,
                        at: site.at,
                        reason: format!(
                            "`{}` is written in a form hardport does not edit",
                            site.text
                        ),
                    },
                })
            }
            Resolved::Relative { cwd, path } => self.relative_outcome(site, &cwd, &path),
            Resolved::Unknown => Verdict::Unknown,
        }
    }

    fn variable_outcome(&self, site: &Site<'a>, state: &State) -> Verdict {
        let Some(pre) = expand(&site.text, &state.pre) else {
            if site.kind == Kind::Env {
                return Verdict::Unknown;
            }
            let blocks: Vec<Outcome> = self
                .groups_reaching(site)
                .into_iter()
                .map(|group| Outcome::Block {
                    group,
                    at: site.at,
                    reason: format!("hardport cannot tell where `{}` points", site.text),
                })
                .collect();
            return match blocks.is_empty() {
                true => Verdict::Unknown,
                false => Verdict::Blocks(blocks),
            };
        };
        match self.resolve(site.kind, &pre, state) {
            Resolved::Absolute(path) => {
                let Some(change) = self.map(site, &path) else {
                    return Verdict::Keep;
                };
                let moved = under(&path, &change.from).map(|rest| join_rest(&change.to, rest));
                let after = expand(&site.text, &state.post)
                    .map(|post| self.resolve(site.kind, &post, state));
                match (after, moved) {
                    (Some(Resolved::Absolute(after)), Some(moved)) if after == moved => {
                        Verdict::Keep
                    }
                    _ => Verdict::Do(Outcome::Block {
                        group: change.group,
                        at: site.at,
                        reason: format!(
                            "`{}` (`{path}`) contains a variable, which hardport does not edit",
                            site.text
                        ),
                    }),
                }
            }
            Resolved::Relative { cwd, path } => self.relative_outcome(site, &cwd, &path),
            Resolved::Unknown => Verdict::Unknown,
        }
    }

    /// A relative path moves with its working directory, unless it reaches into a moved
    /// directory from outside it.
    fn relative_outcome(&self, site: &Site<'a>, cwd: &str, path: &str) -> Verdict {
        let Some(change) = self.map(site, path) else {
            return Verdict::Keep;
        };
        if under(cwd, &change.from).is_some() {
            return Verdict::Keep;
        }
        Verdict::Do(Outcome::Block {
            group: change.group,
            at: site.at,
            reason: format!(
                "`{}` is relative to {cwd} but lands in {}",
                site.text, change.from
            ),
        })
    }

    /// The absolute path a value names, as the public image resolves it.
    fn resolve(&self, kind: Kind, value: &str, state: &State) -> Resolved {
        if value.starts_with('/') {
            return clean_absolute(value).map_or(Resolved::Unknown, Resolved::Absolute);
        }
        match kind {
            Kind::Source => {
                let rooted = value.strip_prefix("./").unwrap_or(value);
                clean_absolute(&format!("/{rooted}")).map_or(Resolved::Unknown, Resolved::Absolute)
            }
            Kind::Workdir | Kind::Dest | Kind::MountTarget => {
                let cwd = match &state.cwd {
                    Cwd::Absolute(dir) => Some(dir.clone()),
                    Cwd::Default(dir) => self
                        .public_workdir
                        .and_then(|base| clean_absolute(&format!("{base}/{dir}"))),
                    Cwd::Unknown => None,
                };
                match cwd.and_then(|cwd| {
                    clean_absolute(&format!("{cwd}/{value}")).map(|path| (cwd, path))
                }) {
                    Some((cwd, path)) => Resolved::Relative { cwd, path },
                    None => Resolved::Unknown,
                }
            }
            Kind::Volume | Kind::Env => Resolved::Unknown,
        }
    }

    /// The move a path falls under: the longest family-wide prefix, else a default-workdir
    /// move for sources taken from the stage that wrote there.
    fn map(&self, site: &Site<'a>, path: &str) -> Option<&'w Move> {
        let family = self
            .moves
            .iter()
            .filter(|change| change.reach == Reach::Family && under(path, &change.from).is_some())
            .max_by_key(|change| change.from.len());
        if family.is_some() || site.kind != Kind::Source {
            return family;
        }
        let matches = |change: &&Move| match &change.reach {
            Reach::CopiesFrom {
                stage,
                root,
                exclude,
                ..
            } => {
                Some(*stage) == site.from_stage
                    && under(path, root).is_some()
                    && under(path, &change.from).is_some()
                    && !exclude.iter().any(|written| under(path, written).is_some())
                    && (root != "/" || !is_system_path(path))
            }
            Reach::Family => false,
        };
        // A certain root decides before an uncertain one.
        self.moves
            .iter()
            .filter(matches)
            .min_by_key(|change| !matches!(change.reach, Reach::CopiesFrom { certain: true, .. }))
    }

    /// The groups whose moves could apply to a site whose value is unknown.
    fn groups_reaching(&self, site: &Site<'a>) -> Vec<Group> {
        let mut groups: Vec<Group> = self
            .moves
            .iter()
            .filter(|change| match &change.reach {
                Reach::Family => true,
                Reach::CopiesFrom { stage, .. } => {
                    site.kind == Kind::Source && Some(*stage) == site.from_stage
                }
            })
            .map(|change| change.group)
            .collect();
        groups.sort();
        groups.dedup();
        groups
    }

    /// Any other text of the family that names a moved directory blocks its move.
    fn scan_mentions(&mut self) {
        let file = self.model.file;
        let lines = self.lines;
        for &stage in &self.family.members {
            let Some(stage) = self.model.stages.get(stage) else {
                continue;
            };
            for instruction in file.instructions().get(stage.body()).unwrap_or_default() {
                let Some(range) = file.instruction_range(instruction) else {
                    continue;
                };
                for change in self
                    .moves
                    .iter()
                    .filter(|change| change.reach == Reach::Family)
                {
                    if let Some(at) =
                        mention(file.text(), range.clone(), &change.from, &self.masked)
                    {
                        self.outcomes.push(Outcome::Block {
                            group: change.group,
                            at,
                            reason: format!(
                                "line {}: {} names {}, and hardport does not rewrite it there",
                                lines.line(at),
                                crate::dockerfile::instruction_keyword(instruction),
                                change.from
                            ),
                        });
                    }
                }
            }
        }
    }
}

#[derive(Debug)]
enum Resolved {
    Absolute(String),
    Relative { cwd: String, path: String },
    Unknown,
}

#[derive(Debug)]
enum Verdict {
    /// Nothing to say, and the value was understood.
    Keep,
    /// The value could not be read; it is left to the mention scan.
    Unknown,
    Do(Outcome),
    Blocks(Vec<Outcome>),
}

/// The `RUN`s of a family (in stage order, as a [`Walker`] records them) that make an
/// unwritable `WORKDIR` matter, indexed so that finding the first one after each `WORKDIR`
/// takes constant time: a family of thousands of stages, `WORKDIR`s and `RUN`s stays linear.
struct NonRootRuns<'r> {
    runs: &'r [(usize, usize)],
    /// For each run, the user it runs as when that is a non-root user on the replacement and
    /// another user on the public image (a `USER` the Dockerfile sets itself decides both
    /// alike: nothing changed for that `RUN`).
    users: Vec<Option<String>>,
    /// For each run, the first run at or after it in the same stage that has a user.
    next_in_stage: Vec<Option<usize>>,
    /// For each member stage, the first run with a user in the stages built on it, directly
    /// or through others.
    first_below: HashMap<usize, usize>,
}

impl<'r> NonRootRuns<'r> {
    fn new(
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
    fn after(&self, seen: &SeenWorkdir) -> Option<String> {
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
struct FamilyCheck<'m, 'f, 'a, 'c> {
    model: &'m StageModel<'f, 'a, 'c>,
    family: &'m Family<'c>,
    refs: &'m StageRefs,
    public_workdir: Option<String>,
    hardened_workdir: Option<String>,
    lines: &'m LineIndex,
    /// The `USER` lines `user-root` inserts.
    switches: &'m [UserSwitch],
    diagnostics: Vec<Diagnostic>,
}

/// The `workdir` move of case 1 and what it needs said.
#[derive(Debug, Clone)]
struct WorkdirMove {
    from: String,
    to: String,
    user: String,
    stage: usize,
    at: Range<usize>,
}

impl<'m, 'f, 'a, 'c> FamilyCheck<'m, 'f, 'a, 'c> {
    fn new(
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

    fn run(mut self) -> Vec<Diagnostic> {
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

    fn label(&self, stage: usize) -> String {
        stage_label(self.model, stage)
    }

    fn entry_name(&self) -> &'c str {
        &self.family.entry.name
    }

    /// The catalog's `paths` as family-wide moves.
    fn data_path_moves(&self) -> Vec<Move> {
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
    fn writable(&self, path: &str) -> bool {
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
    fn image_location(&self, path: &str) -> Option<String> {
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

    /// Case 1: the outermost unwritable `WORKDIR` a non-root `RUN` follows.
    /// A stage of the family that sets a `USER` of its own: a move would carry its paths too,
    /// into a directory that user may not be able to write.
    fn stage_with_own_user(&self) -> Option<usize> {
        let instructions = self.model.file.instructions();
        self.family.members.iter().copied().find(|&stage| {
            self.model.stages[stage]
                .body()
                .any(|at| matches!(instructions.get(at), Some(Instruction::User(_))))
        })
    }

    fn workdir_move(&mut self, survey: &Walker<'_, 'f, 'a, 'c>) -> Option<WorkdirMove> {
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
    fn default_workdir_moves(&mut self, survey: &Walker<'_, 'f, 'a, 'c>) -> Vec<Move> {
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
    fn default_workdir_fact(
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
    fn conclude(
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
    fn relying_stages(&self, moves: &[Move]) -> String {
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
    fn default_workdir_mentions(&mut self, survey: &Walker<'_, 'f, 'a, 'c>) {
        let (Some(public), Some(hardened)) = (&self.public_workdir, &self.hardened_workdir) else {
            return;
        };
        if public == hardened {
            return;
        }
        let file = self.model.file;
        let mut reported: Vec<usize> = Vec::new();
        for &index in &self.family.members {
            let (Some(stage), Some(state)) =
                (self.model.stages.get(index), survey.finals.get(&index))
            else {
                continue;
            };
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
                for (root, _) in state.roots.iter().filter(|(root, _)| !root.is_empty()) {
                    let Some(path) = clean_absolute(&format!("{public}/{root}")) else {
                        continue;
                    };
                    let Some(at) = mention(file.text(), range.clone(), &path, &[]) else {
                        continue;
                    };
                    let line = self.lines.line(at);
                    if reported.contains(&line) {
                        continue;
                    }
                    reported.push(line);
                    let moved = join_rest(hardened, under(&path, public).unwrap_or_default());
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
fn copies_from_moves(
    survey: &Walker<'_, '_, '_, '_>,
    copied: &[(usize, usize, usize)],
    public: &str,
    hardened: &str,
) -> Vec<Move> {
    let mut moves: Vec<Move> = Vec::new();
    for &(_, from, _) in copied {
        let Some(state) = survey.finals.get(&from) else {
            continue;
        };
        for (root, certain) in &state.roots {
            let Some(root) = clean_absolute(&format!("{public}/{root}")) else {
                continue;
            };
            let change = Move {
                from: public.to_owned(),
                to: hardened.to_owned(),
                group: Group::DefaultWorkdir,
                reach: Reach::CopiesFrom {
                    stage: from,
                    root,
                    exclude: state.absolutes.clone(),
                    certain: *certain,
                },
            };
            if !moves.iter().any(|other| other.reach == change.reach) {
                moves.push(change);
            }
        }
    }
    moves
}

fn is_system_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    SYSTEM_DIRECTORIES.contains(&first)
}

/// The values of an `ENV` instruction (`a=b c="d"` or the legacy `a b`), unquoted.
fn env_values(token: Token<'_>) -> Vec<(&str, Token<'_>)> {
    let text = token.text;
    let lead = text.len() - text.trim_start().len();
    let rest = text.get(lead..).unwrap_or_default();
    let first_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let first = rest.get(..first_end).unwrap_or_default();
    if !first.contains('=') {
        let tail = rest.get(first_end..).unwrap_or_default();
        let value = tail.trim();
        let offset = lead + first_end + (tail.len() - tail.trim_start().len());
        return vec![(
            first,
            Token {
                text: value,
                start: token.start + offset,
            }
            .unquoted(),
        )];
    }
    split_declarations(token)
        .into_iter()
        .filter_map(|declaration| Some((declaration.name, declaration.default?)))
        .collect()
}

/// `text` without one pair of surrounding quotes.
fn unquote(text: &str) -> &str {
    Token { text, start: 0 }.unquoted().text
}

/// Expand `$NAME` and `${NAME}` with known values; `None` when a variable is unknown or the
/// text uses quotes, escapes or `${NAME:-…}` forms.
fn expand(text: &str, scope: &Scope) -> Option<String> {
    if text.contains(['\\', '"', '\'']) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(rest.get(..dollar)?);
        let after = rest.get(dollar + 1..)?;
        let (name, consumed) = match after.strip_prefix('{') {
            Some(braced) => {
                let close = braced.find('}')?;
                (braced.get(..close)?, close + 2)
            }
            None => {
                let len = after
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(after.len());
                (after.get(..len)?, len)
            }
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !valid {
            return None;
        }
        out.push_str(scope.get(name)?);
        rest = after.get(consumed..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// The literal text with the prefix `from` replaced by `to`, when the text spells the prefix
/// exactly; a relative `rooted` text (a `COPY --from` source) stays relative.
fn rewrite_literal(text: &str, from: &str, to: &str, rooted: bool) -> Option<String> {
    if text.starts_with('/') {
        return under(text, from).map(|rest| join_rest(to, rest));
    }
    if !rooted {
        return None;
    }
    let (lead, body) = match text.strip_prefix("./") {
        Some(body) => ("./", body),
        None => ("", text),
    };
    let absolute = format!("/{body}");
    let moved = join_rest(to, under(&absolute, from)?);
    let relative = moved.trim_start_matches('/');
    Some(match relative.is_empty() {
        true => format!("{lead}."),
        false => format!("{lead}{relative}"),
    })
}

/// The first place in `range` of `text` that names the path `prefix` as a whole path (not
/// `/application` for `/app`, not `$HOME/app`), outside `masked`.
fn mention(
    text: &str,
    range: Range<usize>,
    prefix: &str,
    masked: &[Range<usize>],
) -> Option<usize> {
    let haystack = text.get(range.clone())?;
    let is_path_char = |ch: char| ch.is_alphanumeric() || "._-~/$@+{}".contains(ch);
    let mut search = 0;
    while let Some(found) = haystack.get(search..).and_then(|rest| rest.find(prefix)) {
        let start = search + found;
        let end = start + prefix.len();
        let before = haystack
            .get(..start)
            .and_then(|head| head.chars().next_back());
        let after = haystack.get(end..).and_then(|tail| tail.chars().next());
        let at = range.start + start;
        if before.is_none_or(|ch| !is_path_char(ch))
            && after.is_none_or(|ch| ch == '/' || !is_path_char(ch))
            && !masked.iter().any(|masked| masked.contains(&at))
        {
            return Some(at);
        }
        search = start + 1;
        while search < haystack.len() && !haystack.is_char_boundary(search) {
            search += 1;
        }
    }
    None
}

/// The absolute paths a command text names (`/install` in `--prefix="/install"`), cleaned;
/// `/` itself is left out.
fn absolute_words(text: &str) -> Vec<String> {
    let is_path_char = |ch: char| ch.is_alphanumeric() || "._-~/$@+{}".contains(ch);
    let mut words = Vec::new();
    let mut previous: Option<char> = None;
    for (offset, ch) in text.char_indices() {
        if ch == '/' && previous.is_none_or(|before| !is_path_char(before)) {
            let rest = text.get(offset..).unwrap_or_default();
            let end = rest
                .find(|ch: char| ch.is_whitespace() || "\"';&|<>()`,:=".contains(ch))
                .unwrap_or(rest.len());
            if let Some(path) = rest.get(..end).and_then(clean_absolute)
                && path != "/"
                && !words.contains(&path)
            {
                words.push(path);
            }
        }
        previous = Some(ch);
    }
    words
}

#[cfg(test)]
mod tests;
