//! Black-76 on the expiry forward, and the value of every instrument in its settlement
//! currency. Pure functions of their arguments.
//!
//! Black-76 with forward `F`, strike `K`, vol `σ`, years `T`, rate `r`, `D = e^(−rT)`:
//! `d1 = (ln(F/K) + σ²T/2)/(σ√T)`, `d2 = d1 − σ√T`,
//! `C = D·(F·N(d1) − K·N(d2))`, `P = D·(K·N(−d2) − F·N(−d1))`.
//! Inverse (coin-settled) options are worth the USD price divided by the forward, as
//! Deribit quotes them: `C_coin = C/F`.
//!
//! `N` is computed as `erfc(−x/√2)/2` through `libm`, so results are the same bits on every
//! machine and stay accurate in the far tails.
//!
//! [`kernel`] revalues one option over a block of scenarios in a loop that compiles to packed
//! SIMD, with branch-free ports of the same `libm` algorithms: the same bits as [`value`].

use crate::error::{Error, finite, positive};
use crate::instrument::{Instrument, Kind, Right, Settlement};
use crate::market::PricingInputs;
use core::f64::consts::{FRAC_1_SQRT_2, PI};

mod fdlibm;
pub mod kernel;

/// Standard normal cumulative distribution function.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    libm::exp(-0.5 * x * x) / libm::sqrt(2.0 * PI)
}

/// Black-76 value and sensitivities of one option, in the currency of `F` and `K` (USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Greeks {
    /// Option value.
    pub value: f64,
    /// ∂value/∂F.
    pub delta: f64,
    /// ∂²value/∂F², per unit of F.
    pub gamma: f64,
    /// ∂value/∂σ, per 1.00 of volatility (divide by 100 for one vol point).
    pub vega: f64,
    /// ∂value/∂t as calendar time passes, per 365-day year (divide by 365 for one day).
    pub theta: f64,
}

struct Checked {
    forward: f64,
    strike: f64,
    vol: f64,
    time: f64,
    rate: f64,
}

fn check(forward: f64, strike: f64, vol: f64, time: f64, rate: f64) -> Result<Checked, Error> {
    let forward = positive(forward, "forward")?;
    let strike = positive(strike, "strike")?;
    let time = finite(time, "time to expiry")?;
    let rate = finite(rate, "rate")?;
    // The vol only matters while the option has time left.
    let vol = if time > 0.0 {
        positive(vol, "implied volatility")?
    } else {
        0.0
    };
    Ok(Checked {
        forward,
        strike,
        vol,
        time,
        rate,
    })
}

fn intrinsic(right: Right, forward: f64, strike: f64) -> f64 {
    match right {
        Right::Call => (forward - strike).max(0.0),
        Right::Put => (strike - forward).max(0.0),
    }
}

fn output(x: f64, what: &'static str) -> Result<f64, Error> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Error::Overflow { what })
    }
}

/// Black-76 value only: the fast path used for every scenario cell.
///
/// At or after expiry (`time ≤ 0`) the option is worth its intrinsic value and `vol` is
/// ignored. Errors on non-finite inputs, or non-positive forward, strike, or (before expiry) vol.
pub fn black76_price(
    right: Right,
    forward: f64,
    strike: f64,
    vol: f64,
    time: f64,
    rate: f64,
) -> Result<f64, Error> {
    let c = check(forward, strike, vol, time, rate)?;
    if c.time <= 0.0 {
        return Ok(intrinsic(right, c.forward, c.strike));
    }
    let term = Black76Term::new(c.strike, c.time, c.rate);
    term.price(right, c.forward, libm::log(c.forward / c.strike), c.vol)
}

/// The parts of a Black-76 price that depend only on strike, time and rate (`√T` and the
/// discount factor), so a scenario loop computes them once per instrument instead of once
/// per cell. [`black76_price`] goes through the same code, so both give the same bits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Black76Term {
    strike: f64,
    sqrt_t: f64,
    df: f64,
}

impl Black76Term {
    /// For a validated positive `strike`, `time > 0` and finite `rate`.
    pub(crate) fn new(strike: f64, time: f64, rate: f64) -> Black76Term {
        Black76Term {
            strike,
            sqrt_t: libm::sqrt(time),
            df: libm::exp(-rate * time),
        }
    }

