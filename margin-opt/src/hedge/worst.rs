//! Minimum worst-case margin of a grid preset: the epigraph LP of [`super::grid`] plus
//! half-spread costs.
//!
//! ```text
//! min_x  IM(q0 + x)/scale + Σ_j h_j·a_j/scale
//! s.t.   lo_j ≤ x_j ≤ hi_j,  a_j ≥ ±x_j,  Σ_j h_j·a_j ≤ budget,  epigraph(IM)
//! ```
//!
//! `x = 0` is feasible (bounds contain 0), so the optimum never exceeds the unhedged margin.

use super::grid::{GridAccount, Size, Values, binding};
use super::{Candidate, OptError, SolveInfo, agrees, check_candidates, cost, solve};
use good_lp::solvers::clarabel::clarabel;
use good_lp::{Expression, ProblemVariables, SolverModel, Variable, constraint, variable};
use margin_core::account::Margin;
use margin_core::risk::Position;

/// A hedge run's result.
#[derive(Debug, Clone)]
pub struct HedgeResult {
    /// Trade size of each candidate, in candidate order.
    pub trades: Vec<f64>,
    /// The core's margin before.
    pub before: Margin,
    /// The core's margin at the returned trades.
    pub after: Margin,
    /// Half-spread cost of the trades.
    pub cost: f64,
    /// Solver statistics.
    pub info: SolveInfo,
    /// Scenarios binding at the optimum (worst cells), index order.
    pub binding: Vec<usize>,
}

/// The trades as positions (rows of the account's matrix), zero trades dropped.
pub fn trades_of(rows: &[usize], x: &[f64]) -> Vec<Position> {
    rows.iter()
        .zip(x)
        .filter(|(_, x)| **x != 0.0)
        .map(|(&r, &x)| Position {
            instrument: r,
            size: x,
        })
        .collect()
}

/// The account's sizes with candidate `j` trading variable `vars[j]`: one [`Size`] per row.
pub fn sizes(account: &GridAccount<'_>, rows: &[usize], vars: &[Variable]) -> Vec<Size> {
    let mut out: Vec<Size> = account
        .positions
        .iter()
        .map(|p| Size {
            row: p.instrument,
            constant: p.size,
            terms: Vec::new(),
        })
        .collect();
    for (&r, &v) in rows.iter().zip(vars) {
        match out.iter_mut().find(|s| s.row == r) {
            Some(s) => s.terms.push((v, 1.0)),
            None => out.push(Size {
                row: r,
                constant: 0.0,
                terms: vec![(v, 1.0)],
            }),
        }
    }
    out
}

/// Minimum-IM hedge of `account` over `candidates` (relaxed: continuous sizes), rechecked by
/// the core. Errors: bad bounds or budget ([`OptError::Input`]), a non-convex spec term, a
/// solver failure, or a core mismatch.
pub fn minimise(
    account: &GridAccount<'_>,
    candidates: &[Candidate],
    budget: Option<f64>,
) -> Result<HedgeResult, OptError> {
    check_candidates(candidates, budget)?;
    let rows: Vec<usize> = candidates
        .iter()
        .map(|c| account.row(&c.instrument))
        .collect::<Result<_, _>>()?;
    let (before, _) = account.margin_with(&[])?;
    let scale = if before.initial > 0.0 {
        before.initial
    } else {
        1.0
    };
    let mut vars = ProblemVariables::new();
    let x: Vec<Variable> = candidates
        .iter()
        .map(|c| vars.add(variable().min(c.lo).max(c.hi)))
        .collect();
    let mut cons = Vec::new();
    let mut spend = Expression::from(0.0);
    for (c, &xj) in candidates.iter().zip(&x) {
        if c.half_spread > 0.0 {
            let a = vars.add(variable().min(0.0));
            cons.push(constraint!(a >= xj));
            cons.push(constraint!(a >= -xj));
            spend.add_mul(c.half_spread / scale, a);
        }
    }
    let epi = account.epigraph(&sizes(account, &rows, &x), &mut vars, scale)?;
    let im = epi.mapping.0 * epi.requirement.clone();
    let columns = Values::columns(&vars);
    let mut problem = vars.minimise(im.clone() + spend.clone()).using(clarabel);
    for c in epi.constraints.into_iter().chain(cons) {
        problem = problem.with(c);
    }
    if let Some(b) = budget {
        problem = problem.with(constraint!(spend.clone() <= b / scale));
    }
    let (sol, info) = solve(problem, columns)?;
    let trades: Vec<f64> = x.iter().map(|&v| sol.eval(&v.into())).collect();
    let (after, counted) = account.margin_with(&trades_of(&rows, &trades))?;
    let lp_im = sol.eval(&im) * scale;
    if !agrees(lp_im, after.initial, scale, epi.mapping.0 * epi.rounding) {
        return Err(OptError::Mismatch {
            what: "initial margin",
            lp: lp_im,
            core: after.initial,
        });
    }
    Ok(HedgeResult {
        cost: cost(candidates, &trades),
        trades,
        before,
        after,
        info,
        binding: binding(&counted, 1e-9 * scale),
    })
}
