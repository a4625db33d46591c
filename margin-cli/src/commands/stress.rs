//! `margin stress`: named historical events, user shocks and reverse stress of one account
//! (`--portfolio`), or book-level stress with Cover-1/Cover-2 and a liquidation cascade
//! (`--accounts`). Every number comes from `margin_opt::stress`; this file reads flags and
//! files and prints. The JSON schema is in docs/stress.md.

use super::common::{self, PortfolioArgs};
use super::statistical::{day, vol_rule_name};
use super::var::{book_closes, date, parse_vol_rule};
use crate::error::CliError;
use crate::output;
use margin_core::Asset;
use margin_core::io::history::PriceHistory;
use margin_core::io::matrix::RiskMatrix;
use margin_core::model::Model;
use margin_core::spec::{Covariance, JointSource, Method};
use margin_core::stats::ewma::RISKMETRICS_LAMBDA;
use margin_core::stats::monte_carlo::Dist;
use margin_opt::joint::{OwnedBook, lookup_model};
use margin_opt::stress::book::{BookAccount, BookResult, BookStress, read_accounts};
use margin_opt::stress::reverse::{self, Crossing};
use margin_opt::stress::{self, DEFAULT_EVENTS, StressError, StressScenario};
use margin_opt::var::Closes;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// Arguments of `margin stress`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin stress --portfolio examples/portfolio-btc.json \\\n      \
      --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv \\\n      \
      --history data/btc-eth-daily/btc_eth_daily_close_aligned.csv --reverse\n  \
    margin stress ... --shock BTC:-0.3,vol:0.2 --shock BTC:+50% --json\n  \
    margin stress --accounts A.jsonl --market M --history H --impact BTC:1e-10,ETH:1e-10\n\n\
Named events (default 2020-03-12 2021-05-19 2022-06-13 2022-11-09 with --history): each coin's \
close-to-close move over --horizon days ending on the date. Shocks: COIN:MOVE (relative, -0.3 \
or -30%, in [-0.99, 4]; coins not named move 0) and vol:SHIFT (absolute vol points, 0.1 = +10). \
Every scenario is revalued in full as margin var does (--vol-rule, --time-decay). Reverse: the \
smallest uniform move down and up exhausting equity (to 1e-9), none within -99%..+400%, and \
with several coins along the worst historical window. Book (--accounts, batch JSONL): per \
scenario each account's loss beyond equity, the total, Cover-1 and Cover-2, and a liquidation \
cascade with --impact COIN:K (relative price move per USD of net dollar delta closed).")]
pub struct StressArgs {
    /// One account: portfolio JSON, or CSV with header `instrument,size` (equity 0).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "accounts",
        conflicts_with = "accounts"
    )]
    pub portfolio: Option<PathBuf>,
    /// A book: one portfolio JSON object per line (the batch format).
    #[arg(long, value_name = "FILE")]
    pub accounts: Option<PathBuf>,
    /// Market file: market JSON or a Deribit option-chain CSV.
    #[arg(long, value_name = "FILE")]
    pub market: PathBuf,
    /// Book only: grid margin model for the re-margin (default: each account's coin preset).
    #[arg(long, value_name = "PRESET|FILE", requires = "accounts")]
    pub model: Option<String>,
    /// Price history (repeatable): a wide CSV, COIN=path, or a COIN-XXX.csv OHLC file.
    #[arg(long, value_name = "FILE")]
    pub history: Vec<String>,
    /// Named events (YYYY-MM-DD), one or more, repeatable; needs --history.
    #[arg(long = "event", value_name = "DATE", num_args = 1..)]
    pub events: Vec<String>,
    /// User shocks such as BTC:-0.3,ETH:-0.4,vol:0.2 (comma-separated COIN:MOVE, an optional
    /// vol:SHIFT), one or more, repeatable.
    #[arg(long = "shock", value_name = "SHOCK", num_args = 1..)]
    pub shocks: Vec<String>,
    /// Horizon in days of the named events' moves (and the reverse historical windows).
    #[arg(long, value_name = "DAYS", default_value_t = 1)]
    pub horizon: usize,
    /// Vol rule: unchanged, or shift:A,BETA,FLOOR for σ' = max(σ + A + BETA·ln(F'/F), FLOOR).
    #[arg(long, default_value = "unchanged", allow_hyphen_values = true)]
    pub vol_rule: String,
    /// Step time forward by the horizon (options expiring inside it pay intrinsic).
    #[arg(long)]
    pub time_decay: bool,
    /// Reverse stress (one account).
    #[arg(long, conflicts_with = "accounts")]
    pub reverse: bool,
    /// Book only: price impact COIN:K, repeatable or comma-separated (default 0).
    #[arg(long, value_name = "COIN:K", requires = "accounts")]
    pub impact: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

