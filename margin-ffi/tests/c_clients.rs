//! Real C and C++ clients: the committed header matches cbindgen's output; `examples/c` and
//! `examples/cpp` compile with `-Wall -Wextra -Wpedantic -Werror` under AddressSanitizer and
//! UndefinedBehaviorSanitizer (and valgrind when installed); their printed margins equal, bit
//! for bit, what `margin-core` computes directly (its own risk arrays over only the traded
//! instruments, no FFI code involved); the misuse program's checks all pass;
//! `examples/c/statistical.c` prints, under each statistical preset, exactly what the CLI's
//! route (`margin_opt::joint::JointEngine::margin`) computes.

use margin_core::account::{self, Account, Margin, Status};
use margin_core::io::parse_deribit_chain;
use margin_core::market::{PricingInputs, UnderlyingMarket};
use margin_core::model::Model;
use margin_core::pricing::Valuation;
use margin_core::risk::{Position, RiskArrays, RiskStorage};
use margin_core::scenario::ScenarioSet;
use margin_core::{Asset, Instrument};
use std::path::{Path, PathBuf};
use std::process::Command;

const ORDERS: &str = "40";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chain() -> PathBuf {
    root().join("data/deribit/deribit_options_snapshot_20260822T153351Z.csv")
}

/// The static library cargo built for this test run. `cargo test` writes it beside the test
/// binary in `deps/`; only `cargo build` copies it up to the profile directory, where an older
/// copy may linger, so `deps/` comes first.
fn static_lib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [
        deps.join("libmargin_ffi.a"),
        deps.parent().unwrap().join("libmargin_ffi.a"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("libmargin_ffi.a missing next to {}", exe.display()))
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// Compiles `source` with `compiler` and the warning flags; returns the executable.
fn compile(compiler: &str, std: &str, source: &str, sanitize: bool, name: &str) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut cmd = Command::new(compiler);
    cmd.args([std, "-g", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]);
    if sanitize {
        cmd.args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]);
    }
    cmd.arg("-I")
        .arg(root().join("include"))
        .arg(root().join(source))
        .arg(static_lib())
        .args(["-lm", "-lpthread", "-ldl", "-o"])
        .arg(&out);
    let res = cmd.output().unwrap();
    assert!(
        res.status.success(),
        "{compiler} {source} failed:\n{}",
        String::from_utf8_lossy(&res.stderr)
    );
    out
}

fn run(cmd: &mut Command) -> String {
    let res = cmd.output().unwrap();
    assert!(
        res.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        res.status,
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    String::from_utf8(res.stdout).unwrap()
}

#[test]
fn committed_header_is_what_cbindgen_generates() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/margin.h")).unwrap();
    let committed = std::fs::read_to_string(root().join("include/margin.h")).unwrap();
    assert!(
        generated == committed,
        "include/margin.h is stale: run MARGIN_FFI_WRITE_HEADER=1 cargo build -p margin-ffi"
    );
}

