//! What a Compose service starts and mounts on its replacement: its `command` and
//! `entrypoint`, health check, environment, volumes and user (documented in the parent
//! module's header).

use std::collections::BTreeMap;

use super::Service;
use crate::catalog::{Entry, Id};
use crate::diagnostic::{Diagnostic, Fix};
use crate::helm::{Resolution, deref, resolve_reference};
use crate::rules::helm_paths::{Mount, move_mount};
use crate::rules::reference::{self, Runs};
use crate::rules::runtime::{self, Handed, Started};
use crate::rules::{Context, Rule};
use crate::yaml::{Document, NewValue, Node, NodeKind, Stream};

/// Every check of a service that runs the replacement `runs`.
pub(super) fn check(stream: &Stream<'_>, service: &Service<'_>, runs: Runs<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for key in ["entrypoint", "command"] {
        let Some(command) = service.get(key) else {
            continue;
        };
        let Some(program) = runtime::program(command) else {
            continue;
        };
        let label = service.label(key);
        let started = Started {
            label: &label,
            range: command.range.clone(),
        };
        diagnostics.extend(runtime::command(&started, &program, runs));
        if key == "entrypoint" {
            diagnostics.extend(runtime::public_script(&started, &program, runs));
            continue;
        }
        // Without its own entrypoint, the command goes to the image's; one that cannot start
        // at all (`needs-shell`) is not worth keeping as it is, and one written for the
        // replacement already is as its author meant it.
        let cannot_start = runtime::is_shell(&program) && runs.shell == Some(false);
        if service.get("entrypoint").is_none() && !cannot_start {
            match runs.from_public {
                true => {
                    diagnostics.extend(command_contract(stream, service, &started, &program, runs));
                }
                false => diagnostics.extend(runtime::repeated_program(&started, &program, runs)),
            }
        }
    }
    if let Some(test) = service
        .get("healthcheck")
        .and_then(|check| check.get("test"))
    {
        let label = service.label("healthcheck.test");
        diagnostics.extend(health_check(service.document, test, &label, runs));
    }
    if let Some(environment) = service.get("environment") {
        let label = service.label("environment");
        let started = Started {
            label: &label,
            range: environment.range.clone(),
        };
        let names = variable_names(service.document, environment);
        diagnostics.extend(runtime::environment(&started, &names, runs));
    }
    if let Some(file) = service.get("env_file") {
        let label = service.label("env_file");
        let started = Started {
            label: &label,
            range: file.range.clone(),
        };
        diagnostics.extend(runtime::environment_file(&started, runs));
    }
    if let Some(volumes) = service.get("volumes") {
        let label = service.label("volumes");
        for item in volumes.items() {
            let owned = service.owns("volumes") && !matches!(item.kind, NodeKind::Alias(_));
            let volume = deref(service.document, item);
            let found = volume_target(stream, service.document, volume, &label, runs);
            diagnostics.extend(
                found
                    .into_iter()
                    .map(|diagnostic| only_here(diagnostic, owned, "volumes")),
            );
        }
    }
    if let Some(user) = service.get("user") {
        let mapped = user_mapping(stream, user, &service.label("user"), runs.entry);
        diagnostics
            .extend(mapped.map(|diagnostic| only_here(diagnostic, service.owns("user"), "user")));
    }
    diagnostics
}

/// `diagnostic`, unless it fixes a value other services share (`owned` is false: the value
/// comes through `<<` or the service is an alias of a block): the fix would change them too,
/// so it becomes a `not-editable` report.
fn only_here(diagnostic: Diagnostic, owned: bool, key: &str) -> Diagnostic {
    if owned || diagnostic.fix.is_none() {
        return diagnostic;
    }
    Diagnostic::report(
        Rule::NotEditable,
        diagnostic.range.clone(),
        format!(
            "{}; not changed there: that `{key}` is written in a block other services share (through `<<` or an alias)",
            diagnostic.message
        ),
    )
    .suggest(format!("set `{key}` in this service itself"))
}

