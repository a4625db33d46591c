//! Samplers: standard normal, gamma / chi-square and unit-variance Student t draws from a
//! [`Xoshiro256StarStar`] stream.
//!
//! * **Normal** by inversion, `Z = Φ⁻¹(U)` with `U` from
//!   [`next_f64`](Xoshiro256StarStar::next_f64) (AS 241, see [`super::normal`]): exactly one
//!   uniform per draw, so a scenario consumes a fixed count, and `|Z| < 8.3` because
//!   `U ∈ [2⁻⁵³, 1 − 2⁻⁵³]`.
//! * **Gamma(a, 1)** by Marsaglia & Tsang, "A simple method for generating gamma variables",
//!   ACM TOMS 26(3), 2000: with `d = a − ⅓`, `c = 1/√(9d)`, draw `Z` (redrawn until
//!   `v = 1 + cZ > 0`), `v ← v³`, `U`; accept `d·v` when `U < 1 − 0.0331·Z⁴` (squeeze) or
//!   `ln U < Z²/2 + d(1 − v + ln v)`; otherwise start again. Acceptance is above 95 % per try,
//!   so the number of uniforms varies; each scenario has its own stream, so this never shifts
//!   another scenario's draws. For `a < 1` the boost of the same paper:
//!   `Gamma(a) = Gamma(a + 1)·U^{1/a}` (the gamma draw first, then `U`).
//! * **Chi-square(k)** `= 2·Gamma(k/2)`.
//! * **Student t scaled to unit variance**: `T = Z/√(V/ν)·√((ν−2)/ν) = Z·√((ν−2)/V)` with
//!   `Z` normal drawn first, then `V ~ χ²(ν)`; `Var T = (ν−2)·E[1/V] = 1` for `ν > 2`.

use super::normal::ppnd16;
use super::rng::Xoshiro256StarStar;
use crate::error::Error;

/// A standard normal draw `Φ⁻¹(U)` from exactly one uniform of `rng`.
pub fn standard_normal(rng: &mut Xoshiro256StarStar) -> f64 {
    // `next_f64` lies in (0, 1), the domain of `ppnd16`.
    ppnd16(rng.next_f64())
}

/// A Gamma(`shape`, 1) draw (mean and variance `shape`) by Marsaglia–Tsang (2000), with the
/// `U^{1/a}` boost for `shape < 1`. `shape` must be finite and positive. For very small shapes
/// the result may underflow to 0, as the distribution itself puts its mass there.
pub fn gamma(rng: &mut Xoshiro256StarStar, shape: f64) -> Result<f64, Error> {
    crate::error::positive(shape, "gamma shape")?;
    if shape < 1.0 {
        let g = marsaglia_tsang(rng, shape + 1.0);
        let u = rng.next_f64();
        return Ok(g * libm::pow(u, 1.0 / shape));
    }
    Ok(marsaglia_tsang(rng, shape))
}

