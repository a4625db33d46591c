//! What `compute`, `whatif`, `batch` and `demo` share: reading the market, model and
//! portfolio files, and building the risk matrix once.

use crate::error::CliError;
use margin_core::instrument::USD_STABLECOINS;
use margin_core::io::engine::Universe;
use margin_core::io::matrix::{BuildError, RiskMatrix};
use margin_core::io::{self, MarketData, Portfolio, PortfolioDefaults};
use margin_core::model::Model;
use margin_core::{Asset, Instrument};
use margin_opt::joint::{JointEngine, lookup_model};
use margin_opt::var::VarParams;
use std::path::{Path, PathBuf};

/// The flags that pick the market and the model.
#[derive(Debug, Clone, clap::Args)]
pub struct MarketArgs {
    /// Market file: market JSON or a Deribit option-chain CSV (by extension or content).
    #[arg(long, value_name = "FILE")]
    pub market: PathBuf,
    /// Margin model: a preset name (deribit-btc, deribit-eth, deribit-usdc, span16, grid) or a
    /// model file such as {"preset": "deribit-eth", "params": {"pnl_offset": 0.6}}. [default:
    /// by the account currency: deribit-eth for ETH, deribit-usdc for USDC and USDT,
    /// deribit-btc for BTC and every other currency]
    #[arg(long, value_name = "PRESET|FILE")]
    pub model: Option<String>,
    /// Margin a BTC account under deribit-eth or an ETH account under deribit-btc (a Deribit
    /// preset whose coin contradicts the account currency is refused otherwise).
    #[arg(long)]
    pub allow_preset_mismatch: bool,
    /// Accept market numbers outside the plausibility bounds (vol > 5.0, |rate| > 0.5,
    /// forward or perpetual outside [0.5, 2] × index, prices > 1e12; see docs/cli.md).
    #[arg(long)]
    pub allow_implausible_market: bool,
    /// Price history for the statistical presets (hs-es, fhs-es, mc-es, parametric-var),
    /// repeatable: a wide CSV `date,<coin>,...`, COIN=path, or a COIN-XXX.csv OHLC file.
    #[arg(long, value_name = "FILE")]
    pub history: Vec<String>,
}

/// The preset `--model` defaults to for an account in `currency`: Deribit's preset of that
/// settlement currency (deribit-eth for ETH, deribit-usdc for the USD stablecoins), else
/// deribit-btc (BTC, other coins, or no account).
pub fn default_preset(currency: Option<Asset>) -> &'static str {
    match currency {
        Some(c) if c.as_str() == "ETH" => "deribit-eth",
        Some(c) if USD_STABLECOINS.contains(&c.as_str()) => "deribit-usdc",
        _ => "deribit-btc",
    }
}

/// The coin a Deribit preset (or a model file derived from one) is calibrated for.
fn preset_coin(model: &Model) -> Option<&'static str> {
    match model.name {
        "deribit-btc" => Some("BTC"),
        "deribit-eth" => Some("ETH"),
        "deribit-usdc" => Some("USDC"),
        _ => None,
    }
}

/// True for a Deribit preset calibrated for one coin (BTC or ETH), or a model file on one.
pub fn is_deribit_coin_preset(model: &Model) -> bool {
    preset_coin(model).is_some()
}

/// Refuses a Deribit preset calibrated for BTC on an ETH account, or for ETH on a BTC account
/// (`what` names the account in the error), unless `allow`.
pub fn check_preset(
    model: &Model,
    currency: Asset,
    what: &str,
    allow: bool,
) -> Result<(), CliError> {
    let Some(coin) = preset_coin(model) else {
        return Ok(());
    };
    let account = currency.as_str();
    if allow || account == coin || !matches!(account, "BTC" | "ETH") {
        return Ok(());
    }
    Err(CliError::bad_input(format!(
        "--model {}: the preset is Deribit's {coin} preset but {what} is in {account}: use \
         --model {} (the default for {account}), or pass --allow-preset-mismatch to margin it \
         under {} anyway",
        model.name,
        default_preset(Some(currency)),
        model.name
    )))
}

impl MarketArgs {
    /// The `--model` argument, or the default preset for an account in `currency`.
    pub fn model_spec(&self, currency: Option<Asset>) -> &str {
        self.model
            .as_deref()
            .unwrap_or_else(|| default_preset(currency))
    }

    /// The model of `--model` (or the default for `currency`) and, for a statistical model, its
    /// engine over `--history`, with [`MarketArgs::model_and_engine`]'s rules. A Deribit preset
    /// contradicting `currency` is refused (see [`check_preset`]); `what` names the account.
    pub fn model_and_engine_for(
        &self,
        currency: Asset,
        what: &str,
    ) -> Result<(Model, Option<JointEngine>), CliError> {
        let model = read_model(self.model_spec(Some(currency)))?;
        check_preset(&model, currency, what, self.allow_preset_mismatch)?;
        self.engine_of(model)
    }

