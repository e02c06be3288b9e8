//! The catalog: which public images map to which hardened ones, and what each image is like.
//!
//! A catalog is data, not code: YAML files in the schema below, layered. The built-in catalog of
//! the run's [`Target`] (Minimus by default) comes first, then every `--catalog FILE` in order;
//! an entry with the same `name` replaces the earlier one, and for a public repository matched
//! by two entries the later one wins. Every fact about an image is optional: an absent field
//! means "unknown", and rules that need it say so instead of guessing. Every entry must say
//! where its facts come from (`source`).
//!
//! ```yaml
//! version: 1
//! registry: reg.mini.dev            # optional: default target registry (host[/path]);
//!                                   # without it, entries need `replacement` or --registry
//! images:
//!   - name: node                    # unique; default replacement is "<registry>/<name>"
//!     match: [node]                 # public repositories it replaces
//!     replacement: reg.mini.dev/node  # optional
//!     dev_tag_suffix: "-dev"        # optional
//!     tag: latest                   # optional: a fixed tag instead of the tag policy
//!     source: "where these facts come from"
//!     public:   {user: "0", entrypoint: [docker-entrypoint.sh], cmd: [node]}
//!     hardened: {user: "1000", entrypoint: [/usr/bin/node], cmd: ["--help"], shell: false}
//!     paths: {/old/data: /new/data}
//! ```
//!
//! A spec may instead (or also) name an image config, `hardened: {config: node.json}`: its
//! facts are read at load time by [`crate::oci_config`], relative to the catalog file, fill
//! what the spec leaves unknown, and are cited in the entry's `source`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::image_ref::{ImageRef, ReplacementTag, normalize_repository, replacement_tag};
use crate::oci_config;
use crate::yaml::nesting::{MAX_FLOW_DEPTH, check_flow_nesting};

mod locked;
mod packages;
mod target;
mod validate;

pub use packages::{PackageMap, PackageMapping, SourceFamily};
pub use target::{Target, UnknownTarget};
pub(crate) use validate::check_spec_strings;

/// The catalog schema version this build reads.
pub const CATALOG_VERSION: u32 = 1;

/// A user or group as an image config states it: a numeric id or a name, kept as written.
///
/// YAML authors write `user: 1000` as often as `user: "1000"`; both mean the same here.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Id(pub String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::Number(number) => Id(number.to_string()),
            Raw::Text(text) => Id(text),
        })
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is known about one image's runtime configuration. `None` means unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<String>>,
    /// Whether the image has a shell (`/bin/sh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<bool>,
    /// The package manager the image offers (`apt`, `apk`, `dnf`, …). For a hardened image this
    /// is the `-dev` variant's; its production image has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_manager: Option<String>,
    /// The distribution whose packages that package manager installs: the `ID` of the image's
    /// `/etc/os-release` (`wolfi`, `alpine`, `debian`), which says which names it knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// Named users the image defines: name → uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<BTreeMap<String, Id>>,
    /// Named groups the image defines: name → gid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<BTreeMap<String, Id>>,
    /// Ports the image declares (`EXPOSE`), as its config writes them: `8080/tcp`, `53/udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<Vec<String>>,
    /// The environment the image sets: name → value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// An OCI image config (or `docker inspect` output) to read the facts above from, relative
    /// to the catalog file. Fields written beside it win over the config's. After loading it
    /// holds the path the facts were read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
}

impl ImageSpec {
    /// The numeric uid the image runs as: `user` when it is a number (or `uid:gid`), or the
    /// uid `users` lists for a named `user`. `None` when the catalog does not state one.
    pub fn uid(&self) -> Option<u32> {
        let user = self.user.as_ref()?.0.as_str();
        let name = user.split(':').next().unwrap_or(user);
        numeric(name, self.users.as_ref())
    }

    /// The numeric gid the image runs as: `group` (a number, or a name `groups` lists), else
    /// the `gid` of a `uid:gid` user. `None` when the catalog does not state one.
    pub fn gid(&self) -> Option<u32> {
        match &self.group {
            Some(group) => numeric(&group.0, self.groups.as_ref()),
            None => numeric(self.user.as_ref()?.0.split_once(':')?.1, None),
        }
    }

