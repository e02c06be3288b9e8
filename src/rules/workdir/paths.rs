//! Path text helpers: expanding variables, rewriting a prefix, finding a path in text.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::SYSTEM_DIRECTORIES;
use super::walker::Scope;
use crate::dockerfile::{Token, split_declarations};
use crate::unix_path::{clean_absolute, join_rest, under};

pub(super) fn is_system_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    SYSTEM_DIRECTORIES.contains(&first)
}

/// The values of an `ENV` instruction (`a=b c="d"` or the legacy `a b`), unquoted.
pub(super) fn env_values(token: Token<'_>) -> Vec<(&str, Token<'_>)> {
    let text = token.text;
    let lead = text.len() - text.trim_start().len();
    let rest = text.get(lead..).unwrap_or_default();
    let first_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let first = rest.get(..first_end).unwrap_or_default();
    if !first.contains('=') {
        let tail = rest.get(first_end..).unwrap_or_default();
        let value = tail.trim();
        let offset = lead + first_end + (tail.len() - tail.trim_start().len());
        return vec![(
            first,
            Token {
                text: value,
                start: token.start + offset,
            }
            .unquoted(),
        )];
    }
    split_declarations(token)
        .into_iter()
        .filter_map(|declaration| Some((declaration.name, declaration.default?)))
        .collect()
}

/// `text` without one pair of surrounding quotes.
pub(super) fn unquote(text: &str) -> &str {
    Token { text, start: 0 }.unquoted().text
}