    /// The price for a validated positive `forward`, `ln_fk = ln(F/K)` and a validated
    /// positive `vol`.
    pub(crate) fn price(
        &self,
        right: Right,
        forward: f64,
        ln_fk: f64,
        vol: f64,
    ) -> Result<f64, Error> {
        let sd = vol * self.sqrt_t;
        let d1 = ln_fk / sd + 0.5 * sd;
        let d2 = d1 - sd;
        let undiscounted = match right {
            Right::Call => forward * norm_cdf(d1) - self.strike * norm_cdf(d2),
            Right::Put => self.strike * norm_cdf(-d2) - forward * norm_cdf(-d1),
        };
        // `f64::max` would turn a NaN (σ√T overflowing to ∞ gives d2 = ∞ − ∞) into a silent 0.
        let undiscounted = output(undiscounted, "option value")?;
        // Rounding can leave a deep out-of-the-money value a hair below zero.
        output(self.df * undiscounted.max(0.0), "option value")
    }
}

/// Revalues one option many times (the scenario loop): the strike and rate are checked once,
/// `√T` and the discount factor are reused while the time is unchanged, and `ln(F/K)` while
/// the forward is unchanged. Every value equals [`value`] of the same inputs, to the bit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptionRevaluer {
    right: Right,
    strike: f64,
    rate: f64,
    inverse: bool,
    term: Option<(f64, Black76Term)>,
    ln_fk: Option<(f64, f64)>,
}

impl OptionRevaluer {
    /// For an option `instrument` (anything else is [`Error::OutOfRange`]) and `rate`.
    pub(crate) fn new(instrument: &Instrument, rate: f64) -> Result<OptionRevaluer, Error> {
        let Kind::Option { strike, right, .. } = instrument.kind else {
            return Err(Error::OutOfRange {
                what: "instrument kind (expected an option)",
                value: 0.0,
            });
        };
        Ok(OptionRevaluer {
            right,
            strike: positive(strike, "strike")?,
            rate: finite(rate, "rate")?,
            inverse: instrument.settlement == Settlement::Inverse,
            term: None,
            ln_fk: None,
        })
    }

    /// Value in the settlement currency at `forward`, `vol` and `time`: the same checks and
    /// the same operations as [`black76_price`] followed by the inverse conversion in [`value`].
    pub(crate) fn value(&mut self, forward: f64, vol: f64, time: f64) -> Result<f64, Error> {
        let forward = positive(forward, "forward")?;
        let time = finite(time, "time to expiry")?;
        let usd = if time <= 0.0 {
            intrinsic(self.right, forward, self.strike)
        } else {
            let vol = positive(vol, "implied volatility")?;
            let term = match self.term {
                Some((t, term)) if t == time => term,
                _ => {
                    let term = Black76Term::new(self.strike, time, self.rate);
                    self.term = Some((time, term));
                    term
                }
            };
            let ln_fk = match self.ln_fk {
                Some((f, ln)) if f == forward => ln,
                _ => {
                    let ln = libm::log(forward / self.strike);
                    self.ln_fk = Some((forward, ln));
                    ln
                }
            };
            term.price(self.right, forward, ln_fk, vol)?
        };
        Ok(if self.inverse { usd / forward } else { usd })
    }
}

/// Black-76 value and Greeks. Same conventions and errors as [`black76_price`]; after expiry
/// the Greeks are those of the payoff (delta 0 or ±1, and ½ exactly at the strike).
pub fn black76(
    right: Right,
    forward: f64,
    strike: f64,
    vol: f64,
    time: f64,
    rate: f64,
) -> Result<Greeks, Error> {
    let value = black76_price(right, forward, strike, vol, time, rate)?;
    let c = check(forward, strike, vol, time, rate)?;
    if c.time <= 0.0 {
        let itm = match c.forward.partial_cmp(&c.strike) {
            Some(core::cmp::Ordering::Greater) => 1.0,
            Some(core::cmp::Ordering::Less) => 0.0,
            _ => 0.5,
        };
        let delta = if right == Right::Call { itm } else { itm - 1.0 };
        return Ok(Greeks {
            value,
            delta,
            gamma: 0.0,
            vega: 0.0,
            theta: 0.0,
        });
    }
    let sqrt_t = libm::sqrt(c.time);
    let sd = c.vol * sqrt_t;
    let d1 = libm::log(c.forward / c.strike) / sd + 0.5 * sd;
    let df = libm::exp(-c.rate * c.time);
    let pdf = norm_pdf(d1);
    let delta = match right {
        Right::Call => df * norm_cdf(d1),
        Right::Put => -df * norm_cdf(-d1),
    };
    Ok(Greeks {
        value,
        delta: output(delta, "delta")?,
        gamma: output(df * pdf / (c.forward * sd), "gamma")?,
        vega: output(df * c.forward * pdf * sqrt_t, "vega")?,
        theta: output(
            c.rate * value - df * c.forward * pdf * c.vol / (2.0 * sqrt_t),
            "theta",
        )?,
    })
}

