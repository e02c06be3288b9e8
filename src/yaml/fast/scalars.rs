//! The scalars of the fast reader: plain ones (one line, or folded over the lines that
//! continue them), quoted ones with their escapes and folding, and `|`/`>` block scalars.

use std::ops::Range;

use super::{Bail, Read, Reader};
use crate::yaml::scan;
use crate::yaml::{Node, NodeKind, Scalar, ScalarStyle};

/// Where a quoted scalar stands, which decides whether it may go on over several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// A block mapping's key: one line.
    Key,
    /// Inside a flow collection, which this reader takes on one line only.
    Flow,
    /// A value in a block collection at column `indent`: its lines below must be deeper.
    Value { indent: usize },
}

/// Why a one-line plain scalar ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    LineEnd,
    Comment,
    /// A `:` that makes it a key.
    Colon,
    /// A flow indicator (`,[]{}`), inside a flow collection.
    FlowIndicator,
}

/// How a block scalar's final line breaks are kept (its header's `-`, nothing, or `+`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chomping {
    Strip,
    Clip,
    Keep,
}

fn scalar_node(range: Range<usize>, value: String, style: ScalarStyle, in_flow: bool) -> Node {
    Node {
        range,
        properties: None,
        kind: NodeKind::Scalar(Scalar {
            value,
            style,
            in_flow,
            placed: true,
        }),
    }
}

