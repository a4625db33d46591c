//! `margin price`: reprice every option of a market with the core's Black-76 and compare
//! with the marks the market file gives.
//!
//! For each option: `inputs = snapshot.inputs(instrument)` then
//! `pricing::valuation(instrument, inputs)`. Nothing is computed here except unit changes
//! for display: vega per vol point = vega / 100, theta per day = theta / 365, days = T × 365.
//!
//! JSON output (`--json`), one object:
//!
//! ```text
//! {
//!   "market": "path/of/the/market/file",
//!   "valuation_time": "2026-08-22T15:33:51.683Z",
//!   "summary": {
//!     "rows": 1970,                        // options priced (after --underlying/--limit)
//!     "underlyings": [{
//!       "underlying": "BTC", "currency": "BTC",   // coin, and currency of value/mark/diff
//!       "rows": 1038, "with_mark": 1038,
//!       "max_abs_diff": 1.2e-4, "median_abs_diff": 4.4e-6   // |value − mark|, null if no marks
//!     }, ...]
//!   },
//!   "rows": [{
//!     "instrument": "BTC-25SEP26-120000-P", "underlying": "BTC", "currency": "BTC",
//!     "forward": 77405.28,          // F, USD per coin
//!     "strike": 120000.0,           // K, USD per coin
//!     "days": 33.68,                // T in days (365-day years × 365)
//!     "vol": 0.6246,                // implied vol, fraction per year
//!     "value": 0.5511,              // model value of one option, in `currency`
//!     "mark": 0.55116055,           // venue mark in `currency`, or null
//!     "diff": -4.4e-6,              // value − mark, or null
//!     "delta": -0.98,               // ∂V_usd/∂F, coins (Deribit's ticker delta)
//!     "gamma": 1.1e-6,              // ∂²V_usd/∂F², coins per USD
//!     "vega_per_vol_point": 8.05,   // USD per 1 vol point (0.01)
//!     "theta_per_day": -12.3        // USD per calendar day
//!   }, ...]
//! }
//! ```

use super::common;
use crate::error::CliError;
use crate::output::{self, Align, Table, opt};
use margin_core::io::{self, MarketData};
use margin_core::{Asset, Kind, pricing};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `margin price`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin price --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv\n  \
    margin price --market chain.csv --underlying ETH --limit 10\n  \
    margin price --market market.json --json | jq '.summary'\n\n\
Units: F and K in USD per coin; model, mark and diff in the option's settlement currency \
(coin for inverse options such as BTC-25SEP26-120000-P, USD for linear ones such as \
SOL_USDC-...); delta in coins; gamma in coins per USD; vega in USD per vol point; theta in \
USD per day.\n\n\
JSON (--json): an object with `market`, `valuation_time`, `summary` {rows, underlyings[] \
{underlying, currency, rows, with_mark, max_abs_diff, median_abs_diff}} and `rows[]` \
{instrument, underlying, currency, forward, strike, days, vol, value, mark, diff, delta, \
gamma, vega_per_vol_point, theta_per_day}; absent marks are null.")]
pub struct PriceArgs {
    /// Market file: market JSON or a Deribit option-chain CSV (by extension or content).
    #[arg(long, value_name = "FILE")]
    pub market: PathBuf,
    /// Accept market numbers outside the plausibility bounds (vol > 5.0, |rate| > 0.5,
    /// forward or perpetual outside [0.5, 2] × index, prices > 1e12; see docs/cli.md).
    #[arg(long)]
    pub allow_implausible_market: bool,
    /// Print one JSON object (schema below) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Only options on this coin, e.g. BTC.
    #[arg(long, value_name = "COIN")]
    pub underlying: Option<String>,
    /// Price only the first N options (in listing order, after --underlying); the summary
    /// covers the rows printed.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// One priced option (see the module docs for units).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    instrument: String,
    underlying: String,
    currency: String,
    forward: f64,
    strike: f64,
    days: f64,
    vol: f64,
    value: f64,
    mark: Option<f64>,
    diff: Option<f64>,
    delta: f64,
    gamma: f64,
    vega_per_vol_point: f64,
    theta_per_day: f64,
}

/// Model-versus-mark statistics of one underlying and settlement currency.
#[derive(Debug, Clone, Serialize)]
pub struct UnderlyingSummary {
    underlying: String,
    currency: String,
    rows: usize,
    with_mark: usize,
    max_abs_diff: Option<f64>,
    median_abs_diff: Option<f64>,
}

/// Totals over the rows printed.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    rows: usize,
    underlyings: Vec<UnderlyingSummary>,
}

/// The whole `--json` document.
#[derive(Debug, Serialize)]
pub struct Report {
    market: String,
    valuation_time: String,
    summary: Summary,
    rows: Vec<Row>,
}

