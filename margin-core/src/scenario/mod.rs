//! Scenario definitions and generators.
//!
//! A scenario moves every underlying's price by a relative amount, shocks implied vols, may
//! step time forward, and carries a weight (the fraction of its P&L that counts: SPAN's cover
//! fraction, Paradex's tail weights). Generators write into caller storage and return how many
//! scenarios they wrote, so nothing allocates.
//!
//! The vol shock family covers the public methodologies:
//! * tenor-scaled relative (Deribit, Derive, Paradex): `σ·(1 ± R·(30/max(DTE, floor))^p)`, with
//!   `p` switching at 30 days and an optional floor on the up state;
//! * absolute vol points (SPAN): `σ ± VSR`;
//! * none.
//!
//! Shocked vols are floored at [`MIN_SHOCKED_VOL`] so a large down shock prices the option at
//! (almost) its discounted intrinsic value instead of failing.

use crate::error::{Error, finite, positive};
use crate::instrument::Asset;
use core::fmt;

mod grid;
mod joint;
pub use grid::{DERIBIT_EXTENDED_MOVES, deribit_grid, grid, span16};
pub use joint::JointMoves;

/// Most scenarios one grid holds (inline, no heap).
pub const MAX_GRID_SCENARIOS: usize = 128;
/// Most underlyings a grid may scan with ranges of their own ([`UnderlyingGrid`]).
pub const MAX_UNDERLYING_GRIDS: usize = 4;

/// One underlying's own scan of a grid: the same cells as the set's scenarios (same count,
/// kinds, weights and time steps, in the same order) with this underlying's price moves and
/// vol shocks. Deribit margins a linear account holding several underlyings with each
/// underlying at its own currency's price and vol ranges in the same numbered cell.
#[derive(Debug, Clone, PartialEq)]
pub struct UnderlyingGrid {
    /// The underlying whose instruments read these scenarios.
    pub underlying: Asset,
    /// Its scenarios, cell for cell with the set's.
    pub scenarios: heapless::Vec<Scenario, MAX_GRID_SCENARIOS>,
}

/// The underlying grids of one model, inline.
pub type UnderlyingGrids = heapless::Vec<UnderlyingGrid, MAX_UNDERLYING_GRIDS>;

/// The lowest vol a shock can produce (0.01 vol point).
pub const MIN_SHOCKED_VOL: f64 = 1e-4;

/// Standard cells count fully; extended (tail) cells may be weighted or dampened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKind {
    /// A regular grid cell.
    Standard,
    /// A tail cell (Deribit's extended table, SPAN's extreme moves).
    Extended,
}

/// Direction of a tenor-scaled relative vol shock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolDirection {
    /// Vols rise.
    Up,
    /// Vols fall.
    Down,
}

/// How a scenario moves implied vols.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VolShock {
    /// Vols unchanged.
    None,
    /// Relative, tenor-scaled: `σ·(1 ± range·(30/max(DTE, floor))^p)`; the term structure
    /// parameters live in [`TenorScaling`].
    Tenor {
        /// Up or down.
        direction: VolDirection,
        /// The range `R` (Deribit `volatility_range_up` / `volatility_range_down`).
        range: f64,
    },
    /// Absolute shift in vol (SPAN's volatility scan range): `σ + shift`.
    Absolute(f64),
    /// A vol that follows the price (statistical scenarios): `max(σ + shift + β·ln(F'/F), floor)`
    /// with `F'/F = 1 + move` of the option's underlying; β < 0 raises vols when prices fall.
    Rule {
        /// Parallel shift `a`, absolute vol.
        shift: f64,
        /// Sensitivity `β` to the log price move.
        beta: f64,
        /// Lowest vol the rule produces.
        floor: f64,
    },
}

