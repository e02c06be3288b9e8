//! What `hardport migrate` prints for a person, on stderr: findings, per-file totals, the
//! progress bar and the run's summary.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use hardport::color;
use hardport::diagnostic::Severity;
use hardport::markdown::counted;
use hardport::migrate::{FileChanges, FileReport, Finding};
use hardport::report::{FileTotals, Mode, Summary};
use hardport::rules::Rule;

/// How much `migrate` says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only: failed files and error findings.
    Quiet,
    /// Warnings and errors, one totals line per file that changes, and the run's summary.
    Normal,
    /// Every finding, skipped file and per-file totals line.
    Verbose,
}

/// What the findings printer shows.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    pub verbosity: Verbosity,
    /// Each `unmapped-image` finding on its own line, instead of one count per image.
    pub each_unmapped: bool,
    pub colour: bool,
}

/// Counts kept over a run for the lines after the summary.
#[derive(Debug, Default)]
pub struct Tally {
    /// References no catalog entry replaces, per repository.
    unmapped: BTreeMap<String, usize>,
    /// Findings per rule: how many, and how many of them hardport fixed.
    per_rule: BTreeMap<Rule, (usize, usize)>,
}

impl Tally {
    fn add(&mut self, finding: &Finding) {
        let (count, fixed) = self.per_rule.entry(finding.rule).or_default();
        *count += 1;
        *fixed += usize::from(finding.fixed);
        if let Some(image) = &finding.unmapped_image {
            *self.unmapped.entry(image.clone()).or_default() += 1;
        }
    }

    /// `hardport: 17 references to 3 unmapped images: alpine (14), debian (2), redis (1)`:
    /// the most used first, the ten most used named.
    pub fn unmapped_line(&self) -> Option<String> {
        const NAMED: usize = 10;
        if self.unmapped.is_empty() {
            return None;
        }
        let mut images: Vec<(&String, &usize)> = self.unmapped.iter().collect();
        images.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let references: usize = images.iter().map(|(_, count)| **count).sum();
        let mut named: Vec<String> = images
            .iter()
            .take(NAMED)
            .map(|(image, count)| format!("{} ({count})", familiar(image)))
            .collect();
        if images.len() > NAMED {
            named.push(format!("and {} more", images.len() - NAMED));
        }
        Some(format!(
            "hardport: {} to {} no catalog entry replaces: {} (--show-unmapped lists each)",
            counted(references, "reference"),
            counted(images.len(), "image"),
            named.join(", ")
        ))
    }

    /// One line per rule that found anything, the most frequent first: count, rule id,
    /// severity, and how many were fixed.
    pub fn statistics(&self) -> Vec<String> {
        let mut rules: Vec<(&Rule, &(usize, usize))> = self.per_rule.iter().collect();
        rules.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.code().cmp(b.0.code())));
        let width = rules
            .iter()
            .map(|(rule, _)| rule.code().len())
            .max()
            .unwrap_or(0);
        rules
            .into_iter()
            .map(|(rule, (count, fixed))| {
                let fixed = match fixed {
                    0 => String::new(),
                    fixed => format!("  {fixed} fixed"),
                };
                format!(
                    "{count:>6}  {:<width$}  {:<7}{fixed}",
                    rule.code(),
                    rule.severity().as_str()
                )
                .trim_end()
                .to_owned()
            })
            .collect()
    }
}

/// A repository as people write it: Docker Hub's `docker.io/library/` and `docker.io/` left out.
fn familiar(repository: &str) -> &str {
    repository
        .strip_prefix("docker.io/library/")
        .or_else(|| repository.strip_prefix("docker.io/"))
        .unwrap_or(repository)
}

