//! Edge cases of accounts: every bad input is a typed error, never a panic; status boundaries.

mod synthetic;

use margin_core::Error;
use margin_core::account::{self, Account};
use margin_core::model::Model;
use margin_core::risk::Position;
use synthetic::*;

fn pos(instrument: usize, size: f64) -> Position {
    Position { instrument, size }
}

/// Regression: an account validated against one set of arrays and then evaluated against
/// another (fewer instruments) used to index out of bounds and panic in `margin`/`what_if`.
#[test]
fn account_used_with_other_arrays_is_an_error_not_a_panic() {
    let model = Model::preset("deribit-btc").unwrap();
    let big = arrays(&model, &BTC_INVERSE);
    let small = arrays(&model, &BTC_INVERSE[..2]);
    let positions = [pos(0, 1.0), pos(8, -2.0)];
    let acct = Account::new(&big, btc(), 10.0, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&big)];
    assert_eq!(
        account::margin(&small, &model, &acct, &mut scratch),
        Err(Error::UnknownInstrument { index: 1 })
    );
    account::margin(&big, &model, &acct, &mut scratch).unwrap();
    assert_eq!(
        account::what_if(&small, &model, &acct, &scratch, pos(0, 1.0)),
        Err(Error::UnknownInstrument { index: 1 })
    );
    // Same length, other underlying at that row: the position no longer belongs to a group.
    let usd = arrays(&model, &USDC_LINEAR);
    let acct = Account::new(&big, btc(), 10.0, &positions[..1]).unwrap();
    assert_eq!(
        account::margin(&usd, &model, &acct, &mut scratch),
        Err(Error::CurrencyMismatch { index: 0 })
    );
}

/// The largest float below `x > 0`.
fn below(x: f64) -> f64 {
    assert!(x > 0.0);
    f64::from_bits(x.to_bits() - 1)
}

fn short_call_margin(equity: f64) -> account::Margin {
    let model = Model::preset("deribit-btc").unwrap();
    let arrays = arrays(&model, &BTC_INVERSE);
    let positions = [pos(4, -3.0), pos(0, 0.5)];
    let acct = Account::new(&arrays, btc(), equity, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    account::margin(&arrays, &model, &acct, &mut scratch).unwrap()
}

#[test]
fn status_transitions_at_exactly_the_boundaries() {
    use account::Status::*;
    let m = short_call_margin(1.0);
    let (im, mm) = (m.initial, m.maintenance);
    assert!(mm > 0.0 && mm < im);
    // Equity equal to a requirement meets it; one ulp below does not.
    assert_eq!(short_call_margin(im * 2.0).status, Healthy);
    assert_eq!(short_call_margin(im).status, Healthy);
    assert_eq!(short_call_margin(below(im)).status, MarginCall);
    assert_eq!(short_call_margin(mm).status, MarginCall);
    assert_eq!(short_call_margin(below(mm)).status, Liquidation);
    assert_eq!(short_call_margin(0.0).status, Liquidation);
    let at_im = short_call_margin(im);
    assert_eq!(at_im.free_collateral, 0.0);
    assert_eq!(at_im.margin_ratio, Some(mm / im));
}

#[test]
fn non_positive_equity_has_no_margin_ratio() {
    assert_eq!(short_call_margin(0.0).margin_ratio, None);
    assert_eq!(short_call_margin(-2.5).margin_ratio, None);
    assert_eq!(short_call_margin(-2.5).status, account::Status::Liquidation);
    let m = short_call_margin(f64::MIN_POSITIVE);
    assert!(m.margin_ratio.is_some_and(|r| r > 0.0));
    // An empty account needs nothing and is healthy at zero equity.
    let model = Model::preset("deribit-btc").unwrap();
    let arrays = arrays(&model, &BTC_INVERSE);
    let acct = Account::new(&arrays, btc(), 0.0, &[]).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    let m = account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
    assert_eq!((m.initial, m.maintenance), (0.0, 0.0));
    assert_eq!(m.status, account::Status::Healthy);
    assert_eq!(m.margin_ratio, None);
    assert!(Account::new(&arrays, btc(), f64::NAN, &[]).is_err());
}

#[test]
fn bad_positions_are_typed_errors() {
    let model = Model::preset("deribit-btc").unwrap();
    let arrays = arrays(&model, &BTC_INVERSE);
    let new = |positions: &[Position]| Account::new(&arrays, btc(), 1.0, positions).map(|_| ());
    assert_eq!(
        new(&[pos(0, 1.0), pos(3, 1.0), pos(0, -1.0)]),
        Err(Error::Duplicate {
            what: "positions",
            index: 2
        })
    );
    for size in [1.0e10, -1.0e10, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                new(&[pos(1, 1.0), pos(2, size)]),
                Err(Error::SizeOutOfRange { index: 1, .. })
            ),
            "{size}"
        );
    }
    assert!(
        new(&[pos(2, -1.0e9)]).is_ok(),
        "1e9 is the largest accepted size"
    );
    assert_eq!(
        new(&[pos(99, 1.0)]),
        Err(Error::UnknownInstrument { index: 0 })
    );
    // A linear USDC instrument in a BTC account, and a BTC instrument in a USDC account.
    let both = arrays_on(
        market(),
        &model,
        instruments(&["BTC-PERPETUAL", "BTC_USDC-PERPETUAL"]),
    );
    assert_eq!(
        Account::new(&both, btc(), 1.0, &[pos(0, 1.0), pos(1, 1.0)]).map(|_| ()),
        Err(Error::CurrencyMismatch { index: 1 })
    );
    assert_eq!(
        Account::new(&both, usdc(), 1.0, &[pos(0, 1.0)]).map(|_| ()),
        Err(Error::CurrencyMismatch { index: 0 })
    );
    let mut out = [0.0; 3];
    assert_eq!(
        margin_core::risk::portfolio_pnl(&arrays, &[pos(0, 1.0)], &mut out),
        Err(Error::Capacity {
            needed: arrays.scenarios().len(),
            available: 3
        })
    );
    let mut out = vec![0.0; arrays.scenarios().len()];
    assert_eq!(
        margin_core::risk::portfolio_pnl(&arrays, &[pos(0, 1.0), pos(9, 1.0)], &mut out),
        Err(Error::UnknownInstrument { index: 1 })
    );
}

