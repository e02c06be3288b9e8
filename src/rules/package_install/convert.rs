//! The plan for one `RUN`: which commands are package commands, what each becomes, and the
//! edits on the file's bytes that make it so.

use std::ops::Range;

use super::ApkTarget;
use super::accounts::{self, is_account_tool};
use super::edits::{delete_words, drop_edits};
use crate::catalog::{Entry, SourceFamily};
use crate::diagnostic::Edit;
use crate::rules::basename;
use crate::shell::{SimpleCommand, Word};

/// What to do with one `RUN`.
#[derive(Debug)]
pub(super) enum Outcome {
    /// No command of another package manager: nothing to do.
    Untouched,
    Converted(Conversion),
    /// Left as it is, for these reasons.
    Kept(Vec<String>),
}

/// The edits of one converted `RUN` and what they did.
#[derive(Debug, Default)]
pub(super) struct Conversion {
    pub edits: Vec<Edit>,
    /// Every command of the `RUN` is dropped: the instruction goes.
    pub runs_nothing: bool,
    /// `` `apt-get install` → `apk add --no-cache` ``, one per rewritten command.
    pub rewritten: Vec<String>,
    /// `libpq5 → libpq`, for each package whose name changed.
    renamed: Vec<String>,
    /// The commands dropped, as written.
    dropped: Vec<String>,
}

impl Conversion {
    pub fn describe(&self, entry: &Entry, distribution: &str) -> String {
        let mut parts = Vec::new();
        if !self.rewritten.is_empty() {
            parts.push(self.rewritten.join(", "));
        }
        if !self.renamed.is_empty() {
            parts.push(format!(
                "{distribution} package names: {}",
                self.renamed.join(", ")
            ));
        }
        if !self.dropped.is_empty() {
            parts.push(format!("dropped {}", self.dropped.join(", ")));
        }
        if self.runs_nothing {
            parts.push("the RUN ran nothing else and is removed".to_owned());
        }
        format!(
            "{} (packages for {} install with apk)",
            parts.join("; "),
            entry.replacement
        )
    }
}

/// What a package manager command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Install,
    Remove,
    Upgrade,
    /// Refreshes or cleans the old manager's own state: nothing to do on apk.
    Housekeeping,
}

/// The fate of one command of the `RUN`.
pub(super) enum Step {
    /// Not a package command: kept as it is.
    Keep,
    /// Removed with its separator.
    Drop,
    /// Rewritten in place (or, for an `rm` of the old manager's caches among other paths,
    /// those paths removed).
    Rewrite(Vec<Edit>),
}

/// Programs of Debian's and RPM's tooling beside the package managers: a `RUN` that uses one
/// sets up sources, keys or state apk knows nothing of.
const DISTRIBUTION_TOOLS: &[&str] = &[
    "dpkg",
    "dpkg-architecture",
    "dpkg-divert",
    "dpkg-query",
    "dpkg-reconfigure",
    "apt-key",
    "apt-cache",
    "apt-mark",
    "apt-config",
    "add-apt-repository",
    "apt-add-repository",
    "debconf-set-selections",
    "rpm",
    "rpmkeys",
    "yum-config-manager",
];

/// shadow's account tools BusyBox has no applet for: a `RUN` that uses one beside a converted
/// `useradd` would fail there.
const SHADOW_ONLY: &[&str] = &[
    "usermod", "userdel", "groupmod", "groupdel", "gpasswd", "chage", "newusers",
];

/// Directories that configure the old package manager.
const SOURCE_DIRECTORIES: &[&str] = &["/etc/apt/", "/etc/yum.repos.d/", "/etc/dnf/"];

/// The old package managers' caches: an `rm` of these served only them.
const CACHES: &[&str] = &[
    "/var/lib/apt/lists",
    "/var/cache/apt",
    "/var/cache/yum",
    "/var/cache/dnf",
    "/var/lib/dnf",
];

