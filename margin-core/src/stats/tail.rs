//! Value-at-Risk and Expected Shortfall of `N` equally likely scenario losses.
//!
//! # Estimator
//!
//! Losses are `L_i = −P&L_i`, `i = 0..N`, each with probability `1/N`; `c ∈ (0, 1)` is the
//! confidence. The tail holds probability `1 − c`, i.e. `m` scenarios:
//!
//! ```text
//! m = N·(1 − c),   replaced by round(m) when |m − round(m)| < 1e-9   (see below)
//! k = ⌊m⌋,  count = ⌈m⌉                                              (m ≥ 1 required)
//! L_(1) ≥ L_(2) ≥ … ≥ L_(N)   ties: the lower scenario index ranks first
//! ES  = (L_(1) + … + L_(k) + (m − k)·L_(k+1)) / m
//! VaR = L_(⌈m⌉)
//! ```
//!
//! ES is the discrete Expected Shortfall of Acerbi & Tasche (2002), "On the coherence of
//! expected shortfall", J. Banking & Finance 26(7), eq. (3.3) on the empirical distribution:
//! the mean of the worst `m` scenarios, counting the `(k+1)`-th only for its fraction `m − k`.
//! It equals the Rockafellar & Uryasev (2002) minimum
//! `min_α α + Σ_i (L_i − α)⁺ / m` (J. Banking & Finance 26(7)), attained at `α = VaR`;
//! the tests check that independent route. VaR is the loss of the `⌈m⌉`-th worst
//! scenario: the smallest loss exceeded with probability at most `1 − c`.
//!
//! The rounding of `m` makes `N = 1000, c = 0.99` give `m = 10` exactly: in binary
//! floating point `1000 × (1 − 0.99) = 10.000000000000009`, which would otherwise put an
//! 11th scenario into the tail with a weight of 1e-15.
//!
//! # Tail scenarios and contributions
//!
//! [`tail`] leaves the tail scenario indices, worst first, in the caller's `order[..count]`.
//! Rank `r` (0-based) carries the ES weight [`tail_weight`]: `1/m` for `r < k`,
//! `(m − k)/m` for `r = k`, 0 after, so `ES = Σ_r weight_r · L_(r+1)`. Because a portfolio
//! loss is a sum of position losses, `L_s = Σ_p ℓ_{p,s}` (`ℓ_{p,s} = −size_p·pnl_{p,s}`),
//! ES splits into per-position Euler contributions `Σ_r weight_r · ℓ_{p,order[r]}`
//! ([`es_contributions`]), which add up to ES up to floating-point rounding (Tasche 1999,
//! "Risk contributions and performance measurement", TU München; with a fixed tail set
//! they are the partial derivatives `size_p · ∂ES/∂size_p`).
//!
//! Cost: `O(N)` expected (one `select_nth_unstable_by`), plus `O(m log m)` to order the
//! tail. Nothing allocates; the ordering is a strict total order, so the result does not
//! depend on the unstable algorithms' internals.

use crate::error::Error;
use core::cmp::Ordering;

/// Distance from a whole number within which the tail size `m` is rounded to it.
pub const M_ROUNDING: f64 = 1e-9;

/// VaR and ES of a set of equally likely losses, with the shape of the tail (module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tail {
    /// Value-at-Risk: `L_(⌈m⌉)`.
    pub var: f64,
    /// Expected Shortfall: `(L_(1) + … + L_(k) + (m − k)·L_(k+1)) / m`.
    pub es: f64,
    /// Tail size in scenarios, `N·(1 − c)` after rounding (≥ 1).
    pub m: f64,
    /// Scenarios counted in full, `⌊m⌋`.
    pub k: usize,
    /// Scenario index of the VaR loss, `order[count − 1]`.
    pub var_index: usize,
    /// Tail scenarios, `⌈m⌉`; `order[..count]` holds their indices, worst first.
    pub count: usize,
}

/// The tail size `m = N(1 − c)`, rounded to a whole number within [`M_ROUNDING`].
fn tail_mass(n: usize, confidence: f64) -> f64 {
    let m = n as f64 * (1.0 - confidence);
    let r = libm::round(m);
    if libm::fabs(m - r) < M_ROUNDING { r } else { m }
}

/// The smallest number of scenarios whose tail at `confidence` holds at least one.
fn scenarios_needed(confidence: f64) -> usize {
    let mut n = (libm::ceil(1.0 / (1.0 - confidence)) as usize).max(1);
    while n > 1 && tail_mass(n - 1, confidence) >= 1.0 {
        n -= 1;
    }
    while n < usize::MAX && tail_mass(n, confidence) < 1.0 {
        n += 1;
    }
    n
}

