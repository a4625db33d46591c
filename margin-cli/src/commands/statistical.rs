//! What `margin var` and the statistical presets in `compute` and `whatif` share: the JSON
//! of a VaR run, its text rendering, and the statistical branches of `compute` and `whatif`.
//! Every number comes from `margin_opt` (`var`, `joint`) and through it `margin_core`.

use super::common::{self, MarketArgs, PortfolioArgs};
use crate::error::CliError;
use crate::output::{self, Align, Table};
use margin_core::Instrument;
use margin_core::account::Margin;
use margin_core::io::engine::{AccountError, status_name};
use margin_core::scenario::VolShock;
use margin_core::spec::Method;
use margin_core::stats::monte_carlo::Dist;
use margin_core::time::Timestamp;
use margin_opt::joint::JointEngine;
use margin_opt::var::{VarParams, VarReport};
use serde_json::{Map, Value, json};

/// `YYYY-MM-DD` of a midnight timestamp.
pub fn day(t: Timestamp) -> String {
    t.to_string().chars().take(10).collect()
}

/// The `--dist` spelling of a distribution.
pub fn dist_name(d: &Dist) -> String {
    match d {
        Dist::Normal => "normal".to_string(),
        Dist::StudentT { nu } => format!("t:{nu}"),
    }
}

/// The `--vol-rule` spelling of a vol shock.
pub fn vol_rule_name(v: &VolShock) -> String {
    match v {
        VolShock::Rule { shift, beta, floor } => format!("shift:{shift},{beta},{floor}"),
        _ => "unchanged".to_string(),
    }
}

/// Adds the keys of a VaR run to `out`: method, estimator, confidence, horizon_days,
/// scenarios, var, es, history, vol_rule, time_decay, tail, contributions, volatility,
/// correlation, and seed/dist (Monte Carlo, parametric), full_revaluation and delta_gamma
/// (parametric). `dates` are the history's, for HS/FHS window labels.
pub fn report_json(
    out: &mut Value,
    params: &VarParams,
    dates: &[Timestamp],
    instruments: &[Instrument],
    r: &VarReport,
) {
    let coins: Vec<String> = r.coins.iter().map(|c| c.to_string()).collect();
    let moves = |m: &[f64]| -> Map<String, Value> {
        coins
            .iter()
            .zip(m)
            .map(|(c, x)| (c.clone(), json!(x)))
            .collect()
    };
    let tail: Vec<Value> = r
        .tail
        .iter()
        .map(|t| match t.window {
            Some((s, e)) => json!({"start": day(dates[s]), "end": day(dates[e]),
                "weight": t.weight, "loss": t.loss, "moves": moves(&t.moves)}),
            None => json!({"index": t.index, "weight": t.weight, "loss": t.loss,
                "moves": moves(&t.moves)}),
        })
        .collect();
    let u = coins.len();
    let source = &params.source;
    let fields = json!({
        "method": source.method.name(),
        "estimator": estimator(params),
        "confidence": params.confidence,
        "horizon_days": source.horizon_days,
        "scenarios": r.scenarios,
        "var": r.var,
        "es": r.es,
        "history": {"coins": coins, "from": dates.first().map(|d| day(*d)),
            "to": dates.last().map(|d| day(*d)), "closes": dates.len()},
        "vol_rule": vol_rule_name(&source.vol),
        "time_decay": source.time_decay,
        "tail": tail,
        "contributions": instruments.iter().zip(&r.contributions)
            .map(|(i, c)| json!({"instrument": i.to_string(), "es_contribution": c}))
            .collect::<Vec<_>>(),
        "volatility": moves(&r.volatility),
        "correlation": {"coins": coins,
            "matrix": (0..u).map(|i| r.correlation[i * u..(i + 1) * u].to_vec())
                .collect::<Vec<_>>()},
    });
    let (Value::Object(out), Value::Object(fields)) = (out, fields) else {
        return;
    };
    out.extend(fields);
    if matches!(source.method, Method::MonteCarlo | Method::Parametric) {
        out.insert("seed".into(), json!(source.seed));
        out.insert("dist".into(), json!(dist_name(&source.dist)));
    }
    if let Some((var, es)) = r.full_revaluation {
        out.insert(
            "full_revaluation".into(),
            json!({"var": var, "es": es,
                "es_error": relative_error(r.es, es)}),
        );
    }
    if let (Some((_, full_es)), Some((var, es))) = (r.full_revaluation, r.delta_gamma) {
        out.insert(
            "delta_gamma".into(),
            json!({"var": var, "es": es,
                "es_error": relative_error(es, full_es)}),
        );
    }
}

