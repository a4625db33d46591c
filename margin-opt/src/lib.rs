//! Work over many portfolios on top of [`margin_core`] (std, rayon).
//!
//! * [`backtest`]: coverage tests of an exception series (Kupiec, Christoffersen, Basel
//!   traffic light) and the day-by-day backtest of one account's margin over a price history.
//! * [`batch`]: margin for many accounts in parallel against one set of risk arrays.
//! * [`calibrate`]: scan ranges of the grid presets from EWMA volatility up to an as-of
//!   date, with EMIR anti-procyclicality.
//! * [`joint`]: statistical presets in the same clients as grids (compute, whatif, batch).
//! * [`var`]: VaR and Expected Shortfall of one account over HS, FHS or Monte Carlo joint
//!   scenarios, or parametric, with Euler contributions.
//! * [`synthetic`]: deterministic synthetic accounts for benchmarks.
//! * [`stress`]: named historical events, user shocks, reverse stress, and book-level stress
//!   with Cover-1/Cover-2 and a liquidation cascade.
//!
//! * [`hedge`]: minimum-margin hedges (worst-case and ES LPs) and liquidation plans, every
//!   result re-margined by the core.
//!
//! Margin attribution is not built yet.
#![deny(missing_docs)]

// Rust 1.88 (the MSRV) makes clippy suggest a let chain in `check_paths`; batch.rs is being
// rewritten elsewhere, so the suggestion waits for that change.
pub mod backtest;
#[allow(clippy::collapsible_if)]
pub mod batch;
pub mod calibrate;
pub mod hedge;
pub mod joint;
pub mod stress;
pub mod synthetic;
pub mod var;

pub use margin_core;
