//! Manifests: fetching one, telling an index from an image manifest, picking the platform's
//! image from an index, and checking digests.

use std::fmt::Write as _;

use serde::Deserialize;
use sha2::{Digest as _, Sha256, Sha512};

use super::client::{Method, Transport, bad, status_error};
use super::endpoint::Target;
use super::{Platform, RegistryError};

pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// What the client accepts: both index forms and both image manifest forms. Docker's
/// schema 1 is left out on purpose, so a registry that can convert serves schema 2.
pub(crate) const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A content descriptor: what a manifest says about a blob or another manifest.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Descriptor {
    pub digest: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub platform: Option<RawPlatform>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawPlatform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl RawPlatform {
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|variant| !variant.is_empty()),
        }
    }
}

/// Either shape a manifest endpoint returns; which one is decided by [`Manifest::kind`].
#[derive(Debug, Deserialize)]
struct Raw {
    #[serde(default, rename = "schemaVersion")]
    schema_version: Option<u64>,
    #[serde(default, rename = "mediaType")]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// A fetched manifest.
#[derive(Debug)]
pub(crate) enum Manifest {
    Index(Vec<Descriptor>),
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
}

/// A manifest and the digest of its bytes.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub manifest: Manifest,
    pub digest: String,
}

/// GETs the manifest `target.reference` names, checks its digest against the reference's
/// (or `expected`), and parses it.
pub(crate) fn fetch(
    transport: &Transport,
    target: &Target,
    expected: Option<&str>,
) -> Result<Fetched, RegistryError> {
    let path = format!("manifests/{}", target.reference);
    let response = transport.request(target, Method::Get, &path, Some(ACCEPT))?;
    let status = response.status();
    if status.as_u16() == 404 {
        return Err(not_found(target));
    }
    if !status.is_success() {
        return Err(status_error(target, status, "a manifest request"));
    }
    let content_type = header(&response, "content-type");
    let announced = header(&response, "docker-content-digest");
    let bytes = transport.read_body(target, response, "manifest")?;
    let digest = sha256_digest(&bytes);
    for claimed in [announced.as_deref(), expected, target.digest.as_deref()]
        .into_iter()
        .flatten()
    {
        check_digest(target, "manifest", claimed, &bytes)?;
    }
    let manifest = parse(target, &bytes, content_type.as_deref())?;
    Ok(Fetched { manifest, digest })
}

/// HEADs the manifest: `true` when it exists.
pub(crate) fn exists(transport: &Transport, target: &Target) -> Result<bool, RegistryError> {
    let path = format!("manifests/{}", target.reference);
    let response = transport.request(target, Method::Head, &path, Some(ACCEPT))?;
    match response.status().as_u16() {
        200..=299 => Ok(true),
        404 => Ok(false),
        _ => Err(status_error(
            target,
            response.status(),
            "a manifest HEAD request",
        )),
    }
}

