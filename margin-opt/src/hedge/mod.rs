//! Minimum-margin hedges and liquidation plans over the core's margin spec.
//!
//! Every problem is convex in the trade sizes `x` because, for fixed market data, every
//! scenario P&L is linear in the sizes (risk arrays, methodologies §11.2) and every operator
//! the spec applies after it is a maximum of linear terms or a sum of such maxima:
//!
//! * [`grid`]: the grid presets' requirement as an epigraph (worst cell with gain offset and
//!   cap, extended dampener, roll shock, naked shorts, short-option and delta minima,
//!   per-underlying scope, IM/MM mapping), shared by [`worst`] and [`liquidate`].
//! * [`worst`]: minimum worst-case margin plus half-spread costs (LP).
//! * [`es`]: minimum Expected Shortfall margin on HS, FHS or Monte Carlo scenarios, the
//!   Rockafellar–Uryasev LP, solved in full or by cutting planes.
//! * [`liquidate`]: the cheapest reductions of existing positions restoring IM or MM.
//! * [`lots`]: rounding a relaxed solution to lots, never above the unhedged objective.
//!
//! Every LP is built with `good_lp` (clarabel backend), then solved by Clarabel directly so
//! that each [`clarabel::solver::SolverStatus`] maps to an explicit outcome ([`solve`]):
//! good_lp alone reports `DualInfeasible` and `AlmostSolved` as success. Every result is
//! re-margined by the core at the returned sizes; a mismatch above [`RECHECK_TOLERANCE`]
//! relative is [`OptError::Mismatch`], never a silent result.

pub mod es;
pub mod grid;
pub mod liquidate;
pub mod lots;
pub mod worst;

use clarabel::solver::{IPSolver, SolverStatus};
use good_lp::Variable;
use good_lp::solvers::clarabel::ClarabelProblem;
use grid::Values;
use margin_core::instrument::Kind;
use margin_core::io::matrix::RiskMatrix;
use margin_core::{Asset, Instrument};
use std::collections::HashMap;
use std::time::Instant;

/// Relative tolerance of the core recheck: `|lp − core| ≤ tol·max(1, |core|)` plus half a
/// unit of the measure's rounding.
pub const RECHECK_TOLERANCE: f64 = 1e-7;
/// Clarabel's iteration cap (fixed, so a run is deterministic; no time limit).
pub const MAX_ITERATIONS: u32 = 400;

/// Why an optimisation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptError {
    /// A parameter is outside its documented range.
    #[error("{field}: {expected}")]
    Input {
        /// The offending field.
        field: String,
        /// What was expected.
        expected: String,
    },
    /// A term of the spec that this optimiser cannot represent as a convex program.
    #[error("{0} is not convex in the sizes: it cannot be optimised exactly")]
    NotConvex(&'static str),
    /// The core rejected an account or could not revalue a position.
    #[error("{0}")]
    Core(String),
    /// The constraints admit no solution (Clarabel: primal infeasible).
    #[error("infeasible: {0}")]
    Infeasible(String),
    /// The objective is unbounded below (Clarabel: dual infeasible).
    #[error("unbounded: the objective can be made arbitrarily small (give finite bounds)")]
    Unbounded,
    /// Clarabel stopped at its iteration cap.
    #[error("the solver reached its iteration limit ({0} iterations)")]
    MaxIterations(u32),
    /// Clarabel stopped at a time limit.
    #[error("the solver reached its time limit")]
    MaxTime,
    /// Clarabel failed numerically or made no progress.
    #[error("the solver failed: {0}")]
    Numerical(&'static str),
    /// A liquidation target cannot be reached by reducing positions.
    #[error(
        "target {target} unreachable by reductions: the best reachable margin is {best} against equity {equity}"
    )]
    Unreachable {
        /// `im` or `mm`.
        target: &'static str,
        /// Lowest margin (of the target kind) reducing positions can reach.
        best: f64,
        /// Account equity.
        equity: f64,
    },
    /// The optimum disagrees with the core's margin at the returned sizes.
    #[error("the optimiser's {what} {lp} disagrees with the core's {core} at the returned sizes")]
    Mismatch {
        /// The quantity compared.
        what: &'static str,
        /// The solver's value.
        lp: f64,
        /// The core's value.
        core: f64,
    },
}

