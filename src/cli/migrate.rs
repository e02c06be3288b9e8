//! `hardport migrate`: its arguments, the run, and its exit code.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};

use hardport::color::{self, Stream, When};
use hardport::config::{CanonicalPath, Exclusion, RuleScope};
use hardport::diagnostic::Severity;
use hardport::diff::display_path;
use hardport::diff::unified_diff;
use hardport::discovery::{FileKind, explicit_kind};
use hardport::discovery::{Walk, discover};
use hardport::helm::chart::ChartCache;
use hardport::helm::verify::Verifier;
use hardport::input::{DEFAULT_MAX_FILE_SIZE, parse_size};
use hardport::kubernetes::Kustomizations;
use hardport::markdown;
use hardport::migrate::{FileChanges, FileOptions, FileReport, Patch, WriteMode, migrate_text};
use hardport::patch_path::{PatchBase, Reach, ReachCounts};
use hardport::pipeline;
use hardport::report::{Mode, Report, Summary};
use hardport::rules::{Context, Pin, RuleSelector, RuleSet};
use hardport::sarif;
use hardport::scope::Scope;

use super::output::{Progress, Shown, Tally, Verbosity, print_findings, summary_line};
use super::{
    CatalogArgs, EXIT_INTERRUPTED, INTERRUPTED, RunCatalog, facts, load_catalog, stop_on_signals,
    thread_count,
};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Files or directories to migrate. Named files are always processed (a template of a
    /// Dockerfile is still skipped, with a message).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Apply the changes in place (atomically) instead of printing a patch.
    #[arg(long, conflicts_with = "check")]
    write: bool,
    /// Change nothing; exit 1 when any change would be made.
    #[arg(long)]
    check: bool,
    /// With --check: also print the patch.
    #[arg(long, requires = "check")]
    diff: bool,
    /// What stdout carries.
    #[arg(long, value_enum, default_value_t = Format::Diff)]
    format: Format,
    /// When to colour the patch and the findings. `auto`: only a terminal, unless `NO_COLOR`
    /// is set; a piped patch is never coloured.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Files larger than this are reported and left untouched: bytes, or K, M, G (binary
    /// multiples: 8M = 8 MiB).
    #[arg(long, value_name = "SIZE", default_value_t = DEFAULT_MAX_FILE_SIZE, value_parser = parse_size)]
    max_file_size: u64,
    /// Threads to walk and migrate with; 0 (the default): one per core. Output is the same
    /// whatever the number.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// First read the images' facts from their registries into the lock (as `hardport facts
    /// resolve`), then migrate with them.
    #[arg(long, conflicts_with = "no_lock")]
    resolve: bool,
    /// Render each chart with its values.yaml by `helm template`, before and after, and report
    /// every container that does not run what the migration should give it.
    #[arg(long)]
    verify: bool,
    /// Pin every replacement reference by the digest hardport.lock holds for it
    /// (`image:tag@sha256:…`); images the lock does not hold are reported.
    #[arg(long, conflicts_with = "no_lock")]
    pin: bool,
    #[command(flatten)]
    registry: facts::RegistryArgs,
    /// Also walk vendored trees: directories named vendor, node_modules, third_party,
    /// third-party, .venv or site-packages, skipped by default. Paths named on the command
    /// line are walked either way.
    #[arg(long)]
    include_vendored: bool,
    /// Print only the patch and errors on stderr: no warnings, totals or summary.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Print every finding, info included, and a totals line for every file.
    #[arg(short, long)]
    verbose: bool,
    /// Print each `unmapped-image` finding, instead of one count per image after the summary.
    #[arg(long)]
    show_unmapped: bool,
    /// After the summary, print how many findings each rule made, and how many it fixed.
    #[arg(long)]
    statistics: bool,
    /// Exit 1 when any finding of this severity or above remains (`warning`: warnings and
    /// errors).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
    /// Exit 0 whatever was found, would change or failed; only a usage error or an interrupt
    /// gives another code.
    #[arg(long, conflicts_with = "fail_on")]
    exit_zero: bool,
    /// Run only these rules (`ALL`, or rule ids, comma-separated); replaces `select` of
    /// hardport.toml.
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    select: Option<Vec<RuleSelector>>,
    /// Do not run these rules (comma-separated rule ids, or `ALL`); added to `ignore` of
    /// hardport.toml.
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    ignore: Vec<RuleSelector>,
    /// Leave out files and directories matching these gitignore patterns (relative to the
    /// current directory), besides those hardport.toml excludes.
    #[arg(long, value_name = "PATTERN")]
    extend_exclude: Vec<String>,
    /// Leave out excluded files even when they are named on the command line (as pre-commit
    /// names them).
    #[arg(long)]
    force_exclude: bool,
    /// Read the file from stdin, as the file PATH (its name decides what it is, its directory
    /// the chart and hardport.toml): the patch on stdout, or with --write the migrated text
    /// (nothing is written to disk). For editors and scripts.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["verify", "resolve"])]
    stdin_filename: Option<PathBuf>,
    #[command(flatten)]
    catalog: CatalogArgs,
}

