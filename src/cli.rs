//! The command line: arguments, output streams and exit codes.
//!
//! stdout carries only the product (the patch, the JSON report, catalog listings) so it can be
//! redirected into `git apply`; everything meant for a person goes to stderr. Exit codes:
//! 0 success, 1 `--check` found pending changes, 2 usage error, bad catalog, or a file that could
//! not be read, parsed or written, 130 interrupted (SIGINT, SIGTERM or SIGHUP).

use std::io::{self, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use hardport::atomic_write;
use hardport::catalog::{Catalog, CatalogOptions, CatalogOrigin, Entry, Target, check_file};
use hardport::color::{self, Stream, When};
use hardport::diagnostic::Severity;
use hardport::diff::display_path;
use hardport::discovery::{Walk, discover};
use hardport::helm::chart::ChartCache;
use hardport::helm::verify::Verifier;
use hardport::input::{DEFAULT_MAX_FILE_SIZE, parse_size};
use hardport::lock::{self, Lock};
use hardport::markdown::{self, counted};
use hardport::migrate::{FileChanges, FileOptions, FileReport, WriteMode};
use hardport::patch_path::{PatchBase, ReachCounts};
use hardport::pipeline;
use hardport::report::{FileTotals, Mode, Report, Summary};
use hardport::rules::{Context, Pin};
use hardport::sarif;
use hardport::scope::Scope;
use hardport::spec_import::{ImportRequest, Side, import};

mod docs;
mod facts;

#[derive(Debug, Parser)]
#[command(name = "hardport", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Move Dockerfiles and Helm values to hardened images. Dry run by default: prints a patch
    /// `git apply` takes.
    Migrate(MigrateArgs),
    /// Show the catalog of replacements, or check catalog files.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Read image facts from the images' own configs.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Read image facts from the images' registries into hardport.lock.
    #[command(subcommand)]
    Facts(facts::FactsCommand),
    /// List every rule: id, severity, whether it changes files, what it does.
    Rules(docs::RulesArgs),
    /// Print a rule's documentation: what it does, why, an example, and how safe its fix is.
    Explain(docs::ExplainArgs),
    /// Print a shell completion script.
    Completions(docs::CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory.
    Man(docs::ManArgs),
}

#[derive(Debug, Args)]
struct MigrateArgs {
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
    #[command(flatten)]
    catalog: CatalogArgs,
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

#[derive(Debug, Args)]
struct CatalogArgs {
    /// Whose hardened images to migrate to: the built-in catalog the run starts from
    /// (`hardport catalog targets` lists them).
    #[arg(long, value_name = "NAME", default_value = Target::default().name(),
          value_parser = PossibleValuesParser::new(Target::names()).try_map(|name| name.parse::<Target>()))]
    target: Target,
    /// A catalog file merged over the target's (repeatable; an entry with the same name replaces
    /// the earlier one).
    #[arg(long = "catalog", value_name = "FILE")]
    catalogs: Vec<PathBuf>,
    /// Do not use the target's built-in catalog.
    #[arg(long)]
    no_default_catalog: bool,
    /// Target registry for every entry that uses its catalog's default registry; required by
    /// the chainguard (cgr.dev/ORG) and dhi targets.
    #[arg(long, value_name = "HOST[/PATH]")]
    registry: Option<String>,
    /// The lock file of image facts read from registries (default: the nearest hardport.lock
    /// from the first path up to the git work tree's root).
    #[arg(long, value_name = "FILE", conflicts_with = "no_lock")]
    lock: Option<PathBuf>,
    /// Do not read a lock file.
    #[arg(long)]
    no_lock: bool,
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// List every mapping with its origin.
    List(CatalogArgs),
    /// Print one entry, found by name, public image or replacement image.
    Show {
        /// An entry name (`node`), a public image (`node:20`) or a replacement image.
        query: String,
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// List the built-in targets (`--target NAME`) and their registries.
    Targets,
    /// Validate catalog files: schema, `source`, duplicate names and matches, absolute paths,
    /// `config` files. Exit 2 when any is invalid.
    Check {
        /// Catalog files, each checked on its own.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Print catalog entries whose facts are read from image configs (`crane config`,
    /// `skopeo inspect --config`, `docker image inspect` output).
    Import(SpecImportArgs),
}

#[derive(Debug, Args)]
struct SpecImportArgs {
    /// An image and the file its config was printed to, e.g.
    /// `reg.mini.dev/node:20=node-config.json`.
    #[arg(required = true, value_name = "IMAGE=CONFIG")]
    imports: Vec<ImportRequest>,
    /// Which side of the entry the configs describe: the hardened replacement (IMAGE is the
    /// replacement) or the public image (IMAGE is the public image).
    #[arg(long, value_enum, default_value_t = SideArg::Hardened)]
    side: SideArg,
    #[command(flatten)]
    catalog: CatalogArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SideArg {
    Hardened,
    Public,
}

/// Run the command line and map the outcome to an exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Migrate(args) => migrate(&args),
        Command::Catalog(CatalogCommand::List(args)) => catalog_list(&args),
        Command::Catalog(CatalogCommand::Show { query, catalog }) => catalog_show(&query, &catalog),
        Command::Catalog(CatalogCommand::Targets) => catalog_targets(),
        Command::Catalog(CatalogCommand::Check { files }) => catalog_check(&files),
        Command::Spec(SpecCommand::Import(args)) => spec_import(&args),
        Command::Facts(command) => facts::run(&command),
        Command::Rules(args) => docs::rules(&args),
        Command::Explain(args) => docs::explain(&args),
        Command::Completions(args) => docs::completions(&args),
        Command::Man(args) => docs::man(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hardport: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<io::Error>()
        .is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
}

/// The catalog of a run, and what it was assembled from (for the reports).
struct RunCatalog {
    catalog: Catalog,
    /// The catalogs in layer order, then the lock file.
    names: Vec<String>,
}

/// The catalog `args` assemble, with the lock `--lock` names or the one [`lock::discover`]
/// finds from `start` (the first path of a run).
fn load_catalog(args: &CatalogArgs, start: &Path) -> anyhow::Result<RunCatalog> {
    let RunCatalog {
        mut catalog,
        mut names,
    } = load_layers(args)?;
    let lock_path = match (&args.lock, args.no_lock) {
        (_, true) => None,
        (Some(path), false) => Some(path.clone()),
        (None, false) => lock::discover(start, Path::new("."), &|name| std::env::var_os(name)),
    };
    if let Some(path) = lock_path {
        match Lock::read(&path)? {
            Some(lock) => {
                catalog = catalog.with_lock(&lock);
                names.push(path.display().to_string());
            }
            None if args.lock.is_some() => bail!("{}: no such lock file", path.display()),
            None => {}
        }
    }
    Ok(RunCatalog { catalog, names })
}

/// The catalog layers `args` name, without a lock.
fn load_layers(args: &CatalogArgs) -> anyhow::Result<RunCatalog> {
    if args.no_default_catalog && args.catalogs.is_empty() {
        bail!("--no-default-catalog needs at least one --catalog FILE");
    }
    let options = CatalogOptions {
        target: args.target,
        use_default: !args.no_default_catalog,
        files: args.catalogs.clone(),
        registry: args.registry.clone(),
    };
    let catalog = Catalog::load(&options)?;
    let names = (!args.no_default_catalog)
        .then(|| CatalogOrigin::Embedded(args.target).to_string())
        .into_iter()
        .chain(args.catalogs.iter().map(|path| path.display().to_string()))
        .collect();
    Ok(RunCatalog { catalog, names })
}

/// The exit code of a run stopped by a signal: 128 + SIGINT, as shells report Ctrl-C.
const EXIT_INTERRUPTED: u8 = 130;

/// Set by the first SIGINT, SIGTERM or SIGHUP: the run stops before its next file.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// How long the first signal waits for the file in progress before the run stops anyway: far
/// longer than a file takes, far shorter than the grace period a CI runner or `docker stop`
/// gives (GitHub Actions waits 7.5 s after SIGINT, `docker stop` 10 s after SIGTERM).
const GRACE: Duration = Duration::from_secs(2);

/// Make SIGINT, SIGTERM and SIGHUP stop the run between files instead of killing it, so no
/// file is left half-processed and no temporary file is left behind. The handler runs on its
/// own thread (not in signal context), so it may wait and print.
///
/// The run stops at once, never while a file is being replaced (it waits for the write in
/// progress), on a second signal, or [`GRACE`] after the first if the run has not stopped by
/// then: a read that hangs (a network file system), a blocked stdout (`hardport | less` left
/// open) or a file that takes long must not make the first SIGTERM — all a CI timeout sends —
/// go unanswered.
fn stop_on_signals() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            stop_now();
        }
        // Before printing: stderr may be the pipe that blocks the run. For the same reason
        // the watchdog stops without a word; the exit code says it.
        std::thread::spawn(|| {
            std::thread::sleep(GRACE);
            stop_now();
        });
        eprintln!("hardport: interrupted; stopping after the current file (again to stop now)");
    })
    .context("cannot install the handler for Ctrl-C")
}

