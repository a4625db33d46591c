//! Book-level stress: for a book of accounts on one market, each scenario's uncovered losses
//! (loss beyond equity), their total, Cover-1 and Cover-2 (CPMI-IOSCO PFMI principle 4: the
//! largest one and two uncovered losses), with a liquidation cascade.
//!
//! **Revaluation.** Each instrument held anywhere in the book is revalued once per round by
//! the joint revaluation of `margin var` ([`margin_core::statistical::losses`], the run's vol
//! rule and time step); an account's P&L is `Σ size · pnl` in position order (account currency). Its dollar
//! delta per coin is `Σ size · ∂pnl/∂x_c · r`, `∂/∂x_c` by central differences at ±1e-3 of
//! full revaluation, `r` the USD value of one unit of the instrument's settlement currency at
//! the shocked price (the coin's index × (1 + x_c) for inverse instruments, 1 for linear ones).
//!
//! **Cascade** (round `r = 1, 2, …`, starting from the scenario's moves `x`):
//! 1. The market is shocked: index, perpetual and every forward of coin `c` × (1 + x_c), every
//!    quoted vol through the vol shock (sticky strike), at the same valuation time (the time
//!    step of `time_decay` enters the P&L, not the re-margin). The risk matrix of each model is
//!    rebuilt on it and every account not yet closed out is re-margined at equity
//!    `E' = E + P&L`.
//! 2. An account with `E' < MM'` is closed out at this round's prices: its uncovered loss is
//!    `max(0, −E')` (account currency; in USD at the shocked rate of its currency).
//! 3. Closing the round's accounts sells their net dollar delta `D_c` (USD P&L per unit
//!    relative move of coin `c`): the price moves by `1 + x_c ← (1 + x_c)·(1 − K_c·D_c)`, `K_c`
//!    the impact coefficient of coin `c` (relative move per USD of notional closed; unpublished,
//!    a parameter), the result kept in [`MOVE_RANGE`] (`capped` when it is clamped).
//! 4. The next round runs when this one closed an account out and moved a price; otherwise the
//!    cascade has ended. With zero impact it is exactly one round.
//!
//! Determinism: accounts are margined in parallel (rayon) but every sum (dollar deltas,
//! totals) runs over accounts in input order after collection; ties in Cover-1/2 go to the
//! earlier account. Same input, same bits, for any thread count.

use super::{MOVE_RANGE, StressError, StressScenario, template};
use crate::batch::{read_chunk, record_error};
use crate::var::DELTA_STEP;
use margin_core::Asset;
use margin_core::instrument::Settlement;
use margin_core::io::engine::{margin_portfolio, margin_positions};
use margin_core::io::matrix::RiskMatrix;
use margin_core::io::{MarketData, parse_portfolio_json};
use margin_core::market::PricingInputs;
use margin_core::risk::Position;
use margin_core::scenario::{JointMoves, Scenario, VolShock};
use margin_core::spec::JointSource;
use margin_core::statistical::{self, BlockScratch, Book};
use rayon::prelude::*;
use std::io::BufRead;
use std::path::Path;

/// One account of the book: rows of its model's matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct BookAccount {
    /// Account name.
    pub name: String,
    /// Account currency.
    pub currency: Asset,
    /// Equity, account currency.
    pub equity: f64,
    /// Index of its model's matrix.
    pub matrix: usize,
    /// Positions (rows of that matrix).
    pub positions: Vec<Position>,
    /// Maintenance margin before any shock.
    pub maintenance: f64,
}

