//! The rewrite rules and the ids of everything they report.
//!
//! A rule module inspects one parsed file (through the [`StageModel`], except `base-image`,
//! which creates the references the model resolves) and returns [`Diagnostic`]s; it never edits
//! text. Each diagnostic carries a [`Rule`] id with a fixed severity, so output can be filtered
//! and documented per id.
//!
//! Each id is documented in the `//!` header of the module that reports it; `hardport explain
//! ID` prints that header (see [`docs`]). Four ids are reported from many places, or from here,
//! and are documented here instead.
//!
//! ## `missing-fact`
//!
//! ### What it reports
//! A rule needed a fact about the public image or its replacement that the catalog does not
//! state: the replacement's runtime user, group, entrypoint, working directory, shell, package
//! manager or `-dev` tag suffix, or the public image's entrypoint, working directory or named
//! users. The warning names the catalog entry and the field to add (`hardened.user`,
//! `public.users`, …).
//!
//! ### Why
//! Catalog facts come from cited sources and an absent field means unknown, never a default.
//! A guessed uid or entrypoint would produce a file that looks migrated and fails at run time;
//! a warning that names the missing field lets a person add the fact once, for every file.
//!
//! ### Example
//! ```text
//! web/Dockerfile:4: warning[missing-fact]: stage `build` runs RUN steps as user 1000 after
//!   `WORKDIR /src`, which that user may not be able to write on node's replacement; to move it
//!   hardport needs the replacement's working directory: add `hardened.workdir` to catalog
//!   entry `node` (or supply the image's OCI config)
//! ```
//!
//! ### Fix safety
//! Reports only. Whatever depends on the missing fact is left as it was; the rest of the
//! migration still happens.
//!
//! ## `chart-metadata`
//!
//! ### What it reports
//! The `Chart.yaml` beside a Helm values file exists but cannot be read or parsed. The chart
//! is read for a values file that names an image (or, to find its dependencies, one that does
//! not), so a broken one is reported on such a file.
//!
//! ### Why
//! The chart tells which `appVersion` an empty image tag renders, whether the chart is a
//! Bitnami chart, and which values keys its templates read. Without it those checks run as if
//! the chart said nothing, and the warning says so instead of failing the values file.
//!
//! ### Example
//! ```text
//! charts/web/values.yaml:1: warning[chart-metadata]: cannot read the chart's
//!   charts/web/Chart.yaml:3: did not find expected ',' or ']' …; rules that need the chart
//!   (appVersion, Bitnami detection, templates) ran without it
//! ```
//!
//! ### Fix safety
//! Reports only. The values file is still migrated, without what the chart would have told:
//! `app-version-tag` stays silent, a Bitnami chart is recognised only by the `bitnami/*` images
//! its values name, and a component without a security-context block is reported
//! (`security-context-unset`) instead of given one.
//!
//! ## `not-editable`
//!
//! ### What it reports
//! A Helm values change hardport needs but cannot make in place, with what to change by hand:
//! `global.security.allowInsecureImages: true` for a Bitnami chart whose `global` (or
//! `security`) is null, an alias, a scalar or a `[key: value]` pair, or whose switch is a
//! block scalar; a data path (`mountPath`, `…DataDir`) that must move but is an alias or a block
//! scalar.
//!
//! ### Why
//! These changes are what makes the migrated chart work: without the switch a Bitnami chart
//! refuses to render the replacement, and a replacement that keeps its data elsewhere starts
//! on an empty volume. A change the file's layout prevents is a warning, so `--check` fails
//! until someone makes it, rather than an info line that passes unnoticed.
//!
//! ### Example
//! ```text
//! charts/db/values.yaml:1: warning[not-editable]: set global.security.allowInsecureImages:
//!   true by hand (keys can only be added to a mapping): Bitnami charts refuse images their
//!   Chart.yaml does not list unless global.security.allowInsecureImages is true
//! ```
//!
//! ### Fix safety
//! Reports only: the file is left as it is where the change belongs; the rest of the migration
//! still happens.
//!
//! ## `ignored-document`
//!
//! ### What it reports
//! A values file holds more than one YAML document (separated by `---`): every document after
//! the first that has content is reported, once, and left as it is.
//!
//! ### Why
//! Helm reads only the first document of a values file (`helm template -f` and a chart's own
//! `values.yaml` alike: Go's YAML decoder stops after it), so the later ones never reach the
//! chart. Migrating them would change text that has no effect and hide that it has none;
//! leaving them alone without a word would hide the same thing. The Helm rules run on the
//! first document only.
//!
//! ### Example
//! ```text
//! charts/web/values.yaml:5: info[ignored-document]: document 2 of this values file is ignored
//!   by Helm, which reads only the first; hardport left it alone
//! ```
//!
//! ### Fix safety
//! Reports only. Move what the later document holds into the first one if the chart is meant
//! to read it, then run hardport again.
//!
//! ## `verify`
//!
//! ### What it reports
//! With `hardport migrate --verify`, each chart is rendered with its own `values.yaml` by the
//! user's `helm template`, before and after the migration (once when nothing changes), from a
//! private copy of the chart.
//! `verify` (warning) names each container that does not run what the migration should give
//! it: an image the catalog maps that still runs from elsewhere (`docker.io/reg.mini.dev/...`
//! included), an unmapped image that changed, a `runAsUser`/`runAsGroup` that is not the
//! replacement's uid/gid, a container that appears or disappears; and a chart that did not
//! render before the migration (nothing to compare). `verify-render` (error) is a chart that
//! rendered before and does not after.
//!
//! ### Why
//! A values file is read by templates hardport does not run: only rendering shows that the
//! pods run the replacements, with ids that match them, and nothing else changed.
//!
//! ### Example
//! ```text
//! charts/shop/values.yaml:1: warning[verify]: container `redis` of StatefulSet
//!   hardport-verify-redis ran docker.io/bitnami/redis:7.4.1-debian-12-r0, which catalog entry
//!   `bitnami/redis` replaces with reg.mini.dev/bitnami/redis, and runs
//!   docker.io/reg.mini.dev/bitnami/redis:7.4.1 after the migration
//! ```
//!
//! ### Fix safety
//! Reports only; `--verify` changes nothing. Other values files (`values-prod.yaml`) are not
//! rendered: the chart is rendered with its own `values.yaml`, so the result does not depend on
//! which of them were written first (a local subchart's values are rendered as they are on
//! disk at that moment).

