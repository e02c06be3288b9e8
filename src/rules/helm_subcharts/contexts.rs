//! The ids a subchart's defaults set for a component whose image this file moves: a
//! `runAsUser`/`runAsGroup`/`fsGroup` written for the public image (Prometheus' subcharts run as
//! 65534) still applies to the replacement unless this file overrides it. hardport does not
//! write them for the subchart (which of its blocks reach which container is in templates it
//! only has vendored); it says which keys to set.

use std::ops::Range;

use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::helm::{SECURITY_CONTEXT_KEYS, Values, ValuesImage, join_key};
use crate::rules::Rule;
use crate::yaml::Document;

use super::{at_path, keys};

/// One `security-context-unset` warning per id of the subchart's defaults, in the component of
/// `image`, that differs from the replacement's and that this file does not override.
pub(super) fn kept_ids(
    document: &Document,
    dependency_key: &str,
    sub_values: &Values<'_, '_>,
    image: &ValuesImage<'_, '_>,
    entry: &Entry,
    range: &Range<usize>,
) -> Vec<Diagnostic> {
    let wanted = [
        ("runAsUser", entry.hardened.uid()),
        ("runAsGroup", entry.hardened.gid()),
        ("fsGroup", entry.hardened.gid()),
    ];
    let mut diagnostics = Vec::new();
    sub_values.walk_component(image.component, &image.component_path, &mut |setting| {
        for key in SECURITY_CONTEXT_KEYS {
            let Some(block) = setting.node.get(key) else {
                continue;
            };
            for (id, replacement) in wanted {
                let Some(written) = block.get(id).and_then(|node| node.value()) else {
                    continue;
                };
                let block_path = join_key(&join_key(setting.path, key), id);
                let parent_path = format!("{dependency_key}.{block_path}");
                let same = replacement.is_some_and(|wanted| written == wanted.to_string());
                if same || at_path(document, &keys(&parent_path)).is_some() {
                    continue;
                }
                let runs = match replacement {
                    Some(wanted) => format!("{id} {wanted}"),
                    None => format!("a {id} the catalog does not state"),
                };
                diagnostics.push(
                    Diagnostic::report(
                        Rule::SecurityContextUnset,
                        range.clone(),
                        format!(
                            "the subchart's default `{block_path}: {written}` still applies to `{}`, whose replacement {} runs with {runs}",
                            join_key(dependency_key, &image.path),
                            entry.replacement
                        ),
                    )
                    .suggest(format!("set `{parent_path}` in this file")),
                );
            }
        }
    });
    diagnostics
}
