//! Coverage tests against MathWorks' published `varbacktest` example, the Basel Committee's
//! published traffic-light table, textbook χ² critical values, hand-computed edge cases and a
//! second route to the binomial distribution.

use super::*;
use proptest::prelude::*;
use std::vec::Vec;

/// A 0/1 series of 1,043 days with exactly MathWorks' transition counts: one day of no
/// exception, then 932 more, then 53 runs of exceptions (4 of length 2, 49 of length 1),
/// each followed by one day without.
fn mathworks_series() -> Vec<bool> {
    let mut s = std::vec![false; 933];
    for run in 0..53 {
        s.push(true);
        if run < 4 {
            s.push(true);
        }
        s.push(false);
    }
    s
}

#[test]
fn reproduces_the_mathworks_varbacktest_example() {
    // MathWorks, Risk Management Toolbox, `varbacktest` / `cc` documentation: EquityIndex
    // against Normal95 (VaRLevel 0.95), 1,043 observations, 57 failures,
    // N00/N10/N01/N11 = 932/53/53/4, LRatioPOF 0.46147 (PValuePOF 0.49694), LRatioCCI
    // 0.25866 (PValueCCI 0.61104), LRatioCC 0.72013 (PValueCC 0.69763).
    let s = mathworks_series();
    assert_eq!(s.len(), 1043);
    let c = coverage(&s, 0.05).unwrap();
    assert_eq!((c.observations, c.exceptions), (1043, 57));
    let t = c.transitions;
    assert_eq!((t.n00, t.n10, t.n01, t.n11), (932, 53, 53, 4));
    let close = |x: f64, published: f64| (x - published).abs() < 5e-6;
    assert!(close(c.pof.lr, 0.46147), "{}", c.pof.lr);
    assert!(close(c.pof.p_value, 0.49694), "{}", c.pof.p_value);
    assert!(close(c.independence.lr, 0.25866), "{}", c.independence.lr);
    assert!(close(c.independence.p_value, 0.61104));
    assert!(close(c.conditional_coverage.lr, 0.72013));
    assert!(close(c.conditional_coverage.p_value, 0.69763));
    // The same from the counts alone.
    let d = coverage_of_counts(57, 1043, t, 0.05).unwrap();
    assert_eq!(c, d);
}

#[test]
fn chi_square_tails_match_the_textbook_critical_values() {
    // χ²₁: 3.841459 (5 %), 6.634897 (1 %); χ²₂: 5.991465 (5 %), 9.210340 (1 %).
    assert!((chi2_sf_1(3.841459) - 0.05).abs() < 1e-7);
    assert!((chi2_sf_1(6.634897) - 0.01).abs() < 1e-7);
    assert!((chi2_sf_2(5.991465) - 0.05).abs() < 1e-7);
    assert!((chi2_sf_2(9.210340) - 0.01).abs() < 1e-7);
    assert_eq!((chi2_sf_1(0.0), chi2_sf_2(0.0)), (1.0, 1.0));
}

#[test]
fn basel_traffic_light_for_250_days_at_99_percent() {
    // Basel Committee (1996), Table 2 (250 observations, 99 % coverage): green 0–4,
    // yellow 5–9, red 10 or more; cumulative probabilities 89.22 % at 4, 95.88 % at 5,
    // 99.97 % at 9, 99.99 % at 10.
    for (x, zone, cumulative) in [
        (0, Zone::Green, 0.0811),
        (4, Zone::Green, 0.8922),
        (5, Zone::Yellow, 0.9588),
        (9, Zone::Yellow, 0.9997),
        (10, Zone::Red, 0.9999),
        (250, Zone::Red, 1.0),
    ] {
        let t = traffic_light(x, 250, 0.01).unwrap();
        assert_eq!((t.zone, t.green_max, t.yellow_max), (zone, 4, 9), "{x}");
        assert!(
            (t.cumulative_probability - cumulative).abs() < 5e-5,
            "{x}: {}",
            t.cumulative_probability
        );
    }
}

#[test]
fn no_exception_is_green_even_when_one_day_cannot_say_more() {
    // (1 − 0.01)^1 = 0.99 ≥ 95 %: the rule alone would colour a clean day yellow.
    let t = traffic_light(0, 1, 0.01).unwrap();
    assert_eq!((t.zone, t.green_max), (Zone::Green, 0));
    assert_eq!(traffic_light(1, 1, 0.01).unwrap().zone, Zone::Red);
}