pub mod base_image;
pub mod compose;
pub mod dev_variant;
pub mod docs;
pub mod entrypoint;
pub mod findings;
pub mod helm_bitnami;
pub mod helm_images;
pub mod helm_paths;
pub mod helm_probes;
pub mod helm_security;
pub mod helm_strings;
pub mod helm_subcharts;
pub mod kustomize;
pub mod manifest;
pub mod package_install;
pub mod pin_digest;
pub(crate) mod reference;
pub mod rule_set;
pub(crate) mod runtime;
pub mod suppression;
pub mod user;
pub mod workdir;
pub mod workflow;

#[cfg(test)]
pub(crate) mod test_support;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::diagnostic::{Diagnostic, Severity};
use crate::discovery::FileKind;
use crate::dockerfile::Dockerfile;
use crate::helm::chart::{Chart, LazyChart};
use crate::kubernetes::{ImageEntry, KustomizeView};
use crate::stages::StageModel;
use crate::yaml::Stream;
pub use rule_set::{RuleSelector, RuleSet};

/// Every id a diagnostic can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A public image reference the catalog maps was rewritten to its hardened replacement.
    BaseImage,
    /// An image reference the catalog does not map; it stays as it is.
    UnmappedImage,
    /// A digest pinned the public image; it was dropped with the rewrite.
    DigestDropped,
    /// A replacement reference was pinned by the digest of `hardport.lock` (`--pin`).
    PinDigest,
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
    /// Package commands of another manager were rewritten into the replacement's apk.
    PackageInstall,
    /// A `RUN` passes `tar` an option BusyBox's `tar` lacks, on an apk-based replacement.
    BusyboxOption,
    /// A feature of the public image's entrypoint script the replacement lacks.
    EntrypointFeature,
    /// ONBUILD triggers run later, in images built on this one.
    Onbuild,
    /// A rule needed a fact the catalog does not have.
    MissingFact,
    /// An image in Helm values was rewritten to its replacement, in the shape it was written.
    HelmImage,
    /// An empty image tag renders the chart's `appVersion`, which the replacement does not publish.
    AppVersionTag,
    /// A Helm security context was set to the replacement's uid and gid.
    SecurityContext,
    /// A Helm security context that should follow the replacement's user could not be set.
    SecurityContextUnset,
    /// A Bitnami chart was told to accept images outside its own list.
    AllowInsecureImages,
    /// An exec probe runs a program the shell-less replacement may lack.
    ExecProbe,
    /// The values file's `Chart.yaml` could not be read.
    ChartMetadata,
    /// A needed Helm values change cannot be made in place; it is to be made by hand.
    NotEditable,
    /// A later document of a values file, which Helm ignores, was left alone.
    IgnoredDocument,
    /// An image tag written as a number that Helm renders differently (`1.20` → `1.2`).
    NumericTag,
    /// A vendored subchart's image was moved through the parent's values.
    SubchartImage,
    /// A chart dependency is not vendored, so the images it runs are unknown.
    SubchartNotVendored,
    /// A Compose service's image was rewritten to its replacement.
    ComposeImage,
    /// A Kubernetes manifest's container image was rewritten to its replacement.
    ManifestImage,
    /// A kustomization's `images:` entry was pointed at the replacement.
    KustomizeImage,
    /// A workflow's job container or service image was rewritten to its replacement.
    WorkflowImage,
    /// `--verify`: a rendered container does not run what the migration should give it.
    Verify,
    /// `--verify`: the chart no longer renders after the migration.
    VerifyRender,
    /// A `# hardport: ignore` comment suppresses nothing.
    UnusedSuppression,
}