pub(crate) fn not_found(target: &Target) -> RegistryError {
    RegistryError::NotFound {
        host: target.host.clone(),
        reference: target.canonical.clone(),
        what: format!(
            "no manifest for {:?} in {}",
            target.reference, target.repository
        ),
    }
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Parses manifest bytes, deciding the kind from the media type (body, then header) and,
/// failing both, from the fields present.
fn parse(
    target: &Target,
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<Manifest, RegistryError> {
    let raw: Raw = serde_json::from_slice(bytes)
        .map_err(|error| bad(target, "manifest", error.to_string()))?;
    if raw.schema_version == Some(1) {
        return Err(bad(
            target,
            "manifest",
            "it is a Docker schema 1 manifest, which hardport does not read; push the image again with a current client".into(),
        ));
    }
    let media_type = raw.media_type.clone().or_else(|| {
        content_type.map(|value| value.split(';').next().unwrap_or(value).trim().to_owned())
    });
    let is_index = match media_type.as_deref() {
        Some(OCI_INDEX | DOCKER_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        _ => raw.manifests.is_some(),
    };
    if is_index {
        return raw
            .manifests
            .map(Manifest::Index)
            .ok_or_else(|| bad(target, "index", "it has no `manifests`".into()));
    }
    match (raw.config, raw.layers) {
        (Some(config), layers) => Ok(Manifest::Image {
            config,
            layers: layers.unwrap_or_default(),
        }),
        (None, _) => Err(bad(
            target,
            "manifest",
            format!(
                "it is neither an image index nor an image manifest (media type {})",
                media_type.as_deref().unwrap_or("not given")
            ),
        )),
    }
}

/// The index entry for `platform`.
pub(crate) fn select<'a>(
    target: &Target,
    entries: &'a [Descriptor],
    platform: &Platform,
) -> Result<&'a Descriptor, RegistryError> {
    entries
        .iter()
        .find(|entry| {
            entry
                .platform
                .as_ref()
                .is_some_and(|offered| platform.matches(&offered.platform()))
        })
        .ok_or_else(|| {
            let available: Vec<String> = entries
                .iter()
                .filter_map(|entry| entry.platform.as_ref())
                .map(|offered| offered.platform().to_string())
                .filter(|offered| offered != "unknown/unknown")
                .collect();
            RegistryError::NoPlatform {
                host: target.host.clone(),
                reference: target.canonical.clone(),
                platform: platform.to_string(),
                available: if available.is_empty() {
                    "no platform named".into()
                } else {
                    available.join(", ")
                },
            }
        })
}

/// `sha256:<hex>` of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// Checks `bytes` against a `sha256:` or `sha512:` digest; other algorithms cannot be checked
/// and are an error rather than trusted.
pub(crate) fn check_digest(
    target: &Target,
    what: &str,
    claimed: &str,
    bytes: &[u8],
) -> Result<(), RegistryError> {
    let actual = match claimed.split_once(':') {
        Some(("sha256", _)) => sha256_digest(bytes),
        Some(("sha512", _)) => format!("sha512:{}", hex(&Sha512::digest(bytes))),
        _ => {
            return Err(bad(
                target,
                what,
                format!("digest {claimed:?} uses an algorithm hardport cannot check"),
            ));
        }
    };
    if actual.eq_ignore_ascii_case(claimed) {
        Ok(())
    } else {
        Err(bad(
            target,
            what,
            format!("its content has digest {actual}, not {claimed}"),
        ))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_ref::ImageRef;

    fn target() -> Target {
        Target::of(&ImageRef::parse("127.0.0.1:5000/node:20").unwrap()).unwrap()
    }

    #[test]
    fn an_index_is_told_from_a_manifest_by_media_type_or_fields() {
        let index = br#"{"schemaVersion":2,"manifests":[{"digest":"sha256:aa","platform":{"os":"linux","architecture":"amd64"}}]}"#;
        assert!(
            matches!(parse(&target(), index, None).unwrap(), Manifest::Index(entries) if entries.len() == 1)
        );
        let image = br#"{"schemaVersion":2,"config":{"digest":"sha256:cc"},"layers":[{"digest":"sha256:11"}]}"#;
        assert!(
            matches!(parse(&target(), image, Some(DOCKER_MANIFEST)).unwrap(), Manifest::Image { layers, .. } if layers.len() == 1)
        );
    }

    #[test]
    fn unusable_manifests_are_errors_naming_the_reference() {
        for (bytes, expected) in [
            (&b"not json"[..], "expected ident"),
            (br#"{"schemaVersion":1,"fsLayers":[]}"#, "schema 1"),
            (br#"{"schemaVersion":2}"#, "neither an image index"),
            (
                br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#,
                "no `manifests`",
            ),
        ] {
            let error = parse(&target(), bytes, None).unwrap_err().to_string();
            assert!(
                error.contains("127.0.0.1:5000/node:20") && error.contains(expected),
                "{error}"
            );
        }
    }

    #[test]
    fn the_platform_entry_is_picked_with_variant_defaults() {
        let entries: Vec<Descriptor> = serde_json::from_str(
            r#"[{"digest":"sha256:amd","platform":{"os":"linux","architecture":"amd64"}},
                {"digest":"sha256:arm","platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
                {"digest":"sha256:att","platform":{"os":"unknown","architecture":"unknown"}}]"#,
        )
        .unwrap();
        let pick = |text: &str| {
            select(&target(), &entries, &text.parse().unwrap()).map(|entry| entry.digest.clone())
        };
        assert_eq!(pick("linux/amd64").unwrap(), "sha256:amd");
        assert_eq!(pick("linux/arm64").unwrap(), "sha256:arm");
        assert_eq!(pick("linux/arm64/v8").unwrap(), "sha256:arm");
        let error = pick("linux/s390x").unwrap_err().to_string();
        assert!(
            error.contains("linux/s390x")
                && error.contains("linux/amd64, linux/arm64/v8")
                && !error.contains("unknown"),
            "{error}"
        );
    }

    #[test]
    fn digests_are_checked() {
        let bytes = b"{}";
        let digest = sha256_digest(bytes);
        assert_eq!(
            digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert!(check_digest(&target(), "manifest", &digest, bytes).is_ok());
        let error = check_digest(&target(), "manifest", &digest, b"[]")
            .unwrap_err()
            .to_string();
        assert!(error.contains("not sha256:4413"), "{error}");
        assert!(check_digest(&target(), "manifest", "md5:00", bytes).is_err());
    }
}
