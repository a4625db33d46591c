//! Scenario-engine benches on the bundled Deribit BTC + ETH option chain of 2026-08-22
//! (`data/deribit/`, 1,970 options, read with `margin_core::io::parse_deribit_chain`):
//! building the risk arrays, one 50-position account's margin from cached arrays, and one
//! what-if.
//!
//! `cargo bench -p margin-benches --bench margin -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, criterion_group, criterion_main};
use margin_core::account::{self, Account};
use margin_core::io::parse_deribit_chain;
use margin_core::market::PricingInputs;
use margin_core::model::Model;
use margin_core::pricing::Valuation;
use margin_core::risk::{Position, RiskArrays, RiskStorage};
use margin_core::{Asset, Instrument};
use std::hint::black_box;
use std::path::Path;

const CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
);

fn bench_margin(c: &mut Criterion) {
    let text = std::fs::read_to_string(CHAIN).expect("bundled chain");
    let data = parse_deribit_chain(&text, Path::new(CHAIN)).expect("valid chain");
    let views = data.views();
    let market = data.snapshot(&views).unwrap();
    let mut instruments: Vec<Instrument> = data.options().map(|q| q.instrument).collect();
    for coin in ["BTC", "ETH"] {
        instruments.push(Instrument::parse(&format!("{coin}-PERPETUAL")).unwrap());
    }
    let model = Model::preset("deribit-btc").unwrap();
    let scenarios = model.scenarios().unwrap();
    let grids = model.underlying_grids().unwrap();
    let set = model.scenario_set(&scenarios, &grids).unwrap();
    let n = instruments.len();
    let mut inputs = vec![PricingInputs::ZERO; n];
    let mut vals = vec![Valuation::ZERO; n];
    let mut pnl = vec![0.0; n * set.len()];

    let mut group = c.benchmark_group("deribit-2026-08-22");
    group.bench_function(
        format!("risk_arrays_{n}_instruments_x_{}_scenarios", set.len()),
        |b| {
            b.iter(|| {
                let storage = RiskStorage {
                    inputs: &mut inputs,
                    valuations: &mut vals,
                    pnl: &mut pnl,
                };
                black_box(RiskArrays::build(market, set, &instruments, storage).unwrap());
            })
        },
    );

    let storage = RiskStorage {
        inputs: &mut inputs,
        valuations: &mut vals,
        pnl: &mut pnl,
    };
    let arrays = RiskArrays::build(market, set, &instruments, storage).unwrap();
    // 50 BTC positions spread over the chain (options of every expiry, long and short) plus
    // the perpetual.
    let btc = Asset::new("BTC").unwrap();
    let btc_rows: Vec<usize> = (0..n)
        .filter(|&i| instruments[i].underlying == btc)
        .collect();
    let step = btc_rows.len() / 49;
    let mut positions: Vec<Position> = (0..49)
        .map(|k| Position {
            instrument: btc_rows[k * step],
            size: if k % 2 == 0 { 1.5 } else { -2.0 } + 0.1 * k as f64,
        })
        .collect();
    positions.push(Position {
        instrument: *btc_rows.last().unwrap(),
        size: 3.0,
    });
    let acct = Account::new(&arrays, btc, 100.0, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    group.bench_function("margin_50_positions", |b| {
        b.iter(|| {
            black_box(account::margin(&arrays, &model, &acct, black_box(&mut scratch)).unwrap())
        })
    });
    account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
    let order = Position {
        instrument: btc_rows[7],
        size: -1.0,
    };
    group.bench_function("what_if_50_positions", |b| {
        b.iter(|| {
            black_box(account::what_if(&arrays, &model, &acct, black_box(&scratch), order).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_margin);
criterion_main!(benches);