/// Term-structure parameters of tenor-scaled vol shocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TenorScaling {
    /// Exponent below the pivot (Deribit `short_term_vega_power`).
    pub short_term_power: f64,
    /// Exponent at or above the pivot (Deribit `long_term_vega_power`).
    pub long_term_power: f64,
    /// Days at which the exponent switches and the scale is 1 (30).
    pub pivot_days: f64,
    /// Floor on days to expiry in the scale, so expiring options are not shocked without bound.
    pub dte_floor_days: f64,
    /// Floor on an up-shocked vol (Deribit `min_volatility_for_shock_up`); 0 for none.
    pub min_vol_up: f64,
}

impl TenorScaling {
    /// Deribit's published term structure: powers 0.30/0.13 pivoting at 30 days, a 1-day DTE
    /// floor (Deribit publishes none; Derive and Paradex use 1 day), and the given up floor.
    pub const fn deribit(min_vol_up: f64) -> TenorScaling {
        TenorScaling {
            short_term_power: 0.30,
            long_term_power: 0.13,
            pivot_days: 30.0,
            dte_floor_days: 1.0,
            min_vol_up,
        }
    }

    /// The multiplier `(pivot/max(DTE, floor))^p` for an option with `dte_days` left.
    pub fn scale(&self, dte_days: f64) -> f64 {
        let p = if dte_days < self.pivot_days {
            self.short_term_power
        } else {
            self.long_term_power
        };
        libm::pow(self.pivot_days / dte_days.max(self.dte_floor_days), p)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        finite(self.short_term_power, "short_term_vega_power")?;
        finite(self.long_term_power, "long_term_vega_power")?;
        positive(self.pivot_days, "vega pivot days")?;
        positive(self.dte_floor_days, "DTE floor")?;
        let m = finite(self.min_vol_up, "min_volatility_for_shock_up")?;
        if m < 0.0 {
            return Err(Error::NonPositive {
                what: "min_volatility_for_shock_up",
                value: m,
            });
        }
        Ok(())
    }
}

impl VolShock {
    /// The shocked vol of an option with vol `sigma` and `dte_days` to expiry.
    pub fn apply(&self, sigma: f64, dte_days: f64, tenor: &TenorScaling) -> f64 {
        self.apply_scaled(sigma, 0.0, || tenor.scale(dte_days), tenor.min_vol_up)
    }

    /// [`VolShock::apply`] under a relative price move `price_move` (read only by
    /// [`VolShock::Rule`]), with the tenor scale supplied by `scale` (called only for tenor
    /// shocks), so a caller shocking one option many times computes `(30/DTE)^p` once.
    pub fn apply_scaled(
        &self,
        sigma: f64,
        price_move: f64,
        scale: impl FnOnce() -> f64,
        min_vol_up: f64,
    ) -> f64 {
        let shocked = match *self {
            VolShock::None => sigma,
            VolShock::Absolute(shift) => sigma + shift,
            VolShock::Rule { shift, beta, floor } => {
                (sigma + shift + beta * libm::log1p(price_move)).max(floor)
            }
            VolShock::Tenor {
                direction: VolDirection::Up,
                range,
            } => (sigma * (1.0 + range * scale())).max(min_vol_up),
            VolShock::Tenor {
                direction: VolDirection::Down,
                range,
            } => sigma * (1.0 - range * scale()),
        };
        shocked.max(MIN_SHOCKED_VOL)
    }

    /// -1, 0 or +1: the sign of the shock, for reports.
    pub fn sign(&self) -> i8 {
        match *self {
            VolShock::None => 0,
            VolShock::Tenor {
                direction: VolDirection::Up,
                ..
            } => 1,
            VolShock::Tenor {
                direction: VolDirection::Down,
                ..
            } => -1,
            VolShock::Absolute(x) | VolShock::Rule { shift: x, .. } if x > 0.0 => 1,
            VolShock::Absolute(x) | VolShock::Rule { shift: x, .. } if x < 0.0 => -1,
            VolShock::Absolute(_) | VolShock::Rule { .. } => 0,
        }
    }

    /// The shock's size as a signed number: `±R` for tenor shocks, the shift for absolute ones.
    pub fn magnitude(&self) -> f64 {
        match *self {
            VolShock::None => 0.0,
            VolShock::Tenor {
                direction: VolDirection::Up,
                range,
            } => range,
            VolShock::Tenor {
                direction: VolDirection::Down,
                range,
            } => -range,
            VolShock::Absolute(x) | VolShock::Rule { shift: x, .. } => x,
        }
    }
}

