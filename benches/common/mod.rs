//! Shared by the benches: the bundled chain and histories, and a book built from a portfolio
//! file through the same universe as `margin compute` and `margin var`.

use margin_core::Instrument;
use margin_core::io::engine::Universe;
use margin_core::io::{PortfolioDefaults, read_market, read_portfolio};
use margin_core::market::PricingInputs;
use margin_core::model::Model;
use std::path::Path;

/// The bundled Deribit chain of 2026-08-22.
pub const CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
);
/// The 200-position USDC account.
pub const USDC_200: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/portfolio-usdc-200.json"
);
/// The bundled daily histories' folder.
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/btc-eth-daily/");

/// A book from a portfolio file on the bundled chain, through the same universe as
/// `margin compute` and `margin var`.
pub fn book_of(portfolio: &str) -> (Vec<Instrument>, Vec<PricingInputs>, Vec<f64>) {
    let market = read_market(Path::new(CHAIN)).expect("bundled chain");
    let portfolio =
        read_portfolio(Path::new(portfolio), &PortfolioDefaults::default()).expect("portfolio");
    let extra: Vec<_> = portfolio.positions.iter().map(|p| p.instrument).collect();
    let views = market.views();
    let snapshot = market.snapshot(&views).unwrap();
    let universe = Universe::new(
        &market,
        &snapshot,
        Model::preset("deribit-btc").unwrap(),
        &extra,
    )
    .unwrap();
    let rows = universe.positions(&portfolio).unwrap();
    let instruments = rows
        .iter()
        .map(|p| universe.instruments()[p.instrument])
        .collect::<Vec<_>>();
    let inputs = instruments
        .iter()
        .map(|i| snapshot.inputs(i).unwrap())
        .collect();
    (instruments, inputs, rows.iter().map(|p| p.size).collect())
}

/// The bundled chain's index price of `coin` (USD).
#[allow(dead_code)] // used by the backtest bench, not the statistical one
pub fn index_price(coin: margin_core::Asset) -> f64 {
    let market = read_market(Path::new(CHAIN)).expect("bundled chain");
    market
        .underlying(coin)
        .expect("coin in the chain")
        .index_price
}
