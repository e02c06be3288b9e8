//! `compose-image`: point the services of a Docker Compose file at their replacements.
//!
//! ## What it does
//! Every service's `image` that the catalog maps is rewritten to `replacement:tag` by the tag
//! policy (see `hardport explain unmapped-image` for what is reported instead). An `image`
//! brought in by a merge key (`<<: *defaults`, Sentry's `x-` blocks) is edited once, where it
//! is written. A service that is already on its replacement keeps it.
//!
//! A `command` given to the image's entrypoint (the service sets no `entrypoint`) ran through
//! the public image's entrypoint script, which runs a whole command as it is; where the
//! replacement's entrypoint does not (or is not known to), the service gets `entrypoint: []`
//! (`entrypoint`), as a Dockerfile's CMD gets `ENTRYPOINT []`; a command of options, which the
//! script gave to its default program, is reported unless the replacement's entrypoint is that
//! program.
//!
//! A volume mounted at a path the replacement keeps its data elsewhere (the catalog's `paths`)
//! moves with it (`data-path`, see `hardport explain data-path`).
//!
//! Then what the service starts on the replacement is read: a `command` or `entrypoint` that
//! runs a shell (`needs-shell`), and a `healthcheck.test` — `CMD-SHELL` or a string runs
//! through `/bin/sh`, `CMD` runs a program the replacement must ship (`exec-probe`).
//! A `user:` that names a user (or group) of the public image (`public.users`, `public.groups`
//! in the catalog) is set to the replacement's id (`user-mapping`), as `USER` is in a
//! Dockerfile: the replacement need not define the name, and a name it lacks stops the
//! container at start. Without the replacement's id in the catalog, `missing-fact`.
//!
//! ## What it leaves alone
//! - A service with `build:`: its `image` names the image Compose builds (and tags), not one it
//!   pulls; the base image is in the Dockerfile, which hardport migrates on its own. A
//!   `build.args` value that names a mapped image (a Dockerfile's `FROM ${BASE_IMAGE}`) is
//!   `unresolved-image`: the Dockerfile cannot see it, so give its `ARG` that default instead.
//! - References built from variables (`postgres:${POSTGRES_TAG}`): `unresolved-image`.
//! - A numeric `user:`, `root`, or a name the public image does not define: chosen for this
//!   deployment.
//!
//! ## Why
//! Compose files are how many repositories run their images; a migration that leaves them
//! on public images leaves the deployment where it was, while `--check` passes.
//!
//! ## Example
//! ```yaml
//! services:                              services:
//!   db:                                    db:
//!     image: postgres:16-alpine    →         image: reg.mini.dev/postgres:16
//!     user: postgres               →         user: "70"
//!     command: postgres -c fsync=off           command: postgres -c fsync=off
//!                                              entrypoint: []
//! ```
//!
//! ## Fix safety
//! Safe: only the `image` and `user` values change, inside their own quotes (quotes added
//! where the new text would read as a number), and `entrypoint: []` is added at the service's
//! indentation. Health checks and commands are reported, never
//! rewritten. A second run finds the replacement and changes nothing.

use std::collections::HashMap;
use std::ops::Range;

use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Fix};
use crate::helm::{Resolution, deref, merged_get, resolve_reference};
use crate::rules::helm_paths::{Mount, move_mount};
use crate::rules::reference::{self, Needs, Site};
use crate::rules::runtime::{self, Handed, Started};
use crate::rules::{Context, Rule};
use crate::yaml::{Document, NewValue, Node, Stream};

pub fn check(stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    // Compose reads one document.
    let Some(document) = stream.documents.first() else {
        return diagnostics;
    };
    let Some(services) = document.root.get("services") else {
        return diagnostics;
    };
    // An image several services merge from one `x-` block is one value: rewritten and reported
    // once, by where it is written; each service's own settings are still read.
    let mut images_seen: HashMap<Range<usize>, (Option<&Entry>, bool)> = HashMap::new();
    for service in deref(document, services).entries() {
        let Some(name) = service.key.value() else {
            continue;
        };
        let node = deref(document, &service.value);
        let get = |key: &str| merged_get(document, node, key).map(|value| deref(document, value));
        if let Some(build) = get("build") {
            diagnostics.extend(build_args(document, build, name, context));
            continue;
        }
        let Some(image) = get("image") else {
            continue;
        };
        let label = |key: &str| format!("services.{name}.{key}");
        let (runs, from_public) = match images_seen.get(&image.range) {
            Some(runs) => *runs,
            None => {
                let own = node.get("image").is_some();
                let site = Site {
                    node: image,
                    label: match own {
                        true => label("image"),
                        false => document.path_of(image).unwrap_or_else(|| label("image")),
                    },
                    range: image.range.clone(),
                };
                let outcome = reference::rewrite(
                    stream,
                    &site,
                    Rule::ComposeImage,
                    Needs::Production,
                    context,
                );
                diagnostics.extend(outcome.diagnostics);
                let ran = (outcome.runs, outcome.from_public);
                images_seen.insert(image.range.clone(), ran);
                ran
            }
        };
        let Some(entry) = runs else {
            continue;
        };
        for key in ["entrypoint", "command"] {
            if let Some(command) = get(key)
                && let Some(program) = runtime::program(command)
            {
                let label = label(key);
                let started = Started {
                    label: &label,
                    range: command.range.clone(),
                };
                diagnostics.extend(runtime::command(&started, &program, entry));
                // Without its own entrypoint, the command goes to the image's; one that
                // cannot start at all (`needs-shell`) is not worth keeping as it is, and one
                // written for the replacement already is as its author meant it.
                let cannot_start =
                    runtime::is_shell(&program) && entry.hardened.shell == Some(false);
                if key == "command" && get("entrypoint").is_none() && !cannot_start && from_public {
                    diagnostics.extend(command_contract(stream, node, &started, &program, entry));
                }
            }
        }
        if let Some(test) = get("healthcheck").and_then(|check| check.get("test")) {
            let label = label("healthcheck.test");
            diagnostics.extend(health_check(document, test, &label, entry));
        }
        if let Some(environment) = get("environment") {
            let label = label("environment");
            let started = Started {
                label: &label,
                range: environment.range.clone(),
            };
            let names = variable_names(document, environment);
            diagnostics.extend(runtime::environment(&started, &names, entry));
        }
        if let Some(volumes) = get("volumes") {
            let label = label("volumes");
            for volume in volumes.items() {
                diagnostics.extend(volume_target(
                    stream,
                    document,
                    deref(document, volume),
                    &label,
                    entry,
                ));
            }
        }
        if let Some(user) = get("user") {
            diagnostics.extend(user_mapping(stream, user, &label("user"), entry));
        }
    }
    diagnostics
}

