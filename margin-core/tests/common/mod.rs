//! Shared by the integration tests and the benches: reads a bundled Deribit option chain
//! (`data/deribit/`, columns described in its SOURCE.md) and builds a [`MarketSnapshot`] from it.
//!
//! This is test scaffolding, not the engine's file-format reader: it reads only the columns
//! the tests need and panics on malformed data, which is acceptable for fixed bundled files.
#![allow(dead_code)]

use margin_core::{
    Asset, Forward, Instrument, MarketSnapshot, Right, Timestamp, UnderlyingMarket, VolQuote,
};
use std::collections::BTreeMap;

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

/// Owned market data of one underlying, from which [`UnderlyingMarket`] borrows.
pub struct OwnedUnderlying {
    /// The coin.
    pub asset: Asset,
    /// `index_price` of the first row of this coin.
    pub index_price: f64,
    /// One forward per expiry: the median of the rows' `underlying` for that expiry (the
    /// ticker calls that fill `underlying` happen seconds apart, so it varies slightly).
    pub forwards: Vec<Forward>,
    /// One vol per (expiry, strike, right), sorted.
    pub vols: Vec<VolQuote>,
}

impl OwnedUnderlying {
    /// The borrowed view the snapshot takes (rate 0, perpetual priced at the index).
    pub fn view(&self) -> UnderlyingMarket<'_> {
        UnderlyingMarket {
            asset: self.asset,
            index_price: self.index_price,
            perpetual_price: self.index_price,
            rate: 0.0,
            forwards: &self.forwards,
            vols: &self.vols,
        }
    }
}

/// Groups a chain by coin (in order of the coin's code) into sorted forwards and vols.
pub fn chain_market(rows: &[ChainRow]) -> Vec<OwnedUnderlying> {
    let mut by_asset: BTreeMap<Asset, Vec<&ChainRow>> = BTreeMap::new();
    for row in rows {
        by_asset
            .entry(row.instrument.underlying)
            .or_default()
            .push(row);
    }
    by_asset
        .into_iter()
        .map(|(asset, rows)| {
            let mut per_expiry: BTreeMap<Timestamp, Vec<f64>> = BTreeMap::new();
            for r in &rows {
                per_expiry.entry(r.expiry).or_default().push(r.forward);
            }
            let forwards = per_expiry
                .into_iter()
                .map(|(expiry, mut prices)| {
                    prices.sort_by(f64::total_cmp);
                    Forward {
                        expiry,
                        price: prices[(prices.len() - 1) / 2],
                    }
                })
                .collect();
            let mut vols: Vec<VolQuote> = rows
                .iter()
                .map(|r| VolQuote {
                    expiry: r.expiry,
                    strike: r.strike,
                    right: right_of(&r.instrument),
                    vol: r.vol,
                })
                .collect();
            vols.sort_by(|a, b| {
                a.expiry
                    .cmp(&b.expiry)
                    .then(a.strike.total_cmp(&b.strike))
                    .then(a.right.cmp(&b.right))
            });
            OwnedUnderlying {
                asset,
                index_price: rows[0].index_price,
                forwards,
                vols,
            }
        })
        .collect()
}

/// Builds the snapshot over borrowed views; `views` must outlive it.
pub fn snapshot<'a>(time: Timestamp, views: &'a [UnderlyingMarket<'a>]) -> MarketSnapshot<'a> {
    MarketSnapshot::new(time, views).expect("bundled chain forms a valid snapshot")
}

/// The right of an option instrument. Panics on non-options.
pub fn right_of(instrument: &Instrument) -> Right {
    match instrument.kind {
        margin_core::Kind::Option { right, .. } => right,
        other => panic!("not an option: {other:?}"),
    }
}

/// Median of a slice (sorts a copy; the lower middle for even lengths).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) / 2]
}
