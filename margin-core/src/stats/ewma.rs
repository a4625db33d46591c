//! Daily log returns, RiskMetrics EWMA volatility and covariance, and the sample covariance.
//!
//! **Layout.** A close table is date-major `T × U` (`closes[t·U + j]` is coin `j` on day `t`),
//! and so is a return table `N × U` with `N = T − 1`.
//!
//! **Returns.** `r_t = ln(P_t / P_{t−1})` through `libm::log` (the log of the ratio, which
//! keeps the accuracy of small returns).
//!
//! **EWMA** (J.P. Morgan/Reuters, *RiskMetrics — Technical Document*, 4th ed., 1996, ch. 5),
//! zero mean, decay `λ` (RiskMetrics daily: [`RISKMETRICS_LAMBDA`] = 0.94). With returns
//! `r_1 … r_N` (1-based here, index `t − 1` in the slices):
//!
//! * seed `σ²_1 = (1/30)·Σ_{t=1}^{30} r_t²` ([`EWMA_SEED_DAYS`]; the sum in date order, then
//!   divided by 30);
//! * `σ²_{t+1} = λ·σ²_t + (1 − λ)·r_t²` for `t = 1 … N`, evaluated exactly as
//!   `λ*v + (1−λ)*(r*r)`.
//!
//! So `σ_t` uses returns through `t − 1` only, apart from the seed: `σ_1 … σ_30` also carry the
//! seed window `r_1 … r_30`, which a caller wanting strictly out-of-sample scaling should drop.
//! `σ_{N+1}` is the volatility "now", for the day after the last return. At least
//! `EWMA_SEED_DAYS + 1` returns are required, so at least one update uses a return outside the
//! seed. Filtered historical simulation rescales `r*_t = r_t·σ_{N+1}/σ_t` (Barone-Adesi,
//! Giannopoulos & Vosper 1999), hence the whole path.
//!
//! The covariance is the same recursion in matrix form, `Σ_{t+1} = λ·Σ_t + (1 − λ)·r_t·r_tᵀ`,
//! seeded with the mean of the first 30 outer products; its diagonal equals the scalar path's
//! variance bit for bit.
//!
//! **Sample covariance** (for comparison and for unweighted models): demeaned and unbiased,
//! `S_ij = Σ_t (r_ti − m_i)(r_tj − m_j) / (N − 1)` with `m_i` the sample mean, two passes.

use crate::error::{Error, finite};

/// RiskMetrics' decay factor for daily data (RiskMetrics Technical Document 1996, ch. 5).
pub const RISKMETRICS_LAMBDA: f64 = 0.94;

/// Number of leading returns whose mean square seeds the EWMA.
pub const EWMA_SEED_DAYS: usize = 30;

/// Checks a `rows × u` table: `u ≥ 1` and a length that is a multiple of `u`; returns `rows`.
fn rows(table_len: usize, u: usize, what: &'static str) -> Result<usize, Error> {
    if u == 0 || !table_len.is_multiple_of(u) {
        return Err(Error::OutOfRange {
            what,
            value: table_len as f64,
        });
    }
    Ok(table_len / u)
}

/// Checks a return table for the EWMA: shape, at least `EWMA_SEED_DAYS + 1` rows, all finite,
/// `0 < λ < 1`. Returns the row count `N`.
fn check_ewma(returns: &[f64], u: usize, lambda: f64) -> Result<usize, Error> {
    let n = rows(
        returns.len(),
        u,
        "returns length (not a multiple of the coin count)",
    )?;
    if n <= EWMA_SEED_DAYS {
        return Err(Error::OutOfRange {
            what: "number of returns (EWMA needs at least 31)",
            value: n as f64,
        });
    }
    if !(lambda > 0.0 && lambda < 1.0) {
        return Err(Error::OutOfRange {
            what: "EWMA lambda (must lie in (0, 1))",
            value: lambda,
        });
    }
    for &r in returns {
        finite(r, "return")?;
    }
    Ok(n)
}

