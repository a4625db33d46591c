//! `margin backtest`: coverage tests of an exception series (`--exceptions FILE --p P`), or of
//! one account's margin replayed day by day over a price history (`--portfolio ... --model`).
//! Every number comes from `margin_opt::backtest` (and through it `margin_core`); this file
//! reads flags and files and prints. JSON schema: `docs/backtest.md`.

use super::common::{self, PortfolioArgs};
use super::var::{bad, book_closes, date};
use crate::error::CliError;
use crate::output::{self, Align, Table};
use crate::timeline;
use margin_core::io::history::PriceHistory;
use margin_opt::backtest::portfolio::{self, Engine, History, Params, REVALUATION};
use margin_opt::backtest::{Coverage, series};
use margin_opt::joint::{OwnedBook, lookup_model};
use margin_opt::var::{Closes, VarParams};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Arguments of `margin backtest`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin backtest --exceptions exceptions.txt --p 0.01 --json\n  \
    margin backtest --portfolio examples/portfolio-btc.json \\\n      \
      --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv \\\n      \
      --history data/btc-eth-daily/BTC-USD.csv --model hs-es --window 250 --svg backtest.svg\n\n\
Tests: Kupiec proportion of failures (chi-square, 1 df), Christoffersen independence (1 df), \
conditional coverage = their sum (2 df), Basel traffic light (green while P(X <= x) < 95 %, \
yellow while < 99.99 %, X ~ Binomial(n, p)).\n\n\
Portfolio mode: on each day d the model's scenarios are built from the closes d-window..d only; \
the snapshot's account is translated to day d's level (forwards and strikes scaled by the day's \
close over the snapshot index; moneyness, tenor and vols held: our assumption); an exception is \
a realised h-day loss strictly greater than that day's initial margin. A grid model (deribit-btc, \
span16, ...) margins the translated account on the translated chain every day, over --horizon \
days (default 1), and needs --p.")]
pub struct BacktestArgs {
    /// Exception series: one 0 or 1 per line (1 = exception).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["portfolio", "market", "history", "model", "horizon", "window", "from", "to", "svg"])]
    pub exceptions: Option<PathBuf>,
    /// Exception probability tested, in (0, 1) [portfolio default: 1 − the model's confidence,
    /// rounded to 12 decimals].
    #[arg(long, value_name = "P")]
    pub p: Option<f64>,
    /// Portfolio file: portfolio JSON, or CSV with header `instrument,size`.
    #[arg(long, value_name = "FILE")]
    pub portfolio: Option<PathBuf>,
    /// Account currency of a CSV portfolio (default: the first position's coin).
    #[arg(long, value_name = "COIN")]
    pub currency: Option<String>,
    /// Equity of a CSV portfolio, in the account currency (default 0).
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    pub equity: Option<f64>,
    /// Market file (the snapshot the account is priced on): market JSON or a Deribit CSV.
    #[arg(long, value_name = "FILE")]
    pub market: Option<PathBuf>,
    /// Accept market numbers outside the plausibility bounds.
    #[arg(long)]
    pub allow_implausible_market: bool,
    /// Replay a BTC account under deribit-eth or an ETH account under deribit-btc.
    #[arg(long)]
    pub allow_preset_mismatch: bool,
    /// Price history (repeatable): a wide CSV, COIN=path, or a COIN-XXX.csv OHLC file.
    #[arg(long, value_name = "FILE")]
    pub history: Vec<String>,
    /// Model: a statistical preset (hs-es, fhs-es, mc-es, parametric-var), a grid preset
    /// (deribit-btc, deribit-eth, span16, grid), or a model file on one.
    #[arg(long, value_name = "PRESET|FILE")]
    pub model: Option<String>,
    /// Horizon in days of a grid model's backtest, 1 to 250 [default: 1]; a statistical model
    /// uses its own horizon.
    #[arg(long, value_name = "DAYS")]
    pub horizon: Option<usize>,
    /// Daily returns in each day's trailing window (closes d-DAYS..d), at least 1 (statistical
    /// models; a grid model needs no history before the day).
    #[arg(long, value_name = "DAYS", default_value_t = 250)]
    pub window: usize,
    /// First day backtested (YYYY-MM-DD); earlier closes still fill its window.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day backtested (YYYY-MM-DD); later closes still give its realised loss.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write margin and realised loss over time, exceptions marked, as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

fn check_p(p: f64) -> Result<f64, CliError> {
    if p > 0.0 && p < 1.0 {
        Ok(p)
    } else {
        Err(bad(format!(
            "--p {p}: expected an exception probability strictly between 0 and 1"
        )))
    }
}

/// Runs `margin backtest`.
pub fn run(args: &BacktestArgs) -> Result<(), CliError> {
    match &args.exceptions {
        Some(file) => exceptions(args, file),
        None => portfolio_backtest(args),
    }
}

fn exceptions(args: &BacktestArgs, file: &PathBuf) -> Result<(), CliError> {
    let p = check_p(
        args.p
            .ok_or_else(|| bad("--exceptions needs --p P, the exception probability tested"))?,
    )?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| bad(format!("{}: cannot read: {e}", file.display())))?;
    let s = series::parse(&text).map_err(|e| bad(format!("{}: {e}", file.display())))?;
    let c = margin_opt::backtest::coverage(&s, p)
        .map_err(|e| CliError::internal(format!("coverage tests: {e}")))?;
    let days: Vec<Value> = (1..=s.len())
        .filter(|&i| s[i - 1])
        .map(|i| json!(i))
        .collect();
    let mut out = json!({"file": file.display().to_string()});
    coverage_json(&mut out, &c, days);
    if args.json {
        output::print_json(&out)
    } else {
        output::print(&render(&out))
    }
}

