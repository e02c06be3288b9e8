//! The machine-readable report (`--format json`): one versioned object per run, and the model
//! the other report formats ([`crate::markdown`], [`crate::sarif`]) render.
//!
//! The schema is `docs/report.schema.json`, described in `docs/report.md`. Schema version 1;
//! within a version fields are only ever added, so a consumer must ignore fields it does not
//! know. A field removed or changing meaning raises the version.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::diagnostic::Severity;
use crate::diff::display_path;
use crate::discovery::{FileKind, WalkError};
use crate::migrate::{FileReport, Finding, SourceRange};
use crate::rules::Rule;

pub const SCHEMA_VERSION: u32 = 2;

/// What the run did with the changes it computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    DryRun,
    Write,
    Check,
}

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub schema_version: u32,
    pub tool: Tool,
    pub mode: Mode,
    /// The catalogs loaded, in layering order.
    pub catalogs: Vec<String>,
    /// The catalog entries the run's image rewrites used, each with the source of its facts.
    pub sources: Vec<SourceEntry>,
    pub summary: Summary,
    pub files: Vec<FileEntry<'a>>,
    /// Paths named or reached that could not be walked (missing, unreadable directories); each
    /// counts in `summary.files_failed`.
    pub walk_errors: Vec<WalkErrorEntry>,
}

/// A path the walk could not read.
#[derive(Debug, Serialize)]
pub struct WalkErrorEntry {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// A catalog entry a rewrite used: where it comes from and what backs its facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceEntry {
    pub entry: String,
    /// The catalog the entry was loaded from.
    pub catalog: String,
    /// The entry's `source`: where its image facts come from.
    pub source: String,
}

/// Totals over a run, as the stderr summary line and the JSON report show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every file found, skipped ones included.
    pub files_scanned: usize,
    pub files_changed: usize,
    pub files_failed: usize,
    /// Files found and left alone without an error: templates of Dockerfiles.
    pub files_skipped: usize,
    /// Fixes applied: findings that record a change (a fix several findings share counts once).
    pub changes: usize,
    pub findings: SeverityCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl SeverityCounts {
    fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.error += 1,
            Severity::Warning => self.warning += 1,
            Severity::Info => self.info += 1,
        }
    }
}

/// What one file contributes to the totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTotals {
    /// Fixes applied: findings that record a change (a fix several findings share counts once).
    pub changes: usize,
    pub findings: SeverityCounts,
}

impl FileTotals {
    pub fn of(findings: &[Finding]) -> FileTotals {
        let mut totals = FileTotals::default();
        for finding in findings {
            totals.changes += usize::from(finding.change.is_some());
            totals.findings.add(finding.severity);
        }
        totals
    }
}

impl Summary {
    /// Totals over the files migrated; a path the walk could not read counts as failed.
    pub fn of(files: &[FileReport], walk_errors: &[WalkError]) -> Summary {
        let mut summary = Summary {
            files_failed: walk_errors.len(),
            ..Summary::default()
        };
        for file in files {
            summary.add(file);
        }
        summary
    }

    /// Count one more migrated file.
    pub fn add(&mut self, file: &FileReport) {
        self.files_scanned += 1;
        let changes = match &file.outcome {
            Ok(changes) => changes,
            Err(_) => {
                self.files_failed += 1;
                return;
            }
        };
        self.files_changed += usize::from(changes.patch.is_some());
        self.files_skipped += usize::from(changes.skipped.is_some());
        let totals = FileTotals::of(&changes.findings);
        self.changes += totals.changes;
        self.findings.error += totals.findings.error;
        self.findings.warning += totals.findings.warning;
        self.findings.info += totals.findings.info;
    }
}

#[derive(Debug, Serialize)]
pub struct FileEntry<'a> {
    pub path: &'a str,
    pub kind: FileKind,
    pub changed: bool,
    /// The image references migrated, each from its public image to its final replacement.
    pub images: Vec<ImageEntry<'a>>,
    /// What each applied fix changed, in the order the fixes were applied per line.
    pub changes: Vec<ChangeEntry<'a>>,
    pub findings: Vec<FindingEntry<'a>>,
    pub patch: Option<&'a str>,
    pub error: Option<ErrorEntry>,
    /// Why the file was left alone, when it was skipped (a template of a Dockerfile).
    pub skipped: Option<SkippedEntry<'a>>,
}

/// Why a file was skipped, and the line that shows it when one does.
#[derive(Debug, Serialize)]
pub struct SkippedEntry<'a> {
    pub line: Option<usize>,
    pub reason: &'a str,
}