/// The least severity that fails a run under `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Info,
    Warning,
    Error,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
        }
    }
}

/// What a run takes from the command line and hardport.toml together: the command line wins.
struct RunSettings {
    catalog: CatalogArgs,
    include_vendored: bool,
    show_unmapped: bool,
    fail_on: Option<Severity>,
    /// hardport.toml's `exclude` and `extend-exclude`, rooted at its directory.
    excluded_by_config: Exclusion,
    /// `--extend-exclude`, rooted at the current directory.
    excluded_here: Exclusion,
    force_exclude: bool,
    rules: RuleScope,
}

impl RunSettings {
    fn new(args: &MigrateArgs, start: &Path) -> anyhow::Result<RunSettings> {
        let config = args.catalog.config(start)?;
        let settings = config.as_ref().map(|config| &config.settings);
        let flag = |cli: bool, file: Option<bool>| cli || file.unwrap_or(false);
        let rules = match &config {
            Some(config) => config.rule_scope(args.select.as_deref(), &args.ignore),
            None => Ok(RuleScope::new(RuleSet::selected(
                args.select.as_deref(),
                &args.ignore,
            ))),
        }
        .map_err(|message| anyhow::anyhow!(message))?;
        Ok(RunSettings {
            catalog: args.catalog.with_config(config.as_ref())?,
            include_vendored: flag(
                args.include_vendored,
                settings.and_then(|settings| settings.include_vendored),
            ),
            show_unmapped: flag(
                args.show_unmapped,
                settings.and_then(|settings| settings.show_unmapped),
            ),
            fail_on: args
                .fail_on
                .map(FailOn::severity)
                .or(settings.and_then(|settings| settings.fail_on)),
            excluded_by_config: match &config {
                Some(config) => config
                    .exclusion()
                    .map_err(|message| anyhow::anyhow!(message))?,
                None => Exclusion::none(),
            },
            excluded_here: Exclusion::new(Path::new("."), &args.extend_exclude)
                .map_err(|message| anyhow::anyhow!("--extend-exclude: {message}"))?,
            force_exclude: flag(
                args.force_exclude,
                settings.and_then(|settings| settings.force_exclude),
            ),
            rules,
        })
    }

