//! The statistical presets in `compute`, `whatif` and `batch`: a long inverse perpetual's
//! `hs-es` margin against Expected Shortfall computed here from the raw history, the same
//! number from every client, and the errors a user meets first.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

const HISTORY: &str = "data/btc-eth-daily/btc_eth_daily_close_aligned.csv";

fn temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("margin-cli-stat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    // Tests run in parallel and rewrite the same file: write aside, then rename (atomic), so
    // a reader never sees it truncated.
    let aside = dir.join(format!("{name}.{:?}.tmp", std::thread::current().id()));
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, &p).unwrap();
    p.display().to_string()
}

fn portfolio() -> String {
    temp(
        "perp.json",
        r#"{"account": "P", "currency": "BTC", "equity": 1.0,
            "positions": [{"instrument": "BTC-PERPETUAL", "size": 2}]}"#,
    )
}

fn margin(args: &[&str]) -> Value {
    let out = Command::cargo_bin("margin")
        .unwrap()
        .args(args)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

/// ES of `losses` by Acerbi–Tasche, written out here with a full sort.
fn es(mut losses: Vec<f64>, c: f64) -> f64 {
    losses.sort_by(|a, b| b.total_cmp(a));
    let m = losses.len() as f64 * (1.0 - c);
    let k = m.floor() as usize;
    (losses[..k].iter().sum::<f64>() + (m - k as f64) * losses[k]) / m
}

/// A long inverse perpetual of 2 coins loses −2·x/(1+x) coins in a move x (coin P&L of an
/// inverse contract, methodologies §8): hs-es IM = 99 % ES of −2x/(1+x) over the 2-day
/// windows of the raw BTC closes; MM = 0.8 × IM.
#[test]
fn hs_es_of_an_inverse_perpetual_is_the_es_of_its_closed_form_losses() {
    let p = portfolio();
    let market = path("examples/market.json");
    let history = path(HISTORY);
    let j = margin(&[
        "compute",
        "--portfolio",
        &p,
        "--market",
        &market,
        "--model",
        "hs-es",
        "--history",
        &history,
        "--json",
    ]);
    let closes: Vec<f64> = std::fs::read_to_string(&history)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let losses: Vec<f64> = closes
        .windows(3)
        .map(|w| {
            let x = w[2] / w[0] - 1.0;
            -2.0 * x / (1.0 + x)
        })
        .collect();
    let want = es(losses, 0.99);
    let im = j["initial_margin"].as_f64().unwrap();
    assert!((im - want).abs() <= 1e-9 * want, "{im} vs {want}");
    assert!((j["maintenance_margin"].as_f64().unwrap() - 0.8 * im).abs() <= 1e-15 * im);
    assert_eq!(j["preset"], "hs-es");
    assert_eq!(j["components"]["expected_shortfall"].as_f64().unwrap(), im);
    assert_eq!(j["status"], "healthy");
    assert_eq!(j["method"], "hs");

    // whatif: closing the position leaves nothing at risk; doubling it doubles the ES
    // (a loss per coin scales linearly).
    let w = margin(&[
        "whatif",
        "--portfolio",
        &p,
        "--market",
        &market,
        "--model",
        "hs-es",
        "--history",
        &history,
        "--order",
        "BTC-PERPETUAL:-2",
        "--order",
        "BTC-PERPETUAL:2",
        "--json",
    ]);
    assert_eq!(w["initial_margin"].as_f64().unwrap(), im);
    assert_eq!(w["orders"][0]["initial_margin"].as_f64().unwrap(), 0.0);
    let doubled = w["orders"][1]["initial_margin"].as_f64().unwrap();
    assert!((doubled - 2.0 * im).abs() <= 1e-12 * im);

    // batch: the same account gives the same bits.
    let text = std::fs::read_to_string(&p).unwrap().replace('\n', " ");
    let accounts = temp("accounts.jsonl", &format!("{text}\n"));
    let out = temp("out.jsonl", "");
    Command::cargo_bin("margin")
        .unwrap()
        .args([
            "batch",
            "--accounts",
            &accounts,
            "--market",
            &market,
            "--model",
            "hs-es",
            "--history",
            &history,
            "--out",
            &out,
        ])
        .assert()
        .success();
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        line["initial_margin"].as_f64().unwrap().to_bits(),
        im.to_bits()
    );
}

#[test]
fn every_statistical_preset_runs_in_compute() {
    let p = portfolio();
    let market = path("examples/market.json");
    let history = path(HISTORY);
    for preset in ["hs-es", "fhs-es", "mc-es", "parametric-var"] {
        let j = margin(&[
            "compute",
            "--portfolio",
            &p,
            "--market",
            &market,
            "--model",
            preset,
            "--history",
            &history,
            "--json",
        ]);
        let im = j["initial_margin"].as_f64().unwrap();
        assert!(im > 0.0 && im < 2.0, "{preset}: {im}");
        assert_eq!(j["preset"], preset);
    }
}

#[test]
fn a_statistical_preset_without_history_and_history_with_a_grid_are_errors() {
    let p = portfolio();
    let market = path("examples/market.json");
    let history = path(HISTORY);
    for (args, needle) in [
        (vec!["--model", "mc-es"], "give its price history"),
        (
            vec!["--history", history.as_str()],
            "only read by the statistical presets",
        ),
    ] {
        let out = Command::cargo_bin("margin")
            .unwrap()
            .args(["compute", "--portfolio", &p, "--market", &market])
            .args(&args)
            .assert()
            .code(1);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
    }
}
