//! Status codes returned by every fallible C function, and their messages.

use crate::engine::{BuildError, EngineError, NoRow};
use margin_core::Error;
use margin_core::io::engine::UnpricedInstrument;
use margin_opt::joint;
use margin_opt::var::VarError;
use std::ffi::CStr;

/// The result of a C call. `MARGIN_STATUS_OK` is 0; every other value is an error and means
/// that no output was written. Values received from C are taken as integers and checked.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum margin_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullPointer = 1,
    /// An argument is invalid: an enum integer out of range, text that is not UTF-8, a NUL
    /// inside a length-delimited string.
    InvalidArgument = 2,
    /// The market or price-history text is malformed JSON/CSV or breaks a rule of its format,
    /// or a history file cannot be read.
    BadFormat = 3,
    /// A symbol could not be parsed.
    BadSymbol = 4,
    /// A time could not be parsed or is out of range.
    BadTime = 5,
    /// A number is NaN, infinite, not positive where it must be, or out of its range.
    BadNumber = 6,
    /// The market has no data (underlying, forward or vol) for an instrument.
    MissingMarketData = 7,
    /// An instrument expired at or before the valuation time.
    Expired = 8,
    /// Forwards or vols are not strictly increasing.
    Unsorted = 9,
    /// A key that must be unique appears twice.
    Duplicate = 10,
    /// A capacity is exceeded (caller buffer too small, too many underlyings or positions).
    Capacity = 11,
    /// A computation overflowed to a non-finite value.
    Overflow = 12,
    /// No preset has this name.
    UnknownPreset = 13,
    /// The model has no parameter of this name.
    UnknownParameter = 14,
    /// A position size is non-finite or larger than 1e9 units.
    BadSize = 15,
    /// An instrument id or symbol is not known to the engine.
    UnknownInstrument = 16,
    /// An instrument does not settle in the account currency.
    CurrencyMismatch = 17,
    /// No margin has been computed since the account last changed.
    NotComputed = 18,
    /// An index is past the end of what it indexes.
    OutOfRange = 19,
    /// A bug: the library panicked. The call had no effect; please report it.
    Panic = 20,
}

/// Every status, in value order (for tests and for `margin_status_message`).
pub const ALL: [margin_status; 21] = {
    use margin_status::*;
    [
        Ok,
        NullPointer,
        InvalidArgument,
        BadFormat,
        BadSymbol,
        BadTime,
        BadNumber,
        MissingMarketData,
        Expired,
        Unsorted,
        Duplicate,
        Capacity,
        Overflow,
        UnknownPreset,
        UnknownParameter,
        BadSize,
        UnknownInstrument,
        CurrencyMismatch,
        NotComputed,
        OutOfRange,
        Panic,
    ]
};

impl margin_status {
    /// The status with integer value `v`, if any.
    pub fn from_int(v: i32) -> Option<margin_status> {
        usize::try_from(v).ok().and_then(|i| ALL.get(i).copied())
    }

    /// A static, NUL-terminated English message.
    pub fn message(self) -> &'static CStr {
        use margin_status::*;
        match self {
            Ok => c"success",
            NullPointer => c"a required pointer argument was NULL",
            InvalidArgument => {
                c"invalid argument (enum value out of range, or text that is not UTF-8)"
            }
            BadFormat => {
                c"market or history text is malformed, unreadable, or breaks a rule of its format"
            }
            BadSymbol => c"invalid instrument symbol",
            BadTime => c"invalid or out-of-range time",
            BadNumber => c"a number is not finite, not positive, or out of range",
            MissingMarketData => c"the market has no forward, vol or underlying for an instrument",
            Expired => c"an instrument expired at or before the valuation time",
            Unsorted => c"forwards or vols are not strictly increasing",
            Duplicate => c"a key that must be unique appears twice",
            Capacity => c"a capacity is exceeded (buffer too small or too many entries)",
            Overflow => c"a computation overflowed",
            UnknownPreset => {
                c"unknown model preset (deribit-btc, deribit-eth, deribit-usdc, span16, grid; with a price \
                  history: hs-es, fhs-es, mc-es, parametric-var)"
            }
            UnknownParameter => c"unknown model parameter",
            BadSize => c"position size is not finite or exceeds 1e9 units",
            UnknownInstrument => c"instrument id or symbol unknown to the engine",
            CurrencyMismatch => c"instrument does not settle in the account currency",
            NotComputed => c"no margin computed since the account last changed",
            OutOfRange => c"index out of range",
            Panic => c"internal error (panic caught at the C boundary); please report it",
        }
    }
}

