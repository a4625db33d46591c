//! Every reader answers arbitrary or corrupted input with a value or a typed error, never a
//! panic: random strings, and the bundled example files with one byte replaced, cut short or
//! a number swapped for an extreme (NaN text, 1e308, −0, huge integers).

use margin_core::account::{self, Account};
use margin_core::io::engine::{RiskBuffers, Universe};
use margin_core::io::{
    PortfolioDefaults, parse_deribit_chain, parse_history_csv, parse_market_json, parse_model_json,
    parse_portfolio_csv, parse_portfolio_json,
};
use margin_core::model::{GRID_PRESETS, Model};
use margin_core::risk::Position;
use margin_core::{Asset, Instrument, Timestamp};
use proptest::prelude::*;
use std::path::Path;

const MARKET: &str = include_str!("../../examples/market.json");
const PORTFOLIO: &str = include_str!("../../examples/portfolio-btc.json");
const PORTFOLIO_CSV: &str = include_str!("../../examples/portfolio.csv");
const MODEL: &str = include_str!("../../examples/model-eth.json");

/// A few chain rows (header + 20 lines) keep each case fast.
fn chain_head() -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
    ))
    .unwrap();
    text.lines().take(21).collect::<Vec<_>>().join("\n")
}

/// Runs every reader on `text`; the results are irrelevant, only the absence of panics counts.
fn read_everything(text: &str) {
    let file = Path::new("fuzz");
    let _ = parse_market_json(text, file);
    let _ = parse_portfolio_json(text, file);
    let _ = parse_portfolio_csv(text, file, &PortfolioDefaults::default());
    let _ = parse_model_json(text, file);
    let _ = parse_deribit_chain(text, file);
    let _ = parse_history_csv(text, file, None);
    let _ = parse_history_csv(text, file, Asset::new("BTC"));
    for word in text.split([' ', '"', ',', '\n']) {
        let _ = Instrument::parse(word);
        let _ = Timestamp::parse_iso8601(word);
    }
}

/// `text` with the byte range `at..at+len` replaced by `with` (kept on char boundaries).
fn splice(text: &str, at: usize, len: usize, with: &str) -> String {
    let mut start = at.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{}{}", &text[..start], with, &text[end..])
}

fn extreme() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("NaN"),
        Just("1e308"),
        Just("-1e308"),
        Just("-0"),
        Just("0"),
        Just("1e-320"),
        Just("99999999999999999999999"),
        Just("-5"),
        Just(""),
        Just("\"x\""),
        Just("null"),
        Just("{"),
        Just("]"),
        Just("BTC-31FEB26-1-C"),
        Just("9999-12-31T23:59:59Z"),
    ]
}

/// Where a corrupted market still parses, the whole pipeline runs on it: universe, risk arrays,
/// the margin of a BTC account holding every BTC row, a what-if and isolated margins, under every
/// preset. Errors are fine; panics are not. Returns whether a margin was computed.
fn margin_everything(market_text: &str) -> bool {
    let Ok(market) = parse_market_json(market_text, Path::new("fuzz")) else {
        return false;
    };
    let views = market.views();
    let Ok(snapshot) = market.snapshot(&views) else {
        return false;
    };
    let btc = margin_core::Asset::new("BTC").unwrap();
    let mut computed = false;
    for preset in GRID_PRESETS {
        let model = Model::preset(preset).unwrap();
        let Ok(universe) = Universe::new(&market, &snapshot, model.clone(), &[]) else {
            continue;
        };
        let mut buffers = RiskBuffers::new(&universe);
        let Ok(arrays) = universe.build(snapshot, &mut buffers) else {
            continue;
        };
        let positions: Vec<Position> = (0..arrays.len())
            .filter(|&i| *arrays.instruments()[i].settlement_currency() == btc)
            .enumerate()
            .map(|(k, instrument)| Position {
                instrument,
                size: if k % 2 == 0 { 2.0 } else { -3.0 },
            })
            .collect();
        let Ok(account) = Account::new(&arrays, btc, 1.0, &positions) else {
            continue;
        };
        let mut scratch = vec![0.0; account.scratch_len(&arrays)];
        if account::margin(&arrays, &model, &account, &mut scratch).is_ok() {
            computed = true;
            let order = Position {
                instrument: 0,
                size: -1.0,
            };
            let _ = account::what_if(&arrays, &model, &account, &scratch, order);
            let mut isolated = vec![0.0; positions.len()];
            let _ = account::isolated(&arrays, &model, &account, &mut scratch, &mut isolated);
        }
    }
    computed
}

#[test]
fn the_uncorrupted_market_runs_the_whole_pipeline() {
    assert!(margin_everything(MARKET));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_strings(text in ".{0,200}") {
        read_everything(&text);
    }

    #[test]
    fn corrupted_examples(which in 0usize..5, at in 0usize..4000, len in 0usize..8, with in extreme()) {
        let chain = chain_head();
        let base = [MARKET, PORTFOLIO, PORTFOLIO_CSV, MODEL, chain.as_str()][which];
        read_everything(&splice(base, at % (base.len() + 1), len, with));
    }

    #[test]
    fn corrupted_markets_through_the_pipeline(at in 0usize..4000, len in 0usize..8, with in extreme()) {
        let _ = margin_everything(&splice(MARKET, at % (MARKET.len() + 1), len, with));
    }

    #[test]
    fn truncated_examples(which in 0usize..5, cut in 0usize..4000) {
        let chain = chain_head();
        let base = [MARKET, PORTFOLIO, PORTFOLIO_CSV, MODEL, chain.as_str()][which];
        read_everything(&splice(base, cut % (base.len() + 1), base.len(), ""));
    }
}
