//! Every `extern "C"` function and every C-facing type. All raw pointers from C are read here,
//! each one null-checked; arrays cross as (pointer, length); outputs are written only on
//! success; every body runs inside `ffi_guard!`, so no panic crosses the boundary.
#![allow(unsafe_code, non_camel_case_types)]

use crate::account::AccountState;
use crate::engine::{self, Engine};
use crate::status::{self, Detail, Failure, margin_status};
use margin_core::account::{self as core_account, Account, MAX_UNDERLYINGS, Margin, Status};
use margin_core::io::{MarketData, PriceHistory, UnderlyingData};
use margin_core::market::{Forward, MarketSnapshot, PricingInputs, UnderlyingMarket, VolQuote};
use margin_core::model::MAX_SCENARIOS;
use margin_core::pricing;
use margin_core::pricing::Valuation;
use margin_core::risk::Position;
use margin_core::risk::{RiskArrays, RiskStorage};
use margin_core::scenario::ScenarioKind;
use margin_core::scenario::ScenarioSet;
use margin_core::{Asset, Error, Instrument, Right, Timestamp};
use std::ffi::{CStr, c_char};
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::Arc;

/// Runs a body returning `Result<(), Failure>` and turns it, or a panic, into a status; a
/// failure is kept as the thread's last error (`margin_last_error_message`).
macro_rules! ffi_guard {
    ($body:block) => {{
        let run = AssertUnwindSafe(|| -> Result<(), Failure> { $body });
        match catch_unwind(run) {
            Ok(Ok(())) => margin_status::Ok,
            Ok(Err(failure)) => failure.record(),
            Err(_) => Failure::from(margin_status::Panic).record(),
        }
    }};
}

/// An immutable engine: market snapshot, model, scenarios and the risk arrays of every
/// instrument. Thread safety: safe to share across threads (every function taking a
/// `const margin_engine *` may run concurrently); free it once, from any thread, after the
/// last call that uses it. Accounts keep their engine alive, so accounts may outlive it.
pub struct margin_engine {
    inner: Arc<Engine>,
}

/// Daily closes of one or more coins on common dates: the price history a statistical model
/// (`hs-es`, `fhs-es`, `mc-es`, `parametric-var`) builds its joint scenarios from. Immutable;
/// any number of threads may read one. An engine copies what it needs when built, so the
/// history may be freed right after (or reused for the next engine).
pub struct margin_history {
    inner: PriceHistory,
}

/// An account (currency, equity, positions) on one engine. Thread safety: may move between
/// threads but must not be used by two threads at once (no internal locking).
pub struct margin_account {
    inner: AccountState,
}

/// A model parameter override: a parameter name as the venue names it (e.g. `mm_factor`) and
/// its value.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct margin_param {
    /// NUL-terminated parameter name.
    pub name: *const c_char,
    /// New value.
    pub value: f64,
}

/// The forward of one expiry.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct margin_forward {
    /// Expiry, milliseconds since the Unix epoch (years 0000 to 9999, else
    /// `MARGIN_STATUS_BAD_TIME`).
    pub expiry_ms: i64,
    /// Forward price, USD per coin.
    pub price: f64,
}

/// Option right, as integers in C structs and arguments: 0 call, 1 put.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum margin_right {
    /// Call.
    Call = 0,
    /// Put.
    Put = 1,
}

/// The implied vol of one option.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct margin_vol {
    /// Expiry, milliseconds since the Unix epoch (years 0000 to 9999, else
    /// `MARGIN_STATUS_BAD_TIME`).
    pub expiry_ms: i64,
    /// Strike, USD per coin.
    pub strike: f64,
    /// A `margin_right` value (0 call, 1 put); anything else is `MARGIN_STATUS_INVALID_ARGUMENT`.
    pub right: i32,
    /// Implied vol (0.45 = 45 %).
    pub vol: f64,
}

/// Market data of one coin. Forwards sorted by expiry, vols by (expiry, strike, right),
/// strictly increasing.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct margin_underlying {
    /// NUL-terminated coin code, e.g. `"BTC"`.
    pub asset: *const c_char,
    /// Spot index, USD per coin.
    pub index_price: f64,
    /// Perpetual mark, USD per coin.
    pub perpetual_price: f64,
    /// Continuously compounded rate (Deribit: 0).
    pub rate: f64,
    /// `forward_count` forwards (may be NULL when the count is 0).
    pub forwards: *const margin_forward,
    /// Number of forwards.
    pub forward_count: usize,
    /// `vol_count` vols (may be NULL when the count is 0).
    pub vols: *const margin_vol,
    /// Number of vols.
    pub vol_count: usize,
}

/// A market snapshot as plain arrays, for callers without JSON.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct margin_market {
    /// Valuation time, milliseconds since the Unix epoch (years 0000 to 9999, else
    /// `MARGIN_STATUS_BAD_TIME`: times near the `int64_t` limits would wrap times to expiry).
    pub valuation_time_ms: i64,
    /// `underlying_count` underlyings.
    pub underlyings: *const margin_underlying,
    /// Number of underlyings.
    pub underlying_count: usize,
    /// Optional instrument symbols that become the engine's rows, in this order. When
    /// `symbol_count` is 0, the rows are every inverse perpetual, future (one per forward) and
    /// option (one per vol) the market prices.
    pub symbols: *const *const c_char,
    /// Number of symbols.
    pub symbol_count: usize,
}

/// One position: an instrument id from `margin_engine_instrument_id` and a signed size in
/// units (coins for futures and perpetuals, contracts on one coin for options).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct margin_position {
    /// Instrument id (row of the engine).
    pub instrument: usize,
    /// Signed size; negative is short.
    pub size: f64,
}

/// One account of a batch.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct margin_batch_account {
    /// NUL-terminated account currency, e.g. `"BTC"`.
    pub currency: *const c_char,
    /// Equity in the account currency.
    pub equity: f64,
    /// `position_count` positions (may be NULL when the count is 0).
    pub positions: *const margin_position,
    /// Number of positions.
    pub position_count: usize,
}

/// Health of an account.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum margin_health {
    /// Equity covers initial margin.
    Healthy = 0,
    /// Equity is below initial margin.
    MarginCall = 1,
    /// Equity is below maintenance margin.
    Liquidation = 2,
}

