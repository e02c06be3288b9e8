//! The pipeline for one file: read → parse → rules → fixes → check → patch (and write).
//!
//! The fix loop follows ruff and `cargo fix`: rules run on the text, non-conflicting fixes are
//! applied, and the rules run again on the result until nothing changes. The last pass proves
//! the output parses and is stable, so a second `hardport` run is a no-op by construction; a
//! rule that breaks the file or never settles is an internal error and the file is not touched.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::atomic_write;
use crate::config::RuleScope;
use crate::diagnostic::{Diagnostic, Edit, Fix, ImageRewrite, Severity, message_text};
use crate::diff::{display_path, unified_diff};
use crate::discovery::names::last_extension;
use crate::discovery::{FileKind, Seen, SourceFile, is_template_name, template};
use crate::dockerfile;
use crate::fix::{Applied, Trace, apply_fixes, splice};
use crate::helm::{
    self,
    chart::{ChartCache, LazyChart},
    verify::{Difference, Verifier},
};
use crate::input::{self, InputError};
use crate::kubernetes;
use crate::line_index::LineIndex;
use crate::patch_path::{PatchBase, Reach, Unwritable};
use crate::rules::suppression::Suppressions;
use crate::rules::{self, Context, Rule};
use crate::scope::Scope;
use crate::yaml;

/// Passes after which a file that still changes is declared not to converge.
const MAX_PASSES: usize = 8;

/// One finding, located in the original file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// 1-based line in the original file. A finding about text an earlier pass inserted points
    /// at the line the insertion was made before.
    pub line: usize,
    pub message: String,
    /// What a person should do about it, when the rule says.
    pub suggestion: Option<String>,
    /// Whether hardport changed the file for this finding.
    pub fixed: bool,
    /// The lines this finding's fix changed; `Some` exactly when `fixed`.
    pub change: Option<Change>,
    /// The image reference the fix rewrote, for rules that rewrite one.
    pub image: Option<Box<ImageRewrite>>,
    /// Images (canonical, with their tags) whose facts would settle this finding.
    pub unread_images: Vec<String>,
    /// For `unmapped-image`: the repository no catalog entry replaces.
    pub unmapped_image: Option<String>,
    /// The text the finding points at, in the original file; `None` for a finding made outside
    /// the rules (`chart-metadata`, `--verify`, `unused-suppression`).
    pub range: Option<SourceRange>,
    /// The edits of its fix, on the original file's bytes: for a fix the first pass made (a
    /// fix of text an earlier fix wrote has none; the patch holds it), empty otherwise.
    pub edits: Vec<Edit>,
}

/// A span of the original file: byte offsets, and 1-based lines and columns (columns count
/// characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceRange {
    pub start: Position,
    pub end: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

impl Position {
    fn at(text: &str, lines: &LineIndex, byte: usize) -> Position {
        let byte = byte.min(text.len());
        let line = lines.line(byte);
        let start = lines.line_start(line).unwrap_or(0).min(byte);
        let column = text
            .get(start..byte)
            .map_or(1, |before| before.chars().count() + 1);
        Position { line, column, byte }
    }
}

impl Finding {
    /// A finding that changes nothing, made outside the rules' fix loop.
    pub fn report(rule: Rule, line: usize, message: String) -> Finding {
        Finding {
            rule,
            severity: rule.severity(),
            line,
            message,
            suggestion: None,
            fixed: false,
            change: None,
            image: None,
            unread_images: Vec::new(),
            unmapped_image: None,
            range: None,
            edits: Vec::new(),
        }
    }

    /// This finding with what a person should do about it.
    pub fn suggest(self, suggestion: &str) -> Finding {
        Finding {
            suggestion: Some(suggestion.to_owned()),
            ..self
        }
    }

    /// The message followed by the suggestion, as one line of text.
    pub fn text(&self) -> String {
        message_text(&self.message, self.suggestion.as_deref())
    }
}

