//! `margin bench` on a debug build: it runs, and its JSON carries every measurement as a
//! positive finite number with its target. Speeds are measured, never asserted here.

use assert_cmd::Command;
use serde_json::Value;

#[test]
fn bench_json_has_every_measurement_as_a_positive_finite_number() {
    let out = Command::cargo_bin("margin")
        .unwrap()
        .args([
            "bench",
            "--seconds",
            "0.05",
            "--mc-scenarios",
            "1000",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let positive = |v: &Value| v.as_f64().is_some_and(|x| x.is_finite() && x > 0.0);
    let measurements = report["measurements"].as_object().unwrap();
    let keys: Vec<&str> = measurements.keys().map(String::as_str).collect();
    let mut expected = [
        "risk_arrays",
        "margin",
        "what_if_mean",
        "what_if_p50",
        "what_if_p99",
        "batch",
        "mc_es",
        "hs_es",
    ];
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    for (key, m) in measurements {
        assert!(positive(&m["value"]), "{key}: {m}");
        assert!(positive(&m["target"]), "{key}: {m}");
        assert!(
            m["iterations"].as_u64().is_some_and(|n| n >= 1),
            "{key}: {m}"
        );
        assert!(m["pass"].is_boolean(), "{key}: {m}");
        // The pass mark is the comparison of the two numbers shown.
        let (value, target) = (m["value"].as_f64().unwrap(), m["target"].as_f64().unwrap());
        let pass = match m["target_is"].as_str().unwrap() {
            "<" => value < target,
            ">=" => value >= target,
            other => panic!("{key}: target_is {other}"),
        };
        assert_eq!(m["pass"].as_bool(), Some(pass), "{key}: {m}");
    }
    let (p50, p99) = (
        measurements["what_if_p50"]["value"].as_f64().unwrap(),
        measurements["what_if_p99"]["value"].as_f64().unwrap(),
    );
    assert!(p50 <= p99, "p50 {p50} > p99 {p99}");
    // The bundled chain: 1,970 options plus perpetuals and futures, Deribit's 35 scenarios.
    assert!(report["instruments"].as_u64().unwrap() > 1970);
    assert_eq!(report["scenarios"].as_u64(), Some(35));
    assert_eq!(report["model"].as_str(), Some("deribit-btc"));
    assert_eq!(
        report["machine"]["margin_version"].as_str(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(report["machine"]["logical_cores"].as_u64().unwrap() >= 1);
}

#[test]
fn bench_rejects_a_bad_duration() {
    for bad in ["0", "-1", "nan", "1e9"] {
        Command::cargo_bin("margin")
            .unwrap()
            .args(["bench", "--json", "--seconds", bad])
            .assert()
            .code(1)
            .stderr(predicates::str::contains("--seconds"));
    }
}

/// Issue 13: the command's own `--help` example on the small example market (7 BTC
/// instruments, fewer than the 50-position account) runs, and says how many positions it used.
#[test]
fn bench_help_example_runs_on_the_small_example_market() {
    let market = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/market.json");
    let out = Command::cargo_bin("margin")
        .unwrap()
        .args(["bench", "--market", market, "--model", "span16"])
        .args(["--seconds", "0.02", "--mc-scenarios", "1000", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let what = report["measurements"]["margin"]["what"].as_str().unwrap();
    assert_eq!(what, "margin, 7-position account, cached arrays");
}
