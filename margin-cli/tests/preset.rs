//! Account currency vs preset (issue 13): without `--model` the account currency picks the
//! Deribit preset and the output names it; a Deribit preset of the other coin is refused
//! unless `--allow-preset-mismatch`; an explicit `--model` works as before otherwise.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const MARKET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/market.json");
const ETH: &str = r#"{"account": "e1", "currency": "ETH", "equity": 10, "positions": [{"instrument": "ETH-PERPETUAL", "size": -1}, {"instrument": "ETH-25SEP26-3000-P", "size": -2}]}"#;
const BTC: &str = r#"{"account": "b1", "currency": "BTC", "equity": 3, "positions": [{"instrument": "BTC-PERPETUAL", "size": -0.1}, {"instrument": "BTC-25SEP26-80000-C", "size": -2}]}"#;

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("margin-preset-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn margin(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("margin")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn compute_and_whatif_default_to_the_account_currency_preset() {
    let d = dir("default");
    let eth = write(&d, "eth.json", ETH);
    let eth = eth.to_str().unwrap();
    let (code, out, err) = margin(&["compute", "--portfolio", eth, "--market", MARKET]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("preset deribit-eth"), "{out}");
    let (code, out, err) = margin(&["compute", "--portfolio", eth, "--market", MARKET, "--json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(r#""preset": "deribit-eth""#), "{out}");
    let (code, out, err) = margin(&[
        "whatif",
        "--portfolio",
        eth,
        "--market",
        MARKET,
        "--order",
        "ETH-PERPETUAL:1",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("preset deribit-eth"), "{out}");
    // A non-Deribit preset is the user's choice for any account.
    let (code, out, err) = margin(&[
        "compute",
        "--portfolio",
        eth,
        "--market",
        MARKET,
        "--model",
        "span16",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("preset span16"), "{out}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_deribit_preset_of_the_other_coin_is_refused_unless_allowed() {
    let d = dir("mismatch");
    let eth = write(&d, "eth.json", ETH);
    let eth = eth.to_str().unwrap();
    let (code, out, err) = margin(&[
        "compute",
        "--portfolio",
        eth,
        "--market",
        MARKET,
        "--model",
        "deribit-btc",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        err.trim_end(),
        "error: --model deribit-btc: the preset is Deribit's BTC preset but account `e1` is in \
         ETH: use --model deribit-eth (the default for ETH), or pass --allow-preset-mismatch to \
         margin it under deribit-btc anyway"
    );
    let (code, out, err) = margin(&[
        "compute",
        "--portfolio",
        eth,
        "--market",
        MARKET,
        "--model",
        "deribit-btc",
        "--allow-preset-mismatch",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("preset deribit-btc"), "{out}");
    let btc = write(&d, "btc.json", BTC);
    let (code, _, err) = margin(&[
        "whatif",
        "--portfolio",
        btc.to_str().unwrap(),
        "--market",
        MARKET,
        "--model",
        "deribit-eth",
        "--order",
        "BTC-PERPETUAL:1",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("account `b1` is in BTC: use --model deribit-btc"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn batch_picks_by_each_accounts_currency_and_refuses_a_contradicting_model() {
    let d = dir("batch");
    let eth = write(&d, "eth.jsonl", &format!("{ETH}\n{ETH}\n"));
    let mix = write(&d, "mix.jsonl", &format!("{BTC}\n{ETH}\n"));
    let out = d.join("out.jsonl");
    let (eth, mix, out) = (
        eth.to_str().unwrap(),
        mix.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let (code, stdout, err) =
        margin(&["batch", "--accounts", eth, "--market", MARKET, "--out", out]);
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.contains("(preset deribit-eth)"), "{stdout}");
    let lines = std::fs::read_to_string(out).unwrap();
    assert!(
        lines
            .lines()
            .all(|l| l.contains(r#""preset":"deribit-eth""#)),
        "{lines}"
    );

    // A mix without --model: each account under its own coin's preset, named on its line
    // and in the summary; the ETH line has the bits of the ETH-only run.
    let (code, stdout, err) =
        margin(&["batch", "--accounts", mix, "--market", MARKET, "--out", out]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        stdout.contains("(preset deribit-btc for BTC, deribit-eth for ETH)"),
        "{stdout}"
    );
    let mixed = std::fs::read_to_string(out).unwrap();
    let mixed: Vec<&str> = mixed.lines().collect();
    assert!(
        mixed[0].contains(r#""preset":"deribit-btc""#),
        "{}",
        mixed[0]
    );
    assert_eq!(mixed[1], lines.lines().next().unwrap());
    let (code, _, err) = margin(&[
        "batch",
        "--accounts",
        mix,
        "--market",
        MARKET,
        "--out",
        out,
        "--model",
        "deribit-btc",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!("the account on line 2 of {mix} is in ETH")),
        "{err}"
    );
    for model in [
        &["--model", "span16"][..],
        &["--model", "deribit-btc", "--allow-preset-mismatch"],
    ] {
        let mut args = vec!["batch", "--accounts", mix, "--market", MARKET, "--out", out];
        args.extend_from_slice(model);
        let (code, _, err) = margin(&args);
        assert_eq!(code, Some(0), "{model:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(d);
}