/// A margin calculation, in the account currency. Caller-owned; written only on success.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct margin_result {
    /// Initial margin.
    pub initial_margin: f64,
    /// Maintenance margin.
    pub maintenance_margin: f64,
    /// Equity.
    pub equity: f64,
    /// Maintenance margin over equity; meaningful only when `has_margin_ratio`.
    pub margin_ratio: f64,
    /// False when equity is not positive (the ratio is then undefined and set to 0).
    pub has_margin_ratio: bool,
    /// Equity minus initial margin.
    pub free_collateral: f64,
    /// Healthy, margin call or liquidation.
    pub health: margin_health,
    /// Index of the scenario that set the requirement (see `margin_engine_scenario`; on a
    /// statistical engine, the joint scenario of the largest loss).
    pub worst_scenario: usize,
    /// Loss of the worst (aggregated, weighted) scenario cell.
    pub worst_loss: f64,
}

/// One scenario of the engine's model.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct margin_scenario {
    /// Relative price move applied to options (-0.16 = -16 %).
    pub price_move: f64,
    /// Relative price move applied to futures, perpetuals and spot.
    pub delta_one_move: f64,
    /// Signed vol shock (relative range for tenor-scaled shocks, absolute shift for SPAN).
    pub vol_shock: f64,
    /// Years of time decay.
    pub time_step: f64,
    /// Fraction of the scenario's loss that counts.
    pub weight: f64,
    /// True for tail (extended) scenarios.
    pub extended: bool,
}

/// Black-76 value and sensitivities (USD per coin units of forward and strike).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct margin_greeks {
    /// Option value.
    pub value: f64,
    /// dV/dF.
    pub delta: f64,
    /// d2V/dF2.
    pub gamma: f64,
    /// dV/dvol per 1.00 of vol.
    pub vega: f64,
    /// dV/dt per 365-day year.
    pub theta: f64,
}

// ---------------------------------------------------------------------------------------
// Reading C arguments.

/// `p` as a reference, or `NullPointer`.
///
/// SAFETY: a non-null `p` must point to a valid `T` for `'a`.
unsafe fn arg<'a, T>(p: *const T) -> Result<&'a T, margin_status> {
    // SAFETY: forwarded to the caller.
    unsafe { p.as_ref() }.ok_or(margin_status::NullPointer)
}

/// `p` as a mutable reference to a live Rust object (a handle), or `NullPointer`.
///
/// SAFETY: a non-null `p` must point to a valid, unaliased `T` for `'a`.
unsafe fn arg_mut<'a, T>(p: *mut T) -> Result<&'a mut T, margin_status> {
    // SAFETY: forwarded to the caller.
    unsafe { p.as_mut() }.ok_or(margin_status::NullPointer)
}

/// An output argument, or `NullPointer`. C may pass uninitialised memory, so it is seen as
/// `MaybeUninit` and only written (once, on success), never read.
///
/// SAFETY: a non-null `p` must point to writable memory for a `T`, unaliased, for `'a`.
unsafe fn out_arg<'a, T>(p: *mut T) -> Result<&'a mut MaybeUninit<T>, margin_status> {
    // SAFETY: forwarded to the caller; `MaybeUninit<T>` has `T`'s layout.
    unsafe { p.cast::<MaybeUninit<T>>().as_mut() }.ok_or(margin_status::NullPointer)
}

/// An output array `(p, n)`, seen as `MaybeUninit` like [`out_arg`]; NULL is accepted when `n`
/// is 0.
///
/// SAFETY: a non-null `p` must point to `n` writable `T`s, unaliased, for `'a`.
unsafe fn slice_out<'a, T>(p: *mut T, n: usize) -> Result<&'a mut [MaybeUninit<T>], margin_status> {
    count::<T>(n)?;
    if n == 0 {
        Ok(&mut [])
    } else if p.is_null() {
        Err(margin_status::NullPointer)
    } else {
        // SAFETY: forwarded to the caller; `MaybeUninit<T>` has `T`'s layout.
        Ok(unsafe { std::slice::from_raw_parts_mut(p.cast::<MaybeUninit<T>>(), n) })
    }
}

/// Caller workspace `(p, n)`, zero-filled first so that it is initialised whatever C passed.
///
/// SAFETY: as [`slice_out`].
unsafe fn zeroed_workspace<'a>(p: *mut f64, n: usize) -> Result<&'a mut [f64], margin_status> {
    count::<f64>(n)?;
    if n == 0 {
        Ok(&mut [])
    } else if p.is_null() {
        Err(margin_status::NullPointer)
    } else {
        // SAFETY: forwarded to the caller; after `write_bytes` every element is 0.0.
        unsafe {
            std::ptr::write_bytes(p, 0, n);
            Ok(std::slice::from_raw_parts_mut(p, n))
        }
    }
}

/// `n` if an array of `n` `T`s can exist at all (at most `isize::MAX` bytes), else
/// `InvalidArgument`: a count that no memory could hold is a bad argument, checked before
/// anything is read or allocated.
fn count<T>(n: usize) -> Result<usize, margin_status> {
    if n > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        Err(margin_status::InvalidArgument)
    } else {
        Ok(n)
    }
}

/// `(p, n)` as a slice; NULL is accepted when `n` is 0; an impossible `n` is
/// `InvalidArgument` (see [`count`]).
///
/// SAFETY: a non-null `p` must point to `n` valid `T`s for `'a`.
unsafe fn slice<'a, T>(p: *const T, n: usize) -> Result<&'a [T], margin_status> {
    count::<T>(n)?;
    if n == 0 {
        Ok(&[])
    } else if p.is_null() {
        Err(margin_status::NullPointer)
    } else {
        // SAFETY: forwarded to the caller.
        Ok(unsafe { std::slice::from_raw_parts(p, n) })
    }
}

/// A NUL-terminated UTF-8 string.
///
/// SAFETY: a non-null `p` must point to a NUL-terminated string valid for `'a`.
unsafe fn text<'a>(p: *const c_char) -> Result<&'a str, margin_status> {
    if p.is_null() {
        return Err(margin_status::NullPointer);
    }
    // SAFETY: forwarded to the caller.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| margin_status::InvalidArgument)
}

/// `(p, len)` bytes as UTF-8 text.
///
/// SAFETY: as [`slice`].
unsafe fn text_len<'a>(p: *const c_char, len: usize) -> Result<&'a str, margin_status> {
    // SAFETY: forwarded to the caller.
    let bytes = unsafe { slice(p.cast::<u8>(), len) }?;
    std::str::from_utf8(bytes).map_err(|_| margin_status::InvalidArgument)
}

/// An asset code.
fn asset(code: &str) -> Result<Asset, margin_status> {
    Asset::new(code).ok_or(margin_status::BadSymbol)
}

