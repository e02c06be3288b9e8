//! `compose-image`: point the services of a Docker Compose file at their replacements.
//!
//! ## What it does
//! Every service's `image` that the catalog maps is rewritten to `replacement:tag` by the tag
//! policy (see `hardport explain unmapped-image` for what is reported instead). An `image`
//! brought in by a merge key (`<<: *defaults`, Sentry's `x-` blocks) is edited once, where it
//! is written. A service that is already on its replacement keeps it.
//!
//! A `command` given to the image's entrypoint (the service sets no `entrypoint`) ran through
//! the public image's entrypoint script, which runs a whole command as it is; where the
//! replacement's entrypoint does not (or is not known to), the service gets `entrypoint: []`
//! (`entrypoint`), as a Dockerfile's CMD gets `ENTRYPOINT []`; a command of options, which the
//! script gave to its default program, is reported unless the replacement's entrypoint is that
//! program.
//!
//! A volume mounted at a path the replacement keeps its data elsewhere (the catalog's `paths`)
//! moves with it (`data-path`, see `hardport explain data-path`).
//!
//! Then what the service starts on the replacement is read: a `command` or `entrypoint` that
//! runs a shell (`needs-shell`), an `entrypoint` that runs the public image's entrypoint
//! script, which the replacement does not have (`entrypoint-feature`), and a `healthcheck.test` — `CMD-SHELL` or a string runs
//! through `/bin/sh`, `CMD` runs a program the replacement must ship (`exec-probe`).
//! A `user:` that names a user (or group) of the public image (`public.users`, `public.groups`
//! in the catalog) is set to the replacement's id (`user-mapping`), as `USER` is in a
//! Dockerfile: the replacement need not define the name, and a name it lacks stops the
//! container at start. Without the replacement's id in the catalog, `missing-fact`.
//!
//! A service's settings are read as Compose reads them: through `<<` merge keys and aliases, and
//! from the service a same-file `extends:` names. A setting hardport would change but that is
//! written where other services share it (an `x-` block merged with `<<`, a service that is an
//! alias of one) is reported (`not-editable`) instead: the change would reach them too.
//!
//! ## What it leaves alone
//! - A service with `build:`: its `image` names the image Compose builds (and tags), not one it
//!   pulls; the base image is in the Dockerfile, which hardport migrates on its own. A
//!   `build.args` value that names a mapped image (a Dockerfile's `FROM ${BASE_IMAGE}`) is
//!   `unresolved-image`: the Dockerfile cannot see it, so give its `ARG` that default instead.
//! - References built from variables (`postgres:${POSTGRES_TAG}`): `unresolved-image`.
//! - A numeric `user:`, `root`, or a name the public image does not define: chosen for this
//!   deployment (as `USER 999` in a Dockerfile; a manifest's `runAsUser` is different, see
//!   `manifest-image`).
//! - `extends` with a `file:`, and override files (`compose.override.yaml`), which Compose merges
//!   at run time: each file is migrated on its own.
//!
//! ## Why
//! Compose files are how many repositories run their images; a migration that leaves them
//! on public images leaves the deployment where it was, while `--check` passes.
//!
//! ## Example
//! ```yaml
//! services:                              services:
//!   db:                                    db:
//!     image: postgres:16-alpine    →         image: reg.mini.dev/postgres:16
//!     user: postgres               →         user: "70"
//!     command: postgres -c fsync=off           command: postgres -c fsync=off
//!                                              entrypoint: []
//! ```
//!
//! ## Fix safety
//! Safe: only the `image` and `user` values change, inside their own quotes (quotes added
//! where the new text would read as a number), and `entrypoint: []` is added at the service's
//! indentation. Health checks and commands are reported, never
//! rewritten. A second run finds the replacement and changes nothing.

use std::collections::HashMap;
use std::ops::Range;

use crate::diagnostic::Diagnostic;
use crate::helm::{deref, merged_get};
use crate::rules::reference::{self, Needs, Runs, Site};
use crate::rules::{Context, Rule};
use crate::yaml::{Document, Node, NodeKind, ScalarStyle, Stream};

mod settings;

