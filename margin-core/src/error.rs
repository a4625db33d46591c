//! The one error type of the core: a small `Copy` enum that names what was wrong and where.

use core::fmt;

/// Why a symbol could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolError {
    /// The symbol is empty.
    Empty,
    /// The underlying (before `-` or `_`) is empty, too long, or not upper-case ASCII letters/digits.
    BadUnderlying,
    /// The quote currency after `_` is empty, too long, or not upper-case ASCII.
    BadQuote,
    /// The expiry is not `DMMMYY` (e.g. `27MAR26`) or names a day that does not exist.
    BadExpiry,
    /// The strike is not a positive decimal (`90000`, `142d5`).
    BadStrike,
    /// The option right is not `C` or `P`.
    BadRight,
    /// The symbol has the wrong number of `-` separated parts.
    BadShape,
    /// A linear contract is quoted in a currency the engine does not model: linear values are
    /// taken as USD, so the quote must be one of [`crate::instrument::USD_STABLECOINS`].
    UnsupportedQuote,
}

/// Every failure the core reports. Each variant carries enough to find the offending input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Error {
    /// A symbol could not be parsed.
    Symbol(SymbolError),
    /// A timestamp or date string could not be parsed, or is out of range.
    BadTime,
    /// A number that must be finite is NaN or infinite.
    NonFinite {
        /// Which quantity.
        what: &'static str,
    },
    /// A number that must be strictly positive is zero or negative.
    NonPositive {
        /// Which quantity.
        what: &'static str,
        /// The value found.
        value: f64,
    },
    /// The market snapshot has no data for this underlying.
    UnknownUnderlying,
    /// The market snapshot has no forward for this expiry (milliseconds since the epoch).
    MissingForward {
        /// Expiry in milliseconds since the Unix epoch.
        expiry_ms: i64,
    },
    /// The market snapshot has no implied volatility for this option.
    MissingVol {
        /// Expiry in milliseconds since the Unix epoch.
        expiry_ms: i64,
        /// Strike of the option.
        strike: f64,
    },
    /// The instrument expired at or before the valuation time and cannot be held in a margin run.
    Expired {
        /// Expiry in milliseconds since the Unix epoch.
        expiry_ms: i64,
    },
    /// Entries of a list that must be strictly increasing are out of order or repeated.
    Unsorted {
        /// Which list.
        what: &'static str,
        /// Index of the first entry out of order.
        index: usize,
    },
    /// The same key appears twice where it must be unique.
    Duplicate {
        /// Which list.
        what: &'static str,
        /// Index of the second occurrence.
        index: usize,
    },
    /// Caller-provided storage is too small.
    Capacity {
        /// Entries needed.
        needed: usize,
        /// Entries available.
        available: usize,
    },
    /// A computation produced a non-finite result from finite inputs (overflow).
    Overflow {
        /// Which quantity.
        what: &'static str,
    },
    /// A number lies outside its allowed range (e.g. a count that must be a whole number).
    OutOfRange {
        /// Which quantity.
        what: &'static str,
        /// The value found.
        value: f64,
    },
    /// No built-in preset has this name.
    UnknownPreset,
    /// The model has no parameter of this name.
    UnknownParameter,
    /// A position's size is non-finite, or absurdly large (|size| > 1e9).
    SizeOutOfRange {
        /// Index of the position.
        index: usize,
        /// The size found.
        size: f64,
    },
    /// A position refers to an instrument index the risk arrays do not hold.
    UnknownInstrument {
        /// Index of the position.
        index: usize,
    },
    /// A position settles in a currency other than the account's.
    CurrencyMismatch {
        /// Index of the position.
        index: usize,
    },
    /// An entry of an input array is NaN or infinite.
    NonFiniteAt {
        /// Which array.
        what: &'static str,
        /// Index of the entry.
        index: usize,
    },
    /// An entry of an input array that must be strictly positive is zero or negative.
    NonPositiveAt {
        /// Which array.
        what: &'static str,
        /// Index of the entry.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// Too few equally likely scenarios for a tail measure at this confidence: the tail
    /// `N·(1 − c)` would hold less than one scenario.
    TooFewScenarios {
        /// Smallest number of scenarios that supports the confidence.
        needed: usize,
        /// Number of scenarios given.
        available: usize,
    },
    /// A matrix that must be symmetric positive definite is not (numerically): its Cholesky
    /// pivot at this row is not positive, or not finite.
    NotPositiveDefinite {
        /// Row (and column) of the failing pivot.
        index: usize,
    },
}

