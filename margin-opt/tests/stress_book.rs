//! Book-level stress against a brute force: every account re-margined on a market shocked
//! here (its own scaling code, not `shocked_market`), its P&L by the reference pricer; Cover-1
//! and Cover-2 by sorting; the cascade's impact by the closed-form dollar delta of inverse
//! perpetuals; the same bits on one and two threads.

use margin_core::Asset;
use margin_core::io::engine::margin_portfolio;
use margin_core::io::matrix::RiskMatrix;
use margin_core::io::{MarketData, parse_portfolio_json, read_market};
use margin_core::model::Model;
use margin_core::pricing;
use margin_core::scenario::VolShock;
use margin_core::spec::{Covariance, JointSource, Method};
use margin_core::stats::monte_carlo::Dist;
use margin_opt::stress::StressScenario;
use margin_opt::stress::book::{BookAccount, BookResult, BookStress, read_accounts};
use std::path::Path;

const MARKET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/market.json");
const BTC_INSTRUMENTS: [&str; 6] = [
    "BTC-PERPETUAL",
    "BTC-25SEP26",
    "BTC-25SEP26-70000-P",
    "BTC-25SEP26-80000-C",
    "BTC-25SEP26-90000-C",
    "BTC-25DEC26-80000-C",
];
const ETH_INSTRUMENTS: [&str; 3] = ["ETH-PERPETUAL", "ETH-25SEP26-3000-P", "ETH-25SEP26-3500-C"];

fn source() -> JointSource {
    JointSource {
        method: Method::Historical,
        horizon_days: 1,
        overlapping: true,
        lambda: 0.94,
        covariance: Covariance::Ewma,
        dist: Dist::Normal,
        scenarios: 0,
        seed: 0,
        vol: VolShock::None,
        time_decay: false,
    }
}

fn matrices() -> Vec<RiskMatrix> {
    let market = read_market(Path::new(MARKET)).unwrap();
    ["deribit-btc", "deribit-eth"]
        .iter()
        .map(|p| RiskMatrix::new(market.clone(), Model::preset(p).unwrap(), &[]).unwrap())
        .collect()
}

fn pick(c: Asset) -> usize {
    usize::from(c.as_str() == "ETH")
}

/// `n` deterministic accounts (an LCG), BTC and ETH, 1 to 4 positions, small equity.
fn book_text(n: usize) -> String {
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut out = String::new();
    for a in 0..n {
        let eth = next() < 0.3;
        let pool: &[&str] = if eth {
            &ETH_INSTRUMENTS
        } else {
            &BTC_INSTRUMENTS
        };
        let k = 1 + (next() * pool.len().min(4) as f64) as usize;
        let start = (next() * pool.len() as f64) as usize;
        let positions: Vec<String> = (0..k)
            .map(|j| {
                let size = ((next() * 20.0 - 10.0) * 10.0).round() / 10.0;
                let size = if size == 0.0 { 1.0 } else { size };
                format!(
                    r#"{{"instrument": "{}", "size": {size}}}"#,
                    pool[(start + j) % pool.len()]
                )
            })
            .collect();
        let equity = (next() * 3.0 * 100.0).round() / 100.0 + if eth { 2.0 } else { 0.1 };
        out += &format!(
            r#"{{"account": "a{a}", "currency": "{}", "equity": {equity}, "positions": [{}]}}"#,
            if eth { "ETH" } else { "BTC" },
            positions.join(", ")
        );
        out += "\n\n";
    }
    out
}

fn scenario(btc: f64, eth: f64) -> StressScenario {
    StressScenario {
        label: "test".into(),
        date: None,
        moves: vec![btc, eth],
        vol_shift: 0.0,
    }
}

/// The market with each coin's prices × (1 + x), written out field by field here.
fn shock_by_hand(m: &MarketData, x: &[f64]) -> MarketData {
    let mut out = m.clone();
    for (i, u) in out.underlyings.iter_mut().enumerate() {
        u.index_price = m.underlyings[i].index_price * (1.0 + x[i]);
        u.perpetual_price = m.underlyings[i].perpetual_price * (1.0 + x[i]);
        for (f, f0) in u.forwards.iter_mut().zip(&m.underlyings[i].forwards) {
            f.price = f0.price * (1.0 + x[i]);
        }
    }
    out
}

