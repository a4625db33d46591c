//! Portfolio files: an account's equity and positions.
//!
//! JSON:
//!
//! ```json
//! {"account": "A1", "currency": "BTC", "equity": 1.5,
//!  "positions": [{"instrument": "BTC-PERPETUAL", "size": 0.31},
//!                {"instrument": "BTC-27MAR26-90000-C", "size": -5}]}
//! ```
//!
//! CSV: a header `instrument,size` and one position per line. A CSV carries no account data,
//! so [`PortfolioDefaults`] supplies it (the CLI fills it from flags): `account` defaults to
//! the file stem, `currency` to the underlying of the first position, `equity` to 0.
//!
//! Rules: `currency` is an upper-case coin code; `equity` is finite (it may be zero or
//! negative: an underwater account is a valid input to a margin check) and 0 or at least
//! [`super::MIN_ABS_EQUITY`] (1e-12) in magnitude, since dust equity such as `1e-320` makes the
//! margin ratio infinite; sizes are in coins of the underlying, signed (negative = short),
//! finite with [`super::MIN_ABS_SIZE`] (1e-9) ≤ |size| ≤ [`super::MAX_ABS_SIZE`] (1e9) — a size
//! of 0, or one that underflows to 0 such as `1e-400`, is an error, not an empty position;
//! each instrument appears once. The account's own coin (`BTC` in a BTC account) is its
//! collateral: it belongs in `equity`, and as a position it is an error (it has no P&L in its
//! own coin, so a short of it would get IM 0 without reducing equity). Unknown JSON fields,
//! arrays where objects are meant, and a CSV header naming `instrument` or `size` twice are
//! errors.

use super::error::{FormatError, FormatErrorKind, Location};
use super::market::Ordered;
use super::{Ctx, Object, cell, csv_error};
use crate::instrument::{Asset, Instrument};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// One holding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// The contract.
    pub instrument: Instrument,
    /// Signed size in coins of the underlying (negative = short).
    pub size: f64,
}

/// An account's positions, with the equity that backs them.
#[derive(Debug, Clone, PartialEq)]
pub struct Portfolio {
    /// Account identifier (free text).
    pub account: String,
    /// Margin currency of the account, e.g. `BTC`.
    pub currency: Asset,
    /// Account equity in `currency`.
    pub equity: f64,
    /// Positions, in file order, each instrument once.
    pub positions: Vec<Position>,
}

/// Account data for a CSV portfolio, which has only positions. `None` fields take the
/// documented defaults (file stem, first position's underlying, 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortfolioDefaults {
    /// Account identifier.
    pub account: Option<String>,
    /// Margin currency.
    pub currency: Option<Asset>,
    /// Equity in the margin currency.
    pub equity: Option<f64>,
}

/// The JSON form, read and written. Strings borrow from the text where they need no
/// unescaping (reading is hot in batch runs).
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RawPortfolio<'a> {
    #[serde(borrow)]
    account: Cow<'a, str>,
    #[serde(borrow)]
    currency: Cow<'a, str>,
    equity: f64,
    #[serde(borrow)]
    positions: Vec<Object<RawPosition<'a>>>,
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RawPosition<'a> {
    #[serde(borrow)]
    instrument: Cow<'a, str>,
    size: f64,
}

/// Up to this many positions a repeated instrument is found by a scan (no allocation, the
/// usual account); beyond, in a sorted set.
const SCAN_LIMIT: usize = 32;

/// Appends a position, rejecting a repeated instrument: a scan of the first [`SCAN_LIMIT`],
/// then a look-up in `seen` (the instruments appended so far), so O(n log n) in all;
/// `at` is called only on error.
fn push_unique(
    ctx: &Ctx<'_>,
    positions: &mut Vec<Position>,
    seen: &mut BTreeSet<Ordered>,
    p: Position,
    at: impl FnOnce() -> Location,
) -> Result<(), FormatError> {
    let repeated = if positions.len() < SCAN_LIMIT {
        positions.iter().any(|q| q.instrument == p.instrument)
    } else {
        if seen.is_empty() {
            seen.extend(positions.iter().map(|q| Ordered(q.instrument)));
        }
        !seen.insert(Ordered(p.instrument))
    };
    if repeated {
        return Err(ctx.err(
            &at(),
            FormatErrorKind::Duplicate {
                what: "position",
                key: p.instrument.to_string(),
            },
        ));
    }
    positions.push(p);
    Ok(())
}

/// The error for a position in the account's own coin (see the module docs), or `None`.
fn own_coin(currency: Asset, p: &Position) -> Option<FormatErrorKind> {
    (p.instrument.kind == crate::instrument::Kind::Spot
        && p.instrument.is_inverse()
        && p.instrument.underlying == currency)
        .then(|| {
            FormatErrorKind::Unsupported(format!(
                "`{currency}` is the account's own coin: it is collateral, so put it in \
                 `equity` (held as a position it has no P&L in {currency} and would get IM 0)"
            ))
        })
}

