//! A 100,000-position account on a 100,000-option market: `margin compute` margins it (the
//! readers' and the core's duplicate checks are O(n log n) or better, not the O(n²) scans
//! that took minutes), and a repeat at the very end is still found and named. Time is
//! measured (README, issue 13), never asserted here.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::PathBuf;

const POSITIONS: usize = 100_000;

/// A market of `POSITIONS` BTC options (two expiries, calls and puts) and an account holding
/// each once, written to a fresh directory.
fn write_inputs(tag: &str, repeat_last: bool) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("margin-scale-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut instruments = serde_json::Map::new();
    let mut positions = Vec::with_capacity(POSITIONS + 1);
    'fill: for k in 0.. {
        for expiry in ["25SEP26", "25DEC26"] {
            for right in ["C", "P"] {
                if positions.len() == POSITIONS {
                    break 'fill;
                }
                let name = format!("BTC-{expiry}-{}-{right}", 40_000 + k);
                instruments.insert(
                    name.clone(),
                    json!({"mark_iv": 0.4 + (k % 100) as f64 * 0.001}),
                );
                let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                positions
                    .push(json!({"instrument": name, "size": sign * 0.1 * (1 + k % 7) as f64}));
            }
        }
    }
    if repeat_last {
        positions.push(positions[0].clone());
    }
    let market = json!({
        "valuation_time": "2026-08-22T15:33:51Z",
        "underlyings": {"BTC": {"index_price": 77081.8, "rate": 0.0, "forwards": {
            "2026-09-25T08:00:00Z": 77405.28, "2026-12-25T08:00:00Z": 78342.08}}},
        "instruments": instruments,
    });
    let portfolio =
        json!({"account": "big", "currency": "BTC", "equity": 1e6, "positions": positions});
    let (m, p) = (dir.join("market.json"), dir.join("portfolio.json"));
    std::fs::write(&m, market.to_string()).unwrap();
    std::fs::write(&p, portfolio.to_string()).unwrap();
    (m, p)
}

#[test]
fn compute_margins_a_100000_position_account() {
    let (market, portfolio) = write_inputs("ok", false);
    let out = Command::cargo_bin("margin")
        .unwrap()
        .arg("compute")
        .arg("--portfolio")
        .arg(&portfolio)
        .arg("--market")
        .arg(&market)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["positions"].as_array().unwrap().len(), POSITIONS);
    let im = report["initial_margin"].as_f64().unwrap();
    assert!(im.is_finite() && im > 0.0, "{im}");
    let _ = std::fs::remove_dir_all(market.parent().unwrap());
}

#[test]
fn a_repeat_after_100000_positions_is_named() {
    let (market, portfolio) = write_inputs("repeat", true);
    let out = Command::cargo_bin("margin")
        .unwrap()
        .arg("compute")
        .arg("--portfolio")
        .arg(&portfolio)
        .arg("--market")
        .arg(&market)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("positions[{POSITIONS}]"))
            && stderr.contains("BTC-25SEP26-40000-C"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(market.parent().unwrap());
}