pub(super) fn plan_run(
    text: &str,
    commands: &[SimpleCommand],
    exec_form: bool,
    target: ApkTarget<'_>,
) -> Outcome {
    let converts = |command: &SimpleCommand| {
        family(command).is_some()
            || wrapped_manager(command).is_some()
            || command.program().is_some_and(is_account_tool)
    };
    if !commands.iter().any(converts) {
        return Outcome::Untouched;
    }
    let mut reasons = Vec::new();
    if exec_form {
        reasons.push("it is in exec form, whose words are JSON strings".to_owned());
    }
    if !in_text_order(commands) {
        reasons.push("it runs a nested shell script (`sh -c`)".to_owned());
    }
    if !reasons.is_empty() {
        return Outcome::Kept(reasons);
    }
    let mut conversion = Conversion::default();
    let mut steps = Vec::with_capacity(commands.len());
    for command in commands {
        match step(text, command, target, &mut conversion) {
            Ok(step) => steps.push(step),
            Err(reason) => {
                reasons.push(reason);
                steps.push(Step::Keep);
            }
        }
    }
    reasons.extend(neighbourhood(text, commands));
    if let Err(reason) = drop_edits(text, commands, &steps, &mut conversion) {
        reasons.push(reason);
    }
    if !reasons.is_empty() {
        let mut unique: Vec<String> = Vec::with_capacity(reasons.len());
        for reason in reasons {
            if !unique.contains(&reason) {
                unique.push(reason);
            }
        }
        return Outcome::Kept(unique);
    }
    for step in steps {
        if let Step::Rewrite(edits) = step {
            conversion.edits.extend(edits);
        }
    }
    Outcome::Converted(conversion)
}

/// What the text around the package commands says that their words do not: a command
/// substitution inside a package list (`` apt-get install a `# note` b ``, where the shell
/// reader sees `b` as a command of its own), and a downloaded script piped into a shell
/// (`curl …/setup_20.x | bash`: NodeSource's and others' scripts add the old package manager's
/// sources, whose packages `apk` does not have).
fn neighbourhood(text: &str, commands: &[SimpleCommand]) -> Vec<String> {
    let mut reasons = Vec::new();
    let spans: Vec<Option<Range<usize>>> = commands.iter().map(span).collect();
    for (command, span) in commands.iter().zip(&spans) {
        if let Some(span) = span.as_ref().filter(|_| family(command).is_some())
            && substitution_follows(&text[span.end..])
        {
            reasons.push(format!(
                "a command substitution stands in the package list of `{}`",
                shown(command)
            ));
        }
    }
    for index in 1..commands.len() {
        let (Some(left), Some(right)) = (&spans[index - 1], &spans[index]) else {
            continue;
        };
        let Some(between) = text.get(left.end..right.start).map(without_comments) else {
            continue;
        };
        let packages_beside =
            family(&commands[index - 1]).is_some() || family(&commands[index]).is_some();
        if packages_beside && (between.contains('`') || between.contains("$(")) {
            reasons.push(format!(
                "a command substitution stands beside `{}`, so its package list is not all in its words",
                shown(&commands[if family(&commands[index - 1]).is_some() { index - 1 } else { index }])
            ));
        }
        let downloads = matches!(commands[index - 1].program(), Some("curl" | "wget"));
        let runs_shell = commands[index]
            .program()
            .is_some_and(|program| crate::rules::SHELLS.contains(&program));
        if downloads && runs_shell && between.contains('|') {
            reasons.push(format!(
                "it pipes a downloaded script into `{}`, which may add package sources of the old package manager",
                commands[index].program().unwrap_or_default()
            ));
        }
    }
    reasons
}

