//! Monte Carlo scenario moves: correlated normal or multivariate Student t log returns over a
//! horizon, as relative price moves.
//!
//! For scenario `i` (global index, `first_index + row`), with `L` the lower Cholesky factor of
//! the daily covariance `Σ = L·Lᵀ` of log returns and `h` the horizon in days:
//!
//! * generator: [`stream`]`(seed, i)`, so scenario `i`'s bits depend on `(seed, i)` only and
//!   any split of a run into blocks (or threads) gives identical results;
//! * draws, in this order: `z_1 … z_u` independent standard normals (one uniform each, by
//!   inversion), then for [`Dist::StudentT`] one `V ~ χ²(ν)` shared by all `u` coordinates;
//! * log returns `r = (√h·s)·(L·z)` with `s = 1` (normal) or `s = √((ν−2)/V)`; the latter is a
//!   multivariate t with `ν` degrees of freedom scaled so that `Cov r = h·Σ` (since
//!   `E[(ν−2)/V] = 1`), with tail dependence between coins that the normal lacks;
//! * relative moves `x = e^r − 1`, evaluated as `libm::expm1(r)` (exact near 0).
//!
//! `L·z` sums `l_ik·z_k` in increasing `k` (see [`super::linalg::lower_mul_vec`]); the
//! √h scaling uses one `libm::sqrt`. `h` need not be whole: it scales the covariance linearly
//! (i.i.d. daily returns, square-root-of-time).

use super::linalg::{lower_mul_in_place, square};
use super::rng::stream;
use super::sample::{check_nu, standard_normal, t_scale};
use crate::error::{Error, finite, positive};

/// The distribution of the standardised innovations `z`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Independent standard normals: `r ~ N(0, h·Σ)`.
    Normal,
    /// Multivariate Student t with `nu > 2` degrees of freedom, scaled to covariance `h·Σ`.
    StudentT {
        /// Degrees of freedom, finite and `> 2`.
        nu: f64,
    },
}

/// The parameters of a Monte Carlo run; record them with its output to reproduce it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McParams {
    /// Innovation distribution.
    pub dist: Dist,
    /// Horizon in days (finite, positive); `Σ` is per day.
    pub horizon_days: f64,
    /// Seed of the run; scenario `i` draws from `stream(seed, i)`.
    pub seed: u64,
}

/// Fills `out` (scenario-major, `count × u`, `count = out.len()/u`) with the relative price
/// moves `x = e^r − 1` of scenarios `first_index … first_index + count − 1` and returns
/// `count`. `chol_lower` is the row-major `u × u` lower Cholesky factor of the daily
/// covariance of log returns (strict upper triangle ignored).
///
/// Errors: [`Error::OutOfRange`] for `u = 0`, an `out` length that is not a multiple of `u`,
/// `ν` not finite or `≤ 2`, or scenario indexes past `u64::MAX`; [`Error::Capacity`] if
/// `chol_lower` holds fewer than `u²` entries; [`Error::NonFinite`] / [`Error::NonPositive`]
/// for a bad factor entry or horizon; [`Error::Overflow`] if a move is not finite (on error
/// `out` is partly written).
pub fn monte_carlo_moves(
    chol_lower: &[f64],
    u: usize,
    params: &McParams,
    first_index: u64,
    out: &mut [f64],
) -> Result<usize, Error> {
    fill(chol_lower, u, params, first_index, out, true)
}

/// As [`monte_carlo_moves`], but writes the log returns `r` themselves (before `e^r − 1`):
/// the same draws, so `monte_carlo_moves` equals `expm1` of this bit for bit.
pub fn monte_carlo_log_returns(
    chol_lower: &[f64],
    u: usize,
    params: &McParams,
    first_index: u64,
    out: &mut [f64],
) -> Result<usize, Error> {
    fill(chol_lower, u, params, first_index, out, false)
}

