//! Helm values: which images a values file names, how the chart renders each one, and the
//! component (the mapping around the image key) whose settings go with it.
//!
//! Recognized image shapes, the ones Renovate and the big chart families use:
//!
//! - a mapping under a key ending in `image` (any case: `image`, `initImage`,
//!   `metrics.image`) with `repository` and optional `registry`, `tag` (or `version`) and
//!   `digest`;
//! - mappings of that shape one level below such a key (KEDA: `image.keda.repository`);
//! - a string under such a key (`image: nginx:1.27`), or a repository string with its tag
//!   beside it under `<key>Tag` (Elastic: `image` and `imageTag`) or, for `image`, `tag`.
//!
//! The reference is resolved the way the chart renders it: a non-empty `global.imageRegistry`
//! wins over `image.registry` (Bitnami's `common.images.image`), a non-empty digest wins over
//! the tag, an empty tag is the chart's `appVersion`, and an empty `repository` takes
//! `global.image` (Argo CD).

pub mod chart;
pub mod fallbacks;
pub mod subchart;
pub mod templates;
pub mod verify;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;

use crate::catalog::{Catalog, Entry};
use crate::image_ref::{ImageRef, ReplacementTag, replacement_tag};
use crate::yaml::{Document, Node, NodeKind};

/// The settings keys under which charts expose a Kubernetes security context.
pub const SECURITY_CONTEXT_KEYS: [&str; 3] = [
    "podSecurityContext",
    "securityContext",
    "containerSecurityContext",
];

/// Every image of one values document.
#[derive(Debug)]
pub struct Values<'d, 'c> {
    pub document: &'d Document,
    pub images: Vec<ValuesImage<'d, 'c>>,
    /// The positions in `images` of each component's images, by the component's address: the
    /// settings walks ask, at every node, whether it is a component, and a file of thousands of
    /// components must not answer that with a scan of every image.
    by_component: HashMap<usize, Vec<usize>>,
}

/// One image a values document names.
#[derive(Debug)]
pub struct ValuesImage<'d, 'c> {
    /// The dotted path of the image's value (`primary.image`, `image.keda`).
    pub path: String,
    /// Where findings about the image point: its key.
    pub key_range: Range<usize>,
    pub shape: Shape<'d>,
    /// The mapping that holds the image key: its security context, paths and probes are the
    /// ones the image's container runs with.
    pub component: &'d Node,
    /// The dotted path of [`ValuesImage::component`] (empty for the document root).
    pub component_path: String,
    /// Whether this is the component's main image (its key is `image`), the one whose user the
    /// component's security context must match; `initImage`-like keys are side images.
    pub is_main: bool,
    pub resolution: Resolution<'c>,
}

/// How an image is written.
#[derive(Debug)]
pub enum Shape<'d> {
    /// `image: nginx:1.27`: the whole reference in one string.
    Reference(&'d Node),
    /// `image: {registry, repository, tag, digest}`.
    Fields(Fields<'d>),
}

/// The scalar nodes of an image mapping, aliases already followed (edits go to the anchor).
#[derive(Debug)]
pub struct Fields<'d> {
    pub registry: Option<&'d Node>,
    /// `repository`; `name` in a mapping without one (JupyterHub); `image` in a mapping that
    /// holds the repository there (ingress-nginx: `{registry, image, tag, digest}`).
    pub repository: &'d Node,
    /// `tag`, or `version` where a chart names it so.
    pub tag: Option<&'d Node>,
    pub digest: Option<&'d Node>,
    /// The image mapping the fields are entries of (`None` for a string with its tag beside
    /// it): where a missing `registry` is added.
    pub mapping: Option<&'d Node>,
    /// The registry the templates put in front of the repository when the mapping has none:
    /// `global.image.registry`, which ingress-nginx merges into every image.
    pub registry_default: Option<&'d Node>,
    /// A `name` beside an empty `repository` (cert-manager): the templates build the reference
    /// from values hardport does not place (`imageRegistry`, `imageNamespace`).
    pub name_beside_empty_repository: Option<&'d Node>,
}

