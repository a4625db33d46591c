//! `margin bench`: the engine's speed on this machine, measured, never asserted. The figures
//! that go into the README (with the machine they ran on) come from here and from the
//! criterion benches (`benches/margin.rs`, the same single-threaded measurements).
//!
//! Measurements, each filling about `--seconds` after a warm-up of a tenth of that:
//! * risk arrays for every instrument the market can price (the [`Universe`] of `batch`),
//!   one thread;
//! * margin of a 50-position account from the cached arrays (`account::margin`), one thread;
//! * what-if of one order on that account (`account::what_if`): the mean over a tight loop,
//!   and p50/p99 over single calls each timed by its own pair of clock reads (included);
//! * batch throughput: `margin_opt::batch` on in-memory JSONL (parse, margin, serialise; no
//!   file I/O) of [`BATCH_ACCOUNTS`] accounts × [`BATCH_POSITIONS`] positions, rayon's
//!   threads;
//! * statistical margin on the bundled data: Monte Carlo ES and HS ES, one thread (see
//!   `bench_statistical`).
//!
//! Inputs are deterministic: the 50 positions are every k-th instrument of the first coin
//! with enough of them, with alternating signs; the batch accounts are `gen-accounts`'s,
//! seed 1. The clock lives here, in the CLI; the core never reads one.

use super::common;
use super::demo::{CHAIN, CHAIN_NAME};
use super::generate::Generator;
use crate::error::CliError;
use crate::output::{self, Align, Table};
use margin_core::account;
use margin_core::io::engine::{RiskBuffers, Universe, margin_positions};
use margin_core::io::{MarketData, parse_deribit_chain, write_portfolio_json_line};
use margin_core::risk::Position;
use margin_opt::batch::Batch;
use serde::Serialize;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Positions of the single account whose margin and what-if are timed.
pub const ACCOUNT_POSITIONS: usize = 50;
/// Accounts margined per batch run.
pub const BATCH_ACCOUNTS: usize = 4096;
/// Positions per batch account.
pub const BATCH_POSITIONS: usize = 20;
/// Longest `--seconds` accepted.
pub const MAX_SECONDS: f64 = 600.0;

/// Arguments of `margin bench`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    cargo run --release -p margin-cli -- bench\n  \
    margin bench --seconds 3 --json | jq .measurements\n  \
    margin bench --market examples/market.json --model span16\n\n\
Run it on a release build with the machine otherwise idle; a debug build's figures say \
nothing about the engine. Targets: risk arrays < 5 ms, margin of 50 positions < 5 µs, \
what-if < 1 µs (p99 < 5 µs), batch ≥ 100,000 accounts/s, Monte Carlo ES (100,000 \
scenarios × 200 options) < 0.5 s, HS ES (full BTC history × 50 options) < 5 ms. Threads of the batch: rayon's \
default (all cores) or RAYON_NUM_THREADS; everything else runs on one thread.")]
pub struct BenchArgs {
    /// Market file (market JSON or Deribit chain CSV); default: the bundled Deribit snapshot.
    #[arg(long, value_name = "FILE")]
    pub market: Option<PathBuf>,
    /// Accept market numbers outside the plausibility bounds (vol > 5.0, |rate| > 0.5,
    /// forward or perpetual outside [0.5, 2] × index, prices > 1e12; see docs/cli.md).
    #[arg(long)]
    pub allow_implausible_market: bool,
    /// Margin model: a preset name or a model file (see `margin compute --help`).
    #[arg(long, value_name = "PRESET|FILE", default_value = "deribit-btc")]
    pub model: String,
    /// Time spent on each measurement, in seconds (plus a tenth of it to warm up).
    #[arg(
        long,
        value_name = "S",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub seconds: f64,
    /// Scenarios of the Monte Carlo ES measurement (its target, < 0.5 s, is for 100,000).
    #[arg(long, value_name = "N", default_value_t = super::bench_statistical::MC_SCENARIOS)]
    pub mc_scenarios: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The machine the figures were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model from /proc/cpuinfo, when readable.
    pub cpu: Option<String>,
    /// Logical cores (`std::thread::available_parallelism`).
    pub logical_cores: usize,
    /// Operating system and architecture.
    pub os: String,
    /// Version of margin.
    pub margin_version: &'static str,
    /// `release` or `debug` (a debug build's figures are not meaningful).
    pub build: &'static str,
}