/// Keep a service's `command` running as it did: the public image's entrypoint script ran a
/// whole command as it is, and the replacement's entrypoint may not (Minimus node's
/// `/usr/bin/node` would run `node node app.js`), so the service gets `entrypoint: []`, as a
/// Dockerfile's CMD gets `ENTRYPOINT []` (`entrypoint`), with a `missing-fact` when the
/// replacement's entrypoint, whose setup that skips, is unknown.
fn command_contract(
    stream: &Stream<'_>,
    service: &Service<'_>,
    started: &Started<'_>,
    first: &str,
    runs: Runs<'_>,
) -> Vec<Diagnostic> {
    let entry = runs.entry;
    let known = match runtime::handed_to_entrypoint(started, first, entry) {
        Handed::Same => return Vec::new(),
        Handed::Report(report) => return vec![report],
        Handed::WholeCommand { known } => known,
    };
    let mut diagnostics = vec![clear_entrypoint(stream, service, started, entry)];
    if !known {
        diagnostics.push(
            Diagnostic::report(
                Rule::MissingFact,
                started.range.clone(),
                format!(
                    "the entrypoint of {} is unknown: `entrypoint: []` makes the service run `{first}` whatever it is, but also skips any setup that entrypoint does",
                    entry.replacement
                ),
            )
            .suggest(format!(
                "add `hardened.entrypoint` to catalog entry `{}` and run hardport again",
                entry.name
            )),
        );
    }
    diagnostics
}

/// The fix adding `entrypoint: []` to the service, or the report of why it cannot be added
/// there: the service is an alias of a block others share, or already writes a null
/// `entrypoint` (a second key would be a duplicate).
fn clear_entrypoint(
    stream: &Stream<'_>,
    service: &Service<'_>,
    started: &Started<'_>,
    entry: &Entry,
) -> Diagnostic {
    let by_hand = |why: &str| {
        Diagnostic::report(
            Rule::NotEditable,
            started.range.clone(),
            format!(
                "add `entrypoint: []` to the service by hand ({why}), so that `{}` runs as it is on {}",
                started.label, entry.replacement
            ),
        )
    };
    if !service.own {
        return by_hand("the service is an alias of a block other services may share");
    }
    if service.node.get("entrypoint").is_some() {
        return by_hand("its `entrypoint` is null, and a second one would be a duplicate key");
    }
    let cleared = [("entrypoint".to_owned(), NewValue::EmptySequence)];
    match stream.insert_entries(service.node, &cleared).map(Fix::new) {
        Ok(Some(fix)) => Diagnostic::fixed(
            Rule::Entrypoint,
            started.range.clone(),
            format!(
                "`{}` ran through the public image's entrypoint script as it is; `entrypoint: []` keeps it so on {}",
                started.label, entry.replacement
            ),
            fix,
        ),
        Ok(None) => by_hand("nothing to insert"),
        Err(error) => by_hand(&error.to_string()),
    }
}

