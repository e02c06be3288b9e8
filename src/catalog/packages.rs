//! Package names across distributions: what `apt-get install NAME` or `dnf install NAME`
//! installs is called something else by the package manager of a replacement's `-dev` variant.
//!
//! The map is data (`packages.yaml` beside this file, and a `packages:` table in any catalog
//! file, which wins name by name): for each target distribution (the `ID` of the image's
//! `/etc/os-release`, e.g. `wolfi`), the names of each source family (`debian` for
//! `apt-get`/`apt`, `fedora` for `yum`/`dnf`/`microdnf`), each with the target names it becomes
//! and where that comes from. A name the map does not list is unknown, never passed through:
//! the `package-install` rule leaves such a RUN alone and names the package.
//!
//! ```yaml
//! packages:
//!   wolfi:
//!     debian:
//!       libpq5: {names: [libpq], source: "dfc builtin-mappings"}
//!       apt-transport-https: {names: [], source: "apt's own HTTPS transport"}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The family of package names a source package manager installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFamily {
    /// `apt-get`, `apt`: Debian and Ubuntu names.
    Debian,
    /// `yum`, `dnf`, `microdnf`: Fedora, RHEL and UBI names.
    Fedora,
}

impl SourceFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFamily::Debian => "debian",
            SourceFamily::Fedora => "fedora",
        }
    }
}

/// What one source package is called in the target distribution.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PackageMapping {
    /// The target's package names; empty when the target needs nothing in its place (apt's
    /// own `apt-transport-https`).
    pub names: Vec<String>,
    /// Where the mapping comes from.
    pub source: String,
}

type Table = BTreeMap<String, PackageMapping>;

/// Target distribution → source family → source name → mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct PackageMap(BTreeMap<String, BTreeMap<SourceFamily, Table>>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbeddedFile {
    packages: PackageMap,
}

/// The package map compiled into hardport.
const EMBEDDED: &str = include_str!("packages.yaml");

impl PackageMap {
    /// The embedded map. Its validity is a test (`the_embedded_package_map_is_valid`), so a
    /// broken one never ships; should it fail anyway, the map is empty and every package is
    /// reported as unknown.
    pub fn embedded() -> PackageMap {
        serde_yaml_ng::from_str::<EmbeddedFile>(EMBEDDED)
            .map(|file| file.packages)
            .unwrap_or_default()
    }

    /// Every name and source must be what a Dockerfile can hold as one word, and every
    /// mapping must say where it comes from.
    pub fn validate(&self) -> Result<(), String> {
        for (distribution, families) in &self.0 {
            for (family, table) in families {
                for (name, mapping) in table {
                    let at = format!("packages.{distribution}.{}.{name}", family.as_str());
                    if !is_package_name(name) {
                        return Err(format!("{at}: {name:?} is not a package name"));
                    }
                    if mapping.source.trim().is_empty() {
                        return Err(format!(
                            "{at}: source must say where the mapping comes from"
                        ));
                    }
                    if let Some(bad) = mapping.names.iter().find(|name| !is_package_name(name)) {
                        return Err(format!("{at}: {bad:?} is not a package name"));
                    }
                }
            }
        }
        Ok(())
    }

    /// This map with `other`'s mappings over it, name by name.
    pub fn overlay(&mut self, other: &PackageMap) {
        for (distribution, families) in &other.0 {
            let ours = self.0.entry(distribution.clone()).or_default();
            for (family, table) in families {
                let ours = ours.entry(*family).or_default();
                for (name, mapping) in table {
                    ours.insert(name.clone(), mapping.clone());
                }
            }
        }
    }

    /// Whether the map has names for `distribution` at all.
    pub fn covers(&self, distribution: &str) -> bool {
        self.0.contains_key(distribution)
    }

    /// What `name` of `family` is called in `distribution`.
    pub fn lookup(
        &self,
        distribution: &str,
        family: SourceFamily,
        name: &str,
    ) -> Option<&PackageMapping> {
        self.0.get(distribution)?.get(&family)?.get(name)
    }
}

/// A package name as Debian, Fedora and apk spell them: a letter or digit, then letters,
/// digits and `+ . _ -`. Nothing a shell would read as syntax.
fn is_package_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric())
        && chars.all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_package_map_is_valid() {
        let file: EmbeddedFile = serde_yaml_ng::from_str(EMBEDDED).expect("packages.yaml parses");
        file.packages.validate().expect("packages.yaml is valid");
        assert!(file.packages.covers("wolfi"));
        assert_eq!(PackageMap::embedded(), file.packages);
    }

    #[test]
    fn a_name_a_shell_would_read_as_syntax_is_refused() {
        let map: PackageMap = serde_yaml_ng::from_str(
            "wolfi: {debian: {curl: {names: [\"curl; rm -rf /\"], source: test}}}",
        )
        .expect("parses");
        let error = map.validate().expect_err("refused");
        assert!(error.contains("packages.wolfi.debian.curl"), "{error}");
    }

    #[test]
    fn an_overlay_wins_name_by_name_and_keeps_the_rest() {
        let mut map: PackageMap = serde_yaml_ng::from_str(
            "wolfi: {debian: {curl: {names: [curl], source: a}, git: {names: [git], source: a}}}",
        )
        .expect("parses");
        let user: PackageMap =
            serde_yaml_ng::from_str("wolfi: {debian: {curl: {names: [curl-mine], source: b}}}")
                .expect("parses");
        map.overlay(&user);
        let names = |name: &str| {
            map.lookup("wolfi", SourceFamily::Debian, name)
                .map(|mapping| mapping.names.clone())
        };
        assert_eq!(names("curl"), Some(vec!["curl-mine".to_owned()]));
        assert_eq!(names("git"), Some(vec!["git".to_owned()]));
        assert_eq!(names("wget"), None);
        assert_eq!(map.lookup("alpine", SourceFamily::Debian, "git"), None);
    }
}