    /// Take every fact this spec leaves unknown from `other`; what this spec states wins.
    ///
    /// `user` and `group` are one fact: a spec that states either takes neither from `other`,
    /// so a user from one source is never paired with a group from another. `config` is where
    /// this spec's own facts came from and is kept.
    pub fn fill_unknown_from(&mut self, other: &ImageSpec) {
        let ImageSpec {
            user,
            group,
            entrypoint,
            cmd,
            workdir,
            volumes,
            shell,
            package_manager,
            distribution,
            users,
            groups,
            exposed_ports,
            env,
            config: _,
        } = other;
        if self.user.is_none() && self.group.is_none() {
            self.user.clone_from(user);
            self.group.clone_from(group);
        }
        fill(&mut self.entrypoint, entrypoint);
        fill(&mut self.cmd, cmd);
        fill(&mut self.workdir, workdir);
        fill(&mut self.volumes, volumes);
        fill(&mut self.shell, shell);
        fill(&mut self.package_manager, package_manager);
        fill(&mut self.distribution, distribution);
        fill(&mut self.users, users);
        fill(&mut self.groups, groups);
        fill(&mut self.exposed_ports, exposed_ports);
        fill(&mut self.env, env);
    }
}

fn fill<T: Clone>(known: &mut Option<T>, other: &Option<T>) {
    if known.is_none() {
        known.clone_from(other);
    }
}

/// `id` as a number, directly or through the `names` table.
fn numeric(id: &str, names: Option<&BTreeMap<String, Id>>) -> Option<u32> {
    id.parse().ok().or_else(|| names?.get(id)?.0.parse().ok())
}

/// Where a catalog layer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogOrigin {
    /// The built-in catalog of a target, compiled into hardport.
    Embedded(Target),
    /// A `--catalog FILE`.
    File(PathBuf),
}

impl fmt::Display for CatalogOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogOrigin::Embedded(target) => write!(f, "<embedded {target} catalog>"),
            CatalogOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Serialize for CatalogOrigin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One mapping from public repositories to a hardened replacement, with both images' specs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    /// Canonical public repositories (`docker.io/library/node`).
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    /// The replacement repository, without tag, as it is written into files.
    pub replacement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev_tag_suffix: Option<String>,
    /// A fixed tag for every reference, for replacements whose versions do not follow the
    /// public image's (a distro base image replaced by one `latest` base). `None`: tag policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub source: String,
    pub origin: CatalogOrigin,
    pub public: ImageSpec,
    pub hardened: ImageSpec,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub paths: BTreeMap<String, String>,
    /// The facts that came from `hardport.lock` rather than from the catalog, each with the
    /// locked image it was read from: `public.user` → `docker.io/library/node:20 read …`.
    /// Not serialized: `catalog show` prints it as the provenance of each fact.
    #[serde(skip)]
    pub locked_facts: BTreeMap<String, String>,
}

impl Entry {
    /// The tag the replacement gets for the public `tag`: the entry's fixed tag, or the tag
    /// policy's ([`replacement_tag`]).
    pub fn replacement_tag(&self, tag: Option<&str>) -> ReplacementTag {
        match &self.tag {
            Some(fixed) => ReplacementTag {
                tag: fixed.clone(),
                dropped: Vec::new(),
                kept_variant: Vec::new(),
            },
            None => replacement_tag(tag),
        }
    }
}

/// Why a catalog could not be loaded. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{origin}: cannot read the catalog: {source}")]
    Read {
        origin: CatalogOrigin,
        source: std::io::Error,
    },
    #[error("{origin}{}: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
    Syntax {
        origin: CatalogOrigin,
        line: Option<usize>,
        message: String,
    },
    #[error(
        "{origin}: unsupported catalog version {version}; this hardport reads version {CATALOG_VERSION}"
    )]
    Version { origin: CatalogOrigin, version: u32 },
    #[error("{origin}: {message}")]
    Invalid {
        origin: CatalogOrigin,
        message: String,
    },
    #[error("{origin}: images[{index}] (name: {name:?}): {message}")]
    InvalidEntry {
        origin: CatalogOrigin,
        index: usize,
        name: String,
        message: String,
    },
    #[error("--registry {registry:?}: {message}")]
    Registry { registry: String, message: String },
    #[error(
        "{origin} names no registry, so its images need one: {}",
        registry_advice(origin)
    )]
    NoRegistry { origin: CatalogOrigin },
}

