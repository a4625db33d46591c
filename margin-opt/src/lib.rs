//! Work over many portfolios on top of [`margin_core`] (std, rayon).
//!
//! * [`batch`]: margin for many accounts in parallel against one set of risk arrays.
//! * [`joint`]: statistical presets in the same clients as grids (compute, whatif, batch).
//! * [`var`]: VaR and Expected Shortfall of one account over HS, FHS or Monte Carlo joint
//!   scenarios, or parametric, with Euler contributions.
//!
//! * [`hedge`]: minimum-margin hedges (worst-case and ES LPs) and liquidation plans, every
//!   result re-margined by the core.
//!
//! Margin attribution is not built yet.
#![deny(missing_docs)]

// Rust 1.88 (the MSRV) makes clippy suggest a let chain in `check_paths`; batch.rs is being
// rewritten elsewhere, so the suggestion waits for that change.
#[allow(clippy::collapsible_if)]
pub mod batch;
pub mod hedge;
pub mod joint;
pub mod var;

pub use margin_core;
