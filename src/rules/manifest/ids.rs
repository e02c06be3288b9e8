//! The security contexts of a manifest's pods: ids written for the public image move to the
//! replacement's (documented in the parent module's header).

use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::kubernetes::{Container, Workload};
use crate::rules::Rule;
use crate::rules::helm_security::pod::{Block, Changes, Ids, Level, missing_id};
use crate::yaml::{NewValue, Node, Stream};

/// The id keys a container's `securityContext` may write, and a pod's.
const CONTAINER_IDS: [&str; 2] = ["runAsUser", "runAsGroup"];
const POD_IDS: [&str; 3] = ["runAsUser", "runAsGroup", "fsGroup"];

/// Each container's own `securityContext`: ids written for the public image move to the
/// replacement's.
pub(super) fn container_contexts(
    stream: &Stream<'_>,
    workload: &Workload<'_>,
    runs: &[(Container<'_>, &Entry)],
) -> Vec<Diagnostic> {
    let document = workload.document;
    let pod_non_root = workload
        .pod_get("securityContext")
        .and_then(|context| context.get("runAsNonRoot"))
        .and_then(Node::value)
        == Some("true");
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
            &CONTAINER_IDS,
            entry,
            pod_non_root,
        ));
    }
    diagnostics
}

/// The pod's `securityContext`: its ids apply to every container that writes none of its own,
/// so they move only when all of those run the same replacement; when they run different
/// images and an id would have to move for one of them, that is reported.
pub(super) fn pod_context(
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
    // Per id: the containers it applies to (those that write none of their own; `fsGroup` is
    // the pod's alone, for its volumes), with what they run (None: an image that does not
    // move). An id moves when they all run one replacement, and is reported when they run
    // different images and it would have to move for one of them.
    let all = workload.containers();
    let runs_of = |container: &Container<'_>| {
        runs.iter()
            .find(|(ran, _)| std::ptr::eq(ran.node, container.node))
            .map(|(_, entry)| *entry)
    };
    let mut moving: Vec<(&Entry, Vec<&str>)> = Vec::new();
    let mut shared: Vec<&str> = Vec::new();
    let mut sharing: Vec<&str> = Vec::new();
    for key in POD_IDS {
        let inheriting: Vec<(&str, Option<&Entry>)> = all
            .iter()
            .filter(|container| {
                key == "fsGroup"
                    || container
                        .get("securityContext", document)
                        .and_then(|context| context.get(key))
                        .is_none()
            })
            .map(|container| (container.label.as_str(), runs_of(container)))
            .collect();
        let Some(first) = inheriting.iter().find_map(|(_, entry)| *entry) else {
            continue;
        };
        let one_image = inheriting
            .iter()
            .all(|(_, entry)| entry.is_some_and(|entry| entry.name == first.name));
        if one_image {
            match moving
                .iter_mut()
                .find(|(entry, _)| entry.name == first.name)
            {
                Some((_, keys)) => keys.push(key),
                None => moving.push((first, vec![key])),
            }
        } else if inheriting
            .iter()
            .filter_map(|(_, entry)| *entry)
            .any(|entry| moves(node, key, entry))
        {
            shared.push(key);
            for (label, _) in &inheriting {
                if !sharing.contains(label) {
                    sharing.push(label);
                }
            }
        }
    }
    let mut diagnostics: Vec<Diagnostic> = moving
        .into_iter()
        .flat_map(|(entry, keys)| set_public_ids(stream, &block, &keys, entry, false))
        .collect();
    if !shared.is_empty() {
        diagnostics.push(
            Diagnostic::report(
                Rule::SecurityContextUnset,
                block.key_range.clone(),
                format!(
                    "`{}` writes a public image's {}, and it applies to containers that run different images ({}); hardport does not move an id they share",
                    block.path,
                    shared.join(", "),
                    sharing.join(", ")
                ),
            )
            .suggest("set each container's own securityContext to its image's ids"),
        );
    }
    diagnostics
}

/// The ids a replacement runs as, when the catalog states its uid.
fn ids_of(entry: &Entry) -> Option<Ids> {
    Some(Ids {
        uid: entry.hardened.uid()?,
        gid: entry.hardened.gid(),
    })
}

/// The id the replacement has for `key`, when the catalog states it.
fn wanted(key: &str, entry: &Entry) -> Option<u32> {
    match key {
        "runAsUser" => entry.hardened.uid(),
        _ => entry.hardened.gid(),
    }
}

/// Whether the id under `key` of `context` is the public image's and would change: the
/// replacement's differs, or is not known.
fn moves(context: &Node, key: &str, entry: &Entry) -> bool {
    written_public_id(context, key, entry).is_some_and(|node| {
        wanted(key, entry).is_none_or(|id| node.value() != Some(id.to_string().as_str()))
    })
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
/// turn `runAsNonRoot: true` off when the replacement's user, which the block then runs as, is
/// root (the kubelet refuses to start a non-root pod as root).
///
/// `inherited_non_root`: the pod's context says `runAsNonRoot: true` and this container's does
/// not say otherwise, so a container moved to root needs its own `runAsNonRoot: false`.
fn set_public_ids(
    stream: &Stream<'_>,
    block: &Block<'_>,
    keys: &[&str],
    entry: &Entry,
    inherited_non_root: bool,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let Some(ids) = ids_of(entry) else {
        if keys.iter().any(|key| moves(block.node, key, entry)) {
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
        match wanted(key, entry) {
            Some(wanted) => changes.set_id(stream, block, key, node, wanted, &mut diagnostics),
            None => diagnostics.push(missing_id(block, key, node, entry)),
        }
    }
    let runs_as_image_user = keys.contains(&"runAsUser")
        && (block.node.get("runAsUser").is_none()
            || written_public_id(block.node, "runAsUser", entry).is_some());
    if ids.uid == 0 && runs_as_image_user {
        match block.node.get("runAsNonRoot") {
            Some(node) => changes.set_non_root(stream, node, false),
            None if inherited_non_root => {
                changes.add(stream, block, &[("runAsNonRoot", NewValue::bool(false))]);
            }
            None => {}
        }
    }
    diagnostics.extend(changes.into_diagnostic(block, entry, ids));
    diagnostics
}
