//! `data-path` in Helm values, Compose files and Kubernetes manifests: move the paths a
//! replacement keeps its data under.
//!
//! ## What it does
//! Within the component that runs a mapped image (see `security-context` for what belongs to
//! a component), every `mountPath` (`persistence.mountPath`, `volumeMounts[].mountPath`,
//! `extraVolumeMounts[].mountPath`) and every value under a key ending in `DataDir`
//! (`postgresqlDataDir`) that equals a path of the catalog entry's `paths`, or lies below one,
//! is moved to the replacement's path. The same goes for a Compose service's `volumes` target
//! (`db-data:/var/lib/postgresql/data`, or the long syntax's `target`) and a manifest
//! container's `volumeMounts[].mountPath`, for the containers that run the replacement.
//!
//! ## Why
//! A replacement that keeps its data elsewhere starts empty on a volume mounted at the old
//! path, and an init container that prepares the old path prepares nothing.
//!
//! ## Example
//! With `paths: {/bitnami/postgresql: /var/lib/postgresql}`:
//! ```yaml
//! primary:
//!   persistence:
//!     mountPath: /bitnami/postgresql   →   mountPath: /var/lib/postgresql
//! postgresqlDataDir: /bitnami/postgresql/data   →   /var/lib/postgresql/data
//! ```
//!
//! ## Fix safety
//! Only the path scalar changes, inside its own quotes, and only by a whole path prefix of the
//! catalog's `paths` (`/data` moves `/data/x`, never `/database`). A path already at its new
//! place is not moved again, so a second run changes nothing. A value that cannot be edited in
//! place (an alias, a block scalar) is a `not-editable` warning with the new path to set by
//! hand.

use std::collections::HashSet;
use std::ops::Range;

use crate::catalog::Entry;
use crate::diagnostic::{Diagnostic, Fix};
use crate::helm::{Setting, Values};
use crate::rules::Rule;
use crate::unix_path::{clean_absolute, join_rest, under};
use crate::yaml::{NewValue, Node, Stream};

pub fn check(stream: &Stream<'_>, values: &Values<'_, '_>) -> Vec<Diagnostic> {
    let mut seen: HashSet<Range<usize>> = HashSet::new();
    let mut diagnostics = Vec::new();
    for (image, entry) in values.mapped_components() {
        if entry.paths.is_empty() {
            continue;
        }
        values.walk_component(image.component, &image.component_path, &mut |setting| {
            if let Some(diagnostic) = moved(stream, setting, entry)
                && seen.insert(diagnostic.range.clone())
            {
                diagnostics.push(diagnostic);
            }
        });
    }
    diagnostics
}

/// Whether a key holds a path the rule moves.
fn is_path_key(key: &str) -> bool {
    key == "mountPath" || key.to_ascii_lowercase().ends_with("datadir")
}

fn moved(stream: &Stream<'_>, setting: Setting<'_, '_>, entry: &Entry) -> Option<Diagnostic> {
    setting.key.filter(|key| is_path_key(key))?;
    let written = setting
        .node
        .as_scalar()
        .filter(|scalar| scalar.is_string())?;
    let mount = Mount {
        node: setting.node,
        label: setting.path,
        path: &written.value,
    };
    move_mount(stream, &mount, entry, |new_path| new_path.to_owned())
}

/// A container path written in a YAML value: a `mountPath`, a Compose volume's target.
pub(crate) struct Mount<'a> {
    /// The value that holds it.
    pub(crate) node: &'a Node,
    /// Where it is, as messages name it.
    pub(crate) label: &'a str,
    /// The path itself.
    pub(crate) path: &'a str,
}

/// `data-path` for a container path the replacement keeps elsewhere: the value becomes
/// `value_with(new path)` (the path alone, or Compose's `source:target:mode` around it).
pub(crate) fn move_mount(
    stream: &Stream<'_>,
    mount: &Mount<'_>,
    entry: &Entry,
    value_with: impl Fn(&str) -> String,
) -> Option<Diagnostic> {
    let new_path = new_path(mount.path, entry)?;
    let message = format!(
        "`{}`: `{}` → `{new_path}`: {} keeps this data under `{new_path}` (catalog entry `{}`)",
        mount.label, mount.path, entry.replacement, entry.name
    );
    let range = mount.node.range.clone();
    Some(
        match stream.replace_scalar(mount.node, &NewValue::string(value_with(&new_path))) {
            Ok(edit) => Diagnostic::fixed(Rule::DataPath, range, message, Fix::single(edit)),
            Err(error) => Diagnostic::report(
                Rule::NotEditable,
                range,
                format!("{message}; it cannot be edited in place ({error})"),
            )
            .suggest("change it by hand"),
        },
    )
}

