//! Pricing throughput: one Black-76 value, one value with Greeks, and valuation of every
//! instrument of the bundled 2026-08-22 Deribit chain (1,970 options) through a
//! `MarketSnapshot`.
//!
//! `cargo bench -p margin-benches` (add `-- --quick` for a short run).

// The chain loader the margin-core integration tests use, so both read the data the same way.
#[path = "../margin-core/tests/common/mod.rs"]
mod common;

use common::{CHAIN_20260822, chain_market, load_chain};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use margin_core::pricing::{black76, black76_price, valuation};
use margin_core::{Instrument, MarketSnapshot, Right, UnderlyingMarket};
use std::hint::black_box;

fn black76_single(c: &mut Criterion) {
    let mut group = c.benchmark_group("black76");
    group.throughput(Throughput::Elements(1));
    group.bench_function("price", |b| {
        b.iter(|| {
            black76_price(
                Right::Call,
                black_box(77_405.28),
                black_box(80_000.0),
                black_box(0.6246),
                black_box(0.0922),
                black_box(0.0),
            )
        })
    });
    group.bench_function("price_and_greeks", |b| {
        b.iter(|| {
            black76(
                Right::Put,
                black_box(77_405.28),
                black_box(80_000.0),
                black_box(0.6246),
                black_box(0.0922),
                black_box(0.0),
            )
        })
    });
    group.finish();
}

fn chain_valuation(c: &mut Criterion) {
    let rows = load_chain(CHAIN_20260822);
    let owned = chain_market(&rows);
    let views: Vec<UnderlyingMarket<'_>> = owned.iter().map(|u| u.view()).collect();
    let snapshot = MarketSnapshot::new(rows[0].timestamp, &views).expect("valid snapshot");
    let instruments: Vec<Instrument> = rows.iter().map(|r| r.instrument).collect();

    let mut group = c.benchmark_group("chain_2026_08_22");
    group.throughput(Throughput::Elements(instruments.len() as u64));
    group.bench_function("inputs_and_valuation", |b| {
        b.iter(|| {
            let mut total = 0.0;
            for instrument in black_box(&instruments) {
                let inputs = snapshot.inputs(instrument).expect("inputs");
                let v = valuation(instrument, &inputs).expect("valuation");
                total += v.value + v.delta;
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, black76_single, chain_valuation);
criterion_main!(benches);
