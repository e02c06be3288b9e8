//! `allow-insecure-images`: let a Bitnami chart render with a replacement image.
//!
//! ## What it does
//! Since 2025 Bitnami charts refuse to render an image whose registry and repository are not
//! the ones their `Chart.yaml` lists under `annotations.images`, unless
//! `global.security.allowInsecureImages` is `true` (bitnami/charts,
//! `bitnami/common/templates/_errors.tpl`). When a values file of a Bitnami chart runs a
//! replacement, the rule sets that key, adding `global`, `security` or the key itself where
//! missing.
//!
//! A chart is a Bitnami chart when its `Chart.yaml` lists `annotations.images` or depends on
//! Bitnami's `common` chart, or when its values already hold the switch. A values file without
//! a `Chart.yaml` is also one when it names a `bitnami/*` image (or a replacement the catalog
//! gives for one); with a `Chart.yaml`, one Bitnami image (a `bitnami/kubectl` hook) does not
//! make a Bitnami chart.
//!
//! ## Why
//! Without the key, rendering the migrated values (`helm template`, `helm install`) stops at
//! the chart's image check: the chart cannot run the replacement at all.
//!
//! ## Example
//! ```yaml
//! global:                              global:
//!   security:                            security:
//!     allowInsecureImages: false   →       allowInsecureImages: true
//! ```
//!
//! ## Fix safety
//! Safe: the key only lifts the chart's image check, it changes nothing that is rendered.
//! Only charts whose values run a replacement get it; a value that is already `true` is left
//! as it is. Where the key cannot be set in place (`global:` null or an alias, the switch a
//! block scalar) the warning `not-editable` names the line to set by hand, so `--check` does
//! not pass without it.

use crate::diagnostic::{Diagnostic, Fix};
use crate::helm::{Resolution, Values, deref};
use crate::rules::{Context, Rule};
use crate::yaml::{NewValue, Node, Stream};

/// Bitnami's repositories on Docker Hub, as canonical repository names start.
const BITNAMI_PREFIX: &str = "docker.io/bitnami/";

const WHY: &str = "Bitnami charts refuse images their Chart.yaml does not list unless global.security.allowInsecureImages is true";

pub fn check(
    stream: &Stream<'_>,
    values: &Values<'_, '_>,
    context: Context<'_>,
    bitnami_subchart_runs_replacement: bool,
) -> Option<Diagnostic> {
    let substituted = values
        .images
        .iter()
        .any(|image| image.resolution.is_substituted());
    let runs_replacement =
        bitnami_subchart_runs_replacement || substituted && is_bitnami(values, context);
    if !runs_replacement {
        return None;
    }
    let root = &values.document.root;
    let Some(global) = root.get("global").map(|node| deref(values.document, node)) else {
        return add(
            stream,
            root,
            "global",
            nested(&["security", "allowInsecureImages"]),
        );
    };
    let Some(security) = global
        .get("security")
        .map(|node| deref(values.document, node))
    else {
        return add(stream, global, "security", nested(&["allowInsecureImages"]));
    };
    let Some(allow) = security.get("allowInsecureImages") else {
        return add(
            stream,
            security,
            "allowInsecureImages",
            NewValue::bool(true),
        );
    };
    let allow = deref(values.document, allow);
    if allow.value() == Some("true") {
        return None;
    }
    let message = format!(
        "global.security.allowInsecureImages: {} → true: {WHY}",
        allow.value().unwrap_or("…")
    );
    Some(match stream.replace_scalar(allow, &NewValue::bool(true)) {
        Ok(edit) => Diagnostic::fixed(
            Rule::AllowInsecureImages,
            allow.range.clone(),
            message,
            Fix::single(edit),
        ),
        Err(error) => cannot_edit(allow, &error.to_string()),
    })
}

/// Whether the chart is a Bitnami chart: its Chart.yaml says so, or its values already hold the
/// switch (so the chart reads it), or, for a values file without a Chart.yaml, its values name
/// `bitnami/*` images. A chart with a Chart.yaml that merely uses one Bitnami image (say
/// `bitnami/kubectl` for a hook) is not one: nothing in it verifies images.
fn is_bitnami(values: &Values<'_, '_>, context: Context<'_>) -> bool {
    let has_switch = values
        .document
        .root
        .lookup("global.security.allowInsecureImages")
        .is_some();
    match context.chart() {
        Some(chart) => chart.is_bitnami() || has_switch,
        None => has_switch || values.images.iter().any(names_bitnami_image),
    }
}

