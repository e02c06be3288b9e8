//! The properties hardport's fuzz targets check, one public function per target.
//!
//! Each function takes the raw fuzzer input and panics when a property fails, which libFuzzer
//! reports as a crash. They live in a library so that `pipeline` reuses the per-format checks
//! and a crash can be replayed from a unit test or a debugger without libFuzzer.
//! docs/fuzzing.md lists the properties and how to run the targets.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::LazyLock;

use hardport::catalog::{Catalog, CatalogOptions, Target};
use hardport::diagnostic::{Edit, Fix};
use hardport::diff::unified_diff;
use hardport::discovery::FileKind;
use hardport::helm::chart::{Chart, ValuesRead};
use hardport::image_ref::{self, ImageRef};
use hardport::migrate::{FileChanges, FileError, FileReport, Migration, Patch, migrate_text};
use hardport::patch_path::Reach;
use hardport::report::{Mode, Report};
use hardport::rules::{self, Context};
use hardport::yaml::{self, Layout, NewValue, Node, NodeKind, ScalarStyle, Stream};
use hardport::{dockerfile, fix};
use hardport::{markdown, sarif};

mod catalog_file;
mod tree;

pub use catalog_file::catalog;
pub use tree::tree;

/// The fix loop's pass limit (`MAX_PASSES` in src/migrate.rs), for the loop `pipeline` replays.
const MAX_PASSES: usize = 8;

/// How many scalars and mappings of one input the YAML edit checks try; each try re-parses
/// the file, and a few per input are enough for the fuzzer to reach every kind of node.
const EDITS_PER_INPUT: usize = 8;

pub(crate) static MINIMUS: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::embedded().expect("the embedded catalog loads"));

/// The catalogs `pipeline` chooses from: every built-in target, and Minimus with the test
/// catalogs of testdata/ layered over it (the only catalogs that map Bitnami images and give
/// a replacement a group, which the Helm security-context rules need).
static CATALOGS: LazyLock<[Catalog; 4]> = LazyLock::new(|| {
    let testdata = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let layered = CatalogOptions {
        files: vec![
            testdata.join("helm-bitnami/catalog.yaml"),
            testdata.join("helm-create/catalog.yaml"),
        ],
        ..CatalogOptions::default()
    };
    [
        Catalog::target(Target::Minimus, None),
        Catalog::target(Target::Chainguard, Some("cgr.dev/fuzz")),
        Catalog::target(Target::Dhi, Some("registry.example.test/dhi")),
        Catalog::load(&layered),
    ]
    .map(|catalog| catalog.expect("a fuzzing catalog loads"))
});

/// The charts a values file in `pipeline` belongs to: none, one whose `appVersion` has a
/// distro suffix, a Bitnami chart, and one whose templates read the security contexts.
pub(crate) static CHARTS: LazyLock<[Option<Chart>; 4]> = LazyLock::new(|| {
    let template = "{{ .Values.podSecurityContext }} {{ .Values.securityContext }} \
                    {{ .Values.containerSecurityContext }} {{ .Values.primary.podSecurityContext }}";
    [
        None,
        Some(Chart {
            app_version: Some("1.27.0-alpine".into()),
            ..Chart::default()
        }),
        Some(Chart {
            app_version: Some("17.6.0".into()),
            lists_images: true,
            uses_bitnami_common: true,
            ..Chart::default()
        }),
        Some(Chart {
            values_read: ValuesRead::from_templates([template]),
            ..Chart::default()
        }),
    ]
});

/// Target `dockerfile`: the adapter never panics, its ranges index the text, and a file it
/// parses migrates to a file that parses and that a second run leaves alone.
///
/// Bytes that are not UTF-8 are replaced (`from_utf8_lossy`), so every input is some text;
/// valid UTF-8 comes through unchanged.
pub fn dockerfile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let file = match dockerfile::parse(&text) {
        Ok(file) => file,
        Err(error) => {
            assert_error_line(&text, error.line);
            return;
        }
    };
    for instruction in file.instructions() {
        if let Some(range) = file.instruction_range(instruction) {
            assert_range(&text, &range, "an instruction range");
        }
        if let Some((offset, _)) = file.line_before(instruction) {
            assert_range(&text, &(offset..offset), "a line-before offset");
        }
        if let Some((offset, _)) = file.line_after(instruction) {
            assert_range(&text, &(offset..offset), "a line-after offset");
        }
    }
    assert_migrates(FileKind::Dockerfile, &text, Context::new(&MINIMUS));
}

