//! The command line: arguments, output streams and exit codes.
//!
//! stdout carries only the product (the patch, the JSON report, catalog listings) so it can be
//! redirected into `git apply`; everything meant for a person goes to stderr. Exit codes:
//! 0 success, 1 `--check` found pending changes, 2 usage error, bad catalog, or a file that could
//! not be read, parsed or written, 130 interrupted (SIGINT, SIGTERM or SIGHUP).

use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Args, Parser, Subcommand, ValueEnum};

use hardport::atomic_write;
use hardport::catalog::{Catalog, CatalogOptions, CatalogOrigin, Entry, Target, check_file};
use hardport::config::Config;
use hardport::lock::{self, Lock};
use hardport::spec_import::{ImportRequest, Side, import};

mod docs;
mod facts;
mod migrate;
mod output;

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
    Migrate(migrate::MigrateArgs),
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

#[derive(Debug, Clone, Args)]
struct CatalogArgs {
    /// Whose hardened images to migrate to: the built-in catalog the run starts from
    /// (`hardport catalog targets` lists them; default: minimus, or `target` in hardport.toml).
    #[arg(long, value_name = "NAME",
          value_parser = PossibleValuesParser::new(Target::names()).try_map(|name| name.parse::<Target>()))]
    target: Option<Target>,
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
    /// The configuration file to use (default: the nearest hardport.toml or .hardport.toml
    /// from the first path up).
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long)]
    isolated: bool,
}

impl CatalogArgs {
    /// The configuration of a run: `--config`, else the nearest hardport.toml from `start`;
    /// none with `--isolated`.
    fn config(&self, start: &Path) -> anyhow::Result<Option<Config>> {
        let path = match (&self.config, self.isolated) {
            (_, true) => return Ok(None),
            (Some(path), false) => path.clone(),
            (None, false) => match Config::find(start) {
                Some(path) => path,
                None => return Ok(None),
            },
        };
        Ok(Some(Config::load(&path)?))
    }

    /// These arguments with what `config` sets and the command line does not: its target,
    /// registry and lock, and its catalogs before those of `--catalog`.
    fn with_config(&self, config: Option<&Config>) -> anyhow::Result<CatalogArgs> {
        let Some(config) = config else {
            return Ok(self.clone());
        };
        let settings = &config.settings;
        let target = match (self.target, &settings.target) {
            (Some(target), _) => Some(target),
            (None, Some(name)) => Some(
                name.parse::<Target>()
                    .with_context(|| format!("{}: `target`", config.path.display()))?,
            ),
            (None, None) => None,
        };
        let catalogs = settings
            .catalogs
            .iter()
            .map(|path| config.resolve(path))
            .chain(self.catalogs.iter().cloned())
            .collect();
        Ok(CatalogArgs {
            target,
            catalogs,
            registry: self.registry.clone().or_else(|| settings.registry.clone()),
            lock: self
                .lock
                .clone()
                .or_else(|| settings.lock.as_ref().map(|path| config.resolve(path))),
            ..self.clone()
        })
    }

    fn target(&self) -> Target {
        self.target.unwrap_or_default()
    }
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
        Command::Migrate(args) => migrate::run(&args),
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
        target: args.target(),
        use_default: !args.no_default_catalog,
        files: args.catalogs.clone(),
        registry: args.registry.clone(),
    };
    let catalog = Catalog::load(&options)?;
    let names = (!args.no_default_catalog)
        .then(|| CatalogOrigin::Embedded(args.target()).to_string())
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

/// The threads to use: `requested`, or one per core when it is 0 (or the core count is
/// unknown: one).
fn thread_count(requested: usize) -> NonZeroUsize {
    NonZeroUsize::new(requested)
        .unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
}

fn catalog_list(args: &CatalogArgs) -> anyhow::Result<ExitCode> {
    let args = args.with_config(args.config(Path::new("."))?.as_ref())?;
    let catalog = load_catalog(&args, Path::new("."))?.catalog;
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
    let args = args.with_config(args.config(Path::new("."))?.as_ref())?;
    let catalog = load_catalog(&args, Path::new("."))?.catalog;
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
    let catalog_args = args
        .catalog
        .with_config(args.catalog.config(Path::new("."))?.as_ref())?;
    let catalog = load_catalog(&catalog_args, Path::new("."))?.catalog;
    let side = match args.side {
        SideArg::Hardened => Side::Hardened,
        SideArg::Public => Side::Public,
    };
    let yaml = import(&catalog, side, &args.imports)?;
    io::stdout().lock().write_all(yaml.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
