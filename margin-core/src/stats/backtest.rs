//! Coverage tests of a series of margin (or VaR) exceptions: Kupiec's proportion of failures,
//! Christoffersen's independence and conditional coverage, and the Basel traffic light.
//! Allocation-free; every logarithm and exponential goes through `libm`.
//!
//! # Statistics
//!
//! A series of `n` days, `I_t = 1` when day `t`'s loss exceeded its margin, `x = Σ I_t`
//! exceptions, `p` the exception probability the model promises (`1 − c`).
//!
//! * **Proportion of failures** (Kupiec 1995, "Techniques for verifying the accuracy of risk
//!   measurement models", J. Derivatives 3(2)):
//!   `LR_POF = −2 ln[(1−p)^(n−x) p^x] + 2 ln[(1−x/n)^(n−x) (x/n)^x]`, χ² with 1 degree of
//!   freedom under the null.
//! * **Independence** (Christoffersen 1998, "Evaluating interval forecasts", Int. Econ.
//!   Review 39(4)): over the `n − 1` transitions, `n_ij` counts days in state `j` after a day
//!   in state `i`; `π01 = n01/(n00+n01)`, `π11 = n11/(n10+n11)`,
//!   `π = (n01+n11)/(n00+n01+n10+n11)`;
//!   `LR_ind = −2 ln[(1−π)^(n00+n10) π^(n01+n11)] + 2 ln[(1−π01)^n00 π01^n01 (1−π11)^n10 π11^n11]`,
//!   χ² with 1 degree of freedom.
//! * **Conditional coverage**: `LR_CC = LR_POF + LR_ind`, χ² with 2 degrees of freedom (as
//!   MathWorks' `varbacktest` computes it: POF over all `n` days, independence over the
//!   `n − 1` transitions).
//! * **p-values** in closed form: 1 degree of freedom `P(χ²₁ > λ) = erfc(√(λ/2))`,
//!   2 degrees of freedom `P(χ²₂ > λ) = e^(−λ/2)`.
//!
//! # Edge cases (defined, never NaN)
//!
//! Every `a·ln b` with `a = 0` counts as 0 (the limit `0·ln 0 = 0` of the likelihood), so:
//! 0 exceptions give `LR_POF = −2n·ln(1−p)`; all exceptions `LR_POF = −2n·ln p`; a state never
//! left (`n00 + n01 = 0` or `n10 + n11 = 0`, e.g. no exception at all or `n01 = 0`) drops its
//! factor, and a series without transitions (`n = 1`) has `LR_ind = 0`, p-value 1. A
//! likelihood ratio is ≥ 0 mathematically; rounding below 0 is reported as 0.
//!
//! # Basel traffic light
//!
//! Basel Committee (1996), "Supervisory framework for the use of backtesting in conjunction
//! with the internal models approach", Table 2: with `X ~ Binomial(n, p)`, a count `x` is
//! **green** while `P(X ≤ x) < 95 %`, **yellow** while `P(X ≤ x) < 99.99 %`, **red** from
//! there on; 250 days at 99 % give green 0–4, yellow 5–9, red ≥ 10. The same thresholds are
//! applied for any `n` and `p` (our scaling: Basel tabulates only 250 days at 99 %), and 0
//! exceptions are green whatever `n` and `p` (no evidence against the model; with
//! `(1−p)^n ≥ 95 %` the rule would otherwise colour a clean record yellow).
//! `P(X ≤ x) = Σ_{k≤x} exp(ln C(n,k) + k ln p + (n−k) ln(1−p))` with `ln C` from `lgamma`;
//! cost `O(yellow_max)`.

use crate::error::Error;

/// Cumulative binomial probability at which the green zone ends (Basel 1996).
pub const GREEN_LIMIT: f64 = 0.95;
/// Cumulative binomial probability at which the yellow zone ends (Basel 1996).
pub const YELLOW_LIMIT: f64 = 0.9999;

/// Transition counts of a 0/1 series: `n_ij` days in state `j` following a day in state `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transitions {
    /// No exception after no exception.
    pub n00: u64,
    /// Exception after no exception.
    pub n01: u64,
    /// No exception after an exception.
    pub n10: u64,
    /// Exception after an exception.
    pub n11: u64,
}

impl Transitions {
    /// The transitions of `series` (`true` = exception), `series.len() − 1` of them.
    pub fn of(series: &[bool]) -> Transitions {
        let mut t = Transitions::default();
        for w in series.windows(2) {
            match (w[0], w[1]) {
                (false, false) => t.n00 += 1,
                (false, true) => t.n01 += 1,
                (true, false) => t.n10 += 1,
                (true, true) => t.n11 += 1,
            }
        }
        t
    }
}

