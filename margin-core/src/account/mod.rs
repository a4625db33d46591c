//! Accounts: equity and positions in, a margin calculation with every line item out.
//!
//! Positions are grouped by underlying (a risk unit). The P&L of each group in each scenario is
//! kept in caller scratch (`S × groups` numbers), which is what makes a what-if O(scenarios):
//! an order adds `size × row` to one group on the fly, without rebuilding anything.

use crate::addon::LineItem;
use crate::error::Error;
use crate::instrument::Asset;
use crate::model::{Model, PresetId};
use crate::risk::{Position, RiskArrays, axpy};
use crate::scenario::ScenarioKind;

mod explain;
mod interpret;
pub use explain::{Explanation, counted_pnl, explain};
pub use interpret::cell_rule;
use interpret::{Groups, evaluate};

/// Most underlyings (risk units) one account may hold.
pub const MAX_UNDERLYINGS: usize = 8;
/// Largest accepted |size| of one position, in units.
pub const MAX_SIZE: f64 = 1e9;
/// Most line items a calculation reports.
pub const MAX_LINE_ITEMS: usize = 8;

/// Health of an account against its requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Equity covers initial margin.
    Healthy,
    /// Equity is below initial margin: no new risk, top up.
    MarginCall,
    /// Equity is below maintenance margin.
    Liquidation,
}

/// The scenario that set the requirement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorstScenario {
    /// Index in the model's scenario list.
    pub index: usize,
    /// Relative price move of the scenario.
    pub price_move: f64,
    /// Signed vol shock of the scenario (relative range or absolute shift).
    pub vol_shock: f64,
    /// Standard or extended.
    pub kind: ScenarioKind,
    /// Loss of the aggregated, weighted cell, account currency.
    pub loss: f64,
}

/// The result of one margin calculation, in the account currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    /// Initial margin.
    pub initial: f64,
    /// Maintenance margin.
    pub maintenance: f64,
    /// Named components (`worst_case`, `roll_shock`, …) in a fixed order per model family.
    pub components: heapless::Vec<LineItem, MAX_LINE_ITEMS>,
    /// The worst scenario.
    pub worst: WorstScenario,
    /// Account equity.
    pub equity: f64,
    /// Maintenance margin over equity; `None` when equity is not positive.
    pub margin_ratio: Option<f64>,
    /// Equity minus initial margin.
    pub free_collateral: f64,
    /// Healthy, margin call or liquidation.
    pub status: Status,
    /// The preset (name, version, modified) that produced this result.
    pub preset: PresetId,
}

impl Margin {
    /// A result from its requirements (finite, checked by the caller), line items, worst
    /// scenario and equity: ratio, free collateral and status follow here, the same for every
    /// model.
    pub fn assemble(
        (initial, maintenance): (f64, f64),
        components: heapless::Vec<LineItem, MAX_LINE_ITEMS>,
        worst: WorstScenario,
        equity: f64,
        preset: PresetId,
    ) -> Margin {
        Margin {
            initial,
            maintenance,
            components,
            worst,
            equity,
            margin_ratio: (equity > 0.0).then(|| maintenance / equity),
            free_collateral: equity - initial,
            status: if equity < maintenance {
                Status::Liquidation
            } else if equity < initial {
                Status::MarginCall
            } else {
                Status::Healthy
            },
            preset,
        }
    }

    /// The component named `name`.
    pub fn component(&self, name: &str) -> Option<f64> {
        self.components
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value)
    }
}

/// A validated account: its currency, equity and positions.
#[derive(Debug, Clone)]
pub struct Account<'a> {
    currency: Asset,
    equity: f64,
    positions: &'a [Position],
    groups: heapless::Vec<Asset, MAX_UNDERLYINGS>,
}

