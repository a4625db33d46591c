//! `margin compute`: the full margin report of one account.
//!
//! Every number comes from the core: `account::margin` (IM, MM, components, worst scenario,
//! status), `risk::portfolio_pnl` (per-scenario P&L), `account::isolated` (each position's
//! margin alone) and `RiskArrays::valuation` (per-unit value and Greeks, times the size).
//! The only arithmetic here is unit changes for display (vega per vol point = vega / 100,
//! theta per day = theta / 365), the product size × per-unit figure, and the margin benefit
//! Σ isolated IM − portfolio IM.
//!
//! JSON (`--json`), one object (amounts in the account `currency` unless stated):
//!
//! ```text
//! {
//!   "account": "A1", "currency": "BTC",
//!   "preset": "deribit-btc", "preset_version": "2024-06-17", "preset_modified": false,
//!   "market": "FILE", "valuation_time": "2026-08-22T15:33:51.683Z",
//!   "initial_margin": 0.25, "maintenance_margin": 0.2, "equity": 1.5,
//!   "margin_ratio": 0.133,          // MM / equity; null when equity <= 0
//!   "free_collateral": 1.25,        // equity − IM
//!   "status": "healthy",            // healthy | margin_call | liquidation
//!   "components": {"worst_case": 0.2, "roll_shock": 0.05, "risk_matrix_margin": 0.25},
//!   "worst_scenario": {"index": 0, "price_move": -0.16, "vol_shock": 0.5,
//!                      "kind": "standard", "loss": 0.2},   // loss of the aggregated, weighted cell
//!   "scenarios": [{"index": 0, "price_move": -0.16, "vol_shock": 0.5, "kind": "standard",
//!                  "weight": 1.0, "pnl": -0.2,             // pnl = Σ size × row, unweighted
//!                  "counted": -0.2}],                      // what the measure saw: aggregated
//!                                                          // across underlyings, tail cells
//!                                                          // dampened, weighted
//!   "positions": [{"instrument": "BTC-PERPETUAL", "size": 0.5,
//!                  "value": 0.0,          // size × value of one unit, settlement currency
//!                  "delta": 0.5,          // size × ∂V_usd/∂F, coins
//!                  "gamma": 0.0,          // size × ∂²V_usd/∂F², coins per USD
//!                  "vega": 0.0,           // size × ∂V_usd/∂σ / 100, USD per vol point
//!                  "theta": 0.0,          // size × ∂V_usd/∂t / 365, USD per day
//!                  "isolated_margin": 0.1,     // IM of this position held alone
//!                  "worst_scenario_pnl": -0.1}],  // size × its row in the worst scenario
//!   "isolated_margin_total": 0.4,   // Σ isolated_margin
//!   "margin_benefit": 0.15          // isolated_margin_total − initial_margin
//! }
//! ```
//!
//! `vol_shock` is the scenario's signed shock: the relative range (+0.5 = vols up by the
//! tenor-scaled 50 %) for Deribit and grid presets, the absolute shift for SPAN.

use super::common::{self, MarketArgs, PortfolioArgs};
use crate::error::CliError;
use crate::output::{self, Align, Table};
use crate::svg;
use margin_core::account;
use margin_core::io::engine::{AccountError, Universe, scenario_kind_name};
use margin_core::io::engine::{margin_portfolio, status_name};
use margin_core::io::{MarketData, Portfolio};
use margin_core::risk::RiskArrays;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::path::{Path, PathBuf};

/// Arguments of `margin compute`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin compute --portfolio examples/portfolio-btc.json \\\n      \
      --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv\n  \
    margin compute --portfolio examples/portfolio.csv --currency BTC --equity 2 \\\n      \
      --market examples/market.json --model examples/model-eth.json --json\n  \
    margin compute ... --svg risk.svg      # heatmap of the risk matrix\n\n\