/// One market scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    /// Relative move of every forward, index and perpetual mark applied to options (−0.16 = −16 %).
    pub price_move: f64,
    /// Relative move applied to futures, perpetuals and spot. Equal to `price_move` except in
    /// Deribit's extended table, where delta-one products stay at the ±`price_range` edge (the
    /// behaviour visible in Deribit's own risk vectors, methodologies §1.2).
    pub delta_one_move: f64,
    /// How vols move.
    pub vol_shock: VolShock,
    /// Years of time decay applied (SPAN's one-day look-ahead is 1/365); 0 for none.
    pub time_step: f64,
    /// Fraction of the scenario's loss that counts (1 for standard cells).
    pub weight: f64,
    /// Standard or extended.
    pub kind: ScenarioKind,
}

impl Scenario {
    /// A standard, full-weight scenario without time decay.
    pub const fn standard(price_move: f64, vol_shock: VolShock) -> Scenario {
        Scenario {
            price_move,
            delta_one_move: price_move,
            vol_shock,
            time_step: 0.0,
            weight: 1.0,
            kind: ScenarioKind::Standard,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let m = finite(self.price_move, "scenario price move")?;
        let d = finite(self.delta_one_move, "scenario delta-one move")?;
        if m <= -1.0 || d <= -1.0 {
            return Err(Error::NonPositive {
                what: "1 + scenario price move",
                value: 1.0 + m.min(d),
            });
        }
        finite(self.vol_shock.magnitude(), "scenario vol shock")?;
        if let VolShock::Rule { beta, floor, .. } = self.vol_shock {
            finite(beta, "vol rule beta")?;
            if finite(floor, "vol rule floor")? < 0.0 {
                return Err(Error::NonPositive {
                    what: "vol rule floor",
                    value: floor,
                });
            }
        }
        let t = finite(self.time_step, "scenario time step")?;
        if t < 0.0 {
            return Err(Error::NonPositive {
                what: "scenario time step",
                value: t,
            });
        }
        let w = finite(self.weight, "scenario weight")?;
        if w < 0.0 {
            return Err(Error::NonPositive {
                what: "scenario weight",
                value: w,
            });
        }
        Ok(())
    }
}

impl fmt::Display for Scenario {
    /// A short label: `-16% vol up`, `+200% vol up (ext)`, `+33% vol 0 (35%)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+}%", libm::round(self.price_move * 1e4) / 1e2)?;
        f.write_str(match self.vol_shock.sign() {
            1 => " vol up",
            -1 => " vol down",
            _ => " vol same",
        })?;
        if self.kind == ScenarioKind::Extended {
            f.write_str(" (ext)")?;
        }
        if self.weight != 1.0 {
            write!(f, " ×{}", self.weight)?;
        }
        Ok(())
    }
}

/// A validated list of scenarios plus the term structure their tenor shocks use, and, for
/// joint scenarios, the per-underlying moves.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioSet<'a> {
    scenarios: &'a [Scenario],
    tenor: TenorScaling,
    origin: Option<u64>,
    joint: Option<JointMoves<'a>>,
    grids: &'a [UnderlyingGrid],
}

impl<'a> ScenarioSet<'a> {
    /// Validates every scenario (finite numbers, moves above −100 %, non-negative weights).
    pub fn new(scenarios: &'a [Scenario], tenor: TenorScaling) -> Result<Self, Error> {
        if scenarios.is_empty() {
            return Err(Error::Capacity {
                needed: 1,
                available: 0,
            });
        }
        tenor.validate()?;
        for s in scenarios {
            s.validate()?;
        }
        Ok(ScenarioSet {
            scenarios,
            tenor,
            origin: None,
            joint: None,
            grids: &[],
        })
    }

