//! `package-install` and `busybox-option`: rewrite a `RUN`'s `apt-get`, `apt`, `yum`, `dnf` and
//! `microdnf` package commands into `apk`, with the replacement's package names, and say where
//! the `RUN` relies on GNU tools the apk-based image may not have.
//!
//! ## What it does
//! In a stage whose image is (or becomes) a replacement whose `-dev` variant installs with
//! `apk` (`hardened.package_manager: apk`) from a distribution hardport has package names for
//! (`hardened.distribution`, e.g. `wolfi`, in the package map: `src/catalog/packages.yaml` and
//! any catalog's `packages:` table), each `RUN` is rewritten command by command:
//!
//! - `apt-get install`, `apt install`, `yum install`, `dnf install`, `microdnf install`, with
//!   their usual flags (`-y`, `--yes`, `--assume-yes`, `-q`, `--no-install-recommends`,
//!   `--nodocs`, `--setopt=install_weak_deps=0`, …), become `apk add --no-cache` and each
//!   package its mapped names (`libpq5` → `libpq`, `build-essential` → `build-base`);
//! - `… remove`/`purge`/`erase` of packages becomes `apk del` with the mapped names;
//! - `… upgrade` (`dist-upgrade`, `yum update` of everything) becomes `apk upgrade --no-cache`;
//! - `useradd` and `groupadd` become busybox's `adduser -D` and `addgroup`, with each option in
//!   busybox's spelling (`-r` → `-S`, `-g GROUP` → `-G GROUP`, `-d` → `-h`, `-M` → `-H`, …;
//!   see `package_install/accounts.rs`), as dfc does for the same images;
//! - what only serves the old package manager goes: `apt-get update`, `apt-get clean`,
//!   `yum clean all`, `dnf makecache`, `apt-get autoremove`, and `rm` of its caches
//!   (`/var/lib/apt/lists/*`, `/var/cache/yum`, …; other paths of the same `rm` stay). A `RUN`
//!   left with nothing to run is removed.
//!
//! Everything else in the `RUN` stays byte for byte: other commands, `&&` chains, line
//! continuations, comments, assignments and `sudo` before the command.
//!
//! ## What it leaves alone, and says so (`package-manager`)
//! The whole `RUN` stays as it is, with a warning that names the reason, when any of its package
//! commands cannot be converted exactly: a package the map does not list (never guessed, never
//! dropped), a version or release pin (`curl=7.88.1-10`, `pkg/bookworm-backports`,
//! `httpd-2.4.57`), a package from a variable, a glob or a file, an option with no apk
//! meaning (`-t`, `-o`, `--enablerepo`) or busybox meaning (`useradd -G`), another subcommand (`apt-get source`), packages read
//! from elsewhere (`xargs apt-get install`), Debian or RPM tooling in the same `RUN` (`dpkg`,
//! `apt-key`, `add-apt-repository`, `rpm`, a path under `/etc/apt/`), a downloaded script piped
//! into a shell (`curl …/setup_20.x | bash`, which adds apt sources), a command substitution in
//! a package list, an exec-form `RUN`, a command a drop would leave dangling
//! (`apt-get update || true`), a condition (`if apt-get update`), a block a drop would leave
//! empty (`then apt-get clean; fi`), or a nested `sh -c` script.
//!
//! `busybox-option` (warning, in the same stages): a `tar`, `sed` or `adduser` given an option
//! BusyBox's lacks (`tar --transform`, `-I`, `sed -z`, Debian's `adduser --group`; BusyBox's own
//! option tables in `package_install/busybox.rs`): Wolfi's are BusyBox's unless the GNU tools
//! are installed.
//!
//! ## Why
//! `apt-get` does not exist on an apk-based image: the migrated build fails at its first `RUN`.
//! Package names differ between distributions, so a rewrite of the command alone installs
//! nothing useful; a name guessed wrong fails the build or installs something else.
//!
//! ## Example
//! ```dockerfile
//! RUN apt-get update \                      RUN apk add --no-cache \
//!     && apt-get install -y --no-install-recommends \        libpq \
//!         libpq5 \                     →            git
//!         git \
//!     && rm -rf /var/lib/apt/lists/*
//! ```
//!
//! ## Fix safety
//! One fix per `RUN`, all of its edits or none, made on the words' own bytes: the package
//! words are replaced in place, the flags the old command needed are removed with the blanks
//! before them, and a dropped command is removed with the `&&` or `;` that joined it. The
//! `RUN` runs as root as before: `user-root` keeps every `RUN` of a migrated stage as root. A
//! second run finds `apk` and changes nothing.