/// `(estimate − reference)/|reference|`, or `None` (JSON `null`) when the reference is 0 or
/// the ratio is not finite: never an infinite number reported as an error figure.
fn relative_error(estimate: f64, reference: f64) -> Option<f64> {
    let e = (estimate - reference) / reference.abs();
    (reference != 0.0 && e.is_finite()).then_some(e)
}

/// A relative error in percent, or `undefined` (reference 0).
fn error_pct(e: &Value) -> String {
    e.as_f64().map_or_else(
        || "undefined".to_string(),
        |e| format!("{:+.2} %", 100.0 * e),
    )
}

/// The margin keys shared with `compute --json` (account, preset, IM, MM, equity, ratio,
/// free collateral, status, components, worst scenario).
fn margin_json(
    portfolio: &margin_core::io::Portfolio,
    market: &str,
    valuation_time: Timestamp,
    m: &Margin,
) -> Value {
    json!({
        "account": portfolio.account,
        "currency": portfolio.currency.to_string(),
        "preset": m.preset.name,
        "preset_version": m.preset.version,
        "preset_modified": m.preset.modified,
        "market": market,
        "valuation_time": valuation_time.to_string(),
        "initial_margin": m.initial,
        "maintenance_margin": m.maintenance,
        "equity": m.equity,
        "margin_ratio": m.margin_ratio,
        "free_collateral": m.free_collateral,
        "status": status_name(m.status),
        "components": m.components.iter().map(|c| (c.name.to_string(), json!(c.value)))
            .collect::<Map<_, _>>(),
        "worst_scenario": {"index": m.worst.index, "price_move": m.worst.price_move,
            "vol_shock": m.worst.vol_shock, "loss": m.worst.loss},
    })
}

fn account_error(file: &std::path::Path, e: AccountError) -> CliError {
    CliError::bad_input(format!("{}: {e}", file.display()))
}

/// `margin compute` under a statistical preset: the margin keys of a grid run plus the run's.
pub fn compute(
    portfolio_args: &PortfolioArgs,
    market_args: &MarketArgs,
    universe_model: margin_core::model::Model,
    engine: &JointEngine,
    json_out: bool,
) -> Result<(), CliError> {
    let portfolio = common::read_portfolio(portfolio_args)?;
    let market = market_args.read()?;
    let extra: Vec<_> = portfolio.positions.iter().map(|p| p.instrument).collect();
    let matrix = common::matrix(market, &market_args.market, universe_model, &extra)?;
    let universe = matrix.universe();
    let views = matrix.views();
    let arrays = views.arrays();
    let (m, report) = engine
        .margin(&matrix, &portfolio, &[])
        .map_err(|e| account_error(&portfolio_args.portfolio, e))?;
    margin_core::io::engine::finite_margin(&m)
        .map_err(|e| account_error(&portfolio_args.portfolio, AccountError::core(&portfolio, e)))?;
    let instruments: Vec<_> = universe
        .positions(&portfolio)
        .map_err(|e| account_error(&portfolio_args.portfolio, AccountError::Position(e)))?
        .iter()
        .map(|p| arrays.instruments()[p.instrument])
        .collect();
    let market_name = market_args.market.display().to_string();
    let mut out = margin_json(
        &portfolio,
        &market_name,
        arrays.market().valuation_time(),
        &m,
    );
    report_json(
        &mut out,
        engine.params(),
        engine.dates(),
        &instruments,
        &report,
    );
    if json_out {
        output::print_json(&out)
    } else {
        output::print(&render(&out))
    }
}