/// What to pass as `--registry` for a catalog that names no registry, and why.
fn registry_advice(origin: &CatalogOrigin) -> String {
    match origin {
        CatalogOrigin::Embedded(target) => format!(
            "pass --registry {} ({})",
            target.registry_argument(),
            target.registry_note()
        ),
        CatalogOrigin::File(_) => {
            "pass --registry HOST[/PATH], or give every entry a `replacement`".to_owned()
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: u32,
    registry: Option<String>,
    images: Vec<EntryFile>,
    /// Package names over the embedded map ([`packages`]).
    #[serde(default)]
    packages: PackageMap,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    name: String,
    #[serde(rename = "match")]
    matches: Vec<String>,
    replacement: Option<String>,
    dev_tag_suffix: Option<String>,
    tag: Option<String>,
    source: String,
    #[serde(default)]
    public: ImageSpec,
    #[serde(default)]
    hardened: ImageSpec,
    #[serde(default)]
    paths: BTreeMap<String, String>,
}

/// One catalog file as loaded, before the layers are merged.
#[derive(Debug, Default)]
struct Layer {
    entries: Vec<LoadedEntry>,
    packages: PackageMap,
}

/// An entry as loaded from one file, before the layers are merged.
#[derive(Debug)]
struct LoadedEntry {
    entry: Entry,
    /// The replacement's path below the file's default registry, when it lives there: only these
    /// follow `--registry`.
    below_default_registry: Option<String>,
}

/// How to assemble the catalog for a run.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// Whose built-in catalog to start from.
    pub target: Target,
    /// Start from the target's built-in catalog.
    pub use_default: bool,
    /// User catalogs, merged over the default in order.
    pub files: Vec<PathBuf>,
    /// Replaces the target registry of every entry that uses its catalog's default registry.
    pub registry: Option<String>,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        CatalogOptions {
            target: Target::default(),
            use_default: true,
            files: Vec::new(),
            registry: None,
        }
    }
}

/// The digests a locked image was read at.
#[derive(Debug, Clone)]
struct LockedDigests {
    /// What `--pin` writes: the index's digest when the tag named one, else the manifest's.
    pin: String,
    /// The platform manifest's digest.
    manifest: String,
}

/// The merged catalog a run uses.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<Entry>,
    by_match: HashMap<String, usize>,
    by_replacement: HashMap<String, usize>,
    /// Entries with a locked public image's facts, by (canonical repository, tag) ([`locked`]).
    by_public_image: HashMap<(String, String), Entry>,
    /// Entries with a locked replacement image's facts, by (canonical repository, tag).
    by_replacement_image: HashMap<(String, String), Entry>,
    /// The digests each locked image was read at, by (canonical repository, tag).
    pins: HashMap<(String, String), LockedDigests>,
    packages: PackageMap,
}

impl Catalog {
    /// Load and merge the catalogs `options` names.
    pub fn load(options: &CatalogOptions) -> Result<Catalog, CatalogError> {
        let registry = options
            .registry
            .as_deref()
            .map(validate_registry_override)
            .transpose()?;
        let mut layers = Vec::new();
        if options.use_default {
            let target = options.target;
            layers.push(parse_layer(
                target.catalog(),
                CatalogOrigin::Embedded(target),
                registry,
            )?);
        }
        for path in &options.files {
            layers.push(read_layer(path, registry)?);
        }
        Ok(Catalog::merge(layers, registry))
    }

    /// The embedded default catalog alone.
    pub fn embedded() -> Result<Catalog, CatalogError> {
        Catalog::load(&CatalogOptions::default())
    }

    /// One target's built-in catalog alone, with `registry` as `--registry`.
    pub fn target(target: Target, registry: Option<&str>) -> Result<Catalog, CatalogError> {
        Catalog::load(&CatalogOptions {
            target,
            registry: registry.map(str::to_owned),
            ..CatalogOptions::default()
        })
    }

