//! Which `RUN` commands need root: what `user-root` reads for a stage already on the
//! replacement, where only a step that would fail as the replacement's user gets `USER root`.

use parse_dockerfile::RunInstruction;

use crate::rules::basename;
use crate::shell::SimpleCommand;
use crate::stages::StageModel;

/// Why a `RUN` needs root, or `None` when nothing in it obviously does. `writable` are
/// absolute directories the non-root user can write besides the scratch ones (the
/// replacement's working directory).
pub(super) fn needs_root<'a>(
    model: &StageModel<'_, 'a, '_>,
    run: &RunInstruction<'a>,
    writable: &[&str],
) -> Option<String> {
    model
        .run_commands(run)
        .iter()
        .find_map(|command| command_needs_root(command, writable))
}

const PACKAGE_MANAGERS: [&str; 8] = [
    "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "tdnf",
];

/// Package manager subcommands that only read.
const READ_ONLY_SUBCOMMANDS: [&str; 22] = [
    "search",
    "show",
    "showpkg",
    "showsrc",
    "info",
    "list",
    "policy",
    "help",
    "version",
    "depends",
    "rdepends",
    "changelog",
    "download",
    "repoquery",
    "provides",
    "whatprovides",
    "check-update",
    "se",
    "if",
    "lu",
    "madison",
    "stats",
];

const USER_MANAGEMENT: [&str; 13] = [
    "useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod", "userdel", "groupdel",
    "deluser", "delgroup", "chpasswd", "chown", "chgrp",
];

/// Programs that only system administration runs, whatever their arguments.
const SYSTEM_TOOLS: [&str; 6] = [
    "update-ca-certificates",
    "update-alternatives",
    "ldconfig",
    "locale-gen",
    "dpkg-reconfigure",
    "setcap",
];

fn command_needs_root(command: &SimpleCommand, writable: &[&str]) -> Option<String> {
    let is_system_path = |path: &str| root_only_path(path, writable);
    if let Some(path) = command
        .writes
        .iter()
        .find(|path| is_system_path(&path.text))
    {
        return Some(format!("a write to `{}`", path.text));
    }
    let argv: Vec<String> = command
        .argv()
        .iter()
        .map(|word| word.text.clone())
        .collect();
    let (program, args) = argv.split_first()?;
    let name = basename(program);
    let positionals: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let has = |flag: &str| args.iter().any(|arg| arg == flag);
    if PACKAGE_MANAGERS.contains(&name) {
        let subcommand = positionals.first()?;
        return (!READ_ONLY_SUBCOMMANDS.contains(subcommand))
            .then(|| format!("`{name} {subcommand}`"));
    }
    if USER_MANAGEMENT.contains(&name) || SYSTEM_TOOLS.contains(&name) {
        return Some(format!("`{name}`"));
    }
    let writes_system = |paths: &[&str]| {
        paths
            .iter()
            .find(|path| is_system_path(path))
            .map(|path| format!("a write to `{path}`"))
    };
    match name {
        "mkdir" | "touch" | "rm" | "tee" | "chmod" | "truncate" => writes_system(&positionals),
        "cp" | "mv" | "ln" | "install" | "rsync" => {
            if let Some(target) = option_value(args, "-t", "--target-directory") {
                return writes_system(&[target]);
            }
            if name == "install" && (has("-d") || has("--directory")) {
                return writes_system(&positionals);
            }
            match positionals.split_last() {
                Some((last, rest)) if !rest.is_empty() => writes_system(&[last]),
                _ => None,
            }
        }
        "sed" | "perl" => {
            let in_place = args.iter().any(|arg| {
                arg == "--in-place"
                    || arg.starts_with("--in-place=")
                    || (arg.starts_with('-') && !arg.starts_with("--") && arg.contains('i'))
            });
            if in_place {
                writes_system(&positionals)
            } else {
                None
            }
        }
        "curl" => option_value(args, "-o", "--output")
            .and_then(|path| writes_system(&[path]))
            .or_else(|| {
                option_value(args, "--output-dir", "--output-dir")
                    .and_then(|path| writes_system(&[path]))
            }),
        "wget" => option_value(args, "-O", "--output-document")
            .or_else(|| option_value(args, "-P", "--directory-prefix"))
            .and_then(|path| writes_system(&[path])),
        "tar" => option_value(args, "-C", "--directory").and_then(|path| writes_system(&[path])),
        "unzip" => option_value(args, "-d", "-d").and_then(|path| writes_system(&[path])),
        "git" if positionals.first() == Some(&"clone") => match positionals.as_slice() {
            [_, _, destination, ..] => writes_system(&[destination]),
            _ => None,
        },
        "dpkg" => args
            .iter()
            .find(|arg| {
                matches!(
                    arg.as_str(),
                    "-i" | "--install"
                        | "-r"
                        | "--remove"
                        | "-P"
                        | "--purge"
                        | "--configure"
                        | "--unpack"
                        | "--add-architecture"
                        | "--set-selections"
                )
            })
            .map(|arg| format!("`dpkg {arg}`")),
        "rpm" => args
            .iter()
            .find(|arg| {
                (arg.starts_with("-i") || arg.starts_with("-U") || arg.starts_with("-F"))
                    || matches!(
                        arg.as_str(),
                        "-e" | "--install" | "--upgrade" | "--freshen" | "--erase" | "--import"
                    )
            })
            .map(|arg| format!("`rpm {arg}`")),
        "make" if positionals.contains(&"install") => Some("`make install`".into()),
        "npm" => {
            let installs = positionals.first().is_some_and(|sub| {
                matches!(
                    *sub,
                    "install"
                        | "i"
                        | "add"
                        | "update"
                        | "up"
                        | "uninstall"
                        | "rm"
                        | "remove"
                        | "un"
                        | "link"
                        | "ln"
                )
            });
            let global = args.iter().any(|arg| {
                matches!(
                    arg.as_str(),
                    "-g" | "--global" | "--location=global" | "--global=true"
                )
            });
            (installs && global).then(|| "`npm install -g`".into())
        }
        "gem" => {
            let installs = positionals
                .first()
                .is_some_and(|sub| matches!(*sub, "install" | "update" | "uninstall"));
            (installs && !has("--user-install")).then(|| "`gem install`".into())
        }
        _ if is_pip(name) && !in_virtualenv(program) => pip_install(args),
        _ if is_python(name) => match args.iter().position(|arg| arg == "-m") {
            Some(at) if args.get(at + 1).is_some_and(|module| module == "pip") => {
                pip_install(args.get(at + 2..).unwrap_or_default())
            }
            _ => None,
        },
        _ => None,
    }
}

