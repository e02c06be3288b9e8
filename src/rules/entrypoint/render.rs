//! Writing exec-form arrays: the layout an array was written in, and JSON strings.

use std::ops::Range;

use parse_dockerfile::{Command, UnescapedString};

use crate::dockerfile::Dockerfile;

/// The source range of a command's arguments: the JSON array, or the shell-form text.
pub(super) fn arguments_range(
    file: &Dockerfile<'_>,
    command: &Command<'_>,
) -> Option<Range<usize>> {
    match command {
        Command::Exec(exec) => Some(file.range(&exec.span)),
        Command::Shell(shell) => Some(file.range(&shell.span)),
        _ => None,
    }
}

/// The text of an array element between its quotes as written, when it fits on one line.
pub(super) fn raw_element<'a>(
    file: &Dockerfile<'a>,
    element: &UnescapedString<'_>,
) -> Option<&'a str> {
    let raw = file.text().get(file.range(&element.span))?;
    (!raw.contains(['\n', '\r'])).then_some(raw)
}

/// How an exec-form array is laid out: after `[`, between elements, before `]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Style {
    open: String,
    separator: String,
    close: String,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            open: String::new(),
            separator: ", ".into(),
            close: String::new(),
        }
    }
}

impl Style {
    /// The layout of the array at `span`; parts that span lines fall back to the default.
    pub(super) fn of(
        file: &Dockerfile<'_>,
        span: &Range<usize>,
        elements: &[UnescapedString<'_>],
    ) -> Style {
        let mut style = Style::default();
        let text = file.text();
        let array = file.range(span);
        let (Some(first), Some(last)) = (elements.first(), elements.last()) else {
            return style;
        };
        let (first, last) = (file.range(&first.span), file.range(&last.span));
        let blank = |part: &str| part.chars().all(|ch| ch == ' ' || ch == '\t');
        // Element spans stop inside the quotes: one byte each side is the quote.
        if let Some(open) = text.get(array.start + 1..first.start.saturating_sub(1))
            && blank(open)
        {
            style.open = open.to_owned();
        }
        if let Some(close) = text.get(last.end + 1..array.end.saturating_sub(1))
            && blank(close)
        {
            style.close = close.to_owned();
        }
        if let Some(second) = elements.get(1).map(|second| file.range(&second.span))
            && let Some(separator) = text.get(first.end + 1..second.start.saturating_sub(1))
            && separator.trim_matches([' ', '\t']) == ","
        {
            style.separator = separator.to_owned();
        }
        style
    }

    /// The array of `elements` (JSON string contents, without quotes) in this layout.
    pub(super) fn render(&self, elements: impl Iterator<Item = String>) -> String {
        let elements: Vec<String> = elements.map(|element| format!("\"{element}\"")).collect();
        if elements.is_empty() {
            return "[]".into();
        }
        format!(
            "[{}{}{}]",
            self.open,
            elements.join(&self.separator),
            self.close
        )
    }
}

/// `words` as a JSON array in the default layout, for messages and new commands.
pub(super) fn json_array(words: &[String]) -> String {
    Style::default().render(words.iter().map(|word| json_escape(word)))
}

/// The contents of a JSON string holding `value`.
pub(super) fn json_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if u32::from(ch) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            ch => out.push(ch),
        }
    }
    out
}
