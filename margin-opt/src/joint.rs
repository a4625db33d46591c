//! Statistical presets (`hs-es`, `fhs-es`, `mc-es`, `parametric-var`) in every client that
//! margins with a grid preset: `compute`, `whatif`, `batch`.
//!
//! A [`JointEngine`] holds the model and its joint scenarios, built once per run from a price
//! history. An account is looked up and validated exactly as for grids — the same
//! [`RiskMatrix`] gives its rows, pricing inputs, currency and size checks (one instrument
//! universe for every client) — and then margined over the joint scenarios with
//! [`crate::var::margin`]. The matrix is built under a grid preset ([`LOOKUP_PRESET`]) whose
//! scenarios are used only for that validation.

use crate::var::{self, Closes, Scenarios, VarError, VarParams, VarReport};
use margin_core::account::Account;
use margin_core::account::Margin;
use margin_core::io::Portfolio;
use margin_core::io::PriceHistory;
use margin_core::io::engine::AccountError;
use margin_core::io::matrix::RiskMatrix;
use margin_core::model::Model;
use margin_core::risk::{Position, RiskArrays};
use margin_core::statistical::Book;
use margin_core::time::Timestamp;
use margin_core::{Asset, Error, Instrument};
use std::fmt;

/// The grid preset the universe of a statistical run is built under (lookups only).
pub const LOOKUP_PRESET: &str = "deribit-btc";

/// A statistical model with its scenarios.
#[derive(Debug, Clone)]
pub struct JointEngine {
    model: Model,
    params: VarParams,
    scenarios: Scenarios,
    dates: Vec<Timestamp>,
}

/// Why a statistical engine could not be built.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    /// The model is a grid model.
    NotStatistical,
    /// The history or the model's parameters cannot make scenarios.
    Scenarios(VarError),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::NotStatistical => f.write_str("the model is a grid model"),
            EngineError::Scenarios(e) => write!(f, "cannot build its scenarios: {e}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl JointEngine {
    /// The engine of statistical `model` over every coin of `history`.
    pub fn new(model: Model, history: &PriceHistory) -> Result<JointEngine, EngineError> {
        let params = VarParams::of(&model).ok_or(EngineError::NotStatistical)?;
        let closes = Closes {
            coins: history.coins(),
            closes: history.closes(),
        };
        let scenarios =
            Scenarios::build(&closes, &params.source).map_err(EngineError::Scenarios)?;
        Ok(JointEngine {
            model,
            params,
            scenarios,
            dates: history.dates().to_vec(),
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The run parameters the model specifies.
    pub fn params(&self) -> &VarParams {
        &self.params
    }

    /// The scenarios.
    pub fn scenarios(&self) -> &Scenarios {
        &self.scenarios
    }

    /// The history's dates (HS/FHS windows index them).
    pub fn dates(&self) -> &[Timestamp] {
        &self.dates
    }

    /// Margin of `portfolio` (looked up and validated in `matrix`, built under
    /// [`LOOKUP_PRESET`]), with the run's report. `extra` positions (rows of `matrix`) are
    /// added to the portfolio's, merged by instrument (what-if orders).
    pub fn margin(
        &self,
        matrix: &RiskMatrix,
        portfolio: &Portfolio,
        extra: &[Position],
    ) -> Result<(Margin, VarReport), AccountError> {
        let positions = matrix
            .universe()
            .positions(portfolio)
            .map_err(AccountError::Position)?;
        let merged = merge(&positions, extra);
        matrix
            .with_arrays(|arrays| {
                self.margin_positions(arrays, portfolio.currency, portfolio.equity, &merged)
            })
            .map_err(|e| match e {
                VarError::Input(e) => AccountError::core(portfolio, e),
                VarError::Position(p) => AccountError::Core {
                    instrument: merged
                        .get(p.index)
                        .map(|q| matrix.instruments()[q.instrument]),
                    currency: portfolio.currency,
                    error: p.error,
                },
            })
    }

    /// Margin of an account given as rows of `arrays` (built under [`LOOKUP_PRESET`]), with the
    /// run's report. The account is validated as any account is (rows, sizes, currency,
    /// duplicates: [`Account::new`]), then margined over the joint scenarios. Errors: [`VarError::Input`] for a rejected account,
    /// [`VarError::Position`] (index into `positions`) for a position that cannot be revalued.
    /// Cost O(scenarios × positions).
    pub fn margin_positions(
        &self,
        arrays: &RiskArrays<'_>,
        currency: Asset,
        equity: f64,
        positions: &[Position],
    ) -> Result<(Margin, VarReport), VarError> {
        let owned = OwnedBook::of_positions(arrays, currency, equity, positions)?;
        var::margin(&owned.book(), &self.scenarios, &self.model, equity)
    }
}

/// An account's positions as a [`Book`]: instruments, pricing inputs and sizes, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedBook {
    /// Each position's instrument.
    pub instruments: Vec<Instrument>,
    /// Each instrument's pricing inputs at the valuation time.
    pub inputs: Vec<margin_core::market::PricingInputs>,
    /// Signed sizes.
    pub sizes: Vec<f64>,
}

impl OwnedBook {
    /// The book of an account given as rows of `arrays`, validated as any account is: rows,
    /// sizes, currency, duplicates ([`Account::new`]).
    pub fn of_positions(
        arrays: &RiskArrays<'_>,
        currency: Asset,
        equity: f64,
        positions: &[Position],
    ) -> Result<OwnedBook, Error> {
        // The checks of any account; no grid margin is computed only to be thrown away.
        Account::new(arrays, currency, equity, positions)?;
        Ok(OwnedBook {
            instruments: positions
                .iter()
                .map(|p| arrays.instruments()[p.instrument])
                .collect(),
            inputs: positions
                .iter()
                .map(|p| *arrays.inputs(p.instrument))
                .collect(),
            sizes: positions.iter().map(|p| p.size).collect(),
        })
    }

    /// The book of `portfolio` looked up in `matrix`, with `extra` positions (rows of
    /// `matrix`) merged in by instrument ([`merge`]).
    pub fn of(
        matrix: &RiskMatrix,
        portfolio: &Portfolio,
        extra: &[Position],
    ) -> Result<OwnedBook, AccountError> {
        let positions = matrix
            .universe()
            .positions(portfolio)
            .map_err(AccountError::Position)?;
        matrix
            .with_arrays(|arrays| {
                OwnedBook::of_positions(
                    arrays,
                    portfolio.currency,
                    portfolio.equity,
                    &merge(&positions, extra),
                )
            })
            .map_err(|e| AccountError::core(portfolio, e))
    }

    /// The borrowed view the statistical functions take.
    pub fn book(&self) -> Book<'_> {
        Book {
            instruments: &self.instruments,
            inputs: &self.inputs,
            sizes: &self.sizes,
        }
    }
}

/// `positions` with `extra` added, merged by instrument: an extra position in an instrument
/// already held adds to its size (which may become 0), any other is appended in order.
pub fn merge(positions: &[Position], extra: &[Position]) -> Vec<Position> {
    let mut out = positions.to_vec();
    for order in extra {
        match out.iter_mut().find(|p| p.instrument == order.instrument) {
            Some(p) => p.size += order.size,
            None => out.push(*order),
        }
    }
    out
}

/// The lookup preset (infallible: a built-in name).
pub fn lookup_model() -> Result<Model, Error> {
    Model::preset(LOOKUP_PRESET)
}
