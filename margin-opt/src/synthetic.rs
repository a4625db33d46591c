//! Deterministic synthetic accounts (for `margin gen-accounts`, `margin bench` and the
//! benches): each account picks a coin of the market (uniformly), `positions` distinct inverse
//! instruments of that coin the universe prices, and sizes: options ±0.1…10 contracts,
//! delta-one ±0.01…5 coins, equity 0.5…50 coins. The generator is SplitMix64 seeded by the
//! caller, so the same inputs give the same accounts.

use margin_core::io::engine::Universe;
use margin_core::io::{MarketData, Portfolio, Position};
use margin_core::{Instrument, Kind};

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
