//! Stress tests: named historical events, user shocks, reverse stress ([`reverse`]) and
//! book-level stress with Cover-1 / Cover-2 and a liquidation cascade ([`book`]).
//!
//! A stress scenario moves each coin by its own relative amount `x_c` (and optionally shifts
//! every implied vol by an absolute amount). It is revalued in full through the same joint
//! revaluation `margin var` uses ([`crate::var::losses`] over
//! [`margin_core::scenario::JointMoves`], [`margin_core::statistical`]): the scenario template
//! of the run's [`JointSource`] (its vol rule `σ' = max(σ + a + β·ln(1 + x), floor)` and, with
//! `time_decay`, a time step of `h/365` years), so an account's P&L under a stress date is
//! bit-identical to its P&L in the HS window ending on that date.
//!
//! * **Named event** `D` (horizon `h` days): `x_c = P_c(D) / P_c(D − h) − 1` for every coin the
//!   book holds, from the closes of the price history (close to close, the HS window ending on
//!   `D`). A date with fewer than `h` closes before it, or outside the history, is an error.
//! * **User shock** `COIN:MOVE[,COIN:MOVE][,vol:SHIFT]`: explicit moves (coins not named move
//!   0), `MOVE` a relative move (`-0.3` or `-30%`) in [`MOVE_RANGE`], `SHIFT` an absolute vol
//!   shift (`0.1` = +10 vol points) added to the vol rule's shift (`σ' = σ + SHIFT` without a
//!   rule; a shocked vol is never below the core's minimum).
//!
//! P&L is in the account currency (positive = gain); equity is exhausted when
//! `equity + P&L ≤ 0`.

pub mod book;
pub mod reverse;

use crate::var::{self, VarError};
use margin_core::io::PriceHistory;
use margin_core::scenario::{JointMoves, Scenario, VolShock};
use margin_core::spec::JointSource;
use margin_core::statistical::Book;
use margin_core::time::Timestamp;
use margin_core::{Asset, Error};
use std::fmt;

/// The default named events (YYYY-MM-DD): the March 2020 crash, the May 2021 crash, the
/// Celsius / 3AC deleveraging (June 2022) and the FTX collapse (November 2022).
pub const DEFAULT_EVENTS: [&str; 4] = ["2020-03-12", "2021-05-19", "2022-06-13", "2022-11-09"];

/// The relative moves a shock, a reverse-stress search or a cascade may reach: −99 % to
/// +400 %.
pub const MOVE_RANGE: (f64, f64) = (-0.99, 4.0);

/// One stress scenario: a joint move of the run's coins and a vol shift.
#[derive(Debug, Clone, PartialEq)]
pub struct StressScenario {
    /// The event date (YYYY-MM-DD) or the user's shock text.
    pub label: String,
    /// The event's end date (named events only).
    pub date: Option<Timestamp>,
    /// Relative move of each coin, in the run's coin order.
    pub moves: Vec<f64>,
    /// Absolute vol shift (0 for named events).
    pub vol_shift: f64,
}