#[test]
fn what_if_rejects_bad_orders_and_small_scratch() {
    let model = Model::preset("deribit-btc").unwrap();
    let arrays = arrays(&model, &BTC_INVERSE);
    let positions = [pos(0, 8.0e8), pos(4, -1.0)];
    let acct = Account::new(&arrays, btc(), 1.0, &positions).unwrap();
    let s = arrays.scenarios().len();
    let mut short = vec![0.0; s - 1];
    assert_eq!(
        account::margin(&arrays, &model, &acct, &mut short),
        Err(Error::Capacity {
            needed: s,
            available: s - 1
        })
    );
    assert_eq!(
        account::what_if(&arrays, &model, &acct, &short, pos(1, 1.0)),
        Err(Error::Capacity {
            needed: s,
            available: s - 1
        })
    );
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
    let what_if = |order| account::what_if(&arrays, &model, &acct, &scratch, order).map(|_| ());
    // The order is reported as position number 2 (after the two held).
    assert_eq!(
        what_if(pos(42, 1.0)),
        Err(Error::UnknownInstrument { index: 2 })
    );
    assert!(matches!(
        what_if(pos(1, f64::NAN)),
        Err(Error::SizeOutOfRange { index: 2, .. })
    ));
    // 8e8 held + 3e8 ordered exceeds 1e9 once merged.
    assert!(matches!(
        what_if(pos(0, 3.0e8)),
        Err(Error::SizeOutOfRange { index: 2, .. })
    ));
    assert!(what_if(pos(0, -3.0e8)).is_ok());
}

