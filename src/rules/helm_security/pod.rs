//! Setting one pod's security-context blocks to a replacement's ids: shared by Helm values
//! (blocks found under a component's settings) and Kubernetes manifests (a pod spec's
//! `securityContext` and its containers').

use std::ops::Range;

use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::rules::Rule;
use crate::yaml::{NewValue, Node, Stream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Pod,
    Container,
}

/// The ids the replacement runs as.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ids {
    pub(crate) uid: u32,
    pub(crate) gid: Option<u32>,
}

/// A security-context block the rule can edit.
pub(crate) struct Block<'d> {
    /// Where it is, as messages name it (`controller.podSecurityContext`).
    pub(crate) path: String,
    pub(crate) key_range: Range<usize>,
    pub(crate) node: &'d Node,
    pub(crate) level: Level,
    /// A Helm block for a pod's init containers, which only the templates can tie to an image.
    pub(crate) init: bool,
}

/// The edits for one pod's usable blocks: change what is written, add what is missing. The
/// user is added at container level, or at pod level when the pod has no container block.
pub(crate) fn set_pod(
    stream: &Stream<'_>,
    blocks: &[Block<'_>],
    container_level: bool,
    entry: &Entry,
    ids: Ids,
) -> Vec<Diagnostic> {
    if let Some(root) = deliberate_root(blocks).filter(|_| ids.uid != 0) {
        return vec![
            Diagnostic::report(
                Rule::SecurityContextUnset,
                root.key_range.clone(),
                format!(
                    "`{}.runAsUser` is 0: the chart runs this pod as root on purpose (a node agent, a permissions fixer), so hardport keeps its security context; {}",
                    root.path,
                    runs_as(entry, ids)
                ),
            )
            .suggest("check the pod needs root"),
        ];
    }
    let has = |key: &str| blocks.iter().any(|block| block.node.get(key).is_some());
    let container = if container_level {
        blocks
            .iter()
            .position(|block| block.level == Level::Container)
    } else {
        (!blocks.is_empty()).then_some(0)
    };
    let pod = blocks.iter().position(|block| block.level == Level::Pod);
    let mut diagnostics = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        let mut changes = Changes::default();
        for (key, wanted) in [
            ("runAsUser", Some(ids.uid)),
            ("runAsGroup", ids.gid),
            ("fsGroup", ids.gid),
        ] {
            if let Some(node) = block.node.get(key) {
                match wanted {
                    Some(wanted) => {
                        changes.set_id(stream, block, key, node, wanted, &mut diagnostics);
                    }
                    None => diagnostics.push(missing_id(block, key, node, entry)),
                }
            }
        }
        if let Some(node) = block.node.get("runAsNonRoot") {
            changes.set_non_root(stream, node, ids.uid != 0);
        }
        let mut added = Vec::new();
        if container == Some(index) {
            if !has("runAsUser") {
                added.push(("runAsUser", NewValue::int(ids.uid.into())));
            }
            if let Some(gid) = ids.gid.filter(|_| !has("runAsGroup")) {
                added.push(("runAsGroup", NewValue::int(gid.into())));
            }
            if ids.uid != 0 && !has("runAsNonRoot") {
                added.push(("runAsNonRoot", NewValue::bool(true)));
            }
        }
        if let Some(gid) = ids.gid.filter(|_| pod == Some(index) && !has("fsGroup")) {
            added.push(("fsGroup", NewValue::int(gid.into())));
        }
        changes.add(stream, block, &added);
        diagnostics.extend(changes.into_diagnostic(block, entry, ids));
    }
    if let Some(pod) = pod.filter(|_| ids.gid.is_none() && !has("fsGroup")) {
        diagnostics.push(Diagnostic::report(
            Rule::MissingFact,
            blocks[pod].key_range.clone(),
            format!(
                "`{}` gets no fsGroup: the catalog does not state the group of {} (entry `{}`), so volumes may not be writable by uid {}",
                blocks[pod].path, entry.replacement, entry.name, ids.uid
            ),
        ).suggest(format!("add `hardened.group` to catalog entry `{}`", entry.name)));
    }
    diagnostics
}

/// The block that states `runAsUser: 0`, if one does: a chart only writes that for a pod that
/// must run as root, and turning it non-root (or adding `runAsNonRoot: true` beside it, which
/// the kubelet then refuses) would break the pod.
pub(crate) fn deliberate_root<'b, 'd>(blocks: &'b [Block<'d>]) -> Option<&'b Block<'d>> {
    blocks.iter().find(|block| {
        block
            .node
            .get("runAsUser")
            .and_then(Node::value)
            .and_then(|uid| uid.parse::<i64>().ok())
            == Some(0)
    })
}

