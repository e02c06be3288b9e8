//! `privileged-port`, `package-manager`, `entrypoint-feature` and `onbuild`: what a migration
//! cannot fix by editing the file, said once, at the instruction that causes it.
//!
//! ## What it does
//! For every stage whose filesystem comes from a catalog image (its lineage is being migrated or
//! already is the hardened replacement); stages on `scratch` or an unknown image get nothing:
//!
//! - `privileged-port`: `EXPOSE` of a port below 1024 (`80`, `80/tcp`, `443/udp`, `80-90`; ports
//!   written with variables are skipped) in a stage a container can run from, when the stage's
//!   effective user on the replacement is known and not root. When that user is unknown, a
//!   `missing-fact` names `hardened.user`.
//! - `package-manager`: a `RUN` that calls `apt-get`, `apt`, `apk`, `yum`, `dnf`, `microdnf`,
//!   `zypper` or `tdnf` as a command (first word, after `&&`, `||`, `;`, `|`, `sudo`, `env`,
//!   variable assignments; never inside quotes or as part of another word; heredoc scripts
//!   included) while the replacement's `-dev` variant has another package manager: names both
//!   and the equivalent commands. When the catalog does not say which package manager the
//!   replacement has: one warning per stage, asking for `hardened.package_manager`. Stages
//!   whose replacement installs with apk from a distribution the package map knows are
//!   `package-install`'s: it converts their `RUN`s and reports, as `package-manager`, each one
//!   it leaves.
//! - `entrypoint-feature` (stages being migrated only): the Dockerfile relies on what the public
//!   image's entrypoint script does at start — files under `/docker-entrypoint-initdb.d/`
//!   (postgres, mysql, mariadb, mongo), `/docker-entrypoint.d/` or `/etc/nginx/templates/`
//!   (nginx), or `ENV` variables the script reads (`SCRIPT_VARIABLES` in
//!   `findings/entrypoint_feature.rs`) — and the replacement does not run that script (another
//!   or unknown entrypoint, or no shell).
//! - `onbuild`: every `ONBUILD`: its trigger runs later, in images built `FROM` this one, which
//!   now start from the replacement.
//!
//! ## Why
//! A non-root process cannot bind a privileged port unless the runtime allows it; `apt-get` does
//! not exist on an apk-based image; the replacement's exec-form entrypoint does not run the
//! public image's init scripts, so a database starts without its schema or password. None of
//! these has a safe textual fix: the application, the deployment or the catalog must change.
//!
//! ## Example
//! ```dockerfile
//! FROM postgres:16                                   # → reg.mini.dev/postgres:16
//! COPY init.sql /docker-entrypoint-initdb.d/         # entrypoint-feature: will not run
//! ENV POSTGRES_DB=app                                # entrypoint-feature: may be ignored
//! EXPOSE 80                                          # privileged-port (non-root user)
//! ```
//!
//! ## Fix safety
//! Reports only; never edits. `entrypoint-feature` compares the public image with the
//! replacement, so it speaks only while the base is being migrated; the others describe the
//! final state and speak for migrated files too.

pub(crate) mod entrypoint_feature;
mod onbuild;
mod package_manager;
mod ports;

use parse_dockerfile::Instruction;

use crate::diagnostic::Diagnostic;
use crate::stages::{Lineage, StageModel};

use entrypoint_feature::entrypoint_features;
use onbuild::onbuild_triggers;
use package_manager::package_managers;
use ports::privileged_ports;

pub fn check(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for stage in &model.stages {
        let index = stage.index;
        let lineage = model.lineage(index);
        let Some(entry) = lineage.entry() else {
            continue;
        };
        if model.is_runnable(index) {
            diagnostics.extend(privileged_ports(model, index, entry));
        }
        diagnostics.extend(package_managers(model, index, entry));
        if matches!(lineage, Lineage::Migrating(_)) {
            diagnostics.extend(entrypoint_features(model, index, entry));
        }
        diagnostics.extend(onbuild_triggers(model, index, entry));
    }
    diagnostics
}

/// The instructions after a stage's `FROM`, with their index in the file.
fn body<'f, 'a>(
    model: &StageModel<'f, 'a, '_>,
    index: usize,
) -> impl Iterator<Item = (usize, &'f Instruction<'a>)> {
    let instructions: &'f [Instruction<'a>] = model.file.instructions();
    let range = model.stages[index].body();
    let start = range.start;
    instructions
        .get(range)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(move |(offset, instruction)| (start + offset, instruction))
}

// ---------------------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------------------

/// `a`, `a and b`, `a, b and c`.
fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "and")
}

/// `a`, `a or b`, `a, b or c`.
fn join_or<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "or")
}

fn join_with<S: AsRef<str>>(items: &[S], last: &str) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_owned(),
        [head @ .., tail] => format!(
            "{} {last} {}",
            head.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<&str>>()
                .join(", "),
            tail.as_ref()
        ),
    }
}

#[cfg(test)]
mod tests;
