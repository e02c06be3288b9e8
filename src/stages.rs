//! The stage model of a Dockerfile: what every rule reads instead of raw text.
//!
//! For each stage: its name and index, its base (a catalog image being migrated, an image that
//! already is a hardened replacement, an earlier stage, `scratch`, or something unknown), whether
//! it is final or a leaf another build could `--target`, which stages it copies from, and its
//! effective configuration (USER, WORKDIR, ENV, ENTRYPOINT, CMD) as Docker computes it, in two
//! views: as the file meant it on the public image, and as it will run on the replacement.
//!
//! How rules use the two views keeps the fix loop idempotent: a rule that compares "public" with
//! "hardened" acts only on stages whose base this run migrates ([`Base::Migrating`]); after the
//! first pass those bases are [`Base::Hardened`], so a second run has nothing to compare.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use parse_dockerfile::{Command, Instruction, RunInstruction};

use crate::catalog::{Catalog, Entry, ImageSpec};
use crate::dockerfile::{ArgScope, Dockerfile, ExpansionPattern, Token, whole_variable};
use crate::image_ref::{ImageRef, ReplacementTag, replacement_tag};
use crate::shell::{self, SimpleCommand};
use crate::unix_path::within_path_max;
use names::StageNames;
pub use users::UserSwitch;
use users::user_set_by;

/// How many `ARG` indirections (`FROM $A`, `ARG A=$B`, …) are followed before giving up.
const MAX_ARG_DEPTH: usize = 8;

/// Where an image reference was written; decides which names mean a build stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    From,
    /// `COPY --from=` or `RUN --mount=from=`: a stage name or a stage index.
    CopySource,
}

/// What an image reference in a Dockerfile turns out to be.
#[derive(Debug, Clone)]
pub enum Reference<'a, 'c> {
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// A public image the catalog maps and that this line can be rewritten for.
    Migrating(Migration<'a, 'c>),
    /// Already the replacement of a catalog entry.
    Hardened {
        token: Token<'a>,
        entry: &'c Entry,
        image: ImageRef,
    },
    /// An image the catalog does not map.
    Unmapped {
        token: Token<'a>,
        repository: String,
        /// What the reference resolved to, when variables were involved.
        resolved: Option<String>,
    },
    /// Something hardport cannot rewrite safely; the message says why.
    Unresolved {
        token: Token<'a>,
        message: String,
    },
    /// Nothing hardport can or needs to say (a variable `COPY --from`, a text that is not a
    /// reference and no token to point at).
    Ignored,
}

/// A mapped public image reference and its rewrite.
#[derive(Debug, Clone)]
pub struct Migration<'a, 'c> {
    /// The text to edit: the reference itself or the `ARG` default it goes through.
    pub token: Token<'a>,
    pub entry: &'c Entry,
    pub image: ImageRef,
    pub tag: ReplacementTag,
    /// `<replacement>:<tag>`.
    pub new_text: String,
}

/// Resolves image references against the catalog, the global `ARG`s and the stages so far.
#[derive(Debug, Clone)]
pub struct Resolver<'a, 'c> {
    catalog: &'c Catalog,
    args: ArgScope<'a>,
    /// The stages declared so far.
    stage_names: StageNames,
}

impl<'a, 'c> Resolver<'a, 'c> {
    pub fn new(catalog: &'c Catalog) -> Self {
        Resolver {
            catalog,
            args: ArgScope::default(),
            stage_names: StageNames::default(),
        }
    }

