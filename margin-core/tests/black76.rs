//! Black-76 against published values, put-call parity, finite differences of the Greeks,
//! expiry behaviour and the typed error of every bad input.

use margin_core::Error;
use margin_core::pricing::{black76, black76_price, norm_cdf, valuation, value};
use margin_core::{Instrument, PricingInputs, Right};
use proptest::prelude::*;

use Right::{Call, Put};

/// Futures-option values from E. G. Haug, "The Complete Guide to Option Pricing Formulas"
/// (McGraw-Hill 1998), as tabulated in QuantLib's `test-suite/europeanoption.cpp`
/// (`EuropeanOptionTest::testValues`, rows with dividend yield q = r, where the
/// Black-Scholes-Merton model is Black-76 on F = S). Columns: right, strike, forward, rate,
/// years, vol, value (4 decimals).
const HAUG_BLACK76: [(Right, f64, f64, f64, f64, f64, f64); 38] = [
    // "pag 2-8": F = 19, K = 19, r = 10 %, T = 0.75, σ = 28 %.
    (Put, 19.0, 19.0, 0.10, 0.75, 0.28, 1.7011),
    (Call, 19.0, 19.0, 0.10, 0.75, 0.28, 1.7011),
    // "pag 24": K = 100, r = 10 %.
    (Call, 100.0, 90.0, 0.10, 0.10, 0.15, 0.0205),
    (Call, 100.0, 100.0, 0.10, 0.10, 0.15, 1.8734),
    (Call, 100.0, 110.0, 0.10, 0.10, 0.15, 9.9413),
    (Call, 100.0, 90.0, 0.10, 0.10, 0.25, 0.3150),
    (Call, 100.0, 100.0, 0.10, 0.10, 0.25, 3.1217),
    (Call, 100.0, 110.0, 0.10, 0.10, 0.25, 10.3556),
    (Call, 100.0, 90.0, 0.10, 0.10, 0.35, 0.9474),
    (Call, 100.0, 100.0, 0.10, 0.10, 0.35, 4.3693),
    (Call, 100.0, 110.0, 0.10, 0.10, 0.35, 11.1381),
    (Call, 100.0, 90.0, 0.10, 0.50, 0.15, 0.8069),
    (Call, 100.0, 100.0, 0.10, 0.50, 0.15, 4.0232),
    (Call, 100.0, 110.0, 0.10, 0.50, 0.15, 10.5769),
    (Call, 100.0, 90.0, 0.10, 0.50, 0.25, 2.7026),
    (Call, 100.0, 100.0, 0.10, 0.50, 0.25, 6.6997),
    (Call, 100.0, 110.0, 0.10, 0.50, 0.25, 12.7857),
    (Call, 100.0, 90.0, 0.10, 0.50, 0.35, 4.9329),
    (Call, 100.0, 100.0, 0.10, 0.50, 0.35, 9.3679),
    (Call, 100.0, 110.0, 0.10, 0.50, 0.35, 15.3086),
    (Put, 100.0, 90.0, 0.10, 0.10, 0.15, 9.9210),
    (Put, 100.0, 100.0, 0.10, 0.10, 0.15, 1.8734),
    (Put, 100.0, 110.0, 0.10, 0.10, 0.15, 0.0408),
    (Put, 100.0, 90.0, 0.10, 0.10, 0.25, 10.2155),
    (Put, 100.0, 100.0, 0.10, 0.10, 0.25, 3.1217),
    (Put, 100.0, 110.0, 0.10, 0.10, 0.25, 0.4551),
    (Put, 100.0, 90.0, 0.10, 0.10, 0.35, 10.8479),
    (Put, 100.0, 100.0, 0.10, 0.10, 0.35, 4.3693),
    (Put, 100.0, 110.0, 0.10, 0.10, 0.35, 1.2376),
    (Put, 100.0, 90.0, 0.10, 0.50, 0.15, 10.3192),
    (Put, 100.0, 100.0, 0.10, 0.50, 0.15, 4.0232),
    (Put, 100.0, 110.0, 0.10, 0.50, 0.15, 1.0646),
    (Put, 100.0, 90.0, 0.10, 0.50, 0.25, 12.2149),
    (Put, 100.0, 100.0, 0.10, 0.50, 0.25, 6.6997),
    (Put, 100.0, 110.0, 0.10, 0.50, 0.25, 3.2734),
    (Put, 100.0, 90.0, 0.10, 0.50, 0.35, 14.4452),
    (Put, 100.0, 100.0, 0.10, 0.50, 0.35, 9.3679),
    (Put, 100.0, 110.0, 0.10, 0.50, 0.35, 5.7963),
];

