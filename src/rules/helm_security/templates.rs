//! What the chart's templates say about a security-context block: whose containers render it,
//! and whether filling it would switch off defaults the templates write while it is empty.

use crate::helm::SECURITY_CONTEXT_KEYS;
use crate::helm::chart::Chart;
use crate::helm::fallbacks::Fallback;
use crate::helm::templates::TemplateContainer;

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
/// `image`. A container whose image the scan could not place counts for nobody.
pub(super) fn owner(chart: &Chart, path: &str, image: &str) -> Owner {
    let mut readers = chart
        .containers
        .iter()
        .filter(|container| container.reads_key(path) && !container.images.is_empty())
        .peekable();
    if readers.peek().is_some() && readers.all(|container| !container.images.contains(image)) {
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
