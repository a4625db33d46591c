//! Statistics on price histories and scenario P&L, `no_std` and allocation-free like the rest
//! of the core: every function writes into caller-provided slices.
//!
//! * [`historical`]: historical-simulation (HS) and filtered historical-simulation (FHS)
//!   h-day moves from a table of daily closes.
//! * [`tail`]: Value-at-Risk and Expected Shortfall of equally likely losses (Acerbi & Tasche
//!   2002), with the tail scenarios and the ES weights behind per-position contributions.

pub mod historical;
pub mod tail;
