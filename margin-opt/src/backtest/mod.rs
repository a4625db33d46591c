//! Backtesting margin: does the record of a model's margins keep its promise?
//!
//! * The coverage statistics themselves (Kupiec proportion of failures, Christoffersen
//!   independence, conditional coverage, Basel traffic light) are allocation-free and live in
//!   [`margin_core::stats::backtest`]; they are re-exported here.
//! * [`series`]: an exception series given as text, one `0` or `1` per line.
//! * [`portfolio`]: a portfolio margined day after day over a price history with only the data
//!   of that day, against the next `h` days' realised P&L; [`grid`]: the same under a grid
//!   preset, on the snapshot translated to each day's level.

pub mod grid;
pub mod portfolio;
pub mod series;

pub use margin_core::stats::backtest::{
    Coverage, LrTest, TrafficLight, Transitions, Zone, coverage, coverage_of_counts,
};