/// Exit once no file is being replaced.
fn stop_now() -> ! {
    let _paused = atomic_write::pause_writes();
    std::process::exit(i32::from(EXIT_INTERRUPTED));
}

fn migrate(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    stop_on_signals()?;
    let walk = Walk {
        threads: thread_count(args.threads),
        include_vendored: args.include_vendored,
        max_file_size: args.max_file_size,
    };
    let verifier = match args.verify {
        true => Some(Verifier::find(std::env::var_os("PATH"))?),
        false => None,
    };
    let unresolved = match args.resolve {
        true => facts::resolve_into_lock(&args.paths, &args.catalog, &args.registry, walk)?,
        false => 0,
    };
    let start = args.paths.first().map_or(Path::new("."), PathBuf::as_path);
    let RunCatalog {
        catalog,
        names: catalog_names,
    } = load_catalog(&args.catalog, start)?;
    let pin = match args.pin {
        true => Pin::FromLock,
        false => Pin::Off,
    };
    let context = Context::new(&catalog).pinning(pin);
    let scope = Scope::of(&args.paths);
    let charts = ChartCache::new(args.max_file_size);
    let patch_base = PatchBase::current();
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
    };
    let mode = match (args.write, args.check) {
        (true, _) => Mode::Write,
        (_, true) => Mode::Check,
        _ => Mode::DryRun,
    };
    let threads = walk.threads;
    let discovery = discover(&args.paths, &scope, walk);

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
            print_findings(&mut findings, &report, color_messages)?;
            progress.suspend(|| stderr.write_all(&findings))?;
            summary.add(&report);
            if report.patch().is_some()
                && let Ok(located) = patch_base.locate(&report.path)
            {
                reach.add(located.reach);
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

    writeln!(stderr, "{}", summary_line(&summary, mode))?;
    // Said whenever a patch goes out: printed, or inside a report.
    if prints_patches || (keeps_reports && !args.write) {
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

    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if summary.files_failed > 0 || unresolved > 0 {
        ExitCode::from(2)
    } else if args.check && summary.files_changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The threads to use: `requested`, or one per core when it is 0 (or the core count is
/// unknown: one).
fn thread_count(requested: usize) -> NonZeroUsize {
    NonZeroUsize::new(requested)
        .unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
}

/// A file's findings, one line each, then its totals: `path: 2 changes, 0 errors, 1 warning,
/// 3 info`. A file that failed gets its error line instead.
fn print_findings(out: &mut impl Write, report: &FileReport, colour: bool) -> io::Result<()> {
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
struct Progress {
    bar: ProgressBar,
    started: Instant,
    may_show: bool,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(400);

    fn new(files: usize) -> Progress {
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

    fn advance(&mut self, path: &str) {
        if self.may_show && self.bar.is_hidden() && self.started.elapsed() > Self::DELAY {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.bar.set_message(path.to_owned());
        self.bar.inc(1);
    }

    /// Run `print` with the bar hidden, so lines printed to stderr do not mix with it.
    fn suspend<T>(&self, print: impl FnOnce() -> T) -> T {
        self.bar.suspend(print)
    }

    fn finish(self) {
        self.bar.finish_and_clear();
    }
}

fn summary_line(summary: &Summary, mode: Mode) -> String {
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

fn catalog_list(args: &CatalogArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(args, Path::new("."))?.catalog;
    let rows: Vec<[String; 4]> = catalog
        .entries()
        .iter()
        .map(|entry| {
            [
                entry.name.clone(),
                entry.matches.join(", "),
                entry.replacement.clone(),
                entry.origin.to_string(),
            ]
        })
        .collect();
    let header = ["NAME", "REPLACES", "WITH", "FROM CATALOG"].map(str::to_owned);
    print_table(&header, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// Print `header` and `rows` on stdout in columns two spaces apart; the last column is not
/// padded, so lines carry no trailing spaces.
fn print_table<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> io::Result<()> {
    let widths: Vec<usize> = (0..N)
        .map(|column| {
            std::iter::once(header)
                .chain(rows)
                .map(|row| row[column].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut stdout = io::stdout().lock();
    for row in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            if column + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[column]));
            }
        }
        writeln!(stdout, "{line}")?;
    }
    Ok(())
}

fn catalog_targets() -> anyhow::Result<ExitCode> {
    let mut rows = Vec::with_capacity(Target::ALL.len());
    for target in Target::ALL {
        let registry = match target.default_registry()? {
            Some(registry) => registry,
            None => format!("none; pass --registry {}", target.registry_argument()),
        };
        let name = match target == Target::default() {
            true => format!("{target} (default)"),
            false => target.to_string(),
        };
        rows.push([name, registry, target.description().to_owned()]);
    }
    print_table(&["TARGET", "REGISTRY", "VENDOR"].map(str::to_owned), &rows)?;
    Ok(ExitCode::SUCCESS)
}

fn catalog_show(query: &str, args: &CatalogArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(args, Path::new("."))?.catalog;
    let entry: &Entry = catalog
        .find(query)
        .with_context(|| format!("no catalog entry is named {query:?} or maps that image"))?;
    let mut out = io::stdout().lock();
    out.write_all(serde_yaml_ng::to_string(entry)?.as_bytes())?;
    out.write_all(fact_sources(entry).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Where each fact of `entry` comes from, as YAML comments after the entry: the lock (with the
/// image and digest it was read from) or the catalog layer the entry is from (with its source).
fn fact_sources(entry: &Entry) -> String {
    let mut text = String::from("# Where each fact comes from:\n");
    for (side, spec) in [("public", &entry.public), ("hardened", &entry.hardened)] {
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(spec) else {
            continue;
        };
        for field in fields.keys().filter(|field| *field != "config") {
            let key = format!("{side}.{field}");
            let origin = match entry.locked_facts.get(&key) {
                Some(citation) => citation.clone(),
                None => format!("{}: {}", entry.origin, entry.source),
            };
            text.push_str(&format!("#   {key}: {origin}\n"));
        }
    }
    text
}

fn catalog_check(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    let mut failed = false;
    for file in files {
        match check_file(file) {
            Ok(1) => writeln!(stdout, "{}: ok (1 entry)", file.display())?,
            Ok(entries) => writeln!(stdout, "{}: ok ({entries} entries)", file.display())?,
            Err(errors) => {
                failed = true;
                for error in errors {
                    writeln!(stderr, "{error}")?;
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn spec_import(args: &SpecImportArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(&args.catalog, Path::new("."))?.catalog;
    let side = match args.side {
        SideArg::Hardened => Side::Hardened,
        SideArg::Public => Side::Public,
    };
    let yaml = import(&catalog, side, &args.imports)?;
    io::stdout().lock().write_all(yaml.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
