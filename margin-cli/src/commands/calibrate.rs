//! `margin calibrate`: a grid preset's scan ranges from EWMA volatility up to an as-of date,
//! with EMIR anti-procyclicality; every number from `margin_opt::calibrate`. This file reads
//! flags and files, prints old → new and writes the model file. JSON schema: docs/calibrate.md.

use super::statistical::day;
use super::var::date;
use crate::error::CliError;
use crate::output::{self, Align, Table};
use margin_core::io::{self, PriceHistory, Provenance, model_file_json};
use margin_opt::calibrate::{
    self, Apc, Calibration, CalibrationParams, Value as ParamValue, apc, file,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Arguments of `margin calibrate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin calibrate --history data/btc-eth-daily/BTC-USD.csv --asof 2022-06-13 --preset deribit-btc\n  \
    margin calibrate --history data/btc-eth-daily/btc_eth_daily_close_aligned.csv \\\n      \
      --asof 2024-05-26 --preset span16 --apc buffer --out span-calibrated.json\n  \
    margin compute --portfolio P --market M --model span-calibrated.json\n\n\
Range per coin: R = min(max(z_c * sigma * sqrt(h), FLOOR), CAP), z_c the normal quantile of \
--confidence, sigma today's RiskMetrics EWMA daily sigma from closes up to --asof only. \
Deribit presets are calibrated on their own coin (price_range); span16 (price_scan_range) and \
grid (its weight-1 moves) take the widest coin of the history, or --coin. Vol ranges stay: no \
rule turns a price history into a vol range.\n\n\
--apc (EMIR RTS 153/2013 art. 28(1)): none; buffer (25 % on top, used up while the range \
rises over --buffer-lag days); stressed-weight (sigma^2 = 0.75 sigma_now^2 + 0.25 sigma_s^2, \
sigma_s of the --stress-window-day window of largest variance); ten-year-floor (sigma at \
least the sample sigma of the last --lookback-days returns, 3653 = 10 years).\n\n\
--out writes a model file (accepted by every --model) with a provenance object: as-of date, \
SHA-256 of each history file, method. It is written to OUT.<pid>.tmp and renamed; an OUT \
that is an input (a history file, or the model file --preset names) is refused.")]
pub struct CalibrateArgs {
    /// Price history (repeatable): a wide CSV, COIN=path, or a COIN-XXX.csv OHLC file.
    #[arg(long, value_name = "FILE", required = true)]
    pub history: Vec<String>,
    /// Last date of data used (YYYY-MM-DD), a date of the history; later rows are never read.
    #[arg(long, value_name = "DATE")]
    pub asof: String,
    /// Preset to calibrate: deribit-btc, deribit-eth, span16, grid, or a model file on one.
    #[arg(long, value_name = "NAME")]
    pub preset: String,
    /// Horizon h in days, 1 to 250 (EMIR art. 26: 2 days outside OTC derivatives).
    #[arg(long, value_name = "DAYS", default_value_t = calibrate::DEFAULT_HORIZON_DAYS)]
    pub horizon: usize,
    /// Confidence c in [0.5, 1) (EMIR art. 24: 99 % outside OTC derivatives).
    #[arg(long, default_value_t = calibrate::DEFAULT_CONFIDENCE)]
    pub confidence: f64,
    /// EWMA decay λ in (0, 1).
    #[arg(long, default_value_t = margin_core::stats::ewma::RISKMETRICS_LAMBDA)]
    pub ewma_lambda: f64,
    /// Smallest range, a relative move in (0, 1).
    #[arg(long, default_value_t = calibrate::DEFAULT_FLOOR)]
    pub floor: f64,
    /// Largest range, a relative move in [FLOOR, 1).
    #[arg(long, default_value_t = calibrate::DEFAULT_CAP)]
    pub cap: f64,
    /// Anti-procyclicality: none, buffer, stressed-weight or ten-year-floor.
    #[arg(long, default_value = "none",
          value_parser = ["none", "buffer", "stressed-weight", "ten-year-floor"])]
    pub apc: String,
    /// buffer: days back to the reference range, 1 to 250.
    #[arg(long, value_name = "DAYS", default_value_t = apc::DEFAULT_BUFFER_LAG_DAYS)]
    pub buffer_lag: usize,
    /// stressed-weight: length of the stressed window, 20 to 3653 days.
    #[arg(long, value_name = "DAYS", default_value_t = apc::DEFAULT_STRESS_WINDOW_DAYS)]
    pub stress_window: usize,
    /// ten-year-floor: look-back in days of returns, 250 to 36525.
    #[arg(long, value_name = "DAYS", default_value_t = apc::TEN_YEARS_DAYS)]
    pub lookback_days: usize,
    /// span16 and grid: calibrate on this coin only (default: the widest range of all).
    #[arg(long, value_name = "COIN")]
    pub coin: Option<String>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write the calibrated model file here (atomically; never over an input file).
    #[arg(long, value_name = "MODEL.json")]
    pub out: Option<PathBuf>,
}

fn bad(msg: impl Into<String>) -> CliError {
    CliError::bad_input(msg)
}

/// The request from the flags.
fn params(args: &CalibrateArgs) -> Result<CalibrationParams, CliError> {
    let apc = match args.apc.as_str() {
        "buffer" => Apc::Buffer {
            lag_days: args.buffer_lag,
        },
        "stressed-weight" => Apc::StressedWeight {
            window_days: args.stress_window,
        },
        "ten-year-floor" => Apc::TenYearFloor {
            lookback_days: args.lookback_days,
        },
        _ => Apc::None,
    };
    let coin = match &args.coin {
        None => None,
        Some(c) => Some(margin_core::Asset::new(c).ok_or_else(|| {
            bad(format!(
                "--coin {c}: expected an upper-case coin code such as BTC"
            ))
        })?),
    };
    Ok(CalibrationParams {
        horizon_days: args.horizon,
        confidence: args.confidence,
        ewma_lambda: args.ewma_lambda,
        floor: args.floor,
        cap: args.cap,
        apc,
        coin,
    })
}

/// Runs `margin calibrate`.
pub fn run(args: &CalibrateArgs) -> Result<(), CliError> {
    let params = params(args)?;
    let asof = date("asof", &Some(args.asof.clone()))?
        .ok_or_else(|| bad("--asof: expected a date YYYY-MM-DD"))?;
    let model = io::model_from_spec(&args.preset).map_err(|e| bad(format!("--preset {e}")))?;
    // Hashed before and after parsing: a file that changed in between is refused, so the
    // digests are those of the bytes the numbers come from.
    let files = file::history_digests(&args.history).map_err(|e| bad(e.to_string()))?;
    let history = PriceHistory::load(&args.history)?;
    if file::history_digests(&args.history).map_err(|e| bad(e.to_string()))? != files {
        return Err(bad(
            "--history: a file changed while it was read; run again",
        ));
    }
    let cal = calibrate::calibrate(&history, asof, &model, &params).map_err(|e| {
        let hint = match (&e, params.apc) {
            (calibrate::CalibrateError::TooShort { have, .. }, Apc::TenYearFloor { .. }) => {
                format!(
                    " (pass --lookback-days {have} or fewer for a shorter look-back; EMIR RTS \
                     153/2013 art. 28(1)(c) asks for 10 years)"
                )
            }
            _ => String::new(),
        };
        bad(format!("margin calibrate: {e}{hint}"))
    })?;
    let details = details_json(&cal, &model);
    if let Some(out) = &args.out {
        let provenance = Provenance {
            asof: day(asof),
            history: files.clone(),
            method: params.apc.name().to_string(),
            generated_by: Some(format!("margin calibrate {}", env!("CARGO_PKG_VERSION"))),
            calibration: Some(details.clone()),
        };
        let mut text =
            serde_json::to_string_pretty(&model_file_json(&cal.model, Some(&provenance)))
                .map_err(|e| CliError::internal(e.to_string()))?;
        text.push('\n');
        // Every file read: the histories, and the model file `--preset` names, if any.
        let mut inputs: Vec<&Path> = args
            .history
            .iter()
            .map(|s| io::history::spec_path(s))
            .collect();
        if margin_core::model::Model::preset(&args.preset).is_err() {
            inputs.push(Path::new(&args.preset));
        }
        file::write_model_file(out, &inputs, &text).map_err(|e| bad(e.to_string()))?;
    }
    let mut j = details;
    j["history"] = json!({
        "coins": history.coins().iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        "from": day(cal.from),
        "to": day(cal.asof),
        "closes": cal.closes,
        "files": files,
    });
    j["parameters"] = cal
        .changes
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "old": param_json(&c.old),
                "new": param_json(&c.new),
                "changed": c.changed(),
                "reason": c.reason,
            })
        })
        .collect();
    j["out"] = args.out.as_ref().map(|p| p.display().to_string()).into();
    if args.json {
        output::print_json(&j)
    } else {
        output::print(&render(&j, &cal))
    }
}

fn param_json(v: &ParamValue) -> Value {
    match v {
        ParamValue::Number(x) => json!(x),
        ParamValue::Moves(m) => m.iter().map(|&(x, w)| json!([x, w])).collect(),
    }
}

/// The run's parameters and estimates (also the provenance's `calibration` object).
fn details_json(cal: &Calibration, model: &margin_core::model::Model) -> Value {
    let p = &cal.params;
    let mut apc = json!({"method": p.apc.name(), "rule": p.apc.rule()});
    match p.apc {
        Apc::Buffer { lag_days } => apc["buffer_lag_days"] = lag_days.into(),
        Apc::StressedWeight { window_days } => apc["stress_window_days"] = window_days.into(),
        Apc::TenYearFloor { lookback_days } => apc["lookback_days"] = lookback_days.into(),
        Apc::None => {}
    }
    let coins: Vec<Value> = cal
        .coins
        .iter()
        .map(|c| {
            let r = &c.range;
            json!({
                "coin": c.coin.to_string(),
                "sigma_now": c.sigmas.now,
                "sigma_lagged": c.sigmas.lagged,
                "sigma_stressed": c.sigmas.stressed,
                "stress_window": c.stress_window.map(|(a, b)| json!({"from": day(a), "to": day(b)})),
                "sigma_lookback": c.sigmas.long,
                "sigma_used": r.sigma_used,
                "base_range": r.base,
                "buffered_range": r.buffered,
                "buffer_released": r.buffer_released,
                "range": r.range,
                "bound": r.bound.name(),
            })
        })
        .collect();
    let names: Vec<String> = cal.coins.iter().map(|c| c.coin.to_string()).collect();
    let u = names.len();
    let matrix: Vec<Vec<f64>> = (0..u)
        .map(|i| cal.correlation[i * u..(i + 1) * u].to_vec())
        .collect();
    json!({
        "preset": model.name,
        "preset_version": model.version,
        "asof": day(cal.asof),
        "horizon_days": p.horizon_days,
        "confidence": p.confidence,
        "z": cal.z,
        "ewma_lambda": p.ewma_lambda,
        "floor": p.floor,
        "cap": p.cap,
        "apc": apc,
        "coins": coins,
        "volatility": cal.coins.iter().map(|c| (c.coin.to_string(), json!(c.sigmas.now)))
            .collect::<serde_json::Map<_, _>>(),
        "correlation": {"coins": names, "matrix": matrix},
        "binding_coin": cal.binding_coin.to_string(),
        "range": cal.range,
        "notes": [
            "floor and cap defaults, the buffer's release rule, the stressed-window rule and the \
             variance mixture are our choices (unpublished); EMIR RTS 153/2013 art. 28 names \
             the three tools, not these formulas",
            "R is the h-day log-return quantile used as a symmetric relative move",
        ],
    })
}

fn number(v: &Value) -> String {
    match v {
        Value::Number(n) => n.as_f64().map_or("?".into(), |x| format!("{x}")),
        Value::Array(a) => format!("{} moves", a.len()),
        _ => "-".into(),
    }
}

fn render(j: &Value, cal: &Calibration) -> String {
    let mut s = format!(
        "calibrate {} (version {}) as of {}: horizon {} d, confidence {}, z {:.6}, EWMA λ {}, \
         floor {}, cap {}\nanti-procyclicality: {}\n\n",
        j["preset"].as_str().unwrap_or("?"),
        j["preset_version"].as_str().unwrap_or("?"),
        j["asof"].as_str().unwrap_or("?"),
        cal.params.horizon_days,
        cal.params.confidence,
        cal.z,
        cal.params.ewma_lambda,
        cal.params.floor,
        cal.params.cap,
        cal.params.apc.rule(),
    );
    let mut t = Table::new(&[
        ("coin", Align::Left),
        ("EWMA σ/day", Align::Right),
        ("σ used", Align::Right),
        ("z·σ·√h", Align::Right),
        ("buffered", Align::Right),
        ("range", Align::Right),
        ("bound", Align::Left),
    ]);
    for c in &cal.coins {
        let r = &c.range;
        t.row(vec![
            c.coin.to_string(),
            format!("{:.6}", c.sigmas.now),
            format!("{:.6}", r.sigma_used),
            format!("{:.6}", r.base),
            format!("{:.6}", r.buffered),
            format!("{:.6}", r.range),
            r.bound.name().unwrap_or("").to_string(),
        ]);
    }
    s += &t.render();
    let mut t = Table::new(&[
        ("parameter", Align::Left),
        ("old → new", Align::Left),
        ("reason", Align::Left),
    ]);
    for p in j["parameters"].as_array().into_iter().flatten() {
        t.row(vec![
            p["name"].as_str().unwrap_or("?").to_string(),
            format!("{} → {}", number(&p["old"]), number(&p["new"])),
            p["reason"].as_str().unwrap_or("").to_string(),
        ]);
    }
    s += "\n";
    s += &t.render();
    if let Some(out) = j["out"].as_str() {
        s += &format!("\nwrote {out}\n");
    }
    s
}