/// The lines one applied fix changed, as the pass that applied it saw them.
///
/// A line two rules change appears in two changes, the second one's `before` being the first
/// one's `after`: each change shows what one rule did, in the order the fix loop did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// 1-based line in the original file where the changed lines start (for lines inserted
    /// between two lines: the line they were inserted before).
    pub line: usize,
    /// The complete lines the fix touched, line endings included; empty when it only inserted
    /// whole lines.
    pub before: String,
    /// The same lines after the fix; empty when it only deleted whole lines.
    pub after: String,
}

/// The migrated text of one file and what was found on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub text: String,
    pub findings: Vec<Finding>,
}

/// Why one file could not be migrated. The file is left untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Not read as text: unreadable, too large, binary, not UTF-8, a link.
    #[error("{0}; left untouched")]
    Input(#[from] InputError),
    #[error("cannot parse as {}: {message}", what.describe())]
    Parse {
        what: FileKind,
        line: Option<usize>,
        message: String,
    },
    #[error("internal error, file left untouched: {0}")]
    Internal(String),
    #[error("cannot write: {0}; left untouched")]
    Write(String),
}

impl FileError {
    /// The 1-based line the error points at, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            FileError::Parse { line, .. } => *line,
            FileError::Input(error) => error.line(),
            _ => None,
        }
    }
}

/// Migrate the text of one file of `kind`.
pub fn migrate_text(
    kind: FileKind,
    text: &str,
    context: Context<'_>,
) -> Result<Migration, FileError> {
    let suppressions = Suppressions::parse(kind, text);
    let mut migration = match kind {
        FileKind::Dockerfile => fix_loop(text, &suppressions, |current| {
            let file = dockerfile::parse(current).map_err(|error| FileError::Parse {
                what: kind,
                line: error.line,
                message: error.message,
            })?;
            Ok(selected(
                rules::check_dockerfile(&file, context),
                kind,
                context,
            ))
        }),
        FileKind::HelmValues => fix_loop(text, &suppressions, |current| {
            let stream = parse_yaml(kind, current)?;
            Ok(selected(
                rules::check_helm_values(&stream, context),
                kind,
                context,
            ))
        }),
        FileKind::Compose | FileKind::Manifest | FileKind::Kustomization | FileKind::Workflow => {
            fix_loop(text, &suppressions, |current| {
                let stream = parse_yaml(kind, current)?;
                Ok(selected(
                    rules::check_yaml(kind, &stream, context),
                    kind,
                    context,
                ))
            })
        }
    }?;
    let unused = suppressions.unused(context.rules);
    if !unused.is_empty() {
        migration.findings.extend(unused);
        migration.findings.sort_by_key(|finding| finding.line);
    }
    Ok(migration)
}

fn parse_yaml(kind: FileKind, text: &str) -> Result<yaml::Stream<'_>, FileError> {
    yaml::parse(text).map_err(|error| FileError::Parse {
        what: kind,
        line: error.line,
        message: error.message,
    })
}

/// The diagnostics of the rules the run selected: a rule left out neither reports nor fixes.
/// Without the rule that rewrites a file of `kind`'s images, no rule runs: the others follow
/// the image to its replacement (its user, entrypoint, paths), and on the public image they
/// would be wrong.
fn selected(
    mut diagnostics: Vec<Diagnostic>,
    kind: FileKind,
    context: Context<'_>,
) -> Vec<Diagnostic> {
    if !context.rules.contains(rules::image_rewrite(kind)) {
        return Vec::new();
    }
    diagnostics.retain(|diagnostic| context.rules.contains(diagnostic.rule));
    diagnostics
}

