//! Per-file throughput of hardport's library, single-threaded: `cargo bench --bench pipeline`.
//!
//! Two tables. The first times, per file kind of the shared corpus (`../shared/corpus`, or
//! `$HARDPORT_CORPUS_DIR`; kinds from its `INDEX.tsv`), parsing alone and the whole per-file
//! migration with the embedded catalog, as the median of several runs over every file. The second
//! times crafted inputs (built in memory) at n and 2n repetitions of one construct, the fastest
//! of several runs of each taken in turn, so a cost that grows faster than the input shows as a
//! ratio well above 2.
//!
//! A plain harness (no criterion): the numbers are for comparing builds on one machine, and the
//! targets the guide sets (Dockerfile parsing ≥ 100 MB/s, values parsing ≥ 50 MB/s) are printed
//! beside them. `HARDPORT_BENCH_RUNS` sets the runs of each measurement (default 5) and
//! `HARDPORT_BENCH_N` the crafted inputs' n (default 20000). See docs/performance.md.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hardport::catalog::Catalog;
use hardport::discovery::FileKind;
use hardport::helm::chart::Chart;
use hardport::migrate::migrate_text;
use hardport::rules::Context;
use hardport::{dockerfile, helm, yaml};

/// The allocator the `hardport` binary runs with (src/main.rs), so the numbers are the binary's.
#[global_allocator]
static GLOBAL: hardport::allocator::MiMalloc = hardport::allocator::MiMalloc;

fn main() {
    hardport::allocator::tune();
    let runs = env_number("HARDPORT_BENCH_RUNS", 5).max(1);
    let crafted_n = env_number("HARDPORT_BENCH_N", 20_000).max(1);
    let catalog = match Catalog::embedded() {
        Ok(catalog) => catalog,
        Err(error) => {
            eprintln!("pipeline bench: the embedded catalog does not load: {error}");
            std::process::exit(1);
        }
    };
    match corpus_dir() {
        Some(dir) => corpus_table(&dir, &catalog, runs),
        None => println!(
            "corpus: skipped (no INDEX.tsv in ../shared/corpus; set HARDPORT_CORPUS_DIR to a corpus)\n"
        ),
    }
    crafted_table(&catalog, crafted_n, runs);
}

/// A positive number from the environment, or `default`.
fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HARDPORT_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.join("INDEX.tsv").is_file().then_some(dir)
}

/// One corpus file held in memory, with the chart beside it for values files.
struct CorpusFile {
    text: String,
    chart: Option<Chart>,
}

/// The readable UTF-8 files of `kind` (an INDEX.tsv kind), loaded before any timing.
fn load(dir: &Path, kind: &str) -> Vec<CorpusFile> {
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).unwrap_or_default();
    index
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let path = fields.next()?;
            (fields.next()? == kind).then(|| dir.join(path))
        })
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let chart = match kind {
                "helm-values" => path.parent().and_then(|dir| {
                    Chart::load(dir, hardport::input::DEFAULT_MAX_FILE_SIZE)
                        .ok()
                        .flatten()
                }),
                _ => None,
            };
            Some(CorpusFile { text, chart })
        })
        .collect()
}