/// What an image turns out to be.
#[derive(Debug)]
pub enum Resolution<'c> {
    /// A public image the catalog maps.
    Migrating(Box<Mapped<'c>>),
    /// Already the replacement of a catalog entry: `image` as the chart renders it.
    Hardened { entry: &'c Entry, image: ImageRef },
    /// An empty repository: the chart renders `global.image`, which this entry maps or is
    /// the replacement of. Only `global.image` itself is edited.
    Inherited(&'c Entry),
    /// An image the catalog does not map.
    Unmapped { repository: String },
    /// A reference hardport cannot rewrite safely; the message says why.
    Unresolved(String),
    /// Nothing to map: an empty or non-string value, or an empty repository with no
    /// `global.image` to take.
    Empty,
    /// An override of a vendored subchart's image: what it renders depends on the subchart's
    /// defaults too, so the `helm-subchart` rule reads and migrates it.
    InSubchart,
}

/// A mapped public image and what it becomes.
#[derive(Debug)]
pub struct Mapped<'c> {
    pub entry: &'c Entry,
    /// The reference as the chart renders it (empty tag left out).
    pub image: ImageRef,
    /// The replacement's tag; `None` when the values leave the tag empty (the chart's
    /// `appVersion` is rendered, and stays so).
    pub tag: Option<ReplacementTag>,
    /// The replacement repository split as an image reference (registry and path).
    pub replacement: ImageRef,
}

impl Mapped<'_> {
    /// The replacement's tag for a reference resolved with its tag written (a Compose, manifest,
    /// workflow or kustomization reference, where none is `latest`): the tag policy's.
    pub fn written_tag(&self) -> String {
        self.tag.as_ref().map_or_else(
            || self.entry.replacement_tag(None).tag,
            |tag| tag.tag.clone(),
        )
    }
}

impl<'c> Resolution<'c> {
    /// The catalog entry behind a mapped, hardened or inherited image.
    pub fn entry(&self) -> Option<&'c Entry> {
        match self {
            Resolution::Migrating(mapped) => Some(mapped.entry),
            Resolution::Hardened { entry, .. } | Resolution::Inherited(entry) => Some(entry),
            _ => None,
        }
    }

    /// Whether the chart will run the replacement once hardport is done: the image is
    /// migrated here or already is the replacement.
    pub fn is_substituted(&self) -> bool {
        matches!(self, Resolution::Migrating(_) | Resolution::Hardened { .. })
    }
}

impl<'d> Values<'d, '_> {
    /// Hand the images at `paths` to the `helm-subchart` rule: the other rules leave them.
    pub fn hand_over_to_subcharts(&mut self, paths: &HashSet<String>) {
        for image in &mut self.images {
            if paths.contains(&image.path) {
                image.resolution = Resolution::InSubchart;
            }
        }
    }

    /// The main images of the component `component` (compared by identity).
    pub fn main_images_of(&self, component: &Node) -> impl Iterator<Item = &ValuesImage<'d, '_>> {
        self.by_component
            .get(&address(component))
            .into_iter()
            .flatten()
            .filter_map(|&index| self.images.get(index))
            .filter(|image| image.is_main)
    }

    /// Whether `node` (a mapping) is the component of any image: a settings walk below another
    /// component stops there.
    pub fn is_component(&self, node: &Node) -> bool {
        self.by_component.contains_key(&address(node))
    }
}

/// A node that belongs to a component's settings, found by [`Values::walk_component`].
#[derive(Debug, Clone, Copy)]
pub struct Setting<'d, 'p> {
    /// Dotted path from the document root.
    pub path: &'p str,
    /// The mapping key the node is the value of (`None` for the component and sequence items).
    pub key: Option<&'d str>,
    pub node: &'d Node,
}

