//! Format-preserving YAML: a tree of nodes with byte ranges into the original text, and edits
//! that change one scalar or add keys while every other byte stays as written.
//!
//! Nothing here re-serializes a file. [`parse`] builds the tree, the edit helpers on [`Stream`]
//! return [`Edit`](crate::diagnostic::Edit)s, and the fix engine splices them in; so applying no
//! edit gives the input back, byte for byte (the first property the corpus test checks).
//!
//! # Why `saphyr-parser`
//!
//! Two maintained parsers could carry this layer. Measured on the 332 `helm-values` files of
//! the shared corpus (10.0 MB; release build, one thread, best of 3 runs of 10 passes, on the
//! project's 2-core machine):
//!
//! | parser | accepts | speed | positions |
//! | --- | --- | --- | --- |
//! | `saphyr-parser` 0.3.4, events only | 331/332 | ~280 MB/s | characters; some spans overrun |
//! | [`parse`] (saphyr + this tree) | 332/332 | ~205 MB/s | bytes, exact |
//! | `yaml-edit` 0.3.6, CST only | 332/332, round trip byte-identical | ~71 MB/s | bytes, exact |
//!
//! `saphyr-parser` is chosen. It is a strict YAML 1.2 parser: it rejects what Helm's parser
//! rejects (`a: b: c`, a tab as indentation, a key at a stray indentation, an unknown alias,
//! a stray `]`), while `yaml-edit` is error-tolerant and accepted every one of those without
//! an error, building some tree for them. For a tool that must leave a broken file untouched
//! (exit 2) rather than edit a guessed tree, that decides it. Speed agrees: the ≥ 50 MB/s
//! target is for the whole run, and `yaml-edit` alone, before any walk of its tree, already
//! spends most of that budget. What the choice costs is handled here, in `scan` and `build`:
//! positions are converted from characters to bytes; quoted scalars and flow collection ends
//! are re-scanned (their spans may run over a trailing `# comment`); block scalars are found
//! from their `|`/`>` header (their spans start after it) and end at their last content line;
//! indentless sequences and empty values are placed at their indicator; anchor and alias names
//! are read from the text (the parser gives numbers).
//!
//! The one corpus file `saphyr-parser` rejects, `bitnami/chainloop/values.yaml`, closes a flow
//! sequence with `]` at the indentation of its parent key. The spec wants lines inside a flow
//! collection indented past the parent block; the Go parser Helm uses (`gopkg.in/yaml.v2`,
//! like libyaml) does not check indentation inside flow collections at all, and
//! `saphyr-parser` itself checks it only after a quoted item (after a plain one it accepts the
//! same layout). So on exactly that error ("invalid indentation", raised only at the first
//! token of a line inside a flow collection), [`parse`] reads the text again with one more
//! space at the start of that line, and maps every position back to the original text. Inside a
//! flow collection indentation carries no meaning, so the tree is the one Helm sees. The same
//! goes for `key:<TAB>value`, which YAML 1.2 and Helm accept and `saphyr-parser` refuses when
//! the value starts like a word: those tabs are read as spaces. Every other error is reported
//! as it is. That is the whole fallback: no second parser, a few
//! lines, and no cost for the files that parse the first time.
//!
//! # The fast reader
//!
//! Before any of that, `fast` tries the text: one document of block collections, one-line
//! scalars and flow collections, block scalars and comments, which is what nearly every values
//! file is (98 % of the corpus's YAML bytes), read byte by byte at several times the speed of
//! `saphyr-parser` and the span fixing above. It builds the same tree or gives up, and then
//! `saphyr-parser` reads the text as described; builds with debug assertions compare the two
//! trees for every text the fast reader reads.

mod build;
mod edit;
mod fast;
pub mod nesting;
mod render;
mod scan;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

pub use build::MAX_NODES;
pub use edit::{EditError, NewValue};
pub use render::is_null;