fn corpus_table(dir: &Path, catalog: &Catalog, runs: usize) {
    let dockerfiles = load(dir, "dockerfile");
    let values = load(dir, "helm-values");
    println!(
        "corpus: {} (median of {runs} runs, one thread)",
        dir.display()
    );
    println!(
        "{:<12} {:<8} {:>6} {:>8} {:>10} {:>9} {:>9}  target",
        "kind", "step", "files", "MB", "median ms", "MB/s", "files/s"
    );
    let docker_parse = median(runs, || {
        for file in &dockerfiles {
            let _ = black_box(dockerfile::parse(black_box(&file.text)));
        }
    });
    row(
        "dockerfile",
        "parse",
        &dockerfiles,
        docker_parse,
        Some(100.0),
    );
    let values_parse = median(runs, || {
        for file in &values {
            if let Ok(stream) = yaml::parse(black_box(&file.text)) {
                for document in &stream.documents {
                    black_box(helm::values(document, catalog, None));
                }
            }
        }
    });
    row("helm-values", "parse", &values, values_parse, Some(50.0));
    let docker_migrate = median(runs, || {
        for file in &dockerfiles {
            let context = Context::new(catalog);
            let _ = black_box(migrate_text(FileKind::Dockerfile, &file.text, context));
        }
    });
    row("dockerfile", "migrate", &dockerfiles, docker_migrate, None);
    let values_migrate = median(runs, || {
        for file in &values {
            let context = Context::new(catalog).with_chart(file.chart.as_ref());
            let _ = black_box(migrate_text(FileKind::HelmValues, &file.text, context));
        }
    });
    row("helm-values", "migrate", &values, values_migrate, None);
    println!();
}

fn row(kind: &str, step: &str, files: &[CorpusFile], time: Duration, target: Option<f64>) {
    let bytes: usize = files.iter().map(|file| file.text.len()).sum();
    let megabytes = bytes as f64 / 1_000_000.0;
    let seconds = time.as_secs_f64().max(1e-9);
    let throughput = megabytes / seconds;
    let verdict = match target {
        Some(target) if throughput >= target => format!("≥ {target} MB/s: met"),
        Some(target) => format!("≥ {target} MB/s: NOT met"),
        None => String::new(),
    };
    println!(
        "{kind:<12} {step:<8} {:>6} {megabytes:>8.2} {:>10.2} {throughput:>9.1} {:>9.0}  {verdict}",
        files.len(),
        seconds * 1000.0,
        files.len() as f64 / seconds,
    );
}

