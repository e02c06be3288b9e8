//! `--format sarif`: the findings as SARIF 2.1.0, the format code-scanning services (GitHub code
//! scanning among them) read.
//!
//! One run; `tool.driver.rules` lists every rule hardport has, whether or not it fired, with its
//! summary and its severity as default level; each finding is a result pointing at its file
//! (a URI relative to the directory hardport ran in, like every path of the report but the
//! patch's) and line. Files that could not be migrated are tool execution notifications, not
//! results: they say nothing about the code, only that hardport could not read it; so are files
//! skipped (templates of Dockerfiles), at level `note`, which do not make the execution
//! unsuccessful.

use std::fmt::Write as _;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnostic::{Severity, message_text};
use crate::report::Report;
use crate::rules::{Rule, docs};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const VERSION: &str = "2.1.0";
/// The base the relative URIs resolve against: the checkout root, by the usual convention.
const SOURCE_ROOT: &str = "%SRCROOT%";

#[derive(Debug, Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Debug, Serialize)]
pub struct Run {
    pub tool: Tool,
    pub invocations: Vec<Invocation>,
    pub results: Vec<SarifResult>,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    pub information_uri: &'static str,
    pub rules: Vec<ReportingDescriptor>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub id: &'static str,
    pub short_description: Text,
    pub full_description: Text,
    /// The rule's documentation, as `hardport explain` prints it.
    pub help: Help,
    pub help_uri: String,
    pub default_configuration: Configuration,
}

/// A rule's documentation: plain text, and the Markdown code scanning renders.
#[derive(Debug, Serialize)]
pub struct Help {
    pub text: String,
    pub markdown: String,
}

#[derive(Debug, Serialize)]
pub struct Configuration {
    pub level: Level,
}

#[derive(Debug, Serialize)]
pub struct Text {
    pub text: String,
}

/// SARIF's levels; hardport's `info` is SARIF's `note`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl From<Severity> for Level {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
            Severity::Info => Level::Note,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub execution_successful: bool,
    pub tool_execution_notifications: Vec<Notification>,
}

#[derive(Debug, Serialize)]
pub struct Notification {
    pub level: Level,
    pub message: Text,
    pub locations: Vec<Location>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: &'static str,
    pub rule_index: usize,
    pub level: Level,
    pub message: Text,
    pub locations: Vec<Location>,
    /// A fingerprint that stays when lines move: code scanning matches results across runs by it.
    pub partial_fingerprints: BTreeMap<&'static str, String>,
    /// The finding's fix as byte edits of the original file, when it has its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<SarifFix>,
    pub properties: ResultProperties,
}

/// A fix: what it does, and its replacements in one file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifFix {
    pub description: Text,
    pub artifact_changes: Vec<ArtifactChange>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactChange {
    pub artifact_location: ArtifactLocation,
    pub replacements: Vec<Replacement>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replacement {
    pub deleted_region: ByteRegion,
    pub inserted_content: Text,
}

/// A region of the original file by bytes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ByteRegion {
    pub byte_offset: usize,
    pub byte_length: usize,
}

/// hardport's own facts about a result, in SARIF's property bag.
#[derive(Debug, Serialize)]
pub struct ResultProperties {
    /// Whether hardport changed the file for this finding.
    pub fixed: bool,
    pub suggestion: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
}

/// Where hardport and its documentation live (Cargo.toml's `repository`).
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// The key of [`SarifResult::partial_fingerprints`]: the finding's id in the JSON report.
const FINGERPRINT: &str = "hardportFinding/v1";