/// `unresolved-image` for a `build.args` value that names an image the catalog maps (Sentry's
/// `BASE_IMAGE: altinity/clickhouse-server:…` for a Dockerfile's `FROM ${BASE_IMAGE}`): the
/// Dockerfile is migrated on its own and cannot see the value, and rewriting it here would
/// change its base without the changes the base needs (user, entrypoint, packages).
fn build_args(
    document: &Document,
    build: &Node,
    service: &str,
    context: Context<'_>,
) -> Vec<Diagnostic> {
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
                    &format!("services.{service}.build.args.{name}"),
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

/// Keep a service's `command` running as it did: the public image's entrypoint script ran a
/// whole command as it is, and the replacement's entrypoint may not (Minimus node's
/// `/usr/bin/node` would run `node node app.js`), so the service gets `entrypoint: []`, as a
/// Dockerfile's CMD gets `ENTRYPOINT []` (`entrypoint`), with a `missing-fact` when the
/// replacement's entrypoint, whose setup that skips, is unknown.
fn command_contract(
    stream: &Stream<'_>,
    service: &Node,
    started: &Started<'_>,
    first: &str,
    entry: &Entry,
) -> Vec<Diagnostic> {
    let known = match runtime::handed_to_entrypoint(started, first, entry) {
        Handed::Same => return Vec::new(),
        Handed::ToDefaultProgram(report) => return vec![report],
        Handed::WholeCommand { known } => known,
    };
    let cleared = [("entrypoint".to_owned(), NewValue::EmptySequence)];
    let fix = match stream.insert_entries(service, &cleared).map(Fix::new) {
        Ok(Some(fix)) => fix,
        Ok(None) => return Vec::new(),
        Err(error) => {
            return vec![Diagnostic::report(
                Rule::NotEditable,
                started.range.clone(),
                format!(
                    "add `entrypoint: []` to the service by hand ({error}), so that `{}` runs as it is on {}",
                    started.label, entry.replacement
                ),
            )];
        }
    };
    let mut diagnostics = vec![Diagnostic::fixed(
        Rule::Entrypoint,
        started.range.clone(),
        format!(
            "`{}` ran through the public image's entrypoint script as it is; `entrypoint: []` keeps it so on {}",
            started.label, entry.replacement
        ),
        fix,
    )];
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

/// The names a service's `environment` sets: a mapping's keys, or a list's `NAME=value` items.
fn variable_names(document: &Document, environment: &Node) -> Vec<String> {
    let keys = environment
        .entries()
        .iter()
        .filter_map(|entry| entry.key.value());
    let items = environment
        .items()
        .iter()
        .filter_map(|item| deref(document, item).value())
        .map(|item| item.split_once('=').map_or(item, |(name, _)| name));
    keys.chain(items).map(str::to_owned).collect()
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
    entry: &Entry,
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
        return runtime::mount(&started, path, entry)
            .into_iter()
            .chain(move_mount(stream, &mount, entry, str::to_owned))
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
    runtime::mount(&started, path, entry)
        .into_iter()
        .chain(move_mount(stream, &mount, entry, value_with))
        .collect()
}

/// `exec-probe` for a service's `healthcheck.test`: `["CMD", program, …]` runs the program,
/// `["CMD-SHELL", script]` and a plain string run `/bin/sh -c`, `["NONE"]` disables it.
fn health_check(
    document: &Document,
    test: &Node,
    label: &str,
    entry: &Entry,
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
                ["CMD", program, ..] => runtime::probe(&started, program, false, entry),
                ["CMD-SHELL", script, ..] => {
                    let program = runtime::first_word(script)?;
                    runtime::probe(&started, &program, true, entry)
                }
                _ => None,
            }
        }
        None => {
            let program = runtime::first_word(test.value()?)?;
            runtime::probe(&started, &program, true, entry)
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
    public_names: Option<&std::collections::BTreeMap<String, crate::catalog::Id>>,
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

#[cfg(test)]
mod tests;
