//! Statistical margin: an account's loss in each of thousands to millions of joint scenarios
//! (historical, filtered historical, Monte Carlo), computed in blocks for the account's own
//! instruments only, so memory stays `O(block × underlyings + scenarios)` whatever the count.
//!
//! Scenario `s` moves every instrument's price input by its underlying's column of the joint
//! table ([`JointMoves`]); options take the vol of the `template` scenario's shock (unchanged
//! or the rule `σ' = max(σ + a + β·ln(F'/F), floor)`), and time steps forward by the template's
//! `time_step` (an option expiring inside the horizon is worth its intrinsic value).
//!
//! Option rows go through the batch kernel ([`crate::pricing::kernel`]): per option and block,
//! the shocked forwards (and, under [`VolShock::Rule`], vols) are laid out in arrays and
//! revalued in one vectorised loop, with `√T`, `e^(−rT)` and a vol that does not follow the
//! price computed once, and `ln(F'/K)` taken as `ln(F/K) + ln(1 + x)` with each coin's
//! log-growth `ln(1 + x)` computed once per block and scenario
//! ([`crate::pricing::kernel::OptionBatch::values_moved`]). So a row is not the bits of
//! [`crate::risk::fill_row`]'s (the grid revaluation, which every other instrument still uses,
//! as does an option the kernel rejects, so errors are fill_row's) but within 1e-11 of
//! max(|value|, 1e-8·F) of it per option value (`tests/kernel.rs`, `tests/statistical.rs`);
//! it is the same number on every machine, at any SIMD width, block size or thread count.
//!
//! Loss of scenario `s` = `−Σ_i size_i · row_i(s)`, summed in position order: the bits do not
//! depend on the block size, nor on how a caller splits the scenarios across threads.
//!
//! Per-position Euler contributions to ES (`c_i = Σ_r w_r · (−size_i · row_i(t_r))` over the
//! tail scenarios `t_r` with the Acerbi–Tasche weights `w_r`) add up to ES up to rounding.

use crate::error::Error;
use crate::instrument::{Instrument, Kind};
use crate::market::PricingInputs;
use crate::pricing::OptionRevaluer;
use crate::pricing::kernel::{OptionBatch, Vols};
use crate::risk::{InstrumentError, fill_row};
use crate::scenario::{JointMoves, Scenario, ScenarioSet, TenorScaling, VolShock};

/// Scenarios per kernel call: one call's forwards and vols live on the stack.
const CHUNK: usize = 128;

/// Caller storage for one block of scenarios.
pub struct BlockScratch<'a> {
    /// `B` scenarios (overwritten with the template).
    pub scenarios: &'a mut [Scenario],
    /// `B` numbers: one instrument's row over the block.
    pub row: &'a mut [f64],
    /// `B × U` numbers: gathered moves (for contributions over scattered tail scenarios).
    pub moves: &'a mut [f64],
}

/// An account's positions for statistical revaluation: parallel slices.
#[derive(Debug, Clone, Copy)]
pub struct Book<'a> {
    /// Each position's instrument.
    pub instruments: &'a [Instrument],
    /// Each instrument's pricing inputs at the valuation time.
    pub inputs: &'a [PricingInputs],
    /// Signed sizes.
    pub sizes: &'a [f64],
}

impl Book<'_> {
    fn check(&self) -> Result<(), InstrumentError> {
        let n = self.instruments.len();
        if self.inputs.len() != n || self.sizes.len() != n {
            return Err(InstrumentError {
                index: n,
                error: Error::Capacity {
                    needed: n,
                    available: self.inputs.len().min(self.sizes.len()),
                },
            });
        }
        Ok(())
    }
}

