//! `manifest-image`: point the containers of Kubernetes manifests at their replacements, and
//! their security contexts at the replacements' ids.
//!
//! ## What it does
//! In every document of a manifest file, every workload's pod (see [`crate::kubernetes`]) is
//! read: each container's and init container's `image` that the catalog maps is rewritten to
//! `replacement:tag` by the tag policy. Then, for the containers that run a replacement:
//!
//! - a `runAsUser` (or `runAsGroup`, `fsGroup`) that is an id of the *public* image — its
//!   runtime user's or one it defines (`public.users`, `public.groups`: postgres's 999) — is set to the replacement's (`security-context`), in the container's `securityContext`, or
//!   in the pod's when every container it applies to runs the same replacement; `runAsNonRoot:
//!   true` becomes `false` when the replacement runs as root and no `runAsUser` is written;
//! - a `volumeMounts[].mountPath` where the replacement keeps its data elsewhere moves with it
//!   (`data-path`);
//! - `command` and lifecycle hooks that start a shell are `needs-shell`, exec probes
//!   `exec-probe` (see `hardport explain needs-shell`);
//! - `args` without `command` go to the image's entrypoint: a whole command (`args: [postgres,
//!   -c, …]`), which the public image's entrypoint script ran as it is, is `entrypoint-feature`
//!   where the replacement's entrypoint runs before it (`missing-fact` where that is unknown): a
//!   manifest cannot clear an entrypoint (an empty `command` keeps it), so the program has to
//!   move into `command:` by hand.
//!
//! ## What it leaves alone, and says so
//! - An id that is not the public image's (`runAsUser: 1000` chosen for the deployment,
//!   `runAsUser: 0` on purpose) stays: the pod was told to run so. Missing ids are not added:
//!   without them the container runs as the replacement's own user.
//! - A pod-level id shared by containers that run different images is
//!   `security-context-unset`: it has to move into each container's context by hand.
//! - An image a kustomization above the file renames by name (`images: - name: redis`): the
//!   kustomization's entry is where it moves (`kustomize-image`); rewriting the manifest too
//!   would make the entry stop matching. `unresolved-image` says so.
//! - A file whose opening comments say "DO NOT EDIT" is generated and skipped with a message;
//!   migrate its sources.
//!
//! ## Why
//! Manifests are what a cluster runs. A written uid overrides the image's user: the public
//! image's id on the replacement runs it as a user it was not built for.
//!
//! ## Example
//! ```yaml
//! securityContext:                      securityContext:
//!   runAsUser: 999            →           runAsUser: 65532
//! containers:                           containers:
//!   - name: redis                         - name: redis
//!     image: redis:7.2-alpine →             image: reg.mini.dev/redis:7.2
//! ```
//!
//! ## Fix safety
//! Safe: only the image values and the ids change, each scalar in its own style; ids come from
//! the catalog, never guessed (without the replacement's uid or gid nothing is set, and
//! `missing-fact` says so). A second run finds the replacement and its ids and changes
//! nothing.

use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::kubernetes::{self, Container, Workload};
use crate::rules::helm_paths::{Mount, move_mount};
use crate::rules::helm_security::pod::{Block, Changes, Ids, Level};
use crate::rules::reference::{self, Needs, Site};
use crate::rules::runtime::{self, Handed, Started};
use crate::rules::{Context, Rule};
use crate::yaml::{Document, Node, Stream};

/// The probes a container can have.
const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];

/// The lifecycle hooks a container can have.
const HOOKS: [&str; 2] = ["postStart", "preStop"];

