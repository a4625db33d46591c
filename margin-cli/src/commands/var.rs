//! `margin var`: VaR and Expected Shortfall of one account over historical, filtered
//! historical or Monte Carlo joint scenarios, or parametric; every number from
//! `margin_opt::var` (and through it `margin_core`). This file reads flags and files and
//! prints.
//!
//! JSON (`--json`), one object (amounts in the account `currency`):
//!
//! ```text
//! {
//!   "account": "A1", "currency": "BTC", "market": "FILE", "valuation_time": "...",
//!   "method": "hs",                 // hs | fhs | mc | parametric
//!   "estimator": "...",             // the order statistics / weights, in words
//!   "confidence": 0.99, "horizon_days": 2, "scenarios": 2390,
//!   "var": 0.12, "es": 0.15,        // losses (positive = loss)
//!   "history": {"coins": ["BTC"], "from": "2017-11-09", "to": "2024-05-26", "closes": 2391},
//!   "seed": 42,                     // mc and parametric only
//!   "vol_rule": "unchanged", "time_decay": false,
//!   "tail": [{"start": "2020-03-10", "end": "2020-03-12", "weight": 0.1, "loss": 0.3,
//!             "moves": {"BTC": -0.4}}],            // mc: {"index", "weight", "loss", "moves"}
//!   "contributions": [{"instrument": "BTC-PERPETUAL", "es_contribution": 0.1}],
//!   "volatility": {"BTC": 0.031},   // EWMA daily σ now
//!   "correlation": {"coins": ["BTC", "ETH"], "matrix": [[1, 0.8], [0.8, 1]]},
//!   "full_revaluation": {"var": 0.1, "es": 0.12, "es_error": 0.03},  // parametric only:
//!   "delta_gamma": {"var": 0.1, "es": 0.12, "es_error": 0.01}        // both on the MC draws
//! }
//! ```

use super::common::{self, PortfolioArgs};
use super::statistical;
use crate::error::CliError;
use crate::histogram;
use crate::output;
use margin_core::io::history::PriceHistory;
use margin_core::scenario::VolShock;
use margin_core::spec::{Covariance, JointSource, Method};
use margin_core::stats::ewma::RISKMETRICS_LAMBDA;
use margin_core::stats::monte_carlo::Dist;
use margin_core::time::Timestamp;
use margin_opt::joint::{OwnedBook, lookup_model};
use margin_opt::var::{self, Closes, VarParams, VarReport};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Arguments of `margin var`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin var --portfolio examples/portfolio-btc.json \\\n      \
      --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv \\\n      \
      --history data/btc-eth-daily/BTC-USD.csv --horizon 2\n  \
    margin var ... --history data/btc-eth-daily/btc_eth_daily_close_aligned.csv --method fhs --json\n  \
    margin var ... --method mc --dist t:5 --scenarios 100000 --seed 7 --svg var.svg\n\n\
