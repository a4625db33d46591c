//! Anti-procyclicality (EMIR RTS 153/2013 art. 28(1)) and the per-coin range.
//!
//! For one coin with today's EWMA daily σ (`σ_now`) the range is computed in three steps:
//!
//! 1. **σ used** — [`Apc::StressedWeight`]: `σ = √(0.75·σ_now² + 0.25·σ_s²)`, a mixture in
//!    which the stressed observations carry [`STRESSED_WEIGHT`] = 25 % of the weight (art.
//!    28(1)(b)); [`Apc::TenYearFloor`]: `σ = max(σ_now, σ_L)` with `σ_L` the standard
//!    deviation of the last `lookback_days` daily log returns (10 years by default, art.
//!    28(1)(c)); otherwise `σ = σ_now`.
//! 2. **Base range** `b = z_c·σ·√h`, and with [`Apc::Buffer`] the buffered range
//!    `max(b, min(1.25·b, 1.25·b_lag))` (art. 28(1)(a)): `b_lag` is the base range of the EWMA
//!    σ `lag_days` days earlier. When the base range has not risen over the lag
//!    (`b ≤ b_lag`) the full [`BUFFER`] of 25 % is on top (`1.25·b`); while it rises the
//!    buffer is used up: the range stays at `1.25·b_lag` until the base range passes it, then
//!    it is `b` (buffer exhausted). The released share of the buffer is
//!    `(1.25·b − buffered)/(0.25·b)`.
//! 3. **Floor and cap**: the range is `min(max(buffered, floor), cap)`; a binding bound is
//!    reported.
//!
//! Each step is non-decreasing in `σ_now` with everything else fixed, so the range is too
//! (property-tested). Our choices where EMIR sets no formula (unpublished): the variance
//! mixture for (b), the lag rule for (a), the sample standard deviation (demeaned, unbiased:
//! [`margin_core::stats::ewma::sample_covariance`]) for `σ_s` and `σ_L`.

use margin_core::stats::ewma;

/// The buffer of art. 28(1)(a): 25 % of the calculated margin.
pub const BUFFER: f64 = 0.25;
/// The weight of stressed observations of art. 28(1)(b): 25 %.
pub const STRESSED_WEIGHT: f64 = 0.25;
/// Ten years of daily returns: 3,653 calendar days (10 × 365.25, rounded up; crypto trades
/// every day).
pub const TEN_YEARS_DAYS: usize = 3653;
/// Default lag of the buffer's release rule, days (our choice).
pub const DEFAULT_BUFFER_LAG_DAYS: usize = 20;
/// Default length of the stressed window, days (Eurex Prisma's 250 stress dates,
/// methodologies §5.2).
pub const DEFAULT_STRESS_WINDOW_DAYS: usize = 250;

/// The anti-procyclicality tool (module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Apc {
    /// None: the range is `z·σ_now·√h` within floor and cap.
    None,
    /// (a) 25 % buffer, released while the base range rises over `lag_days` (1 to 250).
    Buffer {
        /// Days back to the reference σ.
        lag_days: usize,
    },
    /// (b) 25 % weight on the stressed window: the `window_days` consecutive daily returns
    /// (20 to 3,653) of largest sample variance before the as-of date, earliest on ties.
    StressedWeight {
        /// Length of the stressed window.
        window_days: usize,
    },
    /// (c) floor at the σ of the last `lookback_days` daily returns (250 to 36,525).
    TenYearFloor {
        /// Look-back length.
        lookback_days: usize,
    },
}

impl Apc {
    /// The method's name in output and provenance: `none`, `buffer`, `stressed-weight`,
    /// `ten-year-floor`.
    pub fn name(&self) -> &'static str {
        match self {
            Apc::None => "none",
            Apc::Buffer { .. } => "buffer",
            Apc::StressedWeight { .. } => "stressed-weight",
            Apc::TenYearFloor { .. } => "ten-year-floor",
        }
    }

    /// What the method computes, in one sentence (for output).
    pub fn rule(&self) -> String {
        match self {
            Apc::None => "range = z*sigma_now*sqrt(h)".into(),
            Apc::Buffer { lag_days } => format!(
                "EMIR RTS 153/2013 art. 28(1)(a): range = max(b, min(1.25 b, 1.25 b_lag)), \
                 b = z*sigma_now*sqrt(h), b_lag the same {lag_days} days earlier (25 % buffer, \
                 used up while b rises)"
            ),
            Apc::StressedWeight { window_days } => format!(
                "EMIR RTS 153/2013 art. 28(1)(b): sigma = sqrt(0.75 sigma_now^2 + 0.25 \
                 sigma_s^2), sigma_s the sample sigma of the {window_days}-day window of \
                 largest variance before the as-of date"
            ),
            Apc::TenYearFloor { lookback_days } => format!(
                "EMIR RTS 153/2013 art. 28(1)(c): sigma = max(sigma_now, sigma_L), sigma_L the \
                 sample sigma of the last {lookback_days} daily returns"
            ),
        }
    }
}

