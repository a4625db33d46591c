//! The requirement of a grid preset as an epigraph of linear constraints in the sizes, and
//! the account it is evaluated on.
//!
//! With `P_{s,g}(q) = Σ_{i∈g} q_i·row_i[s]` (linear in the sizes `q`), the core's interpreter
//! ([`margin_core::account::margin`]) computes, per risk unit:
//!
//! * cell loss `L_s = −(Σ_g min(P_g,0) + min(o·Σ_g max(P_g,0), cap))`, which for a gain offset
//!   `o ∈ [0, 1]` equals `max(Σ_g max(−P_g, −o·P_g), Σ_g max(−P_g, 0) − cap)`: convex
//!   (methodologies §11.2). Each max becomes an auxiliary variable bounded below by its terms.
//! * counted loss `w_s·L_s` (standard) or `w_s·f·max(0, L_s − D)` (extended, `D ≥ 0`), and
//!   worst `t ≥ every counted loss, t ≥ 0`.
//! * add-ons in order: roll shock `Σ c_i|q_i|` and naked shorts `Σ c·max(0, −Σ_K q)` add;
//!   short-option minimum `Σ c·max(0, −q_i)` and delta minimum
//!   `(net − hedged)·|Σ d_i q_i| + hedged·Σ |d_i q_i|` (convex when `net ≥ hedged ≥ 0`) floor:
//!   `r' ≥ r, r' ≥ v`.
//! * units summed; IM and MM linear in the requirement ([`margin_core::spec::Mapping::apply`] at 1).
//!
//! Each add-on coefficient `c_i` is the core's own add-on function at a unit position, so no
//! formula is restated here. The LP ignores only the measure's rounding (Deribit: 9
//! decimals), which the recheck allows for. A term that is not convex in this way
//! (`o > 1`, negative weights, factors or dampener, `net < hedged`) is
//! [`OptError::NotConvex`], never approximated.
//!
//! Money in the LP is divided by a scale (the unhedged margin) so the problem is O(1).

use super::OptError;
use good_lp::{Constraint, Expression, ProblemVariables, Solution, SolutionStatus, Variable};
use good_lp::{constraint, variable};
use margin_core::account::{self, Account, Margin, cell_rule};
use margin_core::addon;
use margin_core::instrument::Kind;
use margin_core::io::Portfolio;
use margin_core::io::matrix::RiskMatrix;
use margin_core::model::Model;
use margin_core::risk::{Position, RiskArrays};
use margin_core::scenario::ScenarioKind;
use margin_core::spec::{AddOn, Combine, Measure, Scope};
use margin_core::{Asset, Instrument};
use std::collections::HashMap;
use std::iter::once;

/// One row's size as an affine function of the decision variables: `constant + Σ coef·var`.
#[derive(Debug, Clone)]
pub struct Size {
    /// Row of the risk matrix.
    pub row: usize,
    /// Size before any trade.
    pub constant: f64,
    /// Decision variables and their coefficients.
    pub terms: Vec<(Variable, f64)>,
}

impl Size {
    /// `k × size` as an expression.
    fn times(&self, k: f64) -> Expression {
        let mut e = Expression::from(k * self.constant);
        for &(v, c) in &self.terms {
            e.add_mul(k * c, v);
        }
        e
    }
}

/// The requirement's epigraph: its expression (requirement / scale) and the constraints that
/// make it an upper bound that is tight at the optimum.
pub struct Epigraph {
    /// `requirement / scale`.
    pub requirement: Expression,
    /// IM and MM per unit of requirement (the spec's mapping at 1).
    pub mapping: (f64, f64),
    /// Half a unit of the measure's rounding per risk unit, in money: the slack of a recheck.
    pub rounding: f64,
    /// The constraints.
    pub constraints: Vec<Constraint>,
}

/// Solution values as good_lp's [`Solution`] (to evaluate expressions): the solver's vector
/// and each variable's column (good_lp keeps columns private; [`Values::columns`] reads them
/// in creation order).
pub struct Values {
    x: Vec<f64>,
    column: HashMap<Variable, usize>,
}

impl Values {
    /// Each variable's column: the order `vars` created them in.
    pub fn columns(vars: &ProblemVariables) -> HashMap<Variable, usize> {
        vars.iter_variables_with_def()
            .enumerate()
            .map(|(i, (v, _))| (v, i))
            .collect()
    }

