//! Historical-simulation moves: h-day relative price changes of every coin, taken jointly on
//! the same dates so that the moves keep the coins' historical dependence.
//!
//! # Input
//!
//! `closes` is a date-major table of daily closes `P_{t,c}`, `t = 0..=M` (oldest first, one
//! row per calendar day), `c = 0..U`: entry `t·U + c`. Every close must be finite and
//! strictly positive. `horizon` is `h ≥ 1` days.
//!
//! # Windows
//!
//! A window `(s, e)` is a pair of close indices with `e = s + h`.
//!
//! * Overlapping: every window `[i, i + h]`, `i = 0..=M − h`, so `N = M − h + 1`.
//! * Non-overlapping: windows anchored at the newest close, `[M − h, M]`, `[M − 2h, M − h]`,
//!   … while the start is ≥ 0, so `N = ⌊M / h⌋`; the oldest `M mod h` closes are unused.
//!
//! Either way windows are written oldest first (increasing `s`). See [`window_count`].
//!
//! # Historical simulation (HS)
//!
//! The move of coin `c` in window `(s, e)` is `P_{e,c} / P_{s,c} − 1` ([`hs_moves`]).
//!
//! # Filtered historical simulation (FHS)
//!
//! Hull & White (1998), "Incorporating volatility updating into the historical simulation
//! method for value at risk", J. Risk 1(1); Barone-Adesi, Giannopoulos & Vosper (1999), J.
//! Futures Markets 19(5). Each coin's daily log returns `r_t = ln(P_t / P_{t−1})`,
//! `t = 1..=M`, are rescaled to today's volatility with a zero-mean RiskMetrics EWMA
//! (J.P. Morgan/Reuters, *RiskMetrics — Technical Document*, 4th ed. 1996, §5.2):
//!
//! ```text
//! σ²_1     = (r²_1 + … + r²_30) / 30                      (seed: the first 30 returns)
//! σ²_{t+1} = λ·σ²_t + (1 − λ)·r²_t,   t = 1..=M
//! σ_{M+1}  = "now": the forecast for the day after the last close (out_sigma_now)
//! r*_t     = r_t · (σ_{M+1} / σ_t)                         (σ_t is applied to r_t)
//! ```
//!
//! `σ_t` is built from returns before `t` only, except while the seed is still inside it:
//! `σ_1 … σ_30` depend on the seed, which contains `r_1 … r_30` themselves. Returns
//! `1..=30` ([`FHS_SEED_RETURNS`]) are therefore never filtered; the first filtered return is
//! `r_31`, whose `σ_31` uses `r_1 … r_30` only. A window `(s, e)` uses the returns
//! `s + 1 ..= e`, so FHS keeps exactly the windows with `s ≥ 30`: the HS windows of the
//! shorter history `P_30 … P_M` (re-indexed into the full table). Its move is
//! `exp(r*_{s+1} + … + r*_e) − 1`, computed as `expm1` of the sum taken in date order.
//! See [`fhs_window_count`].
//!
//! Nothing here allocates; all transcendental functions are `libm`'s.

use crate::error::Error;

/// Daily log returns that seed the FHS variance (`σ²_1` is the mean of their squares); they
/// are never filtered themselves (see the module docs).
pub const FHS_SEED_RETURNS: usize = 30;

/// Windows of `horizon` days whose start is at least `base`, over `closes_len` closes:
/// `(count, start of the oldest window, step between starts)`.
fn layout(
    closes_len: usize,
    base: usize,
    horizon: usize,
    overlapping: bool,
) -> (usize, usize, usize) {
    let span = closes_len.saturating_sub(1 + base); // M − base, or 0 when there is no close
    if horizon == 0 || closes_len <= base || span < horizon {
        return (0, base, 1);
    }
    if overlapping {
        (span - horizon + 1, base, 1)
    } else {
        let n = span / horizon;
        (n, closes_len - 1 - n * horizon, horizon)
    }
}