/// Target `yaml`: the span layer never panics; every node, anchor and tag range indexes the
/// text and covers what it claims to; replacing a scalar or adding keys gives text that parses
/// to the same tree with exactly that change; a file that parses migrates, as Helm values and as
/// each other YAML kind, to a file that parses and that a second run leaves alone.
pub fn yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let stream = match yaml::parse(&text) {
        Ok(stream) => stream,
        Err(error) => {
            assert_error_line(&text, error.line);
            return;
        }
    };
    for document in &stream.documents {
        check_node(&text, &document.root, None);
    }
    check_scalar_edits(&stream);
    check_insertions(&stream);
    for kind in [
        FileKind::HelmValues,
        FileKind::Compose,
        FileKind::Manifest,
        FileKind::Kustomization,
        FileKind::Workflow,
    ] {
        assert_migrates(kind, &text, Context::new(&MINIMUS));
    }
}

/// Target `image_ref`: reference parsing never panics and prints back what it read; the tag
/// policy gives a valid tag that the policy keeps as it is.
pub fn image_ref(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = image_ref::normalize_repository(&text);
    let _ = image_ref::replacement_tag(Some(&text));
    let Ok(reference) = ImageRef::parse(&text) else {
        return;
    };
    assert_eq!(reference.to_string(), text, "parse(s).to_string() != s");
    let _ = reference.canonical_repository();
    let _ = reference.has_variables();
    let new_tag = image_ref::replacement_tag(reference.tag.as_deref()).tag;
    let rewritten = ImageRef {
        tag: Some(new_tag.clone()),
        digest: None,
        ..reference.clone()
    };
    let reparsed = ImageRef::parse(&rewritten.to_string()).unwrap_or_else(|error| {
        panic!("the rewritten reference {rewritten} does not parse: {error}")
    });
    assert_eq!(
        reparsed, rewritten,
        "the rewritten reference reads back differently"
    );
    assert_eq!(
        image_ref::replacement_tag(Some(&new_tag)).tag,
        new_tag,
        "the tag policy changes its own output"
    );
}

/// Target `pipeline`: one file through everything a run does to it. The first byte chooses
/// the file kind (bit 0), the catalog (bits 1–2: Minimus, Chainguard, DHI, Minimus with the
/// testdata catalogs) and, for values files, the chart (bits 3–4); the rest is the file.
///
/// Besides the per-format properties: every rule's edits index the text and never overlap
/// within a fix, the fix engine applies exactly the fixes that do not conflict and hands back
/// sorted, non-overlapping edits, replaying the fix loop pass by pass gives the text
/// `migrate_text` gives, and the patch applied to the input gives the output.
pub fn pipeline(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // Bit 0: a Dockerfile or YAML; bits 5-7: which kind of YAML (Helm values unless they say).
    let kind = match (selector & 1, selector >> 5) {
        (0, _) => FileKind::Dockerfile,
        (_, 1) => FileKind::Compose,
        (_, 2) => FileKind::Manifest,
        (_, 3) => FileKind::Kustomization,
        (_, 4) => FileKind::Workflow,
        _ => FileKind::HelmValues,
    };
    let catalog = &CATALOGS[usize::from(selector >> 1 & 3)];
    let chart = match kind {
        FileKind::HelmValues => CHARTS[usize::from(selector >> 3 & 3)].as_ref(),
        _ => None,
    };
    let context = Context::new(catalog).with_chart(chart);
    let text = String::from_utf8_lossy(rest);
    if !parses(kind, &text) {
        let error = migrate_text(kind, &text, context).expect_err("an unparsable file migrated");
        assert_error_line(&text, error.line());
        render_reports(kind, catalog, Err(error));
        return;
    }
    let (replayed, written) = replay_fix_loop(kind, &text, context);
    let migration = assert_migrates(kind, &text, context);
    assert_eq!(replayed, migration.text, "the replayed fix loop differs");
    if kind == FileKind::HelmValues {
        check_values_oracle(&text, &migration.text, &written);
    }
    let patch = (migration.text != text).then(|| unified_diff("fuzz/file", &text, &migration.text));
    if let Some(patch) = &patch {
        assert_eq!(
            apply_patch(&text, patch),
            migration.text,
            "the patch does not turn the input into the output:\n{patch}"
        );
    }
    let changes = FileChanges {
        findings: migration.findings,
        patch: patch.map(|text| Patch {
            text,
            reach: Reach::Here,
        }),
        skipped: None,
    };
    render_reports(kind, catalog, Ok(changes));
}

