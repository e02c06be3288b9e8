//! `hardport spec import`: catalog entries whose facts come from image configs.
//!
//! Each `IMAGE=CONFIG` pair names an image and the file its config was printed to (see
//! [`crate::oci_config`]). The facts fill one side of a catalog entry — `hardened:` (IMAGE is
//! the replacement, the default) or `public:` (IMAGE is the public image) — and the entry's
//! `source` cites the file with its SHA-256, so the catalog says where every fact came from.
//!
//! Which entry: the one the catalog already has for IMAGE (by replacement for `hardened`, by
//! public repository for `public`), so its other side, `paths` and the facts a config cannot
//! state (`shell`, `package_manager`, `users`, `groups`) are kept; the config's facts replace
//! that side's user, group, entrypoint, cmd, workdir, volumes, exposed ports and env, and the
//! citation is appended to its `source`. An IMAGE the catalog does not know gets a new entry
//! named after the last component of its repository: as the public image it `match`es IMAGE
//! and takes the catalog's default replacement; as the replacement it is the `replacement`,
//! and `match` names the Docker Hub image of the same name — an assumption the output marks
//! with a comment for a person to check.
//!
//! The output is a YAML list of entries to add under `images:` of a catalog file; an entry with
//! the same `name` in a later catalog replaces the earlier one, so adding it to a `--catalog`
//! file overrides the built-in entry.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;

use crate::catalog::{Catalog, Entry, ImageSpec};
use crate::image_ref::ImageRef;
use crate::oci_config::{self, OciConfigError};

/// Which side of a catalog entry the facts describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The public image existing files were written against (`public:`).
    Public,
    /// The hardened replacement (`hardened:`).
    Hardened,
}

impl Side {
    fn key(self) -> &'static str {
        match self {
            Side::Public => "public",
            Side::Hardened => "hardened",
        }
    }
}

/// One `IMAGE=CONFIG` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRequest {
    /// The image reference as written (`reg.mini.dev/node:20`).
    pub image: String,
    /// The config file as written.
    pub config: PathBuf,
}

impl FromStr for ImportRequest {
    type Err = String;

    /// `IMAGE=CONFIG`, split at the first `=` (an image reference cannot contain one).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            Some((image, config)) if !image.is_empty() && !config.is_empty() => Ok(ImportRequest {
                image: image.to_owned(),
                config: PathBuf::from(config),
            }),
            _ => Err(format!(
                "{text:?}: expected IMAGE=CONFIG, e.g. reg.mini.dev/node:20=node-config.json"
            )),
        }
    }
}

/// Why the entries could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{image:?}: {message}")]
    Image { image: String, message: String },
    #[error(transparent)]
    Config(#[from] OciConfigError),
    #[error(
        "{first:?} and {second:?} both make catalog entry {name:?}; import one config per entry"
    )]
    SameEntry {
        first: String,
        second: String,
        name: String,
    },
    #[error("cannot write the entries as YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
}

/// A catalog entry in the file schema (the loaded [`Entry`] has canonical fields and an origin
/// a file does not have).
#[derive(Debug, Serialize)]
struct EntryFile {
    name: String,
    #[serde(rename = "match")]
    matches: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dev_tag_suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    source: String,
    #[serde(skip_serializing_if = "is_unknown")]
    public: ImageSpec,
    #[serde(skip_serializing_if = "is_unknown")]
    hardened: ImageSpec,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    paths: BTreeMap<String, String>,
}

fn is_unknown(spec: &ImageSpec) -> bool {
    *spec == ImageSpec::default()
}

