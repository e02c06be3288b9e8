//! `subchart-image` and `subchart-not-vendored`: move the images an umbrella chart's
//! dependencies run, through the parent's values.
//!
//! ## What it does
//! For each dependency of the chart (`Chart.yaml` `dependencies`) that comes from a chart
//! repository or registry, is enabled (its `condition` is not `false` in this values file) and
//! is vendored under `charts/` (a directory or the `.tgz` `helm dependency build` leaves),
//! hardport reads the subchart's own `values.yaml`
//! and finds its images as it does in any values file. Each image the catalog maps is what the
//! subchart renders with this file's overrides merged over its defaults (under the dependency's
//! `alias`, else its `name`), so this file gets the keys that move it, in the subchart's
//! layout: `registry` and `repository` apart when the subchart has a `registry` key (its
//! default `docker.io` would otherwise still be rendered in front of the replacement), the tag
//! policy applied to the subchart's default tag (`17.6.0-debian-12-r4` → `17.6.0`), and a
//! non-empty digest cleared. Keys the file already has are edited in place; the others are
//! added, under the dependency's key, creating the mappings on the way. An image whose tag is
//! empty renders the subchart's `appVersion`; when the replacement does not publish that tag
//! as such, `app-version-tag` names the tag to set.
//!
//! The vendored copy itself is left alone (`helm dependency build` replaces it; see
//! `hardport migrate`'s skipped files), so what the parent's values say does not depend on the
//! order files are migrated in. A local dependency (`file://…`, or no repository) is the
//! repository's own source: its values file is migrated where it is, and nothing is added to
//! the parent for it.
//!
//! A dependency that is not vendored is `subchart-not-vendored`: hardport cannot see which
//! images it runs, and says which values to set (a `common` library chart, Bitnami's or
//! bjw-s's, which runs nothing, is passed over). A Bitnami subchart that ends up running a replacement needs
//! `global.security.allowInsecureImages: true` in this file (`allow-insecure-images`).
//!
//! ## Why
//! Umbrella charts with Bitnami dependencies are the normal case. Editing the vendored copy is
//! lost on the next `helm dependency build`; overriding only `repository` in the parent leaves
//! the subchart's `registry: docker.io` in front of it, and the pod pulls
//! `docker.io/reg.mini.dev/...`, which does not exist.
//!
//! ## What it leaves alone, and says so
//! Images in lists (`sidecars[0].image`), which an override replaces whole, and images whose
//! keys are spread over the component (`image` and `imageTag`) are `unresolved-image`, as is an
//! override this file makes in another shape than the subchart's (a string where the subchart
//! has a mapping). `global.imageRegistry` set in this file wins over every registry and is
//! reported, not rewritten. The ids a subchart's defaults write for the component of an image
//! it moves (`securityContext.runAsUser: 65534` in Prometheus' subcharts) are not set for it:
//! each one that differs from the replacement's, and that this file does not override, is a
//! `security-context-unset` warning naming the key to set (`alertmanager.securityContext.
//! runAsUser`).
//!
//! ## Example
//! ```yaml
//! # charts/postgresql-16.0.0.tgz: image: {registry: docker.io, repository: bitnami/postgresql,
//! #                                       tag: 17.6.0-debian-12-r4}
//! postgresql:                       postgresql:
//!   auth:                             auth:
//!     database: app                     database: app
//!                                     image:
//!                                       registry: reg.mini.dev
//!                                       repository: bitnami/postgresql
//!                                       tag: 17.6.0
//! ```
//!
//! ## Fix safety
//! Safe: keys are added or scalars edited under the dependency's key only, and what they name
//! is what the subchart would render with the replacement. Once written, the merged image is
//! the replacement and a second run changes nothing.

use std::collections::{BTreeMap, HashSet};

use crate::catalog::Catalog;
use crate::diagnostic::{Diagnostic, Edit, Fix, ImageRewrite};
use crate::helm::subchart::{Dependency, Vendored};
use crate::helm::{Mapped, Resolution, Shape, Values, deref, resolve_reference};
use crate::rules::{Context, Pin, Rule, pin_digest};
use crate::yaml::{self, Document, NewValue, Node, NodeKind, Stream};

