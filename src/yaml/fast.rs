//! A fast reader for the YAML most values files and manifests are written in, building the
//! same tree as [`build`](super::build) without `saphyr-parser`.
//!
//! `saphyr-parser` reads a character at a time and makes a token and an event of every scalar;
//! with the span fixing of `build` it reads values files at about 140 MB/s, and YAML was 40 %
//! of a whole run's CPU time (docs/performance.md). Values files and manifests are written in
//! a small part of YAML: documents of block mappings and sequences, plain and quoted scalars
//! (folded over several lines in generated manifests), one-line flow collections, `|`/`>`
//! block scalars, comments. This reader walks the bytes of that part and builds the tree
//! directly.
//!
//! It is a shortcut, not a second parser. At anything outside that part, or anything it is not
//! sure is valid, it gives up ([`Bail`]) and [`parse`](super::parse) reads the whole text with
//! `saphyr-parser`, which stays the judge of what is YAML and the only source of error
//! messages: tabs outside comments, keys over several lines, flow collections over
//! several lines, anchors, aliases, tags, explicit keys, directives, `...`, empty documents,
//! block scalars with an indentation indicator, no line break at their end or (folded) more
//! indented lines, a root that is not a block collection at column 0, nesting past
//! [`MAX_DEPTH`], control characters, a byte-order mark. So a text this reader accepts is one
//! `saphyr-parser` accepts too, and the tree is the same: in builds with debug assertions
//! (every test and fuzz run) each tree it builds is compared with the one `build` makes from
//! `saphyr-parser`'s events, and the tests in `fast/tests.rs` check that on every values file
//! and chart of the corpus and on random texts.

use std::collections::HashMap;

use super::build::block_layout;
use super::scan::{self, byte_at};
use super::{Document, Entry, Layout, Mapping, Node, NodeKind, Sequence};
use scalars::{Place, Stop};

/// The reader met something outside the YAML it reads: `saphyr-parser` reads the text instead.
#[derive(Debug)]
pub(super) struct Bail;

type Read<T> = Result<T, Bail>;

/// How deeply collections may nest for this reader, which recurses (a few frames a level):
/// real values files nest a dozen levels deep; deeper texts, up to `build`'s own limit of
/// 1,000, are read by `saphyr-parser` with its explicit stack, whatever this reader's frames
/// cost in an unoptimised build.
const MAX_DEPTH: usize = 100;

/// The longest implicit key YAML allows, in characters (counted here in bytes, which only
/// gives up earlier).
const MAX_KEY_LENGTH: usize = 1024;

/// Reads the documents of `text`, or `None` when it is not written in the part of YAML this
/// reader knows (see the module doc) or holds more than `max_nodes` nodes.
pub(super) fn read(text: &str, max_nodes: usize) -> Option<Vec<Document>> {
    if !plain_text(text.as_bytes()) {
        return None;
    }
    let mut reader = Reader {
        text,
        line: None,
        marker: None,
        entries: Vec::new(),
        items: Vec::new(),
        nodes: 0,
        max_nodes,
        depth: 0,
    };
    let mut documents = Vec::new();
    let mut from = 0;
    let mut leading_marker = false;
    loop {
        reader.marker = None;
        reader.line = reader.next_content(from).ok()?;
        let Some(first) = reader.line else {
            // A `---` before the first document's content starts it; any other document
            // without content (an empty text, `---` then nothing) is left to saphyr.
            let marker = reader
                .marker
                .filter(|_| documents.is_empty() && !leading_marker)?;
            leading_marker = true;
            from = reader.after_marker(marker).ok()?;
            continue;
        };
        if first.indent != 0 {
            return None;
        }
        let root = reader.block_node(first, false).ok()?;
        if reader.line.is_some() {
            return None;
        }
        documents.push(Document {
            root,
            anchors: HashMap::new(),
            explicit_entries: Vec::new(),
        });
        match reader.marker {
            Some(marker) => from = reader.after_marker(marker).ok()?,
            None => return Some(documents),
        }
    }
}

/// Whether every byte is printable YAML that needs no special reading: no control character
/// but tab and line feed, `\r` only before `\n`, no byte-order mark, no C1 control (NEL among
/// them, a line break to YAML 1.1), no Unicode line or paragraph separator, no noncharacter
/// U+FFFE/U+FFFF.
fn plain_text(bytes: &[u8]) -> bool {
    // Most texts are printable ASCII and line feeds throughout: a chunk of those is passed with
    // a loop the compiler vectorises, any other chunk is looked at byte by byte.
    const CHUNK: usize = 32;
    let simple = |byte: &u8| (0x20..0x7f).contains(byte) || *byte == b'\n';
    (0..bytes.len()).step_by(CHUNK).all(|start| {
        let chunk = &bytes[start..bytes.len().min(start + CHUNK)];
        chunk.iter().fold(true, |all, byte| all & simple(byte))
            || (start..start + chunk.len()).all(|at| printable_at(bytes, at))
    })
}