#[test]
fn too_many_underlyings_is_a_capacity_error() {
    use margin_core::Asset;
    use margin_core::market::{MarketSnapshot, UnderlyingMarket};
    let codes: Vec<String> = (0..=account::MAX_UNDERLYINGS)
        .map(|i| format!("COIN{i}"))
        .collect();
    let underlyings: &'static [UnderlyingMarket<'static>] = Box::leak(
        codes
            .iter()
            .map(|c| UnderlyingMarket {
                asset: Asset::new(c).unwrap(),
                index_price: 10.0,
                perpetual_price: 10.0,
                rate: 0.0,
                forwards: &[],
                vols: &[],
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let market = MarketSnapshot::new(valuation_time(), underlyings).unwrap();
    let symbols: Vec<String> = codes
        .iter()
        .map(|c| format!("{c}_USDC-PERPETUAL"))
        .collect();
    let symbols: Vec<&str> = symbols.iter().map(String::as_str).collect();
    let model = Model::preset("deribit-eth").unwrap();
    let arrays = arrays_on(market, &model, instruments(&symbols));
    let all: Vec<Position> = (0..=account::MAX_UNDERLYINGS)
        .map(|i| pos(i, 1.0))
        .collect();
    let full = Error::Capacity {
        needed: account::MAX_UNDERLYINGS + 1,
        available: account::MAX_UNDERLYINGS,
    };
    assert_eq!(
        Account::new(&arrays, usdc(), 1.0, &all).map(|_| ()),
        Err(full)
    );
    let acct = Account::new(&arrays, usdc(), 1.0, &all[..account::MAX_UNDERLYINGS]).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
    assert_eq!(
        account::what_if(
            &arrays,
            &model,
            &acct,
            &scratch,
            all[account::MAX_UNDERLYINGS]
        )
        .map(|_| ()),
        Err(full)
    );
    // An order in an underlying already held still works.
    assert!(account::what_if(&arrays, &model, &acct, &scratch, pos(0, -1.0)).is_ok());
}

/// A USDC account long 1 BTC_USDC perpetual (60 000) and short 10 ETH_USDC perpetuals
/// (3 000). In scenario x the BTC unit makes 60 000·x and the ETH unit −30 000·x.
/// deribit-eth (pnl_offset 0.6, cap 20 M USD, range ±18 %): for x < 0 the cell is
/// 60 000x + 0.6·(−30 000x) = 42 000x, for x > 0 it is −30 000x + 0.6·60 000x = 6 000x > 0,
/// so the worst case is 42 000·0.18 = 7 560 at −18 % (the extended cells hold delta-one at the
/// edge and the 200 000 USD dampener removes them). Roll shock, perpetuals at the 0.005
/// minimum: 0.005·(60 000 + 30 000) = 450. IM = 8 010, MM = 0.8·8 010 = 6 408.
/// deribit-btc (pnl_offset 0, ±16 %, min move 0.01): worst 60 000·0.16 = 9 600, roll 900,
/// IM 10 500, MM 8 400. deribit-eth with the cap lowered to 1 000 USD: at −18 %,
/// −10 800 + min(3 240, 1 000) = −9 800; at +18 %, −5 400 + 1 000; worst 9 800.
#[test]
fn usdc_account_cross_offsets_by_hand() {
    let positions = [pos(0, 1.0), pos(1, -10.0)];
    let run = |model: &Model| {
        let arrays = arrays(model, &USDC_LINEAR);
        let acct = Account::new(&arrays, usdc(), 50_000.0, &positions).unwrap();
        let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
        assert_eq!(
            scratch.len(),
            2 * arrays.scenarios().len(),
            "two risk units"
        );
        account::margin(&arrays, model, &acct, &mut scratch).unwrap()
    };
    let check = |m: &account::Margin, worst: f64, roll: f64, im: f64, move_: f64| {
        let c = |a: f64, b: f64| close(a, b, 1e-12, 1.0);
        assert!(c(m.component("worst_case").unwrap(), worst), "{m:?}");
        assert!(c(m.component("roll_shock").unwrap(), roll), "{m:?}");
        assert!(c(m.initial, im), "{m:?}");
        assert!(c(m.maintenance, 0.8 * im), "{m:?}");
        assert!(
            close(m.worst.price_move, move_, 1e-12, 1e-12),
            "{:?}",
            m.worst
        );
    };
    let eth = Model::preset("deribit-eth").unwrap();
    let m = run(&eth);
    check(&m, 7_560.0, 450.0, 8_010.0, -0.18);
    assert_eq!(m.worst.kind, margin_core::scenario::ScenarioKind::Standard);
    check(
        &run(&Model::preset("deribit-btc").unwrap()),
        9_600.0,
        900.0,
        10_500.0,
        -0.16,
    );
    let mut capped = eth.clone();
    capped.set("max_offsetable_pnl", 1_000.0).unwrap();
    check(&run(&capped), 9_800.0, 450.0, 10_250.0, -0.18);
}

/// Regression: parameters were only checked by `Model::scenarios()`, and not all of them, so
/// a model changed after its arrays were built (or a few never-checked parameters) produced
/// wrong numbers — a negative maintenance margin, a cap that adds losses, a silently dropped
/// vol state — instead of an error. They are now checked wherever the model is used.
#[test]
fn invalid_parameters_are_errors_wherever_the_model_is_used() {
    let model = Model::preset("deribit-btc").unwrap();
    let arrays = arrays(&model, &BTC_INVERSE);
    let positions = [pos(4, -1.0)];
    let acct = Account::new(&arrays, btc(), 1.0, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
    for (preset, name, value) in [
        ("deribit-btc", "mm_factor", -1.0),
        ("deribit-btc", "max_offsetable_pnl", -5.0),
        ("deribit-btc", "extended_table_factor", -1.0),
        ("deribit-btc", "worst_case_decimals", 2.5),
        ("grid", "volatility_range_up", -0.4),
        ("grid", "delta_minimum_net", -0.02),
        ("grid", "delta_minimum_hedged", -0.01),
        ("span16", "im_ratio", 0.0),
        ("span16", "price_scan_range", -0.1),
        // Issue 13: parameters that slash margin. IM ≥ MM always; MM never near 0.
        ("deribit-btc", "mm_factor", 1.5),
        ("deribit-btc", "mm_factor", 0.01),
        ("deribit-btc", "pnl_offset", 5.0),
        ("deribit-btc", "worst_case_decimals", 0.0),
        ("grid", "mm_factor", 1.2),
        ("span16", "im_ratio", 0.5),
        ("span16", "extreme_move_cover", 1.5),
        ("hs-es", "mm_factor", 0.0),
    ] {
        let mut bad = Model::preset(preset).unwrap();
        bad.set(name, value).unwrap();
        if preset == "hs-es" {
            // A statistical model has no grid scenarios at all: only its own check can fail.
            assert!(Model::preset(preset).unwrap().validate().is_ok());
            assert!(bad.validate().is_err(), "{name} = {value}");
            continue;
        }
        assert!(
            bad.scenarios().is_err(),
            "{preset}.{name} = {value}: scenarios"
        );
        if preset == "deribit-btc" {
            assert!(
                account::margin(&arrays, &bad, &acct, &mut scratch).is_err(),
                "{name} = {value}: margin"
            );
            account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
            assert!(
                account::what_if(&arrays, &bad, &acct, &scratch, pos(0, 1.0)).is_err(),
                "{name} = {value}: what_if"
            );
        }
    }
    // Arrays built for one preset and evaluated under another family's rules.
    let span = Model::preset("span16").unwrap();
    assert!(matches!(
        account::margin(&arrays, &span, &acct, &mut scratch),
        Err(Error::OutOfRange { .. })
    ));
}

/// Regression: only the scenario count was compared, so arrays built for deribit-btc were
/// silently margined under deribit-eth (35 scenarios each), and a valid parameter changed after
/// the build gave the old, stale numbers. Any difference in the scenarios is now an error.
#[test]
fn arrays_built_for_other_scenarios_are_rejected() {
    let btc_model = Model::preset("deribit-btc").unwrap();
    let arrays = arrays(&btc_model, &BTC_INVERSE);
    let positions = [pos(4, -1.0)];
    let acct = Account::new(&arrays, btc(), 1.0, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    account::margin(&arrays, &btc_model, &acct, &mut scratch).unwrap();
    let eth_model = Model::preset("deribit-eth").unwrap();
    let mut changed = btc_model.clone();
    changed.set("volatility_range_up", 2.0).unwrap();
    let mut floor = btc_model.clone();
    floor.set("min_volatility_for_shock_up", 0.9).unwrap();
    for other in [&eth_model, &changed, &floor] {
        assert!(matches!(
            account::margin(&arrays, other, &acct, &mut scratch),
            Err(Error::OutOfRange { .. })
        ));
        account::margin(&arrays, &btc_model, &acct, &mut scratch).unwrap();
        assert!(matches!(
            account::what_if(&arrays, other, &acct, &scratch, pos(0, 1.0)),
            Err(Error::OutOfRange { .. })
        ));
    }
}

/// Issue 13: a grid weight of 0 drops its scenario from the requirement; weights must lie in
/// (0, 1].
#[test]
fn grid_weights_must_be_in_zero_one() {
    for w in [0.0, -0.5, 1.5] {
        let mut model = Model::preset("grid").unwrap();
        let margin_core::model::Family::Grid(g) = &mut model.family else {
            unreachable!("the grid preset is a grid")
        };
        g.price_moves[0].1 = w;
        assert!(
            matches!(model.validate(), Err(Error::OutOfRange { value, .. }) if value == w),
            "weight {w}"
        );
    }
}