/// The run report of one file, rendered in every `--format` but the patch: none may panic.
fn render_reports(kind: FileKind, catalog: &Catalog, outcome: Result<FileChanges, FileError>) {
    let files = [FileReport {
        path: PathBuf::from("fuzz/file"),
        display_path: "fuzz/file".into(),
        kind,
        outcome,
    }];
    let report = Report::new(Mode::DryRun, vec!["fuzz".into()], catalog, &files, &[]);
    serde_json::to_string(&report).expect("the JSON report serializes");
    markdown::render(&report);
    serde_json::to_string(&sarif::log(&report)).expect("the SARIF log serializes");
}

/// Migrates a text that parses and checks the result: no internal error, findings on lines of
/// the input, output that parses, and a second run that changes nothing.
pub(crate) fn assert_migrates(kind: FileKind, text: &str, context: Context<'_>) -> Migration {
    let migration = migrate_text(kind, text, context)
        .unwrap_or_else(|error| panic!("a {kind:?} that parses did not migrate: {error}"));
    let lines = line_count(text);
    for finding in &migration.findings {
        assert!(
            (1..=lines).contains(&finding.line),
            "finding on line {} of {lines}: {}",
            finding.line,
            finding.message
        );
        // A change belongs to a fixed finding; a fix several findings share is recorded as
        // one change, on the first of them.
        assert!(
            finding.fixed || finding.change.is_none(),
            "{}",
            finding.message
        );
        if let Some(change) = &finding.change {
            assert!(
                (1..=lines).contains(&change.line),
                "change on line {}",
                change.line
            );
        }
    }
    assert!(
        parses(kind, &migration.text),
        "the output does not parse:\n{}",
        migration.text
    );
    let again = migrate_text(kind, &migration.text, context)
        .unwrap_or_else(|error| panic!("the output did not migrate: {error}"));
    assert_eq!(
        again.text, migration.text,
        "a second run changed the output"
    );
    assert!(
        again.findings.iter().all(|finding| !finding.fixed),
        "a second run fixed something"
    );
    migration
}

/// The fix loop of src/migrate.rs, pass by pass, checking every rule's edits and what the fix
/// engine does with them. Returns the final text and the replacement text of every edit made.
fn replay_fix_loop(kind: FileKind, original: &str, context: Context<'_>) -> (String, Vec<String>) {
    let mut text = original.to_owned();
    let mut written = Vec::new();
    for _ in 0..MAX_PASSES {
        // A pass that does not parse ends the replay; `assert_migrates` reports it.
        let diagnostics = match kind {
            FileKind::Dockerfile => dockerfile::parse(&text)
                .ok()
                .map(|file| rules::check_dockerfile(&file, context)),
            FileKind::HelmValues => yaml::parse(&text)
                .ok()
                .map(|stream| rules::check_helm_values(&stream, context)),
            other => yaml::parse(&text)
                .ok()
                .map(|stream| rules::check_yaml(other, &stream, context)),
        };
        let Some(diagnostics) = diagnostics else {
            return (text, written);
        };
        for diagnostic in &diagnostics {
            assert_range(&text, &diagnostic.range, "a diagnostic range");
        }
        let fixes: Vec<&Fix> = diagnostics.iter().filter_map(|d| d.fix.as_ref()).collect();
        for fix in &fixes {
            check_fix(&text, fix);
        }
        let applied = fix::apply_fixes(&text, &fixes);
        for pair in applied.edits.windows(2) {
            assert!(
                pair[0].range.end <= pair[1].range.start && !pair[0].conflicts_with(&pair[1]),
                "the engine applied overlapping edits {:?} and {:?}",
                pair[0],
                pair[1]
            );
        }
        for (index, fix) in fixes.iter().enumerate() {
            if applied.applied.contains(&index) {
                assert!(
                    fix.edits().iter().all(|edit| applied.edits.contains(edit)),
                    "an applied fix lost an edit: {fix:?}"
                );
            } else {
                assert!(
                    fix.edits().iter().any(|edit| {
                        applied.edits.iter().any(|taken| edit.conflicts_with(taken))
                    }),
                    "a fix that conflicts with nothing was skipped: {fix:?}"
                );
            }
        }
        if applied.applied.is_empty() {
            return (text, written);
        }
        written.extend(applied.edits.into_iter().map(|edit| edit.replacement));
        text = applied.text;
    }
    (text, written)
}

