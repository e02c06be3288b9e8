//! Builds the node tree from `saphyr-parser` events, fixing their spans against the text.

use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle as SaphyrStyle, ScanError, Span};

use super::scan::{self, Offsets, byte_at};
use super::{
    Alias, Document, Entry, Layout, Mapping, Node, NodeKind, Properties, Property, Scalar,
    ScalarStyle, Sequence, YamlError,
};
use crate::line_index::LineIndex;

/// Why a build stopped: the parser's verdict, or spans this module could not make sense of
/// (a bug here rather than in the file, reported instead of guessed around).
#[derive(Debug)]
pub(super) enum Failure {
    Syntax {
        offset: usize,
        message: String,
    },
    Span {
        offset: usize,
        message: &'static str,
    },
    /// A collection opened inside [`MAX_DEPTH`] others.
    TooDeep {
        offset: usize,
    },
    /// A node past the first `max` ([`MAX_NODES`]).
    TooMany {
        offset: usize,
        max: usize,
    },
}

/// How deeply collections may nest. The tree is walked recursively (by the rules, by `Drop`),
/// so an unbounded depth would let a small file (`- - - - …` is 2 bytes a level) overflow the
/// stack. Real values files nest a dozen levels deep; Helm's own parser stops at 10 000 levels;
/// the whole pipeline, unoptimised, overflows a 2 MiB thread stack between 6 000 and 12 000
/// (measured), so 1 000 leaves it six times the room it needs.
pub(super) const MAX_DEPTH: usize = 1000;

/// How many nodes (scalars, collections, aliases; a key is one) a values file may have: the
/// per-file work budget of a values file. Each node costs memory (about 100 bytes) and rule
/// time, so this bounds both whatever `--max-file-size` allows. Real values files have a few
/// thousand (the corpus's largest, kube-prometheus-stack's, has 3 404); a file of 8 MiB, the
/// default size limit, written like one has about a million; `[[[]]]` has one node per 2 bytes.
pub const MAX_NODES: usize = 2_000_000;

impl Failure {
    pub(super) fn into_yaml_error(self, text: &str) -> YamlError {
        match self {
            // The line of the offset, not the parser's own line count, which can run past the
            // last line at the end of the text (`a:\nb` gave line 3).
            Failure::Syntax { offset, message } => YamlError {
                line: Some(LineIndex::new(text).line(offset)),
                message,
            },
            Failure::Span { offset, message } => YamlError {
                line: Some(LineIndex::new(text).line(offset)),
                message: format!("unexpected YAML layout: {message}"),
            },
            Failure::TooDeep { offset } => YamlError {
                line: Some(LineIndex::new(text).line(offset)),
                message: format!("collections nested more than {MAX_DEPTH} levels deep"),
            },
            Failure::TooMany { offset, max } => YamlError {
                line: Some(LineIndex::new(text).line(offset)),
                message: format!("more than {max} nodes (hardport's per-file limit)"),
            },
        }
    }
}

/// Reads the documents of `text`, which the parser sees as `parsed` (the same text, or one with
/// spaces `inserted` at some line starts).
pub(super) fn build(
    text: &str,
    parsed: &str,
    inserted: &[usize],
    max_nodes: usize,
) -> Result<Vec<Document>, Failure> {
    let offsets = Offsets::new(parsed, inserted);
    let mut builder = Builder {
        text,
        offsets: &offsets,
        open: Vec::new(),
        root: None,
        documents: Vec::new(),
        anchors: HashMap::new(),
        explicit_entries: Vec::new(),
        cursor: 0,
        flow_depth: 0,
        nodes: 0,
        max_nodes,
    };
    for event in Parser::new_from_str(parsed) {
        let (event, span) = event.map_err(|error| builder.syntax_failure(&error))?;
        builder.event(event, span)?;
    }
    Ok(builder.documents)
}

