//! The engine behind a `margin_engine` handle: one market snapshot, one model, its scenarios
//! and the risk arrays of every instrument the market can price. Immutable once built, so
//! one engine serves any number of threads; rebuild it when marks move.

use crate::owned::{BuildError, OwnedArrays};
use margin_core::account::{self, Account, Margin};
use margin_core::io::{self, FormatError, MarketData};
use margin_core::model::Model;
use margin_core::risk::{Position, RiskArrays};
use margin_core::{Asset, Error, Instrument, Kind, Settlement};
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

/// A built engine. `Send + Sync`: one engine serves many threads.
///
/// ```
/// fn assert_shared<T: Send + Sync>() {}
/// assert_shared::<margin_ffi::engine::Engine>();
/// ```
pub struct Engine {
    arrays: OwnedArrays,
    model: Model,
    /// `(symbol, row)` sorted by symbol, for [`Engine::instrument_id`].
    symbols: Vec<(String, usize)>,
    /// `name@version`, with ` (modified)` when a parameter was overridden.
    label: String,
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
    /// Builds the engine over `market`. `instruments` lists the rows; `None` takes every
    /// instrument the market lists plus, per underlying, its inverse perpetual, an inverse
    /// future for every expiry with a forward and an inverse option for every vol quote (each
    /// is priced by data the market holds).
    pub fn new(
        market: MarketData,
        instruments: Option<Vec<Instrument>>,
        model: Model,
    ) -> Result<Engine, EngineError> {
        let scenarios = model.scenarios()?;
        let instruments = instruments.unwrap_or_else(|| tradable(&market));
        let mut symbols: Vec<(String, usize)> = instruments
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.to_string(), i))
            .collect();
        symbols.sort();
        if let Some(w) = symbols.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::Duplicate {
                what: "instruments",
                index: w[1].1,
            }
            .into());
        }
        let arrays = OwnedArrays::build(market, scenarios, model.tenor(), instruments)
            .map_err(EngineError::Build)?;
        let label = format!(
            "{}@{}{}",
            model.name,
            model.version,
            if model.modified { " (modified)" } else { "" }
        );
        Ok(Engine {
            arrays,
            model,
            symbols,
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

    /// Row index of `symbol` (exact Deribit spelling), by binary search.
    pub fn instrument_id(&self, symbol: &str) -> Option<usize> {
        self.symbols
            .binary_search_by(|(s, _)| s.as_str().cmp(symbol))
            .ok()
            .map(|i| self.symbols[i].1)
    }

    /// Margin of one account given as positions, computed with `scratch` as working memory.
    pub fn margin(
        &self,
        currency: Asset,
        equity: f64,
        positions: &[Position],
        scratch: &mut Vec<f64>,
    ) -> Result<Margin, Error> {
        let arrays = self.arrays();
        let acct = Account::new(&arrays, currency, equity, positions)?;
        let needed = acct.scratch_len(&arrays);
        if scratch.len() < needed {
            scratch.resize(needed, 0.0);
        }
        account::margin(&arrays, &self.model, &acct, scratch)
    }
}

/// [`io::engine::tradable`] plus an inverse option per vol quote, so a market given as bare
/// arrays (forwards and vols, no instrument list) still has its options.
fn tradable(market: &MarketData) -> Vec<Instrument> {
    let mut out = io::engine::tradable(market);
    for u in &market.underlyings {
        out.extend(u.vols.iter().map(|v| Instrument {
            underlying: u.asset,
            settlement: Settlement::Inverse,
            kind: Kind::Option {
                expiry: v.expiry,
                strike: v.strike,
                right: v.right,
            },
        }));
    }
    out.sort_by(io::market::instrument_order);
    out.dedup();
    out
}
