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
//! Accuracy ([`OptionBatch::values`]): **the same bits as [`super::value`]** for every input
//! it accepts. ([`OptionBatch::values_moved`], the statistical path's, takes `ln(F_j/K)` from
//! a shared log-growth instead: deterministic, within 1e-11 of max(|value|, 1e-8·F) of
//! [`super::value`] in USD over a million random options, measured maximum 7.2e-12.) `ln`, `e^x` and
//! `erfc` are branch-free ports of the fdlibm algorithms `libm` uses (`fdlibm.rs`: every range
//! computed, the right one selected), doing the same IEEE-754 operations in the same order, and
//! the Black-76 arithmetic is `Black76Term::price` operation for operation. IEEE-754
//! `+ − × ÷` are correctly rounded at any vector width and Rust never contracts to FMA, so the
//! bits are the same on every machine and at every SIMD width. The error against the exact
//! Black-76 value is therefore that of the `libm` route (each transcendental below 1 ulp;
//! the price subtraction `F·N(d1) − K·N(d2)` loses what its cancellation loses). Established
//! by `tests/kernel.rs`: bit equality with `pricing::value` over 2,000,000 random options
//! (forwards 0.2×–5× strike, vols 0.05–3, 1 hour to 3 years, calls and puts, linear and
//! inverse; 452,848 of them below 10⁻⁸ of the forward and 117,482 exactly 0: maximum
//! difference 0, and every value within `[D·intrinsic, D·F]` or `[.., D·K]`), bit equality
//! of `exp`, `log` and `erfc` with `libm` on their range boundaries and millions of random
//! arguments (unit tests of `fdlibm.rs`), and bit equality of the AVX2 and SSE2 loops.
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
        self.values_with(Logs::Computed, forwards, vols, out)
    }

    /// [`Self::values`] for forwards that move together: `forwards[j] = F·g_j` with
    /// `growth[j] = ln g_j` and `ln_ratio = ln(F/K)`, so `ln(F_j/K)` is taken as
    /// `ln_ratio + growth[j]` instead of a logarithm per option and scenario (`growth` is
    /// shared by every option on the same underlying). Deterministic (the same bits on every
    /// machine and SIMD width), but not the bits of [`super::value`]: `ln(F/K) + ln g` and
    /// `ln(F·g/K)` differ in their last bits. `tests/kernel.rs` bounds the difference over
    /// 1,000,000 random options: within 1e-11 of max(|value|, 1e-8·F) in USD (measured
    /// maximum 7.2e-12, on short-dated far out-of-the-money options where `F·N(d1) − K·N(d2)`
    /// cancels; 77 % of the values have the bits). Lanes outside the domain (a non-finite `ln(F_j/K)`, a forward
    /// or vol that is not positive and finite, a non-finite price) take the scalar `libm`
    /// route, whose values and errors are those of [`super::value`].
    pub fn values_moved(
        &self,
        ln_ratio: f64,
        growth: &[f64],
        forwards: &[f64],
        vols: Vols<'_>,
        out: &mut [f64],
    ) -> Result<(), Error> {
        if growth.len() < forwards.len() || !ln_ratio.is_finite() || self.term.is_none() {
            return self.values(forwards, vols, out);
        }
        self.values_with(Logs::Moved(ln_ratio, growth), forwards, vols, out)
    }

    fn values_with(
        &self,
        logs: Logs<'_>,
        forwards: &[f64],
        vols: Vols<'_>,
        out: &mut [f64],
    ) -> Result<(), Error> {
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
        dispatch(self.right, &k, logs, forwards, vols, out);
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

/// Where `ln(F_j/K)` comes from: a logarithm per lane (the bits of [`super::value`]), or a
/// per-option `ln(F/K)` plus the lane's shared log-growth.
#[derive(Clone, Copy)]
enum Logs<'a> {
    Computed,
    Moved(f64, &'a [f64]),
}

/// `ln(F_j/K)` of lane `j` and whether the lane is inside the kernel's domain.
trait LogSource {
    /// The statistical path's shortcuts (not the bits of [`super::value`]): `d1` through one
    /// reciprocal of `σ√T` (hoisted when the vol is constant), and erfc's tail as
    /// [`fdlibm::erfc_tail_fast`].
    const FAST: bool;
    fn at(&self, k: &Lane, j: usize, forward: f64) -> (f64, bool);
}

struct Computed;

impl LogSource for Computed {
    const FAST: bool = false;
    #[inline(always)]
    fn at(&self, k: &Lane, _: usize, forward: f64) -> (f64, bool) {
        let ratio = forward / k.strike;
        // ratio ≥ 2^−1022 and finite (so forward > 0 and the log port applies).
        (
            fdlibm::log(ratio),
            (f64::MIN_POSITIVE..=f64::MAX).contains(&ratio),
        )
    }
}

struct Moved<'a>(f64, &'a [f64]);

