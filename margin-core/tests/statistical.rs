//! Statistical revaluation over joint scenarios, against closed forms on the synthetic market
//! (tests/synthetic): linear perpetuals lose exactly `−size·F·x` of their own coin's move.

mod common;
mod synthetic;

use common::{CHAIN_20260822, chain_market, load_chain};
use margin_core::market::PricingInputs;
use margin_core::risk::fill_row;
use margin_core::scenario::{
    JointMoves, Scenario, ScenarioSet, TenorScaling, VolDirection, VolShock,
};
use margin_core::statistical::{self, BlockScratch, Book};
use margin_core::{Asset, Instrument, Kind};
use synthetic::{BTC_INVERSE, BTC_PERP, ETH_PERP, USDC_LINEAR, close, instruments, market};

fn coins() -> [Asset; 2] {
    [Asset::new("BTC").unwrap(), Asset::new("ETH").unwrap()]
}

/// A deterministic table of moves in (−50 %, +50 %), BTC and ETH different in each row.
fn table(n: usize) -> Vec<f64> {
    (0..2 * n)
        .map(|k| ((k * 7919 % 1000) as f64 / 1000.0 - 0.5) * 0.99)
        .collect()
}

fn inputs(symbols: &[&str]) -> Vec<PricingInputs> {
    let m = market();
    instruments(symbols)
        .iter()
        .map(|i| m.inputs(i).unwrap())
        .collect()
}

fn run(book: &Book<'_>, joint: &JointMoves<'_>, template: &Scenario, block: usize) -> Vec<f64> {
    let mut sc = vec![*template; block];
    let mut row = vec![0.0; block];
    let mut mv = vec![0.0; block * 2];
    let mut scratch = BlockScratch {
        scenarios: &mut sc,
        row: &mut row,
        moves: &mut mv,
    };
    let mut out = vec![0.0; joint.len()];
    statistical::losses(book, joint, template, 0, &mut scratch, &mut out).unwrap();
    out
}

#[test]
fn linear_book_loses_each_coins_own_move() {
    let coins = coins();
    let moves = table(500);
    let joint = JointMoves::new(&coins, &moves).unwrap();
    let sizes = [2.0, -30.0];
    let inputs = inputs(&USDC_LINEAR);
    let book = Book {
        instruments: instruments(&USDC_LINEAR),
        inputs: &inputs,
        sizes: &sizes,
    };
    let template = Scenario::standard(0.0, VolShock::None);
    let losses = run(&book, &joint, &template, 64);
    for (s, &l) in losses.iter().enumerate() {
        let expected = -(2.0 * BTC_PERP * moves[2 * s] - 30.0 * ETH_PERP * moves[2 * s + 1]);
        assert!(
            close(l, expected, 1e-12, 1.0),
            "scenario {s}: {l} vs {expected}"
        );
    }
}

/// Blocks of 1, 7 and 1,000 scenarios give the same bits: each scenario's sum runs over the
/// positions in order whatever the block, and each coin's log-growth is the same number
/// whether shared or computed per option.
#[test]
fn block_size_does_not_change_bits() {
    let coins = coins();
    let moves = table(300);
    let joint = JointMoves::new(&coins, &moves).unwrap();
    let symbols = &BTC_INVERSE[..];
    let sizes: Vec<f64> = (0..symbols.len()).map(|i| i as f64 - 4.5).collect();
    let inputs = inputs(symbols);
    let book = Book {
        instruments: instruments(symbols),
        inputs: &inputs,
        sizes: &sizes,
    };
    let rule = Scenario {
        time_step: 2.0 / 365.0,
        ..Scenario::standard(
            0.0,
            VolShock::Rule {
                shift: 0.02,
                beta: -0.5,
                floor: 0.1,
            },
        )
    };
    let a = run(&book, &joint, &rule, 1);
    let b = run(&book, &joint, &rule, 7);
    let c = run(&book, &joint, &rule, 1000);
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert!(a.iter().zip(&c).all(|(x, y)| x.to_bits() == y.to_bits()));
    // Without room in `moves` for the shared log-growth, each option computes its own: the
    // same bits.
    let mut sc = vec![rule; 64];
    let mut row = vec![0.0; 64];
    let mut scratch = BlockScratch {
        scenarios: &mut sc,
        row: &mut row,
        moves: &mut [],
    };
    let mut d = vec![0.0; joint.len()];
    statistical::losses(&book, &joint, &rule, 0, &mut scratch, &mut d).unwrap();
    assert!(a.iter().zip(&d).all(|(x, y)| x.to_bits() == y.to_bits()));
}

