//! Deribit option-chain CSV (the `deribit_options_snapshot_*.csv` files described in
//! `data/deribit/SOURCE.md`), read directly into a [`MarketData`].
//!
//! Columns used (others are ignored; order does not matter):
//!
//! | column | becomes |
//! |---|---|
//! | `timestamp` | the valuation time (must be the same on every row) |
//! | `instrument_name` | the option (must be an option symbol) |
//! | `currency` | its coin (must match the symbol) |
//! | `option_type`, `strike`, `expiry_datetime` | cross-checked against the symbol |
//! | `underlying` | forward of the expiry = **median** over that coin's rows of that expiry |
//! | `index_price` | index of the coin = **median** over that coin's rows |
//! | `implied_volatility` | the option's vol (`mark_iv`) |
//! | `mark_price` | kept as the option's mark (coin per option); may be empty |
//! | `bid_price`, `ask_price` | optional columns: the quote (both non-empty, `0 ≤ bid ≤ ask`), else none |
//!
//! Medians, because the ticker fields were fetched one instrument at a time over a few
//! minutes and differ by a few cents; the median of an even count is the mean of the middle
//! two. The file lists no perpetual, so the perpetual price is the index; the rate is 0
//! (Deribit's convention).
//!
//! Each row is also held to the plausibility bounds of [`super::market`]: `implied_volatility`
//! a decimal ≤ 5.0 (Deribit's API writes percent: 46.0 is rejected), `underlying` and
//! `index_price` ≤ 1e12 and `underlying` within [0.5, 2] × `index_price` — the error names
//! the line and column — unless [`MarketOptions::allow_implausible`] is set.

use super::error::{FormatError, FormatErrorKind, Location};
use super::market::{
    InstrumentQuote, MarketBuilder, MarketData, MarketOptions, UnderlyingData, rule,
};
use super::{Ctx, cell, csv_error};
use crate::instrument::{Asset, Kind, Right};
use crate::market::Forward;
use crate::time::Timestamp;
use std::path::Path;

const COLUMNS: [&str; 10] = [
    "timestamp",
    "instrument_name",
    "currency",
    "option_type",
    "strike",
    "expiry_datetime",
    "underlying",
    "index_price",
    "implied_volatility",
    "mark_price",
];

/// Median of `xs` (sorted in place with a total order); an even count gives the mean of the
/// middle two. `None` when `xs` is empty.
pub fn median(xs: &mut [f64]) -> Option<f64> {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(xs[n / 2]),
        _ => Some(0.5 * (xs[n / 2 - 1] + xs[n / 2])),
    }
}

/// Parses a Deribit option-chain CSV (see the module docs); `file` names the source in errors.
pub fn parse_deribit_chain(text: &str, file: &Path) -> Result<MarketData, FormatError> {
    parse_deribit_chain_with(text, file, MarketOptions::default())
}