/// What the subcharts of a values file's chart come to.
#[derive(Debug, Default)]
pub struct Subcharts {
    pub diagnostics: Vec<Diagnostic>,
    /// The image paths of this file that override a subchart's image: this rule handles them.
    pub owned: HashSet<String>,
    /// Whether a Bitnami subchart ends up running a replacement.
    pub bitnami_runs_replacement: bool,
}

pub fn check(stream: &Stream<'_>, values: &Values<'_, '_>, context: Context<'_>) -> Subcharts {
    let mut subcharts = Subcharts::default();
    let Some(chart) = context.chart() else {
        return subcharts;
    };
    let root = &values.document.root;
    for dependency in &chart.dependencies {
        // A local subchart is the repository's own source: its values file is migrated
        // where it is, like any other.
        if !dependency.is_remote()
            || dependency.is_common_library()
            || !enabled(values.document, dependency)
        {
            continue;
        }
        match &dependency.vendored {
            Some(vendored) => {
                migrate(
                    stream,
                    values.document,
                    dependency,
                    vendored,
                    context,
                    &mut subcharts,
                );
            }
            None => subcharts
                .diagnostics
                .push(not_vendored(values.document, root, dependency)),
        }
    }
    subcharts
}

/// Whether the dependency's `condition` leaves it on: the first of its paths that is a boolean
/// in this file decides; none (or no condition) leaves it on.
fn enabled(document: &Document, dependency: &Dependency) -> bool {
    let Some(condition) = &dependency.condition else {
        return true;
    };
    condition
        .split(',')
        .map(str::trim)
        .find_map(|path| {
            let node = at_path(document, &keys(path))?;
            match node
                .as_scalar()
                .filter(|scalar| !scalar.is_string())?
                .value
                .as_str()
            {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            }
        })
        .unwrap_or(true)
}

fn not_vendored(document: &Document, root: &Node, dependency: &Dependency) -> Diagnostic {
    let key = dependency.key();
    let at = at_path(document, &[key.to_owned()])
        .map_or(root.range.start..root.range.start, |node| {
            node.range.clone()
        });
    Diagnostic::report(
        Rule::SubchartNotVendored,
        at,
        format!(
            "dependency `{}` ({}) is not vendored under charts/, so hardport cannot see which images it runs",
            dependency.name,
            if dependency.repository.is_empty() { "no repository" } else { &dependency.repository }
        ),
    )
    .suggest(format!(
        "run `helm dependency build` and hardport again, or set its images under `{key}` to their replacements yourself, in the layout the dependency's values.yaml gives them"
    ))
}

/// The keys of a dotted path.
fn keys(path: &str) -> Vec<String> {
    path.split('.')
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The node at `keys` from the root, aliases followed.
fn at_path<'d>(document: &'d Document, keys: &[String]) -> Option<&'d Node> {
    keys.iter()
        .try_fold(&document.root, |node, key| deref(document, node).get(key))
        .map(|node| deref(document, node))
}

/// Whether the path `keys` of this file goes through an alias, or ends at a mapping one of
/// whose image fields is one.
fn crosses_alias(document: &Document, keys: &[String]) -> bool {
    let is_alias = |node: &Node| matches!(node.kind, NodeKind::Alias(_));
    let mut node = &document.root;
    for key in keys {
        if is_alias(node) {
            return true;
        }
        match node.get(key) {
            Some(child) => node = child,
            None => return false,
        }
    }
    is_alias(node)
        || FIELD_KEYS
            .iter()
            .any(|field| node.get(field).is_some_and(is_alias))
}

/// The node of the longest prefix of `keys` this file has (the root when it has none): where
/// a finding about a key it lacks points.
fn deepest<'d>(document: &'d Document, keys: &[String]) -> &'d Node {
    let mut node = deref(document, &document.root);
    for key in keys {
        match node.get(key) {
            Some(child) => node = deref(document, child),
            None => break,
        }
    }
    node
}

/// The image keys a subchart's image mapping may have, in the order they are written back.
const FIELD_KEYS: [&str; 5] = ["registry", "repository", "tag", "version", "digest"];