    pub fn catalog(&self) -> &'c Catalog {
        self.catalog
    }

    pub fn args(&self) -> &ArgScope<'a> {
        &self.args
    }

    pub fn declare_arg(&mut self, declaration: &crate::dockerfile::ArgDeclaration<'a>) {
        self.args.declare(declaration);
    }

    pub fn push_stage(&mut self, name: Option<&str>) {
        self.stage_names.push(name);
    }

    fn stage_index(&self, text: &str, site: Site) -> Option<usize> {
        if let Some(index) = self.stage_names.get(text) {
            return Some(index);
        }
        match site {
            Site::CopySource => text
                .parse::<usize>()
                .ok()
                .filter(|&index| index < self.stage_names.len()),
            Site::From => None,
        }
    }

    /// What `token`, written at `site`, refers to.
    pub fn resolve(&self, token: Token<'a>, site: Site) -> Reference<'a, 'c> {
        self.resolve_at(token, site, 0)
    }

    fn resolve_at(&self, token: Token<'a>, site: Site, depth: usize) -> Reference<'a, 'c> {
        let text = token.text;
        if text.eq_ignore_ascii_case("scratch") {
            return Reference::Scratch;
        }
        if let Some(index) = self.stage_index(text, site) {
            return Reference::Stage(index);
        }
        if site == Site::CopySource && text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Reference::Ignored;
        }
        if let Some(name) = whole_variable(text) {
            return match site {
                Site::From => self.through_arg(token, name, depth),
                // Stage-scoped variables decide these; they name stages far more often than images.
                Site::CopySource => Reference::Ignored,
            };
        }
        if site == Site::CopySource && text.contains('$') {
            return Reference::Ignored;
        }
        let image = match ImageRef::parse(text) {
            Ok(image) => image,
            Err(error) => {
                return Reference::Unresolved {
                    token,
                    message: format!(
                        "`{text}` is not an image reference hardport can read: {error}"
                    ),
                };
            }
        };
        match image.canonical_repository() {
            Some(repository) => self.static_repository(token, image, repository),
            None => self.variable_repository(token),
        }
    }

    fn through_arg(&self, token: Token<'a>, name: &str, depth: usize) -> Reference<'a, 'c> {
        let text = token.text;
        let message = match self.args.get(name) {
            Some(Some(default)) if depth < MAX_ARG_DEPTH => {
                return self.resolve_at(default, Site::From, depth + 1);
            }
            Some(Some(_)) => {
                format!("`{text}` goes through more than {MAX_ARG_DEPTH} ARGs; rewrite it by hand")
            }
            Some(None) => format!(
                "ARG {name} has no default, so hardport cannot tell which image `{text}` is; give it a default or pass the image explicitly"
            ),
            None => format!("`{text}` uses {name}, which no ARG before the first FROM declares"),
        };
        Reference::Unresolved { token, message }
    }

    fn static_repository(
        &self,
        token: Token<'a>,
        image: ImageRef,
        repository: String,
    ) -> Reference<'a, 'c> {
        // A tag built from ARGs with defaults names the image its defaults build: its locked
        // facts are that image's.
        let expanded = image
            .tag
            .as_deref()
            .filter(|tag| tag.contains('$'))
            .and_then(|tag| self.args.expand(tag));
        let tag = expanded.as_deref().or(image.tag.as_deref());
        let tag = self
            .catalog
            .lock_tag(&repository, tag, image.digest.as_deref());
        let Some(entry) = self.catalog.lookup_image(&repository, tag) else {
            return match self.catalog.lookup_replacement_image(&repository, tag) {
                Some(entry) => Reference::Hardened {
                    token,
                    entry,
                    image,
                },
                None => Reference::Unmapped {
                    token,
                    repository,
                    resolved: None,
                },
            };
        };
        let tag = entry.replacement_tag(image.tag.as_deref());
        if entry.tag.is_none()
            && let Some(message) = self.tag_variable_conflict(&image, &tag.tag)
        {
            return Reference::Unresolved { token, message };
        }
        let new_text = format!("{}:{}", entry.replacement, tag.tag);
        Reference::Migrating(Migration {
            token,
            entry,
            image,
            tag,
            new_text,
        })
    }

    /// When the tag uses variables with known defaults, the line's new tag must expand to the
    /// same tag the policy gives for the expanded value; otherwise editing this line alone would
    /// build a tag the replacement does not have (e.g. `node:${V}` with `ARG V=20-alpine`).
    fn tag_variable_conflict(&self, image: &ImageRef, new_tag: &str) -> Option<String> {
        let tag = image.tag.as_deref().filter(|tag| tag.contains('$'))?;
        let resolved = self.args.expand(tag)?;
        let wanted = replacement_tag(Some(&resolved)).tag;
        if self.args.expand(new_tag).as_deref() == Some(wanted.as_str()) {
            return None;
        }
        Some(format!(
            "tag `{tag}` resolves to `{resolved}`, for which the replacement's tag is `{wanted}`; this line cannot express that: change the ARG default to `{wanted}` and run hardport again"
        ))
    }

    /// A reference whose repository contains variables: never rewritten, but classified.
    fn variable_repository(&self, token: Token<'a>) -> Reference<'a, 'c> {
        let text = token.text;
        if let Some(index) = ExpansionPattern::new(&text.to_ascii_lowercase())
            .and_then(|pattern| self.stage_names.first_match(&pattern))
        {
            return Reference::Stage(index);
        }
        let Some(expanded) = self.args.expand(text) else {
            return Reference::Unresolved {
                token,
                message: format!(
                    "hardport cannot tell which image `{text}` is: its repository uses variables without defaults"
                ),
            };
        };
        if let Some(index) = self.stage_index(&expanded, Site::From) {
            return Reference::Stage(index);
        }
        let Some(repository) = ImageRef::parse(&expanded)
            .ok()
            .and_then(|image| image.canonical_repository())
        else {
            return Reference::Unresolved {
                token,
                message: format!(
                    "`{text}` resolves to `{expanded}`, which is not an image reference hardport can read"
                ),
            };
        };
        match self.catalog.lookup(&repository) {
            Some(entry) => Reference::Unresolved {
                token,
                message: format!(
                    "`{text}` resolves to `{expanded}`, which the catalog maps to {}, but its repository is built from variables; hardport rewrites only a literal repository or a whole ${{ARG}}: rewrite it by hand",
                    entry.replacement
                ),
            },
            None => match self.catalog.lookup_replacement(&repository) {
                Some(_) => Reference::Ignored,
                None => Reference::Unmapped {
                    token,
                    repository,
                    resolved: Some(expanded),
                },
            },
        }
    }
}