fn bad(msg: impl Into<String>) -> CliError {
    CliError::bad_input(msg)
}

fn stress_error(e: StressError) -> CliError {
    bad(e.to_string())
}

fn source(args: &StressArgs) -> Result<JointSource, CliError> {
    if !(1..=250).contains(&args.horizon) {
        return Err(bad(format!(
            "--horizon {}: expected a whole number of days from 1 to 250",
            args.horizon
        )));
    }
    Ok(JointSource {
        method: Method::Historical,
        horizon_days: args.horizon,
        overlapping: true,
        lambda: RISKMETRICS_LAMBDA,
        covariance: Covariance::Ewma,
        dist: Dist::Normal,
        scenarios: 0,
        seed: 0,
        vol: parse_vol_rule(&args.vol_rule)?,
        time_decay: args.time_decay,
    })
}

/// The run's scenarios over `coins`: named events (from `history`), then shocks.
fn scenarios(
    args: &StressArgs,
    history: Option<&PriceHistory>,
    coins: &[Asset],
) -> Result<Vec<StressScenario>, CliError> {
    let mut out = Vec::new();
    match history {
        Some(h) => {
            let dates: Vec<String> = if args.events.is_empty() {
                DEFAULT_EVENTS.iter().map(|d| d.to_string()).collect()
            } else {
                args.events.clone()
            };
            for d in &dates {
                let t = date("event", &Some(d.clone()))?.ok_or_else(|| bad("--event"))?;
                out.push(
                    stress::event(h, coins, t, args.horizon).map_err(|e| bad(format!("--{e}")))?,
                );
            }
        }
        None if !args.events.is_empty() => {
            return Err(bad(
                "--event needs --history (the closes the event's moves come from)",
            ));
        }
        None => {}
    }
    for s in &args.shocks {
        out.push(stress::parse_shock(s, coins).map_err(|e| bad(format!("--shock {e}")))?);
    }
    if out.is_empty() {
        return Err(bad(
            "nothing to stress: give --history (named events) or --shock COIN:MOVE",
        ));
    }
    Ok(out)
}

fn moves_json(coins: &[Asset], moves: &[f64]) -> Value {
    let mut m = Map::new();
    for (c, x) in coins.iter().zip(moves) {
        m.insert(c.to_string(), json!(x));
    }
    Value::Object(m)
}

fn scenario_head(s: &StressScenario, coins: &[Asset]) -> Map<String, Value> {
    let mut m = Map::new();
    match s.date {
        Some(_) => m.insert("date".into(), json!(s.label)),
        None => m.insert("label".into(), json!(s.label)),
    };
    m.insert("moves".into(), moves_json(coins, &s.moves));
    m.insert("vol_shift".into(), json!(s.vol_shift));
    m
}

fn history_of(args: &StressArgs) -> Result<Option<PriceHistory>, CliError> {
    if args.history.is_empty() {
        return Ok(None);
    }
    Ok(Some(PriceHistory::load(&args.history)?))
}

/// Runs `margin stress`.
pub fn run(args: &StressArgs) -> Result<(), CliError> {
    match (&args.portfolio, &args.accounts) {
        (Some(p), _) => run_account(args, p),
        (None, Some(a)) => run_book(args, a),
        (None, None) => Err(bad("give --portfolio FILE or --accounts FILE")),
    }
}

fn crossing_json(c: &Option<Crossing>) -> Value {
    match c {
        Some(c) => json!({"move": c.scale, "inside": c.inside, "pnl": c.pnl}),
        None => json!({"move": "none"}),
    }
}

