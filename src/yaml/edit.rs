//! Edits on a parsed stream: replace a scalar inside its own quoting, add keys to a mapping.
//!
//! Each helper returns byte-range [`Edit`]s against the original text and never touches a byte
//! it does not have to: new lines take the mapping's indentation and the file's line ends, and
//! comments stay where they are. Aliases are refused (the edit belongs at the anchor, once).

use super::render::{double_quoted, is_plain_safe, reads_as_string, single_quoted};
use super::scan;
use super::{Entry, Layout, Node, NodeKind, ScalarStyle, Stream};
use crate::diagnostic::Edit;

/// A value to write into a YAML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewValue {
    /// Text that YAML must read back as a string: written plain when that is safe, else quoted.
    String(String),
    /// A number, boolean or null as YAML writes it (`1001`, `true`): written plain, so YAML
    /// reads it as that type. It must be a valid plain scalar.
    Native(String),
    /// A mapping of keys to values, written as an indented block (or `{…}` inside a flow
    /// collection).
    Mapping(Vec<(String, NewValue)>),
    /// An empty sequence, `[]` (Compose's `entrypoint: []`, which clears the image's).
    EmptySequence,
}

impl NewValue {
    pub fn string(text: impl Into<String>) -> Self {
        NewValue::String(text.into())
    }

    pub fn int(value: i64) -> Self {
        NewValue::Native(value.to_string())
    }

    pub fn bool(value: bool) -> Self {
        NewValue::Native(value.to_string())
    }
}

/// How a file writes the lines an insertion adds, read from the file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    /// The indentation step: the first nested block mapping's extra indentation, or 2.
    indent_step: usize,
    /// The file's line break: the one that ends its first line.
    line_break: &'static str,
}

/// Why an edit cannot be made in place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("`*{name}` is an alias: edit the node anchored `&{name}` instead")]
    Alias { name: String },
    #[error("{0}")]
    NotEditable(&'static str),
    #[error("`{0}` is not a plain YAML scalar")]
    InvalidNative(String),
    /// The node is in or next to an entry with an explicit key (`? key`), whose ranges the
    /// layer cannot vouch for (see `Document::explicit_entries`).
    #[error("entries with an explicit key (`? key`) are not edited")]
    ExplicitKey,
}