/// Migrate the images of one vendored subchart through this file.
fn migrate(
    stream: &Stream<'_>,
    document: &Document,
    dependency: &Dependency,
    vendored: &Vendored,
    context: Context<'_>,
    subcharts: &mut Subcharts,
) {
    let catalog = context.catalog;
    let Ok(sub_stream) = yaml::parse(&vendored.values) else {
        return;
    };
    let Some(sub_document) = sub_stream.documents.first() else {
        return;
    };
    let sub_values = crate::helm::values(sub_document, catalog, None);
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    for image in &sub_values.images {
        if !seen.insert(image.path.clone()) {
            continue;
        }
        let path = format!("{}.{}", dependency.key(), image.path);
        let at = at_path(document, &keys(&path));
        let range = deepest(document, &keys(&path)).range.clone();
        let describe = |what: String| {
            format!(
                "`{path}` (subchart `{}`, {}): {what}",
                dependency.name, vendored.location
            )
        };
        if image.path.contains('[') {
            if matches!(image.resolution, Resolution::Migrating(_)) {
                subcharts.diagnostics.push(
                    Diagnostic::report(
                        Rule::UnresolvedImage,
                        range,
                        describe("an image in a list, which an override replaces whole".into()),
                    )
                    .suggest(format!("set the whole list under `{path}` yourself")),
                );
            }
            continue;
        }
        let Some(sub_node) = at_path(sub_document, &keys(&image.path)) else {
            continue;
        };
        if image.resolution.entry().is_some() && crosses_alias(document, &keys(&path)) {
            // An edit there would change the anchor, and every other setting that uses it.
            subcharts.owned.insert(path.clone());
            subcharts.diagnostics.push(
                Diagnostic::report(
                    Rule::NotEditable,
                    range,
                    describe("this file reaches it through an alias; hardport does not edit an anchor other settings share".into()),
                )
                .suggest(format!("set `{path}` to the replacement by hand")),
            );
            continue;
        }
        let split = matches!(&image.shape, Shape::Fields(fields) if fields.mapping.is_none());
        let merged = match split {
            // `image: repo` with its tag beside it (`imageVersion`): an override of the string
            // alone would need the tag key too, in the subchart's component.
            true => Err("its tag is a key beside the image string; hardport overrides image mappings and whole strings only".to_owned()),
            false => merged_image(document, sub_node, at),
        };
        let merged = match merged {
            Ok(merged) => merged,
            Err(why) => {
                // What this file sets there is not an image the subchart reads as one: the
                // report is all, no other rule edits it.
                if image.resolution.entry().is_some() {
                    subcharts.owned.insert(path.clone());
                    subcharts.diagnostics.push(Diagnostic::report(
                        Rule::UnresolvedImage,
                        range,
                        describe(why),
                    ));
                }
                continue;
            }
        };
        if global_registry(document).is_some() {
            if image.resolution.entry().is_some() {
                subcharts.diagnostics.push(Diagnostic::report(
                    Rule::UnresolvedImage,
                    range,
                    describe("global.imageRegistry overrides its registry; hardport does not rewrite a registry all images share".into()),
                ));
            }
            continue;
        }
        match resolve_reference(&merged.text(), catalog, merged.tag_written()) {
            Resolution::Migrating(mapped) => {
                subcharts.owned.insert(path.clone());
                subcharts.bitnami_runs_replacement |= dependency.is_bitnami();
                subcharts.diagnostics.extend(app_version_tag(
                    &mapped,
                    vendored,
                    range.clone(),
                    &describe,
                ));
                if image.is_main {
                    subcharts.diagnostics.extend(contexts::kept_ids(
                        document,
                        dependency.key(),
                        &sub_values,
                        image,
                        mapped.entry,
                        &range,
                    ));
                }
                let digest = match context.pin {
                    Pin::Off => None,
                    Pin::FromLock => match pinned(&merged, &mapped, catalog, range.clone()) {
                        Ok(digest) => Some(digest),
                        Err(diagnostic) => {
                            subcharts.diagnostics.push(*diagnostic);
                            None
                        }
                    },
                };
                let writes = merged.writes(&mapped, digest);
                plan.add(stream, document, &path, &writes, range.clone());
                plan.images.push((
                    range,
                    describe(format!(
                        "`{}` → `{}` (catalog entry `{}`)",
                        mapped.image,
                        new_reference(&mapped),
                        mapped.entry.name
                    )),
                    ImageRewrite {
                        from: mapped.image.to_string(),
                        to: new_reference(&mapped),
                        entry: mapped.entry.name.clone(),
                    },
                ));
            }
            Resolution::Hardened { .. } => {
                subcharts.owned.insert(path);
                subcharts.bitnami_runs_replacement |= dependency.is_bitnami();
            }
            _ => {}
        }
    }
    subcharts.diagnostics.extend(plan.diagnostics(stream));
}