impl Rule {
    pub const ALL: [Rule; 42] = [
        Rule::BaseImage,
        Rule::UnmappedImage,
        Rule::DigestDropped,
        Rule::PinDigest,
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
        Rule::PackageInstall,
        Rule::BusyboxOption,
        Rule::EntrypointFeature,
        Rule::Onbuild,
        Rule::MissingFact,
        Rule::HelmImage,
        Rule::AppVersionTag,
        Rule::SecurityContext,
        Rule::SecurityContextUnset,
        Rule::AllowInsecureImages,
        Rule::ExecProbe,
        Rule::ChartMetadata,
        Rule::NotEditable,
        Rule::IgnoredDocument,
        Rule::NumericTag,
        Rule::SubchartImage,
        Rule::SubchartNotVendored,
        Rule::ComposeImage,
        Rule::ManifestImage,
        Rule::KustomizeImage,
        Rule::WorkflowImage,
        Rule::Verify,
        Rule::VerifyRender,
        Rule::UnusedSuppression,
    ];

    /// The id shown in messages: `path:line: severity[id]: message`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::BaseImage => "base-image",
            Rule::UnmappedImage => "unmapped-image",
            Rule::DigestDropped => "digest-dropped",
            Rule::PinDigest => "pin-digest",
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
            Rule::PackageInstall => "package-install",
            Rule::BusyboxOption => "busybox-option",
            Rule::EntrypointFeature => "entrypoint-feature",
            Rule::Onbuild => "onbuild",
            Rule::MissingFact => "missing-fact",
            Rule::HelmImage => "helm-image",
            Rule::AppVersionTag => "app-version-tag",
            Rule::SecurityContext => "security-context",
            Rule::SecurityContextUnset => "security-context-unset",
            Rule::AllowInsecureImages => "allow-insecure-images",
            Rule::ExecProbe => "exec-probe",
            Rule::ChartMetadata => "chart-metadata",
            Rule::NotEditable => "not-editable",
            Rule::IgnoredDocument => "ignored-document",
            Rule::NumericTag => "numeric-tag",
            Rule::SubchartImage => "subchart-image",
            Rule::SubchartNotVendored => "subchart-not-vendored",
            Rule::ComposeImage => "compose-image",
            Rule::ManifestImage => "manifest-image",
            Rule::KustomizeImage => "kustomize-image",
            Rule::WorkflowImage => "workflow-image",
            Rule::Verify => "verify",
            Rule::VerifyRender => "verify-render",
            Rule::UnusedSuppression => "unused-suppression",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::BaseImage
            | Rule::UnmappedImage
            | Rule::PinDigest
            | Rule::DevVariant
            | Rule::UserMapping
            | Rule::UserRoot
            | Rule::Entrypoint
            | Rule::ExecForm
            | Rule::Workdir
            | Rule::DataPath
            | Rule::HelmImage
            | Rule::SecurityContext
            | Rule::AllowInsecureImages
            | Rule::IgnoredDocument
            | Rule::SubchartImage
            | Rule::ComposeImage
            | Rule::ManifestImage
            | Rule::KustomizeImage
            | Rule::WorkflowImage
            | Rule::PackageInstall => Severity::Info,
            Rule::DigestDropped
            | Rule::TagVariant
            | Rule::UnresolvedImage
            | Rule::RuntimeSplit
            | Rule::FinalRoot
            | Rule::PrivilegedPort
            | Rule::PackageManager
            | Rule::BusyboxOption
            | Rule::EntrypointFeature
            | Rule::Onbuild
            | Rule::MissingFact
            | Rule::AppVersionTag
            | Rule::SecurityContextUnset
            | Rule::ExecProbe
            | Rule::ChartMetadata
            | Rule::NotEditable
            | Rule::NumericTag
            | Rule::SubchartNotVendored
            | Rule::Verify
            | Rule::UnusedSuppression => Severity::Warning,
            Rule::NeedsShell | Rule::VerifyRender => Severity::Error,
        }
    }

    /// Whether the rule can change the file; the others only report.
    pub fn fixes(self) -> bool {
        match self {
            Rule::BaseImage
            | Rule::PinDigest
            | Rule::DevVariant
            | Rule::UserMapping
            | Rule::UserRoot
            | Rule::Entrypoint
            | Rule::ExecForm
            | Rule::Workdir
            | Rule::DataPath
            | Rule::HelmImage
            | Rule::SecurityContext
            | Rule::AllowInsecureImages
            | Rule::SubchartImage
            | Rule::ComposeImage
            | Rule::ManifestImage
            | Rule::KustomizeImage
            | Rule::WorkflowImage
            | Rule::PackageInstall => true,
            Rule::UnmappedImage
            | Rule::DigestDropped
            | Rule::TagVariant
            | Rule::UnresolvedImage
            | Rule::RuntimeSplit
            | Rule::FinalRoot
            | Rule::NeedsShell
            | Rule::PrivilegedPort
            | Rule::PackageManager
            | Rule::BusyboxOption
            | Rule::EntrypointFeature
            | Rule::Onbuild
            | Rule::MissingFact
            | Rule::AppVersionTag
            | Rule::SecurityContextUnset
            | Rule::ExecProbe
            | Rule::ChartMetadata
            | Rule::NotEditable
            | Rule::IgnoredDocument
            | Rule::NumericTag
            | Rule::SubchartNotVendored
            | Rule::Verify
            | Rule::VerifyRender
            | Rule::UnusedSuppression => false,
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
            Rule::PinDigest => "pins replacement references by the digest of hardport.lock (--pin)",
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
            Rule::DataPath => "rewrites paths the catalog says moved (Dockerfiles and Helm values)",
            Rule::PrivilegedPort => "warns about EXPOSE below 1024 with a non-root runtime user",
            Rule::PackageManager => {
                "warns about a package manager the replacement lacks, or a RUN left unconverted"
            }
            Rule::BusyboxOption => {
                "warns that tar, sed or adduser is given an option BusyBox's lacks"
            }
            Rule::PackageInstall => {
                "rewrites apt-get/yum/dnf package commands into apk with the replacement's package names, useradd/groupadd into busybox's"
            }
            Rule::EntrypointFeature => {
                "warns about public entrypoint-script features the replacement lacks"
            }
            Rule::Onbuild => "warns that ONBUILD triggers run on images built from this one",
            Rule::MissingFact => "reports a fact a rule needed that the catalog does not have",
            Rule::HelmImage => {
                "rewrites images in Helm values to the hardened replacement, in the same shape"
            }
            Rule::AppVersionTag => {
                "warns that an empty tag renders an appVersion the replacement does not publish"
            }
            Rule::SecurityContext => {
                "sets a Helm security context to the replacement's uid, gid and runAsNonRoot"
            }
            Rule::SecurityContextUnset => {
                "warns about a security context that is disabled, missing or shared"
            }
            Rule::AllowInsecureImages => {
                "sets global.security.allowInsecureImages so a Bitnami chart accepts the replacement"
            }
            Rule::ExecProbe => "warns about exec probes that need a shell or tools",
            Rule::ChartMetadata => "warns that a values file's Chart.yaml cannot be read",
            Rule::NotEditable => {
                "warns about a needed Helm values change that has to be made by hand"
            }
            Rule::IgnoredDocument => {
                "notes a later YAML document of a values file, which Helm ignores and hardport leaves"
            }
            Rule::NumericTag => {
                "warns about an image tag Helm renders as another number (1.20 → 1.2)"
            }
            Rule::SubchartImage => {
                "moves a vendored subchart's images through the parent chart's values"
            }
            Rule::SubchartNotVendored => {
                "warns that a chart dependency is not vendored, so its images are unknown"
            }
            Rule::ComposeImage => {
                "rewrites Compose services' images to the replacement and maps their user"
            }
            Rule::ManifestImage => {
                "rewrites Kubernetes manifests' container images to the replacement"
            }
            Rule::KustomizeImage => "points a kustomization's `images:` entries at the replacement",
            Rule::WorkflowImage => {
                "rewrites workflow job containers (-dev) and services to the replacement"
            }
            Rule::Verify => {
                "with --verify: a rendered container does not run what the migration should give it"
            }
            Rule::VerifyRender => "with --verify: the chart no longer renders after the migration",
            Rule::UnusedSuppression => {
                "reports a `# hardport: ignore[rule]` comment that suppresses nothing"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rule id that names no [`Rule`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule `{id}`; the rules are: {}", Rule::ALL.map(Rule::code).join(", "))]
pub struct UnknownRule {
    pub id: String,
}

impl FromStr for Rule {
    type Err = UnknownRule;

    /// The rule whose [`Rule::code`] is `id`.
    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .into_iter()
            .find(|rule| rule.code() == id)
            .ok_or_else(|| UnknownRule { id: id.to_owned() })
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// Programs that are a shell: a command that runs one needs a shell in the image.
pub(crate) const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"];

/// The last `/`-separated part of a path (`/bin/sh` → `sh`).
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What rules may consult besides the file itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    chart: ChartSource<'a>,
    /// Whether replacement references are pinned by the digests of the lock (`--pin`).
    pub pin: Pin,
    /// The rules that run; the others neither report nor fix.
    pub rules: RuleSet,
    /// For a Kubernetes manifest or a kustomization: the image names the kustomizations that
    /// build it rename.
    kustomized: Option<&'a KustomizeView>,
}

/// Whether replacement references get a digest (`--pin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pin {
    /// References keep the tag alone; a digest of the public image is dropped and reported.
    #[default]
    Off,
    /// Every replacement reference is pinned by the digest `hardport.lock` holds for it.
    FromLock,
}

/// Where a values file's chart comes from.
#[derive(Debug, Clone, Copy)]
enum ChartSource<'a> {
    /// Read already, or known to be absent.
    Known(Option<&'a Chart>),
    /// Read when a rule first asks.
    Lazy(&'a LazyChart),
}

impl<'a> Context<'a> {
    /// A context with the catalog alone.
    pub fn new(catalog: &'a Catalog) -> Self {
        Context {
            catalog,
            chart: ChartSource::Known(None),
            pin: Pin::Off,
            rules: RuleSet::ALL,
            kustomized: None,
        }
    }

    /// This context for a manifest or kustomization among the kustomizations `kustomized`
    /// shows.
    pub fn with_kustomized(self, kustomized: &'a KustomizeView) -> Self {
        Context {
            kustomized: Some(kustomized),
            ..self
        }
    }

    /// For a manifest: the kustomization that builds it and renames images named `name`, if
    /// one does.
    pub fn kustomized(&self, name: &str) -> Option<&'a str> {
        self.kustomized?.renamer(name)
    }

    /// For a kustomization: the entry of a kustomization it builds from that produces images
    /// named `name` (with that kustomization), if one does.
    pub fn base_producing(&self, name: &str) -> Option<(&'a ImageEntry, &'a str)> {
        self.kustomized?.producer(name)
    }

    /// This context running only `rules`.
    pub fn with_rules(self, rules: RuleSet) -> Self {
        Context { rules, ..self }
    }

    /// This context with the pinning policy `pin`.
    pub fn pinning(self, pin: Pin) -> Self {
        Context { pin, ..self }
    }

    /// This context for a values file of `chart`.
    pub fn with_chart(self, chart: Option<&'a Chart>) -> Self {
        Context {
            chart: ChartSource::Known(chart),
            ..self
        }
    }

    /// This context for a values file whose chart is read only if a rule needs it.
    pub fn with_lazy_chart(self, chart: &'a LazyChart) -> Self {
        Context {
            chart: ChartSource::Lazy(chart),
            ..self
        }
    }

    /// The chart a Helm values file belongs to, when its directory has a readable `Chart.yaml`.
    pub fn chart(&self) -> Option<&'a Chart> {
        match self.chart {
            ChartSource::Known(chart) => chart,
            ChartSource::Lazy(chart) => chart.get(),
        }
    }
}

/// The rule that rewrites the images of a file of `kind`, which every other rule follows.
pub fn image_rewrite(kind: FileKind) -> Rule {
    match kind {
        FileKind::Dockerfile => Rule::BaseImage,
        FileKind::HelmValues => Rule::HelmImage,
        FileKind::Compose => Rule::ComposeImage,
        FileKind::Manifest => Rule::ManifestImage,
        FileKind::Kustomization => Rule::KustomizeImage,
        FileKind::Workflow => Rule::WorkflowImage,
    }
}

/// Run the rules of a YAML file that is neither Helm values nor a Dockerfile: a Compose file,
/// Kubernetes manifests, a kustomization or a workflow.
pub fn check_yaml(kind: FileKind, stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    match kind {
        FileKind::Compose => compose::check(stream, context),
        FileKind::Manifest => manifest::check(stream, context),
        FileKind::Kustomization => kustomize::check(stream, context),
        FileKind::Workflow => workflow::check(stream, context),
        FileKind::Dockerfile | FileKind::HelmValues => Vec::new(),
    }
}

/// Run every Dockerfile rule over one parsed file.
pub fn check_dockerfile(file: &Dockerfile<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let model = StageModel::new(file, context.catalog);
    let mut diagnostics = base_image::check(file, context);
    diagnostics.extend(dev_variant::check(&model));
    let users = user::check(&model);
    diagnostics.extend(users.diagnostics);
    diagnostics.extend(entrypoint::check(&model));
    // Who runs each RUN once `user-root` has inserted its lines: a RUN it keeps as root can
    // write anywhere.
    diagnostics.extend(workdir::check(&model, &users.switches));
    diagnostics.extend(package_install::check(&model));
    diagnostics.extend(findings::check(&model));
    diagnostics.extend(pin_digest::check_dockerfile(&model, context));
    diagnostics
}

/// Run every Helm values rule over the first document of one parsed values file, the only one
/// Helm reads; each later document with content is reported as ignored (`ignored-document`).
pub fn check_helm_values(stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let Some((first, later)) = stream.documents.split_first() else {
        return diagnostics;
    };
    let mut values = crate::helm::values(first, context.catalog, context.chart());
    let subcharts = helm_subcharts::check(stream, &values, context);
    values.hand_over_to_subcharts(&subcharts.owned);
    diagnostics.extend(subcharts.diagnostics);
    diagnostics.extend(helm_images::check(stream, &values, context));
    diagnostics.extend(helm_strings::check(stream, &values, context));
    diagnostics.extend(pin_digest::check_helm(stream, &values, context));
    diagnostics.extend(helm_security::check(stream, &values, context));
    diagnostics.extend(helm_paths::check(stream, &values));
    diagnostics.extend(helm_probes::check(&values, context));
    diagnostics.extend(helm_bitnami::check(
        stream,
        &values,
        context,
        subcharts.bitnami_runs_replacement,
    ));
    for (index, document) in later.iter().enumerate() {
        // An empty document (a trailing `---`) holds nothing Helm would miss.
        if document.root.full_range().is_empty() {
            continue;
        }
        diagnostics.push(Diagnostic::report(
            Rule::IgnoredDocument,
            document.root.full_range(),
            format!(
                "document {} of this values file is ignored by Helm, which reads only the first; hardport left it alone",
                index + 2
            ),
        ));
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_parses_back_to_its_rule_and_ids_are_unique() {
        let mut ids: Vec<&str> = Rule::ALL.map(Rule::code).to_vec();
        for rule in Rule::ALL {
            assert_eq!(rule.code().parse::<Rule>(), Ok(rule));
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
    }

    #[test]
    fn only_the_first_document_of_a_values_file_is_migrated_and_later_ones_are_reported() {
        let (text, messages) =
            test_support::run_values("image: nginx:1.27\n---\nimage: nginx:1.27\n---\n", None);
        assert_eq!(
            text,
            "image: reg.example.dev/nginx:1.27\n---\nimage: nginx:1.27\n---\n"
        );
        let ignored: Vec<&String> = messages
            .iter()
            .filter(|m| m.starts_with("ignored-document"))
            .collect();
        assert_eq!(
            ignored,
            [
                "ignored-document: document 2 of this values file is ignored by Helm, which reads only the first; hardport left it alone"
            ],
            "{messages:?}"
        );
        let (_, messages) = test_support::run_values("image: nginx:1.27\n", None);
        assert!(!test_support::has(&messages, "ignored-document"));
    }

    #[test]
    fn an_unknown_id_is_an_error_that_lists_the_ids() {
        let error = "base-images".parse::<Rule>().expect_err("unknown");
        let message = error.to_string();
        assert!(message.starts_with("unknown rule `base-images`; the rules are: base-image, "));
        assert!(
            message.ends_with(
                ", subchart-not-vendored, compose-image, manifest-image, kustomize-image, workflow-image, verify, verify-render, unused-suppression"
            ),
            "{message}"
        );
    }
}
