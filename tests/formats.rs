//! The report formats from the real binary: the JSON report validates against
//! `docs/report.schema.json` and agrees with the files; SARIF has the structure code scanning
//! needs; the Markdown pull-request body matches its snapshot and survives hostile paths; the
//! patch is coloured only when asked; `--check` still prints every report.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use common::{case, case_name, cases, code, copy_to_temp, hardport, stderr, stdout};
use hardport::rules::Rule;

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("JSON")
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).expect("stdout is one JSON document")
}

/// Every validation error of `report`, one per line.
fn schema_errors(report: &Value) -> String {
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    validator
        .iter_errors(report)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_schema_is_a_valid_2020_12_schema_and_lists_every_rule() {
    let schema = schema();
    jsonschema::meta::validate(&schema).expect("valid against its meta-schema");
    let listed: BTreeSet<&str> = schema["$defs"]["rule"]["enum"]
        .as_array()
        .expect("rule enum")
        .iter()
        .map(|rule| rule.as_str().expect("string"))
        .collect();
    let rules: BTreeSet<&str> = Rule::ALL.iter().map(|rule| rule.code()).collect();
    assert_eq!(listed, rules);
}

#[test]
fn json_reports_of_every_case_and_mode_validate_against_the_schema() {
    for case in cases() {
        for args in [
            &["migrate", "--format", "json"][..],
            &["migrate", "--format", "json", "--check"],
        ] {
            let report = json(&hardport(&case, args));
            let errors = schema_errors(&report);
            assert!(errors.is_empty(), "{} {args:?}:\n{errors}", case.display());
        }
        let written = copy_to_temp(&case);
        let report = json(&hardport(
            written.path(),
            &["migrate", "--format", "json", "--write"],
        ));
        assert_eq!(report["mode"], "write");
        let errors = schema_errors(&report);
        assert!(errors.is_empty(), "{} --write:\n{errors}", case.display());
    }
}

#[test]
fn the_schema_rejects_what_hardport_does_not_write() {
    let mut report = json(&hardport(&case("demo"), &["migrate", "--format", "json"]));
    assert!(schema_errors(&report).is_empty());
    report["files"][0]["findings"][0]["severity"] = "fatal".into();
    assert!(!schema_errors(&report).is_empty());
    let mut report = json(&hardport(&case("demo"), &["migrate", "--format", "json"]));
    report["files"][0]["surprise"] = true.into();
    assert!(!schema_errors(&report).is_empty());
}

/// Each change's `before` is either the original file's text at its line or what an earlier
/// change on that line produced; totals agree with the lists.
#[test]
fn json_changes_quote_the_original_lines_and_totals_add_up() {
    for case in cases() {
        let report = json(&hardport(&case, &["migrate", "--format", "json"]));
        let mut changes_total = 0;
        for file in report["files"].as_array().expect("files") {
            let path = file["path"].as_str().expect("path");
            let Ok(original) = std::fs::read_to_string(case.join(path)) else {
                continue;
            };
            let lines: Vec<&str> = original.split_inclusive('\n').collect();
            let changes = file["changes"].as_array().expect("changes");
            changes_total += changes.len();
            let fixed = file["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|finding| finding["fixed"] == true)
                .count();
            // One change per fix; a fix several findings share (all `user-root` lines of a
            // file, all entrypoint edits of a stage) is one change.
            assert!(
                changes.len() <= fixed && changes.is_empty() == (fixed == 0),
                "{path}: {} changes for {fixed} fixed findings",
                changes.len()
            );
            for (index, change) in changes.iter().enumerate() {
                let line = change["line"].as_u64().expect("line") as usize;
                let before = change["before"].as_str().expect("before");
                let at_line = lines.get(line - 1..).unwrap_or_default().concat();
                let continues = changes[..index].iter().any(|earlier| {
                    earlier["line"] == change["line"]
                        && earlier["after"]
                            .as_str()
                            .is_some_and(|a| a.starts_with(before))
                });
                assert!(
                    at_line.starts_with(before) || continues,
                    "{path}:{line}: {before:?} is neither in the file nor an earlier change"
                );
                assert_ne!(change["before"], change["after"], "{path}:{line}");
            }
            for finding in file["findings"].as_array().expect("findings") {
                assert_eq!(finding["path"], file["path"]);
                assert!(finding["suggestion"].is_null() || finding["suggestion"] != "");
            }
        }
        assert_eq!(
            report["summary"]["changes"].as_u64(),
            Some(changes_total as u64),
            "{}",
            case.display()
        );
    }
}

#[test]
fn json_images_run_from_the_public_image_to_the_final_replacement_with_their_sources() {
    let report = json(&hardport(&case("demo"), &["migrate", "--format", "json"]));
    let files = report["files"].as_array().expect("files");
    let api = files
        .iter()
        .find(|file| file["path"] == "api/Dockerfile")
        .expect("api/Dockerfile");
    let patch = api["patch"].as_str().expect("patch");
    for image in api["images"].as_array().expect("images") {
        let before = image["before"].as_str().expect("before");
        let after = image["after"].as_str().expect("after");
        assert!(
            patch
                .lines()
                .any(|line| line.starts_with('-') && line.contains(before)),
            "{before} is in a removed line of the patch"
        );
        assert!(
            patch
                .lines()
                .any(|line| line.starts_with('+') && line.contains(after)),
            "{after} is in an added line of the patch"
        );
    }
    let used: BTreeSet<&str> = files
        .iter()
        .flat_map(|file| file["images"].as_array().expect("images"))
        .map(|image| image["entry"].as_str().expect("entry"))
        .collect();
    let sourced: BTreeSet<&str> = report["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|source| source["entry"].as_str().expect("entry"))
        .collect();
    assert_eq!(used, sourced);
    assert!(
        report["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .all(|source| !source["source"].as_str().unwrap_or_default().is_empty())
    );
}

/// Microsoft's SARIF multitool, which `.ci/run` puts on PATH: the SARIF 2.1.0 schema and
/// GitHub's ingestion rules (GH*), as code scanning applies them.
#[test]
fn sarif_passes_the_sarif_multitools_schema_and_github_rules() {
    if Command::new("Sarif.Multitool")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("Sarif.Multitool is not installed (npm @microsoft/sarif-multitool): not checked");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for case in cases() {
        let name = case_name(&case);
        let sarif = stdout(&hardport(&case, &["migrate", "--format", "sarif"]));
        let input = dir.path().join(format!("{name}.sarif"));
        std::fs::write(&input, sarif).expect("write");
        let out = dir.path().join(format!("{name}.validation.sarif"));
        let output = Command::new("Sarif.Multitool")
            .args([
                "validate",
                "--rule-kind",
                "Gh;Sarif",
                "--level",
                "Error;Warning",
                "-o",
            ])
            .arg(&out)
            .arg(&input)
            .output()
            .expect("the multitool runs");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && text.contains("Analysis completed successfully"),
            "{name}: {text}"
        );
        let problems: Vec<&str> = text
            .lines()
            .filter(|line| line.contains(": error ") || line.contains(": warning "))
            .collect();
        assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
    }
}

#[test]
fn sarif_has_one_run_every_rule_and_results_that_point_into_the_repository() {
    for case in cases() {
        let output = hardport(&case, &["migrate", "--format", "sarif"]);
        let sarif = json(&output);
        let name = case.display();
        assert_eq!(sarif["version"], "2.1.0", "{name}");
        assert!(
            sarif["$schema"]
                .as_str()
                .is_some_and(|s| s.contains("sarif"))
        );
        let runs = sarif["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 1, "{name}");
        let driver = &runs[0]["tool"]["driver"];
        assert_eq!(driver["name"], "hardport");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        let rules = driver["rules"].as_array().expect("rules");
        let ids: Vec<&str> = rules
            .iter()
            .map(|rule| rule["id"].as_str().expect("id"))
            .collect();
        assert_eq!(
            ids,
            Rule::ALL.iter().map(|rule| rule.code()).collect::<Vec<_>>()
        );
        assert_eq!(driver["informationUri"], env!("CARGO_PKG_REPOSITORY"));
        for (rule, descriptor) in Rule::ALL.iter().zip(rules) {
            assert_eq!(descriptor["shortDescription"]["text"], rule.summary());
            let full = descriptor["fullDescription"]["text"]
                .as_str()
                .expect("full");
            assert!(full.contains(rule.summary()), "{full}");
            let help = descriptor["help"]["markdown"].as_str().expect("help");
            assert!(help.contains("Documented in src/"), "{help}");
            assert!(descriptor["help"]["text"].as_str().is_some());
            assert!(
                descriptor["helpUri"]
                    .as_str()
                    .is_some_and(|uri| uri.starts_with("https://"))
            );
            assert_eq!(
                descriptor["defaultConfiguration"]["level"],
                level(rule.severity().as_str())
            );
        }
        let results = runs[0]["results"].as_array().expect("results");
        for result in results {
            let id = result["ruleId"].as_str().expect("ruleId");
            let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(
                ids.get(index),
                Some(&id),
                "{name}: ruleIndex points at ruleId"
            );
            assert_eq!(
                result["level"], rules[index]["defaultConfiguration"]["level"],
                "{name}: {id}"
            );
            assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
            assert!(
                !result["message"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty()
            );
            let locations = result["locations"].as_array().expect("locations");
            assert_eq!(locations.len(), 1);
            let physical = &locations[0]["physicalLocation"];
            let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(
                !uri.starts_with('/') && !uri.contains('\\') && !uri.contains(':'),
                "{name}: {uri} is relative"
            );
            assert!(
                case.join(uri).is_file(),
                "{name}: {uri} names a file of the case"
            );
            assert!(physical["region"]["startLine"].as_u64().expect("startLine") >= 1);
            let fingerprint = result["partialFingerprints"]["hardportFinding/v1"]
                .as_str()
                .expect("a fingerprint");
            assert_eq!(fingerprint.len(), 32, "{fingerprint}");
        }
        for result in results {
            let Some(fixes) = result["fixes"].as_array() else {
                continue;
            };
            assert_eq!(
                result["properties"]["fixed"], true,
                "{name}: only fixed results"
            );
            let change = &fixes[0]["artifactChanges"][0];
            let uri = change["artifactLocation"]["uri"].as_str().expect("uri");
            let length = std::fs::metadata(case.join(uri)).expect("file").len();
            for replacement in change["replacements"].as_array().expect("replacements") {
                let region = &replacement["deletedRegion"];
                let end = region["byteOffset"].as_u64().expect("offset")
                    + region["byteLength"].as_u64().expect("length");
                assert!(end <= length, "{name}: {replacement}");
            }
        }
        let fingerprints: BTreeSet<&str> = results
            .iter()
            .filter_map(|result| result["partialFingerprints"]["hardportFinding/v1"].as_str())
            .collect();
        assert_eq!(
            fingerprints.len(),
            results.len(),
            "{name}: fingerprints are unique"
        );
        let report = json(&hardport(&case, &["migrate", "--format", "json"]));
        let findings: usize = report["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|file| file["findings"].as_array().expect("findings").len())
            .sum();
        assert_eq!(results.len(), findings, "{name}: one result per finding");
        let invocation = &runs[0]["invocations"][0];
        let failed = report["summary"]["files_failed"].as_u64().expect("failed");
        assert_eq!(invocation["executionSuccessful"], failed == 0, "{name}");
        let skipped = report["summary"]["files_skipped"]
            .as_u64()
            .expect("skipped");
        let notifications = invocation["toolExecutionNotifications"]
            .as_array()
            .expect("notifications");
        assert_eq!(
            notifications.len() as u64,
            failed + skipped,
            "{name}: one per failure and one per skipped file"
        );
        let notes = notifications
            .iter()
            .filter(|notification| notification["level"] == "note")
            .count() as u64;
        assert_eq!(notes, skipped, "{name}: skipped files are notes");
    }
}

fn level(severity: &str) -> &str {
    match severity {
        "info" => "note",
        other => other,
    }
}

#[test]
fn markdown_pull_request_body_of_the_demo() {
    let output = hardport(&case("demo"), &["migrate", "--format", "markdown"]);
    assert_eq!(code(&output), 0);
    insta::assert_snapshot!("markdown_demo", stdout(&output));
}

/// Each table row of a Markdown body: its cells split at unescaped `|`.
fn table_rows(markdown: &str) -> Vec<Vec<String>> {
    markdown
        .lines()
        .filter(|line| line.starts_with('|'))
        .map(|line| {
            let mut cells = vec![String::new()];
            let mut escaped = false;
            for c in line.chars() {
                match c {
                    '|' if !escaped => cells.push(String::new()),
                    _ => cells.last_mut().expect("cell").push(c),
                }
                escaped = c == '\\' && !escaped;
            }
            cells
        })
        .collect()
}

#[test]
fn markdown_tables_and_blocks_survive_pipes_backticks_and_tags_in_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nasty = dir.path().join("a|b `c` <x>");
    std::fs::create_dir(&nasty).expect("mkdir");
    std::fs::write(
        nasty.join("Dockerfile"),
        "FROM nginx:1.27-alpine\nRUN echo '```'\n",
    )
    .expect("write");
    let output = hardport(dir.path(), &["migrate", "--format", "markdown"]);
    let body = stdout(&output);
    let rows = table_rows(&body);
    assert!(rows.len() >= 3, "{body}");
    for row in &rows {
        assert_eq!(row.len(), 6, "4 cells between pipes: {row:?}\n{body}");
    }
    assert!(
        body.contains("<code>a|b `c` &lt;x&gt;/Dockerfile</code>"),
        "{body}"
    );
    assert!(
        body.contains("\n````diff\n"),
        "a fence longer than the patch's backticks: {body}"
    );
}

#[test]
fn check_prints_every_report_and_still_exits_1() {
    let demo = case("demo");
    for format in ["json", "markdown", "sarif"] {
        let output = hardport(&demo, &["migrate", "--check", "--format", format]);
        assert_eq!(code(&output), 1, "{format}");
        let plain = hardport(&demo, &["migrate", "--format", format]);
        let same = match format {
            "json" => {
                let (mut check, mut dry) = (json(&output), json(&plain));
                check["mode"] = Value::Null;
                dry["mode"] = Value::Null;
                check == dry
            }
            _ => stdout(&output) == stdout(&plain),
        };
        assert!(same, "{format}: --check prints the same report");
        assert!(!stdout(&output).is_empty());
    }
}

/// `hardport ARGS` in `dir` with `env` set and no colour variable inherited.
fn hardport_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hardport"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("TERM");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("hardport runs")
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("\x1b[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('m').map_or(after.len(), |m| m + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn color_always_colours_the_patch_and_severities_and_nothing_else_changes() {
    let demo = case("demo");
    let plain = hardport_env(&demo, &["migrate", "--color", "never"], &[]);
    let coloured = hardport_env(
        &demo,
        &["migrate", "--color", "always"],
        &[("NO_COLOR", "1")],
    );
    let out = stdout(&coloured);
    assert!(
        out.contains("\x1b[31m-FROM nginx:1.27-alpine\x1b[0m\n"),
        "{out}"
    );
    assert!(out.contains("\x1b[32m+FROM reg.mini.dev/nginx:1.27\x1b[0m\n"));
    assert_eq!(strip_ansi(&out), stdout(&plain));
    let err = stderr(&coloured);
    assert!(
        err.contains("\x1b[1m\x1b[33mwarning\x1b[0m[digest-dropped]"),
        "{err}"
    );
    assert_eq!(strip_ansi(&err), stderr(&plain));
}

#[test]
fn never_no_color_and_pipes_get_no_colour() {
    let demo = case("demo");
    for (args, env) in [
        (&["migrate", "--color", "never"][..], &[][..]),
        (&["migrate"], &[]),
        (&["migrate", "--color", "auto"], &[("CLICOLOR_FORCE", "1")]),
        (&["migrate"], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]),
    ] {
        let output = hardport_env(&demo, args, env);
        assert!(!stdout(&output).is_empty());
        assert!(
            !stdout(&output).contains('\x1b'),
            "{args:?} {env:?}: a piped patch is never coloured"
        );
    }
    // CLICOLOR_FORCE colours the messages for a person, never the patch.
    let forced = hardport_env(&demo, &["migrate"], &[("CLICOLOR_FORCE", "1")]);
    assert!(stderr(&forced).contains("\x1b["));
    let no_color = hardport_env(
        &demo,
        &["migrate"],
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
    );
    assert!(!stderr(&no_color).contains('\x1b'));
    assert!(!stderr(&hardport_env(&demo, &["migrate"], &[])).contains('\x1b'));
}

#[test]
fn a_piped_patch_applies_even_with_clicolor_force() {
    let applied = copy_to_temp(&case("demo"));
    common::git(applied.path(), &["init", "--quiet"]);
    let output = hardport_env(applied.path(), &["migrate"], &[("CLICOLOR_FORCE", "1")]);
    std::fs::write(applied.path().join(".p"), stdout(&output)).expect("write");
    common::git(applied.path(), &["apply", "--check", ".p"]);
}

#[test]
fn stderr_has_a_summary_line_per_file_that_agrees_with_the_report() {
    let demo = case("demo");
    let output = hardport(&demo, &["migrate", "--format", "json"]);
    let report = json(&output);
    let err = stderr(&output);
    for file in report["files"].as_array().expect("files") {
        let findings = file["findings"].as_array().expect("findings");
        let count = |severity: &str| {
            findings
                .iter()
                .filter(|finding| finding["severity"] == severity)
                .count()
        };
        let plural = |n: usize, noun: &str| match n {
            1 => format!("1 {noun}"),
            _ => format!("{n} {noun}s"),
        };
        let line = format!(
            "{}: {}, {}, {}, {} info\n",
            file["path"].as_str().expect("path"),
            plural(file["changes"].as_array().expect("changes").len(), "change"),
            plural(count("error"), "error"),
            plural(count("warning"), "warning"),
            count("info")
        );
        assert!(err.contains(&line), "{line:?} in\n{err}");
    }
    assert!(!err.contains('\r'), "no progress bar off a terminal");
}

/// A path that cannot be walked fails the run in every format, not only on stderr.
#[test]
fn a_path_that_cannot_be_walked_is_in_every_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = hardport(dir.path(), &["migrate", "missing-dir", "--format", "json"]);
    assert_eq!(code(&json), 2);
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(report["summary"]["files_failed"], 1);
    assert_eq!(report["walk_errors"][0]["path"], "missing-dir");
    assert_eq!(schema_errors(&report), "", "the report matches its schema");
    let sarif = hardport(dir.path(), &["migrate", "missing-dir", "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&stdout(&sarif)).expect("sarif");
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"],
        "missing-dir"
    );
    let markdown = hardport(
        dir.path(),
        &["migrate", "missing-dir", "--format", "markdown"],
    );
    let body = stdout(&markdown);
    assert!(body.contains("`missing-dir` could not be read"), "{body}");
    assert!(
        !body.contains("Nothing: hardport fixed everything"),
        "{body}"
    );
}

/// However large the run, the pull-request body stays within GitHub's 65,536 characters, and
/// it says what it left out.
#[test]
fn a_large_run_s_markdown_body_fits_github_s_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    for index in 0..600 {
        let service = dir
            .path()
            .join(format!("services/service-with-a-long-name-{index:04}"));
        std::fs::create_dir_all(&service).expect("mkdir");
        std::fs::write(
            service.join("Dockerfile"),
            "FROM node:20-bookworm-slim@sha256:0123456789012345678901234567890123456789012345678901234567890123\nWORKDIR /app\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",
        )
        .expect("write");
    }
    let output = hardport(dir.path(), &["migrate", "--format", "markdown"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let body = stdout(&output);
    assert!(
        body.chars().count() <= 65_536,
        "{} characters",
        body.chars().count()
    );
    assert!(
        body.contains("more rewritten images not listed"),
        "the table says it was cut"
    );
    assert!(
        body.contains("more items not listed"),
        "the checklist says it was cut"
    );
    assert!(body.contains("Not shown, to keep this text within GitHub's size limit: the patch of"));
    assert!(body.contains("Generated by hardport"), "the footer is kept");
}

#[test]
fn json_findings_carry_ids_ranges_and_fixes_on_the_original_bytes() {
    let demo = case("demo");
    let report = json(&hardport(&demo, &["migrate", "--format", "json"]));
    assert_eq!(report["schema_version"], 2);
    let mut ids = BTreeSet::new();
    let (mut fixes, mut nginx) = (0, 0);
    for file in report["files"].as_array().expect("files") {
        let path = file["path"].as_str().expect("path");
        let original = std::fs::read_to_string(demo.join(path)).expect("original");
        for finding in file["findings"].as_array().expect("findings") {
            assert!(ids.insert(finding["id"].as_str().expect("id").to_owned()));
            let range = &finding["range"];
            if range.is_null() {
                continue;
            }
            let line = finding["line"].as_u64().expect("line") as usize;
            assert_eq!(
                range["start"]["line"].as_u64(),
                Some(line as u64),
                "{finding}"
            );
            // The position agrees with the original text: the byte is on that line, at that
            // column.
            let byte = range["start"]["byte"].as_u64().expect("byte") as usize;
            let line_start = original[..byte].rfind('\n').map_or(0, |at| at + 1);
            assert_eq!(
                original[..byte].matches('\n').count() + 1,
                line,
                "{finding}"
            );
            assert_eq!(
                range["start"]["column"].as_u64(),
                Some(original[line_start..byte].chars().count() as u64 + 1),
                "{finding}"
            );
            let Some(edits) = finding["fix"]["edits"].as_array() else {
                continue;
            };
            fixes += 1;
            let mut text = original.clone();
            for edit in edits.iter().rev() {
                let (start, end) = (
                    edit["start"].as_u64().expect("start") as usize,
                    edit["end"].as_u64().expect("end") as usize,
                );
                text.replace_range(start..end, edit["replacement"].as_str().expect("text"));
            }
            if finding["rule"] == "base-image" && path == "web/Dockerfile" && line == 12 {
                assert!(
                    text.lines().nth(11) == Some("FROM reg.mini.dev/nginx:1.27"),
                    "{text}"
                );
                nginx += 1;
            }
        }
    }
    assert!(
        fixes >= 5,
        "the demo's first-pass fixes carry their edits: {fixes}"
    );
    assert_eq!(nginx, 1, "the nginx rewrite was checked");
}
