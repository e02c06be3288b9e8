//! Whole-corpus property tests of the format-preserving YAML layer over every `helm-values`
//! file of `../shared/corpus/INDEX.tsv` (or `$HARDPORT_CORPUS_DIR`; skipped with a message when
//! neither exists):
//!
//! - every file parses (Helm accepts them all; none is expected to fail);
//! - applying no edit gives the input back, and every range is exact: each scalar's text
//!   re-parses alone to the same value and style (a block scalar's value up to its final line
//!   breaks), entries lie inside their parent in order, block collections sit at their column
//!   with `append_at` at a line start after them, flow collections are bracketed, and replacing
//!   every scalar with its own value rewrites no byte (or, for a multi-line or escaped scalar,
//!   gives a text that reads the same);
//! - adding a key to block mappings and to `{}` gives a text that parses, holds the key at the
//!   mapping's path, and keeps every comment line;
//! - truncated and byte-flipped variants of some files make `parse` return, never panic, and
//!   the variants it accepts pass the same range checks.

mod common;

use common::corpus_dir;

use hardport::diagnostic::{Edit, Fix};
use hardport::fix::apply_fixes;
use hardport::yaml::{
    self, Document, EditError, Layout, NewValue, Node, NodeKind, ScalarStyle, Stream,
};

/// Files Helm itself would reject, with the reason; none of the corpus is.
const EXPECTED_FAILURES: &[(&str, &str)] = &[];

/// The helm-values files of the corpus, as (path, text).
fn values_files() -> Option<Vec<(String, String)>> {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/corpus is not present");
        return None;
    };
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    let files: Vec<(String, String)> = index
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let path = fields.next()?;
            (fields.next()? == "helm-values").then(|| path.to_owned())
        })
        .map(|path| {
            let text = std::fs::read_to_string(dir.join(&path)).expect("corpus file is UTF-8");
            (path, text)
        })
        .collect();
    assert!(
        files.len() > 300,
        "the index lists {} values files",
        files.len()
    );
    Some(files)
}

#[test]
fn every_values_file_parses_and_its_ranges_are_exact() {
    let Some(files) = values_files() else { return };
    let mut failed = Vec::new();
    let mut problems = Vec::new();
    let (mut scalars, mut rewritten) = (0, 0);
    for (path, text) in &files {
        let stream = match yaml::parse(text) {
            Ok(stream) => stream,
            Err(error) => {
                failed.push(format!("{path}: line {:?}: {error}", error.line));
                continue;
            }
        };
        assert_eq!(apply_fixes(text, &[]).text, *text, "{path}: zero edits");
        let mut check = Checker {
            stream: &stream,
            problems: Vec::new(),
            scalars: 0,
            rewritten: 0,
        };
        for document in &stream.documents {
            check.node(&document.root, 0..text.len());
        }
        scalars += check.scalars;
        rewritten += check.rewritten;
        problems.extend(
            check
                .problems
                .into_iter()
                .take(5)
                .map(|problem| format!("{path}: {problem}")),
        );
    }
    let expected: Vec<String> = EXPECTED_FAILURES
        .iter()
        .map(|(path, _)| path.to_string())
        .collect();
    let failed_paths: Vec<String> = failed
        .iter()
        .map(|line| line.split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        failed_paths,
        expected,
        "files that fail to parse:\n{}",
        failed.join("\n")
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!(
        "{} values files parsed; {scalars} scalars replaced by themselves, {rewritten} of them (multi-line or escaped) written differently but reading the same",
        files.len() - failed.len()
    );
    assert!(
        rewritten * 50 < scalars,
        "most no-op replacements must be byte-identical"
    );
}

/// Walks a stream and records every range that is not exact.
struct Checker<'s> {
    stream: &'s Stream<'s>,
    problems: Vec<String>,
    scalars: usize,
    rewritten: usize,
}

