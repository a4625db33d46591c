//! Runs the real `margin optimize` on the bundled chain and history: the JSON contract, the
//! hedged margin against `margin compute` on the hedged portfolio, ES before against
//! `margin var`, liquidation against equity, lots, the frontier SVG, and one-line errors.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

const CHAIN: &str = "data/deribit/deribit_options_snapshot_20260822T153351Z.csv";
const HISTORY: &str = "data/btc-eth-daily/btc_eth_daily_close_aligned.csv";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn path(p: &str) -> String {
    root().join(p).display().to_string()
}

fn margin(args: &[&str]) -> Command {
    let mut c = Command::cargo_bin("margin").unwrap();
    c.args(args);
    c
}

fn optimize(portfolio: &str, extra: &[&str]) -> Command {
    let mut c = margin(&[
        "optimize",
        "--portfolio",
        portfolio,
        "--market",
        &path(CHAIN),
    ]);
    c.args(extra);
    c
}

fn json(mut c: Command) -> Value {
    let out = c.arg("--json").assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

/// A temporary file of this test, written aside and renamed.
fn temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("margin-optimize-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &p).unwrap();
    p.display().to_string()
}

/// The demo portfolio with `trades` added (merged by instrument), as JSON with `equity`.
fn hedged(trades: &[Value], equity: f64) -> String {
    let base: Value = serde_json::from_str(
        &std::fs::read_to_string(path("examples/portfolio-btc.json")).unwrap(),
    )
    .unwrap();
    let mut positions: Vec<(String, f64)> = base["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["instrument"].as_str().unwrap().to_string(),
                p["size"].as_f64().unwrap(),
            )
        })
        .collect();
    for t in trades {
        let (i, s) = (
            t["instrument"].as_str().unwrap(),
            t["size"].as_f64().unwrap(),
        );
        match positions.iter_mut().find(|p| p.0 == i) {
            Some(p) => p.1 += s,
            None => positions.push((i.to_string(), s)),
        }
    }
    let list: Vec<Value> = positions
        .iter()
        .map(|(i, s)| serde_json::json!({"instrument": i, "size": s}))
        .collect();
    serde_json::json!({"account": "h", "currency": "BTC", "equity": equity, "positions": list})
        .to_string()
}

#[test]
fn worst_json_has_the_issue_keys_and_compute_agrees_on_the_hedged_portfolio() {
    let j = json(optimize(
        &path("examples/portfolio-btc.json"),
        &[
            "--objective",
            "worst",
            "--hedges",
            "BTC-25SEP26,BTC-PERPETUAL",
            "--bound",
            "5",
        ],
    ));
    for k in [
        "objective",
        "status",
        "margin_before",
        "margin_after",
        "cost",
        "hedges",
        "iterations",
        "solve_ms",
        "binding_scenarios",
    ] {
        assert!(j.get(k).is_some(), "missing {k}: {j}");
    }
    assert_eq!(j["objective"], "worst");
    assert_eq!(j["status"], "solved");
    let (before, after) = (
        j["margin_before"].as_f64().unwrap(),
        j["margin_after"].as_f64().unwrap(),
    );
    assert!(after < before);
    // `margin compute` on the hedged portfolio: the same IM through another command.
    let file = temp("worst.json", &hedged(j["hedges"].as_array().unwrap(), 3.5));
    let c = json(margin(&[
        "compute",
        "--portfolio",
        &file,
        "--market",
        &path(CHAIN),
    ]));
    let im = c["initial_margin"].as_f64().unwrap();
    assert!(
        (im - after).abs() <= 1e-12 * before,
        "compute {im} optimize {after}"
    );
    let unhedged = json(margin(&[
        "compute",
        "--portfolio",
        &path("examples/portfolio-btc.json"),
        "--market",
        &path(CHAIN),
    ]));
    assert_eq!(unhedged["initial_margin"].as_f64().unwrap(), before);
}

#[test]
fn lots_are_whole_and_never_above_the_unhedged_margin() {
    let j = json(optimize(
        &path("examples/portfolio-btc.json"),
        &[
            "--objective",
            "worst",
            "--hedges",
            "auto",
            "--lot",
            "0.5",
            "--bound",
            "3",
        ],
    ));
    for h in j["hedges"].as_array().unwrap() {
        let s = h["size"].as_f64().unwrap() / 0.5;
        assert!((s - s.round()).abs() < 1e-9, "{h}");
    }
    assert!(
        j["margin_after"].as_f64().unwrap() + j["cost"].as_f64().unwrap()
            <= j["margin_before"].as_f64().unwrap()
    );
}