/// Copies `s` and a NUL into `buf[..len]` and its length (without NUL) into `out_len`.
///
/// SAFETY: as [`slice_out`] for `buf` and [`out_arg`] for `out_len`.
unsafe fn copy_text(
    s: &str,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    // SAFETY: forwarded to the caller.
    let out_len = unsafe { out_arg(out_len) }?;
    // SAFETY: forwarded to the caller.
    let buf = unsafe { slice_out(buf.cast::<u8>(), len) }?;
    if buf.len() <= s.len() {
        return Err(margin_status::Capacity.into());
    }
    for (dst, &b) in buf.iter_mut().zip(s.as_bytes()) {
        dst.write(b);
    }
    buf[s.len()].write(0);
    out_len.write(s.len());
    Ok(())
}

/// A model from a preset name and C overrides.
///
/// SAFETY: `name` NUL-terminated; `params` as [`slice`], each name NUL-terminated.
unsafe fn model(
    name: *const c_char,
    params: *const margin_param,
    param_count: usize,
) -> Result<margin_core::model::Model, margin_status> {
    // SAFETY: forwarded to the caller.
    let name = unsafe { text(name) }?;
    // SAFETY: forwarded to the caller.
    let params = unsafe { slice(params, param_count) }?;
    let mut overrides = Vec::new();
    for p in params {
        // SAFETY: forwarded to the caller.
        overrides.push((unsafe { text(p.name) }?, p.value));
    }
    Ok(engine::model(name, &overrides)?)
}

fn right(v: i32) -> Result<Right, margin_status> {
    match v {
        0 => Ok(Right::Call),
        1 => Ok(Right::Put),
        _ => Err(margin_status::InvalidArgument),
    }
}

fn forward(f: &margin_forward) -> Forward {
    Forward {
        expiry: Timestamp(f.expiry_ms),
        price: f.price,
    }
}

fn vol_quote(v: &margin_vol) -> Result<VolQuote, margin_status> {
    Ok(VolQuote {
        expiry: Timestamp(v.expiry_ms),
        strike: v.strike,
        right: right(v.right)?,
        vol: v.vol,
    })
}

/// The C form of a margin; a non-finite number in it is `MARGIN_STATUS_OVERFLOW`, never a
/// success (`finite_margin`).
fn result(m: &Margin) -> Result<margin_result, Error> {
    let m = margin_core::io::engine::finite_margin(m)?;
    Ok(margin_result {
        initial_margin: m.initial,
        maintenance_margin: m.maintenance,
        equity: m.equity,
        margin_ratio: m.margin_ratio.unwrap_or(0.0),
        has_margin_ratio: m.margin_ratio.is_some(),
        free_collateral: m.free_collateral,
        health: match m.status {
            Status::Healthy => margin_health::Healthy,
            Status::MarginCall => margin_health::MarginCall,
            Status::Liquidation => margin_health::Liquidation,
        },
        worst_scenario: m.worst.index,
        worst_loss: m.worst.loss,
    })
}

/// Hands a new engine to C.
///
/// SAFETY: `out` as [`out_arg`].
unsafe fn publish_engine(
    built: Result<Engine, engine::EngineError>,
    out: *mut *mut margin_engine,
) -> Result<(), Failure> {
    // SAFETY: forwarded to the caller.
    let out = unsafe { out_arg(out) }?;
    let engine = built?;
    out.write(Box::into_raw(Box::new(margin_engine {
        inner: Arc::new(engine),
    })));
    Ok(())
}

/// The body of every `margin_engine_new_from_*` that reads market text: `parse` builds the
/// engine from the text and the model.
///
/// SAFETY: pointers as the public functions document.
#[allow(clippy::too_many_arguments)]
unsafe fn engine_from_text(
    parse: Parse,
    text: *const c_char,
    len: usize,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    history: *const margin_history,
    out: *mut *mut margin_engine,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let text = unsafe { text_len(text, len) }?;
        // SAFETY: the caller's contract.
        let model = unsafe { model(model_name, params, param_count) }?;
        // SAFETY: the caller's contract (NULL is no history).
        let history = unsafe { history.as_ref() }.map(|h| &h.inner);
        // SAFETY: the caller's contract.
        unsafe { publish_engine(parse(text, model, history), out) }
    })
}

/// An engine constructor from market text.
type Parse = fn(
    &str,
    margin_core::model::Model,
    Option<&PriceHistory>,
) -> Result<Engine, engine::EngineError>;

// ---------------------------------------------------------------------------------------
// Version and status.

/// The library version (`MAJOR.MINOR.PATCH`, equal to `MARGIN_VERSION`), a static string.
#[unsafe(no_mangle)]
pub extern "C" fn margin_version() -> *const c_char {
    const V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    V.as_ptr()
}

/// A static, NUL-terminated message for a status value; unknown values get a message too.
#[unsafe(no_mangle)]
pub extern "C" fn margin_status_message(status: i32) -> *const c_char {
    match margin_status::from_int(status) {
        Some(s) => s.message().as_ptr(),
        None => c"unknown status value".as_ptr(),
    }
}

/// Copies the message of this thread's last failed call (status message plus detail, e.g. the
/// JSON path of a format error or the index of a bad position) and a NUL into `buf`, and its
/// length into `*out_len`; `MARGIN_STATUS_CAPACITY` if it does not fit (512 bytes almost always
/// do). Like `errno`, successful calls leave it unchanged. Before any failure on this thread the
/// message is `no error`.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> margin_status {
    // Not through `ffi_guard!`, so that asking for the message does not replace it.
    let run = AssertUnwindSafe(|| {
        let message = status::last_error_message().unwrap_or_else(|| "no error".to_string());
        // SAFETY: the caller's contract.
        match unsafe { copy_text(&message, buf, len, out_len) } {
            Ok(()) => margin_status::Ok,
            Err(f) => f.status,
        }
    });
    catch_unwind(run).unwrap_or(margin_status::Panic)
}

// ---------------------------------------------------------------------------------------
// Price history (statistical models).

