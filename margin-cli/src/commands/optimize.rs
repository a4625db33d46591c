//! `margin optimize`: minimum-margin hedges and liquidation plans; every number from
//! `margin_opt::hedge` (and through it `margin_core`). This file reads flags and files and
//! prints. The JSON schema is in `docs/optimize.md`.

use super::common::{self, MarketArgs, PortfolioArgs};
use super::var::{self, StatArgs};
use crate::error::CliError;
use crate::output::{self, Align, Table};
use margin_core::Instrument;
use margin_core::io::{Portfolio, PriceHistory};
use margin_core::model::Model;
use margin_core::risk::Position;
use margin_core::spec::{Covariance, Method};
use margin_core::stats::monte_carlo::Dist;
use margin_opt::hedge::es::{self, EsAccount};
use margin_opt::hedge::grid::GridAccount;
use margin_opt::hedge::liquidate::{self, Target};
use margin_opt::hedge::{self, Candidate, OptError, Quality, SolveInfo, lots, worst};
use margin_opt::joint::{JointEngine, lookup_model};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Arguments of `margin optimize`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin optimize --portfolio examples/portfolio-btc.json \\\n      \
      --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv \\\n      \
      --objective worst --hedges BTC-25SEP26,BTC-PERPETUAL --bound 5\n  \
    margin optimize ... --objective worst --hedges auto --budget 0.01 --lot 0.1 --json\n  \
    margin optimize ... --objective es --history data/btc-eth-daily/btc_eth_daily_close_aligned.csv \\\n      \
      --method hs --horizon 2 --hedges BTC-PERPETUAL --bound 5\n  \
    margin optimize ... --objective liquidate --target mm\n\n\
Objectives: worst (grid presets: worst case with add-ons, an LP), es (Expected Shortfall on \
hs/fhs/mc scenarios, the Rockafellar-Uryasev LP by cutting planes), liquidate (cheapest \
reductions of existing positions restoring IM or MM on a grid preset). qp and pvar are not \
built yet. Costs: half the quoted bid-ask spread per unit (market JSON bid_price/ask_price, \
Deribit CSV bid_price/ask_price); unquoted instruments cost 0 and are listed. Every result \
is re-margined by the core at the returned sizes.")]
pub struct OptimizeArgs {
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    #[command(flatten)]
    pub market: MarketArgs,
    /// What to minimise: worst, es, qp, pvar or liquidate.
    #[arg(long, value_parser = ["worst", "es", "qp", "pvar", "liquidate"])]
    pub objective: String,
    /// Candidate hedges: a comma-separated list of instruments, or auto (the futures and
    /// perpetual of each underlying held plus the options of the --auto-expiries nearest
    /// expiries). Not used by liquidate.
    #[arg(long, value_name = "LIST|auto")]
    pub hedges: Option<String>,
    /// Every hedge trades within [-X, X] (default: the sum of the account's |sizes|, at least 1).
    #[arg(
        long,
        value_name = "X",
        conflicts_with = "bounds",
        allow_negative_numbers = true
    )]
    pub bound: Option<f64>,
    /// Per-hedge bounds INSTR:LO:HI,... (LO <= 0 <= HI); unlisted hedges take the default.
    #[arg(long, value_name = "INSTR:LO:HI,...", allow_hyphen_values = true)]
    pub bounds: Option<String>,
    /// Most half-spread cost spent, account currency.
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub budget: Option<f64>,
    /// Trade in multiples of this size (rounded, never above the unhedged margin).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub lot: Option<f64>,
    /// Liquidate: the margin to restore, im or mm.
    #[arg(long, default_value = "mm", value_parser = ["im", "mm"])]
    pub target: String,
    /// auto hedges: option expiries per underlying.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub auto_expiries: usize,
    /// ES: cutting-plane (default) or full LP.
    #[arg(long, default_value = "cutting-plane", value_parser = ["cutting-plane", "full"])]
    pub es_solver: String,
    #[command(flatten)]
    pub stat: StatArgs,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write the efficient frontier (margin against cost budget) as SVG.
    #[arg(long, value_name = "FRONTIER.svg")]
    pub svg: Option<PathBuf>,
}

fn bad(msg: impl Into<String>) -> CliError {
    CliError::bad_input(msg)
}

fn opt_err(e: OptError) -> CliError {
    match e {
        OptError::Mismatch { .. } | OptError::Numerical(_) => CliError::internal(e.to_string()),
        e => bad(e.to_string()),
    }
}

