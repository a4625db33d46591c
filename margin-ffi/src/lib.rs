//! # margin-ffi
//!
//! A C ABI over the margin engine, for matching engines and clearing systems written in C
//! and C++. The header `include/margin.h` is generated from this crate by cbindgen.
//!
//! * [`engine`]: an immutable engine (a `margin_core::io::matrix::RiskMatrix`: market, model,
//!   scenarios, risk arrays), shared by threads;
//!   under a statistical preset it also holds the joint scenarios built from a price history
//!   (`margin_opt::joint`).
//! * [`account`]: an account on an engine, with the cached scenario P&L that makes a what-if
//!   O(scenarios) and allocation-free.
//! * [`status`]: the status codes every fallible function returns.
//! * `ffi`: every `extern "C"` function; all pointers from C are read there.
//!
//! No formula lives here: every number comes from `margin-core`.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod account;
pub mod engine;
pub mod ffi;
pub mod status;

pub use ffi::*;
pub use status::margin_status;
