//! The declarative margin spec: what a model does, as data, interpreted in one place
//! ([`crate::account`]).
//!
//! Every margin model is a choice along the same pipeline:
//!
//! ```text
//! risk rows ─► Σ size·row per underlying ─► risk unit ─► cell aggregation ─► measure ─► add-ons ─► IM/MM
//! ```
//!
//! * **Risk unit** ([`Scope`]): the whole account at once (Deribit: one risk matrix per account;
//!   underlyings net inside each scenario cell) or each underlying on its own with the unit
//!   requirements summed (classic SPAN: each combined commodity is scanned over its own 16
//!   scenarios, the scan risks added; inter-commodity spread credits are not modelled).
//! * **Cell aggregation** ([`CellRule`]): how the underlyings' P&L in one scenario combine
//!   (gain offset and cap, tail dampener, weight).
//! * **Measure** ([`Measure`]): the worst counted cell, rounded to `decimals` places.
//! * **Add-ons** ([`AddOn`]): each a named line item that either adds to the requirement
//!   (roll shock, naked shorts) or floors it (SPAN short-option minimum, Paradex delta minimum),
//!   in the order listed.
//! * **Mapping** ([`Mapping`]): whether the requirement is the initial margin (maintenance a
//!   fraction of it) or the maintenance margin (initial a multiple of it).
//!
//! Presets ([`crate::model::Model`]) keep their parameters under the venue's own names and turn
//! into a spec with [`crate::model::Model::spec`]; clients and the optimizer read the spec, never
//! the model family.

use crate::measure::CellRule;
use crate::scenario::{Scenario, VolShock};
use crate::stats::monte_carlo::Dist;

/// Most add-ons one spec lists.
pub const MAX_ADDONS: usize = 4;

/// Where the requirement is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One requirement for the account: the underlyings' P&L combine in each scenario cell.
    Account,
    /// One requirement per underlying (each with only its own positions), summed: classic SPAN.
    PerUnderlying,
}

/// Where the scenarios come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// A venue grid the model generates itself ([`crate::model::Model::scenarios`]): every
    /// instrument of a market gets a row (risk arrays built once, shared by all accounts).
    Grid,
    /// Joint scenarios from a price history (HS, FHS, Monte Carlo) or a covariance
    /// (parametric): only an account's own instruments are revalued, in blocks.
    Joint(JointSource),
}

/// How joint scenarios are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Historical simulation: h-day windows of daily closes.
    Historical,
    /// Filtered historical simulation: EWMA-rescaled log returns.
    Filtered,
    /// Monte Carlo from a covariance of daily log returns.
    MonteCarlo,
    /// Delta-normal closed form from the same covariance.
    Parametric,
}

impl Method {
    /// The name used on the command line and in JSON: `hs`, `fhs`, `mc`, `parametric`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Historical => "hs",
            Method::Filtered => "fhs",
            Method::MonteCarlo => "mc",
            Method::Parametric => "parametric",
        }
    }
}

/// Which covariance Monte Carlo and parametric use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covariance {
    /// RiskMetrics EWMA at λ.
    Ewma,
    /// Demeaned unbiased sample covariance.
    Sample,
}

/// The parameters of a joint scenario source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointSource {
    /// Scenario method.
    pub method: Method,
    /// Horizon in days (≥ 1).
    pub horizon_days: usize,
    /// Overlapping h-day windows (HS/FHS); else non-overlapping, anchored at the newest close.
    pub overlapping: bool,
    /// EWMA decay λ in (0, 1).
    pub lambda: f64,
    /// Covariance for Monte Carlo and parametric.
    pub covariance: Covariance,
    /// Innovation distribution for Monte Carlo.
    pub dist: Dist,
    /// Monte Carlo scenario count.
    pub scenarios: usize,
    /// Monte Carlo seed.
    pub seed: u64,
    /// Vol shock of every scenario: [`VolShock::None`] or [`VolShock::Rule`].
    pub vol: VolShock,
    /// Step time forward by the horizon (options expiring inside it pay intrinsic).
    pub time_decay: bool,
}

/// Longest horizon a joint source accepts, in days.
pub const MAX_HORIZON_DAYS: usize = 250;
/// Fewest and most Monte Carlo (and parametric comparison) scenarios.
pub const SCENARIO_RANGE: (usize, usize) = (100, 10_000_000);