/// One measured figure against its target.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// What was measured.
    pub what: String,
    /// The figure, in `unit`.
    pub value: f64,
    /// `ms`, `us` or `accounts/s`.
    pub unit: &'static str,
    /// The target, in `unit`.
    pub target: f64,
    /// Whether `value` must stay below (`<`) or reach (`>=`) the target.
    pub target_is: &'static str,
    /// Whether the figure meets the target.
    pub pass: bool,
    /// Timed calls (or batch runs).
    pub iterations: u64,
}

/// The measurements, by name.
#[derive(Debug, Clone, Serialize)]
pub struct Measurements {
    /// Building the risk arrays of the whole universe.
    pub risk_arrays: Measurement,
    /// Margin of the 50-position account from cached arrays.
    pub margin: Measurement,
    /// What-if of one order, mean over a tight loop.
    pub what_if_mean: Measurement,
    /// What-if of one order, median of single timed calls.
    pub what_if_p50: Measurement,
    /// What-if of one order, 99th percentile of single timed calls.
    pub what_if_p99: Measurement,
    /// Accounts per second of the parallel batch.
    pub batch: Measurement,
    /// Monte Carlo ES of the 200-option book (bundled data, one thread).
    pub mc_es: Measurement,
    /// HS ES over the full BTC history of a 50-option book (bundled data, one thread).
    pub hs_es: Measurement,
}

/// The `--json` document.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Where it ran.
    pub machine: Machine,
    /// The market file.
    pub market: String,
    /// The model spec.
    pub model: String,
    /// Instruments in the risk arrays.
    pub instruments: usize,
    /// Scenarios per instrument.
    pub scenarios: usize,
    /// Threads of the batch measurement.
    pub batch_threads: usize,
    /// Seconds per measurement.
    pub seconds: f64,
    /// The figures.
    pub measurements: Measurements,
}

/// The CPU model named by /proc/cpuinfo, when there is one.
fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| matches!(k.trim(), "model name" | "Model" | "cpu model" | "Hardware"))
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn machine() -> Machine {
    Machine {
        cpu: cpu_model(),
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        margin_version: env!("CARGO_PKG_VERSION"),
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    }
}

/// Mean time per call of `f`: a warm-up of `budget / 10` (at least one call) sizes chunks of
/// about a millisecond, then whole chunks run until `budget` has passed. Returns the mean and
/// the number of timed calls.
pub(super) fn mean_time(budget: Duration, mut f: impl FnMut()) -> (Duration, u64) {
    let warm_up = Instant::now();
    let mut calls = 0u64;
    loop {
        f();
        calls += 1;
        if warm_up.elapsed() >= budget / 10 {
            break;
        }
    }
    let per_call = warm_up.elapsed().as_secs_f64() / calls as f64;
    let chunk = ((1e-3 / per_call.max(1e-12)) as u64).clamp(1, 1 << 20);
    let start = Instant::now();
    let mut timed = 0u64;
    loop {
        for _ in 0..chunk {
            f();
        }
        timed += chunk;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return (elapsed / u32::try_from(timed).unwrap_or(u32::MAX), timed);
        }
    }
}