/// Run `check` and apply its fixes until the text stops changing.
fn fix_loop(
    original: &str,
    suppressions: &Suppressions,
    check: impl Fn(&str) -> Result<Vec<Diagnostic>, FileError>,
) -> Result<Migration, FileError> {
    let original_lines = LineIndex::new(original);
    let mut text = Cow::Borrowed(original);
    let mut findings = Vec::new();
    // The edits of every pass so far, to trace later passes' positions back to the original.
    let mut passes: Vec<Trace> = Vec::new();
    for pass in 0..MAX_PASSES {
        // Where an offset of this pass's text was in the original.
        let back = |offset: usize| {
            passes
                .iter()
                .rev()
                .fold(offset, |offset, trace| trace.back(offset))
        };
        let original_line = |offset: usize| original_lines.line(back(offset));
        let mut diagnostics = check(&text).map_err(|error| match (pass, error) {
            (0, error) => error,
            (_, error) => FileError::Internal(format!(
                "the rules' changes made the file unparsable ({error}); rules applied: {}",
                rule_list(&findings)
            )),
        })?;
        if !suppressions.is_empty() {
            diagnostics.retain(|diagnostic| {
                !suppressions.suppresses(diagnostic.rule, original_line(diagnostic.range.start))
            });
        }
        let fixes: Vec<(usize, &Fix)> = diagnostics
            .iter()
            .enumerate()
            .filter_map(|(index, diagnostic)| diagnostic.fix.as_ref().map(|fix| (index, fix)))
            .collect();
        // Most passes have nothing to apply: the text is not copied then.
        let applied = if fixes.is_empty() {
            Applied::default()
        } else {
            apply_fixes(
                &text,
                &fixes.iter().map(|(_, fix)| *fix).collect::<Vec<_>>(),
            )
        };
        let mut fixed = vec![false; diagnostics.len()];
        for &applied in &applied.applied {
            fixed[fixes[applied].0] = true;
        }
        // A fix several diagnostics share (all `user-root` lines of a file) is one change. A
        // fix's identity is its address: every fix of this pass exists before the loop and no
        // new one is made in it, so no two fixes can share one.
        let mut recorded: HashSet<usize> = HashSet::new();
        for (index, diagnostic) in diagnostics.into_iter().enumerate() {
            let is_fixed = fixed[index];
            // Later passes see the file again: only their new changes are news.
            if pass == 0 && diagnostic.fix.is_none() || is_fixed {
                let first = diagnostic
                    .fix
                    .as_ref()
                    .filter(|fix| is_fixed && recorded.insert(fix.identity()));
                let change =
                    first
                        .map(|fix| changed_lines(&text, fix))
                        .map(|(start, before, after)| Change {
                            line: original_line(start),
                            before,
                            after,
                        });
                let range = SourceRange {
                    start: Position::at(original, &original_lines, back(diagnostic.range.start)),
                    end: Position::at(original, &original_lines, back(diagnostic.range.end)),
                };
                let edits = match (pass, first) {
                    (0, Some(fix)) => fix.edits().to_vec(),
                    _ => Vec::new(),
                };
                findings.push(Finding {
                    rule: diagnostic.rule,
                    severity: diagnostic.severity(),
                    line: original_line(diagnostic.range.start),
                    message: diagnostic.message,
                    suggestion: diagnostic.suggestion,
                    fixed: is_fixed,
                    change,
                    image: diagnostic.image.filter(|_| is_fixed),
                    unread_images: diagnostic.unread_images,
                    unmapped_image: diagnostic.unmapped_image,
                    range: Some(range),
                    edits,
                });
            }
        }
        if applied.applied.is_empty() {
            findings.sort_by_key(|finding| finding.line);
            return Ok(Migration {
                text: text.into_owned(),
                findings,
            });
        }
        passes.push(Trace::new(applied.edits));
        text = Cow::Owned(applied.text);
    }
    Err(FileError::Internal(format!(
        "the rules kept changing the file after {MAX_PASSES} passes; rules involved: {}",
        rule_list(&findings)
    )))
}