mod accounts;
mod busybox;
mod convert;
mod edits;

use parse_dockerfile::Instruction;

use crate::catalog::{Catalog, Entry, PackageMap};
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::rules::Rule;
use crate::stages::StageModel;

use convert::{Outcome, plan_run};

/// What the replacement's `-dev` variant installs with: `apk`, and the distribution whose
/// package names the map knows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApkTarget<'c> {
    pub distribution: &'c str,
    pub packages: &'c PackageMap,
}

/// The apk target of `entry`, when this rule converts its stages' package commands.
pub(crate) fn apk_target<'c>(entry: &'c Entry, catalog: &'c Catalog) -> Option<ApkTarget<'c>> {
    let manager = entry.hardened.package_manager.as_deref()?.trim();
    let distribution = entry.hardened.distribution.as_deref()?.trim();
    (manager == "apk" && catalog.packages().covers(distribution)).then_some(ApkTarget {
        distribution,
        packages: catalog.packages(),
    })
}

/// Whether this rule removes `run` (a `RUN` of a stage on `entry` that runs nothing but the old
/// package manager's housekeeping): `user-root` then plans no `USER root` for it.
pub(crate) fn removes_run<'a>(
    model: &StageModel<'_, 'a, '_>,
    entry: &Entry,
    run: &parse_dockerfile::RunInstruction<'a>,
) -> bool {
    let Some(target) = apk_target(entry, model.catalog) else {
        return false;
    };
    let commands = model.run_commands(run);
    let exec_form = matches!(run.arguments, parse_dockerfile::Command::Exec(_));
    matches!(
        plan_run(model.file.text(), &commands, exec_form, target),
        Outcome::Converted(conversion) if conversion.runs_nothing
    )
}

pub fn check(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for stage in &model.stages {
        let Some(entry) = model.lineage(stage.index).entry() else {
            continue;
        };
        let Some(target) = apk_target(entry, model.catalog) else {
            continue;
        };
        let instructions = model.file.instructions();
        for instruction in instructions.get(stage.body()).unwrap_or_default() {
            let Instruction::Run(run) = instruction else {
                continue;
            };
            let Some(range) = model.file.instruction_range(instruction) else {
                continue;
            };
            let commands = model.run_commands(run);
            diagnostics.extend(busybox::check(&commands, &range, &entry.replacement));
            let exec_form = matches!(run.arguments, parse_dockerfile::Command::Exec(_));
            match plan_run(model.file.text(), &commands, exec_form, target) {
                Outcome::Untouched => {}
                Outcome::Converted(mut conversion) => {
                    let message = conversion.describe(entry, target.distribution);
                    let edits = match conversion.runs_nothing {
                        true => vec![remove_instruction(model.file.text(), range.clone())],
                        false => std::mem::take(&mut conversion.edits),
                    };
                    if let Some(fix) = Fix::new(edits) {
                        diagnostics.push(Diagnostic::fixed(
                            Rule::PackageInstall,
                            range,
                            message,
                            fix,
                        ));
                    }
                }
                Outcome::Kept(reasons) => diagnostics.push(
                    Diagnostic::report(
                        Rule::PackageManager,
                        range,
                        format!(
                            "packages for the replacement ({}) install with apk, and hardport could not convert this RUN exactly, so it left it as it is: {}",
                            entry.replacement,
                            reasons.join("; ")
                        ),
                    )
                    .suggest(format!(
                        "rewrite it for apk and busybox by hand ({} package names), or add a missing name to a `packages:` table in your catalog",
                        target.distribution
                    )),
                ),
            }
        }
    }
    diagnostics
}

/// An edit that removes the instruction at `range` with its line: the blanks before it on its
/// line and the line break after it.
fn remove_instruction(text: &str, range: std::ops::Range<usize>) -> Edit {
    let line_start = text[..range.start]
        .rfind('\n')
        .map_or(0, |newline| newline + 1);
    let start = if text[line_start..range.start].trim().is_empty() {
        line_start
    } else {
        range.start
    };
    let rest = &text[range.end..];
    let end = match rest.find('\n') {
        Some(newline) if rest[..newline].trim().is_empty() => range.end + newline + 1,
        _ => range.end,
    };
    Edit::replace(start..end, "")
}

#[cfg(test)]
mod tests;
