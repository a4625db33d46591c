//! Runs the real `margin` binary's `demo`, `compute`, `whatif` and `batch` on the bundled
//! files and checks the output against the library computed independently here.

use assert_cmd::Command;
use margin_core::account::{self, Account};
use margin_core::io::engine::{RiskBuffers, Universe};
use margin_core::io::{PortfolioDefaults, read_market, read_portfolio};
use margin_core::model::Model;
use margin_core::risk;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chain() -> PathBuf {
    root().join("data/deribit/deribit_options_snapshot_20260822T153351Z.csv")
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

fn margin() -> Command {
    Command::cargo_bin("margin").unwrap()
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("margin-cli-margin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let p = temp_dir().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn json(args: &[&str]) -> Value {
    let out = margin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn compute_json_is_the_library_result() {
    let (pf, mk) = (example("portfolio-btc.json"), chain());
    let doc = json(&[
        "compute",
        "--json",
        "--portfolio",
        s(&pf),
        "--market",
        s(&mk),
    ]);

    // The same pipeline through the library: market → universe → arrays → account → margin.
    let market = read_market(&mk).unwrap();
    let portfolio = read_portfolio(&pf, &PortfolioDefaults::default()).unwrap();
    let views = market.views();
    let snap = market.snapshot(&views).unwrap();
    let model = Model::preset("deribit-btc").unwrap();
    let universe = Universe::new(&market, &snap, model.clone(), &[]).unwrap();
    let mut buffers = RiskBuffers::new(&universe);
    let arrays = universe.build(snap, &mut buffers).unwrap();
    let positions = universe.positions(&portfolio).unwrap();
    let acct = Account::new(&arrays, portfolio.currency, portfolio.equity, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    let m = account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
    let mut counted = vec![0.0; arrays.scenarios().len()];
    account::counted_pnl(&arrays, &model, &acct, &scratch, &mut counted).unwrap();
    let mut iso = vec![0.0; positions.len()];
    account::isolated(&arrays, &model, &acct, &mut scratch, &mut iso).unwrap();
    let mut pnl = vec![0.0; arrays.scenarios().len()];
    risk::portfolio_pnl(&arrays, &positions, &mut pnl).unwrap();

    let num = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert_eq!(doc["account"], "demo-btc");
    assert_eq!(doc["currency"], "BTC");
    assert_eq!(doc["preset"], "deribit-btc");
    assert_eq!(doc["preset_version"], model.version);
    assert_eq!(num(&doc["initial_margin"]), m.initial);
    assert_eq!(num(&doc["maintenance_margin"]), m.maintenance);
    assert_eq!(num(&doc["equity"]), 3.5);
    assert_eq!(num(&doc["margin_ratio"]), m.margin_ratio.unwrap());
    assert_eq!(doc["status"], "healthy");
    for c in &m.components {
        assert_eq!(num(&doc["components"][c.name]), c.value, "{}", c.name);
    }
    for name in ["worst_case", "roll_shock", "risk_matrix_margin"] {
        assert!(doc["components"][name].is_f64(), "{name}");
    }
    let w = &doc["worst_scenario"];
    assert_eq!(w["index"], m.worst.index);
    assert_eq!(num(&w["price_move"]), m.worst.price_move);
    assert_eq!(num(&w["vol_shock"]), m.worst.vol_shock);
    assert_eq!(num(&w["loss"]), m.worst.loss);
    let scen = doc["scenarios"].as_array().unwrap();
    assert_eq!(scen.len(), 35);
    for (i, (row, sc)) in scen.iter().zip(arrays.scenarios().scenarios()).enumerate() {
        assert_eq!(row["index"], i);
        assert_eq!(num(&row["pnl"]), pnl[i]);
        assert_eq!(num(&row["counted"]), counted[i]);
        assert!(
            num(&row["counted"]) >= -m.worst.loss,
            "no cell counts more than the worst"
        );
        assert_eq!(num(&row["price_move"]), sc.price_move);
        assert_eq!(num(&row["weight"]), sc.weight);
        assert!(row["kind"] == "standard" || row["kind"] == "extended");
        assert!(row["vol_shock"].is_f64());
    }
    // The worst cell is the most negative P&L among full-weight cells here (pnl_offset 0,
    // one underlying, dampener small against these losses): an independent check.
    let min = pnl.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(close(m.worst.loss, -min) || m.worst.loss <= -min);
    let rows = doc["positions"].as_array().unwrap();
    assert_eq!(rows.len(), portfolio.positions.len());
    let mut total = 0.0;
    for ((row, p), (q, iso)) in rows
        .iter()
        .zip(&positions)
        .zip(portfolio.positions.iter().zip(&iso))
    {
        let v = arrays.valuation(p.instrument);
        assert_eq!(row["instrument"], q.instrument.to_string());
        assert_eq!(num(&row["size"]), q.size);
        assert_eq!(num(&row["value"]), q.size * v.value);
        assert_eq!(num(&row["delta"]), q.size * v.delta);
        assert_eq!(num(&row["gamma"]), q.size * v.gamma);
        assert_eq!(num(&row["vega"]), q.size * v.vega / 100.0);
        assert_eq!(num(&row["theta"]), q.size * v.theta / 365.0);
        assert_eq!(num(&row["isolated_margin"]), *iso);
        total += iso;
    }
    assert_eq!(num(&doc["isolated_margin_total"]), total);
    assert_eq!(num(&doc["margin_benefit"]), total - m.initial);
    assert!(
        num(&doc["margin_benefit"]) > 0.0,
        "netting must help this book"
    );
}

#[test]
fn compute_human_output_has_units_and_a_table() {
    let out = margin()
        .args(["compute", "--portfolio"])
        .arg(example("portfolio-btc.json"))
        .arg("--market")
        .arg(chain())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "initial margin",
        "BTC",
        "risk_matrix_margin",
        "worst scenario",
        "isolated IM (BTC)",
        "margin benefit",
        "<- worst",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
}

/// Whatif of an order equals compute on the portfolio with the order merged in.
#[test]
fn whatif_equals_compute_on_the_merged_portfolio() {
    let (pf, mk) = (example("portfolio-btc.json"), chain());
    let orders = [("BTC-PERPETUAL", -0.5), ("BTC-25SEP26-70000-P", 2.0)];
    let mut args = vec![
        "whatif",
        "--json",
        "--portfolio",
        s(&pf),
        "--market",
        s(&mk),
    ];
    let texts: Vec<String> = orders.iter().map(|(i, q)| format!("{i}:{q}")).collect();
    for t in &texts {
        args.push("--order");
        args.push(t);
    }
    let doc = json(&args);
    let before = doc["initial_margin"].as_f64().unwrap();
    let base: Value = serde_json::from_str(&std::fs::read_to_string(&pf).unwrap()).unwrap();
    for (k, (inst, size)) in orders.iter().enumerate() {
        let mut merged = base.clone();
        let ps = merged["positions"].as_array_mut().unwrap();
        match ps.iter_mut().find(|p| p["instrument"] == *inst) {
            Some(p) => p["size"] = Value::from(p["size"].as_f64().unwrap() + size),
            None => ps.push(serde_json::json!({"instrument": inst, "size": size})),
        }
        let file = temp_file(&format!("merged{k}.json"), &merged.to_string());
        let full = json(&[
            "compute",
            "--json",
            "--portfolio",
            s(&file),
            "--market",
            s(&mk),
        ]);
        let o = &doc["orders"][k];
        let (im, want) = (
            o["initial_margin"].as_f64().unwrap(),
            full["initial_margin"].as_f64().unwrap(),
        );
        assert!(close(im, want), "{inst}: {im} vs {want}");
        assert!(close(
            o["maintenance_margin"].as_f64().unwrap(),
            full["maintenance_margin"].as_f64().unwrap()
        ));
        assert_eq!(o["status"], full["status"]);
        assert_eq!(o["incremental_margin"].as_f64().unwrap(), im - before);
    }
}

#[test]
fn batch_lines_match_compute_and_name_bad_records() {
    let dir = temp_dir();
    let out = dir.join("accounts-out.jsonl");
    let (acc, mk) = (example("accounts.jsonl"), example("market.json"));
    margin()
        .args([
            "batch",
            "--accounts",
            s(&acc),
            "--market",
            s(&mk),
            "--out",
            s(&out),
        ])
        // The example mixes BTC and ETH accounts: one preset for all must be insisted on.
        .args(["--model", "deribit-btc", "--allow-preset-mismatch"])
        .assert()
        .success();
    assert!(!dir.join("accounts-out.jsonl.tmp").exists());
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 7 input lines, one blank: 6 output lines in input order.
    assert_eq!(lines.len(), 6);
    let names: Vec<&str> = lines.iter().filter_map(|l| l["account"].as_str()).collect();
    assert_eq!(names, ["A1", "A2", "A3", "A5", "A6"]);
    assert_eq!(lines[3]["line"], 4);
    assert!(lines[3]["error"].as_str().unwrap().contains("expected f64"));
    assert_eq!(lines[4]["line"], 6);
    assert!(lines[4]["error"].as_str().unwrap().contains("expired"));
    // Each good line equals `compute` on that account alone.
    for (k, l) in lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["error"].is_null())
    {
        let src = std::fs::read_to_string(&acc).unwrap();
        let record = src
            .lines()
            .find(|r| r.contains(&format!("\"{}\"", l["account"].as_str().unwrap())))
            .unwrap();
        let file = temp_file(&format!("acct{k}.json"), record);
        let full = json(&[
            "compute",
            "--json",
            "--portfolio",
            s(&file),
            "--market",
            s(&mk),
            "--model",
            "deribit-btc",
            "--allow-preset-mismatch",
        ]);
        assert_eq!(l["initial_margin"], full["initial_margin"]);
        assert_eq!(l["maintenance_margin"], full["maintenance_margin"]);
        assert_eq!(l["status"], full["status"]);
        assert_eq!(l["preset"], full["preset"]);
        assert_eq!(l.as_object().unwrap().len(), 5);
    }
}

#[test]
fn batch_output_bytes_do_not_depend_on_threads() {
    let dir = temp_dir();
    let accounts = dir.join("gen.jsonl");
    // More accounts than one chunk (4,096 lines), so chunk boundaries are crossed.
    margin()
        .args([
            "gen-accounts",
            "--market",
            s(&chain()),
            "--count",
            "5000",
            "--positions",
            "5",
        ])
        .args(["--seed", "7", "--out", s(&accounts)])
        .assert()
        .success();
    let run = |threads: &str, name: &str| {
        let out = dir.join(name);
        margin()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "batch",
                "--accounts",
                s(&accounts),
                "--market",
                s(&chain()),
                "--out",
                s(&out),
                "--model",
                "deribit-btc",
                "--allow-preset-mismatch",
            ])
            .assert()
            .success();
        std::fs::read(out).unwrap()
    };
    let one = run("1", "one.jsonl");
    let many = run("4", "many.jsonl");
    assert_eq!(one.len(), many.len());
    assert!(one == many, "1-thread and 4-thread outputs differ");
    assert_eq!(one.iter().filter(|&&b| b == b'\n').count(), 5000);
    // The generator is deterministic too.
    let again = dir.join("gen2.jsonl");
    margin()
        .args([
            "gen-accounts",
            "--market",
            s(&chain()),
            "--count",
            "5000",
            "--positions",
            "5",
        ])
        .args(["--seed", "7", "--out", s(&again)])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&accounts).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

/// A tiny XML well-formedness check: tags nest and close, attributes are quoted, entities
/// are the five predefined ones. Returns the start tags with their attribute text.
fn well_formed(xml: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut tags = Vec::new();
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        check_entities(text);
        let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('?') {
            assert!(tag.ends_with('?'));
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name = body
            .split_whitespace()
            .next()
            .expect("empty tag")
            .to_string();
        assert_eq!(
            body.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{body}>"
        );
        check_entities(body);
        tags.push(body.to_string());
        if !self_closing {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    tags
}

fn check_entities(text: &str) {
    for (i, _) in text.match_indices('&') {
        let ent = &text[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| ent.starts_with(e)),
            "bad entity at {ent:.10}"
        );
    }
}

#[test]
fn demo_prints_the_report_and_writes_a_valid_heatmap() {
    let dir = temp_dir().join("demo-cwd");
    std::fs::create_dir_all(&dir).unwrap();
    // From an unrelated directory: the sample files are embedded.
    let out = margin().current_dir(&dir).args(["demo"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("account demo-btc") && text.contains("margin-demo.svg"));
    let svg = std::fs::read_to_string(dir.join("margin-demo.svg")).unwrap();
    let tags = well_formed(&svg);
    assert!(tags[0].starts_with("svg xmlns=\"http://www.w3.org/2000/svg\""));
    // The outlined cell is the worst scenario of the JSON report.
    let doc = json(&["demo", "--json", "--svg", s(&temp_dir().join("demo2.svg"))]);
    let worst = doc["worst_scenario"]["index"].as_u64().unwrap();
    let marked: Vec<&String> = tags
        .iter()
        .filter(|t| t.contains("class=\"worst\""))
        .collect();
    assert_eq!(marked.len(), 1);
    assert!(
        marked[0].contains(&format!("id=\"scenario-{worst}\"")),
        "{}",
        marked[0]
    );
    // Every scenario has a cell.
    let cells = tags
        .iter()
        .filter(|t| t.starts_with("g id=\"scenario-"))
        .count();
    assert_eq!(cells, doc["scenarios"].as_array().unwrap().len());
}

#[test]
fn every_subcommand_has_help() {
    for cmd in ["demo", "compute", "whatif", "batch", "price"] {
        let out = margin().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Example"), "{cmd} --help has no examples");
    }
}

/// Runs `margin ARGS`, expects exit 1 and one `error: ` line containing `needles`.
fn fails_with(args: &[&str], needles: &[&str]) {
    let out = margin().args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{err}` lacks `{n}`");
    }
}

fn compute_with(portfolio: &str, model: &str) -> Vec<String> {
    let p = temp_file("bad-portfolio.json", portfolio);
    vec![
        "compute".into(),
        "--portfolio".into(),
        s(&p).into(),
        "--market".into(),
        s(&example("market.json")).into(),
        "--model".into(),
        model.into(),
    ]
}

fn pf(positions: &str) -> String {
    format!(r#"{{"account": "X", "currency": "BTC", "equity": 1, "positions": [{positions}]}}"#)
}

fn run_fails(args: Vec<String>, needles: &[&str]) {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    fails_with(&a, needles);
}

#[test]
fn absurd_market_numbers_are_bad_input_naming_the_instrument() {
    // The forward is finite and positive, so the market reads; its shocked scenarios overflow.
    let mk = temp_file(
        "huge-forward.json",
        r#"{"valuation_time": "2026-08-22T15:33:51Z",
            "underlyings": {"BTC": {"index_price": 77000,
                                    "forwards": {"2026-09-25T08:00:00Z": 1e308}}},
            "instruments": {"BTC-25SEP26-80000-C": {"mark_iv": 0.4}}}"#,
    );
    let p = temp_file(
        "huge-forward-portfolio.json",
        &pf(r#"{"instrument": "BTC-PERPETUAL", "size": 10}"#),
    );
    // The plausibility bounds catch it when the market is read, naming the field ...
    fails_with(
        &["compute", "--portfolio", s(&p), "--market", s(&mk)],
        &[
            "huge-forward.json: `underlyings.BTC.forwards[\"2026-09-25T08:00:00Z\"]`: \
             implausible forward 1e308 (expected at most 1e12 USD per coin",
        ],
    );
    // ... and when the user insists, the overflow is still bad input naming the instrument.
    fails_with(
        &[
            "compute",
            "--portfolio",
            s(&p),
            "--market",
            s(&mk),
            "--allow-implausible-market",
        ],
        &["BTC-25SEP26", "cannot price the scenarios"],
    );
}

/// Issue 13: a vol in percent (46.0) is rejected on every command taking `--market`, and
/// accepted with `--allow-implausible-market`.
#[test]
fn implausible_market_is_rejected_unless_allowed() {
    let text = std::fs::read_to_string(example("market.json"))
        .unwrap()
        .replacen("\"mark_iv\": 0.46", "\"mark_iv\": 46.0", 1);
    let mk = temp_file("percent-vol.json", &text);
    let p = example("portfolio-btc.json");
    let expected = "percent-vol.json: `instruments[\"BTC-25SEP26-90000-C\"].mark_iv`: \
                    implausible implied vol 46 (expected a decimal vol of at most 5.0 (500 %)";
    fails_with(
        &["compute", "--portfolio", s(&p), "--market", s(&mk)],
        &[expected],
    );
    fails_with(&["price", "--market", s(&mk)], &[expected]);
    let ok = margin()
        .args(["price", "--market", s(&mk), "--allow-implausible-market"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn bad_inputs_exit_1_with_one_line_naming_the_problem() {
    let mk = example("market.json");
    // Missing file.
    fails_with(
        &[
            "compute",
            "--portfolio",
            "/nonexistent/p.json",
            "--market",
            s(&mk),
        ],
        &["/nonexistent/p.json", "cannot read"],
    );
    // Bad JSON.
    let name = "bad-portfolio.json";
    run_fails(
        compute_with("{\"account\": ", "deribit-btc"),
        &[name, "malformed JSON"],
    );
    // Unknown instrument (well-formed symbol, not in the market).
    run_fails(
        compute_with(
            &pf(r#"{"instrument": "BTC-25SEP26-71000-P", "size": 1}"#),
            "deribit-btc",
        ),
        &[
            name,
            "positions[0]",
            "BTC-25SEP26-71000-P",
            "not in the market",
        ],
    );
    // Bad symbol.
    run_fails(
        compute_with(
            &pf(r#"{"instrument": "BTC-31FOO26-1-C", "size": 1}"#),
            "deribit-btc",
        ),
        &[name, "positions[0].instrument"],
    );
    // Expired instrument.
    run_fails(
        compute_with(
            &pf(r#"{"instrument": "BTC-21AUG26-80000-C", "size": 1}"#),
            "deribit-btc",
        ),
        &[name, "BTC-21AUG26-80000-C", "expired"],
    );
    // Duplicate position.
    let dup =
        r#"{"instrument": "BTC-PERPETUAL", "size": 1}, {"instrument": "BTC-PERPETUAL", "size": 2}"#;
    run_fails(
        compute_with(&pf(dup), "deribit-btc"),
        &[name, "positions[1]", "duplicate"],
    );
    // Absurd size.
    run_fails(
        compute_with(
            &pf(r#"{"instrument": "BTC-PERPETUAL", "size": 1e12}"#),
            "deribit-btc",
        ),
        &[name, "positions[0].size", "absurd"],
    );
    // Currency mismatch.
    run_fails(
        compute_with(
            &pf(r#"{"instrument": "ETH-PERPETUAL", "size": 1}"#),
            "deribit-btc",
        ),
        &[name, "ETH-PERPETUAL", "account currency BTC"],
    );
    // Unknown preset, unknown parameter, parameter the model rejects.
    let ok = pf(r#"{"instrument": "BTC-PERPETUAL", "size": 1}"#);
    run_fails(
        compute_with(&ok, "deribit-xyz"),
        &["--model", "deribit-xyz", "preset"],
    );
    let m = temp_file("model-bad.json", r#"{"preset": "deribit-foo"}"#);
    run_fails(
        compute_with(&ok, s(&m)),
        &["model-bad.json", "`preset`", "deribit-foo"],
    );
    let m = temp_file(
        "model-param.json",
        r#"{"preset": "deribit-eth", "params": {"pnl_ofset": 0.5}}"#,
    );
    run_fails(
        compute_with(&ok, s(&m)),
        &["model-param.json", "params.pnl_ofset", "pnl_offset"],
    );
    let m = temp_file(
        "model-neg.json",
        r#"{"preset": "deribit-btc", "params": {"mm_factor": -1}}"#,
    );
    run_fails(compute_with(&ok, s(&m)), &["model-neg.json", "mm_factor"]);
    let m = temp_file(
        "model-moves.json",
        r#"{"preset": "deribit-btc", "price_moves": [[0.1, 1]]}"#,
    );
    run_fails(
        compute_with(&ok, s(&m)),
        &["model-moves.json", "price_moves", "grid"],
    );
    // Bad --order syntax and bad order size.
    let p = temp_file("ok.json", &ok);
    for (order, needle) in [
        ("BTC-PERPETUAL", "INSTRUMENT:SIZE"),
        ("BTC-PERPETUAL:abc", "not a number"),
        ("BTC-PERPETUAL:0", "non-zero"),
        ("NOPE-1-2-3-4:1", "bad instrument symbol"),
        ("BTC-21AUG26-80000-C:1", "expired"),
        (
            "ETH-PERPETUAL:1",
            "settles in ETH, not in the account currency BTC",
        ),
        ("BTC-PERPETUAL:1e9", "beyond"),
    ] {
        fails_with(
            &[
                "whatif",
                "--portfolio",
                s(&p),
                "--market",
                s(&mk),
                "--order",
                order,
            ],
            &["--order", needle],
        );
    }
    // Batch: missing accounts file, unwritable output; no output or temp file is left.
    fails_with(
        &[
            "batch",
            "--accounts",
            "/nonexistent/a.jsonl",
            "--market",
            s(&mk),
            "--out",
            "/tmp/x.jsonl",
        ],
        &["/nonexistent/a.jsonl"],
    );
    fails_with(
        &[
            "batch",
            "--accounts",
            s(&example("accounts.jsonl")),
            "--market",
            s(&mk),
            "--out",
            "/nonexistent/dir/o.jsonl",
            "--model",
            "span16",
        ],
        &["/nonexistent/dir/o.jsonl.", ".tmp: cannot write"],
    );
}

#[test]
fn grid_model_file_with_price_moves_is_used() {
    let ok = pf(r#"{"instrument": "BTC-PERPETUAL", "size": 1}"#);
    let m = temp_file(
        "model-grid.json",
        r#"{"preset": "grid", "params": {"volatility_range_up": 0}, "price_moves": [[-0.1, 1], [0, 1], [0.1, 1]]}"#,
    );
    let args = compute_with(&ok, s(&m));
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.push("--json");
    let doc = json(&a);
    assert_eq!(doc["preset"], "grid");
    // 3 moves × 2 vol states (unchanged, down): a long perpetual loses most at −10 %.
    assert_eq!(doc["scenarios"].as_array().unwrap().len(), 6);
    assert_eq!(doc["worst_scenario"]["price_move"], -0.1);
    // Inverse perpetual, 1 coin, entered at the mark P: P&L at −10 % is 1 − P/(0.9P) = −1/9 coin.
    let loss = doc["components"]["worst_case"].as_f64().unwrap();
    assert!((loss - 1.0 / 9.0).abs() < 1e-12, "{loss}");
}

/// Issue 13: `batch --out` equal to `--accounts` is refused before any work, the input kept.
#[test]
fn batch_refuses_to_overwrite_its_accounts() {
    let text = std::fs::read_to_string(example("accounts.jsonl")).unwrap();
    let acc = temp_file("same-accounts.jsonl", &text);
    let dir = temp_dir();
    let spelled = dir.join(".").join("same-accounts.jsonl");
    fails_with(
        &[
            "batch",
            "--accounts",
            s(&acc),
            "--market",
            s(&example("market.json")),
            "--out",
            s(&spelled),
        ],
        &[&format!(
            "--out {} would overwrite the accounts file {}",
            spelled.display(),
            acc.display()
        )],
    );
    assert_eq!(std::fs::read_to_string(&acc).unwrap(), text);
    assert!(!dir.join("same-accounts.jsonl.tmp").exists());
}

/// Issue 13: a non-finite margin (Deribit `extended_table_factor` = 1e308 through the model
/// override path; SPAN `im_ratio` = 1e308 is now out of its range [1, 10]) is
/// never reported as a result: compute and whatif exit 1, a batch line is an error line.
#[test]
fn non_finite_margins_are_errors_not_results() {
    let model = temp_file(
        "huge-im-ratio.json",
        r#"{"preset": "deribit-btc", "params": {"extended_table_factor": 1e308}}"#,
    );
    let p = temp_file(
        "huge-im-portfolio.json",
        &pf(r#"{"instrument": "BTC-PERPETUAL", "size": 1000}"#),
    );
    let mk = example("market.json");
    let base = [
        "--portfolio",
        s(&p),
        "--market",
        s(&mk),
        "--model",
        s(&model),
    ];
    let expected = format!(
        "{}: worst_case overflowed to a non-finite value",
        p.display()
    );
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["compute"];
        args.extend(base);
        args.extend(extra);
        fails_with(&args, &[&expected]);
    }
    let mut args = vec!["whatif"];
    args.extend(base);
    args.extend(["--order", "BTC-PERPETUAL:1"]);
    fails_with(&args, &[&expected]);
    // Batch: the account's line is an error, counted as one.
    let acc = temp_file(
        "huge-im-accounts.jsonl",
        &format!(
            "{}\n",
            pf(r#"{"instrument": "BTC-PERPETUAL", "size": 1000}"#)
        ),
    );
    let out = temp_dir().join("huge-im-out.jsonl");
    let run = margin()
        .args(["batch", "--accounts", s(&acc), "--market", s(&mk)])
        .args(["--model", s(&model), "--out", s(&out)])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("1 accounts (1 errors)"));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "{\"account\":\"X\",\"line\":1,\"error\":\"worst_case overflowed to a non-finite value\",\"preset\":\"deribit-btc\"}\n"
    );
}