/// Catalog entries (YAML, with a comment per entry) for `requests`, each side's facts read
/// from its config file.
pub fn import(
    catalog: &Catalog,
    side: Side,
    requests: &[ImportRequest],
) -> Result<String, ImportError> {
    let mut out = format!(
        "# Catalog entries with `{}:` facts read from image configs by `hardport spec import`.\n\
         # Add them under `images:` of a catalog file (one with the same name replaces the earlier).\n",
        side.key()
    );
    let mut made: Vec<(&str, String)> = Vec::new();
    for request in requests {
        let (entry, note) = entry_for(catalog, side, request)?;
        if let Some((first, _)) = made.iter().find(|(_, name)| *name == entry.name) {
            return Err(ImportError::SameEntry {
                first: (*first).to_owned(),
                second: request.image.clone(),
                name: entry.name,
            });
        }
        made.push((&request.image, entry.name.clone()));
        out.push_str(&format!("\n# {}: {note}\n", entry.name));
        out.push_str(&serde_yaml_ng::to_string(&[entry])?);
    }
    Ok(out)
}

/// The entry for one request, and a comment saying how it was found or made.
fn entry_for(
    catalog: &Catalog,
    side: Side,
    request: &ImportRequest,
) -> Result<(EntryFile, String), ImportError> {
    let image_error = |message: String| ImportError::Image {
        image: request.image.clone(),
        message,
    };
    let reference =
        ImageRef::parse(&request.image).map_err(|error| image_error(error.to_string()))?;
    let repository = reference
        .canonical_repository()
        .filter(|_| !reference.has_variables())
        .ok_or_else(|| image_error("must be an image reference without variables".into()))?;
    let facts = oci_config::read(&request.config)?;
    let citation = format!(
        "{}: {}",
        side.key(),
        facts.citation(&request.config.display().to_string())
    );
    let known = match side {
        Side::Public => catalog.lookup(&repository),
        Side::Hardened => catalog.lookup_replacement(&repository),
    };
    let config = request.config.display();
    Ok(match known {
        Some(entry) => (
            updated(entry, side, facts.spec, citation),
            format!(
                "catalog entry from {}; its {} facts replaced by {config}",
                entry.origin,
                side.key()
            ),
        ),
        None => {
            let name = reference
                .path
                .rsplit('/')
                .next()
                .unwrap_or(&reference.path)
                .to_owned();
            let written = match &reference.registry {
                Some(registry) => format!("{registry}/{}", reference.path),
                None => reference.path.clone(),
            };
            let (matches, replacement, note) = match side {
                Side::Public => (
                    vec![written],
                    None,
                    format!(
                        "not in the catalog; the replacement defaults to <registry>/{name} of the catalog you add it to"
                    ),
                ),
                Side::Hardened => (
                    vec![name.clone()],
                    Some(written),
                    format!(
                        "not in the catalog; `match` assumes the public image is Docker Hub's {name:?}: check it"
                    ),
                ),
            };
            let mut entry = EntryFile {
                name,
                matches,
                replacement,
                dev_tag_suffix: None,
                tag: None,
                source: citation,
                public: ImageSpec::default(),
                hardened: ImageSpec::default(),
                paths: BTreeMap::new(),
            };
            *side_of(&mut entry, side) = facts.spec;
            (entry, note)
        }
    })
}

/// `entry` in file form with `side` holding the config's `facts` (and the facts a config
/// cannot state kept from the entry).
fn updated(entry: &Entry, side: Side, facts: ImageSpec, citation: String) -> EntryFile {
    let mut file = EntryFile {
        name: entry.name.clone(),
        matches: entry.matches.clone(),
        replacement: Some(entry.replacement.clone()),
        dev_tag_suffix: entry.dev_tag_suffix.clone(),
        tag: entry.tag.clone(),
        source: format!("{}; {citation}", entry.source),
        public: entry.public.clone(),
        hardened: entry.hardened.clone(),
        paths: entry.paths.clone(),
    };
    let spec = side_of(&mut file, side);
    let mut merged = facts;
    merged.fill_unknown_from(spec);
    *spec = merged;
    // The facts are written out, so the output does not depend on config paths that were
    // relative to another catalog file.
    file.public.config = None;
    file.hardened.config = None;
    file
}

fn side_of(entry: &mut EntryFile, side: Side) -> &mut ImageSpec {
    match side {
        Side::Public => &mut entry.public,
        Side::Hardened => &mut entry.hardened,
    }
}

#[cfg(test)]
mod tests;
