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
//! - `entrypoint-feature` (warning): its entrypoint (Compose `entrypoint`, Kubernetes
//!   `command`) runs the public image's entrypoint script (`docker-entrypoint.sh`), which the
//!   replacement is not known to have; or the container sets variables (`POSTGRES_PASSWORD`,
//!   `MYSQL_DATABASE`, `NGINX_ENVSUBST_*`) or mounts files (`/docker-entrypoint-initdb.d`,
//!   `/etc/nginx/templates`) that the public image's entrypoint script acts on, and the
//!   replacement is not known to run that script: the database is never initialised, the
//!   templates never rendered. A Compose `env_file`, which hardport does not open, is reported
//!   the same way for an image whose script reads variables.
//! - `entrypoint-feature` (warning) too for a container already on its replacement whose
//!   arguments start with the program the replacement's entrypoint already runs
//!   (`command: node app.js` on an image whose entrypoint is `/usr/bin/node`).
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
    is_entrypoint_script, passes_through, runs_cmd_as_is, runs_default_program, same_program,
    script_runs_default_program,
};
use crate::rules::findings::entrypoint_feature::{
    script_missing_with, unread_directory, unread_variable_file, unread_variables,
};
use crate::rules::reference::Runs;
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
pub(crate) fn command(started: &Started<'_>, program: &str, runs: Runs<'_>) -> Option<Diagnostic> {
    let entry = runs.entry;
    if !is_shell(program) {
        return None;
    }
    match runs.shell {
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
    runs: Runs<'_>,
) -> Option<Diagnostic> {
    let entry = runs.entry;
    let shell = via_shell || is_shell(program);
    let (message, suggestion) = match (runs.shell, shell) {
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
    runs: Runs<'_>,
) -> Option<Diagnostic> {
    script_feature(started, runs, ": ", |entry, reason| {
        unread_variables(entry, names, reason)
    })
}

/// `entrypoint-feature` for a file of variables the container reads (Compose `env_file`), which
/// hardport does not open, when the public image's entrypoint script reads variables and the
/// replacement may not run that script.
pub(crate) fn environment_file(started: &Started<'_>, runs: Runs<'_>) -> Option<Diagnostic> {
    script_feature(started, runs, ": ", unread_variable_file)
}

/// `entrypoint-feature` for a mount at `path`, a directory the public image's entrypoint
/// script acts on, when the replacement may not run that script.
pub(crate) fn mount(started: &Started<'_>, path: &str, runs: Runs<'_>) -> Option<Diagnostic> {
    script_feature(started, runs, " mounts ", |entry, reason| {
        unread_directory(entry, path, reason)
    })
}

/// `entrypoint-feature` at `started` when the replacement may not run the public image's
/// entrypoint script and `lost` says what of the container's setup that script would have read
/// (a message, after the label and `joint`, and a suggestion).
fn script_feature(
    started: &Started<'_>,
    runs: Runs<'_>,
    joint: &str,
    lost: impl FnOnce(&Entry, &str) -> Option<(String, String)>,
) -> Option<Diagnostic> {
    let reason = script_missing_with(runs.entry, runs.shell)?;
    let (message, suggestion) = lost(runs.entry, &reason)?;
    Some(
        Diagnostic::report(
            Rule::EntrypointFeature,
            started.range.clone(),
            format!("`{}`{joint}{message}", started.label),
        )
        .suggest(suggestion),
    )
}

/// What a container's arguments (Compose `command` without `entrypoint`, Kubernetes `args`
/// without `command`) do on the replacement, which runs them through its own entrypoint as the
/// public image ran them through its entrypoint. Judged by the argv the container starts, as
/// the Dockerfile rule judges a CMD (see `hardport explain entrypoint`).
pub(crate) enum Handed {
    /// The replacement starts the same program with them.
    Same,
    /// They are a whole command (`postgres -c …`), which the public image ran as it is (its
    /// entrypoint is empty, an init wrapper, or a script that ends in `exec "$@"`); the
    /// replacement's entrypoint does not run it so (or is not known to): it has to be cleared.
    /// `known` is whether the catalog states the replacement's entrypoint.
    WholeCommand { known: bool },
    /// What the replacement does with them cannot be made the same here, or is not known: the
    /// report says which. Options or a script file the public script gave to its default
    /// program, arguments of a program the public entrypoint named, or a public entrypoint the
    /// catalog does not state.
    Report(Diagnostic),
}

/// How the replacement of `entry` handles arguments starting with `first`, given to its
/// entrypoint (see [`Handed`]).
pub(crate) fn handed_to_entrypoint(started: &Started<'_>, first: &str, entry: &Entry) -> Handed {
    let hardened = entry.hardened.entrypoint.as_deref();
    let report = |rule: Rule, how: String, why: String, suggestion: String| {
        Handed::Report(
            Diagnostic::report(
                rule,
                started.range.clone(),
                format!(
                    "`{}` starts with `{first}`, which {how}; {why}",
                    started.label
                ),
            )
            .suggest(suggestion),
        )
    };
    let unknown_replacement = || {
        (
            format!(
                "whether {} does depends on its entrypoint, which the catalog does not state (entry `{}`)",
                entry.replacement, entry.name
            ),
            format!(
                "add `hardened.entrypoint` to catalog entry `{}`",
                entry.name
            ),
        )
    };
    let Some(public) = entry.public.entrypoint.as_deref() else {
        return report(
            Rule::MissingFact,
            "the public image's entrypoint received".to_owned(),
            format!(
                "the catalog does not state that entrypoint (entry `{}`), so hardport cannot tell what ran",
                entry.name
            ),
            format!("add `public.entrypoint` to catalog entry `{}`", entry.name),
        );
    };
    // The replacement keeps the public image's entrypoint (its own copy of the script).
    if hardened == Some(public) {
        return Handed::Same;
    }
    let as_is = runs_cmd_as_is(public);
    let script = !as_is && passes_through(public);
    if !as_is && !script {
        // The public entrypoint is a program that took them as its arguments.
        if hardened == Some(public) {
            return Handed::Same;
        }
        let (why, suggestion) = match hardened {
            Some(entrypoint) => (
                format!(
                    "{}'s entrypoint is `{}`",
                    entry.replacement,
                    entrypoint.join(" ")
                ),
                format!("start them with `{}` yourself", public.join(" ")),
            ),
            None => unknown_replacement(),
        };
        let rule = match hardened {
            Some(_) => Rule::EntrypointFeature,
            None => Rule::MissingFact,
        };
        return report(
            rule,
            format!(
                "the public image's entrypoint `{}` ran with them",
                public.join(" ")
            ),
            why,
            suggestion,
        );
    }
    if !(script && script_runs_default_program(&[first.to_owned()])) {
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
        None => {
            let (why, suggestion) = unknown_replacement();
            (
                Rule::MissingFact,
                why,
                format!("{suggestion}, or name the program before them"),
            )
        }
    };
    report(
        rule,
        "the public image's entrypoint script gave to its default program".to_owned(),
        why,
        suggestion,
    )
}

/// `entrypoint-feature` for an entrypoint (Compose `entrypoint`, Kubernetes `command`) that runs
/// the public image's entrypoint script, which the replacement is not known to have (the
/// Dockerfile rule drops it from an ENTRYPOINT; here it is reported, since the value is a list
/// hardport does not rewrite).
pub(crate) fn public_script(
    started: &Started<'_>,
    program: &str,
    runs: Runs<'_>,
) -> Option<Diagnostic> {
    let entry = runs.entry;
    let public = entry.public.entrypoint.as_deref()?;
    let is_public_script = is_entrypoint_script(program)
        && public
            .iter()
            .any(|word| basename(word) == basename(program));
    let same_entrypoint = entry.hardened.entrypoint.as_deref() == Some(public);
    (is_public_script && !same_entrypoint).then(|| {
        Diagnostic::report(
            Rule::EntrypointFeature,
            started.range.clone(),
            format!(
                "`{}` runs `{program}`, the public image's entrypoint script, which {} is not known to have",
                started.label, entry.replacement
            ),
        )
        .suggest("drop the script and start the program itself")
    })
}

/// `entrypoint-feature` for arguments of a container already on its replacement that start
/// with the very program the replacement's entrypoint runs (`command: node app.js` on
/// Minimus node, whose entrypoint is `/usr/bin/node`): the container starts `node node app.js`.
pub(crate) fn repeated_program(
    started: &Started<'_>,
    first: &str,
    runs: Runs<'_>,
) -> Option<Diagnostic> {
    let entry = runs.entry;
    let [program] = entry.hardened.entrypoint.as_deref()? else {
        return None;
    };
    (!runs.from_public && same_program(first, program)).then(|| {
        Diagnostic::report(
            Rule::EntrypointFeature,
            started.range.clone(),
            format!(
                "`{}` starts with `{first}`, which the entrypoint of {} (`{program}`) already runs: the container starts `{program} {first} …`",
                started.label, entry.replacement
            ),
        )
        .suggest(format!("drop `{first}` from it, or clear the entrypoint"))
    })
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
