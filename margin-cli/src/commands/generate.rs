//! `margin gen-accounts` (hidden): deterministic synthetic accounts for the batch benchmark.
//!
//! Each account picks a coin of the market (uniformly), `--positions` distinct instruments of
//! that coin the market can price (mostly options; perpetual and futures too), and sizes:
//! options ±0.1…10 contracts, delta-one ±0.01…5 coins, equity 0.5…50 coins. The generator is
//! SplitMix64 seeded by `--seed`, so the same flags give the same bytes.

use super::common::{self, MarketArgs};
use crate::error::CliError;
use margin_core::io::write_portfolio_json_line;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Arguments of `margin gen-accounts`.
#[derive(Debug, clap::Args)]
pub struct GenArgs {
    #[command(flatten)]
    pub market: MarketArgs,
    /// Number of accounts.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Positions per account.
    #[arg(long, default_value_t = 20)]
    pub positions: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output JSONL file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub use margin_opt::synthetic::Generator;

/// Runs `margin gen-accounts`.
pub fn run(args: &GenArgs) -> Result<(), CliError> {
    let market = args.market.read()?;
    let model = common::read_model(args.market.model_spec(None))?;
    let universe = common::universe(&market, &args.market.market, model, &[])?;
    let generator =
        Generator::new(&market, &universe, args.positions, args.seed).ok_or_else(|| {
            CliError::bad_input(format!(
                "--positions {}: no coin of {} has that many instruments",
                args.positions,
                args.market.market.display()
            ))
        })?;
    let file = std::fs::File::create(&args.out)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", args.out.display())))?;
    let mut out = BufWriter::new(file);
    for p in generator.take(usize::try_from(args.count).unwrap_or(usize::MAX)) {
        writeln!(out, "{}", write_portfolio_json_line(&p))?;
    }
    out.flush()?;
    Ok(())
}
