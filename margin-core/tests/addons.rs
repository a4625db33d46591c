//! Each add-on against a hand computation on the synthetic market (tests/synthetic): the
//! published rule applied by hand to a few positions, independent of the grouping code.

mod synthetic;

use margin_core::addon;
use margin_core::model::Model;
use margin_core::risk::Position;
use synthetic::{BTC_INVERSE, USDC_LINEAR, arrays};

fn pos(instrument: usize, size: f64) -> Position {
    Position { instrument, size }
}

/// Deribit's legacy rule (methodologies §1.3 table): a +10 call and −20 put at one strike leave
/// 10 naked; strikes and expiries do not net with each other; longs alone owe nothing.
#[test]
fn naked_short_nets_calls_and_puts_per_strike_only() {
    let model = Model::preset("deribit-btc").unwrap();
    let a = arrays(&model, &BTC_INVERSE);
    // 4 = JAN 60000-C, 5 = JAN 60000-P, 3 = JAN 50000-P, 8 = MAR 70000-C, 6 = JAN 70000-C.
    let positions = [
        pos(4, 10.0),
        pos(5, -20.0),
        pos(3, -3.0),
        pos(8, -1.5),
        pos(6, 7.0),
        pos(0, -4.0),
    ];
    // Naked: JAN 60000 → 10, JAN 50000 → 3, MAR 70000 → 1.5, JAN 70000 long → 0.
    let want = (10.0 + 3.0 + 1.5) * 0.01;
    let got = addon::naked_short_per_strike(&a, positions.iter().copied(), 0.01);
    assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    // The order of positions does not change the charge.
    let mut rev = positions;
    rev.reverse();
    assert_eq!(
        addon::naked_short_per_strike(&a, rev.iter().copied(), 0.01),
        got
    );
}

/// SPAN's short-option minimum counts every short option contract, calls and puts alike.
#[test]
fn short_option_minimum_counts_short_contracts() {
    let model = Model::preset("span16").unwrap();
    let a = arrays(&model, &BTC_INVERSE);
    let positions = [pos(4, 10.0), pos(5, -20.0), pos(3, -3.0), pos(0, -4.0)];
    let got = addon::short_option_minimum(&a, positions.iter().copied(), 0.005);
    assert!((got - 23.0 * 0.005).abs() < 1e-15, "{got}");
}

/// Roll shock Σ|Q|·max(min, rate·T) over futures and perpetuals only (methodologies §1.3).
#[test]
fn roll_shock_by_hand() {
    let model = Model::preset("deribit-btc").unwrap();
    let a = arrays(&model, &BTC_INVERSE);
    // Perpetual: T = 0 → the minimum; 27MAR26 from 2026-01-01 08:00: 85 days.
    let positions = [pos(0, -4.0), pos(2, 2.5), pos(4, -10.0)];
    let t_mar: f64 = 85.0 / 365.0;
    let want = 4.0 * 0.01 + 2.5 * (0.075 * t_mar).max(0.01);
    let got = addon::roll_shock(&a, positions.iter().copied(), 0.01, 0.075);
    assert!((got - want).abs() < 1e-15, "{got} vs {want}");
}

/// Paradex's minimum delta: per underlying (2 %·|net Δ| + 1 %·(gross Δ − |net Δ|))·price, with
/// linear perpetuals (delta 1 coin each) so every number is exact by hand.
#[test]
fn delta_minimum_by_hand() {
    let model = Model::preset("grid").unwrap();
    let a = arrays(&model, &USDC_LINEAR);
    // BTC: +3 and nothing else → net 3, hedged 0. ETH: −2 alone → net 2.
    let positions = [pos(0, 3.0), pos(1, -2.0)];
    let btc = 0.02 * 3.0 * synthetic::BTC_PERP;
    let eth = 0.02 * 2.0 * synthetic::ETH_PERP;
    let got = addon::delta_minimum(&a, positions.iter().copied(), 0.02, 0.01);
    assert!((got - (btc + eth)).abs() < 1e-9, "{got}");
}

/// Within one underlying, offsetting deltas move from the net to the hedged rate.
#[test]
fn delta_minimum_hedged_part() {
    let model = Model::preset("grid").unwrap();
    let a = arrays(&model, &BTC_INVERSE);
    // Inverse perpetual (delta 1) and the 27MAR26 future (delta 1): +5 and −3 → net 2, gross 8.
    let positions = [pos(0, 5.0), pos(2, -3.0)];
    let want = 0.02 * 2.0 + 0.01 * (8.0 - 2.0);
    let got = addon::delta_minimum(&a, positions.iter().copied(), 0.02, 0.01);
    assert!((got - want).abs() < 1e-15, "{got} vs {want}");
}