/// Runs `margin optimize`.
pub fn run(args: &OptimizeArgs) -> Result<(), CliError> {
    if matches!(args.objective.as_str(), "qp" | "pvar") {
        return Err(bad(format!(
            "objective {} is not built yet (built: worst, es, liquidate)",
            args.objective
        )));
    }
    if let Some(l) = args.lot {
        lots::check_lot(l).map_err(|e| bad(format!("--lot: {e}")))?;
    }
    let portfolio = common::read_portfolio(&args.portfolio)?;
    let what = args.portfolio.portfolio.display().to_string();
    let market = args.market.read()?;
    let hedge_list = parse_hedges(args)?;
    let mut extra: Vec<Instrument> = portfolio.positions.iter().map(|p| p.instrument).collect();
    extra.extend(hedge_list.iter().flatten().copied());
    let out = if args.objective == "es" {
        let engine = es_engine(args, portfolio.currency, &what)?;
        let lookup = lookup_model().map_err(|e| CliError::internal(e.to_string()))?;
        let matrix = common::matrix(market, &args.market.market, lookup, &extra)?;
        run_es(args, &portfolio, &matrix, &engine, hedge_list)?
    } else {
        let (model, engine) = args
            .market
            .model_and_engine_for(portfolio.currency, &what)?;
        if engine.is_some() {
            return Err(bad(format!(
                "--objective {} needs a grid preset (deribit-btc, deribit-eth, span16, grid); \
                 statistical presets: --objective es",
                args.objective
            )));
        }
        let matrix = common::matrix(market, &args.market.market, model, &extra)?;
        let acc = GridAccount::new(&matrix, &portfolio).map_err(|e| bad(format!("{what}: {e}")))?;
        if args.objective == "liquidate" {
            run_liquidate(args, &portfolio, &acc)?
        } else {
            run_worst(args, &portfolio, &acc, hedge_list)?
        }
    };
    if args.json {
        output::print_json(&out)
    } else {
        output::print(&render(&out))
    }
}

