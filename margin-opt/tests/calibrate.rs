//! `margin_opt::calibrate` against values computed another way: closed-form EWMA on tiny
//! synthetic histories, the published normal quantile, an in-test EWMA loop on the bundled
//! BTC history, and the model file round trip.

mod common;
use margin_core::Asset;
use margin_core::io::{
    PriceHistory, Provenance, model_file_json, parse_history_csv, parse_model_file,
};
use margin_core::model::{Family, Model};
use margin_core::time::Timestamp;
use margin_opt::calibrate::{
    Apc, Bound, CalibrateError, CalibrationParams, calibrate, file::history_digests,
};
use std::path::Path;

/// z_0.99 = Φ⁻¹(0.99), as published (e.g. NIST/SEMATECH tables to 2.326, R's
/// `qnorm(0.99, 0, 1)` = 2.326347874040841).
const Z99: f64 = 2.326_347_874_040_841;

/// A wide history `date,BTC[,ETH]` from 2020-01-01 whose daily log returns are `returns`
/// (one slice per coin), starting at 100.
fn history(returns: &[&[f64]]) -> PriceHistory {
    let n = returns[0].len();
    let coins = ["BTC", "ETH"];
    let mut text = format!("date,{}\n", coins[..returns.len()].join(","));
    let mut p = vec![100.0f64; returns.len()];
    let start = Timestamp::parse_iso8601("2020-01-01").unwrap();
    for t in 0..=n {
        let (y, m, d) = Timestamp(start.0 + t as i64 * 86_400_000).civil_date();
        text += &format!("{y:04}-{m:02}-{d:02}");
        for (j, r) in returns.iter().enumerate() {
            if t > 0 {
                p[j] *= r[t - 1].exp();
            }
            text += &format!(",{:e}", p[j]);
        }
        text += "\n";
    }
    parse_history_csv(&text, Path::new("synthetic.csv"), None).unwrap()
}

fn date(history: &PriceHistory, i: usize) -> Timestamp {
    history.dates()[i]
}

fn params(apc: Apc) -> CalibrationParams {
    CalibrationParams {
        floor: 0.001,
        cap: 0.9,
        apc,
        ..CalibrationParams::default()
    }
}

#[test]
fn sigma_is_the_closed_form_ewma_and_the_range_z_sigma_sqrt_h() {
    // 31 returns of a (seed a², unchanged by 31 updates), then b and c:
    // σ²_now = λ²a² + λ(1−λ)b² + (1−λ)c².
    let (a, b, c, l) = (0.01, 0.04, -0.03, 0.94);
    let mut r = vec![0.01; 31];
    r.extend([b, c]);
    let h = history(&[&r]);
    let want_var = l * l * a * a + l * (1.0 - l) * b * b + (1.0 - l) * c * c;
    let cal = calibrate(
        &h,
        date(&h, 33),
        &Model::preset("span16").unwrap(),
        &params(Apc::None),
    )
    .unwrap();
    let s = cal.coins[0].sigmas.now;
    assert!((s * s - want_var).abs() < 1e-12 * want_var, "{s}");
    // The double nearest 0.99 is 8.9e-18 below it, which moves z by −3.3e-16; AS 241 is
    // accurate to a few ulps beyond that (measured −1.3e-15 from the published value).
    assert!((cal.z - Z99).abs() < 2e-15, "{}", cal.z - Z99);
    // Default horizon 2 days: R = z·σ·√2.
    let want = Z99 * want_var.sqrt() * 2f64.sqrt();
    assert!(
        (cal.range - want).abs() < 1e-12 * want,
        "{} vs {want}",
        cal.range
    );
    assert_eq!(cal.model.get("price_scan_range"), Some(cal.range));
    // Other horizons and confidences: z_0.975 = 1.959963984540054 (published 1.96).
    let p = CalibrationParams {
        horizon_days: 5,
        confidence: 0.975,
        ..params(Apc::None)
    };
    let cal = calibrate(&h, date(&h, 33), &Model::preset("span16").unwrap(), &p).unwrap();
    let want = 1.959_963_984_540_054 * want_var.sqrt() * 5f64.sqrt();
    assert!((cal.range - want).abs() < 1e-12 * want);
}

