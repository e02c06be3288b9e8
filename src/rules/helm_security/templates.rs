//! What the chart's templates say about a security-context block: whose containers render it,
//! and whether filling it would switch off defaults the templates write while it is empty.

use std::collections::BTreeSet;

use crate::helm::chart::Chart;
use crate::helm::fallbacks::Fallback;

/// Whose containers the templates render a block into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Owner {
    /// Only containers of the component's image, or no container the scan can place.
    Component,
    /// Only containers of other images (nextcloud's `nextcloud.mariaDbInitContainer.
    /// securityContext` is the MariaDB init container's): not the component's to change.
    Others,
    /// Containers of the component's image and of these others (Argo CD's
    /// `dex.containerSecurityContext` also goes to the `copyutil` init container, which runs
    /// the argocd image): one image's ids would be written for both.
    Shared(Vec<String>),
}

/// Whose containers read the block at `path`, for the component whose main image is at
/// `image`. A container whose image the scan could not place counts for nobody.
pub(super) fn owner(chart: &Chart, path: &str, image: &str) -> Owner {
    let readers: Vec<_> = chart
        .containers
        .iter()
        .filter(|container| container.reads_key(path) && !container.images.is_empty())
        .collect();
    let (ours, others): (Vec<_>, Vec<_>) = readers
        .into_iter()
        .partition(|container| container.images.contains(image));
    match (ours.is_empty(), others.is_empty()) {
        (_, true) => Owner::Component,
        (true, false) => Owner::Others,
        (false, false) => {
            let shown: BTreeSet<String> = others
                .iter()
                .map(|container| {
                    let images: Vec<&str> = container.images.iter().map(String::as_str).collect();
                    format!(
                        "{} ({}:{})",
                        images.join(", "),
                        container.template,
                        container.line
                    )
                })
                .collect();
            Owner::Shared(shown.into_iter().collect())
        }
    }
}

/// The template test that falls back to the chart's own defaults while the block at `path` is
/// empty, if one does.
pub(super) fn fallback<'c>(chart: Option<&'c Chart>, path: &str) -> Option<&'c Fallback> {
    chart?.fallback_for(path)
}