fn run_account(args: &StressArgs, path: &std::path::Path) -> Result<(), CliError> {
    let source = source(args)?;
    let portfolio = common::read_portfolio(&PortfolioArgs {
        portfolio: path.to_path_buf(),
        ..Default::default()
    })?;
    let market = margin_core::io::read_market(&args.market)?;
    let extra: Vec<_> = portfolio.positions.iter().map(|p| p.instrument).collect();
    let model = lookup_model().map_err(|e| CliError::internal(e.to_string()))?;
    let matrix = common::matrix(market, &args.market, model, &extra)?;
    let owned = OwnedBook::of(&matrix, &portfolio, &[])
        .map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let history = history_of(args)?;
    let (coins, closes) = match &history {
        Some(h) => book_closes(h, &owned.instruments)?,
        None => {
            let mut coins: Vec<Asset> = Vec::new();
            for u in &matrix.market().underlyings {
                if owned.instruments.iter().any(|i| i.underlying == u.asset) {
                    coins.push(u.asset);
                }
            }
            (coins, Vec::new())
        }
    };
    let list = scenarios(args, history.as_ref(), &coins)?;
    let book = owned.book();
    let revalue = |e: StressError| match e {
        StressError::Revaluation(margin_opt::var::VarError::Position(p)) => bad(format!(
            "cannot revalue {}: {}",
            owned
                .instruments
                .get(p.index)
                .map_or("?".into(), |i| i.to_string()),
            p.error
        )),
        e => stress_error(e),
    };
    let pnl = stress::pnl(&book, &coins, &list, &source).map_err(revalue)?;
    let equity = portfolio.equity;
    let rows: Vec<Value> = list
        .iter()
        .zip(&pnl)
        .map(|(s, &p)| {
            let mut m = scenario_head(s, &coins);
            m.insert("pnl".into(), json!(p));
            m.insert("equity_after".into(), json!(equity + p));
            m.insert("exhausts_equity".into(), json!(equity + p <= 0.0));
            Value::Object(m)
        })
        .collect();
    let mut out = json!({
        "account": portfolio.account,
        "currency": portfolio.currency.to_string(),
        "market": args.market.display().to_string(),
        "equity": equity,
        "horizon_days": args.horizon,
        "vol_rule": vol_rule_name(&source.vol),
        "time_decay": args.time_decay,
        "coins": coins.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        "stress": rows,
    });
    if args.reverse {
        let closes_view = Closes {
            coins: &coins,
            closes: &closes,
        };
        let hist = history.as_ref().map(|_| &closes_view);
        let r = reverse::reverse(&book, &coins, equity, &source, hist).map_err(revalue)?;
        let mut rev = json!({
            "down": crossing_json(&r.down),
            "up": crossing_json(&r.up),
            "tolerance": reverse::TOLERANCE,
            "grid_step": reverse::GRID_STEP,
        });
        if let (Some(hr), Some(h)) = (&r.historical, &history) {
            let mut m = Map::new();
            m.insert("start".into(), json!(day(h.dates()[hr.window.0])));
            m.insert("end".into(), json!(day(h.dates()[hr.window.1])));
            m.insert("direction".into(), moves_json(&coins, &hr.direction));
            m.insert("loss".into(), json!(hr.loss));
            match &hr.crossing {
                Some(c) => {
                    let moves: Vec<f64> = hr.direction.iter().map(|d| d * c.scale).collect();
                    m.insert("scale".into(), json!(c.scale));
                    m.insert("moves".into(), moves_json(&coins, &moves));
                    m.insert("pnl".into(), json!(c.pnl));
                }
                None => {
                    m.insert("scale".into(), json!("none"));
                }
            }
            rev["historical"] = Value::Object(m);
        }
        out["reverse"] = rev;
    }
    if args.json {
        output::print_json(&out)
    } else {
        output::print(&render_account(&out))
    }
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "none".to_string(), |x| format!("{:+.4} %", x * 100.0))
}