/// Number of HS windows over `closes_len = M + 1` closes: `M − h + 1` overlapping,
/// `⌊M / h⌋` non-overlapping; 0 when `h = 0` or `h > M` (see the module docs).
pub fn window_count(closes_len: usize, horizon: usize, overlapping: bool) -> usize {
    layout(closes_len, 0, horizon, overlapping).0
}

/// Number of FHS windows over `closes_len` closes: [`window_count`] of the history without
/// its first [`FHS_SEED_RETURNS`] closes, i.e. `M − 30 − h + 1` overlapping or
/// `⌊(M − 30) / h⌋` non-overlapping (0 when that is not positive).
pub fn fhs_window_count(closes_len: usize, horizon: usize, overlapping: bool) -> usize {
    layout(closes_len, FHS_SEED_RETURNS, horizon, overlapping).0
}

/// Checks the table shape and every close; returns the number of dates `T`.
fn check_closes(closes: &[f64], u: usize) -> Result<usize, Error> {
    if u == 0 || !closes.len().is_multiple_of(u) {
        return Err(Error::OutOfRange {
            what: "coin count (must be positive and divide the number of closes)",
            value: u as f64,
        });
    }
    for (index, &p) in closes.iter().enumerate() {
        if !p.is_finite() {
            return Err(Error::NonFiniteAt {
                what: "close",
                index,
            });
        }
        if p <= 0.0 {
            return Err(Error::NonPositiveAt {
                what: "close",
                index,
                value: p,
            });
        }
    }
    Ok(closes.len() / u)
}

/// Validates the request and writes the windows; returns `(count, first start, step)`.
#[allow(clippy::too_many_arguments)]
fn prepare(
    closes: &[f64],
    u: usize,
    horizon: usize,
    overlapping: bool,
    base: usize,
    too_short: &'static str,
    out_moves: &[f64],
    out_windows: &mut [(usize, usize)],
) -> Result<(usize, usize, usize), Error> {
    let dates = check_closes(closes, u)?;
    let (n, first, step) = layout(dates, base, horizon, overlapping);
    if n == 0 {
        return Err(Error::OutOfRange {
            what: too_short,
            value: horizon as f64,
        });
    }
    if out_moves.len() < n * u {
        return Err(Error::Capacity {
            needed: n * u,
            available: out_moves.len(),
        });
    }
    if out_windows.len() < n {
        return Err(Error::Capacity {
            needed: n,
            available: out_windows.len(),
        });
    }
    for (j, w) in out_windows[..n].iter_mut().enumerate() {
        let s = first + j * step;
        *w = (s, s + horizon);
    }
    Ok((n, first, step))
}

/// Historical-simulation moves (module docs): for each window `j` (oldest first) and coin
/// `c`, `out_moves[j·U + c] = P_{e,c} / P_{s,c} − 1` and `out_windows[j] = (s, e)`.
/// Returns the number of windows `N` ([`window_count`]); entries past `N` are untouched.
///
/// Errors: `u = 0` or not dividing `closes.len()`, a non-finite or non-positive close (its
/// flat index), no window fits (`h = 0` or `h > M`), `out_moves` shorter than `N·U` or
/// `out_windows` shorter than `N`, a ratio overflowing to infinity.
pub fn hs_moves(
    closes: &[f64],
    u: usize,
    horizon: usize,
    overlapping: bool,
    out_moves: &mut [f64],
    out_windows: &mut [(usize, usize)],
) -> Result<usize, Error> {
    let (n, _, _) = prepare(
        closes,
        u,
        horizon,
        overlapping,
        0,
        "horizon in days (must be at least 1, with at least horizon + 1 closes)",
        out_moves,
        out_windows,
    )?;
    for (j, &(s, e)) in out_windows[..n].iter().enumerate() {
        for c in 0..u {
            let m = closes[e * u + c] / closes[s * u + c] - 1.0;
            if !m.is_finite() {
                return Err(Error::Overflow {
                    what: "historical move",
                });
            }
            out_moves[j * u + c] = m;
        }
    }
    Ok(n)
}