fn pip_install(args: &[String]) -> Option<String> {
    let subcommand = args.iter().find(|arg| !arg.starts_with('-'))?;
    let user = args.iter().any(|arg| arg == "--user");
    (subcommand == "install" && !user).then(|| "`pip install` without `--user`".into())
}

/// `pip`, `pip3`, `pip3.12`.
fn is_pip(name: &str) -> bool {
    name.strip_prefix("pip")
        .is_some_and(|version| version.chars().all(|ch| ch.is_ascii_digit() || ch == '.'))
}

/// `python`, `python3`, `python3.12`.
fn is_python(name: &str) -> bool {
    name.strip_prefix("python")
        .is_some_and(|version| version.chars().all(|ch| ch.is_ascii_digit() || ch == '.'))
}

/// A `pip` called by an absolute path outside the system directories belongs to a virtualenv.
fn in_virtualenv(program: &str) -> bool {
    program.starts_with('/')
        && !["/usr/", "/bin/", "/sbin/"]
            .iter()
            .any(|dir| program.starts_with(dir))
}

/// The value of `-x VALUE`, `-abx VALUE`, `-xVALUE`, `--long VALUE` or `--long=VALUE`.
fn option_value<'a>(args: &'a [String], short: &str, long: &str) -> Option<&'a str> {
    let letter = short.strip_prefix('-').filter(|letter| letter.len() == 1);
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let cluster_ends_with_letter = letter.is_some_and(|letter| {
            !word.starts_with("--")
                && word
                    .strip_prefix('-')
                    .is_some_and(|cluster| cluster.ends_with(letter))
        });
        if word == short || word == long || cluster_ends_with_letter {
            return words.next().map(String::as_str);
        }
        if let Some(value) = word
            .strip_prefix(long)
            .and_then(|rest| rest.strip_prefix('='))
        {
            return Some(value);
        }
        if short.len() == 2
            && !word.starts_with("--")
            && let Some(value) = word.strip_prefix(short)
            && !value.is_empty()
        {
            return Some(value);
        }
    }
    None
}

/// Directories anyone may write (or that are not files at all).
const SCRATCH_DIRECTORIES: [&str; 5] = ["/tmp", "/var/tmp", "/dev", "/proc", "/sys"];

/// Whether writing the absolute `path` needs root. On the public image everything outside
/// scratch directories is root's: `/usr`, `/etc`, `/var`, but also `/app`, `/opt` or
/// `/home/node` (which the replacement does not have). Only the scratch directories and the
/// `writable` ones are exempt.
fn root_only_path(path: &str, writable: &[&str]) -> bool {
    let under = |prefix: &str| {
        let prefix = prefix.trim_end_matches('/');
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    path.starts_with('/')
        && !SCRATCH_DIRECTORIES.iter().any(|dir| under(dir))
        && !writable
            .iter()
            .any(|dir| dir.trim_end_matches('/').len() > 1 && under(dir))
}

// ---------------------------------------------------------------------------------------------