impl LogSource for Moved<'_> {
    const FAST: bool = true;
    #[inline(always)]
    fn at(&self, _: &Lane, j: usize, forward: f64) -> (f64, bool) {
        let ln = self.0 + self.1[j];
        // A finite log and a positive finite forward.
        let inside = ln.is_finite() && forward > 0.0 && forward <= f64::MAX;
        (ln, inside)
    }
}

/// The eight loops (call or put, one vol or many, logs computed or given), portable: SSE2 on
/// x86-64.
#[inline(always)]
fn all_loops(
    right: Right,
    k: &Lane,
    logs: Logs<'_>,
    forwards: &[f64],
    vols: Vols<'_>,
    out: &mut [f64],
) {
    match logs {
        Logs::Computed => vol_loops(right, k, &Computed, forwards, vols, out),
        Logs::Moved(l, g) => {
            let g = &g[..forwards.len()];
            vol_loops(right, k, &Moved(l, g), forwards, vols, out)
        }
    }
}

#[inline(always)]
fn vol_loops(
    right: Right,
    k: &Lane,
    logs: &impl LogSource,
    forwards: &[f64],
    vols: Vols<'_>,
    out: &mut [f64],
) {
    let n = forwards.len();
    match (right, vols) {
        (Right::Call, Vols::Constant(v)) => run::<true, _>(k, logs, forwards, &Const(v), out),
        (Right::Put, Vols::Constant(v)) => run::<false, _>(k, logs, forwards, &Const(v), out),
        (Right::Call, Vols::Each(v)) => run::<true, _>(k, logs, forwards, &&v[..n], out),
        (Right::Put, Vols::Each(v)) => run::<false, _>(k, logs, forwards, &&v[..n], out),
    }
}

fn portable(
    right: Right,
    k: &Lane,
    logs: Logs<'_>,
    forwards: &[f64],
    vols: Vols<'_>,
    out: &mut [f64],
) {
    all_loops(right, k, logs, forwards, vols, out)
}

/// The same loops compiled for AVX2 (4 lanes, three-operand instructions). Not FMA: Rust never
/// contracts `a * b + c`, and FMA is not enabled, so every operation rounds as in the
/// portable loop and the bits are the same (tested).
///
/// # Safety
/// Only on a CPU with AVX2.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2")]
unsafe fn avx2(
    right: Right,
    k: &Lane,
    logs: Logs<'_>,
    forwards: &[f64],
    vols: Vols<'_>,
    out: &mut [f64],
) {
    all_loops(right, k, logs, forwards, vols, out)
}

/// AVX2 when the CPU has it (runtime detection needs `std`), else the portable loops.
fn dispatch(
    right: Right,
    k: &Lane,
    logs: Logs<'_>,
    forwards: &[f64],
    vols: Vols<'_>,
    out: &mut [f64],
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU reports AVX2.
        unsafe { avx2(right, k, logs, forwards, vols, out) };
        return;
    }
    portable(right, k, logs, forwards, vols, out)
}

/// Scenarios per pass: the intermediate arrays of one chunk live on the stack.
const W: usize = 64;

/// The packed tail arguments are padded to a multiple of this (any vector width × unroll).
const PAD: usize = 16;

