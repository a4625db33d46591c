//! `margin whatif`: the incremental margin of hypothetical orders, one line each.
//!
//! Each order is evaluated on its own against the unchanged portfolio with the core's
//! `account::what_if`, which reuses the per-scenario P&L of the portfolio's margin run (O(
//! scenarios) per order). Incremental margin = IM after − IM before.
//!
//! JSON (`--json`): `{"account", "currency", "preset", "initial_margin", "orders": [{"instrument",
//! "size", "initial_margin", "maintenance_margin", "incremental_margin", "status"}]}` where the
//! per-order margins are those of the portfolio with that order filled.

use super::common::{self, MarketArgs, PortfolioArgs};
use super::compute::{account_error, account_name};
use crate::error::CliError;
use crate::output::{self, Align, Table};
use margin_core::Instrument;
use margin_core::account;
use margin_core::io::MAX_ABS_SIZE;
use margin_core::io::engine::{margin_portfolio, status_name};
use margin_core::risk::Position;
use serde::Serialize;
use std::path::Path;

/// Arguments of `margin whatif`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin whatif --portfolio examples/portfolio-btc.json \\\n      \
      --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv \\\n      \
      --order BTC-PERPETUAL:-0.5 --order BTC-25SEP26-70000-P:2\n\n\
Each order is INSTRUMENT:SIZE (negative sells), evaluated alone against the portfolio as it \
is. Incremental IM = IM with the order − IM without; negative means the order reduces risk.")]
pub struct WhatIfArgs {
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    #[command(flatten)]
    pub market: MarketArgs,
    /// An order INSTRUMENT:SIZE, e.g. BTC-PERPETUAL:-0.5 (repeatable).
    #[arg(
        long = "order",
        value_name = "INSTRUMENT:SIZE",
        required = true,
        allow_hyphen_values = true
    )]
    pub orders: Vec<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses `INSTRUMENT:SIZE`.
pub fn parse_order(text: &str) -> Result<(Instrument, f64), CliError> {
    let bad = |why: String| {
        CliError::bad_input(format!(
            "--order `{text}`: {why} (expected INSTRUMENT:SIZE, e.g. BTC-PERPETUAL:-0.5)"
        ))
    };
    let (symbol, size) = text
        .rsplit_once(':')
        .ok_or_else(|| bad("no `:` between instrument and size".to_string()))?;
    let instrument = Instrument::parse(symbol.trim())
        .map_err(|e| bad(format!("bad instrument symbol `{symbol}`: {e}")))?;
    let size: f64 = size
        .trim()
        .parse()
        .map_err(|_| bad(format!("size `{size}` is not a number")))?;
    if !size.is_finite() || size == 0.0 || size.abs() > MAX_ABS_SIZE {
        return Err(bad(format!(
            "size {size} must be a finite non-zero number with |size| <= 1e9"
        )));
    }
    Ok((instrument, size))
}

/// One order's result.
#[derive(Debug, Clone, Serialize)]
pub struct OrderJson {
    pub instrument: String,
    pub size: f64,
    pub initial_margin: f64,
    pub maintenance_margin: f64,
    pub incremental_margin: f64,
    pub status: &'static str,
}

/// The `--json` document.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIfJson {
    pub account: String,
    pub currency: String,
    pub preset: &'static str,
    pub initial_margin: f64,
    pub orders: Vec<OrderJson>,
}