impl JointSource {
    /// Checks every parameter against its documented range: horizon 1 to
    /// [`MAX_HORIZON_DAYS`] days; λ in (0, 1); Monte Carlo and parametric scenario counts in
    /// [`SCENARIO_RANGE`]; Student-t ν finite and > 2; vol rule shift and β finite, floor
    /// finite and ≥ 0. The one check every client's joint scenarios pass through.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let out = |what, value| Err(crate::Error::OutOfRange { what, value });
        if !(1..=MAX_HORIZON_DAYS).contains(&self.horizon_days) {
            return out("horizon in days (1 to 250)", self.horizon_days as f64);
        }
        if !(self.lambda > 0.0 && self.lambda < 1.0) {
            return out("EWMA decay lambda (in (0, 1))", self.lambda);
        }
        let (lo, hi) = SCENARIO_RANGE;
        if matches!(self.method, Method::MonteCarlo | Method::Parametric)
            && !(lo..=hi).contains(&self.scenarios)
        {
            return out("scenarios (100 to 10,000,000)", self.scenarios as f64);
        }
        if let Dist::StudentT { nu } = self.dist
            && !(nu.is_finite() && nu > 2.0)
        {
            return out("Student-t degrees of freedom (finite, > 2)", nu);
        }
        if let VolShock::Rule { shift, beta, floor } = self.vol {
            crate::error::finite(shift, "vol rule shift")?;
            crate::error::finite(beta, "vol rule beta")?;
            if crate::error::finite(floor, "vol rule floor")? < 0.0 {
                return out("vol rule floor (>= 0)", floor);
            }
        }
        Ok(())
    }

    /// The scenario every joint scenario copies (its vol shock and time step); the price moves
    /// come from the joint table.
    pub fn template(&self) -> Scenario {
        Scenario {
            time_step: if self.time_decay {
                self.horizon_days as f64 / 365.0
            } else {
                0.0
            },
            ..Scenario::standard(0.0, self.vol)
        }
    }
}

/// How the aggregated cells become one number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// The loss of the lowest counted cell (0 when none loses), reported as line item `name`,
    /// and added to the requirement rounded half away from zero to `decimals` places
    /// (negative: unrounded; Deribit rounds to 9, methodologies §9.1).
    Worst {
        /// Line-item name (`worst_case`, `scan_risk`).
        name: &'static str,
        /// Decimal places of the rounding, or negative for none.
        decimals: i32,
    },
    /// VaR or Expected Shortfall at `confidence` of N equally likely joint-scenario losses
    /// (Acerbi & Tasche 2002; see [`crate::stats::tail`]).
    Tail {
        /// Line-item name (`expected_shortfall`, `value_at_risk`).
        name: &'static str,
        /// ES when true, VaR otherwise.
        expected_shortfall: bool,
        /// Confidence level c in (0, 1).
        confidence: f64,
    },
}

impl Measure {
    /// The line-item name of the measure.
    pub fn name(&self) -> &'static str {
        match self {
            Measure::Worst { name, .. } | Measure::Tail { name, .. } => name,
        }
    }
}

/// How an add-on enters the requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// `requirement + value`.
    Add,
    /// `max(requirement, value)`.
    Floor,
}

/// An add-on: a named line item computed from the positions (see [`crate::addon`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOn {
    /// Deribit roll shock on futures and perpetuals (adds).
    RollShock {
        /// Minimum move (Deribit `min_annualised_move`).
        min_annualised_move: f64,
        /// Move per year of expiry (Deribit `annualised_move_risk`).
        annualised_move_risk: f64,
    },
    /// Net short options per strike, a fraction of a coin each (adds).
    NakedShort {
        /// Coins per naked contract.
        per_contract: f64,
    },
    /// SPAN short-option minimum (floors).
    ShortOptionMinimum {
        /// Coins per short contract.
        per_contract: f64,
    },
    /// Paradex minimum delta requirement (floors).
    DeltaMinimum {
        /// Rate on |net delta|.
        net: f64,
        /// Rate on hedged delta.
        hedged: f64,
    },
}

impl AddOn {
    /// Stable line-item name.
    pub fn name(&self) -> &'static str {
        match self {
            AddOn::RollShock { .. } => "roll_shock",
            AddOn::NakedShort { .. } => "naked_short",
            AddOn::ShortOptionMinimum { .. } => "short_option_minimum",
            AddOn::DeltaMinimum { .. } => "delta_minimum",
        }
    }

    /// Whether it adds to or floors the requirement.
    pub fn combine(&self) -> Combine {
        match self {
            AddOn::RollShock { .. } | AddOn::NakedShort { .. } => Combine::Add,
            AddOn::ShortOptionMinimum { .. } | AddOn::DeltaMinimum { .. } => Combine::Floor,
        }
    }
}

/// Which margin the requirement is, and how the other follows from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mapping {
    /// IM = requirement, MM = `mm_factor` × IM (Deribit, Paradex).
    Initial {
        /// Maintenance as a fraction of initial.
        mm_factor: f64,
    },
    /// MM = requirement, IM = `im_ratio` × MM (SPAN).
    Maintenance {
        /// Initial as a multiple of maintenance.
        im_ratio: f64,
    },
}

impl Mapping {
    /// `(initial, maintenance)` of a requirement.
    pub fn apply(&self, requirement: f64) -> (f64, f64) {
        match *self {
            Mapping::Initial { mm_factor } => (requirement, mm_factor * requirement),
            Mapping::Maintenance { im_ratio } => (im_ratio * requirement, requirement),
        }
    }
}

/// A margin model as data. Money amounts in `cell` are in USD; the interpreter converts them
/// to the account currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Scenario source.
    pub source: Source,
    /// Risk unit.
    pub scope: Scope,
    /// Cell aggregation across underlyings (amounts in USD).
    pub cell: CellRule,
    /// The measure over the cells.
    pub measure: Measure,
    /// Add-ons, applied in order.
    pub addons: heapless::Vec<AddOn, MAX_ADDONS>,
    /// Line item reporting the requirement after add-ons (Deribit `risk_matrix_margin`), if any.
    pub total: Option<&'static str>,
    /// IM/MM mapping.
    pub mapping: Mapping,
}
