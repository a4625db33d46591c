//! Runs the real `margin` binary on the bundled Deribit chain and on broken inputs.

use assert_cmd::Command;
use margin_core::io::read_market;
use margin_core::pricing;
use predicates::prelude::*;
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;

fn chain() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data/deribit/deribit_options_snapshot_20260822T153351Z.csv")
}

fn margin() -> Command {
    Command::cargo_bin("margin").unwrap()
}

/// A file in the temp directory, unique to this test process.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("margin-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `margin ARGS`, expects exit 1 and a one-line `error: ` message containing `needles`.
fn fails_with(args: &[&str], needles: &[&str]) {
    let out = margin().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{err}` lacks `{n}`");
    }
}

#[test]
fn json_numbers_are_the_library_numbers() {
    let out = margin()
        .args(["price", "--json", "--market"])
        .arg(chain())
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The same computation through the library, independently of the CLI's code.
    let market = read_market(&chain()).unwrap();
    let views = market.views();
    let snap = market.snapshot(&views).unwrap();
    assert_eq!(doc["valuation_time"], market.valuation_time.to_string());
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1970);
    assert_eq!(doc["summary"]["rows"], 1970);
    let mut max_btc: f64 = 0.0;
    for (row, q) in rows.iter().zip(market.options()) {
        let inputs = snap.inputs(&q.instrument).unwrap();
        let v = pricing::valuation(&q.instrument, &inputs).unwrap();
        let num = |k: &str| row[k].as_f64().unwrap_or_else(|| panic!("{k} in {row}"));
        assert_eq!(row["instrument"], q.instrument.to_string());
        assert_eq!(num("forward"), inputs.forward);
        assert_eq!(num("vol"), inputs.vol);
        assert_eq!(num("days"), inputs.time * 365.0);
        assert_eq!(num("value"), v.value);
        assert_eq!(num("delta"), v.delta);
        assert_eq!(num("gamma"), v.gamma);
        assert_eq!(num("vega_per_vol_point"), v.vega / 100.0);
        assert_eq!(num("theta_per_day"), v.theta / 365.0);
        let mark = q.mark_price.unwrap();
        assert_eq!(num("mark"), mark);
        assert_eq!(num("diff"), v.value - mark);
        if row["underlying"] == "BTC" {
            max_btc = max_btc.max((v.value - mark).abs());
        }
    }
    let btc = &doc["summary"]["underlyings"][0];
    assert_eq!(btc["underlying"], "BTC");
    assert_eq!(btc["currency"], "BTC");
    assert_eq!(btc["rows"], 1038);
    assert_eq!(btc["with_mark"], 1038);
    assert_eq!(btc["max_abs_diff"].as_f64().unwrap(), max_btc);
    // SOURCE.md: Black-76 reproduces the marks to a median of a few 1e-6 coin.
    assert!(btc["median_abs_diff"].as_f64().unwrap() < 1e-5);
    assert_eq!(doc["summary"]["underlyings"][1]["rows"], 932);
}

#[test]
fn filters_and_table() {
    let out = margin()
        .args([
            "price",
            "--underlying",
            "ETH",
            "--limit",
            "3",
            "--json",
            "--market",
        ])
        .arg(chain())
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["underlying"] == "ETH"));
    margin()
        .args(["price", "--limit", "2", "--market"])
        .arg(chain())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("F (USD)")
                .and(predicate::str::contains("vega (USD/vol pt)"))
                .and(predicate::str::contains("theta (USD/day)"))
                .and(predicate::str::contains("BTC-23AUG26-57000-C"))
                .and(predicate::str::contains("median |model-mark| (ccy)")),
        );
}

#[test]
fn market_json_works_too() {
    let p = temp_file(
        "market.json",
        r#"{"valuation_time": "2026-08-22T15:33:51Z",
            "underlyings": {"BTC": {"index_price": 77081.8, "rate": 0.0,
                                    "forwards": {"2026-09-25T08:00:00Z": 77405.28}}},
            "instruments": {"BTC-PERPETUAL": {"mark_price": 77100.0},
                            "BTC-25SEP26-120000-P": {"mark_iv": 0.6246}}}"#,
    );
    let out = margin()
        .args(["price", "--json", "--market"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Only options are priced; no mark means null diff.
    assert_eq!(doc["rows"].as_array().unwrap().len(), 1);
    assert_eq!(doc["rows"][0]["diff"], Value::Null);
    assert_eq!(
        doc["summary"]["underlyings"][0]["max_abs_diff"],
        Value::Null
    );
}

#[test]
fn bad_inputs_exit_1_with_one_line() {
    fails_with(
        &["price", "--market", "/no/such/file.csv"],
        &["/no/such/file.csv", "cannot read"],
    );
    let text = std::fs::read_to_string(chain()).unwrap();
    let mut lines: Vec<&str> = text.lines().take(3).collect();
    let ragged = format!("{},oops", lines[2]);
    lines[2] = &ragged;
    let bad_csv = temp_file("ragged.csv", &lines.join("\n"));
    fails_with(
        &["price", "--market", bad_csv.to_str().unwrap()],
        &["ragged.csv", "line 3", "malformed CSV"],
    );
    let bad_vol = temp_file("vol.csv", &text.replacen(",0.6246,", ",-0.6246,", 1));
    fails_with(
        &["price", "--market", bad_vol.to_str().unwrap()],
        &["vol.csv", "line 3", "implied_volatility"],
    );
    let bad_json = temp_file(
        "bad.json",
        r#"{"valuation_time": "2026-08-22T15:33:51Z", "underlyings": {"BTC": {}}}"#,
    );
    fails_with(
        &["price", "--market", bad_json.to_str().unwrap()],
        &["bad.json", "index_price"],
    );
    let not_json = temp_file("worse.json", "{not json");
    fails_with(
        &["price", "--market", not_json.to_str().unwrap()],
        &["worse.json", "malformed JSON"],
    );
    fails_with(&["price", "--bogus"], &["--bogus"]);
    fails_with(&["price"], &["--market"]);
    fails_with(
        &["price", "--limit", "x", "--market", "m.csv"],
        &["--limit"],
    );
    fails_with(
        &[
            "price",
            "--underlying",
            "XRP",
            "--market",
            chain().to_str().unwrap(),
        ],
        &["XRP", "BTC, ETH"],
    );
}

#[test]
fn help_and_version_exit_0() {
    margin()
        .args(["price", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Examples:").and(predicate::str::contains("--underlying")),
        );
    margin().arg("--version").assert().success();
}

#[test]
fn broken_pipe_is_a_quiet_success() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("margin"))
        .args(["price", "--market"])
        .arg(chain())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // like `| head -c 16`
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(err.is_empty(), "{err}");
}
