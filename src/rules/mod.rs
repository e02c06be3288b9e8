//! The rewrite rules and the ids of everything they report.
//!
//! A rule module inspects one parsed file and returns [`Diagnostic`]s; it never edits text. Each
//! diagnostic carries a [`Rule`] id with a fixed severity, so `hardport` output can be filtered
//! and documented per id.

pub mod base_image;

use std::fmt;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::diagnostic::{Diagnostic, Severity};
use crate::dockerfile::Dockerfile;

/// Every id a diagnostic can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A public image reference the catalog maps was rewritten to its hardened replacement.
    BaseImage,
    /// An image reference the catalog does not map; it stays as it is.
    UnmappedImage,
    /// A digest pinned the public image; it was dropped with the rewrite.
    DigestDropped,
    /// The tag names a variant (`-fpm`, `-perl`) the replacement may not publish.
    TagVariant,
    /// An image reference built from variables that hardport cannot rewrite safely.
    UnresolvedImage,
}

impl Rule {
    pub const ALL: [Rule; 5] = [
        Rule::BaseImage,
        Rule::UnmappedImage,
        Rule::DigestDropped,
        Rule::TagVariant,
        Rule::UnresolvedImage,
    ];

    /// The id shown in messages: `path:line: severity[id]: message`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::BaseImage => "base-image",
            Rule::UnmappedImage => "unmapped-image",
            Rule::DigestDropped => "digest-dropped",
            Rule::TagVariant => "tag-variant",
            Rule::UnresolvedImage => "unresolved-image",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::BaseImage | Rule::UnmappedImage => Severity::Info,
            Rule::DigestDropped | Rule::TagVariant | Rule::UnresolvedImage => Severity::Warning,
        }
    }

    /// One line saying what the rule reports or changes.
    pub fn summary(self) -> &'static str {
        match self {
            Rule::BaseImage => {
                "rewrites FROM, COPY --from, RUN --mount from= and ARG defaults to the hardened replacement"
            }
            Rule::UnmappedImage => "notes an image the catalog has no replacement for",
            Rule::DigestDropped => "warns that a digest pinning the public image was dropped",
            Rule::TagVariant => {
                "warns that a tag variant was kept that the replacement may not publish"
            }
            Rule::UnresolvedImage => {
                "warns about an image reference built from variables that cannot be rewritten safely"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// What rules may consult besides the file itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
}

/// Run every Dockerfile rule over one parsed file.
pub fn check_dockerfile(file: &Dockerfile<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    base_image::check(file, context)
}
