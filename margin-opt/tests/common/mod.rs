//! Reference values and data shared by the integration tests, computed or read independently
//! of the library (plain string splitting, plain loops).
//!
//! Each test binary uses a subset, hence the module-wide `dead_code` allowance.
#![allow(dead_code)]

/// RiskMetrics EWMA σ "now" of daily log returns, written out plainly (seed = mean of the
/// first 30 squares, then σ² ← λσ² + (1 − λ)r²), independent of `margin_core::stats::ewma`.
pub fn ewma_sigma(closes: &[f64], lambda: f64) -> f64 {
    let r: Vec<f64> = closes.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
    let mut v = r[..30].iter().map(|x| x * x).sum::<f64>() / 30.0;
    for x in &r {
        v = lambda * v + (1.0 - lambda) * x * x;
    }
    v.sqrt()
}

/// (BTC, ETH) closes of the bundled aligned file, oldest first.
pub fn aligned_closes() -> Vec<[f64; 2]> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/btc-eth-daily/btc_eth_daily_close_aligned.csv"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [f[1].parse().unwrap(), f[2].parse().unwrap()]
        })
        .collect()
}
