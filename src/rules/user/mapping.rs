//! `user-mapping` (documented in the parent module's header).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use parse_dockerfile::{Flag, Instruction};

use super::hardened_ids;
use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::dockerfile::Dockerfile;
use crate::rules::{Rule, basename};
use crate::shell::{self, SimpleCommand, Word};
use crate::stages::{Lineage, StageModel};

/// Rewrite named users and groups of the public image in stages being migrated.
///
/// The stages are visited depth first along `FROM <stage>` (without recursion: a chain may be
/// long), counting the names each `RUN` creates on the way down and forgetting them on the way
/// back, so every site sees exactly the names its stage chain created before it and every `RUN`
/// is read once.
pub(super) fn user_mapping(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
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
        // A stage already on the replacement is checked too (lint mode): the names of the
        // public image fail there just the same.
        let lineage = model.lineage(root);
        let Some(entry) = lineage.entry() else {
            continue;
        };
        let public_gids = keeps_public_gids(&lineage);
        let mut stack = vec![Visit::Enter(root)];
        while let Some(visit) = stack.pop() {
            match visit {
                Visit::Enter(index) => {
                    let added =
                        map_stage(model, index, entry, public_gids, &mut created, &mut found);
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

/// Whether a group without a stated replacement gid may keep the gid the catalog records for
/// the public image. Those ids are read from the Debian variant (the catalog's convention);
/// an Alpine variant creates its users with other ids (postgres: 70, not 999), and a file
/// already on the replacement no longer says which variant it came from.
fn keeps_public_gids(lineage: &Lineage<'_, '_, '_>) -> bool {
    match lineage {
        Lineage::Migrating(migration) => {
            !migration.token.text.to_ascii_lowercase().contains("alpine")
        }
        _ => false,
    }
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
    public_gids: bool,
    created: &mut CreatedNames,
    found: &mut Vec<(usize, Diagnostic)>,
) -> Vec<String> {
    let instructions = model.file.instructions();
    let mut added = Vec::new();
    for at in model.stages[index].body() {
        let Some(instruction) = instructions.get(at) else {
            continue;
        };
        let Some(range) = model.file.instruction_range(instruction) else {
            continue;
        };
        let commands: Arc<[SimpleCommand]> = match instruction {
            Instruction::Run(run) => model.run_commands(run),
            // A container that starts with `su-exec node:node` needs the id as much as a RUN.
            Instruction::Entrypoint(entrypoint) => {
                shell::run::command_line(model.file, &entrypoint.arguments).into()
            }
            Instruction::Cmd(cmd) => shell::run::command_line(model.file, &cmd.arguments).into(),
            _ => Arc::from([]),
        };
        for command in commands.iter() {
            for name in created_by(command.argv()) {
                created.add(name.clone());
                added.push(name);
            }
            for site in run_sites(model.file.text(), command) {
                let diagnostic = match site {
                    RunSite::Ids(site) => {
                        map_ids(&site, range.clone(), entry, public_gids, created)
                    }
                    RunSite::Names { shown, name } => {
                        named_user(&shown, &name, range.clone(), entry, created)
                    }
                };
                found.extend(diagnostic.map(|diagnostic| (at, diagnostic)));
            }
        }
        let site = match instruction {
            Instruction::User(user) => IdSite::new(
                "USER ",
                user.arguments.value.as_ref(),
                model.file.token(&user.arguments).map(|token| token.range()),
                Shape::UserGroup,
            ),
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
        if let Some(diagnostic) = map_ids(&site, range, entry, public_gids, created) {
            found.push((at, diagnostic));
        }
    }
    added
}

/// A `name[:group]` value to map: the `USER` argument, a `--chown` value, or the owner a `RUN`
/// command names (`chown node:node`, `gosu node`).
struct IdSite {
    /// How the value is introduced in messages: `USER `, `--chown=`, `chown -R `.
    keyword: String,
    /// The value as Docker or the shell reads it (quotes removed).
    value: String,
    /// The range of the file that holds exactly `value`, when it can be edited in place.
    editable: Option<Range<usize>>,
    shape: Shape,
    /// Between user and group: `:`, or `.` in chown's old `user.group` spelling.
    separator: char,
}

/// What a value names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `user[:group]`.
    UserGroup,
    /// A group alone (`chgrp GROUP`).
    Group,
}

impl IdSite {
    fn new(keyword: &str, value: &str, editable: Option<Range<usize>>, shape: Shape) -> Self {
        IdSite {
            keyword: keyword.to_owned(),
            value: value.to_owned(),
            editable,
            shape,
            separator: ':',
        }
    }
}

fn chown_site<'a>(file: &Dockerfile<'a>, flags: &[Flag<'a>]) -> Option<IdSite> {
    let flag = flags
        .iter()
        .find(|flag| flag.name.value.eq_ignore_ascii_case("chown"))?;
    let value = flag.value.as_ref()?.value.as_ref();
    Some(IdSite::new(
        "--chown=",
        unquote(value),
        file.flag_value(flags, "chown").map(|token| token.range()),
        Shape::UserGroup,
    ))
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
    To(String, Origin),
    /// The fact that is missing, as a sentence.
    Missing(String),
}

/// Where a mapped id comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The replacement's runtime user or group.
    Runtime,
    /// The id the name had on the public image: a group whose replacement gid the catalog does
    /// not state keeps the ownership the public build gave it (a numeric gid needs no entry in
    /// `/etc/group`).
    PublicId,
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
    site: &IdSite,
    range: Range<usize>,
    entry: &Entry,
    public_gids: bool,
    created: &CreatedNames,
) -> Option<Diagnostic> {
    let value = site.value.trim();
    if value.is_empty() || value.contains(char::is_whitespace) {
        return None;
    }
    let (user, group) = match (site.shape, value.split_once(site.separator)) {
        (Shape::Group, _) => (None, Some(value)),
        (Shape::UserGroup, Some((user, group))) => (Some(user), Some(group)),
        (Shape::UserGroup, None) => (Some(value), None),
    };
    if site.shape == Shape::UserGroup
        && let (Some(user), Some("")) = (user, group)
        && is_name(user)
    {
        // `chown node: f` means node's login group, which the catalog does not record.
        let range = site.editable.clone().unwrap_or(range);
        return Some(
            Diagnostic::report(
                Rule::UserMapping,
                range,
                format!(
                    "`{}{value}` names `{user}` and its login group, which the replacement {} does not have, and hardport does not know that group's id",
                    site.keyword, entry.replacement
                ),
            )
            .suggest("write the owner as `uid:gid` with numeric ids"),
        );
    }
    let (hardened_user, hardened_group) = hardened_ids(entry);
    let user_part = user.map(|user| {
        map_part(
            user,
            Kind::User,
            entry,
            hardened_user.as_deref(),
            false,
            created,
        )
    });
    let group_part = group.map(|group| {
        map_part(
            group,
            Kind::Group,
            entry,
            hardened_group.as_deref(),
            public_gids,
            created,
        )
    });
    let shown = format!("{}{value}", site.keyword);
    let parts = [user_part.as_ref(), group_part.as_ref()];
    let missing: Vec<&str> = parts
        .into_iter()
        .flatten()
        .filter_map(|part| match part {
            Mapped::Missing(message) => Some(message.as_str()),
            _ => None,
        })
        .collect();
    let editable = site.editable.clone().filter(|_| value == site.value);
    let range = editable.clone().unwrap_or(range);
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
    if !parts
        .into_iter()
        .flatten()
        .any(|part| matches!(part, Mapped::To(..)))
    {
        return None;
    }
    let new_part = |part: Option<&Mapped>, old: &str| match part {
        Some(Mapped::To(id, _)) => id.clone(),
        _ => old.to_owned(),
    };
    let new_value = match (user, group) {
        (Some(user), Some(group)) => format!(
            "{}{}{}",
            new_part(user_part.as_ref(), user),
            site.separator,
            new_part(group_part.as_ref(), group)
        ),
        (Some(user), None) => new_part(user_part.as_ref(), user),
        (None, group) => new_part(group_part.as_ref(), group.unwrap_or_default()),
    };
    let names: Vec<String> = [
        (Kind::User, user, user_part.as_ref()),
        (Kind::Group, group, group_part.as_ref()),
    ]
    .into_iter()
    .filter_map(|(kind, name, part)| match (name, part) {
        (Some(name), Some(Mapped::To(id, origin))) => Some(match origin {
            Origin::Runtime => format!("{} `{name}` (now its runtime id {id})", kind.noun()),
            Origin::PublicId => format!(
                "{} `{name}` (now {id}, its id on the public image, which keeps the ownership the public build gave)",
                kind.noun()
            ),
        }),
        _ => None,
    })
    .collect();
    let message = format!(
        "`{shown}` → `{}{new_value}`: the replacement {} has no {}",
        site.keyword,
        entry.replacement,
        names.join(" or ")
    );
    match editable {
        Some(editable) => Some(Diagnostic::fixed(
            Rule::UserMapping,
            editable.clone(),
            message,
            Fix::single(Edit::replace(editable, new_value)),
        )),
        None => Some(
            Diagnostic::report(
                Rule::UserMapping,
                range,
                format!(
                    "`{shown}` names the public image's users, but the line cannot be edited in place (a line continuation, escape or quote inside the value)"
                ),
            )
            .suggest(format!("write `{}{new_value}` yourself", site.keyword)),
        ),
    }
}

/// A `RUN` command that names a public user or group it changes, runs as or gives files to
/// (`usermod -aG docker node`, `su node -c …`): the replacement has no such user, and the
/// command takes no bare id in its place.
fn named_user(
    shown: &str,
    name: &str,
    range: Range<usize>,
    entry: &Entry,
    created: &CreatedNames,
) -> Option<Diagnostic> {
    let listed = [&entry.public.users, &entry.public.groups]
        .into_iter()
        .flatten()
        .any(|names| names.contains_key(name));
    if !is_name(name) || created.contains(name) || !listed {
        return None;
    }
    Some(
        Diagnostic::report(
            Rule::UserMapping,
            range,
            format!(
                "`{shown}` names `{name}`, a user of the public image that the replacement {} does not have: it fails there",
                entry.replacement
            ),
        )
        .suggest(format!(
            "create the user this step expects first (`useradd`), or do without it: the replacement runs as {}",
            entry
                .hardened
                .user
                .as_ref()
                .map_or("its own runtime user", |user| user.0.as_str())
        )),
    )
}

/// What a `RUN` command says about users, for `user-mapping`.
enum RunSite {
    /// It names an owner to map: `chown`, `chgrp`, `gosu`, `su-exec`.
    Ids(IdSite),
    /// It names a user it acts as or on, in a way no id can stand in for (`usermod … node`,
    /// `su node -c …`, `sudo -u node …`, `install -o node …`): reported only.
    Names { shown: String, name: String },
}

/// Programs that change or remove an existing user or group, which they name last.
const USER_MODIFIERS: &[&str] = &[
    "usermod", "userdel", "deluser", "groupmod", "groupdel", "delgroup", "gpasswd", "passwd",
];

/// The users and groups a `RUN` command names, when hardport recognises the command.
fn run_sites(text: &str, command: &SimpleCommand) -> Vec<RunSite> {
    let mut sites: Vec<RunSite> = named_users(command)
        .into_iter()
        .map(|name| RunSite::Names {
            shown: shown(&command.words),
            name,
        })
        .collect();
    if let Some((switcher, user)) = command.switched_user() {
        sites.push(RunSite::Ids(IdSite::new(
            &format!("{} ", basename(&switcher.text)),
            &user.text,
            user.text_range(text),
            Shape::UserGroup,
        )));
        return sites;
    }
    let argv = command.argv();
    let Some(program) = command.program() else {
        return sites;
    };
    let args = argv.get(1..).unwrap_or_default();
    let positionals = || args.iter().filter(|word| !word.text.starts_with('-'));
    match program {
        "chown" | "chgrp" => {
            // `--reference=FILE` names no owner; `--from=` only filters.
            if args.iter().any(|word| word.text.starts_with("--reference")) {
                return sites;
            }
            let Some(owner) = positionals().next() else {
                return sites;
            };
            let options: Vec<&str> = args
                .iter()
                .take_while(|word| !std::ptr::eq(*word, owner))
                .map(|word| word.text.as_str())
                .collect();
            let keyword = match options.is_empty() {
                true => format!("{program} "),
                false => format!("{program} {} ", options.join(" ")),
            };
            let shape = match program {
                "chown" => Shape::UserGroup,
                _ => Shape::Group,
            };
            let mut site = IdSite::new(&keyword, &owner.text, owner.text_range(text), shape);
            // GNU chown still reads the old `user.group` spelling.
            if shape == Shape::UserGroup
                && !owner.text.contains(':')
                && let Some((user, group)) = owner.text.split_once('.')
                && is_name(user)
                && is_name(group)
            {
                site.separator = '.';
            }
            sites.push(RunSite::Ids(site));
        }
        program if USER_MODIFIERS.contains(&program) => {
            if let Some(name) = positionals().next_back() {
                sites.push(RunSite::Names {
                    shown: shown(argv),
                    name: name.text.clone(),
                });
            }
        }
        _ => {}
    }
    sites
}

/// A command's words as written in a message.
fn shown(words: &[Word]) -> String {
    let words: Vec<&str> = words.iter().map(|word| word.text.as_str()).collect();
    words.join(" ")
}

/// The names a command runs as or gives files to with options no numeric id can replace as
/// written: `su NAME`, `sudo -u NAME` / `runuser -u NAME` (they take `#uid`, not a bare id),
/// `setpriv --reuid=NAME`, `install -o NAME -g NAME`.
fn named_users(command: &SimpleCommand) -> Vec<String> {
    let argv = command.argv();
    // `sudo` is a wrapper: its options stand before the program it runs.
    let wrappers = &command.words[..command.words.len() - argv.len()];
    let mut names = Vec::new();
    if let Some(sudo) = wrappers
        .iter()
        .position(|word| !word.quoted && basename(&word.text) == "sudo")
    {
        names.extend(option_values(&wrappers[sudo + 1..], &["-u", "--user"]));
    }
    let (Some(program), Some(args)) = (command.program(), argv.get(1..)) else {
        return names;
    };
    let options: &[&str] = match program {
        "runuser" => &["-u", "--user"],
        "setpriv" => &["--reuid", "--regid", "--ruid", "--rgid", "--euid", "--egid"],
        "install" => &["-o", "--owner", "-g", "--group"],
        "su" => {
            names.extend(su_user(args));
            return names;
        }
        _ => return names,
    };
    names.extend(option_values(args, options));
    names
}

/// The values of `options` (`-u NAME`, `--user NAME`, `--user=NAME`) among `words`.
fn option_values(words: &[Word], options: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        if let Some((option, value)) = word.text.split_once('=')
            && options.contains(&option)
        {
            values.push(value.to_owned());
        } else if options.contains(&word.text.as_str())
            && let Some(value) = iter.next()
        {
            values.push(value.text.clone());
        }
    }
    values
}

/// The user `su [options] NAME` switches to.
fn su_user(words: &[Word]) -> Option<String> {
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        match word.text.as_str() {
            "-c" | "-s" | "-g" | "-G" | "--command" | "--shell" | "--group" => {
                iter.next();
            }
            "-" => {}
            text if text.starts_with('-') => {}
            text => return Some(text.to_owned()),
        }
    }
    None
}

fn map_part(
    name: &str,
    kind: Kind,
    entry: &Entry,
    hardened: Option<&str>,
    public_ids: bool,
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
    match (hardened, kind, known.get(name)) {
        (Some(id), ..) => Mapped::To(id.to_owned(), Origin::Runtime),
        (None, Kind::Group, Some(gid)) if public_ids => Mapped::To(gid.0.clone(), Origin::PublicId),
        _ => Mapped::Missing(format!(
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

// Which names a Dockerfile creates

/// The user and group names `useradd`, `adduser`, `groupadd` or `addgroup` create.
pub(super) fn created_by(argv: &[Word]) -> Vec<String> {
    let Some((program, args)) = argv.split_first() else {
        return Vec::new();
    };
    let program = program.text.as_str();
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
    let mut words = args.iter().map(|word| &word.text);
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
