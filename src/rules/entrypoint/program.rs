//! Which program an exec-form command runs, and whether it needs a shell.

use parse_dockerfile::{Instruction, Source};

use super::Context;
use super::outcome::Findings;
use super::render::json_array;
use super::sites::Plan;
use crate::catalog::Entry;
use crate::rules::{Rule, SHELLS, basename};

/// Init programs that run their arguments; the program they start follows their options.
const WRAPPERS: &[&str] = &["tini", "tini-static", "dumb-init", "catatonit"];

/// An exec-form command whose program is a shell or a shell script.
pub(super) fn check_program(
    context: &Context<'_, '_, '_, '_>,
    plan: &Plan<'_, '_>,
    findings: &mut Findings,
) {
    let Some(words) = plan.values() else {
        return;
    };
    let Some(reason) = program_needs_shell(&words) else {
        return;
    };
    let site = plan.site;
    let range = site.range(context.file);
    let program = program_index(&words).and_then(|index| words.get(index));
    let copied = program.is_some_and(|program| copied_in(context, program));
    let script = program.is_some_and(|program| !SHELLS.contains(&basename(program)));
    let origin = if copied {
        " (the Dockerfile copies it in)"
    } else {
        ""
    };
    let command = format!("{} {}", site.kind.keyword(), json_array(&words));
    match context.shell {
        Some(false) => findings.report(
            site.index,
            Rule::NeedsShell,
            range,
            format!(
                "`{command}` needs a shell for {reason}{origin}, and `{}` (stage {}) has none",
                context.image,
                context.label(),
            ),
            context.shell_advice(script),
        ),
        None => findings.report(
            site.index,
            Rule::MissingFact,
            range,
            format!(
                "`{command}` needs a shell for {reason}{origin}, and the catalog does not say whether `{}` has one",
                context.image,
            ),
            context.supply("hardened.shell"),
        ),
        Some(true) => {}
    }
}

/// Whether `word` names a script file (`app.js`, `src/main.py`) rather than a command.
pub(super) fn looks_like_script_file(word: &str) -> bool {
    const SCRIPT_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "ts", "py", "rb", "php", "pl", "jar"];
    basename(word)
        .rsplit_once('.')
        .is_some_and(|(stem, extension)| !stem.is_empty() && SCRIPT_EXTENSIONS.contains(&extension))
}

/// Whether the replacement's entrypoint is the program the public image runs by default
/// (Minimus node's `/usr/bin/node` for public node's `CMD ["node"]`).
pub(crate) fn runs_default_program(entry: &Entry) -> bool {
    let default = public_default_program(entry);
    let hardened = entry.hardened.entrypoint.as_deref();
    matches!((hardened, default), (Some([program]), Some(default)) if same_program(program, default))
}

/// The program the public image runs by default: the first word of its `CMD`.
pub(super) fn public_default_program(entry: &Entry) -> Option<&str> {
    entry.public.cmd.as_deref()?.first().map(String::as_str)
}

/// Whether a public entrypoint script given `argv` ran the image's default program with it
/// rather than `argv` itself: docker-library scripts do that for no arguments, a first argument
/// that is an option (`--flag` → `node --flag`), and node's for a script file (`app.js`).
pub(crate) fn script_runs_default_program(argv: &[String]) -> bool {
    argv.first()
        .is_none_or(|first| first.starts_with('-') || looks_like_script_file(first))
}

/// Whether an entrypoint hands its arguments on as the program, with nothing of its own
/// running first: empty, or init wrappers only (`tini --`). CMD alone then means the same on it.
pub(crate) fn runs_cmd_as_is(entrypoint: &[String]) -> bool {
    program_index(entrypoint).is_none()
}

/// Whether a file or directory this stage chain copies in (COPY/ADD) has `program`'s name.
pub(super) fn copied_in(context: &Context<'_, '_, '_, '_>, program: &str) -> bool {
    let name = basename(program);
    let names = |path: &str| basename(path.trim_end_matches('/')) == name;
    context.chain.iter().any(|&stage| {
        context
            .model
            .instructions(stage)
            .any(|instruction| match instruction {
                Instruction::Copy(copy) => {
                    names(&copy.dest.value)
                        || copy.src.iter().any(|source| source_names(source, &names))
                }
                Instruction::Add(add) => {
                    names(&add.dest.value)
                        || add.src.iter().any(|source| source_names(source, &names))
                }
                _ => false,
            })
    })
}

fn source_names(source: &Source<'_>, names: &impl Fn(&str) -> bool) -> bool {
    match source {
        Source::Path(path) => names(&path.value),
        _ => false,
    }
}

/// Whether two ways of naming a program name the same file: same name, and the same path
/// unless one of them is a bare name found on `PATH`.
pub(crate) fn same_program(a: &str, b: &str) -> bool {
    basename(a) == basename(b) && (a == b || !a.contains('/') || !b.contains('/'))
}

/// Whether `argv` starts with the program and arguments of `entrypoint`. Programs compare by
/// name: the public image's `/usr/local/bin/node` is the replacement's `/usr/bin/node`.
pub(super) fn starts_with(argv: &[String], entrypoint: &[String]) -> bool {
    match (entrypoint.split_first(), argv.split_first()) {
        (Some((program, rest)), Some((first, argv_rest))) => {
            basename(program) == basename(first)
                && argv_rest.len() >= rest.len()
                && rest.iter().zip(argv_rest).all(|(a, b)| a == b)
        }
        _ => false,
    }
}

/// A public-image entrypoint script by its name: `docker-entrypoint.sh`, `/entrypoint.sh`,
/// `docker-php-entrypoint`, `/__cacert_entrypoint.sh`.
pub(crate) fn is_entrypoint_script(word: &str) -> bool {
    let name = basename(word);
    name.ends_with("entrypoint.sh") || name.ends_with("-entrypoint") || name == "entrypoint"
}

/// Whether an entrypoint runs its arguments as the program: empty, init wrappers, and an
/// entrypoint script last (those end in `exec "$@"`).
pub(crate) fn passes_through(entrypoint: &[String]) -> bool {
    match program_index(entrypoint) {
        None => true,
        Some(index) => {
            index + 1 == entrypoint.len()
                && entrypoint
                    .get(index)
                    .is_some_and(|word| is_entrypoint_script(word))
        }
    }
}

/// The index of the program an exec-form command runs, after init wrappers and `env`.
pub(super) fn program_index(words: &[String]) -> Option<usize> {
    let mut index = 0;
    while let Some(word) = words.get(index) {
        let name = basename(word);
        let skip: fn(&String) -> bool = if WRAPPERS.contains(&name) {
            |word| word.starts_with('-')
        } else if name == "env" {
            |word| word.starts_with('-') || word.contains('=')
        } else {
            return Some(index);
        };
        index += 1;
        while words.get(index).is_some_and(skip) {
            index += 1;
        }
    }
    None
}

/// Why an exec-form command cannot run without a shell, if it cannot.
pub(super) fn program_needs_shell(words: &[String]) -> Option<String> {
    let program = words.get(program_index(words)?)?;
    let name = basename(program);
    if SHELLS.contains(&name) {
        return Some(format!("running `{name}`"));
    }
    if name.ends_with(".sh") || name.ends_with(".bash") {
        return Some(format!("the shell script `{program}`"));
    }
    None
}