/// Value and Greeks of one unit of an instrument at the valuation time.
///
/// `value` is in the settlement currency (coin for inverse, USD for linear); dated futures and
/// perpetuals are marked to market, so their value is 0 and their P&L lives in equity. The
/// Greeks are Black-76 USD sensitivities on the forward, as Deribit's ticker reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Valuation {
    /// Value of one unit in the settlement currency.
    pub value: f64,
    /// ∂V_usd/∂F: exposure in coins of the underlying (Deribit's ticker delta for options).
    pub delta: f64,
    /// Delta seen from the settlement currency. Inverse products: `F·∂V_coin/∂F = delta − V_coin`
    /// (the premium-adjusted delta a coin-margined account carries); linear products: `delta`.
    pub delta_premium_adjusted: f64,
    /// ∂²V_usd/∂F², per USD.
    pub gamma: f64,
    /// ∂V_usd/∂σ, USD per 1.00 of volatility.
    pub vega: f64,
    /// ∂V_usd/∂t, USD per 365-day year.
    pub theta: f64,
}

impl Valuation {
    /// All zeros: a placeholder to fill caller storage before the risk arrays are built.
    pub const ZERO: Valuation = Valuation {
        value: 0.0,
        delta: 0.0,
        delta_premium_adjusted: 0.0,
        gamma: 0.0,
        vega: 0.0,
        theta: 0.0,
    };
}

/// Value and Greeks of one unit of `instrument` (see [`Valuation`] for units).
pub fn valuation(instrument: &Instrument, inputs: &PricingInputs) -> Result<Valuation, Error> {
    let PricingInputs {
        forward,
        vol,
        time,
        rate,
    } = *inputs;
    let inverse = instrument.settlement == Settlement::Inverse;
    let linear = |value: f64, adjusted: f64| Valuation {
        value,
        delta: 1.0,
        delta_premium_adjusted: adjusted,
        gamma: 0.0,
        vega: 0.0,
        theta: 0.0,
    };
    match instrument.kind {
        Kind::Spot => {
            let s = positive(forward, "index price")?;
            // The coin itself has no coin P&L; a spot pair is worth its price in USD.
            Ok(if inverse {
                linear(1.0, 0.0)
            } else {
                linear(s, 1.0)
            })
        }
        Kind::Perpetual | Kind::Future { .. } => {
            positive(forward, "forward")?;
            Ok(linear(0.0, 1.0))
        }
        Kind::Option { strike, right, .. } => {
            let g = black76(right, forward, strike, vol, time, rate)?;
            let value = if inverse { g.value / forward } else { g.value };
            Ok(Valuation {
                value,
                delta: g.delta,
                delta_premium_adjusted: if inverse { g.delta - value } else { g.delta },
                gamma: g.gamma,
                vega: g.vega,
                theta: g.theta,
            })
        }
    }
}

/// Value of one unit in its settlement currency, with futures and perpetuals valued as if
/// entered at `entry` (USD per coin): linear `F − entry`, inverse `1 − entry/F` coin (a long of
/// one coin-equivalent). Options and spot ignore `entry`.
///
/// Revaluing at shocked inputs with `entry` = the current forward gives scenario P&L as a
/// difference of two calls: `value(shocked) − value(current)`.
pub fn value(instrument: &Instrument, inputs: &PricingInputs, entry: f64) -> Result<f64, Error> {
    let PricingInputs {
        forward,
        vol,
        time,
        rate,
    } = *inputs;
    let inverse = instrument.settlement == Settlement::Inverse;
    match instrument.kind {
        Kind::Spot => {
            let s = positive(forward, "index price")?;
            Ok(if inverse { 1.0 } else { s })
        }
        Kind::Perpetual | Kind::Future { .. } => {
            let f = positive(forward, "forward")?;
            let entry = positive(entry, "entry price")?;
            output(
                if inverse { 1.0 - entry / f } else { f - entry },
                "future value",
            )
        }
        Kind::Option { strike, right, .. } => {
            let usd = black76_price(right, forward, strike, vol, time, rate)?;
            Ok(if inverse { usd / forward } else { usd })
        }
    }
}