/// Prices the options of `market` selected by `args`.
fn price_rows(market: &MarketData, args: &PriceArgs) -> Result<Vec<Row>, CliError> {
    let file = args.market.display();
    let only = match &args.underlying {
        None => None,
        Some(code) => {
            let known: Vec<String> = market
                .underlyings
                .iter()
                .map(|u| u.asset.to_string())
                .collect();
            let asset = Asset::new(code)
                .filter(|a| market.underlying(*a).is_some())
                .ok_or_else(|| {
                    CliError::bad_input(format!(
                        "--underlying {code}: {file} has no such coin (it has {})",
                        known.join(", ")
                    ))
                })?;
            Some(asset)
        }
    };
    let views = market.views();
    let snapshot = market
        .snapshot(&views)
        .map_err(|e| CliError::bad_input(format!("{file}: invalid market: {e}")))?;
    let mut rows = Vec::new();
    for q in market
        .options()
        .filter(|q| only.is_none_or(|a| q.instrument.underlying == a))
        .take(args.limit.unwrap_or(usize::MAX))
    {
        let inst = &q.instrument;
        let fail = |e: margin_core::Error| CliError::bad_input(format!("{file}: {inst}: {e}"));
        let inputs = snapshot.inputs(inst).map_err(fail)?;
        let v = pricing::valuation(inst, &inputs).map_err(fail)?;
        let Kind::Option { strike, .. } = inst.kind else {
            continue;
        };
        let currency = inst.settlement_currency();
        rows.push(Row {
            instrument: inst.to_string(),
            underlying: inst.underlying.to_string(),
            currency: currency.to_string(),
            forward: inputs.forward,
            strike,
            days: inputs.time * 365.0,
            vol: inputs.vol,
            value: v.value,
            mark: q.mark_price,
            diff: q.mark_price.map(|m| v.value - m),
            delta: v.delta,
            gamma: v.gamma,
            vega_per_vol_point: v.vega / 100.0,
            theta_per_day: v.theta / 365.0,
        });
    }
    Ok(rows)
}

/// Groups rows by (underlying, currency) in order of first appearance.
fn summarise(rows: &[Row]) -> Summary {
    let mut groups: Vec<(UnderlyingSummary, Vec<f64>)> = Vec::new();
    for r in rows {
        let i = match groups
            .iter()
            .position(|(g, _)| g.underlying == r.underlying && g.currency == r.currency)
        {
            Some(i) => i,
            None => {
                groups.push((
                    UnderlyingSummary {
                        underlying: r.underlying.clone(),
                        currency: r.currency.clone(),
                        rows: 0,
                        with_mark: 0,
                        max_abs_diff: None,
                        median_abs_diff: None,
                    },
                    Vec::new(),
                ));
                groups.len() - 1
            }
        };
        groups[i].0.rows += 1;
        if let Some(d) = r.diff {
            groups[i].1.push(d.abs());
        }
    }
    let underlyings = groups
        .into_iter()
        .map(|(mut g, mut diffs)| {
            g.with_mark = diffs.len();
            g.median_abs_diff = io::median(&mut diffs);
            g.max_abs_diff = diffs.last().copied();
            g
        })
        .collect();
    Summary {
        rows: rows.len(),
        underlyings,
    }
}

fn render(report: &Report) -> String {
    let mut t = Table::new(&[
        ("instrument", Align::Left),
        ("ccy", Align::Left),
        ("F (USD)", Align::Right),
        ("K (USD)", Align::Right),
        ("T (days)", Align::Right),
        ("vol", Align::Right),
        ("model (ccy)", Align::Right),
        ("mark (ccy)", Align::Right),
        ("diff (ccy)", Align::Right),
        ("delta (coin)", Align::Right),
        ("gamma (coin/USD)", Align::Right),
        ("vega (USD/vol pt)", Align::Right),
        ("theta (USD/day)", Align::Right),
    ]);
    for r in &report.rows {
        t.row(vec![
            r.instrument.clone(),
            r.currency.clone(),
            format!("{:.2}", r.forward),
            format!("{}", r.strike),
            format!("{:.3}", r.days),
            format!("{:.4}", r.vol),
            format!("{:.8}", r.value),
            opt(r.mark, |m| format!("{m:.8}")),
            opt(r.diff, |d| format!("{d:+.2e}")),
            format!("{:+.5}", r.delta),
            format!("{:.3e}", r.gamma),
            format!("{:.4}", r.vega_per_vol_point),
            format!("{:.4}", r.theta_per_day),
        ]);
    }
    let mut s = Table::new(&[
        ("underlying", Align::Left),
        ("ccy", Align::Left),
        ("rows", Align::Right),
        ("with mark", Align::Right),
        ("max |model-mark| (ccy)", Align::Right),
        ("median |model-mark| (ccy)", Align::Right),
    ]);
    for g in &report.summary.underlyings {
        s.row(vec![
            g.underlying.clone(),
            g.currency.clone(),
            g.rows.to_string(),
            g.with_mark.to_string(),
            opt(g.max_abs_diff, |d| format!("{d:.3e}")),
            opt(g.median_abs_diff, |d| format!("{d:.3e}")),
        ]);
    }
    format!(
        "market {} at {}: {} options\n\n{}\nsummary\n{}",
        report.market,
        report.valuation_time,
        report.summary.rows,
        t.render(),
        s.render()
    )
}

/// Runs `margin price`.
pub fn run(args: &PriceArgs) -> Result<(), CliError> {
    let market = common::read_market(&args.market, args.allow_implausible_market)?;
    let rows = price_rows(&market, args)?;
    let report = Report {
        market: args.market.display().to_string(),
        valuation_time: market.valuation_time.to_string(),
        summary: summarise(&rows),
        rows,
    };
    if args.json {
        output::print_json(&report)
    } else {
        output::print(&render(&report))
    }
}
