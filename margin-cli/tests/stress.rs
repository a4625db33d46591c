//! Runs the real `margin stress` on the bundled chain and history: the JSON contract, a
//! perpetual's P&L against the closed form from the raw CSV closes, reverse stress, the book
//! mode, and one-line errors with exit 1.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chain() -> String {
    root()
        .join("data/deribit/deribit_options_snapshot_20260822T153351Z.csv")
        .display()
        .to_string()
}

fn history() -> String {
    root()
        .join("data/btc-eth-daily/btc_eth_daily_close_aligned.csv")
        .display()
        .to_string()
}

/// A file of its own per test (written aside and renamed: parallel tests never see half of it).
fn temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("margin-stress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path.display().to_string()
}

fn stress(args: &[&str]) -> Command {
    let mut c = Command::cargo_bin("margin").unwrap();
    c.arg("stress").arg("--market").arg(chain()).args(args);
    c
}

fn json(args: &[&str]) -> Value {
    let out = stress(args).arg("--json").assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn fails(args: &[&str], needle: &str) {
    let out = stress(args).assert().code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err}");
}

fn btc_close(date: &str, back: usize) -> f64 {
    let text = std::fs::read_to_string(history()).unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    let i = lines.iter().position(|l| l.starts_with(date)).unwrap();
    lines[i - back].split(',').nth(1).unwrap().parse().unwrap()
}