impl<'d> Values<'d, '_> {
    /// Calls `visit` with `component` and every node below it that configures the same
    /// container: the walk does not enter other images' components, `global`,
    /// `volumePermissions` (which runs its own image as root on purpose), or image values.
    pub fn walk_component(
        &self,
        component: &'d Node,
        path: &str,
        visit: &mut impl FnMut(Setting<'d, '_>),
    ) {
        visit(Setting {
            path,
            key: None,
            node: component,
        });
        self.walk_below(component, &mut path.to_owned(), visit);
    }

    /// [`Values::walk_component`] below `node`, whose path is `path`: one buffer holds the path
    /// of every node visited, extended on the way down and cut back on the way up, so the walk
    /// does not allocate a path per key.
    fn walk_below(
        &self,
        node: &'d Node,
        path: &mut String,
        visit: &mut impl FnMut(Setting<'d, '_>),
    ) {
        let parent = path.len();
        for entry in node.entries() {
            let Some(key) = entry.key.value() else {
                continue;
            };
            let own_settings = key == "global"
                || key.eq_ignore_ascii_case("volumePermissions")
                || is_image_key(key)
                || self.is_component(&entry.value);
            if own_settings {
                continue;
            }
            if parent > 0 {
                path.push('.');
            }
            path.push_str(key);
            self.visit_child(&entry.value, Some(key), path, visit);
            path.truncate(parent);
        }
        for (index, item) in node.items().iter().enumerate() {
            if self.is_component(item) {
                continue;
            }
            let _ = write!(path, "[{index}]");
            self.visit_child(item, None, path, visit);
            path.truncate(parent);
        }
    }

    /// Visits `child`, whose path is `path`, and the nodes below it.
    fn visit_child(
        &self,
        child: &'d Node,
        key: Option<&'d str>,
        path: &mut String,
        visit: &mut impl FnMut(Setting<'d, '_>),
    ) {
        visit(Setting {
            path,
            key,
            node: child,
        });
        self.walk_below(child, path, visit);
    }

    /// The components whose main image the catalog maps (or that already run a replacement),
    /// each once, with that image's entry. `global` is nobody's component, and
    /// `volumePermissions` keeps its settings (it runs as root on purpose).
    pub fn mapped_components(&self) -> Vec<(&ValuesImage<'d, '_>, &Entry)> {
        let mut components: Vec<(&ValuesImage<'d, '_>, &Entry)> = Vec::new();
        let mut seen = HashSet::new();
        for image in &self.images {
            let Some(entry) = image.resolution.entry().filter(|_| image.is_main) else {
                continue;
            };
            let last_key = image.component_path.rsplit('.').next().unwrap_or_default();
            if image.component_path == "global"
                || last_key.eq_ignore_ascii_case("volumePermissions")
                || !seen.insert(address(image.component))
            {
                continue;
            }
            components.push((image, entry));
        }
        components
    }
}