/// Times single calls of `f` (each between two clock reads) for `budget` after a warm-up of
/// `budget / 10`; returns the sorted times in nanoseconds.
fn single_call_times(budget: Duration, mut f: impl FnMut()) -> Vec<f64> {
    let warm_up = Instant::now();
    while warm_up.elapsed() < budget / 10 {
        f();
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    loop {
        let t = Instant::now();
        f();
        let end = Instant::now();
        samples.push((end - t).as_nanos() as f64);
        if end - start >= budget || samples.len() >= 50_000_000 {
            break;
        }
    }
    samples.sort_by(f64::total_cmp);
    samples
}

/// Nearest-rank percentile `p` (0 < p ≤ 1) of sorted, non-empty `samples`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(super) fn below(
    what: &str,
    value: f64,
    unit: &'static str,
    target: f64,
    iterations: u64,
) -> Measurement {
    Measurement {
        what: what.to_string(),
        value,
        unit,
        target,
        target_is: "<",
        pass: value < target,
        iterations,
    }
}

/// Every `step`-th instrument of the first coin with at least `count` inverse instruments
/// (options, futures, perpetual), signs alternating, sizes varying; rows of `universe`.
fn account_positions(
    market: &MarketData,
    universe: &Universe,
    count: usize,
) -> Option<(margin_core::Asset, Vec<Position>, Vec<usize>)> {
    // The first coin with `count` inverse instruments, else the coin with the most (a small
    // market such as examples/market.json gives a smaller account; the report says how many).
    let pools = market.underlyings.iter().map(|u| {
        let rows: Vec<usize> = universe
            .instruments()
            .iter()
            .enumerate()
            .filter(|(_, i)| i.underlying == u.asset && i.is_inverse())
            .map(|(row, _)| row)
            .collect();
        (u.asset, rows)
    });
    let mut best: Option<(margin_core::Asset, Vec<usize>)> = None;
    for (asset, rows) in pools {
        if rows.len() >= count {
            best = Some((asset, rows));
            break;
        }
        if best.as_ref().is_none_or(|(_, b)| rows.len() > b.len()) {
            best = Some((asset, rows));
        }
    }
    best.filter(|(_, rows)| !rows.is_empty())
        .map(|(asset, rows)| {
            let count = count.min(rows.len());
            let step = rows.len() / count;
            let positions = (0..count)
                .map(|k| Position {
                    instrument: rows[k * step],
                    size: if k % 2 == 0 { 1.5 } else { -2.0 } + 0.1 * k as f64,
                })
                .collect();
            (asset, positions, rows)
        })
}