impl<'s> Checker<'s> {
    fn text(&self) -> &'s str {
        self.stream.text()
    }

    fn fail(&mut self, node: &Node, what: String) {
        let line = self.text()[..node.range.start.min(self.text().len())]
            .matches('\n')
            .count()
            + 1;
        self.problems.push(format!("line {line}: {what}"));
    }

    fn node(&mut self, node: &Node, parent: std::ops::Range<usize>) {
        let full = node.full_range();
        let text = self.text();
        if full.start < parent.start
            || full.end > parent.end
            || !text.is_char_boundary(full.start)
            || !text.is_char_boundary(full.end)
        {
            return self.fail(
                node,
                format!("range {full:?} outside its parent {parent:?}"),
            );
        }
        match &node.kind {
            NodeKind::Scalar(_) => self.scalar(node),
            NodeKind::Alias(alias) => {
                if text[node.range.clone()] != format!("*{}", alias.name) {
                    self.fail(
                        node,
                        format!(
                            "alias range {:?} is not `*{}`",
                            &text[node.range.clone()],
                            alias.name
                        ),
                    );
                }
            }
            NodeKind::Mapping(mapping) => {
                let implicit_keys = mapping
                    .entries
                    .iter()
                    .filter(|entry| !is_block_collection(&entry.key));
                self.layout(
                    node,
                    &mapping.layout,
                    implicit_keys.map(|entry| entry.key.full_range().start),
                );
                let mut previous_end = node.range.start;
                for entry in &mapping.entries {
                    if entry.key.full_range().start < previous_end
                        || entry.value.full_range().start < entry.key.range.end
                    {
                        self.fail(&entry.key, "entries overlap or are out of order".into());
                    }
                    previous_end = entry.range().end;
                    self.node(&entry.key, node.range.clone());
                    self.node(&entry.value, node.range.clone());
                }
            }
            NodeKind::Sequence(sequence) => {
                self.layout(
                    node,
                    &sequence.layout,
                    sequence.items.iter().map(|item| item_dash(text, item)),
                );
                for item in &sequence.items {
                    self.node(item, node.range.clone());
                }
            }
        }
    }

    /// Block collections: every key or `-` at the collection's column; `append_at` a line start
    /// after the collection. Flow collections: brackets at both ends.
    fn layout(&mut self, node: &Node, layout: &Layout, starts: impl Iterator<Item = usize>) {
        let text = self.text();
        match *layout {
            Layout::Block { indent, append_at } => {
                let column = |at: usize| {
                    text[..at]
                        .rsplit(['\n', '\r'])
                        .next()
                        .unwrap()
                        .chars()
                        .count()
                };
                for start in starts {
                    // An explicit key's entry starts at its `?` (and its key may be a block
                    // collection on the next lines, whatever its column).
                    let before = text[..start].trim_end_matches(' ');
                    let explicit = before.ends_with('?') && column(before.len() - 1) == indent;
                    let column = column(start);
                    if column != indent && !explicit {
                        return self.fail(
                            node,
                            format!("entry at column {column}, collection at {indent}"),
                        );
                    }
                }
                let at_line_start = append_at == text.len()
                    || append_at == 0
                    || matches!(text.as_bytes()[append_at - 1], b'\n' | b'\r');
                if append_at < node.range.end || !at_line_start {
                    self.fail(
                        node,
                        format!(
                            "append_at {append_at} for a collection ending at {}",
                            node.range.end
                        ),
                    );
                }
            }
            Layout::Flow => {
                let token = &text[node.range.clone()];
                let bracketed = (token.starts_with('{') && token.ends_with('}'))
                    || (token.starts_with('[') && token.ends_with(']'));
                // `[key: value]`, `[? key]`: a pair without braces, ending with its value.
                let pair =
                    node.entries().len() == 1 && node.range.end == node.entries()[0].range().end;
                if !bracketed && !pair {
                    self.fail(node, format!("flow collection text {token:?}"));
                }
            }
        }
    }

    fn scalar(&mut self, node: &Node) {
        let scalar = node.as_scalar().unwrap();
        let token = &self.text()[node.range.clone()];
        // Some plain texts read differently alone: a key ending with `:` (`a:: b`) would be a
        // mapping, `---` a document start, `-` or `?` (`-: x`) an indicator.
        let needs_context = token.ends_with(':')
            || token.starts_with("---")
            || token.starts_with("...")
            || token == "-"
            || token == "?";
        if scalar.style == ScalarStyle::Plain && needs_context {
            return self.no_op_replacement(node);
        }
        // A block scalar's range ends at its last content; its final line break follows. A
        // scalar from a flow collection is read back inside one.
        let alone = match scalar.style {
            ScalarStyle::Literal | ScalarStyle::Folded => format!("{token}\n"),
            _ if scalar.in_flow => format!("[{token}]"),
            _ => token.to_owned(),
        };
        let reparsed = yaml::parse(&alone);
        let root = reparsed
            .ok()
            .and_then(|stream| stream.documents.into_iter().next())
            .map(|document: Document| document.root);
        let root = if scalar.in_flow {
            root.and_then(|root| root.items().first().cloned())
        } else {
            root
        };
        let (value, style) = match root.as_ref().and_then(Node::as_scalar) {
            Some(alone) => (alone.value.as_str(), alone.style),
            None if token.is_empty() => ("", ScalarStyle::Plain),
            None => {
                return self.fail(
                    node,
                    format!("scalar text {token:?} does not re-parse as a scalar"),
                );
            }
        };
        // A block scalar's value is compared without its final line breaks (which its range
        // leaves out), and not at all when an indentation indicator makes it depend on the
        // parent's indentation.
        let block = matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded);
        let has_indentation_indicator = block
            && token
                .lines()
                .next()
                .is_some_and(|header| header.contains(|c: char| c.is_ascii_digit()));
        let same_value = if block {
            value.trim_end_matches('\n') == scalar.value.trim_end_matches('\n')
        } else {
            value == scalar.value
        };
        if style != scalar.style || (!same_value && !has_indentation_indicator) {
            return self.fail(
                node,
                format!(
                    "scalar text {token:?} reads as {value:?} ({style:?}), not {:?} ({:?})",
                    scalar.value, scalar.style
                ),
            );
        }
        if !matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded)
            && !node.range.is_empty()
        {
            self.no_op_replacement(node);
        }
    }

    /// Replaces the scalar with its own value: the same bytes, or (multi-line, escapes) a text
    /// that reads the same at the same place.
    fn no_op_replacement(&mut self, node: &Node) {
        let scalar = node.as_scalar().unwrap();
        self.scalars += 1;
        let value = if scalar.is_string() {
            NewValue::String(scalar.value.clone())
        } else {
            NewValue::Native(scalar.value.clone())
        };
        let edit = match self.stream.replace_scalar(node, &value) {
            Ok(edit) => edit,
            // A mutation may write `? `: such entries are refused by design (docs/fuzzing.md).
            Err(EditError::ExplicitKey) => return,
            Err(error) => return self.fail(node, format!("no-op replacement refused: {error}")),
        };
        let text = self.text();
        if edit.replacement == text[edit.range.clone()] {
            return;
        }
        self.rewritten += 1;
        let rewritten = apply(text, edit.clone());
        let reread = yaml::parse(&rewritten).ok().and_then(|stream| {
            scalar_at(&stream, edit.range.start).map(|alone| (alone.value.clone(), alone.style))
        });
        let same = reread.as_ref().is_some_and(|(value, style)| {
            *value == scalar.value && (*style == scalar.style || scalar.style == ScalarStyle::Plain)
        });
        if !same {
            self.fail(
                node,
                format!(
                    "no-op replacement {:?} of {:?} reads as {reread:?}",
                    edit.replacement,
                    &text[edit.range.clone()]
                ),
            );
        }
    }
}