impl<'a> Account<'a> {
    /// Checks every position: known instrument, finite size within ±[`MAX_SIZE`], settling in
    /// `currency` (the coin for inverse products, the quote for linear ones), no instrument
    /// twice, at most [`MAX_UNDERLYINGS`] underlyings; equity finite. The first failing
    /// position is reported. Allocation-free and O(n) for rows in ascending order or up to
    /// 64 positions; otherwise O(n) per 32,768 rows the positions span (see `first_repeat`).
    pub fn new(
        arrays: &RiskArrays<'_>,
        currency: Asset,
        equity: f64,
        positions: &'a [Position],
    ) -> Result<Self, Error> {
        crate::error::finite(equity, "equity")?;
        let mut groups = heapless::Vec::new();
        let repeat = first_repeat(positions, arrays.instruments().len());
        for (index, p) in positions.iter().enumerate() {
            let underlying = check_position(arrays, currency, p, index)?;
            if repeat == Some(index) {
                return Err(Error::Duplicate {
                    what: "positions",
                    index,
                });
            }
            if !groups.contains(underlying) {
                groups
                    .push(*underlying)
                    .map_err(|_| too_many_underlyings())?;
            }
        }
        Ok(Account {
            currency,
            equity,
            positions,
            groups,
        })
    }

    /// The account [`Account::new`] returned, rebound to an owned copy of its positions: no
    /// check (the `std` owned account validates once and rebinds per call).
    #[cfg(feature = "std")]
    pub(crate) fn rebind<'b>(&self, positions: &'b [Position]) -> Account<'b> {
        Account {
            currency: self.currency,
            equity: self.equity,
            positions,
            groups: self.groups.clone(),
        }
    }

    /// Settlement currency of the account.
    pub fn currency(&self) -> Asset {
        self.currency
    }

    /// Equity in the account currency.
    pub fn equity(&self) -> f64 {
        self.equity
    }

    /// The positions, in the order given.
    pub fn positions(&self) -> &'a [Position] {
        self.positions
    }

    /// Scratch length [`margin`] needs for this account: scenarios × underlyings (at least one).
    pub fn scratch_len(&self, arrays: &RiskArrays<'_>) -> usize {
        arrays.scenarios().len() * self.groups.len().max(1)
    }

    fn group_of(&self, arrays: &RiskArrays<'_>, instrument: usize) -> Option<usize> {
        let u = arrays.instruments()[instrument].underlying;
        self.groups.iter().position(|g| *g == u)
    }

    /// Re-checks every position against `arrays` (which need not be the arrays the account
    /// was validated with) and calls `each(group, position)`: an account evaluated against
    /// other arrays is an error, never an out-of-bounds panic or a silently wrong group.
    fn for_each_checked(
        &self,
        arrays: &RiskArrays<'_>,
        mut each: impl FnMut(usize, &Position),
    ) -> Result<(), Error> {
        for (index, p) in self.positions.iter().enumerate() {
            let underlying = check_position(arrays, self.currency, p, index)?;
            let g = self
                .groups
                .iter()
                .position(|g| g == underlying)
                .ok_or(Error::UnknownInstrument { index })?;
            each(g, p);
        }
        Ok(())
    }
}

/// Computes the account's margin, leaving each underlying's per-scenario P&L in `scratch`
/// (group-major, `S` numbers per underlying) for [`what_if`] to reuse.
pub fn margin(
    arrays: &RiskArrays<'_>,
    model: &Model,
    account: &Account<'_>,
    scratch: &mut [f64],
) -> Result<Margin, Error> {
    let s = arrays.scenarios().len();
    let needed = account.scratch_len(arrays);
    ensure_len(scratch.len(), needed)?;
    let scratch = &mut scratch[..needed];
    scratch.fill(0.0);
    account.for_each_checked(arrays, |g, p| {
        axpy(
            p.size,
            arrays.row(p.instrument),
            &mut scratch[g * s..(g + 1) * s],
        );
    })?;
    let groups = account.groups.iter().copied().collect();
    evaluate(
        arrays,
        model,
        account,
        account.positions.iter().copied(),
        &groups,
        |sc, g| scratch[g * s + sc],
    )
}

