//! `hardport facts resolve`: read the facts of the images a repository uses from their
//! registries into `hardport.lock`.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use hardport::atomic_write;
use hardport::discovery::{Walk, discover};
use hardport::facts::{self, Prune};
use hardport::helm::chart::ChartCache;
use hardport::input::{self, DEFAULT_MAX_FILE_SIZE, Links, parse_size};
use hardport::kubernetes::Kustomizations;
use hardport::lock::{self, LOCK_FILE, Lock};
use hardport::migrate::{FileOptions, WriteMode};
use hardport::patch_path::PatchBase;
use hardport::pipeline;
use hardport::registry::{Platform, Registry, RegistryError, RegistryOptions};
use hardport::rules::{Context, Pin};
use hardport::scope::Scope;
use hardport::work_tree;

use super::{CatalogArgs, INTERRUPTED, RunCatalog, load_layers, stop_on_signals, thread_count};

#[derive(Debug, Subcommand)]
pub(super) enum FactsCommand {
    /// Read the facts of every image the repository uses, and of the replacements the catalog
    /// picks, from their registries into hardport.lock.
    Resolve(ResolveArgs),
}

#[derive(Debug, Args)]
pub(super) struct ResolveArgs {
    /// Files or directories whose images to read (as `migrate` would migrate them).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    catalog: CatalogArgs,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Walk and read on N threads (0: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Also walk vendored trees.
    #[arg(long)]
    include_vendored: bool,
    /// Files larger than this are reported and not read.
    #[arg(long, value_name = "SIZE", default_value_t = DEFAULT_MAX_FILE_SIZE, value_parser = parse_size)]
    max_file_size: u64,
}

/// How to reach registries.
#[derive(Debug, Args)]
pub(super) struct RegistryArgs {
    /// The platform to read from a multi-platform image (`os/arch[/variant]`).
    #[arg(long, value_name = "OS/ARCH", default_value = "linux/amd64")]
    platform: Platform,
    /// A registry (`host[:port]`) that may be spoken to over plain HTTP (repeatable); loopback
    /// registries always may.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    insecure: Vec<String>,
    /// A PEM file of CA certificates to trust besides the usual roots (repeatable): a private
    /// registry's CA.
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_certs: Vec<PathBuf>,
    /// The directory holding Docker's config.json (default: $DOCKER_CONFIG, else ~/.docker).
    #[arg(long, value_name = "DIR")]
    docker_config: Option<PathBuf>,
    /// Seconds each step of a request may take (connecting, each read, …).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
}

impl RegistryArgs {
    fn options(&self) -> RegistryOptions {
        RegistryOptions {
            platform: self.platform.clone(),
            insecure: self.insecure.clone(),
            docker_config: self.docker_config.clone(),
            timeout: Duration::from_secs(self.timeout.max(1)),
            extra_roots: self.ca_certs.clone(),
            ..RegistryOptions::default()
        }
    }
}

pub(super) fn run(command: &FactsCommand) -> anyhow::Result<ExitCode> {
    match command {
        FactsCommand::Resolve(args) => resolve(args),
    }
}