/// How many lines [`parse`] may re-indent to accept what Helm accepts (see the module doc);
/// each costs a new parse, so a file with more such lines is reported as the parser saw it.
const MAX_LENIENT_LINES: usize = 32;

/// How many `key:<TAB>value` places [`parse`] may read again with spaces (see the module doc);
/// each costs a new parse. Files written with tabs have many; thousands would be quadratic.
const MAX_SPACED_TABS: usize = 256;

/// Why a text is not YAML that this module can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// 1-based line of the error, when known.
    pub line: Option<usize>,
    pub message: String,
}

/// A parsed YAML text: its documents, and the text their ranges index.
#[derive(Debug)]
pub struct Stream<'a> {
    text: &'a str,
    pub documents: Vec<Document>,
    /// How the file writes new lines, read on the first insertion and kept: a values file may
    /// take thousands of insertions, and each must not walk the whole tree again.
    style: OnceLock<edit::Style>,
}

/// One document of a stream (files may hold several, separated by `---`).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's content; an empty document has an empty plain scalar.
    pub root: Node,
    /// Where each anchor name is defined (the offsets of its `&name`s, in order), so that an
    /// alias resolves without a walk of the whole tree: a file of many aliases stays linear.
    anchors: HashMap<String, Vec<usize>>,
    /// The entries whose key is explicit (`? key`), each from its `?` to the end of its value.
    /// The parser's spans leave some of their ranges wrong (the empty value of `? key` without
    /// a `:` has no place in the text; a nested `:` may be taken for its indicator), so edits
    /// refuse to touch them, or anything inside or next to them (a fuzz finding,
    /// docs/fuzzing.md). No values file of the corpus has one.
    explicit_entries: Vec<Range<usize>>,
}

/// A node with where it stands in the original text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The node's own token(s), without its anchor and tag: a scalar with its quotes (a block
    /// scalar from its header to its last content line), `{...}`/`[...]` for a flow collection
    /// (a `[key: value]` pair from key to value), first key or `-` to the end of the last value
    /// for a block collection, `*name` for an alias. An empty scalar has an empty range where
    /// its value would go (just after `key:` or `- `).
    pub range: Range<usize>,
    /// Its anchor and tag, boxed together: few nodes have either, and every node pays for the
    /// field ([`Node::anchor`], [`Node::tag`]).
    pub properties: Option<Box<Properties>>,
    pub kind: NodeKind,
}

/// What may be written before a node's own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Properties {
    /// `&name`: the name without `&`, the range with it.
    pub anchor: Option<Property>,
    /// The tag as written (`!!str`, `!custom`), with its range.
    pub tag: Option<Property>,
}

impl Properties {
    /// The properties of a node with this anchor and tag: `None` when it has neither.
    pub fn of(anchor: Option<Property>, tag: Option<Property>) -> Option<Box<Properties>> {
        (anchor.is_some() || tag.is_some()).then(|| Box::new(Properties { anchor, tag }))
    }
}