/// Reads the images of `document`.
///
/// A `registry` key the chart's templates never read (`chart` known, with templates) is not
/// part of the image: nextcloud renders `nginx.image` as `repository:tag` whatever `registry`
/// says, so the image is what `repository` names, and the replacement goes whole into it.
pub fn values<'d, 'c>(
    document: &'d Document,
    catalog: &'c Catalog,
    chart: Option<&chart::Chart>,
) -> Values<'d, 'c> {
    let read_registry = |path: &str| {
        !chart.is_some_and(|chart| chart.templates_ignore(&join_key(path, "registry")))
    };
    let globals = Globals::of(document, catalog);
    let registry_default = global_image_registry(document);
    let mut images = Vec::new();
    // Image mappings read through their `image` key: that key is their repository, not an
    // image of its own.
    let mut claimed: HashSet<usize> = HashSet::new();
    document.visit(&mut |path, node| {
        let is_claimed = claimed.contains(&address(node));
        for entry in node.entries() {
            let Some(key) = entry.key.value() else {
                continue;
            };
            if is_images_key(key) {
                let component_path = path.to_string();
                for nested in deref(document, &entry.value).entries() {
                    let value = deref(document, &nested.value);
                    let fields = match fields(document, value) {
                        Some(fields) => fields,
                        None => match image_fields(document, value, registry_default) {
                            Some(fields) => {
                                claimed.insert(address(value));
                                fields
                            }
                            None => continue,
                        },
                    };
                    let shape = Shape::Fields(fields);
                    images.push(ValuesImage {
                        resolution: globals.resolve(&shape, catalog),
                        path: join_key(
                            &join_key(&component_path, key),
                            nested.key.value().unwrap_or("?"),
                        ),
                        key_range: nested.key.range.clone(),
                        shape,
                        component: node,
                        component_path: component_path.clone(),
                        is_main: false,
                    });
                }
                continue;
            }
            if !is_image_key(key) || (is_claimed && key == "image") {
                continue;
            }
            let component_path = path.to_string();
            let child_path = join_key(&component_path, key);
            let value = deref(document, &entry.value);
            let found = |path: String, key: &Node, shape: Shape<'d>, is_main: bool| {
                let shape = match shape {
                    Shape::Fields(fields) if !read_registry(&path) => Shape::Fields(Fields {
                        registry: None,
                        ..fields
                    }),
                    shape => shape,
                };
                ValuesImage {
                    resolution: globals.resolve(&shape, catalog),
                    path,
                    key_range: key.range.clone(),
                    shape,
                    component: node,
                    component_path: component_path.clone(),
                    is_main,
                }
            };
            let is_main = key.eq_ignore_ascii_case("image");
            if let Some(fields) = fields(document, value) {
                images.push(found(
                    child_path,
                    &entry.key,
                    Shape::Fields(fields),
                    is_main,
                ));
            } else if let Some(fields) = image_fields(document, value, registry_default) {
                claimed.insert(address(value));
                images.push(found(
                    child_path,
                    &entry.key,
                    Shape::Fields(fields),
                    is_main,
                ));
            } else if let Some(fields) = split_fields(document, node, key, value) {
                images.push(found(
                    child_path,
                    &entry.key,
                    Shape::Fields(fields),
                    is_main,
                ));
            } else if value.as_scalar().is_some() {
                images.push(found(
                    child_path,
                    &entry.key,
                    Shape::Reference(value),
                    is_main,
                ));
            } else {
                for nested in value.entries() {
                    let Some(fields) = fields(document, deref(document, &nested.value)) else {
                        continue;
                    };
                    let nested_key = nested.key.value().unwrap_or("?");
                    images.push(found(
                        join_key(&child_path, nested_key),
                        &nested.key,
                        Shape::Fields(fields),
                        is_main,
                    ));
                }
            }
        }
    });
    let mut by_component: HashMap<usize, Vec<usize>> = HashMap::new();
    for (index, image) in images.iter().enumerate() {
        by_component
            .entry(address(image.component))
            .or_default()
            .push(index);
    }
    Values {
        document,
        images,
        by_component,
    }
}

/// A node's identity within one parsed document, which outlives every [`Values`] built on it
/// (the rules compared components with `std::ptr::eq`; this is the same test, hashable).
fn address(node: &Node) -> usize {
    std::ptr::from_ref(node).addr()
}

/// Whether a values text may hold an image key (see [`is_image_key`]), decided without parsing:
/// it spells `image` somewhere in any case, or holds a `\`, with which a double-quoted key
/// could spell it in escapes (`"im\x61ge"`). Every rule starts from the images, so a values
/// file without one gives them nothing to do: it is neither parsed nor checked further (a
/// syntax error in it goes unreported; hardport is not a YAML linter).
pub fn may_name_an_image(text: &str) -> bool {
    text.contains('\\')
        || text
            .as_bytes()
            .windows(5)
            .any(|window| window.eq_ignore_ascii_case(b"image"))
}

/// Whether a key holds a map of images by name: it ends in `images`, in any case (Airflow's
/// and Sentry's `images.<name>: {repository, tag}`).
fn is_images_key(key: &str) -> bool {
    key.len() >= 6
        && key.is_char_boundary(key.len() - 6)
        && key[key.len() - 6..].eq_ignore_ascii_case("images")
}

