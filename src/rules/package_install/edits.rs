//! How commands and words are taken out of a `RUN` without leaving it broken: each run of
//! removed words or commands goes with what separates it from its neighbour, and only when
//! that is blanks, line continuations, comments, or a plain `&&`/`;` sequence.

use std::ops::Range;

use super::convert::{Conversion, Step, not_editable, shown, span};
use crate::diagnostic::Edit;
use crate::shell::{SimpleCommand, Word};

/// The edits that remove the words of `argv` marked in `deleted` (never the program), each run
/// of them with what separates it from the word after it, or, at the end of the command, from
/// the word before it: so no line continuation is left dangling. What is removed besides the
/// words must be blanks, line continuations and comments.
pub(super) fn delete_words(
    text: &str,
    argv: &[Word],
    deleted: &[bool],
) -> Result<Vec<Edit>, String> {
    let mut edits = Vec::new();
    let mut index = 1;
    while index < argv.len() {
        if !deleted[index] {
            index += 1;
            continue;
        }
        let first = index;
        while index + 1 < argv.len() && deleted[index + 1] {
            index += 1;
        }
        let last = index;
        index += 1;
        let range_of = |at: usize| {
            argv[at]
                .range
                .clone()
                .ok_or_else(|| not_editable(&argv[at]))
        };
        let range = match argv.get(last + 1) {
            Some(_) => range_of(first)?.start..range_of(last + 1)?.start,
            None => range_of(first - 1)?.end..range_of(last)?.end,
        };
        let words: Vec<Range<usize>> = (first..=last).map(range_of).collect::<Result<_, _>>()?;
        let mut gaps = Vec::new();
        let mut at = range.start;
        for word in &words {
            gaps.push(&text[at..word.start.max(at)]);
            at = word.end;
        }
        gaps.push(&text[at.min(range.end)..range.end]);
        if gaps.iter().any(|gap| !is_blank_between_words(gap)) {
            return Err(format!(
                "`{}` cannot be removed from its command: something other than blanks stands beside it",
                argv[first].text
            ));
        }
        edits.push(Edit::replace(range, ""));
    }
    Ok(edits)
}

/// Blanks, line continuations and the comment lines a continuation skips.
pub(super) fn is_blank_between_words(gap: &str) -> bool {
    gap.lines().all(|line| {
        let line = line.trim_start_matches([' ', '\t']);
        line.starts_with('#')
            || line
                .trim_end_matches(['\r', ' ', '\t'])
                .trim_end_matches('\\')
                .trim()
                .is_empty()
    })
}

/// How two commands are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// `&&`, `;` or a line break: the next runs when the previous succeeded, or always.
    Sequence,
    /// Anything else (`||`, `|`, `&`, parentheses, a substitution).
    Other,
}

/// What the text between two commands joins them with, past blanks, line continuations and
/// comments (a `#` there always starts one: it cannot be inside a word).
fn join(between: &str) -> Join {
    let mut operators = String::new();
    let mut line_break = false;
    let mut rest = between;
    while let Some(ch) = rest.chars().next() {
        let continuation = ch == '\\'
            && rest[1..]
                .trim_start_matches([' ', '\t', '\r'])
                .starts_with('\n');
        if continuation {
            rest = &rest[rest.find('\n').map_or(rest.len(), |newline| newline + 1)..];
            continue;
        }
        match ch {
            '#' => {
                rest = &rest[rest.find('\n').unwrap_or(rest.len())..];
                continue;
            }
            '\n' => line_break = true,
            ' ' | '\t' | '\r' => {}
            _ => operators.push(ch),
        }
        rest = &rest[ch.len_utf8()..];
    }
    match operators.as_str() {
        "&&" | ";" => Join::Sequence,
        "" if line_break => Join::Sequence,
        _ => Join::Other,
    }
}

/// Words that open a block a command may start (`then apt-get update`): dropping the command
/// keeps them.
const OPENERS: &[&str] = &["then", "do", "else", "{"];

/// Words that close or continue a block (`; fi`): a dropped command alone in its block would
/// leave it empty, which is a syntax error.
const CLOSERS: &[&str] = &["fi", "done", "esac", "}", "else", "elif"];

/// The words a shell reads as syntax before a command.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time",
];

/// Where a dropped command's own bytes start (after an opening keyword, which stays), and
/// whether it had one; an error when it is a condition (`if apt-get update`).
fn own_start(command: &SimpleCommand) -> Result<Option<(usize, bool)>, String> {
    let mut opened = false;
    for word in &command.words {
        if word.quoted || !KEYWORDS.contains(&word.text.as_str()) {
            return Ok(word.range.as_ref().map(|range| (range.start, opened)));
        }
        if !OPENERS.contains(&word.text.as_str()) {
            return Err(format!(
                "`{}` is a condition or part of one, which hardport does not take out",
                shown(command)
            ));
        }
        opened = true;
    }
    Ok(None)
}

