//! The declarative spec's risk units, against closed forms on the synthetic market
//! (tests/synthetic): linear perpetuals, whose scenario P&L is `size × F × move` exactly.

mod synthetic;

use margin_core::account::{self, Account};
use margin_core::model::Model;
use margin_core::risk::Position;
use margin_core::spec::Scope;
use synthetic::{BTC_PERP, ETH_PERP, USDC_LINEAR, arrays, close, usdc};

/// Classic SPAN scans each combined commodity over its own scenarios and adds the scan risks
/// (methodologies §4.2). A USDC account long 1 BTC and short 20 ETH perpetual: each leg's worst
/// is the −1 PSR (long) or +1 PSR (short) cell, 15 % of its notional (the 2×PSR extremes count
/// 35 % of 30 % = 10.5 %), so scan risk = 0.15·(60,000 + 20·3,000) = 18,000. When both
/// underlyings moved in the same scenario, the long and short offset and the old engine reported
/// only the larger leg (0.15·60,000 = 9,000).
#[test]
fn span_scans_each_underlying_and_sums() {
    let model = Model::preset("span16").unwrap();
    assert_eq!(model.spec().scope, Scope::PerUnderlying);
    let a = arrays(&model, &USDC_LINEAR);
    let positions = [
        Position {
            instrument: 0,
            size: 1.0,
        },
        Position {
            instrument: 1,
            size: -20.0,
        },
    ];
    let acct = Account::new(&a, usdc(), 1e6, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&a)];
    let m = account::margin(&a, &model, &acct, &mut scratch).unwrap();
    let scan = 0.15 * (BTC_PERP + 20.0 * ETH_PERP);
    assert!(close(m.component("scan_risk").unwrap(), scan, 1e-12, 1.0));
    // No short options: the minimum is 0 and the requirement is the scan risk.
    assert_eq!(m.component("short_option_minimum"), Some(0.0));
    assert!(close(m.maintenance, scan, 1e-12, 1.0));
    assert!(close(m.initial, 1.10 * scan, 1e-12, 1.0));
    // The same sum as margining each leg alone: per-underlying scope is additive.
    let mut iso = [0.0; 2];
    account::isolated(&a, &model, &acct, &mut scratch, &mut iso).unwrap();
    assert!(close(iso[0] + iso[1], m.initial, 1e-12, 1.0));
    // The what-if path interprets the same spec: adding the ETH leg to a BTC-only account.
    let btc_only = Account::new(&a, usdc(), 1e6, &positions[..1]).unwrap();
    account::margin(&a, &model, &btc_only, &mut scratch).unwrap();
    let w = account::what_if(&a, &model, &btc_only, &scratch, positions[1]).unwrap();
    assert_eq!(w.initial, m.initial);
}

/// Deribit's risk matrix is one unit per account: the same long/short pair nets inside each
/// cell (pnl_offset 0: gains do not offset, but the legs' losses never coincide with a uniform
/// move). Worst cell: BTC −16 % loses 9,600 while ETH gains 9,600 (not counted): 9,600.
#[test]
fn deribit_nets_underlyings_inside_each_cell() {
    let model = Model::preset("deribit-btc").unwrap();
    assert_eq!(model.spec().scope, Scope::Account);
    let a = arrays(&model, &USDC_LINEAR);
    let positions = [
        Position {
            instrument: 0,
            size: 1.0,
        },
        Position {
            instrument: 1,
            size: -20.0,
        },
    ];
    let acct = Account::new(&a, usdc(), 1e6, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&a)];
    let m = account::margin(&a, &model, &acct, &mut scratch).unwrap();
    assert!(close(
        m.component("worst_case").unwrap(),
        0.16 * BTC_PERP,
        1e-12,
        1.0
    ));
    // The core's explanation: each leg's P&L in the worst cell (BTC −16 %), size·F·move.
    let s = a.scenarios().len();
    let (mut pnl, mut counted, mut contrib) = (vec![0.0; s], vec![0.0; s], vec![0.0; 2]);
    account::explain(
        &a,
        &model,
        &acct,
        &scratch,
        &m,
        account::Explanation {
            pnl: &mut pnl,
            counted: &mut counted,
            worst_contributions: &mut contrib,
        },
    )
    .unwrap();
    assert!(close(contrib[0], -0.16 * BTC_PERP, 1e-12, 1.0));
    assert!(close(contrib[1], 20.0 * 0.16 * ETH_PERP, 1e-12, 1.0));
    assert!(close(pnl[m.worst.index], 0.0, 1e-12, 1.0));
    // Counted: the gain of the ETH leg does not offset (pnl_offset 0): −9,600.
    assert!(close(counted[m.worst.index], -0.16 * BTC_PERP, 1e-12, 1.0));
}