impl Stream<'_> {
    /// The edit that gives the scalar `node` the value `value`, in the scalar's own style:
    ///
    /// - plain stays plain when YAML reads the new text back as the same value of the same
    ///   type (a [`NewValue::String`] like `1.10` or `yes` would not: it gets double quotes);
    /// - single quotes stay (with `'` doubled), unless the value holds a line break or other
    ///   character they cannot escape: then double quotes;
    /// - double quotes stay, with `"`, `\` and control characters escaped.
    ///
    /// A [`NewValue::Native`] in a quoted scalar stays quoted: the file chose a string there.
    /// An empty value (`key:`) gets the new text after its indicator, with a space. The anchor
    /// and tag are kept (an anchored scalar is edited once, for every alias). Block scalars
    /// (`|`, `>`) and aliases are refused, as is a [`NewValue::Mapping`], and any node inside
    /// or next to an entry with an explicit key (`? key`).
    pub fn replace_scalar(&self, node: &Node, value: &NewValue) -> Result<Edit, EditError> {
        self.refuse_near_explicit_entries(node)?;
        let scalar = match &node.kind {
            NodeKind::Scalar(scalar) => scalar,
            NodeKind::Alias(alias) => return Err(alias_error(&alias.name)),
            _ => return Err(EditError::NotEditable("only a scalar can be replaced")),
        };
        let text = match (value, scalar.style) {
            (NewValue::Mapping(_) | NewValue::EmptySequence, _) => {
                return Err(EditError::NotEditable(
                    "a collection cannot replace a scalar in place",
                ));
            }
            (_, ScalarStyle::Literal | ScalarStyle::Folded) => {
                return Err(EditError::NotEditable(
                    "block scalars (`|`, `>`) are not edited in place",
                ));
            }
            (_, ScalarStyle::Plain) => render_scalar(value, scalar.in_flow)?,
            (NewValue::String(text) | NewValue::Native(text), ScalarStyle::SingleQuoted) => {
                single_quoted(text).unwrap_or_else(|| double_quoted(text))
            }
            (NewValue::String(text) | NewValue::Native(text), ScalarStyle::DoubleQuoted) => {
                double_quoted(text)
            }
        };
        if node.range.is_empty() {
            if !scalar.placed {
                return Err(EditError::NotEditable(
                    "an empty value without `:` cannot be given a value",
                ));
            }
            return self.fill_empty(node, text);
        }
        Ok(Edit::replace(node.range.clone(), text))
    }

    /// Refuses `node` when its text overlaps or touches an entry with an explicit key, whose
    /// ranges the layer cannot vouch for (see `Document::explicit_entries`).
    fn refuse_near_explicit_entries(&self, node: &Node) -> Result<(), EditError> {
        let range = node.full_range();
        let near = self
            .documents
            .iter()
            .flat_map(|document| &document.explicit_entries)
            .any(|entry| entry.start <= range.end && range.start <= entry.end);
        if near {
            return Err(EditError::ExplicitKey);
        }
        Ok(())
    }

    /// An empty value gets its text after the indicator or property before it, with a space
    /// (and in place of the blanks that end its line, so no trailing space is left).
    fn fill_empty(&self, node: &Node, text: String) -> Result<Edit, EditError> {
        let at = node.range.start;
        let before = self.text[..at].trim_end_matches([' ', '\t']);
        let after_property = node.properties.is_some();
        if !(after_property || before.ends_with([':', '-'])) {
            return Err(EditError::NotEditable(
                "an empty value without `:` cannot be given a value",
            ));
        }
        let space = if before.len() == at { " " } else { "" };
        let blanks = self.text[at..].len() - self.text[at..].trim_start_matches([' ', '\t']).len();
        let ends_line = matches!(scan::byte_at(self.text, at + blanks), 0 | b'\n' | b'\r');
        let end = if ends_line { at + blanks } else { at };
        Ok(Edit::replace(at..end, format!("{space}{text}")))
    }

    /// The edits that add `entries` (in order, after the existing ones) to the mapping `node`:
    ///
    /// - a block mapping gets one line per entry at its indentation, at
    ///   [`Layout::Block::append_at`];
    /// - an empty flow mapping that is a block mapping's value (`securityContext: {}`) becomes
    ///   a block mapping: `{}` is removed (a `# comment` after it stays on its line) and the
    ///   entries go below the key, one indentation step deeper, after the comment lines that
    ///   follow at that depth (they are commented-out content of the block);
    /// - any other flow mapping gets `key: value` pairs inside its braces (a `[key: value]`
    ///   pair, which has none, is refused).
    ///
    /// A mapping that holds an entry with an explicit key (`? key`), or lies in one, is refused.
    /// Several edits may come back; they belong together, as one fix.
    pub fn insert_entries(
        &self,
        node: &Node,
        entries: &[(String, NewValue)],
    ) -> Result<Vec<Edit>, EditError> {
        self.refuse_near_explicit_entries(node)?;
        let mapping = match &node.kind {
            NodeKind::Mapping(mapping) => mapping,
            NodeKind::Alias(alias) => return Err(alias_error(&alias.name)),
            _ => {
                return Err(EditError::NotEditable(
                    "keys can only be added to a mapping",
                ));
            }
        };
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        match mapping.layout {
            Layout::Block { indent, append_at } => {
                Ok(vec![self.insert_lines(append_at, indent, entries)?])
            }
            Layout::Flow => match self.parent_entry(node) {
                Some((Layout::Block { .. }, entry)) if mapping.entries.is_empty() => {
                    self.expand_empty_flow(entry, entries)
                }
                _ => Ok(vec![self.insert_inline(node, entries)?]),
            },
        }
    }

    /// One edit inserting `entries` as block lines at `at` (a line start, or the end of a text
    /// without a final line break).
    fn insert_lines(
        &self,
        at: usize,
        indent: usize,
        entries: &[(String, NewValue)],
    ) -> Result<Edit, EditError> {
        let line_break = self.line_break();
        let mut lines = String::new();
        write_block(&mut lines, entries, indent, self.indent_step(), line_break)?;
        if at == self.text.len() && !self.text.is_empty() && !self.text.ends_with(['\n', '\r']) {
            // Keep the text's missing final line break missing.
            lines.truncate(lines.len() - line_break.len());
            lines.insert_str(0, line_break);
        }
        Ok(Edit::replace(at..at, lines))
    }

    /// `key: {}` → `key:` and the entries on the lines below, one step deeper than the key.
    fn expand_empty_flow(
        &self,
        entry: &Entry,
        entries: &[(String, NewValue)],
    ) -> Result<Vec<Edit>, EditError> {
        let braces = &entry.value.range;
        let key_column = scan::column(self.text, entry.key.full_range().start);
        let remove = scan::space_before(self.text, braces.start).start..braces.end;
        let next_line = scan::next_line_start(self.text, braces.end);
        let at = scan::extend_over_comments(self.text, next_line, key_column + 1, false);
        let indent = key_column + self.indent_step();
        Ok(vec![
            Edit::replace(remove, ""),
            self.insert_lines(at, indent, entries)?,
        ])
    }

    /// `key: value` pairs written inside a flow mapping's braces, after its last entry.
    fn insert_inline(
        &self,
        node: &Node,
        entries: &[(String, NewValue)],
    ) -> Result<Edit, EditError> {
        if scan::byte_at(self.text, node.range.start) != b'{' {
            return Err(EditError::NotEditable(
                "a `[key: value]` pair has room for one key only",
            ));
        }
        let mut pairs = String::new();
        write_flow_pairs(&mut pairs, entries)?;
        let (at, text) = match node.entries().last() {
            Some(last) => (last.range().end, format!(", {pairs}")),
            None => (node.range.start + 1, pairs),
        };
        Ok(Edit::replace(at..at, text))
    }

    /// The edit appending a mapping of `entries` as a new item of the sequence `node`: in a
    /// block sequence a `- key: value` item after its last item, at its `-` column, with the
    /// file's line ends; in a flow sequence `, {key: value}` before its `]`. An empty flow
    /// sequence, or one inside or next to an explicit key, is refused.
    pub fn append_item(
        &self,
        node: &Node,
        entries: &[(String, NewValue)],
    ) -> Result<Edit, EditError> {
        self.refuse_near_explicit_entries(node)?;
        let sequence = match &node.kind {
            NodeKind::Sequence(sequence) => sequence,
            NodeKind::Alias(alias) => return Err(alias_error(&alias.name)),
            _ => {
                return Err(EditError::NotEditable(
                    "items can only be added to a sequence",
                ));
            }
        };
        match sequence.layout {
            Layout::Block { indent, append_at } => {
                let line_break = self.line_break();
                let mut lines = String::new();
                write_block(
                    &mut lines,
                    entries,
                    indent + 2,
                    self.indent_step(),
                    line_break,
                )?;
                // The first key goes on the `-` line.
                lines.replace_range(indent..indent + 2, "- ");
                if append_at == self.text.len()
                    && !self.text.is_empty()
                    && !self.text.ends_with(['\n', '\r'])
                {
                    lines.truncate(lines.len() - line_break.len());
                    lines.insert_str(0, line_break);
                }
                Ok(Edit::replace(append_at..append_at, lines))
            }
            Layout::Flow => {
                let last = sequence.items.last().ok_or(EditError::NotEditable(
                    "an empty flow sequence is not extended",
                ))?;
                let mut pairs = String::new();
                write_flow_pairs(&mut pairs, entries)?;
                let at = last.full_range().end;
                Ok(Edit::replace(at..at, format!(", {{{pairs}}}")))
            }
        }
    }

    /// The layout of the mapping that holds `node` as a value, with that entry: found from the
    /// document whose root spans `node`'s offset (documents are in text order).
    fn parent_entry(&self, node: &Node) -> Option<(Layout, &Entry)> {
        let offset = node.full_range().start;
        let at = self
            .documents
            .partition_point(|document| document.root.full_range().end <= offset);
        self.documents.get(at)?.root.entry_holding(node)
    }

    /// How the file writes new lines, read once.
    fn style(&self) -> Style {
        *self.style.get_or_init(|| Style {
            indent_step: self.read_indent_step(),
            line_break: self.read_line_break(),
        })
    }

    /// The indentation step the file uses (see [`Style::indent_step`]).
    fn indent_step(&self) -> usize {
        self.style().indent_step
    }

    /// The file's line break (see [`Style::line_break`]).
    fn line_break(&self) -> &'static str {
        self.style().line_break
    }

    /// The first nested block mapping's extra indentation, or 2.
    fn read_indent_step(&self) -> usize {
        let mut step = None;
        for document in &self.documents {
            document.root.each_node(&mut |node| {
                let Some(Layout::Block { indent, .. }) =
                    node.as_mapping().map(|mapping| mapping.layout)
                else {
                    return;
                };
                for entry in node.entries() {
                    if let Some(Layout::Block { indent: inner, .. }) =
                        entry.value.as_mapping().map(|m| m.layout)
                    {
                        step = step.or(inner.checked_sub(indent).filter(|&step| step > 0));
                    }
                }
            });
        }
        step.unwrap_or(2)
    }

    /// The line break that ends the first line (`\n` when the text has one line).
    fn read_line_break(&self) -> &'static str {
        let first = scan::line_end(self.text, 0);
        match &self.text[first..scan::next_line_start(self.text, first)] {
            "\r\n" => "\r\n",
            "\r" => "\r",
            _ => "\n",
        }
    }
}