/// Runs `margin whatif`.
pub fn run(args: &WhatIfArgs) -> Result<(), CliError> {
    let orders = args
        .orders
        .iter()
        .map(|o| parse_order(o))
        .collect::<Result<Vec<_>, _>>()?;
    let portfolio = common::read_portfolio(&args.portfolio)?;
    let market = args.market.read()?;
    let (model, engine) = args
        .market
        .model_and_engine_for(portfolio.currency, &account_name(&portfolio))?;
    let mut extra: Vec<Instrument> = portfolio.positions.iter().map(|p| p.instrument).collect();
    extra.extend(orders.iter().map(|(i, _)| *i));
    let matrix = common::matrix(market, &args.market.market, model, &extra)?;
    let universe = matrix.universe();
    let views = matrix.views();
    let arrays = views.arrays();
    let file = &args.portfolio.portfolio;
    let mut scratch = Vec::new();
    let mut positions = Vec::new();
    // `margin` leaves the per-underlying scenario P&L in scratch for `what_if`.
    let (acct, grid_before) =
        margin_portfolio(universe, &arrays, &portfolio, &mut positions, &mut scratch)
            .map_err(|e| account_error(file, e))?;
    let overflow = |what: &str, e: margin_core::Error| {
        CliError::bad_input(format!("{}: {what}{e}", file.display()))
    };
    // A statistical preset margins the account (and each order) over its joint scenarios.
    let before = match &engine {
        Some(engine) => {
            engine
                .margin(&matrix, &portfolio, &[])
                .map_err(|e| account_error(file, e))?
                .0
        }
        None => grid_before,
    };
    margin_core::io::engine::finite_margin(&before).map_err(|e| overflow("", e))?;
    let mut results = Vec::with_capacity(orders.len());
    for (text, (instrument, size)) in args.orders.iter().zip(&orders) {
        let row = universe
            .find(instrument)
            .map_err(|e| CliError::bad_input(format!("--order `{text}`: {e}")))?;
        let order = Position {
            instrument: row,
            size: *size,
        };
        // Checked as a what-if of the grid account first: the same order checks for both.
        let grid_after = account::what_if(&arrays, universe.model(), &acct, &scratch, order)
            .map_err(|e| {
                // The core numbers the order as the position after the last; say what it is.
                let why = match e {
                    margin_core::Error::CurrencyMismatch { .. } => format!(
                        "{instrument} settles in {}, not in the account currency {}",
                        instrument.settlement_currency(),
                        portfolio.currency
                    ),
                    margin_core::Error::SizeOutOfRange { size, .. } => format!(
                        "the position after this order would be {size}, beyond ±{}",
                        margin_core::account::MAX_SIZE
                    ),
                    e => e.to_string(),
                };
                CliError::bad_input(format!("--order `{text}`: {why}"))
            })?;
        let after = match &engine {
            Some(engine) => {
                engine
                    .margin(&matrix, &portfolio, &[order])
                    .map_err(|e| CliError::bad_input(format!("--order `{text}`: {e}")))?
                    .0
            }
            None => grid_after,
        };
        margin_core::io::engine::finite_margin(&after)
            .map_err(|e| overflow(&format!("--order `{text}`: "), e))?;
        results.push(OrderJson {
            instrument: instrument.to_string(),
            size: *size,
            initial_margin: after.initial,
            maintenance_margin: after.maintenance,
            incremental_margin: after.initial - before.initial,
            status: status_name(after.status),
        });
    }
    let doc = WhatIfJson {
        account: portfolio.account.clone(),
        currency: portfolio.currency.to_string(),
        preset: before.preset.name,
        initial_margin: before.initial,
        orders: results,
    };
    if args.json {
        return output::print_json(&doc);
    }
    output::print(&render(&doc, file))
}

fn render(doc: &WhatIfJson, file: &Path) -> String {
    let c = &doc.currency;
    let mut t = Table::new(&[
        ("order", Align::Left),
        ("size", Align::Right),
        (&format!("IM after ({c})"), Align::Right),
        (&format!("incremental IM ({c})"), Align::Right),
        (&format!("MM after ({c})"), Align::Right),
        ("status after", Align::Left),
    ]);
    for o in &doc.orders {
        t.row(vec![
            o.instrument.clone(),
            format!("{:+}", o.size),
            format!("{:.8}", o.initial_margin),
            format!("{:+.8}", o.incremental_margin),
            format!("{:.8}", o.maintenance_margin),
            o.status.to_string(),
        ]);
    }
    format!(
        "account {} ({}) · preset {} · IM now {:.8} {c}\n\n{}",
        doc.account,
        file.display(),
        doc.preset,
        doc.initial_margin,
        t.render()
    )
}