/// Reads a price history from `count` files, each specified as `margin --history` takes it:
/// a wide CSV (`date,BTC,ETH` or `date,btc_close_usd,...`), `COIN=path` (a Yahoo-style OHLC
/// file of that coin, or that coin's column of a wide file), or an OHLC path named
/// `COIN-XXX.csv`. The coins are joined on the dates all files share (at least 2). A file
/// that cannot be read or breaks a rule is `MARGIN_STATUS_BAD_FORMAT`, and
/// `margin_last_error_message` names the file, line and column. On success `*out` owns the
/// history: free it with `margin_history_free`.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given; each spec NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_history_new_from_files(
    specs: *const *const c_char,
    count: usize,
    out: *mut *mut margin_history,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (raw, out) = unsafe { (slice(specs, count)?, out_arg(out)?) };
        if raw.is_empty() {
            return Err(Failure {
                status: margin_status::InvalidArgument,
                detail: Detail::Text("no history file given".to_string()),
            });
        }
        let mut list = Vec::new();
        for &s in raw {
            // SAFETY: the caller's contract.
            list.push(unsafe { text(s) }?.to_string());
        }
        let inner = PriceHistory::load(&list).map_err(format_failure)?;
        out.write(Box::into_raw(Box::new(margin_history { inner })));
        Ok(())
    })
}

/// Reads a price history from CSV text in memory (`len` bytes of UTF-8): a wide CSV
/// (`coin` NULL; the header names the coins), or a Yahoo-style OHLC CSV of coin `coin`
/// (e.g. `"BTC"`). Otherwise as `margin_history_new_from_files`.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_history_new_from_csv(
    csv: *const c_char,
    len: usize,
    coin: *const c_char,
    out: *mut *mut margin_history,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (csv, out) = unsafe { (text_len(csv, len)?, out_arg(out)?) };
        let coin = if coin.is_null() {
            None
        } else {
            // SAFETY: the caller's contract.
            Some(asset(unsafe { text(coin) }?)?)
        };
        let inner =
            margin_core::io::parse_history_csv(csv, std::path::Path::new("<history csv>"), coin)
                .map_err(format_failure)?;
        out.write(Box::into_raw(Box::new(margin_history { inner })));
        Ok(())
    })
}

/// The number of dates (`*out_dates`) and coins (`*out_coins`) of a history.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_history_size(
    history: *const margin_history,
    out_dates: *mut usize,
    out_coins: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (h, dates, coins) =
            unsafe { (arg(history)?, out_arg(out_dates)?, out_arg(out_coins)?) };
        dates.write(h.inner.len());
        coins.write(h.inner.coins().len());
        Ok(())
    })
}

/// Frees a history. NULL is a no-op. Engines built from it stay valid.
///
/// # Safety
/// `history` must be NULL or a pointer from a `margin_history_new*` call, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_history_free(history: *mut margin_history) {
    let _ = ffi_guard!({
        if !history.is_null() {
            // SAFETY: the caller's contract: the pointer came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(history) });
        }
        Ok(())
    });
}

/// A format error as a failure with its file, line and column.
fn format_failure(e: margin_core::io::FormatError) -> Failure {
    Failure {
        status: margin_status::BadFormat,
        detail: Detail::Text(e.to_string()),
    }
}

/// Whether the preset `model_name` is statistical (`hs-es`, `fhs-es`, `mc-es`,
/// `parametric-var`: its engine needs a price history, `margin_engine_new_*_with_history`)
/// or a grid (`false`: no history). Unknown names are `MARGIN_STATUS_UNKNOWN_PRESET`.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_model_is_statistical(
    model_name: *const c_char,
    out: *mut bool,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (name, out) = unsafe { (text(model_name)?, out_arg(out)?) };
        let model = margin_core::model::Model::preset(name)?;
        out.write(margin_opt::var::VarParams::of(&model).is_some());
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Engine.

/// Builds an engine from market JSON (`len` bytes of UTF-8; no NUL needed), a model preset
/// name (`deribit-btc`, `deribit-eth`, `span16`, `grid`) and `param_count` overrides. On
/// success `*out` owns the engine: free it with `margin_engine_free`. A statistical preset
/// (`hs-es`, `fhs-es`, `mc-es`, `parametric-var`) needs a price history:
/// `margin_engine_new_from_json_with_history` (here it is `MARGIN_STATUS_INVALID_ARGUMENT`).
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_new_from_json(
    json: *const c_char,
    len: usize,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    out: *mut *mut margin_engine,
) -> margin_status {
    // SAFETY: the caller's contract.
    unsafe {
        engine_from_text(
            Engine::from_json,
            json,
            len,
            model_name,
            params,
            param_count,
            ptr::null(),
            out,
        )
    }
}

/// Builds an engine from a Deribit option-chain CSV (the bundled `data/deribit` snapshot
/// format); otherwise as `margin_engine_new_from_json`.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_new_from_deribit_csv(
    csv: *const c_char,
    len: usize,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    out: *mut *mut margin_engine,
) -> margin_status {
    // SAFETY: the caller's contract.
    unsafe {
        engine_from_text(
            Engine::from_deribit_csv,
            csv,
            len,
            model_name,
            params,
            param_count,
            ptr::null(),
            out,
        )
    }
}

/// Builds an engine from a market given as plain arrays; otherwise as
/// `margin_engine_new_from_json`.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_new(
    market: *const margin_market,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    out: *mut *mut margin_engine,
) -> margin_status {
    // SAFETY: the caller's contract.
    unsafe { engine_from_arrays(market, model_name, params, param_count, ptr::null(), out) }
}

/// `margin_engine_new_from_json` for any model, with a price history: a statistical model
/// (`hs-es`, `fhs-es`, `mc-es`, `parametric-var`) needs one, a grid model takes none (`history`
/// NULL; a history given to a grid model is `MARGIN_STATUS_INVALID_ARGUMENT`, as is a
/// statistical model without one, and `margin_last_error_message` says which). The engine of a
/// statistical model is built as `margin compute --model NAME --history ...` builds its run:
/// rows and risk arrays under the lookup grid preset `deribit-btc` (they only validate
/// accounts: ids, sizes, currency) and the model's joint scenarios, built once from the
/// history (Monte Carlo: the model's `scenarios` draws). The account calls
/// (`margin_account_compute`, `_what_if`, line items, `_scenario_pnl`) and
/// `margin_engine_compute_batch` then margin over the joint scenarios with the numbers of
/// the CLI, bit for bit: each computation revalues every position in every joint scenario
/// (O(scenarios × positions), allocating, spread over the library's worker threads; results
/// do not depend on the thread count), and a what-if is the margin of the account with the
/// order merged in (the same cost, not the O(scenarios) grid shortcut).
/// `margin_engine_scenario_count` counts the joint scenarios, `margin_result.worst_scenario`
/// indexes them, and `margin_engine_scenario` (grid scenarios) is
/// `MARGIN_STATUS_INVALID_ARGUMENT`. The model label is the statistical model's.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_new_from_json_with_history(
    json: *const c_char,
    len: usize,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    history: *const margin_history,
    out: *mut *mut margin_engine,
) -> margin_status {
    // SAFETY: the caller's contract.
    unsafe {
        engine_from_text(
            Engine::from_json,
            json,
            len,
            model_name,
            params,
            param_count,
            history,
            out,
        )
    }
}