/// A likelihood-ratio statistic and its asymptotic χ² p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrTest {
    /// The likelihood ratio (≥ 0).
    pub lr: f64,
    /// `P(χ²_df > lr)`, in [0, 1].
    pub p_value: f64,
}

/// Basel traffic-light zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// `P(X ≤ x) < 95 %` (or no exception).
    Green,
    /// `95 % ≤ P(X ≤ x) < 99.99 %`.
    Yellow,
    /// `P(X ≤ x) ≥ 99.99 %`.
    Red,
}

impl Zone {
    /// `green`, `yellow` or `red`.
    pub fn name(self) -> &'static str {
        match self {
            Zone::Green => "green",
            Zone::Yellow => "yellow",
            Zone::Red => "red",
        }
    }
}

/// The traffic light of an exception count, with the zone boundaries for its `n` and `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficLight {
    /// Zone of the observed count.
    pub zone: Zone,
    /// Largest green count.
    pub green_max: u64,
    /// Largest yellow count (`green_max` when the yellow zone is empty).
    pub yellow_max: u64,
    /// `P(X ≤ x)` of the observed count `x`.
    pub cumulative_probability: f64,
}

/// Every coverage test of one exception series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coverage {
    /// Days `n`.
    pub observations: u64,
    /// Exceptions `x`.
    pub exceptions: u64,
    /// Exception probability `p` tested.
    pub p: f64,
    /// Transition counts.
    pub transitions: Transitions,
    /// Kupiec proportion of failures (1 df).
    pub pof: LrTest,
    /// Christoffersen independence (1 df).
    pub independence: LrTest,
    /// Conditional coverage `LR_POF + LR_ind` (2 df).
    pub conditional_coverage: LrTest,
    /// Basel traffic light.
    pub traffic_light: TrafficLight,
}

/// `a·ln b`, 0 when `a = 0` (the likelihood's `0·ln 0 = 0`).
fn xlny(a: f64, b: f64) -> f64 {
    if a == 0.0 { 0.0 } else { a * libm::log(b) }
}

/// `P(χ²₁ > lr) = erfc(√(lr/2))`.
pub fn chi2_sf_1(lr: f64) -> f64 {
    libm::erfc(libm::sqrt(lr.max(0.0) / 2.0))
}

/// `P(χ²₂ > lr) = e^(−lr/2)`.
pub fn chi2_sf_2(lr: f64) -> f64 {
    libm::exp(-lr.max(0.0) / 2.0)
}

fn check_p(p: f64) -> Result<f64, Error> {
    if p > 0.0 && p < 1.0 {
        Ok(p)
    } else {
        Err(Error::OutOfRange {
            what: "exception probability p (strictly between 0 and 1)",
            value: p,
        })
    }
}

fn check_counts(exceptions: u64, observations: u64) -> Result<(), Error> {
    if observations == 0 {
        return Err(Error::OutOfRange {
            what: "number of observations (at least 1)",
            value: 0.0,
        });
    }
    if exceptions > observations {
        return Err(Error::OutOfRange {
            what: "number of exceptions (at most the number of observations)",
            value: exceptions as f64,
        });
    }
    Ok(())
}

/// Kupiec's proportion-of-failures test of `exceptions` in `observations` days against
/// probability `p` (module docs). Errors: `p` outside (0, 1), no observation, more exceptions
/// than observations.
pub fn kupiec_pof(exceptions: u64, observations: u64, p: f64) -> Result<LrTest, Error> {
    let p = check_p(p)?;
    check_counts(exceptions, observations)?;
    let (n, x) = (observations as f64, exceptions as f64);
    let null = xlny(n - x, 1.0 - p) + xlny(x, p);
    let fitted = xlny(n - x, 1.0 - x / n) + xlny(x, x / n);
    let lr = (2.0 * (fitted - null)).max(0.0);
    Ok(LrTest {
        lr,
        p_value: chi2_sf_1(lr),
    })
}

/// Christoffersen's independence test of transition counts `t` (module docs; never fails).
pub fn christoffersen_independence(t: &Transitions) -> LrTest {
    let [n00, n01, n10, n11] = [t.n00, t.n01, t.n10, t.n11].map(|c| c as f64);
    let total = n00 + n01 + n10 + n11;
    if total == 0.0 {
        return LrTest {
            lr: 0.0,
            p_value: 1.0,
        };
    }
    let pi = (n01 + n11) / total;
    // A state never left has no factor (its counts are 0, so 0/0 is never formed).
    let from0 = n00 + n01;
    let from1 = n10 + n11;
    let pi01 = if from0 > 0.0 { n01 / from0 } else { 0.0 };
    let pi11 = if from1 > 0.0 { n11 / from1 } else { 0.0 };
    let null = xlny(n00 + n10, 1.0 - pi) + xlny(n01 + n11, pi);
    let fitted = xlny(n00, 1.0 - pi01) + xlny(n01, pi01) + xlny(n10, 1.0 - pi11) + xlny(n11, pi11);
    let lr = (2.0 * (fitted - null)).max(0.0);
    LrTest {
        lr,
        p_value: chi2_sf_1(lr),
    }
}

