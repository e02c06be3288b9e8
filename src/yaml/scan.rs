//! Byte-level reading of the original text, for what the event parser's spans leave out or get
//! wrong: character indexes instead of bytes, quoted scalars whose span runs on over a trailing
//! comment, block scalars whose span starts after their header, and the lines around a
//! collection (its column, trailing comment lines) that a new entry must respect.

use std::ops::Range;

/// Turns the parser's character indexes into byte offsets of the original text.
///
/// The parser may have read a "shadow" of the text with spaces inserted at line starts (see
/// `super::lenient`); `inserted` lists, sorted, the original offsets where a space was added,
/// so positions map back to the text the caller gave.
pub(super) struct Offsets<'i> {
    /// For every multi-byte character of the parsed text: its character index and the extra
    /// bytes (beyond one per character) of all multi-byte characters up to and including it.
    wide: Vec<(usize, usize)>,
    inserted: &'i [usize],
}

impl<'i> Offsets<'i> {
    pub(super) fn new(parsed: &str, inserted: &'i [usize]) -> Self {
        let mut wide = Vec::new();
        if !parsed.is_ascii() {
            let mut extra = 0;
            for (index, ch) in parsed.chars().enumerate() {
                if ch.len_utf8() > 1 {
                    extra += ch.len_utf8() - 1;
                    wide.push((index, extra));
                }
            }
        }
        Offsets { wide, inserted }
    }

    /// The original byte offset of the character at `char_index` of the parsed text.
    pub(super) fn byte(&self, char_index: usize) -> usize {
        let before = self.wide.partition_point(|&(index, _)| index < char_index);
        let extra = before.checked_sub(1).map_or(0, |last| self.wide[last].1);
        self.original(char_index + extra)
    }

    /// Maps an offset of the parsed text to the original text by dropping inserted spaces.
    fn original(&self, parsed: usize) -> usize {
        // The i-th inserted space sits at `offset + i` in the parsed text.
        let shift = self
            .inserted
            .iter()
            .enumerate()
            .take_while(|&(i, &offset)| offset + i < parsed)
            .count();
        parsed - shift
    }
}

/// The byte at `pos`, or 0 past the end (0 is never valid YAML content, so it stops every scan).
pub(super) fn byte_at(text: &str, pos: usize) -> u8 {
    text.as_bytes().get(pos).copied().unwrap_or(0)
}

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t')
}

fn is_break(byte: u8) -> bool {
    matches!(byte, b'\n' | b'\r')
}

/// Skips blanks, line breaks and `#` comments from `pos`.
pub(super) fn skip_trivia(text: &str, mut pos: usize) -> usize {
    loop {
        match byte_at(text, pos) {
            b' ' | b'\t' | b'\n' | b'\r' => pos += 1,
            b'#' => pos = line_end(text, pos),
            _ => return pos,
        }
    }
}

/// Skips trivia and the block indicators `:`, `-` and `?` that may stand between the previous
/// token and a block scalar's header (`key: |`, `- |`, `? |`).
pub(super) fn skip_to_block_header(text: &str, mut pos: usize) -> usize {
    loop {
        pos = skip_trivia(text, pos);
        match byte_at(text, pos) {
            b':' | b'-' | b'?' => pos += 1,
            _ => return pos,
        }
    }
}

/// The end of an anchor, alias or tag name starting at `pos`: names stop at white space and,
/// since they may stand inside flow collections, at flow indicators.
pub(super) fn name_end(text: &str, mut pos: usize) -> usize {
    while !matches!(
        byte_at(text, pos),
        0 | b' ' | b'\t' | b'\n' | b'\r' | b',' | b'[' | b']' | b'{' | b'}'
    ) {
        pos += 1;
    }
    pos
}

/// The end of a tag starting at `pos` (`!`, `!!str`, `!local`, `!<verbatim>`).
pub(super) fn tag_end(text: &str, pos: usize) -> usize {
    if text[pos..].starts_with("!<") {
        return text[pos..]
            .find('>')
            .map_or(text.len(), |close| pos + close + 1);
    }
    name_end(text, pos)
}

/// The end of the quoted scalar whose opening quote is at `start` (just past the closing quote).
///
/// Escapes are `\x` in double quotes and `''` in single quotes; a missing closing quote (which
/// the parser would have rejected) gives the end of the text.
pub(super) fn quoted_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let quote = bytes[start];
    let mut pos = start + 1;
    while pos < bytes.len() {
        match bytes[pos] {
            b'\\' if quote == b'"' => pos += 2,
            b'\'' if quote == b'\'' && byte_at(text, pos + 1) == b'\'' => pos += 2,
            byte if byte == quote => return pos + 1,
            _ => pos += 1,
        }
    }
    text.len()
}

/// Where a block scalar whose header is at `header` ends, given `end`, the parser's end (the
/// start of a later line): after its last content line. Trailing lines of spaces are content
/// only when longer than the indentation of its first content line (else they are blank lines
/// and, like the final line break, left out of the range).
pub(super) fn block_scalar_end(text: &str, header: usize, end: usize) -> usize {
    let mut last = line_end(text, header);
    let mut indent = None;
    let mut line = next_line_start(text, header);
    while line < end {
        let stop = line_end(text, line).min(end);
        let spaces = text[line..stop]
            .bytes()
            .take_while(|&byte| byte == b' ')
            .count();
        if line + spaces < stop {
            indent.get_or_insert(spaces);
            last = stop;
        } else if indent.is_some_and(|indent| spaces > indent) {
            last = stop;
        }
        line = next_line_start(text, stop);
    }
    last
}

