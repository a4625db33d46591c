//! # margin-core
//!
//! The allocation-free, `no_std` heart of the margin engine. It reads left to right as one
//! pipeline:
//!
//! ```text
//! symbol ─► Instrument ─┐
//!                       ├─► pricing ─► (later) scenarios ─► risk arrays ─► measures ─► margin
//! MarketSnapshot ───────┘
//! ```
//!
//! * [`instrument`]: contract terms and Deribit symbol parsing. Knows no prices.
//! * [`market`]: the snapshot at one explicit valuation time (index, forwards, vols, rate).
//! * [`pricing`]: Black-76 and linear/inverse valuation with Greeks. Pure functions.
//! * [`time`]: millisecond timestamps, civil dates and ISO-8601, without a clock.
//! * [`scenario`], [`risk`], [`measure`], [`addon`], [`model`], [`account`]: the scenario
//!   engine (grids, risk arrays, worst case, add-ons, presets, account margin and what-if).
//! * [`spec`]: the declarative margin spec every model turns into; [`statistical`] and
//!   [`var_margin`]: joint-scenario revaluation and VaR/ES margin; [`stats`]: the statistics.
//! * [`standard`]: Deribit Standard Margin, the isolated reference portfolio margin is
//!   compared against.
//! * [`stats`]: the statistical engine: random streams, normal quantiles, samplers, Cholesky,
//!   EWMA volatility, Monte Carlo and historical moves, VaR and Expected Shortfall.
//! * `io` (feature `std` only): the file formats — market JSON, Deribit chain CSV, portfolio
//!   JSON/CSV — shared by the CLI and the FFI. The core itself stays `no_std` and
//!   allocation-free without this feature.
//!
//! Invariants: nothing here allocates (a test counts allocations), nothing reads a clock,
//! every transcendental goes through `libm` (or, in the batch kernel `pricing::kernel`, a
//! branch-free port of the same algorithm giving the same bits) so results are the same bits
//! on every machine,
//! and non-finite or out-of-domain inputs return an [`Error`] rather than a NaN.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(missing_docs)]

pub mod account;
pub mod addon;
pub mod error;
pub mod instrument;
#[cfg(feature = "std")]
pub mod io;
pub mod market;
pub mod measure;
pub mod model;
pub mod pricing;
pub mod risk;
pub mod scenario;
pub mod spec;
pub mod standard;
pub mod statistical;
pub mod stats;
pub mod time;
pub mod var_margin;

pub use error::Error;
pub use instrument::{Asset, Instrument, Kind, Right, Settlement};
pub use market::{Forward, MarketSnapshot, PricingInputs, UnderlyingMarket, VolQuote};
pub use pricing::Valuation;
pub use time::Timestamp;
