//! Tests of the file formats: the real Deribit chain, round trips, and every error class.

use super::*;
use crate::instrument::{Kind, Right};
use crate::market::Forward;
use crate::pricing;
use std::path::PathBuf;

fn chain_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/deribit/deribit_options_snapshot_20260822T153351Z.csv")
}

fn mem() -> &'static Path {
    Path::new("<memory>")
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_iso8601(s).unwrap()
}

const EXAMPLE: &str = r#"{"valuation_time": "2026-08-22T15:33:51Z",
 "underlyings": {"BTC": {"index_price": 77081.8, "rate": 0.0,
                         "forwards": {"2026-09-25T08:00:00Z": 77405.28}}},
 "instruments": {"BTC-PERPETUAL": {"mark_price": 77100.0},
                 "BTC-25SEP26": {"mark_price": 77405.28},
                 "BTC-25SEP26-120000-P": {"mark_iv": 0.6246}}}"#;

/// Median by brute force, the independent route: the smallest x with at least half the
/// samples ≤ x, averaged with its even-count partner.
fn brute_median(xs: &[f64]) -> f64 {
    let n = xs.len();
    let kth = |k: usize| {
        *xs.iter()
            .find(|&&x| {
                let below = xs.iter().filter(|&&y| y < x).count();
                let at_most = xs.iter().filter(|&&y| y <= x).count();
                below <= k && k < at_most
            })
            .unwrap()
    };
    if n % 2 == 1 {
        kth(n / 2)
    } else {
        0.5 * (kth(n / 2 - 1) + kth(n / 2))
    }
}

#[test]
fn median_matches_brute_force() {
    assert_eq!(median(&mut []), None);
    for xs in [
        &[3.0][..],
        &[2.0, -1.0],
        &[5.0, 1.0, 4.0, 1.0],
        &[0.5, 9.0, 2.0, 7.0, 7.0],
    ] {
        assert_eq!(median(&mut xs.to_vec()), Some(brute_median(xs)), "{xs:?}");
    }
}

