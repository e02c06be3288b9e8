//! `unused-suppression`: inline `# hardport: ignore[rule-id]` comments, and those that
//! suppress nothing.
//!
//! ## What it does
//! A comment `# hardport: ignore[rule-id, other-id]` suppresses those rules' findings, and their
//! fixes, on one line; `# hardport: ignore` suppresses every rule there. On a line of its own
//! it covers the next line that is not blank or a comment (in a Dockerfile, that instruction
//! with its `\` continuation lines); after other text it covers its own line (a Dockerfile
//! instruction it ends, or a values key: `image: nginx:1.27 # hardport: ignore[helm-image]`).
//! The `#` starts the line or follows a blank, as YAML and the shell read comments.
//!
//! Suppressing `base-image` (or every rule) on a `FROM` keeps the whole stage: it stays on the
//! public image, and every rule that would follow the image to its replacement (its user,
//! entrypoint, paths) would be wrong there.
//!
//! A suppression that suppresses nothing is reported, as ruff reports an unused `noqa`: the
//! rule no longer finds anything there, or the comment names an id hardport does not have.
//! Rules the run leaves out (`ignore` in `hardport.toml`) are not counted against it.
//!
//! ## Why
//! A monorepo adopts hardport piece by piece: a line a team has decided to keep (a stage that
//! must stay on the public image, a pod that must run as root) needs to say so where it is,
//! reviewed with the code, instead of in a list elsewhere. A suppression left behind after the
//! line changed hides the next real finding, so it is reported.
//!
//! ## Example
//! ```dockerfile
//! # hardport: ignore[base-image]   (this stage stays on the public image)
//! FROM nginx:1.27
//! # hardport: ignore[user-root]    → warning[unused-suppression] when nothing below needs root
//! COPY site /usr/share/nginx/html
//! ```
//!
//! ## Fix safety
//! Reports only: a suppression is never removed or added by hardport. Which findings it
//! suppresses depends only on the original file's lines, so the result is the same on every
//! run.

use std::cell::Cell;
use std::ops::RangeInclusive;

use crate::discovery::FileKind;
use crate::migrate::Finding;
use crate::rules::{Rule, RuleSet, image_rewrite};

/// The marker after `#`.
const MARKER: &str = "hardport:";

/// The suppressions of one file.
#[derive(Debug, Default)]
pub struct Suppressions {
    items: Vec<Suppression>,
}

/// One `# hardport: ignore…` comment.
#[derive(Debug)]
struct Suppression {
    /// 1-based line of the comment.
    line: usize,
    /// The comment as written, for messages.
    text: String,
    /// The lines whose findings it suppresses.
    covers: RangeInclusive<usize>,
    /// The rules named, or `None` for every rule.
    rules: Option<RuleSet>,
    /// Ids named that are no rule's.
    unknown: Vec<String>,
    /// The rules it has suppressed a finding of.
    used: Cell<RuleSet>,
}

impl Suppressions {
    /// The suppressions in the text of a file of `kind`.
    pub fn parse(kind: FileKind, text: &str) -> Suppressions {
        // Most files have none: one search of the whole text instead of a look at every line.
        if memchr::memmem::find(text.as_bytes(), MARKER.as_bytes()).is_none() {
            return Suppressions { items: Vec::new() };
        }
        let lines: Vec<&str> = text.lines().collect();
        let mut items = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            let Some((at, comment)) = suppression_comment(line) else {
                continue;
            };
            let Some((rules, unknown)) = named_rules(&comment[1..]) else {
                continue;
            };
            let own_line = line[..at].trim().is_empty();
            let target = match own_line {
                true => (index + 1..lines.len()).find(|&next| {
                    let text = lines[next].trim();
                    !text.is_empty() && !text.starts_with('#')
                }),
                false => Some(index),
            };
            let Some(target) = target else {
                continue;
            };
            let keeps_stage = kind == FileKind::Dockerfile
                && is_from(lines[target])
                && rules.is_none_or(|rules| rules.contains(image_rewrite(FileKind::Dockerfile)));
            let (covers, rules) = match (kind, keeps_stage) {
                // A stage kept on its public image keeps all of it: every other rule follows
                // the image to its replacement.
                (FileKind::Dockerfile, true) => (stage_lines(&lines, target), None),
                (FileKind::Dockerfile, false) => (instruction_lines(&lines, target), rules),
                (_, _) => (target..=target, rules),
            };
            items.push(Suppression {
                line: index + 1,
                text: comment.trim_end().to_owned(),
                covers: covers.start() + 1..=covers.end() + 1,
                rules,
                unknown,
                used: Cell::new(RuleSet::EMPTY),
            });
        }
        Suppressions { items }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether a finding of `rule` on `line` (1-based, of the original file) is suppressed;
    /// the suppression that does it counts as used.
    pub fn suppresses(&self, rule: Rule, line: usize) -> bool {
        let mut suppressed = false;
        for item in &self.items {
            let names = item.rules.is_none_or(|rules| rules.contains(rule));
            if names && item.covers.contains(&line) {
                item.used.set(item.used.get().with(rule));
                suppressed = true;
            }
        }
        suppressed
    }

