//! `--format markdown`: a pull-request body for GitHub.
//!
//! Four parts: what was migrated (a table of image references, public → replacement), what a
//! person must still check (every finding hardport did not fix, as a checklist, errors first),
//! the patch (one collapsed block per file), and a footer naming the catalogs and the sources of
//! the catalog entries used. Text from files and messages is escaped so it cannot break the
//! table, open a tag, or turn `#12` / `@name` into a link or a mention.

use std::fmt::Write as _;

use crate::diagnostic::Severity;
use crate::report::{FileEntry, FindingEntry, Mode, Report};

/// GitHub refuses a pull-request body over 65,536 characters. Each part may fill the body up
/// to its own mark and no further; what does not fit is counted and said, so the whole body
/// always fits, with room to spare for the line that says so.
const BODY_BUDGET: usize = 60_000;
/// How far the table of rewritten images may fill the body.
const TABLE_BUDGET: usize = 20_000;
/// How far the checklist may fill the body.
const CHECKLIST_BUDGET: usize = 45_000;
/// How long the footer's list of sources may be.
const SOURCES_BUDGET: usize = 6_000;
/// How many patches left out are named; the rest are counted.
const NAMED_LEFT_OUT: usize = 10;

/// Lines written to the body while it stays within a mark; the lines past it are counted.
struct Bounded<'o> {
    out: &'o mut String,
    limit: usize,
    left_out: usize,
}

impl<'o> Bounded<'o> {
    fn new(out: &'o mut String, limit: usize) -> Self {
        Bounded {
            out,
            limit,
            left_out: 0,
        }
    }

    fn push(&mut self, line: &str) {
        if self.out.len() + line.len() > self.limit {
            self.left_out += 1;
        } else {
            self.out.push_str(line);
        }
    }

    /// Says how many `what` did not fit, if any.
    fn finish(self, what: &str) {
        if self.left_out > 0 {
            let _ = writeln!(
                self.out,
                "\n*{} {what} not listed, to keep this text within GitHub's size limit: see the JSON report (`hardport migrate --format json`).*",
                self.left_out
            );
        }
    }
}

/// The pull-request body for `report`.
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    let summary = &report.summary;
    let verb = match report.mode {
        Mode::Write => "changed",
        Mode::DryRun | Mode::Check => "would change",
    };
    let _ = writeln!(out, "## Migration to hardened images\n");
    let skipped = match summary.files_skipped {
        0 => String::new(),
        count => format!(", {count} skipped"),
    };
    let _ = writeln!(
        out,
        "hardport {} scanned {}: {} {verb} ({}), {} failed{skipped}. Findings: {}, {}, {} info.\n",
        report.tool.version,
        counted(summary.files_scanned, "file"),
        summary.files_changed,
        counted(summary.changes, "change"),
        summary.files_failed,
        counted(summary.findings.error, "error"),
        counted(summary.findings.warning, "warning"),
        summary.findings.info,
    );
    migrated(&mut out, report);
    checklist(&mut out, report);
    let footer = footer(report);
    patches(&mut out, report, footer.len());
    out.push_str(&footer);
    out
}

/// The table of image references rewritten.
fn migrated(out: &mut String, report: &Report<'_>) {
    out.push_str("### What was migrated\n\n");
    let rows: Vec<_> = report
        .files
        .iter()
        .flat_map(|file| file.images.iter().map(move |image| (file.path, image)))
        .collect();
    if rows.is_empty() {
        out.push_str("No image reference was rewritten.\n\n");
        return;
    }
    out.push_str("| File | Image before | → | Image after |\n| --- | --- | --- | --- |\n");
    let mut table = Bounded::new(out, TABLE_BUDGET);
    for (path, image) in rows {
        table.push(&format!(
            "| {} | {} | → | {} |\n",
            cell(&code(&format!("{path}:{}", image.line))),
            cell(&code(image.before)),
            cell(&code(image.after)),
        ));
    }
    table.finish("more rewritten images");
    out.push('\n');
}

