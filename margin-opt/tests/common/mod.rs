//! Reference values shared by the integration tests, computed independently of the library.

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
