//! Hedge optimisation, attribution and batch margining on top of [`margin_core`].
//!
//! Filled by later issues; the crate exists so the workspace has its final shape.
#![deny(missing_docs)]

pub use margin_core;