/// Every finding not fixed, every file that could not be migrated (errors) and every file
/// skipped (info: a template someone must migrate by hand), as a checklist grouped by severity,
/// errors first.
fn checklist(out: &mut String, report: &Report<'_>) {
    out.push_str("### What a human must still check\n\n");
    let failed: Vec<&FileEntry<'_>> = report
        .files
        .iter()
        .filter(|file| file.error.is_some())
        .collect();
    let skipped: Vec<&FileEntry<'_>> = report
        .files
        .iter()
        .filter(|file| file.skipped.is_some())
        .collect();
    let open: Vec<&FindingEntry<'_>> = report
        .files
        .iter()
        .flat_map(|file| file.findings.iter())
        .filter(|finding| !finding.fixed)
        .collect();
    if failed.is_empty() && open.is_empty() && report.walk_errors.is_empty() && skipped.is_empty() {
        out.push_str("Nothing: hardport fixed everything it found.\n\n");
        return;
    }
    for (severity, heading) in [
        (Severity::Error, "Errors"),
        (Severity::Warning, "Warnings"),
        (Severity::Info, "Info"),
    ] {
        let findings: Vec<&&FindingEntry<'_>> = open
            .iter()
            .filter(|finding| finding.severity == severity)
            .collect();
        let (failures, walk_errors, skips) = match severity {
            Severity::Error => (failed.as_slice(), report.walk_errors.as_slice(), &[][..]),
            Severity::Warning => (&[][..], &[][..], &[][..]),
            Severity::Info => (&[][..], &[][..], skipped.as_slice()),
        };
        let count = findings.len() + failures.len() + walk_errors.len() + skips.len();
        if count == 0 {
            continue;
        }
        let _ = writeln!(out, "#### {heading} ({count})\n");
        let mut items = Bounded::new(out, CHECKLIST_BUDGET);
        for error in walk_errors {
            items.push(&format!(
                "- [ ] {} could not be read: {}\n",
                code(&error.path),
                text(&error.message)
            ));
        }
        for file in failures {
            if let Some(error) = &file.error {
                let at = match error.line {
                    Some(line) => format!("{}:{line}", file.path),
                    None => file.path.to_owned(),
                };
                items.push(&format!(
                    "- [ ] {} could not be migrated: {}\n",
                    code(&at),
                    text(&error.message)
                ));
            }
        }
        for file in skips {
            if let Some(skip) = &file.skipped {
                let at = match skip.line {
                    Some(line) => format!("{}:{line}", file.path),
                    None => file.path.to_owned(),
                };
                items.push(&format!(
                    "- [ ] {} was skipped: {}\n",
                    code(&at),
                    text(skip.reason)
                ));
            }
        }
        for finding in findings {
            let mut item = format!(
                "- [ ] {} {}: {}",
                code(&format!("{}:{}", finding.path, finding.line)),
                code(finding.rule.code()),
                text(finding.message)
            );
            if let Some(suggestion) = finding.suggestion {
                let _ = write!(item, " — *suggestion:* {}", text(suggestion));
            }
            item.push('\n');
            items.push(&item);
        }
        items.finish("more items");
        out.push('\n');
    }
}

/// One collapsed block per changed file with its patch, while the body stays within budget.
fn patches(out: &mut String, report: &Report<'_>, reserved: usize) {
    let changed: Vec<(&str, &str, usize)> = report
        .files
        .iter()
        .filter_map(|file| Some((file.path, file.patch?, file.changes.len())))
        .collect();
    if changed.is_empty() {
        return;
    }
    out.push_str("### Patch\n\n");
    let mut left_out = Vec::new();
    for (path, patch, changes) in changed {
        let fence = "`".repeat(longest_backtick_run(patch).max(2) + 1);
        let block = format!(
            "<details>\n<summary><code>{}</code>: {}</summary>\n\n{fence}diff\n{}{}{fence}\n\n</details>\n\n",
            html(path),
            counted(changes, "change"),
            patch,
            if patch.ends_with('\n') { "" } else { "\n" },
        );
        if out.len() + block.len() + reserved > BODY_BUDGET {
            left_out.push(path);
        } else {
            out.push_str(&block);
        }
    }
    if !left_out.is_empty() {
        let mut names: Vec<String> = left_out
            .iter()
            .take(NAMED_LEFT_OUT)
            .map(|path| code(path))
            .collect();
        if left_out.len() > NAMED_LEFT_OUT {
            names.push(format!("{} more", left_out.len() - NAMED_LEFT_OUT));
        }
        let _ = writeln!(
            out,
            "Not shown, to keep this text within GitHub's size limit: the patch of {} ({}). Run `hardport migrate` to see it.\n",
            counted(left_out.len(), "file"),
            names.join(", ")
        );
    }
}