/// Why a stress run failed.
#[derive(Debug, Clone, PartialEq)]
pub enum StressError {
    /// An event date has no h-day window ending on it in the history.
    DateOutsideHistory {
        /// The date asked for.
        date: String,
        /// First close of the history.
        first: String,
        /// Last close of the history.
        last: String,
        /// The horizon in days.
        horizon: usize,
    },
    /// A coin the book holds has no prices in the history.
    CoinNotInHistory(Asset),
    /// A `--shock` that does not read as `COIN:MOVE[,COIN:MOVE][,vol:SHIFT]`.
    BadShock {
        /// The shock's text.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An invalid parameter (its name and what was expected).
    Parameter {
        /// The parameter.
        name: &'static str,
        /// What was expected.
        expected: String,
    },
    /// A position could not be revalued, or the history cannot make scenarios.
    Revaluation(VarError),
    /// A book-level input is unusable (book stress; the message says which and why).
    Book(String),
}

impl fmt::Display for StressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StressError::DateOutsideHistory {
                date,
                first,
                last,
                horizon,
            } => write!(
                f,
                "event {date}: no {horizon}-day window ends on it in the history \
                 ({first} to {last}; the window needs the close {horizon} day(s) before)"
            ),
            StressError::CoinNotInHistory(c) => write!(f, "the history has no prices for {c}"),
            StressError::BadShock { text, reason } => write!(
                f,
                "shock {text}: {reason} (expected COIN:MOVE[,COIN:MOVE][,vol:SHIFT], \
                 e.g. BTC:-0.3,ETH:-0.4,vol:0.2)"
            ),
            StressError::Parameter { name, expected } => write!(f, "{name}: expected {expected}"),
            StressError::Revaluation(e) => write!(f, "{e}"),
            StressError::Book(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for StressError {}

impl From<VarError> for StressError {
    fn from(e: VarError) -> Self {
        StressError::Revaluation(e)
    }
}

impl From<Error> for StressError {
    fn from(e: Error) -> Self {
        StressError::Revaluation(VarError::Input(e))
    }
}

impl From<margin_core::risk::InstrumentError> for StressError {
    fn from(e: margin_core::risk::InstrumentError) -> Self {
        StressError::Revaluation(VarError::Position(e))
    }
}

fn day(t: Timestamp) -> String {
    t.to_string().chars().take(10).collect()
}

/// The named event ending on `date`: the joint `horizon`-day close-to-close move of each of
/// `coins` (every one must be in `history`).
pub fn event(
    history: &PriceHistory,
    coins: &[Asset],
    date: Timestamp,
    horizon: usize,
) -> Result<StressScenario, StressError> {
    let dates = history.dates();
    let outside = || StressError::DateOutsideHistory {
        date: day(date),
        first: dates.first().map_or_else(String::new, |&d| day(d)),
        last: dates.last().map_or_else(String::new, |&d| day(d)),
        horizon,
    };
    if horizon == 0 {
        return Err(StressError::Parameter {
            name: "horizon",
            expected: "a whole number of days, at least 1".into(),
        });
    }
    let end = dates.binary_search(&date).map_err(|_| outside())?;
    let start = end.checked_sub(horizon).ok_or_else(outside)?;
    let moves = coins
        .iter()
        .map(|&c| {
            let col = history
                .coin_index(c)
                .ok_or(StressError::CoinNotInHistory(c))?;
            let (p0, p1) = (history.close(start, col), history.close(end, col));
            match (p0, p1) {
                (Some(p0), Some(p1)) if p0 > 0.0 && p1 > 0.0 => Ok(p1 / p0 - 1.0),
                _ => Err(StressError::Revaluation(VarError::Input(
                    Error::NonPositive {
                        what: "history close",
                        value: p0.unwrap_or(0.0).min(p1.unwrap_or(0.0)),
                    },
                ))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(StressScenario {
        label: day(date),
        date: Some(date),
        moves,
        vol_shift: 0.0,
    })
}

/// A number given as a decimal (`-0.3`) or a percentage (`-30%`).
fn number(text: &str) -> Option<f64> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => t.parse::<f64>().ok()?,
    };
    v.is_finite().then_some(v)
}

/// Parses a user shock `COIN:MOVE[,COIN:MOVE][,vol:SHIFT]` over the run's `coins` (a coin
/// not named moves 0; naming a coin outside `coins`, twice, or a move outside
/// [`MOVE_RANGE`] is an error; `SHIFT` is finite and in [−1, 5]).
pub fn parse_shock(text: &str, coins: &[Asset]) -> Result<StressScenario, StressError> {
    let bad = |reason: String| StressError::BadShock {
        text: text.to_string(),
        reason,
    };
    let mut moves = vec![0.0; coins.len()];
    let mut named = vec![false; coins.len()];
    let mut vol_shift = None;
    for part in text.split(',') {
        let (key, value) = part
            .split_once(':')
            .ok_or_else(|| bad(format!("'{}' has no ':'", part.trim())))?;
        let key = key.trim();
        let v = number(value).ok_or_else(|| bad(format!("'{}' is not a number", value.trim())))?;
        if key.eq_ignore_ascii_case("vol") {
            if vol_shift.is_some() {
                return Err(bad("vol named twice".into()));
            }
            if !(-1.0..=5.0).contains(&v) {
                return Err(bad(format!("vol shift {v} outside [-1, 5]")));
            }
            vol_shift = Some(v);
            continue;
        }
        let coin = Asset::new(key).ok_or_else(|| bad(format!("'{key}' is not a coin code")))?;
        let i = coins.iter().position(|&c| c == coin).ok_or_else(|| {
            bad(format!(
                "{coin} is not a coin of this run (it has {})",
                coins
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if named[i] {
            return Err(bad(format!("{coin} named twice")));
        }
        if !(MOVE_RANGE.0..=MOVE_RANGE.1).contains(&v) {
            return Err(bad(format!("move {v} of {coin} outside [-0.99, 4]")));
        }
        named[i] = true;
        moves[i] = v;
    }
    Ok(StressScenario {
        label: text.to_string(),
        date: None,
        moves,
        vol_shift: vol_shift.unwrap_or(0.0),
    })
}

/// The source's vol shock with `shift` added: the rule's parallel shift grows by `shift`;
/// unchanged vols become an absolute shift. Other shocks (grid ones) are refused.
pub fn shifted_vol(vol: VolShock, shift: f64) -> Result<VolShock, StressError> {
    match vol {
        VolShock::None if shift == 0.0 => Ok(VolShock::None),
        VolShock::None => Ok(VolShock::Absolute(shift)),
        VolShock::Absolute(a) => Ok(VolShock::Absolute(a + shift)),
        VolShock::Rule {
            shift: a,
            beta,
            floor,
        } => Ok(VolShock::Rule {
            shift: a + shift,
            beta,
            floor,
        }),
        VolShock::Tenor { .. } => Err(StressError::Parameter {
            name: "vol rule",
            expected: "unchanged or shift:A,BETA,FLOOR (a tenor-scaled grid shock is not a \
                       stress vol rule)"
                .into(),
        }),
    }
}

/// The scenario template of `source` with `vol_shift` added to its vol shock.
pub fn template(source: &JointSource, vol_shift: f64) -> Result<Scenario, StressError> {
    source.validate()?;
    Ok(JointSource {
        vol: shifted_vol(source.vol, vol_shift)?,
        ..*source
    }
    .template())
}

/// The P&L of `book` under each scenario (moves over `coins`), in scenario order, by full
/// revaluation under `source`'s template ([`template`]).
pub fn pnl(
    book: &Book<'_>,
    coins: &[Asset],
    scenarios: &[StressScenario],
    source: &JointSource,
) -> Result<Vec<f64>, StressError> {
    scenarios
        .iter()
        .map(|s| {
            let t = template(source, s.vol_shift)?;
            let joint = JointMoves::new(coins, &s.moves)?;
            Ok(-var::losses(book, &joint, &t)?[0])
        })
        .collect()
}

/// The P&L of `book` under each row of `moves` (`R × U` over `coins`) with one template: one
/// parallel pass in fixed chunks ([`crate::var::losses`]).
pub fn pnl_rows(
    book: &Book<'_>,
    coins: &[Asset],
    moves: &[f64],
    template: &Scenario,
) -> Result<Vec<f64>, StressError> {
    let joint = JointMoves::new(coins, moves)?;
    Ok(var::losses(book, &joint, template)?
        .into_iter()
        .map(|l| -l)
        .collect())
}