struct Builder<'t, 'o> {
    text: &'t str,
    offsets: &'o Offsets<'o>,
    /// Collections started and not yet ended, innermost last.
    open: Vec<Open>,
    root: Option<Node>,
    documents: Vec<Document>,
    /// The anchors of the document being read: name → where each `&name` starts, in order.
    anchors: HashMap<String, Vec<usize>>,
    /// The entries of the document being read whose key is explicit (`? key`), from the `?` to
    /// the end of the value (see [`Document::explicit_entries`]).
    explicit_entries: Vec<Range<usize>>,
    /// The end of the last token read: where a block scalar's header is searched from.
    cursor: usize,
    /// How many of the open collections are flow collections.
    flow_depth: usize,
    /// How many nodes were read, and how many may be ([`MAX_NODES`]).
    nodes: usize,
    max_nodes: usize,
}

/// A collection being filled.
struct Open {
    start: usize,
    anchor: Option<Property>,
    tag: Option<Property>,
    flow: bool,
    /// Written with `{`/`[` (every flow collection but a `[key: value]` pair).
    bracketed: bool,
    /// Where the next key's tokens start: the collection's start, then each value's end. An
    /// explicit key's `?` is the first token from there.
    key_from: usize,
    /// The `?` of the key waiting for its value, when that key is explicit.
    explicit_key: Option<usize>,
    children: Children,
}

enum Children {
    Mapping {
        entries: Vec<Entry>,
        key: Option<Node>,
    },
    Sequence(Vec<Node>),
}

/// A node's properties and where its content starts.
struct Head {
    anchor: Option<Property>,
    tag: Option<Property>,
    /// Just past the last property (the span start when there is none).
    end: usize,
}

impl Builder<'_, '_> {
    fn syntax_failure(&self, error: &ScanError) -> Failure {
        Failure::Syntax {
            offset: self
                .offsets
                .byte(error.marker().index())
                .min(self.text.len()),
            message: match error.info() {
                // `saphyr-parser` counts flow levels in a byte.
                "recursion limit exceeded" => {
                    "flow collections nested more than 255 levels deep".to_owned()
                }
                info => info.to_owned(),
            },
        }
    }

