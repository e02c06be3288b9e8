//! Image facts read from the image itself, in its registry, with the OCI distribution API.
//!
//! [`Registry::resolve`] reads one image the way `docker pull` would find it: the manifest
//! (an index gives the manifest for [`RegistryOptions::platform`]), its digest, the image
//! config (user, entrypoint, cmd, working directory, volumes, env, exposed ports, through
//! [`crate::oci_config::parse`]), and from the layers, top layer first and stopping as soon as
//! every question is answered, `/etc/passwd` and `/etc/group` (names to ids), whether
//! `/bin/sh` exists and which package manager the image has ([`layers`]).
//! [`Registry::manifest_exists`] checks a tag with `HEAD`, [`Registry::tags`] lists a
//! repository's tags and [`nearest_tag`] picks the published tag nearest to a missing one.
//!
//! Where: Docker Hub names (`node`, `bitnami/redis`, `docker.io/...`) are read from
//! `registry-1.docker.io` with the `library/` namespace for official images, as
//! [`crate::image_ref`] canonicalises them. Every registry is spoken to over HTTPS, except
//! that a loopback host (`localhost`, `127.0.0.1`, `[::1]`) or one named in
//! [`RegistryOptions::insecure`] falls back to plain HTTP when its HTTPS does not answer.
//!
//! Who: credentials as Docker keeps them ([`auth`]): `config.json`'s `auths`, `credsStore`
//! and `credHelpers`, in `$DOCKER_CONFIG` or `~/.docker`. A registry's `WWW-Authenticate`
//! challenge is answered with a Bearer token from its realm (anonymous, or with the
//! credentials) or with Basic credentials.
//!
//! How: one blocking HTTP client (`ureq`, rustls, Mozilla's roots plus
//! [`RegistryOptions::extra_roots`]); per-phase timeouts; retries with exponential backoff on
//! connection failures, HTTP 5xx and 429; manifests, configs, tokens and tag pages capped at
//! [`Limits::manifest_bytes`]; layer reads capped by [`Limits`]. Every failure is a
//! [`RegistryError`] naming the image and the registry; nothing here panics on a response.
//!
//! The module never prints and holds no global state; a [`Registry`] is `Sync` and may be
//! shared by threads (its token cache and scheme probe results are behind locks).

mod auth;
mod client;
mod endpoint;
mod error;
pub mod layers;
mod manifest;
mod platform;
mod tags;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalog::{Id, ImageSpec};
use crate::image_ref::ImageRef;

use client::Transport;
use endpoint::Target;
use manifest::Manifest;

pub use error::RegistryError;
pub use layers::LayerFacts;
pub use platform::Platform;
pub use tags::nearest_tag;

/// How a [`Registry`] connects and how much it reads.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// The image of a multi-platform index to read; `linux/amd64` by default.
    pub platform: Platform,
    /// Registries (`host` or `host:port`) that may be spoken to over plain HTTP when HTTPS
    /// does not answer, besides the loopback ones.
    pub insecure: Vec<String>,
    /// The directory holding Docker's `config.json`; `None` means `$DOCKER_CONFIG`, else
    /// `~/.docker`.
    pub docker_config: Option<PathBuf>,
    /// Per phase of a request: resolving, connecting, sending, waiting for the answer, and
    /// each read of a body.
    pub timeout: Duration,
    /// Retries after the first try, on connection failures, HTTP 5xx and 429.
    pub retries: u32,
    /// The wait before the first retry; it doubles per retry (at most 10 s, or what a
    /// `Retry-After` header asks for, at most 10 s too).
    pub retry_base: Duration,
    /// PEM files of CA certificates to trust besides Mozilla's roots (a private registry's
    /// CA, a test's self-signed certificate).
    pub extra_roots: Vec<PathBuf>,
    /// How much may be read.
    pub limits: Limits,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            platform: Platform::default(),
            insecure: Vec::new(),
            docker_config: None,
            timeout: Duration::from_secs(30),
            retries: 2,
            retry_base: Duration::from_millis(500),
            extra_roots: Vec::new(),
            limits: Limits::default(),
        }
    }
}

/// Upper bounds on what one image costs to read. Reaching a layer limit is not an error: the
/// facts still undecided are left unknown and named in [`ResolvedImage::unknown`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A manifest, index, config, token answer or tag page: 4 MiB.
    pub manifest_bytes: u64,
    /// Compressed bytes read of one layer: 1 GiB.
    pub layer_bytes: u64,
    /// Compressed bytes read of all layers of one image: 2 GiB.
    pub total_layer_bytes: u64,
    /// Unpacked bytes of one layer (a decompression bomb stops here): 4 GiB.
    pub unpacked_layer_bytes: u64,
    /// `/etc/passwd` or `/etc/group` read into memory: 1 MiB.
    pub file_bytes: u64,
    /// Paths remembered across the layers read: 1,000,000.
    pub paths: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            manifest_bytes: 4 << 20,
            layer_bytes: 1 << 30,
            total_layer_bytes: 2 << 30,
            unpacked_layer_bytes: 4 << 30,
            file_bytes: 1 << 20,
            paths: 1_000_000,
        }
    }
}

