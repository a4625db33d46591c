//! Small dense linear algebra on caller-provided row-major `n × n` slices: Cholesky
//! factorisation, the lower-triangular product `L·z`, and a correlation-stress blend.
//!
//! **Cholesky** (Cholesky–Banachiewicz, row by row; Golub & Van Loan, *Matrix Computations*,
//! 4th ed., Alg. 4.2.1): for `A = L·Lᵀ` symmetric positive definite,
//! `l_ij = (a_ij − Σ_{k<j} l_ik·l_jk) / l_jj` for `j < i` and
//! `l_ii = √(a_ii − Σ_{k<i} l_ik²)`, each sum in increasing `k`, so the result is the same bits
//! everywhere. Only the lower triangle of `A` is read. A pivot `a_ii − Σ l_ik²` that is not
//! above `n·ε·a_ii` (or is not finite) means `A` is not numerically positive definite: a
//! singular matrix typically leaves a pivot of a few ulps of either sign, and accepting it
//! would put rounding noise, magnified by `1/l_ii`, into every later row. That is an
//! [`Error::NotPositiveDefinite`] naming the row.

use crate::error::Error;

/// `n²` if `slice_len` holds it, else [`Error::Capacity`].
pub(crate) fn square(n: usize, slice_len: usize) -> Result<usize, Error> {
    let needed = n.checked_mul(n).ok_or(Error::Capacity {
        needed: usize::MAX,
        available: slice_len,
    })?;
    if slice_len < needed {
        return Err(Error::Capacity {
            needed,
            available: slice_len,
        });
    }
    Ok(needed)
}

/// Factorises the symmetric positive definite `a` (row-major `n × n`, the first `n²` entries of
/// the slice; only its lower triangle is read) in place into its lower Cholesky factor `L`,
/// `A = L·Lᵀ`, and zeroes the strict upper triangle.
///
/// Errors: [`Error::Capacity`] if the slice holds fewer than `n²` entries,
/// [`Error::NonFinite`] for a NaN or infinite entry of the lower triangle,
/// [`Error::NotPositiveDefinite`] with the row whose pivot is `≤ n·ε·a_ii` or not finite. On
/// error `a` is partly overwritten.
pub fn cholesky(a: &mut [f64], n: usize) -> Result<(), Error> {
    square(n, a.len())?;
    for i in 0..n {
        for j in 0..=i {
            crate::error::finite(a[i * n + j], "matrix entry")?;
        }
    }
    let tol_scale = n as f64 * f64::EPSILON;
    for i in 0..n {
        for j in 0..i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            let l = s / a[j * n + j];
            if !l.is_finite() {
                return Err(Error::NotPositiveDefinite { index: i });
            }
            a[i * n + j] = l;
        }
        let diag = a[i * n + i];
        let mut s = diag;
        for k in 0..i {
            s -= a[i * n + k] * a[i * n + k];
        }
        if !(s.is_finite() && s > tol_scale * diag.max(0.0) && s > 0.0) {
            return Err(Error::NotPositiveDefinite { index: i });
        }
        a[i * n + i] = libm::sqrt(s);
        for j in i + 1..n {
            a[i * n + j] = 0.0;
        }
    }
    Ok(())
}

/// `out = L·z` for the lower-triangular `l` (row-major `n × n`, strict upper triangle ignored):
/// `out_i = Σ_{k≤i} l_ik·z_k`, summed in increasing `k`. Errors: [`Error::Capacity`] when a
/// slice is too short, [`Error::Overflow`] when a result is not finite.
pub fn lower_mul_vec(l: &[f64], n: usize, z: &[f64], out: &mut [f64]) -> Result<(), Error> {
    square(n, l.len())?;
    for len in [z.len(), out.len()] {
        if len < n {
            return Err(Error::Capacity {
                needed: n,
                available: len,
            });
        }
    }
    for i in 0..n {
        let row = &l[i * n..i * n + i + 1];
        let mut s = 0.0;
        for (lik, zk) in row.iter().zip(z) {
            s += lik * zk;
        }
        out[i] = s;
    }
    if out[..n].iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::Overflow { what: "L·z" })
    }
}