/// The value loop, in passes over a chunk of `W` scenarios, each a loop the compiler
/// vectorises (only selects, no data-dependent branches): `d1, d2` and the erfc arguments;
/// erfc outside its tail for all of them; for the arguments in the tail (`1.25 ≤ |x| < 28`,
/// gathered into a packed array), the rational quotient and first exponential, then the
/// second exponential; the price. The tail costs five divisions and two exponentials, the
/// rest one division, so computing it only where it applies is most of the speed; and one
/// loop doing all of it is bound by its latency chain (an iteration is longer than the
/// CPU's reorder window), where short passes let consecutive scenarios overlap. Every
/// intermediate is stored as an `f64`, so the operations, and the bits, are those of one
/// lane doing it all.
#[inline(always)]
fn run<const CALL: bool, L: LogSource>(
    k: &Lane,
    logs: &L,
    forwards: &[f64],
    vols: &impl VolSource,
    out: &mut [f64],
) {
    let out = &mut out[..forwards.len()];
    // Zeroed once per call, not per pass (only the first `m` or `tails` entries are read).
    let (mut f_buf, mut a_buf, mut e_buf) = ([0.0; W], [0.0; 2 * W], [0.0; 2 * W]);
    let (mut at_buf, mut slot, mut flag_buf) = ([0.0; 2 * W + PAD], [0usize; 2 * W], [0u64; 2 * W]);
    let (mut y_buf, mut e1x_buf) = ([0.0; 2 * W + PAD], [0.0; 2 * W + PAD]);
    for (c, (fw, o)) in forwards.chunks(W).zip(out.chunks_mut(W)).enumerate() {
        let m = fw.len();
        let (f, a) = (&mut f_buf[..m], &mut a_buf[..2 * m]);
        let (a1, a2) = a.split_at_mut(m);
        for (j, ((fj, a1), a2)) in f.iter_mut().zip(a1).zip(a2).enumerate() {
            let (ln_fk, inside) = logs.at(k, c * W + j, fw[j]);
            (*fj, *a1, *a2) = arguments::<CALL, L>(k, fw[j], ln_fk, inside, vols.at(c * W + j));
        }
        // erfc outside the tail for every argument; the tail ones are then gathered,
        // computed in two passes and scattered back.
        let e = &mut e_buf[..2 * m];
        let (at, mut tails) = (&mut at_buf, 0);
        let flag = &mut flag_buf[..2 * m];
        for ((e, t), &x) in e.iter_mut().zip(flag.iter_mut()).zip(a.iter()) {
            *e = fdlibm::erfc_near(x);
            *t = fdlibm::is_tail(x) as u64;
        }
        // A separate loop: the compaction is scalar, the loop above vectorises (the tail test
        // too).
        for (i, (&x, &t)) in a.iter().zip(flag.iter()).enumerate() {
            at[tails] = x;
            slot[tails] = i;
            tails += t as usize;
        }
        // Padded with a harmless tail argument to a whole number of vectors, so no tail
        // argument falls to the compiler's scalar remainder loop (slow: latency-bound).
        let padded = tails.div_ceil(PAD) * PAD;
        at[tails..padded].fill(2.0);
        let (at, y, e1x) = (&at[..padded], &mut y_buf[..padded], &mut e1x_buf[..padded]);
        if L::FAST {
            for (&x, y) in at.iter().zip(y.iter_mut()) {
                *y = fdlibm::erfc_tail_fast_exponent(x);
            }
            for (k, e1x) in e1x.iter_mut().enumerate() {
                *e1x = fdlibm::erfc_tail_fast_finish(at[k], y[k]);
            }
        } else {
            for ((&x, y), e1x) in at.iter().zip(y.iter_mut()).zip(e1x.iter_mut()) {
                (*y, *e1x) = fdlibm::erfc_tail_quotient(x);
            }
            for (k, e1x) in e1x.iter_mut().enumerate() {
                *e1x = fdlibm::erfc_tail_finish(at[k], y[k], *e1x);
            }
        }
        for (&i, &t) in slot[..tails].iter().zip(e1x.iter()) {
            e[i] = t;
        }
        let (e1, e2) = e.split_at(m);
        for (((o, &fj), &e1), &e2) in o.iter_mut().zip(f.iter()).zip(e1).zip(e2) {
            *o = price::<CALL>(k, fj, e1, e2);
        }
    }
}