/// What a stage is built on.
#[derive(Debug, Clone)]
pub enum Base<'a, 'c> {
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// A public image this run rewrites to the entry's replacement.
    Migrating(Migration<'a, 'c>),
    /// Already the entry's replacement; `token` is the reference (FROM image or ARG default).
    Hardened {
        token: Token<'a>,
        entry: &'c Entry,
        image: ImageRef,
    },
    /// An unmapped or unresolvable image: nothing is known about it.
    Unknown,
}

/// Which image's facts a configuration is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// As the Dockerfile was written: a migrating base has its `public:` spec.
    Public,
    /// As it will run: a migrating base has its `hardened:` spec.
    Hardened,
}

/// `ENTRYPOINT`/`CMD` value: exec form, or shell form run by `/bin/sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    Exec(Vec<String>),
    Shell(String),
}

impl CommandLine {
    /// The argv Docker runs: shell form is `/bin/sh -c "<text>"`.
    pub fn argv(&self) -> Vec<String> {
        match self {
            CommandLine::Exec(words) => words.clone(),
            CommandLine::Shell(text) => vec!["/bin/sh".into(), "-c".into(), text.clone()],
        }
    }
}

/// A stage's effective configuration. `None` means unknown (the base's spec lacks it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub entrypoint: Option<CommandLine>,
    pub cmd: Option<CommandLine>,
    /// `ENV` values set by the Dockerfile along the stage chain, in order (later wins).
    pub env: Vec<(String, String)>,
}

impl Config {
    fn from_spec(spec: &ImageSpec) -> Config {
        Config {
            user: spec_user(spec),
            workdir: spec.workdir.clone(),
            entrypoint: spec.entrypoint.clone().map(CommandLine::Exec),
            cmd: spec.cmd.clone().map(CommandLine::Exec),
            env: Vec::new(),
        }
    }

    fn scratch() -> Config {
        Config {
            user: Some("0".into()),
            workdir: Some("/".into()),
            entrypoint: Some(CommandLine::Exec(Vec::new())),
            cmd: Some(CommandLine::Exec(Vec::new())),
            env: Vec::new(),
        }
    }
}

/// The `USER` an image's spec runs as, with its group when the spec names one apart.
fn spec_user(spec: &ImageSpec) -> Option<String> {
    spec.user.as_ref().map(|user| match &spec.group {
        Some(group) if !user.0.contains(':') => format!("{}:{}", user.0, group.0),
        _ => user.0.clone(),
    })
}

