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
        let job = Job {
            id,
            node: deref(document, &job.value),
            document,
        };
        if let Some(container) = job.node.get("container") {
            diagnostics.extend(job_container(stream, &job, container, context));
        }
        let Some(services) = job.node.get("services") else {
            continue;
        };
        for service in deref(document, services).entries() {
            if let Some(name) = service.key.value() {
                diagnostics.extend(job_service(stream, &job, (name, &service.value), context));
            }
        }
    }
    diagnostics
}

/// One job of the workflow.
struct Job<'d> {
    id: &'d str,
    node: &'d Node,
    document: &'d Document,
}

/// A job container: the `-dev` variant, with advice about its user.
fn job_container(
    stream: &Stream<'_>,
    job: &Job<'_>,
    container: &Node,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let label = format!("jobs.{}.container", job.id);
    for site in image_sites(job, container, label) {
        let outcome = reference::rewrite(stream, &site, Rule::WorkflowImage, JOB_STEPS, context);
        let root_advice = outcome
            .runs
            .and_then(|runs| runs.entry.hardened.uid())
            .filter(|uid| *uid != 0)
            .filter(|_| !sets_user(job.document, container))
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
    diagnostics
}

/// A service container: production, or `-dev` with a `--health-cmd`; its variables for the
/// public image's entrypoint script.
fn job_service(
    stream: &Stream<'_>,
    job: &Job<'_>,
    (name, service): (&str, &Node),
    context: Context<'_>,
) -> Vec<Diagnostic> {
    let document = job.document;
    let mut diagnostics = Vec::new();
    let needs = match option_text(document, service)
        .is_some_and(|options| options.contains("--health-cmd"))
    {
        true => HEALTH_COMMAND,
        false => Needs::Production,
    };
    let label = format!("jobs.{}.services.{name}", job.id);
    for site in image_sites(job, service, label) {
        let outcome = reference::rewrite(stream, &site, Rule::WorkflowImage, needs, context);
        diagnostics.extend(outcome.diagnostics);
        if let Some(runs) = outcome.runs
            && let Some(env) = deref(document, service).get("env")
        {
            let env = deref(document, env);
            let names: Vec<String> = env
                .entries()
                .iter()
                .filter_map(|variable| variable.key.value())
                .map(str::to_owned)
                .collect();
            let label = format!("jobs.{}.services.{name}.env", job.id);
            let started = Started {
                label: &label,
                range: env.range.clone(),
            };
            diagnostics.extend(runtime::environment(&started, &names, runs));
        }
    }
    diagnostics
}

/// Where a container's image is written: the string itself, or the mapping's `image`; for an
/// image that is a matrix value (`${{ matrix.image }}`, `${{ matrix.os.image }}`), the values
/// of the job's `strategy.matrix` it takes (see [`matrix_sites`]).
fn image_sites<'d>(job: &Job<'d>, container: &'d Node, label: String) -> Vec<Site<'d>> {
    let Some(site) = image_site(job.document, container, label) else {
        return Vec::new();
    };
    match site.node.value().and_then(matrix_path) {
        Some(path) => matrix_sites(job, &path).unwrap_or_else(|| vec![site]),
        None => vec![site],
    }
}

/// The matrix path of an expression that is exactly `${{ matrix.a }}` or `${{ matrix.a.b }}`.
fn matrix_path(text: &str) -> Option<Vec<&str>> {
    let inner = text.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let path: Vec<&str> = inner.strip_prefix("matrix.")?.split('.').collect();
    let is_name = |part: &&str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    (path.len() <= 2 && path.iter().all(is_name)).then_some(path)
}

/// The values of `strategy.matrix` a matrix path takes: the items of its list (`image: [a,
/// b]`, or mappings holding the field: `vector: [{image: a}]`), and the same key in every
/// `include` and `exclude` entry, so that an exclusion still names what it excludes. `None`
/// when the matrix holds none (it is an expression itself, say `fromJSON(…)`).
fn matrix_sites<'d>(job: &Job<'d>, path: &[&str]) -> Option<Vec<Site<'d>>> {
    let document = job.document;
    let matrix = deref(
        document,
        deref(document, job.node.get("strategy")?).get("matrix")?,
    );
    let (key, field) = (path[0], path.get(1).copied());
    let value = |node: &'d Node| -> Option<&'d Node> {
        let node = deref(document, node);
        let node = match field {
            Some(field) => deref(document, node.get(field)?),
            None => node,
        };
        node.as_scalar().map(|_| node)
    };
    let site = |node: &'d Node, label: String| Site {
        node,
        label,
        range: node.range.clone(),
    };
    let suffix = field.map_or_else(String::new, |field| format!(".{field}"));
    let prefix = format!("jobs.{}.strategy.matrix", job.id);
    let mut sites = Vec::new();
    if let Some(values) = matrix.get(key) {
        for (index, item) in deref(document, values).items().iter().enumerate() {
            if let Some(node) = value(item) {
                sites.push(site(node, format!("{prefix}.{key}[{index}]{suffix}")));
            }
        }
    }
    for list in ["include", "exclude"] {
        let Some(entries) = matrix.get(list) else {
            continue;
        };
        for (index, entry) in deref(document, entries).items().iter().enumerate() {
            if let Some(node) = deref(document, entry).get(key).and_then(value) {
                sites.push(site(
                    node,
                    format!("{prefix}.{list}[{index}].{key}{suffix}"),
                ));
            }
        }
    }
    (!sites.is_empty()).then_some(sites)
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
