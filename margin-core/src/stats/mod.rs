//! The statistical engine, `no_std` and allocation-free like the rest of the core: every
//! function writes into caller-provided slices, every transcendental goes through `libm`.
//!
//! * [`rng`], [`normal`], [`sample`]: random streams (xoshiro256**), the normal distribution
//!   (AS 241 quantile), normal, gamma and Student-t samplers.
//! * [`linalg`], [`ewma`]: Cholesky, correlation stress, EWMA and sample covariance.
//! * [`historical`], [`monte_carlo`]: HS and FHS h-day moves from daily closes; Monte Carlo moves.
//! * [`backtest`]: Kupiec, Christoffersen and conditional-coverage tests of an exception
//!   series, with the Basel traffic light.
//! * [`tail`]: Value-at-Risk and Expected Shortfall of equally likely losses (Acerbi & Tasche
//!   2002), with the tail scenarios and the ES weights behind per-position contributions.

pub mod backtest;
pub mod ewma;
pub mod historical;
pub mod linalg;
pub mod monte_carlo;
pub mod normal;
pub mod rng;
pub mod sample;
pub mod tail;
