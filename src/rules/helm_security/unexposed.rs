//! Ids the security-context rule cannot set where the component keeps them: a component with
//! no block of its own (one is added where the templates read it, else reported), and a block
//! only one image's containers use that sits outside that image's settings (reported).

use super::templates::{exclusive_blocks, fallback, left_to_fallback};
use super::{Ids, Level, component_name, level, runs_as};
use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Fix};
use crate::helm::chart::Chart;
use crate::helm::templates::TemplateContainer;
use crate::helm::{SECURITY_CONTEXT_KEYS, ValuesImage, join_key};
use crate::rules::{Context, Rule};
use crate::yaml::{Document, NewValue, Node, Stream};

/// Ids in a block the templates give only the containers of `image`, outside its component:
/// reported when they differ from the replacement's (the component's walk does not set them).
/// For a side image (`main` is its component's main image, when mapped), an id the block leaves
/// out is inherited from the pod, whose ids the component's walk sets to the main image's:
/// reported when those differ (grafana's `downloadDashboards.securityContext` sets no
/// `runAsUser`, so the curl init container runs as grafana's user).
pub(super) fn elsewhere(
    document: &Document,
    chart: &Chart,
    image: &ValuesImage<'_, '_>,
    entry: &Entry,
    main: Option<&Entry>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (path, container) in
        exclusive_blocks(chart, &image.path, &image.component_path, image.is_main)
    {
        let keys: Vec<&str> = path.split('.').collect();
        let Some(block) = keys
            .iter()
            .try_fold(&document.root, |node, key| node.get(key))
        else {
            continue;
        };
        let mut inherited_ids = Vec::new();
        for (id, wanted, inherited) in [
            (
                "runAsUser",
                entry.hardened.uid(),
                main.and_then(|main| main.hardened.uid()),
            ),
            (
                "runAsGroup",
                entry.hardened.gid(),
                main.and_then(|main| main.hardened.gid()),
            ),
        ] {
            let Some(wanted) = wanted else {
                continue;
            };
            let Some(node) = block.get(id) else {
                if let Some(inherited) = inherited.filter(|inherited| *inherited != wanted)
                    && block.as_mapping().is_some()
                    && !image.is_main
                    && pod_sets(image.component, id)
                {
                    inherited_ids.push(Inherited {
                        id,
                        wanted,
                        inherited,
                    });
                }
                continue;
            };
            let written = node.value().unwrap_or_default();
            if written == wanted.to_string() {
                continue;
            }
            let runs = format!("{id} {wanted}");
            diagnostics.push(
                Diagnostic::report(
                    Rule::SecurityContextUnset,
                    node.range.clone(),
                    format!(
                        "`{path}.{id}` is {written}, and the chart's templates use `{path}` for the containers of `{}` only ({}:{}), whose replacement {} runs with {runs}; hardport sets contexts within an image's own settings, and this one is not",
                        image.path, container.template, container.line, entry.replacement
                    ),
                )
                .suggest(format!("set `{path}.{id}` to the replacement's")),
            );
        }
        if !inherited_ids.is_empty() {
            diagnostics.push(inherits(&path, &inherited_ids, image, entry, container));
        }
    }
    diagnostics
}

/// An id a side image's block leaves to the pod, which holds the main image's.
struct Inherited {
    id: &'static str,
    wanted: u32,
    inherited: u32,
}

/// Whether the component's pod-level security context sets `id` once the component's walk has
/// set it to its main image's: where it is written, and where no container-level block beside
/// it takes the ids instead.
fn pod_sets(component: &Node, id: &str) -> bool {
    let keys: Vec<&str> = SECURITY_CONTEXT_KEYS
        .into_iter()
        .filter(|key| component.get(key).is_some())
        .collect();
    let level_of = |key: &&str| {
        component
            .get(key)
            .map(|block| (level(key, &keys, block), block))
    };
    let has_container = keys
        .iter()
        .filter_map(level_of)
        .any(|(level, _)| level == Level::Container);
    keys.iter()
        .filter_map(level_of)
        .any(|(level, block)| level == Level::Pod && (block.get(id).is_some() || !has_container))
}

/// A side image's exclusive block that leaves ids to the pod, which the component's walk sets
/// to the main image's replacement's.
fn inherits(
    path: &str,
    ids: &[Inherited],
    image: &ValuesImage<'_, '_>,
    entry: &Entry,
    container: &TemplateContainer,
) -> Diagnostic {
    let list =
        |show: &dyn Fn(&Inherited) -> String| ids.iter().map(show).collect::<Vec<_>>().join(", ");
    let names = ids.iter().map(|id| id.id).collect::<Vec<_>>().join(" or ");
    let pod = list(&|id| format!("{} {}", id.id, id.inherited));
    let wanted = list(&|id| format!("{} {}", id.id, id.wanted));
    let add = list(&|id| format!("`{}: {}`", id.id, id.wanted));
    Diagnostic::report(
        Rule::SecurityContextUnset,
        image.key_range.clone(),
        format!(
            "`{path}` sets no {names}, so the containers of `{}` ({}:{}) run with the pod's, which hardport sets to the component's main image's ({pod}); their replacement {} runs with {wanted}",
            image.path, container.template, container.line, entry.replacement
        ),
    )
    .suggest(format!("add {add} to `{path}`"))
}

