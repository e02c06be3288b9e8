//! `needs-shell` and `exec-probe` for the containers a Compose file, a Kubernetes manifest or a
//! workflow runs on a replacement: what they start inside the container, read from the file.
//!
//! ## What it reports
//! For a container whose image moved to (or already is) a replacement:
//! - `needs-shell` (error): its `command`, `entrypoint` or `args` start a shell (`sh -c …`,
//!   `/bin/bash script.sh`) and the catalog says the replacement has none, so the container
//!   cannot start; a lifecycle hook (`postStart`, `preStop`) that runs a shell likewise fails.
//! - `exec-probe` (warning): a health check or probe runs a program inside the container —
//!   through a shell (Compose `CMD-SHELL` or a string `test`, an exec probe starting `sh`),
//!   which fails for certain, or another program (`pg_isready`, `redis-cli`), which fails
//!   unless the replacement ships it, which the catalog does not say.
//! - `entrypoint-feature` (warning): the container sets variables (`POSTGRES_PASSWORD`,
//!   `MYSQL_DATABASE`, `NGINX_ENVSUBST_*`) or mounts files (`/docker-entrypoint-initdb.d`,
//!   `/etc/nginx/templates`) that the public image's entrypoint script acts on, and the
//!   replacement is not known to run that script: the database is never initialised, the
//!   templates never rendered.
//! - `missing-fact`: the catalog does not say whether the replacement has a shell; or the
//!   container passes options or a script file (`command: --default-authentication-plugin=…`,
//!   Kubernetes `args` without `command`), which the public image's entrypoint script put
//!   after its default program, and the catalog does not state the replacement's entrypoint,
//!   which decides whether they reach a program (`entrypoint-feature` when it states one that
//!   is not that program).
//!
//! Compose splits a string `command` or `entrypoint` into words itself and runs no shell, so
//! `command: npm run start` needs none; only a program that is a shell does.
//!
//! ## Why
//! A hardened production image has no shell and few tools. The image swap is right, and the
//! container still fails at start (a command) or is restarted and never gets traffic (a
//! probe): the reviewer needs to hear which lines to change.
//!
//! ## Example
//! ```text
//! compose.yaml:9: error[needs-shell]: `services.proxy.command` runs `/bin/bash`, but
//!   reg.mini.dev/nginx has no shell, so it cannot start
//! compose.yaml:15: warning[exec-probe]: `services.db.healthcheck.test` runs `pg_isready`;
//!   reg.mini.dev/postgres has no shell and the catalog does not say it ships `pg_isready`
//! ```
//!
//! ## Fix safety
//! Reports only. What the container should run instead (the program directly, an `httpGet`
//! probe, the `-dev` variant) is the author's choice.

use std::ops::Range;

use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::rules::entrypoint::program::{
    runs_cmd_as_is, runs_default_program, script_runs_default_program,
};
use crate::rules::findings::entrypoint_feature::{
    script_missing_with, unread_directory, unread_variables,
};
use crate::rules::{Rule, SHELLS, basename};
use crate::shell::{Token, tokenize};
use crate::yaml::Node;

/// A place in a file that starts something inside a container.
pub(crate) struct Started<'a> {
    /// Where it is, as messages name it (`services.web.command`).
    pub(crate) label: &'a str,
    pub(crate) range: Range<usize>,
}

/// The program a command runs: the first item of a list, or the first word of a string as a
/// shell (and Compose) splits it.
pub(crate) fn program(command: &Node) -> Option<String> {
    match command.as_sequence() {
        Some(_) => command.items().first()?.value().map(str::to_owned),
        None => first_word(command.value()?),
    }
}

/// The first word of `text`, quotes removed.
pub(crate) fn first_word(text: &str) -> Option<String> {
    tokenize(text).into_iter().find_map(|token| match token {
        Token::Word(word) => Some(word.text),
        _ => None,
    })
}

/// Whether `program` is a shell (`sh`, `/bin/bash`).
pub(crate) fn is_shell(program: &str) -> bool {
    SHELLS.contains(&basename(program))
}

/// `needs-shell` for a command that starts `program`, when it is a shell and the replacement
/// has none (`missing-fact` when the catalog does not say).
pub(crate) fn command(started: &Started<'_>, program: &str, entry: &Entry) -> Option<Diagnostic> {
    if !is_shell(program) {
        return None;
    }
    match entry.hardened.shell {
        Some(true) => None,
        Some(false) => Some(
            Diagnostic::report(
                Rule::NeedsShell,
                started.range.clone(),
                format!(
                    "`{}` runs `{program}`, but {} has no shell, so it cannot start",
                    started.label, entry.replacement
                ),
            )
            .suggest("run the program directly, or give this container the -dev variant"),
        ),
        None => Some(unknown_shell(started, program, entry)),
    }
}

