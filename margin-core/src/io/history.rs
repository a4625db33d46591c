//! Daily close histories of several coins on common dates, the input of historical
//! simulation ([`crate::stats::historical`]).
//!
//! Two CSV layouts are read ([`parse_history_csv`] tells them apart by the header):
//!
//! * **wide**: a `date` column and one column per coin, named `<coin>` or
//!   `<coin>_close_usd` (any case): `date,BTC,ETH` or the bundled
//!   `date,btc_close_usd,eth_close_usd`;
//! * **per-coin OHLC** (Yahoo Finance download): `Date,Open,High,Low,Close,Adj Close,Volume`,
//!   of which `Date` and `Close` are used. The file does not name its coin: it is given as
//!   `BTC=path`, or taken from a file name `BTC-USD.csv` (the part before the first `-`,
//!   upper-cased).
//!
//! [`PriceHistory::load`] reads several `--history` specifications (a wide CSV, `COIN=path`,
//! or a `COIN-XXX.csv` path) and joins them on the common date range `[latest start,
//! earliest end]`. Within each file the dates (`YYYY-MM-DD`, UTC days) must be consecutive
//! calendar days, strictly increasing, and every close a finite positive number; each
//! violation is an error naming the file, the line and the column. A coin may appear only
//! once across all files. Closes are parsed with Rust's correctly rounded `str::parse`, so
//! the same decimal text gives the same bits in either layout.

use super::error::{FormatError, FormatErrorKind, Location};
use super::{Ctx, cell, csv_error, read_text};
use crate::error::Error;
use crate::instrument::Asset;
use crate::time::Timestamp;
use std::path::{Path, PathBuf};

const MS_PER_DAY: i64 = 86_400_000;

/// Daily closes of `U` coins on `T` consecutive calendar days.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceHistory {
    coins: Vec<Asset>,
    dates: Vec<Timestamp>,
    /// Date-major: the close of coin `c` on date `t` is entry `t·U + c`.
    closes: Vec<f64>,
}

impl PriceHistory {
    /// Reads and joins `specs`, each a wide CSV path, `COIN=path` (an OHLC file of that coin,
    /// or the coin's column of a wide file), or an OHLC path named `COIN-XXX.csv`. The result
    /// holds the coins in the order given (a wide file's in header order) on the dates all
    /// files share, `[latest start, earliest end]`; at least 2 common dates are required.
    pub fn load(specs: &[String]) -> Result<PriceHistory, FormatError> {
        let mut parts: Vec<(PathBuf, PriceHistory)> = Vec::with_capacity(specs.len());
        for spec in specs {
            let (coin, path) = split_spec(spec);
            let part = parse_history_csv(&read_text(path)?, path, coin)?;
            for c in &part.coins {
                if let Some((other, _)) = parts.iter().find(|(_, h)| h.coins.contains(c)) {
                    return Err(FormatError::new(
                        path,
                        Location::File,
                        FormatErrorKind::Duplicate {
                            what: "coin",
                            key: format!("{c}` (already read from `{}", other.display()),
                        },
                    ));
                }
            }
            parts.push((path.to_path_buf(), part));
        }
        join(&parts)
    }

    /// The coins, in column order.
    pub fn coins(&self) -> &[Asset] {
        &self.coins
    }

    /// The dates (midnight UTC), consecutive calendar days, oldest first.
    pub fn dates(&self) -> &[Timestamp] {
        &self.dates
    }

    /// All closes, date-major (`T × U`): the close of coin `c` on date `t` is `t·U + c`.
    pub fn closes(&self) -> &[f64] {
        &self.closes
    }

    /// Number of dates `T`.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether there are no dates (never true for a history returned by a reader).
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// Column of `coin`, if the history has it.
    pub fn coin_index(&self, coin: Asset) -> Option<usize> {
        self.coins.iter().position(|&c| c == coin)
    }

    /// Close of coin column `coin` on date index `date`.
    pub fn close(&self, date: usize, coin: usize) -> Option<f64> {
        if coin >= self.coins.len() {
            return None;
        }
        self.closes.get(date * self.coins.len() + coin).copied()
    }