/// One build stage.
#[derive(Debug, Clone)]
pub struct Stage<'a, 'c> {
    pub index: usize,
    /// The `AS` name as written.
    pub name: Option<&'a str>,
    /// Indexes into [`Dockerfile::instructions`]: the stage's `FROM` and the end (exclusive).
    pub from_index: usize,
    pub end_index: usize,
    pub base: Base<'a, 'c>,
    /// Stages this one copies or mounts from (`COPY --from`, `RUN --mount=from=`).
    pub copies_from: Vec<usize>,
}

impl Stage<'_, '_> {
    /// Indexes of the instructions after `FROM`.
    pub fn body(&self) -> Range<usize> {
        self.from_index + 1..self.end_index
    }
}

/// Where a stage's filesystem comes from: the catalog image at the root of its `FROM` chain.
#[derive(Debug, Clone, Copy)]
pub enum Lineage<'s, 'a, 'c> {
    Migrating(&'s Migration<'a, 'c>),
    Hardened(&'c Entry),
    /// Scratch or unknown.
    Other,
}

impl<'c> Lineage<'_, '_, 'c> {
    pub fn entry(&self) -> Option<&'c Entry> {
        match self {
            Lineage::Migrating(migration) => Some(migration.entry),
            Lineage::Hardened(entry) => Some(entry),
            Lineage::Other => None,
        }
    }
}

/// Which variant of a hardened image a stage needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The production image: no shell, no package manager.
    Production,
    /// The `-dev` image: shell and package manager.
    Dev,
}

/// Every stage of a Dockerfile, with what rules need to know about them.
#[derive(Debug)]
pub struct StageModel<'f, 'a, 'c> {
    pub file: &'f Dockerfile<'a>,
    pub stages: Vec<Stage<'a, 'c>>,
    /// The `ARG`s declared before the first `FROM`.
    pub global_args: ArgScope<'a>,
    pub catalog: &'c Catalog,
    /// Facts about every stage that depend on the others, computed once so that asking them
    /// per stage stays linear in the number of stages.
    links: Vec<Links>,
    /// The user at the end of every stage, public and hardened view, computed on first use
    /// (see [`StageModel::users_at`]).
    end_users: [OnceLock<Vec<Option<String>>>; 2],
    /// The commands of each `RUN` a rule asked about, by the offset of its `RUN` keyword: four
    /// rules read them, and a script is parsed once.
    run_commands: Mutex<HashMap<usize, Arc<[SimpleCommand]>>>,
}

/// What [`StageModel`] precomputes per stage from the stages' bases and copies.
#[derive(Debug, Clone, Copy)]
struct Links {
    /// The stage at the root of its `FROM` chain.
    root: usize,
    /// No later stage is built on it or copies from it.
    leaf: bool,
    /// It, or a stage built on it, runs commands.
    needs_shell: bool,
}

impl<'f, 'a, 'c> StageModel<'f, 'a, 'c> {
    pub fn new(file: &'f Dockerfile<'a>, catalog: &'c Catalog) -> Self {
        let instructions = file.instructions();
        let mut resolver = Resolver::new(catalog);
        let mut global_args = ArgScope::default();
        let mut stages: Vec<Stage<'a, 'c>> = Vec::new();
        for (index, instruction) in instructions.iter().enumerate() {
            match instruction {
                Instruction::Arg(arg) if stages.is_empty() => {
                    for declaration in file.arg_declarations(arg) {
                        resolver.declare_arg(&declaration);
                        global_args.declare(&declaration);
                    }
                }
                Instruction::From(from) => {
                    if let Some(last) = stages.last_mut() {
                        last.end_index = index;
                    }
                    let base = match file.token(&from.image) {
                        Some(token) => base_of(resolver.resolve(token, Site::From)),
                        None => Base::Unknown,
                    };
                    let name = from.as_.as_ref().and_then(|(_, name)| file.token(name));
                    resolver.push_stage(from.as_.as_ref().map(|(_, name)| name.value.as_ref()));
                    stages.push(Stage {
                        index: stages.len(),
                        name: name.map(|token| token.text),
                        from_index: index,
                        end_index: instructions.len(),
                        base,
                        copies_from: Vec::new(),
                    });
                }
                Instruction::Copy(copy) => {
                    if let (Some(stage), Some(source)) =
                        (stages.last_mut(), file.flag_value(&copy.options, "from"))
                        && let Reference::Stage(from) = resolver.resolve(source, Site::CopySource)
                    {
                        stage.copies_from.push(from);
                    }
                }
                Instruction::Run(run) => {
                    for source in file.mount_sources(run) {
                        if let (Some(stage), Reference::Stage(from)) = (
                            stages.last_mut(),
                            resolver.resolve(source, Site::CopySource),
                        ) {
                            stage.copies_from.push(from);
                        }
                    }
                }
                _ => {}
            }
        }
        let links = links(file, &stages);
        StageModel {
            file,
            stages,
            global_args,
            catalog,
            links,
            end_users: [OnceLock::new(), OnceLock::new()],
            run_commands: Mutex::new(HashMap::new()),
        }
    }