/// The offset of the line break that ends the line holding `pos` (or the end of the text).
pub(super) fn line_end(text: &str, pos: usize) -> usize {
    memchr::memchr2(b'\n', b'\r', &text.as_bytes()[pos..]).map_or(text.len(), |found| pos + found)
}

/// The start of the line after the one holding `pos` (or the end of the text). Like YAML,
/// this takes `\r\n`, `\n` and a lone `\r` as line breaks.
pub(super) fn next_line_start(text: &str, pos: usize) -> usize {
    let end = line_end(text, pos);
    match byte_at(text, end) {
        b'\r' if byte_at(text, end + 1) == b'\n' => end + 2,
        0 => end,
        _ => end + 1,
    }
}

/// The start of the line holding `pos`, after the byte-order mark on the first line.
pub(super) fn line_start(text: &str, pos: usize) -> usize {
    match memchr::memrchr2(b'\n', b'\r', &text.as_bytes()[..pos]) {
        Some(found) => found + 1,
        // A byte-order mark is not part of the first line: no column, nothing to indent.
        None if text[..pos].starts_with('\u{feff}') => '\u{feff}'.len_utf8(),
        None => 0,
    }
}

/// The column (in characters, 0-based) of `pos` on its line.
pub(super) fn column(text: &str, pos: usize) -> usize {
    text[line_start(text, pos)..pos].chars().count()
}

/// Whether only spaces stand between the start of the line of `pos` and `pos`.
pub(super) fn starts_line(text: &str, pos: usize) -> bool {
    text[line_start(text, pos)..pos]
        .bytes()
        .all(|byte| byte == b' ')
}

/// Extends `pos`, a line start, over the comment lines that follow and belong to a block
/// indented at `min_column` or more: those whose `#` stands at that column or further.
///
/// Blank lines are taken only when such a comment line follows them (or all of them when
/// `keep_blank_lines`, after a `|+` scalar whose value they are part of), so a blank line that
/// separates the block from the next key stays where it is.
pub(super) fn extend_over_comments(
    text: &str,
    mut pos: usize,
    min_column: usize,
    keep_blank_lines: bool,
) -> usize {
    let mut line = pos;
    while line < text.len() {
        let content = line + text[line..].bytes().take_while(|&b| is_blank(b)).count();
        let next = next_line_start(text, line);
        match byte_at(text, content) {
            byte if is_break(byte) || content == text.len() => {
                if keep_blank_lines {
                    pos = next;
                }
            }
            b'#' if content - line >= min_column => pos = next,
            _ => break,
        }
        line = next;
    }
    pos
}

/// The range of white space (blanks and line breaks) that ends just before `end`.
pub(super) fn space_before(text: &str, end: usize) -> Range<usize> {
    let kept = text[..end].trim_end_matches([' ', '\t', '\n', '\r']).len();
    kept..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_characters_to_bytes_and_skip_inserted_spaces() {
        let parsed = "é: a\n  ]";
        let offsets = Offsets::new(parsed, &[]);
        assert_eq!(offsets.byte(0), 0);
        assert_eq!(offsets.byte(1), 2);
        assert_eq!(offsets.byte(4), 5);

        // The original "a\n]" was parsed as "a\n ]": `]` is character 3 there, byte 2 here.
        let inserted = [2];
        let offsets = Offsets::new("a\n ]", &inserted);
        assert_eq!(offsets.byte(3), 2);
        assert_eq!(offsets.byte(1), 1);
    }

    #[test]
    fn quoted_end_honours_escapes() {
        let text = r#""a\"b" 'c''d' # x"#;
        assert_eq!(quoted_end(text, 0), 6);
        assert_eq!(quoted_end(text, 7), 13);
        assert_eq!(quoted_end("'open", 0), 5);
    }

    #[test]
    fn comment_lines_at_or_past_a_column_are_taken_blank_lines_only_before_them() {
        let text = "a: 1\n  # deep\n\n  # deep again\n# shallow\nb: 2\n";
        assert_eq!(extend_over_comments(text, 5, 2, false), 30);
        assert_eq!(extend_over_comments(text, 5, 3, false), 5);
        let text = "x\n\n\ny: 1\n";
        assert_eq!(extend_over_comments(text, 2, 0, false), 2);
        assert_eq!(extend_over_comments(text, 2, 0, true), 4);
    }

    #[test]
    fn a_block_scalar_ends_after_its_last_content_line() {
        let text = "|\n  a\n   \n\n  \nk: v\n";
        assert_eq!(&text[..block_scalar_end(text, 0, 14)], "|\n  a\n   ");
        let text = "| # c\n\nk: v\n";
        assert_eq!(&text[..block_scalar_end(text, 0, 7)], "| # c");
    }

    #[test]
    fn columns_and_lines() {
        let text = "ab\r\n  é: 1";
        assert_eq!(column(text, 6), 2);
        assert_eq!(column(text, 8), 3);
        assert_eq!(line_end(text, 0), 2);
        assert_eq!(next_line_start(text, 0), 4);
        assert_eq!(next_line_start("a\rb", 0), 2);
        assert_eq!(next_line_start("a", 0), 1);
        assert_eq!(line_start("a\rb", 2), 2);
        assert!(starts_line(text, 6));
        assert!(!starts_line(text, 9));
        assert_eq!(space_before("a: \n  {}", 6), 2..6);
    }
}
