//! Rounding a relaxed solution to whole lots without ever doing worse than not trading.
//!
//! Each trade `x_j` has two lot neighbours, `⌊x_j/lot⌋·lot` and `⌈x_j/lot⌉·lot` (those inside
//! the candidate's bounds). The candidates evaluated, with the caller's objective (the core's
//! margin plus cost at those sizes), are: every combination of neighbours when there are at
//! most [`MAX_COMBINATIONS`]; otherwise the nearest and the toward-zero roundings; and always
//! **zero**. The lowest objective wins (first on ties). Zero is feasible and its objective is
//! the unhedged margin, so the result's margin plus cost never exceeds the unhedged margin:
//! the guarantee is by construction, not by a property of the relaxation.
//!
//! For one hedge and a convex objective (every objective here), the integer optimum is one
//! of the two neighbours of the continuous optimum, so the rounding is exact.

use super::{Candidate, OptError, cost};

/// Most neighbour combinations enumerated (2^8).
pub const MAX_COMBINATIONS: usize = 256;

/// Checks a lot size: finite and > 0.
pub fn check_lot(lot: f64) -> Result<(), OptError> {
    if lot.is_finite() && lot > 0.0 {
        Ok(())
    } else {
        Err(OptError::Input {
            field: format!("lot {lot}"),
            expected: "a finite size > 0".into(),
        })
    }
}

/// The lot neighbours of `x` inside `[c.lo, c.hi]`, lower first (one when `x` is on a lot).
fn neighbours(x: f64, c: &Candidate, lot: f64) -> Vec<f64> {
    let q = x / lot;
    let near = q.round();
    let (down, up) = if (q - near).abs() < 1e-9 {
        (near, near)
    } else {
        (q.floor(), q.ceil())
    };
    let mut out = Vec::new();
    for k in [down, up] {
        let v = k * lot;
        if v >= c.lo - 1e-12 && v <= c.hi + 1e-12 && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// `x` rounded to lots (module docs): the candidate sizes with the lowest `objective`, which
/// is at most `objective(0)`. Candidates over `budget` are skipped.
pub fn round(
    x: &[f64],
    candidates: &[Candidate],
    lot: f64,
    budget: Option<f64>,
    mut objective: impl FnMut(&[f64]) -> Result<f64, OptError>,
) -> Result<(Vec<f64>, f64), OptError> {
    check_lot(lot)?;
    let options: Vec<Vec<f64>> = x
        .iter()
        .zip(candidates)
        .map(|(&x, c)| neighbours(x, c, lot))
        .collect();
    let mut trials: Vec<Vec<f64>> = vec![vec![0.0; x.len()]];
    let combos = options
        .iter()
        .try_fold(1usize, |n, o| n.checked_mul(o.len().max(1)));
    match combos {
        Some(n) if n <= MAX_COMBINATIONS => {
            for k in 0..n {
                let mut rest = k;
                let mut t = Vec::with_capacity(x.len());
                for o in &options {
                    let m = o.len().max(1);
                    t.push(o.get(rest % m).copied().unwrap_or(0.0));
                    rest /= m;
                }
                trials.push(t);
            }
        }
        _ => {
            let pick = |f: fn(f64, &[f64]) -> f64| -> Vec<f64> {
                x.iter()
                    .zip(&options)
                    .map(|(&x, o)| if o.is_empty() { 0.0 } else { f(x, o) })
                    .collect()
            };
            trials.push(pick(|x, o| {
                *o.iter()
                    .min_by(|a, b| (*a - x).abs().total_cmp(&(*b - x).abs()))
                    .unwrap_or(&0.0)
            }));
            trials.push(pick(|_, o| {
                *o.iter()
                    .min_by(|a, b| a.abs().total_cmp(&b.abs()))
                    .unwrap_or(&0.0)
            }));
        }
    }
    let mut best: Option<(Vec<f64>, f64)> = None;
    for t in trials {
        if budget.is_some_and(|b| cost(candidates, &t) > b) {
            continue;
        }
        let v = objective(&t)?;
        if best.as_ref().is_none_or(|(_, b)| v < *b) {
            best = Some((t, v));
        }
    }
    best.ok_or(OptError::Numerical("no lot candidate"))
}
