//! The `hardport` binary: parse arguments, run, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// Parsing a values file makes many small short-lived allocations (the YAML scanner's tokens,
/// the span tree's strings); with the system allocator they were a fifth of a run's time, and
/// mimalloc cuts the whole run's CPU time by about a tenth (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
