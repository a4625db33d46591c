//! The worst-case hedge LP against independent routes: brute-force grid search of the core's
//! margin over one and two hedges, the unhedged margin as an upper bound, a perfect hedge
//! driving the margin to its floor, and clear errors on bad bounds.

use margin_core::Instrument;
use margin_core::io::matrix::RiskMatrix;
use margin_core::io::{Portfolio, PortfolioDefaults, read_market, read_portfolio};
use margin_core::model::Model;
use margin_core::risk::Position;
use margin_opt::hedge::grid::GridAccount;
use margin_opt::hedge::worst::minimise;
use margin_opt::hedge::{Candidate, OptError};
use std::path::Path;

fn file(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn setup(preset: &str, portfolio: &Portfolio, hedges: &[&str]) -> RiskMatrix {
    let market = read_market(&file(
        "data/deribit/deribit_options_snapshot_20260822T153351Z.csv",
    ))
    .unwrap();
    let mut extra: Vec<Instrument> = portfolio.positions.iter().map(|p| p.instrument).collect();
    extra.extend(hedges.iter().map(|h| Instrument::parse(h).unwrap()));
    RiskMatrix::new(market, Model::preset(preset).unwrap(), &extra).unwrap()
}

fn demo() -> Portfolio {
    read_portfolio(
        &file("examples/portfolio-btc.json"),
        &PortfolioDefaults::default(),
    )
    .unwrap()
}

fn cand(name: &str, bound: f64, half_spread: f64) -> Candidate {
    Candidate {
        instrument: Instrument::parse(name).unwrap(),
        lo: -bound,
        hi: bound,
        half_spread,
    }
}

/// The core's IM plus cost at trades `x` on candidate rows.
fn objective(acc: &GridAccount<'_>, cands: &[Candidate], x: &[f64]) -> f64 {
    let trades: Vec<Position> = cands
        .iter()
        .zip(x)
        .map(|(c, &s)| Position {
            instrument: acc.row(&c.instrument).unwrap(),
            size: s,
        })
        .collect();
    let (m, _) = acc.margin_with(&trades).unwrap();
    m.initial
        + cands
            .iter()
            .zip(x)
            .map(|(c, s)| c.half_spread * s.abs())
            .sum::<f64>()
}

#[test]
fn one_hedge_matches_brute_force_and_never_exceeds_the_unhedged_margin() {
    let p = demo();
    let hedges = ["BTC-25SEP26"];
    let m = setup("deribit-btc", &p, &hedges);
    let acc = GridAccount::new(&m, &p).unwrap();
    let cands = [cand(hedges[0], 3.0, 0.0005)];
    let r = minimise(&acc, &cands, None).unwrap();
    let lp = r.after.initial + r.cost;
    // Brute force: 6001 sizes on [-3, 3] (step 0.001) through the core.
    let brute = (0..=6000)
        .map(|i| objective(&acc, &cands, &[-3.0 + i as f64 * 0.001]))
        .fold(f64::INFINITY, f64::min);
    assert!(lp <= brute + 1e-9, "lp {lp} brute {brute}");
    // The objective is Lipschitz: within a half step times the largest slope of the grid.
    assert!(brute - lp < 2e-3, "lp {lp} brute {brute}");
    assert!(r.after.initial + r.cost <= r.before.initial + 1e-12);
    assert!(
        r.after.initial < r.before.initial,
        "the future hedges delta"
    );
}

#[test]
fn two_hedges_match_brute_force() {
    let p = demo();
    let hedges = ["BTC-PERPETUAL", "BTC-25SEP26-70000-P"];
    let m = setup("deribit-btc", &p, &hedges);
    let acc = GridAccount::new(&m, &p).unwrap();
    let cands = [cand(hedges[0], 2.0, 0.0), cand(hedges[1], 4.0, 0.0002)];
    let r = minimise(&acc, &cands, None).unwrap();
    let lp = r.after.initial + r.cost;
    let mut brute = f64::INFINITY;
    for i in 0..=80 {
        for j in 0..=80 {
            let x = [-2.0 + i as f64 * 0.05, -4.0 + j as f64 * 0.1];
            brute = brute.min(objective(&acc, &cands, &x));
        }
    }
    assert!(lp <= brute + 1e-9, "lp {lp} brute {brute}");
    assert!(lp <= r.before.initial);
}

#[test]
fn a_perfect_hedge_drives_margin_to_zero() {
    let p = Portfolio {
        account: "fut".into(),
        currency: margin_core::Asset::new("BTC").unwrap(),
        equity: 1.0,
        positions: vec![margin_core::io::portfolio::Position {
            instrument: Instrument::parse("BTC-25SEP26").unwrap(),
            size: 20_000.0,
        }],
    };
    let m = setup("deribit-btc", &p, &[]);
    let acc = GridAccount::new(&m, &p).unwrap();
    let r = minimise(&acc, &[cand("BTC-25SEP26", 50_000.0, 0.0)], None).unwrap();
    assert!(r.before.initial > 0.0);
    assert!((r.trades[0] + 20_000.0).abs() < 1e-3, "{:?}", r.trades);
    assert!(
        r.after.initial.abs() < 1e-7 * r.before.initial,
        "{}",
        r.after.initial
    );
}

#[test]
fn per_underlying_scope_and_roll_shock_match_brute_force() {
    // span16 sums per-underlying requirements; deribit's roll shock is |q|-linear.
    let p = demo();
    let hedges = ["BTC-PERPETUAL"];
    for preset in ["span16", "deribit-btc"] {
        let m = setup(preset, &p, &hedges);
        let acc = GridAccount::new(&m, &p).unwrap();
        let cands = [cand(hedges[0], 1.0, 0.0)];
        let r = minimise(&acc, &cands, None).unwrap();
        let brute = (0..=2000)
            .map(|i| objective(&acc, &cands, &[-1.0 + i as f64 * 0.001]))
            .fold(f64::INFINITY, f64::min);
        assert!(r.after.initial <= brute + 1e-9, "{preset}");
        assert!(brute - r.after.initial < 1e-3, "{preset}");
    }
}

#[test]
fn bad_bounds_and_budget_are_clear_errors() {
    let p = demo();
    let m = setup("deribit-btc", &p, &["BTC-PERPETUAL"]);
    let acc = GridAccount::new(&m, &p).unwrap();
    let mut c = cand("BTC-PERPETUAL", 1.0, 0.0);
    c.lo = 0.5;
    let e = minimise(&acc, &[c], None).unwrap_err();
    assert!(matches!(e, OptError::Input { .. }), "{e}");
    assert!(e.to_string().contains("LO <= 0 <= HI"), "{e}");
    let e = minimise(&acc, &[cand("BTC-PERPETUAL", 1.0, 0.0)], Some(-1.0)).unwrap_err();
    assert!(e.to_string().contains("budget"), "{e}");
    // A zero budget with costly trades keeps the account as it is.
    let r = minimise(&acc, &[cand("BTC-PERPETUAL", 1.0, 0.01)], Some(0.0)).unwrap();
    assert!(r.trades[0].abs() < 1e-6);
}

#[test]
fn lot_rounding_equals_exact_enumeration_for_one_hedge_and_never_exceeds_unhedged() {
    use margin_opt::hedge::lots::round;
    let p = demo();
    let hedges = ["BTC-25SEP26", "BTC-25SEP26-70000-P"];
    let m = setup("deribit-btc", &p, &hedges);
    let acc = GridAccount::new(&m, &p).unwrap();
    // One hedge, lot 0.1 on [-3, 3]: every one of the 61 lot sizes through the core.
    let one = [cand(hedges[0], 3.0, 0.0005)];
    let r = minimise(&acc, &one, None).unwrap();
    let (x, v) = round(&r.trades, &one, 0.1, None, |t| Ok(objective(&acc, &one, t))).unwrap();
    let exact = (0..=60)
        .map(|i| objective(&acc, &one, &[-3.0 + i as f64 * 0.1]))
        .fold(f64::INFINITY, f64::min);
    assert!((v - exact).abs() < 1e-12, "rounded {v} exact {exact}");
    assert!(((x[0] / 0.1).round() - x[0] / 0.1).abs() < 1e-9);
    // Two hedges, lot 0.5: never above unhedged, never below the exact integer optimum.
    let two = [cand(hedges[0], 3.0, 0.0005), cand(hedges[1], 3.0, 0.0003)];
    let r = minimise(&acc, &two, None).unwrap();
    let (_, v) = round(&r.trades, &two, 0.5, None, |t| Ok(objective(&acc, &two, t))).unwrap();
    let mut exact = f64::INFINITY;
    for i in 0..=12 {
        for j in 0..=12 {
            let t = [-3.0 + i as f64 * 0.5, -3.0 + j as f64 * 0.5];
            exact = exact.min(objective(&acc, &two, &t));
        }
    }
    assert!(v <= r.before.initial);
    assert!(v >= exact - 1e-12, "rounded {v} exact {exact}");
}