#[test]
fn edge_cases_have_closed_forms() {
    let (n, p) = (250u64, 0.01);
    // No exception: LR = −2n ln(1−p).
    let zero = kupiec_pof(0, n, p).unwrap();
    assert!((zero.lr - (-2.0 * 250.0 * (0.99f64).ln())).abs() < 1e-10);
    // Every day an exception: LR = −2n ln p.
    let all = kupiec_pof(n, n, p).unwrap();
    assert!((all.lr - (-2.0 * 250.0 * (0.01f64).ln())).abs() < 1e-9);
    assert!(all.p_value >= 0.0 && all.p_value < 1e-100);
    // The promised rate exactly: LR = 0.
    assert_eq!(kupiec_pof(1, 100, 0.01).unwrap().lr, 0.0);
    // No exception at all: no transition out of state 0 is an exception, LR_ind = 0.
    let clean = coverage(&[false; 10], 0.01).unwrap();
    assert_eq!(
        clean.independence,
        LrTest {
            lr: 0.0,
            p_value: 1.0
        }
    );
    // All exceptions: LR_ind = 0 as well.
    let bad = coverage(&[true; 10], 0.01).unwrap();
    assert_eq!(bad.independence.lr, 0.0);
    // One day: no transition.
    let one = coverage(&[true], 0.01).unwrap();
    assert_eq!(one.transitions, Transitions::default());
    assert_eq!(one.independence.p_value, 1.0);
    // n01 = 0: 1 1 1 0 0 0 → n11 = 2, n10 = 1, n00 = 2. π = 2/5, π01 = 0, π11 = 2/3:
    // LR = −2[3 ln(3/5) + 2 ln(2/5)] + 2[2 ln 1 + ln(1/3) + 2 ln(2/3)].
    let s = [true, true, true, false, false, false];
    let c = coverage(&s, 0.01).unwrap();
    let t = c.transitions;
    assert_eq!((t.n00, t.n01, t.n10, t.n11), (2, 0, 1, 2));
    let hand = -2.0 * (3.0 * (0.6f64).ln() + 2.0 * (0.4f64).ln())
        + 2.0 * ((1.0f64 / 3.0).ln() + 2.0 * (2.0f64 / 3.0).ln());
    assert!(
        (c.independence.lr - hand).abs() < 1e-12,
        "{}",
        c.independence.lr
    );
}

#[test]
fn bad_inputs_are_refused() {
    assert!(kupiec_pof(0, 0, 0.01).is_err());
    assert!(kupiec_pof(3, 2, 0.01).is_err());
    for p in [0.0, 1.0, -0.1, f64::NAN, f64::INFINITY] {
        assert!(kupiec_pof(1, 10, p).is_err(), "{p}");
        assert!(traffic_light(1, 10, p).is_err(), "{p}");
    }
    assert!(coverage(&[], 0.01).is_err());
    let t = Transitions {
        n00: 5,
        ..Transitions::default()
    };
    // 5 transitions belong to 6 days, not 10; and 3 exceptions cannot have none after day 1.
    assert!(coverage_of_counts(0, 10, t, 0.01).is_err());
    assert!(coverage_of_counts(3, 6, t, 0.01).is_err());
}

/// `P(X ≤ x)` by the pmf recurrence `P(k+1) = P(k)·(n−k)/(k+1)·p/(1−p)` from `(1−p)^n`.
fn cdf_by_recurrence(x: u64, n: u64, p: f64) -> f64 {
    let mut pmf = (1.0 - p).powi(n as i32);
    let mut sum = pmf;
    for k in 0..x {
        pmf *= (n - k) as f64 / (k + 1) as f64 * p / (1.0 - p);
        sum += pmf;
    }
    sum.min(1.0)
}

proptest! {
    #[test]
    fn binomial_cdf_agrees_with_the_recurrence(n in 1u64..600, x in 0u64..600, p in 0.001f64..0.5) {
        let x = x.min(n);
        let a = binomial_cdf(x, n, p).unwrap();
        let b = cdf_by_recurrence(x, n, p);
        prop_assert!((a - b).abs() < 1e-9, "{a} {b}");
    }

    #[test]
    fn every_series_gives_finite_statistics(
        s in proptest::collection::vec(any::<bool>(), 1..400),
        p in 1e-6f64..0.999,
    ) {
        let c = coverage(&s, p).unwrap();
        for t in [c.pof, c.independence, c.conditional_coverage] {
            prop_assert!(t.lr.is_finite() && t.lr >= 0.0);
            prop_assert!((0.0..=1.0).contains(&t.p_value));
        }
        let tl = c.traffic_light;
        prop_assert!(tl.green_max <= tl.yellow_max && tl.yellow_max <= c.observations);
        prop_assert!((0.0..=1.0).contains(&tl.cumulative_probability));
        // The zone is the one the cumulative probability names.
        let zone = if c.exceptions == 0 || tl.cumulative_probability < GREEN_LIMIT {
            Zone::Green
        } else if tl.cumulative_probability < YELLOW_LIMIT {
            Zone::Yellow
        } else {
            Zone::Red
        };
        prop_assert_eq!(tl.zone, zone);
    }
}