/// Marsaglia–Tsang for `a ≥ 1`: always returns a finite positive value.
fn marsaglia_tsang(rng: &mut Xoshiro256StarStar, a: f64) -> f64 {
    let d = a - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let (z, mut v) = loop {
            let z = standard_normal(rng);
            let v = 1.0 + c * z;
            if v > 0.0 {
                break (z, v);
            }
        };
        v = v * v * v;
        let u = rng.next_f64();
        let z2 = z * z;
        if u < 1.0 - 0.0331 * (z2 * z2) {
            return d * v;
        }
        if libm::log(u) < 0.5 * z2 + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

/// A chi-square draw with `k` degrees of freedom, `2·Gamma(k/2)`. `k` finite and positive.
pub fn chi_square(rng: &mut Xoshiro256StarStar, k: f64) -> Result<f64, Error> {
    crate::error::positive(k, "chi-square degrees of freedom")?;
    Ok(2.0 * gamma(rng, 0.5 * k)?)
}

/// Checks that `nu` is a usable Student t degrees of freedom: finite and above 2 (so the
/// variance exists).
pub(crate) fn check_nu(nu: f64) -> Result<f64, Error> {
    if nu.is_finite() && nu > 2.0 {
        Ok(nu)
    } else {
        Err(Error::OutOfRange {
            what: "Student t degrees of freedom (must be finite and > 2)",
            value: nu,
        })
    }
}

/// The factor `√((ν−2)/V)` that turns standard normals into unit-variance t draws, from one
/// chi-square draw `V ~ χ²(ν)`; `nu` already checked.
pub(crate) fn t_scale(rng: &mut Xoshiro256StarStar, nu: f64) -> Result<f64, Error> {
    let v = 2.0 * marsaglia_tsang(rng, 0.5 * nu);
    let s = libm::sqrt((nu - 2.0) / v);
    if s.is_finite() {
        Ok(s)
    } else {
        Err(Error::Overflow {
            what: "Student t scale",
        })
    }
}

/// A Student t draw with `nu` degrees of freedom scaled to unit variance:
/// `Z·√((ν−2)/V)`, `Z` normal first, then `V ~ χ²(ν)`. `nu` must be finite and `> 2`.
pub fn student_t_unit_variance(rng: &mut Xoshiro256StarStar, nu: f64) -> Result<f64, Error> {
    let nu = check_nu(nu)?;
    let z = standard_normal(rng);
    Ok(z * t_scale(rng, nu)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::normal::inverse_cdf;

    const N: usize = 200_000;

    /// Sample mean and unbiased sample variance.
    fn moments(xs: impl Iterator<Item = f64>) -> (f64, f64) {
        let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
        for x in xs {
            // Welford.
            n += 1.0;
            let d = x - mean;
            mean += d / n;
            m2 += d * (x - mean);
        }
        (mean, m2 / (n - 1.0))
    }

    /// Mean and variance within 4 standard errors: SE(mean) = √(σ²/n), SE(s²) =
    /// √((μ₄ − σ⁴)/n) = σ²·√((κ − 1)/n) with κ the kurtosis.
    fn check_moments(draws: &[f64], mean: f64, var: f64, kurtosis: f64) {
        let n = draws.len() as f64;
        let (m, v) = moments(draws.iter().copied());
        let se_m = libm::sqrt(var / n);
        let se_v = var * libm::sqrt((kurtosis - 1.0) / n);
        assert!(
            (m - mean).abs() < 4.0 * se_m,
            "mean {m} vs {mean} (se {se_m})"
        );
        assert!((v - var).abs() < 4.0 * se_v, "var {v} vs {var} (se {se_v})");
    }

    #[test]
    fn a_normal_draw_uses_exactly_one_uniform() {
        let mut a = Xoshiro256StarStar::seed_from_u64(5);
        let mut b = a;
        let z = standard_normal(&mut a);
        assert_eq!(z, inverse_cdf(b.next_f64()).unwrap());
        assert_eq!(a, b);
    }

    #[test]
    fn normal_moments_and_quantiles() {
        // Normal: κ = 3, so SE(s²) = √(2σ⁴/n).
        let mut rng = Xoshiro256StarStar::seed_from_u64(1);
        let draws: std::vec::Vec<f64> = (0..N).map(|_| standard_normal(&mut rng)).collect();
        check_moments(&draws, 0.0, 1.0, 3.0);
        // Empirical CDF at a few quantiles: the count below q_p is Binomial(n, p), so the
        // fraction is within 4·√(p(1−p)/n) of p.
        for p in [0.01, 0.1, 0.5, 0.9, 0.99] {
            let q = inverse_cdf(p).unwrap();
            let frac = draws.iter().filter(|&&x| x <= q).count() as f64 / N as f64;
            let se = libm::sqrt(p * (1.0 - p) / N as f64);
            assert!((frac - p).abs() < 4.0 * se, "p={p}: {frac}");
        }
    }

    #[test]
    fn gamma_moments() {
        // Gamma(a, 1): mean a, variance a, μ₄ = 3a² + 6a so κ = 3 + 6/a.
        for (seed, a) in [(2, 0.3), (3, 1.0), (4, 2.5), (5, 30.0)] {
            let mut rng = Xoshiro256StarStar::seed_from_u64(seed);
            let draws: std::vec::Vec<f64> = (0..N).map(|_| gamma(&mut rng, a).unwrap()).collect();
            assert!(draws.iter().all(|&x| x.is_finite() && x >= 0.0));
            check_moments(&draws, a, a, 3.0 + 6.0 / a);
        }
        let mut rng = Xoshiro256StarStar::seed_from_u64(6);
        let draws: std::vec::Vec<f64> =
            (0..N).map(|_| chi_square(&mut rng, 5.0).unwrap()).collect();
        // χ²(k): mean k, variance 2k, κ = 3 + 12/k.
        check_moments(&draws, 5.0, 10.0, 3.0 + 12.0 / 5.0);
    }

    #[test]
    fn unit_variance_t_moments() {
        // ν = 10: κ = 3 + 6/(ν − 4) = 4, and the 8th moment exists so s² is well behaved.
        let mut rng = Xoshiro256StarStar::seed_from_u64(7);
        let draws: std::vec::Vec<f64> = (0..N)
            .map(|_| student_t_unit_variance(&mut rng, 10.0).unwrap())
            .collect();
        check_moments(&draws, 0.0, 1.0, 4.0);
    }

    /// CDF of Student t with 5 degrees of freedom in closed form: with θ = atan(t/√5),
    /// F(t) = ½ + (θ + sinθ·cosθ·(1 + ⅔cos²θ))/π.
    pub(crate) fn t5_cdf(t: f64) -> f64 {
        let th = libm::atan(t / libm::sqrt(5.0));
        let (s, c) = (libm::sin(th), libm::cos(th));
        0.5 + (th + s * c * (1.0 + 2.0 / 3.0 * c * c)) / core::f64::consts::PI
    }

    #[test]
    fn unit_variance_t_quantiles() {
        // ν = 5: T·√(5/3) is standard t₅, so P(T ≤ y) = F₅(y·√(5/3)); binomial bound as above.
        let mut rng = Xoshiro256StarStar::seed_from_u64(8);
        let draws: std::vec::Vec<f64> = (0..N)
            .map(|_| student_t_unit_variance(&mut rng, 5.0).unwrap())
            .collect();
        let (m, _) = moments(draws.iter().copied());
        assert!(m.abs() < 4.0 / libm::sqrt(N as f64));
        for y in [-3.0, -1.5, -0.5, 0.0, 0.7, 2.0, 4.0] {
            let p = t5_cdf(y * libm::sqrt(5.0 / 3.0));
            let frac = draws.iter().filter(|&&x| x <= y).count() as f64 / N as f64;
            let se = libm::sqrt(p * (1.0 - p) / N as f64);
            assert!((frac - p).abs() < 4.0 * se, "y={y}: {frac} vs {p}");
        }
        // The closed form against the t₅ 0.99 quantile 3.3649299989072186 (mpmath, 40 digits;
        // tables print 3.36493).
        assert!((t5_cdf(3.364_929_998_907_218_6) - 0.99).abs() < 1e-14);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let mut rng = Xoshiro256StarStar::seed_from_u64(9);
        for a in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(gamma(&mut rng, a).is_err());
            assert!(chi_square(&mut rng, a).is_err());
        }
        for nu in [2.0, 1.5, f64::NAN, f64::INFINITY, -3.0] {
            assert!(student_t_unit_variance(&mut rng, nu).is_err());
        }
    }
}