    /// The solution `x` over `column`.
    pub fn new(x: Vec<f64>, column: HashMap<Variable, usize>) -> Values {
        Values { x, column }
    }

    /// The value of `e`.
    pub fn eval(&self, e: &Expression) -> f64 {
        e.eval_with(self)
    }
}

impl Solution for Values {
    fn status(&self) -> SolutionStatus {
        SolutionStatus::Optimal
    }
    fn value(&self, variable: Variable) -> f64 {
        // Every variable of a model has a column; a foreign one reads as NaN, which the
        // recheck turns into a mismatch error.
        self.column.get(&variable).map_or(f64::NAN, |&i| self.x[i])
    }
}

/// A variable bounded below by every expression of `lower` (and by 0 when `nonneg`).
fn max_of(
    vars: &mut ProblemVariables,
    cons: &mut Vec<Constraint>,
    lower: Vec<Expression>,
    nonneg: bool,
) -> Expression {
    let v = if nonneg {
        vars.add(variable().min(0.0))
    } else {
        vars.add(variable())
    };
    for e in lower {
        cons.push(constraint!(v >= e));
    }
    Expression::from(v)
}

fn constant_only(e: &Expression) -> Option<f64> {
    use good_lp::IntoAffineExpression;
    let mut it = e.linear_coefficients();
    it.next().is_none().then(|| e.constant())
}

/// `|e|` (an auxiliary variable unless `e` is constant).
fn abs(vars: &mut ProblemVariables, cons: &mut Vec<Constraint>, e: Expression) -> Expression {
    match constant_only(&e) {
        Some(c) => Expression::from(c.abs()),
        None => max_of(vars, cons, vec![e.clone(), -e], false),
    }
}

/// `max(0, e)`.
fn pos(vars: &mut ProblemVariables, cons: &mut Vec<Constraint>, e: Expression) -> Expression {
    match constant_only(&e) {
        Some(c) => Expression::from(c.max(0.0)),
        None => max_of(vars, cons, vec![e], true),
    }
}

fn not_convex(what: &'static str) -> OptError {
    OptError::NotConvex(what)
}

/// The epigraph of `model`'s requirement (the model `arrays` were built under) for an account in `currency` holding `sizes`
/// (rows of `arrays`, each row once), money divided by `scale > 0`.
pub fn requirement(
    arrays: &RiskArrays<'_>,
    model: &Model,
    currency: Asset,
    sizes: &[Size],
    vars: &mut ProblemVariables,
    scale: f64,
) -> Result<Epigraph, OptError> {
    let spec = model.spec();
    let Measure::Worst { decimals, .. } = spec.measure else {
        return Err(OptError::Input {
            field: "model".into(),
            expected: "a grid model for this objective (statistical presets: --objective es)"
                .into(),
        });
    };
    let rule = cell_rule(arrays, &spec, currency);
    let o = rule.gain_offset;
    if !(0.0..=1.0).contains(&o) {
        return Err(not_convex("a gain offset outside [0, 1]"));
    }
    if !(rule.extended_dampener >= 0.0 && rule.extended_factor >= 0.0) || rule.gain_cap.is_nan() {
        return Err(not_convex("a negative extended dampener or factor"));
    }
    let scenarios = arrays.scenarios().scenarios();
    if scenarios
        .iter()
        .any(|s| s.weight.is_nan() || s.weight < 0.0)
    {
        return Err(not_convex("a negative scenario weight"));
    }
    let underlying = |row: usize| arrays.instruments()[row].underlying;
    let mut groups: Vec<Asset> = Vec::new();
    for s in sizes {
        if !groups.contains(&underlying(s.row)) {
            groups.push(underlying(s.row));
        }
    }
    let units: Vec<Vec<Asset>> = match spec.scope {
        Scope::Account => vec![groups.clone()],
        Scope::PerUnderlying if groups.is_empty() => vec![vec![]],
        Scope::PerUnderlying => groups.iter().map(|g| vec![*g]).collect(),
    };
    let mut cons = Vec::new();
    let mut total = Expression::from(0.0);
    let cap = rule.gain_cap / scale;
    let damp = rule.extended_dampener / scale;
    for unit in &units {
        let in_unit: Vec<&Size> = sizes
            .iter()
            .filter(|s| unit.contains(&underlying(s.row)))
            .collect();
        let t = vars.add(variable().min(0.0));
        for (si, sc) in scenarios.iter().enumerate() {
            // P&L of each underlying of the unit in scenario si.
            let pnl: Vec<Expression> = unit
                .iter()
                .map(|g| {
                    let mut e = Expression::from(0.0);
                    for s in in_unit.iter().filter(|s| underlying(s.row) == *g) {
                        e += s.times(arrays.row(s.row)[si] / scale);
                    }
                    e
                })
                .collect();
            let pieces: Vec<Expression> = if o == 1.0 && cap.is_infinite() {
                vec![-pnl.iter().cloned().sum::<Expression>()]
            } else if pnl.len() == 1 && cap.is_infinite() {
                vec![-pnl[0].clone(), -(o * pnl[0].clone())]
            } else {
                let mut first = Expression::from(0.0);
                let mut second = Expression::from(0.0);
                for p in &pnl {
                    first += max_of(vars, &mut cons, vec![-p.clone(), -(o * p.clone())], false);
                    if cap.is_finite() {
                        second += pos(vars, &mut cons, -p.clone());
                    }
                }
                if cap.is_finite() {
                    vec![first, second - cap]
                } else {
                    vec![first]
                }
            };
            for piece in pieces {
                let counted = match sc.kind {
                    ScenarioKind::Extended => (sc.weight * rule.extended_factor) * (piece - damp),
                    _ => sc.weight * piece,
                };
                cons.push(constraint!(t >= counted));
            }
        }
        let mut risk = Expression::from(t);
        for a in &spec.addons {
            let v = addon_value(arrays, a, &in_unit, vars, &mut cons, scale)?;
            risk = match a.combine() {
                Combine::Add => risk + v,
                Combine::Floor => max_of(vars, &mut cons, vec![risk, v], false),
            };
        }
        total += risk;
    }
    let rounding = if decimals >= 0 {
        0.5 * 10f64.powi(-decimals) * units.len() as f64
    } else {
        0.0
    };
    Ok(Epigraph {
        requirement: total,
        mapping: spec.mapping.apply(1.0),
        rounding,
        constraints: cons,
    })
}

