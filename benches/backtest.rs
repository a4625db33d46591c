//! Portfolio backtest bench: the first 50 positions (BTC options) of
//! `examples/portfolio-usdc-200.json` on the bundled chain, replayed under `hs-es` (2-day
//! 99 % ES) with a 250-day trailing window over the bundled BTC history (2014-09-17 to
//! 2024-05-26: 3,288 backtested days, 9.0 years), on one thread and on the default pool
//! (target < 1 s).
//!
//! `cargo bench -p margin-benches --bench backtest -- --warm-up-time 1 --measurement-time 5`

use criterion::{Criterion, criterion_group, criterion_main};
use margin_core::io::history::PriceHistory;
use margin_core::model::Model;
use margin_core::statistical::Book;
use margin_opt::backtest::portfolio::{self, Engine, History, Params};
use margin_opt::var::Closes;
use std::hint::black_box;

mod common;
use common::{DATA, USDC_200, book_of, index_price};

fn bench(c: &mut Criterion) {
    let btc = PriceHistory::load(&[format!("{DATA}BTC-USD.csv")]).unwrap();
    let (instruments, inputs, sizes) = book_of(USDC_200);
    let book = Book {
        instruments: &instruments[..50],
        inputs: &inputs[..50],
        sizes: &sizes[..50],
    };
    let coins = btc.coins().to_vec();
    let reference = [index_price(coins[0])];
    let history = History {
        closes: Closes {
            coins: &coins,
            closes: btc.closes(),
        },
        dates: btc.dates(),
        reference: &reference,
    };
    let model = Model::preset("hs-es").unwrap();
    let params = Params {
        window: 250,
        from: None,
        to: None,
        p: 0.01,
        horizon_days: None,
    };
    let engine = Engine::Statistical(&model);
    let days = portfolio::run(&book, 0.0, &engine, &history, &params)
        .unwrap()
        .days
        .len();
    assert_eq!(days, btc.len() - 250 - 2);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("backtest");
    group.sample_size(10);
    group.bench_function(
        "hs_es_250_day_window_3288_days_x_50_options_1_thread",
        |b| {
            b.iter(|| {
                one.install(|| black_box(portfolio::run(&book, 0.0, &engine, &history, &params)))
            })
        },
    );
    group.bench_function("hs_es_250_day_window_3288_days_x_50_options", |b| {
        b.iter(|| black_box(portfolio::run(&book, 0.0, &engine, &history, &params)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