/// Whether the byte at `at` is one [`plain_text`] lets through, reading on for the
/// characters of more than one byte it refuses.
fn printable_at(bytes: &[u8], at: usize) -> bool {
    let rest = &bytes[at + 1..];
    match bytes[at] {
        b'\t' | b'\n' | 0x20..=0x7e => true,
        b'\r' => rest.first() == Some(&b'\n'),
        0xc2 => !rest
            .first()
            .is_some_and(|next| (0x80..=0x9f).contains(next)),
        0xe2 => !(rest.starts_with(&[0x80, 0xa8]) || rest.starts_with(&[0x80, 0xa9])),
        0xef => {
            !(rest.starts_with(&[0xbb, 0xbf])
                || rest.starts_with(&[0xbf, 0xbe])
                || rest.starts_with(&[0xbf, 0xbf]))
        }
        byte => byte >= 0x80,
    }
}

/// A line with content (not blank, not a comment line).
#[derive(Debug, Clone, Copy)]
struct Line {
    /// The spaces before its content.
    indent: usize,
    /// Where its content starts.
    content: usize,
}

/// What holds the node being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    Mapping,
    Sequence,
}

struct Reader<'t> {
    text: &'t str,
    /// The next line with content that no node has taken yet; `None` at the end of the text
    /// or of the document.
    line: Option<Line>,
    /// The `---` that ends the document being read, once [`Reader::next_content`] has met it.
    marker: Option<usize>,
    /// The entries and items of the collections being read, innermost last: a collection
    /// takes its own off the top when it ends, into a vector of exactly their number (no
    /// vector grown and shrunk per collection).
    entries: Vec<Entry>,
    items: Vec<Node>,
    nodes: usize,
    max_nodes: usize,
    /// Collections open around the one being read.
    depth: usize,
}

