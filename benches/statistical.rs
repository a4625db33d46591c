//! Statistical-margin benches on the bundled Deribit chain of 2026-08-22 and the bundled
//! BTC/ETH daily history (`data/`), one thread:
//! * Monte Carlo ES, 100,000 scenarios × 200 option positions on BTC and ETH, full revaluation
//!   (target < 0.5 s);
//! * HS ES over the full BTC history (2014–2024, about 3,500 2-day windows) for a 50-position
//!   account (target < 5 ms).
//!
//! `cargo bench -p margin-benches --bench statistical -- --warm-up-time 1 --measurement-time 5`

use criterion::{Criterion, criterion_group, criterion_main};
use margin_core::io::history::PriceHistory;
use margin_core::io::parse_deribit_chain;
use margin_core::scenario::VolShock;
use margin_core::statistical::Book;
use margin_core::stats::monte_carlo::Dist;
use margin_core::{Asset, Instrument};
use margin_opt::var::{self, Closes, Covariance, Method, VarParams};
use std::hint::black_box;
use std::path::Path;

const CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
);
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/btc-eth-daily/");

/// `n` options spread evenly over the chain (BTC and ETH), sizes alternating in sign.
pub fn option_book(
    n: usize,
) -> (
    Vec<Instrument>,
    Vec<margin_core::market::PricingInputs>,
    Vec<f64>,
) {
    let text = std::fs::read_to_string(CHAIN).expect("bundled chain");
    let data = parse_deribit_chain(&text, Path::new(CHAIN)).expect("valid chain");
    let views = data.views();
    let market = data.snapshot(&views).unwrap();
    let all: Vec<Instrument> = data.options().map(|q| q.instrument).collect();
    let step = all.len() / n;
    let instruments: Vec<Instrument> = all.iter().step_by(step).take(n).copied().collect();
    let inputs = instruments
        .iter()
        .map(|i| market.inputs(i).unwrap())
        .collect();
    let sizes = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -0.7 })
        .collect();
    (instruments, inputs, sizes)
}

fn params(method: Method) -> VarParams {
    VarParams {
        method,
        confidence: 0.99,
        horizon_days: 2,
        overlapping: true,
        lambda: 0.94,
        covariance: Covariance::Ewma,
        dist: Dist::Normal,
        scenarios: 100_000,
        seed: 1,
        vol: VolShock::None,
        time_decay: false,
    }
}

fn bench(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let joint = PriceHistory::load(&[format!("{DATA}btc_eth_daily_close_aligned.csv")]).unwrap();
    let btc = PriceHistory::load(&[format!("{DATA}BTC-USD.csv")]).unwrap();
    let mut group = c.benchmark_group("statistical");
    group.sample_size(10);

    let (instruments, inputs, sizes) = option_book(200);
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &sizes,
    };
    let coins: Vec<Asset> = joint.coins().to_vec();
    let h = Closes {
        coins: &coins,
        closes: joint.closes(),
    };
    let p = params(Method::MonteCarlo);
    group.bench_function("mc_es_100000_scenarios_x_200_options", |b| {
        b.iter(|| pool.install(|| black_box(var::run(&book, &h, &p).unwrap())))
    });

    let (instruments, inputs, sizes) = option_book(400);
    // 50 BTC options.
    let keep: Vec<usize> = (0..instruments.len())
        .filter(|&i| instruments[i].underlying.as_str() == "BTC")
        .take(50)
        .collect();
    let instruments: Vec<_> = keep.iter().map(|&i| instruments[i]).collect();
    let inputs: Vec<_> = keep.iter().map(|&i| inputs[i]).collect();
    let sizes: Vec<_> = keep.iter().map(|&i| sizes[i]).collect();
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &sizes,
    };
    let coins: Vec<Asset> = btc.coins().to_vec();
    let h = Closes {
        coins: &coins,
        closes: btc.closes(),
    };
    let p = params(Method::Historical);
    group.bench_function("hs_es_full_btc_history_x_50_options", |b| {
        b.iter(|| pool.install(|| black_box(var::run(&book, &h, &p).unwrap())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