/// The complete lines of `text` that `fix` touches: where they start, and their text before
/// and after the fix.
///
/// An edit inside a line takes in the whole line; lines inserted or deleted whole stay alone
/// (`before` or `after` is empty); a replacement that leaves a line unterminated takes in the
/// line it now joins.
fn changed_lines(text: &str, fix: &Fix) -> (usize, String, String) {
    let edits = fix.edits();
    let first = edits.iter().map(|edit| edit.range.start).min().unwrap_or(0);
    let last = edits.iter().map(|edit| edit.range.end).max().unwrap_or(0);
    let start = text[..first].rfind('\n').map_or(0, |newline| newline + 1);
    let line_end = |from: usize| text[from..].find('\n').map_or(text.len(), |i| from + i + 1);
    let mut end = if last == 0 || text.as_bytes()[last - 1] == b'\n' {
        last
    } else {
        line_end(last)
    };
    let shifted: Vec<Edit> = edits
        .iter()
        .map(|edit| {
            Edit::replace(
                edit.range.start - start..edit.range.end - start,
                edit.replacement.clone(),
            )
        })
        .collect();
    let shifted: Vec<&Edit> = shifted.iter().collect();
    loop {
        let after = splice(&text[start..end], &shifted);
        if after.is_empty() || after.ends_with('\n') || end == text.len() {
            return (start, text[start..end].to_owned(), after);
        }
        end = line_end(end);
    }
}

fn rule_list(findings: &[Finding]) -> String {
    let mut rules: Vec<&str> = findings
        .iter()
        .filter(|finding| finding.fixed)
        .map(|finding| finding.rule.code())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    if rules.is_empty() {
        "none".into()
    } else {
        rules.join(", ")
    }
}

/// Whether to write the migrated text back.
#[derive(Debug, Clone, Copy)]
pub enum WriteMode<'a> {
    /// Compute the patch only.
    DryRun,
    /// Replace changed files in place, atomically, where the scope allows.
    Write(&'a Scope),
}

/// How [`process_file`] reads and writes a file, beyond migrating its text.
#[derive(Debug, Clone, Copy)]
pub struct FileOptions<'a> {
    pub mode: WriteMode<'a>,
    /// Files larger than this many bytes are reported, not read
    /// ([`input::DEFAULT_MAX_FILE_SIZE`] unless the user says otherwise).
    pub max_file_size: u64,
    /// The charts read so far in this run, shared by the values files of one chart.
    pub charts: &'a ChartCache,
    /// The run's kustomizations, which decide the image names a manifest must keep.
    pub kustomizations: &'a kubernetes::Kustomizations,
    /// Where the paths of the run's patches start from.
    pub patch_base: &'a PatchBase,
    /// With `--verify`: renders each chart whose `values.yaml` changes, before and after.
    pub verify: Option<&'a Verifier>,
    /// Which rules run on each file.
    pub rules: &'a RuleScope,
}

/// The outcome for one file, small enough to keep for a whole repository: texts are dropped,
/// the patch is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub path: PathBuf,
    /// The path as messages and reports show it: relative to the current directory,
    /// `/`-separated (the patch names the file as [`crate::patch_path`] says).
    pub display_path: String,
    pub kind: FileKind,
    pub outcome: Result<FileChanges, FileError>,
}

impl FileReport {
    /// The report of a file that could not be migrated.
    pub fn failed(file: &SourceFile, error: FileError) -> FileReport {
        FileReport {
            path: file.path.clone(),
            display_path: display_path(&file.path),
            kind: file.kind,
            outcome: Err(error),
        }
    }

    /// The file's patch, when it changes.
    pub fn patch(&self) -> Option<&str> {
        Some(&self.outcome.as_ref().ok()?.patch.as_ref()?.text)
    }

    /// What `git apply`, run in the current directory, does with the file's patch.
    pub fn reach(&self) -> Option<Reach> {
        Some(self.outcome.as_ref().ok()?.patch.as_ref()?.reach)
    }
}

/// A file's patch in `git apply` form, and what `git apply` run in the current directory does
/// with it (the path it names the file by was worked out once, for both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub text: String,
    pub reach: Reach,
}

/// What migrating one file produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChanges {
    pub findings: Vec<Finding>,
    /// The unified diff in `git apply` form, when the file changes.
    pub patch: Option<Patch>,
    /// Why the file was not migrated, when it was skipped (then it has no findings and no
    /// patch). Skipping is not an error: the exit code stays 0.
    pub skipped: Option<Skipped>,
}

impl FileChanges {
    fn unchanged(findings: Vec<Finding>) -> FileChanges {
        FileChanges {
            findings,
            patch: None,
            skipped: None,
        }
    }