Output: IM, MM, equity, margin ratio (MM / equity), status, every add-on, the worst \
scenario, per-scenario P&L, per-position Greeks and isolated margins, and the margin \
benefit (sum of isolated IMs minus the portfolio IM). Amounts are in the account currency.\n\n\
JSON (--json): one object with account, currency, preset, preset_version, preset_modified, \
market, valuation_time, initial_margin, maintenance_margin, equity, margin_ratio, \
free_collateral, status, components {name: value}, worst_scenario {index, price_move, \
vol_shock, kind, loss}, scenarios [{index, price_move, vol_shock, kind, weight, pnl, counted}], \
positions [{instrument, size, value, delta, gamma, vega, theta, isolated_margin, \
worst_scenario_pnl}], \
isolated_margin_total, margin_benefit. Units: value in the settlement currency, delta in \
coins, gamma in coins per USD, vega in USD per vol point, theta in USD per day.")]
pub struct ComputeArgs {
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    #[command(flatten)]
    pub market: MarketArgs,
    /// Print one JSON object (schema below) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also write an SVG heatmap of the risk matrix (price move × vol state) to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

/// Component name → value, serialised as a JSON object in the model's order.
#[derive(Debug, Clone)]
pub struct Components(pub Vec<(&'static str, f64)>);

impl Serialize for Components {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The scenario that set the requirement.
#[derive(Debug, Clone, Serialize)]
pub struct WorstJson {
    pub index: usize,
    pub price_move: f64,
    pub vol_shock: f64,
    pub kind: &'static str,
    pub loss: f64,
}

/// One scenario and the portfolio's P&L in it.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioJson {
    pub index: usize,
    pub price_move: f64,
    pub vol_shock: f64,
    pub kind: &'static str,
    pub weight: f64,
    pub pnl: f64,
    /// What this scenario counts toward the requirement (`account::counted_pnl`).
    pub counted: f64,
}

/// One position with its Greeks and isolated margin.
#[derive(Debug, Clone, Serialize)]
pub struct PositionJson {
    pub instrument: String,
    pub size: f64,
    pub value: f64,
    pub delta: f64,
    pub gamma: f64,
    pub vega: f64,
    pub theta: f64,
    pub isolated_margin: f64,
    pub worst_scenario_pnl: f64,
}

/// The whole report (see the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub account: String,
    pub currency: String,
    pub preset: &'static str,
    pub preset_version: &'static str,
    pub preset_modified: bool,
    pub market: String,
    pub valuation_time: String,
    pub initial_margin: f64,
    pub maintenance_margin: f64,
    pub equity: f64,
    pub margin_ratio: Option<f64>,
    pub free_collateral: f64,
    pub status: &'static str,
    pub components: Components,
    pub worst_scenario: WorstJson,
    pub scenarios: Vec<ScenarioJson>,
    pub positions: Vec<PositionJson>,
    pub isolated_margin_total: f64,
    pub margin_benefit: f64,
}

/// Maps an account error to exit 1 naming the portfolio file.
pub fn account_error(file: &Path, e: AccountError) -> CliError {
    CliError::bad_input(format!("{}: {e}", file.display()))
}

/// Computes the report of `portfolio` against built `arrays`.
pub fn report(
    universe: &Universe,
    arrays: &RiskArrays<'_>,
    portfolio: &Portfolio,
    portfolio_file: &Path,
    market_file: &str,
) -> Result<Report, CliError> {
    let model = universe.model();
    let mut scratch = Vec::new();
    let mut positions = Vec::new();
    let (acct, m) = margin_portfolio(universe, arrays, portfolio, &mut positions, &mut scratch)
        .map_err(|e| account_error(portfolio_file, e))?;
    let positions = acct.positions();
    let core = |e| account_error(portfolio_file, AccountError::core(portfolio, e));
    // A non-finite margin is bad input (absurd parameters or market), never a result.
    margin_core::io::engine::finite_margin(&m).map_err(core)?;
    // `explain` reads the scratch `margin` left; `isolated` overwrites it, so it comes last.
    let s = arrays.scenarios().len();
    let (mut pnl, mut counted) = (vec![0.0; s], vec![0.0; s]);
    let mut worst_contributions = vec![0.0; positions.len()];
    let explanation = account::Explanation {
        pnl: &mut pnl,
        counted: &mut counted,
        worst_contributions: &mut worst_contributions,
    };
    account::explain(arrays, model, &acct, &scratch, &m, explanation).map_err(core)?;
    let mut isolated = vec![0.0; positions.len()];
    account::isolated(arrays, model, &acct, &mut scratch, &mut isolated).map_err(core)?;
    let scenarios = arrays
        .scenarios()
        .scenarios()
        .iter()
        .zip(pnl.iter().zip(&counted))
        .enumerate()
        .map(|(index, (sc, (&pnl, &counted)))| ScenarioJson {
            index,
            price_move: sc.price_move,
            vol_shock: sc.vol_shock.magnitude(),
            kind: scenario_kind_name(sc.kind),
            weight: sc.weight,
            pnl,
            counted,
        })
        .collect();
    let positions: Vec<PositionJson> = positions
        .iter()
        .zip(isolated.iter().zip(&worst_contributions))
        .map(|(p, (&iso, &worst_pnl))| {
            let v = arrays.valuation(p.instrument);
            PositionJson {
                instrument: arrays.instruments()[p.instrument].to_string(),
                size: p.size,
                value: p.size * v.value,
                delta: p.size * v.delta,
                gamma: p.size * v.gamma,
                vega: p.size * v.vega / 100.0,
                theta: p.size * v.theta / 365.0,
                isolated_margin: iso,
                worst_scenario_pnl: worst_pnl,
            }
        })
        .collect();
    let isolated_margin_total: f64 = isolated.iter().sum();
    Ok(Report {
        account: portfolio.account.clone(),
        currency: portfolio.currency.to_string(),
        preset: model.name,
        preset_version: model.version,
        preset_modified: model.modified,
        market: market_file.to_string(),
        valuation_time: arrays.market().valuation_time().to_string(),
        initial_margin: m.initial,
        maintenance_margin: m.maintenance,
        equity: m.equity,
        margin_ratio: m.margin_ratio,
        free_collateral: m.free_collateral,
        status: status_name(m.status),
        components: Components(m.components.iter().map(|c| (c.name, c.value)).collect()),
        worst_scenario: WorstJson {
            index: m.worst.index,
            price_move: m.worst.price_move,
            vol_shock: m.worst.vol_shock,
            kind: scenario_kind_name(m.worst.kind),
            loss: m.worst.loss,
        },
        scenarios,
        positions,
        isolated_margin_total,
        margin_benefit: isolated_margin_total - m.initial,
    })
}

/// A signed percentage such as `-16.0 %`.
pub fn pct(x: f64) -> String {
    format!("{:+.1} %", 100.0 * x)
}

/// A signed vol shock, `none` for 0.
pub fn vol(x: f64) -> String {
    if x == 0.0 {
        "none".to_string()
    } else {
        format!("{x:+}")
    }
}

/// The human report: summary, components, worst scenario, positions, scenarios.
pub fn render(r: &Report) -> String {
    let c = &r.currency;
    let modified = if r.preset_modified { ", modified" } else { "" };
    let mut s = format!(
        "account {} ({c}) · preset {} {}{modified} · market {} at {}\n\n",
        r.account, r.preset, r.preset_version, r.market, r.valuation_time
    );
    let mut t = Table::new(&[("", Align::Left), ("", Align::Right), ("", Align::Left)]);
    // `+ 0.0` turns a negative zero (e.g. −0.25 × 0) into 0 for display.
    let amount = |x: f64| format!("{:.8}", x + 0.0);
    for (name, value, unit) in [
        ("initial margin", amount(r.initial_margin), c.clone()),
        (
            "maintenance margin",
            amount(r.maintenance_margin),
            c.clone(),
        ),
        ("equity", amount(r.equity), c.clone()),
        ("free collateral", amount(r.free_collateral), c.clone()),
        (
            "margin ratio",
            output::opt(r.margin_ratio, |x| format!("{:.2}", 100.0 * x)),
            "% (MM / equity)".to_string(),
        ),
        ("status", r.status.to_string(), String::new()),
    ] {
        t.row(vec![name.to_string(), value, unit]);
    }
    s.push_str(&body(&t.render()));
    s.push_str(&format!("\ncomponents ({c})\n"));
    let mut t = Table::new(&[("", Align::Left), ("", Align::Right)]);
    for (k, v) in &r.components.0 {
        t.row(vec![k.to_string(), amount(*v)]);
    }
    s.push_str(&body(&t.render()));
    let w = &r.worst_scenario;
    s.push_str(&format!(
        "\nworst scenario: #{} price {}, vol shock {}, {}: loss {} {c}\n",
        w.index,
        pct(w.price_move),
        vol(w.vol_shock),
        w.kind,
        amount(w.loss)
    ));
    let mut t = Table::new(&[
        ("instrument", Align::Left),
        ("size", Align::Right),
        (&format!("value ({c})"), Align::Right),
        ("delta (coin)", Align::Right),
        ("gamma (coin/USD)", Align::Right),
        ("vega (USD/vol pt)", Align::Right),
        ("theta (USD/day)", Align::Right),
        (&format!("isolated IM ({c})"), Align::Right),
    ]);
    for p in &r.positions {
        t.row(vec![
            p.instrument.clone(),
            format!("{}", p.size),
            amount(p.value),
            format!("{:+.4}", p.delta + 0.0),
            format!("{:+.3e}", p.gamma + 0.0),
            format!("{:+.2}", p.vega + 0.0),
            format!("{:+.2}", p.theta + 0.0),
            amount(p.isolated_margin),
        ]);
    }
    s.push_str(&format!("\npositions\n{}", t.render()));
    s.push_str(&format!(
        "sum of isolated IM {} {c} − portfolio IM {} {c} = margin benefit {} {c}\n",
        amount(r.isolated_margin_total),
        amount(r.initial_margin),
        amount(r.margin_benefit)
    ));
    let mut t = Table::new(&[
        ("#", Align::Right),
        ("kind", Align::Left),
        ("price move", Align::Right),
        ("vol shock", Align::Right),
        ("weight", Align::Right),
        (&format!("P&L ({c})"), Align::Right),
        (&format!("counted ({c})"), Align::Right),
        ("", Align::Left),
    ]);
    for sc in &r.scenarios {
        t.row(vec![
            sc.index.to_string(),
            sc.kind.to_string(),
            pct(sc.price_move),
            vol(sc.vol_shock),
            format!("{}", sc.weight),
            format!("{:+.8}", sc.pnl),
            format!("{:+.8}", sc.counted),
            if sc.index == w.index { "<- worst" } else { "" }.to_string(),
        ]);
    }
    s.push_str(&format!(
        "\nscenarios (P&L = Σ size × risk array; counted = what the requirement saw: gains \
         offset as the model allows, tail cells dampened, weighted)\n{}",
        t.render()
    ));
    s
}

/// A headerless table: drops the blank header and the rule.
fn body(table: &str) -> String {
    table.lines().skip(2).map(|l| format!("  {l}\n")).collect()
}

/// Reads the market, margins `portfolio` (read from `portfolio_args`) under `model` and
/// returns the report.
pub fn compute(
    portfolio_args: &PortfolioArgs,
    portfolio: &Portfolio,
    market_args: &MarketArgs,
    model: margin_core::model::Model,
) -> Result<Report, CliError> {
    let market = market_args.read()?;
    report_for(
        portfolio,
        &portfolio_args.portfolio,
        market,
        &market_args.market.display().to_string(),
        model,
    )
}

/// The report of `portfolio` on `market` under `model`.
pub fn report_for(
    portfolio: &Portfolio,
    portfolio_file: &Path,
    market: MarketData,
    market_name: &str,
    model: margin_core::model::Model,
) -> Result<Report, CliError> {
    let extra: Vec<_> = portfolio.positions.iter().map(|p| p.instrument).collect();
    let matrix = common::matrix(market, Path::new(market_name), model, &extra)?;
    let universe = matrix.universe();
    let views = matrix.views();
    let arrays = views.arrays();
    report(universe, &arrays, portfolio, portfolio_file, market_name)
}

/// How errors name the account of `portfolio`.
pub fn account_name(portfolio: &Portfolio) -> String {
    format!("account `{}`", portfolio.account)
}

/// Writes the heatmap of `report` to `file`.
pub fn write_svg(report: &Report, file: &Path) -> Result<(), CliError> {
    std::fs::write(file, svg::heatmap(report))
        .map_err(|e| CliError::bad_input(format!("{}: cannot write SVG: {e}", file.display())))
}

/// Runs `margin compute`.
pub fn run(args: &ComputeArgs) -> Result<(), CliError> {
    // The account currency picks the default preset and is checked against an explicit one.
    let portfolio = common::read_portfolio(&args.portfolio)?;
    let (model, engine) = args
        .market
        .model_and_engine_for(portfolio.currency, &account_name(&portfolio))?;
    if let Some(engine) = &engine {
        if args.svg.is_some() {
            return Err(CliError::bad_input(
                "--svg draws a grid's risk matrix; for a statistical preset use \
                 `margin var --svg` (the P&L distribution)",
            ));
        }
        return super::statistical::compute(
            &args.portfolio,
            &args.market,
            model,
            engine,
            args.json,
        );
    }
    let report = compute(&args.portfolio, &portfolio, &args.market, model)?;
    if let Some(file) = &args.svg {
        write_svg(&report, file)?;
    }
    if args.json {
        output::print_json(&report)
    } else {
        output::print(&render(&report))
    }
}