impl From<Error> for margin_status {
    fn from(e: Error) -> Self {
        use margin_status::*;
        match e {
            Error::Symbol(_) => BadSymbol,
            Error::BadTime => BadTime,
            Error::NonFinite { .. }
            | Error::NonPositive { .. }
            | Error::OutOfRange { .. }
            | Error::NonFiniteAt { .. }
            | Error::NonPositiveAt { .. }
            | Error::TooFewScenarios { .. }
            | Error::NotPositiveDefinite { .. } => BadNumber,
            Error::UnknownUnderlying | Error::MissingForward { .. } | Error::MissingVol { .. } => {
                MissingMarketData
            }
            Error::Expired { .. } => Expired,
            Error::Unsorted { .. } => Unsorted,
            Error::Duplicate { .. } => Duplicate,
            Error::Capacity { .. } => Capacity,
            Error::Overflow { .. } => Overflow,
            Error::UnknownPreset => UnknownPreset,
            Error::UnknownParameter => UnknownParameter,
            Error::SizeOutOfRange { .. } => BadSize,
            Error::UnknownInstrument { .. } => UnknownInstrument,
            Error::CurrencyMismatch { .. } => CurrencyMismatch,
        }
    }
}

impl From<BuildError> for margin_status {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Core(e) => e.into(),
            BuildError::Instrument(e) => e.error.into(),
        }
    }
}

impl From<EngineError> for margin_status {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Format(_) => margin_status::BadFormat,
            EngineError::Build(e) => e.into(),
            EngineError::History(_) => margin_status::InvalidArgument,
            EngineError::Scenarios { error, .. } => match error {
                joint::EngineError::NotStatistical => margin_status::InvalidArgument,
                joint::EngineError::Scenarios(VarError::Input(e)) => e.into(),
                joint::EngineError::Scenarios(VarError::Position(p)) => p.error.into(),
            },
        }
    }
}

/// A failed call: its status and, when there is more to say, the detail that
/// `margin_last_error_message` reports.
#[derive(Debug)]
pub struct Failure {
    /// The status returned to C.
    pub status: margin_status,
    /// The detail kept for this thread.
    pub detail: Detail,
}

/// What went wrong, beyond the status. Core errors are kept as values (they are `Copy`), so
/// a failing hot-path call does not allocate; text is formatted only when asked for.
#[derive(Debug, Clone)]
pub enum Detail {
    /// Nothing beyond the status message.
    None,
    /// A core error, with the index or value it names.
    Core(Error),
    /// A formatted message (format errors name the JSON path or CSV line).
    Text(String),
    /// A fixed message (for paths that must not allocate).
    Static(&'static str),
    /// An instrument the market cannot price, with the reason.
    Unpriced(UnpricedInstrument),
}

thread_local! {
    static LAST: std::cell::RefCell<Option<(margin_status, Detail)>> =
        const { std::cell::RefCell::new(None) };
}

impl Failure {
    /// Keeps this failure as the thread's last error and returns its status.
    pub fn record(self) -> margin_status {
        LAST.with(|l| *l.borrow_mut() = Some((self.status, self.detail)));
        self.status
    }
}

/// The message of this thread's last failed call: status message plus detail, or `None` if no
/// call failed on this thread yet.
pub fn last_error_message() -> Option<String> {
    LAST.with(|l| {
        l.borrow().as_ref().map(|(status, detail)| {
            let head = status.message().to_string_lossy();
            match detail {
                Detail::None => head.into_owned(),
                Detail::Core(e) => format!("{head}: {e}"),
                Detail::Text(t) => format!("{head}: {t}"),
                Detail::Static(t) => format!("{head}: {t}"),
                Detail::Unpriced(u) => format!("{head}: {u}"),
            }
        })
    })
}

impl From<margin_status> for Failure {
    fn from(status: margin_status) -> Self {
        Failure {
            status,
            detail: Detail::None,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            status: e.into(),
            detail: Detail::Core(e),
        }
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        let detail = match &e {
            EngineError::Format(f) => Detail::Text(f.to_string()),
            EngineError::Build(BuildError::Core(c)) => Detail::Core(*c),
            EngineError::Build(BuildError::Instrument(i)) => Detail::Text(i.to_string()),
            EngineError::History(t) => Detail::Text(t.clone()),
            EngineError::Scenarios { model, error } => Detail::Text(format!("{model}: {error}")),
        };
        Failure {
            status: e.into(),
            detail,
        }
    }
}

impl From<NoRow> for Failure {
    /// Every missing row is `UnknownInstrument`; the detail says why.
    fn from(e: NoRow) -> Self {
        Failure {
            status: margin_status::UnknownInstrument,
            detail: match e {
                NoRow::Symbol(e) => Detail::Core(e),
                NoRow::Unpriced(u) => Detail::Unpriced(u),
                NoRow::NotListed => Detail::None,
            },
        }
    }
}