    fn merge(layers: Vec<Layer>, registry: Option<&str>) -> Catalog {
        let mut entries: Vec<Entry> = Vec::new();
        let mut packages = PackageMap::embedded();
        for layer in &layers {
            packages.overlay(&layer.packages);
        }
        for loaded in layers.into_iter().flat_map(|layer| layer.entries) {
            let mut entry = loaded.entry;
            if let (Some(registry), Some(path)) = (registry, &loaded.below_default_registry) {
                entry.replacement = format!("{registry}/{path}");
            }
            entries.retain(|earlier| earlier.name != entry.name);
            entries.push(entry);
        }
        let mut by_match = HashMap::new();
        let mut by_replacement = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            for repository in &entry.matches {
                by_match.insert(repository.clone(), index);
            }
            if let Ok(canonical) = normalize_repository(&entry.replacement) {
                by_replacement.insert(canonical, index);
            }
        }
        Catalog {
            entries,
            by_match,
            by_replacement,
            by_public_image: HashMap::new(),
            by_replacement_image: HashMap::new(),
            pins: HashMap::new(),
            packages,
        }
    }

    /// The package-name map: the embedded one with every catalog file's `packages:` over it.
    pub fn packages(&self) -> &PackageMap {
        &self.packages
    }

    /// The entries, to change in tests what validation would never let through.
    #[cfg(test)]
    pub(crate) fn entries_mut(&mut self) -> &mut [Entry] {
        &mut self.entries
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry that replaces the canonical public repository `repository`.
    pub fn lookup(&self, repository: &str) -> Option<&Entry> {
        self.by_match
            .get(repository)
            .map(|&index| &self.entries[index])
    }

    /// The entry whose replacement is the canonical repository `repository`, if it is one.
    pub fn lookup_replacement(&self, repository: &str) -> Option<&Entry> {
        self.by_replacement
            .get(repository)
            .map(|&index| &self.entries[index])
    }

    /// Find an entry by its name, a public image it matches, or its replacement image; with a
    /// tag, the image's own facts when the lock holds them.
    pub fn find(&self, query: &str) -> Option<&Entry> {
        if let Some(entry) = self.entries.iter().find(|entry| entry.name == query) {
            return Some(entry);
        }
        let image = ImageRef::parse(query).ok()?;
        let repository = image.canonical_repository()?;
        let tag = image.tag.as_deref();
        self.lookup_image(&repository, tag)
            .or_else(|| self.lookup_replacement_image(&repository, tag))
    }
}

impl Target {
    /// The registry the target's catalog names; `None` when it names none and `--registry` is
    /// required.
    pub fn default_registry(self) -> Result<Option<String>, CatalogError> {
        let file = parse_file(self.catalog(), &CatalogOrigin::Embedded(self))?;
        Ok(file
            .registry
            .map(|registry| registry.trim_end_matches('/').to_owned()))
    }
}

/// The registry [`check_file`] places entries at when a catalog names none: such a catalog is
/// valid, for use with `--registry`. `.invalid` is reserved, so it can never be a real one.
const CHECK_REGISTRY: &str = "registry.invalid";

fn read_layer(path: &Path, registry: Option<&str>) -> Result<Layer, CatalogError> {
    first_error(read_layer_checked(path, registry))
}

/// Validate one catalog file on its own, as `--catalog FILE` would load it (schema, `source`,
/// `match`, duplicates, paths, `config` files): the number of entries, or every error found.
///
/// Loading stops at a file's first error; a check reports every entry that is wrong, so one
/// run shows all there is to fix.
pub fn check_file(path: &Path) -> Result<usize, Vec<CatalogError>> {
    let (loaded, errors) = read_layer_checked(path, Some(CHECK_REGISTRY));
    if errors.is_empty() {
        Ok(loaded.entries.len())
    } else {
        Err(errors)
    }
}

fn read_layer_checked(path: &Path, registry: Option<&str>) -> (Layer, Vec<CatalogError>) {
    let origin = CatalogOrigin::File(path.to_path_buf());
    match std::fs::read_to_string(path) {
        Ok(text) => parse_layer_checked(&text, origin, registry),
        Err(source) => (
            Layer::default(),
            vec![CatalogError::Read { origin, source }],
        ),
    }
}

/// Parse and validate one catalog file, stopping at its first error.
fn parse_layer(
    text: &str,
    origin: CatalogOrigin,
    override_registry: Option<&str>,
) -> Result<Layer, CatalogError> {
    first_error(parse_layer_checked(text, origin, override_registry))
}

fn first_error((loaded, errors): (Layer, Vec<CatalogError>)) -> Result<Layer, CatalogError> {
    match errors.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(loaded),
    }
}