pub fn check(stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for workload in kubernetes::workloads(stream) {
        let document = workload.document;
        let mut runs = Vec::new();
        for container in workload.containers() {
            let Some(image) = container.get("image", document) else {
                continue;
            };
            let site = Site {
                node: image,
                label: format!("{}.image", container.label),
                range: image.range.clone(),
            };
            if let Some(kept) = renamed_by_kustomize(&site, context) {
                diagnostics.push(kept);
                continue;
            }
            let outcome = reference::rewrite(
                stream,
                &site,
                Rule::ManifestImage,
                Needs::Production,
                context,
            );
            diagnostics.extend(outcome.diagnostics);
            if let Some(entry) = outcome.runs {
                diagnostics.extend(started(
                    stream,
                    &container,
                    document,
                    (entry, outcome.from_public),
                ));
                runs.push((container, entry));
            }
        }
        diagnostics.extend(container_contexts(stream, document, &runs));
        diagnostics.extend(pod_context(stream, &workload, &runs));
    }
    diagnostics
}

/// `unresolved-image` for an image whose name a kustomization above the file matches: the
/// kustomization's entry moves it.
fn renamed_by_kustomize(site: &Site<'_>, context: Context<'_>) -> Option<Diagnostic> {
    let text = site.node.value()?;
    let name = crate::image_ref::ImageRef::parse(text)
        .ok()?
        .name_as_written();
    let kustomization = context.kustomized(&name)?;
    Some(
        Diagnostic::report(
            Rule::UnresolvedImage,
            site.range.clone(),
            format!(
                "`{}`: {kustomization} renames `{name}` in its `images:`, so the image moves there (kustomize-image); rewriting it here would make that entry stop matching",
                site.label
            ),
        )
        .suggest("check the kustomization's entry"),
    )
}

/// What a container starts on its replacement: a shell in `command` or a hook, exec probes.
///
/// `from_public`: the container ran the public image until now, so its `args` were written for
/// the public image's entrypoint script.
fn started(
    stream: &Stream<'_>,
    container: &Container<'_>,
    document: &Document,
    (entry, from_public): (&Entry, bool),
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let get = |node, key| kubernetes::child(document, node, key);
    if let Some(command) = container.get("command", document)
        && let Some(program) = runtime::program(command)
    {
        let label = format!("{}.command", container.label);
        let started = Started {
            label: &label,
            range: command.range.clone(),
        };
        diagnostics.extend(runtime::command(&started, &program, entry));
    }
    // `args` without `command` go to the image's entrypoint.
    if from_public
        && container.get("command", document).is_none()
        && let Some(args) = container.get("args", document)
        && let Some(first) = runtime::program(args)
    {
        let label = format!("{}.args", container.label);
        let started = Started {
            label: &label,
            range: args.range.clone(),
        };
        diagnostics.extend(args_contract(&started, &first, entry));
    }
    for hook in HOOKS {
        let Some(command) = container
            .get("lifecycle", document)
            .and_then(|lifecycle| get(lifecycle, hook))
            .and_then(|hook| get(hook, "exec"))
            .and_then(|exec| get(exec, "command"))
        else {
            continue;
        };
        if let Some(program) = runtime::program(command) {
            let label = format!("{}.lifecycle.{hook}", container.label);
            let started = Started {
                label: &label,
                range: command.range.clone(),
            };
            diagnostics.extend(runtime::command(&started, &program, entry));
        }
    }
    if let Some(env) = container.get("env", document) {
        let names: Vec<String> = env
            .items()
            .iter()
            .filter_map(|variable| get(crate::helm::deref(document, variable), "name"))
            .filter_map(Node::value)
            .map(str::to_owned)
            .collect();
        let label = format!("{}.env", container.label);
        let started = Started {
            label: &label,
            range: env.range.clone(),
        };
        diagnostics.extend(runtime::environment(&started, &names, entry));
    }
    if let Some(mounts) = container.get("volumeMounts", document) {
        let label = format!("{}.volumeMounts", container.label);
        for mount in mounts.items() {
            let mount = crate::helm::deref(document, mount);
            let Some(node) = get(mount, "mountPath") else {
                continue;
            };
            let Some(path) = node.value() else {
                continue;
            };
            let started = Started {
                label: &label,
                range: mount.range.clone(),
            };
            diagnostics.extend(runtime::mount(&started, path, entry));
            let written = Mount {
                node,
                label: &label,
                path,
            };
            diagnostics.extend(move_mount(stream, &written, entry, str::to_owned));
        }
    }
    for probe in PROBES {
        let Some(command) = container
            .get(probe, document)
            .and_then(|probe| get(probe, "exec"))
            .and_then(|exec| get(exec, "command"))
        else {
            continue;
        };
        if let Some(program) = runtime::program(command) {
            let label = format!("{}.{probe}", container.label);
            let started = Started {
                label: &label,
                range: command.range.clone(),
            };
            diagnostics.extend(runtime::probe(&started, &program, false, entry));
        }
    }
    diagnostics
}

