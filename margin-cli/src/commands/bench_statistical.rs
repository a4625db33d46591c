//! The statistical part of `margin bench`, on the bundled data (whatever `--market` says):
//! * Monte Carlo ES: 100,000 scenarios × 200 linear (USDC) options, 100 BTC and 100 ETH, every
//!   k-th of the bundled chain, full revaluation, 2-day horizon, one thread (target < 0.5 s);
//! * HS ES: the full bundled BTC history (2014–2024, 3,539 two-day windows) × the first 50 of
//!   those options (BTC), one thread (target < 5 ms).
//!
//! The same books as `benches/statistical.rs` and `benches/peer/` (which reads
//! `examples/portfolio-usdc-200.json`, built by the same rule). The clock lives here.

use super::bench::{Measurement, below, mean_time};
use super::demo::{CHAIN, CHAIN_NAME};
use crate::error::CliError;
use margin_core::io::engine::Universe;
use margin_core::io::{MarketData, parse_deribit_chain, parse_history_csv};
use margin_core::model::Model;
use margin_core::scenario::VolShock;
use margin_core::spec::{Covariance, JointSource, Method};
use margin_core::statistical::Book;
use margin_core::stats::monte_carlo::Dist;
use margin_core::{Asset, Instrument, Kind, Settlement};
use margin_opt::var::{self, Closes, VarParams};
use std::path::Path;
use std::time::Duration;

const ALIGNED: &str = include_str!("../../../data/btc-eth-daily/btc_eth_daily_close_aligned.csv");
const BTC_DAILY: &str = include_str!("../../../data/btc-eth-daily/BTC-USD.csv");
/// Options per coin of the Monte Carlo book.
pub const OPTIONS_PER_COIN: usize = 100;
/// Monte Carlo scenarios.
pub const MC_SCENARIOS: usize = 100_000;

fn internal(e: impl std::fmt::Display) -> CliError {
    CliError::internal(format!("bundled sample data: {e}"))
}

/// Every k-th option of each coin of `market` (sorted by symbol), as its USDC linear twin,
/// sizes alternating +1 / −0.7: the rule of `examples/portfolio-usdc-200.json`.
fn usdc_options(market: &MarketData) -> Result<Vec<(Instrument, f64)>, CliError> {
    let usdc = Asset::new("USDC").ok_or_else(|| internal("USDC"))?;
    let mut out = Vec::new();
    for coin in ["BTC", "ETH"] {
        let mut names: Vec<(String, Instrument)> = market
            .instruments
            .iter()
            .map(|q| q.instrument)
            .filter(|i| i.underlying.as_str() == coin && matches!(i.kind, Kind::Option { .. }))
            .map(|i| (i.to_string(), i))
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let step = (names.len() / OPTIONS_PER_COIN).max(1);
        for (k, (_, i)) in names
            .iter()
            .step_by(step)
            .take(OPTIONS_PER_COIN)
            .enumerate()
        {
            let linear = Instrument {
                settlement: Settlement::Linear { quote: usdc },
                ..*i
            };
            out.push((linear, if k % 2 == 0 { 1.0 } else { -0.7 }));
        }
    }
    Ok(out)
}

fn params(method: Method, scenarios: usize) -> VarParams {
    VarParams {
        source: JointSource {
            method,
            horizon_days: 2,
            overlapping: true,
            lambda: 0.94,
            covariance: Covariance::Ewma,
            dist: Dist::Normal,
            scenarios,
            seed: 1,
            vol: VolShock::None,
            time_decay: false,
        },
        confidence: 0.99,
    }
}

/// `(mc_es, hs_es)` measurements, each for about `budget`, Monte Carlo over `mc_scenarios`
/// (the target, < 0.5 s, holds for [`MC_SCENARIOS`] and scales with the count).
pub fn measure(
    budget: Duration,
    mc_scenarios: usize,
) -> Result<(Measurement, Measurement), CliError> {
    if !(100..=10_000_000).contains(&mc_scenarios) {
        return Err(CliError::bad_input(format!(
            "--mc-scenarios {mc_scenarios}: expected 100 to 10,000,000"
        )));
    }
    let market = parse_deribit_chain(CHAIN, Path::new(CHAIN_NAME)).map_err(internal)?;
    let options = usdc_options(&market)?;
    let extra: Vec<Instrument> = options.iter().map(|(i, _)| *i).collect();
    let views = market.views();
    let snapshot = market.snapshot(&views).map_err(internal)?;
    let model = Model::preset("deribit-btc").map_err(internal)?;
    let universe = Universe::new(&market, &snapshot, model, &extra).map_err(internal)?;
    let mut instruments = Vec::new();
    let mut inputs = Vec::new();
    for (i, _) in &options {
        universe.find(i).map_err(internal)?;
        inputs.push(snapshot.inputs(i).map_err(internal)?);
        instruments.push(*i);
    }
    let sizes: Vec<f64> = options.iter().map(|(_, s)| *s).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(internal)?;

    let aligned = parse_history_csv(ALIGNED, Path::new("btc_eth_daily_close_aligned.csv"), None)
        .map_err(internal)?;
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &sizes,
    };
    let history = Closes {
        coins: aligned.coins(),
        closes: aligned.closes(),
    };
    let p = params(Method::MonteCarlo, mc_scenarios);
    let scenarios = var::Scenarios::build(&history, &p.source).map_err(internal)?;
    let (t, n) = mean_time(budget, || {
        let r = pool.install(|| var::evaluate(&book, &scenarios, &p));
        std::hint::black_box(r.map(|r| r.es).unwrap_or(f64::NAN));
    });
    let mc = below(
        &format!(
            "Monte Carlo ES, {mc_scenarios} scenarios × {} options, full revaluation, 1 thread",
            instruments.len()
        ),
        t.as_secs_f64() * 1e3,
        "ms",
        500.0 * mc_scenarios as f64 / MC_SCENARIOS as f64,
        n,
    );

    let btc = parse_history_csv(BTC_DAILY, Path::new("BTC-USD.csv"), None).map_err(internal)?;
    let book = Book {
        instruments: &instruments[..50],
        inputs: &inputs[..50],
        sizes: &sizes[..50],
    };
    let history = Closes {
        coins: btc.coins(),
        closes: btc.closes(),
    };
    let p = params(Method::Historical, mc_scenarios);
    let scenarios = var::Scenarios::build(&history, &p.source).map_err(internal)?;
    let windows = scenarios.moves.len() / scenarios.coins.len().max(1);
    let (t, n) = mean_time(budget, || {
        let r = pool.install(|| var::evaluate(&book, &scenarios, &p));
        std::hint::black_box(r.map(|r| r.es).unwrap_or(f64::NAN));
    });
    let hs = below(
        &format!("HS ES, full BTC history ({windows} windows) × 50 options, 1 thread"),
        t.as_secs_f64() * 1e3,
        "ms",
        5.0,
        n,
    );
    Ok((mc, hs))
}