/// `x ← L·x` in place, with the same summation order as [`lower_mul_vec`] (row `i` only needs
/// `x_0..x_i`, so rows are done from the last up). Lengths are the caller's responsibility.
pub(crate) fn lower_mul_in_place(l: &[f64], n: usize, x: &mut [f64]) {
    for i in (0..n).rev() {
        let mut s = 0.0;
        for k in 0..=i {
            s += l[i * n + k] * x[k];
        }
        x[i] = s;
    }
}

/// The correlation a covariance is pulled towards by [`blend_correlation`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CorrelationTarget<'a> {
    /// Every off-diagonal correlation equal to `ρ` (`ρ = 1`: everything moves together). The
    /// matrix is positive semi-definite for `−1/(n−1) ≤ ρ ≤ 1`, singular at both ends.
    Uniform(f64),
    /// A full row-major `n × n` correlation matrix; only its strict lower triangle is read (the
    /// diagonal is 1 by definition). It should be positive semi-definite.
    Matrix(&'a [f64]),
}

/// Correlation stress: `out = D·((1 − w)·C + w·T)·D`, where `C = D⁻¹·cov·D⁻¹` is the correlation
/// of `cov`, `D = diag(σ_i)`, `σ_i = √cov_ii`, and `T` the target. Volatilities are unchanged
/// (`out_ii = cov_ii` exactly); off-diagonals are `((1 − w)·c_ij + w·t_ij)·σ_i·σ_j`, computed
/// from the lower triangle and mirrored, so `out` is exactly symmetric. `w = 0` copies `cov`
/// (lower triangle mirrored) bit for bit.
///
/// Positive definiteness: for `C` positive definite, `T` positive semi-definite and `w < 1`,
/// `(1 − w)·C + w·T` is positive definite (a positive definite matrix plus a semi-definite
/// one). At `w = 1` the result is `T` itself, and the all-ones target (`Uniform(1.0)`) is
/// rank one: [`cholesky`] rejects it. We do not add a ridge here, since that would silently change
/// the stress; callers wanting "everything moves together" should use `w < 1` (e.g. 0.99).
///
/// Errors: [`Error::Capacity`] for short slices, [`Error::OutOfRange`] for `w ∉ [0, 1]` or a
/// target correlation outside `[−1, 1]` (or NaN), [`Error::NonPositive`] for a variance
/// `cov_ii ≤ 0`, [`Error::NonFinite`] for a non-finite entry.
pub fn blend_correlation(
    cov: &[f64],
    n: usize,
    target: CorrelationTarget<'_>,
    weight: f64,
    out: &mut [f64],
) -> Result<(), Error> {
    square(n, cov.len())?;
    square(n, out.len())?;
    if !(0.0..=1.0).contains(&weight) {
        return Err(Error::OutOfRange {
            what: "correlation blend weight (must lie in [0, 1])",
            value: weight,
        });
    }
    let check_corr = |t: f64| {
        if (-1.0..=1.0).contains(&t) {
            Ok(t)
        } else {
            Err(Error::OutOfRange {
                what: "target correlation (must lie in [-1, 1])",
                value: t,
            })
        }
    };
    match target {
        CorrelationTarget::Uniform(rho) => {
            check_corr(rho)?;
        }
        CorrelationTarget::Matrix(t) => {
            square(n, t.len())?;
            for i in 0..n {
                for j in 0..i {
                    check_corr(t[i * n + j])?;
                }
            }
        }
    }
    for i in 0..n {
        crate::error::positive(cov[i * n + i], "variance (covariance diagonal)")?;
        for j in 0..i {
            crate::error::finite(cov[i * n + j], "covariance entry")?;
        }
    }
    for i in 0..n {
        out[i * n + i] = cov[i * n + i];
        let si = libm::sqrt(cov[i * n + i]);
        for j in 0..i {
            let v = if weight == 0.0 {
                cov[i * n + j]
            } else {
                let sisj = si * libm::sqrt(cov[j * n + j]);
                let c = cov[i * n + j] / sisj;
                let t = match target {
                    CorrelationTarget::Uniform(rho) => rho,
                    CorrelationTarget::Matrix(t) => t[i * n + j],
                };
                ((1.0 - weight) * c + weight * t) * sisj
            };
            out[i * n + j] = v;
            out[j * n + i] = v;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// `L·Lᵀ` of a lower factor, computed directly.
    fn reconstruct(l: &[f64], n: usize) -> Vec<f64> {
        let mut a = std::vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
            }
        }
        a
    }

    #[test]
    fn textbook_factor_is_exact() {
        // A = [[4, 12, −16], [12, 37, −43], [−16, −43, 98]] = L·Lᵀ with
        // L = [[2, 0, 0], [6, 1, 0], [−8, 5, 3]] (the standard worked example).
        let mut a = [4.0, 12.0, -16.0, 12.0, 37.0, -43.0, -16.0, -43.0, 98.0];
        cholesky(&mut a, 3).unwrap();
        assert_eq!(a, [2.0, 0.0, 0.0, 6.0, 1.0, 0.0, -8.0, 5.0, 3.0]);
    }

    #[test]
    fn reconstructs_an_spd_matrix() {
        // A = B·Bᵀ + I for a fixed B: symmetric positive definite, entries of order 1–10.
        let n = 5;
        let b: Vec<f64> = (0..n * n)
            .map(|k| libm::sin(1.0 + k as f64 * 0.7) * 2.0)
            .collect();
        let mut a = reconstruct(&b, n);
        // `reconstruct` uses all of b, so a = B·Bᵀ; add the identity.
        for i in 0..n {
            a[i * n + i] += 1.0;
        }
        let mut l = a.clone();
        // Garbage in the upper triangle is ignored and zeroed.
        for i in 0..n {
            for j in i + 1..n {
                l[i * n + j] = 1e300;
            }
        }
        cholesky(&mut l, n).unwrap();
        for i in 0..n {
            for j in i + 1..n {
                assert_eq!(l[i * n + j], 0.0);
            }
        }
        let back = reconstruct(&l, n);
        let scale = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for (x, y) in back.iter().zip(&a) {
            assert!((x - y).abs() <= 1e-14 * scale, "{x} vs {y}");
        }
    }

    #[test]
    fn two_by_two_closed_form() {
        // Σ = [[σ1², ρσ1σ2], [ρσ1σ2, σ2²]] has L = [[σ1, 0], [ρσ2, σ2·√(1 − ρ²)]].
        let (s1, s2, rho) = (0.6, 0.8, 0.3);
        let mut a = [s1 * s1, rho * s1 * s2, rho * s1 * s2, s2 * s2];
        cholesky(&mut a, 2).unwrap();
        let want = [s1, 0.0, rho * s2, s2 * libm::sqrt(1.0 - rho * rho)];
        for (x, y) in a.iter().zip(want) {
            assert!((x - y).abs() < 1e-15, "{x} vs {y}");
        }
    }

    #[test]
    fn singular_and_indefinite_matrices_are_errors() {
        let mut ones = [1.0; 9];
        assert_eq!(
            cholesky(&mut ones, 3),
            Err(Error::NotPositiveDefinite { index: 1 })
        );
        let mut indefinite = [1.0, 2.0, 2.0, 1.0];
        assert_eq!(
            cholesky(&mut indefinite, 2),
            Err(Error::NotPositiveDefinite { index: 1 })
        );
        let mut negative = [-1.0, 0.0, 0.0, 1.0];
        assert_eq!(
            cholesky(&mut negative, 2),
            Err(Error::NotPositiveDefinite { index: 0 })
        );
        // Rank one with inexact vols: the last pivot is rounding noise, not accepted.
        let v = [0.37, 0.55, 0.81];
        let mut rank1: Vec<f64> = (0..9).map(|k| v[k / 3] * v[k % 3]).collect();
        assert!(matches!(
            cholesky(&mut rank1, 3),
            Err(Error::NotPositiveDefinite { .. })
        ));
        let mut nan = [1.0, 0.0, f64::NAN, 1.0];
        assert!(matches!(
            cholesky(&mut nan, 2),
            Err(Error::NonFinite { .. })
        ));
        let mut short = [1.0; 3];
        assert!(matches!(
            cholesky(&mut short, 2),
            Err(Error::Capacity { needed: 4, .. })
        ));
        let mut empty: [f64; 0] = [];
        assert_eq!(cholesky(&mut empty, 0), Ok(()));
    }

    #[test]
    fn lower_product_in_both_forms() {
        let l = [2.0, 99.0, 0.0, 6.0, 1.0, 99.0, -8.0, 5.0, 3.0];
        let z = [1.0, -2.0, 0.5];
        let mut out = [0.0; 3];
        lower_mul_vec(&l, 3, &z, &mut out).unwrap();
        assert_eq!(out, [2.0, 4.0, -16.5]);
        let mut x = z;
        lower_mul_in_place(&l, 3, &mut x);
        assert_eq!(x, out);
        assert!(lower_mul_vec(&l, 3, &z[..2], &mut out).is_err());
        let big = [1e308, 0.0, 1e308, 1e308];
        assert!(matches!(
            lower_mul_vec(&big, 2, &[10.0, 10.0], &mut out),
            Err(Error::Overflow { .. })
        ));
    }

    #[test]
    fn blend_keeps_vols_and_moves_correlations() {
        let (s1, s2, s3) = (0.5, 0.7, 0.9);
        let s = [s1, s2, s3];
        let c = [1.0, 0.2, -0.1, 0.2, 1.0, 0.4, -0.1, 0.4, 1.0];
        let cov: Vec<f64> = (0..9).map(|k| c[k] * s[k / 3] * s[k % 3]).collect();
        let mut out = [0.0; 9];
        blend_correlation(&cov, 3, CorrelationTarget::Uniform(1.0), 0.0, &mut out).unwrap();
        assert_eq!(&out[..], &cov[..]);
        blend_correlation(&cov, 3, CorrelationTarget::Uniform(1.0), 0.5, &mut out).unwrap();
        for i in 0..3 {
            assert_eq!(out[i * 3 + i], cov[i * 3 + i]);
            for j in 0..3 {
                assert_eq!(out[i * 3 + j], out[j * 3 + i]);
                if i != j {
                    let rho = out[i * 3 + j] / (s[i] * s[j]);
                    let want = 0.5 * c[i * 3 + j] + 0.5;
                    assert!((rho - want).abs() < 1e-15, "{rho} vs {want}");
                }
            }
        }
        let t = [1.0, -0.3, 0.0, -0.3, 1.0, 0.6, 0.0, 0.6, 1.0];
        blend_correlation(&cov, 3, CorrelationTarget::Matrix(&t), 1.0, &mut out).unwrap();
        assert!((out[3] / (s1 * s2) + 0.3).abs() < 1e-15);
    }

    #[test]
    fn all_ones_at_full_weight_is_singular_but_just_below_is_not() {
        let s = [0.5, 0.7, 0.9];
        let cov: Vec<f64> = (0..9)
            .map(|k| {
                if k / 3 == k % 3 {
                    s[k / 3] * s[k / 3]
                } else {
                    0.1 * s[k / 3] * s[k % 3]
                }
            })
            .collect();
        let mut out = [0.0; 9];
        blend_correlation(&cov, 3, CorrelationTarget::Uniform(1.0), 1.0, &mut out).unwrap();
        assert!(matches!(
            cholesky(&mut out, 3),
            Err(Error::NotPositiveDefinite { .. })
        ));
        blend_correlation(&cov, 3, CorrelationTarget::Uniform(1.0), 0.99, &mut out).unwrap();
        assert_eq!(cholesky(&mut out, 3), Ok(()));
    }

    #[test]
    fn blend_rejects_bad_inputs() {
        let cov = [1.0, 0.0, 0.0, 1.0];
        let mut out = [0.0; 4];
        let ones = CorrelationTarget::Uniform(1.0);
        for w in [-0.1, 1.1, f64::NAN] {
            assert!(blend_correlation(&cov, 2, ones, w, &mut out).is_err());
        }
        assert!(
            blend_correlation(&cov, 2, CorrelationTarget::Uniform(1.5), 0.5, &mut out).is_err()
        );
        let bad_t = [1.0, 0.0, f64::NAN, 1.0];
        assert!(
            blend_correlation(&cov, 2, CorrelationTarget::Matrix(&bad_t), 0.5, &mut out).is_err()
        );
        let zero_var = [0.0, 0.0, 0.0, 1.0];
        assert!(matches!(
            blend_correlation(&zero_var, 2, ones, 0.5, &mut out),
            Err(Error::NonPositive { .. })
        ));
        assert!(blend_correlation(&cov, 2, ones, 0.5, &mut out[..3]).is_err());
    }
}