/// Adds `p`, `pof`, `independence`, `conditional_coverage`, `traffic_light` and
/// `exception_days` to `out`.
fn coverage_json(out: &mut Value, c: &Coverage, exception_days: Vec<Value>) {
    let t = &c.transitions;
    let tl = &c.traffic_light;
    let fields = json!({
        "p": c.p,
        "pof": {"lr": c.pof.lr, "p_value": c.pof.p_value, "exceptions": c.exceptions,
            "observations": c.observations, "expected": c.p * c.observations as f64},
        "independence": {"lr": c.independence.lr, "p_value": c.independence.p_value,
            "n00": t.n00, "n01": t.n01, "n10": t.n10, "n11": t.n11},
        "conditional_coverage": {"lr": c.conditional_coverage.lr,
            "p_value": c.conditional_coverage.p_value},
        "traffic_light": {"zone": tl.zone.name(), "green_max": tl.green_max,
            "yellow_max": tl.yellow_max, "cumulative_probability": tl.cumulative_probability},
        "exception_days": exception_days,
    });
    if let (Value::Object(out), Value::Object(fields)) = (out, fields) {
        out.extend(fields);
    }
}

fn require<'a, T>(x: &'a Option<T>, flag: &str) -> Result<&'a T, CliError> {
    x.as_ref().ok_or_else(|| {
        bad(format!(
            "backtest needs --exceptions FILE, or --portfolio with --market, --history and \
             --model ({flag} is missing)"
        ))
    })
}

fn portfolio_backtest(args: &BacktestArgs) -> Result<(), CliError> {
    let portfolio_file = require(&args.portfolio, "--portfolio")?;
    let market_file = require(&args.market, "--market")?;
    let model_spec = require(&args.model, "--model")?;
    if args.history.is_empty() {
        require(&None::<()>, "--history")?;
    }
    let model = common::read_model(model_spec)?;
    let params = VarParams::of(&model);
    if let (Some(v), Some(h)) = (&params, args.horizon)
        && h != v.source.horizon_days
    {
        return Err(bad(format!(
            "--horizon {h}: --model {} is statistical with its own horizon of {} day(s); \
             --horizon applies to grid models",
            model.name, v.source.horizon_days
        )));
    }
    // 1 − c rounded to 12 decimals: 1 − 0.99 is 0.010000000000000009 in binary. A grid has no
    // confidence: --p is required.
    let p = match (args.p, &params) {
        (Some(p), _) => p,
        (None, Some(v)) => ((1.0 - v.confidence) * 1e12).round() / 1e12,
        (None, None) => {
            return Err(bad(format!(
                "--model {} is a grid model with no stated confidence: give the exception \
                 probability to test with --p P (e.g. 0.01)",
                model.name
            )));
        }
    };
    let p = check_p(p)?;
    if args.window == 0 {
        return Err(bad(
            "--window 0: expected a whole number of days, at least 1",
        ));
    }
    if args.horizon.is_some_and(|h| !(1..=250).contains(&h)) {
        return Err(bad(format!(
            "--horizon {}: expected a whole number of days from 1 to 250",
            args.horizon.unwrap_or(0)
        )));
    }
    let portfolio = common::read_portfolio(&PortfolioArgs {
        portfolio: portfolio_file.clone(),
        currency: args.currency.clone(),
        equity: args.equity,
    })?;
    let market = common::read_market(market_file, args.allow_implausible_market)?;
    let history = PriceHistory::load(&args.history)?;
    // The account's instruments, validated as `compute` does (one instrument universe).
    let extra: Vec<_> = portfolio.positions.iter().map(|p| p.instrument).collect();
    let lookup = lookup_model().map_err(|e| CliError::internal(e.to_string()))?;
    let matrix = common::matrix(market, market_file, lookup, &extra)?;
    let owned = OwnedBook::of(&matrix, &portfolio, &[])
        .map_err(|e| bad(format!("{}: {e}", portfolio_file.display())))?;
    let (coins, closes) = book_closes(&history, &owned.instruments)?;
    let reference: Vec<f64> = coins
        .iter()
        .map(|c| {
            matrix
                .market()
                .underlying(*c)
                .map(|u| u.index_price)
                .ok_or_else(|| bad(format!("{}: no index for {c}", market_file.display())))
        })
        .collect::<Result<_, _>>()?;
    let h = History {
        closes: Closes {
            coins: &coins,
            closes: &closes,
        },
        dates: history.dates(),
        reference: &reference,
    };
    let run_params = Params {
        window: args.window,
        from: date("from", &args.from)?,
        to: date("to", &args.to)?,
        p,
        horizon_days: args.horizon,
    };
    let engine = match params {
        Some(_) => Engine::Statistical(&model),
        None => {
            common::check_preset(
                &model,
                portfolio.currency,
                "the account",
                args.allow_preset_mismatch,
            )?;
            Engine::Grid {
                model: &model,
                market: matrix.market(),
                currency: portfolio.currency,
            }
        }
    };
    let report = portfolio::run(&owned.book(), portfolio.equity, &engine, &h, &run_params)
        .map_err(|e| bad(format!("backtest: {e}")))?;
    let day = |t| super::statistical::day(t);
    let currency = portfolio.currency.to_string();
    let mut out = json!({
        "account": portfolio.account,
        "currency": currency,
        "market": market_file.display().to_string(),
        "model": model.name,
        "preset_version": model.version,
        "preset_modified": model.modified,
        "method": params.map_or("grid", |v| v.source.method.name()),
        "confidence": params.map(|v| v.confidence),
        "horizon_days": report.horizon_days,
        "window": params.map(|_| args.window),
        "from": report.days.first().map(|d| day(d.date)),
        "to": report.days.last().map(|d| day(d.date)),
        "margin_definition": "initial margin of the model; exception = realised loss > margin",
        "revaluation": {"method": REVALUATION, "published": false},
        "days": report.days.iter().map(|d| json!({"date": day(d.date), "margin": d.margin,
            "var": d.var, "loss": d.loss, "exception": d.exception})).collect::<Vec<_>>(),
    });
    let exception_days = report
        .days
        .iter()
        .filter(|d| d.exception)
        .map(|d| json!(day(d.date)))
        .collect();
    coverage_json(&mut out, &report.coverage, exception_days);
    if let Some(file) = &args.svg {
        let svg = timeline::backtest(&report, &currency, &portfolio.account);
        std::fs::write(file, svg)
            .map_err(|e| bad(format!("{}: cannot write SVG: {e}", file.display())))?;
    }
    if args.json {
        output::print_json(&out)
    } else {
        output::print(&render(&out))
    }
}