impl Reader<'_> {
    /// A plain scalar value starting at `start`, in a collection at column `indent`: its first
    /// line, and the lines deeper than `indent` that continue it, folded (a line break reads
    /// as a space, each empty line between as a line break).
    pub(super) fn plain_value(&mut self, start: usize, indent: usize) -> Read<Node> {
        self.count()?;
        let (mut end, mut stop) = self.plain(start, false)?;
        let mut value = self.text[start..end].to_owned();
        while stop == Stop::LineEnd {
            let mut line = scan::next_line_start(self.text, end);
            let mut empty_lines = 0;
            let content = loop {
                let content = self.skip_spaces(line);
                if !matches!(self.byte(content), b'\n' | b'\r') {
                    break content;
                }
                empty_lines += 1;
                line = scan::next_line_start(self.text, content);
            };
            if content - line <= indent || matches!(self.byte(content), b'#' | 0) {
                break;
            }
            let (line_end, line_stop) = self.plain_continued(content)?;
            match empty_lines {
                0 => value.push(' '),
                lines => value.extend(std::iter::repeat_n('\n', lines)),
            }
            value.push_str(&self.text[content..line_end]);
            (end, stop) = (line_end, line_stop);
        }
        if stop == Stop::Colon {
            return Err(Bail);
        }
        Ok(scalar_node(start..end, value, ScalarStyle::Plain, false))
    }

    /// A plain scalar over `range`.
    pub(super) fn scalar(&mut self, range: Range<usize>, in_flow: bool) -> Read<Node> {
        self.count()?;
        let value = self.text[range.clone()].to_owned();
        Ok(scalar_node(range, value, ScalarStyle::Plain, in_flow))
    }

    /// The end of a one-line plain scalar starting at `start` (trailing spaces left out), and
    /// what ended it. Gives up where YAML would not start a plain scalar, and at a tab.
    pub(super) fn plain(&self, start: usize, in_flow: bool) -> Read<(usize, Stop)> {
        let flow_indicator = |byte: u8| in_flow && matches!(byte, b',' | b'[' | b']' | b'{' | b'}');
        match self.byte(start) {
            b'-' | b'?' | b':' => {
                let next = self.byte(start + 1);
                if matches!(next, b' ' | b'\t' | b'\n' | b'\r' | 0) || flow_indicator(next) {
                    return Err(Bail);
                }
            }
            b',' | b'[' | b']' | b'{' | b'}' | b'\'' | b'"' => return Err(Bail),
            _ => {}
        }
        self.plain_line(start, in_flow)
    }

    /// [`Reader::plain`] from a line that continues a block plain scalar, which may start with a
    /// quote or a bracket (they are text there).
    fn plain_continued(&self, start: usize) -> Read<(usize, Stop)> {
        match self.byte(start) {
            b'\'' | b'"' | b'[' | b']' | b'{' | b'}' | b',' => self.plain_line(start, false),
            _ => self.plain(start, false),
        }
    }

    /// The rest of [`Reader::plain`], after its first character is known to start one (or to
    /// continue one).
    fn plain_line(&self, start: usize, in_flow: bool) -> Read<(usize, Stop)> {
        let flow_indicator = |byte: u8| in_flow && matches!(byte, b',' | b'[' | b']' | b'{' | b'}');
        if matches!(
            self.byte(start),
            b'#' | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'%'
                | b'@'
                | b'`'
                | b' '
                | b'\t'
                | b'\n'
                | b'\r'
                | 0
        ) {
            return Err(Bail);
        }
        let bytes = self.text.as_bytes();
        let mut at = start;
        let mut end = start;
        loop {
            match self.byte(at) {
                b'\n' | b'\r' | 0 => return Ok((end, Stop::LineEnd)),
                b' ' => {}
                b'\t' => return Err(Bail),
                b'#' if bytes[at - 1] == b' ' => return Ok((end, Stop::Comment)),
                b':' if matches!(self.byte(at + 1), b' ' | b'\t' | b'\n' | b'\r' | 0)
                    || flow_indicator(self.byte(at + 1)) =>
                {
                    return Ok((end, Stop::Colon));
                }
                byte if flow_indicator(byte) => return Ok((end, Stop::FlowIndicator)),
                // `saphyr-parser` refuses a word that starts like `-,` inside a flow collection
                // (`[a -]`), not only a scalar that does.
                b'-' if in_flow && bytes[at - 1] == b' ' && flow_indicator(self.byte(at + 1)) => {
                    return Err(Bail);
                }
                _ => end = at + 1,
            }
            at += 1;
        }
    }

    /// A quoted scalar whose opening quote is at `start`; a block value's may go on over the
    /// lines below (deeper than its collection), which fold as YAML folds them.
    pub(super) fn quoted(&mut self, start: usize, place: Place) -> Read<Node> {
        self.count()?;
        let quote = self.byte(start);
        let mut value = String::new();
        // The length of `value` up to its last escape: an escaped space is kept at a line end.
        let mut escaped_up_to = 0;
        let mut at = start + 1;
        loop {
            let run = at;
            while !matches!(
                self.byte(at),
                b'\'' | b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0
            ) {
                at += 1;
            }
            value.push_str(&self.text[run..at]);
            match self.byte(at) {
                b'\'' if quote == b'\'' && self.byte(at + 1) == b'\'' => {
                    value.push('\'');
                    at += 2;
                }
                byte if byte == quote => break,
                b'\\' if quote == b'"' => {
                    let (escaped, length) = self.escape(at)?;
                    value.push(escaped);
                    escaped_up_to = value.len();
                    at += length;
                }
                byte @ (b'\'' | b'"' | b'\\') => {
                    value.push(char::from(byte));
                    at += 1;
                }
                b'\n' | b'\r' => match place {
                    Place::Value { indent } => {
                        let kept = value.trim_end_matches(' ').len().max(escaped_up_to);
                        value.truncate(kept);
                        at = self.fold_line_break(at, indent, &mut value)?;
                    }
                    Place::Key | Place::Flow => return Err(Bail),
                },
                _ => return Err(Bail),
            }
        }
        let style = if quote == b'\'' {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::DoubleQuoted
        };
        Ok(scalar_node(
            start..at + 1,
            value,
            style,
            place == Place::Flow,
        ))
    }

    /// Folds the line break at `at` inside a quoted scalar of a collection at column `indent`:
    /// a space for a single break, a line feed for each empty line after it; the next line's
    /// leading spaces are left out. Returns where that line's content starts.
    fn fold_line_break(&self, at: usize, indent: usize, value: &mut String) -> Read<usize> {
        let mut line = scan::next_line_start(self.text, at);
        let mut empty_lines = 0;
        loop {
            let content = self.skip_spaces(line);
            match self.byte(content) {
                b'\n' | b'\r' => {
                    empty_lines += 1;
                    line = scan::next_line_start(self.text, content);
                }
                b'\t' | 0 => return Err(Bail),
                _ if content - line <= indent => return Err(Bail),
                _ => {
                    match empty_lines {
                        0 => value.push(' '),
                        lines => value.extend(std::iter::repeat_n('\n', lines)),
                    }
                    return Ok(content);
                }
            }
        }
    }

    /// The character a double-quoted escape at `at` (its `\`) stands for, and its length.
    fn escape(&self, at: usize) -> Read<(char, usize)> {
        let simple = match self.byte(at + 1) {
            b'\\' => '\\',
            b'"' => '"',
            b'/' => '/',
            b' ' => ' ',
            b'0' => '\0',
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'x' => return self.hex_escape(at, 2),
            b'u' => return self.hex_escape(at, 4),
            b'U' => return self.hex_escape(at, 8),
            _ => return Err(Bail),
        };
        Ok((simple, 2))
    }

    fn hex_escape(&self, at: usize, digits: usize) -> Read<(char, usize)> {
        let hex = self.text.get(at + 2..at + 2 + digits).ok_or(Bail)?;
        if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(Bail);
        }
        let code = u32::from_str_radix(hex, 16).map_err(|_| Bail)?;
        Ok((char::from_u32(code).ok_or(Bail)?, 2 + digits))
    }

    /// A `|` or `>` block scalar whose header is at `header`, in a collection at column
    /// `indent`.
    pub(super) fn block_scalar(&mut self, header: usize, indent: usize) -> Read<Node> {
        self.count()?;
        let folded = self.byte(header) == b'>';
        let chomping = match self.byte(header + 1) {
            b'-' => Chomping::Strip,
            b'+' => Chomping::Keep,
            _ => Chomping::Clip,
        };
        let after_header = header + 1 + usize::from(chomping != Chomping::Clip);
        let at = self.skip_spaces(after_header);
        match self.byte(at) {
            b'\n' | b'\r' => {}
            b'#' if at > after_header => {}
            _ => return Err(Bail),
        }
        let bytes = self.text.as_bytes();
        let header_end = scan::line_end(self.text, at);
        let mut end = header_end;
        let mut line = scan::next_line_start(self.text, header_end);
        let mut content_indent = None;
        let mut value = String::new();
        // Blank lines before the first content line, and the most spaces one of them has.
        let (mut leading_lines, mut leading_spaces) = (0, 0);
        // Line breaks since the last content line: the one ending it and one per empty line.
        let mut breaks = 0;
        while line < bytes.len() {
            let stop = scan::line_end(self.text, line);
            let spaces = self.skip_spaces(line) - line;
            let blank = line + spaces == stop;
            // A last line without a line break, which chomping would read: rare enough to
            // leave to saphyr.
            let unended = stop == bytes.len();
            let content = match content_indent {
                None if blank && unended => return Err(Bail),
                None if blank => {
                    leading_lines += 1;
                    leading_spaces = leading_spaces.max(spaces);
                    line = scan::next_line_start(self.text, stop);
                    continue;
                }
                // An empty scalar: no line is deeper than its collection.
                None if spaces <= indent => break,
                // A leading blank line deeper than the first content line is an error.
                None if leading_spaces > spaces => return Err(Bail),
                None => {
                    value.extend(std::iter::repeat_n('\n', leading_lines));
                    *content_indent.insert(spaces)
                }
                Some(content) if !blank && spaces < content => break,
                Some(content) => content,
            };
            if unended {
                return Err(Bail);
            }
            if blank && spaces <= content {
                breaks += 1;
            } else {
                let text = &self.text[line + content..stop];
                if folded && text.starts_with([' ', '\t']) {
                    // A more indented line, which folding keeps as it is.
                    return Err(Bail);
                }
                match (folded, breaks) {
                    (_, 0) => {}
                    (true, 1) => value.push(' '),
                    (true, breaks) => value.extend(std::iter::repeat_n('\n', breaks - 1)),
                    (false, breaks) => value.extend(std::iter::repeat_n('\n', breaks)),
                }
                value.push_str(text);
                end = stop;
                breaks = 1;
            }
            line = scan::next_line_start(self.text, stop);
        }
        match chomping {
            // An empty scalar's blank lines are kept by `+` only; which of them are its own
            // depends on spaces this reader does not weigh.
            _ if content_indent.is_none()
                && (chomping == Chomping::Keep || leading_spaces > indent) =>
            {
                return Err(Bail);
            }
            _ if content_indent.is_none() => {}
            Chomping::Strip => {}
            Chomping::Clip => value.push('\n'),
            Chomping::Keep => value.extend(std::iter::repeat_n('\n', breaks)),
        }
        self.line = self.next_content(line)?;
        if self.line.is_some_and(|line| line.indent > indent) {
            return Err(Bail);
        }
        let style = if folded {
            ScalarStyle::Folded
        } else {
            ScalarStyle::Literal
        };
        Ok(scalar_node(header..end, value, style, false))
    }
}