    /// The history restricted to dates in `[from, to]` (inclusive; `None` leaves that side
    /// open). Errors with [`Error::OutOfRange`] (the number of dates left) if fewer than 2
    /// dates remain.
    pub fn between(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<PriceHistory, Error> {
        let lo = from.map_or(0, |f| self.dates.partition_point(|&d| d < f));
        let hi = to.map_or(self.len(), |t| self.dates.partition_point(|&d| d <= t));
        if hi < lo + 2 {
            return Err(Error::OutOfRange {
                what: "number of history dates in the requested range (at least 2 needed)",
                value: hi.saturating_sub(lo) as f64,
            });
        }
        let u = self.coins.len();
        Ok(PriceHistory {
            coins: self.coins.clone(),
            dates: self.dates[lo..hi].to_vec(),
            closes: self.closes[lo * u..hi * u].to_vec(),
        })
    }
}

/// The file a history specification names (`COIN=path` → `path`; anything else is a path),
/// as [`PriceHistory::load`] reads it.
pub fn spec_path(spec: &str) -> &Path {
    split_spec(spec).1
}

/// `COIN=path` → `(Some(COIN), path)`; anything else is a path.
fn split_spec(spec: &str) -> (Option<Asset>, &Path) {
    if let Some((coin, path)) = spec.split_once('=')
        && let Some(coin) = Asset::new(&coin.trim().to_ascii_uppercase())
    {
        return (Some(coin), Path::new(path.trim()));
    }
    (None, Path::new(spec))
}

/// The coin named by a file name `COIN-XXX.csv`: the part of the stem before the first `-`,
/// upper-cased; `None` if the stem has no `-` or the part is not a coin code.
pub fn coin_from_file_name(path: &Path) -> Option<Asset> {
    let stem = path.file_stem()?.to_str()?;
    let (coin, _) = stem.split_once('-')?;
    Asset::new(&coin.to_ascii_uppercase())
}

/// The coin a wide column header names: `<coin>` or `<coin>_close_usd`, any case.
fn coin_of_column(header: &str) -> Option<Asset> {
    let upper = header.trim().to_ascii_uppercase();
    Asset::new(upper.strip_suffix("_CLOSE_USD").unwrap_or(&upper))
}

/// `YYYY-MM-DD` of a midnight timestamp.
fn day(t: Timestamp) -> String {
    let (y, m, d) = t.civil_date();
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses one history CSV, wide or per-coin OHLC (module docs): a header with a `Close`
/// column (any case) is OHLC, anything else wide. For OHLC the coin is `coin`, else taken
/// from `file`'s name ([`coin_from_file_name`]); for a wide file `coin`, if given, selects
/// that coin's column. `file` names the source in errors.
pub fn parse_history_csv(
    text: &str,
    file: &Path,
    coin: Option<Asset>,
) -> Result<PriceHistory, FormatError> {
    let ctx = Ctx { file };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(file, &e))?.clone();
    let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let date_col = find("date")
        .ok_or_else(|| ctx.err(&cell(1, "date"), FormatErrorKind::Missing("column")))?;
    // (column index, coin) of every close column read.
    let mut columns: Vec<(usize, Asset)> = Vec::new();
    if let Some(close) = find("close") {
        let coin = coin.or_else(|| coin_from_file_name(file)).ok_or_else(|| {
            ctx.err(
                &Location::File,
                FormatErrorKind::Missing(
                    "coin of this OHLC file (pass COIN=path or name the file COIN-XXX.csv)",
                ),
            )
        })?;
        columns.push((close, coin));
    } else {
        for (i, h) in headers.iter().enumerate().filter(|&(i, _)| i != date_col) {
            let c = coin_of_column(h)
                .ok_or_else(|| ctx.err(&cell(1, h), FormatErrorKind::UnknownCurrency(h.into())))?;
            if columns.iter().any(|&(_, d)| d == c) {
                let kind = FormatErrorKind::Duplicate {
                    what: "coin",
                    key: c.to_string(),
                };
                return Err(ctx.err(&cell(1, h), kind));
            }
            columns.push((i, c));
        }
        if let Some(wanted) = coin {
            columns.retain(|&(_, c)| c == wanted);
        }
        if columns.is_empty() {
            let what = match coin {
                Some(_) => "column of the requested coin",
                None => "coin column (expected e.g. date,BTC,ETH)",
            };
            return Err(ctx.err(&cell(1, "date"), FormatErrorKind::Missing(what)));
        }
    }
    let date_name = &headers[date_col];
    let mut dates: Vec<Timestamp> = Vec::new();
    let mut closes: Vec<f64> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let text = record.get(date_col).unwrap_or("");
        let at = || cell(line, date_name);
        let date = match Timestamp::parse_iso8601(text) {
            Ok(d) if text.len() == 10 => d,
            _ => return Err(ctx.err(&at(), FormatErrorKind::BadTime(text.into()))),
        };
        if let Some(&prev) = dates.last() {
            let (previous, found) = (day(prev), text.to_string());
            if date == prev {
                let kind = FormatErrorKind::Duplicate {
                    what: "date",
                    key: found,
                };
                return Err(ctx.err(&at(), kind));
            } else if date < prev {
                let kind = FormatErrorKind::DateOrder { previous, found };
                return Err(ctx.err(&at(), kind));
            } else if date.0 - prev.0 != MS_PER_DAY {
                let kind = FormatErrorKind::DateGap { previous, found };
                return Err(ctx.err(&at(), kind));
            }
        }
        dates.push(date);
        for &(i, _) in &columns {
            let at = cell(line, &headers[i]);
            let x = ctx.number(record.get(i).unwrap_or(""), &at)?;
            closes.push(ctx.positive(x, "close", &at)?);
        }
    }
    if dates.is_empty() {
        return Err(ctx.err(&Location::File, FormatErrorKind::Missing("data rows")));
    }
    Ok(PriceHistory {
        coins: columns.iter().map(|&(_, c)| c).collect(),
        dates,
        closes,
    })
}

