//! The parameter sets of the model families, named as each venue names them, and the values
//! of the built-in presets (each mirrored by a versioned file under `presets/`).

use super::Grid;
use crate::error::{Error, finite};

/// Declares named `f64` parameters: `NAMES`, `get` and `set` from one list.
macro_rules! named_params {
    ($ty:ident { $($(#[$doc:meta])* $field:ident),* $(,)? }) => {
        /// Parameters, named as the venue names them.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $ty {
            $($(#[$doc])* pub $field: f64,)*
        }
        impl $ty {
            /// Every parameter name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];
            /// Every value, in the order of [`Self::NAMES`].
            pub fn values(&self) -> impl Iterator<Item = f64> {
                [$(self.$field),*].into_iter()
            }
            /// The value of parameter `name`.
            pub fn get(&self, name: &str) -> Option<f64> {
                match name { $(stringify!($field) => Some(self.$field),)* _ => None }
            }
            /// Overrides parameter `name`; the model validates values when it is used.
            pub fn set(&mut self, name: &str, value: f64) -> Result<(), Error> {
                match name {
                    $(stringify!($field) => self.$field = finite(value, "model parameter")?,)*
                    _ => return Err(Error::UnknownParameter),
                }
                Ok(())
            }
        }
    };
}

named_params!(DeribitParams {
    /// Largest standard price move (0.16 = ±16 %).
    price_range,
    /// Buckets on each side of 0 (4 gives 9 moves).
    buckets_count,
    /// Vol states per bucket; Deribit uses 3 (up, unchanged, down), the only value supported.
    vol_scenarios_count,
    /// Relative up shock at 30 days.
    volatility_range_up,
    /// Relative down shock at 30 days.
    volatility_range_down,
    /// Floor on an up-shocked vol.
    min_volatility_for_shock_up,
    /// Vega power below 30 days.
    short_term_vega_power,
    /// Vega power at or above 30 days.
    long_term_vega_power,
    /// Multiplier on dampened extended-table losses.
    extended_table_factor,
    /// USD subtracted from an extended-table loss before it counts (our documented choice).
    extended_dampener,
    /// Roll shock per year of expiry.
    annualised_move_risk,
    /// Minimum roll shock.
    min_annualised_move,
    /// Fraction of gains allowed to offset losses in a cell.
    pnl_offset,
    /// Cap on offsetting gains, USD (0 with pnl_offset 0; use a huge value for no cap).
    max_offsetable_pnl,
    /// Maintenance margin as a fraction of the risk-matrix margin.
    mm_factor,
    /// Decimal places the worst case is rounded to (half away from zero) before add-ons; −1 for none.
    worst_case_decimals,
    /// Legacy contingency per net short option per strike, as a fraction of one coin; 0 for off.
    naked_short_per_strike,
});

named_params!(SpanParams {
    /// Price scan range as a fraction of the price.
    price_scan_range,
    /// Vol scan range, absolute vol (0.05 = 5 vol points).
    volatility_scan_range,
    /// Extreme move as a multiple of the price scan range.
    extreme_move_multiple,
    /// Fraction of the extreme-move loss that counts.
    extreme_move_cover,
    /// Look-ahead in days.
    look_ahead_days,
    /// Short-option minimum per short option, as a fraction of the underlying price.
    short_option_minimum,
    /// Initial margin as a multiple of maintenance.
    im_ratio,
});

named_params!(GridParams {
    /// Relative vol shock up at 30 days (tenor-scaled like Deribit's); 0 for none.
    volatility_range_up,
    /// Relative vol shock down at 30 days; 0 for none.
    volatility_range_down,
    /// Floor on an up-shocked vol.
    min_volatility_for_shock_up,
    /// Vega power below 30 days.
    short_term_vega_power,
    /// Vega power at or above 30 days.
    long_term_vega_power,
    /// Minimum as a fraction of |net delta| × price (Paradex 0.02); 0 for off.
    delta_minimum_net,
    /// Minimum as a fraction of hedged delta × price (Paradex 0.01).
    delta_minimum_hedged,
    /// Maintenance margin as a fraction of initial.
    mm_factor,
});

named_params!(StatisticalParams {
    /// Confidence level c of VaR or ES, in (0, 1).
    confidence,
    /// Horizon in days, whole, 1 to 250.
    horizon_days,
    /// EWMA decay λ in (0, 1): the FHS filter, the EWMA covariance, the reported vols.
    ewma_lambda,
    /// 1: overlapping h-day windows (HS/FHS); 0: non-overlapping, anchored at the newest close.
    overlapping,
    /// 1: EWMA covariance; 0: sample covariance (Monte Carlo, parametric).
    ewma_covariance,
    /// Monte Carlo scenario count, whole, 100 to 10,000,000.
    scenarios,
    /// Monte Carlo seed, whole, 0 to 2^53.
    seed,
    /// Degrees of freedom of Student-t innovations (> 2), or 0 for normal ones.
    student_t_nu,
    /// Vol rule σ' = max(σ + shift + β·ln(F'/F), floor): the shift (absolute vol). With
    /// vol_beta and vol_floor all 0, vols stay unchanged.
    vol_shift,
    /// Vol rule β.
    vol_beta,
    /// Vol rule floor (absolute vol, ≥ 0).
    vol_floor,
    /// 1: step time forward by the horizon (options expiring inside it pay intrinsic); 0: not.
    time_decay,
    /// Maintenance margin as a fraction of initial, in [0.1, 1].
    mm_factor,
});

/// The statistical presets' common values: 99 %, 2 days (OCC STANS, methodologies §5.3),
/// RiskMetrics λ = 0.94, overlapping windows, vols unchanged, no time decay, MM = 80 % of IM
/// (our choice: clearing houses publish no MM/IM split for these models).
pub(crate) const STATISTICAL: StatisticalParams = StatisticalParams {
    confidence: 0.99,
    horizon_days: 2.0,
    ewma_lambda: 0.94,
    overlapping: 1.0,
    ewma_covariance: 1.0,
    scenarios: 10_000.0,
    seed: 1.0,
    student_t_nu: 0.0,
    vol_shift: 0.0,
    vol_beta: 0.0,
    vol_floor: 0.0,
    time_decay: 0.0,
    mm_factor: 0.8,
};

pub(crate) const DERIBIT_BTC: DeribitParams = DeribitParams {
    price_range: 0.16,
    buckets_count: 4.0,
    vol_scenarios_count: 3.0,
    volatility_range_up: 0.50,
    volatility_range_down: 0.25,
    min_volatility_for_shock_up: 0.50,
    short_term_vega_power: 0.30,
    long_term_vega_power: 0.13,
    extended_table_factor: 1.0,
    extended_dampener: 100_000.0,
    annualised_move_risk: 0.075,
    min_annualised_move: 0.01,
    pnl_offset: 0.0,
    max_offsetable_pnl: 0.0,
    mm_factor: 0.8,
    worst_case_decimals: 9.0,
    naked_short_per_strike: 0.0,
};

pub(crate) const DERIBIT_ETH: DeribitParams = DeribitParams {
    price_range: 0.18,
    volatility_range_up: 0.40,
    extended_dampener: 200_000.0,
    annualised_move_risk: 0.05,
    min_annualised_move: 0.005,
    pnl_offset: 0.6,
    max_offsetable_pnl: 20_000_000.0,
    ..DERIBIT_BTC
};

/// Deribit PM for the USDC settlement currency (linear contracts): BTC's scan ranges (other
/// underlyings at their own, see `scan.rs`), the USD currency's dampener, roll shock and gain
/// offset with its cap (methodologies §1.7).
pub(crate) const DERIBIT_USDC: DeribitParams = DeribitParams {
    extended_dampener: 25_000.0,
    annualised_move_risk: 0.10,
    min_annualised_move: 0.01,
    pnl_offset: 0.4,
    max_offsetable_pnl: 1_000_000.0,
    ..DERIBIT_BTC
};

pub(crate) const SPAN16: SpanParams = SpanParams {
    price_scan_range: 0.15,
    volatility_scan_range: 0.10,
    extreme_move_multiple: 2.0,
    extreme_move_cover: 0.35,
    look_ahead_days: 1.0,
    short_option_minimum: 0.005,
    im_ratio: 1.10,
};

/// Paradex's published 24-row vector as a grid: ±16 % in 4 % steps plus the 8 tail rows with
/// weights 0.16/|move| (methodologies §3.3, §9.11), vols +40 %/−22 %, min-delta 2 %/1 %, MM 50 %.
/// The moves are written out as decimal literals (not generated as `−0.16 + 0.04·i`, which
/// is off by an ulp for some) so `presets/grid.json` states them exactly.
pub const PARADEX_PRICE_MOVES: [(f64, f64); 17] = [
    (-0.16, 1.0),
    (-0.12, 1.0),
    (-0.08, 1.0),
    (-0.04, 1.0),
    (0.0, 1.0),
    (0.04, 1.0),
    (0.08, 1.0),
    (0.12, 1.0),
    (0.16, 1.0),
    (-0.66, 0.24),
    (-0.33, 0.48),
    (0.5, 0.32),
    (1.0, 0.16),
    (2.0, 0.08),
    (3.0, 0.0533),
    (4.0, 0.04),
    (5.0, 0.032),
];

pub(crate) fn paradex_grid() -> Grid {
    let mut price_moves = heapless::Vec::new();
    for m in PARADEX_PRICE_MOVES {
        let _ = price_moves.push(m);
    }
    Grid {
        price_moves,
        params: GridParams {
            volatility_range_up: 0.40,
            volatility_range_down: 0.22,
            min_volatility_for_shock_up: 0.0,
            short_term_vega_power: 0.30,
            long_term_vega_power: 0.13,
            delta_minimum_net: 0.02,
            delta_minimum_hedged: 0.01,
            mm_factor: 0.5,
        },
    }
}