/// The catalogs, and the source of every catalog entry a rewrite used.
fn footer(report: &Report<'_>) -> String {
    let mut out = String::from("---\n\n");
    let catalogs: Vec<String> = report.catalogs.iter().map(|name| code(name)).collect();
    let _ = writeln!(
        out,
        "Generated by hardport {} with the {} {}.",
        report.tool.version,
        if catalogs.len() == 1 {
            "catalog"
        } else {
            "catalogs"
        },
        catalogs.join(", ")
    );
    if !report.sources.is_empty() {
        let entries = match report.sources.len() {
            1 => "1 catalog entry".to_owned(),
            count => format!("{count} catalog entries"),
        };
        let _ = writeln!(
            out,
            "\n<details>\n<summary>Sources of the image facts used ({entries})</summary>\n"
        );
        let mut sources = Bounded::new(&mut out, SOURCES_BUDGET);
        for source in &report.sources {
            sources.push(&format!(
                "- {} ({}): {}\n",
                code(&source.entry),
                code(&source.catalog),
                text(&source.source)
            ));
        }
        sources.finish("more sources");
        out.push_str("\n</details>\n");
    }
    out
}

/// `1 file`, `2 files`.
/// "1 file", "3 files".
pub fn counted(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

/// `text` as an inline code span, fenced with more backticks than it holds in a row.
fn code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Markdown for a table cell: GitHub splits cells at every `|` not escaped, even inside code.
fn cell(markdown: &str) -> String {
    markdown.replace('|', "\\|")
}

/// A message as Markdown: its backtick-quoted parts stay code spans, the rest is escaped so it
/// reads as plain text.
fn text(message: &str) -> String {
    let message = message.replace(['\r', '\n'], " ");
    let mut out = String::with_capacity(message.len() + 16);
    let mut rest = message.as_str();
    while let Some(open) = rest.find('`') {
        out.push_str(&escape(&rest[..open]));
        let after = &rest[open + 1..];
        match after.find('`') {
            Some(close) if close > 0 => {
                out.push_str(&code(&after[..close]));
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str("\\`");
                rest = after;
            }
        }
    }
    out.push_str(&escape(rest));
    out
}

/// Plain text with Markdown's punctuation escaped, and `#1` / `@name` kept from becoming links
/// or mentions by a word joiner (U+2060) after the sign.
fn escape(plain: &str) -> String {
    let mut out = String::with_capacity(plain.len());
    let mut chars = plain.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '@' => {
                out.push(c);
                if chars
                    .peek()
                    .is_some_and(|next| next.is_ascii_alphanumeric())
                {
                    out.push('\u{2060}');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text for HTML content.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_and_newlines() {
        assert_eq!(code("node:20"), "`node:20`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a\nb"), "`a b`");
    }

    #[test]
    fn table_cells_escape_pipes_even_in_code() {
        assert_eq!(cell(&code("a|b")), "`a\\|b`");
    }

    #[test]
    fn messages_keep_code_and_escape_the_rest() {
        assert_eq!(
            text("`nginx:1.27` → `reg/nginx:1.27` (entry *x*)"),
            "`nginx:1.27` → `reg/nginx:1.27` (entry \\*x\\*)"
        );
        assert_eq!(text("stage #2 <b>"), "stage #\u{2060}2 \\<b\\>");
        assert_eq!(text("an odd ` tick"), "an odd \\` tick");
        assert_eq!(text("mail @team"), "mail @\u{2060}team");
    }

    #[test]
    fn summaries_are_html_escaped() {
        assert_eq!(html("a<b>&\"c"), "a&lt;b&gt;&amp;&quot;c");
    }
}