/// Writes the loss of scenarios `first .. first + out.len()` of `joint` to `out`, in blocks of
/// `scratch.scenarios.len()`. Errors name the position whose row could not be computed.
pub fn losses(
    book: &Book<'_>,
    joint: &JointMoves<'_>,
    template: &Scenario,
    first: usize,
    scratch: &mut BlockScratch<'_>,
    out: &mut [f64],
) -> Result<(), InstrumentError> {
    book.check()?;
    let end = first + out.len();
    if end > joint.len() {
        return Err(capacity(end, joint.len()));
    }
    let b = scratch.scenarios.len().min(scratch.row.len());
    if b == 0 {
        return Err(capacity(1, 0));
    }
    out.fill(0.0);
    let mut start = first;
    while start < end {
        let len = b.min(end - start);
        let rows = joint.rows(start, len);
        let block = block_set(template, &rows, &mut scratch.scenarios[..len])?;
        let out = &mut out[start - first..start - first + len];
        // Each coin's log-growth `ln(1 + x)` over the block, shared by its options (column
        // after column in `moves`); without room for it, each option computes its own (the
        // same bits, so the losses do not depend on the scratch size).
        let u = rows.underlyings().len();
        let growth = match scratch.moves.get_mut(..len * u) {
            Some(g) => {
                for (c, g) in g.chunks_exact_mut(len).enumerate() {
                    for (s, g) in g.iter_mut().enumerate() {
                        *g = ln_growth(rows.get(s, c));
                    }
                }
                Some(&*g)
            }
            None => None,
        };
        accumulate(book, template, &block, growth, &mut scratch.row[..len], out)?;
        start += len;
    }
    Ok(())
}

/// Per-position Euler contributions: `out[i] = Σ_r weights[r] · (−size_i · row_i(tail[r]))`.
/// With the ES weights of the tail scenarios, `Σ_i out[i]` equals ES up to rounding.
pub fn contributions(
    book: &Book<'_>,
    joint: &JointMoves<'_>,
    template: &Scenario,
    tail: &[usize],
    weights: &[f64],
    scratch: &mut BlockScratch<'_>,
    out: &mut [f64],
) -> Result<(), InstrumentError> {
    book.check()?;
    let n = book.instruments.len();
    if out.len() < n || weights.len() < tail.len() {
        return Err(capacity(n.max(tail.len()), out.len().min(weights.len())));
    }
    let u = joint.underlyings().len();
    let b = scratch
        .scenarios
        .len()
        .min(scratch.row.len())
        .min(scratch.moves.len() / u);
    if b == 0 {
        return Err(capacity(1, 0));
    }
    out[..n].fill(0.0);
    for (chunk, w) in tail.chunks(b).zip(weights.chunks(b)) {
        for (r, &s) in chunk.iter().enumerate() {
            if s >= joint.len() {
                return Err(capacity(s + 1, joint.len()));
            }
            scratch.moves[r * u..(r + 1) * u].copy_from_slice(joint.row(s));
        }
        let len = chunk.len();
        let gathered = JointMoves::new(joint.underlyings(), &scratch.moves[..len * u])
            .map_err(|error| InstrumentError { index: n, error })?;
        let block = block_set(template, &gathered, &mut scratch.scenarios[..len])?;
        for (i, c) in out[..n].iter_mut().enumerate() {
            let row = &mut scratch.row[..len];
            block_row(
                &book.instruments[i],
                &book.inputs[i],
                template,
                &block,
                None,
                row,
            )
            .map_err(|error| InstrumentError { index: i, error })?;
            let size = book.sizes[i];
            for (&x, &wr) in row.iter().zip(w) {
                *c += wr * -(size * x);
            }
        }
    }
    Ok(())
}

/// A scenario set of `scenarios.len()` copies of `template` over `rows`.
fn block_set<'s>(
    template: &Scenario,
    rows: &JointMoves<'s>,
    scenarios: &'s mut [Scenario],
) -> Result<ScenarioSet<'s>, InstrumentError> {
    scenarios.fill(*template);
    let at = |error| InstrumentError { index: 0, error };
    ScenarioSet::new(scenarios, TenorScaling::deribit(0.0))
        .and_then(|s| s.with_joint(*rows))
        .map_err(at)
}

/// `out[s] −= size_i · row_i(s)` for every position, in position order.
fn accumulate(
    book: &Book<'_>,
    template: &Scenario,
    block: &ScenarioSet<'_>,
    growth: Option<&[f64]>,
    row: &mut [f64],
    out: &mut [f64],
) -> Result<(), InstrumentError> {
    for (i, instrument) in book.instruments.iter().enumerate() {
        block_row(instrument, &book.inputs[i], template, block, growth, row)
            .map_err(|error| InstrumentError { index: i, error })?;
        let size = book.sizes[i];
        for (o, &x) in out.iter_mut().zip(row.iter()) {
            *o -= size * x;
        }
    }
    Ok(())
}