/// The median wall time of `runs` calls of `work`.
fn median(runs: usize, mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

/// A crafted input: a name and how to build it with n repetitions.
struct Crafted {
    name: &'static str,
    kind: FileKind,
    /// Repetitions are n divided by this: the inputs of many stages are built with a tenth, so
    /// that 2n stays under the per-file stage limit (`dockerfile::MAX_STAGES`).
    divisor: usize,
    build: fn(usize) -> String,
}

const CRAFTED: &[Crafted] = &[
    Crafted {
        name: "USER lines",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| format!("FROM node:20\n{}", "USER node\n".repeat(n)),
    },
    Crafted {
        name: "COPY --chown lines",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| format!("FROM node:20\n{}", "COPY --chown=node:node a b\n".repeat(n)),
    },
    Crafted {
        name: "RUN lines",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| {
            format!(
                "FROM node:20\n{}",
                "RUN apt-get install -y curl\n".repeat(n)
            )
        },
    },
    Crafted {
        name: "WORKDIR lines",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| {
            let lines: String = (0..n).map(|i| format!("WORKDIR /w{i}\n")).collect();
            format!("FROM node:20\n{lines}")
        },
    },
    Crafted {
        name: "ENV lines",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| {
            let lines: String = (0..n).map(|i| format!("ENV V{i}=x\n")).collect();
            format!("FROM node:20\n{lines}")
        },
    },
    Crafted {
        name: "FROM stages",
        kind: FileKind::Dockerfile,
        divisor: 10,
        build: |n| {
            (0..n)
                .map(|i| format!("FROM node:20 AS s{i}\nRUN npm ci\n"))
                .collect()
        },
    },
    Crafted {
        name: "chained stages",
        kind: FileKind::Dockerfile,
        divisor: 10,
        build: |n| {
            let chain: String = (1..n)
                .map(|i| format!("FROM s{} AS s{i}\nUSER node\n", i - 1))
                .collect();
            format!("FROM node:20 AS s0\n{chain}")
        },
    },
    Crafted {
        name: "WORKDIR/ENV chain",
        kind: FileKind::Dockerfile,
        divisor: 10,
        build: |n| {
            let chain: String = (1..n)
                .map(|i| {
                    format!(
                        "FROM s{} AS s{i}\nWORKDIR /a\nENV V{i}=$V{}\n",
                        i - 1,
                        i - 1
                    )
                })
                .collect();
            format!("FROM node:20 AS s0\n{chain}")
        },
    },
    Crafted {
        name: "FROM ${BASE}-i",
        kind: FileKind::Dockerfile,
        divisor: 10,
        build: |n| {
            let stages: String = (0..n)
                .map(|i| format!("FROM ${{BASE}}-{i} AS s{i}\n"))
                .collect();
            format!("ARG BASE=node\n{stages}")
        },
    },
    Crafted {
        name: "WORKDIR a lines",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| format!("FROM node:20\n{}", "WORKDIR a\n".repeat(n)),
    },
    Crafted {
        name: "WORKDIR x+RUN pairs",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| {
            format!(
                "FROM openjdk:21 AS b\n{}FROM node:20\nCOPY --from=b x /x\n",
                "WORKDIR x\nRUN ls /x\n".repeat(n)
            )
        },
    },
    Crafted {
        name: "ENV lookups",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| format!("FROM node:20\n{}", "ENV A=$B\n".repeat(n)),
    },
    Crafted {
        name: "long RUN line",
        kind: FileKind::Dockerfile,
        divisor: 1,
        build: |n| format!("FROM node:20\nRUN {}\n", "echo a && ".repeat(n)),
    },
    Crafted {
        name: "values images",
        kind: FileKind::HelmValues,
        divisor: 1,
        build: |n| {
            (0..n)
                .map(|i| {
                    format!(
                        "c{i}:\n  image:\n    repository: nginx\n    tag: \"1.27\"\n  securityContext:\n    runAsUser: 0\n"
                    )
                })
                .collect()
        },
    },
    Crafted {
        name: "values flow list",
        kind: FileKind::HelmValues,
        divisor: 1,
        build: |n| {
            let items: String = (0..n).map(|i| format!("  a{i},\n")).collect();
            format!("image:\n  repository: nginx\nargs: [\n{items}]\n")
        },
    },
];

fn crafted_table(catalog: &Catalog, n: usize, runs: usize) {
    println!(
        "crafted inputs: whole migration at n and 2n (fastest of {runs} runs each, alternating)"
    );
    println!(
        "{:<20} {:>8} {:>10} {:>8} {:>10} {:>6}",
        "input", "n", "ms", "2n", "ms", "ratio"
    );
    for crafted in CRAFTED {
        let n = (n / crafted.divisor).max(1);
        let (single, double) = ((crafted.build)(n), (crafted.build)(2 * n));
        let migrate = |text: &str| {
            let context = Context::new(catalog);
            let _ = black_box(migrate_text(crafted.kind, text, context));
        };
        let (single, double) = fastest_pair(runs, || migrate(&single), || migrate(&double));
        println!(
            "{:<20} {n:>8} {:>10.1} {:>8} {:>10.1} {:>6.2}",
            crafted.name,
            single.as_secs_f64() * 1000.0,
            2 * n,
            double.as_secs_f64() * 1000.0,
            double.as_secs_f64() / single.as_secs_f64().max(1e-9),
        );
    }
}

/// The fastest of `runs` calls of each of `first` and `second`, called in turn.
///
/// The ratio of two timings is what a crafted input is judged by, and on a shared machine
/// another process only ever adds time: the fastest run is the one it disturbed least, and
/// taking the two in turn keeps a slow minute from falling on one of them only.
fn fastest_pair(
    runs: usize,
    mut first: impl FnMut(),
    mut second: impl FnMut(),
) -> (Duration, Duration) {
    let time = |work: &mut dyn FnMut()| {
        let start = Instant::now();
        work();
        start.elapsed()
    };
    let mut fastest = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        fastest.0 = fastest.0.min(time(&mut first));
        fastest.1 = fastest.1.min(time(&mut second));
    }
    fastest
}
