//! Deribit Standard Margin (SM): the isolated, position-by-position requirement that portfolio
//! margin is compared against (methodologies §1.6). Nothing else in the engine uses it; it is
//! the reference for "margin benefit" reports and a check on the scenario engine.
//!
//! * Short options, per contract of one coin, with `U` the underlying price, `OTM` the
//!   out-of-the-money amount and `mark` the option's mark, all in one currency:
//!   call IM = `max(15 %·U − OTM, 10 %·U) + mark`, call MM = `7.5 %·U + mark`;
//!   put MM = `max(7.5 %·U, 7.5 %·mark) + mark`, put IM = `max(max(15 %·U − OTM, 10 %·U) + mark, MM)`.
//!   With `U = 1` and the mark in coin this is Deribit's coin form; with USD inputs it is the
//!   USD form Bit.com publishes (§9.4). Long options need no margin beyond their premium.
//! * Futures and perpetuals (since 11 January 2022): rate = base + |size|·increment, and the
//!   requirement is rate × |size| in coins of the underlying (× price for USD).

use crate::error::{Error, finite, positive};
use crate::instrument::Right;

/// Initial and maintenance requirement, in the currency of the inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Requirement {
    /// Initial margin.
    pub initial: f64,
    /// Maintenance margin.
    pub maintenance: f64,
}

impl Requirement {
    /// The requirement of `contracts` identical positions (SM is linear in the option count).
    pub fn times(self, contracts: f64) -> Requirement {
        Requirement {
            initial: self.initial * contracts,
            maintenance: self.maintenance * contracts,
        }
    }
}

/// Rates of the short-option formula, as fractions of the underlying price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionRates {
    /// Initial rate before the out-of-the-money reduction (0.15).
    pub initial: f64,
    /// Floor of the initial rate after the reduction (0.10).
    pub initial_floor: f64,
    /// Maintenance rate (0.075).
    pub maintenance: f64,
}

/// Deribit's (and Bit.com's) short-option rates.
pub const DERIBIT_OPTION_RATES: OptionRates = OptionRates {
    initial: 0.15,
    initial_floor: 0.10,
    maintenance: 0.075,
};

/// Requirement of one short option on one coin. `underlying`, `strike` and `mark` share a
/// currency (USD, or coin with `underlying = 1` and `strike` as `K/S`), and so does the result.
/// Errors on non-finite inputs, non-positive underlying or strike, or a negative mark.
pub fn short_option(
    right: Right,
    underlying: f64,
    strike: f64,
    mark: f64,
    rates: &OptionRates,
) -> Result<Requirement, Error> {
    let u = positive(underlying, "underlying price")?;
    let k = positive(strike, "strike")?;
    let mark = finite(mark, "option mark")?;
    if mark < 0.0 {
        return Err(Error::NonPositive {
            what: "option mark",
            value: mark,
        });
    }
    let otm = match right {
        Right::Call => (k - u).max(0.0),
        Right::Put => (u - k).max(0.0),
    };
    let base = (rates.initial * u - otm).max(rates.initial_floor * u) + mark;
    Ok(match right {
        Right::Call => Requirement {
            initial: base,
            maintenance: rates.maintenance * u + mark,
        },
        Right::Put => {
            let maintenance = (rates.maintenance * u).max(rates.maintenance * mark) + mark;
            Requirement {
                initial: base.max(maintenance),
                maintenance,
            }
        }
    })
}

/// Size-scaled rates of futures and perpetuals: `base + |size|·increment`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeltaOneRates {
    /// Initial rate at size 0.
    pub initial_base: f64,
    /// Maintenance rate at size 0.
    pub maintenance_base: f64,
    /// Rate added per coin of position (Deribit's `m_inc`).
    pub increment: f64,
}

/// BTC futures and perpetuals (inverse and `BTC_USDC`): IM 2 %, MM 1 %, + 0.005 % per BTC.
pub const DERIBIT_BTC_DELTA_ONE: DeltaOneRates = DeltaOneRates {
    initial_base: 0.02,
    maintenance_base: 0.01,
    increment: 0.00005,
};

/// ETH futures and perpetuals: IM 2 %, MM 1 %, + 0.0004 % per ETH.
pub const DERIBIT_ETH_DELTA_ONE: DeltaOneRates = DeltaOneRates {
    initial_base: 0.02,
    maintenance_base: 0.01,
    increment: 0.000004,
};

/// `SOL_USDC` linear perpetual: IM 4 %, MM 2 %, + 0.0005 % per SOL.
pub const DERIBIT_SOL_USDC_DELTA_ONE: DeltaOneRates = DeltaOneRates {
    initial_base: 0.04,
    maintenance_base: 0.02,
    increment: 0.000005,
};

/// Requirement of a future or perpetual of signed `size` coins, in coins of the underlying
/// (multiply by the price for the quote currency). Errors on a non-finite size.
pub fn delta_one(size: f64, rates: &DeltaOneRates) -> Result<Requirement, Error> {
    let q = finite(size, "position size")?.abs();
    Ok(Requirement {
        initial: (rates.initial_base + q * rates.increment) * q,
        maintenance: (rates.maintenance_base + q * rates.increment) * q,
    })
}
