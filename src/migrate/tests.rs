use super::*;
use crate::diagnostic::Edit;
use crate::rules::Rule;

fn edit_once(text: &str) -> Result<Vec<Diagnostic>, FileError> {
    Ok(match text.find("old") {
        Some(start) => vec![Diagnostic::fixed(
            Rule::BaseImage,
            start..start + 3,
            "old → new",
            Fix::single(Edit::replace(start..start + 3, "new")),
        )],
        None => Vec::new(),
    })
}

#[test]
fn the_loop_applies_fixes_until_nothing_changes() {
    let migration =
        fix_loop("a old\nb old\n", &Suppressions::default(), edit_once).expect("converges");
    assert_eq!(migration.text, "a new\nb new\n");
    assert_eq!(migration.findings.len(), 2);
    assert!(migration.findings.iter().all(|finding| finding.fixed));
    assert_eq!(migration.findings[1].line, 2);
}

#[test]
fn later_passes_report_lines_of_the_original_file_and_each_fix_is_a_change() {
    // Pass 1 inserts a line at the top; pass 2 edits what was line 2 of the original.
    let check = |text: &str| {
        Ok(if !text.starts_with("top\n") {
            vec![Diagnostic::fixed(
                Rule::UserRoot,
                0..0,
                "inserted",
                Fix::single(Edit::replace(0..0, "top\n")),
            )]
        } else {
            edit_once(text)?
        })
    };
    let migration = fix_loop("a\nb old\n", &Suppressions::default(), check).expect("converges");
    assert_eq!(migration.text, "top\na\nb new\n");
    let changes: Vec<(Rule, usize, &str, &str, usize)> = migration
        .findings
        .iter()
        .map(|finding| {
            let change = finding.change.as_ref().expect("fixed");
            (
                finding.rule,
                change.line,
                change.before.as_str(),
                change.after.as_str(),
                finding.line,
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (Rule::UserRoot, 1, "", "top\n", 1),
            (Rule::BaseImage, 2, "b old\n", "b new\n", 2),
        ]
    );
}

fn lines_of(text: &str, edits: Vec<Edit>) -> (usize, String, String) {
    changed_lines(text, &Fix::new(edits).expect("edits"))
}

#[test]
fn a_change_takes_in_the_whole_lines_its_edits_touch() {
    let text = "FROM a\r\nRUN x\nCMD y";
    assert_eq!(
        lines_of(text, vec![Edit::replace(5..6, "b")]),
        (0, "FROM a\r\n".into(), "FROM b\r\n".into())
    );
    assert_eq!(
        lines_of(text, vec![Edit::replace(8..8, "USER root\n")]),
        (8, String::new(), "USER root\n".into())
    );
    assert_eq!(
        lines_of(text, vec![Edit::replace(8..14, "")]),
        (8, "RUN x\n".into(), String::new())
    );
    assert_eq!(
        lines_of(text, vec![Edit::replace(8..8, "# ")]),
        (8, "RUN x\n".into(), "# RUN x\n".into())
    );
    assert_eq!(
        lines_of(text, vec![Edit::replace(13..14, " ")]),
        (8, "RUN x\nCMD y".into(), "RUN x CMD y".into())
    );
    assert_eq!(
        lines_of(
            text,
            vec![Edit::replace(0..1, "f"), Edit::replace(14..15, "c")]
        ),
        (
            0,
            "FROM a\r\nRUN x\nCMD y".into(),
            "fROM a\r\nRUN x\ncMD y".into()
        )
    );
}

#[test]
fn a_rule_that_never_settles_is_an_internal_error() {
    let grows = |text: &str| {
        Ok(vec![Diagnostic::fixed(
            Rule::BaseImage,
            0..0,
            "again",
            Fix::single(Edit::replace(text.len()..text.len(), "x")),
        )])
    };
    let error = fix_loop("a", &Suppressions::default(), grows).expect_err("never converges");
    assert!(matches!(error, FileError::Internal(message) if message.contains("base-image")));
}

#[test]
fn a_fix_that_breaks_parsing_is_an_internal_error() {
    let breaks = |text: &str| {
        if text.contains("broken") {
            return Err(FileError::Parse {
                what: FileKind::Dockerfile,
                line: Some(1),
                message: "bad".into(),
            });
        }
        edit_once(text).map(|diagnostics| {
            diagnostics
                .into_iter()
                .map(|mut diagnostic| {
                    diagnostic.fix = Some(Fix::single(Edit::replace(0..0, "broken ")));
                    diagnostic
                })
                .collect()
        })
    };
    let error = fix_loop("old", &Suppressions::default(), breaks).expect_err("breaks");
    assert!(
        matches!(&error, FileError::Internal(message)
            if message.contains("unparsable") && message.contains("rules applied: base-image")),
        "{error}"
    );
}

#[test]
fn values_nested_to_the_depth_limit_migrate_on_a_small_stack() {
    // 999 sequences and the mapping inside them: the YAML layer's limit of 1000 levels.
    let text = format!("{}image: nginx:1.27\n", "- ".repeat(999));
    // Every walk of the tree (rules, paths, drop) recurses per level: prove they fit in a
    // 2 MiB stack, the default of a spawned thread, in an unoptimised build.
    let migrated = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let catalog = crate::catalog::Catalog::embedded().expect("catalog");
            migrate_text(FileKind::HelmValues, &text, Context::new(&catalog))
                .map(|migration| migration.text)
        })
        .expect("thread")
        .join()
        .expect("no stack overflow");
    let text = migrated.expect("migrates");
    assert!(
        text.ends_with("image: reg.mini.dev/nginx:1.27\n"),
        "{}",
        &text[text.len().saturating_sub(80)..]
    );
    let past = format!("{}image: nginx:1.27\n", "- ".repeat(1000));
    let catalog = crate::catalog::Catalog::embedded().expect("catalog");
    let error =
        migrate_text(FileKind::HelmValues, &past, Context::new(&catalog)).expect_err("too deep");
    assert!(error.to_string().contains("nested more than"), "{error}");
}

#[test]
fn a_parse_error_on_the_input_is_reported_as_such() {
    let error = migrate_text(
        FileKind::Dockerfile,
        "RUN x\n",
        Context::new(&crate::catalog::Catalog::embedded().expect("catalog")),
    )
    .expect_err("no FROM");
    assert_eq!(error.line(), Some(1));
    assert!(matches!(error, FileError::Parse { .. }));
}
