//! Minimum Expected Shortfall margin over HS, FHS or Monte Carlo joint scenarios: the
//! Rockafellar–Uryasev LP (methodologies §8).
//!
//! With N equally likely losses `L_s(x) = L0_s + Σ_j x_j·l_{s,j}` (linear in the trades: each
//! column `l_j` is the loss of one unit of candidate j, revalued by the core), tail mass
//! `m = N(1−c)` ([`tail::tail`]) and the ES requirement `max(ES, 0)`:
//!
//! ```text
//! min  IM per unit · t + Σ_j h_j·a_j
//! s.t. t ≥ 0,  t ≥ α + (1/m)·Σ_s u_s,  u_s ≥ L_s(x) − α,  u_s ≥ 0,
//!      lo ≤ x ≤ hi,  a_j ≥ ±x_j,  Σ h_j a_j ≤ budget
//! ```
//!
//! For equally likely scenarios `min_α α + (1/m)Σ(L_s − α)^+` is exactly the Acerbi–Tasche
//! ES the core reports, so the optimum is rechecked against it.
//!
//! **Cutting planes** ([`Method::CuttingPlane`]): solve on a candidate tail set `A` (the
//! `max(2⌈m⌉, ⌈m⌉ + 32)` largest unhedged losses), then add every scenario outside `A` whose
//! loss at the solution exceeds α (the `2⌈m⌉ + 32` worst of them per round), and solve again. Dropping scenarios only removes
//! non-negative terms, so each restricted optimum is a lower bound; when no scenario outside
//! `A` exceeds α, the dropped terms are all 0 at the solution, whose full objective then equals
//! the lower bound: it is optimal for the full LP. `|A| ≥ ⌈m⌉` keeps every restricted problem
//! bounded.

use super::grid::Values;
use super::worst::trades_of;
use super::{Candidate, OptError, SolveInfo, agrees, check_candidates, cost, solve};
use crate::joint::{JointEngine, OwnedBook, merge};
use crate::var;
use good_lp::solvers::clarabel::clarabel;
use good_lp::{Expression, ProblemVariables, SolverModel, Variable, constraint, variable};
use margin_core::account::Margin;
use margin_core::io::Portfolio;
use margin_core::io::matrix::RiskMatrix;
use margin_core::risk::Position;
use margin_core::spec::{Measure, Method as Source};
use margin_core::stats::tail;

/// How the LP is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Every scenario in one LP.
    Full,
    /// Candidate tail set grown until no scenario outside it exceeds α (module docs).
    CuttingPlane,
}

/// Most cutting-plane rounds before giving up ([`OptError::MaxIterations`]).
pub const MAX_ROUNDS: u32 = 200;

/// An account under a statistical preset, with its loss columns.
#[derive(Debug, Clone)]
pub struct EsAccount<'a> {
    engine: &'a JointEngine,
    matrix: &'a RiskMatrix,
    currency: margin_core::Asset,
    equity: f64,
    positions: Vec<Position>,
}

fn core_err(e: impl std::fmt::Display) -> OptError {
    OptError::Core(e.to_string())
}

/// A statistical run's result.
#[derive(Debug, Clone)]
pub struct EsResult {
    /// Trade size of each candidate, in candidate order.
    pub trades: Vec<f64>,
    /// The core's margin before.
    pub before: Margin,
    /// The core's margin at the returned trades.
    pub after: Margin,
    /// The core's ES before.
    pub es_before: f64,
    /// The core's ES at the returned trades.
    pub es_after: f64,
    /// Half-spread cost of the trades.
    pub cost: f64,
    /// Solver statistics (summed over cutting-plane rounds).
    pub info: SolveInfo,
    /// Tail scenarios at the returned trades (index order): the binding scenarios.
    pub binding: Vec<usize>,
    /// Scenarios in the final LP (N for the full LP).
    pub active: usize,
}