fn fill(
    chol: &[f64],
    u: usize,
    params: &McParams,
    first_index: u64,
    out: &mut [f64],
    moves: bool,
) -> Result<usize, Error> {
    if u == 0 || !out.len().is_multiple_of(u) {
        return Err(Error::OutOfRange {
            what: "scenario buffer length (not a multiple of the coin count)",
            value: out.len() as f64,
        });
    }
    square(u, chol.len())?;
    for i in 0..u {
        for j in 0..=i {
            finite(chol[i * u + j], "Cholesky factor entry")?;
        }
    }
    let sqrt_h = libm::sqrt(positive(params.horizon_days, "horizon (days)")?);
    let nu = match params.dist {
        Dist::Normal => None,
        Dist::StudentT { nu } => Some(check_nu(nu)?),
    };
    let count = out.len() / u;
    if first_index.checked_add(count as u64).is_none() {
        return Err(Error::OutOfRange {
            what: "scenario index",
            value: first_index as f64,
        });
    }
    for (row, x) in out.chunks_exact_mut(u).enumerate() {
        let mut rng = stream(params.seed, first_index + row as u64);
        for z in x.iter_mut() {
            *z = standard_normal(&mut rng);
        }
        let scale = match nu {
            None => sqrt_h,
            Some(nu) => sqrt_h * t_scale(&mut rng, nu)?,
        };
        lower_mul_in_place(chol, u, x);
        for v in x.iter_mut() {
            let r = scale * *v;
            *v = if moves { libm::expm1(r) } else { r };
            if !v.is_finite() {
                return Err(Error::Overflow {
                    what: "Monte Carlo move",
                });
            }
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::ewma::sample_covariance;
    use crate::stats::linalg::cholesky;
    use crate::stats::normal::{inverse_cdf, pdf};
    use std::vec::Vec;

    const SIGMA: [f64; 9] = [
        4e-4, 1.2e-4, -0.5e-4, //
        1.2e-4, 9e-4, 2.1e-4, //
        -0.5e-4, 2.1e-4, 2.5e-4,
    ];

    fn chol3() -> [f64; 9] {
        let mut l = SIGMA;
        cholesky(&mut l, 3).unwrap();
        l
    }

    fn params(dist: Dist, h: f64) -> McParams {
        McParams {
            dist,
            horizon_days: h,
            seed: 0x5eed,
        }
    }

    #[test]
    fn block_split_gives_identical_bits() {
        let l = chol3();
        for dist in [Dist::Normal, Dist::StudentT { nu: 4.5 }] {
            let p = params(dist, 2.5);
            let mut whole = std::vec![0.0; 1000 * 3];
            assert_eq!(monte_carlo_moves(&l, 3, &p, 0, &mut whole), Ok(1000));
            let mut parts = std::vec![0.0; 1000 * 3];
            let (a, b) = parts.split_at_mut(400 * 3);
            assert_eq!(monte_carlo_moves(&l, 3, &p, 0, a), Ok(400));
            assert_eq!(monte_carlo_moves(&l, 3, &p, 400, b), Ok(600));
            assert!(
                whole
                    .iter()
                    .zip(&parts)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            );
            let mut r = std::vec![0.0; 1000 * 3];
            monte_carlo_log_returns(&l, 3, &p, 0, &mut r).unwrap();
            assert!(r.iter().zip(&whole).all(|(r, x)| libm::expm1(*r) == *x));
        }
    }

    #[test]
    fn draws_are_the_documented_ones() {
        // L = diag(σ1, σ2): r_k = √h·s·σ_k·z_k with z from stream(seed, i) in order, then
        // (t only) one chi-square scale shared by both coordinates.
        let l = [0.5, 0.0, 0.0, 2.0];
        for dist in [Dist::Normal, Dist::StudentT { nu: 6.0 }] {
            let p = params(dist, 4.0);
            let mut out = [0.0; 2 * 5];
            monte_carlo_log_returns(&l, 2, &p, 17, &mut out).unwrap();
            for i in 0..5 {
                let mut rng = stream(p.seed, 17 + i as u64);
                let z0 = standard_normal(&mut rng);
                let z1 = standard_normal(&mut rng);
                let s = match dist {
                    Dist::Normal => 2.0,
                    Dist::StudentT { nu } => 2.0 * t_scale(&mut rng, nu).unwrap(),
                };
                assert_eq!(out[2 * i], s * (0.5 * z0));
                assert_eq!(out[2 * i + 1], s * (2.0 * z1));
            }
        }
    }

    #[test]
    fn normal_sample_covariance_matches_h_sigma() {
        // Each entry of the sample covariance of n normal vectors has standard error
        // √((Σ_ii·Σ_jj + Σ_ij²)/n) (Isserlis); allow 4 of them.
        let (n, h) = (100_000, 3.0);
        let mut r = std::vec![0.0; n * 3];
        monte_carlo_log_returns(&chol3(), 3, &params(Dist::Normal, h), 0, &mut r).unwrap();
        let mut s = [0.0; 9];
        sample_covariance(&r, 3, &mut s).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let want = h * SIGMA[i * 3 + j];
                let se = h * libm::sqrt(
                    (SIGMA[i * 4] * SIGMA[j * 4] + SIGMA[i * 3 + j] * SIGMA[i * 3 + j]) / n as f64,
                );
                let got = s[i * 3 + j];
                assert!((got - want).abs() < 4.0 * se, "({i},{j}): {got} vs {want}");
            }
        }
    }

    /// Empirical ES of the losses at level c (mean of the n(1−c) largest, n(1−c) whole) and
    /// its standard error √((Var(L | tail) + c·(ES − VaR)²)/(n(1−c))) (Chen 2008, the
    /// asymptotic variance of the tail-mean estimator; the second term is the VaR noise).
    fn es_and_se(mut losses: Vec<f64>, c: f64) -> (f64, f64) {
        let n = losses.len();
        let k = ((n as f64) * (1.0 - c)).round() as usize;
        losses.sort_by(|a, b| b.total_cmp(a));
        let tail = &losses[..k];
        let es = tail.iter().sum::<f64>() / k as f64;
        let var_tail = tail.iter().map(|x| (x - es) * (x - es)).sum::<f64>() / (k - 1) as f64;
        let var = losses[k - 1];
        let se = libm::sqrt((var_tail + c * (es - var) * (es - var)) / k as f64);
        (es, se)
    }

    #[test]
    fn normal_es_of_a_linear_position() {
        // One coin, σ = 2 %/day, h = 1, loss = −r: ES_c = σ·φ(z_c)/(1 − c).
        let (n, c, sigma) = (100_000, 0.99, 0.02);
        let mut r = std::vec![0.0; n];
        monte_carlo_log_returns(&[sigma], 1, &params(Dist::Normal, 1.0), 0, &mut r).unwrap();
        let (es, se) = es_and_se(r.iter().map(|x| -x).collect(), c);
        let zc = inverse_cdf(c).unwrap();
        let want = sigma * pdf(zc).unwrap() / (1.0 - c);
        assert!((es - want).abs() < 3.0 * se, "ES {es} vs {want} (se {se})");
    }

    /// Student t₅ CDF in closed form: θ = atan(t/√5), F = ½ + (θ + sinθcosθ(1 + ⅔cos²θ))/π.
    fn t5_cdf(t: f64) -> f64 {
        let th = libm::atan(t / libm::sqrt(5.0));
        let (s, c) = (libm::sin(th), libm::cos(th));
        0.5 + (th + s * c * (1.0 + 2.0 / 3.0 * c * c)) / core::f64::consts::PI
    }

    #[test]
    fn student_t_es_of_a_linear_position() {
        // ν = 5, σ = 2 %/day, h = 4 (√h = 2 exactly). For a unit-variance t,
        // ES_c = √((ν−2)/ν)·(g(t_c)/(1 − c))·(ν + t_c²)/(ν − 1), g the t₅ density
        // 8/(3π√5)·(1 + t²/5)⁻³ and t_c its c-quantile (3.36493 at 0.99), found by bisection.
        let (n, c, sigma, nu) = (100_000, 0.99, 0.02, 5.0);
        let mut r = std::vec![0.0; n];
        let p = params(Dist::StudentT { nu }, 4.0);
        monte_carlo_log_returns(&[sigma], 1, &p, 0, &mut r).unwrap();
        let (es, se) = es_and_se(r.iter().map(|x| -x).collect(), c);
        let (mut lo, mut hi) = (0.0, 10.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if t5_cdf(mid) < c { lo = mid } else { hi = mid }
        }
        let tc = 0.5 * (lo + hi);
        assert!((tc - 3.364_929_998_907_218_6).abs() < 1e-12);
        let g = 8.0
            / (3.0 * core::f64::consts::PI * libm::sqrt(5.0))
            / libm::pow(1.0 + tc * tc / 5.0, 3.0);
        let unit = libm::sqrt((nu - 2.0) / nu) * (g / (1.0 - c)) * (nu + tc * tc) / (nu - 1.0);
        let want = 2.0 * sigma * unit;
        assert!((es - want).abs() < 3.0 * se, "ES {es} vs {want} (se {se})");
        // And it is fatter than the normal ES at the same variance.
        let zc = inverse_cdf(c).unwrap();
        assert!(want > 2.0 * sigma * pdf(zc).unwrap() / (1.0 - c));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let l = chol3();
        let p = params(Dist::Normal, 1.0);
        let mut out = [0.0; 6];
        assert!(monte_carlo_moves(&l, 0, &p, 0, &mut out).is_err());
        assert!(monte_carlo_moves(&l, 3, &p, 0, &mut out[..5]).is_err());
        assert!(monte_carlo_moves(&l[..8], 3, &p, 0, &mut out).is_err());
        assert!(monte_carlo_moves(&l, 3, &p, u64::MAX, &mut out).is_err());
        for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(monte_carlo_moves(&l, 3, &params(Dist::Normal, h), 0, &mut out).is_err());
        }
        for nu in [2.0, 1.0, f64::NAN, f64::INFINITY] {
            let p = params(Dist::StudentT { nu }, 1.0);
            assert!(monte_carlo_moves(&l, 3, &p, 0, &mut out).is_err());
        }
        let mut bad = l;
        bad[4] = f64::NAN;
        assert!(monte_carlo_moves(&bad, 3, &p, 0, &mut out).is_err());
        // A daily vol of 1000 (log units) overflows e^r on some scenario: an error, not inf.
        let mut big = std::vec![0.0; 1000];
        assert!(matches!(
            monte_carlo_moves(&[1000.0], 1, &p, 0, &mut big),
            Err(Error::Overflow { .. })
        ));
        assert_eq!(monte_carlo_moves(&l, 3, &p, 0, &mut []), Ok(0));
    }
}