/// Reads a book in the batch format (one portfolio JSON per line, blank lines skipped), each
/// account looked up and margined in matrix `pick(currency)` of `matrices`. Any line that does
/// not parse or cannot be margined is an error naming its line: a book with an account left
/// out would understate every total.
pub fn read_accounts<R: BufRead>(
    mut input: R,
    matrices: &[RiskMatrix],
    pick: &(dyn Fn(Asset) -> usize + Sync),
) -> Result<Vec<BookAccount>, StressError> {
    let mut out = Vec::new();
    let mut chunk = Vec::new();
    let mut line_no = 0;
    loop {
        let (_, eof) = read_chunk(&mut input, &mut chunk, &mut line_no)
            .map_err(|e| StressError::Book(format!("cannot read accounts: {e}")))?;
        let parsed: Vec<Result<BookAccount, StressError>> = chunk
            .par_iter()
            .map_init(Vec::new, |scratch, (line, text)| {
                let err = |e: String| StressError::Book(format!("accounts line {line}: {e}"));
                let text = std::str::from_utf8(text).map_err(|_| err("invalid UTF-8".into()))?;
                let p =
                    parse_portfolio_json(text, Path::new("")).map_err(|e| err(record_error(&e)))?;
                let m = pick(p.currency);
                let matrix = matrices
                    .get(m)
                    .ok_or_else(|| err("no matrix for its currency".into()))?;
                let mut positions = Vec::new();
                let maintenance = matrix
                    .with_arrays(|a| {
                        margin_portfolio(matrix.universe(), a, &p, &mut positions, scratch)
                            .map(|(_, m)| m.maintenance)
                    })
                    .map_err(|e| err(format!("{}: {e}", p.account)))?;
                usd_rate(matrix.market(), p.currency, &[0.0]).ok_or_else(|| {
                    err(format!(
                        "{}: currency {} is neither a coin of the market nor USD/USDC/USDT",
                        p.account, p.currency
                    ))
                })?;
                Ok(BookAccount {
                    name: p.account,
                    currency: p.currency,
                    equity: p.equity,
                    matrix: m,
                    positions,
                    maintenance,
                })
            })
            .collect();
        for a in parsed {
            out.push(a?);
        }
        if eof {
            return Ok(out);
        }
    }
}

/// USD value of one unit of `currency` at moves `x` (market coin order; an empty or short
/// `x` counts as 0): a market coin at index × (1 + x), USD, USDC and USDT at 1.
fn usd_rate(market: &MarketData, currency: Asset, x: &[f64]) -> Option<f64> {
    if let Some(i) = market.underlyings.iter().position(|u| u.asset == currency) {
        return Some(market.underlyings[i].index_price * (1.0 + x.get(i).copied().unwrap_or(0.0)));
    }
    matches!(currency.as_str(), "USD" | "USDC" | "USDT").then_some(1.0)
}

/// `market` with coin `c`'s index, perpetual and forwards × (1 + x_c) and every vol through
/// `vol` at `x_c` (sticky strike).
pub fn shocked_market(market: &MarketData, x: &[f64], vol: VolShock) -> MarketData {
    let mut out = market.clone();
    for (u, &m) in out.underlyings.iter_mut().zip(x) {
        let f = 1.0 + m;
        u.index_price *= f;
        u.perpetual_price *= f;
        for fw in &mut u.forwards {
            fw.price *= f;
        }
        for q in &mut u.vols {
            q.vol = vol.apply_scaled(q.vol, m, || 1.0, 0.0);
        }
    }
    out
}

/// One round of a cascade.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// 1-based round number.
    pub round: usize,
    /// The moves of this round's prices (market coin order).
    pub moves: Vec<f64>,
    /// Accounts closed out in this round (indices into the book).
    pub liquidated: Vec<usize>,
    /// Net dollar delta closed per coin.
    pub dollar_delta: Vec<f64>,
    /// Relative price move the close-outs cause per coin (`−K_c·D_c`, before capping).
    pub impact: Vec<f64>,
    /// Whether a next round's move was clamped to the move range.
    pub capped: bool,
    /// Uncovered loss of every account closed out so far, USD.
    pub shortfall: f64,
}

/// One account's uncovered loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uncovered {
    /// Index into the book.
    pub account: usize,
    /// Loss beyond equity, account currency.
    pub amount: f64,
    /// The same in USD at the close-out prices.
    pub usd: f64,
}

/// A scenario's book stress.
#[derive(Debug, Clone, PartialEq)]
pub struct BookResult {
    /// The rounds of the cascade.
    pub rounds: Vec<Round>,
    /// The moves after the last round's impact.
    pub final_moves: Vec<f64>,
    /// Accounts with an uncovered loss, in book order.
    pub uncovered: Vec<Uncovered>,
    /// Sum of the uncovered losses, USD.
    pub total: f64,
    /// The largest uncovered loss (Cover-1).
    pub cover1: Option<Uncovered>,
    /// The two largest (Cover-2): the accounts and the sum, USD.
    pub cover2: (Vec<Uncovered>, f64),
    /// Accounts closed out in all.
    pub liquidated: usize,
    /// The book's P&L at the scenario's own moves (round 1), USD: `Σ P&L_a · rate_a` over
    /// every account in book order.
    pub pnl: f64,
}

/// A book with its matrices (one per model) and the run's revaluation.
#[derive(Debug)]
pub struct BookStress<'a> {
    /// The base matrices (grid models, one market).
    pub matrices: &'a [RiskMatrix],
    /// The accounts.
    pub accounts: &'a [BookAccount],
    /// Vol rule and time step of the revaluation (as in `margin var`).
    pub source: JointSource,
    /// Impact coefficient per market coin (≥ 0, relative move per USD of notional closed).
    pub impact: &'a [f64],
}