/// The value of add-on `a` over the unit's sizes, each coefficient from the core's add-on
/// function at a unit position.
fn addon_value(
    arrays: &RiskArrays<'_>,
    a: &AddOn,
    sizes: &[&Size],
    vars: &mut ProblemVariables,
    cons: &mut Vec<Constraint>,
    scale: f64,
) -> Result<Expression, OptError> {
    let unit = |row: usize, size: f64| {
        once(Position {
            instrument: row,
            size,
        })
    };
    let is_option = |row: usize| matches!(arrays.instruments()[row].kind, Kind::Option { .. });
    let mut v = Expression::from(0.0);
    match *a {
        AddOn::RollShock {
            min_annualised_move,
            annualised_move_risk,
        } => {
            for s in sizes {
                let c = addon::roll_shock(
                    arrays,
                    unit(s.row, 1.0),
                    min_annualised_move,
                    annualised_move_risk,
                ) / scale;
                if c != 0.0 {
                    v += c * abs(vars, cons, s.times(1.0));
                }
            }
        }
        AddOn::NakedShort { per_contract } => {
            if per_contract != 0.0 {
                let key = |row: usize| {
                    let i: Instrument = arrays.instruments()[row];
                    match i.kind {
                        Kind::Option { expiry, strike, .. } => {
                            Some((i.underlying, i.settlement, expiry, strike))
                        }
                        _ => None,
                    }
                };
                let mut seen = Vec::new();
                for s in sizes {
                    let Some(k) = key(s.row) else { continue };
                    if seen.contains(&k) {
                        continue;
                    }
                    seen.push(k);
                    let c = addon::naked_short_per_strike(arrays, unit(s.row, -1.0), per_contract)
                        / scale;
                    let net: Expression = sizes
                        .iter()
                        .filter(|q| key(q.row) == Some(k))
                        .map(|q| q.times(1.0))
                        .sum();
                    v += c * pos(vars, cons, -net);
                }
            }
        }
        AddOn::ShortOptionMinimum { per_contract } => {
            for s in sizes.iter().filter(|s| is_option(s.row)) {
                let c =
                    addon::short_option_minimum(arrays, unit(s.row, -1.0), per_contract) / scale;
                if c != 0.0 {
                    v += c * pos(vars, cons, -s.times(1.0));
                }
            }
        }
        AddOn::DeltaMinimum { net, hedged } => {
            if !(net >= hedged && hedged >= 0.0) {
                return Err(not_convex(
                    "a delta minimum whose hedged rate exceeds its net rate",
                ));
            }
            let mut signed = Expression::from(0.0);
            for s in sizes {
                // |d_i| per unit from the core, signed by the instrument's delta.
                let d = addon::delta_minimum(arrays, unit(s.row, 1.0), 1.0, 0.0) / scale;
                let d = if arrays.valuation(s.row).delta < 0.0 {
                    -d
                } else {
                    d
                };
                if d != 0.0 {
                    signed += s.times(d);
                    if hedged != 0.0 {
                        v += (hedged * d.abs()) * abs(vars, cons, s.times(1.0));
                    }
                }
            }
            if net != hedged {
                v += (net - hedged) * abs(vars, cons, signed);
            }
        }
    }
    Ok(v)
}

