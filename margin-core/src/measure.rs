//! Measures: turn per-scenario P&L into one requirement.
//!
//! Deribit aggregates a cell across risk units (here: underlyings) as
//! `Σ losses + min(pnl_offset × Σ gains, cap)`, so gains of one unit offset losses of another
//! only partly. With one underlying this is the cell's P&L when negative, and a damped gain
//! otherwise. Extended (tail) cells are then dampened: Deribit's formula is unpublished, and we
//! take `factor × max(0, loss − dampener)`, which makes the small tail losses of Deribit's own
//! example vanish exactly as its API output shows (methodologies §1.2, §9.1). Finally the cell
//! is multiplied by its scenario weight and the requirement is the worst cell's loss.

use crate::scenario::{Scenario, ScenarioKind};

/// How one scenario cell is aggregated, with every amount in the account currency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellRule {
    /// Fraction of gains that may offset losses across underlyings (Deribit `pnl_offset`).
    pub gain_offset: f64,
    /// Cap on the offsetting gains (Deribit `max_offsetable_pnl`, converted).
    pub gain_cap: f64,
    /// Amount subtracted from an extended-cell loss (Deribit `extended_dampener`, converted).
    pub extended_dampener: f64,
    /// Multiplier on a dampened extended-cell loss (Deribit `extended_table_factor`).
    pub extended_factor: f64,
}

impl CellRule {
    /// Plain netting: P&L counts in full, tails are only weighted.
    pub const NETTED: CellRule = CellRule {
        gain_offset: 1.0,
        gain_cap: f64::INFINITY,
        extended_dampener: 0.0,
        extended_factor: 1.0,
    };

    /// The cell value from the losses (≤ 0) and gains (≥ 0) of the underlyings in one scenario.
    pub fn cell(&self, losses: f64, gains: f64, scenario: &Scenario) -> f64 {
        let mut cell = losses + (self.gain_offset * gains).min(self.gain_cap);
        if scenario.kind == ScenarioKind::Extended && cell < 0.0 {
            // `0.0 −` rather than unary minus: a fully dampened cell is +0, not −0.
            cell = 0.0 - self.extended_factor * (-cell - self.extended_dampener).max(0.0);
        }
        cell * scenario.weight
    }
}

/// The worst cell: its loss (≥ 0) and its scenario index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Worst {
    /// Loss of the worst cell, 0 when no cell loses.
    pub loss: f64,
    /// Index of the lowest cell (the first on ties), reported even when that cell is a gain
    /// and `loss` is 0; 0 when there are no cells.
    pub index: usize,
}

/// Worst loss over `cells` in order; ties keep the first index so results are deterministic.
/// A NaN cell (an overflow upstream) wins and makes `loss` NaN, which every caller turns into
/// an error: it is never skipped, and never hidden by `max(0)`.
#[inline]
pub fn worst(cells: impl IntoIterator<Item = f64>) -> Worst {
    let mut w = Worst {
        loss: 0.0,
        index: 0,
    };
    let mut lowest = f64::INFINITY;
    for (i, c) in cells.into_iter().enumerate() {
        if c < lowest || (c.is_nan() && !lowest.is_nan()) {
            lowest = c;
            w.index = i;
        }
    }
    w.loss = if lowest.is_nan() {
        f64::NAN
    } else {
        (-lowest).max(0.0)
    };
    w
}

/// `x` rounded to `decimals` places, half away from zero; negative `decimals` leaves `x` alone.
pub fn round_to(x: f64, decimals: i32) -> f64 {
    if decimals < 0 {
        return x;
    }
    let scale = libm::pow(10.0, decimals as f64);
    libm::round(x * scale) / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::VolShock;

    #[test]
    fn worst_prefers_first_on_ties_and_floors_at_zero() {
        assert_eq!(
            worst([1.0, -2.0, -2.0, 0.5]),
            Worst {
                loss: 2.0,
                index: 1
            }
        );
        assert_eq!(
            worst([3.0, 1.0, 1.0]),
            Worst {
                loss: 0.0,
                index: 1
            }
        );
        assert_eq!(worst([]).index, 0);
    }

    /// Regression: `c < lowest` is false for NaN, so a NaN cell was skipped and could leave a
    /// loss of 0.
    #[test]
    fn a_nan_cell_is_never_skipped() {
        let w = worst([-1.0, f64::NAN, -5.0]);
        assert!(w.loss.is_nan());
        assert_eq!(w.index, 1);
        assert!(worst([f64::NAN, 2.0]).loss.is_nan());
    }

    #[test]
    fn cell_rule_offsets_and_dampens() {
        let std = Scenario::standard(0.1, VolShock::None);
        let rule = CellRule {
            gain_offset: 0.6,
            gain_cap: 10.0,
            extended_dampener: 5.0,
            extended_factor: 1.0,
        };
        // Deribit ETH example: a gain of 0.219399597 offsets 0.6 × itself, published to 9
        // decimals as 0.131639758 (methodologies §1.3).
        assert!((rule.cell(0.0, 0.219399597, &std) - 0.131639758).abs() < 5e-10);
        assert_eq!(rule.cell(-3.0, 100.0, &std), 7.0);
        let ext = Scenario {
            kind: ScenarioKind::Extended,
            ..std
        };
        assert_eq!(rule.cell(-4.0, 0.0, &ext), 0.0);
        assert_eq!(rule.cell(-8.0, 0.0, &ext), -3.0);
        assert_eq!(round_to(0.05968587238095239, 9), 0.059685872);
    }
}