/// The text report: the tests as a table, and for a portfolio run its assumptions first.
fn render(j: &Value) -> String {
    let mut s = String::new();
    if let Some(model) = j.get("model") {
        s += &format!(
            "{} ({}) · {} {} · {}-day horizon, {}, {} → {}\n\
             revaluation on past days: {}\n\n",
            j["account"].as_str().unwrap_or(""),
            j["currency"].as_str().unwrap_or(""),
            model.as_str().unwrap_or(""),
            j["preset_version"].as_str().unwrap_or(""),
            j["horizon_days"],
            j["window"]
                .as_u64()
                .map_or("no history window (grid)".to_string(), |w| format!(
                    "{w}-day window"
                )),
            j["from"].as_str().unwrap_or(""),
            j["to"].as_str().unwrap_or(""),
            j["revaluation"]["method"].as_str().unwrap_or(""),
        );
    }
    let pof = &j["pof"];
    let ind = &j["independence"];
    s += &format!(
        "{} exceptions in {} observations (expected {:.2} at p = {})\n\
         transitions n00 {} n01 {} n10 {} n11 {}\n",
        pof["exceptions"],
        pof["observations"],
        pof["expected"].as_f64().unwrap_or(f64::NAN),
        j["p"],
        ind["n00"],
        ind["n01"],
        ind["n10"],
        ind["n11"],
    );
    let mut t = Table::new(&[
        ("test", Align::Left),
        ("LR", Align::Right),
        ("df", Align::Right),
        ("p-value", Align::Right),
    ]);
    for (name, key, df) in [
        ("Kupiec proportion of failures", "pof", 1),
        ("Christoffersen independence", "independence", 1),
        ("conditional coverage", "conditional_coverage", 2),
    ] {
        t.row(vec![
            name.to_string(),
            format!("{:.5}", j[key]["lr"].as_f64().unwrap_or(f64::NAN)),
            df.to_string(),
            format!("{:.5}", j[key]["p_value"].as_f64().unwrap_or(f64::NAN)),
        ]);
    }
    s += "\n";
    s += &t.render();
    let tl = &j["traffic_light"];
    s += &format!(
        "\nBasel traffic light: {} (green 0–{}, yellow to {}, red above; P(X ≤ x) = {:.4})\n",
        tl["zone"].as_str().unwrap_or(""),
        tl["green_max"],
        tl["yellow_max"],
        tl["cumulative_probability"].as_f64().unwrap_or(f64::NAN),
    );
    let days: Vec<String> = j["exception_days"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d.as_str().map_or_else(|| d.to_string(), str::to_string))
        .collect();
    if !days.is_empty() {
        let shown = days.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
        let more = days.len().saturating_sub(20);
        s += &format!(
            "exception days: {shown}{}\n",
            if more > 0 {
                format!(" … and {more} more")
            } else {
                String::new()
            }
        );
    }
    s
}
