//! `package-manager` (documented in the parent module's header).

use std::ops::Range;

use parse_dockerfile::{Instruction, RunInstruction};

use super::{body, join_and, join_or};
use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::line_index::LineIndex;
use crate::rules::Rule;
use crate::rules::dev_variant::stage_label;
use crate::rules::package_install::apk_target;
use crate::shell::{SimpleCommand, Word};
use crate::stages::StageModel;

/// The package manager commands hardport recognises.
const MANAGERS: [&str; 8] = [
    "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "tdnf",
];

/// One call of a package manager: the command as written (its basename) and its subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    command: &'static str,
    verb: Option<String>,
}

impl Call {
    fn display(&self) -> String {
        match &self.verb {
            Some(verb) => format!("`{} {verb}`", self.command),
            None => format!("`{}`", self.command),
        }
    }
}

pub(super) fn package_managers(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
) -> Vec<Diagnostic> {
    if apk_target(entry, model.catalog).is_some() {
        // `package-install` converts these stages' package commands and reports the rest.
        return Vec::new();
    }
    let mut runs: Vec<(Range<usize>, Vec<Call>)> = Vec::new();
    for (_, instruction) in body(model, index) {
        let Instruction::Run(run) = instruction else {
            continue;
        };
        let calls = package_manager_calls(model, run);
        if calls.is_empty() {
            continue;
        }
        if let Some(range) = model.file.instruction_range(instruction) {
            runs.push((range, calls));
        }
    }
    if runs.is_empty() {
        return Vec::new();
    }
    let available = entry
        .hardened
        .package_manager
        .as_deref()
        .map(str::trim)
        .filter(|manager| !manager.is_empty());
    match available {
        Some(available) => runs
            .into_iter()
            .filter_map(|(range, calls)| other_manager(entry, available, range, &calls))
            .collect(),
        None => unknown_manager(model, index, entry, &runs)
            .into_iter()
            .collect(),
    }
}

/// `apt` for `apt-get` and `apt`; every other manager is its own family.
pub(super) fn family(command: &str) -> String {
    let command = command.trim().to_ascii_lowercase();
    match command.as_str() {
        "apt-get" | "apt" => "apt".to_owned(),
        _ => command,
    }
}

fn other_manager(
    entry: &Entry,
    available: &str,
    range: Range<usize>,
    calls: &[Call],
) -> Option<Diagnostic> {
    let target = family(available);
    let foreign: Vec<&Call> = calls
        .iter()
        .filter(|call| family(call.command) != target)
        .collect();
    if foreign.is_empty() {
        return None;
    }
    let mut commands: Vec<&str> = foreign.iter().map(|call| call.command).collect();
    commands.dedup();
    let calls_text: Vec<String> = foreign.iter().map(|call| call.display()).collect();
    let replacements: Vec<String> = foreign
        .iter()
        .map(|call| {
            let equivalent = call
                .verb
                .as_deref()
                .and_then(|verb| equivalent(&target, call.command, verb))
                .unwrap_or_else(|| format!("its {available} equivalent"));
            format!("{} → {equivalent}", call.display())
        })
        .collect();
    let commands: Vec<String> = commands
        .iter()
        .map(|command| format!("`{command}`"))
        .collect();
    Some(
        Diagnostic::report(
            Rule::PackageManager,
            range,
            format!(
                "RUN calls {}, but the replacement's -dev variant ({}) has {available}, not {}",
                calls_text.join(", "),
                entry.replacement,
                join_or(&commands),
            ),
        )
        .suggest(format!(
            "{}; package names can differ between distributions, so check each one",
            replacements.join(", ")
        )),
    )
}

fn unknown_manager(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
    runs: &[(Range<usize>, Vec<Call>)],
) -> Option<Diagnostic> {
    let first = runs.first()?;
    let mut commands: Vec<String> = Vec::new();
    for (_, calls) in runs {
        for call in calls {
            let command = format!("`{}`", call.command);
            if !commands.contains(&command) {
                commands.push(command);
            }
        }
    }
    let lines = LineIndex::new(model.file.text());
    let numbers: Vec<String> = runs
        .iter()
        .map(|(range, _)| lines.line(range.start).to_string())
        .collect();
    let where_ = match numbers.len() {
        1 => format!("line {}", numbers.join("")),
        _ => format!("lines {}", join_and(&numbers)),
    };
    Some(
        Diagnostic::report(
            Rule::PackageManager,
            first.0.clone(),
            format!(
                "stage {} calls {} ({where_}), but the catalog entry `{}` does not say which package manager the replacement's -dev variant ({}) has, so these commands may fail there",
                stage_label(model, index),
                join_and(&commands),
                entry.name,
                entry.replacement
            ),
        )
        .suggest(
            "check the image and add `hardened.package_manager` (apk, apt, dnf, …) to the catalog entry",
        ),
    )
}

/// What a package manager subcommand does, so it can be said in another manager's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Install,
    Remove,
    Refresh,
    Upgrade,
    Clean,
}