impl Reader<'_> {
    fn byte(&self, at: usize) -> u8 {
        byte_at(self.text, at)
    }

    /// The first byte from `at` that is not a space.
    fn skip_spaces(&self, at: usize) -> usize {
        at + self.text.as_bytes()[at..]
            .iter()
            .take_while(|&&byte| byte == b' ')
            .count()
    }

    /// Counts a node against the file's budget ([`MAX_NODES`](super::MAX_NODES)).
    fn count(&mut self) -> Read<()> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(Bail);
        }
        Ok(())
    }

    /// Opens a collection, within [`MAX_DEPTH`].
    fn enter(&mut self) -> Read<()> {
        self.count()?;
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    /// The first line with content of the document from the line start `from`: blank lines
    /// and comment lines are passed; a `---` line ends the document (and is kept in
    /// [`Reader::marker`]). Other markers, directives and tabs before content give up.
    fn next_content(&mut self, mut from: usize) -> Read<Option<Line>> {
        let bytes = self.text.as_bytes();
        loop {
            let content = self.skip_spaces(from);
            let indent = content - from;
            match self.byte(content) {
                0 => return Ok(None),
                b'\n' | b'\r' | b'#' => from = scan::next_line_start(self.text, content),
                b'\t' => return Err(Bail),
                b'%' if indent == 0 => return Err(Bail),
                _ if indent == 0 && bytes[content..].starts_with(b"---") => {
                    if !matches!(self.byte(content + 3), b' ' | b'\n' | b'\r' | 0) {
                        return Err(Bail);
                    }
                    self.marker = Some(content);
                    return Ok(None);
                }
                _ if indent == 0 && bytes[content..].starts_with(b"...") => return Err(Bail),
                _ => return Ok(Some(Line { indent, content })),
            }
        }
    }

    /// The start of the line after the `---` at `marker`, which may hold only a comment.
    fn after_marker(&self, marker: usize) -> Read<usize> {
        let after = self.skip_spaces(marker + 3);
        match self.byte(after) {
            b'\n' | b'\r' | 0 => {}
            b'#' if after > marker + 3 => {}
            _ => return Err(Bail),
        }
        Ok(scan::next_line_start(self.text, after))
    }

    /// Whether a `-` at `at` is a sequence entry indicator.
    fn is_item(&self, at: usize) -> bool {
        self.byte(at) == b'-' && matches!(self.byte(at + 1), b' ' | b'\n' | b'\r' | 0)
    }

    /// Whether a `:` at `at` is a block mapping's value indicator.
    fn is_value_indicator(&self, at: usize) -> bool {
        self.byte(at) == b':' && matches!(self.byte(at + 1), b' ' | b'\n' | b'\r' | 0)
    }

    /// A block mapping or sequence whose first key or `-` starts `line`.
    fn block_node(&mut self, line: Line, indentless: bool) -> Read<Node> {
        if self.is_item(line.content) {
            self.block_sequence(line, indentless)
        } else {
            self.block_mapping(line)
        }
    }

    fn block_mapping(&mut self, first: Line) -> Read<Node> {
        self.enter()?;
        let indent = first.indent;
        let base = self.entries.len();
        let mut line = first;
        loop {
            let key = self.key(line.content)?;
            let value = self.value(key.range.end + 1, indent, Parent::Mapping)?;
            self.entries.push(Entry { key, value });
            match self.line {
                Some(next) if next.indent == indent && !self.is_item(next.content) => line = next,
                Some(next) if next.indent >= indent => return Err(Bail),
                _ => break,
            }
        }
        self.depth -= 1;
        let entries: Box<[Entry]> = self.entries.drain(base..).collect();
        let last = entries.last().map(|entry| &entry.value);
        let end = last.map_or(first.content, |value| value.range.end);
        Ok(Node {
            range: first.content..end,
            properties: None,
            kind: NodeKind::Mapping(Mapping {
                layout: block_layout(self.text, indent, end, false, last),
                entries,
            }),
        })
    }

    fn block_sequence(&mut self, first: Line, indentless: bool) -> Read<Node> {
        self.enter()?;
        let indent = first.indent;
        let base = self.items.len();
        let mut line = first;
        loop {
            let item = self.value(line.content + 1, indent, Parent::Sequence)?;
            self.items.push(item);
            match self.line {
                Some(next) if next.indent == indent && self.is_item(next.content) => line = next,
                // The next key of the mapping an indentless sequence belongs to.
                Some(next) if next.indent == indent && indentless => break,
                Some(next) if next.indent >= indent => return Err(Bail),
                _ => break,
            }
        }
        self.depth -= 1;
        let items: Box<[Node]> = self.items.drain(base..).collect();
        let last = items.last();
        let end = last.map_or(first.content, |item| item.range.end);
        Ok(Node {
            range: first.content..end,
            properties: None,
            kind: NodeKind::Sequence(Sequence {
                layout: block_layout(self.text, indent, end, indentless, last),
                items,
            }),
        })
    }

    /// A block mapping's key at `at`, a one-line plain or quoted scalar right before `: `.
    fn key(&mut self, at: usize) -> Read<Node> {
        let key = match self.byte(at) {
            b'\'' | b'"' => self.quoted(at, Place::Key)?,
            _ => match self.plain(at, false)? {
                (end, Stop::Colon) => self.scalar(at..end, false)?,
                _ => return Err(Bail),
            },
        };
        let end = key.range.end;
        if end - at > MAX_KEY_LENGTH || !self.is_value_indicator(end) {
            return Err(Bail);
        }
        Ok(key)
    }

    /// Whether a block mapping's key starts at `at` (in a sequence item: `- key: value`).
    fn starts_key(&self, at: usize) -> Read<bool> {
        let end = match self.byte(at) {
            quote @ (b'\'' | b'"') => {
                let end = scan::quoted_end(self.text, at);
                if self.byte(end - 1) != quote {
                    return Err(Bail);
                }
                if self.text[at..end].contains(['\n', '\r']) {
                    // A key is one line.
                    return Ok(false);
                }
                end
            }
            _ => match self.plain(at, false)? {
                (end, Stop::Colon) => end,
                _ => return Ok(false),
            },
        };
        Ok(self.is_value_indicator(end))
    }

    /// The value after a mapping's `:` or a sequence's `-` (`after` is just past it), in a
    /// collection at column `indent`: on the same line, on the lines below, or empty.
    fn value(&mut self, after: usize, indent: usize, parent: Parent) -> Read<Node> {
        let at = self.skip_spaces(after);
        match self.byte(at) {
            b'\t' => Err(Bail),
            b'\n' | b'\r' | 0 | b'#' => {
                self.line = self.next_content(scan::next_line_start(self.text, at))?;
                match self.line {
                    Some(line) if line.indent > indent => match self.byte(line.content) {
                        b'[' | b'{' => {
                            let node = self.flow_collection(line.content)?;
                            self.finish_line(node.range.end, indent)?;
                            Ok(node)
                        }
                        _ => self.block_node(line, false),
                    },
                    Some(line)
                        if parent == Parent::Mapping
                            && line.indent == indent
                            && self.is_item(line.content) =>
                    {
                        self.block_node(line, true)
                    }
                    _ => self.scalar(after..after, false),
                }
            }
            b'|' | b'>' => self.block_scalar(at, indent),
            b'[' | b'{' => {
                let node = self.flow_collection(at)?;
                self.finish_line(node.range.end, indent)?;
                Ok(node)
            }
            _ if parent == Parent::Sequence && self.starts_key(at)? => {
                let column = at - scan::line_start(self.text, at);
                self.block_mapping(Line {
                    indent: column,
                    content: at,
                })
            }
            b'\'' | b'"' => {
                let node = self.quoted(at, Place::Value { indent })?;
                self.finish_line(node.range.end, indent)?;
                Ok(node)
            }
            _ => {
                let node = self.plain_value(at, indent)?;
                self.finish_line(node.range.end, indent)?;
                Ok(node)
            }
        }
    }

    /// Passes the rest of the line after a value ending at `end` (blanks, a comment) and finds
    /// the next line with content, which must not be deeper than the collection at `indent`:
    /// it would continue the value (a multi-line plain scalar) or be an error.
    fn finish_line(&mut self, end: usize, indent: usize) -> Read<()> {
        let at = self.skip_spaces(end);
        match self.byte(at) {
            b'\n' | b'\r' | 0 => {}
            b'#' if at > end => {}
            _ => return Err(Bail),
        }
        self.line = self.next_content(scan::next_line_start(self.text, at))?;
        if self.line.is_some_and(|line| line.indent > indent) {
            return Err(Bail);
        }
        Ok(())
    }

    /// A flow collection on one line, its `[` or `{` at `open`.
    fn flow_collection(&mut self, open: usize) -> Read<Node> {
        self.enter()?;
        let mapping = self.byte(open) == b'{';
        let close = if mapping { b'}' } else { b']' };
        let (entries_base, items_base) = (self.entries.len(), self.items.len());
        let mut at = self.flow_space(open + 1)?;
        if self.byte(at) != close {
            loop {
                if mapping {
                    let key = self.flow_scalar(at)?;
                    let colon = key.range.end;
                    if self.byte(colon) != b':' || self.byte(colon + 1) != b' ' {
                        return Err(Bail);
                    }
                    let value = self.flow_node(self.flow_space(colon + 1)?)?;
                    at = self.flow_space(value.range.end)?;
                    self.entries.push(Entry { key, value });
                } else {
                    let item = self.flow_node(at)?;
                    at = self.flow_space(item.range.end)?;
                    self.items.push(item);
                }
                match self.byte(at) {
                    b',' => {
                        at = self.flow_space(at + 1)?;
                        if matches!(self.byte(at), b',' | b']' | b'}') {
                            return Err(Bail);
                        }
                    }
                    byte if byte == close => break,
                    _ => return Err(Bail),
                }
            }
        }
        self.depth -= 1;
        let kind = if mapping {
            NodeKind::Mapping(Mapping {
                layout: Layout::Flow,
                entries: self.entries.drain(entries_base..).collect(),
            })
        } else {
            NodeKind::Sequence(Sequence {
                layout: Layout::Flow,
                items: self.items.drain(items_base..).collect(),
            })
        };
        Ok(Node {
            range: open..at + 1,
            properties: None,
            kind,
        })
    }

    /// Passes spaces inside a flow collection; a tab, a comment or the line's end gives up.
    fn flow_space(&self, at: usize) -> Read<usize> {
        let at = self.skip_spaces(at);
        match self.byte(at) {
            b'\t' | b'#' | b'\n' | b'\r' | 0 => Err(Bail),
            _ => Ok(at),
        }
    }

    /// A flow collection's item or value at `at`.
    fn flow_node(&mut self, at: usize) -> Read<Node> {
        match self.byte(at) {
            b'[' | b'{' => self.flow_collection(at),
            _ => self.flow_scalar(at),
        }
    }

    /// A quoted or plain scalar inside a flow collection.
    fn flow_scalar(&mut self, at: usize) -> Read<Node> {
        match self.byte(at) {
            b'\'' | b'"' => self.quoted(at, Place::Flow),
            _ => match self.plain(at, true)? {
                (end, Stop::Colon | Stop::FlowIndicator) => self.scalar(at..end, true),
                _ => Err(Bail),
            },
        }
    }
}

mod scalars;
#[cfg(test)]
mod tests;
