//! Statistical margin: an account's loss in each of thousands to millions of joint scenarios
//! (historical, filtered historical, Monte Carlo), computed in blocks for the account's own
//! instruments only, so memory stays `O(block × underlyings + scenarios)` whatever the count.
//!
//! Scenario `s` moves every instrument's price input by its underlying's column of the joint
//! table ([`JointMoves`]); options take the vol of the `template` scenario's shock (unchanged
//! or the rule `σ' = max(σ + a + β·ln(F'/F), floor)`), and time steps forward by the template's
//! `time_step` (an option expiring inside the horizon is worth its intrinsic value). Each row is
//! [`crate::risk::fill_row`], the same revaluation the grids use.
//!
//! Loss of scenario `s` = `−Σ_i size_i · row_i(s)`, summed in position order: the bits do not
//! depend on the block size, nor on how a caller splits the scenarios across threads.
//!
//! Per-position Euler contributions to ES (`c_i = Σ_r w_r · (−size_i · row_i(t_r))` over the
//! tail scenarios `t_r` with the Acerbi–Tasche weights `w_r`) add up to ES up to rounding.

use crate::error::Error;
use crate::instrument::Instrument;
use crate::market::PricingInputs;
use crate::risk::{InstrumentError, fill_row};
use crate::scenario::{JointMoves, Scenario, ScenarioSet, TenorScaling};

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
        accumulate(book, &block, &mut scratch.row[..len], out)?;
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
            fill_row(&book.instruments[i], &book.inputs[i], &block, row)
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
    block: &ScenarioSet<'_>,
    row: &mut [f64],
    out: &mut [f64],
) -> Result<(), InstrumentError> {
    for (i, instrument) in book.instruments.iter().enumerate() {
        fill_row(instrument, &book.inputs[i], block, row)
            .map_err(|error| InstrumentError { index: i, error })?;
        let size = book.sizes[i];
        for (o, &x) in out.iter_mut().zip(row.iter()) {
            *o -= size * x;
        }
    }
    Ok(())
}

fn capacity(needed: usize, available: usize) -> InstrumentError {
    InstrumentError {
        index: 0,
        error: Error::Capacity { needed, available },
    }
}
