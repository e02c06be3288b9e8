//! The one place where edits become text.
//!
//! Fixes are taken in source order; a fix whose edits conflict with one already taken is
//! skipped for this pass (the caller re-runs the rules on the new text, as ruff does), and an
//! edit identical to one already taken is applied once. Untouched bytes are copied verbatim, so
//! everything no rule asked to change survives byte for byte.

use std::collections::BTreeMap;

use crate::diagnostic::{Edit, Fix};

/// The result of applying a batch of fixes to one text.
#[derive(Debug, Default)]
pub struct Applied {
    pub text: String,
    /// Indexes (into the input slice) of the fixes that were applied.
    pub applied: Vec<usize>,
    /// The edits made, sorted and non-overlapping, so positions in the new text can be traced
    /// back to the old one.
    pub edits: Vec<Edit>,
}

/// Apply every fix that does not conflict with an earlier one.
///
/// Edits must lie inside `text` and on character boundaries; one that does not is a rule bug,
/// and its fix is skipped rather than corrupting the text.
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> Applied {
    let mut order: Vec<usize> = (0..fixes.len()).collect();
    order.sort_by_key(|&index| fixes[index].start());

    let mut taken = Taken::default();
    let mut applied = Vec::new();
    // A fix several diagnostics share is checked once: it is applied for all or for none.
    let mut decided: std::collections::HashMap<usize, bool> = std::collections::HashMap::new();
    for index in order {
        let fix = fixes[index];
        if let Some(&was_applied) = decided.get(&fix.identity()) {
            if was_applied {
                applied.push(index);
            }
            continue;
        }
        let fits = fix
            .edits()
            .iter()
            .all(|edit| is_valid_range(text, edit) && !taken.conflicts(edit));
        if fits {
            for edit in fix.edits() {
                taken.insert(edit);
            }
            applied.push(index);
        }
        decided.insert(fix.identity(), fits);
    }
    applied.sort_unstable();
    let taken = taken.sorted();
    Applied {
        text: splice(text, &taken),
        applied,
        edits: taken.into_iter().cloned().collect(),
    }
}

/// The edits taken so far, by range, so a new edit is checked against its neighbours only
/// rather than against every edit (a file may carry thousands).
#[derive(Default)]
struct Taken<'f> {
    /// Edits of one range, in the order they were taken (only a fix's own insertions at one
    /// offset share a range).
    by_range: BTreeMap<(usize, usize), Vec<&'f Edit>>,
}

impl<'f> Taken<'f> {
    /// Whether `edit` conflicts with a taken edit.
    ///
    /// Taken edits do not conflict with each other (a fix's own edits do not overlap, or
    /// splicing them would fail), so in range order their ends never decrease: the edits that
    /// can touch `edit` are the last ones starting at or before its end, back to the first that
    /// ends before it starts.
    fn conflicts(&self, edit: &Edit) -> bool {
        let candidates = self.by_range.range(..=(edit.range.end, usize::MAX)).rev();
        for (&(_, end), others) in candidates {
            if others.iter().any(|other| edit.conflicts_with(other)) {
                return true;
            }
            if end < edit.range.start {
                break;
            }
        }
        false
    }

    /// Take `edit`, once: an edit identical to a taken one is applied once.
    fn insert(&mut self, edit: &'f Edit) {
        let same_range = self
            .by_range
            .entry((edit.range.start, edit.range.end))
            .or_default();
        if !same_range.contains(&edit) {
            same_range.push(edit);
        }
    }

    /// The taken edits sorted by range.
    fn sorted(self) -> Vec<&'f Edit> {
        self.by_range.into_values().flatten().collect()
    }
}

fn is_valid_range(text: &str, edit: &Edit) -> bool {
    edit.range.start <= edit.range.end
        && edit.range.end <= text.len()
        && text.is_char_boundary(edit.range.start)
        && text.is_char_boundary(edit.range.end)
}

/// The edits of one pass, with where each one's replacement ends in the new text, so an offset
/// is traced back by binary search instead of a walk over every edit.
#[derive(Debug, Clone)]
pub struct Trace {
    edits: Vec<Edit>,
    /// Per edit: the offset in the new text right after its replacement (never decreasing).
    new_ends: Vec<usize>,
}

impl Trace {
    /// `edits` sorted and non-overlapping, as [`Applied::edits`] are.
    pub fn new(edits: Vec<Edit>) -> Self {
        let mut old_cursor = 0;
        let mut new_cursor = 0;
        let new_ends = edits
            .iter()
            .map(|edit| {
                new_cursor += edit.range.start.saturating_sub(old_cursor) + edit.replacement.len();
                old_cursor = edit.range.end;
                new_cursor
            })
            .collect();
        Trace { edits, new_ends }
    }