/// One instrument's per-unit P&L over `block` (every scenario a copy of `template`, moves from
/// its joint table; `growth`, when given, each coin's `ln(1 + x)` over the block, column after
/// column): options through the batch kernel, the rest, and any option the kernel rejects,
/// through [`fill_row`].
fn block_row(
    instrument: &Instrument,
    inputs: &PricingInputs,
    template: &Scenario,
    block: &ScenarioSet<'_>,
    growth: Option<&[f64]>,
    row: &mut [f64],
) -> Result<(), Error> {
    if matches!(instrument.kind, Kind::Option { .. })
        && option_row(instrument, inputs, template, block, growth, row).is_ok()
    {
        return Ok(());
    }
    fill_row(instrument, inputs, block, row)
}

/// [`fill_row`] of an option over a block of `template` scenarios, through the kernel: per
/// scenario the forward `F·(1 + move)` and the template's shocked vol, the time after its
/// step, P&L = value − value at the current inputs (computed by the same revaluer as
/// [`fill_row`]). A vol shock that does not read the move gives one vol for the block.
fn option_row(
    instrument: &Instrument,
    inputs: &PricingInputs,
    template: &Scenario,
    block: &ScenarioSet<'_>,
    growth: Option<&[f64]>,
    row: &mut [f64],
) -> Result<(), Error> {
    let joint = block.joint().ok_or(Error::OutOfRange {
        what: "scenario block without joint moves",
        value: 0.0,
    })?;
    let column = joint
        .column(&instrument.underlying)
        .ok_or(Error::UnknownUnderlying)?;
    let base = OptionRevaluer::new(instrument, inputs.rate)?.value(
        inputs.forward,
        inputs.vol,
        inputs.time,
    )?;
    let batch = OptionBatch::new(instrument, inputs.rate, inputs.time - template.time_step)?;
    let tenor = block.tenor();
    let dte_days = inputs.time * 365.0;
    let shock = |moved: f64| {
        template.vol_shock.apply_scaled(
            inputs.vol,
            moved,
            || tenor.scale(dte_days),
            tenor.min_vol_up,
        )
    };
    let constant = match template.vol_shock {
        VolShock::Rule { .. } => None,
        _ => Some(shock(0.0)),
    };
    let (n, u) = (joint.len(), joint.underlyings().len());
    let growth = growth.and_then(|g| g.get(column * n..(column + 1) * n));
    let ln_ratio = libm::log(inputs.forward / instrument_strike(instrument));
    let (mut forwards, mut vols, mut own) = ([0.0; CHUNK], [0.0; CHUNK], [0.0; CHUNK]);
    for (c, out) in row[..n].chunks_mut(CHUNK).enumerate() {
        let (start, m) = (c * CHUNK, out.len());
        let table = joint.rows(start, m).table();
        let moves = table.chunks_exact(u).map(|r| r[column]);
        for (f, x) in forwards[..m].iter_mut().zip(moves) {
            *f = inputs.forward * (1.0 + x);
        }
        let g = match growth {
            Some(g) => &g[start..start + m],
            None => {
                let moves = table.chunks_exact(u).map(|r| r[column]);
                for (g, x) in own[..m].iter_mut().zip(moves) {
                    *g = ln_growth(x);
                }
                &own[..m]
            }
        };
        let v = match constant {
            Some(v) => Vols::Constant(v),
            None => {
                for (k, v) in vols[..m].iter_mut().enumerate() {
                    *v = shock(joint.get(start + k, column));
                }
                Vols::Each(&vols[..m])
            }
        };
        batch.values_moved(ln_ratio, g, &forwards[..m], v, out)?;
        let mut finite = true;
        for x in out.iter_mut() {
            *x -= base;
            finite &= x.is_finite();
        }
        if !finite {
            return Err(Error::Overflow {
                what: "scenario P&L",
            });
        }
    }
    Ok(())
}

/// `ln(1 + x)` of a relative move, with `1 + x` rounded as in the shocked forward
/// `F·(1 + x)`.
fn ln_growth(x: f64) -> f64 {
    libm::log(1.0 + x)
}

fn instrument_strike(instrument: &Instrument) -> f64 {
    match instrument.kind {
        Kind::Option { strike, .. } => strike,
        _ => f64::NAN,
    }
}

fn capacity(needed: usize, available: usize) -> InstrumentError {
    InstrumentError {
        index: 0,
        error: Error::Capacity { needed, available },
    }
}