/// Pass 1 of scenario (`forward`, `vol`): the forward (NaN when an input is outside the
/// domain, so the value is NaN and the caller takes the scalar route), and the erfc arguments
/// `−x/√2` of [`super::norm_cdf`] at `x = d1, d2` (call) or `−d1, −d2` (put), as
/// [`Black76Term::price`] computes them.
#[inline(always)]
fn arguments<const CALL: bool, L: LogSource>(
    k: &Lane,
    forward: f64,
    ln_fk: f64,
    inside: bool,
    vol: f64,
) -> (f64, f64, f64) {
    let sd = vol * k.sqrt_t;
    let d1 = if L::FAST {
        ln_fk * (1.0 / sd) + 0.5 * sd
    } else {
        ln_fk / sd + 0.5 * sd
    };
    let d2 = d1 - sd;
    let (x1, x2) = if CALL { (d1, d2) } else { (-d1, -d2) };
    // The log's domain (`inside`), vol > 0 finite.
    let inside = inside && vol > 0.0 && vol <= f64::MAX;
    (
        if inside { forward } else { f64::NAN },
        -x1 * FRAC_1_SQRT_2,
        -x2 * FRAC_1_SQRT_2,
    )
}

/// Pass 4: from `erfc` at the two arguments, [`Black76Term::price`]'s last steps
/// (`N = erfc/2`, the call or put combination, `max(0)`, the discount) and the inverse
/// conversion.
#[inline(always)]
fn price<const CALL: bool>(k: &Lane, forward: f64, e1: f64, e2: f64) -> f64 {
    let (n1, n2) = (0.5 * e1, 0.5 * e2);
    let undiscounted = if CALL {
        forward * n1 - k.strike * n2
    } else {
        k.strike * n2 - forward * n1
    };
    // `max(0)` of the reference, keeping a NaN a NaN.
    let undiscounted = if undiscounted < 0.0 {
        0.0
    } else {
        undiscounted
    };
    let usd = k.df * undiscounted;
    if k.inverse { usd / forward } else { usd }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime-selected loops (AVX2 on a CPU that has it) give the bits of the portable
    /// SSE2 loops: calls and puts, one vol and many, lengths that leave remainders.
    #[test]
    fn every_simd_width_gives_the_same_bits() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut unit = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..2_000 {
            let strike = 100.0 * libm::exp(4.0 * unit() - 2.0);
            let k = Lane {
                strike,
                sqrt_t: libm::sqrt(3.0 * unit() + 1e-4),
                df: libm::exp(-0.05 * unit()),
                inverse: case % 2 == 0,
            };
            let n = 1 + case % 37;
            let forwards: Vec<f64> = (0..n).map(|_| strike * (0.2 + 4.8 * unit())).collect();
            let vols: Vec<f64> = (0..n).map(|_| 0.05 + 3.0 * unit()).collect();
            let right = if case % 3 == 0 {
                Right::Put
            } else {
                Right::Call
            };
            for v in [Vols::Each(&vols), Vols::Constant(vols[0])] {
                let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
                portable(right, &k, Logs::Computed, &forwards, v, &mut a);
                dispatch(right, &k, Logs::Computed, &forwards, v, &mut b);
                assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
                let ln0 = libm::log(forwards[0] / strike);
                let g: Vec<f64> = forwards
                    .iter()
                    .map(|f| libm::log(f / forwards[0]))
                    .collect();
                portable(right, &k, Logs::Moved(ln0, &g), &forwards, v, &mut a);
                dispatch(right, &k, Logs::Moved(ln0, &g), &forwards, v, &mut b);
                assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
            }
        }
    }
}