#[test]
fn haug_futures_option_values() {
    for (right, strike, forward, rate, time, vol, expected) in HAUG_BLACK76 {
        let price = black76_price(right, forward, strike, vol, time, rate).unwrap();
        let greeks = black76(right, forward, strike, vol, time, rate).unwrap();
        assert_eq!(price.to_bits(), greeks.value.to_bits());
        // QuantLib checks these with tolerance 1e-4; the table has 4 decimals.
        assert!(
            (price - expected).abs() <= 1e-4,
            "{right:?} F={forward} K={strike} T={time} σ={vol}: {price} vs Haug {expected}"
        );
    }
}

/// Haug's delta example, same source (`EuropeanOptionTest::testGreekValues`, "pag 11-16"):
/// S = F = 105, K = 100, q = r = 10 %, T = 0.5, σ = 36 %: call delta 0.5946, put −0.3566.
/// With q = r the spot delta `e^(−qT)N(d1)` is the Black-76 forward delta.
#[test]
fn haug_futures_option_delta() {
    let call = black76(Call, 105.0, 100.0, 0.36, 0.5, 0.10).unwrap();
    let put = black76(Put, 105.0, 100.0, 0.36, 0.5, 0.10).unwrap();
    assert!((call.delta - 0.5946).abs() <= 1e-4, "{}", call.delta);
    assert!((put.delta + 0.3566).abs() <= 1e-4, "{}", put.delta);
}

/// A sane market domain: forwards from ETH-like to BTC-like levels, strikes within
/// ×/÷ 3 of the forward, vols 5 %–250 %, a few days to three years, small rates.
fn market() -> impl Strategy<Value = (f64, f64, f64, f64, f64)> {
    (
        10.0f64..200_000.0,
        -1.1f64..1.1,
        0.05f64..2.5,
        0.01f64..3.0,
        -0.02f64..0.10,
    )
        .prop_map(|(f, log_moneyness, vol, t, r)| (f, f * log_moneyness.exp(), vol, t, r))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// C − P = D·(F − K).
    #[test]
    fn put_call_parity((f, k, vol, t, r) in market()) {
        let c = black76_price(Call, f, k, vol, t, r).unwrap();
        let p = black76_price(Put, f, k, vol, t, r).unwrap();
        let rhs = (-r * t).exp() * (f - k);
        prop_assert!((c - p - rhs).abs() <= 1e-10 * f.max(k), "C−P={} D(F−K)={}", c - p, rhs);
    }

    /// Central differences of the value (delta, vega, theta) and of the analytic delta (gamma).
    #[test]
    fn greeks_match_finite_differences((f, k, vol, t, r) in market(), right in prop_oneof![Just(Call), Just(Put)]) {
        let g = black76(right, f, k, vol, t, r).unwrap();
        let price = |f: f64, vol: f64, t: f64| black76_price(right, f, k, vol, t, r).unwrap();
        let delta_at = |f: f64| black76(right, f, k, vol, t, r).unwrap().delta;
        let (hf, hv, ht) = (1e-4 * f, 1e-4 * vol, 1e-4 * t);
        let fd_delta = (price(f + hf, vol, t) - price(f - hf, vol, t)) / (2.0 * hf);
        let fd_gamma = (delta_at(f + hf) - delta_at(f - hf)) / (2.0 * hf);
        let fd_vega = (price(f, vol + hv, t) - price(f, vol - hv, t)) / (2.0 * hv);
        // Theta is the change as calendar time passes, i.e. as T shrinks.
        let fd_theta = -(price(f, vol, t + ht) - price(f, vol, t - ht)) / (2.0 * ht);
        // Tolerances: relative 1e-5 plus an absolute floor in each Greek's natural unit
        // (value scale F, so delta ~1, gamma ~1/F, vega and theta ~F).
        let close = |fd: f64, exact: f64, unit: f64| (fd - exact).abs() <= 1e-5 * exact.abs() + 1e-8 * unit;
        prop_assert!(close(fd_delta, g.delta, 1.0), "delta {} vs fd {}", g.delta, fd_delta);
        prop_assert!(close(fd_gamma, g.gamma, 1.0 / f), "gamma {} vs fd {}", g.gamma, fd_gamma);
        prop_assert!(close(fd_vega, g.vega, f), "vega {} vs fd {}", g.vega, fd_vega);
        prop_assert!(close(fd_theta, g.theta, f / t.sqrt()), "theta {} vs fd {}", g.theta, fd_theta);
    }

    /// Call delta of Black-76 is D·N(d1); the put's is the call's minus D.
    #[test]
    fn delta_is_discounted_n_d1((f, k, vol, t, r) in market()) {
        let c = black76(Call, f, k, vol, t, r).unwrap();
        let p = black76(Put, f, k, vol, t, r).unwrap();
        let sd = vol * t.sqrt();
        let d1 = ((f / k).ln() + 0.5 * sd * sd) / sd;
        let df = (-r * t).exp();
        prop_assert!((c.delta - df * norm_cdf(d1)).abs() <= 1e-12);
        prop_assert!((c.delta - p.delta - df).abs() <= 1e-12);
        prop_assert_eq!(c.gamma.to_bits(), p.gamma.to_bits());
        prop_assert_eq!(c.vega.to_bits(), p.vega.to_bits());
    }

    /// The price never leaves the no-arbitrage bounds D·max(F−K, 0) ≤ C ≤ D·F.
    #[test]
    fn price_within_no_arbitrage_bounds((f, k, vol, t, r) in market()) {
        let df = (-r * t).exp();
        let c = black76_price(Call, f, k, vol, t, r).unwrap();
        let p = black76_price(Put, f, k, vol, t, r).unwrap();
        let slack = 1e-9 * f.max(k);
        prop_assert!(c >= df * (f - k).max(0.0) - slack && c <= df * f + slack);
        prop_assert!(p >= df * (k - f).max(0.0) - slack && p <= df * k + slack);
    }
}