    /// The model of `--model` (default deribit-btc) and, for a statistical model, its engine
    /// over `--history`. The returned model is the one the universe is built under: the model
    /// itself for a grid, the lookup preset for a statistical model (see `margin_opt::joint`).
    pub fn model_and_engine(&self) -> Result<(Model, Option<JointEngine>), CliError> {
        self.engine_of(read_model(self.model_spec(None))?)
    }

    fn engine_of(&self, model: Model) -> Result<(Model, Option<JointEngine>), CliError> {
        if VarParams::of(&model).is_none() {
            if !self.history.is_empty() {
                return Err(CliError::bad_input(format!(
                    "--history is only read by the statistical presets (hs-es, fhs-es, mc-es, \
                     parametric-var); --model {} is a grid model",
                    model.name
                )));
            }
            return Ok((model, None));
        }
        if self.history.is_empty() {
            return Err(CliError::bad_input(format!(
                "--model {} is statistical: give its price history with --history FILE \
                 (e.g. data/btc-eth-daily/btc_eth_daily_close_aligned.csv)",
                model.name
            )));
        }
        let history = io::PriceHistory::load(&self.history)?;
        let name = model.name;
        let engine = JointEngine::new(model, &history)
            .map_err(|e| CliError::bad_input(format!("--model {name}: {e}")))?;
        let lookup = lookup_model().map_err(|e| CliError::internal(e.to_string()))?;
        Ok((lookup, Some(engine)))
    }

    /// Reads the market file named by `--market`.
    pub fn read(&self) -> Result<MarketData, CliError> {
        read_market(&self.market, self.allow_implausible_market)
    }
}

/// Reads a market file, enforcing the plausibility bounds unless `allow_implausible`.
pub fn read_market(path: &Path, allow_implausible: bool) -> Result<MarketData, CliError> {
    Ok(io::read_market_with(
        path,
        io::MarketOptions { allow_implausible },
    )?)
}

/// The flags that complete a CSV portfolio (a JSON portfolio carries its own).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PortfolioArgs {
    /// Portfolio file: portfolio JSON, or CSV with header `instrument,size`.
    #[arg(long, value_name = "FILE")]
    pub portfolio: PathBuf,
    /// Account currency of a CSV portfolio (default: the first position's coin).
    #[arg(long, value_name = "COIN")]
    pub currency: Option<String>,
    /// Equity of a CSV portfolio, in the account currency (default 0).
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    pub equity: Option<f64>,
}

/// Reads the portfolio named by `args`.
pub fn read_portfolio(args: &PortfolioArgs) -> Result<Portfolio, CliError> {
    let currency = match &args.currency {
        None => None,
        Some(c) => Some(margin_core::Asset::new(c).ok_or_else(|| {
            CliError::bad_input(format!(
                "--currency {c}: expected an upper-case coin code such as BTC"
            ))
        })?),
    };
    let defaults = PortfolioDefaults {
        account: None,
        currency,
        equity: args.equity,
    };
    Ok(io::read_portfolio(&args.portfolio, &defaults)?)
}

/// Reads the model named by `--model`.
pub fn read_model(spec: &str) -> Result<Model, CliError> {
    io::model_from_spec(spec).map_err(|e| CliError::bad_input(format!("--model {e}")))
}

/// The universe of `market` under `model`, with `extra` instruments (a portfolio's) added.
pub fn universe(
    market: &MarketData,
    file: &Path,
    model: Model,
    extra: &[Instrument],
) -> Result<Universe, CliError> {
    let views = market.views();
    let snapshot = market
        .snapshot(&views)
        .map_err(|e| CliError::bad_input(format!("{}: invalid market: {e}", file.display())))?;
    Universe::new(market, &snapshot, model, extra)
        .map_err(|e| CliError::bad_input(format!("--model: invalid parameters: {e}")))
}

/// The risk matrix of `market` (read from `file`) under `model`, with `extra` instruments (a
/// portfolio's) added: the universe and its arrays, built once. Every instrument priced at the
/// market when the universe was made, but a shocked scenario can still overflow on absurd
/// market numbers (a forward near `f64::MAX`): that is bad input, named by instrument.
pub fn matrix(
    market: MarketData,
    file: &Path,
    model: Model,
    extra: &[Instrument],
) -> Result<RiskMatrix, CliError> {
    let universe = universe(&market, file, model, extra)?;
    // Kept to name the row a shocked scenario cannot price.
    let instruments = universe.instruments().to_vec();
    RiskMatrix::from_universe(market, universe).map_err(|e| match e {
        BuildError::Core(e) => CliError::internal(format!("market became invalid: {e}")),
        BuildError::Instrument(e) => {
            let name = instruments
                .get(e.index)
                .map_or_else(|| "?".to_string(), ToString::to_string);
            CliError::bad_input(format!(
                "cannot price the scenarios of {name}: {} (check the market's numbers)",
                e.error
            ))
        }
    })
}