Histories: a wide CSV `date,<coin>,...` (or `date,btc_close_usd,...`), or per-coin Yahoo OHLC \
files (`Date,...,Close,...`) given as COIN=path or named like BTC-USD.csv; several --history \
flags are joined on their common dates. Dates must be consecutive days.\n\n\
Estimators: N equally likely losses, m = N(1-c), k = floor(m); ES = (L(1)+...+L(k) + \
(m-k)L(k+1))/m (Acerbi-Tasche), VaR = L(ceil(m)), ties by scenario index. Contributions are \
Euler allocations of ES per position and add up to ES.")]
pub struct VarArgs {
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    /// Market file: market JSON or a Deribit option-chain CSV.
    #[arg(long, value_name = "FILE")]
    pub market: PathBuf,
    /// Price history (repeatable): a wide CSV, COIN=path, or a COIN-XXX.csv OHLC file.
    #[arg(long, value_name = "FILE", required = true)]
    pub history: Vec<String>,
    #[command(flatten)]
    pub stat: StatArgs,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write the P&L distribution with VaR and ES marked as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

/// The statistical options of `margin var`, shared with `margin optimize`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatArgs {
    /// Scenario source: hs, fhs, mc or parametric.
    #[arg(long, default_value = "hs", value_parser = ["hs", "fhs", "mc", "parametric"])]
    pub method: String,
    /// Confidence level c in (0, 1).
    #[arg(long, default_value_t = 0.99)]
    pub confidence: f64,
    /// Horizon in days (h-day windows; MC covariance × h).
    #[arg(long, value_name = "DAYS", default_value_t = 1)]
    pub horizon: usize,
    /// HS/FHS: non-overlapping windows anchored at the newest close.
    #[arg(long)]
    pub non_overlapping: bool,
    /// EWMA decay λ (FHS filter, EWMA covariance, reported volatility).
    #[arg(long, default_value_t = RISKMETRICS_LAMBDA)]
    pub ewma_lambda: f64,
    /// Covariance for mc and parametric: ewma or sample.
    #[arg(long, default_value = "ewma", value_parser = ["ewma", "sample"])]
    pub cov: String,
    /// MC innovations: normal or t:NU (Student t, NU > 2, scaled to the same covariance).
    #[arg(long, default_value = "normal")]
    pub dist: String,
    /// MC scenario count.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub scenarios: usize,
    /// MC seed (scenario i draws from xoshiro256** stream (seed, i)).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Vol rule: unchanged, or shift:A,BETA,FLOOR for σ' = max(σ + A + BETA·ln(F'/F), FLOOR).
    #[arg(long, default_value = "unchanged", allow_hyphen_values = true)]
    pub vol_rule: String,
    /// Step time forward by the horizon (options expiring inside it pay intrinsic).
    #[arg(long)]
    pub time_decay: bool,
    /// First history date used (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last history date used (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
}

/// A bad-input error (exit 1) with `msg`.
pub fn bad(msg: impl Into<String>) -> CliError {
    CliError::bad_input(msg)
}

/// The run's parameters from the flags, each checked with a message naming the flag.
pub fn params(args: &StatArgs) -> Result<VarParams, CliError> {
    let method = match args.method.as_str() {
        "hs" => Method::Historical,
        "fhs" => Method::Filtered,
        "mc" => Method::MonteCarlo,
        _ => Method::Parametric,
    };
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        return Err(bad(format!(
            "--confidence {}: expected a number strictly between 0 and 1",
            args.confidence
        )));
    }
    if args.horizon == 0 {
        return Err(bad(
            "--horizon 0: expected a whole number of days, at least 1",
        ));
    }
    if !(args.ewma_lambda > 0.0 && args.ewma_lambda < 1.0) {
        return Err(bad(format!(
            "--ewma-lambda {}: expected a number strictly between 0 and 1",
            args.ewma_lambda
        )));
    }
    let dist = match args.dist.split_once(':') {
        None if args.dist == "normal" => Dist::Normal,
        Some(("t", nu)) => match nu.parse::<f64>() {
            Ok(nu) if nu.is_finite() && nu > 2.0 => Dist::StudentT { nu },
            _ => {
                return Err(bad(format!(
                    "--dist {}: expected t:NU with NU > 2",
                    args.dist
                )));
            }
        },
        _ => {
            return Err(bad(format!(
                "--dist {}: expected normal or t:NU",
                args.dist
            )));
        }
    };
    let vol = parse_vol_rule(&args.vol_rule)?;
    if matches!(method, Method::MonteCarlo | Method::Parametric) && args.scenarios == 0 {
        return Err(bad("--scenarios 0: expected at least 1"));
    }
    Ok(VarParams {
        source: JointSource {
            method,
            horizon_days: args.horizon,
            overlapping: !args.non_overlapping,
            lambda: args.ewma_lambda,
            covariance: if args.cov == "sample" {
                Covariance::Sample
            } else {
                Covariance::Ewma
            },
            dist,
            scenarios: args.scenarios,
            seed: args.seed,
            vol,
            time_decay: args.time_decay,
        },
        confidence: args.confidence,
    })
}

/// Parses `--vol-rule`: `unchanged` or `shift:A,BETA,FLOOR`.
pub fn parse_vol_rule(text: &str) -> Result<VolShock, CliError> {
    if text == "unchanged" {
        return Ok(VolShock::None);
    }
    let err = || {
        bad(format!(
            "--vol-rule {text}: expected unchanged or shift:A,BETA,FLOOR (numbers, FLOOR >= 0)"
        ))
    };
    let rest = text.strip_prefix("shift:").ok_or_else(err)?;
    let v: Vec<f64> = rest
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| err())?;
    match v[..] {
        [shift, beta, floor] if v.iter().all(|x| x.is_finite()) && floor >= 0.0 => {
            Ok(VolShock::Rule { shift, beta, floor })
        }
        _ => Err(err()),
    }
}

