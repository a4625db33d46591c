//! A small synthetic market shared by the integration tests: BTC (inverse perpetual, two
//! futures, six options over two expiries, a linear perpetual) and ETH (a linear perpetual),
//! valued on 2026-01-01 08:00 UTC. Storage is leaked so the arrays are `'static`; each test
//! builds its arrays once.
#![allow(dead_code)]

use margin_core::market::{Forward, MarketSnapshot, PricingInputs, UnderlyingMarket, VolQuote};
use margin_core::model::Model;
use margin_core::pricing::Valuation;
use margin_core::risk::{RiskArrays, RiskStorage};
use margin_core::scenario::ScenarioSet;
use margin_core::{Asset, Instrument, Right, Timestamp};

/// BTC inverse instruments of the synthetic market (all settle in BTC).
pub const BTC_INVERSE: [&str; 9] = [
    "BTC-PERPETUAL",
    "BTC-30JAN26",
    "BTC-27MAR26",
    "BTC-30JAN26-50000-P",
    "BTC-30JAN26-60000-C",
    "BTC-30JAN26-60000-P",
    "BTC-30JAN26-70000-C",
    "BTC-27MAR26-50000-P",
    "BTC-27MAR26-70000-C",
];

/// Linear USDC perpetuals of the synthetic market.
pub const USDC_LINEAR: [&str; 2] = ["BTC_USDC-PERPETUAL", "ETH_USDC-PERPETUAL"];

pub const BTC_INDEX: f64 = 60_000.0;
pub const BTC_PERP: f64 = 60_000.0;
pub const ETH_INDEX: f64 = 3_000.0;
pub const ETH_PERP: f64 = 3_000.0;

fn leak<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

pub fn valuation_time() -> Timestamp {
    Timestamp::from_civil(2026, 1, 1, 8).unwrap()
}

pub fn btc() -> Asset {
    Asset::new("BTC").unwrap()
}

pub fn usdc() -> Asset {
    Asset::new("USDC").unwrap()
}

/// The synthetic BTC + ETH snapshot.
pub fn market() -> MarketSnapshot<'static> {
    let jan = Timestamp::from_civil(2026, 1, 30, 8).unwrap();
    let mar = Timestamp::from_civil(2026, 3, 27, 8).unwrap();
    let forwards = leak(vec![
        Forward {
            expiry: jan,
            price: 60_200.0,
        },
        Forward {
            expiry: mar,
            price: 60_800.0,
        },
    ]);
    let mut vols = Vec::new();
    for (expiry, smile) in [(jan, [0.62, 0.50, 0.55]), (mar, [0.58, 0.52, 0.54])] {
        for (k, vol) in [50_000.0, 60_000.0, 70_000.0].into_iter().zip(smile) {
            for right in [Right::Call, Right::Put] {
                vols.push(VolQuote {
                    expiry,
                    strike: k,
                    right,
                    vol,
                });
            }
        }
    }
    let underlyings = leak(vec![
        UnderlyingMarket {
            asset: btc(),
            index_price: BTC_INDEX,
            perpetual_price: BTC_PERP,
            rate: 0.0,
            forwards,
            vols: leak(vols),
        },
        UnderlyingMarket {
            asset: Asset::new("ETH").unwrap(),
            index_price: ETH_INDEX,
            perpetual_price: ETH_PERP,
            rate: 0.0,
            forwards: &[],
            vols: &[],
        },
    ]);
    MarketSnapshot::new(valuation_time(), underlyings).unwrap()
}

pub fn instruments(symbols: &[&str]) -> &'static [Instrument] {
    leak(
        symbols
            .iter()
            .map(|s| Instrument::parse(s).unwrap())
            .collect(),
    )
}

/// Risk arrays of `symbols` on the synthetic market under `model`'s scenarios.
pub fn arrays(model: &Model, symbols: &[&str]) -> RiskArrays<'static> {
    arrays_on(market(), model, instruments(symbols))
}

/// Risk arrays of `instruments` on `market` under `model`'s scenarios.
pub fn arrays_on(
    market: MarketSnapshot<'static>,
    model: &Model,
    instruments: &'static [Instrument],
) -> RiskArrays<'static> {
    let scenarios: &'static [_] = leak(model.scenarios().unwrap().to_vec());
    let grids: &'static [_] = leak(model.underlying_grids().unwrap().to_vec());
    let set = ScenarioSet::new(scenarios, model.tenor())
        .unwrap()
        .with_underlying_grids(grids)
        .unwrap();
    let n = instruments.len();
    let storage = RiskStorage {
        inputs: Box::leak(vec![PricingInputs::ZERO; n].into_boxed_slice()),
        valuations: Box::leak(vec![Valuation::ZERO; n].into_boxed_slice()),
        pnl: Box::leak(vec![0.0; n * set.len()].into_boxed_slice()),
    };
    RiskArrays::build(market, set, instruments, storage).unwrap()
}

/// `|a − b| ≤ rel·max(|a|, |b|, floor)`: relative agreement, with `floor` the scale below
/// which differences count as absolute.
pub fn close(a: f64, b: f64, rel: f64, floor: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs()).max(floor)
}
