//! The explanation of a margin run, built by the core into caller buffers: per-scenario P&L,
//! what each scenario counted, each position's P&L in the worst scenario.

use super::interpret::{cell_rule, counted};
use super::{Account, Margin, ensure_len};
use crate::error::Error;
use crate::model::Model;
use crate::risk::RiskArrays;

/// What each scenario counts toward the requirement, written to `out[..S]`: the underlyings'
/// P&L aggregated (gains offset only as the model allows), tail cells dampened, weighted. Under
/// an account-wide spec the worst case is the loss of the lowest entry; under a per-underlying
/// spec (SPAN) each underlying's worst counts separately and this is their joint view. Reads
/// the scratch a previous [`margin`](super::margin) call left for this account.
pub fn counted_pnl(
    arrays: &RiskArrays<'_>,
    model: &Model,
    account: &Account<'_>,
    scratch: &[f64],
    out: &mut [f64],
) -> Result<(), Error> {
    let s = arrays.scenarios().len();
    let needed = account.scratch_len(arrays);
    ensure_len(scratch.len(), needed)?;
    ensure_len(out.len(), s)?;
    let rule = cell_rule(arrays, &model.spec(), account.currency);
    let groups = account.groups.len();
    for (i, sc) in arrays.scenarios().scenarios().iter().enumerate() {
        out[i] = counted(&rule, sc, |each| {
            for g in 0..groups {
                each(scratch[g * s + i]);
            }
        });
    }
    Ok(())
}

/// Caller buffers for [`explain`].
pub struct Explanation<'b> {
    /// `S` entries: the portfolio's P&L per scenario, `Σ size × row` in position order,
    /// unweighted ([`crate::risk::portfolio_pnl`]).
    pub pnl: &'b mut [f64],
    /// `S` entries: what each scenario counted toward the requirement ([`counted_pnl`]).
    pub counted: &'b mut [f64],
    /// One entry per position: its P&L in the worst scenario, `size × row[worst]`; they add up
    /// to `pnl[worst]` (up to rounding).
    pub worst_contributions: &'b mut [f64],
}

/// Everything a report shows about the margin `m` of `account`, into caller buffers: the
/// per-scenario P&L, the counted P&L and each position's contribution to the worst scenario.
/// Reads the scratch the [`margin`](super::margin) call that produced `m` left. Every client (CLI, C ABI)
/// reports these numbers from here instead of re-assembling them.
pub fn explain(
    arrays: &RiskArrays<'_>,
    model: &Model,
    account: &Account<'_>,
    scratch: &[f64],
    m: &Margin,
    out: Explanation<'_>,
) -> Result<(), Error> {
    counted_pnl(arrays, model, account, scratch, out.counted)?;
    crate::risk::portfolio_pnl(arrays, account.positions, out.pnl)?;
    ensure_len(out.worst_contributions.len(), account.positions.len())?;
    let worst = m.worst.index;
    if worst >= arrays.scenarios().len() {
        return Err(Error::OutOfRange {
            what: "worst scenario index (a margin from other arrays)",
            value: worst as f64,
        });
    }
    for (c, p) in out.worst_contributions.iter_mut().zip(account.positions) {
        *c = p.size * arrays.row(p.instrument)[worst];
    }
    Ok(())
}
