//! The `hardport` binary: parse arguments, run, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, not glibc's allocator: a run allocates and frees a small tree per file on every
/// core, and glibc's `malloc`/`free` were a fifth of its CPU; with mimalloc the whole-tree dry
/// run takes about a fifth less time (docs/performance.md). Built without transparent huge
/// pages (`no_thp`), which held 70 MB of mostly empty pages instead of 42 MB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
