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
use crate::kubernetes::{self, Container};
use crate::rules::helm_paths::{Mount, move_mount};
use crate::rules::reference::{self, Needs, Runs, Site};
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
            if let Some(ran) = outcome.runs {
                diagnostics.extend(started(stream, &container, document, ran));
                runs.push((container, ran.entry));
            }
        }
        diagnostics.extend(ids::container_contexts(stream, &workload, &runs));
        diagnostics.extend(ids::pod_context(stream, &workload, &runs));
    }
    diagnostics
}

/// `unresolved-image` for an image whose name a kustomization above the file matches: the
/// kustomization's entry decides the image, and is where it moves.
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
                "`{}`: {kustomization} renames `{name}` in its `images:`, which decides what this container runs; rewriting the name here would make that entry stop matching, so it stays (the entry is migrated, or reported, where it is written)",
                site.label
            ),
        )
        .suggest("check the kustomization's entry"),
    )
}

/// What a container starts on its replacement `runs`: a shell or the public image's script in
/// `command`, `args` written for the public image's script, hooks, exec probes, and the
/// variables and mounts the public script acted on.
fn started(
    stream: &Stream<'_>,
    container: &Container<'_>,
    document: &Document,
    runs: Runs<'_>,
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
        diagnostics.extend(runtime::command(&started, &program, runs));
        diagnostics.extend(runtime::public_script(&started, &program, runs));
    }
    // `args` without `command` go to the image's entrypoint.
    if container.get("command", document).is_none()
        && let Some(args) = container.get("args", document)
        && let Some(first) = runtime::program(args)
    {
        let label = format!("{}.args", container.label);
        let started = Started {
            label: &label,
            range: args.range.clone(),
        };
        match runs.from_public {
            true => diagnostics.extend(args_contract(&started, &first, runs.entry)),
            false => diagnostics.extend(runtime::repeated_program(&started, &first, runs)),
        }
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
            diagnostics.extend(runtime::command(&started, &program, runs));
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
        diagnostics.extend(runtime::environment(&started, &names, runs));
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
            diagnostics.extend(runtime::mount(&started, path, runs));
            let written = Mount {
                node,
                label: &label,
                path,
            };
            diagnostics.extend(move_mount(stream, &written, runs.entry, str::to_owned));
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
            diagnostics.extend(runtime::probe(&started, &program, false, runs));
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
        Handed::Report(report) => return Some(report),
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

mod ids;

#[cfg(test)]
mod tests;