/// With `--pin`: the digest the lock holds for the replacement the subchart will render, when
/// its image can carry one (a string, or a mapping with a `digest` key, as Bitnami's).
fn pinned<'c>(
    merged: &Merged<'_>,
    mapped: &Mapped<'_>,
    catalog: &'c Catalog,
    range: std::ops::Range<usize>,
) -> Result<&'c str, Box<Diagnostic>> {
    let reference = new_reference(mapped);
    if let Merged::Fields(fields) = merged
        && !fields.iter().any(|field| field.key == "digest")
    {
        return Err(Box::new(Diagnostic::report(
            Rule::UnresolvedImage,
            range,
            format!("`--pin`: `{reference}` cannot be pinned by digest: the subchart's image mapping has no `digest` key"),
        )
        .suggest("pin it by hand once you have verified the image")));
    }
    pin_digest::locked_digest(catalog, &reference, range)
}

/// An image whose tag is empty renders the subchart's `appVersion`: say so when the
/// replacement's tag for it differs (a distro suffix the replacement does not publish).
fn app_version_tag(
    mapped: &Mapped<'_>,
    vendored: &Vendored,
    range: std::ops::Range<usize>,
    describe: &dyn Fn(String) -> String,
) -> Option<Diagnostic> {
    if mapped.tag.is_some() {
        return None;
    }
    let app_version = vendored.app_version.as_deref()?;
    let wanted = mapped.entry.replacement_tag(Some(app_version)).tag;
    (wanted != app_version).then(|| {
        Diagnostic::report(
            Rule::AppVersionTag,
            range,
            describe(format!(
                "no tag, so the subchart renders its appVersion `{app_version}`, which {} does not publish as such",
                mapped.entry.replacement
            )),
        )
        .suggest(format!("set the tag to `{wanted}`"))
    })
}

fn new_reference(mapped: &Mapped<'_>) -> String {
    match &mapped.tag {
        Some(tag) => format!("{}:{}", mapped.entry.replacement, tag.tag),
        None => mapped.entry.replacement.clone(),
    }
}

/// `global.imageRegistry` of this file, when set.
fn global_registry(document: &Document) -> Option<&str> {
    at_path(document, &keys("global.imageRegistry"))
        .and_then(Node::value)
        .filter(|registry| !registry.is_empty())
}

/// An image as the subchart renders it with this file's overrides.
#[derive(Debug)]
enum Merged<'d> {
    /// A string image: this file's when it sets one, else the subchart's.
    Reference {
        text: String,
        here: Option<&'d Node>,
    },
    /// An image mapping: per key, this file's value when it sets one, else the subchart's.
    Fields(Vec<Field<'d>>),
}

#[derive(Debug)]
struct Field<'d> {
    key: &'static str,
    /// The subchart's default.
    default: String,
    /// This file's node for the key, when it sets one.
    here: Option<&'d Node>,
    value: String,
}