    /// Every simple command `run` executes ([`shell::run::commands`]), parsed on first ask.
    pub fn run_commands(&self, run: &RunInstruction<'a>) -> Arc<[SimpleCommand]> {
        let key = run.run.span.start;
        let cached = self
            .run_commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        cached.unwrap_or_else(|| {
            let commands: Arc<[SimpleCommand]> = shell::run::commands(self.file, run).into();
            self.run_commands
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key, Arc::clone(&commands));
            commands
        })
    }

    /// The stage `docker build` builds without `--target`.
    pub fn final_stage(&self) -> Option<&Stage<'a, 'c>> {
        self.stages.last()
    }

    pub fn is_final(&self, index: usize) -> bool {
        index + 1 == self.stages.len()
    }

    /// Whether a container may be run from this stage: the final stage, or a stage no other
    /// stage builds on or copies from (a `--target` for tests or debugging).
    pub fn is_runnable(&self, index: usize) -> bool {
        self.is_final(index) || self.links[index].leaf
    }

    /// The catalog image at the root of the stage's `FROM` chain.
    pub fn lineage(&self, index: usize) -> Lineage<'_, 'a, 'c> {
        match &self.stages[self.root(index)].base {
            Base::Migrating(migration) => Lineage::Migrating(migration),
            Base::Hardened { entry, .. } => Lineage::Hardened(entry),
            _ => Lineage::Other,
        }
    }

    /// The earlier stage this one is built on (`FROM <stage>`), if any.
    pub fn parent(&self, index: usize) -> Option<usize> {
        self.stages.get(index).and_then(parent_of)
    }

    /// The index of the stage at the root of this stage's `FROM` chain.
    pub fn root(&self, index: usize) -> usize {
        self.links[index].root
    }

    /// Whether the stage itself runs commands through a shell: `RUN` or `SHELL`.
    pub fn runs_commands(&self, index: usize) -> bool {
        runs_commands(self.file, &self.stages[index])
    }

    /// Whether this stage's filesystem must have a shell and package manager: it, or any stage
    /// built `FROM` it, runs commands.
    pub fn needs_shell(&self, index: usize) -> bool {
        self.links[index].needs_shell
    }

    /// The variant the stage's root image must be after migration.
    pub fn variant(&self, index: usize) -> Variant {
        match self.needs_shell(self.root(index)) {
            true => Variant::Dev,
            false => Variant::Production,
        }
    }

    /// Whether the stage will have `/bin/sh` on the replacement: `None` when unknown.
    pub fn has_shell(&self, index: usize) -> Option<bool> {
        let entry = self.lineage(index).entry()?;
        if self.variant(index) == Variant::Dev && entry.dev_tag_suffix.is_some() {
            return Some(true);
        }
        entry.hardened.shell
    }

    /// The instructions of a stage after its `FROM`.
    pub fn instructions(&self, index: usize) -> impl Iterator<Item = &'f Instruction<'a>> + '_ {
        let body = self.stages[index].body();
        self.file.instructions()[body].iter()
    }

    /// Every `RUN` of the file as `(stage, instruction index)`, in file order: the points
    /// [`StageModel::users_at`] answers for.
    pub fn run_points(&self) -> Vec<(usize, usize)> {
        let instructions = self.file.instructions();
        self.stages
            .iter()
            .flat_map(|stage| {
                stage
                    .body()
                    .filter(|&at| matches!(instructions.get(at), Some(Instruction::Run(_))))
                    .map(move |at| (stage.index, at))
            })
            .collect()
    }

    /// The stage's effective configuration in `view`, after its instructions before
    /// `until` (an index into the file's instructions; `None` for the whole stage).
    pub fn config(&self, index: usize, view: View, until: Option<usize>) -> Config {
        let stage = &self.stages[index];
        let mut config = match parent_of(stage) {
            Some(parent) => self.config(parent, view, None),
            None => image_config(stage, view),
        };
        let end = until.unwrap_or(stage.end_index).min(stage.end_index);
        let mut cmd_set_here = false;
        for instruction in &self.file.instructions()[stage.from_index + 1..end] {
            apply(self.file, instruction, &mut config, &mut cmd_set_here);
        }
        config
    }

    /// A [`ConfigSweep`] of stage `index` in `view`, before its first instruction after `FROM`.
    pub fn sweep(&self, index: usize, view: View) -> ConfigSweep<'_, 'f, 'a, 'c> {
        let next = self.stages[index].from_index + 1;
        ConfigSweep {
            model: self,
            index,
            config: self.config(index, view, Some(next)),
            next,
            cmd_set_here: false,
        }
    }
}

