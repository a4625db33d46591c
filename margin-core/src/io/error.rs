//! The one error type of every file reader: which file, where in it, and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (e.g. it could not be opened, or a whole-file check failed).
    File,
    /// A 1-based line of a CSV file, optionally with the column name.
    Line {
        /// 1-based line number (the header is line 1).
        line: u64,
        /// Column name, when one column is at fault.
        column: Option<String>,
    },
    /// A JSON path such as `underlyings.BTC.forwards["2026-09-25T08:00:00Z"]`.
    Path(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line { line, column: None } => write!(f, "line {line}: "),
            Location::Line {
                line,
                column: Some(c),
            } => write!(f, "line {line}, column `{c}`: "),
            Location::Path(p) => write!(f, "`{p}`: "),
        }
    }
}

/// What was wrong.
#[derive(Debug, thiserror::Error)]
pub enum FormatErrorKind {
    /// The file could not be read.
    #[error("cannot read file: {0}")]
    Io(#[source] std::io::Error),
    /// The text is not valid JSON, or a JSON value has the wrong type or a missing/unknown field
    /// (serde's message, which names the field and the line/column).
    #[error("malformed JSON: {0}")]
    Json(String),
    /// The text is not valid CSV (ragged rows, bad UTF-8, ...).
    #[error("malformed CSV: {0}")]
    Csv(String),
    /// The format could not be recognised from the extension or the content.
    #[error("unrecognised format: {0}")]
    UnknownFormat(String),
    /// A required CSV column or JSON field is absent or empty.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A cell that must be a number is not one.
    #[error("expected a number, found `{0}`")]
    NotANumber(String),
    /// A number that must be finite is NaN or infinite.
    #[error("{0} must be a finite number")]
    NonFinite(&'static str),
    /// A number that must be strictly positive is zero or negative.
    #[error("{what} must be positive, found {value}")]
    NonPositive {
        /// Which quantity.
        what: &'static str,
        /// The value found.
        value: f64,
    },
    /// A number that must be zero or more is negative.
    #[error("{what} must not be negative, found {value}")]
    Negative {
        /// Which quantity.
        what: &'static str,
        /// The value found.
        value: f64,
    },
    /// A position size is non-finite, larger in magnitude than [`super::MAX_ABS_SIZE`] or
    /// smaller than [`super::MIN_ABS_SIZE`] (0, or a literal that underflows to 0).
    #[error(
        "absurd position size {0} (expected a finite number with 1e-9 <= |size| <= 1e9; leave \
         out a position of 0)"
    )]
    AbsurdSize(f64),
    /// A timestamp is not ISO-8601 UTC.
    #[error("bad timestamp `{0}` (expected ISO-8601 UTC, e.g. 2026-08-22T15:33:51Z)")]
    BadTime(String),
    /// A symbol could not be parsed.
    #[error("bad instrument symbol `{symbol}`: {error}")]
    BadSymbol {
        /// The text found.
        symbol: String,
        /// Why the core rejected it.
        error: crate::Error,
    },
    /// An asset code is not upper-case letters/digits, or names a coin the market has no data for.
    #[error("unknown currency `{0}` (expected an upper-case coin code the market lists)")]
    UnknownCurrency(String),
    /// The same key appears twice (position, forward, vol, instrument or underlying).
    #[error("duplicate {what} `{key}`")]
    Duplicate {
        /// What kind of entry.
        what: &'static str,
        /// The repeated key.
        key: String,
    },
    /// Two entries that must agree do not (e.g. a future's mark and the forward of its expiry).
    #[error("{0}")]
    Conflict(String),
    /// The entry is well-formed but not allowed here (e.g. a spot symbol in a market's instruments).
    #[error("{0}")]
    Unsupported(String),
    /// A daily history skips calendar days.
    #[error("missing days: {found} follows {previous} (dates must be consecutive calendar days)")]
    DateGap {
        /// The date on the line before.
        previous: String,
        /// The date found.
        found: String,
    },
    /// A date of a daily history is earlier than the one on the line before.
    #[error("date {found} is before {previous} (dates must be increasing)")]
    DateOrder {
        /// The date on the line before.
        previous: String,
        /// The date found.
        found: String,
    },
    /// The assembled market failed the core's validation.
    #[error("invalid market: {0}")]
    Market(crate::Error),
    /// A market number is valid but outside the plausibility bounds (`io::market` docs).
    #[error(
        "implausible {what} {} (expected {expected}; set `allow_implausible` / pass \
         --allow-implausible-market if this is really meant)",
        short(*.value)
    )]
    Implausible {
        /// Which quantity.
        what: &'static str,
        /// The value found.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
}

/// `x` in plain decimal when that is short, else in scientific notation (`1e300`).
fn short(x: f64) -> String {
    if x == 0.0 || (1e-4..1e15).contains(&x.abs()) {
        x.to_string()
    } else {
        format!("{x:e}")
    }
}

/// A file could not be read as the expected format. Display gives one line:
/// `FILE: LOCATION: what was wrong`.
#[derive(Debug)]
pub struct FormatError {
    /// The file being read (`<memory>` for in-memory text).
    pub file: PathBuf,
    /// Where in the file.
    pub location: Location,
    /// What was wrong.
    pub kind: FormatErrorKind,
}

impl FormatError {
    /// An error at `location` of `file`.
    pub fn new(file: &Path, location: Location, kind: FormatErrorKind) -> Self {
        FormatError {
            file: file.to_path_buf(),
            location,
            kind,
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}{}", self.file.display(), self.location, self.kind)
    }
}

impl std::error::Error for FormatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            FormatErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}