/// [`parse_deribit_chain`] with reader options.
pub fn parse_deribit_chain_with(
    text: &str,
    file: &Path,
    options: MarketOptions,
) -> Result<MarketData, FormatError> {
    let ctx = Ctx { file };
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(file, &e))?.clone();
    let idx = super::columns(&ctx, &headers, COLUMNS)?;
    let [
        c_time,
        c_name,
        c_cur,
        c_type,
        c_strike,
        c_expiry,
        c_under,
        c_index,
        c_iv,
        c_mark,
    ] = idx;

    // Optional quote columns (older snapshots may lack them).
    let optional = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (c_bid, c_ask) = (optional("bid_price"), optional("ask_price"));
    let mut valuation_time: Option<(Timestamp, u64)> = None;
    // Per coin: index samples; per (coin, expiry): forward samples. Vec, in order of first
    // appearance, so nothing depends on hashing.
    let mut indices: Vec<(Asset, Vec<f64>, u64)> = Vec::new();
    let mut forwards: Vec<(Asset, Timestamp, Vec<f64>, u64)> = Vec::new();
    let mut quotes: Vec<(InstrumentQuote, Location)> = Vec::new();

    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |c: usize| record.get(c).unwrap_or("");
        let at = |c: usize| cell(line, COLUMNS[idx.iter().position(|&i| i == c).unwrap_or(0)]);
        let required = |c: usize| -> Result<&str, FormatError> {
            let v = get(c).trim();
            if v.is_empty() {
                Err(ctx.err(&at(c), FormatErrorKind::Missing("value")))
            } else {
                Ok(v)
            }
        };

        let t = ctx.time(required(c_time)?, &at(c_time))?;
        match valuation_time {
            None => valuation_time = Some((t, line)),
            Some((t0, line0)) if t0 != t => {
                return Err(ctx.err(
                    &at(c_time),
                    FormatErrorKind::Conflict(format!(
                        "timestamp {t} differs from {t0} on line {line0}; a chain file is one snapshot"
                    )),
                ));
            }
            Some(_) => {}
        }

        let instrument = ctx.symbol(required(c_name)?, &at(c_name))?;
        let Kind::Option {
            expiry,
            strike,
            right,
        } = instrument.kind
        else {
            return Err(ctx.err(
                &at(c_name),
                FormatErrorKind::Unsupported(format!("`{instrument}` is not an option")),
            ));
        };
        let asset = ctx.asset(required(c_cur)?, &at(c_cur))?;
        let mismatch = |c: usize, found: &str| {
            ctx.err(
                &at(c),
                FormatErrorKind::Conflict(format!(
                    "`{found}` does not match the instrument name `{instrument}`"
                )),
            )
        };
        if asset != instrument.underlying {
            return Err(mismatch(c_cur, get(c_cur)));
        }
        let right_ok = match required(c_type)? {
            "call" => right == Right::Call,
            "put" => right == Right::Put,
            _ => false,
        };
        if !right_ok {
            return Err(mismatch(c_type, get(c_type)));
        }
        if ctx.number(required(c_strike)?, &at(c_strike))? != strike {
            return Err(mismatch(c_strike, get(c_strike)));
        }
        if ctx.time(required(c_expiry)?, &at(c_expiry))? != expiry {
            return Err(mismatch(c_expiry, get(c_expiry)));
        }

        let fwd = ctx.number(required(c_under)?, &at(c_under))?;
        let fwd = ctx.positive(fwd, "underlying", &at(c_under))?;
        let index = ctx.number(required(c_index)?, &at(c_index))?;
        let index = ctx.positive(index, "index_price", &at(c_index))?;
        let iv = ctx.number(required(c_iv)?, &at(c_iv))?;
        let iv = ctx.positive(iv, "implied_volatility", &at(c_iv))?;
        if !options.allow_implausible {
            let check = |c: usize, what, value, verdict: Result<(), &'static str>| {
                verdict.map_err(|expected| {
                    ctx.err(
                        &at(c),
                        FormatErrorKind::Implausible {
                            what,
                            value,
                            expected,
                        },
                    )
                })
            };
            check(c_index, "index_price", index, rule::price(index))?;
            check(c_under, "underlying", fwd, rule::forward(fwd, index))?;
            check(c_iv, "implied vol", iv, rule::vol(iv))?;
        }
        let mark = match get(c_mark).trim() {
            "" => None,
            m => Some(ctx.non_negative(ctx.number(m, &at(c_mark))?, "mark_price", &at(c_mark))?),
        };

        let quote = match (c_bid.map(get), c_ask.map(get)) {
            (Some(b), Some(a)) if !b.trim().is_empty() && !a.trim().is_empty() => {
                let at_named = |name| cell(line, name);
                let bid = ctx.number(b.trim(), &at_named("bid_price"))?;
                let bid = ctx.non_negative(bid, "bid_price", &at_named("bid_price"))?;
                let ask = ctx.number(a.trim(), &at_named("ask_price"))?;
                let ask = ctx.non_negative(ask, "ask_price", &at_named("ask_price"))?;
                // A crossed quote carries no usable spread: no quote, not an error (snapshots
                // fetch bid and ask a moment apart).
                (bid <= ask).then_some((bid, ask))
            }
            _ => None,
        };
        match indices.iter_mut().find(|(a, ..)| *a == asset) {
            Some((_, v, _)) => v.push(index),
            None => indices.push((asset, vec![index], line)),
        }
        match forwards
            .iter_mut()
            .find(|(a, e, ..)| *a == asset && *e == expiry)
        {
            Some((.., v, _)) => v.push(fwd),
            None => forwards.push((asset, expiry, vec![fwd], line)),
        }
        quotes.push((
            InstrumentQuote {
                instrument,
                mark_price: mark,
                mark_iv: Some(iv),
                quote,
            },
            Location::Line { line, column: None },
        ));
    }

    let (valuation_time, _) = valuation_time
        .ok_or_else(|| ctx.err(&Location::File, FormatErrorKind::Missing("option rows")))?;
    let mut b = MarketBuilder::new(file, valuation_time);
    b.options(options);
    indices.sort_by_key(|a| a.0);
    // Medians are located at the first row that contributed to them.
    for (asset, mut samples, line) in indices {
        let index_price = median(&mut samples)
            .ok_or_else(|| ctx.err(&Location::File, FormatErrorKind::Missing("option rows")))?;
        b.underlying(
            UnderlyingData {
                asset,
                index_price,
                perpetual_price: index_price,
                rate: 0.0,
                forwards: Vec::new(),
                vols: Vec::new(),
            },
            cell(line, "index_price"),
        )?;
    }
    for (asset, expiry, mut samples, line) in forwards {
        let price = median(&mut samples)
            .ok_or_else(|| ctx.err(&Location::File, FormatErrorKind::Missing("option rows")))?;
        b.forward(asset, Forward { expiry, price }, cell(line, "underlying"))?;
    }
    for (q, at) in quotes {
        b.instrument(q, at)?;
    }
    b.finish()
}