/// Zero impact: exactly one round, and its close-outs and uncovered losses are those of a
/// brute-force re-margin of each account on the hand-shocked market, P&L by the reference
/// pricer.
#[test]
fn zero_impact_is_one_round_and_matches_a_brute_force_re_margin() {
    let matrices = matrices();
    let text = book_text(300);
    let accounts = read_accounts(text.as_bytes(), &matrices, &pick).unwrap();
    assert_eq!(accounts.len(), 300);
    let impact = [0.0, 0.0];
    let stress = BookStress {
        matrices: &matrices,
        accounts: &accounts,
        source: source(),
        impact: &impact,
    };
    let mut any = 0;
    for (bx, ex) in [(-0.3, -0.35), (0.4, 0.2), (-0.1, 0.15), (0.0, 0.0)] {
        let r = stress.run(&scenario(bx, ex)).unwrap();
        assert_eq!(r.rounds.len(), 1);
        assert_eq!(r.final_moves, vec![bx, ex]);
        // Brute force.
        let shocked: Vec<RiskMatrix> = matrices
            .iter()
            .map(|m| {
                RiskMatrix::new(shock_by_hand(m.market(), &[bx, ex]), m.model().clone(), &[])
                    .unwrap()
            })
            .collect();
        let (mut liquidated, mut total) = (Vec::new(), 0.0);
        for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let p = parse_portfolio_json(line, Path::new("")).unwrap();
            let (base, after) = (&matrices[pick(p.currency)], &shocked[pick(p.currency)]);
            let pnl: f64 = p
                .positions
                .iter()
                .map(|q| {
                    let (r0, r1) = (
                        base.find(&q.instrument).unwrap(),
                        after.find(&q.instrument).unwrap(),
                    );
                    let i0 = base.with_arrays(|a| *a.inputs(r0));
                    let i1v = after.with_arrays(|a| *a.inputs(r1));
                    q.size
                        * (pricing::value(&q.instrument, &i1v, i0.forward).unwrap()
                            - pricing::value(&q.instrument, &i0, i0.forward).unwrap())
                })
                .sum();
            let equity = p.equity + pnl;
            let p2 = margin_core::io::Portfolio {
                equity,
                ..p.clone()
            };
            let mm = after.with_arrays(|a| {
                margin_portfolio(after.universe(), a, &p2, &mut Vec::new(), &mut Vec::new())
                    .unwrap()
                    .1
                    .maintenance
            });
            if equity < mm {
                liquidated.push(i);
                if equity < 0.0 {
                    let coin = after
                        .market()
                        .underlyings
                        .iter()
                        .find(|u| u.asset == p.currency)
                        .unwrap();
                    total += -equity * coin.index_price;
                }
            }
        }
        assert_eq!(r.rounds[0].liquidated, liquidated, "moves {bx} {ex}");
        assert!(
            (r.total - total).abs() <= 1e-9 * total.max(1.0),
            "{} vs {total}",
            r.total
        );
        any += liquidated.len();
    }
    assert!(any > 0, "the scenarios should close some account out");
}

fn check_covers(r: &BookResult) {
    let mut usd: Vec<f64> = r.uncovered.iter().map(|u| u.usd).collect();
    usd.sort_by(|a, b| b.total_cmp(a));
    let c1 = r.cover1.map_or(0.0, |c| c.usd);
    assert_eq!(c1, usd.first().copied().unwrap_or(0.0));
    let c2: f64 = usd.iter().take(2).sum();
    assert!((r.cover2.1 - c2).abs() <= 1e-12 * c2.max(1.0));
    assert!(r.cover2.1 >= c1);
    let total: f64 = usd.iter().sum();
    assert!((r.total - total).abs() <= 1e-9 * total.max(1.0));
    assert!(r.uncovered.iter().all(|u| u.amount > 0.0 && u.usd > 0.0));
}

/// Cover-2 ≥ Cover-1 and both are the largest uncovered losses, over many scenarios with and
/// without impact; 1 and 2 threads give the same bits.
#[test]
fn covers_are_the_largest_losses_and_threads_do_not_change_bits() {
    let matrices = matrices();
    let accounts = read_accounts(book_text(400).as_bytes(), &matrices, &pick).unwrap();
    let mut multi = 0;
    for impact in [[0.0, 0.0], [2e-7, 5e-7]] {
        let stress = BookStress {
            matrices: &matrices,
            accounts: &accounts,
            source: source(),
            impact: &impact,
        };
        for s in [(-0.5, -0.5), (-0.2, 0.3), (0.6, -0.4), (0.9, 0.9)] {
            let run = |threads| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| stress.run(&scenario(s.0, s.1)).unwrap())
            };
            let (one, two) = (run(1), run(2));
            assert_eq!(one, two);
            check_covers(&one);
            multi += usize::from(one.rounds.len() > 1);
        }
    }
    assert!(multi > 0, "some scenario should cascade");
}