#[test]
fn rows_after_the_asof_date_change_nothing() {
    let r: Vec<f64> = (0..200)
        .map(|t| 0.02 * ((t * 7 % 11) as f64 - 5.0) / 5.0)
        .collect();
    let mut wild = r.clone();
    wild.extend([0.5, -0.7, 0.9, 0.3]);
    let (short, long) = (history(&[&r]), history(&[&wild]));
    let asof = date(&short, 200);
    for apc in [
        Apc::None,
        Apc::Buffer { lag_days: 20 },
        Apc::StressedWeight { window_days: 30 },
        Apc::TenYearFloor { lookback_days: 200 },
    ] {
        for preset in ["deribit-btc", "span16", "grid"] {
            let m = Model::preset(preset).unwrap();
            let p = params(apc);
            let one = calibrate(&short, asof, &m, &p);
            let two = calibrate(&long, asof, &m, &p);
            assert_eq!(one, two, "{preset} {apc:?}");
        }
    }
    // An as-of date not in the history is an error naming its range.
    let e = calibrate(
        &short,
        Timestamp::parse_iso8601("2031-01-01").unwrap(),
        &Model::preset("span16").unwrap(),
        &params(Apc::None),
    )
    .unwrap_err();
    assert!(e.to_string().contains("2020-01-01 to 2020-07-19"), "{e}");
}

#[test]
fn ranges_rise_with_volatility_between_floor_and_cap() {
    // Returns scaled by k: every σ scales by k, so the range is non-decreasing in k, equal to
    // the floor at small k and the cap at large k, for every method.
    let base: Vec<f64> = (0..400)
        .map(|t| 0.01 * (((t * 13) % 17) as f64 - 8.0) / 8.0 * (1.0 + (t / 100) as f64))
        .collect();
    for apc in [
        Apc::None,
        Apc::Buffer { lag_days: 20 },
        Apc::StressedWeight { window_days: 60 },
        Apc::TenYearFloor { lookback_days: 300 },
    ] {
        let p = CalibrationParams {
            floor: 0.03,
            cap: 0.3,
            ..params(apc)
        };
        let mut previous = 0.0;
        let mut bounds = Vec::new();
        for i in 0..60 {
            let k = 0.05 * 1.12f64.powi(i);
            let r: Vec<f64> = base.iter().map(|x| x * k).collect();
            let h = history(&[&r]);
            let cal = calibrate(
                &h,
                date(&h, 400),
                &Model::preset("deribit-btc").unwrap(),
                &p,
            )
            .unwrap();
            assert!(cal.range >= previous, "{apc:?} k {k}");
            assert!(cal.range >= 0.03 && cal.range <= 0.3);
            match cal.coins[0].range.bound {
                Bound::Floor => assert_eq!(cal.range, 0.03),
                Bound::Cap => assert_eq!(cal.range, 0.3),
                Bound::None => {}
            }
            bounds.push(cal.coins[0].range.bound);
            previous = cal.range;
        }
        assert_eq!(bounds[0], Bound::Floor, "{apc:?}");
        assert_eq!(*bounds.last().unwrap(), Bound::Cap, "{apc:?}");
        assert!(bounds.contains(&Bound::None), "{apc:?}");
    }
}