/// `unresolved-image` for a `build.args` value that names an image the catalog maps (Sentry's
/// `BASE_IMAGE: altinity/clickhouse-server:…` for a Dockerfile's `FROM ${BASE_IMAGE}`): the
/// Dockerfile is migrated on its own and cannot see the value, and rewriting it here would
/// change its base without the changes the base needs (user, entrypoint, packages).
pub(super) fn build_args(
    service: &Service<'_>,
    build: &Node,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    let document = service.document;
    let Some(args) = build.get("args").map(|args| deref(document, args)) else {
        return Vec::new();
    };
    let mapped = args.entries().iter().filter_map(|arg| {
        let value = deref(document, &arg.value);
        Some((arg.key.value()?, value.value()?, value.range.clone()))
    });
    let listed = args.items().iter().filter_map(|item| {
        let item = deref(document, item);
        let (name, value) = item.value()?.split_once('=')?;
        Some((name, value, item.range.clone()))
    });
    mapped
        .chain(listed)
        .filter_map(|(name, value, range)| {
            let Resolution::Migrating(image) = resolve_reference(value, context.catalog, true)
            else {
                return None;
            };
            Some(
                reference::unresolved_at(
                    range,
                    &service.label(&format!("build.args.{name}")),
                    &format!(
                        "`{value}` is passed to the Dockerfile, which catalog entry `{}` would replace with {}; the Dockerfile is migrated on its own and cannot see it",
                        image.entry.name, image.entry.replacement
                    ),
                )
                .suggest(format!(
                    "give the Dockerfile's `ARG {name}` the default `{value}` and pass nothing here, so that hardport migrates the stage with it"
                )),
            )
        })
        .collect()
}

/// The names a service's `environment` sets: a mapping's keys (with those it merges through
/// `<<`), or a list's `NAME=value` items.
fn variable_names(document: &Document, environment: &Node) -> Vec<String> {
    let mut names = Vec::new();
    for entry in environment.entries() {
        if entry.is_merge() {
            let merged = deref(document, &entry.value);
            let blocks: Vec<&Node> = match merged.as_sequence() {
                Some(_) => merged
                    .items()
                    .iter()
                    .map(|item| deref(document, item))
                    .collect(),
                None => vec![merged],
            };
            for block in blocks {
                names.extend(variable_names(document, block));
            }
        } else if let Some(name) = entry.key.value() {
            names.push(name.to_owned());
        }
    }
    names.extend(
        environment
            .items()
            .iter()
            .filter_map(|item| deref(document, item).value())
            .map(|item| {
                item.split_once('=')
                    .map_or(item, |(name, _)| name)
                    .to_owned()
            }),
    );
    names
}

/// What a volume mounts where the public image's entrypoint script or the replacement's data
/// live: `entrypoint-feature` for a directory the script acted on, `data-path` for a path the
/// replacement keeps elsewhere. The target is the long syntax's `target`, or the short
/// syntax's second field (`source:target[:mode]`; the only one for an anonymous volume).
fn volume_target(
    stream: &Stream<'_>,
    document: &Document,
    volume: &Node,
    label: &str,
    runs: Runs<'_>,
) -> Vec<Diagnostic> {
    let started = Started {
        label,
        range: volume.range.clone(),
    };
    if volume.as_mapping().is_some() {
        let Some(target) = volume.get("target").map(|target| deref(document, target)) else {
            return Vec::new();
        };
        let Some(path) = target.value() else {
            return Vec::new();
        };
        let mount = Mount {
            node: target,
            label,
            path,
        };
        return runtime::mount(&started, path, runs)
            .into_iter()
            .chain(move_mount(stream, &mount, runs.entry, str::to_owned))
            .collect();
    }
    let Some(text) = volume.value() else {
        return Vec::new();
    };
    let fields: Vec<&str> = text.split(':').collect();
    let at = usize::from(fields.len() > 1);
    let Some(path) = fields.get(at).copied() else {
        return Vec::new();
    };
    let mount = Mount {
        node: volume,
        label,
        path,
    };
    let value_with = |new_path: &str| {
        let mut moved = fields.clone();
        moved[at] = new_path;
        moved.join(":")
    };
    runtime::mount(&started, path, runs)
        .into_iter()
        .chain(move_mount(stream, &mount, runs.entry, value_with))
        .collect()
}