/// An independent reading of a values file's change: `serde_yaml_ng` (libyaml's grammar, not
/// hardport's parser) reads the input and the output, and every scalar it reads differently
/// must hold a value some edit wrote, and none may disappear. This catches an edit made at the
/// wrong place, which hardport's own parser, misreading the same way twice, would not.
/// Texts `serde_yaml_ng` cannot read as one document are left to the other checks.
fn check_values_oracle(before: &str, after: &str, written: &[String]) {
    let (Ok(old), Ok(new)) = (
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(before),
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(after),
    ) else {
        return;
    };
    let (mut old_leaves, mut new_leaves) = (Vec::new(), Vec::new());
    leaves(&old, String::new(), &mut old_leaves);
    leaves(&new, String::new(), &mut new_leaves);
    let written: Vec<String> = written.iter().map(|text| scalar_text(text)).collect();
    for (path, value) in &old_leaves {
        let now = new_leaves.iter().find(|(new_path, _)| new_path == path);
        match now {
            None => panic!("`{path}` ({value:?}) disappeared:\n{after}"),
            Some((_, now)) if now != value => assert!(
                written.contains(now),
                "`{path}` became {now:?}, which no edit wrote ({written:?}):\n{after}"
            ),
            Some(_) => {}
        }
    }
}

/// Every scalar below `value` with its path (keys and indexes in YAML's debug form).
fn leaves(value: &serde_yaml_ng::Value, path: String, out: &mut Vec<(String, String)>) {
    use serde_yaml_ng::Value;
    match value {
        Value::Mapping(mapping) => {
            for (key, value) in mapping {
                leaves(value, format!("{path}.{key:?}"), out);
            }
        }
        Value::Sequence(items) => {
            for (index, value) in items.iter().enumerate() {
                leaves(value, format!("{path}[{index}]"), out);
            }
        }
        Value::Tagged(tagged) => leaves(&tagged.value, path, out),
        Value::Null => out.push((path, String::new())),
        Value::Bool(value) => out.push((path, value.to_string())),
        Value::Number(value) => out.push((path, value.to_string())),
        Value::String(value) => out.push((path, value.clone())),
    }
}

/// The value a scalar edit's replacement text writes: without the space `fill_empty` puts
/// before it and without its quotes.
fn scalar_text(replacement: &str) -> String {
    let text = replacement.trim();
    let quoted = |quote: char| text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote);
    if quoted('"') {
        text[1..text.len() - 1]
            .replace("\\\"", "\"")
            .replace("\\\\", "\\")
    } else if quoted('\'') {
        text[1..text.len() - 1].replace("''", "'")
    } else {
        text.to_owned()
    }
}

/// A rule's fix: every edit indexes the text, and no two edits of it overlap.
fn check_fix(text: &str, fix: &Fix) {
    let edits = fix.edits();
    for (position, edit) in edits.iter().enumerate() {
        assert_range(text, &edit.range, "an edit range");
        for other in &edits[position + 1..] {
            assert!(
                !edit.conflicts_with(other),
                "one fix holds overlapping edits {edit:?} and {other:?}"
            );
        }
    }
}

fn parses(kind: FileKind, text: &str) -> bool {
    match kind {
        FileKind::Dockerfile => dockerfile::parse(text).is_ok(),
        _ => yaml::parse(text).is_ok(),
    }
}

/// Lines as `path:line` counts them: one more than the line feeds.
fn line_count(text: &str) -> usize {
    text.bytes().filter(|&byte| byte == b'\n').count() + 1
}