fn names_bitnami_image(image: &crate::helm::ValuesImage<'_, '_>) -> bool {
    match &image.resolution {
        Resolution::Unmapped { repository } => repository.starts_with(BITNAMI_PREFIX),
        resolution => resolution.entry().is_some_and(|entry| {
            entry
                .matches
                .iter()
                .any(|repository| repository.starts_with(BITNAMI_PREFIX))
        }),
    }
}

/// `{a: {b: true}}` for `["a", "b"]`.
fn nested(keys: &[&str]) -> NewValue {
    keys.iter().rev().fold(NewValue::bool(true), |value, key| {
        NewValue::Mapping(vec![((*key).to_owned(), value)])
    })
}

fn add(stream: &Stream<'_>, mapping: &Node, key: &str, value: NewValue) -> Option<Diagnostic> {
    let message = format!("global.security.allowInsecureImages: true (added): {WHY}");
    let range = mapping.range.start..mapping.range.start;
    Some(
        match stream
            .insert_entries(mapping, &[(key.to_owned(), value)])
            .map(Fix::new)
        {
            Ok(Some(fix)) => Diagnostic::fixed(Rule::AllowInsecureImages, range, message, fix),
            Ok(None) => return None,
            Err(error) => cannot_edit(mapping, &error.to_string()),
        },
    )
}

/// A warning, not this rule's info: the chart does not render the replacement until it is done.
fn cannot_edit(node: &Node, error: &str) -> Diagnostic {
    Diagnostic::report(
        Rule::NotEditable,
        node.range.clone(),
        format!("set global.security.allowInsecureImages: true by hand ({error}): {WHY}"),
    )
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::run_values;

    const BITNAMI_CHART: &str = "name: db\nannotations:\n  images: |\n    - name: postgresql\n      image: docker.io/bitnami/postgresql:17.6.0\n";

    #[test]
    fn false_becomes_true_when_a_replacement_runs() {
        let (text, messages) = run_values(
            "global:\n  security:\n    allowInsecureImages: false # verify\nimage:\n  repository: bitnami/postgresql\n  tag: \"17\"\n",
            None,
        );
        assert!(
            text.starts_with("global:\n  security:\n    allowInsecureImages: true # verify\n"),
            "{text}"
        );
        assert!(
            messages.iter().any(|m| m.starts_with(
                "allow-insecure-images: global.security.allowInsecureImages: false → true"
            )),
            "{messages:?}"
        );
    }

    /// `global:` left null cannot take keys in place: a warning names the line to set.
    #[test]
    fn a_global_that_cannot_take_the_key_is_a_not_editable_warning() {
        for global in ["global:\n", "global: &g\nother: *g\n", "global: [a]\n"] {
            let values =
                format!("{global}image:\n  repository: bitnami/postgresql\n  tag: \"17\"\n");
            let (text, messages) = run_values(&values, None);
            assert!(text.starts_with(global), "{text}");
            assert!(
                messages.iter().any(|m| m.starts_with(
                    "not-editable: set global.security.allowInsecureImages: true by hand"
                )),
                "{global:?}: {messages:?}"
            );
            assert!(
                !messages
                    .iter()
                    .any(|m| m.starts_with("allow-insecure-images")),
                "{messages:?}"
            );
        }
    }

    #[test]
    fn missing_levels_are_added_where_they_belong() {
        let (text, _) = run_values(
            "global:\n  imageRegistry: \"\"\nimage: nginx:1.27\n",
            Some(BITNAMI_CHART),
        );
        assert_eq!(
            text,
            "global:\n  imageRegistry: \"\"\n  security:\n    allowInsecureImages: true\nimage: reg.example.dev/nginx:1.27\n"
        );
    }

    #[test]
    fn a_chart_that_only_uses_a_bitnami_image_is_no_bitnami_chart() {
        let values = "hook:\n  image:\n    repository: bitnami/postgresql\n    tag: \"17\"\n";
        let (text, _) = run_values(values, Some("name: operator\nappVersion: 1.0.0\n"));
        assert!(!text.contains("allowInsecureImages"), "{text}");
        let (text, _) = run_values(values, None);
        assert!(text.contains("allowInsecureImages: true"), "{text}");
    }

    #[test]
    fn other_charts_and_charts_without_a_replacement_are_left_alone() {
        let plain = "image: nginx:1.27\n";
        let (text, _) = run_values(plain, None);
        assert_eq!(text, "image: reg.example.dev/nginx:1.27\n");
        let unmapped = "image:\n  repository: bitnami/os-shell\n";
        let (text, _) = run_values(unmapped, Some(BITNAMI_CHART));
        assert_eq!(text, unmapped);
    }
}
