//! `security-context`: make the security context of the component that runs a replacement
//! image say the replacement's uid and gid.
//!
//! ## What it does
//! The component is the mapping that holds the image key, with the mappings below it that
//! configure the same pods and have no image of their own (Bitnami keeps `image` at the top and
//! the contexts under `primary`, `master`, `replica`…). Each mapping there that holds
//! `podSecurityContext`, `securityContext` or `containerSecurityContext` is one pod:
//!
//! - `runAsUser` is set to the replacement's uid and `runAsGroup` to its gid wherever they are
//!   written, `fsGroup` to its gid, and `runAsNonRoot` to `true` when the uid is not 0 (and
//!   from `true` to `false` when it is 0);
//! - missing keys are added: `runAsUser`, `runAsGroup`, `runAsNonRoot` at container level
//!   (Bitnami's layout), `fsGroup` at pod level, so volumes are writable by the new user; an
//!   empty `{}` block becomes a block mapping, keeping the comments below it.
//!
//! `containerSecurityContext` is container level and `podSecurityContext` pod level;
//! `securityContext` is the container's when a `podSecurityContext` sits beside it, the pod's
//! when a `containerSecurityContext` does, and otherwise the pod's only when it holds a
//! pod-only field (`fsGroup`, `sysctls`, …).
//!
//! A block the chart's templates use only in containers that run another image is not the
//! component's: nextcloud keeps `nextcloud.mariaDbInitContainer.securityContext` under its
//! own settings, but renders it into the MariaDB init container. Such a block is left alone.
//! A block rendered into the component's containers and others of the same pod is shared on
//! purpose (Bitnami's `copy-certs` init container writes files for the main container's user)
//! and gets the component's ids.
//!
//! An empty block (or a missing one) that a template tests in an `if`/`else` chain whose
//! `else` writes a context of the chart's own (Airflow's helper: `runAsUser: uid`,
//! `fsGroup: gid`; ingress-nginx's capabilities and seccomp profile) is reported, not filled:
//! filling it would switch that fallback off, with whatever else it sets.
//!
//! Ids written in the image mapping itself (`runAsUser`, `uid`, `runAsGroup`, `gid`,
//! `runAsNonRoot`: ingress-nginx renders `controller.image.runAsUser` into the container's
//! context) are the image's own and are set the same way.
//!
//! When a component's values have no such block, the chart's templates decide: a block the
//! templates read (`.Values.<component>.podSecurityContext`) is added; otherwise the chart
//! does not expose one and `security-context-unset` says so.
//!
//! ## Why
//! A security context overrides the image's own user. A uid written for the public image (the
//! nginx image's 101) need not be the replacement's, so a pod that keeps it runs the
//! replacement as a user it was not built for, and volumes owned by another gid are not
//! writable.
//!
//! ## What it leaves alone, and says so (`security-context-unset`, `missing-fact`)
//! A block anchored (`&name`) where other settings use it through an alias (the ids would
//! reach them too), a pod that states `runAsUser: 0` (it runs as root on purpose: Velero's node agent), a
//! block with `enabled: false` (it is not enabled for you), a block that is an alias or not
//! a plain security context (KEDA's per-container `securityContext.operator`), values that are
//! templates, a component whose main images differ, and `volumePermissions` (it runs as root
//! on purpose). Without a uid in the catalog nothing is set; without a gid, `runAsGroup` and
//! `fsGroup` are neither added nor changed.
//!
//! ## Example
//! ```yaml
//! podSecurityContext: {}      →   podSecurityContext:
//!                                   fsGroup: 1000
//! securityContext:                securityContext:
//!   runAsUser: 101            →     runAsUser: 1000
//!                                   runAsGroup: 1000
//!                                   runAsNonRoot: true
//! ```
//!
//! ## Fix safety
//! Values are written from the catalog's uid and gid only, never guessed. Written scalars keep
//! their style; added keys go into the block at its indentation with the file's line ends. All
//! edits of one block are one fix, applied together or not at all; a block that cannot be
//! edited in place (an alias, a value that is not a mapping) is reported as
//! `security-context-unset` and left alone. A second run finds the ids already set and changes
//! nothing.