/// `exec-probe` for a health check or probe that runs `program`, through a shell when
/// `via_shell` (Compose's `CMD-SHELL`) or when the program is one.
pub(crate) fn probe(
    started: &Started<'_>,
    program: &str,
    via_shell: bool,
    entry: &Entry,
) -> Option<Diagnostic> {
    let shell = via_shell || is_shell(program);
    let (message, suggestion) = match (entry.hardened.shell, shell) {
        (Some(true), _) | (None, false) => return None,
        (None, true) => return Some(unknown_shell(started, program, entry)),
        (Some(false), true) => (
            match via_shell {
                true => format!(
                    "`{}` runs `{program}` through a shell, but {} has none",
                    started.label, entry.replacement
                ),
                false => format!(
                    "`{}` runs `{program}`, but {} has no shell",
                    started.label, entry.replacement
                ),
            },
            "run a program the replacement ships directly, or use a network check",
        ),
        (Some(false), false) => (
            format!(
                "`{}` runs `{program}`; {} has no shell and the catalog does not say it ships `{}`",
                started.label,
                entry.replacement,
                basename(program)
            ),
            "check that it does, or use a network check",
        ),
    };
    Some(Diagnostic::report(Rule::ExecProbe, started.range.clone(), message).suggest(suggestion))
}

/// `entrypoint-feature` for environment variables the container sets (`names`) that the public
/// image's entrypoint script reads, when the replacement may not run that script.
pub(crate) fn environment(
    started: &Started<'_>,
    names: &[String],
    entry: &Entry,
) -> Option<Diagnostic> {
    let reason = script_missing_with(entry, entry.hardened.shell)?;
    let (message, suggestion) = unread_variables(entry, names, &reason)?;
    Some(
        Diagnostic::report(
            Rule::EntrypointFeature,
            started.range.clone(),
            format!("`{}`: {message}", started.label),
        )
        .suggest(suggestion),
    )
}

/// `entrypoint-feature` for a mount at `path`, a directory the public image's entrypoint
/// script acts on, when the replacement may not run that script.
pub(crate) fn mount(started: &Started<'_>, path: &str, entry: &Entry) -> Option<Diagnostic> {
    let reason = script_missing_with(entry, entry.hardened.shell)?;
    let (message, suggestion) = unread_directory(entry, path, &reason)?;
    Some(
        Diagnostic::report(
            Rule::EntrypointFeature,
            started.range.clone(),
            format!("`{}` mounts {message}", started.label),
        )
        .suggest(suggestion),
    )
}

/// What a container's arguments (Compose `command` without `entrypoint`, Kubernetes `args`
/// without `command`) do on the replacement, which runs them through its own entrypoint as the
/// public image ran them through its entrypoint script. Judged by the argv the container
/// starts, as the Dockerfile rule judges a CMD (see `hardport explain entrypoint`).
pub(crate) enum Handed {
    /// The replacement starts the same program with them.
    Same,
    /// They are a whole command (`postgres -c …`), which the public script ran as it is; the
    /// replacement's entrypoint does not (or is not known to): it has to be cleared.
    /// `known` is whether the catalog states the replacement's entrypoint.
    WholeCommand { known: bool },
    /// They are options or a script file, which the public script gave to its default program;
    /// the replacement's entrypoint is not known to be that program: the report says so.
    ToDefaultProgram(Diagnostic),
}

/// How the replacement of `entry` handles arguments starting with `first`, given to its
/// entrypoint (see [`Handed`]). Only for a public image whose entrypoint ran them.
pub(crate) fn handed_to_entrypoint(started: &Started<'_>, first: &str, entry: &Entry) -> Handed {
    if entry.public.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        return Handed::Same;
    }
    let hardened = entry.hardened.entrypoint.as_deref();
    if !script_runs_default_program(&[first.to_owned()]) {
        return match hardened {
            Some(entrypoint) if runs_cmd_as_is(entrypoint) => Handed::Same,
            known => Handed::WholeCommand {
                known: known.is_some(),
            },
        };
    }
    if runs_default_program(entry) {
        return Handed::Same;
    }
    let (rule, why, suggestion) = match hardened {
        Some(entrypoint) => (
            Rule::EntrypointFeature,
            format!(
                "{}'s entrypoint `{}` is not that program",
                entry.replacement,
                entrypoint.join(" ")
            ),
            "name the program before them".to_owned(),
        ),
        None => (
            Rule::MissingFact,
            format!(
                "whether {} does depends on its entrypoint, which the catalog does not state (entry `{}`)",
                entry.replacement, entry.name
            ),
            format!(
                "add `hardened.entrypoint` to catalog entry `{}`, or name the program before them",
                entry.name
            ),
        ),
    };
    Handed::ToDefaultProgram(
        Diagnostic::report(
            rule,
            started.range.clone(),
            format!(
                "`{}` starts with `{first}`, which the public image's entrypoint script gave to its default program; {why}",
                started.label
            ),
        )
        .suggest(suggestion),
    )
}

fn unknown_shell(started: &Started<'_>, program: &str, entry: &Entry) -> Diagnostic {
    Diagnostic::report(
        Rule::MissingFact,
        started.range.clone(),
        format!(
            "`{}` runs `{program}`; the catalog does not say whether {} has a shell (entry `{}`)",
            started.label, entry.replacement, entry.name
        ),
    )
    .suggest(format!(
        "add `hardened.shell` to catalog entry `{}`",
        entry.name
    ))
}