/// Parses portfolio JSON (see the module docs); `file` names the source in errors.
///
/// Hot in batch runs: strings are borrowed from `text` where they need no unescaping, and
/// error locations are formatted only when there is an error.
pub fn parse_portfolio_json(text: &str, file: &Path) -> Result<Portfolio, FormatError> {
    let ctx = Ctx { file };
    let Object(raw): Object<RawPortfolio<'_>> = super::from_json(text, file)?;
    let currency = ctx.asset(&raw.currency, &Location::Path("currency".into()))?;
    let equity = ctx.equity(raw.equity, &Location::Path("equity".into()))?;
    let mut positions: Vec<Position> = Vec::with_capacity(raw.positions.len());
    let mut seen = BTreeSet::new();
    for (i, Object(p)) in raw.positions.iter().enumerate() {
        let instrument = match Instrument::parse(p.instrument.trim()) {
            Ok(instrument) => instrument,
            Err(_) => ctx.symbol(
                &p.instrument,
                &Location::Path(format!("positions[{i}].instrument")),
            )?,
        };
        let size = ctx.size(p.size, || Location::Path(format!("positions[{i}].size")))?;
        let position = Position { instrument, size };
        if let Some(kind) = own_coin(currency, &position) {
            return Err(ctx.err(&Location::Path(format!("positions[{i}].instrument")), kind));
        }
        push_unique(&ctx, &mut positions, &mut seen, position, || {
            Location::Path(format!("positions[{i}]"))
        })?;
    }
    Ok(Portfolio {
        account: raw.account.into_owned(),
        currency,
        equity,
        positions,
    })
}

/// Parses a portfolio CSV with header `instrument,size` (extra columns are ignored), taking
/// account data from `defaults` (see the module docs).
pub fn parse_portfolio_csv(
    text: &str,
    file: &Path,
    defaults: &PortfolioDefaults,
) -> Result<Portfolio, FormatError> {
    let ctx = Ctx { file };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(file, &e))?.clone();
    let [c_inst, c_size] = super::columns(&ctx, &headers, ["instrument", "size"])?;
    let mut positions = Vec::new();
    let mut seen = BTreeSet::new();
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let instrument = ctx.symbol(record.get(c_inst).unwrap_or(""), &cell(line, "instrument"))?;
        let at = cell(line, "size");
        let size = ctx.size(ctx.number(record.get(c_size).unwrap_or(""), &at)?, || at)?;
        let p = Position { instrument, size };
        push_unique(&ctx, &mut positions, &mut seen, p, || Location::Line {
            line,
            column: None,
        })?;
        lines.push(line);
    }
    let currency = match (defaults.currency, positions.first()) {
        (Some(c), _) => c,
        (None, Some(p)) => p.instrument.underlying,
        (None, None) => {
            return Err(ctx.err(
                &Location::File,
                FormatErrorKind::Missing(
                    "currency (no positions to take it from; pass it explicitly)",
                ),
            ));
        }
    };
    for (p, &line) in positions.iter().zip(&lines) {
        if let Some(kind) = own_coin(currency, p) {
            return Err(ctx.err(&cell(line, "instrument"), kind));
        }
    }
    let equity = ctx.equity(defaults.equity.unwrap_or(0.0), &Location::File)?;
    let account = defaults.account.clone().unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    Ok(Portfolio {
        account,
        currency,
        equity,
        positions,
    })
}

/// Writes `portfolio` as pretty JSON that [`parse_portfolio_json`] reads back equal.
pub fn write_portfolio_json(portfolio: &Portfolio) -> String {
    // Plain strings and finite floats: serialisation cannot fail.
    serde_json::to_string_pretty(&Object(raw(portfolio))).unwrap_or_default()
}

/// [`write_portfolio_json`] on one line: a record of a batch (JSONL) input.
pub fn write_portfolio_json_line(portfolio: &Portfolio) -> String {
    serde_json::to_string(&Object(raw(portfolio))).unwrap_or_default()
}

fn raw(portfolio: &Portfolio) -> RawPortfolio<'_> {
    RawPortfolio {
        account: Cow::Borrowed(&portfolio.account),
        currency: Cow::Borrowed(portfolio.currency.as_str()),
        equity: portfolio.equity,
        positions: portfolio
            .positions
            .iter()
            .map(|p| {
                Object(RawPosition {
                    instrument: Cow::Owned(p.instrument.to_string()),
                    size: p.size,
                })
            })
            .collect(),
    }
}

/// Writes the positions of `portfolio` as `instrument,size` CSV (account data is not part of
/// the CSV form). Sizes use Rust's shortest round-trip float formatting.
pub fn write_portfolio_csv(portfolio: &Portfolio) -> String {
    let mut out = String::from("instrument,size\n");
    for p in &portfolio.positions {
        let _ = writeln!(out, "{},{}", p.instrument, p.size);
    }
    out
}