#[test]
fn version_macros_and_function_match_cargo_toml() {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let version = toml
        .lines()
        .skip_while(|l| l.trim() != "[workspace.package]")
        .find_map(|l| l.trim().strip_prefix("version = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let header = std::fs::read_to_string(root().join("include/margin.h")).unwrap();
    assert!(header.contains(&format!("#define MARGIN_VERSION \"{version}\"")));
    let parts: Vec<&str> = version.split('.').collect();
    for (name, part) in ["MAJOR", "MINOR", "PATCH"].iter().zip(&parts) {
        assert!(header.contains(&format!("#define MARGIN_VERSION_{name} {part}\n")));
    }
    // SAFETY: margin_version returns a static NUL-terminated string.
    let runtime = unsafe { std::ffi::CStr::from_ptr(margin_ffi::margin_version()) };
    assert_eq!(runtime.to_str().unwrap(), version);
}

/// One printed result line: `key=value` fields after a tag.
fn fields(line: &str) -> Vec<(&str, &str)> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect()
}

fn check_line(line: &str, m: &Margin) {
    let health = match m.status {
        Status::Healthy => "healthy",
        Status::MarginCall => "margin_call",
        Status::Liquidation => "liquidation",
    };
    for (k, v) in fields(line) {
        let num = || v.parse::<f64>().unwrap();
        match k {
            "im" => assert_eq!(num(), m.initial, "{line}"),
            "mm" => assert_eq!(num(), m.maintenance, "{line}"),
            "equity" => assert_eq!(num(), m.equity, "{line}"),
            "ratio" => assert_eq!(num(), m.margin_ratio.unwrap_or(0.0), "{line}"),
            "has_ratio" => assert_eq!(v == "1", m.margin_ratio.is_some(), "{line}"),
            "free" => assert_eq!(num(), m.free_collateral, "{line}"),
            "health" => assert_eq!(v, health, "{line}"),
            "worst" => assert_eq!(v.parse::<usize>().unwrap(), m.worst.index, "{line}"),
            "loss" => assert_eq!(num(), m.worst.loss, "{line}"),
            _ => panic!("unexpected field {k} in {line}"),
        }
    }
}

/// Replays a client's output with margin-core alone and checks every number. Returns the
/// number of lines checked.
fn replay(output: &str) -> usize {
    let text = std::fs::read_to_string(chain()).unwrap();
    let market = parse_deribit_chain(&text, &chain()).unwrap();
    let views: Vec<UnderlyingMarket<'_>> = market.views();
    let snapshot = market.snapshot(&views).unwrap();
    let model = Model::preset("deribit-btc").unwrap();
    let scenarios = model.scenarios().unwrap();
    let set = ScenarioSet::new(&scenarios, model.tenor()).unwrap();

    // Rows: only the instruments the client names, in order of first appearance.
    let mut symbols: Vec<String> = Vec::new();
    for line in output.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let sym = match w.first() {
            Some(&"position") => w[1],
            Some(&"order") => w[2],
            _ => continue,
        };
        if !symbols.iter().any(|s| s == sym) {
            symbols.push(sym.to_string());
        }
    }
    let instruments: Vec<Instrument> = symbols
        .iter()
        .map(|s| Instrument::parse(s).unwrap())
        .collect();
    let n = instruments.len();
    let mut inputs = vec![PricingInputs::ZERO; n];
    let mut vals = vec![Valuation::ZERO; n];
    let mut pnl = vec![0.0; n * set.len()];
    let storage = RiskStorage {
        inputs: &mut inputs,
        valuations: &mut vals,
        pnl: &mut pnl,
    };
    let arrays = RiskArrays::build(snapshot, set, &instruments, storage).unwrap();
    let row = |sym: &str| symbols.iter().position(|s| s == sym).unwrap();

    let btc = Asset::new("BTC").unwrap();
    let equity = 25.0;
    let mut positions: Vec<Position> = Vec::new();
    let mut scratch = vec![0.0; 64 * set_len(&arrays)];
    let mut current: Option<Margin> = None;
    let mut checked = 0;
    let mut pending: Option<Position> = None;
    for line in output.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.first().copied() {
            Some("position") => positions.push(Position {
                instrument: row(w[1]),
                size: w[2].parse().unwrap(),
            }),
            Some("account") | Some("final") => {
                let acct = Account::new(&arrays, btc, equity, &positions).unwrap();
                let m = account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
                check_line(line, &m);
                current = Some(m);
                checked += 1;
            }
            Some("item") => {
                let m = current.as_ref().unwrap();
                assert_eq!(m.component(w[1]).unwrap(), w[2].parse::<f64>().unwrap());
                checked += 1;
            }
            Some("order") => {
                assert!(!line.contains("status="), "order rejected: {line}");
                let order = Position {
                    instrument: row(w[2]),
                    size: w[3].parse().unwrap(),
                };
                let acct = Account::new(&arrays, btc, equity, &positions).unwrap();
                account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
                let m = account::what_if(&arrays, &model, &acct, &scratch, order).unwrap();
                check_line(line, &m);
                pending = Some(order);
                checked += 1;
            }
            Some("fill") => {
                let order = pending.take().unwrap();
                match positions
                    .iter()
                    .position(|p| p.instrument == order.instrument)
                {
                    Some(i) if positions[i].size + order.size == 0.0 => {
                        positions.remove(i);
                    }
                    Some(i) => positions[i].size += order.size,
                    None => positions.push(order),
                }
            }
            _ => {}
        }
    }
    checked
}

/// `margin compute/whatif --model MODEL --history HISTORY --market CHAIN` for the account
/// `positions` (equity 3 BTC) with `order` merged in, by the CLI's route in Rust.
fn cli_statistical(
    model: &str,
    positions: &[(Instrument, f64)],
    order: Option<(Instrument, f64)>,
) -> Margin {
    use margin_core::io::matrix::RiskMatrix;
    use margin_core::io::{MarketOptions, Portfolio, PriceHistory, read_market_with};
    use margin_opt::joint::{JointEngine, lookup_model};
    let market = read_market_with(&chain(), MarketOptions::default()).unwrap();
    let history = PriceHistory::load(&[history().display().to_string()]).unwrap();
    let joint = JointEngine::new(Model::preset(model).unwrap(), &history).unwrap();
    let portfolio = Portfolio {
        account: "c".to_string(),
        currency: Asset::new("BTC").unwrap(),
        equity: 3.0,
        positions: positions
            .iter()
            .map(|&(instrument, size)| margin_core::io::portfolio::Position { instrument, size })
            .collect(),
    };
    let mut extra: Vec<Instrument> = positions.iter().map(|p| p.0).collect();
    extra.extend(order.map(|o| o.0));
    let matrix = RiskMatrix::new(market, lookup_model().unwrap(), &extra).unwrap();
    let orders: Vec<Position> = order
        .iter()
        .map(|(i, size)| Position {
            instrument: matrix.find(i).unwrap(),
            size: *size,
        })
        .collect();
    joint.margin(&matrix, &portfolio, &orders).unwrap().0
}

