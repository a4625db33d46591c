//! The engine behind a `margin_engine` handle: one market snapshot, one model, its scenarios
//! and the risk arrays of every instrument the market can price. Immutable once built, so
//! one engine serves any number of threads; rebuild it when marks move.

use crate::owned::{BuildError, OwnedArrays};
use margin_core::account::Margin;
use margin_core::io::engine::{Universe, UnpricedInstrument};
use margin_core::io::market::instrument_order;
use margin_core::io::{self, FormatError, MarketData};
use margin_core::model::Model;
use margin_core::risk::{Position, RiskArrays};
use margin_core::{Asset, Error, Instrument, Kind, Settlement};
use std::cmp::Ordering;
use std::path::Path;

/// Why an engine could not be built.
#[derive(Debug)]
pub enum EngineError {
    /// The market text is malformed or breaks a format rule.
    Format(FormatError),
    /// The model, market or an instrument is invalid.
    Build(BuildError),
}

impl From<Error> for EngineError {
    fn from(e: Error) -> Self {
        EngineError::Build(BuildError::Core(e))
    }
}

/// Why a symbol has no row in an engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoRow {
    /// The symbol does not parse.
    Symbol(Error),
    /// The market cannot price it (expired, no vol, no underlying, not listed).
    Unpriced(UnpricedInstrument),
    /// The engine was built over an explicit instrument list without it.
    NotListed,
}

/// A built engine. `Send + Sync`: one engine serves many threads.
///
/// ```
/// fn assert_shared<T: Send + Sync>() {}
/// assert_shared::<margin_ffi::engine::Engine>();
/// ```
pub struct Engine {
    arrays: OwnedArrays,
    model: Model,
    rows: Rows,
    /// `name@version`, with ` (modified)` when a parameter was overridden.
    label: String,
}

/// How an instrument's row is found.
enum Rows {
    /// Every instrument the market can price, in the universe's order; it also knows why the
    /// others have no row. Boxed: it holds the model and its scenarios (kilobytes).
    Universe(Box<Universe>),
    /// The caller's list, in its order: `(instrument, row)` sorted by [`instrument_order`].
    Listed(Vec<(Instrument, usize)>),
}

/// A model from a preset name and `(name, value)` overrides.
pub fn model(preset: &str, overrides: &[(&str, f64)]) -> Result<Model, Error> {
    let mut model = Model::preset(preset)?;
    for &(name, value) in overrides {
        model.set(name, value)?;
    }
    Ok(model)
}

impl Engine {
    /// Builds the engine over `market`. `instruments` lists the rows, each of which must be
    /// priceable. `None` takes the [`Universe`] of the market plus an inverse option per vol
    /// quote (so a market given as bare arrays still has its options): every instrument the
    /// market can price, in its order; those it cannot (expired, no vol) get no row and
    /// [`Engine::find`] says why.
    pub fn new(
        market: MarketData,
        instruments: Option<Vec<Instrument>>,
        model: Model,
    ) -> Result<Engine, EngineError> {
        model.validate()?;
        let (instruments, rows) = match instruments {
            Some(list) => {
                let mut index: Vec<(Instrument, usize)> = list.iter().copied().zip(0..).collect();
                index.sort_by(|a, b| instrument_order(&a.0, &b.0));
                if let Some(w) = index
                    .windows(2)
                    .find(|w| instrument_order(&w[0].0, &w[1].0) == Ordering::Equal)
                {
                    return Err(Error::Duplicate {
                        what: "instruments",
                        index: w[1].1,
                    }
                    .into());
                }
                (list, Rows::Listed(index))
            }
            None => {
                let views = market.views();
                let snapshot = market.snapshot(&views)?;
                let universe =
                    Universe::new(&market, &snapshot, model.clone(), &vol_options(&market))?;
                (
                    universe.instruments().to_vec(),
                    Rows::Universe(Box::new(universe)),
                )
            }
        };
        let arrays = OwnedArrays::build(market, &model, instruments).map_err(EngineError::Build)?;
        let label = format!(
            "{}@{}{}",
            model.name,
            model.version,
            if model.modified { " (modified)" } else { "" }
        );
        Ok(Engine {
            arrays,
            model,
            rows,
            label,
        })
    }

    /// Builds the engine from market JSON (the `margin_core::io::market_json` format).
    pub fn from_json(text: &str, model: Model) -> Result<Engine, EngineError> {
        let market =
            io::parse_market_json(text, Path::new("<market json>")).map_err(EngineError::Format)?;
        Engine::new(market, None, model)
    }

    /// Builds the engine from a Deribit option-chain CSV (`margin_core::io::deribit`).
    pub fn from_deribit_csv(text: &str, model: Model) -> Result<Engine, EngineError> {
        let market = io::parse_deribit_chain(text, Path::new("<deribit csv>"))
            .map_err(EngineError::Format)?;
        Engine::new(market, None, model)
    }

    /// The risk arrays.
    pub fn arrays(&self) -> RiskArrays<'_> {
        self.arrays.get()
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The parameter set every result of this engine used: `name@version[ (modified)]`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Row of `instrument`, or why it has none.
    pub fn find(&self, instrument: &Instrument) -> Result<usize, NoRow> {
        match &self.rows {
            Rows::Universe(u) => u.find(instrument).map_err(NoRow::Unpriced),
            Rows::Listed(index) => index
                .binary_search_by(|(i, _)| instrument_order(i, instrument))
                .map(|k| index[k].1)
                .map_err(|_| NoRow::NotListed),
        }
    }

    /// Row of `symbol` (Deribit spelling, e.g. `BTC-27MAR26-90000-C`), or why it has none.
    pub fn instrument_id(&self, symbol: &str) -> Result<usize, NoRow> {
        let instrument = Instrument::parse(symbol).map_err(NoRow::Symbol)?;
        self.find(&instrument)
    }

    /// Margin of one account given as positions, computed with `scratch` as working memory.
    pub fn margin(
        &self,
        currency: Asset,
        equity: f64,
        positions: &[Position],
        scratch: &mut Vec<f64>,
    ) -> Result<Margin, Error> {
        io::engine::margin_positions(
            &self.arrays(),
            &self.model,
            currency,
            equity,
            positions,
            scratch,
        )
        .map(|(_, margin)| margin)
    }
}

/// An inverse option per vol quote, so a market given as bare arrays (forwards and vols, no
/// instrument list) still has its options; [`Universe`] adds the rest.
fn vol_options(market: &MarketData) -> Vec<Instrument> {
    market
        .underlyings
        .iter()
        .flat_map(|u| {
            u.vols.iter().map(|v| Instrument {
                underlying: u.asset,
                settlement: Settlement::Inverse,
                kind: Kind::Option {
                    expiry: v.expiry,
                    strike: v.strike,
                    right: v.right,
                },
            })
        })
        .collect()
}
