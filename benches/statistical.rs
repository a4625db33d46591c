//! Statistical-margin benches on the bundled Deribit chain of 2026-08-22 and the bundled
//! BTC/ETH daily history (`data/`), one thread:
//! * Monte Carlo ES, 100,000 scenarios × 200 option positions on BTC and ETH (the USDC account
//!   `examples/portfolio-usdc-200.json`), full revaluation (target < 0.5 s);
//! * HS ES over the full BTC history (2014–2024, about 3,500 2-day windows) for its first 50
//!   positions, BTC options (target < 5 ms).
//!
//! `cargo bench -p margin-benches --bench statistical -- --warm-up-time 1 --measurement-time 5`

use criterion::{Criterion, criterion_group, criterion_main};
use margin_core::Asset;
use margin_core::io::history::PriceHistory;
use margin_core::scenario::VolShock;
use margin_core::spec::{Covariance, JointSource, Method};
use margin_core::statistical::Book;
use margin_core::stats::monte_carlo::Dist;
use margin_opt::var::{self, Closes, VarParams};
use std::hint::black_box;

mod common;
use common::{DATA, USDC_200, book_of};

fn params(method: Method) -> VarParams {
    VarParams {
        source: JointSource {
            method,
            horizon_days: 2,
            overlapping: true,
            lambda: 0.94,
            covariance: Covariance::Ewma,
            dist: Dist::Normal,
            scenarios: 100_000,
            seed: 1,
            vol: VolShock::None,
            time_decay: false,
        },
        confidence: 0.99,
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

    let (instruments, inputs, sizes) = book_of(USDC_200);
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

    let (instruments, inputs, sizes) = book_of(USDC_200);
    // Its first 50 positions: BTC options.
    let keep: Vec<usize> = (0..50).collect();
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