fn action(command: &str, verb: &str) -> Option<Action> {
    let verb = verb.to_ascii_lowercase();
    let action = match (family(command).as_str(), verb.as_str()) {
        ("apt", "install") => Action::Install,
        ("apt", "remove" | "purge" | "autoremove") => Action::Remove,
        ("apt", "update") => Action::Refresh,
        ("apt", "upgrade" | "dist-upgrade" | "full-upgrade") => Action::Upgrade,
        ("apt", "clean" | "autoclean") => Action::Clean,
        ("apk", "add") => Action::Install,
        ("apk", "del") => Action::Remove,
        ("apk", "update") => Action::Refresh,
        ("apk", "upgrade") => Action::Upgrade,
        ("yum" | "dnf" | "microdnf" | "tdnf", "install") => Action::Install,
        ("yum" | "dnf" | "microdnf" | "tdnf", "remove" | "erase") => Action::Remove,
        ("yum" | "dnf" | "microdnf" | "tdnf", "makecache") => Action::Refresh,
        ("yum" | "dnf" | "microdnf" | "tdnf", "update" | "upgrade") => Action::Upgrade,
        ("yum" | "dnf" | "microdnf" | "tdnf", "clean") => Action::Clean,
        ("zypper", "install" | "in") => Action::Install,
        ("zypper", "remove" | "rm") => Action::Remove,
        ("zypper", "refresh" | "ref") => Action::Refresh,
        ("zypper", "update" | "up" | "dist-upgrade" | "dup") => Action::Upgrade,
        ("zypper", "clean" | "cc") => Action::Clean,
        _ => return None,
    };
    Some(action)
}

/// The command of the `target` family that does what `command verb` does, in backticks (or
/// advice when there is nothing to run).
pub(super) fn equivalent(target: &str, command: &str, verb: &str) -> Option<String> {
    let action = action(command, verb)?;
    let text = match (target, action) {
        ("apt", Action::Install) => "apt-get install -y --no-install-recommends",
        ("apt", Action::Remove) => "apt-get remove -y",
        ("apt", Action::Refresh) => "apt-get update",
        ("apt", Action::Upgrade) => "apt-get upgrade -y",
        ("apt", Action::Clean) => "apt-get clean",
        ("apk", Action::Install) => "apk add --no-cache",
        ("apk", Action::Remove) => "apk del",
        ("apk", Action::Refresh) => "apk update",
        ("apk", Action::Upgrade) => "apk upgrade --no-cache",
        ("apk", Action::Clean) => {
            return Some("nothing (`apk add --no-cache` keeps no cache)".into());
        }
        ("zypper", Action::Install) => "zypper --non-interactive install",
        ("zypper", Action::Remove) => "zypper --non-interactive remove",
        ("zypper", Action::Refresh) => "zypper refresh",
        ("zypper", Action::Upgrade) => "zypper --non-interactive update",
        ("zypper", Action::Clean) => "zypper clean --all",
        ("yum" | "dnf" | "microdnf" | "tdnf", action) => {
            let verb = match action {
                Action::Install => "install -y",
                Action::Remove => "remove -y",
                Action::Refresh => "makecache",
                Action::Upgrade => "upgrade -y",
                Action::Clean => "clean all",
            };
            return Some(format!("`{target} {verb}`"));
        }
        _ => return None,
    };
    Some(format!("`{text}`"))
}

/// Every package manager call a `RUN` makes, in order, without repeats.
fn package_manager_calls<'a>(
    model: &StageModel<'_, 'a, '_>,
    run: &RunInstruction<'a>,
) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    for command in model.run_commands(run).iter() {
        if let Some(call) = manager_call(command)
            && !calls.contains(&call)
        {
            calls.push(call);
        }
    }
    calls
}

/// The package manager a simple command runs (past assignments, `sudo`, `env`, …).
fn manager_call(command: &SimpleCommand) -> Option<Call> {
    let name = command.program()?;
    let manager = MANAGERS.iter().find(|manager| **manager == name)?;
    let args = command.argv().get(1..).unwrap_or_default();
    Some(Call {
        command: manager,
        verb: verb(manager, args),
    })
}

/// The subcommand of a package manager call: its first word that is not an option.
fn verb(command: &str, words: &[Word]) -> Option<String> {
    let with_argument: &[&str] = match family(command).as_str() {
        "apt" => &[
            "-o",
            "-c",
            "-t",
            "--option",
            "--config-file",
            "--target-release",
        ],
        "apk" => &[
            "-X",
            "--repository",
            "-p",
            "--root",
            "--arch",
            "--cache-dir",
            "--keys-dir",
            "--repositories-file",
        ],
        "zypper" => &["-R", "--root", "-c", "--config"],
        _ => &[
            "-c",
            "--config",
            "--releasever",
            "--installroot",
            "--setopt",
            "--repo",
            "--enablerepo",
            "--disablerepo",
            "-x",
            "--exclude",
        ],
    };
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        if first.text.starts_with('-') {
            rest = match with_argument.contains(&first.text.as_str()) {
                true => tail.get(1..).unwrap_or_default(),
                false => tail,
            };
            continue;
        }
        return Some(first.text.clone());
    }
    None
}