#[test]
fn json_has_every_key_the_issue_names() {
    let p = root()
        .join("examples/portfolio-btc.json")
        .display()
        .to_string();
    let j = json(&[
        "--portfolio",
        &p,
        "--history",
        &history(),
        "--shock",
        "BTC:-0.3,vol:0.2",
        "--reverse",
    ]);
    assert_eq!(j["equity"], 3.5);
    let s = j["stress"].as_array().unwrap();
    assert_eq!(s.len(), 5);
    let dates: Vec<&str> = s[..4].iter().map(|r| r["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        ["2020-03-12", "2021-05-19", "2022-06-13", "2022-11-09"]
    );
    assert_eq!(s[4]["label"], "BTC:-0.3,vol:0.2");
    assert_eq!(s[4]["moves"]["BTC"], -0.3);
    for r in s {
        assert!(r["pnl"].is_f64() && r["moves"]["BTC"].is_f64());
    }
    let down = &j["reverse"]["down"]["move"];
    assert!(down.as_f64().unwrap() < 0.0 && down.as_f64().unwrap() >= -0.99);
    assert!(j["reverse"]["up"]["move"].is_f64() || j["reverse"]["up"]["move"] == "none");
    // Several events and shocks after one flag each.
    let k = json(&[
        "--portfolio",
        &p,
        "--history",
        &history(),
        "--event",
        "2020-03-12",
        "2022-11-09",
        "--shock",
        "BTC:-0.1",
        "BTC:0.1",
    ]);
    let labels: Vec<&str> = k["stress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["date"].as_str().or(r["label"].as_str()).unwrap())
        .collect();
    assert_eq!(labels, ["2020-03-12", "2022-11-09", "BTC:-0.1", "BTC:0.1"]);
    // The reverse move's own P&L exhausts the 3.5 BTC of equity.
    assert!(3.5 + j["reverse"]["down"]["pnl"].as_f64().unwrap() <= 0.0);
}

/// An inverse perpetual of size q: P&L q·(1 − P₀/P₁) BTC over the 3-day window of each event,
/// closes read from the CSV here; a long's up move is `none`, its down move E/(q + E).
#[test]
fn perpetual_pnl_is_the_closed_form_from_the_raw_closes() {
    let p = temp(
        "perp.json",
        r#"{"account": "p", "currency": "BTC", "equity": 0.5, "positions": [{"instrument": "BTC-PERPETUAL", "size": 2}]}"#,
    );
    let j = json(&[
        "--portfolio",
        &p,
        "--history",
        &history(),
        "--horizon",
        "3",
        "--reverse",
    ]);
    for r in j["stress"].as_array().unwrap() {
        let d = r["date"].as_str().unwrap();
        let (p0, p1) = (btc_close(d, 3), btc_close(d, 0));
        let want = 2.0 * (1.0 - p0 / p1);
        let got = r["pnl"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-12, "{d}: {got} vs {want}");
    }
    assert_eq!(j["reverse"]["up"]["move"], "none");
    let down = j["reverse"]["down"]["move"].as_f64().unwrap();
    assert!((down - (-0.5 / 2.5)).abs() <= 1e-9, "{down}");
}

#[test]
fn bad_input_is_one_line_and_exit_1() {
    let p = root()
        .join("examples/portfolio-btc.json")
        .display()
        .to_string();
    let h = history();
    fails(
        &["--portfolio", &p, "--history", &h, "--event", "2030-01-01"],
        "2030-01-01",
    );
    fails(
        &["--portfolio", &p, "--history", &h, "--event", "12-03-2020"],
        "YYYY-MM-DD",
    );
    fails(&["--portfolio", &p, "--shock", "BTC:-2"], "outside");
    fails(&["--portfolio", &p, "--shock", "XRP:-0.1"], "XRP");
    fails(&["--portfolio", &p, "--shock", "BTC"], "COIN:MOVE");
    fails(&["--portfolio", &p], "nothing to stress");
    fails(&["--portfolio", &p, "--event", "2020-03-12"], "--history");
    fails(
        &["--portfolio", &p, "--shock", "BTC:-0.1", "--horizon", "0"],
        "--horizon",
    );
    fails(
        &["--portfolio", &p, "--shock", "BTC:-0.1", "--vol-rule", "up"],
        "--vol-rule",
    );
}

fn book() -> String {
    let text = std::fs::read_to_string(root().join("examples/accounts.jsonl")).unwrap();
    // The example's deliberately bad lines (a size "lots", an expired option) left out.
    let good: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("lots") && !l.contains("21AUG26"))
        .collect();
    temp("book.jsonl", &good.join("\n"))
}

#[test]
fn book_json_has_covers_rounds_and_totals() {
    let a = book();
    let j = json(&[
        "--accounts",
        &a,
        "--shock",
        "BTC:-0.5,ETH:-0.5",
        "--shock",
        "BTC:0.3",
    ]);
    assert_eq!(j["accounts"], 4);
    assert!(j["equity"].as_f64().unwrap() > 0.0);
    for s in j["stress"].as_array().unwrap() {
        let c1 = s["cover1"]["usd"].as_f64().unwrap();
        let c2 = s["cover2"]["usd"].as_f64().unwrap();
        assert!(c2 >= c1);
        let uncovered: f64 = s["uncovered"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["usd"].as_f64().unwrap())
            .sum();
        assert!((s["total"].as_f64().unwrap() - uncovered).abs() <= 1e-9 * uncovered.max(1.0));
        // Zero impact: one round.
        assert_eq!(s["rounds"].as_array().unwrap().len(), 1);
        assert!(s["final"]["liquidated"].is_u64());
    }
    let down = &j["stress"][0];
    assert!(
        !down["rounds"][0]["liquidated"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let with_impact = json(&[
        "--accounts",
        &a,
        "--shock",
        "BTC:-0.5,ETH:-0.5",
        "--impact",
        "BTC:1e-6,ETH:1e-6",
    ]);
    // The close-outs of round 1 move the prices of round 2 by their reported impact.
    let rounds = with_impact["stress"][0]["rounds"].as_array().unwrap();
    assert!(rounds.len() >= 2);
    for coin in ["BTC", "ETH"] {
        let impact = rounds[0]["impact"][coin].as_f64().unwrap();
        let next = rounds[1]["moves"][coin].as_f64().unwrap();
        assert!(impact != 0.0);
        assert!((next - ((1.0 - 0.5) * (1.0 + impact) - 1.0)).abs() < 1e-15);
    }
}

#[test]
fn book_bad_input_is_one_line_and_exit_1() {
    let a = book();
    fails(
        &[
            "--accounts",
            &a,
            "--shock",
            "BTC:-0.1",
            "--impact",
            "BTC:-1",
        ],
        "--impact",
    );
    fails(
        &["--accounts", &a, "--shock", "BTC:-0.1", "--impact", "XRP:1"],
        "--impact",
    );
    fails(
        &["--accounts", &a, "--shock", "BTC:-0.1", "--model", "hs-es"],
        "grid model",
    );
    let bad = temp("bad.jsonl", "{\"account\": 1}\n");
    fails(&["--accounts", &bad, "--shock", "BTC:-0.1"], "line 1");
}