/// Where `path` moves per the entry's `paths` (the longest matching old path wins; `/` is
/// never moved, as in Dockerfiles), unless it is already at a new place (a new path below the
/// old one must not move again).
fn new_path(path: &str, entry: &Entry) -> Option<String> {
    let path = clean_absolute(path)?;
    let moves: Vec<(String, String)> = entry
        .paths
        .iter()
        .filter_map(|(from, to)| {
            let (from, to) = (clean_absolute(from)?, clean_absolute(to)?);
            (from != "/" && from != to).then_some((from, to))
        })
        .collect();
    if moves.iter().any(|(_, to)| under(&path, to).is_some()) {
        return None;
    }
    let (from, to) = moves
        .iter()
        .filter(|(from, _)| under(&path, from).is_some())
        .max_by_key(|(from, _)| from.len())?;
    Some(join_rest(to, under(&path, from)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run_values;

    fn entry(paths: &[(&str, &str)]) -> Entry {
        let mut catalog = crate::rules::test_support::catalog_from_yaml(
            "version: 1\nregistry: r.example\nimages:\n  - {name: x, match: [x], source: test}\n",
        )
        .entries()[0]
            .clone();
        catalog.paths = paths
            .iter()
            .map(|(from, to)| ((*from).to_owned(), (*to).to_owned()))
            .collect();
        catalog
    }

    #[test]
    fn paths_move_with_what_lies_below_them() {
        let entry = entry(&[("/bitnami/postgresql", "/var/lib/postgresql")]);
        assert_eq!(
            new_path("/bitnami/postgresql/data", &entry).as_deref(),
            Some("/var/lib/postgresql/data")
        );
        assert_eq!(
            new_path("/bitnami/postgresql", &entry).as_deref(),
            Some("/var/lib/postgresql")
        );
        assert_eq!(new_path("/bitnami/postgresql-x", &entry), None);
        assert_eq!(new_path("/var/lib/postgresql/data", &entry), None);
    }

    #[test]
    fn the_root_never_moves_and_unclean_paths_are_read_clean() {
        let entry = entry(&[("/", "/srv"), ("/data/", "/var/data")]);
        assert_eq!(new_path("/etc/nginx/conf.d", &entry), None);
        assert_eq!(
            new_path("//data/./x", &entry).as_deref(),
            Some("/var/data/x")
        );
    }

    #[test]
    fn a_new_path_below_the_old_one_does_not_move_twice() {
        let entry = entry(&[("/data", "/data/db")]);
        assert_eq!(new_path("/data", &entry).as_deref(), Some("/data/db"));
        assert_eq!(new_path("/data/db", &entry), None);
        assert_eq!(new_path("/data/db/x", &entry), None);
    }

    /// A path that must move but cannot be edited in place is a warning, so `--check` fails.
    #[test]
    fn a_path_that_cannot_be_edited_is_a_not_editable_warning() {
        let values = "image:\n  repository: bitnami/postgresql\n  tag: \"17\"\npostgresqlDataDir: |-\n  /bitnami/postgresql/data\nglobal:\n  security:\n    allowInsecureImages: true\n";
        let (text, messages) = run_values(values, None);
        assert!(text.contains("|-\n  /bitnami/postgresql/data\n"), "{text}");
        assert!(
            messages.iter().any(|m| m.starts_with(
                "not-editable: `postgresqlDataDir`: `/bitnami/postgresql/data` → `/var/lib/postgresql/data`"
            ) && m.contains("change it by hand")),
            "{messages:?}"
        );
        assert!(!messages.iter().any(|m| m.starts_with("data-path")));
        assert_eq!(
            Rule::NotEditable.severity(),
            crate::diagnostic::Severity::Warning
        );
    }

    #[test]
    fn mount_paths_and_data_dirs_of_the_component_move() {
        let (text, messages) = run_values(
            "image:\n  repository: bitnami/postgresql\n  tag: \"17\"\npostgresqlDataDir: /bitnami/postgresql/data\nprimary:\n  persistence:\n    mountPath: /bitnami/postgresql\n  extraVolumeMounts:\n    - name: x\n      mountPath: \"/bitnami/postgresql/conf\"\nbackup:\n  mountPath: /backup\nmetrics:\n  image: nginx:1\n  extraVolumeMounts:\n    - mountPath: /bitnami/postgresql\nglobal:\n  security:\n    allowInsecureImages: true\n",
            None,
        );
        assert_eq!(
            text,
            "image:\n  repository: reg.example.dev/postgresql-bitnami\n  tag: \"17\"\npostgresqlDataDir: /var/lib/postgresql/data\nprimary:\n  persistence:\n    mountPath: /var/lib/postgresql\n  extraVolumeMounts:\n    - name: x\n      mountPath: \"/var/lib/postgresql/conf\"\nbackup:\n  mountPath: /backup\nmetrics:\n  image: reg.example.dev/nginx:1\n  extraVolumeMounts:\n    - mountPath: /bitnami/postgresql\nglobal:\n  security:\n    allowInsecureImages: true\n"
        );
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.starts_with("data-path"))
                .count(),
            3,
            "{messages:?}"
        );
    }
}
