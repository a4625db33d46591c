//! Daily price histories: the bundled Yahoo files (data/btc-eth-daily/SOURCE.md), joins, and
//! every error class naming its file, line and column.

use margin_core::io::{FormatErrorKind, Location, PriceHistory, parse_history_csv};
use margin_core::{Asset, Error, Timestamp};
use std::path::Path;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/btc-eth-daily/");

fn data(name: &str) -> String {
    format!("{DIR}{name}")
}

fn day(s: &str) -> Timestamp {
    Timestamp::parse_iso8601(s).unwrap()
}

fn coin(s: &str) -> Asset {
    Asset::new(s).unwrap()
}

fn load(specs: &[&str]) -> Result<PriceHistory, margin_core::io::FormatError> {
    PriceHistory::load(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn the_bundled_aligned_file() {
    let h = load(&[&data("btc_eth_daily_close_aligned.csv")]).unwrap();
    assert_eq!(h.coins(), [coin("BTC"), coin("ETH")]);
    assert_eq!(h.len(), 2391);
    assert_eq!(h.closes().len(), 2 * 2391);
    assert_eq!(h.dates()[0], day("2017-11-09"));
    assert_eq!(h.dates()[2390], day("2024-05-26"));
    assert_eq!(h.closes()[..2], [7143.580078, 320.884003]);
    assert_eq!(h.close(2390, 1), Some(3825.897461));
    assert_eq!(h.coin_index(coin("ETH")), Some(1));
    assert_eq!((h.close(0, 2), h.close(2391, 0)), (None, None));
}

#[test]
fn one_yahoo_file_alone() {
    let h = load(&[&data("BTC-USD.csv")]).unwrap();
    assert_eq!(h.coins(), [coin("BTC")]);
    assert_eq!(h.len(), 3541);
    assert_eq!(h.dates()[0], day("2014-09-17"));
    assert_eq!(h.dates()[3540], day("2024-05-27"));
    assert_eq!(h.closes()[0], 457.334015);
    // The same file with the coin given explicitly.
    let named = load(&[&format!("btc={}", data("BTC-USD.csv"))]).unwrap();
    assert_eq!(named, h);
}

#[test]
fn joining_the_yahoo_files_reproduces_the_aligned_file() {
    let aligned = load(&[&data("btc_eth_daily_close_aligned.csv")]).unwrap();
    let joint = load(&[
        &data("BTC-USD.csv"),
        &format!("ETH={}", data("ETH-USD.csv")),
    ])
    .unwrap();
    assert_eq!(joint.coins(), aligned.coins());
    // The aligned file drops the partial last day, 2024-05-27 (SOURCE.md); the join keeps it.
    assert_eq!(joint.len(), 2392);
    assert_eq!(joint.dates()[..2391], *aligned.dates());
    assert_eq!(joint.dates()[2391], day("2024-05-27"));
    assert_eq!(
        joint.closes()[..2 * 2391],
        *aligned.closes(),
        "same text, same bits"
    );
    // A wide file's column can be picked by coin and joined with a per-coin file.
    let mixed = load(&[
        &format!("ETH={}", data("btc_eth_daily_close_aligned.csv")),
        &data("BTC-USD.csv"),
    ])
    .unwrap();
    assert_eq!(mixed.coins(), [coin("ETH"), coin("BTC")]);
    assert_eq!(mixed.len(), 2391);
    assert_eq!(mixed.closes()[..2], [320.884003, 7143.580078]);
}

#[test]
fn between_restricts_to_an_inclusive_range() {
    let h = load(&[&data("btc_eth_daily_close_aligned.csv")]).unwrap();
    let jan = h
        .between(Some(day("2020-01-01")), Some(day("2020-01-31")))
        .unwrap();
    assert_eq!(jan.len(), 31);
    assert_eq!(jan.dates()[0], day("2020-01-01"));
    assert_eq!(jan.coins(), h.coins());
    let t0 = h
        .dates()
        .iter()
        .position(|&d| d == day("2020-01-01"))
        .unwrap();
    assert_eq!(jan.closes(), &h.closes()[2 * t0..2 * (t0 + 31)]);
    assert_eq!(h.between(None, None).unwrap(), h);
    assert_eq!(h.between(Some(day("2024-05-25")), None).unwrap().len(), 2);
    for (from, to) in [
        (Some(day("2024-05-26")), None),
        (None, Some(day("2017-11-09"))),
        (Some(day("2021-01-02")), Some(day("2021-01-01"))),
        (Some(day("2030-01-01")), None),
    ] {
        assert!(matches!(h.between(from, to), Err(Error::OutOfRange { .. })));
    }
}

/// Parses `text` as an OHLC file of BTC and returns the error's line, column and kind.
fn error_at(text: &str) -> (u64, Option<String>, FormatErrorKind) {
    let e = parse_history_csv(text, Path::new("BTC-USD.csv"), None).unwrap_err();
    assert!(e.to_string().starts_with("BTC-USD.csv: line "), "{e}");
    match e.location {
        Location::Line { line, column } => (line, column, e.kind),
        other => panic!("{other:?}"),
    }
}

const HEAD: &str = "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-01,1,1,1,10,10,5\n";

#[test]
fn each_error_names_its_line_and_column() {
    let col = |c: &str| Some(c.to_string());
    let (line, column, kind) = error_at(&format!("{HEAD}2024-01-03,1,1,1,10,10,5\n"));
    assert_eq!((line, column), (3, col("Date")));
    assert!(matches!(kind, FormatErrorKind::DateGap { .. }), "{kind}");
    let (line, column, kind) = error_at(&format!("{HEAD}2024-01-01,1,1,1,10,10,5\n"));
    assert_eq!((line, column), (3, col("Date")));
    assert!(matches!(
        kind,
        FormatErrorKind::Duplicate { what: "date", .. }
    ));
    let (line, _, kind) = error_at(&format!("{HEAD}2023-12-31,1,1,1,10,10,5\n"));
    assert!(line == 3 && matches!(kind, FormatErrorKind::DateOrder { .. }));
    let (line, _, kind) = error_at(&format!("{HEAD}2024-1-02,1,1,1,10,10,5\n"));
    assert!(line == 3 && matches!(kind, FormatErrorKind::BadTime(_)));
    let ok = format!("{HEAD}2024-01-02,1,1,1,11,11,5\n");
    for (close, expect) in [
        ("0", "non-positive"),
        ("-3", "non-positive"),
        ("null", "text"),
        ("nan", "nan"),
        ("inf", "nan"),
    ] {
        let (line, column, kind) = error_at(&format!("{ok}2024-01-03,1,1,1,{close},1,5\n"));
        assert_eq!((line, column), (4, col("Close")), "{close}");
        match expect {
            "non-positive" => assert!(matches!(kind, FormatErrorKind::NonPositive { .. })),
            "text" => assert!(matches!(kind, FormatErrorKind::NotANumber(_))),
            _ => assert!(matches!(kind, FormatErrorKind::NonFinite(_))),
        }
    }
    // Wide files name the coin's column.
    let wide = "date,btc_close_usd,eth_close_usd\n2024-01-01,1,2\n2024-01-02,3,abc\n";
    let e = parse_history_csv(wide, Path::new("w.csv"), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "w.csv: line 3, column `eth_close_usd`: expected a number, found `abc`"
    );
}

#[test]
fn a_coin_given_twice_is_an_error() {
    // Twice in one header: line 1 names the second column.
    let e = parse_history_csv(
        "date,BTC,btc_close_usd\n2024-01-01,1,2\n",
        Path::new("w.csv"),
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.location,
        Location::Line {
            line: 1,
            column: Some("btc_close_usd".into())
        }
    );
    assert!(matches!(
        e.kind,
        FormatErrorKind::Duplicate { what: "coin", .. }
    ));
    // Across files: the second file is named, with the first.
    let btc = data("BTC-USD.csv");
    let e = load(&[&data("btc_eth_daily_close_aligned.csv"), &btc]).unwrap_err();
    assert_eq!(e.file, Path::new(&btc));
    assert!(matches!(
        e.kind,
        FormatErrorKind::Duplicate { what: "coin", .. }
    ));
    assert!(
        e.to_string()
            .contains("duplicate coin `BTC` (already read from"),
        "{e}"
    );
}

#[test]
fn other_errors() {
    // An OHLC file whose name does not give the coin.
    let e = parse_history_csv(HEAD, Path::new("prices.csv"), None).unwrap_err();
    assert!(matches!(e.kind, FormatErrorKind::Missing(_)), "{e}");
    assert!(parse_history_csv(HEAD, Path::new("prices.csv"), Some(coin("BTC"))).is_ok());
    // No data, no date column, a column that is not a coin, a coin the wide file lacks.
    for (text, want) in [
        ("date,BTC\n", "data rows"),
        ("day,BTC\n2024-01-01,1\n", "column"),
        ("date,BTC price\n2024-01-01,1\n", "unknown currency"),
    ] {
        let e = parse_history_csv(text, Path::new("w.csv"), None).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
    let e = parse_history_csv(
        "date,BTC\n2024-01-01,1\n",
        Path::new("w.csv"),
        Some(coin("ETH")),
    )
    .unwrap_err();
    assert!(e.to_string().contains("requested coin"), "{e}");
    // A single date, or histories without 2 common dates.
    let e = load(&[]).unwrap_err();
    assert!(matches!(e.kind, FormatErrorKind::Missing(_)));
    let e = load(&[&data("does-not-exist.csv")]).unwrap_err();
    assert!(matches!(e.kind, FormatErrorKind::Io(_)));
    let dir = std::env::temp_dir().join(format!("margin-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let one = write("one.csv", "date,BTC\n2024-01-01,1\n");
    let early = write("early.csv", "date,BTC\n2024-01-01,1\n2024-01-02,2\n");
    let late = write("late.csv", "date,ETH\n2024-01-02,1\n2024-01-03,2\n");
    let e = load(&[&one]).unwrap_err();
    assert!(e.to_string().contains("fewer than 2 dates"), "{e}");
    let e = load(&[&early, &late]).unwrap_err();
    assert_eq!(e.file, Path::new(&late), "the file starting last");
    assert!(e.to_string().contains("share fewer than 2 dates"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SOURCE.md's sanity figure (not an oracle): on the aligned file the worst day for both coins
/// was 2020-03-12, BTC log return −0.4647 and ETH −0.5507. HS moves of 1 day find it.
#[test]
fn hs_moves_on_the_bundled_history_find_the_covid_crash() {
    use margin_core::stats::historical::hs_moves;
    let h = load(&[&data("btc_eth_daily_close_aligned.csv")]).unwrap();
    let mut moves = vec![0.0; 2 * h.len()];
    let mut windows = vec![(0, 0); h.len()];
    let n = hs_moves(h.closes(), 2, 1, true, &mut moves, &mut windows).unwrap();
    assert_eq!(n, 2390);
    for (c, log_return) in [(0, -0.4647), (1, -0.5507)] {
        let worst = (0..n)
            .min_by(|&a, &b| moves[2 * a + c].total_cmp(&moves[2 * b + c]))
            .unwrap();
        assert_eq!(h.dates()[windows[worst].1], day("2020-03-12"));
        assert!((libm::log1p(moves[2 * worst + c]) - log_return).abs() < 5e-5);
    }
}