/// `margin_engine_new_from_deribit_csv` with a price history; otherwise as
/// `margin_engine_new_from_json_with_history`.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_new_from_deribit_csv_with_history(
    csv: *const c_char,
    len: usize,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    history: *const margin_history,
    out: *mut *mut margin_engine,
) -> margin_status {
    // SAFETY: the caller's contract.
    unsafe {
        engine_from_text(
            Engine::from_deribit_csv,
            csv,
            len,
            model_name,
            params,
            param_count,
            history,
            out,
        )
    }
}

/// `margin_engine_new` (market as plain arrays) with a price history; otherwise as
/// `margin_engine_new_from_json_with_history`.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_new_with_history(
    market: *const margin_market,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    history: *const margin_history,
    out: *mut *mut margin_engine,
) -> margin_status {
    // SAFETY: the caller's contract.
    unsafe { engine_from_arrays(market, model_name, params, param_count, history, out) }
}

/// The body of `margin_engine_new` and `margin_engine_new_with_history`.
///
/// SAFETY: pointers as the public functions document.
unsafe fn engine_from_arrays(
    market: *const margin_market,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    history: *const margin_history,
    out: *mut *mut margin_engine,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let m = unsafe { arg(market) }?;
        // SAFETY: the caller's contract.
        let raw = unsafe { slice(m.underlyings, m.underlying_count) }?;
        // Grown as read, never preallocated from a caller's count.
        let mut underlyings = Vec::new();
        for u in raw {
            // SAFETY: the caller's contract.
            let forwards = unsafe { slice(u.forwards, u.forward_count) }?;
            // SAFETY: the caller's contract.
            let vols = unsafe { slice(u.vols, u.vol_count) }?;
            underlyings.push(UnderlyingData {
                // SAFETY: the caller's contract.
                asset: asset(unsafe { text(u.asset) }?)?,
                index_price: u.index_price,
                perpetual_price: u.perpetual_price,
                rate: u.rate,
                forwards: forwards.iter().map(forward).collect(),
                vols: vols.iter().map(vol_quote).collect::<Result<_, _>>()?,
            });
        }
        // SAFETY: the caller's contract.
        let symbols = unsafe { slice(m.symbols, m.symbol_count) }?;
        let instruments = if symbols.is_empty() {
            None
        } else {
            let mut list = Vec::new();
            for &s in symbols {
                // SAFETY: the caller's contract.
                list.push(Instrument::parse(unsafe { text(s) }?)?);
            }
            Some(list)
        };
        let data = MarketData {
            valuation_time: Timestamp(m.valuation_time_ms),
            underlyings,
            instruments: Vec::new(),
        };
        // The readers' plausibility bounds (vol <= 5, |rate| <= 0.5, forwards within
        // [0.5, 2] x index, prices <= 1e12) hold for arrays too.
        margin_core::io::check_plausible_market(&data, std::path::Path::new("<market arrays>"))
            .map_err(|e| Failure {
                status: margin_status::BadNumber,
                detail: Detail::Text(e.to_string()),
            })?;
        // SAFETY: the caller's contract.
        let model = unsafe { model(model_name, params, param_count) }?;
        // SAFETY: the caller's contract (NULL is no history).
        let history = unsafe { history.as_ref() }.map(|h| &h.inner);
        // SAFETY: the caller's contract.
        unsafe { publish_engine(Engine::new(data, instruments, model, history), out) }
    })
}

/// Frees an engine. NULL is a no-op. Accounts built on it stay valid.
///
/// # Safety
/// `engine` must be NULL or a pointer from a `margin_engine_new*` call, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_free(engine: *mut margin_engine) {
    let _ = ffi_guard!({
        if !engine.is_null() {
            // SAFETY: the caller's contract: the pointer came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(engine) });
        }
        Ok(())
    });
}

/// The instrument id (row) of a symbol such as `BTC-27MAR26-90000-C`. A symbol without a row,
/// including one the market lists but cannot price (expired, no vol), is
/// `MARGIN_STATUS_UNKNOWN_INSTRUMENT`; `margin_last_error_message` then says why.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_instrument_id(
    engine: *const margin_engine,
    symbol: *const c_char,
    out: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (e, s, out) = unsafe { (arg(engine)?, text(symbol)?, out_arg(out)?) };
        out.write(e.inner.instrument_id(s)?);
        Ok(())
    })
}

/// The number of instruments (rows); ids run from 0 to this minus 1.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_instrument_count(
    engine: *const margin_engine,
    out: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (e, out) = unsafe { (arg(engine)?, out_arg(out)?) };
        out.write(e.inner.matrix().len());
        Ok(())
    })
}

/// Writes the symbol of instrument `id` and a NUL into `buf` (`len` bytes) and its length
/// into `*out_len`; `MARGIN_STATUS_CAPACITY` if it does not fit (64 bytes always do).
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_instrument_symbol(
    engine: *const margin_engine,
    id: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let e = unsafe { arg(engine) }?;
        let inst = e
            .inner
            .matrix()
            .instruments()
            .get(id)
            .ok_or(margin_status::UnknownInstrument)?;
        // SAFETY: the caller's contract.
        unsafe { copy_text(&inst.to_string(), buf, len, out_len) }
    })
}

/// Writes the parameter set the engine uses, `name@version` plus ` (modified)` when a
/// parameter was overridden, like `margin_engine_instrument_symbol`.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_model_label(
    engine: *const margin_engine,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let e = unsafe { arg(engine) }?;
        // SAFETY: the caller's contract.
        unsafe { copy_text(e.inner.label(), buf, len, out_len) }
    })
}

/// The number of scenarios of the engine's model: its grid's, or for a statistical model the
/// number of joint scenarios (the length of `margin_account_scenario_pnl`).
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_scenario_count(
    engine: *const margin_engine,
    out: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (e, out) = unsafe { (arg(engine)?, out_arg(out)?) };
        out.write(e.inner.scenario_count());
        Ok(())
    })
}