/// The configuration a stage starts from when it is not built on an earlier stage.
fn image_config(stage: &Stage<'_, '_>, view: View) -> Config {
    match (&stage.base, image_spec(stage, view)) {
        (Base::Scratch, _) => Config::scratch(),
        (_, Some(spec)) => Config::from_spec(spec),
        (_, None) => Config::default(),
    }
}

/// The user of [`image_config`], without building the rest of it.
fn image_user(stage: &Stage<'_, '_>, view: View) -> Option<String> {
    match (&stage.base, image_spec(stage, view)) {
        (Base::Scratch, _) => Config::scratch().user,
        (_, Some(spec)) => spec_user(spec),
        (_, None) => None,
    }
}

/// What the catalog says of the image a stage starts from in `view`, when it knows the image.
fn image_spec<'c>(stage: &Stage<'_, 'c>, view: View) -> Option<&'c ImageSpec> {
    match (&stage.base, view) {
        (Base::Migrating(migration), View::Public) => Some(&migration.entry.public),
        (Base::Migrating(migration), View::Hardened) => Some(&migration.entry.hardened),
        (Base::Hardened { entry, .. }, _) => Some(&entry.hardened),
        _ => None,
    }
}

/// The parent a stage is built on, when it is an earlier stage (a later one is no parent:
/// Docker refuses it, and following it could loop).
fn parent_of(stage: &Stage<'_, '_>) -> Option<usize> {
    match stage.base {
        Base::Stage(parent) if parent < stage.index => Some(parent),
        _ => None,
    }
}

fn runs_commands(file: &Dockerfile<'_>, stage: &Stage<'_, '_>) -> bool {
    file.instructions()
        .get(stage.body())
        .unwrap_or_default()
        .iter()
        .any(|instruction| matches!(instruction, Instruction::Run(_) | Instruction::Shell(_)))
}

/// Every stage's [`Links`]: roots forward (a parent comes first), the rest backward (the stages
/// built on a stage or copying from it come after it, or are ignored when they do not).
fn links(file: &Dockerfile<'_>, stages: &[Stage<'_, '_>]) -> Vec<Links> {
    let mut links: Vec<Links> = Vec::with_capacity(stages.len());
    for stage in stages {
        let root = parent_of(stage).map_or(stage.index, |parent| links[parent].root);
        links.push(Links {
            root,
            leaf: true,
            needs_shell: runs_commands(file, stage),
        });
    }
    for stage in stages.iter().rev() {
        if let Base::Stage(parent) = stage.base
            && let Some(link) = links.get_mut(parent)
        {
            link.leaf = false;
        }
        for &source in &stage.copies_from {
            if let Some(link) = links.get_mut(source) {
                link.leaf = false;
            }
        }
        if let Some(parent) = parent_of(stage)
            && links[stage.index].needs_shell
        {
            links[parent].needs_shell = true;
        }
    }
    links
}

/// A stage's configuration followed instruction by instruction, for a rule that reads it before
/// each instruction in order: asking [`StageModel::config`] each time would walk the stage again.
pub struct ConfigSweep<'m, 'f, 'a, 'c> {
    model: &'m StageModel<'f, 'a, 'c>,
    index: usize,
    config: Config,
    /// The next instruction to apply.
    next: usize,
    cmd_set_here: bool,
}

