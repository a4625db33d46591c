//! Deribit portfolio margin against Deribit's own worked example.
//!
//! Source: `private/pme/simulate` response example in Deribit's API documentation,
//! https://docs.deribit.com/api-reference/account-management/private-simulate (timestamp
//! 1718619740501 = 2024-06-17), transcribed in `reference/methodologies.md` §9.1.

use margin_core::account::{self, Account};
use margin_core::market::{Forward, MarketSnapshot, PricingInputs, UnderlyingMarket};
use margin_core::model::Model;
use margin_core::pricing::Valuation;
use margin_core::risk::{Position, RiskArrays, RiskStorage};
use margin_core::scenario::ScenarioKind;
use margin_core::{Asset, Instrument, Timestamp};

const PERP_STANDARD: [f64; 9] = [
    -0.05991206933333334,
    -0.04289159509090909,
    -0.027351162086956524,
    -0.013105765166666668,
    0.0,
    0.012097629384615385,
    0.023299138074074074,
    0.033700538999999995,
    0.043384601931034494,
];
const PERP_EXTENDED: [f64; 8] = [
    -0.05991206933333334,
    -0.05991206933333334,
    0.04338460193103449,
    0.04338460193103449,
    0.04338460193103449,
    0.04338460193103449,
    0.04338460193103449,
    0.04338460193103449,
];
const FUT_STANDARD: [f64; 9] = [
    0.0002261969523809524,
    0.00016193645454545456,
    0.00010326382608695652,
    0.00004948058333333334,
    0.0,
    -0.00004567438461538462,
    -0.00008796548148148148,
    -0.0001272357857142857,
    -0.00016379779310344832,
];
const AGGREGATED_STANDARD: [f64; 4] = [
    -0.05968587238095239,
    -0.04272965863636364,
    -0.02724789826086957,
    -0.013056284583333334,
];

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300) || a == b
}

#[test]
fn reproduces_deribit_api_example_to_1e12() {
    let forwards = [Forward {
        expiry: Timestamp::from_civil(2024, 6, 28, 8).unwrap(),
        price: 67371.75,
    }];
    let btc = UnderlyingMarket {
        asset: Asset::new("BTC").unwrap(),
        index_price: 65666.19,
        perpetual_price: 65910.57,
        rate: 0.0,
        forwards: &forwards,
        vols: &[],
    };
    let underlyings = [btc];
    let market = MarketSnapshot::new(Timestamp(1_718_619_740_501), &underlyings).unwrap();
    let model = Model::preset("deribit-btc").unwrap();
    let scenarios = model.scenarios().unwrap();
    let grids = model.underlying_grids().unwrap();
    let set = model.scenario_set(&scenarios, &grids).unwrap();
    let instruments = [
        Instrument::parse("BTC-PERPETUAL").unwrap(),
        Instrument::parse("BTC-28JUN24").unwrap(),
    ];
    let s = set.len();
    let mut inputs = vec![PricingInputs::ZERO; 2];
    let mut vals = vec![Valuation::ZERO; 2];
    let mut pnl = vec![0.0; 2 * s];
    let storage = RiskStorage {
        inputs: &mut inputs,
        valuations: &mut vals,
        pnl: &mut pnl,
    };
    let arrays = RiskArrays::build(market, set, &instruments, storage).unwrap();
    let positions = [
        Position {
            instrument: 0,
            size: 0.314538364,
        },
        Position {
            instrument: 1,
            size: -0.001187534,
        },
    ];

    // Initial risk vectors: each standard bucket repeated for its 3 vol states, then extended.
    for (p, standard) in [(positions[0], PERP_STANDARD), (positions[1], FUT_STANDARD)] {
        let row = arrays.row(p.instrument);
        for (b, want) in standard.iter().enumerate() {
            for v in 0..3 {
                let got = p.size * row[3 * b + v];
                assert!(
                    close(got, *want, 1e-12),
                    "bucket {b} vol {v}: {got} vs {want}"
                );
            }
        }
    }
    let perp = arrays.row(0);
    for (k, want) in PERP_EXTENDED.iter().enumerate() {
        assert!(
            close(positions[0].size * perp[27 + k], *want, 1e-12),
            "extended {k}"
        );
        assert_eq!(
            arrays.scenarios().scenarios()[27 + k].kind,
            ScenarioKind::Extended
        );
    }

    let acct = Account::new(&arrays, Asset::new("BTC").unwrap(), 1.0, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&arrays)];
    let m = account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
    // Aggregated standard vector: losses as published, gains removed by pnl_offset 0.
    for (b, want) in AGGREGATED_STANDARD.iter().enumerate() {
        assert!(close(scratch[3 * b], *want, 1e-12), "aggregated bucket {b}");
    }
    // What each cell counts: Deribit's aggregated vectors, with gains removed by pnl_offset 0
    // ("0 for the 0 bucket and every positive bucket") and every extended cell dampened to 0.
    let mut counted = vec![0.0; s];
    account::counted_pnl(&arrays, &model, &acct, &scratch, &mut counted).unwrap();
    for (i, c) in counted.iter().enumerate() {
        let want = if i < 12 {
            AGGREGATED_STANDARD[i / 3]
        } else {
            0.0
        };
        assert!(close(*c, want, 1e-12), "counted cell {i}: {c} vs {want}");
        assert!(i < 12 || c.to_bits() == 0, "cell {i} is +0, not {c}");
    }
    let worst_case = m.component("worst_case").unwrap();
    assert!(
        close(worst_case, 0.05968587238095239, 1e-12),
        "{worst_case}"
    );
    assert_eq!(m.worst.index / 3, 0, "worst bucket is the first (−16 %)");
    assert_eq!(m.worst.kind, ScenarioKind::Standard);
    assert!(close(
        m.component("roll_shock").unwrap(),
        0.00315725898,
        1e-12
    ));
    assert!(
        close(
            m.component("risk_matrix_margin").unwrap(),
            0.06284313098,
            1e-12
        ),
        "{:?}",
        m.components
    );
    assert!(close(m.initial, 0.06284313098, 1e-12));
    assert!(
        close(m.maintenance, 0.050274504784, 1e-12),
        "{}",
        m.maintenance
    );

    // Which intermediate Deribit rounds: the worst case, to 9 decimals, before the roll shock.
    // Unrounded, the sum is 0.06284313136…, off by 3.8e-10 (6e-9 relative).
    let mut unrounded = model.clone();
    unrounded.set("worst_case_decimals", -1.0).unwrap();
    let u = account::margin(&arrays, &unrounded, &acct, &mut scratch).unwrap();
    // The unrounded sum of the published worst_case and roll_shock…
    assert!(
        close(u.initial, 0.05968587238095239 + 0.00315725898, 1e-12),
        "{}",
        u.initial
    );
    // …misses the published risk_matrix_margin.
    assert!(!close(u.initial, 0.06284313098, 1e-9), "{}", u.initial);
}