/// Writes the `(T − 1) × u` log returns `ln(P_t/P_{t−1})` of the `T × u` close table into the
/// start of `out` and returns `T − 1`.
///
/// Errors: [`Error::OutOfRange`] if `u = 0`, the table length is not a multiple of `u` or
/// `T < 2`; [`Error::NonFinite`] / [`Error::NonPositive`] for a close that is not a finite
/// positive price; [`Error::Capacity`] if `out` is short; [`Error::Overflow`] if a ratio
/// overflows.
pub fn log_returns(closes: &[f64], u: usize, out: &mut [f64]) -> Result<usize, Error> {
    let t = rows(
        closes.len(),
        u,
        "closes length (not a multiple of the coin count)",
    )?;
    if t < 2 {
        return Err(Error::OutOfRange {
            what: "number of closes (need at least 2 days)",
            value: t as f64,
        });
    }
    for &p in closes {
        crate::error::positive(p, "close")?;
    }
    let needed = (t - 1) * u;
    if out.len() < needed {
        return Err(Error::Capacity {
            needed,
            available: out.len(),
        });
    }
    for (k, r) in out[..needed].iter_mut().enumerate() {
        *r = libm::log(closes[k + u] / closes[k]);
        if !r.is_finite() {
            return Err(Error::Overflow { what: "log return" });
        }
    }
    Ok(t - 1)
}

/// The EWMA estimate "now", `σ²_{N+1}`, and its square root.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EwmaNow {
    /// `σ²_{N+1}`, the variance after the last return.
    pub variance: f64,
    /// `σ_{N+1} = √σ²_{N+1}`.
    pub sigma: f64,
}

/// The EWMA volatility path of coin `coin` in the `N × u` return table: writes
/// `out_sigma[t−1] = σ_t` for `t = 1 … N` (the volatility that applies to return `r_t`,
/// from returns before it and the seed) and returns `σ_{N+1}` ("now").
///
/// Errors: [`Error::OutOfRange`] for fewer than 31 returns, a bad shape, `coin ≥ u`, or
/// `λ ∉ (0, 1)`; [`Error::NonFinite`] for a non-finite return (of any coin);
/// [`Error::Capacity`] if `out_sigma` holds fewer than `N` entries.
pub fn ewma_variance_path(
    returns: &[f64],
    u: usize,
    coin: usize,
    lambda: f64,
    out_sigma: &mut [f64],
) -> Result<EwmaNow, Error> {
    let n = check_ewma(returns, u, lambda)?;
    if coin >= u {
        return Err(Error::OutOfRange {
            what: "coin index",
            value: coin as f64,
        });
    }
    if out_sigma.len() < n {
        return Err(Error::Capacity {
            needed: n,
            available: out_sigma.len(),
        });
    }
    let r = |t: usize| returns[t * u + coin];
    let mut v = 0.0;
    for t in 0..EWMA_SEED_DAYS {
        v += r(t) * r(t);
    }
    v /= EWMA_SEED_DAYS as f64;
    let w = 1.0 - lambda;
    for (t, s) in out_sigma[..n].iter_mut().enumerate() {
        *s = libm::sqrt(v);
        v = lambda * v + w * (r(t) * r(t));
    }
    Ok(EwmaNow {
        variance: v,
        sigma: libm::sqrt(v),
    })
}

/// The EWMA covariance "now", `Σ_{N+1}`, of the `N × u` return table, written to `out`
/// (row-major `u × u`, exactly symmetric). Same errors as [`ewma_variance_path`], with
/// [`Error::Capacity`] if `out` holds fewer than `u²` entries.
pub fn ewma_covariance(
    returns: &[f64],
    u: usize,
    lambda: f64,
    out: &mut [f64],
) -> Result<(), Error> {
    let n = check_ewma(returns, u, lambda)?;
    let uu = super::linalg::square(u, out.len())?;
    let out = &mut out[..uu];
    out.fill(0.0);
    for row in returns[..EWMA_SEED_DAYS * u].chunks_exact(u) {
        for i in 0..u {
            for j in 0..u {
                out[i * u + j] += row[i] * row[j];
            }
        }
    }
    for x in out.iter_mut() {
        *x /= EWMA_SEED_DAYS as f64;
    }
    let w = 1.0 - lambda;
    for row in returns[..n * u].chunks_exact(u) {
        for i in 0..u {
            for j in 0..u {
                let c = &mut out[i * u + j];
                *c = lambda * *c + w * (row[i] * row[j]);
            }
        }
    }
    Ok(())
}