/// Scenario `index` of the engine's grid model. A statistical model's joint scenarios move
/// every coin at once and do not fit `margin_scenario`: `MARGIN_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_scenario(
    engine: *const margin_engine,
    index: usize,
    out: *mut margin_scenario,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (e, out) = unsafe { (arg(engine)?, out_arg(out)?) };
        if e.inner.joint().is_some() {
            return Err(Failure {
                status: margin_status::InvalidArgument,
                detail: Detail::Text(format!(
                    "{} is statistical: its {} joint scenarios move every coin at once, not \
                     one grid move (margin_account_scenario_pnl gives the P&L in each)",
                    e.inner.label(),
                    e.inner.scenario_count()
                )),
            });
        }
        let views = e.inner.views();
        let arrays = views.arrays();
        let s = arrays
            .scenarios()
            .scenarios()
            .get(index)
            .ok_or(margin_status::OutOfRange)?;
        out.write(margin_scenario {
            price_move: s.price_move,
            delta_one_move: s.delta_one_move,
            vol_shock: s.vol_shock.magnitude(),
            time_step: s.time_step,
            weight: s.weight,
            extended: s.kind == ScenarioKind::Extended,
        });
        Ok(())
    })
}

/// Margin of `count` independent accounts. `statuses[i]` receives each account's status and
/// `results[i]` its result when that status is OK. Returns OK when the arguments were usable,
/// even if some accounts failed.
///
/// # Safety
/// Pointers must be NULL or valid for `count` elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_engine_compute_batch(
    engine: *const margin_engine,
    accounts: *const margin_batch_account,
    count: usize,
    results: *mut margin_result,
    statuses: *mut margin_status,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let e = unsafe { arg(engine) }?;
        // SAFETY: the caller's contract.
        let accounts = unsafe { slice(accounts, count) }?;
        // SAFETY: the caller's contract.
        let results = unsafe { slice_out(results, count) }?;
        // SAFETY: the caller's contract.
        let statuses = unsafe { slice_out(statuses, count) }?;
        let mut positions = Vec::new();
        let mut scratch = Vec::new();
        let views = e.inner.views();
        for ((a, result_out), status_out) in accounts.iter().zip(results).zip(statuses) {
            let mut one = || -> Result<margin_result, margin_status> {
                // SAFETY: the caller's contract.
                let currency = asset(unsafe { text(a.currency) }?)?;
                // An account holds each instrument at most once, so more positions than the
                // engine has instruments is a bad count (checked before reading or reserving).
                if a.position_count > e.inner.matrix().len() {
                    return Err(margin_status::InvalidArgument);
                }
                // SAFETY: the caller's contract.
                let raw = unsafe { slice(a.positions, a.position_count) }?;
                positions.clear();
                positions.extend(raw.iter().map(|p| Position {
                    instrument: p.instrument,
                    size: p.size,
                }));
                let m =
                    e.inner
                        .margin_with(&views, currency, a.equity, &positions, &mut scratch)?;
                Ok(result(&m)?)
            };
            match one() {
                Ok(r) => {
                    result_out.write(r);
                    status_out.write(margin_status::Ok);
                }
                Err(s) => {
                    status_out.write(s);
                }
            }
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Account.

/// A new empty account with zero equity, settling in `currency` (`"BTC"` for Deribit's
/// inverse BTC products). It keeps the engine alive. Free with `margin_account_free`.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_new(
    engine: *const margin_engine,
    currency: *const c_char,
    out: *mut *mut margin_account,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (e, c, out) = unsafe { (arg(engine)?, text(currency)?, out_arg(out)?) };
        let inner = AccountState::new(e.inner.clone(), asset(c)?)?;
        out.write(Box::into_raw(Box::new(margin_account { inner })));
        Ok(())
    })
}

/// Frees an account. NULL is a no-op.
///
/// # Safety
/// `account` must be NULL or a pointer from `margin_account_new`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_free(account: *mut margin_account) {
    let _ = ffi_guard!({
        if !account.is_null() {
            // SAFETY: the caller's contract: the pointer came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(account) });
        }
        Ok(())
    });
}

/// Moves the account to another engine (rebuilt when marks moved): each position is mapped
/// to the new engine's id of the same instrument. The account then keeps the new engine alive
/// and releases the old one. On error (an instrument the new engine lacks:
/// `MARGIN_STATUS_UNKNOWN_INSTRUMENT`) nothing changes. Ids are per engine: resolve symbols
/// again with `margin_engine_instrument_id` on the new engine.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_set_engine(
    account: *mut margin_account,
    engine: *const margin_engine,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (a, e) = unsafe { (arg_mut(account)?, arg(engine)?) };
        Ok(a.inner.set_engine(e.inner.clone())?)
    })
}

/// Sets the account's equity (account currency).
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_set_equity(
    account: *mut margin_account,
    equity: f64,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let a = unsafe { arg_mut(account) }?;
        Ok(a.inner.set_equity(equity)?)
    })
}

/// Sets the size held of instrument `id`; 0 removes the position. On error nothing changes.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_set_position(
    account: *mut margin_account,
    id: usize,
    size: f64,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let a = unsafe { arg_mut(account) }?;
        Ok(a.inner.set_position(id, size)?)
    })
}

/// Adds `delta` to the size held of instrument `id` (a fill). On error nothing changes.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_add_position(
    account: *mut margin_account,
    id: usize,
    delta: f64,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let a = unsafe { arg_mut(account) }?;
        Ok(a.inner.add_position(id, delta)?)
    })
}

/// Removes the position in instrument `id` (a no-op when none is held).
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_remove_position(
    account: *mut margin_account,
    id: usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let a = unsafe { arg_mut(account) }?;
        Ok(a.inner.set_position(id, 0.0)?)
    })
}

/// The number of positions held.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_position_count(
    account: *const margin_account,
    out: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (a, out) = unsafe { (arg(account)?, out_arg(out)?) };
        out.write(a.inner.positions().len());
        Ok(())
    })
}

/// Position `index` (in the order positions were first set).
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_position(
    account: *const margin_account,
    index: usize,
    out: *mut margin_position,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (a, out) = unsafe { (arg(account)?, out_arg(out)?) };
        let p = a
            .inner
            .positions()
            .get(index)
            .ok_or(margin_status::OutOfRange)?;
        out.write(margin_position {
            instrument: p.instrument,
            size: p.size,
        });
        Ok(())
    })
}

/// Computes the account's margin into `*out` and keeps the per-scenario P&L, line items and
/// scratch that `margin_account_what_if` and the accessors read.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_compute(
    account: *mut margin_account,
    out: *mut margin_result,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (a, out) = unsafe { (arg_mut(account)?, out_arg(out)?) };
        out.write(result(a.inner.compute()?)?);
        Ok(())
    })
}

