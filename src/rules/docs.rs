//! Rule documentation taken from the rules' own source, for `hardport rules` and
//! `hardport explain ID`.
//!
//! The documentation of an id is the `//!` header of the module that reports it (several
//! modules for an id reported in Dockerfiles and in Helm values), or, for the ids reported from
//! everywhere, their section of the `rules` module header. The headers are cut out of the
//! sources at compile time (`module_doc!` reads the file with `include_bytes!` and a
//! `const fn` copies the header), so what `explain` prints is the text the source carries and
//! the two cannot drift; only the headers, not the sources, end up in the binary.
//!
//! [`sources`] is an exhaustive match, so a new [`Rule`] does not compile until it names its
//! documentation, and the tests check that each documentation names its id and says what, why,
//! an example and fix safety, and that every module reporting an id is named for it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::diagnostic::Severity;
use crate::rules::Rule;

/// The `//!` header of one source file: the lines that start with `//!`, before anything else,
/// without that prefix and one space after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ModuleDoc {
    /// The file, relative to the crate root.
    path: &'static str,
    text: &'static str,
}

/// Copy the `//!` header of `source` into `out` (as far as it fits) and return its length.
///
/// Called at compile time, once with an empty `out` to size the array and once to fill it, so
/// that only the header is compiled into the binary.
const fn copy_header(source: &[u8], out: &mut [u8]) -> usize {
    let mut read = 0;
    let mut written = 0;
    while read + 3 <= source.len()
        && source[read] == b'/'
        && source[read + 1] == b'/'
        && source[read + 2] == b'!'
    {
        read += 3;
        if read < source.len() && source[read] == b' ' {
            read += 1;
        }
        while read < source.len() && source[read] != b'\n' {
            if source[read] != b'\r' {
                if written < out.len() {
                    out[written] = source[read];
                }
                written += 1;
            }
            read += 1;
        }
        if written < out.len() {
            out[written] = b'\n';
        }
        written += 1;
        read += 1;
    }
    written
}

/// The [`ModuleDoc`] of a file in `src/rules/`, cut out at compile time. The header is a
/// `static`, not a `const`, so the binary holds it once however many rules point at it.
macro_rules! module_doc {
    ($file:literal) => {{
        const SOURCE: &[u8] = include_bytes!($file);
        const LEN: usize = copy_header(SOURCE, &mut []);
        static HEADER: [u8; LEN] = {
            let mut header = [0; LEN];
            copy_header(SOURCE, &mut header);
            header
        };
        const TEXT: &str = match std::str::from_utf8(&HEADER) {
            Ok(text) => text,
            Err(_) => panic!(concat!("the //! header of ", $file, " is not UTF-8")),
        };
        ModuleDoc {
            path: concat!("src/rules/", $file),
            text: TEXT,
        }
    }};
}

const BASE_IMAGE: ModuleDoc = module_doc!("base_image.rs");
const COMPOSE: ModuleDoc = module_doc!("compose.rs");
const DEV_VARIANT: ModuleDoc = module_doc!("dev_variant.rs");
const ENTRYPOINT: ModuleDoc = module_doc!("entrypoint.rs");
const FINDINGS: ModuleDoc = module_doc!("findings.rs");
const HELM_BITNAMI: ModuleDoc = module_doc!("helm_bitnami.rs");
const HELM_IMAGES: ModuleDoc = module_doc!("helm_images.rs");
const HELM_PATHS: ModuleDoc = module_doc!("helm_paths.rs");
const HELM_PROBES: ModuleDoc = module_doc!("helm_probes.rs");
const HELM_SECURITY: ModuleDoc = module_doc!("helm_security.rs");
const HELM_STRINGS: ModuleDoc = module_doc!("helm_strings.rs");
const HELM_SUBCHARTS: ModuleDoc = module_doc!("helm_subcharts.rs");
const KUSTOMIZE: ModuleDoc = module_doc!("kustomize.rs");
const MANIFEST: ModuleDoc = module_doc!("manifest.rs");
const PACKAGE_INSTALL: ModuleDoc = module_doc!("package_install.rs");
const PIN_DIGEST: ModuleDoc = module_doc!("pin_digest.rs");
const REFERENCE: ModuleDoc = module_doc!("reference.rs");
const RULES: ModuleDoc = module_doc!("mod.rs");
const RUNTIME: ModuleDoc = module_doc!("runtime.rs");
const SUPPRESSION: ModuleDoc = module_doc!("suppression.rs");
const USER: ModuleDoc = module_doc!("user.rs");
const WORKDIR: ModuleDoc = module_doc!("workdir.rs");
const WORKFLOW: ModuleDoc = module_doc!("workflow.rs");