/// A file's findings, one line each, as much as `shown` asks for, then (for a file that changes,
/// or always when verbose) its totals: `path: 2 changes, 0 errors, 1 warning, 3 info`. A file
/// that failed gets its error line instead, whatever the verbosity. Every finding is counted
/// in `tally`, shown or not.
pub fn print_findings(
    out: &mut impl Write,
    report: &FileReport,
    shown: Shown,
    tally: &mut Tally,
) -> io::Result<()> {
    let path = &report.display_path;
    let severity = |severity: Severity| {
        if shown.colour {
            color::severity(severity)
        } else {
            severity.to_string()
        }
    };
    match &report.outcome {
        Ok(FileChanges {
            skipped: Some(skipped),
            ..
        }) => {
            let wanted = match shown.verbosity {
                Verbosity::Quiet => false,
                Verbosity::Normal => skipped.hides_change,
                Verbosity::Verbose => true,
            };
            if wanted {
                let at = match skipped.line {
                    Some(line) => format!("{path}:{line}"),
                    None => path.clone(),
                };
                let info = severity(Severity::Info);
                writeln!(out, "{at}: {info}: skipped: {}", skipped.reason)?;
            }
        }
        Ok(changes) => {
            for finding in &changes.findings {
                tally.add(finding);
                if !is_shown(finding, shown) {
                    continue;
                }
                writeln!(
                    out,
                    "{path}:{}: {}[{}]: {}",
                    finding.line,
                    severity(finding.severity),
                    finding.rule,
                    finding.text()
                )?;
            }
            let totals = FileTotals::of(&changes.findings);
            let wanted = match shown.verbosity {
                Verbosity::Quiet => false,
                Verbosity::Normal => totals.changes > 0,
                Verbosity::Verbose => true,
            };
            if wanted {
                writeln!(
                    out,
                    "{path}: {}, {}, {}, {} info",
                    counted(totals.changes, "change"),
                    counted(totals.findings.error, "error"),
                    counted(totals.findings.warning, "warning"),
                    totals.findings.info
                )?;
            }
        }
        Err(error) => {
            let error_word = severity(Severity::Error);
            match error.line() {
                Some(line) => writeln!(out, "{path}:{line}: {error_word}: {error}")?,
                None => writeln!(out, "{path}: {error_word}: {error}")?,
            }
        }
    }
    Ok(())
}

/// Whether `finding` gets a line of its own.
fn is_shown(finding: &Finding, shown: Shown) -> bool {
    let least = match shown.verbosity {
        Verbosity::Quiet => Severity::Error,
        Verbosity::Normal => Severity::Warning,
        Verbosity::Verbose => Severity::Info,
    };
    if finding.unmapped_image.is_some() {
        shown.lists_unmapped()
    } else {
        finding.severity >= least
    }
}

impl Shown {
    /// Whether each `unmapped-image` finding is printed (else the summary counts them).
    pub fn lists_unmapped(self) -> bool {
        match self.verbosity {
            Verbosity::Quiet => false,
            Verbosity::Normal => self.each_unmapped,
            Verbosity::Verbose => true,
        }
    }
}

/// A progress bar on stderr for runs long enough to want one: drawn only on a terminal, never
/// when `CI` is set, and only once the run has taken longer than [`Progress::DELAY`], so a
/// quick run prints nothing but its results.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    may_show: bool,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(400);

    pub fn new(files: usize) -> Progress {
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(files).unwrap_or(u64::MAX)),
            ProgressDrawTarget::hidden(),
        );
        // One wide element only: indicatif gives the spare width to one of them, and with two
        // it drew the message in the bar's place too (the path twice, no bar).
        if let Ok(style) = ProgressStyle::with_template("{pos}/{len} files [{bar:30}] {wide_msg}") {
            bar.set_style(style);
        }
        Progress {
            bar,
            started: Instant::now(),
            may_show: io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
        }
    }

    pub fn advance(&mut self, path: &str) {
        if self.may_show && self.bar.is_hidden() && self.started.elapsed() > Self::DELAY {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.bar.set_message(path.to_owned());
        self.bar.inc(1);
    }

    /// Run `print` with the bar hidden, so lines printed to stderr do not mix with it.
    pub fn suspend<T>(&self, print: impl FnOnce() -> T) -> T {
        self.bar.suspend(print)
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

pub fn summary_line(summary: &Summary, mode: Mode) -> String {
    let changed = match mode {
        Mode::Write => "changed",
        Mode::DryRun | Mode::Check => "would change",
    };
    let failed = summary.files_failed;
    let skipped = match summary.files_skipped {
        0 => String::new(),
        count => format!(", {count} skipped"),
    };
    let findings = &summary.findings;
    format!(
        "hardport: {} scanned, {} {changed} ({}), {failed} failed{skipped}; findings: {}, {}, {} info",
        counted(summary.files_scanned, "file"),
        summary.files_changed,
        counted(summary.changes, "change"),
        counted(findings.error, "error"),
        counted(findings.warning, "warning"),
        findings.info
    )
}