/// An account validated against a risk matrix, with the model the matrix was built under.
#[derive(Debug, Clone)]
pub struct GridAccount<'m> {
    /// The risk matrix (its model is the grid model margined).
    pub matrix: &'m RiskMatrix,
    /// Account currency.
    pub currency: Asset,
    /// Equity, account currency.
    pub equity: f64,
    /// The positions, rows of the matrix.
    pub positions: Vec<Position>,
}

fn core_err(e: impl std::fmt::Display) -> OptError {
    OptError::Core(e.to_string())
}

impl<'m> GridAccount<'m> {
    /// `portfolio` looked up in `matrix` and validated by the core ([`Account::new`]).
    pub fn new(matrix: &'m RiskMatrix, portfolio: &Portfolio) -> Result<Self, OptError> {
        let positions = matrix.universe().positions(portfolio).map_err(core_err)?;
        matrix
            .with_arrays(|a| {
                Account::new(a, portfolio.currency, portfolio.equity, &positions).map(|_| ())
            })
            .map_err(core_err)?;
        Ok(GridAccount {
            matrix,
            currency: portfolio.currency,
            equity: portfolio.equity,
            positions,
        })
    }

    /// The positions after `trades` (merged by row; see [`crate::joint::merge`]).
    pub fn after(&self, trades: &[Position]) -> Vec<Position> {
        crate::joint::merge(&self.positions, trades)
    }

    /// The core's margin after `trades`, and what each scenario counts
    /// ([`account::counted_pnl`]).
    pub fn margin_with(&self, trades: &[Position]) -> Result<(Margin, Vec<f64>), OptError> {
        let positions = self.after(trades);
        let model = self.matrix.model();
        self.matrix
            .with_arrays(|a| {
                let acc = Account::new(a, self.currency, self.equity, &positions)?;
                let mut scratch = vec![0.0; acc.scratch_len(a)];
                let m = account::margin(a, model, &acc, &mut scratch)?;
                let mut counted = vec![0.0; a.scenarios().len()];
                account::counted_pnl(a, model, &acc, &scratch, &mut counted)?;
                Ok::<_, margin_core::Error>((m, counted))
            })
            .map_err(core_err)
    }

    /// The epigraph of the requirement at `sizes` (see [`requirement`]).
    pub fn epigraph(
        &self,
        sizes: &[Size],
        vars: &mut ProblemVariables,
        scale: f64,
    ) -> Result<Epigraph, OptError> {
        self.matrix
            .with_arrays(|a| requirement(a, self.matrix.model(), self.currency, sizes, vars, scale))
    }

    /// Row of `instrument`, or an error naming it.
    pub fn row(&self, instrument: &Instrument) -> Result<usize, OptError> {
        self.matrix.find(instrument).map_err(|e| OptError::Input {
            field: format!("hedge {instrument}"),
            expected: format!("an instrument the market prices ({e})"),
        })
    }
}

/// Scenarios whose counted loss is within `tol` of the worst (the binding cells), in index
/// order.
pub fn binding(counted: &[f64], tol: f64) -> Vec<usize> {
    let worst = counted.iter().copied().fold(f64::INFINITY, f64::min);
    if worst >= 0.0 {
        return Vec::new();
    }
    (0..counted.len())
        .filter(|&s| counted[s] <= worst + tol)
        .collect()
}
