//! Per-underlying scan ranges of a Deribit model.
//!
//! Deribit margins each settlement currency separately. A linear (USDC) account may hold
//! several underlyings, and each one is scanned at its own index's price and vol ranges
//! (BTC ±16 %, vol 50/25 %; ETH ±18 %, vol 40/25 %; methodologies §1.7) in the same numbered
//! cell of the grid: cell `k` of the 9 × 3 table moves BTC by `0.16·k/4` and ETH by `0.18·k/4`
//! at once, and the extended cells keep their common moves (delta-one products at each
//! underlying's own ±range edge). The account currency's own parameters (dampener, roll shock,
//! gain offset and its cap) apply to the whole account.
//!
//! A [`ScanRange`] names an underlying and its three scan parameters; the model turns each into
//! an [`UnderlyingGrid`] cell for cell with its own grid. An underlying without a range takes
//! the model's `price_range`, `volatility_range_up` and `volatility_range_down`. In a model file
//! the parameters read `<UNDERLYING>.<name>`, e.g. `"ETH.price_range": 0.2`.

use super::{DeribitParams, Family, Model, non_negative};
use crate::error::{Error, finite, positive};
use crate::instrument::Asset;
use crate::scenario::{
    self, DERIBIT_EXTENDED_MOVES, MAX_UNDERLYING_GRIDS, Scenario, UnderlyingGrid, UnderlyingGrids,
    VolShock,
};

/// One underlying's own scan parameters (Deribit's names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanRange {
    /// The underlying, e.g. `ETH`.
    pub underlying: Asset,
    /// Largest standard price move of this underlying (0.18 = ±18 %).
    pub price_range: f64,
    /// Relative up shock of its vols at 30 days.
    pub volatility_range_up: f64,
    /// Relative down shock of its vols at 30 days.
    pub volatility_range_down: f64,
}

/// The scan ranges of one model, inline.
pub type ScanRanges = heapless::Vec<ScanRange, MAX_UNDERLYING_GRIDS>;

/// The names a scan range answers to after `<UNDERLYING>.`.
pub const SCAN_PARAMETERS: [&str; 3] = [
    "price_range",
    "volatility_range_up",
    "volatility_range_down",
];

impl ScanRange {
    /// `underlying` at the model's own ranges.
    fn of(underlying: Asset, p: &DeribitParams) -> ScanRange {
        ScanRange {
            underlying,
            price_range: p.price_range,
            volatility_range_up: p.volatility_range_up,
            volatility_range_down: p.volatility_range_down,
        }
    }

    fn field(&mut self, name: &str) -> Option<&mut f64> {
        match name {
            "price_range" => Some(&mut self.price_range),
            "volatility_range_up" => Some(&mut self.volatility_range_up),
            "volatility_range_down" => Some(&mut self.volatility_range_down),
            _ => None,
        }
    }

    /// The three values in the order of [`SCAN_PARAMETERS`].
    pub fn values(&self) -> [f64; 3] {
        [
            self.price_range,
            self.volatility_range_up,
            self.volatility_range_down,
        ]
    }

    fn validate(&self) -> Result<(), Error> {
        positive(self.price_range, "<underlying>.price_range")?;
        non_negative(self.volatility_range_up, "<underlying>.volatility_range_up")?;
        non_negative(
            self.volatility_range_down,
            "<underlying>.volatility_range_down",
        )?;
        Ok(())
    }
}

/// `ETH.price_range` → (`ETH`, `price_range`); `None` for a name without a dot.
fn split(name: &str) -> Option<(&str, &str)> {
    name.split_once('.')
}

impl Model {
    /// The scan parameter `<UNDERLYING>.<name>`, when the model has a range for it.
    pub(super) fn scan_get(&self, name: &str) -> Option<Option<f64>> {
        let (code, field) = split(name)?;
        let asset = Asset::new(code)?;
        let mut range = *self.scan_ranges.iter().find(|r| r.underlying == asset)?;
        Some(range.field(field).map(|v| *v))
    }

    /// Sets `<UNDERLYING>.<name>` (a Deribit model only). An underlying without a range yet
    /// gets one from the model's own ranges first. `Ok(false)` when `name` has no dot.
    pub(super) fn scan_set(&mut self, name: &str, value: f64) -> Result<bool, Error> {
        let Some((code, field)) = split(name) else {
            return Ok(false);
        };
        let Family::Deribit(p) = &self.family else {
            return Err(Error::UnknownParameter);
        };
        let asset = Asset::new(code).ok_or(Error::UnknownParameter)?;
        let value = finite(value, "model parameter")?;
        let index = match self.scan_ranges.iter().position(|r| r.underlying == asset) {
            Some(i) => i,
            None => {
                let fresh = ScanRange::of(asset, p);
                self.scan_ranges.push(fresh).map_err(|_| Error::Capacity {
                    needed: MAX_UNDERLYING_GRIDS + 1,
                    available: MAX_UNDERLYING_GRIDS,
                })?;
                self.scan_ranges.len() - 1
            }
        };
        let slot = self.scan_ranges[index]
            .field(field)
            .ok_or(Error::UnknownParameter)?;
        *slot = value;
        Ok(true)
    }

    /// Checks every scan range (only Deribit models have them).
    pub(super) fn validate_scans(&self) -> Result<(), Error> {
        if !self.scan_ranges.is_empty() && !matches!(self.family, Family::Deribit(_)) {
            return Err(Error::UnknownParameter);
        }
        self.scan_ranges.iter().try_for_each(ScanRange::validate)
    }

    /// Each scanned underlying's own grid, cell for cell with [`Model::scenarios`] (empty for
    /// models without scan ranges).
    pub fn underlying_grids(&self) -> Result<UnderlyingGrids, Error> {
        let mut grids = UnderlyingGrids::new();
        let Family::Deribit(p) = &self.family else {
            return Ok(grids);
        };
        for r in &self.scan_ranges {
            let mut buf = [Scenario::standard(0.0, VolShock::None); scenario::MAX_GRID_SCENARIOS];
            let n = scenario::deribit_grid(
                r.price_range,
                p.buckets_count as u32,
                r.volatility_range_up,
                r.volatility_range_down,
                &DERIBIT_EXTENDED_MOVES,
                &mut buf,
            )?;
            let mut scenarios = heapless::Vec::new();
            for s in &buf[..n] {
                // n ≤ MAX_GRID_SCENARIOS: the buffer has that length.
                let _ = scenarios.push(*s);
            }
            let grid = UnderlyingGrid {
                underlying: r.underlying,
                scenarios,
            };
            // At most MAX_UNDERLYING_GRIDS ranges: the push cannot fail.
            let _ = grids.push(grid);
        }
        Ok(grids)
    }
}
