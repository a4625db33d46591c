//! `margin_opt::calibrate` on the bundled BTC daily history (2014-09-17 to 2024-05-26, 3,539
//! returns), one thread: the deribit-btc price range with each anti-procyclicality method.
//! No speed target is set for calibration (a daily batch job); the figures are reported.
//!
//! `cargo bench -p margin-benches --bench calibrate -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, criterion_group, criterion_main};
use margin_core::io::history::PriceHistory;
use margin_core::model::Model;
use margin_core::time::Timestamp;
use margin_opt::calibrate::{Apc, CalibrationParams, calibrate};
use std::hint::black_box;

const BTC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/btc-eth-daily/BTC-USD.csv"
);

fn bench(c: &mut Criterion) {
    let history = PriceHistory::load(&[BTC.to_string()]).expect("bundled history");
    let asof = Timestamp::parse_iso8601("2024-05-26").expect("date");
    let model = Model::preset("deribit-btc").expect("preset");
    for apc in [
        Apc::None,
        Apc::Buffer { lag_days: 20 },
        Apc::StressedWeight { window_days: 250 },
        Apc::TenYearFloor {
            lookback_days: 3539,
        },
    ] {
        let params = CalibrationParams {
            apc,
            ..CalibrationParams::default()
        };
        c.bench_function(&format!("calibrate deribit-btc {}", apc.name()), |b| {
            b.iter(|| calibrate(black_box(&history), asof, &model, &params).expect("calibrate"))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
