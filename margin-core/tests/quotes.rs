//! Bid/ask quotes read from market files: the Deribit CSV's bid_price/ask_price columns (the
//! raw numbers of a row, copied here from the file) and market JSON's fields, written back
//! unchanged; one-sided and crossed JSON quotes are errors.

use margin_core::Instrument;
use margin_core::io::market_json::{parse_market_json, write_market_json};
use margin_core::io::read_market;
use std::path::Path;

#[test]
fn the_deribit_chain_quote_is_the_rows_bid_and_ask() {
    let m = read_market(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../data/deribit/deribit_options_snapshot_20260105T153329Z.csv"),
    )
    .unwrap();
    let i = Instrument::parse("BTC-16JAN26-82000-C").unwrap();
    let q = m.instruments.iter().find(|q| q.instrument == i).unwrap();
    // Line 2 of the file: bid_price 0.1265, ask_price 0.1295.
    assert_eq!(q.quote, Some((0.1265, 0.1295)));
}

const JSON: &str = r#"{
  "valuation_time": "2026-08-22T15:33:51Z",
  "underlyings": {"BTC": {"index_price": 77081.8, "forwards": {"2026-09-25T08:00:00Z": 77405.28}}},
  "instruments": {
    "BTC-PERPETUAL": {"mark_price": 77100.0, "bid_price": 77099.5, "ask_price": 77100.5},
    "BTC-25SEP26-80000-C": {"mark_iv": 0.41QUOTE}
  }
}"#;

#[test]
fn market_json_quotes_round_trip_and_bad_ones_are_refused() {
    let file = Path::new("m.json");
    let ok = JSON.replace("QUOTE", r#", "bid_price": 0.03, "ask_price": 0.031"#);
    let m = parse_market_json(&ok, file).unwrap();
    let perp = Instrument::parse("BTC-PERPETUAL").unwrap();
    let q = m.instruments.iter().find(|q| q.instrument == perp).unwrap();
    assert_eq!(q.quote, Some((77099.5, 77100.5)));
    assert_eq!(parse_market_json(&write_market_json(&m), file).unwrap(), m);
    let crossed = JSON.replace("QUOTE", r#", "bid_price": 0.04, "ask_price": 0.031"#);
    let e = parse_market_json(&crossed, file).unwrap_err().to_string();
    assert!(e.contains("below bid_price"), "{e}");
    let one = JSON.replace("QUOTE", r#", "bid_price": 0.04"#);
    let e = parse_market_json(&one, file).unwrap_err().to_string();
    assert!(e.contains("both bid_price and ask_price"), "{e}");
}
