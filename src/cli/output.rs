//! What `hardport migrate` prints for a person, on stderr: findings, per-file totals, the
//! progress bar and the run's summary.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use hardport::color;
use hardport::diagnostic::Severity;
use hardport::markdown::counted;
use hardport::migrate::{FileChanges, FileReport};
use hardport::report::{FileTotals, Mode, Summary};

/// A file's findings, one line each, then its totals: `path: 2 changes, 0 errors, 1 warning,
/// 3 info`. A file that failed gets its error line instead.
pub fn print_findings(out: &mut impl Write, report: &FileReport, colour: bool) -> io::Result<()> {
    let path = &report.display_path;
    let severity = |severity: Severity| {
        if colour {
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
            let at = match skipped.line {
                Some(line) => format!("{path}:{line}"),
                None => path.clone(),
            };
            let info = severity(Severity::Info);
            writeln!(out, "{at}: {info}: skipped: {}", skipped.reason)?;
        }
        Ok(changes) => {
            for finding in &changes.findings {
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
            writeln!(
                out,
                "{path}: {}, {}, {}, {} info",
                counted(totals.changes, "change"),
                counted(totals.findings.error, "error"),
                counted(totals.findings.warning, "warning"),
                totals.findings.info
            )?;
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
        if let Ok(style) = ProgressStyle::with_template("{pos}/{len} files {wide_bar} {wide_msg}") {
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