/// Contributions over any scenario subset with any weights add up to the weighted losses.
#[test]
fn contributions_add_up_to_the_weighted_loss() {
    let coins = coins();
    let moves = table(200);
    let joint = JointMoves::new(&coins, &moves).unwrap();
    let symbols = &BTC_INVERSE[..];
    let sizes: Vec<f64> = (0..symbols.len()).map(|i| 1.5 - i as f64 * 0.3).collect();
    let inputs = inputs(symbols);
    let book = Book {
        instruments: instruments(symbols),
        inputs: &inputs,
        sizes: &sizes,
    };
    let template = Scenario::standard(0.0, VolShock::None);
    let losses = run(&book, &joint, &template, 50);
    let tail = [17usize, 3, 199, 42, 100];
    let weights = [0.25, 0.25, 0.2, 0.2, 0.1];
    let mut sc = vec![template; 2];
    let mut row = vec![0.0; 2];
    let mut mv = vec![0.0; 4];
    let mut scratch = BlockScratch {
        scenarios: &mut sc,
        row: &mut row,
        moves: &mut mv,
    };
    let mut c = vec![0.0; symbols.len()];
    statistical::contributions(
        &book,
        &joint,
        &template,
        &tail,
        &weights,
        &mut scratch,
        &mut c,
    )
    .unwrap();
    let direct: f64 = tail.iter().zip(&weights).map(|(&s, w)| w * losses[s]).sum();
    assert!(close(c.iter().sum(), direct, 1e-12, 1e-9));
}

/// A joint table that does not name an instrument's underlying is an error for that position.
#[test]
fn an_underlying_missing_from_the_table_is_named() {
    let btc = [Asset::new("BTC").unwrap()];
    let moves = [0.1, -0.1];
    let joint = JointMoves::new(&btc, &moves).unwrap();
    let inputs = inputs(&USDC_LINEAR);
    let book = Book {
        instruments: instruments(&USDC_LINEAR),
        inputs: &inputs,
        sizes: &[1.0, 1.0],
    };
    let template = Scenario::standard(0.0, VolShock::None);
    let mut sc = vec![template; 4];
    let mut row = vec![0.0; 4];
    let mut scratch = BlockScratch {
        scenarios: &mut sc,
        row: &mut row,
        moves: &mut [],
    };
    let mut out = [0.0; 2];
    let e = statistical::losses(&book, &joint, &template, 0, &mut scratch, &mut out).unwrap_err();
    assert_eq!(e.index, 1);
    assert_eq!(e.error, margin_core::Error::UnknownUnderlying);
    assert!(JointMoves::new(&btc, &[-1.0]).is_err());
    assert!(JointMoves::new(&btc, &[f64::NAN]).is_err());
}

