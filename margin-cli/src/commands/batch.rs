//! `margin batch`: margin for many accounts in parallel against one set of risk arrays.
//! The work is `margin_opt::batch` (library); this module reads the files and shows progress.

use super::common::{self, MarketArgs};
use crate::error::CliError;
use crate::output;
use margin_core::Asset;
use margin_opt::batch::{Batch, BatchError};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

/// Arguments of `margin batch`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    margin batch --accounts examples/accounts.jsonl \\\n      \
      --market data/deribit/deribit_options_snapshot_20260822T153351Z.csv --out margins.jsonl \\\n      \
      --model span16                     # the example mixes BTC and ETH accounts\n  \
    RAYON_NUM_THREADS=1 margin batch ...     # same output bytes on one thread\n\n\
Input: one portfolio JSON object per line ({\"account\", \"currency\", \"equity\", \
\"positions\": [{\"instrument\", \"size\"}]}); blank lines are skipped.\n\
Preset: --model, or without it the account currency's Deribit preset (deribit-eth when the \
account is in ETH, deribit-btc otherwise, chosen per account). A \
Deribit preset of the other coin than a BTC or ETH account is refused, naming the line, \
unless --allow-preset-mismatch. The summary line names the preset.\n\
Output: one line per account, in input order: {\"account\", \"initial_margin\", \
\"maintenance_margin\", \"status\"}, or {\"line\", \"error\"} (with \"account\" when the line \
parsed) for a record that cannot be margined; the other records still finish and the exit \
code stays 0. The output is written to OUT.<pid>.tmp and renamed to OUT at the end (an \
error removes it; a stale one of a dead process is removed by the next run); an OUT that \
is the accounts file, or its temporary, is refused. Risk arrays \
are built once for every instrument the market can price (its listed instruments, each \
coin's inverse perpetual, and an inverse future per forward expiry). Threads: rayon's \
default (all cores) or RAYON_NUM_THREADS; the output does not depend on it. A progress bar \
is shown on stderr when it is a terminal.")]
pub struct BatchArgs {
    /// Accounts, one portfolio JSON object per line (JSONL).
    #[arg(long, value_name = "FILE")]
    pub accounts: PathBuf,
    #[command(flatten)]
    pub market: MarketArgs,
    /// Output file (JSONL), replaced atomically.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `margin batch`.
pub fn run(args: &BatchArgs) -> Result<(), CliError> {
    // Refused before any work: an --out that would overwrite the accounts.
    margin_opt::batch::check_paths(&args.accounts, &args.out).map_err(batch_error)?;
    let market = args.market.read()?;
    let (model, engine, mixed) = model_for_accounts(args)?;
    let mut preset = engine
        .as_ref()
        .map_or(model.name, |e| e.model().name)
        .to_string();
    // No --model and both BTC and ETH accounts: each account takes its own coin's preset.
    let eth = match mixed {
        Some(eth_model) => {
            preset = format!("{} for BTC, {} for ETH", model.name, eth_model.name);
            let eth = Asset::new("ETH").ok_or_else(|| CliError::internal("ETH"))?;
            Some((
                eth,
                common::matrix(market.clone(), &args.market.market, eth_model, &[])?,
            ))
        }
        None => None,
    };
    let by_currency: Vec<(Asset, &margin_core::io::matrix::RiskMatrix)> =
        eth.iter().map(|(c, m)| (*c, m)).collect();
    let matrix = common::matrix(market, &args.market.market, model, &[])?;
    let batch = Batch {
        matrix: &matrix,
        joint: engine.as_ref(),
        by_currency: &by_currency,
    };
    let total = std::fs::metadata(&args.accounts)
        .map_err(|e| {
            CliError::bad_input(format!(
                "{}: cannot read accounts: {e}",
                args.accounts.display()
            ))
        })?
        .len();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {elapsed} eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let progress = |done: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };
    let summary = batch
        .run_files(&args.accounts, &args.out, &progress)
        .map_err(batch_error)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    output::print(&format!(
        "{} accounts ({} errors) -> {} (preset {preset})\n",
        summary.accounts,
        summary.errors,
        args.out.display()
    ))
}

/// The account currencies of the accounts file, each with the first line (1-based) that has
/// it, in order of appearance. Lines that do not parse are skipped (the batch reports them);
/// an unreadable file gives none (the batch reports that too).
fn account_currencies(path: &std::path::Path) -> Vec<(Asset, usize)> {
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        currency: std::borrow::Cow<'a, str>,
    }
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut found: Vec<(Asset, usize)> = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let Ok(line) = line else { break };
        let Ok(Line { currency }) = serde_json::from_str::<Line<'_>>(&line) else {
            continue;
        };
        if let Some(c) = Asset::new(&currency)
            && !found.iter().any(|(f, _)| *f == c)
        {
            found.push((c, n + 1));
        }
    }
    found
}

/// The model of `--model` or, without it, the default preset of the accounts' currency; a
/// Deribit preset contradicting any account's currency is refused before any work unless
/// `--allow-preset-mismatch` (see [`common::check_preset`]). Returns the model of the run and, for a statistical one, its engine; and when no --model was given
/// and the accounts mix BTC and ETH, the ETH accounts' model (deribit-eth; the run's model is
/// then deribit-btc for everything else).
#[allow(clippy::type_complexity)]
fn model_for_accounts(
    args: &BatchArgs,
) -> Result<
    (
        margin_core::model::Model,
        Option<margin_opt::joint::JointEngine>,
        Option<margin_core::model::Model>,
    ),
    CliError,
> {
    // The file is scanned only when a currency can change the outcome: no --model, or a
    // Deribit preset without --allow-preset-mismatch.
    if let Some(spec) = &args.market.model {
        let model = common::read_model(spec)?;
        if args.market.allow_preset_mismatch || !common::is_deribit_coin_preset(&model) {
            let (m, e) = args.market.model_and_engine()?;
            return Ok((m, e, None));
        }
    }
    let currencies = account_currencies(&args.accounts);
    let file = args.accounts.display();
    let coin = |name: &str| currencies.iter().find(|(c, _)| c.as_str() == name);
    let currency = match (&args.market.model, coin("BTC"), coin("ETH")) {
        (None, Some((btc, _)), Some((eth, _))) => {
            let (m, e) = args
                .market
                .model_and_engine_for(*btc, &format!("the BTC accounts of {file}"))?;
            let eth_model = common::read_model(common::default_preset(Some(*eth)))?;
            return Ok((m, e, Some(eth_model)));
        }
        (_, _, Some((eth, _))) => Some(*eth),
        (_, Some((btc, _)), _) => Some(*btc),
        _ => None,
    };
    let Some(currency) = currency else {
        let (m, e) = args.market.model_and_engine()?;
        return Ok((m, e, None));
    };
    // Every currency is checked against an explicit model; the first contradiction is named.
    if args.market.model.is_some() && !args.market.allow_preset_mismatch {
        let model = common::read_model(args.market.model_spec(None))?;
        for (c, line) in &currencies {
            common::check_preset(
                &model,
                *c,
                &format!("the account on line {line} of {file}"),
                false,
            )?;
        }
    }
    let (m, e) = args
        .market
        .model_and_engine_for(currency, &format!("the accounts of {file}"))?;
    Ok((m, e, None))
}

fn batch_error(e: BatchError) -> CliError {
    match e {
        BatchError::SameFile { .. } | BatchError::Input { .. } | BatchError::Output { .. } => {
            CliError::bad_input(e.to_string())
        }
    }
}
