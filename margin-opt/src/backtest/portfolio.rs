//! Portfolio backtest: margin one account on every past day `d` of a price history with only
//! the closes up to `d`, and compare with the loss the next `h` days actually brought.
//!
//! # Method
//!
//! For each day `d` (close index) with a full trailing window and a realised horizon,
//! `window ≤ d ≤ T − 1 − h`:
//!
//! 1. **Scenarios from the past only.** The model's joint scenarios ([`Scenarios::build`]:
//!    HS, FHS, Monte Carlo or parametric, with the model's horizon, λ, seed, …) are built over
//!    the closes `d − window ..= d` and nothing later, so appending data after `d` cannot
//!    change day `d`'s margin.
//! 2. **The account on day d** ([`REVALUATION`], our assumption, unpublished): today's
//!    snapshot translated to day `d`'s price level. With `r_u = close_{d,u} / S0_u` (`S0_u` the
//!    snapshot's index of coin `u`), every instrument of coin `u` has its forward (perpetual
//!    mark, index) and its strike multiplied by `r_u`: moneyness `K/F`, the basis `F/S`, time
//!    to expiry, vol and rate stay the snapshot's. So the snapshot's vols are held by moneyness
//!    and tenor at historical forward levels, and sizes are unchanged.
//! 3. **Margin** = the model's initial margin of that account over those scenarios
//!    ([`crate::var::margin`]), with the account's equity. A grid model ([`Engine::Grid`])
//!    has no history: its margin is the preset's initial margin of the account on the
//!    snapshot translated the same way ([`grid`]), every day from the first close (no window),
//!    over a horizon the caller chooses (default 1 day).
//! 4. **Realised loss** = the loss of the same day-`d` account under the realised joint move
//!    `x_u = close_{d+h,u} / close_{d,u} − 1`, revalued exactly as one scenario is (a
//!    statistical model's vol rule and time step; vols unchanged and no time step for a
//!    grid): a hypothetical P&L of an unchanged book.
//! 5. **Exception** when the realised loss is strictly greater than the margin.
//!
//! Days run in parallel and are collected in day order; each day's numbers are those of a
//! single-threaded run (the scenario losses are reduced in fixed chunks), so the output has
//! the same bits for any thread count.

use super::grid;
use crate::var::{self, Closes, Scenarios, VarError, VarParams};
use margin_core::Asset;
use margin_core::Instrument;
use margin_core::instrument::Kind;
use margin_core::io::MarketData;
use margin_core::market::PricingInputs;
use margin_core::model::Model;
use margin_core::scenario::JointMoves;
use margin_core::scenario::{Scenario, VolShock};
use margin_core::spec::MAX_HORIZON_DAYS;
use margin_core::statistical::Book;
use margin_core::stats::backtest::{self, Coverage};
use margin_core::time::Timestamp;
use rayon::prelude::*;
use std::fmt;

/// How options (and every other instrument) are revalued on past days: our assumption.
pub const REVALUATION: &str = "snapshot translated to each day's level: forwards, marks and \
    strikes scaled by the day's close over the snapshot index (moneyness, basis, time to \
    expiry, vols and rate held: the snapshot's vols by moneyness and tenor at historical \
    forward levels); realised P&L of the unchanged book over the next h days, revalued as one \
    scenario of the model (a grid's: vols unchanged, no time step) (our assumption, \
    unpublished)";

/// The history and the snapshot a backtest runs over.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// Closes of the book's coins, date-major, oldest first.
    pub closes: Closes<'a>,
    /// The date of each close.
    pub dates: &'a [Timestamp],
    /// Each coin's index price in the snapshot the book was priced on (`S0_u`), coin order.
    pub reference: &'a [f64],
}

/// What to backtest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Daily returns in each day's trailing window (closes `d − window ..= d`), ≥ 1.
    pub window: usize,
    /// First day backtested (inclusive; `None`: the first day with a full window).
    pub from: Option<Timestamp>,
    /// Last day backtested (inclusive; `None`: the last day with a realised horizon).
    pub to: Option<Timestamp>,
    /// Exception probability the coverage tests check, in (0, 1) (usually `1 − c`).
    pub p: f64,
    /// Horizon h in days of a grid model's backtest, 1 to 250 (`None`: 1); a statistical
    /// model's horizon is its own (`None` or the same number).
    pub horizon_days: Option<usize>,
}