/// Margin after a hypothetical order of `size` units (negative sells) of instrument `id`,
/// without changing the account: the pre-trade check. Allocation-free and O(scenarios) when
/// the account was computed since its last change (otherwise it computes it first). On a
/// statistical engine it is the margin of the account with the order merged in: O(joint
/// scenarios × positions) and allocating (see `margin_engine_new_from_json_with_history`).
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_what_if(
    account: *mut margin_account,
    id: usize,
    size: f64,
    out: *mut margin_result,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (a, out) = unsafe { (arg_mut(account)?, out_arg(out)?) };
        out.write(result(&a.inner.what_if(id, size)?)?);
        Ok(())
    })
}

/// The number of line items of the last `margin_account_compute`
/// (`MARGIN_STATUS_NOT_COMPUTED` if the account changed since).
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_line_item_count(
    account: *const margin_account,
    out: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (a, out) = unsafe { (arg(account)?, out_arg(out)?) };
        let m = a.inner.last().ok_or(margin_status::NotComputed)?;
        out.write(m.components.len());
        Ok(())
    })
}

/// Line item `index` of the last computation: its name (e.g. `roll_shock`) copied like
/// `margin_engine_instrument_symbol`, and its value in the account currency.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_line_item(
    account: *const margin_account,
    index: usize,
    name: *mut c_char,
    name_len: usize,
    out_name_len: *mut usize,
    out_value: *mut f64,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (a, out_value) = unsafe { (arg(account)?, out_arg(out_value)?) };
        let m = a.inner.last().ok_or(margin_status::NotComputed)?;
        let item = m.components.get(index).ok_or(margin_status::OutOfRange)?;
        if !item.value.is_finite() {
            return Err(Error::Overflow { what: item.name }.into());
        }
        // SAFETY: the caller's contract.
        unsafe { copy_text(item.name, name, name_len, out_name_len) }?;
        out_value.write(item.value);
        Ok(())
    })
}

/// The account's P&L in every scenario of the last computation (summed over underlyings,
/// account currency), written to `out[0..scenario_count]`; `len` must be at least the
/// scenario count (`margin_engine_scenario_count`). On a statistical engine: minus the loss in
/// each joint scenario, in scenario order.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_account_scenario_pnl(
    account: *const margin_account,
    out: *mut f64,
    len: usize,
    out_count: *mut usize,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (a, count) = unsafe { (arg(account)?, out_arg(out_count)?) };
        a.inner.last().ok_or(margin_status::NotComputed)?;
        let n = a.inner.engine().scenario_count();
        // SAFETY: the caller's contract.
        let out = unsafe { slice_out(out, len) }?;
        let out = out.get_mut(..n).ok_or(margin_status::Capacity)?;
        for (s, cell) in out.iter_mut().enumerate() {
            let pnl = a.inner.scenario_pnl(s).ok_or(margin_status::NotComputed)?;
            if !pnl.is_finite() {
                return Err(Error::Overflow {
                    what: "scenario P&L",
                }
                .into());
            }
            cell.write(pnl);
        }
        count.write(n);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Allocation-free subset: no handle, no heap; usable from an appliance without an allocator.

/// Black-76 value and Greeks of one option in USD per coin (allocation-free).
/// `right` is a `margin_right` value.
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_black76(
    right: i32,
    forward: f64,
    strike: f64,
    vol: f64,
    time: f64,
    rate: f64,
    out: *mut margin_greeks,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let out = unsafe { out_arg(out) }?;
        let g = pricing::black76(right_arg(right)?, forward, strike, vol, time, rate)?;
        out.write(margin_greeks {
            value: g.value,
            delta: g.delta,
            gamma: g.gamma,
            vega: g.vega,
            theta: g.theta,
        });
        Ok(())
    })
}

/// Value of one unit of the instrument `symbol` in its settlement currency (coin for inverse
/// products) at explicit inputs, futures entered at `entry` (allocation-free).
///
/// # Safety
/// Pointers must be NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_instrument_value(
    symbol: *const c_char,
    forward: f64,
    vol: f64,
    time: f64,
    rate: f64,
    entry: f64,
    out: *mut f64,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract.
        let (s, out) = unsafe { (text(symbol)?, out_arg(out)?) };
        let inst = Instrument::parse(s)?;
        let inputs = PricingInputs {
            forward,
            vol,
            time,
            rate,
        };
        out.write(pricing::value(&inst, &inputs, entry)?);
        Ok(())
    })
}

fn right_arg(v: i32) -> Result<Right, Error> {
    right(v).map_err(|_| Error::OutOfRange {
        what: "option right",
        value: f64::from(v),
    })
}

/// Most positions `margin_noalloc_margin` takes.
pub const MARGIN_NOALLOC_MAX_POSITIONS: usize = 64;
/// Most forwards, over all underlyings, `margin_noalloc_margin` takes.
pub const MARGIN_NOALLOC_MAX_FORWARDS: usize = 64;
/// Most vols, over all underlyings, `margin_noalloc_margin` takes.
pub const MARGIN_NOALLOC_MAX_VOLS: usize = 256;

/// A position named by its symbol, for the allocation-free call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct margin_symbol_position {
    /// NUL-terminated symbol, e.g. `BTC-25SEP26-120000-P`.
    pub symbol: *const c_char,
    /// Signed size.
    pub size: f64,
}

/// Doubles of workspace `margin_noalloc_margin` needs for `position_count` positions:
/// `(position_count + 8) × 128` (risk rows plus per-underlying scenario P&L).
#[unsafe(no_mangle)]
pub extern "C" fn margin_noalloc_workspace_len(position_count: usize) -> usize {
    position_count
        .saturating_add(MAX_UNDERLYINGS)
        .saturating_mul(MAX_SCENARIOS)
}