fn parse_file(text: &str, origin: &CatalogOrigin) -> Result<CatalogFile, CatalogError> {
    check_flow_nesting(text, MAX_FLOW_DEPTH).map_err(|error| CatalogError::Syntax {
        origin: origin.clone(),
        line: Some(error.line),
        message: error.to_string(),
    })?;
    let file: CatalogFile =
        serde_yaml_ng::from_str(text).map_err(|error| CatalogError::Syntax {
            origin: origin.clone(),
            line: error.location().map(|location| location.line()),
            message: error.to_string(),
        })?;
    if file.version != CATALOG_VERSION {
        return Err(CatalogError::Version {
            origin: origin.clone(),
            version: file.version,
        });
    }
    Ok(file)
}

/// The entries of one catalog layer that are valid, and an error for each one that is not (or
/// the one error that makes the whole file unreadable). `override_registry` (`--registry`)
/// places the entries of a catalog that names no registry; such a catalog fails without it.
fn parse_layer_checked(
    text: &str,
    origin: CatalogOrigin,
    override_registry: Option<&str>,
) -> (Layer, Vec<CatalogError>) {
    let file = match parse_file(text, &origin) {
        Ok(file) => file,
        Err(error) => return (Layer::default(), vec![error]),
    };
    if let Err(message) = file.packages.validate() {
        return (
            Layer::default(),
            vec![CatalogError::Invalid { origin, message }],
        );
    }
    let registry = match &file.registry {
        Some(registry) => {
            let registry = registry.trim_end_matches('/');
            if let Err(message) = validate_registry(registry) {
                let error = CatalogError::Invalid {
                    origin,
                    message: format!("registry {registry:?}: {message}"),
                };
                return (Layer::default(), vec![error]);
            }
            Some(Registry::Default(registry))
        }
        None => override_registry.map(Registry::Override),
    };
    let mut loaded: Vec<LoadedEntry> = Vec::with_capacity(file.images.len());
    let mut errors = Vec::new();
    let mut claimed: HashMap<String, (usize, &str)> = HashMap::new();
    for (index, raw) in file.images.iter().enumerate() {
        let invalid = |message: String| CatalogError::InvalidEntry {
            origin: origin.clone(),
            index,
            name: raw.name.clone(),
            message,
        };
        if file.images[..index]
            .iter()
            .any(|earlier| earlier.name == raw.name)
        {
            errors.push(invalid("the name is used by an earlier entry".into()));
            continue;
        }
        let replacement = match (&raw.replacement, registry) {
            (Some(replacement), _) => replacement.clone(),
            (None, Some(Registry::Default(registry) | Registry::Override(registry))) => {
                format!("{registry}/{}", raw.name)
            }
            (None, None) => {
                return (Layer::default(), vec![CatalogError::NoRegistry { origin }]);
            }
        };
        let entry = match build_entry(raw, replacement, registry, &origin) {
            Ok(entry) => entry,
            Err(message) => {
                errors.push(invalid(message));
                continue;
            }
        };
        let conflicts: Vec<CatalogError> = entry
            .entry
            .matches
            .iter()
            .filter_map(|repository| {
                let (other, other_name) = claimed.get(repository)?;
                Some(invalid(format!(
                    "match {repository:?} is already claimed by images[{other}] ({other_name:?})"
                )))
            })
            .collect();
        if conflicts.is_empty() {
            for repository in &entry.entry.matches {
                claimed.insert(repository.clone(), (index, &raw.name));
            }
            loaded.push(entry);
        } else {
            errors.extend(conflicts);
        }
    }
    let layer = Layer {
        entries: loaded,
        packages: file.packages,
    };
    (layer, errors)
}