/// `None` for auto, else the listed instruments.
fn parse_hedges(args: &OptimizeArgs) -> Result<Option<Vec<Instrument>>, CliError> {
    let Some(text) = &args.hedges else {
        if args.objective == "liquidate" {
            return Ok(Some(Vec::new()));
        }
        return Err(bad(format!(
            "--objective {} needs --hedges LIST|auto",
            args.objective
        )));
    };
    if args.objective == "liquidate" {
        return Err(bad(
            "--hedges is not used by --objective liquidate (it reduces existing positions)",
        ));
    }
    if text == "auto" {
        return Ok(None);
    }
    text.split(',')
        .map(|s| {
            Instrument::parse(s.trim()).map_err(|e| bad(format!("--hedges {}: {e}", s.trim())))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The candidates with their bounds and half-spreads, and the instruments with no quote.
fn candidates(
    args: &OptimizeArgs,
    portfolio: &Portfolio,
    matrix: &margin_core::io::matrix::RiskMatrix,
    list: Option<Vec<Instrument>>,
) -> Result<(Vec<Candidate>, Vec<Instrument>), CliError> {
    let held: Vec<Instrument> = portfolio.positions.iter().map(|p| p.instrument).collect();
    let list = list.unwrap_or_else(|| {
        hedge::auto_candidates(matrix, &held, portfolio.currency, args.auto_expiries)
    });
    if list.is_empty() {
        return Err(bad(
            "--hedges auto: no future, perpetual or option of the account's underlyings settles in its currency",
        ));
    }
    let default = args.bound.unwrap_or_else(|| {
        portfolio
            .positions
            .iter()
            .map(|p| p.size.abs())
            .sum::<f64>()
            .max(1.0)
    });
    if !(default.is_finite() && default >= 0.0) {
        return Err(bad(format!(
            "--bound {default}: expected a finite size >= 0"
        )));
    }
    let mut bounds: Vec<(Instrument, f64, f64)> = Vec::new();
    for item in args.bounds.iter().flat_map(|b| b.split(',')) {
        let err = || {
            bad(format!(
                "--bounds {item}: expected INSTR:LO:HI with LO <= 0 <= HI"
            ))
        };
        let mut parts = item.rsplitn(3, ':');
        let (hi, lo, name) = (parts.next(), parts.next(), parts.next());
        let (Some(hi), Some(lo), Some(name)) = (hi, lo, name) else {
            return Err(err());
        };
        let inst = Instrument::parse(name.trim()).map_err(|_| err())?;
        let (lo, hi) = (
            lo.trim().parse::<f64>().map_err(|_| err())?,
            hi.trim().parse::<f64>().map_err(|_| err())?,
        );
        if !list.contains(&inst) {
            return Err(bad(format!(
                "--bounds {item}: {inst} is not among --hedges"
            )));
        }
        bounds.push((inst, lo, hi));
    }
    let mut unquoted = Vec::new();
    let cands = list
        .iter()
        .map(|&instrument| {
            let (lo, hi) = bounds
                .iter()
                .find(|b| b.0 == instrument)
                .map_or((-default, default), |b| (b.1, b.2));
            let half_spread = hedge::half_spread(matrix, &instrument).unwrap_or_else(|| {
                unquoted.push(instrument);
                0.0
            });
            Candidate {
                instrument,
                lo,
                hi,
                half_spread,
            }
        })
        .collect();
    Ok((cands, unquoted))
}

/// The ES engine: `--model` when it names a statistical ES preset, else the preset of
/// `--method` (hs-es, fhs-es, mc-es) with `margin var`'s flags as its parameters.
fn es_engine(
    args: &OptimizeArgs,
    currency: margin_core::Asset,
    what: &str,
) -> Result<JointEngine, CliError> {
    if args.market.model.is_some() {
        let (_, engine) = args.market.model_and_engine_for(currency, what)?;
        return engine.ok_or_else(|| {
            bad("--objective es needs a statistical ES preset (hs-es, fhs-es, mc-es) or none (then --method and margin var's flags pick it)")
        });
    }
    if args.market.history.is_empty() {
        return Err(bad(
            "--objective es needs a price history: --history FILE (e.g. data/btc-eth-daily/btc_eth_daily_close_aligned.csv)",
        ));
    }
    let p = var::params(&args.stat)?;
    let name = match p.source.method {
        Method::Historical => "hs-es",
        Method::Filtered => "fhs-es",
        Method::MonteCarlo => "mc-es",
        Method::Parametric => {
            return Err(bad(
                "--method parametric: the ES LP needs scenarios (hs, fhs, mc); objective pvar is not built yet",
            ));
        }
    };
    let mut model = Model::preset(name).map_err(|e| CliError::internal(e.to_string()))?;
    let s = &p.source;
    let (shift, beta, floor) = match s.vol {
        margin_core::scenario::VolShock::Rule { shift, beta, floor } => (shift, beta, floor),
        _ => (0.0, 0.0, 0.0),
    };
    let nu = match s.dist {
        Dist::StudentT { nu } => nu,
        Dist::Normal => 0.0,
    };
    let values = [
        ("confidence", p.confidence),
        ("horizon_days", s.horizon_days as f64),
        ("ewma_lambda", s.lambda),
        ("overlapping", f64::from(u8::from(s.overlapping))),
        (
            "ewma_covariance",
            f64::from(u8::from(s.covariance == Covariance::Ewma)),
        ),
        ("scenarios", s.scenarios as f64),
        ("seed", s.seed as f64),
        ("student_t_nu", nu),
        ("vol_shift", shift),
        ("vol_beta", beta),
        ("vol_floor", floor),
        ("time_decay", f64::from(u8::from(s.time_decay))),
    ];
    for (k, v) in values {
        model
            .set(k, v)
            .map_err(|e| bad(format!("statistical option {k} = {v}: {e}")))?;
    }
    let history = var::window(PriceHistory::load(&args.market.history)?, &args.stat)?;
    JointEngine::new(model, &history).map_err(|e| bad(format!("--history: {e}")))
}

fn status(info: Option<&SolveInfo>) -> Value {
    match info.map(|i| i.quality) {
        None => json!("already_met"),
        Some(q) => json!(q.name()),
    }
}

fn base_json(args: &OptimizeArgs, portfolio: &Portfolio) -> Value {
    json!({
        "account": portfolio.account,
        "currency": portfolio.currency.to_string(),
        "objective": args.objective,
        "market": args.market.market.display().to_string(),
    })
}

fn add(out: &mut Value, v: Value) {
    if let (Some(o), Value::Object(v)) = (out.as_object_mut(), v) {
        o.extend(v);
    }
}

fn solver_json(info: Option<&SolveInfo>) -> Value {
    let mut v = json!({
        "status": status(info),
        "iterations": info.map_or(0, |i| i.iterations),
        "solve_ms": info.map_or(0.0, |i| i.solve_ms),
        "solves": info.map_or(0, |i| i.solves),
    });
    if let Some(SolveInfo {
        quality: Quality::AlmostSolved { r_prim, r_dual },
        ..
    }) = info
    {
        add(
            &mut v,
            json!({"residuals": {"primal": r_prim, "dual": r_dual}}),
        );
    }
    v
}

fn hedges_json(c: &[Candidate], x: &[f64]) -> Value {
    json!(
        c.iter()
            .zip(x)
            .filter(|(_, s)| **s != 0.0)
            .map(|(c, s)| json!({"instrument": c.instrument.to_string(), "size": s}))
            .collect::<Vec<_>>()
    )
}

fn names(v: &[Instrument]) -> Value {
    json!(v.iter().map(|i| i.to_string()).collect::<Vec<_>>())
}

fn run_worst(
    args: &OptimizeArgs,
    portfolio: &Portfolio,
    acc: &GridAccount<'_>,
    list: Option<Vec<Instrument>>,
) -> Result<Value, CliError> {
    let (cands, unquoted) = candidates(args, portfolio, acc.matrix, list)?;
    let r = worst::minimise(acc, &cands, args.budget).map_err(opt_err)?;
    let rows: Vec<usize> = cands
        .iter()
        .map(|c| acc.row(&c.instrument))
        .collect::<Result<_, _>>()
        .map_err(opt_err)?;
    let (trades, after, binding) = match args.lot {
        None => (r.trades.clone(), r.after.clone(), r.binding.clone()),
        Some(lot) => {
            let objective = |x: &[f64]| -> Result<f64, OptError> {
                let (m, _) = acc.margin_with(&worst::trades_of(&rows, x))?;
                Ok(m.initial + hedge::cost(&cands, x))
            };
            let (x, _) =
                lots::round(&r.trades, &cands, lot, args.budget, objective).map_err(opt_err)?;
            let (m, counted) = acc
                .margin_with(&worst::trades_of(&rows, &x))
                .map_err(opt_err)?;
            let b = hedge::grid::binding(&counted, 1e-9 * r.before.initial.max(1e-300));
            (x, m, b)
        }
    };
    let mut out = base_json(args, portfolio);
    add(&mut out, solver_json(Some(&r.info)));
    add(
        &mut out,
        json!({
            "preset": acc.matrix.model().name,
            "margin_before": r.before.initial,
            "margin_after": after.initial,
            "maintenance_before": r.before.maintenance,
            "maintenance_after": after.maintenance,
            "capital_freed": r.before.initial - after.initial,
            "cost": hedge::cost(&cands, &trades),
            "relaxed_margin_after": r.after.initial,
            "lot": args.lot,
            "hedges": hedges_json(&cands, &trades),
            "candidates": cands.len(),
            "binding_scenarios": binding,
            "unquoted": names(&unquoted),
        }),
    );
    if let Some(file) = &args.svg {
        let frontier = frontier(r.before.initial, hedge::cost(&cands, &r.trades), |b| {
            worst::minimise(acc, &cands, Some(b)).map(|r| (r.cost, r.after.initial))
        })?;
        write_frontier(file, &frontier, &portfolio.currency.to_string())?;
        add(&mut out, json!({"frontier": frontier_json(&frontier)}));
    }
    Ok(out)
}

fn run_es(
    args: &OptimizeArgs,
    portfolio: &Portfolio,
    matrix: &margin_core::io::matrix::RiskMatrix,
    engine: &JointEngine,
    list: Option<Vec<Instrument>>,
) -> Result<Value, CliError> {
    let what = args.portfolio.portfolio.display();
    let acc = EsAccount::new(engine, matrix, portfolio).map_err(|e| bad(format!("{what}: {e}")))?;
    let (cands, unquoted) = candidates(args, portfolio, matrix, list)?;
    let method = if args.es_solver == "full" {
        es::Method::Full
    } else {
        es::Method::CuttingPlane
    };
    let r = es::minimise(&acc, &cands, args.budget, method).map_err(opt_err)?;
    let rows: Vec<usize> = cands
        .iter()
        .map(|c| acc.row(&c.instrument))
        .collect::<Result<_, _>>()
        .map_err(opt_err)?;
    let (trades, after, es_after, binding) = match args.lot {
        None => (
            r.trades.clone(),
            r.after.clone(),
            r.es_after,
            r.binding.clone(),
        ),
        Some(lot) => {
            let objective = |x: &[f64]| -> Result<f64, OptError> {
                let (m, _, _) = acc.margin_with(&worst::trades_of(&rows, x))?;
                Ok(m.initial + hedge::cost(&cands, x))
            };
            let (x, _) =
                lots::round(&r.trades, &cands, lot, args.budget, objective).map_err(opt_err)?;
            let (m, es, b) = acc
                .margin_with(&worst::trades_of(&rows, &x))
                .map_err(opt_err)?;
            (x, m, es, b)
        }
    };
    let mut out = base_json(args, portfolio);
    add(&mut out, solver_json(Some(&r.info)));
    add(
        &mut out,
        json!({
            "preset": engine.model().name,
            "method": engine.params().source.method.name(),
            "confidence": engine.params().confidence,
            "scenarios": engine.scenarios().moves.len() / engine.scenarios().coins.len().max(1),
            "es_solver": args.es_solver,
            "active_scenarios": r.active,
            "margin_before": r.before.initial,
            "margin_after": after.initial,
            "es_before": r.es_before,
            "es_after": es_after,
            "capital_freed": r.before.initial - after.initial,
            "cost": hedge::cost(&cands, &trades),
            "relaxed_margin_after": r.after.initial,
            "lot": args.lot,
            "hedges": hedges_json(&cands, &trades),
            "candidates": cands.len(),
            "binding_scenarios": binding,
            "unquoted": names(&unquoted),
        }),
    );
    if let Some(file) = &args.svg {
        let frontier = frontier(r.before.initial, hedge::cost(&cands, &r.trades), |b| {
            es::minimise(&acc, &cands, Some(b), method).map(|r| (r.cost, r.after.initial))
        })?;
        write_frontier(file, &frontier, &portfolio.currency.to_string())?;
        add(&mut out, json!({"frontier": frontier_json(&frontier)}));
    }
    Ok(out)
}

fn run_liquidate(
    args: &OptimizeArgs,
    portfolio: &Portfolio,
    acc: &GridAccount<'_>,
) -> Result<Value, CliError> {
    if args.lot.is_some() || args.budget.is_some() || args.bound.is_some() || args.bounds.is_some()
    {
        return Err(bad(
            "--lot, --budget, --bound and --bounds are not used by --objective liquidate",
        ));
    }
    if args.svg.is_some() {
        return Err(bad(
            "--svg draws the hedge frontier: not used by --objective liquidate",
        ));
    }
    let target = if args.target == "im" {
        Target::Initial
    } else {
        Target::Maintenance
    };
    let instruments: Vec<Instrument> = acc
        .positions
        .iter()
        .map(|p| acc.matrix.instruments()[p.instrument])
        .collect();
    let mut unquoted = Vec::new();
    let spreads: Vec<f64> = instruments
        .iter()
        .map(|i| {
            hedge::half_spread(acc.matrix, i).unwrap_or_else(|| {
                unquoted.push(*i);
                0.0
            })
        })
        .collect();
    let plan = liquidate::plan(acc, &spreads, target).map_err(opt_err)?;
    let mut out = base_json(args, portfolio);
    add(&mut out, solver_json(plan.info.as_ref()));
    let trades: Vec<Value> = instruments
        .iter()
        .zip(&plan.trades)
        .filter(|(_, t)| **t != 0.0)
        .map(|(i, t)| json!({"instrument": i.to_string(), "size": t}))
        .collect();
    let rows: Vec<Position> = acc
        .positions
        .iter()
        .zip(&plan.trades)
        .map(|(p, &t)| Position {
            instrument: p.instrument,
            size: t,
        })
        .collect();
    let (_, counted) = acc.margin_with(&rows).map_err(opt_err)?;
    add(
        &mut out,
        json!({
            "preset": acc.matrix.model().name,
            "target": target.name(),
            "equity": portfolio.equity,
            "margin_before": target.of(&plan.before),
            "margin_after": target.of(&plan.after),
            "initial_before": plan.before.initial,
            "initial_after": plan.after.initial,
            "maintenance_before": plan.before.maintenance,
            "maintenance_after": plan.after.maintenance,
            "capital_freed": plan.before.initial - plan.after.initial,
            "cost": plan.cost,
            "hedges": trades,
            "binding_scenarios": hedge::grid::binding(&counted, 1e-9 * plan.before.initial.max(1e-300)),
            "unquoted": names(&unquoted),
        }),
    );
    Ok(out)
}

/// Points of the efficient frontier: the optimum at budgets 0, 1/8, …, 1 of the unconstrained
/// optimum's cost, as (cost, margin), plus the unhedged margin at cost 0.
fn frontier(
    before: f64,
    full_cost: f64,
    mut at: impl FnMut(f64) -> Result<(f64, f64), OptError>,
) -> Result<Vec<(f64, f64)>, CliError> {
    let mut pts = vec![(0.0, before)];
    for k in 0..=8 {
        pts.push(at(full_cost * k as f64 / 8.0).map_err(opt_err)?);
    }
    Ok(pts)
}

fn frontier_json(f: &[(f64, f64)]) -> Value {
    json!(
        f.iter()
            .map(|(c, m)| json!({"cost": c, "margin": m}))
            .collect::<Vec<_>>()
    )
}

fn write_frontier(file: &PathBuf, f: &[(f64, f64)], currency: &str) -> Result<(), CliError> {
    let (w, h, pad) = (640.0, 400.0, 60.0);
    let max_c = f.iter().map(|p| p.0).fold(0.0, f64::max).max(1e-300);
    let max_m = f.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-300);
    let x = |c: f64| pad + (w - 2.0 * pad) * c / max_c;
    let y = |m: f64| h - pad - (h - 2.0 * pad) * m / max_m;
    let points: Vec<String> = f
        .iter()
        .map(|&(c, m)| format!("{:.2},{:.2}", x(c), y(m)))
        .collect();
    let dots: String = f
        .iter()
        .map(|&(c, m)| format!("<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"3\"/>", x(c), y(m)))
        .collect();
    let cur = crate::svg::escape(currency);
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\
<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
<line x1=\"{pad}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"black\"/>\
<line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{b}\" stroke=\"black\"/>\
<text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\">cost budget ({cur}), max {max_c:.6}</text>\
<text x=\"14\" y=\"{cy}\" transform=\"rotate(-90 14 {cy})\" text-anchor=\"middle\">initial margin ({cur}), max {max_m:.6}</text>\
<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"{pts}\"/><g fill=\"steelblue\">{dots}</g></svg>\n",
        b = h - pad,
        r = w - pad,
        cx = w / 2.0,
        ty = h - 20.0,
        cy = h / 2.0,
        pts = points.join(" "),
    );
    std::fs::write(file, svg).map_err(|e| bad(format!("{}: cannot write SVG: {e}", file.display())))
}

/// The text report.
pub fn render(j: &Value) -> String {
    let f = |k: &str| j[k].as_f64().unwrap_or(f64::NAN);
    let cur = j["currency"].as_str().unwrap_or("");
    let mut s = format!(
        "account {} ({cur}) · objective {} · preset {} · status {}\n  margin {:.6} → {:.6} {cur} (freed {:.6}), cost {:.6}\n",
        j["account"].as_str().unwrap_or(""),
        j["objective"].as_str().unwrap_or(""),
        j["preset"].as_str().unwrap_or(""),
        j["status"].as_str().unwrap_or(""),
        f("margin_before"),
        f("margin_after"),
        f("capital_freed"),
        f("cost"),
    );
    if j.get("es_before").is_some() {
        s += &format!("  ES {:.6} → {:.6}\n", f("es_before"), f("es_after"));
    }
    s += &format!(
        "  {} iterations, {:.1} ms, binding scenarios {}\n",
        j["iterations"],
        f("solve_ms"),
        j["binding_scenarios"]
    );
    if let Some(u) = j["unquoted"].as_array().filter(|u| !u.is_empty()) {
        s += &format!("  no bid/ask quote (cost 0): {} instrument(s)\n", u.len());
    }
    let mut t = Table::new(&[("instrument", Align::Left), ("trade", Align::Right)]);
    for h in j["hedges"].as_array().into_iter().flatten() {
        t.row(vec![
            h["instrument"].as_str().unwrap_or("").to_string(),
            format!("{:+.6}", h["size"].as_f64().unwrap_or(f64::NAN)),
        ]);
    }
    s += "\n";
    s += &t.render();
    s
}
