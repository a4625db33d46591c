//! Reverse stress: the smallest move along a direction whose P&L exhausts the account's
//! equity (`equity + P&L ≤ 0`), on full revaluation.
//!
//! Along direction `d` (one relative move per coin), scale `t` moves coin `c` by `t·d_c`.
//! The search evaluates `t_k = k·end/N`, `N = ⌈|end| / GRID_STEP⌉`, in one parallel pass, takes
//! the first `k` whose P&L exhausts equity, then bisects `[t_{k−1}, t_k]` until the bracket is
//! at most [`TOLERANCE`] wide. The result is the exhausting end (`scale`) and the
//! non-exhausting one (`inside`): `|scale − inside| ≤ 1e-9`, equity is exhausted at `scale` and
//! not at `inside`. Assumption (stated, not proved): the P&L does not cross the equity line
//! and back between two grid points 1e-3 apart; a crossing narrower than that can be missed.
//! No crossing up to `end` gives `None`.
//!
//! * **Uniform**: `d = (1, …, 1)`, down to `end = −0.99`, up to `end = +4` ([`MOVE_RANGE`]).
//! * **Worst historical direction** (books of several coins): `d` = the joint moves of the HS
//!   window (the run's horizon) with the largest loss, ties to the earliest window; `t ≥ 0` up
//!   to the largest scale keeping every coin's move in [`MOVE_RANGE`]; `t = 1` is the
//!   historical move itself.

use super::{MOVE_RANGE, StressError, pnl_rows};
use crate::var::{self, Closes, Scenarios};
use margin_core::Asset;
use margin_core::scenario::Scenario;
use margin_core::spec::{JointSource, Method};
use margin_core::statistical::Book;

/// Grid step of the first-crossing scan, in scale units.
pub const GRID_STEP: f64 = 1e-3;
/// Width of the final bracket.
pub const TOLERANCE: f64 = 1e-9;

/// Where equity is first exhausted along a direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing {
    /// The scale at which equity is exhausted (the reported move).
    pub scale: f64,
    /// The scale, at most [`TOLERANCE`] closer to 0, at which it is not (equal to `scale`
    /// when equity is exhausted already at 0).
    pub inside: f64,
    /// P&L at `scale`.
    pub pnl: f64,
}

/// The worst historical joint direction and the crossing along it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoricalReverse {
    /// Close indices `(start, end)` of the worst window.
    pub window: (usize, usize),
    /// The window's joint moves (scale 1), in coin order.
    pub direction: Vec<f64>,
    /// Its loss.
    pub loss: f64,
    /// The crossing along it (`None`: none up to the range).
    pub crossing: Option<Crossing>,
}

/// Reverse stress of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Reverse {
    /// Uniform move down (negative scale).
    pub down: Option<Crossing>,
    /// Uniform move up.
    pub up: Option<Crossing>,
    /// Along the worst historical direction (books of several coins with a history).
    pub historical: Option<HistoricalReverse>,
}

fn exhausted(equity: f64, pnl: f64) -> bool {
    equity + pnl <= 0.0
}

/// The first crossing along `direction` from 0 to `end` (see the module docs).
pub fn along(
    book: &Book<'_>,
    coins: &[Asset],
    direction: &[f64],
    end: f64,
    equity: f64,
    template: &Scenario,
) -> Result<Option<Crossing>, StressError> {
    if direction.len() != coins.len() || !end.is_finite() || end == 0.0 {
        return Err(StressError::Parameter {
            name: "reverse stress direction",
            expected: "one finite move per coin and a non-zero end".into(),
        });
    }
    let n = (end.abs() / GRID_STEP).ceil() as usize;
    let scale = |k: usize| end * k as f64 / n as f64;
    let row = |t: f64| direction.iter().map(|d| t * d).collect::<Vec<f64>>();
    let moves: Vec<f64> = (0..=n).flat_map(|k| row(scale(k))).collect();
    let pnl = pnl_rows(book, coins, &moves, template)?;
    let Some(k) = pnl.iter().position(|&p| exhausted(equity, p)) else {
        return Ok(None);
    };
    if k == 0 {
        return Ok(Some(Crossing {
            scale: 0.0,
            inside: 0.0,
            pnl: pnl[0],
        }));
    }
    let (mut inside, mut out, mut out_pnl) = (scale(k - 1), scale(k), pnl[k]);
    while (out - inside).abs() > TOLERANCE {
        let mid = 0.5 * (inside + out);
        let p = pnl_rows(book, coins, &row(mid), template)?[0];
        if exhausted(equity, p) {
            (out, out_pnl) = (mid, p);
        } else {
            inside = mid;
        }
    }
    Ok(Some(Crossing {
        scale: out,
        inside,
        pnl: out_pnl,
    }))
}

/// Uniform reverse stress down and up, and with `history` (the book's coins' closes) and
/// more than one coin, along the worst historical direction of `source`'s horizon.
pub fn reverse(
    book: &Book<'_>,
    coins: &[Asset],
    equity: f64,
    source: &JointSource,
    history: Option<&Closes<'_>>,
) -> Result<Reverse, StressError> {
    let template = super::template(source, 0.0)?;
    let ones = vec![1.0; coins.len()];
    let down = along(book, coins, &ones, MOVE_RANGE.0, equity, &template)?;
    let up = along(book, coins, &ones, MOVE_RANGE.1, equity, &template)?;
    let historical = match history {
        Some(h) if coins.len() > 1 => Some(worst_direction(book, h, equity, source, &template)?),
        _ => None,
    };
    Ok(Reverse {
        down,
        up,
        historical,
    })
}

/// The largest `t ≥ 0` with every `t·d_c` in [`MOVE_RANGE`] (`None` for a zero direction).
pub fn max_scale(direction: &[f64]) -> Option<f64> {
    direction
        .iter()
        .filter(|d| **d != 0.0)
        .map(|&d| {
            if d < 0.0 {
                MOVE_RANGE.0 / d
            } else {
                MOVE_RANGE.1 / d
            }
        })
        .min_by(f64::total_cmp)
}

fn worst_direction(
    book: &Book<'_>,
    history: &Closes<'_>,
    equity: f64,
    source: &JointSource,
    template: &Scenario,
) -> Result<HistoricalReverse, StressError> {
    let hs = JointSource {
        method: Method::Historical,
        ..*source
    };
    let scenarios = Scenarios::build(history, &hs)?;
    let joint = scenarios.joint()?;
    let losses = var::losses(book, &joint, template)?;
    // Largest loss, ties to the earliest window.
    let worst = (0..losses.len())
        .reduce(|a, b| if losses[b] > losses[a] { b } else { a })
        .ok_or(StressError::Parameter {
            name: "history",
            expected: "at least one window of the horizon".into(),
        })?;
    let direction = joint.row(worst).to_vec();
    let crossing = match max_scale(&direction) {
        Some(end) => along(book, history.coins, &direction, end, equity, template)?,
        None => None,
    };
    Ok(HistoricalReverse {
        window: scenarios.windows.as_ref().map_or((0, 0), |w| w[worst]),
        direction,
        loss: losses[worst],
        crossing,
    })
}