/// Where a layer's entries without a `replacement` live.
#[derive(Debug, Clone, Copy)]
enum Registry<'a> {
    /// The registry the file names.
    Default(&'a str),
    /// `--registry`, for a file that names none.
    Override(&'a str),
}

/// Validate one entry; `replacement` is the written one or `<registry>/<name>`.
fn build_entry(
    raw: &EntryFile,
    replacement: String,
    registry: Option<Registry<'_>>,
    origin: &CatalogOrigin,
) -> Result<LoadedEntry, String> {
    if raw.name.trim().is_empty() {
        return Err("name must not be empty".into());
    }
    if raw.source.trim().is_empty() {
        return Err("source must say where the facts come from".into());
    }
    if raw.matches.is_empty() {
        return Err("match must list at least one public repository".into());
    }
    let mut matches: Vec<String> = Vec::with_capacity(raw.matches.len());
    for repository in &raw.matches {
        let canonical = normalize_repository(repository)
            .map_err(|error| format!("match {repository:?}: {error}"))?;
        // Two spellings of one repository (`node`, `docker.io/library/node`) are one match.
        if !matches.contains(&canonical) {
            matches.push(canonical);
        }
    }
    if let Some(tag) = &raw.tag
        && ImageRef::parse(&format!("x:{tag}"))
            .map_or(true, |probe| probe.tag.as_deref() != Some(tag))
    {
        return Err(format!("tag {tag:?} is not a valid tag"));
    }
    validate::check_written_strings(raw, &replacement)?;
    let below_default_registry = match registry {
        Some(Registry::Default(registry)) => replacement
            .strip_prefix(registry)
            .and_then(|rest| rest.strip_prefix('/'))
            .map(str::to_owned),
        Some(Registry::Override(_)) => raw.replacement.is_none().then(|| raw.name.clone()),
        None => None,
    };
    for (from, to) in &raw.paths {
        if !from.starts_with('/') || !to.starts_with('/') {
            return Err(format!(
                "paths {from:?}: {to:?}: both paths must be absolute"
            ));
        }
    }
    let mut citations = Vec::new();
    let public = with_config(&raw.public, "public", origin, &mut citations)?;
    let hardened = with_config(&raw.hardened, "hardened", origin, &mut citations)?;
    // A config's facts are written into files as much as the catalog's own.
    for (side, spec) in [("public", &public), ("hardened", &hardened)] {
        if spec.config.is_some() {
            check_spec_strings(side, spec)
                .map_err(|message| format!("{message} (from its config)"))?;
        }
    }
    let source = std::iter::once(raw.source.trim().to_owned())
        .chain(citations)
        .collect::<Vec<_>>()
        .join("; ");
    Ok(LoadedEntry {
        entry: Entry {
            name: raw.name.clone(),
            matches,
            replacement,
            dev_tag_suffix: raw.dev_tag_suffix.clone(),
            tag: raw.tag.clone(),
            source,
            origin: origin.clone(),
            public,
            hardened,
            paths: raw.paths.clone(),
            locked_facts: BTreeMap::new(),
        },
        below_default_registry,
    })
}

/// `spec` with the facts of its `config` file filled in where `spec` leaves them unknown; the
/// file is cited in `citations` (for the entry's `source`) and `config` becomes the path read.
fn with_config(
    spec: &ImageSpec,
    side: &str,
    origin: &CatalogOrigin,
    citations: &mut Vec<String>,
) -> Result<ImageSpec, String> {
    let Some(written) = &spec.config else {
        return Ok(spec.clone());
    };
    let CatalogOrigin::File(catalog) = origin else {
        return Err(format!(
            "{side}.config: the embedded catalog cannot read image configs"
        ));
    };
    // Relative to the catalog file, so a catalog and its configs move together.
    let path = catalog.parent().unwrap_or(Path::new("")).join(written);
    let facts = oci_config::read(&path).map_err(|error| format!("{side}.config: {error}"))?;
    let mut merged = spec.clone();
    merged.config = Some(path);
    merged.fill_unknown_from(&facts.spec);
    citations.push(format!(
        "{side}: {}",
        facts.citation(&written.display().to_string())
    ));
    Ok(merged)
}

/// A registry is `host[:port][/path]`: no scheme, tag or digest.
fn validate_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("must not be empty".into());
    }
    if registry.contains("://") {
        return Err("write the host without a scheme, e.g. reg.example.com/team".into());
    }
    if registry.contains('@') || registry.chars().any(char::is_whitespace) {
        return Err("must be host[:port][/path]".into());
    }
    let probe = format!("{registry}/probe");
    match ImageRef::parse(&probe) {
        Ok(parsed) if parsed.tag.is_none() && parsed.registry.is_some() => Ok(()),
        _ => Err("must be host[:port][/path], with a host such as reg.example.com".into()),
    }
}

fn validate_registry_override(registry: &str) -> Result<&str, CatalogError> {
    let trimmed = registry.trim_end_matches('/');
    validate_registry(trimmed).map_err(|message| CatalogError::Registry {
        registry: registry.to_owned(),
        message,
    })?;
    Ok(trimmed)
}

#[cfg(test)]
mod embedded_tests;
#[cfg(test)]
mod tests;