/// Expand `$NAME` and `${NAME}` with known values; `None` when a variable is unknown or the
/// text uses quotes, escapes or `${NAME:-…}` forms.
pub(super) fn expand(text: &str, scope: &Scope) -> Option<String> {
    if text.contains(['\\', '"', '\'']) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(rest.get(..dollar)?);
        let after = rest.get(dollar + 1..)?;
        let (name, consumed) = match after.strip_prefix('{') {
            Some(braced) => {
                let close = braced.find('}')?;
                (braced.get(..close)?, close + 2)
            }
            None => {
                let len = after
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(after.len());
                (after.get(..len)?, len)
            }
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !valid {
            return None;
        }
        out.push_str(scope.get(name)?);
        rest = after.get(consumed..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// The literal text with the prefix `from` replaced by `to`, when the text spells the prefix
/// exactly; a relative `rooted` text (a `COPY --from` source) stays relative.
pub(super) fn rewrite_literal(text: &str, from: &str, to: &str, rooted: bool) -> Option<String> {
    if text.starts_with('/') {
        return under(text, from).map(|rest| join_rest(to, rest));
    }
    if !rooted {
        return None;
    }
    let (lead, body) = match text.strip_prefix("./") {
        Some(body) => ("./", body),
        None => ("", text),
    };
    let absolute = format!("/{body}");
    let moved = join_rest(to, under(&absolute, from)?);
    let relative = moved.trim_start_matches('/');
    Some(match relative.is_empty() {
        true => format!("{lead}."),
        false => format!("{lead}{relative}"),
    })
}

/// Byte ranges, asked whether one contains an offset in time logarithmic in their number.
#[derive(Debug, Default)]
pub(super) struct RangeSet {
    /// Sorted by start.
    ranges: Vec<Range<usize>>,
    /// The greatest end among `ranges[..=i]`.
    max_end: Vec<usize>,
}

impl RangeSet {
    pub(super) fn new(mut ranges: Vec<Range<usize>>) -> RangeSet {
        ranges.sort_unstable_by_key(|range| range.start);
        let max_end = ranges
            .iter()
            .scan(0, |max, range| {
                *max = range.end.max(*max);
                Some(*max)
            })
            .collect();
        RangeSet { ranges, max_end }
    }

    /// Whether a range contains `at`: among the ranges starting at or before it, the one
    /// reaching furthest reaches past it.
    pub(super) fn contains(&self, at: usize) -> bool {
        let starting = self.ranges.partition_point(|range| range.start <= at);
        starting > 0 && self.max_end[starting - 1] > at
    }
}

/// The first place in `range` of `text` that names the path `prefix` as a whole path (not
/// `/application` for `/app`, not `$HOME/app`), outside `masked`.
pub(super) fn mention(
    text: &str,
    range: Range<usize>,
    prefix: &str,
    masked: &RangeSet,
) -> Option<usize> {
    let haystack = text.get(range.clone())?;
    let is_path_char = |ch: char| ch.is_alphanumeric() || "._-~/$@+{}".contains(ch);
    let mut search = 0;
    while let Some(found) = haystack.get(search..).and_then(|rest| rest.find(prefix)) {
        let start = search + found;
        let end = start + prefix.len();
        let before = haystack
            .get(..start)
            .and_then(|head| head.chars().next_back());
        let after = haystack.get(end..).and_then(|tail| tail.chars().next());
        let at = range.start + start;
        if before.is_none_or(|ch| !is_path_char(ch))
            && after.is_none_or(|ch| ch == '/' || !is_path_char(ch))
            && !masked.contains(at)
        {
            return Some(at);
        }
        search = start + 1;
        while search < haystack.len() && !haystack.is_char_boundary(search) {
            search += 1;
        }
    }
    None
}

/// The absolute paths a command text names (`/install` in `--prefix="/install"`), cleaned;
/// `/` itself is left out.
pub(super) fn absolute_words(text: &str) -> Vec<String> {
    let is_path_char = |ch: char| ch.is_alphanumeric() || "._-~/$@+{}".contains(ch);
    let mut words = Vec::new();
    let mut previous: Option<char> = None;
    for (offset, ch) in text.char_indices() {
        if ch == '/' && previous.is_none_or(|before| !is_path_char(before)) {
            let rest = text.get(offset..).unwrap_or_default();
            let end = rest
                .find(|ch: char| ch.is_whitespace() || "\"';&|<>()`,:=".contains(ch))
                .unwrap_or(rest.len());
            if let Some(path) = rest.get(..end).and_then(clean_absolute)
                && path != "/"
                && !words.contains(&path)
            {
                words.push(path);
            }
        }
        previous = Some(ch);
    }
    words
}

/// A set of clean absolute paths, for finding in a text every place that names one of them as
/// [`mention`] would, in one pass over the text whatever the number of paths (asking
/// [`mention`] for each path of a stage that wrote thousands costs their number times the text).
#[derive(Debug, Default)]
pub(super) struct PathSet {
    /// `(parent node, component)` → node; node 0 is `/`.
    children: HashMap<(usize, String), usize>,
    /// For each node after the root, the index of the path that ends there, if one does.
    ends: Vec<Option<usize>>,
}

impl PathSet {
    /// The set of `paths` (clean and absolute); a path's index is its position in `paths`.
    pub(super) fn new<'p>(paths: impl IntoIterator<Item = &'p str>) -> PathSet {
        let mut set = PathSet {
            children: HashMap::new(),
            ends: vec![None],
        };
        for (index, path) in paths.into_iter().enumerate() {
            let mut node = 0;
            for component in path.split('/').filter(|part| !part.is_empty()) {
                let next = set.ends.len();
                node = *set
                    .children
                    .entry((node, component.to_owned()))
                    .or_insert(next);
                if node == next {
                    set.ends.push(None);
                }
            }
            if node != 0 {
                set.ends[node].get_or_insert(index);
            }
        }
        set
    }

    /// Each path of the set named in `range` of `text`, as `(path index, offset of its first
    /// mention)`, in the order of the paths.
    pub(super) fn mentions(&self, text: &str, range: Range<usize>) -> Vec<(usize, usize)> {
        let Some(haystack) = text.get(range.clone()) else {
            return Vec::new();
        };
        let is_path_char = |ch: char| ch.is_alphanumeric() || "._-~/$@+{}".contains(ch);
        let mut found: Vec<(usize, usize)> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        let mut previous: Option<char> = None;
        for (offset, ch) in haystack.char_indices() {
            let starts_word = ch == '/' && previous.is_none_or(|before| !is_path_char(before));
            previous = Some(ch);
            if !starts_word {
                continue;
            }
            let rest = &haystack[offset..];
            let word = &rest[..rest
                .find(|ch: char| !is_path_char(ch))
                .unwrap_or(rest.len())];
            // Every `/`-separated prefix of the word is named here: `/app/x` names `/app`.
            let mut node = 0;
            for component in word.split('/').skip(1) {
                let Some(&next) = self.children.get(&(node, component.to_owned())) else {
                    break;
                };
                node = next;
                if let Some(index) = self.ends[node]
                    && seen.insert(index)
                {
                    found.push((index, range.start + offset));
                }
            }
        }
        found.sort_unstable();
        found
    }
}
