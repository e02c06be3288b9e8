//! Built-in targets: the hardened-image vendors hardport ships a catalog for.
//!
//! A target is only a name for an embedded catalog file (`src/catalog/<name>.yaml`); every fact
//! about its images lives in that file with its `source`, like in a user's `--catalog`. The
//! registry is data too: a catalog that names none (Chainguard's images live under the customer's
//! organization, DHI's under a registry that depends on the subscription) needs `--registry`,
//! and [`Target::registry_argument`] says what to pass.

use std::fmt;
use std::str::FromStr;

/// A vendor of hardened images with a catalog compiled into hardport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Target {
    /// Minimus (`reg.mini.dev`), the default.
    #[default]
    Minimus,
    /// Chainguard (`cgr.dev/<org>`).
    Chainguard,
    /// Docker Hardened Images.
    Dhi,
}

/// A `--target` name that is not a built-in target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown target {name:?}; the built-in targets are {}", Target::names().join(", "))]
pub struct UnknownTarget {
    pub name: String,
}

impl Target {
    /// Every built-in target, the default first.
    pub const ALL: [Target; 3] = [Target::Minimus, Target::Chainguard, Target::Dhi];

    /// The name `--target` takes.
    pub fn name(self) -> &'static str {
        match self {
            Target::Minimus => "minimus",
            Target::Chainguard => "chainguard",
            Target::Dhi => "dhi",
        }
    }

    /// The names of every built-in target, for help texts and errors.
    pub fn names() -> [&'static str; 3] {
        Target::ALL.map(Target::name)
    }

    /// The vendor and where its documentation is, for listings.
    pub fn description(self) -> &'static str {
        match self {
            Target::Minimus => "Minimus hardened images (docs.minimus.io)",
            Target::Chainguard => "Chainguard images (cgr.dev; mappings after chainguard-dev/dfc)",
            Target::Dhi => "Docker Hardened Images (docs.docker.com/dhi)",
        }
    }

    /// The embedded catalog (YAML, the same schema as a `--catalog` file).
    pub fn catalog(self) -> &'static str {
        match self {
            Target::Minimus => include_str!("minimus.yaml"),
            Target::Chainguard => include_str!("chainguard.yaml"),
            Target::Dhi => include_str!("dhi.yaml"),
        }
    }

    /// What to pass as `--registry` for this target's images: the facts hardport has
    /// (hardened-image-facts.md) give Chainguard's registry only as `cgr.dev/<org>` and DHI's
    /// not at all, so their catalogs name none and a run must say it.
    pub fn registry_argument(self) -> &'static str {
        match self {
            Target::Chainguard => "cgr.dev/ORG",
            Target::Minimus | Target::Dhi => "HOST[/PATH]",
        }
    }

    /// Why `--registry` takes what [`Target::registry_argument`] says, for error messages.
    pub fn registry_note(self) -> &'static str {
        match self {
            Target::Minimus => "a registry that serves the Minimus images, such as a mirror",
            Target::Chainguard => {
                "Chainguard images are cgr.dev/<org>/<image>, with your organization for ORG"
            }
            Target::Dhi => {
                "the registry or mirror your Docker Hardened Images subscription pulls from, see docs.docker.com/dhi/how-to/use"
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(name: &str) -> Result<Target, UnknownTarget> {
        Target::ALL
            .into_iter()
            .find(|target| target.name() == name)
            .ok_or_else(|| UnknownTarget {
                name: name.to_owned(),
            })
    }
}
