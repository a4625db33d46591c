//! Joint scenarios: one relative price move per named underlying in each scenario.

use crate::error::{Error, finite};
use crate::instrument::Asset;

/// Joint moves: an S × U table (scenario-major) of relative price moves, one column per named
/// underlying. A set carrying one moves each instrument by its own underlying's column,
/// overriding the scenarios' uniform `price_move` and `delta_one_move`: historical and Monte
/// Carlo scenarios move BTC and ETH by different amounts on the same date or draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointMoves<'a> {
    underlyings: &'a [Asset],
    moves: &'a [f64],
}

impl<'a> JointMoves<'a> {
    /// Checks the shape (`moves.len()` a multiple of the underlying count, no underlying twice)
    /// and every move (finite, above −100 %).
    pub fn new(underlyings: &'a [Asset], moves: &'a [f64]) -> Result<Self, Error> {
        let u = underlyings.len();
        if u == 0 || !moves.len().is_multiple_of(u) {
            return Err(Error::OutOfRange {
                what: "joint moves (a whole number of rows of one move per underlying)",
                value: moves.len() as f64,
            });
        }
        for (index, a) in underlyings.iter().enumerate() {
            if underlyings[..index].contains(a) {
                return Err(Error::Duplicate {
                    what: "joint move underlyings",
                    index,
                });
            }
        }
        for &m in moves {
            if finite(m, "joint price move")? <= -1.0 {
                return Err(Error::NonPositive {
                    what: "1 + joint price move",
                    value: 1.0 + m,
                });
            }
        }
        Ok(JointMoves { underlyings, moves })
    }

    /// The underlyings, in column order.
    pub fn underlyings(&self) -> &'a [Asset] {
        self.underlyings
    }

    /// Number of scenarios (rows).
    pub fn len(&self) -> usize {
        self.moves.len() / self.underlyings.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty()
    }

    /// Column of `underlying`.
    pub fn column(&self, underlying: &Asset) -> Option<usize> {
        self.underlyings.iter().position(|a| a == underlying)
    }

    /// Move of column `column` in scenario `s`.
    pub fn get(&self, s: usize, column: usize) -> f64 {
        self.moves[s * self.underlyings.len() + column]
    }

    /// Rows `start .. start + len` as a table of their own (already validated).
    pub fn rows(&self, start: usize, len: usize) -> JointMoves<'a> {
        let u = self.underlyings.len();
        JointMoves {
            underlyings: self.underlyings,
            moves: &self.moves[start * u..(start + len) * u],
        }
    }

    /// The whole `S × U` table, scenario-major.
    pub(crate) fn table(&self) -> &'a [f64] {
        self.moves
    }

    /// Row `s`: every underlying's move in scenario `s`.
    pub fn row(&self, s: usize) -> &'a [f64] {
        let u = self.underlyings.len();
        &self.moves[s * u..(s + 1) * u]
    }
}