#[test]
fn intrinsic_at_and_after_expiry() {
    for time in [0.0, -1e-9, -0.5] {
        for (right, f, k, value, delta) in [
            (Call, 110.0, 100.0, 10.0, 1.0),
            (Call, 90.0, 100.0, 0.0, 0.0),
            (Call, 100.0, 100.0, 0.0, 0.5),
            (Put, 90.0, 100.0, 10.0, -1.0),
            (Put, 110.0, 100.0, 0.0, 0.0),
            (Put, 100.0, 100.0, 0.0, -0.5),
        ] {
            // The vol is irrelevant once the option has expired, even if it is garbage.
            for vol in [0.5, 0.0, f64::NAN] {
                let g = black76(right, f, k, vol, time, 0.05).unwrap();
                assert_eq!(g.value, value, "{right:?} F={f} K={k} T={time}");
                assert_eq!(black76_price(right, f, k, vol, time, 0.05).unwrap(), value);
                assert_eq!(g.delta, delta, "{right:?} F={f} K={k}");
                assert_eq!((g.gamma, g.vega, g.theta), (0.0, 0.0, 0.0));
            }
        }
    }
    // Approaching expiry, the price tends to intrinsic.
    let near = black76_price(Call, 110.0, 100.0, 0.5, 1e-12, 0.0).unwrap();
    assert!((near - 10.0).abs() < 1e-9, "{near}");
}

