//! `busybox-option`: a `RUN` in a stage moving to an apk-based image passes `tar`, `sed` or
//! `adduser` an option BusyBox's does not have.
//!
//! What BusyBox accepts is read from its source: `archival/tar.c` (the `getopt32` string
//! `txC:f:Oopvkch j a T:X: z J Z m` and the `tar_longopts` table), `editors/sed.c`
//! (`i::rEne:*f:*` and `sed_longopts`) and `loginutils/adduser.c` (`adduser_longopts`, whose
//! letters are its short options); Debian's `adduser` has others (`--quiet`, `--group`). Everything else is GNU's (`tar --transform`, `--wildcards`, `-I`;
//! `sed -z`, `-s`, `--follow-symlinks`) and makes BusyBox's tool stop with "unrecognized
//! option". Wolfi's `-dev` images get these tools from BusyBox unless the GNU ones are
//! installed (`apk add gnutar`, `sed`), so this is a warning, not a rewrite.

use std::ops::Range;

use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::shell::SimpleCommand;

/// A BusyBox tool's options: its one-letter options, those of them that take the rest of their
/// word (or the next word) as a value, and its long options.
struct Tool {
    name: &'static str,
    short: &'static str,
    with_value: &'static str,
    long: &'static [&'static str],
    /// What to do instead.
    advice: &'static str,
}

const TAR: Tool = Tool {
    name: "tar",
    short: "txCfOopvkchjaTXzJZm",
    with_value: "CfTX",
    long: &[
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
    ],
    advice: "add `gnutar` to the packages this stage installs, or use options both tars have",
};

const SED: Tool = Tool {
    name: "sed",
    short: "irEnef",
    with_value: "ief",
    long: &[
        "in-place",
        "regexp-extended",
        "quiet",
        "silent",
        "expression",
        "file",
    ],
    advice: "add `sed` (GNU sed) to the packages this stage installs, or use options both have",
};

/// Debian's `adduser` (a Perl script with long options only) has options BusyBox's lacks
/// (`--quiet`, `--group`, `--firstuid`); the ones both have pass.
const ADDUSER: Tool = Tool {
    name: "adduser",
    short: "hgsGDSHuk",
    with_value: "hgsGuk",
    long: &[
        "home",
        "gecos",
        "shell",
        "ingroup",
        "disabled-password",
        "empty-password",
        "system",
        "no-create-home",
        "uid",
        "skel",
    ],
    advice: "use BusyBox's options (`-D`, `-S`, `-G GROUP`, `-u UID`, …), or `useradd` from `shadow`",
};

/// One warning per `tar`, `sed` or `adduser` command of `commands` that uses an option
/// BusyBox's lacks.
pub(super) fn check(
    commands: &[SimpleCommand],
    range: &Range<usize>,
    image: &str,
) -> Vec<Diagnostic> {
    commands
        .iter()
        .filter_map(|command| {
            let tool = [TAR, SED, ADDUSER]
                .into_iter()
                .find(|tool| command.program() == Some(tool.name))?;
            let unknown = gnu_options(command, &tool);
            (!unknown.is_empty()).then(|| {
                Diagnostic::report(
                    Rule::BusyboxOption,
                    range.clone(),
                    format!(
                        "`{}` is given {}, which BusyBox's {} lacks: on {image}, an apk-based image, `{}` is BusyBox's unless the GNU one is installed",
                        tool.name,
                        unknown.join(", "),
                        tool.name,
                        tool.name
                    ),
                )
                .suggest(tool.advice)
            })
        })
        .collect()
}

/// The options of a command BusyBox's `tool` does not know, as written.
fn gnu_options(command: &SimpleCommand, tool: &Tool) -> Vec<String> {
    let args = command.argv().get(1..).unwrap_or_default();
    let mut unknown = Vec::new();
    for (index, word) in args.iter().enumerate() {
        if word.quoted || word.expands {
            continue;
        }
        let text = word.text.as_str();
        if let Some(long) = text.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(name, _)| name);
            // getopt_long takes any unambiguous prefix (`--strip=1`).
            if !name.is_empty() && !tool.long.iter().any(|long| long.starts_with(name)) {
                unknown.push(format!("`--{name}`"));
            }
            continue;
        }
        // `-xzf` anywhere, or tar's old style `xzf` as the first argument.
        let letters = match text.strip_prefix('-') {
            Some(letters) => letters,
            None if tool.name == "tar" && index == 0 && !text.contains(['/', '.']) => text,
            None => continue,
        };
        for letter in letters.chars() {
            if !tool.short.contains(letter) {
                unknown.push(format!("`-{letter}`"));
            }
            if tool.with_value.contains(letter) {
                break;
            }
        }
    }
    unknown
}