/// Runs every measurement.
pub fn measure(args: &BenchArgs) -> Result<BenchReport, CliError> {
    if !args.seconds.is_finite() || args.seconds <= 0.0 || args.seconds > MAX_SECONDS {
        return Err(CliError::bad_input(format!(
            "--seconds {}: expected a number of seconds > 0 and <= {MAX_SECONDS}",
            args.seconds
        )));
    }
    let budget = Duration::from_secs_f64(args.seconds);
    let (market, file) = match &args.market {
        Some(path) => (
            common::read_market(path, args.allow_implausible_market)?,
            path.clone(),
        ),
        None => (
            parse_deribit_chain(CHAIN, Path::new(CHAIN_NAME))
                .map_err(|e| CliError::internal(format!("bundled sample data: {e}")))?,
            PathBuf::from(CHAIN_NAME),
        ),
    };
    let model = common::read_model(&args.model)?;
    // Risk arrays: the matrix's build checks the market (a clear error), the timed builds
    // reprice its universe into buffers of their own.
    let matrix = common::matrix(market, &file, model, &[])?;
    let universe = matrix.universe();
    let views = matrix.views();
    let snapshot = *views.arrays().market();
    let mut buffers = RiskBuffers::new(universe);
    let (build, build_calls) = mean_time(budget, || {
        let arrays = universe.build(black_box(snapshot), &mut buffers);
        black_box(arrays.is_ok());
    });
    let arrays = views.arrays();
    let instruments = arrays.len();
    let scenarios = arrays.scenarios().len();

    // One 50-position account and one order on it (an instrument between two held ones).
    let (currency, positions, rows) =
        account_positions(matrix.market(), universe, ACCOUNT_POSITIONS).ok_or_else(|| {
            CliError::bad_input(format!(
                "{}: no coin has an inverse instrument to build the benchmark account",
                file.display()
            ))
        })?;
    let account_positions = positions.len();
    let step = rows.len() / account_positions;
    let order = Position {
        instrument: rows[step / 2],
        size: -1.0,
    };
    let core_error = |what: &str, e: margin_core::Error| {
        CliError::internal(format!("benchmark account: {what}: {e}"))
    };
    let mut scratch = Vec::new();
    let (acct, _) = margin_positions(
        &arrays,
        universe.model(),
        currency,
        100.0,
        &positions,
        &mut scratch,
    )
    .map_err(|e| core_error("margin", e))?;
    let model = universe.model();
    let (margin, margin_calls) = mean_time(budget, || {
        black_box(account::margin(&arrays, model, &acct, black_box(&mut scratch)).is_ok());
    });
    // `margin` leaves the scenario P&L in scratch for `what_if`.
    account::margin(&arrays, model, &acct, &mut scratch).map_err(|e| core_error("margin", e))?;
    account::what_if(&arrays, model, &acct, &scratch, order)
        .map_err(|e| core_error("what-if", e))?;
    let what_if = || {
        black_box(account::what_if(&arrays, model, &acct, black_box(&scratch), order).is_ok());
    };
    let (what_if_mean, what_if_calls) = mean_time(budget, what_if);
    let samples = single_call_times(budget, what_if);

    // Batch: gen-accounts's accounts as in-memory JSONL through margin_opt::batch.
    // As many positions per account as the benchmark account has, up to BATCH_POSITIONS.
    let batch_positions = BATCH_POSITIONS.min(account_positions);
    let generator =
        Generator::new(matrix.market(), universe, batch_positions, 1).ok_or_else(|| {
            CliError::bad_input(format!(
                "{}: no coin has {batch_positions} instruments for the batch accounts",
                file.display()
            ))
        })?;
    let mut jsonl = String::new();
    for p in generator.take(BATCH_ACCOUNTS) {
        jsonl.push_str(&write_portfolio_json_line(&p));
        jsonl.push('\n');
    }
    let batch = Batch {
        matrix: &matrix,
        joint: None,
        by_currency: &[],
    };
    let run_batch = || {
        batch
            .run(jsonl.as_bytes(), &mut std::io::sink(), &|_| {})
            .map_err(|e| CliError::internal(format!("batch: {e}")))
    };
    let summary = run_batch()?;
    if summary.errors != 0 || summary.accounts != BATCH_ACCOUNTS as u64 {
        return Err(CliError::internal(format!(
            "batch: {} of {} generated accounts failed",
            summary.errors, summary.accounts
        )));
    }
    let (batch_run, batch_runs) = mean_time(budget, || {
        black_box(run_batch().is_ok());
    });
    let accounts_per_s = BATCH_ACCOUNTS as f64 / batch_run.as_secs_f64();

    let threads = rayon::current_num_threads();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let samples_n = samples.len() as u64;
    let (mc_es, hs_es) = super::bench_statistical::measure(budget, args.mc_scenarios)?;
    let measurements = Measurements {
        risk_arrays: below(
            &format!("risk arrays, {instruments} instruments × {scenarios} scenarios"),
            build.as_secs_f64() * 1e3,
            "ms",
            5.0,
            build_calls,
        ),
        margin: below(
            &format!("margin, {account_positions}-position account, cached arrays"),
            us(margin),
            "us",
            5.0,
            margin_calls,
        ),
        what_if_mean: below(
            "what-if of one order, mean",
            us(what_if_mean),
            "us",
            1.0,
            what_if_calls,
        ),
        what_if_p50: below(
            "what-if, p50 of single calls (incl. clock reads)",
            percentile(&samples, 0.50) / 1e3,
            "us",
            1.0,
            samples_n,
        ),
        what_if_p99: below(
            "what-if, p99 of single calls (incl. clock reads)",
            percentile(&samples, 0.99) / 1e3,
            "us",
            5.0,
            samples_n,
        ),
        batch: Measurement {
            what: format!(
                "batch, {BATCH_ACCOUNTS} accounts × {batch_positions} positions, \
                 {threads} threads"
            ),
            value: accounts_per_s,
            unit: "accounts/s",
            target: 100_000.0,
            target_is: ">=",
            pass: accounts_per_s >= 100_000.0,
            iterations: batch_runs,
        },
        mc_es,
        hs_es,
    };
    Ok(BenchReport {
        machine: machine(),
        market: file.display().to_string(),
        model: args.model.clone(),
        instruments,
        scenarios,
        batch_threads: threads,
        seconds: args.seconds,
        measurements,
    })
}

