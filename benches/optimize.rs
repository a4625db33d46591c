//! Optimiser benches on the bundled Deribit chain of 2026-08-22 and the bundled BTC/ETH
//! history, relaxed LPs (no lots), solve and model building included:
//! * worst-case LP, deribit-btc (35 scenarios) × 50 candidates on the demo account
//!   (target < 10 ms);
//! * ES LP, mc-es (10,000 Monte Carlo scenarios) × 20 candidates, cutting planes
//!   (target < 30 ms), and the full LP for comparison;
//! * liquidation plan of a 50-position BTC account at half its maintenance margin
//!   (target < 20 ms).
//!
//! `cargo bench -p margin-benches --bench optimize -- --warm-up-time 1 --measurement-time 5`

use criterion::{Criterion, criterion_group, criterion_main};
use margin_core::io::history::PriceHistory;
use margin_core::io::matrix::RiskMatrix;
use margin_core::io::portfolio::Position as FilePosition;
use margin_core::io::{Portfolio, PortfolioDefaults, read_market, read_portfolio};
use margin_core::model::Model;
use margin_core::{Asset, Instrument};
use margin_opt::hedge::es::{self, EsAccount};
use margin_opt::hedge::grid::GridAccount;
use margin_opt::hedge::liquidate::{self, Target};
use margin_opt::hedge::{Candidate, auto_candidates, half_spread, worst};
use margin_opt::joint::{JointEngine, lookup_model};
use std::hint::black_box;
use std::path::Path;

const CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
);
const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/portfolio-btc.json"
);
const HISTORY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/btc-eth-daily/btc_eth_daily_close_aligned.csv"
);

fn demo() -> Portfolio {
    read_portfolio(Path::new(DEMO), &PortfolioDefaults::default()).expect("demo")
}

fn candidates(matrix: &RiskMatrix, p: &Portfolio, n: usize) -> Vec<Candidate> {
    let held: Vec<Instrument> = p.positions.iter().map(|q| q.instrument).collect();
    auto_candidates(matrix, &held, p.currency, 2)
        .into_iter()
        .take(n)
        .map(|instrument| Candidate {
            instrument,
            lo: -5.0,
            hi: 5.0,
            half_spread: half_spread(matrix, &instrument).unwrap_or(0.0),
        })
        .collect()
}

fn bench_worst(c: &mut Criterion) {
    let p = demo();
    let market = read_market(Path::new(CHAIN)).unwrap();
    let extra: Vec<Instrument> = p.positions.iter().map(|q| q.instrument).collect();
    let matrix = RiskMatrix::new(market, Model::preset("deribit-btc").unwrap(), &extra).unwrap();
    let acc = GridAccount::new(&matrix, &p).unwrap();
    let cands = candidates(&matrix, &p, 50);
    assert_eq!(cands.len(), 50);
    assert_eq!(matrix.scenario_count(), 35);
    c.bench_function("worst LP 35 scenarios x 50 candidates", |b| {
        b.iter(|| black_box(worst::minimise(&acc, &cands, None).unwrap()))
    });
}

fn bench_es(c: &mut Criterion) {
    let p = demo();
    let market = read_market(Path::new(CHAIN)).unwrap();
    let extra: Vec<Instrument> = p.positions.iter().map(|q| q.instrument).collect();
    let matrix = RiskMatrix::new(market, lookup_model().unwrap(), &extra).unwrap();
    let history = PriceHistory::load(&[HISTORY.to_string()]).unwrap();
    let engine = JointEngine::new(Model::preset("mc-es").unwrap(), &history).unwrap();
    let acc = EsAccount::new(&engine, &matrix, &p).unwrap();
    let cands = candidates(&matrix, &p, 20);
    assert_eq!(cands.len(), 20);
    c.bench_function(
        "ES LP cutting planes 10,000 scenarios x 20 candidates",
        |b| {
            b.iter(|| {
                black_box(es::minimise(&acc, &cands, None, es::Method::CuttingPlane).unwrap())
            })
        },
    );
    let mut g = c.benchmark_group("slow");
    g.sample_size(10);
    g.bench_function("ES LP full 10,000 scenarios x 20 candidates", |b| {
        b.iter(|| black_box(es::minimise(&acc, &cands, None, es::Method::Full).unwrap()))
    });
    g.finish();
}

fn bench_liquidate(c: &mut Criterion) {
    let market = read_market(Path::new(CHAIN)).unwrap();
    let btc = Asset::new("BTC").unwrap();
    let lookup =
        RiskMatrix::new(market.clone(), Model::preset("deribit-btc").unwrap(), &[]).unwrap();
    // 50 BTC options of the two nearest expiries, alternately short 2 and long 1.
    let seed = [Instrument::parse("BTC-PERPETUAL").unwrap()];
    let positions: Vec<FilePosition> = auto_candidates(&lookup, &seed, btc, 3)
        .into_iter()
        .filter(|i| i.is_inverse() && !matches!(i.kind, margin_core::instrument::Kind::Perpetual))
        .take(50)
        .enumerate()
        .map(|(k, instrument)| FilePosition {
            instrument,
            size: if k % 2 == 0 { -2.0 } else { 1.0 },
        })
        .collect();
    assert_eq!(positions.len(), 50);
    let mut p = Portfolio {
        account: "liq50".into(),
        currency: btc,
        equity: 0.0,
        positions,
    };
    let acc = GridAccount::new(&lookup, &p).unwrap();
    let mm = acc.margin_with(&[]).unwrap().0.maintenance;
    p.equity = 0.5 * mm;
    let acc = GridAccount::new(&lookup, &p).unwrap();
    let spreads: Vec<f64> = acc
        .positions
        .iter()
        .map(|q| half_spread(&lookup, &lookup.instruments()[q.instrument]).unwrap_or(0.0))
        .collect();
    c.bench_function("liquidation plan 50 positions", |b| {
        b.iter(|| black_box(liquidate::plan(&acc, &spreads, Target::Maintenance).unwrap()))
    });
}

criterion_group!(benches, bench_worst, bench_es, bench_liquidate);
criterion_main!(benches);
