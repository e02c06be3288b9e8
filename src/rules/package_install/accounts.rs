//! `useradd` and `groupadd` (shadow's tools, on Debian and Fedora) become busybox's `adduser`
//! and `addgroup`, which apk-based `-dev` images have: Chainguard's converter dfc does the same
//! for its Wolfi images (dfc testdata `useradd-does-not-remove-root`).
//!
//! Each option is written in busybox's spelling: `-r` → `-S` (system), `-u UID`, `-g GROUP` →
//! `-G GROUP` (primary group, by name: a number or a variable keeps the `RUN`), `-d HOME` → `-h HOME`, `-s SHELL`, `-c COMMENT` → `-g COMMENT`,
//! `-M` → `-H` (no home), `-k SKEL`; `-m`, `-l` and `-U` need nothing (busybox creates the
//! home and the user's own group unless told otherwise), and without `-m` or `-M` hardport
//! writes `-H`: `useradd` creates no home then (Debian's `login.defs` does not set
//! `CREATE_HOME`), so a later `mkdir` of it still works. `-D` is always added: without it
//! busybox asks for a password, which a build cannot answer, while `useradd` sets none. Any
//! other option (`-G` supplementary groups, `-o`, `-p`, `-N`, `groupadd -f`) keeps the `RUN`
//! as it is, with the reason.

use super::convert::{Conversion, Step, not_editable, shown};
use super::edits::is_blank_between_words;
use crate::diagnostic::Edit;
use crate::shell::{SimpleCommand, Word};

/// Whether `program` is one of the account tools this module rewrites.
pub(super) fn is_account_tool(program: &str) -> bool {
    matches!(program, "useradd" | "groupadd")
}

/// One option of the old tool: its spellings, whether it takes a value, and what busybox
/// writes for it (`None`: nothing).
struct Option_ {
    short: char,
    long: &'static str,
    takes_value: bool,
    busybox: Option<&'static str>,
}

const fn option(
    short: char,
    long: &'static str,
    takes_value: bool,
    busybox: Option<&'static str>,
) -> Option_ {
    Option_ {
        short,
        long,
        takes_value,
        busybox,
    }
}

const USERADD: &[Option_] = &[
    option('r', "system", false, Some("-S")),
    option('u', "uid", true, Some("-u")),
    option('g', "gid", true, Some("-G")),
    option('d', "home-dir", true, Some("-h")),
    option('s', "shell", true, Some("-s")),
    option('c', "comment", true, Some("-g")),
    option('M', "no-create-home", false, Some("-H")),
    option('k', "skel", true, Some("-k")),
    option('m', "create-home", false, None),
    option('l', "no-log-init", false, None),
    option('U', "user-group", false, None),
];

const GROUPADD: &[Option_] = &[
    option('r', "system", false, Some("-S")),
    option('g', "gid", true, Some("-g")),
];

