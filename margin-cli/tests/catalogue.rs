//! The bad-input catalogue (issue 13, README "Bad input the engine refuses"): one case per
//! defect class, each run through the real `margin` binary and checked for its exact error
//! line and exit code. Inputs are written to a fresh directory and the binary runs there, so
//! the messages name them by their short relative paths.
//!
//! Classes handled in the C ABI only (times near the i64 limits, a huge `position_count`)
//! are catalogued in margin-ffi's tests; a result that is not finite is refused on every
//! path, here through `compute`.

use assert_cmd::Command;
use std::path::PathBuf;

const MARKET: &str = include_str!("../../examples/market.json");
const ACCOUNTS: &str = include_str!("../../examples/accounts.jsonl");

/// A portfolio JSON of one BTC account holding `positions`.
fn btc(positions: &str) -> String {
    account("BTC", "1", positions)
}

fn account(currency: &str, equity: &str, positions: &str) -> String {
    format!(
        r#"{{"account": "X", "currency": "{currency}", "equity": {equity}, "positions": [{positions}]}}"#
    )
}

const PERP: &str = r#"{"instrument": "BTC-PERPETUAL", "size": 1}"#;

/// One class: the files it writes, the command and its expected exit code and stderr line.
struct Case {
    class: &'static str,
    files: Vec<(&'static str, String)>,
    args: &'static [&'static str],
    code: i32,
    stderr: &'static str,
}