fn assert_error_line(text: &str, line: Option<usize>) {
    if let Some(line) = line {
        assert!(
            (1..=line_count(text)).contains(&line),
            "a parse error on line {line} of {}",
            line_count(text)
        );
    }
}

fn assert_range(text: &str, range: &Range<usize>, what: &str) {
    assert!(
        range.start <= range.end
            && range.end <= text.len()
            && text.is_char_boundary(range.start)
            && text.is_char_boundary(range.end),
        "{what} {range:?} does not index the text of {} bytes",
        text.len()
    );
}

/// Checks a node and everything below it (keys included): its ranges index the text, lie
/// within its parent's, and cover the token the node says it is.
fn check_node(text: &str, node: &Node, parent: Option<&Range<usize>>) {
    assert_range(text, &node.range, "a node range");
    if let Some(parent) = parent {
        assert!(
            parent.start <= node.range.start && node.range.end <= parent.end,
            "node range {:?} outside its parent's {parent:?}",
            node.range
        );
    }
    let source = &text[node.range.clone()];
    if let Some(anchor) = node.anchor() {
        assert_range(text, &anchor.range, "an anchor range");
        assert_eq!(&text[anchor.range.clone()], format!("&{}", anchor.text));
    }
    if let Some(tag) = node.tag() {
        assert_range(text, &tag.range, "a tag range");
        assert_eq!(text[tag.range.clone()], tag.text);
    }
    match &node.kind {
        NodeKind::Scalar(scalar) => {
            let delimited = |open: char, close: char| {
                source.len() >= 2 && source.starts_with(open) && source.ends_with(close)
            };
            let covered = match scalar.style {
                ScalarStyle::Plain => source.contains(['\n', '\r']) || source == scalar.value,
                ScalarStyle::SingleQuoted => delimited('\'', '\''),
                ScalarStyle::DoubleQuoted => delimited('"', '"'),
                ScalarStyle::Literal => source.starts_with('|'),
                ScalarStyle::Folded => source.starts_with('>'),
            };
            assert!(
                covered,
                "{:?} scalar {:?} spans {source:?}",
                scalar.style, scalar.value
            );
        }
        NodeKind::Alias(alias) => assert_eq!(source, format!("*{}", alias.name)),
        NodeKind::Mapping(mapping) => {
            check_layout(text, node, mapping.layout, '{', '}');
            for entry in &mapping.entries {
                check_node(text, &entry.key, Some(&node.range));
                check_node(text, &entry.value, Some(&node.range));
            }
        }
        NodeKind::Sequence(sequence) => {
            check_layout(text, node, sequence.layout, '[', ']');
            if matches!(sequence.layout, Layout::Block { .. }) {
                assert!(source.starts_with('-'), "block sequence spans {source:?}");
            }
            for item in &sequence.items {
                check_node(text, item, Some(&node.range));
            }
        }
    }
}

/// A block collection's `append_at` is a line start (or the end of the text) past its last
/// entry; a flow collection that starts with its bracket ends with the matching one.
fn check_layout(text: &str, node: &Node, layout: Layout, open: char, close: char) {
    let source = &text[node.range.clone()];
    match layout {
        Layout::Block { append_at, .. } => {
            assert_range(text, &(append_at..append_at), "append_at");
            assert!(
                append_at >= node.range.end,
                "append_at {append_at} inside {:?}",
                node.range
            );
            // YAML ends lines at `\r` too.
            assert!(
                append_at == text.len() || text[..append_at].ends_with(['\n', '\r']),
                "append_at {append_at} is not a line start"
            );
        }
        Layout::Flow => {
            if source.starts_with(open) {
                assert!(source.ends_with(close), "flow collection spans {source:?}");
            }
        }
    }
}

/// What `visit` sees of one node, for comparing trees before and after an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    Scalar(String),
    Mapping(usize),
    Sequence(usize),
    Alias(String),
}

fn shape(node: &Node) -> Shape {
    match &node.kind {
        NodeKind::Scalar(scalar) => Shape::Scalar(scalar.value.clone()),
        NodeKind::Mapping(mapping) => Shape::Mapping(mapping.entries.len()),
        NodeKind::Sequence(sequence) => Shape::Sequence(sequence.items.len()),
        NodeKind::Alias(alias) => Shape::Alias(alias.name.clone()),
    }
}