/// Per-row revaluation of one matrix at a round's prices.
struct Rows {
    pnl: Vec<f64>,
    /// Dollar delta per unit size.
    delta: Vec<f64>,
}

impl BookStress<'_> {
    fn coins(&self) -> Vec<Asset> {
        self.matrices[0]
            .market()
            .underlyings
            .iter()
            .map(|u| u.asset)
            .collect()
    }

    fn rows(&self, m: usize, used: &[usize], x: &[f64], t: &Scenario) -> Result<Rows, StressError> {
        let matrix = &self.matrices[m];
        let coins = self.coins();
        let market = matrix.market();
        let n = matrix.len();
        let inputs: Vec<PricingInputs> =
            matrix.with_arrays(|a| used.iter().map(|&r| *a.inputs(r)).collect());
        let u = coins.len();
        // Per thread: three scenarios (x, x + ε, x − ε on the instrument's coin) and their rows.
        let init = || {
            (
                vec![Scenario::standard(0.0, VolShock::None); 3],
                vec![0.0; 3],
                vec![0.0; 3 * u],
                vec![0.0; 3 * u],
            )
        };
        let values: Vec<(f64, f64)> =
            used.par_iter()
                .zip(&inputs)
                .map_init(init, |(scenarios, row, growth, moves), (&r, inp)| {
                    let inst = matrix.instruments()[r];
                    let c = coins.iter().position(|&a| a == inst.underlying).ok_or(
                        StressError::Book(format!("{inst}: its coin is not in the market")),
                    )?;
                    for (k, step) in [0.0, DELTA_STEP, -DELTA_STEP].into_iter().enumerate() {
                        for (j, &v) in x.iter().enumerate() {
                            moves[k * u + j] = if j == c { v + step } else { v };
                        }
                    }
                    let book = Book {
                        instruments: std::slice::from_ref(&inst),
                        inputs: std::slice::from_ref(inp),
                        sizes: &[1.0],
                    };
                    let joint = JointMoves::new(&coins, moves)?;
                    let mut loss = [0.0; 3];
                    let mut scratch = BlockScratch {
                        scenarios,
                        row,
                        moves: growth,
                    };
                    statistical::losses(&book, &joint, t, 0, &mut scratch, &mut loss)?;
                    let rate = match inst.settlement {
                        Settlement::Inverse => market.underlyings[c].index_price * (1.0 + x[c]),
                        Settlement::Linear { .. } => 1.0,
                    };
                    Ok((-loss[0], (loss[2] - loss[1]) / (2.0 * DELTA_STEP) * rate))
                })
                .collect::<Result<_, StressError>>()?;
        let (mut pnl, mut delta) = (vec![0.0; n], vec![0.0; n]);
        for (&r, (p, d)) in used.iter().zip(values) {
            pnl[r] = p;
            delta[r] = d;
        }
        Ok(Rows { pnl, delta })
    }

    /// The cascade of `scenario` (moves in market coin order; see the module docs).
    pub fn run(&self, scenario: &StressScenario) -> Result<BookResult, StressError> {
        let coins = self.coins();
        let u = coins.len();
        if scenario.moves.len() != u || self.impact.len() != u {
            return Err(StressError::Parameter {
                name: "book stress",
                expected: "one move and one impact coefficient per market coin".into(),
            });
        }
        if let Some(k) = self.impact.iter().find(|k| !(k.is_finite() && **k >= 0.0)) {
            return Err(StressError::Parameter {
                name: "impact",
                expected: format!("a finite coefficient >= 0, got {k}"),
            });
        }
        let t = template(&self.source, scenario.vol_shift)?;
        let vol = t.vol_shock;
        let used: Vec<Vec<usize>> = (0..self.matrices.len())
            .map(|m| {
                let mut rows: Vec<usize> = self
                    .accounts
                    .iter()
                    .filter(|a| a.matrix == m)
                    .flat_map(|a| a.positions.iter().map(|p| p.instrument))
                    .collect();
                rows.sort_unstable();
                rows.dedup();
                rows
            })
            .collect();
        let mut x = scenario.moves.clone();
        let mut closed: Vec<Option<f64>> = vec![None; self.accounts.len()];
        let mut uncovered = Vec::new();
        let mut rounds = Vec::new();
        let mut shortfall = 0.0;
        let mut book_pnl = None;
        loop {
            let shocked: Vec<RiskMatrix> = self
                .matrices
                .iter()
                .map(|m| {
                    RiskMatrix::from_universe(
                        shocked_market(m.market(), &x, vol),
                        m.universe().clone(),
                    )
                    .map_err(|e| StressError::Book(format!("shocked market: {e}")))
                })
                .collect::<Result<_, _>>()?;
            let rows: Vec<Rows> = (0..self.matrices.len())
                .map(|m| self.rows(m, &used[m], &x, &t))
                .collect::<Result<_, _>>()?;
            let views: Vec<_> = shocked.iter().map(|m| m.views()).collect();
            let arrays: Vec<_> = views.iter().map(|v| v.arrays()).collect();
            // (equity after the shock, fails) per open account, in book order.
            let state: Vec<Option<(f64, bool)>> = self
                .accounts
                .par_iter()
                .zip(&closed)
                .map_init(Vec::new, |scratch, (a, done)| {
                    if done.is_some() {
                        return Ok(None);
                    }
                    let r = &rows[a.matrix];
                    let pnl: f64 = a
                        .positions
                        .iter()
                        .fold(0.0, |s, p| s + p.size * r.pnl[p.instrument]);
                    let equity = a.equity + pnl;
                    let matrix = &shocked[a.matrix];
                    let (_, m) = margin_positions(
                        &arrays[a.matrix],
                        matrix.model(),
                        a.currency,
                        equity,
                        &a.positions,
                        scratch,
                    )
                    .map_err(|e| StressError::Book(format!("{}: re-margin: {e}", a.name)))?;
                    Ok(Some((equity, equity < m.maintenance)))
                })
                .collect::<Result<_, StressError>>()?;
            if book_pnl.is_none() {
                let total = self.accounts.iter().zip(&state).fold(0.0, |s, (a, st)| {
                    let rate = usd_rate(self.matrices[a.matrix].market(), a.currency, &x);
                    s + st.map_or(0.0, |(e, _)| (e - a.equity) * rate.unwrap_or(1.0))
                });
                book_pnl = Some(total);
            }
            let mut liquidated = Vec::new();
            let mut dollar = vec![0.0; u];
            for (i, s) in state.iter().enumerate() {
                let Some((equity, true)) = *s else { continue };
                let a = &self.accounts[i];
                liquidated.push(i);
                closed[i] = Some(equity);
                let rate =
                    usd_rate(self.matrices[a.matrix].market(), a.currency, &x).unwrap_or(1.0);
                if equity < 0.0 {
                    let usd = -equity * rate;
                    shortfall += usd;
                    uncovered.push(Uncovered {
                        account: i,
                        amount: -equity,
                        usd,
                    });
                }
                let r = &rows[a.matrix];
                let insts = self.matrices[a.matrix].instruments();
                for p in &a.positions {
                    let c = coins
                        .iter()
                        .position(|&c| c == insts[p.instrument].underlying);
                    if let Some(c) = c {
                        dollar[c] += p.size * r.delta[p.instrument];
                    }
                }
            }
            let impact: Vec<f64> = (0..u).map(|c| -self.impact[c] * dollar[c]).collect();
            let moved = !liquidated.is_empty() && impact.iter().any(|&m| m != 0.0);
            let mut capped = false;
            let next: Vec<f64> = (0..u)
                .map(|c| {
                    let v = (1.0 + x[c]) * (1.0 + impact[c]) - 1.0;
                    let k = v.clamp(MOVE_RANGE.0, MOVE_RANGE.1);
                    capped |= k != v || !v.is_finite();
                    if v.is_finite() { k } else { MOVE_RANGE.0 }
                })
                .collect();
            rounds.push(Round {
                round: rounds.len() + 1,
                moves: x.clone(),
                liquidated,
                dollar_delta: dollar,
                impact,
                capped: moved && capped,
                shortfall,
            });
            if !moved {
                break;
            }
            x = next;
        }
        uncovered.sort_by_key(|c| c.account);
        let mut ranked = uncovered.clone();
        ranked.sort_by(|a, b| b.usd.total_cmp(&a.usd).then(a.account.cmp(&b.account)));
        let top2: Vec<Uncovered> = ranked.iter().take(2).copied().collect();
        let cover2 = top2.iter().fold(0.0, |s, c| s + c.usd);
        let total = uncovered.iter().fold(0.0, |s, c| s + c.usd);
        Ok(BookResult {
            final_moves: x,
            liquidated: closed.iter().filter(|c| c.is_some()).count(),
            cover1: ranked.first().copied(),
            pnl: book_pnl.unwrap_or(0.0),
            cover2: (top2, cover2),
            total,
            uncovered,
            rounds,
        })
    }
}
