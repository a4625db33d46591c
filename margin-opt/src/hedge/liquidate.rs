//! Liquidation plan: the cheapest reductions of existing positions that bring a grid
//! account's initial or maintenance margin down to its equity.
//!
//! Position i of size `q_i` is reduced by `r_i ∈ [0, |q_i|]` to `q_i − sign(q_i)·r_i`: sizes
//! move toward zero only and never flip. With half-spreads `h_i`:
//!
//! ```text
//! min  Σ h_i·r_i + ε·Σ r_i        (ε = 1e-6 per unit, scaled: among equal costs, trade least)
//! s.t. k·requirement(q − sign(q)·r) ≤ equity − δ,   0 ≤ r ≤ |q|
//! ```
//!
//! with `k` the IM or MM per unit of requirement and the requirement's epigraph from
//! [`super::grid`]. `δ` (1e-7 of the scale plus the measure's rounding) keeps the core's
//! margin, which the plan is rechecked with, at or below equity despite solver tolerance
//! (the recheck: the core's margin is at most the epigraph's bound and at most equity).
//! When no reductions reach the target, a second LP minimises the target margin over the
//! same reductions and the error states that best reachable level.

use super::grid::{GridAccount, Size, Values};
use super::worst::trades_of;
use super::{OptError, RECHECK_TOLERANCE, SolveInfo, agrees, solve};
use good_lp::solvers::clarabel::clarabel;
use good_lp::{Expression, ProblemVariables, SolverModel, Variable, constraint, variable};
use margin_core::account::Margin;

/// Which margin the plan restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Equity ≥ initial margin.
    Initial,
    /// Equity ≥ maintenance margin.
    Maintenance,
}

impl Target {
    /// `im` or `mm`.
    pub fn name(&self) -> &'static str {
        match self {
            Target::Initial => "im",
            Target::Maintenance => "mm",
        }
    }

    /// The target margin of `m`.
    pub fn of(&self, m: &Margin) -> f64 {
        match self {
            Target::Initial => m.initial,
            Target::Maintenance => m.maintenance,
        }
    }
}

/// Tie-break cost per unit reduced (scaled money), so that among equally cheap plans the
/// smallest is returned.
pub const TIE_BREAK: f64 = 1e-6;

/// A liquidation plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Signed trade on each position, in position order (0 or opposite in sign to the
    /// position, never larger than it).
    pub trades: Vec<f64>,
    /// The core's margin before.
    pub before: Margin,
    /// The core's margin after the trades.
    pub after: Margin,
    /// Half-spread cost of the trades.
    pub cost: f64,
    /// Solver statistics (none solved when the account already meets its target).
    pub info: Option<SolveInfo>,
}

/// The cheapest plan restoring `target` for `account`, `half_spreads[i]` the cost of reducing
/// position i by one unit (finite, ≥ 0).
pub fn plan(
    account: &GridAccount<'_>,
    half_spreads: &[f64],
    target: Target,
) -> Result<Plan, OptError> {
    let n = account.positions.len();
    if half_spreads.len() != n || half_spreads.iter().any(|h| !(h.is_finite() && *h >= 0.0)) {
        return Err(OptError::Input {
            field: "half-spreads".into(),
            expected: format!("{n} finite costs >= 0, one per position"),
        });
    }
    let (before, _) = account.margin_with(&[])?;
    let equity = account.equity;
    if target.of(&before) <= equity {
        return Ok(Plan {
            trades: vec![0.0; n],
            after: before.clone(),
            before,
            cost: 0.0,
            info: None,
        });
    }
    let scale = target.of(&before).max(equity.abs()).max(f64::MIN_POSITIVE);
    let build = |restore: bool| -> Result<(Vec<f64>, f64, f64, SolveInfo), OptError> {
        let mut vars = ProblemVariables::new();
        let r: Vec<Variable> = account
            .positions
            .iter()
            .map(|p| vars.add(variable().min(0.0).max(p.size.abs())))
            .collect();
        let sizes: Vec<Size> = account
            .positions
            .iter()
            .zip(&r)
            .map(|(p, &v)| Size {
                row: p.instrument,
                constant: p.size,
                terms: vec![(v, -p.size.signum())],
            })
            .collect();
        let epi = account.epigraph(&sizes, &mut vars, scale)?;
        let k = match target {
            Target::Initial => epi.mapping.0,
            Target::Maintenance => epi.mapping.1,
        };
        let margin = k * epi.requirement.clone();
        let mut spend = Expression::from(0.0);
        for (&h, &v) in half_spreads.iter().zip(&r) {
            spend.add_mul(h / scale + TIE_BREAK, v);
        }
        let columns = Values::columns(&vars);
        let objective = if restore { spend } else { margin.clone() };
        let mut problem = vars.minimise(objective).using(clarabel);
        for c in epi.constraints {
            problem = problem.with(c);
        }
        if restore {
            let delta = RECHECK_TOLERANCE + k * epi.rounding / scale;
            problem = problem.with(constraint!(margin.clone() <= equity / scale - delta));
        }
        let slack = k * epi.rounding;
        let (sol, info) = solve(problem, columns)?;
        let trades = account
            .positions
            .iter()
            .zip(&r)
            .map(|(p, &v)| -p.size.signum() * sol.eval(&v.into()).clamp(0.0, p.size.abs()))
            .collect();
        Ok((trades, sol.eval(&margin) * scale, slack, info))
    };
    let (trades, lp_margin, slack, info) = match build(true) {
        Ok(x) => x,
        Err(OptError::Infeasible(_)) => {
            let (trades, ..) = build(false)?;
            let rows: Vec<usize> = account.positions.iter().map(|p| p.instrument).collect();
            let (best, _) = account.margin_with(&trades_of(&rows, &trades))?;
            return Err(OptError::Unreachable {
                target: target.name(),
                best: target.of(&best),
                equity,
            });
        }
        Err(e) => return Err(e),
    };
    let rows: Vec<usize> = account.positions.iter().map(|p| p.instrument).collect();
    let (after, _) = account.margin_with(&trades_of(&rows, &trades))?;
    // The epigraph bounds the margin from above (the objective is the cost, so it need not be
    // tight): the core's margin must not exceed it, nor the equity.
    let core = target.of(&after);
    if !(core <= lp_margin || agrees(lp_margin, core, scale, slack)) || core > equity {
        return Err(OptError::Mismatch {
            what: "target margin",
            lp: lp_margin,
            core: target.of(&after),
        });
    }
    Ok(Plan {
        cost: half_spreads
            .iter()
            .zip(&trades)
            .map(|(h, t)| h * t.abs())
            .sum(),
        trades,
        before,
        after,
        info: Some(info),
    })
}