/// A figure with three significant digits (at least), thousands grouped for big ones.
fn figure(value: f64, unit: &str) -> String {
    let unit = if unit == "us" { "µs" } else { unit };
    if value >= 10_000.0 {
        let digits = format!("{:.0}", value);
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{grouped} {unit}")
    } else if value >= 100.0 {
        format!("{value:.0} {unit}")
    } else if value >= 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.3} {unit}")
    }
}

/// A target: whole numbers without decimals.
fn target(value: f64, unit: &str) -> String {
    if value.fract() == 0.0 && value < 10_000.0 {
        let unit = if unit == "us" { "µs" } else { unit };
        format!("{value:.0} {unit}")
    } else {
        figure(value, unit)
    }
}

/// The report as text: the machine header and the table.
pub fn render(r: &BenchReport) -> String {
    let m = &r.machine;
    let mut out = format!(
        "machine: {} ({} logical cores), {}\nmargin {} ({} build){}\nmarket: {} ({} instruments \
         × {} scenarios), model {}\n{} s per measurement; one thread except the batch ({} \
         threads)\n\n",
        m.cpu.as_deref().unwrap_or("unknown CPU"),
        m.logical_cores,
        m.os,
        m.margin_version,
        m.build,
        if m.build == "debug" {
            ": figures not representative, use --release"
        } else {
            ""
        },
        r.market,
        r.instruments,
        r.scenarios,
        r.model,
        r.seconds,
        r.batch_threads,
    );
    let mut table = Table::new(&[
        ("measurement", Align::Left),
        ("result", Align::Right),
        ("target", Align::Right),
        ("ok", Align::Left),
        ("timed calls", Align::Right),
    ]);
    let x = &r.measurements;
    for m in [
        &x.risk_arrays,
        &x.margin,
        &x.what_if_mean,
        &x.what_if_p50,
        &x.what_if_p99,
        &x.batch,
        &x.mc_es,
        &x.hs_es,
    ] {
        table.row(vec![
            m.what.clone(),
            figure(m.value, m.unit),
            format!("{} {}", m.target_is, target(m.target, m.unit)),
            if m.pass { "pass" } else { "FAIL" }.to_string(),
            m.iterations.to_string(),
        ]);
    }
    out.push_str(&table.render());
    out.push_str(BATCH_NOTE);
    out
}

/// How the batch row was measured.
const BATCH_NOTE: &str = "\nbatch: margin_opt::batch on in-memory JSONL (parse, margin, JSON out; no \
    file I/O), the accounts of `gen-accounts --positions 20 --seed 1` (fewer positions, as many as \
    the margin row's account, on a market with fewer instruments)\n";

/// Runs `margin bench`.
pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    let report = measure(args)?;
    if args.json {
        return output::print_json(&report);
    }
    output::print(&render(&report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        // Nearest rank on 1..=100: the p-th percentile is the value p·100 itself.
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn figures_keep_three_digits_and_group_thousands() {
        assert_eq!(figure(0.5612, "us"), "0.561 µs");
        assert_eq!(figure(4.66, "ms"), "4.660 ms");
        assert_eq!(figure(1_234_567.4, "accounts/s"), "1,234,567 accounts/s");
        assert_eq!(target(5.0, "us"), "5 µs");
        assert_eq!(target(100_000.0, "accounts/s"), "100,000 accounts/s");
    }
}
