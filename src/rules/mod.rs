//! The rewrite rules and the ids of everything they report.
//!
//! A rule module inspects one parsed file (through the [`StageModel`], except `base-image`,
//! which creates the references the model resolves) and returns [`Diagnostic`]s; it never edits
//! text. Each diagnostic carries a [`Rule`] id with a fixed severity, so output can be filtered
//! and documented per id.

pub mod base_image;
pub mod dev_variant;
pub mod entrypoint;
pub mod findings;
pub mod user;
pub mod workdir;

#[cfg(test)]
pub(crate) mod test_support;

use std::fmt;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::diagnostic::{Diagnostic, Severity};
use crate::dockerfile::Dockerfile;
use crate::stages::StageModel;

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
    /// A stage that runs commands was given the `-dev` variant (shell and package manager).
    DevVariant,
    /// The final stage runs commands, so it ships the `-dev` variant: split build and runtime.
    RuntimeSplit,
    /// A named user or group of the public image was replaced by the replacement's numeric id.
    UserMapping,
    /// `USER root` was inserted before commands that need root, and the runtime user restored.
    UserRoot,
    /// The final stage runs as root although the replacement's runtime user is not root.
    FinalRoot,
    /// ENTRYPOINT/CMD were adjusted to run the same program on the replacement.
    Entrypoint,
    /// A shell-form ENTRYPOINT/CMD/HEALTHCHECK was written in exec form for a shell-less image.
    ExecForm,
    /// A command needs a shell the replacement does not have.
    NeedsShell,
    /// A WORKDIR the runtime user cannot write was moved to the replacement's working directory.
    Workdir,
    /// A path the catalog says moved was rewritten (VOLUME, ENV, WORKDIR, COPY destination).
    DataPath,
    /// EXPOSE of a port below 1024 while the runtime user is not root.
    PrivilegedPort,
    /// A package manager the replacement does not have, or may not have.
    PackageManager,
    /// A feature of the public image's entrypoint script the replacement lacks.
    EntrypointFeature,
    /// ONBUILD triggers run later, in images built on this one.
    Onbuild,
    /// A rule needed a fact the catalog does not have.
    MissingFact,
}

impl Rule {
    pub const ALL: [Rule; 20] = [
        Rule::BaseImage,
        Rule::UnmappedImage,
        Rule::DigestDropped,
        Rule::TagVariant,
        Rule::UnresolvedImage,
        Rule::DevVariant,
        Rule::RuntimeSplit,
        Rule::UserMapping,
        Rule::UserRoot,
        Rule::FinalRoot,
        Rule::Entrypoint,
        Rule::ExecForm,
        Rule::NeedsShell,
        Rule::Workdir,
        Rule::DataPath,
        Rule::PrivilegedPort,
        Rule::PackageManager,
        Rule::EntrypointFeature,
        Rule::Onbuild,
        Rule::MissingFact,
    ];

    /// The id shown in messages: `path:line: severity[id]: message`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::BaseImage => "base-image",
            Rule::UnmappedImage => "unmapped-image",
            Rule::DigestDropped => "digest-dropped",
            Rule::TagVariant => "tag-variant",
            Rule::UnresolvedImage => "unresolved-image",
            Rule::DevVariant => "dev-variant",
            Rule::RuntimeSplit => "runtime-split",
            Rule::UserMapping => "user-mapping",
            Rule::UserRoot => "user-root",
            Rule::FinalRoot => "final-root",
            Rule::Entrypoint => "entrypoint",
            Rule::ExecForm => "exec-form",
            Rule::NeedsShell => "needs-shell",
            Rule::Workdir => "workdir",
            Rule::DataPath => "data-path",
            Rule::PrivilegedPort => "privileged-port",
            Rule::PackageManager => "package-manager",
            Rule::EntrypointFeature => "entrypoint-feature",
            Rule::Onbuild => "onbuild",
            Rule::MissingFact => "missing-fact",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::BaseImage
            | Rule::UnmappedImage
            | Rule::DevVariant
            | Rule::UserMapping
            | Rule::UserRoot
            | Rule::Entrypoint
            | Rule::ExecForm
            | Rule::Workdir
            | Rule::DataPath => Severity::Info,
            Rule::DigestDropped
            | Rule::TagVariant
            | Rule::UnresolvedImage
            | Rule::RuntimeSplit
            | Rule::FinalRoot
            | Rule::PrivilegedPort
            | Rule::PackageManager
            | Rule::EntrypointFeature
            | Rule::Onbuild
            | Rule::MissingFact => Severity::Warning,
            Rule::NeedsShell => Severity::Error,
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
                "warns about an image reference that cannot be rewritten safely"
            }
            Rule::DevVariant => "gives a stage that runs commands the -dev variant",
            Rule::RuntimeSplit => "warns that the final stage needs the -dev variant",
            Rule::UserMapping => {
                "rewrites named users and groups of the public image to numeric ids"
            }
            Rule::UserRoot => {
                "inserts USER root before commands that need root and restores the runtime user"
            }
            Rule::FinalRoot => "warns that the final stage runs as root on a non-root replacement",
            Rule::Entrypoint => "makes ENTRYPOINT/CMD run the same program on the replacement",
            Rule::ExecForm => "writes shell-form commands in exec form for a shell-less image",
            Rule::NeedsShell => "reports a command that needs a shell the replacement lacks",
            Rule::Workdir => {
                "moves an unwritable WORKDIR to the replacement's and carries the paths"
            }
            Rule::DataPath => "rewrites paths the catalog says moved",
            Rule::PrivilegedPort => "warns about EXPOSE below 1024 with a non-root runtime user",
            Rule::PackageManager => "warns about a package manager the replacement lacks",
            Rule::EntrypointFeature => {
                "warns about public entrypoint-script features the replacement lacks"
            }
            Rule::Onbuild => "warns that ONBUILD triggers run on images built from this one",
            Rule::MissingFact => "reports a fact a rule needed that the catalog does not have",
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
    let model = StageModel::new(file, context.catalog);
    let mut diagnostics = base_image::check(file, context);
    diagnostics.extend(dev_variant::check(&model));
    diagnostics.extend(user::check(&model));
    diagnostics.extend(entrypoint::check(&model));
    diagnostics.extend(workdir::check(&model));
    diagnostics.extend(findings::check(&model));
    diagnostics
}