/// Solution quality, from Clarabel's status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quality {
    /// Solved to the default tolerances.
    Solved,
    /// Solved to Clarabel's reduced tolerances: a degraded result, flagged; its primal and
    /// dual residuals are reported.
    AlmostSolved {
        /// Primal residual.
        r_prim: f64,
        /// Dual residual.
        r_dual: f64,
    },
}

impl Quality {
    /// `solved` or `almost_solved`.
    pub fn name(&self) -> &'static str {
        match self {
            Quality::Solved => "solved",
            Quality::AlmostSolved { .. } => "almost_solved",
        }
    }
}

/// Solver statistics of a run (summed over the solves of a cutting-plane loop).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveInfo {
    /// Worst quality over the solves.
    pub quality: Quality,
    /// Interior-point iterations.
    pub iterations: u32,
    /// Wall time in the solver and model building, milliseconds.
    pub solve_ms: f64,
    /// LP solves (1, or the cutting-plane rounds).
    pub solves: u32,
}

impl SolveInfo {
    /// Adds the statistics of a further solve.
    pub fn merge(&mut self, other: SolveInfo) {
        if matches!(other.quality, Quality::AlmostSolved { .. }) {
            self.quality = other.quality;
        }
        self.iterations += other.iterations;
        self.solve_ms += other.solve_ms;
        self.solves += other.solves;
    }
}

/// Solves a good_lp model with Clarabel and maps every status: `Solved` and `AlmostSolved`
/// (flagged) return the primal solution indexed by variable; every other status is an error.
pub fn solve(
    problem: ClarabelProblem,
    columns: HashMap<Variable, usize>,
) -> Result<(Values, SolveInfo), OptError> {
    let vars = columns.len();
    let start = Instant::now();
    let mut problem = problem;
    problem
        .settings()
        .verbose(false)
        .max_iter(MAX_ITERATIONS)
        .time_limit(f64::INFINITY);
    let mut solver = problem
        .try_into_solver()
        .map_err(|e| OptError::Core(format!("cannot build the LP: {e}")))?;
    solver.solve();
    let s = &solver.solution;
    let quality = match s.status {
        SolverStatus::Solved => Quality::Solved,
        SolverStatus::AlmostSolved => Quality::AlmostSolved {
            r_prim: s.r_prim,
            r_dual: s.r_dual,
        },
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            return Err(OptError::Infeasible(
                "no sizes satisfy the bounds, budget and target together".into(),
            ));
        }
        SolverStatus::DualInfeasible | SolverStatus::AlmostDualInfeasible => {
            return Err(OptError::Unbounded);
        }
        SolverStatus::MaxIterations => return Err(OptError::MaxIterations(s.iterations)),
        SolverStatus::MaxTime => return Err(OptError::MaxTime),
        SolverStatus::NumericalError => return Err(OptError::Numerical("numerical error")),
        SolverStatus::InsufficientProgress => {
            return Err(OptError::Numerical("insufficient progress"));
        }
        SolverStatus::Unsolved => return Err(OptError::Numerical("not run")),
        SolverStatus::CallbackTerminated => return Err(OptError::Numerical("callback stop")),
    };
    if s.x.len() != vars || s.x.iter().any(|v| !v.is_finite()) {
        return Err(OptError::Numerical("non-finite solution"));
    }
    let info = SolveInfo {
        quality,
        iterations: s.iterations,
        solve_ms: start.elapsed().as_secs_f64() * 1e3,
        solves: 1,
    };
    Ok((Values::new(s.x.clone(), columns), info))
}

/// A candidate hedge: a row of the problem's instrument set, its size bounds and its cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The instrument.
    pub instrument: margin_core::Instrument,
    /// Smallest size (≤ 0).
    pub lo: f64,
    /// Largest size (≥ 0).
    pub hi: f64,
    /// Half the bid-ask spread per unit, account currency (≥ 0): the cost of trading one unit.
    pub half_spread: f64,
}

