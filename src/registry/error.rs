//! [`RegistryError`]: every way reading an image from its registry can fail, each message
//! naming the image (as the user wrote it, canonicalised) and the registry host, so a run over
//! many images says which one failed and where.

/// Why an image could not be read from its registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The options cannot be used (an unreadable CA file, a bad platform).
    #[error("registry options: {message}")]
    Options { message: String },
    /// The reference cannot name an image in a registry (it holds a variable, say).
    #[error("cannot read {reference} from a registry: {message}")]
    Reference { reference: String, message: String },
    /// No connection (refused, DNS, TLS, timeout) after every retry.
    #[error("cannot reach {host} ({reason}) for {reference}")]
    Unreachable {
        host: String,
        reference: String,
        reason: String,
    },
    /// The registry wants credentials and none are configured for it.
    #[error(
        "{host} refused anonymous access to {reference} (the image does not exist, or it needs credentials: `docker login {host}`)"
    )]
    AuthRequired { host: String, reference: String },
    /// The registry (or its token service) refused the configured credentials.
    #[error("{host} refused the credentials for {reference}: {reason}")]
    AuthFailed {
        host: String,
        reference: String,
        reason: String,
    },
    /// The credentials for the registry could not be read (config.json, a credential helper).
    #[error("cannot read the credentials for {host} (needed for {reference}): {message}")]
    Credentials {
        host: String,
        reference: String,
        message: String,
    },
    /// The tag, digest or repository does not exist.
    #[error("{reference} does not exist on {host} ({what})")]
    NotFound {
        host: String,
        reference: String,
        what: String,
    },
    /// An HTTP status the protocol does not expect.
    #[error("{host} answered HTTP {status} to {what} for {reference}")]
    Status {
        host: String,
        reference: String,
        status: u16,
        what: String,
    },
    /// A response hardport cannot use: bad JSON, too large, a digest that does not match.
    #[error("{host} sent an unusable {what} for {reference}: {message}")]
    BadResponse {
        host: String,
        reference: String,
        what: String,
        message: String,
    },
    /// An index without a manifest for the wanted platform.
    #[error(
        "{reference} on {host} has no image for platform {platform} (it has: {available}); choose one with --platform"
    )]
    NoPlatform {
        host: String,
        reference: String,
        platform: String,
        available: String,
    },
    /// A layer that is not a readable (gzip, zstd or plain) tar, or whose digest is wrong.
    #[error("cannot read layer {digest} of {reference} from {host}: {message}")]
    Layer {
        host: String,
        reference: String,
        digest: String,
        message: String,
    },
}