/// One place a rule is documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocSource {
    module: ModuleDoc,
    /// For an id documented in the `rules` module header: its `` ## `id` `` section.
    section: Option<Rule>,
}

impl DocSource {
    const fn module(module: ModuleDoc) -> Self {
        DocSource {
            module,
            section: None,
        }
    }

    const fn shared(rule: Rule) -> Self {
        DocSource {
            module: RULES,
            section: Some(rule),
        }
    }

    /// The source file the text comes from, relative to the crate root.
    pub fn path(&self) -> &'static str {
        self.module.path
    }

    /// The documentation as Markdown, with rustdoc's intra-doc links (`` [`Fix`] ``) written as
    /// plain code spans, since they resolve only in rustdoc.
    pub fn markdown(&self) -> String {
        let text = match self.section {
            Some(rule) => section(self.module.text, &format!("`{}`", rule.code())),
            None => self.module.text,
        };
        without_intra_doc_links(text)
    }
}

/// Where `rule` is documented: every module that reports it, or the `rules` module header for
/// the ids reported from everywhere.
pub fn sources(rule: Rule) -> &'static [DocSource] {
    use DocSource as D;
    match rule {
        Rule::BaseImage => &const { [D::module(BASE_IMAGE)] },
        Rule::PinDigest => &const { [D::module(PIN_DIGEST)] },
        Rule::UnmappedImage | Rule::DigestDropped | Rule::TagVariant => {
            &const {
                [
                    D::module(BASE_IMAGE),
                    D::module(HELM_IMAGES),
                    D::module(REFERENCE),
                ]
            }
        }
        Rule::UnresolvedImage => {
            &const {
                [
                    D::module(BASE_IMAGE),
                    D::module(DEV_VARIANT),
                    D::module(HELM_IMAGES),
                    D::module(PIN_DIGEST),
                    D::module(HELM_SUBCHARTS),
                    D::module(HELM_STRINGS),
                    D::module(REFERENCE),
                    D::module(MANIFEST),
                ]
            }
        }
        Rule::DevVariant | Rule::RuntimeSplit => &const { [D::module(DEV_VARIANT)] },
        Rule::UserMapping => &const { [D::module(USER), D::module(COMPOSE)] },
        Rule::UserRoot | Rule::FinalRoot => &const { [D::module(USER)] },
        Rule::Entrypoint => &const { [D::module(ENTRYPOINT), D::module(COMPOSE)] },
        Rule::ExecForm => &const { [D::module(ENTRYPOINT)] },
        Rule::NeedsShell => {
            &const {
                [
                    D::module(ENTRYPOINT),
                    D::module(HELM_PROBES),
                    D::module(RUNTIME),
                ]
            }
        }
        Rule::Workdir => &const { [D::module(WORKDIR)] },
        Rule::DataPath => &const { [D::module(WORKDIR), D::module(HELM_PATHS)] },
        Rule::PrivilegedPort | Rule::Onbuild => &const { [D::module(FINDINGS)] },
        Rule::EntrypointFeature => {
            &const { [D::module(FINDINGS), D::module(RUNTIME), D::module(MANIFEST)] }
        }
        Rule::PackageManager => &const { [D::module(FINDINGS), D::module(PACKAGE_INSTALL)] },
        Rule::PackageInstall | Rule::BusyboxOption => &const { [D::module(PACKAGE_INSTALL)] },
        Rule::HelmImage => &const { [D::module(HELM_IMAGES), D::module(HELM_STRINGS)] },
        Rule::AppVersionTag => &const { [D::module(HELM_IMAGES), D::module(HELM_SUBCHARTS)] },
        Rule::NumericTag => &const { [D::module(HELM_IMAGES)] },
        Rule::SecurityContext => &const { [D::module(HELM_SECURITY), D::module(MANIFEST)] },
        Rule::SecurityContextUnset => {
            &const {
                [
                    D::module(HELM_SECURITY),
                    D::module(HELM_SUBCHARTS),
                    D::module(MANIFEST),
                ]
            }
        }
        Rule::AllowInsecureImages => &const { [D::module(HELM_BITNAMI)] },
        Rule::ExecProbe => {
            &const {
                [
                    D::module(HELM_PROBES),
                    D::module(ENTRYPOINT),
                    D::module(RUNTIME),
                ]
            }
        }
        Rule::MissingFact => &const { [D::shared(Rule::MissingFact)] },
        Rule::ChartMetadata => &const { [D::shared(Rule::ChartMetadata)] },
        Rule::NotEditable => &const { [D::shared(Rule::NotEditable)] },
        Rule::IgnoredDocument => &const { [D::shared(Rule::IgnoredDocument)] },
        Rule::Verify | Rule::VerifyRender => &const { [D::shared(Rule::Verify)] },
        Rule::SubchartImage | Rule::SubchartNotVendored => &const { [D::module(HELM_SUBCHARTS)] },
        Rule::UnusedSuppression => &const { [D::module(SUPPRESSION)] },
        Rule::ComposeImage => &const { [D::module(COMPOSE)] },
        Rule::ManifestImage => &const { [D::module(MANIFEST)] },
        Rule::KustomizeImage => &const { [D::module(KUSTOMIZE)] },
        Rule::WorkflowImage => &const { [D::module(WORKFLOW)] },
    }
}