/// `args` without `command` go to the image's entrypoint: the public image's script ran a whole
/// command as it is, and a manifest cannot clear the replacement's entrypoint (an empty
/// `command` keeps it), so a whole command on a replacement whose entrypoint is not known to
/// run it as it is is reported: `command:` must name the program.
fn args_contract(started: &Started<'_>, first: &str, entry: &Entry) -> Option<Diagnostic> {
    let known = match runtime::handed_to_entrypoint(started, first, entry) {
        Handed::Same => return None,
        Handed::ToDefaultProgram(report) => return Some(report),
        Handed::WholeCommand { known } => known,
    };
    let (rule, why) = match (known, entry.hardened.entrypoint.as_deref()) {
        (true, Some(entrypoint)) => (
            Rule::EntrypointFeature,
            format!(
                "{}'s entrypoint `{}` runs before them",
                entry.replacement,
                entrypoint.join(" ")
            ),
        ),
        _ => (
            Rule::MissingFact,
            format!(
                "the entrypoint of {} is unknown (catalog entry `{}`, `hardened.entrypoint`)",
                entry.replacement, entry.name
            ),
        ),
    };
    Some(
        Diagnostic::report(
            rule,
            started.range.clone(),
            format!(
                "`{}` starts `{first}`, which the public image's entrypoint script ran as it is; {why}",
                started.label
            ),
        )
        .suggest(format!("move `{first}` into `command:` so that they run as they are")),
    )
}

/// The ids a replacement runs as, when the catalog states its uid.
fn ids_of(entry: &Entry) -> Option<Ids> {
    Some(Ids {
        uid: entry.hardened.uid()?,
        gid: entry.hardened.gid(),
    })
}

