//! The engine behind a `margin_engine` handle: one market snapshot, one model, its scenarios
//! and the risk arrays of every instrument the market can price. Immutable once built, so
//! one engine serves any number of threads; rebuild it when marks move.
//!
//! A statistical model (`hs-es`, `fhs-es`, `mc-es`, `parametric-var`) has no grid: its engine
//! is built exactly as `margin compute --model NAME --history ...` builds its run
//! (`margin_opt::joint`): the rows and risk arrays under the lookup grid preset
//! ([`joint::LOOKUP_PRESET`]), which only validate accounts (rows, sizes, currency), plus a
//! [`JointEngine`] holding the model's joint scenarios, built once from a [`PriceHistory`].
//! Every margin of such an engine is [`JointEngine::margin_positions`].
//!
//! Statistical work (building Monte Carlo scenarios, revaluing a book in every joint
//! scenario) runs in parallel on a thread pool of the call's own ([`in_own_pool`]), joined
//! before the call returns: the library leaves no thread running in the C process between
//! calls. Results do not depend on the thread count (`margin_opt::var` splits the scenarios
//! into fixed chunks combined in order).

use margin_core::account::Margin;
use margin_core::io::engine::UnpricedInstrument;
pub use margin_core::io::matrix::BuildError;
use margin_core::io::matrix::{MatrixViews, RiskMatrix};
use margin_core::io::{self, FormatError, MarketData, PriceHistory};
use margin_core::model::Model;
use margin_core::risk::Position;
use margin_core::{Asset, Error, Instrument, Kind, Settlement};
use margin_opt::joint::{self, JointEngine};
use margin_opt::var::{VarError, VarParams, VarReport};
use std::path::Path;

/// Why an engine could not be built.
#[derive(Debug)]
pub enum EngineError {
    /// The market text is malformed or breaks a format rule.
    Format(FormatError),
    /// The model, market or an instrument is invalid.
    Build(BuildError),
    /// The model and the history do not go together: a statistical model without a history,
    /// or a history given to a grid model. The text says which.
    History(String),
    /// A statistical model's joint scenarios cannot be built from the history.
    Scenarios {
        /// `name@version` of the model.
        model: String,
        /// Why.
        error: joint::EngineError,
    },
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
    /// The rows, their lookup and the model of their scenario set: the engine's model, or
    /// for a statistical model the lookup preset ([`joint::LOOKUP_PRESET`]).
    matrix: RiskMatrix,
    /// Built over the caller's instrument list: a miss is [`NoRow::NotListed`].
    listed: bool,
    /// A statistical model with its joint scenarios, and their count.
    joint: Option<(JointEngine, usize)>,
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
    /// Builds the engine over `market`. `instruments` lists the rows, each of which must be
    /// priceable. `None` takes the [`Universe`](margin_core::io::engine::Universe) of the market plus an inverse option per vol
    /// quote (so a market given as bare arrays still has its options): every instrument the
    /// market can price, in its order; those it cannot (expired, no vol) get no row and
    /// [`Engine::find`] says why. A statistical `model` needs `history` (its joint scenarios
    /// are built from it, and the rows under [`joint::LOOKUP_PRESET`]); a grid model takes none.
    pub fn new(
        market: MarketData,
        instruments: Option<Vec<Instrument>>,
        model: Model,
        history: Option<&PriceHistory>,
    ) -> Result<Engine, EngineError> {
        model.validate()?;
        let label = format!(
            "{}@{}{}",
            model.name,
            model.version,
            if model.modified { " (modified)" } else { "" }
        );
        let (model, joint) = match (VarParams::of(&model), history) {
            (None, None) => (model, None),
            (None, Some(_)) => {
                return Err(EngineError::History(format!(
                    "a price history is read only by the statistical presets (hs-es, fhs-es, \
                     mc-es, parametric-var); {label} is a grid model: pass a NULL history"
                )));
            }
            (Some(_), None) => {
                return Err(EngineError::History(format!(
                    "{label} is statistical: build the engine with a price history \
                     (margin_history_new_from_files, then margin_engine_new_*_with_history)"
                )));
            }
            (Some(_), Some(history)) => {
                let engine =
                    JointEngine::new(model, history).map_err(|error| EngineError::Scenarios {
                        model: label.clone(),
                        error,
                    })?;
                let count = engine.scenarios().joint()?.len();
                (joint::lookup_model()?, Some((engine, count)))
            }
        };
        let listed = instruments.is_some();
        let matrix = match instruments {
            Some(list) => RiskMatrix::listed(market, model, list),
            None => {
                let extra = vol_options(&market);
                RiskMatrix::new(market, model, &extra)
            }
        }
        .map_err(EngineError::Build)?;
        Ok(Engine {
            matrix,
            listed,
            joint,
            label,
        })
    }

    /// Builds the engine from market JSON (the `margin_core::io::market_json` format).
    pub fn from_json(
        text: &str,
        model: Model,
        history: Option<&PriceHistory>,
    ) -> Result<Engine, EngineError> {
        let market =
            io::parse_market_json(text, Path::new("<market json>")).map_err(EngineError::Format)?;
        Engine::new(market, None, model, history)
    }