    /// Whether the file at `path` is left out; `named` when the command line names it, which
    /// keeps it unless `force-exclude`.
    fn excludes(&self, path: &Path, named: bool) -> bool {
        let exclusions = [&self.excluded_by_config, &self.excluded_here];
        (!named || self.force_exclude)
            && exclusions.iter().any(|exclusion| !exclusion.is_empty())
            && CanonicalPath::of(path)
                .is_some_and(|path| exclusions.iter().any(|exclusion| exclusion.matches(&path)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A unified diff in `git apply` form.
    Diff,
    /// One JSON report object (schema in docs/report.schema.json).
    Json,
    /// A pull-request body: images migrated, a checklist of findings, the patch.
    Markdown,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl From<ColorChoice> for When {
    fn from(choice: ColorChoice) -> Self {
        match choice {
            ColorChoice::Auto => When::Auto,
            ColorChoice::Always => When::Always,
            ColorChoice::Never => When::Never,
        }
    }
}

pub fn run(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.stdin_filename {
        return run_stdin(args, name);
    }
    stop_on_signals()?;
    let start = args.paths.first().map_or(Path::new("."), PathBuf::as_path);
    let settings = RunSettings::new(args, start)?;
    let walk = Walk {
        threads: thread_count(args.threads),
        include_vendored: settings.include_vendored,
        max_file_size: args.max_file_size,
    };
    let verifier = match args.verify {
        true => Some(Verifier::find(std::env::var_os("PATH"))?),
        false => None,
    };
    let unresolved = match args.resolve {
        true => facts::resolve_into_lock(&args.paths, &settings.catalog, &args.registry, walk)?,
        false => 0,
    };
    let RunCatalog {
        catalog,
        names: catalog_names,
    } = load_catalog(&settings.catalog, start)?;
    let pin = match args.pin {
        true => Pin::FromLock,
        false => Pin::Off,
    };
    let context = Context::new(&catalog).pinning(pin);
    let scope = Scope::of(&args.paths);
    let charts = ChartCache::new(args.max_file_size);
    let patch_base = PatchBase::current();
    let mut discovery = discover(&args.paths, &scope, walk);
    // Read before exclusions apply: an excluded kustomization still renames what it builds.
    let kustomizations = Kustomizations::of(&discovery.files, args.max_file_size);
    let options = FileOptions {
        mode: if args.write {
            WriteMode::Write(&scope)
        } else {
            WriteMode::DryRun
        },
        max_file_size: args.max_file_size,
        charts: &charts,
        patch_base: &patch_base,
        verify: verifier.as_ref(),
        rules: &settings.rules,
        kustomizations: &kustomizations,
    };
    let mode = match (args.write, args.check) {
        (true, _) => Mode::Write,
        (_, true) => Mode::Check,
        _ => Mode::DryRun,
    };
    let threads = walk.threads;
    // A path named on the command line is taken even when excluded (unless force-exclude),
    // and so is everything below a named directory that is itself excluded.
    let named_excluded: Vec<&PathBuf> = args
        .paths
        .iter()
        .filter(|path| settings.excludes(path, false))
        .collect();
    discovery.files.retain(|file| {
        let named = args.paths.contains(&file.path)
            || named_excluded
                .iter()
                .any(|root| file.path.starts_with(root));
        !settings.excludes(&file.path, named)
    });

    let var = |name: &str| std::env::var(name).ok();
    let when = When::from(args.color);
    let color_patch = color::enabled(when, Stream::Product, io::stdout().is_terminal(), var);
    let color_messages = color::enabled(when, Stream::Messages, io::stderr().is_terminal(), var);
    let mut stdout = io::stdout().lock();
    // stderr is locked per message, never for the whole run: the Ctrl-C handler prints to it.
    let mut stderr = io::stderr();
    for error in &discovery.errors {
        writeln!(
            stderr,
            "{}: error: {}",
            display_path(&error.path),
            error.message
        )?;
    }

    // Findings and patches stream out in path order as files are done; only the report formats
    // keep the files' reports, which they are made of.
    let keeps_reports = args.format != Format::Diff;
    let prints_patches = args.format == Format::Diff && !args.write && (!args.check || args.diff);
    let mut summary = Summary::of(&[], &discovery.errors);
    // Patched files `git apply` run here would skip or refuse, for the advice after the summary.
    let mut reach = ReachCounts::default();
    let mut reports = Vec::new();
    let mut progress = Progress::new(discovery.files.len());
    let shown = Shown {
        verbosity: verbosity(args),
        each_unmapped: settings.show_unmapped,
        colour: color_messages,
    };
    let mut tally = Tally::default();
    let processed = pipeline::run(
        &discovery.files,
        context,
        options,
        threads,
        &INTERRUPTED,
        |report| -> io::Result<()> {
            progress.advance(&report.display_path);
            // One write per file: stderr is unbuffered.
            let mut findings = Vec::new();
            print_findings(&mut findings, &report, shown, &mut tally)?;
            progress.suspend(|| stderr.write_all(&findings))?;
            summary.add(&report);
            if let Some(where_applied) = report.reach() {
                reach.add(where_applied);
            }
            if let Some(patch) = report.patch().filter(|_| prints_patches) {
                if color_patch {
                    stdout.write_all(color::diff(patch).as_bytes())?;
                } else {
                    stdout.write_all(patch.as_bytes())?;
                }
            }
            if keeps_reports {
                reports.push(report);
            }
            Ok(())
        },
    )?;
    progress.finish();

    if shown.verbosity > Verbosity::Quiet {
        writeln!(stderr, "{}", summary_line(&summary, mode))?;
        if let Some(line) = tally.unmapped_line().filter(|_| !shown.lists_unmapped()) {
            writeln!(stderr, "{line}")?;
        }
    }
    if args.statistics {
        for line in tally.statistics() {
            writeln!(stderr, "{line}")?;
        }
    }
    // Said whenever a patch goes out: printed, or inside a report.
    if shown.verbosity > Verbosity::Quiet && (prints_patches || (keeps_reports && !args.write)) {
        for advice in patch_base.advice(reach) {
            writeln!(stderr, "hardport: note: {advice}")?;
        }
    }
    let interrupted = processed < discovery.files.len();
    if interrupted {
        writeln!(
            stderr,
            "hardport: interrupted after {processed} of {} files; the others were not read",
            discovery.files.len()
        )?;
    }

    let report = || {
        Report::new(
            mode,
            catalog_names.clone(),
            &catalog,
            &reports,
            &discovery.errors,
        )
    };
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&report())?;
            writeln!(stdout, "{json}")?;
        }
        Format::Markdown => stdout.write_all(markdown::render(&report()).as_bytes())?,
        Format::Sarif => {
            let json = serde_json::to_string_pretty(&sarif::log(&report()))?;
            writeln!(stdout, "{json}")?;
        }
        Format::Diff => {}
    }
    stdout.flush()?;

    Ok(exit_code(
        args,
        &settings,
        &summary,
        unresolved,
        interrupted,
    ))
}

fn verbosity(args: &MigrateArgs) -> Verbosity {
    match (args.quiet, args.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    }
}

/// The exit code of a run: 130 interrupted; with `--exit-zero` 0; 2 when a file failed or an
/// image could not be resolved; 1 for pending changes under `--check` or a finding `--fail-on`
/// names; else 0.
fn exit_code(
    args: &MigrateArgs,
    settings: &RunSettings,
    summary: &Summary,
    unresolved: usize,
    interrupted: bool,
) -> ExitCode {
    let findings = &summary.findings;
    let failing = settings.fail_on.is_some_and(|least| match least {
        Severity::Error => findings.error > 0,
        Severity::Warning => findings.error + findings.warning > 0,
        Severity::Info => findings.error + findings.warning + findings.info > 0,
    });
    if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if args.exit_zero {
        ExitCode::SUCCESS
    } else if summary.files_failed > 0 || unresolved > 0 {
        ExitCode::from(2)
    } else if (args.check && summary.files_changed > 0) || failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--stdin-filename NAME`: migrate stdin as the file `name`. stdout carries the patch, or with
/// `--write` the migrated text (the input unchanged when nothing changes), so an editor can
/// replace its buffer with it; stderr carries the findings as for a file on disk.
fn run_stdin(args: &MigrateArgs, name: &Path) -> anyhow::Result<ExitCode> {
    let start = name
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let settings = RunSettings::new(args, start)?;
    let RunCatalog { catalog, .. } = load_catalog(&settings.catalog, start)?;
    let mut text = String::new();
    io::stdin()
        .take(args.max_file_size.saturating_add(1))
        .read_to_string(&mut text)
        .context("stdin is not UTF-8 text")?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > args.max_file_size {
        bail!(
            "stdin is larger than --max-file-size ({} bytes)",
            args.max_file_size
        );
    }
    let kind = explicit_kind(name, || Some(text.clone()));
    let charts = ChartCache::new(args.max_file_size);
    let chart = (kind == FileKind::HelmValues).then(|| charts.chart(start));
    let pin = if args.pin { Pin::FromLock } else { Pin::Off };
    let mut context = Context::new(&catalog)
        .pinning(pin)
        .with_rules(settings.rules.for_file(name));
    if let Some(chart) = &chart {
        context = context.with_lazy_chart(chart);
    }
    let outcome = migrate_text(kind, &text, context);
    let migrated = outcome
        .as_ref()
        .ok()
        .map(|migration| migration.text.clone());
    let patch = migrated
        .as_deref()
        .filter(|migrated| *migrated != text)
        .map(|migrated| unified_diff(display_path(name), &text, migrated));
    let report = FileReport {
        path: name.to_path_buf(),
        display_path: display_path(name),
        kind,
        outcome: outcome.map(|migration| FileChanges {
            findings: migration.findings,
            patch: patch.clone().map(|text| Patch {
                text,
                reach: Reach::Here,
            }),
            skipped: None,
        }),
    };
    let var = |name: &str| std::env::var(name).ok();
    let shown = Shown {
        verbosity: verbosity(args),
        each_unmapped: settings.show_unmapped,
        colour: color::enabled(
            When::from(args.color),
            Stream::Messages,
            io::stderr().is_terminal(),
            var,
        ),
    };
    let mut findings = Vec::new();
    let mut tally = Tally::default();
    print_findings(&mut findings, &report, shown, &mut tally)?;
    if let Some(line) = tally
        .unmapped_line()
        .filter(|_| shown.verbosity > Verbosity::Quiet && !shown.lists_unmapped())
    {
        writeln!(findings, "{line}")?;
    }
    if args.statistics {
        for line in tally.statistics() {
            writeln!(findings, "{line}")?;
        }
    }
    io::stderr().write_all(&findings)?;
    let mut stdout = io::stdout().lock();
    match (&migrated, args.write) {
        (Some(migrated), true) => stdout.write_all(migrated.as_bytes())?,
        (None, true) => stdout.write_all(text.as_bytes())?,
        (_, false) if !args.check || args.diff => {
            stdout.write_all(patch.as_deref().unwrap_or_default().as_bytes())?;
        }
        _ => {}
    }
    stdout.flush()?;
    let summary = Summary::of(std::slice::from_ref(&report), &[]);
    Ok(exit_code(args, &settings, &summary, 0, false))
}