fn is_block_collection(node: &Node) -> bool {
    let layout = node
        .as_mapping()
        .map(|mapping| mapping.layout)
        .or(node.as_sequence().map(|sequence| sequence.layout));
    matches!(layout, Some(Layout::Block { .. }))
}

/// Where a block sequence item's `-` stands: the last `-` before the item's text that is
/// followed by white space and preceded on its line only by white space and indicators (`- -`,
/// `? -`, `: -`); comments between the two may hold dashes too.
fn item_dash(text: &str, item: &Node) -> usize {
    let mut before = item.full_range().start;
    while let Some(dash) = text[..before].rfind('-') {
        let line = &text[text[..dash].rfind(['\n', '\r']).map_or(0, |at| at + 1)..dash];
        let indicator = text[dash + 1..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace)
            && line
                .chars()
                .all(|c| matches!(c, ' ' | '\t' | '-' | '?' | ':'));
        if indicator {
            return dash;
        }
        before = dash;
    }
    0
}

fn apply(text: &str, edit: Edit) -> String {
    apply_edits(text, vec![edit])
}

fn apply_edits(text: &str, edits: Vec<Edit>) -> String {
    let fix = Fix::new(edits).expect("at least one edit");
    let applied = apply_fixes(text, &[&fix]);
    assert_eq!(
        applied.applied,
        [0],
        "the edits of one fix must not conflict"
    );
    applied.text
}

/// The scalar whose range starts at `start` (keys included).
fn scalar_at<'s>(stream: &'s Stream<'_>, start: usize) -> Option<&'s yaml::Scalar> {
    fn find(node: &Node, start: usize) -> Option<&yaml::Scalar> {
        if node.range.start == start && node.as_scalar().is_some() {
            return node.as_scalar();
        }
        node.entries()
            .iter()
            .flat_map(|entry| [&entry.key, &entry.value])
            .chain(node.items())
            .filter(|child| child.full_range().start <= start && start <= child.range.end)
            .find_map(|child| find(child, start))
    }
    stream
        .documents
        .iter()
        .find_map(|document| find(&document.root, start))
}