impl ConfigSweep<'_, '_, '_, '_> {
    /// The configuration before instruction `until`, as [`StageModel::config`] gives it with
    /// `Some(until)`; `until` must not decrease from one call to the next.
    pub fn before(&mut self, until: usize) -> &Config {
        let stage = &self.model.stages[self.index];
        let end = until.min(stage.end_index);
        let instructions = self.model.file.instructions();
        while self.next < end {
            if let Some(instruction) = instructions.get(self.next) {
                apply(
                    self.model.file,
                    instruction,
                    &mut self.config,
                    &mut self.cmd_set_here,
                );
            }
            self.next += 1;
        }
        &self.config
    }
}

fn base_of<'a, 'c>(reference: Reference<'a, 'c>) -> Base<'a, 'c> {
    match reference {
        Reference::Scratch => Base::Scratch,
        Reference::Stage(index) => Base::Stage(index),
        Reference::Migrating(migration) => Base::Migrating(migration),
        Reference::Hardened {
            token,
            entry,
            image,
        } => Base::Hardened {
            token,
            entry,
            image,
        },
        Reference::Unmapped { .. } | Reference::Unresolved { .. } | Reference::Ignored => {
            Base::Unknown
        }
    }
}

/// Apply one instruction to a configuration the way the builder does.
fn apply<'a>(
    file: &Dockerfile<'a>,
    instruction: &Instruction<'a>,
    config: &mut Config,
    cmd_set_here: &mut bool,
) {
    match instruction {
        Instruction::User(_) => config.user = user_set_by(instruction),
        Instruction::Workdir(workdir) => {
            let path = workdir.arguments.value.as_ref();
            config.workdir = if path.starts_with('/') {
                Some(path.to_owned())
            } else {
                config
                    .workdir
                    .as_deref()
                    .map(|current| join_path(current, path))
            }
            .and_then(within_path_max);
        }
        Instruction::Entrypoint(entrypoint) => {
            config.entrypoint = command_line(&entrypoint.arguments);
            // Setting ENTRYPOINT resets a CMD inherited from the base, not one set in this stage.
            if !*cmd_set_here {
                config.cmd = Some(CommandLine::Exec(Vec::new()));
            }
        }
        Instruction::Cmd(cmd) => {
            config.cmd = command_line(&cmd.arguments);
            *cmd_set_here = true;
        }
        Instruction::Env(env) => {
            for declaration in file
                .token(&env.arguments)
                .map(env_declarations)
                .unwrap_or_default()
            {
                config.env.push(declaration);
            }
        }
        _ => {}
    }
}

/// `ENV a=1 b="2"` or the legacy `ENV a 1 2`.
fn env_declarations(token: Token<'_>) -> Vec<(String, String)> {
    let text = token.text.trim();
    let first_word_end = text.find(char::is_whitespace).unwrap_or(text.len());
    if !text[..first_word_end].contains('=') {
        let value = text[first_word_end..].trim();
        return vec![(text[..first_word_end].to_owned(), value.to_owned())];
    }
    crate::dockerfile::split_declarations(token)
        .into_iter()
        .map(|declaration| {
            (
                declaration.name.to_owned(),
                declaration
                    .default
                    .map(|value| value.text.to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

pub fn command_line(command: &Command<'_>) -> Option<CommandLine> {
    match command {
        Command::Exec(exec) => Some(CommandLine::Exec(
            exec.value
                .iter()
                .map(|word| word.value.to_string())
                .collect(),
        )),
        Command::Shell(shell) => Some(CommandLine::Shell(shell.value.to_owned())),
        _ => None,
    }
}

/// Whether a `USER` value (`user[:group]`) runs as root: its user part is `root` or uid 0.
pub fn is_root_user(user: &str) -> bool {
    let uid = user.split(':').next().unwrap_or_default().trim();
    uid == "root" || (!uid.is_empty() && uid.bytes().all(|byte| byte == b'0'))
}

/// `dir` joined with the relative `path`, as WORKDIR does (no `..` resolution beyond text).
pub fn join_path(dir: &str, path: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{path}")
    } else {
        format!("{dir}/{path}")
    }
}

mod names;
#[cfg(test)]
mod tests;
mod users;
