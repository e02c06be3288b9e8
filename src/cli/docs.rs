//! The documentation commands: `rules`, `explain`, `completions` and `man`.
//!
//! The texts come from elsewhere: rule documentation from the rule modules
//! ([`hardport::rules::docs`]), completions and man pages from the clap definition of the
//! command line, so none of them can fall behind what the binary does.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

use hardport::rules::{Rule, docs};

use super::Cli;

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// What stdout carries.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    /// A table: rule, severity, whether it fixes, what it does.
    Text,
    /// A JSON array with one object per rule.
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule id as `hardport rules` lists it (`base-image`).
    #[arg(value_name = "RULE", value_parser = rule_ids())]
    rule: Rule,
}

/// Rule ids as clap values: a wrong id is a usage error (exit 2) that lists the valid ones, and
/// shell completion offers them.
fn rule_ids() -> impl TypedValueParser<Value = Rule> {
    PossibleValuesParser::new(Rule::ALL.map(Rule::code)).try_map(|id| id.parse::<Rule>())
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `hardport.1` and one page per subcommand (`hardport-migrate.1`, …) into this
    /// directory instead of printing `hardport.1`.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn rules(args: &RulesArgs) -> anyhow::Result<ExitCode> {
    let rules = docs::list();
    let mut out = Vec::new();
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rules)?;
            writeln!(out)?;
        }
        ListFormat::Text => {
            let width = rules.iter().map(|rule| rule.id.len()).max().unwrap_or(0);
            writeln!(out, "{:<width$}  SEVERITY  FIXES  WHAT IT DOES", "RULE")?;
            for rule in &rules {
                writeln!(
                    out,
                    "{:<width$}  {:<8}  {:<5}  {}",
                    rule.id,
                    rule.severity.as_str(),
                    if rule.fixes { "yes" } else { "no" },
                    rule.summary
                )?;
            }
        }
    }
    print(&out)
}

pub fn explain(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    print(docs::explain(args.rule).as_bytes())
}

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    // Into a buffer first: the generators panic on a write error, and stdout may be a closed
    // pipe.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "hardport", &mut script);
    print(&script)
}

pub fn man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    match &args.dir {
        Some(dir) => {
            clap_mangen::generate_to(Cli::command(), dir)
                .with_context(|| format!("cannot write man pages to {}", dir.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            print(&page)
        }
    }
}

fn print(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}
