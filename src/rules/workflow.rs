//! `workflow-image`: point a GitHub Actions workflow's job containers and service containers at
//! their replacements.
//!
//! ## What it does
//! - `jobs.<id>.container` (a string, or a mapping's `image`): the job's `run:` steps execute
//!   in it through a shell, and the runner starts it with `tail -f /dev/null` as its command,
//!   so it gets the replacement's `-dev` variant (shell, coreutils, package manager), never
//!   the production one. The catalog's `dev_tag_suffix` names it; without one (and without
//!   `hardened.shell: true`) the container is left as it is and `missing-fact` says why.
//! - `jobs.<id>.services.<name>` (`image`, or the string itself): a service runs its image's
//!   own program, so it gets the production replacement — unless its `options` give Docker a
//!   `--health-cmd`, which Docker always runs through `/bin/sh -c`: then it gets `-dev`, or the
//!   job would wait for a health check that cannot run.
//!
//! A service's `env` that the public image's entrypoint script reads (`POSTGRES_PASSWORD`) is
//! `entrypoint-feature`, as in a Compose file (see `hardport explain entrypoint-feature`).
//!
//! A job container whose replacement runs as a user other than root gets a suggestion: the
//! runner mounts the workspace owned by its own user, and `actions/checkout` (like any step
//! that writes there) needs `options: --user root` then.
//!
//! ## What it leaves alone, and says so
//! Images chosen by expressions (`${{ matrix.image }}`) are `unresolved-image`: the values are
//! in the matrix, which GitHub expands. Unmapped images (`ubuntu:24.04`, a distribution
//! chosen to test on it) are `unmapped-image`.
//!
//! ## Why
//! CI runs public images too; a migration that stops at the Dockerfiles leaves them, and a
//! naive swap to the production image breaks every `run:` step of the job.
//!
//! ## Example
//! ```yaml
//! jobs:                                     jobs:
//!   test:                                     test:
//!     container: node:20-bookworm     →         container: reg.mini.dev/node:20-dev
//!     services:                                 services:
//!       db:                                       db:
//!         image: postgres:16          →             image: reg.mini.dev/postgres:16
//! ```
//!
//! ## Fix safety
//! Safe: only the image values change, inside their own quotes; `options` are never edited. A
//! second run finds the replacement (and its `-dev` tag) and changes nothing.

use crate::diagnostic::Diagnostic;
use crate::helm::deref;
use crate::rules::reference::{self, Needs, Site};
use crate::rules::runtime::{self, Started};
use crate::rules::{Context, Rule};
use crate::yaml::{Document, Node, Stream};

/// Why a job container needs a shell.
const JOB_STEPS: Needs = Needs::Shell("its `run:` steps run in a shell");

/// Why a service with `--health-cmd` needs a shell.
const HEALTH_COMMAND: Needs = Needs::Shell("Docker runs its `--health-cmd` with `/bin/sh -c`");

pub fn check(stream: &Stream<'_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let Some(document) = stream.documents.first() else {
        return diagnostics;
    };
    let Some(jobs) = document.root.get("jobs") else {
        return diagnostics;
    };
    for job in deref(document, jobs).entries() {
        let Some(id) = job.key.value() else {
            continue;
        };
        let job = deref(document, &job.value);
        if let Some(container) = job.get("container") {
            let label = format!("jobs.{id}.container");
            if let Some(site) = image_site(document, container, label) {
                let outcome =
                    reference::rewrite(stream, &site, Rule::WorkflowImage, JOB_STEPS, context);
                let root_advice = outcome
                    .runs
                    .and_then(|entry| entry.hardened.uid())
                    .filter(|uid| *uid != 0)
                    .filter(|_| !sets_user(document, container))
                    .map(|uid| {
                        format!(
                            "the replacement runs as uid {uid}: if `actions/checkout` or another step cannot write the workspace, add `options: --user root` to the container"
                        )
                    });
                diagnostics.extend(outcome.diagnostics.into_iter().map(|diagnostic| {
                    match (&root_advice, diagnostic.rule) {
                        (Some(advice), Rule::WorkflowImage) => diagnostic.suggest(advice),
                        _ => diagnostic,
                    }
                }));
            }
        }
        let Some(services) = job.get("services") else {
            continue;
        };
        for service in deref(document, services).entries() {
            let Some(name) = service.key.value() else {
                continue;
            };
            let label = format!("jobs.{id}.services.{name}");
            let Some(site) = image_site(document, &service.value, label) else {
                continue;
            };
            let needs = match option_text(document, &service.value)
                .is_some_and(|options| options.contains("--health-cmd"))
            {
                true => HEALTH_COMMAND,
                false => Needs::Production,
            };
            let outcome = reference::rewrite(stream, &site, Rule::WorkflowImage, needs, context);
            diagnostics.extend(outcome.diagnostics);
            if let Some(entry) = outcome.runs
                && let Some(env) = deref(document, &service.value).get("env")
            {
                let env = deref(document, env);
                let names: Vec<String> = env
                    .entries()
                    .iter()
                    .filter_map(|variable| variable.key.value())
                    .map(str::to_owned)
                    .collect();
                let label = format!("jobs.{id}.services.{name}.env");
                let started = Started {
                    label: &label,
                    range: env.range.clone(),
                };
                diagnostics.extend(runtime::environment(&started, &names, entry));
            }
        }
    }
    diagnostics
}

/// Where a container's image is written: the string itself, or the mapping's `image`.
fn image_site<'d>(document: &'d Document, container: &'d Node, label: String) -> Option<Site<'d>> {
    let container = deref(document, container);
    match container.as_mapping() {
        Some(_) => {
            let image = deref(document, container.get("image")?);
            Some(Site {
                node: image,
                label: format!("{label}.image"),
                range: image.range.clone(),
            })
        }
        None => Some(Site {
            node: container,
            label,
            range: container.range.clone(),
        }),
    }
}

/// A container mapping's `options`, the `docker create` flags the runner passes on.
fn option_text<'d>(document: &'d Document, container: &'d Node) -> Option<&'d str> {
    deref(document, deref(document, container).get("options")?).value()
}

/// Whether the container's options choose its user (`--user`, `-u`).
fn sets_user(document: &Document, container: &Node) -> bool {
    option_text(document, container).is_some_and(|options| {
        options
            .split_whitespace()
            .any(|word| word == "-u" || word.starts_with("--user"))
    })
}

#[cfg(test)]
mod tests;