use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::helm::{Fields, SECURITY_CONTEXT_KEYS, Shape, Values, ValuesImage, join_key};
use crate::rules::{Context, Rule};
use crate::yaml::{Document, Node, NodeKind, ScalarStyle, Stream};
use pod::{Block, Changes, Ids, Level, missing_id, set_pod};
use templates::{Owner, fallback, left_to_fallback, owner, read_only_by};
use unexposed::{elsewhere, not_exposed};

/// The fields of a Kubernetes container `SecurityContext` (most of which a
/// `PodSecurityContext` has too), and Bitnami's `enabled` switch. A block with a key that is
/// neither one of these nor a [`POD_ONLY_FIELDS`] entry is not a plain security context.
const CONTEXT_FIELDS: &[&str] = &[
    "enabled",
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "capabilities",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxOptions",
    "seccompProfile",
    "windowsOptions",
];

/// Bitnami's block for the init containers of a pod (MariaDB's `preserve-logs-symlinks` runs
/// the main image with `primary.initContainerSecurityContext`). Other charts' init containers
/// run other images, so it is edited only where the templates render it into containers of the
/// component's image alone.
const INIT_CONTAINER_KEY: &str = "initContainerSecurityContext";

/// Fields only a pod's security context has.
const POD_ONLY_FIELDS: &[&str] = &[
    "fsGroup",
    "fsGroupChangePolicy",
    "seLinuxChangePolicy",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "sysctls",
];

fn is_context_field(key: &str) -> bool {
    CONTEXT_FIELDS.contains(&key) || POD_ONLY_FIELDS.contains(&key)
}

pub fn check(
    stream: &Stream<'_>,
    values: &Values<'_, '_>,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = values
        .images
        .iter()
        .filter(|image| image.resolution.is_substituted())
        .filter_map(|image| Some((image, image.resolution.entry()?)))
        .flat_map(|(image, entry)| ids_beside_image(stream, image, entry))
        .collect();
    if let Some(chart) = context.chart() {
        diagnostics.extend(
            values
                .images
                .iter()
                .filter_map(|image| Some((image, image.resolution.entry()?)))
                .flat_map(|(image, entry)| {
                    let main = values
                        .main_images_of(image.component)
                        .find_map(|main| Some((main.path.as_str(), main.resolution.entry()?)));
                    elsewhere(values.document, chart, image, entry, main)
                }),
        );
    }
    for (image, entry) in values.mapped_components() {
        let mains: Vec<&ValuesImage<'_, '_>> = values.main_images_of(image.component).collect();
        if mains
            .iter()
            .any(|main| main.resolution.entry().map(|other| &other.name) != Some(&entry.name))
        {
            let paths: Vec<&str> = mains.iter().map(|main| main.path.as_str()).collect();
            diagnostics.push(
                Diagnostic::report(
                    Rule::SecurityContextUnset,
                    image.key_range.clone(),
                    format!(
                        "{} holds {} different main images ({}), so hardport cannot tell which of its security contexts belongs to which",
                        component_name(&image.component_path),
                        mains.len(),
                        paths.join(", ")
                    ),
                )
                .suggest("set them by hand"),
            );
            continue;
        }
        let mut pods = Vec::new();
        collect_pods(values, image, &mut pods, &mut diagnostics);
        // Blocks the component has but may not edit are not blocks it lacks.
        let has_blocks = !pods.is_empty();
        let chart = context.chart();
        for pod in &mut pods {
            pod.retain(|block| match chart {
                Some(chart) if block.init => read_only_by(chart, &block.path, &image.path),
                Some(chart) => owner(chart, &block.path, &image.path) == Owner::Component,
                None => !block.init,
            });
        }
        pods.retain(|pod| !pod.is_empty());
        let Some(uid) = entry.hardened.uid() else {
            if !pods.is_empty() {
                diagnostics.push(Diagnostic::report(
                    Rule::MissingFact,
                    image.key_range.clone(),
                    format!(
                        "the catalog states no numeric user for {} (entry `{}`), so the security context of {} is left as it is",
                        entry.replacement,
                        entry.name,
                        component_name(&image.component_path)
                    ),
                ).suggest(format!("add `hardened.user` to catalog entry `{}`", entry.name)));
            }
            continue;
        };
        let ids = Ids {
            uid,
            gid: entry.hardened.gid(),
        };
        if pods.is_empty() {
            if !has_blocks {
                diagnostics.extend(not_exposed(
                    stream,
                    values.document,
                    image,
                    entry,
                    ids,
                    context,
                ));
            }
            continue;
        }
        for pod in pods {
            // A disabled container block keeps runAs* out of the pod block too.
            let container_level = pod.iter().any(|block| block.level == Level::Container);
            let mut blocks = Vec::new();
            for block in pod {
                let is_empty = block
                    .node
                    .as_mapping()
                    .is_some_and(|mapping| mapping.entries.is_empty());
                if let Some(fallback) = fallback(context.chart(), &block.path).filter(|_| is_empty)
                {
                    let lead = format!(
                        "`{}` is empty, and while it is the chart's templates write a security context of their own",
                        block.path
                    );
                    diagnostics.extend(left_to_fallback(
                        values.document,
                        (fallback, &block.path),
                        (lead, "filling it"),
                        image,
                        (entry, ids),
                        block.key_range.clone(),
                    ));
                    continue;
                }
                match usable(values.document, block) {
                    Ok(block) => blocks.push(block),
                    Err(diagnostic) => diagnostics.push(*diagnostic),
                }
            }
            diagnostics.extend(set_pod(stream, &blocks, container_level, entry, ids));
        }
    }
    diagnostics
}

