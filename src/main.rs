//! The `hardport` binary: parse arguments, run, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, tuned: see [`hardport::allocator`] for why.
#[global_allocator]
static GLOBAL: hardport::allocator::MiMalloc = hardport::allocator::MiMalloc;

fn main() -> ExitCode {
    hardport::allocator::tune();
    cli::run(cli::Cli::parse())
}