/// `global.image.registry`, the registry ingress-nginx merges into every image mapping that
/// has none.
fn global_image_registry(document: &Document) -> Option<&Node> {
    let global = deref(document, document.root.get("global")?);
    let image = deref(document, global.get("image")?);
    image
        .get("registry")
        .map(|registry| deref(document, registry))
        .filter(|registry| registry.as_scalar().is_some())
}

/// Whether a key names an image: it ends in `image`, in any case.
fn is_image_key(key: &str) -> bool {
    key.len() >= 5
        && key.is_char_boundary(key.len() - 5)
        && key[key.len() - 5..].eq_ignore_ascii_case("image")
}

/// `parent.key`, or `key` at the root, in one allocation of its final size.
pub fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        return key.to_owned();
    }
    let mut joined = String::with_capacity(parent.len() + 1 + key.len());
    joined.push_str(parent);
    joined.push('.');
    joined.push_str(key);
    joined
}

/// The node an alias stands for, or the node itself.
pub fn deref<'d>(document: &'d Document, node: &'d Node) -> &'d Node {
    match node.kind {
        NodeKind::Alias(_) => document.resolve_alias(node).unwrap_or(node),
        _ => node,
    }
}

/// The image fields of a mapping with a scalar `repository`. Fields a merge key (`<<: *base`)
/// brings in are read where they are written, at the anchor, so an edit goes there, once.
fn fields<'d>(document: &'d Document, node: &'d Node) -> Option<Fields<'d>> {
    let get = |key: &str| {
        merged_get(document, node, key)
            .map(|value| deref(document, value))
            .filter(|value| value.as_scalar().is_some())
    };
    let name = get("name");
    let (repository, name_beside_empty_repository) = match get("repository") {
        Some(repository) if text_of(Some(repository)).is_none() => (repository, name),
        Some(repository) => (repository, None),
        None => (name?, None),
    };
    Some(Fields {
        repository,
        registry: get("registry"),
        tag: get("tag").or_else(|| get("version")),
        digest: get("digest"),
        mapping: Some(node),
        registry_default: None,
        name_beside_empty_repository,
    })
}

/// The fields of a mapping that holds its repository under `image` (ingress-nginx:
/// `controller.image: {image: ingress-nginx/controller, tag, digest}`, with the registry in
/// `registry` or, when that is missing, in `global.image.registry`).
fn image_fields<'d>(
    document: &'d Document,
    node: &'d Node,
    registry_default: Option<&'d Node>,
) -> Option<Fields<'d>> {
    if node.get("repository").is_some() || node.get("name").is_some() {
        return None;
    }
    let get = |key: &str| {
        merged_get(document, node, key)
            .map(|value| deref(document, value))
            .filter(|value| value.as_scalar().is_some())
    };
    let repository = get("image")?;
    let is_bare = repository.value().is_some_and(|text| {
        let last = text.rsplit('/').next().unwrap_or(text);
        !text.is_empty() && !text.contains('@') && !last.contains(':')
    });
    if !is_bare {
        // `image: {image: nginx:1.27}` is a whole reference under an image key: read as one.
        return None;
    }
    Some(Fields {
        repository,
        registry: get("registry"),
        tag: get("tag"),
        digest: get("digest"),
        mapping: Some(node),
        registry_default,
        name_beside_empty_repository: None,
    })
}

/// The value of `key` in the mapping `node` as YAML merges it: the mapping's own entry, else
/// the first merged mapping (`<<: *base` or `<<: [*a, *b]`) that has it, itself through its
/// own merge keys (a block that merges another).
pub(crate) fn merged_get<'d>(
    document: &'d Document,
    node: &'d Node,
    key: &str,
) -> Option<&'d Node> {
    merged_get_within(document, node, key, MAX_MERGE_DEPTH)
}

/// How deep merge keys are followed: an alias cannot refer to what comes after its anchor, so
/// chains are short, and a bound keeps crafted ones cheap.
const MAX_MERGE_DEPTH: usize = 8;