/// The SARIF log of one run.
pub fn log(report: &Report<'_>) -> Log {
    let rules = Rule::ALL.iter().map(|rule| descriptor(*rule)).collect();
    let mut results = Vec::new();
    for file in &report.files {
        for finding in &file.findings {
            results.push(SarifResult {
                rule_id: finding.rule.code(),
                rule_index: Rule::ALL
                    .iter()
                    .position(|rule| *rule == finding.rule)
                    .unwrap_or_default(),
                level: finding.severity.into(),
                message: Text {
                    text: message_text(finding.message, finding.suggestion),
                },
                locations: vec![location(file.path, Some(finding.line))],
                partial_fingerprints: BTreeMap::from([(FINGERPRINT, finding.id.clone())]),
                fixes: finding
                    .fix
                    .as_ref()
                    .map(|fix| SarifFix {
                        description: Text {
                            text: finding.message.to_owned(),
                        },
                        artifact_changes: vec![ArtifactChange {
                            artifact_location: artifact_location(file.path),
                            replacements: fix
                                .edits
                                .iter()
                                .map(|edit| Replacement {
                                    deleted_region: ByteRegion {
                                        byte_offset: edit.start,
                                        byte_length: edit.end - edit.start,
                                    },
                                    inserted_content: Text {
                                        text: edit.replacement.to_owned(),
                                    },
                                })
                                .collect(),
                        }],
                    })
                    .into_iter()
                    .collect(),
                properties: ResultProperties {
                    fixed: finding.fixed,
                    suggestion: finding.suggestion.map(str::to_owned),
                },
            });
        }
    }
    let notifications: Vec<Notification> = report
        .files
        .iter()
        .filter_map(|file| {
            let error = file.error.as_ref()?;
            Some(Notification {
                level: Level::Error,
                message: Text {
                    text: error.message.clone(),
                },
                locations: vec![location(file.path, error.line)],
            })
        })
        .chain(report.walk_errors.iter().map(|error| Notification {
            level: Level::Error,
            message: Text {
                text: error.message.clone(),
            },
            locations: vec![location(&error.path, None)],
        }))
        .chain(report.files.iter().filter_map(|file| {
            let skipped = file.skipped.as_ref()?;
            Some(Notification {
                level: Level::Note,
                message: Text {
                    text: format!("skipped: {}", skipped.reason),
                },
                locations: vec![location(file.path, skipped.line)],
            })
        }))
        .collect();
    let successful = notifications
        .iter()
        .all(|notification| notification.level != Level::Error);
    Log {
        schema: SCHEMA,
        version: VERSION,
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: report.tool.name,
                    version: report.tool.version,
                    semantic_version: report.tool.version,
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            invocations: vec![Invocation {
                execution_successful: successful,
                tool_execution_notifications: notifications,
            }],
            results,
        }],
    }
}

/// A rule as code scanning lists it: its summary, what `hardport explain` says of it, and where
/// README documents it.
fn descriptor(rule: Rule) -> ReportingDescriptor {
    let explained = docs::explain(rule);
    ReportingDescriptor {
        id: rule.code(),
        short_description: Text {
            text: rule.summary().to_owned(),
        },
        full_description: Text {
            text: format!(
                "{}: {} ({}, {}). `hardport explain {}` prints its documentation.",
                rule.code(),
                rule.summary(),
                rule.severity(),
                if rule.fixes() {
                    "fixes"
                } else {
                    "reports only"
                },
                rule.code()
            ),
        },
        help: Help {
            markdown: explained.clone(),
            text: explained,
        },
        help_uri: format!("{INFORMATION_URI}#rules"),
        default_configuration: Configuration {
            level: rule.severity().into(),
        },
    }
}

fn artifact_location(path: &str) -> ArtifactLocation {
    let (uri, uri_base_id) = artifact_uri(path);
    ArtifactLocation { uri, uri_base_id }
}

fn location(path: &str, line: Option<usize>) -> Location {
    Location {
        physical_location: PhysicalLocation {
            artifact_location: artifact_location(path),
            region: line.map(|start_line| Region { start_line }),
        },
    }
}

/// A file's URI: relative to the source root for a relative path (percent-encoded, `/`
/// separated), a `file://` URI for an absolute one (a file outside the directory hardport ran
/// in), whose base is then nothing.
fn artifact_uri(path: &str) -> (String, Option<&'static str>) {
    let encoded = percent_encode(path);
    if path.starts_with('/') {
        (format!("file://{encoded}"), None)
    } else {
        (encoded, Some(SOURCE_ROOT))
    }
}

/// Percent-encode every byte a URI path segment may not hold literally (RFC 3986 unreserved
/// characters and `/` stay).
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_relative_and_are_percent_encoded() {
        assert_eq!(
            artifact_uri("web/Dockerfile"),
            ("web/Dockerfile".to_owned(), Some(SOURCE_ROOT))
        );
        assert_eq!(
            artifact_uri("my app/Dockerfile.é"),
            ("my%20app/Dockerfile.%C3%A9".to_owned(), Some(SOURCE_ROOT))
        );
        assert_eq!(
            artifact_uri("/srv/x/Dockerfile"),
            ("file:///srv/x/Dockerfile".to_owned(), None)
        );
    }

    #[test]
    fn severities_map_to_sarif_levels() {
        assert_eq!(Level::from(Severity::Info), Level::Note);
        assert_eq!(Level::from(Severity::Warning), Level::Warning);
        assert_eq!(Level::from(Severity::Error), Level::Error);
    }
}