/// Conditional coverage: `LR_POF + LR_ind`, χ² with 2 degrees of freedom.
pub fn conditional_coverage(pof: &LrTest, independence: &LrTest) -> LrTest {
    let lr = pof.lr + independence.lr;
    LrTest {
        lr,
        p_value: chi2_sf_2(lr),
    }
}

/// `ln P(X = k)` for `X ~ Binomial(n, p)`, `k ≤ n`.
fn ln_binomial_pmf(k: u64, n: u64, p: f64) -> f64 {
    let (k, n) = (k as f64, n as f64);
    libm::lgamma(n + 1.0) - libm::lgamma(k + 1.0) - libm::lgamma(n - k + 1.0)
        + xlny(k, p)
        + xlny(n - k, 1.0 - p)
}

/// `P(X ≤ x)` for `X ~ Binomial(n, p)` (1 for `x ≥ n`). Errors: `p` outside (0, 1).
pub fn binomial_cdf(x: u64, n: u64, p: f64) -> Result<f64, Error> {
    let p = check_p(p)?;
    if x >= n {
        return Ok(1.0);
    }
    let mut sum = 0.0;
    for k in 0..=x {
        sum += libm::exp(ln_binomial_pmf(k, n, p));
    }
    Ok(sum.min(1.0))
}

/// The Basel traffic light of `exceptions` in `observations` days at exception probability `p`
/// (module docs). Errors as [`kupiec_pof`].
pub fn traffic_light(exceptions: u64, observations: u64, p: f64) -> Result<TrafficLight, Error> {
    let p = check_p(p)?;
    check_counts(exceptions, observations)?;
    // Walk the cumulative probability (monotone in k) up to the end of the yellow zone and
    // the observed count.
    let mut sum = 0.0;
    let mut green_max = 0;
    let mut yellow_max = None;
    let mut observed = 1.0;
    for k in 0..=observations {
        sum = if k == observations {
            1.0
        } else {
            (sum + libm::exp(ln_binomial_pmf(k, observations, p))).min(1.0)
        };
        if k == exceptions {
            observed = sum;
        }
        if k == 0 || sum < GREEN_LIMIT {
            green_max = k;
        }
        if yellow_max.is_none() && sum >= YELLOW_LIMIT {
            yellow_max = Some(k.saturating_sub(1).max(green_max));
        }
        if yellow_max.is_some() && k >= exceptions {
            break;
        }
    }
    let yellow_max = yellow_max.unwrap_or(observations).max(green_max);
    let zone = if exceptions <= green_max {
        Zone::Green
    } else if exceptions <= yellow_max {
        Zone::Yellow
    } else {
        Zone::Red
    };
    Ok(TrafficLight {
        zone,
        green_max,
        yellow_max,
        cumulative_probability: observed,
    })
}

/// Every test of the 0/1 `series` (`true` = exception) against probability `p`. Errors: an
/// empty series, `p` outside (0, 1).
pub fn coverage(series: &[bool], p: f64) -> Result<Coverage, Error> {
    let observations = series.len() as u64;
    let exceptions = series.iter().filter(|&&e| e).count() as u64;
    let transitions = Transitions::of(series);
    coverage_of_counts(exceptions, observations, transitions, p)
}

/// Every test from counts: `exceptions` in `observations` days with `transitions` (which
/// must come from a series of that length). Errors as [`kupiec_pof`], and transitions that do
/// not add up to `observations − 1` or disagree with the exception count.
pub fn coverage_of_counts(
    exceptions: u64,
    observations: u64,
    transitions: Transitions,
    p: f64,
) -> Result<Coverage, Error> {
    let pof = kupiec_pof(exceptions, observations, p)?;
    let t = transitions;
    let total = t.n00 + t.n01 + t.n10 + t.n11;
    // Exceptions on days 2..n are n01 + n11; the first day adds at most one.
    let later = t.n01 + t.n11;
    if total + 1 != observations || !(later == exceptions || later + 1 == exceptions) {
        return Err(Error::OutOfRange {
            what: "transition counts (n00 + n01 + n10 + n11 = observations − 1, n01 + n11 = exceptions or exceptions − 1)",
            value: total as f64,
        });
    }
    let independence = christoffersen_independence(&t);
    Ok(Coverage {
        observations,
        exceptions,
        p,
        transitions: t,
        pof,
        independence,
        conditional_coverage: conditional_coverage(&pof, &independence),
        traffic_light: traffic_light(exceptions, observations, p)?,
    })
}

#[cfg(test)]
#[path = "backtest/tests.rs"]
mod tests;