/// One node as `visit` sees it.
struct Visited<'s> {
    document: usize,
    /// The dotted path; empty for the root, and also for a key that is the empty string.
    path: String,
    is_root: bool,
    node: &'s Node,
}

impl Visited<'_> {
    /// The dotted path of the entry `key` of this mapping.
    fn child(&self, key: &str) -> String {
        match self.is_root {
            true => key.to_owned(),
            false => format!("{}.{key}", self.path),
        }
    }
}

/// Every document's nodes in visit order.
fn flatten<'s>(stream: &'s Stream<'_>) -> Vec<Visited<'s>> {
    let mut nodes = Vec::new();
    for (document, parsed) in stream.documents.iter().enumerate() {
        parsed.visit(&mut |path, node| {
            nodes.push(Visited {
                document,
                path: path.to_string(),
                is_root: path.0.is_empty(),
                node,
            });
        });
    }
    nodes
}

/// What a tree edit is compared by: every node's document, path and shape, in visit order.
fn outline(stream: &Stream<'_>) -> Vec<(usize, String, Shape)> {
    flatten(stream)
        .into_iter()
        .map(|visited| (visited.document, visited.path, shape(visited.node)))
        .collect()
}

/// Applies edits that belong together to `text` and parses the result.
fn edited(text: &str, edits: Vec<Edit>, what: &str) -> String {
    let fix = Fix::new(edits).expect("at least one edit");
    check_fix(text, &fix);
    let applied = fix::apply_fixes(text, &[&fix]);
    assert_eq!(
        applied.applied,
        [0],
        "{what}: the engine refused the edit {fix:?}"
    );
    if let Err(error) = yaml::parse(&applied.text) {
        panic!(
            "{what} gives text that does not parse ({error}):\n{}",
            applied.text
        );
    }
    applied.text
}

/// Replacing a scalar value gives a tree that differs in that value only.
fn check_scalar_edits(stream: &Stream<'_>) {
    let before = outline(stream);
    let scalars = flatten(stream)
        .into_iter()
        .enumerate()
        .filter(|(_, visited)| matches!(visited.node.kind, NodeKind::Scalar(_)))
        .take(EDITS_PER_INPUT);
    for (position, Visited { path, node, .. }) in scalars {
        let values = [
            NewValue::string("fuzz: 'a' \"b\" #c"),
            NewValue::string("1.10"),
            NewValue::int(1001),
        ];
        for value in values {
            let Ok(edit) = stream.replace_scalar(node, &value) else {
                continue;
            };
            let what = format!("setting `{path}` to {value:?}");
            let text = edited(stream.text(), vec![edit], &what);
            let after = outline(&yaml::parse(&text).expect("checked by edited"));
            let mut expected = before.clone();
            let (NewValue::String(new) | NewValue::Native(new)) = &value else {
                unreachable!("only scalar values are tried")
            };
            expected[position].2 = Shape::Scalar(new.clone());
            assert_eq!(
                after, expected,
                "{what} changed the tree otherwise:\n{text}"
            );
        }
    }
}

/// Adding keys to a mapping gives a tree with those keys after its last entry and nothing else
/// changed.
fn check_insertions(stream: &Stream<'_>) {
    let before = outline(stream);
    let entries = [
        ("fuzzKey".to_owned(), NewValue::int(7)),
        (
            "fuzzMap".to_owned(),
            NewValue::Mapping(vec![("k".to_owned(), NewValue::string("a: b"))]),
        ),
    ];
    let mappings = flatten(stream)
        .into_iter()
        .enumerate()
        .filter(|(_, visited)| matches!(visited.node.kind, NodeKind::Mapping(_)))
        .take(EDITS_PER_INPUT);
    for (position, mapping) in mappings {
        let (document, node) = (mapping.document, mapping.node);
        let Ok(edits) = stream.insert_entries(node, &entries) else {
            continue;
        };
        let what = format!("adding keys to `{}`", mapping.path);
        let text = edited(stream.text(), edits, &what);
        let after = outline(&yaml::parse(&text).expect("checked by edited"));
        let child = |key: &str| mapping.child(key);
        let mut expected = before.clone();
        expected[position].2 = Shape::Mapping(node.entries().len() + entries.len());
        let end = position + subtree_len(node);
        expected.splice(
            end..end,
            [
                (document, child("fuzzKey"), Shape::Scalar("7".into())),
                (document, child("fuzzMap"), Shape::Mapping(1)),
                (document, child("fuzzMap.k"), Shape::Scalar("a: b".into())),
            ],
        );
        assert_eq!(
            after, expected,
            "{what} changed the tree otherwise:\n{text}"
        );
    }
}