#[test]
fn reads_the_real_deribit_chain() {
    let m = read_market(&chain_path()).unwrap();
    // `timestamp` column: 2026-08-22T15:33:51.683630+00:00 (milliseconds truncate).
    assert_eq!(m.valuation_time, ts("2026-08-22T15:33:51.683Z"));
    // SOURCE.md: 1,970 rows, BTC 1,038, ETH 932.
    assert_eq!(m.instruments.len(), 1970);
    let btc = Asset::new("BTC").unwrap();
    let eth = Asset::new("ETH").unwrap();
    let count = |a| m.options().filter(|q| q.instrument.underlying == a).count();
    assert_eq!((count(btc), count(eth)), (1038, 932));
    assert_eq!(m.underlyings.len(), 2);

    // Recompute index and forward medians from the raw file with the csv crate and a
    // brute-force median.
    let mut rdr = csv::Reader::from_path(chain_path()).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (c_cur, c_idx, c_und, c_exp) = (
        col("currency"),
        col("index_price"),
        col("underlying"),
        col("expiry_datetime"),
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let btc_index: Vec<f64> = rows
        .iter()
        .filter(|r| &r[c_cur] == "BTC")
        .map(|r| r[c_idx].parse().unwrap())
        .collect();
    let fwd_sep: Vec<f64> = rows
        .iter()
        .filter(|r| &r[c_cur] == "BTC" && &r[c_exp] == "2026-09-25T08:00:00+00:00")
        .map(|r| r[c_und].parse().unwrap())
        .collect();
    let u = m.underlying(btc).unwrap();
    assert_eq!(u.index_price, brute_median(&btc_index));
    // The first row's index is 77081.8; the median over the BTC rows is within 0.05 % of it.
    assert!(
        (u.index_price / 77081.8 - 1.0).abs() < 5e-4,
        "{}",
        u.index_price
    );
    assert_eq!(u.perpetual_price, u.index_price);
    assert_eq!(u.rate, 0.0);
    let sep = ts("2026-09-25T08:00:00Z");
    assert_eq!(u.view().forward(sep).unwrap(), brute_median(&fwd_sep));
    assert_eq!(u.view().forward(sep).unwrap(), 77405.28);
    assert_eq!(u.forwards.len(), 12);

    // Row 3 of the file: BTC-25SEP26-120000-P, iv 0.6246, mark 0.55116055.
    let p = Instrument::parse("BTC-25SEP26-120000-P").unwrap();
    let q = m.instruments.iter().find(|q| q.instrument == p).unwrap();
    assert_eq!(q.mark_iv, Some(0.6246));
    assert_eq!(q.mark_price, Some(0.55116055));
    assert_eq!(u.view().vol(sep, 120000.0, Right::Put).unwrap(), 0.6246);
}

#[test]
fn black76_reproduces_the_chain_marks() {
    // SOURCE.md "Checks run here": median |model − mark| 4.4e-6 coin, maximum 1.2e-4 on this
    // file (with the per-row forward; we use the per-expiry median, so allow a little more).
    let m = read_market(&chain_path()).unwrap();
    let views = m.views();
    let snap = m.snapshot(&views).unwrap();
    let mut errs: Vec<f64> = m
        .options()
        .map(|q| {
            let inputs = snap.inputs(&q.instrument).unwrap();
            let v = pricing::valuation(&q.instrument, &inputs).unwrap();
            (v.value - q.mark_price.unwrap()).abs()
        })
        .collect();
    errs.sort_by(f64::total_cmp);
    let median = errs[errs.len() / 2];
    assert!(median < 1e-5, "median {median}");
    assert!(errs[errs.len() - 1] < 5e-4, "max {}", errs[errs.len() - 1]);
}

#[test]
fn example_market_json() {
    let m = parse_market_json(EXAMPLE, mem()).unwrap();
    let u = &m.underlyings[0];
    assert_eq!(u.index_price, 77081.8);
    assert_eq!(u.perpetual_price, 77100.0);
    assert_eq!(
        u.forwards,
        vec![Forward {
            expiry: ts("2026-09-25T08:00:00Z"),
            price: 77405.28
        }]
    );
    assert_eq!(u.vols.len(), 1);
    assert_eq!(u.vols[0].vol, 0.6246);
    // Listed in instrument order: perpetual, future, option.
    let names: Vec<String> = m
        .instruments
        .iter()
        .map(|q| q.instrument.to_string())
        .collect();
    assert_eq!(
        names,
        ["BTC-PERPETUAL", "BTC-25SEP26", "BTC-25SEP26-120000-P"]
    );
    // A future alone defines the forward of its expiry.
    let only_future = EXAMPLE.replace(r#""2026-09-25T08:00:00Z": 77405.28"#, "");
    let m2 = parse_market_json(&only_future, mem()).unwrap();
    assert_eq!(m2.underlyings[0].forwards, u.forwards);
    let views = m2.views();
    let snap = m2.snapshot(&views).unwrap();
    let inputs = snap
        .inputs(&Instrument::parse("BTC-25SEP26").unwrap())
        .unwrap();
    assert_eq!(inputs.forward, 77405.28);
}

#[test]
fn market_round_trips_through_json() {
    let chain = read_market(&chain_path()).unwrap();
    let json = write_market_json(&chain);
    assert_eq!(parse_market_json(&json, mem()).unwrap(), chain);

    let m = parse_market_json(EXAMPLE, mem()).unwrap();
    assert_eq!(parse_market_json(&write_market_json(&m), mem()).unwrap(), m);
    // A perpetual price set without a listed perpetual is written as an added mark.
    let mut bare = m.clone();
    bare.instruments
        .retain(|q| q.instrument.kind != Kind::Perpetual);
    let back = parse_market_json(&write_market_json(&bare), mem()).unwrap();
    assert_eq!(back.underlyings, bare.underlyings);
}

#[test]
fn perpetuals_on_one_coin_may_restate_the_mark() {
    let both = EXAMPLE.replace(
        r#""BTC-PERPETUAL": {"mark_price": 77100.0},"#,
        r#""BTC-PERPETUAL": {"mark_price": 77100.0},
           "BTC_USDC-PERPETUAL": {"mark_price": 77100.0},"#,
    );
    let m = parse_market_json(&both, mem()).unwrap();
    assert_eq!(m.underlyings[0].perpetual_price, 77100.0);
    assert_eq!(m.instruments.len(), 4);
}

#[test]
fn portfolio_round_trips() {
    let text = r#"{"account": "A1", "currency": "BTC", "equity": 1.5, "positions":
        [{"instrument": "BTC-PERPETUAL", "size": 0.31}, {"instrument": "BTC-27MAR26-90000-C", "size": -5}]}"#;
    let p = parse_portfolio_json(text, mem()).unwrap();
    assert_eq!(p.account, "A1");
    assert_eq!(p.currency.as_str(), "BTC");
    assert_eq!(p.equity, 1.5);
    assert_eq!(p.positions.len(), 2);
    assert_eq!(p.positions[1].size, -5.0);
    assert!(matches!(
        p.positions[1].instrument.kind,
        Kind::Option { strike, right: Right::Call, .. } if strike == 90000.0
    ));
    assert_eq!(
        parse_portfolio_json(&write_portfolio_json(&p), mem()).unwrap(),
        p
    );
    let line = write_portfolio_json_line(&p);
    assert!(!line.contains('\n'), "{line}");
    assert_eq!(parse_portfolio_json(&line, mem()).unwrap(), p);
    let defaults = PortfolioDefaults {
        account: Some("A1".into()),
        currency: None,
        equity: Some(1.5),
    };
    let csv = write_portfolio_csv(&p);
    assert_eq!(parse_portfolio_csv(&csv, mem(), &defaults).unwrap(), p);
    // Defaults: file stem, first position's coin, zero equity.
    let d = parse_portfolio_csv(
        &csv,
        Path::new("dir/acct7.csv"),
        &PortfolioDefaults::default(),
    )
    .unwrap();
    assert_eq!(
        (d.account.as_str(), d.currency.as_str(), d.equity),
        ("acct7", "BTC", 0.0)
    );
}

#[test]
fn format_detection() {
    let p = |s: &str| PathBuf::from(s);
    assert_eq!(detect_format(&p("a.json"), " {").unwrap(), FileFormat::Json);
    assert_eq!(detect_format(&p("a.CSV"), "x,y").unwrap(), FileFormat::Csv);
    assert_eq!(detect_format(&p("a"), "\n{").unwrap(), FileFormat::Json);
    assert_eq!(detect_format(&p("a.txt"), "x,y").unwrap(), FileFormat::Csv);
    for (name, text) in [("a.csv", "{}"), ("a.json", "x,y")] {
        let e = detect_format(&p(name), text).unwrap_err();
        assert!(matches!(e.kind, FormatErrorKind::UnknownFormat(_)), "{e}");
    }
}

/// Asserts that `r` failed with a kind matching `pat` and that its one-line message names `needle`.
macro_rules! assert_fails {
    ($r:expr, $pat:pat, $needle:expr) => {{
        let e = $r.unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e.kind, $pat), "wrong kind: {msg}");
        assert!(msg.contains($needle), "`{msg}` does not name `{}`", $needle);
        assert!(!msg.contains('\n'), "multi-line message: {msg}");
        assert!(msg.starts_with("<memory>: ") || msg.contains(".csv") || msg.contains(".json"));
    }};
}