    fn skipped(skipped: Skipped) -> FileChanges {
        FileChanges {
            findings: Vec::new(),
            patch: None,
            skipped: Some(skipped),
        }
    }
}

/// Why a file was left alone without being an error: it is a template of a Dockerfile, not one
/// Docker can build (see [`crate::discovery::template`]), the same for a file named on the
/// command line; or it would change but no patch can name it ([`Unwritable`]), which in every
/// mode leaves it untouched, so the dry run still shows what `--write` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The line that shows it, when one does.
    pub line: Option<usize>,
    pub reason: String,
    /// Whether the file would have changed: a change the run does not make, which a person
    /// must hear of even when skipped files are not listed.
    pub hides_change: bool,
}

impl Skipped {
    const TEMPLATE: &str = "a Dockerfile template, not a Dockerfile Docker can build; migrate \
                            the Dockerfiles generated from it, and the template by hand";

    /// A file whose name ends in a template extension (`Dockerfile.template`).
    fn template_name(path: &Path) -> Option<Skipped> {
        let name = path.file_name()?.to_str()?;
        let extension = last_extension(name).filter(|_| is_template_name(name))?;
        Some(Skipped {
            line: None,
            reason: format!("the name ends in `.{extension}`: {}", Self::TEMPLATE),
            hides_change: false,
        })
    }

    /// A file whose text is a template's: a placeholder in a `FROM` line, or in the line where
    /// the file stops parsing (`failed_at`, when it does not parse).
    fn template_text(text: &str, failed_at: Option<usize>) -> Option<Skipped> {
        let (placeholder, place) = match template::placeholder_in_from(text) {
            Some(placeholder) => (placeholder, "a `FROM` line"),
            None => (
                template::placeholder_at(text, failed_at?)?,
                "the line that does not parse",
            ),
        };
        Some(Skipped {
            line: Some(placeholder.line),
            reason: format!(
                "the placeholder `{}` in {place}: {}",
                placeholder.text,
                Self::TEMPLATE
            ),
            hides_change: false,
        })
    }

    /// A manifest whose opening comments say it is generated ("DO NOT EDIT").
    fn generated(line: usize) -> Skipped {
        Skipped {
            line: Some(line),
            reason: "generated (its header says DO NOT EDIT): a change here is lost when it is generated again; migrate what it is generated from".to_owned(),
            hides_change: false,
        }
    }

    /// A YAML file the walk took as a possible manifest that does not parse: test data of
    /// broken YAML, or YAML another parser reads more leniently. hardport is not a YAML linter,
    /// and this file was never named as one of its kinds.
    fn unparsed_candidate(line: Option<usize>, message: &str) -> Skipped {
        Skipped {
            line,
            reason: format!(
                "looks like Kubernetes manifests but does not parse as YAML ({message}); left alone (name the file to see it as an error)"
            ),
            hides_change: false,
        }
    }

    /// A values file of a remote dependency's copy under a parent chart's `charts/`.
    fn vendored(parent: &Path) -> Skipped {
        Skipped {
            line: None,
            reason: format!(
                "a dependency of {} as `helm dependency build` vendored it (the next build replaces it): its images are migrated through that chart's values",
                display_path(&parent.join(crate::helm::chart::CHART_FILE))
            ),
            hides_change: false,
        }
    }

    /// A file that would change, whose path no patch can hold.
    fn unwritable(why: &Unwritable) -> Skipped {
        Skipped {
            line: None,
            reason: format!("{why}; it is left unchanged"),
            hides_change: true,
        }
    }
}