fn merged_get_within<'d>(
    document: &'d Document,
    node: &'d Node,
    key: &str,
    depth: usize,
) -> Option<&'d Node> {
    node.get(key).or_else(|| {
        if depth == 0 {
            return None;
        }
        node.entries()
            .iter()
            .filter(|entry| entry.is_merge())
            .flat_map(|entry| {
                let merged = deref(document, &entry.value);
                match merged.as_sequence() {
                    Some(sequence) => sequence.items.iter().collect(),
                    None => vec![merged],
                }
            })
            .find_map(|merged| merged_get_within(document, deref(document, merged), key, depth - 1))
    })
}

/// The fields of a string image whose tag sits beside it under `<key>Tag` (Elastic's charts:
/// `image: docker.elastic.co/kibana/kibana` and `imageTag: 8.5.1`, rendered as
/// `{{ .Values.image }}:{{ .Values.imageTag }}`) or `<key>Version` (ClickHouse's), or under
/// `tag` beside an `image` key (Argo CD's redis-ha exporter): the string is the repository.
fn split_fields<'d>(
    document: &'d Document,
    mapping: &'d Node,
    key: &str,
    value: &'d Node,
) -> Option<Fields<'d>> {
    value.as_scalar()?;
    let tag_keys = [format!("{key}tag"), format!("{key}version")];
    let is_tag_key = |candidate: &str| {
        tag_keys
            .iter()
            .any(|tag_key| candidate.eq_ignore_ascii_case(tag_key))
            || (key.eq_ignore_ascii_case("image") && candidate == "tag")
    };
    let tag = mapping
        .entries()
        .iter()
        .rev()
        .find(|entry| entry.key.value().is_some_and(is_tag_key))
        .map(|entry| deref(document, &entry.value))
        .filter(|tag| tag.as_scalar().is_some())?;
    Some(Fields {
        registry: None,
        repository: value,
        tag: Some(tag),
        digest: None,
        mapping: None,
        registry_default: None,
        name_beside_empty_repository: None,
    })
}

/// A scalar's text when YAML reads it as a non-empty string (`~`, `null`, `true` are not).
fn text_of(node: Option<&Node>) -> Option<&str> {
    let scalar = node?.as_scalar()?;
    (scalar.is_string() && !scalar.value.is_empty()).then_some(scalar.value.as_str())
}

/// A scalar's text as Helm prints it into a template (numbers and strings alike), when not
/// empty or null.
fn rendered_text(node: Option<&Node>) -> Option<&str> {
    let scalar = node?.as_scalar()?;
    let value = scalar.value.as_str();
    let null = !scalar.is_string() && matches!(value, "~" | "null" | "Null" | "NULL");
    (!value.is_empty() && !null).then_some(value)
}

/// The document-wide settings that change how an image renders.
struct Globals<'c> {
    /// `global.imageRegistry`, when set.
    image_registry: Option<String>,
    /// What `global.image` resolves to, for components with an empty repository.
    image: Option<&'c Entry>,
}

impl<'c> Globals<'c> {
    fn of(document: &Document, catalog: &'c Catalog) -> Self {
        let global = document
            .root
            .get("global")
            .map(|node| deref(document, node));
        let image_registry = global
            .and_then(|global| global.get("imageRegistry"))
            .and_then(|node| text_of(Some(deref(document, node))))
            .map(str::to_owned);
        let without_globals = Globals {
            image_registry: None,
            image: None,
        };
        let image = global
            .and_then(|global| global.get("image"))
            .and_then(|node| fields(document, deref(document, node)))
            .and_then(|fields| {
                without_globals
                    .resolve(&Shape::Fields(fields), catalog)
                    .entry()
            });
        Globals {
            image_registry,
            image,
        }
    }

    fn resolve<'d>(&self, shape: &Shape<'d>, catalog: &'c Catalog) -> Resolution<'c> {
        match shape {
            Shape::Reference(node) => match text_of(Some(node)) {
                Some(text) => resolve_text(text, catalog, TagState::Written),
                None => Resolution::Empty,
            },
            Shape::Fields(fields) => self.resolve_fields(fields, catalog),
        }
    }