/// The edits that remove each run of dropped commands with the joins around it; an error when
/// a join is not a plain sequence (`apt-get update || true`) or a block would be left empty.
/// Comments between a dropped command and the one after it stay; those before a dropped last
/// command go with it (kept, they would end the instruction or hang from a continuation).
pub(super) fn drop_edits(
    text: &str,
    commands: &[SimpleCommand],
    steps: &[Step],
    conversion: &mut Conversion,
) -> Result<(), String> {
    let spans: Vec<Option<Range<usize>>> = commands.iter().map(span).collect();
    let dropped = |index: usize| matches!(steps[index], Step::Drop);
    if (0..steps.len()).all(dropped) {
        conversion.runs_nothing = true;
        return Ok(());
    }
    let span_of = |at: usize| {
        spans[at].clone().ok_or_else(|| {
            format!(
                "`{}` is not where hardport can edit it in the file",
                shown(&commands[at])
            )
        })
    };
    let sequence = |left: usize, right_start: usize, named: usize| -> Result<(), String> {
        let gap = text
            .get(span_of(left)?.end..right_start)
            .unwrap_or_default();
        match join(gap) {
            Join::Sequence => Ok(()),
            Join::Other => Err(format!(
                "`{}` cannot be taken out of its command list: it is not joined by `&&` or `;`",
                shown(&commands[named])
            )),
        }
    };
    let mut index = 0;
    while index < steps.len() {
        if !dropped(index) {
            index += 1;
            continue;
        }
        let first = index;
        while index + 1 < steps.len() && dropped(index + 1) {
            index += 1;
        }
        let last = index;
        index += 1;
        let Some((start, opened)) = own_start(&commands[first])? else {
            return Err(format!(
                "`{}` is not where hardport can edit it in the file",
                shown(&commands[first])
            ));
        };
        for (member, command) in commands.iter().enumerate().take(last + 1).skip(first + 1) {
            if own_start(command)?.is_none_or(|(_, opened)| opened) {
                return Err(format!(
                    "`{}` opens a block, which hardport does not take out",
                    shown(command)
                ));
            }
            sequence(member - 1, span_of(member)?.start, member)?;
        }
        if first > 0 && !opened {
            sequence(first - 1, start, first)?;
        }
        match commands.get(last + 1) {
            Some(next) => {
                let next_start = span_of(last + 1)?.start;
                sequence(last, next_start, last)?;
                let closes = next
                    .words
                    .first()
                    .is_some_and(|word| !word.quoted && CLOSERS.contains(&word.text.as_str()));
                if opened && closes {
                    return Err(format!(
                        "taking out `{}` would leave its block empty",
                        shown(&commands[first])
                    ));
                }
                let (command, join) = removal(text, start, span_of(last)?.end, next_start);
                for range in std::iter::once(command).chain(join) {
                    conversion.edits.push(Edit::replace(range, ""));
                }
            }
            None if first > 0 && !opened => {
                let from = span_of(first - 1)?.end;
                conversion
                    .edits
                    .push(Edit::replace(from..span_of(last)?.end, ""));
            }
            None => {
                return Err(format!(
                    "`{}` cannot be taken out of its block",
                    shown(&commands[first])
                ));
            }
        }
    }
    Ok(())
}

/// The ranges that remove a dropped command from `start` to `end` and the join after it, up to
/// the next command at `next`, keeping the comments between them: one range up to `next` when
/// there are none; up to the join's end when the comments follow the join; the command alone
/// and then the join when the comments come first. A `#` starts a comment only at the start of
/// a word, and `;` or `&&` inside a comment is no join.
fn removal(
    text: &str,
    start: usize,
    end: usize,
    next: usize,
) -> (Range<usize>, Option<Range<usize>>) {
    let gap = &text[end..next];
    let mut comment = None;
    let mut join = None;
    let mut word_start = true;
    let mut in_comment = false;
    for (at, ch) in gap.char_indices() {
        if in_comment {
            in_comment = ch != '\n';
            word_start = true;
            continue;
        }
        if ch == '#' && word_start {
            in_comment = true;
            comment.get_or_insert(at);
            continue;
        }
        if join.is_none() && (ch == ';' || gap[at..].starts_with("&&")) {
            join = Some(at..at + if ch == ';' { 1 } else { 2 });
        }
        word_start = ch.is_whitespace();
    }
    let Some(comment) = comment else {
        return (start..next, None);
    };
    let blanks_after = |at: usize| {
        let rest = &gap[at..];
        at + rest.len() - rest.trim_start_matches([' ', '\t']).len()
    };
    match join {
        Some(join) if join.start < comment => (start..end + blanks_after(join.end), None),
        Some(join) => (
            start..end,
            Some(end + join.start..end + blanks_after(join.end)),
        ),
        None => (start..end, None),
    }
}