/// Why the values file `path` is left alone when it belongs to the copy of a remote dependency
/// vendored under a parent chart (`<parent>/charts/<name>/values.yaml`): the parent's values
/// migrate it (`subchart-image`), and migrating the copy too would make the parent's changes
/// depend on which file was written first.
///
/// Only when the parent's values are migrated: it has a `values.yaml`, and it is not itself a
/// skipped vendored copy (a dependency's dependency is migrated in place).
fn vendored_copy(path: &Path, charts: &ChartCache) -> Option<Skipped> {
    let subchart = chart_dir(path);
    let name = subchart.file_name()?.to_str()?;
    let charts_dir = subchart.parent()?;
    if charts_dir.file_name()? != "charts" {
        return None;
    }
    let parent = charts_dir.parent()?;
    let parent_values = parent.join("values.yaml");
    if !parent_values.is_file() || vendored_copy(&parent_values, charts).is_some() {
        return None;
    }
    let parent_chart = charts.chart(parent);
    let parent_chart = parent_chart.get()?;
    parent_chart
        .dependencies
        .iter()
        .any(|dependency| dependency.name == name && dependency.is_remote())
        .then(|| Skipped::vendored(parent))
}

/// Whether the chart of the values file `path` lists dependencies.
fn has_dependencies(path: &Path, charts: &ChartCache) -> bool {
    let chart = charts.chart(&chart_dir(path));
    chart
        .get()
        .is_some_and(|chart| !chart.dependencies.is_empty())
}

/// Whether `path` is a chart's own values file, the one `--verify` renders the chart with
/// (Helm loads `values.yaml`, not `values.yml`).
fn is_chart_values(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == "values.yaml")
}

/// A `--verify` difference as a finding of the values file.
fn verify_finding(difference: Difference) -> Finding {
    match difference {
        Difference::NoLongerRenders(why) => Finding::report(
            Rule::VerifyRender,
            1,
            format!("the chart no longer renders after the migration: {why}"),
        ),
        Difference::DoesNotRender(why) => Finding::report(
            Rule::Verify,
            1,
            format!("cannot verify: the chart does not render before the migration: {why}"),
        ),
        Difference::Container(what) => Finding::report(Rule::Verify, 1, what)
            .suggest("check the values the chart reads for this container"),
    }
}

/// Migrate one file and, in [`WriteMode::Write`], replace it atomically when it changes.
///
/// `None` for a YAML file the walk found that turns out to be no manifest (see
/// [`kubernetes::looks_like_manifest`]): it is none of hardport's files, and is not reported.
pub fn process_file(
    file: &SourceFile,
    context: Context<'_>,
    options: FileOptions<'_>,
) -> Option<FileReport> {
    let outcome = match migrate_file(file, context, options) {
        Ok(None) => return None,
        Ok(Some(changes)) => Ok(changes),
        Err(error) => Err(error),
    };
    Some(FileReport {
        path: file.path.clone(),
        display_path: display_path(&file.path),
        kind: file.kind,
        outcome,
    })
}