/// The ids written in the image mapping itself (ingress-nginx renders
/// `controller.image.runAsUser` into the container's security context): the replacement's,
/// like any security context of the image's own container.
fn ids_beside_image(
    stream: &Stream<'_>,
    image: &ValuesImage<'_, '_>,
    entry: &Entry,
) -> Vec<Diagnostic> {
    let Shape::Fields(Fields {
        mapping: Some(mapping),
        ..
    }) = &image.shape
    else {
        return Vec::new();
    };
    let block = Block {
        path: image.path.clone(),
        key_range: image.key_range.clone(),
        node: mapping,
        level: Level::Container,
        init: false,
    };
    let (uid, gid) = (entry.hardened.uid(), entry.hardened.gid());
    let mut diagnostics = Vec::new();
    let mut changes = Changes::default();
    for (key, wanted) in [
        ("runAsUser", uid),
        ("uid", uid),
        ("runAsGroup", gid),
        ("gid", gid),
    ] {
        if let Some(node) = mapping.get(key).filter(|node| node.as_scalar().is_some()) {
            match wanted {
                Some(wanted) => changes.set_id(stream, &block, key, node, wanted, &mut diagnostics),
                None => diagnostics.push(missing_id(&block, key, node, entry)),
            }
        }
    }
    if let Some(uid) = uid {
        if let Some(node) = mapping.get("runAsNonRoot") {
            changes.set_non_root(stream, node, uid != 0);
        }
        diagnostics.extend(changes.into_diagnostic(&block, entry, Ids { uid, gid }));
    }
    diagnostics
}

/// "`primary`" or "the values' top level".
fn component_name(path: &str) -> String {
    if path.is_empty() {
        "the values' top level".into()
    } else {
        format!("`{path}`")
    }
}

/// The security-context blocks of every pod of `image`'s component, one list per mapping
/// that holds them.
fn collect_pods<'d>(
    values: &Values<'d, '_>,
    image: &ValuesImage<'d, '_>,
    pods: &mut Vec<Vec<Block<'d>>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    values.walk_component(image.component, &image.component_path, &mut |setting| {
        let mapping = setting.node;
        let keys: Vec<&str> = SECURITY_CONTEXT_KEYS
            .into_iter()
            .filter(|key| mapping.get(key).is_some())
            .collect();
        if keys.is_empty() {
            return;
        }
        let mut pod = Vec::new();
        for entry in mapping.entries() {
            let Some(key) = entry
                .key
                .value()
                .filter(|key| keys.contains(key) || *key == INIT_CONTAINER_KEY)
            else {
                continue;
            };
            let path = join_key(setting.path, key);
            if let NodeKind::Alias(alias) = &entry.value.kind {
                diagnostics.push(
                    Diagnostic::report(
                        Rule::SecurityContextUnset,
                        entry.key.range.clone(),
                        format!(
                            "`{path}` is an alias of `&{}`, which other settings share; hardport does not edit it",
                            alias.name
                        ),
                    )
                    .suggest("set it by hand"),
                );
                continue;
            }
            pod.push(Block {
                level: level(key, &keys, &entry.value),
                init: key == INIT_CONTAINER_KEY,
                path,
                key_range: entry.key.range.clone(),
                node: &entry.value,
            });
        }
        pods.push(pod);
    });
}

