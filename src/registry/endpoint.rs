//! Where an image lives: the registry host to talk to, the repository name in the API's URLs,
//! the tag or digest to ask for, and whether plain HTTP may be tried.

use crate::image_ref::ImageRef;

use super::RegistryError;

/// Docker Hub's canonical registry name (what [`ImageRef::canonical_repository`] writes) and
/// the host that serves its distribution API.
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// One image (or repository) located in its registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `docker.io/library/node:20`, `127.0.0.1:5000/hardened/node@sha256:…`: how errors and
    /// results name the image.
    pub canonical: String,
    /// The registry as canonical names spell it (`docker.io`, `127.0.0.1:5000`): credentials
    /// are looked up under it and errors name it.
    pub host: String,
    /// The host the API is served from (`registry-1.docker.io` for Docker Hub).
    pub api_host: String,
    /// `library/node`.
    pub repository: String,
    /// The tag (default `latest`) or, when the reference has one, the digest to fetch.
    pub reference: String,
    /// The digest the reference carries, to check the manifest against.
    pub digest: Option<String>,
}

impl Target {
    /// Locates `image`. A reference with a variable names no image a registry can answer for.
    pub fn of(image: &ImageRef) -> Result<Target, RegistryError> {
        let repository = image
            .canonical_repository()
            .ok_or_else(|| RegistryError::Reference {
                reference: image.to_string(),
                message: "it contains a variable; give the value it has at build time".into(),
            })?;
        // canonical_repository always names the registry first.
        let (host, path) = repository
            .split_once('/')
            .unwrap_or((DOCKER_HUB, repository.as_str()));
        let tag = image.tag.as_deref();
        let mut canonical = repository.clone();
        if let Some(tag) = tag {
            canonical.push(':');
            canonical.push_str(tag);
        }
        if let Some(digest) = &image.digest {
            canonical.push('@');
            canonical.push_str(digest);
        } else if tag.is_none() {
            canonical.push_str(":latest");
        }
        let api_host = if host == DOCKER_HUB {
            DOCKER_HUB_API.to_owned()
        } else {
            host.to_owned()
        };
        Ok(Target {
            host: host.to_owned(),
            api_host,
            repository: path.to_owned(),
            reference: image
                .digest
                .clone()
                .or_else(|| tag.map(str::to_owned))
                .unwrap_or_else(|| "latest".into()),
            digest: image.digest.clone(),
            canonical,
        })
    }

    /// The same repository with another tag or digest (a platform's manifest in an index).
    pub fn with_reference(&self, reference: &str) -> Target {
        Target {
            reference: reference.to_owned(),
            ..self.clone()
        }
    }

    /// Whether this registry may be spoken to over plain HTTP: a loopback host, or one the
    /// user named as insecure (by host, or host and port). HTTPS is still tried first.
    pub fn allows_plain_http(&self, insecure: &[String]) -> bool {
        let name = host_name(&self.host);
        matches!(name, "localhost" | "127.0.0.1" | "[::1]" | "::1")
            || insecure.iter().any(|allowed| {
                let allowed = allowed.trim().to_ascii_lowercase();
                allowed == self.host || allowed == name
            })
    }
}

/// `host` without its `:port` (IPv6 literals keep their brackets).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.split(':').next().unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(text: &str) -> Target {
        Target::of(&ImageRef::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn official_docker_hub_images_get_the_library_namespace_and_the_api_host() {
        let node = target("node:20");
        assert_eq!(node.canonical, "docker.io/library/node:20");
        assert_eq!(node.host, "docker.io");
        assert_eq!(node.api_host, "registry-1.docker.io");
        assert_eq!(node.repository, "library/node");
        assert_eq!(node.reference, "20");
        let bitnami = target("index.docker.io/bitnami/redis");
        assert_eq!(bitnami.canonical, "docker.io/bitnami/redis:latest");
        assert_eq!(bitnami.repository, "bitnami/redis");
        assert_eq!(bitnami.reference, "latest");
    }

    #[test]
    fn a_digest_is_what_is_fetched_and_checked() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let pinned = target(&format!("Quay.io/argoproj/argocd:v2@{digest}"));
        assert_eq!(pinned.host, "quay.io");
        assert_eq!(pinned.api_host, "quay.io");
        assert_eq!(pinned.reference, digest);
        assert_eq!(pinned.digest.as_deref(), Some(digest.as_str()));
        assert_eq!(
            pinned.canonical,
            format!("quay.io/argoproj/argocd:v2@{digest}")
        );
    }

    #[test]
    fn a_variable_is_refused_with_the_reference_named() {
        let error = Target::of(&ImageRef::parse("${REGISTRY}/node:20").unwrap()).unwrap_err();
        assert!(error.to_string().contains("${REGISTRY}/node:20"), "{error}");
    }

    #[test]
    fn plain_http_is_allowed_for_loopback_and_named_hosts_only() {
        let insecure = vec!["registry.internal".to_owned(), "other:5000".to_owned()];
        for (text, allowed) in [
            ("127.0.0.1:5077/node:20", true),
            ("localhost/node", true),
            ("[::1]:5000/node", true),
            ("registry.internal:443/node", true),
            ("other:5000/node", true),
            ("other:6000/node", false),
            ("ghcr.io/owner/node", false),
            ("node", false),
        ] {
            assert_eq!(target(text).allows_plain_http(&insecure), allowed, "{text}");
        }
    }
}