/// What `hardport explain ID` prints: the id's severity and summary, then each of its
/// documentations with the file it comes from.
pub fn explain(rule: Rule) -> String {
    let mut text = format!(
        "{}: {}, {}\n{}\n",
        rule.code(),
        rule.severity(),
        if rule.fixes() {
            "changes the file"
        } else {
            "reports only"
        },
        rule.summary()
    );
    for source in sources(rule) {
        let _ = write!(
            text,
            "\nDocumented in {}:\n\n{}",
            source.path(),
            for_rule(&source.markdown(), rule)
        );
    }
    text
}

/// A module's documentation as it concerns `rule`: the paragraphs and list items that start by
/// naming another rule (`` - `user-mapping`: … `` in the module of `user-root`) are left out;
/// the module's title line, what is shared, and what names no rule first stay. Code blocks are
/// kept whole.
fn for_rule(markdown: &str, rule: Rule) -> String {
    let names_another_first = |block: &str| {
        let text = block.trim_start().trim_start_matches("- ").trim_start();
        let Some(rest) = text.strip_prefix('`') else {
            return false;
        };
        let id = rest.split('`').next().unwrap_or_default();
        id != rule.code() && Rule::ALL.iter().any(|other| other.code() == id)
            // A sentence that names several rules first (`` `a`, `b` and `c`: … ``) is shared.
            && !text.contains(&format!("`{}`", rule.code()))
    };
    let mut out = String::with_capacity(markdown.len());
    let mut block = String::new();
    let flush = |block: &mut String, out: &mut String| {
        if out.is_empty() || !names_another_first(block) {
            out.push_str(block);
        }
        block.clear();
    };
    for (line, prose) in prose_lines(markdown) {
        let starts_block = prose
            && (line.trim().is_empty() || line.starts_with("- ") || heading_level(line).is_some());
        if starts_block {
            flush(&mut block, &mut out);
        }
        block.push_str(line);
        if prose && (line.trim().is_empty() || heading_level(line).is_some()) {
            flush(&mut block, &mut out);
        }
    }
    flush(&mut block, &mut out);
    out
}

/// One row of `hardport rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    /// Whether the rule can change the file.
    pub fixes: bool,
    pub summary: &'static str,
    /// The source files `hardport explain` takes its documentation from.
    pub documented_in: Vec<&'static str>,
}

/// Every rule, in the order of [`Rule::ALL`].
pub fn list() -> Vec<RuleInfo> {
    Rule::ALL
        .into_iter()
        .map(|rule| RuleInfo {
            id: rule.code(),
            severity: rule.severity(),
            fixes: rule.fixes(),
            summary: rule.summary(),
            documented_in: sources(rule).iter().map(DocSource::path).collect(),
        })
        .collect()
}

/// Lines of Markdown paired with whether they are outside a fenced code block (and not a
/// fence line), where headings and links mean something.
fn prose_lines(markdown: &str) -> impl Iterator<Item = (&str, bool)> {
    let mut in_fence = false;
    markdown.split_inclusive('\n').map(move |line| {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            return (line, false);
        }
        (line, !in_fence)
    })
}

/// The `## {heading}` section of `markdown`, from its heading up to the next heading of the
/// same or a higher level; empty when there is no such heading.
fn section<'a>(markdown: &'a str, heading: &str) -> &'a str {
    let mut start = None;
    let mut offset = 0;
    for (line, prose) in prose_lines(markdown) {
        let level = heading_level(line);
        if prose && start.is_some() && level.is_some_and(|level| level <= 2) {
            break;
        }
        if prose && start.is_none() && level == Some(2) && line[2..].trim() == heading {
            start = Some(offset);
        }
        offset += line.len();
    }
    start.map_or("", |start| &markdown[start..offset])
}