/// One backtested day.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    /// Close index of the day.
    pub index: usize,
    /// Its date.
    pub date: Timestamp,
    /// Initial margin of the account that day.
    pub margin: f64,
    /// The model's VaR that day (statistical models only).
    pub var: Option<f64>,
    /// Realised loss over the next h days (positive = loss).
    pub loss: f64,
    /// `loss > margin`.
    pub exception: bool,
}

/// A backtest's days and its coverage tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Horizon h in days (the model's).
    pub horizon_days: usize,
    /// Every backtested day, oldest first.
    pub days: Vec<Day>,
    /// Coverage tests of the exception series at `Params::p`.
    pub coverage: Coverage,
}

/// Why a backtest could not run.
#[derive(Debug, Clone, PartialEq)]
pub enum BacktestError {
    /// [`Engine::Statistical`] was given a grid model.
    NotStatistical,
    /// A parameter or the history's shape is unusable.
    Input(margin_core::Error),
    /// No day has both a full window and a realised horizon inside `[from, to]`.
    NoDays {
        /// Closes in the history.
        closes: usize,
        /// The window asked for.
        window: usize,
        /// The model's horizon.
        horizon: usize,
    },
    /// Day `date` could not be margined or revalued.
    Day {
        /// The day.
        date: Timestamp,
        /// What went wrong.
        error: VarError,
    },
}

impl fmt::Display for BacktestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BacktestError::NotStatistical => f.write_str(
                "a grid model given as a statistical one (hs-es, fhs-es, mc-es, parametric-var)",
            ),
            BacktestError::Input(e) => write!(f, "{e}"),
            BacktestError::NoDays {
                closes,
                window,
                horizon,
            } => write!(
                f,
                "no day to backtest: {closes} closes in range, a day needs {window} closes \
                 before it (--window) and {horizon} after it (the horizon)"
            ),
            BacktestError::Day { date, error } => write!(f, "day {date}: {error}"),
        }
    }
}

impl std::error::Error for BacktestError {}

/// The account of `book` translated to price levels `ratio` (one per coin of `coins`):
/// forwards and strikes scaled, everything else held (module docs, step 2). Instruments of a
/// coin not in `coins` are an error.
pub fn translate(
    book: &Book<'_>,
    coins: &[Asset],
    ratio: &[f64],
) -> Result<(Vec<Instrument>, Vec<PricingInputs>), margin_core::Error> {
    let mut instruments = book.instruments.to_vec();
    let mut inputs = book.inputs.to_vec();
    for (i, p) in instruments.iter_mut().zip(inputs.iter_mut()) {
        let c = coins
            .iter()
            .position(|&c| c == i.underlying)
            .ok_or(margin_core::Error::UnknownUnderlying)?;
        p.forward *= ratio[c];
        if let Kind::Option { strike, .. } = &mut i.kind {
            *strike *= ratio[c];
        }
    }
    Ok((instruments, inputs))
}

/// How each day's margin is computed.
#[derive(Debug, Clone, Copy)]
pub enum Engine<'a> {
    /// A statistical model over each day's trailing window of closes.
    Statistical(&'a Model),
    /// A grid model on the snapshot `market` translated to each day's level ([`grid`]); the
    /// account is in `currency`.
    Grid {
        /// The grid model.
        model: &'a Model,
        /// The snapshot the book was priced on.
        market: &'a MarketData,
        /// The account currency.
        currency: Asset,
    },
}