#[test]
fn stressed_window_and_lookback_by_hand() {
    // ±0.01 with a ±0.06 block on returns 100..130: the 30-day stressed window is that block.
    let r: Vec<f64> = (0..300)
        .map(|t| {
            let a = if (100..130).contains(&t) { 0.06 } else { 0.01 };
            if t % 2 == 0 { a } else { -a }
        })
        .collect();
    let h = history(&[&r]);
    let p = params(Apc::StressedWeight { window_days: 30 });
    let cal = calibrate(&h, date(&h, 300), &Model::preset("span16").unwrap(), &p).unwrap();
    let c = &cal.coins[0];
    // Returns 100..129 run from close 100 to close 130: dates 101..130.
    assert_eq!(c.stress_window, Some((date(&h, 101), date(&h, 130))));
    let s = (30.0 * 0.0036f64 / 29.0).sqrt();
    assert!((c.sigmas.stressed.unwrap() - s).abs() < 1e-12 * s);
    let now = c.sigmas.now;
    let used = (0.75 * now * now + 0.25 * s * s).sqrt();
    assert!((c.range.sigma_used - used).abs() < 1e-12 * used);
    // A floor over the last 250 returns (150..300 all ±0.01 and 50..100 too, mean 0; the
    // block 100..130 of ±0.06): σ_L² = (220·1e-4 + 30·36e-4)/249.
    let p = params(Apc::TenYearFloor { lookback_days: 250 });
    let cal = calibrate(&h, date(&h, 300), &Model::preset("span16").unwrap(), &p).unwrap();
    let l = ((220.0 * 1e-4 + 30.0 * 36e-4) / 249.0f64).sqrt();
    assert!((cal.coins[0].sigmas.long.unwrap() - l).abs() < 1e-12 * l);
    assert_eq!(
        cal.coins[0].range.sigma_used,
        now.max(cal.coins[0].sigmas.long.unwrap())
    );
    // Too short a history for the default ten years: an error saying how much is needed.
    let p = params(Apc::TenYearFloor {
        lookback_days: 3653,
    });
    let e = calibrate(&h, date(&h, 300), &Model::preset("span16").unwrap(), &p).unwrap_err();
    assert!(
        matches!(
            e,
            CalibrateError::TooShort {
                needed: 3653,
                have: 300,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn coins_presets_and_bad_parameters() {
    let a: Vec<f64> = (0..100)
        .map(|t| if t % 2 == 0 { 0.01 } else { -0.01 })
        .collect();
    let b: Vec<f64> = a.iter().map(|x| 3.0 * x).collect();
    let h = history(&[&a, &b]);
    let asof = date(&h, 100);
    // SPAN takes the widest coin (ETH here), deribit-btc its own coin.
    let span = calibrate(
        &h,
        asof,
        &Model::preset("span16").unwrap(),
        &params(Apc::None),
    )
    .unwrap();
    assert_eq!(span.binding_coin.as_str(), "ETH");
    let btc = calibrate(
        &h,
        asof,
        &Model::preset("deribit-btc").unwrap(),
        &params(Apc::None),
    )
    .unwrap();
    assert_eq!(btc.binding_coin.as_str(), "BTC");
    assert!((span.range - 3.0 * btc.range).abs() < 1e-12);
    // The EWMA correlation of b = 3a is 1.
    assert!((span.correlation[1] - 1.0).abs() < 1e-12);
    let only_btc = CalibrationParams {
        coin: Asset::new("BTC"),
        ..params(Apc::None)
    };
    let one = calibrate(&h, asof, &Model::preset("grid").unwrap(), &only_btc).unwrap();
    assert_eq!(one.range, btc.range);
    let eth = CalibrationParams {
        coin: Asset::new("ETH"),
        ..params(Apc::None)
    };
    let e = calibrate(&h, asof, &Model::preset("deribit-btc").unwrap(), &eth).unwrap_err();
    assert!(matches!(e, CalibrateError::CoinConflict { .. }), "{e}");
    let h1 = history(&[&a]);
    let e = calibrate(
        &h1,
        date(&h1, 100),
        &Model::preset("deribit-eth").unwrap(),
        &params(Apc::None),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no ETH prices"), "{e}");
    let e = calibrate(
        &h1,
        date(&h1, 100),
        &Model::preset("hs-es").unwrap(),
        &params(Apc::None),
    )
    .unwrap_err();
    assert!(matches!(e, CalibrateError::Statistical(_)));
    let e = calibrate(
        &h1,
        date(&h1, 20),
        &Model::preset("span16").unwrap(),
        &params(Apc::None),
    )
    .unwrap_err();
    assert!(matches!(e, CalibrateError::TooShort { .. }), "{e}");
    let bad = [
        CalibrationParams {
            horizon_days: 0,
            ..params(Apc::None)
        },
        CalibrationParams {
            horizon_days: 251,
            ..params(Apc::None)
        },
        CalibrationParams {
            confidence: 1.0,
            ..params(Apc::None)
        },
        CalibrationParams {
            confidence: f64::NAN,
            ..params(Apc::None)
        },
        CalibrationParams {
            ewma_lambda: 1.0,
            ..params(Apc::None)
        },
        CalibrationParams {
            floor: 0.0,
            ..params(Apc::None)
        },
        CalibrationParams {
            floor: 0.5,
            cap: 0.4,
            ..params(Apc::None)
        },
        CalibrationParams {
            cap: 1.0,
            ..params(Apc::None)
        },
        params(Apc::Buffer { lag_days: 0 }),
        params(Apc::StressedWeight { window_days: 5 }),
        params(Apc::TenYearFloor { lookback_days: 10 }),
    ];
    for p in bad {
        let e = calibrate(&h1, date(&h1, 100), &Model::preset("span16").unwrap(), &p).unwrap_err();
        assert!(matches!(e, CalibrateError::Parameter { .. }), "{p:?}: {e}");
    }
}

#[test]
fn bundled_btc_deribit_price_range_and_model_file_round_trip() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = root.join("data/btc-eth-daily/BTC-USD.csv");
    let spec = file.display().to_string();
    let h = PriceHistory::load(std::slice::from_ref(&spec)).unwrap();
    let asof = Timestamp::parse_iso8601("2022-06-13").unwrap();
    let p = CalibrationParams::default();
    let cal = calibrate(&h, asof, &Model::preset("deribit-btc").unwrap(), &p).unwrap();
    // The Close column read plainly, up to the as-of date.
    let text = std::fs::read_to_string(&file).unwrap();
    let closes: Vec<f64> = text
        .lines()
        .skip(1)
        .take_while(|l| l[..10] <= *"2022-06-13")
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    let sigma = common::ewma_sigma(&closes, 0.94);
    assert!((cal.coins[0].sigmas.now - sigma).abs() < 1e-12 * sigma);
    let want = (Z99 * sigma * 2f64.sqrt()).clamp(0.05, 0.5);
    assert!((cal.range - want).abs() < 1e-12, "{} vs {want}", cal.range);
    assert_eq!(cal.model.get("price_range"), Some(cal.range));
    let changed: Vec<_> = cal
        .changes
        .iter()
        .filter(|c| c.changed())
        .map(|c| c.name)
        .collect();
    assert_eq!(changed, ["price_range"]);

    // Round trip: the file parses back to the same model, bit for bit, with its provenance.
    let provenance = Provenance {
        asof: "2022-06-13".into(),
        history: history_digests(&[spec]).unwrap(),
        method: "none".into(),
        generated_by: Some("test".into()),
        calibration: Some(serde_json::json!({"z": cal.z})),
    };
    let json = model_file_json(&cal.model, Some(&provenance)).to_string();
    let (model, back) = parse_model_file(&json, Path::new("m.json")).unwrap();
    assert_eq!(model, cal.model);
    assert_eq!(back, Some(provenance));
    // The grid's moves too.
    let grid = calibrate(&h, asof, &Model::preset("grid").unwrap(), &p).unwrap();
    let json = model_file_json(&grid.model, None).to_string();
    let (model, _) = parse_model_file(&json, Path::new("m.json")).unwrap();
    assert_eq!(model, grid.model);
    let Family::Grid(g) = &model.family else {
        panic!("grid")
    };
    assert!((g.price_moves[0].0 + grid.range).abs() < 1e-15);
}