/// Whether the block under `key` is the pod's or the container's, given the context keys
/// beside it.
fn level(key: &str, siblings: &[&str], block: &Node) -> Level {
    match key {
        "podSecurityContext" => Level::Pod,
        "containerSecurityContext" | INIT_CONTAINER_KEY => Level::Container,
        _ if siblings.contains(&"podSecurityContext") => Level::Container,
        _ if siblings.contains(&"containerSecurityContext") => Level::Pod,
        _ if POD_ONLY_FIELDS
            .iter()
            .any(|field| block.get(field).is_some()) =>
        {
            Level::Pod
        }
        _ => Level::Container,
    }
}

/// Whether a plain scalar is false as Helm's YAML 1.1 parser reads it (`false`, `False`, `no`,
/// `off`, …); a quoted `"false"` is a string, which a template's `if` takes as true.
fn reads_false(node: &Node) -> bool {
    node.as_scalar().is_some_and(|scalar| {
        scalar.style == ScalarStyle::Plain
            && matches!(
                scalar.value.as_str(),
                "false"
                    | "False"
                    | "FALSE"
                    | "no"
                    | "No"
                    | "NO"
                    | "off"
                    | "Off"
                    | "OFF"
                    | "n"
                    | "N"
            )
    })
}

/// The block, when the rule may edit it; otherwise why not.
fn usable<'d>(document: &Document, block: Block<'d>) -> Result<Block<'d>, Box<Diagnostic>> {
    let unset = |message: String| {
        Diagnostic::report(Rule::SecurityContextUnset, block.key_range.clone(), message)
    };
    if let Some(anchor) = block.node.anchor()
        && is_aliased(document, &anchor.text)
    {
        return Err(Box::new(
            unset(format!(
                "`{}` is anchored `&{}`, and other settings use it through `*{}`: the replacement's ids would reach them too; hardport does not edit it",
                block.path, anchor.text, anchor.text
            ))
            .suggest("give this component a block of its own, or set it by hand"),
        ));
    }
    let Some(mapping) = block.node.as_mapping() else {
        let is_null = block.node.as_scalar().is_some_and(|scalar| {
            scalar.style == ScalarStyle::Plain && crate::yaml::is_null(&scalar.value)
        });
        return Err(Box::new(match is_null {
            // A null sets nothing, like `{}`, but has no braces to put the ids in.
            true => unset(format!(
                "`{}` is null, so the pod runs with the image's own user; hardport adds the replacement's ids only to a mapping",
                block.path
            ))
            .suggest("write `{}` there to have them added, or leave it"),
            false => unset(format!(
                "`{}` is not a mapping; hardport cannot add the replacement's user to it",
                block.path
            ))
            .suggest("write it as a mapping"),
        }));
    };
    if block.node.get("enabled").is_some_and(reads_false) {
        return Err(Box::new(unset(format!(
            "`{}.enabled` is false, so the chart sets no security context and the replacement's own user applies; hardport does not enable it",
            block.path
        ))));
    }
    if let Some(stranger) = mapping
        .entries
        .iter()
        .filter_map(|entry| entry.key.value())
        .find(|key| !is_context_field(key))
    {
        return Err(Box::new(
            unset(format!(
                "`{}` is not a plain security context (`{stranger}` is no field of one)",
                block.path
            ))
            .suggest("set the replacement's user in it by hand"),
        ));
    }
    Ok(block)
}

/// Whether an alias `*name` stands anywhere in `document`.
fn is_aliased(document: &Document, name: &str) -> bool {
    let mut found = false;
    document.visit(&mut |_, node| {
        found |= matches!(&node.kind, NodeKind::Alias(alias) if alias.name == name);
    });
    found
}

pub(crate) mod pod;
mod templates;
mod unexposed;

#[cfg(test)]
mod tests;
