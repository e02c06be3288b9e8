//! The walk over a stage family: every path value of the family, where it is written, what it
//! resolves to, and what a move would make of it.

use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

use parse_dockerfile::{
    ArgInstruction, EnvInstruction, Flag, Instruction, JsonOrStringArray, RunInstruction, Source,
    UnescapedString, WorkdirInstruction,
};

use super::family::FamilyCheck;
use super::paths::{
    RangeSet, absolute_words, env_values, expand, is_system_path, mention, rewrite_literal, unquote,
};
use super::{Family, Group, Move, Outcome, Reach, StageRefs, mount_options};
use crate::diagnostic::Edit;
use crate::dockerfile::{Token, option_field};
use crate::line_index::LineIndex;
use crate::shared_stack::SharedStack;
use crate::stages::{Base, StageModel};
use crate::unix_path::{clean_absolute, clean_relative, join_rest, under, within_path_max};

/// Where a path is written; decides how a relative value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
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
pub(super) struct Site<'a> {
    pub(super) kind: Kind,
    /// The value without surrounding quotes.
    pub(super) text: String,
    /// The editable bytes of the value, when its source bytes equal it.
    pub(super) token: Option<Token<'a>>,
    pub(super) at: usize,
    /// For [`Kind::Source`]: the stage the path is taken from.
    pub(super) from_stage: Option<usize>,
}

/// A working directory as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Cwd {
    Absolute(String),
    /// Relative to the base image's default working directory (`""` is that directory).
    Default(String),
    #[default]
    Unknown,
}

/// Variables in scope: `ENV` (inherited by later stages) and `ARG` (not), values expanded.
///
/// Looked up by name: a stage of many `ENV` lines that each expand a variable would otherwise
/// cost their number squared. The `ENV` values of finished stages are frozen into frames that
/// the stages built on them share ([`Scope::freeze`]), so a chain of stages copies nothing.
#[derive(Debug, Clone, Default)]
pub(super) struct Scope {
    /// This stage's `ENV` values (the last one set wins).
    env: HashMap<String, Option<String>>,
    /// The `ENV` values of the stages this one is built on, nearest first.
    below: Option<Rc<Frame>>,
    args: HashMap<String, Option<String>>,
}

/// The `ENV` values one finished stage set.
#[derive(Debug)]
struct Frame {
    env: HashMap<String, Option<String>>,
    below: Option<Rc<Frame>>,
}

impl Scope {
    pub(super) fn set(&mut self, name: &str, value: Option<String>, env: bool) {
        match env {
            true => self.env.insert(name.to_owned(), value),
            false => self.args.insert(name.to_owned(), value),
        };
    }

    /// `ENV` wins over an `ARG` of the same name, whatever their order.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        let mut frames =
            std::iter::successors(self.below.as_deref(), |frame| frame.below.as_deref());
        let env = self
            .env
            .get(name)
            .or_else(|| frames.find_map(|frame| frame.env.get(name)));
        env.or_else(|| self.args.get(name))?.as_deref()
    }

    /// Makes this stage's `ENV` values a frame that stages built on it share.
    fn freeze(&mut self) {
        if !self.env.is_empty() {
            self.below = Some(Rc::new(Frame {
                env: std::mem::take(&mut self.env),
                below: self.below.take(),
            }));
        }
    }

    /// The scope a stage built on this (frozen) one starts with.
    pub(super) fn inherited(&self) -> Scope {
        Scope {
            env: HashMap::new(),
            below: self.below.clone(),
            args: HashMap::new(),
        }
    }
}

/// Dropping frame by frame: the default drop of a long chain of stages recurses once per frame.
impl Drop for Frame {
    fn drop(&mut self) {
        let mut next = self.below.take();
        while let Some(frame) = next {
            match Rc::try_unwrap(frame) {
                Ok(mut frame) => next = frame.below.take(),
                Err(_) => break,
            }
        }
    }
}

/// What is known at one point of a stage; `post` is `pre` with the planned `ENV` edits.
///
/// A stage starts from its parent's state; the lists that grow along a `FROM` chain are
/// [`SharedStack`]s, so that starting from the parent copies nothing.
#[derive(Debug, Clone, Default)]
pub(super) struct State {
    pub(super) pre: Scope,
    pub(super) post: Scope,
    pub(super) cwd: Cwd,
    /// Relative paths (clean, relative to the default working directory) the chain wrote while
    /// relying on it, and whether each is certain (no unknown variable in its destination).
    pub(super) roots: SharedStack<(String, bool)>,
    /// The first place the chain relied on the default working directory.
    pub(super) relied_at: Option<usize>,
    /// Absolute destinations and `WORKDIR`s the chain wrote, and absolute paths its `RUN`
    /// commands name.
    pub(super) absolutes: SharedStack<String>,
}

impl State {
    pub(super) fn inherited(&self) -> State {
        State {
            pre: self.pre.inherited(),
            post: self.post.inherited(),
            cwd: self.cwd.clone(),
            roots: self.roots.clone(),
            relied_at: self.relied_at,
            absolutes: self.absolutes.clone(),
        }
    }
}

/// An absolute `WORKDIR` of the family, as the public image would resolve it.
#[derive(Debug, Clone)]
pub(super) struct SeenWorkdir {
    pub(super) stage: usize,
    pub(super) instruction: usize,
    pub(super) path: String,
    /// The `WORKDIR` value in the file.
    pub(super) range: Range<usize>,
}