#[test]
fn market_json_errors() {
    use FormatErrorKind as K;
    let bad = |from: &str, to: &str| {
        assert_eq!(EXAMPLE.matches(from).count(), 1, "{from}");
        parse_market_json(&EXAMPLE.replace(from, to), mem())
    };
    assert_fails!(parse_market_json("{", mem()), K::Json(_), "line 1");
    assert_fails!(
        bad(r#""index_price": 77081.8, "#, ""),
        K::Json(_),
        "index_price"
    );
    assert_fails!(bad("77081.8", "\"x\""), K::Json(_), "invalid type");
    assert_fails!(bad("77081.8", "1e999"), K::Json(_), "out of range");
    assert_fails!(
        bad("77081.8", "0"),
        K::NonPositive { .. },
        "underlyings.BTC.index_price"
    );
    assert_fails!(
        bad("77081.8", "-3"),
        K::NonPositive { .. },
        "must be positive"
    );
    assert_fails!(bad("0.6246", "0"), K::NonPositive { .. }, "mark_iv");
    assert_fails!(
        bad("\"rate\": 0.0", "\"rat\": 0.0"),
        K::Json(_),
        "unknown field"
    );
    assert_fails!(
        bad("2026-08-22T15:33:51Z", "yesterday"),
        K::BadTime(_),
        "valuation_time"
    );
    assert_fails!(
        bad("2026-09-25T08:00:00Z", "2026-09-31T08:00:00Z"),
        K::BadTime(_),
        "forwards"
    );
    assert_fails!(
        bad("BTC-25SEP26-120000-P", "BTC-25SEP26-120000-X"),
        K::BadSymbol { .. },
        "BTC-25SEP26-120000-X"
    );
    assert_fails!(
        bad("BTC-PERPETUAL", "ETH-PERPETUAL"),
        K::UnknownCurrency(_),
        "ETH"
    );
    assert_fails!(
        bad("\"BTC\": {", "\"btc\": {"),
        K::UnknownCurrency(_),
        "btc"
    );
    assert_fails!(bad("BTC-PERPETUAL", "BTC"), K::Unsupported(_), "spot");
    // The future's mark must equal the forward of its expiry.
    assert_fails!(
        bad("\"mark_price\": 77405.28", "\"mark_price\": 77400"),
        K::Conflict(_),
        "disagrees"
    );
    // Two perpetuals on one coin share one mark: a different one names both entries.
    assert_fails!(
        bad(
            r#""BTC-PERPETUAL": {"mark_price": 77100.0},"#,
            r#""BTC-PERPETUAL": {"mark_price": 77100.0},
               "BTC_USDC-PERPETUAL": {"mark_price": 90000.0},"#
        ),
        K::Conflict(_),
        r#"instruments["BTC_USDC-PERPETUAL"].mark_price"#
    );
    assert_fails!(
        bad(
            r#""BTC-PERPETUAL": {"mark_price": 77100.0},"#,
            r#""BTC-PERPETUAL": {"mark_price": 77100.0},
               "BTC_USDC-PERPETUAL": {"mark_price": 90000.0},"#
        ),
        K::Conflict(_),
        r#"`instruments["BTC-PERPETUAL"].mark_price`"#
    );
    // Repeated keys are duplicates, not silently overwritten.
    assert_fails!(
        bad(
            r#""2026-09-25T08:00:00Z": 77405.28}"#,
            r#""2026-09-25T08:00:00Z": 77405.28, "2026-09-25T08:00:00Z": 77405.28}"#
        ),
        K::Duplicate {
            what: "forward",
            ..
        },
        "duplicate forward"
    );
    assert_fails!(
        bad(
            r#""mark_iv": 0.6246}"#,
            r#""mark_iv": 0.6246}, "BTC-25SEP26-120000-P": {"mark_iv": 0.6246}"#
        ),
        K::Duplicate {
            what: "instrument",
            ..
        },
        "BTC-25SEP26-120000-P"
    );
    assert_fails!(
        bad(
            r#""mark_iv": 0.6246}"#,
            r#""mark_iv": 0.6246}, "BTC_USDC-25SEP26-120000-P": {"mark_iv": 0.7}"#
        ),
        K::Conflict(_),
        "same expiry, strike and right"
    );
    assert_fails!(
        bad(r#"{"mark_iv": 0.6246}"#, r#"{"mark_price": 0.5}"#),
        K::Missing(_),
        "mark_iv"
    );
    assert_fails!(
        bad("BTC-25SEP26-120000-P", "BTC-25DEC26-120000-P"),
        K::Missing(_),
        "forward"
    );
    assert_fails!(
        bad(
            r#""underlyings": {"#,
            r#""underlyings": {"BTC": {"index_price": 1}, "#
        ),
        K::Duplicate {
            what: "underlying",
            ..
        },
        "BTC"
    );
}

fn chain_text() -> String {
    std::fs::read_to_string(chain_path()).unwrap()
}

#[test]
fn deribit_chain_errors() {
    use FormatErrorKind as K;
    let text = chain_text();
    let lines: Vec<&str> = text.lines().take(4).collect();
    let header = lines[0].to_string();
    let row = lines[2].to_string(); // BTC-25SEP26-120000-P
    let parse = |rows: &[String]| {
        let mut t = header.clone();
        for r in rows {
            t.push('\n');
            t.push_str(r);
        }
        parse_deribit_chain(&t, mem())
    };
    assert!(parse(std::slice::from_ref(&row)).is_ok());
    let edit = |from: &str, to: &str| {
        assert!(row.contains(from), "{from}");
        parse(&[row.replacen(from, to, 1)])
    };
    assert_fails!(parse(&[]), K::Missing(_), "option rows");
    assert_fails!(
        edit(",77405.28,", ",inf,"),
        K::NonFinite(_),
        "line 2, column `underlying`"
    );
    assert_fails!(
        edit(",77405.28,", ",-1,"),
        K::NonPositive { .. },
        "underlying"
    );
    assert_fails!(edit(",77405.28,", ",abc,"), K::NotANumber(_), "abc");
    assert_fails!(
        edit(",0.6246,", ",0,"),
        K::NonPositive { .. },
        "implied_volatility"
    );
    assert_fails!(edit(",0.6246,", ",,"), K::Missing(_), "implied_volatility");
    assert_fails!(
        edit("2026-08-22T15:33:51.683630", "2026-08-32T15:33:51.683630"),
        K::BadTime(_),
        "timestamp"
    );
    assert_fails!(
        edit("BTC-25SEP26-120000-P", "BTC-25SEP26-120000"),
        K::BadSymbol { .. },
        "BTC-25SEP26-120000"
    );
    assert_fails!(
        edit("BTC-25SEP26-120000-P", "BTC-25SEP26"),
        K::Unsupported(_),
        "not an option"
    );
    assert_fails!(edit(",put,", ",call,"), K::Conflict(_), "option_type");
    assert_fails!(edit(",120000.0,", ",125000.0,"), K::Conflict(_), "strike");
    assert_fails!(edit(",BTC,", ",btc,"), K::UnknownCurrency(_), "currency");
    assert_fails!(edit(",BTC,", ",ETH,"), K::Conflict(_), "currency");
    assert_fails!(
        parse(&[row.clone(), row.clone()]),
        K::Duplicate {
            what: "instrument",
            ..
        },
        "line 3"
    );
    assert_fails!(
        parse(&[
            row.clone(),
            row.replace("15:33:51", "15:34:51")
                .replace("120000", "125000")
        ]),
        K::Conflict(_),
        "one snapshot"
    );
    assert_fails!(parse(&[format!("{row},extra")]), K::Csv(_), "line 2");
    assert_fails!(
        parse_deribit_chain(&text.replacen("implied_volatility", "iv", 1), mem()),
        K::Missing(_),
        "line 1, column `implied_volatility`"
    );
}

#[test]
fn portfolio_errors() {
    use FormatErrorKind as K;
    let json = |positions: &str| {
        parse_portfolio_json(
            &format!(
                r#"{{"account": "A1", "currency": "BTC", "equity": 1.5, "positions": [{positions}]}}"#
            ),
            mem(),
        )
    };
    let d = PortfolioDefaults::default();
    let csv = |body: &str| parse_portfolio_csv(&format!("instrument,size\n{body}"), mem(), &d);
    assert_fails!(
        json(r#"{"instrument": "BTC-PERPETUAL"}"#),
        K::Json(_),
        "size"
    );
    // A value of the wrong type names its field, not only serde's line and column.
    assert_fails!(
        json(
            r#"{"instrument": "BTC-PERPETUAL", "size": 1}, {"instrument": "BTC-25SEP26", "size": "two"}"#
        ),
        K::Json(_),
        "`positions[1].size`"
    );
    let m = parse_market_json(
        r#"{"valuation_time": "2026-08-22T15:33:51Z", "underlyings": {"BTC": {"index_price": "x"}}, "instruments": {}}"#,
        mem(),
    );
    assert_fails!(m, K::Json(_), "`underlyings.BTC.index_price`");
    assert_fails!(
        json(r#"{"instrument": "BTC-PERPETUAL", "size": 2e9}"#),
        K::AbsurdSize(_),
        "positions[0].size"
    );
    assert_fails!(
        json(r#"{"instrument": "BTC-31FEB26", "size": 1}"#),
        K::BadSymbol { .. },
        "positions[0].instrument"
    );
    assert_fails!(
        json(
            r#"{"instrument": "BTC-PERPETUAL", "size": 1}, {"instrument": "BTC-PERPETUAL", "size": 2}"#
        ),
        K::Duplicate {
            what: "position",
            ..
        },
        "positions[1]"
    );
    assert_fails!(
        parse_portfolio_json(
            r#"{"account": "A", "currency": "bitcoin", "equity": 1, "positions": []}"#,
            mem()
        ),
        K::UnknownCurrency(_),
        "currency"
    );
    assert_fails!(
        csv("BTC-PERPETUAL,NaN"),
        K::AbsurdSize(_),
        "line 2, column `size`"
    );
    assert_fails!(csv("BTC-PERPETUAL,-1e10"), K::AbsurdSize(_), "-10000000000");
    assert_fails!(
        csv("BTC-PERPETUAL,1\nBTC-PERPETUAL,2"),
        K::Duplicate { .. },
        "line 3"
    );
    assert_fails!(csv("BTC-PERPETUAL,one"), K::NotANumber(_), "one");
    assert_fails!(csv("BTC-PERPETUAL"), K::Csv(_), "line 2");
    assert_fails!(csv(""), K::Missing(_), "currency");
    assert_fails!(
        parse_portfolio_csv("symbol,size\nBTC-PERPETUAL,1", mem(), &d),
        K::Missing(_),
        "column `instrument`"
    );
    let e = read_portfolio(Path::new("/nonexistent/p.json"), &d).unwrap_err();
    assert!(matches!(e.kind, K::Io(_)));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/p.json: cannot read file"),
        "{e}"
    );
}

/// Issue 13, class "market inputs with no sanity bounds": each implausible number is rejected
/// with the field named and the bound stated; `allow_implausible` lets it through.
#[test]
fn implausible_market_numbers_are_rejected_with_the_field_named() {
    let strict = |from: &str, to: &str| -> String {
        let text = EXAMPLE.replacen(from, to, 1);
        assert_ne!(text, EXAMPLE, "{from}");
        let e = parse_market_json(&text, Path::new("m.json")).unwrap_err();
        // The same text is accepted when the user insists, in the file or as a reader option.
        let allowed = text.replacen('{', "{\"allow_implausible\": true, ", 1);
        parse_market_json(&allowed, Path::new("m.json")).unwrap();
        let opts = MarketOptions {
            allow_implausible: true,
        };
        parse_market_json_with(&text, Path::new("m.json"), opts).unwrap();
        e.to_string()
    };
    let tail =
        "; set `allow_implausible` / pass --allow-implausible-market if this is really meant)";
    // A vol in percent, as Deribit's API writes it.
    assert_eq!(
        strict("\"mark_iv\": 0.6246", "\"mark_iv\": 46.0"),
        format!(
            "m.json: `instruments[\"BTC-25SEP26-120000-P\"].mark_iv`: implausible implied vol 46 \
             (expected a decimal vol of at most 5.0 (500 %), e.g. 0.46 for 46 %{tail}"
        )
    );
    // An index 1,000× away from its forwards: the forward is named against its index.
    assert_eq!(
        strict("\"index_price\": 77081.8", "\"index_price\": 77.0818"),
        format!(
            "m.json: `underlyings.BTC.forwards[\"2026-09-25T08:00:00Z\"]`: implausible forward \
             77405.28 (expected within [0.5, 2] times the index{tail}"
        )
    );
    for rate in ["1", "800", "-0.51"] {
        assert_eq!(
            strict("\"rate\": 0.0", &format!("\"rate\": {rate}")),
            format!(
                "m.json: `underlyings.BTC.rate`: implausible rate {rate} (expected a decimal \
                 rate with |rate| <= 0.5 (50 % a year){tail}"
            )
        );
    }
    // Marks of 1e300: a perpetual's (its price) and an option's.
    assert_eq!(
        strict("\"mark_price\": 77100.0", "\"mark_price\": 1e300"),
        format!(
            "m.json: `instruments[\"BTC-PERPETUAL\"].mark_price`: implausible perpetual price \
             1e300 (expected at most 1e12 USD per coin{tail}"
        )
    );
    assert_eq!(
        strict(
            "{\"mark_iv\": 0.6246}",
            "{\"mark_iv\": 0.6246, \"mark_price\": 1e300}"
        ),
        format!(
            "m.json: `instruments[\"BTC-25SEP26-120000-P\"].mark_price`: implausible mark_price \
             1e300 (expected at most 1e12 in the instrument's price unit{tail}"
        )
    );
    // The edges are accepted: vol 5.0, rate ±0.5, forward exactly 2× the index.
    let edge = EXAMPLE
        .replacen("\"mark_iv\": 0.6246", "\"mark_iv\": 5.0", 1)
        .replacen("\"rate\": 0.0", "\"rate\": -0.5", 1);
    parse_market_json(&edge, mem()).unwrap();
}

/// The same bounds in the Deribit chain CSV, naming line and column.
#[test]
fn implausible_deribit_rows_are_rejected_with_line_and_column() {
    let text = std::fs::read_to_string(chain_path()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Line 3 of the file (the second row): implied_volatility 0.6246 written as percent.
    assert!(lines[2].contains(",0.6246,"), "{}", lines[2]);
    lines[2] = lines[2].replacen(",0.6246,", ",62.46,", 1);
    let bad = lines.join("\n");
    let e = parse_deribit_chain(&bad, Path::new("chain.csv")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "chain.csv: line 3, column `implied_volatility`: implausible implied vol 62.46 \
         (expected a decimal vol of at most 5.0 (500 %), e.g. 0.46 for 46 %; set \
         `allow_implausible` / pass --allow-implausible-market if this is really meant)"
    );
    let opts = MarketOptions {
        allow_implausible: true,
    };
    let m = parse_deribit_chain_with(&bad, Path::new("chain.csv"), opts).unwrap();
    assert!(m.underlyings[0].vols.iter().any(|v| v.vol == 62.46));
}

/// Issue 13, class "linear contracts quoted in a coin": rejected where the symbol is read,
/// naming the position and the supported stablecoins.
#[test]
fn coin_quoted_linear_contracts_are_rejected() {
    let text = r#"{"account": "A", "currency": "BTC", "equity": 1,
        "positions": [{"instrument": "BTC_BTC-PERPETUAL", "size": 1}]}"#;
    let e = parse_portfolio_json(text, Path::new("p.json")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "p.json: `positions[0].instrument`: bad instrument symbol `BTC_BTC-PERPETUAL`: invalid \
         symbol: unsupported quote currency (a linear contract must be quoted in a USD \
         stablecoin the engine supports: USDC or USDT; coin-quoted contracts such as \
         BTC_BTC-PERPETUAL or ETH_BTC-... are not modelled)"
    );
    let market = EXAMPLE.replacen("\"BTC-PERPETUAL\"", "\"BTC_DOGE-PERPETUAL\"", 1);
    let e = parse_market_json(&market, mem()).unwrap_err();
    assert!(
        matches!(
            e.kind,
            FormatErrorKind::BadSymbol {
                error: crate::Error::Symbol(crate::error::SymbolError::UnsupportedQuote),
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.location,
        Location::Path("instruments[\"BTC_DOGE-PERPETUAL\"]".into())
    );
}

/// Issue 13, class "small input defects": each is an error naming the field.
#[test]
fn small_input_defects_are_errors() {
    let json = |positions: &str, equity: &str| {
        format!(
            r#"{{"account": "A", "currency": "BTC", "equity": {equity}, "positions": [{positions}]}}"#
        )
    };
    let err = |text: &str| {
        parse_portfolio_json(text, Path::new("p.json"))
            .unwrap_err()
            .to_string()
    };
    let size_msg = |v: &str| {
        format!(
            "p.json: `positions[0].size`: absurd position size {v} (expected a finite number with \
             1e-9 <= |size| <= 1e9; leave out a position of 0)"
        )
    };
    // A size that underflows to 0, and 0 itself.
    for (lit, shown) in [("1e-400", "0"), ("0", "0"), ("-1e-10", "-0.0000000001")] {
        assert_eq!(
            err(&json(
                &format!(r#"{{"instrument": "BTC-PERPETUAL", "size": {lit}}}"#),
                "1"
            )),
            size_msg(shown),
            "{lit}"
        );
    }
    let csv_err = |text: &str| {
        parse_portfolio_csv(text, Path::new("p.csv"), &PortfolioDefaults::default())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        csv_err("instrument,size\nBTC-PERPETUAL,1e-400\n"),
        "p.csv: line 2, column `size`: absurd position size 0 (expected a finite number with \
         1e-9 <= |size| <= 1e9; leave out a position of 0)"
    );
    // Two `size` columns: which one? An error naming it.
    assert_eq!(
        csv_err("instrument,size,size\nBTC-PERPETUAL,1,2\n"),
        "p.csv: line 1, column `size`: duplicate column `size`"
    );
    // JSON arrays where objects are meant: the whole portfolio, a position, a model file.
    assert_eq!(
        err(r#"["A", "BTC", 1, []]"#),
        "p.json: malformed JSON: invalid type: sequence, expected an object at line 1 column 0"
    );
    assert_eq!(
        err(&json(r#"["BTC-PERPETUAL", 1]"#, "1")),
        "p.json: `positions[0]`: malformed JSON: invalid type: sequence, expected an object at \
         line 1 column 63"
    );
    let model = parse_model_json(r#"["span16", {}]"#, Path::new("m.json")).unwrap_err();
    assert!(
        model
            .to_string()
            .contains("invalid type: sequence, expected an object"),
        "{model}"
    );
    let market = parse_market_json(r#"["2026-08-22T15:33:51Z", {}]"#, mem()).unwrap_err();
    assert!(
        market
            .to_string()
            .contains("invalid type: sequence, expected an object"),
        "{market}"
    );
    // Dust (subnormal) equity would make the margin ratio infinite.
    assert_eq!(
        err(&json(
            r#"{"instrument": "BTC-PERPETUAL", "size": 1}"#,
            "1e-320"
        )),
        "p.json: `equity`: implausible equity 1e-320 (expected 0 or |equity| >= 1e-12 (dust \
         equity makes the margin ratio infinite); set `allow_implausible` / pass \
         --allow-implausible-market if this is really meant)"
    );
    // The account's own coin is collateral, not a position (a short of it got IM 0).
    let own = "`BTC` is the account's own coin: it is collateral, so put it in `equity` (held \
               as a position it has no P&L in BTC and would get IM 0)";
    assert_eq!(
        err(&json(r#"{"instrument": "BTC", "size": -1}"#, "1")),
        format!("p.json: `positions[0].instrument`: {own}")
    );
    assert_eq!(
        csv_err("instrument,size\nBTC-PERPETUAL,1\nBTC,-1\n"),
        format!("p.csv: line 3, column `instrument`: {own}")
    );
    // Another coin's spot in a BTC account is not the account's collateral: not this error.
    let eth = json(r#"{"instrument": "ETH", "size": -1}"#, "1");
    assert!(parse_portfolio_json(&eth, Path::new("p.json")).is_ok());
}