fn merged_image<'d>(
    document: &'d Document,
    sub: &Node,
    here: Option<&'d Node>,
) -> Result<Merged<'d>, String> {
    if let Some(scalar) = sub.as_scalar() {
        return match here {
            Some(node) if node.as_scalar().is_none() => {
                Err("this file sets a mapping where the subchart has a string image".into())
            }
            Some(node) => Ok(Merged::Reference {
                text: node.value().unwrap_or_default().to_owned(),
                here: Some(node),
            }),
            None => Ok(Merged::Reference {
                text: scalar.value.clone(),
                here: None,
            }),
        };
    }
    if sub.get("repository").is_none() {
        return Err("its keys are spread over the component; hardport overrides image mappings and strings only".into());
    }
    if let Some(node) = here
        && node.as_mapping().is_none()
    {
        return Err("this file sets a string where the subchart has an image mapping".into());
    }
    let mut fields = Vec::new();
    for key in FIELD_KEYS {
        let Some(default) = sub.get(key) else {
            continue;
        };
        let default = default.value().unwrap_or_default().to_owned();
        let here = here
            .and_then(|node| node.get(key))
            .map(|node| deref(document, node));
        let value = match here {
            Some(node) => match node.value() {
                Some(value) => value.to_owned(),
                None => return Err(format!("`{key}` is not a scalar here")),
            },
            None => default.clone(),
        };
        fields.push(Field {
            key,
            default,
            here,
            value,
        });
    }
    Ok(Merged::Fields(fields))
}

impl Merged<'_> {
    fn field(&self, key: &str) -> Option<&str> {
        match self {
            Merged::Fields(fields) => fields
                .iter()
                .find(|field| field.key == key)
                .map(|field| field.value.as_str())
                .filter(|value| !value.is_empty() && *value != "null" && *value != "~"),
            Merged::Reference { .. } => None,
        }
    }

    /// The reference the subchart renders (Bitnami's `common.images.image`: registry, then
    /// repository, then `:tag`, a non-empty digest after `@`).
    fn text(&self) -> String {
        match self {
            Merged::Reference { text, .. } => text.clone(),
            Merged::Fields(_) => {
                let mut text = self
                    .field("registry")
                    .map_or_else(String::new, |registry| format!("{registry}/"));
                text.push_str(self.field("repository").unwrap_or_default());
                if let Some(tag) = self.field("tag").or_else(|| self.field("version")) {
                    text.push(':');
                    text.push_str(tag);
                }
                if let Some(digest) = self.field("digest") {
                    text.push('@');
                    text.push_str(digest);
                }
                text
            }
        }
    }

    fn tag_written(&self) -> bool {
        match self {
            Merged::Reference { .. } => true,
            Merged::Fields(_) => self
                .field("tag")
                .or_else(|| self.field("version"))
                .is_some(),
        }
    }

    /// What this file must hold for the subchart to render `mapped`'s replacement: per key, the
    /// new text, and this file's node for it when it has one.
    fn writes(&self, mapped: &Mapped<'_>, digest: Option<&str>) -> Vec<Write<'_>> {
        match self {
            Merged::Reference { here, .. } => vec![Write {
                key: None,
                here: *here,
                value: match digest {
                    Some(digest) => format!("{}@{digest}", new_reference(mapped)),
                    None => new_reference(mapped),
                },
            }],
            Merged::Fields(fields) => {
                let has_registry = fields.iter().any(|field| field.key == "registry");
                let mut writes = Vec::new();
                for field in fields {
                    let value = match field.key {
                        "registry" => mapped
                            .replacement
                            .registry
                            .clone()
                            .unwrap_or_else(|| "docker.io".into()),
                        "repository" if has_registry => mapped.replacement.path.clone(),
                        "repository" => mapped.entry.replacement.clone(),
                        "tag" | "version" => match &mapped.tag {
                            Some(tag) => tag.tag.clone(),
                            None => continue,
                        },
                        _ => match digest {
                            Some(digest) => digest.to_owned(),
                            None if field.value.is_empty() => continue,
                            None => String::new(),
                        },
                    };
                    let unchanged = match field.here {
                        Some(node) => node.value() == Some(value.as_str()),
                        None => field.default == value,
                    };
                    if !unchanged {
                        writes.push(Write {
                            key: Some(field.key),
                            here: field.here,
                            value,
                        });
                    }
                }
                writes
            }
        }
    }
}

/// One value this file must hold: at the image's path (`key` `None`) or under it.
#[derive(Debug)]
struct Write<'d> {
    key: Option<&'static str>,
    here: Option<&'d Node>,
    value: String,
}

/// Entries to add to one existing mapping.
#[derive(Debug)]
struct Insert<'d> {
    mapping: &'d Node,
    entries: Vec<(String, NewValue)>,
}