/// Margin of the account after a hypothetical `order` (row index, signed size), from the
/// scratch a previous [`margin`] call left. O(scenarios × underlyings + positions); nothing is
/// rebuilt and the account is unchanged.
pub fn what_if(
    arrays: &RiskArrays<'_>,
    model: &Model,
    account: &Account<'_>,
    scratch: &[f64],
    order: Position,
) -> Result<Margin, Error> {
    // The order is reported as the position after the last one.
    let index = account.positions.len();
    account.for_each_checked(arrays, |_, _| ())?;
    check_position(arrays, account.currency, &order, index)?;
    let held = account
        .positions
        .iter()
        .find(|p| p.instrument == order.instrument);
    let combined = order.size + held.map_or(0.0, |p| p.size);
    if combined.abs() > MAX_SIZE {
        return Err(Error::SizeOutOfRange {
            index,
            size: combined,
        });
    }
    let order_group = account.group_of(arrays, order.instrument);
    if order_group.is_none() && account.groups.is_full() {
        return Err(too_many_underlyings());
    }
    let s = arrays.scenarios().len();
    let needed = account.scratch_len(arrays);
    ensure_len(scratch.len(), needed)?;
    let held_groups = account.groups.len();
    let mut groups: Groups = account.groups.iter().copied().collect();
    if order_group.is_none() {
        // Room for one more: the account holds at most MAX_UNDERLYINGS (checked above).
        let _ = groups.push(arrays.instruments()[order.instrument].underlying);
    }
    let row = arrays.row(order.instrument);
    let merged = merge(account.positions, order);
    evaluate(arrays, model, account, merged, &groups, |sc, g| {
        if g == held_groups {
            return order.size * row[sc];
        }
        let extra = if order_group == Some(g) {
            order.size * row[sc]
        } else {
            0.0
        };
        scratch[g * s + sc] + extra
    })
}

/// Margin of each position held alone (its isolated margin), written to `out[i]` as initial
/// margin. The sum minus the portfolio's initial margin is the margin benefit of netting.
///
/// This reuses `scratch`, so afterwards it no longer holds the account's P&L: call [`margin`]
/// again before the next [`what_if`].
pub fn isolated(
    arrays: &RiskArrays<'_>,
    model: &Model,
    account: &Account<'_>,
    scratch: &mut [f64],
    out: &mut [f64],
) -> Result<(), Error> {
    let n = account.positions.len();
    ensure_len(out.len(), n)?;
    for (i, p) in account.positions.iter().enumerate() {
        let alone = Account::new(
            arrays,
            account.currency,
            account.equity,
            core::slice::from_ref(p),
        )?;
        out[i] = margin(arrays, model, &alone, scratch)?.initial;
    }
    Ok(())
}

/// Positions up to which [`first_repeat`] compares every pair.
const PAIRWISE_LIMIT: usize = 64;
/// Rows [`first_repeat`] marks per pass: a 4 KiB bitset on the stack.
const WINDOW_WORDS: usize = 512;

/// The first position (by index) whose row an earlier position already holds, among rows
/// below `rows` (a row out of range is [`check_position`]'s error, never a repeat).
///
/// Allocation-free: up to [`PAIRWISE_LIMIT`] positions every pair is compared; rows in strictly
/// ascending order have none; otherwise the rows the positions span are marked in a stack
/// bitset one window of 32,768 rows at a time, so the cost is O(n) per window (100,000
/// positions over 100,000 rows: 4 passes), not the O(n²) of comparing pairs.
fn first_repeat(positions: &[Position], rows: usize) -> Option<usize> {
    if positions.len() <= PAIRWISE_LIMIT {
        return (1..positions.len()).find(|&i| {
            let row = positions[i].instrument;
            row < rows && positions[..i].iter().any(|q| q.instrument == row)
        });
    }
    if positions
        .windows(2)
        .all(|w| w[0].instrument < w[1].instrument)
    {
        return None;
    }
    let in_range = || positions.iter().map(|p| p.instrument).filter(|&r| r < rows);
    let lo = in_range().min()?;
    let hi = in_range().max()?;
    const WINDOW: usize = WINDOW_WORDS * 64;
    let mut first: Option<usize> = None;
    let mut start = lo;
    while start <= hi {
        let mut bits = [0u64; WINDOW_WORDS];
        for (i, p) in positions.iter().enumerate() {
            if first.is_some_and(|f| i >= f) {
                break;
            }
            let Some(offset) = p.instrument.checked_sub(start) else {
                continue;
            };
            if offset >= WINDOW || p.instrument >= rows {
                continue;
            }
            let (word, bit) = (offset / 64, 1u64 << (offset % 64));
            if bits[word] & bit != 0 {
                first = Some(i);
                break;
            }
            bits[word] |= bit;
        }
        start = match start.checked_add(WINDOW) {
            Some(next) => next,
            None => break,
        };
    }
    first
}