/// An anchor or a tag written before a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub text: String,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Mapping(Mapping),
    Sequence(Sequence),
    /// `*name`: a reference to an anchored node. Edits never go through it.
    Alias(Alias),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The value YAML reads (quotes removed, escapes and line folding applied). Typing (numbers,
    /// booleans, null) is left to the caller: `1001`, `true` and an empty value are text here.
    pub value: String,
    pub style: ScalarStyle,
    /// Inside a flow collection, where `,[]{}` end a plain scalar: new values are quoted then.
    pub in_flow: bool,
    /// For an empty scalar: whether its range follows what introduces it (its `:`, `-` or
    /// property), so a value may be written there. The empty value of a key without a `:`
    /// (`{a, b}`, `? key` alone) has no such place: its range only marks where the key ends,
    /// and writing there would extend the key. Always true for a scalar with text.
    pub(super) placed: bool,
}

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` block scalar.
    Literal,
    /// `>` block scalar.
    Folded,
}

/// Collections hold their children in boxed slices, not vectors: a tree is never grown after
/// it is read, and a capacity field in every collection of a large values file adds up (a
/// node is 8 bytes smaller, an entry 16).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub layout: Layout,
    pub entries: Box<[Entry]>,
}

/// A key and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    pub layout: Layout,
    pub items: Box<[Node]>,
}

/// Whether a collection is written as indented lines or inside brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Block {
        /// The column (0-based, in characters) of the keys or `-` indicators.
        indent: usize,
        /// Where a new entry line goes: the start of the line after the last entry, past the
        /// comment lines that follow it at `indent` or deeper (those belong to this
        /// collection; shallower ones introduce the next key and stay after the new line; for
        /// a sequence at its parent key's column, only deeper ones are taken).
        append_at: usize,
    },
    /// Inside `{}`/`[]`, or a `[key: value]` pair within a flow sequence.
    Flow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The anchor name, without `*`.
    pub name: String,
}

/// Parses `text`, every document of it, into nodes whose ranges index `text` itself (a UTF-8
/// byte-order mark and CRLF line ends included).
pub fn parse(text: &str) -> Result<Stream<'_>, YamlError> {
    parse_at_most(text, MAX_NODES)
}

/// [`parse`], refusing a text of more than `max_nodes` nodes.
fn parse_at_most(text: &str, max_nodes: usize) -> Result<Stream<'_>, YamlError> {
    if let Some(documents) = fast::read(text, max_nodes) {
        #[cfg(debug_assertions)]
        assert_same_as_saphyr(text, &documents, max_nodes);
        return Ok(Stream {
            text,
            documents,
            style: OnceLock::new(),
        });
    }
    parse_with_saphyr(text, max_nodes)
}

/// Checks a tree of the fast reader against the one `saphyr-parser`'s events give: the fast
/// reader is only a shortcut (see `fast`), so any difference is a bug in it.
#[cfg(debug_assertions)]
fn assert_same_as_saphyr(text: &str, documents: &[Document], max_nodes: usize) {
    match parse_with_saphyr(text, max_nodes) {
        Ok(stream) => assert!(
            stream.documents == documents,
            "the fast YAML reader and saphyr-parser read {text:?} differently:\n\
             fast: {documents:#?}\nsaphyr: {:#?}",
            stream.documents
        ),
        Err(error) => panic!("the fast YAML reader accepted {text:?}, saphyr-parser: {error}"),
    }
}

/// [`parse_at_most`] with `saphyr-parser`, for any text.
fn parse_with_saphyr(text: &str, max_nodes: usize) -> Result<Stream<'_>, YamlError> {
    let mut inserted: Vec<usize> = Vec::new();
    let mut spaced_tabs: Vec<usize> = Vec::new();
    loop {
        let parsed = shadow(text, &inserted, &spaced_tabs);
        let error = match build::build(text, &parsed, &inserted, max_nodes) {
            Ok(documents) => {
                return Ok(Stream {
                    text,
                    documents,
                    style: OnceLock::new(),
                });
            }
            Err(error) => error,
        };
        let lines_left = inserted.len() < MAX_LENIENT_LINES;
        let tabs_left = spaced_tabs.len() < MAX_SPACED_TABS;
        if let Some(line) = lenient_line(text, &error).filter(|_| lines_left) {
            let at = inserted.partition_point(|&offset| offset <= line);
            inserted.insert(at, line);
        } else if let Some(tabs) = tabs_after_colon(text, &error).filter(|_| tabs_left) {
            spaced_tabs.extend(tabs);
            spaced_tabs.sort_unstable();
            spaced_tabs.dedup();
        } else {
            return Err(error.into_yaml_error(text));
        }
    }
}

/// The tabs between a `:` and its value when `error` is `saphyr-parser`'s refusal of them:
/// YAML 1.2 separates a value from its `:` by spaces or tabs (`s-white`), and the Go parser
/// Helm uses accepts `key:<TAB>value`, so [`parse`] reads such a value again with spaces in
/// place of those tabs (one byte each: no position moves).
fn tabs_after_colon(text: &str, error: &build::Failure) -> Option<Vec<usize>> {
    let build::Failure::Syntax {
        offset, message, ..
    } = error
    else {
        return None;
    };
    if message != "':' must be followed by a valid YAML whitespace" {
        return None;
    }
    let before = text.get(..*offset)?;
    let blanks = before.len() - before.trim_end_matches([' ', '\t']).len();
    let colon = offset - blanks;
    let tabs: Vec<usize> = (colon..*offset)
        .filter(|&at| text.as_bytes()[at] == b'\t')
        .collect();
    (colon > 0 && text.as_bytes()[colon - 1] == b':' && !tabs.is_empty()).then_some(tabs)
}

/// The start of the line to indent by one space when `error` is the flow-indentation check
/// that Helm's parser does not make (see the module doc).
fn lenient_line(text: &str, error: &build::Failure) -> Option<usize> {
    let build::Failure::Syntax {
        offset, message, ..
    } = error
    else {
        return None;
    };
    (message == "invalid indentation" && scan::starts_line(text, *offset))
        .then(|| scan::line_start(text, *offset))
}

/// `text` with one space inserted at each offset of `inserted` (sorted; repeats allowed).
fn shadow<'t>(text: &'t str, inserted: &[usize], spaced_tabs: &[usize]) -> Cow<'t, str> {
    if inserted.is_empty() && spaced_tabs.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for &tab in spaced_tabs {
        bytes[tab] = b' ';
    }
    // Only ASCII tabs became ASCII spaces: still UTF-8.
    let spaced = String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned());
    let mut shadow = String::with_capacity(text.len() + inserted.len());
    let mut copied = 0;
    for &offset in inserted {
        shadow.push_str(&spaced[copied..offset]);
        shadow.push(' ');
        copied = offset;
    }
    shadow.push_str(&spaced[copied..]);
    Cow::Owned(shadow)
}

impl<'a> Stream<'a> {
    /// The text every range indexes.
    pub fn text(&self) -> &'a str {
        self.text
    }
}

impl Document {
    /// Calls `visit` with every node reachable from the root without going through an alias,
    /// with its path from the root, in document order. Mapping keys are not visited as nodes;
    /// they are the path's key segments (and [`Node::entries`] gives them with their ranges).
    pub fn visit<'d>(&'d self, visit: &mut impl FnMut(&Path<'d>, &'d Node)) {
        fn walk<'d>(
            node: &'d Node,
            path: &mut Path<'d>,
            visit: &mut impl FnMut(&Path<'d>, &'d Node),
        ) {
            visit(path, node);
            for entry in node.entries() {
                path.0.push(Segment::Key(entry.key.key_text()));
                walk(&entry.value, path, visit);
                path.0.pop();
            }
            for (index, item) in node.items().iter().enumerate() {
                path.0.push(Segment::Index(index));
                walk(item, path, visit);
                path.0.pop();
            }
        }
        walk(&self.root, &mut Path(Vec::new()), visit);
    }

    /// The dotted path of `node` (compared by identity) in this document, such as
    /// `primary.containerSecurityContext.runAsUser` or `extraVolumeMounts[0].mountPath`.
    pub fn path_of(&self, node: &Node) -> Option<String> {
        let mut found = None;
        self.visit(&mut |path, candidate| {
            if found.is_none() && std::ptr::eq(candidate, node) {
                found = Some(path.to_string());
            }
        });
        found
    }

    /// The node an alias refers to: the last node anchored with its name before it. Read
    /// values through it; edit that node, never the alias.
    ///
    /// The tree keeps an alias as a reference, never as a copy of what it names, so a file of
    /// aliases of aliases (a "billion laughs") costs its own size; this lookup is a descent to
    /// the anchor's offset, a binary search per level.
    pub fn resolve_alias(&self, alias: &Node) -> Option<&Node> {
        let NodeKind::Alias(Alias { name }) = &alias.kind else {
            return None;
        };
        let starts = self.anchors.get(name)?;
        let before = starts.partition_point(|&start| start < alias.range.start);
        let anchor = *starts.get(before.checked_sub(1)?)?;
        self.root.anchored_at(anchor)
    }
}

/// Where a node stands below its document's root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path<'d>(pub Vec<Segment<'d>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'d> {
    /// A mapping key's value; a key that is not a scalar is written `?`.
    Key(&'d str),
    /// A sequence item.
    Index(usize),
}

/// Dotted form, `a.b[0].c`. A `.`, `[` or `\` inside a key is escaped with `\`
/// (`files.config\.yaml`), as Helm's `--set` does, so [`Node::lookup`] reads it back.
impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    if position > 0 {
                        f.write_str(".")?;
                    }
                    for c in key.chars() {
                        if matches!(c, '.' | '[' | '\\') {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A step of a path read from its dotted form.
enum Step {
    Key(String),
    Index(usize),
}

/// Reads the dotted form [`Path`] writes; `None` when an index is not a number.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut key: Option<String> = None;
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                match key.take() {
                    Some(key) => steps.push(Step::Key(key)),
                    None if matches!(steps.last(), Some(Step::Index(_))) => {}
                    None => steps.push(Step::Key(String::new())),
                }
                // A key follows a dot, even an empty one (`a.` is `a` then ``).
                key = Some(String::new());
            }
            '[' => {
                steps.extend(key.take().map(Step::Key));
                let index: String = chars.by_ref().take_while(|&c| c != ']').collect();
                steps.push(Step::Index(index.parse().ok()?));
            }
            '\\' => key.get_or_insert_default().push(chars.next()?),
            c => key.get_or_insert_default().push(c),
        }
    }
    steps.extend(key.map(Step::Key));
    Some(steps)
}

impl Node {
    /// `&name` written before the node.
    pub fn anchor(&self) -> Option<&Property> {
        self.properties.as_ref()?.anchor.as_ref()
    }

    /// The tag written before the node.
    pub fn tag(&self) -> Option<&Property> {
        self.properties.as_ref()?.tag.as_ref()
    }

    /// The node with its anchor and tag: where its text starts.
    pub fn full_range(&self) -> Range<usize> {
        let start = [self.anchor(), self.tag()]
            .into_iter()
            .flatten()
            .map(|property| property.range.start)
            .fold(self.range.start, usize::min);
        start..self.range.end
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    pub fn as_mapping(&self) -> Option<&Mapping> {
        match &self.kind {
            NodeKind::Mapping(mapping) => Some(mapping),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&Sequence> {
        match &self.kind {
            NodeKind::Sequence(sequence) => Some(sequence),
            _ => None,
        }
    }

    /// The scalar's value, for a scalar node.
    pub fn value(&self) -> Option<&str> {
        self.as_scalar().map(|scalar| scalar.value.as_str())
    }

    /// A mapping's entries in order; none for other nodes.
    pub fn entries(&self) -> &[Entry] {
        self.as_mapping().map_or(&[], |mapping| &mapping.entries)
    }

    /// A sequence's items in order; none for other nodes.
    pub fn items(&self) -> &[Node] {
        self.as_sequence().map_or(&[], |sequence| &sequence.items)
    }

    /// The value under the scalar key `key` of this mapping (the last one if a key repeats, as
    /// Helm reads it). Merge keys (`<<: *base`) are not followed: what they bring in lives at
    /// the anchor, where an edit must go.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .rev()
            .find(|entry| entry.key.value() == Some(key))
            .map(|entry| &entry.value)
    }

    /// The node at a dotted path below this one (`image.tag`, `volumeMounts[0].mountPath`),
    /// the form [`Document::path_of`] writes; the empty path is this node.
    pub fn lookup(&self, path: &str) -> Option<&Node> {
        parse_path(path)?
            .iter()
            .try_fold(self, |node, step| match step {
                Step::Key(key) => node.get(key),
                Step::Index(index) => node.items().get(*index),
            })
    }

    /// This node's key text for a path: the scalar value, or `?` for a collection used as a key.
    fn key_text(&self) -> &str {
        self.value().unwrap_or("?")
    }

    /// Calls `visit` with this node and every node below it, keys included, in document order.
    fn each_node<'d>(&'d self, visit: &mut impl FnMut(&'d Node)) {
        visit(self);
        for entry in self.entries() {
            entry.key.each_node(visit);
            entry.value.each_node(visit);
        }
        for item in self.items() {
            item.each_node(visit);
        }
    }

    /// The mapping entry at or below this node whose value is `target` (compared by identity),
    /// with the mapping's layout. Like [`Node::anchored_at`], it descends towards `target`'s
    /// offset with one binary search per level instead of walking the tree.
    fn entry_holding(&self, target: &Node) -> Option<(Layout, &Entry)> {
        let offset = target.full_range().start;
        let mut node = self;
        loop {
            if let Some(mapping) = node.as_mapping()
                && let Some(entry) = mapping.entry_around(offset)
                && std::ptr::eq(&entry.value, target)
            {
                return Some((mapping.layout, entry));
            }
            node = node.child_containing(offset)?;
        }
    }

    /// The key, value or item right below this node whose range (anchor and tag included)
    /// holds `offset`: children are in document order with disjoint ranges, so it is one
    /// binary search.
    fn child_containing(&self, offset: usize) -> Option<&Node> {
        let contains = |child: &&Node| child.full_range().contains(&offset);
        match self.as_mapping() {
            Some(mapping) => {
                let entry = mapping.entry_around(offset)?;
                [&entry.key, &entry.value].into_iter().find(contains)
            }
            None => {
                let items = self.items();
                let at = items.partition_point(|item| item.full_range().end <= offset);
                items.get(at).filter(contains)
            }
        }
    }

    /// The node at or below this one whose anchor starts at `offset`, one binary search a
    /// level ([`Node::child_containing`]).
    fn anchored_at(&self, offset: usize) -> Option<&Node> {
        let mut node = self;
        loop {
            if node
                .anchor()
                .is_some_and(|anchor| anchor.range.start == offset)
            {
                return Some(node);
            }
            node = node.child_containing(offset)?;
        }
    }
}

impl Mapping {
    /// The first entry that does not end before `offset` (a binary search).
    fn entry_around(&self, offset: usize) -> Option<&Entry> {
        let at = self
            .entries
            .partition_point(|entry| entry.range().end <= offset);
        self.entries.get(at)
    }
}

impl Scalar {
    /// Whether YAML reads this scalar as a string, the way Helm's parser (YAML 1.1) and YAML
    /// 1.2 parsers both would: quoted and block scalars always; plain ones unless they read as a
    /// number, boolean, null or date (`1.10`, `yes`, `~`, `2024-01-31`).
    pub fn is_string(&self) -> bool {
        self.style != ScalarStyle::Plain || render::reads_as_string(&self.value)
    }
}

impl Entry {
    /// From the key (with its anchor or tag) to the end of the value.
    pub fn range(&self) -> Range<usize> {
        self.key.full_range().start..self.value.range.end.max(self.key.range.end)
    }

    /// Whether this is a merge key entry, `<<: *base`.
    pub fn is_merge(&self) -> bool {
        self.key
            .as_scalar()
            .is_some_and(|key| key.style == ScalarStyle::Plain && key.value == "<<")
    }
}