/// How many nodes `visit` sees from `node` down (keys are not visited).
fn subtree_len(node: &Node) -> usize {
    1 + node
        .entries()
        .iter()
        .map(|entry| subtree_len(&entry.value))
        .chain(node.items().iter().map(subtree_len))
        .sum::<usize>()
}

/// Applies a unified diff the way `git apply` reads it (lines end at `\n` only) and returns
/// the new text; panics when a context or removed line does not match the old text.
pub(crate) fn apply_patch(old: &str, patch: &str) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let mut lines = patch.split_inclusive('\n').peekable();
    for header in ["diff --git ", "--- ", "+++ "] {
        let line = lines.next().unwrap_or_default();
        assert!(
            line.starts_with(header),
            "expected `{header}`, found {line:?}"
        );
    }
    let mut out = String::new();
    let mut next = 0;
    while let Some(line) = lines.next() {
        if let Some(hunk) = line.strip_prefix("@@ -") {
            let range = hunk.split(' ').next().unwrap_or_default();
            let (start, count) = range.split_once(',').unwrap_or((range, "1"));
            let start: usize = start.parse().expect("hunk start");
            let first = if count == "0" { start } else { start - 1 };
            assert!(
                first >= next && first <= old_lines.len(),
                "hunk at line {start}"
            );
            out.extend(old_lines[next..first].iter().copied());
            next = first;
            continue;
        }
        let mut content = &line[1..];
        if lines.peek().is_some_and(|line| line.starts_with('\\')) {
            lines.next();
            content = content
                .strip_suffix('\n')
                .expect("a line before `\\ No newline`");
        }
        match &line[..1] {
            "+" => out.push_str(content),
            marker => {
                assert_eq!(old_lines.get(next), Some(&content), "patch line {line:?}");
                next += 1;
                if marker == " " {
                    out.push_str(content);
                }
            }
        }
    }
    out.extend(old_lines[next..].iter().copied());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patch_reader_applies_what_unified_diff_writes() {
        let (old, new) = ("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nB\nc\nd\ne\nf\ng\nh\ni");
        assert_eq!(apply_patch(old, &unified_diff("f", old, new)), new);
    }

    /// The inputs of the findings that were skipped until their fixes (docs/fuzzing.md), and
    /// of the one found after, now pass every property, with the skips gone.
    #[test]
    fn the_fixed_findings_pass_every_property() {
        for input in [
            &b"? a:\n"[..],
            b"?\n",
            b"?\n::",
            b"{?}",
            b"?\r-",
            b"?\n- a\n: b\n",
            b"? a\n: b\nc: 1\n",
            b":\t\xff",
            b"a:\t/x\nb:\t\"y\"\n",
            b"a:\n  b: 1\n  n: >+\n\npx: {}\n",
        ] {
            yaml(input);
            pipeline(&[&[1], input].concat());
        }
        pipeline(b"\x00FROM node\r");
        pipeline(b"\x00# a\rb\nFROM node\n");
    }

    #[test]
    #[should_panic(expected = "which no edit wrote")]
    fn the_values_oracle_sees_a_value_no_edit_wrote() {
        let written = ["reg.mini.dev/nginx:1.27".to_owned()];
        check_values_oracle(
            "image: nginx:1.27\n",
            "image: nreg.mini.dev/nginx:1.27\n",
            &written,
        );
    }

    #[test]
    fn the_values_oracle_accepts_the_values_edits_wrote() {
        let written = ["\"1.10\"".to_owned(), " 1000".to_owned()];
        check_values_oracle(
            "tag: 1.9\nuser:\nname: x\n",
            "tag: \"1.10\"\nuser: 1000\nname: x\n",
            &written,
        );
    }
}
