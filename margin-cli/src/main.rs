//! The `margin` command: price, margin and explain crypto-derivative portfolios.
//!
//! Exit codes: 0 success (also when the reader of stdout goes away, e.g. `| head`),
//! 1 bad input (unreadable or invalid files, bad flags), 2 internal error (a bug: please
//! report it). Every error is one line on stderr, starting with `error: `.
#![deny(missing_docs)]

mod commands;
mod error;
mod histogram;
mod output;
mod svg;
mod timeline;

use clap::{Parser, Subcommand};
use error::CliError;
use std::process::ExitCode;

/// Command-line interface of `margin`.
#[derive(Debug, Parser)]
#[command(
    name = "margin",
    version,
    about = "Price, margin and explain crypto-derivative portfolios",
    long_about = "Price, margin and explain crypto-derivative portfolios.\n\n\
        Every number comes from the margin-core library; this command only reads files and \
        prints results. Market files are market JSON or a Deribit option-chain CSV; the \
        format is picked from the extension (.json/.csv) or the content.",
    after_help = "Examples:\n  \
        margin demo\n  \
        margin compute --portfolio examples/portfolio-btc.json --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv\n  \
        margin price --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv --limit 20\n  \
        margin price --market market.json --underlying ETH --json | jq .summary\n  \
        margin bench                      # speed on this machine (use a release build)\n\n\
        Exit codes: 0 ok, 1 bad input, 2 internal error. Errors are one line on stderr."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each lives in its own module under `commands/`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Margin the bundled sample account on the bundled Deribit snapshot and draw its risk matrix.
    Demo(commands::demo::DemoArgs),
    /// Full margin report of one account: IM, MM, add-ons, worst scenario, Greeks, benefit.
    Compute(commands::compute::ComputeArgs),
    /// Incremental margin of hypothetical orders, one line each.
    #[command(name = "whatif")]
    WhatIf(commands::whatif::WhatIfArgs),
    /// Margin many accounts (JSONL) in parallel against one set of risk arrays.
    Batch(commands::batch::BatchArgs),
    /// Measure the engine's speed on this machine against its targets.
    Bench(commands::bench::BenchArgs),
    /// Reprice every option of a market with Black-76 and compare with the venue's marks.
    Price(commands::price::PriceArgs),
    /// VaR and Expected Shortfall over historical, filtered historical or Monte Carlo joint
    /// scenarios, or parametric, with per-position contributions.
    Var(commands::var::VarArgs),
    /// Calibrate a grid preset's scan ranges from EWMA volatility up to an as-of date, with
    /// anti-procyclicality; print old -> new and write a model file.
    Calibrate(commands::calibrate::CalibrateArgs),
    /// Backtest margin: Kupiec, Christoffersen and Basel traffic-light tests of an exception
    /// series, or of one account's margin replayed day by day over a price history.
    Backtest(commands::backtest::BacktestArgs),
    /// Stress tests: named historical events, user shocks, reverse stress; with --accounts,
    /// book-level Cover-1/Cover-2 and a liquidation cascade.
    Stress(commands::stress::StressArgs),
    /// Minimum-margin hedges (worst-case or ES LP) and liquidation plans, re-margined by the core.
    Optimize(Box<commands::optimize::OptimizeArgs>),
    /// Write deterministic synthetic accounts (JSONL) for benchmarks.
    #[command(name = "gen-accounts", hide = true)]
    GenAccounts(commands::generate::GenArgs),
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Demo(args) => commands::demo::run(&args),
        Command::Compute(args) => commands::compute::run(&args),
        Command::WhatIf(args) => commands::whatif::run(&args),
        Command::Batch(args) => commands::batch::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
        Command::Price(args) => commands::price::run(&args),
        Command::Var(args) => commands::var::run(&args),
        Command::Calibrate(args) => commands::calibrate::run(&args),
        Command::Backtest(args) => commands::backtest::run(&args),
        Command::Stress(args) => commands::stress::run(&args),
        Command::Optimize(args) => commands::optimize::run(&args),
        Command::GenAccounts(args) => commands::generate::run(&args),
    }
}

/// Prints one line and exits 2 on any panic, so no backtrace ever reaches the user.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let line = format!("{payload}{at}").replace('\n', " ");
        error::report(&CliError::internal(format!(
            "internal error (a bug): {line}"
        )));
        std::process::exit(2);
    }));
}

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return error::clap_exit(e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            error::report(&e);
            e.exit_code()
        }
    }
}