/// Whether a `` ` `` or `$(` comes right after a command, before anything ends it (`&&`, `||`,
/// `;`, `|` or a line break that is not continued): the shell reader drops a `` `# note` ``
/// there as a comment, with the words after it on the line, which the shell still passes on.
/// Comment lines a continuation skips are not looked into.
fn substitution_follows(rest: &str) -> bool {
    let rest = without_comments(rest);
    let mut continued = false;
    for (at, ch) in rest.char_indices() {
        match ch {
            '`' => return true,
            '$' if rest[at + 1..].starts_with('(') => return true,
            ';' | '|' | '&' => return false,
            '\n' if !continued => return false,
            _ => {}
        }
        if !matches!(ch, ' ' | '\t' | '\r' | '\n') {
            continued = ch == '\\';
        }
    }
    false
}

/// `text` with every comment (a `#` that starts a word, to the end of its line) removed.
fn without_comments(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut word_start = true;
    let mut in_comment = false;
    for ch in text.chars() {
        if in_comment {
            if ch == '\n' {
                in_comment = false;
                kept.push(ch);
                word_start = true;
            }
            continue;
        }
        if ch == '#' && word_start {
            in_comment = true;
            continue;
        }
        word_start = ch.is_whitespace();
        kept.push(ch);
    }
    kept
}

/// Programs that name a package manager without running it.
const NAMES_ONLY: &[&str] = &["echo", "printf", "which", "type", "test", "[", "hash"];

/// The old package manager a command runs through a program hardport does not know as a
/// wrapper (`eatmydata apt-get install`, `timeout 60 apt-get update`), if any.
fn wrapped_manager(command: &SimpleCommand) -> Option<&str> {
    let program = command.program()?;
    if NAMES_ONLY.contains(&program) {
        return None;
    }
    command.argv().iter().skip(1).find_map(|word| {
        let name = basename(&word.text);
        (!word.quoted && matches!(name, "apt-get" | "apt" | "yum" | "dnf" | "microdnf"))
            .then_some(name)
    })
}

/// The package family a command's program installs from, if it is an old package manager.
fn family(command: &SimpleCommand) -> Option<SourceFamily> {
    match command.program()? {
        "apt-get" | "apt" => Some(SourceFamily::Debian),
        "yum" | "dnf" | "microdnf" => Some(SourceFamily::Fedora),
        _ => None,
    }
}

/// Whether the commands follow each other in the file without overlapping, as they do unless
/// a script nested in a word (`sh -c '…'`) is read after the command that runs it.
fn in_text_order(commands: &[SimpleCommand]) -> bool {
    let mut end = 0;
    for command in commands {
        match span(command) {
            Some(range) if range.start >= end => end = range.end,
            Some(_) => return false,
            None => {}
        }
    }
    true
}

/// The bytes a command's words (and the files it writes) cover.
pub(super) fn span(command: &SimpleCommand) -> Option<Range<usize>> {
    let mut ranges = command
        .words
        .iter()
        .chain(&command.writes)
        .filter_map(|word| word.range.clone());
    let first = ranges.next()?;
    Some(ranges.fold(first, |all, range| {
        all.start.min(range.start)..all.end.max(range.end)
    }))
}

pub(super) fn not_editable(word: &Word) -> String {
    format!(
        "`{}` is not where hardport can edit it in the file",
        word.text
    )
}