/// Walks the stages a family's paths depend on ([`Family::walked`]) once, following the
/// working directory and the variables, evaluating each path of the family against a set of
/// moves.
pub(super) struct Walker<'w, 'f, 'a, 'c> {
    pub(super) model: &'w StageModel<'f, 'a, 'c>,
    pub(super) family: &'w Family<'c>,
    pub(super) refs: &'w StageRefs,
    pub(super) public_workdir: Option<&'w str>,
    pub(super) moves: &'w [Move],
    /// The moves of [`Reach::Family`]: every site is looked up in them, and there are few.
    family_moves: Vec<&'w Move>,
    pub(super) outcomes: Vec<Outcome>,
    /// Byte ranges whose paths the walker handled; the mention scan skips them.
    pub(super) masked: Vec<Range<usize>>,
    pub(super) workdirs: Vec<SeenWorkdir>,
    pub(super) runs: Vec<(usize, usize)>,
    /// `(copying stage, family stage, offset)` for every `COPY --from`/mount of a family stage.
    pub(super) copies: Vec<(usize, usize, usize)>,
    /// The state at the end of each walked stage.
    pub(super) finals: HashMap<usize, State>,
    pub(super) lines: &'w LineIndex,
}

impl<'w, 'f, 'a, 'c> Walker<'w, 'f, 'a, 'c> {
    pub(super) fn walk(
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
            family_moves: moves
                .iter()
                .filter(|change| change.reach == Reach::Family)
                .collect(),
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
            state.pre.freeze();
            state.post.freeze();
            walker.finals.insert(index, state);
        }
        walker.scan_mentions();
        walker
    }

    pub(super) fn visit(
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
                    for word in absolute_words(text) {
                        state.absolutes.push(word);
                    }
                }
                self.mounts(stage, run, in_family, state);
            }
            _ => {}
        }
    }

    pub(super) fn site(
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

    pub(super) fn token_site(kind: Kind, token: Token<'a>, from_stage: Option<usize>) -> Site<'a> {
        Site {
            kind,
            text: token.text.to_owned(),
            token: Some(token),
            at: token.start,
            from_stage,
        }
    }

    pub(super) fn workdir(
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
            (Some(path), _) if path.starts_with('/') => clean_absolute(path)
                .and_then(within_path_max)
                .map_or(Cwd::Unknown, Cwd::Absolute),
            (Some(path), Cwd::Absolute(dir)) => clean_absolute(&format!("{dir}/{path}"))
                .and_then(within_path_max)
                .map_or(Cwd::Unknown, Cwd::Absolute),
            (Some(path), Cwd::Default(dir)) => {
                within_path_max(clean_relative(&format!("{dir}/{path}")))
                    .map_or(Cwd::Unknown, Cwd::Default)
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
    pub(super) fn copy(
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

    pub(super) fn env(&mut self, env: &EnvInstruction<'a>, in_family: bool, state: &mut State) {
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
    pub(super) fn env_value(
        &mut self,
        value: Token<'a>,
        state: &State,
    ) -> (Option<String>, Option<String>) {
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

    pub(super) fn arg(&mut self, arg: &ArgInstruction<'a>, state: &mut State) {
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

    pub(super) fn mounts(
        &mut self,
        stage: usize,
        run: &RunInstruction<'a>,
        in_family: bool,
        state: &State,
    ) {
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

    pub(super) fn evaluate(&mut self, site: Site<'a>, state: &State) {
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

    pub(super) fn mask(&mut self, site: &Site<'a>) {
        if let Some(token) = site.token {
            self.masked.push(token.range());
        }
    }

    /// What to do with one path under the planned moves.
    pub(super) fn outcome(&self, site: &Site<'a>, state: &State) -> Verdict {
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

    pub(super) fn variable_outcome(&self, site: &Site<'a>, state: &State) -> Verdict {
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
    pub(super) fn relative_outcome(&self, site: &Site<'a>, cwd: &str, path: &str) -> Verdict {
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
    pub(super) fn resolve(&self, kind: Kind, value: &str, state: &State) -> Resolved {
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
    pub(super) fn map(&self, site: &Site<'a>, path: &str) -> Option<&'w Move> {
        let family = self
            .family_moves
            .iter()
            .copied()
            .filter(|change| under(path, &change.from).is_some())
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
    pub(super) fn groups_reaching(&self, site: &Site<'a>) -> Vec<Group> {
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
    pub(super) fn scan_mentions(&mut self) {
        let file = self.model.file;
        let lines = self.lines;
        let masked = RangeSet::new(self.masked.clone());
        for &stage in &self.family.members {
            let Some(stage) = self.model.stages.get(stage) else {
                continue;
            };
            for instruction in file.instructions().get(stage.body()).unwrap_or_default() {
                let Some(range) = file.instruction_range(instruction) else {
                    continue;
                };
                for change in &self.family_moves {
                    if let Some(at) = mention(file.text(), range.clone(), &change.from, &masked) {
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
pub(super) enum Resolved {
    Absolute(String),
    Relative { cwd: String, path: String },
    Unknown,
}

#[derive(Debug)]
pub(super) enum Verdict {
    /// Nothing to say, and the value was understood.
    Keep,
    /// The value could not be read; it is left to the mention scan.
    Unknown,
    Do(Outcome),
    Blocks(Vec<Outcome>),
}
