//! File formats, written once and shared by the CLI and the C FFI (compiled with `std` only).
//!
//! | format | reader | writer |
//! |---|---|---|
//! | market JSON ([`market_json`]) | [`parse_market_json`] | [`write_market_json`] |
//! | Deribit option-chain CSV ([`deribit`]) | [`parse_deribit_chain`] | — |
//! | portfolio JSON / CSV ([`portfolio`]) | [`parse_portfolio_json`], [`parse_portfolio_csv`] | [`write_portfolio_json`], [`write_portfolio_csv`] |
//! | model file JSON ([`model_file`]) | [`parse_model_json`], [`model_from_spec`] | — |
//! | daily close history CSV, wide or Yahoo OHLC ([`history`]) | [`parse_history_csv`], [`PriceHistory::load`] | — |
//!
//! [`engine`] turns a market and a model into risk arrays for every instrument the market can
//! price, once, for the CLI, the batch runner and the FFI; [`matrix`] owns them together with
//! the market, model and lookup ([`matrix::RiskMatrix`]) and lends the arrays out per call.
//!
//! [`read_market`] and [`read_portfolio`] open a file and pick the format from its extension
//! (`.json`, `.csv`) or, failing that, from its content (JSON starts with `{`). Every reader
//! returns a [`FormatError`] naming the file, the line (CSV) or JSON path, and what was
//! expected; none panics. Readers check numbers at the boundary (finite, positive where a
//! price must be) and hand the core only data its validators accept.
//!
//! Determinism: JSON numbers are parsed with correct rounding (`serde_json`'s
//! `float_roundtrip`), like Rust's `str::parse::<f64>` used for CSV, so the same decimal gives
//! the same bits whichever format carries it. Nothing here iterates a hash map.

pub mod deribit;
pub mod engine;
mod error;
pub mod history;
pub mod market;
pub mod market_json;
pub mod matrix;
pub mod model_file;
pub mod portfolio;
pub mod provenance;

pub use deribit::{median, parse_deribit_chain, parse_deribit_chain_with};
pub use error::{FormatError, FormatErrorKind, Location};
pub use history::{PriceHistory, coin_from_file_name, parse_history_csv};
pub use market::{
    InstrumentQuote, MAX_ABS_RATE, MAX_FORWARD_RATIO, MAX_PRICE, MAX_VOL, MIN_FORWARD_RATIO,
    MarketData, MarketOptions, UnderlyingData, check_plausible_market,
};
pub use market_json::{parse_market_json, parse_market_json_with, write_market_json};
pub use model_file::{
    model_file_json, model_from_spec, parse_model_file, parse_model_json, read_model,
};
pub use portfolio::{
    Portfolio, PortfolioDefaults, Position, parse_portfolio_csv, parse_portfolio_json,
    write_portfolio_csv, write_portfolio_json, write_portfolio_json_line,
};
pub use provenance::{HistoryDigest, Provenance, read_provenance};

use crate::instrument::{Asset, Instrument};
use crate::time::Timestamp;
use std::path::Path;

/// Largest accepted |position size|, in coins of the underlying: the engine's own limit.
pub use crate::account::MAX_SIZE as MAX_ABS_SIZE;

/// Smallest accepted |position size| in a portfolio file, in coins of the underlying. A size
/// of 0 (or one that underflows to 0, such as `1e-400`) holds nothing and is almost always a
/// typo: it is rejected rather than silently margined as nothing.
pub const MIN_ABS_SIZE: f64 = 1e-9;

/// Smallest accepted nonzero |equity| in a portfolio file, in the account currency. Equity is
/// 0 or at least this large: a dust equity such as `1e-320` (subnormal) would make the margin
/// ratio MM / equity infinite.
pub const MIN_ABS_EQUITY: f64 = 1e-12;

/// The two text formats the readers understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// A JSON document.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