/// Checks the bounds, costs and budget of a hedge run: every bound finite with
/// `lo ≤ 0 ≤ hi` (zero, the unhedged account, is always feasible), every half-spread finite
/// and ≥ 0, the budget ≥ 0 (or none), no candidate twice.
pub fn check_candidates(candidates: &[Candidate], budget: Option<f64>) -> Result<(), OptError> {
    let bad = |field: String, expected: &str| OptError::Input {
        field,
        expected: expected.to_string(),
    };
    for (i, c) in candidates.iter().enumerate() {
        let name = c.instrument.to_string();
        if !(c.lo.is_finite() && c.hi.is_finite() && c.lo <= 0.0 && c.hi >= 0.0) {
            return Err(bad(
                format!("bounds of {name} ({}, {})", c.lo, c.hi),
                "finite with LO <= 0 <= HI",
            ));
        }
        if !(c.half_spread.is_finite() && c.half_spread >= 0.0) {
            return Err(bad(format!("half-spread of {name}"), "finite and >= 0"));
        }
        if candidates[..i].iter().any(|d| d.instrument == c.instrument) {
            return Err(bad(format!("hedge {name}"), "listed once"));
        }
    }
    if let Some(b) = budget
        && !(b.is_finite() && b >= 0.0)
    {
        return Err(bad(format!("budget {b}"), "a finite cost >= 0"));
    }
    Ok(())
}

/// Linear cost `Σ half_spread·|x|` of trades `x`.
pub fn cost(candidates: &[Candidate], x: &[f64]) -> f64 {
    candidates
        .iter()
        .zip(x)
        .map(|(c, x)| c.half_spread * x.abs())
        .sum()
}

/// True when `lp` and `core` agree within [`RECHECK_TOLERANCE`] relative to the larger of
/// `|core|` and the problem's `scale` (the unhedged margin), plus `slack` (the measure's
/// rounding).
pub fn agrees(lp: f64, core: f64, scale: f64, slack: f64) -> bool {
    (lp - core).abs() <= RECHECK_TOLERANCE * core.abs().max(scale) + slack
}

/// Half the quoted bid-ask spread of `instrument` per unit of size, in its settlement
/// currency (the account's), from the market's quote; `None` when the market quotes none.
/// Options are quoted per option in their settlement currency, so the half-spread is the
/// cost; futures and perpetuals are quoted in USD per coin, so an inverse one costs
/// `half-spread / forward` coin per coin of size.
pub fn half_spread(matrix: &RiskMatrix, instrument: &Instrument) -> Option<f64> {
    let (bid, ask) = matrix
        .market()
        .instruments
        .iter()
        .find(|q| q.instrument == *instrument)?
        .quote?;
    let half = 0.5 * (ask - bid);
    match instrument.kind {
        Kind::Option { .. } => Some(half),
        _ if instrument.is_inverse() => {
            let row = matrix.find(instrument).ok()?;
            let forward = matrix.with_arrays(|a| a.inputs(row).forward);
            (forward > 0.0).then(|| half / forward)
        }
        _ => Some(half),
    }
}

/// The `auto` hedge set of an account holding `held` (instruments) in `currency`: every
/// future and perpetual of each underlying it holds, plus the options of the `k` nearest
/// option expiries of each, restricted to instruments settling in `currency`, in row order.
pub fn auto_candidates(
    matrix: &RiskMatrix,
    held: &[Instrument],
    currency: Asset,
    k: usize,
) -> Vec<Instrument> {
    let mut underlyings: Vec<Asset> = Vec::new();
    for i in held {
        if !underlyings.contains(&i.underlying) {
            underlyings.push(i.underlying);
        }
    }
    let ok = |i: &Instrument| {
        underlyings.contains(&i.underlying) && *i.settlement_currency() == currency
    };
    let mut expiries: Vec<(Asset, margin_core::time::Timestamp)> = Vec::new();
    for u in &underlyings {
        let mut e: Vec<_> = matrix
            .instruments()
            .iter()
            .filter(|i| ok(i) && i.underlying == *u)
            .filter_map(|i| match i.kind {
                Kind::Option { expiry, .. } => Some(expiry),
                _ => None,
            })
            .collect();
        e.sort_unstable();
        e.dedup();
        expiries.extend(e.into_iter().take(k).map(|t| (*u, t)));
    }
    matrix
        .instruments()
        .iter()
        .filter(|i| ok(i))
        .filter(|i| match i.kind {
            Kind::Future { .. } | Kind::Perpetual => true,
            Kind::Option { expiry, .. } => expiries.contains(&(i.underlying, expiry)),
            _ => false,
        })
        .copied()
        .collect()
}