impl<'a> EsAccount<'a> {
    /// `portfolio` looked up in `matrix` (built under the lookup preset) and validated, margined
    /// under `engine`'s ES model. Refuses a VaR or parametric model.
    pub fn new(
        engine: &'a JointEngine,
        matrix: &'a RiskMatrix,
        portfolio: &Portfolio,
    ) -> Result<Self, OptError> {
        let spec = engine.model().spec();
        if !matches!(
            spec.measure,
            Measure::Tail {
                expected_shortfall: true,
                ..
            }
        ) || engine.params().source.method == Source::Parametric
        {
            return Err(OptError::Input {
                field: "model".into(),
                expected: format!(
                    "an ES preset over HS, FHS or MC scenarios for --objective es ({} is not)",
                    engine.model().name
                ),
            });
        }
        let positions = matrix.universe().positions(portfolio).map_err(core_err)?;
        let acc = EsAccount {
            engine,
            matrix,
            currency: portfolio.currency,
            equity: portfolio.equity,
            positions,
        };
        acc.book(&[])?;
        Ok(acc)
    }

    fn book(&self, trades: &[Position]) -> Result<OwnedBook, OptError> {
        let merged = merge(&self.positions, trades);
        self.matrix
            .with_arrays(|a| OwnedBook::of_positions(a, self.currency, self.equity, &merged))
            .map_err(core_err)
    }

    /// Every scenario's loss of the book after `trades`.
    fn losses_of(&self, book: &OwnedBook) -> Result<Vec<f64>, OptError> {
        let joint = self.engine.scenarios().joint().map_err(core_err)?;
        let template = self.engine.params().source.template();
        var::losses(&book.book(), &joint, &template).map_err(|e| OptError::Core(e.to_string()))
    }

    /// The core's margin and ES after `trades`, with the tail scenarios (index order).
    pub fn margin_with(&self, trades: &[Position]) -> Result<(Margin, f64, Vec<usize>), OptError> {
        let merged = merge(&self.positions, trades);
        let (m, report) = self
            .matrix
            .with_arrays(|a| {
                self.engine
                    .margin_positions(a, self.currency, self.equity, &merged)
            })
            .map_err(core_err)?;
        let mut tail: Vec<usize> = report.tail.iter().map(|t| t.index).collect();
        tail.sort_unstable();
        Ok((m, report.es, tail))
    }

    /// Row of `instrument`, or an error naming it.
    pub fn row(&self, instrument: &margin_core::Instrument) -> Result<usize, OptError> {
        self.matrix.find(instrument).map_err(|e| OptError::Input {
            field: format!("hedge {instrument}"),
            expected: format!("an instrument the market prices ({e})"),
        })
    }
}