fn alias_error(name: &str) -> EditError {
    EditError::Alias {
        name: name.to_owned(),
    }
}

/// A new scalar, plain when YAML reads it back as the intended value and type.
fn render_scalar(value: &NewValue, in_flow: bool) -> Result<String, EditError> {
    match value {
        NewValue::String(text) if is_plain_safe(text, in_flow) && reads_as_string(text) => {
            Ok(text.clone())
        }
        NewValue::String(text) => Ok(double_quoted(text)),
        NewValue::Native(text) if is_plain_safe(text, in_flow) => Ok(text.clone()),
        NewValue::Native(text) => Err(EditError::InvalidNative(text.clone())),
        NewValue::Mapping(_) => Err(EditError::NotEditable("a mapping is not a scalar")),
        NewValue::EmptySequence => Err(EditError::NotEditable("a sequence is not a scalar")),
    }
}

fn render_key(key: &str, in_flow: bool) -> String {
    if is_plain_safe(key, in_flow) && reads_as_string(key) {
        key.to_owned()
    } else {
        double_quoted(key)
    }
}

/// `key: value` lines at `indent`, nested mappings `step` deeper, each ended by `line_break`.
fn write_block(
    out: &mut String,
    entries: &[(String, NewValue)],
    indent: usize,
    step: usize,
    line_break: &str,
) -> Result<(), EditError> {
    for (key, value) in entries {
        out.extend(std::iter::repeat_n(' ', indent));
        out.push_str(&render_key(key, false));
        out.push(':');
        match value {
            NewValue::Mapping(children) if !children.is_empty() => {
                out.push_str(line_break);
                write_block(out, children, indent + step, step, line_break)?;
                continue;
            }
            NewValue::Mapping(_) => out.push_str(" {}"),
            NewValue::EmptySequence => out.push_str(" []"),
            scalar => {
                out.push(' ');
                out.push_str(&render_scalar(scalar, false)?);
            }
        }
        out.push_str(line_break);
    }
    Ok(())
}

/// `key: value, key: {…}` for inside a flow mapping.
fn write_flow_pairs(out: &mut String, entries: &[(String, NewValue)]) -> Result<(), EditError> {
    for (position, (key, value)) in entries.iter().enumerate() {
        if position > 0 {
            out.push_str(", ");
        }
        out.push_str(&render_key(key, true));
        out.push_str(": ");
        match value {
            NewValue::Mapping(children) => {
                out.push('{');
                write_flow_pairs(out, children)?;
                out.push('}');
            }
            NewValue::EmptySequence => out.push_str("[]"),
            scalar => out.push_str(&render_scalar(scalar, true)?),
        }
    }
    Ok(())
}