/// A parameter that overflows the requirement is an error, never an infinite margin reported
/// as success (reliability issue: SPAN `im_ratio` = 1e308 gave IM = inf with exit 0; that
/// value is now out of range, and a tail factor of 1e308 overflows the worst case instead: a
/// 100-coin perpetual at the −16 % edge loses 960,000 USD, over the 100,000 dampener).
#[test]
fn an_infinite_requirement_is_an_error() {
    let mut model = Model::preset("span16").unwrap();
    assert!(model.set("im_ratio", 1e308).is_ok() && model.validate().is_err());
    let mut model = Model::preset("deribit-btc").unwrap();
    model.set("extended_table_factor", 1e308).unwrap();
    let a = arrays(&model, &USDC_LINEAR);
    let positions = [Position {
        instrument: 0,
        size: 100.0,
    }];
    let acct = Account::new(&a, usdc(), 1e6, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&a)];
    assert!(matches!(
        account::margin(&a, &model, &acct, &mut scratch),
        Err(margin_core::Error::Overflow { .. })
    ));
}

/// Deribit's USDC currency scans each underlying at its own index's range in the same
/// numbered cell (methodologies §1.7: BTC ±16 %, ETH ±18 %). Linear perpetuals lose
/// `size·F·move` exactly, so the worst cell is a closed form.
#[test]
fn deribit_usdc_scans_each_underlying_at_its_own_range() {
    let model = Model::preset("deribit-usdc").unwrap();
    let a = arrays(&model, &USDC_LINEAR);
    let worst = |model: &Model, btc: f64, eth: f64| {
        let a = arrays(model, &USDC_LINEAR);
        let positions = [
            Position {
                instrument: 0,
                size: btc,
            },
            Position {
                instrument: 1,
                size: eth,
            },
        ];
        let acct = Account::new(&a, usdc(), 1e6, &positions).unwrap();
        let mut scratch = vec![0.0; acct.scratch_len(&a)];
        let m = account::margin(&a, model, &acct, &mut scratch).unwrap();
        m.component("worst_case").unwrap()
    };
    assert_eq!(a.scenarios().underlying_grids().len(), 1);
    // Long both: the −4 cell moves BTC −16 % and ETH −18 % together; the extended cells sit
    // at the same edges and lose less than the 25,000 USD dampener once dampened.
    let long = 0.16 * BTC_PERP + 20.0 * 0.18 * ETH_PERP;
    assert!(close(worst(&model, 1.0, 20.0), long, 1e-12, 1.0));
    // Long BTC, short ETH: cell +4 gains 9,600 on BTC and loses 10,800 on ETH; gains offset
    // at the USD currency's 40 %: 10,800 − 0.4·9,600 = 6,960 (cell −4: 9,600 − 0.4·10,800).
    let pair = 20.0 * 0.18 * ETH_PERP - 0.4 * 0.16 * BTC_PERP;
    assert!(close(worst(&model, 1.0, -20.0), pair, 1e-12, 1.0));
    // The ranges are parameters by the venue's own names, per underlying.
    let mut wider = model.clone();
    wider.set("ETH.price_range", 0.20).unwrap();
    assert!(wider.modified);
    assert_eq!(wider.get("ETH.price_range"), Some(0.20));
    let wide = 0.16 * BTC_PERP + 20.0 * 0.20 * ETH_PERP;
    assert!(close(worst(&wider, 1.0, 20.0), wide, 1e-12, 1.0));
    // The old uniform move (every underlying at BTC's 16 %) understated the ETH leg.
    let uniform = 0.16 * (BTC_PERP + 20.0 * ETH_PERP);
    assert!(worst(&model, 1.0, 20.0) > uniform + 1_000.0);
}

/// Scan ranges are validated where the model is, and only Deribit models have them.
#[test]
fn scan_range_parameters_are_checked() {
    let mut m = Model::preset("deribit-usdc").unwrap();
    m.set("ETH.price_range", -0.1).unwrap();
    assert!(m.validate().is_err() && m.scenarios().is_err());
    let mut m = Model::preset("deribit-usdc").unwrap();
    assert_eq!(
        m.set("ETH.bogus", 0.1),
        Err(margin_core::Error::UnknownParameter)
    );
    // A new underlying starts from the model's own ranges.
    m.set("SOL.price_range", 0.3).unwrap();
    assert_eq!(m.get("SOL.volatility_range_up"), Some(0.5));
    assert_eq!(m.underlying_grids().unwrap().len(), 2);
    let mut span = Model::preset("span16").unwrap();
    assert_eq!(
        span.set("ETH.price_range", 0.1),
        Err(margin_core::Error::UnknownParameter)
    );
    // Arrays built without the model's grids are refused, never margined at BTC's range.
    let scenarios = m.scenarios().unwrap();
    assert!(m.scenario_set(&scenarios, &[]).is_err());
}