fn moves_text(v: &Value) -> String {
    v.as_object().map_or_else(String::new, |m| {
        m.iter()
            .map(|(c, x)| format!("{c} {}", pct(x)))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// A scenario row's date or label.
fn scenario_name(r: &Value) -> &str {
    r.get("date")
        .or_else(|| r.get("label"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn render_account(out: &Value) -> String {
    let ccy = out["currency"].as_str().unwrap_or("");
    let mut s = format!(
        "account {} ({ccy}), equity {}, horizon {} day(s), vol rule {}, time decay {}\n",
        out["account"].as_str().unwrap_or(""),
        out["equity"],
        out["horizon_days"],
        out["vol_rule"].as_str().unwrap_or(""),
        out["time_decay"]
    );
    for r in out["stress"].as_array().into_iter().flatten() {
        let name = scenario_name(r);
        s += &format!(
            "  {name:<24} {}  vol {:+}  P&L {:+.8} {ccy}{}\n",
            moves_text(&r["moves"]),
            r["vol_shift"].as_f64().unwrap_or(0.0),
            r["pnl"].as_f64().unwrap_or(0.0),
            if r["exhausts_equity"].as_bool() == Some(true) {
                "  exhausts equity"
            } else {
                ""
            }
        );
    }
    if let Some(r) = out.get("reverse") {
        s += &format!(
            "reverse stress (uniform move exhausting equity): down {}, up {}\n",
            pct(&r["down"]["move"]),
            pct(&r["up"]["move"])
        );
        if let Some(h) = r.get("historical") {
            s += &format!(
                "  along the worst window {} .. {} ({}): scale {}\n",
                h["start"].as_str().unwrap_or(""),
                h["end"].as_str().unwrap_or(""),
                moves_text(&h["direction"]),
                h["scale"]
            );
        }
    }
    s
}

/// The book's matrices: one for --model, or deribit-btc and deribit-eth by account currency.
fn book_matrices(args: &StressArgs) -> Result<(Vec<RiskMatrix>, bool), CliError> {
    let market = margin_core::io::read_market(&args.market)?;
    let models: Vec<Model> = match &args.model {
        Some(m) => vec![common::read_model(m)?],
        None => vec![
            common::read_model("deribit-btc")?,
            common::read_model("deribit-eth")?,
        ],
    };
    if let Some(m) = models
        .iter()
        .find(|m| margin_opt::var::VarParams::of(m).is_some())
    {
        return Err(bad(format!(
            "--model {}: book stress re-margins under a grid model (deribit-btc, deribit-eth, \
             span16, grid)",
            m.name
        )));
    }
    let per_currency = models.len() > 1;
    let matrices = models
        .into_iter()
        .map(|m| common::matrix(market.clone(), &args.market, m, &[]))
        .collect::<Result<_, _>>()?;
    Ok((matrices, per_currency))
}

fn impacts(args: &StressArgs, coins: &[Asset]) -> Result<Vec<f64>, CliError> {
    let mut k = vec![0.0; coins.len()];
    for part in args.impact.iter().flat_map(|s| s.split(',')) {
        let err = || {
            bad(format!(
                "--impact {part}: expected COIN:K with COIN a market coin and K a number >= 0"
            ))
        };
        let (c, v) = part.split_once(':').ok_or_else(err)?;
        let c = Asset::new(c.trim()).ok_or_else(err)?;
        let v: f64 = v.trim().parse().map_err(|_| err())?;
        let i = coins.iter().position(|&x| x == c).ok_or_else(err)?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(err());
        }
        k[i] = v;
    }
    Ok(k)
}

fn run_book(args: &StressArgs, path: &std::path::Path) -> Result<(), CliError> {
    if args.reverse {
        return Err(bad("--reverse is for one account (--portfolio)"));
    }
    let source = source(args)?;
    let (matrices, per_currency) = book_matrices(args)?;
    let coins: Vec<Asset> = matrices[0]
        .market()
        .underlyings
        .iter()
        .map(|u| u.asset)
        .collect();
    let impact = impacts(args, &coins)?;
    let history = history_of(args)?;
    let list = scenarios(args, history.as_ref(), &coins)?;
    let file = std::fs::File::open(path)
        .map_err(|e| bad(format!("{}: cannot read accounts: {e}", path.display())))?;
    let pick = move |c: Asset| usize::from(per_currency && c.as_str() == "ETH");
    let accounts = read_accounts(std::io::BufReader::new(file), &matrices, &pick)
        .map_err(|e| bad(format!("{}: {e}", path.display())))?;
    if accounts.is_empty() {
        return Err(bad(format!("{}: no accounts", path.display())));
    }
    let stress = BookStress {
        matrices: &matrices,
        accounts: &accounts,
        source,
        impact: &impact,
    };
    let mut rows = Vec::new();
    for s in &list {
        let r = stress.run(s).map_err(stress_error)?;
        rows.push(book_json(s, &coins, &accounts, &r));
    }
    let equity_usd: f64 = accounts.iter().fold(0.0, |s, a| {
        s + a.equity * usd(&matrices[a.matrix], a.currency)
    });
    let out = json!({
        "accounts": accounts.len(),
        "market": args.market.display().to_string(),
        "models": matrices.iter().map(|m| m.model().name).collect::<Vec<_>>(),
        "equity": equity_usd,
        "horizon_days": args.horizon,
        "vol_rule": vol_rule_name(&source.vol),
        "time_decay": args.time_decay,
        "impact": moves_json(&coins, &impact),
        "impact_published": false,
        "stress": rows,
    });
    if args.json {
        output::print_json(&out)
    } else {
        output::print(&render_book(&out))
    }
}

fn usd(m: &RiskMatrix, c: Asset) -> f64 {
    m.market()
        .underlyings
        .iter()
        .find(|u| u.asset == c)
        .map_or(1.0, |u| u.index_price)
}

fn book_json(
    s: &StressScenario,
    coins: &[Asset],
    accounts: &[BookAccount],
    r: &BookResult,
) -> Value {
    let name = |i: usize| accounts[i].name.clone();
    let mut m = scenario_head(s, coins);
    m.insert("pnl".into(), json!(r.pnl));
    m.insert(
        "uncovered".into(),
        json!(
            r.uncovered
                .iter()
                .map(|u| json!({
                    "account": name(u.account),
                    "currency": accounts[u.account].currency.to_string(),
                    "amount": u.amount,
                    "usd": u.usd,
                }))
                .collect::<Vec<_>>()
        ),
    );
    m.insert("total".into(), json!(r.total));
    m.insert(
        "cover1".into(),
        r.cover1.map_or(
            json!({"account": null, "usd": 0.0}),
            |c| json!({"account": name(c.account), "usd": c.usd}),
        ),
    );
    m.insert(
        "cover2".into(),
        json!({"accounts": r.cover2.0.iter().map(|c| name(c.account)).collect::<Vec<_>>(), "usd": r.cover2.1}),
    );
    m.insert(
        "rounds".into(),
        json!(
            r.rounds
                .iter()
                .map(|k| json!({
                    "round": k.round,
                    "moves": moves_json(coins, &k.moves),
                    "liquidated": k.liquidated.iter().map(|&i| name(i)).collect::<Vec<_>>(),
                    "liquidated_count": k.liquidated.len(),
                    "dollar_delta": moves_json(coins, &k.dollar_delta),
                    "impact": moves_json(coins, &k.impact),
                    "capped": k.capped,
                    "shortfall": k.shortfall,
                }))
                .collect::<Vec<_>>()
        ),
    );
    m.insert(
        "final".into(),
        json!({"moves": moves_json(coins, &r.final_moves), "liquidated": r.liquidated, "shortfall": r.total}),
    );
    Value::Object(m)
}

fn render_book(out: &Value) -> String {
    let mut s = format!(
        "{} accounts, equity {:.2} USD, models {}\n",
        out["accounts"],
        out["equity"].as_f64().unwrap_or(0.0),
        out["models"]
    );
    for r in out["stress"].as_array().into_iter().flatten() {
        let name = scenario_name(r);
        s += &format!(
            "{name}: {}  book P&L {:.2} USD, uncovered {:.2} USD, Cover-1 {:.2} ({}), Cover-2 {:.2} ({})\n",
            moves_text(&r["moves"]),
            r["pnl"].as_f64().unwrap_or(0.0),
            r["total"].as_f64().unwrap_or(0.0),
            r["cover1"]["usd"].as_f64().unwrap_or(0.0),
            r["cover1"]["account"].as_str().unwrap_or("-"),
            r["cover2"]["usd"].as_f64().unwrap_or(0.0),
            r["cover2"]["accounts"]
        );
        for k in r["rounds"].as_array().into_iter().flatten() {
            s += &format!(
                "  round {}: {}  liquidated {}  shortfall {:.2} USD\n",
                k["round"],
                moves_text(&k["moves"]),
                k["liquidated_count"],
                k["shortfall"].as_f64().unwrap_or(0.0)
            );
        }
    }
    s
}