/// Margin of one account from caller arrays alone, without a heap: the market as plain
/// arrays (its `symbols` are ignored: the rows are the positions' instruments), a model preset
/// and overrides, positions by symbol, and `workspace_len` doubles of caller workspace (see
/// `margin_noalloc_workspace_len`). Everything else lives on the stack (about 40 KiB at most). The
/// same numbers as an engine and `margin_account_compute` on the same inputs. At most
/// `MARGIN_NOALLOC_MAX_*` positions, forwards and vols, and 8 underlyings.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn margin_noalloc_margin(
    market: *const margin_market,
    model_name: *const c_char,
    params: *const margin_param,
    param_count: usize,
    currency: *const c_char,
    equity: f64,
    positions: *const margin_symbol_position,
    position_count: usize,
    workspace: *mut f64,
    workspace_len: usize,
    out: *mut margin_result,
) -> margin_status {
    ffi_guard!({
        // SAFETY: the caller's contract (every unsafe block below).
        let (m, out) = unsafe { (arg(market)?, out_arg(out)?) };
        // Counts beyond the fixed capacities are refused before anything is read: an
        // impossible count is InvalidArgument (`count`), a merely large one Capacity.
        count::<margin_symbol_position>(position_count)?;
        count::<margin_underlying>(m.underlying_count)?;
        if position_count > MARGIN_NOALLOC_MAX_POSITIONS || m.underlying_count > MAX_UNDERLYINGS {
            return Err(margin_status::Capacity.into());
        }
        let raw_underlyings = unsafe { slice(m.underlyings, m.underlying_count) }?;
        let raw_positions = unsafe { slice(positions, position_count) }?;
        let workspace = unsafe { zeroed_workspace(workspace, workspace_len) }?;
        let currency = asset(unsafe { text(currency) }?)?;
        let name = unsafe { text(model_name) }?;
        let raw_params = unsafe { slice(params, param_count) }?;
        let mut model = margin_core::model::Model::preset(name)?;
        for p in raw_params {
            model.set(unsafe { text(p.name) }?, p.value)?;
        }
        if margin_opt::var::VarParams::of(&model).is_some() {
            return Err(Failure {
                status: margin_status::InvalidArgument,
                detail: Detail::Static(
                    "a statistical model (hs-es, fhs-es, mc-es, parametric-var) takes its joint \
                     scenarios from a price history: use an engine built with \
                     margin_engine_new_*_with_history",
                ),
            });
        }
        let full = || margin_status::Capacity;

        // The market, copied into fixed-capacity stack storage.
        let mut forwards: heapless::Vec<Forward, MARGIN_NOALLOC_MAX_FORWARDS> =
            heapless::Vec::new();
        let mut vols: heapless::Vec<VolQuote, MARGIN_NOALLOC_MAX_VOLS> = heapless::Vec::new();
        // Per underlying: its C entry, asset, and ranges in `forwards` and `vols`.
        type Entry<'u> = (&'u margin_underlying, Asset, [usize; 4]);
        let mut entries: heapless::Vec<Entry<'_>, MAX_UNDERLYINGS> = heapless::Vec::new();
        for u in raw_underlyings {
            count::<margin_forward>(u.forward_count)?;
            count::<margin_vol>(u.vol_count)?;
            if u.forward_count > MARGIN_NOALLOC_MAX_FORWARDS
                || u.vol_count > MARGIN_NOALLOC_MAX_VOLS
            {
                return Err(full().into());
            }
            let (f0, v0) = (forwards.len(), vols.len());
            for f in unsafe { slice(u.forwards, u.forward_count) }? {
                forwards.push(forward(f)).map_err(|_| full())?;
            }
            for v in unsafe { slice(u.vols, u.vol_count) }? {
                vols.push(vol_quote(v)?).map_err(|_| full())?;
            }
            let a = asset(unsafe { text(u.asset) }?)?;
            entries
                .push((u, a, [f0, forwards.len(), v0, vols.len()]))
                .map_err(|_| full())?;
        }
        let mut views: heapless::Vec<UnderlyingMarket<'_>, MAX_UNDERLYINGS> = heapless::Vec::new();
        for &(u, a, [f0, f1, v0, v1]) in &entries {
            let view = UnderlyingMarket {
                asset: a,
                index_price: u.index_price,
                perpetual_price: u.perpetual_price,
                rate: u.rate,
                forwards: &forwards[f0..f1],
                vols: &vols[v0..v1],
            };
            views.push(view).map_err(|_| full())?;
        }
        let snapshot = MarketSnapshot::new(Timestamp(m.valuation_time_ms), &views)?;

        // Rows: the positions' instruments, each once.
        let mut instruments: heapless::Vec<Instrument, MARGIN_NOALLOC_MAX_POSITIONS> =
            heapless::Vec::new();
        let mut held: heapless::Vec<Position, MARGIN_NOALLOC_MAX_POSITIONS> = heapless::Vec::new();
        for p in raw_positions {
            let inst = Instrument::parse(unsafe { text(p.symbol) }?)?;
            let row = match instruments.iter().position(|i| *i == inst) {
                Some(row) => row,
                None => {
                    instruments.push(inst).map_err(|_| full())?;
                    instruments.len() - 1
                }
            };
            held.push(Position {
                instrument: row,
                size: p.size,
            })
            .map_err(|_| full())?;
        }
        let scenarios = model.scenarios()?;
        let set = ScenarioSet::new(&scenarios, model.tenor())?;
        let n = instruments.len();
        let rows = n * set.len();
        if workspace.len() < rows {
            return Err(full().into());
        }
        let (pnl, scratch) = workspace.split_at_mut(rows);
        let mut inputs = [PricingInputs::ZERO; MARGIN_NOALLOC_MAX_POSITIONS];
        let mut valuations = [Valuation::ZERO; MARGIN_NOALLOC_MAX_POSITIONS];
        let storage = RiskStorage {
            inputs: &mut inputs,
            valuations: &mut valuations,
            pnl,
        };
        let arrays =
            RiskArrays::build(snapshot, set, &instruments, storage).map_err(|e| e.error)?;
        let acct = Account::new(&arrays, currency, equity, &held)?;
        out.write(result(&core_account::margin(
            &arrays, &model, &acct, scratch,
        )?)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_status() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let s = ffi_guard!({
            let v: Vec<u8> = Vec::new();
            let i = v.len() + 3;
            let status = if v[i] == 0 {
                margin_status::Ok
            } else {
                margin_status::Duplicate
            };
            Err(status.into())
        });
        std::panic::set_hook(prev);
        assert_eq!(s, margin_status::Panic);
        assert_eq!(ffi_guard!({ Ok(()) }), margin_status::Ok);
        assert_eq!(
            ffi_guard!({ Err(margin_status::Capacity.into()) }),
            margin_status::Capacity
        );
    }

    #[test]
    fn every_status_value_round_trips_and_has_a_message() {
        for (i, s) in crate::status::ALL.iter().enumerate() {
            assert_eq!(*s as i32, i as i32);
            assert_eq!(margin_status::from_int(i as i32), Some(*s));
            assert!(!s.message().to_bytes().is_empty());
        }
        assert_eq!(margin_status::from_int(-1), None);
        assert_eq!(
            margin_status::from_int(crate::status::ALL.len() as i32),
            None
        );
    }
}