/// One RiskMetrics step: `σ²_{t+1} = λ·σ²_t + (1 − λ)·r²_t`.
fn ewma_step(var: f64, r: f64, lambda: f64) -> f64 {
    lambda * var + (1.0 - lambda) * r * r
}

/// Filtered historical-simulation moves (module docs): the windows `(s, e)` with `s ≥ 30`,
/// oldest first, in `out_windows`; `out_moves[j·U + c] = exp(Σ_{t=s+1..=e} r*_{t,c}) − 1`;
/// `out_sigma_now[c] = σ_{M+1,c}`, today's daily log-return volatility of coin `c`.
/// Returns the number of windows ([`fhs_window_count`]).
///
/// Errors: those of [`hs_moves`] (with "no window fits" meaning fewer than `31 + h` closes),
/// `lambda` not in `(0, 1)`, `out_sigma_now` shorter than `U`, an EWMA volatility of zero
/// (a history flat up to a filtered return, which cannot be rescaled), a non-finite log
/// return or move.
#[allow(clippy::too_many_arguments)]
pub fn fhs_moves(
    closes: &[f64],
    u: usize,
    horizon: usize,
    overlapping: bool,
    lambda: f64,
    out_moves: &mut [f64],
    out_windows: &mut [(usize, usize)],
    out_sigma_now: &mut [f64],
) -> Result<usize, Error> {
    if !(lambda > 0.0 && lambda < 1.0) {
        return Err(Error::OutOfRange {
            what: "EWMA decay lambda (must be in (0, 1))",
            value: lambda,
        });
    }
    let (n, first, step) = prepare(
        closes,
        u,
        horizon,
        overlapping,
        FHS_SEED_RETURNS,
        "horizon in days (must be at least 1; FHS needs 31 + horizon closes, 30 returns seed the variance)",
        out_moves,
        out_windows,
    )?;
    if out_sigma_now.len() < u {
        return Err(Error::Capacity {
            needed: u,
            available: out_sigma_now.len(),
        });
    }
    let last = closes.len() / u - 1; // M
    for c in 0..u {
        let ret = |t: usize| -> Result<f64, Error> {
            let r = libm::log(closes[t * u + c] / closes[(t - 1) * u + c]);
            if r.is_finite() {
                Ok(r)
            } else {
                Err(Error::Overflow {
                    what: "daily log return",
                })
            }
        };
        let mut seed = 0.0;
        for t in 1..=FHS_SEED_RETURNS {
            let r = ret(t)?;
            seed += r * r;
        }
        let seed = seed / FHS_SEED_RETURNS as f64;
        // First pass: σ²_{M+1}.
        let mut var = seed;
        for t in 1..=last {
            var = ewma_step(var, ret(t)?, lambda);
        }
        let sigma_now = libm::sqrt(var);
        out_sigma_now[c] = sigma_now;
        for j in 0..n {
            out_moves[j * u + c] = 0.0;
        }
        // Second pass: `var` is σ²_t when return t is filtered, then steps to σ²_{t+1}.
        // Returns t ≤ first (⊇ the seed returns, since first ≥ 30) belong to no window.
        let mut var = seed;
        for t in 1..=last {
            let r = ret(t)?;
            if t > first {
                let sigma = libm::sqrt(var);
                if sigma <= 0.0 {
                    return Err(Error::NonPositive {
                        what: "EWMA volatility before a filtered return",
                        value: sigma,
                    });
                }
                let filtered = r * (sigma_now / sigma);
                // Windows j holding return t: t − h ≤ first + j·step ≤ t − 1.
                let lo = (t.saturating_sub(horizon).saturating_sub(first)).div_ceil(step);
                let hi = ((t - 1 - first) / step).min(n - 1);
                for j in lo..=hi {
                    out_moves[j * u + c] += filtered;
                }
            }
            var = ewma_step(var, r, lambda);
        }
        for j in 0..n {
            let m = libm::expm1(out_moves[j * u + c]);
            if !m.is_finite() {
                return Err(Error::Overflow {
                    what: "filtered historical move",
                });
            }
            out_moves[j * u + c] = m;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests;