fn migrate_file(
    file: &SourceFile,
    context: Context<'_>,
    options: FileOptions<'_>,
) -> Result<Option<FileChanges>, FileError> {
    let (path, kind) = (file.path.as_path(), file.kind);
    let context = context.with_rules(options.rules.for_file(path));
    let is_dockerfile = kind == FileKind::Dockerfile;
    if let Some(skipped) = Skipped::template_name(path).filter(|_| is_dockerfile) {
        return Ok(Some(FileChanges::skipped(skipped)));
    }
    let read = match file.seen {
        Seen::Regular => input::read_walked_text(path, options.max_file_size),
        Seen::Unchecked => input::read_text(path, options.max_file_size, file.links),
    };
    // A YAML file the walk took only for what its text might be: unless that text reads as a
    // manifest, it is not one of ours, also when it cannot be read as text at all.
    let candidate = is_candidate(file);
    let original = match read {
        Ok(text) if candidate && !kubernetes::looks_like_manifest(&text) => return Ok(None),
        Ok(text) => text,
        Err(_) if candidate => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    migrate_text_of(file, &original, context, options).map(Some)
}

/// Whether the walk took `file` only as a possible manifest: no name made it one of ours, and
/// it was not named on the command line.
fn is_candidate(file: &SourceFile) -> bool {
    file.kind == FileKind::Manifest && file.seen == Seen::Regular
}

/// [`migrate_file`] once the file's text is read.
fn migrate_text_of(
    file: &SourceFile,
    original: &str,
    context: Context<'_>,
    options: FileOptions<'_>,
) -> Result<FileChanges, FileError> {
    let (path, kind) = (file.path.as_path(), file.kind);
    let is_dockerfile = kind == FileKind::Dockerfile;
    // Only a Dockerfile can be a Dockerfile template: a values file's text is not searched.
    if let Some(skipped) = is_dockerfile
        .then(|| Skipped::template_text(original, None))
        .flatten()
    {
        return Ok(FileChanges::skipped(skipped));
    }
    let verify = options
        .verify
        .filter(|_| kind == FileKind::HelmValues && is_chart_values(path));
    // A values file that names no image needs no rule, unless its chart has dependencies:
    // an umbrella's `postgresql: {auth: …}` is where the subchart's images move.
    if kind == FileKind::HelmValues
        && verify.is_none()
        && !helm::may_name_an_image(original)
        && !has_dependencies(path, options.charts)
    {
        return Ok(FileChanges::unchanged(Vec::new()));
    }
    if kind == FileKind::HelmValues
        && let Some(skipped) = vendored_copy(path, options.charts)
    {
        return Ok(FileChanges::skipped(skipped));
    }
    if kind == FileKind::Manifest {
        if let Some(line) = kubernetes::generated_notice(original) {
            return Ok(FileChanges::skipped(Skipped::generated(line)));
        }
        // Every rule of a manifest starts from a container's image.
        if !helm::may_name_an_image(original) {
            return Ok(FileChanges::unchanged(Vec::new()));
        }
    }
    let chart = (kind == FileKind::HelmValues).then(|| options.charts.chart(&chart_dir(path)));
    let context = match &chart {
        Some(chart) => context.with_lazy_chart(chart),
        None => context,
    };
    let kustomized = match kind {
        FileKind::Manifest => Some(options.kustomizations.around_manifest(path)),
        FileKind::Kustomization => Some(options.kustomizations.around_kustomization(path)),
        _ => None,
    };
    let context = match &kustomized {
        Some(kustomized) => context.with_kustomized(kustomized),
        None => context,
    };
    let mut migration = match migrate_text(kind, original, context) {
        Err(FileError::Parse { line, message, .. }) if is_candidate(file) => {
            return Ok(FileChanges::skipped(Skipped::unparsed_candidate(
                line, &message,
            )));
        }
        Err(error @ FileError::Parse { line, .. }) => {
            return match is_dockerfile
                .then(|| Skipped::template_text(original, line))
                .flatten()
            {
                Some(skipped) => Ok(FileChanges::skipped(skipped)),
                None => Err(error),
            };
        }
        other => other?,
    };
    if let Some(error) = chart.as_ref().and_then(LazyChart::error) {
        migration.findings.insert(
            0,
            Finding::report(
                Rule::ChartMetadata,
                1,
                format!(
                    "cannot read the chart's {error}; rules that need the chart (appVersion, Bitnami detection, templates) ran without it"
                ),
            ),
        );
    }
    if let Some(verifier) = verify
        && chart.as_ref().and_then(LazyChart::get).is_some()
    {
        let differences =
            verifier.verify(&chart_dir(path), original, &migration.text, context.catalog);
        migration
            .findings
            .extend(differences.into_iter().map(verify_finding));
    }
    migration
        .findings
        .retain(|finding| context.rules.contains(finding.rule));
    if migration.text == original {
        return Ok(FileChanges::unchanged(migration.findings));
    }
    let located = match options.patch_base.locate(path) {
        Ok(located) => located,
        Err(why) => return Ok(FileChanges::skipped(Skipped::unwritable(&why))),
    };
    if let WriteMode::Write(scope) = options.mode {
        atomic_write::write(path, original.as_bytes(), migration.text.as_bytes(), scope)
            .map_err(|error| FileError::Write(error.to_string()))?;
    }
    Ok(FileChanges {
        patch: Some(Patch {
            text: unified_diff(located.path, original, &migration.text),
            reach: located.reach,
        }),
        findings: migration.findings,
        skipped: None,
    })
}

/// The directory of a values file's chart: the file's own (`.` for a bare file name).
fn chart_dir(values: &Path) -> PathBuf {
    match values.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests;