/// The format of `path` with content `text`: by extension (`.json`, `.csv`, any case) when it
/// has one of those, else by content (a first non-blank `{` means JSON, anything else CSV).
/// An extension that contradicts the content (`.csv` holding `{...}`, or `.json` not starting
/// with `{`) is an error rather than a confusing parse failure.
pub fn detect_format(path: &Path, text: &str) -> Result<FileFormat, FormatError> {
    let looks_json = text.trim_start().starts_with('{');
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let unknown = |msg: &str| {
        FormatError::new(
            path,
            Location::File,
            FormatErrorKind::UnknownFormat(msg.to_string()),
        )
    };
    match ext.as_deref() {
        Some("json") if looks_json => Ok(FileFormat::Json),
        Some("json") => Err(unknown(
            "the extension is .json but the content does not start with `{`",
        )),
        Some("csv") if looks_json => Err(unknown(
            "the extension is .csv but the content looks like JSON",
        )),
        Some("csv") => Ok(FileFormat::Csv),
        _ if looks_json => Ok(FileFormat::Json),
        _ => Ok(FileFormat::Csv),
    }
}

/// A JSON value that must be an object: derived structs also accept arrays (fields by
/// position), which would let `["A1", "BTC", 1, []]` pass for a portfolio. Wrapping the type
/// makes an array an error ("expected an object").
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Object<T>(pub T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<T: serde::Serialize> serde::Serialize for Object<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The column index of each of `names` in a CSV header: a missing column, or one named twice
/// (which one would be read?), is an error naming it. Shared by every CSV reader.
pub(crate) fn columns<const N: usize>(
    ctx: &Ctx<'_>,
    headers: &csv::StringRecord,
    names: [&'static str; N],
) -> Result<[usize; N], FormatError> {
    let mut idx = [0usize; N];
    for (slot, name) in idx.iter_mut().zip(names) {
        let mut found = headers.iter().enumerate().filter(|(_, h)| h.trim() == name);
        *slot = found
            .next()
            .ok_or_else(|| ctx.err(&cell(1, name), FormatErrorKind::Missing("column")))?
            .0;
        if found.next().is_some() {
            return Err(ctx.err(
                &cell(1, name),
                FormatErrorKind::Duplicate {
                    what: "column",
                    key: name.to_string(),
                },
            ));
        }
    }
    Ok(idx)
}

/// Deserializes JSON `text` into `T`. On failure the text is read again with path tracking,
/// so the error names the field (`positions[1].size`) as well as serde's line and column; the
/// successful path, hot in batch runs, pays nothing for it.
pub(crate) fn from_json<'de, T: serde::Deserialize<'de>>(
    text: &'de str,
    file: &Path,
) -> Result<T, FormatError> {
    serde_json::from_str(text).map_err(|e| {
        let mut de = serde_json::Deserializer::from_str(text);
        let at = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(tracked) => tracked.path().to_string(),
            Ok(_) => String::new(),
        };
        let location = if at.is_empty() || at == "." {
            Location::File
        } else {
            Location::Path(at)
        };
        FormatError::new(file, location, FormatErrorKind::Json(e.to_string()))
    })
}

/// Reads a whole file as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, FormatError> {
    std::fs::read_to_string(path)
        .map_err(|e| FormatError::new(path, Location::File, FormatErrorKind::Io(e)))
}

/// Reads a market file: market JSON or a Deribit option-chain CSV, with the plausibility
/// bounds enforced (see [`market`]).
pub fn read_market(path: &Path) -> Result<MarketData, FormatError> {
    read_market_with(path, MarketOptions::default())
}

/// [`read_market`] with reader options (e.g. accept implausible numbers).
pub fn read_market_with(path: &Path, options: MarketOptions) -> Result<MarketData, FormatError> {
    let text = read_text(path)?;
    match detect_format(path, &text)? {
        FileFormat::Json => parse_market_json_with(&text, path, options),
        FileFormat::Csv => parse_deribit_chain_with(&text, path, options),
    }
}

/// Reads a portfolio file (JSON, or CSV completed by `defaults`).
pub fn read_portfolio(path: &Path, defaults: &PortfolioDefaults) -> Result<Portfolio, FormatError> {
    let text = read_text(path)?;
    match detect_format(path, &text)? {
        FileFormat::Json => parse_portfolio_json(&text, path),
        FileFormat::Csv => parse_portfolio_csv(&text, path, defaults),
    }
}

