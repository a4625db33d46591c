//! Stress tests against independent routes: the closed-form P&L of futures and perpetuals from
//! the raw CSV closes, Black-76 by the reference pricer (`pricing::value`, not the batch
//! kernel), closed-form reverse-stress moves, and a brute-force re-margin of every account on a
//! market shocked here.

use margin_core::io::PriceHistory;
use margin_core::market::PricingInputs;
use margin_core::pricing;
use margin_core::scenario::VolShock;
use margin_core::spec::{Covariance, JointSource, Method};
use margin_core::statistical::Book;
use margin_core::stats::monte_carlo::Dist;
use margin_core::time::Timestamp;
use margin_core::{Asset, Instrument};
use margin_opt::stress::{self, DEFAULT_EVENTS, StressError, reverse};
use proptest::prelude::*;

const HISTORY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/btc-eth-daily/btc_eth_daily_close_aligned.csv"
);

fn btc() -> Asset {
    Asset::new("BTC").unwrap()
}

fn source(horizon: usize, vol: VolShock) -> JointSource {
    JointSource {
        method: Method::Historical,
        horizon_days: horizon,
        overlapping: true,
        lambda: 0.94,
        covariance: Covariance::Ewma,
        dist: Dist::Normal,
        scenarios: 0,
        seed: 0,
        vol,
        time_decay: false,
    }
}

/// (date, BTC close) of the bundled file, read with plain string splitting.
fn raw_closes() -> Vec<(String, f64)> {
    std::fs::read_to_string(HISTORY)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].parse().unwrap())
        })
        .collect()
}

fn inputs(forward: f64, vol: f64, time: f64) -> PricingInputs {
    PricingInputs {
        forward,
        vol,
        time,
        rate: 0.0,
    }
}

fn day(s: &str) -> Timestamp {
    Timestamp::parse_iso8601(s).unwrap()
}