/// The edits of one subchart's images, made as one fix: several images may add keys to the
/// same mapping, and insertions at one place must be one edit.
#[derive(Debug, Default)]
struct Plan<'d> {
    edits: Vec<Edit>,
    /// Entries to add, by where the existing mapping they go into starts.
    inserts: BTreeMap<usize, Insert<'d>>,
    images: Vec<(std::ops::Range<usize>, String, ImageRewrite)>,
    failures: Vec<Diagnostic>,
}

impl<'d> Plan<'d> {
    fn add(
        &mut self,
        stream: &Stream<'_>,
        document: &'d Document,
        path: &str,
        writes: &[Write<'_>],
        range: std::ops::Range<usize>,
    ) {
        for write in writes {
            if let Some(node) = write.here {
                match stream.replace_scalar(node, &NewValue::string(&write.value)) {
                    Ok(edit) => self.edits.push(edit),
                    Err(error) => self.failures.push(Diagnostic::report(
                        Rule::NotEditable,
                        range.clone(),
                        format!("set `{path}` to the replacement by hand ({error})"),
                    )),
                }
                continue;
            }
            let mut full = keys(path);
            full.extend(write.key.map(str::to_owned));
            let leaf = NewValue::string(&write.value);
            self.insert(document, &full, leaf, path, range.clone());
        }
    }

    /// Add `leaf` at `keys`, under the deepest mapping of the path that exists.
    fn insert(
        &mut self,
        document: &'d Document,
        keys: &[String],
        leaf: NewValue,
        path: &str,
        range: std::ops::Range<usize>,
    ) {
        let mut node = deref(document, &document.root);
        let mut depth = 0;
        while depth + 1 < keys.len() {
            match node.get(&keys[depth]) {
                Some(child) => {
                    node = deref(document, child);
                    depth += 1;
                }
                None => break,
            }
        }
        if node.as_mapping().is_none() {
            self.failures.push(Diagnostic::report(
                Rule::NotEditable,
                range,
                format!("set `{path}` to the replacement by hand (`{}` is not a mapping hardport can add keys to)", keys[..depth].join(".")),
            ));
            return;
        }
        let value = keys[depth + 1..].iter().rev().fold(leaf, |value, key| {
            NewValue::Mapping(vec![(key.clone(), value)])
        });
        let insert = self
            .inserts
            .entry(node.range.start)
            .or_insert_with(|| Insert {
                mapping: node,
                entries: Vec::new(),
            });
        merge(&mut insert.entries, &keys[depth], value);
    }

    fn diagnostics(mut self, stream: &Stream<'_>) -> Vec<Diagnostic> {
        for Insert { mapping, entries } in self.inserts.values() {
            match stream.insert_entries(mapping, entries) {
                Ok(edits) => self.edits.extend(edits),
                Err(error) => self.failures.push(Diagnostic::report(
                    Rule::NotEditable,
                    mapping.range.clone(),
                    format!("add the subchart image keys by hand ({error})"),
                )),
            }
        }
        let mut diagnostics = self.failures;
        // Part of a subchart's images moved is a chart that runs what nobody chose: all of its
        // edits, or none and the reasons.
        if !diagnostics.is_empty() {
            return diagnostics;
        }
        let Some(fix) = Fix::new(self.edits) else {
            return diagnostics;
        };
        for (range, message, rewrite) in self.images {
            diagnostics.push(
                Diagnostic::fixed(Rule::SubchartImage, range, message, fix.clone())
                    .rewrites_image(rewrite),
            );
        }
        diagnostics
    }
}

/// Put `key: value` into `entries`, merging mappings that share a key.
fn merge(entries: &mut Vec<(String, NewValue)>, key: &str, value: NewValue) {
    match (
        entries.iter_mut().find(|(existing, _)| existing == key),
        value,
    ) {
        (Some((_, NewValue::Mapping(existing))), NewValue::Mapping(new)) => {
            for (key, value) in new {
                merge(existing, &key, value);
            }
        }
        (Some((_, existing)), value) => *existing = value,
        (None, value) => entries.push((key.to_owned(), value)),
    }
}

mod contexts;

#[cfg(test)]
mod tests;
