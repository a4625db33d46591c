//! The versioned preset files under `presets/` agree exactly with the compiled-in presets,
//! and every result names the preset and version that produced it.

mod synthetic;

use margin_core::account::{self, Account};
use margin_core::model::{Family, Model, PRESETS, SCAN_PARAMETERS};
use margin_core::risk::Position;
use margin_core::scenario::{DERIBIT_EXTENDED_MOVES, ScenarioKind};
use margin_core::spec::Source;
use serde_json::Value;
use synthetic::*;

fn load(name: &str) -> Value {
    let path = format!("{}/../presets/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn number(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

#[test]
fn every_preset_file_matches_the_compiled_preset() {
    for name in PRESETS {
        let file = load(name);
        let model = Model::preset(name).unwrap();
        assert_eq!(file["name"], name);
        assert_eq!(file["version"], model.version, "{name}: version");
        assert!(
            file["source"]
                .as_array()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|x| x.is_string())),
            "{name}: source must list where the numbers come from"
        );
        assert!(file["notes"].as_str().is_some_and(|n| !n.is_empty()));

        let params = file["params"].as_object().expect("params object");
        // Every compiled-in parameter is in the file, with the same value to the bit …
        for p in model.parameter_names() {
            let want = model.get(p).unwrap();
            let got = number(
                params
                    .get(*p)
                    .unwrap_or_else(|| panic!("{name}: {p} missing")),
                p,
            );
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{name}: {p} = {got} vs {want}"
            );
        }
        // … so is every underlying's own scan range, as `<UNDERLYING>.<name>` …
        for r in &model.scan_ranges {
            for (p, want) in SCAN_PARAMETERS.iter().zip(r.values()) {
                let key = format!("{}.{p}", r.underlying);
                let got = number(params.get(&key).unwrap_or_else(|| panic!("{key}")), &key);
                assert_eq!(got.to_bits(), want.to_bits(), "{name}: {key}");
            }
        }
        // … and the file names nothing the model does not know.
        for key in params.keys() {
            let scan = key.split_once('.').is_some_and(|(u, p)| {
                SCAN_PARAMETERS.contains(&p)
                    && model.scan_ranges.iter().any(|r| r.underlying.as_str() == u)
            });
            assert!(
                scan || model.parameter_names().contains(&key.as_str()),
                "{name}: unknown parameter {key}"
            );
        }

        match &model.family {
            Family::Deribit(_) => {
                let moves: Vec<f64> = file["extended_moves"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| number(m, "extended move"))
                    .collect();
                assert_eq!(moves, DERIBIT_EXTENDED_MOVES);
                // And the generated extended cells use exactly those moves.
                let sc = model.scenarios().unwrap();
                let ext: Vec<f64> = sc
                    .iter()
                    .filter(|s| s.kind == ScenarioKind::Extended)
                    .map(|s| s.price_move)
                    .collect();
                assert_eq!(ext, moves);
            }
            Family::Grid(g) => {
                let moves: Vec<(f64, f64)> = file["price_moves"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| (number(&m["move"], "move"), number(&m["weight"], "weight")))
                    .collect();
                assert_eq!(moves.as_slice(), g.price_moves.as_slice(), "{name}: moves");
            }
            Family::Span(_) => {}
            Family::Statistical(m) => {
                assert_eq!(file["method"], m.method.name(), "{name}: method");
                let measure = if m.expected_shortfall { "es" } else { "var" };
                assert_eq!(file["measure"], measure, "{name}: measure");
            }
        }
    }
}

#[test]
fn results_name_the_preset_and_version() {
    for name in PRESETS {
        let mut model = Model::preset(name).unwrap();
        if matches!(model.spec().source, Source::Joint(_)) {
            // Margined over a price history: margin-opt's tests (tests/var.rs) check them.
            continue;
        }
        let arrays = arrays(&model, &BTC_INVERSE);
        let positions = [Position {
            instrument: 4,
            size: -1.0,
        }];
        let acct = Account::new(&arrays, btc(), 1.0, &positions).unwrap();
        let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
        let m = account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
        let file = load(name);
        assert_eq!(m.preset.name, file["name"].as_str().unwrap());
        assert_eq!(m.preset.version, file["version"].as_str().unwrap());
        assert!(!m.preset.modified);
        // Overriding any parameter marks the result as coming from a modified preset.
        let p = model.parameter_names()[0];
        model.set(p, model.get(p).unwrap()).unwrap();
        let m = account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
        assert!(m.preset.modified && m.preset.name == name);
    }
}
