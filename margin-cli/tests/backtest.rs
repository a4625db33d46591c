//! Runs the real `margin backtest`: MathWorks' published example through `--exceptions`, the
//! JSON contract of both modes, a linear perpetual's realised losses against the raw history
//! CSV, the SVG's exception marks, and one-line errors with exit 1.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("margin-backtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn margin(args: &[&str]) -> Command {
    let mut c = Command::cargo_bin("margin").unwrap();
    c.arg("backtest").args(args);
    c
}

fn json(args: &[&str]) -> Value {
    let out = margin(args).arg("--json").assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn error(args: &[&str]) -> String {
    let out = margin(args).assert().code(1);
    let e = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

/// 1,043 days with MathWorks' transitions N00/N10/N01/N11 = 932/53/53/4 (57 exceptions).
fn mathworks_file() -> PathBuf {
    let mut s = vec!["0"; 933];
    for run in 0..53 {
        s.push("1");
        if run < 4 {
            s.push("1");
        }
        s.push("0");
    }
    let f = tmp("mathworks.txt");
    std::fs::write(&f, s.join("\n") + "\n").unwrap();
    f
}

fn p(f: &Path) -> String {
    f.display().to_string()
}

#[test]
fn exceptions_reproduce_the_mathworks_example() {
    // MathWorks varbacktest documentation (EquityIndex vs Normal95, VaRLevel 0.95): LRatioPOF
    // 0.46147 (p 0.49694), LRatioCCI 0.25866 (p 0.61104), LRatioCC 0.72013 (p 0.69763).
    let f = mathworks_file();
    let j = json(&["--exceptions", &p(&f), "--p", "0.05"]);
    let close = |v: &Value, x: f64| (v.as_f64().unwrap() - x).abs() < 5e-6;
    assert!(close(&j["pof"]["lr"], 0.46147));
    assert!(close(&j["pof"]["p_value"], 0.49694));
    assert_eq!(j["pof"]["exceptions"], 57);
    assert_eq!(j["pof"]["observations"], 1043);
    assert!(close(&j["independence"]["lr"], 0.25866));
    assert!(close(&j["independence"]["p_value"], 0.61104));
    let t = &j["independence"];
    assert_eq!(
        (&t["n00"], &t["n01"], &t["n10"], &t["n11"]),
        (&932.into(), &53.into(), &53.into(), &4.into())
    );
    assert!(close(&j["conditional_coverage"]["lr"], 0.72013));
    assert!(close(&j["conditional_coverage"]["p_value"], 0.69763));
    assert!(j["traffic_light"]["zone"].is_string());
    // Exception days are the 1-based lines holding a 1: the first run starts on line 934.
    let days = j["exception_days"].as_array().unwrap();
    assert_eq!(days.len(), 57);
    assert_eq!(
        (days[0].as_u64(), days[1].as_u64(), days[2].as_u64()),
        (Some(934), Some(935), Some(937))
    );
    // The text report names the three tests with the same numbers.
    let out = margin(&["--exceptions", &p(&f), "--p", "0.05"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("0.46147") && text.contains("0.25866") && text.contains("0.72013"),
        "{text}"
    );
}

#[test]
fn basel_zones_at_250_days() {
    // Basel (1996) Table 2: 250 days at 99 %: 4 exceptions green, 5 yellow, 10 red.
    for (x, zone) in [
        (0, "green"),
        (4, "green"),
        (5, "yellow"),
        (9, "yellow"),
        (10, "red"),
    ] {
        let f = tmp(&format!("basel-{x}.txt"));
        let lines: Vec<&str> = (0..250).map(|i| if i < x { "1" } else { "0" }).collect();
        std::fs::write(&f, lines.join("\n")).unwrap();
        let j = json(&["--exceptions", &p(&f), "--p", "0.01"]);
        assert_eq!(j["traffic_light"]["zone"], zone, "{x}");
        assert_eq!(
            (
                j["traffic_light"]["green_max"].as_u64(),
                j["traffic_light"]["yellow_max"].as_u64()
            ),
            (Some(4), Some(9))
        );
    }
}

#[test]
fn a_bad_series_or_p_is_one_line_naming_it() {
    let f = tmp("bad.txt");
    std::fs::write(&f, "0\n1\nyes\n0\n").unwrap();
    let e = error(&["--exceptions", &p(&f), "--p", "0.01"]);
    assert!(e.contains("line 3") && e.contains("yes"), "{e}");
    let g = mathworks_file();
    assert!(error(&["--exceptions", &p(&g)]).contains("--p"));
    assert!(error(&["--exceptions", &p(&g), "--p", "1.5"]).contains("--p 1.5"));
    assert!(error(&["--exceptions", &p(&g), "--p", "0"]).contains("--p 0"));
    let empty = tmp("empty.txt");
    std::fs::write(&empty, "").unwrap();
    assert!(error(&["--exceptions", &p(&empty), "--p", "0.01"]).contains("no observations"));
    assert!(error(&["--p", "0.01"]).contains("--portfolio"));
}

/// BTC closes of the bundled OHLC file by date, read with plain string splitting.
fn btc_closes() -> Vec<(String, f64)> {
    std::fs::read_to_string(root().join("data/btc-eth-daily/BTC-USD.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[4].parse().unwrap())
        })
        .collect()
}

fn portfolio_args<'a>(portfolio: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "--portfolio".into(),
        portfolio.into(),
        "--market".into(),
        p(&root().join("data/deribit/deribit_options_snapshot_20260822T153351Z.csv")),
        "--history".into(),
        p(&root().join("data/btc-eth-daily/BTC-USD.csv")),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

#[test]
fn a_linear_perpetual_backtest_matches_the_raw_history() {
    let f = tmp("linear.csv");
    std::fs::write(&f, "instrument,size\nBTC_USDC-PERPETUAL,-2\n").unwrap();
    let svg = tmp("linear.svg");
    let args = portfolio_args(
        f.to_str().unwrap(),
        &[
            "--currency",
            "USDC",
            "--model",
            "hs-es",
            "--window",
            "300",
            "--from",
            "2021-01-01",
            "--to",
            "2022-12-31",
            "--svg",
            svg.to_str().unwrap(),
        ],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let j = json(&args);
    for key in [
        "pof",
        "independence",
        "conditional_coverage",
        "traffic_light",
        "exception_days",
        "days",
        "revaluation",
    ] {
        assert!(j.get(key).is_some(), "{key}");
    }
    assert_eq!(j["revaluation"]["published"], false);
    assert_eq!(j["horizon_days"], 2);
    let days = j["days"].as_array().unwrap();
    // 2021-01-01 ..= 2022-12-31: 730 days, all with a full window and a realised horizon.
    assert_eq!(days.len(), 730);
    assert_eq!(days[0]["date"], "2021-01-01");
    let closes = btc_closes();
    let at = |d: &str| closes.iter().position(|(x, _)| x == d).unwrap();
    // Realised loss of a short of 2 = 2·(F0/S0)·(close_{d+2} − close_d): the same F0/S0 every
    // day, and close to 1 (the snapshot's perpetual basis).
    let ratios: Vec<f64> = days
        .iter()
        .map(|d| {
            let i = at(d["date"].as_str().unwrap());
            d["loss"].as_f64().unwrap() / (2.0 * (closes[i + 2].1 - closes[i].1))
        })
        .collect();
    assert!((ratios[0] - 1.0).abs() < 0.01, "{}", ratios[0]);
    for r in &ratios {
        assert!((r - ratios[0]).abs() < 1e-9, "{r} {}", ratios[0]);
    }
    // Exceptions: exactly the days whose loss is strictly greater than their margin.
    let exc: Vec<&Value> = days
        .iter()
        .filter(|d| d["loss"].as_f64().unwrap() > d["margin"].as_f64().unwrap())
        .map(|d| &d["date"])
        .collect();
    let listed: Vec<&Value> = j["exception_days"].as_array().unwrap().iter().collect();
    assert_eq!(exc, listed);
    assert_eq!(j["pof"]["exceptions"].as_u64(), Some(exc.len() as u64));
    assert_eq!(j["pof"]["observations"], 730);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<?xml") && text.trim_end().ends_with("</svg>"));
    assert_eq!(text.matches("class=\"exception\"").count(), exc.len());
}

#[test]
fn an_option_account_prints_its_assumption() {
    let pf = p(&root().join("examples/portfolio-btc.json"));
    let args = portfolio_args(&pf, &["--model", "hs-es", "--from", "2023-01-01"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = margin(&args).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("our assumption, unpublished"), "{text}");
    assert!(
        text.contains("Kupiec") && text.contains("Basel traffic light"),
        "{text}"
    );
}

#[test]
fn portfolio_mode_refuses_what_it_cannot_backtest() {
    let pf = p(&root().join("examples/portfolio-btc.json"));
    let run = |extra: &[&str]| {
        let args = portfolio_args(&pf, extra);
        error(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert!(run(&["--model", "deribit-btc"]).contains("--p P"));
    assert!(run(&["--model", "hs-es", "--horizon", "5"]).contains("--horizon 5"));
    assert!(run(&["--model", "span16", "--p", "0.01", "--horizon", "0"]).contains("--horizon 0"));
    assert!(run(&["--model", "deribit-eth", "--p", "0.01"]).contains("--allow-preset-mismatch"));
    assert!(run(&[]).contains("--model"));
    assert!(run(&["--model", "hs-es", "--window", "0"]).contains("--window 0"));
    assert!(run(&["--model", "hs-es", "--window", "5000"]).contains("no day to backtest"));
    assert!(run(&["--model", "hs-es", "--from", "2024-13-01"]).contains("--from"));
}

#[test]
fn a_grid_backtest_of_a_linear_perpetual_scales_with_the_level() {
    // SPAN's scan range is relative: a linear position's margin divided by the day's close is
    // the same every day; the realised 3-day loss follows the raw CSV's closes.
    let f = tmp("span.csv");
    std::fs::write(&f, "instrument,size\nBTC_USDC-PERPETUAL,1\n").unwrap();
    let args = portfolio_args(
        f.to_str().unwrap(),
        &[
            "--currency",
            "USDC",
            "--model",
            "span16",
            "--p",
            "0.01",
            "--horizon",
            "3",
            "--to",
            "2016-12-31",
        ],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let j = json(&args);
    assert_eq!(j["method"], "grid");
    assert!(j["window"].is_null() && j["confidence"].is_null());
    assert_eq!(j["horizon_days"], 3);
    let days = j["days"].as_array().unwrap();
    // From the first close (2014-09-17), no window needed.
    assert_eq!(days[0]["date"], "2014-09-17");
    let closes = btc_closes();
    let at = |d: &str| closes.iter().position(|(x, _)| x == d).unwrap();
    let unit = days[0]["margin"].as_f64().unwrap() / closes[0].1;
    let basis = -days[0]["loss"].as_f64().unwrap() / (closes[3].1 - closes[0].1);
    assert!((basis - 1.0).abs() < 0.01);
    for d in days {
        let i = at(d["date"].as_str().unwrap());
        let m = d["margin"].as_f64().unwrap();
        assert!((m / closes[i].1 - unit).abs() <= 1e-12 * unit);
        let loss = -basis * (closes[i + 3].1 - closes[i].1);
        assert!((d["loss"].as_f64().unwrap() - loss).abs() <= 1e-6 * loss.abs().max(1.0));
        assert!(d["var"].is_null());
    }
}