/// `exec-probe` for a service's `healthcheck.test`: `["CMD", program, …]` runs the program,
/// `["CMD-SHELL", script]` and a plain string run `/bin/sh -c`, `["NONE"]` disables it.
fn health_check(
    document: &Document,
    test: &Node,
    label: &str,
    runs: Runs<'_>,
) -> Option<Diagnostic> {
    let test = deref(document, test);
    let started = Started {
        label,
        range: test.range.clone(),
    };
    match test.as_sequence() {
        Some(_) => {
            let items: Vec<&str> = test.items().iter().filter_map(Node::value).collect();
            match items.as_slice() {
                ["CMD", program, ..] => runtime::probe(&started, program, false, runs),
                ["CMD-SHELL", script, ..] => {
                    let program = runtime::first_word(script)?;
                    runtime::probe(&started, &program, true, runs)
                }
                _ => None,
            }
        }
        None => {
            let program = runtime::first_word(test.value()?)?;
            runtime::probe(&started, &program, true, runs)
        }
    }
}

/// `user-mapping` for a service's `user:` naming a user (or group) of the public image, as the
/// Dockerfile rule reads `USER`: the replacement's numeric id. Numeric ids, `root` and names the
/// public image does not define are kept: they were chosen for this deployment.
fn user_mapping(
    stream: &Stream<'_>,
    user: &Node,
    label: &str,
    entry: &Entry,
) -> Option<Diagnostic> {
    let written = user.value()?;
    let (name, group) = match written.split_once(':') {
        Some((name, group)) => (name, Some(group)),
        None => (written, None),
    };
    let public = &entry.public;
    let new_user = mapped_id(name, public.users.as_ref(), entry.hardened.uid());
    let new_group =
        group.map(|group| mapped_id(group, public.groups.as_ref(), entry.hardened.gid()));
    let (missing, field) = match (&new_user, &new_group) {
        (Mapped::Unknown, _) => (name, "hardened.user"),
        (_, Some(Mapped::Unknown)) => (group.unwrap_or_default(), "hardened.group"),
        _ => ("", ""),
    };
    if !field.is_empty() {
        return Some(
            Diagnostic::report(
                Rule::MissingFact,
                user.range.clone(),
                format!(
                    "`{label}` names `{missing}` of the public image, which {} may not define; the catalog does not state its id (entry `{}`)",
                    entry.replacement, entry.name
                ),
            )
            .suggest(format!("add `{field}` to catalog entry `{}`", entry.name)),
        );
    }
    let shown = |mapped: &Mapped, written: &str| match mapped {
        Mapped::To(id) => id.to_string(),
        _ => written.to_owned(),
    };
    let mut new = shown(&new_user, name);
    if let (Some(mapped), Some(group)) = (&new_group, group) {
        new = format!("{new}:{}", shown(mapped, group));
    }
    if new == written {
        return None;
    }
    let message = format!(
        "`{label}`: `{written}` → `{new}`: {} does not define the public image's names; it runs as these ids (catalog entry `{}`)",
        entry.replacement, entry.name
    );
    Some(match stream.replace_scalar(user, &NewValue::string(&new)) {
        Ok(edit) => Diagnostic::fixed(
            Rule::UserMapping,
            user.range.clone(),
            message,
            Fix::single(edit),
        ),
        Err(error) => Diagnostic::report(
            Rule::NotEditable,
            user.range.clone(),
            format!("set `{label}` to `{new}` by hand ({error})"),
        ),
    })
}

/// What a user or group name of a `user:` becomes.
enum Mapped {
    /// Kept as written: a number, `root`, or a name the public image does not define.
    Kept,
    /// A name of the public image: the replacement's id.
    To(u32),
    /// A name of the public image, and the catalog does not state the replacement's id.
    Unknown,
}

fn mapped_id(
    name: &str,
    public_names: Option<&BTreeMap<String, Id>>,
    replacement: Option<u32>,
) -> Mapped {
    let is_public_name = name != "root"
        && name.parse::<u32>().is_err()
        && public_names.is_some_and(|names| names.contains_key(name));
    match (is_public_name, replacement) {
        (false, _) => Mapped::Kept,
        (true, Some(id)) => Mapped::To(id),
        (true, None) => Mapped::Unknown,
    }
}