/// What one command becomes.
fn step(
    text: &str,
    command: &SimpleCommand,
    target: ApkTarget<'_>,
    conversion: &mut Conversion,
) -> Result<Step, String> {
    if let Some(path) = command.writes.iter().find(|path| {
        SOURCE_DIRECTORIES
            .iter()
            .any(|dir| path.text.starts_with(dir))
    }) {
        return Err(format!(
            "it writes `{}`, a package source of the old package manager",
            path.text
        ));
    }
    if let Some(path) = command.argv().iter().find(|word| {
        SOURCE_DIRECTORIES
            .iter()
            .any(|dir| word.text.starts_with(dir))
    }) {
        return Err(format!(
            "it changes `{}`, a package source of the old package manager",
            path.text
        ));
    }
    let Some(program) = command.program() else {
        return Ok(Step::Keep);
    };
    if SHADOW_ONLY.contains(&program) {
        return Err(format!(
            "it runs `{program}`, which BusyBox's account tools do not include"
        ));
    }
    if DISTRIBUTION_TOOLS.contains(&program) {
        return Err(format!(
            "it runs `{program}`, which belongs to the old distribution's tooling"
        ));
    }
    if program == "rm" {
        return cache_removal(text, command, conversion);
    }
    if is_account_tool(program) {
        return accounts::rewrite(text, command, conversion);
    }
    let Some(family) = family(command) else {
        if let Some(manager) = wrapped_manager(command) {
            return Err(format!(
                "it runs `{manager}` through `{program}`, which hardport does not rewrite"
            ));
        }
        return Ok(Step::Keep);
    };
    let parsed = Parsed::read(command.argv(), family)?;
    let shown = format!("`{program} {}`", parsed.verb_text);
    match parsed.verb {
        Verb::Housekeeping => {
            conversion.dropped.push(shown);
            Ok(Step::Drop)
        }
        Verb::Upgrade if parsed.operands.is_empty() => {
            let edit = replace_head(text, &parsed, "apk upgrade --no-cache")?;
            conversion
                .rewritten
                .push(format!("{shown} → `apk upgrade --no-cache`"));
            Ok(Step::Rewrite(vec![edit]))
        }
        Verb::Upgrade => Err(format!(
            "{shown} of single packages has no exact apk equivalent"
        )),
        Verb::Install | Verb::Remove => {
            rewrite_packages(text, &parsed, family, target, &shown, conversion)
        }
    }
}

/// An `rm` of the old manager's caches: dropped whole when every path is one, else those
/// paths go; any other `rm` is kept.
fn cache_removal(
    text: &str,
    command: &SimpleCommand,
    conversion: &mut Conversion,
) -> Result<Step, String> {
    let argv = command.argv();
    let is_path = |word: &Word| !word.text.starts_with('-');
    let paths = argv.iter().skip(1).filter(|word| is_path(word)).count();
    let caches: Vec<bool> = argv
        .iter()
        .enumerate()
        .map(|(index, word)| index > 0 && is_path(word) && is_cache(&word.text))
        .collect();
    let count = caches.iter().filter(|cache| **cache).count();
    if count == 0 {
        return Ok(Step::Keep);
    }
    if count == paths {
        conversion.dropped.push(format!("`{}`", shown(command)));
        return Ok(Step::Drop);
    }
    let edits = delete_words(text, argv, &caches)?;
    conversion.dropped.extend(
        argv.iter()
            .zip(&caches)
            .filter(|(_, cache)| **cache)
            .map(|(word, _)| format!("`{}` from `rm`", word.text)),
    );
    Ok(Step::Rewrite(edits))
}

