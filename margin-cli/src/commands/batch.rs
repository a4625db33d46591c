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
    let (model, engine, others, label) = model_for_accounts(args)?;
    let mut preset = engine
        .as_ref()
        .map_or(model.name, |e| e.model().name)
        .to_string();
    // No --model and accounts in currencies of different presets: each account takes its own
    // currency's preset (one matrix per preset), every other currency the run's.
    let mut matrices = Vec::with_capacity(others.len());
    if let Some(label) = label {
        preset = label;
    }
    for (currencies, m) in others {
        let matrix = common::matrix(market.clone(), &args.market.market, m, &[])?;
        matrices.push((currencies, matrix));
    }
    let by_currency: Vec<(Asset, &margin_core::io::matrix::RiskMatrix)> = matrices
        .iter()
        .flat_map(|(cs, m)| cs.iter().map(move |c| (*c, m)))
        .collect();
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

/// The model of `--model` or, without it, the default preset of the accounts' currencies. A
/// Deribit preset contradicting any account's currency is refused before any work unless
/// `--allow-preset-mismatch` (see [`common::check_preset`]). Returns the model of the run and,
/// for a statistical one, its engine; and when no --model was given and the accounts' currencies
/// have different default presets (BTC, ETH and USDC accounts in one file), the other presets
/// with their currencies: the run's model is then the default of every other currency
/// (deribit-btc).
#[allow(clippy::type_complexity)]
fn model_for_accounts(
    args: &BatchArgs,
) -> Result<
    (
        margin_core::model::Model,
        Option<margin_opt::joint::JointEngine>,
        Vec<(Vec<Asset>, margin_core::model::Model)>,
        Option<String>,
    ),
    CliError,
> {
    let file = args.accounts.display();
    if let Some(spec) = &args.market.model {
        let model = common::read_model(spec)?;
        // The file is scanned only when a currency can change the outcome.
        if !args.market.allow_preset_mismatch && common::is_deribit_coin_preset(&model) {
            for (c, line) in account_currencies(&args.accounts) {
                let what = format!("the account on line {line} of {file}");
                common::check_preset(&model, c, &what, false)?;
            }
        }
        let (m, e) = args.market.model_and_engine()?;
        return Ok((m, e, Vec::new(), None));
    }
    // Each default preset with the currencies it is the default of, in order of appearance.
    let mut presets: Vec<(&'static str, Vec<Asset>)> = Vec::new();
    for (c, _) in account_currencies(&args.accounts) {
        let p = common::default_preset(Some(c));
        match presets.iter_mut().find(|(q, _)| *q == p) {
            Some((_, cs)) => cs.push(c),
            None => presets.push((p, vec![c])),
        }
    }
    let run: &str = match presets.as_slice() {
        [(only, _)] => only,
        _ => common::default_preset(None),
    };
    let (m, e) = match presets.iter().find(|(p, _)| *p == run) {
        Some((_, cs)) => args
            .market
            .model_and_engine_for(cs[0], &format!("the accounts of {file}"))?,
        None => args.market.model_and_engine()?,
    };
    // The summary's preset: each preset with its currencies ("deribit-btc for BTC, ...").
    let names = |cs: &[Asset]| {
        cs.iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let mut label: Vec<String> = presets
        .iter()
        .map(|(p, cs)| format!("{p} for {}", names(cs)))
        .collect();
    if !presets.iter().any(|(p, _)| *p == run) {
        label.insert(0, format!("{run} by default"));
    }
    let mut others = Vec::new();
    for (p, cs) in presets.into_iter().filter(|(p, _)| *p != run) {
        others.push((cs, common::read_model(p)?));
    }
    let label = (!others.is_empty()).then(|| label.join(", "));
    Ok((m, e, others, label))
}

fn batch_error(e: BatchError) -> CliError {
    match e {
        BatchError::SameFile { .. } | BatchError::Input { .. } | BatchError::Output { .. } => {
            CliError::bad_input(e.to_string())
        }
    }
}
