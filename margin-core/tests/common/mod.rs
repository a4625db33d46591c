//! Shared by the integration tests and the benches: reads a bundled Deribit option chain
//! (`data/deribit/`, columns described in its SOURCE.md) row by row, keeping each row's own
//! forward, mark and ticker delta for independent checks; the engine's market comes from the
//! engine's reader ([`chain_market`]).
//!
//! Test scaffolding: it panics on malformed data, which is acceptable for fixed bundled files.
#![allow(dead_code)]

use margin_core::io::MarketData;
use margin_core::{Instrument, Timestamp};

/// The newest bundled chain (widest strike grid).
pub const CHAIN_20260822: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
);
/// The 2026-01-05 chain.
pub const CHAIN_20260105: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260105T153329Z.csv"
);

/// One row of a chain file, with the instrument parsed from its symbol.
#[derive(Debug, Clone)]
pub struct ChainRow {
    /// `instrument_name`, e.g. `BTC-27MAR26-90000-C`.
    pub symbol: String,
    /// `Instrument::parse(symbol)`.
    pub instrument: Instrument,
    /// `timestamp` (one value per file).
    pub timestamp: Timestamp,
    /// `expiry_datetime`.
    pub expiry: Timestamp,
    /// `underlying`: the forward of this option, USD per coin.
    pub forward: f64,
    /// `strike`, USD per coin.
    pub strike: f64,
    /// `implied_volatility` (fraction).
    pub vol: f64,
    /// `mark_price`, coin per option.
    pub mark: f64,
    /// `delta`: Deribit ticker delta (Black N(d1), not premium-adjusted).
    pub delta: f64,
    /// `index_price`, USD per coin.
    pub index_price: f64,
}

/// Reads every row of a chain file, in file order. Panics on malformed data.
pub fn load_chain(path: &str) -> Vec<ChainRow> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers = reader.headers().expect("header row").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{path}: no column {name}"))
    };
    let (c_ts, c_sym, c_fwd, c_strike, c_exp, c_vol, c_mark, c_delta, c_index) = (
        col("timestamp"),
        col("instrument_name"),
        col("underlying"),
        col("strike"),
        col("expiry_datetime"),
        col("implied_volatility"),
        col("mark_price"),
        col("delta"),
        col("index_price"),
    );
    reader
        .records()
        .map(|record| {
            let record = record.expect("csv record");
            let num = |c: usize| -> f64 {
                record[c]
                    .parse()
                    .unwrap_or_else(|e| panic!("{path}: {:?}: {e}", &record[c]))
            };
            let symbol = record[c_sym].to_string();
            ChainRow {
                instrument: Instrument::parse(&symbol).unwrap_or_else(|e| panic!("{symbol}: {e}")),
                timestamp: Timestamp::parse_iso8601(&record[c_ts]).expect("timestamp"),
                expiry: Timestamp::parse_iso8601(&record[c_exp]).expect("expiry"),
                forward: num(c_fwd),
                strike: num(c_strike),
                vol: num(c_vol),
                mark: num(c_mark),
                delta: num(c_delta),
                index_price: num(c_index),
                symbol,
            }
        })
        .collect()
}

/// The chain as the engine's own reader builds its market (one forward per expiry: the
/// median of the rows' `underlying`, which varies by seconds between ticker calls).
pub fn chain_market(path: &str) -> MarketData {
    margin_core::io::read_market(std::path::Path::new(path)).expect("bundled chain reads")
}

/// Median of a slice (sorts a copy; the lower middle for even lengths).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) / 2]
}