fn run_in(dir: &PathBuf, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("margin")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("margin-catalogue-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("market.json"), MARKET).unwrap();
    dir
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            class: "non-finite result",
            files: vec![
                (
                    "huge.json",
                    btc(r#"{"instrument": "BTC-PERPETUAL", "size": 1000}"#),
                ),
                (
                    "huge-model.json",
                    r#"{"preset": "deribit-btc", "params": {"extended_table_factor": 1e308}}"#
                        .into(),
                ),
            ],
            args: &[
                "compute",
                "--portfolio",
                "huge.json",
                "--market",
                "market.json",
                "--model",
                "huge-model.json",
            ],
            code: 1,
            stderr: "error: huge.json: worst_case overflowed to a non-finite value",
        },
        Case {
            class: "linear contract quoted in a coin",
            files: vec![(
                "coin-quoted.json",
                btc(r#"{"instrument": "BTC_BTC-PERPETUAL", "size": 1}"#),
            )],
            args: &[
                "compute",
                "--portfolio",
                "coin-quoted.json",
                "--market",
                "market.json",
            ],
            code: 1,
            stderr: "error: coin-quoted.json: `positions[0].instrument`: bad instrument symbol \
                     `BTC_BTC-PERPETUAL`: invalid symbol: unsupported quote currency (a linear \
                     contract must be quoted in a USD stablecoin the engine supports: USDC or \
                     USDT; coin-quoted contracts such as BTC_BTC-PERPETUAL or ETH_BTC-... are \
                     not modelled)",
        },
        Case {
            class: "market number outside the plausibility bounds (vol in percent)",
            files: vec![
                ("perp.json", btc(PERP)),
                (
                    "vol46.json",
                    MARKET.replace(r#""mark_iv": 0.41"#, r#""mark_iv": 46.0"#),
                ),
            ],
            args: &[
                "compute",
                "--portfolio",
                "perp.json",
                "--market",
                "vol46.json",
            ],
            code: 1,
            stderr: "error: vol46.json: `instruments[\"BTC-25SEP26-80000-C\"].mark_iv`: \
                     implausible implied vol 46 (expected a decimal vol of at most 5.0 (500 %), \
                     e.g. 0.46 for 46 %; set `allow_implausible` / pass \
                     --allow-implausible-market if this is really meant)",
        },
        Case {
            class: "model parameter outside its range",
            files: vec![
                ("perp.json", btc(PERP)),
                (
                    "mm.json",
                    r#"{"preset": "deribit-btc", "params": {"mm_factor": 0.01}}"#.into(),
                ),
            ],
            args: &[
                "compute",
                "--portfolio",
                "perp.json",
                "--market",
                "market.json",
                "--model",
                "mm.json",
            ],
            code: 1,
            stderr: "error: --model mm.json: `params`: the model rejects these parameters: \
                     mm_factor (in [0.1, 1]) is out of range: 0.01",
        },
        Case {
            class: "grid price_moves written under params",
            files: vec![
                ("perp.json", btc(PERP)),
                (
                    "moves.json",
                    r#"{"preset": "grid", "params": {"price_moves": [[-0.1, 1], [0.1, 1]]}}"#
                        .into(),
                ),
            ],
            args: &[
                "compute",
                "--portfolio",
                "perp.json",
                "--market",
                "market.json",
                "--model",
                "moves.json",
            ],
            code: 1,
            stderr: "error: --model moves.json: `params.price_moves`: `price_moves` is not a \
                     parameter: put it at the top level of the model file, next to `preset`, \
                     e.g. {\"preset\": \"grid\", \"price_moves\": [[-0.1, 1], [0.1, 1]]}",
        },
        Case {
            class: "preset of another coin than the account",
            files: vec![(
                "eth.json",
                account("ETH", "1", r#"{"instrument": "ETH-PERPETUAL", "size": 1}"#),
            )],
            args: &[
                "compute",
                "--portfolio",
                "eth.json",
                "--market",
                "market.json",
                "--model",
                "deribit-btc",
            ],
            code: 1,
            stderr: "error: --model deribit-btc: the preset is Deribit's BTC preset but account \
                     `X` is in ETH: use --model deribit-eth (the default for ETH), or pass \
                     --allow-preset-mismatch to margin it under deribit-btc anyway",
        },
        Case {
            class: "position in the account's own coin",
            files: vec![("own.json", btc(r#"{"instrument": "BTC", "size": -1}"#))],
            args: &[
                "compute",
                "--portfolio",
                "own.json",
                "--market",
                "market.json",
            ],
            code: 1,
            stderr: "error: own.json: `positions[0].instrument`: `BTC` is the account's own coin: \
                     it is collateral, so put it in `equity` (held as a position it has no P&L in \
                     BTC and would get IM 0)",
        },
        Case {
            class: "dust equity",
            files: vec![("dust.json", account("BTC", "1e-320", PERP))],
            args: &[
                "compute",
                "--portfolio",
                "dust.json",
                "--market",
                "market.json",
            ],
            code: 1,
            stderr: "error: dust.json: `equity`: implausible equity 1e-320 (expected 0 or \
                     |equity| >= 1e-12 (dust equity makes the margin ratio infinite); set \
                     `allow_implausible` / pass --allow-implausible-market if this is really \
                     meant)",
        },
        Case {
            class: "size that underflows to 0",
            files: vec![(
                "tiny.json",
                btc(r#"{"instrument": "BTC-PERPETUAL", "size": 1e-400}"#),
            )],
            args: &[
                "compute",
                "--portfolio",
                "tiny.json",
                "--market",
                "market.json",
            ],
            code: 1,
            stderr: "error: tiny.json: `positions[0].size`: absurd position size 0 (expected a \
                     finite number with 1e-9 <= |size| <= 1e9; leave out a position of 0)",
        },
        Case {
            class: "CSV column named twice",
            files: vec![(
                "two.csv",
                "instrument,size,size\nBTC-PERPETUAL,1,2\n".into(),
            )],
            args: &[
                "compute",
                "--portfolio",
                "two.csv",
                "--market",
                "market.json",
            ],
            code: 1,
            stderr: "error: two.csv: line 1, column `size`: duplicate column `size`",
        },
        Case {
            class: "JSON array where an object is meant",
            files: vec![("array.json", btc(r#"["BTC-PERPETUAL", 1]"#))],
            args: &[
                "compute",
                "--portfolio",
                "array.json",
                "--market",
                "market.json",
            ],
            code: 1,
            stderr: "error: array.json: `positions[0]`: malformed JSON: invalid type: sequence, \
                     expected an object at line 1 column 63",
        },
        Case {
            class: "instrument twice (found at any scale)",
            files: vec![(
                "twice.json",
                btc(
                    r#"{"instrument": "BTC-PERPETUAL", "size": 1}, {"instrument": "BTC-PERPETUAL", "size": 2}"#,
                ),
            )],
            args: &[
                "compute",
                "--portfolio",
                "twice.json",
                "--market",
                "market.json",
            ],
            code: 1,
            stderr: "error: twice.json: `positions[1]`: duplicate position `BTC-PERPETUAL`",
        },
        Case {
            class: "instrument the market cannot price",
            files: vec![(
                "unpriced.json",
                btc(r#"{"instrument": "BTC-25SEP26-123-C", "size": 1}"#),
            )],
            args: &[
                "compute",
                "--portfolio",
                "unpriced.json",
                "--market",
                "market.json",
            ],
            code: 1,
            stderr: "error: unpriced.json: positions[0]: BTC-25SEP26-123-C is not in the market \
                     (no implied volatility for strike 123 expiring 2026-09-25T08:00:00Z)",
        },
        Case {
            class: "batch output that would overwrite its input",
            files: vec![("accounts.jsonl", ACCOUNTS.into())],
            args: &[
                "batch",
                "--accounts",
                "accounts.jsonl",
                "--market",
                "market.json",
                "--out",
                "accounts.jsonl",
                "--model",
                "span16",
            ],
            code: 1,
            stderr: "error: --out accounts.jsonl would overwrite the accounts file accounts.jsonl \
                     (the output must be another file, not the input nor its temporary \
                     OUT.<pid>.tmp)",
        },
        Case {
            class: "batch with a Deribit preset contradicting an account's coin",
            files: vec![("accounts.jsonl", ACCOUNTS.into())],
            args: &[
                "batch",
                "--accounts",
                "accounts.jsonl",
                "--market",
                "market.json",
                "--out",
                "out.jsonl",
                "--model",
                "deribit-btc",
            ],
            code: 1,
            stderr: "error: --model deribit-btc: the preset is Deribit's BTC preset but the \
                     account on line 3 of accounts.jsonl is in ETH: use --model deribit-eth (the \
                     default for ETH), or pass --allow-preset-mismatch to margin it under \
                     deribit-btc anyway",
        },
    ]
}

#[test]
fn every_class_is_refused_with_its_exact_error_and_exit_code() {
    for (k, case) in cases().into_iter().enumerate() {
        let dir = fresh_dir(&k.to_string());
        for (name, text) in &case.files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let (code, stdout, stderr) = run_in(&dir, case.args);
        assert_eq!(code, Some(case.code), "{}: {stderr}", case.class);
        assert_eq!(stderr, format!("{}\n", case.stderr), "{}", case.class);
        assert!(stdout.is_empty(), "{}: {stdout}", case.class);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A bad batch record is refused on its own line; the others finish and the exit code is 0.
#[test]
fn a_bad_batch_record_is_an_error_line_and_the_run_succeeds() {
    let dir = fresh_dir("batch-line");
    std::fs::write(dir.join("lines.jsonl"), format!("[\"X\"]\n{}\n", btc(PERP))).unwrap();
    let (code, stdout, stderr) = run_in(
        &dir,
        &[
            "batch",
            "--accounts",
            "lines.jsonl",
            "--market",
            "market.json",
            "--out",
            "out.jsonl",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "2 accounts (1 errors) -> out.jsonl (preset deribit-btc)\n"
    );
    let out = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
    assert_eq!(
        out.lines().next(),
        Some(
            "{\"line\":1,\"error\":\"malformed JSON: invalid type: sequence, expected an object \
             at line 1 column 0\",\"preset\":\"deribit-btc\"}"
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}
