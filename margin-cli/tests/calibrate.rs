//! Runs the real `margin calibrate` on the bundled histories: old → new, the model file and
//! its provenance (checked against `sha256sum`), `margin compute --model` on it (against a
//! hand-written model file with the same range), no look-ahead, and one-line errors.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn btc() -> String {
    root()
        .join("data/btc-eth-daily/BTC-USD.csv")
        .display()
        .to_string()
}

fn market() -> PathBuf {
    root().join("data/deribit/deribit_options_snapshot_20260822T153351Z.csv")
}

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("margin-calibrate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn calibrate(args: &[&str]) -> Command {
    let mut c = Command::cargo_bin("margin").unwrap();
    c.arg("calibrate").args(args);
    c
}

fn json(args: &[&str]) -> Value {
    let out = calibrate(args).arg("--json").assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

/// `margin COMMAND --portfolio examples/portfolio-btc.json --market M --model MODEL ... --json`.
fn on_btc_portfolio(command: &str, model: &Path, extra: &[&str]) -> Value {
    let out = Command::cargo_bin("margin")
        .unwrap()
        .arg(command)
        .arg("--portfolio")
        .arg(root().join("examples/portfolio-btc.json"))
        .arg("--market")
        .arg(market())
        .arg("--model")
        .arg(model)
        .args(extra)
        .arg("--json")
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn compute_im(model: &Path) -> (f64, Value) {
    let j = on_btc_portfolio("compute", model, &[]);
    (j["initial_margin"].as_f64().unwrap(), j)
}

fn sha256sum(file: &str) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn old_to_new_with_reasons_and_a_model_file_compute_accepts() {
    let d = dir("e2e");
    let out = d.join("model.json");
    let h = btc();
    let j = json(&[
        "--history",
        &h,
        "--asof",
        "2022-06-13",
        "--preset",
        "deribit-btc",
        "--apc",
        "buffer",
        "--out",
        out.to_str().unwrap(),
    ]);
    for key in [
        "preset",
        "asof",
        "horizon_days",
        "confidence",
        "z",
        "apc",
        "coins",
        "volatility",
        "correlation",
        "range",
        "parameters",
        "history",
    ] {
        assert!(j.get(key).is_some(), "{key} missing");
    }
    let params = j["parameters"].as_array().unwrap();
    // Every Deribit parameter, each with a reason; only price_range changes.
    assert_eq!(params.len(), 17);
    assert!(
        params
            .iter()
            .all(|p| !p["reason"].as_str().unwrap().is_empty())
    );
    let changed: Vec<&str> = params
        .iter()
        .filter(|p| p["changed"] == true)
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["price_range"]);
    let range = j["range"].as_f64().unwrap();
    assert_eq!(params[0]["old"], 0.16);
    assert_eq!(params[0]["new"].as_f64(), Some(range));
    // The buffer's rule on the reported numbers: max(b, min(1.25 b, 1.25 b_lag)).
    let c = &j["coins"][0];
    let (z, now, lag) = (
        j["z"].as_f64().unwrap(),
        c["sigma_now"].as_f64().unwrap(),
        c["sigma_lagged"].as_f64().unwrap(),
    );
    let b = z * now * 2f64.sqrt();
    let want = b
        .max((1.25 * b).min(1.25 * z * lag * 2f64.sqrt()))
        .clamp(0.05, 0.5);
    assert!((range - want).abs() < 1e-12, "{range} vs {want}");

    // The file: provenance with the as-of date, the history's SHA-256 and the method.
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let p = &file["provenance"];
    assert_eq!(p["asof"], "2022-06-13");
    assert_eq!(p["method"], "buffer");
    assert_eq!(p["history"][0]["sha256"], sha256sum(&h).as_str());
    assert_eq!(j["history"]["files"][0]["sha256"], sha256sum(&h).as_str());
    assert_eq!(file["params"]["price_range"].as_f64(), Some(range));

    // compute accepts it and margins exactly as a hand-written file with that range.
    let (im, doc) = compute_im(&out);
    assert_eq!(doc["preset"], "deribit-btc");
    assert_eq!(doc["preset_modified"], true);
    let hand = d.join("hand.json");
    std::fs::write(
        &hand,
        format!("{{\"preset\": \"deribit-btc\", \"params\": {{\"price_range\": {range:?}}}}}"),
    )
    .unwrap();
    let (im_hand, _) = compute_im(&hand);
    assert_eq!(im, im_hand);
    // The calibrated range (0.18 here) is not the preset's 0.16: the scenarios, and so the
    // worst case of this account, differ.
    let (im_preset, _) = compute_im(Path::new("deribit-btc"));
    assert_ne!(im, im_preset);
    // The text output prints old → new.
    let text = calibrate(&[
        "--history",
        &h,
        "--asof",
        "2022-06-13",
        "--preset",
        "deribit-btc",
    ])
    .assert()
    .success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("price_range") && text.contains("0.16 → "),
        "{text}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn later_rows_change_nothing() {
    let d = dir("asof");
    let full = btc();
    let text = std::fs::read_to_string(&full).unwrap();
    let cut: String = text
        .lines()
        .take_while(|l| l.starts_with("Date") || l[..10] <= *"2021-05-19")
        .map(|l| format!("{l}\n"))
        .collect();
    let short = d.join("BTC-USD.csv");
    std::fs::write(&short, cut).unwrap();
    for apc in ["none", "buffer", "stressed-weight"] {
        let a = json(&[
            "--history",
            &full,
            "--asof",
            "2021-05-19",
            "--preset",
            "span16",
            "--apc",
            apc,
        ]);
        let b = json(&[
            "--history",
            short.to_str().unwrap(),
            "--asof",
            "2021-05-19",
            "--preset",
            "span16",
            "--apc",
            apc,
        ]);
        for key in ["coins", "parameters", "range", "correlation"] {
            assert_eq!(a[key], b[key], "{apc} {key}");
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn out_never_overwrites_a_history_file() {
    let d = dir("same");
    let h = d.join("BTC-USD.csv");
    std::fs::copy(btc(), &h).unwrap();
    let before = std::fs::read(&h).unwrap();
    let spec = format!("BTC={}", h.display());
    for history in [h.to_str().unwrap(), spec.as_str()] {
        let out = calibrate(&[
            "--history",
            history,
            "--asof",
            "2022-06-13",
            "--preset",
            "span16",
            "--out",
            h.to_str().unwrap(),
        ])
        .assert()
        .code(1);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            err.starts_with("error: ") && err.contains("would overwrite"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
    }
    assert_eq!(std::fs::read(&h).unwrap(), before);
    // Nor over the model file `--preset` names (a model file is accepted there).
    let m = d.join("model.json");
    std::fs::write(&m, r#"{"preset": "span16"}"#).unwrap();
    let out = calibrate(&[
        "--history",
        h.to_str().unwrap(),
        "--asof",
        "2022-06-13",
        "--preset",
        m.to_str().unwrap(),
        "--out",
        m.to_str().unwrap(),
    ])
    .assert()
    .code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("would overwrite"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&m).unwrap(),
        r#"{"preset": "span16"}"#
    );
    // No temporary left behind.
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 2);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_input_is_one_line_exit_1() {
    let h = btc();
    let cases: &[(&[&str], &str)] = &[
        (&["--asof", "2022-13-01", "--preset", "span16"], "--asof"),
        (
            &["--asof", "2030-01-01", "--preset", "span16"],
            "not a date of the history",
        ),
        (
            &["--asof", "2022-06-13", "--preset", "hs-es"],
            "statistical",
        ),
        (&["--asof", "2022-06-13", "--preset", "nope"], "--preset"),
        (
            &["--asof", "2022-06-13", "--preset", "deribit-eth"],
            "no ETH prices",
        ),
        (
            &["--asof", "2022-06-13", "--preset", "span16", "--floor", "0"],
            "floor",
        ),
        (
            &[
                "--asof",
                "2022-06-13",
                "--preset",
                "span16",
                "--cap",
                "0.01",
            ],
            "cap",
        ),
        (
            &[
                "--asof",
                "2022-06-13",
                "--preset",
                "span16",
                "--confidence",
                "1",
            ],
            "confidence",
        ),
        (
            &[
                "--asof",
                "2022-06-13",
                "--preset",
                "span16",
                "--horizon",
                "0",
            ],
            "horizon",
        ),
        (
            &[
                "--asof",
                "2022-06-13",
                "--preset",
                "span16",
                "--apc",
                "ten-year-floor",
            ],
            "--lookback-days",
        ),
        (
            &["--asof", "2014-09-20", "--preset", "span16"],
            "needs 31 daily returns",
        ),
    ];
    for (args, needle) in cases {
        let out = calibrate(&["--history", &h]).args(*args).assert().code(1);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn calibrated_span_model_works_in_whatif_and_batch() {
    let d = dir("clients");
    let model = d.join("span.json");
    let aligned = root()
        .join("data/btc-eth-daily/btc_eth_daily_close_aligned.csv")
        .display()
        .to_string();
    let j = json(&[
        "--history",
        &aligned,
        "--asof",
        "2024-05-26",
        "--preset",
        "span16",
        "--apc",
        "stressed-weight",
        "--out",
        model.to_str().unwrap(),
    ]);
    // span16 takes the widest coin of the two.
    let ranges: Vec<f64> = j["coins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["range"].as_f64().unwrap())
        .collect();
    assert_eq!(j["range"].as_f64(), ranges.iter().copied().reduce(f64::max));
    let w = on_btc_portfolio("whatif", &model, &["--order", "BTC-PERPETUAL:1000"]);
    assert_eq!(w["preset"], "span16");
    let out = d.join("margins.jsonl");
    Command::cargo_bin("margin")
        .unwrap()
        .arg("batch")
        .arg("--accounts")
        .arg(root().join("examples/accounts.jsonl"))
        .arg("--market")
        .arg(market())
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let lines = std::fs::read_to_string(&out).unwrap();
    assert!(lines.lines().count() > 0);
    assert!(
        lines.lines().all(|l| l.contains("\"preset\":\"span16\"")),
        "{lines}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
