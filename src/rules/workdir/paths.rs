//! Path text helpers: expanding variables, rewriting a prefix, finding a path in text.

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

/// The first place in `range` of `text` that names the path `prefix` as a whole path (not
/// `/application` for `/app`, not `$HOME/app`), outside `masked`.
pub(super) fn mention(
    text: &str,
    range: Range<usize>,
    prefix: &str,
    masked: &[Range<usize>],
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
            && !masked.iter().any(|masked| masked.contains(&at))
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