/// Which bound of the range binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Neither.
    None,
    /// The range was raised to the floor.
    Floor,
    /// The range was lowered to the cap.
    Cap,
}

impl Bound {
    /// `null`-able name: `floor`, `cap`, or `None`.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Bound::None => None,
            Bound::Floor => Some("floor"),
            Bound::Cap => Some("cap"),
        }
    }
}

/// The σ estimates of one coin a range is made from (daily, log returns).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sigmas {
    /// Today's EWMA σ.
    pub now: f64,
    /// The EWMA σ `lag_days` earlier ([`Apc::Buffer`] only).
    pub lagged: Option<f64>,
    /// The stressed window's σ ([`Apc::StressedWeight`] only).
    pub stressed: Option<f64>,
    /// The look-back σ ([`Apc::TenYearFloor`] only).
    pub long: Option<f64>,
}

/// The range of one coin and how it was reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoinRange {
    /// σ after step 1.
    pub sigma_used: f64,
    /// `z·σ_used·√h`.
    pub base: f64,
    /// After the buffer (equal to `base` without one).
    pub buffered: f64,
    /// Share of the buffer released, in [0, 1] ([`Apc::Buffer`] only).
    pub buffer_released: Option<f64>,
    /// The final range, in `[floor, cap]`.
    pub range: f64,
    /// The bound that binds.
    pub bound: Bound,
}

