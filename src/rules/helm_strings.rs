//! `helm-image` in strings: container lists a chart renders from a string value.
//!
//! ## What it does
//! Many charts take extra containers, init containers or whole manifests as a string that the
//! templates render with `tpl` (`extraContainers: |`, `sidecars: |`). The images in those
//! strings run like any other: every `image: <reference>` line of a multi-line string value
//! that the catalog maps is moved to its replacement, with the tag policy of every other
//! image. In a block scalar (`|` or `>`) the reference is edited where it is written, which
//! changes nothing else of the string.
//!
//! ## Why
//! An image in a string is invisible to a tool that reads only keys, so the migrated chart
//! would still run it, and `--check` would pass.
//!
//! ## What it leaves alone, and says so
//! A reference built from template expressions (`{{ … }}`) or variables, and one in a quoted
//! or plain multi-line string (escapes and line folding make its bytes differ from its value):
//! `unresolved-image`, to change by hand. The container's security context and probes inside
//! the string are not read.
//!
//! ## Example
//! ```yaml
//! extraContainers: |                     extraContainers: |
//!   - name: proxy                          - name: proxy
//!     image: nginx:1.27-alpine     →         image: reg.mini.dev/nginx:1.27
//! ```
//!
//! ## Fix safety
//! Safe: only the reference's bytes inside the block scalar change, and an image reference
//! holds no character a block scalar gives a meaning to. A second run finds the replacement
//! and changes nothing.

use std::ops::Range;

use crate::catalog::Catalog;
use crate::diagnostic::{Diagnostic, Edit, Fix, ImageRewrite};
use crate::helm::{Mapped, Resolution, Values, resolve_reference};
use crate::rules::{Context, Rule};
use crate::yaml::{ScalarStyle, Stream};

pub fn check(
    stream: &Stream<'_>,
    values: &Values<'_, '_>,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    values.document.visit(&mut |path, node| {
        let Some(scalar) = node.as_scalar() else {
            return;
        };
        if !scalar.value.contains('\n') {
            return;
        }
        let editable = matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded);
        // A block string's lines are its value's, where they are written; in another string
        // escapes and folding make them differ, so its value is read and the whole string
        // pointed at.
        let references = match editable {
            true => image_lines(stream.text(), node.range.clone()),
            false => image_lines(&scalar.value, 0..scalar.value.len())
                .into_iter()
                .map(|reference| Reference {
                    range: node.range.clone(),
                    ..reference
                })
                .collect(),
        };
        for reference in references {
            diagnostics.extend(migrate(
                &path.to_string(),
                reference,
                editable,
                context.catalog,
            ));
        }
    });
    diagnostics
}

/// One `image:` value in a string, with where its bytes are in the file.
struct Reference<'t> {
    text: &'t str,
    range: Range<usize>,
}

/// The `image: <reference>` lines of `text` within `range`.
fn image_lines(text: &str, range: Range<usize>) -> Vec<Reference<'_>> {
    let Some(source) = text.get(range.clone()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut offset = range.start;
    for line in source.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_start().trim_start_matches("- ").trim_start();
        let Some(value) = content.strip_prefix("image:") else {
            continue;
        };
        let value = value.trim();
        let value = value.split(" #").next().unwrap_or(value).trim_end();
        let unquoted = value.trim_matches(|c| c == '"' || c == '\'');
        if unquoted.is_empty() {
            continue;
        }
        let Some(at) = line.find(unquoted) else {
            continue;
        };
        found.push(Reference {
            text: unquoted,
            range: start + at..start + at + unquoted.len(),
        });
    }
    found
}

fn migrate(
    path: &str,
    reference: Reference<'_>,
    editable: bool,
    catalog: &Catalog,
) -> Option<Diagnostic> {
    let written = reference.text;
    if written.contains("{{") || written.contains('$') {
        return None;
    }
    let Resolution::Migrating(mapped) = resolve_reference(written, catalog, true) else {
        return None;
    };
    let new = new_reference(&mapped);
    if !editable {
        return Some(
            Diagnostic::report(
                Rule::UnresolvedImage,
                reference.range,
                format!(
                    "`{path}` is a string that runs `{written}`, which catalog entry `{}` replaces with `{new}`; hardport edits images in block strings (`|`, `>`) only",
                    mapped.entry.name
                ),
            )
            .suggest("change it by hand"),
        );
    }
    let message = format!(
        "`{path}` (a string the chart renders): `{written}` → `{new}` (catalog entry `{}`)",
        mapped.entry.name
    );
    let rewrite = ImageRewrite {
        from: written.to_owned(),
        to: new.clone(),
        entry: mapped.entry.name.clone(),
    };
    Some(
        Diagnostic::fixed(
            Rule::HelmImage,
            reference.range.clone(),
            message,
            Fix::single(Edit::replace(reference.range, new)),
        )
        .rewrites_image(rewrite),
    )
}

fn new_reference(mapped: &Mapped<'_>) -> String {
    match &mapped.tag {
        Some(tag) => format!("{}:{}", mapped.entry.replacement, tag.tag),
        None => mapped.entry.replacement.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{has, run_values};

    #[test]
    fn images_in_a_block_string_move_and_the_rest_of_it_stays() {
        let (text, messages) = run_values(
            "extraContainers: |\n  - name: proxy\n    image: \"nginx:1.27-alpine\" # the proxy\n    args: [--port, \"80\"]\n  - name: other\n    image: busybox\n",
            None,
        );
        assert_eq!(
            text,
            "extraContainers: |\n  - name: proxy\n    image: \"reg.example.dev/nginx:1.27\" # the proxy\n    args: [--port, \"80\"]\n  - name: other\n    image: busybox\n"
        );
        assert!(
            has(
                &messages,
                "helm-image: `extraContainers` (a string the chart renders): `nginx:1.27-alpine` → `reg.example.dev/nginx:1.27`"
            ),
            "{messages:?}"
        );
    }

    #[test]
    fn a_quoted_string_and_templated_references_are_not_edited() {
        let values = "sidecars: \"- name: a\\n  image: nginx:1.27\\n\"\nmore: |\n  image: {{ .Values.image }}\n";
        let (text, messages) = run_values(values, None);
        assert_eq!(text, values);
        assert!(
            has(
                &messages,
                "unresolved-image: `sidecars` is a string that runs `nginx:1.27`"
            ),
            "{messages:?}"
        );
    }
}