fn is_cache(path: &str) -> bool {
    CACHES.iter().any(|cache| {
        path.strip_prefix(cache)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// A package manager call read word by word.
struct Parsed<'w> {
    argv: &'w [Word],
    /// How many words, from the program on, run up to the last option before the first
    /// operand: the part `apk add --no-cache` replaces.
    head_len: usize,
    verb: Verb,
    verb_text: String,
    /// The positions in `argv` of the package operands, and of the options written after the
    /// first of them.
    operands: Vec<usize>,
    late_options: Vec<usize>,
}

impl<'w> Parsed<'w> {
    fn read(argv: &'w [Word], family: SourceFamily) -> Result<Parsed<'w>, String> {
        let program = argv.first().map_or("", |word| basename(&word.text));
        let mut verb: Option<(Verb, String)> = None;
        let mut head_len = 1;
        let mut operands = Vec::new();
        let mut late_options = Vec::new();
        for (index, word) in argv.iter().enumerate().skip(1) {
            if word.text.starts_with('-') && !word.quoted {
                if !known_option(family, &word.text) {
                    return Err(format!(
                        "option `{}` of `{program}` has no apk equivalent",
                        word.text
                    ));
                }
                if operands.is_empty() {
                    head_len = index + 1;
                } else {
                    late_options.push(index);
                }
                continue;
            }
            match &verb {
                None => {
                    let found = verb_of(family, &word.text).ok_or_else(|| {
                        format!(
                            "`{program} {}` has no apk equivalent hardport writes",
                            word.text
                        )
                    })?;
                    verb = Some((found, word.text.clone()));
                    head_len = index + 1;
                }
                Some(_) => operands.push(index),
            }
        }
        let (verb, verb_text) = verb.ok_or_else(|| format!("`{program}` runs no subcommand"))?;
        if matches!(verb, Verb::Install | Verb::Remove) && operands.is_empty() {
            return Err(format!(
                "`{program} {verb_text}` names no packages here (they come from elsewhere)"
            ));
        }
        Ok(Parsed {
            argv,
            head_len,
            verb,
            verb_text,
            operands,
            late_options,
        })
    }
}

fn verb_of(family: SourceFamily, verb: &str) -> Option<Verb> {
    let verb = match (family, verb) {
        (_, "install") => Verb::Install,
        (SourceFamily::Debian, "remove" | "purge") | (SourceFamily::Fedora, "remove" | "erase") => {
            Verb::Remove
        }
        (SourceFamily::Debian, "upgrade" | "dist-upgrade" | "full-upgrade")
        | (SourceFamily::Fedora, "update" | "upgrade") => Verb::Upgrade,
        (SourceFamily::Debian, "update" | "clean" | "autoclean" | "autoremove")
        | (SourceFamily::Fedora, "clean" | "makecache") => Verb::Housekeeping,
        _ => return None,
    };
    Some(verb)
}

/// Options that only shape how the old manager runs (answers, output, recommends, docs,
/// plugins): apk needs none of them.
fn known_option(family: SourceFamily, option: &str) -> bool {
    let quiet_or_yes = option.len() > 1 && option[1..].chars().all(|ch| matches!(ch, 'y' | 'q'));
    match family {
        SourceFamily::Debian => {
            quiet_or_yes
                || matches!(
                    option,
                    "--yes"
                        | "--assume-yes"
                        | "--quiet"
                        | "--no-install-recommends"
                        | "--no-install-suggests"
                        | "--auto-remove"
                        | "--autoremove"
                        | "--purge"
                        | "--fix-missing"
                )
        }
        SourceFamily::Fedora => {
            quiet_or_yes
                || option.starts_with("--disableplugin=")
                || matches!(
                    option,
                    "--assumeyes"
                        | "--quiet"
                        | "--nodocs"
                        | "--noplugins"
                        | "--refresh"
                        | "--best"
                        | "--setopt=install_weak_deps=0"
                        | "--setopt=install_weak_deps=False"
                        | "--setopt=install_weak_deps=false"
                        | "--setopt=tsflags=nodocs"
                )
        }
    }
}

/// Replace the words from the program to the last option before the operands.
fn replace_head(text: &str, parsed: &Parsed<'_>, replacement: &str) -> Result<Edit, String> {
    let head = &parsed.argv[..parsed.head_len];
    let first = head.first().ok_or("no program")?;
    let last = head.last().ok_or("no program")?;
    let (Some(start), Some(end)) = (
        first.range.as_ref().map(|range| range.start),
        last.range.as_ref().map(|range| range.end),
    ) else {
        return Err(not_editable(first));
    };
    debug_assert!(start <= end && end <= text.len());
    Ok(Edit::replace(start..end, replacement))
}

/// `apt-get install …` → `apk add --no-cache …`, `… remove …` → `apk del …`, each package
/// renamed in place.
fn rewrite_packages(
    text: &str,
    parsed: &Parsed<'_>,
    family: SourceFamily,
    target: ApkTarget<'_>,
    shown: &str,
    conversion: &mut Conversion,
) -> Result<Step, String> {
    let apk = match parsed.verb {
        Verb::Install => "apk add --no-cache",
        _ => "apk del",
    };
    let mut edits = vec![replace_head(text, parsed, apk)?];
    let mut deleted = vec![false; parsed.argv.len()];
    for &option in &parsed.late_options {
        deleted[option] = true;
    }
    let mut written: Vec<&str> = Vec::new();
    let mut renamed = Vec::new();
    let mut problems = Vec::new();
    let mut unmapped = Vec::new();
    for &index in &parsed.operands {
        let word = &parsed.argv[index];
        let name = match package_name(word, family) {
            Ok(name) => name,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let Some(mapping) = target.packages.lookup(target.distribution, family, name) else {
            unmapped.push(format!("`{name}`"));
            continue;
        };
        let names: Vec<&str> = mapping
            .names
            .iter()
            .map(String::as_str)
            .filter(|name| !written.contains(name))
            .collect();
        if mapping.names.iter().map(String::as_str).ne([name]) {
            renamed.push(format!(
                "{name} → {}",
                match mapping.names.as_slice() {
                    [] => "(nothing)".to_owned(),
                    names => names.join(" "),
                }
            ));
        }
        written.extend(names.iter().copied());
        if names.is_empty() {
            deleted[index] = true;
        } else {
            let range = word.text_range(text).ok_or_else(|| not_editable(word))?;
            edits.push(Edit::replace(range, names.join(" ")));
        }
    }
    match unmapped.as_slice() {
        [] => {}
        [one] => problems.push(format!(
            "{one} has no entry in hardport's {} package map",
            target.distribution
        )),
        many => problems.push(format!(
            "{} have no entry in hardport's {} package map",
            many.join(", "),
            target.distribution
        )),
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    edits.extend(delete_words(text, parsed.argv, &deleted)?);
    if written.is_empty() {
        // Every package maps to nothing: the command has nothing left to do.
        conversion.dropped.push(shown.to_owned());
        return Ok(Step::Drop);
    }
    conversion.rewritten.push(format!("{shown} → `{apk}`"));
    for rename in renamed {
        if !conversion.renamed.contains(&rename) {
            conversion.renamed.push(rename);
        }
    }
    Ok(Step::Rewrite(edits))
}

/// The package an operand names, or why it is not one hardport can map.
fn package_name(word: &Word, family: SourceFamily) -> Result<&str, String> {
    let text = word.text.as_str();
    if word.expands || word.pattern.is_some() || word.unterminated {
        return Err(format!(
            "`{text}` is not a package name hardport can read (a variable or a pattern)"
        ));
    }
    let pinned = match family {
        SourceFamily::Debian => text.contains('='),
        SourceFamily::Fedora => fedora_version_pin(text),
    };
    if pinned {
        return Err(format!(
            "`{text}` pins a version, which hardport reports rather than translates (apk's versions differ)"
        ));
    }
    if text.contains(['/', ':']) || text.ends_with(".deb") || text.ends_with(".rpm") {
        return Err(format!(
            "`{text}` names a release, an architecture or a file, not a package"
        ));
    }
    if text.starts_with('@') {
        return Err(format!("`{text}` names a package group"));
    }
    Ok(text)
}

/// `httpd-2.4.57` or `bash-5.1.8-6.el9`: a name, `-`, then a version that starts with a digit
/// and has a dot. Names with numbers of their own (`gcc-toolset-12`, `java-17-openjdk`) have
/// no dot after the digit.
fn fedora_version_pin(text: &str) -> bool {
    text.match_indices('-').any(|(index, _)| {
        let rest = &text[index + 1..];
        rest.starts_with(|ch: char| ch.is_ascii_digit()) && rest.contains('.')
    })
}

/// A command as its words read, for messages.
pub(super) fn shown(command: &SimpleCommand) -> String {
    command
        .words
        .iter()
        .map(|word| word.text.as_str())
        .collect::<Vec<&str>>()
        .join(" ")
}