    /// An `unused-suppression` finding for each suppression that suppressed nothing of the
    /// rules that ran (`running`), and for each id named that is no rule's; none when
    /// `unused-suppression` itself does not run.
    pub fn unused(&self, running: RuleSet) -> Vec<Finding> {
        let mut unused = Vec::new();
        if !running.contains(Rule::UnusedSuppression) {
            return unused;
        }
        let finding = |line: usize, message: String| {
            Finding::report(Rule::UnusedSuppression, line, message).suggest("remove it")
        };
        for item in &self.items {
            let used = item.used.get();
            let idle: Vec<&str> = match item.rules {
                None if used == RuleSet::EMPTY => vec!["any rule"],
                None => Vec::new(),
                Some(rules) => rules
                    .iter()
                    .filter(|rule| running.contains(*rule) && !used.contains(*rule))
                    .map(Rule::code)
                    .collect(),
            };
            let covered = match item.covers.start() == item.covers.end() {
                true => format!("line {}", item.covers.start()),
                false => format!("lines {}-{}", item.covers.start(), item.covers.end()),
            };
            if !idle.is_empty() {
                unused.push(finding(
                    item.line,
                    format!(
                        "`{}` suppresses nothing: no finding of {} on {covered}",
                        item.text,
                        idle.join(", ")
                    ),
                ));
            }
            for id in &item.unknown {
                unused.push(finding(
                    item.line,
                    format!(
                        "`{}` names `{id}`, which is no rule of hardport (`hardport rules` lists them)",
                        item.text
                    ),
                ));
            }
        }
        unused
    }
}

/// The `#` comment of `line` that starts with the marker, and where it starts: a `#` at the
/// start of the line or after a blank.
fn suppression_comment(line: &str) -> Option<(usize, &str)> {
    line.match_indices('#').find_map(|(at, _)| {
        let after_blank = line[..at].is_empty() || line[..at].ends_with([' ', '\t']);
        let rest = line[at + 1..].trim_start();
        (after_blank && rest.starts_with(MARKER)).then(|| (at, &line[at..]))
    })
}

/// The rules `# hardport: ignore[a, b]` names (`None` for a bare `ignore`), and the ids that
/// are no rule's; `None` when the comment is not an `ignore` (another `hardport:` note).
fn named_rules(comment: &str) -> Option<(Option<RuleSet>, Vec<String>)> {
    let rest = comment.trim_start().strip_prefix(MARKER)?.trim_start();
    let rest = rest.strip_prefix("ignore")?;
    let Some(list) = rest.strip_prefix('[') else {
        // `ignore` alone, or followed by a blank and a reason.
        return (rest.is_empty() || rest.starts_with([' ', '\t'])).then(|| (None, Vec::new()));
    };
    let list = &list[..list.find(']')?];
    let mut rules = RuleSet::EMPTY;
    let mut unknown = Vec::new();
    for id in list.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        match id.parse::<Rule>() {
            Ok(rule) => rules = rules.with(rule),
            Err(_) => unknown.push(id.to_owned()),
        }
    }
    Some((Some(rules), unknown))
}

/// Whether a Dockerfile line continues on the next (the default `\\` escape).
fn is_continued(line: &str) -> bool {
    line.trim_end().ends_with('\\')
}

/// Whether a Dockerfile line starts a stage.
fn is_from(line: &str) -> bool {
    line.trim_start()
        .get(..5)
        .is_some_and(|word| word.eq_ignore_ascii_case("FROM "))
}

/// The 0-based lines of the stage whose `FROM` is line `index`: up to the line before the next
/// `FROM` that starts an instruction.
fn stage_lines(lines: &[&str], index: usize) -> RangeInclusive<usize> {
    let mut end = index;
    while end + 1 < lines.len() && (is_continued(lines[end]) || !is_from(lines[end + 1])) {
        end += 1;
    }
    index..=end
}

/// The 0-based lines of the Dockerfile instruction that holds line `index`: back to the first
/// line not continued from the one before, forward over lines that end in `\`.
fn instruction_lines(lines: &[&str], index: usize) -> RangeInclusive<usize> {
    let mut start = index;
    while start > 0 && is_continued(lines[start - 1]) {
        start -= 1;
    }
    let mut end = index;
    while end + 1 < lines.len() && is_continued(lines[end]) {
        end += 1;
    }
    start..=end
}

#[cfg(test)]
mod tests;