#[test]
fn keys_added_to_values_files_land_at_the_mapping_path_and_keep_every_comment() {
    let Some(files) = values_files() else { return };
    let mut problems = Vec::new();
    let mut inserted = 0;
    for (path, text) in &files {
        let Ok(stream) = yaml::parse(text) else {
            continue;
        };
        for (mapping_path, node) in sample_mappings(&stream) {
            inserted += 1;
            let entries = [(
                "hardportProbe".to_owned(),
                NewValue::Mapping(vec![
                    ("runAsUser".to_owned(), NewValue::int(65532)),
                    ("note".to_owned(), NewValue::string("a: b")),
                ]),
            )];
            let edits = match stream.insert_entries(node, &entries) {
                Ok(edits) => edits,
                Err(error) => {
                    problems.push(format!("{path}: {mapping_path}: {error}"));
                    continue;
                }
            };
            let rewritten = apply_edits(text, edits);
            if let Err(problem) = check_insertion(text, &rewritten, &mapping_path) {
                problems.push(format!("{path}: {mapping_path}: {problem}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!("{inserted} insertions checked");
}

/// Up to 4 block mappings spread over each file and its first 2 empty flow mappings that are
/// values (every insertion re-parses the whole file).
fn sample_mappings<'s>(stream: &'s Stream<'_>) -> Vec<(String, &'s Node)> {
    let mut block = Vec::new();
    let mut empty_flow = Vec::new();
    if let Some(document) = stream.documents.first() {
        document.visit(&mut |path, node| match node
            .as_mapping()
            .map(|mapping| (mapping.layout, mapping.entries.is_empty()))
        {
            Some((Layout::Block { .. }, _)) => block.push((path.to_string(), node)),
            Some((Layout::Flow, true)) if !path.0.is_empty() => {
                empty_flow.push((path.to_string(), node))
            }
            _ => {}
        });
    }
    // A path names one node unless a key repeats or is empty (`: v`); skip those.
    let root = stream.documents.first().map(|document| &document.root);
    let named = |(path, node): &(String, &Node)| {
        root.and_then(|root| root.lookup(path))
            .is_some_and(|found| std::ptr::eq(found, *node))
    };
    block.retain(named);
    empty_flow.retain(named);
    let stride = block.len().div_ceil(4).max(1);
    block
        .into_iter()
        .step_by(stride)
        .chain(empty_flow.into_iter().take(2))
        .collect()
}

fn check_insertion(before: &str, after: &str, mapping_path: &str) -> Result<(), String> {
    let stream = yaml::parse(after).map_err(|error| format!("result does not parse: {error}"))?;
    let root = &stream.documents[0].root;
    let mapping = if mapping_path.is_empty() {
        Some(root)
    } else {
        root.lookup(mapping_path)
    };
    let probe = mapping
        .and_then(|mapping| mapping.get("hardportProbe"))
        .ok_or("the new key is not at the mapping's path")?;
    let user = probe
        .get("runAsUser")
        .and_then(Node::as_scalar)
        .ok_or("runAsUser missing")?;
    let note = probe.get("note").and_then(Node::value);
    if user.value != "65532" || user.is_string() || note != Some("a: b") {
        return Err(format!("new values read as {:?} and {note:?}", user.value));
    }
    fn comments(text: &str) -> Vec<&str> {
        text.split(['\n', '\r'])
            .filter(|line| line.trim_start().starts_with('#'))
            .map(str::trim)
            .collect()
    }
    if comments(before) != comments(after) {
        return Err("comment lines changed".into());
    }
    Ok(())
}

#[test]
fn truncated_and_mutated_values_files_never_panic() {
    let Some(files) = values_files() else { return };
    let samples = files.iter().step_by(files.len() / 8).take(8);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut outcomes = [0, 0];
    let mut problems = Vec::new();
    for (_, text) in samples {
        let step = (text.len() / 200).max(1);
        for cut in (0..text.len())
            .step_by(step)
            .filter(|&cut| text.is_char_boundary(cut))
        {
            outcomes[usize::from(yaml::parse(&text[..cut]).is_ok())] += 1;
        }
        for _ in 0..200 {
            let mutated = mutate(text, &mut seed);
            if let Ok(stream) = yaml::parse(&mutated) {
                outcomes[1] += 1;
                let mut check = Checker {
                    stream: &stream,
                    problems: Vec::new(),
                    scalars: 0,
                    rewritten: 0,
                };
                for document in &stream.documents {
                    check.node(&document.root, 0..mutated.len());
                }
                problems.extend(check.problems);
            } else {
                outcomes[0] += 1;
            }
        }
    }
    eprintln!("{} parsed, {} rejected, no panic", outcomes[1], outcomes[0]);
    assert!(
        problems.is_empty(),
        "inexact ranges in accepted variants:\n{}",
        problems.join("\n")
    );
}

/// `text` with 1 to 4 ASCII bytes replaced by YAML-significant characters (xorshift64).
fn mutate(text: &str, seed: &mut u64) -> String {
    const CHARS: &[u8] = b"\"'{}[],:-?#&*!|>%@` \t\n\rax0";
    let mut next = || {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + next() % 4 {
        let at = (next() % bytes.len().max(1) as u64) as usize;
        if bytes.get(at).is_some_and(u8::is_ascii) {
            bytes[at] = CHARS[(next() % CHARS.len() as u64) as usize];
        }
    }
    String::from_utf8(bytes).expect("only ASCII bytes were replaced")
}