/// One image reference migrated: what it was and what it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageEntry<'a> {
    pub line: usize,
    pub before: &'a str,
    pub after: &'a str,
    /// The catalog entry that supplied the replacement.
    pub entry: &'a str,
}

/// The lines one applied fix changed.
#[derive(Debug, Serialize)]
pub struct ChangeEntry<'a> {
    pub rule: Rule,
    pub line: usize,
    pub before: &'a str,
    pub after: &'a str,
}

#[derive(Debug, Serialize)]
pub struct FindingEntry<'a> {
    /// Stable across runs while the finding stays: see [`finding_id`].
    pub id: String,
    pub rule: Rule,
    pub severity: Severity,
    pub path: &'a str,
    pub line: usize,
    /// The text it points at in the original file; `null` for a finding about the whole file.
    pub range: Option<SourceRange>,
    pub message: &'a str,
    pub suggestion: Option<&'a str>,
    pub fixed: bool,
    /// The edits of its fix on the original file's bytes, when it has its own.
    pub fix: Option<FixEntry<'a>>,
}

/// A fix as byte edits of the original file, applied together.
#[derive(Debug, Serialize)]
pub struct FixEntry<'a> {
    pub edits: Vec<EditEntry<'a>>,
}

/// Replace the bytes `start..end` of the original file with `replacement`.
#[derive(Debug, Serialize)]
pub struct EditEntry<'a> {
    pub start: usize,
    pub end: usize,
    pub replacement: &'a str,
}

/// A finding's id: a hash of its rule, file and message (its numbers left out: a line or count
/// the message names moves with the code) and of which of the findings with those three it is
/// (`seen` counts them, in the order of the file), not of its line, so it stays while code
/// above it moves. 32 hex digits.
pub fn finding_id(
    seen: &mut BTreeMap<String, usize>,
    rule: Rule,
    path: &str,
    message: &str,
) -> String {
    // Numbers in a message may be lines or counts that move with the code: left out.
    let mut without_numbers = String::with_capacity(message.len());
    for c in message.chars() {
        match c.is_ascii_digit() {
            true if without_numbers.ends_with('#') => {}
            true => without_numbers.push('#'),
            false => without_numbers.push(c),
        }
    }
    let message = without_numbers;
    let key = format!("{}\0{path}\0{message}", rule.code());
    let occurrence = seen.entry(key.clone()).or_default();
    *occurrence += 1;
    let digest = Sha256::digest(format!("{key}\0{occurrence}").as_bytes());
    digest[..16]
        .iter()
        .fold(String::with_capacity(32), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    pub line: Option<usize>,
    pub message: String,
}

impl<'a> Report<'a> {
    pub fn new(
        mode: Mode,
        catalogs: Vec<String>,
        catalog: &Catalog,
        reports: &'a [FileReport],
        walk_errors: &[WalkError],
    ) -> Report<'a> {
        let files: Vec<FileEntry<'a>> = reports.iter().map(FileEntry::from).collect();
        let mut used: Vec<&str> = files
            .iter()
            .flat_map(|file| file.images.iter().map(|image| image.entry))
            .collect();
        used.sort_unstable();
        used.dedup();
        let sources = used
            .into_iter()
            .filter_map(|name| catalog.entries().iter().find(|entry| entry.name == name))
            .map(|entry| SourceEntry {
                entry: entry.name.clone(),
                catalog: entry.origin.to_string(),
                source: entry.source.clone(),
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            mode,
            catalogs,
            sources,
            summary: Summary::of(reports, walk_errors),
            files,
            walk_errors: walk_errors
                .iter()
                .map(|error| WalkErrorEntry {
                    path: display_path(&error.path),
                    message: error.message.clone(),
                })
                .collect(),
        }
    }
}

impl<'a> From<&'a FileReport> for FileEntry<'a> {
    fn from(file: &'a FileReport) -> Self {
        let path = file.display_path.as_str();
        let (findings, patch, error, skipped): (&[Finding], _, _, _) = match &file.outcome {
            Ok(changes) => (
                &changes.findings,
                changes.patch.as_ref().map(|patch| patch.text.as_str()),
                None,
                changes.skipped.as_ref().map(|skipped| SkippedEntry {
                    line: skipped.line,
                    reason: &skipped.reason,
                }),
            ),
            Err(error) => (
                &[],
                None,
                Some(ErrorEntry {
                    line: error.line(),
                    message: error.to_string(),
                }),
                None,
            ),
        };
        FileEntry {
            path,
            kind: file.kind,
            changed: patch.is_some(),
            images: migrated_images(findings),
            changes: findings
                .iter()
                .filter_map(|finding| {
                    let change = finding.change.as_ref()?;
                    Some(ChangeEntry {
                        rule: finding.rule,
                        line: change.line,
                        before: &change.before,
                        after: &change.after,
                    })
                })
                .collect(),
            findings: {
                let mut seen = BTreeMap::new();
                findings
                    .iter()
                    .map(|finding| FindingEntry {
                        id: finding_id(&mut seen, finding.rule, path, &finding.message),
                        rule: finding.rule,
                        severity: finding.severity,
                        path,
                        line: finding.line,
                        range: finding.range,
                        message: &finding.message,
                        suggestion: finding.suggestion.as_deref(),
                        fixed: finding.fixed,
                        fix: (!finding.edits.is_empty()).then(|| FixEntry {
                            edits: finding
                                .edits
                                .iter()
                                .map(|edit| EditEntry {
                                    start: edit.range.start,
                                    end: edit.range.end,
                                    replacement: &edit.replacement,
                                })
                                .collect(),
                        }),
                    })
                    .collect()
            },
            patch,
            error,
            skipped,
        }
    }
}

