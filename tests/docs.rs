//! The documentation commands of the real binary: `rules`, `explain`, `completions`, `man`,
//! and that README's rule table says what the binary says.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{case, cases, code, hardport, stderr, stdout};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `hardport rules --format json`, as id → (severity, fixes).
fn rules_json() -> BTreeMap<String, (String, bool)> {
    let output = hardport(repo(), &["rules", "--format", "json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rules: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let rules = rules.as_array().expect("an array");
    rules
        .iter()
        .map(|rule| {
            let documented = rule["documented_in"].as_array().expect("documented_in");
            assert!(!documented.is_empty(), "{rule}");
            assert!(!rule["summary"].as_str().expect("summary").is_empty());
            (
                rule["id"].as_str().expect("id").to_owned(),
                (
                    rule["severity"].as_str().expect("severity").to_owned(),
                    rule["fixes"].as_bool().expect("fixes"),
                ),
            )
        })
        .collect()
}

#[test]
fn rules_lists_every_rule_in_text_and_json() {
    let rules = rules_json();
    assert!(rules.len() >= 27, "{rules:?}");
    assert_eq!(rules["base-image"], ("info".to_owned(), true));
    assert_eq!(rules["needs-shell"], ("error".to_owned(), false));

    let output = hardport(repo(), &["rules"]);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    let mut lines = text.lines();
    assert!(lines.next().expect("header").starts_with("RULE "));
    let rows: BTreeMap<&str, Vec<&str>> = lines
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (words[0], words[1..3].to_vec())
        })
        .collect();
    assert_eq!(rows.len(), rules.len());
    for (id, (severity, fixes)) in &rules {
        let fixes = if *fixes { "yes" } else { "no" };
        assert_eq!(rows[id.as_str()], [severity.as_str(), fixes], "{id}");
    }
}

#[test]
fn the_readme_rule_table_agrees_with_the_binary() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let rules_section = readme
        .split("\n## Rules\n")
        .nth(1)
        .expect("a Rules section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let table: BTreeMap<String, (String, bool)> = rules_section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let id = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let severity = cells.get(2)?;
            let (severity, fixes) = match severity.strip_suffix(" (fix)") {
                Some(severity) => (severity, true),
                None => (*severity, false),
            };
            Some((id.to_owned(), (severity.to_owned(), fixes)))
        })
        .collect();
    assert_eq!(table, rules_json());
}