/// What one image is, read from its registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The reference, canonical: `docker.io/library/node:20`, with `@digest` when the
    /// reference carried one.
    pub reference: String,
    /// The digest of the platform's image manifest: what `image@digest` pins.
    pub digest: String,
    /// The digest of the index the reference named, when it named one.
    pub index_digest: Option<String>,
    /// The digest of the image config the facts were read from.
    pub config_digest: String,
    /// The platform the image is for, as its config states it (for a single-platform image
    /// this may differ from the one asked for; the caller decides whether that matters).
    pub platform: Platform,
    /// The facts: from the config (user, group when `User` names one, entrypoint, cmd,
    /// workdir, volumes, exposed ports, env) and from the layers (users, groups, shell,
    /// package manager, and the group from `/etc/passwd` when `User` names none). `config`
    /// is `None`: nothing was read from a file.
    pub spec: ImageSpec,
    /// The layers' answers with their unknowns spelled out (`package_manager: Some(None)`
    /// says the image has none, which [`ImageSpec::package_manager`] cannot say).
    pub layers: LayerFacts,
    /// Facts left unknown and why, one line each (`"shell: …"`); empty when every fact is known.
    pub unknown: Vec<String>,
}

/// A client for reading images from registries. Cheap to share between threads.
pub struct Registry {
    transport: Transport,
}

impl Registry {
    /// A client with these options. Fails only when an extra CA file cannot be read.
    pub fn new(options: RegistryOptions) -> Result<Registry, RegistryError> {
        Ok(Registry {
            transport: Transport::new(options)?,
        })
    }

    /// Reads the image `reference` names for the configured platform: manifest, digest,
    /// config facts and layer facts.
    pub fn resolve(&self, reference: &ImageRef) -> Result<ResolvedImage, RegistryError> {
        let target = Target::of(reference)?;
        let fetched = manifest::fetch(&self.transport, &target, None)?;
        let (fetched, index_digest) = match fetched.manifest {
            Manifest::Index(entries) => {
                let platform = &self.transport.options().platform;
                let entry = manifest::select(&target, &entries, platform)?;
                let child = target.with_reference(&entry.digest);
                let image = manifest::fetch(&self.transport, &child, Some(&entry.digest))?;
                (image, Some(fetched.digest))
            }
            Manifest::Image { .. } => (fetched, None),
        };
        let Manifest::Image { config, layers } = fetched.manifest else {
            return Err(client::bad(
                &target,
                "index",
                "its platform entry is another index, which hardport does not follow".into(),
            ));
        };
        let config_bytes = self.config_blob(&target, &config)?;
        let name = format!("{} config {}", target.canonical, config.digest);
        let facts = crate::oci_config::parse(&config_bytes, Path::new(&name))
            .map_err(|error| client::bad(&target, "image config", error.to_string()))?;
        let platform = config_platform(&config_bytes)
            .unwrap_or_else(|| self.transport.options().platform.clone());
        let layer_facts = layers::read(&self.transport, &target, &layers)?;
        let spec = with_layer_facts(facts.spec, &layer_facts);
        Ok(ResolvedImage {
            reference: target.canonical.clone(),
            digest: fetched.digest,
            index_digest,
            config_digest: config.digest.clone(),
            platform,
            spec,
            unknown: layer_facts.unknown.clone(),
            layers: layer_facts,
        })
    }

    /// Whether the manifest `reference` names exists (`HEAD`; a missing repository is
    /// `false` too).
    pub fn manifest_exists(&self, reference: &ImageRef) -> Result<bool, RegistryError> {
        manifest::exists(&self.transport, &Target::of(reference)?)
    }

    /// Every tag of the repository `repository` names (its tag and digest are ignored), all
    /// pages of the listing.
    pub fn tags(&self, repository: &ImageRef) -> Result<Vec<String>, RegistryError> {
        tags::list(&self.transport, &Target::of(repository)?)
    }

    /// The image config blob, of at most [`Limits::manifest_bytes`], checked against its
    /// digest.
    fn config_blob(
        &self,
        target: &Target,
        config: &manifest::Descriptor,
    ) -> Result<Vec<u8>, RegistryError> {
        let limit = self.transport.options().limits.manifest_bytes;
        if config.size.is_some_and(|size| size > limit) {
            return Err(client::bad(
                target,
                "image config",
                format!(
                    "the manifest gives it {} bytes, over the {limit}-byte limit",
                    config.size.unwrap_or_default()
                ),
            ));
        }
        let digest = &config.digest;
        let response = self.transport.request(
            target,
            client::Method::Get,
            &format!("blobs/{digest}"),
            None,
        )?;
        let status = response.status();
        if !status.is_success() {
            return Err(client::status_error(
                target,
                status,
                "an image config request",
            ));
        }
        let bytes = self.transport.read_body(target, response, "image config")?;
        manifest::check_digest(target, "image config", digest, &bytes)?;
        Ok(bytes)
    }
}

/// The config's own `os`/`architecture`/`variant`.
fn config_platform(bytes: &[u8]) -> Option<Platform> {
    let raw: manifest::RawPlatform = serde_json::from_slice(bytes).ok()?;
    let platform = raw.platform();
    (!platform.os.is_empty() && !platform.architecture.is_empty()).then_some(platform)
}

/// The config's facts completed with the layers': names to ids, shell, package manager, and
/// the user's primary group from `/etc/passwd` when `User` names no group.
fn with_layer_facts(mut spec: ImageSpec, layers: &LayerFacts) -> ImageSpec {
    spec.users = layers.users.clone();
    spec.groups = layers.groups.clone();
    spec.shell = layers.shell;
    spec.package_manager = layers.package_manager.clone().flatten();
    spec.distribution = layers.distribution.clone().flatten();
    if spec.group.is_none()
        && let (Some(Id(user)), Some(primary)) = (&spec.user, &layers.primary_groups)
    {
        spec.group = primary.get(user).cloned();
    }
    spec
}

#[cfg(test)]
mod tests;