fn estimator(params: &VarParams) -> &'static str {
    match params.source.method {
        Method::Parametric => {
            "delta-normal: VaR = z_c*sigma_P, ES = sigma_P*phi(z_c)/(1-c), sigma_P = sqrt(h*d'Sd)"
        }
        _ => "Acerbi-Tasche ES over N equally likely losses, m = N(1-c), VaR = L(ceil(m))",
    }
}

/// The text report of a statistical run (`margin var`, or `compute` under a statistical
/// preset, whose JSON also has the margin keys).
pub fn render(j: &Value) -> String {
    let mut s = String::new();
    if let Some(im) = j.get("initial_margin") {
        s += &format!(
            "account {} ({}) · preset {} {}\n  IM {:.6}  MM {:.6}  equity {:.6}  status {}\n",
            j["account"].as_str().unwrap_or(""),
            j["currency"].as_str().unwrap_or(""),
            j["preset"].as_str().unwrap_or(""),
            j["preset_version"].as_str().unwrap_or(""),
            im.as_f64().unwrap_or(f64::NAN),
            j["maintenance_margin"].as_f64().unwrap_or(f64::NAN),
            j["equity"].as_f64().unwrap_or(f64::NAN),
            j["status"].as_str().unwrap_or(""),
        );
    }
    s += &format!(
        "{} {} · {} ({} scenarios, {} day(s), c = {})\n  VaR {:.6} {}\n  ES  {:.6} {}\n",
        j["account"].as_str().unwrap_or(""),
        j["currency"].as_str().unwrap_or(""),
        j["method"].as_str().unwrap_or(""),
        j["scenarios"],
        j["horizon_days"],
        j["confidence"],
        j["var"].as_f64().unwrap_or(f64::NAN),
        j["currency"].as_str().unwrap_or(""),
        j["es"].as_f64().unwrap_or(f64::NAN),
        j["currency"].as_str().unwrap_or(""),
    );
    if let Some(f) = j.get("full_revaluation") {
        s += &format!(
            "  full revaluation on the same covariance: VaR {:.6}, ES {:.6} (parametric ES error {})\n",
            f["var"].as_f64().unwrap_or(f64::NAN),
            f["es"].as_f64().unwrap_or(f64::NAN),
            error_pct(&f["es_error"])
        );
    }
    if let Some(f) = j.get("delta_gamma") {
        s += &format!(
            "  delta-gamma-vega on the same scenarios: VaR {:.6}, ES {:.6} (ES error {})\n",
            f["var"].as_f64().unwrap_or(f64::NAN),
            f["es"].as_f64().unwrap_or(f64::NAN),
            error_pct(&f["es_error"])
        );
    }
    let mut t = Table::new(&[
        ("instrument", Align::Left),
        ("ES contribution", Align::Right),
    ]);
    for c in j["contributions"].as_array().into_iter().flatten() {
        t.row(vec![
            c["instrument"].as_str().unwrap_or("").to_string(),
            format!("{:.6}", c["es_contribution"].as_f64().unwrap_or(f64::NAN)),
        ]);
    }
    s += "\n";
    s += &t.render();
    let mut t = Table::new(&[
        ("tail scenario", Align::Left),
        ("weight", Align::Right),
        ("loss", Align::Right),
        ("moves", Align::Left),
    ]);
    for x in j["tail"].as_array().into_iter().flatten().take(10) {
        let label = match x.get("start") {
            Some(s) => format!(
                "{} → {}",
                s.as_str().unwrap_or(""),
                x["end"].as_str().unwrap_or("")
            ),
            None => format!("draw {}", x["index"]),
        };
        let moves = x["moves"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} {:+.2} %", 100.0 * v.as_f64().unwrap_or(f64::NAN)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        t.row(vec![
            label,
            format!("{:.4}", x["weight"].as_f64().unwrap_or(f64::NAN)),
            format!("{:.6}", x["loss"].as_f64().unwrap_or(f64::NAN)),
            moves,
        ]);
    }
    s += "\n";
    s += &t.render();
    s
}