/// VaR and ES of `losses` at `confidence` (module docs). `order` is scratch of at least
/// `N = losses.len()` entries; on success `order[..count]` holds the tail scenario indices,
/// worst first (ties: lower index first), and the rest of `order[..N]` the other indices in
/// no particular order.
///
/// Errors: `confidence` not in `(0, 1)` ([`Error::OutOfRange`]), a non-finite loss
/// ([`Error::NonFiniteAt`] with its index), `m < 1` ([`Error::TooFewScenarios`] with the
/// number of scenarios this confidence needs), `order` shorter than `N`
/// ([`Error::Capacity`]), an ES overflowing to infinity.
pub fn tail(losses: &[f64], confidence: f64, order: &mut [usize]) -> Result<Tail, Error> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::OutOfRange {
            what: "confidence (must be in (0, 1))",
            value: confidence,
        });
    }
    let n = losses.len();
    if let Some(index) = losses.iter().position(|l| !l.is_finite()) {
        return Err(Error::NonFiniteAt {
            what: "loss",
            index,
        });
    }
    let m = tail_mass(n, confidence);
    if m < 1.0 {
        return Err(Error::TooFewScenarios {
            needed: scenarios_needed(confidence),
            available: n,
        });
    }
    if order.len() < n {
        return Err(Error::Capacity {
            needed: n,
            available: order.len(),
        });
    }
    let k = libm::floor(m) as usize;
    let count = (libm::ceil(m) as usize).min(n);
    let order = &mut order[..n];
    for (i, o) in order.iter_mut().enumerate() {
        *o = i;
    }
    // Worst first: loss descending, then index ascending. Losses are finite, so
    // `partial_cmp` never fails (and −0 equals +0, leaving the tie to the index).
    let worse_first = |a: &usize, b: &usize| {
        losses[*b]
            .partial_cmp(&losses[*a])
            .unwrap_or(Ordering::Equal)
            .then(a.cmp(b))
    };
    order.select_nth_unstable_by(count - 1, worse_first);
    order[..count].sort_unstable_by(worse_first);
    let mut sum = 0.0;
    for &i in &order[..k] {
        sum += losses[i];
    }
    if count > k {
        sum += (m - k as f64) * losses[order[k]];
    }
    let es = sum / m;
    if !es.is_finite() {
        return Err(Error::Overflow {
            what: "expected shortfall",
        });
    }
    let var_index = order[count - 1];
    Ok(Tail {
        var: losses[var_index],
        es,
        m,
        k,
        var_index,
        count,
    })
}

/// The ES weight of the tail scenario at 0-based `rank` (`order[rank]`): `1/m` for
/// `rank < k`, `(m − k)/m` for `rank = k`, 0 from `⌈m⌉` on. The weights add up to 1.
pub fn tail_weight(rank: usize, tail: &Tail) -> f64 {
    if rank < tail.k {
        1.0 / tail.m
    } else if rank == tail.k && rank < tail.count {
        (tail.m - tail.k as f64) / tail.m
    } else {
        0.0
    }
}

/// Euler contributions to ES: `out[p] = Σ_{rank < count} tail_weight(rank) ·
/// position_loss(p, order[rank])` for `p = 0..positions`, with `tail` and `order` from
/// [`tail`]. When the losses given to [`tail`] were `L_s = Σ_p position_loss(p, s)`, the
/// contributions add up to `tail.es` up to floating-point rounding (module docs).
///
/// Errors: `order` shorter than `tail.count` or `out` shorter than `positions`
/// ([`Error::Capacity`]).
pub fn es_contributions(
    tail: &Tail,
    order: &[usize],
    position_loss: impl Fn(usize, usize) -> f64,
    positions: usize,
    out: &mut [f64],
) -> Result<(), Error> {
    if order.len() < tail.count {
        return Err(Error::Capacity {
            needed: tail.count,
            available: order.len(),
        });
    }
    if out.len() < positions {
        return Err(Error::Capacity {
            needed: positions,
            available: out.len(),
        });
    }
    for (p, o) in out[..positions].iter_mut().enumerate() {
        let mut acc = 0.0;
        for (rank, &s) in order[..tail.count].iter().enumerate() {
            acc += tail_weight(rank, tail) * position_loss(p, s);
        }
        *o = acc;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