#[test]
fn every_bad_input_is_a_typed_error() {
    let nonfinite = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    let nonpositive = [0.0, -0.0, -1.0, -f64::MIN_POSITIVE];
    // (right, F, K, σ, T, r) from a valid base, with one argument replaced.
    let base = (Call, 100.0, 95.0, 0.6, 0.25, 0.01);
    type Case = (f64, f64, f64, f64, f64);
    let set = |i: usize, x: f64| -> Case {
        let mut a = [base.1, base.2, base.3, base.4, base.5];
        a[i] = x;
        (a[0], a[1], a[2], a[3], a[4])
    };
    let names = [
        "forward",
        "strike",
        "implied volatility",
        "time to expiry",
        "rate",
    ];
    for right in [Call, Put] {
        let check = |(f, k, v, t, r): Case, expected: Error| {
            assert_eq!(
                black76_price(right, f, k, v, t, r),
                Err(expected),
                "{f} {k} {v} {t} {r}"
            );
            assert_eq!(
                black76(right, f, k, v, t, r).map(|g| g.value),
                Err(expected)
            );
        };
        for (i, what) in names.iter().enumerate() {
            for x in nonfinite {
                check(set(i, x), Error::NonFinite { what });
            }
        }
        for (i, what) in names.iter().enumerate().take(3) {
            for x in nonpositive {
                check(set(i, x), Error::NonPositive { what, value: x });
            }
        }
    }

    // The same checks reach through instrument valuation.
    let option = Instrument::parse("BTC-27MAR26-90000-C").unwrap();
    let inputs = |forward, vol| PricingInputs {
        forward,
        vol,
        time: 0.3,
        rate: 0.0,
    };
    assert_eq!(
        valuation(&option, &inputs(f64::NAN, 0.5)),
        Err(Error::NonFinite { what: "forward" })
    );
    assert_eq!(
        value(&option, &inputs(80_000.0, -0.5), 0.0),
        Err(Error::NonPositive {
            what: "implied volatility",
            value: -0.5
        })
    );
    let future = Instrument::parse("BTC-27MAR26").unwrap();
    assert_eq!(
        value(&future, &inputs(80_000.0, 0.0), 0.0),
        Err(Error::NonPositive {
            what: "entry price",
            value: 0.0
        })
    );
    assert_eq!(
        value(&future, &inputs(f64::INFINITY, 0.0), 80_000.0),
        Err(Error::NonFinite { what: "forward" })
    );
    let spot = Instrument::parse("BTC_USDC").unwrap();
    assert_eq!(
        valuation(&spot, &inputs(0.0, 0.0)),
        Err(Error::NonPositive {
            what: "index price",
            value: 0.0
        })
    );
}

#[test]
fn inverse_and_linear_valuation_units() {
    let inverse = Instrument::parse("BTC-27MAR26-90000-P").unwrap();
    let linear = Instrument::parse("BTC_USDC-27MAR26-90000-P").unwrap();
    let inputs = PricingInputs {
        forward: 80_000.0,
        vol: 0.55,
        time: 0.35,
        rate: 0.0,
    };
    let usd = black76(Put, 80_000.0, 90_000.0, 0.55, 0.35, 0.0).unwrap();
    let inv = valuation(&inverse, &inputs).unwrap();
    let lin = valuation(&linear, &inputs).unwrap();
    assert_eq!(lin.value, usd.value);
    assert_eq!(inv.value, usd.value / 80_000.0);
    assert_eq!(
        (inv.delta, inv.gamma, inv.vega, inv.theta),
        (usd.delta, usd.gamma, usd.vega, usd.theta)
    );
    // Premium-adjusted delta is F·∂(V/F)/∂F: check by finite difference of the coin value.
    let h = 0.01;
    let coin = |f: f64| {
        value(
            &inverse,
            &PricingInputs {
                forward: f,
                ..inputs
            },
            0.0,
        )
        .unwrap()
    };
    let fd = 80_000.0 * (coin(80_000.0 + h) - coin(80_000.0 - h)) / (2.0 * h);
    assert!(
        (fd - inv.delta_premium_adjusted).abs() < 1e-6,
        "{fd} vs {}",
        inv.delta_premium_adjusted
    );
    assert_eq!(lin.delta_premium_adjusted, lin.delta);
}

/// Regression: when σ√T overflows to ∞, d2 = ∞ − ∞ is NaN and `NaN.max(0.0)` used to return a
/// silent value of 0 (a call worth ~F priced at nothing). It must be an error instead.
#[test]
fn overflowing_total_vol_is_an_error_not_a_zero() {
    for right in [Call, Put] {
        assert_eq!(
            black76_price(right, 100.0, 100.0, 1e200, 1e250, 0.0),
            Err(Error::Overflow {
                what: "option value"
            })
        );
        assert!(black76(right, 100.0, 120.0, 1e200, 1e250, 0.0).is_err());
    }
}
