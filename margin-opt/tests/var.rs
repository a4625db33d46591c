//! VaR and ES runs against independent routes: an empirical quantile computed here from the raw
//! CSV, the lognormal closed form of a linear position's ES, the delta-normal closed form with
//! an EWMA variance computed here, and the same bits on one and two threads.

mod common;
use common::{aligned_closes as closes, ewma_sigma};
use margin_core::market::PricingInputs;
use margin_core::scenario::VolShock;
use margin_core::spec::{Covariance, JointSource, Method};
use margin_core::statistical::Book;
use margin_core::stats::monte_carlo::Dist;
use margin_core::{Asset, Instrument};
use margin_opt::var::{self, Closes, VarParams};

const F: f64 = 60_000.0;

fn params(method: Method) -> VarParams {
    VarParams {
        source: JointSource {
            method,
            horizon_days: 2,
            overlapping: true,
            lambda: 0.94,
            covariance: Covariance::Ewma,
            dist: Dist::Normal,
            scenarios: 200_000,
            seed: 7,
            vol: VolShock::None,
            time_decay: false,
        },
        confidence: 0.99,
    }
}

fn perp() -> (Vec<Instrument>, Vec<PricingInputs>) {
    (
        vec![Instrument::parse("BTC_USDC-PERPETUAL").unwrap()],
        vec![PricingInputs {
            forward: F,
            vol: 0.0,
            time: 0.0,
            rate: 0.0,
        }],
    )
}

fn btc_closes() -> (Vec<Asset>, Vec<f64>) {
    (
        vec![Asset::new("BTC").unwrap()],
        closes().iter().map(|c| c[0]).collect(),
    )
}

/// HS VaR and ES of one long linear perpetual: losses −F·(P_{i+2}/P_i − 1), sorted here.
#[test]
fn hs_of_one_long_perpetual_is_the_empirical_quantile() {
    let (instruments, inputs) = perp();
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &[1.0],
    };
    let (coins, closes) = btc_closes();
    let r = var::run(
        &book,
        &Closes {
            coins: &coins,
            closes: &closes,
        },
        &params(Method::Historical),
    )
    .unwrap();
    let mut losses: Vec<f64> = closes
        .windows(3)
        .map(|w| -F * (w[2] / w[0] - 1.0))
        .collect();
    losses.sort_by(|a, b| b.total_cmp(a));
    let n = losses.len();
    assert_eq!(r.scenarios, n);
    // m = N·0.01 = 23.89: VaR is the 24th largest loss, ES weighs the first 23 fully and the
    // 24th by 0.89.
    let m = n as f64 * 0.01;
    let k = m.floor() as usize;
    let var = losses[k];
    let es = (losses[..k].iter().sum::<f64>() + (m - k as f64) * losses[k]) / m;
    assert!((r.var - var).abs() <= 1e-9 * var, "{} vs {var}", r.var);
    assert!((r.es - es).abs() <= 1e-9 * es, "{} vs {es}", r.es);
    assert!(r.es >= r.var);
    let total: f64 = r.contributions.iter().sum();
    assert!((total - r.es).abs() <= 1e-12 * r.es);
}

/// Monte Carlo ES of one long linear perpetual within 3 standard errors of the lognormal
/// closed form: with r ~ N(0, s²), loss = F(1 − e^r) and
/// ES = F·(1 − e^{s²/2}·Φ(−z − s)/(1 − c)), s² = h·σ²_EWMA (σ computed here).
#[test]
fn mc_es_of_a_linear_position_matches_the_lognormal_closed_form() {
    let (instruments, inputs) = perp();
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &[1.0],
    };
    let (coins, closes) = btc_closes();
    let p = params(Method::MonteCarlo);
    let r = var::run(
        &book,
        &Closes {
            coins: &coins,
            closes: &closes,
        },
        &p,
    )
    .unwrap();
    let sigma = ewma_sigma(&closes, 0.94);
    let s = sigma * (p.source.horizon_days as f64).sqrt();
    let z: f64 = 2.326_347_874_040_840_8; // Φ⁻¹(0.99)
    let phi = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
    let es = F * (1.0 - (s * s / 2.0).exp() * phi(-z - s) / 0.01);
    // Standard error of the tail mean: sd of the tail losses / √(N(1−c)).
    let tail: Vec<f64> = r.tail.iter().map(|t| t.loss).collect();
    let mean = tail.iter().sum::<f64>() / tail.len() as f64;
    let sd =
        (tail.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (tail.len() - 1) as f64).sqrt();
    let se = sd / (tail.len() as f64).sqrt();
    assert!(
        (r.es - es).abs() <= 3.0 * se,
        "ES {} vs closed form {es} (se {se})",
        r.es
    );
}

