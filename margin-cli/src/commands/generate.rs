//! `margin gen-accounts` (hidden): deterministic synthetic accounts for the batch benchmark.
//!
//! Each account picks a coin of the market (uniformly), `--positions` distinct instruments of
//! that coin the market can price (mostly options; perpetual and futures too), and sizes:
//! options ±0.1…10 contracts, delta-one ±0.01…5 coins, equity 0.5…50 coins. The generator is
//! SplitMix64 seeded by `--seed`, so the same flags give the same bytes.

use super::common::{self, MarketArgs};
use crate::error::CliError;
use margin_core::io::engine::Universe;
use margin_core::io::{MarketData, Portfolio, Position, write_portfolio_json_line};
use margin_core::{Instrument, Kind};
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

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, fully determined by its seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Uniform in [lo, hi), rounded to `step`.
    fn amount(&mut self, lo: f64, hi: f64, step: f64) -> f64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((lo + (hi - lo) * u) / step).round().max(1.0) * step
    }
}

/// The deterministic account generator behind `gen-accounts` (also used in memory by
/// `margin bench`): an iterator of synthetic portfolios, fully determined by its inputs.
pub struct Generator {
    /// Per coin with enough instruments: the inverse instruments the universe prices.
    pools: Vec<Vec<Instrument>>,
    positions: usize,
    rng: SplitMix,
    next: u64,
}

impl Generator {
    /// A generator of accounts of `positions` distinct instruments each, drawn from the
    /// universe's inverse instruments of `market`'s coins; `None` when no coin has that many.
    pub fn new(
        market: &MarketData,
        universe: &Universe,
        positions: usize,
        seed: u64,
    ) -> Option<Generator> {
        let pools: Vec<Vec<Instrument>> = market
            .underlyings
            .iter()
            .map(|u| {
                universe
                    .instruments()
                    .iter()
                    .filter(|i| i.underlying == u.asset && i.is_inverse())
                    .copied()
                    .collect()
            })
            .filter(|v: &Vec<Instrument>| !v.is_empty() && v.len() >= positions)
            .collect();
        (!pools.is_empty()).then_some(Generator {
            pools,
            positions,
            rng: SplitMix(seed),
            next: 0,
        })
    }
}

impl Iterator for Generator {
    type Item = Portfolio;

    fn next(&mut self) -> Option<Portfolio> {
        let rng = &mut self.rng;
        let pool = &self.pools[rng.below(self.pools.len())];
        let mut positions: Vec<Position> = Vec::with_capacity(self.positions);
        while positions.len() < self.positions {
            let instrument = pool[rng.below(pool.len())];
            if positions.iter().any(|p| p.instrument == instrument) {
                continue;
            }
            let sign = if rng.next() & 1 == 0 { 1.0 } else { -1.0 };
            let size = match instrument.kind {
                Kind::Option { .. } => rng.amount(0.1, 10.0, 0.1),
                _ => rng.amount(0.01, 5.0, 0.01),
            };
            positions.push(Position {
                instrument,
                size: sign * size,
            });
        }
        let n = self.next;
        self.next += 1;
        Some(Portfolio {
            account: format!("acct-{n:06}"),
            currency: pool[0].underlying,
            equity: rng.amount(0.5, 50.0, 0.01),
            positions,
        })
    }
}

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
