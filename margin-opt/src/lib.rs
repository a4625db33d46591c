//! Work over many portfolios on top of [`margin_core`] (std, rayon).
//!
//! * [`batch`]: margin for many accounts in parallel against one set of risk arrays.
//!
//! The hedge optimiser and margin attribution will live here too; they are not built yet.
#![deny(missing_docs)]

pub mod batch;

pub use margin_core;