/// Named events: an inverse perpetual's P&L is `q·(1 − P₀/P₁)` BTC and a linear one's
/// `q·F·(P₁/P₀ − 1)` USD, with P₀, P₁ the closes h days apart read from the CSV here.
#[test]
fn event_pnl_of_perpetuals_and_futures_is_the_closed_form() {
    let history = PriceHistory::load(&[HISTORY.to_string()]).unwrap();
    let raw = raw_closes();
    let instruments = [
        Instrument::parse("BTC-PERPETUAL").unwrap(),
        Instrument::parse("BTC-25SEP26").unwrap(),
        Instrument::parse("BTC_USDC-PERPETUAL").unwrap(),
    ];
    let f = 60_000.0;
    for h in [1usize, 2, 5] {
        for date in DEFAULT_EVENTS {
            let end = raw.iter().position(|(d, _)| d == date).unwrap();
            let (p0, p1) = (raw[end - h].1, raw[end].1);
            let s = stress::event(&history, &[btc()], day(date), h).unwrap();
            assert_eq!(s.label, date);
            assert!((s.moves[0] - (p1 / p0 - 1.0)).abs() < 1e-15);
            let q = 3.0;
            let expected = [
                q * (1.0 - p0 / p1),
                q * (1.0 - p0 / p1),
                q * f * (p1 / p0 - 1.0),
            ];
            for (inst, want) in instruments.iter().zip(expected) {
                let inp = [inputs(f, 0.0, 0.2)];
                let book = Book {
                    instruments: std::slice::from_ref(inst),
                    inputs: &inp,
                    sizes: &[q],
                };
                let got = stress::pnl(
                    &book,
                    &[btc()],
                    std::slice::from_ref(&s),
                    &source(h, VolShock::None),
                )
                .unwrap()[0];
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{inst} {date} h={h}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn an_event_outside_the_history_is_an_error() {
    let history = PriceHistory::load(&[HISTORY.to_string()]).unwrap();
    for (date, h) in [
        ("2017-11-09", 1),
        ("2017-11-10", 2),
        ("2030-01-01", 1),
        ("2010-05-05", 1),
    ] {
        match stress::event(&history, &[btc()], day(date), h) {
            Err(StressError::DateOutsideHistory {
                date: d, horizon, ..
            }) => {
                assert_eq!((d.as_str(), horizon), (date, h));
            }
            other => panic!("{date}: {other:?}"),
        }
    }
    assert!(stress::event(&history, &[btc()], day("2017-11-10"), 1).is_ok());
    let xrp = Asset::new("XRP").unwrap();
    assert_eq!(
        stress::event(&history, &[xrp], day("2020-03-12"), 1),
        Err(StressError::CoinNotInHistory(xrp))
    );
}

#[test]
fn shocks_parse_and_bad_ones_are_refused() {
    let eth = Asset::new("ETH").unwrap();
    let s = stress::parse_shock("ETH:-30%, BTC:0.5,vol:0.1", &[btc(), eth]).unwrap();
    assert_eq!(s.moves, vec![0.5, -0.3]);
    assert_eq!(s.vol_shift, 0.1);
    let s = stress::parse_shock("BTC:-0.2", &[btc(), eth]).unwrap();
    assert_eq!((s.moves, s.vol_shift), (vec![-0.2, 0.0], 0.0));
    for bad in [
        "BTC",
        "XRP:0.1",
        "BTC:-1.5",
        "BTC:4.5",
        "BTC:0.1,BTC:0.2",
        "BTC:abc",
        "BTC:nan",
        "vol:0.1,vol:0.2",
        "vol:9",
        "btc-x:0.1",
    ] {
        assert!(
            matches!(
                stress::parse_shock(bad, &[btc(), eth]),
                Err(StressError::BadShock { .. })
            ),
            "{bad}"
        );
    }
}

/// A user shock with a vol shift, on a call and a put: the kernel's P&L against the reference
/// pricer at `F·(1 + x)` and `σ + shift` (with a vol rule: `σ + a + shift + β·ln(1 + x)`).
#[test]
fn a_shock_with_a_vol_shift_matches_the_reference_pricer() {
    let insts = [
        Instrument::parse("BTC-25SEP26-80000-C").unwrap(),
        Instrument::parse("BTC-25SEP26-70000-P").unwrap(),
    ];
    let (f, vol, t) = (77_000.0, 0.45, 0.09);
    let base = inputs(f, vol, t);
    for (rule, x, shift) in [
        (VolShock::None, -0.3, 0.2),
        (VolShock::None, 0.25, -0.1),
        (
            VolShock::Rule {
                shift: 0.02,
                beta: -0.5,
                floor: 0.1,
            },
            -0.2,
            0.05,
        ),
    ] {
        let s = stress::parse_shock(&format!("BTC:{x},vol:{shift}"), &[btc()]).unwrap();
        let shocked_vol = match rule {
            VolShock::Rule {
                shift: a,
                beta,
                floor,
            } => (vol + a + shift + beta * f64::ln(1.0 + x)).max(floor),
            _ => vol + shift,
        };
        for inst in &insts {
            let inp = [base];
            let book = Book {
                instruments: std::slice::from_ref(inst),
                inputs: &inp,
                sizes: &[-2.0],
            };
            let got = stress::pnl(&book, &[btc()], std::slice::from_ref(&s), &source(1, rule))
                .unwrap()[0];
            let want = -2.0
                * (pricing::value(inst, &inputs(f * (1.0 + x), shocked_vol, t), f).unwrap()
                    - pricing::value(inst, &base, f).unwrap());
            assert!(
                (got - want).abs() < 1e-10,
                "{inst} {x} {shift}: {got} vs {want}"
            );
        }
    }
}

fn perp_book(symbol: &str, f: f64) -> (Vec<Instrument>, Vec<PricingInputs>) {
    (
        vec![Instrument::parse(symbol).unwrap()],
        vec![inputs(f, 0.0, 0.0)],
    )
}

/// Reverse stress of perpetuals against the closed-form root of `E + P&L(m) = 0`: inverse
/// `q·m/(1 + m)` gives `m = −E/(q + E)`; linear `q·F·m` gives `m = −E/(q·F)`.
#[test]
fn reverse_moves_of_perpetuals_are_the_closed_form() {
    let src = source(1, VolShock::None);
    // (symbol, size, equity, down, up)
    type Case = (&'static str, f64, f64, Option<f64>, Option<f64>);
    let cases: [Case; 4] = [
        ("BTC-PERPETUAL", 5.0, 2.0, Some(-2.0 / 7.0), None),
        ("BTC-PERPETUAL", -5.0, 2.0, None, Some(2.0 / 3.0)),
        ("BTC_USDC-PERPETUAL", 1.0, 30_000.0, Some(-0.5), None),
        ("BTC_USDC-PERPETUAL", -1.0, 30_000.0, None, Some(0.5)),
    ];
    for (sym, q, e, down, up) in cases {
        let (instruments, inp) = perp_book(sym, 60_000.0);
        let book = Book {
            instruments: &instruments,
            inputs: &inp,
            sizes: &[q],
        };
        let r = reverse::reverse(&book, &[btc()], e, &src, None).unwrap();
        for (got, want) in [(r.down, down), (r.up, up)] {
            match (got, want) {
                (Some(c), Some(w)) => {
                    assert!((c.scale - w).abs() <= 1e-9, "{sym} {q}: {} vs {w}", c.scale);
                    assert!((c.scale - c.inside).abs() <= reverse::TOLERANCE);
                }
                (None, None) => {}
                other => panic!("{sym} {q}: {other:?}"),
            }
        }
        assert!(r.historical.is_none());
    }
    // Equity already exhausted: the move is 0 both ways.
    let (instruments, inp) = perp_book("BTC-PERPETUAL", 60_000.0);
    let book = Book {
        instruments: &instruments,
        inputs: &inp,
        sizes: &[1.0],
    };
    let r = reverse::reverse(&book, &[btc()], -0.1, &src, None).unwrap();
    assert_eq!((r.down.unwrap().scale, r.up.unwrap().scale), (0.0, 0.0));
}

/// P&L of `book` at uniform move `m` by the reference pricer.
fn reference_pnl(insts: &[Instrument], inp: &[PricingInputs], sizes: &[f64], m: f64) -> f64 {
    insts
        .iter()
        .zip(inp)
        .zip(sizes)
        .map(|((i, p), q)| {
            let moved = PricingInputs {
                forward: p.forward * (1.0 + m),
                ..*p
            };
            q * (pricing::value(i, &moved, p.forward).unwrap()
                - pricing::value(i, p, p.forward).unwrap())
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// The found move exhausts equity, a slightly smaller one does not, and no move closer to
    /// 0 on a 1/20 subdivision does (the reference pricer, not the kernel).
    #[test]
    fn reverse_move_exhausts_equity_and_a_smaller_one_does_not(
        sizes in proptest::collection::vec(-5.0f64..5.0, 4),
        equity in 0.05f64..3.0,
    ) {
        let f = 77_000.0;
        let insts: Vec<Instrument> = ["BTC-25SEP26-80000-C", "BTC-25SEP26-70000-P", "BTC-25DEC26-90000-C", "BTC-PERPETUAL"]
            .iter().map(|s| Instrument::parse(s).unwrap()).collect();
        let inp = vec![inputs(f, 0.5, 0.09), inputs(f, 0.55, 0.09), inputs(f, 0.5, 0.34), inputs(f, 0.0, 0.0)];
        let book = Book { instruments: &insts, inputs: &inp, sizes: &sizes };
        let r = reverse::reverse(&book, &[btc()], equity, &source(1, VolShock::None), None).unwrap();
        for (c, sign) in [(r.down, -1.0), (r.up, 1.0)] {
            let Some(c) = c else { continue };
            prop_assert!(c.scale * sign > 0.0);
            prop_assert!((c.scale - c.inside).abs() <= reverse::TOLERANCE);
            let at = equity + reference_pnl(&insts, &inp, &sizes, c.scale);
            prop_assert!(at <= 1e-9, "at the move: {}", at);
            let before = equity + reference_pnl(&insts, &inp, &sizes, c.scale - sign * 1e-6);
            prop_assert!(before > 0.0, "slightly smaller: {}", before);
            for j in 0..20 {
                let t = c.scale * j as f64 / 20.0;
                prop_assert!(equity + reference_pnl(&insts, &inp, &sizes, t) > 0.0);
            }
        }
    }
}

/// Along the worst historical direction of a BTC + ETH book, the crossing is on the ray of
/// the worst window and its P&L exhausts equity.
#[test]
fn reverse_along_the_worst_historical_direction() {
    let history = PriceHistory::load(&[HISTORY.to_string()]).unwrap();
    let eth = Asset::new("ETH").unwrap();
    let coins = [btc(), eth];
    let insts = vec![
        Instrument::parse("BTC_USDC-PERPETUAL").unwrap(),
        Instrument::parse("ETH_USDC-PERPETUAL").unwrap(),
    ];
    let inp = vec![inputs(60_000.0, 0.0, 0.0), inputs(3_000.0, 0.0, 0.0)];
    let sizes = [1.0, 10.0];
    let book = Book {
        instruments: &insts,
        inputs: &inp,
        sizes: &sizes,
    };
    let closes = margin_opt::var::Closes {
        coins: history.coins(),
        closes: history.closes(),
    };
    assert_eq!(history.coins(), &coins);
    let equity = 20_000.0;
    let r = reverse::reverse(
        &book,
        &coins,
        equity,
        &source(2, VolShock::None),
        Some(&closes),
    )
    .unwrap();
    let h = r.historical.unwrap();
    // The worst 2-day window by brute force over the closes: loss = −Σ q·F·x.
    let raw = history.closes();
    let (mut worst, mut at) = (f64::MIN, 0);
    for i in 0..history.len() - 2 {
        let x = [
            raw[(i + 2) * 2] / raw[i * 2] - 1.0,
            raw[(i + 2) * 2 + 1] / raw[i * 2 + 1] - 1.0,
        ];
        let loss = -(60_000.0 * x[0] + 30_000.0 * x[1]);
        if loss > worst {
            (worst, at) = (loss, i);
        }
    }
    assert_eq!(h.window, (at, at + 2));
    assert!((h.loss - worst).abs() < 1e-6);
    let c = h.crossing.unwrap();
    // Linear book: the root is E / loss(direction).
    assert!(
        (c.scale - equity / worst).abs() < 1e-9,
        "{} vs {}",
        c.scale,
        equity / worst
    );
}