fn resolve(args: &ResolveArgs) -> anyhow::Result<ExitCode> {
    stop_on_signals()?;
    let start = args.paths.first().map_or(Path::new("."), PathBuf::as_path);
    let catalog = args
        .catalog
        .with_config(args.catalog.config(start)?.as_ref())?;
    let failed = resolve_into_lock(
        &args.paths,
        &catalog,
        &args.registry,
        Walk {
            threads: thread_count(args.threads),
            include_vendored: args.include_vendored,
            max_file_size: args.max_file_size,
        },
    )?;
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Read the images a migration of `paths` touches into the lock, reporting each on stderr;
/// the number that could not be read. Shared by `facts resolve` and `migrate --resolve`.
pub(super) fn resolve_into_lock(
    paths: &[PathBuf],
    catalog_args: &CatalogArgs,
    registry_args: &RegistryArgs,
    walk: Walk,
) -> anyhow::Result<usize> {
    let start = paths.first().map_or(Path::new("."), PathBuf::as_path);
    // Which images a repository uses does not depend on their facts, and `--lock` names the
    // lock to write, which need not exist yet.
    let RunCatalog { catalog, .. } = load_layers(catalog_args)?;
    let (wanted, complete) = images_used(paths, &catalog, walk)?;
    let registry = Registry::new(registry_args.options())?;
    let outcomes = facts::resolve_all(&registry, &wanted, walk.threads);

    let mut stderr = io::stderr();
    let mut failed = 0;
    for (reference, outcome) in &outcomes {
        match outcome {
            Ok(resolved) => writeln!(
                stderr,
                "{reference}: read ({}, {})",
                resolved.platform, resolved.digest
            )?,
            Err(error) => {
                failed += 1;
                let advice = matches!(error, RegistryError::NotFound { .. })
                    .then(|| facts::missing_tag_advice(&registry, reference))
                    .flatten()
                    .map(|advice| format!("; {advice}"))
                    .unwrap_or_default();
                writeln!(stderr, "{reference}: error: {error}{advice}")?;
            }
        }
    }

    if INTERRUPTED.load(Ordering::SeqCst) {
        anyhow::bail!("interrupted; the lock was not written");
    }
    let path = lock_path(catalog_args, start);
    let previous = Lock::read(&path)?;
    // Only a run over the lock's whole directory, with every file read, knows which images
    // the repository no longer uses.
    let lock_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let whole_tree = paths.len() == 1
        && std::fs::canonicalize(start).ok() == std::fs::canonicalize(lock_dir).ok();
    let prune = match complete && whole_tree {
        true => Prune::Unused,
        false => Prune::Nothing,
    };
    let lock = facts::updated_lock(previous.as_ref(), &outcomes, &facts::today(), prune);
    let written = write_lock(&path, previous.as_ref(), &lock)?;
    writeln!(
        stderr,
        "hardport: read {} of {} images; {} {} ({} images)",
        outcomes.len() - failed,
        outcomes.len(),
        if written { "wrote" } else { "unchanged:" },
        path.display(),
        lock.images.len()
    )?;
    Ok(failed)
}

/// The images a migration of `paths` touches (a dry run's image rewrites, and the replacement
/// references `--pin` would pin), and whether every file was found and read (no walk error, no
/// file error, not interrupted).
fn images_used(
    paths: &[PathBuf],
    catalog: &hardport::catalog::Catalog,
    walk: Walk,
) -> anyhow::Result<(BTreeSet<String>, bool)> {
    let threads = walk.threads;
    let scope = Scope::of(paths);
    let discovery = discover(paths, &scope, walk);
    let charts = ChartCache::new(walk.max_file_size);
    let patch_base = PatchBase::current();
    let kustomizations = Kustomizations::of(&discovery.files, walk.max_file_size);
    let options = FileOptions {
        mode: WriteMode::DryRun,
        max_file_size: walk.max_file_size,
        charts: &charts,
        patch_base: &patch_base,
        verify: None,
        rules: &hardport::config::EVERY_RULE,
        kustomizations: &kustomizations,
    };
    let mut rewrites = Vec::new();
    let mut unread = Vec::new();
    let mut failed = !discovery.errors.is_empty();
    let processed = pipeline::run(
        &discovery.files,
        // A dry run as `--pin` would do it names every replacement reference, also those
        // already migrated, so that the lock holds their digests.
        Context::new(catalog).pinning(Pin::FromLock),
        options,
        threads,
        &INTERRUPTED,
        |report| -> io::Result<()> {
            match &report.outcome {
                Ok(changes) => {
                    for finding in &changes.findings {
                        rewrites.extend(finding.image.as_deref().cloned());
                        unread.extend(finding.unread_images.iter().cloned());
                    }
                }
                Err(_) => failed = true,
            }
            Ok(())
        },
    )?;
    let complete = !failed && processed == discovery.files.len();
    let mut wanted = facts::wanted(&rewrites, catalog);
    wanted.extend(unread);
    Ok((wanted, complete))
}

/// Where the lock goes: `--lock`, else the lock the repository already has, else
/// `hardport.lock` at the root of the git work tree holding the first path (outside one, in
/// the first path's directory).
fn lock_path(args: &CatalogArgs, start: &Path) -> PathBuf {
    if let Some(path) = &args.lock {
        return path.clone();
    }
    let env = |name: &str| std::env::var_os(name);
    if let Some(existing) = lock::discover(start, Path::new("."), &env) {
        return existing;
    }
    let dir = std::fs::canonicalize(start).ok().map(|start| {
        if start.is_dir() {
            start
        } else {
            start.parent().map(Path::to_path_buf).unwrap_or(start)
        }
    });
    let root = dir
        .as_deref()
        .and_then(|dir| work_tree::enclosing(dir, &env))
        .or(dir);
    root.unwrap_or_default().join(LOCK_FILE)
}

/// Write `lock` at `path` unless it already holds it: replaced atomically when it exists
/// (refused if it changed since it was read), created whole when it does not.
fn write_lock(path: &Path, previous: Option<&Lock>, lock: &Lock) -> anyhow::Result<bool> {
    let text = lock.render();
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let scope = Scope::of(&[dir]);
    let written = match previous {
        Some(_) => {
            let old = input::read_bytes(path, lock::MAX_LOCK_BYTES, Links::Refuse)
                .with_context(|| format!("{}", path.display()))?;
            if old == text.as_bytes() {
                return Ok(false);
            }
            atomic_write::write(path, &old, text.as_bytes(), &scope)
        }
        None => atomic_write::create(path, text.as_bytes(), &scope),
    };
    written.with_context(|| format!("{}: cannot write the lock", path.display()))?;
    Ok(true)
}
