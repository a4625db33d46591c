//! Batch Black-76: one option revalued over a block of scenarios, in a branch-free loop over
//! structure-of-arrays inputs that compiles to packed SIMD (used by the statistical path,
//! where each option is revalued under 10⁴–10⁶ joint scenarios).
//!
//! For one option (right, strike `K`, rate `r`, years `T` left after the scenario's time step,
//! linear or inverse), scenario `j` with forward `F_j` and vol `σ_j` is worth
//! `D·(F_j·N(d1) − K·N(d2))` (call) or `D·(K·N(−d2) − F_j·N(−d1))` (put), floored at 0, with
//! `D = e^(−rT)`, `d1 = ln(F_j/K)/(σ_j√T) + σ_j√T/2`, `d2 = d1 − σ_j√T`, and divided by `F_j`
//! when inverse; `√T` and `D` are computed once per option (and `σ√T` once when the vol is
//! constant), `ln(F_j/K)` per scenario. At or after expiry (`T ≤ 0`) the value is intrinsic.
//!
//! Accuracy: **the same bits as [`super::value`]** for every input it accepts. `ln`, `e^x` and
//! `erfc` are branch-free ports of the fdlibm algorithms `libm` uses (`fdlibm.rs`: every range
//! computed, the right one selected), doing the same IEEE-754 operations in the same order, and
//! the Black-76 arithmetic is [`super::Black76Term::price`] operation for operation. IEEE-754
//! `+ − × ÷` are correctly rounded at any vector width and Rust never contracts to FMA, so the
//! bits are the same on every machine and at every SIMD width. The error against the exact
//! Black-76 value is therefore that of the `libm` route (each transcendental below 1 ulp;
//! the price subtraction `F·N(d1) − K·N(d2)` loses what its cancellation loses). Established
//! by `tests/kernel.rs`: bit equality with `pricing::value` over 2,000,000 random options
//! (forwards 0.2×–5× strike, vols 0.05–3, 1 hour to 3 years, calls and puts, linear and
//! inverse) and a sweep of the erfc/exp range boundaries.
//!
//! Lanes outside the kernel's domain (a forward or vol that is not positive and finite,
//! `F/K` not a normal number, a non-finite price) are recomputed through the scalar `libm`
//! route, which returns its value or its error, so the kernel never disagrees with
//! [`super::value`], errors included.

use super::fdlibm;
use super::{Black76Term, intrinsic};
use crate::error::{Error, finite, positive};
use crate::instrument::{Instrument, Kind, Right, Settlement};
use core::f64::consts::FRAC_1_SQRT_2;

/// The vols of a batch: one per scenario, or one for all (the scalar fast path).
#[derive(Debug, Clone, Copy)]
pub enum Vols<'a> {
    /// The same vol in every scenario.
    Constant(f64),
    /// `vols[j]` for scenario `j`.
    Each(&'a [f64]),
}

/// One option's terms for a block of scenarios: right, strike, rate, the time left after the
/// scenario's time step, and the settlement; `√T` and `e^(−rT)` computed once.
#[derive(Debug, Clone, Copy)]
pub struct OptionBatch {
    right: Right,
    strike: f64,
    inverse: bool,
    /// `None` at or after expiry: intrinsic values.
    term: Option<Black76Term>,
    sqrt_t: f64,
}

impl OptionBatch {
    /// For an option `instrument` (anything else is [`Error::OutOfRange`]), a finite `rate`
    /// and the finite years `time` left in the scenarios (≤ 0: expired, intrinsic value).
    pub fn new(instrument: &Instrument, rate: f64, time: f64) -> Result<OptionBatch, Error> {
        let Kind::Option { strike, right, .. } = instrument.kind else {
            return Err(Error::OutOfRange {
                what: "instrument kind (expected an option)",
                value: 0.0,
            });
        };
        let strike = positive(strike, "strike")?;
        let rate = finite(rate, "rate")?;
        let time = finite(time, "time to expiry")?;
        let term = (time > 0.0).then(|| Black76Term::new(strike, time, rate));
        Ok(OptionBatch {
            right,
            strike,
            inverse: instrument.settlement == Settlement::Inverse,
            sqrt_t: term.map_or(0.0, |t| t.sqrt_t),
            term,
        })
    }