/// Backtests `book` (priced on the snapshot whose index levels are `history.reference`) with
/// `equity` under `engine` (module docs). A statistical model's horizon is its own (a
/// different `params.horizon_days` is an error) and its days start after a full window; a
/// grid's horizon is `params.horizon_days` (default 1) and its days start at the first close.
/// Cost O(days × scenarios × positions).
pub fn run(
    book: &Book<'_>,
    equity: f64,
    engine: &Engine<'_>,
    history: &History<'_>,
    params: &Params,
) -> Result<Report, BacktestError> {
    let input = |what, value| BacktestError::Input(margin_core::Error::OutOfRange { what, value });
    let (source, h, first) = match engine {
        Engine::Statistical(model) => {
            let v = VarParams::of(model).ok_or(BacktestError::NotStatistical)?;
            v.source.validate().map_err(BacktestError::Input)?;
            let h = v.source.horizon_days;
            if params.horizon_days.is_some_and(|x| x != h) {
                return Err(input(
                    "horizon in days (a statistical model's horizon is its own)",
                    params.horizon_days.unwrap_or(0) as f64,
                ));
            }
            (Some(v.source), h, params.window)
        }
        Engine::Grid { model, .. } => {
            if VarParams::of(model).is_some() {
                return Err(input("grid model (this one is statistical)", 0.0));
            }
            let h = params.horizon_days.unwrap_or(1);
            if !(1..=MAX_HORIZON_DAYS).contains(&h) {
                return Err(input("horizon in days (1 to 250)", h as f64));
            }
            (None, h, 0)
        }
    };
    let coins = history.closes.coins;
    let u = coins.len();
    let closes = history.closes.closes;
    let t = history.dates.len();
    let shape_ok = u > 0 && closes.len() == t * u && history.reference.len() == u;
    if !shape_ok {
        return Err(BacktestError::Input(margin_core::Error::Capacity {
            needed: t * u,
            available: closes.len(),
        }));
    }
    if let Some(&bad) = history
        .reference
        .iter()
        .find(|x| !(x.is_finite() && **x > 0.0))
    {
        return Err(input("snapshot index level (finite, > 0)", bad));
    }
    if params.window == 0 {
        return Err(input("window in days (at least 1)", 0.0));
    }
    backtest::kupiec_pof(0, 1, params.p).map_err(BacktestError::Input)?;
    let hi = t.saturating_sub(h); // exclusive: d + h ≤ t − 1
    let days: Vec<usize> = (first..hi)
        .filter(|&d| params.from.is_none_or(|f| history.dates[d] >= f))
        .filter(|&d| params.to.is_none_or(|x| history.dates[d] <= x))
        .collect();
    if days.is_empty() {
        return Err(BacktestError::NoDays {
            closes: t,
            window: first,
            horizon: h,
        });
    }
    // Realised P&L is revalued as one scenario: the model's template for a statistical model
    // (its vol rule and time step), vols unchanged and no time step for a grid.
    let template = source.map_or(Scenario::standard(0.0, VolShock::None), |s| s.template());
    let out: Vec<Day> = days
        .par_iter()
        .map(|&d| {
            let at = |error: VarError| BacktestError::Day {
                date: history.dates[d],
                error,
            };
            let ratio: Vec<f64> = (0..u)
                .map(|c| closes[d * u + c] / history.reference[c])
                .collect();
            let (instruments, inputs) = translate(book, coins, &ratio).map_err(|e| at(e.into()))?;
            let day_book = Book {
                instruments: &instruments,
                inputs: &inputs,
                sizes: book.sizes,
            };
            let (margin, var) = match (engine, &source) {
                (Engine::Statistical(model), Some(source)) => {
                    let window = Closes {
                        coins,
                        closes: &closes[(d - params.window) * u..(d + 1) * u],
                    };
                    let scenarios = Scenarios::build(&window, source).map_err(at)?;
                    let (m, report) =
                        var::margin(&day_book, &scenarios, model, equity).map_err(at)?;
                    (m.initial, Some(report.var))
                }
                (
                    Engine::Grid {
                        model,
                        market,
                        currency,
                    },
                    _,
                ) => {
                    let market = grid::translate_market(market, coins, &ratio);
                    let m =
                        grid::margin(market, model, &instruments, book.sizes, *currency, equity)
                            .map_err(at)?;
                    (m.initial, None)
                }
                (Engine::Statistical(_), None) => return Err(BacktestError::NotStatistical),
            };
            let realised: Vec<f64> = (0..u)
                .map(|c| closes[(d + h) * u + c] / closes[d * u + c] - 1.0)
                .collect();
            let joint = JointMoves::new(coins, &realised).map_err(|e| at(e.into()))?;
            let loss = var::losses(&day_book, &joint, &template).map_err(|e| at(e.into()))?[0];
            let finite = [margin, var.unwrap_or(0.0), loss]
                .into_iter()
                .all(f64::is_finite);
            if !finite {
                return Err(at(VarError::Input(margin_core::Error::Overflow {
                    what: "margin or realised loss",
                })));
            }
            Ok(Day {
                index: d,
                date: history.dates[d],
                margin,
                var,
                loss,
                exception: loss > margin,
            })
        })
        .collect::<Result<_, _>>()?;
    let series: Vec<bool> = out.iter().map(|d| d.exception).collect();
    let coverage = backtest::coverage(&series, params.p).map_err(BacktestError::Input)?;
    Ok(Report {
        horizon_days: h,
        days: out,
        coverage,
    })
}