/// The boundary checks every reader applies, producing errors located in one file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'p> {
    pub file: &'p Path,
}

impl<'p> Ctx<'p> {
    pub fn err(&self, at: &Location, kind: FormatErrorKind) -> FormatError {
        FormatError::new(self.file, at.clone(), kind)
    }

    pub fn finite(&self, x: f64, what: &'static str, at: &Location) -> Result<f64, FormatError> {
        if x.is_finite() {
            Ok(x)
        } else {
            Err(self.err(at, FormatErrorKind::NonFinite(what)))
        }
    }

    pub fn positive(&self, x: f64, what: &'static str, at: &Location) -> Result<f64, FormatError> {
        let x = self.finite(x, what, at)?;
        if x > 0.0 {
            Ok(x)
        } else {
            Err(self.err(at, FormatErrorKind::NonPositive { what, value: x }))
        }
    }

    pub fn non_negative(
        &self,
        x: f64,
        what: &'static str,
        at: &Location,
    ) -> Result<f64, FormatError> {
        let x = self.finite(x, what, at)?;
        if x >= 0.0 {
            Ok(x)
        } else {
            Err(self.err(at, FormatErrorKind::Negative { what, value: x }))
        }
    }

    /// `x` if it is a valid position size; `at` is called only to name an error, so hot
    /// readers format no location for good input.
    pub fn size(&self, x: f64, at: impl FnOnce() -> Location) -> Result<f64, FormatError> {
        if x.is_finite() && x.abs() <= MAX_ABS_SIZE && x.abs() >= MIN_ABS_SIZE {
            Ok(x)
        } else {
            Err(self.err(&at(), FormatErrorKind::AbsurdSize(x)))
        }
    }

    /// `x` if it is a valid equity: finite, and 0 or at least [`MIN_ABS_EQUITY`] in magnitude.
    pub fn equity(&self, x: f64, at: &Location) -> Result<f64, FormatError> {
        let x = self.finite(x, "equity", at)?;
        if x == 0.0 || x.abs() >= MIN_ABS_EQUITY {
            Ok(x)
        } else {
            Err(self.err(
                at,
                FormatErrorKind::Implausible {
                    what: "equity",
                    value: x,
                    expected: "0 or |equity| >= 1e-12 (dust equity makes the margin ratio infinite)",
                },
            ))
        }
    }

    pub fn number(&self, text: &str, at: &Location) -> Result<f64, FormatError> {
        text.trim()
            .parse::<f64>()
            .map_err(|_| self.err(at, FormatErrorKind::NotANumber(text.to_string())))
    }

    pub fn time(&self, text: &str, at: &Location) -> Result<Timestamp, FormatError> {
        Timestamp::parse_iso8601(text.trim())
            .map_err(|_| self.err(at, FormatErrorKind::BadTime(text.to_string())))
    }

    pub fn symbol(&self, text: &str, at: &Location) -> Result<Instrument, FormatError> {
        Instrument::parse(text.trim()).map_err(|error| {
            self.err(
                at,
                FormatErrorKind::BadSymbol {
                    symbol: text.to_string(),
                    error,
                },
            )
        })
    }

    pub fn asset(&self, text: &str, at: &Location) -> Result<Asset, FormatError> {
        Asset::new(text.trim())
            .ok_or_else(|| self.err(at, FormatErrorKind::UnknownCurrency(text.to_string())))
    }
}

/// A CSV location: 1-based line and column name.
pub(crate) fn cell(line: u64, column: &str) -> Location {
    Location::Line {
        line,
        column: Some(column.to_string()),
    }
}

/// Maps a `csv` crate error to a located [`FormatError`].
pub(crate) fn csv_error(file: &Path, e: &csv::Error) -> FormatError {
    let line = e.position().map(|p| p.line());
    let location = match line {
        Some(line) => Location::Line { line, column: None },
        None => Location::File,
    };
    let msg = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_string(),
        _ => e.to_string(),
    };
    FormatError::new(file, location, FormatErrorKind::Csv(msg))
}

#[cfg(test)]
mod tests;