/// Joins histories of distinct coins on their common date range.
fn join(parts: &[(PathBuf, PriceHistory)]) -> Result<PriceHistory, FormatError> {
    let (Some((first_file, _)), Some(start), Some(end)) = (
        parts.first(),
        parts.iter().filter_map(|(_, h)| h.dates.first()).max(),
        parts.iter().filter_map(|(_, h)| h.dates.last()).min(),
    ) else {
        return Err(FormatError::new(
            Path::new("<history>"),
            Location::File,
            FormatErrorKind::Missing("history file"),
        ));
    };
    let (start, end) = (*start, *end);
    if end.0 - start.0 < MS_PER_DAY {
        let (latest, _) = parts
            .iter()
            .find(|(_, h)| h.dates.first() == Some(&start))
            .unwrap_or(&parts[0]);
        let msg = if parts.len() == 1 {
            "the history has fewer than 2 dates".to_string()
        } else {
            format!(
                "the histories share fewer than 2 dates (this file starts on {}, another ends on {})",
                day(start),
                day(end)
            )
        };
        let file = if parts.len() == 1 { first_file } else { latest };
        return Err(FormatError::new(
            file,
            Location::File,
            FormatErrorKind::Conflict(msg),
        ));
    }
    let days = ((end.0 - start.0) / MS_PER_DAY) as usize + 1;
    let coins: Vec<Asset> = parts
        .iter()
        .flat_map(|(_, h)| h.coins.iter().copied())
        .collect();
    let mut closes = Vec::with_capacity(days * coins.len());
    for t in 0..days {
        for (_, h) in parts {
            let u = h.coins.len();
            let row = ((start.0 - h.dates[0].0) / MS_PER_DAY) as usize + t;
            closes.extend_from_slice(&h.closes[row * u..(row + 1) * u]);
        }
    }
    Ok(PriceHistory {
        coins,
        dates: (0..days as i64)
            .map(|t| Timestamp(start.0 + t * MS_PER_DAY))
            .collect(),
        closes,
    })
}