fn history() -> PathBuf {
    root().join("data/btc-eth-daily/btc_eth_daily_close_aligned.csv")
}

#[test]
fn c_client_under_statistical_presets_matches_the_cli() {
    let exe = compile(
        "gcc",
        "-std=c99",
        "examples/c/statistical.c",
        true,
        "statistical_c_asan",
    );
    for model in ["hs-es", "fhs-es", "mc-es", "parametric-var"] {
        let out = run(Command::new(&exe).arg(chain()).arg(history()).arg(model));
        assert!(out.contains("statistical=1"), "{out}");
        assert!(out.contains("without_history status=2\n"), "{out}");
        assert!(out.contains("grid_scenario status=2\n"), "{out}");
        let mut positions = Vec::new();
        let mut account = None;
        let mut checked = 0;
        for line in out.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.first().copied() {
                Some("position") => {
                    positions.push((Instrument::parse(w[1]).unwrap(), w[2].parse().unwrap()))
                }
                Some("account") | Some("batch") => {
                    let m = cli_statistical(model, &positions, None);
                    check_line(line, &m);
                    account = Some(m);
                    checked += 1;
                }
                Some("item") => {
                    let m = account.as_ref().unwrap();
                    assert_eq!(m.component(w[1]).unwrap(), w[2].parse::<f64>().unwrap());
                    checked += 1;
                }
                Some("pnl") => {
                    let m = account.as_ref().unwrap();
                    let f = fields(line);
                    assert_eq!(f[1].1.parse::<f64>().unwrap(), -m.worst.loss, "{line}");
                    checked += 1;
                }
                Some("order") => {
                    let order = (Instrument::parse(w[2]).unwrap(), w[3].parse().unwrap());
                    check_line(line, &cli_statistical(model, &positions, Some(order)));
                    checked += 1;
                }
                _ => {}
            }
        }
        assert_eq!(positions.len(), 6, "{out}");
        assert!(
            checked >= 6,
            "{model}: only {checked} lines checked:\n{out}"
        );
    }
}

fn set_len(arrays: &RiskArrays<'_>) -> usize {
    arrays.scenarios().len()
}

#[test]
fn c_and_cpp_clients_under_sanitizers_match_the_rust_api() {
    if !have("gcc") || !have("g++") {
        panic!("gcc and g++ are required (apt-get install -y gcc g++)");
    }
    let c = compile(
        "gcc",
        "-std=c99",
        "examples/c/pretrade.c",
        true,
        "pretrade_c_asan",
    );
    let cpp = compile(
        "g++",
        "-std=c++17",
        "examples/cpp/pretrade.cpp",
        true,
        "pretrade_cpp_asan",
    );
    let c_out = run(Command::new(&c).arg(chain()).arg(ORDERS));
    let cpp_out = run(Command::new(&cpp).arg(chain()).arg(ORDERS));
    assert_eq!(c_out, cpp_out, "C and C++ clients disagree");
    let checked = replay(&c_out);
    // 1 account + 3 line items + 40 orders + final.
    assert!(checked >= 45, "only {checked} lines checked");
    assert!(c_out.contains("fill "), "no order was filled");
}

#[test]
fn misuse_from_c_returns_status_codes() {
    let misuse = compile(
        "gcc",
        "-std=c99",
        "examples/c/misuse.c",
        true,
        "misuse_asan",
    );
    let out = run(&mut Command::new(&misuse));
    assert!(out.contains("failures=0"), "{out}");
}

#[test]
fn valgrind_reports_no_errors_and_no_leaks() {
    if !have("valgrind") {
        // .ci/ffi.sh installs valgrind and sets MARGIN_FFI_REQUIRE_VALGRIND, so CI never skips.
        assert!(
            std::env::var_os("MARGIN_FFI_REQUIRE_VALGRIND").is_none(),
            "valgrind is required but not installed"
        );
        eprintln!("valgrind not installed: skipped here; .ci/ffi.sh installs and runs it");
        return;
    }
    let args = vec![chain().display().to_string(), "5".to_string()];
    for (compiler, std, source, args) in [
        ("gcc", "-std=c99", "examples/c/misuse.c", vec![]),
        ("gcc", "-std=c99", "examples/c/pretrade.c", args.clone()),
        (
            "gcc",
            "-std=c99",
            "examples/c/statistical.c",
            vec![
                chain().display().to_string(),
                history().display().to_string(),
            ],
        ),
        ("g++", "-std=c++17", "examples/cpp/pretrade.cpp", args),
    ] {
        let exe = compile(compiler, std, source, false, "valgrind_client");
        run(Command::new("valgrind")
            .args([
                "--quiet",
                "--error-exitcode=1",
                "--leak-check=full",
                "--show-leak-kinds=all",
                "--errors-for-leak-kinds=all",
            ])
            // Process-lifetime allocations of the statistical engine's thread pool; see the file.
            .arg(format!(
                "--suppressions={}",
                root().join("margin-ffi/tests/valgrind.supp").display()
            ))
            .arg(&exe)
            .args(&args));
    }
}