#[test]
fn every_fix_in_the_fixtures_comes_from_a_rule_listed_as_fixing() {
    let rules = rules_json();
    let mut fixed_seen = 0;
    for case in cases() {
        let output = hardport(&case, &["migrate", "--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        for file in report["files"].as_array().expect("files") {
            for finding in file["findings"].as_array().into_iter().flatten() {
                let id = finding["rule"].as_str().expect("rule");
                let (severity, fixes) = rules.get(id).unwrap_or_else(|| panic!("{id} unlisted"));
                assert_eq!(finding["severity"].as_str(), Some(severity.as_str()));
                if finding["fixed"] == true {
                    fixed_seen += 1;
                    assert!(
                        fixes,
                        "{id} fixed a file but `hardport rules` says it only reports"
                    );
                }
            }
        }
    }
    assert!(fixed_seen > 0);
}

#[test]
fn explain_prints_each_rules_documentation() {
    for id in rules_json().keys() {
        let output = hardport(repo(), &["explain", id]);
        assert_eq!(code(&output), 0, "{id}: {}", stderr(&output));
        let text = stdout(&output);
        assert!(text.starts_with(&format!("{id}: ")), "{text}");
        assert!(text.contains("\nDocumented in src/"), "{text}");
        assert!(text.contains(&format!("`{id}`")), "{text}");
    }
    let user_root = stdout(&hardport(repo(), &["explain", "user-root"]));
    let source = std::fs::read_to_string(repo().join("src/rules/user.rs")).expect("source");
    let fix_safety_line = source
        .lines()
        .find(|line| line.starts_with("//! `user-root` inserts whole lines"))
        .expect("the user module documents user-root's fix safety");
    assert!(user_root.contains(&fix_safety_line["//! ".len()..]));
}

#[test]
fn explain_of_an_unknown_rule_is_a_usage_error_listing_the_rules() {
    let output = hardport(repo(), &["explain", "base-images"]);
    assert_eq!(code(&output), 2);
    assert!(stdout(&output).is_empty());
    let message = stderr(&output);
    assert!(message.contains("'base-images'"), "{message}");
    for id in rules_json().keys() {
        assert!(
            message.contains(id.as_str()),
            "{id} missing from: {message}"
        );
    }
}

#[test]
fn completions_are_generated_for_every_shell() {
    let expected = [
        ("bash", "complete -F _hardport"),
        ("zsh", "#compdef hardport"),
        ("fish", "complete -c hardport"),
        ("elvish", "edit:completion:arg-completer[hardport]"),
        ("powershell", "Register-ArgumentCompleter"),
    ];
    for (shell, marker) in expected {
        let output = hardport(repo(), &["completions", shell]);
        assert_eq!(code(&output), 0, "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for word in ["migrate", "catalog", "explain", "no-default-catalog"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    let bash = stdout(&hardport(repo(), &["completions", "bash"]));
    assert!(bash.contains("security-context-unset"), "rule ids complete");
    assert_eq!(code(&hardport(repo(), &["completions", "tcsh"])), 2);
}

#[test]
fn man_prints_a_roff_page_and_writes_one_per_command() {
    let output = hardport(repo(), &["man"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let page = stdout(&output);
    assert!(page.contains(".TH hardport 1"), "{page}");
    assert!(page.contains(".SH NAME") && page.contains(".SH SUBCOMMANDS"));
    assert!(page.contains("migrate") && page.contains("explain"));

    let dir = tempfile::tempdir().expect("tempdir");
    let dir_arg = dir.path().to_str().expect("UTF-8 path");
    let output = hardport(repo(), &["man", "--dir", dir_arg]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let migrate = std::fs::read_to_string(dir.path().join("hardport-migrate.1")).expect("page");
    assert!(migrate.contains(".TH hardport-migrate 1"), "{migrate}");
    assert!(migrate.contains("\\-\\-check"), "{migrate}");
    assert!(dir.path().join("hardport.1").is_file());
    assert!(dir.path().join("hardport-catalog-show.1").is_file());

    let missing = dir.path().join("no/such/dir");
    let output = hardport(
        repo(),
        &["man", "--dir", missing.to_str().expect("UTF-8 path")],
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("no/such/dir"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    use std::process::Command;
    for args in [
        &["completions", "bash"][..],
        &["man"],
        &["explain", "workdir"],
        &["rules"],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_hardport"))
            .args(args)
            .current_dir(case("demo"))
            .stdout(writer)
            .output()
            .expect("runs");
        let errors = stderr(&output);
        assert!(!errors.contains("panicked"), "{args:?}: {errors}");
        assert_eq!(code(&output), 0, "{args:?}: {errors}");
    }
}

/// README's sample output, each after a `<!-- stderr of: ARGS (in DIR) -->` line: run
/// `hardport ARGS` in DIR (relative to the repository) and compare, so a sample cannot fall
/// behind the binary.
#[test]
fn the_readme_samples_are_what_the_binary_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let mut checked = 0;
    let lines: Vec<&str> = readme.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        let Some(spec) = line
            .strip_prefix("<!-- stderr of: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let (args, dir) = spec
            .rsplit_once(" (in ")
            .and_then(|(args, dir)| Some((args, dir.strip_suffix(')')?)))
            .unwrap_or_else(|| panic!("a sample marker names its directory: {line}"));
        assert!(
            lines[index + 1].starts_with("```"),
            "{line}: a fence follows"
        );
        let sample: Vec<&str> = lines[index + 2..]
            .iter()
            .take_while(|line| !line.starts_with("```"))
            .copied()
            .collect();
        let args: Vec<&str> = args.split_whitespace().collect();
        let output = hardport(&repo().join(dir), &args);
        let printed = stderr(&output);
        assert_eq!(
            printed.lines().collect::<Vec<_>>(),
            sample,
            "README's sample of `hardport {}` in {dir}",
            args.join(" ")
        );
        checked += 1;
    }
    assert!(checked >= 2, "README's samples were found: {checked}");
}