/// The range of one coin (module docs): `z` the normal quantile, `sqrt_h = √h`. The σ a
/// method needs must be in `s` (an absent one counts as `now`).
pub fn coin_range(apc: &Apc, s: &Sigmas, z: f64, sqrt_h: f64, floor: f64, cap: f64) -> CoinRange {
    let w = STRESSED_WEIGHT;
    let sigma_used = match apc {
        Apc::StressedWeight { .. } => {
            let st = s.stressed.unwrap_or(s.now);
            ((1.0 - w) * s.now * s.now + w * st * st).sqrt()
        }
        Apc::TenYearFloor { .. } => s.now.max(s.long.unwrap_or(s.now)),
        Apc::None | Apc::Buffer { .. } => s.now,
    };
    let base = z * sigma_used * sqrt_h;
    let (buffered, buffer_released) = match apc {
        Apc::Buffer { .. } => {
            let full = (1.0 + BUFFER) * base;
            let lag = (1.0 + BUFFER) * (z * s.lagged.unwrap_or(s.now) * sqrt_h);
            let b = base.max(full.min(lag));
            let released = if base > 0.0 {
                ((full - b) / (BUFFER * base)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (b, Some(released))
        }
        _ => (base, None),
    };
    let (range, bound) = if buffered < floor {
        (floor, Bound::Floor)
    } else if buffered > cap {
        (cap, Bound::Cap)
    } else {
        (buffered, Bound::None)
    };
    CoinRange {
        sigma_used,
        base,
        buffered,
        buffer_released,
        range,
        bound,
    }
}

/// The stressed window of coin `coin` in the `N × u` return table: the start index and the
/// sample σ of the `window` consecutive returns of largest sample variance (earliest on
/// ties). `None` when there are fewer than `window` returns or a variance is not finite.
pub fn stressed_window(
    returns: &[f64],
    u: usize,
    coin: usize,
    window: usize,
) -> Option<(usize, f64)> {
    let n = returns.len() / u.max(1);
    if window < 2 || n < window {
        return None;
    }
    let mut col = vec![0.0; n];
    for (t, c) in col.iter_mut().enumerate() {
        *c = returns[t * u + coin];
    }
    let mut best: Option<(usize, f64)> = None;
    let mut var = [0.0];
    for start in 0..=n - window {
        ewma::sample_covariance(&col[start..start + window], 1, &mut var).ok()?;
        if best.is_none_or(|(_, v)| var[0] > v) {
            best = Some((start, var[0]));
        }
    }
    best.map(|(s, v)| (s, v.sqrt()))
}

/// The sample σ of each coin over the last `days` returns of the `N × u` table (`None` when
/// there are fewer).
pub fn lookback_sigmas(returns: &[f64], u: usize, days: usize) -> Option<Vec<f64>> {
    let n = returns.len() / u.max(1);
    if days < 2 || n < days {
        return None;
    }
    let mut cov = vec![0.0; u * u];
    ewma::sample_covariance(&returns[(n - days) * u..n * u], u, &mut cov).ok()?;
    Some((0..u).map(|i| cov[i * u + i].sqrt()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const Z99: f64 = 2.326_347_874_040_841;

    fn sig(now: f64) -> Sigmas {
        Sigmas {
            now,
            lagged: Some(0.03),
            stressed: Some(0.05),
            long: Some(0.035),
        }
    }

    const METHODS: [Apc; 4] = [
        Apc::None,
        Apc::Buffer { lag_days: 20 },
        Apc::StressedWeight { window_days: 250 },
        Apc::TenYearFloor {
            lookback_days: 3653,
        },
    ];

    #[test]
    fn the_buffer_is_25_percent_when_vol_has_not_risen() {
        // σ_now 0.02 below the lagged 0.03: full buffer, 1.25 × 2.326… × 0.02 × √2.
        let r = coin_range(&METHODS[1], &sig(0.02), Z99, 2f64.sqrt(), 0.001, 0.9);
        let want = 1.25 * (2.326_347_874_040_841 * 0.02 * std::f64::consts::SQRT_2);
        assert!((r.range - want).abs() < 1e-15, "{} vs {want}", r.range);
        assert!((r.range / r.base - 1.25).abs() < 1e-15);
        assert_eq!(r.buffer_released, Some(0.0));
        // Rising a little (0.033 < 1.25 × 0.03): the range stays at 1.25 × b_lag.
        let r = coin_range(&METHODS[1], &sig(0.033), Z99, 1.0, 0.001, 0.9);
        assert!((r.range - 1.25 * Z99 * 0.03).abs() < 1e-15);
        let released = (1.25 * Z99 * 0.033 - 1.25 * Z99 * 0.03) / (0.25 * Z99 * 0.033);
        assert!((r.buffer_released.unwrap() - released).abs() < 1e-12);
        // Far above (0.05 > 0.0375): buffer exhausted, range = base.
        let r = coin_range(&METHODS[1], &sig(0.05), Z99, 1.0, 0.001, 0.9);
        assert_eq!(r.range, r.base);
        assert!((r.buffer_released.unwrap() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn stressed_weight_and_ten_year_floor_by_hand() {
        let r = coin_range(&METHODS[2], &sig(0.02), 1.0, 1.0, 0.001, 0.9);
        // √(0.75·0.0004 + 0.25·0.0025) = √0.000925.
        assert!((r.sigma_used - 0.000_925f64.sqrt()).abs() < 1e-17);
        let r = coin_range(&METHODS[3], &sig(0.02), 1.0, 1.0, 0.001, 0.9);
        assert_eq!(r.sigma_used, 0.035);
        let r = coin_range(&METHODS[3], &sig(0.04), 1.0, 1.0, 0.001, 0.9);
        assert_eq!(r.sigma_used, 0.04);
    }

    #[test]
    fn stressed_window_is_the_one_of_largest_variance() {
        // Returns ±0.01 except a block of ±0.05 at 40..60: a 20-day window finds it exactly.
        let r: Vec<f64> = (0..100)
            .map(|t| {
                let a = if (40..60).contains(&t) { 0.05 } else { 0.01 };
                if t % 2 == 0 { a } else { -a }
            })
            .collect();
        let (start, s) = stressed_window(&r, 1, 0, 20).unwrap();
        assert_eq!(start, 40);
        // Mean 0 over an even block, Σr² = 20·0.0025 over n − 1 = 19.
        assert!((s - (20.0 * 0.0025f64 / 19.0).sqrt()).abs() < 1e-15);
        assert!(stressed_window(&r, 1, 0, 101).is_none());
        let l = lookback_sigmas(&r, 1, 20).unwrap();
        assert!((l[0] - (20.0 * 0.0001f64 / 19.0).sqrt()).abs() < 1e-15);
    }

    proptest! {
        /// Between floor and cap the range is non-decreasing in σ_now, for every method; the
        /// bounds bind exactly.
        #[test]
        fn monotone_in_vol_and_bounded(
            a in 1e-4f64..0.2, b in 1e-4f64..0.2, floor in 0.01f64..0.1, width in 0.0f64..0.5,
            h in 1usize..30, m in 0usize..4,
        ) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let cap = floor + width;
            let sh = (h as f64).sqrt();
            let r1 = coin_range(&METHODS[m], &sig(lo), Z99, sh, floor, cap);
            let r2 = coin_range(&METHODS[m], &sig(hi), Z99, sh, floor, cap);
            prop_assert!(r1.range <= r2.range);
            for r in [r1, r2] {
                prop_assert!(r.range >= floor && r.range <= cap);
                match r.bound {
                    Bound::Floor => prop_assert!(r.range == floor && r.buffered < floor),
                    Bound::Cap => prop_assert!(r.range == cap && r.buffered > cap),
                    Bound::None => prop_assert!(r.range == r.buffered),
                }
            }
        }
    }
}