    /// Where `offset` in the text the edits produced was in the text they were applied to.
    ///
    /// Untouched bytes map to themselves (shifted by the length changes before them); an offset
    /// inside a replacement maps to the start of the bytes it replaced.
    pub fn back(&self, offset: usize) -> usize {
        let next = self.new_ends.partition_point(|&end| end <= offset);
        let (old_cursor, new_cursor) = match next.checked_sub(1) {
            Some(previous) => (self.edits[previous].range.end, self.new_ends[previous]),
            None => (0, 0),
        };
        if let Some(edit) = self.edits.get(next) {
            let new_start = new_cursor + edit.range.start.saturating_sub(old_cursor);
            if offset >= new_start {
                return edit.range.start;
            }
        }
        old_cursor + offset.saturating_sub(new_cursor)
    }
}

/// Copy `text` with sorted, non-overlapping `edits` applied.
pub(crate) fn splice(text: &str, edits: &[&Edit]) -> String {
    let added: usize = edits.iter().map(|edit| edit.replacement.len()).sum();
    let mut out = String::with_capacity(text.len() + added);
    let mut cursor = 0;
    for edit in edits {
        out.push_str(&text[cursor..edit.range.start]);
        out.push_str(&edit.replacement);
        cursor = edit.range.end;
    }
    out.push_str(&text[cursor..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(edits: &[(std::ops::Range<usize>, &str)]) -> Fix {
        Fix::new(
            edits
                .iter()
                .map(|(range, text)| Edit::replace(range.clone(), *text))
                .collect(),
        )
        .expect("non-empty")
    }

    #[test]
    fn applies_edits_and_keeps_the_rest_verbatim() {
        let text = "FROM nginx:1.27\r\nRUN x\r\n";
        let fixes = [fix(&[(5..15, "reg.mini.dev/nginx:1.27")])];
        let applied = apply_fixes(text, &fixes.iter().collect::<Vec<_>>());
        assert_eq!(applied.text, "FROM reg.mini.dev/nginx:1.27\r\nRUN x\r\n");
        assert_eq!(applied.applied, vec![0]);
    }

    #[test]
    fn skips_a_fix_that_overlaps_an_earlier_one() {
        let text = "abcdefgh";
        let fixes = [fix(&[(4..6, "Y")]), fix(&[(0..5, "X")])];
        let applied = apply_fixes(text, &fixes.iter().collect::<Vec<_>>());
        assert_eq!(applied.text, "Xfgh");
        assert_eq!(applied.applied, vec![1]);
    }

    #[test]
    fn a_multi_edit_fix_is_all_or_nothing() {
        let text = "abcdefgh";
        let fixes = [fix(&[(0..1, "A")]), fix(&[(0..1, "Z"), (7..8, "H")])];
        let applied = apply_fixes(text, &fixes.iter().collect::<Vec<_>>());
        assert_eq!(applied.text, "Abcdefgh");
        assert_eq!(applied.applied, vec![0]);
    }

    #[test]
    fn identical_edits_from_two_fixes_apply_once() {
        let text = "ARG B=node\n";
        let fixes = [fix(&[(6..10, "x/node")]), fix(&[(6..10, "x/node")])];
        let applied = apply_fixes(text, &fixes.iter().collect::<Vec<_>>());
        assert_eq!(applied.text, "ARG B=x/node\n");
        assert_eq!(applied.applied, vec![0, 1]);
    }

    #[test]
    fn offsets_trace_back_through_the_edits() {
        let text = "FROM a\nRUN x\nCMD y\n";
        let fixes = [
            fix(&[(5..6, "reg/a:1")]),
            fix(&[(7..7, "USER root\n")]),
            fix(&[(13..19, "")]),
        ];
        let applied = apply_fixes(text, &fixes.iter().collect::<Vec<_>>());
        assert_eq!(applied.text, "FROM reg/a:1\nUSER root\nRUN x\n");
        let new = |needle: &str| applied.text.find(needle).expect("present");
        let trace = Trace::new(applied.edits);
        assert_eq!(trace.back(0), 0);
        assert_eq!(trace.back(new("reg/a:1") + 3), 5);
        assert_eq!(trace.back(new("USER root") + 4), 7);
        assert_eq!(trace.back(new("RUN x")), 7);
        assert_eq!(trace.back(new("RUN x") + 4), 11);
        assert_eq!(trace.back(applied.text.len()), text.len());
    }

    #[test]
    fn out_of_bounds_or_split_character_edits_are_refused() {
        let text = "é";
        let fixes = [fix(&[(1..2, "e")]), fix(&[(0..9, "e")])];
        let applied = apply_fixes(text, &fixes.iter().collect::<Vec<_>>());
        assert_eq!(applied.text, "é");
        assert!(applied.applied.is_empty());
    }
}
