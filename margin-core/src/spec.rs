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
}

impl Measure {
    /// The line-item name of the measure.
    pub fn name(&self) -> &'static str {
        match self {
            Measure::Worst { name, .. } => name,
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