    fn resolve_fields(&self, fields: &Fields<'_>, catalog: &'c Catalog) -> Resolution<'c> {
        if let Some(name) = fields
            .name_beside_empty_repository
            .and_then(|name| name.value())
        {
            return Resolution::Unresolved(format!(
                "the image is named `{name}` with an empty `repository`: the templates build its reference from other values (such as a top-level imageRegistry and imageNamespace), which hardport does not place; set `repository` to the replacement yourself if the catalog maps it"
            ));
        }
        let Some(repository) = text_of(Some(fields.repository)) else {
            return match self.image {
                Some(entry) if rendered_text(Some(fields.repository)).is_none() => {
                    Resolution::Inherited(entry)
                }
                _ => Resolution::Empty,
            };
        };
        if repository.contains([':', '@']) {
            return Resolution::Unresolved(format!(
                "repository `{repository}` holds a tag or digest; hardport rewrites `repository` and `tag` as separate fields only"
            ));
        }
        let registry = match (&self.image_registry, fields.registry) {
            (Some(global), Some(_)) => {
                return Resolution::Unresolved(format!(
                    "global.imageRegistry `{global}` overrides the registry of every image; hardport does not rewrite a registry that all images share: set the images' registries and clear global.imageRegistry, then run again"
                ));
            }
            (_, registry) => {
                rendered_text(registry).or_else(|| rendered_text(fields.registry_default))
            }
        };
        let tag = rendered_text(fields.tag);
        let digest = text_of(fields.digest);
        let mut text = registry.map_or_else(String::new, |registry| format!("{registry}/"));
        text.push_str(repository);
        if let Some(tag) = tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = digest {
            text.push('@');
            text.push_str(digest);
        }
        let state = if tag.is_some() {
            TagState::Written
        } else {
            TagState::Empty
        };
        resolve_text(&text, catalog, state)
    }
}

/// Whether the values write a tag; an empty one renders the chart's `appVersion`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TagState {
    Written,
    Empty,
}

/// How `text`, rendered with its tag written (`tag_written`) or the chart's `appVersion`,
/// resolves against `catalog`.
pub fn resolve_reference<'c>(
    text: &str,
    catalog: &'c Catalog,
    tag_written: bool,
) -> Resolution<'c> {
    let state = match tag_written {
        true => TagState::Written,
        false => TagState::Empty,
    };
    resolve_text(text, catalog, state)
}

fn resolve_text<'c>(text: &str, catalog: &'c Catalog, tag_state: TagState) -> Resolution<'c> {
    if text.contains("{{") {
        return Resolution::Unresolved(format!(
            "`{text}` is a template the chart renders; hardport rewrites literal references only"
        ));
    }
    let image = match ImageRef::parse(text) {
        Ok(image) if !image.has_variables() => image,
        Ok(_) | Err(_) => {
            return Resolution::Unresolved(format!(
                "`{text}` is not an image reference hardport can read"
            ));
        }
    };
    let Some(repository) = image.canonical_repository() else {
        return Resolution::Unresolved(format!("`{text}` has no repository hardport can read"));
    };
    let tag = catalog.lock_tag(&repository, image.tag.as_deref(), image.digest.as_deref());
    let Some(entry) = catalog.lookup_image(&repository, tag) else {
        return match catalog.lookup_replacement_image(&repository, tag) {
            Some(entry) => Resolution::Hardened { entry, image },
            None => Resolution::Unmapped { repository },
        };
    };
    let Ok(replacement) = ImageRef::parse(&entry.replacement) else {
        return Resolution::Unresolved(format!(
            "the catalog's replacement `{}` is not an image reference",
            entry.replacement
        ));
    };
    let tag = match (&entry.tag, tag_state) {
        (_, TagState::Empty) => None,
        (Some(fixed), TagState::Written) => Some(ReplacementTag {
            tag: fixed.clone(),
            dropped: Vec::new(),
            kept_variant: Vec::new(),
        }),
        (None, TagState::Written) => Some(replacement_tag(image.tag.as_deref())),
    };
    Resolution::Migrating(Box::new(Mapped {
        entry,
        image,
        tag,
        replacement,
    }))
}

#[cfg(test)]
mod tests;