/// `useradd …` → `adduser -D …`, `groupadd …` → `addgroup …`, as one edit over the command.
pub(super) fn rewrite(
    text: &str,
    command: &SimpleCommand,
    conversion: &mut Conversion,
) -> Result<Step, String> {
    let argv = command.argv();
    let program = argv.first().map_or("", |word| word.text.as_str());
    let (busybox, options): (&str, &[Option_]) = match program.rsplit('/').next() {
        Some("useradd") => ("adduser -D", USERADD),
        _ => ("addgroup", GROUPADD),
    };
    let mut written: Vec<String> = vec![busybox.to_owned()];
    let mut names = Vec::new();
    let mut home_decided = false;
    let mut words = argv[1..].iter();
    while let Some(word) = words.next() {
        let raw = raw(text, word)?;
        if word.quoted || !word.text.starts_with('-') || word.text == "-" {
            names.push(raw.to_owned());
            continue;
        }
        for (found, attached) in parse_option(&word.text, options, program)? {
            let value = match (found.takes_value, attached) {
                (true, Some(value)) => Some(value),
                (true, None) => {
                    let next = words
                        .next()
                        .ok_or_else(|| format!("`{program} {}` lacks its value", word.text))?;
                    Some(raw_value(text, next)?)
                }
                (false, _) => None,
            };
            if let Some(gid) = value.as_deref().filter(|value| {
                found.long == "gid"
                    && program.ends_with("useradd")
                    && (value.bytes().all(|byte| byte.is_ascii_digit()) || value.contains('$'))
            }) {
                return Err(format!(
                    "`useradd` names its group `{gid}` by number (or from a variable), and BusyBox's `adduser -G` takes a name"
                ));
            }
            home_decided |= matches!(found.long, "create-home" | "no-create-home");
            if let Some(flag) = found.busybox {
                written.push(match value {
                    Some(value) => format!("{flag} {value}"),
                    None => flag.to_owned(),
                });
            }
        }
    }
    if names.len() != 1 {
        return Err(format!(
            "`{}` does not name exactly one account",
            shown(command)
        ));
    }
    if program.ends_with("useradd") && !home_decided {
        // useradd creates no home without `-m` (Debian's login.defs sets no CREATE_HOME);
        // BusyBox's adduser creates one unless told `-H`, and a later `mkdir` of it would fail.
        written.push("-H".to_owned());
    }
    written.extend(names);
    let range = whole(text, argv)?;
    let replacement = written.join(" ");
    conversion.rewritten.push(format!(
        "`{}` → `{replacement}`",
        shown(command).trim_start()
    ));
    Ok(Step::Rewrite(vec![Edit::replace(range, replacement)]))
}

/// The options a word spells (a cluster like `-rm`, `-ms` with the value in the next word, or
/// `--shell=/bin/sh`), each with a value attached to it.
fn parse_option<'o>(
    word: &str,
    options: &'o [Option_],
    program: &str,
) -> Result<Vec<(&'o Option_, Option<String>)>, String> {
    let unknown =
        || format!("option `{word}` of `{program}` has no busybox equivalent hardport writes");
    if let Some(long) = word.strip_prefix("--") {
        let (name, value) = match long.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (long, None),
        };
        let found = options
            .iter()
            .find(|option| option.long == name)
            .ok_or_else(unknown)?;
        return Ok(vec![(found, value)]);
    }
    let mut found = Vec::new();
    let cluster = &word[1..];
    for (at, short) in cluster.char_indices() {
        let option = options
            .iter()
            .find(|option| option.short == short)
            .ok_or_else(unknown)?;
        if option.takes_value {
            let rest = &cluster[at + short.len_utf8()..];
            found.push((option, (!rest.is_empty()).then(|| rest.to_owned())));
            return Ok(found);
        }
        found.push((option, None));
    }
    Ok(found)
}

/// The word's bytes in the file, quotes included, so a value keeps its quoting.
fn raw<'t>(text: &'t str, word: &Word) -> Result<&'t str, String> {
    word.range
        .clone()
        .and_then(|range| text.get(range))
        .ok_or_else(|| not_editable(word))
}

fn raw_value(text: &str, word: &Word) -> Result<String, String> {
    raw(text, word).map(str::to_owned)
}

/// The bytes from the program to the last word, when nothing but blanks and line
/// continuations stand between the words.
fn whole(text: &str, argv: &[Word]) -> Result<std::ops::Range<usize>, String> {
    let mut ranges = Vec::with_capacity(argv.len());
    for word in argv {
        ranges.push(word.range.clone().ok_or_else(|| not_editable(word))?);
    }
    let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else {
        return Err("no program".into());
    };
    for pair in ranges.windows(2) {
        if !is_blank_between_words(&text[pair[0].end..pair[1].start]) {
            return Err(format!(
                "`{}` has something other than blanks between its words",
                argv[0].text
            ));
        }
    }
    Ok(first.start..last.end)
}
