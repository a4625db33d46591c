//! Scenario-engine benches on the bundled Deribit BTC + ETH option chain of 2026-08-22
//! (`/work/shared/data/deribit-options`, 1,970 options): building the risk arrays, one
//! 50-position account's margin from cached arrays, and one what-if.
//!
//! The chain is read here with the `csv` crate (the `io` module was not yet on `main` when
//! this bench was written): per currency the first forward seen for each expiry, the index as
//! the perpetual mark, and every option's mark IV.

use criterion::{Criterion, criterion_group, criterion_main};
use margin_core::account::{self, Account};
use margin_core::market::{Forward, MarketSnapshot, PricingInputs, UnderlyingMarket, VolQuote};
use margin_core::model::Model;
use margin_core::pricing::Valuation;
use margin_core::risk::{Position, RiskArrays, RiskStorage};
use margin_core::scenario::ScenarioSet;
use margin_core::{Asset, Instrument, Kind, Timestamp};
use std::hint::black_box;

const CHAIN: &str =
    "/work/shared/data/deribit-options/deribit_options_snapshot_20260822T153351Z.csv";

struct Chain {
    time: Timestamp,
    forwards: Vec<Vec<Forward>>,
    vols: Vec<Vec<VolQuote>>,
    index: Vec<f64>,
    instruments: Vec<Instrument>,
}

fn read_chain() -> Chain {
    let mut reader = csv::Reader::from_path(CHAIN).expect("bundled chain");
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_ts, c_name, c_fwd, c_iv, c_ccy, c_index) = (
        col("timestamp"),
        col("instrument_name"),
        col("underlying"),
        col("implied_volatility"),
        col("currency"),
        col("index_price"),
    );
    let mut chain = Chain {
        time: Timestamp(0),
        forwards: vec![Vec::new(), Vec::new()],
        vols: vec![Vec::new(), Vec::new()],
        index: vec![0.0; 2],
        instruments: Vec::new(),
    };
    for record in reader.records() {
        let r = record.unwrap();
        chain.time = Timestamp::parse_iso8601(&r[c_ts]).unwrap();
        let u = usize::from(&r[c_ccy] != "BTC");
        let inst = Instrument::parse(&r[c_name]).unwrap();
        let Kind::Option {
            expiry,
            strike,
            right,
        } = inst.kind
        else {
            continue;
        };
        chain.index[u] = r[c_index].parse().unwrap();
        if !chain.forwards[u].iter().any(|f| f.expiry == expiry) {
            chain.forwards[u].push(Forward {
                expiry,
                price: r[c_fwd].parse().unwrap(),
            });
        }
        chain.vols[u].push(VolQuote {
            expiry,
            strike,
            right,
            vol: r[c_iv].parse().unwrap(),
        });
        chain.instruments.push(inst);
    }
    for u in 0..2 {
        chain.forwards[u].sort_by_key(|f| f.expiry);
        chain.vols[u].sort_by(|a, b| {
            a.expiry
                .cmp(&b.expiry)
                .then(a.strike.total_cmp(&b.strike))
                .then(a.right.cmp(&b.right))
        });
    }
    for coin in ["BTC", "ETH"] {
        chain
            .instruments
            .push(Instrument::parse(&format!("{coin}-PERPETUAL")).unwrap());
    }
    chain
}

fn bench_margin(c: &mut Criterion) {
    let chain = read_chain();
    let underlyings: Vec<UnderlyingMarket<'_>> = ["BTC", "ETH"]
        .iter()
        .enumerate()
        .map(|(u, coin)| UnderlyingMarket {
            asset: Asset::new(coin).unwrap(),
            index_price: chain.index[u],
            perpetual_price: chain.index[u],
            rate: 0.0,
            forwards: &chain.forwards[u],
            vols: &chain.vols[u],
        })
        .collect();
    let market = MarketSnapshot::new(chain.time, &underlyings).unwrap();
    let model = Model::preset("deribit-btc").unwrap();
    let scenarios = model.scenarios().unwrap();
    let set = ScenarioSet::new(&scenarios, model.tenor()).unwrap();
    let n = chain.instruments.len();
    let blank_inputs = PricingInputs {
        forward: 0.0,
        vol: 0.0,
        time: 0.0,
        rate: 0.0,
    };
    let blank_val = Valuation {
        value: 0.0,
        delta: 0.0,
        delta_premium_adjusted: 0.0,
        gamma: 0.0,
        vega: 0.0,
        theta: 0.0,
    };
    let mut inputs = vec![blank_inputs; n];
    let mut vals = vec![blank_val; n];
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
                black_box(RiskArrays::build(market, set, &chain.instruments, storage).unwrap());
            })
        },
    );

    let storage = RiskStorage {
        inputs: &mut inputs,
        valuations: &mut vals,
        pnl: &mut pnl,
    };
    let arrays = RiskArrays::build(market, set, &chain.instruments, storage).unwrap();
    // 50 BTC positions spread over the chain (options of every expiry, long and short) plus
    // the perpetual.
    let btc = Asset::new("BTC").unwrap();
    let btc_rows: Vec<usize> = (0..n)
        .filter(|&i| chain.instruments[i].underlying == btc)
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