/// The date of flag `--flag`, `YYYY-MM-DD`, if given.
pub fn date(flag: &str, text: &Option<String>) -> Result<Option<Timestamp>, CliError> {
    text.as_deref()
        .map(|t| {
            Timestamp::parse_iso8601(t)
                .ok()
                .filter(|_| t.len() == 10)
                .ok_or_else(|| bad(format!("--{flag} {t}: expected a date YYYY-MM-DD")))
        })
        .transpose()
}

/// `history` cut to `--from`/`--to`.
pub fn window(history: PriceHistory, args: &StatArgs) -> Result<PriceHistory, CliError> {
    history
        .between(date("from", &args.from)?, date("to", &args.to)?)
        .map_err(|e| bad(format!("--from/--to: {e}")))
}

/// Runs `margin var`.
pub fn run(args: &VarArgs) -> Result<(), CliError> {
    let params = params(&args.stat)?;
    let portfolio = common::read_portfolio(&args.portfolio)?;
    let market = margin_core::io::read_market(&args.market)?;
    let history = window(PriceHistory::load(&args.history)?, &args.stat)?;
    // The account's instruments, validated as `compute` does (one instrument universe).
    let extra: Vec<_> = portfolio.positions.iter().map(|p| p.instrument).collect();
    let model = lookup_model().map_err(|e| CliError::internal(e.to_string()))?;
    let matrix = common::matrix(market, &args.market, model, &extra)?;
    let owned = OwnedBook::of(&matrix, &portfolio, &[])
        .map_err(|e| bad(format!("{}: {e}", args.portfolio.portfolio.display())))?;
    let instruments = &owned.instruments;
    let (coins, closes) = book_closes(&history, instruments)?;
    let book = owned.book();
    let closes_view = Closes {
        coins: &coins,
        closes: &closes,
    };
    let report = var::run(&book, &closes_view, &params).map_err(|e| match e {
        var::VarError::Position(p) => bad(format!(
            "cannot revalue {}: {}",
            instruments
                .get(p.index)
                .map_or("?".into(), |i| i.to_string()),
            p.error
        )),
        var::VarError::Input(e) => bad(format!("--history / parameters: {e}")),
    })?;
    let json = to_json(args, &params, &portfolio, &history, instruments, &report);
    if let Some(file) = &args.svg {
        let svg = histogram::distribution(&report, &portfolio.currency.to_string(), &params);
        std::fs::write(file, svg)
            .map_err(|e| bad(format!("{}: cannot write SVG: {e}", file.display())))?;
    }
    if args.json {
        output::print_json(&json)
    } else {
        output::print(&statistical::render(&json))
    }
}

/// The coins `instruments` depend on, in the history's column order, and their closes
/// (date-major) (`margin_opt::var::book_closes`); a coin without prices in `history` is an
/// error naming the position.
pub fn book_closes(
    history: &PriceHistory,
    instruments: &[margin_core::Instrument],
) -> Result<(Vec<margin_core::Asset>, Vec<f64>), CliError> {
    var::book_closes(history, instruments).map_err(|i| {
        bad(format!(
            "--history has no prices for {} (position {i}); it has {}",
            i.underlying,
            names(history.coins())
        ))
    })
}

/// `BTC, ETH`: the coins, comma-separated.
pub fn names(coins: &[margin_core::Asset]) -> String {
    coins
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn to_json(
    args: &VarArgs,
    params: &VarParams,
    portfolio: &margin_core::io::Portfolio,
    history: &PriceHistory,
    instruments: &[margin_core::Instrument],
    r: &VarReport,
) -> Value {
    let mut out = json!({
        "account": portfolio.account,
        "currency": portfolio.currency.to_string(),
        "market": args.market.display().to_string(),
    });
    statistical::report_json(&mut out, params, history.dates(), instruments, r);
    out
}