/// Inverse perpetuals only: the first round's dollar delta is `Σ q·S₀/(1 + x)` over the
/// accounts it closes out (`∂(1 − 1/(1 + x))/∂x · S₀(1 + x)`), and the next round's move is
/// `(1 + x)(1 − K·D) − 1`.
#[test]
fn cascade_impact_of_perpetuals_is_the_closed_form() {
    let matrices = matrices();
    let mut text = String::new();
    for a in 0..50 {
        let q = 1.0 + a as f64 * 0.2;
        let e = 0.05 + 0.01 * a as f64;
        text += &format!(
            r#"{{"account": "p{a}", "currency": "BTC", "equity": {e}, "positions": [{{"instrument": "BTC-PERPETUAL", "size": {q}}}]}}"#
        );
        text.push('\n');
    }
    let accounts: Vec<BookAccount> = read_accounts(text.as_bytes(), &matrices, &pick).unwrap();
    let k = 1e-9;
    let impact = [k, 0.0];
    let stress = BookStress {
        matrices: &matrices,
        accounts: &accounts,
        source: source(),
        impact: &impact,
    };
    let x = -0.12;
    let r = stress.run(&scenario(x, 0.0)).unwrap();
    let first = &r.rounds[0];
    assert!(!first.liquidated.is_empty() && r.rounds.len() >= 2);
    let s0 = matrices[0].market().underlyings[0].index_price;
    let d: f64 = first
        .liquidated
        .iter()
        .map(|&i| accounts[i].positions[0].size * s0 / (1.0 + x))
        .sum();
    assert!(
        (first.dollar_delta[0] - d).abs() <= 1e-5 * d,
        "{} vs {d}",
        first.dollar_delta[0]
    );
    let next = (1.0 + x) * (1.0 - k * first.dollar_delta[0]) - 1.0;
    assert!(!first.capped && next > -0.99, "{next}");
    assert!((r.rounds[1].moves[0] - next).abs() < 1e-15);
    assert_eq!(r.rounds[1].moves[1], 0.0);
    // Every round's close-outs are new, and the last round closes none or moves no price.
    let mut seen = vec![false; accounts.len()];
    for round in &r.rounds {
        for &i in &round.liquidated {
            assert!(!seen[i]);
            seen[i] = true;
        }
    }
    assert!(
        r.rounds.last().unwrap().liquidated.is_empty()
            || r.rounds.last().unwrap().impact.iter().all(|m| *m == 0.0)
    );
}

#[test]
fn a_bad_account_line_is_an_error_naming_it() {
    let matrices = matrices();
    let text = "{\"account\": \"x\", \"currency\": \"BTC\", \"equity\": 1, \"positions\": [{\"instrument\": \"BTC-PERPETUAL\", \"size\": 1}]}\n\n{\"account\": \"y\", \"currency\": \"BTC\", \"equity\": 1, \"positions\": [{\"instrument\": \"BTC-PERPETUAL\", \"size\": \"lots\"}]}\n";
    let e = read_accounts(text.as_bytes(), &matrices, &pick).unwrap_err();
    assert!(e.to_string().contains("line 3"), "{e}");
    let impact = [-1.0, 0.0];
    let accounts = read_accounts(
        &text.as_bytes()[..text.find("\n\n").unwrap()],
        &matrices,
        &pick,
    )
    .unwrap();
    let stress = BookStress {
        matrices: &matrices,
        accounts: &accounts,
        source: source(),
        impact: &impact,
    };
    assert!(stress.run(&scenario(-0.1, 0.0)).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Over random joint moves and impacts: Cover-2 ≥ Cover-1, both the largest uncovered
    /// losses; zero impact is exactly one round; every account is closed out at most once.
    #[test]
    fn cover2_is_at_least_cover1_and_zero_impact_is_one_round(
        bx in -0.9f64..2.0,
        ex in -0.9f64..2.0,
        k in 0.0f64..1e-6,
    ) {
        let matrices = matrices();
        let accounts = read_accounts(book_text(60).as_bytes(), &matrices, &pick).unwrap();
        for impact in [[0.0, 0.0], [k, k]] {
            let stress = BookStress { matrices: &matrices, accounts: &accounts, source: source(), impact: &impact };
            let r = stress.run(&scenario(bx, ex)).unwrap();
            check_covers(&r);
            if impact == [0.0, 0.0] {
                proptest::prop_assert_eq!(r.rounds.len(), 1);
            }
            let closed: usize = r.rounds.iter().map(|k| k.liquidated.len()).sum();
            proptest::prop_assert_eq!(closed, r.liquidated);
            proptest::prop_assert!(r.liquidated <= accounts.len());
        }
    }
}