    /// Writes the value of one unit in the settlement currency at `forwards[j]` and vol `j`
    /// into `out[j]`, for `j < forwards.len()`: the same bits as [`super::value`] at
    /// (`forwards[j]`, vol `j`, this batch's time and rate). Errors as [`super::value`] does
    /// for the first scenario it rejects (a forward or vol that is not positive, a non-finite
    /// price), or [`Error::Capacity`] when `out` or the vols are shorter than `forwards`. One
    /// difference: an inverse value that overflows (`K/F` with `F` near 10⁻³⁰⁸) is
    /// [`Error::Overflow`] here, where [`super::value`] returns ∞ and leaves the caller to
    /// reject it.
    pub fn values(&self, forwards: &[f64], vols: Vols<'_>, out: &mut [f64]) -> Result<(), Error> {
        let n = forwards.len();
        let short = match vols {
            Vols::Each(v) => out.len().min(v.len()),
            Vols::Constant(_) => out.len(),
        };
        if short < n {
            return Err(Error::Capacity {
                needed: n,
                available: short,
            });
        }
        let out = &mut out[..n];
        let Some(term) = self.term else {
            for (o, &f) in out.iter_mut().zip(forwards) {
                let f = positive(f, "forward")?;
                let usd = intrinsic(self.right, f, self.strike);
                *o = finite_value(if self.inverse { usd / f } else { usd })?;
            }
            return Ok(());
        };
        let k = Lane {
            strike: self.strike,
            sqrt_t: self.sqrt_t,
            df: term.df,
            inverse: self.inverse,
        };
        match (self.right, vols) {
            (Right::Call, Vols::Constant(v)) => run::<true>(&k, forwards, &Const(v), out),
            (Right::Put, Vols::Constant(v)) => run::<false>(&k, forwards, &Const(v), out),
            (Right::Call, Vols::Each(v)) => run::<true>(&k, forwards, &&v[..n], out),
            (Right::Put, Vols::Each(v)) => run::<false>(&k, forwards, &&v[..n], out),
        }
        // One pass to find lanes outside the domain (marked NaN), then the scalar route for
        // them, in scenario order, so errors and values are exactly those of `super::value`.
        let mut clean = true;
        for &x in out.iter() {
            clean &= x.is_finite();
        }
        if !clean {
            for (j, o) in out.iter_mut().enumerate() {
                if !o.is_finite() {
                    let vol = match vols {
                        Vols::Constant(v) => v,
                        Vols::Each(v) => v[j],
                    };
                    *o = self.scalar(&term, forwards[j], vol)?;
                }
            }
        }
        Ok(())
    }

    /// The `libm` route: [`super::OptionRevaluer::value`]'s checks and operations.
    fn scalar(&self, term: &Black76Term, forward: f64, vol: f64) -> Result<f64, Error> {
        let forward = positive(forward, "forward")?;
        let vol = positive(vol, "implied volatility")?;
        let usd = term.price(self.right, forward, libm::log(forward / self.strike), vol)?;
        finite_value(if self.inverse { usd / forward } else { usd })
    }
}

fn finite_value(value: f64) -> Result<f64, Error> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::Overflow {
            what: "option value",
        })
    }
}

/// Per-option constants of the lane loop.
struct Lane {
    strike: f64,
    sqrt_t: f64,
    df: f64,
    inverse: bool,
}

/// The vol of lane `j`: a slice, or one constant (hoisted out of the loop).
trait VolSource {
    fn at(&self, j: usize) -> f64;
}

struct Const(f64);

impl VolSource for Const {
    #[inline(always)]
    fn at(&self, _: usize) -> f64 {
        self.0
    }
}

impl VolSource for &[f64] {
    #[inline(always)]
    fn at(&self, j: usize) -> f64 {
        self[j]
    }
}

/// The loop the compiler vectorises: no branches that depend on the data, only selects.
#[inline(always)]
fn run<const CALL: bool>(k: &Lane, forwards: &[f64], vols: &impl VolSource, out: &mut [f64]) {
    let out = &mut out[..forwards.len()];
    for (j, (o, &f)) in out.iter_mut().zip(forwards).enumerate() {
        *o = lane::<CALL>(k, f, vols.at(j));
    }
}

/// `N(x) = erfc(−x/√2)/2`, as [`super::norm_cdf`].
#[inline(always)]
fn norm_cdf(x: f64) -> f64 {
    0.5 * fdlibm::erfc(-x * FRAC_1_SQRT_2)
}

/// One scenario's value: [`Black76Term::price`] and the inverse conversion, operation for
/// operation; NaN when an input is outside the domain (the caller then takes the scalar route).
#[inline(always)]
fn lane<const CALL: bool>(k: &Lane, forward: f64, vol: f64) -> f64 {
    let ratio = forward / k.strike;
    let ln_fk = fdlibm::log(ratio);
    let sd = vol * k.sqrt_t;
    let d1 = ln_fk / sd + 0.5 * sd;
    let d2 = d1 - sd;
    let undiscounted = if CALL {
        forward * norm_cdf(d1) - k.strike * norm_cdf(d2)
    } else {
        k.strike * norm_cdf(-d2) - forward * norm_cdf(-d1)
    };
    // `max(0)` of the reference, keeping a NaN a NaN.
    let undiscounted = if undiscounted < 0.0 {
        0.0
    } else {
        undiscounted
    };
    let usd = k.df * undiscounted;
    let value = if k.inverse { usd / forward } else { usd };
    // ratio ≥ 2^−1022 and finite (so forward > 0 and the log port applies), vol > 0 finite.
    let inside = (f64::MIN_POSITIVE..=f64::MAX).contains(&ratio) && vol > 0.0 && vol <= f64::MAX;
    if inside { value } else { f64::NAN }
}
