//! What the chart's templates say about a security-context block: whose containers render it,
//! and whether filling it would switch off defaults the templates write while it is empty.

use std::ops::Range;

use super::Ids;
use super::pod::runs_as;
use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::helm::chart::Chart;
use crate::helm::fallbacks::Fallback;
use crate::helm::templates::TemplateContainer;
use crate::helm::{SECURITY_CONTEXT_KEYS, ValuesImage};
use crate::rules::Rule;
use crate::yaml::Document;

/// Whose containers the templates render a block into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    /// Containers of the component's image, possibly with others: a chart that renders one
    /// block into several containers of a pod shares it on purpose (Bitnami's `copy-certs`
    /// init container runs with PostgreSQL's context, so the files it writes belong to the
    /// main container's user), and the component's ids keep that. Also a block no container
    /// the scan can place reads.
    Component,
    /// Only containers of other images (nextcloud's `nextcloud.mariaDbInitContainer.
    /// securityContext` is the MariaDB init container's): not the component's to change.
    Others,
}

/// Whose containers read the block at `path`, for the component whose main image is at
/// `image`: another image's when every container that reads it (or a mapping above it whole)
/// runs another image. A container whose image the scan cannot place (one a helper builds from
/// its argument, as external-dns's webhook) counts for nobody, unless it names the block itself
/// (also relative to a `with`): then whose it is stays open, and it is left the component's.
pub(super) fn owner(chart: &Chart, path: &str, image: &str) -> Owner {
    let names_it = |container: &TemplateContainer| {
        container.reads.iter().any(|read| {
            read == path
                || read
                    .strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    let unplaced_reader = chart
        .containers
        .iter()
        .any(|container| container.images.is_empty() && names_it(container));
    let mut readers = chart
        .containers
        .iter()
        .filter(|container| container.reads_key(path) && !container.images.is_empty())
        .peekable();
    if !unplaced_reader
        && readers.peek().is_some()
        && readers.all(|container| !container.images.contains(image))
    {
        Owner::Others
    } else {
        Owner::Component
    }
}

/// Whether the templates render the block at `path` into containers, and only into containers
/// of the image at `image`.
pub(super) fn read_only_by(chart: &Chart, path: &str, image: &str) -> bool {
    let mut readers = chart
        .containers
        .iter()
        .filter(|container| container.reads_key(path))
        .peekable();
    readers.peek().is_some() && readers.all(|container| container.images.contains(image))
}

/// The template test that falls back to the chart's own defaults while the block at `path` is
/// empty, if one does.
pub(super) fn fallback<'c>(chart: Option<&'c Chart>, path: &str) -> Option<&'c Fallback> {
    chart?.fallback_for(path)
}

/// The finding for a block left to `fallback` (`lead` says which and why, `change` what hardport
/// did not do: "filling it", "adding one"): none when every id
/// the fallback writes comes from a value that holds the replacement's, or that hardport sets
/// to it in the image mapping (ingress-nginx writes `controller.image.runAsUser`); otherwise the
/// values to set, or, when the fallback writes no id from values, the replacement's ids.
pub(super) fn left_to_fallback(
    document: &Document,
    (fallback, tested): (&Fallback, &str),
    (lead, change): (String, &str),
    image: &ValuesImage<'_, '_>,
    (entry, ids): (&Entry, Ids),
    range: Range<usize>,
) -> Option<Diagnostic> {
    let at = format!("{}:{}", fallback.template, fallback.line);
    let runs_as = runs_as(entry, ids);
    let writes: Option<Vec<(&str, String)>> = fallback
        .writes
        .iter()
        .map(|id| Some((id.field, fallback.written_path(id, tested)?)))
        .collect();
    let Some(writes) = writes.filter(|writes| !writes.is_empty()) else {
        return Some(
            Diagnostic::report(Rule::SecurityContextUnset, range, format!("{lead} ({at}); {change} would switch that off, with whatever else it sets; {runs_as}"))
                .suggest("check the pod runs with the replacement's ids, or set a complete security context by hand"),
        );
    };
    let mut wrong = Vec::new();
    for (field, path) in writes {
        let wanted = if field == "runAsUser" {
            ids.uid
        } else {
            let Some(gid) = ids.gid else { continue };
            gid
        };
        let beside_image = path
            .strip_prefix(image.path.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|key| match field {
                "runAsUser" => matches!(key, "runAsUser" | "uid"),
                _ => matches!(key, "runAsGroup" | "gid"),
            });
        let written = document.root.lookup(&path);
        let holds = written.and_then(|node| node.value()).map(str::to_owned);
        if (beside_image && written.is_some() && image.resolution.is_substituted())
            || holds.as_deref() == Some(wanted.to_string().as_str())
        {
            continue;
        }
        wrong.push((field, path, holds, wanted));
    }
    if wrong.is_empty() {
        return None;
    }
    let reads: Vec<String> = wrong
        .iter()
        .map(|(field, path, holds, _)| {
            format!(
                "{field} from `{path}` ({})",
                holds.as_deref().unwrap_or("unset")
            )
        })
        .collect();
    let mut set: Vec<String> = Vec::new();
    for (_, path, _, wanted) in &wrong {
        let value = format!("`{path}: {wanted}`");
        if !set.contains(&value) {
            set.push(value);
        }
    }
    Some(
        Diagnostic::report(
            Rule::SecurityContextUnset,
            range,
            format!(
                "{lead} ({at}), which writes {}; {change} would switch that off, with whatever else it sets; {runs_as}",
                reads.join(" and ")
            ),
        )
        .suggest(format!("set {} (or fill the block by hand with everything the fallback set)", set.join(", "))),
    )
}

/// The security-context blocks only the containers of the image at `image` read, that the
/// component's walk does not set for it: blocks outside its component (`component`, the dotted
/// path of the mapping around the image; ingress-nginx's certgen jobs read
/// `controller.admissionWebhooks.createSecretJob.securityContext` but run
/// `controller.admissionWebhooks.patch.image`), and, for a side image (`is_main` false, as
/// grafana's `downloadDashboardsImage` beside `image`), any block. Each with the first
/// container that reads it.
pub(super) fn exclusive_blocks<'c>(
    chart: &'c Chart,
    image: &str,
    component: &str,
    is_main: bool,
) -> Vec<(String, &'c TemplateContainer)> {
    let mut found: Vec<(String, &TemplateContainer)> = Vec::new();
    for container in chart.containers.iter().filter(|c| c.images.contains(image)) {
        for read in &container.reads {
            let last = read.rsplit('.').next().unwrap_or_default();
            let inside = is_main
                && (component.is_empty()
                    || read == component
                    || read.starts_with(&format!("{component}.")));
            if !SECURITY_CONTEXT_KEYS.contains(&last)
                || inside
                || found.iter().any(|(path, _)| path == read)
            {
                continue;
            }
            let exclusive = chart
                .containers
                .iter()
                .filter(|other| other.reads_key(read))
                .all(|other| other.images.contains(image));
            if exclusive {
                found.push((read.clone(), container));
            }
        }
    }
    found
}
