//! The machine-readable report (`--format json`): one versioned object per run.
//!
//! Schema version 1 (fields are only ever added within a version):
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "tool": {"name": "hardport", "version": "0.1.0"},
//!   "mode": "dry-run" | "write" | "check",
//!   "catalogs": ["<embedded minimus catalog>", "my-catalog.yaml"],
//!   "summary": {"files_scanned": 3, "files_changed": 1, "files_failed": 0, "changes": 2,
//!               "findings": {"error": 0, "warning": 1, "info": 3}},
//!   "files": [{"path": "app/Dockerfile", "kind": "dockerfile", "changed": true,
//!              "findings": [{"rule": "base-image", "severity": "info", "line": 1,
//!                            "message": "…", "fixed": true}],
//!              "patch": "diff --git …" | null,
//!              "error": null | {"line": 3 | null, "message": "…"}}]
//! }
//! ```

use serde::Serialize;

use crate::diagnostic::Severity;
use crate::discovery::FileKind;
use crate::migrate::{FileReport, Finding};

pub const SCHEMA_VERSION: u32 = 1;

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
    pub catalogs: Vec<String>,
    pub summary: Summary,
    pub files: Vec<FileEntry<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// Totals over a run, as the stderr summary line and the JSON report show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_changed: usize,
    pub files_failed: usize,
    /// Findings whose fix was applied.
    pub changes: usize,
    pub findings: SeverityCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl Summary {
    pub fn of(files: &[FileReport]) -> Summary {
        let mut summary = Summary {
            files_scanned: files.len(),
            ..Summary::default()
        };
        for file in files {
            let changes = match &file.outcome {
                Ok(changes) => changes,
                Err(_) => {
                    summary.files_failed += 1;
                    continue;
                }
            };
            summary.files_changed += usize::from(changes.patch.is_some());
            for finding in &changes.findings {
                summary.changes += usize::from(finding.fixed);
                match finding.severity {
                    Severity::Error => summary.findings.error += 1,
                    Severity::Warning => summary.findings.warning += 1,
                    Severity::Info => summary.findings.info += 1,
                }
            }
        }
        summary
    }
}

#[derive(Debug, Serialize)]
pub struct FileEntry<'a> {
    pub path: &'a str,
    pub kind: FileKind,
    pub changed: bool,
    pub findings: &'a [Finding],
    pub patch: Option<&'a str>,
    pub error: Option<ErrorEntry>,
}

#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    pub line: Option<usize>,
    pub message: String,
}

impl<'a> Report<'a> {
    pub fn new(mode: Mode, catalogs: Vec<String>, files: &'a [FileReport]) -> Report<'a> {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            mode,
            catalogs,
            summary: Summary::of(files),
            files: files.iter().map(FileEntry::from).collect(),
        }
    }
}

impl<'a> From<&'a FileReport> for FileEntry<'a> {
    fn from(file: &'a FileReport) -> Self {
        let (findings, patch, error): (&[Finding], _, _) = match &file.outcome {
            Ok(changes) => (&changes.findings, changes.patch.as_deref(), None),
            Err(error) => (
                &[],
                None,
                Some(ErrorEntry {
                    line: error.line(),
                    message: error.to_string(),
                }),
            ),
        };
        FileEntry {
            path: &file.display_path,
            kind: file.kind,
            changed: patch.is_some(),
            findings,
            patch,
            error,
        }
    }
}
