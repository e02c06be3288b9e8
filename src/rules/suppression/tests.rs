use super::*;

#[test]
fn a_comment_on_its_own_line_covers_the_next_instruction_with_its_continuations() {
    let text = "FROM node:20\n# hardport: ignore[user-root] keep root here\n\nRUN apt-get update \\\n    && apt-get install -y curl\nRUN true\n";
    let suppressions = Suppressions::parse(FileKind::Dockerfile, text);
    assert!(suppressions.suppresses(Rule::UserRoot, 4));
    assert!(suppressions.suppresses(Rule::UserRoot, 5));
    assert!(!suppressions.suppresses(Rule::UserRoot, 6));
    assert!(
        !suppressions.suppresses(Rule::PackageInstall, 4),
        "only the rules named"
    );
    assert!(suppressions.unused(RuleSet::ALL).is_empty());
}

#[test]
fn a_trailing_comment_covers_its_own_line_and_a_bare_ignore_every_rule() {
    let values = "image: nginx:1.27  # hardport: ignore\nother: redis:7\n";
    let suppressions = Suppressions::parse(FileKind::HelmValues, values);
    assert!(suppressions.suppresses(Rule::HelmImage, 1));
    assert!(suppressions.suppresses(Rule::SecurityContext, 1));
    assert!(!suppressions.suppresses(Rule::HelmImage, 2));

    // A `#` inside a value is no comment; nor is another `hardport:` note.
    let not = "image: \"nginx#hardport: ignore\"\n# hardport: keep this file short\nx: 1\n";
    let suppressions = Suppressions::parse(FileKind::HelmValues, not);
    assert!(suppressions.is_empty());
}

#[test]
fn what_suppresses_nothing_is_unused_and_unknown_ids_are_named() {
    let text = "FROM node:20\n# hardport: ignore[dev-variant, user-root, no-such-rule]\nRUN npm ci\n# hardport: ignore\nCOPY . .\n";
    let suppressions = Suppressions::parse(FileKind::Dockerfile, text);
    assert!(suppressions.suppresses(Rule::DevVariant, 3));
    let unused = suppressions.unused(RuleSet::ALL);
    assert!(
        unused
            .iter()
            .all(|unused| unused.rule == Rule::UnusedSuppression)
    );
    let messages: Vec<(usize, &str)> = unused
        .iter()
        .map(|unused| (unused.line, unused.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                2,
                "`# hardport: ignore[dev-variant, user-root, no-such-rule]` suppresses nothing: no finding of user-root on line 3"
            ),
            (
                2,
                "`# hardport: ignore[dev-variant, user-root, no-such-rule]` names `no-such-rule`, which is no rule of hardport (`hardport rules` lists them)"
            ),
            (
                4,
                "`# hardport: ignore` suppresses nothing: no finding of any rule on line 5"
            ),
        ]
    );
    // A rule the run leaves out is not held against the comment.
    let running = RuleSet::ALL.without(Rule::UserRoot);
    assert_eq!(suppressions.unused(running).len(), 2);
    let quiet = RuleSet::ALL.without(Rule::UnusedSuppression);
    assert!(suppressions.unused(quiet).is_empty());
}

#[test]
fn keeping_a_from_on_its_public_image_keeps_its_whole_stage() {
    let text = "# hardport: ignore[base-image]\nFROM postgres:16 AS db\nCOPY a /b\nCMD [\"postgres\"]\nfrom node:20\nRUN npm ci\n";
    let suppressions = Suppressions::parse(FileKind::Dockerfile, text);
    for line in 2..=4 {
        assert!(
            suppressions.suppresses(Rule::Entrypoint, line),
            "line {line}"
        );
    }
    assert!(
        !suppressions.suppresses(Rule::BaseImage, 5),
        "the next stage is not kept"
    );
    assert!(suppressions.unused(RuleSet::ALL).is_empty());
}