/// The demeaned unbiased sample covariance of the `N × u` return table,
/// `S_ij = Σ_t (r_ti − m_i)(r_tj − m_j)/(N − 1)`, written to `out` (row-major `u × u`, exactly
/// symmetric). Allocation-free: the means are parked on the diagonal of `out` until last.
///
/// Errors: [`Error::OutOfRange`] for a bad shape or `N < 2`, [`Error::NonFinite`] for a
/// non-finite return, [`Error::Capacity`] if `out` holds fewer than `u²` entries,
/// [`Error::Overflow`] if a result is not finite.
pub fn sample_covariance(returns: &[f64], u: usize, out: &mut [f64]) -> Result<(), Error> {
    let n = rows(
        returns.len(),
        u,
        "returns length (not a multiple of the coin count)",
    )?;
    if n < 2 {
        return Err(Error::OutOfRange {
            what: "number of returns (sample covariance needs at least 2)",
            value: n as f64,
        });
    }
    for &r in returns {
        finite(r, "return")?;
    }
    let uu = super::linalg::square(u, out.len())?;
    let out = &mut out[..uu];
    let nf = n as f64;
    for i in 0..u {
        let mut s = 0.0;
        for row in returns.chunks_exact(u) {
            s += row[i];
        }
        out[i * u + i] = s / nf;
    }
    let cross = |i: usize, j: usize, mi: f64, mj: f64| {
        let mut s = 0.0;
        for row in returns.chunks_exact(u) {
            s += (row[i] - mi) * (row[j] - mj);
        }
        s / (nf - 1.0)
    };
    for i in 0..u {
        for j in 0..i {
            let c = cross(i, j, out[i * u + i], out[j * u + j]);
            out[i * u + j] = c;
            out[j * u + i] = c;
        }
    }
    for i in 0..u {
        let m = out[i * u + i];
        out[i * u + i] = cross(i, i, m, m);
    }
    if out.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::Overflow {
            what: "sample covariance",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng::Xoshiro256StarStar;
    use crate::stats::sample::standard_normal;
    use std::vec::Vec;

    #[test]
    fn log_returns_by_hand() {
        // Two coins over three days.
        let closes = [100.0, 2500.0, 110.0, 2500.0, 99.0, 2000.0];
        let mut out = [9.0; 5];
        assert_eq!(log_returns(&closes, 2, &mut out), Ok(2));
        let want = [
            0.095_310_179_804_324_86,
            0.0,
            -0.105_360_515_657_826_3,
            -0.223_143_551_314_209_76,
        ];
        for (x, y) in out.iter().zip(want) {
            assert!((x - y).abs() <= 1e-16 * y.abs().max(1.0), "{x} vs {y}");
        }
        assert_eq!(out[4], 9.0);
        assert!(log_returns(&closes[..5], 2, &mut out).is_err());
        assert!(log_returns(&closes[..2], 2, &mut out).is_err());
        assert!(log_returns(&closes, 2, &mut out[..3]).is_err());
        assert!(log_returns(&closes, 0, &mut out).is_err());
        let bad = [100.0, 0.0];
        assert!(log_returns(&bad, 1, &mut out).is_err());
        let overflow = [1e-300, 1e300];
        assert!(matches!(
            log_returns(&overflow, 1, &mut out),
            Err(Error::Overflow { .. })
        ));
    }

    #[test]
    fn constant_absolute_return_gives_exactly_that_vol() {
        // |r| = 2⁻⁶: the seed 30·2⁻¹²/30 is exact, λx + (1 − λ)x = x exactly since 1 − λ is
        // exact (Sterbenz) and x is a power of two, and √2⁻¹² = 2⁻⁶.
        let r = libm::ldexp(1.0, -6);
        let returns: Vec<f64> = (0..45).map(|t| if t % 3 == 0 { -r } else { r }).collect();
        for lambda in [RISKMETRICS_LAMBDA, 0.97, 0.5] {
            let mut sig = [0.0; 45];
            let now = ewma_variance_path(&returns, 1, 0, lambda, &mut sig).unwrap();
            assert!(sig.iter().all(|&s| s == r));
            assert_eq!(now.sigma, r);
            assert_eq!(now.variance, r * r);
        }
    }

    #[test]
    fn three_updates_by_hand() {
        // Seed window of 30 returns of 0.01, then 0.02, −0.05, 0.03 (one more 0.01 first, so
        // that 31 returns precede the three). With s = σ² after the flat part (0.01² up to
        // rounding): σ²_now = λ³s + (1 − λ)(λ²a² + λb² + c²) = 2.992648e−4 exactly in reals.
        let mut returns = std::vec![0.01; 31];
        returns.extend([0.02, -0.05, 0.03]);
        let mut sig = [0.0; 34];
        let now = ewma_variance_path(&returns, 1, 0, 0.94, &mut sig).unwrap();
        // Tolerance: λ = 0.94 and the returns are not binary fractions, so a few ulps per step.
        assert!((now.variance - 2.992_648e-4).abs() < 1e-14 * 2.992_648e-4);
        assert!((now.sigma - 0.017_299_271_660_968_85).abs() < 1e-16);
        // σ_t before the three is 0.01; the next two follow the recursion.
        assert!((sig[31] - 0.01).abs() < 1e-16);
        let v32 = 0.94 * 1e-4 + (1.0 - 0.94) * 4e-4;
        assert!((sig[32] - libm::sqrt(v32)).abs() < 1e-16);
        let v33 = 0.94 * v32 + (1.0 - 0.94) * 25e-4;
        assert!((sig[33] - libm::sqrt(v33)).abs() < 1e-16);
    }

    fn random_returns(n: usize, u: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256StarStar::seed_from_u64(seed);
        (0..n * u)
            .map(|k| 0.01 * (1 + k % u) as f64 * standard_normal(&mut rng))
            .collect()
    }

    #[test]
    fn covariance_diagonal_is_the_scalar_path_bit_for_bit() {
        let (n, u) = (200, 3);
        let returns = random_returns(n, u, 11);
        let mut cov = [0.0; 9];
        ewma_covariance(&returns, u, RISKMETRICS_LAMBDA, &mut cov).unwrap();
        let mut sig = std::vec![0.0; n];
        for i in 0..u {
            let now = ewma_variance_path(&returns, u, i, RISKMETRICS_LAMBDA, &mut sig).unwrap();
            assert_eq!(cov[i * u + i], now.variance);
            for j in 0..u {
                assert_eq!(cov[i * u + j], cov[j * u + i]);
            }
        }
        // The off-diagonal follows the same recursion on r_i·r_j.
        let mut c = 0.0;
        for t in 0..EWMA_SEED_DAYS {
            c += returns[t * u] * returns[t * u + 2];
        }
        c /= EWMA_SEED_DAYS as f64;
        for t in 0..n {
            c = 0.94 * c + (1.0 - 0.94) * (returns[t * u] * returns[t * u + 2]);
        }
        assert_eq!(cov[2], c);
    }

    #[test]
    fn sample_covariance_matches_a_direct_two_pass() {
        let (n, u) = (500, 4);
        let returns = random_returns(n, u, 12);
        let mut out = [0.0; 16];
        sample_covariance(&returns, u, &mut out).unwrap();
        let means: Vec<f64> = (0..u)
            .map(|i| (0..n).map(|t| returns[t * u + i]).sum::<f64>() / n as f64)
            .collect();
        for i in 0..u {
            for j in 0..u {
                let direct = (0..n)
                    .map(|t| (returns[t * u + i] - means[i]) * (returns[t * u + j] - means[j]))
                    .sum::<f64>()
                    / (n - 1) as f64;
                assert_eq!(out[i * u + j], out[j * u + i]);
                assert!((out[i * u + j] - direct).abs() < 1e-15 * out[i * u + i].max(1e-4));
            }
        }
        assert!(sample_covariance(&returns[..4], 4, &mut out).is_err());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let returns = random_returns(31, 2, 13);
        let mut sig = [0.0; 31];
        let mut cov = [0.0; 4];
        assert!(ewma_variance_path(&returns, 2, 0, 0.94, &mut sig).is_ok());
        assert!(ewma_variance_path(&returns[..60], 2, 0, 0.94, &mut sig).is_err());
        assert!(ewma_covariance(&returns[..60], 2, 0.94, &mut cov).is_err());
        for lambda in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(ewma_variance_path(&returns, 2, 0, lambda, &mut sig).is_err());
            assert!(ewma_covariance(&returns, 2, lambda, &mut cov).is_err());
        }
        assert!(ewma_variance_path(&returns, 2, 2, 0.94, &mut sig).is_err());
        assert!(ewma_variance_path(&returns, 2, 0, 0.94, &mut sig[..30]).is_err());
        assert!(ewma_covariance(&returns, 2, 0.94, &mut cov[..3]).is_err());
        let mut nan = returns.clone();
        nan[17] = f64::NAN;
        assert!(ewma_variance_path(&nan, 2, 0, 0.94, &mut sig).is_err());
        assert!(ewma_covariance(&nan, 2, 0.94, &mut cov).is_err());
        assert!(sample_covariance(&nan, 2, &mut cov).is_err());
    }
}
