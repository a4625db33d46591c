//! One module per subcommand. Each has an `Args` struct (clap derive) and a `run` function.

pub mod backtest;
pub mod batch;
pub mod bench;
pub mod bench_statistical;
pub mod calibrate;
pub mod common;
pub mod compute;
pub mod demo;
pub mod generate;
pub mod optimize;
pub mod price;
pub mod statistical;
pub mod stress;
pub mod var;
pub mod whatif;
