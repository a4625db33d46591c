//! Liquidation plans against brute-force enumeration of reductions through the core, the
//! never-flip rule, and the best reachable level of an unreachable target.

use margin_core::io::matrix::RiskMatrix;
use margin_core::io::portfolio::Position as FilePosition;
use margin_core::io::{Portfolio, read_market};
use margin_core::model::Model;
use margin_core::risk::Position;
use margin_core::{Asset, Instrument};
use margin_opt::hedge::OptError;
use margin_opt::hedge::grid::GridAccount;
use margin_opt::hedge::liquidate::{Target, plan};
use std::path::Path;

fn account(equity: f64) -> (Portfolio, RiskMatrix) {
    let p = Portfolio {
        account: "liq".into(),
        currency: Asset::new("BTC").unwrap(),
        equity,
        positions: vec![
            FilePosition {
                instrument: Instrument::parse("BTC-25SEP26-80000-C").unwrap(),
                size: -2.0,
            },
            FilePosition {
                instrument: Instrument::parse("BTC-25SEP26-70000-P").unwrap(),
                size: -3.0,
            },
        ],
    };
    let market = read_market(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"),
    )
    .unwrap();
    let extra: Vec<Instrument> = p.positions.iter().map(|q| q.instrument).collect();
    let m = RiskMatrix::new(market, Model::preset("deribit-btc").unwrap(), &extra).unwrap();
    (p, m)
}

const SPREADS: [f64; 2] = [0.0005, 0.0003];

#[test]
fn the_plan_is_no_dearer_than_any_enumerated_reduction_and_never_flips() {
    let (mut p, m) = account(0.0);
    let im = GridAccount::new(&m, &p)
        .unwrap()
        .margin_with(&[])
        .unwrap()
        .0
        .maintenance;
    p.equity = 0.6 * im;
    let acc = GridAccount::new(&m, &p).unwrap();
    let plan = plan(&acc, &SPREADS, Target::Maintenance).unwrap();
    assert!(plan.after.maintenance <= p.equity);
    for (t, q) in plan.trades.iter().zip(&acc.positions) {
        assert!(t * q.size <= 0.0 && t.abs() <= q.size.abs() + 1e-12);
    }
    // Enumerate reductions on a 0.02 grid of each position through the core.
    let mut best = f64::INFINITY;
    for i in 0..=100 {
        for j in 0..=150 {
            let (a, b) = (i as f64 * 0.02, j as f64 * 0.02);
            let trades = [
                Position {
                    instrument: acc.positions[0].instrument,
                    size: a,
                },
                Position {
                    instrument: acc.positions[1].instrument,
                    size: b,
                },
            ];
            let (mm, _) = acc.margin_with(&trades).unwrap();
            if mm.maintenance <= p.equity {
                best = best.min(SPREADS[0] * a + SPREADS[1] * b);
            }
        }
    }
    assert!(best.is_finite());
    assert!(plan.cost <= best + 1e-9, "plan {} brute {best}", plan.cost);
    assert!(best - plan.cost < 0.02 * 0.0005 * 2.0 + 1e-9);
}

#[test]
fn an_unreachable_target_states_the_best_level() {
    // Negative equity: even closing everything (margin 0) cannot cover it.
    let (p, m) = account(-0.5);
    let acc = GridAccount::new(&m, &p).unwrap();
    match plan(&acc, &SPREADS, Target::Initial).unwrap_err() {
        OptError::Unreachable { best, equity, .. } => {
            assert!(
                best.abs() < 1e-6,
                "closing both shorts leaves 0, got {best}"
            );
            assert_eq!(equity, -0.5);
        }
        e => panic!("{e}"),
    }
}

#[test]
fn a_healthy_account_trades_nothing() {
    let (p, m) = account(100.0);
    let acc = GridAccount::new(&m, &p).unwrap();
    let r = plan(&acc, &SPREADS, Target::Initial).unwrap();
    assert_eq!(r.trades, vec![0.0, 0.0]);
    assert!(r.info.is_none());
}