/// Delta-normal of a long linear perpetual: δ = F exactly, so ES = F·σ·√h·φ(z)/(1 − c).
#[test]
fn parametric_is_its_closed_form() {
    let (instruments, inputs) = perp();
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &[2.0],
    };
    let (coins, closes) = btc_closes();
    let p = params(Method::Parametric);
    let r = var::run(
        &book,
        &Closes {
            coins: &coins,
            closes: &closes,
        },
        &p,
    )
    .unwrap();
    let sigma = 2.0 * F * ewma_sigma(&closes, 0.94) * 2f64.sqrt();
    let z: f64 = 2.326_347_874_040_840_8;
    let pdf = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    assert!((r.var - z * sigma).abs() <= 1e-8 * r.var);
    assert!((r.es - sigma * pdf / 0.01).abs() <= 1e-8 * r.es);
    // A linear book: delta-gamma has no gamma, and its losses are −δ·x on the same draws, so it
    // agrees with full revaluation (F·x exactly) to rounding.
    let (dg, full) = (r.delta_gamma.unwrap(), r.full_revaluation.unwrap());
    assert!((dg.1 - full.1).abs() <= 1e-8 * full.1);
}

/// A two-coin option book: the same bits on one thread and on two (fixed chunks, per-scenario
/// random streams), for every method.
#[test]
fn same_bits_on_one_and_two_threads() {
    let symbols = [
        "BTC-27MAR26-60000-C",
        "BTC-27MAR26-50000-P",
        "ETH_USDC-PERPETUAL",
    ];
    let instruments: Vec<Instrument> = symbols
        .iter()
        .map(|s| Instrument::parse(s).unwrap())
        .collect();
    let inputs = vec![
        PricingInputs {
            forward: F,
            vol: 0.5,
            time: 0.2,
            rate: 0.0,
        },
        PricingInputs {
            forward: F,
            vol: 0.6,
            time: 0.2,
            rate: 0.0,
        },
        PricingInputs {
            forward: 3000.0,
            vol: 0.0,
            time: 0.0,
            rate: 0.0,
        },
    ];
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &[-3.0, 2.0, 10.0],
    };
    let coins = [Asset::new("BTC").unwrap(), Asset::new("ETH").unwrap()];
    let closes: Vec<f64> = closes().iter().flat_map(|c| c.iter().copied()).collect();
    let h = Closes {
        coins: &coins,
        closes: &closes,
    };
    for method in [
        Method::Historical,
        Method::Filtered,
        Method::MonteCarlo,
        Method::Parametric,
    ] {
        let base = params(method);
        let p = VarParams {
            source: JointSource {
                scenarios: 20_000,
                dist: Dist::StudentT { nu: 5.0 },
                vol: VolShock::Rule {
                    shift: 0.01,
                    beta: -0.4,
                    floor: 0.05,
                },
                time_decay: true,
                ..base.source
            },
            ..base
        };
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| var::run(&book, &h, &p).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.var.to_bits(), b.var.to_bits(), "{method:?}");
        assert_eq!(a.es.to_bits(), b.es.to_bits(), "{method:?}");
        assert!(
            a.losses
                .iter()
                .zip(&b.losses)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        assert_eq!(a.contributions, b.contributions);
        assert!(a.es >= a.var);
    }
}

/// Out-of-range parameters are refused where every client's scenarios are built, and a flat
/// coin (variance 0) gets correlation 0, never the NaN of 0/0.
#[test]
fn out_of_range_sources_are_errors_and_a_flat_coin_has_zero_correlation() {
    let (instruments, inputs) = perp();
    let book = Book {
        instruments: &instruments,
        inputs: &inputs,
        sizes: &[1.0],
    };
    let (coins, closes) = btc_closes();
    let h = Closes {
        coins: &coins,
        closes: &closes,
    };
    let base = params(Method::MonteCarlo);
    for source in [
        JointSource {
            horizon_days: 0,
            ..base.source
        },
        JointSource {
            horizon_days: 251,
            ..base.source
        },
        JointSource {
            scenarios: 99,
            ..base.source
        },
        JointSource {
            lambda: 1.0,
            ..base.source
        },
        JointSource {
            dist: Dist::StudentT { nu: 2.0 },
            ..base.source
        },
        JointSource {
            vol: VolShock::Rule {
                shift: 0.0,
                beta: 0.0,
                floor: -0.1,
            },
            ..base.source
        },
    ] {
        let p = VarParams { source, ..base };
        assert!(
            matches!(var::run(&book, &h, &p), Err(var::VarError::Input(_))),
            "{source:?}"
        );
    }
    // BTC beside a coin whose close never moves.
    let two = [Asset::new("BTC").unwrap(), Asset::new("USDT").unwrap()];
    let flat: Vec<f64> = closes.iter().flat_map(|&c| [c, 1.0]).collect();
    let r = var::run(
        &book,
        &Closes {
            coins: &two,
            closes: &flat,
        },
        &params(Method::Historical),
    )
    .unwrap();
    assert_eq!(r.correlation, vec![1.0, 0.0, 0.0, 1.0]);
    assert_eq!(r.volatility[1], 0.0);
}