/// Checks one position (as number `index`) and returns its underlying.
fn check_position<'r>(
    arrays: &RiskArrays<'r>,
    currency: Asset,
    p: &Position,
    index: usize,
) -> Result<&'r Asset, Error> {
    let inst = arrays
        .instruments()
        .get(p.instrument)
        .ok_or(Error::UnknownInstrument { index })?;
    if !p.size.is_finite() || p.size.abs() > MAX_SIZE {
        return Err(Error::SizeOutOfRange {
            index,
            size: p.size,
        });
    }
    // Compared by reference: this runs for every position of every what-if.
    if *inst.settlement_currency() != currency {
        return Err(Error::CurrencyMismatch { index });
    }
    Ok(&inst.underlying)
}

/// A capacity error unless a buffer of `len` holds `needed` entries.
pub(super) fn ensure_len(len: usize, needed: usize) -> Result<(), Error> {
    if len < needed {
        return Err(Error::Capacity {
            needed,
            available: len,
        });
    }
    Ok(())
}

fn too_many_underlyings() -> Error {
    Error::Capacity {
        needed: MAX_UNDERLYINGS + 1,
        available: MAX_UNDERLYINGS,
    }
}

/// The positions with `order` folded in: added to the position on the same instrument, or
/// appended.
fn merge(positions: &[Position], order: Position) -> impl Iterator<Item = Position> + Clone + '_ {
    let held = positions.iter().any(|p| p.instrument == order.instrument);
    positions
        .iter()
        .map(move |p| {
            if p.instrument == order.instrument {
                Position {
                    size: p.size + order.size,
                    ..*p
                }
            } else {
                *p
            }
        })
        .chain((!held).then_some(order))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pairwise definition: the first index whose row an earlier index holds.
    fn naive(positions: &[Position], rows: usize) -> Option<usize> {
        (0..positions.len()).find(|&i| {
            positions[i].instrument < rows
                && positions[..i]
                    .iter()
                    .any(|q| q.instrument == positions[i].instrument)
        })
    }

    fn at(rows: impl IntoIterator<Item = usize>) -> std::vec::Vec<Position> {
        rows.into_iter()
            .map(|instrument| Position {
                instrument,
                size: 1.0,
            })
            .collect()
    }

    #[test]
    fn first_repeat_matches_the_pairwise_definition_at_every_size() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        for n in [0, 1, 2, 63, 64, 65, 200, 5_000] {
            for spread in [n.max(1), 4 * n.max(1), 100_000] {
                let unique = at((0..n).map(|i| (i * 7919) % (n.max(1) * 7919 + 1)));
                assert_eq!(
                    first_repeat(&unique, usize::MAX),
                    naive(&unique, usize::MAX)
                );
                let random = at((0..n).map(|_| next(spread)));
                assert_eq!(
                    first_repeat(&random, spread),
                    naive(&random, spread),
                    "{n} {spread}"
                );
                // Out-of-range rows (the caller's error) are never repeats.
                assert_eq!(
                    first_repeat(&random, spread / 2),
                    naive(&random, spread / 2)
                );
            }
        }
        // 100,000 distinct rows in descending order, then the first one again at the end.
        let mut rows = at((0..100_000).rev());
        assert_eq!(first_repeat(&rows, 100_000), None);
        rows.push(rows[0]);
        assert_eq!(first_repeat(&rows, 100_000), Some(100_000));
        // Rows far apart (several windows) and huge values out of range.
        let far = at([5, 1_000_000, usize::MAX, 70_000, usize::MAX, 1_000_000, 5]);
        let far: std::vec::Vec<Position> = far.iter().cycle().take(70).copied().collect();
        assert_eq!(first_repeat(&far, 2_000_000), naive(&far, 2_000_000));
        assert_eq!(first_repeat(&far, 2_000_000), Some(5));
    }
}
