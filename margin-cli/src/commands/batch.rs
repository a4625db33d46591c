//! `margin batch`: margin for many accounts in parallel against one set of risk arrays.
//! The work is `margin_opt::batch` (library); this module reads the files and shows progress.

use super::common::{self, MarketArgs};
use crate::error::CliError;
use crate::output;
use margin_opt::batch::{Batch, BatchError};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `margin batch`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin batch --accounts examples/accounts.jsonl \\\n      \
      --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv --out margins.jsonl\n  \
    RAYON_NUM_THREADS=1 margin batch ...     # same output bytes on one thread\n\n\
Input: one portfolio JSON object per line ({\"account\", \"currency\", \"equity\", \
\"positions\": [{\"instrument\", \"size\"}]}); blank lines are skipped.\n\
Output: one line per account, in input order: {\"account\", \"initial_margin\", \
\"maintenance_margin\", \"status\"}, or {\"line\", \"error\"} (with \"account\" when the line \
parsed) for a record that cannot be margined; the other records still finish and the exit \
code stays 0. The output is written to OUT.<pid>.tmp and renamed to OUT at the end (an \
error removes it; a stale one of a dead process is removed by the next run); an OUT that \
is the accounts file, or its temporary, is refused. Risk arrays \
are built once for every instrument the market can price (its listed instruments, each \
coin's inverse perpetual, and an inverse future per forward expiry). Threads: rayon's \
default (all cores) or RAYON_NUM_THREADS; the output does not depend on it. A progress bar \
is shown on stderr when it is a terminal.")]
pub struct BatchArgs {
    /// Accounts, one portfolio JSON object per line (JSONL).
    #[arg(long, value_name = "FILE")]
    pub accounts: PathBuf,
    #[command(flatten)]
    pub market: MarketArgs,
    /// Output file (JSONL), replaced atomically.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `margin batch`.
pub fn run(args: &BatchArgs) -> Result<(), CliError> {
    // Refused before any work: an --out that would overwrite the accounts.
    margin_opt::batch::check_paths(&args.accounts, &args.out).map_err(batch_error)?;
    let market = args.market.read()?;
    let (model, engine) = args.market.model_and_engine()?;
    let matrix = common::matrix(market, &args.market.market, model, &[])?;
    let batch = Batch {
        matrix: &matrix,
        joint: engine.as_ref(),
    };
    let total = std::fs::metadata(&args.accounts)
        .map_err(|e| {
            CliError::bad_input(format!(
                "{}: cannot read accounts: {e}",
                args.accounts.display()
            ))
        })?
        .len();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {elapsed} eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let progress = |done: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };
    let summary = batch
        .run_files(&args.accounts, &args.out, &progress)
        .map_err(batch_error)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    output::print(&format!(
        "{} accounts ({} errors) -> {}\n",
        summary.accounts,
        summary.errors,
        args.out.display()
    ))
}

fn batch_error(e: BatchError) -> CliError {
    match e {
        BatchError::SameFile { .. } | BatchError::Input { .. } | BatchError::Output { .. } => {
            CliError::bad_input(e.to_string())
        }
    }
}