pub fn check(stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    // Compose reads one document.
    let Some(document) = stream.documents.first() else {
        return diagnostics;
    };
    let Some(services) = document.root.get("services") else {
        return diagnostics;
    };
    let services = deref(document, services);
    // An image several services merge from one `x-` block is one value: rewritten and reported
    // once, by where it is written; each service's own settings are still read.
    let mut images_seen: HashMap<Range<usize>, Option<Runs<'_>>> = HashMap::new();
    for entry in services.entries() {
        let Some(service) = Service::new(document, services, entry) else {
            continue;
        };
        if let Some(build) = service.get("build") {
            diagnostics.extend(settings::build_args(&service, build, context));
            continue;
        }
        let Some(image) = service.get("image") else {
            continue;
        };
        let runs = match images_seen.get(&image.range) {
            Some(runs) => *runs,
            None => {
                let site = Site {
                    node: image,
                    label: match service.owns("image") {
                        true => service.label("image"),
                        false => document
                            .path_of(image)
                            .unwrap_or_else(|| service.label("image")),
                    },
                    range: image.range.clone(),
                };
                let outcome = reference::rewrite(
                    stream,
                    &site,
                    Rule::ComposeImage,
                    Needs::Production,
                    context,
                );
                diagnostics.extend(outcome.diagnostics);
                images_seen.insert(image.range.clone(), outcome.runs);
                outcome.runs
            }
        };
        if let Some(runs) = runs {
            diagnostics.extend(settings::check(stream, &service, runs));
        }
    }
    diagnostics
}

/// One service of a Compose file, read as Compose reads it.
struct Service<'d> {
    name: &'d str,
    document: &'d Document,
    /// The service's mapping (the block an alias names, for a service that is one).
    node: &'d Node,
    /// Whether `node` belongs to this service alone: false for a service that is an alias of
    /// a block (`web: *app`), which others may name too.
    own: bool,
    /// The services a same-file `extends:` chain names, nearest first: where a setting the
    /// service does not write comes from.
    extended: Vec<&'d Node>,
}

/// How many `extends` a chain may follow; Compose refuses a cycle, hardport stops.
const MAX_EXTENDS: usize = 8;

impl<'d> Service<'d> {
    fn new(
        document: &'d Document,
        services: &'d Node,
        entry: &'d crate::yaml::Entry,
    ) -> Option<Service<'d>> {
        let name = entry.key.value()?;
        let node = deref(document, &entry.value);
        node.as_mapping()?;
        let mut extended = Vec::new();
        let mut next = node;
        while extended.len() < MAX_EXTENDS {
            let Some(base) = same_file_extends(document, next) else {
                break;
            };
            let Some(base) = services.get(base).map(|base| deref(document, base)) else {
                break;
            };
            extended.push(base);
            next = base;
        }
        Some(Service {
            name,
            document,
            node,
            own: !matches!(entry.value.kind, NodeKind::Alias(_)),
            extended,
        })
    }

    /// The value of `key` as Compose reads it: the service's own, through `<<` merge keys, or
    /// from the services it `extends`; a null value (`entrypoint: null`, `!reset`) is none.
    fn get(&self, key: &str) -> Option<&'d Node> {
        std::iter::once(self.node)
            .chain(self.extended.iter().copied())
            .find_map(|node| merged_get(self.document, node, key))
            .map(|value| deref(self.document, value))
            .filter(|value| !is_null(value))
    }

    /// Whether `key`'s value is written in this service's own mapping (not brought in by `<<`,
    /// not an alias of a value written elsewhere), so that an edit of it changes this service
    /// alone.
    fn owns(&self, key: &str) -> bool {
        self.own
            && self
                .node
                .get(key)
                .is_some_and(|value| !matches!(value.kind, NodeKind::Alias(_)))
    }

    /// `services.<name>.<key>`, as messages name a setting.
    fn label(&self, key: &str) -> String {
        format!("services.{}.{key}", self.name)
    }
}

/// The service a same-file `extends` names: `extends: base` or `extends: {service: base}`
/// without `file:` (one with a `file:` is another file's, which is migrated on its own).
fn same_file_extends<'d>(document: &'d Document, service: &'d Node) -> Option<&'d str> {
    let extends = deref(document, service.get("extends")?);
    match extends.as_mapping() {
        Some(_) if extends.get("file").is_some() => None,
        Some(_) => deref(document, extends.get("service")?).value(),
        None => extends.value(),
    }
}

/// Whether YAML reads `node` as null: an empty plain scalar, `~` or `null` (in any of YAML's
/// spellings), or a value tagged `!reset` (Compose's way of removing an inherited one).
fn is_null(node: &Node) -> bool {
    let reset = node.tag().is_some_and(|tag| tag.text == "!reset");
    let null = node.as_scalar().is_some_and(|scalar| {
        scalar.style == ScalarStyle::Plain && crate::yaml::is_null(&scalar.value)
    });
    reset || null
}

#[cfg(test)]
mod tests;