/// The image references a file's fixes rewrote, one row per reference: a rewrite of a
/// reference an earlier rewrite produced on the same line (`base-image`, then `dev-variant`)
/// continues that row, so the row goes from the public image to the final replacement.
fn migrated_images(findings: &[Finding]) -> Vec<ImageEntry<'_>> {
    let mut rows: Vec<ImageEntry<'_>> = Vec::new();
    for finding in findings {
        let Some(image) = &finding.image else {
            continue;
        };
        match rows
            .iter_mut()
            .find(|row| row.line == finding.line && row.after == image.from)
        {
            Some(row) => row.after = &image.to,
            None => rows.push(ImageEntry {
                line: finding.line,
                before: &image.from,
                after: &image.to,
                entry: &image.entry,
            }),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_id_ignores_the_numbers_of_its_message_but_not_its_words() {
        let id = |message: &str| finding_id(&mut BTreeMap::new(), Rule::MissingFact, "D", message);
        assert_eq!(
            id("stage at line 4 runs as 1000"),
            id("stage at line 12 runs as 7")
        );
        assert_ne!(
            id("stage at line 4 runs as root"),
            id("stage at line 4 runs as 1000")
        );
        let mut seen = BTreeMap::new();
        let first = finding_id(&mut seen, Rule::MissingFact, "D", "same");
        assert_ne!(
            first,
            finding_id(&mut seen, Rule::MissingFact, "D", "same"),
            "the second"
        );
    }
    use crate::diagnostic::ImageRewrite;
    use crate::migrate::Change;

    fn rewrite(rule: Rule, line: usize, from: &str, to: &str) -> Finding {
        Finding {
            rule,
            severity: rule.severity(),
            line,
            message: format!("`{from}` → `{to}`"),
            suggestion: None,
            fixed: true,
            change: None,
            image: Some(Box::new(ImageRewrite {
                from: from.into(),
                to: to.into(),
                entry: "node".into(),
            })),
            unread_images: Vec::new(),
            unmapped_image: None,
            range: None,
            edits: Vec::new(),
        }
    }

    #[test]
    fn a_rewrite_of_a_rewritten_reference_continues_its_row() {
        let findings = [
            rewrite(Rule::BaseImage, 1, "node:20", "reg/node:20"),
            rewrite(Rule::DevVariant, 1, "reg/node:20", "reg/node:20-dev"),
            rewrite(Rule::BaseImage, 5, "node:20", "reg/node:20"),
        ];
        let rows = migrated_images(&findings);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].before, rows[0].after),
            ("node:20", "reg/node:20-dev")
        );
        assert_eq!((rows[1].line, rows[1].after), (5, "reg/node:20"));
    }

    #[test]
    fn file_totals_count_fixes_and_severities() {
        let mut report_only = rewrite(Rule::DigestDropped, 2, "a", "b");
        report_only.fixed = false;
        let change = |finding: Finding| Finding {
            change: Some(Change {
                line: finding.line,
                before: "a\n".into(),
                after: "b\n".into(),
            }),
            ..finding
        };
        // The second finding carries the same (shared) fix as the first: no change of its own.
        let totals = FileTotals::of(&[
            change(rewrite(Rule::BaseImage, 1, "a", "b")),
            rewrite(Rule::UserRoot, 1, "a", "b"),
            report_only,
        ]);
        assert_eq!(totals.changes, 1);
        assert_eq!(
            totals.findings,
            SeverityCounts {
                error: 0,
                warning: 1,
                info: 2
            }
        );
    }
}