/// The id `key` of `block` stays as written: the catalog does not state the replacement's.
pub(crate) fn missing_id(block: &Block<'_>, key: &str, node: &Node, entry: &Entry) -> Diagnostic {
    let id = match key {
        "runAsUser" | "uid" => "user",
        _ => "group",
    };
    Diagnostic::report(
        Rule::MissingFact,
        node.range.clone(),
        format!(
            "`{}.{key}` stays `{}`: the catalog does not state the {id} of {} (entry `{}`)",
            block.path,
            node.value().unwrap_or_default(),
            entry.replacement,
            entry.name
        ),
    )
}

/// What one block gets, collected into one fix.
#[derive(Default)]
pub(crate) struct Changes {
    edits: Vec<Edit>,
    described: Vec<String>,
    /// Why an edit could not be made, when one could not.
    failure: Option<String>,
}

impl Changes {
    pub(crate) fn set_id(
        &mut self,
        stream: &Stream<'_>,
        block: &Block<'_>,
        key: &str,
        node: &Node,
        wanted: u32,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let written = node.value().unwrap_or_default();
        match written.parse::<i64>() {
            Ok(number) if number == i64::from(wanted) => {}
            Ok(_) => self.replace(
                stream,
                node,
                &NewValue::int(wanted.into()),
                format!("{key} {written} → {wanted}"),
            ),
            Err(_) => diagnostics.push(
                Diagnostic::report(
                    Rule::SecurityContextUnset,
                    node.range.clone(),
                    format!(
                        "`{}.{key}` is `{written}`, not a number hardport can compare; the replacement runs with {key} {wanted}",
                        block.path
                    ),
                )
                .suggest("check it"),
            ),
        }
    }

    pub(crate) fn set_non_root(&mut self, stream: &Stream<'_>, node: &Node, non_root: bool) {
        let written = node.value().unwrap_or_default();
        let wrong = if non_root { "false" } else { "true" };
        if written == wrong {
            self.replace(
                stream,
                node,
                &NewValue::bool(non_root),
                format!("runAsNonRoot {written} → {non_root}"),
            );
        }
    }

    fn replace(&mut self, stream: &Stream<'_>, node: &Node, value: &NewValue, change: String) {
        match stream.replace_scalar(node, value) {
            Ok(edit) => {
                self.edits.push(edit);
                self.described.push(change);
            }
            Err(error) => self.failure = Some(error.to_string()),
        }
    }

    pub(crate) fn add(
        &mut self,
        stream: &Stream<'_>,
        block: &Block<'_>,
        added: &[(&str, NewValue)],
    ) {
        if added.is_empty() {
            return;
        }
        let entries: Vec<(String, NewValue)> = added
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect();
        match stream.insert_entries(block.node, &entries) {
            Ok(edits) => {
                self.edits.extend(edits);
                self.described.extend(
                    added
                        .iter()
                        .map(|(key, value)| format!("{key}: {} (added)", shown(value))),
                );
            }
            Err(error) => self.failure = Some(error.to_string()),
        }
    }

    pub(crate) fn into_diagnostic(
        self,
        block: &Block<'_>,
        entry: &Entry,
        ids: Ids,
    ) -> Option<Diagnostic> {
        let runs_as = runs_as(entry, ids);
        if let Some(failure) = self.failure {
            return Some(
                Diagnostic::report(
                    Rule::SecurityContextUnset,
                    block.key_range.clone(),
                    format!(
                        "`{}` cannot be edited in place ({failure}); {runs_as}",
                        block.path
                    ),
                )
                .suggest("set it by hand"),
            );
        }
        let fix = Fix::new(self.edits)?;
        Some(Diagnostic::fixed(
            Rule::SecurityContext,
            block.key_range.clone(),
            format!("`{}`: {}; {runs_as}", block.path, self.described.join(", ")),
            fix,
        ))
    }
}

/// "reg.mini.dev/nginx runs as uid 1000, gid 1000 (catalog entry `nginx`)".
pub(crate) fn runs_as(entry: &Entry, ids: Ids) -> String {
    let gid = ids
        .gid
        .map_or_else(|| "an unknown gid".to_owned(), |gid| format!("gid {gid}"));
    format!(
        "{} runs as uid {}, {gid} (catalog entry `{}`)",
        entry.replacement, ids.uid, entry.name
    )
}

fn shown(value: &NewValue) -> &str {
    match value {
        NewValue::String(text) | NewValue::Native(text) => text,
        NewValue::Mapping(_) => "…",
        NewValue::EmptySequence => "[]",
    }
}
