//! Hedge optimisation, attribution and batch margining on top of [`margin_core`].
//!
//! * [`batch`]: margin for many accounts in parallel against one set of risk arrays.
#![deny(missing_docs)]

pub mod batch;

pub use margin_core;