    fn span(&self, span: Span) -> Range<usize> {
        let start = self.offsets.byte(span.start.index()).min(self.text.len());
        start
            ..self
                .offsets
                .byte(span.end.index())
                .clamp(start, self.text.len())
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Failure> {
        let span = self.span(span);
        if matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(_)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
        ) {
            self.nodes += 1;
            if self.nodes > self.max_nodes {
                return Err(Failure::TooMany {
                    offset: span.start,
                    max: self.max_nodes,
                });
            }
        }
        match event {
            // An implicit start's span covers the content already; `---` is a token to pass.
            Event::DocumentStart(explicit) => {
                if explicit {
                    // `saphyr-parser` 0.3.4 counts the non-ASCII characters of a reserved
                    // directive (`%FOO é`) in bytes, which shifts every later position; the
                    // `---` that must follow directives is where that shows.
                    if !self.text.as_bytes()[span.start..].starts_with(b"---") {
                        return Err(Failure::Span {
                            offset: span.start,
                            message: "a document start the text does not show (a directive \
                                      with non-ASCII characters?)",
                        });
                    }
                    self.cursor = span.end;
                }
            }
            Event::DocumentEnd => {
                self.cursor = self.cursor.max(span.end);
                let anchors = std::mem::take(&mut self.anchors);
                let explicit_entries = std::mem::take(&mut self.explicit_entries);
                if let Some(root) = self.root.take() {
                    self.documents.push(Document {
                        root,
                        anchors,
                        explicit_entries,
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let head = self.head(span.start, anchor != 0, tag.is_some())?;
                self.note_anchor(&head);
                let node = self.scalar(value.into_owned(), style, head, span)?;
                self.attach(node);
            }
            Event::Alias(_) => {
                let end = scan::name_end(self.text, span.start + 1);
                let name = self.text[span.start + 1..end].to_owned();
                self.cursor = end;
                self.attach(Node {
                    range: span.start..end,
                    properties: None,
                    kind: NodeKind::Alias(Alias { name }),
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.start(span, (anchor != 0, tag.is_some()), true)?
            }
            Event::SequenceStart(anchor, tag) => {
                self.start(span, (anchor != 0, tag.is_some()), false)?
            }
            Event::MappingEnd | Event::SequenceEnd => self.end(span)?,
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Reads the anchor and tag at `start` that the parser says the node has.
    fn head(&self, start: usize, has_anchor: bool, has_tag: bool) -> Result<Head, Failure> {
        let mut head = Head {
            anchor: None,
            tag: None,
            end: start,
        };
        if !has_anchor && !has_tag {
            return Ok(head);
        }
        loop {
            let at = scan::skip_trivia(self.text, head.end);
            let (slot, wanted, end) = match byte_at(self.text, at) {
                b'&' => (
                    &mut head.anchor,
                    has_anchor,
                    scan::name_end(self.text, at + 1),
                ),
                b'!' => (&mut head.tag, has_tag, scan::tag_end(self.text, at)),
                _ => break,
            };
            // A node has at most one of each, and only those the parser gave it; any other
            // belongs to its first key (`&m` then `!!str key: v`).
            if !wanted || slot.is_some() {
                break;
            }
            let skip = usize::from(byte_at(self.text, at) == b'&');
            *slot = Some(Property {
                text: self.text[at + skip..end].to_owned(),
                range: at..end,
            });
            head.end = end;
        }
        if head.anchor.is_none() && head.tag.is_none() {
            return Err(Failure::Span {
                offset: start,
                message: "an anchor or tag the text does not show",
            });
        }
        Ok(head)
    }

    fn note_anchor(&mut self, head: &Head) {
        if let Some(anchor) = &head.anchor {
            self.anchors
                .entry(anchor.text.clone())
                .or_default()
                .push(anchor.range.start);
        }
    }

    fn scalar(
        &mut self,
        value: String,
        style: SaphyrStyle,
        head: Head,
        span: Range<usize>,
    ) -> Result<Node, Failure> {
        let has_properties = head.anchor.is_some() || head.tag.is_some();
        let content = if has_properties {
            scan::skip_trivia(self.text, head.end)
        } else {
            span.start
        };
        let mut placed = true;
        let (style, range) = match style {
            SaphyrStyle::Plain if value.is_empty() => {
                let range;
                (range, placed) = self.empty_scalar(&head);
                (ScalarStyle::Plain, range)
            }
            SaphyrStyle::Plain => (ScalarStyle::Plain, content..span.end),
            SaphyrStyle::SingleQuoted => (ScalarStyle::SingleQuoted, self.quoted(content, b'\'')?),
            SaphyrStyle::DoubleQuoted => (ScalarStyle::DoubleQuoted, self.quoted(content, b'"')?),
            SaphyrStyle::Literal => (
                ScalarStyle::Literal,
                self.block(content, has_properties, span.end)?,
            ),
            SaphyrStyle::Folded => (
                ScalarStyle::Folded,
                self.block(content, has_properties, span.end)?,
            ),
        };
        self.cursor = range.end;
        Ok(Node {
            range,
            properties: Properties::of(head.anchor, head.tag),
            kind: NodeKind::Scalar(Scalar {
                value,
                style,
                in_flow: self.flow_depth > 0,
                placed,
            }),
        })
    }

    /// Where an empty plain scalar goes: after its properties; else after the indicator that
    /// introduces it when that is the next token (a value's `:`, an explicit key's `?`, an
    /// item's `-`; an empty implicit key goes before its `:`); else right after the previous
    /// token (`? key` with no value, `{a, b}`), which is no place to write a value: the second
    /// result says whether the range is placed after an indicator or property.
    fn empty_scalar(&self, head: &Head) -> (Range<usize>, bool) {
        if head.anchor.is_some() || head.tag.is_some() {
            return (head.end..head.end, true);
        }
        let next = scan::skip_trivia(self.text, self.cursor);
        let indicator = byte_at(self.text, next);
        let blank_after = matches!(
            byte_at(self.text, next + 1),
            0 | b' ' | b'\t' | b'\n' | b'\r'
        );
        let (at, placed) = match (self.open.last().map(|open| &open.children), indicator) {
            (Some(Children::Mapping { key: Some(_), .. }), b':') => (next + 1, true),
            (Some(Children::Mapping { key: None, .. }), b':') => (next, true),
            (Some(Children::Mapping { key: None, .. }), b'?')
            | (Some(Children::Sequence(_)), b'-')
                if blank_after =>
            {
                (next + 1, true)
            }
            _ => (self.cursor, false),
        };
        (at..at, placed)
    }

    fn quoted(&self, start: usize, quote: u8) -> Result<Range<usize>, Failure> {
        if byte_at(self.text, start) != quote {
            return Err(Failure::Span {
                offset: start,
                message: "a quoted scalar without its quote",
            });
        }
        Ok(start..scan::quoted_end(self.text, start))
    }

    /// A block scalar from its `|`/`>` header to its last non-blank content. The parser's span
    /// starts at the properties when there are some, else at the content after the header.
    fn block(
        &self,
        content: usize,
        has_properties: bool,
        end: usize,
    ) -> Result<Range<usize>, Failure> {
        let header = if has_properties {
            content
        } else {
            scan::skip_to_block_header(self.text, self.cursor)
        };
        if !matches!(byte_at(self.text, header), b'|' | b'>') || header > end {
            return Err(Failure::Span {
                offset: header,
                message: "a block scalar without its header",
            });
        }
        Ok(header..scan::block_scalar_end(self.text, header, end))
    }

    fn start(
        &mut self,
        span: Range<usize>,
        (has_anchor, has_tag): (bool, bool),
        mapping: bool,
    ) -> Result<(), Failure> {
        if self.open.len() >= MAX_DEPTH {
            return Err(Failure::TooDeep { offset: span.start });
        }
        let head = self.head(span.start, has_anchor, has_tag)?;
        let has_properties = has_anchor || has_tag;
        self.note_anchor(&head);
        let content = if has_properties {
            scan::skip_trivia(self.text, head.end)
        } else {
            span.start
        };
        // A flow collection's span covers its bracket; a block one's ends where its first key
        // or `-` starts (which may be a flow collection used as a key: `{a: 1}: b`).
        let bracket = if mapping { b'{' } else { b'[' };
        let bracketed = byte_at(self.text, content) == bracket && span.end > content;
        // Inside a flow collection `[a: b]` holds a mapping without braces: flow too.
        let flow = bracketed || self.flow_depth > 0;
        // An indentless block sequence (`key:` then `- item` at the key's column, or `?` then
        // `- item` at its column) has its span after its first `-` (even on the `-` of an item
        // that is itself a sequence). A block sequence that is a mapping's value or key starts
        // with the first token after the key's `:` or the `?`.
        let indicator = match self.open.last() {
            Some(Open {
                flow: false,
                children: Children::Mapping { key, .. },
                ..
            }) => Some(if key.is_some() { b':' } else { b'?' }),
            _ => None,
        };
        let start = match indicator {
            Some(indicator) if !(mapping || flow || has_properties) => {
                let token = scan::skip_trivia(self.text, self.cursor);
                let dash = scan::skip_trivia(
                    self.text,
                    token + usize::from(byte_at(self.text, token) == indicator),
                );
                if byte_at(self.text, dash) == b'-' {
                    dash
                } else {
                    content
                }
            }
            _ => content,
        };
        self.cursor = start + usize::from(bracketed);
        self.flow_depth += usize::from(flow);
        self.open.push(Open {
            start,
            anchor: head.anchor,
            tag: head.tag,
            flow,
            bracketed,
            key_from: self.cursor,
            explicit_key: None,
            children: if mapping {
                Children::Mapping {
                    entries: Vec::new(),
                    key: None,
                }
            } else {
                Children::Sequence(Vec::new())
            },
        });
        Ok(())
    }

    fn end(&mut self, span: Range<usize>) -> Result<(), Failure> {
        let Some(open) = self.open.pop() else {
            return Err(Failure::Span {
                offset: span.start,
                message: "a collection end without its start",
            });
        };
        self.flow_depth -= usize::from(open.flow);
        let end = if open.bracketed {
            if !matches!(byte_at(self.text, span.start), b'}' | b']') {
                return Err(Failure::Span {
                    offset: span.start,
                    message: "a flow collection without its closing bracket",
                });
            }
            span.start + 1
        } else {
            self.cursor.max(open.start)
        };
        self.cursor = end;
        let layout = if open.flow {
            Layout::Flow
        } else {
            self.block_layout(&open, end)
        };
        // A vector grows to at least 4 nodes, several hundred bytes: most collections hold
        // fewer, and a file of nested `[[[…]]]` would cost 300 times its size. Boxing the
        // slice gives the spare capacity back.
        let kind = match open.children {
            Children::Mapping { entries, .. } => NodeKind::Mapping(Mapping {
                layout,
                entries: entries.into_boxed_slice(),
            }),
            Children::Sequence(items) => NodeKind::Sequence(Sequence {
                layout,
                items: items.into_boxed_slice(),
            }),
        };
        self.attach(Node {
            range: open.start..end,
            properties: Properties::of(open.anchor, open.tag),
            kind,
        });
        Ok(())
    }

    /// A block collection's column and where a new entry goes ([`block_layout`]); a sequence
    /// at its parent mapping's column is indentless.
    fn block_layout(&self, open: &Open, end: usize) -> Layout {
        let indent = scan::column(self.text, open.start);
        let parent_column = self
            .open
            .last()
            .filter(|parent| !parent.flow)
            .map(|parent| scan::column(self.text, parent.start));
        let indentless =
            matches!(open.children, Children::Sequence(_)) && parent_column == Some(indent);
        let last = match &open.children {
            Children::Mapping { entries, .. } => entries.last().map(|entry| &entry.value),
            Children::Sequence(items) => items.last(),
        };
        block_layout(self.text, indent, end, indentless, last)
    }

    /// Hands a finished node to the collection being filled, or makes it the document root.
    fn attach(&mut self, node: Node) {
        let Some(open) = self.open.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut open.children {
            Children::Mapping { entries, key } => match key.take() {
                Some(key) => {
                    if let Some(question_mark) = open.explicit_key.take() {
                        // The empty key or value of `{a, ? }` may be placed before the `?`.
                        let end = [key.range.end, node.range.end, self.cursor]
                            .into_iter()
                            .fold(question_mark + 1, usize::max);
                        self.explicit_entries.push(question_mark..end);
                    }
                    entries.push(Entry { key, value: node });
                    open.key_from = self.cursor;
                }
                None => {
                    open.explicit_key = explicit_key(self.text, open.key_from, open.flow, &node);
                    *key = Some(node);
                }
            },
            Children::Sequence(items) => items.push(node),
        }
    }
}

/// The `?` that makes `key` an explicit key, if one stands before it: the first token from
/// `key_from` (after a `,` in a flow mapping). A `?` where the key itself starts is a plain
/// scalar (`{?}`); an empty key may be placed before its `?` (`{a, ? }`), so only that case is
/// excluded.
fn explicit_key(text: &str, key_from: usize, flow: bool, key: &Node) -> Option<usize> {
    let mut at = scan::skip_trivia(text, key_from);
    if flow && byte_at(text, at) == b',' {
        at = scan::skip_trivia(text, at + 1);
    }
    (byte_at(text, at) == b'?' && key.full_range().start != at).then_some(at)
}

/// The layout of a block collection at column `indent` that ends at `end` with `last` as its
/// last value or item: a new entry goes after the comment lines that follow at its column or
/// deeper. An indentless sequence (`key:` then `- a` at the key's column) shares its column
/// with the next key, whose comments those are: it only takes deeper ones.
pub(super) fn block_layout(
    text: &str,
    indent: usize,
    end: usize,
    indentless: bool,
    last: Option<&Node>,
) -> Layout {
    Layout::Block {
        indent,
        append_at: scan::extend_over_comments(
            text,
            scan::next_line_start(text, end),
            indent + usize::from(indentless),
            last.is_some_and(ends_in_kept_block_scalar),
        ),
    }
}

/// Whether a node's text ends with a `|+`/`>+` scalar, whose trailing blank lines are part of
/// its value: a new entry after it must go after them.
fn ends_in_kept_block_scalar(node: &Node) -> bool {
    match &node.kind {
        // Only a `+` (keep) header leaves a block value ending in a blank line: after content
        // (`x\n\n`), or alone (`\n`, a kept blank line and no content).
        NodeKind::Scalar(scalar) => {
            matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded)
                && (scalar.value.ends_with("\n\n") || scalar.value == "\n")
        }
        NodeKind::Mapping(mapping) => mapping
            .entries
            .last()
            .is_some_and(|entry| ends_in_kept_block_scalar(&entry.value)),
        NodeKind::Sequence(sequence) => {
            sequence.items.last().is_some_and(ends_in_kept_block_scalar)
        }
        NodeKind::Alias(_) => false,
    }
}
