//! `busybox-option`: a `RUN` in a stage moving to an apk-based image passes `tar` an option
//! BusyBox's `tar` does not have.
//!
//! What BusyBox's `tar` accepts is read from its source (`archival/tar.c`: the `getopt32`
//! string `txC:f:Oopvkch j a T:X: z J Z m` and the `tar_longopts` table); everything else is
//! GNU tar's (`--transform`, `--wildcards`, `--owner`, `-I`, `--zstd`, …) and makes BusyBox's
//! `tar` stop with "unrecognized option". Wolfi's `-dev` images get `tar` from BusyBox unless
//! GNU tar is installed (`apk add gnutar`), so this is a warning, not a rewrite.

use std::ops::Range;

use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::shell::SimpleCommand;

/// BusyBox `tar`'s one-letter options.
const SHORT: &str = "txCfOopvkchjaTXzJZm";

/// BusyBox `tar`'s long options.
const LONG: &[&str] = &[
    "list",
    "extract",
    "directory",
    "file",
    "to-stdout",
    "no-same-owner",
    "same-permissions",
    "verbose",
    "keep-old",
    "create",
    "dereference",
    "bzip2",
    "lzma",
    "files-from",
    "exclude-from",
    "gzip",
    "xz",
    "compress",
    "touch",
    "strip-components",
    "no-recursion",
    "to-command",
    "numeric-owner",
    "no-same-permissions",
    "overwrite",
    "exclude",
];

/// One warning per `tar` command of `commands` that uses an option BusyBox's lacks.
pub(super) fn check(
    commands: &[SimpleCommand],
    range: &Range<usize>,
    image: &str,
) -> Vec<Diagnostic> {
    commands
        .iter()
        .filter(|command| command.program() == Some("tar"))
        .filter_map(|command| {
            let unknown = gnu_options(command);
            (!unknown.is_empty()).then(|| {
                Diagnostic::report(
                    Rule::BusyboxOption,
                    range.clone(),
                    format!(
                        "`tar` is given {}, which BusyBox's tar lacks: on {image}, an apk-based image, `tar` is BusyBox's unless GNU tar is installed",
                        unknown.join(", ")
                    ),
                )
                .suggest("add `gnutar` to the packages this stage installs, or use options both tars have")
            })
        })
        .collect()
}

/// The options of a `tar` command BusyBox's `tar` does not know, as written.
fn gnu_options(command: &SimpleCommand) -> Vec<String> {
    let args = command.argv().get(1..).unwrap_or_default();
    let mut unknown = Vec::new();
    for (index, word) in args.iter().enumerate() {
        if word.quoted || word.expands {
            continue;
        }
        let text = word.text.as_str();
        if let Some(long) = text.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(name, _)| name);
            if !name.is_empty() && !LONG.contains(&name) {
                unknown.push(format!("`--{name}`"));
            }
            continue;
        }
        // `-xzf` anywhere, or `xzf` as the first argument (the old style).
        let letters = match text.strip_prefix('-') {
            Some(letters) => letters,
            None if index == 0 && !text.contains('/') && !text.contains('.') => text,
            None => continue,
        };
        for letter in letters.chars() {
            if !SHORT.contains(letter) {
                unknown.push(format!("`-{letter}`"));
            }
            if matches!(letter, 'C' | 'f' | 'T' | 'X') {
                break;
            }
        }
    }
    unknown
}
