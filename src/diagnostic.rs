//! What rules return: diagnostics, each with an optional fix made of byte-range edits.
//!
//! Modelled on ruff: a rule never touches text itself. It describes what it saw
//! ([`Diagnostic`]) and, when it knows the cure, the edits that apply it ([`Fix`]).
//! The fix engine ([`crate::fix`]) is the only place that turns edits into new text.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::rules::Rule;

/// How much a finding needs a person's attention.
///
/// Ordered so that `max()` over a file's findings gives the one that matters most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context for the reviewer; nothing is wrong.
    Info,
    /// The migration may not be what the author meant: check it.
    Warning,
    /// The migrated file will not work as it did until a person acts.
    Error,
}

impl Severity {
    /// The lowercase name used in messages and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Replace the bytes in `range` of the original text with `replacement`.
///
/// An empty range inserts; an empty replacement deletes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn replace(range: Range<usize>, replacement: impl Into<String>) -> Self {
        Edit {
            range,
            replacement: replacement.into(),
        }
    }

    /// Whether two edits touch the same bytes, so at most one of them can be applied.
    ///
    /// Two insertions at one offset also conflict: their order would be arbitrary.
    pub fn conflicts_with(&self, other: &Edit) -> bool {
        if self == other {
            return false;
        }
        let (a, b) = (&self.range, &other.range);
        if a.is_empty() && b.is_empty() {
            return a.start == b.start;
        }
        a.start < b.end && b.start < a.end
            || (a.is_empty() && b.start < a.start && a.start < b.end)
            || (b.is_empty() && a.start < b.start && b.start < a.end)
    }
}

/// A set of edits applied all together or not at all.
///
/// Shared, not copied, when cloned: one fix (all `user-root` lines of a file) is carried by
/// each of its diagnostics, and a file of thousands of stages has thousands of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    edits: std::sync::Arc<[Edit]>,
}

impl Fix {
    /// A fix of one or more edits, kept sorted by position.
    ///
    /// Returns `None` for an empty list: a fix that changes nothing is no fix.
    pub fn new(mut edits: Vec<Edit>) -> Option<Self> {
        if edits.is_empty() {
            return None;
        }
        edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
        edits.dedup();
        Some(Fix {
            edits: edits.into(),
        })
    }

    pub fn single(edit: Edit) -> Self {
        Fix {
            edits: std::sync::Arc::new([edit]),
        }
    }

    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// What identifies this fix among its shared copies: equal for two diagnostics carrying
    /// the same fix.
    pub fn identity(&self) -> usize {
        self.edits.as_ptr() as usize
    }

    /// Where the fix starts, used to apply fixes in source order.
    pub fn start(&self) -> usize {
        self.edits.first().map_or(0, |edit| edit.range.start)
    }
}

/// A message followed by its suggestion, as one line: `problem: remedy`.
pub fn message_text(message: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(suggestion) => format!("{message}: {suggestion}"),
        None => message.to_owned(),
    }
}

/// One thing a rule has to say about one place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: Rule,
    pub message: String,
    /// Where in the text the diagnostic points; used for its line number.
    pub range: Range<usize>,
    pub fix: Option<Fix>,
    /// What a person should do about it, when the rule knows; reports show it apart from the
    /// message so a reader (or a pull-request checklist) can tell the problem from the remedy.
    pub suggestion: Option<String>,
    /// The image reference the fix rewrites, so reports can list what was migrated without
    /// parsing messages.
    /// Boxed: most diagnostics rewrite no image, and a file can have thousands of them.
    pub image: Option<Box<ImageRewrite>>,
    /// Images (canonical, with their tags) whose facts would settle this finding: what
    /// `hardport facts resolve` reads for it although no rewrite names them as such.
    pub unread_images: Vec<String>,
    /// For `unmapped-image`: the repository (canonical) no catalog entry replaces, which the
    /// run's summary counts.
    pub unmapped_image: Option<String>,
}

/// One image reference rewritten by a fix: the text before and after, and the catalog entry
/// that supplied the replacement (whose `source` backs the facts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRewrite {
    pub from: String,
    pub to: String,
    /// The catalog entry's `name`.
    pub entry: String,
}

impl Diagnostic {
    /// A finding a person must read; nothing is changed.
    pub fn report(rule: Rule, range: Range<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            rule,
            message: message.into(),
            range,
            fix: None,
            suggestion: None,
            image: None,
            unread_images: Vec::new(),
            unmapped_image: None,
        }
    }

    /// A change hardport makes, described by `message`.
    pub fn fixed(rule: Rule, range: Range<usize>, message: impl Into<String>, fix: Fix) -> Self {
        Diagnostic {
            rule,
            message: message.into(),
            range,
            fix: Some(fix),
            suggestion: None,
            image: None,
            unread_images: Vec::new(),
            unmapped_image: None,
        }
    }

    /// This diagnostic with the remedy a person should apply.
    pub fn suggest(self, suggestion: impl Into<String>) -> Self {
        Diagnostic {
            suggestion: Some(suggestion.into()),
            ..self
        }
    }

    /// This diagnostic, recording the image reference its fix rewrites.
    pub fn rewrites_image(self, image: ImageRewrite) -> Self {
        Diagnostic {
            image: Some(Box::new(image)),
            ..self
        }
    }

    /// This diagnostic, about the repository `image` (canonical), which no entry replaces.
    pub fn unmapped(self, image: impl Into<String>) -> Self {
        Diagnostic {
            unmapped_image: Some(image.into()),
            ..self
        }
    }

    /// This diagnostic, naming the images (canonical) whose facts would settle it.
    pub fn settled_by_reading(self, images: impl IntoIterator<Item = String>) -> Self {
        Diagnostic {
            unread_images: images.into_iter().collect(),
            ..self
        }
    }

    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }

    /// The message followed by the suggestion, as one line of text.
    pub fn text(&self) -> String {
        message_text(&self.message, self.suggestion.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_ranges_conflict() {
        let a = Edit::replace(0..5, "x");
        let b = Edit::replace(4..8, "y");
        assert!(a.conflicts_with(&b));
        assert!(b.conflicts_with(&a));
    }

    #[test]
    fn adjacent_ranges_do_not_conflict() {
        let a = Edit::replace(0..5, "x");
        let b = Edit::replace(5..8, "y");
        assert!(!a.conflicts_with(&b));
    }

    #[test]
    fn identical_edits_do_not_conflict() {
        let a = Edit::replace(2..5, "x");
        assert!(!a.conflicts_with(&a.clone()));
    }

    #[test]
    fn insertions_at_one_offset_conflict_but_not_at_a_range_edge() {
        let insert = Edit::replace(5..5, "x");
        assert!(insert.conflicts_with(&Edit::replace(5..5, "y")));
        assert!(insert.conflicts_with(&Edit::replace(3..7, "z")));
        assert!(!insert.conflicts_with(&Edit::replace(5..7, "z")));
        assert!(!insert.conflicts_with(&Edit::replace(2..5, "z")));
    }

    #[test]
    fn fix_sorts_and_dedups_its_edits() {
        let fix = Fix::new(vec![
            Edit::replace(9..10, "b"),
            Edit::replace(1..2, "a"),
            Edit::replace(9..10, "b"),
        ])
        .expect("non-empty");
        assert_eq!(fix.edits().len(), 2);
        assert_eq!(fix.start(), 1);
        assert!(Fix::new(Vec::new()).is_none());
    }

    #[test]
    fn severities_order_by_urgency() {
        assert!(Severity::Error > Severity::Warning);
        assert!(Severity::Warning > Severity::Info);
    }
}