/// Each container's own `securityContext`: ids written for the public image move to the
/// replacement's.
fn container_contexts(
    stream: &Stream<'_>,
    document: &Document,
    runs: &[(Container<'_>, &Entry)],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (container, entry) in runs {
        let Some(node) = container.get("securityContext", document) else {
            continue;
        };
        let block = Block {
            path: format!("{}.securityContext", container.label),
            key_range: node.range.clone(),
            node,
            level: Level::Container,
            init: container.init,
        };
        diagnostics.extend(set_public_ids(
            stream,
            &block,
            &["runAsUser", "runAsGroup"],
            entry,
        ));
    }
    diagnostics
}

/// The pod's `securityContext`: its ids apply to every container that writes none of its own,
/// so they move only when all of those run the same replacement.
fn pod_context(
    stream: &Stream<'_>,
    workload: &Workload<'_>,
    runs: &[(Container<'_>, &Entry)],
) -> Vec<Diagnostic> {
    let document = workload.document;
    let Some(node) = workload.pod_get("securityContext") else {
        return Vec::new();
    };
    let block = Block {
        path: format!("{} securityContext", workload.label),
        key_range: node.range.clone(),
        node,
        level: Level::Pod,
        init: false,
    };
    let all = workload.containers();
    // The containers the pod's `runAsUser` applies to, with what they run (None: unmapped).
    let inheriting: Vec<(&str, Option<&Entry>)> = all
        .iter()
        .filter(|container| {
            container
                .get("securityContext", document)
                .and_then(|context| context.get("runAsUser"))
                .is_none()
        })
        .map(|container| {
            let runs_entry = runs
                .iter()
                .find(|(ran, _)| std::ptr::eq(ran.node, container.node))
                .map(|(_, entry)| *entry);
            (container.label.as_str(), runs_entry)
        })
        .collect();
    let Some((_, Some(first))) = inheriting.first() else {
        return Vec::new();
    };
    let shared = inheriting
        .iter()
        .any(|(_, entry)| entry.is_none_or(|entry| entry.name != first.name));
    if shared {
        let writes_public_id = runs.iter().any(|(_, entry)| {
            ["runAsUser", "runAsGroup", "fsGroup"]
                .iter()
                .any(|key| written_public_id(node, key, entry).is_some())
        });
        if !writes_public_id {
            return Vec::new();
        }
        let names: Vec<&str> = inheriting.iter().map(|(label, _)| *label).collect();
        return vec![
            Diagnostic::report(
                Rule::SecurityContextUnset,
                block.key_range.clone(),
                format!(
                    "`{}` writes a public image's id, and it applies to containers that run different images ({}); hardport does not move an id they share",
                    block.path,
                    names.join(", ")
                ),
            )
            .suggest("set each container's own securityContext to its image's ids"),
        ];
    }
    set_public_ids(
        stream,
        &block,
        &["runAsUser", "runAsGroup", "fsGroup"],
        first,
    )
}

/// The written id under `key` of `context`, when it is one of the public image's: its runtime
/// user's (group's), or one of the users (groups) it defines, which its entrypoint script may
/// switch to (postgres runs as root and starts the server as its `postgres`, 999). Never 0:
/// root is chosen on purpose.
fn written_public_id<'n>(context: &'n Node, key: &str, entry: &Entry) -> Option<&'n Node> {
    let node = context.get(key)?;
    let written: u32 = node.value()?.parse().ok().filter(|id| *id != 0)?;
    let public = &entry.public;
    let (runtime, defined) = match key {
        "runAsUser" => (public.uid(), public.users.as_ref()),
        _ => (public.gid(), public.groups.as_ref()),
    };
    let defined = defined
        .into_iter()
        .flat_map(|names| names.values())
        .filter_map(|id| id.0.parse::<u32>().ok());
    let is_public = runtime.into_iter().chain(defined).any(|id| id == written);
    is_public.then_some(node)
}

/// Set the ids among `keys` that `block` writes for the public image to the replacement's, and
/// turn `runAsNonRoot: true` off when the replacement runs as root as the image's own user.
fn set_public_ids(
    stream: &Stream<'_>,
    block: &Block<'_>,
    keys: &[&str],
    entry: &Entry,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let Some(ids) = ids_of(entry) else {
        let writes_public = keys
            .iter()
            .any(|key| written_public_id(block.node, key, entry).is_some());
        if writes_public {
            diagnostics.push(
                Diagnostic::report(
                    Rule::MissingFact,
                    block.key_range.clone(),
                    format!(
                        "`{}` writes the public image's ids; the catalog states no numeric user for {} (entry `{}`), so they stay",
                        block.path, entry.replacement, entry.name
                    ),
                )
                .suggest(format!("add `hardened.user` to catalog entry `{}`", entry.name)),
            );
        }
        return diagnostics;
    };
    let mut changes = Changes::default();
    for key in keys {
        let Some(node) = written_public_id(block.node, key, entry) else {
            continue;
        };
        let wanted = match *key {
            "runAsUser" => Some(ids.uid),
            _ => ids.gid,
        };
        match wanted {
            Some(wanted) => changes.set_id(stream, block, key, node, wanted, &mut diagnostics),
            None => diagnostics.push(crate::rules::helm_security::pod::missing_id(
                block, key, node, entry,
            )),
        }
    }
    if ids.uid == 0
        && block.node.get("runAsUser").is_none()
        && let Some(node) = block.node.get("runAsNonRoot")
    {
        changes.set_non_root(stream, node, false);
    }
    diagnostics.extend(changes.into_diagnostic(block, entry, ids));
    diagnostics
}

#[cfg(test)]
mod tests;