/// `Some(n)` for an ATX heading `#…# text` of level `n`.
fn heading_level(line: &str) -> Option<usize> {
    let level = line.bytes().take_while(|&byte| byte == b'#').count();
    (level > 0 && line[level..].starts_with(' ')).then_some(level)
}

/// `` [`Fix`] `` → `` `Fix` `` outside code blocks, unless the brackets are a Markdown link
/// (followed by `(` or `[`).
fn without_intra_doc_links(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for (line, prose) in prose_lines(markdown) {
        if !prose {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(open) = rest.find("[`") {
            let after = &rest[open + 1..];
            let Some(close) = after.find("`]") else {
                break;
            };
            let code = &after[..close + 1];
            let tail = &after[close + 2..];
            out.push_str(&rest[..open]);
            if tail.starts_with('(') || tail.starts_with('[') {
                out.push('[');
                out.push_str(code);
                out.push(']');
            } else {
                out.push_str(code);
            }
            rest = tail;
        }
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn header_of(source: &str) -> String {
        let mut out = vec![0; copy_header(source.as_bytes(), &mut [])];
        copy_header(source.as_bytes(), &mut out);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn the_header_is_the_leading_doc_lines_without_their_prefix() {
        let source = "//! Title.\r\n//!\n//!  indented\n\nuse x;\n//! not the header\n";
        assert_eq!(header_of(source), "Title.\n\n indented\n");
        assert_eq!(header_of("use x;\n//! late\n"), "");
        assert_eq!(header_of("//! no newline"), "no newline\n");
    }

    #[test]
    fn compiled_headers_hold_the_doc_and_no_code() {
        for module in [BASE_IMAGE, USER, RULES, HELM_PROBES] {
            assert!(!module.text.is_empty(), "{}", module.path);
            assert!(!module.text.lines().any(|line| line.starts_with("//!")));
            assert!(!module.text.contains("\nuse "), "{}", module.path);
            let source =
                std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(module.path))
                    .expect("source");
            assert_eq!(module.text, header_of(&source), "{}", module.path);
        }
        assert!(
            USER.text
                .starts_with("`user-mapping`, `user-root` and `final-root`")
        );
    }

    #[test]
    fn every_rule_is_named_in_each_documentation_it_gets() {
        for rule in Rule::ALL {
            assert!(!sources(rule).is_empty(), "{rule}");
            for source in sources(rule) {
                let markdown = source.markdown();
                assert!(
                    markdown.contains(&format!("`{}`", rule.code())),
                    "{} documents {rule} without naming `{rule}`",
                    source.path()
                );
            }
        }
    }

    #[test]
    fn every_documentation_says_what_why_an_example_and_fix_safety() {
        for rule in Rule::ALL {
            for source in sources(rule) {
                let markdown = source.markdown();
                let headings: Vec<&str> = prose_lines(&markdown)
                    .filter(|&(line, prose)| prose && heading_level(line).is_some())
                    .map(|(line, _)| line.trim_start_matches('#').trim())
                    .collect();
                for wanted in ["What", "Why", "Example", "Fix safety"] {
                    assert!(
                        headings.iter().any(|heading| heading.starts_with(wanted)),
                        "{} (for {rule}) has no heading starting with {wanted:?}: {headings:?}",
                        source.path()
                    );
                }
            }
        }
    }

    /// Every `.rs` file under `dir`, except test files.
    fn rust_sources(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                rust_sources(&path, files);
            } else if path.extension().is_some_and(|ext| ext == "rs")
                && !path.ends_with("tests.rs")
                && !path.ends_with("test_support.rs")
            {
                files.push(path);
            }
        }
    }

    /// Whether `code` names `Rule::{variant}` as a whole path segment.
    fn names_variant(code: &str, variant: &str) -> bool {
        let needle = format!("Rule::{variant}");
        code.match_indices(&needle).any(|(at, _)| {
            !code[at + needle.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    }

    #[test]
    fn every_module_that_reports_a_rule_is_where_it_is_documented() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        rust_sources(&root.join("src"), &mut files);
        let skip = ["src/rules/mod.rs", "src/rules/docs.rs"].map(|path| root.join(path));
        let mut checked = 0;
        for file in files.iter().filter(|file| !skip.contains(file)) {
            let source = std::fs::read_to_string(file).expect("source");
            let code = source.split("#[cfg(test)]").next().unwrap_or_default();
            let relative = file
                .strip_prefix(root)
                .expect("under the crate")
                .to_string_lossy()
                .replace('\\', "/");
            for rule in Rule::ALL {
                if !names_variant(code, &format!("{rule:?}")) {
                    continue;
                }
                checked += 1;
                // A rule module split into submodules (`user/root.rs`) is documented in its
                // parent's header (`user.rs`).
                let documented = sources(rule).iter().any(|source| {
                    let path = source.path();
                    let parent = format!("{}/", path.trim_end_matches(".rs"));
                    source.section.is_some() || path == relative || relative.starts_with(&parent)
                });
                assert!(
                    documented,
                    "{relative} reports {rule}, but `hardport explain {rule}` does not show its documentation"
                );
            }
        }
        assert!(
            checked > 20,
            "only {checked} reports found: the scan is broken"
        );
    }

    #[test]
    fn names_variant_matches_whole_segments_only() {
        assert!(names_variant("x(Rule::Entrypoint, y)", "Entrypoint"));
        assert!(!names_variant("x(Rule::EntrypointFeature)", "Entrypoint"));
        assert!(names_variant("Rule::Onbuild", "Onbuild"));
    }

    #[test]
    fn a_shared_section_ends_at_the_next_section() {
        let markdown = DocSource::shared(Rule::MissingFact).markdown();
        assert!(markdown.starts_with("## `missing-fact`\n"), "{markdown}");
        assert!(markdown.contains("### Fix safety"));
        assert!(!markdown.contains("chart-metadata"), "{markdown}");
        let chart = DocSource::shared(Rule::ChartMetadata).markdown();
        assert!(chart.starts_with("## `chart-metadata`\n"), "{chart}");
        assert!(!chart.contains("## `missing-fact`"));
    }

    #[test]
    fn a_rule_is_explained_without_the_paragraphs_of_its_module_siblings() {
        let explained = explain(Rule::UserRoot);
        assert!(
            explained.contains("- `user-root`: a `RUN` with no `USER` before it"),
            "{explained}"
        );
        assert!(
            !explained.contains("- `user-mapping`: in a stage"),
            "{explained}"
        );
        assert!(explained.contains("## Why"), "the shared sections stay");
        let mapping = explain(Rule::UserMapping);
        assert!(mapping.contains("- `user-mapping`: in a stage"));
        assert!(!mapping.contains("- `user-root`: a `RUN`"));
        // The module's first line names all three: shared, kept.
        assert!(
            mapping.contains("`user-mapping`, `user-root` and `final-root`"),
            "{mapping}"
        );
    }

    #[test]
    fn sections_ignore_headings_inside_code_blocks() {
        let markdown = "## `a`\ntext\n```sh\n## `b`\n```\nmore\n## `b`\nb text\n";
        assert_eq!(
            section(markdown, "`a`"),
            "## `a`\ntext\n```sh\n## `b`\n```\nmore\n"
        );
        assert_eq!(section(markdown, "`b`"), "## `b`\nb text\n");
        assert_eq!(section(markdown, "`c`"), "");
    }

    #[test]
    fn intra_doc_links_become_code_spans_but_links_and_code_blocks_stay() {
        let markdown =
            "See [`Fix`] and [`crate::x`].\n[`y`](http://e) [`z`][r] `[a]`\n```\n[`k`]\n```\n";
        assert_eq!(
            without_intra_doc_links(markdown),
            "See `Fix` and `crate::x`.\n[`y`](http://e) [`z`][r] `[a]`\n```\n[`k`]\n```\n"
        );
        assert!(!DocSource::module(FINDINGS).markdown().contains("[`"));
    }

    #[test]
    fn explain_names_severity_fix_and_every_source() {
        let text = explain(Rule::DigestDropped);
        assert!(
            text.starts_with("digest-dropped: warning, reports only\n"),
            "{text}"
        );
        assert!(text.contains("Documented in src/rules/base_image.rs:\n\n`base-image`"));
        assert!(text.contains("Documented in src/rules/helm_images.rs:\n\n`helm-image`"));
        assert!(explain(Rule::UserRoot).starts_with("user-root: info, changes the file\n"));
    }

    #[test]
    fn the_list_follows_rule_all() {
        let list = list();
        assert_eq!(list.len(), Rule::ALL.len());
        let user_root = &list[Rule::ALL
            .iter()
            .position(|rule| *rule == Rule::UserRoot)
            .expect("listed")];
        assert_eq!(user_root.id, "user-root");
        assert!(user_root.fixes);
        assert_eq!(user_root.documented_in, ["src/rules/user.rs"]);
    }
}