/// Options go through the batch kernel; the losses and contributions must agree with the
/// route through `risk::fill_row` (the grid revaluation, `libm` throughout) on a real book:
/// 240 inverse options of the bundled Deribit chain (BTC and ETH, all expiries, a few inside the
/// horizon) and two perpetuals, 1,500 joint scenarios of up to ±50 %, under every vol shock,
/// without and with time steps (2 and 30 days).
///
/// Not bit for bit: the kernel takes `ln(F'/K)` as `ln(F/K) + ln(1 + x)` (the log-growth is
/// shared by every option of a coin), which rounds differently from `fill_row`'s
/// `ln(F·(1 + x)/K)`. Each value is within `BOUND` of max(|value|, 1e-8·F) in USD
/// (`tests/kernel.rs`, a million random options), so each loss is within `BOUND` of
/// `Σ_i |size_i|·(|row_i| + |value_i| + floor_i)`, a bound on the sizes times the values.
#[test]
fn kernel_route_is_within_the_bound_of_fill_row_on_the_deribit_chain() {
    const BOUND: f64 = 1e-11;
    let data = chain_market(CHAIN_20260822);
    let views = data.views();
    let market = data.snapshot(&views).unwrap();
    let rows = load_chain(CHAIN_20260822);
    let step = rows.len() / 240;
    let mut instruments: Vec<Instrument> = rows
        .iter()
        .step_by(step)
        .take(240)
        .map(|r| r.instrument)
        .collect();
    instruments.push(Instrument::parse("BTC-PERPETUAL").unwrap());
    instruments.push(Instrument::parse("ETH-PERPETUAL").unwrap());
    let inputs: Vec<PricingInputs> = instruments
        .iter()
        .map(|i| market.inputs(i).unwrap())
        .collect();
    let sizes: Vec<f64> = (0..instruments.len())
        .map(|i| {
            if i % 3 == 0 {
                -1.3
            } else {
                0.7 + i as f64 * 0.01
            }
        })
        .collect();
    assert!(instruments.iter().any(|i| i.underlying.as_str() == "ETH"));
    let expiring = inputs
        .iter()
        .filter(|p| p.time > 0.0 && p.time < 2.0 / 365.0);
    assert!(expiring.count() > 0, "an option expires inside the horizon");
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &sizes,
    };
    let coins = coins();
    let n = 1_500;
    let moves = table(n);
    let joint = JointMoves::new(&coins, &moves).unwrap();
    // Per position: |value at the current inputs| and the floor 1e-8·F (in coin for inverse),
    // with a generous 2× for the forward's move.
    let scale: Vec<f64> = instruments
        .iter()
        .zip(&inputs)
        .map(|(i, p)| {
            let v = margin_core::pricing::value(i, p, p.forward).unwrap().abs();
            let floor = if i.settlement == margin_core::Settlement::Inverse {
                1e-8
            } else {
                1e-8 * p.forward
            };
            2.0 * (v + floor)
        })
        .collect();
    let shocks = [
        VolShock::None,
        VolShock::Rule {
            shift: 0.02,
            beta: -0.5,
            floor: 0.1,
        },
        VolShock::Absolute(-0.05),
        VolShock::Tenor {
            direction: VolDirection::Up,
            range: 0.5,
        },
    ];
    for shock in shocks {
        for days in [0.0, 2.0, 30.0] {
            let template = Scenario {
                time_step: days / 365.0,
                ..Scenario::standard(0.0, shock)
            };
            // The fill_row route over the whole table at once.
            let copies = vec![template; n];
            let set = ScenarioSet::new(&copies, TenorScaling::deribit(0.0))
                .unwrap()
                .with_joint(joint)
                .unwrap();
            let mut want = vec![0.0; n];
            let mut tol = vec![0.0; n];
            let mut rows = vec![vec![0.0; n]; instruments.len()];
            for (i, row) in rows.iter_mut().enumerate() {
                fill_row(&instruments[i], &inputs[i], &set, row).unwrap();
                for ((w, t), x) in want.iter_mut().zip(tol.iter_mut()).zip(row.iter()) {
                    *w -= sizes[i] * x;
                    *t += BOUND * sizes[i].abs() * (x.abs() + scale[i]);
                }
            }
            let got = run(&book, &joint, &template, 512);
            let mut same = 0;
            for (s, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= tol[s],
                    "{shock:?}, {days} days, scenario {s}: kernel {g:e} vs fill_row {w:e}"
                );
                same += (g.to_bits() == w.to_bits()) as usize;
            }
            eprintln!("{shock:?}, {days} days: {same} of {n} losses with fill_row's bits");
            // Contributions over a scattered tail.
            let tail = [1_499usize, 3, 700, 42, 1_000, 17];
            let weights = [0.3, 0.2, 0.2, 0.1, 0.1, 0.1];
            let mut sc = vec![template; 4];
            let (mut row, mut mv) = (vec![0.0; 4], vec![0.0; 8]);
            let mut scratch = BlockScratch {
                scenarios: &mut sc,
                row: &mut row,
                moves: &mut mv,
            };
            let mut c = vec![0.0; instruments.len()];
            statistical::contributions(
                &book,
                &joint,
                &template,
                &tail,
                &weights,
                &mut scratch,
                &mut c,
            )
            .unwrap();
            for (i, ci) in c.iter().enumerate() {
                let (mut expected, mut t) = (0.0, 0.0);
                for (&s, w) in tail.iter().zip(&weights) {
                    expected += w * -(sizes[i] * rows[i][s]);
                    t += BOUND * w * sizes[i].abs() * (rows[i][s].abs() + scale[i]);
                }
                assert!(
                    (ci - expected).abs() <= t,
                    "position {i}: {ci:e} vs {expected:e}"
                );
            }
            // The contributions' rows are the losses' rows: they add up to the weighted loss.
            let direct: f64 = tail.iter().zip(&weights).map(|(&s, w)| w * got[s]).sum();
            let total: f64 = c.iter().sum();
            assert!((total - direct).abs() <= 1e-12 * direct.abs().max(1.0));
            assert!(
                instruments[..240]
                    .iter()
                    .all(|i| matches!(i.kind, Kind::Option { .. }))
            );
        }
    }
}