/// A component whose values hold no security context: add the blocks its templates read, or
/// report that the chart does not expose one.
pub(super) fn not_exposed(
    stream: &Stream<'_>,
    document: &Document,
    image: &ValuesImage<'_, '_>,
    entry: &Entry,
    ids: Ids,
    context: Context<'_>,
) -> Option<Diagnostic> {
    let read: Vec<&str> = SECURITY_CONTEXT_KEYS
        .into_iter()
        .filter(|key| {
            context
                .chart()
                .is_some_and(|chart| chart.templates_read(&join_key(&image.component_path, key)))
        })
        .collect();
    let runs_as = runs_as(entry, ids);
    let component = component_name(&image.component_path);
    let chart = context.chart();
    let root = image.component_path.split('.').next().unwrap_or_default();
    if let Some(dependency) = chart.and_then(|chart| {
        chart
            .dependencies
            .iter()
            .find(|dependency| dependency.key() == root)
    }) {
        return Some(
            Diagnostic::report(
            Rule::SecurityContextUnset,
            image.key_range.clone(),
            format!(
                "{component} sets no podSecurityContext, securityContext or containerSecurityContext; its pods are rendered by the templates of dependency `{}`, which hardport {}; {runs_as}",
                dependency.name,
                match &dependency.vendored {
                    Some(_) => "does not read for security contexts",
                    None => "does not have (it is not vendored)",
                }
            ),
        )
        .suggest("check the pod runs with it"),
        );
    }
    if !chart.is_some_and(Chart::has_templates) {
        return Some(
            Diagnostic::report(
            Rule::SecurityContextUnset,
            image.key_range.clone(),
            format!(
                "{component} sets no podSecurityContext, securityContext or containerSecurityContext, and hardport found no templates for this chart, so it cannot tell which one they read; {runs_as}"
            ),
        )
        .suggest("check the pod runs with it"),
        );
    }
    let candidates = SECURITY_CONTEXT_KEYS
        .into_iter()
        .chain(["securityContexts.pod", "securityContexts.container"]);
    if let Some((fallback, tested)) = candidates
        .map(|key| join_key(&image.component_path, key))
        .find_map(|path| Some((fallback(chart, &path)?, path)))
    {
        let lead = format!(
            "{component} sets no security context, and the chart's templates then write one of their own"
        );
        return left_to_fallback(
            document,
            (fallback, &tested),
            (lead, "adding one"),
            image,
            (entry, ids),
            image.key_range.clone(),
        );
    }
    if read.is_empty() {
        return Some(
            Diagnostic::report(
            Rule::SecurityContextUnset,
            image.key_range.clone(),
            format!(
                "{component} sets no podSecurityContext, securityContext or containerSecurityContext and the chart's templates read none, so hardport cannot set the replacement's user; {runs_as}"
            ),
        )
        .suggest("check the pod runs with it"),
        );
    }
    let has_container = read
        .iter()
        .any(|key| level(key, &read, image.component) == Level::Container);
    let mut blocks = Vec::new();
    for key in &read {
        let mut fields = Vec::new();
        let level = level(key, &read, image.component);
        if level == Level::Container || !has_container {
            fields.push(("runAsUser".to_owned(), NewValue::int(ids.uid.into())));
            if let Some(gid) = ids.gid {
                fields.push(("runAsGroup".to_owned(), NewValue::int(gid.into())));
            }
            if ids.uid != 0 {
                fields.push(("runAsNonRoot".to_owned(), NewValue::bool(true)));
            }
        }
        if let Some(gid) = ids.gid.filter(|_| level == Level::Pod) {
            fields.push(("fsGroup".to_owned(), NewValue::int(gid.into())));
        }
        if !fields.is_empty() {
            blocks.push(((*key).to_owned(), NewValue::Mapping(fields)));
        }
    }
    let added: Vec<&str> = blocks.iter().map(|(key, _)| key.as_str()).collect();
    let message = format!(
        "{component} had no security context; added {} (the chart's templates read it); {runs_as}",
        added.join(" and ")
    );
    Some(match stream
        .insert_entries(image.component, &blocks)
        .map(Fix::new)
    {
        Ok(Some(fix)) => {
            Diagnostic::fixed(Rule::SecurityContext, image.key_range.clone(), message, fix)
        }
        Ok(None) | Err(_) => Diagnostic::report(
            Rule::SecurityContextUnset,
            image.key_range.clone(),
            format!(
                "{component} has no security context and hardport cannot add one in place; {runs_as}"
            ),
        )
        .suggest("set it by hand"),
    })
}
