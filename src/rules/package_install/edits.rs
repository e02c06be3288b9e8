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

/// The edits that remove each run of dropped commands with the joins around it; an error when
/// a join is not a plain sequence (`apt-get update || true`).
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
        let span_of = |at: usize| {
            spans[at].clone().ok_or_else(|| {
                format!(
                    "`{}` is not where hardport can edit it in the file",
                    shown(&commands[at])
                )
            })
        };
        let joins_ok = |from: usize, to: usize| -> Result<(), String> {
            for at in from..to {
                let (left, right) = (span_of(at)?, span_of(at + 1)?);
                if join(&text[left.end..right.start]) != Join::Sequence {
                    return Err(format!(
                        "`{}` cannot be taken out of its command list: it is not joined by `&&` or `;`",
                        shown(&commands[if at < first { first } else { at }])
                    ));
                }
            }
            Ok(())
        };
        if last + 1 < steps.len() {
            joins_ok(first.saturating_sub(usize::from(first > 0)), last + 1)?;
            let (start, end) = (span_of(first)?.start, span_of(last + 1)?.start);
            conversion.edits.push(Edit::replace(start..end, ""));
        } else {
            joins_ok(first - 1, last)?;
            let (start, end) = (span_of(first - 1)?.end, span_of(last)?.end);
            conversion.edits.push(Edit::replace(start..end, ""));
        }
    }
    Ok(())
}