impl From<SymbolError> for Error {
    fn from(e: SymbolError) -> Self {
        Error::Symbol(e)
    }
}

impl fmt::Display for SymbolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SymbolError::Empty => "empty symbol",
            SymbolError::BadUnderlying => "bad underlying (expected upper-case letters, e.g. BTC)",
            SymbolError::BadQuote => "bad quote currency (expected e.g. USDC)",
            SymbolError::BadExpiry => "bad expiry (expected DMMMYY, e.g. 27MAR26)",
            SymbolError::BadStrike => {
                "bad strike (expected a positive number, e.g. 90000 or 142d5)"
            }
            SymbolError::BadRight => "bad option right (expected C or P)",
            SymbolError::BadShape => {
                "bad shape (expected BTC-PERPETUAL, BTC-27MAR26 or BTC-27MAR26-90000-C)"
            }
            SymbolError::UnsupportedQuote => {
                "unsupported quote currency (a linear contract must be quoted in a USD \
                 stablecoin the engine supports: USDC or USDT; coin-quoted contracts such as \
                 BTC_BTC-PERPETUAL or ETH_BTC-... are not modelled)"
            }
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Symbol(e) => write!(f, "invalid symbol: {e}"),
            Error::BadTime => {
                f.write_str("invalid time (expected ISO-8601 UTC, e.g. 2026-08-22T15:33:51Z)")
            }
            Error::NonFinite { what } => write!(f, "{what} is not a finite number"),
            Error::NonPositive { what, value } => write!(f, "{what} must be positive, got {value}"),
            Error::UnknownUnderlying => f.write_str("no market data for this underlying"),
            Error::MissingForward { expiry_ms } => {
                write!(
                    f,
                    "no forward for expiry {}",
                    crate::time::Timestamp(expiry_ms)
                )
            }
            Error::MissingVol { expiry_ms, strike } => write!(
                f,
                "no implied volatility for strike {strike} expiring {}",
                crate::time::Timestamp(expiry_ms)
            ),
            Error::Expired { expiry_ms } => {
                write!(
                    f,
                    "instrument expired at {}",
                    crate::time::Timestamp(expiry_ms)
                )
            }
            Error::Unsorted { what, index } => {
                write!(
                    f,
                    "{what} must be strictly increasing; entry {index} is out of order"
                )
            }
            Error::Duplicate { what, index } => write!(f, "{what}: entry {index} is a duplicate"),
            Error::Capacity { needed, available } => {
                write!(f, "buffer too small: need {needed}, have {available}")
            }
            Error::Overflow { what } => write!(f, "{what} overflowed to a non-finite value"),
            Error::OutOfRange { what, value } => write!(f, "{what} is out of range: {value}"),
            Error::UnknownPreset => f.write_str(
                "unknown preset (expected deribit-btc, deribit-eth, deribit-usdc, span16 or grid)",
            ),
            Error::UnknownParameter => f.write_str("unknown model parameter"),
            Error::SizeOutOfRange { index, size } => {
                write!(
                    f,
                    "position {index}: size {size} is not a finite number of at most 1e9 units"
                )
            }
            Error::UnknownInstrument { index } => write!(f, "position {index}: unknown instrument"),
            Error::CurrencyMismatch { index } => {
                write!(
                    f,
                    "position {index}: instrument does not settle in the account currency"
                )
            }
            Error::NonFiniteAt { what, index } => {
                write!(f, "{what} at index {index} is not a finite number")
            }
            Error::NonPositiveAt { what, index, value } => {
                write!(f, "{what} at index {index} must be positive, got {value}")
            }
            Error::TooFewScenarios { needed, available } => write!(
                f,
                "too few scenarios for this confidence: {available} given, at least {needed} needed"
            ),
            Error::NotPositiveDefinite { index } => {
                write!(f, "matrix is not positive definite (pivot {index})")
            }
        }
    }
}

impl core::error::Error for Error {}
impl core::error::Error for SymbolError {}

/// Returns `x` if finite, else [`Error::NonFinite`].
pub(crate) fn finite(x: f64, what: &'static str) -> Result<f64, Error> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Error::NonFinite { what })
    }
}

/// Returns `x` if finite and strictly positive.
pub(crate) fn positive(x: f64, what: &'static str) -> Result<f64, Error> {
    let x = finite(x, what)?;
    if x > 0.0 {
        Ok(x)
    } else {
        Err(Error::NonPositive { what, value: x })
    }
}