#[test]
fn es_before_is_margin_var_es_and_es_keys_are_present() {
    let args = ["--method", "hs", "--horizon", "2", "--confidence", "0.99"];
    let mut extra = vec![
        "--objective",
        "es",
        "--history",
        HISTORY,
        "--hedges",
        "BTC-PERPETUAL",
        "--bound",
        "5",
    ];
    extra.extend(args);
    let h = path(HISTORY);
    let extra: Vec<&str> = extra
        .iter()
        .map(|a| if *a == HISTORY { h.as_str() } else { a })
        .collect();
    let j = json(optimize(&path("examples/portfolio-btc.json"), &extra));
    for k in [
        "es_before",
        "es_after",
        "margin_before",
        "margin_after",
        "binding_scenarios",
    ] {
        assert!(j.get(k).is_some(), "missing {k}");
    }
    let mut v = margin(&[
        "var",
        "--portfolio",
        &path("examples/portfolio-btc.json"),
        "--market",
        &path(CHAIN),
        "--history",
        &h,
    ]);
    v.args(args);
    let var = json(v);
    assert_eq!(
        j["es_before"].as_f64().unwrap(),
        var["es"].as_f64().unwrap()
    );
    assert!(j["es_after"].as_f64().unwrap() < j["es_before"].as_f64().unwrap());
    assert_eq!(
        j["binding_scenarios"].as_array().unwrap().len(),
        var["tail"].as_array().unwrap().len()
    );
}

#[test]
fn liquidation_restores_maintenance_without_flipping() {
    let file = temp("liq.json", &hedged(&[], 0.9));
    let j = json(optimize(
        &file,
        &["--objective", "liquidate", "--target", "mm"],
    ));
    assert_eq!(j["target"], "mm");
    assert!(j["margin_before"].as_f64().unwrap() > 0.9);
    assert!(j["margin_after"].as_f64().unwrap() <= 0.9);
    let base: Value = serde_json::from_str(&hedged(&[], 0.9)).unwrap();
    for t in j["hedges"].as_array().unwrap() {
        let p = base["positions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["instrument"] == t["instrument"])
            .unwrap();
        let (q, s) = (p["size"].as_f64().unwrap(), t["size"].as_f64().unwrap());
        assert!(q * s < 0.0 && s.abs() <= q.abs(), "{t}");
    }
    // Compute on the reduced portfolio agrees.
    let after = temp(
        "liq-after.json",
        &hedged(j["hedges"].as_array().unwrap(), 0.9),
    );
    let c = json(margin(&[
        "compute",
        "--portfolio",
        &after,
        "--market",
        &path(CHAIN),
    ]));
    assert!(c["maintenance_margin"].as_f64().unwrap() <= 0.9);
    // Negative equity cannot be restored: the error names the best reachable level.
    let neg = temp("neg.json", &hedged(&[], -1.0));
    let out = optimize(&neg, &["--objective", "liquidate"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("best reachable margin is"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn unbuilt_objectives_and_bad_input_are_one_line_errors() {
    for objective in ["qp", "pvar"] {
        let out = optimize(
            &path("examples/portfolio-btc.json"),
            &["--objective", objective, "--hedges", "auto"],
        )
        .assert()
        .code(1);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            err.contains(&format!("objective {objective} is not built yet")),
            "{err}"
        );
    }
    for (extra, needle) in [
        (
            vec![
                "--objective",
                "worst",
                "--hedges",
                "BTC-PERPETUAL",
                "--bounds",
                "BTC-PERPETUAL:1:2",
            ],
            "LO <= 0 <= HI",
        ),
        (vec!["--objective", "worst"], "needs --hedges"),
        (
            vec![
                "--objective",
                "worst",
                "--hedges",
                "BTC-PERPETUAL",
                "--lot",
                "0",
            ],
            "--lot",
        ),
        (
            vec!["--objective", "es", "--hedges", "BTC-PERPETUAL"],
            "price history",
        ),
        (
            vec![
                "--objective",
                "worst",
                "--hedges",
                "BTC-PERPETUAL",
                "--budget",
                "-1",
            ],
            "budget",
        ),
    ] {
        let out = optimize(&path("examples/portfolio-btc.json"), &extra)
            .assert()
            .code(1);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn the_frontier_svg_is_written_and_margin_falls_with_budget() {
    let svg = std::env::temp_dir().join(format!("margin-frontier-{}.svg", std::process::id()));
    let j = json(optimize(
        &path("examples/portfolio-btc.json"),
        &[
            "--objective",
            "worst",
            "--hedges",
            "BTC-25SEP26-70000-P,BTC-25SEP26-90000-C",
            "--bound",
            "4",
            "--svg",
            svg.to_str().unwrap(),
        ],
    ));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"));
    let f = j["frontier"].as_array().unwrap();
    for w in f.windows(2).skip(1) {
        // A larger budget never gives a larger optimum (up to solver tolerance).
        assert!(w[1]["margin"].as_f64().unwrap() <= w[0]["margin"].as_f64().unwrap() + 1e-7);
    }
}
