//! Ids the security-context rule cannot set where the component keeps them: a component with
//! no block of its own (one is added where the templates read it, else reported), and a block
//! only one image's containers use that sits outside that image's settings (reported).

use super::pod::runs_as;
use super::templates::{exclusive_blocks, fallback, left_to_fallback};
use super::{Ids, Level, component_name, level};
use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Fix};
use crate::helm::chart::Chart;
use crate::helm::templates::TemplateContainer;
use crate::helm::{SECURITY_CONTEXT_KEYS, ValuesImage, join_key};
use crate::rules::{Context, Rule};
use crate::yaml::{Document, NewValue, Node, Stream};

/// Ids in a block the templates give only the containers of `image`, outside its component:
/// reported when they differ from the replacement's (the component's walk does not set them).
/// For a side image (`main` is its component's main image, when mapped), an id its containers
/// leave out is inherited from the pod, whose ids the component's walk sets to the main
/// image's: reported when those differ (grafana's `downloadDashboards.securityContext` sets no
/// `runAsUser`, so the curl init container runs as grafana's user; a `wait` init container
/// with no `securityContext:` at all runs with the pod's too).
pub(super) fn elsewhere(
    document: &Document,
    chart: &Chart,
    image: &ValuesImage<'_, '_>,
    entry: &Entry,
    main: Option<(&str, &Entry)>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let side = main.filter(|_| !image.is_main);
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
        for (id, wanted) in [
            ("runAsUser", entry.hardened.uid()),
            ("runAsGroup", entry.hardened.gid()),
        ] {
            let (Some(node), Some(wanted)) = (block.get(id), wanted) else {
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
        if let Some((_, main)) = side
            && block.as_mapping().is_some()
        {
            let ids = inherited(image, entry, main, |id| block.get(id).is_none());
            if !ids.is_empty() {
                diagnostics.push(inherits(Some(&path), &ids, image, entry, container));
            }
        }
    }
    let containers: Vec<&TemplateContainer> = chart
        .containers
        .iter()
        .filter(|container| container.images.contains(&image.path))
        .collect();
    // In a template that also writes a container of the main image: the same pod.
    let beside_main = |container: &TemplateContainer| {
        chart.containers.iter().any(|other| {
            other.template == container.template
                && side.is_some_and(|(path, _)| other.images.contains(path))
        })
    };
    if let Some((_, main)) = side
        && let Some(first) = containers
            .iter()
            .copied()
            .find(|container| beside_main(container))
        && containers
            .iter()
            .all(|container| !container.has_security_context)
    {
        let ids = inherited(image, entry, main, |_| true);
        if !ids.is_empty() {
            diagnostics.push(inherits(None, &ids, image, entry, first));
        }
    }
    diagnostics
}

/// The ids the side image's containers take from the pod (`leaves` says which they leave to
/// it), where the pod, set for `main`, holds another than the side image's replacement wants.
fn inherited(
    image: &ValuesImage<'_, '_>,
    entry: &Entry,
    main: &Entry,
    leaves: impl Fn(&str) -> bool,
) -> Vec<Inherited> {
    [
        ("runAsUser", entry.hardened.uid(), main.hardened.uid()),
        ("runAsGroup", entry.hardened.gid(), main.hardened.gid()),
    ]
    .into_iter()
    .filter_map(|(id, wanted, inherited)| {
        let (wanted, inherited) = (wanted?, inherited?);
        (wanted != inherited && leaves(id) && pod_sets(image.component, id)).then_some(Inherited {
            id,
            wanted,
            inherited,
        })
    })
    .collect()
}

/// An id a side image's containers leave to the pod, which holds the main image's.
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

/// A side image's containers that leave ids to the pod, which the component's walk sets to the
/// main image's replacement's: through `block` (their own security context, which lacks them),
/// or with no security context at all.
fn inherits(
    block: Option<&str>,
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
    let at = format!("{}:{}", container.template, container.line);
    let (lead, suggestion) = match block {
        Some(path) => (
            format!(
                "`{path}` sets no {names}, so the containers of `{}` ({at})",
                image.path
            ),
            format!("add {add} to `{path}`"),
        ),
        None => (
            format!(
                "the containers of `{}` ({at}) have no security context, so they",
                image.path
            ),
            format!("give them a security context with {add} (the chart's templates write none)"),
        ),
    };
    Diagnostic::report(
        Rule::SecurityContextUnset,
        image.key_range.clone(),
        format!(
            "{lead} run with the pod's, which hardport sets to the component's main image's ({pod}); their replacement {} runs with {wanted}",
            entry.replacement
        ),
    )
    .suggest(suggestion)
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