    /// Builds the engine from a Deribit option-chain CSV (`margin_core::io::deribit`).
    pub fn from_deribit_csv(
        text: &str,
        model: Model,
        history: Option<&PriceHistory>,
    ) -> Result<Engine, EngineError> {
        let market = io::parse_deribit_chain(text, Path::new("<deribit csv>"))
            .map_err(EngineError::Format)?;
        Engine::new(market, None, model, history)
    }

    /// The risk matrix: rows, lookup, market and model.
    pub fn matrix(&self) -> &RiskMatrix {
        &self.matrix
    }

    /// The market views the risk arrays borrow ([`MatrixViews::arrays`]).
    pub fn views(&self) -> MatrixViews<'_> {
        self.matrix.views()
    }

    /// The model of the risk arrays' scenarios: the engine's grid model, or the lookup preset
    /// of a statistical engine (whose model is [`Engine::joint`]'s).
    pub fn model(&self) -> &Model {
        self.matrix.model()
    }

    /// The statistical model and its joint scenarios, for an engine built with a history.
    pub fn joint(&self) -> Option<&JointEngine> {
        self.joint.as_ref().map(|(j, _)| j)
    }

    /// The number of scenarios a margin of this engine runs over: the grid's, or the joint
    /// scenarios of a statistical model.
    pub fn scenario_count(&self) -> usize {
        match &self.joint {
            Some((_, n)) => *n,
            None => self.matrix.scenario_count(),
        }
    }

    /// The parameter set every result of this engine used: `name@version[ (modified)]`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Row of `instrument`, or why it has none.
    pub fn find(&self, instrument: &Instrument) -> Result<usize, NoRow> {
        self.matrix.find(instrument).map_err(|u| match self.listed {
            true => NoRow::NotListed,
            false => NoRow::Unpriced(u),
        })
    }

    /// Row of `symbol` (Deribit spelling, e.g. `BTC-27MAR26-90000-C`), or why it has none.
    pub fn instrument_id(&self, symbol: &str) -> Result<usize, NoRow> {
        let instrument = Instrument::parse(symbol).map_err(NoRow::Symbol)?;
        self.find(&instrument)
    }

    /// Margin of one account given as positions, computed with `scratch` as working memory
    /// (a grid model; a statistical one allocates its own).
    pub fn margin(
        &self,
        currency: Asset,
        equity: f64,
        positions: &[Position],
        scratch: &mut Vec<f64>,
    ) -> Result<Margin, Error> {
        self.margin_with(&self.views(), currency, equity, positions, scratch)
    }

    /// [`Engine::margin`] with this engine's `views` ([`Engine::views`]) taken once by the
    /// caller, for a loop over many accounts.
    pub fn margin_with(
        &self,
        views: &MatrixViews<'_>,
        currency: Asset,
        equity: f64,
        positions: &[Position],
        scratch: &mut Vec<f64>,
    ) -> Result<Margin, Error> {
        if let Some(joint) = self.joint() {
            return self
                .joint_margin(joint, currency, equity, positions)
                .map(|(m, _)| m);
        }
        io::engine::margin_positions(
            &views.arrays(),
            self.model(),
            currency,
            equity,
            positions,
            scratch,
        )
        .map(|(_, margin)| margin)
    }

    /// Margin of an account over the joint scenarios of `joint` (this engine's), with the
    /// run's report: the one margin the CLI computes (`JointEngine::margin_positions`).
    pub fn joint_margin(
        &self,
        joint: &JointEngine,
        currency: Asset,
        equity: f64,
        positions: &[Position],
    ) -> Result<(Margin, VarReport), Error> {
        in_own_pool(|| {
            let views = self.views();
            joint.margin_positions(&views.arrays(), currency, equity, positions)
        })
        .map_err(|e| match e {
            VarError::Input(e) => e,
            VarError::Position(p) => p.error,
        })
    }
}

/// Runs `f` on a rayon thread pool of its own (`RAYON_NUM_THREADS` threads, or one per
/// core), whose threads are joined before this returns, so no thread outlives the call
/// (rayon's global pool would live until the process exits). If no thread can be spawned,
/// `f` runs on rayon's global pool instead. A panic in `f` propagates after the join.
pub fn in_own_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let mut slot = Some(f);
    let scoped = rayon::ThreadPoolBuilder::new().build_scoped(
        |thread| thread.run(),
        |pool| pool.install(|| slot.take().map(|f| f())),
    );
    match (scoped, slot.take()) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => f(),
        // `f` ran (it was taken) yet gave nothing: impossible, `f` returns a value.
        (_, None) => unreachable!("the closure ran and returned"),
    }
}

/// An inverse option per vol quote, so a market given as bare arrays (forwards and vols, no
/// instrument list) still has its options; [`Universe`](margin_core::io::engine::Universe) adds the rest.
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