/// Minimum-ES-margin hedge of `account` over `candidates`, by `method`, rechecked by the
/// core's ES at the returned trades.
pub fn minimise(
    account: &EsAccount<'_>,
    candidates: &[Candidate],
    budget: Option<f64>,
    method: Method,
) -> Result<EsResult, OptError> {
    check_candidates(candidates, budget)?;
    let rows: Vec<usize> = candidates
        .iter()
        .map(|c| account.row(&c.instrument))
        .collect::<Result<_, _>>()?;
    let base = account.losses_of(&account.book(&[])?)?;
    let columns: Vec<Vec<f64>> = rows
        .iter()
        .map(|&r| {
            let one = account.matrix.with_arrays(|a| {
                OwnedBook::of_positions(
                    a,
                    account.currency,
                    0.0,
                    &[Position {
                        instrument: r,
                        size: 1.0,
                    }],
                )
            });
            account.losses_of(&one.map_err(core_err)?)
        })
        .collect::<Result<_, _>>()?;
    let confidence = account.engine.params().confidence;
    let n = base.len();
    let mut order = vec![0usize; n];
    let tl = tail::tail(&base, confidence, &mut order).map_err(core_err)?;
    let (before, es_before, _) = account.margin_with(&[])?;
    let im_per_unit = account.engine.model().spec().mapping.apply(1.0).0;
    let scale = [before.initial, es_before.abs()]
        .into_iter()
        .fold(0.0, f64::max);
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let mut active: Vec<usize> = match method {
        Method::Full => (0..n).collect(),
        Method::CuttingPlane => {
            let want = (2 * tl.count).max(tl.count + 32).min(n);
            let mut a = order[..want].to_vec();
            a.sort_unstable();
            a
        }
    };
    let mut info: Option<SolveInfo> = None;
    let mut in_active = vec![false; n];
    for round in 0.. {
        if round >= MAX_ROUNDS {
            return Err(OptError::MaxIterations(MAX_ROUNDS));
        }
        for &s in &active {
            in_active[s] = true;
        }
        let (x, alpha, t, i) = solve_on(
            &active,
            &base,
            &columns,
            tl.m,
            candidates,
            budget,
            scale,
            im_per_unit,
        )?;
        match &mut info {
            Some(acc) => acc.merge(i),
            None => info = Some(i),
        }
        let loss =
            |s: usize| base[s] + columns.iter().zip(&x).map(|(c, xj)| c[s] * xj).sum::<f64>();
        let mut violated: Vec<usize> = (0..n)
            .filter(|&s| !in_active[s] && loss(s) / scale > alpha + 1e-10)
            .collect();
        if violated.is_empty() {
            let info = info.ok_or(OptError::Numerical("no solve"))?;
            let (after, es_after, binding) = account.margin_with(&trades_of(&rows, &x))?;
            let lp = t * scale;
            if !agrees(lp, es_after.max(0.0), scale, 0.0) {
                return Err(OptError::Mismatch {
                    what: "expected shortfall",
                    lp,
                    core: es_after.max(0.0),
                });
            }
            return Ok(EsResult {
                cost: cost(candidates, &x),
                trades: x,
                before,
                after,
                es_before,
                es_after,
                info,
                binding,
                active: active.len(),
            });
        }
        // The worst violators first, at most `2⌈m⌉ + 32` per round: adding every violator at
        // once can re-create the full LP after one restricted solve.
        violated.sort_by(|&a, &b| loss(b).total_cmp(&loss(a)).then(a.cmp(&b)));
        violated.truncate(2 * tl.count + 32);
        active.append(&mut violated);
        active.sort_unstable();
    }
    Err(OptError::MaxIterations(MAX_ROUNDS))
}

/// The RU LP on scenarios `active`: trades, α, t (both scaled) and statistics.
#[allow(clippy::too_many_arguments)]
fn solve_on(
    active: &[usize],
    base: &[f64],
    columns: &[Vec<f64>],
    m: f64,
    candidates: &[Candidate],
    budget: Option<f64>,
    scale: f64,
    im_per_unit: f64,
) -> Result<(Vec<f64>, f64, f64, SolveInfo), OptError> {
    let mut vars = ProblemVariables::new();
    let x: Vec<Variable> = candidates
        .iter()
        .map(|c| vars.add(variable().min(c.lo).max(c.hi)))
        .collect();
    let alpha = vars.add(variable());
    let t = vars.add(variable().min(0.0));
    let u: Vec<Variable> = active
        .iter()
        .map(|_| vars.add(variable().min(0.0)))
        .collect();
    let mut cons = Vec::with_capacity(active.len() + 2 * candidates.len() + 1);
    let mut spend = Expression::from(0.0);
    for (c, &xj) in candidates.iter().zip(&x) {
        if c.half_spread > 0.0 {
            let a = vars.add(variable().min(0.0));
            cons.push(constraint!(a >= xj));
            cons.push(constraint!(a >= -xj));
            spend.add_mul(c.half_spread / scale, a);
        }
    }
    for (&s, &us) in active.iter().zip(&u) {
        let mut l = Expression::from(base[s] / scale);
        for (col, &xj) in columns.iter().zip(&x) {
            l.add_mul(col[s] / scale, xj);
        }
        cons.push(constraint!(us >= l - alpha));
    }
    let mut ru = Expression::from(alpha);
    for &us in &u {
        ru.add_mul(1.0 / m, us);
    }
    cons.push(constraint!(t >= ru));
    let columns_of = Values::columns(&vars);
    let mut problem = vars
        .minimise(im_per_unit * t + spend.clone())
        .using(clarabel);
    for c in cons {
        problem = problem.with(c);
    }
    if let Some(b) = budget {
        problem = problem.with(constraint!(spend <= b / scale));
    }
    let (sol, info) = solve(problem, columns_of)?;
    let xs = x.iter().map(|&v| sol.eval(&v.into())).collect();
    Ok((xs, sol.eval(&alpha.into()), sol.eval(&t.into()), info))
}
