//! Calls the margin-core pricing and margin paths from a `#![no_std]`, `#![no_main]` binary with no
//! global allocator. It is never run; it only has to link.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;
use margin_core::account::{self, Account};
use margin_core::model::{MAX_SCENARIOS, Model, GRID_PRESETS};
use margin_core::pricing::{Valuation, black76, valuation, value};
use margin_core::risk::{Position, RiskArrays, RiskStorage};
use margin_core::{
    Asset, Forward, Instrument, Kind, MarketSnapshot, PricingInputs, Right, Settlement, Timestamp,
    UnderlyingMarket, VolQuote,
};

/// Parses symbols and a timestamp, builds a snapshot, and prices through every public route.
fn price_everything() -> f64 {
    let now = match Timestamp::parse_iso8601(black_box("2026-08-22T15:33:51.683Z")) {
        Ok(t) => t,
        Err(_) => return f64::NAN,
    };
    let Some(expiry) = Timestamp::from_civil(2026, 9, 25, 8) else {
        return f64::NAN;
    };
    let Some(btc) = Asset::new("BTC") else {
        return f64::NAN;
    };
    let forwards = [Forward {
        expiry,
        price: black_box(77405.28),
    }];
    let vols = [VolQuote {
        expiry,
        strike: 120_000.0,
        right: Right::Put,
        vol: black_box(0.6246),
    }];
    let markets = [UnderlyingMarket {
        asset: btc,
        index_price: 77081.8,
        perpetual_price: 77081.8,
        rate: 0.0,
        forwards: &forwards,
        vols: &vols,
    }];
    let Ok(snapshot) = MarketSnapshot::new(now, &markets) else {
        return f64::NAN;
    };
    let mut total = 0.0;
    for symbol in [
        "BTC-25SEP26-120000-P",
        "BTC-25SEP26-120000-C",
        "BTC-25SEP26",
        "BTC",
    ] {
        let Ok(instrument) = Instrument::parse(black_box(symbol)) else {
            return f64::NAN;
        };
        if let Ok(inputs) = snapshot.inputs(&instrument) {
            if let Ok(v) = valuation(&instrument, &inputs) {
                total += v.value + v.delta + v.gamma + v.vega + v.theta;
            }
            if let Ok(x) = value(&instrument, &inputs, inputs.forward) {
                total += x;
            }
        }
    }
    if let Ok(g) = black76(Right::Call, 100.0, 100.0, black_box(0.25), 0.5, 0.1) {
        total += g.value;
    }
    total + margin_everything(snapshot, btc)
}

/// Generates a preset's scenarios, builds risk arrays in stack storage, and margins an account
/// with a what-if: the whole margin path, with no heap.
fn margin_everything(snapshot: MarketSnapshot<'_>, btc: Asset) -> f64 {
    const N: usize = 3;
    let symbols = ["BTC-25SEP26-120000-P", "BTC-25SEP26", "BTC-PERPETUAL"];
    let mut instruments = [Instrument {
        underlying: btc,
        settlement: Settlement::Inverse,
        kind: Kind::Spot,
    }; N];
    for (slot, symbol) in instruments.iter_mut().zip(symbols) {
        let Ok(i) = Instrument::parse(black_box(symbol)) else {
            return f64::NAN;
        };
        *slot = i;
    }
    let mut total = 0.0;
    for preset in GRID_PRESETS {
        let Ok(model) = Model::preset(black_box(preset)) else {
            return f64::NAN;
        };
        let Ok(scenarios) = model.scenarios() else {
            return f64::NAN;
        };
        let Ok(grids) = model.underlying_grids() else {
            return f64::NAN;
        };
        let Ok(set) = model.scenario_set(&scenarios, &grids) else {
            return f64::NAN;
        };
        let mut inputs = [PricingInputs::ZERO; N];
        let mut valuations = [Valuation::ZERO; N];
        let mut pnl = [0.0; N * MAX_SCENARIOS];
        let storage = RiskStorage {
            inputs: &mut inputs,
            valuations: &mut valuations,
            pnl: &mut pnl,
        };
        let Ok(arrays) = RiskArrays::build(snapshot, set, &instruments, storage) else {
            return f64::NAN;
        };
        let positions = [
            Position {
                instrument: 0,
                size: -2.0,
            },
            Position {
                instrument: 2,
                size: black_box(1.0),
            },
        ];
        let Ok(acct) = Account::new(&arrays, btc, 1.0, &positions) else {
            return f64::NAN;
        };
        let mut scratch = [0.0; MAX_SCENARIOS];
        if let Ok(m) = account::margin(&arrays, &model, &acct, &mut scratch) {
            total += m.initial + m.maintenance;
        }
        if let Ok(w) = account::what_if(
            &arrays,
            &model,
            &acct,
            &scratch,
            Position {
                instrument: 1,
                size: -1.0,
            },
        ) {
            total += w.initial;
        }
    }
    total
}

/// Entry point the linker keeps; the probe is linked, never executed.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    black_box(price_everything());
    loop {}
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}