    /// A set over `scenarios` already validated with `tenor` (and tagged with `origin`) by
    /// [`ScenarioSet::new`]: no check, so an owner that validated once (the `std` risk
    /// matrix) rebinds its set per call in O(1).
    #[cfg(feature = "std")]
    pub(crate) fn validated(
        scenarios: &'a [Scenario],
        grids: &'a [UnderlyingGrid],
        tenor: TenorScaling,
        origin: Option<u64>,
    ) -> Self {
        ScenarioSet {
            scenarios,
            tenor,
            origin,
            joint: None,
            grids,
        }
    }

    /// The same cells with `grids`: each listed underlying's instruments read its own
    /// scenarios instead of the set's. Each grid must match the set cell for cell (count,
    /// kind, weight, time step), list its underlying once, and hold valid scenarios; joint
    /// moves and underlying grids do not mix.
    pub fn with_underlying_grids(self, grids: &'a [UnderlyingGrid]) -> Result<Self, Error> {
        let mismatch = |value: f64| Error::OutOfRange {
            what: "underlying grid (the same cells as the scenario set: count, kind, weight, \
                   time step)",
            value,
        };
        if self.joint.is_some() && !grids.is_empty() {
            return Err(mismatch(0.0));
        }
        for (index, g) in grids.iter().enumerate() {
            if grids[..index].iter().any(|h| h.underlying == g.underlying) {
                return Err(Error::Duplicate {
                    what: "underlying grid",
                    index,
                });
            }
            if g.scenarios.len() != self.scenarios.len() {
                return Err(mismatch(g.scenarios.len() as f64));
            }
            for (own, base) in g.scenarios.iter().zip(self.scenarios) {
                own.validate()?;
                let same = own.kind == base.kind
                    && own.weight.to_bits() == base.weight.to_bits()
                    && own.time_step.to_bits() == base.time_step.to_bits();
                if !same {
                    return Err(mismatch(own.price_move));
                }
            }
        }
        Ok(ScenarioSet { grids, ..self })
    }

    /// The grids of underlyings scanned with their own ranges (empty for most sets).
    pub fn underlying_grids(&self) -> &'a [UnderlyingGrid] {
        self.grids
    }

    /// The scenarios `underlying`'s instruments are revalued under: its own grid's when the
    /// set has one for it, else the set's.
    pub fn scenarios_for(&self, underlying: &Asset) -> &'a [Scenario] {
        match self.grids.iter().find(|g| g.underlying == *underlying) {
            Some(g) => &g.scenarios,
            None => self.scenarios,
        }
    }

    /// The same scenarios with per-underlying moves (one row per scenario).
    pub fn with_joint(self, joint: JointMoves<'a>) -> Result<Self, Error> {
        if joint.len() != self.scenarios.len() || !self.grids.is_empty() {
            return Err(Error::Capacity {
                needed: self.scenarios.len(),
                available: joint.len(),
            });
        }
        Ok(ScenarioSet {
            joint: Some(joint),
            ..self
        })
    }

    /// The per-underlying moves, when the scenarios are joint.
    pub fn joint(&self) -> Option<&JointMoves<'a>> {
        self.joint.as_ref()
    }

    /// The same set, tagged with the digest of the model that generated it (see
    /// `Model::scenario_set`), so margin calls can confirm the model in O(1).
    pub(crate) fn with_origin(self, digest: u64) -> Self {
        ScenarioSet {
            origin: Some(digest),
            ..self
        }
    }

    /// Digest of the model these scenarios were generated from, if built through it.
    pub fn origin(&self) -> Option<u64> {
        self.origin
    }

    /// The scenarios, in order.
    pub fn scenarios(&self) -> &'a [Scenario] {
        self.scenarios
    }

    /// Number of scenarios.
    pub fn len(&self) -> usize {
        self.scenarios.len()
    }

    /// Always false: a set holds at least one scenario.
    pub fn is_empty(&self) -> bool {
        self.scenarios.is_empty()
    }

    /// The term structure of tenor-scaled vol shocks.
    pub fn tenor(&self) -> &TenorScaling {
        &self.tenor
    }
}
